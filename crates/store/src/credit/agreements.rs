//! Credit agreements: granted (by an approval or carried over), superseded, revoked.

use chrono::{NaiveDate, NaiveDateTime};
use credo_core::audit::AuditAction;
use credo_core::json::changes;
use credo_core::{Currency, Principal, Scope};
use credo_credit::agreement::{
    revoke, Agreement, AgreementInput, AgreementSource, AgreementStatus, AgreementView,
    RevokeRefusal, Terms,
};
use credo_credit::alert::{rating_dropped, AlertKind};
use credo_credit::application::StepRefusal;
use credo_credit::policy::CreditPolicy;
use credo_credit::review::{reasons, ReviewDue, ReviewFacts, ReviewPolicy};
use diesel::prelude::*;
use uuid::Uuid;

use super::{alerts, within_grant_limit, Decided};
use crate::convert::{
    from_db_time, parse_currency, parse_id, parse_name, parse_optional_id, to_db_time,
};
use crate::db::{insert_chunks, write_transaction};
use crate::schema::credit_agreements;
use crate::webhooks;
use crate::{audit, customers, now, settings, DbConnection, StoreError};
use credo_core::webhooks::EventType;

pub const AGREEMENT_ENTITY: &str = "credit_agreement";

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = credit_agreements, treat_none_as_null = true)]
struct AgreementRow {
    id: String,
    customer_id: String,
    currency: String,
    limit_minor: i64,
    term_days: i64,
    valid_from: NaiveDate,
    valid_to: NaiveDate,
    guarantees: String,
    source: String,
    application_id: Option<String>,
    evaluation_id: Option<String>,
    rating: Option<String>,
    reason: Option<String>,
    status: String,
    ended_by: Option<String>,
    ended_at: Option<NaiveDateTime>,
    end_reason: Option<String>,
    created_at: NaiveDateTime,
    created_by: String,
}

impl AgreementRow {
    fn of(agreement: &Agreement) -> Result<Self, StoreError> {
        Ok(Self {
            id: agreement.id.to_string(),
            customer_id: agreement.customer_id.to_string(),
            currency: agreement.currency.as_str().to_owned(),
            limit_minor: agreement.limit_minor,
            term_days: agreement.term_days,
            valid_from: agreement.valid_from,
            valid_to: agreement.valid_to,
            guarantees: serde_json::to_string(&agreement.guarantees)?,
            source: agreement.source.as_str().to_owned(),
            application_id: agreement.application_id.map(|id| id.to_string()),
            evaluation_id: agreement.evaluation_id.map(|id| id.to_string()),
            rating: agreement.rating.clone(),
            reason: agreement.reason.clone(),
            status: agreement.status.as_str().to_owned(),
            ended_by: agreement.ended_by.map(|id| id.to_string()),
            ended_at: agreement.ended_at.map(to_db_time),
            end_reason: agreement.end_reason.clone(),
            created_at: to_db_time(agreement.created_at),
            created_by: agreement.created_by.to_string(),
        })
    }

    fn into_agreement(self) -> Result<Agreement, StoreError> {
        Ok(Agreement {
            id: parse_id(&self.id)?,
            customer_id: parse_id(&self.customer_id)?,
            currency: parse_currency(&self.currency)?,
            limit_minor: self.limit_minor,
            term_days: self.term_days,
            valid_from: self.valid_from,
            valid_to: self.valid_to,
            guarantees: serde_json::from_str(&self.guarantees)?,
            source: parse_name(&self.source, AgreementSource::parse)?,
            application_id: parse_optional_id(self.application_id.as_deref())?,
            evaluation_id: parse_optional_id(self.evaluation_id.as_deref())?,
            rating: self.rating,
            reason: self.reason,
            status: parse_name(&self.status, AgreementStatus::parse)?,
            ended_by: parse_optional_id(self.ended_by.as_deref())?,
            ended_at: self.ended_at.map(from_db_time),
            end_reason: self.end_reason,
            created_at: from_db_time(self.created_at),
            created_by: parse_id(&self.created_by)?,
        })
    }
}

/// Writes a changed agreement and records the change.
fn rewrite(
    conn: &mut DbConnection,
    before: &Agreement,
    after: &Agreement,
    actor: Uuid,
) -> Result<(), StoreError> {
    diesel::update(credit_agreements::table.find(after.id.to_string()))
        .set(AgreementRow::of(after)?)
        .execute(conn)?;
    audit::record(
        conn,
        AGREEMENT_ENTITY,
        after.id,
        AuditAction::Updated,
        actor,
        &changes(&audit::view(before)?, &audit::view(after)?),
    )
}

/// Where a new line comes from.
pub struct Origin {
    pub source: AgreementSource,
    pub application_id: Option<Uuid>,
    pub evaluation_id: Option<Uuid>,
    pub rating: Option<String>,
    pub reason: Option<String>,
}

/// Grants a line to a customer whose row the caller holds locked: the active line of its
/// currency is superseded, the new one recorded; both audited. A worse rating than the line replaced raises an alert.
pub(super) fn grant(
    conn: &mut DbConnection,
    customer_id: Uuid,
    terms: Terms,
    origin: Origin,
    actor: Uuid,
    today: NaiveDate,
) -> Result<Agreement, StoreError> {
    let at = now();
    if let Some(active) = active(conn, customer_id, terms.currency)? {
        if let (Some(old), Some(new)) = (&active.rating, &origin.rating) {
            if rating_dropped(old, new) {
                let detail = format!("rating {old} -> {new} ({})", terms.currency.as_str());
                alerts::raise(
                    conn,
                    customer_id,
                    AlertKind::RatingDrop,
                    detail,
                    today,
                    actor,
                )?;
            }
        }
        let superseded = Agreement {
            status: AgreementStatus::Superseded,
            ended_by: Some(actor),
            ended_at: Some(at),
            ..active.clone()
        };
        rewrite(conn, &active, &superseded, actor)?;
    }
    let agreement = Agreement {
        id: Uuid::now_v7(),
        customer_id,
        currency: terms.currency,
        limit_minor: terms.limit_minor,
        term_days: terms.term_days,
        valid_from: terms.valid_from,
        valid_to: terms.valid_to,
        guarantees: terms.guarantees,
        source: origin.source,
        application_id: origin.application_id,
        evaluation_id: origin.evaluation_id,
        rating: origin.rating,
        reason: origin.reason,
        status: AgreementStatus::Active,
        ended_by: None,
        ended_at: None,
        end_reason: None,
        created_at: at,
        created_by: actor,
    };
    diesel::insert_into(credit_agreements::table)
        .values(AgreementRow::of(&agreement)?)
        .execute(conn)?;
    audit::record(
        conn,
        AGREEMENT_ENTITY,
        agreement.id,
        AuditAction::Created,
        actor,
        &changes(&serde_json::Value::Null, &audit::view(&agreement)?),
    )?;
    let view = AgreementView::of(agreement.clone(), today);
    webhooks::emit(conn, EventType::CreditLineGranted, &view)?;
    Ok(agreement)
}

/// Records a line carried over from an old system, under the customer's lock: its terms
/// checked against the credit policy (the default validity), the customer's total credit
/// with it within the recorder's approval limit (in the company currency at today's rate).
pub fn carry_over(
    conn: &mut DbConnection,
    customer_id: Uuid,
    input: &AgreementInput,
    recorder: &Principal,
    today: NaiveDate,
) -> Result<Decided<Agreement, StepRefusal>, StoreError> {
    write_transaction(conn, |conn| {
        customers::lock_writable_file(conn, customer_id)?;
        let policy = settings::document::<CreditPolicy>(conn)?.settings.approval;
        let (terms, reason) = match input.validate(today, policy.validity_months) {
            Ok(valid) => valid,
            Err(errors) => return Ok(Decided::Refused(StepRefusal::Invalid(errors))),
        };
        let line = (terms.limit_minor, terms.currency);
        if let Err(refusal) = within_grant_limit(conn, &policy, recorder, customer_id, line, today)?
        {
            return Ok(Decided::Refused(refusal));
        }
        let origin = Origin {
            source: AgreementSource::CarriedOver,
            application_id: None,
            evaluation_id: None,
            rating: None,
            reason: Some(reason),
        };
        let granted = grant(conn, customer_id, terms, origin, recorder.user_id, today)?;
        Ok(Decided::Done(granted))
    })
}

/// Revokes agreement `id` under its customer's lock, with the reason.
pub fn revoke_agreement(
    conn: &mut DbConnection,
    id: Uuid,
    reason: &str,
    actor: Uuid,
    today: NaiveDate,
) -> Result<Decided<Agreement, RevokeRefusal>, StoreError> {
    write_transaction(conn, |conn| {
        let Some(before) = agreement(conn, id)? else {
            return Ok(Decided::NotFound);
        };
        // Every writer of a customer's lines holds the customer's lock.
        customers::lock_writable_file(conn, before.customer_id)?;
        let before = agreement(conn, id)?.ok_or(StoreError::NotFound)?;
        match revoke(&before, reason, actor, now()) {
            Ok(after) => {
                rewrite(conn, &before, &after, actor)?;
                let view = AgreementView::of(after.clone(), today);
                webhooks::emit(conn, EventType::CreditLineRevoked, &view)?;
                Ok(Decided::Done(after))
            }
            Err(refusal) => Ok(Decided::Refused(refusal)),
        }
    })
}

pub fn agreement(conn: &mut DbConnection, id: Uuid) -> Result<Option<Agreement>, StoreError> {
    credit_agreements::table
        .find(id.to_string())
        .select(AgreementRow::as_select())
        .first(conn)
        .optional()?
        .map(AgreementRow::into_agreement)
        .transpose()
}

/// The customer's active line in `currency`, if any (in force or not by its dates).
pub fn active(
    conn: &mut DbConnection,
    customer_id: Uuid,
    currency: Currency,
) -> Result<Option<Agreement>, StoreError> {
    credit_agreements::table
        .filter(credit_agreements::customer_id.eq(customer_id.to_string()))
        .filter(credit_agreements::currency.eq(currency.as_str()))
        .filter(credit_agreements::status.eq(AgreementStatus::Active.as_str()))
        .select(AgreementRow::as_select())
        .first(conn)
        .optional()?
        .map(AgreementRow::into_agreement)
        .transpose()
}

/// The customer's active lines, one per currency, by currency.
pub fn active_lines(
    conn: &mut DbConnection,
    customer_id: Uuid,
) -> Result<Vec<Agreement>, StoreError> {
    credit_agreements::table
        .filter(credit_agreements::customer_id.eq(customer_id.to_string()))
        .filter(credit_agreements::status.eq(AgreementStatus::Active.as_str()))
        .order(credit_agreements::currency.asc())
        .select(AgreementRow::as_select())
        .load(conn)?
        .into_iter()
        .map(AgreementRow::into_agreement)
        .collect()
}

/// The customers whose credit is due for review on `today`, after `after` by id, at most
/// `limit`: an event called for a review, or they hold a line that runs out within the
/// policy's notice or whose credit data is stale.
pub fn reviews_due(
    conn: &mut DbConnection,
    scope: &Scope,
    policy: &ReviewPolicy,
    today: NaiveDate,
    window: &crate::keyset::Window<()>,
) -> Result<Vec<ReviewDue>, StoreError> {
    use crate::schema::customers;
    let active = || {
        credit_agreements::table
            .filter(credit_agreements::status.eq(AgreementStatus::Active.as_str()))
            .select(credit_agreements::customer_id)
    };
    let expiring = active().filter(credit_agreements::valid_to.le(policy.expiring_by(today)));
    let stale_before = to_db_time(
        policy
            .stale_before(today)
            .and_time(chrono::NaiveTime::MIN)
            .and_utc(),
    );
    let query = customers::table
        .filter(
            customers::credit_review_due_since
                .is_not_null()
                .or(customers::id.eq_any(expiring))
                .or(customers::credit_data_refreshed_at
                    .lt(stale_before)
                    .and(customers::id.eq_any(active()))),
        )
        .into_boxed::<crate::db::MultiBackend>();
    // The scope on the customers' own columns: `of_visible_customers!` filters through a
    // subquery of customers, which cannot nest in a query of customers.
    let mut query = match scope {
        Scope::All => query,
        Scope::Unit(None) => return Ok(Vec::new()),
        Scope::Unit(Some(unit)) => query.filter(customers::sales_unit_id.eq(unit.to_string())),
        Scope::Owner(owner) => query.filter(customers::owner_id.eq(owner.to_string())),
    };
    if let Some((_, after)) = window.after {
        query = query.filter(customers::id.gt(after.to_string()));
    }
    let found = query
        .order(customers::id)
        .limit(window.limit)
        .select((
            customers::id,
            customers::legal_name,
            customers::owner_id,
            customers::credit_data_refreshed_at,
            customers::credit_review_due_since,
        ))
        .load::<(String, String, String, NaiveDateTime, Option<NaiveDateTime>)>(conn)?;
    let ids: Vec<String> = found.iter().map(|row| row.0.clone()).collect();
    let mut lines: std::collections::BTreeMap<String, Vec<(Currency, NaiveDate)>> =
        Default::default();
    for (customer, currency, valid_to) in credit_agreements::table
        .filter(credit_agreements::status.eq(AgreementStatus::Active.as_str()))
        .filter(credit_agreements::customer_id.eq_any(&ids))
        .select((
            credit_agreements::customer_id,
            credit_agreements::currency,
            credit_agreements::valid_to,
        ))
        .load::<(String, String, NaiveDate)>(conn)?
    {
        lines
            .entry(customer)
            .or_default()
            .push((parse_currency(&currency)?, valid_to));
    }
    found
        .into_iter()
        .map(|(id, name, owner, refreshed, review_since)| {
            let facts = ReviewFacts {
                lines: lines.get(&id).map_or(&[], Vec::as_slice),
                credit_data_refreshed_on: from_db_time(refreshed).date_naive(),
                review_due_since: review_since.map(|at| from_db_time(at).date_naive()),
            };
            Ok(ReviewDue {
                customer_id: parse_id(&id)?,
                name,
                owner_id: parse_id(&owner)?,
                reasons: reasons(&facts, policy, today),
            })
        })
        .collect()
}

/// Lines carried over in bulk (a legacy system's, or the demo's), written as they are: one
/// active line per customer and currency, no audit entries (as the ledger's import).
pub fn import(conn: &mut DbConnection, lines: &[Agreement]) -> Result<(), StoreError> {
    let rows: Vec<AgreementRow> = lines
        .iter()
        .map(AgreementRow::of)
        .collect::<Result<_, _>>()?;
    insert_chunks!(conn, credit_agreements::table, rows, 500);
    Ok(())
}
