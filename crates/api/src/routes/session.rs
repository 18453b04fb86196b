//! Login, token refresh, logout and the caller's own account.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Duration, Utc};
use credo_core::directory::{check_password, normalize_username, User};
use credo_core::FieldCode;
use credo_core::{throttle, FieldError};
use credo_store::sessions::{self, Attempt, LoginSource, NewRefreshToken, Redemption};
use credo_store::versioned::Expected;
use credo_store::{now, users};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{
    decoy_hash, hash_password, new_refresh_token, refresh_token_hash, username_hash,
    verify_password, Caller, Person,
};
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::extract::Body;
use crate::reply::Reply;
use crate::state::AppState;

/// The longest username there is; a longer one is refused before any database work.
const USERNAME_MAX: usize = 64;
/// The longest password there is (in bytes, before hashing).
const PASSWORD_MAX: usize = 1024;

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
    /// As `/auth/login` or the last refresh gave it (43 characters today).
    #[schema(max_length = 128)]
    pub refresh_token: String,
}

/// The longest refresh token taken: longer than any this server issues, refused as input.
const REFRESH_TOKEN_MAX: usize = 128;

impl RefreshRequest {
    /// The hash the token is stored under, or 422 for a token longer than any issued.
    fn token_hash(&self) -> ApiResult<String> {
        if self.refresh_token.len() > REFRESH_TOKEN_MAX {
            return Err(ApiError::field(
                "refresh_token",
                FieldCode::TooLong,
                "longer than any refresh token this server issues",
            ));
        }
        Ok(refresh_token_hash(&self.refresh_token))
    }
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

/// A new token pair for a login that ends at `session_expires_at`, however often it is
/// refreshed.
async fn issue_tokens(
    state: &AppState,
    user_id: Uuid,
    family_id: Uuid,
    session_expires_at: DateTime<Utc>,
) -> ApiResult<TokenPair> {
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
                    session_expires_at,
                },
            )
        })
        .await?;
    Ok(TokenPair {
        access_token: state.keys.issue(user_id),
        refresh_token,
        token_type: "Bearer".into(),
        expires_in: state.keys.lifetime().as_secs(),
    })
}

/// A new login of `user_id`: a new token family, ending after the session lifetime.
async fn new_session(state: &AppState, user_id: Uuid) -> ApiResult<TokenPair> {
    let ends = now() + Duration::from_std(state.session_lifetime).unwrap_or(Duration::days(30));
    issue_tokens(state, user_id, Uuid::now_v7(), ends).await
}

/// The address the request came from, as the throttle counts it.
fn client_address(req: &HttpRequest) -> String {
    req.peer_addr()
        .map_or_else(|| "unknown".to_owned(), |a| a.ip().to_string())
}

fn throttled(until: DateTime<Utc>) -> ApiError {
    let wait = (until - now()).num_seconds().max(1) as u64;
    ApiError::new(
        ErrorCode::TooManyLoginAttempts,
        "too many failed logins from this address",
    )
    .with_retry_after(wait)
}

/// The account named `username` if `password` is its password, checked under the login
/// throttle of (username, client address): a wrong password stays counted as a failure, a
/// right one clears the failures of its (username, address). `Ok(None)` for a wrong
/// password or an unknown name, which look the same.
async fn check_credentials(
    state: &AppState,
    client: String,
    username: String,
    password: String,
) -> ApiResult<Option<User>> {
    // No password is this long: refused before any database work or hashing.
    if password.len() > PASSWORD_MAX {
        return Ok(None);
    }
    if let Err(wait) = state.hashing.admit(&client) {
        return Err(ApiError::new(
            ErrorCode::TooManyPasswordChecks,
            "too many password checks from this address",
        )
        .with_retry_after(wait.as_secs().max(1)));
    }
    let source = LoginSource {
        username_hash: username_hash(&username),
        client,
    };
    let admitted = source.clone();
    let (attempt, account) = state
        .db(move |conn| {
            let attempt = sessions::admit_login_attempt(conn, &admitted, |account, address| {
                throttle::login_wait_until(account, address, now())
            })?;
            let account = match attempt {
                Attempt::Allowed => users::find_by_username(conn, &username)?,
                Attempt::WaitUntil(_) => None,
            };
            Ok((attempt, account))
        })
        .await?;
    if let Attempt::WaitUntil(until) = attempt {
        return Err(throttled(until));
    }
    let stored_hash = account
        .as_ref()
        .map(|(_, hash)| hash.clone())
        .unwrap_or_else(|| decoy_hash().to_owned());
    let password_ok = state
        .hashing(move || verify_password(&password, &stored_hash))
        .await?;
    match account {
        Some((user, _)) if password_ok => {
            state
                .db(move |conn| sessions::clear_login_failures(conn, &source))
                .await?;
            Ok(Some(user))
        }
        _ => Ok(None),
    }
}

/// Log in
///
/// Failed logins are counted per username and client address, and per client address: after
/// 5 failures of one username from one address (50 of any usernames from one address)
/// within a day, each further try waits, 15 minutes at first, doubling with every 5 more
/// failures (at most a day); a throttled try is answered 429 with `Retry-After`. A right
/// password clears its username's failures from that address, and a throttled address
/// never locks the account's owner out elsewhere.
#[utoipa::path(
    tag = "auth",
    operation_id = "login",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = TokenPair),
        (status = 401, description = "Wrong username or password, or a disabled account", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts (`too_many_login_attempts`), or too many password checks from this address at once (`too_many_password_checks`: 20, then 5 a second)", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64))),
    ),
    security(())
)]
#[post("/auth/login")]
pub async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    body: Body<LoginRequest>,
) -> ApiResult<HttpResponse> {
    let LoginRequest { username, password } = body.value;
    if username.chars().count() > USERNAME_MAX {
        return Err(ApiError::validation(vec![FieldError::new(
            "username",
            FieldCode::TooLong,
            format!("a username has at most {USERNAME_MAX} characters"),
        )]));
    }
    let invalid = || ApiError::new(ErrorCode::InvalidCredentials, "wrong username or password");
    // A name that cannot exist is still throttled under its raw form, so probing costs the same.
    let username = normalize_username(&username).unwrap_or_else(|_| username.trim().to_lowercase());
    match check_credentials(&state, client_address(&req), username, password).await? {
        Some(user) if !user.disabled => {
            let pair = new_session(&state, user.id).await?;
            Ok(Reply::ok(&pair).into_response())
        }
        _ => Err(invalid()),
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
    let hash = body.value.token_hash()?;
    let redemption = state
        .db(move |conn| {
            let redemption = sessions::redeem(conn, &hash)?;
            // A disabled user's tokens are dead even if not yet revoked.
            if let Redemption::Redeemed {
                user_id, family_id, ..
            } = &redemption
            {
                if users::get(conn, *user_id)?.is_none_or(|u| u.disabled) {
                    sessions::revoke_family(conn, *family_id)?;
                    return Ok(Redemption::Invalid);
                }
            }
            Ok(redemption)
        })
        .await?;
    match redemption {
        Redemption::Redeemed {
            user_id,
            family_id,
            session_expires_at,
        } => {
            let pair = issue_tokens(&state, user_id, family_id, session_expires_at).await?;
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
    let hash = body.value.token_hash()?;
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
///
/// The account the bearer token belongs to: id, username, display name, role and sales
/// unit.
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

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordChange {
    #[schema(max_length = 1024)]
    pub current_password: String,
    /// 12 to 256 characters, not a common or breached password, not containing the username.
    #[schema(
        example = "a long passphrase of mine",
        min_length = 12,
        max_length = 256
    )]
    pub new_password: String,
}

/// Change the caller's own password
///
/// Needs the current password (checked under the login throttle, like a login). Every
/// session of the account ends (its refresh tokens are revoked); the answer is a new token
/// pair, so the client that changed the password stays logged in. Access tokens already
/// issued stay valid until they expire (minutes).
#[utoipa::path(
    tag = "auth",
    operation_id = "changeMyPassword",
    request_body = PasswordChange,
    responses(
        (status = 200, description = "Changed; a new login", body = TokenPair),
        (status = 403, description = "Called with an API key (`forbidden`): a person changes a password", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Wrong current password (`current_password`) or a weak new one (`new_password`)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many failed attempts (`too_many_login_attempts`), or too many password checks from this address at once (`too_many_password_checks`: 20, then 5 a second)", body = Problem, content_type = "application/problem+json", headers(("Retry-After" = u64))),
    ),
    security(("bearer" = []))
)]
#[post("/me/password")]
pub async fn change_my_password(
    state: web::Data<AppState>,
    Person(caller): Person,
    req: HttpRequest,
    body: Body<PasswordChange>,
) -> ApiResult<HttpResponse> {
    let PasswordChange {
        current_password,
        new_password,
    } = body.value;
    let id = caller.user_id;
    let account = state
        .db(move |conn| users::get(conn, id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    if let Err(error) = check_password(&new_password, &account.username) {
        return Err(ApiError::validation(vec![error.nested("new_password")]));
    }
    let wrong = || {
        ApiError::validation(vec![FieldError::new(
            "current_password",
            FieldCode::WrongPassword,
            "this is not your current password",
        )])
    };
    let checked = check_credentials(
        &state,
        client_address(&req),
        account.username.clone(),
        current_password,
    )
    .await?;
    if checked.is_none_or(|user| user.id != id) {
        return Err(wrong());
    }
    let password_hash = state.hashing(move || hash_password(&new_password)).await?;
    let changes = users::UserChanges {
        password_hash: Some(password_hash),
        ..Default::default()
    };
    state
        .db(move |conn| users::update(conn, id, &Expected::Any, changes, id))
        .await?;
    state.principals.forget(id);
    let pair = new_session(&state, id).await?;
    Ok(Reply::ok(&pair).into_response())
}
