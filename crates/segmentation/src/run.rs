//! A segmentation run: every customer graded by one policy as of one day, from the same kind
//! of facts wherever the customer is owned.

use chrono::{Days, NaiveDate};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::abc::{self, AbcMeasure, AbcPlace};
use crate::bg_nbd::{self, BgNbd, BgNbdFit};
use crate::gamma_gamma::{self, GammaGamma, GammaGammaFit};
use crate::history::{Purchase, PurchaseHistory, Repeat, TimeUnit};
use crate::policy::{Quadrant, SegmentationPolicy, ServiceTier};
use crate::rfm::{self, Rfm, RfmInput};
use crate::score::{self, Score, ScoreContext, ScoreFacts};

/// What a run reads of one customer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomerFacts {
    pub id: Uuid,
    /// Every purchase up to the run's day, in minor units of the company currency.
    pub purchases: Vec<Purchase>,
    /// Over the ABC period.
    pub score: ScoreFacts,
}

/// The models a run fitted, or why not.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Models {
    pub time_unit: TimeUnit,
    /// Absent when the purchases cannot identify it (see `note`).
    pub bg_nbd: Option<BgNbdFit>,
    pub gamma_gamma: Option<GammaGammaFit>,
    /// Without Gamma-Gamma: the mean spend per repeat purchase (major units) every customer
    /// is expected to spend per purchase.
    pub mean_spend: Option<f64>,
    /// Why a model is absent.
    pub note: Option<String>,
}

/// A customer's lifetime value and churn risk.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Clv {
    /// Repeat purchases (x).
    #[schema(example = 4)]
    pub frequency: u32,
    /// First to last purchase in the model's time unit (t_x).
    #[schema(example = 30.43)]
    pub recency: f64,
    /// First purchase to the run's day in the model's time unit (T).
    #[schema(example = 38.86)]
    pub t: f64,
    #[schema(example = 0.82)]
    pub p_alive: f64,
    /// 1 - P(alive).
    #[schema(example = 0.18)]
    pub churn_probability: f64,
    /// Over the policy's horizon.
    #[schema(example = 3.4)]
    pub expected_purchases: f64,
    /// Expected spend per future purchase (Gamma-Gamma), minor units of the company
    /// currency; absent without a spend model.
    #[schema(example = 1250000)]
    pub expected_spend: Option<i64>,
    /// Expected purchases month by month times expected spend, discounted; minor units of
    /// the company currency.
    #[schema(example = 3900000)]
    pub clv: Option<i64>,
}

/// One customer's outcome.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomerValue {
    pub id: Uuid,
    pub abc: AbcPlace,
    pub score: Score,
    /// Absent for customers who never bought.
    pub rfm: Option<Rfm>,
    /// Absent for customers who never bought, or when the models could not be fitted.
    pub clv: Option<Clv>,
    pub quadrant: Option<Quadrant>,
    /// The grade's tier.
    pub tier: ServiceTier,
    /// Margin below zero over the period: to review whether to keep the customer.
    pub negative_value: bool,
    /// Churn probability at or above the policy's threshold.
    pub churn_risk: bool,
}

/// What a run found.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub models: Models,
    pub customers: Vec<CustomerValue>,
    /// What every customer's score was read against: with a customer's facts it gives the
    /// score again.
    pub context: ScoreContext,
}

/// The first day of a period of `days` ending on `as_of`.
pub fn period_start(as_of: NaiveDate, days: u32) -> NaiveDate {
    as_of - Days::new(u64::from(days.saturating_sub(1)))
}

struct Fitted {
    bg_nbd: BgNbd,
    spend: Option<Spend>,
}

/// How the spend of a future purchase is expected.
#[derive(Clone, Copy)]
enum Spend {
    GammaGamma(GammaGamma),
    /// The same mean for everyone, where Gamma-Gamma could not be fitted.
    Mean(f64),
}

impl Spend {
    fn expected(self, repeat: &Repeat) -> Option<f64> {
        match self {
            Spend::GammaGamma(model) => model.expected_spend(repeat),
            Spend::Mean(mean) => Some(mean),
        }
    }
}

fn fit_models(unit: TimeUnit, repeats: &[Repeat]) -> (Models, Option<Fitted>) {
    let mut notes = Vec::new();
    let bg = bg_nbd::fit(repeats)
        .map_err(|e| notes.push(format!("BG/NBD not fitted: {e}")))
        .ok();
    let gg = gamma_gamma::fit(repeats)
        .map_err(|e| notes.push(format!("Gamma-Gamma not fitted: {e}")))
        .ok();
    let mean_spend = gg
        .is_none()
        .then(|| gamma_gamma::mean_spend(repeats))
        .flatten();
    if mean_spend.is_some() {
        notes.push("spend per purchase is expected at the mean of repeat purchases".into());
    }
    let spend = match (gg, mean_spend) {
        (Some(gg), _) => Some(Spend::GammaGamma(gg.model)),
        (None, Some(mean)) => Some(Spend::Mean(mean)),
        (None, None) => None,
    };
    let fitted = bg.map(|bg| Fitted {
        bg_nbd: bg.model,
        spend,
    });
    let models = Models {
        time_unit: unit,
        bg_nbd: bg,
        gamma_gamma: gg,
        mean_spend,
        note: (!notes.is_empty()).then(|| notes.join("; ")),
    };
    (models, fitted)
}

/// The customer's lifetime value under the fitted models; none where the models give no
/// finite figure for its history (the hypergeometric term of a customer first seen on the
/// run's day can overflow under some fits): no number is better than a NaN.
fn lifetime_value(
    policy: &SegmentationPolicy,
    fitted: &Fitted,
    repeat: &Repeat,
    minor_per_major: f64,
) -> Option<Clv> {
    let lifetime = &policy.lifetime;
    let month = lifetime.time_unit.of_days(1) * 365.25 / 12.0;
    let monthly_discount =
        (1.0 + f64::from(lifetime.annual_discount_bp) / 10_000.0).powf(1.0 / 12.0);
    let spend = fitted.spend.and_then(|spend| spend.expected(repeat));
    let mut before = 0.0;
    let mut discounted_purchases = 0.0;
    for m in 1..=lifetime.horizon_months {
        let by_end = fitted
            .bg_nbd
            .expected_purchases(repeat, f64::from(m) * month);
        discounted_purchases += (by_end - before) / monthly_discount.powi(i32::from(m));
        before = by_end;
    }
    let p_alive = fitted.bg_nbd.p_alive(repeat);
    let figures = [before, discounted_purchases, p_alive, spend.unwrap_or(0.0)];
    if !figures.iter().all(|f| f.is_finite()) {
        return None;
    }
    let minor = |major: f64| (major * minor_per_major).round() as i64;
    Some(Clv {
        frequency: repeat.frequency,
        recency: repeat.recency,
        t: repeat.age,
        p_alive,
        churn_probability: 1.0 - p_alive,
        expected_purchases: before,
        expected_spend: spend.map(minor),
        clv: spend.map(|s| minor(s * discounted_purchases)),
    })
}

/// The value at or above which the top `percentile` starts (nearest rank).
fn percentile_cut(mut values: Vec<i64>, percentile: u8) -> Option<i64> {
    if values.is_empty() {
        return None;
    }
    values.sort_unstable();
    let index = (values.len() * usize::from(percentile)) / 100;
    Some(values[index.min(values.len() - 1)])
}

/// Grades every customer as of `as_of` by `policy`; amounts in minor units of the company
/// currency, `minor_per_major` of them to a major unit.
pub fn run(
    policy: &SegmentationPolicy,
    as_of: NaiveDate,
    minor_per_major: f64,
    customers: &[CustomerFacts],
) -> Outcome {
    let unit = policy.lifetime.time_unit;
    let histories: Vec<Option<PurchaseHistory>> = customers
        .iter()
        .map(|c| PurchaseHistory::of(&c.purchases, as_of))
        .collect();
    let repeats: Vec<Option<Repeat>> = histories
        .iter()
        .map(|h| h.as_ref().map(|h| h.repeat(as_of, unit, minor_per_major)))
        .collect();
    let mut fitting: Vec<Repeat> = repeats.iter().flatten().copied().collect();
    // A canonical order: floating-point sums depend on it, and the fit must not depend on
    // the order customers were read in.
    fitting.sort_by(|x, y| {
        x.frequency
            .cmp(&y.frequency)
            .then(x.recency.total_cmp(&y.recency))
            .then(x.age.total_cmp(&y.age))
            .then(
                x.mean_repeat_spend
                    .unwrap_or(0.0)
                    .total_cmp(&y.mean_repeat_spend.unwrap_or(0.0)),
            )
    });
    let (models, fitted) = fit_models(unit, &fitting);

    let measures: Vec<(Uuid, i64)> = customers
        .iter()
        .map(|c| {
            let measure = match policy.abc.measure {
                AbcMeasure::Revenue => c.score.revenue_minor,
                AbcMeasure::Profit => c.score.margin_minor(),
            };
            (c.id, measure)
        })
        .collect();
    let places = abc::classify(&policy.abc, &measures);

    let rfm_start = period_start(as_of, policy.rfm.period_days);
    let buyers: Vec<usize> = (0..customers.len())
        .filter(|&i| histories[i].is_some())
        .collect();
    let rfm_inputs: Vec<RfmInput> = buyers
        .iter()
        .map(|&i| {
            let history = histories[i].as_ref().expect("a buyer");
            let in_period = PurchaseHistory::of(
                &customers[i]
                    .purchases
                    .iter()
                    .copied()
                    .filter(|p| p.on >= rfm_start)
                    .collect::<Vec<_>>(),
                as_of,
            );
            RfmInput {
                days_since_last: (as_of - history.last).num_days(),
                purchases: in_period.as_ref().map_or(0, |h| h.purchases),
                spend_minor: in_period.map_or(0, |h| h.total_minor),
            }
        })
        .collect();
    let mut rfms: Vec<Option<Rfm>> = vec![None; customers.len()];
    for (&i, scored) in buyers.iter().zip(rfm::score(&rfm_inputs)) {
        rfms[i] = Some(scored);
    }

    let context = ScoreContext {
        as_of,
        period_days: policy.abc.period_days,
        company_margin_minor: customers.iter().map(|c| c.score.margin_minor()).sum(),
        minor_per_major,
    };
    let clvs: Vec<Option<Clv>> = repeats
        .iter()
        .map(|repeat| lifetime_value(policy, fitted.as_ref()?, repeat.as_ref()?, minor_per_major))
        .collect();
    let potential_cut = percentile_cut(
        clvs.iter().flatten().filter_map(|c| c.clv).collect(),
        policy.quadrants.high_potential_percentile,
    );

    let values = customers
        .iter()
        .enumerate()
        .map(|(i, customer)| {
            let score = score::score(&policy.score, &customer.score, &context);
            let clv = clvs[i];
            let quadrant = clv
                .and_then(|c| c.clv)
                .zip(potential_cut)
                .map(|(clv, cut)| {
                    let high_value =
                        score.total >= f64::from(policy.quadrants.high_value_min_score);
                    let high_potential = clv > 0 && clv >= cut;
                    match (high_value, high_potential) {
                        (true, false) => Quadrant::Maintain,
                        (true, true) => Quadrant::IncreaseInvestment,
                        (false, true) => Quadrant::InvestSelectively,
                        (false, false) => Quadrant::Reduce,
                    }
                });
            CustomerValue {
                id: customer.id,
                abc: places[i],
                tier: policy.tier_of(&score.grade).tier,
                score,
                rfm: rfms[i],
                clv,
                quadrant,
                negative_value: customer.score.orders > 0 && customer.score.margin_minor() < 0,
                churn_risk: clv.is_some_and(|c| c.churn_probability >= policy.churn.threshold),
            }
        })
        .collect();
    Outcome {
        models,
        customers: values,
        context,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(offset: i64) -> NaiveDate {
        NaiveDate::from_ymd_opt(2025, 1, 1).expect("a day") + chrono::Duration::days(offset)
    }

    /// Customer `i` buys every `gap` days from day `start` until day `stop`, spending more the
    /// larger `i`.
    fn customer(i: u128, start: i64, gap: i64, stop: i64) -> CustomerFacts {
        let purchases: Vec<Purchase> = (0..)
            .map(|k| start + k * gap)
            .take_while(|&d| d <= stop)
            .map(|d| Purchase {
                on: day(d),
                amount_minor: 100_000 + (i as i64 % 7) * 10_000,
            })
            .collect();
        let revenue: i64 = purchases.iter().map(|p| p.amount_minor).sum();
        CustomerFacts {
            id: Uuid::from_u128(i),
            score: ScoreFacts {
                orders: purchases.len() as u32,
                revenue_minor: revenue,
                cost_minor: revenue * 8 / 10,
                first_order_on: purchases.first().map(|p| p.on),
                ..ScoreFacts::default()
            },
            purchases,
        }
    }

    /// Under a fit with a tiny alpha and a below 1, a customer first seen on the run's day
    /// makes the expected purchases NaN: it gets no lifetime value rather than a NaN one.
    #[test]
    fn a_fit_that_gives_no_finite_figure_gives_no_lifetime_value() {
        let fitted = Fitted {
            bg_nbd: BgNbd {
                r: 0.5,
                alpha: 0.01,
                a: 0.3,
                b: 0.5,
            },
            spend: None,
        };
        let today = Repeat {
            frequency: 0,
            recency: 0.0,
            age: 0.0,
            mean_repeat_spend: None,
        };
        assert!(fitted.bg_nbd.expected_purchases(&today, 4.3).is_nan());
        let policy = SegmentationPolicy::default();
        assert_eq!(lifetime_value(&policy, &fitted, &today, 100.0), None);
    }

    #[test]
    fn a_run_fits_the_models_and_grades_everyone() {
        let as_of = day(364);
        let mut customers: Vec<CustomerFacts> = (0..300)
            .map(|i| {
                let gap = 7 + (i as i64 % 40);
                let stop = if i % 3 == 0 { 120 } else { 364 };
                customer(i, (i as i64 * 3) % 200, gap, stop)
            })
            .collect();
        customers.push(CustomerFacts {
            id: Uuid::from_u128(999),
            purchases: vec![],
            score: ScoreFacts::default(),
        });
        let outcome = run(&SegmentationPolicy::default(), as_of, 100.0, &customers);
        let bg = outcome.models.bg_nbd.expect("fitted");
        let buyers = customers.iter().filter(|c| !c.purchases.is_empty()).count();
        assert!(buyers > 250);
        assert_eq!(bg.customers, buyers);
        assert!(
            outcome.models.gamma_gamma.is_some(),
            "{:?}",
            outcome.models.note
        );
        let values = &outcome.customers;
        assert_eq!(values.len(), 301);
        let never = &values[300];
        assert_eq!((never.rfm, never.clv, never.quadrant), (None, None, None));
        assert_eq!(never.abc.class, crate::abc::AbcClass::C);
        // Those who stopped in April are likelier gone than their twins who kept buying.
        let stopped = values[3].clv.expect("bought");
        let going = values[4].clv.expect("bought");
        assert!(stopped.churn_probability > going.churn_probability);
        assert!(values.iter().filter(|v| v.churn_risk).count() > 10);
        assert!(values
            .iter()
            .all(|v| v.rfm.is_none() || v.quadrant.is_some()));
        for value in values.iter().filter_map(|v| v.clv) {
            assert!((0.0..=1.0).contains(&value.p_alive));
            assert!(value.expected_purchases >= 0.0);
            assert!(value.clv.expect("spend model") >= 0);
        }
    }

    #[test]
    fn where_spend_does_not_differ_between_customers_everyone_is_expected_at_the_mean() {
        let customers: Vec<CustomerFacts> = (0..300)
            .map(|i| {
                let stop = if i % 3 == 0 { 120 } else { 364 };
                let mut facts = customer(i, (i as i64 * 3) % 100, 7 + (i as i64 % 40), stop);
                for purchase in &mut facts.purchases {
                    purchase.amount_minor = 250_000;
                }
                facts
            })
            .collect();
        let outcome = run(&SegmentationPolicy::default(), day(364), 100.0, &customers);
        assert_eq!(outcome.models.gamma_gamma, None);
        assert_eq!(outcome.models.mean_spend, Some(2500.0));
        assert!(outcome
            .models
            .note
            .as_deref()
            .unwrap()
            .contains("mean of repeat purchases"));
        for value in &outcome.customers {
            let clv = value.clv.unwrap_or_else(|| panic!("{:?}", outcome.models));
            assert_eq!(clv.expected_spend, Some(250_000));
            assert!(value.quadrant.is_some());
        }
    }

    #[test]
    fn the_same_facts_give_the_same_grade_under_any_id_and_order() {
        let as_of = day(364);
        let mut customers: Vec<CustomerFacts> = (0..50)
            .map(|i| customer(i, i as i64, 10 + i as i64, 364))
            .collect();
        customers.push(CustomerFacts {
            id: Uuid::from_u128(7777),
            ..customers[5].clone()
        });
        let mut reordered = customers.clone();
        reordered.reverse();
        let first = run(&SegmentationPolicy::default(), as_of, 100.0, &customers);
        let second = run(&SegmentationPolicy::default(), as_of, 100.0, &reordered);
        let of = |outcome: &Outcome, id: u128| {
            outcome
                .customers
                .iter()
                .find(|v| v.id == Uuid::from_u128(id))
                .cloned()
                .expect("graded")
        };
        assert_eq!(
            of(&first, 5),
            of(&second, 5),
            "the input's order changes nothing"
        );
        let (a, b) = (of(&first, 5), of(&first, 7777));
        assert_eq!(a.score, b.score);
        assert_eq!(a.abc.class, b.abc.class);
        assert_eq!(a.tier, b.tier);
        assert_eq!(a.rfm, b.rfm);
        assert_eq!(a.clv, b.clv);
        assert_eq!(a.quadrant, b.quadrant);
    }
}
