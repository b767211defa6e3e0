//! `Params<T>`: request parameters as Mastodon (Rails) reads them — the query string merged with a
//! JSON, form-encoded or multipart body — so every endpoint accepts what every client sends.
//!
//! Form and multipart keys use Rails brackets: `a[b]=1` is `{"a": {"b": "1"}}`, `a[]=1&a[]=2` is
//! `{"a": ["1", "2"]}`, `a[0][name]=x` is `{"a": {"0": {"name": "x"}}}`. Form values are strings,
//! so typed fields use the lenient deserializers in [`super::lenient`].

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::AppError;

/// A file part of a multipart body.
#[derive(Debug)]
pub struct UploadedFile {
    pub field: String,
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub bytes: Bytes,
}

/// Parameters of type `T`, plus any uploaded files.
///
/// Errors: 400 for a body that is not valid JSON, form or multipart; 422 when the parameters do
/// not fit `T` (wrong type, missing required field).
pub struct Params<T> {
    pub value: T,
    pub files: Vec<UploadedFile>,
}

/// Splits `a[b][]` into `["a", "b", ""]`.
fn key_segments(key: &str) -> Vec<&str> {
    let Some(open) = key.find('[') else {
        return vec![key];
    };
    let mut segs = vec![&key[..open]];
    let mut rest = &key[open..];
    while let Some(stripped) = rest.strip_prefix('[') {
        let Some(close) = stripped.find(']') else {
            break;
        };
        segs.push(&stripped[..close]);
        rest = &stripped[close + 1..];
    }
    segs
}

/// Inserts `value` at the bracketed `key` in `tree` (a JSON object).
pub fn insert_param(tree: &mut Map<String, Value>, key: &str, value: Value) {
    let segs = key_segments(key);
    if segs[0].is_empty() {
        return;
    }
    insert_at(tree, &segs, value);
}

fn insert_at(obj: &mut Map<String, Value>, segs: &[&str], value: Value) {
    let (head, rest) = (segs[0], &segs[1..]);
    if rest.is_empty() {
        obj.insert(head.to_string(), value);
        return;
    }
    if rest[0].is_empty() {
        // `head[]` (possibly `head[][x]`, which Rails also treats as a list).
        let slot = obj
            .entry(head.to_string())
            .or_insert_with(|| Value::Array(Vec::new()));
        if !slot.is_array() {
            *slot = Value::Array(Vec::new());
        }
        if let Value::Array(list) = slot {
            if rest.len() == 1 {
                list.push(value);
            } else {
                let mut inner = Map::new();
                insert_at(&mut inner, &rest[1..], value);
                list.push(Value::Object(inner));
            }
        }
        return;
    }
    let slot = obj
        .entry(head.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    if let Value::Object(inner) = slot {
        insert_at(inner, rest, value);
    }
}

fn insert_form(tree: &mut Map<String, Value>, bytes: &[u8]) {
    for (k, v) in url::form_urlencoded::parse(bytes) {
        insert_param(tree, &k, Value::String(v.into_owned()));
    }
}

impl<S, T> FromRequest<S> for Params<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let mut tree = Map::new();
        if let Some(q) = req.uri().query() {
            insert_form(&mut tree, q.as_bytes());
        }
        let content_type = req
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_ascii_lowercase();
        let mut files = Vec::new();
        if content_type.starts_with("multipart/form-data") {
            let mut mp = Multipart::from_request(req, state)
                .await
                .map_err(|e| AppError::bad_request(format!("Malformed multipart body: {e}")))?;
            while let Some(field) = mp
                .next_field()
                .await
                .map_err(|e| AppError::bad_request(format!("Malformed multipart body: {e}")))?
            {
                let name = field.name().unwrap_or("").to_string();
                let file_name = field.file_name().map(String::from);
                let part_type = field.content_type().map(String::from);
                let bytes = field.bytes().await.map_err(|e| {
                    if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                        AppError::unprocessable(
                            "Validation failed: File is larger than this server accepts",
                        )
                    } else {
                        AppError::bad_request(format!("Malformed multipart body: {e}"))
                    }
                })?;
                if file_name.is_some() {
                    files.push(UploadedFile {
                        field: name,
                        file_name,
                        content_type: part_type,
                        bytes,
                    });
                } else {
                    let text = String::from_utf8(bytes.to_vec()).map_err(|_| {
                        AppError::bad_request(format!("Multipart field {name:?} is not UTF-8"))
                    })?;
                    insert_param(&mut tree, &name, Value::String(text));
                }
            }
        } else {
            let bytes = Bytes::from_request(req, state)
                .await
                .map_err(|e| AppError::bad_request(format!("Cannot read the request body: {e}")))?;
            let is_json = content_type.starts_with("application/json")
                || (content_type.is_empty() && bytes.first() == Some(&b'{'));
            if is_json {
                if !bytes.iter().all(u8::is_ascii_whitespace) {
                    let body: Value = serde_json::from_slice(&bytes).map_err(|e| {
                        AppError::bad_request(format!("The request body is not valid JSON: {e}"))
                    })?;
                    let Value::Object(obj) = body else {
                        return Err(AppError::bad_request("The JSON body must be an object"));
                    };
                    tree.extend(obj);
                }
            } else {
                insert_form(&mut tree, &bytes);
            }
        }
        let value = serde_json::from_value(Value::Object(tree))
            .map_err(|e| AppError::unprocessable(format!("Invalid parameters: {e}")))?;
        Ok(Params { value, files })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn rails_brackets() {
        let mut t = Map::new();
        insert_form(
            &mut t,
            b"a=1&ids[]=1&ids[]=2&source[privacy]=private&fields_attributes[0][name]=x&fields_attributes[0][value]=y",
        );
        assert_eq!(
            Value::Object(t),
            json!({"a": "1", "ids": ["1", "2"], "source": {"privacy": "private"},
                   "fields_attributes": {"0": {"name": "x", "value": "y"}}})
        );
    }
}
