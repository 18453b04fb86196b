//! The OWASP API Security Top 10 (2023), item by item. Where another module already holds
//! the test, this table names it; the rest are here.
//!
//! | Item | Tests |
//! | --- | --- |
//! | API1 Broken object level authorization | `api1_other_peoples_records_do_not_exist`, `scope::each_role_sees_its_scope_and_nothing_else_exists` |
//! | API2 Broken authentication | `auth::every_token_defect_is_401_problem_json`, `auth::refresh_tokens_rotate_and_a_reused_one_revokes_its_family`, `auth::disabling_a_user_kills_its_tokens_and_its_login`, `auth::expired_access_tokens_are_refused` |
//! | API3 Broken object property level authorization | `api3_read_only_and_secret_properties`, `api3_every_patch_refuses_its_read_only_members` |
//! | API4 Unrestricted resource consumption | `api4_every_size_is_bounded` |
//! | API5 Broken function level authorization | `api5_functions_above_the_role_are_forbidden`, `matrix::every_operation_answers_every_role_as_the_rules_say` |
//! | API6 Unrestricted access to sensitive business flows | `auth::five_failures_throttle_the_username_even_for_the_right_password`, `http::parallel_retries_with_one_key_make_one_record`, `api6_a_claim_is_decided_once` |
//! | API7 Server side request forgery | `api7_the_server_calls_no_private_address_even_when_a_name_turns_to_one`, `webhooks::receivers_on_private_addresses_or_without_https_are_refused` |
//! | API8 Security misconfiguration | `api8_errors_reveal_nothing_inside` |
//! | API9 Improper inventory management | `api9_nothing_answers_outside_the_spec`, `openapi::every_operation_is_documented_with_id_tag_summary_security_and_errors` |
//! | API10 Unsafe consumption of APIs | `api10_imported_rows_are_checked_one_by_one` |

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::*;
use crate::webhooks::{attempted_log, endpoint, Receiver};

/// Two agents of two units with a customer each, plus an admin.
struct Two {
    app: TestApp,
    admin: String,
    mine: String,
    agent: String,
    other_agent: String,
}

impl Two {
    async fn new() -> Two {
        let app = TestApp::spawn().await;
        let admin = app.admin_token().await;
        let sz = app.create_unit(&admin, "SZ").await;
        let sy = app.create_unit(&admin, "SY").await;
        let (_, agent) = app.user(&admin, "agent.sz", "agent", Some(&sz)).await;
        let (_, other_agent) = app.user(&admin, "agent.sy", "agent", Some(&sy)).await;
        let mine = app
            .customer(
                &agent,
                json!({"kind": "organization", "legal_name": "Mine"}),
            )
            .await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        Two {
            app,
            admin,
            mine,
            agent,
            other_agent,
        }
    }
}

fn id(body: &Value) -> String {
    body["id"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn api1_other_peoples_records_do_not_exist() {
    let t = Two::new().await;
    let c = format!("/api/v1/customers/{}", t.mine);
    let (_, order) = t
        .app
        .post(
            "/api/v1/orders",
            &t.agent,
            json!({"customer_id": t.mine, "currency": "CNY", "lines": [
                {"product_code": "P", "product_name": "P", "quantity": 1, "unit_price_minor": 1, "unit_cost_minor": 0}]}),
        )
        .await;
    let (_, visit) = t
        .app
        .post(
            "/api/v1/visits",
            &t.agent,
            json!({"customer_id": t.mine, "planned_at": "2026-12-01T09:00:00Z", "purpose": "p"}),
        )
        .await;
    let (_, lead) = t
        .app
        .post(
            "/api/v1/leads",
            &t.agent,
            json!({"company_name": "Lead Co", "channel": "referral"}),
        )
        .await;
    let (_, task) = t
        .app
        .post(
            "/api/v1/tasks",
            &t.agent,
            json!({"kind": "call", "title": "t", "due_on": "2026-12-01"}),
        )
        .await;
    let (_, contact) = t
        .app
        .post(&format!("{c}/contacts"), &t.agent, json!({"name": "K"}))
        .await;
    let reads = [
        c.clone(),
        format!("{c}/contacts/{}", id(&contact)),
        format!("{c}/notes"),
        format!("{c}/events"),
        format!("{c}/interactions"),
        format!("{c}/timeline"),
        format!("{c}/history"),
        format!("{c}/product-trials"),
        format!("/api/v1/orders/{}", id(&order)),
        format!("/api/v1/orders/{}/claims", id(&order)),
        format!("/api/v1/visits/{}", id(&visit)),
        format!("/api/v1/leads/{}", id(&lead)),
        format!("/api/v1/tasks/{}", id(&task)),
    ];
    for path in &reads {
        let (status, body) = t.app.get(path, &t.agent).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        let (status, body) = t.app.get(path, &t.other_agent).await;
        assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");
    }
    let writes = [
        (
            Method::POST,
            format!("/api/v1/orders/{}/confirm", id(&order)),
            json!({}),
        ),
        (
            Method::POST,
            format!("/api/v1/visits/{}/cancel", id(&visit)),
            json!({}),
        ),
        (
            Method::POST,
            format!("/api/v1/leads/{}/stage", id(&lead)),
            json!({"stage": "contacted"}),
        ),
        (
            Method::POST,
            format!("{c}/notes"),
            json!({"department": "sales", "body": "x"}),
        ),
        (Method::DELETE, c.clone(), json!({})),
    ];
    for (method, path, body) in writes {
        let (status, answer) = t.app.send(method, &path, &t.other_agent, Some(body)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{path}: {answer}");
    }
    // Nor can they be reached by naming them in a body.
    let (_, body) = t
        .app
        .post(
            "/api/v1/orders",
            &t.other_agent,
            json!({"customer_id": t.mine, "currency": "CNY", "lines": [
                {"product_code": "P", "product_name": "P", "quantity": 1, "unit_price_minor": 1, "unit_cost_minor": 0}]}),
        )
        .await;
    assert_eq!(
        error_fields(&body),
        [("customer_id".into(), "not_found".into())]
    );
    let (_, listed) = t.app.get("/api/v1/orders", &t.other_agent).await;
    assert_eq!(listed["items"], json!([]));
}

/// Each merge patch refuses the members it may not touch, every one of them named, and the
/// record keeps its version.
#[actix_web::test]
async fn api3_every_patch_refuses_its_read_only_members() {
    let t = Two::new().await;
    let customer = format!("/api/v1/customers/{}", t.mine);
    let (_, contact) = t
        .app
        .post(
            &format!("{customer}/contacts"),
            &t.agent,
            json!({"name": "王经理"}),
        )
        .await;
    let (_, task) = t
        .app
        .post(
            "/api/v1/tasks",
            &t.agent,
            json!({"kind": "call", "title": "回访", "due_on": "2026-12-01", "customer_id": t.mine}),
        )
        .await;
    let (_, lead) = t
        .app
        .post(
            "/api/v1/leads",
            &t.agent,
            json!({"company_name": "Saigon Pumps", "contact_name": "Tran Binh", "channel": "trade_fair"}),
        )
        .await;
    let cases = [
        (
            format!("{customer}/contacts/{}", id(&contact)),
            &t.agent,
            json!({"id": contact["id"], "name": "李经理"}),
            vec!["id"],
        ),
        (
            format!("/api/v1/tasks/{}", id(&task)),
            &t.agent,
            json!({"id": task["id"], "title": "新标题"}),
            vec!["id"],
        ),
        (
            format!("/api/v1/leads/{}", id(&lead)),
            &t.agent,
            json!({"stage": "qualified", "customer_id": t.mine, "contact_name": "X"}),
            vec!["stage", "customer_id"],
        ),
        (
            "/api/v1/settings".to_owned(),
            &t.admin,
            json!({"today": "2030-01-01", "version": 9, "time_zone": "UTC"}),
            vec!["today", "version"],
        ),
    ];
    for (path, token, body, fields) in cases {
        let (_, before) = t.app.get(&path, token).await;
        let (status, answer) = read(t.app.patch(&path, token, "*", body).await).await;
        let expected: Vec<_> = fields.iter().map(|f| (*f, "read_only")).collect();
        assert_invalid(status, &answer, &expected);
        let (_, after) = t.app.get(&path, token).await;
        assert_eq!(after, before, "{path}: nothing written");
    }
}

#[actix_web::test]
async fn api3_read_only_and_secret_properties() {
    let t = Two::new().await;
    let c = format!("/api/v1/customers/{}", t.mine);
    for field in [
        "owner_id",
        "sales_unit_id",
        "credit_review_due_since",
        "credit_data_refreshed_at",
        "version",
        "created_by",
    ] {
        let (status, body) = read(
            t.app
                .patch(&c, &t.agent, "*", json!({ field: Value::Null }))
                .await,
        )
        .await;
        assert_problem(
            status,
            &body,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        );
        assert_eq!(
            error_fields(&body),
            [(field.to_owned(), "read_only".to_owned())]
        );
    }
    let (_, order) = t
        .app
        .post(
            "/api/v1/orders",
            &t.agent,
            json!({"customer_id": t.mine, "currency": "CNY", "lines": [
                {"product_code": "P", "product_name": "P", "quantity": 1, "unit_price_minor": 100, "unit_cost_minor": 0}]}),
        )
        .await;
    let o = format!("/api/v1/orders/{}", id(&order));
    for (field, value) in [("status", json!("paid")), ("customer_id", json!(t.mine))] {
        let (status, body) = read(
            t.app
                .patch(&o, &t.agent, "*", json!({ field: value }))
                .await,
        )
        .await;
        assert_eq!(
            error_fields(&body),
            [(field.to_owned(), "read_only".to_owned())],
            "{status}"
        );
    }
    // Totals are computed, never taken from the client.
    let (status, body) = read(
        t.app
            .patch(
                &o,
                &t.agent,
                "*",
                json!({"totals": {"amount": {"amount_minor": 1, "currency": "CNY"}}}),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{body}");
    let (_, unchanged) = t.app.get(&o, &t.agent).await;
    assert_eq!(unchanged["totals"]["amount"]["amount_minor"], 100);
    // A viewer writes nothing; no user answer carries a password hash.
    let (_, viewer) = t.app.user(&t.admin, "viewer", "viewer", None).await;
    let (status, _) = read(t.app.patch(&c, &viewer, "*", json!({"region": "x"})).await).await;
    assert_eq!(status, StatusCode::FORBIDDEN);
    let users = t.app.walk("/api/v1/users", &t.admin).await;
    let text = users.to_string();
    assert!(
        !text.contains("password") && !text.contains("$argon2"),
        "{text}"
    );
}

#[actix_web::test]
async fn api4_every_size_is_bounded() {
    let t = Two::new().await;
    for list in [
        "/api/v1/customers",
        "/api/v1/orders",
        "/api/v1/leads",
        "/api/v1/tasks",
    ] {
        let (status, body) = t.app.get(&format!("{list}?limit=201"), &t.admin).await;
        assert_problem(status, &body, StatusCode::BAD_REQUEST, "invalid_query");
    }
    let line = json!({"product_code": "P", "product_name": "P", "quantity": 1, "unit_price_minor": 1, "unit_cost_minor": 0});
    let lines: Vec<Value> = (0..501).map(|_| line.clone()).collect();
    let (_, body) = t
        .app
        .post(
            "/api/v1/orders",
            &t.admin,
            json!({"customer_id": t.mine, "currency": "CNY", "lines": lines}),
        )
        .await;
    assert_eq!(
        error_fields(&body),
        [("lines".into(), "out_of_range".into())]
    );
    let leads: Vec<Value> = (0..1001)
        .map(|i| json!({"company_name": format!("C{i}"), "channel": "other"}))
        .collect();
    let (_, body) = t
        .app
        .post("/api/v1/leads:batch", &t.admin, json!({"leads": leads}))
        .await;
    assert_eq!(
        error_fields(&body),
        [("leads".into(), "out_of_range".into())]
    );
    let huge = "x".repeat(2 << 20);
    let (status, body) = t
        .app
        .post(
            &format!("/api/v1/customers/{}/notes", t.mine),
            &t.admin,
            json!({"department": "sales", "body": huge}),
        )
        .await;
    assert_problem(
        status,
        &body,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    );
    let long = "x".repeat(5001);
    let (_, body) = t
        .app
        .post(
            &format!("/api/v1/customers/{}/notes", t.mine),
            &t.admin,
            json!({"department": "sales", "body": long}),
        )
        .await;
    assert_eq!(error_fields(&body), [("body".into(), "too_long".into())]);
    let (status, body) = t
        .app
        .get(
            "/api/v1/me/visits?from=2026-01-01T00:00:00Z&to=2027-01-01T00:00:00Z",
            &t.agent,
        )
        .await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "invalid_query");
    let many: Vec<String> = (0..51).map(|_| uuid::Uuid::new_v4().to_string()).collect();
    let (_, body) = t
        .app
        .post(
            &format!("/api/v1/customers/{}/interactions", t.mine),
            &t.agent,
            json!({"channel": "call", "direction": "inbound", "summary": "s", "participants": {"contact_ids": many}}),
        )
        .await;
    assert_eq!(
        error_fields(&body)[0],
        ("participants.contact_ids".into(), "too_many".into())
    );
}

#[actix_web::test]
async fn api5_functions_above_the_role_are_forbidden() {
    let t = Two::new().await;
    let calls = [
        (
            Method::POST,
            "/api/v1/users".to_owned(),
            json!({"username": "x.y", "display_name": "x", "role": "admin", "password": PASSWORD}),
        ),
        (
            Method::POST,
            "/api/v1/sales-units".to_owned(),
            json!({"code": "ZZ", "name": "z"}),
        ),
        (
            Method::POST,
            format!("/api/v1/customers/{}/transfer", t.mine),
            json!({"new_owner_id": uuid::Uuid::new_v4(), "reason": "r"}),
        ),
    ];
    for (method, path, body) in calls {
        let (status, answer) = t.app.send(method, &path, &t.agent, Some(body)).await;
        assert_problem(status, &answer, StatusCode::FORBIDDEN, "forbidden");
    }
    // An agent cannot make itself an admin either.
    let (_, me) = t.app.get("/api/v1/me", &t.agent).await;
    let (status, _) = read(
        t.app
            .patch(
                &format!("/api/v1/users/{}", id(&me)),
                &t.agent,
                "*",
                json!({"role": "admin"}),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::FORBIDDEN);
}

#[actix_web::test]
async fn api6_a_claim_is_decided_once() {
    let t = Two::new().await;
    let order = t
        .app
        .order(
            &t.admin,
            json!({"customer_id": t.mine, "currency": "CNY", "lines": [
                {"product_code": "P", "product_name": "P", "quantity": 1, "unit_price_minor": 100, "unit_cost_minor": 0}]}),
        )
        .await;
    let o = format!("/api/v1/orders/{}", id(&order));
    let (status, confirmed) = t
        .app
        .post(&format!("{o}/confirm"), &t.admin, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{confirmed}");
    let (status, shipped) = t.app.post(&format!("{o}/ship"), &t.admin, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{shipped}");
    let (_, claim) = t
        .app
        .post(
            &format!("{o}/claims"),
            &t.agent,
            json!({"amount_minor": 50, "reason": "r"}),
        )
        .await;
    let decision = format!("{o}/claims/{}/decision", id(&claim));
    let answers = futures_util::future::join_all((0..6).map(|i| {
        t.app
            .post(&decision, &t.admin, json!({"accepted": i % 2 == 0}))
    }))
    .await;
    let won = answers.iter().filter(|(s, _)| *s == StatusCode::OK).count();
    let refused = answers
        .iter()
        .filter(|(s, b)| *s == StatusCode::CONFLICT && b["code"] == "claim_already_decided")
        .count();
    assert_eq!((won, refused), (1, 5), "{answers:?}");
}

/// The operations whose request body names a URL.
fn operations_taking_a_url(spec: &Value) -> Vec<String> {
    let mut found = Vec::new();
    for operations in spec["paths"].as_object().unwrap().values() {
        for operation in operations.as_object().unwrap().values() {
            let Some(schema) =
                operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].as_str()
            else {
                continue;
            };
            let name = schema.rsplit('/').next().unwrap();
            let properties = &spec["components"]["schemas"][name]["properties"];
            if properties.as_object().is_some_and(|p| {
                p.iter()
                    .any(|(field, s)| field.contains("url") || s["format"] == "uri")
            }) {
                found.push(operation["operationId"].as_str().unwrap().to_owned());
            }
        }
    }
    found.sort();
    found
}

#[actix_web::test]
async fn api7_the_server_calls_no_private_address_even_when_a_name_turns_to_one() {
    // Webhook receivers are the only URLs the server calls: a new one must get its test here.
    let spec: Value = serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap();
    assert_eq!(
        operations_taking_a_url(&spec),
        ["createWebhook", "updateWebhook"]
    );
    assert!(spec.get("callbacks").is_none());

    // Registration refuses private receivers (`webhooks::receivers_on_private_addresses_...`);
    // a name checked then may resolve to a private address later (DNS rebinding), so each
    // delivery judges the addresses again and calls none of them.
    let app = TestApp::spawn_with(|s| {
        s.webhooks.allow_private = false;
        s.webhooks.senders = 1;
    })
    .await;
    let admin = app.admin_token().await;
    let receiver = Receiver::start(vec![]).await;
    let made = endpoint(&app, &admin, "https://hooks.credo.invalid/in", &["*"]).await;
    let id = made["id"].as_str().unwrap().to_owned();
    let port = receiver.url.split(':').nth(2).unwrap().to_owned();
    let turned = format!("https://localhost:{port}");
    let endpoint_id = id.clone();
    crate::jobs::db_run(&app, move |conn| {
        use credo_store::schema::webhook_endpoints;
        use diesel::prelude::*;
        diesel::update(webhook_endpoints::table.find(endpoint_id))
            .set(webhook_endpoints::url.eq(turned))
            .execute(conn)?;
        Ok(())
    })
    .await;
    let (status, _) = app
        .post(&format!("/api/v1/webhooks/{id}/test"), &admin, json!({}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let log = attempted_log(&app, &admin, &id).await;
    let attempt = &log[0]["attempts"][0];
    assert!(attempt["status_code"].is_null(), "{attempt}");
    assert!(
        attempt["error"].as_str().unwrap().contains("is a loopback"),
        "{attempt}"
    );
    assert!(receiver.got().is_empty());
}

#[actix_web::test]
async fn api8_errors_reveal_nothing_inside() {
    let t = Two::new().await;
    let probes = [
        t.app
            .request(Method::POST, "/api/v1/customers", Some(&t.admin))
            .header("content-type", "application/json")
            .body("{\"kind\": ")
            .send()
            .await
            .unwrap(),
        t.app
            .request(Method::GET, "/api/v1/customers/not-a-uuid", Some(&t.admin))
            .send()
            .await
            .unwrap(),
        t.app
            .request(
                Method::GET,
                "/api/v1/customers?sort=password",
                Some(&t.admin),
            )
            .send()
            .await
            .unwrap(),
        t.app
            .request(Method::GET, "/api/v1/me", Some("Bearer x.y.z"))
            .send()
            .await
            .unwrap(),
    ];
    for response in probes {
        let headers = response.headers().clone();
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(headers["cache-control"], "no-store");
        assert!(headers.get("server").is_none() && headers.get("x-powered-by").is_none());
        let (status, body) = read(response).await;
        assert!(status.is_client_error(), "{status}");
        let text = body.to_string().to_lowercase();
        for leak in [
            "diesel",
            "panicked",
            "src/",
            "select ",
            "sqlite",
            "postgres",
            "backtrace",
            "actix",
        ] {
            assert!(!text.contains(leak), "{leak} in {text}");
        }
    }
    let (_, ok) = t.app.get("/api/v1/me", &t.admin).await;
    assert!(ok["id"].is_string());
}

#[actix_web::test]
async fn api9_nothing_answers_outside_the_spec() {
    let t = Two::new().await;
    for path in [
        "/api/v2/customers",
        "/api/v0/customers",
        "/api/customers",
        "/admin",
        "/debug",
        "/metrics",
        "/api/v1/debug",
        "/api/v1/config",
        "/api/v1/audit",
        "/api/v1/users/export/all",
        "/.env",
    ] {
        let (status, body) = t.app.get(path, &t.admin).await;
        assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");
    }
    let (_, spec) = t.app.get("/api/v1/openapi.json", &t.admin).await;
    assert_eq!(spec["info"]["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(spec["servers"][0]["url"], "/");
}

#[actix_web::test]
async fn api10_imported_rows_are_checked_one_by_one() {
    let t = Two::new().await;
    let rows = json!([
        {"company_name": "<script>alert(1)</script>", "channel": "trade_fair"},
        {"company_name": "Robert'); DROP TABLE leads;--", "channel": "trade_fair"},
        {"company_name": "x".repeat(201), "channel": "trade_fair"},
        {"company_name": "Typed", "channel": "trade_fair", "man": {"money": "yes"}},
        {"company_name": "Extra", "channel": "trade_fair", "is_admin": true},
        {"company_name": "Bad mail", "channel": "trade_fair", "email": "a@b@c"},
        "not even an object",
    ]);
    let (status, result) = t
        .app
        .post("/api/v1/leads:batch", &t.agent, json!({"leads": rows}))
        .await;
    assert_eq!(status, StatusCode::OK, "{result}");
    let outcomes: Vec<&str> = result["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        ["created", "created", "invalid", "invalid", "invalid", "invalid", "invalid"]
    );
    // Stored as the text it was, returned as JSON; the table is still there.
    let (_, leads) = t.app.get("/api/v1/leads", &t.agent).await;
    let names: Vec<&str> = leads["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["company_name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"<script>alert(1)</script>"), "{names:?}");
    assert_eq!(names.len(), 2);
}
