//! Conversions between stored columns and domain values.

use chrono::{DateTime, NaiveDateTime, Timelike, Utc};
use uuid::Uuid;

use crate::StoreError;

/// The current time at the precision both backends keep (microseconds).
pub fn now() -> DateTime<Utc> {
    let now = Utc::now();
    now.with_nanosecond(now.nanosecond() / 1_000 * 1_000)
        .expect("fewer nanoseconds is valid")
}

pub fn to_db_time(time: DateTime<Utc>) -> NaiveDateTime {
    time.naive_utc()
}

pub fn from_db_time(time: NaiveDateTime) -> DateTime<Utc> {
    time.and_utc()
}

pub fn parse_id(raw: &str) -> Result<Uuid, StoreError> {
    Uuid::parse_str(raw)
        .map_err(|_| StoreError::Internal(format!("stored id {raw:?} is not a UUID")))
}

pub fn parse_optional_id(raw: Option<&str>) -> Result<Option<Uuid>, StoreError> {
    raw.map(parse_id).transpose()
}

/// Reads a stored enum name back.
pub fn parse_name<T>(raw: &str, parse: fn(&str) -> Option<T>) -> Result<T, StoreError> {
    parse(raw).ok_or_else(|| StoreError::Internal(format!("stored name {raw:?} is unknown")))
}

pub fn parse_optional_name<T>(
    raw: Option<&str>,
    parse: fn(&str) -> Option<T>,
) -> Result<Option<T>, StoreError> {
    raw.map(|r| parse_name(r, parse)).transpose()
}

/// Reads back a stored currency code.
pub fn parse_currency(raw: &str) -> Result<credo_core::Currency, StoreError> {
    credo_core::Currency::parse(raw)
        .map_err(|_| StoreError::Internal(format!("stored currency {raw:?} is invalid")))
}

/// Reads back an optional stored value of a self-validating type (country, USCC, phone ...).
pub fn parse_stored<T>(
    raw: Option<&str>,
    parse: fn(&str) -> Result<T, credo_core::FieldError>,
    what: &str,
) -> Result<Option<T>, StoreError> {
    raw.map(parse)
        .transpose()
        .map_err(|_| StoreError::Internal(format!("stored {what} is invalid")))
}

/// The created/updated stamps and version of a stored record.
pub fn stamps(
    created_at: NaiveDateTime,
    created_by: &str,
    updated_at: NaiveDateTime,
    updated_by: &str,
    version: i64,
) -> Result<credo_customers::Stamps, StoreError> {
    Ok(credo_customers::Stamps {
        created_at: from_db_time(created_at),
        created_by: parse_id(created_by)?,
        updated_at: from_db_time(updated_at),
        updated_by: parse_id(updated_by)?,
        version,
    })
}
