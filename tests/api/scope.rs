//! Row scope and the role matrix: who sees and changes which customers.

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::*;

struct World {
    app: TestApp,
    admin: String,
    /// role -> (user id, token); unit managers and agents in unit SZ, one more agent in SY.
    users: Vec<(&'static str, String, String)>,
    other_agent: (String, String),
}

impl World {
    async fn new() -> World {
        let app = TestApp::spawn().await;
        let admin = app.admin_token().await;
        let sz = app.create_unit(&admin, "SZ").await;
        let sy = app.create_unit(&admin, "SY").await;
        let mut users = vec![("admin", String::new(), admin.clone())];
        let (_, me) = app.get("/api/v1/me", &admin).await;
        users[0].1 = me["id"].as_str().unwrap().to_owned();
        for role in [
            "credit_manager",
            "finance",
            "unit_manager",
            "agent",
            "service",
            "viewer",
        ] {
            let (id, token) = app
                .user(&admin, &format!("{role}.sz"), role, Some(&sz))
                .await;
            users.push((role, id, token));
        }
        let other_agent = app.user(&admin, "agent.sy", "agent", Some(&sy)).await;
        World {
            app,
            admin,
            users,
            other_agent,
        }
    }

    fn token(&self, role: &str) -> &str {
        &self.users.iter().find(|(r, _, _)| *r == role).unwrap().2
    }

    fn id(&self, role: &str) -> &str {
        &self.users.iter().find(|(r, _, _)| *r == role).unwrap().1
    }
}

#[actix_web::test]
async fn each_role_sees_its_scope_and_nothing_else_exists() {
    let w = World::new().await;
    let own = w
        .app
        .customer(
            w.token("agent"),
            json!({"kind": "person", "legal_name": "Own"}),
        )
        .await;
    let other = w
        .app
        .customer(
            &w.other_agent.1,
            json!({"kind": "person", "legal_name": "Other unit"}),
        )
        .await;
    let expectations: [(&str, bool, bool); 7] = [
        // role, sees own (unit SZ), sees other (unit SY)
        ("admin", true, true),
        ("credit_manager", true, true),
        ("finance", true, true),
        ("unit_manager", true, false),
        ("agent", true, false),
        ("service", true, true),
        ("viewer", true, true),
    ];
    for (role, sees_own, sees_other) in expectations {
        let token = w.token(role);
        for (customer, visible) in [(&own, sees_own), (&other, sees_other)] {
            let path = format!("/api/v1/customers/{}", customer["id"].as_str().unwrap());
            let (status, body) = w.app.get(&path, token).await;
            if visible {
                assert_eq!(status, StatusCode::OK, "{role} {path}");
            } else {
                assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");
                for sub in ["contacts", "notes", "assessments", "history", "transfers"] {
                    assert_eq!(
                        w.app.get(&format!("{path}/{sub}"), token).await.0,
                        StatusCode::NOT_FOUND,
                        "{role} {sub}"
                    );
                }
                let response = w
                    .app
                    .patch(&path, token, "\"1\"", json!({"region": "x"}))
                    .await;
                assert_eq!(
                    response.status(),
                    StatusCode::NOT_FOUND,
                    "{role} patches an invisible customer"
                );
            }
        }
        let (_, page) = w.app.get("/api/v1/customers", token).await;
        let listed: Vec<&Value> = page["items"].as_array().unwrap().iter().collect();
        assert_eq!(
            listed.len(),
            usize::from(sees_own) + usize::from(sees_other),
            "{role} list"
        );
    }
    // The other agent sees only its own.
    let (_, page) = w.app.get("/api/v1/customers", &w.other_agent.1).await;
    assert_eq!(page["items"][0]["id"], other["id"]);
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn write_rights_follow_the_role() {
    let w = World::new().await;
    for (role, _, token) in &w.users {
        let (status, body) = w
            .app
            .post(
                "/api/v1/customers",
                token,
                json!({"kind": "person", "legal_name": format!("by {role}")}),
            )
            .await;
        if *role == "viewer" {
            assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
            continue;
        }
        assert_eq!(status, StatusCode::CREATED, "{role}: {body}");
        let path = format!("/api/v1/customers/{}", body["id"].as_str().unwrap());
        assert_eq!(
            w.app
                .patch(&path, token, "\"1\"", json!({"region": "x"}))
                .await
                .status(),
            StatusCode::OK,
            "{role}"
        );
        let (status, _) = w
            .app
            .post(
                &format!("{path}/notes"),
                token,
                json!({"department": "sales", "body": "n"}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{role}");
    }
    let target = w
        .app
        .customer(&w.admin, json!({"kind": "person", "legal_name": "Target"}))
        .await;
    let path = format!("/api/v1/customers/{}", target["id"].as_str().unwrap());
    let viewer = w.token("viewer");
    assert_eq!(
        w.app
            .patch(&path, viewer, "\"1\"", json!({"region": "x"}))
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    for (method, sub, body) in [
        (
            Method::POST,
            "/notes",
            json!({"department": "sales", "body": "n"}),
        ),
        (
            Method::POST,
            "/assessments",
            json!({"department": "sales", "topic": "reputation", "rating": 3}),
        ),
        (Method::POST, "/contacts", json!({"name": "x"})),
        (Method::POST, "/restore", json!({})),
        (Method::DELETE, "", json!({})),
    ] {
        let (status, problem) = w
            .app
            .send(method.clone(), &format!("{path}{sub}"), viewer, Some(body))
            .await;
        assert_problem(status, &problem, StatusCode::FORBIDDEN, "forbidden");
    }
}

#[actix_web::test]
async fn agents_cannot_place_customers_outside_their_scope() {
    let w = World::new().await;
    let (status, body) = w
        .app
        .post(
            "/api/v1/customers",
            w.token("agent"),
            json!({"kind": "person", "legal_name": "x", "owner_id": w.other_agent.0}),
        )
        .await;
    assert_invalid(status, &body, &[("owner_id", "out_of_scope")]);
    // A unit manager may assign inside its unit, not outside.
    let (status, body) = w
        .app
        .post(
            "/api/v1/customers",
            w.token("unit_manager"),
            json!({"kind": "person", "legal_name": "x", "owner_id": w.id("agent")}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let (status, refused) = w
        .app
        .post(
            "/api/v1/customers",
            w.token("unit_manager"),
            json!({"kind": "person", "legal_name": "y", "owner_id": w.other_agent.0}),
        )
        .await;
    assert_invalid(status, &refused, &[("owner_id", "out_of_scope")]);
    // Transfers: only admin, credit manager and unit manager; a unit manager keeps within scope.
    let path = format!(
        "/api/v1/customers/{}/transfer",
        body["id"].as_str().unwrap()
    );
    for role in ["agent", "finance", "service", "viewer"] {
        let (status, _) = w
            .app
            .post(
                &path,
                w.token(role),
                json!({"new_owner_id": w.id("agent"), "reason": "r"}),
            )
            .await;
        assert_eq!(status, StatusCode::FORBIDDEN, "{role} transfers");
    }
    let (status, refused) = w
        .app
        .post(
            &path,
            w.token("unit_manager"),
            json!({"new_owner_id": w.other_agent.0, "reason": "r"}),
        )
        .await;
    assert_invalid(status, &refused, &[("new_owner_id", "out_of_scope")]);
    let (status, _) = w
        .app
        .post(
            &path,
            w.token("credit_manager"),
            json!({"new_owner_id": w.other_agent.0, "reason": "r"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[actix_web::test]
async fn duplicates_outside_the_scope_say_whom_to_ask_not_which_record() {
    let w = World::new().await;
    let uscc = "91350100M000100Y43";
    let (status, mine) = w
        .app
        .post(
            "/api/v1/customers",
            w.token("agent"),
            json!({"kind": "organization", "legal_name": "华强贸易", "uscc": uscc}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{mine}");
    let other = w.other_agent.1.as_str();

    let (status, body) = w
        .app
        .post(
            "/api/v1/customers",
            other,
            json!({"kind": "organization", "legal_name": "Copy", "uscc": uscc}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT, "duplicate_customer");
    assert!(body.get("existing_id").is_none(), "{body}");
    assert_eq!(body["owning_unit"], "SZ office");
    assert!(!body.to_string().contains(mine["id"].as_str().unwrap()));
    // Who sees the record learns its id.
    let (status, body) = w
        .app
        .post(
            "/api/v1/customers",
            w.token("unit_manager"),
            json!({"kind": "organization", "legal_name": "Copy", "uscc": uscc}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT, "duplicate_customer");
    assert_eq!(body["existing_id"], mine["id"]);
    assert!(body.get("owning_unit").is_none(), "{body}");

    let lead = json!({"company_name": "华强贸易", "contact_name": "Li", "channel": "trade_fair"});
    let (status, body) = w.app.post("/api/v1/leads", other, lead.clone()).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "duplicate_lead");
    assert!(body.get("existing_id").is_none(), "{body}");
    assert_eq!(body["owning_unit"], "SZ office");
    let (status, body) = w
        .app
        .post("/api/v1/leads:batch", other, json!({"leads": [lead]}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body["rows"][0]["duplicate_of"],
        json!({"kind": "customer", "id": null, "owning_unit": "SZ office"})
    );
}

#[actix_web::test]
async fn moving_a_user_to_another_unit_moves_what_they_hold() {
    let w = World::new().await;
    let agent = w.token("agent");
    let customer = w.app.organization(agent, "Moving Co").await;
    let (status, lead) = w
        .app
        .post(
            "/api/v1/leads",
            agent,
            json!({"company_name": "Lead Co", "contact_name": "Wu", "channel": "trade_fair"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{lead}");
    let (status, task) = w
        .app
        .post("/api/v1/tasks", agent, json!({"kind": "call", "title": "回访", "due_on": "2026-12-31", "customer_id": customer}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{task}");
    let (_, other) = w
        .app
        .get(&format!("/api/v1/users/{}", w.other_agent.0), &w.admin)
        .await;
    let sy = other["sales_unit_id"].as_str().unwrap().to_owned();

    let user_path = format!("/api/v1/users/{}", w.id("agent"));
    let (_, user) = w.app.get(&user_path, &w.admin).await;
    let etag = format!("\"{}\"", user["version"]);
    let response = w
        .app
        .patch(&user_path, &w.admin, &etag, json!({"sales_unit_id": sy}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);

    let customer_path = format!("/api/v1/customers/{customer}");
    let (_, moved) = w.app.get(&customer_path, &w.admin).await;
    assert_eq!(moved["sales_unit_id"], sy.as_str());
    assert_eq!(moved["version"], 2);
    let history = w
        .app
        .walk(&format!("{customer_path}/history"), &w.admin)
        .await;
    let last = history.as_array().unwrap().last().unwrap().clone();
    assert_eq!(last["action"], "transferred", "{history}");
    assert_eq!(last["changes"][0]["field"], "sales_unit_id");
    assert_eq!(last["changes"][0]["new"], sy.as_str());
    let lead_path = format!("/api/v1/leads/{}", lead["id"].as_str().unwrap());
    let task_path = format!("/api/v1/tasks/{}", task["id"].as_str().unwrap());
    for path in [&lead_path, &task_path] {
        let (_, record) = w.app.get(path, &w.admin).await;
        assert_eq!(record["sales_unit_id"], sy.as_str(), "{path}: {record}");
    }
    // The old unit's manager no longer sees them; the agent still does.
    let manager = w.token("unit_manager");
    for path in [&customer_path, &lead_path, &task_path] {
        assert_eq!(
            w.app.get(path, manager).await.0,
            StatusCode::NOT_FOUND,
            "{path}"
        );
        assert_eq!(w.app.get(path, agent).await.0, StatusCode::OK, "{path}");
    }
}
