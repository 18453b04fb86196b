//! The customer file: customers with their tags, contacts, ownership transfers, notes and
//! assessments. Every change bumps the record's version and writes an audit entry in the
//! same transaction.

use chrono::{NaiveDate, NaiveDateTime};
use credo_core::audit::AuditAction;
use credo_core::json::{changes, patched};
use credo_core::{CountryCode, Email, FieldError, Phone, Scope, Tag, Uscc};
use credo_customers::change::{apply_change, may_change, FileChange, FileRefusal};
use credo_customers::{
    CommunicationStatus, Customer, CustomerInput, CustomerKind, CustomerProfile, LifecycleStage,
    OperatingStatus, SourceChannel, Stamps,
};
use diesel::prelude::*;
use uuid::Uuid;

use crate::contacts::{self, Archival};
use crate::convert::{
    from_db_time, parse_id, parse_name, parse_optional_id, parse_optional_name, parse_stored,
    stamps, to_db_time,
};
use crate::db::MultiBackend;
use crate::db::{lock_row, write_transaction, Outcome};
use crate::holder::{self, Holder};
use crate::keyset::{keyset, SortKey, Sorting};
use crate::schema::{contacts as contact_rows, customer_tags, customers};

diesel::define_sql_function! {
    /// SQL `lower`, as the e-mail indexes are built (ASCII alike on both databases).
    fn lower(text: diesel::sql_types::Nullable<diesel::sql_types::Text>) -> diesel::sql_types::Nullable<diesel::sql_types::Text>;
}
use crate::versioned::{self, Expected, Updated, Versioned};
use crate::webhooks;
use crate::{audit, search};
use crate::{now, DbConnection, StoreError};
use credo_core::webhooks::EventType;

pub const ENTITY: &str = "customer";

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = customers, treat_none_as_null = true)]
struct Row {
    id: String,
    kind: String,
    legal_name: String,
    short_name: Option<String>,
    search_key: String,
    country: Option<String>,
    region: Option<String>,
    address: Option<String>,
    industry: Option<String>,
    source_channel: Option<String>,
    communication_status: Option<String>,
    uscc: Option<String>,
    operating_status: Option<String>,
    founded_on: Option<chrono::NaiveDate>,
    birthday: Option<chrono::NaiveDate>,
    details: String,
    lifecycle_stage: String,
    owner_id: String,
    sales_unit_id: Option<String>,
    archived_at: Option<NaiveDateTime>,
    created_at: NaiveDateTime,
    created_by: String,
    updated_at: NaiveDateTime,
    updated_by: String,
    version: i64,
    credit_review_due_since: Option<NaiveDateTime>,
    credit_data_refreshed_at: NaiveDateTime,
    name_key: String,
}

/// The profile fields kept in the `details` JSON column, as they were written (valid):
/// read back without parsing them again. The tags are here too, so that a customer is one
/// row; `customer_tags` indexes them for the tag filter.
#[derive(serde::Serialize, serde::Deserialize)]
struct Details {
    main_products: Option<String>,
    legal_representative: Option<String>,
    business_manager: Option<String>,
    phones: Vec<String>,
    emails: Vec<String>,
    tax_number: Option<String>,
    bank_name: Option<String>,
    bank_account: Option<String>,
    age_band: Option<String>,
    education: Option<String>,
    needs_category: Option<String>,
    tags: Vec<String>,
}

fn texts<T: AsRef<str>>(values: &[T]) -> Vec<String> {
    values.iter().map(|v| v.as_ref().to_owned()).collect()
}

impl Details {
    fn of(p: &CustomerProfile) -> Self {
        Details {
            main_products: p.main_products.clone(),
            legal_representative: p.legal_representative.clone(),
            business_manager: p.business_manager.clone(),
            phones: texts(&p.phones),
            emails: texts(&p.emails),
            tax_number: p.tax_number.clone(),
            bank_name: p.bank_name.clone(),
            bank_account: p.bank_account.clone(),
            age_band: p.age_band.clone(),
            education: p.education.clone(),
            needs_category: p.needs_category.clone(),
            tags: texts(&p.tags),
        }
    }
}

impl Row {
    fn from_customer(c: &Customer) -> Result<Self, StoreError> {
        let p = &c.profile;
        Ok(Row {
            id: c.id.to_string(),
            kind: p.kind.as_str().to_owned(),
            legal_name: p.legal_name.clone(),
            short_name: p.short_name.clone(),
            search_key: p.search_key(),
            country: p.country.map(|c| c.as_str().to_owned()),
            region: p.region.clone(),
            address: p.address.clone(),
            industry: p.industry.clone(),
            source_channel: p.source_channel.map(|s| s.as_str().to_owned()),
            communication_status: p.communication_status.map(|s| s.as_str().to_owned()),
            uscc: p.uscc.as_ref().map(|u| u.as_str().to_owned()),
            operating_status: p.operating_status.map(|s| s.as_str().to_owned()),
            founded_on: p.founded_on,
            birthday: p.birthday,
            details: serde_json::to_string(&Details::of(p))?,
            lifecycle_stage: p.lifecycle_stage.as_str().to_owned(),
            owner_id: c.owner_id.to_string(),
            sales_unit_id: c.sales_unit_id.map(|u| u.to_string()),
            archived_at: c.archived_at.map(to_db_time),
            created_at: to_db_time(c.stamps.created_at),
            created_by: c.stamps.created_by.to_string(),
            updated_at: to_db_time(c.stamps.updated_at),
            updated_by: c.stamps.updated_by.to_string(),
            version: c.stamps.version,
            credit_review_due_since: c.credit_review_due_since.map(to_db_time),
            credit_data_refreshed_at: to_db_time(c.credit_data_refreshed_at),
            name_key: credo_core::text::search_key(&p.legal_name),
        })
    }

    fn into_customer(self) -> Result<Customer, StoreError> {
        let details: Details = serde_json::from_str(&self.details)?;
        let profile = CustomerProfile {
            kind: parse_name(&self.kind, CustomerKind::parse)?,
            legal_name: self.legal_name,
            short_name: self.short_name,
            country: parse_stored(
                self.country.as_deref(),
                CountryCode::parse,
                "customer country",
            )?,
            region: self.region,
            address: self.address,
            industry: self.industry,
            source_channel: parse_optional_name(
                self.source_channel.as_deref(),
                SourceChannel::parse,
            )?,
            communication_status: parse_optional_name(
                self.communication_status.as_deref(),
                CommunicationStatus::parse,
            )?,
            uscc: self.uscc.map(Uscc::stored),
            operating_status: parse_optional_name(
                self.operating_status.as_deref(),
                OperatingStatus::parse,
            )?,
            founded_on: self.founded_on,
            main_products: details.main_products,
            legal_representative: details.legal_representative,
            business_manager: details.business_manager,
            phones: details.phones.into_iter().map(Phone::stored).collect(),
            emails: details.emails.into_iter().map(Email::stored).collect(),
            tax_number: details.tax_number,
            bank_name: details.bank_name,
            bank_account: details.bank_account,
            age_band: details.age_band,
            education: details.education,
            needs_category: details.needs_category,
            birthday: self.birthday,
            tags: details.tags.into_iter().map(Tag::stored).collect(),
            lifecycle_stage: parse_name(&self.lifecycle_stage, LifecycleStage::parse)?,
        };
        Ok(Customer {
            id: parse_id(&self.id)?,
            profile,
            owner_id: parse_id(&self.owner_id)?,
            sales_unit_id: parse_optional_id(self.sales_unit_id.as_deref())?,
            archived_at: self.archived_at.map(from_db_time),
            credit_review_due_since: self.credit_review_due_since.map(from_db_time),
            credit_data_refreshed_at: from_db_time(self.credit_data_refreshed_at),
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

fn rows_into_customers(rows: Vec<Row>) -> Result<Vec<Customer>, StoreError> {
    rows.into_iter().map(Row::into_customer).collect()
}

fn replace_tags(
    conn: &mut DbConnection,
    customer_id: Uuid,
    tags: &[Tag],
) -> Result<(), StoreError> {
    let id = customer_id.to_string();
    diesel::delete(customer_tags::table.filter(customer_tags::customer_id.eq(&id)))
        .execute(conn)?;
    // One row at a time: multi-row inserts do not go through the MultiConnection enum.
    for tag in tags {
        diesel::insert_into(customer_tags::table)
            .values((
                customer_tags::customer_id.eq(&id),
                customer_tags::tag.eq(tag.as_str()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub fn get(conn: &mut DbConnection, id: Uuid) -> Result<Option<Customer>, StoreError> {
    customers::table
        .find(id.to_string())
        .select(Row::as_select())
        .first::<Row>(conn)
        .optional()?
        .map(Row::into_customer)
        .transpose()
}

/// Recomputes the name keys of every customer (and its search entry) where the stored ones
/// differ from what the current rule gives: see `name_keys`.
pub(crate) fn refold_keys(conn: &mut DbConnection) -> Result<usize, StoreError> {
    let mut changed = 0;
    for row in customers::table
        .select(Row::as_select())
        .load::<Row>(conn)?
    {
        let stored = (row.search_key.clone(), row.name_key.clone());
        let fresh = Row::from_customer(&row.into_customer()?)?;
        if (fresh.search_key.clone(), fresh.name_key.clone()) == stored {
            continue;
        }
        diesel::update(customers::table.find(&fresh.id))
            .set((
                customers::search_key.eq(&fresh.search_key),
                customers::name_key.eq(&fresh.name_key),
            ))
            .execute(conn)?;
        let id = parse_id(&fresh.id)?;
        search::index(conn, id, id, Some(&fresh.search_key))?;
        changed += 1;
    }
    Ok(changed)
}

/// Locks the customer's row for a change to its file and refuses the change while the file is
/// archived. Every writer of a customer's contacts, notes, assessments, events and
/// interactions takes it first (one lock order: no deadlock).
pub(crate) fn lock_writable_file(conn: &mut DbConnection, id: Uuid) -> Result<(), StoreError> {
    lock_row(conn, "customers", id)?;
    match get(conn, id)? {
        None => Err(StoreError::NotFound),
        Some(customer) if customer.is_read_only() => Err(StoreError::CustomerArchived),
        Some(_) => Ok(()),
    }
}

/// Who owns a customer and in which sales unit: what row scope needs, without the rest.
pub fn ownership(
    conn: &mut DbConnection,
    id: Uuid,
) -> Result<Option<(Uuid, Option<Uuid>)>, StoreError> {
    customers::table
        .find(id.to_string())
        .select((customers::owner_id, customers::sales_unit_id))
        .first::<(String, Option<String>)>(conn)
        .optional()?
        .map(|(owner, unit)| Ok((parse_id(&owner)?, parse_optional_id(unit.as_deref())?)))
        .transpose()
}

/// The id of another customer that already has this USCC.
fn uscc_holder(
    conn: &mut DbConnection,
    uscc: Option<&Uscc>,
    except: Uuid,
) -> Result<Option<Holder>, StoreError> {
    let Some(uscc) = uscc else { return Ok(None) };
    let found = customers::table
        .filter(customers::uscc.eq(uscc.as_str()))
        .filter(customers::id.ne(except.to_string()))
        .select(customers::id)
        .first::<String>(conn)
        .optional()?;
    match found {
        Some(id) => Ok(Some(holder::of_customer(conn, parse_id(&id)?)?)),
        None => Ok(None),
    }
}

/// The audit view of a customer: its profile and ownership as JSON.
fn audit_view(customer: &Customer) -> Result<serde_json::Value, StoreError> {
    let mut view = serde_json::to_value(&customer.profile)?;
    view["owner_id"] = serde_json::to_value(customer.owner_id)?;
    view["sales_unit_id"] = serde_json::to_value(customer.sales_unit_id)?;
    view["credit_review_due_since"] = serde_json::to_value(customer.credit_review_due_since)?;
    view["credit_data_refreshed_at"] = serde_json::to_value(customer.credit_data_refreshed_at)?;
    view["archived_at"] = serde_json::to_value(customer.archived_at)?;
    Ok(view)
}

pub enum CreateOutcome {
    Created(Customer),
    /// Another customer has this USCC.
    DuplicateUscc(Holder),
    /// The client-chosen id belongs to an existing customer.
    IdTaken(Customer),
}

impl Outcome for CreateOutcome {
    fn is_refusal(&self) -> bool {
        !matches!(self, CreateOutcome::Created(_))
    }
}

#[derive(Clone)]
pub struct NewCustomer {
    pub id: Uuid,
    pub profile: CustomerProfile,
    pub owner_id: Uuid,
    pub sales_unit_id: Option<Uuid>,
    pub actor: Uuid,
}

pub fn create(conn: &mut DbConnection, new: NewCustomer) -> Result<CreateOutcome, StoreError> {
    write_transaction(conn, |conn| {
        if let Some(existing) = get(conn, new.id)? {
            return Ok(CreateOutcome::IdTaken(existing));
        }
        if let Some(holder) = uscc_holder(conn, new.profile.uscc.as_ref(), new.id)? {
            return Ok(CreateOutcome::DuplicateUscc(holder));
        }
        let at = now();
        let customer = Customer {
            id: new.id,
            profile: new.profile.clone(),
            owner_id: new.owner_id,
            sales_unit_id: new.sales_unit_id,
            archived_at: None,
            credit_review_due_since: None,
            credit_data_refreshed_at: at,
            stamps: Stamps {
                created_at: at,
                created_by: new.actor,
                updated_at: at,
                updated_by: new.actor,
                version: 1,
            },
        };
        diesel::insert_into(customers::table)
            .values(Row::from_customer(&customer)?)
            .execute(conn)?;
        replace_tags(conn, customer.id, &customer.profile.tags)?;
        let key = customer.profile.search_key();
        search::index(conn, customer.id, customer.id, Some(&key))?;
        let created = changes(&serde_json::Value::Null, &audit_view(&customer)?);
        audit::record(
            conn,
            ENTITY,
            customer.id,
            AuditAction::Created,
            new.actor,
            &created,
        )?;
        webhooks::emit(conn, EventType::CustomerCreated, &customer)?;
        Ok(CreateOutcome::Created(customer))
    })
}

/// Why a change to a customer was refused.
#[derive(Debug)]
pub enum Refusal {
    /// The patched profile breaks these rules.
    Invalid(Vec<FieldError>),
    /// Another customer has this USCC.
    DuplicateUscc(Holder),
}

pub type UpdateOutcome = Updated<Customer, Refusal>;

/// A change to one customer, applied only if the record is still at `expected_version`
/// (when given).
#[derive(Clone)]
pub enum Change {
    /// A JSON merge patch of the profile in its `CustomerInput` form; `today` bounds its dates.
    Patch {
        patch: serde_json::Value,
        today: NaiveDate,
    },
    Archive,
    Restore,
    Transfer {
        owner_id: Uuid,
        sales_unit_id: Option<Uuid>,
        reason: String,
    },
    /// A customer event opened a credit review (kept from the first open one).
    CreditReviewDue,
    /// The basic credit data was confirmed current at this time.
    CreditDataRefreshed(chrono::DateTime<chrono::Utc>),
}

impl Versioned for Customer {
    const TABLE: &'static str = "customers";
    const ENTITY: &'static str = ENTITY;

    versioned::stamps_field!();

    fn audit_view(&self) -> Result<serde_json::Value, StoreError> {
        audit_view(self)
    }

    fn tell(conn: &mut DbConnection, current: &Self, next: &Self) -> Result<(), StoreError> {
        webhooks::emit(conn, next.event_since(current), next)
    }

    fn write(conn: &mut DbConnection, current: &Self, next: &Self) -> Result<usize, StoreError> {
        let written = diesel::update(
            customers::table
                .find(current.id.to_string())
                .filter(customers::version.eq(current.stamps.version)),
        )
        .set(Row::from_customer(next)?)
        .execute(conn)?;
        if next.profile.tags != current.profile.tags {
            replace_tags(conn, next.id, &next.profile.tags)?;
        }
        let key = next.profile.search_key();
        if key != current.profile.search_key() {
            search::index(conn, next.id, next.id, Some(&key))?;
        }
        Ok(written)
    }
}

pub fn update(
    conn: &mut DbConnection,
    id: Uuid,
    expected: &Expected,
    change: Change,
    actor: Uuid,
) -> Result<UpdateOutcome, StoreError> {
    versioned::update(
        conn,
        id,
        expected,
        actor,
        |conn| get(conn, id),
        |conn, current| {
            let at = now();
            // An archived file refuses before its inputs are judged.
            if may_change(current, matches!(change, Change::Archive | Change::Restore)).is_err() {
                return Err(StoreError::CustomerArchived);
            }
            // The inputs read or checked here; the rule decides; what follows is written.
            let file_change = match change.clone() {
                Change::Patch { patch, today } => {
                    let profile = patched::<CustomerInput>(&current.profile, &patch)
                        .and_then(|input| input.validate(today));
                    match profile {
                        Ok(profile) => FileChange::Profile(Box::new(profile)),
                        Err(errors) => return Ok(Err(Refusal::Invalid(errors))),
                    }
                }
                Change::Archive => FileChange::Archive,
                Change::Restore => FileChange::Restore,
                Change::Transfer {
                    owner_id,
                    sales_unit_id,
                    ..
                } => FileChange::Transfer {
                    owner_id,
                    sales_unit_id,
                },
                Change::CreditReviewDue => FileChange::CreditReviewDue,
                Change::CreditDataRefreshed(at) => FileChange::CreditDataRefreshed(at),
            };
            let (next, action) = match apply_change(current, &file_change, at) {
                Ok(applied) => applied,
                Err(FileRefusal::Archived) => return Err(StoreError::CustomerArchived),
            };
            match (&change, &file_change) {
                (_, FileChange::Profile(profile)) => {
                    if let Some(holder) = uscc_holder(conn, profile.uscc.as_ref(), id)? {
                        return Ok(Err(Refusal::DuplicateUscc(holder)));
                    }
                }
                (_, FileChange::Archive) if current.archived_at.is_none() => {
                    contacts::follow_archival(conn, id, Archival::Archive(at), actor)?;
                }
                (_, FileChange::Restore) => {
                    if let Some(archived_at) = current.archived_at {
                        let restore = Archival::Restore(archived_at);
                        contacts::follow_archival(conn, id, restore, actor)?;
                    }
                }
                (Change::Transfer { reason, .. }, FileChange::Transfer { .. }) => {
                    crate::activity::insert_transfer(
                        conn,
                        current,
                        next.owner_id,
                        next.sales_unit_id,
                        reason,
                        actor,
                        at,
                    )?;
                    let to = (next.owner_id, next.sales_unit_id);
                    crate::tasks::hand_over(conn, id, current.owner_id, to, actor)?;
                }
                _ => {}
            }
            Ok(Ok((next, action)))
        },
    )
}

/// Sort orders of the customer list; each is backed by an index ending in `id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SortField {
    Name,
    CreatedAt,
    UpdatedAt,
}

#[derive(Debug, Clone)]
pub struct ListQuery {
    pub scope: Scope,
    /// Already folded with `credo_core::text::search_key`.
    pub q: Option<String>,
    pub owner_id: Option<Uuid>,
    pub sales_unit_id: Option<Uuid>,
    /// Any of these; all when empty.
    pub lifecycle_stages: Vec<LifecycleStage>,
    pub country: Option<CountryCode>,
    pub industry: Option<String>,
    pub tag: Option<Tag>,
    pub uscc: Option<Uscc>,
    /// Customers with a live contact of this phone number.
    pub phone: Option<Phone>,
    /// Customers with a live contact of this e-mail address (case-insensitive).
    pub email: Option<Email>,
    pub updated_since: Option<chrono::DateTime<chrono::Utc>>,
    /// Only customers with (true) or without (false) an open credit review.
    pub credit_review_due: Option<bool>,
    pub archived: bool,
}

/// The sort key of a customer in the given order, for the next page's cursor.
pub fn sort_key(customer: &Customer, sort: SortField) -> SortKey {
    match sort {
        SortField::Name => SortKey::Text(customer.profile.legal_name.clone()),
        SortField::CreatedAt => SortKey::at(customer.stamps.created_at),
        SortField::UpdatedAt => SortKey::at(customer.stamps.updated_at),
    }
}

type CustomerQuery<'a> = customers::BoxedQuery<
    'a,
    MultiBackend,
    diesel::dsl::SqlTypeOf<diesel::dsl::AsSelect<Row, MultiBackend>>,
>;

/// Narrows a customer query to a caller's scope; `None` when the scope holds nothing.
fn in_scope<'a>(query: CustomerQuery<'a>, scope: &Scope) -> Option<CustomerQuery<'a>> {
    match scope {
        Scope::All => Some(query),
        Scope::Unit(Some(unit)) => {
            Some(query.filter(customers::sales_unit_id.eq(unit.to_string())))
        }
        Scope::Unit(None) => None,
        Scope::Owner(owner) => Some(query.filter(customers::owner_id.eq(owner.to_string()))),
    }
}

pub fn list(
    conn: &mut DbConnection,
    q: &ListQuery,
    sorting: &Sorting<SortField>,
    limit: i64,
) -> Result<Vec<Customer>, StoreError> {
    let query = customers::table
        .select(Row::as_select())
        .into_boxed::<MultiBackend>();
    let Some(mut query) = in_scope(query, &q.scope) else {
        return Ok(Vec::new());
    };
    query = if q.archived {
        query.filter(customers::archived_at.is_not_null())
    } else {
        query.filter(customers::archived_at.is_null())
    };
    if let Some(text) = &q.q {
        query = query.filter(crate::search::names_contain(conn.backend(), text));
    }
    if let Some(owner) = q.owner_id {
        query = query.filter(customers::owner_id.eq(owner.to_string()));
    }
    if let Some(unit) = q.sales_unit_id {
        query = query.filter(customers::sales_unit_id.eq(unit.to_string()));
    }
    if !q.lifecycle_stages.is_empty() {
        let stages = q.lifecycle_stages.iter().map(|s| s.as_str());
        query = query.filter(customers::lifecycle_stage.eq_any(stages));
    }
    if let Some(country) = q.country {
        query = query.filter(customers::country.eq(country.as_str().to_owned()));
    }
    if let Some(industry) = &q.industry {
        query = query.filter(customers::industry.eq(industry.clone()));
    }
    if let Some(tag) = &q.tag {
        let tagged = customer_tags::table
            .filter(customer_tags::tag.eq(tag.as_str().to_owned()))
            .select(customer_tags::customer_id);
        query = query.filter(customers::id.eq_any(tagged));
    }
    if let Some(uscc) = &q.uscc {
        query = query.filter(customers::uscc.eq(uscc.as_str().to_owned()));
    }
    if let Some(phone) = &q.phone {
        let holders = contact_rows::table
            .filter(contact_rows::phone.eq(phone.as_str().to_owned()))
            .filter(contact_rows::archived_at.is_null())
            .select(contact_rows::customer_id);
        query = query.filter(customers::id.eq_any(holders));
    }
    if let Some(email) = &q.email {
        let holders = contact_rows::table
            .filter(lower(contact_rows::email).eq(email.as_str().to_lowercase()))
            .filter(contact_rows::archived_at.is_null())
            .select(contact_rows::customer_id);
        query = query.filter(customers::id.eq_any(holders));
    }
    if let Some(since) = q.updated_since {
        query = query.filter(customers::updated_at.ge(to_db_time(since)));
    }
    match q.credit_review_due {
        Some(true) => query = query.filter(customers::credit_review_due_since.is_not_null()),
        Some(false) => query = query.filter(customers::credit_review_due_since.is_null()),
        None => {}
    }
    let descending = sorting.descending;
    match sorting.field {
        SortField::Name => {
            let after = sorting.after(SortKey::text)?;
            keyset!(
                query,
                customers::legal_name,
                customers::id,
                after,
                descending
            );
        }
        SortField::CreatedAt => {
            let after = sorting.after(SortKey::time)?;
            keyset!(
                query,
                customers::created_at,
                customers::id,
                after,
                descending
            );
        }
        SortField::UpdatedAt => {
            let after = sorting.after(SortKey::time)?;
            keyset!(
                query,
                customers::updated_at,
                customers::id,
                after,
                descending
            );
        }
    }
    rows_into_customers(query.limit(limit).load::<Row>(conn)?)
}

pub fn history(
    conn: &mut DbConnection,
    id: Uuid,
    window: &crate::keyset::Window<chrono::DateTime<chrono::Utc>>,
) -> Result<Vec<credo_core::audit::AuditEntry>, StoreError> {
    audit::history(conn, ENTITY, id, window)
}

/// Live customers whose credit data was last refreshed before `refreshed_before`, the
/// longest-stale first.
pub fn stale(
    conn: &mut DbConnection,
    scope: &Scope,
    refreshed_before: chrono::DateTime<chrono::Utc>,
    after: Option<(NaiveDateTime, Uuid)>,
    limit: i64,
) -> Result<Vec<Customer>, StoreError> {
    let query = customers::table
        .select(Row::as_select())
        .into_boxed::<MultiBackend>();
    let Some(mut query) = in_scope(query, scope) else {
        return Ok(Vec::new());
    };
    query = query
        .filter(customers::archived_at.is_null())
        .filter(customers::credit_data_refreshed_at.lt(to_db_time(refreshed_before)));
    keyset!(
        query,
        customers::credit_data_refreshed_at,
        customers::id,
        after,
        false
    );
    rows_into_customers(query.limit(limit).load::<Row>(conn)?)
}

/// Customers whose folded legal name is one of `keys`: (key, id) pairs.
pub fn with_name_keys(
    conn: &mut DbConnection,
    keys: &[String],
) -> Result<Vec<(String, Uuid)>, StoreError> {
    customers::table
        .filter(customers::name_key.eq_any(keys))
        .select((customers::name_key, customers::id))
        .load::<(String, String)>(conn)?
        .into_iter()
        .map(|(key, id)| Ok((key, parse_id(&id)?)))
        .collect()
}
