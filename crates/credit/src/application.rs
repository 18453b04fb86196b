//! Credit applications (seed 004's workflow): a sales unit applies for a line, its head
//! pre-reviews, the credit department evaluates, and someone other than the evaluator,
//! within their approval limit, approves (the line becomes an agreement) or rejects.
//! Green-channel applications (an urgent group, project or government sale) may ship
//! before evaluation and stay flagged until evaluated.

use chrono::{DateTime, NaiveDate, Utc};
use credo_core::money::input_amount;
use credo_core::text::{clean_text, required_text};
use credo_core::{string_enum, Currency, FieldCode, FieldError, FieldErrors, Principal, Role};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::agreement::{check_term_days, check_terms, Guarantee, Terms, TermsInput, REASON_MAX};

string_enum! {
    /// Where an application stands.
    pub enum ApplicationStatus {
        Submitted = "submitted",
        PreReviewed = "pre_reviewed",
        Evaluated = "evaluated",
        Approved = "approved",
        Rejected = "rejected",
    }
}

impl ApplicationStatus {
    /// The statuses of an application not yet approved or rejected.
    pub const UNDECIDED: [ApplicationStatus; 3] = [
        ApplicationStatus::Submitted,
        ApplicationStatus::PreReviewed,
        ApplicationStatus::Evaluated,
    ];

    /// The statuses an application may move to. A green-channel application may be
    /// evaluated before its pre-review.
    pub fn successors(self, green_channel: bool) -> &'static [ApplicationStatus] {
        use ApplicationStatus::*;
        match self {
            Submitted if green_channel => &[PreReviewed, Evaluated, Rejected],
            Submitted => &[PreReviewed, Rejected],
            PreReviewed => &[Evaluated, Rejected],
            Evaluated => &[Approved, Rejected],
            Approved | Rejected => &[],
        }
    }
}

/// An application as a sales unit sends it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplicationInput {
    pub customer_id: Uuid,
    /// The line asked for, in minor units of `currency`.
    #[schema(example = 100_000_000, minimum = 1)]
    pub requested_limit_minor: i64,
    #[schema(example = "CNY")]
    pub currency: String,
    /// Days of credit asked for, from the invoice.
    #[schema(example = 60, minimum = 0, maximum = 3650)]
    pub term_days: i64,
    #[schema(
        example = "年度框架合同,预计月均采购80万元",
        min_length = 1,
        max_length = 2000
    )]
    pub reason: String,
    /// An urgent group, project or government sale: may ship before the evaluation.
    #[serde(default)]
    pub green_channel: bool,
}

/// A valid application's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewApplication {
    pub requested_limit_minor: i64,
    pub currency: Currency,
    pub term_days: i64,
    pub reason: String,
    pub green_channel: bool,
}

impl ApplicationInput {
    pub fn validate(&self) -> Result<NewApplication, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        errors.check(
            "requested_limit_minor",
            input_amount(self.requested_limit_minor, 1),
        );
        let currency = errors.check("currency", Currency::parse(&self.currency));
        check_term_days(self.term_days, &mut errors);
        let reason = errors.check("reason", required_text(&self.reason, REASON_MAX));
        errors.finish(|| NewApplication {
            requested_limit_minor: self.requested_limit_minor,
            currency: currency.expect("checked"),
            term_days: self.term_days,
            reason: reason.expect("checked"),
            green_channel: self.green_channel,
        })
    }
}

/// Who took a step, when, and what they said.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StepRecord {
    pub by: Uuid,
    pub at: DateTime<Utc>,
    #[schema(required = true, example = "客户经营稳定,同意上报")]
    pub note: Option<String>,
}

/// A credit application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Application {
    pub id: Uuid,
    pub customer_id: Uuid,
    /// The customer's sales unit when applied for: its head pre-reviews.
    #[schema(required = true)]
    pub sales_unit_id: Option<Uuid>,
    #[schema(value_type = String, example = "CNY")]
    pub currency: Currency,
    #[schema(example = 100_000_000)]
    pub requested_limit_minor: i64,
    #[schema(example = 60)]
    pub term_days: i64,
    pub reason: String,
    pub green_channel: bool,
    /// A green-channel application not yet evaluated: its customer may buy before the
    /// evaluation, flagged `green_channel_pending` by the credit check.
    pub green_channel_pending: bool,
    pub status: ApplicationStatus,
    #[schema(required = true)]
    pub pre_review: Option<StepRecord>,
    /// The evaluation attached by the `evaluate` step.
    #[schema(required = true)]
    pub evaluation_id: Option<Uuid>,
    #[schema(required = true)]
    pub evaluation: Option<StepRecord>,
    /// The approval or rejection.
    #[schema(required = true)]
    pub decision: Option<StepRecord>,
    /// The agreement approval made.
    #[schema(required = true)]
    pub agreement_id: Option<Uuid>,
    pub created_at: DateTime<Utc>,
    pub created_by: Uuid,
}

/// Whether a green-channel application still waits for its evaluation.
pub fn green_channel_pending(green_channel: bool, status: ApplicationStatus) -> bool {
    green_channel
        && matches!(
            status,
            ApplicationStatus::Submitted | ApplicationStatus::PreReviewed
        )
}

/// The steps of the workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepKind {
    PreReview,
    Evaluate,
    Approve,
    Reject,
}

/// Why a step was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepRefusal {
    /// The caller's role does not take this step here: why.
    Forbidden(&'static str),
    NotAllowed {
        from: ApplicationStatus,
        to: ApplicationStatus,
    },
    /// The approver evaluated: maker and checker are two people.
    SamePerson,
    /// The line is above what the approver may approve: their limit in minor units of the
    /// company currency (0: the role approves nothing).
    OverApprovalLimit {
        up_to_minor: i64,
    },
    Invalid(Vec<FieldError>),
}

/// What the steps read of an evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvaluationFacts {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub currency: Currency,
    /// The application it was made for, when it names one.
    pub application_id: Option<Uuid>,
    pub evaluator_id: Uuid,
    pub final_limit_minor: i64,
    /// The final limit in minor units of the company currency, at the evaluation's rate.
    pub final_limit_company_minor: i64,
    pub rating: String,
}

/// How much each role may approve.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalPolicy {
    /// The largest line a credit manager approves, in major units of the company currency;
    /// admins approve any amount.
    #[schema(example = 5_000_000, minimum = 0)]
    pub credit_manager_up_to_major: i64,
    /// How long a line holds when its approval does not say, in months.
    #[schema(example = 12, minimum = 1, maximum = 120)]
    pub validity_months: u32,
}

impl Default for ApprovalPolicy {
    fn default() -> Self {
        Self {
            credit_manager_up_to_major: 5_000_000,
            validity_months: 12,
        }
    }
}

/// The largest approval limit a policy takes, so that it stays within 2^53 minor units.
pub(crate) const MAX_APPROVAL_MAJOR: i64 = 1_000_000_000_000;

impl ApprovalPolicy {
    pub fn check(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        if !(0..=MAX_APPROVAL_MAJOR).contains(&self.credit_manager_up_to_major) {
            errors.push(FieldError::new(
                "credit_manager_up_to_major",
                FieldCode::OutOfRange,
                "zero or more, at most 10^12",
            ));
        }
        if !(1..=120).contains(&self.validity_months) {
            errors.push(FieldError::new(
                "validity_months",
                FieldCode::OutOfRange,
                "1 to 120 months",
            ));
        }
        errors.finish(|| ())
    }

    /// Whether `role` may approve a line of `amount_company_minor`; when not, the most it
    /// may approve (0 for a role that approves nothing).
    pub fn may_approve(
        &self,
        role: Role,
        amount_company_minor: i64,
        company_digits: u8,
    ) -> Result<(), i64> {
        let up_to = match role {
            Role::Admin => return Ok(()),
            Role::CreditManager => self
                .credit_manager_up_to_major
                .saturating_mul(10_i64.pow(u32::from(company_digits))),
            _ => 0,
        };
        if amount_company_minor <= up_to {
            Ok(())
        } else {
            Err(up_to)
        }
    }

    /// Whether `role` may grant a line of `line_company_minor` to a customer whose other
    /// active lines (in other currencies) come to `other_lines_company_minor`: the limit
    /// holds for the customer's total credit in the company currency, so a line split
    /// across currencies gains an approver nothing.
    pub fn may_grant(
        &self,
        role: Role,
        line_company_minor: i64,
        other_lines_company_minor: i64,
        company_digits: u8,
    ) -> Result<(), i64> {
        let total = line_company_minor.saturating_add(other_lines_company_minor);
        self.may_approve(role, total, company_digits)
    }
}

/// The body of the approval.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalInput {
    /// The line's first day; default today.
    #[schema(example = "2026-12-01")]
    pub valid_from: Option<NaiveDate>,
    /// Its last day; default the policy's validity (12 months) from `valid_from`.
    #[schema(example = "2027-11-30")]
    pub valid_to: Option<NaiveDate>,
    #[serde(default)]
    pub guarantees: Vec<Guarantee>,
    #[schema(example = "同意授信", max_length = 2000)]
    pub note: Option<String>,
}

/// What an approval grants: the line's terms, from its evaluation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approved {
    pub terms: Terms,
    pub evaluation_id: Uuid,
    pub rating: String,
}

fn note(raw: Option<&str>, field: &str) -> Result<Option<String>, StepRefusal> {
    raw.map(|n| clean_text(n, REASON_MAX))
        .transpose()
        .map(Option::flatten)
        .map_err(|e| StepRefusal::Invalid(vec![e.nested(field)]))
}

fn invalid(field: &str, code: FieldCode, message: &str) -> StepRefusal {
    StepRefusal::Invalid(vec![FieldError::new(field, code, message)])
}

impl Application {
    /// Whether `who` takes `step`: the head of the application's sales unit (or an admin)
    /// pre-reviews and may reject before the pre-review; the credit department (credit
    /// managers and admins) evaluates, approves and rejects.
    pub fn may_take(&self, step: StepKind, who: &Principal) -> Result<(), StepRefusal> {
        let unit_head = who.role == Role::UnitManager
            && self.sales_unit_id.is_some()
            && who.sales_unit_id == self.sales_unit_id;
        let credit_department = matches!(who.role, Role::Admin | Role::CreditManager);
        let allowed = match step {
            StepKind::PreReview => unit_head || who.role == Role::Admin,
            StepKind::Evaluate | StepKind::Approve => credit_department,
            StepKind::Reject => {
                credit_department || (unit_head && self.status == ApplicationStatus::Submitted)
            }
        };
        if allowed {
            Ok(())
        } else {
            Err(StepRefusal::Forbidden(match step {
                StepKind::PreReview => "the head of the application's sales unit pre-reviews",
                StepKind::Evaluate | StepKind::Approve => {
                    "the credit department (credit managers and admins) evaluates and approves"
                }
                StepKind::Reject => {
                    "the credit department rejects; the unit head only before the pre-review"
                }
            }))
        }
    }

    /// Whether the status machine has the edge to `to`: checked before anything else, so
    /// a step on a decided application is a conflict whatever its body.
    fn may_move_to(&self, to: ApplicationStatus) -> Result<(), StepRefusal> {
        if self.status.successors(self.green_channel).contains(&to) {
            Ok(())
        } else {
            Err(StepRefusal::NotAllowed {
                from: self.status,
                to,
            })
        }
    }

    fn move_to(&mut self, to: ApplicationStatus) {
        self.status = to;
        self.green_channel_pending = green_channel_pending(self.green_channel, to);
    }

    /// The unit head's pre-review.
    pub fn pre_review(
        &mut self,
        raw_note: Option<&str>,
        by: Uuid,
        at: DateTime<Utc>,
    ) -> Result<(), StepRefusal> {
        self.may_move_to(ApplicationStatus::PreReviewed)?;
        let note = note(raw_note, "note")?;
        self.move_to(ApplicationStatus::PreReviewed);
        self.pre_review = Some(StepRecord { by, at, note });
        Ok(())
    }

    /// Attaches the credit department's evaluation: of this customer, in this currency, and
    /// made for this application or for none.
    pub fn evaluate(
        &mut self,
        evaluation: &EvaluationFacts,
        raw_note: Option<&str>,
        by: Uuid,
        at: DateTime<Utc>,
    ) -> Result<(), StepRefusal> {
        self.may_move_to(ApplicationStatus::Evaluated)?;
        let note = note(raw_note, "note")?;
        if evaluation.customer_id != self.customer_id {
            return Err(invalid(
                "evaluation_id",
                FieldCode::OtherCustomer,
                "the evaluation is of another customer",
            ));
        }
        if evaluation.currency != self.currency {
            return Err(invalid(
                "evaluation_id",
                FieldCode::CurrencyMismatch,
                "the evaluation is in another currency than the application",
            ));
        }
        if evaluation.application_id.is_some_and(|a| a != self.id) {
            return Err(invalid(
                "evaluation_id",
                FieldCode::InvalidValue,
                "the evaluation was made for another application",
            ));
        }
        self.move_to(ApplicationStatus::Evaluated);
        self.evaluation_id = Some(evaluation.id);
        self.evaluation = Some(StepRecord { by, at, note });
        Ok(())
    }

    /// Approves the evaluated line: never by whoever evaluated it, never above the
    /// approver's limit. The agreement's terms: the evaluation's final limit, the term
    /// applied for, the validity and guarantees given.
    #[allow(clippy::too_many_arguments)]
    pub fn approve(
        &mut self,
        input: &ApprovalInput,
        evaluation: Option<&EvaluationFacts>,
        approver: &Principal,
        policy: &ApprovalPolicy,
        other_lines_company_minor: i64,
        company_digits: u8,
        today: NaiveDate,
        at: DateTime<Utc>,
    ) -> Result<Approved, StepRefusal> {
        self.may_move_to(ApplicationStatus::Approved)?;
        let refused = StepRefusal::NotAllowed {
            from: self.status,
            to: ApplicationStatus::Approved,
        };
        // An evaluated application has its evaluation: without one it was never evaluated.
        let evaluation = evaluation
            .filter(|e| Some(e.id) == self.evaluation_id)
            .ok_or(refused)?;
        let note = note(input.note.as_deref(), "note")?;
        let evaluated_by = self.evaluation.as_ref().map(|e| e.by);
        if approver.user_id == evaluation.evaluator_id || Some(approver.user_id) == evaluated_by {
            return Err(StepRefusal::SamePerson);
        }
        policy
            .may_grant(
                approver.role,
                evaluation.final_limit_company_minor,
                other_lines_company_minor,
                company_digits,
            )
            .map_err(|up_to_minor| StepRefusal::OverApprovalLimit { up_to_minor })?;
        let terms = check_terms(
            TermsInput {
                limit_minor: evaluation.final_limit_minor,
                term_days: self.term_days,
                valid_from: input.valid_from,
                valid_to: input.valid_to,
                guarantees: &input.guarantees,
            },
            self.currency,
            today,
            policy.validity_months,
        )
        .map_err(StepRefusal::Invalid)?;
        self.move_to(ApplicationStatus::Approved);
        self.decision = Some(StepRecord {
            by: approver.user_id,
            at,
            note,
        });
        Ok(Approved {
            terms,
            evaluation_id: evaluation.id,
            rating: evaluation.rating.clone(),
        })
    }

    /// Rejects the application, with the reason.
    pub fn reject(&mut self, reason: &str, by: Uuid, at: DateTime<Utc>) -> Result<(), StepRefusal> {
        self.may_move_to(ApplicationStatus::Rejected)?;
        let reason = required_text(reason, REASON_MAX)
            .map_err(|e| StepRefusal::Invalid(vec![e.nested("reason")]))?;
        self.move_to(ApplicationStatus::Rejected);
        self.decision = Some(StepRecord {
            by,
            at,
            note: Some(reason),
        });
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use credo_core::money::MAX_MINOR;
    use proptest::prelude::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn cny() -> Currency {
        Currency::parse("CNY").unwrap()
    }

    const CUSTOMER: Uuid = Uuid::from_u128(7);
    const EVALUATOR: Uuid = Uuid::from_u128(2);
    const APPROVER: Uuid = Uuid::from_u128(3);

    fn application(green_channel: bool) -> Application {
        Application {
            id: Uuid::from_u128(1),
            customer_id: CUSTOMER,
            sales_unit_id: None,
            currency: cny(),
            requested_limit_minor: 100_000_000,
            term_days: 60,
            reason: "年度合同".into(),
            green_channel,
            green_channel_pending: green_channel,
            status: ApplicationStatus::Submitted,
            pre_review: None,
            evaluation_id: None,
            evaluation: None,
            decision: None,
            agreement_id: None,
            created_at: DateTime::UNIX_EPOCH,
            created_by: Uuid::from_u128(9),
        }
    }

    fn facts(final_limit_company_minor: i64) -> EvaluationFacts {
        EvaluationFacts {
            id: Uuid::from_u128(5),
            customer_id: CUSTOMER,
            currency: cny(),
            application_id: None,
            evaluator_id: EVALUATOR,
            final_limit_minor: 90_000_000,
            final_limit_company_minor,
            rating: "3A2".into(),
        }
    }

    fn evaluated() -> Application {
        let mut app = application(false);
        app.pre_review(None, Uuid::from_u128(4), DateTime::UNIX_EPOCH)
            .unwrap();
        app.evaluate(&facts(90_000_000), None, EVALUATOR, DateTime::UNIX_EPOCH)
            .unwrap();
        app
    }

    fn approve(
        app: &mut Application,
        who: Uuid,
        role: Role,
        amount: i64,
    ) -> Result<Terms, StepRefusal> {
        app.approve(
            &ApprovalInput::default(),
            Some(&facts(amount)),
            &Principal {
                user_id: who,
                role,
                sales_unit_id: None,
            },
            &ApprovalPolicy::default(),
            0,
            2,
            day("2026-12-02"),
            DateTime::UNIX_EPOCH,
        )
        .map(|approved| approved.terms)
    }

    #[test]
    fn stored_names_are_the_wire_names() {
        assert!(ApplicationStatus::names_agree_with_serde());
    }

    #[test]
    fn an_application_asks_for_a_positive_line_with_a_reason() {
        let input = ApplicationInput {
            customer_id: CUSTOMER,
            requested_limit_minor: 0,
            currency: "XXY".into(),
            term_days: 3651,
            reason: " ".into(),
            green_channel: false,
        };
        let fields: Vec<String> = input
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            ["requested_limit_minor", "currency", "term_days", "reason"]
        );
    }

    #[test]
    fn only_the_green_channel_skips_the_pre_review() {
        let mut app = application(false);
        assert_eq!(
            app.evaluate(&facts(1), None, EVALUATOR, DateTime::UNIX_EPOCH),
            Err(StepRefusal::NotAllowed {
                from: ApplicationStatus::Submitted,
                to: ApplicationStatus::Evaluated
            })
        );
        let mut green = application(true);
        assert!(green.green_channel_pending);
        green
            .evaluate(&facts(1), None, EVALUATOR, DateTime::UNIX_EPOCH)
            .unwrap();
        assert!(!green.green_channel_pending);
        app.pre_review(Some(" ok "), APPROVER, DateTime::UNIX_EPOCH)
            .unwrap();
        assert_eq!(app.pre_review.unwrap().note.as_deref(), Some("ok"));
    }

    #[test]
    fn an_evaluation_of_another_customer_or_currency_is_refused() {
        let mut app = application(true);
        let mut other = facts(1);
        other.customer_id = Uuid::from_u128(99);
        let refusal = app.evaluate(&other, None, EVALUATOR, DateTime::UNIX_EPOCH);
        assert!(
            matches!(refusal, Err(StepRefusal::Invalid(e)) if e[0].code == FieldCode::OtherCustomer)
        );
        let mut usd = facts(1);
        usd.currency = Currency::parse("USD").unwrap();
        let refusal = app.evaluate(&usd, None, EVALUATOR, DateTime::UNIX_EPOCH);
        assert!(
            matches!(refusal, Err(StepRefusal::Invalid(e)) if e[0].code == FieldCode::CurrencyMismatch)
        );
        let mut elsewhere = facts(1);
        elsewhere.application_id = Some(Uuid::from_u128(42));
        assert!(app
            .evaluate(&elsewhere, None, EVALUATOR, DateTime::UNIX_EPOCH)
            .is_err());
        assert_eq!(app.status, ApplicationStatus::Submitted);
    }

    #[test]
    fn the_evaluator_never_approves() {
        let mut app = evaluated();
        assert_eq!(
            approve(&mut app, EVALUATOR, Role::Admin, 1),
            Err(StepRefusal::SamePerson)
        );
        let terms = approve(&mut app, APPROVER, Role::CreditManager, 1).unwrap();
        assert_eq!(terms.limit_minor, 90_000_000);
        assert_eq!(terms.term_days, 60);
        assert_eq!(terms.valid_to, day("2027-12-01"));
        assert_eq!(app.status, ApplicationStatus::Approved);
        assert_eq!(
            approve(&mut app, APPROVER, Role::CreditManager, 1),
            Err(StepRefusal::NotAllowed {
                from: ApplicationStatus::Approved,
                to: ApplicationStatus::Approved
            })
        );
    }

    #[test]
    fn a_credit_manager_approves_up_to_five_million_an_admin_any_amount() {
        let up_to = 500_000_000;
        assert!(approve(&mut evaluated(), APPROVER, Role::CreditManager, up_to).is_ok());
        assert_eq!(
            approve(&mut evaluated(), APPROVER, Role::CreditManager, up_to + 1),
            Err(StepRefusal::OverApprovalLimit { up_to_minor: up_to })
        );
        assert!(approve(&mut evaluated(), APPROVER, Role::Admin, MAX_MINOR).is_ok());
        assert_eq!(
            approve(&mut evaluated(), APPROVER, Role::UnitManager, 1),
            Err(StepRefusal::OverApprovalLimit { up_to_minor: 0 })
        );
    }

    #[test]
    fn the_unit_head_pre_reviews_the_credit_department_decides() {
        let unit = Uuid::from_u128(70);
        let mut app = application(false);
        app.sales_unit_id = Some(unit);
        let who = |role, sales_unit_id| Principal {
            user_id: APPROVER,
            role,
            sales_unit_id,
        };
        let head = who(Role::UnitManager, Some(unit));
        assert!(app.may_take(StepKind::PreReview, &head).is_ok());
        assert!(app.may_take(StepKind::Reject, &head).is_ok());
        assert!(app.may_take(StepKind::Approve, &head).is_err());
        let other_head = who(Role::UnitManager, Some(Uuid::from_u128(71)));
        assert!(app.may_take(StepKind::PreReview, &other_head).is_err());
        assert!(app
            .may_take(StepKind::PreReview, &who(Role::Agent, Some(unit)))
            .is_err());
        let credit = who(Role::CreditManager, None);
        assert!(app.may_take(StepKind::PreReview, &credit).is_err());
        assert!(app.may_take(StepKind::Evaluate, &credit).is_ok());
        app.pre_review(None, APPROVER, DateTime::UNIX_EPOCH)
            .unwrap();
        assert!(app.may_take(StepKind::Reject, &head).is_err());
        assert!(app.may_take(StepKind::Reject, &credit).is_ok());
    }

    #[test]
    fn a_rejection_needs_a_reason_and_ends_the_application() {
        let mut app = application(false);
        assert!(matches!(
            app.reject(" ", APPROVER, DateTime::UNIX_EPOCH),
            Err(StepRefusal::Invalid(_))
        ));
        app.reject("资料不全", APPROVER, DateTime::UNIX_EPOCH)
            .unwrap();
        assert_eq!(
            app.decision.as_ref().unwrap().note.as_deref(),
            Some("资料不全")
        );
        assert!(app
            .pre_review(None, APPROVER, DateTime::UNIX_EPOCH)
            .is_err());
    }

    proptest! {
        #[test]
        fn approval_limits_rise_with_the_amount(amount in 0..MAX_MINOR, digits in 0u8..4) {
            let policy = ApprovalPolicy::default();
            let within = policy.may_approve(Role::CreditManager, amount, digits).is_ok();
            let smaller = policy.may_approve(Role::CreditManager, amount / 2, digits).is_ok();
            prop_assert!(!within || smaller);
            prop_assert!(policy.may_approve(Role::Admin, amount, digits).is_ok());
        }

        /// Splitting a line across currencies gains nothing: a grant beside other lines is
        /// allowed exactly when one line of the total would be.
        #[test]
        fn a_grant_is_weighed_with_the_customers_other_lines(
            line in 0..MAX_MINOR,
            others in 0..MAX_MINOR,
            digits in 0u8..4,
        ) {
            let policy = ApprovalPolicy::default();
            let role = Role::CreditManager;
            prop_assert_eq!(
                policy.may_grant(role, line, others, digits),
                policy.may_approve(role, line + others, digits)
            );
        }
    }

    #[test]
    fn two_lines_each_within_the_limit_are_not_granted_together() {
        let policy = ApprovalPolicy::default();
        let yuan = |major: i64| major * 100;
        let role = Role::CreditManager;
        assert_eq!(policy.may_grant(role, yuan(5_000_000), 0, 2), Ok(()));
        assert_eq!(
            policy.may_grant(role, yuan(4_900_000), yuan(5_000_000), 2),
            Err(yuan(5_000_000))
        );
        assert_eq!(
            policy.may_grant(Role::Admin, yuan(4_900_000), i64::MAX, 2),
            Ok(())
        );
    }
}
