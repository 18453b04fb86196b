//! Lists written out whole as CSV and NDJSON: the same rows as walking every page, in the
//! same order and scope, each cell what the documented column names, streamed past many
//! chunks.

use futures_util::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

use crate::common::*;
use crate::jobs::instance;
use crate::receivables::receivable_body;

/// Every row of a file answer: the status, the Content-Type and the body.
async fn download(
    app: &TestApp,
    path: &str,
    token: &str,
    accept: &str,
) -> (StatusCode, String, Vec<u8>) {
    let response = app
        .request(Method::GET, path, Some(token))
        .header("accept", accept)
        .send()
        .await
        .unwrap();
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (
        status,
        content_type,
        response.bytes().await.unwrap().to_vec(),
    )
}

/// The value a CSV cell must hold for `column` of `record`, worked out here from the
/// documented rules: a dotted path into nested objects, a list of plain values joined with
/// `|`, anything else structured as JSON, null or absent as nothing.
fn expected_cell(record: &Value, column: &str) -> String {
    let mut value = record;
    for field in column.split('.') {
        match value.get(field) {
            Some(inner) => value = inner,
            None => return String::new(),
        }
    }
    let plain = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match value {
        Value::Null => String::new(),
        Value::Array(items) if items.iter().all(|i| !i.is_array() && !i.is_object()) => {
            items.iter().map(plain).collect::<Vec<_>>().join("|")
        }
        other => plain(other),
    }
}

/// The columns the spec documents for `operation`'s CSV answer.
fn documented_columns(spec: &Value, path: &str) -> Vec<String> {
    let csv = &spec["paths"][path]["get"]["responses"]["200"]["content"]["text/csv"];
    let description = csv["schema"]["description"].as_str().unwrap();
    let (_, columns) = description.split_once("Columns: ").unwrap();
    columns.split(',').map(str::to_owned).collect()
}

/// Checks the CSV and NDJSON exports of `path` against walking its pages as `token`;
/// answers the number of rows.
async fn export_matches_pages(
    app: &TestApp,
    spec: &Value,
    template: &str,
    path: &str,
    token: &str,
) -> usize {
    let pages = app.walk(path, token).await;
    let pages = pages.as_array().unwrap();

    let (status, content_type, body) = download(app, path, token, "application/x-ndjson").await;
    assert_eq!(status, StatusCode::OK, "{path}");
    assert_eq!(content_type, "application/x-ndjson", "{path}");
    let lines: Vec<Value> = String::from_utf8(body)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(&lines, pages, "{path}: NDJSON differs from the pages");

    let (status, content_type, body) = download(app, path, token, "text/csv").await;
    assert_eq!(status, StatusCode::OK, "{path}");
    assert_eq!(content_type, "text/csv; charset=utf-8", "{path}");
    let mut reader = csv::Reader::from_reader(body.as_slice());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    let columns = documented_columns(spec, template);
    assert_eq!(
        header, columns,
        "{path}: the header is not the documented columns"
    );
    let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
    assert_eq!(rows.len(), pages.len(), "{path}");
    for (row, record) in rows.iter().zip(pages) {
        for (column, cell) in columns.iter().zip(row.iter()) {
            assert_eq!(
                cell,
                expected_cell(record, column),
                "{path}: {column} of {record}"
            );
        }
    }
    pages.len()
}

#[actix_web::test]
async fn every_exporting_list_answers_its_pages_rows_as_csv_and_ndjson() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (_, me) = app.get("/api/v1/me", &admin).await;
    let me = me["id"].as_str().unwrap().to_owned();
    let customer = app
        .customer(
            &admin,
            json!({"kind": "organization", "legal_name": "深圳市华强电子有限公司, \"南山\"",
                   "tags": ["vip", "north"], "emails": ["buy@huaqiang.example"]}),
        )
        .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let c = format!("/api/v1/customers/{customer}");
    let (status, contact) = app
        .post(
            &format!("{c}/contacts"),
            &admin,
            json!({"name": "王经理", "title": "采购\n经理"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{contact}");
    let (status, interaction) = app
        .post(
            &format!("{c}/interactions"),
            &admin,
            json!({"channel": "call", "direction": "outbound", "summary": "询价, 下月下单",
                   "participants": {"user_ids": [me], "contact_ids": [contact["id"]]}}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{interaction}");
    let order = app
        .order(&admin, crate::orders::order_body(&customer, "2026-01-10"))
        .await;
    for step in ["confirm", "ship", "invoice"] {
        let (status, body) = app.step(&admin, &order, step).await;
        assert_eq!(status, StatusCode::OK, "{step}: {body}");
    }
    app.item(&admin, receivable_body(&customer, "INV-OLD-1", 5_000_000))
        .await;
    app.payment(&admin, &customer, 1_000_000, "2026-02-01")
        .await;
    let today = company_today();
    let (status, task) = app
        .post(
            "/api/v1/tasks",
            &admin,
            json!({"kind": "call", "title": "催款", "due_on": today, "assignee_id": me, "customer_id": customer}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{task}");
    let tomorrow = chrono::Utc::now() + chrono::Duration::days(1);
    let (status, visit) = app
        .post(
            "/api/v1/visits",
            &admin,
            json!({"customer_id": customer, "agent_id": me, "planned_at": tomorrow, "purpose": "对账"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{visit}");
    let (status, lead) = app
        .post(
            "/api/v1/leads",
            &admin,
            json!({"company_name": "广州新能源有限公司", "contact_name": "李总", "channel": "trade_fair"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{lead}");
    let _runner = instance(&app);
    let run = app.segment(&admin, json!({})).await;
    let run = run["id"].as_str().unwrap();

    let spec: Value = app.get("/api/v1/openapi.json", &admin).await.1;
    let mut exported = Vec::new();
    for (template, item) in spec["paths"].as_object().unwrap() {
        let get = &item["get"];
        if get["responses"]["200"]["content"]["text/csv"].is_null() {
            continue;
        }
        let path = template
            .replace("/customers/{id}", &format!("/customers/{customer}"))
            .replace("/runs/{id}", &format!("/runs/{run}"));
        let rows = export_matches_pages(&app, &spec, template, &path, &admin).await;
        assert!(
            rows > 0 || path.contains("warning-list"),
            "{path} exported nothing"
        );
        exported.push(get["operationId"].as_str().unwrap().to_owned());
    }
    exported.sort();
    assert_eq!(
        exported,
        [
            "getWarningList",
            "listContacts",
            "listCustomers",
            "listInteractions",
            "listLeads",
            "listMyTasks",
            "listMyVisits",
            "listOrders",
            "listPayments",
            "listReceivables",
            "listSegmentationResults",
            "listTasks",
        ]
    );
}

#[actix_web::test]
async fn an_export_is_the_whole_list_in_its_sort_and_scope_past_many_chunks() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "SZ").await;
    let (_, agent) = app.user(&admin, "agent.sz", "agent", Some(&unit)).await;
    let (_, other) = app.user(&admin, "agent.gz", "agent", Some(&unit)).await;
    // More than two chunks of the agent's, and some of another agent's it must not see.
    let mine: Vec<Value> = (0..1100)
        .map(|i| card(&format!("Fair company {i:04}")))
        .collect();
    for chunk in mine.chunks(1000) {
        let (status, result) = app
            .post("/api/v1/leads:batch", &agent, json!({"leads": chunk}))
            .await;
        assert_eq!(status, StatusCode::OK, "{result}");
    }
    let theirs: Vec<Value> = (0..30)
        .map(|i| card(&format!("Other company {i}")))
        .collect();
    app.post("/api/v1/leads:batch", &other, json!({"leads": theirs}))
        .await;

    let path = "/api/v1/leads?sort=created_at&order=asc";
    let walked: Vec<String> = app
        .walk(path, &agent)
        .await
        .as_array()
        .unwrap()
        .iter()
        .map(|lead| lead["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(walked.len(), 1100);
    let (status, _, body) = download(&app, path, &agent, "text/csv").await;
    assert_eq!(status, StatusCode::OK);
    let mut reader = csv::Reader::from_reader(body.as_slice());
    let ids: Vec<String> = reader
        .records()
        .map(|row| row.unwrap().get(0).unwrap().to_owned())
        .collect();
    assert_eq!(
        ids, walked,
        "the export's rows are not the pages' rows in order"
    );

    // Concurrent downloads each get the whole list.
    let downloads =
        join_all((0..4).map(|_| download(&app, path, &agent, "application/x-ndjson"))).await;
    for (status, _, body) in downloads {
        assert_eq!(status, StatusCode::OK);
        assert_eq!(String::from_utf8(body).unwrap().lines().count(), 1100);
    }

    // `bom` starts the file with a UTF-8 byte order mark, for Excel.
    let (_, _, body) = download(&app, &format!("{path}&bom=true"), &agent, "text/csv").await;
    assert!(
        body.starts_with("\u{feff}id,".as_bytes()),
        "{:?}",
        &body[..8]
    );
    // A `bom` that is no boolean is refused, with a file asked for or a page.
    for accept in ["text/csv", "application/json"] {
        let (status, _, body) = download(&app, "/api/v1/leads?bom=null", &agent, accept).await;
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_problem(status, &body, StatusCode::BAD_REQUEST, "invalid_query");
        assert_eq!(error_fields(&body)[0].0, "bom", "{body}");
    }
    // A bad filter is refused as for a page, with the file asked for.
    let (status, _, body) = download(&app, "/api/v1/leads?sort=nonsense", &agent, "text/csv").await;
    let body: Value = serde_json::from_slice(&body).unwrap();
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "invalid_query");
}

fn card(company: &str) -> Value {
    json!({"company_name": company, "contact_name": "Buyer", "channel": "trade_fair"})
}
