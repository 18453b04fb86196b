//! Month-end ageing snapshots per sales unit: the ageing report as of a month's last day,
//! kept as the ledger read when it was taken, so the trend shows what was reported then.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use credo_core::{Currency, Scope};
use credo_receivables::ageing::{Basis, Buckets, GroupBy};
use diesel::prelude::*;
use uuid::Uuid;

use super::reports::{ageing, AgeingQuery, LedgerSlice};
use crate::convert::{from_db_time, parse_currency, parse_optional_id, to_db_time};
use crate::db::{lock_key, write_transaction, Outcome};
use crate::schema::ageing_snapshots;
use crate::{now, DbConnection, StoreError};

/// More sales units than a company has: one snapshot holds them all.
const UNITS_MAX: i64 = 10_000;

/// One sales unit's ageing at a month end.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub month_end: NaiveDate,
    pub currency: Currency,
    /// `None` for the items issued outside any sales unit.
    pub sales_unit_id: Option<Uuid>,
    pub buckets: Buckets,
    pub buckets_minor: Vec<i64>,
    pub outstanding_minor: i64,
    pub taken_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = ageing_snapshots)]
struct Row {
    month_end: NaiveDate,
    currency: String,
    sales_unit_key: String,
    bucket_limits: String,
    buckets_minor: String,
    outstanding_minor: i64,
    taken_at: NaiveDateTime,
}

impl Row {
    fn into_snapshot(self) -> Result<Snapshot, StoreError> {
        let unit = Some(self.sales_unit_key.as_str()).filter(|key| !key.is_empty());
        Ok(Snapshot {
            month_end: self.month_end,
            currency: parse_currency(&self.currency)?,
            sales_unit_id: parse_optional_id(unit)?,
            buckets: Buckets::parse(&self.bucket_limits).map_err(|error| {
                StoreError::Internal(format!("stored bucket limits: {}", error.message))
            })?,
            buckets_minor: serde_json::from_str(&self.buckets_minor)?,
            outstanding_minor: self.outstanding_minor,
            taken_at: from_db_time(self.taken_at),
        })
    }
}

/// What taking a month's snapshot came to.
#[derive(Debug)]
pub enum Taken {
    Taken(Vec<Snapshot>),
    /// The month was taken before: its snapshot stands.
    Existing(Vec<Snapshot>),
}

impl Outcome for Taken {}

/// Takes the ageing snapshot of every sales unit as of `month_end` in `currency`, once: a
/// month taken before answers what was taken then.
pub fn take_snapshot(
    conn: &mut DbConnection,
    month_end: NaiveDate,
    currency: Currency,
) -> Result<Taken, StoreError> {
    write_transaction(conn, |conn| {
        lock_key(
            conn,
            &format!("ageing_snapshot:{month_end}:{}", currency.as_str()),
        )?;
        let existing = month(conn, month_end, currency)?;
        if !existing.is_empty() {
            return Ok(Taken::Existing(existing));
        }
        let buckets = Buckets::default();
        let query = AgeingQuery {
            slice: LedgerSlice {
                scope: Scope::All,
                as_of: month_end,
                currency,
                customer_id: None,
                sales_unit_id: None,
            },
            basis: Basis::Due,
            buckets: buckets.clone(),
            group_by: GroupBy::SalesUnit,
            after: None,
            limit: UNITS_MAX,
        };
        let taken_at = to_db_time(now());
        let limits = buckets
            .limits()
            .iter()
            .map(u32::to_string)
            .collect::<Vec<_>>()
            .join(",");
        for group in ageing(conn, &query)?.groups {
            let outstanding_minor = group.buckets.outstanding();
            diesel::insert_into(ageing_snapshots::table)
                .values(Row {
                    month_end,
                    currency: currency.as_str().to_owned(),
                    sales_unit_key: group.key,
                    bucket_limits: limits.clone(),
                    buckets_minor: serde_json::to_string(&group.buckets.into_vec())?,
                    outstanding_minor,
                    taken_at,
                })
                .execute(conn)?;
        }
        Ok(Taken::Taken(month(conn, month_end, currency)?))
    })
}

fn month(
    conn: &mut DbConnection,
    month_end: NaiveDate,
    currency: Currency,
) -> Result<Vec<Snapshot>, StoreError> {
    trend(conn, month_end, month_end, currency, None)
}

/// The snapshots of the month ends from `first` to `last` in `currency`, of one sales unit
/// when `unit` is given (`Some(None)`: the items outside any unit), by month then unit.
pub fn trend(
    conn: &mut DbConnection,
    first: NaiveDate,
    last: NaiveDate,
    currency: Currency,
    unit: Option<Option<Uuid>>,
) -> Result<Vec<Snapshot>, StoreError> {
    let mut query = ageing_snapshots::table
        .filter(ageing_snapshots::month_end.ge(first))
        .filter(ageing_snapshots::month_end.le(last))
        .filter(ageing_snapshots::currency.eq(currency.as_str().to_owned()))
        .select(Row::as_select())
        .order((
            ageing_snapshots::month_end,
            ageing_snapshots::sales_unit_key,
        ))
        .into_boxed::<crate::db::MultiBackend>();
    if let Some(unit) = unit {
        let key = unit.map(|u| u.to_string()).unwrap_or_default();
        query = query.filter(ageing_snapshots::sales_unit_key.eq(key));
    }
    query
        .load::<Row>(conn)?
        .into_iter()
        .map(Row::into_snapshot)
        .collect()
}
