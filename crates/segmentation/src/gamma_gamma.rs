//! The Gamma-Gamma model of spend per purchase (Fader, Hardie and Lee 2005, "RFM and CLV";
//! Fader and Hardie 2013, "The Gamma-Gamma model of monetary value"), fitted by maximum
//! likelihood on the customers with repeat purchases, in major units.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::bg_nbd::{identified, FitError};
use crate::history::Repeat;
use crate::numeric::{digamma, minimize};

/// The model's three parameters.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GammaGamma {
    #[schema(example = 6.25)]
    pub p: f64,
    #[schema(example = 3.74)]
    pub q: f64,
    #[schema(example = 15.44)]
    pub gamma: f64,
}

/// A fitted model with what it was fitted on.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct GammaGammaFit {
    #[serde(flatten)]
    pub model: GammaGamma,
    /// The full log-likelihood of the repeat customers' mean spends at the fit.
    #[schema(example = -4063.89)]
    pub log_likelihood: f64,
    /// Customers fitted on: those with a repeat purchase and a positive mean spend.
    #[schema(example = 946)]
    pub customers: usize,
}

/// Frequency and mean repeat spend of a customer the model can read.
fn observed(customer: &Repeat) -> Option<(f64, f64)> {
    let spend = customer.mean_repeat_spend?;
    (customer.frequency > 0 && spend > 0.0).then_some((f64::from(customer.frequency), spend))
}

impl GammaGamma {
    fn log_likelihood(&self, data: &[(f64, f64)], gradient: &mut [f64; 3]) -> f64 {
        let GammaGamma { p, q, gamma } = *self;
        let (ln_gamma_q, digamma_q, ln_v) = (libm::lgamma(q), digamma(q), gamma.ln());
        let mut total = 0.0;
        let mut d = [0.0; 3];
        for &(x, m) in data {
            let px = p * x;
            let ln_xm_v = (x * m + gamma).ln();
            let (ln_m, ln_x) = (m.ln(), x.ln());
            total += libm::lgamma(px + q) - libm::lgamma(px) - ln_gamma_q
                + q * ln_v
                + (px - 1.0) * ln_m
                + px * ln_x
                - (px + q) * ln_xm_v;
            let digamma_pxq = digamma(px + q);
            d[0] += x * (digamma_pxq - digamma(px) + ln_m + ln_x - ln_xm_v);
            d[1] += digamma_pxq - digamma_q + ln_v - ln_xm_v;
            d[2] += q / gamma - (px + q) / (x * m + gamma);
        }
        *gradient = [d[0] * p, d[1] * q, d[2] * gamma];
        total
    }

    /// The expected spend per future purchase in major units: the customer's mean weighted
    /// against the population's by how much it rests on; the population mean without repeat
    /// purchases; none where the population mean is infinite (q <= 1).
    pub fn expected_spend(&self, customer: &Repeat) -> Option<f64> {
        let GammaGamma { p, q, gamma } = *self;
        if q <= 1.0 {
            return None;
        }
        let population = p * gamma / (q - 1.0);
        Some(match observed(customer) {
            Some((x, m)) => {
                let weight = p * x / (p * x + q - 1.0);
                (1.0 - weight) * population + weight * m
            }
            None => population,
        })
    }
}

/// The mean spend per repeat purchase over every customer the model can read, in major
/// units: what Gamma-Gamma's prediction tends to for everyone when spend does not differ
/// between customers beyond chance (and the model is then not identified).
pub fn mean_spend(customers: &[Repeat]) -> Option<f64> {
    let (spent, purchases) = customers
        .iter()
        .filter_map(observed)
        .fold((0.0, 0.0), |(spent, purchases), (x, m)| {
            (spent + x * m, purchases + x)
        });
    (purchases > 0.0).then(|| spent / purchases)
}

/// Fits the model on the customers with a repeat purchase, from p = q = gamma = 1.
pub fn fit(customers: &[Repeat]) -> Result<GammaGammaFit, FitError> {
    let data: Vec<(f64, f64)> = customers.iter().filter_map(observed).collect();
    if data.len() < 2 {
        return Err(FitError::TooLittleData);
    }
    let n = data.len() as f64;
    let objective = |theta: &[f64], gradient: &mut [f64]| {
        let model = GammaGamma {
            p: theta[0].exp(),
            q: theta[1].exp(),
            gamma: theta[2].exp(),
        };
        let mut d = [0.0; 3];
        let ll = model.log_likelihood(&data, &mut d);
        for (g, d) in gradient.iter_mut().zip(d) {
            *g = -d / n;
        }
        -ll / n
    };
    let minimum = minimize(objective, &[0.0; 3]).map_err(FitError::NoMaximum)?;
    let [p, q, gamma] = identified([0, 1, 2].map(|i| minimum.at[i].exp()))?;
    Ok(GammaGammaFit {
        model: GammaGamma { p, q, gamma },
        log_likelihood: -minimum.value * n,
        customers: data.len(),
    })
}
