//! The closed vocabularies of the customer file.

use credo_core::string_enum;

string_enum! {
    /// Organizations are most customers; persons are property buyers, retail and members.
    pub enum CustomerKind {
        Organization = "organization",
        Person = "person",
    }
}

string_enum! {
    /// Where a customer stands with us (DOMAIN.md section 1).
    pub enum LifecycleStage {
        Lead = "lead",
        Prospect = "prospect",
        Customer = "customer",
        Active = "active",
        AtRisk = "at_risk",
        Lost = "lost",
        WonBack = "won_back",
    }
}

string_enum! {
    /// How the customer first reached us (seed 001).
    pub enum SourceChannel {
        TradeFair = "trade_fair",
        Exhibition = "exhibition",
        Referral = "referral",
        B2bPlatform = "b2b_platform",
        SearchEngine = "search_engine",
        WalkIn = "walk_in",
        Website = "website",
        ColdCall = "cold_call",
        Other = "other",
    }
}

string_enum! {
    /// State of the conversation with the customer (seed 001, 沟通状态).
    pub enum CommunicationStatus {
        NotContacted = "not_contacted",
        Contacted = "contacted",
        InDiscussion = "in_discussion",
        Quoted = "quoted",
        Cooperating = "cooperating",
        Dormant = "dormant",
    }
}

string_enum! {
    /// Registration status of an organization (经营状态).
    pub enum OperatingStatus {
        Operating = "operating",
        Suspended = "suspended",
        Liquidating = "liquidating",
        Revoked = "revoked",
        Deregistered = "deregistered",
    }
}

string_enum! {
    /// The department a record comes from, so conflicting views stay side by side (seed 000).
    pub enum Department {
        Marketing = "marketing",
        Sales = "sales",
        Commercial = "commercial",
        Credit = "credit",
        AssetManagement = "asset_management",
        Finance = "finance",
        Service = "service",
        Management = "management",
    }
}

string_enum! {
    /// What a contact does for the customer.
    pub enum ContactRole {
        DecisionMaker = "decision_maker",
        Purchaser = "purchaser",
        Finance = "finance",
        Technical = "technical",
        User = "user",
        Legal = "legal",
        Other = "other",
    }
}

string_enum! {
    /// How much weight a contact's word carries in a purchase (the A of MAN).
    pub enum DecisionAuthority {
        Decides = "decides",
        Influences = "influences",
        None = "none",
    }
}

string_enum! {
    /// Subjective judgements that objective data misses (seed 000).
    pub enum AssessmentTopic {
        ControllerStrategyClarity = "controller_strategy_clarity",
        ManagementCapability = "management_capability",
        GrowthPotential = "growth_potential",
        CooperationWillingness = "cooperation_willingness",
        Reputation = "reputation",
        PaymentWillingness = "payment_willingness",
        /// The customer's standing in its industry (5: sets the trend); read by the value score.
        IndustryInfluence = "industry_influence",
        /// How hard the customer presses on price (5: very); read by the value score.
        PriceSensitivity = "price_sensitivity",
        /// How quickly and clearly the customer answers (5: best); read by the value score.
        CommunicationEfficiency = "communication_efficiency",
        Other = "other",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_are_the_wire_names() {
        assert!(CustomerKind::names_agree_with_serde());
        assert!(LifecycleStage::names_agree_with_serde());
        assert!(SourceChannel::names_agree_with_serde());
        assert!(CommunicationStatus::names_agree_with_serde());
        assert!(OperatingStatus::names_agree_with_serde());
        assert!(Department::names_agree_with_serde());
        assert!(ContactRole::names_agree_with_serde());
        assert!(DecisionAuthority::names_agree_with_serde());
        assert!(AssessmentTopic::names_agree_with_serde());
    }
}
