//! A stored customer file entry: the profile plus ownership, lifecycle stamps and version.

use chrono::{DateTime, Utc};
use credo_core::webhooks::EventType;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{Assessment, Contact, CustomerProfile, Department};

/// Who changed a record last and when; every record carries two (created and updated).
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Stamps {
    pub created_at: DateTime<Utc>,
    pub created_by: Uuid,
    pub updated_at: DateTime<Utc>,
    pub updated_by: Uuid,
    /// Increases by one with every change; the ETag is derived from it.
    #[schema(example = 1)]
    pub version: i64,
}

/// A customer as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Customer {
    pub id: Uuid,
    #[serde(flatten)]
    pub profile: CustomerProfile,
    pub owner_id: Uuid,
    pub sales_unit_id: Option<Uuid>,
    /// Set while the customer is archived (soft-deleted).
    pub archived_at: Option<DateTime<Utc>>,
    /// Set when a customer event opened a credit review that has not been done yet.
    pub credit_review_due_since: Option<DateTime<Utc>>,
    /// When the basic credit data was last confirmed current (due every 6 months, seed
    /// 004); the creation time until the first refresh.
    pub credit_data_refreshed_at: DateTime<Utc>,
    #[serde(flatten)]
    pub stamps: Stamps,
}

impl Customer {
    /// An archived file is read-only until restored: its profile, ownership, contacts,
    /// notes, assessments, events and interactions take no change (history stays readable).
    pub fn is_read_only(&self) -> bool {
        self.archived_at.is_some()
    }

    /// The webhook event a change from `before` to this record tells of: archiving, a new
    /// owner or unit, or any other change.
    pub fn event_since(&self, before: &Customer) -> EventType {
        if self.archived_at.is_some() && before.archived_at.is_none() {
            EventType::CustomerArchived
        } else if (self.owner_id, self.sales_unit_id) != (before.owner_id, before.sales_unit_id) {
            EventType::CustomerTransferred
        } else {
            EventType::CustomerUpdated
        }
    }
}

/// A contact as the API returns it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ContactRecord {
    pub id: Uuid,
    pub customer_id: Uuid,
    #[serde(flatten)]
    pub contact: Contact,
    #[serde(flatten)]
    pub stamps: Stamps,
}

/// One handover of a customer to a new owner.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Transfer {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub from_owner_id: Uuid,
    pub to_owner_id: Uuid,
    pub from_sales_unit_id: Option<Uuid>,
    pub to_sales_unit_id: Option<Uuid>,
    #[schema(example = "客户经理离职,移交给深圳办事处")]
    pub reason: String,
    pub transferred_by: Uuid,
    pub transferred_at: DateTime<Utc>,
}

/// A note in the customer file, tagged with its department.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Note {
    pub id: Uuid,
    pub customer_id: Uuid,
    pub department: Department,
    pub body: String,
    pub author_id: Uuid,
    pub created_at: DateTime<Utc>,
}

/// A subjective assessment with its author.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AssessmentRecord {
    pub id: Uuid,
    pub customer_id: Uuid,
    #[serde(flatten)]
    pub assessment: Assessment,
    pub author_id: Uuid,
    pub created_at: DateTime<Utc>,
}
