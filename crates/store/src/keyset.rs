//! Keyset pages: a list ordered by one key column and the id, continued after the (key, id)
//! of the last row of the page before, so rows inserted meanwhile cause no gaps or repeats
//! and a deep page costs what the first does (never OFFSET).

use chrono::{DateTime, NaiveDateTime, Utc};
use uuid::Uuid;

use crate::convert::to_db_time;

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

/// Orders a boxed query by `$column` then `$id` (both descending or both ascending) and,
/// given the (key, id) of the last row seen, keeps only the rows after it.
macro_rules! keyset {
    ($query:ident, $column:expr, $id:expr, $after:expr, $descending:expr) => {{
        if let Some((key, id)) = $after {
            let id = id.to_string();
            $query = if $descending {
                $query.filter($column.lt(key.clone()).or($column.eq(key).and($id.lt(id))))
            } else {
                $query.filter($column.gt(key.clone()).or($column.eq(key).and($id.gt(id))))
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
