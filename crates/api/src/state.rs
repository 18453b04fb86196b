//! What every request shares: the database handle, the token keys and the settings.

use std::time::Duration;

use actix_web::web;
use credo_store::{Db, DbConnection, StoreError};

use crate::auth::{PrincipalCache, TokenKeys};
use crate::error::ApiResult;

pub struct AppState {
    pub db: Db,
    pub keys: TokenKeys,
    pub access_token_ttl: Duration,
    pub refresh_token_ttl: Duration,
    pub principals: PrincipalCache,
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
}
