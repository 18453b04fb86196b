//! Segmentation through HTTP: runs as jobs with their models and results, customers' values
//! that explain themselves, the same grade whoever owns the customer, versioned policies,
//! overrides with maker-checker approval, and churn interventions.

use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::*;
use crate::jobs::{db_run, instance};
use crate::orders::line;

fn days_ago(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::hours(8) - chrono::Duration::days(days))
        .date_naive()
        .to_string()
}

impl TestApp {
    /// A confirmed order of `price` (cost 80 % of it) in `currency` dated `days` ago.
    async fn bought(&self, token: &str, customer: &str, days: i64, price: i64, currency: &str) {
        self.bought_lines(
            token,
            customer,
            days,
            currency,
            vec![line("P-1", 1, price, price * 8 / 10)],
        )
        .await;
    }

    async fn bought_lines(
        &self,
        token: &str,
        customer: &str,
        days: i64,
        currency: &str,
        lines: Vec<Value>,
    ) {
        let order = self
            .order(
                token,
                json!({"customer_id": customer, "currency": currency, "ordered_on": days_ago(days),
                       "lines": lines}),
            )
            .await;
        let (status, confirmed) = self.step(token, &order, "confirm").await;
        assert_eq!(status, StatusCode::OK, "{confirmed}");
    }

    /// Starts a run (202 with its Location) and waits until it has finished.
    pub(crate) async fn segment(&self, token: &str, body: Value) -> Value {
        let id = self.queue_run(token, body).await;
        self.finished_run(token, &id).await
    }

    /// Starts a run: 202 with its Location, queued; answers its id.
    async fn queue_run(&self, token: &str, body: Value) -> String {
        let response = self
            .request(
                reqwest::Method::POST,
                "/api/v1/segmentation/runs",
                Some(token),
            )
            .json(&body)
            .send()
            .await
            .unwrap();
        let location = response
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned());
        let (status, run) = read(response).await;
        assert_eq!(status, StatusCode::ACCEPTED, "{run}");
        let id = run["id"].as_str().unwrap().to_owned();
        assert_eq!(
            location.as_deref(),
            Some(format!("/api/v1/segmentation/runs/{id}").as_str())
        );
        assert_eq!(run["state"], "queued");
        id
    }

    /// Waits until run `id` has succeeded; answers it.
    async fn finished_run(&self, token: &str, id: &str) -> Value {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let (status, run) = self
                .get(&format!("/api/v1/segmentation/runs/{id}"), token)
                .await;
            assert_eq!(status, StatusCode::OK, "{run}");
            if run["state"] == "succeeded" || run["state"] == "failed" {
                assert_eq!(run["state"], "succeeded", "{run}");
                return run;
            }
            assert!(Instant::now() < deadline, "the run is still going: {run}");
            actix_web::rt::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn value(&self, token: &str, customer: &str) -> Value {
        let (status, value) = self
            .get(&format!("/api/v1/customers/{customer}/value"), token)
            .await;
        assert_eq!(status, StatusCode::OK, "{value}");
        value
    }
}

#[actix_web::test]
async fn a_run_fits_the_models_grades_everyone_and_explains_each_grade() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let _runner = instance(&app);
    let mut steady = Vec::new();
    for i in 0..8 {
        let customer = app.organization(&admin, &format!("Steady {i}")).await;
        let gap = 14 + 7 * i;
        let mut days = 300;
        while days >= 0 {
            let price = 1_000_000 * (i + 1) + (days % 5) * 100_000;
            app.bought(&admin, &customer, days, price, "CNY").await;
            days -= gap;
        }
        steady.push(customer);
    }
    let mut gone = Vec::new();
    for i in 0..3 {
        let customer = app.organization(&admin, &format!("Gone {i}")).await;
        for week in 0..10 {
            app.bought(
                &admin,
                &customer,
                400 - 7 * week,
                500_000 + week * 20_000,
                "CNY",
            )
            .await;
        }
        gone.push(customer);
    }
    let once = app.organization(&admin, "Once").await;
    app.bought(&admin, &once, 100, 200_000, "CNY").await;
    // The first USD rate is today's: the order of 50 days ago has none on or before its
    // day, so the run leaves it out and says so.
    let (status, rate) = app
        .post(
            "/api/v1/fx-rates",
            &admin,
            json!({"currency": "USD", "on": company_today(), "rate": "7.1"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rate}");
    app.bought(&admin, &once, 50, 300_000, "USD").await;
    // Shipped two days after production finished, then claimed against.
    let shipped = app
        .order(&admin, json!({"customer_id": once, "currency": "CNY", "ordered_on": days_ago(60),
                              "lines": [line("P-1", 1, 400_000, 300_000), line("P-2", 2, 50_000, 40_000)]}))
        .await;
    let o = format!("/api/v1/orders/{}", shipped["id"].as_str().unwrap());
    for (step, body) in [
        ("confirm", json!({"on": days_ago(60)})),
        (
            "ship",
            json!({"on": days_ago(55), "completed_on": days_ago(57)}),
        ),
    ] {
        let (status, body) = app.post(&format!("{o}/{step}"), &admin, body).await;
        assert_eq!(status, StatusCode::OK, "{step}: {body}");
    }
    let (status, claim) = app
        .post(
            &format!("{o}/claims"),
            &admin,
            json!({"amount_minor": 10_000, "reason": "scratched"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{claim}");
    let never = app.organization(&admin, "Never").await;
    // A crowd that buys at many different rates and stops after a few purchases, as real
    // customers do: what identifies the models' heterogeneity and dropout.
    let mut seed: u64 = 42;
    let mut next = |below: u64| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        i64::try_from((seed >> 33) % below).unwrap()
    };
    for i in 0..30 {
        let customer = app.organization(&admin, &format!("Crowd {i}")).await;
        let mut days = 60 + next(300);
        for _ in 0..1 + next(5) {
            app.bought(&admin, &customer, days, 100_000 + next(900_000), "CNY")
                .await;
            days -= 5 + next(90);
            if days < 0 {
                break;
            }
        }
    }

    let purchase_days =
        |i: i64| -> Vec<i64> { (0..=300).rev().step_by(14 + 7 * i as usize).collect() };
    let spent = |i: i64| -> i64 {
        purchase_days(i)
            .iter()
            .map(|d| 1_000_000 * (i + 1) + (d % 5) * 100_000)
            .sum()
    };
    let biggest = (0..8).max_by_key(|&i| spent(i)).unwrap();
    // Manual ratings (the latest counts) and a trial that has not reached an order.
    let top_path = format!("/api/v1/customers/{}", steady[biggest as usize]);
    for (rating, day) in [(2, 40), (5, 10)] {
        let (status, body) = app
            .post(&format!("{top_path}/assessments"), &admin,
                  json!({"department": "sales", "topic": "industry_influence", "rating": rating, "assessed_on": days_ago(day)}))
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
    }
    let (status, body) = app
        .post(&format!("{top_path}/product-trials"), &admin,
              json!({"product_code": "NEW-1", "product_name": "New press", "inquired_on": days_ago(20)}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");

    let run = app.segment(&admin, json!({})).await;
    assert_eq!(run["policy_version"], 0);
    assert_eq!(run["as_of"], company_today());
    assert_eq!(run["excluded_orders"], 1, "{run}");
    assert_eq!(run["progress"], json!({"processed": 43, "total": 43}));
    assert!(run["started_at"].is_string() && run["finished_at"].is_string());
    assert_eq!(run["error"], Value::Null);
    let models = &run["models"];
    assert_eq!(models["time_unit"], "week", "{run}");
    let bg = &models["bg_nbd"];
    for key in ["r", "alpha", "a", "b"] {
        let value = bg[key].as_f64().unwrap_or_else(|| panic!("{models}"));
        assert!(value > 0.0, "{models}");
    }
    assert!(bg["log_likelihood"].as_f64().unwrap() < 0.0, "{models}");
    assert_eq!(bg["customers"], 42, "every customer who bought: {models}");
    let repeaters = models["gamma_gamma"]["customers"].as_i64().unwrap();
    assert!(
        (11..42).contains(&repeaters),
        "those with repeats: {models}"
    );

    // The biggest buyer: class A, rank 1, its own purchases as the measure.
    let top = app.value(&admin, &steady[biggest as usize]).await;
    let run_id = run["id"].as_str().unwrap();
    assert_eq!(top["run_id"], run_id);
    assert_eq!(top["as_of"], company_today());
    assert_eq!(top["abc"]["class"], "A");
    assert_eq!(top["abc"]["rank"], 1, "{top}");
    assert_eq!(top["abc"]["measure_minor"], spent(biggest));
    let purchases = purchase_days(biggest).len() as i64;
    let indicators = top["score"]["indicators"].as_array().unwrap();
    let keys: Vec<&str> = indicators
        .iter()
        .map(|i| i["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        [
            "profit",
            "order_size",
            "order_structure",
            "payment_method",
            "industry_influence",
            "cooperation_years",
            "new_product_success",
            "shipping_efficiency",
            "payment_efficiency",
            "price_sensitivity",
            "communication_efficiency",
            "claim_reasonableness"
        ]
    );
    let profit = &indicators[0];
    assert_eq!(
        profit["input"][0],
        json!({"measure": "profit_rate_pct", "value": 20.0})
    );
    assert_eq!(profit["weight"], 15);
    let influence = &indicators[4];
    assert_eq!(influence["input"][0]["value"], 5.0);
    assert_eq!(influence["score"], 100.0);
    assert_eq!(
        indicators[6]["input"][0],
        json!({"measure": "trial_success_pct", "value": 0.0})
    );
    let structure = &indicators[2];
    assert_eq!(
        structure["input"][0]["value"], 1.0,
        "one product a line: {structure}"
    );
    let price = &indicators[9];
    assert_eq!(price["score"], 50.0);
    assert_eq!(
        price["note"],
        "no data (price_sensitivity_rating): neutral score"
    );
    let total = top["score"]["total"].as_f64().unwrap();
    assert!((0.0..=100.0).contains(&total));
    assert_eq!(top["rfm"]["r"], 5, "{top}");
    let clv = &top["clv"];
    assert_eq!(clv["frequency"], purchases - 1);
    assert!(
        (clv["t"].as_f64().unwrap() - 300.0 / 7.0).abs() < 1e-9,
        "{clv}"
    );
    let p_alive = clv["p_alive"].as_f64().unwrap();
    assert!((p_alive + clv["churn_probability"].as_f64().unwrap() - 1.0).abs() < 1e-12);
    assert!(clv["expected_purchases"].as_f64().unwrap() > 0.0);
    assert!(clv["clv"].as_i64().unwrap() > 0, "{clv}");
    assert!(
        top["quadrant"].is_string() && top["tier"].is_string(),
        "{top}"
    );
    assert_eq!(top["override"], Value::Null);
    assert_eq!(top["grade"], top["score"]["grade"]);

    // Those who stopped a year ago are churning, and their owner has one task each.
    for customer in &gone {
        let value = app.value(&admin, customer).await;
        assert!(value["churn_risk"].as_bool().unwrap(), "{value}");
        assert!(value["clv"]["churn_probability"].as_f64().unwrap() >= 0.5);
    }
    let churn_tasks = |customer: String| {
        let app = &app;
        let admin = admin.clone();
        async move {
            let (status, tasks) = app
                .get(
                    &format!(
                        "/api/v1/tasks?customer_id={customer}&kind=churn_intervention&status=open"
                    ),
                    &admin,
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{tasks}");
            tasks["items"].as_array().unwrap().clone()
        }
    };
    let tasks = churn_tasks(gone[0].clone()).await;
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    assert!(tasks[0]["note"]
        .as_str()
        .unwrap()
        .contains("Churn probability"));
    assert!(churn_tasks(steady[biggest as usize].clone())
        .await
        .is_empty());

    // Two orders in the period, one shipped and claimed against, one with two products.
    let once_value = app.value(&admin, &once).await;
    let inputs = |key: &str| {
        once_value["score"]["indicators"]
            .as_array()
            .unwrap()
            .iter()
            .find(|i| i["key"] == key)
            .unwrap()["input"]
            .clone()
    };
    assert_eq!(inputs("shipping_efficiency")[0]["value"], 2.0);
    assert_eq!(inputs("order_structure")[0]["value"], 1.5);
    assert_eq!(
        inputs("claim_reasonableness"),
        json!([
            {"measure": "claim_rate_pct", "value": 50.0},
            {"measure": "claims_accepted_pct", "value": null},
        ])
    );
    // Never bought: graded C on its (absent) data, no RFM, no lifetime value.
    let nothing = app.value(&admin, &never).await;
    assert_eq!(nothing["abc"]["class"], "C");
    assert_eq!(
        (nothing["rfm"].clone(), nothing["clv"].clone()),
        (Value::Null, Value::Null)
    );

    // The results list the most valuable first, and filter.
    let (status, page) = app
        .get(
            &format!("/api/v1/segmentation/runs/{run_id}/results?abc=A&limit=200"),
            &admin,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{page}");
    let ranks: Vec<i64> = page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["abc"]["rank"].as_i64().unwrap())
        .collect();
    assert!(
        !ranks.is_empty() && ranks.windows(2).all(|w| w[0] < w[1]),
        "{ranks:?}"
    );
    assert_eq!(ranks[0], 1);
    let (_, churning) = app
        .get(
            &format!("/api/v1/segmentation/runs/{run_id}/results?churn_above=0.5"),
            &admin,
        )
        .await;
    let churning = churning["items"].as_array().unwrap();
    for item in churning {
        assert!(item["churn_probability"].as_f64().unwrap() >= 0.5, "{item}");
        assert!(
            !steady.iter().any(|s| item["customer_id"] == s.as_str()),
            "{item}"
        );
    }
    for customer in &gone {
        assert!(churning
            .iter()
            .any(|item| item["customer_id"] == customer.as_str()));
    }
    let (status, body) = app
        .get(
            &format!("/api/v1/segmentation/runs/{run_id}/results?churn_above=2"),
            &admin,
        )
        .await;
    assert_invalid(status, &body, &[("churn_above", "out_of_range")]);

    // The 80/20 report, company-wide for whoever sees every customer.
    let (status, pareto) = app
        .get(
            &format!("/api/v1/segmentation/runs/{run_id}/pareto"),
            &admin,
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{pareto}");
    assert_eq!(pareto["overall"]["customers"], 43);
    assert_eq!(pareto["overall"]["curve"][9]["measure_pct"], 100.0);
    let (_, agent) = app.user(&admin, "agent.p", "agent", None).await;
    let (status, body) = app
        .get(
            &format!("/api/v1/segmentation/runs/{run_id}/pareto"),
            &agent,
        )
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    // An agent sees its own customers' results only: none here.
    let (_, mine) = app
        .get(
            &format!("/api/v1/segmentation/runs/{run_id}/results"),
            &agent,
        )
        .await;
    assert_eq!(mine["items"], json!([]));
    let (status, body) = app
        .post("/api/v1/segmentation/runs", &agent, json!({}))
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");

    // A second run as of today adds no second task while the first is open.
    app.segment(&admin, json!({})).await;
    assert_eq!(churn_tasks(gone[0].clone()).await.len(), 1);
}

/// A run whose runner died part way (its lease run out, some results written) is taken up
/// by one of two instances and done once more from the start: one result per customer, none
/// left from the dead attempt.
#[actix_web::test]
async fn a_run_whose_runner_died_is_done_again_once_by_one_of_two_instances() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let mut customers = Vec::new();
    for i in 0..3 {
        let customer = app.organization(&admin, &format!("Resumed {i}")).await;
        app.bought(&admin, &customer, 30 + 10 * i, 1_000_000 * (i + 1), "CNY")
            .await;
        customers.push(customer);
    }
    let id = app.queue_run(&admin, json!({})).await;
    let (run, stale_customer) = (id.clone(), customers[0].clone());
    let lapsed = (chrono::Utc::now() - chrono::Duration::minutes(5)).naive_utc();
    db_run(&app, move |conn| {
        use diesel::sql_types::{Text, Timestamp};
        use diesel::RunQueryDsl;
        diesel::sql_query(
            "UPDATE jobs SET state = 'running', attempts = 1, runner = 'gone', lease_until = $1 \
             WHERE id = $2",
        )
        .bind::<Timestamp, _>(lapsed)
        .bind::<Text, _>(run.clone())
        .execute(conn)?;
        diesel::sql_query(
            "INSERT INTO segmentation_results (run_id, customer_id, abc_class, abc_rank, \
             measure_minor, score_total, grade, tier, negative_value, detail) \
             VALUES ($1, $2, 'C', 99, 0, 0, 'Z', 'ordinary', FALSE, '{}')",
        )
        .bind::<Text, _>(run)
        .bind::<Text, _>(stale_customer)
        .execute(conn)?;
        Ok(())
    })
    .await;
    let (_first, _second) = (instance(&app), instance(&app));
    let run = app.finished_run(&admin, &id).await;
    assert_eq!(
        run["progress"],
        json!({"processed": 3, "total": 3}),
        "{run}"
    );
    let (status, job) = app.get(&format!("/api/v1/jobs/{id}"), &admin).await;
    assert_eq!(status, StatusCode::OK, "{job}");
    assert_eq!(job["attempts"], 2, "{job}");
    let results = app
        .walk(&format!("/api/v1/segmentation/runs/{id}/results"), &admin)
        .await;
    let mut graded: Vec<(String, String)> = results
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["customer_id"].as_str().unwrap().to_owned(),
                r["grade"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    graded.sort();
    let mut expected = customers.clone();
    expected.sort();
    assert_eq!(
        graded.iter().map(|(c, _)| c.clone()).collect::<Vec<_>>(),
        expected
    );
    assert!(graded.iter().all(|(_, grade)| grade != "Z"), "{graded:?}");
}

#[actix_web::test]
async fn the_same_data_gives_the_same_grade_in_every_unit_whoever_owns_the_customer() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let _runner = instance(&app);
    let north = app.create_unit(&admin, "N").await;
    let south = app.create_unit(&admin, "S").await;
    let (_, agent_n) = app.user(&admin, "agent.n", "agent", Some(&north)).await;
    let (agent_s_id, agent_s) = app.user(&admin, "agent.s", "agent", Some(&south)).await;
    let twin_n = app.organization(&agent_n, "Twin North").await;
    let twin_s = app.organization(&agent_s, "Twin South").await;
    for twin in [&twin_n, &twin_s] {
        for days in [200, 150, 90, 30] {
            app.bought(&admin, twin, days, 2_500_000, "CNY").await;
        }
    }
    app.segment(&admin, json!({})).await;
    let (north_value, south_value) = (
        app.value(&agent_n, &twin_n).await,
        app.value(&agent_s, &twin_s).await,
    );
    for field in ["score", "rfm", "clv", "quadrant", "tier", "grade"] {
        assert_eq!(north_value[field], south_value[field], "{field}");
    }
    assert_eq!(north_value["abc"]["class"], south_value["abc"]["class"]);
    assert_eq!(north_value["abc"]["measure_minor"], 10_000_000);

    // Handing the north twin to the south agent changes no grade.
    let (status, moved) = app
        .post(
            &format!("/api/v1/customers/{twin_n}/transfer"),
            &admin,
            json!({"new_owner_id": agent_s_id, "reason": "handover"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{moved}");
    let after_transfer = app.value(&agent_s, &twin_n).await;
    assert_eq!(after_transfer["grade"], north_value["grade"]);
    app.segment(&admin, json!({})).await;
    let regraded = app.value(&agent_s, &twin_n).await;
    assert_eq!(regraded["score"], north_value["score"]);
    assert_eq!(regraded["grade"], north_value["grade"]);
    // Both runs in the history, a page of one at a time, the latest first.
    let history = app
        .walk(
            &format!("/api/v1/customers/{twin_n}/grades?limit=1"),
            &agent_s,
        )
        .await;
    let runs: Vec<&Value> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["run_id"])
        .collect();
    assert_eq!(runs.len(), 2, "{history}");
    assert_eq!(runs[0], &regraded["run_id"], "{history}");
    // And the north agent no longer sees it.
    let (status, _) = app
        .get(&format!("/api/v1/customers/{twin_n}/value"), &agent_n)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[actix_web::test]
async fn an_override_needs_another_approver_shows_in_the_value_and_the_history() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let _runner = instance(&app);
    let unit = app.create_unit(&admin, "E").await;
    let (_, credit) = app.user(&admin, "credit.m", "credit_manager", None).await;
    let (_, manager) = app
        .user(&admin, "unit.m", "unit_manager", Some(&unit))
        .await;
    let (_, agent) = app.user(&admin, "agent.e", "agent", Some(&unit)).await;
    let customer = app.organization(&agent, "Override Co").await;
    app.bought(&admin, &customer, 30, 1_000_000, "CNY").await;
    let (status, body) = app
        .get(&format!("/api/v1/customers/{customer}/value"), &admin)
        .await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");
    app.segment(&admin, json!({})).await;
    let before = app.value(&admin, &customer).await;
    assert_ne!(before["grade"], "A", "{before}");

    let expires = days_ago(-30);
    let (status, body) = app
        .post("/api/v1/segmentation/overrides", &credit,
              json!({"customer_id": customer, "grade": "Z", "reason": " ", "expires_on": days_ago(1)}))
        .await;
    assert_invalid(
        status,
        &body,
        &[
            ("grade", "unknown_key"),
            ("reason", "required"),
            ("expires_on", "out_of_range"),
        ],
    );
    let (status, body) = app
        .post("/api/v1/segmentation/overrides", &agent,
              json!({"customer_id": customer, "grade": "A", "reason": "key account", "expires_on": expires}))
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, asked) = app
        .post("/api/v1/segmentation/overrides", &credit,
              json!({"customer_id": customer, "grade": "A", "reason": "sole distributor in the region", "expires_on": expires}))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{asked}");
    assert_eq!(asked["status"], "pending");
    let approve = format!(
        "/api/v1/segmentation/overrides/{}/approve",
        asked["id"].as_str().unwrap()
    );
    // Pending: the rules' grade still stands.
    assert_eq!(app.value(&admin, &customer).await["grade"], before["grade"]);
    let (status, body) = app.post(&approve, &credit, json!({})).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "same_person");
    let (status, body) = app.post(&approve, &agent, json!({})).await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, approved) = app.post(&approve, &manager, json!({})).await;
    assert_eq!(status, StatusCode::OK, "{approved}");
    assert_eq!(approved["status"], "approved");
    let (status, body) = app.post(&approve, &admin, json!({})).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "invalid_transition");
    // The audit trail: who asked for what and why, then who approved.
    let trail = app
        .walk(
            &format!(
                "/api/v1/segmentation/overrides/{}/history",
                asked["id"].as_str().unwrap()
            ),
            &agent,
        )
        .await;
    let trail = trail.as_array().unwrap();
    assert_eq!(trail.len(), 2, "{trail:?}");
    assert_eq!(trail[0]["action"], "created");
    assert_eq!(trail[0]["actor_id"], asked["requested_by"]);
    let set = |entry: &Value, field: &str| {
        entry["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["field"] == field)
            .map(|c| c["new"].clone())
    };
    assert_eq!(set(&trail[0], "grade"), Some(json!("A")));
    assert_eq!(
        set(&trail[0], "reason"),
        Some(json!("sole distributor in the region"))
    );
    assert_eq!(trail[1]["actor_id"], approved["approved_by"]);
    assert_eq!(set(&trail[1], "status"), Some(json!("approved")));

    let after = app.value(&agent, &customer).await;
    assert_eq!(after["grade"], "A");
    assert_eq!(after["tier"], "vip");
    assert_eq!(after["service"]["visit_every_days"], 14);
    assert_eq!(
        after["override"]["reason"],
        "sole distributor in the region"
    );
    assert_eq!(
        after["score"], before["score"],
        "the rules' explanation stays"
    );

    // Lost to a competitor: the value names the reason and what it calls for.
    let (status, body) = app
        .post(
            &format!("/api/v1/customers/{customer}/loss"),
            &agent,
            json!({"reason": "bored", "lost_on": days_ago(-1)}),
        )
        .await;
    assert_problem(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    let (status, loss) = app
        .post(
            &format!("/api/v1/customers/{customer}/loss"),
            &agent,
            json!({"reason": "competitor", "note": "cheaper offer"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{loss}");
    let lost = app.value(&agent, &customer).await["loss"].clone();
    assert_eq!(lost["reason"], "competitor");
    assert_eq!(lost["lost_on"], company_today());
    assert!(
        lost["treatment"]
            .as_str()
            .unwrap()
            .starts_with("compare the offer"),
        "{lost}"
    );

    let history = app
        .walk(
            &format!("/api/v1/customers/{customer}/grades?limit=1"),
            &agent,
        )
        .await;
    assert_eq!(history.as_array().unwrap().len(), 1, "{history}");
    assert_eq!(history[0]["grade"], before["grade"]);
    let overrides = app
        .walk(
            &format!("/api/v1/customers/{customer}/grade-overrides?limit=1"),
            &agent,
        )
        .await;
    assert_eq!(overrides.as_array().unwrap().len(), 1, "{overrides}");
    assert_eq!(overrides[0]["status"], "approved");
}

#[actix_web::test]
async fn a_published_policy_is_a_new_version_and_runs_name_theirs() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let _runner = instance(&app);
    let response = app
        .request(
            reqwest::Method::GET,
            "/api/v1/segmentation/policy",
            Some(&admin),
        )
        .send()
        .await
        .unwrap();
    let etag = response.headers()["etag"].to_str().unwrap().to_owned();
    let (status, policy) = read(response).await;
    assert_eq!(status, StatusCode::OK, "{policy}");
    assert_eq!(policy["version"], 0);
    assert_eq!(policy["churn"]["threshold"], 0.5);
    assert_eq!(policy["lifetime"]["time_unit"], "week");
    assert_eq!(policy["abc"]["a_pct"], 70);
    let mut next = policy.clone();
    for key in ["version", "updated_at", "updated_by"] {
        next.as_object_mut().unwrap().remove(key);
    }
    let mut broken = next.clone();
    broken["score"]["grades"][3]["min_score"] = json!(10);
    broken["churn"]["threshold"] = json!(1.5);
    let (status, body) = app
        .put_if_match("/api/v1/segmentation/policy", &admin, broken, &etag)
        .await;
    assert_invalid(
        status,
        &body,
        &[
            ("score.grades", "invalid_value"),
            ("churn.threshold", "out_of_range"),
        ],
    );
    next["abc"]["a_pct"] = json!(50);
    let (_, credit) = app.user(&admin, "credit.p", "credit_manager", None).await;
    let (_, agent) = app.user(&admin, "agent.p", "agent", None).await;
    let (status, body) = app
        .put_if_match("/api/v1/segmentation/policy", &agent, next.clone(), &etag)
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, body) = app
        .put_if_match("/api/v1/segmentation/policy", &credit, next.clone(), &etag)
        .await;
    assert_problem(status, &body, StatusCode::FORBIDDEN, "forbidden");
    let (status, published) = app
        .put_if_match("/api/v1/segmentation/policy", &admin, next.clone(), &etag)
        .await;
    assert_eq!(status, StatusCode::OK, "{published}");
    assert_eq!(
        (
            published["version"].clone(),
            published["abc"]["a_pct"].clone()
        ),
        (json!(1), json!(50))
    );
    let (status, body) = app
        .put_if_match("/api/v1/segmentation/policy", &admin, next, &etag)
        .await;
    assert_problem(
        status,
        &body,
        StatusCode::PRECONDITION_FAILED,
        "version_mismatch",
    );

    let (_, original) = app
        .get("/api/v1/segmentation/policy/versions/0", &admin)
        .await;
    assert_eq!(original["abc"]["a_pct"], 70);
    let (_, first) = app
        .get("/api/v1/segmentation/policy/versions/1", &agent)
        .await;
    assert_eq!(first["abc"]["a_pct"], 50);
    let (status, body) = app
        .get("/api/v1/segmentation/policy/versions/2", &admin)
        .await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");

    let customer = app.organization(&admin, "Versioned").await;
    app.bought(&admin, &customer, 10, 100_000, "CNY").await;
    let run = app.segment(&admin, json!({"as_of": days_ago(1)})).await;
    assert_eq!(run["policy_version"], 1);
    assert_eq!(run["as_of"], days_ago(1));
    assert_eq!(app.value(&admin, &customer).await["policy_version"], 1);
    let (status, body) = app
        .post(
            "/api/v1/segmentation/runs",
            &admin,
            json!({"as_of": days_ago(-1)}),
        )
        .await;
    assert_invalid(status, &body, &[("as_of", "in_future")]);
    let (status, runs) = app.get("/api/v1/segmentation/runs", &agent).await;
    assert_eq!(status, StatusCode::OK, "{runs}");
    assert_eq!(runs["items"][0]["id"], run["id"]);
}

/// A customer whose only order is today has no history for the models to read; its value
/// still reads, whatever the run stored for it.
#[actix_web::test]
async fn the_value_of_a_customer_whose_only_order_is_today_reads() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let _runner = instance(&app);
    for n in 0..4 {
        let regular = app.organization(&admin, &format!("Regular {n}")).await;
        for days in [300, 200, 120, 40 + n] {
            app.bought(&admin, &regular, days, 1_000_000 + n * 10_000, "CNY")
                .await;
        }
    }
    let newcomer = app.organization(&admin, "Newcomer").await;
    app.bought(&admin, &newcomer, 0, 500_000, "CNY").await;
    app.segment(&admin, json!({})).await;
    let value = app.value(&admin, &newcomer).await;
    assert_eq!(value["abc"]["measure_minor"], 500_000, "{value}");
    let clv = &value["clv"];
    for member in ["p_alive", "churn_probability", "expected_purchases"] {
        assert!(
            clv.is_null() || clv[member].is_f64(),
            "{member} of {clv} is not a number"
        );
    }
}

/// Runs are bounded: the same run asked again while it waits answers 409 with its
/// `Location`, and at most three runs wait company-wide (429 with `Retry-After` beyond).
/// Nothing here runs them (no job runner), so they stay queued.
#[actix_web::test]
async fn the_same_run_is_queued_once_and_at_most_three_wait() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let ask = |as_of: String| {
        app.request(
            reqwest::Method::POST,
            "/api/v1/segmentation/runs",
            Some(&admin),
        )
        .json(&json!({ "as_of": as_of }))
        .send()
    };
    let first = app.queue_run(&admin, json!({"as_of": days_ago(1)})).await;
    let again = ask(days_ago(1)).await.unwrap();
    let location = again.headers()["location"].to_str().unwrap().to_owned();
    let (status, body) = read(again).await;
    assert_problem(status, &body, StatusCode::CONFLICT, "run_in_progress");
    assert_eq!(location, format!("/api/v1/segmentation/runs/{first}"));
    app.queue_run(&admin, json!({"as_of": days_ago(2)})).await;
    app.queue_run(&admin, json!({"as_of": days_ago(3)})).await;
    let full = ask(days_ago(4)).await.unwrap();
    let retry_after = full.headers()["retry-after"].to_str().unwrap().to_owned();
    let (status, body) = read(full).await;
    assert_problem(
        status,
        &body,
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_runs",
    );
    assert_eq!(retry_after, "60");
    let runs = app.walk("/api/v1/segmentation/runs", &admin).await;
    assert_eq!(runs.as_array().unwrap().len(), 3, "{runs}");
}

/// Results of superseded runs are purged beyond the policy's `keep_runs` of their scope; the
/// runs themselves stay readable.
#[actix_web::test]
async fn results_of_superseded_runs_are_purged_beyond_the_policys_retention() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let _runner = instance(&app);
    let (_, mut policy) = app.get("/api/v1/segmentation/policy", &admin).await;
    let etag = format!("\"{}\"", policy["version"]);
    for stamp in ["version", "updated_at", "updated_by"] {
        policy.as_object_mut().unwrap().remove(stamp);
    }
    assert_eq!(policy["keep_runs"], 24);
    policy["keep_runs"] = json!(1);
    let (status, body) = app
        .put_if_match("/api/v1/segmentation/policy", &admin, policy, &etag)
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let customer = app.organization(&admin, "Kept").await;
    app.bought(&admin, &customer, 10, 100_000, "CNY").await;
    let first = app.segment(&admin, json!({"as_of": days_ago(2)})).await;
    let first_results = format!(
        "/api/v1/segmentation/runs/{}/results",
        first["id"].as_str().unwrap()
    );
    assert_eq!(
        app.walk(&first_results, &admin)
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let second = app.segment(&admin, json!({"as_of": days_ago(1)})).await;
    assert_eq!(app.walk(&first_results, &admin).await, json!([]));
    let second_results = format!(
        "/api/v1/segmentation/runs/{}/results",
        second["id"].as_str().unwrap()
    );
    assert_eq!(
        app.walk(&second_results, &admin)
            .await
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let (status, run) = app
        .get(
            &format!(
                "/api/v1/segmentation/runs/{}",
                first["id"].as_str().unwrap()
            ),
            &admin,
        )
        .await;
    assert_eq!(
        (status, &run["state"]),
        (StatusCode::OK, &json!("succeeded"))
    );
    let history = app
        .walk(&format!("/api/v1/customers/{customer}/grades"), &admin)
        .await;
    assert_eq!(history.as_array().unwrap().len(), 1, "{history}");
}
