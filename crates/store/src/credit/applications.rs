//! Credit applications and their steps; approval grants the agreement in the same
//! transaction.

use chrono::NaiveDateTime;
use credo_core::audit::AuditAction;
use credo_core::company::FxRate;
use credo_core::json::changes;
use credo_core::{Currency, Principal, Scope};
use credo_credit::agreement::AgreementSource;
use credo_credit::application::{
    green_channel_pending, Application, ApplicationStatus, ApprovalInput, EvaluationFacts,
    NewApplication, StepKind, StepRecord, StepRefusal,
};
use credo_credit::policy::CreditPolicy;
use diesel::prelude::*;
use uuid::Uuid;

use super::agreements::{grant, Origin};
use super::{other_lines_company_minor, Decided};
use crate::convert::{
    from_db_time, parse_currency, parse_id, parse_name, parse_optional_id, to_db_time,
};
use crate::db::{write_transaction, MultiBackend, Outcome};
use crate::keyset::{keyset, of_visible_customers, Window};
use crate::schema::{credit_applications, credit_evaluations};
use crate::{audit, customers, now, settings, DbConnection, StoreError};

pub const APPLICATION_ENTITY: &str = "credit_application";

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = credit_applications, treat_none_as_null = true)]
struct ApplicationRow {
    id: String,
    customer_id: String,
    sales_unit_id: Option<String>,
    currency: String,
    requested_limit_minor: i64,
    term_days: i64,
    reason: String,
    green_channel: bool,
    status: String,
    pre_reviewed_by: Option<String>,
    pre_reviewed_at: Option<NaiveDateTime>,
    pre_review_note: Option<String>,
    evaluation_id: Option<String>,
    evaluated_by: Option<String>,
    evaluated_at: Option<NaiveDateTime>,
    evaluation_note: Option<String>,
    decided_by: Option<String>,
    decided_at: Option<NaiveDateTime>,
    decision_note: Option<String>,
    agreement_id: Option<String>,
    created_at: NaiveDateTime,
    created_by: String,
}

/// A step's three columns.
type StepColumns = (Option<String>, Option<NaiveDateTime>, Option<String>);

fn step_columns(step: &Option<StepRecord>) -> StepColumns {
    match step {
        Some(step) => (
            Some(step.by.to_string()),
            Some(to_db_time(step.at)),
            step.note.clone(),
        ),
        None => (None, None, None),
    }
}

fn step_record(columns: StepColumns) -> Result<Option<StepRecord>, StoreError> {
    Ok(match columns {
        (Some(by), Some(at), note) => Some(StepRecord {
            by: parse_id(&by)?,
            at: from_db_time(at),
            note,
        }),
        _ => None,
    })
}

impl ApplicationRow {
    fn of(application: &Application) -> Self {
        let (pre_reviewed_by, pre_reviewed_at, pre_review_note) =
            step_columns(&application.pre_review);
        let (evaluated_by, evaluated_at, evaluation_note) = step_columns(&application.evaluation);
        let (decided_by, decided_at, decision_note) = step_columns(&application.decision);
        Self {
            id: application.id.to_string(),
            customer_id: application.customer_id.to_string(),
            sales_unit_id: application.sales_unit_id.map(|id| id.to_string()),
            currency: application.currency.as_str().to_owned(),
            requested_limit_minor: application.requested_limit_minor,
            term_days: application.term_days,
            reason: application.reason.clone(),
            green_channel: application.green_channel,
            status: application.status.as_str().to_owned(),
            pre_reviewed_by,
            pre_reviewed_at,
            pre_review_note,
            evaluation_id: application.evaluation_id.map(|id| id.to_string()),
            evaluated_by,
            evaluated_at,
            evaluation_note,
            decided_by,
            decided_at,
            decision_note,
            agreement_id: application.agreement_id.map(|id| id.to_string()),
            created_at: to_db_time(application.created_at),
            created_by: application.created_by.to_string(),
        }
    }

    fn into_application(self) -> Result<Application, StoreError> {
        let status = parse_name(&self.status, ApplicationStatus::parse)?;
        Ok(Application {
            id: parse_id(&self.id)?,
            customer_id: parse_id(&self.customer_id)?,
            sales_unit_id: parse_optional_id(self.sales_unit_id.as_deref())?,
            currency: parse_currency(&self.currency)?,
            requested_limit_minor: self.requested_limit_minor,
            term_days: self.term_days,
            reason: self.reason,
            green_channel: self.green_channel,
            green_channel_pending: green_channel_pending(self.green_channel, status),
            status,
            pre_review: step_record((
                self.pre_reviewed_by,
                self.pre_reviewed_at,
                self.pre_review_note,
            ))?,
            evaluation_id: parse_optional_id(self.evaluation_id.as_deref())?,
            evaluation: step_record((self.evaluated_by, self.evaluated_at, self.evaluation_note))?,
            decision: step_record((self.decided_by, self.decided_at, self.decision_note))?,
            agreement_id: parse_optional_id(self.agreement_id.as_deref())?,
            created_at: from_db_time(self.created_at),
            created_by: parse_id(&self.created_by)?,
        })
    }
}

impl Outcome for Application {}

/// Files an application for a customer (under its row lock; refused while archived): in
/// the customer's sales unit as it stands; audited.
pub fn submit(
    conn: &mut DbConnection,
    customer_id: Uuid,
    new: NewApplication,
    actor: Uuid,
) -> Result<Application, StoreError> {
    write_transaction(conn, |conn| {
        customers::lock_writable_file(conn, customer_id)?;
        let (_, sales_unit_id) =
            customers::ownership(conn, customer_id)?.ok_or(StoreError::NotFound)?;
        let application = Application {
            id: Uuid::now_v7(),
            customer_id,
            sales_unit_id,
            currency: new.currency,
            requested_limit_minor: new.requested_limit_minor,
            term_days: new.term_days,
            reason: new.reason.clone(),
            green_channel: new.green_channel,
            green_channel_pending: green_channel_pending(
                new.green_channel,
                ApplicationStatus::Submitted,
            ),
            status: ApplicationStatus::Submitted,
            pre_review: None,
            evaluation_id: None,
            evaluation: None,
            decision: None,
            agreement_id: None,
            created_at: now(),
            created_by: actor,
        };
        diesel::insert_into(credit_applications::table)
            .values(ApplicationRow::of(&application))
            .execute(conn)?;
        audit::record(
            conn,
            APPLICATION_ENTITY,
            application.id,
            AuditAction::Created,
            actor,
            &changes(&serde_json::Value::Null, &audit::view(&application)?),
        )?;
        Ok(application)
    })
}

pub fn application(conn: &mut DbConnection, id: Uuid) -> Result<Option<Application>, StoreError> {
    credit_applications::table
        .find(id.to_string())
        .select(ApplicationRow::as_select())
        .first(conn)
        .optional()?
        .map(ApplicationRow::into_application)
        .transpose()
}

/// Which applications a list shows.
pub struct ApplicationFilter {
    pub scope: Scope,
    pub customer_id: Option<Uuid>,
    /// Any of these statuses; empty: any status.
    pub statuses: Vec<ApplicationStatus>,
}

/// A page of applications, the newest first.
pub fn applications(
    conn: &mut DbConnection,
    filter: &ApplicationFilter,
    window: &Window<chrono::DateTime<chrono::Utc>>,
) -> Result<Vec<Application>, StoreError> {
    let mut query = credit_applications::table.into_boxed::<MultiBackend>();
    of_visible_customers!(query, credit_applications::customer_id, &filter.scope);
    if let Some(customer_id) = filter.customer_id {
        query = query.filter(credit_applications::customer_id.eq(customer_id.to_string()));
    }
    if !filter.statuses.is_empty() {
        let statuses: Vec<&str> = filter.statuses.iter().map(|s| s.as_str()).collect();
        query = query.filter(credit_applications::status.eq_any(statuses));
    }
    keyset!(
        query,
        credit_applications::created_at,
        credit_applications::id,
        window.after_db_time(),
        true
    );
    query
        .limit(window.limit)
        .select(ApplicationRow::as_select())
        .load(conn)?
        .into_iter()
        .map(ApplicationRow::into_application)
        .collect()
}

/// A step of the workflow with what it carries.
#[derive(Clone)]
pub enum Step {
    PreReview {
        note: Option<String>,
    },
    Evaluate {
        evaluation_id: Uuid,
        note: Option<String>,
    },
    Approve(ApprovalInput),
    Reject {
        reason: String,
    },
}

impl Step {
    fn kind(&self) -> StepKind {
        match self {
            Step::PreReview { .. } => StepKind::PreReview,
            Step::Evaluate { .. } => StepKind::Evaluate,
            Step::Approve(_) => StepKind::Approve,
            Step::Reject { .. } => StepKind::Reject,
        }
    }
}

/// What the steps read of evaluation `id`: its limit in the company currency at the rate it
/// recorded.
fn evaluation_facts(
    conn: &mut DbConnection,
    id: Uuid,
    company: Currency,
) -> Result<Option<EvaluationFacts>, StoreError> {
    let Some((customer_id, currency, final_limit_minor, rating, record, created_by)) =
        credit_evaluations::table
            .find(id.to_string())
            .select((
                credit_evaluations::customer_id,
                credit_evaluations::currency,
                credit_evaluations::final_limit_minor,
                credit_evaluations::rating,
                credit_evaluations::record,
                credit_evaluations::created_by,
            ))
            .first::<(String, String, i64, String, String, String)>(conn)
            .optional()?
    else {
        return Ok(None);
    };
    let record: serde_json::Value = serde_json::from_str(&record)?;
    let currency = parse_currency(&currency)?;
    let final_limit_company_minor = if currency == company {
        final_limit_minor
    } else {
        let rate = FxRate {
            currency,
            on: serde_json::from_value(record["company_rate_on"].clone())?,
            rate: serde_json::from_value(record["company_rate"].clone())?,
        };
        rate.to_company_minor(final_limit_minor, company)
            .unwrap_or(i64::MAX)
    };
    Ok(Some(EvaluationFacts {
        id,
        customer_id: parse_id(&customer_id)?,
        currency,
        application_id: serde_json::from_value(record["application_id"].clone())?,
        evaluator_id: parse_id(&created_by)?,
        final_limit_minor,
        final_limit_company_minor,
        rating,
    }))
}

/// Names the approver as the evaluation's reviewer in its record.
fn set_reviewer(
    conn: &mut DbConnection,
    evaluation_id: Uuid,
    reviewer: Uuid,
) -> Result<(), StoreError> {
    let record: String = credit_evaluations::table
        .find(evaluation_id.to_string())
        .select(credit_evaluations::record)
        .first(conn)?;
    let mut record: serde_json::Value = serde_json::from_str(&record)?;
    record["reviewer_id"] = serde_json::json!(reviewer);
    diesel::update(credit_evaluations::table.find(evaluation_id.to_string()))
        .set(credit_evaluations::record.eq(record.to_string()))
        .execute(conn)?;
    Ok(())
}

fn unknown_evaluation() -> StepRefusal {
    StepRefusal::Invalid(vec![credo_core::FieldError::new(
        "evaluation_id",
        credo_core::FieldCode::NotFound,
        "no evaluation has this id",
    )])
}

/// Takes `step` on application `id` under its customer's lock; approval grants the line
/// (superseding the active one of its currency) and names the approver as the evaluation's
/// reviewer. Every step audited; a refusal writes nothing.
pub fn take_step(
    conn: &mut DbConnection,
    id: Uuid,
    step: Step,
    actor: &Principal,
    today: chrono::NaiveDate,
) -> Result<Decided<Application, StepRefusal>, StoreError> {
    write_transaction(conn, |conn| {
        let Some(unlocked) = application(conn, id)? else {
            return Ok(Decided::NotFound);
        };
        customers::lock_writable_file(conn, unlocked.customer_id)?;
        let before = application(conn, id)?.ok_or(StoreError::NotFound)?;
        if let Err(refusal) = before.may_take(step.kind(), actor) {
            return Ok(Decided::Refused(refusal));
        }
        let mut after = before.clone();
        let at = now();
        let company = settings::company(conn)?.settings.currency;
        let moved = match step.clone() {
            Step::PreReview { note } => after.pre_review(note.as_deref(), actor.user_id, at),
            Step::Evaluate {
                evaluation_id,
                note,
            } => match evaluation_facts(conn, evaluation_id, company)? {
                Some(facts) => after.evaluate(&facts, note.as_deref(), actor.user_id, at),
                None => Err(unknown_evaluation()),
            },
            Step::Approve(input) => {
                let facts = match before.evaluation_id {
                    Some(evaluation_id) => evaluation_facts(conn, evaluation_id, company)?,
                    None => None,
                };
                let policy = settings::document::<CreditPolicy>(conn)?.settings;
                let others = match other_lines_company_minor(
                    conn,
                    before.customer_id,
                    before.currency,
                    today,
                )? {
                    Ok(others) => others,
                    Err(refusal) => return Ok(Decided::Refused(refusal)),
                };
                match after.approve(
                    &input,
                    facts.as_ref(),
                    actor,
                    &policy.approval,
                    others,
                    company.minor_digits(),
                    today,
                    at,
                ) {
                    Ok(approved) => {
                        let origin = Origin {
                            source: AgreementSource::Application,
                            application_id: Some(before.id),
                            evaluation_id: Some(approved.evaluation_id),
                            rating: Some(approved.rating),
                            reason: None,
                        };
                        let agreement = grant(
                            conn,
                            before.customer_id,
                            approved.terms,
                            origin,
                            actor.user_id,
                            today,
                        )?;
                        after.agreement_id = Some(agreement.id);
                        set_reviewer(conn, approved.evaluation_id, actor.user_id)?;
                        Ok(())
                    }
                    Err(refusal) => Err(refusal),
                }
            }
            Step::Reject { reason } => after.reject(&reason, actor.user_id, at),
        };
        if let Err(refusal) = moved {
            return Ok(Decided::Refused(refusal));
        }
        diesel::update(credit_applications::table.find(id.to_string()))
            .set(ApplicationRow::of(&after))
            .execute(conn)?;
        audit::record(
            conn,
            APPLICATION_ENTITY,
            id,
            AuditAction::Updated,
            actor.user_id,
            &changes(&audit::view(&before)?, &audit::view(&after)?),
        )?;
        Ok(Decided::Done(after))
    })
}
