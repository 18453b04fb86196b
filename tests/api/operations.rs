//! The `credo` binary as an operator runs it: resetting a password, a configured admin
//! password on a database that has users, bad configuration, the SQLite file's mode.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use reqwest::StatusCode;

use crate::common::*;

fn credo(app: &TestApp) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_credo"));
    command
        .env("CREDO_DATABASE_URL", app.database_url().url())
        .env("CREDO_JWT_SECRET", JWT_SECRET)
        .env("CREDO_LOG", "info")
        .env_remove("CREDO_ADMIN_PASSWORD");
    command
}

#[actix_web::test]
async fn an_operator_resets_a_password_and_the_old_sessions_end() {
    let app = TestApp::spawn().await;
    let before = app.tokens("admin", ADMIN_PASSWORD).await;
    let output = actix_web::web::block({
        let mut command = credo(&app);
        move || {
            command
                .args(["admin", "reset-password", "Admin"])
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert!(output.status.success(), "{output:?}");
    let stdout = String::from_utf8(output.stdout).unwrap();
    let password = stdout
        .lines()
        .find_map(|l| l.strip_prefix("new password of `admin`: "))
        .unwrap_or_else(|| panic!("no password printed: {stdout}"))
        .to_owned();
    assert_eq!(
        read(app.login("admin", ADMIN_PASSWORD).await).await.0,
        StatusCode::UNAUTHORIZED
    );
    app.tokens("admin", &password).await;
    assert_eq!(
        app.refresh(&before["refresh_token"]).await.0,
        StatusCode::UNAUTHORIZED
    );
    let output = credo(&app)
        .args(["admin", "reset-password", "nobody"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("there is no user \"nobody\""));
}

#[actix_web::test]
async fn a_configured_admin_password_on_a_database_with_users_is_logged_as_ignored() {
    let app = TestApp::spawn().await;
    let mut server = credo(&app)
        .arg("serve")
        .env("CREDO_BIND", "127.0.0.1:0")
        .env("CREDO_NO_JOBS", "1")
        .env("CREDO_ADMIN_PASSWORD", "another strong passphrase")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let mut ignored = false;
    for line in lines {
        let line = line.unwrap();
        ignored |= line.contains("CREDO_ADMIN_PASSWORD is ignored");
        if line.contains("credo listening") {
            break;
        }
    }
    server.kill().unwrap();
    server.wait().unwrap();
    assert!(ignored, "no line says the password is ignored");
    app.tokens("admin", ADMIN_PASSWORD).await;
}

#[test]
fn zero_lifetimes_and_pools_are_refused_by_name() {
    for (flag, value) in [
        ("--access-token-ttl", "0"),
        ("--refresh-token-ttl", "0"),
        ("--session-lifetime", "0"),
        ("--pool-size", "0"),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_credo"))
            .args(["serve", flag, value])
            .env(
                "CREDO_DATABASE_URL",
                "sqlite:///nonexistent/never-opened.db",
            )
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{flag}: {stderr}");
        assert!(stderr.contains(flag), "{flag}: {stderr}");
    }
}

#[cfg(unix)]
#[test]
fn a_new_sqlite_file_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let url = credo_store::DatabaseUrl::parse(&format!("sqlite://{}/new.db", dir.path().display()))
        .unwrap();
    let db = credo_store::Db::connect(&url, &credo_store::PoolOptions::default()).unwrap();
    db.migrate().unwrap();
    for file in ["new.db", "new.db-wal"] {
        let mode = std::fs::metadata(dir.path().join(file))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "{file}: {mode:o}");
    }
}

#[actix_web::test]
async fn a_refused_write_is_logged_at_info_without_the_record() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app
        .customer(
            &admin,
            serde_json::json!({"kind": "person", "legal_name": "Personal Name Zhou"}),
        )
        .await;
    let mut server = credo(&app)
        .arg("serve")
        .env("CREDO_BIND", "127.0.0.1:0")
        .env("CREDO_NO_JOBS", "true")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let address = loop {
        let line = lines.next().expect("the server logs").unwrap();
        if line.contains("credo listening") {
            let log: serde_json::Value = serde_json::from_str(&line).unwrap();
            break log["fields"]["address"].as_str().unwrap().to_owned();
        }
    };
    let response = reqwest::Client::new()
        .patch(format!(
            "http://{address}/api/v1/customers/{}",
            customer["id"].as_str().unwrap()
        ))
        .bearer_auth(&admin)
        .header("If-Match", "\"99\"")
        .header("X-Request-Id", "stale-patch-1")
        .header("content-type", "application/merge-patch+json")
        .body(r#"{"region": "Shenzhen"}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PRECONDITION_FAILED);
    let logged = loop {
        let line = lines.next().expect("the request is logged").unwrap();
        if line.contains("stale-patch-1") {
            break line;
        }
    };
    server.kill().unwrap();
    server.wait().unwrap();
    let log: serde_json::Value = serde_json::from_str(&logged).unwrap();
    assert_eq!(log["level"], "INFO", "{logged}");
    assert_eq!(log["span"]["status"], 412, "{logged}");
    assert!(
        log["span"]["problem"]
            .as_str()
            .unwrap()
            .starts_with("version_mismatch"),
        "{logged}"
    );
    assert!(!logged.contains("Personal Name Zhou"), "{logged}");
}

#[actix_web::test]
async fn demo_data_goes_only_into_a_database_without_customers_unless_forced() {
    let app = TestApp::spawn().await;
    let demo = |extra: &[&str]| {
        let mut command = credo(&app);
        command
            .args(["demo", "--customers", "3", "--orders", "6"])
            .args(extra);
        command.output().unwrap()
    };
    let first = demo(&[]);
    assert!(first.status.success(), "{first:?}");
    let again = demo(&[]);
    assert!(!again.status.success());
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("has 3 customers already"),
        "{again:?}"
    );
    let forced = demo(&["--force"]);
    assert!(forced.status.success(), "{forced:?}");
    let admin = app.admin_token().await;
    let (_, page) = app.get("/api/v1/customers?limit=50", &admin).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 6, "{page}");
}
