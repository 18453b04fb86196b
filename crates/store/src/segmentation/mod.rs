//! Segmentation: runs queued as jobs, each grading the customers by one version of the
//! policy and keeping a result per customer; a customer's value is its latest result with
//! the override in force.

mod facts;
mod losses;
mod overrides;
mod results;

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use credo_core::job::JobState;
use credo_core::webhooks::EventType;
use credo_core::{Currency, Scope};
use credo_customers::task::{TaskKind, TaskStatus};
use credo_segmentation::abc::pareto;
use credo_segmentation::policy::SegmentationPolicy;
use credo_segmentation::record::{ParetoReport, Run, UnitPareto};
use credo_segmentation::run::{self as grading, period_start, CustomerValue, Models};
use credo_segmentation::score::ScoreContext;
use diesel::prelude::*;
use serde::Serialize;
use uuid::Uuid;

use crate::convert::{from_db_time, parse_id, parse_optional_id, to_db_time};
use crate::db::{lock_key, lock_rows, write_transaction, MultiBackend, Outcome};
use crate::jobs::{self, RunRequest};
use crate::keyset::{keyset, Window};
use crate::schema::{jobs as jobs_table, segmentation_results, segmentation_runs, tasks};
use crate::{settings, tasks as task_store, webhooks, DbConnection, StoreError};

pub use losses::{latest_loss, record_loss};
pub use overrides::{
    approve_override, get_override, override_history, overrides_of, overrides_page,
    request_override, ApprovedOverride,
};
pub use results::{compare, grade_history, results, value, ResultFilter, RunWindow};

/// The job kind of a run.
pub const RUN_JOB: &str = "segmentation_run";

impl Outcome for Run {}

type RunRow = (
    (
        String,
        NaiveDate,
        i64,
        Option<String>,
        String,
        Option<String>,
        Option<i64>,
        NaiveDateTime,
        String,
    ),
    jobs::StatusRow,
);

macro_rules! run_columns {
    () => {
        (
            (
                segmentation_runs::id,
                segmentation_runs::as_of,
                segmentation_runs::policy_version,
                segmentation_runs::sales_unit_id,
                segmentation_runs::currency,
                segmentation_runs::models,
                segmentation_runs::excluded_orders,
                segmentation_runs::created_at,
                segmentation_runs::created_by,
            ),
            jobs::status_columns!(),
        )
    };
}

fn from_row(row: RunRow) -> Result<Run, StoreError> {
    let (
        (
            id,
            as_of,
            policy_version,
            unit,
            currency,
            models,
            excluded_orders,
            created_at,
            created_by,
        ),
        status,
    ) = row;
    let status = jobs::status(status)?;
    Ok(Run {
        id: parse_id(&id)?,
        state: status.state,
        as_of,
        policy_version,
        sales_unit_id: parse_optional_id(unit.as_deref())?,
        currency,
        progress: status.progress,
        started_at: status.started_at,
        finished_at: status.finished_at,
        error: status.error,
        models: models
            .as_deref()
            .map(serde_json::from_str::<Models>)
            .transpose()?,
        excluded_orders,
        created_at: from_db_time(created_at),
        created_by: parse_id(&created_by)?,
    })
}

/// Queues a run as of `as_of` by the policy in force, of one unit's customers or all, unless
/// the same run is queued or running already or the queue is full. Requests are judged one
/// at a time.
pub fn create_run(
    conn: &mut DbConnection,
    as_of: NaiveDate,
    sales_unit: Option<Uuid>,
    actor: Uuid,
) -> Result<RunRequest<Run>, StoreError> {
    write_transaction(conn, |conn| {
        lock_key(conn, RUN_JOB)?;
        let policy_version = settings::document::<SegmentationPolicy>(conn)?.version;
        let open = [JobState::Queued.as_str(), JobState::Running.as_str()];
        let open_runs = segmentation_runs::table
            .inner_join(jobs_table::table.on(jobs_table::id.eq(segmentation_runs::id)))
            .filter(jobs_table::state.eq_any(open));
        let mut identical = open_runs
            .filter(segmentation_runs::as_of.eq(as_of))
            .filter(segmentation_runs::policy_version.eq(policy_version))
            .select(segmentation_runs::id)
            .into_boxed::<MultiBackend>();
        identical = match sales_unit {
            Some(unit) => identical.filter(segmentation_runs::sales_unit_id.eq(unit.to_string())),
            None => identical.filter(segmentation_runs::sales_unit_id.is_null()),
        };
        if let Some(id) = identical.first::<String>(conn).optional()? {
            let run = get_run(conn, parse_id(&id)?)?.ok_or(StoreError::NotFound)?;
            return Ok(RunRequest::Identical(run));
        }
        if jobs::queue_is_full(conn, RUN_JOB)? {
            return Ok(RunRequest::QueueFull);
        }
        let currency = settings::company(conn)?.settings.currency;
        let job = jobs::enqueue_run(conn, RUN_JOB, actor)?;
        diesel::insert_into(segmentation_runs::table)
            .values((
                segmentation_runs::id.eq(job.id.to_string()),
                segmentation_runs::as_of.eq(as_of),
                segmentation_runs::policy_version.eq(policy_version),
                segmentation_runs::sales_unit_id.eq(sales_unit.map(|u| u.to_string())),
                segmentation_runs::currency.eq(currency.as_str()),
                segmentation_runs::created_at.eq(to_db_time(job.created_at)),
                segmentation_runs::created_by.eq(actor.to_string()),
            ))
            .execute(conn)?;
        get_run(conn, job.id)?
            .map(RunRequest::Queued)
            .ok_or_else(|| StoreError::Internal("the run just made is gone".into()))
    })
}

pub fn get_run(conn: &mut DbConnection, id: Uuid) -> Result<Option<Run>, StoreError> {
    segmentation_runs::table
        .inner_join(jobs_table::table)
        .filter(segmentation_runs::id.eq(id.to_string()))
        .select(run_columns!())
        .first::<RunRow>(conn)
        .optional()?
        .map(from_row)
        .transpose()
}

/// Runs, the latest made first.
pub fn runs(
    conn: &mut DbConnection,
    window: &Window<DateTime<Utc>>,
) -> Result<Vec<Run>, StoreError> {
    let mut query = segmentation_runs::table
        .inner_join(jobs_table::table)
        .select(run_columns!())
        .into_boxed::<crate::db::MultiBackend>();
    keyset!(
        query,
        segmentation_runs::created_at,
        segmentation_runs::id,
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

/// The run's 80/20 report; `None` until it has one.
pub fn pareto_report(
    conn: &mut DbConnection,
    id: Uuid,
) -> Result<Option<ParetoReport>, StoreError> {
    segmentation_runs::table
        .find(id.to_string())
        .select(segmentation_runs::pareto)
        .first::<Option<String>>(conn)
        .optional()?
        .flatten()
        .map(|json| serde_json::from_str(&json).map_err(StoreError::from))
        .transpose()
}

/// The policy a run grades by.
pub fn run_policy(conn: &mut DbConnection, run: &Run) -> Result<SegmentationPolicy, StoreError> {
    settings::document_version::<SegmentationPolicy>(conn, run.policy_version)?
        .map(|stored| stored.settings)
        .ok_or_else(|| {
            StoreError::Internal(format!("policy version {} is not kept", run.policy_version))
        })
}

/// Minor units in a major unit of `currency`: the models read spend in major units.
fn minor_per_major(currency: Currency) -> f64 {
    10f64.powi(i32::from(currency.minor_digits()))
}

/// What a run's scores were read against; with a customer's facts it gives its score again.
fn score_context(
    conn: &mut DbConnection,
    run: &Run,
    policy: &SegmentationPolicy,
) -> Result<ScoreContext, StoreError> {
    let company_margin_minor = segmentation_runs::table
        .find(run.id.to_string())
        .select(segmentation_runs::company_margin_minor)
        .first::<Option<i64>>(conn)?
        .unwrap_or(0);
    let currency = Currency::parse(&run.currency)
        .map_err(|_| StoreError::Internal("stored run currency is invalid".into()))?;
    Ok(ScoreContext {
        as_of: run.as_of,
        period_days: policy.abc.period_days,
        company_margin_minor,
        minor_per_major: minor_per_major(currency),
    })
}

/// What a run did, for its job's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Executed {
    pub customers: usize,
    pub excluded_orders: i64,
    pub churn_tasks: usize,
}

const WRITE_BATCH: usize = 500;

/// Does run `id`: reads the facts, grades, and writes the results in batches (a resumed
/// run starts its results over), the models and the 80/20 report; on a run as of `today`,
/// gives each customer at churn risk one open intervention task. `progress` hears
/// (written, total).
pub fn execute(
    conn: &mut DbConnection,
    id: Uuid,
    today: NaiveDate,
    actor: Uuid,
    progress: &mut dyn FnMut(i64, i64) -> Result<(), StoreError>,
) -> Result<Executed, StoreError> {
    let run = get_run(conn, id)?.ok_or_else(|| StoreError::Internal(format!("no run {id}")))?;
    let policy = run_policy(conn, &run)?;
    let currency = Currency::parse(&run.currency)
        .map_err(|_| StoreError::Internal("stored run currency is invalid".into()))?;
    let start = period_start(run.as_of, policy.abc.period_days);
    let clock = std::time::Instant::now();
    let loaded = facts::load(conn, run.as_of, start, currency, run.sales_unit_id)?;
    let read = clock.elapsed();
    let outcome = grading::run(
        &policy,
        run.as_of,
        minor_per_major(currency),
        &loaded.customers,
    );
    let graded = clock.elapsed();
    let total = i64::try_from(outcome.customers.len()).unwrap_or(i64::MAX);
    progress(0, total)?;
    results::clear(conn, id)?;
    let mut written = 0;
    for ((values, units), facts) in outcome
        .customers
        .chunks(WRITE_BATCH)
        .zip(loaded.units.chunks(WRITE_BATCH))
        .zip(loaded.customers.chunks(WRITE_BATCH))
    {
        results::write(conn, id, values, units, facts)?;
        written += values.len();
        progress(i64::try_from(written).unwrap_or(i64::MAX), total)?;
    }
    let report = pareto_of(&outcome.customers, &loaded.units);
    diesel::update(segmentation_runs::table.find(id.to_string()))
        .set((
            segmentation_runs::models.eq(serde_json::to_string(&outcome.models)?),
            segmentation_runs::excluded_orders.eq(loaded.excluded_orders),
            segmentation_runs::pareto.eq(serde_json::to_string(&report)?),
            segmentation_runs::company_margin_minor.eq(outcome.context.company_margin_minor),
        ))
        .execute(conn)?;
    let written = clock.elapsed();
    tell_movements(conn, &run)?;
    purge_superseded(conn, &run, policy.keep_runs)?;
    let churn_tasks = if run.as_of == today {
        intervene(conn, &policy, &outcome.customers, today, actor)?
    } else {
        0
    };
    tracing::info!(
        run = %id,
        customers = outcome.customers.len(),
        read_ms = read.as_millis() as u64,
        grade_ms = (graded - read).as_millis() as u64,
        write_ms = (written - graded).as_millis() as u64,
        tasks_ms = (clock.elapsed() - written).as_millis() as u64,
        churn_tasks,
        "segmentation run done"
    );
    Ok(Executed {
        customers: outcome.customers.len(),
        excluded_orders: loaded.excluded_orders,
        churn_tasks,
    })
}

/// The latest run of `run`'s scope that finished before it.
fn previous_run(conn: &mut DbConnection, run: &Run) -> Result<Option<Run>, StoreError> {
    let mut query = segmentation_runs::table
        .inner_join(jobs_table::table)
        .filter(jobs_table::state.eq(JobState::Succeeded.as_str()))
        .filter(segmentation_runs::id.ne(run.id.to_string()))
        .filter(segmentation_runs::created_at.le(to_db_time(run.created_at)))
        .select(run_columns!())
        .into_boxed::<MultiBackend>();
    query = match run.sales_unit_id {
        Some(unit) => query.filter(segmentation_runs::sales_unit_id.eq(unit.to_string())),
        None => query.filter(segmentation_runs::sales_unit_id.is_null()),
    };
    query
        .order((
            segmentation_runs::created_at.desc(),
            segmentation_runs::id.desc(),
        ))
        .first::<RunRow>(conn)
        .optional()?
        .map(from_row)
        .transpose()
}

/// Tells webhook receivers of each customer whose grade, ABC class, quadrant or tier `run`
/// moved from the scope's previous run, a page of customers to a transaction (only when an
/// endpoint asks for `customer.grade_changed`: the comparison reads both runs).
fn tell_movements(conn: &mut DbConnection, run: &Run) -> Result<(), StoreError> {
    const PAGE: usize = 1000;
    let outbox = webhooks::Outbox::open(conn)?;
    if !outbox.wants(EventType::CustomerGradeChanged) {
        return Ok(());
    }
    let Some(before) = previous_run(conn, run)? else {
        return Ok(());
    };
    let mut after = None;
    loop {
        let moved = results::compare(conn, &before, run, &Scope::All, after, PAGE)?;
        write_transaction(conn, |conn| {
            outbox.emit_all(conn, EventType::CustomerGradeChanged, &moved)
        })?;
        match moved.last() {
            Some(last) if moved.len() == PAGE => after = Some(last.customer_id),
            _ => return Ok(()),
        }
    }
}

/// Purges the results of the finished runs of `run`'s scope beyond the newest `keep` (this
/// run, finishing now, among them); the runs themselves stay.
fn purge_superseded(conn: &mut DbConnection, run: &Run, keep: u32) -> Result<(), StoreError> {
    let mut finished = segmentation_runs::table
        .inner_join(jobs_table::table.on(jobs_table::id.eq(segmentation_runs::id)))
        .filter(jobs_table::state.eq(JobState::Succeeded.as_str()))
        .filter(segmentation_runs::id.ne(run.id.to_string()))
        .select(segmentation_runs::id)
        .order((
            segmentation_runs::as_of.desc(),
            segmentation_runs::created_at.desc(),
        ))
        .into_boxed::<MultiBackend>();
    finished = match run.sales_unit_id {
        Some(unit) => finished.filter(segmentation_runs::sales_unit_id.eq(unit.to_string())),
        None => finished.filter(segmentation_runs::sales_unit_id.is_null()),
    };
    // SQLite takes an OFFSET only after a LIMIT.
    let superseded: Vec<String> = finished
        .limit(i64::MAX)
        .offset(i64::from(keep.saturating_sub(1)))
        .load(conn)?;
    if !superseded.is_empty() {
        diesel::delete(
            segmentation_results::table.filter(segmentation_results::run_id.eq_any(&superseded)),
        )
        .execute(conn)?;
        tracing::info!(runs = superseded.len(), "purged results of superseded runs");
    }
    Ok(())
}

fn pareto_of(values: &[CustomerValue], units: &[Option<Uuid>]) -> ParetoReport {
    let mut by_unit: std::collections::BTreeMap<Option<Uuid>, Vec<i64>> = Default::default();
    for (value, unit) in values.iter().zip(units) {
        by_unit
            .entry(*unit)
            .or_default()
            .push(value.abc.measure_minor);
    }
    ParetoReport {
        overall: pareto(values.iter().map(|v| v.abc.measure_minor)),
        units: by_unit
            .into_iter()
            .map(|(sales_unit_id, measures)| UnitPareto {
                sales_unit_id,
                pareto: pareto(measures),
            })
            .collect(),
    }
}

/// One open `churn_intervention` task per customer at churn risk, never a second while one
/// is open: a batch of customers at a time in one transaction with their rows locked (in id
/// order, as every batch takes them), so two runs never both give one. Answers how many were
/// made.
fn intervene(
    conn: &mut DbConnection,
    policy: &SegmentationPolicy,
    values: &[CustomerValue],
    today: NaiveDate,
    actor: Uuid,
) -> Result<usize, StoreError> {
    let at_risk: Vec<&CustomerValue> = values.iter().filter(|v| v.churn_risk).collect();
    let mut made = 0;
    for batch in at_risk.chunks(WRITE_BATCH) {
        made += write_transaction(conn, |conn| {
            let ids: Vec<Uuid> = batch.iter().map(|v| v.id).collect();
            lock_rows(conn, "customers", &ids)?;
            let open: HashSet<String> = tasks::table
                .filter(tasks::customer_id.eq_any(ids.iter().map(Uuid::to_string)))
                .filter(tasks::kind.eq(TaskKind::ChurnIntervention.as_str()))
                .filter(tasks::status.eq(TaskStatus::Open.as_str()))
                .select(tasks::customer_id)
                .load::<Option<String>>(conn)?
                .into_iter()
                .flatten()
                .collect();
            let due: HashMap<Uuid, &CustomerValue> = batch
                .iter()
                .filter(|value| !open.contains(&value.id.to_string()))
                .map(|value| (value.id, *value))
                .collect();
            let ids: Vec<Uuid> = due.keys().copied().collect();
            let made = task_store::for_account_managers(
                conn,
                &ids,
                TaskKind::ChurnIntervention,
                today,
                actor,
                |id, name| {
                    let note = due
                        .get(&id)
                        .map_or_else(String::new, |value| intervention_note(policy, value));
                    (format!("Churn intervention: {name}"), note)
                },
            )?;
            Ok(made.len())
        })?;
    }
    Ok(made)
}

/// What the account manager reads on the task: how likely the customer is gone, and what
/// its quadrant allows to spend on winning it back.
fn intervention_note(policy: &SegmentationPolicy, value: &CustomerValue) -> String {
    let churn = value.clv.map_or(0.0, |c| c.churn_probability);
    let guidance = match value.quadrant.and_then(|q| policy.guidance(q)) {
        Some(g) => format!(
            "Quadrant {}: budget {:+} %, {}.",
            g.quadrant, g.budget_change_pct, g.guidance
        ),
        None => "No quadrant: no lifetime value to weigh.".to_owned(),
    };
    format!(
        "Churn probability {:.0} % (threshold {:.0} %). {guidance}",
        churn * 100.0,
        policy.churn.threshold * 100.0,
    )
}
