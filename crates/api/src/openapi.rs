//! The OpenAPI document: metadata written here, operations collected from the same
//! `service(...)` registrations that route requests, and the error responses every operation
//! shares added in one place from what the operation takes (auth, path ids, query, body).

use std::collections::BTreeSet;

use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::link::LinkBuilder;
use utoipa::openapi::path::{Operation, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBody;
use utoipa::openapi::response::{Response, ResponseBuilder};
use utoipa::openapi::schema::{AllOfBuilder, ArrayItems, ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{Components, ContentBuilder, HttpMethod, OpenApi, Ref, RefOr, Required};
use utoipa::{Modify, OpenApi as _, ToSchema};

use crate::error::{ErrorCode, Problem, PROBLEM_JSON};

#[derive(utoipa::OpenApi)]
#[openapi(
    info(
        title = "Credo API",
        description = "Customer relationship and credit management for companies that sell on credit \
                       through several offices. Conventions (errors, pagination, ETags, idempotency, \
                       separation of duties): [/docs/conventions](/docs/conventions); every problem \
                       code: [/docs/errors](/docs/errors).",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    servers((url = "/", description = "This server")),
    tags(
        (name = "system", description = "Liveness, readiness and this document"),
        (name = "auth", description = "Login, token refresh and logout"),
        (name = "directory", description = "Users and sales units"),
        (name = "jobs", description = "Background jobs: long work started with 202 and a Location"),
        (name = "company", description = "The company's settings (currency, time zone, fiscal year) and exchange rates"),
        (name = "customers", description = "The unified customer file"),
        (name = "contacts", description = "People at a customer"),
        (name = "notes", description = "Source-tagged notes and subjective assessments"),
        (name = "activity", description = "Interactions, field visits, tasks and the customer timeline"),
        (name = "leads", description = "Leads, MAN qualification, the sales funnel and its report"),
        (name = "orders", description = "Sales orders, their status steps, claims and new-product trials"),
        (name = "receivables", description = "Open items, payments and their allocation, credit notes, write-offs; ageing and the bad-debt allowance as of any day"),
        (name = "credit", description = "Financial statements and their analysis, the characteristic template and the credit policy; evaluations, applications with maker-checker approval, agreements"),
        (name = "api-keys", description = "Keys integration scripts authenticate with, each acting as one user"),
        (name = "webhooks", description = "Standard Webhooks: receivers of events, their secrets, delivery logs, replays and tests"),
        (name = "changes", description = "The change feed: what changed since a device last synced, deletions and moves out of view included"),
        (name = "dunning", description = "Dunning levels and the runs that give each customer its highest level due"),
        (name = "segmentation", description = "One versioned rule set for ABC, the twelve-indicator value score, RFM, lifetime value and churn, quadrants and service tiers; runs, customer values and grade overrides"),
    ),
    components(schemas(Problem)),
    modifiers(&Security)
)]
pub struct ApiDoc;

struct Security;

impl Modify for Security {
    fn modify(&self, api: &mut OpenApi) {
        let components = api.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .build(),
            ),
        );
    }
}

/// The shared problem responses, by component name: (name, error codes it stands for).
const SHARED: &[(&str, &[ErrorCode])] = &[
    (
        "BadRequest",
        &[
            ErrorCode::MalformedJson,
            ErrorCode::InvalidQuery,
            ErrorCode::InvalidPath,
            ErrorCode::InvalidHeader,
            ErrorCode::InvalidCursor,
        ],
    ),
    ("Unauthorized", &[ErrorCode::Unauthenticated]),
    ("Forbidden", &[ErrorCode::Forbidden]),
    ("NotFound", &[ErrorCode::NotFound]),
    (
        "Conflict",
        &[
            ErrorCode::ConcurrentUpdate,
            ErrorCode::IdempotencyInProgress,
            ErrorCode::Conflict,
        ],
    ),
    (
        "CustomerFileConflict",
        &[
            ErrorCode::CustomerArchived,
            ErrorCode::ConcurrentUpdate,
            ErrorCode::IdempotencyInProgress,
            ErrorCode::Conflict,
        ],
    ),
    ("RequestTimeout", &[ErrorCode::BodyTimeout]),
    ("UriTooLong", &[ErrorCode::UriTooLong]),
    ("HeadersTooLarge", &[ErrorCode::HeadersTooLarge]),
    ("PayloadTooLarge", &[ErrorCode::PayloadTooLarge]),
    ("UnsupportedMediaType", &[ErrorCode::UnsupportedMediaType]),
    (
        "UnprocessableEntity",
        &[ErrorCode::ValidationFailed, ErrorCode::IdempotencyKeyReused],
    ),
    ("TooManyRequests", &[ErrorCode::RateLimited]),
    ("ServiceUnavailable", &[ErrorCode::DatabaseUnavailable]),
];

/// The headers every authenticated answer carries (draft-ietf-httpapi-ratelimit-headers).
fn rate_limit_headers(response: &mut Response) {
    response.headers.insert(
        "RateLimit-Policy".into(),
        RefOr::T(header(
            Type::String,
            "The caller's quota: `\"default\";q=600;w=60` (requests a minute), or `\"check\"` for the credit check",
        )),
    );
    response.headers.insert(
        "RateLimit".into(),
        RefOr::T(header(
            Type::String,
            "What is left of it: `\"default\";r=599;t=1` (remaining, seconds until it is whole)",
        )),
    );
}

/// The schema component of a shared problem response: `ValidationProblem` for 422,
/// `ConflictProblem` for 409, else the response's name and `Problem`.
fn problem_schema_name(response: &str) -> String {
    match response {
        "UnprocessableEntity" => "ValidationProblem".to_owned(),
        "Conflict" => "ConflictProblem".to_owned(),
        other => format!("{other}Problem"),
    }
}

/// A problem whose `code` is one of `codes` (a client can switch on them): `Problem` narrowed,
/// a named schema so that generated clients get one type per kind of problem, each a
/// `Problem`.
fn problem_schema(codes: &[ErrorCode]) -> Schema {
    let code = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(codes.iter().map(|c| c.as_str())));
    AllOfBuilder::new()
        .item(Ref::from_schema_name(Problem::name()))
        .item(ObjectBuilder::new().property("code", code).required("code"))
        .into()
}

fn problem_response(name: &str, codes: &[ErrorCode]) -> Response {
    let list = codes
        .iter()
        .map(|c| format!("`{}`", c.as_str()))
        .collect::<Vec<_>>()
        .join(", ");
    let schema = Ref::from_schema_name(problem_schema_name(name));
    let mut response = ResponseBuilder::new()
        .description(format!("{} ({list})", codes[0].title()))
        .content(
            PROBLEM_JSON,
            ContentBuilder::new().schema(Some(schema)).build(),
        );
    if codes.contains(&ErrorCode::Unauthenticated) {
        response = response.header(
            "WWW-Authenticate",
            header(Type::String, "`Bearer`: send a valid access token"),
        );
    }
    if codes.contains(&ErrorCode::RateLimited) {
        response = response.header(
            "Retry-After",
            header(Type::Integer, "Seconds until the quota allows a request"),
        );
    }
    if codes.contains(&ErrorCode::Conflict) {
        // Sent with `conflict` only, so not required of the response's other codes.
        response = response.header(
            "Retry-After",
            HeaderBuilder::new()
                .schema(Some(ObjectBuilder::new().schema_type(Type::Integer)))
                .description(Some(
                    "On `conflict`: seconds to wait before sending the request again",
                ))
                .build(),
        );
    }
    response.build()
}

/// The operations that change a customer's file, which an archived customer refuses
/// (`customer_archived`) until restored.
const CUSTOMER_FILE_WRITES: &[&str] = &[
    "patchCustomer",
    "transferCustomer",
    "refreshCustomerCreditData",
    "createCustomerEvent",
    "createContact",
    "patchContact",
    "deleteContact",
    "createNote",
    "createAssessment",
    "createInteraction",
];

fn add_shared(operation: &mut Operation, status: &str, name: &str) {
    operation
        .responses
        .responses
        .entry(status.to_owned())
        .or_insert_with(|| RefOr::Ref(Ref::from_response_name(name)));
}

fn has_params(operation: &Operation, location: ParameterIn) -> bool {
    operation
        .parameters
        .iter()
        .flatten()
        .any(|p| matches!(p, RefOr::T(p) if p.parameter_in == location))
}

/// An optional body (`content = Option<T>`) may be left out, but when sent it is an object:
/// utoipa's `oneOf [T, null]` would invite a `null` body the server refuses.
fn unwrap_optional_body(body: &mut RequestBody) {
    for content in body.content.values_mut() {
        let RefOr::T(content) = content else { continue };
        if let Some(RefOr::T(Schema::OneOf(one_of))) = &content.schema {
            let non_null: Vec<_> = one_of
                .items
                .iter()
                .filter(|item| !matches!(item, RefOr::T(Schema::Object(o)) if o.schema_type == SchemaType::Type(Type::Null)))
                .cloned()
                .collect();
            if let [only] = non_null.as_slice() {
                content.schema = Some(only.clone());
            }
        }
    }
}

/// Whether the operation's 200 answer carries an ETag.
fn sends_etag(operation: &Operation) -> bool {
    matches!(
        operation.responses.responses.get("200"),
        Some(RefOr::T(ok)) if ok.headers.contains_key("ETag")
    )
}

/// Marks every header of a response `required`: a header is declared where the server always
/// sends it. utoipa's `Header` has no `required` member, so it goes in through the flattened
/// extensions.
fn require_headers(response: &mut Response) {
    for header in response.headers.values_mut() {
        let RefOr::T(header) = header else { continue };
        header
            .extensions
            .get_or_insert_with(Default::default)
            .insert("required".to_owned(), true.into());
    }
}

fn header(schema_type: Type, description: &str) -> Header {
    let mut header = HeaderBuilder::new()
        .schema(Some(ObjectBuilder::new().schema_type(schema_type)))
        .description(Some(description))
        .build();
    header.extensions = Some([("required", true)].into_iter().collect());
    header
}

/// A 412 answer carries the record as it is now in `current` and its ETag: typed as the
/// operation's 200 record, so a client can merge without a cast.
fn type_precondition_failed(operation: &mut Operation) {
    let responses = &mut operation.responses.responses;
    let record = match responses.get("200") {
        Some(RefOr::T(ok)) => {
            ok.content
                .get("application/json")
                .and_then(|content| match content {
                    RefOr::T(content) => content.schema.clone(),
                    RefOr::Ref(_) => None,
                })
        }
        _ => None,
    };
    let Some(RefOr::T(failed)) = responses.get_mut("412") else {
        return;
    };
    failed.headers.insert(
        "ETag".to_owned(),
        RefOr::T(header(Type::String, "The ETag of `current`")),
    );
    let Some(record) = record else { return };
    let current = ObjectBuilder::new()
        .property("current", record)
        .required("current");
    let schema = AllOfBuilder::new()
        .item(Ref::from_schema_name(Problem::name()))
        .item(current);
    failed.content.insert(
        PROBLEM_JSON.to_owned(),
        RefOr::T(ContentBuilder::new().schema(Some(schema)).build()),
    );
}

/// Adds to one operation the error responses that follow from its shape.
fn complete_operation(method: &HttpMethod, operation: &mut Operation) {
    type_precondition_failed(operation);
    for response in operation.responses.responses.values_mut() {
        if let RefOr::T(response) = response {
            require_headers(response);
        }
    }
    let secured = operation
        .security
        .as_ref()
        .is_some_and(|s| !s.is_empty() && s.iter().any(|r| r != &Default::default()));
    if !secured {
        // Public: no requirement at all (`[]`), so generated clients ask for no token.
        operation.security = Some(Vec::new());
    }
    if let Some(RefOr::T(body)) = operation.request_body.as_mut() {
        unwrap_optional_body(body);
    }
    let body: Option<&RefOr<RequestBody>> = operation.request_body.as_ref();
    let has_body = body.is_some();
    if has_body
        || has_params(operation, ParameterIn::Query)
        || has_params(operation, ParameterIn::Path)
    {
        add_shared(operation, "400", "BadRequest");
    }
    if secured {
        add_shared(operation, "401", "Unauthorized");
        if *method != HttpMethod::Get {
            add_shared(operation, "403", "Forbidden");
        }
        for (status, response) in operation.responses.responses.iter_mut() {
            match response {
                RefOr::T(response) if status.starts_with('2') => rate_limit_headers(response),
                // An operation's own 429 (a queue, a login throttle) is also the quota's.
                RefOr::T(response) if status == "429" => {
                    response
                        .description
                        .push_str("; or the caller's quota is spent (`rate_limited`)");
                }
                _ => {}
            }
        }
        add_shared(operation, "429", "TooManyRequests");
    }
    if has_params(operation, ParameterIn::Path) {
        add_shared(operation, "404", "NotFound");
    }
    if has_body {
        add_shared(operation, "408", "RequestTimeout");
        add_shared(operation, "413", "PayloadTooLarge");
        add_shared(operation, "415", "UnsupportedMediaType");
        add_shared(operation, "422", "UnprocessableEntity");
    }
    if matches!(
        method,
        HttpMethod::Patch | HttpMethod::Post | HttpMethod::Delete
    ) && secured
    {
        let id = operation.operation_id.as_deref().unwrap_or_default();
        if CUSTOMER_FILE_WRITES.contains(&id) {
            add_shared(operation, "409", "CustomerFileConflict");
        }
        add_shared(operation, "409", "Conflict");
    }
    add_shared(operation, "414", "UriTooLong");
    add_shared(operation, "431", "HeadersTooLarge");
    add_shared(operation, "503", "ServiceUnavailable");
    if *method == HttpMethod::Get && sends_etag(operation) {
        add_shared(operation, "304", "NotModified");
        operation
            .parameters
            .get_or_insert_with(Vec::new)
            .push(RefOr::T(
                ParameterBuilder::new()
                    .name("If-None-Match")
                    .parameter_in(ParameterIn::Header)
                    .required(Required::False)
                    .description(Some(
                        "The ETag of the version you hold: answered 304 with no body while it is current.",
                    ))
                    .schema(Some(
                        utoipa::openapi::ObjectBuilder::new()
                            .schema_type(utoipa::openapi::Type::String)
                            .examples([serde_json::json!("\"1\"")]),
                    ))
                    .build(),
            ));
    }
    for parameter in operation.parameters.iter_mut().flatten() {
        if let RefOr::T(parameter) = parameter {
            if parameter.name == "If-Match" {
                parameter.schema = Some(
                    utoipa::openapi::ObjectBuilder::new()
                        .schema_type(utoipa::openapi::Type::String)
                        .pattern(Some(r#"^(\*|(W/)?"[!#-~]*"( *, *(W/)?"[!#-~]*")*)$"#))
                        .examples([serde_json::json!("\"1\"")])
                        .into(),
                );
            }
        }
    }
    // Every authenticated POST that creates or acts may be retried safely with a key; the
    // auth operations are safe to repeat by themselves.
    let auth = operation.tags.iter().flatten().any(|t| t == "auth");
    if *method == HttpMethod::Post && secured && !auth {
        // The same key with another request is 422 `idempotency_key_reused`.
        add_shared(operation, "422", "UnprocessableEntity");
        let parameters = operation.parameters.get_or_insert_with(Vec::new);
        parameters.push(RefOr::T(
            ParameterBuilder::new()
                .name("Idempotency-Key")
                .parameter_in(ParameterIn::Header)
                .required(Required::False)
                .description(Some(
                    "Makes the request safe to retry: the first answer is replayed for the same key and body \
                     (1 to 255 visible ASCII characters).",
                ))
                .schema(Some(
                    utoipa::openapi::ObjectBuilder::new()
                        .schema_type(utoipa::openapi::Type::String)
                        .min_length(Some(1))
                        .max_length(Some(255))
                        .pattern(Some("^[!-~]{1,255}$")),
                ))
                .build(),
        ));
    }
}

/// utoipa inlines a generic's argument, so each `Page_<Record>` would carry its own copy of
/// the record: each page's items `$ref` the record's component instead (added from the
/// inlined copy where no operation named it), so typed clients get one type per record.
fn refer_page_items(components: &mut Components) {
    let pages: Vec<String> = components
        .schemas
        .keys()
        .filter(|name| name.starts_with("Page_"))
        .cloned()
        .collect();
    for page in pages {
        let record = page.trim_start_matches("Page_").to_owned();
        let Some(RefOr::T(Schema::Object(object))) = components.schemas.get_mut(&page) else {
            continue;
        };
        let Some(RefOr::T(Schema::Array(items))) = object.properties.get_mut("items") else {
            continue;
        };
        let reference = ArrayItems::RefOrSchema(Box::new(Ref::from_schema_name(&record).into()));
        let ArrayItems::RefOrSchema(inlined) = std::mem::replace(&mut items.items, reference)
        else {
            continue;
        };
        components.schemas.entry(record).or_insert(*inlined);
    }
}

/// The path parameters of a path template, in order.
fn path_parameters(path: &str) -> Vec<&str> {
    path.split('/')
        .filter_map(|segment| segment.strip_prefix('{')?.strip_suffix('}'))
        .collect()
}

/// OpenAPI links from each create (a `POST` answered 201) to the operations under the created
/// record's path (below the create's path, or for a record created under its parent, such
/// as `/customers/{id}/product-trials`, below its own collection, `/product-trials`): the new
/// record's `id` fills their last path parameter, the create's own path parameters the
/// others. Clients and stateful fuzzers follow them from a create to reading, changing and
/// stepping what it made.
fn link_creates(api: &mut OpenApi) {
    let mut operations = Vec::new();
    for (path, item) in &api.paths.paths {
        let methods = [&item.get, &item.put, &item.post, &item.patch, &item.delete];
        for operation in methods.into_iter().flatten() {
            if let Some(id) = &operation.operation_id {
                operations.push((path.clone(), id.clone()));
            }
        }
    }
    for (path, item) in api.paths.paths.iter_mut() {
        let Some(create) = item.post.as_mut() else {
            continue;
        };
        let Some(RefOr::T(created)) = create.responses.responses.get_mut("201") else {
            continue;
        };
        let own = path_parameters(path);
        let below = format!("{path}/{{");
        let home = path
            .rsplit_once("}/")
            .map(|(_, collection)| format!("/api/v1/{collection}/{{"));
        for (target_path, target_id) in &operations {
            let Some(rest) = target_path.strip_prefix(&below).or_else(|| {
                home.as_deref()
                    .and_then(|home| target_path.strip_prefix(home))
            }) else {
                continue;
            };
            let Some((new_id, _)) = rest.split_once('}') else {
                continue;
            };
            // A target deeper down needs ids this create does not give: no link to it.
            let filled: Option<Vec<(&str, String)>> = path_parameters(target_path)
                .into_iter()
                .map(|parameter| {
                    if parameter == new_id {
                        Some((parameter, "$response.body#/id".to_owned()))
                    } else {
                        own.contains(&parameter)
                            .then(|| (parameter, format!("$request.path.{parameter}")))
                    }
                })
                .collect();
            let Some(filled) = filled else { continue };
            let link = filled.into_iter().fold(
                LinkBuilder::new().operation_id(target_id.clone()),
                |link, (parameter, value)| link.parameter(parameter, value),
            );
            created
                .links
                .insert(target_id.clone(), RefOr::T(link.build()));
        }
    }
}

/// The component schemas `value` refers to, directly or through others.
fn referenced_schemas(
    value: &serde_json::Value,
    schemas: &serde_json::Value,
    found: &mut BTreeSet<String>,
) {
    match value {
        serde_json::Value::Object(map) => {
            if let Some(name) = map
                .get("$ref")
                .and_then(|r| r.as_str())
                .and_then(|r| r.strip_prefix("#/components/schemas/"))
            {
                if found.insert(name.to_owned()) {
                    referenced_schemas(&schemas[name], schemas, found);
                }
            }
            map.values()
                .for_each(|v| referenced_schemas(v, schemas, found));
        }
        serde_json::Value::Array(list) => list
            .iter()
            .for_each(|v| referenced_schemas(v, schemas, found)),
        _ => {}
    }
}

/// Answered properties a fixed contract has absent rather than `null`: a change feed item's
/// `record` on a delete.
const ABSENT_WHEN_EMPTY: &[(&str, &str)] = &[("ChangeItem", "record")];

/// Every property of a schema that only answers (no request takes it) is always sent, `null`
/// when empty, so it is `required` there: typed clients then need no checks for absence.
/// `Problem` keeps its extension members optional, as RFC 9457 has them, and the properties
/// of `ABSENT_WHEN_EMPTY` stay optional.
fn require_answered_properties(api: &mut OpenApi) {
    let document = serde_json::to_value(&*api).expect("a document serializes");
    let schemas = &document["components"]["schemas"];
    let mut taken = BTreeSet::new();
    for item in document["paths"]
        .as_object()
        .into_iter()
        .flat_map(|p| p.values())
    {
        for operation in item.as_object().into_iter().flat_map(|o| o.values()) {
            referenced_schemas(&operation["requestBody"], schemas, &mut taken);
            referenced_schemas(&operation["parameters"], schemas, &mut taken);
        }
    }
    let Some(components) = api.components.as_mut() else {
        return;
    };
    for (name, schema) in components.schemas.iter_mut() {
        if taken.contains(name) || name == Problem::name().as_ref() {
            continue;
        }
        let objects: Vec<&mut utoipa::openapi::schema::Object> = match schema {
            RefOr::T(Schema::Object(object)) => vec![object],
            RefOr::T(Schema::AllOf(all_of)) => all_of
                .items
                .iter_mut()
                .filter_map(|item| match item {
                    RefOr::T(Schema::Object(object)) => Some(object),
                    _ => None,
                })
                .collect(),
            _ => Vec::new(),
        };
        for object in objects {
            object.required = object
                .properties
                .keys()
                .filter(|property| !ABSENT_WHEN_EMPTY.contains(&(name.as_str(), property.as_str())))
                .cloned()
                .collect();
        }
    }
}

/// Every request body gets an example built from its schema: the members' own examples
/// (and, where a required member has none, the first value of its enum or a value of its
/// type and format), so each operation shows a body it takes without a second, hand-kept
/// copy of the schema drifting from it.
fn exemplify_request_bodies(api: &mut OpenApi) {
    let document = serde_json::to_value(&*api).expect("a document serializes");
    let schemas = &document["components"]["schemas"];
    for (path, item) in api.paths.paths.iter_mut() {
        let operations = [
            ("post", &mut item.post),
            ("put", &mut item.put),
            ("patch", &mut item.patch),
        ];
        for (method, operation) in operations {
            let Some(RefOr::T(body)) = operation.as_mut().and_then(|o| o.request_body.as_mut())
            else {
                continue;
            };
            for (media_type, content) in body.content.iter_mut() {
                let RefOr::T(content) = content else { continue };
                let schema = document
                    .pointer(&format!(
                        "/paths/{}/{method}/requestBody/content/{}/schema",
                        pointer_token(path),
                        pointer_token(media_type)
                    ))
                    .cloned()
                    .unwrap_or_default();
                content.example = example_of(&schema, schemas, true);
            }
        }
    }
}

/// `text` escaped as one JSON Pointer segment (RFC 6901).
fn pointer_token(text: &str) -> String {
    text.replace('~', "~0").replace('/', "~1")
}

/// An example of a value `schema` takes: its own example where it has one; for an object,
/// its required members and those optional scalars with examples; `None` where an optional
/// member has nothing better to show than a made-up value.
fn example_of(
    schema: &serde_json::Value,
    schemas: &serde_json::Value,
    needed: bool,
) -> Option<serde_json::Value> {
    use serde_json::{json, Value};
    if let Some(name) = schema["$ref"].as_str().and_then(|r| r.rsplit('/').next()) {
        return example_of(&schemas[name], schemas, needed);
    }
    if let Some(example) = schema.get("example") {
        return Some(example.clone());
    }
    if let Some(first) = schema["examples"].get(0).or_else(|| schema["enum"].get(0)) {
        return needed.then(|| first.clone());
    }
    if let Some(alternatives) = schema["oneOf"].as_array().or(schema["anyOf"].as_array()) {
        return alternatives
            .iter()
            .filter(|alternative| alternative["type"] != "null")
            .find_map(|alternative| example_of(alternative, schemas, needed));
    }
    if let Some(parts) = schema["allOf"].as_array() {
        let mut merged = serde_json::Map::new();
        for part in parts {
            if let Some(Value::Object(members)) = example_of(part, schemas, needed) {
                merged.extend(members);
            }
        }
        return Some(Value::Object(merged));
    }
    let types: Vec<&str> = match &schema["type"] {
        Value::String(one) => vec![one.as_str()],
        Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    let minimum = schema["minimum"].as_i64().unwrap_or(1).max(1);
    match types.into_iter().find(|t| *t != "null") {
        // An optional part with no example of its own stays out: a body shows one use.
        _ if !needed && schema["properties"].is_object() => None,
        Some("object") => {
            let required = |name: &String| {
                schema["required"]
                    .as_array()
                    .is_some_and(|r| r.iter().any(|n| n == name.as_str()))
            };
            let members = schema["properties"]
                .as_object()
                .into_iter()
                .flatten()
                .filter_map(|(name, member)| {
                    example_of(member, schemas, required(name)).map(|e| (name.clone(), e))
                })
                .collect();
            Some(Value::Object(members))
        }
        Some("array") => {
            let item = example_of(&schema["items"], schemas, needed)?;
            Some(json!([item]))
        }
        _ if !needed => None,
        Some("string") => Some(match schema["format"].as_str() {
            Some("date") => json!("2026-11-30"),
            Some("date-time") => json!("2026-11-30T09:30:00Z"),
            Some("uuid") => json!("0193a6f4-7c1e-7d2a-9b3e-5f2c8a1d4e60"),
            _ => json!("text"),
        }),
        Some("integer") => Some(json!(minimum)),
        Some("number") => Some(json!(minimum)),
        Some("boolean") => Some(json!(false)),
        _ => None,
    }
}

/// Finishes a generated document: shared problem responses and their use by every operation.
pub fn complete(api: &mut OpenApi) {
    link_creates(api);
    exemplify_request_bodies(api);
    let components = api.components.get_or_insert_with(Default::default);
    refer_page_items(components);
    crate::export::document(api);
    require_answered_properties(api);
    let components = api.components.get_or_insert_with(Default::default);
    for (name, codes) in SHARED {
        components
            .schemas
            .insert(problem_schema_name(name), RefOr::T(problem_schema(codes)));
        components
            .responses
            .insert((*name).to_owned(), RefOr::T(problem_response(name, codes)));
    }
    components.responses.insert(
        "NotModified".to_owned(),
        RefOr::T(
            ResponseBuilder::new()
                .description("Not Modified: `If-None-Match` names the current ETag")
                .header("ETag", header(Type::String, "The current ETag"))
                .build(),
        ),
    );
    for item in api.paths.paths.values_mut() {
        let operations = [
            (HttpMethod::Get, &mut item.get),
            (HttpMethod::Post, &mut item.post),
            (HttpMethod::Put, &mut item.put),
            (HttpMethod::Patch, &mut item.patch),
            (HttpMethod::Delete, &mut item.delete),
        ];
        for (method, operation) in operations {
            if let Some(operation) = operation {
                complete_operation(&method, operation);
            }
        }
    }
}

/// The base document before operations are collected.
pub fn base() -> OpenApi {
    ApiDoc::openapi()
}
