//! Aggregates computed in SQL, the same on both backends, so that no report loads rows it
//! only adds up.

use diesel::dsl::sql;
use diesel::expression::SqlLiteral;
use diesel::sql_types::BigInt;

/// The sum of a BIGINT column, 0 over no rows, as BIGINT: PostgreSQL sums BIGINT into
/// NUMERIC, which would not read back as `i64`.
pub fn sum(column: &'static str) -> SqlLiteral<BigInt> {
    sql::<BigInt>(&format!("CAST(COALESCE(SUM({column}), 0) AS BIGINT)"))
}
