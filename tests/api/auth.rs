use base64::Engine;
use jsonwebtoken::{encode, Algorithm, EncodingKey, Header};
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

#[actix_web::test]
async fn login_returns_a_bearer_pair_that_opens_me() {
    let app = TestApp::spawn().await;
    let pair = app.tokens("admin", ADMIN_PASSWORD).await;
    assert_eq!(pair["token_type"], "Bearer");
    assert_eq!(pair["expires_in"], 900);
    assert!(pair["refresh_token"].as_str().unwrap().len() >= 32);
    let (status, me) = app
        .get("/api/v1/me", pair["access_token"].as_str().unwrap())
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["username"], "admin");
    assert_eq!(me["role"], "admin");
}

#[actix_web::test]
async fn wrong_password_and_unknown_user_look_the_same() {
    let app = TestApp::spawn().await;
    let (status, body) = read(app.login("admin", "wrong-password-123").await).await;
    assert_problem(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );
    let (status, body) = read(app.login("nobody", "wrong-password-123").await).await;
    assert_problem(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );
}

#[actix_web::test]
async fn five_failures_throttle_the_username_even_for_the_right_password() {
    let app = TestApp::spawn().await;
    for _ in 0..5 {
        let (status, _) = read(app.login("ADMIN", "wrong-password-123").await).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
    }
    let response = app.login("admin", ADMIN_PASSWORD).await;
    let retry_after: u64 = response.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=900).contains(&retry_after), "{retry_after}");
    let (status, body) = read(response).await;
    assert_problem(
        status,
        &body,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_login_attempts",
    );
}

#[actix_web::test]
async fn refresh_tokens_rotate_and_a_reused_one_revokes_its_family() {
    let app = TestApp::spawn().await;
    let first = app.tokens("admin", ADMIN_PASSWORD).await;
    let (status, second) = app.refresh(&first["refresh_token"]).await;
    assert_eq!(status, StatusCode::OK, "{second}");
    assert_ne!(second["refresh_token"], first["refresh_token"]);
    assert_eq!(
        app.get("/api/v1/me", second["access_token"].as_str().unwrap())
            .await
            .0,
        StatusCode::OK
    );

    // Replaying the spent token is theft: it fails, and so does the successor.
    let (status, body) = app.refresh(&first["refresh_token"]).await;
    assert_problem(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    );
    let (status, body) = app.refresh(&second["refresh_token"]).await;
    assert_problem(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    );

    let (status, body) = app.refresh(&json!("never-issued")).await;
    assert_problem(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    );
}

#[actix_web::test]
async fn logout_revokes_the_refresh_token() {
    let app = TestApp::spawn().await;
    let pair = app.tokens("admin", ADMIN_PASSWORD).await;
    let access = pair["access_token"].as_str().unwrap();
    let (status, _) = app
        .post(
            "/api/v1/auth/logout",
            access,
            json!({"refresh_token": pair["refresh_token"]}),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, body) = app.refresh(&pair["refresh_token"]).await;
    assert_problem(
        status,
        &body,
        StatusCode::UNAUTHORIZED,
        "invalid_refresh_token",
    );
}

/// A refresh token longer than any issued is bad input (422 naming it), at refresh and at
/// logout alike, and the session it was sent with lives on.
#[actix_web::test]
async fn over_long_refresh_tokens_are_refused_as_input() {
    let app = TestApp::spawn().await;
    let pair = app.tokens("admin", ADMIN_PASSWORD).await;
    let access = pair["access_token"].as_str().unwrap();
    let long = json!("x".repeat(129));
    let (status, body) = app.refresh(&long).await;
    assert_invalid(status, &body, &[("refresh_token", "too_long")]);
    let (status, body) = app
        .post(
            "/api/v1/auth/logout",
            access,
            json!({"refresh_token": long}),
        )
        .await;
    assert_invalid(status, &body, &[("refresh_token", "too_long")]);
    let (status, body) = app.refresh(&pair["refresh_token"]).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

#[actix_web::test]
async fn expired_access_tokens_are_refused() {
    let app = TestApp::spawn_with(|s| s.access_token_ttl = std::time::Duration::from_secs(1)).await;
    let token = app.admin_token().await;
    assert_eq!(app.get("/api/v1/me", &token).await.0, StatusCode::OK);
    actix_web::rt::time::sleep(std::time::Duration::from_millis(2100)).await;
    let (status, body) = app.get("/api/v1/me", &token).await;
    assert_problem(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
}

fn claims(sub: &str, exp_offset: i64) -> serde_json::Value {
    let now = chrono::Utc::now().timestamp();
    json!({"sub": sub, "iss": "credo", "iat": now, "exp": now + exp_offset})
}

#[actix_web::test]
async fn every_token_defect_is_401_problem_json() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, me) = app.get("/api/v1/me", &admin).await;
    let sub = me["id"].as_str().unwrap();
    let b64 = |v: &serde_json::Value| {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string())
    };

    let sign = |alg: Algorithm, secret: &str, claims: serde_json::Value| {
        encode(
            &Header::new(alg),
            &claims,
            &EncodingKey::from_secret(secret.as_bytes()),
        )
        .unwrap()
    };
    let good = sign(Algorithm::HS256, JWT_SECRET, claims(sub, 600));
    assert_eq!(
        app.get("/api/v1/me", &good).await.0,
        StatusCode::OK,
        "a well-formed token works"
    );

    let mut tampered = good.clone();
    tampered.replace_range(tampered.len() - 3.., "AAA");
    let defects = [
        ("garbage", "not.a.token".to_owned()),
        (
            "expired",
            sign(Algorithm::HS256, JWT_SECRET, claims(sub, -60)),
        ),
        (
            "wrong secret",
            sign(
                Algorithm::HS256,
                "another-secret-another-secret!!",
                claims(sub, 600),
            ),
        ),
        (
            "other algorithm",
            sign(Algorithm::HS512, JWT_SECRET, claims(sub, 600)),
        ),
        (
            "alg none",
            format!(
                "{}.{}.",
                b64(&json!({"alg": "none", "typ": "JWT"})),
                b64(&claims(sub, 600))
            ),
        ),
        ("tampered signature", tampered),
        (
            "unknown user",
            sign(
                Algorithm::HS256,
                JWT_SECRET,
                claims(&uuid::Uuid::new_v4().to_string(), 600),
            ),
        ),
        (
            "issued in the future",
            sign(Algorithm::HS256, JWT_SECRET, {
                let mut claims = claims(sub, 600);
                claims["iat"] = json!(chrono::Utc::now().timestamp() + 300);
                claims
            }),
        ),
        (
            "lives a century",
            sign(
                Algorithm::HS256,
                JWT_SECRET,
                claims(sub, 100 * 365 * 24 * 3600),
            ),
        ),
        (
            "no issue time",
            sign(Algorithm::HS256, JWT_SECRET, {
                let mut claims = claims(sub, 600);
                claims.as_object_mut().unwrap().remove("iat");
                claims
            }),
        ),
        (
            "not valid yet",
            sign(Algorithm::HS256, JWT_SECRET, {
                let mut claims = claims(sub, 600);
                claims["nbf"] = json!(chrono::Utc::now().timestamp() + 300);
                claims
            }),
        ),
        (
            "wrong issuer",
            sign(
                Algorithm::HS256,
                JWT_SECRET,
                json!({"sub": sub, "iss": "evil", "exp": chrono::Utc::now().timestamp() + 600}),
            ),
        ),
    ];
    for (name, token) in defects {
        let response = app
            .request(Method::GET, "/api/v1/me", Some(&token))
            .send()
            .await
            .unwrap();
        assert_eq!(response.headers()["www-authenticate"], "Bearer", "{name}");
        let (status, body) = read(response).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED, "{name}: {body}");
        assert_eq!(body["code"], "unauthenticated", "{name}");
    }
    let (status, body) = read(
        app.request(Method::GET, "/api/v1/me", None)
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_problem(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
    let response = app
        .request(Method::GET, "/api/v1/me", None)
        .header("Authorization", "Basic YWRtaW46eA==")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn disabling_a_user_kills_its_tokens_and_its_login() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (id, token) = app.user(&admin, "li.lei", "agent", None).await;
    let pair = app.tokens("li.lei", PASSWORD).await;
    assert_eq!(app.get("/api/v1/me", &token).await.0, StatusCode::OK);
    let response = app
        .request(Method::PATCH, &format!("/api/v1/users/{id}"), Some(&admin))
        .header("If-Match", "*")
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (status, body) = app.get("/api/v1/me", &token).await;
    assert_problem(status, &body, StatusCode::UNAUTHORIZED, "unauthenticated");
    let (status, _) = read(app.login("li.lei", PASSWORD).await).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    assert_eq!(
        app.refresh(&pair["refresh_token"]).await.0,
        StatusCode::UNAUTHORIZED
    );
}

#[actix_web::test]
async fn another_instance_refuses_a_disabled_user_within_a_second() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (id, token) = app.user(&admin, "han.mei", "agent", None).await;
    let other = app.another_instance(|_| {}).await;
    let me_there = || {
        app.client
            .get(format!("{other}/api/v1/me"))
            .bearer_auth(&token)
            .send()
    };
    assert_eq!(me_there().await.unwrap().status(), StatusCode::OK);
    let response = app
        .request(Method::PATCH, &format!("/api/v1/users/{id}"), Some(&admin))
        .header("If-Match", "*")
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // The other instance may trust what it read for up to a second (auth::PRINCIPAL_TTL).
    actix_web::rt::time::sleep(
        credo_api::auth::PRINCIPAL_TTL + std::time::Duration::from_millis(100),
    )
    .await;
    assert_eq!(me_there().await.unwrap().status(), StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn public_endpoints_need_no_token_and_everything_else_does() {
    let app = TestApp::spawn().await;
    for path in ["/health", "/ready", "/api/v1/openapi.json", "/docs/"] {
        let response = app.request(Method::GET, path, None).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{path}");
    }
    let spec: serde_json::Value = app
        .request(Method::GET, "/api/v1/openapi.json", None)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let public = operation["security"] == json!([]);
            if public {
                continue;
            }
            let concrete = path
                .replace("{id}", &uuid::Uuid::new_v4().to_string())
                .replace("{contact_id}", &uuid::Uuid::new_v4().to_string());
            let method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let response = app
                .request(method.clone(), &concrete, None)
                .json(&json!({}))
                .send()
                .await
                .unwrap();
            assert_eq!(
                response.status(),
                StatusCode::UNAUTHORIZED,
                "{method} {path}"
            );
        }
    }
}

#[actix_web::test]
async fn instances_on_one_database_share_the_generated_signing_secret() {
    let app = TestApp::spawn_with(|s| s.jwt_secret = None).await;
    let token = app.admin_token().await;
    // A second instance (or a restart) finds the secret the first one stored.
    let other = app.another_instance(|s| s.jwt_secret = None).await;
    let response = app
        .client
        .get(format!("{other}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    // It also found the admin, instead of creating another.
    let users = app.walk("/api/v1/users", &token).await;
    assert_eq!(users.as_array().unwrap().len(), 1);
    // A token signed with another secret is refused by both.
    let foreign = app.another_instance(|_| {}).await;
    let response = app
        .client
        .get(format!("{foreign}/api/v1/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[actix_web::test]
async fn the_docs_page_and_its_assets_are_served_offline() {
    let app = TestApp::spawn().await;
    let response = app
        .request(Method::GET, "/docs", None)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK, "redirected to /docs/");
    let page = response.text().await.unwrap();
    assert!(page.contains("swagger-ui"), "{page}");
    for asset in [
        "/docs/swagger-ui.css",
        "/docs/swagger-ui-bundle.js",
        "/docs/swagger-initializer.js",
    ] {
        let response = app.request(Method::GET, asset, None).send().await.unwrap();
        assert_eq!(response.status(), StatusCode::OK, "{asset}");
    }
    let initializer = app
        .request(Method::GET, "/docs/swagger-initializer.js", None)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        initializer.contains("/api/v1/openapi.json"),
        "{initializer}"
    );
}
