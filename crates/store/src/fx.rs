//! Exchange rates into the company currency: recorded once per currency and day, looked up
//! as the latest on or before a day.

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use credo_core::audit::AuditAction;
use credo_core::company::{judge_rate, parse_rate, FxChangeStatus, FxRate, FxRateChange, RateMove};
use credo_core::json::changes;
use credo_core::Currency;
use diesel::prelude::*;
use uuid::Uuid;

use crate::convert::{
    from_db_time, parse_currency, parse_id, parse_name, parse_optional_id, to_db_time,
};
use crate::db::{lock_key, write_transaction, MultiBackend, Outcome};
use crate::keyset::{keyset, Window};
use crate::schema::{fx_rate_changes, fx_rates};
use crate::{audit, now, settings, DbConnection, StoreError};

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
    /// Another rate is recorded for this currency and day and the request does not correct
    /// it; rates of the past do not change under the reports that used them by accident.
    Conflict(FxRate),
    /// The day's rate corrected: a new version, the one it replaced kept in the change.
    Corrected(FxRate),
    /// Beyond the company's band: waits for a second rate keeper.
    Pending(FxRateChange),
}

impl Outcome for Recorded {
    fn is_refusal(&self) -> bool {
        matches!(self, Recorded::Conflict(_))
    }
}

pub const CHANGE_ENTITY: &str = "fx_rate_change";

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

/// Serializes the changes of one currency's rates, which are judged against each other.
fn lock_currency(conn: &mut DbConnection, currency: Currency) -> Result<(), StoreError> {
    lock_key(conn, &format!("fx:{}", currency.as_str()))
}

/// Records `rate` for its day, or corrects the day's rate when `correction` gives the
/// reason, as `judge_rate` rules under the company's band: within it at once (a change
/// applied), beyond it as a pending change a second rate keeper decides. Changes of one
/// currency are judged one at a time.
pub fn record(
    conn: &mut DbConnection,
    rate: FxRate,
    correction: Option<String>,
    actor: Uuid,
) -> Result<Recorded, StoreError> {
    write_transaction(conn, |conn| {
        lock_currency(conn, rate.currency)?;
        let recorded = get(conn, rate.currency, rate.on)?;
        let before = match rate.on.pred_opt() {
            Some(day) => on_or_before(conn, rate.currency, day)?,
            None => None,
        };
        let band = settings::company(conn)?.settings.fx_band_bp;
        let correcting = correction.is_some();
        let change = |status, deviation_bp| FxRateChange {
            id: Uuid::now_v7(),
            currency: rate.currency,
            on: rate.on,
            rate: rate.rate,
            previous_rate: recorded.as_ref().map(|r| r.rate),
            reason: correction.clone(),
            deviation_bp,
            status,
            requested_by: actor,
            requested_at: now(),
            decided_by: None,
            decided_at: None,
            decision_note: None,
        };
        Ok(
            match judge_rate(&rate, recorded.as_ref(), before.as_ref(), correcting, band) {
                RateMove::Unchanged => Recorded::Unchanged(recorded.unwrap_or(rate.clone())),
                RateMove::Conflict => Recorded::Conflict(recorded.unwrap_or(rate.clone())),
                RateMove::Record => {
                    apply(conn, &change(FxChangeStatus::Applied, None), actor)?;
                    Recorded::Created(rate.clone())
                }
                RateMove::Correct => {
                    apply(conn, &change(FxChangeStatus::Applied, None), actor)?;
                    Recorded::Corrected(rate.clone())
                }
                RateMove::SecondPerson { deviation_bp } => {
                    let pending = change(FxChangeStatus::Pending, Some(deviation_bp));
                    insert_change(conn, &pending)?;
                    audit::record(
                        conn,
                        CHANGE_ENTITY,
                        pending.id,
                        AuditAction::Created,
                        actor,
                        &changes(&serde_json::Value::Null, &audit::view(&pending)?),
                    )?;
                    Recorded::Pending(pending)
                }
            },
        )
    })
}

/// Puts a change's rate in force for its day: inserted as the day's first rate, or written
/// over the rate it corrects (`previous_rate`).
fn put_in_force(
    conn: &mut DbConnection,
    change: &FxRateChange,
    actor: Uuid,
) -> Result<(), StoreError> {
    match change.previous_rate {
        None => diesel::insert_into(fx_rates::table)
            .values((
                fx_rates::currency.eq(change.currency.as_str()),
                fx_rates::rate_on.eq(change.on),
                fx_rates::rate.eq(change.rate.to_string()),
                fx_rates::created_at.eq(to_db_time(now())),
                fx_rates::created_by.eq(actor.to_string()),
            ))
            .execute(conn)?,
        Some(_) => diesel::update(fx_rates::table.find((change.currency.as_str(), change.on)))
            .set(fx_rates::rate.eq(change.rate.to_string()))
            .execute(conn)?,
    };
    Ok(())
}

/// Puts an applied change's rate in force and keeps the change; audited.
fn apply(conn: &mut DbConnection, change: &FxRateChange, actor: Uuid) -> Result<(), StoreError> {
    put_in_force(conn, change, actor)?;
    insert_change(conn, change)?;
    audit::record(
        conn,
        CHANGE_ENTITY,
        change.id,
        AuditAction::Created,
        actor,
        &changes(&serde_json::Value::Null, &audit::view(change)?),
    )
}

fn insert_change(conn: &mut DbConnection, change: &FxRateChange) -> Result<(), StoreError> {
    diesel::insert_into(fx_rate_changes::table)
        .values(ChangeRow::of(change))
        .execute(conn)?;
    Ok(())
}

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = fx_rate_changes)]
#[diesel(treat_none_as_null = true)]
struct ChangeRow {
    id: String,
    currency: String,
    rate_on: NaiveDate,
    rate: String,
    previous_rate: Option<String>,
    reason: Option<String>,
    deviation_bp: Option<i64>,
    status: String,
    requested_by: String,
    requested_at: NaiveDateTime,
    decided_by: Option<String>,
    decided_at: Option<NaiveDateTime>,
    decision_note: Option<String>,
}

impl ChangeRow {
    fn of(change: &FxRateChange) -> Self {
        Self {
            id: change.id.to_string(),
            currency: change.currency.as_str().to_owned(),
            rate_on: change.on,
            rate: change.rate.to_string(),
            previous_rate: change.previous_rate.map(|r| r.to_string()),
            reason: change.reason.clone(),
            deviation_bp: change.deviation_bp,
            status: change.status.as_str().to_owned(),
            requested_by: change.requested_by.to_string(),
            requested_at: to_db_time(change.requested_at),
            decided_by: change.decided_by.map(|u| u.to_string()),
            decided_at: change.decided_at.map(to_db_time),
            decision_note: change.decision_note.clone(),
        }
    }

    fn into_change(self) -> Result<FxRateChange, StoreError> {
        let rate = |text: &str| {
            parse_rate(text)
                .map_err(|_| StoreError::Internal("a stored rate change is unreadable".into()))
        };
        Ok(FxRateChange {
            id: parse_id(&self.id)?,
            currency: parse_currency(&self.currency)?,
            on: self.rate_on,
            rate: rate(&self.rate)?,
            previous_rate: self.previous_rate.as_deref().map(rate).transpose()?,
            reason: self.reason,
            deviation_bp: self.deviation_bp,
            status: parse_name(&self.status, FxChangeStatus::parse)?,
            requested_by: parse_id(&self.requested_by)?,
            requested_at: from_db_time(self.requested_at),
            decided_by: parse_optional_id(self.decided_by.as_deref())?,
            decided_at: self.decided_at.map(from_db_time),
            decision_note: self.decision_note,
        })
    }
}

pub fn change(conn: &mut DbConnection, id: Uuid) -> Result<Option<FxRateChange>, StoreError> {
    fx_rate_changes::table
        .find(id.to_string())
        .select(ChangeRow::as_select())
        .first(conn)
        .optional()?
        .map(ChangeRow::into_change)
        .transpose()
}

/// A page of rate changes, the latest asked for first; only those in `statuses` when given.
pub fn changes_page(
    conn: &mut DbConnection,
    statuses: &[FxChangeStatus],
    window: &Window<DateTime<Utc>>,
) -> Result<Vec<FxRateChange>, StoreError> {
    let mut query = fx_rate_changes::table
        .select(ChangeRow::as_select())
        .into_boxed::<MultiBackend>();
    if !statuses.is_empty() {
        query = query.filter(
            fx_rate_changes::status.eq_any(statuses.iter().map(|s| s.as_str()).collect::<Vec<_>>()),
        );
    }
    keyset!(
        query,
        fx_rate_changes::requested_at,
        fx_rate_changes::id,
        window.after_db_time(),
        true
    );
    query
        .limit(window.limit)
        .load::<ChangeRow>(conn)?
        .into_iter()
        .map(ChangeRow::into_change)
        .collect()
}

/// What deciding a pending change came to.
#[derive(Debug)]
pub enum ChangeDecided {
    Decided(FxRateChange),
    NotFound,
    /// Decided before: a change is decided once.
    AlreadyDecided(FxRateChange),
    /// The rate keeper who asked for it: someone else decides.
    SamePerson,
}

impl Outcome for ChangeDecided {
    fn is_refusal(&self) -> bool {
        !matches!(self, ChangeDecided::Decided(_))
    }
}

/// Approves (the rate takes effect for its day: recorded, or written over the day's rate as
/// it is now) or rejects pending change `id`, by someone other than who asked for it;
/// audited.
pub fn decide(
    conn: &mut DbConnection,
    id: Uuid,
    approve: bool,
    note: Option<String>,
    actor: Uuid,
) -> Result<ChangeDecided, StoreError> {
    write_transaction(conn, |conn| {
        let Some(unlocked) = change(conn, id)? else {
            return Ok(ChangeDecided::NotFound);
        };
        lock_currency(conn, unlocked.currency)?;
        let before = change(conn, id)?.ok_or(StoreError::NotFound)?;
        if before.status != FxChangeStatus::Pending {
            return Ok(ChangeDecided::AlreadyDecided(before));
        }
        if before.requested_by == actor {
            return Ok(ChangeDecided::SamePerson);
        }
        let recorded = get(conn, before.currency, before.on)?;
        let after = FxRateChange {
            status: if approve {
                FxChangeStatus::Applied
            } else {
                FxChangeStatus::Rejected
            },
            previous_rate: recorded.map(|r| r.rate),
            decided_by: Some(actor),
            decided_at: Some(now()),
            decision_note: note.clone(),
            ..before.clone()
        };
        if approve {
            put_in_force(conn, &after, actor)?;
        }
        diesel::update(fx_rate_changes::table.find(id.to_string()))
            .set(ChangeRow::of(&after))
            .execute(conn)?;
        audit::record(
            conn,
            CHANGE_ENTITY,
            id,
            AuditAction::Updated,
            actor,
            &changes(&audit::view(&before)?, &audit::view(&after)?),
        )?;
        Ok(ChangeDecided::Decided(after))
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
