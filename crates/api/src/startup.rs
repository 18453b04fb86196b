//! Start-up: connect and migrate, make sure an admin and a signing secret exist, serve.

use std::net::TcpListener;
use std::time::Duration;

use actix_web::{web, HttpServer};
use credo_core::Role;
use credo_store::versioned::Expected;
use credo_store::{settings, users, DatabaseUrl, Db, PoolOptions, StoreError};
use uuid::Uuid;

use crate::app::{self, RouteTable};
use crate::auth::{hash_password, random_secret, PrincipalCache, TokenKeys};
use crate::delivery::WebhookSettings;
use crate::limits::{Quotas, RateLimits};
use crate::routes::system::SpecJson;
use crate::state::{AppState, CompanyCache, FeedWatch, Hashing};

/// The username of the administrator created on an empty database.
pub const FIRST_ADMIN: &str = "admin";

const JWT_SECRET_SETTING: &str = "jwt_secret";
const API_KEY_PEPPER_SETTING: &str = "api_key_pepper";

/// Everything the server is configured with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: DatabaseUrl,
    /// Applies pending migrations at start.
    pub migrate: bool,
    /// Signing secret for access tokens; when absent, one is generated once and kept in the
    /// database so every instance on it agrees.
    pub jwt_secret: Option<String>,
    /// Password for the `admin` user created on an empty database; generated when absent.
    pub admin_password: Option<String>,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// How long a login lasts, however often its tokens are refreshed.
    pub session_lifetime: Duration,
    /// Browser origins allowed to call the API (CORS), as `scheme://host[:port]`.
    pub cors_origins: Vec<String>,
    pub pool: PoolOptions,
    /// HTTP worker threads (0: one per core).
    pub workers: usize,
    /// How long a request body may take to arrive once its head has: a body that trickles in
    /// slower is answered 408 and its connection freed.
    pub body_timeout: Duration,
    /// Requests a minute per API key, per user, and credit checks.
    pub quotas: Quotas,
    pub webhooks: WebhookSettings,
}

impl Settings {
    pub fn new(database_url: DatabaseUrl) -> Self {
        Self {
            database_url,
            migrate: true,
            jwt_secret: None,
            admin_password: None,
            access_token_ttl: Duration::from_secs(15 * 60),
            refresh_token_ttl: Duration::from_secs(30 * 24 * 3600),
            session_lifetime: Duration::from_secs(30 * 24 * 3600),
            cors_origins: Vec::new(),
            pool: PoolOptions::default(),
            workers: 0,
            body_timeout: Duration::from_secs(30),
            quotas: Quotas::default(),
            webhooks: WebhookSettings::default(),
        }
    }
}

/// What start-up did that the operator must know about.
pub struct Prepared {
    pub state: AppState,
    /// The generated password of a freshly created `admin`, to print once.
    pub generated_admin_password: Option<String>,
}

/// Parses a comma-separated list of browser origins (`https://crm.example.com,
/// http://localhost:5173`): each a scheme (http or https) and a host with an optional port,
/// nothing else. `*` is refused: name the frontends that may call the API.
pub fn parse_origins(text: &str) -> Result<Vec<String>, String> {
    text.split(',')
        .map(str::trim)
        .filter(|o| !o.is_empty())
        .map(|origin| {
            let uri: actix_web::http::Uri = origin
                .parse()
                .map_err(|_| format!("{origin:?} is not an origin"))?;
            let plain = matches!(uri.scheme_str(), Some("http" | "https"))
                && uri.authority().is_some_and(|a| !a.as_str().contains('@'))
                && uri
                    .path_and_query()
                    .is_none_or(|p| p.as_str().is_empty() || p == "/")
                && !origin.ends_with('/');
            if plain {
                Ok(origin.to_owned())
            } else {
                Err(format!(
                    "{origin:?} is not an origin: scheme://host[:port], no path, no trailing slash"
                ))
            }
        })
        .collect()
}

/// Connects, migrates and bootstraps; blocking, so call it before the server starts.
pub fn prepare(settings: &Settings) -> Result<Prepared, StoreError> {
    let db = Db::connect(&settings.database_url, &settings.pool)?;
    if settings.migrate {
        db.migrate()?;
    }
    let generated = db.run(|conn| bootstrap_admin(conn, settings.admin_password.as_deref()))?;
    let secret = match &settings.jwt_secret {
        Some(secret) => secret.clone(),
        None => {
            db.run(|conn| settings::get_or_insert(conn, JWT_SECRET_SETTING, &random_secret()))?
        }
    };
    crate::pagination::set_key(secret.as_bytes());
    let api_key_pepper =
        db.run(|conn| settings::get_or_insert(conn, API_KEY_PEPPER_SETTING, &random_secret()))?;
    Ok(Prepared {
        state: AppState {
            db,
            keys: TokenKeys::new(secret.as_bytes(), settings.access_token_ttl),
            refresh_token_ttl: settings.refresh_token_ttl,
            session_lifetime: settings.session_lifetime,
            body_timeout: settings.body_timeout,
            cors_origins: settings.cors_origins.clone(),
            principals: PrincipalCache::default(),
            company: CompanyCache::default(),
            hashing: Hashing::default(),
            feed: FeedWatch::default(),
            api_key_pepper: api_key_pepper.into_bytes(),
            limits: RateLimits::new(settings.quotas),
            webhooks_allow_private: settings.webhooks.allow_private,
        },
        generated_admin_password: generated,
    })
}

/// Creates `admin` on a database without users; returns the password if it was generated.
fn bootstrap_admin(
    conn: &mut credo_store::DbConnection,
    password: Option<&str>,
) -> Result<Option<String>, StoreError> {
    if users::count(conn)? > 0 {
        if password.is_some() {
            tracing::info!(
                "CREDO_ADMIN_PASSWORD is ignored: the database has users already \
                 (use `credo admin reset-password admin` to set a new one)"
            );
        }
        return Ok(None);
    }
    let (password, generated) = match password {
        Some(p) => (p.to_owned(), false),
        None => (random_secret(), true),
    };
    let outcome = users::create(
        conn,
        &users::NewUser {
            id: Uuid::now_v7(),
            username: FIRST_ADMIN,
            display_name: "Administrator",
            email: None,
            role: Role::Admin,
            sales_unit_id: None,
            password_hash: &hash_password(&password),
        },
    )?;
    // Another instance may have created it first; then its password stands.
    Ok(match outcome {
        users::CreateOutcome::Created(_) if generated => Some(password),
        _ => None,
    })
}

/// Gives `username` a new generated password and ends its sessions; answers the user's name
/// as stored and the password, or `None` when there is no such user. Blocking: for the
/// `credo admin` command.
pub fn reset_password(
    settings: &Settings,
    username: &str,
) -> Result<Option<(String, String)>, StoreError> {
    let db = Db::connect(&settings.database_url, &settings.pool)?;
    if settings.migrate {
        db.migrate()?;
    }
    let username = username.trim().to_ascii_lowercase();
    let password = random_secret();
    let changes = users::UserChanges {
        password_hash: Some(hash_password(&password)),
        ..Default::default()
    };
    db.run(|conn| {
        let Some((user, _)) = users::find_by_username(conn, &username)? else {
            return Ok(None);
        };
        users::update(conn, user.id, &Expected::Any, changes, user.id)?;
        Ok(Some((user.username, password)))
    })
}

/// Serves on `listener` until the process is asked to stop (SIGINT/SIGTERM: graceful).
pub fn serve(
    state: AppState,
    listener: TcpListener,
    workers: usize,
) -> std::io::Result<actix_web::dev::Server> {
    let spec = app::api_spec();
    let routes = web::Data::new(RouteTable::from_spec(&spec));
    let spec = web::Data::new(SpecJson(
        spec.to_pretty_json().expect("the spec serialises"),
    ));
    let workers = match workers {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    };
    // Database work runs on each worker's blocking threads. More of them than pooled
    // connections only queue on the pool and switch contexts: about one thread per
    // connection measured twice the `get` throughput of actix's default (see bench/).
    let blocking_threads = (state.db.max_connections() as usize / workers).max(2);
    let state = web::Data::new(state);
    actix_web::rt::spawn(FeedWatch::watch(state.clone()));
    let server = HttpServer::new(move || app::build(state.clone(), spec.clone(), routes.clone()))
        .workers(workers)
        .worker_max_blocking_threads(blocking_threads)
        .shutdown_timeout(10)
        .listen(listener)?;
    Ok(server.run())
}

#[cfg(test)]
mod tests {
    use super::parse_origins;

    #[test]
    fn origins_are_scheme_host_and_port_only() {
        assert_eq!(
            parse_origins(" https://crm.example.com, http://localhost:5173 ,").unwrap(),
            vec!["https://crm.example.com", "http://localhost:5173"]
        );
        assert_eq!(parse_origins("").unwrap(), Vec::<String>::new());
        for bad in [
            "*",
            "crm.example.com",
            "https://crm.example.com/",
            "https://crm.example.com/app",
            "ftp://crm.example.com",
            "https://user@crm.example.com",
        ] {
            assert!(parse_origins(bad).is_err(), "{bad}");
        }
    }
}
