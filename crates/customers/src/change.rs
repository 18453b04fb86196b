//! What a change makes of a customer's file: its next state and the action its history
//! records. The store reads the file under its lock, calls this, and writes what follows
//! (contacts archived with the file, the transfer's entry, the search key).

use chrono::{DateTime, Utc};
use credo_core::audit::AuditAction;
use uuid::Uuid;

use crate::{Customer, CustomerProfile};

/// A change to one customer's file, its inputs already valid.
#[derive(Debug, Clone, PartialEq)]
pub enum FileChange {
    /// A new profile (a patch applied and checked).
    Profile(Box<CustomerProfile>),
    Archive,
    Restore,
    Transfer {
        owner_id: Uuid,
        sales_unit_id: Option<Uuid>,
    },
    /// A customer event opened a credit review (kept from the first open one).
    CreditReviewDue,
    /// The basic credit data was confirmed current at this time.
    CreditDataRefreshed(DateTime<Utc>),
}

/// Why a change is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileRefusal {
    /// An archived file takes no change but its restoration (or archiving it again).
    Archived,
}

impl FileChange {
    fn is_archival(&self) -> bool {
        matches!(self, FileChange::Archive | FileChange::Restore)
    }
}

/// Whether the file takes a change at all: an archived one only its archival (archiving or
/// restoring), whatever else the change would do.
pub fn may_change(current: &Customer, archival: bool) -> Result<(), FileRefusal> {
    if current.is_read_only() && !archival {
        Err(FileRefusal::Archived)
    } else {
        Ok(())
    }
}

/// The file after `change` at `at`, and the action its history records.
pub fn apply_change(
    current: &Customer,
    change: &FileChange,
    at: DateTime<Utc>,
) -> Result<(Customer, AuditAction), FileRefusal> {
    may_change(current, change.is_archival())?;
    let mut next = current.clone();
    let action = match change {
        FileChange::Profile(profile) => {
            next.profile = profile.as_ref().clone();
            AuditAction::Updated
        }
        FileChange::Archive => {
            next.archived_at = Some(current.archived_at.unwrap_or(at));
            AuditAction::Archived
        }
        FileChange::Restore => {
            next.archived_at = None;
            AuditAction::Restored
        }
        FileChange::Transfer {
            owner_id,
            sales_unit_id,
        } => {
            next.owner_id = *owner_id;
            next.sales_unit_id = *sales_unit_id;
            AuditAction::Transferred
        }
        FileChange::CreditReviewDue => {
            next.credit_review_due_since = Some(current.credit_review_due_since.unwrap_or(at));
            AuditAction::Updated
        }
        FileChange::CreditDataRefreshed(checked_at) => {
            next.credit_data_refreshed_at = *checked_at;
            AuditAction::Updated
        }
    };
    Ok((next, action))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Stamps;
    use proptest::prelude::*;

    fn profile(name: &str) -> CustomerProfile {
        let input: crate::CustomerInput =
            serde_json::from_value(serde_json::json!({"kind": "organization", "legal_name": name}))
                .unwrap();
        input.validate("2026-06-30".parse().unwrap()).unwrap()
    }

    fn customer(archived: bool, review_due: bool) -> Customer {
        let at = DateTime::UNIX_EPOCH;
        Customer {
            id: Uuid::from_u128(1),
            profile: profile("Acme"),
            owner_id: Uuid::from_u128(2),
            sales_unit_id: None,
            archived_at: archived.then_some(at),
            credit_review_due_since: review_due.then_some(at),
            credit_data_refreshed_at: at,
            stamps: Stamps {
                created_at: at,
                created_by: Uuid::nil(),
                updated_at: at,
                updated_by: Uuid::nil(),
                version: 1,
            },
        }
    }

    fn change(kind: u8) -> FileChange {
        match kind {
            0 => FileChange::Profile(Box::new(profile("Acme Trading"))),
            1 => FileChange::Archive,
            2 => FileChange::Restore,
            3 => FileChange::Transfer {
                owner_id: Uuid::from_u128(3),
                sales_unit_id: Some(Uuid::from_u128(4)),
            },
            4 => FileChange::CreditReviewDue,
            _ => FileChange::CreditDataRefreshed(DateTime::UNIX_EPOCH + chrono::Days::new(9)),
        }
    }

    proptest! {
        /// An archived file takes only archival; archiving keeps the first day, restoring
        /// clears it; a review due keeps its first day; a change touches only its part.
        #[test]
        fn a_change_touches_its_part_and_an_archived_file_takes_only_archival(
            kind in 0u8..6,
            archived in proptest::bool::ANY,
            review_due in proptest::bool::ANY,
            later in 1u64..100,
        ) {
            let current = customer(archived, review_due);
            let change = change(kind);
            let at = DateTime::UNIX_EPOCH + chrono::Days::new(later);
            match apply_change(&current, &change, at) {
                Err(FileRefusal::Archived) => {
                    prop_assert!(archived && !change.is_archival());
                }
                Ok((next, _)) => {
                    prop_assert!(!archived || change.is_archival());
                    prop_assert_eq!(next.id, current.id);
                    prop_assert_eq!(next.stamps, current.stamps);
                    match change {
                        FileChange::Archive => {
                            prop_assert_eq!(next.archived_at, Some(current.archived_at.unwrap_or(at)));
                        }
                        FileChange::Restore => prop_assert_eq!(next.archived_at, None),
                        FileChange::Transfer { owner_id, sales_unit_id } => {
                            prop_assert_eq!((next.owner_id, next.sales_unit_id), (owner_id, sales_unit_id));
                            prop_assert_eq!(next.profile, current.profile);
                        }
                        FileChange::CreditReviewDue => prop_assert_eq!(
                            next.credit_review_due_since,
                            Some(current.credit_review_due_since.unwrap_or(at))
                        ),
                        _ => {
                            prop_assert_eq!(next.owner_id, current.owner_id);
                            prop_assert_eq!(next.archived_at, current.archived_at);
                        }
                    }
                }
            }
        }
    }
}
