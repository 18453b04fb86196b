//! Authentication: argon2id password hashes, short-lived JWT access tokens, opaque refresh
//! tokens, and the extractor that turns a bearer token into the calling `Principal`.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest};
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::Argon2;
use base64::Engine;
use chrono::Utc;
use credo_core::Principal;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
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

/// The authenticated caller; extracting it answers 401 for any missing or invalid token,
/// and for tokens of users that are disabled or gone.
pub struct Caller(pub Principal);

impl FromRequest for Caller {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Self::Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
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
                ApiError::unauthenticated("send Authorization: Bearer <access token>")
            })?;
            let user_id = state.keys.verify(&token).ok_or_else(|| {
                ApiError::unauthenticated("the access token is invalid or expired")
            })?;
            let principal = match state.principals.fresh(user_id) {
                Some(known) => known,
                None => {
                    let user = state
                        .db(move |conn| credo_store::users::get(conn, user_id))
                        .await?;
                    let principal = user.filter(|u| !u.disabled).map(|u| Principal {
                        user_id: u.id,
                        role: u.role,
                        sales_unit_id: u.sales_unit_id,
                    });
                    state.principals.keep(user_id, principal.clone());
                    principal
                }
            };
            principal.map(Caller).ok_or_else(|| {
                ApiError::unauthenticated("the account is disabled or no longer exists")
            })
        })
    }
}
