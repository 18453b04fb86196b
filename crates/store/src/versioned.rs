//! The shape of every change to a versioned record, written once: lock the row, read it, let
//! the change judge the record as read under the lock, check the caller's version, and write
//! the new version with its audit entry, or nothing at all.

use credo_core::audit::AuditAction;
use credo_core::json::changes;
use credo_customers::Stamps;
use uuid::Uuid;

use crate::db::{lock_row, write_transaction, Outcome};
use crate::{audit, now, DbConnection, StoreError};

/// A record kept in one row of `TABLE` with a version that every change bumps.
pub(crate) trait Versioned: Clone {
    const TABLE: &'static str;
    /// The entity type its audit entries carry.
    const ENTITY: &'static str;

    fn stamps(&self) -> &Stamps;
    fn stamps_mut(&mut self) -> &mut Stamps;

    /// What the audit trail compares; two versions with equal views are the same record.
    fn audit_view(&self) -> Result<serde_json::Value, StoreError>;

    /// Writes `next` over `current`: its row only where the stored version is still
    /// `current`'s (answering how many rows were written), then what hangs on the row (tags,
    /// lines, the search index).
    fn write(conn: &mut DbConnection, current: &Self, next: &Self) -> Result<usize, StoreError>;

    /// Tells webhook receivers of the change from `current` to `next`, in its transaction
    /// (most records' changes are no event).
    fn tell(_conn: &mut DbConnection, _current: &Self, _next: &Self) -> Result<(), StoreError> {
        Ok(())
    }

    /// Locks record `id` for a change: its row. A record of a customer's money takes its
    /// place in the money's lock order instead (`db::lock_money`).
    fn lock(conn: &mut DbConnection, id: Uuid) -> Result<(), StoreError> {
        lock_row(conn, Self::TABLE, id)
    }
}

/// The versions a change may apply to, as an `If-Match` header names them (RFC 9110):
/// any version, or one of a list; an empty list admits none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expected {
    Any,
    OneOf(Vec<i64>),
}

impl Expected {
    pub fn admits(&self, version: i64) -> bool {
        match self {
            Expected::Any => true,
            Expected::OneOf(versions) => versions.contains(&version),
        }
    }
}

/// The `stamps` accessors of a `Versioned` record whose stamps are its `stamps` field.
macro_rules! stamps_field {
    () => {
        fn stamps(&self) -> &Stamps {
            &self.stamps
        }

        fn stamps_mut(&mut self) -> &mut Stamps {
            &mut self.stamps
        }
    };
}
pub(crate) use stamps_field;

/// How a change to a versioned record ended.
#[derive(Debug)]
pub enum Updated<R, E> {
    /// The record as it is now: the new version, or the unchanged one when the change
    /// changed nothing (no new version, no audit entry).
    Updated(R),
    /// The caller's version is not the current one; here is the current record.
    Stale(R),
    NotFound,
    /// The change was judged wrong; nothing was written.
    Refused(E),
}

impl<R, E> Updated<R, E> {
    /// The same outcome about another form of the record.
    pub fn map<S>(self, f: impl FnOnce(R) -> S) -> Updated<S, E> {
        match self {
            Updated::Updated(record) => Updated::Updated(f(record)),
            Updated::Stale(record) => Updated::Stale(f(record)),
            Updated::NotFound => Updated::NotFound,
            Updated::Refused(refusal) => Updated::Refused(refusal),
        }
    }
}

impl<R, E> Outcome for Updated<R, E> {
    fn is_refusal(&self) -> bool {
        !matches!(self, Updated::Updated(_))
    }
}

/// What a change makes of the record read under the lock: the next version and the action
/// the audit trail records, or a refusal. It may read (and, for its own side rows, write)
/// through the connection; a refusal rolls everything back.
pub(crate) type Judged<R, E> = Result<Result<(R, AuditAction), E>, StoreError>;

/// Applies a change to record `id`. The change is judged before the version is compared, so
/// a request that is wrong in itself is told so whatever version it names.
pub(crate) fn update<R: Versioned, E>(
    conn: &mut DbConnection,
    id: Uuid,
    expected: &Expected,
    actor: Uuid,
    mut load: impl FnMut(&mut DbConnection) -> Result<Option<R>, StoreError>,
    mut judge: impl FnMut(&mut DbConnection, &R) -> Judged<R, E>,
) -> Result<Updated<R, E>, StoreError> {
    write_transaction(conn, |conn| {
        R::lock(conn, id)?;
        let Some(current) = load(conn)? else {
            return Ok(Updated::NotFound);
        };
        let (mut next, action) = match judge(conn, &current)? {
            Ok(judged) => judged,
            Err(refusal) => return Ok(Updated::Refused(refusal)),
        };
        if !expected.admits(current.stamps().version) {
            return Ok(Updated::Stale(current));
        }
        let diff = changes(&current.audit_view()?, &next.audit_view()?);
        if diff.is_empty() {
            return Ok(Updated::Updated(current));
        }
        let stamps = next.stamps_mut();
        stamps.updated_at = now();
        stamps.updated_by = actor;
        stamps.version = current.stamps().version + 1;
        // The version guard turns a writer that slipped past the lock into a conflict.
        if R::write(conn, &current, &next)? == 0 {
            return Err(StoreError::Conflict(format!("{}.version", R::TABLE)));
        }
        audit::record(conn, R::ENTITY, id, action, actor, &diff)?;
        R::tell(conn, &current, &next)?;
        Ok(Updated::Updated(next))
    })
}
