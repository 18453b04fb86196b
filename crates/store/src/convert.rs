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
