//! `credo`: the server binary. Subcommands: `serve` (the default), `demo`, `openapi`,
//! `admin`.

mod demo;
mod fit;

use std::net::TcpListener;
use std::num::NonZeroU32;
use std::time::Duration;

use anyhow::Context;
use clap::{Args, Parser, Subcommand};
use credo_api::Settings;
use credo_store::{DatabaseUrl, PoolOptions};

#[derive(Parser)]
#[command(
    name = "credo",
    version,
    about = "Customer relationship and credit management API server"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (the default when no command is given).
    Serve(ServeArgs),
    /// Fill the database with realistic demo data.
    Demo(DemoArgs),
    /// Print the OpenAPI document and exit.
    Openapi,
    /// Fit BG/NBD to a customer summary (CSV: frequency, recency, T) and print the fit as
    /// JSON: for comparing with another implementation on the same data (bench/).
    FitBgNbd {
        /// The summary file.
        #[arg(long)]
        summary: std::path::PathBuf,
    },
    /// Operator tasks on the database.
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Give a user a new generated password (printed once) and end all their sessions.
    ResetPassword {
        #[command(flatten)]
        database: DatabaseArgs,
        /// The user's name.
        username: String,
    },
}

#[derive(Args, Clone)]
struct DatabaseArgs {
    /// `sqlite://PATH` or `postgres://USER@HOST/DB`.
    #[arg(long, env = "CREDO_DATABASE_URL", default_value = "sqlite://credo.db")]
    database_url: String,
    /// Do not apply pending migrations at start.
    #[arg(long, env = "CREDO_NO_MIGRATE", value_parser = clap::builder::BoolishValueParser::new())]
    no_migrate: bool,
    /// Database connections per instance.
    #[arg(long, env = "CREDO_POOL_SIZE", default_value_t = 16,
          value_parser = clap::value_parser!(u32).range(1..))]
    pool_size: u32,
    /// Password of the `admin` created on an empty database (generated and printed if unset).
    #[arg(long, env = "CREDO_ADMIN_PASSWORD", hide_env_values = true)]
    admin_password: Option<String>,
}

#[derive(Args, Clone)]
struct ServeArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// Address to listen on.
    #[arg(long, env = "CREDO_BIND", default_value = "127.0.0.1:8080")]
    bind: String,
    /// Secret that signs access tokens (generated once and kept in the database if unset).
    #[arg(long, env = "CREDO_JWT_SECRET", hide_env_values = true)]
    jwt_secret: Option<String>,
    /// Lifetime of access tokens, in seconds.
    #[arg(long, env = "CREDO_ACCESS_TOKEN_TTL", default_value_t = 900,
          value_parser = clap::value_parser!(u64).range(1..))]
    access_token_ttl: u64,
    /// Lifetime of refresh tokens, in seconds.
    #[arg(long, env = "CREDO_REFRESH_TOKEN_TTL", default_value_t = 30 * 24 * 3600,
          value_parser = clap::value_parser!(u64).range(1..))]
    refresh_token_ttl: u64,
    /// How long a login lasts however often it is refreshed, in seconds.
    #[arg(long, env = "CREDO_SESSION_LIFETIME", default_value_t = 30 * 24 * 3600,
          value_parser = clap::value_parser!(u64).range(1..))]
    session_lifetime: u64,
    /// Browser origins allowed to call the API (CORS), comma-separated; none by default.
    #[arg(long, env = "CREDO_CORS_ORIGINS", default_value = "")]
    cors_origins: String,
    /// HTTP worker threads (0: one per core).
    #[arg(long, env = "CREDO_WORKERS", default_value_t = 0)]
    workers: usize,
    /// How long a request body may take to arrive, in seconds (slower is 408).
    #[arg(long, env = "CREDO_BODY_TIMEOUT", default_value_t = 30,
          value_parser = clap::value_parser!(u64).range(1..))]
    body_timeout: u64,
    /// How often the job runner looks for due jobs when idle, in milliseconds.
    #[arg(long, env = "CREDO_JOB_POLL_MS", default_value_t = 1000)]
    job_poll_ms: u64,
    /// Days the change feed keeps superseded changes and deletions; a sync token from before
    /// is answered 410 (the device syncs again from the beginning).
    #[arg(long, env = "CREDO_CHANGES_RETENTION_DAYS", default_value_t = 90,
          value_parser = clap::value_parser!(i64).range(1..=36500))]
    changes_retention_days: i64,
    /// Requests a minute an API key may make (this instance).
    #[arg(long, env = "CREDO_RATE_LIMIT_PER_KEY", default_value_t = NonZeroU32::new(600).unwrap())]
    rate_limit_per_key: NonZeroU32,
    /// Requests a minute a signed-in user may make (this instance).
    #[arg(long, env = "CREDO_RATE_LIMIT_PER_USER", default_value_t = NonZeroU32::new(6000).unwrap())]
    rate_limit_per_user: NonZeroU32,
    /// Credit checks a minute a key or user may make, counted apart (this instance).
    #[arg(long, env = "CREDO_RATE_LIMIT_CHECKS", default_value_t = NonZeroU32::new(3000).unwrap())]
    rate_limit_checks: NonZeroU32,
    /// Webhook receivers may be on loopback and private networks, and over http (tests, a
    /// private deployment); otherwise https to public addresses only.
    #[arg(long, env = "CREDO_WEBHOOKS_ALLOW_PRIVATE", value_parser = clap::builder::BoolishValueParser::new())]
    webhooks_allow_private: bool,
    /// Threads of this instance that send webhooks (0: others on the database send them).
    #[arg(long, env = "CREDO_WEBHOOK_SENDERS", default_value_t = 4)]
    webhook_senders: usize,
    /// How often an idle webhook sender looks for due deliveries, in milliseconds.
    #[arg(long, env = "CREDO_WEBHOOK_POLL_MS", default_value_t = 250,
          value_parser = clap::value_parser!(u64).range(1..))]
    webhook_poll_ms: u64,
    /// Run no background jobs in this instance (others on the database run them).
    #[arg(long, env = "CREDO_NO_JOBS", value_parser = clap::builder::BoolishValueParser::new())]
    no_jobs: bool,
}

#[derive(Args, Clone)]
struct DemoArgs {
    #[command(flatten)]
    database: DatabaseArgs,
    /// How many customers to create.
    #[arg(long, default_value_t = 1000)]
    customers: usize,
    /// About how many orders in all (default: 20 per customer), over two years.
    #[arg(long)]
    orders: Option<usize>,
    /// How many leads (default: one per five customers).
    #[arg(long)]
    leads: Option<usize>,
    /// Seed of the generator: the same seed gives the same data.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Add demo data to a database that has customers already.
    #[arg(long)]
    force: bool,
}

/// A configured secret; an empty variable (as docker compose passes an unset one) counts as unset.
fn configured(value: &Option<String>) -> Option<String> {
    value.clone().filter(|v| !v.is_empty())
}

impl DatabaseArgs {
    fn settings(&self) -> anyhow::Result<Settings> {
        let url = DatabaseUrl::parse(&self.database_url).map_err(anyhow::Error::msg)?;
        let mut settings = Settings::new(url);
        settings.migrate = !self.no_migrate;
        settings.admin_password = configured(&self.admin_password);
        if let Some(password) = &settings.admin_password {
            credo_core::directory::check_password(password, credo_api::startup::FIRST_ADMIN)
                .map_err(|e| anyhow::anyhow!("CREDO_ADMIN_PASSWORD: {}", e.message))?;
        }
        settings.pool = PoolOptions {
            max_connections: self.pool_size,
            ..PoolOptions::default()
        };
        Ok(settings)
    }
}

/// Starts the log; lines are written by a thread of their own, so a request never waits on
/// stdout (a slow pipe or terminal) unless 128k lines are queued. Keep the guard until exit:
/// dropping it flushes what is queued.
#[must_use = "dropping the guard stops the log writer"]
fn init_logging() -> tracing_appender::non_blocking::WorkerGuard {
    let filter = tracing_subscriber::EnvFilter::try_from_env("CREDO_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let (writer, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::stdout());
    // One line per finished request (its span closing) with the request id, route and status;
    // events inside a request carry the same span.
    tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::CLOSE)
        .with_current_span(true)
        .with_span_list(false)
        .with_writer(writer)
        .init();
    guard
}

fn prepare(settings: &Settings) -> anyhow::Result<credo_api::startup::Prepared> {
    let prepared = credo_api::startup::prepare(settings).context("could not open the database")?;
    if let Some(password) = &prepared.generated_admin_password {
        // Printed once, on the console only: the operator must keep it.
        println!("created user `admin` with password: {password}");
    }
    Ok(prepared)
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let mut settings = args.database.settings()?;
    settings.jwt_secret = configured(&args.jwt_secret);
    if settings.jwt_secret.as_ref().is_some_and(|s| s.len() < 32) {
        anyhow::bail!("CREDO_JWT_SECRET must have at least 32 characters");
    }
    settings.access_token_ttl = Duration::from_secs(args.access_token_ttl);
    settings.refresh_token_ttl = Duration::from_secs(args.refresh_token_ttl);
    settings.session_lifetime = Duration::from_secs(args.session_lifetime);
    settings.cors_origins = credo_api::startup::parse_origins(&args.cors_origins)
        .map_err(|e| anyhow::anyhow!("CREDO_CORS_ORIGINS: {e}"))?;
    settings.workers = args.workers;
    settings.body_timeout = Duration::from_secs(args.body_timeout);
    settings.quotas = credo_api::limits::Quotas {
        per_key: args.rate_limit_per_key,
        per_user: args.rate_limit_per_user,
        checks: args.rate_limit_checks,
    };
    settings.webhooks = credo_api::delivery::WebhookSettings {
        allow_private: args.webhooks_allow_private,
        senders: args.webhook_senders,
        poll: Duration::from_millis(args.webhook_poll_ms),
        ..Default::default()
    };
    // The port first: an instance that cannot listen creates no administrator.
    let listener = TcpListener::bind(&args.bind)
        .with_context(|| format!("could not listen on {}", args.bind))?;
    let prepared = prepare(&settings)?;
    if !args.no_jobs {
        let options = credo_api::jobs::RunnerOptions {
            poll: Duration::from_millis(args.job_poll_ms.max(1)),
            changes_retention: chrono::Duration::days(args.changes_retention_days),
            ..Default::default()
        };
        let db = prepared
            .state
            .db
            .sibling(2)
            .context("could not open the job runner's connections")?;
        credo_api::jobs::start(db, options).context("could not start the job runner")?;
    }
    credo_api::delivery::start(&prepared.state.db, &settings.webhooks)
        .context("could not start the webhook senders")?;
    tracing::info!(address = %listener.local_addr()?, "credo listening");
    actix_web::rt::System::new().block_on(async move {
        credo_api::serve(prepared.state, listener, settings.workers)?.await
    })?;
    Ok(())
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Some(Command::Openapi) => {
            println!("{}", credo_api::api_spec().to_pretty_json()?);
            Ok(())
        }
        Some(Command::FitBgNbd { summary }) => fit::run(&summary),
        Some(Command::Demo(args)) => {
            let _log = init_logging();
            let prepared = prepare(&args.database.settings()?)?;
            let amounts = demo::Amounts {
                customers: args.customers,
                orders: args.orders.unwrap_or(args.customers * 20),
                leads: args.leads.unwrap_or(args.customers / 5),
            };
            demo::run(&prepared.state.db, &amounts, args.seed, args.force)
        }
        Some(Command::Serve(args)) => {
            let _log = init_logging();
            serve(args)
        }
        Some(Command::Admin(AdminCommand::ResetPassword { database, username })) => {
            let _log = init_logging();
            let (username, password) =
                credo_api::startup::reset_password(&database.settings()?, &username)
                    .context("could not reset the password")?
                    .with_context(|| format!("there is no user {username:?}"))?;
            // Printed once, on the console only: the operator hands it over.
            println!("new password of `{username}`: {password}");
            Ok(())
        }
        None => {
            let _log = init_logging();
            let Some(Command::Serve(args)) = Cli::parse_from(["credo", "serve"]).command else {
                unreachable!("`serve` parses as the serve command")
            };
            serve(args)
        }
    }
}
