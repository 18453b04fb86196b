//! The company's own settings: its currency, the time zone whose calendar day is "today"
//! everywhere (default dates of steps, as-of reports, stale lists), the month its fiscal
//! year starts; and the exchange rates of other currencies into its currency.

use chrono::{DateTime, Datelike, NaiveDate, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

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
    /// How far (basis points) a rate may lie from the rate it follows or corrects on one
    /// person's word; beyond it a second rate keeper approves it.
    #[serde(default = "default_fx_band_bp")]
    #[schema(minimum = 0, maximum = 10000, example = 2000)]
    pub fx_band_bp: u32,
}

fn default_fx_band_bp() -> u32 {
    2_000
}

impl Default for CompanySettings {
    /// A Chinese company: yuan, Beijing time, the calendar year, rates within 20 % of the one
    /// before on one person's word.
    fn default() -> Self {
        Self {
            currency: Currency::parse("CNY").expect("ISO 4217"),
            time_zone: TimeZone::parse("Asia/Shanghai").expect("IANA"),
            fiscal_year_start_month: 1,
            fx_band_bp: default_fx_band_bp(),
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
            fx_band_bp: i64::from(self.fx_band_bp),
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
    /// How far (basis points) a rate may move on one person's word (default 2000).
    #[serde(default = "default_fx_band_input")]
    #[schema(minimum = 0, maximum = 10000, example = 2000)]
    pub fx_band_bp: i64,
}

fn default_fx_band_input() -> i64 {
    i64::from(default_fx_band_bp())
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
        let band = u32::try_from(self.fx_band_bp)
            .ok()
            .filter(|bp| *bp <= 10_000);
        if band.is_none() {
            errors.push(FieldError::new(
                "fx_band_bp",
                FieldCode::OutOfRange,
                "a share is 0 to 10000 basis points",
            ));
        }
        errors.finish(|| CompanySettings {
            currency: currency.expect("checked"),
            time_zone: time_zone.expect("checked"),
            fiscal_year_start_month: month.expect("checked"),
            fx_band_bp: band.expect("checked"),
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

crate::string_enum! {
    /// Where a change of a rate stands.
    pub enum FxChangeStatus {
        /// Beyond the band: waits for a second rate keeper.
        Pending = "pending",
        /// In force (at once within the band, or approved).
        Applied = "applied",
        /// Refused by a second rate keeper.
        Rejected = "rejected",
    }
}

/// A change of a day's rate: its first rate or a correction, with who asked and who
/// approved. The applied changes of a day are the history of its rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct FxRateChange {
    pub id: Uuid,
    #[schema(value_type = String, example = "USD")]
    pub currency: Currency,
    pub on: NaiveDate,
    #[schema(value_type = String, example = "7.1234")]
    pub rate: Decimal,
    /// The day's rate it replaces (a correction), else `null`.
    #[schema(value_type = Option<String>, required = true, example = json!(null))]
    pub previous_rate: Option<Decimal>,
    /// Why a correction was made.
    #[schema(required = true, example = json!(null))]
    pub reason: Option<String>,
    /// How far it lies from the rate it follows or corrects, when beyond the band.
    #[schema(required = true, example = json!(null))]
    pub deviation_bp: Option<i64>,
    pub status: FxChangeStatus,
    pub requested_by: Uuid,
    pub requested_at: DateTime<Utc>,
    #[schema(required = true, example = json!(null))]
    pub decided_by: Option<Uuid>,
    #[schema(required = true, example = json!(null))]
    pub decided_at: Option<DateTime<Utc>>,
    #[schema(required = true, example = json!(null))]
    pub decision_note: Option<String>,
}

/// What recording a rate for a day comes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateMove {
    /// The first rate of its day, within the band of the rate before it (or the first
    /// rate of its currency): recorded.
    Record,
    /// The day's rate is this already.
    Unchanged,
    /// Another rate is recorded for the day, and the request does not correct it.
    Conflict,
    /// A correction of the day's rate within the band of it: a new version, the old kept.
    Correct,
    /// Beyond the band of the rate it follows or corrects: a second rate keeper approves it.
    SecondPerson { deviation_bp: i64 },
}

/// How far `rate` lies from `reference`, in basis points of `reference` (rounded up, so a
/// rate a hair beyond the band is beyond it).
pub fn deviation_bp(rate: Decimal, reference: Decimal) -> i64 {
    let share = ((rate - reference).abs() / reference) * Decimal::from(10_000);
    i64::try_from(share.ceil()).unwrap_or(i64::MAX)
}

/// Judges `rate` for its day: `recorded` is the day's rate (if any), `before` the latest
/// rate of an earlier day (if any); `correcting` whether the request corrects the day's rate.
/// A new day's rate is weighed against the one before it, a correction against the rate it
/// corrects; either beyond `band_bp` needs a second person.
pub fn judge_rate(
    rate: &FxRate,
    recorded: Option<&FxRate>,
    before: Option<&FxRate>,
    correcting: bool,
    band_bp: u32,
) -> RateMove {
    let beyond = |reference: &FxRate| {
        let deviation = deviation_bp(rate.rate, reference.rate);
        (deviation > i64::from(band_bp)).then_some(RateMove::SecondPerson {
            deviation_bp: deviation,
        })
    };
    match recorded {
        Some(day) if day.rate == rate.rate => RateMove::Unchanged,
        Some(_) if !correcting => RateMove::Conflict,
        Some(day) => beyond(day).unwrap_or(RateMove::Correct),
        None => before.and_then(beyond).unwrap_or(RateMove::Record),
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

/// A correction of a day's rate as a client posts it: the rate that should have been, and
/// why.
#[derive(Debug, Clone, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FxRateCorrectionInput {
    #[schema(example = "USD", pattern = "^[A-Za-z]{3}$")]
    pub currency: String,
    pub on: NaiveDate,
    /// A decimal string, more than zero, at most 10 digits after the point.
    #[schema(example = "7.1234", pattern = "^[0-9]{1,12}(\\.[0-9]{1,10})?$")]
    pub rate: String,
    #[schema(example = "录入错误: 应为 7.1234", min_length = 1, max_length = 1000)]
    pub reason: String,
}

impl FxRateCorrectionInput {
    /// The corrected rate (as `FxRateInput::validate` rules) and the reason it was corrected.
    pub fn validate(
        &self,
        home: Currency,
        today: NaiveDate,
    ) -> Result<(FxRate, String), Vec<FieldError>> {
        let rate = FxRateInput {
            currency: self.currency.clone(),
            on: self.on,
            rate: self.rate.clone(),
        }
        .validate(home, today);
        let reason = crate::text::required_text(&self.reason, 1000).map_err(|e| e.nested("reason"));
        match (rate, reason) {
            (Ok(rate), Ok(reason)) => Ok((rate, reason)),
            (rate, reason) => Err(rate
                .err()
                .into_iter()
                .flatten()
                .chain(reason.err())
                .collect()),
        }
    }
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
            fx_band_bp: 10_001,
        };
        let fields: Vec<String> = input
            .validate()
            .unwrap_err()
            .into_iter()
            .map(|e| e.field)
            .collect();
        assert_eq!(
            fields,
            [
                "currency",
                "time_zone",
                "fiscal_year_start_month",
                "fx_band_bp"
            ]
        );
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

    fn usd(on: &str, rate: &str) -> FxRate {
        FxRate {
            currency: Currency::parse("USD").unwrap(),
            on: day(on),
            rate: rate.parse().unwrap(),
        }
    }

    #[test]
    fn a_rate_beyond_the_band_of_the_one_it_follows_or_corrects_needs_a_second_person() {
        let before = usd("2026-06-01", "7.00");
        let band = 2_000;
        let judge = |rate: &str, recorded: Option<&FxRate>, correcting| {
            judge_rate(
                &usd("2026-06-02", rate),
                recorded,
                Some(&before),
                correcting,
                band,
            )
        };
        assert_eq!(judge("8.40", None, false), RateMove::Record);
        assert_eq!(
            judge("8.4001", None, false),
            RateMove::SecondPerson { deviation_bp: 2001 }
        );
        assert_eq!(
            judge("0.0000000001", None, false),
            RateMove::SecondPerson {
                deviation_bp: 10_000
            }
        );
        // The first rate of a currency has nothing to lie away from.
        assert_eq!(
            judge_rate(&usd("2026-06-02", "0.0000000001"), None, None, false, band),
            RateMove::Record
        );
        let day = usd("2026-06-02", "7.10");
        assert_eq!(judge("7.10", Some(&day), false), RateMove::Unchanged);
        assert_eq!(judge("7.01", Some(&day), false), RateMove::Conflict);
        assert_eq!(judge("7.01", Some(&day), true), RateMove::Correct);
        assert_eq!(
            judge("71.0", Some(&day), true),
            RateMove::SecondPerson {
                deviation_bp: 90_000
            }
        );
    }

    proptest::proptest! {
        /// A rate within the band never needs a second person; one beyond it always does.
        #[test]
        fn the_band_decides_alone(reference in 1u32..1_000_000, rate in 1u32..1_000_000, band in 0u32..10_001) {
            let before = usd("2026-06-01", &format!("{}", f64::from(reference) / 100.0));
            let new = usd("2026-06-02", &format!("{}", f64::from(rate) / 100.0));
            let move_ = judge_rate(&new, None, Some(&before), false, band);
            let deviation = deviation_bp(new.rate, before.rate);
            proptest::prop_assert_eq!(deviation <= i64::from(band), move_ == RateMove::Record);
        }
    }
}
