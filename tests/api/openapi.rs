//! The committed OpenAPI document is what the server generates, and it is complete.

use serde_json::Value;

const COMMITTED: &str = include_str!("../../openapi/openapi.json");

#[test]
fn committed_spec_matches_the_generated_one() {
    let generated = credo_api::api_spec().to_pretty_json().unwrap();
    assert!(
        generated.trim() == COMMITTED.trim(),
        "openapi/openapi.json is stale: regenerate it with `cargo run -- openapi > openapi/openapi.json`"
    );
}

#[test]
fn every_operation_is_documented_with_id_tag_summary_description_security_and_errors() {
    let spec: Value = serde_json::from_str(COMMITTED).unwrap();
    assert_eq!(spec["openapi"], "3.1.0");
    let mut ids = std::collections::HashSet::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let name = format!("{method} {path}");
            assert!(
                ids.insert(
                    op["operationId"]
                        .as_str()
                        .unwrap_or_else(|| panic!("{name}: operationId"))
                ),
                "{name}: duplicate id"
            );
            assert!(
                op["tags"].as_array().is_some_and(|t| !t.is_empty()),
                "{name}: tag"
            );
            assert!(
                op["summary"].as_str().is_some_and(|s| !s.is_empty()),
                "{name}: summary"
            );
            assert!(
                op["description"].as_str().is_some_and(|s| !s.is_empty()),
                "{name}: description"
            );
            assert!(op["security"].is_array(), "{name}: security");
            let responses = op["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|k| k.starts_with('2')),
                "{name}: success response"
            );
            assert!(responses.contains_key("503"), "{name}: database errors");
            for (status, response) in responses {
                let described =
                    response.get("description").is_some() || response.get("$ref").is_some();
                assert!(described, "{name} {status}: description");
            }
            // A public operation requires nothing (`[]`), so clients send no token.
            let public = op["security"] == serde_json::json!([]);
            let expected_public = [
                "login",
                "refreshToken",
                "getOpenApi",
                "health",
                "ready",
                "getConventions",
                "getProblemCodes",
            ];
            let id = op["operationId"].as_str().unwrap();
            assert_eq!(public, expected_public.contains(&id), "{name}: security");
            if !public {
                assert!(responses.contains_key("401"), "{name}: 401");
            }
        }
    }
}

/// What a typed client needs of every write: a closed body schema (a merge patch for the
/// resources' PATCHes), and on every 412 the record as it is now, typed as the operation's
/// 200 answer, beside the ETag it carries.
#[test]
fn patch_bodies_are_closed_and_every_412_types_its_current_record() {
    let spec: Value = serde_json::from_str(COMMITTED).unwrap();
    let schemas = &spec["components"]["schemas"];
    let schema_of = |reference: &Value| -> Value {
        let name = reference["$ref"].as_str().unwrap();
        schemas[name.trim_start_matches("#/components/schemas/")].clone()
    };
    let mut merge_patches = Vec::new();
    let mut typed_412s = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, op) in item.as_object().unwrap() {
            let name = format!("{method} {path}");
            if method == "patch" {
                let content = op["requestBody"]["content"].as_object().unwrap();
                let (media_type, body) = content.iter().next().unwrap();
                let schema = schema_of(&body["schema"]);
                assert_eq!(schema["additionalProperties"], Value::Bool(false), "{name}");
                if media_type == "application/merge-patch+json" {
                    assert!(schema.get("required").is_none(), "{name}: {schema}");
                    let reference = body["schema"]["$ref"].as_str().unwrap();
                    merge_patches.push(reference.rsplit('/').next().unwrap().to_owned());
                }
            }
            let Some(stale) = op["responses"].get("412") else {
                continue;
            };
            assert_eq!(
                stale["headers"]["ETag"]["required"],
                Value::Bool(true),
                "{name}"
            );
            let Some(record) = op["responses"]["200"]["content"]["application/json"].get("schema")
            else {
                continue;
            };
            let problem = &stale["content"]["application/problem+json"]["schema"]["allOf"];
            assert_eq!(problem[0]["$ref"], "#/components/schemas/Problem", "{name}");
            assert_eq!(
                problem[1]["required"],
                serde_json::json!(["current"]),
                "{name}"
            );
            assert_eq!(&problem[1]["properties"]["current"], record, "{name}");
            typed_412s += 1;
        }
    }
    merge_patches.sort();
    assert_eq!(
        merge_patches,
        [
            "ContactPatch",
            "CustomerPatch",
            "LeadPatch",
            "OrderPatch",
            "SettingsPatch",
            "TaskPatch"
        ]
    );
    assert!(typed_412s > 20, "{typed_412s}");
}

/// Every list answers pages whose items `$ref` their record's component (one type per record
/// for generated clients), and every `$ref` in the document resolves.
#[test]
fn page_items_refer_to_their_record_and_every_reference_resolves() {
    let spec: Value = serde_json::from_str(COMMITTED).unwrap();
    let schemas = spec["components"]["schemas"].as_object().unwrap();
    let pages: Vec<_> = schemas.keys().filter(|k| k.starts_with("Page_")).collect();
    assert!(pages.len() >= 18, "{pages:?}");
    for page in pages {
        let record = page.trim_start_matches("Page_");
        assert_eq!(
            schemas[page]["properties"]["items"]["items"]["$ref"],
            format!("#/components/schemas/{record}"),
            "{page}"
        );
    }
    fn references(value: &Value, found: &mut Vec<String>) {
        match value {
            Value::Object(map) => {
                if let Some(Value::String(target)) = map.get("$ref") {
                    found.push(target.clone());
                }
                map.values().for_each(|v| references(v, found));
            }
            Value::Array(list) => list.iter().for_each(|v| references(v, found)),
            _ => {}
        }
    }
    let mut found = Vec::new();
    references(&spec, &mut found);
    for target in found {
        let pointer = target.trim_start_matches('#');
        assert!(spec.pointer(pointer).is_some(), "dangling $ref {target}");
    }
}

/// Every request body shows an example (tests/spec/examples.py checks each against its schema).
#[test]
fn every_request_body_has_an_example() {
    let spec: Value = serde_json::from_str(COMMITTED).unwrap();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            for (media_type, content) in operation["requestBody"]["content"]
                .as_object()
                .into_iter()
                .flatten()
            {
                assert!(
                    content["example"].is_object(),
                    "{method} {path} ({media_type}) has no example"
                );
            }
        }
    }
}

/// Each create links to the operations on what it made, every link names an operation that
/// exists and fills each of its path parameters (the new id from the answer's body).
#[test]
fn creates_link_to_the_operations_on_what_they_made() {
    let spec: Value = serde_json::from_str(COMMITTED).unwrap();
    let mut operations = std::collections::HashMap::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for op in item.as_object().unwrap().values() {
            if let Some(id) = op["operationId"].as_str() {
                operations.insert(id.to_owned(), path.clone());
            }
        }
    }
    let links_of = |path: &str| spec["paths"][path]["post"]["responses"]["201"]["links"].clone();
    let order_links = links_of("/api/v1/orders");
    for step in [
        "getOrder",
        "confirmOrder",
        "shipOrder",
        "cancelOrder",
        "createOrderClaim",
    ] {
        assert_eq!(
            order_links[step]["parameters"]["id"], "$response.body#/id",
            "{step}"
        );
    }
    let contact_links = links_of("/api/v1/customers/{id}/contacts");
    assert_eq!(
        contact_links["patchContact"]["parameters"],
        serde_json::json!({"id": "$request.path.id", "contact_id": "$response.body#/id"})
    );
    // A trial is made under its customer but stepped under its own collection.
    let trial_links = links_of("/api/v1/customers/{id}/product-trials");
    for step in ["sampleProductTrial", "dropProductTrial"] {
        assert_eq!(
            trial_links[step]["parameters"],
            serde_json::json!({"id": "$response.body#/id"}),
            "{step}"
        );
    }
    for (path, item) in spec["paths"].as_object().unwrap() {
        let Some(links) = item["post"]["responses"]["201"]["links"].as_object() else {
            continue;
        };
        for (name, link) in links {
            let target = &operations[link["operationId"].as_str().unwrap()];
            let parameters = link["parameters"].as_object().unwrap();
            let needed = target.matches('{').count();
            assert_eq!(parameters.len(), needed, "{path} -> {name}");
            for parameter in parameters.keys() {
                assert!(
                    target.contains(&format!("{{{parameter}}}")),
                    "{path} -> {name}"
                );
            }
        }
    }
}

/// What the server always sends is `required` in the answer schemas (nullable where it may be
/// empty), so typed clients need no checks for absence; request schemas keep optional
/// members optional, and `Problem` its extension members.
#[test]
fn answered_properties_are_required_and_inputs_stay_optional() {
    let spec: Value = serde_json::from_str(COMMITTED).unwrap();
    let schemas = &spec["components"]["schemas"];
    let required = |name: &str| -> Vec<String> {
        let schema = &schemas[name];
        let parts = schema["allOf"]
            .as_array()
            .cloned()
            .unwrap_or(vec![schema.clone()]);
        parts
            .iter()
            .flat_map(|p| p["required"].as_array().cloned().unwrap_or_default())
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    for (schema, member) in [
        ("Customer", "archived_at"),
        ("Customer", "sales_unit_id"),
        ("CustomerProfile", "uscc"),
        ("OrderDates", "shipped_on"),
        ("User", "email"),
        ("BatchRow", "errors"),
    ] {
        assert!(
            required(schema).contains(&member.to_owned()),
            "{schema}.{member}"
        );
    }
    assert!(!required("CustomerInput").contains(&"uscc".to_owned()));
    assert!(!required("Problem").contains(&"errors".to_owned()));
}

/// The type a declaration line names (`pub struct Name<T> {` is `Name`), if it declares one.
fn declared_type(line: &str) -> Option<String> {
    let mut words = line.split_whitespace();
    words.find(|w| *w == "struct" || *w == "enum")?;
    let name = words.next()?.split(['<', '{', '(', ';']).next()?;
    (!name.is_empty() && !name.starts_with('$')).then(|| name.to_owned())
}

/// The schema names one source file's types claim, with their lines: each type deriving
/// `ToSchema` (its own name, or `#[schema(as = ..)]`) or implementing it by hand, and each
/// type the declaring macros (`string_enum!`, `list_sort!`) make, which derive it.
fn claims_of_file(text: &str) -> Vec<(String, usize)> {
    let lines: Vec<&str> = text.lines().collect();
    let mut claims = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let invoked = line.contains("string_enum!") || line.contains("list_sort!(");
        if let Some(record) = line.split("const RECORD: &'static str = \"").nth(1) {
            claims.push((record.trim_end_matches("\";").to_owned(), i + 1));
        } else if let Some(named) = line
            .trim_start()
            .strip_prefix("impl ToSchema for ")
            .or_else(|| line.trim_start().strip_prefix("impl utoipa::ToSchema for "))
        {
            // A schema written by hand (a macro's `$name` is claimed where it is invoked).
            let name = named.trim_end_matches(" {}").trim_end_matches(" {");
            if !name.starts_with('$') {
                claims.push((name.to_owned(), i + 1));
            }
        } else if line.trim_start().starts_with("merge_patch!") {
            // `merge_patch!(/// docs.. Name of Input, read_only: [..])`
            let declared = lines[i + 1..].iter().enumerate().find_map(|(k, l)| {
                let (name, _) = l.trim().split_once(" of ")?;
                Some((name.to_owned(), i + 2 + k))
            });
            claims.extend(declared);
        } else if invoked && !line.contains("macro_rules") {
            let declared = lines[i + 1..].iter().enumerate().find_map(|(k, l)| {
                let name = if line.contains("list_sort!(") {
                    l.split_once(" => ").map(|(name, _)| name.trim().to_owned())
                } else {
                    declared_type(l)
                };
                name.map(|name| (name, i + 2 + k))
            });
            claims.extend(declared);
        } else if line.trim_start().starts_with("#[derive(") {
            // A derive may span several lines.
            let end = (i..lines.len()).find(|&e| lines[e].contains(")]")).unwrap();
            if lines[i..=end].iter().any(|l| l.contains("ToSchema")) {
                let mut alias = None;
                let mut j = end + 1;
                while lines[j].trim_start().starts_with("#[")
                    || lines[j].trim_start().starts_with("//")
                {
                    if let Some(rest) = lines[j].split("schema(as = ").nth(1) {
                        alias = rest.split([',', ')']).next().map(str::to_owned);
                    }
                    j += 1;
                }
                if let Some(declared) = declared_type(lines[j]) {
                    let name = alias.unwrap_or(declared);
                    claims.push((name.rsplit("::").next().unwrap().to_owned(), j + 1));
                }
            }
            i = end;
        }
        i += 1;
    }
    claims
}

/// The schema names the source's types claim, with where each is declared. utoipa keeps one
/// schema per name, so two types claiming one name publish one of them for both (a credit
/// check's body typed as a visit's GPS point).
fn claimed_schema_names() -> Vec<(String, String)> {
    fn walk(dir: &std::path::Path, found: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, found);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for (name, line) in claims_of_file(&text) {
                    found.push((name, format!("{}:{line}", path.display())));
                }
            }
        }
    }
    let mut found = Vec::new();
    walk(
        &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("crates"),
        &mut found,
    );
    found
}

#[test]
fn no_two_types_claim_one_schema_name() {
    let claimed = claimed_schema_names();
    assert!(
        claimed.len() > 100,
        "the scan found {} types",
        claimed.len()
    );
    let mut by_name: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for (name, place) in &claimed {
        by_name.entry(name).or_default().push(place);
    }
    let collisions: Vec<_> = by_name.iter().filter(|(_, at)| at.len() > 1).collect();
    assert!(
        collisions.is_empty(),
        "one schema name, several types: {collisions:?}"
    );
    // Every schema the spec publishes is one of those types: the scan misses none.
    let spec: Value = serde_json::from_str(COMMITTED).unwrap();
    let unclaimed: Vec<&String> = spec["components"]["schemas"]
        .as_object()
        .unwrap()
        .keys()
        .filter(|name| {
            // The problem kinds of the shared responses are made in `openapi::complete`.
            if name.ends_with("Problem") {
                return false;
            }
            // A generic type's instance, `Page_Order`, is named after both.
            let parts: Vec<&str> = name.split('_').collect();
            !parts.iter().all(|part| by_name.contains_key(part))
        })
        .collect();
    assert!(
        unclaimed.is_empty(),
        "published, claimed by no type: {unclaimed:?}"
    );
}

/// Each operation's own request example, sent as published, is taken as a body of that
/// operation: no member is unknown to the server and none has the wrong type (the server
/// may still refuse what the example names, such as records that do not exist here).
#[actix_web::test]
async fn every_operation_takes_its_own_example() {
    let app = crate::common::TestApp::spawn().await;
    let admin = app.admin_token().await;
    let spec: Value = serde_json::from_str(COMMITTED).unwrap();
    let mut sent = 0;
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let Some(example) = operation["requestBody"]["content"]["application/json"]
                .get("example")
                .cloned()
            else {
                continue;
            };
            let concrete: String = path
                .split('/')
                .map(|segment| {
                    if segment.starts_with('{') {
                        uuid::Uuid::new_v4().to_string()
                    } else {
                        segment.to_owned()
                    }
                })
                .collect::<Vec<_>>()
                .join("/");
            let method = reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let response = app
                .request(method.clone(), &concrete, Some(&admin))
                .header("If-Match", "*")
                .json(&example)
                .send()
                .await
                .unwrap();
            let (status, body) = crate::common::read(response).await;
            let misfits: Vec<_> = crate::common::error_fields(&body)
                .into_iter()
                .filter(|(_, code)| code == "unknown_field" || code == "invalid_type")
                .collect();
            assert!(
                status.as_u16() < 500 && body["code"] != "malformed_json" && misfits.is_empty(),
                "{method} {path} refuses its own example {example}: {status} {body}"
            );
            sent += 1;
        }
    }
    assert!(sent > 50, "only {sent} examples");
}

/// The README's list of every operation: one row per operation of the spec, by tag, with its
/// summary.
fn operations_table(spec: &Value) -> String {
    let mut rows: Vec<(String, String, String)> = Vec::new();
    for (path, item) in spec["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            let tag = operation["tags"][0].as_str().unwrap_or("").to_owned();
            let summary = operation["summary"].as_str().unwrap_or("").to_owned();
            rows.push((tag, format!("{} {path}", method.to_uppercase()), summary));
        }
    }
    rows.sort();
    let mut table = String::from("| Area | Operation | What it does |\n| --- | --- | --- |\n");
    for (tag, operation, summary) in rows {
        table.push_str(&format!("| {tag} | `{operation}` | {summary} |\n"));
    }
    table
}

/// Every operation of the spec is listed in the README, and nothing else is.
#[test]
fn the_readme_lists_every_operation() {
    const BEGIN: &str = "<!-- operations:begin -->\n";
    const END: &str = "<!-- operations:end -->";
    let readme_path = concat!(env!("CARGO_MANIFEST_DIR"), "/README.md");
    let readme = std::fs::read_to_string(readme_path).unwrap();
    let spec: Value = serde_json::from_str(COMMITTED).unwrap();
    let expected = operations_table(&spec);
    let start = readme.find(BEGIN).expect("the README marks its operations") + BEGIN.len();
    let end = readme
        .find(END)
        .expect("the README marks its operations' end");
    if std::env::var_os("UPDATE_README").is_some() {
        let written = format!("{}{expected}{}", &readme[..start], &readme[end..]);
        std::fs::write(readme_path, written).unwrap();
        return;
    }
    assert!(
        readme[start..end] == expected,
        "the README's operations differ from the spec: run UPDATE_README=1 cargo test --workspace --test api readme"
    );
}
