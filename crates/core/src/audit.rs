//! The audit trail: who changed what, when.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::json::FieldChange;

crate::string_enum! {
    /// What happened to a record.
    pub enum AuditAction {
        Created = "created",
        Updated = "updated",
        Archived = "archived",
        Restored = "restored",
        Transferred = "transferred",
        StatusChanged = "status_changed",
    }
}

/// One entry of a record's history.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct AuditEntry {
    pub id: Uuid,
    #[schema(example = "customer")]
    pub entity_type: String,
    pub entity_id: Uuid,
    pub action: AuditAction,
    pub actor_id: Uuid,
    pub at: DateTime<Utc>,
    /// Fields with their values before and after; on `created`, every field set.
    pub changes: Vec<FieldChange>,
}
