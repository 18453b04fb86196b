//! Names are found and compared by keys that `credo_core::text::search_key` computes, stored
//! beside the names. When that rule changes, keys stored under the old one would miss
//! duplicates and searches: they are recomputed once, at start, and the rule recorded.

use diesel::prelude::*;

use crate::db::{lock_key, write_transaction};
use crate::schema::name_key_rule;
use crate::{contacts, customers, leads, DbConnection, StoreError};

/// The rule `search_key` implements now. 1: full-width folding and lower case; 2: NFKC,
/// format characters dropped.
const CURRENT_RULE: i64 = 2;

/// Recomputes every stored name key if they were computed by an older rule; answers how
/// many rows changed. Instances starting together take turns; the first does the work.
pub fn refold_if_stale(conn: &mut DbConnection) -> Result<usize, StoreError> {
    write_transaction(conn, |conn| {
        lock_key(conn, "name_key_rule")?;
        let stored: i64 = name_key_rule::table
            .select(name_key_rule::version)
            .first(conn)?;
        if stored >= CURRENT_RULE {
            return Ok(0);
        }
        let changed = customers::refold_keys(conn)?
            + contacts::refold_keys(conn)?
            + leads::refold_keys(conn)?;
        diesel::update(name_key_rule::table)
            .set(name_key_rule::version.eq(CURRENT_RULE))
            .execute(conn)?;
        Ok(changed)
    })
}
