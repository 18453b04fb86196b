//! The warning list: suits, arrears on non-credit and credit sales, listings by hand; seen
//! by every role whoever owns the customer; listed and lifted by hand with a reason, audited.

use chrono::{Days, Months, NaiveDate};
use diesel::sql_types::BigInt;
use diesel::{QueryableByName, RunQueryDsl};
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::common::*;
use crate::jobs::db_run;

/// An open item of `customer` for 10.00, issued and due as given.
fn item(customer: &str, reference: &str, issued_on: NaiveDate, due_on: NaiveDate) -> Value {
    json!({"customer_id": customer, "currency": "CNY", "amount_minor": 1000,
           "issued_on": issued_on, "due_on": due_on, "reference": reference})
}

/// The list as `token` sees it, page by page of two: (name, [(code, since)]) in list order.
/// A customer's name and its reasons, (code, since).
type Entry = (String, Vec<(String, String)>);

async fn listed(app: &TestApp, token: &str) -> Vec<Entry> {
    let mut entries = Vec::new();
    let mut path = "/api/v1/receivables/warning-list?limit=2".to_owned();
    loop {
        let (status, page) = app.get(&path, token).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page["items"].as_array().unwrap().len() <= 2);
        for entry in page["items"].as_array().unwrap() {
            let reasons = entry["reasons"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        r["code"].as_str().unwrap().to_owned(),
                        r["since"].as_str().unwrap().to_owned(),
                    )
                })
                .collect();
            entries.push((entry["name"].as_str().unwrap().to_owned(), reasons));
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => {
                path = format!("/api/v1/receivables/warning-list?limit=2&cursor={cursor}")
            }
            None => return entries,
        }
    }
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[actix_web::test]
async fn the_list_names_every_reason_to_every_unit_and_is_kept_by_hand() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, credit) = app
        .user(&admin, "wang.credit", "credit_manager", None)
        .await;
    let (_, agent) = app.user(&admin, "li.agent", "agent", None).await;
    let today: NaiveDate = company_today().parse().unwrap();
    let ago = |days| today - Days::new(days);

    let suit = |customer: String, on: NaiveDate| {
        let app = &app;
        let admin = &admin;
        async move {
            let (status, event) = app
                .post(
                    &format!("/api/v1/customers/{customer}/events"),
                    admin,
                    json!({"kind": "litigation", "occurred_on": on, "department": "credit",
                           "description": "货款纠纷起诉"}),
                )
                .await;
            assert_eq!(status, StatusCode::CREATED, "{event}");
        }
    };
    let sued = app.organization(&admin, "新诉公司").await;
    suit(sued.clone(), ago(10)).await;
    let old_case = app.organization(&admin, "旧案公司").await;
    suit(old_case.clone(), ago(200)).await;
    let cash = app.organization(&admin, "现款公司").await;
    let cash_day = ago(200);
    app.item(&admin, item(&cash, "N-1", cash_day, cash_day))
        .await;
    app.item(&admin, item(&cash, "N-2", ago(100), ago(100)))
        .await;
    let late = app.organization(&admin, "逾期公司").await;
    app.item(&admin, item(&late, "C-1", ago(100), ago(40)))
        .await;
    app.item(&admin, item(&late, "C-2", ago(50), ago(20))).await;
    let paid = app.organization(&admin, "已付公司").await;
    let paid_item = app
        .item(&admin, item(&paid, "P-1", ago(100), ago(60)))
        .await;
    let payment = app.payment(&admin, &paid, 1000, &today.to_string()).await;
    let (status, _) = app
        .allocate(&admin, &payment, &paid_item, 1000, &today.to_string())
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let by_hand = app.organization(&admin, "人工公司").await;
    let path = |customer: &str| format!("/api/v1/receivables/warning-list/{customer}");

    let (status, refused) = app
        .post(&path(&by_hand), &agent, json!({"reason": "x"}))
        .await;
    assert_problem(status, &refused, StatusCode::FORBIDDEN, "forbidden");
    let (status, refused) = app
        .post(&path(&by_hand), &credit, json!({"reason": " "}))
        .await;
    assert_invalid(status, &refused, &[("reason", "required")]);
    let (status, missing) = app
        .post(
            &path(&uuid::Uuid::now_v7().to_string()),
            &credit,
            json!({"reason": "x"}),
        )
        .await;
    assert_problem(status, &missing, StatusCode::NOT_FOUND, "not_found");
    let (status, change) = app
        .post(
            &path(&by_hand),
            &credit,
            json!({"reason": "法院强制执行中"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{change}");
    assert_eq!(
        json!([change["listed"], change["reason"], change["on"]]),
        json!([true, "法院强制执行中", today])
    );

    // (customer id, entry as listed) for each customer expected on the list.
    let entry = |customer: &String, name: &str, code: &str, since: NaiveDate| {
        let reasons = vec![(code.to_owned(), since.to_string())];
        (customer.clone(), (name.to_owned(), reasons))
    };
    let mut expected = vec![
        entry(&sued, "新诉公司", "lawsuit", ago(10)),
        entry(&old_case, "旧案公司", "unresolved_case", ago(200)),
        entry(
            &cash,
            "现款公司",
            "non_credit_arrears",
            cash_day + Months::new(6),
        ),
        entry(
            &late,
            "逾期公司",
            "overdue_credit_sale",
            ago(40) + Days::new(30),
        ),
        entry(&by_hand, "人工公司", "listed", today),
    ];
    expected.sort();
    let render = |expected: &[(String, Entry)]| -> Vec<Entry> {
        expected.iter().map(|(_, entry)| entry.clone()).collect()
    };
    // An agent who owns none of them sees every entry.
    assert_eq!(listed(&app, &agent).await, render(&expected));

    // Lifting closes the old case and the listing by hand; arrears stay until paid.
    for customer in [&old_case, &by_hand, &late] {
        let (status, change) = app
            .post(
                &format!("{}/lift", path(customer)),
                &credit,
                json!({"reason": "已结案"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{change}");
        assert_eq!(change["listed"], false);
    }
    expected.retain(|(customer, _)| *customer != old_case && *customer != by_hand);
    assert_eq!(listed(&app, &admin).await, render(&expected));
    let audited = db_run(&app, |conn| {
        Ok(diesel::sql_query(
            "SELECT count(*) AS n FROM audit_log WHERE entity_type = 'warning_list'",
        )
        .get_result::<Count>(conn)?
        .n)
    })
    .await;
    assert_eq!(audited, 4);
}

/// "A month overdue" is one rule: an item due thirty days ago blocks the credit check, lists
/// its customer and reaches dunning's blacklist level on the same day; one due twenty-nine
/// days ago does none of these.
#[actix_web::test]
async fn a_month_overdue_is_one_day_for_the_check_the_list_and_dunning() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let today: NaiveDate = company_today().parse().unwrap();
    let mut customers = Vec::new();
    for (name, days) in [("Thirty days", 30), ("Twenty-nine days", 29)] {
        let customer = app.organization(&admin, name).await;
        let due = today - Days::new(days);
        app.item(&admin, item(&customer, name, due - Days::new(60), due))
            .await;
        app.carried_over_line(&admin, &customer, "CNY", 1_000_000)
            .await;
        customers.push(customer);
    }
    let mut checked = Vec::new();
    for customer in &customers {
        let (status, check) = app
            .post(
                "/api/v1/credit/check",
                &admin,
                json!({"customer_id": customer, "amount_minor": 1, "currency": "CNY",
                       "stage": "order"}),
            )
            .await;
        assert_eq!(status, StatusCode::OK, "{check}");
        let mut codes: Vec<String> = check["reasons"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["code"].as_str().unwrap().to_owned())
            .collect();
        codes.sort();
        checked.push((check["decision"].as_str().unwrap().to_owned(), codes));
    }
    // A month overdue blocks, and lists the customer, which blocks too.
    let owned = |codes: &[&str]| codes.iter().map(|c| c.to_string()).collect::<Vec<_>>();
    assert_eq!(
        checked,
        [
            (
                "block".to_owned(),
                owned(&["blacklisted", "overdue_beyond_threshold"])
            ),
            ("warn".to_owned(), owned(&["overdue"]))
        ]
    );
    let since = today.to_string();
    assert_eq!(
        listed(&app, &admin).await,
        [(
            "Thirty days".to_owned(),
            vec![("overdue_credit_sale".to_owned(), since)]
        )]
    );
    let _runner = crate::dunning::runner(&app).await;
    let run = app.dun(&admin, Some(today), false).await;
    let mut levels: Vec<(String, String)> = run["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["customer_id"].as_str().unwrap().to_owned(),
                a["level"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    levels.sort_by_key(|(customer, _)| customers.iter().position(|c| c == customer));
    assert_eq!(
        levels,
        [
            (customers[0].clone(), "blacklist".to_owned()),
            (customers[1].clone(), "written_demand".to_owned())
        ]
    );
}
