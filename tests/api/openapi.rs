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
            let public = op["security"] == serde_json::json!([{}]);
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
