//! Request parsing that answers problem+json: JSON bodies with the path of a bad field,
//! query strings that reject unknown parameters, path ids, and the conditional and
//! idempotency headers.

use credo_core::FieldCode;
use std::future::Future;
use std::pin::Pin;

use actix_web::body::EitherBody;
use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use serde::de::DeserializeOwned;
use serde_json::Value;

use credo_core::FieldError;
use credo_store::versioned::Expected;

use crate::error::{ApiError, ErrorCode};
use crate::state::AppState;

/// Largest accepted body.
pub const BODY_LIMIT: usize = 1 << 20;

/// A JSON body: 400 when it is not JSON, 413 when it is too large, 415 for another media type,
/// 422 with the field's path when it does not have the expected shape.
pub struct Body<T> {
    pub value: T,
    /// The body as parsed, for idempotency fingerprints and merge patches.
    pub raw: Value,
}

fn is_json(req: &HttpRequest) -> bool {
    let Some(content_type) = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// Parses a JSON value into `T`, reporting where it does not fit.
pub fn from_value<T: DeserializeOwned>(raw: Value) -> Result<T, ApiError> {
    credo_core::json::parse(raw).map_err(ApiError::validation)
}

impl<T: DeserializeOwned + 'static> FromRequest for Body<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        read_body(req, payload, false)
    }
}

/// A body whose fields are all optional, so it may be left out: an empty body reads as `{}`
/// (`POST /orders/{id}/confirm`). A body that is sent follows `Body`'s rules.
pub struct OptionalBody<T>(pub Body<T>);

impl<T: DeserializeOwned + 'static> FromRequest for OptionalBody<T> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let body = read_body(req, payload, true);
        Box::pin(async move { body.await.map(OptionalBody) })
    }
}

fn read_body<T: DeserializeOwned + 'static>(
    req: &HttpRequest,
    payload: &mut actix_web::dev::Payload,
    optional: bool,
) -> Pin<Box<dyn Future<Output = Result<Body<T>, ApiError>>>> {
    {
        let json = is_json(req);
        let limit = req
            .app_data::<web::Data<AppState>>()
            .map(|state| state.body_timeout)
            .expect("the app is built with its state");
        let bytes = web::Bytes::from_request(req, payload);
        Box::pin(async move {
            let Ok(bytes) = actix_web::rt::time::timeout(limit, bytes).await else {
                return Err(ApiError::new(
                    ErrorCode::BodyTimeout,
                    format!("the body did not arrive within {} seconds", limit.as_secs()),
                ));
            };
            let bytes = bytes.map_err(|error| {
                if error.as_response_error().status_code()
                    == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE
                {
                    ApiError::new(ErrorCode::PayloadTooLarge, "the body exceeds 1 MiB")
                } else {
                    ApiError::new(ErrorCode::MalformedJson, "the body could not be read")
                }
            })?;
            // An empty optional body is absent, whatever Content-Type a client still sends.
            let bytes = if optional && bytes.is_empty() {
                web::Bytes::from_static(b"{}")
            } else if json {
                bytes
            } else {
                return Err(ApiError::new(
                    ErrorCode::UnsupportedMediaType,
                    "send the body as application/json",
                ));
            };
            let raw: Value = serde_json::from_slice(&bytes).map_err(|e| {
                ApiError::new(
                    ErrorCode::MalformedJson,
                    format!("the body is not valid JSON: {e}"),
                )
            })?;
            // Every Credo body is an object; serde alone would also read a struct from an array.
            if !raw.is_object() {
                return Err(ApiError::field(
                    "",
                    FieldCode::InvalidType,
                    "the body must be a JSON object",
                ));
            }
            if let Some(error) = screen(&raw, String::new()) {
                return Err(ApiError::validation(vec![error]));
            }
            let value = from_value(raw.clone())?;
            Ok(Body { value, raw })
        })
    }
}

/// The days a date may name: every date derived from one (a due day, a line's end, a
/// schedule) then stays within what both databases store alike.
const FIRST_DAY: chrono::NaiveDate = chrono::NaiveDate::from_ymd_opt(1800, 1, 1).unwrap();
const LAST_DAY: chrono::NaiveDate = chrono::NaiveDate::from_ymd_opt(2999, 12, 31).unwrap();

/// Why a text value cannot be taken whatever field it is for, or `None`: a NUL character
/// (no database stores one in text); a date chrono would read but not written `YYYY-MM-DD`
/// (`2026-1-1`, a signed or five-digit year); a date or time outside 1800-01-01 to
/// 2999-12-31.
fn unstorable(text: &str) -> Option<(FieldCode, &'static str)> {
    if text.contains('\0') {
        return Some((
            FieldCode::ControlCharacter,
            "text may not hold NUL characters",
        ));
    }
    let day = text.parse::<chrono::NaiveDate>().ok().or_else(|| {
        text.parse::<chrono::DateTime<chrono::Utc>>()
            .ok()
            .map(|t| t.date_naive())
    })?;
    let strict = |date: &str| {
        date.len() == 10
            && date.bytes().enumerate().all(|(at, b)| {
                if at == 4 || at == 7 {
                    b == b'-'
                } else {
                    b.is_ascii_digit()
                }
            })
    };
    if !(FIRST_DAY..=LAST_DAY).contains(&day) {
        return Some((
            FieldCode::OutOfRange,
            "dates are from 1800-01-01 to 2999-12-31",
        ));
    }
    (!strict(text.get(..10).unwrap_or(text)))
        .then_some((FieldCode::InvalidValue, "dates are written YYYY-MM-DD"))
}

/// The first value of a body (or member name) that cannot be taken, with its path.
fn screen(value: &Value, path: String) -> Option<FieldError> {
    let refuse = |path: String, (code, message): (FieldCode, &str)| {
        Some(FieldError::new(path, code, message))
    };
    match value {
        Value::String(text) => unstorable(text).and_then(|why| refuse(path, why)),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(at, item)| screen(item, format!("{path}[{at}]"))),
        Value::Object(members) => members.iter().find_map(|(name, item)| {
            let here = if path.is_empty() {
                name.clone()
            } else {
                format!("{path}.{name}")
            };
            match unstorable(name) {
                Some(why) => refuse(here, why),
                None => screen(item, here),
            }
        }),
        _ => None,
    }
}

/// The longest request URI (path and query) taken, and the most header bytes (names and
/// values): no client of this API needs more, and every byte is parsed and logged.
const URI_MAX: usize = 8 * 1024;
const HEADERS_MAX: usize = 16 * 1024;

/// Refuses an over-long URI (414) or header section (431) before anything reads them.
pub async fn screen_head(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<
    actix_web::dev::ServiceResponse<EitherBody<impl actix_web::body::MessageBody>>,
    actix_web::Error,
> {
    let uri = req.uri().path_and_query().map_or(0, |p| p.as_str().len());
    let headers: usize = req
        .headers()
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    let refusal = if uri > URI_MAX {
        Some(ApiError::new(
            ErrorCode::UriTooLong,
            format!("the URI has {uri} bytes; at most {URI_MAX} are taken"),
        ))
    } else if headers > HEADERS_MAX {
        Some(ApiError::new(
            ErrorCode::HeadersTooLarge,
            format!("the headers have {headers} bytes; at most {HEADERS_MAX} are taken"),
        ))
    } else {
        None
    };
    match refusal {
        Some(error) => Ok(req.error_response(error).map_into_right_body()),
        None => Ok(next.call(req).await?.map_into_left_body()),
    }
}

/// Refuses a query string with a parameter the operation does not take (by the spec, so
/// every endpoint refuses alike) or a value that cannot be taken (see `unstorable`) before
/// any handler reads it. The refusal is an answer, not an error, so that the middleware
/// around it (the request id) sees it like any other.
pub async fn screen_query(
    req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> Result<
    actix_web::dev::ServiceResponse<EitherBody<impl actix_web::body::MessageBody>>,
    actix_web::Error,
> {
    if let Ok(pairs) = web::Query::<Vec<(String, String)>>::from_query(req.query_string()) {
        let known = req
            .app_data::<web::Data<crate::app::RouteTable>>()
            .and_then(|routes| routes.query_parameters(req.path(), req.method()));
        for (name, value) in pairs.iter() {
            if known.is_some_and(|known| !known.contains(name)) {
                let error = invalid_query(
                    name,
                    FieldError::new(
                        "",
                        FieldCode::UnknownParameter,
                        "this operation has no such parameter",
                    ),
                );
                return Ok(req.error_response(error).map_into_right_body());
            }
            if let Some((code, message)) = unstorable(value).or_else(|| unstorable(name)) {
                let error = invalid_query(name, FieldError::new("", code, message));
                return Ok(req.error_response(error).map_into_right_body());
            }
        }
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// 400 `invalid_query` naming the query parameter `field` and what is wrong with it.
pub fn invalid_query(field: &str, error: FieldError) -> ApiError {
    ApiError::new(
        ErrorCode::InvalidQuery,
        format!("{field}: {}", error.message),
    )
    .with_errors(vec![error.nested(field)])
}

/// An optional query parameter checked by `parse`: 400 `invalid_query` naming it when its
/// value does not parse.
pub fn parsed_query<T>(
    name: &str,
    value: Option<&str>,
    parse: impl Fn(&str) -> Result<T, FieldError>,
) -> Result<Option<T>, ApiError> {
    value
        .map(parse)
        .transpose()
        .map_err(|error| invalid_query(name, error))
}

/// A query string read as `T`: 400 `invalid_query` naming the parameter whose value does
/// not fit. (Unknown parameters were refused by `screen_query`.)
pub struct Query<T>(pub T);

impl<T> Query<T> {
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> std::ops::Deref for Query<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T: DeserializeOwned> FromRequest for Query<T> {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(parse_query(req.query_string()).map(Query))
    }
}

pub(crate) fn parse_query<T: DeserializeOwned>(query: &str) -> Result<T, ApiError> {
    let pairs = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
    serde_path_to_error::deserialize(pairs).map_err(|error| {
        let name = error.path().to_string();
        let message = error.into_inner().to_string();
        let (field, code) = match message.split('`').nth(1) {
            // A missing or unknown parameter is named in the message; the path is the query.
            Some(named) if message.starts_with("missing field") => {
                (named.to_owned(), FieldCode::Required)
            }
            Some(named) if message.starts_with("unknown field") => {
                (named.to_owned(), FieldCode::UnknownParameter)
            }
            _ => (name, FieldCode::InvalidValue),
        };
        invalid_query(&field, FieldError::new("", code, message))
    })
}

/// Answers path parameters that do not parse (an id that is not a UUID) with 400... unless
/// the route could not exist anyway, which the router answers with 404 before this.
pub fn path_error(error: actix_web::error::PathError, req: &HttpRequest) -> actix_web::Error {
    // `PATCH /leads/funnel` lands on `PATCH /leads/{id}`: the path names a route that does
    // not take this method, which is 405, not a bad id.
    let routes = req.app_data::<web::Data<crate::app::RouteTable>>();
    match routes.and_then(|routes| routes.method_not_allowed(req)) {
        Some(not_allowed) => not_allowed.into(),
        None => ApiError::new(ErrorCode::InvalidPath, format!("{error}")).into(),
    }
}

/// The versions `If-Match` admits (RFC 9110 13.1.1): `*` admits any; a list of entity tags
/// admits the versions of its strong tags that this server issued (a weak tag never matches,
/// a well-formed tag of another server matches nothing: 412 for the caller to decide). 428
/// when missing, 400 when it is not a list of entity tags.
pub fn if_match(req: &HttpRequest) -> Result<Expected, ApiError> {
    let Some(value) = req.headers().get(header::IF_MATCH) else {
        return Err(ApiError::new(
            ErrorCode::IfMatchRequired,
            "send If-Match with the ETag of the record you changed",
        ));
    };
    let malformed = || {
        ApiError::new(
            ErrorCode::InvalidHeader,
            "If-Match is `*` or a list of entity tags such as \"3\"",
        )
    };
    let value = value.to_str().map_err(|_| malformed())?.trim();
    if value == "*" {
        return Ok(Expected::Any);
    }
    let mut versions = Vec::new();
    for tag in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        let (weak, opaque) = match tag.strip_prefix("W/") {
            Some(rest) => (true, rest),
            None => (false, tag),
        };
        let inner = opaque
            .strip_prefix('"')
            .and_then(|t| t.strip_suffix('"'))
            .filter(|t| t.bytes().all(|b| b == 0x21 || (0x23..=0x7e).contains(&b)))
            .ok_or_else(malformed)?;
        if let (false, Ok(version)) = (weak, inner.parse::<i64>()) {
            versions.push(version);
        }
    }
    if value.split(',').all(|t| t.trim().is_empty()) {
        return Err(malformed());
    }
    Ok(Expected::OneOf(versions))
}

/// `If-Match` where it is optional: checked when sent, any version when absent.
pub fn optional_if_match(req: &HttpRequest) -> Result<Expected, ApiError> {
    match if_match(req) {
        Err(error) if error.code == ErrorCode::IfMatchRequired => Ok(Expected::Any),
        other => other,
    }
}

/// The `Idempotency-Key` header: 1 to 255 visible ASCII characters, or absent.
pub fn idempotency_key(req: &HttpRequest) -> Result<Option<String>, ApiError> {
    let Some(value) = req.headers().get("Idempotency-Key") else {
        return Ok(None);
    };
    match value.to_str() {
        Ok(key) if (1..=255).contains(&key.len()) && key.bytes().all(|b| b.is_ascii_graphic()) => {
            Ok(Some(key.to_owned()))
        }
        _ => Err(ApiError::new(
            ErrorCode::InvalidHeader,
            "Idempotency-Key has 1 to 255 visible ASCII characters",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_match_follows_rfc_9110() {
        let admits = |value: &str| {
            let req = actix_web::test::TestRequest::default()
                .insert_header((header::IF_MATCH, value))
                .to_http_request();
            if_match(&req).map_err(|e| e.code)
        };
        assert_eq!(admits("*"), Ok(Expected::Any));
        assert_eq!(admits("\"3\""), Ok(Expected::OneOf(vec![3])));
        assert_eq!(admits("\"1\", \"3\""), Ok(Expected::OneOf(vec![1, 3])));
        // A weak tag never matches under the strong comparison; another server's tag neither.
        assert_eq!(admits("W/\"3\""), Ok(Expected::OneOf(vec![])));
        assert_eq!(
            admits("\"x7\", W/\"2\", \"5\""),
            Ok(Expected::OneOf(vec![5]))
        );
        for malformed in ["3", "\"3", "W/3", "\"a\"b\"", ",", "\"3\" x"] {
            assert_eq!(
                admits(malformed),
                Err(ErrorCode::InvalidHeader),
                "{malformed}"
            );
        }
        let missing = actix_web::test::TestRequest::default().to_http_request();
        assert_eq!(
            if_match(&missing).unwrap_err().code,
            ErrorCode::IfMatchRequired
        );
        assert_eq!(optional_if_match(&missing).unwrap(), Expected::Any);
    }

    #[test]
    fn unstorable_values_are_found_where_they_are() {
        let field = |value: Value| screen(&value, String::new()).map(|e| (e.field, e.code));
        let body = serde_json::json!({"a": [{"b": "ok"}, {"c": "x\u{0}y"}]});
        assert_eq!(
            field(body),
            Some(("a[1].c".into(), FieldCode::ControlCharacter))
        );
        let key = serde_json::json!({"k\u{0}": 1});
        assert_eq!(field(key).unwrap().0, "k\u{0}");
        for far in [
            "0000-01-01",
            "1799-12-31",
            "3000-01-01",
            "9999-12-31",
            "9999-12-31T23:59:59Z",
            "-5000-01-01",
            "+10000-01-01",
        ] {
            let found = field(serde_json::json!({ "on": far }));
            assert_eq!(found, Some(("on".into(), FieldCode::OutOfRange)), "{far}");
        }
        for loose in ["2026-1-1", "2026-01-1", "+2026-01-01"] {
            let found = field(serde_json::json!({ "on": loose }));
            assert_eq!(
                found,
                Some(("on".into(), FieldCode::InvalidValue)),
                "{loose}"
            );
        }
        for fine in [
            "2026-01-01",
            "1800-01-01",
            "2999-12-31",
            "2026-06-30T08:00:00Z",
            "-5 degrees",
            "+86 755 1234",
            "010-1234-5678",
            "12345-x",
        ] {
            assert_eq!(field(serde_json::json!({ "on": fine })), None, "{fine}");
        }
    }
}
