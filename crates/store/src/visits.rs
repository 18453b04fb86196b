//! Field visits. A visit posted with a device-made id is stored once: posting it again
//! answers with the stored visit.

use chrono::{DateTime, NaiveDateTime, Utc};
use credo_core::audit::AuditAction;
use credo_core::json::changes;
use credo_core::Scope;
use credo_customers::visit::{GeoPoint, Presence, VisitPlan, VisitReport, VisitStepError};
use credo_customers::{Stamps, Visit, VisitStatus};
use diesel::prelude::*;
use uuid::Uuid;

use crate::convert::{from_db_time, parse_id, parse_name, parse_optional_id, stamps, to_db_time};
use crate::db::{write_transaction, MultiBackend, Outcome};
use crate::keyset::{keyset, of_visible_customers, Window};
use crate::schema::visits;
use crate::versioned::{self, Expected, Updated, Versioned};
use crate::{audit, now, DbConnection, StoreError};

pub const ENTITY: &str = "visit";

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = visits, treat_none_as_null = true)]
struct Row {
    id: String,
    customer_id: String,
    agent_id: String,
    contact_id: Option<String>,
    planned_at: NaiveDateTime,
    purpose: String,
    status: String,
    check_in_at: Option<NaiveDateTime>,
    check_in_lat: Option<i64>,
    check_in_lon: Option<i64>,
    check_out_at: Option<NaiveDateTime>,
    check_out_lat: Option<i64>,
    check_out_lon: Option<i64>,
    outcome: Option<String>,
    next_step: Option<String>,
    created_at: NaiveDateTime,
    created_by: String,
    updated_at: NaiveDateTime,
    updated_by: String,
    version: i64,
}

type PresenceColumns = (Option<NaiveDateTime>, Option<i64>, Option<i64>);

fn presence_columns(presence: Option<&Presence>) -> PresenceColumns {
    match presence {
        Some(p) => {
            let (lat, lon) = p.location.micro_degrees();
            (Some(to_db_time(p.at)), Some(lat), Some(lon))
        }
        None => (None, None, None),
    }
}

fn presence((at, lat, lon): PresenceColumns) -> Option<Presence> {
    Some(Presence {
        at: from_db_time(at?),
        location: GeoPoint::from_micro_degrees(lat?, lon?),
    })
}

impl Row {
    fn from_visit(v: &Visit) -> Self {
        let (check_in_at, check_in_lat, check_in_lon) = presence_columns(v.check_in.as_ref());
        let (check_out_at, check_out_lat, check_out_lon) = presence_columns(v.check_out.as_ref());
        Row {
            id: v.id.to_string(),
            customer_id: v.customer_id.to_string(),
            agent_id: v.agent_id.to_string(),
            contact_id: v.contact_id.map(|c| c.to_string()),
            planned_at: to_db_time(v.planned_at),
            purpose: v.purpose.clone(),
            status: v.status.as_str().to_owned(),
            check_in_at,
            check_in_lat,
            check_in_lon,
            check_out_at,
            check_out_lat,
            check_out_lon,
            outcome: v.report.as_ref().map(|r| r.outcome.clone()),
            next_step: v.report.as_ref().and_then(|r| r.next_step.clone()),
            created_at: to_db_time(v.stamps.created_at),
            created_by: v.stamps.created_by.to_string(),
            updated_at: to_db_time(v.stamps.updated_at),
            updated_by: v.stamps.updated_by.to_string(),
            version: v.stamps.version,
        }
    }

    fn into_visit(self) -> Result<Visit, StoreError> {
        Ok(Visit {
            id: parse_id(&self.id)?,
            customer_id: parse_id(&self.customer_id)?,
            agent_id: parse_id(&self.agent_id)?,
            contact_id: parse_optional_id(self.contact_id.as_deref())?,
            planned_at: from_db_time(self.planned_at),
            purpose: self.purpose,
            status: parse_name(&self.status, VisitStatus::parse)?,
            check_in: presence((self.check_in_at, self.check_in_lat, self.check_in_lon)),
            check_out: presence((self.check_out_at, self.check_out_lat, self.check_out_lon)),
            report: self.outcome.map(|outcome| VisitReport {
                outcome,
                next_step: self.next_step,
            }),
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

pub fn get(conn: &mut DbConnection, id: Uuid) -> Result<Option<Visit>, StoreError> {
    visits::table
        .find(id.to_string())
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .map(Row::into_visit)
        .transpose()
}

pub enum CreateVisitOutcome {
    Created(Visit),
    /// The same visit was posted before (an offline replay): here it is as stored.
    Replayed(Visit),
    /// The id belongs to another visit.
    IdTaken(Visit),
}

impl Outcome for CreateVisitOutcome {
    fn is_refusal(&self) -> bool {
        matches!(self, CreateVisitOutcome::IdTaken(_))
    }
}

pub fn create(
    conn: &mut DbConnection,
    id: Uuid,
    agent_id: Uuid,
    plan: VisitPlan,
    actor: Uuid,
) -> Result<CreateVisitOutcome, StoreError> {
    write_transaction(conn, |conn| {
        if let Some(existing) = get(conn, id)? {
            return Ok(if existing.is_replay_of(&plan, agent_id) {
                CreateVisitOutcome::Replayed(existing)
            } else {
                CreateVisitOutcome::IdTaken(existing)
            });
        }
        let at = now();
        let visit = Visit {
            id,
            customer_id: plan.customer_id,
            agent_id,
            contact_id: plan.contact_id,
            planned_at: plan.planned_at,
            status: Visit::initial_status(&plan),
            check_in: plan.check_in,
            check_out: plan.check_out.as_ref().map(|(p, _)| *p),
            report: plan.check_out.clone().map(|(_, r)| r),
            purpose: plan.purpose.clone(),
            stamps: Stamps {
                created_at: at,
                created_by: actor,
                updated_at: at,
                updated_by: actor,
                version: 1,
            },
        };
        diesel::insert_into(visits::table)
            .values(Row::from_visit(&visit))
            .execute(conn)?;
        let created = changes(&serde_json::Value::Null, &audit::view(&visit)?);
        audit::record(conn, ENTITY, id, AuditAction::Created, actor, &created)?;
        Ok(CreateVisitOutcome::Created(visit))
    })
}

pub type VisitStepOutcome = Updated<Visit, VisitStepError>;

impl Versioned for Visit {
    const TABLE: &'static str = "visits";
    const ENTITY: &'static str = ENTITY;

    versioned::stamps_field!();

    fn audit_view(&self) -> Result<serde_json::Value, StoreError> {
        audit::view(self)
    }

    fn write(conn: &mut DbConnection, current: &Self, next: &Self) -> Result<usize, StoreError> {
        Ok(diesel::update(
            visits::table
                .find(current.id.to_string())
                .filter(visits::version.eq(current.stamps.version)),
        )
        .set(Row::from_visit(next))
        .execute(conn)?)
    }
}

/// Applies a step (check-in, check-out, cancel) to the stored visit.
pub fn step(
    conn: &mut DbConnection,
    id: Uuid,
    expected: &Expected,
    mut apply: impl FnMut(&Visit) -> Result<Visit, VisitStepError>,
    actor: Uuid,
) -> Result<VisitStepOutcome, StoreError> {
    versioned::update(
        conn,
        id,
        expected,
        actor,
        |conn| get(conn, id),
        |_, current| Ok(apply(current).map(|next| (next, AuditAction::StatusChanged))),
    )
}

/// Whose agenda, over which days, seen by whom.
pub struct AgendaQuery {
    pub agent_id: Uuid,
    /// The caller's scope: a visit of a customer they no longer see is not on their agenda.
    pub scope: Scope,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// A page of an agent's visits planned in [from, to), earliest first: the agenda.
pub fn agenda(
    conn: &mut DbConnection,
    q: &AgendaQuery,
    window: &Window<DateTime<Utc>>,
) -> Result<Vec<Visit>, StoreError> {
    let mut query = visits::table
        .filter(visits::agent_id.eq(q.agent_id.to_string()))
        .filter(visits::planned_at.ge(to_db_time(q.from)))
        .filter(visits::planned_at.lt(to_db_time(q.to)))
        .into_boxed::<MultiBackend>();
    of_visible_customers!(query, visits::customer_id, &q.scope);
    keyset!(
        query,
        visits::planned_at,
        visits::id,
        window.after_db_time(),
        false
    );
    query
        .limit(window.limit)
        .select(Row::as_select())
        .load(conn)?
        .into_iter()
        .map(Row::into_visit)
        .collect()
}
