//! The company's settings (currency, time zone, fiscal year) and its exchange rates.

use actix_web::http::StatusCode;
use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, NaiveDate, Utc};
use credo_core::company::{
    CompanySettings, FxChangeStatus, FxRate, FxRateChange, FxRateCorrectionInput, FxRateInput,
    SettingsInput,
};
use credo_core::text::clean_text;
use credo_core::{Currency, FieldCode, Principal};
use credo_store::fx::{self, ChangeDecided, Recorded};
use credo_store::keyset::Window;
use credo_store::settings::{self, StoredCompany};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::any_of::{self, AnyOf};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorCode, Problem};
use crate::extract::{self, invalid_query, Body, OptionalBody, Query};
use crate::merge_patch::{merge_patch, Patch};
use crate::pagination::{self, Page, PageParams};
use crate::reply::{self, idempotent, Reply};
use crate::state::AppState;

merge_patch!(
    /// Changes to the company settings, as a JSON merge patch: members sent change, `null`
    /// clears, absent members stay.
    SettingsPatch of SettingsInput,
    read_only: ["today", "version", "updated_at", "updated_by"]
);

/// The company's settings as the API shows them.
#[derive(Debug, Serialize, ToSchema)]
pub struct CompanySettingsRecord {
    #[serde(flatten)]
    pub settings: CompanySettings,
    /// The company's calendar day now, in its time zone.
    pub today: NaiveDate,
    /// 0 while the defaults stand; the ETag is derived from it.
    #[schema(example = 1)]
    pub version: i64,
    pub updated_at: Option<DateTime<Utc>>,
    pub updated_by: Option<Uuid>,
}

fn record(company: StoredCompany) -> CompanySettingsRecord {
    CompanySettingsRecord {
        today: company.settings.today(Utc::now()),
        settings: company.settings,
        version: company.version,
        updated_at: company.updated_at,
        updated_by: company.updated_by,
    }
}

/// Get the company settings
///
/// Every role reads them: clients need the company currency and day.
#[utoipa::path(
    tag = "company",
    operation_id = "getSettings",
    responses((status = 200, description = "The settings", body = CompanySettingsRecord, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[get("/settings")]
pub async fn get_settings(state: web::Data<AppState>, _caller: Caller) -> ApiResult<HttpResponse> {
    let company = state.db(settings::company).await?;
    state.company.keep(company.clone());
    let version = company.version;
    Ok(Reply::ok(&record(company))
        .with_version(version)
        .into_response())
}

/// Change the company settings
///
/// A JSON merge patch of `SettingsInput`; admins only; `If-Match` is required. "Today" follows
/// the new time zone at once on this instance and within a second on the others.
#[utoipa::path(
    tag = "company",
    operation_id = "patchSettings",
    params(("If-Match" = String, Header, description = "ETag of the version you changed")),
    request_body(content = SettingsPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed", body = CompanySettingsRecord, headers(("ETag" = String))),
        (status = 412, description = "Stale If-Match; `current` holds the settings", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/settings")]
pub async fn patch_settings(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    patch: Patch<SettingsPatch>,
) -> ApiResult<HttpResponse> {
    if !caller.is_admin() {
        return Err(ApiError::forbidden(
            "only admins change the company settings",
        ));
    }
    let expected = extract::if_match(&req)?;
    let patch = patch.body;
    let actor = caller.user_id;
    let outcome = state
        .db(move |conn| settings::update_company(conn, &expected, &patch, actor))
        .await?;
    if let credo_store::versioned::Updated::Updated(company) = &outcome {
        state.company.keep(company.clone());
    }
    let reply = reply::updated(
        outcome.map(record),
        "settings",
        |r| r.version,
        ApiError::validation,
    )?;
    Ok(reply.into_response())
}

/// Who may record exchange rates: finance and admins. Never the credit department, whose
/// approval limits are weighed in the company currency at these rates.
fn require_rate_keeper(caller: &Principal) -> ApiResult<()> {
    if caller.is_admin() || caller.can_record_payments() {
        Ok(())
    } else {
        Err(ApiError::forbidden(
            "exchange rates are recorded by finance and admins, never by who approves credit",
        ))
    }
}

/// The answer to recording or correcting a rate.
fn recorded_answer(outcome: Recorded) -> ApiResult<Reply> {
    match outcome {
        Recorded::Created(rate) => Ok(Reply::json(StatusCode::CREATED, &rate)),
        Recorded::Unchanged(rate) | Recorded::Corrected(rate) => Ok(Reply::ok(&rate)),
        Recorded::Conflict(existing) => Err(ApiError::new(
            ErrorCode::FxRateConflict,
            format!(
                "{} is recorded at {} on {}; post a correction with its reason to change it",
                existing.currency.as_str(),
                existing.rate,
                existing.on
            ),
        )),
        Recorded::Pending(change) => Ok(Reply {
            location: Some(change_location(change.id)),
            ..Reply::json(StatusCode::ACCEPTED, &change)
        }),
    }
}

fn change_location(id: Uuid) -> String {
    format!("/api/v1/fx-rates/changes/{id}")
}

/// Record an exchange rate
///
/// One rate per currency and day, into the company currency, of a day that has come (a
/// later day is 422 `in_future`). Posting the same rate again answers 200 with it; another
/// rate for a recorded day is 409 `fx_rate_conflict` (correct it through
/// `/fx-rates/corrections`). A rate more than the company's `fx_band_bp` (20 %) away from the
/// currency's rate before it is not in force on one person's word: 202 with the pending
/// change, which another rate keeper approves. Finance and admins: never the credit
/// department, whose approval limits are weighed at these rates.
#[utoipa::path(
    tag = "company",
    operation_id = "createFxRate",
    request_body = FxRateInput,
    responses(
        (status = 201, description = "Recorded", body = FxRate),
        (status = 200, description = "Recorded before, the same", body = FxRate),
        (status = 202, description = "Beyond the band: pending a second rate keeper", body = FxRateChange, headers(("Location" = String, description = "The change"))),
        (status = 409, description = "Another rate is recorded for the day (`fx_rate_conflict`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/fx-rates")]
pub async fn create_fx_rate(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    body: Body<FxRateInput>,
) -> ApiResult<HttpResponse> {
    require_rate_keeper(&caller)?;
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        let home = state.company().await?.settings.currency;
        let today = state.today().await?;
        let rate = input.validate(home, today).map_err(ApiError::validation)?;
        let actor = caller.user_id;
        reply::write(&state, move |conn| {
            Ok(recorded_answer(fx::record(
                conn,
                rate.clone(),
                None,
                actor,
            )?))
        })
        .await
    })
    .await
}

/// Correct an exchange rate
///
/// A new version of a recorded day's rate, with the reason: the rate it replaces is kept in
/// the change (`GET /fx-rates/changes`) and the audit trail. Within the company's
/// `fx_band_bp` of the rate it corrects it is in force at once (200); beyond it, 202 with
/// the change pending a second rate keeper. The same rate is 200 with nothing changed.
/// Finance and admins.
#[utoipa::path(
    tag = "company",
    operation_id = "correctFxRate",
    request_body = FxRateCorrectionInput,
    responses(
        (status = 200, description = "In force", body = FxRate),
        (status = 201, description = "No rate was recorded for the day: recorded", body = FxRate),
        (status = 202, description = "Beyond the band: pending a second rate keeper", body = FxRateChange, headers(("Location" = String, description = "The change"))),
    ),
    security(("bearer" = []))
)]
#[post("/fx-rates/corrections")]
pub async fn correct_fx_rate(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    body: Body<FxRateCorrectionInput>,
) -> ApiResult<HttpResponse> {
    require_rate_keeper(&caller)?;
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        let home = state.company().await?.settings.currency;
        let today = state.today().await?;
        let (rate, reason) = input.validate(home, today).map_err(ApiError::validation)?;
        let actor = caller.user_id;
        reply::write(&state, move |conn| {
            Ok(recorded_answer(fx::record(
                conn,
                rate.clone(),
                Some(reason.clone()),
                actor,
            )?))
        })
        .await
    })
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FxChangeListParams {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Any of these statuses, comma-separated (`pending`: what waits for a second person).
    #[param(inline, value_type = Option<Vec<FxChangeStatus>>, style = Form, explode = false)]
    pub status: Option<AnyOf<FxChangeStatus>>,
}

/// List exchange-rate changes
///
/// Every rate recorded or corrected, pending, applied or rejected, the latest asked for
/// first: the history of each day's rate, and what waits for a second rate keeper.
#[utoipa::path(
    tag = "company",
    operation_id = "listFxRateChanges",
    params(FxChangeListParams),
    responses((status = 200, description = "One page", body = Page<FxRateChange>)),
    security(("bearer" = []))
)]
#[get("/fx-rates/changes")]
pub async fn list_fx_rate_changes(
    state: web::Data<AppState>,
    _caller: Caller,
    params: Query<FxChangeListParams>,
) -> ApiResult<HttpResponse> {
    let params = params.into_inner();
    let statuses = any_of::values(params.status);
    let page = PageParams {
        limit: params.limit,
        cursor: params.cursor,
    };
    page.answer(
        &state,
        move |conn, window: &Window<DateTime<Utc>>| fx::changes_page(conn, &statuses, window),
        |change: &FxRateChange| (change.requested_at, change.id),
    )
    .await
}

/// Get an exchange-rate change
///
/// One change of a day's rate: the rate, the one it replaced, why, its status and who asked
/// and decided.
#[utoipa::path(
    tag = "company",
    operation_id = "getFxRateChange",
    params(("id" = Uuid, Path, description = "Change id")),
    responses((status = 200, description = "The change", body = FxRateChange)),
    security(("bearer" = []))
)]
#[get("/fx-rates/changes/{id}")]
pub async fn get_fx_rate_change(
    state: web::Data<AppState>,
    _caller: Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let id = id.into_inner();
    let change = state
        .db(move |conn| fx::change(conn, id))
        .await?
        .ok_or_else(ApiError::not_found)?;
    Ok(Reply::ok(&change).into_response())
}

/// A second rate keeper's decision on a pending change.
#[derive(Debug, Clone, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FxChangeDecisionInput {
    /// Why: required to reject.
    #[schema(example = "核对中国人民银行公布的中间价", max_length = 1000)]
    pub note: Option<String>,
}

async fn decide_change(
    state: &AppState,
    caller: &Principal,
    req: &HttpRequest,
    id: Uuid,
    body: Body<FxChangeDecisionInput>,
    approve: bool,
) -> ApiResult<HttpResponse> {
    require_rate_keeper(caller)?;
    let Body { value: input, raw } = body;
    let note = match input
        .note
        .as_deref()
        .map(|n| clean_text(n, 1000))
        .transpose()
    {
        Ok(note) => note.flatten(),
        Err(error) => return Err(ApiError::validation(vec![error.nested("note")])),
    };
    if !approve && note.is_none() {
        return Err(ApiError::field(
            "note",
            FieldCode::Required,
            "say why the rate is rejected",
        ));
    }
    idempotent(state, caller, req, &raw, || async {
        let actor = caller.user_id;
        reply::write(state, move |conn| {
            Ok(match fx::decide(conn, id, approve, note.clone(), actor)? {
                ChangeDecided::Decided(change) => Ok(Reply::ok(&change)),
                ChangeDecided::NotFound => Err(ApiError::not_found()),
                ChangeDecided::AlreadyDecided(change) => Err(ApiError::new(
                    ErrorCode::InvalidTransition,
                    format!("the change is {} already", change.status.as_str()),
                )),
                ChangeDecided::SamePerson => Err(ApiError::new(
                    ErrorCode::SamePerson,
                    "a rate beyond the band takes effect on a second rate keeper's word",
                )),
            })
        })
        .await
    })
    .await
}

/// Approve an exchange-rate change
///
/// A rate keeper other than who asked puts a pending rate in force for its day (over the
/// day's rate as it is then, which the change keeps). 403 `same_person` for who asked; 409
/// `invalid_transition` once decided. Finance and admins; audited.
#[utoipa::path(
    tag = "company",
    operation_id = "approveFxRateChange",
    params(("id" = Uuid, Path, description = "Change id")),
    request_body(content = Option<FxChangeDecisionInput>),
    responses(
        (status = 200, description = "Applied", body = FxRateChange),
        (status = 403, description = "Not a rate keeper (`forbidden`), or the one who asked for it (`same_person`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Decided before (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/fx-rates/changes/{id}/approve")]
pub async fn approve_fx_rate_change(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    OptionalBody(body): OptionalBody<FxChangeDecisionInput>,
) -> ApiResult<HttpResponse> {
    decide_change(&state, &caller, &req, id.into_inner(), body, true).await
}

/// Reject an exchange-rate change
///
/// A rate keeper other than who asked refuses a pending rate, saying why (`note`); the
/// day's rate stays as it is. Finance and admins; audited.
#[utoipa::path(
    tag = "company",
    operation_id = "rejectFxRateChange",
    params(("id" = Uuid, Path, description = "Change id")),
    request_body = FxChangeDecisionInput,
    responses(
        (status = 200, description = "Rejected", body = FxRateChange),
        (status = 403, description = "Not a rate keeper (`forbidden`), or the one who asked for it (`same_person`)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Decided before (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/fx-rates/changes/{id}/reject")]
pub async fn reject_fx_rate_change(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Body<FxChangeDecisionInput>,
) -> ApiResult<HttpResponse> {
    decide_change(&state, &caller, &req, id.into_inner(), body, false).await
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FxRateListParams {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    /// Only this currency's rates.
    #[param(example = "USD")]
    pub currency: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct Cursor {
    c: String,
    d: NaiveDate,
}

fn query_currency(raw: &str, parameter: &str) -> ApiResult<Currency> {
    Currency::parse(raw).map_err(|error| invalid_query(parameter, error))
}

/// List exchange rates
///
/// By currency, newest day first within each.
#[utoipa::path(
    tag = "company",
    operation_id = "listFxRates",
    params(FxRateListParams),
    responses((status = 200, description = "One page", body = Page<FxRate>)),
    security(("bearer" = []))
)]
#[get("/fx-rates")]
pub async fn list_fx_rates(
    state: web::Data<AppState>,
    _caller: Caller,
    params: Query<FxRateListParams>,
) -> ApiResult<HttpResponse> {
    let params = params.into_inner();
    let limit = pagination::limit(params.limit)?;
    let currency = extract::parsed_query("currency", params.currency.as_deref(), Currency::parse)?;
    let after = pagination::after::<Cursor>(params.cursor.as_deref())?
        .map(|cursor| Ok::<_, ApiError>((query_currency(&cursor.c, "cursor")?, cursor.d)))
        .transpose()?;
    let rates = state
        .db(move |conn| fx::list(conn, currency, after, limit + 1))
        .await?;
    let page = pagination::page(rates, limit, |rate| Cursor {
        c: rate.currency.as_str().to_owned(),
        d: rate.on,
    });
    Ok(Reply::ok(&page).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FxLookupParams {
    #[param(example = "USD")]
    pub currency: String,
    /// The day the rate must hold on; default today (the company's day).
    pub on: Option<NaiveDate>,
}

/// The rate that holds on a day
#[derive(Debug, Serialize, ToSchema)]
pub struct FxLookup {
    /// The day asked about.
    pub requested_on: NaiveDate,
    /// The latest rate recorded on or before it (the company currency converts at 1).
    #[serde(flatten)]
    pub rate: FxRate,
}

/// Look up the exchange rate of a day
///
/// The latest rate of the currency recorded on or before `on`; 404 `fx_rate_missing` when
/// there is none. The company currency itself converts at 1.
#[utoipa::path(
    tag = "company",
    operation_id = "lookupFxRate",
    params(FxLookupParams),
    responses(
        (status = 200, description = "The rate that holds", body = FxLookup),
        (status = 404, description = "No rate on or before the day (`fx_rate_missing`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[get("/fx-rates/lookup")]
pub async fn lookup_fx_rate(
    state: web::Data<AppState>,
    _caller: Caller,
    params: Query<FxLookupParams>,
) -> ApiResult<HttpResponse> {
    let params = params.into_inner();
    let currency = query_currency(&params.currency, "currency")?;
    let company = state.company().await?;
    let on = params
        .on
        .unwrap_or_else(|| company.settings.today(Utc::now()));
    let rate = if currency == company.settings.currency {
        Some(FxRate {
            currency,
            on,
            rate: rust_decimal::Decimal::ONE,
        })
    } else {
        state
            .db(move |conn| fx::on_or_before(conn, currency, on))
            .await?
    };
    let rate = rate.ok_or_else(|| {
        ApiError::new(
            ErrorCode::FxRateMissing,
            format!(
                "no {} rate is recorded on or before {on}",
                currency.as_str()
            ),
        )
    })?;
    Ok(Reply::ok(&FxLookup {
        requested_on: on,
        rate,
    })
    .into_response())
}
