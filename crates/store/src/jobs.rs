//! The job queue. A job is claimed by one runner at a time: on PostgreSQL with `FOR UPDATE
//! SKIP LOCKED` (many instances poll one table without waiting on each other), on SQLite in
//! the exclusive write transaction. A claim holds a lease the runner renews as it reports
//! progress; a job whose lease ran out (its runner died) is claimed again, so queued and
//! interrupted jobs resume after a restart. Every write of a runner is fenced by its id: a
//! runner that lost its lease can no longer report or finish the job.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use credo_core::job::{Job, JobState, Progress};
use diesel::prelude::*;
use diesel::sql_types::{Text, Timestamp};
use uuid::Uuid;

use crate::convert::{from_db_time, parse_id, parse_name, parse_optional_id, to_db_time};
use crate::db::{write_transaction, Outcome};
use crate::schema::jobs;
use crate::{now, DbConnection, StoreError};

/// Work to queue.
pub struct NewJob {
    pub kind: String,
    pub payload: serde_json::Value,
    /// Not before this time.
    pub run_at: DateTime<Utc>,
    /// A job with the key exists already: this one is not queued (periodic jobs).
    pub schedule_key: Option<String>,
    pub max_attempts: i64,
    pub created_by: Option<Uuid>,
}

/// A job as its runner gets it.
pub struct Claimed {
    pub job: Job,
    pub payload: serde_json::Value,
    pub max_attempts: i64,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = jobs)]
struct Row {
    id: String,
    kind: String,
    state: String,
    payload: String,
    attempts: i64,
    max_attempts: i64,
    processed: i64,
    total: Option<i64>,
    started_at: Option<NaiveDateTime>,
    finished_at: Option<NaiveDateTime>,
    error: Option<String>,
    result: Option<String>,
    result_link: Option<String>,
    created_at: NaiveDateTime,
    created_by: Option<String>,
}

impl Row {
    fn into_claimed(self) -> Result<Claimed, StoreError> {
        let job = Job {
            id: parse_id(&self.id)?,
            kind: self.kind,
            state: parse_name(&self.state, JobState::parse)?,
            progress: Progress {
                processed: self.processed,
                total: self.total,
            },
            attempts: self.attempts,
            created_at: from_db_time(self.created_at),
            created_by: parse_optional_id(self.created_by.as_deref())?,
            started_at: self.started_at.map(from_db_time),
            finished_at: self.finished_at.map(from_db_time),
            error: self.error,
            result: self
                .result
                .as_deref()
                .map(serde_json::from_str)
                .transpose()?,
            result_link: self.result_link,
        };
        Ok(Claimed {
            job,
            payload: serde_json::from_str(&self.payload)?,
            max_attempts: self.max_attempts,
        })
    }
}

impl Outcome for Claimed {}

/// Queues a job; `None` when its schedule key is taken (another instance queued it).
pub fn enqueue(conn: &mut DbConnection, new: NewJob) -> Result<Option<Job>, StoreError> {
    let id = Uuid::now_v7();
    let at = to_db_time(now());
    let inserted = diesel::insert_into(jobs::table)
        .values((
            jobs::id.eq(id.to_string()),
            jobs::kind.eq(&new.kind),
            jobs::state.eq(JobState::Queued.as_str()),
            jobs::payload.eq(serde_json::to_string(&new.payload)?),
            jobs::schedule_key.eq(&new.schedule_key),
            jobs::run_at.eq(to_db_time(new.run_at)),
            jobs::attempts.eq(0),
            jobs::max_attempts.eq(new.max_attempts),
            jobs::processed.eq(0),
            jobs::created_at.eq(at),
            jobs::created_by.eq(new.created_by.map(|u| u.to_string())),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => get(conn, id),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) if new.schedule_key.is_some() => Ok(None),
        Err(other) => Err(other.into()),
    }
}

pub fn get(conn: &mut DbConnection, id: Uuid) -> Result<Option<Job>, StoreError> {
    jobs::table
        .find(id.to_string())
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .map(|row| row.into_claimed().map(|c| c.job))
        .transpose()
}

#[derive(QueryableByName)]
struct Due {
    #[diesel(sql_type = Text)]
    id: String,
}

/// Claims the job that has waited longest among those due (queued and past `run_at`, or
/// running with a lapsed lease) for `runner`, under a lease of `lease`.
pub fn claim(
    conn: &mut DbConnection,
    runner: Uuid,
    lease: Duration,
) -> Result<Option<Claimed>, StoreError> {
    // A read first: an idle runner never takes SQLite's write lock from the server's writers.
    let at = to_db_time(now());
    let anything_due = jobs::table
        .filter(
            (jobs::state
                .eq(JobState::Queued.as_str())
                .and(jobs::run_at.le(at)))
            .or(jobs::state
                .eq(JobState::Running.as_str())
                .and(jobs::lease_until.lt(at))),
        )
        .select(jobs::id)
        .first::<String>(conn)
        .optional()?
        .is_some();
    if !anything_due {
        return Ok(None);
    }
    write_transaction(conn, |conn| {
        let at = now();
        let due_sql = "SELECT id FROM jobs \
             WHERE (state = 'queued' AND run_at <= $1) OR (state = 'running' AND lease_until < $1) \
             ORDER BY run_at, id LIMIT 1";
        let due = match conn {
            DbConnection::Postgres(pg) => {
                diesel::sql_query(format!("{due_sql} FOR UPDATE SKIP LOCKED"))
                    .bind::<Timestamp, _>(to_db_time(at))
                    .get_result::<Due>(pg)
                    .optional()?
            }
            DbConnection::Sqlite(lite) => diesel::sql_query(due_sql)
                .bind::<Timestamp, _>(to_db_time(at))
                .get_result::<Due>(lite)
                .optional()?,
        };
        let Some(Due { id }) = due else {
            return Ok(None);
        };
        diesel::update(jobs::table.find(&id))
            .set((
                jobs::state.eq(JobState::Running.as_str()),
                jobs::runner.eq(runner.to_string()),
                jobs::lease_until.eq(to_db_time(at + lease)),
                jobs::attempts.eq(jobs::attempts + 1),
                jobs::started_at.eq(to_db_time(at)),
                jobs::finished_at.eq(None::<NaiveDateTime>),
            ))
            .execute(conn)?;
        jobs::table
            .find(&id)
            .select(Row::as_select())
            .first(conn)?
            .into_claimed()
            .map(Some)
    })
}

/// The fence of every write by a runner: the job is still running under its lease.
macro_rules! held_by {
    ($id:expr, $runner:expr) => {
        jobs::table
            .filter(jobs::id.eq($id.to_string()))
            .filter(jobs::runner.eq($runner.to_string()))
            .filter(jobs::state.eq(JobState::Running.as_str()))
    };
}

/// Records progress and renews the lease; `false` when the runner no longer holds the job.
pub fn report(
    conn: &mut DbConnection,
    id: Uuid,
    runner: Uuid,
    progress: Progress,
    lease: Duration,
) -> Result<bool, StoreError> {
    let written = diesel::update(held_by!(id, runner))
        .set((
            jobs::processed.eq(progress.processed),
            jobs::total.eq(progress.total),
            jobs::lease_until.eq(to_db_time(now() + lease)),
        ))
        .execute(conn)?;
    Ok(written == 1)
}

/// How a run ended.
pub enum Finish {
    Succeeded {
        result: serde_json::Value,
        result_link: Option<String>,
    },
    /// Failed: queued again at `retry_at`, or failed for good when there is none.
    Failed {
        error: String,
        retry_at: Option<DateTime<Utc>>,
    },
}

/// Ends the run of `runner`; `false` when it no longer held the job (nothing written).
pub fn finish(
    conn: &mut DbConnection,
    id: Uuid,
    runner: Uuid,
    finish: Finish,
) -> Result<bool, StoreError> {
    let at = to_db_time(now());
    let written = match finish {
        Finish::Succeeded {
            result,
            result_link,
        } => diesel::update(held_by!(id, runner))
            .set((
                jobs::state.eq(JobState::Succeeded.as_str()),
                jobs::finished_at.eq(at),
                jobs::lease_until.eq(None::<NaiveDateTime>),
                jobs::error.eq(None::<String>),
                jobs::result.eq(serde_json::to_string(&result)?),
                jobs::result_link.eq(result_link),
            ))
            .execute(conn)?,
        Finish::Failed { error, retry_at } => {
            let (state, run_at) = match retry_at {
                Some(retry_at) => (JobState::Queued, to_db_time(retry_at)),
                None => (JobState::Failed, at),
            };
            diesel::update(held_by!(id, runner))
                .set((
                    jobs::state.eq(state.as_str()),
                    jobs::run_at.eq(run_at),
                    jobs::finished_at.eq((state == JobState::Failed).then_some(at)),
                    jobs::lease_until.eq(None::<NaiveDateTime>),
                    jobs::error.eq(error),
                ))
                .execute(conn)?
        }
    };
    Ok(written == 1)
}

/// The columns of a job that say where a run made by it stands, for records that are jobs
/// (sharing their id).
macro_rules! status_columns {
    () => {
        (
            $crate::schema::jobs::state,
            $crate::schema::jobs::processed,
            $crate::schema::jobs::total,
            $crate::schema::jobs::started_at,
            $crate::schema::jobs::finished_at,
            $crate::schema::jobs::error,
        )
    };
}
pub(crate) use status_columns;

/// What `status_columns!` load.
pub(crate) type StatusRow = (
    String,
    i64,
    Option<i64>,
    Option<NaiveDateTime>,
    Option<NaiveDateTime>,
    Option<String>,
);

/// Where a run stands.
pub(crate) struct Status {
    pub state: JobState,
    pub progress: Progress,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
}

pub(crate) fn status(row: StatusRow) -> Result<Status, StoreError> {
    let (state, processed, total, started_at, finished_at, error) = row;
    let state = parse_name(&state, JobState::parse)?;
    Ok(Status {
        state,
        progress: Progress { processed, total },
        started_at: started_at.map(from_db_time),
        // A failed attempt that will be retried is not finished.
        finished_at: finished_at
            .filter(|_| matches!(state, JobState::Succeeded | JobState::Failed))
            .map(from_db_time),
        error,
    })
}

/// How many runs of one kind may wait for the runner at once, company-wide: a run reads
/// every customer, so a queue of them only delays everyone's.
pub const MAX_WAITING_RUNS: i64 = 3;

/// What asking for a run came to.
#[derive(Debug)]
pub enum RunRequest<R> {
    Queued(R),
    /// The same run is queued or running: that one answers.
    Identical(R),
    /// `MAX_WAITING_RUNS` of its kind wait already.
    QueueFull,
}

impl<R> Outcome for RunRequest<R> {
    fn is_refusal(&self) -> bool {
        !matches!(self, RunRequest::Queued(_))
    }
}

/// Whether `MAX_WAITING_RUNS` jobs of `kind` wait already.
pub(crate) fn queue_is_full(conn: &mut DbConnection, kind: &str) -> Result<bool, StoreError> {
    let waiting = jobs::table
        .filter(jobs::kind.eq(kind))
        .filter(jobs::state.eq(JobState::Queued.as_str()))
        .count()
        .get_result::<i64>(conn)?;
    Ok(waiting >= MAX_WAITING_RUNS)
}

/// A run's job, due now.
fn run_job(kind: &str, created_by: Option<Uuid>, schedule_key: Option<String>) -> NewJob {
    NewJob {
        kind: kind.into(),
        payload: serde_json::json!({}),
        run_at: now(),
        schedule_key,
        max_attempts: 3,
        created_by,
    }
}

/// Queues the job of a run `created_by` asked for.
pub(crate) fn enqueue_run(
    conn: &mut DbConnection,
    kind: &str,
    created_by: Uuid,
) -> Result<Job, StoreError> {
    enqueue(conn, run_job(kind, Some(created_by), None))?
        .ok_or_else(|| StoreError::Internal("a job without a schedule key was not queued".into()))
}

/// Queues the job of a run the schedule makes once under `schedule_key`; `None` when
/// another instance queued it.
pub(crate) fn schedule_run(
    conn: &mut DbConnection,
    kind: &str,
    schedule_key: String,
) -> Result<Option<Job>, StoreError> {
    enqueue(conn, run_job(kind, None, Some(schedule_key)))
}
