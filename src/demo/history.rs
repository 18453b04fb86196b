//! Two years of commercial history for demo customers: orders with a reorder rhythm per
//! customer and a Pareto-shaped revenue spread, interactions, visits, events and leads.

use std::collections::HashMap;

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use credo_core::company::{parse_rate, FxRate};
use credo_core::Currency;
use credo_credit::agreement::{Agreement, AgreementSource, AgreementStatus};
use credo_customers::event::NewEvent;
use credo_customers::interaction::{Direction, InteractionChannel, NewInteraction, Participants};
use credo_customers::visit::{GeoPoint, Presence, VisitPlan, VisitReport};
use credo_customers::{Department, EventKind, Stamps};
use credo_sales::lead::LeadFields;
use credo_sales::{
    FunnelStage, LeadChannel, Man, Order, OrderDates, OrderDraft, OrderLine, OrderStatus,
    OrderTotals, PaymentTerms,
};
use credo_store::leads::{LeadChange, NewLead};
use credo_store::versioned::Expected;
use credo_store::{
    activity, credit, fx, leads, orders, receivables, visits, DbConnection, StoreError,
};
use rand::rngs::StdRng;
use rand::Rng;
use uuid::Uuid;

use super::ledger::Ledger;
use super::{person_name, pick};

/// Days of order history.
const HISTORY_DAYS: i64 = 730;

/// A product of the demo catalogue: code, name, list price in fen (CNY), cost share in
/// basis points.
pub struct Product {
    code: String,
    name: String,
    price_minor: i64,
    cost_bp: i64,
}

/// Models per product family in the catalogue.
const MODELS: usize = 5;

/// Forty products from spare parts to production lines: eight families of five models, the
/// cheapest family first.
pub fn catalogue(rng: &mut StdRng) -> Vec<Product> {
    const FAMILIES: &[(&str, &str, i64)] = &[
        ("SP", "备件包", 600_000),
        ("TL", "模具", 1_800_000),
        ("SV", "维保服务", 2_500_000),
        ("CN", "控制系统", 9_000_000),
        ("HP", "液压机", 30_000_000),
        ("CX", "数控折弯机", 45_000_000),
        ("LS", "激光切割机", 120_000_000),
        ("PL", "自动化生产线", 280_000_000),
    ];
    FAMILIES
        .iter()
        .flat_map(|&family| (1..=MODELS as i64).map(move |model| (family, model)))
        .map(|((code, name, price), model)| Product {
            code: format!("{code}-{}00", model),
            name: format!("{name} {code}-{}00", model),
            price_minor: price / 10 * (8 + model),
            cost_bp: rng.random_range(6_500..9_500),
        })
        .collect()
}

/// How a customer buys: how often, how much, on what terms, how fast it pays.
struct Buyer {
    orders: usize,
    /// What an order of this customer is worth on average, in fen.
    ticket_minor: f64,
    favourites: Vec<usize>,
    terms: PaymentTerms,
    shipping_days: i64,
    payment_delay_days: i64,
    /// The last day the customer still orders (lost customers stopped).
    last_day: NaiveDate,
}

/// The tail of customer sizes: Pareto(1.2), about the 80/20 rule's 1.16.
const SIZE_ALPHA: f64 = 1.2;
/// The largest customer orders this many times as often as the smallest.
const SIZE_CAP: f64 = 200.0;

/// A Pareto(SIZE_ALPHA, minimum 1) draw capped at SIZE_CAP: a few customers are many times
/// the typical one.
fn size(rng: &mut StdRng) -> f64 {
    let u: f64 = rng.random_range(f64::EPSILON..1.0);
    u.powf(-1.0 / SIZE_ALPHA).min(SIZE_CAP)
}

/// The mean of `size`: 1 + (1 - cap^(1 - alpha)) / (alpha - 1).
fn mean_size() -> f64 {
    1.0 + (1.0 - SIZE_CAP.powf(1.0 - SIZE_ALPHA)) / (SIZE_ALPHA - 1.0)
}

/// A Gamma(shape, 1) draw for a whole-number shape: a sum of exponentials.
fn gamma(rng: &mut StdRng, shape: u32) -> f64 {
    (0..shape)
        .map(|_| -rng.random_range(f64::EPSILON..1.0).ln())
        .sum()
}

/// The shapes of spend: between customers (Gamma-Gamma's q) and between one customer's
/// orders (its p). Spend drawn this way is what the Gamma-Gamma model describes, so that the
/// segmentation run's fit on demo data recovers them (about, as days with two orders merge).
const SPEND_SHAPE_BETWEEN: u32 = 2;
const SPEND_SHAPE_WITHIN: u32 = 2;
/// The scale of tickets: a median customer orders for about 900,000 yuan.
const TICKET_SCALE_MINOR: f64 = 150_000_000.0;

fn buyer(rng: &mut StdRng, mean_orders: f64, catalogue: &[Product], last_day: NaiveDate) -> Buyer {
    let orders = ((size(rng) * mean_orders / mean_size()).round() as usize).max(1);
    let (prepayment_bp, credit_days) = *pick(
        rng,
        &[
            (0, 30),
            (0, 60),
            (0, 90),
            (3000, 30),
            (3000, 60),
            (10_000, 0),
        ],
    );
    let ticket_minor = TICKET_SCALE_MINOR / gamma(rng, SPEND_SHAPE_BETWEEN);
    // A customer buys within its line of business: three models of the dearest family it
    // takes a few of per order (big spenders buy production lines, small ones spare parts).
    let family = (0..catalogue.len() / MODELS)
        .rev()
        .find(|family| (catalogue[family * MODELS].price_minor as f64) * 3.0 <= ticket_minor)
        .unwrap_or(0);
    Buyer {
        orders,
        ticket_minor,
        favourites: (0..3)
            .map(|_| family * MODELS + rng.random_range(0..MODELS))
            .collect(),
        terms: PaymentTerms {
            prepayment_bp,
            credit_days,
        },
        shipping_days: rng.random_range(0..10),
        payment_delay_days: *pick(rng, &[-5, 0, 0, 3, 10, 30, 60]),
        last_day,
    }
}

/// The dates an order reached by `today`, and its status then.
fn progress(
    rng: &mut StdRng,
    buyer: &Buyer,
    ordered_on: NaiveDate,
    today: NaiveDate,
) -> (OrderStatus, OrderDates, Option<String>) {
    let mut dates = OrderDates::default();
    if rng.random_bool(0.03) {
        let on = (ordered_on + Duration::days(rng.random_range(1..10))).min(today);
        dates.cancelled_on = Some(on);
        return (
            OrderStatus::Cancelled,
            dates,
            Some("客户取消采购计划".into()),
        );
    }
    let confirmed = ordered_on + Duration::days(rng.random_range(0..4));
    let producing = confirmed + Duration::days(rng.random_range(1..4));
    let completed = producing + Duration::days(rng.random_range(7..30));
    let shipped = completed + Duration::days(buyer.shipping_days + rng.random_range(0..3));
    let documents = shipped + Duration::days(rng.random_range(0..3));
    let paid = documents
        + Duration::days(
            (buyer.terms.credit_days + buyer.payment_delay_days + rng.random_range(-3..4)).max(0),
        );
    let closed = paid + Duration::days(rng.random_range(0..6));
    // A few invoices are never paid.
    let defaulted = rng.random_bool(0.02);
    let steps = [
        (OrderStatus::Confirmed, confirmed),
        (OrderStatus::InProduction, producing),
        (OrderStatus::Shipped, shipped),
        (OrderStatus::Invoiced, documents),
        (OrderStatus::Paid, paid),
        (OrderStatus::Closed, closed),
    ];
    let mut status = OrderStatus::Quoted;
    for (next, on) in steps {
        if on > today || (next == OrderStatus::Paid && defaulted) {
            break;
        }
        status = next;
        match next {
            OrderStatus::Confirmed => dates.confirmed_on = Some(on),
            OrderStatus::Shipped => {
                dates.completed_on = Some(completed);
                dates.shipped_on = Some(on);
            }
            OrderStatus::Invoiced => dates.documents_sent_on = Some(on),
            OrderStatus::Paid => dates.paid_on = Some(on),
            OrderStatus::Closed => dates.closed_on = Some(on),
            _ => {}
        }
    }
    (status, dates, None)
}

/// One demo customer's identity for its history.
pub struct Account {
    pub id: Uuid,
    pub owner_id: Uuid,
    pub sales_unit_id: Uuid,
    pub currency: Currency,
    /// Lead or prospect customers have not ordered.
    pub buys: bool,
    pub lost: bool,
}

pub(super) fn at_nine(day: NaiveDate, minute: i64) -> DateTime<Utc> {
    day.and_hms_opt(9, 0, 0).expect("valid time").and_utc() + Duration::minutes(minute)
}

/// The order history of one customer over the last two years.
pub fn orders(
    rng: &mut StdRng,
    account: &Account,
    mean_orders: f64,
    catalogue: &[Product],
    today: NaiveDate,
) -> Vec<Order> {
    if !account.buys {
        return Vec::new();
    }
    let last_day = if account.lost {
        today - Duration::days(365)
    } else {
        today
    };
    let buyer = buyer(rng, mean_orders, catalogue, last_day);
    let start = today - Duration::days(HISTORY_DAYS);
    let span = (buyer.last_day - start).num_days().max(1);
    // One interval to spare, so that the jittered steps fit the window.
    let interval = span as f64 / (buyer.orders + 1) as f64;
    let mut day = start + Duration::days(rng.random_range(0..interval.ceil().max(1.0) as i64));
    let mut history = Vec::with_capacity(buyer.orders);
    while day <= buyer.last_day && history.len() < buyer.orders {
        let line_count = *pick(rng, &[1, 1, 1, 2, 2, 3, 4]);
        let line_minor = buyer.ticket_minor * gamma(rng, SPEND_SHAPE_WITHIN)
            / f64::from(SPEND_SHAPE_WITHIN)
            / f64::from(line_count);
        let lines: Vec<OrderLine> = (0..line_count)
            .map(|_| {
                let product = &catalogue[*pick(rng, &buyer.favourites)];
                let quantity = ((line_minor / product.price_minor as f64).round() as i64).max(1);
                // List prices are in fen; a dollar buys about seven yuan.
                let list = if account.currency.as_str() == "USD" {
                    product.price_minor / 7
                } else {
                    product.price_minor
                };
                // Negotiated prices spread around the list price.
                let price = list * rng.random_range(90..=105) / 100;
                let cost = list * product.cost_bp / 10_000;
                OrderLine::new(
                    product.code.clone(),
                    product.name.clone(),
                    quantity,
                    price,
                    cost,
                )
                .expect("demo amounts fit")
            })
            .collect();
        let totals = OrderTotals::of(&lines, account.currency).expect("demo totals fit");
        let (status, dates, cancel_reason) = progress(rng, &buyer, day, today);
        let created_at = at_nine(day, rng.random_range(0..480));
        let updated_at = dates.latest().map_or(created_at, |d| at_nine(d, 0));
        history.push(Order {
            id: Uuid::now_v7(),
            status,
            draft: OrderDraft {
                customer_id: account.id,
                reference: Some(format!(
                    "PO-{}-{:05}",
                    day.format("%Y%m"),
                    rng.random_range(0..100_000)
                )),
                currency: account.currency,
                ordered_on: day,
                terms: buyer.terms,
                lines,
                product_trial_id: None,
                note: None,
            },
            totals,
            dates,
            cancel_reason,
            credit_check: None,
            owner_id: account.owner_id,
            sales_unit_id: Some(account.sales_unit_id),
            stamps: Stamps {
                created_at,
                created_by: account.owner_id,
                updated_at,
                updated_by: account.owner_id,
                version: 1,
            },
        });
        let step = interval * rng.random_range(0.5..1.5);
        day += Duration::days(step.round().max(1.0) as i64);
    }
    history
}

/// Monthly rates (on the first) between the demo's two currencies, CNY and USD, from before the first
/// order to today, as a finance team keeps them; a random walk around 7.1 yuan per dollar.
/// Returns how many were recorded; a company whose currency is neither gets none.
pub fn record_exchange_rates(
    conn: &mut DbConnection,
    rng: &mut StdRng,
    company: Currency,
    today: NaiveDate,
    actor: Uuid,
) -> Result<usize, StoreError> {
    let (cny, usd) = (
        Currency::parse("CNY").expect("ISO 4217"),
        Currency::parse("USD").expect("ISO 4217"),
    );
    let foreign = match company.as_str() {
        "CNY" => usd,
        "USD" => cny,
        _ => return Ok(0),
    };
    let mut yuan_per_dollar = 7.1_f64;
    let mut recorded = 0;
    let mut month = (today - Duration::days(HISTORY_DAYS + 31))
        .with_day(1)
        .expect("day 1");
    while month <= today {
        let rate = if foreign == usd {
            format!("{yuan_per_dollar:.4}")
        } else {
            format!("{:.6}", 1.0 / yuan_per_dollar)
        };
        let rate = FxRate {
            currency: foreign,
            on: month,
            rate: parse_rate(&rate).expect("a plain decimal"),
        };
        if let fx::Recorded::Created(_) = fx::record(conn, rate, None, actor)? {
            recorded += 1;
        }
        yuan_per_dollar = (yuan_per_dollar + rng.random_range(-0.05..0.05)).clamp(6.8, 7.4);
        month = month
            .checked_add_months(chrono::Months::new(1))
            .expect("a representable month");
    }
    Ok(recorded)
}

/// Minor units a demo line is rounded up to: 10,000 in the major unit for two-digit
/// currencies.
const LINE_STEP_MINOR: i64 = 1_000_000;

/// The lines the credit department carried over from its old system: for buying customers
/// (but one in twenty, sold to for cash), about three months of their sales (an eighth of
/// two years'), in their currency, granted on a day of the last year for twelve months, so
/// some come up for review soon.
fn credit_lines(
    rng: &mut StdRng,
    accounts: &[Account],
    history: &[Order],
    now: DateTime<Utc>,
) -> Vec<Agreement> {
    let today = now.date_naive();
    let mut sales: HashMap<Uuid, i64> = HashMap::new();
    for order in history
        .iter()
        .filter(|o| o.status != OrderStatus::Cancelled)
    {
        *sales.entry(order.draft.customer_id).or_default() += order.totals.amount.amount_minor;
    }
    accounts
        .iter()
        .filter(|account| account.buys && !account.lost)
        .filter_map(|account| {
            if rng.random_range(0..20) == 0 {
                return None;
            }
            let quarter = sales.get(&account.id).copied().unwrap_or(0) / 8;
            let limit_minor = (quarter / LINE_STEP_MINOR + 1) * LINE_STEP_MINOR;
            let valid_from = today - Duration::days(rng.random_range(0..365));
            Some(Agreement {
                id: Uuid::now_v7(),
                customer_id: account.id,
                currency: account.currency,
                limit_minor,
                term_days: *pick(rng, &[30, 60, 90]),
                valid_from,
                valid_to: valid_from + Duration::days(364),
                guarantees: Vec::new(),
                source: AgreementSource::CarriedOver,
                application_id: None,
                evaluation_id: None,
                rating: None,
                reason: Some("demo: line carried over from the old system".into()),
                status: AgreementStatus::Active,
                ended_by: None,
                ended_at: None,
                end_reason: None,
                created_at: now,
                created_by: account.owner_id,
            })
        })
        .collect()
}

/// Writes orders and their receivables, interactions, visits and events for a batch of
/// accounts, adding each customer's CNY revenue to `revenue`; returns the counts (orders,
/// interactions, visits, events, items).
pub fn record_activity(
    conn: &mut DbConnection,
    rng: &mut StdRng,
    accounts: &[Account],
    mean_orders: f64,
    catalogue: &[Product],
    now: DateTime<Utc>,
    revenue: &mut HashMap<Uuid, i64>,
) -> Result<[usize; 5], StoreError> {
    let today = now.date_naive();
    let mut counts = [0; 5];
    let history: Vec<Order> = accounts
        .iter()
        .flat_map(|account| orders(rng, account, mean_orders, catalogue, today))
        .collect();
    orders::import(conn, &history)?;
    let mut ledger = Ledger::default();
    ledger.record(rng, &history, today);
    receivables::import(conn, &ledger.items, &ledger.payments, &ledger.allocations)?;
    counts[4] = ledger.items.len();
    credit::agreements::import(conn, &credit_lines(rng, accounts, &history, now))?;
    for order in history
        .iter()
        .filter(|o| o.draft.currency.as_str() == "CNY")
    {
        if order.status != OrderStatus::Cancelled {
            *revenue.entry(order.draft.customer_id).or_default() +=
                order.totals.amount.amount_minor;
        }
    }
    counts[0] = history.len();
    for account in accounts {
        for _ in 0..rng.random_range(0..5) {
            let interaction = NewInteraction {
                channel: *pick(rng, InteractionChannel::ALL),
                direction: *pick(rng, &[Direction::Inbound, Direction::Outbound]),
                occurred_at: now - Duration::minutes(rng.random_range(60..HISTORY_DAYS * 24 * 60)),
                participants: Participants {
                    user_ids: vec![account.owner_id],
                    contact_ids: Vec::new(),
                },
                summary: pick(
                    rng,
                    &[
                        "电话回访,了解设备使用情况",
                        "报价跟进",
                        "Discussed Q3 volumes",
                        "催收到期货款",
                        "技术交流会",
                    ],
                )
                .to_string(),
                outcome: None,
            };
            activity::add_interaction(conn, account.id, interaction, account.owner_id)?;
            counts[1] += 1;
        }
        if rng.random_bool(0.4) {
            let planned_at = now + Duration::hours(rng.random_range(-24 * 60..24 * 14));
            let done = planned_at < now;
            let here = GeoPoint::from_micro_degrees(
                rng.random_range(22_400_000..41_900_000),
                rng.random_range(113_800_000..123_500_000),
            );
            let plan = VisitPlan {
                customer_id: account.id,
                contact_id: None,
                planned_at,
                purpose: "回访设备使用情况,了解新需求".into(),
                check_in: done.then_some(Presence {
                    at: planned_at,
                    location: here,
                }),
                check_out: done.then(|| {
                    (
                        Presence {
                            at: planned_at + Duration::minutes(50),
                            location: here,
                        },
                        VisitReport {
                            outcome: "客户满意,计划下季度增购".into(),
                            next_step: Some("两周内发送报价".into()),
                        },
                    )
                }),
            };
            visits::create(
                conn,
                Uuid::now_v7(),
                account.owner_id,
                plan,
                account.owner_id,
            )?;
            counts[2] += 1;
        }
        if rng.random_bool(0.03) {
            let event = NewEvent {
                kind: *pick(rng, EventKind::ALL),
                occurred_on: today - Duration::days(rng.random_range(0..180)),
                department: *pick(
                    rng,
                    &[
                        Department::Credit,
                        Department::Sales,
                        Department::AssetManagement,
                    ],
                ),
                description: "据工商信息及客户经理反馈".into(),
            };
            activity::add_event(conn, account.id, event, account.owner_id)?;
            counts[3] += 1;
        }
    }
    Ok(counts)
}

const FAIRS: &[&str] = &[
    "2026 春季广交会",
    "2025 秋季广交会",
    "Hannover Messe 2026",
    "上海工博会",
];

/// `count` leads of the agents, spread over the funnel; returns how many were recorded.
/// Each batch of 500 is its own transaction: PostgreSQL's lock table holds the name-key
/// locks of a few thousand leads per transaction, not of a hundred thousand.
pub fn record_leads(
    conn: &mut DbConnection,
    rng: &mut StdRng,
    agents: &[(Uuid, Uuid)],
    count: usize,
    actor: Uuid,
) -> Result<usize, StoreError> {
    let mut recorded = 0;
    for chunk_start in (0..count).step_by(500) {
        let batch: Vec<NewLead> = (chunk_start..count.min(chunk_start + 500))
            .map(|i| {
                let (owner_id, unit) = *pick(rng, agents);
                let channel = *pick(rng, LeadChannel::ALL);
                NewLead {
                    fields: LeadFields {
                        company_name: format!(
                            "{} Prospect Co. {i}",
                            pick(
                                rng,
                                &["Hanoi", "Jakarta", "Dubai", "Lagos", "Lima", "Izmir"]
                            )
                        ),
                        contact_name: Some(person_name(rng)),
                        contact_title: Some("Purchasing Manager".into()),
                        phone: None,
                        email: None,
                        country: None,
                        channel,
                        source_detail: (channel == LeadChannel::TradeFair)
                            .then(|| pick(rng, FAIRS).to_string()),
                        note: None,
                    },
                    man: Man {
                        money: rng.random_bool(0.6),
                        authority: rng.random_bool(0.5),
                        need: rng.random_bool(0.7),
                    },
                    owner_id,
                    sales_unit_id: Some(unit),
                }
            })
            .collect();
        recorded += credo_store::write_transaction(conn, |conn| {
            record_batch(conn, rng, batch.clone(), actor)
        })?;
    }
    Ok(recorded)
}

/// Records a batch of leads and moves each along the funnel; returns how many were new.
fn record_batch(
    conn: &mut DbConnection,
    rng: &mut StdRng,
    batch: Vec<NewLead>,
    actor: Uuid,
) -> Result<usize, StoreError> {
    let mut recorded = 0;
    for outcome in leads::record(conn, batch, actor)? {
        let leads::Recorded::Created(lead) = outcome else {
            continue;
        };
        recorded += 1;
        // Each stage keeps about 60% of the leads that reached the one before.
        let mut stage_index = 0;
        while stage_index < 4 && rng.random_bool(0.6) {
            stage_index += 1;
        }
        let stage = [
            FunnelStage::New,
            FunnelStage::Contacted,
            FunnelStage::NeedsAnalysis,
            FunnelStage::Proposal,
            FunnelStage::Negotiation,
        ][stage_index];
        if stage != FunnelStage::New {
            let input = credo_sales::StageInput {
                stage,
                reason: None,
            };
            leads::update(
                conn,
                lead.id,
                &Expected::Any,
                LeadChange::Stage(input),
                lead.owner_id,
            )?;
        }
        if stage_index >= 2 && rng.random_bool(0.3) {
            let input = credo_sales::StageInput {
                stage: FunnelStage::Lost,
                reason: Some("价格不具竞争力".into()),
            };
            leads::update(
                conn,
                lead.id,
                &Expected::Any,
                LeadChange::Stage(input),
                lead.owner_id,
            )?;
        }
    }
    Ok(recorded)
}

/// The share of revenue (in CNY) the top fifth of buyers make: about 0.8 for a Pareto
/// spread.
pub fn top_fifth_share(revenue: &HashMap<Uuid, i64>) -> Option<f64> {
    let mut totals: Vec<i64> = revenue.values().copied().collect();
    totals.sort_unstable_by(|a, b| b.cmp(a));
    let all: i128 = totals.iter().map(|&t| i128::from(t)).sum();
    let top: i128 = totals[..totals.len().div_ceil(5)]
        .iter()
        .map(|&t| i128::from(t))
        .sum();
    (all > 0).then(|| top as f64 / all as f64)
}
