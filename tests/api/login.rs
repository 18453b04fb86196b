//! The login path under attack: the throttle is atomic and keyed by username and client
//! address, guesses are not stored as typed, passwords follow NIST SP 800-63B, and a
//! password change or the session lifetime ends a login.

use std::net::IpAddr;

use credo_store::schema::login_failures;
use credo_store::{Db, PoolOptions, StoreError};
use diesel::prelude::*;
use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::*;

/// Sends a login from `address` (a loopback address other than 127.0.0.1 is another client).
async fn send_login_from(
    app: &TestApp,
    address: &str,
    username: &str,
    password: &str,
) -> reqwest::Response {
    let client = reqwest::Client::builder()
        .local_address(address.parse::<IpAddr>().unwrap())
        .build()
        .unwrap();
    client
        .post(format!("{}/api/v1/auth/login", app.base))
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .unwrap()
}

/// Logs in from `address` and reads the answer.
async fn login_from(
    app: &TestApp,
    address: &str,
    username: &str,
    password: &str,
) -> (StatusCode, Value) {
    read(send_login_from(app, address, username, password).await).await
}

#[actix_web::test]
async fn a_burst_of_guesses_gets_five_password_checks() {
    let app = TestApp::spawn().await;
    // The right password is in the burst: it must not log in once the free tries are spent.
    let guesses = (0..40).map(|i| {
        let password = if i == 20 {
            ADMIN_PASSWORD.to_owned()
        } else {
            format!("wrong guess {i:04}")
        };
        let app = &app;
        async move { read(app.login("admin", &password).await).await.0 }
    });
    let statuses = join_all(guesses).await;
    let checked = statuses
        .iter()
        .filter(|s| **s != StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert!(
        checked <= 5,
        "{checked} of 40 passwords were checked: {statuses:?}"
    );
    assert!(statuses.iter().all(|s| matches!(
        *s,
        StatusCode::UNAUTHORIZED | StatusCode::OK | StatusCode::TOO_MANY_REQUESTS
    )));
}

/// Every password check costs a hash, whoever it is for: one client address gets a burst of
/// 20 checks, then 5 a second, and is told when to come back (here with 40 names at once,
/// each under the failure throttle's limits); another address is not held up by it.
#[actix_web::test]
async fn one_address_gets_a_bounded_share_of_password_checks() {
    let app = TestApp::spawn().await;
    let names: Vec<String> = (0..40).map(|i| format!("guess{i:02}")).collect();
    let guesses = names
        .iter()
        .map(|name| login_from(&app, "127.0.0.3", name, "wrong password 1234"));
    let statuses: Vec<StatusCode> = join_all(guesses).await.into_iter().map(|a| a.0).collect();
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    let limited = statuses
        .iter()
        .filter(|s| **s == StatusCode::TOO_MANY_REQUESTS)
        .count();
    assert_eq!(checked + limited, 40, "{statuses:?}");
    assert!(
        (20..=30).contains(&checked),
        "{checked} of 40 passwords were checked at once: {statuses:?}"
    );
    let (status, body) = login_from(&app, "127.0.0.1", "guess99", "wrong password 1234").await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "another address is checked: {body}"
    );
    assert_eq!(
        login_from(&app, "127.0.0.4", "admin", ADMIN_PASSWORD)
            .await
            .0,
        StatusCode::OK
    );
    let mut told_to_wait = None;
    for _ in 0..30 {
        let response = send_login_from(&app, "127.0.0.3", "guess00", "wrong password 1234").await;
        let retry_after = response.headers().get("retry-after").cloned();
        let (status, body) = read(response).await;
        if status == StatusCode::TOO_MANY_REQUESTS {
            assert!(retry_after.is_some(), "{body}");
            told_to_wait = Some(body);
            break;
        }
    }
    let body = told_to_wait.expect("the busy address was never told to wait");
    assert_eq!(body["code"], "too_many_password_checks", "{body}");
}

#[actix_web::test]
async fn an_outsider_cannot_lock_the_owner_out() {
    let app = TestApp::spawn().await;
    for _ in 0..6 {
        login_from(&app, "127.0.0.2", "admin", "a wrong guess 1234").await;
    }
    let (status, body) = login_from(&app, "127.0.0.2", "admin", ADMIN_PASSWORD).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::TOO_MANY_REQUESTS,
            Some("too_many_login_attempts")
        ),
        "the guessing address is throttled, even with the right password"
    );
    assert_eq!(
        login_from(&app, "127.0.0.1", "admin", ADMIN_PASSWORD)
            .await
            .0,
        StatusCode::OK,
        "the owner, from elsewhere, logs in"
    );
    // One address spraying many usernames is throttled too: after 50 failures (each a
    // password check, so paced by the per-address check rate).
    let mut failures = 0;
    let mut n = 0;
    while failures < 50 {
        let (status, _) =
            login_from(&app, "127.0.0.3", &format!("user{n}"), "a wrong guess 1234").await;
        match status {
            StatusCode::UNAUTHORIZED => failures += 1,
            StatusCode::TOO_MANY_REQUESTS => {
                actix_web::rt::time::sleep(std::time::Duration::from_millis(200)).await
            }
            other => panic!("{other}"),
        }
        n += 1;
    }
    actix_web::rt::time::sleep(std::time::Duration::from_secs(1)).await;
    let (status, body) = login_from(&app, "127.0.0.3", "admin", ADMIN_PASSWORD).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (
            StatusCode::TOO_MANY_REQUESTS,
            Some("too_many_login_attempts")
        )
    );
}

#[actix_web::test]
async fn long_names_are_refused_and_guesses_are_kept_only_as_hashes() {
    let app = TestApp::spawn().await;
    let (status, body) = read(app.login(&"x".repeat(65), "whatever password").await).await;
    assert_invalid(status, &body, &[("username", "too_long")]);
    let (status, _) = read(app.login(&"x".repeat(64), "whatever password").await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = read(app.login("Zhang.Wei", "whatever password").await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let url = app.database_url().clone();
    let stored = actix_web::web::block(move || {
        let db = Db::connect(&url, &PoolOptions::default()).unwrap();
        db.run(|conn| {
            Ok::<_, StoreError>(
                login_failures::table
                    .select((login_failures::username_hash, login_failures::client))
                    .load::<(String, String)>(conn)?,
            )
        })
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        stored.len(),
        2,
        "the refused name was not recorded: {stored:?}"
    );
    for (hash, client) in &stored {
        assert!(
            hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit()),
            "{hash}"
        );
        assert!(!hash.contains("zhang"), "{hash}");
        assert_eq!(client, "127.0.0.1");
    }
}

#[actix_web::test]
async fn common_repetitive_and_name_based_passwords_are_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for password in ["password1234", "aaaaaaaaaaaa", "wang.fang-2026!", "short"] {
        let (status, body) = app
            .post(
                "/api/v1/users",
                &admin,
                json!({"username": "wang.fang", "display_name": "W", "role": "agent", "password": password}),
            )
            .await;
        assert_invalid(status, &body, &[("password", "weak_password")]);
    }
    let (status, _) = app
        .post(
            "/api/v1/users",
            &admin,
            json!({"username": "wang.fang", "display_name": "W", "role": "agent", "password": PASSWORD}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
}

async fn change_my_password(
    app: &TestApp,
    token: &str,
    current: &str,
    new: &str,
) -> (StatusCode, Value) {
    app.post(
        "/api/v1/me/password",
        token,
        json!({"current_password": current, "new_password": new}),
    )
    .await
}

#[actix_web::test]
async fn changing_a_password_ends_every_session() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (id, token) = app.user(&admin, "li.lei", "agent", None).await;
    let elsewhere = app.tokens("li.lei", PASSWORD).await;

    let (status, body) =
        change_my_password(&app, &token, "not my password", "a new passphrase here").await;
    assert_invalid(status, &body, &[("current_password", "wrong_password")]);
    let (status, body) = change_my_password(&app, &token, PASSWORD, "password1234").await;
    assert_invalid(status, &body, &[("new_password", "weak_password")]);
    let (status, fresh) = change_my_password(&app, &token, PASSWORD, "a new passphrase here").await;
    assert_eq!(status, StatusCode::OK, "{fresh}");
    assert_eq!(
        app.refresh(&elsewhere["refresh_token"]).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(app.refresh(&fresh["refresh_token"]).await.0, StatusCode::OK);
    assert_eq!(
        read(app.login("li.lei", PASSWORD).await).await.0,
        StatusCode::UNAUTHORIZED
    );
    let mine = app.tokens("li.lei", "a new passphrase here").await;

    // An administrator setting it ends the sessions too.
    let response = app
        .request(Method::PATCH, &format!("/api/v1/users/{id}"), Some(&admin))
        .header("If-Match", "*")
        .json(&json!({"password": "set by the administrator"}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        app.refresh(&mine["refresh_token"]).await.0,
        StatusCode::UNAUTHORIZED
    );
    app.tokens("li.lei", "set by the administrator").await;
}

#[actix_web::test]
async fn a_login_ends_after_its_lifetime_however_often_it_is_refreshed() {
    let app = TestApp::spawn_with(|s| s.session_lifetime = std::time::Duration::from_secs(2)).await;
    let mut pair = app.tokens("admin", ADMIN_PASSWORD).await;
    for _ in 0..2 {
        actix_web::rt::time::sleep(std::time::Duration::from_millis(500)).await;
        let (status, next) = app.refresh(&pair["refresh_token"]).await;
        assert_eq!(status, StatusCode::OK, "{next}");
        pair = next;
    }
    actix_web::rt::time::sleep(std::time::Duration::from_millis(1200)).await;
    let (status, body) = app.refresh(&pair["refresh_token"]).await;
    assert_problem(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    );
}
