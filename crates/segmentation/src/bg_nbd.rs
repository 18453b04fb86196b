//! The BG/NBD model of repeat purchases (Fader, Hardie and Lee 2005, "Counting your
//! customers the easy way"): purchases at a gamma-distributed Poisson rate, and after each
//! purchase a beta-distributed chance of dropping out for good. Fitted by maximum
//! likelihood; the likelihood is the paper's equation (6).

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::history::Repeat;
use crate::numeric::{hyp2f1, minimize, NoMinimum};

/// The model's four parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BgNbd {
    /// Shape of the purchase-rate gamma.
    #[schema(example = 0.243)]
    pub r: f64,
    /// Scale of the purchase-rate gamma, in the model's time unit.
    #[schema(example = 4.414)]
    pub alpha: f64,
    /// Dropout beta, first shape.
    #[schema(example = 0.793)]
    pub a: f64,
    /// Dropout beta, second shape.
    #[schema(example = 2.426)]
    pub b: f64,
}

/// A fitted model with what it was fitted on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct BgNbdFit {
    #[serde(flatten)]
    pub model: BgNbd,
    /// The full log-likelihood of the data at the fit (a sum over customers, as in the paper).
    #[schema(example = -9582.43)]
    pub log_likelihood: f64,
    /// Customers fitted on.
    #[schema(example = 2357)]
    pub customers: usize,
}

/// Why a model could not be fitted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FitError {
    /// Too few customers, or none with a repeat purchase: the parameters are not identified.
    TooLittleData,
    /// The likelihood has no finite maximum the search could find.
    NoMaximum(NoMinimum),
    /// The maximum lies at a bound (a parameter ran off to 0 or infinity): the purchases
    /// cannot tell the model's parameters apart, e.g. every spend the same.
    NotIdentified,
}

/// Parameters the search may reach before they count as run off to a bound.
const PLAUSIBLE: std::ops::RangeInclusive<f64> = 1e-8..=1e8;

/// The parameters when all of them are plausible.
pub(crate) fn identified<const N: usize>(parameters: [f64; N]) -> Result<[f64; N], FitError> {
    if parameters.iter().all(|p| PLAUSIBLE.contains(p)) {
        Ok(parameters)
    } else {
        Err(FitError::NotIdentified)
    }
}

impl std::fmt::Display for FitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FitError::TooLittleData => f.write_str("too few customers with repeat purchases"),
            FitError::NoMaximum(NoMinimum::NotFinite) => {
                f.write_str("the likelihood is not finite at the start")
            }
            FitError::NoMaximum(NoMinimum::TooManyIterations) => {
                f.write_str("the likelihood maximisation did not converge")
            }
            FitError::NotIdentified => {
                f.write_str("the purchases do not identify the parameters (one ran to a bound)")
            }
        }
    }
}

/// What one evaluation of the likelihood computes once for all customers.
struct Tables {
    of_r: RisingSums,
    of_b: RisingSums,
    of_ab: RisingSums,
    dropout: (Vec<f64>, Vec<f64>),
    ages: (Vec<f64>, Vec<f64>),
    recencies: (Vec<f64>, Vec<f64>),
    ln_alpha: f64,
    ln_a: f64,
}

/// The sums over k < x that the gamma-function ratios of the likelihood reduce to for whole
/// x: ln Γ(s + x) - ln Γ(s) = Σ ln(s + k), and its derivative Σ 1 / (s + k).
struct RisingSums {
    logs: Vec<f64>,
    reciprocals: Vec<f64>,
}

impl RisingSums {
    fn new(s: f64, max_x: usize) -> Self {
        let mut logs = Vec::with_capacity(max_x + 1);
        let mut reciprocals = Vec::with_capacity(max_x + 1);
        let (mut log, mut reciprocal) = (0.0, 0.0);
        logs.push(0.0);
        reciprocals.push(0.0);
        for k in 0..max_x {
            let term = s + k as f64;
            log += term.ln();
            reciprocal += 1.0 / term;
            logs.push(log);
            reciprocals.push(reciprocal);
        }
        Self { logs, reciprocals }
    }
}

/// Distinct values of a time (T or t_x) and each customer's index into them: the logarithms
/// the likelihood needs are taken once per distinct value, and purchase days make few.
struct Distinct {
    values: Vec<f64>,
}

impl Distinct {
    fn of(times: impl Iterator<Item = f64>) -> Self {
        let mut values: Vec<f64> = times.collect();
        values.sort_by(f64::total_cmp);
        values.dedup_by(|a, b| a.total_cmp(b).is_eq());
        Self { values }
    }

    fn index(&self, time: f64) -> u32 {
        let found = self.values.partition_point(|v| v.total_cmp(&time).is_lt());
        u32::try_from(found).expect("fewer distinct times than customers")
    }

    /// ln(alpha + t) and 1 / (alpha + t) of every distinct t.
    fn tables(&self, alpha: f64) -> (Vec<f64>, Vec<f64>) {
        self.values
            .iter()
            .map(|t| ((alpha + t).ln(), 1.0 / (alpha + t)))
            .unzip()
    }
}

/// Customers with the same frequency, recency and age, counted once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Group {
    frequency: u32,
    age: u32,
    recency: u32,
    count: u32,
}

/// The data as the likelihood reads it.
struct Prepared {
    ages: Distinct,
    recencies: Distinct,
    groups: Vec<Group>,
    max_x: usize,
}

impl Prepared {
    fn of(data: &[Repeat]) -> Self {
        let ages = Distinct::of(data.iter().map(|c| c.age));
        let recencies = Distinct::of(data.iter().map(|c| c.recency));
        let mut keys: Vec<(u32, u32, u32)> = data
            .iter()
            .map(|c| (c.frequency, ages.index(c.age), recencies.index(c.recency)))
            .collect();
        keys.sort_unstable();
        let mut groups: Vec<Group> = Vec::new();
        for (frequency, age, recency) in keys {
            match groups.last_mut() {
                Some(g) if (g.frequency, g.age, g.recency) == (frequency, age, recency) => {
                    g.count += 1
                }
                _ => groups.push(Group {
                    frequency,
                    age,
                    recency,
                    count: 1,
                }),
            }
        }
        let max_x = data.iter().map(|c| c.frequency as usize).max().unwrap_or(0);
        Self {
            ages,
            recencies,
            groups,
            max_x,
        }
    }
}

/// Below this many groups one thread sums the likelihood; above, two halves in parallel
/// (always the same two halves, added in the same order: the sum does not depend on the
/// machine).
const PARALLEL_FROM: usize = 16_384;

impl BgNbd {
    /// The log-likelihood of the data, and its gradient with respect to the logarithms of
    /// (r, alpha, a, b).
    fn log_likelihood(&self, data: &Prepared, gradient: &mut [f64; 4]) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let tables = Tables {
            of_r: RisingSums::new(r, data.max_x),
            of_b: RisingSums::new(b, data.max_x),
            of_ab: RisingSums::new(a + b, data.max_x),
            // ln(b + x - 1) and its reciprocal for x >= 1.
            dropout: (0..=data.max_x)
                .map(|x| {
                    let v = b + x as f64 - 1.0;
                    (v.ln(), 1.0 / v)
                })
                .unzip(),
            ages: data.ages.tables(alpha),
            recencies: data.recencies.tables(alpha),
            ln_alpha: alpha.ln(),
            ln_a: a.ln(),
        };
        let groups = &data.groups;
        let (total, d) = if groups.len() < PARALLEL_FROM {
            self.sum(&tables, groups)
        } else {
            let (first, second) = groups.split_at(groups.len() / 2);
            std::thread::scope(|scope| {
                let other = scope.spawn(|| self.sum(&tables, second));
                let (t1, d1) = self.sum(&tables, first);
                let (t2, d2) = other.join().expect("the likelihood thread does not panic");
                (t1 + t2, [0, 1, 2, 3].map(|i| d1[i] + d2[i]))
            })
        };
        // Chain rule to the log-parameters the search moves in.
        *gradient = [d[0] * r, d[1] * alpha, d[2] * a, d[3] * b];
        total
    }

    /// The likelihood and its gradient (in the parameters) summed over `groups`.
    fn sum(&self, t: &Tables, groups: &[Group]) -> (f64, [f64; 4]) {
        let BgNbd { r, alpha, a, .. } = *self;
        let mut total = 0.0;
        let mut d = [0.0; 4];
        for group in groups {
            let x = group.frequency as usize;
            let n = f64::from(group.count);
            let rx = r + x as f64;
            let (ln_alpha_t, inv_alpha_t) =
                (t.ages.0[group.age as usize], t.ages.1[group.age as usize]);
            let base = t.of_r.logs[x] + r * t.ln_alpha + t.of_b.logs[x] - t.of_ab.logs[x];
            let a3 = -rx * ln_alpha_t;
            d[0] += n * (t.of_r.reciprocals[x] + t.ln_alpha);
            d[1] += n * (r / alpha);
            d[2] -= n * t.of_ab.reciprocals[x];
            if x == 0 {
                total += n * (base + a3);
                d[0] -= n * ln_alpha_t;
                d[1] -= n * rx * inv_alpha_t;
                continue;
            }
            // After a repeat purchase the customer may have dropped out since: the second
            // term of the likelihood, weighted against the first by w4.
            let (ln_alpha_tx, inv_alpha_tx) = (
                t.recencies.0[group.recency as usize],
                t.recencies.1[group.recency as usize],
            );
            let a4 = t.ln_a - t.dropout.0[x] - rx * ln_alpha_tx;
            // ln(e^a3 + e^a4) = a3 + ln(1 + e^(a4 - a3)), and w4 = e^a4 / (e^a3 + e^a4).
            let gap = a4 - a3;
            let (log_sum, w4) = if gap > 0.0 {
                let e = (-gap).exp();
                (a4 + e.ln_1p(), 1.0 / (1.0 + e))
            } else {
                let e = gap.exp();
                (a3 + e.ln_1p(), e / (1.0 + e))
            };
            let w3 = 1.0 - w4;
            total += n * (base + log_sum);
            d[0] -= n * (w3 * ln_alpha_t + w4 * ln_alpha_tx);
            d[1] -= n * rx * (w3 * inv_alpha_t + w4 * inv_alpha_tx);
            d[2] += n * w4 / a;
            d[3] += n * (t.of_b.reciprocals[x] - t.of_ab.reciprocals[x] - w4 * t.dropout.1[x]);
        }
        (total, d)
    }

    /// P(alive): the probability the customer has not dropped out (1 without a repeat
    /// purchase, where the model allows no dropout yet).
    pub fn p_alive(&self, customer: &Repeat) -> f64 {
        if customer.frequency == 0 {
            return 1.0;
        }
        let x = f64::from(customer.frequency);
        let log_odds = (self.r + x)
            * ((self.alpha + customer.age) / (self.alpha + customer.recency)).ln()
            + (self.a / (self.b + x - 1.0)).ln();
        1.0 / (1.0 + log_odds.exp())
    }

    /// Expected purchases in the next `t` units (the paper's equation (10)).
    pub fn expected_purchases(&self, customer: &Repeat, t: f64) -> f64 {
        if t <= 0.0 {
            return 0.0;
        }
        let BgNbd { r, alpha, a, b } = *self;
        let x = f64::from(customer.frequency);
        let age = customer.age;
        let hypergeometric = hyp2f1(r + x, b + x, a + b + x - 1.0, t / (alpha + age + t));
        let first = (a + b + x - 1.0) / (a - 1.0);
        let second =
            1.0 - (hypergeometric.ln() + (r + x) * ((alpha + age) / (alpha + age + t)).ln()).exp();
        let denominator = if customer.frequency > 0 {
            1.0 + a / (b + x - 1.0) * ((alpha + age) / (alpha + customer.recency)).powf(r + x)
        } else {
            1.0
        };
        first * second / denominator
    }
}

/// Fits the model to the customers' histories by maximum likelihood, from r = alpha = a = b
/// = 1 as `lifetimes` starts.
pub fn fit(data: &[Repeat]) -> Result<BgNbdFit, FitError> {
    if data.len() < 2 || data.iter().all(|c| c.frequency == 0) {
        return Err(FitError::TooLittleData);
    }
    let prepared = Prepared::of(data);
    let n = data.len() as f64;
    // The mean negative log-likelihood in log-parameters: positive parameters, and a scale
    // that does not grow with the number of customers.
    let objective = |theta: &[f64], gradient: &mut [f64]| {
        let model = BgNbd {
            r: theta[0].exp(),
            alpha: theta[1].exp(),
            a: theta[2].exp(),
            b: theta[3].exp(),
        };
        let mut d = [0.0; 4];
        let ll = model.log_likelihood(&prepared, &mut d);
        for (g, d) in gradient.iter_mut().zip(d) {
            *g = -d / n;
        }
        -ll / n
    };
    let minimum = minimize(objective, &[0.0; 4]).map_err(FitError::NoMaximum)?;
    let [r, alpha, a, b] = identified([0, 1, 2, 3].map(|i| minimum.at[i].exp()))?;
    Ok(BgNbdFit {
        model: BgNbd { r, alpha, a, b },
        log_likelihood: -minimum.value * n,
        customers: data.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gradient_matches_finite_differences() {
        let data = [
            Repeat {
                frequency: 0,
                recency: 0.0,
                age: 30.0,
                mean_repeat_spend: None,
            },
            Repeat {
                frequency: 3,
                recency: 12.0,
                age: 40.0,
                mean_repeat_spend: Some(5.0),
            },
            Repeat {
                frequency: 1,
                recency: 2.0,
                age: 10.0,
                mean_repeat_spend: Some(5.0),
            },
        ];
        let at = |theta: [f64; 4]| BgNbd {
            r: theta[0].exp(),
            alpha: theta[1].exp(),
            a: theta[2].exp(),
            b: theta[3].exp(),
        };
        let theta = [-0.5, 1.2, -0.3, 0.8];
        let mut gradient = [0.0; 4];
        let prepared = Prepared::of(&data);
        at(theta).log_likelihood(&prepared, &mut gradient);
        for i in 0..4 {
            let h = 1e-6;
            let (mut up, mut down) = (theta, theta);
            up[i] += h;
            down[i] -= h;
            let mut ignored = [0.0; 4];
            let numeric = (at(up).log_likelihood(&prepared, &mut ignored)
                - at(down).log_likelihood(&prepared, &mut ignored))
                / (2.0 * h);
            assert!(
                (numeric - gradient[i]).abs() < 1e-6,
                "{i}: {numeric} vs {}",
                gradient[i]
            );
        }
    }
}

#[cfg(test)]
mod likelihood_tests {
    use super::*;

    /// Equation (6) of the paper as written, one customer at a time.
    fn naive(m: &BgNbd, c: &Repeat) -> f64 {
        let lg = libm::lgamma;
        let x = f64::from(c.frequency);
        let a1 = lg(m.r + x) - lg(m.r) + m.r * m.alpha.ln();
        let a2 = lg(m.a + m.b) + lg(m.b + x) - lg(m.b) - lg(m.a + m.b + x);
        let a3 = -(m.r + x) * (m.alpha + c.age).ln();
        let first = a3.exp();
        let second = if c.frequency > 0 {
            (m.a.ln() - (m.b + x - 1.0).ln() - (m.r + x) * (m.alpha + c.recency).ln()).exp()
        } else {
            0.0
        };
        a1 + a2 + (first + second).ln()
    }

    #[test]
    fn the_grouped_parallel_sum_is_the_papers_likelihood() {
        // Enough distinct customers for the two-thread path, and repeats of each.
        let data: Vec<Repeat> = (0..40_000u32)
            .map(|i| {
                let j = i % 20_000;
                let age = f64::from(1 + j) / 7.0;
                let frequency = j % 9;
                Repeat {
                    frequency,
                    recency: if frequency == 0 {
                        0.0
                    } else {
                        age * f64::from(j % 7) / 7.0
                    },
                    age,
                    mean_repeat_spend: None,
                }
            })
            .collect();
        let prepared = Prepared::of(&data);
        assert!(prepared.groups.len() >= PARALLEL_FROM);
        assert!(prepared.groups.len() < data.len());
        let model = BgNbd {
            r: 0.4,
            alpha: 3.0,
            a: 0.8,
            b: 2.5,
        };
        let mut gradient = [0.0; 4];
        let grouped = model.log_likelihood(&prepared, &mut gradient);
        let expected: f64 = data.iter().map(|c| naive(&model, c)).sum();
        assert!(
            (grouped / expected - 1.0).abs() < 1e-10,
            "{grouped} vs {expected}"
        );
    }
}
