//! The request id: taken from `X-Request-Id` when a proxy sets a sane one, generated
//! otherwise; sent back on every answer, named in every problem body and in the request's
//! log line, so that a client's report can be found in the log.
//!
//! Also the request's log line: one at INFO when the request ends, with its route and
//! status; a 4xx names its problem code and detail, never a record (a 412 carries the
//! current record, which may hold personal data); only a 5xx logs its error in full.

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage};
use tracing::field::Empty;
use tracing::Span;
use tracing_actix_web::RootSpanBuilder;
use uuid::Uuid;

pub const HEADER: HeaderName = HeaderName::from_static("x-request-id");
const LONGEST: usize = 128;

tokio::task_local! {
    static CURRENT: String;
}

/// The id of the request being answered, kept in its extensions.
#[derive(Clone)]
struct RequestId(String);

/// The id of the request this task answers, if it answers one.
pub fn current() -> Option<String> {
    CURRENT.try_with(Clone::clone).ok()
}

/// An id a client or proxy may choose: short, and safe to copy into headers and logs.
fn acceptable(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= LONGEST
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.:/+=".contains(&b))
}

/// Gives the request its id and every answer the header. Inner middleware answers its
/// refusals as responses (an `Err` would be turned into one outside, without the header).
pub async fn assign(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let id = req
        .headers()
        .get(HEADER)
        .and_then(|v| v.to_str().ok())
        .filter(|v| acceptable(v))
        .map_or_else(|| Uuid::now_v7().to_string(), str::to_owned);
    req.extensions_mut().insert(RequestId(id.clone()));
    let header = HeaderValue::from_str(&id).expect("an acceptable id is a header value");
    CURRENT
        .scope(id, async move {
            let mut response = next.call(req).await?;
            response.headers_mut().insert(HEADER, header);
            Ok(response)
        })
        .await
}

/// The request's span: its log line when it closes.
pub struct RequestSpan;

impl RootSpanBuilder for RequestSpan {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let id = request
            .extensions()
            .get::<RequestId>()
            .map(|r| r.0.clone())
            .unwrap_or_default();
        let route = request.match_pattern().unwrap_or_default();
        tracing::info_span!(
            "request",
            request_id = %id,
            method = %request.method(),
            route = %route,
            target = %request.uri().path(),
            status = Empty,
            problem = Empty,
            error = Empty,
        )
    }

    fn on_request_end<B: MessageBody>(span: Span, outcome: &Result<ServiceResponse<B>, Error>) {
        let (status, error) = match outcome {
            Ok(response) => (response.status(), response.response().error()),
            Err(error) => (error.as_response_error().status_code(), Some(error)),
        };
        span.record("status", status.as_u16());
        if let Some(error) = error {
            if status.is_server_error() {
                span.record("error", tracing::field::debug(error));
            } else {
                span.record("problem", tracing::field::display(error));
            }
        }
    }
}
