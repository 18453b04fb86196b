//! Lost customers' reasons, each read with the treatment the policy in force recommends.

use chrono::{NaiveDate, NaiveDateTime};
use credo_core::audit::AuditAction;
use credo_core::json::changes;
use credo_segmentation::loss::{Loss, LossRecord};
use credo_segmentation::policy::{LossReason, SegmentationPolicy};
use diesel::prelude::*;
use uuid::Uuid;

use crate::convert::{from_db_time, parse_id, parse_name, to_db_time};
use crate::db::{write_transaction, Outcome};
use crate::schema::customer_losses as losses;
use crate::{audit, now, settings, DbConnection, StoreError};

const ENTITY: &str = "customer_loss";

impl Outcome for Loss {}

fn treatment(policy: &SegmentationPolicy, reason: LossReason) -> String {
    policy.treatment(reason).unwrap_or_default().to_owned()
}

/// Records why the customer was lost, audited.
pub fn record_loss(
    conn: &mut DbConnection,
    customer_id: Uuid,
    record: LossRecord,
    actor: Uuid,
) -> Result<Loss, StoreError> {
    write_transaction(conn, |conn| {
        let policy = settings::document::<SegmentationPolicy>(conn)?.settings;
        let loss = Loss {
            id: Uuid::now_v7(),
            customer_id,
            reason: record.reason,
            treatment: treatment(&policy, record.reason),
            note: record.note.clone(),
            lost_on: record.lost_on,
            recorded_by: actor,
            recorded_at: now(),
        };
        diesel::insert_into(losses::table)
            .values((
                losses::id.eq(loss.id.to_string()),
                losses::customer_id.eq(customer_id.to_string()),
                losses::reason.eq(loss.reason.as_str()),
                losses::note.eq(&loss.note),
                losses::lost_on.eq(loss.lost_on),
                losses::recorded_by.eq(actor.to_string()),
                losses::recorded_at.eq(to_db_time(loss.recorded_at)),
            ))
            .execute(conn)?;
        let created = changes(&serde_json::Value::Null, &serde_json::to_value(&loss)?);
        audit::record(conn, ENTITY, loss.id, AuditAction::Created, actor, &created)?;
        Ok(loss)
    })
}

/// The customer's latest recorded loss.
pub fn latest_loss(conn: &mut DbConnection, customer_id: Uuid) -> Result<Option<Loss>, StoreError> {
    let row = losses::table
        .filter(losses::customer_id.eq(customer_id.to_string()))
        .order((losses::recorded_at.desc(), losses::id.desc()))
        .select((
            losses::id,
            losses::reason,
            losses::note,
            losses::lost_on,
            losses::recorded_by,
            losses::recorded_at,
        ))
        .first::<(
            String,
            String,
            Option<String>,
            NaiveDate,
            String,
            NaiveDateTime,
        )>(conn)
        .optional()?;
    let Some((id, reason, note, lost_on, by, at)) = row else {
        return Ok(None);
    };
    let policy = settings::document::<SegmentationPolicy>(conn)?.settings;
    let reason = parse_name(&reason, LossReason::parse)?;
    Ok(Some(Loss {
        id: parse_id(&id)?,
        customer_id,
        reason,
        treatment: treatment(&policy, reason),
        note,
        lost_on,
        recorded_by: parse_id(&by)?,
        recorded_at: from_db_time(at),
    }))
}
