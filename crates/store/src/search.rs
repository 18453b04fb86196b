//! Substring search over names. PostgreSQL answers `search_key LIKE '%q%'` from pg_trgm GIN
//! indexes; SQLite has no such index type, so there an FTS5 trigram table mirrors every
//! customer's and live contact's search key, written here in the same transaction.

use diesel::dsl::sql;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Bool, Nullable, Text};
use uuid::Uuid;

use crate::db::MultiBackend;
use crate::{DbConnection, StoreError};

#[derive(QueryableByName)]
struct RowId {
    #[diesel(sql_type = Nullable<BigInt>)]
    row_id: Option<i64>,
}

/// Puts `text` in the index as the entry of `source_id` (a customer or contact id) for
/// `customer_id`, replacing its previous entry; `None` removes the entry. No-op on PostgreSQL.
pub(crate) fn index(
    conn: &mut DbConnection,
    source_id: Uuid,
    customer_id: Uuid,
    text: Option<&str>,
) -> Result<(), StoreError> {
    let DbConnection::Sqlite(conn) = conn else {
        return Ok(());
    };
    let source = source_id.to_string();
    let existing = diesel::sql_query("SELECT row_id FROM name_search_rows WHERE source_id = ?")
        .bind::<Text, _>(&source)
        .get_result::<RowId>(conn)
        .optional()?
        .and_then(|r| r.row_id);
    if let Some(row) = existing {
        diesel::sql_query("DELETE FROM name_search WHERE rowid = ?")
            .bind::<BigInt, _>(row)
            .execute(conn)?;
        diesel::sql_query("DELETE FROM name_search_rows WHERE source_id = ?")
            .bind::<Text, _>(&source)
            .execute(conn)?;
    }
    let Some(text) = text else { return Ok(()) };
    // Writers are serialised by SQLite, so the next free row id is stable here.
    let next =
        diesel::sql_query("SELECT COALESCE(MAX(row_id), 0) + 1 AS row_id FROM name_search_rows")
            .get_result::<RowId>(conn)?
            .row_id
            .unwrap_or(1);
    diesel::sql_query("INSERT INTO name_search (rowid, customer_id, text) VALUES (?, ?, ?)")
        .bind::<BigInt, _>(next)
        .bind::<Text, _>(customer_id.to_string())
        .bind::<Text, _>(text)
        .execute(conn)?;
    diesel::sql_query("INSERT INTO name_search_rows (source_id, row_id) VALUES (?, ?)")
        .bind::<Text, _>(&source)
        .bind::<BigInt, _>(next)
        .execute(conn)?;
    Ok(())
}

/// `LIKE` pattern matching `text` anywhere, and whether it needs `ESCAPE '\'` (FTS5 only uses
/// its index for patterns without an ESCAPE clause).
pub(crate) fn contains_pattern(text: &str) -> (String, bool) {
    let mut pattern = String::with_capacity(text.len() + 2);
    let mut escaped = false;
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
            escaped = true;
        }
        pattern.push(c);
    }
    pattern.push('%');
    (pattern, escaped)
}

/// A condition on `customers` that holds when a customer's or a live contact's name contains
/// `text` (already folded with `credo_core::text::search_key`).
pub(crate) fn names_contain(
    backend: crate::Backend,
    text: &str,
) -> Box<dyn BoxableExpression<crate::schema::customers::table, MultiBackend, SqlType = Bool>> {
    use crate::schema::{contacts, customers};
    let (pattern, escaped) = contains_pattern(text);
    match backend {
        crate::Backend::Postgres => {
            let by_contact = contacts::table
                .filter(contacts::search_key.like(pattern.clone()).escape('\\'))
                .filter(contacts::archived_at.is_null())
                .select(contacts::customer_id);
            Box::new(
                customers::search_key
                    .like(pattern)
                    .escape('\\')
                    .or(customers::id.eq_any(by_contact)),
            )
        }
        crate::Backend::Sqlite => {
            let escape = if escaped { " ESCAPE '\\'" } else { "" };
            Box::new(
                sql::<Bool>(
                    "customers.id IN (SELECT customer_id FROM name_search WHERE text LIKE ",
                )
                .bind::<Text, _>(pattern)
                .sql(&format!("{escape})")),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_escape_wildcards_only_when_present() {
        assert_eq!(contains_pattern("华强"), ("%华强%".to_owned(), false));
        assert_eq!(contains_pattern("50%_x"), ("%50\\%\\_x%".to_owned(), true));
    }
}
