//! Integrity: a refused write leaves nothing behind, concurrent writers lose nothing, `If-Match`
//! follows RFC 9110, a change that changes nothing is no new version, claims stay within
//! their order, and money is moved and decided by someone other than who sold or raised it.

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::*;
use crate::orders::{line, order_body};

async fn orders_of(app: &TestApp, token: &str, customer: &str) -> Vec<Value> {
    let (status, page) = app
        .get(&format!("/api/v1/orders?customer_id={customer}"), token)
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    page["items"].as_array().unwrap().clone()
}

async fn trial(app: &TestApp, token: &str, customer: &str) -> String {
    let (status, trial) = app
        .post(
            &format!("/api/v1/customers/{customer}/product-trials"),
            token,
            json!({"product_code": "NEW-1", "product_name": "New valve", "inquired_on": "2026-01-02"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{trial}");
    trial["id"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn a_refused_order_writes_nothing_however_often_it_is_retried() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "Acme").await;
    let dropped = trial(&app, &admin, &customer).await;
    let (status, body) = app
        .post(
            &format!("/api/v1/product-trials/{dropped}/drop"),
            &admin,
            json!({"on": "2026-01-03"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let mut order = order_body(&customer, "2026-01-10");
    order["product_trial_id"] = json!(dropped);
    for _ in 0..3 {
        let (status, body) = app.post("/api/v1/orders", &admin, order.clone()).await;
        assert_invalid(status, &body, &[("product_trial_id", "trial_closed")]);
    }
    assert!(orders_of(&app, &admin, &customer).await.is_empty());
    let trial_now = app
        .walk(
            &format!("/api/v1/customers/{customer}/product-trials"),
            &admin,
        )
        .await;
    assert_eq!(trial_now[0]["stage"], "dropped", "{trial_now}");
    assert!(trial_now[0]["order_id"].is_null(), "{trial_now}");
}

#[actix_web::test]
async fn two_orders_cannot_both_conclude_one_trial() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "Acme").await;
    let trial_id = trial(&app, &admin, &customer).await;
    let mut order = order_body(&customer, "2026-01-10");
    order["product_trial_id"] = json!(trial_id);
    let answers = join_all((0..4).map(|_| app.post("/api/v1/orders", &admin, order.clone()))).await;
    let created: Vec<&Value> = answers
        .iter()
        .filter(|(status, _)| *status == StatusCode::CREATED)
        .map(|(_, body)| body)
        .collect();
    assert_eq!(created.len(), 1, "{answers:?}");
    for (status, body) in answers.iter().filter(|(s, _)| *s != StatusCode::CREATED) {
        assert_problem(
            *status,
            body,
            StatusCode::UNPROCESSABLE_ENTITY,
            "validation_failed",
        );
    }
    let orders = orders_of(&app, &admin, &customer).await;
    assert_eq!(orders.len(), 1);
    let trials = app
        .walk(
            &format!("/api/v1/customers/{customer}/product-trials"),
            &admin,
        )
        .await;
    assert_eq!(trials[0]["stage"], "ordered");
    assert_eq!(trials[0]["order_id"], orders[0]["id"]);
}

/// Ten fields, each changed by its own request at the same time with `If-Match: *`.
const FIELDS: [&str; 10] = [
    "short_name",
    "region",
    "address",
    "industry",
    "main_products",
    "legal_representative",
    "business_manager",
    "tax_number",
    "bank_name",
    "bank_account",
];

#[actix_web::test]
async fn concurrent_patches_of_different_fields_all_survive() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app
        .customer(
            &admin,
            json!({"kind": "organization", "legal_name": "Acme"}),
        )
        .await;
    let path = format!("/api/v1/customers/{}", customer["id"].as_str().unwrap());
    let answers = join_all(FIELDS.iter().map(|field| {
        app.patch(
            &path,
            &admin,
            "*",
            json!({ *field: format!("{field} value") }),
        )
    }))
    .await;
    for answer in answers {
        assert_eq!(answer.status(), StatusCode::OK);
    }
    let (_, now) = app.get(&path, &admin).await;
    for field in FIELDS {
        assert_eq!(now[field], format!("{field} value"), "{field} lost: {now}");
    }
    assert_eq!(now["version"], 11);
    // Each change records its own field and nothing else: no reverts of fields it never named.
    let history = app.walk(&format!("{path}/history"), &admin).await;
    let updates: Vec<&Value> = history
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["action"] == "updated")
        .collect();
    assert_eq!(updates.len(), 10, "{history}");
    for entry in updates {
        let changes = entry["changes"].as_array().unwrap();
        assert_eq!(changes.len(), 1, "{entry}");
        assert!(changes[0]["old"].is_null(), "{entry}");
    }
}

#[actix_web::test]
async fn concurrent_patches_of_tasks_contacts_orders_and_leads_all_survive() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "Acme").await;
    let (_, contact) = app
        .post(
            &format!("/api/v1/customers/{customer}/contacts"),
            &admin,
            json!({"name": "Wang"}),
        )
        .await;
    let (_, task) = app
        .post(
            "/api/v1/tasks",
            &admin,
            json!({"kind": "call", "title": "t", "due_on": "2026-01-10"}),
        )
        .await;
    let (_, lead) = app
        .post(
            "/api/v1/leads",
            &admin,
            json!({"company_name": "Lead Co", "channel": "trade_fair"}),
        )
        .await;
    let order = app.order(&admin, order_body(&customer, "2026-01-10")).await;
    let records = [
        (
            format!(
                "/api/v1/customers/{customer}/contacts/{}",
                contact["id"].as_str().unwrap()
            ),
            vec![
                ("title", json!("CFO")),
                ("notes", json!("prefers mornings")),
            ],
        ),
        (
            format!("/api/v1/tasks/{}", task["id"].as_str().unwrap()),
            vec![
                ("title", json!("call back")),
                ("note", json!("about the offer")),
            ],
        ),
        (
            format!("/api/v1/leads/{}", lead["id"].as_str().unwrap()),
            vec![
                ("contact_name", json!("Li")),
                ("note", json!("met at the fair")),
            ],
        ),
        (
            format!("/api/v1/orders/{}", order["id"].as_str().unwrap()),
            vec![("reference", json!("PO-7")), ("note", json!("urgent"))],
        ),
    ];
    for (path, changes) in &records {
        let answers = join_all(
            changes
                .iter()
                .map(|(field, value)| app.patch(path, &admin, "*", json!({ *field: value }))),
        )
        .await;
        for answer in answers {
            assert_eq!(answer.status(), StatusCode::OK, "{path}");
        }
        let (_, now) = app.get(path, &admin).await;
        for (field, value) in changes {
            assert_eq!(&now[field], value, "{path}: {field} lost: {now}");
        }
    }
}

#[actix_web::test]
async fn if_match_follows_rfc_9110() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app
        .customer(
            &admin,
            json!({"kind": "organization", "legal_name": "Acme"}),
        )
        .await;
    let path = format!("/api/v1/customers/{}", customer["id"].as_str().unwrap());
    // Well-formed tags that do not match the current version ("1") are 412 with the record.
    for tag in ["\"999\"", "W/\"1\"", "\"2\", \"3\"", "\"abc\""] {
        let (status, body) =
            read(app.patch(&path, &admin, tag, json!({"region": "x"})).await).await;
        assert_problem(
            status,
            &body,
            StatusCode::PRECONDITION_FAILED,
            "version_mismatch",
        );
        assert_eq!(body["current"]["version"], 1, "{tag}: {body}");
    }
    for malformed in ["1", "\"1", "W/1", "\"1\" junk"] {
        let (status, body) = read(
            app.patch(&path, &admin, malformed, json!({"region": "x"}))
                .await,
        )
        .await;
        assert_problem(status, &body, StatusCode::BAD_REQUEST, "invalid_header");
    }
    let (status, body) = read(
        app.patch(&path, &admin, "\"7\", \"1\"", json!({"region": "x"}))
            .await,
    )
    .await;
    assert_eq!(
        status,
        StatusCode::OK,
        "a list naming the current version matches: {body}"
    );
    assert_eq!(body["region"], "x");
    // Users carry ETags like every other record.
    let (user_id, _) = app.user(&admin, "li.lei", "agent", None).await;
    let user_path = format!("/api/v1/users/{user_id}");
    let response = app
        .request(Method::GET, &user_path, Some(&admin))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["etag"], "\"1\"");
    let (status, body) = read(
        app.patch(&user_path, &admin, "\"5\"", json!({"display_name": "Li"}))
            .await,
    )
    .await;
    assert_problem(
        status,
        &body,
        StatusCode::PRECONDITION_FAILED,
        "version_mismatch",
    );
    assert_eq!(body["current"]["display_name"], "li.lei");
    let response = app
        .request(Method::PATCH, &user_path, Some(&admin))
        .json(&json!({"display_name": "Li"}))
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
        .patch(&user_path, &admin, "\"1\"", json!({"display_name": "Li"}))
        .await;
    assert_eq!(response.headers()["etag"], "\"2\"");
    let (status, body) = read(response).await;
    assert_eq!(
        (status, &body["display_name"]),
        (StatusCode::OK, &json!("Li"))
    );
}

#[actix_web::test]
async fn a_change_that_changes_nothing_is_no_new_version() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app
        .customer(
            &admin,
            json!({"kind": "organization", "legal_name": "Acme", "region": "Guangdong"}),
        )
        .await;
    let path = format!("/api/v1/customers/{}", customer["id"].as_str().unwrap());
    let response = app
        .patch(&path, &admin, "\"1\"", json!({"region": "Guangdong"}))
        .await;
    assert_eq!(response.headers()["etag"], "\"1\"");
    let (status, same) = read(response).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(same, customer);
    let (status, archived) = app.send(Method::DELETE, &path, &admin, None).await;
    assert_eq!((status, &archived["version"]), (StatusCode::OK, &json!(2)));
    let (status, again) = app.send(Method::DELETE, &path, &admin, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(again, archived, "a second archive changes nothing");
    let history = app.walk(&format!("{path}/history"), &admin).await;
    let actions: Vec<&str> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["created", "archived"]);
}

#[actix_web::test]
async fn claims_never_exceed_their_order() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, agent) = app.user(&admin, "agent.a", "agent", None).await;
    let customer = app.organization(&agent, "Acme").await;
    let mut body = order_body(&customer, "2026-01-10");
    body["lines"] = json!([line("X", 1, 100, 50)]);
    let order = app.order(&agent, body).await;
    for step in ["confirm", "ship"] {
        assert_eq!(app.step(&agent, &order, step).await.0, StatusCode::OK);
    }
    let claims = format!("/api/v1/orders/{}/claims", order["id"].as_str().unwrap());
    let (status, body) = app
        .post(
            &claims,
            &agent,
            json!({"amount_minor": 2_000_000, "reason": "broken"}),
        )
        .await;
    assert_invalid(status, &body, &[("amount_minor", "exceeds_order")]);
    // Concurrent claims that each fit but together do not: at most the order's amount stands.
    let answers = join_all((0..6).map(|_| {
        app.post(
            &claims,
            &agent,
            json!({"amount_minor": 30, "reason": "dent"}),
        )
    }))
    .await;
    let accepted = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    assert_eq!(accepted, 3, "{answers:?}");
    let listed = app.walk(&claims, &agent).await;
    let standing: i64 = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["amount"]["amount_minor"].as_i64().unwrap())
        .sum();
    assert_eq!(standing, 90);
    // The agent who raised a claim does not decide it; a rejection frees its amount.
    let first = listed[0]["id"].as_str().unwrap();
    let decision = format!("{claims}/{first}/decision");
    let (status, body) = app
        .post(&decision, &admin, json!({"accepted": false}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = app
        .post(
            &claims,
            &agent,
            json!({"amount_minor": 40, "reason": "scratch"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
}

#[actix_web::test]
async fn money_is_recorded_and_claims_decided_by_someone_else() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "SZ").await;
    let (_, manager) = app
        .user(&admin, "head.sz", "unit_manager", Some(&unit))
        .await;
    let (_, finance) = app.user(&admin, "cash.sz", "finance", Some(&unit)).await;
    let (agent_id, agent) = app.user(&admin, "agent.sz", "agent", Some(&unit)).await;
    let customer = app
        .customer(
            &admin,
            json!({"kind": "organization", "legal_name": "Acme", "owner_id": agent_id}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let order = app.order(&agent, order_body(&customer, "2026-01-10")).await;
    for step in ["confirm", "ship", "invoice"] {
        assert_eq!(app.step(&agent, &order, step).await.0, StatusCode::OK);
    }
    let (status, body) = app.step(&agent, &order, "pay").await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = app.step(&manager, &order, "pay").await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = app.step(&finance, &order, "pay").await;
    assert_eq!(
        (status, &body["status"]),
        (StatusCode::OK, &json!("paid")),
        "{body}"
    );
    let claims = format!("/api/v1/orders/{}/claims", order["id"].as_str().unwrap());
    let (_, claim) = app
        .post(
            &claims,
            &manager,
            json!({"amount_minor": 500, "reason": "dent"}),
        )
        .await;
    let decision = format!("{claims}/{}/decision", claim["id"].as_str().unwrap());
    let (status, body) = app
        .post(&decision, &manager, json!({"accepted": true}))
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "same_person");
    let listed = app.walk(&claims, &manager).await;
    assert_eq!(listed[0]["status"], "open", "nothing was decided");
    let (status, body) = app.post(&decision, &admin, json!({"accepted": true})).await;
    assert_eq!(
        (status, &body["status"]),
        (StatusCode::OK, &json!("accepted")),
        "{body}"
    );
}

#[actix_web::test]
async fn times_the_server_fills_read_back_as_answered() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "Acme").await;
    let (status, visit) = app
        .post(
            "/api/v1/visits",
            &admin,
            json!({"customer_id": customer, "planned_at": "2026-01-10T09:00:00Z", "purpose": "p"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{visit}");
    let path = format!("/api/v1/visits/{}", visit["id"].as_str().unwrap());
    let (status, checked_in) = app
        .post(
            &format!("{path}/check-in"),
            &admin,
            json!({"location": {"latitude": 22.5, "longitude": 114.0}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{checked_in}");
    let (_, read_back) = app.get(&path, &admin).await;
    assert_eq!(read_back, checked_in);
    let (_, interaction) = app
        .post(
            &format!("/api/v1/customers/{customer}/interactions"),
            &admin,
            json!({"channel": "call", "direction": "outbound", "summary": "s"}),
        )
        .await;
    let (_, listed) = app
        .get(
            &format!("/api/v1/customers/{customer}/interactions"),
            &admin,
        )
        .await;
    assert_eq!(listed["items"][0], interaction);
}

/// Leaves `key` claimed for `body` by `user` as a request that died would, `age` ago.
async fn claimed_key(app: &TestApp, user: &str, key: &str, body: &Value, age: chrono::Duration) {
    use diesel::sql_types::{Text, Timestamp};
    use diesel::RunQueryDsl;
    use sha2::{Digest, Sha256};
    let hash = format!(
        "{:x}",
        Sha256::digest(format!("POST /api/v1/customers\n{body}").as_bytes())
    );
    let at = (chrono::Utc::now() - age).naive_utc();
    let (user, key) = (user.to_owned(), key.to_owned());
    let db = credo_store::Db::connect(app.database_url(), &Default::default()).unwrap();
    actix_web::web::block(move || {
        db.run(|conn| {
            diesel::sql_query(
                "INSERT INTO idempotency_keys (user_id, idempotency_key, request_hash, created_at) \
                 VALUES ($1, $2, $3, $4)",
            )
            .bind::<Text, _>(user)
            .bind::<Text, _>(key)
            .bind::<Text, _>(hash)
            .bind::<Timestamp, _>(at)
            .execute(conn)?;
            Ok(())
        })
    })
    .await
    .unwrap()
    .unwrap();
}

#[actix_web::test]
async fn a_key_left_claimed_by_a_request_that_died_is_taken_over() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, me) = app.get("/api/v1/me", &admin).await;
    let me = me["id"].as_str().unwrap();
    let body = json!({"kind": "organization", "legal_name": "Acme"});
    let post = |key: &'static str| {
        app.request(Method::POST, "/api/v1/customers", Some(&admin))
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    claimed_key(&app, me, "running", &body, chrono::Duration::seconds(1)).await;
    let (status, problem) = read(post("running").await.unwrap()).await;
    assert_problem(
        status,
        &problem,
        StatusCode::CONFLICT,
        "idempotency_in_progress",
    );
    claimed_key(&app, me, "died", &body, chrono::Duration::minutes(2)).await;
    let (status, created) = read(post("died").await.unwrap()).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let (status, replayed) = read(post("died").await.unwrap()).await;
    assert_eq!((status, &replayed), (StatusCode::CREATED, &created));
    let (_, page) = app.get("/api/v1/customers", &admin).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1, "{page}");
}

#[actix_web::test]
async fn steps_of_one_customer_are_checked_one_after_the_other() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "Acme").await;
    let mut orders = Vec::new();
    for amount in [100, 250, 4000] {
        let mut body = order_body(&customer, "2026-01-10");
        body["lines"] = json!([line("X", 1, amount, 0)]);
        orders.push(app.order(&admin, body).await);
    }
    let answers = join_all(orders.iter().map(|o| app.step(&admin, o, "confirm"))).await;
    let mut seen: Vec<(i64, i64)> = answers
        .iter()
        .map(|(status, order)| {
            assert_eq!(*status, StatusCode::OK, "{order}");
            let check = &order["credit_check"];
            assert_eq!(
                (&check["step"], &check["decision"]),
                (&json!("confirmed"), &json!("allow"))
            );
            let before = check["exposure_minor"].as_i64().unwrap();
            (before, before + check["amount_minor"].as_i64().unwrap())
        })
        .collect();
    // Each check saw every confirm judged before it, none judged beside it.
    seen.sort();
    assert_eq!(seen[0].0, 0, "{seen:?}");
    for pair in seen.windows(2) {
        assert_eq!(pair[1].0, pair[0].1, "{seen:?}");
    }
    // The credit parts (30 % prepaid): 70 + 175 + 2800.
    assert_eq!(seen[2].1, 3045, "{seen:?}");
    let (status, shipped) = app.step(&admin, &orders[0], "ship").await;
    assert_eq!(status, StatusCode::OK, "{shipped}");
    assert_eq!(shipped["credit_check"]["step"], "shipped");
    assert_eq!(shipped["credit_check"]["exposure_minor"], 2975);
    let (_, read_back) = app
        .get(
            &format!("/api/v1/orders/{}", orders[0]["id"].as_str().unwrap()),
            &admin,
        )
        .await;
    assert_eq!(read_back["credit_check"], shipped["credit_check"]);
}

#[actix_web::test]
async fn a_client_holding_the_current_version_gets_304() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "Acme").await;
    let path = format!("/api/v1/customers/{customer}");
    let conditional = |tag: &'static str| {
        app.request(Method::GET, &path, Some(&admin))
            .header("If-None-Match", tag)
            .send()
    };
    for held in ["\"1\"", "W/\"1\"", "\"7\", \"1\"", "*"] {
        let response = conditional(held).await.unwrap();
        assert_eq!(response.status(), StatusCode::NOT_MODIFIED, "{held}");
        assert_eq!(response.headers()["etag"], "\"1\"");
        assert!(response.text().await.unwrap().is_empty());
    }
    let response = conditional("\"2\"").await.unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let (status, _) = read(
        app.patch(&path, &admin, "\"1\"", json!({"region": "x"}))
            .await,
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let response = conditional("\"1\"").await.unwrap();
    assert_eq!(
        response.status(),
        StatusCode::OK,
        "a changed record is sent again"
    );
    assert_eq!(response.headers()["etag"], "\"2\"");
    let (_, body) = read(response).await;
    assert_eq!(body["region"], "x");
}

#[actix_web::test]
async fn racing_writers_keep_one_primary_contact_and_one_lead_per_person() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "Race Co").await;
    let contacts = format!("/api/v1/customers/{customer}/contacts");
    let answers = join_all((0..10).map(|n| {
        app.post(
            &contacts,
            &admin,
            json!({"name": format!("Contact {n}"), "is_primary": true}),
        )
    }))
    .await;
    for (status, body) in &answers {
        assert_eq!(*status, StatusCode::CREATED, "{body}");
    }
    let listed = app.walk(&contacts, &admin).await;
    let primaries = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["is_primary"] == true)
        .count();
    assert_eq!(primaries, 1, "{listed}");

    let lead = json!({"company_name": "Saigon Pumps", "contact_name": "Tran Binh", "channel": "trade_fair"});
    let answers = join_all((0..10).map(|_| app.post("/api/v1/leads", &admin, lead.clone()))).await;
    let created = answers
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1, "{answers:?}");
    for (status, body) in answers.iter().filter(|(s, _)| *s != StatusCode::CREATED) {
        assert_problem(*status, body, StatusCode::CONFLICT, "duplicate_lead");
    }
    let (_, leads) = app.get("/api/v1/leads", &admin).await;
    assert_eq!(leads["items"].as_array().unwrap().len(), 1, "{leads}");
}
