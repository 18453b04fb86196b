//! Company settings: the currency, the time zone whose day is "today" everywhere, the fiscal
//! year; exchange rates recorded once per day and looked up on or before a day.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::*;
use crate::orders::order_body;

async fn set_time_zone(app: &TestApp, admin: &str, zone: &str) -> Value {
    let (status, settings) = read(
        app.patch("/api/v1/settings", admin, "*", json!({ "time_zone": zone }))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{settings}");
    settings
}

#[actix_web::test]
async fn settings_default_to_a_chinese_company_and_only_admins_change_them() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, agent) = app.user(&admin, "agent.a", "agent", None).await;
    let response = app
        .request(Method::GET, "/api/v1/settings", Some(&agent))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["etag"], "\"0\"");
    let (status, settings) = read(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(settings["currency"], "CNY");
    assert_eq!(settings["time_zone"], "Asia/Shanghai");
    assert_eq!(settings["fiscal_year_start_month"], 1);
    assert_eq!(settings["version"], 0);
    // Beijing time has no DST: eight hours ahead of UTC. (A test at the very turn of the
    // day could see the next one.)
    assert!(
        [day_at(8), day_at(8 - 1)].contains(&settings["today"].as_str().unwrap().to_owned()),
        "{settings}"
    );
    let (status, body) = read(
        app.patch("/api/v1/settings", &agent, "*", json!({"currency": "USD"}))
            .await,
    )
    .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = read(
        app.patch(
            "/api/v1/settings",
            &admin,
            "\"0\"",
            json!({"currency": "XYZ", "time_zone": "Mars/Olympus", "fiscal_year_start_month": 0}),
        )
        .await,
    )
    .await;
    assert_problem(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    let fields: Vec<String> = error_fields(&body).into_iter().map(|(f, _)| f).collect();
    assert_eq!(fields, ["currency", "time_zone", "fiscal_year_start_month"]);
    let response = app
        .patch(
            "/api/v1/settings",
            &admin,
            "\"0\"",
            json!({"fiscal_year_start_month": 4}),
        )
        .await;
    assert_eq!(response.headers()["etag"], "\"1\"");
    let (status, changed) = read(response).await;
    assert_eq!(status, StatusCode::OK, "{changed}");
    assert_eq!(
        (&changed["fiscal_year_start_month"], &changed["currency"]),
        (&json!(4), &json!("CNY"))
    );
    let (status, body) = read(
        app.patch(
            "/api/v1/settings",
            &admin,
            "\"0\"",
            json!({"currency": "USD"}),
        )
        .await,
    )
    .await;
    assert_problem(
        status,
        &body,
        StatusCode::PRECONDITION_FAILED,
        "version_mismatch",
    );
    assert_eq!(body["current"]["fiscal_year_start_month"], 4);
    let (_, read_back) = app.get("/api/v1/settings", &agent).await;
    assert_eq!(read_back["version"], 1);
    assert_eq!(read_back["fiscal_year_start_month"], 4);
}

#[actix_web::test]
async fn today_is_the_company_day_everywhere() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "Acme").await;
    // Kiritimati is fourteen hours ahead of UTC: for most of the UTC day it is tomorrow there.
    let settings = set_time_zone(&app, &admin, "Pacific/Kiritimati").await;
    let ahead = day_at(14);
    assert_eq!(settings["today"], ahead.as_str());
    let order = app.order(&admin, order_body(&customer, &ahead)).await;
    let (status, confirmed) = app.step(&admin, &order, "confirm").await;
    assert_eq!(status, StatusCode::OK, "{confirmed}");
    assert_eq!(confirmed["confirmed_on"], ahead.as_str());
    // Pago Pago is eleven hours behind UTC: Kiritimati's day is in its future.
    let settings = set_time_zone(&app, &admin, "Pacific/Pago_Pago").await;
    let behind = day_at(-11);
    assert_eq!(settings["today"], behind.as_str());
    let (status, body) = app
        .post(
            &format!("/api/v1/orders/{}/ship", order["id"].as_str().unwrap()),
            &admin,
            json!({"on": ahead}),
        )
        .await;
    assert_problem(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    let (status, body) = app
        .post("/api/v1/orders", &admin, order_body(&customer, &ahead))
        .await;
    assert_problem(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
}

#[actix_web::test]
async fn exchange_rates_are_recorded_once_and_hold_until_the_next() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, finance) = app.user(&admin, "cash", "finance", None).await;
    let (_, agent) = app.user(&admin, "agent.a", "agent", None).await;
    let (_, credit) = app.user(&admin, "credit.m", "credit_manager", None).await;
    let rate = |currency: &str, on: &str, rate: &str| json!({"currency": currency, "on": on, "rate": rate});
    // Nobody who approves credit sets the rates its limits are weighed at.
    for token in [&agent, &credit] {
        let (status, body) = app
            .post("/api/v1/fx-rates", token, rate("USD", "2026-06-01", "7.1"))
            .await;
        assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    }
    let tomorrow = day_at(8 + 24);
    let (status, body) = app
        .post("/api/v1/fx-rates", &finance, rate("USD", &tomorrow, "7.1"))
        .await;
    assert_invalid(status, &body, &[("on", "in_future")]);
    let (status, created) = app
        .post(
            "/api/v1/fx-rates",
            &finance,
            rate("USD", "2026-06-01", "7.10"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(
        created,
        json!({"currency": "USD", "on": "2026-06-01", "rate": "7.1"})
    );
    let (status, again) = app
        .post(
            "/api/v1/fx-rates",
            &finance,
            rate("USD", "2026-06-01", "7.1"),
        )
        .await;
    assert_eq!((status, &again), (StatusCode::OK, &created));
    let (status, body) = app
        .post(
            "/api/v1/fx-rates",
            &finance,
            rate("USD", "2026-06-01", "7.2"),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT, "fx_rate_conflict");
    let (status, body) = app
        .post(
            "/api/v1/fx-rates",
            &finance,
            rate("CNY", "2026-06-01", "1.5"),
        )
        .await;
    assert_invalid(status, &body, &[("currency", "home_currency")]);
    let (status, body) = app
        .post(
            "/api/v1/fx-rates",
            &finance,
            rate("EUR", "2026-06-01", "1e3"),
        )
        .await;
    assert_invalid(status, &body, &[("rate", "invalid_rate")]);
    let lookup = |on: &str| format!("/api/v1/fx-rates/lookup?currency=USD&on={on}");
    let (status, found) = app.get(&lookup("2026-06-15"), &agent).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(
        found,
        json!({"requested_on": "2026-06-15", "currency": "USD", "on": "2026-06-01", "rate": "7.1"})
    );
    let (status, body) = app.get(&lookup("2026-05-31"), &agent).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "fx_rate_missing");
    let (status, _) = app
        .post(
            "/api/v1/fx-rates",
            &admin,
            rate("USD", "2026-06-10", "7.25"),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(
        app.get(&lookup("2026-06-15"), &agent).await.1["rate"],
        "7.25"
    );
    assert_eq!(
        app.get(&lookup("2026-06-09"), &agent).await.1["rate"],
        "7.1"
    );
    let (_, home) = app
        .get("/api/v1/fx-rates/lookup?currency=CNY&on=2026-06-15", &agent)
        .await;
    assert_eq!(home["rate"], "1");
    let (_, first) = app
        .get("/api/v1/fx-rates?currency=USD&limit=1", &agent)
        .await;
    assert_eq!(first["items"][0]["on"], "2026-06-10", "{first}");
    let cursor = first["next_cursor"].as_str().unwrap();
    let (_, second) = app
        .get(
            &format!("/api/v1/fx-rates?currency=USD&limit=1&cursor={cursor}"),
            &agent,
        )
        .await;
    assert_eq!(second["items"][0]["on"], "2026-06-01", "{second}");
    assert!(second["next_cursor"].is_null(), "{second}");
    let (status, body) = app.get("/api/v1/fx-rates?currency=XX", &agent).await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "invalid_query");
}

/// A rate far from the one before it takes a second rate keeper; a typo is corrected by a
/// new version with its reason, the old rate kept in the change; nobody approves their own.
#[actix_web::test]
async fn a_rate_beyond_the_band_waits_for_a_second_person_and_a_typo_is_corrected() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, cash) = app.user(&admin, "cash.a", "finance", None).await;
    let (_, credit) = app.user(&admin, "credit.b", "credit_manager", None).await;
    let rate_on = |on: &str| {
        let app = &app;
        let cash = cash.clone();
        let path = format!("/api/v1/fx-rates/lookup?currency=USD&on={on}");
        async move { app.get(&path, &cash).await.1["rate"].clone() }
    };
    let post = |path: &'static str, body: Value| {
        let app = &app;
        let cash = cash.clone();
        async move { app.post(path, &cash, body).await }
    };
    let (status, _) = post(
        "/api/v1/fx-rates",
        json!({"currency": "USD", "on": "2026-06-01", "rate": "7.10"}),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);

    // A billionth of the rate before: not in force on one person's word.
    let (status, pending) = post(
        "/api/v1/fx-rates",
        json!({"currency": "USD", "on": "2026-06-02", "rate": "0.0000000001"}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{pending}");
    assert_eq!(
        (&pending["status"], &pending["deviation_bp"]),
        (&json!("pending"), &json!(10_000))
    );
    assert_eq!(rate_on("2026-06-02").await, "7.1");
    let change = format!(
        "/api/v1/fx-rates/changes/{}",
        pending["id"].as_str().unwrap()
    );
    let (status, refused) = app
        .post(&format!("{change}/approve"), &cash, json!({}))
        .await;
    assert_problem(status, &refused, StatusCode::FORBIDDEN, "same_person");
    let (status, refused) = app
        .post(&format!("{change}/approve"), &credit, json!({}))
        .await;
    assert_problem(status, &refused, StatusCode::FORBIDDEN, "forbidden");
    let (status, approved) = app
        .post(
            &format!("{change}/approve"),
            &admin,
            json!({"note": "核对无误"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(approved["status"], "applied");
    assert_eq!(rate_on("2026-06-02").await, "0.0000000001");
    let (status, again) = app
        .post(&format!("{change}/reject"), &admin, json!({"note": "x"}))
        .await;
    assert_problem(status, &again, StatusCode::CONFLICT, "invalid_transition");

    // Another rate for a recorded day is a conflict unless it corrects it, with a reason.
    let (status, conflict) = post(
        "/api/v1/fx-rates",
        json!({"currency": "USD", "on": "2026-06-01", "rate": "7.11"}),
    )
    .await;
    assert_problem(status, &conflict, StatusCode::CONFLICT, "fx_rate_conflict");
    let (status, refused) = post(
        "/api/v1/fx-rates/corrections",
        json!({"currency": "USD", "on": "2026-06-01", "rate": "7.11", "reason": "\u{200b}"}),
    )
    .await;
    assert_invalid(status, &refused, &[("reason", "required")]);
    let (status, corrected) = post(
        "/api/v1/fx-rates/corrections",
        json!({"currency": "USD", "on": "2026-06-01", "rate": "7.11", "reason": "录入错误"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{corrected}");
    assert_eq!(rate_on("2026-06-01").await, "7.11");
    // A correction ten times the rate waits, and a second rate keeper may refuse it.
    let (status, pending) = post(
        "/api/v1/fx-rates/corrections",
        json!({"currency": "USD", "on": "2026-06-01", "rate": "71.1", "reason": "小数点"}),
    )
    .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{pending}");
    let change = format!(
        "/api/v1/fx-rates/changes/{}",
        pending["id"].as_str().unwrap()
    );
    let (status, refused) = app
        .post(&format!("{change}/reject"), &admin, json!({}))
        .await;
    assert_invalid(status, &refused, &[("note", "required")]);
    let (status, rejected) = app
        .post(
            &format!("{change}/reject"),
            &admin,
            json!({"note": "小数点错位"}),
        )
        .await;
    assert_eq!(
        (status, &rejected["status"]),
        (StatusCode::OK, &json!("rejected"))
    );
    assert_eq!(rate_on("2026-06-01").await, "7.11");

    // The day's history: what each change put in force and what it replaced.
    let history: Vec<Value> = app
        .walk("/api/v1/fx-rates/changes?status=applied,rejected", &credit)
        .await
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["on"] == "2026-06-01")
        .map(|c| json!([c["status"], c["rate"], c["previous_rate"], c["reason"]]))
        .collect();
    assert_eq!(
        history,
        [
            json!(["rejected", "71.1", "7.11", "小数点"]),
            json!(["applied", "7.11", "7.1", "录入错误"]),
            json!(["applied", "7.1", null, null]),
        ]
    );
    let pending = app
        .walk("/api/v1/fx-rates/changes?status=pending", &credit)
        .await;
    assert_eq!(pending, json!([]));
}
