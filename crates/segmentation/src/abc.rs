//! ABC classification (seeds 000, 004) and the Pareto report: customers ranked by a measure
//! over a period, descending, ties by id.

use credo_core::{FieldCode, FieldError, FieldErrors};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

credo_core::string_enum! {
    /// What ABC ranks by.
    pub enum AbcMeasure {
        /// Purchases in the company currency.
        Revenue = "revenue",
        /// Purchases less their cost.
        Profit = "profit",
    }
}

credo_core::string_enum! {
    /// How ABC cuts the ranking.
    pub enum AbcMethod {
        /// By cumulative share of the measure (default A 70 %, B 20 %).
        Share = "share",
        /// By share of the customers ranked (seed 000: A 20 %, B 60 %).
        Count = "count",
    }
}

/// The class, best first (so `A < B < C`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, ToSchema,
)]
pub enum AbcClass {
    A,
    B,
    C,
}

impl AbcClass {
    pub fn as_str(self) -> &'static str {
        match self {
            AbcClass::A => "A",
            AbcClass::B => "B",
            AbcClass::C => "C",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [AbcClass::A, AbcClass::B, AbcClass::C]
            .into_iter()
            .find(|class| class.as_str() == raw)
    }
}

/// The ABC rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AbcPolicy {
    pub measure: AbcMeasure,
    /// Days before the run's day the measure sums over.
    #[schema(example = 365)]
    pub period_days: u32,
    pub method: AbcMethod,
    /// The A cut in percent: of the measure (share) or of the customers (count).
    #[schema(example = 70)]
    pub a_pct: u8,
    /// The B band in percent after A.
    #[schema(example = 20)]
    pub b_pct: u8,
}

impl Default for AbcPolicy {
    fn default() -> Self {
        Self {
            measure: AbcMeasure::Revenue,
            period_days: 365,
            method: AbcMethod::Share,
            a_pct: 70,
            b_pct: 20,
        }
    }
}

impl AbcPolicy {
    pub fn check(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = FieldErrors::new();
        if !(1..=3660).contains(&self.period_days) {
            errors.push(FieldError::new(
                "period_days",
                FieldCode::OutOfRange,
                "1 to 3660 days",
            ));
        }
        if self.a_pct == 0 || u16::from(self.a_pct) + u16::from(self.b_pct) > 100 {
            errors.push(FieldError::new(
                "b_pct",
                FieldCode::OutOfRange,
                "A is at least 1 % and A and B together at most 100 %",
            ));
        }
        errors.finish(|| ())
    }
}

/// A customer's place in the ranking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct AbcPlace {
    pub class: AbcClass,
    /// 1 for the largest measure.
    #[schema(example = 1)]
    pub rank: u32,
    /// The measure over the period in minor units of the company currency.
    #[schema(example = 12500000)]
    pub measure_minor: i64,
}

/// Classes the customers whose measures are given (by whatever key, in the order given):
/// the place of each, in the same order.
pub fn classify<K: Ord>(policy: &AbcPolicy, measures: &[(K, i64)]) -> Vec<AbcPlace> {
    let mut order: Vec<usize> = (0..measures.len()).collect();
    order.sort_by(|&i, &j| {
        measures[j]
            .1
            .cmp(&measures[i].1)
            .then_with(|| measures[i].0.cmp(&measures[j].0))
    });
    let total: i128 = measures.iter().map(|(_, m)| i128::from((*m).max(0))).sum();
    let count = measures.len() as i128;
    let a_cut = i128::from(policy.a_pct);
    let b_cut = a_cut + i128::from(policy.b_pct);
    let mut places = vec![None; measures.len()];
    let mut before: i128 = 0;
    for (position, &index) in order.iter().enumerate() {
        let measure = measures[index].1;
        // Compared in whole numbers: `before / total < cut / 100` as `before * 100 < cut * total`.
        let class = if measure <= 0 {
            AbcClass::C
        } else {
            let (done, whole) = match policy.method {
                AbcMethod::Share => (before, total),
                AbcMethod::Count => (position as i128, count),
            };
            if done * 100 < a_cut * whole {
                AbcClass::A
            } else if done * 100 < b_cut * whole {
                AbcClass::B
            } else {
                AbcClass::C
            }
        };
        before += i128::from(measure.max(0));
        places[index] = Some(AbcPlace {
            class,
            rank: u32::try_from(position + 1).unwrap_or(u32::MAX),
            measure_minor: measure,
        });
    }
    places
        .into_iter()
        .map(|p| p.expect("every index ranked"))
        .collect()
}

/// One point of the Pareto curve.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ParetoPoint {
    /// The top customers, as a percentage of all.
    #[schema(example = 20)]
    pub customers_pct: u8,
    /// Their share of the measure in percent.
    #[schema(example = 78.4)]
    pub measure_pct: f64,
}

/// The 80/20 report of a set of customers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Pareto {
    pub customers: u32,
    /// Customers with a positive measure.
    pub contributing: u32,
    /// The total positive measure in minor units of the company currency.
    pub measure_minor: i64,
    /// The share of the measure the top 20 % of customers hold, in percent.
    #[schema(example = 78.4)]
    pub top_20_pct_share: f64,
    /// The share of customers, top first, that makes 80 % of the measure, in percent.
    #[schema(example = 18.5)]
    pub customers_for_80_pct: f64,
    /// At every tenth of the customers.
    pub curve: Vec<ParetoPoint>,
}

/// The Pareto report of the measures (any order).
pub fn pareto(measures: impl IntoIterator<Item = i64>) -> Pareto {
    let mut sorted: Vec<i64> = measures.into_iter().map(|m| m.max(0)).collect();
    sorted.sort_unstable_by(|a, b| b.cmp(a));
    let n = sorted.len();
    let total: i128 = sorted.iter().map(|&m| i128::from(m)).sum();
    let share = |top: usize| -> f64 {
        if total == 0 {
            return 0.0;
        }
        let held: i128 = sorted[..top].iter().map(|&m| i128::from(m)).sum();
        held as f64 * 100.0 / total as f64
    };
    // The top k customers of n for a percentage, rounded to the nearest customer.
    let top = |pct: usize| (n * pct + 50) / 100;
    let mut running: i128 = 0;
    let mut for_80 = n;
    for (i, &m) in sorted.iter().enumerate() {
        running += i128::from(m);
        if total > 0 && running * 100 >= total * 80 {
            for_80 = i + 1;
            break;
        }
    }
    Pareto {
        customers: u32::try_from(n).unwrap_or(u32::MAX),
        contributing: u32::try_from(sorted.iter().filter(|&&m| m > 0).count()).unwrap_or(u32::MAX),
        measure_minor: i64::try_from(total).unwrap_or(i64::MAX),
        top_20_pct_share: share(top(20)),
        customers_for_80_pct: if n == 0 || total == 0 {
            0.0
        } else {
            for_80 as f64 * 100.0 / n as f64
        },
        curve: (1..=10u8)
            .map(|tenth| ParetoPoint {
                customers_pct: tenth * 10,
                measure_pct: share(top(usize::from(tenth) * 10)),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn classes(policy: &AbcPolicy, measures: &[i64]) -> Vec<AbcClass> {
        let keyed: Vec<(usize, i64)> = measures.iter().copied().enumerate().collect();
        classify(policy, &keyed)
            .into_iter()
            .map(|p| p.class)
            .collect()
    }

    #[test]
    fn by_share_a_holds_whoever_starts_below_seventy_percent() {
        use AbcClass::*;
        // Totals 100: the first starts at 0 %, the second at 50 %, the third at 75 %, the
        // fourth at 85 %, the fifth at 95 %.
        let measures = [50, 25, 10, 10, 5, 0];
        assert_eq!(
            classes(&AbcPolicy::default(), &measures),
            [A, A, B, B, C, C]
        );
    }

    #[test]
    fn ties_rank_by_key_and_nothing_bought_is_c() {
        let measures = [(3, 10), (1, 10), (2, -5)];
        let places = classify(&AbcPolicy::default(), &measures);
        assert_eq!(places[1].rank, 1);
        assert_eq!(places[0].rank, 2);
        assert_eq!(
            places[2],
            AbcPlace {
                class: AbcClass::C,
                rank: 3,
                measure_minor: -5
            }
        );
    }

    #[test]
    fn by_count_cuts_twenty_sixty_twenty() {
        use AbcClass::*;
        let policy = AbcPolicy {
            method: AbcMethod::Count,
            a_pct: 20,
            b_pct: 60,
            ..AbcPolicy::default()
        };
        let measures: Vec<i64> = (1..=10).rev().collect();
        assert_eq!(classes(&policy, &measures), [A, A, B, B, B, B, B, B, C, C]);
    }

    #[test]
    fn pareto_reports_the_top_fifth_and_the_customers_for_eighty_percent() {
        let report = pareto([80, 5, 5, 5, 5, 0, 0, 0, 0, 0]);
        assert_eq!(report.customers, 10);
        assert_eq!(report.contributing, 5);
        assert_eq!(report.top_20_pct_share, 85.0);
        assert_eq!(report.customers_for_80_pct, 10.0);
        assert_eq!(report.curve.last().map(|p| p.measure_pct), Some(100.0));
    }

    proptest! {
        #[test]
        fn classes_follow_the_cumulative_share(measures in proptest::collection::vec(-1000i64..100_000, 0..60)) {
            let policy = AbcPolicy::default();
            let keyed: Vec<(usize, i64)> = measures.iter().copied().enumerate().collect();
            let places = classify(&policy, &keyed);
            let total: i64 = measures.iter().map(|m| (*m).max(0)).sum();
            let mut ranked: Vec<&AbcPlace> = places.iter().collect();
            ranked.sort_by_key(|p| p.rank);
            let mut before = 0i64;
            let mut a_held = 0i64;
            for (i, place) in ranked.iter().enumerate() {
                prop_assert_eq!(place.rank as usize, i + 1);
                if i > 0 {
                    prop_assert!(ranked[i - 1].measure_minor >= place.measure_minor);
                    prop_assert!(ranked[i - 1].class <= place.class, "classes never rise down the ranking");
                }
                let expected = if place.measure_minor <= 0 {
                    AbcClass::C
                } else if before * 100 < 70 * total {
                    AbcClass::A
                } else if before * 100 < 90 * total {
                    AbcClass::B
                } else {
                    AbcClass::C
                };
                prop_assert_eq!(place.class, expected);
                if place.class == AbcClass::A {
                    a_held += place.measure_minor;
                }
                before += place.measure_minor.max(0);
            }
            // A holds at least 70 % of the measure, and dropping its last member leaves less.
            if total > 0 {
                prop_assert!(a_held * 100 >= 70 * total);
            }
        }

        #[test]
        fn the_pareto_curve_rises_to_the_whole(measures in proptest::collection::vec(0i64..1_000_000, 1..80)) {
            let report = pareto(measures.iter().copied());
            let mut last = 0.0;
            for point in &report.curve {
                prop_assert!(point.measure_pct + 1e-9 >= last);
                prop_assert!(point.measure_pct <= 100.0 + 1e-9);
                last = point.measure_pct;
            }
            if report.measure_minor > 0 {
                prop_assert!((last - 100.0).abs() < 1e-9);
                // The top customers hold at least their proportional share.
                let n = measures.len();
                let top = (n * 20 + 50) / 100;
                prop_assert!(report.top_20_pct_share + 1e-9 >= 100.0 * top as f64 / n as f64);
            }
        }
    }
}
