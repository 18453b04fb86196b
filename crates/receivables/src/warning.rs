//! The bad-customer warning list shared by every sales unit (seed 004's 不良客户警示系统):
//! customers newly sued or with a suit not yet closed, with arrears on non-credit sales over
//! six months, with a credit sale overdue over a month, and those listed by hand.

use chrono::{Days, Months, NaiveDate};
use credo_core::date::{overdue_since, overdue_through, MONTH_OVERDUE_DAYS};
use credo_core::text::required_text;
use credo_core::{string_enum, FieldError, FieldErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::ledger::REASON_MAX;

/// A suit is "new" this many days after it was filed; then, until lifted by hand (the case
/// closed), it is an unresolved case.
pub const NEW_LAWSUIT_DAYS: u64 = 90;
/// Arrears on a sale without credit terms list the customer after this many months.
pub const NON_CREDIT_ARREARS_MONTHS: u32 = 6;

string_enum! {
    /// Why a customer is on the warning list.
    pub enum WarningCode {
        /// A litigation event in the last 90 days.
        Lawsuit = "lawsuit",
        /// A litigation event older than that, not lifted by hand (in trial or enforcement).
        UnresolvedCase = "unresolved_case",
        /// An item without credit terms (due on its invoice day) open over six months.
        NonCreditArrears = "non_credit_arrears",
        /// An item sold on credit overdue over one month.
        OverdueCreditSale = "overdue_credit_sale",
        /// Listed by hand, with a reason.
        Listed = "listed",
    }
}

/// One reason a customer is listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct WarningReason {
    pub code: WarningCode,
    /// The day the reason arose.
    pub since: NaiveDate,
    /// The reason given by hand; `null` for the others.
    pub note: Option<String>,
}

/// A customer on the list: the entry every unit sees, not the rest of its file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct WarningEntry {
    pub customer_id: Uuid,
    #[schema(example = "深圳市华强贸易有限公司")]
    pub name: String,
    pub reasons: Vec<WarningReason>,
}

/// The reasons a customer's suits give as of `today`, from the first and the last suit filed
/// since the list was last lifted: a new suit, and an unresolved case when one is older.
pub fn lawsuit_reasons(first: NaiveDate, last: NaiveDate, today: NaiveDate) -> Vec<WarningReason> {
    let new_since = today - Days::new(NEW_LAWSUIT_DAYS);
    let mut reasons = Vec::new();
    if last > new_since {
        reasons.push(WarningReason {
            code: WarningCode::Lawsuit,
            since: last,
            note: None,
        });
    }
    if first <= new_since {
        reasons.push(WarningReason {
            code: WarningCode::UnresolvedCase,
            since: first,
            note: None,
        });
    }
    reasons
}

/// What the ledger's reasons are read by as of `today`: items without credit terms issued
/// before the first day, credit items due on or before the second (a month overdue, the
/// day dunning reaches its blacklist level).
pub fn arrears_cutoffs(today: NaiveDate) -> (NaiveDate, NaiveDate) {
    (
        today - Months::new(NON_CREDIT_ARREARS_MONTHS),
        overdue_through(today, MONTH_OVERDUE_DAYS),
    )
}

/// The reason of arrears on non-credit sales, from the oldest such item's invoice day.
pub fn non_credit_arrears(oldest_issued_on: NaiveDate) -> WarningReason {
    WarningReason {
        code: WarningCode::NonCreditArrears,
        since: oldest_issued_on + Months::new(NON_CREDIT_ARREARS_MONTHS),
        note: None,
    }
}

/// The reason of an overdue credit sale, from the oldest such item's due day: since it was
/// a month overdue.
pub fn overdue_credit_sale(oldest_due_on: NaiveDate) -> WarningReason {
    WarningReason {
        code: WarningCode::OverdueCreditSale,
        since: overdue_since(oldest_due_on, MONTH_OVERDUE_DAYS).unwrap_or(NaiveDate::MAX),
        note: None,
    }
}

/// Listing or lifting a customer by hand.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WarningChangeInput {
    #[schema(
        example = "法院已立案执行,暂停一切赊销",
        min_length = 1,
        max_length = 2000
    )]
    pub reason: String,
}

impl WarningChangeInput {
    pub fn validate(&self) -> Result<String, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let reason = errors.check("reason", required_text(&self.reason, REASON_MAX));
        errors.finish(|| reason.expect("checked"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn stored_names_are_the_wire_names() {
        assert!(WarningCode::names_agree_with_serde());
    }

    #[test]
    fn a_suit_is_new_for_ninety_days_then_an_unresolved_case() {
        let today = day("2026-12-04");
        let codes = |first, last| -> Vec<(WarningCode, NaiveDate)> {
            lawsuit_reasons(day(first), day(last), today)
                .into_iter()
                .map(|r| (r.code, r.since))
                .collect()
        };
        assert_eq!(
            codes("2026-09-06", "2026-09-06"),
            [(WarningCode::Lawsuit, day("2026-09-06"))]
        );
        assert_eq!(
            codes("2026-09-05", "2026-09-05"),
            [(WarningCode::UnresolvedCase, day("2026-09-05"))]
        );
        assert_eq!(
            codes("2025-01-10", "2026-11-30"),
            [
                (WarningCode::Lawsuit, day("2026-11-30")),
                (WarningCode::UnresolvedCase, day("2025-01-10"))
            ]
        );
    }

    #[test]
    fn arrears_list_after_six_months_without_credit_and_one_month_overdue_with_it() {
        let (non_credit, credit) = arrears_cutoffs(day("2026-12-04"));
        assert_eq!((non_credit, credit), (day("2026-06-04"), day("2026-11-04")));
        // Thirty days, whatever the month's length.
        let (_, credit) = arrears_cutoffs(day("2026-03-02"));
        assert_eq!(credit, day("2026-01-31"));
        assert_eq!(
            non_credit_arrears(day("2026-05-31")).since,
            day("2026-11-30")
        );
        assert_eq!(
            overdue_credit_sale(day("2026-10-31")).since,
            day("2026-11-30")
        );
    }
}
