//! The customer timeline: everything that happened with a customer, from every source,
//! newest first in one feed.

use chrono::{DateTime, Utc};
use credo_core::string_enum;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

string_enum! {
    /// Where a timeline entry comes from; its `id` opens it at that source's endpoint.
    pub enum TimelineKind {
        Interaction = "interaction",
        Visit = "visit",
        Order = "order",
        Note = "note",
        Assessment = "assessment",
        Event = "event",
        Transfer = "transfer",
    }
}

/// Longest summary line, in characters.
pub const SUMMARY_CHARS: usize = 200;

/// One entry of the feed.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TimelineEntry {
    pub kind: TimelineKind,
    pub id: Uuid,
    /// When it happened: an interaction's time, a visit's planned time, when the order, note,
    /// assessment or event was recorded, when the customer changed hands.
    pub at: DateTime<Utc>,
    /// One line for a feed, at most 200 characters.
    #[schema(example = "电话确认二期设备需求,客户要求下周报价")]
    pub summary: String,
    /// Who did it.
    pub actor_id: Uuid,
}

/// `text` cut to a feed line.
pub fn summary_line(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= SUMMARY_CHARS {
        line
    } else {
        let mut cut: String = line.chars().take(SUMMARY_CHARS - 1).collect();
        cut.push('…');
        cut
    }
}

/// The newest `limit` entries of several feeds, each already newest first, ordered by time
/// and then id, both descending, so that a cursor of (time, id) continues exactly.
pub fn merge_newest(feeds: Vec<Vec<TimelineEntry>>, limit: usize) -> Vec<TimelineEntry> {
    let mut all: Vec<TimelineEntry> = feeds.into_iter().flatten().collect();
    all.sort_by_key(|e| std::cmp::Reverse((e.at, e.id)));
    all.truncate(limit);
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn entry(kind: TimelineKind, minutes: i64, id: u128) -> TimelineEntry {
        TimelineEntry {
            kind,
            id: Uuid::from_u128(id),
            at: DateTime::<Utc>::UNIX_EPOCH + Duration::minutes(minutes),
            summary: String::new(),
            actor_id: Uuid::nil(),
        }
    }

    #[test]
    fn stored_names_are_the_wire_names() {
        assert!(TimelineKind::names_agree_with_serde());
    }

    #[test]
    fn feeds_merge_newest_first_with_ids_breaking_ties() {
        let notes = vec![
            entry(TimelineKind::Note, 5, 1),
            entry(TimelineKind::Note, 1, 2),
        ];
        let orders = vec![
            entry(TimelineKind::Order, 5, 3),
            entry(TimelineKind::Order, 3, 4),
        ];
        let merged = merge_newest(vec![notes, orders], 3);
        let ids: Vec<u128> = merged.iter().map(|e| e.id.as_u128()).collect();
        assert_eq!(ids, [3, 1, 4]);
    }

    #[test]
    fn summaries_are_one_short_line() {
        assert_eq!(summary_line(" a\n b "), "a b");
        let long = "长".repeat(300);
        let line = summary_line(&long);
        assert_eq!(line.chars().count(), SUMMARY_CHARS);
        assert!(line.ends_with('…'));
    }
}
