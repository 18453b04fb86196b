//! Date rules shared by every record that says when something happened.

use chrono::NaiveDate;

use crate::{FieldCode, FieldError};

/// A day on which something already happened: today or earlier.
pub fn not_in_future(date: NaiveDate, today: NaiveDate) -> Result<NaiveDate, FieldError> {
    if date > today {
        Err(FieldError::new(
            "",
            FieldCode::InFuture,
            "the date lies in the future",
        ))
    } else {
        Ok(date)
    }
}

/// A day that is not before `earliest` (what it follows, e.g. the order date).
pub fn not_before(
    date: NaiveDate,
    earliest: NaiveDate,
    what: &str,
) -> Result<NaiveDate, FieldError> {
    if date < earliest {
        Err(FieldError::new(
            "",
            FieldCode::BeforeEarlierDate,
            format!("the date lies before {what} ({earliest})"),
        ))
    } else {
        Ok(date)
    }
}
