//! The reports that read the ledger as of a day, summed by the database: ageing, the
//! allowance's balances (ageing on the invoice basis) and the "double ten".

use std::collections::HashMap;

use chrono::NaiveDate;
use credo_core::{Currency, Scope};
use credo_receivables::ageing::{Basis, BucketAmounts, Buckets, GroupBy};
use credo_receivables::collection::{CollectionFacts, CountBackMonth};
use diesel::prelude::*;
use uuid::Uuid;

use crate::aggregate::{Bind, RawSql};
use crate::convert::parse_id;
use crate::{DbConnection, StoreError};

/// The part of the ledger a report reads: one currency, as of one day, within the caller's
/// scope, optionally one customer or the items of one sales unit.
#[derive(Debug, Clone)]
pub struct LedgerSlice {
    pub scope: Scope,
    pub as_of: NaiveDate,
    pub currency: Currency,
    pub customer_id: Option<Uuid>,
    pub sales_unit_id: Option<Uuid>,
}

/// Writes `WITH open_items AS (SELECT <columns>, <open amount> AS open_minor FROM
/// receivables r WHERE ...)`: the slice's items open as of its day, each with what was open
/// of it then (its amount less the reductions dated on or before the day). `columns` writes
/// the columns before the open amount, reading `r`. `None` when the scope sees nothing.
fn with_open_items(
    sql: &mut RawSql,
    slice: &LedgerSlice,
    columns: impl FnOnce(&mut RawSql),
) -> Option<()> {
    sql.push("WITH open_items AS (SELECT ");
    columns(sql);
    let as_of = sql.bind(Bind::Date(slice.as_of));
    sql.push(&format!(
        ", r.amount_minor - COALESCE((SELECT SUM(d.amount_minor) FROM receivable_reductions d \
         WHERE d.receivable_id = r.id AND d.reduced_on <= {as_of}), 0) AS open_minor \
         FROM receivables r \
         WHERE r.issued_on <= {as_of} AND (r.settled_on IS NULL OR r.settled_on > {as_of})"
    ));
    push_slice_filter(sql, slice)?;
    sql.push(")");
    Some(())
}

/// Writes the conditions on `r` (the receivables) that keep to the slice's currency, the
/// caller's scope and the customer or unit asked for; `None` when the scope sees nothing.
fn push_slice_filter(sql: &mut RawSql, slice: &LedgerSlice) -> Option<()> {
    let currency = sql.bind(Bind::Text(slice.currency.as_str().to_owned()));
    sql.push(&format!(" AND r.currency = {currency}"));
    match slice.scope {
        Scope::All => {}
        Scope::Unit(None) => return None,
        Scope::Unit(Some(unit)) => {
            let unit = sql.bind(Bind::Text(unit.to_string()));
            sql.push(&format!(
                " AND r.customer_id IN (SELECT id FROM customers WHERE sales_unit_id = {unit})"
            ));
        }
        Scope::Owner(owner) => {
            let owner = sql.bind(Bind::Text(owner.to_string()));
            sql.push(&format!(
                " AND r.customer_id IN (SELECT id FROM customers WHERE owner_id = {owner})"
            ));
        }
    }
    if let Some(customer) = slice.customer_id {
        let customer = sql.bind(Bind::Text(customer.to_string()));
        sql.push(&format!(" AND r.customer_id = {customer}"));
    }
    if let Some(unit) = slice.sales_unit_id {
        let unit = sql.bind(Bind::Text(unit.to_string()));
        sql.push(&format!(" AND r.sales_unit_id = {unit}"));
    }
    Some(())
}

/// What the collection metrics of the period from `from` to the slice's day read: the
/// balances open the day before `from` and at the end (with what of it was not yet due),
/// and the sales invoiced in the period and in each count-back month.
pub fn collection_facts(
    conn: &mut DbConnection,
    slice: &LedgerSlice,
    from: NaiveDate,
    months: &[CountBackMonth],
) -> Result<CollectionFacts, StoreError> {
    let totals = |conn: &mut DbConnection, slice: LedgerSlice| {
        let query = AgeingQuery {
            slice,
            basis: Basis::Due,
            buckets: Buckets::default(),
            group_by: GroupBy::Customer,
            after: None,
            // Only the totals: no group is read.
            limit: 0,
        };
        ageing(conn, &query).map(|report| report.totals)
    };
    let opening = totals(
        conn,
        LedgerSlice {
            as_of: from.pred_opt().unwrap_or(from),
            ..slice.clone()
        },
    )?;
    let closing = totals(conn, slice.clone())?;
    let closing_minor = closing.outstanding();
    // The first bucket on the due basis is what is not yet due.
    let closing_current_minor = closing.into_vec()[0];
    let invoiced_minor = invoiced(conn, slice, &[(from, slice.as_of)])?[0];
    let month_ranges: Vec<(NaiveDate, NaiveDate)> = months
        .iter()
        .map(|m| {
            (
                m.first_day,
                m.first_day + chrono::Days::new(u64::from(m.days) - 1),
            )
        })
        .collect();
    Ok(CollectionFacts {
        opening_minor: opening.outstanding(),
        invoiced_minor,
        closing_minor,
        closing_current_minor,
        monthly_invoiced_minor: invoiced(conn, slice, &month_ranges)?,
    })
}

#[derive(QueryableByName)]
struct InvoicedRow {
    #[diesel(sql_type = diesel::sql_types::Integer)]
    slot: i32,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    amount: i64,
}

/// The amounts the slice invoiced within each of `ranges` (first and last day, inclusive,
/// not overlapping), summed by the database.
fn invoiced(
    conn: &mut DbConnection,
    slice: &LedgerSlice,
    ranges: &[(NaiveDate, NaiveDate)],
) -> Result<Vec<i64>, StoreError> {
    let mut amounts = vec![0; ranges.len()];
    let (Some(first), Some(last)) = (
        ranges.iter().map(|r| r.0).min(),
        ranges.iter().map(|r| r.1).max(),
    ) else {
        return Ok(amounts);
    };
    let mut sql = RawSql::default();
    sql.push("SELECT slot, CAST(SUM(amount_minor) AS BIGINT) AS amount FROM (SELECT CASE");
    for (slot, (from, to)) in ranges.iter().enumerate() {
        let (from, to) = (sql.bind(Bind::Date(*from)), sql.bind(Bind::Date(*to)));
        sql.push(&format!(
            " WHEN r.issued_on >= {from} AND r.issued_on <= {to} THEN {slot}"
        ));
    }
    let (first, last) = (sql.bind(Bind::Date(first)), sql.bind(Bind::Date(last)));
    sql.push(&format!(
        " END AS slot, r.amount_minor FROM receivables r \
         WHERE r.issued_on >= {first} AND r.issued_on <= {last}"
    ));
    if push_slice_filter(&mut sql, slice).is_none() {
        return Ok(amounts);
    }
    sql.push(") invoiced WHERE slot IS NOT NULL GROUP BY slot");
    for row in sql.load::<InvoicedRow>(conn)? {
        let slot = usize::try_from(row.slot)
            .ok()
            .filter(|slot| *slot < amounts.len())
            .ok_or_else(|| StoreError::Internal(format!("invoiced slot {}", row.slot)))?;
        amounts[slot] = row.amount;
    }
    Ok(amounts)
}

#[derive(Debug, Clone)]
pub struct AgeingQuery {
    pub slice: LedgerSlice,
    pub basis: Basis,
    pub buckets: Buckets,
    pub group_by: GroupBy,
    /// After this (outstanding, group key), groups running by outstanding descending.
    pub after: Option<(i64, String)>,
    pub limit: i64,
}

/// One group of an ageing report: its key (a customer, unit or owner id; empty for items
/// issued outside any unit) and its amounts by bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgeingGroup {
    pub key: String,
    pub buckets: BucketAmounts,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgeingReport {
    /// The page of groups, largest outstanding first, then by key.
    pub groups: Vec<AgeingGroup>,
    /// Every group's amounts together, whatever the page.
    pub totals: BucketAmounts,
}

#[derive(QueryableByName)]
struct AgeingRow {
    /// 0 for a group's bucket, 1 for the report's.
    #[diesel(sql_type = diesel::sql_types::Integer)]
    part: i32,
    #[diesel(sql_type = diesel::sql_types::Text)]
    group_key: String,
    #[diesel(sql_type = diesel::sql_types::Integer)]
    bucket: i32,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    amount: i64,
}

/// The ageing report of `q.slice`, summed by the database: each item's open amount as of
/// the day in the bucket its anchor day falls in by `Buckets::lower_bounds`, by group, the page of groups ordered and cut there,
/// and the totals over every group. No item row leaves the database.
pub fn ageing(conn: &mut DbConnection, q: &AgeingQuery) -> Result<AgeingReport, StoreError> {
    let count = q.buckets.count(q.basis);
    let empty = AgeingReport {
        groups: Vec::new(),
        totals: BucketAmounts::zero(count),
    };
    let mut sql = RawSql::default();
    let group = match q.group_by {
        GroupBy::Customer => "r.customer_id",
        GroupBy::SalesUnit => "COALESCE(r.sales_unit_id, '')",
        GroupBy::Owner => "r.owner_id",
    };
    let anchor = match q.basis {
        Basis::Due => "r.due_on",
        Basis::Invoice => "r.issued_on",
    };
    let bounds = q.buckets.lower_bounds(q.basis, q.slice.as_of);
    let written = with_open_items(&mut sql, &q.slice, |sql| {
        sql.push(&format!("{group} AS group_key, CASE"));
        for (bucket, bound) in bounds.iter().enumerate() {
            let bound = sql.bind(Bind::Date(*bound));
            sql.push(&format!(" WHEN {anchor} >= {bound} THEN {bucket}"));
        }
        sql.push(&format!(" ELSE {} END AS bucket", bounds.len()));
    });
    if written.is_none() {
        return Ok(empty);
    }
    sql.push(
        ", per_bucket AS (SELECT group_key, bucket, SUM(open_minor) AS amount \
         FROM open_items GROUP BY group_key, bucket), \
         per_group AS (SELECT group_key, SUM(amount) AS outstanding FROM per_bucket \
         GROUP BY group_key), \
         page AS (SELECT group_key, outstanding FROM per_group WHERE outstanding > 0",
    );
    if let Some((outstanding, key)) = &q.after {
        let outstanding = sql.bind(Bind::BigInt(*outstanding));
        let key = sql.bind(Bind::Text(key.clone()));
        sql.push(&format!(
            " AND (outstanding < {outstanding} OR (outstanding = {outstanding} AND group_key > {key}))"
        ));
    }
    let limit = sql.bind(Bind::BigInt(q.limit));
    sql.push(&format!(
        " ORDER BY outstanding DESC, group_key LIMIT {limit}) \
         SELECT 0 AS part, p.group_key, b.bucket, CAST(b.amount AS BIGINT) AS amount, \
         CAST(p.outstanding AS BIGINT) AS outstanding \
         FROM page p JOIN per_bucket b ON b.group_key = p.group_key \
         UNION ALL \
         SELECT 1, '', bucket, CAST(SUM(amount) AS BIGINT), 0 FROM per_bucket GROUP BY bucket \
         ORDER BY 1, 5 DESC, 2, 3"
    ));
    let mut report = empty;
    for row in sql.load::<AgeingRow>(conn)? {
        let bucket = usize::try_from(row.bucket)
            .ok()
            .filter(|b| *b < count)
            .ok_or_else(|| StoreError::Internal(format!("bucket {} of {count}", row.bucket)))?;
        if row.part == 1 {
            report.totals.add(bucket, row.amount);
            continue;
        }
        if report.groups.last().is_none_or(|g| g.key != row.group_key) {
            report.groups.push(AgeingGroup {
                key: row.group_key,
                buckets: BucketAmounts::zero(count),
            });
        }
        let group = report.groups.last_mut().expect("pushed");
        group.buckets.add(bucket, row.amount);
    }
    Ok(report)
}

/// The names of an ageing page's groups by key: a customer's legal name, a unit's name, a
/// user's display name.
pub fn group_names(
    conn: &mut DbConnection,
    group_by: GroupBy,
    keys: &[String],
) -> Result<HashMap<String, String>, StoreError> {
    use crate::schema::{customers, sales_units, users};
    let named: Vec<(String, String)> = match group_by {
        GroupBy::Customer => customers::table
            .filter(customers::id.eq_any(keys))
            .select((customers::id, customers::legal_name))
            .load(conn)?,
        GroupBy::SalesUnit => sales_units::table
            .filter(sales_units::id.eq_any(keys))
            .select((sales_units::id, sales_units::name))
            .load(conn)?,
        GroupBy::Owner => users::table
            .filter(users::id.eq_any(keys))
            .select((users::id, users::display_name))
            .load(conn)?,
    };
    Ok(named.into_iter().collect())
}

/// A customer's place in a "double ten" list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerStanding {
    pub customer_id: Uuid,
    pub outstanding_minor: i64,
    /// The due day of its oldest item past due on the day; `None` when nothing is.
    pub oldest_due_on: Option<NaiveDate>,
}

/// Seed 004's "double ten": the ten customers with the largest outstanding and the ten with
/// the oldest overdue item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DoubleTen {
    pub largest: Vec<CustomerStanding>,
    pub oldest: Vec<CustomerStanding>,
}

/// How many customers each "double ten" list holds.
pub const DOUBLE_TEN: i64 = 10;

#[derive(QueryableByName)]
struct StandingRow {
    /// 0 for the largest, 1 for the oldest.
    #[diesel(sql_type = diesel::sql_types::Integer)]
    part: i32,
    #[diesel(sql_type = diesel::sql_types::Text)]
    customer_id: String,
    #[diesel(sql_type = diesel::sql_types::BigInt)]
    outstanding: i64,
    #[diesel(sql_type = diesel::sql_types::Nullable<diesel::sql_types::Date>)]
    oldest_due: Option<NaiveDate>,
}

/// The "double ten" of `slice`, summed by the database.
pub fn double_ten(conn: &mut DbConnection, slice: &LedgerSlice) -> Result<DoubleTen, StoreError> {
    let mut lists = DoubleTen {
        largest: Vec::new(),
        oldest: Vec::new(),
    };
    let mut sql = RawSql::default();
    let columns = |sql: &mut RawSql| {
        sql.push("r.customer_id, r.due_on");
    };
    if with_open_items(&mut sql, slice, columns).is_none() {
        return Ok(lists);
    }
    let as_of = sql.bind(Bind::Date(slice.as_of));
    let ten = sql.bind(Bind::BigInt(DOUBLE_TEN));
    sql.push(&format!(
        ", per_customer AS (SELECT customer_id, \
         MIN(CASE WHEN due_on < {as_of} THEN due_on END) AS oldest_due, \
         SUM(open_minor) AS outstanding FROM open_items GROUP BY customer_id) \
         SELECT 0 AS part, customer_id, CAST(outstanding AS BIGINT) AS outstanding, oldest_due \
         FROM (SELECT * FROM per_customer WHERE outstanding > 0 \
         ORDER BY outstanding DESC, customer_id LIMIT {ten}) largest \
         UNION ALL \
         SELECT 1, customer_id, CAST(outstanding AS BIGINT), oldest_due \
         FROM (SELECT * FROM per_customer WHERE oldest_due IS NOT NULL \
         ORDER BY oldest_due, customer_id LIMIT {ten}) oldest"
    ));
    for row in sql.load::<StandingRow>(conn)? {
        let standing = CustomerStanding {
            customer_id: parse_id(&row.customer_id)?,
            outstanding_minor: row.outstanding,
            oldest_due_on: row.oldest_due,
        };
        match row.part {
            0 => lists.largest.push(standing),
            _ => lists.oldest.push(standing),
        }
    }
    // The union keeps no order: each list is sorted as its query was.
    lists.largest.sort_by(|a, b| {
        (b.outstanding_minor, a.customer_id).cmp(&(a.outstanding_minor, b.customer_id))
    });
    lists
        .oldest
        .sort_by_key(|s| (s.oldest_due_on, s.customer_id));
    Ok(lists)
}
