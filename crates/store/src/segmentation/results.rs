//! A run's results: written in batches, listed with filters, compared between runs, and read
//! back as a customer's value.

use chrono::NaiveDate;
use credo_core::job::JobState;
use credo_core::Scope;
use credo_segmentation::abc::{AbcClass, AbcPlace};
use credo_segmentation::policy::SegmentationPolicy;
use credo_segmentation::policy::{Quadrant, ServiceTier};
use credo_segmentation::record::{CustomerValue, GradeEntry, Movement, Run, RunResult};
use credo_segmentation::rfm::{Rfm, RfmSegment};
use credo_segmentation::run::{self as grading, Clv, CustomerFacts};
use credo_segmentation::score::{self, Score, ScoreContext, ScoreFacts};
use diesel::prelude::*;
use serde::{Deserialize, Serialize};

use uuid::Uuid;

use super::{get_run, losses, overrides, run_policy, score_context};
use crate::convert::{parse_id, parse_name, parse_optional_id};
use crate::db::MultiBackend;
use crate::keyset::{keyset, of_visible_customers, Window};
use crate::schema::{jobs, segmentation_results as results_table, segmentation_runs};
use crate::{DbConnection, StoreError};

/// What a result keeps besides its list columns: the facts its score was read from (the
/// score with its explanation is given again from them by the run's policy), RFM and
/// lifetime value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Detail {
    facts: ScoreFacts,
    rfm: Option<Rfm>,
    #[serde(deserialize_with = "lenient_clv")]
    clv: Option<Clv>,
    churn_risk: bool,
}

/// A stored lifetime value that does not read as one reads as none (runs before the models'
/// figures were checked to be finite kept a NaN as `null`): reading a result never fails on
/// what its run stored.
fn lenient_clv<'de, D: serde::Deserializer<'de>>(stored: D) -> Result<Option<Clv>, D::Error> {
    let value = Option::<serde_json::Value>::deserialize(stored)?;
    Ok(value.and_then(|value| Clv::deserialize(value).ok()))
}

/// Removes what an interrupted attempt of the run wrote.
pub(super) fn clear(conn: &mut DbConnection, run_id: Uuid) -> Result<(), StoreError> {
    diesel::delete(results_table::table.filter(results_table::run_id.eq(run_id.to_string())))
        .execute(conn)?;
    Ok(())
}

/// A result as written: a row of `segmentation_results`.
#[derive(Insertable)]
#[diesel(table_name = results_table, treat_none_as_default_value = false)]
struct NewResult {
    run_id: String,
    customer_id: String,
    sales_unit_id: Option<String>,
    abc_class: &'static str,
    abc_rank: i64,
    measure_minor: i64,
    score_total: f64,
    grade: String,
    rfm_segment: Option<&'static str>,
    quadrant: Option<&'static str>,
    tier: &'static str,
    churn_probability: Option<f64>,
    clv_minor: Option<i64>,
    negative_value: bool,
    detail: String,
}

/// Writes one batch of results in one statement.
pub(super) fn write(
    conn: &mut DbConnection,
    run_id: Uuid,
    values: &[grading::CustomerValue],
    units: &[Option<Uuid>],
    facts: &[CustomerFacts],
) -> Result<(), StoreError> {
    let run = run_id.to_string();
    let rows = values
        .iter()
        .zip(units)
        .zip(facts)
        .map(|((value, unit), facts)| {
            let detail = Detail {
                facts: facts.score.clone(),
                rfm: value.rfm,
                clv: value.clv,
                churn_risk: value.churn_risk,
            };
            Ok(NewResult {
                run_id: run.clone(),
                customer_id: value.id.to_string(),
                sales_unit_id: unit.map(|u| u.to_string()),
                abc_class: value.abc.class.as_str(),
                abc_rank: i64::from(value.abc.rank),
                measure_minor: value.abc.measure_minor,
                score_total: value.score.total,
                grade: value.score.grade.clone(),
                rfm_segment: value.rfm.map(|r| r.segment.as_str()),
                quadrant: value.quadrant.map(Quadrant::as_str),
                tier: value.tier.as_str(),
                churn_probability: value.clv.map(|c| c.churn_probability),
                clv_minor: value.clv.and_then(|c| c.clv),
                negative_value: value.negative_value,
                detail: serde_json::to_string(&detail)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    // One statement a batch; the multi-backend has no batch insert, each backend has:
    // PostgreSQL's fastest is COPY in its binary format.
    match conn {
        DbConnection::Postgres(pg) => diesel::copy_from(results_table::table)
            .from_insertable(&rows)
            .execute(pg)?,
        DbConnection::Sqlite(lite) => diesel::insert_into(results_table::table)
            .values(&rows)
            .execute(lite)?,
    };
    Ok(())
}

type ResultRow = (
    String,
    Option<String>,
    String,
    i64,
    i64,
    f64,
    String,
    Option<String>,
    Option<String>,
    String,
    Option<f64>,
    Option<i64>,
    bool,
);

macro_rules! result_columns {
    () => {
        (
            results_table::customer_id,
            results_table::sales_unit_id,
            results_table::abc_class,
            results_table::abc_rank,
            results_table::measure_minor,
            results_table::score_total,
            results_table::grade,
            results_table::rfm_segment,
            results_table::quadrant,
            results_table::tier,
            results_table::churn_probability,
            results_table::clv_minor,
            results_table::negative_value,
        )
    };
}

fn from_row(row: ResultRow) -> Result<RunResult, StoreError> {
    let (
        customer,
        unit,
        class,
        rank,
        measure,
        total,
        grade,
        segment,
        quadrant,
        tier,
        churn,
        clv,
        negative,
    ) = row;
    Ok(RunResult {
        customer_id: parse_id(&customer)?,
        sales_unit_id: parse_optional_id(unit.as_deref())?,
        abc: AbcPlace {
            class: parse_name(&class, AbcClass::parse)?,
            rank: u32::try_from(rank).unwrap_or(u32::MAX),
            measure_minor: measure,
        },
        score_total: total,
        grade,
        rfm_segment: segment
            .map(|s| parse_name(&s, RfmSegment::parse))
            .transpose()?,
        quadrant: quadrant
            .map(|q| parse_name(&q, Quadrant::parse))
            .transpose()?,
        tier: parse_name(&tier, ServiceTier::parse)?,
        churn_probability: churn,
        clv_minor: clv,
        negative_value: negative,
    })
}

/// Which results a list shows.
#[derive(Debug, Clone, Default)]
pub struct ResultFilter {
    pub grade: Option<String>,
    pub abc: Option<AbcClass>,
    pub quadrant: Option<Quadrant>,
    pub tier: Option<ServiceTier>,
    /// Churn probability at or above.
    pub churn_above: Option<f64>,
    pub sales_unit_id: Option<Uuid>,
    pub negative_value: Option<bool>,
}

/// The cursor of a results list: the ABC rank and customer of the last row seen.
pub type RunWindow = Window<i64>;

/// A page of a run's results the scope sees, by ABC rank (the most valuable first).
pub fn results(
    conn: &mut DbConnection,
    run_id: Uuid,
    scope: &Scope,
    filter: &ResultFilter,
    window: &RunWindow,
) -> Result<Vec<RunResult>, StoreError> {
    let mut query = results_table::table
        .filter(results_table::run_id.eq(run_id.to_string()))
        .into_boxed::<MultiBackend>();
    of_visible_customers!(query, results_table::customer_id, scope);
    if let Some(grade) = &filter.grade {
        query = query.filter(results_table::grade.eq(grade.clone()));
    }
    if let Some(class) = filter.abc {
        query = query.filter(results_table::abc_class.eq(class.as_str()));
    }
    if let Some(quadrant) = filter.quadrant {
        query = query.filter(results_table::quadrant.eq(quadrant.as_str()));
    }
    if let Some(tier) = filter.tier {
        query = query.filter(results_table::tier.eq(tier.as_str()));
    }
    if let Some(churn) = filter.churn_above {
        query = query.filter(results_table::churn_probability.ge(churn));
    }
    if let Some(unit) = filter.sales_unit_id {
        query = query.filter(results_table::sales_unit_id.eq(unit.to_string()));
    }
    if let Some(negative) = filter.negative_value {
        query = query.filter(results_table::negative_value.eq(negative));
    }
    keyset!(
        query,
        results_table::abc_rank,
        results_table::customer_id,
        window.after,
        false
    );
    query
        .limit(window.limit)
        .select(result_columns!())
        .load::<ResultRow>(conn)?
        .into_iter()
        .map(from_row)
        .collect()
}

/// A customer's result in one run, with its explanation.
fn result_of(
    conn: &mut DbConnection,
    run_id: &str,
    customer_id: Uuid,
) -> Result<Option<(RunResult, Detail)>, StoreError> {
    let row = results_table::table
        .find((run_id, customer_id.to_string()))
        .select((result_columns!(), results_table::detail))
        .first::<(ResultRow, String)>(conn)
        .optional()?;
    row.map(|(row, detail)| Ok((from_row(row)?, serde_json::from_str(&detail)?)))
        .transpose()
}

/// The runs that succeeded and graded the customer, the latest as-of first, at most `limit`.
/// The succeeded runs that graded the customer, the latest day first, a page of them.
fn graded_runs(
    conn: &mut DbConnection,
    customer_id: Uuid,
    window: &Window<NaiveDate>,
) -> Result<Vec<String>, StoreError> {
    let mut query = results_table::table
        .inner_join(segmentation_runs::table.inner_join(jobs::table))
        .filter(results_table::customer_id.eq(customer_id.to_string()))
        .filter(jobs::state.eq(JobState::Succeeded.as_str()))
        .select(segmentation_runs::id)
        .into_boxed::<MultiBackend>();
    keyset!(
        query,
        segmentation_runs::as_of,
        segmentation_runs::id,
        window.after,
        true
    );
    Ok(query.limit(window.limit).load::<String>(conn)?)
}

/// Why the customer has its grade: the latest successful run's result and the override in
/// force on `today`; `None` before any run graded it.
pub fn value(
    conn: &mut DbConnection,
    customer_id: Uuid,
    today: NaiveDate,
) -> Result<Option<CustomerValue>, StoreError> {
    let latest = Window {
        after: None,
        limit: 1,
    };
    let Some(run_id) = graded_runs(conn, customer_id, &latest)?.into_iter().next() else {
        return Ok(None);
    };
    let run = get_run(conn, parse_id(&run_id)?)?
        .ok_or_else(|| StoreError::Internal("a graded run is gone".into()))?;
    let (result, detail) = result_of(conn, &run_id, customer_id)?
        .ok_or_else(|| StoreError::Internal("a graded result is gone".into()))?;
    let policy = run_policy(conn, &run)?;
    let context = score_context(conn, &run, &policy)?;
    let grade_override = overrides::in_force(conn, customer_id, today)?;
    let grade = grade_override
        .as_ref()
        .map_or_else(|| result.grade.clone(), |o| o.grade.clone());
    let service = policy.tier_of(&grade).clone();
    Ok(Some(CustomerValue {
        run_id: run.id,
        as_of: run.as_of,
        policy_version: run.policy_version,
        currency: run.currency,
        abc: result.abc,
        score: score::score(&policy.score, &detail.facts, &context),
        rfm: detail.rfm,
        clv: detail.clv,
        quadrant: result.quadrant,
        guidance: result.quadrant.and_then(|q| policy.guidance(q)).cloned(),
        tier: service.tier,
        service,
        grade,
        churn_risk: detail.churn_risk,
        negative_value: result.negative_value,
        grade_override,
        loss: losses::latest_loss(conn, customer_id)?,
    }))
}

/// A page of the customer's grades run by run, the latest day first.
pub fn grade_history(
    conn: &mut DbConnection,
    customer_id: Uuid,
    window: &Window<NaiveDate>,
) -> Result<Vec<GradeEntry>, StoreError> {
    let mut entries = Vec::new();
    for run_id in graded_runs(conn, customer_id, window)? {
        let run = get_run(conn, parse_id(&run_id)?)?
            .ok_or_else(|| StoreError::Internal("a graded run is gone".into()))?;
        if let Some((result, _)) = result_of(conn, &run_id, customer_id)? {
            entries.push(GradeEntry {
                run_id: run.id,
                as_of: run.as_of,
                policy_version: run.policy_version,
                result,
            });
        }
    }
    Ok(entries)
}

fn moved(before: &RunResult, after: &RunResult) -> bool {
    before.grade != after.grade
        || before.abc.class != after.abc.class
        || before.quadrant != after.quadrant
        || before.tier != after.tier
}

/// The changes behind a move: ABC measure, then the indicators by weighted change.
fn reasons(before: (&RunResult, &Score), after: (&RunResult, &Score)) -> Vec<String> {
    let mut reasons = Vec::new();
    if before.0.abc.class != after.0.abc.class {
        reasons.push(format!(
            "ABC {} -> {}: measure {} -> {} (rank {} -> {})",
            before.0.abc.class.as_str(),
            after.0.abc.class.as_str(),
            before.0.abc.measure_minor,
            after.0.abc.measure_minor,
            before.0.abc.rank,
            after.0.abc.rank
        ));
    }
    let mut changes: Vec<(f64, String)> = before
        .1
        .indicators
        .iter()
        .zip(&after.1.indicators)
        .filter(|(b, a)| b.key == a.key && b.score != a.score)
        .map(|(b, a)| {
            let (from, to) = (b.score.unwrap_or(0.0), a.score.unwrap_or(0.0));
            (
                (to - from).abs() * f64::from(a.weight),
                format!("{} {} -> {} ({})", a.key, from, to, a.note),
            )
        })
        .collect();
    changes.sort_by(|x, y| y.0.total_cmp(&x.0));
    if before.0.grade != after.0.grade {
        reasons.push(format!(
            "score {} -> {}: grade {} -> {}",
            before.0.score_total, after.0.score_total, before.0.grade, after.0.grade
        ));
    }
    reasons.extend(changes.into_iter().take(3).map(|(_, text)| text));
    if before.0.quadrant != after.0.quadrant {
        reasons.push(format!(
            "quadrant {} -> {}",
            before.0.quadrant.map_or("none", Quadrant::as_str),
            after.0.quadrant.map_or("none", Quadrant::as_str)
        ));
    }
    reasons
}

/// The customers the scope sees whose grade, ABC class, quadrant or tier differ between run
/// `before` and run `after`, in customer order after `after_customer`.
pub fn compare(
    conn: &mut DbConnection,
    before: &Run,
    after: &Run,
    scope: &Scope,
    after_customer: Option<Uuid>,
    limit: usize,
) -> Result<Vec<Movement>, StoreError> {
    const SCAN: i64 = 1000;
    let scoring = |conn: &mut DbConnection,
                   run: &Run|
     -> Result<(SegmentationPolicy, ScoreContext), StoreError> {
        let policy = run_policy(conn, run)?;
        let context = score_context(conn, run, &policy)?;
        Ok((policy, context))
    };
    let (before_policy, before_context) = scoring(conn, before)?;
    let (after_policy, after_context) = scoring(conn, after)?;
    let mut found = Vec::new();
    let mut cursor = after_customer.map(|c| c.to_string());
    loop {
        let mut query = results_table::table
            .filter(results_table::run_id.eq(after.id.to_string()))
            .into_boxed::<MultiBackend>();
        of_visible_customers!(query, results_table::customer_id, scope);
        if let Some(cursor) = &cursor {
            query = query.filter(results_table::customer_id.gt(cursor.clone()));
        }
        let page = query
            .order(results_table::customer_id.asc())
            .limit(SCAN)
            .select((result_columns!(), results_table::detail))
            .load::<(ResultRow, String)>(conn)?;
        let Some(last) = page.last().map(|(row, _)| row.0.clone()) else {
            return Ok(found);
        };
        let ids: Vec<String> = page.iter().map(|(row, _)| row.0.clone()).collect();
        let earlier: std::collections::HashMap<String, (ResultRow, String)> = results_table::table
            .filter(results_table::run_id.eq(before.id.to_string()))
            .filter(results_table::customer_id.eq_any(&ids))
            .select((result_columns!(), results_table::detail))
            .load::<(ResultRow, String)>(conn)?
            .into_iter()
            .map(|(row, detail)| (row.0.clone(), (row, detail)))
            .collect();
        let full = page.len() == SCAN as usize;
        for (row, detail) in page {
            let Some((old_row, old_detail)) = earlier.get(&row.0).cloned() else {
                continue;
            };
            let (new, old) = (from_row(row)?, from_row(old_row)?);
            if !moved(&old, &new) {
                continue;
            }
            let new_detail: Detail = serde_json::from_str(&detail)?;
            let old_detail: Detail = serde_json::from_str(&old_detail)?;
            found.push(Movement {
                customer_id: new.customer_id,
                reasons: reasons(
                    (
                        &old,
                        &score::score(&before_policy.score, &old_detail.facts, &before_context),
                    ),
                    (
                        &new,
                        &score::score(&after_policy.score, &new_detail.facts, &after_context),
                    ),
                ),
                before: old,
                after: new,
            });
            if found.len() == limit {
                return Ok(found);
            }
        }
        if !full {
            return Ok(found);
        }
        cursor = Some(last);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lifetime_value_stored_with_a_nan_reads_as_none() {
        let detail = Detail {
            facts: ScoreFacts::default(),
            rfm: None,
            clv: Some(Clv {
                frequency: 0,
                recency: 0.0,
                t: 0.0,
                p_alive: 1.0,
                churn_probability: 0.0,
                expected_purchases: f64::NAN,
                expected_spend: None,
                clv: None,
            }),
            churn_risk: false,
        };
        // serde_json writes a NaN as null, which no f64 reads.
        let stored = serde_json::to_string(&detail).unwrap();
        assert!(stored.contains("\"expected_purchases\":null"), "{stored}");
        let read: Detail = serde_json::from_str(&stored).unwrap();
        assert_eq!(read.clv, None);
        let sound = Detail {
            clv: detail.clv.map(|clv| Clv {
                expected_purchases: 1.5,
                ..clv
            }),
            ..detail
        };
        let read: Detail = serde_json::from_str(&serde_json::to_string(&sound).unwrap()).unwrap();
        assert_eq!(read, sound);
    }
}
