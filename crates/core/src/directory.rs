//! The people and offices of the company using Credo.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{FieldCode, FieldError, Principal, Role};

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

/// A key an integration script authenticates with, acting as its user.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ApiKey {
    pub id: Uuid,
    /// The key's public part: `credo_<prefix>_...`.
    #[schema(example = "k7x2m9qa")]
    pub prefix: String,
    #[schema(example = "ERP nightly sync")]
    pub name: String,
    /// Whose rights the key has.
    pub user_id: Uuid,
    pub created_at: DateTime<Utc>,
    pub created_by: Uuid,
    /// The key works until this day begins (company time); absent: no end.
    pub expires_on: Option<chrono::NaiveDate>,
    /// To the minute.
    pub last_used_at: Option<DateTime<Utc>>,
    pub revoked_at: Option<DateTime<Utc>>,
    pub revoked_by: Option<Uuid>,
}

impl ApiKey {
    /// Whether the key authenticates on `today`: not revoked, not expired.
    pub fn usable(&self, today: chrono::NaiveDate) -> bool {
        self.revoked_at.is_none() && self.expires_on.is_none_or(|end| today < end)
    }
}

/// The longest name of an API key.
pub const API_KEY_NAME_MAX: usize = 100;

/// Checks a new key's name and end: a name, and an end after `today`.
pub fn check_api_key(
    name: &str,
    expires_on: Option<chrono::NaiveDate>,
    today: chrono::NaiveDate,
) -> Result<String, Vec<FieldError>> {
    let mut errors = crate::FieldErrors::new();
    let name = errors.check("name", crate::text::required_text(name, API_KEY_NAME_MAX));
    if expires_on.is_some_and(|end| end <= today) {
        errors.push(FieldError::new(
            "expires_on",
            crate::FieldCode::OutOfRange,
            "a key ends after today",
        ));
    }
    errors.finish(|| name.unwrap_or_default())
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

    #[test]
    fn a_key_works_until_its_end_day_begins_and_never_after_revocation() {
        let day = |d: &str| d.parse::<chrono::NaiveDate>().unwrap();
        let mut key = ApiKey {
            id: Uuid::nil(),
            prefix: "k7x2m9qa".into(),
            name: "ERP".into(),
            user_id: Uuid::nil(),
            created_at: Utc::now(),
            created_by: Uuid::nil(),
            expires_on: Some(day("2027-01-01")),
            last_used_at: None,
            revoked_at: None,
            revoked_by: None,
        };
        assert!(key.usable(day("2026-12-31")));
        assert!(!key.usable(day("2027-01-01")));
        key.expires_on = None;
        assert!(key.usable(day("2099-01-01")));
        key.revoked_at = Some(Utc::now());
        assert!(!key.usable(day("2026-12-31")));
        let today = day("2026-12-07");
        assert_eq!(check_api_key(" ERP ", None, today), Ok("ERP".to_owned()));
        let refused = check_api_key(" ", Some(today), today).unwrap_err();
        let fields: Vec<&str> = refused.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "expires_on"]);
    }
}
