//! Query filters that take several values: `status=confirmed,shipped` keeps a record whose
//! status is any of them. Declared in the spec as an array with `style: form, explode: false`.

use serde::de::{value::StrDeserializer, DeserializeOwned, Error};
use serde::{Deserialize, Deserializer};

/// At most this many values in one filter: more than any of the enumerations it serves.
const MAX_VALUES: usize = 20;

/// The values of a comma-separated query filter, each parsed as `T`, without repeats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnyOf<T>(Vec<T>);

impl<T> AnyOf<T> {
    pub fn into_vec(self) -> Vec<T> {
        self.0
    }
}

/// The values of an optional filter: empty when absent (nothing filtered out).
pub fn values<T>(filter: Option<AnyOf<T>>) -> Vec<T> {
    filter.map(AnyOf::into_vec).unwrap_or_default()
}

impl<'de, T: DeserializeOwned + PartialEq> Deserialize<'de> for AnyOf<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(deserializer)?;
        let mut values = Vec::new();
        // `status=` is how an empty array is written in this style: no value, no filter.
        if raw.is_empty() {
            return Ok(AnyOf(values));
        }
        for part in raw.split(',') {
            let value = T::deserialize(StrDeserializer::<D::Error>::new(part))
                .map_err(|e| D::Error::custom(format!("`{part}`: {e}")))?;
            if !values.contains(&value) {
                values.push(value);
            }
        }
        if values.len() > MAX_VALUES {
            return Err(D::Error::custom(format!("at most {MAX_VALUES} values")));
        }
        Ok(AnyOf(values))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::de::value::{Error as ValueError, StrDeserializer};

    #[derive(Debug, PartialEq, Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Status {
        Open,
        Done,
    }

    fn parse(raw: &str) -> Result<AnyOf<Status>, ValueError> {
        AnyOf::deserialize(StrDeserializer::<ValueError>::new(raw))
    }

    #[test]
    fn reads_each_value_once() {
        assert_eq!(
            parse("open,done,open").unwrap().into_vec(),
            [Status::Open, Status::Done]
        );
        assert_eq!(parse("done").unwrap().into_vec(), [Status::Done]);
    }

    #[test]
    fn names_the_value_that_does_not_fit() {
        let error = parse("open,shut").unwrap_err().to_string();
        assert!(error.starts_with("`shut`: unknown variant"), "{error}");
        assert!(parse("open,").is_err());
    }

    #[test]
    fn an_empty_list_filters_nothing() {
        assert_eq!(parse("").unwrap().into_vec(), []);
    }
}
