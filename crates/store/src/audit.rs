//! Writes and reads the audit trail. Every repository change calls `record` inside its
//! own transaction, so a change and its audit entry commit together or not at all.

use chrono::{DateTime, Utc};
use credo_core::audit::{AuditAction, AuditEntry};
use credo_core::json::FieldChange;
use diesel::prelude::*;
use uuid::Uuid;

use crate::convert::{from_db_time, parse_id, parse_name, to_db_time};
use crate::db::{insert_chunks, MultiBackend};
use crate::keyset::{keyset, Window};
use crate::schema::audit_log;
use crate::{now, DbConnection, StoreError};

/// What the audit trail compares of a record: everything but its bookkeeping stamps, which
/// every entry carries anyway.
pub fn view(record: &impl serde::Serialize) -> Result<serde_json::Value, StoreError> {
    let mut view = serde_json::to_value(record)?;
    if let Some(fields) = view.as_object_mut() {
        for stamp in [
            "created_at",
            "created_by",
            "updated_at",
            "updated_by",
            "version",
        ] {
            fields.remove(stamp);
        }
    }
    Ok(view)
}

pub fn record(
    conn: &mut DbConnection,
    entity_type: &str,
    entity_id: Uuid,
    action: AuditAction,
    actor_id: Uuid,
    changes: &[FieldChange],
) -> Result<(), StoreError> {
    record_all(conn, entity_type, action, &[(entity_id, actor_id, changes)])
}

#[derive(Insertable)]
#[diesel(table_name = audit_log)]
struct NewEntry<'a> {
    id: String,
    entity_type: &'a str,
    entity_id: String,
    action: &'static str,
    actor_id: String,
    at: chrono::NaiveDateTime,
    changes: String,
}

/// Records the same action on many records of a type, in multi-row inserts: (record id,
/// actor, changes) each.
pub fn record_all(
    conn: &mut DbConnection,
    entity_type: &str,
    action: AuditAction,
    entries: &[(Uuid, Uuid, &[FieldChange])],
) -> Result<(), StoreError> {
    let at = to_db_time(now());
    let rows = entries
        .iter()
        .map(|(entity_id, actor_id, changes)| {
            Ok(NewEntry {
                id: Uuid::now_v7().to_string(),
                entity_type,
                entity_id: entity_id.to_string(),
                action: action.as_str(),
                actor_id: actor_id.to_string(),
                at,
                changes: serde_json::to_string(changes)?,
            })
        })
        .collect::<Result<Vec<_>, StoreError>>()?;
    insert_chunks!(conn, audit_log::table, rows, 1000);
    Ok(())
}

/// A page of a record's history, oldest first.
pub fn history(
    conn: &mut DbConnection,
    entity_type: &str,
    entity_id: Uuid,
    window: &Window<DateTime<Utc>>,
) -> Result<Vec<AuditEntry>, StoreError> {
    let mut query = audit_log::table
        .filter(audit_log::entity_type.eq(entity_type))
        .filter(audit_log::entity_id.eq(entity_id.to_string()))
        .into_boxed::<MultiBackend>();
    keyset!(
        query,
        audit_log::at,
        audit_log::id,
        window.after_db_time(),
        false
    );
    query
        .limit(window.limit)
        .select((
            audit_log::id,
            audit_log::action,
            audit_log::actor_id,
            audit_log::at,
            audit_log::changes,
        ))
        .load::<(String, String, String, chrono::NaiveDateTime, String)>(conn)?
        .into_iter()
        .map(|(id, action, actor, at, changes)| {
            Ok(AuditEntry {
                id: parse_id(&id)?,
                entity_type: entity_type.to_owned(),
                entity_id,
                action: parse_name(&action, AuditAction::parse)?,
                actor_id: parse_id(&actor)?,
                at: from_db_time(at),
                changes: serde_json::from_str(&changes)?,
            })
        })
        .collect()
}
