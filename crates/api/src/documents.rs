//! Reading and replacing a company document (a policy): one shape for every policy, with
//! its version as the ETag and `If-Match` on replacement.

use std::borrow::Cow;

use actix_web::{HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use credo_core::{FieldError, Principal};
use credo_store::settings::{self, Document, Stored};
use serde::Serialize;
use utoipa::openapi::schema::Schema;
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};
use uuid::Uuid;

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
///
/// Company documents are rules that bound approvals (approval limits, the check's
/// tolerance, dunning effects, the grades behind a limit), so they are set by admins only:
/// whoever approves within a rule cannot also set it (docs/API.md, Separation of duties).
pub async fn replace<T, R>(
    state: &AppState,
    req: &HttpRequest,
    caller: &Principal,
    next: T,
    check: fn(&T) -> Result<(), Vec<FieldError>>,
    what: &str,
) -> ApiResult<HttpResponse>
where
    T: Document + Clone + Send + 'static,
    R: Serialize + From<Stored<T>> + HasVersion,
{
    if !caller.is_admin() {
        return Err(ApiError::forbidden(format!(
            "the {what} is set by admins: whoever approves within a rule does not set it"
        )));
    }
    let actor = caller.user_id;
    let expected = extract::if_match(req)?;
    let outcome = state
        .db(move |conn| {
            let next = |_: &T| check(&next).map(|()| next.clone());
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

/// A company document as the API shows it: the document's own fields beside its version
/// and last change, in one flat object.
#[derive(Debug, Serialize)]
pub struct Record<T> {
    #[serde(flatten)]
    pub document: T,
    #[serde(flatten)]
    pub stamp: Stamp,
}

/// A document's version and last change.
#[derive(Debug, Serialize, ToSchema)]
pub struct Stamp {
    /// 0 while the shipped default stands; the ETag is derived from it, and what used the
    /// document (a run, an evaluation) names the version it used.
    #[schema(example = 1)]
    pub version: i64,
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<Uuid>,
}

impl<T> From<Stored<T>> for Record<T> {
    fn from(stored: Stored<T>) -> Self {
        Self {
            document: stored.settings,
            stamp: Stamp {
                version: stored.version,
                updated_at: stored.updated_at,
                updated_by: stored.updated_by,
            },
        }
    }
}

impl<T> HasVersion for Record<T> {
    fn version(&self) -> i64 {
        self.stamp.version
    }
}

/// A document shown as a `Record`: the record's schema name.
pub trait Shown: ToSchema {
    const RECORD: &'static str;
}

/// The schema of a flattened struct's object.
fn object_of<T: ToSchema>() -> utoipa::openapi::schema::Object {
    let RefOr::T(Schema::Object(object)) = T::schema() else {
        unreachable!("{} is derived from a struct", T::name())
    };
    object
}

/// The document's properties and the stamp's in one object. Derived with `flatten`, the
/// schema would be an `allOf` of the document (which admits no other property, as a
/// request body) and the stamp: no response could match it.
impl<T: Shown> PartialSchema for Record<T> {
    fn schema() -> RefOr<Schema> {
        let mut record = object_of::<T>();
        let stamp = object_of::<Stamp>();
        record.additional_properties = None;
        record.properties.extend(stamp.properties);
        record.required.extend(stamp.required);
        record.required.sort();
        record.description = record
            .description
            .map(|text| format!("{text}\n\nWith its version and last change."));
        RefOr::T(Schema::Object(record))
    }
}

impl<T: Shown> ToSchema for Record<T> {
    fn name() -> Cow<'static, str> {
        Cow::Borrowed(T::RECORD)
    }

    fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
        T::schemas(schemas);
    }
}
