//! Source-tagged notes and subjective assessments of a customer.

use chrono::NaiveDate;
use credo_core::date::not_in_future;
use credo_core::text::{clean_text, required_text};
use credo_core::{FieldCode, FieldError, FieldErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::kinds::{AssessmentTopic, Department};

/// A free-text note, tagged with the department that wrote it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteInput {
    pub department: Department,
    #[schema(
        example = "客户计划明年扩建二期厂房,设备需求预计翻倍。",
        min_length = 1,
        max_length = 5000
    )]
    pub body: String,
}

impl NoteInput {
    /// The note's trimmed body, or the field errors.
    pub fn validated_body(&self) -> Result<String, Vec<FieldError>> {
        required_text(&self.body, 5000).map_err(|e| vec![e.nested("body")])
    }
}

/// A structured subjective rating as a client sends it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessmentInput {
    pub department: Department,
    pub topic: AssessmentTopic,
    /// 1 (poor) to 5 (excellent).
    #[schema(minimum = 1, maximum = 5, example = 4)]
    pub rating: i64,
    #[schema(example = "实际控制人战略清晰,专注华南市场。", max_length = 2000)]
    pub comment: Option<String>,
    /// The day the judgement was made; defaults to today.
    pub assessed_on: Option<NaiveDate>,
}

/// A valid assessment.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Assessment {
    pub department: Department,
    pub topic: AssessmentTopic,
    pub rating: i64,
    pub comment: Option<String>,
    pub assessed_on: NaiveDate,
}

impl AssessmentInput {
    pub fn validate(self, today: NaiveDate) -> Result<Assessment, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        if !(1..=5).contains(&self.rating) {
            errors.push(FieldError::new(
                "rating",
                FieldCode::OutOfRange,
                "a rating is 1 to 5",
            ));
        }
        let comment = self
            .comment
            .as_deref()
            .and_then(|c| errors.check("comment", clean_text(c, 2000)).flatten());
        let assessed_on = errors.check(
            "assessed_on",
            not_in_future(self.assessed_on.unwrap_or(today), today),
        );
        errors.finish(|| Assessment {
            department: self.department,
            topic: self.topic,
            rating: self.rating,
            comment,
            assessed_on: assessed_on.expect("checked"),
        })
    }
}
