//! The people and offices of the company using Credo.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{FieldCode, Principal, Role};

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

impl User {
    /// The user as a caller: what they would see and may do.
    pub fn principal(&self) -> Principal {
        Principal {
            user_id: self.id,
            role: self.role,
            sales_unit_id: self.sales_unit_id,
        }
    }
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
            FieldCode::InvalidUsername,
            "3 to 64 characters: letters, digits, '.', '_' or '-'",
        ));
    }
    Ok(name)
}

/// Passwords of 12 or more characters known from breaches and common-password lists,
/// lower-cased (see data/README.md).
const COMMON_PASSWORDS: &str = include_str!("../data/common-passwords.txt");

fn is_common(password: &str) -> bool {
    static COMMON: std::sync::OnceLock<std::collections::HashSet<&'static str>> =
        std::sync::OnceLock::new();
    COMMON
        .get_or_init(|| COMMON_PASSWORDS.lines().collect())
        .contains(password.to_lowercase().as_str())
}

/// A password anyone could guess: NIST SP 800-63B 5.1.1.2 asks to refuse passwords from
/// breach and common lists, repetitive ones and ones derived from the account name; length
/// (12 to 256 characters) is the rule that matters, and no composition rules are imposed.
pub fn check_password(password: &str, username: &str) -> Result<(), crate::FieldError> {
    let weak = |message: &str| Err(crate::FieldError::new("", FieldCode::WeakPassword, message));
    let length = password.chars().count();
    if !(12..=256).contains(&length) {
        return weak("a password has 12 to 256 characters");
    }
    let distinct: std::collections::HashSet<char> = password.chars().collect();
    if distinct.len() < 4 {
        return weak("a password repeats too few characters");
    }
    let name = username.trim().to_lowercase();
    if !name.is_empty() && password.to_lowercase().contains(&name) {
        return weak("a password does not contain the username");
    }
    if is_common(password) {
        return weak("this password is on a list of common or breached passwords");
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
        assert!(check_password("correct horse", "zhang.wei").is_ok());
        for weak in [
            "short",
            "password1234",
            "PassWord1234",
            "aaaaaaaaaaaa",
            "abababababab",
            "123456789012",
            "my zhang.wei pass",
        ] {
            let error = check_password(weak, "Zhang.Wei").unwrap_err();
            assert_eq!(error.code, FieldCode::WeakPassword, "{weak}");
        }
    }
}
