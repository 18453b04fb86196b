//! Leads: batch import with mixed rows, duplicates, MAN qualification, funnel stages,
//! conversion into a customer and the funnel report.

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::*;

fn card(company: &str, contact: &str) -> Value {
    json!({"company_name": company, "contact_name": contact, "channel": "trade_fair",
           "source_detail": "2026 春季广交会", "email": format!("{}@example.com", contact.to_lowercase().replace(' ', "."))})
}

#[actix_web::test]
async fn a_batch_answers_every_row_and_writes_only_good_new_leads() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let sz = app.create_unit(&admin, "SZ").await;
    let (agent_id, agent) = app.user(&admin, "agent.sz", "agent", Some(&sz)).await;
    let (other_id, _) = app.user(&admin, "agent.sy", "agent", None).await;
    let customer = app
        .customer(
            &agent,
            json!({"kind": "organization", "legal_name": "Hanoi Steel Works"}),
        )
        .await;
    let (status, known) = app
        .post("/api/v1/leads", &agent, card("Saigon Pumps", "Tran Binh"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{known}");
    let mut bad_type = card("Typed", "X");
    bad_type["channel"] = json!("carrier_pigeon");
    let mut foreign_owner = card("Foreign", "Y");
    foreign_owner["owner_id"] = json!(other_id);
    let rows = json!([
        card("Da Nang Motors", "Le Cuong"),
        card("HANOI  steel works", "Anyone"),
        card("Saigon Pumps", "tran binh"),
        {"company_name": " ", "channel": "trade_fair", "email": "not-an-email"},
        card("Da Nang Motors", "Le Cuong"),
        card("Da Nang Motors", "Pham Dung"),
        bad_type,
        foreign_owner,
    ]);
    let (status, result) = app
        .post("/api/v1/leads:batch", &agent, json!({"leads": rows}))
        .await;
    assert_eq!(status, StatusCode::OK, "{result}");
    let outcomes: Vec<&str> = result["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        [
            "created",
            "duplicate",
            "duplicate",
            "invalid",
            "duplicate",
            "created",
            "invalid",
            "invalid"
        ]
    );
    assert_eq!(
        (
            result["created"].as_u64(),
            result["duplicates"].as_u64(),
            result["invalid"].as_u64()
        ),
        (Some(2), Some(3), Some(3))
    );
    let rows = result["rows"].as_array().unwrap();
    assert_eq!(
        rows[1]["duplicate_of"],
        json!({"kind": "customer", "id": customer["id"], "owning_unit": null})
    );
    assert_eq!(
        rows[2]["duplicate_of"],
        json!({"kind": "lead", "id": known["id"], "owning_unit": null})
    );
    assert_eq!(
        rows[4]["duplicate_of"],
        json!({"kind": "lead", "id": rows[0]["lead_id"], "owning_unit": null}),
        "a repeat inside the batch"
    );
    assert_eq!(
        error_fields(&rows[3]),
        [
            ("leads[3].company_name".into(), "required".into()),
            ("leads[3].email".into(), "invalid_email".into())
        ]
    );
    assert_eq!(error_fields(&rows[6])[0].0, "leads[6].channel");
    assert_eq!(
        error_fields(&rows[7]),
        [("leads[7].owner_id".into(), "not_assignable".into())]
    );
    let (_, listed) = app.get("/api/v1/leads?limit=200", &agent).await;
    assert_eq!(
        listed["items"].as_array().unwrap().len(),
        3,
        "the known lead and the two created"
    );
    let created = &listed["items"][0];
    assert_eq!(
        (
            created["owner_id"].as_str(),
            created["sales_unit_id"].as_str()
        ),
        (Some(agent_id.as_str()), Some(sz.as_str()))
    );
    assert_eq!(created["stage"], "new");
    assert_eq!(created["qualification"]["code"], "man");

    let (status, body) = app
        .post("/api/v1/leads", &agent, card("Saigon Pumps", "Tran Binh"))
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT, "duplicate_lead");
    assert_eq!(body["existing_id"], known["id"]);
    let (status, body) = app
        .post("/api/v1/leads:batch", &agent, json!({"leads": []}))
        .await;
    assert_problem(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    let many: Vec<Value> = (0..1001).map(|i| card(&format!("Co {i}"), "A")).collect();
    let (status, body) = app
        .post("/api/v1/leads:batch", &agent, json!({"leads": many}))
        .await;
    assert_eq!(
        error_fields(&body),
        [("leads".into(), "out_of_range".into())],
        "{status}"
    );
}

#[actix_web::test]
async fn a_thousand_cards_import_in_one_call() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let cards: Vec<Value> = (0..1000)
        .map(|i| card(&format!("Fair company {i}"), "Buyer"))
        .collect();
    let (status, result) = app
        .post("/api/v1/leads:batch", &admin, json!({"leads": cards}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(result["created"], 1000);
    let (_, again) = app
        .post(
            "/api/v1/leads:batch",
            &admin,
            json!({"leads": [card("Fair company 999", "buyer")]}),
        )
        .await;
    assert_eq!(again["duplicates"], 1);
}

#[actix_web::test]
async fn qualification_stages_and_conversion() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let sz = app.create_unit(&admin, "SZ").await;
    let (agent_id, agent) = app.user(&admin, "agent.sz", "agent", Some(&sz)).await;
    let (_, other_agent) = app.user(&admin, "agent.sz2", "agent", Some(&sz)).await;
    let (_, lead) = app
        .post("/api/v1/leads", &agent, card("Hue Textiles", "Vo Hanh"))
        .await;
    let path = format!("/api/v1/leads/{}", lead["id"].as_str().unwrap());
    let (status, _) = app.get(&path, &other_agent).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let (status, qualified) = read(
        app.patch(
            &path,
            &agent,
            "\"1\"",
            json!({"man": {"money": true, "authority": true, "need": false}}),
        )
        .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{qualified}");
    assert_eq!(qualified["qualification"]["code"], "MAn");
    assert_eq!(qualified["qualification"]["qualified"], false);
    assert!(qualified["qualification"]["next_action"]
        .as_str()
        .unwrap()
        .contains("need"));
    let history = app.walk(&format!("{path}/history"), &agent).await;
    assert!(
        history[1]["changes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["field"] == "qualification"),
        "{history}"
    );

    let stage = |stage: &str, reason: Option<&str>| json!({"stage": stage, "reason": reason});
    let (status, body) = app
        .post(&format!("{path}/stage"), &agent, stage("won", None))
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT, "invalid_transition");
    let (status, body) = app
        .post(&format!("{path}/stage"), &agent, stage("lost", None))
        .await;
    assert_eq!(
        error_fields(&body),
        [("reason".into(), "required".into())],
        "{status}"
    );
    for next in ["contacted", "proposal", "negotiation"] {
        let (status, moved) = app
            .post(&format!("{path}/stage"), &agent, stage(next, None))
            .await;
        assert_eq!(status, StatusCode::OK, "{moved}");
    }
    let (_, lost) = app
        .post(
            &format!("{path}/stage"),
            &agent,
            stage("lost", Some("预算冻结")),
        )
        .await;
    assert_eq!(
        (
            lost["stage"].as_str(),
            lost["furthest_stage"].as_str(),
            lost["lost_reason"].as_str()
        ),
        (Some("lost"), Some("negotiation"), Some("预算冻结"))
    );
    let (status, body) = app
        .post(&format!("{path}/convert"), &agent, json!({}))
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT, "invalid_transition");
    let (_, reopened) = app
        .post(&format!("{path}/stage"), &agent, stage("contacted", None))
        .await;
    assert_eq!(
        (reopened["stage"].as_str(), reopened["lost_reason"].clone()),
        (Some("contacted"), Value::Null)
    );

    let (status, won) = app
        .post(&format!("{path}/convert"), &agent, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{won}");
    assert_eq!(won["stage"], "won");
    let customer_path = format!("/api/v1/customers/{}", won["customer_id"].as_str().unwrap());
    let (status, customer) = app.get(&customer_path, &agent).await;
    assert_eq!(status, StatusCode::OK, "{customer}");
    assert_eq!(
        (
            customer["legal_name"].as_str(),
            customer["source_channel"].as_str(),
            customer["lifecycle_stage"].as_str()
        ),
        (Some("Hue Textiles"), Some("trade_fair"), Some("customer"))
    );
    assert_eq!(customer["owner_id"], agent_id.as_str());
    let contacts = app.walk(&format!("{customer_path}/contacts"), &agent).await;
    assert_eq!(
        (
            contacts[0]["name"].as_str(),
            contacts[0]["is_primary"].as_bool()
        ),
        (Some("Vo Hanh"), Some(true))
    );

    let (_, second) = app
        .post(
            "/api/v1/leads",
            &agent,
            card("Hue Textiles Trading", "Someone"),
        )
        .await;
    let second_path = format!("/api/v1/leads/{}", second["id"].as_str().unwrap());
    let (status, linked) = app
        .post(
            &format!("{second_path}/convert"),
            &agent,
            json!({"customer_id": won["customer_id"]}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{linked}");
    assert_eq!(linked["customer_id"], won["customer_id"]);
    let (_, third) = app
        .post("/api/v1/leads", &agent, card("Elsewhere", "Z"))
        .await;
    let (status, body) = app
        .post(
            &format!("/api/v1/leads/{}/convert", third["id"].as_str().unwrap()),
            &agent,
            json!({"customer_id": uuid::Uuid::new_v4()}),
        )
        .await;
    assert_eq!(
        error_fields(&body),
        [("customer_id".into(), "not_found".into())],
        "{status}"
    );
}

#[actix_web::test]
async fn the_funnel_report_counts_stages_per_group() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let sz = app.create_unit(&admin, "SZ").await;
    let (a_id, a) = app.user(&admin, "agent.a", "agent", Some(&sz)).await;
    let (b_id, b) = app.user(&admin, "agent.b", "agent", Some(&sz)).await;
    let (_, manager) = app.user(&admin, "head.sz", "unit_manager", Some(&sz)).await;
    let mut leads = Vec::new();
    for (name, token, n) in [("a", &a, 4), ("b", &b, 2)] {
        for i in 0..n {
            let (status, lead) = app
                .post("/api/v1/leads", token, card(&format!("Co {name} {i}"), "P"))
                .await;
            assert_eq!(status, StatusCode::CREATED, "{lead}");
            leads.push((token.clone(), lead["id"].as_str().unwrap().to_owned()));
        }
    }
    let step = |id: &str, body: Value| (format!("/api/v1/leads/{id}/stage"), body);
    // Agent a: one won, one lost after a proposal, one contacted, one new.
    for (path, body) in [
        step(&leads[0].1, json!({"stage": "proposal"})),
        step(&leads[1].1, json!({"stage": "proposal"})),
        step(&leads[1].1, json!({"stage": "lost", "reason": "价格"})),
        step(&leads[2].1, json!({"stage": "contacted"})),
    ] {
        let (status, body) = app.post(&path, &a, body).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    app.post(
        &format!("/api/v1/leads/{}/convert", leads[0].1),
        &a,
        json!({}),
    )
    .await;
    app.post(
        &format!("/api/v1/leads/{}/stage", leads[4].1),
        &b,
        json!({"stage": "contacted"}),
    )
    .await;

    let (status, report) = app
        .get("/api/v1/leads/funnel?group_by=agent", &manager)
        .await;
    assert_eq!(status, StatusCode::OK, "{report}");
    let reached = |group: &Value| -> Vec<u64> {
        group["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["reached"].as_u64().unwrap())
            .collect()
    };
    assert_eq!(reached(&report["total"]), [6, 4, 2, 2, 1, 1]);
    assert_eq!(report["total"]["stages"][1]["conversion_bp"], 6667);
    assert_eq!(
        (
            report["total"]["won"].as_u64(),
            report["total"]["lost"].as_u64(),
            report["total"]["open"].as_u64()
        ),
        (Some(1), Some(1), Some(4))
    );
    let group = |id: &str| {
        report["groups"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["group"] == id)
            .unwrap()
            .clone()
    };
    assert_eq!(reached(&group(&a_id)), [4, 3, 2, 2, 1, 1]);
    assert_eq!(group(&a_id)["win_rate_bp"], 2500);
    assert_eq!(reached(&group(&b_id)), [2, 1, 0, 0, 0, 0]);
    let (_, own) = app.get("/api/v1/leads/funnel", &b).await;
    assert_eq!(
        own["total"]["leads"], 2,
        "an agent's report covers its own leads"
    );
    let (_, by_channel) = app
        .get("/api/v1/leads/funnel?group_by=channel", &manager)
        .await;
    assert_eq!(by_channel["groups"][0]["group"], "trade_fair");
    let (_, future) = app
        .get("/api/v1/leads/funnel?from=2999-01-01T00:00:00Z", &manager)
        .await;
    assert_eq!(future["total"]["leads"], 0);
    assert_eq!(future["groups"], json!([]));
}
