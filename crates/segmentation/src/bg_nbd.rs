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

impl BgNbd {
    /// The log-likelihood of the data, and its gradient with respect to the logarithms of
    /// (r, alpha, a, b).
    fn log_likelihood(&self, data: &[Repeat], max_x: usize, gradient: &mut [f64; 4]) -> f64 {
        let BgNbd { r, alpha, a, b } = *self;
        let of_r = RisingSums::new(r, max_x);
        let of_b = RisingSums::new(b, max_x);
        let of_ab = RisingSums::new(a + b, max_x);
        let (ln_alpha, ln_a) = (alpha.ln(), a.ln());
        let mut total = 0.0;
        let mut d = [0.0; 4];
        for customer in data {
            let x = customer.frequency as usize;
            let rx = r + x as f64;
            let ln_alpha_t = (alpha + customer.age).ln();
            let base = of_r.logs[x] + r * ln_alpha + of_b.logs[x] - of_ab.logs[x];
            let a3 = -rx * ln_alpha_t;
            // The second term exists only after a repeat purchase (a dropout needs one).
            let (ll, w4, ln_alpha_tx, ln_bx) = if x > 0 {
                let ln_bx = (b + x as f64 - 1.0).ln();
                let ln_alpha_tx = (alpha + customer.recency).ln();
                let a4 = ln_a - ln_bx - rx * ln_alpha_tx;
                let high = a3.max(a4);
                let (e3, e4) = ((a3 - high).exp(), (a4 - high).exp());
                (
                    base + high + (e3 + e4).ln(),
                    e4 / (e3 + e4),
                    ln_alpha_tx,
                    ln_bx,
                )
            } else {
                (base + a3, 0.0, 0.0, 0.0)
            };
            let w3 = 1.0 - w4;
            total += ll;
            d[0] += of_r.reciprocals[x] + ln_alpha - w3 * ln_alpha_t - w4 * ln_alpha_tx;
            d[1] +=
                r / alpha - w3 * rx / (alpha + customer.age) - w4 * rx / (alpha + customer.recency);
            d[2] += -of_ab.reciprocals[x] + w4 / a;
            if x > 0 {
                d[3] += of_b.reciprocals[x] - of_ab.reciprocals[x] - w4 / ln_bx.exp();
            }
        }
        // Chain rule to the log-parameters the search moves in.
        *gradient = [d[0] * r, d[1] * alpha, d[2] * a, d[3] * b];
        total
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
    let max_x = data.iter().map(|c| c.frequency as usize).max().unwrap_or(0);
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
        let ll = model.log_likelihood(data, max_x, &mut d);
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
        at(theta).log_likelihood(&data, 3, &mut gradient);
        for i in 0..4 {
            let h = 1e-6;
            let (mut up, mut down) = (theta, theta);
            up[i] += h;
            down[i] -= h;
            let mut ignored = [0.0; 4];
            let numeric = (at(up).log_likelihood(&data, 3, &mut ignored)
                - at(down).log_likelihood(&data, 3, &mut ignored))
                / (2.0 * h);
            assert!(
                (numeric - gradient[i]).abs() < 1e-6,
                "{i}: {numeric} vs {}",
                gradient[i]
            );
        }
    }
}
