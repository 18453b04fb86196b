//! Webhook senders: threads with their own connections that claim due deliveries (one
//! sender at a time for each, across every instance), sign and send them, and record each
//! attempt and what follows it. Any number of instances run some each on one database.

use std::io::Read;
use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use credo_core::webhooks::{
    after_attempt, check_address, check_url, parse_retry_after, signature_header, Attempt,
    AttemptRecord, Secret,
};
use credo_store::webhooks::{self as repo, Attempted, Claimed};
use credo_store::Db;
use reqwest::blocking::Client;
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::RETRY_AFTER;
use reqwest::StatusCode;
use uuid::Uuid;

/// How webhooks are sent.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Receivers may be on loopback and private networks, over http.
    pub allow_private: bool,
    /// Sender threads of this instance (0: this instance sends none).
    pub senders: usize,
    /// How long an idle sender waits before it looks for due deliveries again.
    pub poll: Duration,
    /// How long a receiver may take to answer.
    pub timeout: Duration,
}

impl Default for WebhookSettings {
    fn default() -> Self {
        Self {
            allow_private: false,
            senders: 4,
            poll: Duration::from_millis(250),
            timeout: Duration::from_secs(15),
        }
    }
}

/// Deliveries a sender claims, sends and records at once.
const BATCH: i64 = 20;
/// The first KiB of an answer is kept in the delivery log.
const ANSWER_KEPT: u64 = 1024;

/// Starts the senders on threads of their own; they run as long as the process.
pub fn start(db: &Db, settings: &WebhookSettings) -> std::io::Result<()> {
    if settings.senders == 0 {
        return Ok(());
    }
    // A claim lasts until its whole batch could have timed out, and a little more.
    let lease = settings.timeout * u32::try_from(BATCH).unwrap_or(1) + Duration::from_secs(30);
    let lease = chrono::Duration::from_std(lease).map_err(std::io::Error::other)?;
    let db = db
        .sibling(u32::try_from(settings.senders).unwrap_or(u32::MAX))
        .map_err(std::io::Error::other)?;
    for n in 0..settings.senders {
        let (db, settings) = (db.clone(), settings.clone());
        // A blocking client runs a runtime of its own: made and dropped on its thread, never
        // inside the server's async one.
        std::thread::Builder::new()
            .name(format!("credo-webhooks-{n}"))
            .spawn(move || match client(&settings) {
                Ok(client) => Sender {
                    id: Uuid::now_v7(),
                    db,
                    client,
                    allow_private: settings.allow_private,
                    poll: settings.poll,
                    lease,
                }
                .run(),
                Err(error) => tracing::error!(%error, "the webhook sender has no HTTP client"),
            })?;
    }
    Ok(())
}

/// Looks names up as the system does, and refuses a receiver any of whose addresses a server
/// may not call (checked at every delivery, since DNS answers change).
struct GuardedResolver {
    allow_private: bool,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let found = tokio::task::spawn_blocking(move || {
                (host.as_str(), 0)
                    .to_socket_addrs()
                    .map(Iterator::collect::<Vec<SocketAddr>>)
            })
            .await??;
            for address in &found {
                check_address(address.ip(), allow_private).map_err(|refused| refused.message)?;
            }
            let addrs: Addrs = Box::new(found.into_iter());
            Ok(addrs)
        })
    }
}

fn client(settings: &WebhookSettings) -> reqwest::Result<Client> {
    Client::builder()
        .timeout(settings.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(GuardedResolver {
            allow_private: settings.allow_private,
        }))
        .user_agent(concat!("Credo-Webhooks/", env!("CARGO_PKG_VERSION")))
        .build()
}

struct Sender {
    id: Uuid,
    db: Db,
    client: Client,
    allow_private: bool,
    poll: Duration,
    lease: chrono::Duration,
}

impl Sender {
    fn run(self) {
        tracing::info!(sender = %self.id, "webhook sender started");
        loop {
            match self
                .db
                .run(|conn| repo::claim(conn, self.id, BATCH, self.lease))
            {
                Ok(claimed) if !claimed.is_empty() => self.deliver(&claimed),
                Ok(_) => std::thread::sleep(self.poll),
                Err(error) => {
                    tracing::warn!(%error, "could not claim webhook deliveries");
                    std::thread::sleep(self.poll);
                }
            }
        }
    }

    /// Makes one attempt of each claimed delivery, then records them with what follows each
    /// in one transaction (a sender that dies before that sends them again once its claim
    /// lapses: receivers de-duplicate on `webhook-id`).
    fn deliver(&self, claimed: &[Claimed]) {
        let attempted: Vec<Attempted> = claimed
            .iter()
            .map(|delivery| {
                let at = Utc::now();
                let started = Instant::now();
                let (attempt, record) = self.attempt(delivery, at);
                let record = AttemptRecord {
                    duration_ms: i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX),
                    ..record
                };
                let jitter = rand::random_range(-1.0..=1.0);
                Attempted {
                    delivery_id: delivery.delivery_id,
                    endpoint_id: delivery.endpoint_id,
                    record,
                    next: after_attempt(delivery.attempts, attempt, Utc::now(), jitter),
                }
            })
            .collect();
        match self
            .db
            .run(|conn| repo::finish_attempts(conn, self.id, &attempted))
        {
            Ok(held) if held == attempted.len() => {}
            Ok(held) => tracing::warn!(
                lost = attempted.len() - held,
                "webhook deliveries were taken over before their attempts were recorded"
            ),
            Err(error) => tracing::warn!(%error, "could not record webhook attempts"),
        }
    }

    fn attempt(&self, delivery: &Claimed, at: chrono::DateTime<Utc>) -> (Attempt, AttemptRecord) {
        let failed = |error: String| {
            (
                Attempt::Failed { retry_after: None },
                AttemptRecord {
                    at,
                    status_code: None,
                    duration_ms: 0,
                    response: None,
                    error: Some(error),
                },
            )
        };
        // A literal address is not looked up, so the resolver cannot refuse it: judge it here.
        if let Err(refused) = check_url(&delivery.url, self.allow_private) {
            return failed(format!("the URL is not allowed: {}", refused.message));
        }
        let secrets: Vec<Secret> = delivery
            .secrets
            .iter()
            .filter_map(|s| Secret::parse(s))
            .collect();
        let timestamp = at.timestamp();
        let signature = signature_header(
            &secrets.iter().collect::<Vec<_>>(),
            &delivery.event_id,
            timestamp,
            &delivery.body,
        );
        let sent = self
            .client
            .post(&delivery.url)
            .header("content-type", "application/json")
            .header("webhook-id", &delivery.event_id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(delivery.body.clone())
            .send();
        let response = match sent {
            Ok(response) => response,
            Err(error) => return failed(describe(&error)),
        };
        let status = response.status();
        let retry_after = matches!(
            status,
            StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE
        )
        .then(|| response.headers().get(RETRY_AFTER))
        .flatten()
        .and_then(|value| value.to_str().ok())
        .and_then(|value| parse_retry_after(value, at));
        let mut answer = Vec::new();
        let _ = response.take(ANSWER_KEPT).read_to_end(&mut answer);
        let attempt = if status.is_success() {
            Attempt::Delivered
        } else if status == StatusCode::GONE {
            Attempt::Gone
        } else {
            Attempt::Failed { retry_after }
        };
        let record = AttemptRecord {
            at,
            status_code: Some(i64::from(status.as_u16())),
            duration_ms: 0,
            response: Some(String::from_utf8_lossy(&answer).into_owned()),
            error: None,
        };
        (attempt, record)
    }
}

/// What went wrong when no answer came, in a line for the delivery log.
fn describe(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "no answer in time".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        "the request failed".to_owned()
    };
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
