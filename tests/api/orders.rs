//! Sales orders: exact totals, the status machine, quotation edits, lists and scope, claims
//! and new-product trials.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::*;

pub fn line(code: &str, quantity: i64, price: i64, cost: i64) -> Value {
    json!({"product_code": code, "product_name": format!("Product {code}"), "quantity": quantity,
           "unit_price_minor": price, "unit_cost_minor": cost})
}

pub fn order_body(customer: &str, ordered_on: &str) -> Value {
    json!({"customer_id": customer, "currency": "CNY", "ordered_on": ordered_on,
           "prepayment_bp": 3000, "credit_days": 60,
           "lines": [line("CX-200", 2, 45_000_000, 36_000_000), line("KIT", 3, 333, 100)]})
}

impl TestApp {
    /// Creates an order and returns its body; the customer gets a credit line in the order's
    /// currency first when it has none, so that the order's steps pass the credit check.
    pub async fn order(&self, token: &str, body: Value) -> Value {
        let customer = body["customer_id"].as_str().unwrap();
        self.ensure_credit_line(customer, body["currency"].as_str().unwrap())
            .await;
        let (status, created) = self.post("/api/v1/orders", token, body).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        created
    }

    /// Gives the customer a generous credit line in `currency` (carried over by the admin)
    /// unless it has one.
    pub async fn ensure_credit_line(&self, customer: &str, currency: &str) {
        let admin = self.admin().await;
        let (status, credit) = self
            .get(&format!("/api/v1/customers/{customer}/credit"), &admin)
            .await;
        assert_eq!(status, StatusCode::OK, "{credit}");
        let has_line = credit["agreements"]
            .as_array()
            .unwrap()
            .iter()
            .any(|line| line["currency"] == currency);
        if !has_line {
            self.carried_over_line(&admin, customer, currency, 1_000_000_000_000)
                .await;
        }
    }

    /// Records a line carried over from an old system (60 days' credit, twelve months from
    /// today) as `token`, and returns it.
    pub async fn carried_over_line(
        &self,
        token: &str,
        customer: &str,
        currency: &str,
        limit_minor: i64,
    ) -> Value {
        let line = json!({"customer_id": customer, "currency": currency,
                          "limit_minor": limit_minor, "term_days": 60, "reason": "旧系统额度"});
        let (status, body) = self.post("/api/v1/credit/agreements", token, line).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body
    }

    /// Moves an order one step (`confirm`, `ship` ...) without a body.
    pub async fn step(&self, token: &str, order: &Value, step: &str) -> (StatusCode, Value) {
        let path = format!("/api/v1/orders/{}/{step}", order["id"].as_str().unwrap());
        read(
            self.request(Method::POST, &path, Some(token))
                .send()
                .await
                .unwrap(),
        )
        .await
    }
}

#[actix_web::test]
async fn totals_are_computed_exactly_from_the_lines() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "Acme").await;
    let response = app
        .request(Method::POST, "/api/v1/orders", Some(&admin))
        .json(&order_body(&customer, "2026-01-10"))
        .send()
        .await
        .unwrap();
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let (status, order) = read(response).await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    assert_eq!(etag, "\"1\"");
    assert_eq!(order["status"], "quoted");
    assert_eq!(
        order["totals"]["amount"],
        json!({"amount_minor": 90_000_999, "currency": "CNY"})
    );
    assert_eq!(order["totals"]["cost"]["amount_minor"], 72_000_300);
    assert_eq!(order["totals"]["profit"]["amount_minor"], 18_000_699);
    assert_eq!(order["totals"]["profit_rate_bp"], 2000);
    assert_eq!(order["lines"][0]["amount_minor"], 90_000_000);
    assert_eq!(order["lines"][1]["cost_minor"], 300);
    assert_eq!(
        (order["prepayment_bp"].clone(), order["credit_days"].clone()),
        (json!(3000), json!(60))
    );
    let (_, me) = app.get("/api/v1/me", &admin).await;
    assert_eq!(order["owner_id"], me["id"]);
    let (status, fetched) = app.get(&location, &admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(fetched, order);
}

#[actix_web::test]
async fn bad_orders_are_refused_with_every_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "Acme").await;
    let bad = json!({"customer_id": customer, "currency": "XXX", "ordered_on": "2999-01-01",
                     "prepayment_bp": 10001, "credit_days": -1,
                     "lines": [line("", 0, -1, 0)]});
    let (status, body) = app.post("/api/v1/orders", &admin, bad).await;
    assert_problem(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    let fields: Vec<String> = error_fields(&body).into_iter().map(|(f, _)| f).collect();
    assert_eq!(
        fields,
        [
            "currency",
            "ordered_on",
            "prepayment_bp",
            "credit_days",
            "lines[0].product_code",
            "lines[0].quantity",
            "lines[0].unit_price_minor"
        ]
    );
    let empty = json!({"customer_id": customer, "currency": "CNY", "lines": []});
    let (status, body) = app.post("/api/v1/orders", &admin, empty).await;
    assert_invalid(status, &body, &[("lines", "out_of_range")]);
    let huge = json!({"customer_id": customer, "currency": "CNY",
                      "lines": [line("A", 1_000_000_000, 10_000_000_000_000, 0)]});
    let (status, body) = app.post("/api/v1/orders", &admin, huge).await;
    assert_eq!(
        error_fields(&body),
        [("lines[0]".into(), "too_large".into())],
        "{status}"
    );
    // Beyond 2^53 - 1 minor units, which JavaScript clients could not hold exactly.
    let beyond = json!({"customer_id": customer, "currency": "CNY",
                        "lines": [line("A", 1_000_000, 9_007_199_255, 0)]});
    let (status, body) = app.post("/api/v1/orders", &admin, beyond).await;
    assert_invalid(status, &body, &[("lines[0]", "too_large")]);
    let half = line("A", 1_000_000, 5_000_000_000, 0);
    let summed = json!({"customer_id": customer, "currency": "CNY", "lines": [half, half]});
    let (status, body) = app.post("/api/v1/orders", &admin, summed).await;
    assert_eq!(
        error_fields(&body),
        [("lines".into(), "too_large".into())],
        "{status}"
    );
    let nobody = order_body(&uuid::Uuid::new_v4().to_string(), "2026-01-10");
    let (status, body) = app.post("/api/v1/orders", &admin, nobody).await;
    assert_invalid(status, &body, &[("customer_id", "not_found")]);
    let (status, _) = app
        .send(
            Method::DELETE,
            &format!("/api/v1/customers/{customer}"),
            &admin,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = app
        .post(
            "/api/v1/orders",
            &admin,
            order_body(&customer, "2026-01-10"),
        )
        .await;
    assert_eq!(
        error_fields(&body),
        [("customer_id".into(), "archived".into())]
    );
    let (status, orders) = app.get("/api/v1/orders", &admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(orders["items"], json!([]), "nothing half-written");
}

#[actix_web::test]
async fn orders_move_through_the_status_machine_only() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "Acme").await;
    let order = app.order(&admin, order_body(&customer, "2026-01-10")).await;
    let id = order["id"].as_str().unwrap();
    let (status, body) = app.step(&admin, &order, "ship").await;
    assert_problem(status, &body, StatusCode::CONFLICT, "invalid_transition");
    assert!(
        body["detail"].as_str().unwrap().contains("confirmed"),
        "{body}"
    );
    let (status, body) = app.step(&admin, &order, "cancel").await;
    assert_invalid(status, &body, &[("reason", "required")]);
    // Each step takes its own members and no other step's.
    let (status, body) = app
        .post(
            &format!("/api/v1/orders/{id}/confirm"),
            &admin,
            json!({"reason": "x", "completed_on": "2026-01-12"}),
        )
        .await;
    assert_invalid(
        status,
        &body,
        &[
            ("completed_on", "unknown_field"),
            ("reason", "unknown_field"),
        ],
    );
    let (status, confirmed) = app
        .post(
            &format!("/api/v1/orders/{id}/confirm"),
            &admin,
            json!({"on": "2026-01-12"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{confirmed}");
    assert_eq!(
        (
            confirmed["status"].as_str(),
            confirmed["confirmed_on"].as_str()
        ),
        (Some("confirmed"), Some("2026-01-12"))
    );
    assert_eq!(confirmed["version"], 2);
    let (status, body) = app
        .post(
            &format!("/api/v1/orders/{id}/start-production"),
            &admin,
            json!({"on": "2026-01-11"}),
        )
        .await;
    assert_invalid(status, &body, &[("on", "before_earlier_date")]);
    let (status, _) = app.step(&admin, &order, "start-production").await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = app
        .post(
            &format!("/api/v1/orders/{id}/ship"),
            &admin,
            json!({"on": company_today(), "completed_on": "2026-02-01"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["shipped_on"].as_str(), body["completed_on"].as_str()),
        (Some(company_today().as_str()), Some("2026-02-01"))
    );
    let (status, body) = app
        .post(
            &format!("/api/v1/orders/{id}/cancel"),
            &admin,
            json!({"reason": "too late"}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT, "invalid_transition");
    for (step, status_after, date) in [
        ("invoice", "invoiced", "documents_sent_on"),
        ("pay", "paid", "paid_on"),
        ("close", "closed", "closed_on"),
    ] {
        let (status, body) = app.step(&admin, &order, step).await;
        assert_eq!(status, StatusCode::OK, "{step}: {body}");
        assert_eq!(body["status"], status_after);
        assert_eq!(body[date], company_today());
    }
    for step in ["confirm", "ship", "pay", "cancel"] {
        let (status, body) = app
            .post(
                &format!("/api/v1/orders/{id}/{step}"),
                &admin,
                json!({"reason": "x"}),
            )
            .await;
        assert_eq!(status.as_u16() / 100, 4, "{step}: {body}");
    }
    let history = app
        .walk(&format!("/api/v1/orders/{id}/history"), &admin)
        .await;
    let actions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "created",
            "status_changed",
            "status_changed",
            "status_changed",
            "status_changed",
            "status_changed",
            "status_changed"
        ]
    );
    assert!(history[1]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["field"] == "status" && c["new"] == "confirmed"));

    let other = app.order(&admin, order_body(&customer, "2026-01-10")).await;
    let (status, body) = app
        .post(
            &format!("/api/v1/orders/{}/cancel", other["id"].as_str().unwrap()),
            &admin,
            json!({"reason": "客户取消"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        (body["status"].as_str(), body["cancel_reason"].as_str()),
        (Some("cancelled"), Some("客户取消"))
    );
}

#[actix_web::test]
async fn only_quotations_change_and_only_with_the_current_etag() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "Acme").await;
    let order = app.order(&admin, order_body(&customer, "2026-01-10")).await;
    let path = format!("/api/v1/orders/{}", order["id"].as_str().unwrap());
    let response = app
        .request(Method::PATCH, &path, Some(&admin))
        .json(&json!({"note": "x"}))
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
    let (status, body) = read(
        app.patch(&path, &admin, "\"1\"", json!({"customer_id": customer}))
            .await,
    )
    .await;
    assert_invalid(status, &body, &[("customer_id", "read_only")]);
    let (status, changed) = read(
        app.patch(
            &path,
            &admin,
            "\"1\"",
            json!({"lines": [line("B", 10, 1000, 900)], "reference": "PO-7"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(changed["totals"]["amount"]["amount_minor"], 10_000);
    assert_eq!(changed["totals"]["profit_rate_bp"], 1000);
    assert_eq!(
        (
            changed["reference"].as_str(),
            changed["credit_days"].as_i64()
        ),
        (Some("PO-7"), Some(60))
    );
    assert_eq!(changed["lines"].as_array().unwrap().len(), 1);
    let (status, body) = read(
        app.patch(&path, &admin, "\"1\"", json!({"note": "stale"}))
            .await,
    )
    .await;
    assert_problem(
        status,
        &body,
        StatusCode::PRECONDITION_FAILED,
        "version_mismatch",
    );
    assert_eq!(body["current"]["reference"], "PO-7");
    let (_, _) = app.step(&admin, &order, "confirm").await;
    let (status, body) = read(app.patch(&path, &admin, "*", json!({"note": "late"})).await).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "order_not_editable");
    let (_, fetched) = app.get(&path, &admin).await;
    assert_eq!(fetched["lines"], changed["lines"]);
}

#[actix_web::test]
async fn order_lists_filter_page_and_respect_scope() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let sz = app.create_unit(&admin, "SZ").await;
    let (agent_id, agent) = app.user(&admin, "agent.sz", "agent", Some(&sz)).await;
    let (_, other_agent) = app.user(&admin, "agent.sz2", "agent", Some(&sz)).await;
    let (_, manager) = app.user(&admin, "head.sz", "unit_manager", Some(&sz)).await;
    let (_, viewer) = app.user(&admin, "viewer", "viewer", None).await;
    let mine = app.organization(&agent, "Mine").await;
    let theirs = app.organization(&other_agent, "Theirs").await;
    let mut ids = Vec::new();
    for day in 1..=7 {
        let order = app
            .order(&agent, order_body(&mine, &format!("2026-01-{day:02}")))
            .await;
        assert_eq!(order["owner_id"], agent_id.as_str());
        assert_eq!(order["sales_unit_id"], sz.as_str());
        ids.push(order["id"].as_str().unwrap().to_owned());
    }
    let foreign = app
        .order(&other_agent, order_body(&theirs, "2026-01-03"))
        .await;
    app.step(&agent, &json!({"id": ids[0]}), "confirm").await;

    let mut seen = Vec::new();
    let mut path = "/api/v1/orders?limit=3".to_owned();
    loop {
        let (status, page) = app.get(&path, &agent).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["id"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/orders?limit=3&cursor={cursor}"),
            None => break,
        }
    }
    let newest_first: Vec<String> = ids.iter().rev().cloned().collect();
    assert_eq!(
        seen, newest_first,
        "the agent sees its own orders, newest first, once each"
    );

    let count = |body: &Value| body["items"].as_array().unwrap().len();
    let (_, all) = app.get("/api/v1/orders", &manager).await;
    assert_eq!(count(&all), 8, "the unit manager sees the unit's orders");
    let (_, all) = app.get("/api/v1/orders", &viewer).await;
    assert_eq!(count(&all), 8);
    let (_, confirmed) = app.get("/api/v1/orders?status=confirmed", &manager).await;
    assert_eq!(confirmed["items"][0]["id"], ids[0].as_str());
    assert_eq!(count(&confirmed), 1);
    let (_, range) = app
        .get(
            "/api/v1/orders?ordered_from=2026-01-02&ordered_to=2026-01-03",
            &manager,
        )
        .await;
    assert_eq!(count(&range), 3);
    let (_, of_customer) = app
        .get(&format!("/api/v1/orders?customer_id={theirs}"), &manager)
        .await;
    assert_eq!(count(&of_customer), 1);
    let (_, by_owner) = app
        .get(&format!("/api/v1/orders?owner_id={agent_id}"), &manager)
        .await;
    assert_eq!(count(&by_owner), 7);

    let foreign_path = format!("/api/v1/orders/{}", foreign["id"].as_str().unwrap());
    let (status, body) = app.get(&foreign_path, &agent).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, _) = app.step(&agent, &foreign, "confirm").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, body) = app
        .post("/api/v1/orders", &agent, order_body(&theirs, "2026-01-03"))
        .await;
    assert_eq!(
        error_fields(&body),
        [("customer_id".into(), "not_found".into())],
        "{status}"
    );
    let (status, body) = app
        .post("/api/v1/orders", &viewer, order_body(&mine, "2026-01-03"))
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = app.get("/api/v1/orders?status=lost", &agent).await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "invalid_query");
    let (status, body) = app.get("/api/v1/orders?cursor=nope", &agent).await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "invalid_cursor");
}

#[actix_web::test]
async fn an_idempotent_create_makes_one_order() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "Acme").await;
    let mut ids = Vec::new();
    for _ in 0..3 {
        let response = app
            .request(Method::POST, "/api/v1/orders", Some(&admin))
            .header("Idempotency-Key", "order-once")
            .json(&order_body(&customer, "2026-01-10"))
            .send()
            .await
            .unwrap();
        let (status, body) = read(response).await;
        assert_eq!(status, StatusCode::CREATED);
        ids.push(body["id"].clone());
    }
    assert!(ids.windows(2).all(|w| w[0] == w[1]));
    let (_, list) = app.get("/api/v1/orders", &admin).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn claims_follow_delivery_and_are_decided_once_by_a_supervisor() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let sz = app.create_unit(&admin, "SZ").await;
    let (_, agent) = app.user(&admin, "agent.sz", "agent", Some(&sz)).await;
    let (_, manager) = app.user(&admin, "head.sz", "unit_manager", Some(&sz)).await;
    let customer = app.organization(&agent, "Acme").await;
    let order = app.order(&agent, order_body(&customer, "2026-01-10")).await;
    let claims = format!("/api/v1/orders/{}/claims", order["id"].as_str().unwrap());
    let claim = json!({"amount_minor": 1_200_000, "reason": "外壳受损"});
    let (status, body) = app.post(&claims, &agent, claim.clone()).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "invalid_transition");
    app.step(&agent, &order, "confirm").await;
    app.step(&agent, &order, "ship").await;
    let (status, body) = app
        .post(&claims, &agent, json!({"amount_minor": 0, "reason": " "}))
        .await;
    assert_problem(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(error_fields(&body).len(), 2);
    let (status, created) = app.post(&claims, &agent, claim).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["status"], "open");
    assert_eq!(
        created["amount"],
        json!({"amount_minor": 1_200_000, "currency": "CNY"})
    );
    let decision = format!("{claims}/{}/decision", created["id"].as_str().unwrap());
    let (status, body) = app.post(&decision, &agent, json!({"accepted": true})).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = app
        .post(
            &decision,
            &manager,
            json!({"accepted": true, "settled_amount_minor": 1_200_001}),
        )
        .await;
    assert_eq!(
        error_fields(&body),
        [("settled_amount_minor".into(), "out_of_range".into())],
        "{status}"
    );
    let (status, decided) = app
        .post(
            &decision,
            &manager,
            json!({"accepted": true, "settled_amount_minor": 800_000, "note": "按维修费赔付"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{decided}");
    assert_eq!(
        (
            decided["status"].as_str(),
            decided["settled_amount_minor"].as_i64()
        ),
        (Some("accepted"), Some(800_000))
    );
    let (status, body) = app
        .post(&decision, &manager, json!({"accepted": false}))
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT, "claim_already_decided");
    let listed = app.walk(&claims, &agent).await;
    assert_eq!(listed, json!([decided]));
    let elsewhere = app.order(&agent, order_body(&customer, "2026-01-10")).await;
    let wrong_order = format!(
        "/api/v1/orders/{}/claims/{}/decision",
        elsewhere["id"].as_str().unwrap(),
        created["id"].as_str().unwrap()
    );
    let (status, _) = app
        .post(&wrong_order, &manager, json!({"accepted": false}))
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn a_new_product_goes_from_inquiry_to_sample_to_order() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "Acme").await;
    let trials = format!("/api/v1/customers/{customer}/product-trials");
    let (status, body) = app
        .post(
            &trials,
            &admin,
            json!({"product_code": "", "product_name": "x", "inquired_on": "2999-01-01"}),
        )
        .await;
    assert_problem(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(error_fields(&body).len(), 2);
    let (status, trial) = app
        .post(&trials, &admin, json!({"product_code": "CX-300E", "product_name": "节能型折弯机", "inquired_on": "2026-01-02"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{trial}");
    assert_eq!(trial["stage"], "inquiry");
    let trial_path = format!("/api/v1/product-trials/{}", trial["id"].as_str().unwrap());
    let (status, sampled) = app
        .post(
            &format!("{trial_path}/sample"),
            &admin,
            json!({"on": "2026-01-05"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{sampled}");
    assert_eq!(
        (sampled["stage"].as_str(), sampled["sampled_on"].as_str()),
        (Some("sample"), Some("2026-01-05"))
    );
    let (status, body) = app
        .post(&format!("{trial_path}/sample"), &admin, json!({}))
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT, "invalid_transition");

    let mut body = order_body(&customer, "2026-01-04");
    body["product_trial_id"] = trial["id"].clone();
    let (status, refused) = app.post("/api/v1/orders", &admin, body.clone()).await;
    assert_eq!(
        error_fields(&refused),
        [("product_trial_id".into(), "before_earlier_date".into())],
        "{status}"
    );
    body["ordered_on"] = json!("2026-01-20");
    let order = app.order(&admin, body.clone()).await;
    assert_eq!(order["product_trial_id"], trial["id"]);
    let listed = app.walk(&trials, &admin).await;
    assert_eq!(listed[0]["stage"], "ordered");
    assert_eq!(listed[0]["order_id"], order["id"]);
    assert_eq!(listed[0]["ordered_on"], "2026-01-20");
    let (_, again) = app.post("/api/v1/orders", &admin, body).await;
    assert_eq!(
        error_fields(&again),
        [("product_trial_id".into(), "trial_closed".into())]
    );
    let (status, body) = app
        .post(&format!("{trial_path}/drop"), &admin, json!({}))
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT, "invalid_transition");

    let (_, other) = app
        .post(
            &trials,
            &admin,
            json!({"product_code": "Z", "product_name": "Z"}),
        )
        .await;
    let other_path = format!(
        "/api/v1/product-trials/{}/drop",
        other["id"].as_str().unwrap()
    );
    let dropped = read(
        app.request(Method::POST, &other_path, Some(&admin))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (dropped.0, dropped.1["stage"].as_str()),
        (StatusCode::OK, Some("dropped"))
    );
}
