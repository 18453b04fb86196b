//! Sales units.

use credo_core::directory::SalesUnit;
use diesel::prelude::*;
use uuid::Uuid;

use crate::convert::{from_db_time, parse_id, to_db_time};
use crate::db::{lock_row, write_transaction, MultiBackend, Outcome};
use crate::keyset::{keyset, Window};
use crate::schema::sales_units;
use crate::{now, DbConnection, StoreError};

#[derive(Queryable, Selectable)]
#[diesel(table_name = sales_units)]
struct Row {
    id: String,
    code: String,
    name: String,
    active: bool,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
    version: i64,
}

impl TryFrom<Row> for SalesUnit {
    type Error = StoreError;
    fn try_from(row: Row) -> Result<Self, StoreError> {
        Ok(SalesUnit {
            id: parse_id(&row.id)?,
            code: row.code,
            name: row.name,
            active: row.active,
            created_at: from_db_time(row.created_at),
            updated_at: from_db_time(row.updated_at),
            version: row.version,
        })
    }
}

pub enum CreateOutcome {
    Created(SalesUnit),
    CodeTaken,
}

impl Outcome for CreateOutcome {
    fn is_refusal(&self) -> bool {
        matches!(self, CreateOutcome::CodeTaken)
    }
}

impl Outcome for SalesUnit {}

pub fn create(
    conn: &mut DbConnection,
    id: Uuid,
    code: &str,
    name: &str,
) -> Result<CreateOutcome, StoreError> {
    write_transaction(conn, |conn| {
        let taken = sales_units::table
            .filter(sales_units::code.eq(code))
            .count()
            .get_result::<i64>(conn)?
            > 0;
        if taken {
            return Ok(CreateOutcome::CodeTaken);
        }
        let at = to_db_time(now());
        diesel::insert_into(sales_units::table)
            .values((
                sales_units::id.eq(id.to_string()),
                sales_units::code.eq(code),
                sales_units::name.eq(name),
                sales_units::active.eq(true),
                sales_units::created_at.eq(at),
                sales_units::updated_at.eq(at),
                sales_units::version.eq(1),
            ))
            .execute(conn)?;
        get(conn, id)?
            .map(CreateOutcome::Created)
            .ok_or(StoreError::NotFound)
    })
}

pub fn get(conn: &mut DbConnection, id: Uuid) -> Result<Option<SalesUnit>, StoreError> {
    sales_units::table
        .find(id.to_string())
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .map(SalesUnit::try_from)
        .transpose()
}

pub fn find_by_code(conn: &mut DbConnection, code: &str) -> Result<Option<SalesUnit>, StoreError> {
    sales_units::table
        .filter(sales_units::code.eq(code))
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .map(SalesUnit::try_from)
        .transpose()
}

/// A page of the sales units, by code.
pub fn list(
    conn: &mut DbConnection,
    window: &Window<String>,
) -> Result<Vec<SalesUnit>, StoreError> {
    let mut query = sales_units::table.into_boxed::<MultiBackend>();
    keyset!(
        query,
        sales_units::code,
        sales_units::id,
        window.after.clone(),
        false
    );
    query
        .limit(window.limit)
        .select(Row::as_select())
        .load(conn)?
        .into_iter()
        .map(SalesUnit::try_from)
        .collect()
}

/// Renames and/or (de)activates a unit.
pub fn update(
    conn: &mut DbConnection,
    id: Uuid,
    name: Option<&str>,
    active: Option<bool>,
) -> Result<Option<SalesUnit>, StoreError> {
    write_transaction(conn, |conn| {
        lock_row(conn, "sales_units", id)?;
        let Some(current) = get(conn, id)? else {
            return Ok(None);
        };
        diesel::update(sales_units::table.find(id.to_string()))
            .set((
                sales_units::name.eq(name.unwrap_or(&current.name)),
                sales_units::active.eq(active.unwrap_or(current.active)),
                sales_units::updated_at.eq(to_db_time(now())),
                sales_units::version.eq(current.version + 1),
            ))
            .execute(conn)?;
        get(conn, id)
    })
}
