//! Dunning (seed 004's follow-up timeline): a policy of levels, each due a number of days
//! from an item's shipment or due day, and the decision of a run for one customer as of a
//! day: the highest level now due across its items, one communication for all of them.
//!
//! An item gets each level at most once: a level is due when its day has come and the item
//! has not had it nor a higher one. A run that finds several levels of one item due (runs
//! were missed) sends only the highest, so a customer never gets yesterday's reminder with
//! today's demand.

use chrono::{DateTime, Days, NaiveDate, Utc};
use credo_core::date::MONTH_OVERDUE_DAYS;
use credo_core::job::{JobState, Progress};
use credo_core::text::required_text;
use credo_core::{string_enum, FieldCode, FieldError, FieldErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::Receivable;

/// The most levels a policy holds.
pub const LEVELS_MAX: usize = 10;
/// The furthest a level lies from its anchor day, either way.
pub const OFFSET_MAX_DAYS: i32 = 365;
/// The longest level key and action text.
const KEY_MAX: usize = 40;
/// An action is the title of the task it gives.
const ACTION_MAX: usize = 200;

string_enum! {
    /// The day a level counts from.
    pub enum Anchor {
        /// The day the goods left (items without one never reach these levels).
        Shipment = "shipment",
        /// The item's due day (moved by an approved extension).
        Due = "due",
    }
}

string_enum! {
    /// What reaching a level does to the customer's credit, mildest first.
    pub enum Effect {
        None = "none",
        /// A bad-credit record: the credit check warns.
        CreditWarning = "credit_warning",
        /// The credit check stops shipments.
        CreditHold = "credit_hold",
        /// The customer goes on the warning list shared by every unit.
        Blacklist = "blacklist",
    }
}

impl Effect {
    fn severity(self) -> usize {
        Self::ALL
            .iter()
            .position(|e| *e == self)
            .expect("every effect is listed")
    }
}

/// One level of a dunning policy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DunningLevelRule {
    /// Names the level in runs and records: lower-case letters, digits and `_`, unique.
    #[schema(example = "overdue_notice", pattern = "^[a-z][a-z0-9_]{0,39}$")]
    pub key: String,
    pub anchor: Anchor,
    /// Days after the anchor day (negative: before it), -365 to 365.
    #[schema(example = 7, minimum = -365, maximum = 365)]
    pub offset_days: i32,
    /// What the account manager does; the title of the task the level gives.
    #[schema(example = "发催款通知,记录不良信用", min_length = 1, max_length = 200)]
    pub action: String,
    pub effect: Effect,
}

/// A dunning policy as clients send and read it: its levels, mildest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DunningPolicyRules {
    /// 1 to 10 levels in the order they escalate; effects never soften along it.
    #[schema(min_items = 1, max_items = 10, example = json!([
        {"key": "due_reminder", "anchor": "due", "offset_days": -7,
         "action": "到期前提醒,告知提前付款优惠", "effect": "none"},
        {"key": "overdue_notice", "anchor": "due", "offset_days": 7,
         "action": "发催款通知,记录不良信用", "effect": "credit_warning"}
    ]))]
    pub levels: Vec<DunningLevelRule>,
    /// The longest a dispute pauses dunning when whoever works the file opens it, in days
    /// from today; a longer one is opened by the credit department.
    #[serde(default = "default_max_dispute_days")]
    #[schema(example = 90, minimum = 1, maximum = 3650)]
    pub max_dispute_days: u32,
    /// How many finished runs keep their lists of actions and customers held back; an older
    /// run's lists are purged when a newer one finishes (the run, its counts and the actions
    /// an acting run recorded stay). A month of daily runs by default.
    #[serde(default = "default_keep_runs")]
    #[schema(example = 31, minimum = 1, maximum = 1000)]
    pub keep_runs: u32,
}

fn default_max_dispute_days() -> u32 {
    90
}

fn default_keep_runs() -> u32 {
    31
}

impl Default for DunningPolicyRules {
    /// Seed 004's follow-up timeline.
    fn default() -> Self {
        let level = |key: &str, anchor, offset_days, action: &str, effect| DunningLevelRule {
            key: key.into(),
            anchor,
            offset_days,
            action: action.into(),
            effect,
        };
        Self {
            levels: vec![
                level(
                    "delivery_check",
                    Anchor::Shipment,
                    7,
                    "发货一周后确认到货与客户满意度",
                    Effect::None,
                ),
                level(
                    "due_reminder",
                    Anchor::Due,
                    -7,
                    "到期前一周提醒付款,告知提前付款优惠",
                    Effect::None,
                ),
                level(
                    "overdue_notice",
                    Anchor::Due,
                    7,
                    "逾期一周发催款通知,记录不良信用",
                    Effect::CreditWarning,
                ),
                level(
                    "written_demand",
                    Anchor::Due,
                    14,
                    "逾期两周发书面催款函,分析拖欠原因,停止发货",
                    Effect::CreditHold,
                ),
                level(
                    "blacklist",
                    Anchor::Due,
                    MONTH_OVERDUE_DAYS as i32,
                    "逾期一个月上门调查,立案,通报各部门,列入预警名单",
                    Effect::Blacklist,
                ),
            ],
            max_dispute_days: default_max_dispute_days(),
            keep_runs: default_keep_runs(),
        }
    }
}

/// A checked policy: levels in escalation order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DunningPolicy {
    levels: Vec<DunningLevelRule>,
    max_dispute_days: u32,
    keep_runs: u32,
}

impl DunningPolicy {
    /// A policy from its levels: 1 to 10, keys well-formed and unique, offsets within a
    /// year, an action each, effects that never soften as the levels escalate.
    pub fn from_rules(rules: &DunningPolicyRules) -> Result<Self, Vec<FieldError>> {
        let levels = &rules.levels;
        if !(1..=LEVELS_MAX).contains(&levels.len()) {
            return Err(vec![FieldError::new(
                "levels",
                FieldCode::OutOfRange,
                format!("a policy has 1 to {LEVELS_MAX} levels"),
            )]);
        }
        let mut errors = FieldErrors::new();
        let mut checked = Vec::with_capacity(levels.len());
        for (at, level) in levels.iter().enumerate() {
            let field = |name: &str| format!("levels[{at}].{name}");
            if !is_key(&level.key) {
                errors.push(FieldError::new(
                    field("key"),
                    FieldCode::InvalidValue,
                    "a key is 1 to 40 lower-case letters, digits and _, starting with a letter",
                ));
            } else if levels[..at].iter().any(|l| l.key == level.key) {
                errors.push(FieldError::new(
                    field("key"),
                    FieldCode::Conflicting,
                    "each level has its own key",
                ));
            }
            if level.offset_days.abs() > OFFSET_MAX_DAYS {
                errors.push(FieldError::new(
                    field("offset_days"),
                    FieldCode::OutOfRange,
                    format!("a level lies at most {OFFSET_MAX_DAYS} days from its anchor"),
                ));
            }
            let action = errors.check(&field("action"), required_text(&level.action, ACTION_MAX));
            if at > 0 && level.effect.severity() < levels[at - 1].effect.severity() {
                errors.push(FieldError::new(
                    field("effect"),
                    FieldCode::OutOfRange,
                    "a higher level's effect is not milder than a lower one's",
                ));
            }
            if let Some(action) = action {
                checked.push(DunningLevelRule {
                    action,
                    ..level.clone()
                });
            }
        }
        if !(1..=3650).contains(&rules.max_dispute_days) {
            errors.push(FieldError::new(
                "max_dispute_days",
                FieldCode::OutOfRange,
                "1 to 3650 days",
            ));
        }
        if !(1..=1000).contains(&rules.keep_runs) {
            errors.push(FieldError::new(
                "keep_runs",
                FieldCode::OutOfRange,
                "1 to 1000 runs",
            ));
        }
        errors.finish(|| Self {
            levels: checked,
            max_dispute_days: rules.max_dispute_days,
            keep_runs: rules.keep_runs,
        })
    }

    pub fn levels(&self) -> &[DunningLevelRule] {
        &self.levels
    }

    /// The longest a dispute opened by whoever works the file pauses dunning.
    pub fn max_dispute_days(&self) -> u32 {
        self.max_dispute_days
    }

    /// How many finished runs keep their lists.
    pub fn keep_runs(&self) -> u32 {
        self.keep_runs
    }

    pub fn rules(&self) -> DunningPolicyRules {
        DunningPolicyRules {
            levels: self.levels.clone(),
            max_dispute_days: self.max_dispute_days,
            keep_runs: self.keep_runs,
        }
    }

    /// The rank (position) of the level named `key`; `None` for a key the policy no longer
    /// has.
    fn rank(&self, key: &str) -> Option<usize> {
        self.levels.iter().position(|l| l.key == key)
    }

    /// The latest anchor day of `anchor` whose items can have a level due as of `as_of`:
    /// a store reads only items anchored on or before it.
    pub fn latest_anchor(&self, anchor: Anchor, as_of: NaiveDate) -> Option<NaiveDate> {
        let offset = self
            .levels
            .iter()
            .filter(|l| l.anchor == anchor)
            .map(|l| l.offset_days)
            .min()?;
        shift(as_of, -offset)
    }

    /// The key of the last (highest) level.
    pub fn top_key(&self) -> &str {
        &self.levels.last().expect("a policy has a level").key
    }

    /// The highest level due for `item` as of `as_of` that it has not had (nor a higher
    /// one), given the keys of the levels it had.
    fn due_level(&self, item: &DunningItem, as_of: NaiveDate) -> Option<usize> {
        let had = item.had.iter().filter_map(|key| self.rank(key)).max();
        let due = self
            .levels
            .iter()
            .rposition(|level| level_day(level, item).is_some_and(|day| day <= as_of))?;
        had.is_none_or(|had| due > had).then_some(due)
    }
}

fn is_key(key: &str) -> bool {
    let mut chars = key.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && key.len() <= KEY_MAX
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

fn shift(day: NaiveDate, days: i32) -> Option<NaiveDate> {
    let by = Days::new(u64::from(days.unsigned_abs()));
    if days >= 0 {
        day.checked_add_days(by)
    } else {
        day.checked_sub_days(by)
    }
}

/// The day `level` falls due for `item`; `None` for a shipment level of an item never
/// shipped.
fn level_day(level: &DunningLevelRule, item: &DunningItem) -> Option<NaiveDate> {
    let anchor = match level.anchor {
        Anchor::Shipment => item.shipped_on?,
        Anchor::Due => item.due_on,
    };
    shift(anchor, level.offset_days)
}

/// What a run needs of one open item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DunningItem {
    pub receivable_id: Uuid,
    pub shipped_on: Option<NaiveDate>,
    pub due_on: NaiveDate,
    /// Dunning waits: the item is in dispute, or an approved extension has not run out.
    pub paused: bool,
    /// The keys of the levels the item had.
    pub had: Vec<String>,
}

impl DunningItem {
    /// The facts of an open item with the levels it had, as of `as_of`.
    pub fn new(item: &Receivable, had: Vec<String>, as_of: NaiveDate) -> Self {
        let disputed = item
            .dispute
            .as_ref()
            .is_some_and(|d| d.since <= as_of && as_of <= d.until);
        // An approved extension moved the due day; until it comes the customer is keeping
        // the terms it was granted.
        let extended = item.original_due_on.is_some() && as_of <= item.due_on;
        Self {
            receivable_id: item.id,
            shipped_on: item.shipped_on,
            due_on: item.due_on,
            paused: disputed || extended,
            had,
        }
    }
}

/// An item reaching a level in a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub receivable_id: Uuid,
    /// The key of the level.
    pub level: String,
}

/// What a run does for one customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dunning {
    /// No level is due on any item.
    Nothing,
    /// Levels are due, but the customer has money not yet applied to its items: a
    /// collector allocates it first (the main cause of reminders for paid invoices).
    AllocateFirst,
    /// One communication at the highest level due, covering every item with a level due.
    Act {
        level: DunningLevelRule,
        /// The level's place in the escalation: 1 the first.
        rank: u32,
        notices: Vec<Notice>,
    },
}

/// The decision for one customer as of `as_of`, from its open items and whether it has
/// unallocated payments.
pub fn decide(
    policy: &DunningPolicy,
    items: &[DunningItem],
    has_unallocated: bool,
    as_of: NaiveDate,
) -> Dunning {
    let due: Vec<(usize, &DunningItem)> = items
        .iter()
        .filter(|item| !item.paused)
        .filter_map(|item| policy.due_level(item, as_of).map(|rank| (rank, item)))
        .collect();
    let Some(top) = due.iter().map(|(rank, _)| *rank).max() else {
        return Dunning::Nothing;
    };
    if has_unallocated {
        return Dunning::AllocateFirst;
    }
    let notices = due
        .iter()
        .map(|(rank, item)| Notice {
            receivable_id: item.receivable_id,
            level: policy.levels[*rank].key.clone(),
        })
        .collect();
    Dunning::Act {
        level: policy.levels[top].clone(),
        rank: u32::try_from(top + 1).expect("at most LEVELS_MAX levels"),
        notices,
    }
}

/// A communication a run made (or, in a dry run, would make) to a customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct DunningAction {
    /// `null` in a dry run.
    pub id: Option<Uuid>,
    pub customer_id: Uuid,
    pub as_of: NaiveDate,
    /// The key of the highest level due across the customer's items.
    #[schema(example = "overdue_notice")]
    pub level: String,
    /// The level's place in the policy's escalation: 1 the first.
    #[schema(example = 3, minimum = 1)]
    pub level_rank: u32,
    /// What the account manager does.
    #[schema(example = "逾期一周发催款通知,记录不良信用")]
    pub action: String,
    pub effect: Effect,
    /// Every item with a level due, each recorded at its own level.
    pub receivable_ids: Vec<Uuid>,
    /// The account manager's task; `null` in a dry run.
    pub task_id: Option<Uuid>,
}

/// A customer a run did not dun because money it paid is not yet applied to its items.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HeldBack {
    pub customer_id: Uuid,
    /// Always `allocate_first`: allocate these payments, then run again.
    #[schema(example = "allocate_first")]
    pub reason: String,
    /// The payments with something left to allocate.
    pub payment_ids: Vec<Uuid>,
}

/// A dunning run: dry or acting, asked for by a person or made by the day's schedule, done
/// by the job runner (the run is its job, same id).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct DunningRun {
    pub id: Uuid,
    pub state: JobState,
    /// The day levels are due as of.
    pub as_of: NaiveDate,
    /// Lists what it would do and records nothing.
    pub dry_run: bool,
    /// The version of the dunning policy it applied; absent until it has started.
    #[schema(example = 1)]
    pub policy_version: Option<i64>,
    pub progress: Progress,
    /// Customers dunned so far (a dry run: who would be), listed at `actions`.
    #[schema(example = 120)]
    pub action_count: i64,
    /// Customers held back so far, listed at `held-back`.
    #[schema(example = 3)]
    pub held_back_count: i64,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Who asked for it; the rules' account (the nil id) for the day's scheduled run.
    pub created_by: Uuid,
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn item(n: u128, shipped: Option<&str>, due: &str, had: &[&str]) -> DunningItem {
        DunningItem {
            receivable_id: Uuid::from_u128(n),
            shipped_on: shipped.map(day),
            due_on: day(due),
            paused: false,
            had: had.iter().map(|k| k.to_string()).collect(),
        }
    }

    fn policy() -> DunningPolicy {
        DunningPolicy::from_rules(&DunningPolicyRules::default()).unwrap()
    }

    fn level_of(decision: &Dunning) -> Option<&str> {
        match decision {
            Dunning::Act { level, .. } => Some(&level.key),
            _ => None,
        }
    }

    #[test]
    fn stored_names_are_the_wire_names() {
        assert!(Anchor::names_agree_with_serde());
        assert!(Effect::names_agree_with_serde());
    }

    #[test]
    fn each_default_level_fires_on_its_day_once_when_run_daily() {
        let policy = policy();
        let mut one = item(1, Some("2026-05-25"), "2026-06-30", &[]);
        let mut fired = Vec::new();
        let mut on = day("2026-05-25");
        while on <= day("2026-09-30") {
            if let Dunning::Act { level, notices, .. } = decide(&policy, &[one.clone()], false, on)
            {
                assert_eq!(notices.len(), 1);
                one.had.push(level.key.clone());
                fired.push((level.key, on.to_string()));
            }
            on = on.succ_opt().unwrap();
        }
        let expected = [
            ("delivery_check", "2026-06-01"),
            ("due_reminder", "2026-06-23"),
            ("overdue_notice", "2026-07-07"),
            ("written_demand", "2026-07-14"),
            ("blacklist", "2026-07-30"),
        ];
        let fired: Vec<(&str, &str)> = fired
            .iter()
            .map(|(k, d)| (k.as_str(), d.as_str()))
            .collect();
        assert_eq!(fired, expected);
    }

    #[test]
    fn a_late_run_sends_only_the_highest_level_due() {
        let decision = decide(
            &policy(),
            &[item(1, None, "2026-06-30", &[])],
            false,
            day("2026-07-20"),
        );
        assert_eq!(level_of(&decision), Some("written_demand"));
        // Having had it, the item waits for the next level.
        let had = item(1, None, "2026-06-30", &["written_demand"]);
        assert_eq!(
            decide(&policy(), &[had], false, day("2026-07-21")),
            Dunning::Nothing
        );
    }

    #[test]
    fn one_communication_per_customer_at_its_highest_level() {
        let items = [
            item(1, Some("2026-06-24"), "2026-07-31", &[]),
            item(2, None, "2026-06-20", &["due_reminder"]),
            item(3, None, "2026-09-30", &[]),
        ];
        let Dunning::Act { level, notices, .. } =
            decide(&policy(), &items, false, day("2026-07-01"))
        else {
            panic!("levels are due");
        };
        assert_eq!(level.key, "overdue_notice");
        assert_eq!(level.effect, Effect::CreditWarning);
        assert_eq!(
            notices,
            [
                Notice {
                    receivable_id: Uuid::from_u128(1),
                    level: "delivery_check".into()
                },
                Notice {
                    receivable_id: Uuid::from_u128(2),
                    level: "overdue_notice".into()
                },
            ]
        );
    }

    #[test]
    fn paused_items_wait_and_unallocated_money_holds_the_customer_back() {
        let mut disputed = item(1, None, "2026-06-01", &[]);
        disputed.paused = true;
        assert_eq!(
            decide(&policy(), &[disputed], false, day("2026-07-01")),
            Dunning::Nothing
        );
        let overdue = item(2, None, "2026-06-01", &[]);
        assert_eq!(
            decide(&policy(), &[overdue], true, day("2026-07-01")),
            Dunning::AllocateFirst
        );
        // Nothing due: no flag either.
        assert_eq!(
            decide(
                &policy(),
                &[item(3, None, "2026-09-01", &[])],
                true,
                day("2026-07-01")
            ),
            Dunning::Nothing
        );
    }

    #[test]
    fn an_item_pauses_in_dispute_and_until_its_extended_due_day() {
        let receivable = Receivable {
            id: Uuid::from_u128(1),
            customer_id: Uuid::from_u128(2),
            sales_unit_id: None,
            owner_id: Uuid::from_u128(3),
            order_id: None,
            currency: credo_core::Currency::parse("CNY").unwrap(),
            amount_minor: 100,
            open_minor: 100,
            issued_on: day("2026-05-01"),
            due_on: day("2026-07-31"),
            shipped_on: None,
            reference: "INV-1".into(),
            settled_on: None,
            original_due_on: Some(day("2026-06-30")),
            dispute: None,
            created_at: chrono::DateTime::UNIX_EPOCH,
            created_by: Uuid::from_u128(3),
        };
        assert!(DunningItem::new(&receivable, vec![], day("2026-07-31")).paused);
        assert!(!DunningItem::new(&receivable, vec![], day("2026-08-01")).paused);
        let disputed = Receivable {
            original_due_on: None,
            dispute: Some(crate::terms::Dispute {
                since: day("2026-07-01"),
                reason: "规格不符".into(),
                until: day("2026-07-15"),
            }),
            ..receivable
        };
        assert!(!DunningItem::new(&disputed, vec![], day("2026-06-30")).paused);
        assert!(DunningItem::new(&disputed, vec![], day("2026-07-15")).paused);
        assert!(!DunningItem::new(&disputed, vec![], day("2026-07-16")).paused);
    }

    #[test]
    fn a_policy_names_its_faults() {
        let mut rules = DunningPolicyRules::default();
        rules.levels[1].key = "delivery_check".into();
        rules.levels[2].offset_days = 400;
        rules.levels[3].action = " ".into();
        rules.levels[4].effect = Effect::CreditWarning;
        rules.levels[0].key = "Bad Key".into();
        let fields: Vec<String> = DunningPolicy::from_rules(&rules)
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "levels[0].key",
                "levels[2].offset_days",
                "levels[3].action",
                "levels[4].effect",
            ]
        );
        let empty = DunningPolicyRules {
            levels: vec![],
            ..DunningPolicyRules::default()
        };
        assert_eq!(
            DunningPolicy::from_rules(&empty).unwrap_err()[0].field,
            "levels"
        );
        for keep_runs in [0, 1001] {
            let rules = DunningPolicyRules {
                keep_runs,
                ..DunningPolicyRules::default()
            };
            assert_eq!(
                DunningPolicy::from_rules(&rules).unwrap_err()[0].field,
                "keep_runs"
            );
        }
    }

    #[test]
    fn the_latest_anchor_bounds_what_a_run_reads() {
        let policy = policy();
        assert_eq!(
            policy.latest_anchor(Anchor::Due, day("2026-07-01")),
            Some(day("2026-07-08"))
        );
        assert_eq!(
            policy.latest_anchor(Anchor::Shipment, day("2026-07-01")),
            Some(day("2026-06-24"))
        );
        assert_eq!(policy.top_key(), "blacklist");
    }

    proptest! {
        /// Run daily over any calendar, an item gets every level at most once, in escalation
        /// order, and a second run on the same day finds nothing.
        #[test]
        fn daily_runs_escalate_and_never_repeat(
            shipped in proptest::option::of(0u64..60),
            due in 0u64..120,
            paused_days in proptest::collection::vec(any::<bool>(), 200),
        ) {
            let policy = policy();
            let start = day("2026-01-01");
            let mut one = DunningItem {
                receivable_id: Uuid::from_u128(1),
                shipped_on: shipped.map(|d| start + Days::new(d)),
                due_on: start + Days::new(due),
                paused: false,
                had: vec![],
            };
            let mut ranks = Vec::new();
            for (offset, paused) in paused_days.into_iter().enumerate() {
                let on = start + Days::new(offset as u64);
                one.paused = paused;
                if let Dunning::Act { level, .. } = decide(&policy, &[one.clone()], false, on) {
                    ranks.push(policy.rank(&level.key).unwrap());
                    one.had.push(level.key);
                    prop_assert_eq!(decide(&policy, &[one.clone()], false, on), Dunning::Nothing);
                }
            }
            prop_assert!(ranks.windows(2).all(|w| w[0] < w[1]));
        }
    }
}
