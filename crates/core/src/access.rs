//! Who may see and change what: roles, the caller, and the row scope that follows.

use uuid::Uuid;

crate::string_enum! {
    /// A user's role. Data scope and write rights follow from it alone.
    pub enum Role {
        Admin = "admin",
        CreditManager = "credit_manager",
        Finance = "finance",
        UnitManager = "unit_manager",
        Agent = "agent",
        Service = "service",
        Viewer = "viewer",
    }
}

/// The authenticated caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub user_id: Uuid,
    pub role: Role,
    pub sales_unit_id: Option<Uuid>,
}

/// Which customers a caller may see.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    /// Every customer.
    All,
    /// Customers of one sales unit. A unit manager without a unit sees nothing.
    Unit(Option<Uuid>),
    /// Customers owned by one user.
    Owner(Uuid),
}

impl Principal {
    pub fn scope(&self) -> Scope {
        match self.role {
            Role::Agent => Scope::Owner(self.user_id),
            Role::UnitManager => Scope::Unit(self.sales_unit_id),
            Role::Admin | Role::CreditManager | Role::Finance | Role::Service | Role::Viewer => {
                Scope::All
            }
        }
    }

    /// Whether a customer owned by `owner_id` in `unit_id` is visible to the caller.
    pub fn can_see(&self, owner_id: Uuid, unit_id: Option<Uuid>) -> bool {
        match self.scope() {
            Scope::All => true,
            Scope::Unit(unit) => unit.is_some() && unit == unit_id,
            Scope::Owner(user) => user == owner_id,
        }
    }

    /// Whether the caller may change customer files at all (rows still have to be in scope).
    pub fn can_write_customers(&self) -> bool {
        self.role != Role::Viewer
    }

    /// Whether the caller may give a customer to another owner: not an agent, who would
    /// hand away its own customers unsupervised (seed 000: handovers are decided above).
    pub fn can_transfer_customers(&self) -> bool {
        matches!(
            self.role,
            Role::Admin | Role::UnitManager | Role::CreditManager
        )
    }

    /// Whether the caller may record sales: orders and their progress, claims, new-product
    /// trials. Finance records invoicing and payment; credit, service and viewers read.
    pub fn can_write_orders(&self) -> bool {
        matches!(
            self.role,
            Role::Admin | Role::UnitManager | Role::Agent | Role::Finance
        )
    }

    /// Whether the caller may accept or reject a claim: a supervisor's call, not the agent's.
    pub fn can_decide_claims(&self) -> bool {
        matches!(self.role, Role::Admin | Role::UnitManager)
    }

    /// Whether the caller may grant or refuse more time to pay: a credit decision, taken
    /// above who collects.
    pub fn can_decide_extensions(&self) -> bool {
        matches!(
            self.role,
            Role::Admin | Role::CreditManager | Role::UnitManager
        )
    }

    /// Whether the caller makes credit decisions: writing receivables off, setting the
    /// allowance and dunning policies, running dunning. Not finance's, who record the money.
    pub fn can_decide_credit(&self) -> bool {
        matches!(self.role, Role::Admin | Role::CreditManager)
    }

    /// Whether the caller may record money received: finance and admins, never the people
    /// who sold (separation of duties).
    pub fn can_record_payments(&self) -> bool {
        matches!(self.role, Role::Admin | Role::Finance)
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn principal(role: Role, unit: Option<Uuid>) -> Principal {
        Principal {
            user_id: Uuid::from_u128(1),
            role,
            sales_unit_id: unit,
        }
    }

    #[test]
    fn stored_names_are_the_wire_names() {
        assert!(Role::names_agree_with_serde());
        assert!(crate::audit::AuditAction::names_agree_with_serde());
    }

    #[test]
    fn role_names_round_trip() {
        for &role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()), Some(role));
            assert_eq!(serde_json::to_value(role).unwrap(), role.as_str());
        }
        assert_eq!(Role::parse("root"), None);
    }

    #[test]
    fn scope_matrix() {
        let me = Uuid::from_u128(1);
        let other = Uuid::from_u128(2);
        let unit = Some(Uuid::from_u128(10));
        let other_unit = Some(Uuid::from_u128(11));
        let agent = principal(Role::Agent, unit);
        assert!(agent.can_see(me, other_unit));
        assert!(!agent.can_see(other, unit));
        let head = principal(Role::UnitManager, unit);
        assert!(head.can_see(other, unit));
        assert!(!head.can_see(me, other_unit));
        assert!(!principal(Role::UnitManager, None).can_see(me, None));
        for role in [
            Role::Admin,
            Role::CreditManager,
            Role::Finance,
            Role::Service,
            Role::Viewer,
        ] {
            assert!(principal(role, None).can_see(other, other_unit));
        }
        assert!(!principal(Role::Viewer, None).can_write_customers());
    }
}
