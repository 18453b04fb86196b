//! The change feed's rules: which records it carries, and what a reader is told of a record's
//! latest change. A record is seen through a scope (an owner and a unit: its customer's, or
//! a task's or lead's own); a change that moved it remembers the scope it left, so a reader
//! who saw it there is told it is gone, and one who sees it now is told what it is.

use uuid::Uuid;

use crate::Principal;

crate::string_enum! {
    /// A kind of record the feed carries.
    pub enum FeedType {
        Customer = "customer",
        Contact = "contact",
        Order = "order",
        Visit = "visit",
        Task = "task",
        Interaction = "interaction",
        Note = "note",
        Event = "event",
        Receivable = "receivable",
        Payment = "payment",
        CreditAgreement = "credit_agreement",
        Lead = "lead",
    }
}

crate::string_enum! {
    /// What a reader does with a record: keep it as sent, or drop it.
    pub enum FeedOp {
        Upsert = "upsert",
        Delete = "delete",
    }
}

/// The scope a change left a record in, and the one it moved it out of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ChangeScope {
    pub owner_id: Option<Uuid>,
    pub unit_id: Option<Uuid>,
    /// Set when the change moved the record: where it was before.
    pub left: Option<(Option<Uuid>, Option<Uuid>)>,
    /// Someone who sees the record wherever it is (a task's creator).
    pub creator_id: Option<Uuid>,
}

impl ChangeScope {
    fn seen_in(reader: &Principal, owner: Option<Uuid>, unit: Option<Uuid>) -> bool {
        owner.is_some_and(|owner| owner == reader.user_id || reader.can_see(owner, unit))
    }

    /// Whether `reader` saw the record where this change left it, or where it was before.
    fn was_seen_by(&self, reader: &Principal) -> bool {
        self.creator_id == Some(reader.user_id)
            || Self::seen_in(reader, self.owner_id, self.unit_id)
            || self
                .left
                .is_some_and(|(owner, unit)| Self::seen_in(reader, owner, unit))
    }
}

/// What `reader` is told of a record whose latest change was `op` in `scope`, the record
/// being visible to the reader now or not (gone, or out of its view): the record, that it is
/// gone from its view, or nothing when the reader never had it.
pub fn told(
    reader: &Principal,
    op: FeedOp,
    scope: &ChangeScope,
    visible_now: bool,
) -> Option<FeedOp> {
    match op {
        FeedOp::Upsert if visible_now => Some(FeedOp::Upsert),
        _ if scope.was_seen_by(reader) => Some(FeedOp::Delete),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Role;
    use proptest::prelude::*;

    fn reader(role: Role, user: u128, unit: Option<u128>) -> Principal {
        Principal {
            user_id: Uuid::from_u128(user),
            role,
            sales_unit_id: unit.map(Uuid::from_u128),
        }
    }

    fn scope(owner: u128, unit: Option<u128>) -> ChangeScope {
        ChangeScope {
            owner_id: Some(Uuid::from_u128(owner)),
            unit_id: unit.map(Uuid::from_u128),
            ..ChangeScope::default()
        }
    }

    #[test]
    fn stored_names_are_the_wire_names() {
        assert!(FeedType::names_agree_with_serde());
        assert!(FeedOp::names_agree_with_serde());
    }

    #[test]
    fn a_transfer_deletes_for_the_agent_it_left_and_upserts_for_the_one_it_reached() {
        let moved = ChangeScope {
            left: Some((Some(Uuid::from_u128(1)), Some(Uuid::from_u128(10)))),
            ..scope(2, Some(20))
        };
        let left = reader(Role::Agent, 1, Some(10));
        let reached = reader(Role::Agent, 2, Some(20));
        let stranger = reader(Role::Agent, 3, Some(10));
        assert_eq!(
            told(&left, FeedOp::Upsert, &moved, false),
            Some(FeedOp::Delete)
        );
        assert_eq!(
            told(&reached, FeedOp::Upsert, &moved, true),
            Some(FeedOp::Upsert)
        );
        assert_eq!(told(&stranger, FeedOp::Upsert, &moved, false), None);
        // The old unit's manager loses it; the new one's gains it.
        let old_head = reader(Role::UnitManager, 5, Some(10));
        assert_eq!(
            told(&old_head, FeedOp::Upsert, &moved, false),
            Some(FeedOp::Delete)
        );
    }

    #[test]
    fn a_task_stays_with_its_creator() {
        let task = ChangeScope {
            creator_id: Some(Uuid::from_u128(7)),
            ..scope(2, Some(20))
        };
        let creator = reader(Role::Agent, 7, Some(10));
        assert_eq!(
            told(&creator, FeedOp::Delete, &task, false),
            Some(FeedOp::Delete)
        );
        assert_eq!(
            told(&creator, FeedOp::Upsert, &task, true),
            Some(FeedOp::Upsert)
        );
    }

    proptest! {
        /// A reader is sent a record only when it sees it now, and told of a record it does
        /// not see only when the change's scopes were once its own.
        #[test]
        fn readers_get_only_what_they_see(
            role in prop::sample::select(Role::ALL.to_vec()),
            user in 0u128..4, unit in prop::option::of(10u128..13),
            owner in 0u128..4, owner_unit in prop::option::of(10u128..13),
            left in prop::option::of((0u128..4, prop::option::of(10u128..13))),
            delete in any::<bool>(), visible_now in any::<bool>(),
        ) {
            let reader = reader(role, user, unit);
            let change = ChangeScope {
                left: left.map(|(o, u)| (Some(Uuid::from_u128(o)), u.map(Uuid::from_u128))),
                ..scope(owner, owner_unit)
            };
            let op = if delete { FeedOp::Delete } else { FeedOp::Upsert };
            let answer = told(&reader, op, &change, visible_now);
            if answer == Some(FeedOp::Upsert) {
                prop_assert!(visible_now && !delete);
            }
            if answer == Some(FeedOp::Delete) {
                prop_assert!(change.was_seen_by(&reader));
            }
            if !delete && visible_now {
                prop_assert_eq!(answer, Some(FeedOp::Upsert));
            }
        }
    }
}
