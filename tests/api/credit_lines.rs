//! Credit lines: applications through pre-review, evaluation and maker-checker approval into
//! agreements; carried-over and revoked lines; the customer's credit, on both databases.

use diesel::sql_types::Text;
use diesel::{QueryableByName, RunQueryDsl};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::*;
use crate::credit::evaluation_body;
use crate::jobs::{db_run, Count};

#[derive(QueryableByName)]
struct Actor {
    #[diesel(sql_type = Text)]
    actor_id: String,
}

/// Who acts on applications: a sales unit with its agent and head, two credit managers.
struct Desk {
    admin: String,
    agent: String,
    head: (String, String),
    evaluator: (String, String),
    approver: (String, String),
}

async fn desk(app: &TestApp) -> Desk {
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "HN").await;
    let (_, agent) = app.user(&admin, "l.agent", "agent", Some(&unit)).await;
    Desk {
        head: app
            .user(&admin, "l.head", "unit_manager", Some(&unit))
            .await,
        evaluator: app.user(&admin, "l.eval", "credit_manager", None).await,
        approver: app.user(&admin, "l.appr", "credit_manager", None).await,
        admin,
        agent,
    }
}

fn application_body(customer_id: &str, green_channel: bool) -> Value {
    json!({"customer_id": customer_id, "requested_limit_minor": 100_000_000_i64,
           "currency": "CNY", "term_days": 60, "reason": "年度框架合同,月均采购80万元",
           "green_channel": green_channel})
}

async fn apply(app: &TestApp, token: &str, customer_id: &str, green_channel: bool) -> Value {
    let (status, application) = app
        .post(
            "/api/v1/credit/applications",
            token,
            application_body(customer_id, green_channel),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{application}");
    application
}

async fn step(
    app: &TestApp,
    token: &str,
    id: &str,
    step: &str,
    body: Value,
) -> (StatusCode, Value) {
    app.post(
        &format!("/api/v1/credit/applications/{id}/{step}"),
        token,
        body,
    )
    .await
}

/// An evaluation of the customer by `token` (scores 4: final limit 99,000,000, "3A2"),
/// made for `application_id` when given, perhaps with a manual final limit.
async fn evaluate(
    app: &TestApp,
    desk: &Desk,
    customer_id: &str,
    application_id: Option<&str>,
    final_limit_minor: Option<i64>,
) -> Value {
    let mut body = evaluation_body(app, &desk.admin, customer_id, 4).await;
    body["application_id"] = json!(application_id);
    if let Some(limit) = final_limit_minor {
        body["manual_adjustment"] = json!({"final_limit_minor": limit, "reason": "集团担保"});
    }
    let (status, evaluation) = app
        .post("/api/v1/credit/evaluations", &desk.evaluator.1, body)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{evaluation}");
    evaluation
}

async fn credit_of(app: &TestApp, token: &str, customer_id: &str) -> Value {
    let (status, credit) = app
        .get(&format!("/api/v1/customers/{customer_id}/credit"), token)
        .await;
    assert_eq!(status, StatusCode::OK, "{credit}");
    credit
}

#[actix_web::test]
async fn an_application_passes_the_unit_head_and_the_credit_department_into_the_agreement() {
    let app = TestApp::spawn().await;
    let desk = desk(&app).await;
    let customer = app.organization(&desk.agent, "海南椰风贸易有限公司").await;
    let application = apply(&app, &desk.agent, &customer, false).await;
    let id = application["id"].as_str().unwrap();
    assert_eq!(application["status"], "submitted");
    assert_eq!(application["requested_limit_minor"], 100_000_000);
    assert_eq!(application["term_days"], 60);
    assert_eq!(application["green_channel_pending"], false);
    assert!(application["sales_unit_id"].is_string(), "{application}");

    // The credit department waits for the unit head; another unit's head may not pre-review.
    let evaluation = evaluate(&app, &desk, &customer, Some(id), None).await;
    assert_eq!(evaluation["application_id"], id);
    let evaluation_id = evaluation["id"].as_str().unwrap();
    let attach = json!({"evaluation_id": evaluation_id});
    let (status, refused) = step(&app, &desk.evaluator.1, id, "evaluate", attach.clone()).await;
    assert_problem(status, &refused, StatusCode::CONFLICT, "invalid_transition");
    let other_unit = app.create_unit(&desk.admin, "GD").await;
    let (_, other_head) = app
        .user(&desk.admin, "l.head2", "unit_manager", Some(&other_unit))
        .await;
    let (status, refused) = step(&app, &other_head, id, "pre-review", json!({})).await;
    assert_problem(status, &refused, StatusCode::NOT_FOUND, "not_found");
    let (status, refused) = step(&app, &desk.agent, id, "pre-review", json!({})).await;
    assert_problem(status, &refused, StatusCode::FORBIDDEN, "forbidden");
    let (status, reviewed) = step(
        &app,
        &desk.head.1,
        id,
        "pre-review",
        json!({"note": "客户经营稳定"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reviewed}");
    assert_eq!(reviewed["status"], "pre_reviewed");
    assert_eq!(reviewed["pre_review"]["by"], desk.head.0.as_str());
    assert_eq!(reviewed["pre_review"]["note"], "客户经营稳定");

    let (status, evaluated) = step(&app, &desk.evaluator.1, id, "evaluate", attach).await;
    assert_eq!(status, StatusCode::OK, "{evaluated}");
    assert_eq!(evaluated["status"], "evaluated");
    assert_eq!(evaluated["evaluation_id"], evaluation_id);

    // Maker and checker: the evaluator does not approve, and nothing is granted.
    let (status, refused) = step(&app, &desk.evaluator.1, id, "approve", json!({})).await;
    assert_problem(status, &refused, StatusCode::FORBIDDEN, "same_person");
    assert_eq!(
        credit_of(&app, &desk.agent, &customer).await["agreements"],
        json!([])
    );

    let guarantees =
        json!([{"kind": "guarantor", "description": "海南椰风集团", "value_minor": null}]);
    let (status, approved) = step(
        &app,
        &desk.approver.1,
        id,
        "approve",
        json!({"guarantees": guarantees, "note": "同意"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(approved["status"], "approved");
    assert_eq!(approved["decision"]["by"], desk.approver.0.as_str());
    let agreement_id = approved["agreement_id"].as_str().unwrap();
    let (status, agreement) = app
        .get(
            &format!("/api/v1/credit/agreements/{agreement_id}"),
            &desk.agent,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{agreement}");
    let credit = credit_of(&app, &desk.agent, &customer).await;
    let today = credit["as_of"].as_str().unwrap();
    assert_eq!(agreement["limit_minor"], 99_000_000);
    assert_eq!(agreement["currency"], "CNY");
    assert_eq!(agreement["term_days"], 60);
    assert_eq!(agreement["rating"], "3A2");
    assert_eq!(agreement["standing"], "in_force");
    assert_eq!(agreement["status"], "active");
    assert_eq!(agreement["source"], "application");
    assert_eq!(agreement["application_id"], id);
    assert_eq!(agreement["evaluation_id"], evaluation_id);
    assert_eq!(agreement["guarantees"], guarantees);
    assert_eq!(agreement["valid_from"], today);
    assert!(agreement["valid_to"].as_str().unwrap() > today);
    assert_eq!(credit["agreements"], json!([agreement]));
    assert_eq!(credit["latest_evaluation"]["rating"], "3A2");
    assert_eq!(credit["open_applications"], json!([]));
    // The approver is the evaluation's reviewer.
    let (_, evaluation) = app
        .get(
            &format!("/api/v1/credit/evaluations/{evaluation_id}"),
            &desk.admin,
        )
        .await;
    assert_eq!(evaluation["reviewer_id"], desk.approver.0.as_str());

    // A decided application moves no more.
    let (status, refused) = step(&app, &desk.admin, id, "reject", json!({"reason": "x"})).await;
    assert_problem(status, &refused, StatusCode::CONFLICT, "invalid_transition");
    // Every step is audited, by whoever took it.
    let id_owned = id.to_owned();
    let actors = db_run(&app, move |conn| {
        Ok(diesel::sql_query(
            "SELECT actor_id FROM audit_log WHERE entity_type = 'credit_application' \
             AND entity_id = $1 ORDER BY at, id",
        )
        .bind::<Text, _>(id_owned)
        .load::<Actor>(conn)?
        .into_iter()
        .map(|a| a.actor_id)
        .collect::<Vec<_>>())
    })
    .await;
    let (_, me) = app.get("/api/v1/me", &desk.agent).await;
    assert_eq!(
        actors,
        [
            me["id"].as_str().unwrap(),
            desk.head.0.as_str(),
            desk.evaluator.0.as_str(),
            desk.approver.0.as_str()
        ]
    );
}

#[actix_web::test]
async fn approval_limits_hold_for_approvals_and_carried_over_lines() {
    let app = TestApp::spawn().await;
    let desk = desk(&app).await;
    let customer = app.organization(&desk.agent, "三亚港务建设有限公司").await;
    let application = apply(&app, &desk.agent, &customer, true).await;
    assert_eq!(application["green_channel_pending"], true);
    let id = application["id"].as_str().unwrap();
    // Six million yuan: above a credit manager's five.
    let evaluation = evaluate(&app, &desk, &customer, None, Some(600_000_000)).await;
    let attach = json!({"evaluation_id": evaluation["id"]});
    // A green-channel application is evaluated without its pre-review.
    let (status, evaluated) = step(&app, &desk.evaluator.1, id, "evaluate", attach).await;
    assert_eq!(status, StatusCode::OK, "{evaluated}");
    assert_eq!(evaluated["green_channel_pending"], false);
    let (status, refused) = step(&app, &desk.approver.1, id, "approve", json!({})).await;
    assert_problem(
        status,
        &refused,
        StatusCode::FORBIDDEN,
        "approval_limit_exceeded",
    );
    let (status, refused) = step(&app, &desk.head.1, id, "approve", json!({})).await;
    assert_problem(status, &refused, StatusCode::FORBIDDEN, "forbidden");
    let (status, approved) = step(&app, &desk.admin, id, "approve", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    let first = approved["agreement_id"].as_str().unwrap().to_owned();
    // A line rated worse than the one it replaces (5A2 -> 3A2) raises an alert.
    let renewal = apply(&app, &desk.agent, &customer, true).await;
    let renewal = renewal["id"].as_str().unwrap();
    let evaluation = evaluate(&app, &desk, &customer, Some(renewal), None).await;
    let attach = json!({"evaluation_id": evaluation["id"]});
    step(&app, &desk.evaluator.1, renewal, "evaluate", attach).await;
    let (status, approved) = step(&app, &desk.approver.1, renewal, "approve", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    let (_, dropped) = app
        .get(
            &format!("/api/v1/credit/alerts?customer_id={customer}&kind=rating_drop"),
            &desk.admin,
        )
        .await;
    assert_eq!(dropped["items"][0]["detail"], "rating 5A2 -> 3A2 (CNY)");
    let (_, first_line) = app
        .get(&format!("/api/v1/credit/agreements/{first}"), &desk.admin)
        .await;
    assert_eq!(first_line["status"], "superseded");
    let first = approved["agreement_id"].as_str().unwrap().to_owned();

    // A line carried over from the old system supersedes the line of its currency.
    let carried = json!({"customer_id": customer, "currency": "CNY", "limit_minor": 50_000_000,
                         "term_days": 30, "reason": "旧系统迁移: 2026年度授信"});
    let (status, refused) = app
        .post("/api/v1/credit/agreements", &desk.agent, carried.clone())
        .await;
    assert_problem(status, &refused, StatusCode::FORBIDDEN, "forbidden");
    let mut too_large = carried.clone();
    too_large["limit_minor"] = json!(500_000_001);
    let (status, refused) = app
        .post("/api/v1/credit/agreements", &desk.approver.1, too_large)
        .await;
    assert_problem(
        status,
        &refused,
        StatusCode::FORBIDDEN,
        "approval_limit_exceeded",
    );
    let mut backwards = carried.clone();
    backwards["valid_from"] = json!("2030-01-02");
    backwards["valid_to"] = json!("2030-01-01");
    backwards["reason"] = json!(" ");
    let (status, refused) = app
        .post("/api/v1/credit/agreements", &desk.approver.1, backwards)
        .await;
    assert_invalid(
        status,
        &refused,
        &[("reason", "required"), ("valid_to", "before_earlier_date")],
    );
    let (status, line) = app
        .post("/api/v1/credit/agreements", &desk.approver.1, carried)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{line}");
    assert_eq!(line["source"], "carried_over");
    assert_eq!(line["limit_minor"], 50_000_000);
    assert_eq!(line["rating"], Value::Null);
    assert_eq!(line["reason"], "旧系统迁移: 2026年度授信");
    let (_, old) = app
        .get(&format!("/api/v1/credit/agreements/{first}"), &desk.admin)
        .await;
    assert_eq!(old["status"], "superseded");
    assert_eq!(old["standing"], "superseded");
    assert_eq!(old["ended_by"], desk.approver.0.as_str());
    let credit = credit_of(&app, &desk.agent, &customer).await;
    assert_eq!(credit["agreements"], json!([line]));

    // A revoked line stops holding; it is revoked once.
    let revoke = format!(
        "/api/v1/credit/agreements/{}/revoke",
        line["id"].as_str().unwrap()
    );
    let (status, revoked) = app
        .post(&revoke, &desk.approver.1, json!({"reason": "客户涉诉"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{revoked}");
    assert_eq!(revoked["standing"], "revoked");
    assert_eq!(revoked["end_reason"], "客户涉诉");
    let (status, refused) = app
        .post(&revoke, &desk.approver.1, json!({"reason": "again"}))
        .await;
    assert_problem(status, &refused, StatusCode::CONFLICT, "invalid_transition");
    assert_eq!(
        credit_of(&app, &desk.agent, &customer).await["agreements"],
        json!([])
    );
    let customer_owned = customer.clone();
    let lines = db_run(&app, move |conn| {
        Ok(
            diesel::sql_query("SELECT count(*) AS n FROM credit_agreements WHERE customer_id = $1")
                .bind::<Text, _>(customer_owned)
                .get_result::<Count>(conn)?
                .n,
        )
    })
    .await;
    assert_eq!(lines, 3, "the refused lines wrote nothing");
}

#[actix_web::test]
async fn rejections_and_faulty_steps_leave_reasons_and_write_nothing_else() {
    let app = TestApp::spawn().await;
    let desk = desk(&app).await;
    let customer = app.organization(&desk.agent, "儋州海产有限公司").await;
    let stranger = app.organization(&desk.admin, "临高渔业有限公司").await;

    let (status, refused) = app
        .post(
            "/api/v1/credit/applications",
            &desk.agent,
            json!({"customer_id": customer, "requested_limit_minor": 0, "currency": "CNX",
                   "term_days": -1, "reason": ""}),
        )
        .await;
    assert_invalid(
        status,
        &refused,
        &[
            ("requested_limit_minor", "out_of_range"),
            ("currency", "invalid_currency"),
            ("term_days", "out_of_range"),
            ("reason", "required"),
        ],
    );
    let (status, refused) = app
        .post(
            "/api/v1/credit/applications",
            &desk.agent,
            application_body(&stranger, false),
        )
        .await;
    assert_invalid(status, &refused, &[("customer_id", "not_found")]);
    let (status, refused) = app
        .post(
            "/api/v1/credit/applications",
            &desk.evaluator.1,
            application_body(&customer, false),
        )
        .await;
    assert_problem(status, &refused, StatusCode::FORBIDDEN, "forbidden");

    // The unit head rejects before the pre-review, with a reason.
    let first = apply(&app, &desk.agent, &customer, false).await;
    let first = first["id"].as_str().unwrap();
    let (status, refused) = step(&app, &desk.head.1, first, "reject", json!({"reason": " "})).await;
    assert_invalid(status, &refused, &[("reason", "required")]);
    let (status, rejected) = step(
        &app,
        &desk.head.1,
        first,
        "reject",
        json!({"reason": "资料不全"}),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{rejected}");
    assert_eq!(rejected["status"], "rejected");
    assert_eq!(rejected["decision"]["note"], "资料不全");

    // After the pre-review only the credit department rejects; an evaluation of another
    // customer is refused naming it.
    let second = apply(&app, &desk.agent, &customer, false).await;
    let second = second["id"].as_str().unwrap();
    step(&app, &desk.head.1, second, "pre-review", json!({})).await;
    let (status, refused) =
        step(&app, &desk.head.1, second, "reject", json!({"reason": "x"})).await;
    assert_problem(status, &refused, StatusCode::FORBIDDEN, "forbidden");
    let elsewhere = evaluate(&app, &desk, &stranger, None, None).await;
    let (status, refused) = step(
        &app,
        &desk.evaluator.1,
        second,
        "evaluate",
        json!({"evaluation_id": elsewhere["id"]}),
    )
    .await;
    assert_invalid(status, &refused, &[("evaluation_id", "other_customer")]);
    let (status, refused) = step(
        &app,
        &desk.evaluator.1,
        second,
        "evaluate",
        json!({"evaluation_id": uuid::Uuid::now_v7()}),
    )
    .await;
    assert_invalid(status, &refused, &[("evaluation_id", "not_found")]);
    let (_, unchanged) = app
        .get(
            &format!("/api/v1/credit/applications/{second}"),
            &desk.agent,
        )
        .await;
    assert_eq!(unchanged["status"], "pre_reviewed");
    assert_eq!(unchanged["evaluation_id"], Value::Null);
    // An evaluation made for a decided application is refused.
    let mut body = evaluation_body(&app, &desk.admin, &customer, 4).await;
    body["application_id"] = json!(first);
    let (status, refused) = app
        .post("/api/v1/credit/evaluations", &desk.evaluator.1, body)
        .await;
    assert_invalid(status, &refused, &[("application_id", "invalid_value")]);

    // The queue by status, within the caller's scope.
    let (status, queue) = app
        .get(
            "/api/v1/credit/applications?status=pre_reviewed",
            &desk.evaluator.1,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{queue}");
    let ids: Vec<&str> = queue["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, [second]);
    let credit = credit_of(&app, &desk.agent, &customer).await;
    assert_eq!(credit["open_applications"][0]["id"], second);
    let (_, other) = app.user(&desk.admin, "l.other", "agent", None).await;
    let (_, none) = app.get("/api/v1/credit/applications", &other).await;
    assert_eq!(none["items"], json!([]));
}

#[actix_web::test]
async fn reviews_fall_due_before_lines_run_out_on_stale_data_and_on_events() {
    let app = TestApp::spawn().await;
    let desk = desk(&app).await;
    let today: chrono::NaiveDate = company_today().parse().unwrap();
    let line = |customer: &str, valid_to: chrono::NaiveDate| {
        json!({"customer_id": customer, "currency": "CNY", "limit_minor": 1000, "term_days": 30,
               "reason": "旧系统额度", "valid_to": valid_to.to_string()})
    };
    let expiring = app.organization(&desk.agent, "五指山茶业有限公司").await;
    let fresh = app.organization(&desk.agent, "保亭热带水果有限公司").await;
    let stale = app.organization(&desk.agent, "屯昌黑猪养殖有限公司").await;
    let sued = app.organization(&desk.agent, "定安建材有限公司").await;
    for (customer, days) in [(&expiring, 10), (&fresh, 300), (&stale, 300)] {
        let body = line(customer, today + chrono::Days::new(days));
        let (status, created) = app
            .post("/api/v1/credit/agreements", &desk.admin, body)
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
    }
    // Six months and a day pass for one customer's credit data.
    let stale_owned = stale.clone();
    let refreshed = (today - chrono::Days::new(181))
        .and_hms_opt(0, 0, 0)
        .unwrap();
    db_run(&app, move |conn| {
        diesel::sql_query("UPDATE customers SET credit_data_refreshed_at = $1 WHERE id = $2")
            .bind::<diesel::sql_types::Timestamp, _>(refreshed)
            .bind::<Text, _>(stale_owned)
            .execute(conn)?;
        Ok(())
    })
    .await;
    let (status, event) = app
        .post(
            &format!("/api/v1/customers/{sued}/events"),
            &desk.agent,
            json!({"kind": "leadership_change", "department": "sales", "description": "法人变更"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{event}");

    let (status, due) = app.get("/api/v1/credit/reviews/due", &desk.agent).await;
    assert_eq!(status, StatusCode::OK, "{due}");
    let mut found: Vec<(String, Vec<String>)> = due["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| {
            let codes = item["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| r["code"].as_str().unwrap().to_owned())
                .collect();
            (item["customer_id"].as_str().unwrap().to_owned(), codes)
        })
        .collect();
    found.sort();
    let mut expected = vec![
        (expiring.clone(), vec!["line_expiring".to_owned()]),
        (stale.clone(), vec!["credit_data_stale".to_owned()]),
        (sued.clone(), vec!["review_event".to_owned()]),
    ];
    expected.sort();
    assert_eq!(found, expected);
    let expiring_item = due["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["customer_id"] == expiring.as_str())
        .unwrap();
    assert_eq!(
        expiring_item["reasons"][0]["due_on"],
        (today + chrono::Days::new(10)).to_string()
    );
    // Another unit's agent sees none of them.
    let (_, other) = app.user(&desk.admin, "r.other", "agent", None).await;
    let (_, none) = app.get("/api/v1/credit/reviews/due", &other).await;
    assert_eq!(none["items"], json!([]));
}
