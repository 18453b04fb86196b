//! Money as an exact integer of minor units with its ISO 4217 currency. Never a float.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{FieldCode, FieldError};

/// Active ISO 4217 codes with their number of minor-unit digits, sorted by code.
const CURRENCIES: &[(&str, u8)] = &[
    ("AED", 2),
    ("AFN", 2),
    ("ALL", 2),
    ("AMD", 2),
    ("AOA", 2),
    ("ARS", 2),
    ("AUD", 2),
    ("AWG", 2),
    ("AZN", 2),
    ("BAM", 2),
    ("BBD", 2),
    ("BDT", 2),
    ("BHD", 3),
    ("BIF", 0),
    ("BMD", 2),
    ("BND", 2),
    ("BOB", 2),
    ("BRL", 2),
    ("BSD", 2),
    ("BTN", 2),
    ("BWP", 2),
    ("BYN", 2),
    ("BZD", 2),
    ("CAD", 2),
    ("CDF", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("COP", 2),
    ("CRC", 2),
    ("CUP", 2),
    ("CVE", 2),
    ("CZK", 2),
    ("DJF", 0),
    ("DKK", 2),
    ("DOP", 2),
    ("DZD", 2),
    ("EGP", 2),
    ("ERN", 2),
    ("ETB", 2),
    ("EUR", 2),
    ("FJD", 2),
    ("FKP", 2),
    ("GBP", 2),
    ("GEL", 2),
    ("GHS", 2),
    ("GIP", 2),
    ("GMD", 2),
    ("GNF", 0),
    ("GTQ", 2),
    ("GYD", 2),
    ("HKD", 2),
    ("HNL", 2),
    ("HTG", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("IQD", 3),
    ("IRR", 2),
    ("ISK", 0),
    ("JMD", 2),
    ("JOD", 3),
    ("JPY", 0),
    ("KES", 2),
    ("KGS", 2),
    ("KHR", 2),
    ("KMF", 0),
    ("KPW", 2),
    ("KRW", 0),
    ("KWD", 3),
    ("KYD", 2),
    ("KZT", 2),
    ("LAK", 2),
    ("LBP", 2),
    ("LKR", 2),
    ("LRD", 2),
    ("LSL", 2),
    ("LYD", 3),
    ("MAD", 2),
    ("MDL", 2),
    ("MGA", 2),
    ("MKD", 2),
    ("MMK", 2),
    ("MNT", 2),
    ("MOP", 2),
    ("MRU", 2),
    ("MUR", 2),
    ("MVR", 2),
    ("MWK", 2),
    ("MXN", 2),
    ("MYR", 2),
    ("MZN", 2),
    ("NAD", 2),
    ("NGN", 2),
    ("NIO", 2),
    ("NOK", 2),
    ("NPR", 2),
    ("NZD", 2),
    ("OMR", 3),
    ("PAB", 2),
    ("PEN", 2),
    ("PGK", 2),
    ("PHP", 2),
    ("PKR", 2),
    ("PLN", 2),
    ("PYG", 0),
    ("QAR", 2),
    ("RON", 2),
    ("RSD", 2),
    ("RUB", 2),
    ("RWF", 0),
    ("SAR", 2),
    ("SBD", 2),
    ("SCR", 2),
    ("SDG", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("SHP", 2),
    ("SLE", 2),
    ("SOS", 2),
    ("SRD", 2),
    ("SSP", 2),
    ("STN", 2),
    ("SVC", 2),
    ("SYP", 2),
    ("SZL", 2),
    ("THB", 2),
    ("TJS", 2),
    ("TMT", 2),
    ("TND", 3),
    ("TOP", 2),
    ("TRY", 2),
    ("TTD", 2),
    ("TWD", 2),
    ("TZS", 2),
    ("UAH", 2),
    ("UGX", 0),
    ("USD", 2),
    ("UYU", 2),
    ("UZS", 2),
    ("VES", 2),
    ("VND", 0),
    ("VUV", 0),
    ("WST", 2),
    ("XAF", 0),
    ("XCD", 2),
    ("XOF", 0),
    ("XPF", 0),
    ("YER", 2),
    ("ZAR", 2),
    ("ZMW", 2),
    ("ZWG", 2),
];

/// An active ISO 4217 currency code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(try_from = "String", into = "String")]
#[schema(value_type = String, example = "CNY", pattern = "^[A-Z]{3}$")]
pub struct Currency([u8; 3]);

impl Currency {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let code = raw.trim().to_ascii_uppercase();
        match CURRENCIES.binary_search_by(|(c, _)| c.cmp(&code.as_str())) {
            Ok(_) => {
                let b = code.as_bytes();
                Ok(Self([b[0], b[1], b[2]]))
            }
            Err(_) => Err(FieldError::new(
                "",
                FieldCode::InvalidCurrency,
                "expected an active ISO 4217 currency code such as CNY or USD",
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("parsed from ASCII")
    }

    /// Digits after the decimal point (CNY 2, JPY 0, KWD 3).
    pub fn minor_digits(&self) -> u8 {
        let i = CURRENCIES
            .binary_search_by(|(c, _)| c.cmp(&self.as_str()))
            .expect("constructed from the table");
        CURRENCIES[i].1
    }
}

impl TryFrom<String> for Currency {
    type Error = FieldError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<Currency> for String {
    fn from(value: Currency) -> Self {
        value.as_str().to_owned()
    }
}

/// The largest amount Credo takes or computes, either sign: 2^53 - 1 minor units, so that
/// every amount is exact as a JavaScript number and browser clients never round silently.
pub const MAX_MINOR: i64 = (1 << 53) - 1;

/// An amount a client sends: at least `least` (`out_of_range` below), at most `MAX_MINOR`
/// (`too_large` beyond, as docs/API.md promises).
pub fn input_amount(amount_minor: i64, least: i64) -> Result<i64, FieldError> {
    if amount_minor > MAX_MINOR {
        Err(FieldError::new(
            "",
            FieldCode::TooLarge,
            "at most 2^53 - 1 minor units, exact as a JavaScript number",
        ))
    } else if amount_minor < least {
        Err(FieldError::new(
            "",
            FieldCode::OutOfRange,
            format!("at least {least} minor units"),
        ))
    } else {
        Ok(amount_minor)
    }
}

/// `amount` when it is within ±`MAX_MINOR`; `None` beyond it (and for an overflow, `None`).
pub fn within_cap(amount: Option<i64>) -> Option<i64> {
    amount.filter(|a| a.unsigned_abs() <= MAX_MINOR.unsigned_abs())
}

/// An exact amount: integer minor units (fen, cents) of one currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub struct Money {
    /// Amount in minor units of the currency (e.g. 123456 = 1,234.56 CNY); within
    /// ±(2^53 - 1), exact as a JavaScript number.
    #[schema(example = 12345600, minimum = -9_007_199_254_740_991_i64, maximum = 9_007_199_254_740_991_i64)]
    pub amount_minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(amount_minor: i64, currency: Currency) -> Self {
        Self {
            amount_minor,
            currency,
        }
    }

    /// The sum, or `None` on a currency mismatch or beyond `MAX_MINOR`.
    pub fn checked_add(self, other: Money) -> Option<Money> {
        if self.currency != other.currency {
            return None;
        }
        Some(Money::new(
            within_cap(self.amount_minor.checked_add(other.amount_minor))?,
            self.currency,
        ))
    }
}

/// The amount in major units with its code, exactly: `90000.99 CNY`, `1200 JPY`.
impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let digits = u32::from(self.currency.minor_digits());
        let scale = 10_u64.pow(digits);
        let sign = if self.amount_minor < 0 { "-" } else { "" };
        let minor = self.amount_minor.unsigned_abs();
        let code = self.currency.as_str();
        if digits == 0 {
            write!(f, "{sign}{minor} {code}")
        } else {
            let width = digits as usize;
            write!(
                f,
                "{sign}{}.{:0width$} {code}",
                minor / scale,
                minor % scale
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn displays_in_major_units() {
        let money = |minor, code| Money::new(minor, Currency::parse(code).unwrap()).to_string();
        assert_eq!(money(9_000_099, "CNY"), "90000.99 CNY");
        assert_eq!(money(-5, "USD"), "-0.05 USD");
        assert_eq!(money(1200, "JPY"), "1200 JPY");
        assert_eq!(money(1_234, "KWD"), "1.234 KWD");
        assert_eq!(money(i64::MIN, "CNY"), "-92233720368547758.08 CNY");
    }

    #[test]
    fn table_is_sorted_and_unique() {
        assert!(CURRENCIES.windows(2).all(|w| w[0].0 < w[1].0));
    }

    #[test]
    fn knows_minor_digits() {
        assert_eq!(Currency::parse("cny").unwrap().minor_digits(), 2);
        assert_eq!(Currency::parse("JPY").unwrap().minor_digits(), 0);
        assert_eq!(Currency::parse("KWD").unwrap().minor_digits(), 3);
        assert_eq!(
            Currency::parse("XYZ").unwrap_err().code,
            FieldCode::InvalidCurrency
        );
    }

    proptest! {
        #[test]
        fn addition_is_exact_or_refused(a in any::<i64>(), b in any::<i64>()) {
            let cny = Currency::parse("CNY").unwrap();
            let sum = Money::new(a, cny).checked_add(Money::new(b, cny));
            prop_assert_eq!(sum.map(|m| m.amount_minor), within_cap(a.checked_add(b)));
            let usd = Currency::parse("USD").unwrap();
            prop_assert!(Money::new(a, cny).checked_add(Money::new(b, usd)).is_none());
        }
    }
}
