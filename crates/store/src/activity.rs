//! What happens around a customer besides profile edits: ownership transfers, source-tagged
//! notes and subjective assessments. Entries are append-only.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use credo_customers::{
    Assessment, AssessmentRecord, AssessmentTopic, Customer, Department, Note, Transfer,
};
use diesel::prelude::*;
use uuid::Uuid;

use crate::convert::{from_db_time, parse_id, parse_name, parse_optional_id, to_db_time};
use crate::schema::{assessments, customer_notes, ownership_transfers};
use crate::{now, DbConnection, StoreError};

pub(crate) fn insert_transfer(
    conn: &mut DbConnection,
    current: &Customer,
    owner_id: Uuid,
    sales_unit_id: Option<Uuid>,
    reason: &str,
    actor: Uuid,
    at: DateTime<Utc>,
) -> Result<(), StoreError> {
    diesel::insert_into(ownership_transfers::table)
        .values((
            ownership_transfers::id.eq(Uuid::now_v7().to_string()),
            ownership_transfers::customer_id.eq(current.id.to_string()),
            ownership_transfers::from_owner_id.eq(current.owner_id.to_string()),
            ownership_transfers::to_owner_id.eq(owner_id.to_string()),
            ownership_transfers::from_sales_unit_id
                .eq(current.sales_unit_id.map(|u| u.to_string())),
            ownership_transfers::to_sales_unit_id.eq(sales_unit_id.map(|u| u.to_string())),
            ownership_transfers::reason.eq(reason),
            ownership_transfers::transferred_by.eq(actor.to_string()),
            ownership_transfers::transferred_at.eq(to_db_time(at)),
        ))
        .execute(conn)?;
    Ok(())
}

type TransferRow = (
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    NaiveDateTime,
);

pub fn transfers(conn: &mut DbConnection, customer_id: Uuid) -> Result<Vec<Transfer>, StoreError> {
    ownership_transfers::table
        .filter(ownership_transfers::customer_id.eq(customer_id.to_string()))
        .order((
            ownership_transfers::transferred_at.asc(),
            ownership_transfers::id.asc(),
        ))
        .select((
            ownership_transfers::id,
            ownership_transfers::customer_id,
            ownership_transfers::from_owner_id,
            ownership_transfers::to_owner_id,
            ownership_transfers::from_sales_unit_id,
            ownership_transfers::to_sales_unit_id,
            ownership_transfers::reason,
            ownership_transfers::transferred_by,
            ownership_transfers::transferred_at,
        ))
        .load::<TransferRow>(conn)?
        .into_iter()
        .map(
            |(id, customer, from, to, from_unit, to_unit, reason, by, at)| {
                Ok(Transfer {
                    id: parse_id(&id)?,
                    customer_id: parse_id(&customer)?,
                    from_owner_id: parse_id(&from)?,
                    to_owner_id: parse_id(&to)?,
                    from_sales_unit_id: parse_optional_id(from_unit.as_deref())?,
                    to_sales_unit_id: parse_optional_id(to_unit.as_deref())?,
                    reason,
                    transferred_by: parse_id(&by)?,
                    transferred_at: from_db_time(at),
                })
            },
        )
        .collect()
}

pub fn add_note(
    conn: &mut DbConnection,
    customer_id: Uuid,
    department: Department,
    body: &str,
    author: Uuid,
) -> Result<Note, StoreError> {
    let note = Note {
        id: Uuid::now_v7(),
        customer_id,
        department,
        body: body.to_owned(),
        author_id: author,
        created_at: now(),
    };
    diesel::insert_into(customer_notes::table)
        .values((
            customer_notes::id.eq(note.id.to_string()),
            customer_notes::customer_id.eq(customer_id.to_string()),
            customer_notes::department.eq(department.as_str()),
            customer_notes::body.eq(body),
            customer_notes::author_id.eq(author.to_string()),
            customer_notes::created_at.eq(to_db_time(note.created_at)),
        ))
        .execute(conn)?;
    Ok(note)
}

/// Notes of a customer, newest first, optionally of one department.
pub fn notes(
    conn: &mut DbConnection,
    customer_id: Uuid,
    department: Option<Department>,
) -> Result<Vec<Note>, StoreError> {
    let mut query = customer_notes::table
        .filter(customer_notes::customer_id.eq(customer_id.to_string()))
        .into_boxed::<crate::db::MultiBackend>();
    if let Some(department) = department {
        query = query.filter(customer_notes::department.eq(department.as_str()));
    }
    query
        .order((customer_notes::created_at.desc(), customer_notes::id.desc()))
        .select((
            customer_notes::id,
            customer_notes::department,
            customer_notes::body,
            customer_notes::author_id,
            customer_notes::created_at,
        ))
        .load::<(String, String, String, String, NaiveDateTime)>(conn)?
        .into_iter()
        .map(|(id, department, body, author, at)| {
            Ok(Note {
                id: parse_id(&id)?,
                customer_id,
                department: parse_name(&department, Department::parse)?,
                body,
                author_id: parse_id(&author)?,
                created_at: from_db_time(at),
            })
        })
        .collect()
}

pub fn add_assessment(
    conn: &mut DbConnection,
    customer_id: Uuid,
    assessment: Assessment,
    author: Uuid,
) -> Result<AssessmentRecord, StoreError> {
    let record = AssessmentRecord {
        id: Uuid::now_v7(),
        customer_id,
        assessment,
        author_id: author,
        created_at: now(),
    };
    let a = &record.assessment;
    diesel::insert_into(assessments::table)
        .values((
            assessments::id.eq(record.id.to_string()),
            assessments::customer_id.eq(customer_id.to_string()),
            assessments::department.eq(a.department.as_str()),
            assessments::topic.eq(a.topic.as_str()),
            assessments::rating.eq(a.rating),
            assessments::comment.eq(&a.comment),
            assessments::assessed_on.eq(a.assessed_on),
            assessments::author_id.eq(author.to_string()),
            assessments::created_at.eq(to_db_time(record.created_at)),
        ))
        .execute(conn)?;
    Ok(record)
}

type AssessmentRow = (
    String,
    String,
    String,
    i64,
    Option<String>,
    NaiveDate,
    String,
    NaiveDateTime,
);

/// Assessments of a customer, newest first: every department's view side by side.
pub fn assessments(
    conn: &mut DbConnection,
    customer_id: Uuid,
) -> Result<Vec<AssessmentRecord>, StoreError> {
    assessments::table
        .filter(assessments::customer_id.eq(customer_id.to_string()))
        .order((assessments::created_at.desc(), assessments::id.desc()))
        .select((
            assessments::id,
            assessments::department,
            assessments::topic,
            assessments::rating,
            assessments::comment,
            assessments::assessed_on,
            assessments::author_id,
            assessments::created_at,
        ))
        .load::<AssessmentRow>(conn)?
        .into_iter()
        .map(
            |(id, department, topic, rating, comment, assessed_on, author, at)| {
                Ok(AssessmentRecord {
                    id: parse_id(&id)?,
                    customer_id,
                    assessment: Assessment {
                        department: parse_name(&department, Department::parse)?,
                        topic: parse_name(&topic, AssessmentTopic::parse)?,
                        rating,
                        comment,
                        assessed_on,
                    },
                    author_id: parse_id(&author)?,
                    created_at: from_db_time(at),
                })
            },
        )
        .collect()
}
