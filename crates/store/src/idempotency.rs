//! Idempotency keys: the first response to a POST is kept and replayed for retries.

use diesel::prelude::*;
use uuid::Uuid;

use crate::convert::to_db_time;
use crate::schema::idempotency_keys;
use crate::{now, DbConnection, StoreError};

/// A response kept for replay.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredResponse {
    pub status: u16,
    pub body: String,
    pub etag: Option<String>,
    pub location: Option<String>,
}

/// How long a key may stay claimed without an answer before a retry may take it over.
pub const STUCK_AFTER: chrono::Duration = chrono::Duration::seconds(60);

pub enum Claim {
    /// The key is new and now reserved for this request: run it, then `complete` or `release`.
    Claimed,
    /// The same request ran before: answer with its response.
    Replay(StoredResponse),
    /// The key was used with a different request.
    Mismatch,
    /// The first request with this key is still running.
    InProgress,
}

/// Reserves `key` for a request whose canonical form hashes to `request_hash`.
pub fn claim(
    conn: &mut DbConnection,
    user_id: Uuid,
    key: &str,
    request_hash: &str,
) -> Result<Claim, StoreError> {
    let inserted = diesel::insert_into(idempotency_keys::table)
        .values((
            idempotency_keys::user_id.eq(user_id.to_string()),
            idempotency_keys::idempotency_key.eq(key),
            idempotency_keys::request_hash.eq(request_hash),
            idempotency_keys::created_at.eq(to_db_time(now())),
        ))
        .execute(conn);
    match inserted {
        Ok(_) => return Ok(Claim::Claimed),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => {}
        Err(other) => return Err(other.into()),
    }
    let (hash, status, body, etag, location, created_at) = idempotency_keys::table
        .find((user_id.to_string(), key))
        .select((
            idempotency_keys::request_hash,
            idempotency_keys::status_code,
            idempotency_keys::response_body,
            idempotency_keys::response_etag,
            idempotency_keys::response_location,
            idempotency_keys::created_at,
        ))
        .first::<(
            String,
            Option<i64>,
            Option<String>,
            Option<String>,
            Option<String>,
            chrono::NaiveDateTime,
        )>(conn)?;
    if hash != request_hash {
        return Ok(Claim::Mismatch);
    }
    Ok(match (status, body) {
        (Some(status), Some(body)) => Claim::Replay(StoredResponse {
            status: u16::try_from(status)
                .map_err(|_| StoreError::Internal("stored status".into()))?,
            body,
            etag,
            location,
        }),
        _ if created_at < to_db_time(now() - STUCK_AFTER) => {
            // The answer is kept in the transaction of the write it answers, so a key this
            // old without one belongs to a request that died before writing anything.
            // Of two retries taking it over at once, one wins.
            let taken = diesel::update(
                idempotency_keys::table
                    .find((user_id.to_string(), key))
                    .filter(idempotency_keys::created_at.eq(created_at))
                    .filter(idempotency_keys::status_code.is_null()),
            )
            .set(idempotency_keys::created_at.eq(to_db_time(now())))
            .execute(conn)?;
            if taken == 1 {
                Claim::Claimed
            } else {
                Claim::InProgress
            }
        }
        _ => Claim::InProgress,
    })
}

pub fn complete(
    conn: &mut DbConnection,
    user_id: Uuid,
    key: &str,
    response: &StoredResponse,
) -> Result<(), StoreError> {
    diesel::update(idempotency_keys::table.find((user_id.to_string(), key)))
        .set((
            idempotency_keys::status_code.eq(i64::from(response.status)),
            idempotency_keys::response_body.eq(&response.body),
            idempotency_keys::response_etag.eq(&response.etag),
            idempotency_keys::response_location.eq(&response.location),
        ))
        .execute(conn)?;
    Ok(())
}

/// Frees a key whose request failed without effect, so the client may retry with it.
pub fn release(conn: &mut DbConnection, user_id: Uuid, key: &str) -> Result<(), StoreError> {
    diesel::delete(idempotency_keys::table.find((user_id.to_string(), key))).execute(conn)?;
    Ok(())
}

/// How long a kept answer is replayed; older keys are purged.
pub const KEPT_FOR: chrono::Duration = chrono::Duration::hours(24);

/// Removes keys older than `KEPT_FOR`; answers how many.
pub fn purge(conn: &mut DbConnection) -> Result<usize, StoreError> {
    Ok(diesel::delete(
        idempotency_keys::table
            .filter(idempotency_keys::created_at.lt(to_db_time(now() - KEPT_FOR))),
    )
    .execute(conn)?)
}
