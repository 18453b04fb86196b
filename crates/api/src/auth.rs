//! Authentication: argon2id password hashes, short-lived JWT access tokens, opaque refresh
//! tokens, and the extractor that turns a bearer token into the calling `Principal`.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::http::header;
use actix_web::{web, FromRequest, HttpMessage, HttpRequest};
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use base64::Engine;
use chrono::{Timelike, Utc};
use credo_core::Principal;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::AppState;

const ISSUER: &str = "credo";

/// How far ahead another instance's clock may be when it issues a token.
const CLOCK_SKEW_SECONDS: i64 = 5;

/// The HMAC keys access tokens are signed and checked with (HS256 only), and how long a
/// token lives.
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    lifetime: std::time::Duration,
}

#[derive(Debug, Serialize, Deserialize)]
struct Claims {
    sub: Uuid,
    iss: String,
    iat: i64,
    exp: i64,
}

impl TokenKeys {
    pub fn new(secret: &[u8], lifetime: std::time::Duration) -> Self {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "sub"]);
        validation.validate_nbf = true;
        validation.leeway = 0;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            lifetime,
        }
    }

    /// How long a token this server issues lives.
    pub fn lifetime(&self) -> std::time::Duration {
        self.lifetime
    }

    fn lifetime_seconds(&self) -> i64 {
        i64::try_from(self.lifetime.as_secs()).unwrap_or(i64::MAX)
    }

    pub fn issue(&self, user_id: Uuid) -> String {
        let now = Utc::now().timestamp();
        let claims = Claims {
            sub: user_id,
            iss: ISSUER.into(),
            iat: now,
            exp: now.saturating_add(self.lifetime_seconds()),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .expect("HS256 signing cannot fail")
    }

    /// The user id of a valid token; expired, forged, unsigned or other-algorithm tokens
    /// fail, and so do tokens issued (`iat`) or valid (`nbf`) only in the future, and tokens
    /// that would live longer than the configured lifetime (an `exp` a century ahead): no
    /// clock or configuration of ours issues those.
    pub fn verify(&self, token: &str) -> Option<Uuid> {
        let claims = jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .ok()?
            .claims;
        let issued_by_us = claims.iat <= Utc::now().timestamp() + CLOCK_SKEW_SECONDS
            && claims.exp.saturating_sub(claims.iat)
                <= self.lifetime_seconds().saturating_add(CLOCK_SKEW_SECONDS);
        issued_by_us.then_some(claims.sub)
    }
}

/// A fresh random secret (256 bits, base64url), for JWT signing when none is configured.
pub fn random_secret() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A new opaque refresh token and the hash it is stored under.
pub fn new_refresh_token() -> (String, String) {
    let token = random_secret();
    let hash = refresh_token_hash(&token);
    (token, hash)
}

fn sha256_hex(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

pub fn refresh_token_hash(token: &str) -> String {
    sha256_hex(token)
}

/// What the login throttle keeps of a username: never the name as typed.
pub fn username_hash(username: &str) -> String {
    sha256_hex(username)
}

pub fn hash_password(password: &str) -> String {
    let hash: argon2::password_hash::phc::PasswordHash = Argon2::default()
        .hash_password(password.as_bytes())
        .expect("argon2id with default parameters");
    hash.to_string()
}

/// Checks a password against a stored hash. Also called with a decoy hash for unknown users,
/// so a login takes as long whether or not the username exists.
pub fn verify_password(password: &str, stored_hash: &str) -> bool {
    Argon2::default()
        .verify_password(password.as_bytes(), stored_hash)
        .is_ok()
}

/// A hash of nothing anyone knows, verified against when a username does not exist.
pub fn decoy_hash() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| hash_password(&random_secret()))
}

/// How long an instance trusts what it last read of a user (role, unit, disabled). The
/// instance that changes a user forgets it at once; others follow within this time.
pub const PRINCIPAL_TTL: Duration = Duration::from_secs(1);

/// Users as recently read, so that a request need not read its caller from the database:
/// `None` for a user that is disabled or gone.
#[derive(Default)]
pub struct PrincipalCache(Mutex<HashMap<Uuid, (Option<Principal>, Instant)>>);

impl PrincipalCache {
    fn fresh(&self, user_id: Uuid) -> Option<Option<Principal>> {
        let entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(&user_id)
            .filter(|(_, read_at)| read_at.elapsed() < PRINCIPAL_TTL)
            .map(|(principal, _)| principal.clone())
    }

    fn keep(&self, user_id: Uuid, principal: Option<Principal>) {
        let mut entries = self.0.lock().unwrap_or_else(|e| e.into_inner());
        // Stale entries go when the map grows, so it stays as large as the active users.
        if entries.len() >= 10_000 {
            entries.retain(|_, (_, read_at)| read_at.elapsed() < PRINCIPAL_TTL);
        }
        entries.insert(user_id, (principal, Instant::now()));
    }

    /// Drops what is known of a user that was just changed.
    pub fn forget(&self, user_id: Uuid) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(&user_id);
    }
}

/// API keys read `credo_<prefix>_<secret>`.
const API_KEY_START: &str = "credo_";
/// Characters of a key's prefix.
const API_KEY_PREFIX_LEN: usize = 8;

/// A new API key: the key as its holder is given it (once), its prefix, and the keyed hash
/// of its secret that is kept. 256 random bits of secret.
pub fn new_api_key(pepper: &[u8]) -> (String, String, String) {
    const ALPHABET: &[u8] = b"abcdefghijkmnpqrstuvwxyz23456789";
    let mut bytes = [0u8; API_KEY_PREFIX_LEN];
    rand::rng().fill_bytes(&mut bytes);
    let prefix: String = bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect();
    let secret = random_secret();
    let hash = api_key_hash(pepper, &secret);
    (format!("{API_KEY_START}{prefix}_{secret}"), prefix, hash)
}

/// The keyed hash an API key's secret is kept as: HMAC-SHA256 under the deployment's
/// pepper, enough for a random secret of 256 bits (no password stretching needed).
fn api_key_hash(pepper: &[u8], secret: &str) -> String {
    use hmac::Mac;
    let digest = hmac::Hmac::<Sha256>::new_from_slice(pepper)
        .expect("HMAC takes a key of any length")
        .chain_update(secret.as_bytes())
        .finalize()
        .into_bytes();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// Marks a request authenticated by an API key (its id).
#[derive(Debug, Clone, Copy)]
pub struct ByApiKey(pub Uuid);

/// The key's user as a caller, when the presented key is good today: found by its prefix,
/// the secret's hash equal (compared in constant time), not revoked or expired, its user
/// enabled. Checked on every request, so revocation holds at once on every instance.
async fn key_caller(state: &AppState, presented: &str) -> Result<(Uuid, Principal), ApiError> {
    let refused = || ApiError::unauthenticated("the API key is invalid, expired or revoked");
    let (prefix, secret) = presented
        .split_at_checked(API_KEY_PREFIX_LEN)
        .and_then(|(prefix, rest)| Some((prefix, rest.strip_prefix('_')?)))
        .ok_or_else(refused)?;
    let hash = api_key_hash(&state.api_key_pepper, secret);
    let today = state.today().await?;
    let prefix = prefix.to_owned();
    let found = state
        .db(move |conn| {
            let Some(found) = credo_store::api_keys::presented(conn, &prefix)? else {
                return Ok(None);
            };
            let matches: bool = found.secret_hash.as_bytes().ct_eq(hash.as_bytes()).into();
            if !matches || found.user_disabled || !found.key.usable(today) {
                return Ok(None);
            }
            let minute = credo_store::now()
                .naive_utc()
                .with_second(0)
                .and_then(|t| t.with_nanosecond(0));
            if let Some(minute) = minute {
                if found
                    .key
                    .last_used_at
                    .is_none_or(|used| used.naive_utc() < minute)
                {
                    credo_store::api_keys::used(conn, found.key.id, minute)?;
                }
            }
            let user = credo_store::users::get(conn, found.key.user_id)?;
            Ok(user.map(|user| (found.key.id, user.principal())))
        })
        .await?;
    found.ok_or_else(refused)
}

/// The authenticated caller; extracting it answers 401 for any missing or invalid token or
/// API key, and for those of users that are disabled or gone, and 429 when the caller's
/// quota of requests is spent.
pub struct Caller(pub Principal);

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let req = req.clone();
        let token = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(|t| t.trim().to_owned());
        Box::pin(async move {
            let state = state.expect("AppState is registered");
            let token = token.ok_or_else(|| {
                ApiError::unauthenticated("send Authorization: Bearer <access token or API key>")
            })?;
            let (principal, counted) = match token.strip_prefix(API_KEY_START) {
                Some(presented) => {
                    let (key, principal) = key_caller(&state, presented).await?;
                    req.extensions_mut().insert(ByApiKey(key));
                    (principal, crate::limits::Caller::Key(key))
                }
                None => {
                    let principal = token_caller(&state, &token).await?;
                    let counted = crate::limits::Caller::User(principal.user_id);
                    (principal, counted)
                }
            };
            let check = req.method() == actix_web::http::Method::POST
                && req.path() == "/api/v1/credit/check";
            let standing = state.limits.admit(counted, check);
            req.extensions_mut().insert(standing);
            match standing.refusal() {
                Some(refusal) => Err(refusal),
                None => Ok(Caller(principal)),
            }
        })
    }
}

/// The user of a valid access token.
async fn token_caller(state: &AppState, token: &str) -> Result<Principal, ApiError> {
    let user_id = state
        .keys
        .verify(token)
        .ok_or_else(|| ApiError::unauthenticated("the access token is invalid or expired"))?;
    let principal = match state.principals.fresh(user_id) {
        Some(known) => known,
        None => {
            let user = state
                .db(move |conn| credo_store::users::get(conn, user_id))
                .await?;
            let principal = user.filter(|u| !u.disabled).map(|u| u.principal());
            state.principals.keep(user_id, principal.clone());
            principal
        }
    };
    principal
        .ok_or_else(|| ApiError::unauthenticated("the account is disabled or no longer exists"))
}

/// The authenticated caller when a person signed in, not an API key: for what a key may not
/// do (change a password, manage keys). A key is 403.
pub struct Person(pub Principal);

impl FromRequest for Person {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let caller = Caller::from_request(req, payload);
        let req = req.clone();
        Box::pin(async move {
            let Caller(principal) = caller.await?;
            if req.extensions().get::<ByApiKey>().is_some() {
                return Err(ApiError::forbidden(
                    "an API key may not do this: sign in as a person",
                ));
            }
            Ok(Person(principal))
        })
    }
}

/// Refuses anyone but an admin: `what` names what only admins manage.
pub fn require_admin(caller: &Principal, what: &str) -> Result<(), ApiError> {
    if caller.is_admin() {
        Ok(())
    } else {
        Err(ApiError::forbidden(format!("only admins manage {what}")))
    }
}
