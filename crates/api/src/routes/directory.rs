//! Users and sales units: readable by every signed-in user, changed by admins only.

use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use credo_core::directory::{check_password, normalize_username, SalesUnit, User};
use credo_core::text::required_text;
use credo_core::FieldCode;
use credo_core::{Email, FieldErrors, Principal, Role};
use credo_store::versioned::Updated;
use credo_store::{units, users};
use serde::Deserialize;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::auth::{hash_password, require_admin, Caller};
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::extract::{self, Body, Query};
use crate::pagination::{Page, PageParams};
use crate::reply::{self, idempotent, Reply};
use crate::state::AppState;

/// A user that exists and is not disabled, or 422 on `field`.
pub async fn active_user(state: &AppState, id: Uuid, field: &str) -> ApiResult<User> {
    let user = state.db(move |conn| users::get(conn, id)).await?;
    user.filter(|u| !u.disabled)
        .ok_or_else(|| ApiError::field(field, FieldCode::UnknownUser, "no active user has this id"))
}

/// An active user `caller` may give work or customers to (a lead, a task, a visit, an
/// owner): themselves, or anyone in the caller's data scope. 422 on `field` for no such
/// active user, and `out_of_scope` (with `refusal`) for one outside the scope.
pub async fn assignable_user(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
    field: &str,
    refusal: &str,
) -> ApiResult<User> {
    let user = active_user(state, id, field).await?;
    if caller.user_id == user.id || caller.can_see(user.id, user.sales_unit_id) {
        Ok(user)
    } else {
        Err(ApiError::field(field, FieldCode::OutOfScope, refusal))
    }
}

/// 422 `cannot_see_customer` on `field` unless `user` sees `customer`: work on a customer
/// goes only to someone who can open it.
pub fn sees_customer(
    user: &User,
    customer: &credo_customers::Customer,
    field: &str,
) -> ApiResult<()> {
    if user
        .principal()
        .can_see(customer.owner_id, customer.sales_unit_id)
    {
        Ok(())
    } else {
        Err(ApiError::field(
            field,
            FieldCode::CannotSeeCustomer,
            "this user cannot see the customer: transfer it first, or give the work to its owner",
        ))
    }
}

/// A sales unit that exists and is active, or 422 on `sales_unit_id`.
async fn active_unit(state: &AppState, id: Uuid) -> ApiResult<SalesUnit> {
    let unit = state.db(move |conn| units::get(conn, id)).await?;
    unit.filter(|u| u.active).ok_or_else(|| {
        ApiError::field(
            "sales_unit_id",
            FieldCode::UnknownSalesUnit,
            "no active sales unit has this id",
        )
    })
}

/// A new user account.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    #[schema(
        example = "zhang.wei",
        min_length = 3,
        max_length = 64,
        pattern = "^[A-Za-z0-9._-]{3,64}$"
    )]
    pub username: String,
    #[schema(example = "张伟", min_length = 1, max_length = 200)]
    pub display_name: String,
    #[schema(example = "zhang.wei@example.cn", max_length = 254)]
    pub email: Option<String>,
    pub role: Role,
    pub sales_unit_id: Option<Uuid>,
    /// 12 to 256 characters.
    #[schema(min_length = 12, max_length = 256, example = "correct horse battery")]
    pub password: String,
}

/// Changes to a user account, as a merge patch: absent fields stay as they are, `null`
/// clears `email` and `sales_unit_id` (and is refused on the others, which cannot be empty).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateUser {
    #[serde(default, deserialize_with = "credo_core::json::unclearable")]
    #[schema(
        min_length = 1,
        max_length = 200,
        nullable = false,
        example = "张伟 (华南区)"
    )]
    pub display_name: Option<String>,
    /// `null` removes the address.
    #[serde(default, deserialize_with = "credo_core::json::clearable")]
    #[schema(value_type = Option<String>, nullable, max_length = 254)]
    pub email: Option<Option<String>>,
    #[serde(default, deserialize_with = "credo_core::json::unclearable")]
    #[schema(nullable = false)]
    pub role: Option<Role>,
    /// A unit id; `null` takes the user out of any unit.
    #[serde(default, deserialize_with = "credo_core::json::clearable")]
    #[schema(value_type = Option<Uuid>, nullable)]
    pub sales_unit_id: Option<Option<Uuid>>,
    /// Deprecated: the same as `"sales_unit_id": null`.
    #[serde(default)]
    #[schema(deprecated)]
    pub clear_sales_unit: bool,
    /// Disabling ends every session of the user at once.
    #[serde(default, deserialize_with = "credo_core::json::unclearable")]
    #[schema(nullable = false)]
    pub disabled: Option<bool>,
    #[serde(default, deserialize_with = "credo_core::json::unclearable")]
    #[schema(min_length = 12, max_length = 256, nullable = false)]
    pub password: Option<String>,
}

fn parse_email(errors: &mut FieldErrors, raw: Option<&str>) -> Option<String> {
    raw.and_then(|e| errors.check("email", Email::parse(e)))
        .map(|e| e.as_str().to_owned())
}

/// Create a user
///
/// A user account with a role and, for agents and unit managers, a sales unit. The password
/// follows the rules of docs/API.md (12 to 256 characters, not a common or breached one, not
/// the username). Administrators only.
#[utoipa::path(
    tag = "directory",
    operation_id = "createUser",
    request_body = CreateUser,
    responses(
        (status = 201, description = "Created", body = User, headers(("Location" = String))),
        (status = 409, description = "Username taken", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/users")]
pub async fn create_user(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    body: Body<CreateUser>,
) -> ApiResult<HttpResponse> {
    require_admin(&caller, "users and sales units")?;
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        let mut errors = FieldErrors::new();
        let username = errors.check("username", normalize_username(&input.username));
        let display_name = errors.check("display_name", required_text(&input.display_name, 200));
        let email = parse_email(&mut errors, input.email.as_deref());
        errors.check(
            "password",
            check_password(
                &input.password,
                username.as_deref().unwrap_or(&input.username),
            ),
        );
        if input.role == Role::UnitManager && input.sales_unit_id.is_none() {
            errors.push(credo_core::FieldError::new(
                "sales_unit_id",
                FieldCode::Required,
                "a unit manager needs a sales unit",
            ));
        }
        let (Some(username), Some(display_name)) = (username, display_name) else {
            return Err(ApiError::validation(errors.into_vec()));
        };
        if !errors.is_empty() {
            return Err(ApiError::validation(errors.into_vec()));
        }
        if let Some(unit) = input.sales_unit_id {
            active_unit(&state, unit).await?;
        }
        let password_hash = state
            .hashing(move || hash_password(&input.password))
            .await?;
        let (role, unit) = (input.role, input.sales_unit_id);
        reply::write(&state, move |conn| {
            let new = users::NewUser {
                id: Uuid::now_v7(),
                username: &username,
                display_name: &display_name,
                email: email.as_deref(),
                role,
                sales_unit_id: unit,
                password_hash: &password_hash,
            };
            Ok(match users::create(conn, &new)? {
                users::CreateOutcome::Created(user) => {
                    Ok(Reply::created(&user, format!("/api/v1/users/{}", user.id)))
                }
                users::CreateOutcome::UsernameTaken => Err(ApiError::new(
                    ErrorCode::UsernameTaken,
                    "the username is taken",
                )),
            })
        })
        .await
    })
    .await
}

/// List users
///
/// User accounts with their roles and sales units; never a password hash.
#[utoipa::path(
    tag = "directory",
    operation_id = "listUsers",
    params(PageParams),
    responses((status = 200, description = "Users, by username", body = Page<User>)),
    security(("bearer" = []))
)]
#[get("/users")]
pub async fn list_users(
    state: web::Data<AppState>,
    _caller: Caller,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    page.answer(&state, users::list, |user| (user.username.clone(), user.id))
        .await
}

/// Get a user
///
/// A user account with its role, sales unit and `ETag`; never a password hash.
#[utoipa::path(
    tag = "directory",
    operation_id = "getUser",
    params(("id" = Uuid, Path, description = "User id")),
    responses((status = 200, description = "The user", body = User, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[get("/users/{id}")]
pub async fn get_user(
    state: web::Data<AppState>,
    _caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let user = state
        .db(move |conn| users::get(conn, id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Reply::ok(&user).with_version(user.version).into_response())
}

/// Change a user's name, e-mail, role, unit, password, or disable it
///
/// A merge patch with `If-Match`: `null` clears `email` and `sales_unit_id`. A new password
/// or disabling the account ends the user's sessions; a new unit takes the user's customers,
/// leads and tasks along. Administrators only; nobody disables or demotes themselves.
#[utoipa::path(
    tag = "directory",
    operation_id = "updateUser",
    params(
        ("id" = Uuid, Path, description = "User id"),
        ("If-Match" = String, Header, description = "ETag of the version you changed"),
    ),
    request_body = UpdateUser,
    responses(
        (status = 200, description = "Changed", body = User, headers(("ETag" = String))),
        (status = 412, description = "Stale If-Match; `current` holds the user", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/users/{id}")]
pub async fn update_user(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Body<UpdateUser>,
) -> ApiResult<HttpResponse> {
    require_admin(&caller, "users and sales units")?;
    let expected = extract::if_match(&req)?;
    let id = id.into_inner();
    let input = body.value;
    let mut errors = FieldErrors::new();
    let display_name = input
        .display_name
        .as_deref()
        .and_then(|n| errors.check("display_name", required_text(n, 200)));
    let email = input
        .email
        .as_ref()
        .map(|e| parse_email(&mut errors, e.as_deref()));
    if let Some(password) = &input.password {
        let account = state
            .db(move |conn| users::get(conn, id))
            .await?
            .ok_or_else(ApiError::not_found)?;
        errors.check("password", check_password(password, &account.username));
    }
    if input.clear_sales_unit && input.sales_unit_id.flatten().is_some() {
        errors.push(credo_core::FieldError::new(
            "clear_sales_unit",
            FieldCode::Conflicting,
            "send either sales_unit_id or clear_sales_unit",
        ));
    }
    if id == caller.user_id
        && (input.disabled == Some(true) || input.role.is_some_and(|r| r != Role::Admin))
    {
        errors.push(credo_core::FieldError::new(
            "role",
            FieldCode::SelfLockout,
            "you cannot disable or demote yourself",
        ));
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors.into_vec()));
    }
    if let Some(Some(unit)) = input.sales_unit_id {
        active_unit(&state, unit).await?;
    }
    let password_hash = match input.password {
        Some(password) => Some(state.hashing(move || hash_password(&password)).await?),
        None => None,
    };
    let changes = users::UserChanges {
        display_name,
        email,
        role: input.role,
        sales_unit_id: if input.clear_sales_unit {
            Some(None)
        } else {
            input.sales_unit_id
        },
        disabled: input.disabled,
        password_hash,
    };
    let actor = caller.user_id;
    let outcome = state
        .db(move |conn| users::update(conn, id, &expected, changes, actor))
        .await?;
    if let Updated::Updated(user) = &outcome {
        state.principals.forget(user.id);
        if user.role == Role::UnitManager && user.sales_unit_id.is_none() {
            tracing::warn!(user = %user.id, "unit manager without a sales unit sees no customers");
        }
    }
    Ok(reply::updated(outcome, "user", |u| u.version, |never| match never {})?.into_response())
}

/// A new sales unit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSalesUnit {
    /// Short unique code, e.g. `SZ`.
    #[schema(example = "SZ", min_length = 1, max_length = 32)]
    pub code: String,
    #[schema(example = "深圳办事处", min_length = 1, max_length = 200)]
    pub name: String,
}

/// Changes to a sales unit.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateSalesUnit {
    #[serde(default, deserialize_with = "credo_core::json::unclearable")]
    #[schema(
        min_length = 1,
        max_length = 200,
        nullable = false,
        example = "深圳南山办事处"
    )]
    pub name: Option<String>,
    #[serde(default, deserialize_with = "credo_core::json::unclearable")]
    #[schema(nullable = false)]
    pub active: Option<bool>,
}

/// Create a sales unit
///
/// An office or branch that owns customers through its people; `code` is unique and
/// upper-cased. Administrators only.
#[utoipa::path(
    tag = "directory",
    operation_id = "createSalesUnit",
    request_body = CreateSalesUnit,
    responses(
        (status = 201, description = "Created", body = SalesUnit, headers(("Location" = String))),
        (status = 409, description = "Code taken", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/sales-units")]
pub async fn create_sales_unit(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    body: Body<CreateSalesUnit>,
) -> ApiResult<HttpResponse> {
    require_admin(&caller, "users and sales units")?;
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        let mut errors = FieldErrors::new();
        let code = errors
            .check("code", required_text(&input.code, 32))
            .map(|c| c.to_uppercase());
        let name = errors.check("name", required_text(&input.name, 200));
        let (Some(code), Some(name)) = (code, name) else {
            return Err(ApiError::validation(errors.into_vec()));
        };
        reply::write(&state, move |conn| {
            Ok(match units::create(conn, Uuid::now_v7(), &code, &name)? {
                units::CreateOutcome::Created(unit) => Ok(Reply::created(
                    &unit,
                    format!("/api/v1/sales-units/{}", unit.id),
                )),
                units::CreateOutcome::CodeTaken => {
                    Err(ApiError::new(ErrorCode::UnitCodeTaken, "the code is taken"))
                }
            })
        })
        .await
    })
    .await
}

/// List sales units
///
/// The company's sales units (offices, branches), by code.
#[utoipa::path(
    tag = "directory",
    operation_id = "listSalesUnits",
    params(PageParams),
    responses((status = 200, description = "Sales units, by code", body = Page<SalesUnit>)),
    security(("bearer" = []))
)]
#[get("/sales-units")]
pub async fn list_sales_units(
    state: web::Data<AppState>,
    _caller: Caller,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    page.answer(&state, units::list, |unit| (unit.code.clone(), unit.id))
        .await
}

/// Rename or (de)activate a sales unit
///
/// Administrators only.
#[utoipa::path(
    tag = "directory",
    operation_id = "updateSalesUnit",
    params(("id" = Uuid, Path, description = "Sales unit id")),
    request_body = UpdateSalesUnit,
    responses((status = 200, description = "Changed", body = SalesUnit)),
    security(("bearer" = []))
)]
#[patch("/sales-units/{id}")]
pub async fn update_sales_unit(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    body: Body<UpdateSalesUnit>,
) -> ApiResult<HttpResponse> {
    require_admin(&caller, "users and sales units")?;
    let id = id.into_inner();
    let input = body.value;
    let name = input
        .name
        .as_deref()
        .map(|n| required_text(n, 200).map_err(|e| ApiError::validation(vec![e.nested("name")])))
        .transpose()?;
    let unit = state
        .db(move |conn| units::update(conn, id, name.as_deref(), input.active))
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Reply::ok(&unit).into_response())
}
