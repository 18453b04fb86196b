//! Names that look the same are the same: keys fold Unicode compatibility forms (NFKC) and
//! drop invisible format characters; stored text refuses bidirectional overrides; keys stored
//! under an older rule are recomputed when a server starts.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};
use reqwest::StatusCode;
use serde_json::json;

use crate::common::*;

fn lead(company: &str) -> serde_json::Value {
    json!({"company_name": company, "contact_name": "Nguyen Van An", "channel": "trade_fair"})
}

#[actix_web::test]
async fn look_alike_names_are_one_name_and_bidi_overrides_are_refused() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let known = app.organization(&admin, "Hanoi Steel Works").await;
    for disguised in [
        "Ｈａｎｏｉ　Ｓｔｅｅｌ　Ｗｏｒｋｓ",
        "Hanoi\u{200B} Steel Wo\u{00AD}rks",
        "\u{FEFF}HANOI STEEL WORKS",
    ] {
        let (status, body) = app.post("/api/v1/leads", &admin, lead(disguised)).await;
        assert_problem(status, &body, StatusCode::CONFLICT, "duplicate_lead");
        assert_eq!(body["existing_id"], json!(known), "{disguised:?}");
    }
    let (_, found) = app
        .get(
            "/api/v1/customers?q=%EF%BC%B3%EF%BD%94%EF%BD%85%EF%BD%85%EF%BD%8C",
            &admin,
        )
        .await;
    assert_eq!(
        found["items"][0]["id"],
        json!(known),
        "full-width Ｓｔｅｅｌ"
    );

    let (status, body) = app
        .post(
            "/api/v1/customers",
            &admin,
            json!({"kind": "organization", "legal_name": "Invoice\u{202E}fdp.exe", "tags": ["ok"]}),
        )
        .await;
    assert_problem(
        status,
        &body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    assert_eq!(
        error_fields(&body),
        [("legal_name".to_owned(), "bidi_control".to_owned())]
    );
    let (_, listed) = app.get("/api/v1/customers", &admin).await;
    assert_eq!(
        listed["items"].as_array().unwrap().len(),
        1,
        "nothing written"
    );
}

#[derive(QueryableByName)]
struct Keys {
    #[diesel(sql_type = Text)]
    first: String,
    #[diesel(sql_type = Text)]
    second: String,
}

/// Keys stored under an older rule (here: made stale by hand, and the rule set back) are
/// recomputed by the next server that starts on the database, and the rule is recorded.
#[actix_web::test]
async fn keys_stored_under_an_older_rule_are_recomputed_at_start() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app
        .organization(&admin, "Ｈａｎｏｉ Steel\u{200B} Works")
        .await;
    let (status, _) = app
        .post(
            &format!("/api/v1/customers/{customer}/contacts"),
            &admin,
            json!({"name": "Ｎｇｕｙｅｎ Van An"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = app
        .post("/api/v1/leads", &admin, lead("Saigon\u{00AD} Pumps"))
        .await;
    assert_eq!(status, StatusCode::CREATED);

    let db = credo_store::Db::connect(app.database_url(), &Default::default()).unwrap();
    let stale = db.clone();
    actix_web::web::block(move || {
        stale.run(|conn| {
            for statement in [
                "UPDATE customers SET search_key = 'stale', name_key = 'stale'",
                "UPDATE contacts SET search_key = 'stale'",
                "UPDATE leads SET company_key = 'stale', contact_key = 'stale'",
                "UPDATE name_key_rule SET version = 1",
            ] {
                diesel::sql_query(statement).execute(conn)?;
            }
            Ok(())
        })
    })
    .await
    .unwrap()
    .unwrap();

    app.another_instance(|_| {}).await;

    let (keys, rule) = actix_web::web::block(move || {
        db.run(|conn| {
            let mut keys = Vec::new();
            for query in [
                "SELECT search_key AS first, name_key AS second FROM customers",
                "SELECT search_key AS first, name AS second FROM contacts",
                "SELECT company_key AS first, contact_key AS second FROM leads",
            ] {
                let rows: Vec<Keys> = diesel::sql_query(query).load(conn)?;
                keys.extend(rows.into_iter().map(|k| (k.first, k.second)));
            }
            #[derive(QueryableByName)]
            struct Rule {
                #[diesel(sql_type = BigInt)]
                version: i64,
            }
            let rule: Rule =
                diesel::sql_query("SELECT version FROM name_key_rule").get_result(conn)?;
            Ok((keys, rule.version))
        })
    })
    .await
    .unwrap()
    .unwrap();
    let pairs = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    };
    assert_eq!(
        keys,
        pairs(&[
            ("hanoi steel works", "hanoi steel works"),
            ("nguyen van an", "Ｎｇｕｙｅｎ Van An"),
            ("saigon pumps", "nguyen van an"),
        ])
    );
    assert!(rule >= 2, "the rule is recorded: {rule}");
}
