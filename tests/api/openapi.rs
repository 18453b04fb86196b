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
fn every_operation_is_documented_with_id_tag_summary_security_and_errors() {
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
