//! Opaque keyset cursors: where the last page ended, in the order it was sorted by. A
//! cursor is signed (HMAC-SHA256), so a crafted or altered one is 400 `invalid_cursor` before
//! any value in it reaches a query.

use credo_core::FieldCode;
use std::sync::OnceLock;

use actix_web::{web, HttpResponse};
use base64::Engine;
use credo_store::keyset::{SortKey, Sorting, Window};
use credo_store::{DbConnection, StoreError};
use hmac::{Hmac, Mac};
use serde::{de::DeserializeOwned, Deserialize, Serialize};
use sha2::Sha256;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::error::{ApiError, ApiResult, ErrorCode};
use crate::export::{self, Export};
use crate::reply::Reply;
use crate::state::AppState;

/// Largest page a client may ask for, and the page size when it does not ask.
pub const MAX_LIMIT: i64 = 200;
pub const DEFAULT_LIMIT: i64 = 50;

/// One page of a list. Pass `next_cursor` back as `cursor` for the next page; it is `null`
/// on the last page.
#[derive(Debug, Serialize, ToSchema)]
pub struct Page<T: ToSchema> {
    pub items: Vec<T>,
    #[schema(
        required = true,
        example = "eyJzIjoibmFtZSIsImsiOiJBQ01FIiwiaSI6IjAxOTMifQ.c2lnbmF0dXJlMTIzNDU2"
    )]
    pub next_cursor: Option<String>,
}

/// One page from a query that fetched one row more than `limit`: the extra row only tells
/// that another page follows, whose cursor `key` makes from this page's last item.
pub fn page<T: ToSchema, C: Serialize>(
    mut items: Vec<T>,
    limit: i64,
    key: impl Fn(&T) -> C,
) -> Page<T> {
    let more = items.len() as i64 > limit;
    items.truncate(usize::try_from(limit).unwrap_or(0));
    let next_cursor = match items.last() {
        Some(last) if more => Some(encode(&key(last))),
        _ => None,
    };
    Page { items, next_cursor }
}

/// The page a client asks for of a list in a fixed order.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct PageParams {
    /// Items per page, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<i64>,
    /// `next_cursor` of the page before; absent for the first page.
    pub cursor: Option<String>,
}

/// Where a keyset cursor continues: the sort key and id of the last item before it.
#[derive(Serialize, Deserialize)]
struct KeyCursor<K> {
    k: K,
    i: Uuid,
}

/// A page of a list ordered by a key `K` and the id, as asked for.
struct Keyset<K> {
    limit: i64,
    after: Option<(K, Uuid)>,
}

impl PageParams {
    /// The page asked for: 422 for a limit out of range, 400 for a cursor this list did
    /// not issue.
    fn keyset<K: DeserializeOwned>(&self) -> Result<Keyset<K>, ApiError> {
        let limit = limit(self.limit)?;
        let after = after::<KeyCursor<K>>(self.cursor.as_deref())?.map(|c| (c.k, c.i));
        Ok(Keyset { limit, after })
    }
}

impl<K: Serialize + Clone> Keyset<K> {
    /// The rows to load: one more than the page holds tells whether another follows.
    fn window(&self) -> Window<K> {
        Window {
            after: self.after.clone(),
            limit: self.limit + 1,
        }
    }

    /// The page of loaded `items`, whose cursor `key` makes from the last item.
    fn page<T: ToSchema>(&self, items: Vec<T>, key: impl Fn(&T) -> (K, Uuid)) -> Page<T> {
        page(items, self.limit, |last| {
            let (k, i) = key(last);
            KeyCursor { k, i }
        })
    }
}

impl PageParams {
    /// Answers the page asked for of a list `load` reads in the order of key `K` (then id),
    /// `key` being an item's place in that order.
    pub async fn answer<T, K>(
        &self,
        state: &AppState,
        load: impl FnOnce(&mut DbConnection, &Window<K>) -> Result<Vec<T>, StoreError> + Send + 'static,
        key: impl Fn(&T) -> (K, Uuid),
    ) -> ApiResult<HttpResponse>
    where
        T: ToSchema + Serialize + Send + 'static,
        K: Serialize + DeserializeOwned + Clone + Send + 'static,
    {
        let keyset = self.keyset::<K>()?;
        let window = keyset.window();
        let items = state.db(move |conn| load(conn, &window)).await?;
        Ok(Reply::ok(&keyset.page(items, key)).into_response())
    }

    /// `answer`, or when `export` asks for a file, every row from the cursor on (the page
    /// size does not apply).
    pub async fn answer_or_export<T, K>(
        &self,
        state: &web::Data<AppState>,
        export: Export,
        load: impl Fn(&mut DbConnection, &Window<K>) -> Result<Vec<T>, StoreError>
            + Send
            + Sync
            + 'static,
        key: impl Fn(&T) -> (K, Uuid) + Send + Sync + 'static,
    ) -> ApiResult<HttpResponse>
    where
        T: ToSchema + Serialize + Send + 'static,
        K: Serialize + DeserializeOwned + Clone + Send + 'static,
    {
        let Export(Some(format)) = export else {
            return self.answer(state, load, key).await;
        };
        let start = self.keyset::<K>()?.after;
        Ok(export::stream(
            state.clone(),
            format,
            start,
            move |conn, after, limit| load(conn, &Window { after, limit }),
            key,
        ))
    }
}

/// Which way a sorted list runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SortDirection {
    Asc,
    Desc,
}

/// Declares a list's `sort` parameter: the columns it offers, the first one the default, and
/// their mapping onto the store's sort column type.
macro_rules! list_sort {
    ($(#[$meta:meta])* $name:ident => $field:ty { $default:ident $(, $other:ident)* $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Debug, Clone, Copy, Default, PartialEq, Eq,
            serde::Serialize, serde::Deserialize, utoipa::ToSchema,
        )]
        #[serde(rename_all = "snake_case")]
        pub enum $name {
            #[default]
            $default,
            $($other),*
        }

        impl From<$name> for $field {
            fn from(sort: $name) -> $field {
                match sort {
                    $name::$default => <$field>::$default,
                    $($name::$other => <$field>::$other),*
                }
            }
        }
    };
}
pub(crate) use list_sort;

/// Where a page of a list the client sorts ended; the sort and its direction are kept, so a
/// cursor is refused with another.
#[derive(Serialize, Deserialize)]
struct SortedCursor<S> {
    s: S,
    d: SortDirection,
    k: SortKey,
    i: Uuid,
}

/// The page asked for of a list the client sorts by `S` (a list's `sort` parameter).
pub struct SortedPage<S> {
    sort: S,
    direction: SortDirection,
    limit: i64,
    after: Option<(SortKey, Uuid)>,
}

impl<S: Serialize + DeserializeOwned + PartialEq + Copy> SortedPage<S> {
    /// 400 for a limit out of range, or a cursor this list did not issue for this sort.
    pub fn read(
        limit: Option<i64>,
        cursor: Option<&str>,
        sort: S,
        direction: SortDirection,
    ) -> Result<Self, ApiError> {
        let limit = self::limit(limit)?;
        let after = match after::<SortedCursor<S>>(cursor)? {
            None => None,
            Some(c) if c.s == sort && c.d == direction => Some((c.k, c.i)),
            Some(_) => {
                return Err(ApiError::new(
                    ErrorCode::InvalidCursor,
                    "the cursor belongs to another sort order",
                ))
            }
        };
        Ok(SortedPage {
            sort,
            direction,
            limit,
            after,
        })
    }

    /// Answers the page asked for, or when `export` asks for a file every row from the
    /// cursor on: `load` reads rows in the sort `F` (the column `S` names) after its `after`,
    /// at most the number given; `key` is a row's sort key and id.
    pub async fn answer<T, F>(
        self,
        state: &web::Data<AppState>,
        export: Export,
        load: impl Fn(&mut DbConnection, Sorting<F>, i64) -> Result<Vec<T>, StoreError>
            + Send
            + Sync
            + 'static,
        key: impl Fn(&T, S) -> (SortKey, Uuid) + Send + Sync + 'static,
    ) -> ApiResult<HttpResponse>
    where
        S: Send + Sync + 'static,
        F: From<S> + Send + 'static,
        T: ToSchema + Serialize + Send + 'static,
    {
        let (sort, descending) = (self.sort, self.direction == SortDirection::Desc);
        let sorting = move |after| Sorting {
            field: sort.into(),
            descending,
            after,
        };
        match export {
            Export(None) => {
                let (first, rows) = (sorting(self.after.clone()), self.limit + 1);
                let items = state.db(move |conn| load(conn, first, rows)).await?;
                let page = page(items, self.limit, |last| {
                    let (k, i) = key(last, sort);
                    SortedCursor {
                        s: sort,
                        d: self.direction,
                        k,
                        i,
                    }
                });
                Ok(Reply::ok(&page).into_response())
            }
            Export(Some(format)) => Ok(export::stream(
                state.clone(),
                format,
                self.after,
                move |conn, after, rows| load(conn, sorting(after), rows),
                move |row| key(row, sort),
            )),
        }
    }
}

/// The key cursors are signed with: derived from the token signing secret, which every
/// instance on one database shares, so a cursor one instance issued is taken by another.
static KEY: OnceLock<Vec<u8>> = OnceLock::new();

/// Bytes of the signature kept in a cursor: 128 bits.
const TAG: usize = 16;

/// Keys this process's cursors; the first call wins (one process serves one database).
pub fn set_key(secret: &[u8]) {
    let _ = KEY.set(
        mac_with(secret)
            .chain_update(b"credo cursors")
            .finalize()
            .into_bytes()
            .to_vec(),
    );
}

fn mac_with(key: &[u8]) -> Hmac<Sha256> {
    Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any length")
}

fn mac() -> Hmac<Sha256> {
    mac_with(KEY.get_or_init(|| crate::auth::random_secret().into_bytes()))
}

/// Encodes a cursor state as URL-safe text: the state, a dot, its signature.
pub(crate) fn encode<T: Serialize>(state: &T) -> String {
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let payload = serde_json::to_vec(state).expect("serialisable");
    let tag = mac().chain_update(&payload).finalize().into_bytes();
    format!("{}.{}", engine.encode(&payload), engine.encode(&tag[..TAG]))
}

/// Decodes a cursor made by `encode`; anything else is 400 `invalid_cursor`.
pub(crate) fn decode<T: DeserializeOwned>(cursor: &str) -> Result<T, ApiError> {
    let invalid = || {
        ApiError::new(
            ErrorCode::InvalidCursor,
            "the cursor is not one this list issued",
        )
    };
    let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let (payload, tag) = cursor.split_once('.').ok_or_else(invalid)?;
    let payload = engine.decode(payload).map_err(|_| invalid())?;
    let tag = engine.decode(tag).map_err(|_| invalid())?;
    if tag.len() != TAG {
        return Err(invalid());
    }
    mac()
        .chain_update(&payload)
        .verify_truncated_left(&tag)
        .map_err(|_| invalid())?;
    serde_json::from_slice(&payload).map_err(|_| invalid())
}

/// Where the page starts: the decoded `cursor`, or the first page when it is absent or
/// empty (`?cursor=`).
pub fn after<T: DeserializeOwned>(cursor: Option<&str>) -> Result<Option<T>, ApiError> {
    cursor.filter(|c| !c.is_empty()).map(decode).transpose()
}

/// The page size to use: default when absent, 422 outside 1..=200.
pub fn limit(requested: Option<i64>) -> Result<i64, ApiError> {
    in_range("limit", requested, 1..=MAX_LIMIT, DEFAULT_LIMIT)
}

/// A numeric query parameter: `default` when absent, 400 `invalid_query` naming it when out
/// of `range`.
pub fn in_range<T: PartialOrd + Copy + std::fmt::Display>(
    name: &str,
    requested: Option<T>,
    range: std::ops::RangeInclusive<T>,
    default: T,
) -> Result<T, ApiError> {
    match requested {
        None => Ok(default),
        Some(value) if range.contains(&value) => Ok(value),
        Some(_) => {
            let message = format!("{name} is {} to {}", range.start(), range.end());
            let errors = vec![credo_core::FieldError::new(
                name,
                FieldCode::OutOfRange,
                message.clone(),
            )];
            Err(ApiError::new(ErrorCode::InvalidQuery, message).with_errors(errors))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Serialize, serde::Deserialize)]
    struct Probe {
        a: String,
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_rejected() {
        let cursor = encode(&Probe { a: "深圳".into() });
        assert_eq!(decode::<Probe>(&cursor).unwrap().a, "深圳");
        assert_eq!(
            decode::<Probe>("not a cursor!").unwrap_err().code,
            ErrorCode::InvalidCursor
        );
        assert_eq!(
            decode::<Probe>(&encode(&1)).unwrap_err().code,
            ErrorCode::InvalidCursor
        );
        // The same state with another value, or unsigned, is refused.
        let (_, tag) = cursor.split_once('.').unwrap();
        let engine = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let forged = format!("{}.{tag}", engine.encode(br#"{"a":"x' OR 1=1"}"#));
        for bad in [forged, engine.encode(br#"{"a":"x"}"#)] {
            assert_eq!(
                decode::<Probe>(&bad).unwrap_err().code,
                ErrorCode::InvalidCursor
            );
        }
    }

    #[test]
    fn limits() {
        assert_eq!(limit(None).unwrap(), DEFAULT_LIMIT);
        assert_eq!(limit(Some(200)).unwrap(), 200);
        assert!(limit(Some(0)).is_err());
        assert!(limit(Some(201)).is_err());
    }
}
