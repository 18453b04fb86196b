//! The people and offices of the company using Credo.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::Role;

/// A user account.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct User {
    pub id: Uuid,
    #[schema(example = "zhang.wei")]
    pub username: String,
    #[schema(example = "张伟")]
    pub display_name: String,
    pub email: Option<String>,
    pub role: Role,
    pub sales_unit_id: Option<Uuid>,
    pub disabled: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// A sales unit (office, branch) that owns customers through its people.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct SalesUnit {
    pub id: Uuid,
    #[schema(example = "SZ")]
    pub code: String,
    #[schema(example = "深圳办事处")]
    pub name: String,
    pub active: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i64,
}

/// A username: 3 to 64 characters of lower-case ASCII letters, digits, `.`, `_` and `-`.
/// Input is lower-cased first, so logins are case-insensitive.
pub fn normalize_username(raw: &str) -> Result<String, crate::FieldError> {
    let name = raw.trim().to_ascii_lowercase();
    let valid_chars = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._-".contains(c));
    if !(3..=64).contains(&name.len()) || !valid_chars {
        return Err(crate::FieldError::new(
            "",
            "invalid_username",
            "3 to 64 characters: letters, digits, '.', '_' or '-'",
        ));
    }
    Ok(name)
}

/// Passwords are 12 to 256 characters; length is the rule that matters (NIST SP 800-63B).
pub fn check_password(password: &str) -> Result<(), crate::FieldError> {
    let length = password.chars().count();
    if !(12..=256).contains(&length) {
        return Err(crate::FieldError::new(
            "",
            "weak_password",
            "a password has 12 to 256 characters",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        assert_eq!(normalize_username(" Zhang.Wei ").unwrap(), "zhang.wei");
        assert!(normalize_username("ab").is_err());
        assert!(normalize_username("张伟").is_err());
        assert!(normalize_username("a b c").is_err());
    }

    #[test]
    fn passwords() {
        assert!(check_password("correct horse").is_ok());
        assert!(check_password("short").is_err());
    }
}
