//! Process-wide settings shared by every instance through the database, the company's
//! settings among them.

use chrono::{DateTime, Utc};
use credo_core::audit::AuditAction;
use credo_core::company::{CompanySettings, SettingsInput};
use credo_core::json::{changes, patched};
use credo_core::FieldError;
use credo_receivables::allowance::AllowancePolicyRules;
use diesel::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::write_transaction;
use crate::schema::settings;
use crate::versioned::{Expected, Updated};
use crate::{audit, now, DbConnection, StoreError};

const COMPANY: &str = "company";
/// The key, audit entity type and id of the allowance policy (there is one).
const ALLOWANCE_POLICY: &str = "allowance_policy";
/// The audit trail's entity type and id for the company's settings (there is one).
const COMPANY_ENTITY: &str = "company_settings";

/// A document kept under one settings key, with its version and last change; the defaults
/// at version 0.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Stored<T> {
    #[serde(flatten)]
    pub settings: T,
    /// 0 while the defaults stand.
    pub version: i64,
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<Uuid>,
}

/// The company's settings with their version and last change.
pub type StoredCompany = Stored<CompanySettings>;

/// The document under `key`; the defaults until someone changes it.
fn stored<T: DeserializeOwned + Default>(
    conn: &mut DbConnection,
    key: &str,
) -> Result<Stored<T>, StoreError> {
    match get(conn, key)? {
        Some(stored) => Ok(serde_json::from_str(&stored)?),
        None => Ok(Stored::default()),
    }
}

/// The company's settings; the defaults until an admin changes them.
pub fn company(conn: &mut DbConnection) -> Result<StoredCompany, StoreError> {
    stored(conn, COMPANY)
}

/// Applies a JSON merge patch (of the `SettingsInput` form) to the company's settings as read
/// under the lock, if they are still at `expected`.
pub fn update_company(
    conn: &mut DbConnection,
    expected: &Expected,
    patch: &serde_json::Value,
    actor: Uuid,
) -> Result<Updated<StoredCompany, Vec<FieldError>>, StoreError> {
    let next = |current: &CompanySettings| {
        patched::<SettingsInput>(&current.input(), patch).and_then(|input| input.validate())
    };
    update_stored(conn, COMPANY, COMPANY_ENTITY, expected, next, actor)
}

/// The receivables' bad-debt allowance policy; the published default until changed.
pub fn allowance_policy(
    conn: &mut DbConnection,
) -> Result<Stored<AllowancePolicyRules>, StoreError> {
    stored(conn, ALLOWANCE_POLICY)
}

/// Replaces the allowance policy with what `next` makes of it, if it is still at `expected`.
pub fn update_allowance_policy(
    conn: &mut DbConnection,
    expected: &Expected,
    next: impl FnOnce(&AllowancePolicyRules) -> Result<AllowancePolicyRules, Vec<FieldError>>,
    actor: Uuid,
) -> Result<Updated<Stored<AllowancePolicyRules>, Vec<FieldError>>, StoreError> {
    update_stored(
        conn,
        ALLOWANCE_POLICY,
        ALLOWANCE_POLICY,
        expected,
        next,
        actor,
    )
}

/// Changes the document under `key` to what `next` makes of it as read under the lock, if
/// it is still at `expected`; the change is audited as `entity`.
fn update_stored<T>(
    conn: &mut DbConnection,
    key: &'static str,
    entity: &str,
    expected: &Expected,
    next: impl FnOnce(&T) -> Result<T, Vec<FieldError>>,
    actor: Uuid,
) -> Result<Updated<Stored<T>, Vec<FieldError>>, StoreError>
where
    T: Serialize + DeserializeOwned + Default,
{
    write_transaction(conn, |conn| {
        if let DbConnection::Postgres(pg) = conn {
            diesel::sql_query("SELECT 1 FROM settings WHERE key = $1 FOR UPDATE")
                .bind::<diesel::sql_types::Text, _>(key)
                .execute(pg)?;
        }
        let current = stored::<T>(conn, key)?;
        let next = match next(&current.settings) {
            Ok(next) => next,
            Err(errors) => return Ok(Updated::Refused(errors)),
        };
        if !expected.admits(current.version) {
            return Ok(Updated::Stale(current));
        }
        let diff = changes(
            &serde_json::to_value(&current.settings)?,
            &serde_json::to_value(&next)?,
        );
        if diff.is_empty() {
            return Ok(Updated::Updated(current));
        }
        let stored = Stored {
            settings: next,
            version: current.version + 1,
            updated_at: Some(now()),
            updated_by: Some(actor),
        };
        let value = serde_json::to_string(&stored)?;
        // An instance that inserted the first version meanwhile makes this a conflict.
        let written = if current.version == 0 {
            diesel::insert_into(settings::table)
                .values((settings::key.eq(key), settings::value.eq(&value)))
                .execute(conn)?
        } else {
            diesel::update(settings::table.find(key))
                .set(settings::value.eq(&value))
                .execute(conn)?
        };
        if written == 0 {
            return Err(StoreError::Conflict(format!("settings.{key}")));
        }
        audit::record(
            conn,
            entity,
            Uuid::nil(),
            AuditAction::Updated,
            actor,
            &diff,
        )?;
        Ok(Updated::Updated(stored))
    })
}

pub fn get(conn: &mut DbConnection, key: &str) -> Result<Option<String>, StoreError> {
    Ok(settings::table
        .find(key)
        .select(settings::value)
        .first(conn)
        .optional()?)
}

/// Stores `value` under `key` unless a value is already there, and returns what is stored:
/// the first writer wins, so instances starting together agree.
pub fn get_or_insert(
    conn: &mut DbConnection,
    key: &str,
    value: &str,
) -> Result<String, StoreError> {
    if let Some(existing) = get(conn, key)? {
        return Ok(existing);
    }
    match diesel::insert_into(settings::table)
        .values((settings::key.eq(key), settings::value.eq(value)))
        .execute(conn)
    {
        Ok(_) => Ok(value.to_owned()),
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => get(conn, key)?.ok_or(StoreError::NotFound),
        Err(other) => Err(other.into()),
    }
}
