//! `credo fit-bg-nbd`: the BG/NBD fit of a customer summary from a CSV file, for comparing
//! Credo's maximum-likelihood numerics with another implementation on the same data.

use std::path::Path;
use std::time::Instant;

use anyhow::Context;
use credo_segmentation::bg_nbd;
use credo_segmentation::history::Repeat;

/// Reads `frequency`, `recency` and `T` (any column order, a header first) and prints the
/// fit as one JSON object with the seconds the fit alone took.
pub fn run(summary: &Path) -> anyhow::Result<()> {
    let text = std::fs::read_to_string(summary)
        .with_context(|| format!("could not read {}", summary.display()))?;
    let mut lines = text.lines().filter(|line| !line.trim().is_empty());
    let header: Vec<&str> = lines
        .next()
        .context("the summary is empty")?
        .split(',')
        .map(str::trim)
        .collect();
    let column = |name: &str| {
        header
            .iter()
            .position(|h| *h == name)
            .with_context(|| format!("the summary has no {name} column"))
    };
    let (frequency, recency, age) = (column("frequency")?, column("recency")?, column("T")?);
    let mut customers = Vec::new();
    for (n, line) in lines.enumerate() {
        let fields: Vec<&str> = line.split(',').map(str::trim).collect();
        let field = |i: usize| -> anyhow::Result<f64> {
            fields
                .get(i)
                .context("a column is missing")?
                .parse::<f64>()
                .with_context(|| format!("row {}: not a number", n + 2))
        };
        customers.push(Repeat {
            frequency: field(frequency)? as u32,
            recency: field(recency)?,
            age: field(age)?,
            mean_repeat_spend: None,
        });
    }
    let started = Instant::now();
    let fit = bg_nbd::fit(&customers).map_err(|error| anyhow::anyhow!("{error}"))?;
    let seconds = started.elapsed().as_secs_f64();
    let mut printed = serde_json::to_value(fit)?;
    printed["fit_seconds"] = seconds.into();
    println!("{printed}");
    Ok(())
}
