//! Grade overrides: asked for by one person, in force once another approves, audited.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use credo_core::audit::AuditAction;
use credo_core::json::changes;
use credo_core::Principal;
use credo_segmentation::overrides::{
    approve, ApprovalRefusal, GradeOverride, OverrideRequest, OverrideStatus,
};
use diesel::prelude::*;
use uuid::Uuid;

use crate::convert::{from_db_time, parse_id, parse_name, parse_optional_id, to_db_time};
use crate::credit::Decided;
use crate::db::{lock_row, write_transaction, MultiBackend, Outcome};
use crate::keyset::{keyset, Window};
use crate::schema::segmentation_overrides as overrides;
use crate::{audit, now, DbConnection, StoreError};

const ENTITY: &str = "grade_override";

type Row = (
    String,
    String,
    String,
    String,
    NaiveDate,
    String,
    String,
    NaiveDateTime,
    Option<String>,
    Option<NaiveDateTime>,
);

macro_rules! columns {
    () => {
        (
            overrides::id,
            overrides::customer_id,
            overrides::grade,
            overrides::reason,
            overrides::expires_on,
            overrides::status,
            overrides::requested_by,
            overrides::requested_at,
            overrides::decided_by,
            overrides::decided_at,
        )
    };
}

fn from_row(row: Row) -> Result<GradeOverride, StoreError> {
    let (id, customer, grade, reason, expires_on, status, by, at, approver, approved_at) = row;
    Ok(GradeOverride {
        id: parse_id(&id)?,
        customer_id: parse_id(&customer)?,
        grade,
        reason,
        expires_on,
        status: parse_name(&status, OverrideStatus::parse)?,
        requested_by: parse_id(&by)?,
        requested_at: from_db_time(at),
        approved_by: parse_optional_id(approver.as_deref())?,
        approved_at: approved_at.map(from_db_time),
    })
}

impl Outcome for GradeOverride {}

/// Records a request, pending approval.
pub fn request_override(
    conn: &mut DbConnection,
    request: OverrideRequest,
    actor: Uuid,
) -> Result<GradeOverride, StoreError> {
    let asked = GradeOverride {
        id: Uuid::now_v7(),
        customer_id: request.customer_id,
        grade: request.grade,
        reason: request.reason,
        expires_on: request.expires_on,
        status: OverrideStatus::Pending,
        requested_by: actor,
        requested_at: now(),
        approved_by: None,
        approved_at: None,
    };
    write_transaction(conn, |conn| {
        diesel::insert_into(overrides::table)
            .values((
                overrides::id.eq(asked.id.to_string()),
                overrides::customer_id.eq(asked.customer_id.to_string()),
                overrides::grade.eq(&asked.grade),
                overrides::reason.eq(&asked.reason),
                overrides::expires_on.eq(asked.expires_on),
                overrides::status.eq(asked.status.as_str()),
                overrides::requested_by.eq(actor.to_string()),
                overrides::requested_at.eq(to_db_time(asked.requested_at)),
            ))
            .execute(conn)?;
        let created = changes(&serde_json::Value::Null, &serde_json::to_value(&asked)?);
        audit::record(
            conn,
            ENTITY,
            asked.id,
            AuditAction::Created,
            actor,
            &created,
        )?;
        Ok(asked.clone())
    })
}

pub fn get_override(
    conn: &mut DbConnection,
    id: Uuid,
) -> Result<Option<GradeOverride>, StoreError> {
    overrides::table
        .find(id.to_string())
        .select(columns!())
        .first::<Row>(conn)
        .optional()?
        .map(from_row)
        .transpose()
}

/// What an approval came to.
pub type ApprovedOverride = Decided<GradeOverride, ApprovalRefusal>;

/// Approves override `id` as `approver` on `today`, judged on the row as read under its lock.
pub fn approve_override(
    conn: &mut DbConnection,
    id: Uuid,
    approver: &Principal,
    today: NaiveDate,
) -> Result<ApprovedOverride, StoreError> {
    write_transaction(conn, |conn| {
        lock_row(conn, "segmentation_overrides", id)?;
        let Some(pending) = get_override(conn, id)? else {
            return Ok(Decided::NotFound);
        };
        if let Err(refusal) = approve(&pending, approver, today) {
            return Ok(Decided::Refused(refusal));
        }
        let approved = GradeOverride {
            status: OverrideStatus::Approved,
            approved_by: Some(approver.user_id),
            approved_at: Some(now()),
            ..pending.clone()
        };
        diesel::update(overrides::table.find(id.to_string()))
            .set((
                overrides::status.eq(approved.status.as_str()),
                overrides::decided_by.eq(approver.user_id.to_string()),
                overrides::decided_at.eq(approved.approved_at.map(to_db_time)),
            ))
            .execute(conn)?;
        let diff = changes(
            &serde_json::to_value(&pending)?,
            &serde_json::to_value(&approved)?,
        );
        audit::record(
            conn,
            ENTITY,
            id,
            AuditAction::StatusChanged,
            approver.user_id,
            &diff,
        )?;
        Ok(Decided::Done(approved))
    })
}

/// The customer's overrides, the latest asked first.
pub fn overrides_of(
    conn: &mut DbConnection,
    customer_id: Uuid,
) -> Result<Vec<GradeOverride>, StoreError> {
    overrides::table
        .filter(overrides::customer_id.eq(customer_id.to_string()))
        .order((overrides::requested_at.desc(), overrides::id.desc()))
        .select(columns!())
        .load::<Row>(conn)?
        .into_iter()
        .map(from_row)
        .collect()
}

/// A page of the customer's overrides, the latest asked for first.
pub fn overrides_page(
    conn: &mut DbConnection,
    customer_id: Uuid,
    window: &Window<DateTime<Utc>>,
) -> Result<Vec<GradeOverride>, StoreError> {
    let mut query = overrides::table
        .filter(overrides::customer_id.eq(customer_id.to_string()))
        .select(columns!())
        .into_boxed::<MultiBackend>();
    keyset!(
        query,
        overrides::requested_at,
        overrides::id,
        window.after_db_time(),
        true
    );
    query
        .limit(window.limit)
        .load::<Row>(conn)?
        .into_iter()
        .map(from_row)
        .collect()
}

/// The override in force on `today`: the latest approved one that has not expired.
pub(super) fn in_force(
    conn: &mut DbConnection,
    customer_id: Uuid,
    today: NaiveDate,
) -> Result<Option<GradeOverride>, StoreError> {
    Ok(overrides_of(conn, customer_id)?
        .into_iter()
        .filter(|o| o.in_force(today))
        .max_by_key(|o| o.approved_at))
}

/// The override's audit trail, oldest first: asked for, approved.
pub fn override_history(
    conn: &mut DbConnection,
    id: Uuid,
    window: &crate::keyset::Window<chrono::DateTime<chrono::Utc>>,
) -> Result<Vec<credo_core::audit::AuditEntry>, StoreError> {
    audit::history(conn, ENTITY, id, window)
}
