//! Manual grade overrides (seed 000: one rule set for everyone; an exception needs a reason,
//! an approver and an end): requested by one person, in force once another approves, until
//! it expires.

use chrono::{DateTime, NaiveDate, Utc};
use credo_core::access::{Principal, Role};
use credo_core::text::required_text;
use credo_core::{FieldCode, FieldError, FieldErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::policy::SegmentationPolicy;

credo_core::string_enum! {
    pub enum OverrideStatus {
        /// Waits for an approver.
        Pending = "pending",
        /// In force until it expires.
        Approved = "approved",
    }
}

/// An override as a client asks for it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GradeOverrideInput {
    pub customer_id: Uuid,
    /// One of the policy's grades.
    #[schema(example = "A")]
    pub grade: String,
    #[schema(
        example = "strategic account: sole distributor in the north-west",
        min_length = 1,
        max_length = 2000
    )]
    pub reason: String,
    /// After today, within two years.
    #[schema(example = "2027-06-30")]
    pub expires_on: NaiveDate,
}

const REASON_MAX: usize = 2000;

/// A checked request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OverrideRequest {
    pub customer_id: Uuid,
    pub grade: String,
    pub reason: String,
    pub expires_on: NaiveDate,
}

impl GradeOverrideInput {
    /// Checks the request against the policy's grades on `today`.
    pub fn validate(
        &self,
        policy: &SegmentationPolicy,
        today: NaiveDate,
    ) -> Result<OverrideRequest, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        if !policy.score.grades.iter().any(|g| g.grade == self.grade) {
            errors.push(FieldError::new(
                "grade",
                FieldCode::UnknownKey,
                "not a grade of the segmentation policy",
            ));
        }
        let reason = errors.check("reason", required_text(&self.reason, REASON_MAX));
        if self.expires_on <= today || self.expires_on > today + chrono::Days::new(731) {
            errors.push(FieldError::new(
                "expires_on",
                FieldCode::OutOfRange,
                "after today and within two years",
            ));
        }
        errors.finish(|| OverrideRequest {
            customer_id: self.customer_id,
            grade: self.grade.clone(),
            reason: reason.expect("checked"),
            expires_on: self.expires_on,
        })
    }
}

/// An override of a customer's grade.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct GradeOverride {
    pub id: Uuid,
    pub customer_id: Uuid,
    #[schema(example = "A")]
    pub grade: String,
    pub reason: String,
    /// The last day it is in force.
    pub expires_on: NaiveDate,
    pub status: OverrideStatus,
    pub requested_by: Uuid,
    pub requested_at: DateTime<Utc>,
    pub approved_by: Option<Uuid>,
    pub approved_at: Option<DateTime<Utc>>,
}

impl GradeOverride {
    /// Approved and not expired on `today`.
    pub fn in_force(&self, today: NaiveDate) -> bool {
        self.status == OverrideStatus::Approved && today <= self.expires_on
    }
}

/// Who may ask for and approve overrides: admins, credit managers and unit managers.
pub fn may_override(principal: &Principal) -> bool {
    matches!(
        principal.role,
        Role::Admin | Role::CreditManager | Role::UnitManager
    )
}

/// Why an approval was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApprovalRefusal {
    /// The role does not approve overrides.
    Forbidden,
    /// Whoever asked does not approve.
    SamePerson,
    /// Approved before.
    AlreadyApproved,
    /// It ran out before anyone approved it.
    Expired,
}

/// Approves `pending` as `approver` on `today`.
pub fn approve(
    pending: &GradeOverride,
    approver: &Principal,
    today: NaiveDate,
) -> Result<(), ApprovalRefusal> {
    if !may_override(approver) {
        return Err(ApprovalRefusal::Forbidden);
    }
    if pending.status == OverrideStatus::Approved {
        return Err(ApprovalRefusal::AlreadyApproved);
    }
    if pending.requested_by == approver.user_id {
        return Err(ApprovalRefusal::SamePerson);
    }
    if today > pending.expires_on {
        return Err(ApprovalRefusal::Expired);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 12, d).expect("a day")
    }

    fn principal(id: u128, role: Role) -> Principal {
        Principal {
            user_id: Uuid::from_u128(id),
            role,
            sales_unit_id: None,
        }
    }

    fn pending() -> GradeOverride {
        GradeOverride {
            id: Uuid::from_u128(9),
            customer_id: Uuid::from_u128(8),
            grade: "A".into(),
            reason: "strategic".into(),
            expires_on: day(20),
            status: OverrideStatus::Pending,
            requested_by: Uuid::from_u128(1),
            requested_at: Utc::now(),
            approved_by: None,
            approved_at: None,
        }
    }

    #[test]
    fn someone_else_with_the_right_role_approves_before_it_expires() {
        let o = pending();
        assert!(OverrideStatus::names_agree_with_serde());
        assert_eq!(
            approve(&o, &principal(1, Role::Admin), day(5)),
            Err(ApprovalRefusal::SamePerson)
        );
        assert_eq!(
            approve(&o, &principal(2, Role::Agent), day(5)),
            Err(ApprovalRefusal::Forbidden)
        );
        assert_eq!(
            approve(&o, &principal(2, Role::UnitManager), day(21)),
            Err(ApprovalRefusal::Expired)
        );
        assert_eq!(
            approve(&o, &principal(2, Role::CreditManager), day(5)),
            Ok(())
        );
        let approved = GradeOverride {
            status: OverrideStatus::Approved,
            ..o
        };
        assert_eq!(
            approve(&approved, &principal(3, Role::Admin), day(5)),
            Err(ApprovalRefusal::AlreadyApproved)
        );
        assert!(approved.in_force(day(20)) && !approved.in_force(day(21)));
    }

    #[test]
    fn a_request_names_a_policy_grade_a_reason_and_a_future_end() {
        let policy = SegmentationPolicy::default();
        let input = GradeOverrideInput {
            customer_id: Uuid::from_u128(8),
            grade: "Z".into(),
            reason: "  ".into(),
            expires_on: day(2),
        };
        let fields: Vec<String> = input
            .validate(&policy, day(2))
            .expect_err("invalid")
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["grade", "reason", "expires_on"]);
        let good = GradeOverrideInput {
            grade: "B".into(),
            reason: "key account".into(),
            expires_on: day(30),
            ..input
        };
        assert_eq!(
            good.validate(&policy, day(2)).map(|r| r.grade),
            Ok("B".to_owned())
        );
    }
}
