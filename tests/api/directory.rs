use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

#[actix_web::test]
async fn admins_manage_units_and_users() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "sz").await;
    let units = app.walk("/api/v1/sales-units", &admin).await;
    assert_eq!(units[0]["code"], "SZ", "codes are upper-cased");
    let (status, body) = app
        .post(
            "/api/v1/sales-units",
            &admin,
            json!({"code": "SZ", "name": "again"}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT, "unit_code_taken");

    let (user_id, _) = app
        .user(&admin, "Zhang.Wei", "unit_manager", Some(&unit))
        .await;
    let (_, user) = app.get(&format!("/api/v1/users/{user_id}"), &admin).await;
    assert_eq!(user["username"], "zhang.wei");
    assert_eq!(user["sales_unit_id"], unit.as_str());
    assert!(user.get("password_hash").is_none());

    let (status, body) = app
        .post("/api/v1/users", &admin, json!({"username": "zhang.wei", "display_name": "x", "role": "agent", "password": PASSWORD}))
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT, "username_taken");

    // A merge patch: a value sets, `null` clears, absent stays.
    let path = format!("/api/v1/users/{user_id}");
    let patch = |body: serde_json::Value| {
        let (app, path, admin) = (&app, &path, &admin);
        async move { read(app.patch(path, admin, "*", body).await).await }
    };
    let (status, user) = patch(json!({"email": "zhang.wei@example.cn"})).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["email"], "zhang.wei@example.cn");
    let (status, user) =
        patch(json!({"role": "credit_manager", "sales_unit_id": null, "email": null})).await;
    assert_eq!(status, StatusCode::OK, "{user}");
    assert_eq!(user["role"], "credit_manager");
    assert!(user["sales_unit_id"].is_null(), "{user}");
    assert!(user["email"].is_null(), "{user}");
    assert_eq!(user["display_name"], "Zhang.Wei", "absent members stay");
    assert_eq!(user["version"], 3);
    let (_, user) = patch(json!({"sales_unit_id": unit})).await;
    assert_eq!(user["sales_unit_id"], unit.as_str());
    let (_, user) = patch(json!({"clear_sales_unit": true})).await;
    assert!(
        user["sales_unit_id"].is_null(),
        "the deprecated form still clears"
    );
    // What cannot be empty cannot be cleared: `null` is refused, not read as "leave alone".
    for member in ["display_name", "role", "disabled", "password"] {
        let (status, body) = patch(json!({ member: null })).await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{member}: {body}");
        assert_eq!(error_fields(&body)[0].0, member, "{body}");
    }
    let unit_path = format!("/api/v1/sales-units/{unit}");
    let (status, body) = read(
        app.request(Method::PATCH, &unit_path, Some(&admin))
            .json(&json!({"name": null}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    assert_eq!(error_fields(&body)[0].0, "name", "{body}");
    let (_, unchanged) = app.get(&path, &admin).await;
    assert_eq!(
        unchanged["display_name"], "Zhang.Wei",
        "nothing was written"
    );
}

#[actix_web::test]
async fn user_input_is_validated_field_by_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (status, body) = app
        .post(
            "/api/v1/users",
            &admin,
            json!({"username": "a", "display_name": " ", "email": "nope", "role": "unit_manager", "password": "short"}),
        )
        .await;
    assert_problem(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    let fields = error_fields(&body);
    for expected in [
        ("username", "invalid_username"),
        ("display_name", "required"),
        ("email", "invalid_email"),
        ("password", "weak_password"),
        ("sales_unit_id", "required"),
    ] {
        assert!(
            fields.contains(&(expected.0.into(), expected.1.into())),
            "{expected:?} in {fields:?}"
        );
    }
    let (status, body) = app
        .post(
            "/api/v1/users",
            &admin,
            json!({"username": "abc", "display_name": "x", "role": "root", "password": PASSWORD}),
        )
        .await;
    assert_invalid(status, &body, &[("role", "invalid_type")]);
    let ghost = uuid::Uuid::new_v4();
    let (status, body) = app
        .post("/api/v1/users", &admin, json!({"username": "abc", "display_name": "x", "role": "agent", "sales_unit_id": ghost, "password": PASSWORD}))
        .await;
    assert_invalid(status, &body, &[("sales_unit_id", "unknown_sales_unit")]);
}

#[actix_web::test]
async fn only_admins_change_the_directory_but_everyone_reads_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "BJ").await;
    for role in [
        "credit_manager",
        "finance",
        "unit_manager",
        "agent",
        "service",
        "viewer",
    ] {
        let (id, token) = app
            .user(&admin, &format!("u.{role}"), role, Some(&unit))
            .await;
        let (status, body) = app
            .post(
                "/api/v1/sales-units",
                &token,
                json!({"code": "X", "name": "x"}),
            )
            .await;
        assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
        let (status, body) = app
            .post("/api/v1/users", &token, json!({"username": "x.y.z", "display_name": "x", "role": "admin", "password": PASSWORD}))
            .await;
        assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
        let response = app
            .request(Method::PATCH, &format!("/api/v1/users/{id}"), Some(&token))
            .json(&json!({"role": "admin"}))
            .send()
            .await
            .unwrap();
        assert_eq!(
            response.status(),
            StatusCode::FORBIDDEN,
            "{role} promotes itself"
        );
        assert_eq!(app.get("/api/v1/users", &token).await.0, StatusCode::OK);
        assert_eq!(
            app.get("/api/v1/sales-units", &token).await.0,
            StatusCode::OK
        );
    }
}

#[actix_web::test]
async fn an_admin_cannot_lock_itself_out() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, me) = app.get("/api/v1/me", &admin).await;
    let response = app
        .request(
            Method::PATCH,
            &format!("/api/v1/users/{}", me["id"].as_str().unwrap()),
            Some(&admin),
        )
        .header("If-Match", "*")
        .json(&json!({"disabled": true}))
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_problem(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
}
