//! Exact quotients of money amounts: every ratio here is a fraction of two integers, rounded
//! once, half away from zero, so a band edge such as -4.60 is met exactly or not at all.

use rust_decimal::Decimal;

/// `numerator / denominator` rounded to `places` decimals; `None` when the denominator is
/// zero. The operands are products of at most two amounts under 2^53, so scaling by up to
/// 10^4 stays within i128.
pub fn quotient(numerator: i128, denominator: i128, places: u32) -> Option<Decimal> {
    if denominator == 0 {
        return None;
    }
    let (numerator, denominator) = if denominator < 0 {
        (-numerator, -denominator)
    } else {
        (numerator, denominator)
    };
    let scaled = numerator.checked_mul(10_i128.pow(places))?.checked_mul(2)?;
    let magnitude = (scaled.abs() + denominator) / (2 * denominator);
    let rounded = if scaled < 0 { -magnitude } else { magnitude };
    Decimal::try_from_i128_with_scale(rounded, places).ok()
}

/// `value` rounded to `places` decimals, half away from zero.
pub fn round(value: Decimal, places: u32) -> Decimal {
    value.round_dp_with_strategy(places, rust_decimal::RoundingStrategy::MidpointAwayFromZero)
}

/// `amount_minor * share_bp / 10_000`, rounded half away from zero.
pub fn share_of(amount_minor: i64, share_bp: u32) -> i64 {
    let product = i128::from(amount_minor) * i128::from(share_bp);
    let magnitude = (product.abs() + 5_000) / 10_000;
    let rounded = if product < 0 { -magnitude } else { magnitude };
    i64::try_from(rounded).expect("a share of at most 100 % of an i64 fits an i64")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::str::FromStr;

    fn d(text: &str) -> Decimal {
        Decimal::from_str(text).unwrap()
    }

    #[test]
    fn quotients_round_half_away_from_zero() {
        assert_eq!(quotient(1, 3, 4), Some(d("0.3333")));
        assert_eq!(quotient(2, 3, 4), Some(d("0.6667")));
        assert_eq!(quotient(-2, 3, 4), Some(d("-0.6667")));
        assert_eq!(quotient(2, -3, 4), Some(d("-0.6667")));
        assert_eq!(quotient(-919, 200, 2), Some(d("-4.60")));
        assert_eq!(quotient(-9185, 2000, 2), Some(d("-4.59")));
        assert_eq!(quotient(-91_850_001, 20_000_000, 2), Some(d("-4.59")));
        assert_eq!(quotient(1, 200, 2), Some(d("0.01")));
        assert_eq!(quotient(-1, 200, 2), Some(d("-0.01")));
        assert_eq!(quotient(5, 0, 4), None);
    }

    #[test]
    fn shares_round_half_away_from_zero() {
        assert_eq!(share_of(100, 2_500), 25);
        assert_eq!(share_of(3, 5_000), 2);
        assert_eq!(share_of(-3, 5_000), -2);
        assert_eq!(share_of(i64::MAX, 10_000), i64::MAX);
    }
}
