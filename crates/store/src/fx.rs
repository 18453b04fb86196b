//! Exchange rates into the company currency: recorded once per currency and day, looked up
//! as the latest on or before a day.

use chrono::NaiveDate;
use credo_core::company::{parse_rate, FxRate};
use credo_core::Currency;
use diesel::prelude::*;
use uuid::Uuid;

use crate::convert::to_db_time;
use crate::db::{write_transaction, Outcome};
use crate::schema::fx_rates;
use crate::{now, DbConnection, StoreError};

type RateRow = (String, NaiveDate, String);

fn from_row((currency, on, rate): RateRow) -> Result<FxRate, StoreError> {
    let unreadable = |what: &str| StoreError::Internal(format!("stored fx rate {what} is invalid"));
    Ok(FxRate {
        currency: Currency::parse(&currency).map_err(|_| unreadable("currency"))?,
        on,
        rate: parse_rate(&rate).map_err(|_| unreadable("rate"))?,
    })
}

pub enum Recorded {
    Created(FxRate),
    /// The same rate was recorded before for this currency and day.
    Unchanged(FxRate),
    /// Another rate is recorded for this currency and day; rates of the past do not change
    /// under the reports that used them.
    Conflict(FxRate),
}

impl Outcome for Recorded {
    fn is_refusal(&self) -> bool {
        matches!(self, Recorded::Conflict(_))
    }
}

fn get(
    conn: &mut DbConnection,
    currency: Currency,
    on: NaiveDate,
) -> Result<Option<FxRate>, StoreError> {
    fx_rates::table
        .find((currency.as_str(), on))
        .select((fx_rates::currency, fx_rates::rate_on, fx_rates::rate))
        .first::<RateRow>(conn)
        .optional()?
        .map(from_row)
        .transpose()
}

pub fn record(conn: &mut DbConnection, rate: FxRate, actor: Uuid) -> Result<Recorded, StoreError> {
    write_transaction(conn, |conn| {
        if let Some(existing) = get(conn, rate.currency, rate.on)? {
            return Ok(if existing.rate == rate.rate {
                Recorded::Unchanged(existing)
            } else {
                Recorded::Conflict(existing)
            });
        }
        diesel::insert_into(fx_rates::table)
            .values((
                fx_rates::currency.eq(rate.currency.as_str()),
                fx_rates::rate_on.eq(rate.on),
                fx_rates::rate.eq(rate.rate.to_string()),
                fx_rates::created_at.eq(to_db_time(now())),
                fx_rates::created_by.eq(actor.to_string()),
            ))
            .execute(conn)?;
        Ok(Recorded::Created(rate.clone()))
    })
}

/// The rate of `currency` that holds on `on`: the latest recorded on or before it.
pub fn on_or_before(
    conn: &mut DbConnection,
    currency: Currency,
    on: NaiveDate,
) -> Result<Option<FxRate>, StoreError> {
    fx_rates::table
        .filter(fx_rates::currency.eq(currency.as_str()))
        .filter(fx_rates::rate_on.le(on))
        .order(fx_rates::rate_on.desc())
        .select((fx_rates::currency, fx_rates::rate_on, fx_rates::rate))
        .first::<RateRow>(conn)
        .optional()?
        .map(from_row)
        .transpose()
}

/// Rates by currency, newest first within each: the page after `after`.
pub fn list(
    conn: &mut DbConnection,
    currency: Option<Currency>,
    after: Option<(Currency, NaiveDate)>,
    limit: i64,
) -> Result<Vec<FxRate>, StoreError> {
    let mut query = fx_rates::table
        .select((fx_rates::currency, fx_rates::rate_on, fx_rates::rate))
        .order((fx_rates::currency.asc(), fx_rates::rate_on.desc()))
        .into_boxed::<crate::db::MultiBackend>();
    if let Some(currency) = currency {
        query = query.filter(fx_rates::currency.eq(currency.as_str().to_owned()));
    }
    if let Some((currency, on)) = after {
        let code = currency.as_str().to_owned();
        query = query.filter(
            fx_rates::currency
                .gt(code.clone())
                .or(fx_rates::currency.eq(code).and(fx_rates::rate_on.lt(on))),
        );
    }
    query
        .limit(limit)
        .load::<RateRow>(conn)?
        .into_iter()
        .map(from_row)
        .collect()
}

/// Every rate in memory, for work that converts many amounts at once (a segmentation run).
pub struct RateBook {
    company: Currency,
    /// Per currency, rates by day ascending.
    rates: std::collections::HashMap<Currency, Vec<FxRate>>,
}

impl RateBook {
    pub fn load(conn: &mut DbConnection, company: Currency) -> Result<Self, StoreError> {
        let mut rates: std::collections::HashMap<Currency, Vec<FxRate>> = Default::default();
        let rows = fx_rates::table
            .select((fx_rates::currency, fx_rates::rate_on, fx_rates::rate))
            .order((fx_rates::currency.asc(), fx_rates::rate_on.asc()))
            .load::<RateRow>(conn)?;
        for row in rows {
            let rate = from_row(row)?;
            rates.entry(rate.currency).or_default().push(rate);
        }
        Ok(Self { company, rates })
    }

    /// `amount_minor` of `currency` on `on` in minor units of the company currency, at the
    /// latest rate on or before that day; `None` without such a rate (or when it overflows).
    pub fn to_company_minor(
        &self,
        currency: Currency,
        on: NaiveDate,
        amount_minor: i64,
    ) -> Option<i64> {
        if currency == self.company {
            return Some(amount_minor);
        }
        let rates = self.rates.get(&currency)?;
        let after = rates.partition_point(|rate| rate.on <= on);
        rates[..after]
            .last()?
            .to_company_minor(amount_minor, self.company)
    }
}
