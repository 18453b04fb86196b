//! Small text values: e-mail addresses, phone numbers, tags, and the search key of a name.

use serde::{Deserialize, Serialize};
use unicode_normalization::UnicodeNormalization;
use unicode_properties::{GeneralCategory, UnicodeGeneralCategory};
use utoipa::ToSchema;
use validator::ValidateEmail;

use crate::{FieldCode, FieldError};

macro_rules! string_value {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }

            /// A value read back from storage, where only a parsed value is ever written:
            /// not checked again on every read.
            pub fn stored(value: String) -> Self {
                Self(value)
            }
        }
        impl TryFrom<String> for $name {
            type Error = FieldError;
            fn try_from(value: String) -> Result<Self, Self::Error> {
                Self::parse(&value)
            }
        }
        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }
    };
}

/// An e-mail address (RFC 5322 as checked by `validator`), trimmed, at most 254 characters.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, max_length = 254, example = "finance@huaqiang.example.cn")]
pub struct Email(String);
string_value!(Email);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let email = raw.trim();
        if raw.chars().count() > 254 || !email.validate_email() {
            return Err(FieldError::new(
                "",
                FieldCode::InvalidEmail,
                "not a valid e-mail address",
            ));
        }
        Ok(Self(email.to_owned()))
    }
}

/// A phone number: an optional leading `+`, then 5 to 20 digits; spaces, dashes, dots and
/// parentheses are accepted on input and dropped (at most 40 characters as sent).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, max_length = 40, example = "+86 755 8888 1234")]
pub struct Phone(String);
string_value!(Phone);

impl Phone {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        if raw.chars().count() > 40 {
            return Err(FieldError::new(
                "",
                FieldCode::InvalidPhone,
                "a phone number has at most 40 characters",
            ));
        }
        let raw = raw.trim();
        let (plus, rest) = match raw.strip_prefix('+') {
            Some(rest) => ("+", rest),
            None => ("", raw),
        };
        let mut digits = String::with_capacity(rest.len());
        for c in rest.chars() {
            match c {
                '0'..='9' => digits.push(c),
                ' ' | '-' | '.' | '(' | ')' => {}
                _ => {
                    return Err(FieldError::new(
                        "",
                        FieldCode::InvalidPhone,
                        "a phone number holds digits, an optional leading +, and separators",
                    ))
                }
            }
        }
        if !(5..=20).contains(&digits.len()) {
            return Err(FieldError::new(
                "",
                FieldCode::InvalidPhone,
                "a phone number has 5 to 20 digits",
            ));
        }
        Ok(Self(format!("{plus}{digits}")))
    }
}

/// A label on a record: 1 to 40 characters, no control characters, compared case-insensitively
/// (stored lower case).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, min_length = 1, max_length = 40, example = "vip")]
pub struct Tag(String);
string_value!(Tag);

impl Tag {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let tag = raw.trim().to_lowercase();
        let length = tag.chars().count();
        if length == 0 || length > 40 || tag.chars().any(char::is_control) {
            return Err(FieldError::new(
                "",
                FieldCode::InvalidTag,
                "a tag has 1 to 40 characters and no control characters",
            ));
        }
        refuse_bidi_controls(&tag)?;
        Ok(Self(tag))
    }
}

/// A required or optional free text: bounded length (counted as sent, like the schema's
/// `maxLength`); trimmed; empty counts as absent, and so does a text of blanks and invisible
/// format characters only (zero-width spaces, a reason nobody can read); no control
/// characters except line breaks and tabs.
pub fn clean_text(raw: &str, max_chars: usize) -> Result<Option<String>, FieldError> {
    if raw.chars().count() > max_chars {
        return Err(FieldError::new(
            "",
            FieldCode::TooLong,
            format!("at most {max_chars} characters"),
        ));
    }
    let text = raw.trim();
    let invisible = |c: char| c.is_whitespace() || c.general_category() == GeneralCategory::Format;
    if text.chars().all(invisible) {
        return Ok(None);
    }
    if text
        .chars()
        .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
    {
        return Err(FieldError::new(
            "",
            FieldCode::ControlCharacter,
            "control characters are not allowed",
        ));
    }
    refuse_bidi_controls(text)?;
    Ok(Some(text.to_owned()))
}

/// A text that must be present: as [`clean_text`], and empty is an error.
pub fn required_text(raw: &str, max_chars: usize) -> Result<String, FieldError> {
    clean_text(raw, max_chars)?
        .ok_or_else(|| FieldError::new("", FieldCode::Required, "a value is required"))
}

/// The key names are searched and compared by: Unicode compatibility forms folded (NFKC:
/// full-width letters and digits, as Chinese input produces, become ASCII; the ideographic
/// space a space), invisible format characters dropped (zero-width space and joiners, soft
/// hyphen, byte-order mark), lower case, runs of blanks collapsed to one space. Two names
/// that look the same get the same key, so duplicates are found.
pub fn search_key(name: &str) -> String {
    let mut key = String::with_capacity(name.len());
    let mut pending_space = false;
    let lowered: String = name
        .nfkc()
        .filter(|c| c.general_category() != GeneralCategory::Format)
        .flat_map(char::to_lowercase)
        .collect();
    // Lower-casing can leave a sequence that composes further; fold once more so that a key
    // is its own key.
    for c in lowered.nfkc() {
        if c.is_whitespace() {
            pending_space = !key.is_empty();
            continue;
        }
        if pending_space {
            key.push(' ');
            pending_space = false;
        }
        key.push(c);
    }
    key
}

/// Refuses the bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069): stored
/// text shows to other users as it was written, not reordered to disguise it.
fn refuse_bidi_controls(text: &str) -> Result<(), FieldError> {
    if text
        .chars()
        .any(|c| matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'))
    {
        return Err(FieldError::new(
            "",
            FieldCode::BidiControl,
            "bidirectional override and isolate characters are not allowed",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn phones_are_normalised() {
        assert_eq!(
            Phone::parse(" +86 (755) 8888-1234 ").unwrap().as_str(),
            "+8675588881234"
        );
        assert_eq!(
            Phone::parse("12ab34").unwrap_err().code,
            FieldCode::InvalidPhone
        );
        assert_eq!(
            Phone::parse("123").unwrap_err().code,
            FieldCode::InvalidPhone
        );
        // At most 40 characters as sent, as the schema's maxLength says.
        assert!(Phone::parse(&"1 ".repeat(20)).is_ok());
        assert_eq!(
            Phone::parse(&"1 ".repeat(21)).unwrap_err().code,
            FieldCode::InvalidPhone
        );
    }

    #[test]
    fn emails_and_tags() {
        assert!(Email::parse("li.lei@example.cn").is_ok());
        assert_eq!(
            Email::parse("not-an-email").unwrap_err().code,
            FieldCode::InvalidEmail
        );
        assert_eq!(Tag::parse(" VIP ").unwrap().as_str(), "vip");
        assert_eq!(Tag::parse("").unwrap_err().code, FieldCode::InvalidTag);
    }

    #[test]
    fn a_text_of_invisible_characters_only_is_absent() {
        for raw in ["\u{200b}", " \u{200b}\u{200d} \u{feff}", "\u{3000}\u{00ad}"] {
            assert_eq!(clean_text(raw, 100), Ok(None), "{raw:?}");
            assert_eq!(
                required_text(raw, 100).unwrap_err().code,
                FieldCode::Required
            );
        }
        assert_eq!(
            clean_text("\u{200b}退货\u{200b}", 100),
            Ok(Some("\u{200b}退货\u{200b}".to_owned()))
        );
    }

    #[test]
    fn clean_text_trims_bounds_and_drops_empty() {
        assert_eq!(clean_text("  x ", 5).unwrap(), Some("x".to_owned()));
        assert_eq!(clean_text("   ", 5).unwrap(), None);
        assert_eq!(
            clean_text("abcdef", 5).unwrap_err().code,
            FieldCode::TooLong
        );
        // The bound is on what was sent, as the schema's maxLength is.
        assert_eq!(
            clean_text(" abcde", 5).unwrap_err().code,
            FieldCode::TooLong
        );
        assert_eq!(
            clean_text("a\u{7}", 5).unwrap_err().code,
            FieldCode::ControlCharacter
        );
    }

    #[test]
    fn search_key_folds_full_width_and_case() {
        assert_eq!(search_key("  ＡＢＣ　Trading   Co. "), "abc trading co.");
        assert_eq!(search_key("Ｈａｎｏｉ Ｓｔｅｅｌ ①"), "hanoi steel 1");
        assert_eq!(
            search_key("深圳市华为技术有限公司"),
            "深圳市华为技术有限公司"
        );
    }

    #[test]
    fn search_key_drops_invisible_format_characters() {
        let plain = search_key("华强贸易 Trading");
        for disguised in [
            "华\u{200B}强贸易 Trading",
            "\u{FEFF}华强贸易 Tra\u{00AD}ding",
            "华强\u{200D}贸易 Trading\u{2060}",
        ] {
            assert_eq!(search_key(disguised), plain, "{disguised:?}");
        }
    }

    #[test]
    fn bidi_overrides_are_refused_in_stored_text() {
        for text in ["abc\u{202E}cba", "\u{2066}x\u{2069}"] {
            assert_eq!(
                clean_text(text, 40).unwrap_err().code,
                FieldCode::BidiControl
            );
            assert_eq!(Tag::parse(text).unwrap_err().code, FieldCode::BidiControl);
        }
        // Right-to-left script itself is fine.
        assert_eq!(clean_text("شركة", 40).unwrap(), Some("شركة".to_owned()));
    }

    proptest! {
        #[test]
        fn search_key_is_idempotent(name in "\\PC{0,40}") {
            let once = search_key(&name);
            prop_assert_eq!(search_key(&once), once.clone());
            prop_assert!(!once.starts_with(' ') && !once.ends_with(' '));
        }
    }
}
