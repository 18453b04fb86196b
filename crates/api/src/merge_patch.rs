//! JSON merge patches (RFC 7396) of a resource's input: one declaration per resource gives
//! both the rule the server applies (which members a PATCH may not touch) and the schema typed
//! clients are generated from, so the two cannot drift apart.

use credo_core::FieldCode;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest};
use serde_json::Value;
use utoipa::openapi::schema::{AdditionalProperties, OneOfBuilder, Schema, SchemaType, Type};
use utoipa::openapi::{ObjectBuilder, RefOr};
use utoipa::{PartialSchema, ToSchema};

use crate::error::ApiError;
use crate::extract::Body;

/// A resource's merge patch: the members of `Input` it may change.
pub trait MergePatch: ToSchema + 'static {
    type Input: ToSchema;
    /// Members of the record a PATCH may not touch: identity, ownership (moved by their own
    /// operations) and bookkeeping. Refused with `read_only` on the member.
    const READ_ONLY: &'static [&'static str];
}

/// Declares a merge patch type: `merge_patch!(/// doc
/// CustomerPatch of CustomerInput, read_only: ["id", ...]);`
macro_rules! merge_patch {
    ($(#[doc = $doc:literal])+ $name:ident of $input:ty, read_only: [$($field:literal),* $(,)?]) => {
        $(#[doc = $doc])+
        pub struct $name;

        impl $crate::merge_patch::MergePatch for $name {
            type Input = $input;
            const READ_ONLY: &'static [&'static str] = &[$($field),*];
        }

        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                $crate::merge_patch::schema::<$name>(concat!($($doc, "\n"),+))
            }
        }

        impl utoipa::ToSchema for $name {
            fn schemas(
                schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>,
            ) {
                <$input as utoipa::ToSchema>::schemas(schemas);
            }
        }
    };
}
pub(crate) use merge_patch;

/// The schema of `P`: its input's properties less the read-only ones, none required, those
/// the input may leave out also `null` (which clears them), no others allowed.
pub fn schema<P: MergePatch>(doc: &str) -> RefOr<Schema> {
    let RefOr::T(Schema::Object(mut object)) = P::Input::schema() else {
        unreachable!("{} is derived from a struct", P::Input::name())
    };
    object
        .properties
        .retain(|name, _| !P::READ_ONLY.contains(&name.as_str()));
    let required = std::mem::take(&mut object.required);
    for (name, property) in object.properties.iter_mut() {
        if !required.contains(name) {
            *property = nullable(property.clone());
        }
    }
    object.additional_properties = Some(Box::new(AdditionalProperties::FreeForm(false)));
    let read_only: Vec<_> = P::READ_ONLY.iter().map(|f| format!("`{f}`")).collect();
    object.description = Some(format!(
        "{} Refused with `read_only` when present: {}.",
        doc.split_whitespace().collect::<Vec<_>>().join(" "),
        read_only.join(", ")
    ));
    object.into()
}

/// `schema` or `null`.
fn nullable(schema: RefOr<Schema>) -> RefOr<Schema> {
    let null = || RefOr::T(ObjectBuilder::new().schema_type(Type::Null).into());
    match schema {
        RefOr::T(Schema::Object(mut object)) => {
            object.schema_type = match object.schema_type {
                SchemaType::Type(Type::Null) | SchemaType::AnyValue => object.schema_type,
                SchemaType::Type(single) => SchemaType::Array(vec![single, Type::Null]),
                SchemaType::Array(mut types) => {
                    if !types.contains(&Type::Null) {
                        types.push(Type::Null);
                    }
                    SchemaType::Array(types)
                }
            };
            RefOr::T(Schema::Object(object))
        }
        RefOr::T(Schema::OneOf(one_of)) if one_of.items.iter().any(is_null) => {
            RefOr::T(Schema::OneOf(one_of))
        }
        other => OneOfBuilder::new().item(other).item(null()).into(),
    }
}

fn is_null(schema: &RefOr<Schema>) -> bool {
    matches!(schema, RefOr::T(Schema::Object(o)) if o.schema_type == SchemaType::Type(Type::Null))
}

/// A merge-patch body of `P`: a JSON object that touches none of `P::READ_ONLY`. What its
/// members say is checked when the patch is applied to the record read under the row lock.
pub struct Patch<P> {
    pub body: Value,
    patch: PhantomData<P>,
}

impl<P: MergePatch> Patch<P> {
    fn screen(body: Value) -> Result<Self, ApiError> {
        let Some(members) = body.as_object() else {
            return Err(ApiError::field(
                "",
                FieldCode::InvalidType,
                "the body must be a JSON object",
            ));
        };
        let touched: Vec<_> = P::READ_ONLY
            .iter()
            .filter(|f| members.contains_key(**f))
            .map(|f| {
                credo_core::FieldError::new(
                    *f,
                    FieldCode::ReadOnly,
                    "this field cannot be changed here",
                )
            })
            .collect();
        if touched.is_empty() {
            Ok(Patch {
                body,
                patch: PhantomData,
            })
        } else {
            Err(ApiError::validation(touched))
        }
    }
}

impl<P: MergePatch> FromRequest for Patch<P> {
    type Error = ApiError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, ApiError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut actix_web::dev::Payload) -> Self::Future {
        let body = Body::<Value>::from_request(req, payload);
        Box::pin(async move { Self::screen(body.await?.raw) })
    }
}
