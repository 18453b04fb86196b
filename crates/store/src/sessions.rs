//! Refresh tokens (stored as hashes, rotated on use) and failed-login records.

use chrono::{DateTime, Utc};
use credo_core::throttle::{self, Failures};
use diesel::dsl::{count_star, max};
use diesel::prelude::*;
use uuid::Uuid;

use crate::convert::{from_db_time, parse_id, to_db_time};
use crate::db::{lock_key, write_transaction, MultiBackend, Outcome};
use crate::schema::{login_failures, refresh_tokens};
use crate::{now, DbConnection, StoreError};

pub struct NewRefreshToken<'a> {
    pub family_id: Uuid,
    pub user_id: Uuid,
    pub token_hash: &'a str,
    pub expires_at: DateTime<Utc>,
    /// When the login ends, however often it is refreshed; never before `expires_at`.
    pub session_expires_at: DateTime<Utc>,
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
            refresh_tokens::expires_at
                .eq(to_db_time(token.expires_at.min(token.session_expires_at))),
            refresh_tokens::session_expires_at.eq(to_db_time(token.session_expires_at)),
            refresh_tokens::created_at.eq(to_db_time(now())),
        ))
        .execute(conn)?;
    Ok(())
}

/// What presenting a refresh token leads to.
pub enum Redemption {
    /// The token was live and is now spent: issue a successor in the same family, ending
    /// when the login does.
    Redeemed {
        user_id: Uuid,
        family_id: Uuid,
        session_expires_at: DateTime<Utc>,
    },
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
                refresh_tokens::session_expires_at,
            ))
            .first::<(
                String,
                String,
                String,
                chrono::NaiveDateTime,
                Option<chrono::NaiveDateTime>,
                Option<chrono::NaiveDateTime>,
                chrono::NaiveDateTime,
            )>(conn)
            .optional()?;
        let Some((id, family, user, expires_at, used_at, revoked_at, session_expires_at)) = found
        else {
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
            session_expires_at: from_db_time(session_expires_at),
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

/// Where a login attempt comes from: the username (as a hash: a guess is never stored as
/// typed) and the client address.
#[derive(Debug, Clone)]
pub struct LoginSource {
    pub username_hash: String,
    pub client: String,
}

/// The answer to a login attempt before its password is checked.
pub enum Attempt {
    /// Go ahead: the attempt is recorded as a failure until its password proves right, so
    /// concurrent attempts count each other.
    Allowed,
    /// Throttled until then; nothing was recorded.
    WaitUntil(DateTime<Utc>),
}

impl Outcome for Attempt {}

/// Admits or throttles a login attempt. With the client's attempts serialized (a lock on the
/// client address), the failures of (username, client) and of the client within the
/// look-back are counted, `judge` decides, and an admitted attempt is recorded as a failure
/// before the slow password check: of 40 simultaneous guesses, only the free ones are checked.
pub fn admit_login_attempt(
    conn: &mut DbConnection,
    source: &LoginSource,
    mut judge: impl FnMut(Failures, Failures) -> Option<DateTime<Utc>>,
) -> Result<Attempt, StoreError> {
    write_transaction(conn, |conn| {
        lock_key(conn, &format!("login:{}", source.client))?;
        let since = to_db_time(now() - throttle::look_back());
        let of_account = failures(
            conn,
            login_failures::table
                .filter(login_failures::username_hash.eq(&source.username_hash))
                .filter(login_failures::client.eq(&source.client))
                .filter(login_failures::failed_at.gt(since))
                .into_boxed(),
        )?;
        let of_client = failures(
            conn,
            login_failures::table
                .filter(login_failures::client.eq(&source.client))
                .filter(login_failures::failed_at.gt(since))
                .into_boxed(),
        )?;
        if let Some(until) = judge(of_account, of_client) {
            return Ok(Attempt::WaitUntil(until));
        }
        diesel::insert_into(login_failures::table)
            .values((
                login_failures::id.eq(Uuid::now_v7().to_string()),
                login_failures::username_hash.eq(&source.username_hash),
                login_failures::client.eq(&source.client),
                login_failures::failed_at.eq(to_db_time(now())),
            ))
            .execute(conn)?;
        Ok(Attempt::Allowed)
    })
}

fn failures(
    conn: &mut DbConnection,
    rows: login_failures::BoxedQuery<'_, MultiBackend>,
) -> Result<Failures, StoreError> {
    let (count, last) = rows
        .select((count_star(), max(login_failures::failed_at)))
        .first::<(i64, Option<chrono::NaiveDateTime>)>(conn)?;
    Ok(Failures {
        count: u32::try_from(count).unwrap_or(u32::MAX),
        last: last.map(from_db_time),
    })
}

/// A right password: the failures of its (username, client) are forgotten, the attempt's
/// own included.
pub fn clear_login_failures(
    conn: &mut DbConnection,
    source: &LoginSource,
) -> Result<(), StoreError> {
    diesel::delete(
        login_failures::table
            .filter(login_failures::username_hash.eq(&source.username_hash))
            .filter(login_failures::client.eq(&source.client)),
    )
    .execute(conn)?;
    Ok(())
}

/// Removes refresh tokens past their expiry (spent, revoked or not: none can be redeemed) and
/// failed logins older than the throttle's look-back; answers how many of each.
pub fn purge(conn: &mut DbConnection) -> Result<(usize, usize), StoreError> {
    let at = now();
    let tokens =
        diesel::delete(refresh_tokens::table.filter(refresh_tokens::expires_at.lt(to_db_time(at))))
            .execute(conn)?;
    let failures = diesel::delete(
        login_failures::table
            .filter(login_failures::failed_at.lt(to_db_time(at - throttle::look_back()))),
    )
    .execute(conn)?;
    Ok((tokens, failures))
}
