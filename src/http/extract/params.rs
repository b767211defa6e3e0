//! `Params<T>`: request parameters as Mastodon (Rails) reads them — the query string merged with a
//! JSON, form-encoded or multipart body — so every endpoint accepts what every client sends.
//!
//! Query, form and multipart keys use Rails brackets, read by `serde_qs`: `a[b]=1` is
//! `{"a": {"b": "1"}}`, `a[]=1&a[]=2` is `{"a": ["1", "2"]}`, `a[0][name]=x` is
//! `{"a": [{"name": "x"}]}`. Unlike Rails, a repeated plain key (`a=1&a=2`) is a list, not its last
//! value. Form values are strings, so typed fields use the lenient deserializers in
//! [`super::lenient`]. Every source is bounded before it is parsed ([`MAX_DEPTH`], [`MAX_PARAMS`];
//! the body size by the router's limit), so no request can make parsing deep or long.

use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Request};
use axum::http::header::CONTENT_TYPE;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::error::{AppError, AppResult};

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

/// Deepest bracket nesting accepted in one key (`a[b][c]` is 2), as Rack 3 (Rails) allows; deeper
/// keys are refused before they are parsed, and `serde_qs` itself stops nesting there (the rest of
/// a key it reads as one, as it does where `&` falls inside brackets, becomes one literal name).
pub const MAX_DEPTH: usize = 32;

/// Deepest JSON a parsed source can be: the top object, [`MAX_DEPTH`] levels, the literal name
/// holding the rest of a deeper key, and a list of its repeated values.
pub const MAX_TREE_DEPTH: usize = MAX_DEPTH + 3;

/// Most parameters accepted from one source (the query string, a form body, or a multipart body's
/// parts), as Rack 3.1 (Rails) allows.
pub const MAX_PARAMS: usize = 4096;

/// Refuses a form-encoded `source` with more than [`MAX_PARAMS`] pairs or a key nested deeper than
/// [`MAX_DEPTH`], counting percent-encoded brackets too. Linear in the input, without parsing it.
fn check_bounds(source: &[u8]) -> AppResult<()> {
    let mut count = 0;
    for pair in source.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        count += 1;
        if count > MAX_PARAMS {
            return Err(AppError::bad_request(format!(
                "Too many parameters (at most {MAX_PARAMS})"
            )));
        }
        let key = pair.split(|b| *b == b'=').next().unwrap_or_default();
        let depth = key.iter().filter(|b| **b == b'[').count()
            + key
                .windows(3)
                .filter(|w| w[0] == b'%' && w[1] == b'5' && w[2].eq_ignore_ascii_case(&b'b'))
                .count();
        if depth > MAX_DEPTH {
            return Err(AppError::bad_request(format!(
                "Parameter keys may be nested at most {MAX_DEPTH} levels deep"
            )));
        }
    }
    Ok(())
}

/// Parses form-encoded `source` (a query string or an `application/x-www-form-urlencoded` body)
/// into a JSON object, with Rails' bracket keys read by `serde_qs`.
///
/// Errors: 400 past [`check_bounds`], for malformed keys (`a[`), for sparse list indices
/// (`a[5]=x` without `a[0]`…`a[4]`: `serde_qs` reads numeric keys as list positions), and for
/// invalid UTF-8.
pub fn form_tree(source: &[u8]) -> AppResult<Map<String, Value>> {
    check_bounds(source)?;
    let parsed: Value = serde_qs::Config::new()
        .max_depth(MAX_DEPTH)
        .use_form_encoding(true)
        .deserialize_bytes(source)
        .map_err(|e| AppError::bad_request(format!("Invalid parameters: {e}")))?;
    match parsed {
        Value::Object(mut map) => {
            map.values_mut().for_each(|v| blank_nulls(v, 0));
            Ok(map)
        }
        Value::Null => Ok(Map::new()),
        _ => Err(AppError::bad_request(
            "Invalid parameters: every parameter needs a name",
        )),
    }
}

/// A key without a value (`?local`) comes out of `serde_qs` as null; Rails and the typed fields
/// here read it as an empty string. The recursion stops at [`MAX_TREE_DEPTH`], which the parsed
/// tree never passes.
fn blank_nulls(v: &mut Value, depth: usize) {
    match v {
        Value::Null => *v = Value::String(String::new()),
        Value::Array(items) if depth < MAX_TREE_DEPTH => {
            items.iter_mut().for_each(|i| blank_nulls(i, depth + 1))
        }
        Value::Object(map) if depth < MAX_TREE_DEPTH => {
            map.values_mut().for_each(|i| blank_nulls(i, depth + 1))
        }
        _ => {}
    }
}

/// Whether a parameter (a string, or any string or key inside it) holds a NUL character. A parsed
/// tree is at most 128 levels deep (serde_json's limit; brackets give fewer): the recursion stops
/// past that.
fn has_nul(v: &Value, depth: usize) -> bool {
    const DEEPEST: usize = 130;
    match v {
        Value::String(s) => s.contains('\0'),
        Value::Array(items) if depth < DEEPEST => items.iter().any(|i| has_nul(i, depth + 1)),
        Value::Object(map) if depth < DEEPEST => map
            .iter()
            .any(|(k, i)| k.contains('\0') || has_nul(i, depth + 1)),
        _ => false,
    }
}

impl<S, T> FromRequest<S> for Params<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        // The body's parameters win over the query string's, key by key at the top level.
        let mut tree = match req.uri().query() {
            Some(q) => form_tree(q.as_bytes())?,
            None => Map::new(),
        };
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
            // Text parts are re-encoded as one form so that their names go through the same
            // bracket parser, with the same bounds, as a form body's.
            let mut text_parts: Vec<(String, String)> = Vec::new();
            let mut parts = 0;
            while let Some(field) = mp
                .next_field()
                .await
                .map_err(|e| AppError::bad_request(format!("Malformed multipart body: {e}")))?
            {
                parts += 1;
                if parts > MAX_PARAMS {
                    return Err(AppError::bad_request(format!(
                        "Too many parameters (at most {MAX_PARAMS})"
                    )));
                }
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
                    let text = std::str::from_utf8(&bytes).map_err(|_| {
                        AppError::bad_request(format!("Multipart field {name:?} is not UTF-8"))
                    })?;
                    text_parts.push((name, text.to_string()));
                }
            }
            let form = url::form_urlencoded::Serializer::new(String::new())
                .extend_pairs(&text_parts)
                .finish();
            tree.extend(form_tree(form.as_bytes())?);
        } else {
            let bytes = Bytes::from_request(req, state).await.map_err(|e| {
                if e.status() == axum::http::StatusCode::PAYLOAD_TOO_LARGE {
                    AppError::PayloadTooLarge
                } else {
                    AppError::bad_request(format!("Cannot read the request body: {e}"))
                }
            })?;
            let is_json = content_type.starts_with("application/json")
                || (content_type.is_empty() && bytes.first() == Some(&b'{'));
            if is_json {
                if !bytes.iter().all(u8::is_ascii_whitespace) {
                    // serde_json refuses nesting past 128 levels on its own.
                    let body: Value = serde_json::from_slice(&bytes).map_err(|e| {
                        AppError::bad_request(format!("The request body is not valid JSON: {e}"))
                    })?;
                    let Value::Object(obj) = body else {
                        return Err(AppError::bad_request("The JSON body must be an object"));
                    };
                    tree.extend(obj);
                }
            } else {
                tree.extend(form_tree(&bytes)?);
            }
        }
        if tree.iter().any(|(k, v)| k.contains('\0') || has_nul(v, 0)) {
            // No text column (PostgreSQL's least of all) stores a NUL: refused here, for all.
            return Err(AppError::unprocessable(
                "Invalid parameters: text may not contain NUL characters",
            ));
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
        let t = form_tree(
            b"a=1&ids[]=1&ids[]=2&source[privacy]=private&fields_attributes[0][name]=x&fields_attributes[0][value]=y\
              &data[alerts][mention]=true&poll[options][]=a&poll[options][]=b&local&media_ids%5B%5D=5",
        )
        .unwrap();
        assert_eq!(
            Value::Object(t),
            json!({"a": "1", "ids": ["1", "2"], "source": {"privacy": "private"},
                   "fields_attributes": [{"name": "x", "value": "y"}],
                   "data": {"alerts": {"mention": "true"}}, "poll": {"options": ["a", "b"]},
                   "local": "", "media_ids": ["5"]})
        );
        assert!(form_tree(b"").unwrap().is_empty());
        assert!(form_tree(b"&&a=1&").unwrap().contains_key("a"));
    }

    fn tree_depth(v: &Value) -> usize {
        match v {
            Value::Object(m) => 1 + m.values().map(tree_depth).max().unwrap_or(0),
            Value::Array(a) => 1 + a.iter().map(tree_depth).max().unwrap_or(0),
            _ => 0,
        }
    }

    #[test]
    fn bounds_are_checked_before_parsing() {
        let deep = format!("a{}=1", "[b]".repeat(20_000));
        assert!(matches!(
            form_tree(deep.as_bytes()),
            Err(AppError::BadRequest(_))
        ));
        let encoded = format!("a{}=1", "%5Bb%5d".repeat(MAX_DEPTH + 1));
        assert!(matches!(
            form_tree(encoded.as_bytes()),
            Err(AppError::BadRequest(_))
        ));
        let at_limit = format!("a{}=1", "[b]".repeat(MAX_DEPTH));
        assert!(form_tree(at_limit.as_bytes()).is_ok());
        let many = "a[]=1&".repeat(MAX_PARAMS + 1);
        assert!(matches!(
            form_tree(many.as_bytes()),
            Err(AppError::BadRequest(_))
        ));
        assert!(form_tree("a[]=1&".repeat(MAX_PARAMS).as_bytes()).is_ok());
        // Found by the fuzzer: `&` inside brackets does not end a key for serde_qs, so keys that
        // each pass the bound can join into a deeper one. serde_qs still stops at MAX_DEPTH.
        let joined = "a[b]".to_string() + &"[c&[d]".repeat(40) + "=1";
        if let Ok(t) = form_tree(joined.as_bytes()) {
            assert!(tree_depth(&Value::Object(t)) <= MAX_TREE_DEPTH);
        }
        for bad in [&b"a[=1"[..], b"[]=1", b"a=%FF", b"a=1&a[]=2"] {
            assert!(
                matches!(form_tree(bad), Err(AppError::BadRequest(_))),
                "{bad:?}"
            );
        }
    }
}
