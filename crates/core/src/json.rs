//! JSON document operations with one meaning everywhere: merge patches and change lists.

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

/// Applies an RFC 7396 JSON merge patch: members set to `null` are removed, objects merge
/// recursively, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    let target = target.as_object_mut().expect("made an object above");
    for (key, value) in patch {
        if value.is_null() {
            target.remove(key);
        } else {
            merge_patch(target.entry(key.clone()).or_insert(Value::Null), value);
        }
    }
}

/// One field that changed, as recorded in the audit trail.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, ToSchema)]
pub struct FieldChange {
    #[schema(example = "legal_name")]
    pub field: String,
    /// The value before; absent when the field was empty.
    pub old: Option<Value>,
    /// The value after; absent when the field was cleared.
    pub new: Option<Value>,
}

/// The top-level members that differ between two JSON objects, in key order. A member that is
/// missing, `null` or an empty list counts as empty.
pub fn changes(old: &Value, new: &Value) -> Vec<FieldChange> {
    let empty = Map::new();
    let old = old.as_object().unwrap_or(&empty);
    let new = new.as_object().unwrap_or(&empty);
    let present = |v: Option<&Value>| {
        v.filter(|v| !v.is_null() && v.as_array().is_none_or(|a| !a.is_empty()))
            .cloned()
    };
    let mut keys: Vec<&String> = old.keys().chain(new.keys()).collect();
    keys.sort();
    keys.dedup();
    keys.into_iter()
        .filter_map(|key| {
            let (before, after) = (present(old.get(key)), present(new.get(key)));
            (before != after).then(|| FieldChange {
                field: key.clone(),
                old: before,
                new: after,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn merge_patch_follows_rfc_7396_examples() {
        let cases = [
            (json!({"a": "b"}), json!({"a": "c"}), json!({"a": "c"})),
            (
                json!({"a": "b"}),
                json!({"b": "c"}),
                json!({"a": "b", "b": "c"}),
            ),
            (json!({"a": "b"}), json!({"a": null}), json!({})),
            (json!({"a": ["b"]}), json!({"a": "c"}), json!({"a": "c"})),
            (
                json!({"a": {"b": "c"}}),
                json!({"a": {"b": "d", "c": null}}),
                json!({"a": {"b": "d"}}),
            ),
            (
                json!({"e": null}),
                json!({"a": 1}),
                json!({"e": null, "a": 1}),
            ),
            (
                json!([1, 2]),
                json!({"a": "b", "c": null}),
                json!({"a": "b"}),
            ),
        ];
        for (mut target, patch, expected) in cases {
            merge_patch(&mut target, &patch);
            assert_eq!(target, expected);
        }
    }

    #[test]
    fn changes_list_only_what_differs() {
        let old = json!({"a": 1, "b": "x", "c": null, "e": []});
        let new = json!({"a": 2, "b": "x", "d": [1]});
        assert_eq!(
            changes(&old, &new),
            vec![
                FieldChange {
                    field: "a".into(),
                    old: Some(json!(1)),
                    new: Some(json!(2))
                },
                FieldChange {
                    field: "d".into(),
                    old: None,
                    new: Some(json!([1]))
                },
            ]
        );
    }
}
