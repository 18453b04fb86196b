//! Receivables: open items, payments and allocations that never over-settle, credit notes
//! and write-offs, and the ageing and allowance reports as of any day.

use futures_util::future::join_all;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::*;

/// An open item of `customer` in CNY, issued 2026-01-15 and due 2026-03-16.
pub fn receivable_body(customer: &str, reference: &str, amount_minor: i64) -> Value {
    json!({"customer_id": customer, "currency": "CNY", "amount_minor": amount_minor,
           "issued_on": "2026-01-15", "due_on": "2026-03-16", "reference": reference})
}

impl TestApp {
    /// Posts an item and returns its id.
    pub(crate) async fn item(&self, token: &str, body: Value) -> String {
        let (status, item) = self.post("/api/v1/receivables", token, body).await;
        assert_eq!(status, StatusCode::CREATED, "{item}");
        item["id"].as_str().unwrap().to_owned()
    }

    /// Records a payment and returns its id.
    pub(crate) async fn payment(
        &self,
        token: &str,
        customer: &str,
        amount_minor: i64,
        on: &str,
    ) -> String {
        let body = json!({"customer_id": customer, "currency": "CNY", "amount_minor": amount_minor,
                          "received_on": on, "reference": format!("PAY-{on}-{amount_minor}")});
        let (status, payment) = self.post("/api/v1/payments", token, body).await;
        assert_eq!(status, StatusCode::CREATED, "{payment}");
        payment["id"].as_str().unwrap().to_owned()
    }

    pub(crate) async fn allocate(
        &self,
        token: &str,
        payment: &str,
        item: &str,
        amount_minor: i64,
        on: &str,
    ) -> (StatusCode, Value) {
        self.post(
            &format!("/api/v1/payments/{payment}/allocations"),
            token,
            json!({"receivable_id": item, "amount_minor": amount_minor, "on": on}),
        )
        .await
    }

    /// What is open of an item today, and the day it was settled.
    async fn open_of(&self, token: &str, item: &str) -> (i64, Value) {
        let (status, item) = self
            .get(&format!("/api/v1/receivables/{item}"), token)
            .await;
        assert_eq!(status, StatusCode::OK, "{item}");
        (
            item["open_minor"].as_i64().unwrap(),
            item["settled_on"].clone(),
        )
    }
}

#[actix_web::test]
async fn an_item_posted_twice_is_one_item_and_a_taken_reference_conflicts() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "华强贸易").await;
    let mut body = receivable_body(&customer, "INV-1", 31_500_000);
    body["shipped_on"] = json!("2026-01-12");
    let (status, item) = app.post("/api/v1/receivables", &admin, body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{item}");
    let (_, me) = app.get("/api/v1/me", &admin).await;
    for (field, value) in [
        ("customer_id", json!(customer)),
        ("currency", json!("CNY")),
        ("amount_minor", json!(31_500_000)),
        ("open_minor", json!(31_500_000)),
        ("issued_on", json!("2026-01-15")),
        ("due_on", json!("2026-03-16")),
        ("shipped_on", json!("2026-01-12")),
        ("reference", json!("INV-1")),
        ("settled_on", Value::Null),
        ("order_id", Value::Null),
        ("owner_id", me["id"].clone()),
        ("created_by", me["id"].clone()),
    ] {
        assert_eq!(item[field], value, "{field}: {item}");
    }
    let (status, again) = app.post("/api/v1/receivables", &admin, body.clone()).await;
    assert_eq!((status, &again["id"]), (StatusCode::OK, &item["id"]));
    body["amount_minor"] = json!(1);
    let (status, conflict) = app.post("/api/v1/receivables", &admin, body).await;
    assert_problem(
        status,
        &conflict,
        StatusCode::CONFLICT,
        "reference_conflict",
    );
    assert_eq!(conflict["existing_id"], item["id"]);
    let items = app
        .walk(
            &format!("/api/v1/receivables?customer_id={customer}&open_on=2026-06-30"),
            &admin,
        )
        .await;
    assert_eq!(items.as_array().unwrap().len(), 1, "{items}");
}

#[actix_web::test]
async fn a_bad_item_reports_every_field_and_writes_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "华强贸易").await;
    let other = app.organization(&admin, "Other").await;
    let order = app
        .order(&admin, crate::orders::order_body(&other, "2026-01-10"))
        .await;
    let (status, body) = app
        .post(
            "/api/v1/receivables",
            &admin,
            json!({"customer_id": customer, "currency": "XYZ", "amount_minor": 0,
                   "issued_on": "2999-01-01", "due_on": "2998-12-31", "reference": " "}),
        )
        .await;
    assert_invalid(
        status,
        &body,
        &[
            ("currency", "invalid_currency"),
            ("amount_minor", "out_of_range"),
            ("issued_on", "in_future"),
            ("due_on", "before_earlier_date"),
            ("reference", "required"),
        ],
    );
    let mut body = receivable_body(&customer, "INV-2", 100);
    body["order_id"] = order["id"].clone();
    let (status, refused) = app.post("/api/v1/receivables", &admin, body).await;
    assert_invalid(status, &refused, &[("order_id", "other_customer")]);
    let (status, refused) = app
        .post(
            "/api/v1/receivables",
            &admin,
            receivable_body(&uuid::Uuid::nil().to_string(), "INV-3", 100),
        )
        .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let items = app
        .walk("/api/v1/receivables?open_on=2026-06-30", &admin)
        .await;
    assert_eq!(items, json!([]));
}

#[actix_web::test]
async fn a_payment_posted_twice_is_one_payment() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "华强贸易").await;
    let body = json!({"customer_id": customer, "currency": "cny", "amount_minor": 20_000_000,
                      "received_on": "2026-02-20", "reference": "BOC-42"});
    let (status, first) = app.post("/api/v1/payments", &admin, body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(
        (&first["currency"], &first["unallocated_minor"]),
        (&json!("CNY"), &json!(20_000_000))
    );
    let (status, again) = app.post("/api/v1/payments", &admin, body.clone()).await;
    assert_eq!((status, &again["id"]), (StatusCode::OK, &first["id"]));
    let mut other = body;
    other["received_on"] = json!("2026-02-21");
    let (status, conflict) = app.post("/api/v1/payments", &admin, other).await;
    assert_problem(
        status,
        &conflict,
        StatusCode::CONFLICT,
        "reference_conflict",
    );
    let payments = app
        .walk(&format!("/api/v1/payments?customer_id={customer}"), &admin)
        .await;
    assert_eq!(payments.as_array().unwrap().len(), 1, "{payments}");
}

#[actix_web::test]
async fn allocations_credit_notes_and_write_offs_settle_an_item_and_never_exceed_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "华强贸易").await;
    let other = app.organization(&admin, "Other").await;
    let item = app
        .item(&admin, receivable_body(&customer, "INV-1", 1000))
        .await;
    let foreign = app
        .item(&admin, receivable_body(&other, "INV-9", 1000))
        .await;
    let payment = app.payment(&admin, &customer, 600, "2026-02-01").await;

    let (status, allocation) = app
        .allocate(&admin, &payment, &item, 400, "2026-02-03")
        .await;
    assert_eq!(status, StatusCode::CREATED, "{allocation}");
    assert_eq!(
        (
            &allocation["kind"],
            &allocation["amount_minor"],
            &allocation["on"],
            &allocation["payment_id"]
        ),
        (
            &json!("allocation"),
            &json!(400),
            &json!("2026-02-03"),
            &json!(payment)
        )
    );
    assert_eq!(app.open_of(&admin, &item).await.0, 600);

    // 300 more than the payment has left (200): nothing is written.
    let (status, refused) = app
        .allocate(&admin, &payment, &item, 300, "2026-02-03")
        .await;
    assert_problem(status, &refused, StatusCode::CONFLICT, "over_allocation");
    let (_, paid) = app
        .get(&format!("/api/v1/payments/{payment}"), &admin)
        .await;
    assert_eq!(paid["unallocated_minor"], 200);
    let (status, refused) = app
        .allocate(&admin, &payment, &item, 100, "2026-01-31")
        .await;
    assert_invalid(status, &refused, &[("on", "before_earlier_date")]);
    let (status, refused) = app
        .allocate(&admin, &payment, &foreign, 100, "2026-02-03")
        .await;
    assert_invalid(status, &refused, &[("receivable_id", "other_customer")]);
    let reductions = app
        .walk(&format!("/api/v1/receivables/{item}/reductions"), &admin)
        .await;
    assert_eq!(reductions.as_array().unwrap().len(), 1, "{reductions}");
    assert_eq!(app.open_of(&admin, &item).await.0, 600);

    let note = json!({"amount_minor": 500, "on": "2026-02-10", "reason": "退回一台"});
    let (status, credit) = app
        .post(
            &format!("/api/v1/receivables/{item}/credit-notes"),
            &admin,
            note,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{credit}");
    assert_eq!(
        (&credit["kind"], &credit["reason"]),
        (&json!("credit_note"), &json!("退回一台"))
    );
    let too_much = json!({"amount_minor": 101, "on": "2026-02-11", "reason": "坏账"});
    let (status, refused) = app
        .post(
            &format!("/api/v1/receivables/{item}/write-offs"),
            &admin,
            too_much,
        )
        .await;
    assert_problem(status, &refused, StatusCode::CONFLICT, "over_allocation");
    let rest = json!({"amount_minor": 100, "on": "2026-02-11", "reason": "坏账"});
    let (status, _) = app
        .post(
            &format!("/api/v1/receivables/{item}/write-offs"),
            &admin,
            rest,
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(app.open_of(&admin, &item).await, (0, json!("2026-02-11")));
    let kinds: Vec<Value> = app
        .walk(&format!("/api/v1/receivables/{item}/reductions"), &admin)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|r| json!([r["kind"], r["amount_minor"]]))
        .collect();
    assert_eq!(
        kinds,
        [
            json!(["allocation", 400]),
            json!(["credit_note", 500]),
            json!(["write_off", 100])
        ]
    );
    // Settled: nothing more is taken.
    let (status, refused) = app.allocate(&admin, &payment, &item, 1, "2026-02-12").await;
    assert_problem(status, &refused, StatusCode::CONFLICT, "over_allocation");
    let unallocated = app.walk("/api/v1/payments?unallocated=true", &admin).await;
    assert_eq!(unallocated.as_array().unwrap().len(), 1, "{unallocated}");
    assert_eq!(unallocated[0]["unallocated_minor"], 200);
}

/// 50 allocations of 30 race for an item of 1000: 33 are taken (990), 17 refused, and what
/// is open, what is allocated and the reductions agree to the unit.
#[actix_web::test]
async fn fifty_racing_allocations_never_over_allocate() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "华强贸易").await;
    let item = app
        .item(&admin, receivable_body(&customer, "INV-1", 1000))
        .await;
    let payment = app.payment(&admin, &customer, 100_000, "2026-02-01").await;
    let answers =
        join_all((0..50).map(|_| app.allocate(&admin, &payment, &item, 30, "2026-02-02"))).await;
    let taken = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    for (status, body) in &answers {
        assert!(
            *status == StatusCode::CREATED
                || (*status == StatusCode::CONFLICT && body["code"] == "over_allocation"),
            "{status}: {body}"
        );
    }
    assert_eq!(taken, 33);
    assert_eq!(app.open_of(&admin, &item).await.0, 10);
    let (_, paid) = app
        .get(&format!("/api/v1/payments/{payment}"), &admin)
        .await;
    assert_eq!(paid["unallocated_minor"], 100_000 - 990);
    let reductions = app
        .walk(&format!("/api/v1/receivables/{item}/reductions"), &admin)
        .await;
    let sum: i64 = reductions
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["amount_minor"].as_i64().unwrap())
        .sum();
    assert_eq!(sum, 990);
}

/// Posts an item of `customer` issued and due on the days given.
async fn dated_item(
    app: &TestApp,
    token: &str,
    customer: &str,
    reference: &str,
    amount_minor: i64,
    issued_on: &str,
    due_on: &str,
) -> String {
    app.item(
        token,
        json!({"customer_id": customer, "currency": "CNY", "amount_minor": amount_minor,
               "issued_on": issued_on, "due_on": due_on, "reference": reference}),
    )
    .await
}

#[actix_web::test]
async fn ageing_as_of_a_day_buckets_every_open_amount_and_adds_up_exactly() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let a = app.organization(&admin, "A 公司").await;
    let b = app.organization(&admin, "B 公司").await;
    // As of 2026-06-30, A: not due 100, 1-30 days past due 200 (of which 50 paid before the
    // day, 150 open), 31-60 days 300; B: over 365 days 1000, and an item issued after the
    // day (not in the report).
    dated_item(&app, &admin, &a, "A1", 100, "2026-06-01", "2026-06-30").await;
    let a2 = dated_item(&app, &admin, &a, "A2", 200, "2026-05-01", "2026-06-29").await;
    dated_item(&app, &admin, &a, "A3", 300, "2026-04-01", "2026-05-30").await;
    dated_item(&app, &admin, &b, "B1", 1000, "2025-01-01", "2025-06-29").await;
    dated_item(&app, &admin, &b, "B2", 5000, "2026-07-01", "2026-08-01").await;
    let payment = app.payment(&admin, &a, 200, "2026-06-15").await;
    let (status, _) = app.allocate(&admin, &payment, &a2, 50, "2026-06-20").await;
    assert_eq!(status, StatusCode::CREATED);
    // Dated after the day: changes nothing as of 2026-06-30.
    let (status, _) = app
        .allocate(&admin, &payment, &a2, 150, &company_today())
        .await;
    assert_eq!(status, StatusCode::CREATED);

    let (status, report) = app
        .get("/api/v1/receivables/ageing?as_of=2026-06-30", &admin)
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    assert_eq!(
        report["bucket_labels"],
        json!(["not_due", "1-30", "31-60", "61-90", "91-180", "181-365", "over_365"])
    );
    assert_eq!(
        (&report["as_of"], &report["basis"], &report["currency"]),
        (&json!("2026-06-30"), &json!("due"), &json!("CNY"))
    );
    let groups = report["groups"].as_array().unwrap();
    let summary: Vec<Value> = groups
        .iter()
        .map(|g| {
            json!([
                g["id"],
                g["name"],
                g["outstanding_minor"],
                g["buckets_minor"],
                g["group_by"]
            ])
        })
        .collect();
    assert_eq!(
        summary,
        [
            json!([b, "B 公司", 1000, [0, 0, 0, 0, 0, 0, 1000], "customer"]),
            json!([a, "A 公司", 550, [100, 150, 300, 0, 0, 0, 0], "customer"]),
        ]
    );
    assert_eq!(
        report["totals"],
        json!({"outstanding_minor": 1550, "buckets_minor": [100, 150, 300, 0, 0, 0, 1000]})
    );
    assert_eq!(report["next_cursor"], Value::Null);

    // Page by page, one group each, in the same order.
    let (_, first) = app
        .get(
            "/api/v1/receivables/ageing?as_of=2026-06-30&limit=1",
            &admin,
        )
        .await;
    assert_eq!(first["groups"][0]["id"], json!(b));
    assert_eq!(first["totals"]["outstanding_minor"], 1550);
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, second) = app
        .get(
            &format!("/api/v1/receivables/ageing?as_of=2026-06-30&limit=1&cursor={cursor}"),
            &admin,
        )
        .await;
    assert_eq!(second["groups"][0]["id"], json!(a));
    assert_eq!(second["next_cursor"], Value::Null);

    // By invoice day with other limits: A1 30 days old, A2 60, A3 90, B1 545.
    let (_, by_invoice) = app
        .get(
            "/api/v1/receivables/ageing?as_of=2026-06-30&basis=invoice&buckets=30,90",
            &admin,
        )
        .await;
    assert_eq!(
        by_invoice["bucket_labels"],
        json!(["0-30", "31-90", "over_90"])
    );
    assert_eq!(
        by_invoice["totals"]["buckets_minor"],
        json!([100, 450, 1000])
    );

    // Today the allocation dated today counts: A2 is settled and left out.
    let (_, today) = app.get("/api/v1/receivables/ageing", &admin).await;
    assert_eq!(
        today["totals"]["outstanding_minor"],
        100 + 300 + 1000 + 5000
    );

    // The drill-down shows what was open on the day.
    let items = app
        .walk(
            &format!("/api/v1/receivables?customer_id={a}&open_on=2026-06-30"),
            &admin,
        )
        .await;
    let open: Vec<Value> = items
        .as_array()
        .unwrap()
        .iter()
        .map(|i| json!([i["reference"], i["open_minor"]]))
        .collect();
    assert_eq!(
        open,
        [json!(["A3", 300]), json!(["A2", 150]), json!(["A1", 100])]
    );
    let overdue = app
        .walk(
            &format!("/api/v1/receivables?customer_id={a}&open_on=2026-06-30&overdue=true"),
            &admin,
        )
        .await;
    assert_eq!(overdue.as_array().unwrap().len(), 2, "{overdue}");

    let (status, refused) = app
        .get("/api/v1/receivables/ageing?buckets=60,30", &admin)
        .await;
    assert_problem(status, &refused, StatusCode::BAD_REQUEST, "invalid_query");
    assert_eq!(
        error_fields(&refused),
        [("buckets".to_owned(), "invalid_value".to_owned())]
    );
}

#[actix_web::test]
async fn ageing_groups_by_the_unit_and_owner_items_were_issued_under_and_keeps_to_scope() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "SZ").await;
    let (agent, agent_token) = app.user(&admin, "r.agent", "agent", Some(&unit)).await;
    let (_, other_token) = app.user(&admin, "r.other", "agent", Some(&unit)).await;
    let mine = app
        .customer(
            &admin,
            json!({"kind": "organization", "legal_name": "Mine", "owner_id": agent}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let house = app.organization(&admin, "House").await;
    dated_item(&app, &admin, &mine, "M1", 700, "2026-05-01", "2026-05-31").await;
    dated_item(&app, &admin, &house, "H1", 300, "2026-05-01", "2026-05-31").await;

    let (_, by_unit) = app
        .get(
            "/api/v1/receivables/ageing?as_of=2026-06-30&group_by=sales_unit",
            &admin,
        )
        .await;
    let units: Vec<Value> = by_unit["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| json!([g["id"], g["name"], g["outstanding_minor"]]))
        .collect();
    assert_eq!(
        units,
        [json!([unit, "SZ office", 700]), json!([null, null, 300])]
    );
    let (_, by_owner) = app
        .get(
            "/api/v1/receivables/ageing?as_of=2026-06-30&group_by=owner",
            &admin,
        )
        .await;
    assert_eq!(by_owner["groups"][0]["id"], json!(agent));
    assert_eq!(by_owner["groups"][0]["name"], "r.agent");

    let (_, agents) = app
        .get("/api/v1/receivables/ageing?as_of=2026-06-30", &agent_token)
        .await;
    assert_eq!(agents["totals"]["outstanding_minor"], 700, "{agents}");
    assert_eq!(agents["groups"].as_array().unwrap().len(), 1);
    let (_, others) = app
        .get("/api/v1/receivables/ageing?as_of=2026-06-30", &other_token)
        .await;
    assert_eq!(others["totals"]["outstanding_minor"], 0, "{others}");
    let seen = app
        .walk("/api/v1/receivables?open_on=2026-06-30", &other_token)
        .await;
    assert_eq!(seen, json!([]));
}

/// Each band of an allowance report as [label, rate, balance, allowance].
fn allowance_bands(report: &Value) -> Vec<Value> {
    report["bands"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| {
            json!([
                b["label"],
                b["rate_bp"],
                b["balance_minor"],
                b["allowance_minor"]
            ])
        })
        .collect()
}

#[actix_web::test]
async fn the_allowance_provides_by_age_band_rounding_half_up() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "华强贸易").await;
    // Ages as of 2026-06-30: 10 days (5 %), 400 days (10 %), 2000 days (100 %).
    dated_item(
        &app,
        &admin,
        &customer,
        "Y0",
        10,
        "2026-06-20",
        "2026-07-20",
    )
    .await;
    dated_item(
        &app,
        &admin,
        &customer,
        "Y1",
        12_345,
        "2025-05-26",
        "2025-06-25",
    )
    .await;
    dated_item(
        &app,
        &admin,
        &customer,
        "Y5",
        777,
        "2021-01-06",
        "2021-02-05",
    )
    .await;
    let (status, report) = app
        .get("/api/v1/receivables/allowance?as_of=2026-06-30", &admin)
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let bands = allowance_bands(&report);
    assert_eq!(
        bands,
        [
            json!(["0-365", 500, 10, 1]),
            json!(["366-730", 1000, 12_345, 1235]),
            json!(["731-1095", 2000, 0, 0]),
            json!(["1096-1460", 5000, 0, 0]),
            json!(["1461-1825", 8000, 0, 0]),
            json!(["over_1825", 10000, 777, 777]),
        ]
    );
    assert_eq!(
        (
            &report["total_balance_minor"],
            &report["total_allowance_minor"],
            &report["currency"]
        ),
        (&json!(13_132), &json!(2013), &json!("CNY"))
    );
}

/// The open items of an order.
async fn items_of_order(app: &TestApp, token: &str, customer: &str, order: &Value) -> Vec<Value> {
    app.walk(
        &format!("/api/v1/receivables?customer_id={customer}"),
        token,
    )
    .await
    .as_array()
    .unwrap()
    .iter()
    .filter(|item| item["order_id"] == order["id"])
    .cloned()
    .collect()
}

async fn invoiced_order(app: &TestApp, token: &str, customer: &str) -> Value {
    let order = app
        .order(token, crate::orders::order_body(customer, "2026-01-10"))
        .await;
    for step in ["confirm", "ship", "invoice"] {
        let (status, body) = app.step(token, &order, step).await;
        assert_eq!(status, StatusCode::OK, "{step}: {body}");
    }
    order
}

#[actix_web::test]
async fn invoicing_an_order_opens_its_item_and_settling_the_item_pays_the_order() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "华强贸易").await;
    let order = invoiced_order(&app, &admin, &customer).await;
    let today = company_today();
    let due = (today.parse::<chrono::NaiveDate>().unwrap() + chrono::Days::new(60)).to_string();
    let items = items_of_order(&app, &admin, &customer, &order).await;
    assert_eq!(items.len(), 1, "{items:?}");
    let item = &items[0];
    assert_eq!(
        (
            &item["amount_minor"],
            &item["open_minor"],
            &item["currency"],
            &item["issued_on"],
            &item["due_on"],
            &item["reference"]
        ),
        (
            &json!(90_000_999),
            &json!(90_000_999),
            &json!("CNY"),
            &json!(today),
            &json!(due),
            &order["id"]
        )
    );
    let item = item["id"].as_str().unwrap();
    let payment = app.payment(&admin, &customer, 90_000_999, &today).await;
    let (status, _) = app
        .allocate(&admin, &payment, item, 90_000_000, &today)
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, still) = app
        .get(
            &format!("/api/v1/orders/{}", order["id"].as_str().unwrap()),
            &admin,
        )
        .await;
    assert_eq!(still["status"], "invoiced");
    let (status, _) = app.allocate(&admin, &payment, item, 999, &today).await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, paid) = app
        .get(
            &format!("/api/v1/orders/{}", order["id"].as_str().unwrap()),
            &admin,
        )
        .await;
    assert_eq!(
        (&paid["status"], &paid["paid_on"]),
        (&json!("paid"), &json!(today)),
        "{paid}"
    );
    // Paid already: the pay step has nothing left to do.
    let (status, refused) = app.step(&admin, &paid, "pay").await;
    assert_eq!(status, StatusCode::CONFLICT, "{refused}");
}

#[actix_web::test]
async fn the_pay_step_records_one_payment_for_what_is_open_and_allocates_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "华强贸易").await;
    let today = company_today();
    let order = invoiced_order(&app, &admin, &customer).await;
    let item = items_of_order(&app, &admin, &customer, &order).await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let early = app.payment(&admin, &customer, 1_000, &today).await;
    let (status, _) = app.allocate(&admin, &early, &item, 1_000, &today).await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, paid) = app.step(&admin, &order, "pay").await;
    assert_eq!(
        (status, &paid["status"]),
        (StatusCode::OK, &json!("paid")),
        "{paid}"
    );
    assert_eq!(app.open_of(&admin, &item).await, (0, json!(today)));
    let payments = app
        .walk(&format!("/api/v1/payments?customer_id={customer}"), &admin)
        .await;
    let recorded: Vec<Value> = payments
        .as_array()
        .unwrap()
        .iter()
        .map(|p| json!([p["amount_minor"], p["unallocated_minor"], p["received_on"]]))
        .collect();
    assert_eq!(
        recorded,
        [
            json!([1_000, 0, today]),
            json!([90_000_999 - 1_000, 0, today])
        ]
    );

    // An item an ERP posted for the order before its invoice step stands for the invoice.
    let order = app
        .order(&admin, crate::orders::order_body(&customer, "2026-01-10"))
        .await;
    for step in ["confirm", "ship"] {
        app.step(&admin, &order, step).await;
    }
    let mut erp = receivable_body(&customer, "ERP-7", 90_000_999);
    erp["order_id"] = order["id"].clone();
    app.item(&admin, erp).await;
    let (status, _) = app.step(&admin, &order, "invoice").await;
    assert_eq!(status, StatusCode::OK);
    let items = items_of_order(&app, &admin, &customer, &order).await;
    assert_eq!(items.len(), 1, "{items:?}");
    assert_eq!(items[0]["reference"], "ERP-7");
}

#[actix_web::test]
async fn a_lease_is_billed_as_monthly_instalments_that_sum_exactly() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "租赁客户").await;
    let lease = json!({"customer_id": customer, "currency": "CNY", "principal_minor": 36_000_000,
                       "annual_rate_bp": 600, "months": 36, "first_due_on": "2027-01-31",
                       "signed_on": "2026-12-01", "reference": "LEASE-7"});
    let (status, posted) = app
        .post("/api/v1/receivables/leases", &admin, lease.clone())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{posted}");
    let instalments = posted["instalments"].as_array().unwrap();
    let items = posted["items"].as_array().unwrap();
    assert_eq!((instalments.len(), items.len()), (36, 36));
    let principal: i64 = instalments
        .iter()
        .map(|i| i["principal_minor"].as_i64().unwrap())
        .sum();
    assert_eq!(principal, 36_000_000);
    assert_eq!(
        (
            &instalments[0]["amount_minor"],
            &instalments[0]["interest_minor"]
        ),
        (&json!(1_095_190), &json!(180_000))
    );
    assert_eq!(
        json!([
            items[1]["reference"],
            items[1]["due_on"],
            items[1]["issued_on"],
            items[1]["amount_minor"]
        ]),
        json!(["LEASE-7/2", "2027-02-28", "2026-12-01", 1_095_190])
    );
    let billed: i64 = items
        .iter()
        .map(|i| i["amount_minor"].as_i64().unwrap())
        .sum();
    let interest: i64 = instalments
        .iter()
        .map(|i| i["interest_minor"].as_i64().unwrap())
        .sum();
    assert_eq!(billed, 36_000_000 + interest);

    let (status, again) = app
        .post("/api/v1/receivables/leases", &admin, lease.clone())
        .await;
    assert_eq!(
        (status, &again["items"][0]["id"]),
        (StatusCode::OK, &items[0]["id"])
    );
    let mut other = lease;
    other["annual_rate_bp"] = json!(700);
    let (status, conflict) = app.post("/api/v1/receivables/leases", &admin, other).await;
    assert_problem(
        status,
        &conflict,
        StatusCode::CONFLICT,
        "reference_conflict",
    );

    let (_, report) = app
        .get("/api/v1/receivables/ageing?as_of=2026-12-31", &admin)
        .await;
    assert_eq!(report["totals"]["buckets_minor"][0], billed, "{report}");
    let (status, refused) = app
        .post(
            "/api/v1/receivables/leases",
            &admin,
            json!({"customer_id": customer, "currency": "CNY", "principal_minor": 0,
                   "annual_rate_bp": 10001, "months": 0, "first_due_on": "2026-11-01",
                   "signed_on": "2026-12-01", "reference": ""}),
        )
        .await;
    assert_invalid(
        status,
        &refused,
        &[
            ("principal_minor", "out_of_range"),
            ("annual_rate_bp", "out_of_range"),
            ("months", "out_of_range"),
            ("first_due_on", "before_earlier_date"),
            ("reference", "required"),
        ],
    );
}

#[actix_web::test]
async fn double_ten_lists_the_largest_and_the_oldest_overdue_customers() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    // Customer k owes 100 * k, due k days before 2026-06-30 (customer 0 is not yet due).
    let mut customers = Vec::new();
    for k in 0..12i64 {
        let customer = app.organization(&admin, &format!("C{k:02}")).await;
        let due =
            chrono::NaiveDate::from_ymd_opt(2026, 6, 30).unwrap() - chrono::Days::new(k as u64);
        dated_item(
            &app,
            &admin,
            &customer,
            "I",
            100 * (k + 1),
            "2026-01-01",
            &due.to_string(),
        )
        .await;
        customers.push(customer);
    }
    // The largest owes least once most of it was paid before the day: 1200 - 1050 = 150.
    let payment = app
        .payment(&admin, &customers[11], 1_050, "2026-06-01")
        .await;
    let item = app
        .walk(
            &format!("/api/v1/receivables?customer_id={}", customers[11]),
            &admin,
        )
        .await[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    app.allocate(&admin, &payment, &item, 1_050, "2026-06-01")
        .await;
    let (status, lists) = app
        .get("/api/v1/receivables/double-ten?as_of=2026-06-30", &admin)
        .await;
    assert_eq!(status, StatusCode::OK, "{lists}");
    let largest: Vec<Value> = lists["largest"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| json!([e["name"], e["outstanding_minor"]]))
        .collect();
    let expected: Vec<Value> = (1..=10)
        .rev()
        .map(|k| json!([format!("C{k:02}"), 100 * (k + 1)]))
        .collect();
    assert_eq!(largest, expected);
    let oldest: Vec<Value> = lists["oldest"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| json!([e["name"], e["days_overdue"]]))
        .collect();
    let expected: Vec<Value> = (2..12)
        .rev()
        .map(|k| json!([format!("C{k:02}"), k]))
        .collect();
    assert_eq!(oldest, expected);
}

#[actix_web::test]
async fn more_time_is_asked_for_with_a_reason_and_granted_by_someone_else_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "HN").await;
    let (agent, agent_token) = app.user(&admin, "x.agent", "agent", Some(&unit)).await;
    let (_, manager) = app
        .user(&admin, "x.manager", "unit_manager", Some(&unit))
        .await;
    let customer = app
        .customer(
            &admin,
            json!({"kind": "organization", "legal_name": "海南经销商", "owner_id": agent}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let item = app
        .item(&admin, receivable_body(&customer, "INV-1", 1000))
        .await;
    let extensions = format!("/api/v1/receivables/{item}/extensions");
    let (status, refused) = app
        .post(
            &extensions,
            &agent_token,
            json!({"new_due_on": "2026-03-16", "reason": ""}),
        )
        .await;
    assert_invalid(
        status,
        &refused,
        &[
            ("new_due_on", "before_earlier_date"),
            ("reason", "required"),
        ],
    );
    let ask = json!({"new_due_on": "2026-04-15", "reason": "台风导致物流中断"});
    let (status, asked) = app.post(&extensions, &agent_token, ask.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{asked}");
    assert_eq!(
        json!([
            asked["status"],
            asked["previous_due_on"],
            asked["requested_due_on"],
            asked["requested_by"]
        ]),
        json!(["pending", "2026-03-16", "2026-04-15", agent])
    );
    let (status, pending) = app.post(&extensions, &agent_token, ask).await;
    assert_problem(status, &pending, StatusCode::CONFLICT, "extension_pending");
    assert_eq!(pending["existing_id"], asked["id"]);
    let decision = format!("{extensions}/{}/decision", asked["id"].as_str().unwrap());
    let (status, refused) = app
        .post(&decision, &agent_token, json!({"approved": true}))
        .await;
    assert_problem(status, &refused, StatusCode::FORBIDDEN, "forbidden");
    // Not yet granted: the item is due as before.
    let (_, before) = app
        .get(&format!("/api/v1/receivables/{item}"), &admin)
        .await;
    assert_eq!(
        (&before["due_on"], &before["original_due_on"]),
        (&json!("2026-03-16"), &Value::Null)
    );
    let (status, granted) = app
        .post(
            &decision,
            &manager,
            json!({"approved": true, "note": "不可抗力"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{granted}");
    assert_eq!(
        (&granted["status"], &granted["decision_note"]),
        (&json!("approved"), &json!("不可抗力"))
    );
    let (_, after) = app
        .get(&format!("/api/v1/receivables/{item}"), &admin)
        .await;
    assert_eq!(
        (&after["due_on"], &after["original_due_on"]),
        (&json!("2026-04-15"), &json!("2026-03-16"))
    );
    let (status, again) = app
        .post(&decision, &admin, json!({"approved": false}))
        .await;
    assert_problem(status, &again, StatusCode::CONFLICT, "extension_decided");
    // The moved due day is what ageing counts from.
    let (_, report) = app
        .get(
            &format!("/api/v1/receivables/ageing?as_of=2026-04-15&customer_id={customer}"),
            &admin,
        )
        .await;
    assert_eq!(report["totals"]["buckets_minor"][0], 1000, "{report}");
    // A second request, refused: the due day stays; the first due day is kept.
    let (_, second) = app
        .post(
            &extensions,
            &agent_token,
            json!({"new_due_on": "2026-05-15", "reason": "再延期"}),
        )
        .await;
    let decision = format!("{extensions}/{}/decision", second["id"].as_str().unwrap());
    let (status, _) = app
        .post(&decision, &admin, json!({"approved": false}))
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, after) = app
        .get(&format!("/api/v1/receivables/{item}"), &admin)
        .await;
    assert_eq!(
        (&after["due_on"], &after["original_due_on"]),
        (&json!("2026-04-15"), &json!("2026-03-16"))
    );
    let listed = app.walk(&extensions, &agent_token).await;
    let statuses: Vec<&Value> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["status"])
        .collect();
    assert_eq!(statuses, [&json!("approved"), &json!("rejected")]);
}

#[actix_web::test]
async fn a_dispute_is_opened_once_and_resolved() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "华强贸易").await;
    let item = app
        .item(&admin, receivable_body(&customer, "INV-1", 1000))
        .await;
    let dispute = format!("/api/v1/receivables/{item}/dispute");
    let today = company_today();
    let (status, disputed) = app
        .post(
            &dispute,
            &admin,
            json!({"reason": "规格不符", "until": "2099-01-31"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{disputed}");
    assert_eq!(
        disputed["dispute"],
        json!({"since": today, "reason": "规格不符", "until": "2099-01-31"})
    );
    let (status, again) = app.post(&dispute, &admin, json!({"reason": "x"})).await;
    assert_problem(status, &again, StatusCode::CONFLICT, "already_disputed");
    let (status, resolved) = read(
        app.request(reqwest::Method::DELETE, &dispute, Some(&admin))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(
        (status, &resolved["dispute"]),
        (StatusCode::OK, &Value::Null)
    );
    let (status, none) = read(
        app.request(reqwest::Method::DELETE, &dispute, Some(&admin))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_problem(status, &none, StatusCode::CONFLICT, "not_disputed");
    let (status, refused) = app
        .post(&dispute, &admin, json!({"reason": "x", "until": today}))
        .await;
    assert_invalid(status, &refused, &[("until", "before_earlier_date")]);

    // An agent pauses dunning at most the policy's 90 days; longer is the credit
    // department's call.
    let (_, agent) = app.user(&admin, "d.agent", "agent", None).await;
    let owned = app.organization(&agent, "琼海农贸").await;
    let item = app
        .item(&admin, receivable_body(&owned, "INV-2", 1000))
        .await;
    let dispute = format!("/api/v1/receivables/{item}/dispute");
    let day = |days: u64| {
        (today.parse::<chrono::NaiveDate>().unwrap() + chrono::Days::new(days)).to_string()
    };
    let (status, refused) = app
        .post(
            &dispute,
            &agent,
            json!({"reason": "质量争议", "until": "2999-12-31"}),
        )
        .await;
    assert_invalid(status, &refused, &[("until", "out_of_range")]);
    let (status, refused) = app
        .post(
            &dispute,
            &agent,
            json!({"reason": "质量争议", "until": day(91)}),
        )
        .await;
    assert_invalid(status, &refused, &[("until", "out_of_range")]);
    let (_, item_now) = app
        .get(&format!("/api/v1/receivables/{item}"), &admin)
        .await;
    assert_eq!(item_now["dispute"], Value::Null);
    let (status, disputed) = app
        .post(
            &dispute,
            &agent,
            json!({"reason": "质量争议", "until": day(90)}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{disputed}");
    assert_eq!(disputed["dispute"]["until"], day(90));
}

#[actix_web::test]
async fn the_allowance_policy_is_replaced_with_if_match_and_drives_the_allowance() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "华强贸易").await;
    dated_item(
        &app,
        &admin,
        &customer,
        "Y0",
        1_000,
        "2026-06-20",
        "2026-07-20",
    )
    .await;
    dated_item(
        &app,
        &admin,
        &customer,
        "Y1",
        3_000,
        "2025-05-26",
        "2025-06-25",
    )
    .await;
    let policy = "/api/v1/receivables/allowance-policy";
    let (status, current) = app.get(policy, &admin).await;
    assert_eq!(status, StatusCode::OK, "{current}");
    assert_eq!(
        (
            &current["version"],
            current["bands"].as_array().unwrap().len()
        ),
        (&json!(0), 6)
    );
    let put = |etag: Option<&'static str>, body: Value| {
        let mut request = app
            .request(reqwest::Method::PUT, policy, Some(&admin))
            .json(&body);
        if let Some(etag) = etag {
            request = request.header("If-Match", etag);
        }
        async move { read(request.send().await.unwrap()).await }
    };
    let two_bands = json!({"bands": [{"up_to_days": 180, "rate_bp": 300},
                                     {"up_to_days": null, "rate_bp": 5000}]});
    let (status, missing) = put(None, two_bands.clone()).await;
    assert_problem(
        status,
        &missing,
        StatusCode::PRECONDITION_REQUIRED,
        "if_match_required",
    );
    let (status, refused) = put(
        Some("\"0\""),
        json!({"bands": [{"up_to_days": 180, "rate_bp": 300}, {"up_to_days": 90, "rate_bp": 200}]}),
    )
    .await;
    assert_invalid(
        status,
        &refused,
        &[
            ("bands[1].up_to_days", "not_applicable"),
            ("bands[1].rate_bp", "out_of_range"),
        ],
    );
    let (status, replaced) = put(Some("\"0\""), two_bands.clone()).await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(
        (&replaced["version"], &replaced["bands"]),
        (&json!(1), &two_bands["bands"])
    );
    let (status, stale) = put(Some("\"0\""), two_bands).await;
    assert_problem(
        status,
        &stale,
        StatusCode::PRECONDITION_FAILED,
        "version_mismatch",
    );
    assert_eq!(stale["current"]["version"], 1);
    let (_, report) = app
        .get("/api/v1/receivables/allowance?as_of=2026-06-30", &admin)
        .await;
    let bands = allowance_bands(&report);
    assert_eq!(
        bands,
        [
            json!(["0-180", 300, 1_000, 30]),
            json!(["over_180", 5000, 3_000, 1_500])
        ]
    );
    assert_eq!(report["total_allowance_minor"], 1_530);
}

#[actix_web::test]
async fn collection_metrics_count_back_dso_and_give_cei_and_the_overdue_ratio() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, agent) = app.user(&admin, "li.agent", "agent", None).await;
    let customer = app.organization(&admin, "华强贸易").await;
    let january = dated_item(
        &app,
        &admin,
        &customer,
        "J1",
        300_000,
        "2026-01-15",
        "2026-02-14",
    )
    .await;
    let february = dated_item(
        &app,
        &admin,
        &customer,
        "F1",
        500_000,
        "2026-02-10",
        "2026-03-12",
    )
    .await;
    dated_item(
        &app,
        &admin,
        &customer,
        "M1",
        600_000,
        "2026-03-05",
        "2026-04-04",
    )
    .await;
    let paid = app.payment(&admin, &customer, 300_000, "2026-03-05").await;
    assert_eq!(
        app.allocate(&admin, &paid, &january, 300_000, "2026-03-05")
            .await
            .0,
        StatusCode::CREATED
    );
    let part = app.payment(&admin, &customer, 100_000, "2026-03-20").await;
    assert_eq!(
        app.allocate(&admin, &part, &february, 100_000, "2026-03-20")
            .await
            .0,
        StatusCode::CREATED
    );
    // Another customer's items and another currency stay out of the customer's metrics.
    let other = app.organization(&admin, "其他公司").await;
    dated_item(
        &app,
        &admin,
        &other,
        "O1",
        700_000,
        "2026-03-02",
        "2026-03-20",
    )
    .await;
    app.item(
        &admin,
        json!({"customer_id": customer, "currency": "USD", "amount_minor": 9_999,
               "issued_on": "2026-03-03", "due_on": "2026-03-04", "reference": "U1"}),
    )
    .await;

    let path = format!(
        "/api/v1/receivables/collection-metrics?from=2026-03-01&to=2026-03-31&customer_id={customer}"
    );
    let (status, report) = app.get(&path, &admin).await;
    assert_eq!(status, StatusCode::OK, "{report}");
    // Closing 1,000,000: March's 600,000 (31 days), then 400,000 of February's 500,000
    // (28 days): 31 + 22.4. CEI (800k + 600k - 1M) / (800k + 600k - 600k); 400k of 1M overdue.
    assert_eq!(
        json!([
            report["opening_minor"],
            report["invoiced_minor"],
            report["closing_minor"],
            report["closing_current_minor"],
            report["closing_overdue_minor"],
            report["dso_days"],
            report["cei_percent"],
            report["overdue_ratio_percent"],
            report["dso_method"],
            report["currency"],
            report["notes"]
        ]),
        json!([
            800_000,
            600_000,
            1_000_000,
            600_000,
            400_000,
            53.4,
            50.0,
            40.0,
            "count_back",
            "CNY",
            []
        ])
    );
    // The company: the other customer's 700,000, invoiced in March and overdue, joins in.
    let (_, company) = app
        .get(
            "/api/v1/receivables/collection-metrics?from=2026-03-01&to=2026-03-31",
            &admin,
        )
        .await;
    assert_eq!(
        json!([
            company["invoiced_minor"],
            company["closing_minor"],
            company["closing_overdue_minor"]
        ]),
        json!([1_300_000, 1_700_000, 1_100_000])
    );
    // An agent who owns neither sees nothing to divide by.
    let (status, none) = app
        .get(
            "/api/v1/receivables/collection-metrics?from=2026-03-01&to=2026-03-31",
            &agent,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{none}");
    assert_eq!(
        json!([
            none["closing_minor"],
            none["dso_days"],
            none["cei_percent"],
            none["overdue_ratio_percent"]
        ]),
        json!([0, 0.0, null, null])
    );
    assert_eq!(none["notes"].as_array().unwrap().len(), 2, "{none}");
    let (status, refused) = app
        .get(
            "/api/v1/receivables/collection-metrics?from=2026-04-01&to=2026-03-31",
            &admin,
        )
        .await;
    assert_problem(status, &refused, StatusCode::BAD_REQUEST, "invalid_query");
}

#[actix_web::test]
async fn a_month_end_snapshot_keeps_each_units_ageing_and_the_trend_reads_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "SZ").await;
    let other_unit = app.create_unit(&admin, "GZ").await;
    let (agent, agent_token) = app.user(&admin, "li.agent", "agent", Some(&unit)).await;
    let (_, manager) = app
        .user(&admin, "sz.head", "unit_manager", Some(&unit))
        .await;
    let in_unit = app
        .customer(
            &admin,
            json!({"kind": "organization", "legal_name": "华强贸易", "owner_id": agent}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let unit_item = dated_item(
        &app,
        &admin,
        &in_unit,
        "S1",
        1000,
        "2026-04-01",
        "2026-05-01",
    )
    .await;
    let outside = app.organization(&admin, "无部门公司").await;
    dated_item(
        &app,
        &admin,
        &outside,
        "N1",
        500,
        "2026-05-21",
        "2026-06-20",
    )
    .await;

    let snapshots = "/api/v1/receivables/ageing-snapshots";
    let (status, refused) = app
        .post(snapshots, &agent_token, json!({"month": "2026-06"}))
        .await;
    assert_problem(status, &refused, StatusCode::FORBIDDEN, "forbidden");
    let this_month = &company_today()[..7];
    for (month, code) in [(this_month, "out_of_range"), ("2026-6", "invalid_value")] {
        let (status, refused) = app.post(snapshots, &admin, json!({"month": month})).await;
        assert_invalid(status, &refused, &[("month", code)]);
    }
    let (status, june) = app
        .post(snapshots, &admin, json!({"month": "2026-06"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{june}");
    let rows = |snapshot: &Value| -> Vec<Value> {
        snapshot["units"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| {
                json!([
                    u["sales_unit_id"],
                    u["outstanding_minor"],
                    u["buckets_minor"]
                ])
            })
            .collect()
    };
    // As of June 30: the unit's item 60 days past due, the other 10 days.
    let expected = vec![
        json!([null, 500, [0, 500, 0, 0, 0, 0, 0]]),
        json!([unit, 1000, [0, 0, 1000, 0, 0, 0, 0]]),
    ];
    assert_eq!(rows(&june), expected);
    assert_eq!(june["month_end"], "2026-06-30");
    assert_eq!(june["units"][0]["bucket_labels"][2], "31-60");

    // A payment dated in June posted afterwards: the snapshot stands as taken.
    let payment = app.payment(&admin, &in_unit, 1000, "2026-06-15").await;
    assert_eq!(
        app.allocate(&admin, &payment, &unit_item, 1000, "2026-06-15")
            .await
            .0,
        StatusCode::CREATED
    );
    let (status, again) = app
        .post(snapshots, &admin, json!({"month": "2026-06"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{again}");
    assert_eq!(rows(&again), expected);
    let (status, may) = app
        .post(snapshots, &admin, json!({"month": "2026-05"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{may}");

    let trend = "/api/v1/receivables/ageing-trend?from=2026-05&to=2026-06";
    let (status, all) = app.get(trend, &admin).await;
    assert_eq!(status, StatusCode::OK, "{all}");
    let points: Vec<Value> = all["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| json!([p["month_end"], p["sales_unit_id"], p["outstanding_minor"]]))
        .collect();
    assert_eq!(
        points,
        [
            json!(["2026-05-31", null, 500]),
            json!(["2026-05-31", unit, 1000]),
            json!(["2026-06-30", null, 500]),
            json!(["2026-06-30", unit, 1000]),
        ]
    );
    // A unit manager sees their unit's trend only; an agent none.
    let (status, own) = app.get(trend, &manager).await;
    assert_eq!(status, StatusCode::OK, "{own}");
    let units: Vec<&Value> = own["points"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["sales_unit_id"])
        .collect();
    assert_eq!(units, [&json!(unit), &json!(unit)]);
    let (status, refused) = app
        .get(&format!("{trend}&sales_unit_id={other_unit}"), &manager)
        .await;
    assert_problem(status, &refused, StatusCode::FORBIDDEN, "forbidden");
    let (status, refused) = app.get(trend, &agent_token).await;
    assert_problem(status, &refused, StatusCode::FORBIDDEN, "forbidden");
}

#[actix_web::test]
async fn collection_targets_are_set_per_month_and_met_by_allocations_in_the_period() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "SZ").await;
    let (_, credit) = app
        .user(&admin, "wang.credit", "credit_manager", None)
        .await;
    let (a, a_token) = app.user(&admin, "a.agent", "agent", Some(&unit)).await;
    let (b, _) = app.user(&admin, "b.agent", "agent", Some(&unit)).await;
    let owned = |owner: String, name: &'static str| {
        let (app, admin) = (&app, &admin);
        async move {
            app.customer(
                admin,
                json!({"kind": "organization", "legal_name": name, "owner_id": owner}),
            )
            .await["id"]
                .as_str()
                .unwrap()
                .to_owned()
        }
    };
    let a_customer = owned(a.clone(), "甲公司").await;
    let b_customer = owned(b.clone(), "乙公司").await;
    let a_item = dated_item(
        &app,
        &admin,
        &a_customer,
        "A1",
        1000,
        "2026-04-01",
        "2026-05-01",
    )
    .await;
    let b_item = dated_item(
        &app,
        &admin,
        &b_customer,
        "B1",
        2000,
        "2026-04-01",
        "2026-05-01",
    )
    .await;
    for (customer, item, amount, on) in [
        (&a_customer, &a_item, 600, "2026-05-10"),
        (&a_customer, &a_item, 300, "2026-06-05"),
        (&b_customer, &b_item, 2000, "2026-07-01"),
    ] {
        let payment = app.payment(&admin, customer, amount, on).await;
        assert_eq!(
            app.allocate(&admin, &payment, item, amount, on).await.0,
            StatusCode::CREATED
        );
    }
    let put = |collector: &str, month: &str, body: Value| {
        let path = format!("/api/v1/collection-targets/{collector}/{month}");
        let (app, credit) = (&app, &credit);
        async move {
            read(
                app.request(reqwest::Method::PUT, &path, Some(credit))
                    .json(&body)
                    .send()
                    .await
                    .unwrap(),
            )
            .await
        }
    };
    let (status, set) = put(&a, "2026-05", json!({"target_minor": 1000})).await;
    assert_eq!(status, StatusCode::OK, "{set}");
    assert_eq!(
        json!([
            set["collector_id"],
            set["month"],
            set["currency"],
            set["target_minor"]
        ]),
        json!([a, "2026-05", "CNY", 1000])
    );
    assert_eq!(
        put(&a, "2026-06", json!({"target_minor": 500})).await.0,
        StatusCode::OK
    );
    assert_eq!(
        put(&b, "2026-05", json!({"target_minor": 800})).await.0,
        StatusCode::OK
    );
    let (status, refused) = put(&a, "2026-Q2", json!({"target_minor": 0})).await;
    assert_invalid(status, &refused, &[("month", "invalid_value")]);
    let (status, refused) = put(&a, "2026-05", json!({"target_minor": 0})).await;
    assert_invalid(status, &refused, &[("target_minor", "out_of_range")]);
    let (status, refused) = put(
        &uuid::Uuid::now_v7().to_string(),
        "2026-05",
        json!({"target_minor": 1}),
    )
    .await;
    assert_problem(status, &refused, StatusCode::NOT_FOUND, "not_found");
    let (status, refused) = read(
        app.request(
            reqwest::Method::PUT,
            &format!("/api/v1/collection-targets/{a}/2026-05"),
            Some(&a_token),
        )
        .json(&json!({"target_minor": 1}))
        .send()
        .await
        .unwrap(),
    )
    .await;
    assert_problem(status, &refused, StatusCode::FORBIDDEN, "forbidden");

    let results = |report: &Value| -> Vec<Value> {
        let mut rows: Vec<Value> = report["collectors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                json!([
                    c["collector_id"],
                    c["target_minor"],
                    c["achieved_minor"],
                    c["achievement_bp"]
                ])
            })
            .collect();
        rows.sort_by_key(|r| r[0].as_str().unwrap().to_owned());
        rows
    };
    let sorted = |mut rows: Vec<Value>| {
        rows.sort_by_key(|r| r[0].as_str().unwrap().to_owned());
        rows
    };
    let (status, may) = app
        .get("/api/v1/collection-targets?period=2026-05", &admin)
        .await;
    assert_eq!(status, StatusCode::OK, "{may}");
    assert_eq!(
        results(&may),
        sorted(vec![json!([a, 1000, 600, 6000]), json!([b, 800, 0, 0])])
    );
    let (_, quarter) = app
        .get("/api/v1/collection-targets?period=2026-Q2", &admin)
        .await;
    assert_eq!(
        (&quarter["from"], &quarter["to"]),
        (&json!("2026-04-01"), &json!("2026-06-30"))
    );
    assert_eq!(
        results(&quarter),
        sorted(vec![json!([a, 1500, 900, 6000]), json!([b, 800, 0, 0])])
    );
    // B's collection in July counts in the third quarter, without a target.
    let (_, third) = app
        .get("/api/v1/collection-targets?period=2026-Q3", &admin)
        .await;
    assert_eq!(results(&third), vec![json!([b, 0, 2000, null])]);
    // A new target replaces the month's; an agent sees only itself.
    assert_eq!(
        put(&a, "2026-05", json!({"target_minor": 1200})).await.0,
        StatusCode::OK
    );
    let (_, own) = app
        .get("/api/v1/collection-targets?period=2026-05", &a_token)
        .await;
    assert_eq!(results(&own), vec![json!([a, 1200, 600, 5000])]);
    let (status, refused) = app
        .get("/api/v1/collection-targets?period=2026-5", &admin)
        .await;
    assert_problem(status, &refused, StatusCode::BAD_REQUEST, "invalid_query");
}
