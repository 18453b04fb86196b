//! Dunning: each default level fires on its day once, one communication per customer at its
//! highest level, paused items wait, unallocated money holds a customer back, dry runs and
//! repeats create nothing, and the policy is replaced with If-Match.

use std::time::{Duration, Instant};

use chrono::{Days, NaiveDate};
use credo_store::{receivables, settings};
use diesel::RunQueryDsl;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::*;
use crate::jobs::{db_run, instance, Instance};

impl TestApp {
    /// Runs dunning as of `as_of` (today when `None`) through the job runner (see `runner`):
    /// queues the run (202 with its Location), waits until it has succeeded, and answers it
    /// with its lists read page by page, two to a page: `actions` and `held_back`.
    pub(crate) async fn dun(&self, token: &str, as_of: Option<NaiveDate>, dry_run: bool) -> Value {
        let mut body = json!({"dry_run": dry_run});
        if let Some(day) = as_of {
            body["as_of"] = json!(day);
        }
        let response = self
            .request(reqwest::Method::POST, "/api/v1/dunning/runs", Some(token))
            .json(&body)
            .send()
            .await
            .unwrap();
        let location = response.headers().get("location").cloned();
        let (status, queued) = read(response).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{queued}");
        let path = format!("/api/v1/dunning/runs/{}", queued["id"].as_str().unwrap());
        assert_eq!(location.unwrap().to_str().unwrap(), path);
        let mut run = self.finished_dunning(token, &path).await;
        run["actions"] = self.walk(&format!("{path}/actions?limit=2"), token).await;
        run["held_back"] = self.walk(&format!("{path}/held-back?limit=2"), token).await;
        run
    }

    /// Waits until the dunning run at `path` has succeeded; answers it.
    async fn finished_dunning(&self, token: &str, path: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (status, run) = self.get(path, token).await;
            assert_eq!(status, StatusCode::OK, "{run}");
            if run["state"] == "succeeded" || run["state"] == "failed" {
                assert_eq!(run["state"], "succeeded", "{run}");
                return run;
            }
            assert!(Instant::now() < deadline, "the run is still going: {run}");
            actix_web::rt::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// A job runner on this test's database whose schedule has made today's run already (an
/// empty one), so that only the test's own runs dun.
pub(crate) async fn runner(app: &TestApp) -> Instance {
    db_run(app, |conn| {
        let today = settings::company(conn)?.settings.today(chrono::Utc::now());
        receivables::schedule_daily_dunning(conn, today)?;
        diesel::sql_query(
            "UPDATE jobs SET state = 'succeeded' WHERE kind = 'dunning' AND schedule_key IS NOT NULL",
        )
            .execute(conn)?;
        Ok(())
    })
    .await;
    instance(app)
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

/// An item of `customer` for 1000.00, due on `due_on`.
fn item_due(customer: &str, reference: &str, due_on: NaiveDate) -> Value {
    json!({"customer_id": customer, "currency": "CNY", "amount_minor": 100_000,
           "issued_on": due_on - Days::new(60), "due_on": due_on, "reference": reference})
}

/// The (level, receivable ids) of each action of a run, and its held-back customers.
fn actions(run: &Value) -> Vec<(String, String, Vec<String>)> {
    run["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let mut ids: Vec<String> = a["receivable_ids"]
                .as_array()
                .unwrap()
                .iter()
                .map(|id| id.as_str().unwrap().to_owned())
                .collect();
            ids.sort();
            (
                a["customer_id"].as_str().unwrap().to_owned(),
                a["level"].as_str().unwrap().to_owned(),
                ids,
            )
        })
        .collect()
}

#[actix_web::test]
async fn run_daily_each_default_level_fires_on_its_day_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let _runner = runner(&app).await;
    let unit = app.create_unit(&admin, "SZ").await;
    let (agent, _) = app.user(&admin, "li.agent", "agent", Some(&unit)).await;
    let customer = app
        .customer(
            &admin,
            json!({"kind": "organization", "legal_name": "华强贸易", "owner_id": agent}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let mut body = item_due(&customer, "INV-1", day("2026-06-30"));
    body["shipped_on"] = json!("2026-05-25");
    let item = app.item(&admin, body).await;
    let mut fired = Vec::new();
    let mut on = day("2026-05-25");
    while on <= day("2026-08-05") {
        let run = app.dun(&admin, Some(on), false).await;
        for (who, level, ids) in actions(&run) {
            assert_eq!((who.as_str(), ids), (customer.as_str(), vec![item.clone()]));
            fired.push((level, on.to_string()));
            let action = &run["actions"][0];
            // The account manager's task, due that day.
            let (status, task) = app
                .get(
                    &format!("/api/v1/tasks/{}", action["task_id"].as_str().unwrap()),
                    &admin,
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{task}");
            assert_eq!(
                json!([
                    task["kind"],
                    task["assignee_id"],
                    task["customer_id"],
                    task["due_on"],
                    task["title"]
                ]),
                json!(["collection", agent, customer, on, action["action"]])
            );
            // The same day again: nothing new.
            let again = app.dun(&admin, Some(on), false).await;
            assert_eq!(again["actions"], json!([]), "{again}");
        }
        on = on + Days::new(1);
    }
    let fired: Vec<(&str, &str)> = fired
        .iter()
        .map(|(l, d)| (l.as_str(), d.as_str()))
        .collect();
    assert_eq!(
        fired,
        [
            ("delivery_check", "2026-06-01"),
            ("due_reminder", "2026-06-23"),
            ("overdue_notice", "2026-07-07"),
            ("written_demand", "2026-07-14"),
            ("blacklist", "2026-07-30"),
        ]
    );
}

#[actix_web::test]
async fn one_communication_per_customer_skipping_paused_items_and_holding_back_unallocated_money() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let _runner = runner(&app).await;
    let (_, credit) = app
        .user(&admin, "wang.credit", "credit_manager", None)
        .await;
    let today: NaiveDate = company_today().parse().unwrap();
    let before = |days| today - Days::new(days);
    let after = |days| today + Days::new(days);

    // A: one item a week overdue, one due in a week, one overdue but in dispute.
    let a = app.organization(&admin, "甲公司").await;
    let overdue = app.item(&admin, item_due(&a, "A-1", before(8))).await;
    let due_soon = app.item(&admin, item_due(&a, "A-2", after(7))).await;
    let disputed = app.item(&admin, item_due(&a, "A-3", before(8))).await;
    let (status, _) = app
        .post(
            &format!("/api/v1/receivables/{disputed}/dispute"),
            &admin,
            json!({"reason": "规格不符,待质检"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // B: overdue, with a payment not yet allocated.
    let b = app.organization(&admin, "乙公司").await;
    let b_item = app.item(&admin, item_due(&b, "B-1", before(8))).await;
    let b_payment = app.payment(&admin, &b, 40_000, &today.to_string()).await;
    // C: long overdue, but granted more time until after today.
    let c = app.organization(&admin, "丙公司").await;
    let c_item = app.item(&admin, item_due(&c, "C-1", before(40))).await;
    let extensions = format!("/api/v1/receivables/{c_item}/extensions");
    let (_, asked) = app
        .post(
            &extensions,
            &admin,
            json!({"new_due_on": after(5), "reason": "台风导致物流中断"}),
        )
        .await;
    let (status, _) = app
        .post(
            &format!("{extensions}/{}/decision", asked["id"].as_str().unwrap()),
            &credit,
            json!({"approved": true}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    // D: long overdue but settled.
    let d = app.organization(&admin, "丁公司").await;
    let d_item = app.item(&admin, item_due(&d, "D-1", before(40))).await;
    let d_payment = app.payment(&admin, &d, 100_000, &today.to_string()).await;
    let (status, _) = app
        .allocate(&admin, &d_payment, &d_item, 100_000, &today.to_string())
        .await;
    assert_eq!(status, StatusCode::CREATED);

    let mut expected_a = vec![overdue.clone(), due_soon.clone()];
    expected_a.sort();
    let dry = app.dun(&admin, None, true).await;
    assert_eq!(dry["dry_run"], true);
    assert_eq!(
        actions(&dry),
        [(a.clone(), "overdue_notice".to_owned(), expected_a.clone())]
    );
    assert_eq!(
        (&dry["actions"][0]["id"], &dry["actions"][0]["task_id"]),
        (&Value::Null, &Value::Null)
    );
    assert_eq!(
        dry["held_back"],
        json!([{"customer_id": b, "reason": "allocate_first", "payment_ids": [b_payment]}])
    );
    // The dry run recorded nothing: the run makes the same action, for real.
    let tasks_before = app.walk("/api/v1/tasks", &admin).await;
    let run = app.dun(&admin, None, false).await;
    assert_eq!(actions(&run), actions(&dry));
    assert_eq!(run["held_back"], dry["held_back"]);
    let action = &run["actions"][0];
    assert_eq!(action["effect"], "credit_warning");
    assert!(action["id"].is_string() && action["task_id"].is_string());
    // The account manager's collection task, and the review task of the early warning a
    // level with a credit effect raises.
    let tasks_after = app.walk("/api/v1/tasks", &admin).await;
    let new_kinds: Vec<&str> = tasks_after
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| !tasks_before.as_array().unwrap().contains(t))
        .map(|t| t["kind"].as_str().unwrap())
        .collect();
    assert_eq!(new_kinds.len(), 2, "{new_kinds:?}");
    assert!(new_kinds.contains(&"collection") && new_kinds.contains(&"review"));
    assert_eq!(app.dun(&admin, None, false).await["actions"], json!([]));

    // Once B's money is applied, B is dunned for what is still open.
    let (status, _) = app
        .allocate(&admin, &b_payment, &b_item, 40_000, &today.to_string())
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let run = app.dun(&admin, None, false).await;
    assert_eq!(
        actions(&run),
        [(b.clone(), "overdue_notice".to_owned(), vec![b_item])]
    );
    assert_eq!(run["held_back"], json!([]));
}

#[actix_web::test]
async fn runs_are_jobs_answered_once_bounded_listed_in_pages_and_purged_beyond_keep_runs() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let today: NaiveDate = company_today().parse().unwrap();
    let before = |days| today - Days::new(days);
    // One customer at each level, two at one level, one held back by unallocated money.
    let mut at_level = Vec::new();
    for (name, due) in [
        ("Blacklist", before(40)),
        ("Demand", before(20)),
        ("Notice one", before(10)),
        ("Notice two", before(8)),
        ("Reminder", today + Days::new(3)),
    ] {
        let customer = app.organization(&admin, name).await;
        app.item(&admin, item_due(&customer, name, due)).await;
        at_level.push(customer);
    }
    let held = app.organization(&admin, "Held").await;
    app.item(&admin, item_due(&held, "Held", before(10))).await;
    let payment = app.payment(&admin, &held, 1_000, &today.to_string()).await;

    // Queued, no runner yet: the same run answers 409 naming it; three wait at most.
    let post = |body: Value| {
        app.request(reqwest::Method::POST, "/api/v1/dunning/runs", Some(&admin))
            .json(&body)
            .send()
    };
    let response = post(json!({"dry_run": true})).await.unwrap();
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let (status, dry) = read(response).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{dry}");
    assert_eq!(
        (
            &dry["state"],
            &dry["dry_run"],
            &dry["action_count"],
            &dry["as_of"]
        ),
        (&json!("queued"), &json!(true), &json!(0), &json!(today))
    );
    let response = post(json!({"dry_run": true, "as_of": today}))
        .await
        .unwrap();
    assert_eq!(response.headers()["location"].to_str().unwrap(), location);
    let (status, same) = read(response).await;
    assert_problem(status, &same, StatusCode::CONFLICT, "run_in_progress");
    let (status, acting) = app
        .post("/api/v1/dunning/runs", &admin, json!({"dry_run": false}))
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{acting}");
    let (status, earlier) = app
        .post(
            "/api/v1/dunning/runs",
            &admin,
            json!({"dry_run": true, "as_of": before(1)}),
        )
        .await;
    assert_eq!(status, StatusCode::ACCEPTED, "{earlier}");
    let response = post(json!({"dry_run": true, "as_of": before(2)}))
        .await
        .unwrap();
    assert!(response.headers().contains_key("retry-after"));
    let (status, full) = read(response).await;
    assert_problem(
        status,
        &full,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_runs",
    );
    let listed = app.walk("/api/v1/dunning/runs", &admin).await;
    let ids: Vec<&Value> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|r| &r["id"])
        .collect();
    assert_eq!(ids, [&earlier["id"], &acting["id"], &dry["id"]]);

    // The runner does them; the dry run lists what the acting one did.
    let _runner = runner(&app).await;
    let dry = app.finished_dunning(&admin, &location).await;
    let acting_path = format!("/api/v1/dunning/runs/{}", acting["id"].as_str().unwrap());
    let acting = app.finished_dunning(&admin, &acting_path).await;
    for run in [&dry, &acting] {
        assert_eq!(
            (
                &run["action_count"],
                &run["held_back_count"],
                &run["policy_version"]
            ),
            (&json!(5), &json!(1), &json!(0)),
            "{run}"
        );
        assert_eq!(run["progress"], json!({"processed": 6, "total": 6}));
    }
    // The highest level first, then by customer (latest id first); pages of two.
    let mut notices = [at_level[2].clone(), at_level[3].clone()];
    notices.sort();
    notices.reverse();
    let expected = [
        (&at_level[0], "blacklist", 5),
        (&at_level[1], "written_demand", 4),
        (&notices[0], "overdue_notice", 3),
        (&notices[1], "overdue_notice", 3),
        (&at_level[4], "due_reminder", 2),
    ];
    for path in [&location, &acting_path] {
        let actions = app.walk(&format!("{path}/actions?limit=2"), &admin).await;
        let got: Vec<(&str, &str, i64)> = actions
            .as_array()
            .unwrap()
            .iter()
            .map(|a| {
                (
                    a["customer_id"].as_str().unwrap(),
                    a["level"].as_str().unwrap(),
                    a["level_rank"].as_i64().unwrap(),
                )
            })
            .collect();
        let expected: Vec<(&str, &str, i64)> = expected
            .iter()
            .map(|(c, l, r)| (c.as_str(), *l, *r))
            .collect();
        assert_eq!(got, expected);
        let notices = app
            .walk(
                &format!("{path}/actions?level=overdue_notice&limit=1"),
                &admin,
            )
            .await;
        assert_eq!(notices.as_array().unwrap().len(), 2, "{notices}");
        assert_eq!(
            app.walk(&format!("{path}/held-back"), &admin).await,
            json!([{"customer_id": held, "reason": "allocate_first", "payment_ids": [payment]}])
        );
    }
    let (_, first) = app
        .get(&format!("{acting_path}/actions?limit=1"), &admin)
        .await;
    assert!(first["items"][0]["task_id"].is_string(), "{first}");
    // The job links its run.
    let (status, job) = app
        .get(
            &format!("/api/v1/jobs/{}", acting["id"].as_str().unwrap()),
            &admin,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{job}");
    assert_eq!(
        (&job["kind"], &job["result_link"], &job["result"]["actions"]),
        (&json!("dunning"), &json!(acting_path), &json!(5))
    );

    // With keep_runs 1, a finished run purges the lists of those before it; they stay.
    let (_, policy) = app.get("/api/v1/dunning/policy", &admin).await;
    let mut rules = policy.clone();
    for field in ["version", "updated_at", "updated_by"] {
        rules.as_object_mut().unwrap().remove(field);
    }
    rules["keep_runs"] = json!(1);
    let (status, replaced) = app
        .put_if_match("/api/v1/dunning/policy", &admin, rules, "\"0\"")
        .await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    let last = app.dun(&admin, None, true).await;
    assert_eq!(last["policy_version"], 1);
    // Every level due was given by the acting run; the held-back customer waits still.
    assert_eq!(
        (
            last["actions"].as_array().unwrap().len(),
            last["held_back_count"].as_i64()
        ),
        (0, Some(1))
    );
    for path in [&location, &acting_path] {
        assert_eq!(
            app.walk(&format!("{path}/actions"), &admin).await,
            json!([])
        );
        let (_, run) = app.get(path, &admin).await;
        assert_eq!(run["action_count"], 5);
    }
}

#[actix_web::test]
async fn twenty_people_asking_at_once_queue_one_run() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let answers = futures_util::future::join_all(
        (0..20).map(|_| app.post("/api/v1/dunning/runs", &admin, json!({"dry_run": true}))),
    )
    .await;
    let mut statuses: Vec<u16> = answers.iter().map(|(status, _)| status.as_u16()).collect();
    statuses.sort_unstable();
    assert_eq!(
        statuses,
        [[202].as_slice(), &[409; 19]].concat(),
        "{answers:?}"
    );
    assert_eq!(
        app.walk("/api/v1/dunning/runs", &admin)
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[actix_web::test]
async fn runs_are_for_credit_managers_and_never_for_a_future_day() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, agent) = app.user(&admin, "li.agent", "agent", None).await;
    let (status, refused) = app.post("/api/v1/dunning/runs", &agent, json!({})).await;
    assert_problem(status, &refused, StatusCode::FORBIDDEN, "forbidden");
    let (status, refused) = app
        .post(
            "/api/v1/dunning/runs",
            &admin,
            json!({"as_of": "2999-01-01"}),
        )
        .await;
    assert_invalid(status, &refused, &[("as_of", "in_future")]);
}

#[actix_web::test]
async fn the_dunning_policy_is_replaced_with_if_match_and_drives_the_runs() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let _runner = runner(&app).await;
    let (status, policy) = app.get("/api/v1/dunning/policy", &admin).await;
    assert_eq!(status, StatusCode::OK);
    let keys: Vec<&Value> = policy["levels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| &l["key"])
        .collect();
    assert_eq!(
        keys,
        [
            "delivery_check",
            "due_reminder",
            "overdue_notice",
            "written_demand",
            "blacklist"
        ]
    );
    assert_eq!(policy["version"], 0);
    let bad = json!({"levels": [
        {"key": "call", "anchor": "due", "offset_days": 3, "action": "电话催收", "effect": "credit_hold"},
        {"key": "call", "anchor": "due", "offset_days": 400, "action": " ", "effect": "none"}
    ]});
    let (status, refused) = app
        .put_if_match("/api/v1/dunning/policy", &admin, bad, "\"0\"")
        .await;
    assert_invalid(
        status,
        &refused,
        &[
            ("levels[1].key", "conflicting"),
            ("levels[1].offset_days", "out_of_range"),
            ("levels[1].action", "required"),
            ("levels[1].effect", "out_of_range"),
        ],
    );
    let one_level = json!({"levels": [
        {"key": "call", "anchor": "due", "offset_days": 3, "action": "逾期三天电话催收", "effect": "credit_warning"}
    ]});
    let (status, replaced) = app
        .put_if_match("/api/v1/dunning/policy", &admin, one_level.clone(), "\"0\"")
        .await;
    assert_eq!(status, StatusCode::OK, "{replaced}");
    assert_eq!(replaced["levels"], one_level["levels"]);
    assert_eq!(replaced["version"], 1);
    let (status, stale) = app
        .put_if_match("/api/v1/dunning/policy", &admin, one_level, "\"0\"")
        .await;
    assert_problem(
        status,
        &stale,
        StatusCode::PRECONDITION_FAILED,
        "version_mismatch",
    );

    let customer = app.organization(&admin, "华强贸易").await;
    app.item(&admin, item_due(&customer, "INV-1", day("2026-06-30")))
        .await;
    assert_eq!(
        app.dun(&admin, Some(day("2026-07-02")), false).await["actions"],
        json!([])
    );
    let run = app.dun(&admin, Some(day("2026-07-03")), false).await;
    assert_eq!(
        (&run["actions"][0]["level"], &run["actions"][0]["action"]),
        (&json!("call"), &json!("逾期三天电话催收"))
    );
}
