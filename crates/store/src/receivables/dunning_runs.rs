//! Dunning runs as jobs. A run is queued (by a person, or once a day by the schedule) with a
//! record sharing its job's id; the runner executes it batch by batch, writing each batch's
//! entries (an action, or a customer held back) and counts in the transaction that records
//! the actions, so what a run lists is what it did even when it was interrupted. The entries
//! are read back in pages; nothing about a run is held in memory but one batch.

use chrono::{NaiveDate, NaiveDateTime};
use credo_core::job::JobState;
use credo_receivables::dunning::{
    DunningAction, DunningPolicy, DunningPolicyRules, DunningRun, HeldBack,
};
use diesel::prelude::*;
use uuid::Uuid;

use super::dunning::{candidates, dun, Dunned};
use crate::convert::{from_db_time, parse_id, to_db_time};
use crate::db::{insert_chunks, lock_key, lock_rows, write_transaction, MultiBackend, Outcome};
use crate::jobs::{self, RunRequest};
use crate::keyset::{keyset, Window};
use crate::schema::{dunning_run_entries, dunning_runs, jobs as jobs_table};
use crate::users::RULES_USER;
use crate::{settings, DbConnection, StoreError};

/// The job kind of a run.
pub const RUN_JOB: &str = "dunning";

/// Customers dunned in one transaction: one commit (and its WAL flush) per customer made an
/// acting run over tens of thousands of customers take most of an hour.
const DUN_BATCH: usize = 100;

impl Outcome for DunningRun {}

type RunRow = (
    (
        String,
        NaiveDate,
        bool,
        Option<i64>,
        i64,
        i64,
        NaiveDateTime,
        String,
    ),
    jobs::StatusRow,
);

macro_rules! run_columns {
    () => {
        (
            (
                dunning_runs::id,
                dunning_runs::as_of,
                dunning_runs::dry_run,
                dunning_runs::policy_version,
                dunning_runs::action_count,
                dunning_runs::held_back_count,
                dunning_runs::created_at,
                dunning_runs::created_by,
            ),
            jobs::status_columns!(),
        )
    };
}

fn from_row(row: RunRow) -> Result<DunningRun, StoreError> {
    let (
        (id, as_of, dry_run, policy_version, action_count, held_back_count, created_at, created_by),
        status,
    ) = row;
    let status = jobs::status(status)?;
    Ok(DunningRun {
        id: parse_id(&id)?,
        state: status.state,
        as_of,
        dry_run,
        policy_version,
        progress: status.progress,
        action_count,
        held_back_count,
        started_at: status.started_at,
        finished_at: status.finished_at,
        error: status.error,
        created_at: from_db_time(created_at),
        created_by: parse_id(&created_by)?,
    })
}

/// The dunning policy in force with its version, checked.
pub fn policy(conn: &mut DbConnection) -> Result<(DunningPolicy, i64), StoreError> {
    let stored = settings::document::<DunningPolicyRules>(conn)?;
    let policy = DunningPolicy::from_rules(&stored.settings).map_err(|errors| {
        StoreError::Internal(format!("the stored dunning policy is invalid: {errors:?}"))
    })?;
    Ok((policy, stored.version))
}

/// Queues a run as of `as_of`, unless the same one (day, dry or acting) is queued or running
/// already or the queue is full. Requests are judged one at a time.
pub fn queue_run(
    conn: &mut DbConnection,
    as_of: NaiveDate,
    dry_run: bool,
    actor: Uuid,
) -> Result<RunRequest<DunningRun>, StoreError> {
    write_transaction(conn, |conn| {
        lock_key(conn, RUN_JOB)?;
        let open = [JobState::Queued.as_str(), JobState::Running.as_str()];
        let identical = dunning_runs::table
            .inner_join(jobs_table::table)
            .filter(jobs_table::state.eq_any(open))
            .filter(dunning_runs::as_of.eq(as_of))
            .filter(dunning_runs::dry_run.eq(dry_run))
            .select(run_columns!())
            .first::<RunRow>(conn)
            .optional()?;
        if let Some(row) = identical {
            return Ok(RunRequest::Identical(from_row(row)?));
        }
        if jobs::queue_is_full(conn, RUN_JOB)? {
            return Ok(RunRequest::QueueFull);
        }
        let job = jobs::enqueue_run(conn, RUN_JOB, actor)?;
        record_run(conn, job.id, as_of, dry_run, actor)?;
        get_run(conn, job.id)?
            .map(RunRequest::Queued)
            .ok_or_else(|| StoreError::Internal("the run just made is gone".into()))
    })
}

/// Queues the day's acting run as the rules' account, once whatever the number of
/// instances.
pub fn schedule_daily_run(conn: &mut DbConnection, day: NaiveDate) -> Result<(), StoreError> {
    write_transaction(conn, |conn| {
        if let Some(job) = jobs::schedule_run(conn, RUN_JOB, format!("{RUN_JOB}@{day}"))? {
            record_run(conn, job.id, day, false, RULES_USER)?;
        }
        Ok(())
    })
}

fn record_run(
    conn: &mut DbConnection,
    id: Uuid,
    as_of: NaiveDate,
    dry_run: bool,
    created_by: Uuid,
) -> Result<(), StoreError> {
    diesel::insert_into(dunning_runs::table)
        .values((
            dunning_runs::id.eq(id.to_string()),
            dunning_runs::as_of.eq(as_of),
            dunning_runs::dry_run.eq(dry_run),
            dunning_runs::action_count.eq(0),
            dunning_runs::held_back_count.eq(0),
            dunning_runs::created_at.eq(to_db_time(crate::now())),
            dunning_runs::created_by.eq(created_by.to_string()),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn get_run(conn: &mut DbConnection, id: Uuid) -> Result<Option<DunningRun>, StoreError> {
    dunning_runs::table
        .inner_join(jobs_table::table)
        .filter(dunning_runs::id.eq(id.to_string()))
        .select(run_columns!())
        .first::<RunRow>(conn)
        .optional()?
        .map(from_row)
        .transpose()
}

/// Runs, the latest made first.
pub fn runs(
    conn: &mut DbConnection,
    window: &Window<chrono::DateTime<chrono::Utc>>,
) -> Result<Vec<DunningRun>, StoreError> {
    let mut query = dunning_runs::table
        .inner_join(jobs_table::table)
        .select(run_columns!())
        .into_boxed::<MultiBackend>();
    keyset!(
        query,
        dunning_runs::created_at,
        dunning_runs::id,
        window.after_db_time(),
        true
    );
    query
        .limit(window.limit)
        .load::<RunRow>(conn)?
        .into_iter()
        .map(from_row)
        .collect()
}

/// A run's actions, the highest level first (then by customer), optionally of one level.
pub fn actions(
    conn: &mut DbConnection,
    run: Uuid,
    level: Option<String>,
    window: &Window<i64>,
) -> Result<Vec<DunningAction>, StoreError> {
    entries(conn, run, false, level, window)
}

/// The customers a run held back (by customer).
pub fn held_back(
    conn: &mut DbConnection,
    run: Uuid,
    window: &Window<i64>,
) -> Result<Vec<HeldBack>, StoreError> {
    entries(conn, run, true, None, window)
}

fn entries<T: serde::de::DeserializeOwned>(
    conn: &mut DbConnection,
    run: Uuid,
    held_back: bool,
    level: Option<String>,
    window: &Window<i64>,
) -> Result<Vec<T>, StoreError> {
    let mut query = dunning_run_entries::table
        .filter(dunning_run_entries::run_id.eq(run.to_string()))
        .filter(dunning_run_entries::held_back.eq(held_back))
        .select(dunning_run_entries::entry)
        .into_boxed::<MultiBackend>();
    if let Some(level) = level {
        query = query.filter(dunning_run_entries::level.eq(level));
    }
    keyset!(
        query,
        dunning_run_entries::level_rank,
        dunning_run_entries::customer_id,
        window.after,
        true
    );
    query
        .limit(window.limit)
        .load::<String>(conn)?
        .iter()
        .map(|entry| Ok(serde_json::from_str(entry)?))
        .collect()
}

/// Executes run `id` for the runner as `actor` (the one who asked, or the rules' account);
/// `progress` hears (customers done, customers to do) before each batch and may stop the
/// run by failing. A run that resumes keeps what its acting batches recorded and lists
/// again what they did not.
pub fn execute(
    conn: &mut DbConnection,
    id: Uuid,
    progress: &mut dyn FnMut(i64, i64) -> Result<(), StoreError>,
) -> Result<DunningRun, StoreError> {
    let run = get_run(conn, id)?.ok_or(StoreError::NotFound)?;
    let (policy, version) = policy(conn)?;
    let candidates = candidates(conn, &policy, run.as_of)?;
    write_transaction(conn, |conn| {
        // Entries that recorded nothing are made again: every entry of a dry run, the
        // customers an acting run held back.
        let unrecorded: &[bool] = if run.dry_run { &[true, false] } else { &[true] };
        diesel::delete(
            dunning_run_entries::table
                .filter(dunning_run_entries::run_id.eq(id.to_string()))
                .filter(dunning_run_entries::held_back.eq_any(unrecorded)),
        )
        .execute(conn)?;
        let kept = dunning_run_entries::table
            .filter(dunning_run_entries::run_id.eq(id.to_string()))
            .count()
            .get_result::<i64>(conn)?;
        diesel::update(dunning_runs::table.find(id.to_string()))
            .set((
                dunning_runs::policy_version.eq(version),
                dunning_runs::action_count.eq(kept),
                dunning_runs::held_back_count.eq(0),
            ))
            .execute(conn)?;
        Ok(())
    })?;
    let actor = (!run.dry_run).then_some(run.created_by);
    let total = i64::try_from(candidates.len()).unwrap_or(i64::MAX);
    let mut done = 0_i64;
    for batch in candidates.chunks(DUN_BATCH) {
        progress(done, total)?;
        write_transaction(conn, |conn| {
            if actor.is_some() {
                lock_rows(conn, "customers", batch)?;
            }
            let dunned = batch
                .iter()
                .map(|&customer| dun(conn, &policy, customer, run.as_of, actor))
                .collect::<Result<Vec<_>, _>>()?;
            record_entries(conn, id, dunned)
        })?;
        done += i64::try_from(batch.len()).unwrap_or(i64::MAX);
    }
    progress(total, total)?;
    purge_superseded(conn, id, policy.keep_runs())?;
    get_run(conn, id)?.ok_or(StoreError::NotFound)
}

/// Purges the lists of the finished runs beyond the latest `keep`, `run` (finishing now)
/// among them.
fn purge_superseded(conn: &mut DbConnection, run: Uuid, keep: u32) -> Result<(), StoreError> {
    let listed =
        dunning_run_entries::table.filter(dunning_run_entries::run_id.eq(dunning_runs::id));
    // SQLite takes an OFFSET only after a LIMIT.
    let superseded: Vec<String> = dunning_runs::table
        .inner_join(jobs_table::table)
        .filter(jobs_table::state.eq(JobState::Succeeded.as_str()))
        .filter(dunning_runs::id.ne(run.to_string()))
        .filter(diesel::dsl::exists(listed))
        .select(dunning_runs::id)
        .order((dunning_runs::created_at.desc(), dunning_runs::id.desc()))
        .limit(i64::MAX)
        .offset(i64::from(keep.saturating_sub(1)))
        .load(conn)?;
    if !superseded.is_empty() {
        diesel::delete(
            dunning_run_entries::table.filter(dunning_run_entries::run_id.eq_any(&superseded)),
        )
        .execute(conn)?;
        tracing::info!(
            runs = superseded.len(),
            "purged the lists of superseded dunning runs"
        );
    }
    Ok(())
}

#[derive(Insertable)]
#[diesel(table_name = dunning_run_entries)]
struct NewEntry {
    run_id: String,
    customer_id: String,
    held_back: bool,
    level_rank: i64,
    level: Option<String>,
    entry: String,
}

/// Writes a batch's entries and adds them to the run's counts.
fn record_entries(
    conn: &mut DbConnection,
    run: Uuid,
    dunned: Vec<Dunned>,
) -> Result<(), StoreError> {
    let mut rows = Vec::with_capacity(dunned.len());
    let (mut acted, mut held) = (0_i64, 0_i64);
    for outcome in dunned {
        // Held back is rank 0, below every level.
        let (customer, level, level_rank, entry) = match outcome {
            Dunned::Nothing => continue,
            Dunned::Acted(action) => {
                acted += 1;
                let entry = serde_json::to_string(&action)?;
                let rank = i64::from(action.level_rank);
                (action.customer_id, Some(action.level), rank, entry)
            }
            Dunned::HeldBack(customer) => {
                held += 1;
                (
                    customer.customer_id,
                    None,
                    0,
                    serde_json::to_string(&customer)?,
                )
            }
        };
        rows.push(NewEntry {
            run_id: run.to_string(),
            customer_id: customer.to_string(),
            held_back: level.is_none(),
            level_rank,
            level,
            entry,
        });
    }
    if rows.is_empty() {
        return Ok(());
    }
    insert_chunks!(conn, dunning_run_entries::table, &rows, 1000);
    diesel::update(dunning_runs::table.find(run.to_string()))
        .set((
            dunning_runs::action_count.eq(dunning_runs::action_count + acted),
            dunning_runs::held_back_count.eq(dunning_runs::held_back_count + held),
        ))
        .execute(conn)?;
    Ok(())
}
