//! Leads and the sales funnel (seed 001): business cards from trade fairs and other
//! channels, qualified by MAN (money, authority, need), moved through the funnel stages to
//! won (a customer) or lost (with a reason).

use std::collections::BTreeMap;

use chrono::{DateTime, NaiveDate, Utc};
use credo_core::text::{clean_text, required_text, search_key};
use credo_core::{string_enum, CountryCode, Email, FieldCode, FieldError, FieldErrors, Phone};
use credo_customers::{
    Contact, ContactInput, CustomerInput, CustomerKind, CustomerProfile, LifecycleStage,
    SourceChannel, Stamps,
};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::order::rate_bp;

/// Most leads one batch holds.
pub const MAX_BATCH: usize = 1000;

string_enum! {
    /// Where a lead came from.
    pub enum LeadChannel {
        TradeFair = "trade_fair",
        Exhibition = "exhibition",
        B2bPlatform = "b2b_platform",
        SearchEngine = "search_engine",
        Referral = "referral",
        WalkIn = "walk_in",
        Other = "other",
    }
}

string_enum! {
    /// The funnel, in order; `won` and `lost` end it.
    pub enum FunnelStage {
        New = "new",
        Contacted = "contacted",
        NeedsAnalysis = "needs_analysis",
        Proposal = "proposal",
        Negotiation = "negotiation",
        Won = "won",
        Lost = "lost",
    }
}

/// The stages a lead passes on the way to `won`, in order.
pub const PATH: [FunnelStage; 6] = [
    FunnelStage::New,
    FunnelStage::Contacted,
    FunnelStage::NeedsAnalysis,
    FunnelStage::Proposal,
    FunnelStage::Negotiation,
    FunnelStage::Won,
];

impl LeadChannel {
    /// The customer file's source channel for a lead from this channel.
    pub fn source_channel(self) -> SourceChannel {
        match self {
            LeadChannel::TradeFair => SourceChannel::TradeFair,
            LeadChannel::Exhibition => SourceChannel::Exhibition,
            LeadChannel::B2bPlatform => SourceChannel::B2bPlatform,
            LeadChannel::SearchEngine => SourceChannel::SearchEngine,
            LeadChannel::Referral => SourceChannel::Referral,
            LeadChannel::WalkIn => SourceChannel::WalkIn,
            LeadChannel::Other => SourceChannel::Other,
        }
    }
}

impl FunnelStage {
    /// Position on the path to `won`; `lost` has none.
    pub fn rank(self) -> Option<usize> {
        PATH.iter().position(|s| *s == self)
    }

    pub fn is_closed(self) -> bool {
        matches!(self, FunnelStage::Won | FunnelStage::Lost)
    }

    /// Whether a lead may move from `self` to `next` by a stage change. Open leads move to
    /// any open stage (agents skip and step back) or to lost; winning goes through
    /// conversion; a lost lead may be reopened as contacted.
    pub fn can_move_to(self, next: FunnelStage) -> bool {
        match (self, next) {
            (_, FunnelStage::Won) => false,
            (FunnelStage::Won, _) => false,
            (FunnelStage::Lost, next) => next == FunnelStage::Contacted,
            (from, next) => from != next,
        }
    }
}

/// MAN qualification: can the prospect pay, decide, and does it need what we sell.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Man {
    pub money: bool,
    pub authority: bool,
    pub need: bool,
}

impl Man {
    /// The combination code: a capital letter where the condition holds ("MAn").
    pub fn code(self) -> String {
        let letter = |yes: bool, c: char| if yes { c } else { c.to_ascii_lowercase() };
        [
            letter(self.money, 'M'),
            letter(self.authority, 'A'),
            letter(self.need, 'N'),
        ]
        .into_iter()
        .collect()
    }

    /// Only MAN is a fully qualified prospect.
    pub fn is_qualified(self) -> bool {
        self.money && self.authority && self.need
    }

    /// What to do next for this combination.
    pub fn next_action(self) -> &'static str {
        match (self.money, self.authority, self.need) {
            (true, true, true) => "Qualified: present a proposal and work to close.",
            (true, true, false) => {
                "Cultivate the need: show use cases and results from similar customers; stay in touch."
            }
            (true, false, true) => "Find and meet the decision maker; have your contact introduce you.",
            (true, false, false) => {
                "Low priority: keep in the pool; reach the decision maker and build a need over time."
            }
            (false, true, true) => {
                "Offer payment options (instalments, leasing, a smaller first order) and check credit."
            }
            (false, true, false) => "Low priority: watch for a budget and a need; keep occasional contact.",
            (false, false, true) => {
                "Find who decides and who funds it; offer financing once they are known."
            }
            (false, false, false) => "Not a prospect: keep the card on file, no active follow-up.",
        }
    }
}

/// The qualification as the API shows it: the three answers and what follows from them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Qualification {
    pub money: bool,
    pub authority: bool,
    pub need: bool,
    /// `MAN`, `MAn`, ... `man`.
    #[schema(example = "MAn")]
    pub code: String,
    pub qualified: bool,
    pub next_action: String,
}

impl Qualification {
    pub fn man(&self) -> Man {
        Man {
            money: self.money,
            authority: self.authority,
            need: self.need,
        }
    }
}

impl From<Man> for Qualification {
    fn from(man: Man) -> Self {
        Self {
            money: man.money,
            authority: man.authority,
            need: man.need,
            code: man.code(),
            qualified: man.is_qualified(),
            next_action: man.next_action().to_owned(),
        }
    }
}

/// A lead as a client records it: one business card, one web enquiry.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadInput {
    #[schema(
        example = "Hanoi Steel Works Co., Ltd.",
        min_length = 1,
        max_length = 200
    )]
    pub company_name: String,
    #[schema(example = "Nguyen Van An", max_length = 100)]
    pub contact_name: Option<String>,
    #[schema(example = "Purchasing Manager", max_length = 100)]
    pub contact_title: Option<String>,
    #[schema(example = "+84 24 3825 1234", max_length = 40)]
    pub phone: Option<String>,
    #[schema(example = "an.nguyen@hanoisteel.vn", max_length = 254)]
    pub email: Option<String>,
    /// ISO 3166-1 alpha-2.
    #[schema(example = "VN", pattern = "^[A-Za-z]{2}$")]
    pub country: Option<String>,
    pub channel: LeadChannel,
    /// Which fair, site or referrer.
    #[schema(example = "2026 春季广交会 12.1 馆", max_length = 200)]
    pub source_detail: Option<String>,
    #[schema(max_length = 2000)]
    pub note: Option<String>,
    /// The agent who follows the lead up; defaults to the caller.
    pub owner_id: Option<Uuid>,
    #[serde(default)]
    pub man: Man,
}

/// The recorded facts of a lead, valid.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct LeadFields {
    pub company_name: String,
    pub contact_name: Option<String>,
    pub contact_title: Option<String>,
    #[schema(value_type = Option<String>, example = "+842438251234")]
    pub phone: Option<Phone>,
    #[schema(value_type = Option<String>, example = "an.nguyen@hanoisteel.vn")]
    pub email: Option<Email>,
    #[schema(value_type = Option<String>, example = "VN")]
    pub country: Option<CountryCode>,
    pub channel: LeadChannel,
    pub source_detail: Option<String>,
    pub note: Option<String>,
}

impl LeadFields {
    /// The key two cards of the same person at the same company share.
    pub fn duplicate_key(&self) -> (String, String) {
        (
            search_key(&self.company_name),
            self.contact_name
                .as_deref()
                .map(search_key)
                .unwrap_or_default(),
        )
    }

    /// The lead as a client would send it, for merge patches.
    pub fn input(&self, owner_id: Uuid, man: Man) -> LeadInput {
        LeadInput {
            company_name: self.company_name.clone(),
            contact_name: self.contact_name.clone(),
            contact_title: self.contact_title.clone(),
            phone: self.phone.as_ref().map(|p| p.as_str().to_owned()),
            email: self.email.as_ref().map(|e| e.as_str().to_owned()),
            country: self.country.map(|c| c.as_str().to_owned()),
            channel: self.channel,
            source_detail: self.source_detail.clone(),
            note: self.note.clone(),
            owner_id: Some(owner_id),
            man,
        }
    }
}

impl LeadInput {
    pub fn validate(&self) -> Result<LeadFields, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let optional = |errors: &mut FieldErrors, field: &str, value: &Option<String>, max| {
            value
                .as_deref()
                .and_then(|v| errors.check(field, clean_text(v, max)).flatten())
        };
        let company_name = errors.check("company_name", required_text(&self.company_name, 200));
        let contact_name = optional(&mut errors, "contact_name", &self.contact_name, 100);
        let contact_title = optional(&mut errors, "contact_title", &self.contact_title, 100);
        let phone = self
            .phone
            .as_deref()
            .and_then(|p| errors.check("phone", Phone::parse(p)));
        let email = self
            .email
            .as_deref()
            .and_then(|e| errors.check("email", Email::parse(e)));
        let country = self
            .country
            .as_deref()
            .and_then(|c| errors.check("country", CountryCode::parse(c)));
        let source_detail = optional(&mut errors, "source_detail", &self.source_detail, 200);
        let note = optional(&mut errors, "note", &self.note, 2000);
        errors.finish(|| LeadFields {
            company_name: company_name.expect("checked"),
            contact_name,
            contact_title,
            phone,
            email,
            country,
            channel: self.channel,
            source_detail,
            note,
        })
    }
}

/// A lead as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Lead {
    pub id: Uuid,
    #[serde(flatten)]
    pub fields: LeadFields,
    pub qualification: Qualification,
    pub stage: FunnelStage,
    /// The furthest stage on the path to `won` the lead reached (kept when it is lost).
    pub furthest_stage: FunnelStage,
    pub stage_changed_at: DateTime<Utc>,
    pub lost_reason: Option<String>,
    /// The customer the lead became (or was linked to) when won.
    pub customer_id: Option<Uuid>,
    pub owner_id: Uuid,
    pub sales_unit_id: Option<Uuid>,
    #[serde(flatten)]
    pub stamps: Stamps,
}

/// A stage change as a client asks for it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"stage": "lost", "reason": "预算冻结,明年再议"}))]
pub struct StageInput {
    pub stage: FunnelStage,
    /// Required when the stage is `lost`.
    #[schema(example = "预算冻结,明年再议", max_length = 1000)]
    pub reason: Option<String>,
}

/// Why a stage change was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum StageError {
    NotAllowed { from: FunnelStage, to: FunnelStage },
    Invalid(Vec<FieldError>),
}

impl Lead {
    /// The lead after moving to `input.stage` at `at`.
    pub fn move_to(&self, input: &StageInput, at: DateTime<Utc>) -> Result<Lead, StageError> {
        let to = input.stage;
        if !self.stage.can_move_to(to) {
            return Err(StageError::NotAllowed {
                from: self.stage,
                to,
            });
        }
        let reason = match (to, input.reason.as_deref()) {
            (FunnelStage::Lost, Some(reason)) => Some(
                required_text(reason, 1000)
                    .map_err(|e| StageError::Invalid(vec![e.nested("reason")]))?,
            ),
            (FunnelStage::Lost, None) => {
                return Err(StageError::Invalid(vec![FieldError::new(
                    "reason",
                    FieldCode::Required,
                    "say why the lead was lost",
                )]))
            }
            (_, Some(_)) => {
                return Err(StageError::Invalid(vec![FieldError::new(
                    "reason",
                    FieldCode::NotApplicable,
                    "only a lost lead takes a reason",
                )]))
            }
            (_, None) => None,
        };
        let mut next = self.clone();
        next.stage = to;
        next.stage_changed_at = at;
        next.lost_reason = reason;
        if to.rank() > self.furthest_stage.rank() {
            next.furthest_stage = to;
        }
        Ok(next)
    }

    /// The customer file a won lead opens: the company, from this channel, with the card's
    /// person as its primary contact.
    pub fn new_customer(
        &self,
        today: NaiveDate,
    ) -> Result<(CustomerProfile, Option<Contact>), Vec<FieldError>> {
        let f = &self.fields;
        let input = CustomerInput {
            kind: CustomerKind::Organization,
            legal_name: f.company_name.clone(),
            country: f.country.map(|c| c.as_str().to_owned()),
            source_channel: Some(f.channel.source_channel()),
            phones: f.phone.iter().map(|p| p.as_str().to_owned()).collect(),
            emails: f.email.iter().map(|e| e.as_str().to_owned()).collect(),
            lifecycle_stage: Some(LifecycleStage::Customer),
            ..CustomerInput::named(CustomerKind::Organization, &f.company_name)
        };
        let profile = input.validate(today)?;
        let contact = match &f.contact_name {
            None => None,
            Some(name) => Some(Contact::try_from(ContactInput {
                id: None,
                name: name.clone(),
                role: None,
                title: f.contact_title.clone(),
                phone: f.phone.as_ref().map(|p| p.as_str().to_owned()),
                email: f.email.as_ref().map(|e| e.as_str().to_owned()),
                decision_authority: None,
                is_primary: true,
                notes: None,
            })?),
        };
        Ok((profile, contact))
    }

    /// The lead won, as `customer_id`.
    pub fn won(&self, customer_id: Uuid, at: DateTime<Utc>) -> Result<Lead, StageError> {
        if self.stage.is_closed() {
            return Err(StageError::NotAllowed {
                from: self.stage,
                to: FunnelStage::Won,
            });
        }
        let mut next = self.clone();
        next.stage = FunnelStage::Won;
        next.furthest_stage = FunnelStage::Won;
        next.stage_changed_at = at;
        next.customer_id = Some(customer_id);
        Ok(next)
    }
}

/// What the funnel report needs of one lead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunnelFacts {
    /// The group the lead counts in (an agent, a unit, a channel), already as text.
    pub group: String,
    pub stage: FunnelStage,
    pub furthest_stage: FunnelStage,
}

/// One stage of a funnel: how many leads reached it and what share of the previous stage's.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct StageCount {
    pub stage: FunnelStage,
    /// Leads that reached this stage (or went beyond it).
    pub reached: u64,
    /// reached / reached at the previous stage, in basis points; absent for `new` and when
    /// the previous stage had none.
    pub conversion_bp: Option<i64>,
}

/// The funnel of one group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FunnelGroup {
    /// The agent's or unit's id, or the channel name; `all` for the whole funnel.
    #[schema(example = "trade_fair")]
    pub group: String,
    pub leads: u64,
    pub stages: Vec<StageCount>,
    pub won: u64,
    pub lost: u64,
    /// Still in the funnel.
    pub open: u64,
    /// won / leads in basis points.
    pub win_rate_bp: Option<i64>,
}

fn funnel_of(group: String, leads: &[&FunnelFacts]) -> FunnelGroup {
    let mut reached = [0_u64; PATH.len()];
    let (mut won, mut lost) = (0, 0);
    for lead in leads {
        let furthest = lead.furthest_stage.rank().unwrap_or(0);
        for count in reached.iter_mut().take(furthest + 1) {
            *count += 1;
        }
        match lead.stage {
            FunnelStage::Won => won += 1,
            FunnelStage::Lost => lost += 1,
            _ => {}
        }
    }
    let stages = PATH
        .iter()
        .enumerate()
        .map(|(at, &stage)| StageCount {
            stage,
            reached: reached[at],
            conversion_bp: at
                .checked_sub(1)
                .and_then(|prev| rate_bp(reached[at] as i64, reached[prev] as i64)),
        })
        .collect();
    let total = leads.len() as u64;
    FunnelGroup {
        group,
        leads: total,
        stages,
        won,
        lost,
        open: total - won - lost,
        win_rate_bp: rate_bp(won as i64, total as i64),
    }
}

/// The funnel of every group (sorted by group) and of all leads together.
pub fn funnel(leads: &[FunnelFacts]) -> (FunnelGroup, Vec<FunnelGroup>) {
    let mut groups: BTreeMap<&str, Vec<&FunnelFacts>> = BTreeMap::new();
    for lead in leads {
        groups.entry(lead.group.as_str()).or_default().push(lead);
    }
    let all: Vec<&FunnelFacts> = leads.iter().collect();
    (
        funnel_of("all".into(), &all),
        groups
            .into_iter()
            .map(|(group, leads)| funnel_of(group.to_owned(), &leads))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_are_the_wire_names() {
        assert!(LeadChannel::names_agree_with_serde());
        assert!(FunnelStage::names_agree_with_serde());
    }

    #[test]
    fn eight_combinations_eight_actions_one_qualified() {
        let mut codes = std::collections::HashSet::new();
        let mut actions = std::collections::HashSet::new();
        let mut qualified = 0;
        for bits in 0..8 {
            let man = Man {
                money: bits & 4 != 0,
                authority: bits & 2 != 0,
                need: bits & 1 != 0,
            };
            codes.insert(man.code());
            actions.insert(man.next_action());
            qualified += usize::from(man.is_qualified());
        }
        assert_eq!((codes.len(), actions.len(), qualified), (8, 8, 1));
        let man = Man {
            money: true,
            authority: true,
            need: false,
        };
        assert_eq!(man.code(), "MAn");
        assert_eq!(Man::default().code(), "man");
    }

    #[test]
    fn stage_rules() {
        use FunnelStage::*;
        assert!(New.can_move_to(Proposal) && Proposal.can_move_to(Contacted));
        assert!(Negotiation.can_move_to(Lost));
        assert!(
            !Negotiation.can_move_to(Won),
            "winning goes through conversion"
        );
        assert!(Lost.can_move_to(Contacted) && !Lost.can_move_to(Proposal));
        assert!(!Won.can_move_to(Lost) && !New.can_move_to(New));
    }

    #[test]
    fn the_funnel_counts_what_each_stage_reached() {
        let facts = |group: &str, stage, furthest| FunnelFacts {
            group: group.into(),
            stage,
            furthest_stage: furthest,
        };
        use FunnelStage::*;
        let leads = [
            facts("a", New, New),
            facts("a", Lost, Proposal),
            facts("a", Won, Won),
            facts("b", Contacted, Contacted),
        ];
        let (all, groups) = funnel(&leads);
        let reached: Vec<u64> = all.stages.iter().map(|s| s.reached).collect();
        assert_eq!(reached, [4, 3, 2, 2, 1, 1]);
        assert_eq!(all.stages[1].conversion_bp, Some(7500));
        assert_eq!(all.stages[0].conversion_bp, None);
        assert_eq!(
            (all.won, all.lost, all.open, all.win_rate_bp),
            (1, 1, 2, Some(2500))
        );
        assert_eq!(groups.len(), 2);
        assert_eq!((groups[0].group.as_str(), groups[0].leads), ("a", 3));
        assert_eq!(groups[1].stages[2].conversion_bp, Some(0));
    }
}
