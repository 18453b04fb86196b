//! Leads: one at a time or a trade fair's worth at once, MAN qualification, the funnel
//! stages, conversion into a customer, and the funnel report.

use crate::any_of::{self, AnyOf};
use credo_core::FieldCode;
use std::collections::HashMap;

use actix_web::{get, patch, post, web, HttpRequest, HttpResponse};
use chrono::{DateTime, Utc};
use credo_core::audit::AuditEntry;
use credo_core::json::patch_member;
use credo_core::{FieldError, Principal};
use credo_sales::lead::{funnel, LeadFields, StageError, MAX_BATCH};
use credo_sales::{FunnelGroup, FunnelStage, Lead, LeadChannel, LeadInput, Man, StageInput};
use credo_store::leads::{
    self as repo, Conversion, Duplicate, FunnelGrouping, LeadChange, LeadFilter, LeadRefusal,
    NewLead, Recorded, UpdateLeadOutcome,
};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{disclose, ApiError, ApiResult, ErrorCode, Problem};
use crate::export::Export;
use crate::extract::{self, Body, OptionalBody, Query};
use crate::merge_patch::{merge_patch, Patch};
use crate::pagination::{list_sort, Page, PageParams, SortDirection, SortedPage};
use crate::reply::{self, idempotent, Reply};
use crate::routes::customers::{referenced_customer, require_writer};
use crate::routes::directory::assignable_user;
use crate::state::AppState;

merge_patch!(
    /// Changes to a lead, as a JSON merge patch: members sent change, `null` clears, absent
    /// members stay. The stage moves by `stage`, the customer is set by conversion.
    LeadPatch of LeadInput,
    read_only: ["id", "stage", "customer_id"]
);

fn location(id: Uuid) -> String {
    format!("/api/v1/leads/{id}")
}

pub(crate) fn can_see(caller: &Principal, lead: &Lead) -> bool {
    caller.can_see(lead.owner_id, lead.sales_unit_id)
}

async fn visible_lead(state: &AppState, caller: &Principal, id: Uuid) -> ApiResult<Lead> {
    state
        .db(move |conn| repo::get(conn, id))
        .await?
        .filter(|l| can_see(caller, l))
        .ok_or_else(ApiError::not_found)
}

/// The owner a lead is given (the caller by default) and that owner's unit, or the error.
async fn lead_owner(
    state: &AppState,
    caller: &Principal,
    owner_id: Option<Uuid>,
) -> ApiResult<(Uuid, Option<Uuid>)> {
    let owner = assignable_user(
        state,
        caller,
        owner_id.unwrap_or(caller.user_id),
        "owner_id",
        "you may give leads to yourself and people in your data scope",
    )
    .await?;
    Ok((owner.id, owner.sales_unit_id))
}

fn duplicate_error(caller: &Principal, duplicate: Duplicate) -> ApiError {
    let (detail, holder) = match duplicate {
        Duplicate::Customer(holder) => ("a customer has this company name", holder),
        Duplicate::Lead(holder) => ("a lead is this person at this company", holder),
    };
    ApiError::new(ErrorCode::DuplicateLead, detail).about(caller, holder)
}

/// Record a lead
///
/// One business card or enquiry. A lead whose company is a customer already, or that
/// repeats a known lead (same person at the same company), is 409 `duplicate_lead` naming
/// the existing record.
#[utoipa::path(
    tag = "leads",
    operation_id = "createLead",
    request_body = LeadInput,
    responses(
        (status = 201, description = "Created", body = Lead, headers(("ETag" = String), ("Location" = String))),
        (status = 409, description = "Known already (`duplicate_lead`, `existing_id`)", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/leads")]
pub async fn create_lead(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    body: Body<LeadInput>,
) -> ApiResult<HttpResponse> {
    require_writer(&caller)?;
    let Body { value: input, raw } = body;
    idempotent(&state, &caller, &req, &raw, || async {
        let fields = input.validate().map_err(ApiError::validation)?;
        let (owner_id, sales_unit_id) = lead_owner(&state, &caller, input.owner_id).await?;
        let new = NewLead {
            fields,
            man: input.man,
            owner_id,
            sales_unit_id,
        };
        let actor = caller.user_id;
        let caller = caller.clone();
        reply::write(&state, move |conn| {
            Ok(match repo::record(conn, vec![new.clone()], actor)?.pop() {
                Some(Recorded::Created(lead)) => {
                    Ok(Reply::created(&lead, location(lead.id)).with_version(lead.stamps.version))
                }
                Some(Recorded::Duplicate(duplicate)) => Err(duplicate_error(&caller, duplicate)),
                None => Err(ApiError::new(ErrorCode::Internal, "no lead was recorded")),
            })
        })
        .await
    })
    .await
}

/// A batch of leads, e.g. a trade fair's business cards.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LeadBatch {
    /// 1 to 1000 leads; each is checked on its own.
    #[schema(value_type = Vec<LeadInput>, min_items = 1, max_items = 1000)]
    pub leads: Vec<serde_json::Value>,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RowOutcome {
    Created,
    Duplicate,
    Invalid,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DuplicateKind {
    Customer,
    Lead,
}

/// The record a row repeats: its id when it is in your data scope, else the unit that
/// holds it (whom to ask).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DuplicateOf {
    pub kind: DuplicateKind,
    pub id: Option<Uuid>,
    pub owning_unit: Option<String>,
}

/// What became of one row.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct BatchRow {
    /// Position in `leads`, from 0.
    pub index: usize,
    pub outcome: RowOutcome,
    pub lead_id: Option<Uuid>,
    pub duplicate_of: Option<DuplicateOf>,
    /// On invalid rows: every offending field of the row; empty on the others.
    pub errors: Vec<FieldError>,
}

/// The answer to a batch: counts and one entry per row, in order.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResult {
    pub created: usize,
    pub duplicates: usize,
    pub invalid: usize,
    pub rows: Vec<BatchRow>,
}

fn row(index: usize, outcome: RowOutcome) -> BatchRow {
    BatchRow {
        index,
        outcome,
        lead_id: None,
        duplicate_of: None,
        errors: Vec::new(),
    }
}

/// Import leads in bulk
///
/// Up to 1,000 leads, each answered on its own: `created`, `duplicate` (of a customer with
/// the same company name, a known lead for the same person at the same company, or an
/// earlier row) or `invalid` with its field errors. The created leads are written in one
/// transaction: all of them or, on failure, none.
#[utoipa::path(
    tag = "leads",
    operation_id = "importLeads",
    request_body = LeadBatch,
    responses((status = 200, description = "Every row's outcome", body = BatchResult)),
    security(("bearer" = []))
)]
#[post("/leads:batch")]
pub async fn import_leads(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    body: Body<LeadBatch>,
) -> ApiResult<HttpResponse> {
    require_writer(&caller)?;
    let Body { value: batch, raw } = body;
    if batch.leads.is_empty() || batch.leads.len() > MAX_BATCH {
        return Err(ApiError::field(
            "leads",
            FieldCode::OutOfRange,
            "a batch holds 1 to 1000 leads",
        ));
    }
    idempotent(&state, &caller, &req, &raw, || async {
        let mut rows: Vec<Option<BatchRow>> = Vec::with_capacity(batch.leads.len());
        let mut valid: Vec<(usize, LeadFields, Man, Uuid)> = Vec::new();
        for (index, value) in batch.leads.into_iter().enumerate() {
            let prefix = format!("leads[{index}]");
            let parsed = extract::from_value::<LeadInput>(value)
                .map_err(|e| e.errors)
                .and_then(|input| Ok((input.validate()?, input)));
            match parsed {
                Ok((fields, input)) => {
                    valid.push((
                        index,
                        fields,
                        input.man,
                        input.owner_id.unwrap_or(caller.user_id),
                    ));
                    rows.push(None);
                }
                Err(errors) => rows.push(Some(BatchRow {
                    errors: errors.into_iter().map(|e| e.nested(&prefix)).collect(),
                    ..row(index, RowOutcome::Invalid)
                })),
            }
        }
        // Each named owner is checked once; a row naming a bad owner is invalid.
        let mut owners: HashMap<Uuid, Result<Option<Uuid>, FieldError>> = HashMap::new();
        for (_, _, _, owner) in &valid {
            if !owners.contains_key(owner) {
                let checked = match lead_owner(&state, &caller, Some(*owner)).await {
                    Ok((_, unit)) => Ok(unit),
                    Err(error) if error.code == ErrorCode::DatabaseUnavailable => {
                        return Err(error)
                    }
                    Err(error) => Err(FieldError::new(
                        "owner_id",
                        FieldCode::NotAssignable,
                        error.detail,
                    )),
                };
                owners.insert(*owner, checked);
            }
        }
        let mut batch_rows = Vec::new();
        let mut new = Vec::new();
        for (index, fields, man, owner) in valid {
            match &owners[&owner] {
                Ok(unit) => {
                    batch_rows.push(index);
                    new.push(NewLead {
                        fields,
                        man,
                        owner_id: owner,
                        sales_unit_id: *unit,
                    });
                }
                Err(error) => {
                    rows[index] = Some(BatchRow {
                        errors: vec![error.clone().nested(&format!("leads[{index}]"))],
                        ..row(index, RowOutcome::Invalid)
                    })
                }
            }
        }
        let actor = caller.user_id;
        let caller = caller.clone();
        reply::write(&state, move |conn| {
            let recorded = repo::record(conn, new.clone(), actor)?;
            let mut rows = rows.clone();
            for (index, outcome) in batch_rows.iter().copied().zip(recorded) {
                rows[index] = Some(match outcome {
                    Recorded::Created(lead) => BatchRow {
                        lead_id: Some(lead.id),
                        ..row(index, RowOutcome::Created)
                    },
                    Recorded::Duplicate(duplicate) => {
                        let (kind, holder) = match duplicate {
                            Duplicate::Customer(holder) => (DuplicateKind::Customer, holder),
                            Duplicate::Lead(holder) => (DuplicateKind::Lead, holder),
                        };
                        let (id, owning_unit) = disclose(&caller, holder);
                        BatchRow {
                            duplicate_of: Some(DuplicateOf {
                                kind,
                                id,
                                owning_unit,
                            }),
                            ..row(index, RowOutcome::Duplicate)
                        }
                    }
                });
            }
            let rows: Vec<BatchRow> = rows.into_iter().flatten().collect();
            let count = |outcome: fn(&RowOutcome) -> bool| {
                rows.iter().filter(|r| outcome(&r.outcome)).count()
            };
            let result = BatchResult {
                created: count(|o| matches!(o, RowOutcome::Created)),
                duplicates: count(|o| matches!(o, RowOutcome::Duplicate)),
                invalid: count(|o| matches!(o, RowOutcome::Invalid)),
                rows,
            };
            Ok(Ok(Reply::ok(&result)))
        })
        .await
    })
    .await
}

/// Get a lead
///
/// A lead with its MAN qualification and funnel stage, and its `ETag`.
#[utoipa::path(
    tag = "leads",
    operation_id = "getLead",
    params(("id" = Uuid, Path, description = "Lead id")),
    responses((status = 200, description = "The lead", body = Lead, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[get("/leads/{id}")]
pub async fn get_lead(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
) -> ApiResult<HttpResponse> {
    let lead = visible_lead(&state, &caller, id.into_inner()).await?;
    Ok(Reply::ok(&lead)
        .with_version(lead.stamps.version)
        .into_response())
}

fn updated(caller: &Principal, outcome: UpdateLeadOutcome) -> ApiResult<Reply> {
    reply::updated(
        outcome,
        "lead",
        |l| l.stamps.version,
        |refusal| match refusal {
            LeadRefusal::Invalid(errors) | LeadRefusal::Stage(StageError::Invalid(errors)) => {
                ApiError::validation(errors)
            }
            LeadRefusal::Stage(StageError::NotAllowed { from, to }) => ApiError::new(
                ErrorCode::InvalidTransition,
                format!("a {} lead cannot become {}", from.as_str(), to.as_str()),
            ),
            LeadRefusal::CustomerConflict(holder) => {
                ApiError::new(ErrorCode::IdConflict, "a customer with this id exists")
                    .about(caller, holder)
            }
        },
    )
}

/// Change a lead
///
/// A JSON merge patch of the `LeadInput` fields, `man` included (its change is audited).
/// `If-Match` is required.
#[utoipa::path(
    tag = "leads",
    operation_id = "patchLead",
    params(
        ("id" = Uuid, Path, description = "Lead id"),
        ("If-Match" = String, Header, description = "ETag of the version you changed"),
    ),
    request_body(content = LeadPatch, content_type = "application/merge-patch+json"),
    responses(
        (status = 200, description = "Changed", body = Lead, headers(("ETag" = String))),
        (status = 412, description = "Stale If-Match; `current` holds the lead", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[patch("/leads/{id}")]
pub async fn patch_lead(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    patch: Patch<LeadPatch>,
) -> ApiResult<HttpResponse> {
    require_writer(&caller)?;
    let expected = extract::if_match(&req)?;
    let patch = patch.body;
    let current = visible_lead(&state, &caller, id.into_inner()).await?;
    // What the patch names is checked here; what it leaves alone was checked when written.
    let owner = match patch_member::<Uuid>(&patch, "owner_id") {
        Some(named) => Some(lead_owner(&state, &caller, named).await?),
        None => None,
    };
    let change = LeadChange::Patch {
        patch,
        caller: caller.user_id,
        owner,
    };
    let (id, actor) = (current.id, caller.user_id);
    let outcome = state
        .db(move |conn| repo::update(conn, id, &expected, change, actor))
        .await?;
    Ok(updated(&caller, outcome)?.into_response())
}

/// Move a lead to another funnel stage
///
/// Open leads move to any open stage or to `lost` (with a `reason`); a lost lead may be
/// reopened as `contacted`. Winning goes through `convert`. `If-Match` is checked when sent.
#[utoipa::path(
    tag = "leads",
    operation_id = "moveLeadStage",
    params(
        ("id" = Uuid, Path, description = "Lead id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version you move"),
    ),
    request_body = StageInput,
    responses(
        (status = 200, description = "Moved", body = Lead, headers(("ETag" = String))),
        (status = 409, description = "Not allowed from the current stage (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/leads/{id}/stage")]
pub async fn move_stage(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    body: Body<StageInput>,
) -> ApiResult<HttpResponse> {
    require_writer(&caller)?;
    let expected = extract::optional_if_match(&req)?;
    let Body { value: input, raw } = body;
    let id = id.into_inner();
    idempotent(&state, &caller, &req, &raw, || async {
        let lead = visible_lead(&state, &caller, id).await?;
        let actor = caller.user_id;
        let caller = caller.clone();
        reply::write(&state, move |conn| {
            Ok(updated(
                &caller,
                repo::update(
                    conn,
                    lead.id,
                    &expected,
                    LeadChange::Stage(input.clone()),
                    actor,
                )?,
            ))
        })
        .await
    })
    .await
}

/// Which customer a won lead becomes.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ConvertInput {
    /// Link this existing customer instead of opening a new file.
    pub customer_id: Option<Uuid>,
}

/// Win a lead
///
/// The lead becomes a customer: a new customer file (the company, its channel as source,
/// the card's person as primary contact, owned by the lead's owner) or, with `customer_id`,
/// an existing customer. The lead keeps its history and points to the customer. The body may
/// be omitted.
#[utoipa::path(
    tag = "leads",
    operation_id = "convertLead",
    params(
        ("id" = Uuid, Path, description = "Lead id"),
        ("If-Match" = Option<String>, Header, description = "ETag of the version you convert"),
    ),
    request_body(content = Option<ConvertInput>, description = "An existing customer to link"),
    responses(
        (status = 200, description = "Won", body = Lead, headers(("ETag" = String))),
        (status = 409, description = "Won or lost already (`invalid_transition`)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[post("/leads/{id}/convert")]
pub async fn convert_lead(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    id: web::Path<Uuid>,
    OptionalBody(body): OptionalBody<ConvertInput>,
) -> ApiResult<HttpResponse> {
    require_writer(&caller)?;
    let expected = extract::optional_if_match(&req)?;
    let Body { value: input, raw } = body;
    let id = id.into_inner();
    idempotent(&state, &caller, &req, &raw, || async {
        let lead = visible_lead(&state, &caller, id).await?;
        let conversion = match input.customer_id {
            Some(customer) => Conversion::Existing(
                referenced_customer(&state, &caller, customer, "customer_id")
                    .await?
                    .id,
            ),
            None => {
                let (profile, contact) = lead
                    .new_customer(state.today().await?)
                    .map_err(ApiError::validation)?;
                Conversion::NewCustomer {
                    id: Uuid::now_v7(),
                    profile: Box::new(profile),
                    contact,
                }
            }
        };
        let actor = caller.user_id;
        let caller = caller.clone();
        reply::write(&state, move |conn| {
            let change = LeadChange::Convert(conversion.clone());
            Ok(updated(
                &caller,
                repo::update(conn, lead.id, &expected, change, actor)?,
            ))
        })
        .await
    })
    .await
}

/// Get a lead's change history
///
/// Every change to the lead, oldest first: who, when, and each field old and new.
#[utoipa::path(
    tag = "leads",
    operation_id = "getLeadHistory",
    params(("id" = Uuid, Path, description = "Lead id"), PageParams),
    responses((status = 200, description = "Audit entries, oldest first", body = Page<AuditEntry>)),
    security(("bearer" = []))
)]
#[get("/leads/{id}/history")]
pub async fn lead_history(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    id: web::Path<Uuid>,
    page: Query<PageParams>,
) -> ApiResult<HttpResponse> {
    let lead = visible_lead(&state, &caller, id.into_inner()).await?;
    page.answer(
        &state,
        move |conn, window| repo::history(conn, lead.id, window),
        |entry| (entry.at, entry.id),
    )
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct LeadListParams {
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the previous page.
    pub cursor: Option<String>,
    pub owner_id: Option<Uuid>,
    pub sales_unit_id: Option<Uuid>,
    /// Any of these channels, comma-separated.
    #[param(inline, value_type = Option<Vec<LeadChannel>>, style = Form, explode = false)]
    pub channel: Option<AnyOf<LeadChannel>>,
    /// Any of these stages, comma-separated (`new,contacted`).
    #[param(inline, value_type = Option<Vec<FunnelStage>>, style = Form, explode = false)]
    pub stage: Option<AnyOf<FunnelStage>>,
    /// Recorded at or after this time (RFC 3339).
    pub created_from: Option<DateTime<Utc>>,
    /// Recorded before this time.
    pub created_to: Option<DateTime<Utc>>,
    /// Only records changed at or after this time (RFC 3339): what a sync has not seen.
    pub updated_since: Option<DateTime<Utc>>,
    /// The column to sort by (default `created_at`).
    #[param(inline)]
    pub sort: Option<LeadSort>,
    /// Which way (default `desc`: newest first).
    #[param(inline)]
    pub order: Option<SortDirection>,
}

list_sort!(
    /// Columns the lead list sorts by.
    LeadSort => repo::SortField { CreatedAt, UpdatedAt }
);

/// List leads
///
/// Newest first unless sorted otherwise, keyset-paginated. Agents see the leads they own, unit managers their
/// unit's.
#[utoipa::path(
    tag = "leads",
    operation_id = "listLeads",
    params(LeadListParams),
    responses((status = 200, description = "One page", body = Page<Lead>)),
    security(("bearer" = []))
)]
#[get("/leads")]
pub async fn list_leads(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    params: Query<LeadListParams>,
    export: Export,
) -> ApiResult<HttpResponse> {
    let p = params.into_inner();
    let page = SortedPage::read(
        p.limit,
        p.cursor.as_deref(),
        p.sort.unwrap_or_default(),
        p.order.unwrap_or(SortDirection::Desc),
    )?;
    let filter = LeadFilter {
        scope: caller.scope(),
        owner_id: p.owner_id,
        sales_unit_id: p.sales_unit_id,
        channels: any_of::values(p.channel),
        stages: any_of::values(p.stage),
        updated_since: p.updated_since,
        created_from: p.created_from,
        created_to: p.created_to,
    };
    page.answer(
        &state,
        export,
        move |conn, sorting, rows| repo::list(conn, &filter, &sorting, rows),
        |item, sort| (repo::sort_key(item, sort.into()), item.id),
    )
    .await
}

#[derive(Debug, Clone, Copy, Default, Deserialize, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum FunnelGroupBy {
    #[default]
    Agent,
    Unit,
    Channel,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FunnelParams {
    /// Leads recorded at or after this time (RFC 3339).
    pub from: Option<DateTime<Utc>>,
    /// Leads recorded before this time.
    pub to: Option<DateTime<Utc>>,
    /// How to group (default `agent`).
    #[param(inline)]
    pub group_by: Option<FunnelGroupBy>,
    /// Any of these channels, comma-separated.
    #[param(inline, value_type = Option<Vec<LeadChannel>>, style = Form, explode = false)]
    pub channel: Option<AnyOf<LeadChannel>>,
    pub sales_unit_id: Option<Uuid>,
}

/// The funnel report.
#[derive(Debug, Serialize, ToSchema)]
pub struct FunnelReport {
    pub group_by: FunnelGroupBy,
    /// Every lead in range together.
    pub total: FunnelGroup,
    /// One funnel per agent id, unit id or channel.
    pub groups: Vec<FunnelGroup>,
}

/// Get the funnel report
///
/// For the leads recorded in the range (within the caller's scope): how many reached each
/// stage, the conversion from each stage to the next, won, lost and open, overall and per
/// agent, unit or channel.
#[utoipa::path(
    tag = "leads",
    operation_id = "getLeadFunnel",
    params(FunnelParams),
    responses((status = 200, description = "The report", body = FunnelReport)),
    security(("bearer" = []))
)]
#[get("/leads/funnel")]
pub async fn lead_funnel(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    params: Query<FunnelParams>,
) -> ApiResult<HttpResponse> {
    let p = params.into_inner();
    let group_by = p.group_by.unwrap_or_default();
    let grouping = match group_by {
        FunnelGroupBy::Agent => FunnelGrouping::Agent,
        FunnelGroupBy::Unit => FunnelGrouping::Unit,
        FunnelGroupBy::Channel => FunnelGrouping::Channel,
    };
    let filter = LeadFilter {
        scope: caller.scope(),
        owner_id: None,
        sales_unit_id: p.sales_unit_id,
        channels: any_of::values(p.channel),
        stages: Vec::new(),
        updated_since: None,
        created_from: p.from,
        created_to: p.to,
    };
    let facts = state
        .db(move |conn| repo::funnel_facts(conn, &filter, grouping))
        .await?;
    let (total, groups) = funnel(&facts);
    Ok(Reply::ok(&FunnelReport {
        group_by,
        total,
        groups,
    })
    .into_response())
}
