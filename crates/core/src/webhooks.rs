//! Webhooks (Standard Webhooks 1.0): which events there are and who subscribes to them, how a
//! message is signed, when a failed delivery is tried again, and which receiver addresses a
//! server may call.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine;
use chrono::{DateTime, Duration, Utc};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::{FieldCode, FieldError, FieldErrors};

macro_rules! event_types {
    ($( $(#[$doc:meta])* $variant:ident = $text:literal ),+ $(,)?) => {
        /// What happened: the `type` of an event.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum EventType {
            $( $(#[$doc])* #[serde(rename = $text)] $variant ),+
        }

        // By hand: the derive does not see a `rename` passed through this macro, and would
        // document the variants' Rust names.
        impl utoipa::PartialSchema for EventType {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::schema::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .description(Some("What happened: the `type` of an event."))
                    .enum_values(Some(EventType::ALL.iter().map(|t| t.as_str())))
                    .into()
            }
        }

        impl ToSchema for EventType {}

        impl EventType {
            pub const ALL: &'static [EventType] = &[$(EventType::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $(EventType::$variant => $text),+ }
            }

            pub fn parse(raw: &str) -> Option<Self> {
                match raw { $($text => Some(EventType::$variant),)+ _ => None }
            }
        }
    };
}

event_types! {
    CustomerCreated = "customer.created",
    CustomerUpdated = "customer.updated",
    CustomerArchived = "customer.archived",
    CustomerTransferred = "customer.transferred",
    /// A segmentation run or an override gave the customer another grade.
    CustomerGradeChanged = "customer.grade_changed",
    OrderCreated = "order.created",
    OrderConfirmed = "order.confirmed",
    OrderShipped = "order.shipped",
    OrderInvoiced = "order.invoiced",
    OrderPaid = "order.paid",
    OrderCancelled = "order.cancelled",
    /// A credit check answered `block`.
    CreditCheckBlocked = "credit.check_blocked",
    CreditLineGranted = "credit.line_granted",
    CreditLineRevoked = "credit.line_revoked",
    /// A credit alert (a warning-list entry or a check's alert) was raised.
    CreditAlertRaised = "credit.alert_raised",
    ReceivableCreated = "receivable.created",
    ReceivableSettled = "receivable.settled",
    PaymentReceived = "payment.received",
    DunningLevelReached = "dunning.level_reached",
    WarningListListed = "warning_list.listed",
    WarningListLifted = "warning_list.lifted",
    TaskCreated = "task.created",
    /// Sent on request, to try an endpoint.
    WebhookTest = "webhook.test",
}

impl std::fmt::Display for EventType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

crate::string_enum! {
    /// Where a delivery is: waiting for its next attempt, being sent, or done.
    pub enum DeliveryStatus {
        Pending = "pending",
        Sending = "sending",
        Delivered = "delivered",
        Failed = "failed",
    }
}

/// One attempt as the delivery log keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct AttemptRecord {
    pub at: DateTime<Utc>,
    /// The answer's status; none when no answer came.
    #[schema(example = 200)]
    pub status_code: Option<i64>,
    #[schema(example = 42)]
    pub duration_ms: i64,
    /// The first KiB of the answer.
    pub response: Option<String>,
    /// What went wrong when no answer came (timeout, refused connection, address refused).
    pub error: Option<String>,
}

/// A delivery as the delivery log shows it.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct Delivery {
    pub id: Uuid,
    /// The event's id: the `webhook-id` header of every attempt.
    #[schema(example = "msg_0193a5c27d4e7b1a9c3f2f6d8e1a4b5c")]
    pub event_id: String,
    pub event_type: EventType,
    pub status: DeliveryStatus,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub finished_at: Option<DateTime<Utc>>,
    /// Each attempt, the first first.
    pub attempts: Vec<AttemptRecord>,
}

/// Subscribes to every event type.
pub const ALL_EVENTS: &str = "*";

/// How many event types an endpoint may name.
const EVENT_TYPES_MAX: usize = 64;

/// The event types an endpoint asks for, checked: each a known type or `*`, at least one,
/// each once (in the order first given).
pub fn check_event_types(types: &[String]) -> Result<Vec<String>, FieldError> {
    if types.is_empty() {
        return Err(FieldError::new(
            "event_types",
            FieldCode::Required,
            "name at least one event type, or \"*\" for all",
        ));
    }
    if types.len() > EVENT_TYPES_MAX {
        return Err(FieldError::new(
            "event_types",
            FieldCode::TooMany,
            format!("at most {EVENT_TYPES_MAX} event types"),
        ));
    }
    let mut kept: Vec<String> = Vec::with_capacity(types.len());
    for (at, name) in types.iter().enumerate() {
        if name != ALL_EVENTS && EventType::parse(name).is_none() {
            return Err(FieldError::new(
                format!("event_types[{at}]"),
                FieldCode::InvalidValue,
                format!("{name:?} is no event type"),
            ));
        }
        if !kept.contains(name) {
            kept.push(name.clone());
        }
    }
    Ok(kept)
}

/// Whether an endpoint asking for `types` gets `event`. A test message goes wherever it is
/// sent, whatever the endpoint asks for.
pub fn subscribes(types: &[String], event: EventType) -> bool {
    event == EventType::WebhookTest
        || types
            .iter()
            .any(|name| name == ALL_EVENTS || name == event.as_str())
}

/// The prefix of a signing secret as Standard Webhooks writes it.
const SECRET_PREFIX: &str = "whsec_";

/// An endpoint's signing secret: 32 random bytes, written `whsec_` + base64.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(..)")
    }
}

impl Secret {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes.to_vec())
    }

    /// Reads a secret as `encode` wrote it.
    pub fn parse(text: &str) -> Option<Self> {
        let encoded = text.strip_prefix(SECRET_PREFIX)?;
        let bytes = BASE64.decode(encoded).ok()?;
        (!bytes.is_empty()).then_some(Self(bytes))
    }

    pub fn encode(&self) -> String {
        format!("{SECRET_PREFIX}{}", BASE64.encode(&self.0))
    }

    /// `v1,` and the base64 HMAC-SHA256 of `{id}.{timestamp}.{body}` under this secret.
    pub fn sign(&self, id: &str, timestamp: i64, body: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(&self.0).expect("HMAC takes any key");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(body.as_bytes());
        format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
    }
}

/// The `webhook-signature` header: a signature by each secret in force, space-separated (the
/// new one first, and the one it replaced while that still signs).
pub fn signature_header(secrets: &[&Secret], id: &str, timestamp: i64, body: &str) -> String {
    secrets
        .iter()
        .map(|secret| secret.sign(id, timestamp, body))
        .collect::<Vec<_>>()
        .join(" ")
}

/// How long a rotated-out secret keeps signing beside its successor, so receivers can
/// switch without losing a message.
pub fn rotation_overlap() -> Duration {
    Duration::hours(24)
}

/// The waits before the retries of a failed delivery: after the first attempt fails, the
/// second comes about 5 s later, and so on; after the last, the delivery has failed.
const RETRY_SCHEDULE_SECONDS: [i64; 7] =
    [5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600];

/// Attempts a delivery gets in all.
pub const MAX_ATTEMPTS: u32 = RETRY_SCHEDULE_SECONDS.len() as u32 + 1;

/// A receiver's `Retry-After` is followed up to this long; beyond it, the schedule's wait.
fn longest_retry_after() -> Duration {
    Duration::hours(10)
}

/// How long an endpoint may fail every delivery before it is disabled.
pub fn failing_limit() -> Duration {
    Duration::days(5)
}

/// What one attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// A 2xx answer.
    Delivered,
    /// 410 Gone: the receiver wants no more.
    Gone,
    /// Any other answer, a timeout, a refused connection, or an address refused.
    Failed {
        /// The receiver's `Retry-After` (on 429 and 503), already read as a wait.
        retry_after: Option<Duration>,
    },
}

/// What follows an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    Delivered,
    /// Try again at this time.
    RetryAt(DateTime<Utc>),
    /// No more attempts.
    Failed,
    /// No more attempts, and the endpoint is disabled (the receiver answered 410).
    Disable,
}

/// What follows the `attempts`-th attempt (1 for the first) of a delivery, made at `now`.
/// `jitter` in [-1, 1] spreads retries by up to a tenth of their wait, so receivers that
/// fail together are not all retried in the same second.
pub fn after_attempt(attempts: u32, attempt: Attempt, now: DateTime<Utc>, jitter: f64) -> Next {
    match attempt {
        Attempt::Delivered => Next::Delivered,
        Attempt::Gone => Next::Disable,
        Attempt::Failed { .. } if attempts >= MAX_ATTEMPTS => Next::Failed,
        Attempt::Failed { retry_after } => {
            let index = usize::try_from(attempts.max(1) - 1).unwrap_or(usize::MAX);
            let scheduled = RETRY_SCHEDULE_SECONDS
                .get(index)
                .copied()
                .unwrap_or(RETRY_SCHEDULE_SECONDS[RETRY_SCHEDULE_SECONDS.len() - 1]);
            let wait = match retry_after {
                // The receiver knows when it can take more: at least a second, at most ten hours.
                Some(wait) if wait <= longest_retry_after() => wait.max(Duration::seconds(1)),
                _ => {
                    let spread = (scheduled as f64 * 0.1 * jitter.clamp(-1.0, 1.0)).round();
                    Duration::seconds(scheduled + spread as i64)
                }
            };
            Next::RetryAt(now + wait)
        }
    }
}

/// Reads a `Retry-After` header: seconds, or an HTTP date.
pub fn parse_retry_after(value: &str, now: DateTime<Utc>) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u32>() {
        return Some(Duration::seconds(i64::from(seconds)));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((at - now).max(Duration::zero()))
}

/// Whether an endpoint failing every delivery since `failing_since` is disabled at `now`.
pub fn failed_too_long(failing_since: Option<DateTime<Utc>>, now: DateTime<Utc>) -> bool {
    failing_since.is_some_and(|since| now - since >= failing_limit())
}

/// Why an endpoint was disabled by its deliveries.
pub const GONE_REASON: &str = "the receiver answered 410 Gone";
pub const FAILING_REASON: &str = "every delivery failed for 5 days";

/// Whether a server may call a receiver at `address`: not loopback, private, link-local,
/// multicast, unspecified, broadcast, shared (carrier-grade NAT) or documentation space,
/// in IPv4 or IPv6 (an IPv4 address written as IPv6 is judged as IPv4).
pub fn address_allowed(address: IpAddr) -> bool {
    match address {
        IpAddr::V4(v4) => v4_allowed(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4_allowed(v4),
            None => v6_allowed(v6),
        },
    }
}

fn v4_allowed(ip: Ipv4Addr) -> bool {
    let [a, b, ..] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || a >= 240
        // 100.64.0.0/10, shared address space
        || (a == 100 && (64..128).contains(&b))
        // 198.18.0.0/15, benchmarking
        || (a == 198 && (18..20).contains(&b)))
}

fn v6_allowed(ip: Ipv6Addr) -> bool {
    let first = ip.segments()[0];
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        // fc00::/7, unique local
        || (first & 0xfe00) == 0xfc00
        // fe80::/10, link-local
        || (first & 0xffc0) == 0xfe80
        // 2001:db8::/32, documentation
        || (first == 0x2001 && ip.segments()[1] == 0x0db8)
        // 64:ff9b::/96 and IPv4-compatible forms reach IPv4 hosts: judged as such elsewhere
        || ip.to_ipv4().is_some_and(|v4| !v4_allowed(v4)))
}

/// A receiver URL that passed the rules that need no name lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceiverUrl {
    pub url: String,
    /// The host to look up, when it is a name (an address is checked already).
    pub host_name: Option<String>,
    pub port: u16,
}

/// The longest receiver URL.
const URL_MAX: usize = 2000;

/// Checks a receiver URL: absolute http(s) without credentials; https unless `allow_private`;
/// a literal address must be one a server may call (see `address_allowed`) unless
/// `allow_private`. A name is looked up by the caller, and each address it resolves to is
/// judged the same way, at registration and again at every delivery.
pub fn check_url(raw: &str, allow_private: bool) -> Result<ReceiverUrl, FieldError> {
    let refuse = |message: &str| FieldError::new("url", FieldCode::NotAllowed, message);
    if raw.len() > URL_MAX {
        return Err(FieldError::new(
            "url",
            FieldCode::TooLong,
            format!("at most {URL_MAX} characters"),
        ));
    }
    let url = url::Url::parse(raw)
        .map_err(|_| FieldError::new("url", FieldCode::InvalidValue, "not an absolute URL"))?;
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        "http" => return Err(refuse("receivers are called over https")),
        _ => return Err(refuse("receivers are called over https")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(refuse("a receiver URL carries no credentials"));
    }
    let port = url
        .port_or_known_default()
        .ok_or_else(|| refuse("the URL names no port"))?;
    let host_name = match url.host() {
        None => return Err(refuse("the URL names no host")),
        Some(url::Host::Ipv4(v4)) => {
            check_address(IpAddr::V4(v4), allow_private)?;
            None
        }
        Some(url::Host::Ipv6(v6)) => {
            check_address(IpAddr::V6(v6), allow_private)?;
            None
        }
        Some(url::Host::Domain(name)) => Some(name.to_owned()),
    };
    Ok(ReceiverUrl {
        url: url.into(),
        host_name,
        port,
    })
}

/// Refuses an address a server may not call, unless private ones are allowed.
pub fn check_address(address: IpAddr, allow_private: bool) -> Result<(), FieldError> {
    if allow_private || address_allowed(address) {
        Ok(())
    } else {
        Err(FieldError::new(
            "url",
            FieldCode::NotAllowed,
            format!("{address} is a loopback, private, link-local or multicast address"),
        ))
    }
}

/// The longest description.
const DESCRIPTION_MAX: usize = 500;

/// An endpoint's fields as an admin sets them, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointInput {
    pub url: ReceiverUrl,
    pub event_types: Vec<String>,
    pub description: Option<String>,
}

/// Checks an endpoint's fields, reporting every bad one.
pub fn check_endpoint(
    url: &str,
    event_types: &[String],
    description: Option<&str>,
    allow_private: bool,
) -> Result<EndpointInput, FieldErrors> {
    let mut errors = FieldErrors::new();
    let url = check_url(url, allow_private)
        .map_err(|e| errors.push(e))
        .ok();
    let event_types = check_event_types(event_types)
        .map_err(|e| errors.push(e))
        .ok();
    let description = description.map(str::trim).filter(|d| !d.is_empty());
    if description.is_some_and(|d| d.chars().count() > DESCRIPTION_MAX) {
        errors.push(FieldError::new(
            "description",
            FieldCode::TooLong,
            format!("at most {DESCRIPTION_MAX} characters"),
        ));
    }
    match (url, event_types) {
        (Some(url), Some(event_types)) if errors.is_empty() => Ok(EndpointInput {
            url,
            event_types,
            description: description.map(str::to_owned),
        }),
        _ => Err(errors),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn at(seconds: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000 + seconds, 0).unwrap()
    }

    #[test]
    fn the_standard_webhooks_example_signs_as_the_spec_says() {
        // The example of the Standard Webhooks specification (spec/standard-webhooks.md).
        let secret = Secret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = r#"{"test": 2432232314}"#;
        assert_eq!(
            secret.sign("msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body),
            "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
        );
    }

    #[test]
    fn a_rotated_secret_signs_beside_the_new_one() {
        let new = Secret::from_bytes([1; 32]);
        let old = Secret::from_bytes([2; 32]);
        let header = signature_header(&[&new, &old], "id", 5, "{}");
        let parts: Vec<&str> = header.split(' ').collect();
        assert_eq!(parts, [new.sign("id", 5, "{}"), old.sign("id", 5, "{}")]);
        assert_ne!(parts[0], parts[1]);
    }

    #[test]
    fn secrets_round_trip_and_reject_other_text() {
        let secret = Secret::from_bytes([7; 32]);
        assert!(secret.encode().starts_with("whsec_"));
        assert_eq!(Secret::parse(&secret.encode()), Some(secret));
        for bad in ["", "whsec_", "whsec_***", "sk_AAAA"] {
            assert_eq!(Secret::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn retries_follow_the_schedule_then_fail() {
        let failed = Attempt::Failed { retry_after: None };
        let waits: Vec<i64> = (1..MAX_ATTEMPTS)
            .map(|n| match after_attempt(n, failed, at(0), 0.0) {
                Next::RetryAt(when) => (when - at(0)).num_seconds(),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(waits, RETRY_SCHEDULE_SECONDS);
        assert_eq!(
            after_attempt(MAX_ATTEMPTS, failed, at(0), 0.0),
            Next::Failed
        );
        assert_eq!(MAX_ATTEMPTS, 8);
    }

    #[test]
    fn retry_after_replaces_the_schedule_within_bounds() {
        let asked = |seconds| Attempt::Failed {
            retry_after: Some(Duration::seconds(seconds)),
        };
        assert_eq!(after_attempt(2, asked(3), at(0), 1.0), Next::RetryAt(at(3)));
        assert_eq!(after_attempt(2, asked(0), at(0), 1.0), Next::RetryAt(at(1)));
        // Beyond ten hours the schedule's wait stands (5 min for the second attempt).
        assert_eq!(
            after_attempt(2, asked(11 * 3600), at(0), 0.0),
            Next::RetryAt(at(300))
        );
        // The last attempt is the last, whatever the receiver asks.
        assert_eq!(
            after_attempt(MAX_ATTEMPTS, asked(3), at(0), 0.0),
            Next::Failed
        );
    }

    #[test]
    fn gone_disables_and_success_delivers_on_any_attempt() {
        for n in 1..=MAX_ATTEMPTS {
            assert_eq!(after_attempt(n, Attempt::Gone, at(0), 0.0), Next::Disable);
            assert_eq!(
                after_attempt(n, Attempt::Delivered, at(0), 0.0),
                Next::Delivered
            );
        }
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:27:00Z")
            .unwrap()
            .with_timezone(&Utc);
        assert_eq!(
            parse_retry_after(" 120 ", now),
            Some(Duration::seconds(120))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now),
            Some(Duration::seconds(60))
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::zero())
        );
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("-5", now), None);
    }

    #[test]
    fn endpoints_failing_for_five_days_are_disabled() {
        assert!(!failed_too_long(None, at(0)));
        assert!(!failed_too_long(Some(at(0)), at(5 * 86400 - 1)));
        assert!(failed_too_long(Some(at(0)), at(5 * 86400)));
    }

    #[test]
    fn private_and_special_addresses_are_refused() {
        for refused in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "224.0.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "100.64.0.1",
            "198.18.0.1",
            "192.0.2.1",
            "::1",
            "::",
            "fc00::1",
            "fd12:3456::1",
            "fe80::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
        ] {
            let ip: IpAddr = refused.parse().unwrap();
            assert!(!address_allowed(ip), "{refused}");
        }
        for allowed in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:4700::1111",
            "::ffff:8.8.8.8",
        ] {
            let ip: IpAddr = allowed.parse().unwrap();
            assert!(address_allowed(ip), "{allowed}");
        }
    }

    #[test]
    fn receiver_urls_are_https_without_credentials() {
        let ok = check_url("https://erp.example.com/hooks?x=1", false).unwrap();
        assert_eq!(ok.host_name.as_deref(), Some("erp.example.com"));
        assert_eq!(ok.port, 443);
        for (bad, code) in [
            ("http://erp.example.com/hooks", FieldCode::NotAllowed),
            ("https://user:pw@erp.example.com/", FieldCode::NotAllowed),
            ("https://127.0.0.1/hooks", FieldCode::NotAllowed),
            ("https://[::1]:8443/hooks", FieldCode::NotAllowed),
            ("https://169.254.169.254/latest", FieldCode::NotAllowed),
            ("ftp://erp.example.com/", FieldCode::NotAllowed),
            ("erp.example.com/hooks", FieldCode::InvalidValue),
        ] {
            assert_eq!(check_url(bad, false).unwrap_err().code, code, "{bad}");
        }
        let local = check_url("http://127.0.0.1:9000/hooks", true).unwrap();
        assert_eq!((local.host_name, local.port), (None, 9000));
    }

    #[test]
    fn event_types_are_known_or_all_and_kept_once() {
        let names = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            check_event_types(&names(&["order.paid", "*", "order.paid"])).unwrap(),
            names(&["order.paid", "*"])
        );
        assert_eq!(
            check_event_types(&names(&["order.paid", "order.lost"]))
                .unwrap_err()
                .field,
            "event_types[1]"
        );
        assert_eq!(
            check_event_types(&[]).unwrap_err().code,
            FieldCode::Required
        );
        let wanted = names(&["order.paid"]);
        assert!(subscribes(&wanted, EventType::OrderPaid));
        assert!(!subscribes(&wanted, EventType::OrderShipped));
        assert!(subscribes(&wanted, EventType::WebhookTest));
        assert!(subscribes(&names(&["*"]), EventType::DunningLevelReached));
    }

    #[test]
    fn event_type_names_agree_with_serde() {
        for event in EventType::ALL {
            assert_eq!(
                serde_json::to_value(event).unwrap(),
                serde_json::Value::from(event.as_str())
            );
            assert_eq!(EventType::parse(event.as_str()), Some(*event));
        }
    }

    proptest! {
        #[test]
        fn a_retry_is_never_sooner_than_a_second_nor_later_than_eleven_hours(
            attempts in 1u32..MAX_ATTEMPTS,
            jitter in -1.0f64..=1.0,
            retry_after in proptest::option::of(0i64..100_000),
        ) {
            let attempt = Attempt::Failed { retry_after: retry_after.map(Duration::seconds) };
            match after_attempt(attempts, attempt, at(0), jitter) {
                Next::RetryAt(when) => {
                    let wait = (when - at(0)).num_seconds();
                    prop_assert!((1..=11 * 3600).contains(&wait), "{wait}");
                    if retry_after.is_none() {
                        let scheduled = RETRY_SCHEDULE_SECONDS[attempts as usize - 1];
                        prop_assert!((wait - scheduled).abs() * 10 <= scheduled + 5);
                    }
                }
                other => prop_assert!(false, "{:?}", other),
            }
        }

        #[test]
        fn a_signature_changes_with_every_signed_part(
            id in "[a-z0-9_]{1,20}", ts in 0i64..4_000_000_000, body in ".{0,64}",
        ) {
            let secret = Secret::from_bytes([9; 32]);
            let signed = secret.sign(&id, ts, &body);
            prop_assert_ne!(&signed, &secret.sign(&format!("{id}x"), ts, &body));
            prop_assert_ne!(&signed, &secret.sign(&id, ts + 1, &body));
            prop_assert_ne!(&signed, &secret.sign(&id, ts, &format!("{body} ")));
            prop_assert_ne!(&signed, &Secret::from_bytes([8; 32]).sign(&id, ts, &body));
        }
    }
}
