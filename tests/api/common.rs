//! The test harness: spawn the server, log in as any role, send requests.

use std::net::TcpListener;
use std::time::Duration;

use credo_api::startup::{prepare, Settings};
use credo_store::DatabaseUrl;
use diesel::{Connection, PgConnection, RunQueryDsl};
use reqwest::{Method, RequestBuilder, Response, StatusCode};
use serde_json::{json, Value};

pub const ADMIN_PASSWORD: &str = "root-password-for-tests";
pub const JWT_SECRET: &str = "test-secret-0123456789abcdef0123456789";
pub const PASSWORD: &str = "a-long-enough-password";

/// Where this test's database lives; dropped with the test.
enum TestDb {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, schema: String },
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let TestDb::Postgres { admin_url, schema } = self {
            if let Ok(mut conn) = PgConnection::establish(admin_url) {
                let _ = diesel::sql_query(format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))
                    .execute(&mut conn);
            }
        }
    }
}

pub struct TestApp {
    pub base: String,
    pub client: reqwest::Client,
    url: DatabaseUrl,
    _db: TestDb,
    /// The admin's access token once logged in, for fixtures that need the admin whoever
    /// the test acts as.
    admin: std::sync::Mutex<Option<String>>,
}

/// The database for one test: a schema of the Postgres test database, or a SQLite file.
fn test_database() -> (DatabaseUrl, TestDb) {
    match std::env::var("CREDO_TEST_POSTGRES_URL") {
        Ok(admin_url) if !admin_url.is_empty() => {
            let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
            let mut conn = PgConnection::establish(&admin_url).unwrap_or_else(|e| {
                panic!("CREDO_TEST_POSTGRES_URL is set but Postgres is unreachable: {e}")
            });
            diesel::sql_query(format!("CREATE SCHEMA {schema}"))
                .execute(&mut conn)
                .expect("create schema");
            let separator = if admin_url.contains('?') { '&' } else { '?' };
            let url = format!("{admin_url}{separator}options=-csearch_path%3D{schema},public");
            (
                DatabaseUrl::parse(&url).expect("postgres url"),
                TestDb::Postgres { admin_url, schema },
            )
        }
        _ => {
            let dir = tempfile::tempdir().expect("temp dir");
            let url = format!("sqlite://{}/credo.db", dir.path().display());
            (
                DatabaseUrl::parse(&url).expect("sqlite url"),
                TestDb::Sqlite(dir),
            )
        }
    }
}

/// Starts a server on `url` and returns its base URL.
async fn start_server(url: DatabaseUrl, adjust: impl FnOnce(&mut Settings)) -> String {
    let mut settings = Settings::new(url);
    settings.admin_password = Some(ADMIN_PASSWORD.into());
    settings.jwt_secret = Some(JWT_SECRET.into());
    settings.pool.max_connections = 4;
    // Many servers start at once on two cores: give the first connection time.
    settings.pool.acquire_timeout = Duration::from_secs(5);
    // Receivers are local test servers; senders run only where a test asks for them.
    settings.webhooks.allow_private = true;
    settings.webhooks.senders = 0;
    settings.webhooks.poll = Duration::from_millis(20);
    adjust(&mut settings);
    let webhooks = settings.webhooks.clone();
    let prepared = actix_web::web::block(move || prepare(&settings))
        .await
        .unwrap()
        .expect("server prepares");
    credo_api::delivery::start(&prepared.state.db, &webhooks).expect("webhook senders start");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().unwrap());
    let server = credo_api::serve(prepared.state, listener, 2).expect("server starts");
    actix_web::rt::spawn(server);
    base
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(|_| {}).await
    }

    /// Starts a server whose settings `adjust` may change (e.g. token lifetimes).
    pub async fn spawn_with(adjust: impl FnOnce(&mut Settings)) -> TestApp {
        let (url, db) = test_database();
        let base = start_server(url.clone(), adjust).await;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        TestApp {
            base,
            client,
            url,
            _db: db,
            admin: std::sync::Mutex::new(None),
        }
    }

    /// This test's database.
    pub fn database_url(&self) -> &DatabaseUrl {
        &self.url
    }

    /// The base URL of another server on this test's database (as a second instance would be).
    pub async fn another_instance(&self, adjust: impl FnOnce(&mut Settings)) -> String {
        start_server(self.url.clone(), adjust).await
    }

    pub fn request(&self, method: Method, path: &str, token: Option<&str>) -> RequestBuilder {
        let builder = self.client.request(method, format!("{}{path}", self.base));
        match token {
            Some(token) => builder.bearer_auth(token),
            None => builder,
        }
    }

    pub async fn send(
        &self,
        method: Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut builder = self.request(method, path, Some(token));
        if let Some(body) = body {
            builder = builder.json(&body);
        }
        read(builder.send().await.expect("request")).await
    }

    pub async fn get(&self, path: &str, token: &str) -> (StatusCode, Value) {
        self.send(Method::GET, path, token, None).await
    }

    /// Every item of a list, page after page (following `next_cursor` to the end), as one
    /// JSON array; each page must be 200.
    pub async fn walk(&self, path: &str, token: &str) -> Value {
        let mut items = Vec::new();
        let mut page_path = path.to_owned();
        loop {
            let (status, page) = self.get(&page_path, token).await;
            assert_eq!(status, StatusCode::OK, "{page_path}: {page}");
            items.extend(page["items"].as_array().expect("a page").iter().cloned());
            match page["next_cursor"].as_str() {
                Some(cursor) => {
                    let join = if path.contains('?') { '&' } else { '?' };
                    page_path = format!("{path}{join}cursor={cursor}");
                }
                None => return Value::Array(items),
            }
        }
    }

    pub async fn post(&self, path: &str, token: &str, body: Value) -> (StatusCode, Value) {
        self.send(Method::POST, path, token, Some(body)).await
    }

    pub async fn patch(&self, path: &str, token: &str, etag: &str, body: Value) -> Response {
        self.request(Method::PATCH, path, Some(token))
            .header("If-Match", etag)
            .json(&body)
            .send()
            .await
            .unwrap()
    }

    /// Replaces the document at `path` if it is still at `etag`.
    pub async fn put_if_match(
        &self,
        path: &str,
        token: &str,
        body: Value,
        etag: &str,
    ) -> (StatusCode, Value) {
        let request = self
            .request(Method::PUT, path, Some(token))
            .header("If-Match", etag)
            .json(&body);
        read(request.send().await.unwrap()).await
    }

    pub async fn login(&self, username: &str, password: &str) -> Response {
        self.request(Method::POST, "/api/v1/auth/login", None)
            .json(&json!({"username": username, "password": password}))
            .send()
            .await
            .unwrap()
    }

    /// Trades a refresh token at `/auth/refresh`.
    pub async fn refresh(&self, refresh_token: &Value) -> (StatusCode, Value) {
        let response = self
            .request(Method::POST, "/api/v1/auth/refresh", None)
            .json(&json!({"refresh_token": refresh_token}))
            .send()
            .await
            .unwrap();
        read(response).await
    }

    /// A token pair for a user; panics if the login fails.
    pub async fn tokens(&self, username: &str, password: &str) -> Value {
        let (status, body) = read(self.login(username, password).await).await;
        assert_eq!(status, StatusCode::OK, "login {username}: {body}");
        body
    }

    pub async fn admin_token(&self) -> String {
        let token = self.tokens("admin", ADMIN_PASSWORD).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        *self.admin.lock().unwrap() = Some(token.clone());
        token
    }

    /// The admin's token: the one logged in last, else a new login.
    pub async fn admin(&self) -> String {
        let cached = self.admin.lock().unwrap().clone();
        match cached {
            Some(token) => token,
            None => self.admin_token().await,
        }
    }

    pub async fn create_unit(&self, admin: &str, code: &str) -> String {
        let (status, body) = self
            .post(
                "/api/v1/sales-units",
                admin,
                json!({"code": code, "name": format!("{code} office")}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        body["id"].as_str().unwrap().to_owned()
    }

    /// Creates a user with a role (and unit) and returns (user id, access token).
    pub async fn user(
        &self,
        admin: &str,
        username: &str,
        role: &str,
        unit: Option<&str>,
    ) -> (String, String) {
        let (status, body) = self
            .post(
                "/api/v1/users",
                admin,
                json!({"username": username, "display_name": username, "role": role, "sales_unit_id": unit, "password": PASSWORD}),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        let token = self.tokens(username, PASSWORD).await["access_token"]
            .as_str()
            .unwrap()
            .to_owned();
        (body["id"].as_str().unwrap().to_owned(), token)
    }

    /// Creates an organization by that name and returns its id.
    pub async fn organization(&self, token: &str, name: &str) -> String {
        self.customer(token, json!({"kind": "organization", "legal_name": name}))
            .await["id"]
            .as_str()
            .unwrap()
            .to_owned()
    }

    /// Creates a customer and returns its body.
    pub async fn customer(&self, token: &str, body: Value) -> Value {
        let (status, created) = self.post("/api/v1/customers", token, body).await;
        assert_eq!(status, StatusCode::CREATED, "{created}");
        created
    }
}

/// Status and JSON body (Null when the body is empty); asserts problem+json on errors.
pub async fn read(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned());
    let text = response.text().await.unwrap();
    if status.is_client_error() || status.is_server_error() {
        assert_eq!(
            content_type.as_deref(),
            Some("application/problem+json"),
            "{status}: {text}"
        );
    }
    let body = if text.is_empty() {
        Value::Null
    } else {
        serde_json::from_str(&text).unwrap_or(Value::String(text))
    };
    (status, body)
}

/// Checks a problem document: status, stable code, and (when given) the offending fields.
pub fn assert_problem(status: StatusCode, body: &Value, expected: StatusCode, code: &str) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["status"], expected.as_u16(), "{body}");
    assert_eq!(body["type"], format!("urn:credo:problem:{code}"));
    assert!(
        body["title"].is_string() && body["detail"].is_string(),
        "{body}"
    );
}

/// The `field` of each entry of a problem's `errors`.
pub fn error_fields(body: &Value) -> Vec<(String, String)> {
    body["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    (
                        e["field"].as_str().unwrap().to_owned(),
                        e["code"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Checks a 422 `validation_failed` whose `errors` are exactly `fields` (field, code), in order.
pub fn assert_invalid(status: StatusCode, body: &Value, fields: &[(&str, &str)]) {
    assert_problem(
        status,
        body,
        StatusCode::UNPROCESSABLE_ENTITY,
        "validation_failed",
    );
    let expected: Vec<(String, String)> = fields
        .iter()
        .map(|(f, c)| (f.to_string(), c.to_string()))
        .collect();
    assert_eq!(error_fields(body), expected, "{body}");
}

/// The calendar day at a fixed offset from UTC now (the zones used here keep no DST).
pub fn day_at(hours: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::hours(hours))
        .date_naive()
        .to_string()
}

/// Today in the default company time zone, Asia/Shanghai (UTC+8 all year): the day the
/// server dates steps and notes by.
pub fn company_today() -> String {
    day_at(8)
}
