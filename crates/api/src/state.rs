//! What every request shares: the database handle, the token keys and the settings.

use std::num::NonZeroU32;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::web;
use chrono::NaiveDate;
use credo_store::settings::{self, StoredCompany};
use credo_store::{Db, DbConnection, StoreError};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use crate::auth::{PrincipalCache, TokenKeys};
use crate::error::ApiResult;

pub struct AppState {
    pub db: Db,
    pub keys: TokenKeys,
    pub refresh_token_ttl: Duration,
    /// How long a login lasts, however often its tokens are refreshed.
    pub session_lifetime: Duration,
    /// How long a request body may take to arrive.
    pub body_timeout: Duration,
    /// Browser origins allowed to call the API (CORS); none by default.
    pub cors_origins: Vec<String>,
    pub principals: PrincipalCache,
    pub company: CompanyCache,
    pub hashing: Hashing,
    pub feed: FeedWatch,
    /// The key API keys' secrets are hashed under, kept in the database so every instance
    /// agrees.
    pub api_key_pepper: Vec<u8>,
    pub limits: crate::limits::RateLimits,
    /// Webhook receivers may be on loopback and private networks, over http (tests, a
    /// private deployment).
    pub webhooks_allow_private: bool,
}

/// Wakes the change feed's waiting readers when an entry is written, by whichever instance:
/// one watcher per instance looks at the newest entry while anyone waits, instead of every
/// waiting reader asking the database.
pub struct FeedWatch(tokio::sync::watch::Sender<i64>);

impl Default for FeedWatch {
    fn default() -> Self {
        Self(tokio::sync::watch::channel(0).0)
    }
}

/// How often the watcher looks while readers wait.
const FEED_POLL: Duration = Duration::from_millis(100);

impl FeedWatch {
    /// A receiver that changes when a newer entry is seen.
    pub fn subscribe(&self) -> tokio::sync::watch::Receiver<i64> {
        self.0.subscribe()
    }

    /// Watches for new entries as long as the server runs.
    pub async fn watch(state: actix_web::web::Data<AppState>) {
        loop {
            tokio::time::sleep(FEED_POLL).await;
            if state.feed.0.receiver_count() == 0 {
                continue;
            }
            match state.db(credo_store::changes::newest).await {
                Ok(newest) => {
                    state.feed.0.send_if_modified(|seen| {
                        let newer = newest > *seen;
                        *seen = newest.max(*seen);
                        newer
                    });
                }
                Err(error) => tracing::warn!(?error, "the change feed watcher could not read"),
            }
        }
    }
}

/// The password hashing that may run at once. Each argon2 hash holds a blocking thread and
/// 19 MiB for tens of milliseconds: bounded, a flood of logins waits its turn instead of
/// taking every blocking thread from database work and memory from the process. Each client
/// address may also start only so many password checks (a burst, then a steady rate), so
/// one client cannot keep the others waiting.
pub struct Hashing {
    permits: tokio::sync::Semaphore,
    per_client: DefaultKeyedRateLimiter<String>,
}

/// Password checks a client address may start at once, and per second after that: an
/// office behind one address logging in at the start of the day is not held up.
const CLIENT_BURST: NonZeroU32 = NonZeroU32::new(20).unwrap();
const CLIENT_PER_SECOND: NonZeroU32 = NonZeroU32::new(5).unwrap();
/// Client addresses remembered before the idle ones are forgotten.
const CLIENTS_KEPT: usize = 10_000;

impl Default for Hashing {
    /// Half the cores, at least one.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        let quota = Quota::per_second(CLIENT_PER_SECOND).allow_burst(CLIENT_BURST);
        Self {
            permits: tokio::sync::Semaphore::new((cores / 2).max(1)),
            per_client: RateLimiter::keyed(quota),
        }
    }
}

impl Hashing {
    /// Whether `client` may have a password checked now; if not, how long until it may.
    pub fn admit(&self, client: &str) -> Result<(), Duration> {
        if self.per_client.len() > CLIENTS_KEPT {
            self.per_client.retain_recent();
        }
        self.per_client
            .check_key(&client.to_owned())
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

/// How long an instance answers from the company settings it read: a change made through
/// another instance is seen within this time; through this one, at once.
const COMPANY_TTL: Duration = Duration::from_secs(1);

/// The company settings as this instance last read them.
#[derive(Default)]
pub struct CompanyCache(Mutex<Option<(StoredCompany, Instant)>>);

impl CompanyCache {
    fn fresh(&self) -> Option<StoredCompany> {
        let kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        kept.as_ref()
            .filter(|(_, read_at)| read_at.elapsed() < COMPANY_TTL)
            .map(|(company, _)| company.clone())
    }

    pub fn keep(&self, company: StoredCompany) {
        *self.0.lock().unwrap_or_else(|e| e.into_inner()) = Some((company, Instant::now()));
    }
}

impl AppState {
    /// Runs blocking database work on actix's blocking pool, never on an async worker.
    pub async fn db<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut DbConnection) -> Result<T, StoreError> + Send + 'static,
    ) -> ApiResult<T> {
        let db = self.db.clone();
        Ok(web::block(move || db.run(work)).await??)
    }

    /// Runs password hashing (`work`) when the bound allows, off the async workers.
    pub async fn hashing<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> ApiResult<T> {
        let _permit = self
            .hashing
            .permits
            .acquire()
            .await
            .expect("the semaphore is never closed");
        Ok(web::block(work).await?)
    }

    /// The company's settings (read at most once a second per instance).
    pub async fn company(&self) -> ApiResult<StoredCompany> {
        if let Some(company) = self.company.fresh() {
            return Ok(company);
        }
        let company = self.db(settings::company).await?;
        self.company.keep(company.clone());
        Ok(company)
    }

    /// The company's calendar day now: "today" for every default date and rule.
    pub async fn today(&self) -> ApiResult<NaiveDate> {
        Ok(self.company().await?.settings.today(chrono::Utc::now()))
    }
}
