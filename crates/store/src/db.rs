//! Connections: the backend is chosen by the URL scheme, pooled with r2d2, migrated at start.

use std::time::Duration;

use diesel::connection::{SimpleConnection, TransactionManager};
use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};
use diesel_migrations::{embed_migrations, EmbeddedMigrations, MigrationHarness};
use uuid::Uuid;

use crate::StoreError;

/// One connection to either backend; every query in Credo goes through this type.
#[derive(diesel::MultiConnection)]
pub enum DbConnection {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

pub const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/sqlite");
pub const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("../../migrations/postgres");

/// Any number taken for Postgres's advisory lock that serialises migrations of several
/// instances starting at once.
const MIGRATION_LOCK: i64 = 0x4352_4544_4f00;

impl DbConnection {
    pub fn backend(&self) -> Backend {
        match self {
            DbConnection::Postgres(_) => Backend::Postgres,
            DbConnection::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// What a write transaction answers. A refusal is answered like any other outcome, but the
/// transaction is rolled back, so nothing a refused write did before it was refused is kept.
pub trait Outcome {
    /// Whether this answer refuses the write; outcomes that always commit keep the default.
    fn is_refusal(&self) -> bool {
        false
    }
}

impl Outcome for () {}
impl Outcome for bool {}
impl Outcome for String {}
impl Outcome for usize {}
impl<T> Outcome for Vec<T> {}

/// `Err` is a refusal the caller reports (field errors, a rule broken); so is an `Ok` whose
/// answer is itself a refusal.
impl<T: Outcome, E> Outcome for Result<T, E> {
    fn is_refusal(&self) -> bool {
        self.as_ref().map_or(true, Outcome::is_refusal)
    }
}
impl<T: Outcome> Outcome for Option<T> {
    /// `None` is "not found": nothing to keep.
    fn is_refusal(&self) -> bool {
        self.as_ref().is_none_or(Outcome::is_refusal)
    }
}

/// Why a write transaction ends without committing.
enum Abort<T> {
    Refused(T),
    Failed(StoreError),
}

impl<T> From<diesel::result::Error> for Abort<T> {
    fn from(error: diesel::result::Error) -> Self {
        Abort::Failed(error.into())
    }
}

/// How often a write the database aborted to break a deadlock or a serialization conflict
/// is run again before the caller is told to retry later.
const CONTENTION_ATTEMPTS: u32 = 4;

/// Runs `work` in a transaction that is going to write; an outcome that is a refusal rolls
/// it back. On SQLite the write lock is taken first: a deferred transaction that read and
/// then writes fails at once when another writer committed in between
/// (SQLITE_BUSY_SNAPSHOT), where one that starts by writing waits its turn under
/// busy_timeout. A transaction the database aborted for contention (a deadlock, a
/// serialization failure) is run again from the start a few times, since its reads are
/// stale; a nested one leaves that to the outermost, as only a whole transaction can be
/// run again.
pub fn write_transaction<T: Outcome>(
    conn: &mut DbConnection,
    mut work: impl FnMut(&mut DbConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let outermost =
        <DbConnection as Connection>::TransactionManager::transaction_manager_status_mut(conn)
            .transaction_depth()
            .is_ok_and(|depth| depth.is_none());
    let attempts = if outermost { CONTENTION_ATTEMPTS } else { 1 };
    let mut attempt = 1;
    loop {
        match transaction_once(conn, &mut work) {
            Err(StoreError::Contention(cause)) if attempt < attempts => {
                tracing::info!(%cause, attempt, "write aborted for contention; running it again");
                // A short, growing pause with jitter, so that the writers that collided do
                // not meet again at once.
                let jitter = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0, |t| u64::from(t.subsec_micros() % 10));
                let pause = 5 * u64::from(attempt) + jitter;
                std::thread::sleep(Duration::from_millis(pause));
                attempt += 1;
            }
            result => return result,
        }
    }
}

fn transaction_once<T: Outcome>(
    conn: &mut DbConnection,
    work: &mut impl FnMut(&mut DbConnection) -> Result<T, StoreError>,
) -> Result<T, StoreError> {
    let result = conn.transaction(|conn| {
        if let DbConnection::Sqlite(_) = conn {
            // A write that changes nothing, to take the lock before any read.
            conn.batch_execute("DELETE FROM settings WHERE 1 = 0")?;
        }
        match work(conn) {
            Ok(outcome) if outcome.is_refusal() => Err(Abort::Refused(outcome)),
            Ok(outcome) => Ok(outcome),
            Err(error) => Err(Abort::Failed(error)),
        }
    });
    match result {
        Ok(outcome) | Err(Abort::Refused(outcome)) => Ok(outcome),
        Err(Abort::Failed(error)) => Err(error),
    }
}

/// Locks one row of `table` until the transaction ends, so that concurrent writers of a record
/// queue instead of racing. PostgreSQL only: a SQLite write transaction is exclusive already.
pub(crate) fn lock_row(
    conn: &mut DbConnection,
    table: &'static str,
    id: Uuid,
) -> Result<(), StoreError> {
    if let DbConnection::Postgres(conn) = conn {
        diesel::sql_query(format!("SELECT 1 FROM {table} WHERE id = $1 FOR UPDATE"))
            .bind::<diesel::sql_types::Text, _>(id.to_string())
            .execute(conn)?;
    }
    Ok(())
}

/// Locks the rows of `table` with these ids, in id order (as every caller takes them, so
/// that two batches never wait on each other in a circle), until the transaction ends.
/// PostgreSQL only, as `lock_row`.
pub(crate) fn lock_rows(
    conn: &mut DbConnection,
    table: &'static str,
    ids: &[Uuid],
) -> Result<(), StoreError> {
    if let DbConnection::Postgres(conn) = conn {
        let mut ids: Vec<String> = ids.iter().map(Uuid::to_string).collect();
        ids.sort_unstable();
        diesel::sql_query(format!(
            "SELECT 1 FROM {table} WHERE id = ANY($1) ORDER BY id FOR UPDATE"
        ))
        .bind::<diesel::sql_types::Array<diesel::sql_types::Text>, _>(ids)
        .execute(conn)?;
    }
    Ok(())
}

/// The rows of one customer's money that a write is about to change. Every writer of money
/// locks them through `lock_money`, which takes them in the one order declared there; a
/// writer that needs only some of them leaves the others empty.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct MoneyRows<'a> {
    pub customer: Option<Uuid>,
    pub orders: &'a [Uuid],
    pub receivables: &'a [Uuid],
    pub payments: &'a [Uuid],
}

/// Locks a customer's money in the one order every writer takes it: the customer, then its
/// orders, its receivables, its payments, each kind in id order. Two writers of the same
/// money then queue one behind the other, whichever subset each needs, and never wait on
/// each other in a circle (a deadlock). Balances are read after this, under the locks.
/// PostgreSQL only, as `lock_row`.
pub(crate) fn lock_money(conn: &mut DbConnection, rows: MoneyRows<'_>) -> Result<(), StoreError> {
    if let Some(customer) = rows.customer {
        lock_row(conn, "customers", customer)?;
    }
    for (table, ids) in [
        ("orders", rows.orders),
        ("receivables", rows.receivables),
        ("payments", rows.payments),
    ] {
        if !ids.is_empty() {
            lock_rows(conn, table, ids)?;
        }
    }
    Ok(())
}

/// Inserts the slice `$rows` into `$table` in multi-row INSERTs of `$chunk` rows each (under
/// SQLite's 32,766 bound parameters): multi-row inserts do not go through the
/// MultiConnection enum, so there is one arm per backend.
macro_rules! insert_chunks {
    ($conn:expr, $table:expr, $rows:expr, $chunk:expr) => {{
        match $conn {
            $crate::DbConnection::Postgres(pg) => {
                for chunk in $rows.chunks($chunk) {
                    diesel::insert_into($table).values(chunk).execute(pg)?;
                }
            }
            $crate::DbConnection::Sqlite(lite) => {
                for chunk in $rows.chunks($chunk) {
                    diesel::insert_into($table).values(chunk).execute(lite)?;
                }
            }
        }
    }};
}
pub(crate) use insert_chunks;

/// Serializes the transactions that take the same `key` until each ends, for a lock on
/// something that is not a row (a client address). PostgreSQL only, as `lock_row`.
pub(crate) fn lock_key(conn: &mut DbConnection, key: &str) -> Result<(), StoreError> {
    if let DbConnection::Postgres(conn) = conn {
        diesel::sql_query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
            .bind::<diesel::sql_types::Text, _>(key)
            .execute(conn)?;
    }
    Ok(())
}

/// Creates a SQLite database file readable by its owner only (0600) if it does not exist:
/// it holds personal data and password hashes. SQLite gives its -wal and -shm files the
/// database file's permissions.
fn create_private(path: &str) -> Result<(), StoreError> {
    if path == ":memory:" || path.starts_with("file:") {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(StoreError::Unavailable(format!(
            "cannot create {path}: {e}"
        ))),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A database address with its backend made explicit: `sqlite://PATH` or `postgres://...`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    pub backend: Backend,
    /// What the backend's own driver takes: a file path for SQLite, the URL for Postgres.
    target: String,
}

impl DatabaseUrl {
    pub fn parse(url: &str) -> Result<Self, String> {
        if let Some(path) = url.strip_prefix("sqlite://") {
            if path.is_empty() {
                return Err("sqlite:// needs a file path, e.g. sqlite://credo.db".into());
            }
            return Ok(Self {
                backend: Backend::Sqlite,
                target: path.to_owned(),
            });
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self {
                backend: Backend::Postgres,
                target: url.to_owned(),
            });
        }
        Err(format!(
            "unsupported database URL {:?}: use sqlite://PATH or postgres://USER@HOST/DB",
            redact(url)
        ))
    }

    /// The URL as `parse` takes it.
    pub fn url(&self) -> String {
        match self.backend {
            Backend::Sqlite => format!("sqlite://{}", self.target),
            Backend::Postgres => self.target.clone(),
        }
    }

    /// The SQLite file path, if this is SQLite.
    pub fn sqlite_path(&self) -> Option<&str> {
        (self.backend == Backend::Sqlite).then_some(self.target.as_str())
    }
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            match credentials.find(':') {
                Some(colon) => format!(
                    "{}{}:***{}",
                    &url[..scheme_end + 3],
                    &credentials[..colon],
                    &url[at..]
                ),
                None => url.to_owned(),
            }
        }
        _ => url.to_owned(),
    }
}

/// Opens connections of the URL's backend itself (so connection errors stay readable) and
/// sets SQLite's pragmas on each one.
#[derive(Debug, Clone)]
pub struct ConnectionManager {
    url: DatabaseUrl,
}

/// A pooled connection and whether its last use found it unusable (the server went away),
/// so that the pool drops it instead of lending it again.
pub struct Pooled {
    conn: DbConnection,
    broken: bool,
}

impl r2d2::ManageConnection for ConnectionManager {
    type Connection = Pooled;
    type Error = diesel::r2d2::Error;

    fn connect(&self) -> Result<Pooled, Self::Error> {
        self.open().map(|conn| Pooled {
            conn,
            broken: false,
        })
    }

    fn is_valid(&self, pooled: &mut Pooled) -> Result<(), Self::Error> {
        pooled
            .conn
            .batch_execute("SELECT 1")
            .map_err(diesel::r2d2::Error::QueryError)
    }

    fn has_broken(&self, pooled: &mut Pooled) -> bool {
        pooled.broken
    }
}

impl ConnectionManager {
    fn open(&self) -> Result<DbConnection, diesel::r2d2::Error> {
        match self.url.backend {
            Backend::Postgres => PgConnection::establish(&self.url.target)
                .map(DbConnection::Postgres)
                .map_err(diesel::r2d2::Error::ConnectionError),
            Backend::Sqlite => {
                let mut conn = SqliteConnection::establish(&self.url.target)
                    .map_err(diesel::r2d2::Error::ConnectionError)?;
                // WAL lets readers run beside the writer; NORMAL is durable in WAL mode
                // except for the last transactions on power loss, never corrupting. Each
                // connection caches 16 MiB of pages and maps up to 1 GiB of the file (one
                // mapping the OS shares), so a multi-GB database reads from memory rather
                // than through read calls.
                conn.batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; \
                     PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000; \
                     PRAGMA cache_size = -16384; PRAGMA mmap_size = 1073741824;",
                )
                .map_err(diesel::r2d2::Error::QueryError)?;
                Ok(DbConnection::Sqlite(conn))
            }
        }
    }
}

pub type Pool = r2d2::Pool<ConnectionManager>;

/// How the pool is sized and how long a request waits for a connection.
#[derive(Debug, Clone)]
pub struct PoolOptions {
    pub max_connections: u32,
    pub acquire_timeout: Duration,
}

impl Default for PoolOptions {
    fn default() -> Self {
        Self {
            max_connections: 16,
            acquire_timeout: Duration::from_millis(800),
        }
    }
}

/// The shared handle to the database.
#[derive(Clone)]
pub struct Db {
    pool: Pool,
    url: DatabaseUrl,
}

impl Db {
    /// Connects (creating the SQLite file if needed); fails if the database cannot be reached.
    pub fn connect(url: &DatabaseUrl, options: &PoolOptions) -> Result<Self, StoreError> {
        if let Some(path) = url.sqlite_path() {
            create_private(path)?;
        }
        let max = match url.backend {
            // One writer at a time anyway; a few readers beside it.
            Backend::Sqlite => options.max_connections.min(8),
            Backend::Postgres => options.max_connections,
        };
        let pool = r2d2::Pool::builder()
            .max_size(max)
            .min_idle(Some(1))
            // Not tested before each use (a round trip on PostgreSQL): a connection that
            // failed because the server went away is dropped instead (`Pooled`).
            .test_on_check_out(false)
            .connection_timeout(options.acquire_timeout)
            .build(ConnectionManager { url: url.clone() })
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        Ok(Self {
            pool,
            url: url.clone(),
        })
    }

    /// Another pool of `max_connections` to the same database, for work that must never wait
    /// on (or starve) the request pool: the job runner.
    pub fn sibling(&self, max_connections: u32) -> Result<Db, StoreError> {
        let options = PoolOptions {
            max_connections,
            ..PoolOptions::default()
        };
        Db::connect(&self.url, &options)
    }

    /// A handle whose connections are opened on first use, so it can be made while the
    /// database is down; requests then answer 503 until it is back.
    pub fn connect_lazy(url: &DatabaseUrl, options: &PoolOptions) -> Self {
        let pool = r2d2::Pool::builder()
            .max_size(options.max_connections)
            .min_idle(Some(0))
            // Not tested before each use (a round trip on PostgreSQL): a connection that
            // failed because the server went away is dropped instead (`Pooled`).
            .test_on_check_out(false)
            .connection_timeout(options.acquire_timeout)
            .build_unchecked(ConnectionManager { url: url.clone() });
        Self {
            pool,
            url: url.clone(),
        }
    }

    pub fn backend(&self) -> Backend {
        self.url.backend
    }

    /// The most connections the pool opens.
    pub fn max_connections(&self) -> u32 {
        self.pool.max_size()
    }

    /// Runs blocking database work on a pooled connection. Call it off the async workers.
    pub fn run<T>(
        &self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut pooled = self
            .pool
            .get()
            .map_err(|e| StoreError::Unavailable(e.to_string()))?;
        let result = work(&mut pooled.conn);
        if matches!(result, Err(StoreError::Unavailable(_))) {
            pooled.broken = true;
        }
        result
    }

    /// Applies pending migrations; with Postgres under an advisory lock so that several
    /// instances starting together migrate once. Then stored name keys follow the current
    /// rule (`name_keys`).
    pub fn migrate(&self) -> Result<(), StoreError> {
        self.apply_migrations()?;
        let refolded = self.run(crate::name_keys::refold_if_stale)?;
        if refolded > 0 {
            tracing::info!(
                rows = refolded,
                "recomputed name keys under the current rule"
            );
        }
        Ok(())
    }

    fn apply_migrations(&self) -> Result<(), StoreError> {
        self.run(|conn| {
            let result = match conn {
                DbConnection::Sqlite(c) => c.run_pending_migrations(SQLITE_MIGRATIONS).map(drop),
                DbConnection::Postgres(c) => {
                    c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
                    let result = c.run_pending_migrations(POSTGRES_MIGRATIONS).map(drop);
                    c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))?;
                    result
                }
            };
            result.map_err(|e| StoreError::Internal(format!("migration failed: {e}")))
        })
    }

    /// Whether the database answers a trivial query now.
    pub fn ping(&self) -> bool {
        self.run(|conn| conn.batch_execute("SELECT 1").map_err(StoreError::from))
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_need_an_explicit_scheme() {
        assert_eq!(
            DatabaseUrl::parse("sqlite://credo.db")
                .unwrap()
                .sqlite_path(),
            Some("credo.db")
        );
        assert_eq!(
            DatabaseUrl::parse("sqlite:///var/lib/credo.db")
                .unwrap()
                .sqlite_path(),
            Some("/var/lib/credo.db")
        );
        assert_eq!(
            DatabaseUrl::parse("postgres://u@h/db").unwrap().backend,
            Backend::Postgres
        );
        assert_eq!(
            DatabaseUrl::parse("postgresql://u@h/db").unwrap().backend,
            Backend::Postgres
        );
        for bad in ["credo.db", "sqlite://", "mysql://u@h/db", ""] {
            assert!(DatabaseUrl::parse(bad).is_err(), "{bad}");
        }
    }

    /// A refusal wrapped in an `Ok` (a store answer inside a field-error `Result`) rolls
    /// back like an `Err` does.
    #[test]
    fn a_refusal_is_one_at_any_depth() {
        struct Refusal;
        impl Outcome for Refusal {
            fn is_refusal(&self) -> bool {
                true
            }
        }
        assert!(Ok::<_, ()>(Ok::<_, ()>(Refusal)).is_refusal());
        assert!(Ok::<_, ()>(Some(Refusal)).is_refusal());
        assert!(Ok::<_, ()>(None::<()>).is_refusal());
        assert!(Err::<(), _>(()).is_refusal());
        assert!(!Ok::<_, ()>(Ok::<_, ()>(Some(()))).is_refusal());
    }

    #[test]
    fn messages_hide_passwords() {
        let message = DatabaseUrl::parse("mysql://user:secret@host/db").unwrap_err();
        assert!(!message.contains("secret"), "{message}");
        assert!(message.contains("user:***@host"), "{message}");
    }

    #[test]
    fn migration_folders_hold_the_same_names() {
        let names = |dir: &str| {
            let mut names: Vec<String> = std::fs::read_dir(format!(
                "{}/../../migrations/{dir}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
            names.sort();
            names
        };
        assert!(!names("sqlite").is_empty());
        assert_eq!(names("sqlite"), names("postgres"));
    }
}
