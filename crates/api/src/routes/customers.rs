//! The customer file: create, read, change, archive and restore, list, transfer, history.

use crate::any_of::{self, AnyOf};
use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use credo_core::audit::AuditEntry;
use credo_core::FieldCode;
use credo_core::{CountryCode, Principal, Tag};
use credo_customers::{Customer, CustomerInput, LifecycleStage, Transfer};
use credo_store::customers::{
    self as repo, Change, CreateOutcome, ListQuery, NewCustomer, Refusal, SortField, UpdateOutcome,
};
use credo_store::{DbConnection, StoreError};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::export::Export;
use crate::extract::{self, Body, Query};
use crate::merge_patch::{merge_patch, Patch};
use crate::pagination::{list_sort, Page, PageParams, SortDirection, SortedPage};
use crate::reply::{self, idempotent, Reply};
use crate::routes::directory::assignable_user;
use crate::state::AppState;
use credo_store::holder::Holder;

merge_patch!(
    /// Changes to a customer's profile, as a JSON merge patch: members sent change, `null`
    /// clears, absent members stay. Ownership moves by `transfer`; identity and bookkeeping
    /// are read-only.
    CustomerPatch of CustomerInput,
    read_only: [
        "id",
        "owner_id",
        "sales_unit_id",
        "archived_at",
        "credit_review_due_since",
        "credit_data_refreshed_at",
        "created_at",
        "created_by",
        "updated_at",
        "updated_by",
        "version",
    ]
);

pub fn location(id: Uuid) -> String {
    format!("/api/v1/customers/{id}")
}

/// Whether the caller may change the customer file (customers, contacts, notes, assessments).
pub fn require_writer(caller: &Principal) -> ApiResult<()> {
    if caller.can_write_customers() {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "your role may read the customer file but not change it",
        ))
    }
}

/// Loads a customer the caller may see; anything else is 404, so existence does not leak.
pub async fn visible_customer(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
) -> ApiResult<Customer> {
    let customer = state.db(move |conn| repo::get(conn, id)).await?;
    customer
        .filter(|c| caller.can_see(c.owner_id, c.sales_unit_id))
        .ok_or_else(ApiError::not_found)
}

/// A record of a customer (an order, a visit, a trial) that the caller may see: `load` reads
/// it and `customer_of` names its customer, whose ownership is read in the same trip to the
/// pool. Anything else is 404, so existence does not leak.
pub async fn visible_record<T: Send + 'static>(
    state: &AppState,
    caller: &Principal,
    load: impl FnOnce(&mut DbConnection) -> Result<Option<T>, StoreError> + Send + 'static,
    customer_of: fn(&T) -> Uuid,
) -> ApiResult<T> {
    let found = state
        .db(move |conn| {
            let Some(record) = load(conn)? else {
                return Ok(None);
            };
            let ownership = repo::ownership(conn, customer_of(&record))?;
            Ok(ownership.map(|owner| (record, owner)))
        })
        .await?;
    match found {
        Some((record, (owner, unit))) if caller.can_see(owner, unit) => Ok(record),
        _ => Err(ApiError::not_found()),
    }
}

/// A customer named in a request body: one the caller may see, or 422 on `field`.
pub async fn referenced_customer(
    state: &AppState,
    caller: &Principal,
    id: Uuid,
    field: &str,
) -> ApiResult<Customer> {
    match visible_customer(state, caller, id).await {
        Err(error) if error.code == ErrorCode::NotFound => Err(ApiError::field(
            field,
            FieldCode::NotFound,
            "no customer with this id in your data scope",
        )),
        other => other,
    }
}

fn duplicate(caller: &Principal, holder: Holder) -> ApiError {
    ApiError::new(ErrorCode::DuplicateCustomer, "a customer has this USCC")
        .about(caller, holder)
        .with_errors(vec![credo_core::FieldError::new(
            "uscc",
            FieldCode::Duplicate,
            "another customer has this USCC",
        )])
}

pub fn updated(caller: &Principal, outcome: UpdateOutcome) -> ApiResult<Reply> {
    reply::updated(
        outcome,
        "customer",
        |c| c.stamps.version,
        |refusal| match refusal {
            Refusal::Invalid(errors) => ApiError::validation(errors),
            Refusal::DuplicateUscc(holder) => duplicate(caller, holder),
        },
    )
}

/// Create a customer
///
/// Validates every field (USCC check character per GB 32100-2015, ISO country, e-mails,
/// phones) and reports all offending fields at once. The owner defaults to the caller.
#[utoipa::path(
    tag = "customers",
    operation_id = "createCustomer",
    request_body = CustomerInput,
    responses(
        (status = 201, description = "Created", body = Customer, headers(("ETag" = String), ("Location" = String))),
        (status = 409, description = "A customer with this USCC or id exists (`duplicate_customer`, `id_conflict`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/customers")]
pub async fn create_customer(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    body: Body<CustomerInput>,
) -> ApiResult<HttpResponse> {
    require_writer(&caller)?;
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        let id = input.id.unwrap_or_else(Uuid::now_v7);
        let owner_id = input.owner_id.unwrap_or(caller.user_id);
        let profile = input
            .validate(state.today().await?)
            .map_err(ApiError::validation)?;
        let owner = assignable_user(
            &state,
            &caller,
            owner_id,
            "owner_id",
            "you may only create customers inside your own data scope",
        )
        .await?;
        let new = NewCustomer {
            id,
            profile,
            owner_id: owner.id,
            sales_unit_id: owner.sales_unit_id,
            actor: caller.user_id,
        };
        let caller = caller.clone();
        reply::write(&state, move |conn| {
            Ok(match repo::create(conn, new.clone())? {
                CreateOutcome::Created(customer) => {
                    Ok(Reply::created(&customer, location(customer.id))
                        .with_version(customer.stamps.version))
                }
                CreateOutcome::DuplicateUscc(holder) => Err(duplicate(&caller, holder)),
                CreateOutcome::IdTaken(existing) => {
                    let error =
                        ApiError::new(ErrorCode::IdConflict, "a customer with this id exists");
                    // Only name the record when the caller may see it.
                    if caller.can_see(existing.owner_id, existing.sales_unit_id) {
                        Err(error.with_existing_id(existing.id))
                    } else {
                        Err(error)
                    }
                }
            })
        })
        .await
    })
    .await
}

/// Get a customer
///
/// The customer's file as it is now, with its `ETag`: send it back in `If-Match` to change
/// the file, or in `If-None-Match` to be answered 304 while it is current. An archived customer
/// is read like any other; one outside your scope is 404.
#[utoipa::path(
    tag = "customers",
    operation_id = "getCustomer",
    params(("id" = Uuid, Path, description = "Customer id")),
    responses((status = 200, description = "The customer", body = Customer, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[get("/customers/{id}")]
pub async fn get_customer(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let customer = visible_customer(&state, &caller, id.into_inner()).await?;
    Ok(Reply::ok(&customer)
        .with_version(customer.stamps.version)
        .into_response())
}

/// Change a customer
///
/// The body is a JSON merge patch (RFC 7396) of the profile fields: members set change,
/// `null` clears, absent stay. `If-Match` with the ETag you read is required; a stale one is
/// answered 412 with the current record. Ownership changes go through `transfer`.
#[utoipa::path(
    tag = "customers",
    operation_id = "patchCustomer",
    params(
        ("id" = Uuid, Path, description = "Customer id"),
        ("If-Match" = String, Header, description = "ETag of the version you changed"),
    ),
    request_body(content = CustomerPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed", body = Customer, headers(("ETag" = String))),
        (status = 409, description = "Another customer has this USCC (`duplicate_customer`), the customer is archived (`customer_archived`), or a concurrent write (`concurrent_update`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match; `current` holds the record", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/customers/{id}")]
pub async fn patch_customer(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    patch: Patch<CustomerPatch>,
) -> ApiResult<HttpResponse> {
    require_writer(&caller)?;
    let expected = extract::if_match(&req)?;
    let patch = patch.body;
    let current = visible_customer(&state, &caller, id.into_inner()).await?;
    let (id, actor) = (current.id, caller.user_id);
    let change = Change::Patch {
        patch,
        today: state.today().await?,
    };
    let outcome = state
        .db(move |conn| repo::update(conn, id, &expected, change, actor))
        .await?;
    Ok(updated(&caller, outcome)?.into_response())
}

/// Archive a customer
///
/// A soft delete: the file, its history and its contacts stay; the customer leaves lists
/// until restored. `If-Match` is checked when sent.
#[utoipa::path(
    tag = "customers",
    operation_id = "archiveCustomer",
    params(
        ("id" = Uuid, Path, description = "Customer id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version you archive"),
    ),
    responses(
        (status = 200, description = "Archived", body = Customer, headers(("ETag" = String))),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/customers/{id}")]
pub async fn archive_customer(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let reply = change_archival(&state, &caller, &req, id.into_inner(), Change::Archive).await?;
    Ok(reply.into_response())
}

/// Restore an archived customer
///
/// Brings the customer back into lists and search with the contacts archived with it (not
/// those deleted before); its file is writable again.
#[utoipa::path(
    tag = "customers",
    operation_id = "restoreCustomer",
    params(
        ("id" = Uuid, Path, description = "Customer id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version you restore"),
    ),
    responses(
        (status = 200, description = "Restored", body = Customer, headers(("ETag" = String))),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/customers/{id}/restore")]
pub async fn restore_customer(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    idempotent(&state, &caller, &req, &serde_json::Value::Null, || {
        change_archival(&state, &caller, &req, id, Change::Restore)
    })
    .await
}

async fn change_archival(
    state: &AppState,
    caller: &Principal,
    req: &HttpRequest,
    id: Uuid,
    change: Change,
) -> ApiResult<Reply> {
    require_writer(caller)?;
    let expected = extract::optional_if_match(req)?;
    let current = visible_customer(state, caller, id).await?;
    let actor = caller.user_id;
    let caller = caller.clone();
    reply::write(state, move |conn| {
        Ok(updated(
            &caller,
            repo::update(conn, current.id, &expected, change.clone(), actor)?,
        ))
    })
    .await
}

list_sort!(
    /// Columns the customer list sorts by.
    CustomerSort => SortField { Name, CreatedAt, UpdatedAt }
);

/// Filters, order and page of the customer list. Unknown parameters are rejected.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomerListParams {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Text in the legal or short name, or in a contact's name.
    #[param(max_length = 200)]
    pub q: Option<String>,
    pub owner_id: Option<Uuid>,
    pub sales_unit_id: Option<Uuid>,
    /// Any of these stages, comma-separated (`active,at_risk`).
    #[param(inline, value_type = Option<Vec<LifecycleStage>>, style = Form, explode = false)]
    pub lifecycle_stage: Option<AnyOf<LifecycleStage>>,
    /// ISO 3166-1 alpha-2.
    #[param(pattern = "^[A-Za-z]{2}$", example = "CN")]
    pub country: Option<String>,
    pub industry: Option<String>,
    /// Customers with this tag (case-insensitive).
    #[param(min_length = 1, max_length = 40, example = "vip")]
    pub tag: Option<String>,
    /// The customer with this unified social credit code (GB 32100-2015), if it is in your
    /// scope: the lookup before creating a company.
    #[param(example = "91350100M000100Y43")]
    pub uscc: Option<String>,
    /// Customers with a live contact of this phone number (separators ignored: `+86 138-0013-8000`
    /// finds `+8613800138000`), in your scope: who is calling?
    #[param(example = "+8613800138000")]
    pub phone: Option<String>,
    /// Customers with a live contact of this e-mail address (case-insensitive), in your scope.
    #[param(example = "wang.wei@example.com")]
    pub email: Option<String>,
    /// Only customers changed at or after this time (RFC 3339).
    pub updated_since: Option<chrono::DateTime<chrono::Utc>>,
    /// Only customers with (`true`) or without (`false`) an open credit review.
    pub credit_review_due: Option<bool>,
    /// List archived customers instead of live ones.
    pub archived: Option<bool>,
    /// The column to sort by (default `name`).
    #[param(inline)]
    pub sort: Option<CustomerSort>,
    /// Which way (default `asc`).
    #[param(inline)]
    pub order: Option<SortDirection>,
}

/// List customers
///
/// Keyset-paginated: follow `next_cursor` until it is absent; records inserted meanwhile
/// cause no gaps or repeats. Agents see their own customers, unit managers their unit's.
#[utoipa::path(
    tag = "customers",
    operation_id = "listCustomers",
    params(CustomerListParams),
    responses((status = 200, description = "One page", body = Page<Customer>)),
    security(("bearer" = []))
)]
#[get("/customers")]
pub async fn list_customers(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    params: Query<CustomerListParams>,
    export: Export,
) -> ApiResult<HttpResponse> {
    let p = params.into_inner();
    let page = SortedPage::read(
        p.limit,
        p.cursor.as_deref(),
        p.sort.unwrap_or_default(),
        p.order.unwrap_or(SortDirection::Asc),
    )?;
    let q =
        p.q.as_deref()
            .map(credo_core::text::search_key)
            .filter(|q| !q.is_empty());
    if q.as_ref().is_some_and(|q| q.chars().count() > 200) {
        return Err(extract::invalid_query(
            "q",
            credo_core::FieldError::new("", FieldCode::TooLong, "at most 200 characters"),
        ));
    }
    let country = extract::parsed_query("country", p.country.as_deref(), CountryCode::parse)?;
    let tag = extract::parsed_query("tag", p.tag.as_deref(), Tag::parse)?;
    let uscc = extract::parsed_query("uscc", p.uscc.as_deref(), credo_core::Uscc::parse)?;
    let phone = extract::parsed_query("phone", p.phone.as_deref(), credo_core::Phone::parse)?;
    let email = extract::parsed_query("email", p.email.as_deref(), credo_core::Email::parse)?;
    let query = ListQuery {
        scope: caller.scope(),
        q,
        owner_id: p.owner_id,
        sales_unit_id: p.sales_unit_id,
        lifecycle_stages: any_of::values(p.lifecycle_stage),
        uscc,
        phone,
        email,
        country,
        industry: p.industry.map(|i| i.trim().to_owned()),
        tag,
        updated_since: p.updated_since,
        credit_review_due: p.credit_review_due,
        archived: p.archived.unwrap_or(false),
    };
    page.answer(
        &state,
        export,
        move |conn, sorting, rows| repo::list(conn, &query, &sorting, rows),
        |last, sort| (repo::sort_key(last, sort.into()), last.id),
    )
    .await
}

/// A handover of a customer to another account manager.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TransferRequest {
    pub new_owner_id: Uuid,
    /// Why the customer changes hands (kept in the history).
    #[schema(
        example = "客户经理调岗,移交同组同事",
        min_length = 1,
        max_length = 1000
    )]
    pub reason: String,
}

/// Transfer a customer to a new owner
///
/// Moves the customer (and its sales unit, which follows the new owner) with a reason; the
/// history keeps every handover. The customer's open tasks held by the former owner go to
/// the new one (each with its history entry). Grades are not touched. Admins, credit managers and unit
/// managers may transfer; the new owner must be inside the caller's scope.
#[utoipa::path(
    tag = "customers",
    operation_id = "transferCustomer",
    params(
        ("id" = Uuid, Path, description = "Customer id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version you transfer"),
    ),
    request_body = TransferRequest,
    responses(
        (status = 200, description = "Transferred", body = Customer, headers(("ETag" = String))),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/customers/{id}/transfer")]
pub async fn transfer_customer(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Body<TransferRequest>,
) -> ApiResult<HttpResponse> {
    if !caller.can_transfer_customers() {
        return Err(ApiError::forbidden(
            "only admins, credit managers and unit managers transfer customers",
        ));
    }
    let expected = extract::optional_if_match(&req)?;
    let Body {
        value: request,
        raw,
    } = body;
    let id = id.into_inner();
    idempotent(&state, &caller, &req, &raw, || async {
        let reason = credo_core::text::required_text(&request.reason, 1000)
            .map_err(|e| ApiError::validation(vec![e.nested("reason")]))?;
        let current = visible_customer(&state, &caller, id).await?;
        let owner = assignable_user(
            &state,
            &caller,
            request.new_owner_id,
            "new_owner_id",
            "the new owner is outside your data scope",
        )
        .await?;
        let change = Change::Transfer {
            owner_id: owner.id,
            sales_unit_id: owner.sales_unit_id,
            reason,
        };
        let actor = caller.user_id;
        let caller = caller.clone();
        reply::write(&state, move |conn| {
            Ok(updated(
                &caller,
                repo::update(conn, current.id, &expected, change.clone(), actor)?,
            ))
        })
        .await
    })
    .await
}

/// List a customer's ownership transfers
///
/// Every handover of the customer between owners and sales units, oldest first: from whom,
/// to whom, by whom and why.
#[utoipa::path(
    tag = "customers",
    operation_id = "listCustomerTransfers",
    params(("id" = Uuid, Path, description = "Customer id"), PageParams),
    responses((status = 200, description = "Every handover, oldest first", body = Page<Transfer>)),
    security(("bearer" = []))
)]
#[get("/customers/{id}/transfers")]
pub async fn list_transfers(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let customer = visible_customer(&state, &caller, id.into_inner()).await?;
    page.answer(
        &state,
        move |conn, window| credo_store::activity::transfers(conn, customer.id, window),
        |transfer| (transfer.transferred_at, transfer.id),
    )
    .await
}

/// Get a customer's change history
///
/// Every change to the customer's profile, ownership and archival: who, when, and each field
/// with its old and new value.
#[utoipa::path(
    tag = "customers",
    operation_id = "getCustomerHistory",
    params(("id" = Uuid, Path, description = "Customer id"), PageParams),
    responses((status = 200, description = "Audit entries, oldest first", body = Page<AuditEntry>)),
    security(("bearer" = []))
)]
#[get("/customers/{id}/history")]
pub async fn customer_history(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let customer = visible_customer(&state, &caller, id.into_inner()).await?;
    page.answer(
        &state,
        move |conn, window| repo::history(conn, customer.id, window),
        |entry| (entry.at, entry.id),
    )
    .await
}
