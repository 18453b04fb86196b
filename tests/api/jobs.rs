//! Background jobs: claimed by one runner at a time across server processes, resumed after a
//! runner dies, periodic ones scheduled once per day, followed at `GET /api/v1/jobs/{id}`.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use credo_store::jobs::{self, NewJob};
use credo_store::{Db, StoreError};
use diesel::sql_types::{BigInt, Text, Timestamp};
use diesel::{QueryableByName, RunQueryDsl};
use reqwest::StatusCode;
use serde_json::Value;

use crate::common::*;

/// A `credo serve` process on the test's database, killed when dropped.
pub(crate) struct Instance(Child);

impl Drop for Instance {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn instance(app: &TestApp) -> Instance {
    let child = Command::new(env!("CARGO_BIN_EXE_credo"))
        .arg("serve")
        .env("CREDO_DATABASE_URL", app.database_url().url())
        .env("CREDO_BIND", "127.0.0.1:0")
        .env("CREDO_JWT_SECRET", JWT_SECRET)
        .env("CREDO_JOB_POLL_MS", "20")
        .env("CREDO_POOL_SIZE", "2")
        .env("CREDO_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the credo binary starts");
    Instance(child)
}

pub(crate) async fn db_run<T: Send + 'static>(
    app: &TestApp,
    work: impl FnOnce(&mut credo_store::DbConnection) -> Result<T, StoreError> + Send + 'static,
) -> T {
    let db = Db::connect(app.database_url(), &Default::default()).unwrap();
    actix_web::web::block(move || db.run(work))
        .await
        .unwrap()
        .unwrap()
}

/// Queues a purge job started by `created_by`; answers its id.
pub async fn queued_job(app: &TestApp, created_by: Option<uuid::Uuid>) -> String {
    let job = db_run(app, move |conn| {
        jobs::enqueue(
            conn,
            NewJob {
                kind: "purge".into(),
                payload: serde_json::json!({}),
                run_at: credo_store::now(),
                schedule_key: None,
                max_attempts: 3,
                created_by,
            },
        )
    })
    .await
    .expect("queued");
    job.id.to_string()
}

/// Waits until every job has finished; answers them as the API shows them.
async fn finished(app: &TestApp, admin: &str, ids: &[String]) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let mut jobs = Vec::new();
        for id in ids {
            let (status, job) = app.get(&format!("/api/v1/jobs/{id}"), admin).await;
            assert_eq!(status, StatusCode::OK, "{job}");
            jobs.push(job);
        }
        if jobs
            .iter()
            .all(|j| j["state"] == "succeeded" || j["state"] == "failed")
        {
            return jobs;
        }
        assert!(Instant::now() < deadline, "jobs still open: {jobs:?}");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

/// One count from raw SQL (`... AS n`).
#[derive(QueryableByName)]
pub struct Count {
    #[diesel(sql_type = BigInt)]
    pub n: i64,
}

#[actix_web::test]
async fn two_server_processes_run_each_job_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, me) = app.get("/api/v1/me", &admin).await;
    let me: uuid::Uuid = me["id"].as_str().unwrap().parse().unwrap();
    let mut ids = Vec::new();
    for _ in 0..40 {
        ids.push(queued_job(&app, Some(me)).await);
    }
    let (_first, _second) = (instance(&app), instance(&app));
    let jobs = finished(&app, &admin, &ids).await;
    for job in &jobs {
        assert_eq!(job["state"], "succeeded", "{job}");
        assert_eq!(job["attempts"], 1, "ran more than once: {job}");
        assert_eq!(job["progress"]["processed"], 4, "{job}");
        for kept in ["idempotency_keys", "changes", "webhook_events"] {
            assert!(job["result"][kept].is_u64(), "{job}");
        }
        assert!(
            job["finished_at"].is_string() && job["error"].is_null(),
            "{job}"
        );
    }
    // Both processes scheduled today's purge; it exists once.
    let scheduled = db_run(&app, |conn| {
        Ok(diesel::sql_query(
            "SELECT count(*) AS n FROM jobs WHERE kind = 'purge' AND schedule_key IS NOT NULL",
        )
        .get_result::<Count>(conn)?
        .n)
    })
    .await;
    assert_eq!(scheduled, 1);
}

#[actix_web::test]
async fn a_job_whose_runner_died_is_resumed() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let id = queued_job(&app, None).await;
    // As a runner that claimed it and died would leave it: running, its lease run out.
    let (job, lapsed) = (
        id.clone(),
        (chrono::Utc::now() - chrono::Duration::minutes(5)).naive_utc(),
    );
    db_run(&app, move |conn| {
        diesel::sql_query(
            "UPDATE jobs SET state = 'running', attempts = 1, runner = 'gone', lease_until = $1 \
             WHERE id = $2",
        )
        .bind::<Timestamp, _>(lapsed)
        .bind::<Text, _>(job)
        .execute(conn)?;
        Ok(())
    })
    .await;
    let _instance = instance(&app);
    let jobs = finished(&app, &admin, std::slice::from_ref(&id)).await;
    assert_eq!(jobs[0]["state"], "succeeded", "{}", jobs[0]);
    assert_eq!(jobs[0]["attempts"], 2, "{}", jobs[0]);
}

#[actix_web::test]
async fn jobs_are_seen_by_who_started_them_and_the_credit_department() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (agent_id, agent) = app.user(&admin, "agent.a", "agent", None).await;
    let (_, other) = app.user(&admin, "agent.b", "agent", None).await;
    let (_, credit) = app.user(&admin, "credit", "credit_manager", None).await;
    let id = queued_job(&app, Some(agent_id.parse().unwrap())).await;
    let path = format!("/api/v1/jobs/{id}");
    let (status, job) = app.get(&path, &agent).await;
    assert_eq!(status, StatusCode::OK, "{job}");
    assert_eq!(job["state"], "queued");
    assert_eq!(job["kind"], "purge");
    assert!(job["started_at"].is_null());
    assert_eq!(app.get(&path, &credit).await.0, StatusCode::OK);
    let (status, body) = app.get(&path, &other).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");
}

#[derive(QueryableByName)]
struct JobId {
    #[diesel(sql_type = Text)]
    id: String,
}

/// The id of the one job of `kind` the schedule queued, once it is there.
async fn scheduled(app: &TestApp, kind: &'static str) -> String {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let scheduled = db_run(app, move |conn| {
            Ok(diesel::sql_query(
                "SELECT id FROM jobs WHERE kind = $1 AND schedule_key IS NOT NULL",
            )
            .bind::<Text, _>(kind)
            .load::<JobId>(conn)?)
        })
        .await;
        assert!(scheduled.len() <= 1, "{kind} was scheduled twice");
        if let Some(job) = scheduled.into_iter().next() {
            return job.id;
        }
        assert!(Instant::now() < deadline, "no {kind} job was scheduled");
        actix_web::rt::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn the_daily_dunning_run_acts_once_as_the_rules_account() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "华强贸易").await;
    let (status, item) = app
        .post(
            "/api/v1/receivables",
            &admin,
            serde_json::json!({"customer_id": customer, "currency": "CNY", "amount_minor": 1000,
                               "issued_on": "2026-05-01", "due_on": "2026-06-30",
                               "reference": "INV-1"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{item}");
    let (_first, _second) = (instance(&app), instance(&app));
    let id = scheduled(&app, "dunning").await;
    let job = &finished(&app, &admin, std::slice::from_ref(&id)).await[0];
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(job["result"]["actions"], 1, "{job}");
    // It is the day's dunning run, listed with the runs people ask for.
    let runs = app.walk("/api/v1/dunning/runs", &admin).await;
    assert_eq!(
        runs,
        serde_json::json!([app
            .get(&format!("/api/v1/dunning/runs/{id}"), &admin)
            .await
            .1])
    );
    assert_eq!(
        (
            &runs[0]["as_of"],
            &runs[0]["dry_run"],
            &runs[0]["created_by"],
            &runs[0]["action_count"]
        ),
        (
            &Value::from(company_today()),
            &Value::from(false),
            &Value::from(uuid::Uuid::nil().to_string()),
            &Value::from(1)
        )
    );
    assert_eq!(job["result_link"], format!("/api/v1/dunning/runs/{id}"));
    // The item's highest level is due today: the account manager has its task, made by
    // the rules' account, which no one sees among the people.
    let tasks = app.walk("/api/v1/tasks?kind=collection", &admin).await;
    let tasks = tasks.as_array().unwrap();
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert_eq!(
        (
            &tasks[0]["kind"],
            &tasks[0]["customer_id"],
            &tasks[0]["created_by"]
        ),
        (
            &Value::from("collection"),
            &Value::from(customer.as_str()),
            &Value::from(uuid::Uuid::nil().to_string())
        )
    );
    let users = app.walk("/api/v1/users", &admin).await;
    assert_eq!(users.as_array().unwrap().len(), 1, "{users}");
    let (status, _) = app
        .get(&format!("/api/v1/users/{}", uuid::Uuid::nil()), &admin)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // The month that ended last had its ageing snapshot taken, once.
    let id = scheduled(&app, "ageing_snapshot").await;
    let job = &finished(&app, &admin, std::slice::from_ref(&id)).await[0];
    assert_eq!(job["state"], "succeeded", "{job}");
    assert_eq!(job["result"]["units"], 1, "{job}");
}
