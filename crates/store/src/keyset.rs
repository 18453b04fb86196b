//! Keyset pages: a list ordered by one key column and the id, continued after the (key, id)
//! of the last row of the page before, so rows inserted meanwhile cause no gaps or repeats
//! and a deep page costs what the first does (never OFFSET).

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::convert::to_db_time;
use crate::StoreError;

/// Which rows of a list to load: those after `after` in the list's order, at most `limit`.
#[derive(Debug, Clone)]
pub struct Window<K> {
    pub after: Option<(K, Uuid)>,
    pub limit: i64,
}

impl Window<DateTime<Utc>> {
    /// The start as the database stores times.
    pub fn after_db_time(&self) -> Option<(NaiveDateTime, Uuid)> {
        self.after.map(|(at, id)| (to_db_time(at), id))
    }
}

/// The sort column's value at the row a page ended on, for lists a client sorts by columns
/// of different types.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SortKey {
    Text(String),
    Day(NaiveDate),
    Time(NaiveDateTime),
}

impl SortKey {
    pub fn text(self) -> Option<String> {
        match self {
            SortKey::Text(text) => Some(text),
            _ => None,
        }
    }

    pub fn day(self) -> Option<NaiveDate> {
        match self {
            SortKey::Day(day) => Some(day),
            _ => None,
        }
    }

    pub fn time(self) -> Option<NaiveDateTime> {
        match self {
            SortKey::Time(time) => Some(time),
            _ => None,
        }
    }

    /// A record's time as the database stores it, to continue after it.
    pub fn at(time: DateTime<Utc>) -> SortKey {
        SortKey::Time(to_db_time(time))
    }
}

/// How a client sorts a list: by the column `field` names, which way, and where the page
/// before ended.
#[derive(Debug, Clone)]
pub struct Sorting<F> {
    pub field: F,
    pub descending: bool,
    pub after: Option<(SortKey, Uuid)>,
}

impl<F> Sorting<F> {
    /// Where the page before ended, keyed as the sort column reads it (`SortKey::day` ...).
    /// A key of another type cannot come from a signed cursor bound to this sort.
    pub fn after<K>(
        &self,
        read: impl Fn(SortKey) -> Option<K>,
    ) -> Result<Option<(K, Uuid)>, StoreError> {
        self.after
            .clone()
            .map(|(key, id)| {
                read(key).map(|key| (key, id)).ok_or_else(|| {
                    StoreError::Internal("the cursor key does not fit the sort".into())
                })
            })
            .transpose()
    }
}

/// Orders a boxed query by `$column` then `$id` (both descending or both ascending) and,
/// given the (key, id) of the last row seen, keeps only the rows after it. The bound on
/// `$column` alone says nothing new, but it is what lets an index on (column, id) start at
/// the key: planners do not read a range out of the `OR`, and scan from the first row for
/// every page without it.
macro_rules! keyset {
    ($query:ident, $column:expr, $id:expr, $after:expr, $descending:expr) => {{
        if let Some((key, id)) = $after {
            let id = id.to_string();
            $query = if $descending {
                $query
                    .filter($column.le(key.clone()))
                    .filter($column.lt(key.clone()).or($column.eq(key).and($id.lt(id))))
            } else {
                $query
                    .filter($column.ge(key.clone()))
                    .filter($column.gt(key.clone()).or($column.eq(key).and($id.gt(id))))
            };
        }
        $query = if $descending {
            $query.order(($column.desc(), $id.desc()))
        } else {
            $query.order(($column.asc(), $id.asc()))
        };
    }};
}
pub(crate) use keyset;

/// Narrows a boxed query of records that belong to a customer (`$customer_id`) to the
/// customers `$scope` sees; returns an empty list from the enclosing function when the scope
/// sees none. (A macro: a boxed subquery cannot nest in a boxed query of the multi-backend.)
macro_rules! of_visible_customers {
    ($query:ident, $customer_id:expr, $scope:expr) => {{
        use $crate::schema::customers;
        match $scope {
            credo_core::Scope::All => {}
            credo_core::Scope::Unit(None) => return Ok(Vec::new()),
            credo_core::Scope::Unit(Some(unit)) => {
                let ids = customers::table
                    .filter(customers::sales_unit_id.eq(unit.to_string()))
                    .select(customers::id);
                $query = $query.filter($customer_id.eq_any(ids));
            }
            credo_core::Scope::Owner(owner) => {
                let ids = customers::table
                    .filter(customers::owner_id.eq(owner.to_string()))
                    .select(customers::id);
                $query = $query.filter($customer_id.eq_any(ids));
            }
        }
    }};
}
pub(crate) use of_visible_customers;
