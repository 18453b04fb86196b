//! Rate limits per API key and per user, each a quota a minute refilled continuously
//! (GCRA), with a separate budget for the credit check a field app calls before every
//! promise. Answers carry `RateLimit-Policy` and `RateLimit`
//! (draft-ietf-httpapi-ratelimit-headers); a spent quota is 429 with `Retry-After`.
//!
//! Limits are kept per instance, in memory: they guard the service from a runaway script,
//! and a shared counter would cost a database write on every request. Behind a balancer of
//! N instances a caller gets up to N times its quota.

use std::num::NonZeroU32;

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use actix_web::HttpMessage;
use governor::clock::{Clock, DefaultClock};
use governor::middleware::StateInformationMiddleware;
use governor::state::keyed::DefaultKeyedStateStore;
use governor::{Quota, RateLimiter};
use uuid::Uuid;

use crate::error::{ApiError, ErrorCode};

/// Requests a minute each caller may make.
#[derive(Debug, Clone, Copy)]
pub struct Quotas {
    pub per_key: NonZeroU32,
    pub per_user: NonZeroU32,
    /// `POST /credit/check`, counted apart from the rest.
    pub checks: NonZeroU32,
}

impl Default for Quotas {
    fn default() -> Self {
        Self {
            per_key: NonZeroU32::new(600).expect("non-zero"),
            per_user: NonZeroU32::new(6000).expect("non-zero"),
            checks: NonZeroU32::new(3000).expect("non-zero"),
        }
    }
}

/// Who a quota is counted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Caller {
    Key(Uuid),
    User(Uuid),
}

type Limiter =
    RateLimiter<Caller, DefaultKeyedStateStore<Caller>, DefaultClock, StateInformationMiddleware>;

pub struct RateLimits {
    quotas: Quotas,
    keys: Limiter,
    users: Limiter,
    checks: Limiter,
}

impl RateLimits {
    pub fn new(quotas: Quotas) -> Self {
        let limiter = |per_minute| {
            RateLimiter::keyed(Quota::per_minute(per_minute))
                .with_middleware::<StateInformationMiddleware>()
        };
        Self {
            quotas,
            keys: limiter(quotas.per_key),
            users: limiter(quotas.per_user),
            checks: limiter(quotas.checks),
        }
    }

    /// Counts a request of `caller` (a credit check when `check`): where its quota stands,
    /// with how long to wait when it is spent.
    pub fn admit(&self, caller: Caller, check: bool) -> Standing {
        let (limiter, quota, policy) = match (caller, check) {
            (_, true) => (&self.checks, self.quotas.checks, "check"),
            (Caller::Key(_), false) => (&self.keys, self.quotas.per_key, "default"),
            (Caller::User(_), false) => (&self.users, self.quotas.per_user, "default"),
        };
        let quota = quota.get();
        match limiter.check_key(&caller) {
            Ok(snapshot) => {
                let remaining = snapshot.remaining_burst_capacity().min(quota);
                Standing {
                    policy,
                    quota,
                    remaining,
                    // The quota refills evenly over the minute.
                    reset_seconds: u64::from(quota - remaining) * 60 / u64::from(quota),
                    spent: false,
                }
            }
            Err(not_until) => {
                let wait = not_until.wait_time_from(DefaultClock::default().now());
                Standing {
                    policy,
                    quota,
                    remaining: 0,
                    reset_seconds: wait.as_secs() + u64::from(wait.subsec_nanos() > 0),
                    spent: true,
                }
            }
        }
    }
}

const RATE_LIMIT_POLICY: HeaderName = HeaderName::from_static("ratelimit-policy");
const RATE_LIMIT: HeaderName = HeaderName::from_static("ratelimit");

/// Where a caller's quota stands after a request.
#[derive(Debug, Clone, Copy)]
pub struct Standing {
    policy: &'static str,
    quota: u32,
    remaining: u32,
    reset_seconds: u64,
    /// The request was refused: the quota is spent for `reset_seconds`.
    spent: bool,
}

impl Standing {
    /// 429 `rate_limited` with `Retry-After` when the quota was spent.
    pub fn refusal(&self) -> Option<ApiError> {
        self.spent.then(|| {
            ApiError::new(
                ErrorCode::RateLimited,
                format!(
                    "{} requests a minute ({}); retry after {} s",
                    self.quota, self.policy, self.reset_seconds
                ),
            )
            .with_retry_after(self.reset_seconds)
        })
    }

    fn policy_header(&self) -> String {
        format!("\"{}\";q={};w=60", self.policy, self.quota)
    }

    fn header(&self) -> String {
        format!(
            "\"{}\";r={};t={}",
            self.policy, self.remaining, self.reset_seconds
        )
    }
}

/// Adds the standing the caller's authentication recorded to its answer, refusals included.
pub async fn headers(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let mut response = next.call(req).await?;
    let standing = response.request().extensions().get::<Standing>().copied();
    if let Some(standing) = standing {
        let headers = response.headers_mut();
        for (name, value) in [
            (RATE_LIMIT_POLICY, standing.policy_header()),
            (RATE_LIMIT, standing.header()),
        ] {
            if let Ok(value) = HeaderValue::from_str(&value) {
                headers.insert(name, value);
            }
        }
    }
    Ok(response)
}
