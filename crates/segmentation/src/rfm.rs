//! RFM: recency, frequency and monetary value scored 1 to 5 by quintile among the customers
//! who ever bought, with the usual named segments read from recency and frequency.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use credo_core::{FieldCode, FieldError};

credo_core::string_enum! {
    /// The usual RFM segments, by recency and frequency score.
    pub enum RfmSegment {
        /// R 5, F 4-5.
        Champions = "champions",
        /// R 3-4, F 4-5.
        Loyal = "loyal",
        /// R 4-5, F 2-3.
        PotentialLoyalist = "potential_loyalist",
        /// R 5, F 1.
        New = "new",
        /// R 4, F 1.
        Promising = "promising",
        /// R 3, F 3.
        NeedAttention = "need_attention",
        /// R 3, F 1-2.
        AboutToSleep = "about_to_sleep",
        /// R 1-2, F 3-4.
        AtRisk = "at_risk",
        /// R 1-2, F 5.
        CannotLose = "cannot_lose",
        /// R 1-2, F 1-2.
        Hibernating = "hibernating",
    }
}

impl RfmSegment {
    pub fn of(recency: u8, frequency: u8) -> Self {
        match recency {
            5 => match frequency {
                4.. => RfmSegment::Champions,
                2 | 3 => RfmSegment::PotentialLoyalist,
                _ => RfmSegment::New,
            },
            4 => match frequency {
                4.. => RfmSegment::Loyal,
                2 | 3 => RfmSegment::PotentialLoyalist,
                _ => RfmSegment::Promising,
            },
            3 => match frequency {
                4.. => RfmSegment::Loyal,
                3 => RfmSegment::NeedAttention,
                _ => RfmSegment::AboutToSleep,
            },
            _ => match frequency {
                5.. => RfmSegment::CannotLose,
                3 | 4 => RfmSegment::AtRisk,
                _ => RfmSegment::Hibernating,
            },
        }
    }
}

/// The RFM rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RfmPolicy {
    /// Days before the run's day that frequency and monetary value count.
    #[schema(example = 365)]
    pub period_days: u32,
}

impl Default for RfmPolicy {
    fn default() -> Self {
        Self { period_days: 365 }
    }
}

impl RfmPolicy {
    pub fn check(&self) -> Result<(), Vec<FieldError>> {
        if (1..=3660).contains(&self.period_days) {
            Ok(())
        } else {
            Err(vec![FieldError::new(
                "period_days",
                FieldCode::OutOfRange,
                "1 to 3660 days",
            )])
        }
    }
}

/// What RFM reads of a customer who bought.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RfmInput {
    /// Days since the last purchase.
    pub days_since_last: i64,
    /// Purchase days in the period.
    pub purchases: u32,
    /// Spent in the period, minor units of the company currency.
    pub spend_minor: i64,
}

/// A customer's scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Rfm {
    #[schema(example = 5)]
    pub r: u8,
    #[schema(example = 4)]
    pub f: u8,
    #[schema(example = 4)]
    pub m: u8,
    pub segment: RfmSegment,
}

/// Scores 1 to 5 by how many customers do strictly worse: equal values score alike, the
/// worst scores 1 and the best at most 5.
fn quintiles<T: Ord + Copy>(values: &[T]) -> Vec<u8> {
    let mut sorted = values.to_vec();
    sorted.sort_unstable();
    let n = values.len();
    values
        .iter()
        .map(|value| {
            let worse = sorted.partition_point(|other| other < value);
            u8::try_from(1 + worse * 5 / n).expect("1 to 5")
        })
        .collect()
}

/// The scores of each customer, in the order given.
pub fn score(inputs: &[RfmInput]) -> Vec<Rfm> {
    // Fewer days since the last purchase is better: negate so that larger is better.
    let recency = quintiles(
        &inputs
            .iter()
            .map(|i| -i.days_since_last)
            .collect::<Vec<_>>(),
    );
    let frequency = quintiles(&inputs.iter().map(|i| i.purchases).collect::<Vec<_>>());
    let monetary = quintiles(&inputs.iter().map(|i| i.spend_minor).collect::<Vec<_>>());
    (0..inputs.len())
        .map(|i| Rfm {
            r: recency[i],
            f: frequency[i],
            m: monetary[i],
            segment: RfmSegment::of(recency[i], frequency[i]),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn stored_names_are_the_wire_names() {
        assert!(RfmSegment::names_agree_with_serde());
    }

    #[test]
    fn ten_customers_score_two_to_a_quintile() {
        let inputs: Vec<RfmInput> = (0..10)
            .map(|i| RfmInput {
                days_since_last: 100 - i * 10,
                purchases: i as u32,
                spend_minor: i * 1000,
            })
            .collect();
        let scores = score(&inputs);
        let f: Vec<u8> = scores.iter().map(|s| s.f).collect();
        assert_eq!(f, [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
        let r: Vec<u8> = scores.iter().map(|s| s.r).collect();
        assert_eq!(r, [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]);
        assert_eq!(scores[9].segment, RfmSegment::Champions);
        assert_eq!(scores[0].segment, RfmSegment::Hibernating);
    }

    #[test]
    fn every_score_pair_has_a_segment() {
        let cases = [
            ((5, 1), RfmSegment::New),
            ((4, 1), RfmSegment::Promising),
            ((3, 3), RfmSegment::NeedAttention),
            ((3, 2), RfmSegment::AboutToSleep),
            ((2, 5), RfmSegment::CannotLose),
            ((1, 4), RfmSegment::AtRisk),
            ((4, 5), RfmSegment::Loyal),
            ((5, 3), RfmSegment::PotentialLoyalist),
        ];
        for ((r, f), segment) in cases {
            assert_eq!(RfmSegment::of(r, f), segment, "{r}{f}");
        }
    }

    proptest! {
        #[test]
        fn scores_are_one_to_five_and_never_fall_with_a_better_value(
            raw in proptest::collection::vec((0i64..400, 0u32..50, 0i64..1_000_000), 1..60)
        ) {
            let inputs: Vec<RfmInput> = raw
                .iter()
                .map(|&(days_since_last, purchases, spend_minor)| RfmInput { days_since_last, purchases, spend_minor })
                .collect();
            let scores = score(&inputs);
            for (i, a) in inputs.iter().enumerate() {
                let s = scores[i];
                prop_assert!((1..=5).contains(&s.r) && (1..=5).contains(&s.f) && (1..=5).contains(&s.m));
                for (j, b) in inputs.iter().enumerate() {
                    if a.purchases >= b.purchases {
                        prop_assert!(s.f >= scores[j].f);
                    }
                    if a.days_since_last <= b.days_since_last {
                        prop_assert!(s.r >= scores[j].r);
                    }
                }
            }
        }
    }
}
