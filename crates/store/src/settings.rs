//! Process-wide settings shared by every instance through the database, the company's
//! settings among them.

use chrono::{DateTime, Utc};
use credo_core::audit::AuditAction;
use credo_core::company::{CompanySettings, SettingsInput};
use credo_core::json::{changes, patched};
use credo_core::FieldError;
use credo_receivables::allowance::AllowancePolicyRules;
use credo_receivables::dunning::DunningPolicyRules;
use diesel::prelude::*;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::write_transaction;
use crate::schema::{settings, settings_history};
use crate::versioned::{Expected, Updated};
use crate::{audit, now, DbConnection, StoreError};

/// A document the company keeps under one settings key: versioned, its changes audited.
pub trait Document: Serialize + DeserializeOwned + Default {
    /// Its settings key.
    const KEY: &'static str;
    /// Its entity type in the audit trail (its id there is the nil UUID: there is one).
    const ENTITY: &'static str = Self::KEY;
}

impl Document for CompanySettings {
    const KEY: &'static str = "company";
    const ENTITY: &'static str = "company_settings";
}

/// The receivables' bad-debt allowance policy.
impl Document for AllowancePolicyRules {
    const KEY: &'static str = "allowance_policy";
}

/// The levels dunning runs escalate through.
impl Document for DunningPolicyRules {
    const KEY: &'static str = "dunning_policy";
}

/// The characteristic model's template: a company's edit is a new version.
impl Document for credo_credit::characteristic::Template {
    const KEY: &'static str = "credit_template";
}

/// The working-capital bands and the limit rules.
impl Document for credo_credit::policy::CreditPolicy {
    const KEY: &'static str = "credit_policy";
}

/// The segmentation rule set; runs name the version they graded by.
impl Document for credo_segmentation::policy::SegmentationPolicy {
    const KEY: &'static str = "segmentation_policy";
}

/// A document with its version and last change; the defaults at version 0.
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

/// A document as stored; the defaults until someone changes it.
pub fn document<T: Document>(conn: &mut DbConnection) -> Result<Stored<T>, StoreError> {
    match get(conn, T::KEY)? {
        Some(stored) => Ok(serde_json::from_str(&stored)?),
        None => Ok(Stored::default()),
    }
}

/// The document as it was at `version` (0: the defaults); `None` for a version never
/// published.
pub fn document_version<T: Document>(
    conn: &mut DbConnection,
    version: i64,
) -> Result<Option<Stored<T>>, StoreError> {
    if version == 0 {
        return Ok(Some(Stored::default()));
    }
    settings_history::table
        .find((T::KEY, version))
        .select(settings_history::value)
        .first::<String>(conn)
        .optional()?
        .map(|value| serde_json::from_str(&value).map_err(StoreError::from))
        .transpose()
}

/// The company's settings; the defaults until an admin changes them.
pub fn company(conn: &mut DbConnection) -> Result<StoredCompany, StoreError> {
    document(conn)
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
    update_document(conn, expected, next, actor)
}

/// Changes a document to what `next` makes of it as read under the lock, if it is still at
/// `expected`; the change is audited.
pub fn update_document<T: Document>(
    conn: &mut DbConnection,
    expected: &Expected,
    mut next: impl FnMut(&T) -> Result<T, Vec<FieldError>>,
    actor: Uuid,
) -> Result<Updated<Stored<T>, Vec<FieldError>>, StoreError> {
    let key = T::KEY;
    write_transaction(conn, |conn| {
        if let DbConnection::Postgres(pg) = conn {
            diesel::sql_query("SELECT 1 FROM settings WHERE key = $1 FOR UPDATE")
                .bind::<diesel::sql_types::Text, _>(key)
                .execute(pg)?;
        }
        let current = document::<T>(conn)?;
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
        diesel::insert_into(settings_history::table)
            .values((
                settings_history::key.eq(key),
                settings_history::version.eq(stored.version),
                settings_history::value.eq(&value),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            T::ENTITY,
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

/// Stores `value` under `key`, replacing what was there.
pub fn put(conn: &mut DbConnection, key: &str, value: &str) -> Result<(), StoreError> {
    let replaced = diesel::update(settings::table.find(key))
        .set(settings::value.eq(value))
        .execute(conn)?;
    if replaced == 0 {
        diesel::insert_into(settings::table)
            .values((settings::key.eq(key), settings::value.eq(value)))
            .execute(conn)?;
    }
    Ok(())
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
