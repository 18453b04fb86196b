//! Races on one customer's money: every writer locks it in one order (customer, order,
//! receivable, payment), reads balances under the locks and writes them relative to the row,
//! so racing requests never count money twice and never answer 500.

use futures_util::future::{join, join4, join_all};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::*;
use crate::orders::{line, order_body};

/// How many times each race is run; PostgreSQL interleaves differently each time.
const ROUNDS: usize = 20;

/// What a racing request may answer: done, or refused because another took the money first.
fn assert_won_or_lost(status: StatusCode, body: &Value) {
    let lost = [
        "over_allocation",
        "item_settled",
        "invalid_transition",
        "concurrent_update",
        "conflict",
    ];
    assert!(
        status.is_success()
            || (status == StatusCode::CONFLICT && lost.contains(&body["code"].as_str().unwrap())),
        "{status}: {body}"
    );
}

/// An invoiced order of `customer` and the id of its one open item.
async fn invoiced(app: &TestApp, admin: &str, customer: &str) -> (Value, String, i64) {
    let order = app.order(admin, order_body(customer, "2026-01-10")).await;
    for step in ["confirm", "ship", "invoice"] {
        let (status, body) = app.step(admin, &order, step).await;
        assert_eq!(status, StatusCode::OK, "{step}: {body}");
    }
    let items = app
        .walk(
            &format!("/api/v1/receivables?customer_id={customer}"),
            admin,
        )
        .await;
    let item = items
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["order_id"] == order["id"])
        .expect("the order's item")
        .clone();
    (
        order,
        item["id"].as_str().unwrap().to_owned(),
        item["amount_minor"].as_i64().unwrap(),
    )
}

/// The pay step, allocations, a credit note and a write-off race for one invoiced item: the
/// reductions never exceed the amount, what is open is the amount less the reductions, and
/// each payment's unallocated part is what it did not give.
#[actix_web::test]
async fn the_pay_step_allocations_credit_notes_and_write_offs_never_count_money_twice() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let today = company_today();
    for round in 0..ROUNDS {
        let customer = app.organization(&admin, &format!("华强贸易 {round}")).await;
        let (order, item, amount) = invoiced(&app, &admin, &customer).await;
        let share = amount / 4;
        let mut payments = Vec::new();
        for n in 0..3 {
            let body = json!({"customer_id": customer, "currency": "CNY", "amount_minor": share,
                              "received_on": today, "reference": format!("PAY-{round}-{n}")});
            let (status, payment) = app.post("/api/v1/payments", &admin, body).await;
            assert_eq!(status, StatusCode::CREATED, "{payment}");
            payments.push(payment["id"].as_str().unwrap().to_owned());
        }
        let adjustment = |kind: &'static str| {
            let path = format!("/api/v1/receivables/{item}/{kind}");
            let body = json!({"amount_minor": share, "on": today, "reason": "折让"});
            let app = &app;
            let admin = &admin;
            async move { app.post(&path, admin, body).await }
        };
        let pay = async { app.step(&admin, &order, "pay").await };
        let allocations = join_all(
            payments
                .iter()
                .map(|payment| app.allocate(&admin, payment, &item, share, &today)),
        );
        let (paid, allocated, credited, written_off) = join4(
            pay,
            allocations,
            adjustment("credit-notes"),
            adjustment("write-offs"),
        )
        .await;
        for (status, body) in allocated.iter().chain([&paid, &credited, &written_off]) {
            assert_won_or_lost(*status, body);
        }

        let reductions = app
            .walk(&format!("/api/v1/receivables/{item}/reductions"), &admin)
            .await;
        let reduced: i64 = reductions
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["amount_minor"].as_i64().unwrap())
            .sum();
        assert!(reduced <= amount, "round {round}: {reduced} of {amount}");
        let (_, read) = app
            .get(&format!("/api/v1/receivables/{item}"), &admin)
            .await;
        assert_eq!(
            read["open_minor"].as_i64().unwrap(),
            amount - reduced,
            "round {round}: {read} after {reductions}"
        );
        // A paid order left nothing open; an order whose pay step lost kept what is open.
        let (_, order_now) = app
            .get(
                &format!("/api/v1/orders/{}", order["id"].as_str().unwrap()),
                &admin,
            )
            .await;
        assert_eq!(
            order_now["status"] == "paid",
            reduced == amount,
            "round {round}: {order_now}"
        );
        for payment in app
            .walk(&format!("/api/v1/payments?customer_id={customer}"), &admin)
            .await
            .as_array()
            .unwrap()
        {
            let given: i64 = reductions
                .as_array()
                .unwrap()
                .iter()
                .filter(|r| r["payment_id"] == payment["id"])
                .map(|r| r["amount_minor"].as_i64().unwrap())
                .sum();
            assert_eq!(
                payment["unallocated_minor"].as_i64().unwrap(),
                payment["amount_minor"].as_i64().unwrap() - given,
                "round {round}: {payment}"
            );
        }
    }
}

/// Two confirms of one customer against a line with room for one: one passes, the other is
/// blocked by the check that saw the first.
#[actix_web::test]
async fn two_confirms_against_a_line_with_room_for_one_pass_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for round in 0..ROUNDS {
        let customer = app.organization(&admin, &format!("三亚港务 {round}")).await;
        // 1,000 with the policy's 10 % tolerance: room for one order of 700, not two.
        app.carried_over_line(&admin, &customer, "CNY", 1_000).await;
        let order = || {
            json!({"customer_id": customer, "currency": "CNY", "prepayment_bp": 0,
                   "credit_days": 30, "lines": [line("CX", 1, 700, 0)]})
        };
        let first = app.order(&admin, order()).await;
        let second = app.order(&admin, order()).await;
        let (a, b) = join(
            app.step(&admin, &first, "confirm"),
            app.step(&admin, &second, "confirm"),
        )
        .await;
        let mut codes: Vec<(StatusCode, Value)> = [a, b]
            .into_iter()
            .map(|(status, body)| (status, body["code"].clone()))
            .collect();
        codes.sort_by_key(|(status, _)| *status);
        assert_eq!(
            codes,
            [
                (StatusCode::OK, Value::Null),
                (StatusCode::CONFLICT, json!("credit_limit_exceeded"))
            ],
            "round {round}"
        );
    }
}
