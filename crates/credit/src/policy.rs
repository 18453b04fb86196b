//! The company's credit policy: one document for the working-capital bands, the limit
//! rules, the approval limits, the credit check and reviews, versioned and audited as a whole.

use credo_core::FieldError;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::application::ApprovalPolicy;
use crate::check::CheckPolicy;
use crate::limit::LimitPolicy;
use crate::review::ReviewPolicy;
use crate::working_capital::WorkingCapitalPolicy;

/// The credit policy: the working-capital model, the limit grades, approvals, the credit
/// check and reviews.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreditPolicy {
    /// The working-capital model's bands of the evaluation value.
    pub working_capital: WorkingCapitalPolicy,
    /// Grade factors and the bounds of the limit grades 1A-5A.
    pub limits: LimitPolicy,
    /// Who approves how much, and how long a line holds by default. A policy stored
    /// before approvals existed reads with the defaults.
    #[serde(default)]
    pub approval: ApprovalPolicy,
    /// How strict the credit check is (default: 10 % tolerance, block beyond 30 days
    /// overdue, alert above 90 % use).
    #[serde(default)]
    pub check: CheckPolicy,
    /// When reviews fall due (default: lines 30 days before they run out, credit data
    /// after 180 days).
    #[serde(default)]
    pub reviews: ReviewPolicy,
}

impl CreditPolicy {
    /// Every rule the policy breaks, named under `working_capital.`, `limits.`, `approval.`, `check.` or `reviews.`.
    pub fn check(&self) -> Result<(), Vec<FieldError>> {
        fn nested(
            result: Result<(), Vec<FieldError>>,
            prefix: &'static str,
        ) -> impl Iterator<Item = FieldError> {
            result
                .err()
                .into_iter()
                .flatten()
                .map(move |error| error.nested(prefix))
        }
        let errors: Vec<FieldError> = nested(self.working_capital.check(), "working_capital")
            .chain(nested(self.limits.check(), "limits"))
            .chain(nested(self.approval.check(), "approval"))
            .chain(nested(self.check.check(), "check"))
            .chain(nested(self.reviews.check(), "reviews"))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(errors)
        }
    }
}
