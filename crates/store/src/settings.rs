//! Process-wide settings shared by every instance through the database, the company's
//! settings among them.

use chrono::{DateTime, Utc};
use credo_core::audit::AuditAction;
use credo_core::company::{CompanySettings, SettingsInput};
use credo_core::json::{changes, patched};
use credo_core::FieldError;
use diesel::prelude::*;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::db::write_transaction;
use crate::schema::settings;
use crate::versioned::{Expected, Updated};
use crate::{audit, now, DbConnection, StoreError};

const COMPANY: &str = "company";
/// The audit trail's entity type and id for the company's settings (there is one).
const COMPANY_ENTITY: &str = "company_settings";

/// The company's settings with their version and last change; the defaults at version 0.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StoredCompany {
    #[serde(flatten)]
    pub settings: CompanySettings,
    /// 0 while the defaults stand.
    pub version: i64,
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<Uuid>,
}

/// The company's settings; the defaults until an admin changes them.
pub fn company(conn: &mut DbConnection) -> Result<StoredCompany, StoreError> {
    match get(conn, COMPANY)? {
        Some(stored) => Ok(serde_json::from_str(&stored)?),
        None => Ok(StoredCompany::default()),
    }
}

/// Applies a JSON merge patch (of the `SettingsInput` form) to the company's settings as read
/// under the lock, if they are still at `expected`.
pub fn update_company(
    conn: &mut DbConnection,
    expected: &Expected,
    patch: &serde_json::Value,
    actor: Uuid,
) -> Result<Updated<StoredCompany, Vec<FieldError>>, StoreError> {
    write_transaction(conn, |conn| {
        if let DbConnection::Postgres(pg) = conn {
            diesel::sql_query("SELECT 1 FROM settings WHERE key = $1 FOR UPDATE")
                .bind::<diesel::sql_types::Text, _>(COMPANY)
                .execute(pg)?;
        }
        let current = company(conn)?;
        let next = patched::<SettingsInput>(&current.settings.input(), patch)
            .and_then(|input| input.validate());
        let next = match next {
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
        let stored = StoredCompany {
            settings: next,
            version: current.version + 1,
            updated_at: Some(now()),
            updated_by: Some(actor),
        };
        let value = serde_json::to_string(&stored)?;
        // An instance that inserted the first version meanwhile makes this a conflict.
        let written = if current.version == 0 {
            diesel::insert_into(settings::table)
                .values((settings::key.eq(COMPANY), settings::value.eq(&value)))
                .execute(conn)?
        } else {
            diesel::update(settings::table.find(COMPANY))
                .set(settings::value.eq(&value))
                .execute(conn)?
        };
        if written == 0 {
            return Err(StoreError::Conflict("settings.company".into()));
        }
        audit::record(
            conn,
            COMPANY_ENTITY,
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
