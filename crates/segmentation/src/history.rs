//! A customer's purchase history as the models read it: purchases are days, several orders
//! of one day being one purchase, counted up to the run's day.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

credo_core::string_enum! {
    /// The unit the lifetime models count time in.
    pub enum TimeUnit {
        Day = "day",
        Week = "week",
    }
}

impl TimeUnit {
    /// Days as a number of this unit.
    pub fn of_days(self, days: i64) -> f64 {
        let days = days as f64;
        match self {
            TimeUnit::Day => days,
            TimeUnit::Week => days / 7.0,
        }
    }
}

/// One order's worth of spend on one day, in minor units of the company currency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Purchase {
    pub on: NaiveDate,
    pub amount_minor: i64,
}

/// What a customer bought up to the run's day.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PurchaseHistory {
    pub first: NaiveDate,
    pub last: NaiveDate,
    /// Days with a purchase.
    pub purchases: u32,
    pub total_minor: i64,
    /// Spent on all but the first day: what the Gamma-Gamma model reads.
    pub repeat_total_minor: i64,
}

impl PurchaseHistory {
    /// The history of `purchases` dated on or before `as_of` (in any order); `None` when
    /// there is none.
    pub fn of(purchases: &[Purchase], as_of: NaiveDate) -> Option<Self> {
        let mut days: Vec<Purchase> = purchases
            .iter()
            .copied()
            .filter(|p| p.on <= as_of)
            .collect();
        days.sort_by_key(|p| p.on);
        let first = days.first()?;
        let mut history = PurchaseHistory {
            first: first.on,
            last: first.on,
            purchases: 1,
            total_minor: 0,
            repeat_total_minor: 0,
        };
        for purchase in &days {
            if purchase.on != history.last {
                history.purchases += 1;
                history.last = purchase.on;
            }
            history.total_minor += purchase.amount_minor;
            if purchase.on != history.first {
                history.repeat_total_minor += purchase.amount_minor;
            }
        }
        Some(history)
    }

    /// Repeat purchases: every purchase day after the first.
    pub fn frequency(&self) -> u32 {
        self.purchases - 1
    }

    /// The models' view: frequency, recency (first to last purchase) and age (first purchase
    /// to `as_of`) in `unit`, and the mean spend per repeat purchase in major units.
    pub fn repeat(&self, as_of: NaiveDate, unit: TimeUnit, minor_per_major: f64) -> Repeat {
        let frequency = self.frequency();
        Repeat {
            frequency,
            recency: unit.of_days((self.last - self.first).num_days()),
            age: unit.of_days((as_of - self.first).num_days()),
            mean_repeat_spend: (frequency > 0)
                .then(|| self.repeat_total_minor as f64 / minor_per_major / f64::from(frequency)),
        }
    }
}

/// A customer's purchases as the BG/NBD and Gamma-Gamma models read them (x, t_x, T and the
/// mean repeat spend m of the papers).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Repeat {
    /// Repeat purchases (x).
    pub frequency: u32,
    /// First to last purchase (t_x).
    pub recency: f64,
    /// First purchase to the run's day (T).
    pub age: f64,
    /// Mean spend per repeat purchase in major units; absent without repeats.
    pub mean_repeat_spend: Option<f64>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(1997, 1, d).expect("a day")
    }

    #[test]
    fn orders_of_one_day_are_one_purchase_and_later_days_do_not_count() {
        let purchases = [
            Purchase {
                on: day(15),
                amount_minor: 1000,
            },
            Purchase {
                on: day(1),
                amount_minor: 500,
            },
            Purchase {
                on: day(15),
                amount_minor: 250,
            },
            Purchase {
                on: day(8),
                amount_minor: 2000,
            },
            Purchase {
                on: day(30),
                amount_minor: 9999,
            },
        ];
        let history = PurchaseHistory::of(&purchases, day(29)).expect("bought");
        assert_eq!(
            history,
            PurchaseHistory {
                first: day(1),
                last: day(15),
                purchases: 3,
                total_minor: 3750,
                repeat_total_minor: 3250,
            }
        );
        let repeat = history.repeat(day(29), TimeUnit::Week, 100.0);
        assert_eq!(repeat.frequency, 2);
        assert_eq!(repeat.recency, 2.0);
        assert_eq!(repeat.age, 4.0);
        assert_eq!(repeat.mean_repeat_spend, Some(16.25));
        assert_eq!(
            PurchaseHistory::of(&purchases, day(1) - chrono::Days::new(1)),
            None
        );
    }
}
