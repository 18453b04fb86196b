//! Credit: financial statements with their ratios and Altman scores, the characteristic
//! template and the credit policy, on both databases.

use diesel::RunQueryDsl;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::*;
use crate::jobs::{db_run, Count};

/// A statement for `period_end` whose figures make round ratios: current 1.6, quick 1.0,
/// cash 0.2, debt 0.6; Z' 2.3421 (grey), Z'' 2.8164 (safe).
pub fn statement_body(period_end: &str) -> Value {
    json!({
        "period_end": period_end, "currency": "CNY", "audited": true,
        "balance_sheet": {
            "current_assets_minor": 800_000_000, "inventory_minor": 300_000_000,
            "cash_minor": 100_000_000, "total_assets_minor": 2_000_000_000,
            "current_liabilities_minor": 500_000_000, "total_liabilities_minor": 1_200_000_000,
            "equity_minor": 800_000_000, "retained_earnings_minor": 200_000_000
        },
        "income_statement": {
            "sales_minor": 3_000_000_000_i64, "cost_of_sales_minor": 2_400_000_000_i64,
            "ebit_minor": 240_000_000, "net_profit_minor": 150_000_000
        }
    })
}

#[actix_web::test]
async fn a_statement_is_filed_with_its_ratios_and_altman_scores() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "华强机械有限公司").await;
    let path = format!("/api/v1/customers/{customer}/financial-statements");
    let mut body = statement_body("2025-12-31");
    body["cash_flow"] = json!({"operating_minor": 180_000_000, "investing_minor": -60_000_000,
                               "financing_minor": -40_000_000});
    body["market_value_of_equity_minor"] = json!(2_400_000_000_i64);
    let (status, filed) = app.post(&path, &admin, body.clone()).await;
    assert_eq!(status, StatusCode::CREATED, "{filed}");
    for part in ["balance_sheet", "income_statement", "cash_flow"] {
        assert_eq!(filed[part], body[part], "{part}");
    }
    assert_eq!(filed["period_end"], "2025-12-31");
    assert_eq!(filed["audited"], true);
    let ratios = &filed["ratios"];
    for (name, value) in [
        ("current", 1.6),
        ("quick", 1.0),
        ("cash", 0.2),
        ("debt", 0.6),
        ("inventory_turnover", 8.0),
        ("sales_profit_margin", 0.05),
        ("gross_margin", 0.2),
        ("cost_profit", 0.0625),
    ] {
        assert_eq!(ratios[name]["value"], json!(value), "{name}: {ratios}");
        assert_eq!(ratios[name]["reason"], Value::Null, "{name}");
    }
    assert_eq!(
        ratios["current"]["formula"],
        "current_assets / current_liabilities"
    );
    let altman = &filed["altman"];
    assert_eq!(altman["z"]["value"], json!(3.416), "{altman}");
    assert_eq!(altman["z"]["zone"], "safe");
    assert_eq!(altman["z_prime"]["value"], json!(2.3421));
    assert_eq!(altman["z_prime"]["zone"], "grey");
    assert_eq!(altman["z_double_prime"]["value"], json!(2.8164));
    assert_eq!(altman["z_double_prime"]["zone"], "safe");

    let id = filed["id"].as_str().unwrap();
    let (status, read) = app.get(&format!("{path}/{id}"), &admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read, filed);

    // The same period and audit status again: 409 naming the statement; unaudited is
    // another statement.
    let (status, again) = app.post(&path, &admin, statement_body("2025-12-31")).await;
    assert_problem(status, &again, StatusCode::CONFLICT, "statement_exists");
    assert_eq!(again["existing_id"], filed["id"]);
    let mut unaudited = statement_body("2025-12-31");
    unaudited["audited"] = json!(false);
    unaudited["balance_sheet"]["current_liabilities_minor"] = json!(0);
    unaudited["income_statement"]["sales_minor"] = json!(0);
    let (status, zero) = app.post(&path, &admin, unaudited).await;
    assert_eq!(status, StatusCode::CREATED, "{zero}");
    // Division by zero is null with the reason, never NaN.
    assert_eq!(zero["ratios"]["current"]["value"], Value::Null);
    assert_eq!(
        zero["ratios"]["current"]["reason"],
        "current_liabilities is zero"
    );
    assert_eq!(zero["ratios"]["gross_margin"]["reason"], "sales is zero");
    assert_eq!(
        zero["altman"]["z"]["reason"],
        "market_value_of_equity_minor is not given"
    );
    let (status, older) = app.post(&path, &admin, statement_body("2024-12-31")).await;
    assert_eq!(status, StatusCode::CREATED, "{older}");

    // Latest period first, then the latest filed; page by page.
    let listed = app.walk(&format!("{path}?limit=2"), &admin).await;
    let ids: Vec<&Value> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|s| &s["id"])
        .collect();
    assert_eq!(ids, [&zero["id"], &filed["id"], &older["id"]]);
}

#[actix_web::test]
async fn impossible_statements_are_refused_naming_the_fields_and_nothing_is_written() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "远航贸易有限公司").await;
    let path = format!("/api/v1/customers/{customer}/financial-statements");
    let mut body = statement_body("2099-12-31");
    body["currency"] = json!("XYZ");
    body["balance_sheet"]["inventory_minor"] = json!(900_000_000);
    body["balance_sheet"]["cash_minor"] = json!(-1);
    body["income_statement"]["sales_minor"] = json!(-5);
    let (status, refused) = app.post(&path, &admin, body).await;
    assert_invalid(
        status,
        &refused,
        &[
            ("period_end", "in_future"),
            ("currency", "invalid_currency"),
            ("balance_sheet.cash_minor", "out_of_range"),
            ("income_statement.sales_minor", "out_of_range"),
            ("balance_sheet.inventory_minor", "exceeds_whole"),
        ],
    );
    let mut unbalanced = statement_body("2025-12-31");
    unbalanced["balance_sheet"]["equity_minor"] = json!(779_000_000);
    let (status, refused) = app.post(&path, &admin, unbalanced).await;
    assert_invalid(
        status,
        &refused,
        &[
            ("balance_sheet.total_assets_minor", "unbalanced"),
            ("balance_sheet.total_liabilities_minor", "unbalanced"),
            ("balance_sheet.equity_minor", "unbalanced"),
        ],
    );
    let mut missing = statement_body("2025-12-31");
    missing["balance_sheet"]
        .as_object_mut()
        .unwrap()
        .remove("equity_minor");
    let (status, refused) = app.post(&path, &admin, missing).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{refused}");
    let listed = app.walk(&path, &admin).await;
    assert_eq!(listed, json!([]));
    // A viewer may read but not file; another unit's customer is not found.
    let (_, viewer) = app.user(&admin, "v.credit", "viewer", None).await;
    let (status, refused) = app.post(&path, &viewer, statement_body("2025-12-31")).await;
    assert_problem(status, &refused, StatusCode::FORBIDDEN, "forbidden");
    let unit = app.create_unit(&admin, "SY").await;
    let (_, agent) = app.user(&admin, "a.credit", "agent", Some(&unit)).await;
    let (status, _) = app.get(&path, &agent).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn the_template_lists_seed_004_s_72_points_and_an_edit_is_a_new_version() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (status, template) = app.get("/api/v1/credit/templates/active", &admin).await;
    assert_eq!(status, StatusCode::OK);
    let items = template["items"].as_array().unwrap();
    assert_eq!(items.len(), 18);
    let points: usize = items
        .iter()
        .map(|i| i["aspects"].as_array().unwrap().len())
        .sum();
    assert_eq!(points, 72);
    for category in ["own", "priority", "financial_credit"] {
        assert_eq!(
            items.iter().filter(|i| i["category"] == category).count(),
            6,
            "{category}"
        );
    }
    let solvency = items.iter().find(|i| i["key"] == "solvency").unwrap();
    assert_eq!(solvency["aspects"][0]["key"], "current_ratio");
    assert_eq!(
        solvency["aspects"][0]["prescore"]["metric"],
        "current_ratio"
    );
    assert!(
        solvency["aspects"][0]["description"]
            .as_str()
            .unwrap()
            .len()
            > 10
    );
    assert_eq!(template["max_score"], 480);
    assert_eq!(template["grades"][5]["credit_sales_allowed"], false);
    assert_eq!(template["version"], 0);

    let mut edit = json!({"items": template["items"], "grades": template["grades"]});
    edit["items"][0]["weight"] = json!(3);
    edit["items"][1]["key"] = json!("first_impression");
    let (status, refused) = app
        .put_if_match(
            "/api/v1/credit/templates/active",
            &admin,
            edit.clone(),
            "\"0\"",
        )
        .await;
    assert_invalid(status, &refused, &[("items[1].key", "duplicate")]);
    edit["items"][1]["key"] = template["items"][1]["key"].clone();
    let (_, credit) = app.user(&admin, "c.credit", "credit_manager", None).await;
    // The template bounds the limits credit managers approve: an admin publishes it.
    let (status, refused) = app
        .put_if_match(
            "/api/v1/credit/templates/active",
            &credit,
            edit.clone(),
            "\"0\"",
        )
        .await;
    assert_problem(status, &refused, StatusCode::FORBIDDEN, "forbidden");
    let (status, published) = app
        .put_if_match(
            "/api/v1/credit/templates/active",
            &admin,
            edit.clone(),
            "\"0\"",
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{published}");
    assert_eq!(published["version"], 1);
    assert_eq!(published["max_score"], 480 + 2 * 20);
    let (_, active) = app.get("/api/v1/credit/templates/active", &admin).await;
    assert_eq!(active["items"], edit["items"]);
    // Publishing over a version someone else replaced meanwhile: 412.
    let (status, stale) = app
        .put_if_match("/api/v1/credit/templates/active", &admin, edit, "\"0\"")
        .await;
    assert_problem(
        status,
        &stale,
        StatusCode::PRECONDITION_FAILED,
        "version_mismatch",
    );
}

#[actix_web::test]
async fn the_credit_policy_keeps_its_bands_exact_and_refuses_gaps() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (status, policy) = app.get("/api/v1/credit/policy", &admin).await;
    assert_eq!(status, StatusCode::OK);
    let bands = policy["working_capital"]["bands"].as_array().unwrap();
    assert_eq!(bands.len(), 10);
    assert_eq!(bands[0], json!({"up_to": "-4.60", "share_bp": 0}));
    assert_eq!(bands[8], json!({"up_to": "0.99", "share_bp": 2000}));
    assert_eq!(bands[9], json!({"up_to": null, "share_bp": 2500}));
    assert_eq!(
        policy["limits"],
        json!({"grade_factors_bp": [10000, 9000, 7500, 5000, 2500, 0],
               "grade_bounds_major": [300000, 600000, 1000000, 1500000]})
    );
    let bad = json!({
        "working_capital": {"bands": [{"up_to": "1.005", "share_bp": 0},
                                      {"up_to": "0.5", "share_bp": 100},
                                      {"up_to": null, "share_bp": 50}]},
        "limits": {"grade_factors_bp": [10000, 9000, 7500, 5000, 2500, 0],
                   "grade_bounds_major": [300000, 200000, 1000000, 1500000]}
    });
    let (status, refused) = app
        .put_if_match("/api/v1/credit/policy", &admin, bad, "\"0\"")
        .await;
    assert_invalid(
        status,
        &refused,
        &[
            ("working_capital.bands[0].up_to", "invalid_value"),
            ("working_capital.bands[1].up_to", "out_of_range"),
            ("working_capital.bands[2].share_bp", "out_of_range"),
            ("limits.grade_bounds_major[1]", "out_of_range"),
        ],
    );
    let good = json!({
        "working_capital": {"bands": [{"up_to": "-1.00", "share_bp": 0},
                                      {"up_to": null, "share_bp": 3000}]},
        "limits": {"grade_factors_bp": [10000, 8000, 6000, 4000, 2000, 0],
                   "grade_bounds_major": [200000, 500000, 1000000, 2000000]}
    });
    let (status, replaced) = app
        .put_if_match("/api/v1/credit/policy", &admin, good.clone(), "\"0\"")
        .await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(replaced["version"], 1);
    assert_eq!(replaced["working_capital"], good["working_capital"]);
    assert_eq!(replaced["limits"], good["limits"]);
    let (_, agent) = app.user(&admin, "a.policy", "agent", None).await;
    let (status, refused) = app
        .put_if_match("/api/v1/credit/policy", &agent, good, "\"1\"")
        .await;
    assert_problem(status, &refused, StatusCode::FORBIDDEN, "forbidden");
}

/// A client reads the whole policy, edits one rule and sends it back: every section it read
/// (approvals, the check, reviews too) is what it sent, not a default.
#[actix_web::test]
async fn the_credit_policy_reads_whole_and_survives_a_round_trip() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (status, mut policy) = app.get("/api/v1/credit/policy", &admin).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        policy["check"],
        json!({"tolerance_bp": 1000, "overdue_block_days": 30, "alert_use_bp": 9000,
               "green_channel_up_to_major": 1_000_000})
    );
    for section in ["approval", "reviews"] {
        assert!(policy[section].is_object(), "{section} missing: {policy}");
    }
    let stamp = policy.as_object_mut().unwrap();
    for field in ["version", "updated_at", "updated_by"] {
        stamp.remove(field);
    }
    policy["check"]["overdue_block_days"] = json!(45);
    let (status, replaced) = app
        .put_if_match("/api/v1/credit/policy", &admin, policy.clone(), "\"0\"")
        .await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    let (_, read) = app.get("/api/v1/credit/policy", &admin).await;
    assert_eq!(read["version"], 1);
    for (section, sent) in policy.as_object().unwrap() {
        assert_eq!(&read[section], sent, "{section}");
    }
}

/// Files `statement_body` for the customer (or reuses the one filed before) and returns the
/// body of an evaluation of it that scores every point the statement does not pre-score
/// `score`.
pub async fn evaluation_body(app: &TestApp, admin: &str, customer_id: &str, score: u32) -> Value {
    let (status, filed) = app
        .post(
            &format!("/api/v1/customers/{customer_id}/financial-statements"),
            admin,
            statement_body("2025-12-31"),
        )
        .await;
    let statement_id = match status {
        StatusCode::CREATED => filed["id"].clone(),
        StatusCode::CONFLICT => filed["existing_id"].clone(),
        _ => panic!("{status}: {filed}"),
    };
    let (_, template) = app.get("/api/v1/credit/templates/active", admin).await;
    let mut scores = Vec::new();
    for item in template["items"].as_array().unwrap() {
        for aspect in item["aspects"].as_array().unwrap() {
            if aspect["prescore"].is_null() {
                scores.push(json!({"item": item["key"], "aspect": aspect["key"], "score": score}));
            }
        }
    }
    json!({"customer_id": customer_id, "statement_id": statement_id,
           "requested_limit_minor": 100_000_000, "currency": "CNY",
           "characteristic_scores": scores})
}

#[actix_web::test]
async fn an_evaluation_combines_both_models_into_limits_and_a_rating_and_explains_itself() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (evaluator_id, credit) = app.user(&admin, "c.eval", "credit_manager", None).await;
    let customer = app.organization(&admin, "鑫源电子科技有限公司").await;
    let body = evaluation_body(&app, &admin, &customer, 4).await;
    let (status, evaluation) = app
        .post("/api/v1/credit/evaluations", &credit, body.clone())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{evaluation}");
    // Base (8M - 5M + 8M) / 2 = 5.5M yuan; value 1.6 + 1.0 - 0.625 - 1.5 = 0.475 -> 0.48:
    // 20 % of the base.
    assert_eq!(
        evaluation["working_capital"],
        json!({"base_minor": 550_000_000, "evaluation_value": 0.48, "share_bp": 2000,
               "limit_minor": 110_000_000, "reason": null})
    );
    // Pre-scores 52 points x 2, judged points 4 each: 360 of 480 = 75 % -> grade 2.
    let characteristic = &evaluation["characteristic"];
    assert_eq!(characteristic["score"], 360, "{characteristic}");
    assert_eq!(characteristic["max_score"], 480);
    assert_eq!(characteristic["grade"], 2);
    assert_eq!(characteristic["credit_sales_allowed"], true);
    let current = characteristic["points"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["aspect"] == "current_ratio")
        .unwrap();
    assert_eq!(current["score"], 4);
    assert_eq!(current["source"], "statement");
    // 110M x 90 % = 99M fen, under the 100M applied for: 990,000 yuan is 3A.
    assert_eq!(evaluation["recommended_limit_minor"], 99_000_000);
    assert_eq!(evaluation["final_limit_minor"], 99_000_000);
    assert_eq!(evaluation["limit_grade"], "3A");
    assert_eq!(evaluation["rating"], "3A2");
    assert_eq!(evaluation["evaluator_id"], evaluator_id.as_str());
    assert_eq!(evaluation["template_version"], 0);
    assert_eq!(
        evaluation["template"]["items"].as_array().unwrap().len(),
        18
    );
    assert_eq!(
        evaluation["characteristic_scores"],
        body["characteristic_scores"]
    );
    let id = evaluation["id"].as_str().unwrap();
    let (status, read) = app
        .get(&format!("/api/v1/credit/evaluations/{id}"), &admin)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(read, evaluation);

    // A manual adjustment decides the final limit and its grade; the recommendation stays.
    let customer = app.organization(&admin, "瑞丰物流有限公司").await;
    let mut adjusted = evaluation_body(&app, &admin, &customer, 4).await;
    adjusted["manual_adjustment"] =
        json!({"final_limit_minor": 150_000_000_i64, "reason": "集团担保"});
    let (status, evaluation) = app
        .post("/api/v1/credit/evaluations", &credit, adjusted)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{evaluation}");
    assert_eq!(evaluation["recommended_limit_minor"], 99_000_000);
    assert_eq!(evaluation["final_limit_minor"], 150_000_000);
    assert_eq!(evaluation["rating"], "5A2");

    // Judged points all 0: 104 of 480 -> grade 5, a quarter of the limit: 1A5.
    let customer = app.organization(&admin, "博信建筑工程有限公司").await;
    let low = evaluation_body(&app, &admin, &customer, 0).await;
    let (status, evaluation) = app.post("/api/v1/credit/evaluations", &credit, low).await;
    assert_eq!(status, StatusCode::CREATED, "{evaluation}");
    assert_eq!(evaluation["characteristic"]["grade"], 5);
    assert_eq!(evaluation["recommended_limit_minor"], 27_500_000);
    assert_eq!(evaluation["rating"], "1A5");
}

#[actix_web::test]
async fn an_evaluation_with_faults_names_them_and_records_nothing() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "天宇化工有限公司").await;
    let valid = evaluation_body(&app, &admin, &customer, 4).await;
    let mut body = valid.clone();
    body["characteristic_scores"].as_array_mut().unwrap().pop();
    body["characteristic_scores"][0]["score"] = json!(6);
    body["requested_limit_minor"] = json!(0);
    body["manual_adjustment"] = json!({"final_limit_minor": 1, "reason": " "});
    let (status, refused) = app
        .post("/api/v1/credit/evaluations", &admin, body.clone())
        .await;
    assert_invalid(
        status,
        &refused,
        &[
            ("requested_limit_minor", "out_of_range"),
            ("manual_adjustment.reason", "required"),
            ("characteristic_scores[0].score", "out_of_range"),
            (
                "characteristic_scores[?@.item=='bank_credit' && @.aspect=='relationships']",
                "required",
            ),
        ],
    );
    let mut other = valid;
    other["currency"] = json!("USD");
    let (status, refused) = app
        .post("/api/v1/credit/evaluations", &admin, other.clone())
        .await;
    assert_invalid(status, &refused, &[("currency", "currency_mismatch")]);
    other["currency"] = json!("CNY");
    other["statement_id"] = json!(uuid::Uuid::now_v7());
    let (status, refused) = app.post("/api/v1/credit/evaluations", &admin, other).await;
    assert_invalid(status, &refused, &[("statement_id", "not_found")]);
    // Nothing was recorded, nor audited.
    let recorded = db_run(&app, |conn| {
        Ok(diesel::sql_query(
            "SELECT (SELECT count(*) FROM credit_evaluations) \
                  + (SELECT count(*) FROM audit_log WHERE entity_type = 'credit_evaluation') AS n",
        )
        .get_result::<Count>(conn)?
        .n)
    })
    .await;
    assert_eq!(recorded, 0);
    // Sales may not evaluate.
    let (_, agent) = app.user(&admin, "a.eval", "agent", None).await;
    let (status, refused) = app.post("/api/v1/credit/evaluations", &agent, body).await;
    assert_problem(status, &refused, StatusCode::FORBIDDEN, "forbidden");
}
