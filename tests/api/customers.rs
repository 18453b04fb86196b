use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::*;

const USCC: &str = "91350100M000100Y43";

fn full_customer() -> Value {
    json!({
        "kind": "organization",
        "legal_name": "深圳市华强贸易有限公司",
        "short_name": "华强贸易",
        "country": "cn",
        "region": "广东省深圳市",
        "address": "福田区华强北路1号",
        "industry": "trading",
        "main_products": "电子元器件",
        "source_channel": "trade_fair",
        "communication_status": "in_discussion",
        "legal_representative": "王强",
        "business_manager": "李芳",
        "phones": ["+86 755 8888-1234"],
        "emails": ["finance@huaqiang.example.cn"],
        "uscc": "91350100m000100y43",
        "tax_number": "91350100M000100Y43",
        "bank_name": "中国工商银行深圳分行",
        "bank_account": "4000021234567890123",
        "operating_status": "operating",
        "founded_on": "2001-05-01",
        "tags": ["VIP", "export"],
        "lifecycle_stage": "prospect"
    })
}

#[actix_web::test]
async fn a_customer_is_created_normalised_and_read_back() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let response = app
        .request(Method::POST, "/api/v1/customers", Some(&admin))
        .json(&full_customer())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::CREATED);
    assert_eq!(response.headers()["etag"], "\"1\"");
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let created: Value = response.json().await.unwrap();
    assert_eq!(
        location,
        format!("/api/v1/customers/{}", created["id"].as_str().unwrap())
    );
    assert_eq!(created["uscc"], USCC);
    assert_eq!(created["country"], "CN");
    assert_eq!(created["phones"], json!(["+8675588881234"]));
    assert_eq!(created["tags"], json!(["export", "vip"]));
    assert_eq!(created["version"], 1);
    let (_, me) = app.get("/api/v1/me", &admin).await;
    assert_eq!(created["owner_id"], me["id"]);
    assert_eq!(created["created_by"], me["id"]);

    let response = app
        .request(Method::GET, &location, Some(&admin))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["etag"], "\"1\"");
    let read_back: Value = response.json().await.unwrap();
    assert_eq!(read_back, created);
}

#[actix_web::test]
async fn every_bad_field_is_reported_at_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (status, body) = app
        .post(
            "/api/v1/customers",
            &admin,
            json!({
                "kind": "organization",
                "legal_name": "  ",
                "country": "XX",
                "uscc": "91350100M000100Y44",
                "emails": ["ok@example.com", "not-an-email"],
                "phones": ["12ab"],
                "birthday": "1990-01-01",
                "founded_on": "2999-01-01",
                "tags": [""],
            }),
        )
        .await;
    assert_problem(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    let mut fields = error_fields(&body);
    fields.sort();
    let mut expected: Vec<(String, String)> = [
        ("legal_name", "required"),
        ("country", "invalid_country"),
        ("uscc", "checksum_mismatch"),
        ("emails[1]", "invalid_email"),
        ("phones[0]", "invalid_phone"),
        ("birthday", "person_only"),
        ("founded_on", "in_future"),
        ("tags[0]", "invalid_tag"),
    ]
    .iter()
    .map(|(f, c)| (f.to_string(), c.to_string()))
    .collect();
    expected.sort();
    assert_eq!(fields, expected);
    let (status, _) = app.get("/api/v1/customers", &admin).await;
    assert_eq!(status, StatusCode::OK);
    let (_, page) = app.get("/api/v1/customers", &admin).await;
    assert_eq!(page["items"], json!([]), "nothing half-written");
}

#[actix_web::test]
async fn wrong_shapes_name_their_field() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for (body, field, code) in [
        (json!({"legal_name": "x"}), "kind", "required"),
        (
            json!({"kind": "alien", "legal_name": "x"}),
            "kind",
            "invalid_type",
        ),
        (
            json!({"kind": "person", "legal_name": 5}),
            "legal_name",
            "invalid_type",
        ),
        (
            json!({"kind": "person", "legal_name": "x", "phones": "123"}),
            "phones",
            "invalid_type",
        ),
        (
            json!({"kind": "person", "legal_name": "x", "credit_limit": 1}),
            "credit_limit",
            "unknown_field",
        ),
        (
            json!({"kind": "person", "legal_name": "x", "founded_on": "yesterday"}),
            "founded_on",
            "invalid_type",
        ),
        (
            json!({"kind": "person", "legal_name": "x", "id": "not-a-uuid"}),
            "id",
            "invalid_type",
        ),
        (json!(["not", "an", "object"]), "", "invalid_type"),
    ] {
        let (status, problem) = app.post("/api/v1/customers", &admin, body.clone()).await;
        assert_problem(
            status,
            &problem,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        );
        assert_eq!(
            error_fields(&problem),
            [(field.to_owned(), code.to_owned())],
            "{body}"
        );
    }
    // Several misfits are reported together, type errors and unknown members alike.
    let several = json!({"kind": "alien", "legal_name": 5, "phones": "123", "credit_limit": 1});
    let (status, problem) = app.post("/api/v1/customers", &admin, several).await;
    assert_invalid(
        status,
        &problem,
        &[
            ("credit_limit", "unknown_field"),
            ("kind", "invalid_type"),
            ("legal_name", "invalid_type"),
            ("phones", "invalid_type"),
        ],
    );
    let (status, problem) = app
        .post("/api/v1/customers", &admin, json!({"phones": "123"}))
        .await;
    assert_invalid(
        status,
        &problem,
        &[("phones", "invalid_type"), ("kind", "required")],
    );
    let customer = app.organization(&admin, "Patched Co").await;
    let path = format!("/api/v1/customers/{customer}");
    let response = app
        .patch(
            &path,
            &admin,
            "\"1\"",
            json!({"legal_name": 5, "founded_on": "yesterday", "colour": 1}),
        )
        .await;
    let status = response.status();
    let problem: Value = response.json().await.unwrap();
    assert_invalid(
        status,
        &problem,
        &[
            ("colour", "unknown_field"),
            ("founded_on", "invalid_type"),
            ("legal_name", "invalid_type"),
        ],
    );
    let (_, unchanged) = app.get(&path, &admin).await;
    assert_eq!(unchanged["version"], 1, "{unchanged}");
    assert_eq!(unchanged["legal_name"], "Patched Co");
}

#[actix_web::test]
async fn a_duplicate_uscc_is_409_naming_the_existing_customer() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let first = app.customer(&admin, full_customer()).await;
    let (status, body) = app
        .post(
            "/api/v1/customers",
            &admin,
            json!({"kind": "organization", "legal_name": "Other", "uscc": USCC}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT, "duplicate_customer");
    assert_eq!(body["existing_id"], first["id"]);
    // Also when a patch would take another customer's code.
    let second = app
        .customer(
            &admin,
            json!({"kind": "organization", "legal_name": "Second"}),
        )
        .await;
    let response = app
        .patch(
            &format!("/api/v1/customers/{}", second["id"].as_str().unwrap()),
            &admin,
            "\"1\"",
            json!({"uscc": USCC}),
        )
        .await;
    let (status, body) = read(response).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "duplicate_customer");
    assert_eq!(body["existing_id"], first["id"]);
}

#[actix_web::test]
async fn a_client_may_choose_the_id_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let id = uuid::Uuid::now_v7().to_string();
    let created = app
        .customer(
            &admin,
            json!({"id": id, "kind": "person", "legal_name": "李雷"}),
        )
        .await;
    assert_eq!(created["id"], id.as_str());
    let (status, body) = app
        .post(
            "/api/v1/customers",
            &admin,
            json!({"id": id, "kind": "person", "legal_name": "韩梅梅"}),
        )
        .await;
    assert_problem(status, &body, StatusCode::CONFLICT, "id_conflict");
    assert_eq!(body["existing_id"], id.as_str());
}

#[actix_web::test]
async fn patch_is_a_merge_patch_guarded_by_if_match() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let created = app.customer(&admin, full_customer()).await;
    let path = format!("/api/v1/customers/{}", created["id"].as_str().unwrap());

    let response = app
        .request(Method::PATCH, &path, Some(&admin))
        .json(&json!({"region": "x"}))
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_problem(
        status,
        &body,
        StatusCode::PRECONDITION_REQUIRED,
        "if_match_required",
    );

    let response = app
        .patch(
            &path,
            &admin,
            "\"1\"",
            json!({"short_name": "华强", "address": null, "tags": ["new"]}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["etag"], "\"2\"");
    let changed: Value = response.json().await.unwrap();
    assert_eq!(changed["short_name"], "华强");
    assert!(changed["address"].is_null());
    assert_eq!(changed["tags"], json!(["new"]));
    assert_eq!(
        changed["legal_name"], created["legal_name"],
        "absent members stay"
    );
    assert_eq!(changed["version"], 2);

    let response = app
        .patch(&path, &admin, "\"1\"", json!({"region": "stale"}))
        .await;
    assert_eq!(response.headers()["etag"], "\"2\"");
    let (status, body) = read(response).await;
    assert_problem(
        status,
        &body,
        StatusCode::PRECONDITION_FAILED,
        "version_mismatch",
    );
    assert_eq!(body["current"]["short_name"], "华强");
    assert_eq!(body["current"]["version"], 2);

    let response = app
        .patch(&path, &admin, "garbage", json!({"region": "x"}))
        .await;
    let (status, body) = read(response).await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "invalid_header");

    let response = app
        .patch(
            &path,
            &admin,
            "\"2\"",
            json!({"owner_id": uuid::Uuid::new_v4(), "version": 9}),
        )
        .await;
    let (status, body) = read(response).await;
    assert_invalid(
        status,
        &body,
        &[("owner_id", "read_only"), ("version", "read_only")],
    );

    let response = app
        .patch(
            &path,
            &admin,
            "\"2\"",
            json!({"legal_name": null, "nonsense": 1}),
        )
        .await;
    let (status, body) = read(response).await;
    assert_problem(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );

    let response = app
        .patch(&path, &admin, "*", json!({"region": "深圳"}))
        .await;
    assert_eq!(response.status(), StatusCode::OK, "* matches any version");
    let (_, now) = app.get(&path, &admin).await;
    assert_eq!(now["version"], 3, "failed patches wrote nothing");
}

#[actix_web::test]
async fn history_records_who_changed_what() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let created = app.customer(&admin, full_customer()).await;
    let path = format!("/api/v1/customers/{}", created["id"].as_str().unwrap());
    assert_eq!(
        app.patch(&path, &admin, "\"1\"", json!({"region": "沈阳"}))
            .await
            .status(),
        StatusCode::OK
    );
    let history = app.walk(&format!("{path}/history"), &admin).await;
    let entries = history.as_array().unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[0]["action"], "created");
    assert!(entries[0]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .any(|c| c["field"] == "legal_name" && c["new"] == created["legal_name"]));
    assert_eq!(entries[1]["action"], "updated");
    assert_eq!(
        entries[1]["changes"],
        json!([{"field": "region", "old": "广东省深圳市", "new": "沈阳"}])
    );
    assert_eq!(entries[1]["actor_id"], created["created_by"]);
}

#[actix_web::test]
async fn archive_hides_and_restore_brings_back() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let created = app
        .customer(&admin, json!({"kind": "person", "legal_name": "韩梅梅"}))
        .await;
    let path = format!("/api/v1/customers/{}", created["id"].as_str().unwrap());
    let response = app
        .request(Method::DELETE, &path, Some(&admin))
        .header("If-Match", "\"7\"")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::PRECONDITION_FAILED);
    let (status, archived) = app.send(Method::DELETE, &path, &admin, None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(archived["archived_at"].is_string());
    let (_, page) = app.get("/api/v1/customers", &admin).await;
    assert_eq!(page["items"], json!([]));
    let (_, page) = app.get("/api/v1/customers?archived=true", &admin).await;
    assert_eq!(page["items"][0]["id"], created["id"]);
    assert_eq!(
        app.get(&path, &admin).await.0,
        StatusCode::OK,
        "an archived file can still be read"
    );
    let (status, restored) = app
        .post(&format!("{path}/restore"), &admin, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert!(restored["archived_at"].is_null());
    assert_eq!(restored["version"], 3);
    let history = app.walk(&format!("{path}/history"), &admin).await;
    let actions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["created", "archived", "restored"]);
}

/// Archiving a customer archives its live contacts with it and makes its file read-only:
/// every change to it is `409 customer_archived` and writes nothing. Restoring brings back
/// the contacts archived with it, not one deleted on its own before, and the file is writable
/// again.
#[actix_web::test]
async fn archiving_takes_the_contacts_along_and_freezes_the_file_until_restored() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let id = app.organization(&admin, "Acme").await;
    let base = format!("/api/v1/customers/{id}");
    let mut contact_ids = Vec::new();
    for (name, primary) in [("王伟", true), ("李娜", false), ("张敏", false)] {
        let (status, contact) = app
            .post(
                &format!("{base}/contacts"),
                &admin,
                json!({"name": name, "is_primary": primary}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{contact}");
        contact_ids.push(contact["id"].as_str().unwrap().to_owned());
    }
    let deleted_before = format!("{base}/contacts/{}", contact_ids[2]);
    let (status, _) = app
        .send(Method::DELETE, &deleted_before, &admin, None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, archived) = app.send(Method::DELETE, &base, &admin, None).await;
    assert_eq!(status, StatusCode::OK, "{archived}");

    let (_, contacts) = app.get(&format!("{base}/contacts"), &admin).await;
    assert_eq!(contacts["items"], json!([]), "the contacts went with it");
    let (status, _) = app
        .get(&format!("{base}/contacts/{}", contact_ids[0]), &admin)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);

    let writes = [
        (format!("{base}/contacts"), json!({"name": "赵强"})),
        (
            format!("{base}/notes"),
            json!({"department": "credit", "body": "too late"}),
        ),
        (
            format!("{base}/assessments"),
            json!({"department": "sales", "topic": "reputation", "rating": 4, "assessed_on": "2026-11-01"}),
        ),
        (
            format!("{base}/events"),
            json!({"kind": "litigation", "department": "credit", "description": "sued", "occurred_on": "2026-11-01"}),
        ),
        (
            format!("{base}/interactions"),
            json!({"channel": "call", "direction": "outbound", "summary": "x"}),
        ),
        (
            format!("{base}/credit-data-refresh"),
            json!({"checked_on": "2026-11-01"}),
        ),
    ];
    for (path, body) in &writes {
        let (status, problem) = app.post(path, &admin, body.clone()).await;
        assert_problem(status, &problem, StatusCode::CONFLICT, "customer_archived");
    }
    let (status, problem) = read(
        app.patch(&base, &admin, "*", json!({"short_name": "Frozen"}))
            .await,
    )
    .await;
    assert_problem(status, &problem, StatusCode::CONFLICT, "customer_archived");
    let (_, unchanged) = app.get(&base, &admin).await;
    assert_eq!(unchanged, archived, "nothing was written to the file");
    for list in ["notes", "assessments", "events", "interactions"] {
        let (_, page) = app.get(&format!("{base}/{list}"), &admin).await;
        assert_eq!(page["items"], json!([]), "{list}");
    }

    let (status, restored) = app
        .post(&format!("{base}/restore"), &admin, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{restored}");
    let (_, contacts) = app.get(&format!("{base}/contacts"), &admin).await;
    let names: Vec<(&str, bool)> = contacts["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap(),
                c["is_primary"].as_bool().unwrap(),
            )
        })
        .collect();
    assert_eq!(names, [("王伟", true), ("李娜", false)]);
    let (status, _) = app.get(&deleted_before, &admin).await;
    assert_eq!(
        status,
        StatusCode::NOT_FOUND,
        "deleted on its own, it stays deleted"
    );
    for (path, body) in &writes {
        let (status, answer) = app.post(path, &admin, body.clone()).await;
        assert!(status.is_success(), "{path}: {status} {answer}");
    }
}

#[actix_web::test]
async fn transfer_moves_owner_and_unit_and_keeps_the_history() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let sz = app.create_unit(&admin, "SZ").await;
    let sy = app.create_unit(&admin, "SY").await;
    let (agent_a, token_a) = app.user(&admin, "agent.a", "agent", Some(&sz)).await;
    let (agent_b, token_b) = app.user(&admin, "agent.b", "agent", Some(&sy)).await;
    let created = app.customer(&token_a, json!({"kind": "organization", "legal_name": "Transfer Co", "lifecycle_stage": "active"})).await;
    assert_eq!(created["sales_unit_id"], sz.as_str());
    let path = format!("/api/v1/customers/{}", created["id"].as_str().unwrap());

    let (status, body) = app
        .post(
            &format!("{path}/transfer"),
            &token_a,
            json!({"new_owner_id": agent_b, "reason": "handover"}),
        )
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = app
        .post(
            &format!("{path}/transfer"),
            &admin,
            json!({"new_owner_id": agent_b, "reason": "  "}),
        )
        .await;
    assert_invalid(status, &body, &[("reason", "required")]);
    let (status, body) = app
        .post(
            &format!("{path}/transfer"),
            &admin,
            json!({"new_owner_id": uuid::Uuid::new_v4(), "reason": "x"}),
        )
        .await;
    assert_problem(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );

    let (status, moved) = app
        .post(
            &format!("{path}/transfer"),
            &admin,
            json!({"new_owner_id": agent_b, "reason": "客户经理调岗"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    assert_eq!(moved["owner_id"], agent_b.as_str());
    assert_eq!(moved["sales_unit_id"], sy.as_str());
    assert_eq!(
        moved["lifecycle_stage"], "active",
        "a handover changes no grade"
    );
    assert_eq!(
        app.get(&path, &token_a).await.0,
        StatusCode::NOT_FOUND,
        "the old owner lost it"
    );
    assert_eq!(app.get(&path, &token_b).await.0, StatusCode::OK);

    let transfers = app.walk(&format!("{path}/transfers"), &admin).await;
    assert_eq!(transfers.as_array().unwrap().len(), 1);
    assert_eq!(transfers[0]["from_owner_id"], agent_a.as_str());
    assert_eq!(transfers[0]["to_owner_id"], agent_b.as_str());
    assert_eq!(transfers[0]["from_sales_unit_id"], sz.as_str());
    assert_eq!(transfers[0]["reason"], "客户经理调岗");
}

#[actix_web::test]
async fn contacts_belong_to_their_customer_and_one_is_primary() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app
        .customer(
            &admin,
            json!({"kind": "organization", "legal_name": "Contact Co"}),
        )
        .await;
    let base = format!(
        "/api/v1/customers/{}/contacts",
        customer["id"].as_str().unwrap()
    );
    let (status, first) = app.post(&base, &admin, json!({"name": "王芳", "role": "finance", "is_primary": true, "phone": "138 0013 8000"})).await;
    assert_eq!(status, StatusCode::CREATED, "{first}");
    assert_eq!(first["phone"], "13800138000");
    let (status, second) = app.post(&base, &admin, json!({"name": "Li Lei", "email": "li@example.cn", "is_primary": true, "decision_authority": "decides"})).await;
    assert_eq!(status, StatusCode::CREATED);
    let list = app.walk(&base, &admin).await;
    let list = list.as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!(
        list[0]["id"], second["id"],
        "the newest primary comes first"
    );
    assert_eq!(
        list[1]["is_primary"], false,
        "the earlier primary was demoted"
    );

    let (status, body) = app
        .post(&base, &admin, json!({"name": "", "email": "bad"}))
        .await;
    assert_invalid(
        status,
        &body,
        &[("name", "required"), ("email", "invalid_email")],
    );

    let one = format!("{base}/{}", first["id"].as_str().unwrap());
    let (_, current) = app.get(&one, &admin).await;
    let response = app
        .patch(
            &one,
            &admin,
            &format!("\"{}\"", current["version"]),
            json!({"title": "财务总监"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let response = app
        .patch(&one, &admin, "\"1\"", json!({"title": "stale"}))
        .await;
    assert_eq!(response.status(), StatusCode::PRECONDITION_FAILED);
    let renamed = format!("{base}/{}", second["id"].as_str().unwrap());
    let (_, current) = app.get(&renamed, &admin).await;
    let etag = format!("\"{}\"", current["version"]);
    let response = app
        .patch(&renamed, &admin, &etag, json!({"name": "Zhao Min"}))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    let (_, page) = app.get("/api/v1/customers?q=zhao%20m", &admin).await;
    assert_eq!(
        page["items"][0]["id"], customer["id"],
        "found by the contact's new name"
    );
    let (_, page) = app.get("/api/v1/customers?q=li%20lei", &admin).await;
    assert_eq!(page["items"], json!([]), "the old name left the index");

    // Found by q through the contact's name.
    let (_, page) = app
        .get("/api/v1/customers?q=%E7%8E%8B%E8%8A%B3", &admin)
        .await;
    assert_eq!(page["items"][0]["id"], customer["id"]);

    let (status, _) = app.send(Method::DELETE, &one, &admin, None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(app.get(&one, &admin).await.0, StatusCode::NOT_FOUND);
    let (_, page) = app
        .get("/api/v1/customers?q=%E7%8E%8B%E8%8A%B3", &admin)
        .await;
    assert_eq!(page["items"], json!([]));

    let other = app
        .customer(&admin, json!({"kind": "person", "legal_name": "Other"}))
        .await;
    let wrong = format!(
        "/api/v1/customers/{}/contacts/{}",
        other["id"].as_str().unwrap(),
        second["id"].as_str().unwrap()
    );
    assert_eq!(
        app.get(&wrong, &admin).await.0,
        StatusCode::NOT_FOUND,
        "a contact is reached only through its customer"
    );
}

#[actix_web::test]
async fn notes_and_assessments_keep_each_department_visible() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app
        .customer(
            &admin,
            json!({"kind": "organization", "legal_name": "View Co"}),
        )
        .await;
    let base = format!("/api/v1/customers/{}", customer["id"].as_str().unwrap());
    let (status, _) = app
        .post(
            &format!("{base}/notes"),
            &admin,
            json!({"department": "marketing", "body": "很有价值的客户"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = app
        .post(
            &format!("{base}/notes"),
            &admin,
            json!({"department": "credit", "body": "风险偏高"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let notes = app.walk(&format!("{base}/notes"), &admin).await;
    assert_eq!(notes.as_array().unwrap().len(), 2);
    assert_eq!(notes[0]["department"], "credit", "newest first");
    let credit = app
        .walk(&format!("{base}/notes?department=credit"), &admin)
        .await;
    assert_eq!(credit.as_array().unwrap().len(), 1);
    let (status, body) = app
        .post(
            &format!("{base}/notes"),
            &admin,
            json!({"department": "credit", "body": " "}),
        )
        .await;
    assert_problem(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );

    let (status, assessment) = app
        .post(&format!("{base}/assessments"), &admin, json!({"department": "credit", "topic": "controller_strategy_clarity", "rating": 4, "comment": "战略清晰"}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{assessment}");
    assert_eq!(assessment["assessed_on"], company_today());
    let (status, body) = app
        .post(&format!("{base}/assessments"), &admin, json!({"department": "credit", "topic": "growth_potential", "rating": 6, "assessed_on": "2999-01-01"}))
        .await;
    assert_problem(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(error_fields(&body).len(), 2);
    let list = app.walk(&format!("{base}/assessments"), &admin).await;
    assert_eq!(list[0]["rating"], 4);
}
