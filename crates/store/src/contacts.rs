//! Contacts of a customer. Archived contacts stay for history but leave lists and search.

use std::convert::Infallible;

use chrono::{DateTime, NaiveDateTime, Utc};
use credo_core::audit::AuditAction;
use credo_core::json::{changes, patched};
use credo_core::{Email, FieldError, Phone};
use credo_customers::{
    Contact, ContactInput, ContactRecord, ContactRole, DecisionAuthority, Stamps,
};
use diesel::prelude::*;
use uuid::Uuid;

use crate::convert::{
    from_db_time, parse_id, parse_optional_name, parse_stored, stamps, to_db_time,
};
use crate::customers;
use crate::db::{write_transaction, MultiBackend, Outcome};
use crate::keyset::Window;
use crate::schema::contacts;
use crate::versioned::{self, Expected, Updated, Versioned};
use crate::{audit, search};
use crate::{now, DbConnection, StoreError};

pub const ENTITY: &str = "contact";

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = contacts, treat_none_as_null = true)]
struct Row {
    id: String,
    customer_id: String,
    name: String,
    search_key: String,
    role: Option<String>,
    title: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    decision_authority: Option<String>,
    is_primary: bool,
    notes: Option<String>,
    archived_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    created_by: String,
    updated_at: NaiveDateTime,
    updated_by: String,
    version: i64,
}

impl Row {
    fn from_record(r: &ContactRecord, archived_at: Option<NaiveDateTime>) -> Self {
        let c = &r.contact;
        Row {
            id: r.id.to_string(),
            customer_id: r.customer_id.to_string(),
            name: c.name.clone(),
            search_key: credo_core::text::search_key(&c.name),
            role: c.role.map(|x| x.as_str().to_owned()),
            title: c.title.clone(),
            phone: c.phone.as_ref().map(|p| p.as_str().to_owned()),
            email: c.email.as_ref().map(|e| e.as_str().to_owned()),
            decision_authority: c.decision_authority.map(|x| x.as_str().to_owned()),
            is_primary: c.is_primary,
            notes: c.notes.clone(),
            archived_at,
            created_at: to_db_time(r.stamps.created_at),
            created_by: r.stamps.created_by.to_string(),
            updated_at: to_db_time(r.stamps.updated_at),
            updated_by: r.stamps.updated_by.to_string(),
            version: r.stamps.version,
        }
    }

    fn into_record(self) -> Result<ContactRecord, StoreError> {
        Ok(ContactRecord {
            id: parse_id(&self.id)?,
            customer_id: parse_id(&self.customer_id)?,
            contact: Contact {
                name: self.name,
                role: parse_optional_name(self.role.as_deref(), ContactRole::parse)?,
                title: self.title,
                phone: parse_stored(self.phone.as_deref(), Phone::parse, "contact phone")?,
                email: parse_stored(self.email.as_deref(), Email::parse, "contact email")?,
                decision_authority: parse_optional_name(
                    self.decision_authority.as_deref(),
                    DecisionAuthority::parse,
                )?,
                is_primary: self.is_primary,
                notes: self.notes,
            },
            stamps: stamps(
                self.created_at,
                &self.created_by,
                self.updated_at,
                &self.updated_by,
                self.version,
            )?,
        })
    }
}

/// A live (not archived) contact of the given customer.
pub fn get(
    conn: &mut DbConnection,
    customer_id: Uuid,
    id: Uuid,
) -> Result<Option<ContactRecord>, StoreError> {
    contacts::table
        .find(id.to_string())
        .filter(contacts::customer_id.eq(customer_id.to_string()))
        .filter(contacts::archived_at.is_null())
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .map(Row::into_record)
        .transpose()
}

/// A page of a customer's live contacts (only those changed at or after `updated_since` when
/// given): the primary first, then by name. The page key is (primary, name).
pub fn list(
    conn: &mut DbConnection,
    customer_id: Uuid,
    updated_since: Option<DateTime<Utc>>,
    window: &Window<(bool, String)>,
) -> Result<Vec<ContactRecord>, StoreError> {
    let mut query = contacts::table
        .filter(contacts::customer_id.eq(customer_id.to_string()))
        .filter(contacts::archived_at.is_null())
        .into_boxed::<MultiBackend>();
    if let Some(since) = updated_since {
        query = query.filter(contacts::updated_at.ge(to_db_time(since)));
    }
    if let Some(((primary, name), id)) = window.after.clone() {
        let later_in_group = contacts::name
            .gt(name.clone())
            .or(contacts::name.eq(name).and(contacts::id.gt(id.to_string())));
        // The primary comes first: after it, every other contact follows.
        query = if primary {
            query.filter(
                contacts::is_primary
                    .eq(false)
                    .or(contacts::is_primary.eq(true).and(later_in_group)),
            )
        } else {
            query.filter(contacts::is_primary.eq(false).and(later_in_group))
        };
    }
    query
        .limit(window.limit)
        .order((
            contacts::is_primary.desc(),
            contacts::name.asc(),
            contacts::id.asc(),
        ))
        .select(Row::as_select())
        .load(conn)?
        .into_iter()
        .map(Row::into_record)
        .collect()
}

/// Only one primary contact per customer: making one primary demotes the others. Writers of
/// a customer's contacts hold the customer's row lock (`lock_writable_file`), so concurrent
/// promotions take turns, each demoting what the one before committed.
fn demote_other_primaries(
    conn: &mut DbConnection,
    record: &ContactRecord,
) -> Result<(), StoreError> {
    if record.contact.is_primary {
        diesel::update(
            contacts::table
                .filter(contacts::customer_id.eq(record.customer_id.to_string()))
                .filter(contacts::id.ne(record.id.to_string()))
                .filter(contacts::is_primary.eq(true)),
        )
        .set((
            contacts::is_primary.eq(false),
            contacts::version.eq(contacts::version + 1),
        ))
        .execute(conn)?;
    }
    Ok(())
}

pub enum CreateOutcome {
    Created(Box<ContactRecord>),
    IdTaken,
}

impl Outcome for CreateOutcome {
    fn is_refusal(&self) -> bool {
        matches!(self, CreateOutcome::IdTaken)
    }
}

/// Recomputes the search key of every contact (and the search entry of a live one) where the
/// stored one differs from what the current rule gives: see `name_keys`.
pub(crate) fn refold_keys(conn: &mut DbConnection) -> Result<usize, StoreError> {
    let mut changed = 0;
    for row in contacts::table.select(Row::as_select()).load::<Row>(conn)? {
        let key = credo_core::text::search_key(&row.name);
        if key == row.search_key {
            continue;
        }
        diesel::update(contacts::table.find(&row.id))
            .set(contacts::search_key.eq(&key))
            .execute(conn)?;
        if row.archived_at.is_none() {
            let (id, customer_id) = (parse_id(&row.id)?, parse_id(&row.customer_id)?);
            search::index(conn, id, customer_id, Some(&key))?;
        }
        changed += 1;
    }
    Ok(changed)
}

/// The contacts' side of archiving or restoring their customer.
pub(crate) enum Archival {
    /// The customer is archived at this moment: its live contacts are archived with it, at
    /// the same moment.
    Archive(DateTime<Utc>),
    /// The customer archived at this moment is restored: the contacts archived with it come
    /// back; those deleted on their own before stay archived.
    Restore(DateTime<Utc>),
}

/// Archives or restores a customer's contacts with it, in its transaction (under its row
/// lock), each as a change of its own: a new version and a history entry.
pub(crate) fn follow_archival(
    conn: &mut DbConnection,
    customer_id: Uuid,
    archival: Archival,
    actor: Uuid,
) -> Result<(), StoreError> {
    let query = contacts::table
        .filter(contacts::customer_id.eq(customer_id.to_string()))
        .select(Row::as_select())
        .into_boxed::<MultiBackend>();
    let (query, archived_at, action) = match archival {
        Archival::Archive(at) => (
            query.filter(contacts::archived_at.is_null()),
            Some(at),
            AuditAction::Archived,
        ),
        Archival::Restore(at) => (
            query.filter(contacts::archived_at.eq(to_db_time(at))),
            None,
            AuditAction::Restored,
        ),
    };
    for row in query.load::<Row>(conn)? {
        let stored = Stored {
            archived_at: row.archived_at.map(from_db_time),
            record: row.into_record()?,
        };
        let id = stored.record.id;
        let outcome = versioned::update(
            conn,
            id,
            &Expected::Any,
            actor,
            |_| Ok(Some(stored.clone())),
            |_, current| {
                let mut next = current.clone();
                next.archived_at = archived_at;
                Ok(Ok::<_, Infallible>((next, action)))
            },
        )?;
        if !matches!(outcome, Updated::Updated(_)) {
            return Err(StoreError::Conflict(format!("contact {id}")));
        }
    }
    Ok(())
}

pub fn create(
    conn: &mut DbConnection,
    id: Uuid,
    customer_id: Uuid,
    contact: Contact,
    actor: Uuid,
) -> Result<CreateOutcome, StoreError> {
    write_transaction(conn, |conn| {
        customers::lock_writable_file(conn, customer_id)?;
        let taken = contacts::table
            .find(id.to_string())
            .count()
            .get_result::<i64>(conn)?
            > 0;
        if taken {
            return Ok(CreateOutcome::IdTaken);
        }
        let at = now();
        let record = ContactRecord {
            id,
            customer_id,
            contact: contact.clone(),
            stamps: Stamps {
                created_at: at,
                created_by: actor,
                updated_at: at,
                updated_by: actor,
                version: 1,
            },
        };
        diesel::insert_into(contacts::table)
            .values(Row::from_record(&record, None))
            .execute(conn)?;
        demote_other_primaries(conn, &record)?;
        let key = credo_core::text::search_key(&record.contact.name);
        search::index(conn, id, customer_id, Some(&key))?;
        let diff = changes(
            &serde_json::Value::Null,
            &serde_json::to_value(&record.contact)?,
        );
        audit::record(conn, ENTITY, id, AuditAction::Created, actor, &diff)?;
        Ok(CreateOutcome::Created(Box::new(record)))
    })
}

/// A change to one contact.
#[derive(Clone)]
pub enum ContactChange {
    /// A JSON merge patch of the contact in its `ContactInput` form.
    Patch(serde_json::Value),
    /// Out of lists and search; kept for history.
    Archive,
}

pub type UpdateOutcome = Updated<ContactRecord, Vec<FieldError>>;

/// A contact as its row holds it: the record and whether it is archived.
#[derive(Clone)]
struct Stored {
    record: ContactRecord,
    archived_at: Option<DateTime<Utc>>,
}

impl Versioned for Stored {
    const TABLE: &'static str = "contacts";
    const ENTITY: &'static str = ENTITY;

    fn stamps(&self) -> &Stamps {
        &self.record.stamps
    }

    fn stamps_mut(&mut self) -> &mut Stamps {
        &mut self.record.stamps
    }

    fn audit_view(&self) -> Result<serde_json::Value, StoreError> {
        let mut view = serde_json::to_value(&self.record.contact)?;
        view["archived_at"] = serde_json::to_value(self.archived_at)?;
        Ok(view)
    }

    fn write(conn: &mut DbConnection, current: &Self, next: &Self) -> Result<usize, StoreError> {
        let (id, customer_id) = (next.record.id, next.record.customer_id);
        let written = diesel::update(
            contacts::table
                .find(id.to_string())
                .filter(contacts::version.eq(current.record.stamps.version)),
        )
        .set(Row::from_record(
            &next.record,
            next.archived_at.map(to_db_time),
        ))
        .execute(conn)?;
        if next.archived_at.is_some() {
            search::index(conn, id, customer_id, None)?;
            return Ok(written);
        }
        demote_other_primaries(conn, &next.record)?;
        let restored = current.archived_at.is_some();
        if restored || next.record.contact.name != current.record.contact.name {
            let key = credo_core::text::search_key(&next.record.contact.name);
            search::index(conn, id, customer_id, Some(&key))?;
        }
        Ok(written)
    }
}

/// Changes a live contact of the customer, if still at `expected_version`.
pub fn update(
    conn: &mut DbConnection,
    customer_id: Uuid,
    id: Uuid,
    expected: &Expected,
    change: ContactChange,
    actor: Uuid,
) -> Result<UpdateOutcome, StoreError> {
    let outcome = write_transaction(conn, |conn| {
        customers::lock_writable_file(conn, customer_id)?;
        versioned::update(
            conn,
            id,
            expected,
            actor,
            |conn| {
                Ok(get(conn, customer_id, id)?.map(|record| Stored {
                    record,
                    archived_at: None,
                }))
            },
            |_, current| {
                let mut next = current.clone();
                Ok(match change.clone() {
                    ContactChange::Patch(patch) => {
                        let contact = patched::<ContactInput>(&current.record.contact, &patch)
                            .and_then(Contact::try_from);
                        contact.map(|contact| {
                            next.record.contact = contact;
                            (next, AuditAction::Updated)
                        })
                    }
                    ContactChange::Archive => {
                        next.archived_at = Some(now());
                        Ok((next, AuditAction::Archived))
                    }
                })
            },
        )
    })?;
    Ok(outcome.map(|stored| stored.record))
}

/// Which of `ids` are live contacts of the customer.
pub fn live_ids(
    conn: &mut DbConnection,
    customer_id: Uuid,
    ids: &[Uuid],
) -> Result<Vec<Uuid>, StoreError> {
    let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    contacts::table
        .filter(contacts::customer_id.eq(customer_id.to_string()))
        .filter(contacts::archived_at.is_null())
        .filter(contacts::id.eq_any(ids))
        .select(contacts::id)
        .load::<String>(conn)?
        .iter()
        .map(|id| parse_id(id))
        .collect()
}
