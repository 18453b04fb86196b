//! Login, token refresh, logout and the caller's own account.

use actix_web::{get, post, web, HttpResponse};
use chrono::Duration;
use credo_core::directory::{normalize_username, User};
use credo_store::sessions::{self, NewRefreshToken, Redemption};
use credo_store::{now, users};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{decoy_hash, new_refresh_token, refresh_token_hash, verify_password, Caller};
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::extract::Body;
use crate::reply::Reply;
use crate::state::AppState;

/// Failed logins for one username allowed within the window before it is throttled.
const MAX_FAILURES: i64 = 5;
const FAILURE_WINDOW_MINUTES: i64 = 15;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(example = "admin", max_length = 64)]
    pub username: String,
    #[schema(example = "correct horse battery", max_length = 256)]
    pub password: String,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    pub refresh_token: String,
}

/// A token pair. Send `access_token` as `Authorization: Bearer ...`; when it expires, trade
/// `refresh_token` at `/auth/refresh` for a new pair (each refresh token works once).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Seconds until the access token expires.
    #[schema(example = 900)]
    pub expires_in: u64,
}

async fn issue_tokens(state: &AppState, user_id: Uuid, family_id: Uuid) -> ApiResult<TokenPair> {
    let (refresh_token, hash) = new_refresh_token();
    let expires_at =
        now() + Duration::from_std(state.refresh_token_ttl).unwrap_or(Duration::days(30));
    state
        .db(move |conn| {
            sessions::insert_refresh_token(
                conn,
                &NewRefreshToken {
                    family_id,
                    user_id,
                    token_hash: &hash,
                    expires_at,
                },
            )
        })
        .await?;
    Ok(TokenPair {
        access_token: state.keys.issue(user_id, state.access_token_ttl),
        refresh_token,
        token_type: "Bearer".into(),
        expires_in: state.access_token_ttl.as_secs(),
    })
}

/// Log in
///
/// After 5 failed attempts for one username within 15 minutes, further attempts are answered
/// 429 with `Retry-After` until the oldest failure leaves the window.
#[utoipa::path(
    tag = "auth",
    operation_id = "login",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenPair),
        (status = 401, description = "Wrong username or password, or a disabled account", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64))),
    ),
    security(())
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    body: Body<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let LoginRequest { username, password } = body.value;
    let invalid = || ApiError::new(ErrorCode::InvalidCredentials, "wrong username or password");
    // A name that cannot exist is still throttled under its raw form, so probing costs the same.
    let username = normalize_username(&username).unwrap_or_else(|_| username.trim().to_lowercase());
    if password.len() > 1024 {
        return Err(invalid());
    }
    let since = now() - Duration::minutes(FAILURE_WINDOW_MINUTES);
    let name = username.clone();
    let (failures, oldest, account) = state
        .db(move |conn| {
            let (failures, oldest) = sessions::login_failures_since(conn, &name, since)?;
            Ok((failures, oldest, users::find_by_username(conn, &name)?))
        })
        .await?;
    if failures >= MAX_FAILURES {
        let free_at = oldest.unwrap_or_else(now) + Duration::minutes(FAILURE_WINDOW_MINUTES);
        let wait = (free_at - now()).num_seconds().max(1) as u64;
        return Err(ApiError::new(
            ErrorCode::TooManyLoginAttempts,
            "too many failed logins for this username",
        )
        .with_retry_after(wait));
    }
    let stored_hash = account
        .as_ref()
        .map(|(_, hash)| hash.clone())
        .unwrap_or_else(|| decoy_hash().to_owned());
    let password_ok = state
        .hashing(move || verify_password(&password, &stored_hash))
        .await?;
    match account {
        Some((user, _)) if password_ok && !user.disabled => {
            state
                .db(move |conn| sessions::clear_login_failures(conn, &username))
                .await?;
            let pair = issue_tokens(&state, user.id, Uuid::now_v7()).await?;
            Ok(Reply::ok(&pair).into_response())
        }
        _ => {
            state
                .db(move |conn| sessions::record_login_failure(conn, &username))
                .await?;
            Err(invalid())
        }
    }
}

/// Trade a refresh token for a new token pair
///
/// Refresh tokens rotate: each works once. Presenting a spent one again is taken as theft and
/// revokes every token of its login (its family).
#[utoipa::path(
    tag = "auth",
    operation_id = "refreshToken",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "A new pair", body = TokenPair),
        (status = 401, description = "Unknown, expired, revoked or reused refresh token", body = Problem, content_type = "application/problem+json"),
    ),
    security(())
)]
#[post("/auth/refresh")]
pub async fn refresh(
    state: web::Data<AppState>,
    body: Body<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    let hash = refresh_token_hash(&body.value.refresh_token);
    let redemption = state
        .db(move |conn| {
            let redemption = sessions::redeem(conn, &hash)?;
            // A disabled user's tokens are dead even if not yet revoked.
            if let Redemption::Redeemed { user_id, family_id } = &redemption {
                if users::get(conn, *user_id)?.is_none_or(|u| u.disabled) {
                    sessions::revoke_family(conn, *family_id)?;
                    return Ok(Redemption::Invalid);
                }
            }
            Ok(redemption)
        })
        .await?;
    match redemption {
        Redemption::Redeemed { user_id, family_id } => {
            let pair = issue_tokens(&state, user_id, family_id).await?;
            Ok(Reply::ok(&pair).into_response())
        }
        Redemption::Reused => Err(ApiError::new(
            ErrorCode::InvalidRefreshToken,
            "this refresh token was already used; every token of this login is now revoked",
        )),
        Redemption::Invalid => Err(ApiError::new(
            ErrorCode::InvalidRefreshToken,
            "the refresh token is unknown, expired or revoked",
        )),
    }
}

/// Log out
///
/// Revokes the refresh token and every token rotated from the same login. Access tokens
/// already issued stay valid until they expire (minutes).
#[utoipa::path(
    tag = "auth",
    operation_id = "logout",
    request_body = RefreshRequest,
    responses((status = 204, description = "Logged out")),
    security(("bearer" = []))
)]
#[post("/auth/logout")]
pub async fn logout(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    body: Body<RefreshRequest>,
) -> ApiResult<HttpResponse> {
    let hash = refresh_token_hash(&body.value.refresh_token);
    let user = caller.user_id;
    state
        .db(move |conn| {
            // Only the caller's own login can be ended; another user's token is ignored.
            if let Some((family, owner)) = sessions::family_of(conn, &hash)? {
                if owner == user {
                    sessions::revoke_family(conn, family)?;
                }
            }
            Ok(())
        })
        .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Get the caller's own account
#[utoipa::path(
    tag = "auth",
    operation_id = "getMe",
    responses((status = 200, description = "The caller", body = User)),
    security(("bearer" = []))
)]
#[get("/me")]
pub async fn me(state: web::Data<AppState>, Caller(caller): Caller) -> ApiResult<HttpResponse> {
    let id = caller.user_id;
    let user = state
        .db(move |conn| users::get(conn, id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Reply::ok(&user).into_response())
}
