//! The change feed's entries, written by triggers (see the `changes` migration) in the
//! transaction of every write of a record a field app syncs, and read in an order no later
//! commit can go before.
//!
//! SQLite commits one writer at a time, so entries are read in `seq` order. On PostgreSQL a
//! sequence value is taken before its transaction commits, so a later-committing writer can
//! hold a smaller `seq` than one already read: entries are read in (writing transaction,
//! `seq`) order, and only those of transactions older than the oldest one still running, all
//! of which have ended. An entry held back that way is served once its writer has ended.

use chrono::{DateTime, NaiveDateTime, Utc};
use credo_core::feed::{ChangeScope, FeedOp, FeedType};
use credo_core::Scope;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Timestamp};
use uuid::Uuid;

use crate::convert::{from_db_time, parse_id, parse_name, parse_optional_id, to_db_time};
use crate::db::{write_transaction, MultiBackend};
use crate::schema::changes;
use crate::{settings, DbConnection, StoreError};

/// Where an entry stands in the feed's order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub txid: i64,
    pub seq: i64,
}

/// One committed change of a record.
#[derive(Debug, Clone, PartialEq)]
pub struct Entry {
    pub position: Position,
    pub entity_type: FeedType,
    pub entity_id: Uuid,
    /// The customer the record belongs to (a customer's own id).
    pub customer_id: Option<Uuid>,
    pub op: FeedOp,
    pub version: i64,
    pub scope: ChangeScope,
    pub changed_at: DateTime<Utc>,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = changes)]
struct Row {
    seq: i64,
    txid: i64,
    entity_type: String,
    entity_id: String,
    customer_id: Option<String>,
    op: String,
    version: i64,
    owner_id: Option<String>,
    unit_id: Option<String>,
    left_owner_id: Option<String>,
    left_unit_id: Option<String>,
    creator_id: Option<String>,
    changed_at: NaiveDateTime,
}

impl Row {
    fn into_entry(self) -> Result<Entry, StoreError> {
        let left = match (&self.left_owner_id, &self.left_unit_id) {
            (None, None) => None,
            (owner, unit) => Some((
                parse_optional_id(owner.as_deref())?,
                parse_optional_id(unit.as_deref())?,
            )),
        };
        Ok(Entry {
            position: Position {
                txid: self.txid,
                seq: self.seq,
            },
            entity_type: parse_name(&self.entity_type, FeedType::parse)?,
            entity_id: parse_id(&self.entity_id)?,
            customer_id: parse_optional_id(self.customer_id.as_deref())?,
            op: parse_name(&self.op, FeedOp::parse)?,
            version: self.version,
            scope: ChangeScope {
                owner_id: parse_optional_id(self.owner_id.as_deref())?,
                unit_id: parse_optional_id(self.unit_id.as_deref())?,
                left,
                creator_id: parse_optional_id(self.creator_id.as_deref())?,
            },
            changed_at: from_db_time(self.changed_at),
        })
    }
}

/// Who reads: the entries whose scopes it may have seen are read (the reader decides on
/// each record as it is now).
pub struct Reader {
    pub user_id: Uuid,
    pub scope: Scope,
}

/// Up to `limit` entries after `after` (from the start when `None`) in feed order, of the
/// given types (all when empty), whose scope, left scope or creator the reader may see.
pub fn read(
    conn: &mut DbConnection,
    after: Option<Position>,
    types: &[FeedType],
    reader: &Reader,
    limit: i64,
) -> Result<Vec<Entry>, StoreError> {
    let mut query = changes::table
        .select(Row::as_select())
        .into_boxed::<MultiBackend>();
    if let Some(after) = after {
        query = query.filter(
            changes::txid
                .gt(after.txid)
                .or(changes::txid.eq(after.txid).and(changes::seq.gt(after.seq))),
        );
    }
    if let DbConnection::Postgres(_) = conn {
        query = query.filter(changes::txid.lt(diesel::dsl::sql::<BigInt>(
            "pg_snapshot_xmin(pg_current_snapshot())::TEXT::BIGINT",
        )));
    }
    if !types.is_empty() {
        query = query.filter(changes::entity_type.eq_any(types.iter().map(|t| t.as_str())));
    }
    let me = reader.user_id.to_string();
    query = match &reader.scope {
        Scope::All => query,
        Scope::Unit(None) => query.filter(changes::creator_id.eq(me)),
        Scope::Unit(Some(unit)) => {
            let unit = unit.to_string();
            query.filter(
                changes::unit_id
                    .eq(unit.clone())
                    .or(changes::left_unit_id.eq(unit))
                    .or(changes::owner_id.eq(me.clone()))
                    .or(changes::creator_id.eq(me)),
            )
        }
        Scope::Owner(_) => query.filter(
            changes::owner_id
                .eq(me.clone())
                .or(changes::left_owner_id.eq(me.clone()))
                .or(changes::creator_id.eq(me)),
        ),
    };
    query
        .order((changes::txid.asc(), changes::seq.asc()))
        .limit(limit)
        .load::<Row>(conn)?
        .into_iter()
        .map(Row::into_entry)
        .collect()
}

/// The newest entry's `seq` (0 when there is none): it moves when anything is written.
pub fn newest(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(changes::table
        .select(diesel::dsl::max(changes::seq))
        .first::<Option<i64>>(conn)?
        .unwrap_or(0))
}

/// Entries from before `$1` that a later entry of their record supersedes, and deletions:
/// what stays is every live record's latest change, so a reader starting from the beginning
/// still finds each.
const PURGEABLE: &str = "changed_at < $1 AND (op = 'delete' OR EXISTS (\
    SELECT 1 FROM changes newer WHERE newer.entity_type = changes.entity_type \
    AND newer.entity_id = changes.entity_id AND newer.seq > changes.seq))";

/// The setting holding the newest position purged: a reader from before it may have missed
/// a deletion or a move, and must start again.
const HORIZON: &str = "changes_purged_through";

#[derive(QueryableByName)]
struct PositionRow {
    #[diesel(sql_type = BigInt)]
    txid: i64,
    #[diesel(sql_type = BigInt)]
    seq: i64,
}

/// Purges what is `PURGEABLE` from before `before` and moves the horizon past it; answers
/// how many entries went.
pub fn purge(conn: &mut DbConnection, before: DateTime<Utc>) -> Result<usize, StoreError> {
    let before = to_db_time(before);
    write_transaction(conn, |conn| {
        let newest = diesel::sql_query(format!(
            "SELECT txid, seq FROM changes WHERE {PURGEABLE} ORDER BY txid DESC, seq DESC LIMIT 1"
        ))
        .bind::<Timestamp, _>(before);
        let newest = match conn {
            DbConnection::Postgres(pg) => newest.get_result::<PositionRow>(pg).optional()?,
            DbConnection::Sqlite(lite) => newest.get_result::<PositionRow>(lite).optional()?,
        };
        let Some(newest) = newest else {
            return Ok(0);
        };
        let purge = diesel::sql_query(format!("DELETE FROM changes WHERE {PURGEABLE}"))
            .bind::<Timestamp, _>(before);
        let purged = match conn {
            DbConnection::Postgres(pg) => purge.execute(pg)?,
            DbConnection::Sqlite(lite) => purge.execute(lite)?,
        };
        let through = Position {
            txid: newest.txid,
            seq: newest.seq,
        };
        if horizon(conn)?.is_none_or(|horizon| horizon < through) {
            settings::put(conn, HORIZON, &format!("{}:{}", through.txid, through.seq))?;
        }
        Ok(purged)
    })
}

/// The newest position purged, if any was.
pub fn horizon(conn: &mut DbConnection) -> Result<Option<Position>, StoreError> {
    let Some(stored) = settings::get(conn, HORIZON)? else {
        return Ok(None);
    };
    let position = stored
        .split_once(':')
        .and_then(|(txid, seq)| {
            Some(Position {
                txid: txid.parse().ok()?,
                seq: seq.parse().ok()?,
            })
        })
        .ok_or_else(|| {
            StoreError::Internal(format!(
                "the stored feed horizon {stored:?} is not a position"
            ))
        })?;
    Ok(Some(position))
}
