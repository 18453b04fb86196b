//! The company's own settings: its currency, the time zone whose calendar day is "today"
//! everywhere (default dates of steps, as-of reports, stale lists), the month its fiscal
//! year starts; and the exchange rates of other currencies into its currency.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{Currency, FieldCode, FieldError, FieldErrors};

/// An IANA time zone such as `Asia/Shanghai`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeZone(chrono_tz::Tz);

impl TimeZone {
    pub fn parse(name: &str) -> Result<Self, FieldError> {
        name.parse::<chrono_tz::Tz>().map(TimeZone).map_err(|_| {
            FieldError::new(
                "",
                FieldCode::InvalidTimeZone,
                "expected an IANA time zone such as Asia/Shanghai",
            )
        })
    }

    pub fn name(&self) -> &'static str {
        self.0.name()
    }

    /// The calendar day it is here at `now`.
    pub fn day_at(&self, now: DateTime<Utc>) -> NaiveDate {
        now.with_timezone(&self.0).date_naive()
    }
}

impl TryFrom<String> for TimeZone {
    type Error = FieldError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::parse(&value)
    }
}

impl From<TimeZone> for String {
    fn from(value: TimeZone) -> Self {
        value.name().to_owned()
    }
}

/// The company's settings, valid.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CompanySettings {
    /// Reports, limits and grades are in this currency; other currencies convert through the
    /// exchange-rate table.
    #[schema(value_type = String, example = "CNY")]
    pub currency: Currency,
    /// Whose calendar day is "today" everywhere.
    #[schema(value_type = String, example = "Asia/Shanghai")]
    pub time_zone: TimeZone,
    /// The month (1-12) the fiscal year starts on its first day.
    #[schema(minimum = 1, maximum = 12, example = 1)]
    pub fiscal_year_start_month: u32,
}

impl Default for CompanySettings {
    /// A Chinese company: yuan, Beijing time, the calendar year.
    fn default() -> Self {
        Self {
            currency: Currency::parse("CNY").expect("ISO 4217"),
            time_zone: TimeZone::parse("Asia/Shanghai").expect("IANA"),
            fiscal_year_start_month: 1,
        }
    }
}

impl CompanySettings {
    /// The company's calendar day at `now`.
    pub fn today(&self, now: DateTime<Utc>) -> NaiveDate {
        self.time_zone.day_at(now)
    }

    /// The first day of the fiscal year that `day` falls in.
    pub fn fiscal_year_start(&self, day: NaiveDate) -> NaiveDate {
        let month = self.fiscal_year_start_month;
        let year = if day.month() >= month {
            day.year()
        } else {
            day.year() - 1
        };
        NaiveDate::from_ymd_opt(year, month, 1).expect("month 1-12, day 1")
    }

    /// The input form, that a merge patch applies to.
    pub fn input(&self) -> SettingsInput {
        SettingsInput {
            currency: self.currency.as_str().to_owned(),
            time_zone: self.time_zone.name().to_owned(),
            fiscal_year_start_month: i64::from(self.fiscal_year_start_month),
        }
    }
}

/// The company's settings as a client writes them.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SettingsInput {
    #[schema(example = "CNY", pattern = "^[A-Za-z]{3}$")]
    pub currency: String,
    #[schema(example = "Asia/Shanghai", max_length = 64)]
    pub time_zone: String,
    #[schema(minimum = 1, maximum = 12, example = 1)]
    pub fiscal_year_start_month: i64,
}

impl SettingsInput {
    pub fn validate(&self) -> Result<CompanySettings, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let currency = errors.check("currency", Currency::parse(&self.currency));
        let time_zone = errors.check("time_zone", TimeZone::parse(&self.time_zone));
        let month = u32::try_from(self.fiscal_year_start_month)
            .ok()
            .filter(|m| (1..=12).contains(m));
        if month.is_none() {
            errors.push(FieldError::new(
                "fiscal_year_start_month",
                FieldCode::OutOfRange,
                "a month is 1 to 12",
            ));
        }
        errors.finish(|| CompanySettings {
            currency: currency.expect("checked"),
            time_zone: time_zone.expect("checked"),
            fiscal_year_start_month: month.expect("checked"),
        })
    }
}

/// How many units of the company currency one unit of `currency` was worth on `on`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FxRate {
    #[schema(value_type = String, example = "USD")]
    pub currency: Currency,
    /// The day the rate is for; it holds until the next rate of the currency.
    pub on: NaiveDate,
    /// An exact decimal string: the company currency per unit of `currency`.
    #[schema(value_type = String, example = "7.1234")]
    pub rate: Decimal,
}

impl FxRate {
    /// `amount_minor` of the rate's currency in minor units of the company currency,
    /// rounded half away from zero; `None` when it does not fit.
    pub fn to_company_minor(&self, amount_minor: i64, company: Currency) -> Option<i64> {
        let shift = i64::from(company.minor_digits()) - i64::from(self.currency.minor_digits());
        let major = Decimal::from(amount_minor).checked_mul(self.rate)?;
        let scale = Decimal::from(10_i64.pow(u32::try_from(shift.abs()).ok()?));
        let scaled = if shift >= 0 {
            major.checked_mul(scale)?
        } else {
            major.checked_div(scale)?
        };
        i64::try_from(
            scaled.round_dp_with_strategy(0, rust_decimal::RoundingStrategy::MidpointAwayFromZero),
        )
        .ok()
    }
}

/// A rate as a client posts it.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FxRateInput {
    #[schema(example = "USD", pattern = "^[A-Za-z]{3}$")]
    pub currency: String,
    pub on: NaiveDate,
    /// A decimal string, more than zero, at most 10 digits after the point.
    #[schema(example = "7.1234", pattern = "^[0-9]{1,12}(\\.[0-9]{1,10})?$")]
    pub rate: String,
}

/// Digits a rate may carry before and after its decimal point.
const RATE_INTEGER_DIGITS: usize = 12;
const RATE_FRACTION_DIGITS: usize = 10;

/// A rate written as plain decimal digits, exactly: no sign, exponent or spaces.
pub fn parse_rate(text: &str) -> Result<Decimal, FieldError> {
    let invalid = || {
        FieldError::new(
            "",
            FieldCode::InvalidRate,
            format!(
                "a rate is a decimal string above zero with at most {RATE_INTEGER_DIGITS} \
                 digits before and {RATE_FRACTION_DIGITS} after the point, e.g. 7.1234"
            ),
        )
    };
    let (whole, fraction) = text.split_once('.').unwrap_or((text, ""));
    let digits =
        |part: &str, max: usize| part.len() <= max && part.bytes().all(|b| b.is_ascii_digit());
    if whole.is_empty()
        || !digits(whole, RATE_INTEGER_DIGITS)
        || !digits(fraction, RATE_FRACTION_DIGITS)
        || (text.contains('.') && fraction.is_empty())
    {
        return Err(invalid());
    }
    let rate = Decimal::from_str_exact(text).map_err(|_| invalid())?;
    if rate.is_zero() {
        return Err(invalid());
    }
    Ok(rate.normalize())
}

impl FxRateInput {
    /// A valid rate of a currency other than the company's `home` one, of a day that has
    /// come (`today` in the company's time zone): a rate is recorded once it is known.
    pub fn validate(&self, home: Currency, today: NaiveDate) -> Result<FxRate, Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        let currency = errors
            .check("currency", Currency::parse(&self.currency))
            .filter(|c| {
                let foreign = *c != home;
                if !foreign {
                    errors.push(FieldError::new(
                        "currency",
                        FieldCode::HomeCurrency,
                        "the company currency converts at 1 by definition",
                    ));
                }
                foreign
            });
        if self.on > today {
            errors.push(FieldError::new(
                "on",
                FieldCode::InFuture,
                format!("a rate of a day after today ({today}) is not known yet"),
            ));
        }
        let rate = errors.check("rate", parse_rate(&self.rate));
        errors.finish(|| FxRate {
            currency: currency.expect("checked"),
            on: self.on,
            rate: rate.expect("checked"),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    #[test]
    fn conversions_into_the_company_currency_follow_both_currencies_decimals() {
        let rate = |currency: &str, rate: &str| FxRate {
            currency: Currency::parse(currency).unwrap(),
            on: day("2026-06-30"),
            rate: rate.parse().unwrap(),
        };
        let cny = Currency::parse("CNY").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(
            rate("USD", "7.1234").to_company_minor(10_000, cny),
            Some(71_234)
        );
        assert_eq!(rate("USD", "7.1234").to_company_minor(1, cny), Some(7));
        assert_eq!(
            rate("JPY", "0.05").to_company_minor(1_000, cny),
            Some(5_000)
        );
        assert_eq!(rate("CNY", "20").to_company_minor(150, jpy), Some(30));
        assert_eq!(rate("CNY", "21.5").to_company_minor(1, jpy), Some(0));
        assert_eq!(rate("CNY", "25").to_company_minor(10, jpy), Some(3));
        assert_eq!(rate("USD", "100000").to_company_minor(i64::MAX, cny), None);
        assert_eq!(
            rate("USD", "1000000000000").to_company_minor(i64::MAX, cny),
            None
        );
    }

    #[test]
    fn today_is_the_company_day_not_utc_day() {
        let settings = CompanySettings::default();
        // 07:00 in Shenzhen is 23:00 UTC of the day before.
        let now: DateTime<Utc> = "2026-06-30T23:00:00Z".parse().unwrap();
        assert_eq!(settings.today(now), day("2026-07-01"));
        let honolulu = CompanySettings {
            time_zone: TimeZone::parse("Pacific/Honolulu").unwrap(),
            ..settings
        };
        assert_eq!(honolulu.today(now), day("2026-06-30"));
    }

    #[test]
    fn fiscal_years_start_on_their_month() {
        let april = CompanySettings {
            fiscal_year_start_month: 4,
            ..CompanySettings::default()
        };
        assert_eq!(
            april.fiscal_year_start(day("2026-03-31")),
            day("2025-04-01")
        );
        assert_eq!(
            april.fiscal_year_start(day("2026-04-01")),
            day("2026-04-01")
        );
        assert_eq!(
            CompanySettings::default().fiscal_year_start(day("2026-12-31")),
            day("2026-01-01")
        );
    }

    #[test]
    fn settings_input_reports_every_bad_field() {
        let input = SettingsInput {
            currency: "XYZ".into(),
            time_zone: "Mars/Olympus".into(),
            fiscal_year_start_month: 13,
        };
        let fields: Vec<String> = input
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(fields, ["currency", "time_zone", "fiscal_year_start_month"]);
        let settings = CompanySettings::default();
        assert_eq!(settings.input().validate().unwrap(), settings);
    }

    #[test]
    fn rates_are_exact_plain_decimals() {
        assert_eq!(parse_rate("7.1234").unwrap().to_string(), "7.1234");
        assert_eq!(
            parse_rate("0.0000000001").unwrap().to_string(),
            "0.0000000001"
        );
        assert_eq!(parse_rate("7.10").unwrap().to_string(), "7.1");
        assert_eq!(
            parse_rate("123456789012").unwrap().to_string(),
            "123456789012"
        );
        for bad in [
            "0",
            "0.0",
            "-1",
            "1e3",
            " 1",
            "1.",
            ".5",
            "",
            "1.00000000001",
            "1234567890123",
            "NaN",
        ] {
            assert_eq!(
                parse_rate(bad).unwrap_err().code,
                FieldCode::InvalidRate,
                "{bad}"
            );
        }
        let cny = Currency::parse("CNY").unwrap();
        let input = |currency: &str| FxRateInput {
            currency: currency.into(),
            on: day("2026-06-30"),
            rate: "7.1".into(),
        };
        let today = day("2026-06-30");
        assert!(input("USD").validate(cny, today).is_ok());
        assert_eq!(
            input("CNY").validate(cny, today).unwrap_err()[0].code,
            FieldCode::HomeCurrency
        );
        // Known once the day has come.
        let early = input("USD").validate(cny, day("2026-06-29")).unwrap_err();
        assert_eq!(
            (early[0].field.as_str(), early[0].code),
            ("on", FieldCode::InFuture)
        );
    }
}
