//! Reading and replacing a company document (a policy): one shape for every policy, with
//! its version as the ETag and `If-Match` on replacement.

use actix_web::{HttpRequest, HttpResponse};
use credo_core::FieldError;
use credo_store::settings::{self, Document, Stored};
use serde::Serialize;

use crate::error::{ApiError, ApiResult};
use crate::extract;
use crate::reply::{self, Reply};
use crate::state::AppState;

/// The document as `R` shows it, its version as the ETag.
pub async fn read<T, R>(state: &AppState) -> ApiResult<HttpResponse>
where
    T: Document + Send + 'static,
    R: Serialize + From<Stored<T>>,
{
    let stored = state.db(settings::document::<T>).await?;
    let version = stored.version;
    Ok(Reply::ok(&R::from(stored))
        .with_version(version)
        .into_response())
}

/// Replaces the document with `next` if `check` admits it and the client changed the
/// version it names in `If-Match`: 200 with the new one, 412 with the current, 422 naming
/// the faults.
pub async fn replace<T, R>(
    state: &AppState,
    req: &HttpRequest,
    next: T,
    check: fn(&T) -> Result<(), Vec<FieldError>>,
    actor: uuid::Uuid,
    what: &str,
) -> ApiResult<HttpResponse>
where
    T: Document + Send + 'static,
    R: Serialize + From<Stored<T>> + HasVersion,
{
    let expected = extract::if_match(req)?;
    let outcome = state
        .db(move |conn| {
            let next = |_: &T| check(&next).map(|()| next);
            settings::update_document(conn, &expected, next, actor)
        })
        .await?;
    let reply = reply::updated(
        outcome.map(R::from),
        what,
        HasVersion::version,
        ApiError::validation,
    )?;
    Ok(reply.into_response())
}

/// A document's record names its version.
pub trait HasVersion {
    fn version(&self) -> i64;
}
