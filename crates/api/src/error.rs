//! The error contract: one table of stable codes, each with its HTTP status, answered as
//! RFC 9457 `application/problem+json`. Internal causes are logged, never sent.

use actix_web::http::header::{self, HeaderValue};
use actix_web::http::StatusCode;
use actix_web::{HttpResponse, ResponseError};
use credo_core::{FieldError, Principal};
use credo_store::holder::Holder;
use credo_store::StoreError;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

macro_rules! error_codes {
    ($( $(#[$doc:meta])* $variant:ident = ($status:ident, $code:literal, $title:literal) ),+ $(,)?) => {
        /// Every error Credo answers with. The `code` strings are a stable contract.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum ErrorCode { $( $(#[$doc])* $variant ),+ }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$variant),+];

            pub fn status(self) -> StatusCode {
                match self { $(ErrorCode::$variant => StatusCode::$status),+ }
            }

            pub fn as_str(self) -> &'static str {
                match self { $(ErrorCode::$variant => $code),+ }
            }

            pub fn title(self) -> &'static str {
                match self { $(ErrorCode::$variant => $title),+ }
            }
        }
    };
}

error_codes! {
    MalformedJson = (BAD_REQUEST, "malformed_json", "The body is not valid JSON"),
    InvalidQuery = (BAD_REQUEST, "invalid_query", "The query string is invalid"),
    InvalidPath = (BAD_REQUEST, "invalid_path", "A path parameter is invalid"),
    InvalidHeader = (BAD_REQUEST, "invalid_header", "A request header is invalid"),
    InvalidCursor = (BAD_REQUEST, "invalid_cursor", "The pagination cursor is invalid"),
    Unauthenticated = (UNAUTHORIZED, "unauthenticated", "A valid bearer token is required"),
    InvalidCredentials = (UNAUTHORIZED, "invalid_credentials", "Wrong username or password"),
    InvalidRefreshToken = (UNAUTHORIZED, "invalid_refresh_token", "The refresh token is not valid"),
    Forbidden = (FORBIDDEN, "forbidden", "Your role may not do this"),
    SamePerson = (FORBIDDEN, "same_person", "Someone other than the requester must do this"),
    ApprovalLimitExceeded = (FORBIDDEN, "approval_limit_exceeded", "The amount is above what your role may approve"),
    NotFound = (NOT_FOUND, "not_found", "No such resource"),
    FxRateMissing = (NOT_FOUND, "fx_rate_missing", "No exchange rate is recorded on or before that day"),
    MethodNotAllowed = (METHOD_NOT_ALLOWED, "method_not_allowed", "Method not allowed on this resource"),
    DuplicateCustomer = (CONFLICT, "duplicate_customer", "A customer with this USCC exists"),
    DuplicateLead = (CONFLICT, "duplicate_lead", "The lead's company is a customer, or the lead is known"),
    IdConflict = (CONFLICT, "id_conflict", "A record with this id exists"),
    UsernameTaken = (CONFLICT, "username_taken", "The username is taken"),
    UnitCodeTaken = (CONFLICT, "unit_code_taken", "The sales unit code is taken"),
    CustomerArchived = (CONFLICT, "customer_archived", "The customer is archived; its file is read-only until restored"),
    Conflict = (CONFLICT, "conflict", "Concurrent writes kept aborting this one; retry after Retry-After seconds"),
    ConcurrentUpdate = (CONFLICT, "concurrent_update", "The record changed while this request ran; retry"),
    InvalidTransition = (CONFLICT, "invalid_transition", "The record's status does not allow this step"),
    OrderNotEditable = (CONFLICT, "order_not_editable", "Only quoted orders change their lines and terms"),
    ClaimAlreadyDecided = (CONFLICT, "claim_already_decided", "The claim has been decided"),
    CreditLimitExceeded = (CONFLICT, "credit_limit_exceeded", "The customer's credit does not allow this step"),
    ReferenceConflict = (CONFLICT, "reference_conflict", "Another record of this customer has this reference"),
    ItemSettled = (CONFLICT, "item_settled", "Nothing of the item is open"),
    ExtensionPending = (CONFLICT, "extension_pending", "A request for more time on the item is pending"),
    ExtensionDecided = (CONFLICT, "extension_decided", "The request for more time has been decided"),
    AlreadyDisputed = (CONFLICT, "already_disputed", "The item is in dispute already"),
    NotDisputed = (CONFLICT, "not_disputed", "The item is not in dispute"),
    OverAllocation = (CONFLICT, "over_allocation", "More than the item has open or the payment has unallocated"),
    StatementExists = (CONFLICT, "statement_exists", "The customer has a statement for this period and audit status"),
    FxRateConflict = (CONFLICT, "fx_rate_conflict", "Another rate is recorded for this currency and day"),
    RunInProgress = (CONFLICT, "run_in_progress", "The same run is queued or running: its Location answers"),
    IdempotencyInProgress = (CONFLICT, "idempotency_in_progress", "A request with this Idempotency-Key is still running"),
    SyncTokenExpired = (GONE, "sync_token_expired", "The feed no longer keeps the changes after this point; sync again from the beginning"),
    VersionMismatch = (PRECONDITION_FAILED, "version_mismatch", "The record has changed since you read it"),
    UriTooLong = (URI_TOO_LONG, "uri_too_long", "The request URI exceeds 8 KiB"),
    HeadersTooLarge = (REQUEST_HEADER_FIELDS_TOO_LARGE, "headers_too_large", "The request headers exceed 16 KiB"),
    BodyTimeout = (REQUEST_TIMEOUT, "body_timeout", "The body did not arrive in time"),
    PayloadTooLarge = (PAYLOAD_TOO_LARGE, "payload_too_large", "The body exceeds 1 MiB"),
    UnsupportedMediaType = (UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type", "Send application/json"),
    ValidationFailed = (UNPROCESSABLE_ENTITY, "validation_failed", "Some fields are invalid"),
    WebhookUrlNotAllowed = (UNPROCESSABLE_ENTITY, "webhook_url_not_allowed", "Credo may not call this URL: https, and not a loopback, private, link-local or multicast address"),
    IdempotencyKeyReused = (UNPROCESSABLE_ENTITY, "idempotency_key_reused", "The Idempotency-Key was used with a different request"),
    IfMatchRequired = (PRECONDITION_REQUIRED, "if_match_required", "Send If-Match with the ETag you read"),
    TooManyLoginAttempts = (TOO_MANY_REQUESTS, "too_many_login_attempts", "Too many failed logins; wait and retry"),
    RateLimited = (TOO_MANY_REQUESTS, "rate_limited", "Your quota of requests is spent; retry after Retry-After seconds"),
    TooManyRuns = (TOO_MANY_REQUESTS, "too_many_runs", "Enough runs wait already; retry after Retry-After seconds"),
    TooManyPasswordChecks = (TOO_MANY_REQUESTS, "too_many_password_checks", "Too many password checks from this address; wait and retry"),
    DatabaseUnavailable = (SERVICE_UNAVAILABLE, "database_unavailable", "The database cannot be reached; retry later"),
    Internal = (INTERNAL_SERVER_ERROR, "internal_error", "Internal error"),
}

/// The RFC 9457 problem document every error is answered with.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// `urn:credo:problem:` followed by `code`.
    #[schema(example = "urn:credo:problem:validation_failed")]
    #[serde(rename = "type")]
    pub kind: String,
    #[schema(example = "Some fields are invalid")]
    pub title: String,
    #[schema(example = 422)]
    pub status: u16,
    #[schema(example = "uscc: the check character does not match GB 32100-2015")]
    pub detail: String,
    /// Stable machine-readable error code.
    #[schema(example = "validation_failed")]
    pub code: String,
    /// The offending fields, on validation errors.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub errors: Vec<FieldError>,
    /// On `duplicate_customer`, `duplicate_lead` and `id_conflict`: the id of the existing
    /// record, when it is in your data scope.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub existing_id: Option<uuid::Uuid>,
    /// On the same conflicts with a record outside your data scope: the name of the sales
    /// unit that holds it, whom to ask.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "深圳办事处")]
    pub owning_unit: Option<String>,
    /// On `version_mismatch`: the record as it is now, so a client can merge. Declared on each
    /// 412 answer with the record's own schema instead of here, so typed clients read it typed.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(ignore)]
    pub current: Option<Value>,
    /// On `credit_limit_exceeded`: the check that blocked the step, with its reasons.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credit_check: Option<credo_credit::check::StepCheck>,
    /// The request's id, as in its `X-Request-Id` answer header: quote it when reporting.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(example = "0193a5c2-7d4e-7b1a-9c3f-2f6d8e1a4b5c")]
    pub request_id: Option<String>,
}

/// What a caller may learn of an existing record: its id when the caller sees it; else only
/// the name of the unit that holds it, whom to ask.
pub fn disclose(caller: &Principal, holder: Holder) -> (Option<uuid::Uuid>, Option<String>) {
    if caller.can_see(holder.owner_id, holder.sales_unit_id) {
        (Some(holder.id), None)
    } else {
        (None, holder.unit_name)
    }
}

/// An error on its way to becoming a problem response.
#[derive(Debug)]
pub struct ApiError {
    pub code: ErrorCode,
    pub detail: String,
    pub errors: Vec<FieldError>,
    /// What only some errors carry; boxed to keep `Result<_, ApiError>` small.
    extra: Option<Box<Extra>>,
}

#[derive(Debug, Default)]
struct Extra {
    existing_id: Option<uuid::Uuid>,
    owning_unit: Option<String>,
    /// The current record and its ETag, for `version_mismatch`.
    current: Option<(Value, String)>,
    retry_after_seconds: Option<u64>,
    /// Where the record a conflict is about lives, for `run_in_progress`.
    location: Option<String>,
    allow: Option<String>,
    credit_check: Option<credo_credit::check::StepCheck>,
}

impl ApiError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
            errors: Vec::new(),
            extra: None,
        }
    }

    fn extra(&mut self) -> &mut Extra {
        self.extra.get_or_insert_with(Default::default)
    }

    pub fn with_errors(mut self, errors: Vec<FieldError>) -> Self {
        self.errors = errors;
        self
    }

    /// Names the existing record a conflict is about (the caller sees it).
    pub fn with_existing_id(mut self, id: uuid::Uuid) -> Self {
        self.extra().existing_id = Some(id);
        self
    }

    /// Tells of the existing record a conflict is about: its id to a caller who sees it; to
    /// one who does not, only that it exists and which unit holds it.
    pub fn about(mut self, caller: &Principal, holder: Holder) -> Self {
        let (existing_id, owning_unit) = disclose(caller, holder);
        let extra = self.extra();
        extra.existing_id = existing_id;
        extra.owning_unit = owning_unit;
        self
    }

    /// Carries the record as it is now, and its ETag, so a client can merge.
    pub fn with_current(mut self, record: Value, etag: String) -> Self {
        self.extra().current = Some((record, etag));
        self
    }

    /// Points at the record the conflict is about (`Location`).
    pub fn with_location(mut self, location: String) -> Self {
        self.extra().location = Some(location);
        self
    }

    pub fn with_retry_after(mut self, seconds: u64) -> Self {
        self.extra().retry_after_seconds = Some(seconds);
        self
    }

    /// Carries the credit check that blocked a step.
    pub fn with_credit_check(mut self, check: credo_credit::check::StepCheck) -> Self {
        self.extra().credit_check = Some(check);
        self
    }

    /// The credit check that blocked a step, on `credit_limit_exceeded`.
    pub fn blocking_check(&self) -> Option<&credo_credit::check::StepCheck> {
        self.extra.as_ref()?.credit_check.as_ref()
    }

    pub fn with_allow(mut self, allow: String) -> Self {
        self.extra().allow = Some(allow);
        self
    }

    pub fn not_found() -> Self {
        Self::new(
            ErrorCode::NotFound,
            "no such resource, or it is outside your data scope",
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Forbidden, detail)
    }

    pub fn unauthenticated(detail: impl Into<String>) -> Self {
        Self::new(ErrorCode::Unauthenticated, detail)
    }

    pub fn validation(errors: Vec<FieldError>) -> Self {
        let detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        Self::new(ErrorCode::ValidationFailed, detail).with_errors(errors)
    }

    pub fn field(field: &str, code: credo_core::FieldCode, message: &str) -> Self {
        Self::validation(vec![FieldError::new(field, code, message)])
    }

    pub fn problem(&self) -> Problem {
        Problem {
            kind: format!("urn:credo:problem:{}", self.code.as_str()),
            title: self.code.title().to_owned(),
            status: self.code.status().as_u16(),
            detail: self.detail.clone(),
            code: self.code.as_str().to_owned(),
            errors: self.errors.clone(),
            existing_id: self.extra.as_ref().and_then(|e| e.existing_id),
            owning_unit: self.extra.as_ref().and_then(|e| e.owning_unit.clone()),
            current: self
                .extra
                .as_ref()
                .and_then(|e| e.current.as_ref())
                .map(|(value, _)| value.clone()),
            credit_check: self.extra.as_ref().and_then(|e| e.credit_check.clone()),
            request_id: crate::request_id::current(),
        }
    }
}

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.code.as_str(), self.detail)
    }
}

pub const PROBLEM_JSON: &str = "application/problem+json";

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        self.code.status()
    }

    fn error_response(&self) -> HttpResponse {
        let mut response = HttpResponse::build(self.code.status());
        response.content_type(PROBLEM_JSON);
        if let Some(extra) = &self.extra {
            if let Some(seconds) = extra.retry_after_seconds {
                response.insert_header((header::RETRY_AFTER, seconds.to_string()));
            }
            if let Some(allow) = &extra.allow {
                response.insert_header((header::ALLOW, allow.clone()));
            }
            if let Some(location) = &extra.location {
                response.insert_header((header::LOCATION, location.clone()));
            }
            if let Some((_, etag)) = &extra.current {
                if let Ok(value) = HeaderValue::from_str(etag) {
                    response.insert_header((header::ETAG, value));
                }
            }
        }
        if self.code == ErrorCode::Unauthenticated || self.code == ErrorCode::InvalidRefreshToken {
            response.insert_header((header::WWW_AUTHENTICATE, "Bearer"));
        }
        response.json(self.problem())
    }
}

impl From<StoreError> for ApiError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::NotFound => ApiError::not_found(),
            StoreError::CustomerArchived => ApiError::new(
                ErrorCode::CustomerArchived,
                "the customer is archived; restore it before changing its file",
            ),
            StoreError::Conflict(what) => {
                tracing::info!(constraint = %what, "write lost a race");
                ApiError::new(
                    ErrorCode::ConcurrentUpdate,
                    "a concurrent request changed the same data; retry",
                )
            }
            StoreError::Contention(cause) => {
                tracing::warn!(%cause, "write aborted for contention after retries");
                ApiError::new(
                    ErrorCode::Conflict,
                    "concurrent writes kept aborting this one; retry after a moment",
                )
                .with_retry_after(1)
            }
            StoreError::Unavailable(cause) => {
                tracing::warn!(%cause, "database unavailable");
                ApiError::new(
                    ErrorCode::DatabaseUnavailable,
                    "the database cannot be reached; retry later",
                )
            }
            StoreError::Internal(cause) => {
                tracing::error!(%cause, "database error");
                ApiError::new(ErrorCode::Internal, "internal error; it has been logged")
            }
        }
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(_: actix_web::error::BlockingError) -> Self {
        tracing::error!("blocking task was cancelled");
        ApiError::new(ErrorCode::Internal, "internal error; it has been logged")
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_snake_case_and_errors_are_4xx_or_5xx() {
        let mut seen = std::collections::HashSet::new();
        for code in ErrorCode::ALL {
            assert!(seen.insert(code.as_str()), "{} twice", code.as_str());
            assert!(code
                .as_str()
                .chars()
                .all(|c| c.is_ascii_lowercase() || c == '_'));
            assert!(code.status().is_client_error() || code.status().is_server_error());
        }
    }
}
