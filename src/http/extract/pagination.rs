//! Mastodon pagination: `max_id`, `since_id`, `min_id`, `limit` in, a `Link` header out
//! (docs.joinmastodon.org/api/guidelines/#pagination).

use axum::http::{HeaderValue, Uri, header::LINK};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::http::extract::lenient;
use crate::service::Page;

/// Default and largest page sizes of timelines and most lists.
pub const DEFAULT_LIMIT: i64 = 20;
pub const MAX_LIMIT: i64 = 40;

#[derive(Clone, Debug, Default, Deserialize)]
pub struct PageParams {
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub max_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub since_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub min_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    pub limit: Option<i64>,
}

impl PageParams {
    /// The page with `limit` clamped to 1..=`max` (default `default`).
    pub fn page_with(&self, default: i64, max: i64) -> Page {
        Page {
            max_id: self.max_id,
            since_id: self.since_id,
            min_id: self.min_id,
            limit: self.limit.unwrap_or(default).clamp(1, max),
        }
    }

    pub fn page(&self) -> Page {
        self.page_with(DEFAULT_LIMIT, MAX_LIMIT)
    }
}

/// A JSON array response (`api_types::json_array`).
fn json_list<T: Serialize>(items: &[T]) -> Response {
    match crate::api_types::json_array(items) {
        Ok(body) => json_body(body),
        Err(e) => crate::error::AppError::Internal(e.into()).into_response(),
    }
}

fn json_body(body: Vec<u8>) -> Response {
    (
        [(
            axum::http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// A JSON list with a `Link` header pointing at the next (older) and previous (newer) pages.
/// `ids` are the pagination IDs of the items in order (newest first); other query parameters of
/// the request are kept.
pub fn paged<T: Serialize>(base_url: &str, uri: &Uri, items: Vec<T>, ids: &[i64]) -> Response {
    with_link(json_list(&items), base_url, uri, ids)
}

/// [`paged`] for a list already serialized (`body` is a JSON array).
pub fn paged_json(base_url: &str, uri: &Uri, body: Vec<u8>, ids: &[i64]) -> Response {
    with_link(json_body(body), base_url, uri, ids)
}

fn with_link(mut resp: Response, base_url: &str, uri: &Uri, ids: &[i64]) -> Response {
    if let (Some(first), Some(last)) = (ids.first(), ids.last()) {
        let kept: Vec<(String, String)> = uri
            .query()
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .filter(|(k, _)| {
                        !matches!(
                            k.as_ref(),
                            "max_id" | "since_id" | "min_id" | "access_token"
                        )
                    })
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        let link_to = |key: &str, id: i64| {
            let mut ser = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in &kept {
                ser.append_pair(k, v);
            }
            ser.append_pair(key, &id.to_string());
            format!("{base_url}{}?{}", uri.path(), ser.finish())
        };
        let link = format!(
            "<{}>; rel=\"next\", <{}>; rel=\"prev\"",
            link_to("max_id", *last),
            link_to("min_id", *first)
        );
        if let Ok(v) = HeaderValue::from_str(&link) {
            resp.headers_mut().insert(LINK, v);
        }
    }
    resp
}
