use std::collections::HashSet;

use base64::Engine;

use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::*;

async fn walk(app: &TestApp, token: &str, query: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/customers?{query}&cursor={c}"),
            None => format!("/api/v1/customers?{query}"),
        };
        let (status, page) = app.get(&path, token).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        items.extend(page["items"].as_array().unwrap().iter().cloned());
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => return items,
        }
    }
}

fn ids(items: &[Value]) -> Vec<String> {
    items
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_owned())
        .collect()
}

#[actix_web::test]
async fn pages_have_no_gaps_or_repeats_while_records_are_inserted() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let mut existing = HashSet::new();
    for i in 0..23 {
        let c = app
            .customer(
                &admin,
                json!({"kind": "person", "legal_name": format!("Name {:02}", (i * 7) % 23)}),
            )
            .await;
        existing.insert(c["id"].as_str().unwrap().to_owned());
    }
    for (sort, order) in [
        ("name", "asc"),
        ("name", "desc"),
        ("created_at", "asc"),
        ("created_at", "desc"),
        ("updated_at", "asc"),
    ] {
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        let mut inserted = 0;
        loop {
            let mut path = format!("/api/v1/customers?limit=5&sort={sort}&order={order}");
            if let Some(c) = &cursor {
                path.push_str(&format!("&cursor={c}"));
            }
            let (status, page) = app.get(&path, &admin).await;
            assert_eq!(status, StatusCode::OK, "{page}");
            seen.extend(ids(page["items"].as_array().unwrap()));
            // Records arriving between pages, sorting before and after the cursor.
            for name in ["AAA new", "zzz new"] {
                app.customer(&admin, json!({"kind": "person", "legal_name": format!("{name} {sort} {order} {inserted}")})).await;
                inserted += 1;
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = Some(next.to_owned()),
                None => break,
            }
        }
        let unique: HashSet<_> = seen.iter().cloned().collect();
        assert_eq!(
            unique.len(),
            seen.len(),
            "{sort} {order}: a record came twice"
        );
        assert!(
            existing.is_subset(&unique),
            "{sort} {order}: a record present from the start was skipped"
        );
    }
    let all = walk(&app, &admin, "limit=200&sort=name").await;
    let names: Vec<&str> = all
        .iter()
        .map(|c| c["legal_name"].as_str().unwrap())
        .collect();
    let mut sorted = names.clone();
    sorted.sort();
    assert_eq!(names, sorted);
}

#[actix_web::test]
async fn every_filter_narrows_the_list() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "SZ").await;
    let (agent, agent_token) = app.user(&admin, "agent.sz", "agent", Some(&unit)).await;
    let a = app
        .customer(&agent_token, json!({"kind": "organization", "legal_name": "Ａｌｐｈａ　Trading Ltd", "country": "DE", "industry": "trading", "tags": ["vip"], "lifecycle_stage": "active"}))
        .await;
    let b = app.customer(&admin, json!({"kind": "organization", "legal_name": "深圳市华强机械有限公司", "short_name": "华强", "country": "CN", "industry": "machinery"})).await;
    let c = app
        .customer(
            &admin,
            json!({"kind": "person", "legal_name": "50%_off person"}),
        )
        .await;
    let only = |items: Vec<Value>, expected: &[&Value]| {
        let got: HashSet<String> = ids(&items).into_iter().collect();
        let want: HashSet<String> = expected
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(got, want);
    };
    only(walk(&app, &admin, "q=alpha%20trading").await, &[&a]);
    only(walk(&app, &admin, "q=%E5%8D%8E%E5%BC%BA").await, &[&b]);
    only(walk(&app, &admin, "q=50%25_").await, &[&c]);
    only(walk(&app, &admin, "q=%25").await, &[&c]);
    only(
        walk(&app, &admin, &format!("owner_id={agent}")).await,
        &[&a],
    );
    only(
        walk(&app, &admin, &format!("sales_unit_id={unit}")).await,
        &[&a],
    );
    only(walk(&app, &admin, "lifecycle_stage=active").await, &[&a]);
    only(walk(&app, &admin, "lifecycle_stage=lead").await, &[&b, &c]);
    only(walk(&app, &admin, "country=de").await, &[&a]);
    only(walk(&app, &admin, "industry=machinery").await, &[&b]);
    only(walk(&app, &admin, "tag=VIP").await, &[&a]);
    let since = c["updated_at"].as_str().unwrap().replace('+', "%2B");
    only(
        walk(&app, &admin, &format!("updated_since={since}")).await,
        &[&c],
    );
    only(
        walk(&app, &admin, "updated_since=2999-01-01T00:00:00Z").await,
        &[],
    );
}

#[actix_web::test]
async fn bad_list_parameters_are_400() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for (query, code) in [
        ("limit=0", "invalid_query"),
        ("limit=201", "invalid_query"),
        ("limit=ten", "invalid_query"),
        ("colour=red", "invalid_query"),
        ("sort=shoe_size", "invalid_query"),
        ("country=XX", "invalid_query"),
        ("owner_id=nope", "invalid_query"),
        ("updated_since=yesterday", "invalid_query"),
        ("cursor=%21%21%21", "invalid_cursor"),
    ] {
        let (status, body) = app.get(&format!("/api/v1/customers?{query}"), &admin).await;
        assert_problem(status, &body, StatusCode::BAD_REQUEST, code);
    }
    for i in 0..3 {
        app.customer(
            &admin,
            json!({"kind": "person", "legal_name": format!("P{i}")}),
        )
        .await;
    }
    let (_, page) = app.get("/api/v1/customers?limit=1&sort=name", &admin).await;
    let cursor = page["next_cursor"].as_str().unwrap();
    let (status, body) = app
        .get(
            &format!("/api/v1/customers?limit=1&sort=created_at&cursor={cursor}"),
            &admin,
        )
        .await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "invalid_cursor");
    let (status, body) = app.get("/api/v1/customers?limit=200", &admin).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["next_cursor"].is_null());
    assert_eq!(body["items"].as_array().unwrap().len(), 3);
}

#[actix_web::test]
async fn a_crafted_or_altered_cursor_is_400_on_every_list() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "Acme").await;
    for n in 0..3 {
        app.organization(&admin, &format!("Bolt {n}")).await;
    }
    let (_, first) = app.get("/api/v1/customers?limit=1", &admin).await;
    let issued = first["next_cursor"].as_str().unwrap().to_owned();
    let (payload, tag) = issued.split_once('.').unwrap();
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let mut state: Value = serde_json::from_slice(&engine.decode(payload).unwrap()).unwrap();
    // Values no sort key can hold, under the issued signature, and unsigned.
    for value in state.as_object_mut().unwrap().values_mut() {
        *value = json!("2026-99-99T25:61:00\u{0}' OR 1=1 --");
    }
    let forged = engine.encode(serde_json::to_vec(&state).unwrap());
    let crafted = [
        format!("{forged}.{tag}"),
        forged.clone(),
        format!("{payload}.AAAA"),
    ];

    let spec: Value = serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap();
    let mut lists = 0;
    for (template, item) in spec["paths"].as_object().unwrap() {
        let Some(get) = item.get("get") else { continue };
        let takes_cursor = get["parameters"]
            .as_array()
            .is_some_and(|ps| ps.iter().any(|p| p["name"] == "cursor"));
        if !takes_cursor {
            continue;
        }
        lists += 1;
        let path = template.replace("{id}", &customer);
        for cursor in &crafted {
            let (status, body) = app.get(&format!("{path}?cursor={cursor}"), &admin).await;
            if template.contains('{') {
                // A nested list of another parent: never a 5xx, whatever is looked at first.
                assert!(status.is_client_error(), "{path}: {status} {body}");
            } else {
                assert_problem(status, &body, StatusCode::BAD_REQUEST, "invalid_cursor");
            }
        }
    }
    assert!(lists >= 20, "only {lists} lists take a cursor");
}

#[test]
fn no_operation_answers_a_bare_array() {
    let spec: Value = serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap();
    for (template, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let ok = &operation["responses"]["200"]["content"]["application/json"]["schema"];
            assert_ne!(ok["type"], "array", "{method} {template} is not a page");
        }
    }
}

/// Walks `path` one item per page and checks it gives what one big page gives, in order.
async fn one_by_one(app: &TestApp, token: &str, path: &str, at_least: usize) -> Vec<Value> {
    let join = if path.contains('?') { '&' } else { '?' };
    let (status, first) = app.get(&format!("{path}{join}limit=1"), token).await;
    assert_eq!(status, StatusCode::OK, "{path}: {first}");
    assert_eq!(
        first["items"].as_array().unwrap().len(),
        1,
        "{path}: {first}"
    );
    assert!(first["next_cursor"].is_string(), "{path}: {first}");
    let singly = app.walk(&format!("{path}{join}limit=1"), token).await;
    let (_, whole) = app.get(&format!("{path}{join}limit=200"), token).await;
    assert!(whole["next_cursor"].is_null(), "{path}: {whole}");
    let whole = whole["items"].as_array().unwrap().clone();
    assert_eq!(ids(singly.as_array().unwrap()), ids(&whole), "{path}");
    assert!(whole.len() >= at_least, "{path}: {} items", whole.len());
    whole
}

#[actix_web::test]
async fn every_sub_collection_is_paged_in_its_order() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "SZ").await;
    app.create_unit(&admin, "BJ").await;
    let (agent, _) = app.user(&admin, "agent.one", "agent", Some(&unit)).await;
    app.user(&admin, "agent.two", "agent", Some(&unit)).await;
    let customer = app.organization(&admin, "Paged Co").await;
    let base = format!("/api/v1/customers/{customer}");
    for (n, name) in ["Zhao", "Qian", "Sun", "Li"].iter().enumerate() {
        let contact = json!({"name": name, "is_primary": n == 2});
        assert_eq!(
            app.post(&format!("{base}/contacts"), &admin, contact)
                .await
                .0,
            StatusCode::CREATED
        );
        let note = json!({"department": "sales", "body": format!("note {n}")});
        assert_eq!(
            app.post(&format!("{base}/notes"), &admin, note).await.0,
            StatusCode::CREATED
        );
        let assessment = json!({"department": "credit", "topic": "growth_potential", "rating": 3});
        assert_eq!(
            app.post(&format!("{base}/assessments"), &admin, assessment)
                .await
                .0,
            StatusCode::CREATED
        );
        let event =
            json!({"kind": "other", "department": "sales", "description": format!("event {n}")});
        assert_eq!(
            app.post(&format!("{base}/events"), &admin, event).await.0,
            StatusCode::CREATED
        );
        let trial = json!({"product_code": format!("P-{n}"), "product_name": "Valve", "inquired_on": format!("2026-01-0{}", 4 - n)});
        assert_eq!(
            app.post(&format!("{base}/product-trials"), &admin, trial)
                .await
                .0,
            StatusCode::CREATED
        );
    }
    for reason in ["first handover", "second handover"] {
        let (_, current) = app.get(&base, &admin).await;
        let new_owner = if current["owner_id"] == agent.as_str() {
            current["created_by"].clone()
        } else {
            json!(agent)
        };
        let (status, body) = app
            .post(
                &format!("{base}/transfer"),
                &admin,
                json!({"new_owner_id": new_owner, "reason": reason}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }

    let contacts = one_by_one(&app, &admin, &format!("{base}/contacts"), 4).await;
    let names: Vec<&str> = contacts
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["Sun", "Li", "Qian", "Zhao"],
        "the primary first, then by name"
    );
    let notes = one_by_one(&app, &admin, &format!("{base}/notes"), 4).await;
    assert_eq!(notes[0]["body"], "note 3", "newest first");
    one_by_one(&app, &admin, &format!("{base}/notes?department=sales"), 4).await;
    one_by_one(&app, &admin, &format!("{base}/assessments"), 4).await;
    let events = one_by_one(&app, &admin, &format!("{base}/events"), 4).await;
    assert_eq!(events[0]["description"], "event 3", "newest first");
    let trials = one_by_one(&app, &admin, &format!("{base}/product-trials"), 4).await;
    assert_eq!(
        trials[0]["inquired_on"], "2026-01-04",
        "newest inquiry first"
    );
    let transfers = one_by_one(&app, &admin, &format!("{base}/transfers"), 2).await;
    assert_eq!(transfers[0]["reason"], "first handover", "oldest first");
    let history = one_by_one(&app, &admin, &format!("{base}/history"), 3).await;
    assert_eq!(history[0]["action"], "created", "oldest first");
    let users = one_by_one(&app, &admin, "/api/v1/users", 3).await;
    let usernames: Vec<&str> = users
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    let mut sorted = usernames.clone();
    sorted.sort();
    assert_eq!(usernames, sorted, "by username");
    let units = one_by_one(&app, &admin, "/api/v1/sales-units", 2).await;
    assert_eq!(units[0]["code"], "BJ", "by code");
}

#[actix_web::test]
async fn unknown_query_parameters_are_400_on_every_operation() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let spec: Value = serde_json::from_str(include_str!("../../openapi/openapi.json")).unwrap();
    let mut operations = 0;
    for (template, item) in spec["paths"].as_object().unwrap() {
        let path = template
            .split('/')
            .map(|s| {
                if s.starts_with('{') {
                    "01a23a00-0000-7000-8000-000000000000"
                } else {
                    s
                }
            })
            .collect::<Vec<_>>()
            .join("/");
        for (method, operation) in item.as_object().unwrap() {
            let takes_limit = operation["parameters"]
                .as_array()
                .is_some_and(|ps| ps.iter().any(|p| p["name"] == "limit"));
            let query = if takes_limit {
                "limit=5&shoe_size=9"
            } else {
                "shoe_size=9"
            };
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let response = app
                .request(method.clone(), &format!("{path}?{query}"), Some(&admin))
                .send()
                .await
                .unwrap();
            let status = response.status();
            let body: Value = response.json().await.unwrap();
            assert_problem(status, &body, StatusCode::BAD_REQUEST, "invalid_query");
            assert_eq!(
                error_fields(&body),
                [("shoe_size".to_owned(), "unknown_parameter".to_owned())],
                "{method} {path}?{query}"
            );
            operations += 1;
        }
    }
    assert!(operations > 60, "{operations} operations");
}

#[actix_web::test]
async fn a_bad_query_value_names_its_parameter() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for (path, field) in [
        ("/api/v1/customers?limit=ten", "limit"),
        ("/api/v1/customers?owner_id=nope", "owner_id"),
        ("/api/v1/customers?country=XX", "country"),
        ("/api/v1/orders?status=bogus", "status"),
        ("/api/v1/orders?status=confirmed,bogus", "status"),
        ("/api/v1/leads?stage=new,", "stage"),
        ("/api/v1/customers?uscc=123", "uscc"),
        ("/api/v1/tasks?due_before=tomorrow", "due_before"),
        ("/api/v1/users?limit=0", "limit"),
        ("/api/v1/me/visits?from=yesterday", "from"),
    ] {
        let (status, body) = app.get(path, &admin).await;
        assert_problem(status, &body, StatusCode::BAD_REQUEST, "invalid_query");
        let fields: Vec<String> = error_fields(&body).into_iter().map(|(f, _)| f).collect();
        assert_eq!(fields, [field], "{path}: {body}");
    }
}

/// Ids of every item of a list, walked to its end.
async fn listed(app: &TestApp, token: &str, path: &str) -> HashSet<String> {
    ids(app.walk(path, token).await.as_array().unwrap())
        .into_iter()
        .collect()
}

fn id_set(records: &[&Value]) -> HashSet<String> {
    records
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_owned())
        .collect()
}

/// A sync asks what changed since it last looked: of two records, the one patched after the
/// other was written is all `updated_since` gives, on each list that takes it.
#[actix_web::test]
async fn updated_since_gives_what_changed_on_orders_leads_tasks_and_contacts() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "Acme").await;
    let contacts = format!("/api/v1/customers/{customer}/contacts");
    let order = |n: i64| {
        json!({"customer_id": customer, "currency": "CNY", "lines": [
            {"product_code": "P", "product_name": "P", "quantity": n, "unit_price_minor": 100, "unit_cost_minor": 0}]})
    };
    let lead = |n: i64| json!({"company_name": format!("Lead {n}"), "contact_name": format!("Person {n}"), "channel": "referral"});
    let task = |n: i64| json!({"kind": "call", "title": format!("Call {n}"), "due_on": "2026-12-01", "customer_id": customer});
    let contact = |n: i64| json!({"name": format!("联系人 {n}")});
    let cases = [
        (
            "/api/v1/orders",
            [order(1), order(2)],
            json!({"credit_days": 30}),
        ),
        (
            "/api/v1/leads",
            [lead(1), lead(2)],
            json!({"contact_name": "Changed"}),
        ),
        (
            "/api/v1/tasks",
            [task(1), task(2)],
            json!({"title": "Changed"}),
        ),
        (
            &contacts,
            [contact(1), contact(2)],
            json!({"title": "采购经理"}),
        ),
    ];
    for (list, [one, two], change) in cases {
        let (status, first) = app.post(list, &admin, one).await;
        assert_eq!(status, StatusCode::CREATED, "{first}");
        let (status, second) = app.post(list, &admin, two).await;
        assert_eq!(status, StatusCode::CREATED, "{second}");
        let path = format!("{list}/{}", first["id"].as_str().unwrap());
        let (status, changed) = read(app.patch(&path, &admin, "*", change).await).await;
        assert_eq!(status, StatusCode::OK, "{changed}");
        let since = changed["updated_at"].as_str().unwrap().replace('+', "%2B");
        assert_eq!(
            listed(&app, &admin, &format!("{list}?updated_since={since}")).await,
            id_set(&[&first]),
            "{list}"
        );
        assert_eq!(
            listed(
                &app,
                &admin,
                &format!("{list}?updated_since=2000-01-01T00:00:00Z")
            )
            .await,
            id_set(&[&first, &second]),
            "{list}"
        );
    }
}

/// `status=a,b` keeps the records in any of the statuses named, on every list that filters
/// by a status, stage, kind or channel.
#[actix_web::test]
async fn a_filter_takes_several_values() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "Acme").await;
    let body = || {
        json!({"customer_id": customer, "currency": "CNY", "lines": [
            {"product_code": "P", "product_name": "P", "quantity": 1, "unit_price_minor": 100, "unit_cost_minor": 0}]})
    };
    let quoted = app.order(&admin, body()).await;
    let confirmed = app.order(&admin, body()).await;
    let cancelled = app.order(&admin, body()).await;
    assert_eq!(
        app.step(&admin, &confirmed, "confirm").await.0,
        StatusCode::OK
    );
    let (status, _) = app
        .post(
            &format!(
                "/api/v1/orders/{}/cancel",
                cancelled["id"].as_str().unwrap()
            ),
            &admin,
            json!({"reason": "客户取消"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    for (query, expected) in [
        ("status=confirmed,cancelled", vec![&confirmed, &cancelled]),
        ("status=quoted", vec![&quoted]),
        ("status=quoted,quoted", vec![&quoted]),
        ("status=paid,closed", vec![]),
    ] {
        assert_eq!(
            listed(&app, &admin, &format!("/api/v1/orders?{query}")).await,
            id_set(&expected),
            "{query}"
        );
    }
    let mut tasks = Vec::new();
    for kind in ["call", "visit", "review"] {
        let (status, task) = app
            .post(
                "/api/v1/tasks",
                &admin,
                json!({"kind": kind, "title": kind, "due_on": "2026-12-01", "customer_id": customer}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{task}");
        tasks.push(task);
    }
    assert_eq!(
        listed(&app, &admin, "/api/v1/tasks?kind=call,review&status=open").await,
        id_set(&[&tasks[0], &tasks[2]])
    );
    let other = app.organization(&admin, "Beta").await;
    let response = app
        .patch(
            &format!("/api/v1/customers/{other}"),
            &admin,
            "*",
            json!({"lifecycle_stage": "active"}),
        )
        .await;
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(
        listed(
            &app,
            &admin,
            "/api/v1/customers?lifecycle_stage=active,at_risk"
        )
        .await,
        HashSet::from([other.clone()])
    );
}

/// Before creating a company, an integrator looks it up by its unified social credit code:
/// found when in scope, an empty page otherwise, 400 naming `uscc` for a malformed code.
#[actix_web::test]
async fn customers_are_found_by_their_uscc() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, agent) = app.user(&admin, "agent.sz", "agent", None).await;
    let known = app
        .customer(
            &admin,
            json!({"kind": "organization", "legal_name": "福建某某有限公司", "uscc": "91350100M000100Y43"}),
        )
        .await;
    app.organization(&admin, "Acme").await;
    assert_eq!(
        listed(&app, &admin, "/api/v1/customers?uscc=91350100m000100y43").await,
        id_set(&[&known])
    );
    assert_eq!(
        listed(&app, &agent, "/api/v1/customers?uscc=91350100M000100Y43").await,
        HashSet::new()
    );
    let (status, body) = app
        .get("/api/v1/customers?uscc=91350100M000100Y44", &admin)
        .await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "invalid_query");
    assert_eq!(error_fields(&body)[0].0, "uscc", "{body}");
}

/// Who is calling? A customer is found by a live contact's phone number (separators
/// ignored) or e-mail address (case-insensitive), within the caller's scope; an archived
/// contact no longer answers for it; a malformed value is 400 naming the parameter.
#[actix_web::test]
async fn customers_are_found_by_a_contacts_phone_or_email() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, agent) = app.user(&admin, "agent.sz", "agent", None).await;
    let acme = app.organization(&admin, "Acme").await;
    let other = app.organization(&admin, "Other").await;
    let contacts = [
        (&acme, "王伟", "+86 138-0013-8000", "Wang.Wei@Example.com"),
        (&other, "李娜", "+86 139 0000 0000", "li.na@example.com"),
        (&other, "张敏", "+86 137 0000 0000", "zhang@example.com"),
    ];
    let mut contact_paths = Vec::new();
    for (customer, name, phone, email) in contacts {
        let path = format!("/api/v1/customers/{customer}/contacts");
        let (status, contact) = app
            .post(
                &path,
                &admin,
                json!({"name": name, "phone": phone, "email": email}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{contact}");
        contact_paths.push(format!("{path}/{}", contact["id"].as_str().unwrap()));
    }
    let found = |query: &str| format!("/api/v1/customers?{query}");
    let only = |id: &String| HashSet::from([id.clone()]);
    for query in [
        "phone=%2B8613800138000",
        "phone=%2B86%20138%200013%208000",
        "email=wang.wei%40example.com",
        "email=WANG.WEI%40EXAMPLE.COM",
    ] {
        assert_eq!(
            listed(&app, &admin, &found(query)).await,
            only(&acme),
            "{query}"
        );
        assert_eq!(
            listed(&app, &agent, &found(query)).await,
            HashSet::new(),
            "{query}"
        );
    }
    assert_eq!(
        listed(&app, &admin, &found("phone=%2B8613900000000")).await,
        only(&other)
    );
    let (status, _) = app
        .send(Method::DELETE, &contact_paths[1], &admin, None)
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_eq!(
        listed(&app, &admin, &found("phone=%2B8613900000000")).await,
        HashSet::new(),
        "an archived contact no longer answers for its customer"
    );
    assert_eq!(
        listed(&app, &admin, &found("email=zhang%40example.com")).await,
        only(&other)
    );
    for (query, field) in [("phone=12", "phone"), ("email=nobody", "email")] {
        let (status, body) = app.get(&found(query), &admin).await;
        assert_problem(status, &body, StatusCode::BAD_REQUEST, "invalid_query");
        assert_eq!(error_fields(&body)[0].0, field, "{body}");
    }
}

/// The value an item sorts by: a day compares as written, a time by the instant it names.
fn sort_value(item: &Value, field: &str) -> (String, String) {
    let raw = item[field].as_str().unwrap();
    let key = match chrono::DateTime::parse_from_rfc3339(raw) {
        Ok(at) => at
            .with_timezone(&chrono::Utc)
            .format("%Y-%m-%dT%H:%M:%S%.9f")
            .to_string(),
        Err(_) => raw.to_owned(),
    };
    (key, item["id"].as_str().unwrap().to_owned())
}

/// Orders, leads and tasks sort by each column they offer, either way, walked a page of two
/// at a time: the pages join into exactly the records in that order (ties broken by id), the
/// default is the documented one, and a cursor is refused under another sort or direction.
#[actix_web::test]
async fn orders_leads_and_tasks_sort_by_each_offered_column_both_ways() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "Acme").await;
    let days = [3, 1, 3, 2, 5, 1, 4];
    let order = |n: usize| {
        json!({"customer_id": customer, "currency": "CNY", "ordered_on": format!("2026-11-0{}", days[n]),
            "lines": [{"product_code": "P", "product_name": "P", "quantity": 1, "unit_price_minor": 100, "unit_cost_minor": 0}]})
    };
    let lead = |n: usize| json!({"company_name": format!("Lead {n}"), "contact_name": format!("Person {n}"), "channel": "referral"});
    let task = |n: usize| json!({"kind": "call", "title": format!("Call {n}"), "due_on": format!("2026-12-0{}", days[n]), "customer_id": customer});
    struct SortedList<'a> {
        path: &'a str,
        body: &'a dyn Fn(usize) -> Value,
        change: Value,
        sorts: &'a [&'a str],
        default: (&'a str, &'a str),
    }
    let lists = [
        SortedList {
            path: "/api/v1/orders",
            body: &order,
            change: json!({"credit_days": 45}),
            sorts: &["ordered_on", "created_at", "updated_at"],
            default: ("ordered_on", "desc"),
        },
        SortedList {
            path: "/api/v1/leads",
            body: &lead,
            change: json!({"contact_name": "Changed"}),
            sorts: &["created_at", "updated_at"],
            default: ("created_at", "desc"),
        },
        SortedList {
            path: "/api/v1/tasks",
            body: &task,
            change: json!({"title": "Changed"}),
            sorts: &["due_on", "created_at", "updated_at"],
            default: ("due_on", "asc"),
        },
    ];
    for SortedList {
        path: list,
        body,
        change,
        sorts,
        default: (default_sort, default_order),
    } in lists
    {
        let mut records = Vec::new();
        for n in 0..days.len() {
            let (status, record) = app.post(list, &admin, body(n)).await;
            assert_eq!(status, StatusCode::CREATED, "{record}");
            records.push(record);
        }
        // Changed out of creation order, so `updated_at` sorts differently from `created_at`.
        for n in [4, 0, 6, 2] {
            let path = format!("{list}/{}", records[n]["id"].as_str().unwrap());
            let (status, changed) = read(app.patch(&path, &admin, "*", change.clone()).await).await;
            assert_eq!(status, StatusCode::OK, "{changed}");
            records[n] = changed;
        }
        for &sort in sorts {
            let mut expected = records.clone();
            expected.sort_by_key(|r| sort_value(r, sort));
            for order in ["asc", "desc"] {
                if order == "desc" {
                    expected.reverse();
                }
                let walked = app
                    .walk(&format!("{list}?limit=2&sort={sort}&order={order}"), &admin)
                    .await;
                assert_eq!(
                    ids(walked.as_array().unwrap()),
                    ids(&expected),
                    "{list} by {sort} {order}"
                );
                if (sort, order) == (default_sort, default_order) {
                    let walked = app.walk(&format!("{list}?limit=3"), &admin).await;
                    assert_eq!(ids(walked.as_array().unwrap()), ids(&expected), "{list}");
                }
            }
        }
        let (_, first) = app
            .get(&format!("{list}?limit=2&sort=created_at&order=asc"), &admin)
            .await;
        let cursor = first["next_cursor"].as_str().unwrap();
        for other in ["sort=updated_at&order=asc", "sort=created_at&order=desc"] {
            let (status, body) = app
                .get(&format!("{list}?limit=2&{other}&cursor={cursor}"), &admin)
                .await;
            assert_problem(status, &body, StatusCode::BAD_REQUEST, "invalid_cursor");
        }
        let (status, body) = app.get(&format!("{list}?sort=amount"), &admin).await;
        assert_problem(status, &body, StatusCode::BAD_REQUEST, "invalid_query");
        assert!(body.to_string().contains("sort"), "{body}");
    }
}
