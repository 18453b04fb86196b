//! Separation of duties: whoever approves credit within a rule cannot set the rule, and an
//! approval limit holds for the customer's whole credit, however it is split.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::*;

/// The document at `path` without its version stamp and what is derived from it, as a
/// client sends it back.
async fn document(app: &TestApp, token: &str, path: &str) -> (Value, String) {
    let (status, mut body) = app.get(path, token).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let etag = format!("\"{}\"", body["version"]);
    for stamp in ["version", "updated_at", "updated_by", "max_score"] {
        body.as_object_mut().unwrap().remove(stamp);
    }
    (body, etag)
}

/// A credit manager can neither raise his own approval limit nor widen the check's
/// tolerance, nor change any other rule that bounds approvals: 403, nothing written. An
/// admin can.
#[actix_web::test]
async fn a_credit_manager_cannot_set_the_rules_he_approves_within() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, manager) = app.user(&admin, "c.manager", "credit_manager", None).await;
    let customer = app.organization(&admin, "海南橡胶集团").await;

    let (before, etag) = document(&app, &admin, "/api/v1/credit/policy").await;
    let mut raised = before.clone();
    raised["approval"]["credit_manager_up_to_major"] = json!(1_000_000_000_000_i64);
    raised["check"]["tolerance_bp"] = json!(10_000);
    let (status, refused) = app
        .put_if_match("/api/v1/credit/policy", &manager, raised.clone(), &etag)
        .await;
    assert_problem(status, &refused, StatusCode::FORBIDDEN, "forbidden");
    assert_eq!(
        document(&app, &admin, "/api/v1/credit/policy").await,
        (before, etag.clone())
    );
    // So his carried-over line of a thousand million yuan stays over his limit.
    let line = json!({"customer_id": customer, "currency": "CNY",
                      "limit_minor": 100_000_000_000_i64, "term_days": 60, "reason": "旧系统额度"});
    let (status, refused) = app
        .post("/api/v1/credit/agreements", &manager, line.clone())
        .await;
    assert_problem(
        status,
        &refused,
        StatusCode::FORBIDDEN,
        "approval_limit_exceeded",
    );

    for path in [
        "/api/v1/dunning/policy",
        "/api/v1/receivables/allowance-policy",
        "/api/v1/segmentation/policy",
        "/api/v1/credit/templates/active",
    ] {
        let (current, etag) = document(&app, &admin, path).await;
        let (status, refused) = app
            .put_if_match(path, &manager, current.clone(), &etag)
            .await;
        assert_problem(status, &refused, StatusCode::FORBIDDEN, "forbidden");
        assert_eq!(document(&app, &admin, path).await.1, etag, "{path}");
    }

    let (status, replaced) = app
        .put_if_match("/api/v1/credit/policy", &admin, raised, &etag)
        .await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(
        replaced["approval"]["credit_manager_up_to_major"],
        1_000_000_000_000_i64
    );
}

/// A credit manager whose limit is five million yuan cannot grant a CNY line of five
/// million and a USD line worth 4.9 million: the limit holds for the customer's total
/// credit in the company currency, by carried-over lines and by approved applications alike.
#[actix_web::test]
async fn an_approval_limit_holds_for_the_customers_credit_across_currencies() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, manager) = app.user(&admin, "c.split", "credit_manager", None).await;
    let customer = app.organization(&admin, "洋浦国际贸易").await;
    let (status, rate) = app
        .post(
            "/api/v1/fx-rates",
            &admin,
            json!({"currency": "USD", "on": "2026-01-02", "rate": "7.0"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rate}");
    // A line carried over by `token`: its status, or what refused it.
    let grant = |token: &str, currency: &str, limit_minor: i64| {
        let line = json!({"customer_id": customer, "currency": currency,
                          "limit_minor": limit_minor, "term_days": 60, "reason": "旧系统额度"});
        let app = &app;
        let token = token.to_owned();
        async move {
            let (status, body) = app.post("/api/v1/credit/agreements", &token, line).await;
            match status {
                StatusCode::CREATED => Ok(()),
                _ => Err((status, body)),
            }
        }
    };
    let over_limit = |refused: Result<(), (StatusCode, Value)>| {
        let (status, body) = refused.expect_err("over the approval limit");
        assert_problem(
            status,
            &body,
            StatusCode::FORBIDDEN,
            "approval_limit_exceeded",
        );
    };
    grant(&manager, "CNY", 500_000_000).await.unwrap();
    // 700,000.00 USD is 4.9 million yuan: within the limit alone, not beside the CNY line.
    over_limit(grant(&manager, "USD", 70_000_000).await);
    let lines = &app
        .get(&format!("/api/v1/customers/{customer}/credit"), &admin)
        .await
        .1["agreements"];
    assert_eq!(lines.as_array().unwrap().len(), 1, "{lines}");
    // Replacing the CNY line itself is weighed without the line it replaces.
    grant(&manager, "CNY", 400_000_000).await.unwrap();
    // Beside 4 million yuan, 100,000.00 USD (0.7 million) fits; 200,000.00 does not.
    over_limit(grant(&manager, "USD", 20_000_000).await);
    grant(&manager, "USD", 10_000_000).await.unwrap();
    // An admin approves any total.
    grant(&admin, "USD", 10_000_000_000).await.unwrap();
}
