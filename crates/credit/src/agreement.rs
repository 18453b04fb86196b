//! Credit agreements: the line a customer may buy on in one currency, with its term,
//! validity and guarantees. One is in force per customer and currency; an approved
//! application or a line carried over from an old system makes it, a new one supersedes it,
//! and it ends when it expires or is revoked.

use chrono::{DateTime, Months, NaiveDate, Utc};
use credo_core::money::MAX_MINOR;
use credo_core::text::required_text;
use credo_core::{string_enum, Currency, FieldCode, FieldError, FieldErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

/// The longest credit term in days (ten years), as for orders.
pub const MAX_TERM_DAYS: i64 = 3650;
/// Reasons and notes: at most this many characters.
pub const REASON_MAX: usize = 2000;
const GUARANTEE_DESCRIPTION_MAX: usize = 500;
const MAX_GUARANTEES: usize = 20;

string_enum! {
    /// What secures a line (seed 004: mortgage, pledge, guarantor).
    pub enum GuaranteeKind {
        Mortgage = "mortgage",
        Pledge = "pledge",
        Guarantor = "guarantor",
    }
}

/// One guarantee behind a line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Guarantee {
    pub kind: GuaranteeKind,
    /// What it is: the property, the pledged goods, the guarantor's name.
    #[schema(
        example = "深圳市宝安区厂房抵押 (房产证 粤2024-0001)",
        min_length = 1,
        max_length = 500
    )]
    pub description: String,
    /// What it is worth, in minor units of the line's currency, when valued.
    #[schema(example = 80_000_000, minimum = 0)]
    pub value_minor: Option<i64>,
}

string_enum! {
    /// Where an agreement stands as stored: `active` until superseded by a newer line of the
    /// customer and currency or revoked. An active line outside its validity is not in force.
    pub enum AgreementStatus {
        Active = "active",
        Superseded = "superseded",
        Revoked = "revoked",
    }
}

string_enum! {
    /// How the line came about.
    pub enum AgreementSource {
        /// Approval of a credit application.
        Application = "application",
        /// Recorded directly: a line carried over from an old system.
        CarriedOver = "carried_over",
    }
}

string_enum! {
    /// Whether an agreement holds today.
    pub enum Standing {
        InForce = "in_force",
        NotYetValid = "not_yet_valid",
        Expired = "expired",
        Superseded = "superseded",
        Revoked = "revoked",
    }
}

/// The terms of a line: what approval and a carried-over record both set.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    pub currency: Currency,
    pub limit_minor: i64,
    pub term_days: i64,
    pub valid_from: NaiveDate,
    pub valid_to: NaiveDate,
    pub guarantees: Vec<Guarantee>,
}

/// A credit agreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Agreement {
    pub id: Uuid,
    pub customer_id: Uuid,
    #[schema(value_type = String, example = "CNY")]
    pub currency: Currency,
    /// The most the customer may owe on credit in this currency, in minor units.
    #[schema(example = 90_000_000)]
    pub limit_minor: i64,
    /// Days of credit from the invoice.
    #[schema(example = 60)]
    pub term_days: i64,
    #[schema(example = "2026-12-01")]
    pub valid_from: NaiveDate,
    /// The last day the line holds.
    #[schema(example = "2027-11-30")]
    pub valid_to: NaiveDate,
    pub guarantees: Vec<Guarantee>,
    pub source: AgreementSource,
    /// The approved application, for a line from the workflow.
    #[schema(required = true)]
    pub application_id: Option<Uuid>,
    /// The evaluation the limit came from, for a line from the workflow.
    #[schema(required = true)]
    pub evaluation_id: Option<Uuid>,
    /// The evaluation's rating ("3A2"); `null` for a carried-over line.
    #[schema(required = true, example = "3A2")]
    pub rating: Option<String>,
    /// Why a line was carried over.
    #[schema(required = true, example = json!(null))]
    pub reason: Option<String>,
    pub status: AgreementStatus,
    /// Who superseded or revoked it, when, and (revoked) why.
    #[schema(required = true)]
    pub ended_by: Option<Uuid>,
    #[schema(required = true)]
    pub ended_at: Option<DateTime<Utc>>,
    #[schema(required = true, example = json!(null))]
    pub end_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub created_by: Uuid,
}

/// An agreement with whether it holds today.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgreementView {
    #[serde(flatten)]
    pub agreement: Agreement,
    /// `in_force`, `not_yet_valid`, `expired`, `superseded` or `revoked`, today in the
    /// company time zone.
    pub standing: Standing,
}

impl AgreementView {
    pub fn of(agreement: Agreement, today: NaiveDate) -> Self {
        Self {
            standing: agreement.standing(today),
            agreement,
        }
    }
}

impl Agreement {
    /// Whether the line holds on `today`.
    pub fn standing(&self, today: NaiveDate) -> Standing {
        match self.status {
            AgreementStatus::Superseded => Standing::Superseded,
            AgreementStatus::Revoked => Standing::Revoked,
            AgreementStatus::Active if today < self.valid_from => Standing::NotYetValid,
            AgreementStatus::Active if today > self.valid_to => Standing::Expired,
            AgreementStatus::Active => Standing::InForce,
        }
    }
}

/// The validity and guarantees of a line as a client sends them.
pub struct TermsInput<'a> {
    pub limit_minor: i64,
    pub term_days: i64,
    pub valid_from: Option<NaiveDate>,
    pub valid_to: Option<NaiveDate>,
    pub guarantees: &'a [Guarantee],
}

/// Checks a line's terms: a limit within the amount cap, a term of 0 to 3650 days, a validity
/// that ends after it starts and not before today (from today and `default_months` long
/// unless given), guarantees described and valued at zero or more.
pub fn check_terms(
    input: TermsInput<'_>,
    currency: Currency,
    today: NaiveDate,
    default_months: u32,
) -> Result<Terms, Vec<FieldError>> {
    let mut errors = FieldErrors::new();
    if !(0..=MAX_MINOR).contains(&input.limit_minor) {
        errors.push(FieldError::new(
            "limit_minor",
            FieldCode::OutOfRange,
            "a limit is zero or more, at most 2^53 - 1",
        ));
    }
    check_term_days(input.term_days, &mut errors);
    let valid_from = input.valid_from.unwrap_or(today);
    let valid_to = input.valid_to.unwrap_or_else(|| {
        valid_from
            .checked_add_months(Months::new(default_months))
            .and_then(|d| d.pred_opt())
            .unwrap_or(valid_from)
    });
    if valid_to < valid_from {
        errors.push(FieldError::new(
            "valid_to",
            FieldCode::BeforeEarlierDate,
            format!("a line ends on or after its first day ({valid_from})"),
        ));
    } else if valid_to < today {
        errors.push(FieldError::new(
            "valid_to",
            FieldCode::BeforeEarlierDate,
            format!("a line granted today ({today}) ends today or later"),
        ));
    }
    let guarantees = check_guarantees(input.guarantees, &mut errors);
    errors.finish(|| Terms {
        currency,
        limit_minor: input.limit_minor,
        term_days: input.term_days,
        valid_from,
        valid_to,
        guarantees,
    })
}

/// A credit term in days: 0 (cash on invoice) to ten years.
pub fn check_term_days(term_days: i64, errors: &mut FieldErrors) {
    if !(0..=MAX_TERM_DAYS).contains(&term_days) {
        errors.push(FieldError::new(
            "term_days",
            FieldCode::OutOfRange,
            format!("a credit term is 0 to {MAX_TERM_DAYS} days"),
        ));
    }
}

fn check_guarantees(guarantees: &[Guarantee], errors: &mut FieldErrors) -> Vec<Guarantee> {
    if guarantees.len() > MAX_GUARANTEES {
        errors.push(FieldError::new(
            "guarantees",
            FieldCode::TooLong,
            format!("at most {MAX_GUARANTEES} guarantees"),
        ));
        return Vec::new();
    }
    let mut checked = Vec::with_capacity(guarantees.len());
    for (index, guarantee) in guarantees.iter().enumerate() {
        let field = format!("guarantees[{index}]");
        let description = required_text(&guarantee.description, GUARANTEE_DESCRIPTION_MAX)
            .map_err(|e| e.nested(&format!("{field}.description")));
        if guarantee
            .value_minor
            .is_some_and(|v| !(0..=MAX_MINOR).contains(&v))
        {
            errors.push(FieldError::new(
                format!("{field}.value_minor"),
                FieldCode::OutOfRange,
                "a guarantee is worth zero or more, at most 2^53 - 1",
            ));
        }
        match description {
            Ok(description) => checked.push(Guarantee {
                description,
                ..guarantee.clone()
            }),
            Err(error) => errors.push(error),
        }
    }
    checked
}

/// A line carried over from an old system, as an admin or credit manager records it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AgreementInput {
    pub customer_id: Uuid,
    #[schema(example = "CNY")]
    pub currency: String,
    #[schema(example = 50_000_000, minimum = 0)]
    pub limit_minor: i64,
    #[schema(example = 60, minimum = 0, maximum = 3650)]
    pub term_days: i64,
    /// Default today.
    #[schema(example = "2026-12-01")]
    pub valid_from: Option<NaiveDate>,
    /// Default a policy's validity (12 months) from `valid_from`.
    #[schema(example = "2027-11-30")]
    pub valid_to: Option<NaiveDate>,
    #[schema(
        example = "旧系统迁移: 2025年度授信额度",
        min_length = 1,
        max_length = 2000
    )]
    pub reason: String,
    #[serde(default)]
    pub guarantees: Vec<Guarantee>,
}

impl AgreementInput {
    /// The terms and reason of a carried-over line.
    pub fn validate(
        &self,
        today: NaiveDate,
        default_months: u32,
    ) -> Result<(Terms, String), Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let currency = errors.check("currency", Currency::parse(&self.currency));
        let reason = errors.check("reason", required_text(&self.reason, REASON_MAX));
        let input = TermsInput {
            limit_minor: self.limit_minor,
            term_days: self.term_days,
            valid_from: self.valid_from,
            valid_to: self.valid_to,
            guarantees: &self.guarantees,
        };
        let terms = currency.and_then(|currency| {
            check_terms(input, currency, today, default_months)
                .map_err(|e| e.into_iter().for_each(|e| errors.push(e)))
                .ok()
        });
        errors.finish(|| (terms.expect("checked"), reason.expect("checked")))
    }
}

/// Why a line may not be revoked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RevokeRefusal {
    /// Only an active line is revoked.
    NotActive(AgreementStatus),
    Invalid(Vec<FieldError>),
}

/// Revokes `agreement` for `reason`: it stops holding at once.
pub fn revoke(
    agreement: &Agreement,
    reason: &str,
    by: Uuid,
    at: DateTime<Utc>,
) -> Result<Agreement, RevokeRefusal> {
    if agreement.status != AgreementStatus::Active {
        return Err(RevokeRefusal::NotActive(agreement.status));
    }
    let reason = required_text(reason, REASON_MAX)
        .map_err(|e| RevokeRefusal::Invalid(vec![e.nested("reason")]))?;
    Ok(Agreement {
        status: AgreementStatus::Revoked,
        ended_by: Some(by),
        ended_at: Some(at),
        end_reason: Some(reason),
        ..agreement.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn cny() -> Currency {
        Currency::parse("CNY").unwrap()
    }

    fn terms(
        valid_from: Option<NaiveDate>,
        valid_to: Option<NaiveDate>,
        guarantees: &[Guarantee],
    ) -> Result<Terms, Vec<FieldError>> {
        let input = TermsInput {
            limit_minor: 100,
            term_days: 60,
            valid_from,
            valid_to,
            guarantees,
        };
        check_terms(input, cny(), day("2026-12-02"), 12)
    }

    #[test]
    fn stored_names_are_the_wire_names() {
        assert!(GuaranteeKind::names_agree_with_serde());
        assert!(AgreementStatus::names_agree_with_serde());
        assert!(AgreementSource::names_agree_with_serde());
        assert!(Standing::names_agree_with_serde());
    }

    #[test]
    fn a_line_holds_twelve_months_from_today_unless_told() {
        let t = terms(None, None, &[]).unwrap();
        assert_eq!(
            (t.valid_from, t.valid_to),
            (day("2026-12-02"), day("2027-12-01"))
        );
        let t = terms(Some(day("2026-02-28")), None, &[]).unwrap();
        assert_eq!(t.valid_to, day("2027-02-27"));
    }

    #[test]
    fn a_line_ends_after_it_starts_and_not_in_the_past() {
        let errors = terms(Some(day("2026-12-10")), Some(day("2026-12-09")), &[]).unwrap_err();
        assert_eq!(errors[0].field, "valid_to");
        let errors = terms(Some(day("2026-01-01")), Some(day("2026-12-01")), &[]).unwrap_err();
        assert_eq!(errors[0].field, "valid_to");
        assert!(terms(Some(day("2026-01-01")), Some(day("2026-12-02")), &[]).is_ok());
    }

    #[test]
    fn guarantees_are_described_and_never_negative() {
        let bad = [
            Guarantee {
                kind: GuaranteeKind::Mortgage,
                description: " ".into(),
                value_minor: Some(-1),
            },
            Guarantee {
                kind: GuaranteeKind::Guarantor,
                description: " 李四 ".into(),
                value_minor: None,
            },
        ];
        let errors = terms(None, None, &bad).unwrap_err();
        let fields: Vec<&str> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(
            fields,
            ["guarantees[0].value_minor", "guarantees[0].description"]
        );
        let t = terms(None, None, &bad[1..]).unwrap();
        assert_eq!(t.guarantees[0].description, "李四");
    }

    #[test]
    fn standing_follows_status_then_validity() {
        let agreement = Agreement {
            id: Uuid::nil(),
            customer_id: Uuid::nil(),
            currency: cny(),
            limit_minor: 1,
            term_days: 30,
            valid_from: day("2026-01-01"),
            valid_to: day("2026-12-31"),
            guarantees: vec![],
            source: AgreementSource::CarriedOver,
            application_id: None,
            evaluation_id: None,
            rating: None,
            reason: Some("x".into()),
            status: AgreementStatus::Active,
            ended_by: None,
            ended_at: None,
            end_reason: None,
            created_at: DateTime::UNIX_EPOCH,
            created_by: Uuid::nil(),
        };
        assert_eq!(agreement.standing(day("2025-12-31")), Standing::NotYetValid);
        assert_eq!(agreement.standing(day("2026-12-31")), Standing::InForce);
        assert_eq!(agreement.standing(day("2027-01-01")), Standing::Expired);
        let revoked = revoke(&agreement, " 客户破产 ", Uuid::nil(), DateTime::UNIX_EPOCH).unwrap();
        assert_eq!(revoked.standing(day("2026-06-01")), Standing::Revoked);
        assert_eq!(revoked.end_reason.as_deref(), Some("客户破产"));
        assert_eq!(
            revoke(&revoked, "again", Uuid::nil(), DateTime::UNIX_EPOCH),
            Err(RevokeRefusal::NotActive(AgreementStatus::Revoked))
        );
    }
}
