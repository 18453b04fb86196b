//! API keys: made and revoked by admins (audited), found by their prefix when a request
//! presents one. Only a keyed hash of the secret is kept.

use chrono::{NaiveDate, NaiveDateTime};
use credo_core::audit::AuditAction;
use credo_core::directory::ApiKey;
use credo_core::json::FieldChange;
use diesel::prelude::*;
use uuid::Uuid;

use crate::convert::{from_db_time, parse_id, parse_optional_id, to_db_time};
use crate::db::{write_transaction, MultiBackend, Outcome};
use crate::keyset::{keyset, Window};
use crate::schema::{api_keys, users};
use crate::{audit, now, DbConnection, StoreError};

pub const ENTITY: &str = "api_key";

impl Outcome for ApiKey {}

#[derive(Queryable, Selectable)]
#[diesel(table_name = api_keys)]
struct Row {
    id: String,
    prefix: String,
    name: String,
    user_id: String,
    expires_on: Option<NaiveDate>,
    last_used_at: Option<NaiveDateTime>,
    revoked_at: Option<NaiveDateTime>,
    revoked_by: Option<String>,
    created_at: NaiveDateTime,
    created_by: String,
}

impl Row {
    fn into_key(self) -> Result<ApiKey, StoreError> {
        Ok(ApiKey {
            id: parse_id(&self.id)?,
            prefix: self.prefix,
            name: self.name,
            user_id: parse_id(&self.user_id)?,
            created_at: from_db_time(self.created_at),
            created_by: parse_id(&self.created_by)?,
            expires_on: self.expires_on,
            last_used_at: self.last_used_at.map(from_db_time),
            revoked_at: self.revoked_at.map(from_db_time),
            revoked_by: parse_optional_id(self.revoked_by.as_deref())?,
        })
    }
}

/// A key to store: its public prefix and the keyed hash of its secret.
pub struct NewKey {
    pub prefix: String,
    pub secret_hash: String,
    pub name: String,
    pub user_id: Uuid,
    pub expires_on: Option<NaiveDate>,
}

pub fn create(conn: &mut DbConnection, new: NewKey, actor: Uuid) -> Result<ApiKey, StoreError> {
    write_transaction(conn, |conn| {
        let id = Uuid::now_v7();
        diesel::insert_into(api_keys::table)
            .values((
                api_keys::id.eq(id.to_string()),
                api_keys::prefix.eq(&new.prefix),
                api_keys::secret_hash.eq(&new.secret_hash),
                api_keys::name.eq(&new.name),
                api_keys::user_id.eq(new.user_id.to_string()),
                api_keys::expires_on.eq(new.expires_on),
                api_keys::created_at.eq(to_db_time(now())),
                api_keys::created_by.eq(actor.to_string()),
            ))
            .execute(conn)?;
        let key = get(conn, id)?.ok_or(StoreError::NotFound)?;
        let created = FieldChange {
            field: "user_id".into(),
            old: None,
            new: Some(serde_json::Value::String(key.user_id.to_string())),
        };
        audit::record(conn, ENTITY, id, AuditAction::Created, actor, &[created])?;
        Ok(key)
    })
}

pub fn get(conn: &mut DbConnection, id: Uuid) -> Result<Option<ApiKey>, StoreError> {
    api_keys::table
        .find(id.to_string())
        .select(Row::as_select())
        .first::<Row>(conn)
        .optional()?
        .map(Row::into_key)
        .transpose()
}

/// Keys, the newest first.
pub fn list(
    conn: &mut DbConnection,
    window: &Window<chrono::DateTime<chrono::Utc>>,
) -> Result<Vec<ApiKey>, StoreError> {
    let mut query = api_keys::table
        .select(Row::as_select())
        .into_boxed::<MultiBackend>();
    keyset!(
        query,
        api_keys::created_at,
        api_keys::id,
        window.after_db_time(),
        true
    );
    query
        .limit(window.limit)
        .load::<Row>(conn)?
        .into_iter()
        .map(Row::into_key)
        .collect()
}

/// Revokes a key (again: no change); `None` for an unknown key.
pub fn revoke(
    conn: &mut DbConnection,
    id: Uuid,
    actor: Uuid,
) -> Result<Option<ApiKey>, StoreError> {
    write_transaction(conn, |conn| {
        let at = to_db_time(now());
        let revoked = diesel::update(
            api_keys::table
                .find(id.to_string())
                .filter(api_keys::revoked_at.is_null()),
        )
        .set((
            api_keys::revoked_at.eq(at),
            api_keys::revoked_by.eq(actor.to_string()),
        ))
        .execute(conn)?;
        if revoked == 1 {
            let change = FieldChange {
                field: "revoked_at".into(),
                old: None,
                new: Some(serde_json::to_value(from_db_time(at))?),
            };
            audit::record(
                conn,
                ENTITY,
                id,
                AuditAction::StatusChanged,
                actor,
                &[change],
            )?;
        }
        get(conn, id)
    })
}

/// A presented key's record, its stored hash, and whether its user is disabled.
pub struct Presented {
    pub key: ApiKey,
    pub secret_hash: String,
    pub user_disabled: bool,
}

/// The key with `prefix`, as a request presenting it needs it checked.
pub fn presented(conn: &mut DbConnection, prefix: &str) -> Result<Option<Presented>, StoreError> {
    api_keys::table
        .inner_join(users::table)
        .filter(api_keys::prefix.eq(prefix))
        .select((Row::as_select(), api_keys::secret_hash, users::disabled))
        .first::<(Row, String, bool)>(conn)
        .optional()?
        .map(|(row, secret_hash, user_disabled)| {
            Ok(Presented {
                key: row.into_key()?,
                secret_hash,
                user_disabled,
            })
        })
        .transpose()
}

/// Notes that a key was used at `minute` (once a minute at most, so a busy script costs a
/// write a minute, not one a request).
pub fn used(conn: &mut DbConnection, id: Uuid, minute: NaiveDateTime) -> Result<(), StoreError> {
    diesel::update(
        api_keys::table.find(id.to_string()).filter(
            api_keys::last_used_at
                .is_null()
                .or(api_keys::last_used_at.lt(minute)),
        ),
    )
    .set(api_keys::last_used_at.eq(minute))
    .execute(conn)?;
    Ok(())
}
