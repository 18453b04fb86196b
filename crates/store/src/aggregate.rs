//! Aggregates computed in SQL, the same on both backends, so that no report loads rows it
//! only adds up; and keyset batches for the reports that must see every row.

use chrono::NaiveDate;
use diesel::dsl::sql;
use diesel::expression::is_contained_in_group_by;
use diesel::expression::{AppearsOnTable, SelectableExpression, SqlLiteral};
use diesel::expression::{Expression, IsContainedInGroupBy, ValidGrouping};
use diesel::query_builder::{AstPass, QueryFragment, QueryId};
use diesel::sql_types::{BigInt, Date, Integer, Text};
use diesel::{QueryResult, QueryableByName, RunQueryDsl};

use crate::db::{DbConnection, MultiBackend};
use crate::StoreError;

/// The sum of a BIGINT column, 0 over no rows, as BIGINT: PostgreSQL sums BIGINT into
/// NUMERIC, which would not read back as `i64`.
pub fn sum(column: &'static str) -> SqlLiteral<BigInt> {
    sql::<BigInt>(&format!("CAST(COALESCE(SUM({column}), 0) AS BIGINT)"))
}

/// The bucket a date column falls in, by the database: 0 when the date is on or after
/// `edges[0]`, `i` when it is on or after `edges[i]` (and before the edges above), and
/// `edges.len()` when it is before them all. Edges run from the newest day down, and are
/// bound as parameters, so one expression compares dates on both backends (ISO text on
/// SQLite, `date` on PostgreSQL). An ageing report's buckets are `as_of` minus each day
/// limit; group by the bucket and sum.
///
/// Select it as `min(bucket)`: PostgreSQL numbers the edges bound in the GROUP BY apart from
/// those bound in the SELECT and would not see one expression in both; every row of a group
/// has the one bucket, so its minimum is the bucket.
#[derive(Debug, Clone)]
pub struct DateBucket<C> {
    column: C,
    edges: Vec<NaiveDate>,
}

impl<C> DateBucket<C> {
    /// `edges` in descending order.
    pub fn new(column: C, edges: Vec<NaiveDate>) -> Self {
        debug_assert!(edges.windows(2).all(|w| w[0] > w[1]), "edges descend");
        Self { column, edges }
    }

    /// How many buckets there are: one past each edge and one before them all.
    pub fn count(&self) -> usize {
        self.edges.len() + 1
    }
}

impl<C: Expression<SqlType = Date>> Expression for DateBucket<C> {
    type SqlType = Integer;
}

impl<C, QS> AppearsOnTable<QS> for DateBucket<C> where C: AppearsOnTable<QS, SqlType = Date> {}

impl<C, QS> SelectableExpression<QS> for DateBucket<C> where
    C: SelectableExpression<QS, SqlType = Date>
{
}

impl<C: ValidGrouping<GB>, GB> ValidGrouping<GB> for DateBucket<C> {
    type IsAggregate = C::IsAggregate;
}

/// As one expression of a GROUP BY, it holds no column by itself: the columns beside it
/// must be grouped too.
impl<C, Column> IsContainedInGroupBy<Column> for DateBucket<C> {
    type Output = is_contained_in_group_by::No;
}

impl<C> QueryId for DateBucket<C> {
    type QueryId = ();
    const HAS_STATIC_QUERY_ID: bool = false;
}

impl<C: QueryFragment<MultiBackend>> QueryFragment<MultiBackend> for DateBucket<C> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, MultiBackend>) -> QueryResult<()> {
        out.push_sql("(CASE");
        for (bucket, edge) in self.edges.iter().enumerate() {
            out.push_sql(" WHEN ");
            self.column.walk_ast(out.reborrow())?;
            out.push_sql(" >= ");
            out.push_bind_param::<Date, _>(edge)?;
            out.push_sql(&format!(" THEN {bucket}"));
        }
        out.push_sql(&format!(" ELSE {} END)", self.edges.len()));
        Ok(())
    }
}

/// Reads rows in batches ordered by a unique key, each batch the rows after the last key of
/// the one before (keyset, never OFFSET), and hands each batch to `visit`: a report over a
/// large table holds one batch in memory at a time, and each read is an index range scan.
/// `page(conn, after, size)` reads the next at most `size` rows after `after`, in key
/// order.
pub fn for_each_batch<R, K>(
    conn: &mut DbConnection,
    size: i64,
    mut page: impl FnMut(&mut DbConnection, Option<&K>, i64) -> Result<Vec<R>, StoreError>,
    key: impl Fn(&R) -> K,
    mut visit: impl FnMut(Vec<R>) -> Result<(), StoreError>,
) -> Result<(), StoreError> {
    let mut after = None;
    loop {
        let rows = page(conn, after.as_ref(), size)?;
        let full = rows.len() as i64 >= size;
        match rows.last() {
            Some(last) => after = Some(key(last)),
            None => return Ok(()),
        }
        visit(rows)?;
        if !full {
            return Ok(());
        }
    }
}

/// A value bound to a raw SQL query.
#[derive(Debug, Clone)]
pub enum Bind {
    Text(String),
    Date(NaiveDate),
    BigInt(i64),
}

/// Raw SQL for the reports the query builder cannot say (common table expressions, a window
/// over groups), with `$n` placeholders: PostgreSQL's own, and SQLite's named parameters,
/// which it numbers in order of first appearance, as `bind` hands them out.
#[derive(Debug, Default)]
pub struct RawSql {
    sql: String,
    binds: Vec<Bind>,
}

impl RawSql {
    pub fn push(&mut self, sql: &str) -> &mut Self {
        self.sql.push_str(sql);
        self
    }

    /// The placeholder of a new parameter bound to `value`, to write into the SQL next.
    pub fn bind(&mut self, value: Bind) -> String {
        self.binds.push(value);
        format!("${}", self.binds.len())
    }

    /// Runs the query and reads its rows by column name.
    pub fn load<R>(self, conn: &mut DbConnection) -> Result<Vec<R>, StoreError>
    where
        R: QueryableByName<diesel::pg::Pg> + QueryableByName<diesel::sqlite::Sqlite> + 'static,
    {
        macro_rules! run {
            ($backend:ty, $conn:expr) => {{
                let mut query = diesel::sql_query(self.sql).into_boxed::<$backend>();
                for value in self.binds {
                    query = match value {
                        Bind::Text(text) => query.bind::<Text, _>(text),
                        Bind::Date(day) => query.bind::<Date, _>(day),
                        Bind::BigInt(number) => query.bind::<BigInt, _>(number),
                    };
                }
                query.load::<R>($conn)?
            }};
        }
        Ok(match conn {
            DbConnection::Postgres(pg) => run!(diesel::pg::Pg, pg),
            DbConnection::Sqlite(lite) => run!(diesel::sqlite::Sqlite, lite),
        })
    }
}
