//! Lists written out whole: a list asked for with `Accept: text/csv` or
//! `Accept: application/x-ndjson` answers every matching row, in the list's filters and
//! order, streamed a chunk at a time so that memory does not grow with the rows.
//!
//! CSV columns are the fields of the record's schema in the spec (nested objects with a dot,
//! `address.city`; lists joined with `|`; free-form objects and lists of objects as JSON),
//! `id` first; the spec documents them beside each list that exports.

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use actix_web::http::header;
use actix_web::{web, FromRequest, HttpRequest, HttpResponse};
use credo_store::{DbConnection, StoreError};
use futures_util::stream;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::openapi::path::{ParameterBuilder, ParameterIn};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{Components, ContentBuilder, OpenApi, RefOr, Required};
use utoipa::ToSchema;

use crate::error::ApiError;
use crate::extract;
use crate::state::AppState;

pub const CSV: &str = "text/csv";
pub const NDJSON: &str = "application/x-ndjson";

/// Rows read from the database per chunk of an export.
const CHUNK: i64 = 500;

/// How a list is written out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated, a header row first; `bom` starts it with a UTF-8 byte order mark
    /// (Excel reads UTF-8 only then).
    Csv { bom: bool },
    /// One JSON record a line.
    Ndjson,
}

/// The query parameter exporting lists take.
#[derive(Deserialize)]
struct ExportParams {
    bom: Option<bool>,
}

/// Whether the caller asked for the whole list as a file (`Accept`), and how; `None` for
/// the usual JSON page.
pub struct Export(pub Option<Format>);

impl FromRequest for Export {
    type Error = ApiError;
    type Future = std::future::Ready<Result<Self, ApiError>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        std::future::ready(wanted(req).map(Export))
    }
}

/// The first file type the `Accept` header names, if any; `bom` is checked with or without
/// one, as every parameter is.
fn wanted(req: &HttpRequest) -> Result<Option<Format>, ApiError> {
    let params: ExportParams = extract::parse_query(req.query_string())?;
    let accept = req
        .headers()
        .get_all(header::ACCEPT)
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|range| {
            range
                .split(';')
                .next()
                .unwrap_or("")
                .trim()
                .to_ascii_lowercase()
        })
        .find(|media| media == CSV || media == NDJSON);
    Ok(match accept.as_deref() {
        Some(CSV) => Some(Format::Csv {
            bom: params.bom.unwrap_or(false),
        }),
        Some(_) => Some(Format::Ndjson),
        None => None,
    })
}

/// Answers every row `load` reads, a chunk at a time: `load` gets where the chunk before
/// ended (`start` for the first) and how many rows to read; `after` is where a row ends.
pub fn stream<T, A>(
    state: web::Data<AppState>,
    format: Format,
    start: Option<A>,
    load: impl Fn(&mut DbConnection, Option<A>, i64) -> Result<Vec<T>, StoreError>
        + Send
        + Sync
        + 'static,
    after: impl Fn(&T) -> A + Send + Sync + 'static,
) -> HttpResponse
where
    T: Serialize + ToSchema + Send + 'static,
    A: Clone + Send + 'static,
{
    let columns: Arc<[String]> = columns_of(&T::name()).into();
    let (load, after) = (Arc::new(load), Arc::new(after));
    let mut head = Vec::new();
    if let Format::Csv { bom } = format {
        if bom {
            head.extend_from_slice("\u{feff}".as_bytes());
        }
        head.extend(csv_line(columns.iter().map(String::as_str)));
    }
    // (where the next chunk starts, whether one follows, the header still to send)
    let first = (start, true, Some(head));
    let body = stream::unfold(first, move |(from, more, head)| {
        let (state, load, after) = (state.clone(), load.clone(), after.clone());
        let columns = columns.clone();
        async move {
            if !more {
                return None;
            }
            let read = from.clone();
            // Written on the blocking pool, beside the read: the async workers only pass
            // the bytes on.
            let chunk = state
                .db(move |conn| {
                    let rows = load(conn, read, CHUNK)?;
                    let mut bytes = head.unwrap_or_default();
                    write_rows(&mut bytes, format, &columns, &rows);
                    let next = rows.last().map(|row| after(row));
                    Ok((bytes, next, rows.len() as i64 == CHUNK))
                })
                .await;
            match chunk {
                Ok((bytes, next, more)) => {
                    Some((Ok(web::Bytes::from(bytes)), (next.or(from), more, None)))
                }
                Err(error) => {
                    tracing::warn!(code = ?error.code, "an export stopped: {}", error.detail);
                    let stopped = actix_web::error::ErrorInternalServerError("the export stopped");
                    Some((Err(stopped), (None, false, None)))
                }
            }
        }
    });
    let content_type = match format {
        Format::Csv { .. } => "text/csv; charset=utf-8",
        Format::Ndjson => NDJSON,
    };
    HttpResponse::Ok()
        .content_type(content_type)
        .streaming(body)
}

/// Appends `rows` to `bytes` in `format`.
fn write_rows<T: Serialize>(bytes: &mut Vec<u8>, format: Format, columns: &[String], rows: &[T]) {
    match format {
        Format::Ndjson => {
            for row in rows {
                serde_json::to_writer(&mut *bytes, row).expect("records serialise");
                bytes.push(b'\n');
            }
        }
        Format::Csv { .. } => {
            let mut writer = csv_writer(bytes);
            for row in rows {
                let value = serde_json::to_value(row).expect("records serialise");
                writer
                    .write_record(columns.iter().map(|column| cell(&value, column)))
                    .expect("writing to memory");
            }
            writer.flush().expect("writing to memory");
        }
    }
}

/// RFC 4180: fields quoted where needed, CRLF.
fn csv_writer(bytes: &mut Vec<u8>) -> csv::Writer<&mut Vec<u8>> {
    csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(bytes)
}

/// One CSV line.
fn csv_line<'a>(fields: impl Iterator<Item = &'a str>) -> Vec<u8> {
    let mut bytes = Vec::new();
    let mut writer = csv_writer(&mut bytes);
    writer.write_record(fields).expect("writing to memory");
    writer.flush().expect("writing to memory");
    drop(writer);
    bytes
}

/// A record's value at a column: a nested field by its dotted path, a list of plain values
/// joined with `|`, anything else structured as JSON, null as nothing.
fn cell(record: &Value, column: &str) -> String {
    let value = column
        .split('.')
        .try_fold(record, |value, field| value.get(field));
    match value {
        None | Some(Value::Null) => String::new(),
        Some(Value::Array(items)) if items.iter().all(is_plain) => {
            items.iter().map(text).collect::<Vec<_>>().join("|")
        }
        Some(other) => text(other),
    }
}

fn is_plain(value: &Value) -> bool {
    !matches!(value, Value::Array(_) | Value::Object(_))
}

/// A value as a cell's text: a string as it is, anything else as JSON.
fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// The lists that answer a whole file for `Accept: text/csv` or `application/x-ndjson`, by
/// operation id.
const EXPORTING: &[&str] = &[
    "listCustomers",
    "listContacts",
    "listOrders",
    "listLeads",
    "listTasks",
    "listMyTasks",
    "listMyVisits",
    "listInteractions",
    "listReceivables",
    "listPayments",
    "getWarningList",
    "listSegmentationResults",
];

/// Documents the exports of the lists in `EXPORTING`: beside the JSON page, the CSV (its
/// columns) and NDJSON answers, and the `bom` parameter.
pub fn document(api: &mut OpenApi) {
    let components = api.components.clone().unwrap_or_default();
    for item in api.paths.paths.values_mut() {
        let Some(operation) = item.get.as_mut() else {
            continue;
        };
        if !EXPORTING.contains(&operation.operation_id.as_deref().unwrap_or("")) {
            continue;
        }
        let Some(RefOr::T(answer)) = operation.responses.responses.get_mut("200") else {
            continue;
        };
        let Some(RefOr::Ref(page)) =
            answer
                .content
                .get("application/json")
                .and_then(|content| match content {
                    RefOr::T(content) => content.schema.as_ref(),
                    RefOr::Ref(_) => None,
                })
        else {
            continue;
        };
        let record = page
            .ref_location
            .trim_start_matches("#/components/schemas/Page_")
            .to_owned();
        let header = columns(&components, &record).join(",");
        let text = || ObjectBuilder::new().schema_type(Type::String);
        answer.content.insert(
            CSV.to_owned(),
            ContentBuilder::new()
                .schema(Some(text().description(Some(format!(
                    "Every matching row, in the list's order, a header row first. Columns: {header}"
                )))))
                .example(Some(Value::String(format!("{header}\r\n"))))
                .build()
                .into(),
        );
        answer.content.insert(
            NDJSON.to_owned(),
            ContentBuilder::new()
                .schema(Some(text().description(Some(format!(
                    "Every matching row, in the list's order: one `{record}` a line"
                )))))
                .build()
                .into(),
        );
        answer.description.push_str(
            "; with `Accept: text/csv` or `application/x-ndjson`, every matching row as a file",
        );
        operation.parameters.get_or_insert_with(Vec::new).push(
            ParameterBuilder::new()
                .name("bom")
                .parameter_in(ParameterIn::Query)
                .required(Required::False)
                .description(Some(
                    "With `Accept: text/csv`: start the file with a UTF-8 byte order mark (Excel \
                     reads UTF-8 only then)",
                ))
                .schema(Some(ObjectBuilder::new().schema_type(Type::Boolean)))
                .build()
                .into(),
        );
    }
}

/// The CSV columns of the record schema `name` in this server's spec (built once, on the
/// first export).
fn columns_of(name: &str) -> Vec<String> {
    static SCHEMAS: OnceLock<Components> = OnceLock::new();
    let components = SCHEMAS.get_or_init(|| {
        crate::app::api_spec()
            .components
            .expect("the spec has components")
    });
    columns(components, name)
}

/// The CSV columns of schema `name`: its fields, nested objects' fields under a dotted
/// prefix, `id` first and the rest in the order of the schema (alphabetical within each
/// of its `allOf` parts).
pub fn columns(components: &Components, name: &str) -> Vec<String> {
    let mut found = Vec::new();
    flatten(components, &reference(name), "", &mut found, 0);
    found.sort_by_key(|column| column != "id");
    found
}

fn reference(name: &str) -> RefOr<Schema> {
    RefOr::Ref(utoipa::openapi::Ref::from_schema_name(name))
}

/// Deep enough for any record; stops a schema that contains itself.
const MAX_DEPTH: usize = 4;

fn flatten(
    components: &Components,
    schema: &RefOr<Schema>,
    prefix: &str,
    found: &mut Vec<String>,
    depth: usize,
) {
    let leaf = |found: &mut Vec<String>| {
        if !prefix.is_empty() {
            found.push(prefix.to_owned());
        }
    };
    let schema = match schema {
        RefOr::Ref(reference) => {
            let name = reference.ref_location.rsplit('/').next().unwrap_or("");
            return match components.schemas.get(name) {
                Some(schema) if depth < MAX_DEPTH => {
                    flatten(components, schema, prefix, found, depth + 1)
                }
                _ => leaf(found),
            };
        }
        RefOr::T(schema) => schema,
    };
    match schema {
        Schema::AllOf(all) => {
            for member in &all.items {
                flatten(components, member, prefix, found, depth + 1);
            }
        }
        Schema::OneOf(one) => {
            // A nullable record: its columns; a choice of shapes: one column.
            let shapes: Vec<&RefOr<Schema>> =
                one.items.iter().filter(|item| !is_null(item)).collect();
            match shapes[..] {
                [only] => flatten(components, only, prefix, found, depth + 1),
                _ => leaf(found),
            }
        }
        Schema::Object(object) if !object.properties.is_empty() => {
            let properties: BTreeMap<&String, &RefOr<Schema>> = object.properties.iter().collect();
            for (field, property) in properties {
                let path = if prefix.is_empty() {
                    field.clone()
                } else {
                    format!("{prefix}.{field}")
                };
                flatten(components, property, &path, found, depth + 1);
            }
        }
        _ => leaf(found),
    }
}

fn is_null(schema: &RefOr<Schema>) -> bool {
    matches!(schema, RefOr::T(Schema::Object(object))
        if object.schema_type == SchemaType::Type(Type::Null))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cells_flatten_nested_fields_and_join_plain_lists() {
        let record = json!({
            "id": "1", "address": {"city": "深圳", "street": null},
            "tags": ["vip", "north"], "lines": [{"sku": "A"}], "count": 3, "ok": true,
            "days": [1, 2],
            "extensions": {"k": "v"}
        });
        assert_eq!(cell(&record, "address.city"), "深圳");
        assert_eq!(cell(&record, "address.street"), "");
        assert_eq!(cell(&record, "address.zip"), "");
        assert_eq!(cell(&record, "tags"), "vip|north");
        assert_eq!(cell(&record, "days"), "1|2");
        assert_eq!(cell(&record, "lines"), r#"[{"sku":"A"}]"#);
        assert_eq!(cell(&record, "count"), "3");
        assert_eq!(cell(&record, "ok"), "true");
        assert_eq!(cell(&record, "extensions"), r#"{"k":"v"}"#);
    }

    #[test]
    fn csv_lines_quote_what_needs_it() {
        let line = csv_line(["a", "b,c", "say \"hi\"", "two\nlines"].into_iter());
        assert_eq!(
            String::from_utf8(line).unwrap(),
            "a,\"b,c\",\"say \"\"hi\"\"\",\"two\nlines\"\r\n"
        );
    }

    #[test]
    fn columns_follow_the_schema_id_first() {
        let columns = columns_of("Customer");
        assert_eq!(columns[0], "id");
        for expected in ["legal_name", "version", "emails", "uscc", "owner_id"] {
            assert!(columns.iter().any(|c| c == expected), "{columns:?}");
        }
    }
}
