//! The role matrix: every authenticated operation of the spec, called by every role on a
//! customer inside that role's scope, answers "allowed" or 403 exactly as the rules say.

use diesel::RunQueryDsl;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::*;
use crate::credit::{evaluation_body, statement_body};
use crate::receivables::receivable_body;

const ROLES: [&str; 7] = [
    "admin",
    "credit_manager",
    "finance",
    "unit_manager",
    "agent",
    "service",
    "viewer",
];

/// Ends the runs nothing here runs (no job runner), so that the next identical one is
/// queued anew instead of answering `run_in_progress` or `too_many_runs`.
async fn no_runs_waiting(app: &TestApp) {
    crate::jobs::db_run(app, |conn| {
        diesel::sql_query("UPDATE jobs SET state = 'failed' WHERE state = 'queued'")
            .execute(conn)
            .map_err(credo_store::StoreError::from)
    })
    .await;
}

/// Who may call an operation.
fn allowed(operation: &str, role: &str) -> bool {
    match operation {
        "createUser"
        | "updateUser"
        | "createSalesUnit"
        | "updateSalesUnit"
        | "patchSettings"
        | "createApiKey"
        | "listApiKeys"
        | "revokeApiKey"
        | "createWebhook"
        | "listWebhooks"
        | "getWebhook"
        | "updateWebhook"
        | "deleteWebhook"
        | "rotateWebhookSecret"
        | "listWebhookDeliveries"
        | "replayWebhook"
        | "testWebhook" => role == "admin",
        "createFxRate" | "correctFxRate" | "approveFxRateChange" | "rejectFxRateChange" => {
            matches!(role, "admin" | "finance")
        }
        "transferCustomer" => matches!(role, "admin" | "credit_manager" | "unit_manager"),
        "createCustomer"
        | "patchCustomer"
        | "archiveCustomer"
        | "restoreCustomer"
        | "createContact"
        | "patchContact"
        | "deleteContact"
        | "createNote"
        | "createAssessment"
        | "createCustomerEvent"
        | "refreshCustomerCreditData"
        | "createInteraction"
        | "createVisit"
        | "checkInVisit"
        | "checkOutVisit"
        | "cancelVisit"
        | "createTask"
        | "patchTask"
        | "createLead"
        | "importLeads"
        | "patchLead"
        | "moveLeadStage"
        | "convertLead"
        | "requestExtension"
        | "openDispute"
        | "resolveDispute"
        | "recordCustomerLoss"
        | "fileFinancialStatement" => role != "viewer",
        "decideExtension" => matches!(role, "admin" | "credit_manager" | "unit_manager"),
        "createOrder"
        | "patchOrder"
        | "confirmOrder"
        | "startOrderProduction"
        | "shipOrder"
        | "invoiceOrder"
        | "closeOrder"
        | "cancelOrder"
        | "createOrderClaim"
        | "createProductTrial"
        | "sampleProductTrial"
        | "dropProductTrial" => {
            matches!(role, "admin" | "unit_manager" | "agent" | "finance")
        }
        "payOrder" | "postReceivable" | "postLeaseSchedule" | "createCreditNote"
        | "recordPayment" | "allocatePayment" => matches!(role, "admin" | "finance"),
        // Rules that bound approvals are set by admins only.
        "replaceAllowancePolicy"
        | "replaceDunningPolicy"
        | "publishCharacteristicTemplate"
        | "replaceCreditPolicy"
        | "publishSegmentationPolicy" => role == "admin",
        "createWriteOff"
        | "runDunning"
        | "listDunningRuns"
        | "getDunningRun"
        | "listDunningRunActions"
        | "listDunningRunHeldBack"
        | "listOnWarningList"
        | "liftFromWarningList"
        | "takeAgeingSnapshot"
        | "setCollectionTarget"
        | "createCreditEvaluation"
        | "evaluateCreditApplication"
        | "approveCreditApplication"
        | "createCreditAgreement"
        | "revokeCreditAgreement"
        | "createCreditOverride" => {
            matches!(role, "admin" | "credit_manager")
        }
        "decideOrderClaim" => matches!(role, "admin" | "unit_manager"),
        "startSegmentationRun" | "requestGradeOverride" | "approveGradeOverride" => {
            matches!(role, "admin" | "credit_manager" | "unit_manager")
        }
        // Company-wide: for who sees every customer.
        "getSegmentationPareto" => !matches!(role, "agent" | "unit_manager"),
        "createCreditApplication" => matches!(role, "admin" | "unit_manager" | "agent"),
        // The unit head; before the pre-review the unit head may also reject.
        "preReviewCreditApplication" => matches!(role, "admin" | "unit_manager"),
        "rejectCreditApplication" => matches!(role, "admin" | "credit_manager" | "unit_manager"),
        // By sales unit: not for who sees only their own customers.
        "getAgeingTrend" => role != "agent",
        // Reads (and one's own password): every role, each within its own scope.
        "logout"
        | "getMe"
        | "changeMyPassword"
        | "listCustomers"
        | "getCustomer"
        | "listCustomerTransfers"
        | "getCustomerHistory"
        | "listContacts"
        | "getContact"
        | "listNotes"
        | "listAssessments"
        | "listUsers"
        | "getUser"
        | "listSalesUnits"
        | "listOrders"
        | "getOrder"
        | "getOrderHistory"
        | "listOrderClaims"
        | "listProductTrials"
        | "listStaleCustomers"
        | "listCustomerEvents"
        | "listInteractions"
        | "getCustomerTimeline"
        | "getVisit"
        | "listMyVisits"
        | "listTasks"
        | "getTask"
        | "listMyTasks"
        | "listLeads"
        | "getLeadFunnel"
        | "getLead"
        | "getLeadHistory"
        | "getSettings"
        | "getJob"
        | "listChanges"
        | "listFxRates"
        | "listFxRateChanges"
        | "getFxRateChange"
        | "lookupFxRate"
        | "listReceivables"
        | "getReceivable"
        | "listReceivableReductions"
        | "getAgeing"
        | "getAllowance"
        | "getDoubleTen"
        | "listExtensions"
        | "getAllowancePolicy"
        | "getDunningPolicy"
        | "getWarningList"
        | "getCollectionMetrics"
        | "getCollectionTargets"
        | "listPayments"
        | "getPayment"
        | "listFinancialStatements"
        | "getFinancialStatement"
        | "getActiveCharacteristicTemplate"
        | "getCreditPolicy"
        | "getCreditEvaluation"
        | "listCreditApplications"
        | "getCreditApplication"
        | "getCreditAgreement"
        | "getCustomerCredit"
        | "checkCredit"
        | "getCreditOverride"
        | "listCreditAlerts"
        | "listCreditReviewsDue"
        | "getSegmentationPolicy"
        | "getSegmentationPolicyVersion"
        | "listSegmentationRuns"
        | "getSegmentationRun"
        | "listSegmentationResults"
        | "compareSegmentationRuns"
        | "getCustomerValue"
        | "getCustomerGradeHistory"
        | "listCustomerGradeOverrides"
        | "getGradeOverride"
        | "getGradeOverrideHistory" => true,
        other => panic!("the role matrix does not say who may call {other}: place it"),
    }
}

struct Context {
    unit: String,
    agent: String,
    /// Raises the claims that others decide (nobody decides a claim they raised).
    agent_token: String,
    /// A credit manager who evaluates the applications others approve.
    evaluator_token: String,
    /// A rate keeper who asks for the rate changes others decide.
    rate_maker_token: String,
}

/// A credit application for the customer, taken through `steps` (`pre-review`,
/// `evaluate`: by the evaluator, so that every credit role may approve it); its path.
async fn credit_application(
    app: &TestApp,
    admin: &str,
    ctx: &Context,
    customer_id: &str,
    steps: &[&str],
) -> String {
    let (status, application) = app
        .post(
            "/api/v1/credit/applications",
            admin,
            json!({"customer_id": customer_id, "requested_limit_minor": 100_000_000_i64,
                   "currency": "CNY", "term_days": 30, "reason": "r"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{application}");
    let path = format!(
        "/api/v1/credit/applications/{}",
        application["id"].as_str().unwrap()
    );
    for step in steps {
        let (token, body) = if *step == "evaluate" {
            let body = evaluation_body(app, admin, customer_id, 3).await;
            let (status, evaluation) = app
                .post("/api/v1/credit/evaluations", &ctx.evaluator_token, body)
                .await;
            assert_eq!(status, StatusCode::CREATED, "{evaluation}");
            (
                ctx.evaluator_token.as_str(),
                json!({"evaluation_id": evaluation["id"]}),
            )
        } else {
            (admin, json!({}))
        };
        let (status, body) = app.post(&format!("{path}/{step}"), token, body).await;
        assert_eq!(status, StatusCode::OK, "{step}: {body}");
    }
    path
}

/// A carried-over credit line of the customer; its path.
async fn credit_agreement(app: &TestApp, admin: &str, customer_id: &str) -> String {
    let line = app.carried_over_line(admin, customer_id, "CNY", 1000).await;
    format!("/api/v1/credit/agreements/{}", line["id"].as_str().unwrap())
}

/// Calls one operation as `token` against fresh records made by `admin_token`.
async fn call(
    app: &TestApp,
    admin: &str,
    ctx: &Context,
    operation: &str,
    token: &str,
    n: usize,
) -> StatusCode {
    // A customer owned by the unit's agent: inside every role's scope.
    let customer = app
        .customer(
            admin,
            json!({"kind": "person", "legal_name": format!("M{n}"), "owner_id": ctx.agent}),
        )
        .await;
    let c = format!("/api/v1/customers/{}", customer["id"].as_str().unwrap());
    let (_, contact) = app
        .post(&format!("{c}/contacts"), admin, json!({"name": "K"}))
        .await;
    let k = format!("{c}/contacts/{}", contact["id"].as_str().unwrap());
    let customer_id = customer["id"].as_str().unwrap();
    // The steps an operation's order must have gone through first.
    let steps: &[&str] = match operation {
        "startOrderProduction" | "shipOrder" => &["confirm"],
        "invoiceOrder" | "createOrderClaim" | "decideOrderClaim" => &["confirm", "ship"],
        "payOrder" => &["confirm", "ship", "invoice"],
        "closeOrder" => &["confirm", "ship", "invoice", "pay"],
        _ => &[],
    };
    let order = app
        .order(admin, crate::orders::order_body(customer_id, "2026-01-10"))
        .await;
    for step in steps {
        let (status, body) = app.step(admin, &order, step).await;
        assert_eq!(status, StatusCode::OK, "{step}: {body}");
    }
    let o = format!("/api/v1/orders/{}", order["id"].as_str().unwrap());
    let claim = if operation == "decideOrderClaim" {
        let (_, claim) = app
            .post(
                &format!("{o}/claims"),
                &ctx.agent_token,
                json!({"amount_minor": 5, "reason": "r"}),
            )
            .await;
        claim["id"].as_str().unwrap().to_owned()
    } else {
        String::new()
    };
    let (_, trial) = app
        .post(
            &format!("{c}/product-trials"),
            admin,
            json!({"product_code": "P", "product_name": "P"}),
        )
        .await;
    let t = format!("/api/v1/product-trials/{}", trial["id"].as_str().unwrap());
    let here = json!({"latitude": 22.5, "longitude": 114.0});
    let mut visit = json!({"customer_id": customer_id, "agent_id": ctx.agent,
                           "planned_at": "2026-01-10T09:00:00Z", "purpose": "p"});
    if operation == "checkOutVisit" {
        visit["check_in"] = json!({"location": here});
    }
    let (_, visit) = app.post("/api/v1/visits", admin, visit).await;
    let v = format!("/api/v1/visits/{}", visit["id"].as_str().unwrap());
    let (_, task) = app
        .post(
            "/api/v1/tasks",
            admin,
            json!({"kind": "call", "title": "t", "due_on": "2026-01-10", "assignee_id": ctx.agent}),
        )
        .await;
    let task = format!("/api/v1/tasks/{}", task["id"].as_str().unwrap());
    let (_, lead) = app
        .post(
            "/api/v1/leads",
            admin,
            json!({"company_name": format!("Lead {n}"), "channel": "trade_fair", "owner_id": ctx.agent}),
        )
        .await;
    let l = format!("/api/v1/leads/{}", lead["id"].as_str().unwrap());
    // An open item and a payment of the customer, for the receivables operations.
    let (r, p) = if operation.contains("Receivable")
        || operation.contains("Payment")
        || operation.contains("Extension")
        || operation.contains("Dispute")
        || ["createCreditNote", "createWriteOff"].contains(&operation)
    {
        let (_, item) = app
            .post(
                "/api/v1/receivables",
                admin,
                receivable_body(customer_id, &format!("INV-{n}"), 1000),
            )
            .await;
        let (_, payment) = app
            .post(
                "/api/v1/payments",
                admin,
                json!({"customer_id": customer_id, "currency": "CNY", "amount_minor": 400,
                       "received_on": "2026-02-01", "reference": format!("PAY-{n}")}),
            )
            .await;
        (
            item["id"].as_str().unwrap().to_owned(),
            payment["id"].as_str().unwrap().to_owned(),
        )
    } else {
        (String::new(), String::new())
    };
    let (method, path, body): (Method, String, Option<Value>) = match operation {
        "logout" => (
            Method::POST,
            "/api/v1/auth/logout".into(),
            Some(json!({"refresh_token": "x"})),
        ),
        "getMe" => (Method::GET, "/api/v1/me".into(), None),
        "changeMyPassword" => {
            let current = if token == admin {
                ADMIN_PASSWORD
            } else {
                PASSWORD
            };
            (
                Method::POST,
                "/api/v1/me/password".into(),
                Some(
                    json!({"current_password": current, "new_password": format!("a fresh passphrase {n}")}),
                ),
            )
        }
        "listCustomers" => (Method::GET, "/api/v1/customers".into(), None),
        "createCustomer" => (
            Method::POST,
            "/api/v1/customers".into(),
            Some(json!({"kind": "person", "legal_name": "New"})),
        ),
        "getCustomer" => (Method::GET, c.clone(), None),
        "patchCustomer" => (Method::PATCH, c.clone(), Some(json!({"region": "r"}))),
        "archiveCustomer" => (Method::DELETE, c.clone(), None),
        "restoreCustomer" => (Method::POST, format!("{c}/restore"), Some(json!({}))),
        "transferCustomer" => (
            Method::POST,
            format!("{c}/transfer"),
            Some(json!({"new_owner_id": ctx.agent, "reason": "r"})),
        ),
        "listCustomerTransfers" => (Method::GET, format!("{c}/transfers"), None),
        "getCustomerHistory" => (Method::GET, format!("{c}/history"), None),
        "listContacts" => (Method::GET, format!("{c}/contacts"), None),
        "createContact" => (
            Method::POST,
            format!("{c}/contacts"),
            Some(json!({"name": "N"})),
        ),
        "getContact" => (Method::GET, k.clone(), None),
        "patchContact" => (Method::PATCH, k.clone(), Some(json!({"title": "t"}))),
        "deleteContact" => (Method::DELETE, k.clone(), None),
        "listNotes" => (Method::GET, format!("{c}/notes"), None),
        "createNote" => (
            Method::POST,
            format!("{c}/notes"),
            Some(json!({"department": "sales", "body": "b"})),
        ),
        "listAssessments" => (Method::GET, format!("{c}/assessments"), None),
        "createAssessment" => (
            Method::POST,
            format!("{c}/assessments"),
            Some(json!({"department": "credit", "topic": "reputation", "rating": 3})),
        ),
        "listUsers" => (Method::GET, "/api/v1/users".into(), None),
        "getUser" => (Method::GET, format!("/api/v1/users/{}", ctx.agent), None),
        "createUser" => (
            Method::POST,
            "/api/v1/users".into(),
            Some(
                json!({"username": format!("new.{n}"), "display_name": "N", "role": "agent", "password": PASSWORD}),
            ),
        ),
        "updateUser" => (
            Method::PATCH,
            format!("/api/v1/users/{}", ctx.agent),
            Some(json!({"display_name": "Agent"})),
        ),
        "listSalesUnits" => (Method::GET, "/api/v1/sales-units".into(), None),
        "getSettings" => (Method::GET, "/api/v1/settings".into(), None),
        "getJob" => {
            let (_, me) = app.get("/api/v1/me", token).await;
            let me = me["id"].as_str().unwrap().parse().unwrap();
            let job = crate::jobs::queued_job(app, Some(me)).await;
            (Method::GET, format!("/api/v1/jobs/{job}"), None)
        }
        "patchSettings" => (
            Method::PATCH,
            "/api/v1/settings".into(),
            Some(json!({"fiscal_year_start_month": 1 + n % 12})),
        ),
        "createFxRate" => (
            Method::POST,
            "/api/v1/fx-rates".into(),
            Some(
                json!({"currency": "USD", "on": format!("2026-01-{:02}", 1 + n % 28),
                        "rate": format!("7.{n}")}),
            ),
        ),
        "correctFxRate" => (
            Method::POST,
            "/api/v1/fx-rates/corrections".into(),
            Some(
                json!({"currency": "JPY", "on": "2026-01-15", "rate": format!("0.0{n}"),
                        "reason": "录入错误"}),
            ),
        ),
        "listFxRateChanges" => (Method::GET, "/api/v1/fx-rates/changes".into(), None),
        "getFxRateChange" | "approveFxRateChange" | "rejectFxRateChange" => {
            let day =
                chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap() + chrono::Days::new(n as u64);
            let (status, change) = app
                .post(
                    "/api/v1/fx-rates",
                    &ctx.rate_maker_token,
                    json!({"currency": "EUR", "on": day, "rate": format!("{}", n + 2)}),
                )
                .await;
            assert_eq!(status, StatusCode::ACCEPTED, "{change}");
            let path = format!(
                "/api/v1/fx-rates/changes/{}",
                change["id"].as_str().unwrap()
            );
            match operation {
                "getFxRateChange" => (Method::GET, path, None),
                "approveFxRateChange" => (Method::POST, format!("{path}/approve"), None),
                _ => (
                    Method::POST,
                    format!("{path}/reject"),
                    Some(json!({"note": "与央行中间价不符"})),
                ),
            }
        }
        "listFxRates" => (Method::GET, "/api/v1/fx-rates".into(), None),
        "lookupFxRate" => (
            Method::GET,
            "/api/v1/fx-rates/lookup?currency=CNY".into(),
            None,
        ),
        "createSalesUnit" => (
            Method::POST,
            "/api/v1/sales-units".into(),
            Some(json!({"code": format!("U{n}"), "name": "U"})),
        ),
        "updateSalesUnit" => (
            Method::PATCH,
            format!("/api/v1/sales-units/{}", ctx.unit),
            Some(json!({"name": "SZ office"})),
        ),
        "createOrder" => (
            Method::POST,
            "/api/v1/orders".into(),
            Some(crate::orders::order_body(customer_id, "2026-01-10")),
        ),
        "listOrders" => (Method::GET, "/api/v1/orders".into(), None),
        "getOrder" => (Method::GET, o.clone(), None),
        "patchOrder" => (Method::PATCH, o.clone(), Some(json!({"note": "n"}))),
        "confirmOrder" => (Method::POST, format!("{o}/confirm"), Some(json!({}))),
        "startOrderProduction" => (
            Method::POST,
            format!("{o}/start-production"),
            Some(json!({})),
        ),
        "shipOrder" => (Method::POST, format!("{o}/ship"), Some(json!({}))),
        "invoiceOrder" => (Method::POST, format!("{o}/invoice"), Some(json!({}))),
        "payOrder" => (Method::POST, format!("{o}/pay"), Some(json!({}))),
        "closeOrder" => (Method::POST, format!("{o}/close"), Some(json!({}))),
        "cancelOrder" => (
            Method::POST,
            format!("{o}/cancel"),
            Some(json!({"reason": "r"})),
        ),
        "getOrderHistory" => (Method::GET, format!("{o}/history"), None),
        "listOrderClaims" => (Method::GET, format!("{o}/claims"), None),
        "createOrderClaim" => (
            Method::POST,
            format!("{o}/claims"),
            Some(json!({"amount_minor": 5, "reason": "r"})),
        ),
        "decideOrderClaim" => (
            Method::POST,
            format!("{o}/claims/{claim}/decision"),
            Some(json!({"accepted": false})),
        ),
        "listProductTrials" => (Method::GET, format!("{c}/product-trials"), None),
        "createProductTrial" => (
            Method::POST,
            format!("{c}/product-trials"),
            Some(json!({"product_code": "Q", "product_name": "Q"})),
        ),
        "sampleProductTrial" => (Method::POST, format!("{t}/sample"), Some(json!({}))),
        "dropProductTrial" => (Method::POST, format!("{t}/drop"), Some(json!({}))),
        "listStaleCustomers" => (Method::GET, "/api/v1/customers/stale".into(), None),
        "listCustomerEvents" => (Method::GET, format!("{c}/events"), None),
        "createCustomerEvent" => (
            Method::POST,
            format!("{c}/events"),
            Some(json!({"kind": "litigation", "department": "credit", "description": "d"})),
        ),
        "refreshCustomerCreditData" => (Method::POST, format!("{c}/credit-data-refresh"), None),
        "listInteractions" => (Method::GET, format!("{c}/interactions"), None),
        "createInteraction" => (
            Method::POST,
            format!("{c}/interactions"),
            Some(json!({"channel": "call", "direction": "outbound", "summary": "s"})),
        ),
        "getCustomerTimeline" => (Method::GET, format!("{c}/timeline"), None),
        "createVisit" => (
            Method::POST,
            "/api/v1/visits".into(),
            Some(
                json!({"customer_id": customer_id, "planned_at": "2026-01-10T09:00:00Z", "purpose": "p"}),
            ),
        ),
        "getVisit" => (Method::GET, v.clone(), None),
        "checkInVisit" => (
            Method::POST,
            format!("{v}/check-in"),
            Some(json!({"location": here})),
        ),
        "checkOutVisit" => (
            Method::POST,
            format!("{v}/check-out"),
            Some(json!({"location": here, "outcome": "o"})),
        ),
        "cancelVisit" => (Method::POST, format!("{v}/cancel"), None),
        "listMyVisits" => (Method::GET, "/api/v1/me/visits".into(), None),
        "createTask" => (
            Method::POST,
            "/api/v1/tasks".into(),
            Some(json!({"kind": "call", "title": "t", "due_on": "2026-01-10"})),
        ),
        "listTasks" => (Method::GET, "/api/v1/tasks".into(), None),
        "getTask" => (Method::GET, task.clone(), None),
        "patchTask" => (Method::PATCH, task.clone(), Some(json!({"status": "done"}))),
        "listMyTasks" => (Method::GET, "/api/v1/me/tasks".into(), None),
        "createLead" => (
            Method::POST,
            "/api/v1/leads".into(),
            Some(json!({"company_name": format!("New lead {n}"), "channel": "referral"})),
        ),
        "importLeads" => (
            Method::POST,
            "/api/v1/leads:batch".into(),
            Some(
                json!({"leads": [{"company_name": format!("Batch lead {n}"), "channel": "trade_fair"}]}),
            ),
        ),
        "listLeads" => (Method::GET, "/api/v1/leads".into(), None),
        "getLeadFunnel" => (Method::GET, "/api/v1/leads/funnel".into(), None),
        "getLead" => (Method::GET, l.clone(), None),
        "patchLead" => (
            Method::PATCH,
            l.clone(),
            Some(json!({"man": {"money": true, "authority": false, "need": true}})),
        ),
        "moveLeadStage" => (
            Method::POST,
            format!("{l}/stage"),
            Some(json!({"stage": "contacted"})),
        ),
        "convertLead" => (Method::POST, format!("{l}/convert"), Some(json!({}))),
        "getLeadHistory" => (Method::GET, format!("{l}/history"), None),
        "postReceivable" => (
            Method::POST,
            "/api/v1/receivables".into(),
            Some(receivable_body(customer_id, &format!("NEW-{n}"), 500)),
        ),
        "postLeaseSchedule" => (
            Method::POST,
            "/api/v1/receivables/leases".into(),
            Some(
                json!({"customer_id": customer_id, "currency": "CNY", "principal_minor": 1200,
                        "annual_rate_bp": 0, "months": 12, "first_due_on": "2027-01-31",
                        "signed_on": "2026-12-01", "reference": format!("L-{n}")}),
            ),
        ),
        "listReceivables" => (Method::GET, "/api/v1/receivables".into(), None),
        "getReceivable" => (Method::GET, format!("/api/v1/receivables/{r}"), None),
        "listReceivableReductions" => (
            Method::GET,
            format!("/api/v1/receivables/{r}/reductions"),
            None,
        ),
        "createCreditNote" | "createWriteOff" => (
            Method::POST,
            format!(
                "/api/v1/receivables/{r}/{}",
                if operation == "createWriteOff" {
                    "write-offs"
                } else {
                    "credit-notes"
                }
            ),
            Some(json!({"amount_minor": 10, "on": "2026-02-01", "reason": "r"})),
        ),
        "requestExtension" => (
            Method::POST,
            format!("/api/v1/receivables/{r}/extensions"),
            Some(json!({"new_due_on": "2026-12-31", "reason": "typhoon"})),
        ),
        "listExtensions" => (
            Method::GET,
            format!("/api/v1/receivables/{r}/extensions"),
            None,
        ),
        "decideExtension" => {
            let (status, asked) = app
                .post(
                    &format!("/api/v1/receivables/{r}/extensions"),
                    &ctx.agent_token,
                    json!({"new_due_on": "2026-12-31", "reason": "typhoon"}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{asked}");
            (
                Method::POST,
                format!(
                    "/api/v1/receivables/{r}/extensions/{}/decision",
                    asked["id"].as_str().unwrap()
                ),
                Some(json!({"approved": true})),
            )
        }
        "openDispute" => (
            Method::POST,
            format!("/api/v1/receivables/{r}/dispute"),
            Some(json!({"reason": "quality"})),
        ),
        "resolveDispute" => {
            let (status, _) = app
                .post(
                    &format!("/api/v1/receivables/{r}/dispute"),
                    admin,
                    json!({"reason": "quality"}),
                )
                .await;
            assert_eq!(status, StatusCode::OK);
            (
                Method::DELETE,
                format!("/api/v1/receivables/{r}/dispute"),
                None,
            )
        }
        "getAgeing" => (Method::GET, "/api/v1/receivables/ageing".into(), None),
        "getAllowance" => (Method::GET, "/api/v1/receivables/allowance".into(), None),
        "getDoubleTen" => (Method::GET, "/api/v1/receivables/double-ten".into(), None),
        "getAllowancePolicy" => (
            Method::GET,
            "/api/v1/receivables/allowance-policy".into(),
            None,
        ),
        "replaceAllowancePolicy" => (
            Method::PUT,
            "/api/v1/receivables/allowance-policy".into(),
            Some(json!({"bands": [{"up_to_days": 365, "rate_bp": 100 + n},
                                  {"up_to_days": null, "rate_bp": 10000}]})),
        ),
        "getDunningPolicy" => (Method::GET, "/api/v1/dunning/policy".into(), None),
        "getWarningList" => (Method::GET, "/api/v1/receivables/warning-list".into(), None),
        "takeAgeingSnapshot" => (
            Method::POST,
            "/api/v1/receivables/ageing-snapshots".into(),
            Some(json!({"month": "2026-01"})),
        ),
        "setCollectionTarget" => (
            Method::PUT,
            format!("/api/v1/collection-targets/{}/2026-05", ctx.agent),
            Some(json!({"target_minor": 100 + n})),
        ),
        "getCollectionTargets" => (Method::GET, "/api/v1/collection-targets".into(), None),
        "getAgeingTrend" => (Method::GET, "/api/v1/receivables/ageing-trend".into(), None),
        "getCollectionMetrics" => (
            Method::GET,
            "/api/v1/receivables/collection-metrics".into(),
            None,
        ),
        "listOnWarningList" => (
            Method::POST,
            format!("/api/v1/receivables/warning-list/{customer_id}"),
            Some(json!({"reason": "法院强制执行中"})),
        ),
        "liftFromWarningList" => (
            Method::POST,
            format!("/api/v1/receivables/warning-list/{customer_id}/lift"),
            Some(json!({"reason": "已结案"})),
        ),
        "replaceDunningPolicy" => (
            Method::PUT,
            "/api/v1/dunning/policy".into(),
            Some(
                json!({"levels": [{"key": "call", "anchor": "due", "offset_days": n % 100,
                                    "action": "电话催收", "effect": "none"}]}),
            ),
        ),
        "runDunning" => {
            no_runs_waiting(app).await;
            (
                Method::POST,
                "/api/v1/dunning/runs".into(),
                Some(json!({"dry_run": true})),
            )
        }
        "listDunningRuns" => (Method::GET, "/api/v1/dunning/runs".into(), None),
        "listChanges" => (Method::GET, "/api/v1/changes?limit=5".into(), None),
        "createApiKey" => (
            Method::POST,
            "/api/v1/api-keys".into(),
            Some(json!({"name": format!("key {n}"), "user_id": ctx.agent})),
        ),
        "listApiKeys" => (Method::GET, "/api/v1/api-keys".into(), None),
        "createWebhook" => (
            Method::POST,
            "/api/v1/webhooks".into(),
            Some(json!({"url": "https://erp.example.com/hooks", "event_types": ["*"]})),
        ),
        "listWebhooks" => (Method::GET, "/api/v1/webhooks".into(), None),
        "getWebhook"
        | "updateWebhook"
        | "deleteWebhook"
        | "rotateWebhookSecret"
        | "listWebhookDeliveries"
        | "replayWebhook"
        | "testWebhook" => {
            let (status, made) = app
                .post(
                    "/api/v1/webhooks",
                    admin,
                    json!({"url": "https://erp.example.com/hooks", "event_types": ["*"]}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{made}");
            let w = format!("/api/v1/webhooks/{}", made["id"].as_str().unwrap());
            match operation {
                "getWebhook" => (Method::GET, w, None),
                "updateWebhook" => (Method::PATCH, w, Some(json!({"description": "ERP"}))),
                "deleteWebhook" => (Method::DELETE, w, None),
                "rotateWebhookSecret" => (Method::POST, format!("{w}/rotate-secret"), None),
                "listWebhookDeliveries" => (Method::GET, format!("{w}/deliveries"), None),
                "replayWebhook" => (
                    Method::POST,
                    format!("{w}/replay"),
                    Some(json!({"since": "2026-01-01T00:00:00Z"})),
                ),
                _ => (Method::POST, format!("{w}/test"), None),
            }
        }
        "revokeApiKey" => {
            let (status, key) = app
                .post(
                    "/api/v1/api-keys",
                    admin,
                    json!({"name": "k", "user_id": ctx.agent}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{key}");
            let id = key["id"].as_str().unwrap();
            (
                Method::POST,
                format!("/api/v1/api-keys/{id}/revoke"),
                Some(json!({})),
            )
        }
        "getDunningRun" | "listDunningRunActions" | "listDunningRunHeldBack" => {
            no_runs_waiting(app).await;
            let (status, run) = app
                .post("/api/v1/dunning/runs", admin, json!({"dry_run": true}))
                .await;
            assert_eq!(status, StatusCode::ACCEPTED, "{run}");
            let r = format!("/api/v1/dunning/runs/{}", run["id"].as_str().unwrap());
            let path = match operation {
                "getDunningRun" => r,
                "listDunningRunActions" => format!("{r}/actions"),
                _ => format!("{r}/held-back"),
            };
            (Method::GET, path, None)
        }
        "recordPayment" => (
            Method::POST,
            "/api/v1/payments".into(),
            Some(
                json!({"customer_id": customer_id, "currency": "CNY", "amount_minor": 5,
                        "reference": format!("NEW-{n}")}),
            ),
        ),
        "listPayments" => (Method::GET, "/api/v1/payments".into(), None),
        "getPayment" => (Method::GET, format!("/api/v1/payments/{p}"), None),
        "allocatePayment" => (
            Method::POST,
            format!("/api/v1/payments/{p}/allocations"),
            Some(json!({"receivable_id": r, "amount_minor": 10, "on": "2026-02-01"})),
        ),
        "fileFinancialStatement" => (
            Method::POST,
            format!("{c}/financial-statements"),
            Some(statement_body("2025-12-31")),
        ),
        "listFinancialStatements" => (Method::GET, format!("{c}/financial-statements"), None),
        "getFinancialStatement" => {
            let (status, filed) = app
                .post(
                    &format!("{c}/financial-statements"),
                    admin,
                    statement_body("2025-12-31"),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{filed}");
            let id = filed["id"].as_str().unwrap();
            (Method::GET, format!("{c}/financial-statements/{id}"), None)
        }
        "getActiveCharacteristicTemplate" => {
            (Method::GET, "/api/v1/credit/templates/active".into(), None)
        }
        "publishCharacteristicTemplate" => {
            let (_, mut template) = app.get("/api/v1/credit/templates/active", admin).await;
            template["items"][0]["weight"] = json!(1 + n % 50);
            for stamp in ["max_score", "version", "updated_at", "updated_by"] {
                template.as_object_mut().unwrap().remove(stamp);
            }
            (
                Method::PUT,
                "/api/v1/credit/templates/active".into(),
                Some(template),
            )
        }
        "getCreditPolicy" => (Method::GET, "/api/v1/credit/policy".into(), None),
        "createCreditEvaluation" => (
            Method::POST,
            "/api/v1/credit/evaluations".into(),
            Some(evaluation_body(app, admin, customer_id, 3).await),
        ),
        "getCreditEvaluation" => {
            let body = evaluation_body(app, admin, customer_id, 3).await;
            let (status, evaluation) = app.post("/api/v1/credit/evaluations", admin, body).await;
            assert_eq!(status, StatusCode::CREATED, "{evaluation}");
            let id = evaluation["id"].as_str().unwrap();
            (
                Method::GET,
                format!("/api/v1/credit/evaluations/{id}"),
                None,
            )
        }
        "replaceCreditPolicy" => (
            Method::PUT,
            "/api/v1/credit/policy".into(),
            Some(json!({
                "working_capital": {"bands": [{"up_to": "0", "share_bp": 1000},
                                              {"up_to": null, "share_bp": 2000 + n}]},
                "limits": {"grade_factors_bp": [10000, 9000, 7500, 5000, 2500, 0],
                           "grade_bounds_major": [300000, 600000, 1000000, 1500000]}
            })),
        ),
        "createCreditApplication" => (
            Method::POST,
            "/api/v1/credit/applications".into(),
            Some(
                json!({"customer_id": customer_id, "requested_limit_minor": 1000,
                        "currency": "CNY", "term_days": 30, "reason": "r"}),
            ),
        ),
        "listCreditApplications" => (Method::GET, "/api/v1/credit/applications".into(), None),
        "getCreditApplication" => (
            Method::GET,
            credit_application(app, admin, ctx, customer_id, &[]).await,
            None,
        ),
        "preReviewCreditApplication" => {
            let path = credit_application(app, admin, ctx, customer_id, &[]).await;
            (Method::POST, format!("{path}/pre-review"), Some(json!({})))
        }
        "evaluateCreditApplication" => {
            let path = credit_application(app, admin, ctx, customer_id, &["pre-review"]).await;
            let body = evaluation_body(app, admin, customer_id, 3).await;
            let (_, evaluation) = app.post("/api/v1/credit/evaluations", admin, body).await;
            (
                Method::POST,
                format!("{path}/evaluate"),
                Some(json!({"evaluation_id": evaluation["id"]})),
            )
        }
        "approveCreditApplication" => {
            let steps = ["pre-review", "evaluate"];
            let path = credit_application(app, admin, ctx, customer_id, &steps).await;
            (Method::POST, format!("{path}/approve"), Some(json!({})))
        }
        "rejectCreditApplication" => {
            let path = credit_application(app, admin, ctx, customer_id, &[]).await;
            (
                Method::POST,
                format!("{path}/reject"),
                Some(json!({"reason": "r"})),
            )
        }
        "createCreditAgreement" => (
            Method::POST,
            "/api/v1/credit/agreements".into(),
            Some(
                json!({"customer_id": customer_id, "currency": "CNY", "limit_minor": 1000,
                        "term_days": 30, "reason": "r"}),
            ),
        ),
        "getCreditAgreement" => (
            Method::GET,
            credit_agreement(app, admin, customer_id).await,
            None,
        ),
        "revokeCreditAgreement" => {
            let path = credit_agreement(app, admin, customer_id).await;
            (
                Method::POST,
                format!("{path}/revoke"),
                Some(json!({"reason": "r"})),
            )
        }
        "getCustomerCredit" => (Method::GET, format!("{c}/credit"), None),
        "listCreditAlerts" => (Method::GET, "/api/v1/credit/alerts".into(), None),
        "listCreditReviewsDue" => (Method::GET, "/api/v1/credit/reviews/due".into(), None),
        "checkCredit" => (
            Method::POST,
            "/api/v1/credit/check".into(),
            Some(
                json!({"customer_id": customer_id, "amount_minor": 10, "currency": "CNY",
                        "stage": "order"}),
            ),
        ),
        "createCreditOverride" => (
            Method::POST,
            "/api/v1/credit/overrides".into(),
            Some(
                json!({"order_id": order["id"], "amount_minor": 10, "reason": "r",
                        "expires_on": "2099-01-01"}),
            ),
        ),
        "getCreditOverride" => {
            let body = json!({"order_id": order["id"], "amount_minor": 10, "reason": "r",
                              "expires_on": "2099-01-01"});
            let (status, granted) = app.post("/api/v1/credit/overrides", admin, body).await;
            assert_eq!(status, StatusCode::CREATED, "{granted}");
            let id = granted["id"].as_str().unwrap();
            (Method::GET, format!("/api/v1/credit/overrides/{id}"), None)
        }
        "getSegmentationPolicy" => (Method::GET, "/api/v1/segmentation/policy".into(), None),
        "getSegmentationPolicyVersion" => (
            Method::GET,
            "/api/v1/segmentation/policy/versions/0".into(),
            None,
        ),
        "publishSegmentationPolicy" => {
            let (_, mut policy) = app.get("/api/v1/segmentation/policy", admin).await;
            policy["abc"]["a_pct"] = json!(50 + n % 20);
            for stamp in ["version", "updated_at", "updated_by"] {
                policy.as_object_mut().unwrap().remove(stamp);
            }
            (
                Method::PUT,
                "/api/v1/segmentation/policy".into(),
                Some(policy),
            )
        }
        "startSegmentationRun" => {
            no_runs_waiting(app).await;
            (
                Method::POST,
                "/api/v1/segmentation/runs".into(),
                Some(json!({})),
            )
        }
        "listSegmentationRuns" => (Method::GET, "/api/v1/segmentation/runs".into(), None),
        "getSegmentationRun" | "listSegmentationResults" | "compareSegmentationRuns" => {
            no_runs_waiting(app).await;
            let (status, run) = app
                .post("/api/v1/segmentation/runs", admin, json!({}))
                .await;
            assert_eq!(status, StatusCode::ACCEPTED, "{run}");
            let r = format!("/api/v1/segmentation/runs/{}", run["id"].as_str().unwrap());
            let path = match operation {
                "getSegmentationRun" => r,
                "listSegmentationResults" => format!("{r}/results"),
                _ => format!("{r}/compare?with={}", run["id"].as_str().unwrap()),
            };
            (Method::GET, path, None)
        }
        "getSegmentationPareto" | "getCustomerValue" => {
            no_runs_waiting(app).await;
            let _runner = crate::jobs::instance(app);
            let run = app.segment(admin, json!({})).await;
            let path = if operation == "getCustomerValue" {
                format!("{c}/value")
            } else {
                format!(
                    "/api/v1/segmentation/runs/{}/pareto",
                    run["id"].as_str().unwrap()
                )
            };
            (Method::GET, path, None)
        }
        "getCustomerGradeHistory" => (Method::GET, format!("{c}/grades"), None),
        "listCustomerGradeOverrides" => (Method::GET, format!("{c}/grade-overrides"), None),
        "recordCustomerLoss" => (
            Method::POST,
            format!("{c}/loss"),
            Some(json!({"reason": "competitor", "note": "cheaper offer"})),
        ),
        "requestGradeOverride"
        | "getGradeOverride"
        | "getGradeOverrideHistory"
        | "approveGradeOverride" => {
            let body = json!({"customer_id": customer_id, "grade": "A", "reason": "r",
                              "expires_on": day_at(24 * 30)});
            if operation == "requestGradeOverride" {
                (
                    Method::POST,
                    "/api/v1/segmentation/overrides".into(),
                    Some(body),
                )
            } else {
                let (status, asked) = app
                    .post("/api/v1/segmentation/overrides", &ctx.evaluator_token, body)
                    .await;
                assert_eq!(status, StatusCode::CREATED, "{asked}");
                let path = format!(
                    "/api/v1/segmentation/overrides/{}",
                    asked["id"].as_str().unwrap()
                );
                if operation == "getGradeOverride" {
                    (Method::GET, path, None)
                } else if operation == "getGradeOverrideHistory" {
                    (Method::GET, format!("{path}/history"), None)
                } else {
                    (Method::POST, format!("{path}/approve"), Some(json!({})))
                }
            }
        }
        other => panic!("the role matrix has no call for operation {other}: add one"),
    };
    let mut request = app
        .request(method, &path, Some(token))
        .header("If-Match", "*");
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    // Every authenticated answer tells the caller where its quota stands.
    if response.status().is_success() {
        assert!(
            response.headers().contains_key("ratelimit")
                && response.headers().contains_key("ratelimit-policy"),
            "{operation}: {:?}",
            response.headers()
        );
    }
    response.status()
}

#[actix_web::test]
async fn every_operation_answers_every_role_as_the_rules_say() {
    // Thousands of calls, most by the admin setting the stage: the quotas are another test's.
    let app = TestApp::spawn_with(|settings| {
        let plenty = std::num::NonZeroU32::new(1_000_000).unwrap();
        settings.quotas = credo_api::limits::Quotas {
            per_key: plenty,
            per_user: plenty,
            checks: plenty,
        };
    })
    .await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "SZ").await;
    let mut tokens = vec![("admin", admin.clone())];
    let (mut agent, mut agent_token) = (String::new(), String::new());
    for role in &ROLES[1..] {
        let (id, token) = app
            .user(&admin, &format!("m.{role}"), role, Some(&unit))
            .await;
        if *role == "agent" {
            (agent, agent_token) = (id, token.clone());
        }
        tokens.push((role, token));
    }
    let (_, evaluator_token) = app
        .user(&admin, "m.evaluator", "credit_manager", None)
        .await;
    let (_, rate_maker_token) = app.user(&admin, "m.rates", "finance", None).await;
    // With no band every new rate waits for a second rate keeper: each rate call below
    // makes a change to decide. EUR gets a first rate for later ones to differ from.
    let band = app
        .patch("/api/v1/settings", &admin, "*", json!({"fx_band_bp": 0}))
        .await;
    assert_eq!(band.status(), StatusCode::OK);
    let (status, base) = app
        .post(
            "/api/v1/fx-rates",
            &rate_maker_token,
            json!({"currency": "EUR", "on": "2019-01-01", "rate": "1"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{base}");
    let ctx = Context {
        unit,
        agent,
        agent_token,
        evaluator_token,
        rate_maker_token,
    };
    let spec: Value = serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap();
    let mut operations = Vec::new();
    for item in spec["paths"].as_object().unwrap().values() {
        for operation in item.as_object().unwrap().values() {
            if operation["security"] != json!([]) {
                operations.push(operation["operationId"].as_str().unwrap().to_owned());
            }
        }
    }
    assert!(
        operations.iter().any(|o| o == "createCustomer"),
        "{operations:?}"
    );
    let mut n = 0;
    for operation in &operations {
        for (role, token) in &tokens {
            n += 1;
            let status = call(&app, &admin, &ctx, operation, token, n).await;
            if allowed(operation, role) {
                assert!(status.is_success(), "{role} {operation}: {status}");
            } else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{role} {operation}");
            }
        }
    }
}
