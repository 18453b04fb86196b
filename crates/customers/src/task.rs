//! Tasks and reminders: follow-ups made by people, or by rules of other modules (dunning,
//! churn intervention, credit review, birthdays) through the same store call.

use chrono::{DateTime, NaiveDate, Utc};
use credo_core::text::{clean_text, required_text};
use credo_core::{string_enum, FieldError, FieldErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::Stamps;

string_enum! {
    pub enum TaskKind {
        FollowUp = "follow_up",
        Visit = "visit",
        Call = "call",
        Review = "review",
        Collection = "collection",
        ChurnIntervention = "churn_intervention",
        Birthday = "birthday",
    }
}

string_enum! {
    pub enum TaskStatus {
        Open = "open",
        Done = "done",
        Cancelled = "cancelled",
    }
}

/// A task as a client creates it; PATCH takes a merge patch of the same fields plus
/// `status`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskInput {
    pub kind: TaskKind,
    #[schema(example = "跟进二期设备报价", min_length = 1, max_length = 200)]
    pub title: String,
    /// Who does it; defaults to the caller.
    pub assignee_id: Option<Uuid>,
    pub customer_id: Option<Uuid>,
    pub due_on: NaiveDate,
    #[schema(max_length = 2000)]
    pub note: Option<String>,
    /// Only on PATCH: `done` or `cancelled` closes the task, `open` reopens it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<TaskStatus>,
}

/// The fields of a task, valid.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct TaskFields {
    pub kind: TaskKind,
    pub title: String,
    pub assignee_id: Uuid,
    pub customer_id: Option<Uuid>,
    pub due_on: NaiveDate,
    pub note: Option<String>,
    pub status: TaskStatus,
}

impl TaskInput {
    /// Valid fields; `caller` is the assignee when none is named.
    pub fn validate(&self, caller: Uuid) -> Result<TaskFields, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let title = errors.check("title", required_text(&self.title, 200));
        let note = self
            .note
            .as_deref()
            .and_then(|n| errors.check("note", clean_text(n, 2000)).flatten());
        errors.finish(|| TaskFields {
            kind: self.kind,
            title: title.expect("checked"),
            assignee_id: self.assignee_id.unwrap_or(caller),
            customer_id: self.customer_id,
            due_on: self.due_on,
            note,
            status: self.status.unwrap_or(TaskStatus::Open),
        })
    }
}

impl TaskFields {
    /// The fields in the shape a client sends, as the base a merge patch applies to.
    pub fn input(&self) -> TaskInput {
        TaskInput {
            kind: self.kind,
            title: self.title.clone(),
            assignee_id: Some(self.assignee_id),
            customer_id: self.customer_id,
            due_on: self.due_on,
            note: self.note.clone(),
            status: Some(self.status),
        }
    }
}

/// A task as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Task {
    pub id: Uuid,
    #[serde(flatten)]
    pub fields: TaskFields,
    /// The assignee's sales unit when the task was assigned (the unit manager's view).
    pub sales_unit_id: Option<Uuid>,
    /// When it was last marked done.
    pub completed_at: Option<DateTime<Utc>>,
    #[serde(flatten)]
    pub stamps: Stamps,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_are_the_wire_names() {
        assert!(TaskKind::names_agree_with_serde());
        assert!(TaskStatus::names_agree_with_serde());
    }

    #[test]
    fn tasks_default_to_the_caller_and_open() {
        let me = Uuid::from_u128(9);
        let input = TaskInput {
            kind: TaskKind::Call,
            title: " call back ".into(),
            assignee_id: None,
            customer_id: None,
            due_on: "2026-01-01".parse().unwrap(),
            note: None,
            status: None,
        };
        let fields = input.validate(me).unwrap();
        assert_eq!(
            (fields.assignee_id, fields.status, fields.title.as_str()),
            (me, TaskStatus::Open, "call back")
        );
        let round_trip = fields.input().validate(Uuid::nil()).unwrap();
        assert_eq!(round_trip, fields);
    }
}
