//! The change feed: every committed change once while many write, deletions and moves out
//! of view, long-polling, and the tokens it takes.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

/// A device's copy of what it sees: (type, id) → version, built from the feed alone.
#[derive(Default)]
struct Device {
    since: Option<String>,
    records: HashMap<(String, String), i64>,
    seen: HashSet<String>,
}

impl Device {
    /// Reads one page and applies it; answers whether more is there already.
    async fn sync_page(&mut self, app: &TestApp, token: &str, query: &str) -> bool {
        let mut path = format!("/api/v1/changes?{query}");
        if let Some(since) = &self.since {
            path.push_str(&format!("&since={since}"));
        }
        let (status, page) = app.get(&path, token).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for item in page["items"].as_array().unwrap() {
            let seq = item["seq"].as_str().unwrap().to_owned();
            assert!(self.seen.insert(seq), "a seq came twice: {item}");
            let key = (
                item["type"].as_str().unwrap().to_owned(),
                item["id"].as_str().unwrap().to_owned(),
            );
            match item["op"].as_str().unwrap() {
                "upsert" => {
                    assert_eq!(item["record"]["id"], item["id"], "{item}");
                    self.records.insert(key, item["version"].as_i64().unwrap());
                }
                "delete" => {
                    assert!(item.get("record").is_none(), "{item}");
                    self.records.remove(&key);
                }
                other => panic!("op {other}"),
            }
        }
        self.since = Some(page["next_since"].as_str().unwrap().to_owned());
        page["has_more"].as_bool().unwrap()
    }

    /// Reads until the feed has nothing more.
    async fn sync(&mut self, app: &TestApp, token: &str) {
        while self.sync_page(app, token, "limit=50").await {}
    }

    /// Syncs until `done` holds. On PostgreSQL a committed change is served once every
    /// transaction older than its own has ended, in any test sharing the server: moments
    /// later, not at once.
    async fn sync_until(&mut self, app: &TestApp, token: &str, done: impl Fn(&Device) -> bool) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            self.sync(app, token).await;
            if done(self) {
                return;
            }
            let held = self.records.len();
            assert!(
                Instant::now() < deadline,
                "the feed never caught up ({held} records held)"
            );
            self.sync_page(app, token, "limit=50&wait=1").await;
        }
    }

    fn ids(&self, kind: &str) -> Vec<String> {
        let mut ids: Vec<String> = self
            .records
            .keys()
            .filter(|(k, _)| k == kind)
            .map(|(_, id)| id.clone())
            .collect();
        ids.sort();
        ids
    }
}

/// The (type, id) → version of every customer and live contact, read through the API.
async fn database_view(app: &TestApp, admin: &str) -> HashMap<(String, String), i64> {
    let mut view = HashMap::new();
    for customer in app
        .walk("/api/v1/customers", admin)
        .await
        .as_array()
        .unwrap()
    {
        let id = customer["id"].as_str().unwrap().to_owned();
        let contacts = app
            .walk(&format!("/api/v1/customers/{id}/contacts"), admin)
            .await;
        for contact in contacts.as_array().unwrap() {
            let key = (
                "contact".to_owned(),
                contact["id"].as_str().unwrap().to_owned(),
            );
            view.insert(key, contact["version"].as_i64().unwrap());
        }
        view.insert(
            ("customer".into(), id),
            customer["version"].as_i64().unwrap(),
        );
    }
    view
}

#[actix_web::test]
async fn a_reader_following_eight_writers_sees_every_committed_change_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let writers = (0..8).map(|w| {
        let (app, admin) = (&app, admin.clone());
        async move {
            let customer = app.organization(&admin, &format!("Writer {w}")).await;
            let path = format!("/api/v1/customers/{customer}");
            let mut contacts: Vec<String> = Vec::new();
            for i in 1..500 {
                match i % 6 {
                    0 | 3 => {
                        let (status, contact) = app
                            .post(
                                &format!("{path}/contacts"),
                                &admin,
                                json!({"name": format!("C{i}")}),
                            )
                            .await;
                        assert_eq!(status, StatusCode::CREATED, "{contact}");
                        contacts.push(contact["id"].as_str().unwrap().to_owned());
                    }
                    1 | 4 | 5 => {
                        let response = app
                            .patch(
                                &path,
                                &admin,
                                "*",
                                json!({"short_name": format!("W{w}-{i}")}),
                            )
                            .await;
                        assert_eq!(response.status(), StatusCode::OK);
                    }
                    _ => {
                        if let Some(contact) = contacts.pop() {
                            let (status, _) = app
                                .send(
                                    Method::DELETE,
                                    &format!("{path}/contacts/{contact}"),
                                    &admin,
                                    None,
                                )
                                .await;
                            assert_eq!(status, StatusCode::NO_CONTENT);
                        }
                    }
                }
            }
        }
    });
    let writing = join_all(writers);
    let mut device = Device::default();
    let reading = async {
        // Follows the feed while the writers write, a small page at a time.
        for _ in 0..200 {
            device.sync_page(&app, &admin, "limit=20").await;
        }
    };
    futures_util::future::join(writing, reading).await;
    let database = database_view(&app, &admin).await;
    device
        .sync_until(&app, &admin, |d| d.records == database)
        .await;
    assert_eq!(device.ids("customer").len(), 8);
    // 166 contacts made each, 82 deleted (the first delete comes before any contact).
    assert_eq!(device.ids("contact").len(), 8 * (166 - 82));
}

#[actix_web::test]
async fn a_transfer_is_a_delete_for_the_agent_it_left_and_an_upsert_for_the_one_it_reached() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let sz = app.create_unit(&admin, "SZ").await;
    let sy = app.create_unit(&admin, "SY").await;
    let (agent_a, token_a) = app.user(&admin, "agent.a", "agent", Some(&sz)).await;
    let (agent_b, token_b) = app.user(&admin, "agent.b", "agent", Some(&sy)).await;
    let (_, head_sz) = app.user(&admin, "head.sz", "unit_manager", Some(&sz)).await;
    let customer = app
        .customer(
            &token_a,
            json!({"kind": "organization", "legal_name": "Moving Co"}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let other = app.organization(&token_a, "Staying Co").await;
    let (_, contact) = app
        .post(
            &format!("/api/v1/customers/{customer}/contacts"),
            &token_a,
            json!({"name": "王经理"}),
        )
        .await;
    let (status, visit) = app
        .post(
            "/api/v1/visits",
            &token_a,
            json!({"customer_id": customer, "planned_at": day_at(24 * 3) + "T09:00:00Z", "purpose": "回访"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{visit}");
    let (status, task) = app
        .post(
            "/api/v1/tasks",
            &admin,
            json!({"kind": "call", "title": "催款", "due_on": day_at(24), "assignee_id": agent_a,
                   "customer_id": customer}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{task}");
    let moving: HashSet<(String, String)> = [
        ("customer", customer.as_str()),
        ("contact", contact["id"].as_str().unwrap()),
        ("visit", visit["id"].as_str().unwrap()),
        ("task", task["id"].as_str().unwrap()),
    ]
    .into_iter()
    .map(|(k, id)| (k.to_owned(), id.to_owned()))
    .collect();

    let (mut a, mut b, mut head) = (Device::default(), Device::default(), Device::default());
    let keys = |d: &Device| d.records.keys().cloned().collect::<HashSet<_>>();
    let staying = ("customer".to_owned(), other.clone());
    let before = &moving | &HashSet::from([staying.clone()]);
    a.sync_until(&app, &token_a, |d| keys(d) == before).await;
    head.sync_until(&app, &head_sz, |d| keys(d) == before).await;
    b.sync(&app, &token_b).await;
    assert!(b.records.is_empty());

    let (status, moved) = app
        .post(
            &format!("/api/v1/customers/{customer}/transfer"),
            &admin,
            json!({"new_owner_id": agent_b, "reason": "handover"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    let after = HashSet::from([staying]);
    a.sync_until(&app, &token_a, |d| keys(d) == after).await;
    head.sync_until(&app, &head_sz, |d| keys(d) == after).await;
    b.sync_until(&app, &token_b, |d| keys(d) == moving).await;
    // Each view equals what its GETs answer.
    for id in b.ids("task") {
        let (status, task) = app.get(&format!("/api/v1/tasks/{id}"), &token_b).await;
        assert_eq!(
            (status, &task["assignee_id"]),
            (StatusCode::OK, &json!(agent_b))
        );
        let (status, _) = app.get(&format!("/api/v1/tasks/{id}"), &token_a).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
    }
}

#[actix_web::test]
async fn a_waiting_reader_is_answered_when_a_change_arrives() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let mut device = Device::default();
    device.sync(&app, &admin).await;
    let since = device.since.clone().unwrap();
    // Nothing comes: an empty page after the wait, the same place to go on from.
    let started = Instant::now();
    let (status, empty) = app
        .get(&format!("/api/v1/changes?since={since}&wait=1"), &admin)
        .await;
    assert_eq!(status, StatusCode::OK, "{empty}");
    assert!(started.elapsed() >= Duration::from_millis(900));
    assert_eq!(
        (&empty["items"], &empty["has_more"], &empty["next_since"]),
        (&json!([]), &json!(false), &json!(since))
    );
    // A change while it waits answers it at once.
    let started = Instant::now();
    let path = format!("/api/v1/changes?since={since}&wait=20&types=customer");
    let waiting = app.get(&path, &admin);
    let writing = async {
        actix_web::rt::time::sleep(Duration::from_millis(300)).await;
        app.organization(&admin, "Woke Co").await
    };
    let ((status, page), customer) = futures_util::future::join(waiting, writing).await;
    assert_eq!(status, StatusCode::OK, "{page}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(page["items"][0]["id"], customer.as_str());
    assert_eq!(page["items"][0]["record"]["legal_name"], "Woke Co");
}

#[actix_web::test]
async fn tokens_the_feed_did_not_issue_and_unknown_types_are_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    for since in ["garbage", "eyJ0IjowLCJzIjo5OTl9.AAAAAAAAAAAAAAAAAAAAAA"] {
        let (status, body) = app
            .get(&format!("/api/v1/changes?since={since}"), &admin)
            .await;
        assert_problem(status, &body, StatusCode::BAD_REQUEST, "invalid_cursor");
    }
    let (status, body) = app
        .get("/api/v1/changes?types=customer,planet", &admin)
        .await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "invalid_query");
    for query in ["limit=0", "limit=1001", "wait=31"] {
        let (status, body) = app.get(&format!("/api/v1/changes?{query}"), &admin).await;
        assert_problem(status, &body, StatusCode::BAD_REQUEST, "invalid_query");
    }
    // A list's cursor is no feed token.
    app.organization(&admin, "A").await;
    app.organization(&admin, "B").await;
    let (_, page) = app.get("/api/v1/customers?limit=1", &admin).await;
    let cursor = page["next_cursor"].as_str().unwrap();
    let (status, body) = app
        .get(&format!("/api/v1/changes?since={cursor}"), &admin)
        .await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "invalid_cursor");
}

#[actix_web::test]
async fn purged_changes_expire_old_tokens_and_a_new_device_still_finds_every_record() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let kept = app.organization(&admin, "Kept Co").await;
    for name in ["Kept Co 1", "Kept Co 2"] {
        let response = app
            .patch(
                &format!("/api/v1/customers/{kept}"),
                &admin,
                "*",
                json!({"short_name": name}),
            )
            .await;
        assert_eq!(response.status(), StatusCode::OK);
    }
    let other = app.organization(&admin, "Other Co").await;
    let (_, contact) = app
        .post(
            &format!("/api/v1/customers/{other}/contacts"),
            &admin,
            json!({"name": "李"}),
        )
        .await;
    let (status, _) = app
        .send(
            Method::DELETE,
            &format!(
                "/api/v1/customers/{other}/contacts/{}",
                contact["id"].as_str().unwrap()
            ),
            &admin,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let database = database_view(&app, &admin).await;
    let mut current = Device::default();
    current
        .sync_until(&app, &admin, |d| d.records == database)
        .await;
    let mut early = Device::default();
    early.sync_page(&app, &admin, "limit=1").await;

    // Everything so far is 100 days old, and the daily clean-up keeps 90.
    crate::jobs::db_run(&app, |conn| {
        let aged = chrono::Utc::now().naive_utc() - chrono::Duration::days(100);
        let update = diesel::sql_query("UPDATE changes SET changed_at = $1")
            .bind::<diesel::sql_types::Timestamp, _>(aged);
        match conn {
            credo_store::DbConnection::Postgres(pg) => diesel::RunQueryDsl::execute(update, pg),
            credo_store::DbConnection::Sqlite(lite) => diesel::RunQueryDsl::execute(update, lite),
        }?;
        credo_store::changes::purge(conn, chrono::Utc::now() - chrono::Duration::days(90))
    })
    .await;
    let since = early.since.clone().unwrap();
    let (status, body) = app
        .get(&format!("/api/v1/changes?since={since}"), &admin)
        .await;
    assert_problem(status, &body, StatusCode::GONE, "sync_token_expired");
    // A reader that had it all goes on; a new device finds every live record at its version.
    let since = current.since.clone().unwrap();
    let (status, page) = app
        .get(&format!("/api/v1/changes?since={since}"), &admin)
        .await;
    assert_eq!((status, &page["items"]), (StatusCode::OK, &json!([])));
    let mut fresh = Device::default();
    fresh.sync(&app, &admin).await;
    assert_eq!(fresh.records, database);
    assert_eq!(fresh.records[&("customer".to_owned(), kept)], 3);
    assert_eq!(
        fresh.seen.len(),
        2,
        "one entry a record: {:?}",
        fresh.records
    );
}
