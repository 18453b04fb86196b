//! What every request shares: the database handle, the token keys and the settings.

use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::web;
use chrono::NaiveDate;
use credo_store::settings::{self, StoredCompany};
use credo_store::{Db, DbConnection, StoreError};

use crate::auth::{PrincipalCache, TokenKeys};
use crate::error::ApiResult;

pub struct AppState {
    pub db: Db,
    pub keys: TokenKeys,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    /// How long a login lasts, however often its tokens are refreshed.
    pub session_lifetime: Duration,
    /// Browser origins allowed to call the API (CORS); none by default.
    pub cors_origins: Vec<String>,
    pub principals: PrincipalCache,
    pub company: CompanyCache,
    pub hashing: Hashing,
}

/// The password hashing that may run at once. Each argon2 hash holds a blocking thread and
/// 19 MiB for tens of milliseconds: bounded, a flood of logins waits its turn instead of
/// taking every blocking thread from database work and memory from the process.
pub struct Hashing(tokio::sync::Semaphore);

impl Default for Hashing {
    /// Half the cores, at least one.
    fn default() -> Self {
        let cores = std::thread::available_parallelism().map_or(1, usize::from);
        Self(tokio::sync::Semaphore::new((cores / 2).max(1)))
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
            .0
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
