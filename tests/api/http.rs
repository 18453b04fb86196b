//! HTTP conventions: problem+json for every failure, 404/405/408/413/414/415/431,
//! idempotency keys.

use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::common::*;

#[actix_web::test]
async fn unknown_routes_and_wrong_methods() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let (status, body) = app.get("/api/v1/nothing-here", &admin).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");
    let response = app
        .request(Method::PUT, "/api/v1/customers", Some(&admin))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["allow"], "GET, HEAD, POST");
    let (status, body) = read(response).await;
    assert_problem(
        status,
        &body,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    );
    let id = uuid::Uuid::new_v4();
    let response = app
        .request(
            Method::PUT,
            &format!("/api/v1/customers/{id}"),
            Some(&admin),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["allow"], "GET, HEAD, PATCH, DELETE");
    let (status, body) = app.get(&format!("/api/v1/customers/{id}"), &admin).await;
    assert_problem(status, &body, StatusCode::NOT_FOUND, "not_found");
    let (status, body) = app.get("/api/v1/customers/not-a-uuid", &admin).await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "invalid_path");
    // A literal route beside a templated one: the method is wrong, not the id.
    let response = app
        .request(Method::PATCH, "/api/v1/leads/funnel", Some(&admin))
        .send()
        .await
        .unwrap();
    assert_eq!(response.headers()["allow"], "GET, HEAD");
    let (status, body) = read(response).await;
    assert_problem(
        status,
        &body,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    );
}

#[actix_web::test]
async fn only_steps_may_leave_out_their_body_and_an_empty_cursor_is_the_first_page() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let unit = app.create_unit(&admin, "SZ").await;
    let response = app
        .request(
            Method::PATCH,
            &format!("/api/v1/sales-units/{unit}"),
            Some(&admin),
        )
        .header("If-Match", "*")
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_problem(
        status,
        &body,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    let customer = app
        .customer(&admin, json!({"kind": "person", "legal_name": "A"}))
        .await;
    let refresh = format!(
        "/api/v1/customers/{}/credit-data-refresh",
        customer["id"].as_str().unwrap()
    );
    let (status, _) = read(
        app.request(Method::POST, &refresh, Some(&admin))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    // Generated clients send the JSON content type even with no body.
    let (status, _) = read(
        app.request(Method::POST, &refresh, Some(&admin))
            .header("content-type", "application/json")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = read(
        app.request(Method::POST, &refresh, Some(&admin))
            .header("content-type", "text/plain")
            .body("x")
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_problem(
        status,
        &body,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    for list in [
        "/api/v1/customers",
        "/api/v1/orders",
        "/api/v1/leads",
        "/api/v1/tasks",
    ] {
        let (status, body) = app.get(&format!("{list}?cursor="), &admin).await;
        assert_eq!(status, StatusCode::OK, "{list}: {body}");
    }
}

#[actix_web::test]
async fn bodies_must_be_json_of_at_most_one_mebibyte() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let post = |body: Vec<u8>, content_type: &'static str| {
        app.request(Method::POST, "/api/v1/customers", Some(&admin))
            .header("content-type", content_type)
            .body(body)
            .send()
    };
    let (status, body) = read(
        post(b"{\"kind\": ".to_vec(), "application/json")
            .await
            .unwrap(),
    )
    .await;
    assert_problem(status, &body, StatusCode::BAD_REQUEST, "malformed_json");
    let (status, body) = read(
        post(b"kind=person".to_vec(), "application/x-www-form-urlencoded")
            .await
            .unwrap(),
    )
    .await;
    assert_problem(
        status,
        &body,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    let mut huge = b"{\"kind\":\"person\",\"legal_name\":\"".to_vec();
    huge.extend(std::iter::repeat_n(b'x', 1 << 20));
    huge.extend(b"\"}");
    let (status, body) = read(post(huge, "application/json").await.unwrap()).await;
    assert_problem(
        status,
        &body,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    );
    let (status, _) = read(
        post(
            br#"{"kind":"person","legal_name":"ok"}"#.to_vec(),
            "application/json; charset=utf-8",
        )
        .await
        .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED);
}

/// A body that trickles in is cut off with 408 once the body timeout passes (its connection
/// freed, nothing written); an over-long URI is 414 and an over-long header section 431, all
/// problem+json.
#[actix_web::test]
async fn trickling_bodies_and_over_long_heads_are_refused() {
    use std::io::{Read, Write};
    let app = TestApp::spawn_with(|s| s.body_timeout = std::time::Duration::from_secs(1)).await;
    let admin = app.admin_token().await;
    let address = app.base.trim_start_matches("http://").to_owned();
    let head = format!(
        "POST /api/v1/customers HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {admin}\r\n\
         Content-Type: application/json\r\nContent-Length: 40\r\n\r\n"
    );
    let answer = actix_web::web::block(move || {
        let mut stream = std::net::TcpStream::connect(&address).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(br#"{"kind":"person","#).unwrap();
        let started = std::time::Instant::now();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        (answer, started.elapsed())
    })
    .await
    .unwrap();
    let (answer, waited) = answer;
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"body_timeout\""), "{answer}");
    assert!(waited < std::time::Duration::from_secs(5), "{waited:?}");
    let (_, listed) = app.get("/api/v1/customers", &admin).await;
    assert_eq!(listed["items"], json!([]), "nothing was written");

    let long_query = format!("/api/v1/customers?q={}", "a".repeat(9000));
    let (status, body) = app.get(&long_query, &admin).await;
    assert_problem(status, &body, StatusCode::URI_TOO_LONG, "uri_too_long");
    let response = app
        .request(Method::GET, "/api/v1/customers", Some(&admin))
        .header("x-padding", "p".repeat(17 * 1024))
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_problem(
        status,
        &body,
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "headers_too_large",
    );
}

#[actix_web::test]
async fn an_idempotency_key_replays_the_first_answer() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let body = json!({"kind": "person", "legal_name": "Retry Me"});
    let send = |key: &'static str, body: serde_json::Value| {
        app.request(Method::POST, "/api/v1/customers", Some(&admin))
            .header("Idempotency-Key", key)
            .json(&body)
            .send()
    };
    let first = send("key-1", body.clone()).await.unwrap();
    assert_eq!(first.status(), StatusCode::CREATED);
    let first_location = first.headers()["location"].clone();
    let first_body: serde_json::Value = first.json().await.unwrap();
    let again = send("key-1", body.clone()).await.unwrap();
    assert_eq!(again.status(), StatusCode::CREATED);
    assert_eq!(again.headers()["location"], first_location);
    assert_eq!(again.headers()["etag"], "\"1\"");
    assert_eq!(again.json::<serde_json::Value>().await.unwrap(), first_body);
    let (status, problem) = read(
        send(
            "key-1",
            json!({"kind": "person", "legal_name": "Different"}),
        )
        .await
        .unwrap(),
    )
    .await;
    assert_problem(
        status,
        &problem,
        StatusCode::UNPROCESSABLE_ENTITY,
        "idempotency_key_reused",
    );
    let (_, page) = app.get("/api/v1/customers", &admin).await;
    assert_eq!(
        page["items"].as_array().unwrap().len(),
        1,
        "one record for three requests"
    );

    // A request that failed leaves its key free for a corrected retry.
    let (status, _) = read(
        send("key-2", json!({"kind": "person", "legal_name": ""}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
    let (status, _) = read(
        send("key-2", json!({"kind": "person", "legal_name": ""}))
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);

    let response = app
        .request(Method::POST, "/api/v1/customers", Some(&admin))
        .header("Idempotency-Key", "x".repeat(256))
        .json(&body)
        .send()
        .await
        .unwrap();
    let (status, problem) = read(response).await;
    assert_problem(status, &problem, StatusCode::BAD_REQUEST, "invalid_header");
}

#[actix_web::test]
async fn parallel_retries_with_one_key_make_one_record() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let body = json!({"kind": "person", "legal_name": "Parallel"});
    let requests = (0..8).map(|_| {
        app.request(Method::POST, "/api/v1/customers", Some(&admin))
            .header("Idempotency-Key", "same")
            .json(&body)
            .send()
    });
    let responses = futures_util::future::join_all(requests).await;
    let mut created = 0;
    for response in responses {
        let status = response.unwrap().status();
        assert!(
            status == StatusCode::CREATED || status == StatusCode::CONFLICT,
            "{status}"
        );
        created += usize::from(status == StatusCode::CREATED);
    }
    assert!(created >= 1);
    let (_, page) = app.get("/api/v1/customers", &admin).await;
    assert_eq!(page["items"].as_array().unwrap().len(), 1);
}

#[actix_web::test]
async fn parallel_patches_with_one_if_match_have_one_winner() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let created = app
        .customer(&admin, json!({"kind": "person", "legal_name": "Contested"}))
        .await;
    let path = format!("/api/v1/customers/{}", created["id"].as_str().unwrap());
    let requests = (0..8).map(|i| {
        app.request(Method::PATCH, &path, Some(&admin))
            .header("If-Match", "\"1\"")
            .json(&json!({"region": format!("r{i}")}))
            .send()
    });
    let statuses: Vec<StatusCode> = futures_util::future::join_all(requests)
        .await
        .into_iter()
        .map(|r| r.unwrap().status())
        .collect();
    let winners = statuses.iter().filter(|s| **s == StatusCode::OK).count();
    assert_eq!(winners, 1, "{statuses:?}");
    let stale = statuses
        .iter()
        .filter(|s| **s == StatusCode::PRECONDITION_FAILED)
        .count();
    assert_eq!(
        stale, 7,
        "the losers learn the record moved on: {statuses:?}"
    );
    let (_, now) = app.get(&path, &admin).await;
    assert_eq!(now["version"], 2);
}

#[actix_web::test]
async fn parallel_patches_without_a_version_all_apply_in_turn() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let created = app
        .customer(&admin, json!({"kind": "person", "legal_name": "Busy"}))
        .await;
    let path = format!("/api/v1/customers/{}", created["id"].as_str().unwrap());
    let requests = (0..8).map(|i| {
        app.request(Method::PATCH, &path, Some(&admin))
            .header("If-Match", "*")
            .json(&json!({"region": format!("r{i}")}))
            .send()
    });
    for response in futures_util::future::join_all(requests).await {
        assert_eq!(response.unwrap().status(), StatusCode::OK);
    }
    let (_, now) = app.get(&path, &admin).await;
    assert_eq!(now["version"], 9, "eight changes, none lost");
    let history = app.walk(&format!("{path}/history"), &admin).await;
    assert_eq!(history.as_array().unwrap().len(), 9);
}

#[actix_web::test]
async fn an_unreachable_database_is_503_problem_json_not_a_hang() {
    // Nothing listens on port 1: every connection attempt is refused at once.
    let url = credo_store::DatabaseUrl::parse("postgres://postgres@127.0.0.1:1/credo").unwrap();
    let options = credo_store::PoolOptions {
        max_connections: 2,
        acquire_timeout: std::time::Duration::from_millis(500),
    };
    let state = credo_api::state::AppState {
        db: credo_store::Db::connect_lazy(&url, &options),
        keys: credo_api::auth::TokenKeys::new(
            JWT_SECRET.as_bytes(),
            std::time::Duration::from_secs(60),
        ),
        refresh_token_ttl: std::time::Duration::from_secs(60),
        session_lifetime: std::time::Duration::from_secs(60),
        body_timeout: std::time::Duration::from_secs(30),
        cors_origins: Vec::new(),
        principals: Default::default(),
        company: Default::default(),
        hashing: Default::default(),
        feed: Default::default(),
        api_key_pepper: b"pepper".to_vec(),
        limits: credo_api::limits::RateLimits::new(Default::default()),
        webhooks_allow_private: false,
    };
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    actix_web::rt::spawn(credo_api::serve(state, listener, 1).unwrap());
    let client = reqwest::Client::new();
    let token =
        credo_api::auth::TokenKeys::new(JWT_SECRET.as_bytes(), std::time::Duration::from_secs(60))
            .issue(uuid::Uuid::new_v4());

    assert_eq!(
        client
            .get(format!("{base}/health"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK,
        "the process is up"
    );
    for (method, path, token) in [
        (Method::GET, "/ready", None),
        (Method::GET, "/api/v1/me", Some(token.as_str())),
        (Method::POST, "/api/v1/auth/login", None),
    ] {
        let started = std::time::Instant::now();
        let mut request = client
            .request(method.clone(), format!("{base}{path}"))
            .json(&json!({"username": "admin", "password": "whatever-it-is"}));
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        let (status, body) = read(request.send().await.unwrap()).await;
        assert_problem(
            status,
            &body,
            StatusCode::SERVICE_UNAVAILABLE,
            "database_unavailable",
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(2),
            "{method} {path} took {:?}",
            started.elapsed()
        );
        assert!(
            !body["detail"].as_str().unwrap().contains("127.0.0.1"),
            "no internal cause leaks: {body}"
        );
    }
}

#[actix_web::test]
async fn unstorable_values_are_refused_at_the_door() {
    // PostgreSQL stores no NUL in text and no date before 4713 BC; both backends answer the
    // same 4xx instead of a 500.
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let response = app
        .request(Method::POST, "/api/v1/auth/login", None)
        .json(&json!({"username": "ad\u{0}min", "password": "x"}))
        .send()
        .await
        .unwrap();
    let (status, body) = read(response).await;
    assert_invalid(status, &body, &[("username", "control_character")]);
    let (status, body) = app
        .post(
            "/api/v1/customers",
            &admin,
            json!({"kind": "person", "legal_name": "A", "tags": ["ok", "n\u{0}ul"]}),
        )
        .await;
    assert_eq!(
        error_fields(&body),
        [("tags[1]".into(), "control_character".into())],
        "{status}"
    );
    let (status, body) = app
        .post(
            "/api/v1/tasks",
            &admin,
            json!({"kind": "call", "title": "t", "due_on": "-5000-01-01"}),
        )
        .await;
    assert_eq!(
        error_fields(&body),
        [("due_on".into(), "out_of_range".into())],
        "{status}"
    );
    for query in [
        "q=a%00b",
        "industry=%00",
        "tag=x%00",
        "updated_since=-5000-01-01T00:00:00Z",
    ] {
        let (status, body) = app.get(&format!("/api/v1/customers?{query}"), &admin).await;
        assert_problem(status, &body, StatusCode::BAD_REQUEST, "invalid_query");
    }
}

#[actix_web::test]
async fn every_answer_names_its_request_id_and_problems_repeat_it() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let id_of = |response: &reqwest::Response| {
        response.headers()["x-request-id"]
            .to_str()
            .unwrap()
            .to_owned()
    };
    // Generated when the request has none: a UUID, different each time.
    let first = app
        .request(Method::GET, "/health", None)
        .send()
        .await
        .unwrap();
    let second = app
        .request(Method::GET, "/health", None)
        .send()
        .await
        .unwrap();
    let (first, second) = (id_of(&first), id_of(&second));
    assert!(uuid::Uuid::parse_str(&first).is_ok(), "{first}");
    assert_ne!(first, second);
    // Taken from a proxy's header, and quoted in the problem body, whichever layer refused:
    // a handler (404), an extractor (bad JSON), the authenticator (401).
    let refusals = [
        app.request(
            Method::GET,
            &format!("/api/v1/customers/{}", uuid::Uuid::new_v4()),
            Some(&admin),
        ),
        app.request(Method::POST, "/api/v1/customers", Some(&admin))
            .header("content-type", "application/json")
            .body("{not json"),
        app.request(Method::GET, "/api/v1/me", Some("not-a-token")),
    ];
    for (n, request) in refusals.into_iter().enumerate() {
        let chosen = format!("edge-proxy.7f3a-{n}");
        let response = request
            .header("X-Request-Id", &chosen)
            .send()
            .await
            .unwrap();
        assert_eq!(id_of(&response), chosen);
        let (status, body) = read(response).await;
        assert!(status.is_client_error(), "{status}");
        assert_eq!(body["request_id"], chosen.as_str(), "{body}");
    }
    // An unusable one (too long, or with characters unsafe in logs) is replaced.
    for unusable in ["x".repeat(129), "a b\"c".to_owned()] {
        let response = app
            .request(Method::GET, "/health", None)
            .header("X-Request-Id", &unusable)
            .send()
            .await
            .unwrap();
        assert!(uuid::Uuid::parse_str(&id_of(&response)).is_ok());
    }
}

#[actix_web::test]
async fn listed_browser_origins_may_call_the_api_and_others_may_not() {
    const FRONTEND: &str = "https://crm.example.com";
    let app = TestApp::spawn_with(|s| s.cors_origins = vec![FRONTEND.into()]).await;
    let admin = app.admin_token().await;
    let preflight = |origin: &str| {
        app.request(Method::OPTIONS, "/api/v1/customers", None)
            .header("Origin", origin)
            .header("Access-Control-Request-Method", "POST")
            .header(
                "Access-Control-Request-Headers",
                "authorization, content-type, idempotency-key",
            )
            .send()
    };
    let allowed = preflight(FRONTEND).await.unwrap();
    assert!(allowed.status().is_success(), "{}", allowed.status());
    let headers = allowed.headers();
    assert_eq!(headers["access-control-allow-origin"], FRONTEND);
    assert!(headers["access-control-allow-methods"]
        .to_str()
        .unwrap()
        .contains("POST"));
    let allowed_headers = headers["access-control-allow-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    assert!(
        allowed_headers.contains("idempotency-key"),
        "{allowed_headers}"
    );

    let response = app
        .request(Method::GET, "/api/v1/me", Some(&admin))
        .header("Origin", FRONTEND)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["access-control-allow-origin"], FRONTEND);
    let exposed = response.headers()["access-control-expose-headers"]
        .to_str()
        .unwrap()
        .to_lowercase();
    for header in ["etag", "location", "retry-after", "x-request-id"] {
        assert!(exposed.contains(header), "{header} not in {exposed}");
    }

    let refused = preflight("https://evil.example").await.unwrap();
    assert!(!refused
        .headers()
        .contains_key("access-control-allow-origin"));

    // Without configured origins no answer carries CORS headers.
    let closed = TestApp::spawn().await;
    let response = closed
        .request(Method::GET, "/health", None)
        .header("Origin", FRONTEND)
        .send()
        .await
        .unwrap();
    assert!(!response
        .headers()
        .contains_key("access-control-allow-origin"));
}

#[actix_web::test]
async fn head_answers_wherever_get_does_without_a_body() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "Acme").await;
    let path = format!("/api/v1/customers/{customer}");
    let get = app
        .request(Method::GET, &path, Some(&admin))
        .send()
        .await
        .unwrap();
    let (etag, length) = (
        get.headers()["etag"].clone(),
        get.bytes().await.unwrap().len(),
    );
    let head = app
        .request(Method::HEAD, &path, Some(&admin))
        .send()
        .await
        .unwrap();
    assert_eq!(head.status(), StatusCode::OK);
    assert_eq!(head.headers()["etag"], etag);
    assert_eq!(
        head.headers()["content-length"],
        length.to_string().as_str()
    );
    assert!(head.bytes().await.unwrap().is_empty());
    for path in ["/health", "/api/v1/customers?limit=5", "/api/v1/me"] {
        let head = app
            .request(Method::HEAD, path, Some(&admin))
            .send()
            .await
            .unwrap();
        assert_eq!(head.status(), StatusCode::OK, "{path}");
    }
    let refused = app
        .request(Method::HEAD, "/api/v1/customers/x", Some(&admin))
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let allow = app
        .request(Method::PUT, &path, Some(&admin))
        .send()
        .await
        .unwrap();
    assert_eq!(allow.status(), StatusCode::METHOD_NOT_ALLOWED);
    assert!(allow.headers()["allow"].to_str().unwrap().contains("HEAD"));
}

/// Dates are written YYYY-MM-DD and lie from 1800 to 2999, in bodies and queries alike: a
/// line valid from 9999-12-31 (whose end would fall in year 10000) is refused on its field on
/// both databases, never stored or answered with a 500.
#[actix_web::test]
async fn dates_are_strict_and_bounded_on_both_databases() {
    let app = TestApp::spawn().await;
    let admin = app.admin_token().await;
    let customer = app.organization(&admin, "三亚湾酒店").await;
    let line = |valid_from: &str| {
        json!({"customer_id": customer, "currency": "CNY", "limit_minor": 1_000,
               "term_days": 60, "reason": "旧系统额度", "valid_from": valid_from})
    };
    for (day, code) in [
        ("9999-12-31", "out_of_range"),
        ("2026-1-1", "invalid_value"),
        ("+2026-01-01", "invalid_value"),
    ] {
        let (status, refused) = app
            .post("/api/v1/credit/agreements", &admin, line(day))
            .await;
        assert_invalid(status, &refused, &[("valid_from", code)]);
    }
    let (status, refused) = app
        .get("/api/v1/receivables/ageing?as_of=2026-1-1", &admin)
        .await;
    assert_problem(status, &refused, StatusCode::BAD_REQUEST, "invalid_query");
    let (status, granted) = app
        .post("/api/v1/credit/agreements", &admin, line("2999-01-01"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{granted}");
    assert_eq!(granted["valid_to"], "2999-12-31", "{granted}");
}

/// The conventions and every problem code reach an integrator who has only the server, with
/// no token; Swagger UI still answers beside them.
#[actix_web::test]
async fn the_conventions_and_the_problem_codes_are_served() {
    let app = TestApp::spawn().await;
    let get = |path: &'static str| app.request(Method::GET, path, None).send();
    let conventions = get("/docs/conventions").await.unwrap();
    assert_eq!(conventions.status(), StatusCode::OK);
    assert!(conventions.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/markdown"));
    let text = conventions.text().await.unwrap();
    assert_eq!(text, include_str!("../../docs/API.md"));
    let errors = get("/docs/errors").await.unwrap().text().await.unwrap();
    for row in [
        "| `credit_limit_exceeded` | 409 |",
        "| `conflict` | 409 |",
        "| `validation_failed` | 422 |",
        "- `too_large`",
    ] {
        assert!(errors.contains(row), "{row} in {errors}");
    }
    let swagger = get("/docs/index.html").await.unwrap();
    assert_eq!(swagger.status(), StatusCode::OK);
}
