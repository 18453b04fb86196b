//! The credit check: asked before a sale and run by the order steps `confirm` and `ship`,
//! with overrides used once, on both databases.

use chrono::{Days, NaiveDate};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::*;
use crate::orders::line;

fn today() -> NaiveDate {
    company_today().parse().unwrap()
}

fn days_ago(days: u64) -> String {
    (today() - Days::new(days)).to_string()
}

/// An item of the customer issued and due on those days.
async fn item(app: &TestApp, admin: &str, customer: &str, amount: i64, issued: &str, due: &str) {
    let reference = format!("INV-{issued}-{amount}");
    app.item(
        admin,
        json!({"customer_id": customer, "currency": "CNY", "amount_minor": amount,
               "issued_on": issued, "due_on": due, "reference": reference}),
    )
    .await;
}

async fn check(app: &TestApp, token: &str, customer: &str, amount: i64, stage: &str) -> Value {
    let (status, answer) = app
        .post(
            "/api/v1/credit/check",
            token,
            json!({"customer_id": customer, "amount_minor": amount, "currency": "CNY",
                   "stage": stage}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{answer}");
    answer
}

fn codes(check: &Value) -> Vec<&str> {
    check["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .collect()
}

/// An order of one line of `amount`, `prepayment_bp` paid in advance.
fn order_of(customer: &str, amount: i64, prepayment_bp: i64) -> Value {
    json!({"customer_id": customer, "currency": "CNY", "prepayment_bp": prepayment_bp,
           "credit_days": 30, "lines": [line("CX", 1, amount, 0)]})
}

#[actix_web::test]
async fn the_check_weighs_the_line_against_open_items_and_confirmed_orders() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, agent) = app.user(&admin, "k.agent", "agent", None).await;
    let customer = app.organization(&agent, "琼海农机有限公司").await;

    let none = check(&app, &agent, &customer, 1, "order").await;
    assert_eq!(none["decision"], "block");
    assert_eq!(codes(&none), ["no_agreement"]);
    assert_eq!(none["limit_minor"], Value::Null);
    assert_eq!(none["available_minor"], Value::Null);
    let prepaid = check(&app, &agent, &customer, 0, "order").await;
    assert_eq!(
        (&prepaid["decision"], codes(&prepaid).len()),
        (&json!("allow"), 0)
    );

    app.carried_over_line(&admin, &customer, "CNY", 1_000_000)
        .await;
    item(&app, &admin, &customer, 600_000, &days_ago(5), &days_ago(0)).await;
    let first = app.order(&agent, order_of(&customer, 100_000, 0)).await;
    let (status, confirmed) = app.step(&agent, &first, "confirm").await;
    assert_eq!(status, StatusCode::OK, "{confirmed}");
    let kept = &confirmed["credit_check"];
    assert_eq!(kept["decision"], "allow");
    assert_eq!(kept["exposure_minor"], 600_000);
    assert_eq!(kept["amount_minor"], 100_000);
    assert_eq!(kept["limit_minor"], 1_000_000);

    // Limit 1,000,000 less 600,000 open and 100,000 ordered: 300,000 available, and a
    // tenth of the limit over it only warns.
    let within = check(&app, &agent, &customer, 300_000, "order").await;
    assert_eq!(within["decision"], "allow");
    assert_eq!(
        (
            &within["exposure_minor"],
            &within["available_minor"],
            &within["overdue_minor"]
        ),
        (&json!(700_000), &json!(300_000), &json!(0))
    );
    let over = check(&app, &agent, &customer, 400_000, "shipment").await;
    assert_eq!(over["decision"], "warn");
    assert_eq!(codes(&over), ["over_limit"]);
    let beyond = check(&app, &agent, &customer, 400_001, "order").await;
    assert_eq!(beyond["decision"], "block");
    assert_eq!(codes(&beyond), ["over_limit_beyond_tolerance"]);

    // The order step runs the same check; a block leaves the order as it was.
    let second = app.order(&agent, order_of(&customer, 450_000, 0)).await;
    let (status, refused) = app.step(&agent, &second, "confirm").await;
    assert_problem(
        status,
        &refused,
        StatusCode::CONFLICT,
        "credit_limit_exceeded",
    );
    assert_eq!(refused["credit_check"]["decision"], "block");
    assert_eq!(
        refused["credit_check"]["reasons"][0]["code"],
        "over_limit_beyond_tolerance"
    );
    let path = format!("/api/v1/orders/{}", second["id"].as_str().unwrap());
    let (_, unchanged) = app.get(&path, &agent).await;
    assert_eq!(unchanged["status"], "quoted");
    assert_eq!(unchanged["credit_check"], Value::Null);
    // Only the part sold on credit counts: a fully prepaid order passes.
    let prepaid = app
        .order(&agent, order_of(&customer, 50_000_000, 10_000))
        .await;
    let (status, confirmed) = app.step(&agent, &prepaid, "confirm").await;
    assert_eq!(status, StatusCode::OK, "{confirmed}");
    assert_eq!(confirmed["credit_check"]["amount_minor"], 0);

    // An override lets exactly that order through once, within its approver's limit.
    let (_, credit) = app.user(&admin, "k.credit", "credit_manager", None).await;
    let grant = |order: &Value, amount: i64| {
        json!({"order_id": order["id"], "amount_minor": amount, "reason": "政府项目特批",
               "expires_on": (today() + Days::new(7)).to_string()})
    };
    let (status, refused) = app
        .post("/api/v1/credit/overrides", &agent, grant(&second, 450_000))
        .await;
    assert_problem(status, &refused, StatusCode::FORBIDDEN, "forbidden");
    let (status, refused) = app
        .post(
            "/api/v1/credit/overrides",
            &credit,
            grant(&second, 500_000_001),
        )
        .await;
    assert_problem(
        status,
        &refused,
        StatusCode::FORBIDDEN,
        "approval_limit_exceeded",
    );
    let (status, granted) = app
        .post("/api/v1/credit/overrides", &credit, grant(&second, 450_000))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{granted}");
    assert_eq!(granted["used_at"], Value::Null);
    let (status, confirmed) = app.step(&agent, &second, "confirm").await;
    assert_eq!(status, StatusCode::OK, "{confirmed}");
    let kept = &confirmed["credit_check"];
    assert_eq!(kept["decision"], "warn");
    assert_eq!(
        codes(kept),
        ["over_limit_beyond_tolerance", "override_used"]
    );
    assert_eq!(kept["override_id"], granted["id"]);
    let (_, used) = app
        .get(
            &format!(
                "/api/v1/credit/overrides/{}",
                granted["id"].as_str().unwrap()
            ),
            &agent,
        )
        .await;
    assert_eq!(used["used_step"], "confirmed");
    assert!(used["used_at"].is_string(), "{used}");
    // Exposure with the order above 90 % of the line: an early warning with a task for the
    // account manager.
    let path = format!("/api/v1/credit/alerts?customer_id={customer}&kind=limit_use");
    let (_, alerts) = app.get(&path, &credit).await;
    let alerts = alerts["items"].as_array().unwrap();
    assert_eq!(alerts.len(), 1, "{alerts:?}");
    assert_eq!(
        alerts[0]["detail"],
        "exposure 1150000 of the limit 1000000 (115.00 %)"
    );
    let task = format!("/api/v1/tasks/{}", alerts[0]["task_id"].as_str().unwrap());
    let (status, task) = app.get(&task, &agent).await;
    assert_eq!(status, StatusCode::OK, "{task}");
    assert_eq!(task["kind"], "review");
    // Used once: shipping the same order is checked afresh and blocked.
    let (status, refused) = app.step(&agent, &second, "ship").await;
    assert_problem(
        status,
        &refused,
        StatusCode::CONFLICT,
        "credit_limit_exceeded",
    );
    assert_eq!(refused["credit_check"]["override_id"], Value::Null);
}

#[actix_web::test]
async fn overdue_items_holds_the_warning_list_and_the_green_channel_weigh_in() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;

    // Ten days overdue warns; over thirty blocks, and puts the customer on the warning list.
    let late = app.organization(&admin, "万宁椰子有限公司").await;
    app.carried_over_line(&admin, &late, "CNY", 1_000_000).await;
    item(&app, &admin, &late, 1_000, &days_ago(40), &days_ago(10)).await;
    let warned = check(&app, &admin, &late, 1, "shipment").await;
    assert_eq!(warned["decision"], "warn");
    assert_eq!(codes(&warned), ["overdue"]);
    assert_eq!(warned["overdue_minor"], 1_000);
    let very_late = app.organization(&admin, "陵水槟榔有限公司").await;
    app.carried_over_line(&admin, &very_late, "CNY", 1_000_000)
        .await;
    item(
        &app,
        &admin,
        &very_late,
        2_000,
        &days_ago(100),
        &days_ago(40),
    )
    .await;
    let blocked = check(&app, &admin, &very_late, 1, "order").await;
    assert_eq!(blocked["decision"], "block");
    assert_eq!(codes(&blocked), ["blacklisted", "overdue_beyond_threshold"]);

    // Dunning's written demand (due + 14) holds credit: shipments stop, orders warn.
    let held = app.organization(&admin, "乐东芒果有限公司").await;
    app.carried_over_line(&admin, &held, "CNY", 1_000_000).await;
    item(&app, &admin, &held, 3_000, &days_ago(50), &days_ago(20)).await;
    let _runner = crate::dunning::runner(&app).await;
    app.dun(&admin, None, false).await;
    let at_shipment = check(&app, &admin, &held, 1, "shipment").await;
    assert_eq!(at_shipment["decision"], "block");
    assert_eq!(codes(&at_shipment), ["credit_hold", "overdue"]);
    let at_order = check(&app, &admin, &held, 1, "order").await;
    assert_eq!(at_order["decision"], "warn");
    // Levels with a credit effect, and lawsuits, raise early warnings.
    let (_, overdue) = app.get("/api/v1/credit/alerts?kind=overdue", &admin).await;
    let mut warned: Vec<&str> = overdue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["customer_id"].as_str().unwrap())
        .collect();
    warned.sort();
    let mut expected = [late.as_str(), very_late.as_str(), held.as_str()];
    expected.sort();
    assert_eq!(warned, expected);
    let (status, event) = app
        .post(
            &format!("/api/v1/customers/{held}/events"),
            &admin,
            json!({"kind": "litigation", "department": "credit", "description": "被供应商起诉"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{event}");
    let path = format!("/api/v1/credit/alerts?customer_id={held}&kind=litigation");
    let (_, sued) = app.get(&path, &admin).await;
    assert_eq!(
        sued["items"][0]["detail"],
        "litigation recorded: 被供应商起诉"
    );

    // A green-channel application lets a customer without a line buy, flagged, once the
    // head of its unit acknowledged it, up to what it asked for.
    let unit = app.create_unit(&admin, "QH").await;
    let (_, agent) = app.user(&admin, "g.agent", "agent", Some(&unit)).await;
    let (_, head) = app
        .user(&admin, "g.head", "unit_manager", Some(&unit))
        .await;
    let urgent = app.organization(&agent, "三沙港口工程有限公司").await;
    let (status, application) = app
        .post(
            "/api/v1/credit/applications",
            &agent,
            json!({"customer_id": urgent, "requested_limit_minor": 5_000_000, "currency": "CNY",
                   "term_days": 30, "reason": "政府项目急单", "green_channel": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{application}");
    let unacknowledged = check(&app, &agent, &urgent, 100, "shipment").await;
    assert_eq!(codes(&unacknowledged), ["no_agreement"]);
    let (status, acknowledged) = app
        .post(
            &format!(
                "/api/v1/credit/applications/{}/pre-review",
                application["id"].as_str().unwrap()
            ),
            &head,
            json!({"note": "急单，先发货"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{acknowledged}");
    let flagged = check(&app, &agent, &urgent, 100, "shipment").await;
    assert_eq!(flagged["decision"], "warn");
    assert_eq!(codes(&flagged), ["green_channel_pending"]);
    // Ten trillion fen on an application of fifty thousand yuan: blocked.
    let unbounded = check(&app, &agent, &urgent, 10_000_000_000_000, "shipment").await;
    assert_eq!(unbounded["decision"], "block");
    assert_eq!(codes(&unbounded), ["green_channel_exceeded"]);
    let (status, order) = app
        .post(
            "/api/v1/orders",
            &agent,
            order_of(&urgent, 10_000_000_000_000, 0),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    let (status, refused) = app.step(&agent, &order, "confirm").await;
    assert_problem(
        status,
        &refused,
        StatusCode::CONFLICT,
        "credit_limit_exceeded",
    );
    let (status, order) = app
        .post("/api/v1/orders", &agent, order_of(&urgent, 100, 0))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{order}");
    let (status, confirmed) = app.step(&agent, &order, "confirm").await;
    assert_eq!(status, StatusCode::OK, "{confirmed}");
    assert_eq!(confirmed["credit_check"]["decision"], "warn");
}

/// Amounts beyond what a JavaScript number holds exactly are `too_large`, and a reason or
/// reference nobody can read (invisible characters only) is no reason.
#[actix_web::test]
async fn amounts_past_2_53_and_invisible_reasons_are_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "海口电力").await;
    let (status, refused) = app
        .post(
            "/api/v1/credit/check",
            &admin,
            json!({"customer_id": customer, "amount_minor": i64::MAX, "currency": "CNY",
                   "stage": "order"}),
        )
        .await;
    assert_invalid(status, &refused, &[("amount_minor", "too_large")]);
    let (status, allowed) = app
        .post(
            "/api/v1/credit/check",
            &admin,
            json!({"customer_id": customer, "amount_minor": 9_007_199_254_740_991_i64,
                   "currency": "CNY", "stage": "order"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{allowed}");

    let line = json!({"customer_id": customer, "currency": "CNY", "limit_minor": 1_000,
                      "term_days": 60, "reason": "\u{200b}\u{200d} \u{feff}"});
    let (status, refused) = app.post("/api/v1/credit/agreements", &admin, line).await;
    assert_invalid(status, &refused, &[("reason", "required")]);
    let payment = json!({"customer_id": customer, "currency": "CNY", "amount_minor": 100,
                         "received_on": "2026-02-01", "reference": "\u{200b}"});
    let (status, refused) = app.post("/api/v1/payments", &admin, payment).await;
    assert_invalid(status, &refused, &[("reference", "required")]);
}
