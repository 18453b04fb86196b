//! Month-end ageing snapshots per sales unit and their trend.

use actix_web::{get, post, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use credo_core::{Currency, FieldCode, FieldError, Scope};
use credo_receivables::ageing::{month_end, previous_month_end, Basis};
use credo_store::receivables::{self as repo, Snapshot, Taken};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::extract::{self, Body, Query};
use crate::reply::{idempotent, Reply};
use crate::state::AppState;

/// A sales unit's ageing at a month end.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgeingSnapshot {
    pub month_end: NaiveDate,
    #[schema(value_type = String, example = "CNY")]
    pub currency: Currency,
    /// `null` for the items issued outside any sales unit.
    pub sales_unit_id: Option<Uuid>,
    /// Days past due, as in the ageing report.
    #[schema(example = json!(["not_due", "1-30", "31-60", "61-90", "91-180", "181-365", "over_365"]))]
    pub bucket_labels: Vec<String>,
    #[schema(example = json!([0, 0, 123, 0, 0, 0, 0]))]
    pub buckets_minor: Vec<i64>,
    #[schema(example = 123)]
    pub outstanding_minor: i64,
    pub taken_at: chrono::DateTime<chrono::Utc>,
}

impl From<Snapshot> for AgeingSnapshot {
    fn from(s: Snapshot) -> Self {
        Self {
            month_end: s.month_end,
            currency: s.currency,
            sales_unit_id: s.sales_unit_id,
            bucket_labels: s.buckets.labels(Basis::Due),
            buckets_minor: s.buckets_minor,
            outstanding_minor: s.outstanding_minor,
            taken_at: s.taken_at,
        }
    }
}

/// The snapshots of one month, every sales unit's.
#[derive(Debug, Serialize, ToSchema)]
pub struct MonthSnapshot {
    pub month_end: NaiveDate,
    pub units: Vec<AgeingSnapshot>,
}

/// A month to take.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SnapshotInput {
    /// A month that has ended, `YYYY-MM`.
    #[schema(example = "2026-06", pattern = "^[0-9]{4}-[0-9]{2}$")]
    pub month: String,
    /// Default the company currency.
    #[schema(example = "CNY", pattern = "^[A-Za-z]{3}$")]
    pub currency: Option<String>,
}

/// Take a month's ageing snapshot
///
/// Ageing by due day as of the month's last day, per sales unit, kept as the ledger reads
/// now. The month-end job takes each month as it ends; this takes a past month on demand.
/// A month is taken once: again, it answers 200 with what was taken then. Credit managers
/// and admins.
#[utoipa::path(
    tag = "receivables",
    operation_id = "takeAgeingSnapshot",
    request_body = SnapshotInput,
    responses(
        (status = 201, description = "Taken", body = MonthSnapshot),
        (status = 200, description = "Taken before", body = MonthSnapshot),
    ),
    security(("bearer" = []))
)]
#[post("/receivables/ageing-snapshots")]
pub async fn take_snapshot(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    body: Body<SnapshotInput>,
) -> ApiResult<HttpResponse> {
    if !caller.can_decide_credit() {
        return Err(ApiError::forbidden(
            "snapshots are taken by credit managers and admins",
        ));
    }
    let Body { value: input, raw } = body;
    // Taking a month is idempotent already; the key makes a retry answer the first status.
    idempotent(&state, &caller, &req, &raw, || async {
        let today = state.today().await?;
        let month_end = month_end(&input.month)
            .and_then(|end| {
                if end < today {
                    Ok(end)
                } else {
                    Err(FieldError::new(
                        "",
                        FieldCode::OutOfRange,
                        "a snapshot is of a month that has ended",
                    ))
                }
            })
            .map_err(|error| ApiError::validation(vec![error.nested("month")]))?;
        let currency = match input.currency.as_deref().map(Currency::parse).transpose() {
            Ok(Some(currency)) => currency,
            Ok(None) => state.company().await?.settings.currency,
            Err(error) => return Err(ApiError::validation(vec![error.nested("currency")])),
        };
        let taken = state
            .db(move |conn| repo::take_snapshot(conn, month_end, currency))
            .await?;
        let answer = |units: Vec<Snapshot>| MonthSnapshot {
            month_end,
            units: units.into_iter().map(AgeingSnapshot::from).collect(),
        };
        Ok(match taken {
            Taken::Taken(units) => Reply::created(
                &answer(units),
                format!(
                    "/api/v1/receivables/ageing-trend?from={0}&to={0}",
                    &input.month
                ),
            ),
            Taken::Existing(units) => Reply::ok(&answer(units)),
        })
    })
    .await
}

/// Month-end snapshots in order.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgeingTrend {
    /// By month end, then sales unit.
    pub points: Vec<AgeingSnapshot>,
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TrendParams {
    /// The first month, `YYYY-MM` (default eleven months before `to`).
    #[param(example = "2026-01")]
    pub from: Option<String>,
    /// The last month, `YYYY-MM` (default the last month that has ended).
    #[param(example = "2026-06")]
    pub to: Option<String>,
    /// One sales unit's trend (a unit manager's is always their unit's).
    pub sales_unit_id: Option<Uuid>,
    /// Default the company currency.
    #[param(value_type = Option<String>, pattern = "^[A-Za-z]{3}$")]
    pub currency: Option<String>,
}

/// The ageing trend
///
/// The month-end snapshots from `from` to `to`, by month then sales unit: how each unit's
/// receivables aged month by month. Per sales unit, so not for roles that see only their
/// own customers; a unit manager sees their unit's.
#[utoipa::path(
    tag = "receivables",
    operation_id = "getAgeingTrend",
    params(TrendParams),
    responses((status = 200, description = "The snapshots", body = AgeingTrend)),
    security(("bearer" = []))
)]
#[get("/receivables/ageing-trend")]
pub async fn ageing_trend(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    params: Query<TrendParams>,
) -> ApiResult<HttpResponse> {
    let params = params.into_inner();
    let unit = match caller.scope() {
        Scope::All => params.sales_unit_id.map(Some),
        Scope::Unit(Some(own)) if params.sales_unit_id.is_none_or(|u| u == own) => Some(Some(own)),
        _ => {
            return Err(ApiError::forbidden(
                "the trend is by sales unit: yours, or every unit's for the credit department",
            ))
        }
    };
    let last = match extract::parsed_query("to", params.to.as_deref(), month_end)? {
        Some(end) => end,
        None => previous_month_end(state.today().await?),
    };
    let first = match extract::parsed_query("from", params.from.as_deref(), month_end)? {
        Some(end) => end,
        None => last - chrono::Months::new(11),
    };
    let currency =
        match extract::parsed_query("currency", params.currency.as_deref(), Currency::parse)? {
            Some(currency) => currency,
            None => state.company().await?.settings.currency,
        };
    let snapshots = state
        .db(move |conn| repo::ageing_trend(conn, first, last, currency, unit))
        .await?;
    let points = snapshots.into_iter().map(AgeingSnapshot::from).collect();
    Ok(Reply::ok(&AgeingTrend { points }).into_response())
}
