//! The unified social credit code (统一社会信用代码) of GB 32100-2015.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::{FieldCode, FieldError};

/// The 31 characters the standard allows (no I, O, S, V, Z), in value order.
const ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Weight of position i is 3^i mod 31.
const WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];
const LENGTH: usize = 18;

/// An 18-character unified social credit code whose check character is correct.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Uscc(String);

fn value_of(c: u8) -> Option<u32> {
    ALPHABET.iter().position(|&a| a == c).map(|p| p as u32)
}

/// The check character for the first 17 characters, or `None` if one is outside the alphabet.
pub fn check_character(body: &[u8]) -> Option<char> {
    let mut sum = 0u32;
    for (&c, weight) in body.iter().zip(WEIGHTS) {
        sum += value_of(c)? * weight;
    }
    let check = (31 - sum % 31) % 31;
    Some(ALPHABET[check as usize] as char)
}

impl Uscc {
    /// A code read back from storage, where only a parsed code is ever written: not checked
    /// again on every read.
    pub fn stored(value: String) -> Self {
        Self(value)
    }

    /// Parses a code, ignoring surrounding blanks and letter case.
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let code = raw.trim().to_ascii_uppercase();
        if code.chars().count() != LENGTH {
            return Err(FieldError::new(
                "",
                FieldCode::InvalidLength,
                format!("a unified social credit code has {LENGTH} characters"),
            ));
        }
        let bytes = code.as_bytes();
        if let Some(bad) = bytes.iter().find(|&&c| value_of(c).is_none()) {
            return Err(FieldError::new(
                "",
                FieldCode::InvalidCharacter,
                format!(
                    "'{}' is not allowed in a unified social credit code",
                    *bad as char
                ),
            ));
        }
        if !bytes[2..8].iter().all(u8::is_ascii_digit) {
            return Err(FieldError::new(
                "",
                FieldCode::InvalidRegionCode,
                "characters 3 to 8 are the administrative division code and must be digits",
            ));
        }
        let expected = check_character(&bytes[..17]).expect("alphabet checked above");
        if bytes[17] as char != expected {
            return Err(FieldError::new(
                "",
                FieldCode::ChecksumMismatch,
                "the check character does not match GB 32100-2015",
            ));
        }
        Ok(Self(code))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Uscc {
    type Error = FieldError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Uscc> for String {
    fn from(value: Uscc) -> Self {
        value.0
    }
}

impl fmt::Display for Uscc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn accepts_published_codes() {
        // Codes printed on real business licences.
        for code in [
            "91350100M000100Y43",
            "91110000802100433B",
            "91440300708461136T",
        ] {
            assert!(Uscc::parse(code).is_ok(), "{code}");
        }
    }

    #[test]
    fn normalises_case_and_blanks() {
        assert_eq!(
            Uscc::parse(" 91350100m000100y43 ").unwrap().as_str(),
            "91350100M000100Y43"
        );
    }

    #[test]
    fn rejects_each_defect_with_its_own_code() {
        let code = |raw: &str| Uscc::parse(raw).unwrap_err().code;
        assert_eq!(code("91350100M000100Y4"), FieldCode::InvalidLength);
        assert_eq!(code("91350100M000100I43"), FieldCode::InvalidCharacter);
        assert_eq!(code("9135A100M000100Y43"), FieldCode::InvalidRegionCode);
        assert_eq!(code("91350100M000100Y44"), FieldCode::ChecksumMismatch);
    }

    fn body() -> impl Strategy<Value = Vec<u8>> {
        let any_char = proptest::sample::select(ALPHABET.to_vec());
        let digit = proptest::sample::select(b"0123456789".to_vec());
        (
            proptest::collection::vec(any_char.clone(), 2),
            proptest::collection::vec(digit, 6),
            proptest::collection::vec(any_char, 9),
        )
            .prop_map(|(a, b, c)| [a, b, c].concat())
    }

    proptest! {
        #[test]
        fn a_computed_check_character_always_validates(body in body()) {
            let check = check_character(&body).unwrap();
            let code = format!("{}{check}", String::from_utf8(body).unwrap());
            prop_assert!(Uscc::parse(&code).is_ok());
        }

        #[test]
        fn any_single_substitution_is_detected(body in body(), pos in 0usize..17, shift in 1u32..31) {
            let check = check_character(&body).unwrap();
            let mut altered = body.clone();
            let old = value_of(altered[pos]).unwrap();
            let new = ALPHABET[((old + shift) % 31) as usize];
            prop_assume!(!(2..8).contains(&pos) || new.is_ascii_digit());
            altered[pos] = new;
            let code = format!("{}{check}", String::from_utf8(altered).unwrap());
            prop_assert!(Uscc::parse(&code).is_err());
        }
    }
}
