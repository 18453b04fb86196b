//! JSON document operations with one meaning everywhere: merge patches and change lists.

use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::{FieldCode, FieldError};

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

/// Reads a JSON object as `T`, or every field error that says where it does not fit:
/// `unknown_field`, `required` or `invalid_type`, at the member's path (`lines[2].quantity`).
/// serde stops at the first misfit, so each misfit's top-level member is set aside and the
/// rest read again, until the rest fits or only a missing member is left to report.
pub fn parse<T: DeserializeOwned>(raw: Value) -> Result<T, Vec<FieldError>> {
    let mut raw = raw;
    let mut errors: Vec<FieldError> = Vec::new();
    let mut set_aside: Vec<String> = Vec::new();
    loop {
        let error = match first_misfit::<T>(&raw) {
            Ok(value) if errors.is_empty() => return Ok(value),
            Ok(_) => return Err(errors),
            Err(error) => error,
        };
        let member = error
            .field
            .split(['.', '['])
            .next()
            .unwrap_or_default()
            .to_owned();
        // A misfit of a member set aside is the setting aside's doing, not the client's.
        if set_aside.contains(&member) {
            return Err(errors);
        }
        errors.push(error);
        let removed = raw
            .as_object_mut()
            .and_then(|members| members.remove(&member));
        if member.is_empty() || removed.is_none() {
            return Err(errors);
        }
        set_aside.push(member);
    }
}

/// The first place where `raw` does not fit `T`, as serde finds it.
fn first_misfit<T: DeserializeOwned>(raw: &Value) -> Result<T, FieldError> {
    serde_path_to_error::deserialize(raw).map_err(|error| {
        let path = error.path().to_string();
        let field = if path == "." { String::new() } else { path };
        let inner = error.into_inner().to_string();
        let code = if inner.starts_with("unknown field") {
            FieldCode::UnknownField
        } else if inner.starts_with("missing field") {
            FieldCode::Required
        } else {
            FieldCode::InvalidType
        };
        // serde's path ends at the unknown member itself, but at the parent of a missing one.
        let field = match (code, inner.split('`').nth(1)) {
            (FieldCode::Required, Some(name)) if field.is_empty() => name.to_owned(),
            (FieldCode::Required, Some(name)) => format!("{field}.{name}"),
            _ => field,
        };
        FieldError::new(field, code, inner)
    })
}

/// The input a merge patch makes of `current` (the input form of the record as stored):
/// the one way every PATCH applies its body, always to the record read under the row lock.
pub fn patched<T: DeserializeOwned>(
    current: &impl Serialize,
    patch: &Value,
) -> Result<T, Vec<FieldError>> {
    let mut merged = serde_json::to_value(current).map_err(|e| {
        vec![FieldError::new(
            "",
            FieldCode::InvalidType,
            format!("the record cannot be patched: {e}"),
        )]
    })?;
    merge_patch(&mut merged, patch);
    parse(merged)
}

/// What a merge patch says of one member: `None` when it leaves it alone, `Some(None)` when
/// it clears it, `Some(Some(value))` when it sets a value of type `T`. A value that is not a
/// `T` counts as untouched here; `patched` reports it.
pub fn patch_member<T: DeserializeOwned>(patch: &Value, name: &str) -> Option<Option<T>> {
    match patch.get(name)? {
        Value::Null => Some(None),
        value => T::deserialize(value).ok().map(Some),
    }
}

/// Reads a member of a merge patch that may be cleared; with `#[serde(default)]`, an absent
/// member is `None` (left alone), `null` is `Some(None)` (cleared), a value `Some(Some(_))`.
pub fn clearable<'de, D, T>(deserializer: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    <Option<T> as serde::Deserialize>::deserialize(deserializer).map(Some)
}

/// Reads a member of a merge patch that cannot be cleared; with `#[serde(default)]`, an
/// absent member is `None` (left alone) and `null` is refused like any value of the wrong
/// type, rather than read as "leave alone".
pub fn unclearable<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    T::deserialize(deserializer).map(Some)
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

    #[derive(Debug, serde::Deserialize, Serialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Input {
        name: String,
        note: Option<String>,
        count: Option<u8>,
    }

    /// The (field, code) pairs of a refused parse.
    fn misfits(parsed: Result<Input, Vec<FieldError>>) -> Vec<(String, String)> {
        let errors = parsed.unwrap_err();
        errors
            .into_iter()
            .map(|e| (e.field, e.code.as_str().to_owned()))
            .collect()
    }

    fn field(name: &str, code: &str) -> (String, String) {
        (name.to_owned(), code.to_owned())
    }

    #[test]
    fn a_patch_changes_what_it_names_and_nothing_else() {
        let current = Input {
            name: "a".into(),
            note: Some("kept".into()),
            count: Some(3),
        };
        let next: Input = patched(&current, &json!({"count": null, "name": "b"})).unwrap();
        assert_eq!(
            next,
            Input {
                name: "b".into(),
                note: Some("kept".into()),
                count: None
            }
        );
        let fields = |patch: Value| misfits(patched::<Input>(&current, &patch));
        assert_eq!(
            fields(json!({"count": "x"})),
            [field("count", "invalid_type")]
        );
        assert_eq!(
            fields(json!({"colour": 1})),
            [field("colour", "unknown_field")]
        );
        assert_eq!(fields(json!({"name": null})), [field("name", "required")]);
    }

    #[test]
    fn every_misfit_is_reported_not_only_the_first() {
        let fields = |raw: Value| misfits(parse::<Input>(raw));
        assert_eq!(
            fields(json!({"name": 5, "note": [], "count": "x", "colour": 1})),
            [
                field("colour", "unknown_field"),
                field("count", "invalid_type"),
                field("name", "invalid_type"),
                field("note", "invalid_type"),
            ]
        );
        // A missing member is reported beside the misfits; a member set aside is not
        // reported again as missing.
        assert_eq!(
            fields(json!({"count": "x"})),
            [field("count", "invalid_type"), field("name", "required")]
        );
        assert_eq!(fields(json!({"name": 5})), [field("name", "invalid_type")]);
    }

    #[test]
    fn patch_members_tell_untouched_from_cleared() {
        let patch = json!({"a": null, "b": 3, "c": "x"});
        assert_eq!(patch_member::<u8>(&patch, "a"), Some(None));
        assert_eq!(patch_member::<u8>(&patch, "b"), Some(Some(3)));
        assert_eq!(patch_member::<u8>(&patch, "c"), None);
        assert_eq!(patch_member::<u8>(&patch, "d"), None);
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
