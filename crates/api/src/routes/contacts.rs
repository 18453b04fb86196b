//! Contacts of a customer: several per customer, one of them primary.

use actix_web::{delete, get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use credo_customers::{Contact, ContactInput, ContactRecord};
use credo_store::contacts::{self as repo, ContactChange, CreateOutcome};
use serde::Deserialize;
use utoipa::IntoParams;
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::export::Export;
use crate::extract::{self, Body, Query};
use crate::merge_patch::{merge_patch, Patch};
use crate::pagination::{Page, PageParams};
use crate::reply::{self, idempotent, Reply};
use crate::routes::customers::{require_writer, visible_customer};
use crate::state::AppState;

merge_patch!(
    /// Changes to a contact, as a JSON merge patch: members sent change, `null` clears, absent
    /// members stay.
    ContactPatch of ContactInput,
    read_only: ["id"]
);

/// The page and filter of a customer's contacts.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ContactListParams {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the page before; absent for the first page.
    pub cursor: Option<String>,
    /// Only contacts changed at or after this time (RFC 3339): what a sync has not seen.
    pub updated_since: Option<DateTime<Utc>>,
}

/// List a customer's contacts
///
/// The customer's live contacts, the primary contact first, then by name; `updated_since`
/// gives those changed since a sync.
#[utoipa::path(
    tag = "contacts",
    operation_id = "listContacts",
    params(("id" = Uuid, Path, description = "Customer id"), ContactListParams),
    responses((status = 200, description = "Live contacts, the primary first, then by name", body = Page<ContactRecord>)),
    security(("bearer" = []))
)]
#[get("/customers/{id}/contacts")]
pub async fn list_contacts(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    params: Query<ContactListParams>,
    export: Export,
) -> ApiResult<HttpResponse> {
    let customer = visible_customer(&state, &caller, id.into_inner()).await?;
    let ContactListParams {
        limit,
        cursor,
        updated_since,
    } = params.into_inner();
    PageParams { limit, cursor }
        .answer_or_export(
            &state,
            export,
            move |conn, window| repo::list(conn, customer.id, updated_since, window),
            |record| {
                let contact = &record.contact;
                ((contact.is_primary, contact.name.clone()), record.id)
            },
        )
        .await
}

/// Add a contact to a customer
///
/// A contact person of the customer. Making one primary demotes the previous primary in the
/// same transaction. While the customer is archived, 409 `customer_archived`.
#[utoipa::path(
    tag = "contacts",
    operation_id = "createContact",
    params(("id" = Uuid, Path, description = "Customer id")),
    request_body = ContactInput,
    responses(
        (status = 201, description = "Created", body = ContactRecord, headers(("ETag" = String), ("Location" = String))),
        (status = 409, description = "A contact with this id exists (`id_conflict`), the customer is archived (`customer_archived`), or a concurrent write (`concurrent_update`, `idempotency_in_progress`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/customers/{id}/contacts")]
pub async fn create_contact(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Body<ContactInput>,
) -> ApiResult<HttpResponse> {
    require_writer(&caller)?;
    let customer_id = id.into_inner();
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        let customer = visible_customer(&state, &caller, customer_id).await?;
        let id = input.id.unwrap_or_else(Uuid::now_v7);
        let contact = Contact::try_from(input).map_err(ApiError::validation)?;
        let actor = caller.user_id;
        reply::write(&state, move |conn| {
            Ok(
                match repo::create(conn, id, customer.id, contact.clone(), actor)? {
                    CreateOutcome::Created(record) => Ok(Reply::created(
                        &record,
                        format!(
                            "/api/v1/customers/{}/contacts/{}",
                            record.customer_id, record.id
                        ),
                    )
                    .with_version(record.stamps.version)),
                    CreateOutcome::IdTaken => Err(ApiError::new(
                        ErrorCode::IdConflict,
                        "a contact with this id exists",
                    )),
                },
            )
        })
        .await
    })
    .await
}

/// Get a contact
///
/// A live contact of the customer; an archived (deleted) contact is 404.
#[utoipa::path(
    tag = "contacts",
    operation_id = "getContact",
    params(("id" = Uuid, Path, description = "Customer id"), ("contact_id" = Uuid, Path, description = "Contact id")),
    responses((status = 200, description = "The contact", body = ContactRecord, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[get("/customers/{id}/contacts/{contact_id}")]
pub async fn get_contact(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    let (customer_id, contact_id) = path.into_inner();
    let customer = visible_customer(&state, &caller, customer_id).await?;
    let contact = state
        .db(move |conn| repo::get(conn, customer.id, contact_id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Reply::ok(&contact)
        .with_version(contact.stamps.version)
        .into_response())
}

/// Change a contact
///
/// A JSON merge patch of ContactInput fields; `If-Match` required.
#[utoipa::path(
    tag = "contacts",
    operation_id = "patchContact",
    params(
        ("id" = Uuid, Path, description = "Customer id"),
        ("contact_id" = Uuid, Path, description = "Contact id"),
        ("If-Match" = String, Header, description = "ETag of the version you changed"),
    ),
    request_body(content = ContactPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed", body = ContactRecord, headers(("ETag" = String))),
        (status = 412, description = "Stale If-Match; `current` holds the contact", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/customers/{id}/contacts/{contact_id}")]
pub async fn patch_contact(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    patch: Patch<ContactPatch>,
) -> ApiResult<HttpResponse> {
    require_writer(&caller)?;
    let expected = extract::if_match(&req)?;
    let patch = patch.body;
    let (customer_id, contact_id) = path.into_inner();
    visible_customer(&state, &caller, customer_id).await?;
    let actor = caller.user_id;
    let outcome = state
        .db(move |conn| {
            repo::update(
                conn,
                customer_id,
                contact_id,
                &expected,
                ContactChange::Patch(patch),
                actor,
            )
        })
        .await?;
    Ok(reply::updated(
        outcome,
        "contact",
        |c| c.stamps.version,
        ApiError::validation,
    )?
    .into_response())
}

/// Remove a contact
///
/// The contact is archived: it leaves lists and search but stays in the history.
#[utoipa::path(
    tag = "contacts",
    operation_id = "deleteContact",
    params(
        ("id" = Uuid, Path, description = "Customer id"),
        ("contact_id" = Uuid, Path, description = "Contact id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version you remove"),
    ),
    responses(
        (status = 204, description = "Removed"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/customers/{id}/contacts/{contact_id}")]
pub async fn delete_contact(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
) -> ApiResult<HttpResponse> {
    require_writer(&caller)?;
    let expected = extract::optional_if_match(&req)?;
    let (customer_id, contact_id) = path.into_inner();
    visible_customer(&state, &caller, customer_id).await?;
    let actor = caller.user_id;
    let outcome = state
        .db(move |conn| {
            repo::update(
                conn,
                customer_id,
                contact_id,
                &expected,
                ContactChange::Archive,
                actor,
            )
        })
        .await?;
    reply::updated(
        outcome,
        "contact",
        |c| c.stamps.version,
        ApiError::validation,
    )?;
    Ok(HttpResponse::NoContent().finish())
}
