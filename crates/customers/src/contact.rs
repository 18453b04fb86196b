//! People at a customer.

use credo_core::text::{clean_text, required_text};
use credo_core::{Email, FieldError, FieldErrors, Phone};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::kinds::{ContactRole, DecisionAuthority};

/// A contact as a client sends it; on PATCH, a JSON merge patch of these fields.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactInput {
    /// Client-chosen id (UUID); read on create only.
    pub id: Option<Uuid>,
    #[schema(example = "王芳", min_length = 1, max_length = 200)]
    pub name: String,
    pub role: Option<ContactRole>,
    #[schema(example = "财务总监", max_length = 200)]
    pub title: Option<String>,
    #[schema(example = "+86 138 0013 8000", max_length = 40)]
    pub phone: Option<String>,
    #[schema(example = "wang.fang@huaqiang.example.cn", max_length = 254)]
    pub email: Option<String>,
    pub decision_authority: Option<DecisionAuthority>,
    /// The customer's main contact.
    #[serde(default)]
    pub is_primary: bool,
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
}

/// A valid contact.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Contact {
    #[schema(example = "王芳")]
    pub name: String,
    pub role: Option<ContactRole>,
    pub title: Option<String>,
    #[schema(value_type = Option<String>, example = "+8613800138000")]
    pub phone: Option<Phone>,
    #[schema(value_type = Option<String>, example = "wang.fang@huaqiang.example.cn")]
    pub email: Option<Email>,
    pub decision_authority: Option<DecisionAuthority>,
    pub is_primary: bool,
    pub notes: Option<String>,
}

impl TryFrom<ContactInput> for Contact {
    type Error = Vec<FieldError>;

    fn try_from(input: ContactInput) -> Result<Self, Self::Error> {
        let mut errors = FieldErrors::new();
        let name = errors.check("name", required_text(&input.name, 200));
        let title = input
            .title
            .as_deref()
            .and_then(|t| errors.check("title", clean_text(t, 200)).flatten());
        let notes = input
            .notes
            .as_deref()
            .and_then(|t| errors.check("notes", clean_text(t, 2000)).flatten());
        let phone = input
            .phone
            .as_deref()
            .filter(|p| !p.trim().is_empty())
            .and_then(|p| errors.check("phone", Phone::parse(p)));
        let email = input
            .email
            .as_deref()
            .filter(|e| !e.trim().is_empty())
            .and_then(|e| errors.check("email", Email::parse(e)));
        errors.finish(|| Contact {
            name: name.expect("checked"),
            role: input.role,
            title,
            phone,
            email,
            decision_authority: input.decision_authority,
            is_primary: input.is_primary,
            notes,
        })
    }
}
