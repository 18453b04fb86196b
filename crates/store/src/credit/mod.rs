//! Credit files: customers' financial statements and evaluations, applications and the
//! agreements they lead to.

pub mod agreements;
pub mod alerts;
pub mod applications;
pub mod checks;

use chrono::{NaiveDate, NaiveDateTime};
use credo_core::audit::AuditAction;
use credo_core::json::changes;
use credo_core::{Currency, FieldCode, FieldError, Principal};
use credo_credit::application::{ApprovalPolicy, StepRefusal};
use credo_credit::characteristic::Template;
use credo_credit::evaluation::{
    evaluate as decide_evaluation, Evaluation, EvaluationInput, EvaluationSources,
    EvaluationSummary,
};
use credo_credit::policy::CreditPolicy;
use credo_credit::statement::{Figures, Statement};
use diesel::prelude::*;
use uuid::Uuid;

use crate::convert::{from_db_time, parse_currency, parse_id, to_db_time};
use crate::db::{write_transaction, MultiBackend, Outcome};
use crate::keyset::{keyset, Window};
use crate::schema::{credit_evaluations, financial_statements};
use crate::{audit, customers, fx, now, settings, DbConnection, StoreError};

pub const STATEMENT_ENTITY: &str = "financial_statement";

/// A statement to file; its figures checked.
#[derive(Clone)]
pub struct NewStatement {
    pub customer_id: Uuid,
    pub period_end: NaiveDate,
    pub currency: credo_core::Currency,
    pub audited: bool,
    pub figures: Figures,
}

/// What filing a statement came to.
#[derive(Debug)]
pub enum Filed {
    Filed(Statement),
    /// The customer has a statement for this period end and audit status: its id.
    Exists(Uuid),
}

impl Outcome for Filed {
    fn is_refusal(&self) -> bool {
        matches!(self, Filed::Exists(_))
    }
}

/// Files a statement in the customer's file (under its row lock; refused while archived);
/// one per period end and audit status; audited.
pub fn file_statement(
    conn: &mut DbConnection,
    new: NewStatement,
    actor: Uuid,
) -> Result<Filed, StoreError> {
    write_transaction(conn, |conn| {
        customers::lock_writable_file(conn, new.customer_id)?;
        let existing: Option<String> = financial_statements::table
            .filter(financial_statements::customer_id.eq(new.customer_id.to_string()))
            .filter(financial_statements::period_end.eq(new.period_end))
            .filter(financial_statements::audited.eq(new.audited))
            .select(financial_statements::id)
            .first(conn)
            .optional()?;
        if let Some(id) = existing {
            return Ok(Filed::Exists(parse_id(&id)?));
        }
        let statement = Statement {
            id: Uuid::now_v7(),
            customer_id: new.customer_id,
            period_end: new.period_end,
            currency: new.currency,
            audited: new.audited,
            figures: new.figures,
            created_at: now(),
            created_by: actor,
        };
        let figures = serde_json::to_value(statement.figures)?;
        diesel::insert_into(financial_statements::table)
            .values((
                financial_statements::id.eq(statement.id.to_string()),
                financial_statements::customer_id.eq(statement.customer_id.to_string()),
                financial_statements::period_end.eq(statement.period_end),
                financial_statements::currency.eq(statement.currency.as_str()),
                financial_statements::audited.eq(statement.audited),
                financial_statements::figures.eq(figures.to_string()),
                financial_statements::created_at.eq(to_db_time(statement.created_at)),
                financial_statements::created_by.eq(actor.to_string()),
            ))
            .execute(conn)?;
        let filed = serde_json::json!({
            "customer_id": statement.customer_id,
            "period_end": statement.period_end,
            "currency": statement.currency.as_str(),
            "audited": statement.audited,
            "figures": figures,
        });
        audit::record(
            conn,
            STATEMENT_ENTITY,
            statement.id,
            AuditAction::Created,
            actor,
            &changes(&serde_json::Value::Null, &filed),
        )?;
        Ok(Filed::Filed(statement))
    })
}

type StatementRow = (
    String,
    String,
    NaiveDate,
    String,
    bool,
    String,
    NaiveDateTime,
    String,
);

const COLUMNS: (
    financial_statements::id,
    financial_statements::customer_id,
    financial_statements::period_end,
    financial_statements::currency,
    financial_statements::audited,
    financial_statements::figures,
    financial_statements::created_at,
    financial_statements::created_by,
) = (
    financial_statements::id,
    financial_statements::customer_id,
    financial_statements::period_end,
    financial_statements::currency,
    financial_statements::audited,
    financial_statements::figures,
    financial_statements::created_at,
    financial_statements::created_by,
);

fn statement_of(row: StatementRow) -> Result<Statement, StoreError> {
    let (id, customer_id, period_end, currency, audited, figures, created_at, created_by) = row;
    Ok(Statement {
        id: parse_id(&id)?,
        customer_id: parse_id(&customer_id)?,
        period_end,
        currency: parse_currency(&currency)?,
        audited,
        figures: serde_json::from_str(&figures)?,
        created_at: from_db_time(created_at),
        created_by: parse_id(&created_by)?,
    })
}

/// One statement of a customer.
pub fn statement(
    conn: &mut DbConnection,
    customer_id: Uuid,
    id: Uuid,
) -> Result<Option<Statement>, StoreError> {
    financial_statements::table
        .filter(financial_statements::id.eq(id.to_string()))
        .filter(financial_statements::customer_id.eq(customer_id.to_string()))
        .select(COLUMNS)
        .first::<StatementRow>(conn)
        .optional()?
        .map(statement_of)
        .transpose()
}

/// A page of a customer's statements, the latest period first (the latest filed first
/// within a period).
pub fn statements(
    conn: &mut DbConnection,
    customer_id: Uuid,
    window: &Window<NaiveDate>,
) -> Result<Vec<Statement>, StoreError> {
    let mut query = financial_statements::table
        .filter(financial_statements::customer_id.eq(customer_id.to_string()))
        .into_boxed::<MultiBackend>();
    keyset!(
        query,
        financial_statements::period_end,
        financial_statements::id,
        window.after,
        true
    );
    query
        .limit(window.limit)
        .select(COLUMNS)
        .load::<StatementRow>(conn)?
        .into_iter()
        .map(statement_of)
        .collect()
}

pub const EVALUATION_ENTITY: &str = "credit_evaluation";

impl Outcome for Evaluation {}

/// Evaluates the customer's credit as `input` asks, in one transaction that takes the
/// customer's lock (refused while archived) before it reads anything: the statement, the
/// application, the rate, the template and the policy the decision reads are those in force
/// when it is recorded. Audited with its whole record.
pub fn evaluate(
    conn: &mut DbConnection,
    input: &EvaluationInput,
    today: NaiveDate,
    evaluator: Uuid,
) -> Result<Result<Evaluation, Vec<FieldError>>, StoreError> {
    write_transaction(conn, |conn| {
        customers::lock_writable_file(conn, input.customer_id)?;
        let statement = statement(conn, input.customer_id, input.statement_id)?;
        let application = match input.application_id {
            Some(id) => Some(applications::application(conn, id)?),
            None => None,
        };
        let company = settings::company(conn)?.settings.currency;
        let rate = match &statement {
            Some(statement) if statement.currency != company => {
                fx::on_or_before(conn, statement.currency, today)?
            }
            _ => None,
        };
        let template = settings::document::<Template>(conn)?;
        let policy = settings::document::<CreditPolicy>(conn)?;
        let sources = EvaluationSources {
            statement: statement.as_ref(),
            application: application.as_ref().map(Option::as_ref),
            company,
            rate,
            template: (&template.settings, template.version),
            policy: (&policy.settings, policy.version),
        };
        let evaluation = match decide_evaluation(input, &sources, Uuid::now_v7(), evaluator, now())
        {
            Ok(evaluation) => evaluation,
            Err(errors) => return Ok(Err(errors)),
        };
        let record = serde_json::to_value(&evaluation)?;
        diesel::insert_into(credit_evaluations::table)
            .values((
                credit_evaluations::id.eq(evaluation.id.to_string()),
                credit_evaluations::customer_id.eq(evaluation.customer_id.to_string()),
                credit_evaluations::statement_id.eq(evaluation.statement_id.to_string()),
                credit_evaluations::currency.eq(evaluation.currency.as_str()),
                credit_evaluations::final_limit_minor.eq(evaluation.final_limit_minor),
                credit_evaluations::rating.eq(&evaluation.rating),
                credit_evaluations::record.eq(record.to_string()),
                credit_evaluations::created_at.eq(to_db_time(evaluation.created_at)),
                credit_evaluations::created_by.eq(evaluator.to_string()),
            ))
            .execute(conn)?;
        audit::record(
            conn,
            EVALUATION_ENTITY,
            evaluation.id,
            AuditAction::Created,
            evaluator,
            &changes(&serde_json::Value::Null, &record),
        )?;
        Ok(Ok(evaluation))
    })
}

/// An evaluation's customer and its record as recorded.
pub fn evaluation(
    conn: &mut DbConnection,
    id: Uuid,
) -> Result<Option<(Uuid, serde_json::Value)>, StoreError> {
    credit_evaluations::table
        .find(id.to_string())
        .select((credit_evaluations::customer_id, credit_evaluations::record))
        .first::<(String, String)>(conn)
        .optional()?
        .map(|(customer_id, record)| Ok((parse_id(&customer_id)?, serde_json::from_str(&record)?)))
        .transpose()
}

/// What a credit write came to.
#[derive(Debug)]
pub enum Decided<T, R> {
    Done(T),
    NotFound,
    Refused(R),
}

impl<T, R> Outcome for Decided<T, R> {
    fn is_refusal(&self) -> bool {
        !matches!(self, Decided::Done(_))
    }
}

/// `amount_minor` of `currency` in the company currency at the rate of `today` (or the latest
/// before); beyond the cap counts as the largest amount. No rate for the currency is a
/// refusal on `field`.
pub(crate) fn in_company_minor(
    conn: &mut DbConnection,
    (amount_minor, currency): (i64, Currency),
    company: Currency,
    field: &str,
    today: NaiveDate,
) -> Result<Result<i64, StepRefusal>, StoreError> {
    if currency == company {
        return Ok(Ok(amount_minor));
    }
    Ok(match fx::on_or_before(conn, currency, today)? {
        Some(rate) => Ok(rate
            .to_company_minor(amount_minor, company)
            .unwrap_or(i64::MAX)),
        None => Err(StepRefusal::Invalid(vec![FieldError::new(
            field,
            FieldCode::InvalidRate,
            format!(
                "no exchange rate of {} into the company currency is recorded",
                currency.as_str()
            ),
        )])),
    })
}

/// Whether `approver` may approve a single use of `amount` (an override): within their
/// role's approval limit (`policy`) in the company currency.
pub(crate) fn within_approval_limit(
    conn: &mut DbConnection,
    policy: &ApprovalPolicy,
    approver: &Principal,
    amount: (i64, Currency),
    field: &str,
    today: NaiveDate,
) -> Result<Result<(), StepRefusal>, StoreError> {
    let company = settings::company(conn)?.settings.currency;
    let amount = match in_company_minor(conn, amount, company, field, today)? {
        Ok(amount) => amount,
        Err(refusal) => return Ok(Err(refusal)),
    };
    Ok(policy
        .may_approve(approver.role, amount, company.minor_digits())
        .map_err(|up_to_minor| StepRefusal::OverApprovalLimit { up_to_minor }))
}

/// Whether `approver` may grant `customer_id` a line of `line` (superseding its active line
/// of that currency): the customer's total credit with it, in the company currency, within
/// their role's approval limit (`ApprovalPolicy::may_grant`). Read under the customer's lock.
pub(crate) fn within_grant_limit(
    conn: &mut DbConnection,
    policy: &ApprovalPolicy,
    approver: &Principal,
    customer_id: Uuid,
    line: (i64, Currency),
    today: NaiveDate,
) -> Result<Result<(), StepRefusal>, StoreError> {
    let company = settings::company(conn)?.settings.currency;
    let line_minor = match in_company_minor(conn, line, company, "currency", today)? {
        Ok(amount) => amount,
        Err(refusal) => return Ok(Err(refusal)),
    };
    let others = match other_lines_company_minor(conn, customer_id, line.1, today)? {
        Ok(others) => others,
        Err(refusal) => return Ok(Err(refusal)),
    };
    Ok(policy
        .may_grant(approver.role, line_minor, others, company.minor_digits())
        .map_err(|up_to_minor| StepRefusal::OverApprovalLimit { up_to_minor }))
}

/// The customer's active lines in currencies other than `except`, in the company currency:
/// what a new line of `except` (which supersedes that currency's line) adds to.
pub(crate) fn other_lines_company_minor(
    conn: &mut DbConnection,
    customer_id: Uuid,
    except: Currency,
    today: NaiveDate,
) -> Result<Result<i64, StepRefusal>, StoreError> {
    let company = settings::company(conn)?.settings.currency;
    let mut total = 0_i64;
    for line in agreements::active_lines(conn, customer_id)? {
        if line.currency == except {
            continue;
        }
        let amount = (line.limit_minor, line.currency);
        match in_company_minor(conn, amount, company, "currency", today)? {
            Ok(amount) => total = total.saturating_add(amount),
            Err(refusal) => return Ok(Err(refusal)),
        }
    }
    Ok(Ok(total))
}

/// The customer's latest evaluation in brief.
pub fn latest_evaluation(
    conn: &mut DbConnection,
    customer_id: Uuid,
) -> Result<Option<EvaluationSummary>, StoreError> {
    credit_evaluations::table
        .filter(credit_evaluations::customer_id.eq(customer_id.to_string()))
        .order((
            credit_evaluations::created_at.desc(),
            credit_evaluations::id.desc(),
        ))
        .select((
            credit_evaluations::id,
            credit_evaluations::rating,
            credit_evaluations::currency,
            credit_evaluations::final_limit_minor,
            credit_evaluations::created_at,
        ))
        .first::<(String, String, String, i64, NaiveDateTime)>(conn)
        .optional()?
        .map(|(id, rating, currency, final_limit_minor, at)| {
            Ok(EvaluationSummary {
                id: parse_id(&id)?,
                rating,
                currency: parse_currency(&currency)?,
                final_limit_minor,
                created_at: from_db_time(at),
            })
        })
        .transpose()
}
