//! API keys for integration scripts, and the rate limits every caller gets.

use std::num::NonZeroU32;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::*;

/// Makes a key for `user` as `admin`: 201 with Location; answers (key, record).
async fn key_for(app: &TestApp, admin: &str, user: &str, name: &str) -> (String, Value) {
    let response = app
        .request(Method::POST, "/api/v1/api-keys", Some(admin))
        .json(&json!({"name": name, "user_id": user}))
        .send()
        .await
        .unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let (status, made) = read(response).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    assert_eq!(
        location,
        format!("/api/v1/api-keys/{}", made["id"].as_str().unwrap())
    );
    (made["key"].as_str().unwrap().to_owned(), made)
}

#[actix_web::test]
async fn a_key_acts_as_its_user_and_stops_at_once_when_revoked_or_its_user_is_disabled() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "SZ").await;
    let (erp, erp_token) = app.user(&admin, "svc.erp", "agent", Some(&unit)).await;
    let (key, made) = key_for(&app, &admin, &erp, "ERP nightly sync").await;
    let prefix = made["prefix"].as_str().unwrap();
    assert!(key.starts_with(&format!("credo_{prefix}_")), "{key}");
    assert!(
        key.len() >= "credo_".len() + 8 + 1 + 43,
        "256 bits of secret: {key}"
    );
    assert_eq!(
        (&made["user_id"], &made["revoked_at"]),
        (&json!(erp), &Value::Null)
    );

    // The key is its user: same identity, same scope.
    let (status, me) = app.get("/api/v1/me", &key).await;
    assert_eq!((status, &me["id"]), (StatusCode::OK, &json!(erp)));
    let mine = app.organization(&erp_token, "Mine Co").await;
    app.organization(&admin, "Not Mine Co").await;
    let seen = app.walk("/api/v1/customers", &key).await;
    assert_eq!(seen.as_array().unwrap().len(), 1);
    assert_eq!(seen[0]["id"], mine.as_str());
    // It may not change a password or make keys, even an admin's key.
    let (status, body) = app
        .post(
            "/api/v1/me/password",
            &key,
            json!({"current_password": PASSWORD, "new_password": "another long passphrase 9"}),
        )
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (_, admin_me) = app.get("/api/v1/me", &admin).await;
    let admin_id = admin_me["id"].as_str().unwrap();
    let (admin_key, _) = key_for(&app, &admin, admin_id, "admin script").await;
    let (status, body) = app
        .post(
            "/api/v1/api-keys",
            &admin_key,
            json!({"name": "x", "user_id": erp}),
        )
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");

    // Listed without the key; last use to the minute.
    let keys = app.walk("/api/v1/api-keys", &admin).await;
    let listed = keys
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["id"] == made["id"])
        .unwrap();
    assert!(
        listed.get("key").is_none() && listed.get("secret_hash").is_none(),
        "{listed}"
    );
    let used = listed["last_used_at"].as_str().unwrap();
    assert!(
        used.contains(":00Z") || used.ends_with(":00.000Z"),
        "{used}"
    );

    // A wrong secret, a made-up prefix, a cut key: 401.
    let wrong = format!("{}x", &key[..key.len() - 1]);
    for bad in [
        wrong.as_str(),
        "credo_zzzzzzzz_abc",
        "credo_k7x",
        &key[..20],
    ] {
        let (status, body) = app.get("/api/v1/me", bad).await;
        assert_problem(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
    }

    // Revoked: refused at once here and on another instance.
    let other = app.another_instance(|_| {}).await;
    let ask_other = |token: String| {
        let client = reqwest::Client::new();
        let url = format!("{other}/api/v1/me");
        async move {
            client
                .get(url)
                .bearer_auth(token)
                .send()
                .await
                .unwrap()
                .status()
        }
    };
    assert_eq!(ask_other(key.clone()).await, StatusCode::OK);
    let (status, revoked) = app
        .post(
            &format!("/api/v1/api-keys/{}/revoke", made["id"].as_str().unwrap()),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert!(revoked["revoked_at"].is_string());
    let (status, _) = app.get("/api/v1/me", &key).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(ask_other(key.clone()).await, StatusCode::UNAUTHORIZED);

    // A disabled user's keys stop at once too.
    let (sync, _) = app.user(&admin, "svc.sync", "viewer", None).await;
    let (sync_key, _) = key_for(&app, &admin, &sync, "sync").await;
    assert_eq!(app.get("/api/v1/me", &sync_key).await.0, StatusCode::OK);
    let disabled = app
        .patch(
            &format!("/api/v1/users/{sync}"),
            &admin,
            "*",
            json!({"disabled": true}),
        )
        .await;
    assert_eq!(disabled.status(), StatusCode::OK);
    assert_eq!(
        app.get("/api/v1/me", &sync_key).await.0,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(ask_other(sync_key).await, StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn keys_are_for_admins_and_for_active_users() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (agent, agent_token) = app.user(&admin, "li.agent", "agent", None).await;
    let (status, body) = app
        .post(
            "/api/v1/api-keys",
            &agent_token,
            json!({"name": "mine", "user_id": agent}),
        )
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = app
        .post(
            "/api/v1/api-keys",
            &admin,
            json!({"name": " ", "user_id": uuid::Uuid::new_v4(), "expires_on": company_today()}),
        )
        .await;
    assert_invalid(
        status,
        &body,
        &[("name", "required"), ("expires_on", "out_of_range")],
    );
    let (status, body) = app
        .post(
            "/api/v1/api-keys",
            &admin,
            json!({"name": "x", "user_id": uuid::Uuid::new_v4()}),
        )
        .await;
    assert_invalid(status, &body, &[("user_id", "unknown_user")]);
    assert_eq!(app.walk("/api/v1/api-keys", &admin).await, json!([]));
}

fn rate_limit(response: &reqwest::Response) -> (String, String) {
    let header = |name: &str| response.headers()[name].to_str().unwrap().to_owned();
    (header("ratelimit-policy"), header("ratelimit"))
}

async fn get_customers(app: &TestApp, token: &str) -> reqwest::Response {
    app.request(Method::GET, "/api/v1/customers", Some(token))
        .send()
        .await
        .unwrap()
}

#[actix_web::test]
async fn each_caller_has_a_quota_told_in_ratelimit_headers_and_429_when_spent() {
    let quota = |n| NonZeroU32::new(n).unwrap();
    let app = TestApp::spawn_with(|settings| {
        settings.quotas = credo_api::limits::Quotas {
            per_key: quota(3),
            per_user: quota(7),
            checks: quota(2),
        };
    })
    .await;
    let admin = app.admin_token().await;
    let (_, me) = app.get("/api/v1/me", &admin).await;
    let (key, _) = key_for(&app, &admin, me["id"].as_str().unwrap(), "script").await;
    // Seven a minute: /me and the key made leave five.
    let mut standings = Vec::new();
    for _ in 0..5 {
        let response = get_customers(&app, &admin).await;
        assert_eq!(response.status(), StatusCode::OK);
        let (policy, standing) = rate_limit(&response);
        assert_eq!(policy, "\"default\";q=7;w=60");
        standings.push(standing);
    }
    assert!(
        standings[0].starts_with("\"default\";r=4;t="),
        "{standings:?}"
    );
    assert!(
        standings[4].starts_with("\"default\";r=0;t="),
        "{standings:?}"
    );
    let response = get_customers(&app, &admin).await;
    let retry: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=9).contains(&retry), "{retry}");
    let (_, standing) = rate_limit(&response);
    assert!(standing.starts_with("\"default\";r=0;t="), "{standing}");
    let (status, body) = read(response).await;
    assert_problem(status, &body, StatusCode::TOO_MANY_REQUESTS, "rate_limited");

    // The user's key has its own quota.
    for expected in [
        StatusCode::OK,
        StatusCode::OK,
        StatusCode::OK,
        StatusCode::TOO_MANY_REQUESTS,
    ] {
        let response = get_customers(&app, &key).await;
        assert_eq!(response.status(), expected);
        assert_eq!(rate_limit(&response).0, "\"default\";q=3;w=60");
    }
    // The credit check counts apart from the rest.
    let check = json!({"customer_id": uuid::Uuid::new_v4(), "amount_minor": 100,
                       "currency": "CNY", "stage": "order"});
    for spent in [false, false, true] {
        let response = app
            .request(Method::POST, "/api/v1/credit/check", Some(&admin))
            .json(&check)
            .send()
            .await
            .unwrap();
        assert_eq!(rate_limit(&response).0, "\"check\";q=2;w=60");
        assert_eq!(response.status() == StatusCode::TOO_MANY_REQUESTS, spent);
    }
}
