//! What a segmentation run reads: every live customer's purchases and the facts of its value
//! score, from the company's own orders, trials, claims and assessments, in the company
//! currency.

use std::collections::HashMap;

use chrono::NaiveDate;
use credo_core::Currency;
use credo_customers::kinds::AssessmentTopic;
use credo_sales::claim::ClaimStatus;
use credo_sales::order::OrderStatus;
use credo_sales::trial::TrialStage;
use credo_segmentation::history::Purchase;
use credo_segmentation::run::CustomerFacts;
use credo_segmentation::score::ScoreFacts;
use diesel::connection::DefaultLoadingMode;
use diesel::pg::PgRowByRowLoadingMode;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Date, Text};
use uuid::Uuid;

use crate::convert::{parse_id, parse_optional_id};
use crate::fx::RateBook;
use crate::schema::{customers, orders};
use crate::{DbConnection, StoreError};

/// The run's input, customers in id order.
pub struct RunFacts {
    pub customers: Vec<CustomerFacts>,
    /// Each customer's sales unit, in the same order.
    pub units: Vec<Option<Uuid>>,
    /// Orders left out for want of an exchange rate on or before their day.
    pub excluded_orders: i64,
}

/// An order as the run reads it: customer, day, currency, amount, cost, product kinds,
/// prepayment, credit days, completed, shipped, documents sent, paid.
type OrderRow = (
    String,
    NaiveDate,
    String,
    i64,
    i64,
    i64,
    i64,
    i64,
    Option<NaiveDate>,
    Option<NaiveDate>,
    Option<NaiveDate>,
    Option<NaiveDate>,
);

#[derive(QueryableByName)]
struct CountRow {
    #[diesel(sql_type = Text)]
    customer_id: String,
    #[diesel(sql_type = BigInt)]
    all: i64,
    #[diesel(sql_type = BigInt)]
    some: i64,
    #[diesel(sql_type = BigInt)]
    more: i64,
}

#[derive(QueryableByName)]
struct RatingRow {
    #[diesel(sql_type = Text)]
    customer_id: String,
    #[diesel(sql_type = Text)]
    topic: String,
    #[diesel(sql_type = BigInt)]
    rating: i64,
}

fn count(value: i64) -> u32 {
    u32::try_from(value.max(0)).unwrap_or(u32::MAX)
}

/// Loads the facts as of `as_of`, the score's period starting `period_start`; customers of
/// `sales_unit` only when given.
pub fn load(
    conn: &mut DbConnection,
    as_of: NaiveDate,
    period_start: NaiveDate,
    company: Currency,
    sales_unit: Option<Uuid>,
) -> Result<RunFacts, StoreError> {
    let mut query = customers::table
        .filter(customers::archived_at.is_null())
        .select((customers::id, customers::sales_unit_id))
        .order(customers::id.asc())
        .into_boxed::<crate::db::MultiBackend>();
    if let Some(unit) = sales_unit {
        query = query.filter(customers::sales_unit_id.eq(unit.to_string()));
    }
    let rows = query.load::<(String, Option<String>)>(conn)?;
    let mut index: HashMap<String, usize> = HashMap::with_capacity(rows.len());
    let mut customers = Vec::with_capacity(rows.len());
    let mut units = Vec::with_capacity(rows.len());
    for (i, (id, unit)) in rows.into_iter().enumerate() {
        customers.push(CustomerFacts {
            id: parse_id(&id)?,
            purchases: Vec::new(),
            score: ScoreFacts::default(),
        });
        units.push(parse_optional_id(unit.as_deref())?);
        index.insert(id, i);
    }

    let rates = RateBook::load(conn, company)?;
    let mut excluded_orders = 0;
    let orders = orders::table
        .filter(orders::status.ne(OrderStatus::Quoted.as_str()))
        .filter(orders::status.ne(OrderStatus::Cancelled.as_str()))
        .filter(orders::ordered_on.le(as_of))
        .select((
            orders::customer_id,
            orders::ordered_on,
            orders::currency,
            orders::amount_minor,
            orders::cost_minor,
            orders::product_kinds,
            orders::prepayment_bp,
            orders::credit_days,
            orders::completed_on,
            orders::shipped_on,
            orders::documents_sent_on,
            orders::paid_on,
        ));
    let mut add = |order: OrderRow| -> Result<(), StoreError> {
        let (
            customer_id,
            ordered_on,
            currency,
            amount_minor,
            cost_minor,
            product_kinds,
            prepayment_bp,
            credit_days,
            completed_on,
            shipped_on,
            documents_sent_on,
            paid_on,
        ) = order;
        let Some(&i) = index.get(&customer_id) else {
            return Ok(());
        };
        let currency = Currency::parse(&currency)
            .map_err(|_| StoreError::Internal("stored order currency is invalid".into()))?;
        let convert = |amount| rates.to_company_minor(currency, ordered_on, amount);
        let Some(amount_minor) = convert(amount_minor) else {
            excluded_orders += 1;
            return Ok(());
        };
        let customer = &mut customers[i];
        customer.purchases.push(Purchase {
            on: ordered_on,
            amount_minor,
        });
        let facts = &mut customer.score;
        facts.first_order_on = Some(
            facts
                .first_order_on
                .map_or(ordered_on, |first| first.min(ordered_on)),
        );
        if ordered_on < period_start {
            return Ok(());
        }
        facts.orders += 1;
        facts.revenue_minor += amount_minor;
        facts.cost_minor += convert(cost_minor).unwrap_or(0);
        if product_kinds > 0 {
            facts.orders_with_lines += 1;
            facts.product_kinds += count(product_kinds);
        }
        facts.prepayment_bp += prepayment_bp;
        facts.credit_days += credit_days;
        if let (Some(completed), Some(shipped)) = (completed_on, shipped_on) {
            facts.shipped_orders += 1;
            facts.shipping_days += (shipped - completed).num_days().max(0);
        }
        if let (Some(sent), Some(paid)) = (documents_sent_on, paid_on) {
            facts.paid_orders += 1;
            facts.payment_days += (paid - sent).num_days().max(0);
        }
        Ok(())
    };
    // Streamed, a row at a time: a run reads millions of orders, and only their sums per
    // customer stay (PostgreSQL's default would hold the whole result in memory first).
    match conn {
        DbConnection::Postgres(pg) => {
            for order in orders.load_iter::<OrderRow, PgRowByRowLoadingMode>(pg)? {
                add(order?)?;
            }
        }
        DbConnection::Sqlite(lite) => {
            for order in orders.load_iter::<OrderRow, DefaultLoadingMode>(lite)? {
                add(order?)?;
            }
        }
    }

    let trials = diesel::sql_query(format!(
        "SELECT customer_id, COUNT(*) AS \"all\", \
         SUM(CASE WHEN stage = '{}' THEN 1 ELSE 0 END) AS some, CAST(0 AS BIGINT) AS more \
         FROM product_trials WHERE inquired_on <= $1 GROUP BY customer_id",
        TrialStage::Ordered.as_str()
    ))
    .bind::<Date, _>(as_of)
    .load::<CountRow>(conn)?;
    for row in trials {
        if let Some(&i) = index.get(&row.customer_id) {
            let facts = &mut customers[i].score;
            facts.trials = count(row.all);
            facts.trials_ordered = count(row.some);
        }
    }

    // Placeholders are numbered in the order they first appear: SQLite numbers `$n` that
    // way whatever n says.
    let claims = diesel::sql_query(format!(
        "SELECT customer_id, COUNT(*) AS \"all\", \
         SUM(CASE WHEN status <> '{}' THEN 1 ELSE 0 END) AS some, \
         SUM(CASE WHEN status = '{}' THEN 1 ELSE 0 END) AS more \
         FROM order_claims WHERE raised_on >= $1 AND raised_on <= $2 GROUP BY customer_id",
        ClaimStatus::Open.as_str(),
        ClaimStatus::Accepted.as_str(),
    ))
    .bind::<Date, _>(period_start)
    .bind::<Date, _>(as_of)
    .load::<CountRow>(conn)?;
    for row in claims {
        if let Some(&i) = index.get(&row.customer_id) {
            let facts = &mut customers[i].score;
            facts.claims = count(row.all);
            facts.claims_decided = count(row.some);
            facts.claims_accepted = count(row.more);
        }
    }

    let topics = [
        AssessmentTopic::IndustryInfluence,
        AssessmentTopic::PriceSensitivity,
        AssessmentTopic::CommunicationEfficiency,
    ];
    let ratings = diesel::sql_query(format!(
        "SELECT customer_id, topic, rating FROM assessments \
         WHERE topic IN ('{}', '{}', '{}') AND assessed_on <= $1 \
         ORDER BY customer_id, topic, assessed_on, created_at",
        topics[0].as_str(),
        topics[1].as_str(),
        topics[2].as_str(),
    ))
    .bind::<Date, _>(as_of)
    .load::<RatingRow>(conn)?;
    // In date order: the latest rating of a topic is the one that stays.
    for row in ratings {
        let Some(&i) = index.get(&row.customer_id) else {
            continue;
        };
        let facts = &mut customers[i].score;
        let rating = u8::try_from(row.rating).ok();
        match AssessmentTopic::parse(&row.topic) {
            Some(AssessmentTopic::IndustryInfluence) => facts.industry_influence = rating,
            Some(AssessmentTopic::PriceSensitivity) => facts.price_sensitivity = rating,
            Some(AssessmentTopic::CommunicationEfficiency) => facts.communication = rating,
            _ => {}
        }
    }
    Ok(RunFacts {
        customers,
        units,
        excluded_orders,
    })
}
