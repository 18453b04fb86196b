//! Who holds an existing record that a new one collides with (a USCC, a lead key, an id), so
//! that an answer names the record to a caller who sees it and only says whom to ask to one
//! who does not.

use diesel::prelude::*;
use uuid::Uuid;

use crate::convert::{parse_id, parse_optional_id};
use crate::schema::{customers, leads, sales_units};
use crate::{DbConnection, StoreError};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub sales_unit_id: Option<Uuid>,
    /// The name of the unit that holds the record: whom to ask.
    pub unit_name: Option<String>,
}

/// Holders are looked up in the transaction that found the collision, so the record exists.
type OwnershipRow = (String, Option<String>);

pub fn of_customer(conn: &mut DbConnection, id: Uuid) -> Result<Holder, StoreError> {
    let row = customers::table
        .find(id.to_string())
        .select((customers::owner_id, customers::sales_unit_id))
        .first::<OwnershipRow>(conn)?;
    holder(conn, id, row)
}

pub fn of_lead(conn: &mut DbConnection, id: Uuid) -> Result<Holder, StoreError> {
    let row = leads::table
        .find(id.to_string())
        .select((leads::owner_id, leads::sales_unit_id))
        .first::<OwnershipRow>(conn)?;
    holder(conn, id, row)
}

fn holder(
    conn: &mut DbConnection,
    id: Uuid,
    (owner, unit): OwnershipRow,
) -> Result<Holder, StoreError> {
    let unit_name = match &unit {
        Some(unit) => sales_units::table
            .find(unit)
            .select(sales_units::name)
            .first::<String>(conn)
            .optional()?,
        None => None,
    };
    Ok(Holder {
        id,
        owner_id: parse_id(&owner)?,
        sales_unit_id: parse_optional_id(unit.as_deref())?,
        unit_name,
    })
}
