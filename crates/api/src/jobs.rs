//! The job runner: a thread with its own connections (never the request pool's) that keeps
//! the periodic jobs scheduled, claims due jobs one at a time and runs them, retrying a failed
//! run with backoff. Any number of instances run one each on one database.

use std::time::Duration;

use chrono::NaiveDate;
use chrono::Utc;
use credo_core::job::{retry_delay, Progress};
use credo_receivables::ageing::previous_month_end;
use credo_store::jobs::{self, Claimed, Finish, NewJob};
use credo_store::receivables::{Taken, DUNNING_JOB};
use credo_store::users::RULES_USER;
use credo_store::{idempotency, receivables, segmentation, sessions, settings, Db, StoreError};
use uuid::Uuid;

/// The daily clean-up: expired idempotency keys, refresh tokens and login failures.
pub const PURGE: &str = "purge";
/// The ageing snapshot of the month that ended last, taken once.
pub const AGEING_SNAPSHOT: &str = "ageing_snapshot";

#[derive(Debug, Clone)]
pub struct RunnerOptions {
    /// How long the runner sleeps when nothing is due.
    pub poll: Duration,
    /// How long a claim holds without a progress report; a runner that dies loses its jobs
    /// to another after this.
    pub lease: Duration,
    /// How long the change feed keeps superseded entries and deletions.
    pub changes_retention: chrono::Duration,
}

impl Default for RunnerOptions {
    fn default() -> Self {
        Self {
            poll: Duration::from_secs(1),
            lease: Duration::from_secs(60),
            changes_retention: chrono::Duration::days(90),
        }
    }
}

/// What a running job gets: its input, and the way to report how far it is.
pub struct JobContext<'a> {
    /// What the job was queued with.
    pub payload: serde_json::Value,
    options: &'a RunnerOptions,
    db: &'a Db,
    job: Uuid,
    runner: Uuid,
    lease: chrono::Duration,
}

impl JobContext<'_> {
    /// The job's id (a segmentation run shares it).
    pub fn id(&self) -> Uuid {
        self.job
    }

    /// Records progress and renews the lease; an error when the job was taken from this
    /// runner (its lease ran out), so the work stops.
    pub fn report(&self, processed: i64, total: Option<i64>) -> Result<(), String> {
        let progress = Progress { processed, total };
        match self
            .db
            .run(|conn| jobs::report(conn, self.job, self.runner, progress, self.lease))
        {
            Ok(true) => Ok(()),
            Ok(false) => Err("the job's lease was lost to another runner".into()),
            Err(error) => Err(error.to_string()),
        }
    }
}

/// Starts the runner on its own thread; it runs as long as the process.
pub fn start(db: Db, options: RunnerOptions) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("credo-jobs".into())
        .spawn(move || Runner::new(db, options).run())
        .map(drop)
}

struct Runner {
    id: Uuid,
    db: Db,
    options: RunnerOptions,
    lease: chrono::Duration,
    /// The company day whose periodic jobs are scheduled.
    scheduled: Option<chrono::NaiveDate>,
}

impl Runner {
    fn new(db: Db, options: RunnerOptions) -> Self {
        let lease = chrono::Duration::from_std(options.lease).expect("a lease of sane length");
        Self {
            id: Uuid::now_v7(),
            db,
            options,
            lease,
            scheduled: None,
        }
    }

    fn run(mut self) {
        tracing::info!(runner = %self.id, "job runner started");
        loop {
            if let Err(error) = self.schedule_periodic() {
                tracing::warn!(%error, "could not schedule the periodic jobs");
            }
            match self.db.run(|conn| jobs::claim(conn, self.id, self.lease)) {
                Ok(Some(claimed)) => self.run_one(claimed),
                Ok(None) => std::thread::sleep(self.options.poll),
                Err(error) => {
                    tracing::warn!(%error, "could not claim a job");
                    std::thread::sleep(self.options.poll);
                }
            }
        }
    }

    /// Queues each periodic job once per company day; instances that race to do it agree
    /// through the job's schedule key.
    fn schedule_periodic(&mut self) -> Result<(), StoreError> {
        let today = self.db.run(settings::company)?.settings.today(Utc::now());
        if self.scheduled == Some(today) {
            return Ok(());
        }
        let month_end = previous_month_end(today);
        self.db
            .run(|conn| receivables::schedule_daily_dunning(conn, today))?;
        for (kind, day) in [(PURGE, today), (AGEING_SNAPSHOT, month_end)] {
            let daily = NewJob {
                kind: kind.into(),
                payload: serde_json::json!({ "as_of": day }),
                run_at: credo_store::now(),
                schedule_key: Some(format!("{kind}@{day}")),
                max_attempts: 3,
                created_by: None,
            };
            self.db.run(|conn| jobs::enqueue(conn, daily))?;
        }
        self.scheduled = Some(today);
        Ok(())
    }

    fn run_one(&self, claimed: Claimed) {
        let Claimed {
            job,
            payload,
            max_attempts,
        } = claimed;
        let context = JobContext {
            payload,
            options: &self.options,
            db: &self.db,
            job: job.id,
            runner: self.id,
            lease: self.lease,
        };
        tracing::info!(job = %job.id, kind = %job.kind, attempt = job.attempts, "job started");
        let outcome = match job.kind.as_str() {
            PURGE => purge(&context),
            DUNNING_JOB => dunning_run(&context),
            AGEING_SNAPSHOT => ageing_snapshot(&context),
            segmentation::RUN_JOB => segmentation_run(&context),
            other => Err(format!("no runner knows jobs of kind {other:?}")),
        };
        let result_link = match job.kind.as_str() {
            segmentation::RUN_JOB => Some(format!("/api/v1/segmentation/runs/{}", job.id)),
            DUNNING_JOB => Some(format!("/api/v1/dunning/runs/{}", job.id)),
            _ => None,
        };
        let finish = match outcome {
            Ok(result) => Finish::Succeeded {
                result,
                result_link,
            },
            Err(error) => {
                tracing::warn!(job = %job.id, %error, "job failed");
                let retry_at = (job.attempts < max_attempts)
                    .then(|| credo_store::now() + retry_delay(job.attempts));
                Finish::Failed { error, retry_at }
            }
        };
        match self
            .db
            .run(|conn| jobs::finish(conn, job.id, self.id, finish))
        {
            Ok(true) => tracing::info!(job = %job.id, "job finished"),
            Ok(false) => tracing::warn!(job = %job.id, "job was taken over before it finished"),
            Err(error) => tracing::warn!(job = %job.id, %error, "could not record the job's end"),
        }
    }
}

/// The day a periodic job is for.
fn as_of(context: &JobContext) -> Result<NaiveDate, String> {
    context
        .payload
        .get("as_of")
        .cloned()
        .map(serde_json::from_value)
        .transpose()
        .map_err(|error| format!("the job's as_of is not a day: {error}"))?
        .ok_or_else(|| "the job names no as_of".to_owned())
}

/// The month's ageing snapshot in the company currency.
fn ageing_snapshot(context: &JobContext) -> Result<serde_json::Value, String> {
    let month_end = as_of(context)?;
    let taken = context
        .db
        .run(|conn| {
            let currency = settings::company(conn)?.settings.currency;
            receivables::take_snapshot(conn, month_end, currency)
        })
        .map_err(|error| error.to_string())?;
    let (units, before) = match taken {
        Taken::Taken(units) => (units.len(), false),
        Taken::Existing(units) => (units.len(), true),
    };
    Ok(serde_json::json!({"month_end": month_end, "units": units, "taken_before": before}))
}

/// A dunning run, made as whoever asked for it (the schedule's as the rules' account).
fn dunning_run(context: &JobContext) -> Result<serde_json::Value, String> {
    let run = context
        .db
        .run(|conn| {
            receivables::execute_dunning_run(conn, context.id(), &mut |done, total| {
                context
                    .report(done, Some(total))
                    .map_err(StoreError::Conflict)
            })
        })
        .map_err(|error| error.to_string())?;
    Ok(serde_json::json!({
        "as_of": run.as_of,
        "dry_run": run.dry_run,
        "actions": run.action_count,
        "held_back": run.held_back_count,
    }))
}

/// A segmentation run, made as the rules' account (its churn tasks are the rules').
fn segmentation_run(context: &JobContext) -> Result<serde_json::Value, String> {
    let executed = context
        .db
        .run(|conn| {
            let today = settings::company(conn)?.settings.today(Utc::now());
            segmentation::execute(conn, context.id(), today, RULES_USER, &mut |done, total| {
                context
                    .report(done, Some(total))
                    .map_err(StoreError::Conflict)
            })
        })
        .map_err(|error| error.to_string())?;
    serde_json::to_value(executed).map_err(|error| error.to_string())
}

/// How long webhook events are kept for replays once nothing of them is left to send.
const WEBHOOK_EVENTS_KEPT: chrono::Duration = chrono::Duration::days(30);

/// The daily clean-up, one table at a time.
fn purge(context: &JobContext) -> Result<serde_json::Value, String> {
    let failed = |error: StoreError| error.to_string();
    let keys = context.db.run(idempotency::purge).map_err(failed)?;
    context.report(1, Some(4))?;
    let (tokens, failures) = context.db.run(sessions::purge).map_err(failed)?;
    context.report(2, Some(4))?;
    let before = Utc::now() - context.options.changes_retention;
    let changes = context
        .db
        .run(|conn| credo_store::changes::purge(conn, before))
        .map_err(failed)?;
    context.report(3, Some(4))?;
    let before = Utc::now() - WEBHOOK_EVENTS_KEPT;
    let events = context
        .db
        .run(|conn| credo_store::webhooks::purge(conn, before))
        .map_err(failed)?;
    context.report(4, Some(4))?;
    Ok(serde_json::json!({
        "idempotency_keys": keys,
        "refresh_tokens": tokens,
        "login_failures": failures,
        "changes": changes,
        "webhook_events": events,
    }))
}
