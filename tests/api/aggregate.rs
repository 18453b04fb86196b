//! The store's aggregate layer on this test's backend: sums grouped by date buckets in SQL
//! with the dates bound as parameters, and keyset batches that visit every row once.

use chrono::NaiveDate;
use credo_store::aggregate::{self, DateBucket};
use credo_store::schema::orders;
use credo_store::{Db, PoolOptions, StoreError};
use diesel::dsl::{count_star, min};
use diesel::prelude::*;
use serde_json::json;

use crate::common::*;
use crate::orders::line;

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

#[actix_web::test]
async fn sums_group_by_date_buckets_and_batches_visit_every_row_once() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let acme = app.organization(&admin, "Acme").await;
    let bolt = app.organization(&admin, "Bolt").await;
    // (customer, ordered on, amount): as of 2026-06-30 with limits 0, 30 and 90 days the
    // buckets are [on or after 06-30], [05-31 ..= 06-29], [04-01 ..= 05-30], [before].
    let placed = [
        (&acme, "2026-06-30", 1_000),
        (&acme, "2026-06-29", 20),
        (&acme, "2026-05-31", 300),
        (&acme, "2026-05-30", 4_000),
        (&acme, "2026-04-01", 50_000),
        (&acme, "2026-03-31", 600_000),
        (&bolt, "2026-07-15", 7),
        (&bolt, "2025-01-01", 80),
    ];
    for (customer, ordered_on, amount) in placed {
        app.order(
            &admin,
            json!({"customer_id": customer, "currency": "CNY", "ordered_on": ordered_on,
                   "lines": [line("P", 1, amount, 0)]}),
        )
        .await;
    }
    let url = app.database_url().clone();
    let (buckets, ids) = actix_web::web::block(move || {
        let db = Db::connect(&url, &PoolOptions::default()).unwrap();
        db.run(|conn| {
            let as_of = day("2026-06-30");
            let edges = [0, 30, 90]
                .map(|days| as_of - chrono::Days::new(days))
                .to_vec();
            let bucket = DateBucket::new(orders::ordered_on, edges);
            assert_eq!(bucket.count(), 4);
            let buckets = orders::table
                .group_by((orders::customer_id, bucket.clone()))
                .select((
                    orders::customer_id,
                    min(bucket.clone()),
                    aggregate::sum("amount_minor"),
                    count_star(),
                ))
                .order((orders::customer_id, min(bucket)))
                .load::<(String, Option<i32>, i64, i64)>(conn)?;
            let mut ids = Vec::new();
            let mut largest = 0;
            aggregate::for_each_batch(
                conn,
                3,
                |conn, after: Option<&String>, size| {
                    let mut page = orders::table.select(orders::id).into_boxed();
                    if let Some(after) = after {
                        page = page.filter(orders::id.gt(after.clone()));
                    }
                    Ok(page.order(orders::id).limit(size).load::<String>(conn)?)
                },
                String::clone,
                |batch| {
                    largest = largest.max(batch.len());
                    ids.extend(batch);
                    Ok(())
                },
            )?;
            assert_eq!(largest, 3);
            Ok::<_, StoreError>((buckets, ids))
        })
    })
    .await
    .unwrap()
    .unwrap();
    assert_eq!(
        buckets,
        vec![
            (acme.clone(), Some(0), 1_000, 1),
            (acme.clone(), Some(1), 320, 2),
            (acme.clone(), Some(2), 54_000, 2),
            (acme.clone(), Some(3), 600_000, 1),
            (bolt.clone(), Some(0), 7, 1),
            (bolt.clone(), Some(3), 80, 1),
        ]
    );
    assert_eq!(ids.len(), placed.len());
    assert!(
        ids.windows(2).all(|w| w[0] < w[1]),
        "each row once, in key order"
    );
}
