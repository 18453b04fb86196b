use diesel::result::{DatabaseErrorKind, Error as DieselError};

/// What can go wrong below the API. The API maps each kind to one HTTP status and never
/// shows the inner text to clients (it is logged).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("record not found")]
    NotFound,
    /// The change touches an archived customer's file, which is read-only until restored.
    #[error("the customer is archived")]
    CustomerArchived,
    /// A uniqueness rule caught a concurrent write; the text names the constraint.
    #[error("conflicting write: {0}")]
    Conflict(String),
    /// The database broke a deadlock or a serialization conflict by aborting this write, and
    /// retrying it did not get through either: the client may retry later.
    #[error("write aborted by concurrent writes: {0}")]
    Contention(String),
    /// The database cannot be reached or dropped the connection.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("database error: {0}")]
    Internal(String),
}

impl From<DieselError> for StoreError {
    fn from(error: DieselError) -> Self {
        match error {
            DieselError::NotFound => StoreError::NotFound,
            DieselError::DatabaseError(DatabaseErrorKind::UniqueViolation, info) => {
                StoreError::Conflict(info.constraint_name().unwrap_or(info.message()).to_owned())
            }
            DieselError::DatabaseError(DatabaseErrorKind::ClosedConnection, info) => {
                StoreError::Unavailable(info.message().to_owned())
            }
            DieselError::DatabaseError(DatabaseErrorKind::SerializationFailure, info) => {
                StoreError::Contention(info.message().to_owned())
            }
            // PostgreSQL's 40P01, which diesel has no kind for.
            DieselError::DatabaseError(_, info) if info.message().contains("deadlock detected") => {
                StoreError::Contention(info.message().to_owned())
            }
            // SQLite reports a writer it waited for past busy_timeout as "database is locked".
            DieselError::DatabaseError(_, info)
                if info.message().contains("database is locked") =>
            {
                StoreError::Unavailable(info.message().to_owned())
            }
            other => StoreError::Internal(other.to_string()),
        }
    }
}

impl From<serde_json::Error> for StoreError {
    fn from(error: serde_json::Error) -> Self {
        StoreError::Internal(format!("stored JSON is unreadable: {error}"))
    }
}
