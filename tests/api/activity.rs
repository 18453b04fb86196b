//! Customer events and credit-data freshness, the interaction log, field visits (with
//! offline replay), tasks and the customer timeline.

use chrono::{Duration, Utc};
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::*;

/// An admin, a unit with a manager and two agents, and one customer of the first agent.
struct Team {
    app: TestApp,
    admin: String,
    manager: String,
    agent_id: String,
    agent: String,
    other_agent_id: String,
    other_agent: String,
    customer: String,
}

impl Team {
    async fn new() -> Team {
        let app = TestApp::spawn().await;
        let admin = app.admin_token().await;
        let sz = app.create_unit(&admin, "SZ").await;
        let sy = app.create_unit(&admin, "SY").await;
        let (_, manager) = app.user(&admin, "head.sz", "unit_manager", Some(&sz)).await;
        let (agent_id, agent) = app.user(&admin, "agent.sz", "agent", Some(&sz)).await;
        let (other_agent_id, other_agent) = app.user(&admin, "agent.sy", "agent", Some(&sy)).await;
        let customer = app
            .customer(
                &agent,
                json!({"kind": "organization", "legal_name": "Acme"}),
            )
            .await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        Team {
            app,
            admin,
            manager,
            agent_id,
            agent,
            other_agent_id,
            other_agent,
            customer,
        }
    }

    fn path(&self, tail: &str) -> String {
        format!("/api/v1/customers/{}{tail}", self.customer)
    }
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn named_events_open_a_credit_review_and_other_does_not() {
    let t = Team::new().await;
    let (status, body) = t
        .app
        .post(
            &t.path("/events"),
            &t.agent,
            json!({"kind": "litigation", "department": "credit", "description": " ", "occurred_on": "2999-01-01"}),
        )
        .await;
    assert_invalid(
        status,
        &body,
        &[("occurred_on", "in_future"), ("description", "required")],
    );
    let (status, other) = t
        .app
        .post(
            &t.path("/events"),
            &t.agent,
            json!({"kind": "other", "department": "sales", "description": "新办公楼启用"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{other}");
    assert_eq!(other["opens_credit_review"], false);
    let (_, customer) = t.app.get(&t.path(""), &t.agent).await;
    assert_eq!(customer["credit_review_due_since"], Value::Null);
    assert_eq!(customer["version"], 1);

    let (status, event) = t
        .app
        .post(
            &t.path("/events"),
            &t.agent,
            json!({"kind": "legal_representative_change", "department": "commercial",
                   "description": "法定代表人由张伟变更为李强", "occurred_on": "2026-11-01"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{event}");
    assert_eq!(event["opens_credit_review"], true);
    let (_, flagged) = t.app.get(&t.path(""), &t.agent).await;
    let since = flagged["credit_review_due_since"].clone();
    assert!(since.is_string(), "{flagged}");
    assert_eq!(flagged["version"], 2);
    t.app
        .post(
            &t.path("/events"),
            &t.agent,
            json!({"kind": "asset_sale", "department": "asset_management", "description": "出售厂房"}),
        )
        .await;
    let (_, still) = t.app.get(&t.path(""), &t.agent).await;
    assert_eq!(
        still["credit_review_due_since"], since,
        "the first open review is kept"
    );
    let events = t.app.walk(&t.path("/events"), &t.manager).await;
    let kinds: Vec<&str> = events
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        ["asset_sale", "legal_representative_change", "other"]
    );
    let (_, due) = t
        .app
        .get("/api/v1/customers?credit_review_due=true", &t.manager)
        .await;
    assert_eq!(ids(&due), [t.customer.as_str()]);
    let (_, not_due) = t
        .app
        .get("/api/v1/customers?credit_review_due=false", &t.manager)
        .await;
    assert!(ids(&not_due).is_empty());
    let history = t.app.walk(&t.path("/history"), &t.agent).await;
    assert!(history.as_array().unwrap().iter().any(|e| e["changes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["field"] == "credit_review_due_since")));
    let (status, _) = t.app.get(&t.path("/events"), &t.other_agent).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn stale_credit_data_is_listed_until_refreshed() {
    let t = Team::new().await;
    let fresh = t
        .app
        .customer(&t.agent, json!({"kind": "person", "legal_name": "Fresh"}))
        .await;
    assert!(fresh["credit_data_refreshed_at"].is_string());
    let long_ago = (Utc::now() - Duration::days(200)).date_naive().to_string();
    let (status, body) = t
        .app
        .post(
            &t.path("/credit-data-refresh"),
            &t.agent,
            json!({"checked_on": "2999-01-01"}),
        )
        .await;
    assert_eq!(
        error_fields(&body),
        [("checked_on".into(), "in_future".into())],
        "{status}"
    );
    let (status, old) = t
        .app
        .post(
            &t.path("/credit-data-refresh"),
            &t.agent,
            json!({"checked_on": long_ago}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{old}");
    assert!(old["credit_data_refreshed_at"]
        .as_str()
        .unwrap()
        .starts_with(&long_ago));
    let (status, stale) = t.app.get("/api/v1/customers/stale", &t.manager).await;
    assert_eq!(status, StatusCode::OK, "{stale}");
    assert_eq!(ids(&stale), [t.customer.as_str()]);
    let (_, stale) = t
        .app
        .get("/api/v1/customers/stale?older_than_days=250", &t.manager)
        .await;
    assert!(ids(&stale).is_empty());
    let (_, stale) = t.app.get("/api/v1/customers/stale", &t.other_agent).await;
    assert!(ids(&stale).is_empty(), "outside the caller's scope");
    let (status, body) = t
        .app
        .get("/api/v1/customers/stale?older_than_days=0", &t.manager)
        .await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "invalid_query");
    let response = t
        .app
        .request(
            Method::POST,
            &t.path("/credit-data-refresh"),
            Some(&t.agent),
        )
        .send()
        .await
        .unwrap();
    let (status, refreshed) = read(response).await;
    assert_eq!(status, StatusCode::OK, "a refresh needs no body");
    assert_eq!(refreshed["version"], 3);
    let (_, stale) = t.app.get("/api/v1/customers/stale", &t.manager).await;
    assert!(ids(&stale).is_empty());
}

#[actix_web::test]
async fn interactions_name_real_participants_and_page_newest_first() {
    let t = Team::new().await;
    let (_, contact) = t
        .app
        .post(&t.path("/contacts"), &t.agent, json!({"name": "王经理"}))
        .await;
    let contact = contact["id"].as_str().unwrap().to_owned();
    let unknown = uuid::Uuid::new_v4().to_string();
    let (status, body) = t
        .app
        .post(
            &t.path("/interactions"),
            &t.agent,
            json!({"channel": "call", "direction": "outbound", "summary": "x",
                   "participants": {"user_ids": [t.agent_id, unknown], "contact_ids": [unknown]}}),
        )
        .await;
    assert_invalid(
        status,
        &body,
        &[
            ("participants.user_ids[1]", "unknown_user"),
            ("participants.contact_ids[0]", "unknown_contact"),
        ],
    );
    let base = Utc::now() - Duration::hours(10);
    let mut made = Vec::new();
    for hour in 0..5 {
        let (status, created) = t
            .app
            .post(
                &t.path("/interactions"),
                &t.agent,
                json!({"channel": "meeting", "direction": "inbound", "summary": format!("第{hour}次会谈"),
                       "occurred_at": base + Duration::hours(hour),
                       "participants": {"user_ids": [t.agent_id], "contact_ids": [contact]}}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        made.push(created["id"].as_str().unwrap().to_owned());
    }
    let (status, body) = t
        .app
        .post(
            &t.path("/interactions"),
            &t.agent,
            json!({"channel": "email", "direction": "outbound", "summary": "s",
                   "occurred_at": Utc::now() + Duration::hours(2)}),
        )
        .await;
    assert_eq!(
        error_fields(&body),
        [("occurred_at".into(), "in_future".into())],
        "{status}"
    );
    let mut seen = Vec::new();
    let mut path = t.path("/interactions?limit=2");
    loop {
        let (status, page) = t.app.get(&path, &t.manager).await;
        assert_eq!(
            status,
            StatusCode::OK,
            "the unit manager supervises: {page}"
        );
        seen.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = t.path(&format!("/interactions?limit=2&cursor={cursor}")),
            None => break,
        }
    }
    made.reverse();
    assert_eq!(seen, made);
    let (status, _) = t.app.get(&t.path("/interactions"), &t.other_agent).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn a_visit_is_planned_checked_in_and_out() {
    let t = Team::new().await;
    let tomorrow = Utc::now() + Duration::days(1);
    let plan =
        json!({"customer_id": t.customer, "planned_at": tomorrow, "purpose": "回访设备使用情况"});
    let response = t
        .app
        .request(Method::POST, "/api/v1/visits", Some(&t.agent))
        .json(&plan)
        .send()
        .await
        .unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let (status, visit) = read(response).await;
    assert_eq!(status, StatusCode::CREATED, "{visit}");
    assert_eq!(
        (visit["status"].as_str(), visit["agent_id"].as_str()),
        (Some("planned"), Some(t.agent_id.as_str()))
    );
    let (status, body) = t
        .app
        .post(
            &format!("{location}/check-out"),
            &t.agent,
            json!({"location": {"latitude": 22.5, "longitude": 114.0}, "outcome": "o"}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT, "invalid_transition");
    let (status, body) = t
        .app
        .post(
            &format!("{location}/check-in"),
            &t.agent,
            json!({"location": {"latitude": 91, "longitude": -181}}),
        )
        .await;
    assert_problem(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(error_fields(&body).len(), 2);
    let arrived = Utc::now() - Duration::minutes(30);
    let (status, checked_in) = t
        .app
        .post(
            &format!("{location}/check-in"),
            &t.agent,
            json!({"at": arrived, "location": {"latitude": 22.543096, "longitude": 114.057865}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{checked_in}");
    assert_eq!(
        checked_in["check_in"]["location"],
        json!({"latitude": 22.543096, "longitude": 114.057865})
    );
    let (status, body) = t
        .app
        .post(
            &format!("{location}/check-out"),
            &t.agent,
            json!({"at": arrived - Duration::minutes(1), "location": {"latitude": 22.5, "longitude": 114.0}, "outcome": "o"}),
        )
        .await;
    assert_eq!(
        error_fields(&body),
        [("at".into(), "before_check_in".into())],
        "{status}"
    );
    let (status, done) = t
        .app
        .post(
            &format!("{location}/check-out"),
            &t.agent,
            json!({"location": {"latitude": 22.5431, "longitude": 114.0579}, "outcome": "客户同意试用", "next_step": "安排演示"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert_eq!(done["status"], "completed");
    assert_eq!(
        done["report"],
        json!({"outcome": "客户同意试用", "next_step": "安排演示"})
    );
    let (status, body) = t
        .app
        .send(Method::POST, &format!("{location}/cancel"), &t.agent, None)
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT, "invalid_transition");

    let (status, body) = t
        .app
        .post("/api/v1/visits", &t.agent, json!({"customer_id": t.customer, "agent_id": t.other_agent_id, "planned_at": tomorrow, "purpose": "p"}))
        .await;
    assert_invalid(status, &body, &[("agent_id", "out_of_scope")]);
    let (status, assigned) = t
        .app
        .post("/api/v1/visits", &t.manager, json!({"customer_id": t.customer, "agent_id": t.agent_id, "planned_at": tomorrow + Duration::hours(2), "purpose": "p"}))
        .await;
    assert_eq!(
        status,
        StatusCode::CREATED,
        "a unit manager plans for the team: {assigned}"
    );
    let agenda = t.app.walk("/api/v1/me/visits", &t.agent).await;
    let agenda_ids: Vec<&str> = agenda
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        agenda_ids,
        [
            visit["id"].as_str().unwrap(),
            assigned["id"].as_str().unwrap()
        ]
    );
    let window = format!(
        "/api/v1/me/visits?from={}&to={}",
        (tomorrow + Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ"),
        (tomorrow + Duration::hours(3)).format("%Y-%m-%dT%H:%M:%SZ")
    );
    let (status, later) = t.app.get(&window, &t.agent).await;
    assert_eq!(status, StatusCode::OK, "{later}");
    assert_eq!(later["items"].as_array().unwrap().len(), 1);
    let none = t.app.walk("/api/v1/me/visits", &t.other_agent).await;
    assert_eq!(none, json!([]));
    let (status, body) = t
        .app
        .get(
            "/api/v1/me/visits?from=2026-01-10T00:00:00Z&to=2026-06-10T00:00:00Z",
            &t.agent,
        )
        .await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "invalid_query");
}

#[actix_web::test]
async fn an_offline_visit_is_accepted_once_with_its_device_times() {
    let t = Team::new().await;
    let id = uuid::Uuid::now_v7().to_string();
    let arrived = (Utc::now() - Duration::days(2))
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    let left = (Utc::now() - Duration::days(2) + Duration::minutes(45))
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string();
    let offline = json!({
        "id": id, "customer_id": t.customer, "planned_at": arrived, "purpose": "巡检",
        "check_in": {"at": arrived, "location": {"latitude": 41.805699, "longitude": 123.431472}},
        "check_out": {"at": left, "location": {"latitude": 41.8057, "longitude": 123.4315},
                      "outcome": "设备运行正常", "next_step": "三个月后复查"}
    });
    let (status, first) = t
        .app
        .post("/api/v1/visits", &t.agent, offline.clone())
        .await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["id"], id.as_str());
    assert_eq!(first["status"], "completed");
    assert_eq!(first["check_in"]["at"], arrived.as_str());
    assert_eq!(first["check_out"]["at"], left.as_str());
    let (status, again) = t
        .app
        .post("/api/v1/visits", &t.agent, offline.clone())
        .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a replay answers the stored visit: {again}"
    );
    assert_eq!(again, first);
    let mut changed = offline.clone();
    changed["purpose"] = json!("另一次拜访");
    let (status, body) = t.app.post("/api/v1/visits", &t.agent, changed).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "id_conflict");
    let (_, timeline) = t.app.get(&t.path("/timeline"), &t.agent).await;
    let visits: Vec<&Value> = timeline["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["kind"] == "visit")
        .collect();
    assert_eq!(visits.len(), 1, "stored once: {timeline}");
    let mut orphan = offline;
    orphan["id"] = json!(uuid::Uuid::now_v7());
    orphan.as_object_mut().unwrap().remove("check_in");
    let (status, body) = t.app.post("/api/v1/visits", &t.agent, orphan).await;
    assert_eq!(
        error_fields(&body),
        [("check_out".into(), "requires_check_in".into())],
        "{status}"
    );
}

#[actix_web::test]
async fn tasks_are_assigned_within_scope_and_closed() {
    let t = Team::new().await;
    let (status, body) = t
        .app
        .post(
            "/api/v1/tasks",
            &t.agent,
            json!({"kind": "call", "title": " ", "due_on": "2026-12-01"}),
        )
        .await;
    assert_eq!(
        error_fields(&body),
        [("title".into(), "required".into())],
        "{status}"
    );
    let (status, body) = t
        .app
        .post("/api/v1/tasks", &t.agent, json!({"kind": "call", "title": "t", "due_on": "2026-12-01", "assignee_id": t.other_agent_id}))
        .await;
    assert_invalid(status, &body, &[("assignee_id", "out_of_scope")]);
    let (status, body) = t
        .app
        .post("/api/v1/tasks", &t.other_agent, json!({"kind": "call", "title": "t", "due_on": "2026-12-01", "customer_id": t.customer}))
        .await;
    assert_eq!(
        error_fields(&body),
        [("customer_id".into(), "not_found".into())],
        "{status}"
    );
    let mut made = Vec::new();
    for (day, kind) in [
        ("2026-12-03", "follow_up"),
        ("2026-12-01", "call"),
        ("2026-12-02", "birthday"),
    ] {
        let (status, task) = t
            .app
            .post("/api/v1/tasks", &t.manager, json!({"kind": kind, "title": format!("{kind} {day}"), "due_on": day, "assignee_id": t.agent_id, "customer_id": t.customer}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{task}");
        assert_eq!(task["status"], "open");
        made.push(task);
    }
    let (_, mine) = t.app.get("/api/v1/me/tasks?status=open", &t.agent).await;
    let dues: Vec<&str> = mine["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["due_on"].as_str().unwrap())
        .collect();
    assert_eq!(dues, ["2026-12-01", "2026-12-02", "2026-12-03"]);
    let (_, theirs) = t.app.get("/api/v1/me/tasks", &t.other_agent).await;
    assert!(ids(&theirs).is_empty());
    let (_, unit) = t
        .app
        .get("/api/v1/tasks?due_before=2026-12-03", &t.manager)
        .await;
    assert_eq!(ids(&unit).len(), 2);
    let path = format!("/api/v1/tasks/{}", made[1]["id"].as_str().unwrap());
    let (status, _) = t.app.get(&path, &t.other_agent).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, done) = read(
        t.app
            .patch(&path, &t.agent, "\"1\"", json!({"status": "done"}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{done}");
    assert!(done["completed_at"].is_string());
    assert_eq!(done["version"], 2);
    let (status, body) = read(
        t.app
            .patch(&path, &t.agent, "\"1\"", json!({"status": "open"}))
            .await,
    )
    .await;
    assert_problem(
        status,
        &body,
        StatusCode::PRECONDITION_FAILED,
        "version_mismatch",
    );
    let (status, reopened) = read(
        t.app
            .patch(
                &path,
                &t.agent,
                "\"2\"",
                json!({"status": "open", "due_on": "2026-12-09"}),
            )
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{reopened}");
    assert_eq!(
        (
            reopened["completed_at"].clone(),
            reopened["due_on"].as_str()
        ),
        (Value::Null, Some("2026-12-09"))
    );
    let (_, open) = t
        .app
        .get("/api/v1/me/tasks?status=open&kind=call", &t.agent)
        .await;
    assert_eq!(ids(&open), [made[1]["id"].as_str().unwrap().to_owned()]);
}

#[actix_web::test]
async fn the_timeline_holds_every_source_newest_first() {
    let t = Team::new().await;
    t.app
        .post(
            &t.path("/notes"),
            &t.agent,
            json!({"department": "sales", "body": "第一次接触"}),
        )
        .await;
    t.app
        .post(
            &t.path("/assessments"),
            &t.agent,
            json!({"department": "credit", "topic": "reputation", "rating": 4}),
        )
        .await;
    t.app
        .post(
            &t.path("/interactions"),
            &t.agent,
            json!({"channel": "call", "direction": "outbound", "summary": "电话"}),
        )
        .await;
    t.app
        .post(
            &t.path("/events"),
            &t.agent,
            json!({"kind": "litigation", "department": "credit", "description": "诉讼"}),
        )
        .await;
    t.app
        .order(
            &t.agent,
            crate::orders::order_body(&t.customer, "2026-01-10"),
        )
        .await;
    t.app
        .post(
            "/api/v1/visits",
            &t.agent,
            json!({"customer_id": t.customer, "planned_at": Utc::now(), "purpose": "拜访"}),
        )
        .await;
    let (status, _) = t
        .app
        .post(
            &t.path("/transfer"),
            &t.admin,
            json!({"new_owner_id": t.agent_id, "reason": "重新分配"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, whole) = t.app.get(&t.path("/timeline"), &t.agent).await;
    assert_eq!(status, StatusCode::OK, "{whole}");
    let entries = whole["items"].as_array().unwrap();
    let mut kinds: Vec<&str> = entries
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        [
            "assessment",
            "event",
            "interaction",
            "note",
            "order",
            "transfer",
            "visit"
        ]
    );
    let times: Vec<&str> = entries.iter().map(|e| e["at"].as_str().unwrap()).collect();
    let parsed: Vec<chrono::DateTime<Utc>> = times.iter().map(|t| t.parse().unwrap()).collect();
    assert!(parsed.windows(2).all(|w| w[0] >= w[1]), "{times:?}");
    let order = entries.iter().find(|e| e["kind"] == "order").unwrap();
    assert_eq!(order["summary"], "quoted 900009.99 CNY");
    let mut paged = Vec::new();
    let mut path = t.path("/timeline?limit=2");
    loop {
        let (_, page) = t.app.get(&path, &t.agent).await;
        paged.extend(ids(&page));
        match page["next_cursor"].as_str() {
            Some(cursor) => path = t.path(&format!("/timeline?limit=2&cursor={cursor}")),
            None => break,
        }
    }
    assert_eq!(paged, ids(&whole));
    let (status, _) = t.app.get(&t.path("/timeline"), &t.other_agent).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn the_agenda_leaves_out_customers_handed_over() {
    let t = Team::new().await;
    let tomorrow = Utc::now() + Duration::days(1);
    let (status, visit) = t
        .app
        .post(
            "/api/v1/visits",
            &t.agent,
            json!({"customer_id": t.customer, "planned_at": tomorrow, "purpose": "回访"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{visit}");
    let agenda = t.app.walk("/api/v1/me/visits", &t.agent).await;
    assert_eq!(agenda.as_array().unwrap().len(), 1);
    assert_eq!(agenda[0]["id"], visit["id"]);

    let (status, body) = t
        .app
        .post(
            &t.path("/transfer"),
            &t.admin,
            json!({"new_owner_id": t.other_agent_id, "reason": "调岗"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    // Neither the visit nor the customer shows to the former owner any more.
    let agenda = t.app.walk("/api/v1/me/visits", &t.agent).await;
    assert_eq!(agenda, json!([]), "the agenda follows the customer scope");
    let visit_path = format!("/api/v1/visits/{}", visit["id"].as_str().unwrap());
    assert_eq!(
        t.app.get(&visit_path, &t.agent).await.0,
        StatusCode::NOT_FOUND
    );
}

#[actix_web::test]
async fn work_goes_only_to_someone_who_sees_the_customer() {
    let t = Team::new().await;
    let tomorrow = Utc::now() + Duration::days(1);
    // The admin sees everyone, but the other agent does not see the agent's customer.
    let (status, body) = t
        .app
        .post("/api/v1/visits", &t.admin, json!({"customer_id": t.customer, "agent_id": t.other_agent_id, "planned_at": tomorrow, "purpose": "p"}))
        .await;
    assert_invalid(status, &body, &[("agent_id", "cannot_see_customer")]);
    let (status, body) = t
        .app
        .post("/api/v1/tasks", &t.admin, json!({"kind": "call", "title": "t", "due_on": "2026-12-01", "assignee_id": t.other_agent_id, "customer_id": t.customer}))
        .await;
    assert_invalid(status, &body, &[("assignee_id", "cannot_see_customer")]);
    assert_eq!(
        t.app.walk("/api/v1/me/visits", &t.other_agent).await,
        json!([])
    );
    assert_eq!(
        t.app.walk("/api/v1/me/tasks", &t.other_agent).await,
        json!([])
    );

    let (status, task) = t
        .app
        .post("/api/v1/tasks", &t.admin, json!({"kind": "call", "title": "t", "due_on": "2026-12-01", "assignee_id": t.agent_id, "customer_id": t.customer}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{task}");
    let path = format!("/api/v1/tasks/{}", task["id"].as_str().unwrap());
    let other_customer = t.app.organization(&t.other_agent, "Other Co").await;
    for (patch, field) in [
        (json!({"assignee_id": t.other_agent_id}), "assignee_id"),
        (json!({"customer_id": other_customer}), "assignee_id"),
    ] {
        let response = t.app.patch(&path, &t.admin, "\"1\"", patch).await;
        let status = response.status();
        let body: Value = response.json().await.unwrap();
        assert_invalid(status, &body, &[(field, "cannot_see_customer")]);
    }
    let (_, unchanged) = t.app.get(&path, &t.admin).await;
    assert_eq!(unchanged["version"], 1);
    assert_eq!(unchanged["assignee_id"], t.agent_id.as_str());
    assert_eq!(unchanged["customer_id"], t.customer.as_str());
    // Both at once, to someone who sees the new customer, is fine.
    let both = json!({"assignee_id": t.other_agent_id, "customer_id": other_customer});
    let response = t.app.patch(&path, &t.admin, "\"1\"", both).await;
    assert_eq!(response.status(), StatusCode::OK);
}
