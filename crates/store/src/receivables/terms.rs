//! Changes to an item's terms: requests for more time and disputes.

use chrono::{NaiveDate, NaiveDateTime};
use credo_core::audit::AuditAction;
use credo_core::json::changes;
use credo_core::FieldError;
use credo_receivables::terms::{
    DecisionRefusal, Dispute, Extension, ExtensionStatus, NewExtension,
};
use credo_receivables::Receivable;
use diesel::prelude::*;
use uuid::Uuid;

use super::{get, RECEIVABLE_ENTITY};
use crate::convert::{from_db_time, parse_id, parse_name, parse_optional_id, to_db_time};
use crate::db::{write_transaction, MultiBackend, Outcome};
use crate::keyset::{keyset, Window};
use crate::schema::{receivable_extensions, receivables};
use crate::{audit, now, DbConnection, StoreError};

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = receivable_extensions, treat_none_as_null = true)]
struct ExtensionRow {
    id: String,
    receivable_id: String,
    previous_due_on: NaiveDate,
    requested_due_on: NaiveDate,
    reason: String,
    status: String,
    decision_note: Option<String>,
    requested_by: String,
    requested_at: NaiveDateTime,
    decided_by: Option<String>,
    decided_at: Option<NaiveDateTime>,
}

impl ExtensionRow {
    fn into_extension(self) -> Result<Extension, StoreError> {
        Ok(Extension {
            id: parse_id(&self.id)?,
            receivable_id: parse_id(&self.receivable_id)?,
            previous_due_on: self.previous_due_on,
            requested_due_on: self.requested_due_on,
            reason: self.reason,
            status: parse_name(&self.status, ExtensionStatus::parse)?,
            decision_note: self.decision_note,
            requested_by: parse_id(&self.requested_by)?,
            requested_at: from_db_time(self.requested_at),
            decided_by: parse_optional_id(self.decided_by.as_deref())?,
            decided_at: self.decided_at.map(from_db_time),
        })
    }
}

pub const EXTENSION_ENTITY: &str = "receivable_extension";

/// Why a change to an item's terms was refused.
#[derive(Debug)]
pub enum TermsRefusal {
    /// Nothing of the item is open.
    Settled,
    /// A request for more time is pending already.
    Pending(Extension),
    /// The item is in dispute already, or (resolving) is not.
    Disputed(bool),
    Decision(DecisionRefusal),
    Invalid(Vec<FieldError>),
}

#[derive(Debug)]
pub enum Terms<T> {
    Changed(T),
    NotFound,
    Refused(TermsRefusal),
}

impl<T> Outcome for Terms<T> {
    fn is_refusal(&self) -> bool {
        !matches!(self, Terms::Changed(_))
    }
}

/// The locked item `id` while something of it is open, or why not.
fn open_item(
    conn: &mut DbConnection,
    id: Uuid,
) -> Result<Result<Receivable, Terms<()>>, StoreError> {
    super::lock_item(conn, id, &[])?;
    Ok(match get(conn, id)? {
        None => Err(Terms::NotFound),
        Some(item) if item.open_minor == 0 => Err(Terms::Refused(TermsRefusal::Settled)),
        Some(item) => Ok(item),
    })
}

/// Rewrites the terms of a locked item and records the change.
fn write_terms(
    conn: &mut DbConnection,
    before: &Receivable,
    after: &Receivable,
    actor: Uuid,
) -> Result<(), StoreError> {
    diesel::update(receivables::table.find(after.id.to_string()))
        .set((
            receivables::due_on.eq(after.due_on),
            receivables::original_due_on.eq(after.original_due_on),
            receivables::disputed_on.eq(after.dispute.as_ref().map(|d| d.since)),
            receivables::dispute_reason.eq(after.dispute.as_ref().map(|d| d.reason.clone())),
            receivables::dispute_until.eq(after.dispute.as_ref().map(|d| d.until)),
        ))
        .execute(conn)?;
    let diff = changes(&audit::view(before)?, &audit::view(after)?);
    audit::record(
        conn,
        RECEIVABLE_ENTITY,
        after.id,
        AuditAction::Updated,
        actor,
        &diff,
    )
}

/// Asks for more time on item `id`: `validate` checks the request against its due day.
pub fn request_extension(
    conn: &mut DbConnection,
    id: Uuid,
    mut validate: impl FnMut(NaiveDate) -> Result<NewExtension, Vec<FieldError>>,
    actor: Uuid,
) -> Result<Terms<Extension>, StoreError> {
    write_transaction(conn, |conn| {
        let item = match open_item(conn, id)? {
            Ok(item) => item,
            Err(Terms::Refused(refusal)) => return Ok(Terms::Refused(refusal)),
            Err(_) => return Ok(Terms::NotFound),
        };
        let pending = receivable_extensions::table
            .filter(receivable_extensions::receivable_id.eq(id.to_string()))
            .filter(receivable_extensions::status.eq(ExtensionStatus::Pending.as_str()))
            .select(ExtensionRow::as_select())
            .first(conn)
            .optional()?;
        if let Some(pending) = pending {
            return Ok(Terms::Refused(TermsRefusal::Pending(
                pending.into_extension()?,
            )));
        }
        let new = match validate(item.due_on) {
            Ok(new) => new,
            Err(errors) => return Ok(Terms::Refused(TermsRefusal::Invalid(errors))),
        };
        let extension = Extension {
            id: Uuid::now_v7(),
            receivable_id: id,
            previous_due_on: item.due_on,
            requested_due_on: new.requested_due_on,
            reason: new.reason,
            status: ExtensionStatus::Pending,
            decision_note: None,
            requested_by: actor,
            requested_at: now(),
            decided_by: None,
            decided_at: None,
        };
        diesel::insert_into(receivable_extensions::table)
            .values(extension_row(&extension))
            .execute(conn)?;
        let created = changes(&serde_json::Value::Null, &audit::view(&extension)?);
        audit::record(
            conn,
            EXTENSION_ENTITY,
            extension.id,
            AuditAction::Created,
            actor,
            &created,
        )?;
        Ok(Terms::Changed(extension))
    })
}

fn extension_row(e: &Extension) -> ExtensionRow {
    ExtensionRow {
        id: e.id.to_string(),
        receivable_id: e.receivable_id.to_string(),
        previous_due_on: e.previous_due_on,
        requested_due_on: e.requested_due_on,
        reason: e.reason.clone(),
        status: e.status.as_str().to_owned(),
        decision_note: e.decision_note.clone(),
        requested_by: e.requested_by.to_string(),
        requested_at: to_db_time(e.requested_at),
        decided_by: e.decided_by.map(|d| d.to_string()),
        decided_at: e.decided_at.map(to_db_time),
    }
}

/// Decides request `extension_id` of item `id` as `decide` rules; an approval moves the
/// item's due day, keeping the first one.
pub fn decide_extension(
    conn: &mut DbConnection,
    id: Uuid,
    extension_id: Uuid,
    mut decide: impl FnMut(&Extension) -> Result<(ExtensionStatus, Option<String>), DecisionRefusal>,
    actor: Uuid,
) -> Result<Terms<Extension>, StoreError> {
    write_transaction(conn, |conn| {
        super::lock_item(conn, id, &[])?;
        let Some(item) = get(conn, id)? else {
            return Ok(Terms::NotFound);
        };
        let found = receivable_extensions::table
            .find(extension_id.to_string())
            .filter(receivable_extensions::receivable_id.eq(id.to_string()))
            .select(ExtensionRow::as_select())
            .first(conn)
            .optional()?;
        let Some(current) = found.map(ExtensionRow::into_extension).transpose()? else {
            return Ok(Terms::NotFound);
        };
        let (status, note) = match decide(&current) {
            Ok(decision) => decision,
            Err(refusal) => return Ok(Terms::Refused(TermsRefusal::Decision(refusal))),
        };
        let mut next = current.clone();
        next.status = status;
        next.decision_note = note;
        next.decided_by = Some(actor);
        next.decided_at = Some(now());
        diesel::update(receivable_extensions::table.find(extension_id.to_string()))
            .set(extension_row(&next))
            .execute(conn)?;
        let diff = changes(&audit::view(&current)?, &audit::view(&next)?);
        audit::record(
            conn,
            EXTENSION_ENTITY,
            extension_id,
            AuditAction::Updated,
            actor,
            &diff,
        )?;
        if status == ExtensionStatus::Approved {
            let mut moved = item.clone();
            moved.original_due_on = Some(item.original_due_on.unwrap_or(item.due_on));
            moved.due_on = next.requested_due_on;
            write_terms(conn, &item, &moved, actor)?;
        }
        Ok(Terms::Changed(next))
    })
}

/// An item's requests for more time, oldest first.
pub fn extensions(
    conn: &mut DbConnection,
    receivable_id: Uuid,
    window: &Window<chrono::DateTime<chrono::Utc>>,
) -> Result<Vec<Extension>, StoreError> {
    let mut query = receivable_extensions::table
        .filter(receivable_extensions::receivable_id.eq(receivable_id.to_string()))
        .select(ExtensionRow::as_select())
        .into_boxed::<MultiBackend>();
    keyset!(
        query,
        receivable_extensions::requested_at,
        receivable_extensions::id,
        window.after_db_time(),
        false
    );
    query
        .limit(window.limit)
        .load::<ExtensionRow>(conn)?
        .into_iter()
        .map(ExtensionRow::into_extension)
        .collect()
}

/// Opens a dispute of item `id` (`Some`) or resolves its dispute (`None`).
pub fn set_dispute(
    conn: &mut DbConnection,
    id: Uuid,
    dispute: Option<Dispute>,
    actor: Uuid,
) -> Result<Terms<Receivable>, StoreError> {
    write_transaction(conn, |conn| {
        super::lock_item(conn, id, &[])?;
        let Some(item) = get(conn, id)? else {
            return Ok(Terms::NotFound);
        };
        match (&item.dispute, &dispute) {
            (Some(_), Some(_)) => return Ok(Terms::Refused(TermsRefusal::Disputed(true))),
            (None, None) => return Ok(Terms::Refused(TermsRefusal::Disputed(false))),
            (None, Some(_)) if item.open_minor == 0 => {
                return Ok(Terms::Refused(TermsRefusal::Settled))
            }
            _ => {}
        }
        let mut next = item.clone();
        next.dispute = dispute.clone();
        write_terms(conn, &item, &next, actor)?;
        Ok(Terms::Changed(next))
    })
}
