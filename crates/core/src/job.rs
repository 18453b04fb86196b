//! Background jobs as the API shows them: long work started with 202, followed at
//! `GET /api/v1/jobs/{id}`.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

crate::string_enum! {
    /// Where a job is: waiting (first run, or a retry after backoff), running, or done.
    pub enum JobState {
        Queued = "queued",
        Running = "running",
        Succeeded = "succeeded",
        Failed = "failed",
    }
}

/// How far a running job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub struct Progress {
    #[schema(example = 1200)]
    pub processed: i64,
    /// Absent until the job knows how much there is.
    #[schema(example = 100000)]
    pub total: Option<i64>,
}

/// A background job.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Job {
    pub id: Uuid,
    /// What it does, e.g. `purge`.
    #[schema(example = "purge")]
    pub kind: String,
    pub state: JobState,
    pub progress: Progress,
    /// Runs so far (a retry after a failure, or a resumption after an interruption, is
    /// another).
    #[schema(example = 1)]
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
    /// Absent for jobs the schedule started.
    pub created_by: Option<Uuid>,
    pub started_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Why the last run failed.
    pub error: Option<String>,
    /// What it did, on success.
    #[schema(value_type = Option<Object>)]
    pub result: Option<serde_json::Value>,
    /// Where its result lives, for jobs that make a record (a run, a report).
    #[schema(example = "/api/v1/segmentation/runs/0193a1b2-0000-7000-8000-000000000000")]
    pub result_link: Option<String>,
}

/// When a failed run is tried again: 2, 4, 8 ... seconds after the `attempts`-th run, at
/// most an hour.
pub fn retry_delay(attempts: i64) -> chrono::Duration {
    let exponent = u32::try_from(attempts.clamp(1, 12)).expect("clamped");
    chrono::Duration::seconds((1_i64 << exponent).min(3600))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_names_are_the_wire_names() {
        assert!(JobState::names_agree_with_serde());
    }

    #[test]
    fn retries_back_off_exponentially_up_to_an_hour() {
        let delays: Vec<i64> = [0, 1, 2, 3, 11, 12, 40]
            .into_iter()
            .map(|n| retry_delay(n).num_seconds())
            .collect();
        assert_eq!(delays, [2, 2, 4, 8, 2048, 3600, 3600]);
    }
}
