//! The CDNOW sample (2,357 customers' purchases from January 1997; Fader, Hardie and Lee's
//! data set, shipped by `lifetimes`): the first 39 weeks, to 30 September 1997, fitted in
//! weeks must give the published parameters.

use chrono::NaiveDate;
use credo_segmentation::history::{Purchase, PurchaseHistory, Repeat, TimeUnit};
use credo_segmentation::{bg_nbd, gamma_gamma};
use std::collections::BTreeMap;

fn calibration() -> Vec<Repeat> {
    let as_of = NaiveDate::from_ymd_opt(1997, 9, 30).expect("a day");
    let raw = include_str!("data/CDNOW_sample.txt");
    let mut by_customer: BTreeMap<&str, Vec<Purchase>> = BTreeMap::new();
    for line in raw.lines().filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let on = NaiveDate::parse_from_str(fields[2], "%Y%m%d").expect("a date");
        let dollars: f64 = fields[4].parse().expect("an amount");
        by_customer.entry(fields[0]).or_default().push(Purchase {
            on,
            amount_minor: (dollars * 100.0).round() as i64,
        });
    }
    by_customer
        .values()
        .filter_map(|purchases| PurchaseHistory::of(purchases, as_of))
        .map(|history| history.repeat(as_of, TimeUnit::Week, 100.0))
        .collect()
}

fn rounded(value: f64, places: i32) -> f64 {
    let scale = 10f64.powi(places);
    (value * scale).round() / scale
}

#[test]
fn bg_nbd_reproduces_the_published_fit() {
    let customers = calibration();
    assert_eq!(customers.len(), 2357);
    let fit = bg_nbd::fit(&customers).expect("fits");
    let m = fit.model;
    assert_eq!(
        [
            rounded(m.r, 3),
            rounded(m.alpha, 3),
            rounded(m.a, 3),
            rounded(m.b, 3)
        ],
        [0.243, 4.414, 0.793, 2.426],
        "{fit:?}"
    );
    assert_eq!(rounded(fit.log_likelihood, 1), -9582.4, "{fit:?}");
    assert_eq!(fit.customers, 2357);
}

#[test]
fn gamma_gamma_reproduces_the_published_fit() {
    let customers = calibration();
    let fit = gamma_gamma::fit(&customers).expect("fits");
    let m = fit.model;
    assert_eq!(
        [rounded(m.p, 2), rounded(m.q, 2), rounded(m.gamma, 2)],
        [6.25, 3.74, 15.44],
        "{fit:?}"
    );
    assert_eq!(fit.customers, 946);
}

#[test]
fn predictions_match_the_paper_for_its_example_customer() {
    // Fader, Hardie and Lee (2005), section 4: the customer with x = 2, t_x = 30.43 and
    // T = 38.86 is expected to make 1.226 purchases in the next 39 weeks.
    let fit = bg_nbd::fit(&calibration()).expect("fits");
    let customer = Repeat {
        frequency: 2,
        recency: 30.43,
        age: 38.86,
        mean_repeat_spend: Some(22.35),
    };
    let expected = fit.model.expected_purchases(&customer, 39.0);
    assert_eq!(rounded(expected, 3), 1.226, "{expected}");
}
