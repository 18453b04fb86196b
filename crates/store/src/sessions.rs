//! Refresh tokens (stored as hashes, rotated on use) and failed-login records.

use chrono::{DateTime, Utc};
use diesel::prelude::*;
use uuid::Uuid;

use crate::convert::{from_db_time, parse_id, to_db_time};
use crate::db::{write_transaction, Outcome};
use crate::schema::{login_failures, refresh_tokens};
use crate::{now, DbConnection, StoreError};

pub struct NewRefreshToken<'a> {
    pub family_id: Uuid,
    pub user_id: Uuid,
    pub token_hash: &'a str,
    pub expires_at: DateTime<Utc>,
}

pub fn insert_refresh_token(
    conn: &mut DbConnection,
    token: &NewRefreshToken,
) -> Result<(), StoreError> {
    diesel::insert_into(refresh_tokens::table)
        .values((
            refresh_tokens::id.eq(Uuid::now_v7().to_string()),
            refresh_tokens::family_id.eq(token.family_id.to_string()),
            refresh_tokens::user_id.eq(token.user_id.to_string()),
            refresh_tokens::token_hash.eq(token.token_hash),
            refresh_tokens::expires_at.eq(to_db_time(token.expires_at)),
            refresh_tokens::created_at.eq(to_db_time(now())),
        ))
        .execute(conn)?;
    Ok(())
}

/// What presenting a refresh token leads to.
pub enum Redemption {
    /// The token was live and is now spent: issue a successor in the same family.
    Redeemed { user_id: Uuid, family_id: Uuid },
    /// The token was already spent: someone replayed it, so its whole family was revoked.
    Reused,
    /// Unknown, expired or revoked.
    Invalid,
}

/// Every answer commits: a reused token's family stays revoked.
impl Outcome for Redemption {}

/// Spends a refresh token exactly once, even under concurrent presentations.
pub fn redeem(conn: &mut DbConnection, token_hash: &str) -> Result<Redemption, StoreError> {
    write_transaction(conn, |conn| {
        let found = refresh_tokens::table
            .filter(refresh_tokens::token_hash.eq(token_hash))
            .select((
                refresh_tokens::id,
                refresh_tokens::family_id,
                refresh_tokens::user_id,
                refresh_tokens::expires_at,
                refresh_tokens::used_at,
                refresh_tokens::revoked_at,
            ))
            .first::<(
                String,
                String,
                String,
                chrono::NaiveDateTime,
                Option<chrono::NaiveDateTime>,
                Option<chrono::NaiveDateTime>,
            )>(conn)
            .optional()?;
        let Some((id, family, user, expires_at, used_at, revoked_at)) = found else {
            return Ok(Redemption::Invalid);
        };
        let family_id = parse_id(&family)?;
        if revoked_at.is_some() || from_db_time(expires_at) <= now() {
            return Ok(Redemption::Invalid);
        }
        if used_at.is_some() {
            revoke_family(conn, family_id)?;
            return Ok(Redemption::Reused);
        }
        // The guard on used_at makes a concurrent second redemption update nothing.
        let spent = diesel::update(
            refresh_tokens::table
                .find(&id)
                .filter(refresh_tokens::used_at.is_null()),
        )
        .set(refresh_tokens::used_at.eq(to_db_time(now())))
        .execute(conn)?;
        if spent == 0 {
            revoke_family(conn, family_id)?;
            return Ok(Redemption::Reused);
        }
        Ok(Redemption::Redeemed {
            user_id: parse_id(&user)?,
            family_id,
        })
    })
}

/// The family a live (unspent, unrevoked) token belongs to, if any.
pub fn family_of(
    conn: &mut DbConnection,
    token_hash: &str,
) -> Result<Option<(Uuid, Uuid)>, StoreError> {
    refresh_tokens::table
        .filter(refresh_tokens::token_hash.eq(token_hash))
        .filter(refresh_tokens::revoked_at.is_null())
        .select((refresh_tokens::family_id, refresh_tokens::user_id))
        .first::<(String, String)>(conn)
        .optional()?
        .map(|(family, user)| Ok((parse_id(&family)?, parse_id(&user)?)))
        .transpose()
}

pub fn revoke_family(conn: &mut DbConnection, family_id: Uuid) -> Result<(), StoreError> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::family_id.eq(family_id.to_string()))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(to_db_time(now())))
    .execute(conn)?;
    Ok(())
}

/// Ends every session of a user (on disabling the account).
pub fn revoke_user(conn: &mut DbConnection, user_id: Uuid) -> Result<(), StoreError> {
    diesel::update(
        refresh_tokens::table
            .filter(refresh_tokens::user_id.eq(user_id.to_string()))
            .filter(refresh_tokens::revoked_at.is_null()),
    )
    .set(refresh_tokens::revoked_at.eq(to_db_time(now())))
    .execute(conn)?;
    Ok(())
}

pub fn record_login_failure(conn: &mut DbConnection, username: &str) -> Result<(), StoreError> {
    diesel::insert_into(login_failures::table)
        .values((
            login_failures::id.eq(Uuid::now_v7().to_string()),
            login_failures::username.eq(username),
            login_failures::failed_at.eq(to_db_time(now())),
        ))
        .execute(conn)?;
    Ok(())
}

/// Failed logins for `username` since `since`, and the oldest of them (when the window frees up).
pub fn login_failures_since(
    conn: &mut DbConnection,
    username: &str,
    since: DateTime<Utc>,
) -> Result<(i64, Option<DateTime<Utc>>), StoreError> {
    let recent = login_failures::table
        .filter(login_failures::username.eq(username))
        .filter(login_failures::failed_at.gt(to_db_time(since)));
    let count = recent.count().get_result::<i64>(conn)?;
    let oldest = recent
        .select(login_failures::failed_at)
        .order(login_failures::failed_at.asc())
        .first::<chrono::NaiveDateTime>(conn)
        .optional()?
        .map(from_db_time);
    Ok((count, oldest))
}

pub fn clear_login_failures(conn: &mut DbConnection, username: &str) -> Result<(), StoreError> {
    diesel::delete(login_failures::table.filter(login_failures::username.eq(username)))
        .execute(conn)?;
    Ok(())
}

/// Removes refresh tokens past their expiry (spent, revoked or not: none can be redeemed) and
/// failed logins older than a day (the throttle looks back minutes); answers how many of each.
pub fn purge(conn: &mut DbConnection) -> Result<(usize, usize), StoreError> {
    let at = now();
    let tokens =
        diesel::delete(refresh_tokens::table.filter(refresh_tokens::expires_at.lt(to_db_time(at))))
            .execute(conn)?;
    let failures = diesel::delete(
        login_failures::table
            .filter(login_failures::failed_at.lt(to_db_time(at - chrono::Duration::days(1)))),
    )
    .execute(conn)?;
    Ok((tokens, failures))
}
