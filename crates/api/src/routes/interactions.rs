//! The interaction log of a customer and its timeline: every source in one feed.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use credo_core::FieldCode;
use credo_core::FieldError;
use credo_customers::interaction::Participants;
use credo_customers::{Interaction, InteractionInput, TimelineEntry};
use credo_store::{activity, contacts, timeline, users};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::export::Export;
use crate::extract::{Body, Query};
use crate::pagination::{Page, PageParams};
use crate::reply::{self, idempotent, Reply};
use crate::routes::customers::{require_writer, visible_customer};
use crate::state::AppState;

/// 422 unless every participant is an active user or a live contact of the customer.
async fn check_participants(
    state: &AppState,
    customer_id: Uuid,
    participants: &Participants,
    prefix: &str,
) -> ApiResult<()> {
    let (user_ids, contact_ids) = (
        participants.user_ids.clone(),
        participants.contact_ids.clone(),
    );
    let (known_users, known_contacts) = state
        .db(move |conn| {
            Ok((
                users::active_ids(conn, &user_ids)?,
                contacts::live_ids(conn, customer_id, &contact_ids)?,
            ))
        })
        .await?;
    let mut errors = Vec::new();
    for (at, id) in participants.user_ids.iter().enumerate() {
        if !known_users.contains(id) {
            errors.push(FieldError::new(
                format!("{prefix}user_ids[{at}]"),
                FieldCode::UnknownUser,
                "no active user has this id",
            ));
        }
    }
    for (at, id) in participants.contact_ids.iter().enumerate() {
        if !known_contacts.contains(id) {
            errors.push(FieldError::new(
                format!("{prefix}contact_ids[{at}]"),
                FieldCode::UnknownContact,
                "no live contact of this customer has this id",
            ));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(ApiError::validation(errors))
    }
}

/// List a customer's interactions
///
/// Newest first, keyset-paginated. Unit managers read their team's interactions through
/// their unit's customers (supervision, seed 001).
#[utoipa::path(
    tag = "activity",
    operation_id = "listInteractions",
    params(("id" = Uuid, Path, description = "Customer id"), PageParams),
    responses((status = 200, description = "One page", body = Page<Interaction>)),
    security(("bearer" = []))
)]
#[get("/customers/{id}/interactions")]
pub async fn list_interactions(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
    export: Export,
) -> ApiResult<HttpResponse> {
    let customer = visible_customer(&state, &caller, id.into_inner()).await?;
    page.answer_or_export(
        &state,
        export,
        move |conn, window| activity::interactions(conn, customer.id, window),
        |interaction| (interaction.occurred_at, interaction.id),
    )
    .await
}

/// Log an interaction with a customer
///
/// A call, e-mail, fax, meeting, visit, trade-fair contact or message: when, which way, who
/// took part (users and the customer's contacts), what was said and what came of it.
#[utoipa::path(
    tag = "activity",
    operation_id = "createInteraction",
    params(("id" = Uuid, Path, description = "Customer id")),
    request_body = InteractionInput,
    responses((status = 201, description = "Created", body = Interaction, headers(("Location" = String)))),
    security(("bearer" = []))
)]
#[post("/customers/{id}/interactions")]
pub async fn create_interaction(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Body<InteractionInput>,
) -> ApiResult<HttpResponse> {
    require_writer(&caller)?;
    let customer_id = id.into_inner();
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        let customer = visible_customer(&state, &caller, customer_id).await?;
        let interaction = input
            .validate(credo_store::now())
            .map_err(ApiError::validation)?;
        check_participants(
            &state,
            customer.id,
            &interaction.participants,
            "participants.",
        )
        .await?;
        let actor = caller.user_id;
        reply::write(&state, move |conn| {
            let record = activity::add_interaction(conn, customer.id, interaction.clone(), actor)?;
            Ok(Ok(Reply::created(
                &record,
                format!("/api/v1/customers/{customer_id}/interactions"),
            )))
        })
        .await
    })
    .await
}

/// Get a customer's timeline
///
/// Interactions, visits, orders, notes, assessments, events and ownership changes in one
/// feed, newest first, keyset-paginated. Each entry names its kind and id, to be opened at
/// its own endpoint.
#[utoipa::path(
    tag = "activity",
    operation_id = "getCustomerTimeline",
    params(("id" = Uuid, Path, description = "Customer id"), PageParams),
    responses((status = 200, description = "One page", body = Page<TimelineEntry>)),
    security(("bearer" = []))
)]
#[get("/customers/{id}/timeline")]
pub async fn customer_timeline(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let customer = visible_customer(&state, &caller, id.into_inner()).await?;
    page.answer(
        &state,
        move |conn, window| timeline::timeline(conn, customer.id, window),
        |entry| (entry.at, entry.id),
    )
    .await
}
