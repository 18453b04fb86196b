//! Changes to an item's terms: requests for more time, decided by someone else, and
//! disputes.

use actix_web::{delete, get, post, web, HttpRequest, HttpResponse};
use credo_receivables::dunning::DunningPolicyRules;
use credo_receivables::terms::{
    decide, DecisionRefusal, DisputeBound, DisputeInput, Extension, ExtensionDecisionInput,
    ExtensionInput,
};
use credo_receivables::Receivable;
use credo_store::receivables::{self as repo, Terms, TermsRefusal};
use credo_store::settings;
use uuid::Uuid;

use super::{item_location, visible_item};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::extract::{Body, Query};
use crate::pagination::{Page, PageParams};
use crate::reply::{self, idempotent, Reply};
use crate::routes::customers::require_writer;
use crate::state::AppState;

/// The answer to a change of an item's terms: `ok` with the changed record, or the refusal.
fn terms<T>(outcome: Terms<T>, ok: impl FnOnce(T) -> Reply) -> ApiResult<Reply> {
    match outcome {
        Terms::Changed(record) => Ok(ok(record)),
        Terms::NotFound => Err(ApiError::not_found()),
        Terms::Refused(refusal) => Err(match refusal {
            TermsRefusal::Settled => {
                ApiError::new(ErrorCode::ItemSettled, "nothing of the item is open")
            }
            TermsRefusal::Pending(pending) => ApiError::new(
                ErrorCode::ExtensionPending,
                "decide the pending request for more time first",
            )
            .with_existing_id(pending.id),
            TermsRefusal::Disputed(true) => {
                ApiError::new(ErrorCode::AlreadyDisputed, "the item is in dispute already")
            }
            TermsRefusal::Disputed(false) => {
                ApiError::new(ErrorCode::NotDisputed, "the item is not in dispute")
            }
            TermsRefusal::Decision(DecisionRefusal::AlreadyDecided(status)) => ApiError::new(
                ErrorCode::ExtensionDecided,
                format!("the request was {} already", status.as_str()),
            ),
            TermsRefusal::Decision(DecisionRefusal::SamePerson) => ApiError::new(
                ErrorCode::SamePerson,
                "who asked for more time does not grant it",
            ),
            TermsRefusal::Decision(DecisionRefusal::Invalid(errors))
            | TermsRefusal::Invalid(errors) => ApiError::validation(errors),
        }),
    }
}

/// Ask for more time
///
/// A written request to move an open item's due day later, with the reason (seed 004: a
/// typhoon delays a Hainan dealer). Someone other than who asked decides it; until then a
/// second request is 409 `extension_pending`. Every role that works the file.
#[utoipa::path(
    tag = "receivables",
    operation_id = "requestExtension",
    params(("id" = Uuid, Path, description = "Item id")),
    request_body = ExtensionInput,
    responses(
        (status = 201, description = "Requested", body = Extension, headers(("Location" = String))),
        (status = 409, description = "Nothing is open (`item_settled`), or a request is pending (`extension_pending`, with `existing_id`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/receivables/{id}/extensions")]
pub async fn request_extension(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Body<ExtensionInput>,
) -> ApiResult<HttpResponse> {
    require_writer(&caller)?;
    let id = id.into_inner();
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        visible_item(&state, &caller, id).await?;
        let actor = caller.user_id;
        reply::write(&state, move |conn| {
            let outcome = repo::request_extension(conn, id, |due| input.validate(due), actor)?;
            Ok(terms(outcome, |extension| {
                Reply::created(&extension, format!("{}/extensions", item_location(id)))
            }))
        })
        .await
    })
    .await
}

/// List an item's requests for more time
///
/// Every request with its decision, oldest first.
#[utoipa::path(
    tag = "receivables",
    operation_id = "listExtensions",
    params(("id" = Uuid, Path, description = "Item id"), PageParams),
    responses((status = 200, description = "Requests, oldest first", body = Page<Extension>)),
    security(("bearer" = []))
)]
#[get("/receivables/{id}/extensions")]
pub async fn list_extensions(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let item = visible_item(&state, &caller, id.into_inner()).await?;
    page.answer(
        &state,
        move |conn, window| repo::extensions(conn, item.id, window),
        |extension| (extension.requested_at, extension.id),
    )
    .await
}

/// Decide a request for more time
///
/// Grant it (the item's due day moves to the one asked for; the first due day is kept in
/// `original_due_on`) or refuse it, once, audited. Admins, credit managers and unit
/// managers, never who asked (403 `same_person`).
#[utoipa::path(
    tag = "receivables",
    operation_id = "decideExtension",
    params(
        ("id" = Uuid, Path, description = "Item id"),
        ("extension_id" = Uuid, Path, description = "Request id"),
    ),
    request_body = ExtensionDecisionInput,
    responses(
        (status = 200, description = "Decided", body = Extension),
        (status = 403, description = "Your role may not decide (`forbidden`), or you asked (`same_person`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Decided before (`extension_decided`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/receivables/{id}/extensions/{extension_id}/decision")]
pub async fn decide_extension(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    path: web::Path<(Uuid, Uuid)>,
    body: Body<ExtensionDecisionInput>,
) -> ApiResult<HttpResponse> {
    if !caller.can_decide_extensions() {
        return Err(ApiError::forbidden(
            "more time is granted by admins, credit managers and unit managers",
        ));
    }
    let (id, extension_id) = path.into_inner();
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        visible_item(&state, &caller, id).await?;
        let actor = caller.user_id;
        reply::write(&state, move |conn| {
            let decide = |extension: &Extension| decide(extension, &input, actor);
            let outcome = repo::decide_extension(conn, id, extension_id, decide, actor)?;
            Ok(terms(outcome, |extension| Reply::ok(&extension)))
        })
        .await
    })
    .await
}

/// Open a dispute
///
/// The customer disputes an open item (quality, quantity, price): its dunning pauses until
/// the dispute is resolved or its `until` day passes (at most the dunning policy's
/// `max_dispute_days`, 90 by default, unless the credit department opens it). A second
/// dispute is 409 `already_disputed`. Every role that works the file.
#[utoipa::path(
    tag = "receivables",
    operation_id = "openDispute",
    params(("id" = Uuid, Path, description = "Item id")),
    request_body = DisputeInput,
    responses(
        (status = 200, description = "The item, in dispute", body = Receivable),
        (status = 409, description = "Nothing is open (`item_settled`), or it is in dispute already (`already_disputed`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/receivables/{id}/dispute")]
pub async fn open_dispute(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Body<DisputeInput>,
) -> ApiResult<HttpResponse> {
    require_writer(&caller)?;
    let id = id.into_inner();
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        visible_item(&state, &caller, id).await?;
        let rules = state
            .db(settings::document::<DunningPolicyRules>)
            .await?
            .settings;
        let bound = DisputeBound {
            max_days: rules.max_dispute_days,
            extends: caller.can_decide_credit(),
        };
        let dispute = input
            .validate(state.today().await?, bound)
            .map_err(ApiError::validation)?;
        let actor = caller.user_id;
        reply::write(&state, move |conn| {
            let outcome = repo::set_dispute(conn, id, Some(dispute.clone()), actor)?;
            Ok(terms(outcome, |item| Reply::ok(&item)))
        })
        .await
    })
    .await
}

/// Resolve a dispute
///
/// Ends an item's dispute: its dunning resumes. 409 `not_disputed` when there is none.
#[utoipa::path(
    tag = "receivables",
    operation_id = "resolveDispute",
    params(("id" = Uuid, Path, description = "Item id")),
    responses(
        (status = 200, description = "The item, out of dispute", body = Receivable),
        (status = 409, description = "The item is not in dispute (`not_disputed`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[delete("/receivables/{id}/dispute")]
pub async fn resolve_dispute(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    require_writer(&caller)?;
    let id = id.into_inner();
    visible_item(&state, &caller, id).await?;
    let actor = caller.user_id;
    let reply = reply::write(&state, move |conn| {
        let outcome = repo::set_dispute(conn, id, None, actor)?;
        Ok(terms(outcome, |item| Reply::ok(&item)))
    })
    .await?;
    Ok(reply.into_response())
}
