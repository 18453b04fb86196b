//! User accounts.

use credo_core::audit::AuditAction;
use credo_core::directory::User;
use credo_core::json::FieldChange;
use credo_core::Role;
use diesel::prelude::*;
use uuid::Uuid;

use crate::convert::{from_db_time, parse_id, parse_name, parse_optional_id, to_db_time};
use std::convert::Infallible;

use crate::db::{lock_row, write_transaction, MultiBackend, Outcome};
use crate::keyset::{keyset, Window};
use crate::schema::{customers, leads, tasks, users};
use crate::versioned::{Expected, Updated};
use crate::{audit, now, sessions, DbConnection, StoreError};

/// The account the rules act as (a scheduled dunning run makes tasks as it): made by the
/// migrations, disabled, with no password and a username no one can choose, and left out of
/// everything that reads people's accounts.
pub const RULES_USER: Uuid = Uuid::nil();
const RULES_USER_ID: &str = "00000000-0000-0000-0000-000000000000";

/// The accounts of people: every account but the rules'.
fn people() -> diesel::dsl::Filter<users::table, diesel::dsl::NotEq<users::id, &'static str>> {
    users::table.filter(users::id.ne(RULES_USER_ID))
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = users)]
struct Row {
    id: String,
    username: String,
    display_name: String,
    email: Option<String>,
    role: String,
    sales_unit_id: Option<String>,
    password_hash: String,
    disabled: bool,
    created_at: chrono::NaiveDateTime,
    updated_at: chrono::NaiveDateTime,
    version: i64,
}

impl Row {
    fn into_user(self) -> Result<(User, String), StoreError> {
        let user = User {
            id: parse_id(&self.id)?,
            username: self.username,
            display_name: self.display_name,
            email: self.email,
            role: parse_name(&self.role, Role::parse)?,
            sales_unit_id: parse_optional_id(self.sales_unit_id.as_deref())?,
            disabled: self.disabled,
            created_at: from_db_time(self.created_at),
            updated_at: from_db_time(self.updated_at),
            version: self.version,
        };
        Ok((user, self.password_hash))
    }
}

/// What a new account is made of; the password is already hashed.
pub struct NewUser<'a> {
    pub id: Uuid,
    pub username: &'a str,
    pub display_name: &'a str,
    pub email: Option<&'a str>,
    pub role: Role,
    pub sales_unit_id: Option<Uuid>,
    pub password_hash: &'a str,
}

pub enum CreateOutcome {
    Created(User),
    UsernameTaken,
}

impl Outcome for User {}

impl Outcome for CreateOutcome {
    fn is_refusal(&self) -> bool {
        matches!(self, CreateOutcome::UsernameTaken)
    }
}

pub fn create(conn: &mut DbConnection, new: &NewUser) -> Result<CreateOutcome, StoreError> {
    write_transaction(conn, |conn| {
        if find_by_username(conn, new.username)?.is_some() {
            return Ok(CreateOutcome::UsernameTaken);
        }
        let at = to_db_time(now());
        diesel::insert_into(users::table)
            .values((
                users::id.eq(new.id.to_string()),
                users::username.eq(new.username),
                users::display_name.eq(new.display_name),
                users::email.eq(new.email),
                users::role.eq(new.role.as_str()),
                users::sales_unit_id.eq(new.sales_unit_id.map(|u| u.to_string())),
                users::password_hash.eq(new.password_hash),
                users::disabled.eq(false),
                users::created_at.eq(at),
                users::updated_at.eq(at),
                users::version.eq(1),
            ))
            .execute(conn)?;
        Ok(CreateOutcome::Created(
            get(conn, new.id)?.ok_or(StoreError::NotFound)?,
        ))
    })
}

pub fn get(conn: &mut DbConnection, id: Uuid) -> Result<Option<User>, StoreError> {
    Ok(people()
        .find(id.to_string())
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .map(Row::into_user)
        .transpose()?
        .map(|(user, _)| user))
}

/// The account and its password hash, for a login.
pub fn find_by_username(
    conn: &mut DbConnection,
    username: &str,
) -> Result<Option<(User, String)>, StoreError> {
    people()
        .filter(users::username.eq(username))
        .select(Row::as_select())
        .first(conn)
        .optional()?
        .map(Row::into_user)
        .transpose()
}

pub fn count(conn: &mut DbConnection) -> Result<i64, StoreError> {
    Ok(people().count().get_result(conn)?)
}

/// A page of the accounts, by username.
pub fn list(conn: &mut DbConnection, window: &Window<String>) -> Result<Vec<User>, StoreError> {
    let mut query = people().into_boxed::<MultiBackend>();
    keyset!(
        query,
        users::username,
        users::id,
        window.after.clone(),
        false
    );
    query
        .limit(window.limit)
        .select(Row::as_select())
        .load(conn)?
        .into_iter()
        .map(|row| row.into_user().map(|(user, _)| user))
        .collect()
}

/// Changes to an account; `None` leaves a field as it is.
#[derive(Default)]
pub struct UserChanges {
    pub display_name: Option<String>,
    pub email: Option<Option<String>>,
    pub role: Option<Role>,
    pub sales_unit_id: Option<Option<Uuid>>,
    pub disabled: Option<bool>,
    pub password_hash: Option<String>,
}

/// Applies `changes` (by `actor`) to the account as read under its row lock, if it is still
/// at `expected_version` (when given): a concurrent change is never undone by this one. A new
/// password or disabling the account ends all its sessions (revokes its refresh tokens); a
/// new unit takes the user's customers, leads and tasks along.
pub fn update(
    conn: &mut DbConnection,
    id: Uuid,
    expected: &Expected,
    changes: UserChanges,
    actor: Uuid,
) -> Result<Updated<User, Infallible>, StoreError> {
    write_transaction(conn, |conn| {
        lock_row(conn, "users", id)?;
        let Some((current, hash)) = people()
            .find(id.to_string())
            .select(Row::as_select())
            .first(conn)
            .optional()?
            .map(Row::into_user)
            .transpose()?
        else {
            return Ok(Updated::NotFound);
        };
        if !expected.admits(current.version) {
            return Ok(Updated::Stale(current));
        }
        let ends_sessions = changes.password_hash.is_some() || changes.disabled == Some(true);
        let unit = changes.sales_unit_id.unwrap_or(current.sales_unit_id);
        let written = diesel::update(
            users::table
                .find(id.to_string())
                .filter(users::version.eq(current.version)),
        )
        .set((
            users::display_name.eq(changes.display_name.clone().unwrap_or(current.display_name)),
            users::email.eq(changes.email.clone().unwrap_or(current.email)),
            users::role.eq(changes.role.unwrap_or(current.role).as_str()),
            users::sales_unit_id.eq(unit.map(|u| u.to_string())),
            users::disabled.eq(changes.disabled.unwrap_or(current.disabled)),
            users::password_hash.eq(changes.password_hash.clone().unwrap_or(hash)),
            users::updated_at.eq(to_db_time(now())),
            users::version.eq(current.version + 1),
        ))
        .execute(conn)?;
        if written == 0 {
            return Err(StoreError::Conflict("users.version".into()));
        }
        if ends_sessions {
            sessions::revoke_user(conn, id)?;
        }
        if unit != current.sales_unit_id {
            move_held_records(conn, id, unit, actor)?;
        }
        Ok(Updated::Updated(
            get(conn, id)?.ok_or(StoreError::NotFound)?,
        ))
    })
}

/// Moves the records a user holds into the user's new unit (`to`): the customers and leads
/// they own and the tasks assigned to them, each as a new version with its history entry,
/// so that unit scope keeps following people.
fn move_held_records(
    conn: &mut DbConnection,
    user: Uuid,
    to: Option<Uuid>,
    actor: Uuid,
) -> Result<(), StoreError> {
    let (user, to) = (user.to_string(), to.map(|u| u.to_string()));
    let at = to_db_time(now());
    macro_rules! move_rows {
        ($table:ident, $holder:ident, $entity:expr) => {{
            let held: Vec<(String, Option<String>)> = $table::table
                .filter($table::$holder.eq(&user))
                .select(($table::id, $table::sales_unit_id))
                .load(conn)?;
            for (id, from) in held.into_iter().filter(|(_, from)| *from != to) {
                diesel::update($table::table.find(&id))
                    .set((
                        $table::sales_unit_id.eq(&to),
                        $table::version.eq($table::version + 1),
                        $table::updated_at.eq(at),
                        $table::updated_by.eq(actor.to_string()),
                    ))
                    .execute(conn)?;
                let change = FieldChange {
                    field: "sales_unit_id".into(),
                    old: from.map(serde_json::Value::String),
                    new: to.clone().map(serde_json::Value::String),
                };
                let action = AuditAction::Transferred;
                audit::record(conn, $entity, parse_id(&id)?, action, actor, &[change])?;
            }
        }};
    }
    move_rows!(customers, owner_id, crate::customers::ENTITY);
    move_rows!(leads, owner_id, crate::leads::ENTITY);
    move_rows!(tasks, assignee_id, crate::tasks::ENTITY);
    Ok(())
}

/// Which of `ids` are users that are not disabled.
pub fn active_ids(conn: &mut DbConnection, ids: &[Uuid]) -> Result<Vec<Uuid>, StoreError> {
    let ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
    users::table
        .filter(users::disabled.eq(false))
        .filter(users::id.eq_any(ids))
        .select(users::id)
        .load::<String>(conn)?
        .iter()
        .map(|id| parse_id(id))
        .collect()
}
