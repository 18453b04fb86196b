//! The reports that read the receivables ledger as of a day: ageing, the bad-debt allowance
//! and its policy, the "double ten".

use actix_web::{get, put, web, HttpRequest, HttpResponse};
use chrono::NaiveDate;
use credo_core::{Currency, FieldCode, FieldError, Principal};
use credo_receivables::ageing::{Basis, Buckets, GroupBy};
use credo_receivables::allowance::{allowance, AllowancePolicy, AllowancePolicyRules};
use credo_receivables::collection::{collection_metrics, count_back_months};
use credo_store::receivables::{self as repo, AgeingQuery, CustomerStanding, LedgerSlice};
use credo_store::settings;
use credo_store::StoreError;
use rust_decimal::prelude::ToPrimitive;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use super::report_day;
use crate::auth::Caller;
use crate::documents::{self, Record, Shown};
use crate::error::{ApiResult, Problem};
use crate::extract::{self, Body, Query};
use crate::pagination;
use crate::reply::Reply;
use crate::state::AppState;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AgeingParams {
    /// The day the report is as of (default today): nothing dated after it counts.
    pub as_of: Option<NaiveDate>,
    /// Count days past the due day (`due`, default) or since the invoice day (`invoice`).
    #[param(inline)]
    pub basis: Option<Basis>,
    /// Ascending day limits, comma-separated (default `30,60,90,180,365`).
    #[param(example = "30,60,90,180,365", max_length = 100)]
    pub buckets: Option<String>,
    /// Sum by customer (default), by the sales unit or by the account manager the items
    /// were issued under.
    #[param(inline)]
    pub group_by: Option<GroupBy>,
    /// The report's one currency (default the company currency).
    #[param(value_type = Option<String>, pattern = "^[A-Za-z]{3}$")]
    pub currency: Option<String>,
    pub customer_id: Option<Uuid>,
    pub sales_unit_id: Option<Uuid>,
    /// Groups per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the page before; absent for the first page.
    pub cursor: Option<String>,
}

/// One group's open amounts.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgeingGroupRow {
    /// What the group is by.
    pub group_by: GroupBy,
    /// The customer, unit or user; `null` for items issued outside any sales unit.
    pub id: Option<Uuid>,
    #[schema(example = "深圳市华强贸易有限公司")]
    pub name: Option<String>,
    /// The sum of `buckets_minor`, exactly.
    #[schema(example = 123)]
    pub outstanding_minor: i64,
    /// One amount per label of `bucket_labels`.
    #[schema(example = json!([0, 0, 123, 0, 0, 0, 0]))]
    pub buckets_minor: Vec<i64>,
}

/// The report's open amounts over every group.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgeingTotals {
    #[schema(example = 123)]
    pub outstanding_minor: i64,
    #[schema(example = json!([0, 0, 123, 0, 0, 0, 0]))]
    pub buckets_minor: Vec<i64>,
}

/// An ageing report: what was open as of a day, by how long past the anchor day.
#[derive(Debug, Serialize, ToSchema)]
pub struct AgeingReport {
    pub as_of: NaiveDate,
    pub basis: Basis,
    pub currency: Currency,
    #[schema(example = json!(["not_due", "1-30", "31-60", "61-90", "91-180", "181-365", "over_365"]))]
    pub bucket_labels: Vec<String>,
    /// Largest outstanding first, then by id.
    pub groups: Vec<AgeingGroupRow>,
    /// Every group of the report, not only this page's.
    pub totals: AgeingTotals,
    /// Pass back as `cursor` for the next groups; `null` on the last page.
    pub next_cursor: Option<String>,
}

/// The part of the ledger a report reads: the caller's scope, the day asked for (else
/// today) and the currency asked for (else the company's).
async fn ledger_slice(
    state: &AppState,
    caller: &Principal,
    as_of: Option<NaiveDate>,
    currency: Option<&str>,
    customer_id: Option<Uuid>,
    sales_unit_id: Option<Uuid>,
) -> ApiResult<LedgerSlice> {
    let currency = match extract::parsed_query("currency", currency, Currency::parse)? {
        Some(currency) => currency,
        None => state.company().await?.settings.currency,
    };
    Ok(LedgerSlice {
        scope: caller.scope(),
        as_of: report_day(state, as_of).await?,
        currency,
        customer_id,
        sales_unit_id,
    })
}

/// Ageing of receivables
///
/// What was open as of `as_of` by how many days past due (or since the invoice), in
/// buckets, summed by customer, sales unit or account manager, in one currency. Buckets sum
/// exactly to `outstanding_minor` in each group and in `totals`; items with nothing open
/// are left out; anything dated after `as_of` never changes the report. Drill down with
/// `GET /receivables?customer_id=&open_on=`. Row scope as everywhere.
#[utoipa::path(
    tag = "receivables",
    operation_id = "getAgeing",
    params(AgeingParams),
    responses((status = 200, description = "The report", body = AgeingReport)),
    security(("bearer" = []))
)]
#[get("/receivables/ageing")]
pub async fn ageing(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    params: Query<AgeingParams>,
) -> ApiResult<HttpResponse> {
    let params = params.into_inner();
    let buckets = extract::parsed_query("buckets", params.buckets.as_deref(), Buckets::parse)?
        .unwrap_or_default();
    let limit = pagination::limit(params.limit)?;
    let after = pagination::after::<(i64, String)>(params.cursor.as_deref())?;
    let query = AgeingQuery {
        slice: ledger_slice(
            &state,
            &caller,
            params.as_of,
            params.currency.as_deref(),
            params.customer_id,
            params.sales_unit_id,
        )
        .await?,
        basis: params.basis.unwrap_or(Basis::Due),
        buckets,
        group_by: params.group_by.unwrap_or(GroupBy::Customer),
        after,
        limit: limit + 1,
    };
    let report_query = query.clone();
    let (report, names) = state
        .db(move |conn| {
            let report = repo::ageing(conn, &report_query)?;
            let keys: Vec<String> = report.groups.iter().map(|g| g.key.clone()).collect();
            let names = repo::group_names(conn, report_query.group_by, &keys)?;
            Ok((report, names))
        })
        .await?;
    let rows = report
        .groups
        .into_iter()
        .map(|group| {
            let id = Uuid::parse_str(&group.key).ok();
            AgeingGroupRow {
                group_by: query.group_by,
                id,
                name: names.get(&group.key).cloned(),
                outstanding_minor: group.buckets.outstanding(),
                buckets_minor: group.buckets.into_vec(),
            }
        })
        .collect();
    let page = pagination::page(rows, limit, |row: &AgeingGroupRow| {
        (
            row.outstanding_minor,
            row.id.map(|id| id.to_string()).unwrap_or_default(),
        )
    });
    Ok(Reply::ok(&AgeingReport {
        as_of: query.slice.as_of,
        basis: query.basis,
        currency: query.slice.currency,
        bucket_labels: query.buckets.labels(query.basis),
        groups: page.items,
        totals: AgeingTotals {
            outstanding_minor: report.totals.outstanding(),
            buckets_minor: report.totals.into_vec(),
        },
        next_cursor: page.next_cursor,
    })
    .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AllowanceParams {
    /// The day the balances are as of (default today).
    pub as_of: Option<NaiveDate>,
    /// The report's one currency (default the company currency).
    #[param(value_type = Option<String>, pattern = "^[A-Za-z]{3}$")]
    pub currency: Option<String>,
    pub customer_id: Option<Uuid>,
    pub sales_unit_id: Option<Uuid>,
}

/// One age band of the allowance.
#[derive(Debug, Serialize, ToSchema)]
pub struct AllowanceBand {
    /// Days since the invoice day, e.g. `0-365`, `over_1825`.
    #[schema(example = "0-365")]
    pub label: String,
    /// The share provided for, in basis points (500 = 5 %).
    #[schema(example = 500)]
    pub rate_bp: u32,
    /// What was open in the band.
    #[schema(example = 12_345)]
    pub balance_minor: i64,
    /// `balance_minor` times the rate, rounded half up to the minor unit.
    #[schema(example = 617)]
    pub allowance_minor: i64,
}

/// The bad-debt allowance by ageing band (账龄分析法).
#[derive(Debug, Serialize, ToSchema)]
pub struct AllowanceReport {
    pub as_of: NaiveDate,
    pub currency: Currency,
    pub bands: Vec<AllowanceBand>,
    pub total_balance_minor: i64,
    /// The sum of the bands' allowances.
    pub total_allowance_minor: i64,
}

/// Bad-debt allowance
///
/// What was open as of `as_of` in the bands of age since the invoice day of the allowance
/// policy, each times its rate (by default within 1 year 5 %, 1-2 years 10 %, 2-3 years
/// 20 %, 3-4 years 50 %, 4-5 years 80 %, over 5 years 100 %; a year is 365 days). Each band's allowance is rounded half up to the
/// minor unit and the total is their sum. Row scope as everywhere.
#[utoipa::path(
    tag = "receivables",
    operation_id = "getAllowance",
    params(AllowanceParams),
    responses((status = 200, description = "The allowance", body = AllowanceReport)),
    security(("bearer" = []))
)]
#[get("/receivables/allowance")]
pub async fn allowance_report(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    params: Query<AllowanceParams>,
) -> ApiResult<HttpResponse> {
    let params = params.into_inner();
    let slice = ledger_slice(
        &state,
        &caller,
        params.as_of,
        params.currency.as_deref(),
        params.customer_id,
        params.sales_unit_id,
    )
    .await?;
    let (as_of, currency) = (slice.as_of, slice.currency);
    let (policy, report) = state
        .db(move |conn| {
            let stored = settings::document::<AllowancePolicyRules>(conn)?;
            let policy = AllowancePolicy::from_rules(&stored.settings.bands).map_err(|errors| {
                StoreError::Internal(format!(
                    "the stored allowance policy is invalid: {errors:?}"
                ))
            })?;
            let query = AgeingQuery {
                slice,
                basis: Basis::Invoice,
                buckets: policy.ages().clone(),
                group_by: GroupBy::Customer,
                after: None,
                // Only the totals: no group is read.
                limit: 0,
            };
            let report = repo::ageing(conn, &query)?;
            Ok((policy, report))
        })
        .await?;
    let bands: Vec<AllowanceBand> = policy
        .labels()
        .into_iter()
        .zip(report.totals.into_vec())
        .enumerate()
        .map(|(band, (label, balance_minor))| AllowanceBand {
            label,
            rate_bp: policy.rate_bp(band),
            balance_minor,
            allowance_minor: allowance(balance_minor, policy.rate_bp(band)),
        })
        .collect();
    Ok(Reply::ok(&AllowanceReport {
        as_of,
        currency,
        total_balance_minor: bands.iter().map(|b| b.balance_minor).sum(),
        total_allowance_minor: bands.iter().map(|b| b.allowance_minor).sum(),
        bands,
    })
    .into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DoubleTenParams {
    /// The items issued under this sales unit (default every unit the caller sees).
    pub sales_unit_id: Option<Uuid>,
    /// The day the lists are as of (default today).
    pub as_of: Option<NaiveDate>,
    /// The lists' one currency (default the company currency).
    #[param(value_type = Option<String>, pattern = "^[A-Za-z]{3}$")]
    pub currency: Option<String>,
}

/// A customer on a "double ten" list.
#[derive(Debug, Serialize, ToSchema)]
pub struct DoubleTenEntry {
    pub customer_id: Uuid,
    #[schema(example = "深圳市华强贸易有限公司")]
    pub name: Option<String>,
    /// Everything open of the customer on the day.
    #[schema(example = 31_500_000)]
    pub outstanding_minor: i64,
    /// Days its oldest overdue item is past due; `null` when nothing is overdue.
    #[schema(example = 45)]
    pub days_overdue: Option<i64>,
}

/// Seed 004's "double ten", watched monthly per sales unit.
#[derive(Debug, Serialize, ToSchema)]
pub struct DoubleTenReport {
    pub as_of: NaiveDate,
    pub currency: Currency,
    /// The ten customers with the largest outstanding, largest first.
    pub largest: Vec<DoubleTenEntry>,
    /// The ten customers with the oldest overdue item, oldest first.
    pub oldest: Vec<DoubleTenEntry>,
}

/// The "double ten"
///
/// Seed 004's watch list per sales unit: the ten customers with the largest outstanding
/// and the ten whose oldest overdue item is oldest, as of a day, in one currency. Row scope
/// as everywhere.
#[utoipa::path(
    tag = "receivables",
    operation_id = "getDoubleTen",
    params(DoubleTenParams),
    responses((status = 200, description = "The two lists", body = DoubleTenReport)),
    security(("bearer" = []))
)]
#[get("/receivables/double-ten")]
pub async fn double_ten(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    params: Query<DoubleTenParams>,
) -> ApiResult<HttpResponse> {
    let params = params.into_inner();
    let slice = ledger_slice(
        &state,
        &caller,
        params.as_of,
        params.currency.as_deref(),
        None,
        params.sales_unit_id,
    )
    .await?;
    let (as_of, currency) = (slice.as_of, slice.currency);
    let (lists, names) = state
        .db(move |conn| {
            let lists = repo::double_ten(conn, &slice)?;
            let keys: Vec<String> = lists
                .largest
                .iter()
                .chain(&lists.oldest)
                .map(|s| s.customer_id.to_string())
                .collect();
            let names = repo::group_names(conn, GroupBy::Customer, &keys)?;
            Ok((lists, names))
        })
        .await?;
    let entry = |standing: CustomerStanding| DoubleTenEntry {
        customer_id: standing.customer_id,
        name: names.get(&standing.customer_id.to_string()).cloned(),
        outstanding_minor: standing.outstanding_minor,
        days_overdue: standing.oldest_due_on.map(|due| (as_of - due).num_days()),
    };
    Ok(Reply::ok(&DoubleTenReport {
        as_of,
        currency,
        largest: lists.largest.into_iter().map(entry).collect(),
        oldest: lists.oldest.into_iter().map(entry).collect(),
    })
    .into_response())
}

/// The allowance policy with its version.
pub type AllowancePolicyRecord = Record<AllowancePolicyRules>;

impl Shown for AllowancePolicyRules {
    const RECORD: &'static str = "AllowancePolicyRecord";
}

/// Get the allowance policy
///
/// The bands of age since the invoice day and their rates the bad-debt allowance applies;
/// the published matrix until someone changes it.
#[utoipa::path(
    tag = "receivables",
    operation_id = "getAllowancePolicy",
    responses((status = 200, description = "The policy", body = AllowancePolicyRecord, headers(("ETag" = String)))),
    security(("bearer" = []))
)]
#[get("/receivables/allowance-policy")]
pub async fn get_allowance_policy(
    state: web::Data<AppState>,
    _caller: Caller,
) -> ApiResult<HttpResponse> {
    documents::read::<AllowancePolicyRules, AllowancePolicyRecord>(&state).await
}

/// Replace the allowance policy
///
/// New bands and rates for the bad-debt allowance (2 to 13 bands, ascending ages, the last
/// open-ended, rates that never fall with age), audited. `If-Match` is required. Admins
/// only (whoever approves within a rule does not set it).
#[utoipa::path(
    tag = "receivables",
    operation_id = "replaceAllowancePolicy",
    params(("If-Match" = String, Header, description = "ETag of the version you changed")),
    request_body = AllowancePolicyRules,
    responses(
        (status = 200, description = "Replaced", body = AllowancePolicyRecord, headers(("ETag" = String))),
        (status = 412, description = "Stale If-Match; `current` holds the policy", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
#[put("/receivables/allowance-policy")]
pub async fn replace_allowance_policy(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    req: HttpRequest,
    body: Body<AllowancePolicyRules>,
) -> ApiResult<HttpResponse> {
    documents::replace::<_, AllowancePolicyRecord>(
        &state,
        &req,
        &caller,
        body.value,
        |rules| AllowancePolicy::from_rules(&rules.bands).map(drop),
        "allowance policy",
    )
    .await
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CollectionParams {
    /// The period's first day (default 89 days before `to`: 90 days).
    pub from: Option<NaiveDate>,
    /// The period's last day (default today).
    pub to: Option<NaiveDate>,
    /// The report's one currency (default the company currency).
    #[param(value_type = Option<String>, pattern = "^[A-Za-z]{3}$")]
    pub currency: Option<String>,
    /// One customer's metrics (default: all the caller sees, the company's for most roles).
    pub customer_id: Option<Uuid>,
    /// The metrics of the items of one sales unit.
    pub sales_unit_id: Option<Uuid>,
}

/// How well a period's receivables were collected.
#[derive(Debug, Serialize, ToSchema)]
pub struct CollectionReport {
    pub from: NaiveDate,
    pub to: NaiveDate,
    #[schema(value_type = String, example = "CNY")]
    pub currency: Currency,
    /// How DSO is computed: `count_back` (the closing balance less each month's invoiced
    /// sales, newest first, 24 months at most; the month that covers the rest counts the
    /// share of its days).
    #[schema(example = "count_back")]
    pub dso_method: String,
    /// Open the day before `from`.
    #[schema(example = 800_000)]
    pub opening_minor: i64,
    /// Invoiced from `from` to `to`.
    #[schema(example = 1_500_000)]
    pub invoiced_minor: i64,
    /// Open at `to`.
    #[schema(example = 1_000_000)]
    pub closing_minor: i64,
    /// Of that, not yet due.
    #[schema(example = 700_000)]
    pub closing_current_minor: i64,
    /// Of that, past due.
    #[schema(example = 300_000)]
    pub closing_overdue_minor: i64,
    /// Days sales outstanding at `to`, one decimal; `null` when the balance exceeds two
    /// years of sales (see `notes`).
    #[schema(example = 53.4)]
    pub dso_days: Option<f64>,
    /// Collection effectiveness index: (opening + invoiced - closing) / (opening + invoiced
    /// - closing not yet due) x 100, two decimals; `null` when nothing was collectable.
    #[schema(example = 81.25)]
    pub cei_percent: Option<f64>,
    /// Closing past due / closing x 100, two decimals; `null` when nothing is open.
    #[schema(example = 30.0)]
    pub overdue_ratio_percent: Option<f64>,
    /// Why a metric is `null`.
    pub notes: Vec<String>,
}

/// DSO, CEI and overdue ratio
///
/// For a period, of the company, one sales unit's items or one customer (row scope as
/// everywhere): days sales outstanding by the count-back method, the collection
/// effectiveness index and the share of the closing balance past due, with the balances and
/// sales they come from, in one currency.
#[utoipa::path(
    tag = "receivables",
    operation_id = "getCollectionMetrics",
    params(CollectionParams),
    responses((status = 200, description = "The metrics", body = CollectionReport)),
    security(("bearer" = []))
)]
#[get("/receivables/collection-metrics")]
pub async fn collection_metrics_report(
    state: web::Data<AppState>,
    Caller(caller): Caller,
    params: Query<CollectionParams>,
) -> ApiResult<HttpResponse> {
    let params = params.into_inner();
    let slice = ledger_slice(
        &state,
        &caller,
        params.to,
        params.currency.as_deref(),
        params.customer_id,
        params.sales_unit_id,
    )
    .await?;
    let to = slice.as_of;
    let from = params.from.unwrap_or(to - chrono::Days::new(89));
    if from > to {
        return Err(extract::invalid_query(
            "from",
            FieldError::new(
                "",
                FieldCode::OutOfRange,
                "the period starts on or before `to`",
            ),
        ));
    }
    let currency = slice.currency;
    let months = count_back_months(to);
    let read = months.clone();
    let facts = state
        .db(move |conn| repo::collection_facts(conn, &slice, from, &read))
        .await?;
    let metrics = collection_metrics(&facts, &months);
    let number = |value: Option<Decimal>| value.and_then(|v| v.to_f64());
    Ok(Reply::ok(&CollectionReport {
        from,
        to,
        currency,
        dso_method: "count_back".into(),
        opening_minor: facts.opening_minor,
        invoiced_minor: facts.invoiced_minor,
        closing_minor: facts.closing_minor,
        closing_current_minor: facts.closing_current_minor,
        closing_overdue_minor: facts.closing_minor - facts.closing_current_minor,
        dso_days: number(metrics.dso_days),
        cei_percent: number(metrics.cei_percent),
        overdue_ratio_percent: number(metrics.overdue_ratio_percent),
        notes: metrics.notes,
    })
    .into_response())
}
