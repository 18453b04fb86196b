//! The numerics the models need and no small crate offers together: digamma, the Gaussian
//! hypergeometric function on [0, 1), and a BFGS minimiser for smooth objectives of a few
//! parameters.

/// ψ(x), the derivative of ln Γ, for x > 0: the recurrence up to 10, then the asymptotic
/// series (error below 1e-13 there).
pub fn digamma(mut x: f64) -> f64 {
    let mut shift = 0.0;
    while x < 10.0 {
        shift -= 1.0 / x;
        x += 1.0;
    }
    let f = 1.0 / (x * x);
    let tail =
        f * (1.0 / 12.0 - f * (1.0 / 120.0 - f * (1.0 / 252.0 - f * (1.0 / 240.0 - f / 132.0))));
    shift + x.ln() - 0.5 / x - tail
}

/// ₂F₁(a, b; c; z) for 0 <= z < 1 by its power series; where the series overflows, by
/// Euler's transformation (1 - z)^(c-a-b) ₂F₁(c-a, c-b; c; z), as `lifetimes` does.
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> f64 {
    let direct = hyp2f1_series(a, b, c, z);
    if direct.is_finite() {
        direct
    } else {
        (1.0 - z).powf(c - a - b) * hyp2f1_series(c - a, c - b, c, z)
    }
}

fn hyp2f1_series(a: f64, b: f64, c: f64, z: f64) -> f64 {
    let mut term = 1.0;
    let mut sum = 1.0;
    for k in 0..1_000_000 {
        let k = f64::from(k);
        term *= (a + k) * (b + k) / ((c + k) * (k + 1.0)) * z;
        sum += term;
        if term.abs() <= 1e-16 * sum.abs() || !sum.is_finite() {
            break;
        }
    }
    sum
}

/// Where a minimisation stopped.
#[derive(Debug, Clone, PartialEq)]
pub struct Minimum {
    pub at: Vec<f64>,
    pub value: f64,
    pub iterations: usize,
}

/// Why a minimisation gave up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoMinimum {
    /// The objective is not finite where the search starts.
    NotFinite,
    /// No convergence within the iteration budget.
    TooManyIterations,
}

/// Minimises a smooth `objective` (its value, writing its gradient into the slice) from
/// `start` by BFGS with a backtracking line search. Stops when every gradient component is
/// below `1e-8`, or a step no longer lowers the value by more than rounding.
pub fn minimize(
    objective: impl Fn(&[f64], &mut [f64]) -> f64,
    start: &[f64],
) -> Result<Minimum, NoMinimum> {
    const GRADIENT_TOLERANCE: f64 = 1e-8;
    const MAX_ITERATIONS: usize = 1000;
    let n = start.len();
    let mut x = start.to_vec();
    let mut gradient = vec![0.0; n];
    let mut value = objective(&x, &mut gradient);
    if !value.is_finite() || gradient.iter().any(|g| !g.is_finite()) {
        return Err(NoMinimum::NotFinite);
    }
    let identity = |n: usize| -> Vec<f64> {
        (0..n * n)
            .map(|i| if i % (n + 1) == 0 { 1.0 } else { 0.0 })
            .collect()
    };
    let mut inverse_hessian = identity(n);
    let mut next = vec![0.0; n];
    let mut next_gradient = vec![0.0; n];
    for iteration in 0..MAX_ITERATIONS {
        if gradient.iter().all(|g| g.abs() < GRADIENT_TOLERANCE) {
            return Ok(Minimum {
                at: x,
                value,
                iterations: iteration,
            });
        }
        let mut direction: Vec<f64> = (0..n)
            .map(|i| {
                -(0..n)
                    .map(|j| inverse_hessian[i * n + j] * gradient[j])
                    .sum::<f64>()
            })
            .collect();
        let mut slope: f64 = direction.iter().zip(&gradient).map(|(d, g)| d * g).sum();
        if slope >= 0.0 {
            // Not a descent direction: start the curvature estimate again.
            inverse_hessian = identity(n);
            direction = gradient.iter().map(|g| -g).collect();
            slope = -gradient.iter().map(|g| g * g).sum::<f64>();
        }
        let mut step = 1.0;
        let mut next_value = f64::INFINITY;
        for _ in 0..60 {
            for i in 0..n {
                next[i] = x[i] + step * direction[i];
            }
            next_value = objective(&next, &mut next_gradient);
            if next_value.is_finite() && next_value <= value + 1e-4 * step * slope {
                break;
            }
            step /= 2.0;
        }
        if !(next_value.is_finite() && next_value < value - 1e-15 * value.abs()) {
            // No step lowers the value beyond rounding: the minimum to machine precision.
            return Ok(Minimum {
                at: x,
                value,
                iterations: iteration,
            });
        }
        let s: Vec<f64> = (0..n).map(|i| next[i] - x[i]).collect();
        let y: Vec<f64> = (0..n).map(|i| next_gradient[i] - gradient[i]).collect();
        let sy: f64 = s.iter().zip(&y).map(|(s, y)| s * y).sum();
        if sy > 1e-300 {
            let hy: Vec<f64> = (0..n)
                .map(|i| (0..n).map(|j| inverse_hessian[i * n + j] * y[j]).sum())
                .collect();
            let yhy: f64 = y.iter().zip(&hy).map(|(y, hy)| y * hy).sum();
            for i in 0..n {
                for j in 0..n {
                    inverse_hessian[i * n + j] +=
                        (sy + yhy) * s[i] * s[j] / (sy * sy) - (hy[i] * s[j] + s[i] * hy[j]) / sy;
                }
            }
        }
        x.copy_from_slice(&next);
        gradient.copy_from_slice(&next_gradient);
        value = next_value;
    }
    Err(NoMinimum::TooManyIterations)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digamma_matches_known_values() {
        let euler_mascheroni = 0.577_215_664_901_532_9;
        assert!((digamma(1.0) + euler_mascheroni).abs() < 1e-12);
        assert!((digamma(0.5) + euler_mascheroni + 2.0 * 2f64.ln()).abs() < 1e-12);
        // ψ(x + 1) = ψ(x) + 1/x
        for x in [0.1, 0.7, 3.3, 12.5, 80.0] {
            assert!((digamma(x + 1.0) - digamma(x) - 1.0 / x).abs() < 1e-11);
        }
    }

    #[test]
    fn hyp2f1_matches_closed_forms() {
        // ₂F₁(1, 1; 2; z) = -ln(1 - z) / z
        for z in [0.1_f64, 0.5, 0.9, 0.99] {
            let exact = -(1.0 - z).ln() / z;
            assert!(
                (hyp2f1(1.0, 1.0, 2.0, z) / exact - 1.0).abs() < 1e-12,
                "{z}"
            );
        }
        // ₂F₁(a, b; b; z) = (1 - z)^-a
        assert!((hyp2f1(2.5, 3.0, 3.0, 0.6) / 0.4f64.powf(-2.5) - 1.0).abs() < 1e-12);
        assert_eq!(hyp2f1(0.3, 4.0, 2.0, 0.0), 1.0);
    }

    #[test]
    fn minimize_finds_the_rosenbrock_valley_floor() {
        let rosenbrock = |x: &[f64], g: &mut [f64]| {
            g[0] = -2.0 * (1.0 - x[0]) - 400.0 * x[0] * (x[1] - x[0] * x[0]);
            g[1] = 200.0 * (x[1] - x[0] * x[0]);
            (1.0 - x[0]).powi(2) + 100.0 * (x[1] - x[0] * x[0]).powi(2)
        };
        let minimum = minimize(rosenbrock, &[-1.2, 1.0]).expect("converges");
        assert!((minimum.at[0] - 1.0).abs() < 1e-6 && (minimum.at[1] - 1.0).abs() < 1e-6);
    }

    #[test]
    fn minimize_refuses_a_start_that_is_not_finite() {
        let nan = |_: &[f64], _: &mut [f64]| f64::NAN;
        assert_eq!(minimize(nan, &[0.0]), Err(NoMinimum::NotFinite));
    }
}
