//! Webhooks (Standard Webhooks 1.0): endpoints managed by admins, events written with the
//! change that causes them, signed deliveries retried on the schedule against a local
//! receiver, and the delivery log.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use actix_web::{web, App, HttpRequest, HttpResponse, HttpServer};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use hmac::{Hmac, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};
use sha2::Sha256;

use crate::common::*;
use crate::orders::order_body;

/// A request the receiver got.
#[derive(Debug, Clone)]
pub struct Received {
    pub id: String,
    pub timestamp: String,
    pub signature: String,
    pub body: String,
    pub at: Instant,
}

impl Received {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
}

/// A local receiver: answers each request with the next scripted status and header, then
/// 200, and keeps what it got.
pub struct Receiver {
    pub url: String,
    got: Arc<Mutex<Vec<Received>>>,
}

type Answer = (u16, Option<(&'static str, &'static str)>);
type Script = Arc<Mutex<VecDeque<Answer>>>;

async fn receive(
    req: HttpRequest,
    body: web::Bytes,
    got: web::Data<Mutex<Vec<Received>>>,
    script: web::Data<Script>,
) -> HttpResponse {
    let header = |name: &str| {
        req.headers()
            .get(name)
            .map(|v| v.to_str().unwrap().to_owned())
            .unwrap_or_default()
    };
    got.lock().unwrap().push(Received {
        id: header("webhook-id"),
        timestamp: header("webhook-timestamp"),
        signature: header("webhook-signature"),
        body: String::from_utf8(body.to_vec()).unwrap(),
        at: Instant::now(),
    });
    let (status, header) = script.lock().unwrap().pop_front().unwrap_or((200, None));
    let mut answer = HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap());
    if let Some(header) = header {
        answer.insert_header(header);
    }
    answer.body(format!("answer {status}"))
}

impl Receiver {
    pub async fn start(script: Vec<Answer>) -> Receiver {
        let got = web::Data::new(Mutex::new(Vec::new()));
        let script: web::Data<Script> = web::Data::new(Arc::new(Mutex::new(script.into())));
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hooks", listener.local_addr().unwrap());
        let (kept, scripted) = (got.clone(), script.clone());
        let server = HttpServer::new(move || {
            App::new()
                .app_data(kept.clone())
                .app_data(scripted.clone())
                .default_service(web::to(receive))
        })
        .workers(1)
        .listen(listener)
        .unwrap()
        .run();
        actix_web::rt::spawn(server);
        Receiver {
            url,
            got: got.into_inner(),
        }
    }

    pub fn got(&self) -> Vec<Received> {
        self.got.lock().unwrap().clone()
    }

    /// Waits until `count` requests came; answers them.
    pub async fn wait_for(&self, count: usize) -> Vec<Received> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let got = self.got();
            if got.len() >= count {
                return got;
            }
            assert!(
                Instant::now() < deadline,
                "only {} of {count}: {got:?}",
                got.len()
            );
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The types of the events received so far.
    pub fn types(&self) -> Vec<String> {
        self.got()
            .iter()
            .map(|r| r.json()["type"].as_str().unwrap().to_owned())
            .collect()
    }
}

/// A server whose senders deliver.
pub async fn sending_app() -> TestApp {
    TestApp::spawn_with(|s| s.webhooks.senders = 2).await
}

/// Registers an endpoint for `types` at `url` as `admin`; answers it with its secret.
pub async fn endpoint(app: &TestApp, admin: &str, url: &str, types: &[&str]) -> Value {
    let (status, made) = app
        .post(
            "/api/v1/webhooks",
            admin,
            json!({"url": url, "event_types": types, "description": "test receiver"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    made
}

/// Whether `signature` (one `v1,<base64>` of a header) signs `message` under `secret`,
/// checked by hand from the Standard Webhooks definition.
fn signs(secret: &str, message: &Received, signature: &str) -> bool {
    let key = BASE64
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).unwrap();
    mac.update(format!("{}.{}.{}", message.id, message.timestamp, message.body).as_bytes());
    let expected = format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()));
    signature == expected
}

async fn deliveries(app: &TestApp, admin: &str, endpoint: &str, query: &str) -> Vec<Value> {
    let page = app
        .walk(
            &format!("/api/v1/webhooks/{endpoint}/deliveries{query}"),
            admin,
        )
        .await;
    page.as_array().unwrap().clone()
}

/// Waits until every delivery of the endpoint has had an attempt; answers the log.
pub async fn attempted_log(app: &TestApp, admin: &str, endpoint: &str) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let log = deliveries(app, admin, endpoint, "").await;
        if log
            .iter()
            .all(|d| !d["attempts"].as_array().unwrap().is_empty() && d["status"] != "sending")
        {
            return log;
        }
        assert!(Instant::now() < deadline, "{log:?}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the endpoint's newest delivery is no longer waiting; answers the log.
async fn settled_log(app: &TestApp, admin: &str, endpoint: &str) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let log = deliveries(app, admin, endpoint, "").await;
        if log
            .iter()
            .all(|d| d["status"] == "delivered" || d["status"] == "failed")
        {
            return log;
        }
        assert!(Instant::now() < deadline, "{log:?}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn admins_register_endpoints_whose_secret_is_shown_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let response = app
        .request(Method::POST, "/api/v1/webhooks", Some(&admin))
        .json(&json!({"url": "https://erp.example.com/credo/webhooks",
                      "event_types": ["customer.updated", "*", "customer.updated"]}))
        .send()
        .await
        .unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let (status, made) = read(response).await;
    assert_eq!(status, StatusCode::CREATED, "{made}");
    let id = made["id"].as_str().unwrap();
    assert_eq!(location, format!("/api/v1/webhooks/{id}"));
    let secret = made["secret"].as_str().unwrap();
    let key = BASE64
        .decode(secret.strip_prefix("whsec_").unwrap())
        .unwrap();
    assert_eq!(key.len(), 32, "{secret}");
    assert_eq!(made["event_types"], json!(["customer.updated", "*"]));
    assert_eq!(
        (&made["enabled"], &made["disabled_reason"]),
        (&json!(true), &Value::Null)
    );

    // Read back: everything but the secret.
    let response = app
        .request(Method::GET, &location, Some(&admin))
        .send()
        .await
        .unwrap();
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let (status, read_back) = read(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read_back.get("secret"), None, "{read_back}");
    assert_eq!(read_back["url"], "https://erp.example.com/credo/webhooks");
    let listed = app.walk("/api/v1/webhooks", &admin).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert_eq!(listed[0].get("secret"), None);

    // A merge patch with If-Match: every patched field survives.
    let response = app
        .request(Method::PATCH, &location, Some(&admin))
        .json(&json!({"enabled": false}))
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_problem(
        status,
        &body,
        StatusCode::PRECONDITION_REQUIRED,
        "if_match_required",
    );
    let patched = app
        .patch(
            &location,
            &admin,
            &etag,
            json!({"event_types": ["order.paid"], "description": "ERP", "enabled": false,
                   "url": "https://erp.example.com/hooks/v2"}),
        )
        .await;
    let (status, patched) = read(patched).await;
    assert_eq!(status, StatusCode::OK, "{patched}");
    assert_eq!(patched["event_types"], json!(["order.paid"]));
    assert_eq!(patched["description"], "ERP");
    assert_eq!(patched["url"], "https://erp.example.com/hooks/v2");
    assert_eq!(
        (&patched["enabled"], &patched["disabled_reason"]),
        (&json!(false), &json!("disabled by an admin"))
    );
    let (_, again) = app.get(&location, &admin).await;
    assert_eq!(again, patched);
    let stale = app
        .patch(&location, &admin, &etag, json!({"description": "late"}))
        .await;
    let (status, body) = read(stale).await;
    assert_problem(
        status,
        &body,
        StatusCode::PRECONDITION_FAILED,
        "version_mismatch",
    );

    // Bad input is 422 with the offending fields, and nothing is written.
    let (status, body) = app
        .post(
            "/api/v1/webhooks",
            &admin,
            json!({"url": "https://erp.example.com/x", "event_types": ["order.paid", "order.lost"]}),
        )
        .await;
    assert_invalid(status, &body, &[("event_types[1]", "invalid_value")]);
    let (status, body) = app
        .post(
            "/api/v1/webhooks",
            &admin,
            json!({"url": "not a url", "event_types": []}),
        )
        .await;
    assert_invalid(
        status,
        &body,
        &[("url", "invalid_value"), ("event_types", "required")],
    );
    assert_eq!(
        app.walk("/api/v1/webhooks", &admin)
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Only admins manage them; deleting one makes it gone.
    let (_, agent) = app.user(&admin, "agent.one", "agent", None).await;
    let (status, body) = app.get("/api/v1/webhooks", &agent).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let deleted = app
        .request(Method::DELETE, &location, Some(&admin))
        .send()
        .await
        .unwrap();
    assert_eq!(deleted.status(), StatusCode::NO_CONTENT);
    let (status, body) = app.get(&location, &admin).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");
}

#[actix_web::test]
async fn receivers_on_private_addresses_or_without_https_are_refused() {
    let app = TestApp::spawn_with(|s| s.webhooks.allow_private = false).await;
    let admin = app.admin_token().await;
    for url in [
        "https://127.0.0.1/hooks",
        "https://10.0.0.8/hooks",
        "https://[::1]:8443/hooks",
        "https://169.254.169.254/latest/meta-data",
        "https://localhost/hooks",
        "http://erp.example.com/hooks",
    ] {
        let (status, body) = app
            .post(
                "/api/v1/webhooks",
                &admin,
                json!({"url": url, "event_types": ["*"]}),
            )
            .await;
        assert_problem(
            status,
            &body,
            StatusCode::UNPROCESSABLE_ENTITY,
            "webhook_url_not_allowed",
        );
        assert_eq!(
            error_fields(&body),
            [("url".to_owned(), "not_allowed".to_owned())],
            "{url}"
        );
    }
    assert_eq!(app.walk("/api/v1/webhooks", &admin).await, json!([]));
}

#[actix_web::test]
async fn a_committed_change_is_sent_signed_with_the_record_as_its_get_answers() {
    let app = sending_app().await;
    let admin = app.admin_token().await;
    let receiver = Receiver::start(vec![]).await;
    let made = endpoint(
        &app,
        &admin,
        &receiver.url,
        &["customer.created", "customer.updated", "customer.archived"],
    )
    .await;
    let secret = made["secret"].as_str().unwrap();

    let customer = app.organization(&admin, "深圳市华强电子有限公司").await;
    // Not subscribed: an order is not sent.
    app.order(&admin, order_body(&customer, "2026-01-10")).await;
    let got = receiver.wait_for(1).await;
    let message = &got[0];
    assert!(message.id.starts_with("msg_"), "{message:?}");
    let sent_at: i64 = message.timestamp.parse().unwrap();
    assert!((chrono::Utc::now().timestamp() - sent_at).abs() < 60);
    assert!(signs(secret, message, &message.signature), "{message:?}");
    let event = message.json();
    assert_eq!(event["type"], "customer.created");
    assert!(event["timestamp"].as_str().is_some());
    let (_, now) = app
        .get(&format!("/api/v1/customers/{customer}"), &admin)
        .await;
    assert_eq!(event["data"], now);

    // The log shows the delivery and its attempt.
    let id = made["id"].as_str().unwrap();
    let log = settled_log(&app, &admin, id).await;
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(
        (
            &log[0]["event_id"],
            &log[0]["event_type"],
            &log[0]["status"]
        ),
        (
            &json!(message.id),
            &json!("customer.created"),
            &json!("delivered")
        )
    );
    let attempts = log[0]["attempts"].as_array().unwrap();
    assert_eq!(attempts.len(), 1);
    assert_eq!(
        (&attempts[0]["status_code"], &attempts[0]["response"]),
        (&json!(200), &json!("answer 200"))
    );
    let delivered = deliveries(&app, &admin, id, "?status=delivered").await;
    assert_eq!(delivered.len(), 1);
    assert_eq!(
        deliveries(&app, &admin, id, "?status=failed").await.len(),
        0
    );

    // A refused write sends nothing: a patch that breaks a rule is rolled back whole.
    let (_, current) = app
        .get(&format!("/api/v1/customers/{customer}"), &admin)
        .await;
    let etag = format!("\"{}\"", current["version"]);
    let refused = app
        .patch(
            &format!("/api/v1/customers/{customer}"),
            &admin,
            &etag,
            json!({"uscc": "not a uscc"}),
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let accepted = app
        .patch(
            &format!("/api/v1/customers/{customer}"),
            &admin,
            &etag,
            json!({"industry": "electronics"}),
        )
        .await;
    assert_eq!(accepted.status(), StatusCode::OK);
    let got = receiver.wait_for(2).await;
    assert_eq!(got[1].json()["data"]["industry"], "electronics");
    let archived = app
        .request(
            Method::DELETE,
            &format!("/api/v1/customers/{customer}"),
            Some(&admin),
        )
        .send()
        .await
        .unwrap();
    assert!(archived.status().is_success(), "{archived:?}");
    let (_, archived) = app
        .get(&format!("/api/v1/customers/{customer}"), &admin)
        .await;
    let got = receiver.wait_for(3).await;
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        receiver.types(),
        ["customer.created", "customer.updated", "customer.archived"]
    );
    assert_eq!(got[2].json()["data"], archived);
}

#[actix_web::test]
async fn a_refused_order_step_sends_the_blocked_check_and_no_step() {
    let app = sending_app().await;
    let admin = app.admin_token().await;
    let receiver = Receiver::start(vec![]).await;
    endpoint(
        &app,
        &admin,
        &receiver.url,
        &["order.confirmed", "credit.check_blocked", "order.created"],
    )
    .await;
    let customer = app.organization(&admin, "No Line Co").await;
    // No credit line: confirming blocks.
    let (status, order) = app
        .post(
            "/api/v1/orders",
            &admin,
            order_body(&customer, "2026-01-10"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    let (status, body) = app.step(&admin, &order, "confirm").await;
    assert_problem(status, &body, StatusCode::CONFLICT, "credit_limit_exceeded");
    receiver.wait_for(2).await;
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    // Senders work in parallel: two events may arrive in either order.
    let mut types = receiver.types();
    types.sort();
    assert_eq!(types, ["credit.check_blocked", "order.created"]);
    let blocked = receiver
        .got()
        .iter()
        .map(Received::json)
        .find(|event| event["type"] == "credit.check_blocked")
        .unwrap()["data"]
        .clone();
    assert_eq!(blocked["customer_id"], json!(customer));
    assert_eq!(blocked["order_id"], order["id"]);
    assert_eq!(blocked["check"], body["credit_check"]);
    let (_, still) = app
        .get(
            &format!("/api/v1/orders/{}", order["id"].as_str().unwrap()),
            &admin,
        )
        .await;
    assert_eq!(still["status"], "quoted");
}

#[actix_web::test]
async fn failures_are_retried_as_the_receiver_asks_until_delivered() {
    let app = sending_app().await;
    let admin = app.admin_token().await;
    // A redirect is not followed: it is a failure like any other answer but 2xx.
    let receiver = Receiver::start(vec![
        (307, Some(("Location", "/elsewhere"))),
        (429, Some(("Retry-After", "1"))),
    ])
    .await;
    let made = endpoint(&app, &admin, &receiver.url, &["task.created"]).await;
    let id = made["id"].as_str().unwrap();
    let (status, queued) = app
        .post(&format!("/api/v1/webhooks/{id}/test"), &admin, json!({}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
    let got = receiver.wait_for(3).await;
    // One event, three attempts under its id: about 5 s after the first, then as
    // Retry-After said.
    assert!(got.iter().all(|r| r.id == queued["event_id"]), "{got:?}");
    assert_eq!(got[0].json()["type"], "webhook.test");
    let first_wait = got[1].at - got[0].at;
    assert!(
        first_wait >= Duration::from_millis(4400) && first_wait < Duration::from_secs(8),
        "{first_wait:?}"
    );
    let second_wait = got[2].at - got[1].at;
    assert!(
        second_wait >= Duration::from_millis(900) && second_wait < Duration::from_secs(4),
        "{second_wait:?}"
    );
    let log = settled_log(&app, &admin, id).await;
    assert_eq!(log[0]["status"], "delivered");
    let codes: Vec<&Value> = log[0]["attempts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| &a["status_code"])
        .collect();
    assert_eq!(codes, [&json!(307), &json!(429), &json!(200)]);
    assert!(got.iter().all(|r| r.body == got[0].body));

    // Replays send the same event again under its id.
    let (status, replayed) = app
        .post(
            &format!("/api/v1/webhooks/{id}/replay"),
            &admin,
            json!({"event_ids": [queued["event_id"]]}),
        )
        .await;
    assert_eq!(
        (status, &replayed["queued"]),
        (StatusCode::ACCEPTED, &json!(1))
    );
    let got = receiver.wait_for(4).await;
    assert_eq!(got[3].id, got[0].id);
    let (status, body) = app
        .post(
            &format!("/api/v1/webhooks/{id}/replay"),
            &admin,
            json!({"event_ids": [queued["event_id"], "msg_unknown"]}),
        )
        .await;
    assert_invalid(status, &body, &[("event_ids[1]", "not_found")]);
    let (status, body) = app
        .post(&format!("/api/v1/webhooks/{id}/replay"), &admin, json!({}))
        .await;
    assert_invalid(status, &body, &[("since", "conflicting")]);
}

#[actix_web::test]
async fn gone_disables_the_endpoint_and_enabling_it_clears_the_reason() {
    let app = sending_app().await;
    let admin = app.admin_token().await;
    let receiver = Receiver::start(vec![(410, None)]).await;
    let made = endpoint(&app, &admin, &receiver.url, &["customer.created"]).await;
    let id = made["id"].as_str().unwrap();
    app.organization(&admin, "First Co").await;
    receiver.wait_for(1).await;
    let log = settled_log(&app, &admin, id).await;
    assert_eq!(log[0]["status"], "failed");
    let path = format!("/api/v1/webhooks/{id}");
    let response = app
        .request(Method::GET, &path, Some(&admin))
        .send()
        .await
        .unwrap();
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let (_, disabled) = read(response).await;
    assert_eq!(
        (&disabled["enabled"], &disabled["disabled_reason"]),
        (&json!(false), &json!("the receiver answered 410 Gone"))
    );
    // Disabled: nothing more is sent.
    let before_second = chrono::Utc::now();
    app.organization(&admin, "Second Co").await;
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(receiver.got().len(), 1);

    let enabled = app
        .patch(&path, &admin, &etag, json!({"enabled": true}))
        .await;
    let (status, enabled) = read(enabled).await;
    assert_eq!(status, StatusCode::OK, "{enabled}");
    assert_eq!(
        (&enabled["enabled"], &enabled["disabled_reason"]),
        (&json!(true), &Value::Null)
    );
    // Enabled: what happens now is sent; what happened meanwhile was kept, not sent...
    app.organization(&admin, "Third Co").await;
    let got = receiver.wait_for(2).await;
    assert_eq!(got[1].json()["data"]["legal_name"], "Third Co");
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(receiver.got().len(), 2);
    // ... until a replay since then asks for it (the kept Third Co goes again beside it).
    let (status, replayed) = app
        .post(
            &format!("{path}/replay"),
            &admin,
            json!({"since": before_second}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{replayed}");
    assert_eq!(replayed["queued"], 2);
    let got = receiver.wait_for(4).await;
    let mut names: Vec<Value> = got[2..]
        .iter()
        .map(|r| r.json()["data"]["legal_name"].clone())
        .collect();
    names.sort_by_key(Value::to_string);
    assert_eq!(names, [json!("Second Co"), json!("Third Co")]);
}

#[actix_web::test]
async fn after_a_rotation_the_old_secret_signs_beside_the_new_one() {
    let app = sending_app().await;
    let admin = app.admin_token().await;
    let receiver = Receiver::start(vec![]).await;
    let made = endpoint(&app, &admin, &receiver.url, &["*"]).await;
    let (id, old) = (
        made["id"].as_str().unwrap(),
        made["secret"].as_str().unwrap(),
    );
    let (status, rotated) = app
        .post(
            &format!("/api/v1/webhooks/{id}/rotate-secret"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{rotated}");
    let new = rotated["secret"].as_str().unwrap();
    assert_ne!(new, old);
    assert!(rotated["previous_secret_expires_at"].as_str().is_some());
    app.post(&format!("/api/v1/webhooks/{id}/test"), &admin, json!({}))
        .await;
    let got = receiver.wait_for(1).await;
    let signatures: Vec<&str> = got[0].signature.split(' ').collect();
    assert_eq!(signatures.len(), 2, "{signatures:?}");
    assert!(signs(new, &got[0], signatures[0]));
    assert!(signs(old, &got[0], signatures[1]));
}

#[actix_web::test]
async fn an_endpoint_failing_every_delivery_for_five_days_is_disabled() {
    let app = sending_app().await;
    let admin = app.admin_token().await;
    let receiver = Receiver::start(vec![(500, None), (500, None)]).await;
    let made = endpoint(&app, &admin, &receiver.url, &["*"]).await;
    let id = made["id"].as_str().unwrap().to_owned();
    let path = format!("/api/v1/webhooks/{id}");
    // A failure starts the streak; the endpoint stays enabled.
    app.post(&format!("{path}/test"), &admin, json!({})).await;
    receiver.wait_for(1).await;
    let log = attempted_log(&app, &admin, &id).await;
    assert_eq!(log[0]["status"], "pending", "{log:?}");
    let (_, still) = app.get(&path, &admin).await;
    assert_eq!(still["enabled"], true);
    // Five days into the streak, the next failure disables it.
    let streak = id.clone();
    crate::jobs::db_run(&app, move |conn| {
        use credo_store::schema::webhook_endpoints;
        use diesel::prelude::*;
        let started = (chrono::Utc::now() - chrono::Duration::days(5)).naive_utc();
        diesel::update(webhook_endpoints::table.find(streak))
            .set(webhook_endpoints::failing_since.eq(started))
            .execute(conn)?;
        Ok(())
    })
    .await;
    app.post(&format!("{path}/test"), &admin, json!({})).await;
    receiver.wait_for(2).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, endpoint) = app.get(&path, &admin).await;
        if endpoint["enabled"] == false {
            assert_eq!(
                endpoint["disabled_reason"],
                "every delivery failed for 5 days"
            );
            break;
        }
        assert!(Instant::now() < deadline, "{endpoint}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn a_test_or_replay_retried_with_its_key_queues_once_and_logs_documented_types() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let made = endpoint(&app, &admin, "http://127.0.0.1:9/hooks", &["*"]).await;
    let path = format!("/api/v1/webhooks/{}", made["id"].as_str().unwrap());
    let send = |action: &str, key: &str, body: Value| {
        app.request(Method::POST, &format!("{path}/{action}"), Some(&admin))
            .header("Idempotency-Key", key.to_owned())
            .json(&body)
            .send()
    };
    let first = read(send("test", "test-1", json!({})).await.unwrap()).await;
    let again = read(send("test", "test-1", json!({})).await.unwrap()).await;
    assert_eq!(first.0, StatusCode::ACCEPTED, "{}", first.1);
    assert_eq!(first, again, "a retried test queued another event");
    let log = deliveries(&app, &admin, made["id"].as_str().unwrap(), "").await;
    assert_eq!(log.len(), 1, "{log:?}");
    let (status, body) = read(send("test", "tab\tkey", json!({})).await.unwrap()).await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "invalid_header");

    let since = json!({"since": "2020-01-01T00:00:00Z"});
    let first = read(send("replay", "replay-1", since.clone()).await.unwrap()).await;
    let again = read(send("replay", "replay-1", since).await.unwrap()).await;
    assert_eq!(first, again);
    assert_eq!(first.1["queued"], 1, "{}", first.1);
    // A replay sends the kept delivery again: still one.
    let log = deliveries(&app, &admin, made["id"].as_str().unwrap(), "").await;
    assert_eq!(log.len(), 1, "{log:?}");

    // The log's types are the spec's.
    let (_, spec) = app.get("/api/v1/openapi.json", &admin).await;
    let documented = spec["components"]["schemas"]["EventType"]["enum"]
        .as_array()
        .unwrap()
        .clone();
    for delivery in &log {
        assert!(documented.contains(&delivery["event_type"]), "{delivery}");
    }
    assert!(documented.contains(&json!("customer.grade_changed")));
}

#[actix_web::test]
async fn a_gone_in_a_batch_disables_its_endpoint_whatever_follows_it() {
    // One sender: both deliveries are claimed, sent and recorded in one batch.
    let app = TestApp::spawn_with(|s| s.webhooks.senders = 1).await;
    let admin = app.admin_token().await;
    let receiver = Receiver::start(vec![(410, None), (500, None)]).await;
    let made = endpoint(&app, &admin, &receiver.url, &["*"]).await;
    let path = format!("/api/v1/webhooks/{}", made["id"].as_str().unwrap());
    let disabled = app
        .patch(&path, &admin, "*", json!({"enabled": false}))
        .await;
    assert_eq!(disabled.status(), StatusCode::OK);
    for _ in 0..2 {
        let (status, _) = app.post(&format!("{path}/test"), &admin, json!({})).await;
        assert_eq!(status, StatusCode::ACCEPTED);
    }
    let enabled = app
        .patch(&path, &admin, "*", json!({"enabled": true}))
        .await;
    assert_eq!(enabled.status(), StatusCode::OK);
    receiver.wait_for(2).await;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, endpoint) = app.get(&path, &admin).await;
        if endpoint["enabled"] == false {
            assert_eq!(
                endpoint["disabled_reason"],
                "the receiver answered 410 Gone"
            );
            break;
        }
        assert!(Instant::now() < deadline, "still enabled: {endpoint}");
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}
