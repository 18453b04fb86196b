//! Leads: single and batch creation with duplicate detection, qualification and stage
//! changes, conversion into a customer, lists and the facts of the funnel report.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDateTime, Utc};
use credo_core::audit::AuditAction;
use credo_core::json::{changes, patched};
use credo_core::{CountryCode, Email, FieldError, Phone, Scope};
use credo_customers::{Contact, CustomerProfile, Stamps};
use credo_sales::lead::{FunnelFacts, LeadFields, Qualification, StageError};
use credo_sales::{FunnelStage, Lead, LeadChannel, LeadInput, Man, StageInput};
use diesel::prelude::*;
use uuid::Uuid;

use crate::convert::{
    from_db_time, parse_id, parse_name, parse_optional_id, parse_stored, stamps, to_db_time,
};
use crate::customers::{self, CreateOutcome, NewCustomer};
use crate::db::{lock_key, write_transaction, MultiBackend};
use crate::holder::{self, Holder};
use crate::keyset::{keyset, SortKey, Sorting};
use crate::schema::leads;
use crate::versioned::{self, Expected, Updated, Versioned};
use crate::{audit, contacts, now, DbConnection, StoreError};

pub const ENTITY: &str = "lead";

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = leads, treat_none_as_null = true)]
struct Row {
    id: String,
    company_name: String,
    company_key: String,
    contact_name: Option<String>,
    contact_key: String,
    contact_title: Option<String>,
    phone: Option<String>,
    email: Option<String>,
    country: Option<String>,
    channel: String,
    source_detail: Option<String>,
    note: Option<String>,
    money: bool,
    authority: bool,
    need: bool,
    stage: String,
    furthest_stage: String,
    stage_changed_at: NaiveDateTime,
    lost_reason: Option<String>,
    customer_id: Option<String>,
    owner_id: String,
    sales_unit_id: Option<String>,
    created_at: NaiveDateTime,
    created_by: String,
    updated_at: NaiveDateTime,
    updated_by: String,
    version: i64,
}

impl Row {
    fn from_lead(l: &Lead) -> Self {
        let f = &l.fields;
        let (company_key, contact_key) = f.duplicate_key();
        let man = l.qualification.man();
        Row {
            id: l.id.to_string(),
            company_name: f.company_name.clone(),
            company_key,
            contact_name: f.contact_name.clone(),
            contact_key,
            contact_title: f.contact_title.clone(),
            phone: f.phone.as_ref().map(|p| p.as_str().to_owned()),
            email: f.email.as_ref().map(|e| e.as_str().to_owned()),
            country: f.country.map(|c| c.as_str().to_owned()),
            channel: f.channel.as_str().to_owned(),
            source_detail: f.source_detail.clone(),
            note: f.note.clone(),
            money: man.money,
            authority: man.authority,
            need: man.need,
            stage: l.stage.as_str().to_owned(),
            furthest_stage: l.furthest_stage.as_str().to_owned(),
            stage_changed_at: to_db_time(l.stage_changed_at),
            lost_reason: l.lost_reason.clone(),
            customer_id: l.customer_id.map(|c| c.to_string()),
            owner_id: l.owner_id.to_string(),
            sales_unit_id: l.sales_unit_id.map(|u| u.to_string()),
            created_at: to_db_time(l.stamps.created_at),
            created_by: l.stamps.created_by.to_string(),
            updated_at: to_db_time(l.stamps.updated_at),
            updated_by: l.stamps.updated_by.to_string(),
            version: l.stamps.version,
        }
    }

    fn into_lead(self) -> Result<Lead, StoreError> {
        let man = Man {
            money: self.money,
            authority: self.authority,
            need: self.need,
        };
        Ok(Lead {
            id: parse_id(&self.id)?,
            fields: LeadFields {
                company_name: self.company_name,
                contact_name: self.contact_name,
                contact_title: self.contact_title,
                phone: parse_stored(self.phone.as_deref(), Phone::parse, "lead phone")?,
                email: parse_stored(self.email.as_deref(), Email::parse, "lead email")?,
                country: parse_stored(self.country.as_deref(), CountryCode::parse, "lead country")?,
                channel: parse_name(&self.channel, LeadChannel::parse)?,
                source_detail: self.source_detail,
                note: self.note,
            },
            qualification: Qualification::from(man),
            stage: parse_name(&self.stage, FunnelStage::parse)?,
            furthest_stage: parse_name(&self.furthest_stage, FunnelStage::parse)?,
            stage_changed_at: from_db_time(self.stage_changed_at),
            lost_reason: self.lost_reason,
            customer_id: parse_optional_id(self.customer_id.as_deref())?,
            owner_id: parse_id(&self.owner_id)?,
            sales_unit_id: parse_optional_id(self.sales_unit_id.as_deref())?,
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

/// A valid lead to record.
#[derive(Debug, Clone)]
pub struct NewLead {
    pub fields: LeadFields,
    pub man: Man,
    pub owner_id: Uuid,
    pub sales_unit_id: Option<Uuid>,
}

/// What a lead of a batch duplicates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Duplicate {
    /// A customer with the same legal name.
    Customer(Holder),
    /// A lead for the same person at the same company (possibly earlier in the batch).
    Lead(Holder),
}

/// What became of one new lead.
#[derive(Debug, Clone)]
pub enum Recorded {
    Created(Box<Lead>),
    Duplicate(Duplicate),
}

fn insert(
    conn: &mut DbConnection,
    new: NewLead,
    actor: Uuid,
    at: DateTime<Utc>,
) -> Result<Lead, StoreError> {
    let lead = Lead {
        id: Uuid::now_v7(),
        fields: new.fields,
        qualification: Qualification::from(new.man),
        stage: FunnelStage::New,
        furthest_stage: FunnelStage::New,
        stage_changed_at: at,
        lost_reason: None,
        customer_id: None,
        owner_id: new.owner_id,
        sales_unit_id: new.sales_unit_id,
        stamps: Stamps {
            created_at: at,
            created_by: actor,
            updated_at: at,
            updated_by: actor,
            version: 1,
        },
    };
    diesel::insert_into(leads::table)
        .values(Row::from_lead(&lead))
        .execute(conn)?;
    let created = changes(&serde_json::Value::Null, &audit::view(&lead)?);
    audit::record(conn, ENTITY, lead.id, AuditAction::Created, actor, &created)?;
    Ok(lead)
}

/// Records leads that duplicate no customer, no stored lead and no earlier lead of the same
/// call, all in one transaction: either every created lead is stored or none is.
pub fn record(
    conn: &mut DbConnection,
    batch: Vec<NewLead>,
    actor: Uuid,
) -> Result<Vec<Recorded>, StoreError> {
    write_transaction(conn, |conn| {
        let keys: Vec<(String, String)> = batch.iter().map(|l| l.fields.duplicate_key()).collect();
        let mut companies: Vec<String> = keys.iter().map(|(company, _)| company.clone()).collect();
        companies.sort();
        companies.dedup();
        // Concurrent batches naming one company take turns (in one order: no deadlock), so
        // each sees the leads the one before stored.
        for company in &companies {
            lock_key(conn, &format!("lead company {company}"))?;
        }
        let customers: HashMap<String, Uuid> = customers::with_name_keys(conn, &companies)?
            .into_iter()
            .collect();
        let mut known: HashMap<(String, String), Uuid> = leads::table
            .filter(leads::company_key.eq_any(&companies))
            .select((leads::company_key, leads::contact_key, leads::id))
            .load::<(String, String, String)>(conn)?
            .into_iter()
            .map(|(company, contact, id)| Ok(((company, contact), parse_id(&id)?)))
            .collect::<Result<_, StoreError>>()?;
        let at = now();
        let mut recorded = Vec::with_capacity(batch.len());
        for (new, key) in batch.iter().cloned().zip(keys) {
            if let Some(customer) = customers.get(&key.0) {
                let holder = holder::of_customer(conn, *customer)?;
                recorded.push(Recorded::Duplicate(Duplicate::Customer(holder)));
            } else if let Some(lead) = known.get(&key) {
                let holder = holder::of_lead(conn, *lead)?;
                recorded.push(Recorded::Duplicate(Duplicate::Lead(holder)));
            } else {
                let lead = insert(conn, new, actor, at)?;
                known.insert(key, lead.id);
                recorded.push(Recorded::Created(Box::new(lead)));
            }
        }
        Ok(recorded)
    })
}

pub fn get(conn: &mut DbConnection, id: Uuid) -> Result<Option<Lead>, StoreError> {
    leads::table
        .find(id.to_string())
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .map(Row::into_lead)
        .transpose()
}

/// A change to one lead.
#[derive(Clone)]
pub enum LeadChange {
    /// A JSON merge patch of facts, qualification or owner (the `LeadInput` form).
    Patch {
        patch: serde_json::Value,
        /// Who patches: the owner when the patch clears it.
        caller: Uuid,
        /// The owner the patch names, checked by the caller of `update`: (id, sales unit).
        owner: Option<(Uuid, Option<Uuid>)>,
    },
    Stage(StageInput),
    /// Won: into a new customer file (with its first contact), or linked to an existing one.
    Convert(Conversion),
}

#[derive(Clone)]
pub enum Conversion {
    NewCustomer {
        id: Uuid,
        profile: Box<CustomerProfile>,
        contact: Option<Contact>,
    },
    Existing(Uuid),
}

/// Why a change to a lead was refused.
#[derive(Debug)]
pub enum LeadRefusal {
    /// The patched lead breaks these rules.
    Invalid(Vec<FieldError>),
    Stage(StageError),
    /// The new customer would duplicate an existing one's USCC (cannot happen from a lead,
    /// which carries none) or id.
    CustomerConflict(Holder),
}

pub type UpdateLeadOutcome = Updated<Lead, LeadRefusal>;

impl Versioned for Lead {
    const TABLE: &'static str = "leads";
    const ENTITY: &'static str = ENTITY;

    versioned::stamps_field!();

    fn audit_view(&self) -> Result<serde_json::Value, StoreError> {
        audit::view(self)
    }

    fn write(conn: &mut DbConnection, current: &Self, next: &Self) -> Result<usize, StoreError> {
        Ok(diesel::update(
            leads::table
                .find(current.id.to_string())
                .filter(leads::version.eq(current.stamps.version)),
        )
        .set(Row::from_lead(next))
        .execute(conn)?)
    }
}

pub fn update(
    conn: &mut DbConnection,
    id: Uuid,
    expected: &Expected,
    change: LeadChange,
    actor: Uuid,
) -> Result<UpdateLeadOutcome, StoreError> {
    versioned::update(
        conn,
        id,
        expected,
        actor,
        |conn| get(conn, id),
        |conn, current| {
            let at = now();
            Ok(match change.clone() {
                LeadChange::Patch {
                    patch,
                    caller,
                    owner,
                } => {
                    let base = current
                        .fields
                        .input(current.owner_id, current.qualification.man());
                    let input = match patched::<LeadInput>(&base, &patch) {
                        Ok(input) => input,
                        Err(errors) => return Ok(Err(LeadRefusal::Invalid(errors))),
                    };
                    let fields = match input.validate() {
                        Ok(fields) => fields,
                        Err(errors) => return Ok(Err(LeadRefusal::Invalid(errors))),
                    };
                    let mut next = current.clone();
                    next.fields = fields;
                    next.qualification = Qualification::from(input.man);
                    next.owner_id = input.owner_id.unwrap_or(caller);
                    if let Some((owner, unit)) = owner {
                        if owner == next.owner_id {
                            next.sales_unit_id = unit;
                        }
                    }
                    Ok((next, AuditAction::Updated))
                }
                LeadChange::Stage(input) => current
                    .move_to(&input, at)
                    .map(|next| (next, AuditAction::StatusChanged))
                    .map_err(LeadRefusal::Stage),
                LeadChange::Convert(conversion) => convert(conn, current, conversion, actor, at)?
                    .map(|next| (next, AuditAction::StatusChanged)),
            })
        },
    )
}

/// Wins a lead: makes or links its customer (rolled back with the lead if anything is
/// refused).
fn convert(
    conn: &mut DbConnection,
    current: &Lead,
    conversion: Conversion,
    actor: Uuid,
    at: DateTime<Utc>,
) -> Result<Result<Lead, LeadRefusal>, StoreError> {
    if current.stage.is_closed() {
        return Ok(Err(LeadRefusal::Stage(StageError::NotAllowed {
            from: current.stage,
            to: FunnelStage::Won,
        })));
    }
    let customer_id = match conversion {
        Conversion::Existing(customer_id) => customer_id,
        Conversion::NewCustomer {
            id: customer_id,
            profile,
            contact,
        } => {
            let new = NewCustomer {
                id: customer_id,
                profile: *profile,
                owner_id: current.owner_id,
                sales_unit_id: current.sales_unit_id,
                actor,
            };
            match customers::create(conn, new)? {
                CreateOutcome::Created(_) => {}
                CreateOutcome::DuplicateUscc(other) => {
                    return Ok(Err(LeadRefusal::CustomerConflict(other)))
                }
                CreateOutcome::IdTaken(other) => {
                    let holder = holder::of_customer(conn, other.id)?;
                    return Ok(Err(LeadRefusal::CustomerConflict(holder)));
                }
            }
            if let Some(contact) = contact {
                contacts::create(conn, Uuid::now_v7(), customer_id, contact, actor)?;
            }
            customer_id
        }
    };
    Ok(current.won(customer_id, at).map_err(LeadRefusal::Stage))
}

pub fn history(
    conn: &mut DbConnection,
    id: Uuid,
    window: &crate::keyset::Window<chrono::DateTime<chrono::Utc>>,
) -> Result<Vec<credo_core::audit::AuditEntry>, StoreError> {
    audit::history(conn, ENTITY, id, window)
}

/// Recomputes the duplicate keys of every lead where the stored ones differ from what the
/// current rule gives: see `name_keys`.
pub(crate) fn refold_keys(conn: &mut DbConnection) -> Result<usize, StoreError> {
    let mut changed = 0;
    for row in leads::table.select(Row::as_select()).load::<Row>(conn)? {
        let (id, stored) = (
            row.id.clone(),
            (row.company_key.clone(), row.contact_key.clone()),
        );
        let (company_key, contact_key) = row.into_lead()?.fields.duplicate_key();
        if (company_key.clone(), contact_key.clone()) == stored {
            continue;
        }
        diesel::update(leads::table.find(id))
            .set((
                leads::company_key.eq(company_key),
                leads::contact_key.eq(contact_key),
            ))
            .execute(conn)?;
        changed += 1;
    }
    Ok(changed)
}

/// Which leads a caller sees and asks for.
#[derive(Debug, Clone)]
pub struct LeadFilter {
    /// Agents see the leads they own, unit managers their unit's.
    pub scope: Scope,
    pub owner_id: Option<Uuid>,
    pub sales_unit_id: Option<Uuid>,
    /// Any of these; all when empty.
    pub channels: Vec<LeadChannel>,
    /// Any of these; all when empty.
    pub stages: Vec<FunnelStage>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    /// Only leads changed at or after this time.
    pub updated_since: Option<DateTime<Utc>>,
}

type LeadQuery<'a> = leads::BoxedQuery<'a, MultiBackend>;

/// The filtered query; `None` when the scope holds nothing.
fn filtered<'a>(f: &LeadFilter) -> Option<LeadQuery<'a>> {
    let mut query = leads::table.into_boxed::<MultiBackend>();
    match &f.scope {
        Scope::All => {}
        Scope::Unit(None) => return None,
        Scope::Unit(Some(unit)) => query = query.filter(leads::sales_unit_id.eq(unit.to_string())),
        Scope::Owner(owner) => query = query.filter(leads::owner_id.eq(owner.to_string())),
    }
    if let Some(owner) = f.owner_id {
        query = query.filter(leads::owner_id.eq(owner.to_string()));
    }
    if let Some(unit) = f.sales_unit_id {
        query = query.filter(leads::sales_unit_id.eq(unit.to_string()));
    }
    if !f.channels.is_empty() {
        query = query.filter(leads::channel.eq_any(f.channels.iter().map(|c| c.as_str())));
    }
    if !f.stages.is_empty() {
        query = query.filter(leads::stage.eq_any(f.stages.iter().map(|s| s.as_str())));
    }
    if let Some(since) = f.updated_since {
        query = query.filter(leads::updated_at.ge(to_db_time(since)));
    }
    if let Some(from) = f.created_from {
        query = query.filter(leads::created_at.ge(to_db_time(from)));
    }
    if let Some(to) = f.created_to {
        query = query.filter(leads::created_at.lt(to_db_time(to)));
    }
    Some(query)
}

/// The columns the lead list sorts by.
#[derive(Debug, Clone, Copy)]
pub enum SortField {
    CreatedAt,
    UpdatedAt,
}

/// A lead's value in the sort column, to continue after it.
pub fn sort_key(lead: &Lead, sort: SortField) -> SortKey {
    match sort {
        SortField::CreatedAt => SortKey::at(lead.stamps.created_at),
        SortField::UpdatedAt => SortKey::at(lead.stamps.updated_at),
    }
}

/// Leads in the asked sort, `limit` of them.
pub fn list(
    conn: &mut DbConnection,
    filter: &LeadFilter,
    sorting: &Sorting<SortField>,
    limit: i64,
) -> Result<Vec<Lead>, StoreError> {
    let Some(mut query) = filtered(filter) else {
        return Ok(Vec::new());
    };
    let after = sorting.after(SortKey::time)?;
    let descending = sorting.descending;
    match sorting.field {
        SortField::CreatedAt => keyset!(query, leads::created_at, leads::id, after, descending),
        SortField::UpdatedAt => keyset!(query, leads::updated_at, leads::id, after, descending),
    }
    query
        .limit(limit)
        .select(Row::as_select())
        .load(conn)?
        .into_iter()
        .map(Row::into_lead)
        .collect()
}

/// How the funnel report groups leads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FunnelGrouping {
    Agent,
    Unit,
    Channel,
}

/// The funnel facts of the filtered leads, grouped.
pub fn funnel_facts(
    conn: &mut DbConnection,
    filter: &LeadFilter,
    grouping: FunnelGrouping,
) -> Result<Vec<FunnelFacts>, StoreError> {
    let Some(query) = filtered(filter) else {
        return Ok(Vec::new());
    };
    query
        .select((
            leads::owner_id,
            leads::sales_unit_id,
            leads::channel,
            leads::stage,
            leads::furthest_stage,
        ))
        .load::<(String, Option<String>, String, String, String)>(conn)?
        .into_iter()
        .map(|(owner, unit, channel, stage, furthest)| {
            Ok(FunnelFacts {
                group: match grouping {
                    FunnelGrouping::Agent => owner,
                    FunnelGrouping::Unit => unit.unwrap_or_else(|| "none".into()),
                    FunnelGrouping::Channel => channel,
                },
                stage: parse_name(&stage, FunnelStage::parse)?,
                furthest_stage: parse_name(&furthest, FunnelStage::parse)?,
            })
        })
        .collect()
}
