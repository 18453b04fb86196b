//! What happens around a customer besides profile edits: ownership transfers, source-tagged
//! notes, subjective assessments, customer events and the interaction log. Entries are
//! append-only.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use credo_credit::alert::AlertKind;
use credo_customers::event::NewEvent;
use credo_customers::interaction::{Direction, InteractionChannel, NewInteraction, Participants};
use credo_customers::{
    Assessment, AssessmentRecord, AssessmentTopic, Customer, CustomerEvent, Department, EventKind,
    Interaction, Note, Transfer,
};
use diesel::prelude::*;
use uuid::Uuid;

use crate::convert::{from_db_time, parse_id, parse_name, parse_optional_id, to_db_time};
use crate::customers::{self, Change, UpdateOutcome};
use crate::db::{write_transaction, MultiBackend, Outcome};
use crate::keyset::{keyset, Window};
use crate::schema::{
    assessments, customer_events, customer_notes, interactions, ownership_transfers,
};
use crate::versioned::Expected;
use crate::{credit, now, DbConnection, StoreError};

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

/// A page of a customer's handovers, oldest first.
pub fn transfers(
    conn: &mut DbConnection,
    customer_id: Uuid,
    window: &Window<DateTime<Utc>>,
) -> Result<Vec<Transfer>, StoreError> {
    let mut query = ownership_transfers::table
        .filter(ownership_transfers::customer_id.eq(customer_id.to_string()))
        .into_boxed::<MultiBackend>();
    keyset!(
        query,
        ownership_transfers::transferred_at,
        ownership_transfers::id,
        window.after_db_time(),
        false
    );
    query
        .limit(window.limit)
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

impl Outcome for Note {}
impl Outcome for AssessmentRecord {}
impl Outcome for CustomerEvent {}
impl Outcome for Interaction {}

/// Adds a record to a customer's file under the customer's row lock; refused while the file
/// is archived.
fn add_to_file<T: Outcome>(
    conn: &mut DbConnection,
    customer_id: Uuid,
    mut add: impl FnMut(&mut DbConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    write_transaction(conn, |conn| {
        customers::lock_writable_file(conn, customer_id)?;
        add(conn)
    })
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
    add_to_file(conn, customer_id, |conn| {
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
        Ok(note.clone())
    })
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = customer_notes)]
struct NoteRow {
    id: String,
    customer_id: String,
    department: String,
    body: String,
    author_id: String,
    created_at: NaiveDateTime,
}

impl NoteRow {
    fn into_note(self) -> Result<Note, StoreError> {
        Ok(Note {
            id: parse_id(&self.id)?,
            customer_id: parse_id(&self.customer_id)?,
            department: parse_name(&self.department, Department::parse)?,
            body: self.body,
            author_id: parse_id(&self.author_id)?,
            created_at: from_db_time(self.created_at),
        })
    }
}

/// A page of a customer's notes, newest first, optionally of one department.
pub fn notes(
    conn: &mut DbConnection,
    customer_id: Uuid,
    department: Option<Department>,
    window: &Window<DateTime<Utc>>,
) -> Result<Vec<Note>, StoreError> {
    let mut query = customer_notes::table
        .filter(customer_notes::customer_id.eq(customer_id.to_string()))
        .into_boxed::<MultiBackend>();
    if let Some(department) = department {
        query = query.filter(customer_notes::department.eq(department.as_str()));
    }
    keyset!(
        query,
        customer_notes::created_at,
        customer_notes::id,
        window.after_db_time(),
        true
    );
    query
        .limit(window.limit)
        .select(NoteRow::as_select())
        .load::<NoteRow>(conn)?
        .into_iter()
        .map(NoteRow::into_note)
        .collect()
}

pub fn note(conn: &mut DbConnection, id: Uuid) -> Result<Option<Note>, StoreError> {
    customer_notes::table
        .find(id.to_string())
        .select(NoteRow::as_select())
        .first::<NoteRow>(conn)
        .optional()?
        .map(NoteRow::into_note)
        .transpose()
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
    add_to_file(conn, customer_id, |conn| {
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
        Ok(record.clone())
    })
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

/// A page of a customer's assessments, newest first: every department's view side by side.
pub fn assessments(
    conn: &mut DbConnection,
    customer_id: Uuid,
    window: &Window<DateTime<Utc>>,
) -> Result<Vec<AssessmentRecord>, StoreError> {
    let mut query = assessments::table
        .filter(assessments::customer_id.eq(customer_id.to_string()))
        .into_boxed::<MultiBackend>();
    keyset!(
        query,
        assessments::created_at,
        assessments::id,
        window.after_db_time(),
        true
    );
    query
        .limit(window.limit)
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

/// Records an event; one of the kinds that open a credit review marks the customer in the
/// same transaction.
pub fn add_event(
    conn: &mut DbConnection,
    customer_id: Uuid,
    event: NewEvent,
    actor: Uuid,
) -> Result<CustomerEvent, StoreError> {
    let record = CustomerEvent {
        id: Uuid::now_v7(),
        customer_id,
        kind: event.kind,
        occurred_on: event.occurred_on,
        department: event.department,
        description: event.description,
        opens_credit_review: event.kind.opens_credit_review(),
        created_by: actor,
        created_at: now(),
    };
    add_to_file(conn, customer_id, |conn| {
        diesel::insert_into(customer_events::table)
            .values((
                customer_events::id.eq(record.id.to_string()),
                customer_events::customer_id.eq(customer_id.to_string()),
                customer_events::kind.eq(record.kind.as_str()),
                customer_events::occurred_on.eq(record.occurred_on),
                customer_events::department.eq(record.department.as_str()),
                customer_events::description.eq(&record.description),
                customer_events::opens_credit_review.eq(record.opens_credit_review),
                customer_events::created_by.eq(actor.to_string()),
                customer_events::created_at.eq(to_db_time(record.created_at)),
            ))
            .execute(conn)?;
        if record.kind == EventKind::Litigation {
            let detail = format!("litigation recorded: {}", record.description);
            credit::alerts::raise(
                conn,
                customer_id,
                AlertKind::Litigation,
                detail,
                record.occurred_on,
                actor,
            )?;
        }
        if record.opens_credit_review {
            match customers::update(
                conn,
                customer_id,
                &Expected::Any,
                Change::CreditReviewDue,
                actor,
            )? {
                UpdateOutcome::Updated(_) => {}
                _ => return Err(StoreError::NotFound),
            }
        }
        Ok(record.clone())
    })
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = customer_events)]
struct EventRow {
    id: String,
    customer_id: String,
    kind: String,
    occurred_on: NaiveDate,
    department: String,
    description: String,
    opens_credit_review: bool,
    created_by: String,
    created_at: NaiveDateTime,
}

impl EventRow {
    fn into_event(self) -> Result<CustomerEvent, StoreError> {
        Ok(CustomerEvent {
            id: parse_id(&self.id)?,
            customer_id: parse_id(&self.customer_id)?,
            kind: parse_name(&self.kind, EventKind::parse)?,
            occurred_on: self.occurred_on,
            department: parse_name(&self.department, Department::parse)?,
            description: self.description,
            opens_credit_review: self.opens_credit_review,
            created_by: parse_id(&self.created_by)?,
            created_at: from_db_time(self.created_at),
        })
    }
}

/// A page of a customer's events, newest first.
pub fn events(
    conn: &mut DbConnection,
    customer_id: Uuid,
    window: &Window<DateTime<Utc>>,
) -> Result<Vec<CustomerEvent>, StoreError> {
    let mut query = customer_events::table
        .filter(customer_events::customer_id.eq(customer_id.to_string()))
        .into_boxed::<MultiBackend>();
    keyset!(
        query,
        customer_events::created_at,
        customer_events::id,
        window.after_db_time(),
        true
    );
    query
        .limit(window.limit)
        .select(EventRow::as_select())
        .load::<EventRow>(conn)?
        .into_iter()
        .map(EventRow::into_event)
        .collect()
}

pub fn event(conn: &mut DbConnection, id: Uuid) -> Result<Option<CustomerEvent>, StoreError> {
    customer_events::table
        .find(id.to_string())
        .select(EventRow::as_select())
        .first::<EventRow>(conn)
        .optional()?
        .map(EventRow::into_event)
        .transpose()
}

pub fn add_interaction(
    conn: &mut DbConnection,
    customer_id: Uuid,
    new: NewInteraction,
    actor: Uuid,
) -> Result<Interaction, StoreError> {
    let record = Interaction {
        id: Uuid::now_v7(),
        customer_id,
        channel: new.channel,
        direction: new.direction,
        occurred_at: new.occurred_at,
        participants: new.participants,
        summary: new.summary,
        outcome: new.outcome,
        created_by: actor,
        created_at: now(),
    };
    add_to_file(conn, customer_id, |conn| {
        diesel::insert_into(interactions::table)
            .values((
                interactions::id.eq(record.id.to_string()),
                interactions::customer_id.eq(customer_id.to_string()),
                interactions::channel.eq(record.channel.as_str()),
                interactions::direction.eq(record.direction.as_str()),
                interactions::occurred_at.eq(to_db_time(record.occurred_at)),
                interactions::participants.eq(serde_json::to_string(&record.participants)?),
                interactions::summary.eq(&record.summary),
                interactions::outcome.eq(&record.outcome),
                interactions::created_by.eq(actor.to_string()),
                interactions::created_at.eq(to_db_time(record.created_at)),
            ))
            .execute(conn)?;
        Ok(record.clone())
    })
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = interactions)]
struct InteractionRow {
    id: String,
    customer_id: String,
    channel: String,
    direction: String,
    occurred_at: NaiveDateTime,
    participants: String,
    summary: String,
    outcome: Option<String>,
    created_by: String,
    created_at: NaiveDateTime,
}

impl InteractionRow {
    fn into_interaction(self) -> Result<Interaction, StoreError> {
        Ok(Interaction {
            id: parse_id(&self.id)?,
            customer_id: parse_id(&self.customer_id)?,
            channel: parse_name(&self.channel, InteractionChannel::parse)?,
            direction: parse_name(&self.direction, Direction::parse)?,
            occurred_at: from_db_time(self.occurred_at),
            participants: serde_json::from_str::<Participants>(&self.participants)?,
            summary: self.summary,
            outcome: self.outcome,
            created_by: parse_id(&self.created_by)?,
            created_at: from_db_time(self.created_at),
        })
    }
}

/// A customer's interactions, newest first, after the (occurred_at, id) of the last page.
pub fn interactions(
    conn: &mut DbConnection,
    customer_id: Uuid,
    window: &Window<DateTime<Utc>>,
) -> Result<Vec<Interaction>, StoreError> {
    let mut query = interactions::table
        .filter(interactions::customer_id.eq(customer_id.to_string()))
        .into_boxed::<MultiBackend>();
    keyset!(
        query,
        interactions::occurred_at,
        interactions::id,
        window.after_db_time(),
        true
    );
    query
        .limit(window.limit)
        .select(InteractionRow::as_select())
        .load::<InteractionRow>(conn)?
        .into_iter()
        .map(InteractionRow::into_interaction)
        .collect()
}

pub fn interaction(conn: &mut DbConnection, id: Uuid) -> Result<Option<Interaction>, StoreError> {
    interactions::table
        .find(id.to_string())
        .select(InteractionRow::as_select())
        .first::<InteractionRow>(conn)
        .optional()?
        .map(InteractionRow::into_interaction)
        .transpose()
}
