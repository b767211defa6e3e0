//! Deserializers that accept both JSON types and the strings form bodies carry
//! (`"true"`, `"1"`, `"on"` for booleans; `"20"` for numbers), as Rails does for Mastodon.

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};
use std::fmt;

fn parse_bool_str(s: &str) -> Option<bool> {
    match s.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "on" | "yes" | "t" => Some(true),
        "false" | "0" | "off" | "no" | "f" | "" => Some(false),
        _ => None,
    }
}

struct BoolVisitor;

impl<'de> Visitor<'de> for BoolVisitor {
    type Value = Option<bool>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a boolean")
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v != 0))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v != 0))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        parse_bool_str(v)
            .map(Some)
            .ok_or_else(|| E::custom(format!("{v:?} is not a boolean")))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
}

/// `Option<bool>` from a bool, number or string; null stays `None`.
pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    d.deserialize_any(BoolVisitor)
}

/// `bool` from a bool, number or string; null is `false`.
pub fn bool<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(opt_bool(d)?.unwrap_or(false))
}

/// `Option<i64>` from a number or a numeric string; null or `""` is `None`.
pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    opt_number(d)
}

/// `Option<f64>` from a number or a numeric string; null or `""` is `None`.
pub fn opt_f64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    opt_number(d)
}

fn opt_number<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + std::str::FromStr,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum NumOrStr<T> {
        Num(T),
        Str(String),
    }
    match Option::<NumOrStr<T>>::deserialize(d)? {
        None => Ok(None),
        Some(NumOrStr::Num(n)) => Ok(Some(n)),
        Some(NumOrStr::Str(s)) if s.trim().is_empty() => Ok(None),
        Some(NumOrStr::Str(s)) => s
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| de::Error::custom(format!("{s:?} is not a number"))),
    }
}

/// A list from either a list or a single value (`id=1` and `id[]=1` both work).
pub fn one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        Many(Vec<serde_json::Value>),
        One(serde_json::Value),
    }
    let to_s = |v: serde_json::Value| match v {
        serde_json::Value::String(s) => Some(s),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        None => Vec::new(),
        Some(OneOrMany::Many(list)) => list.into_iter().filter_map(to_s).collect(),
        Some(OneOrMany::One(v)) => to_s(v).into_iter().collect(),
    })
}

/// As [`one_or_many`], but tells an absent field (`None`) from an empty list; empty strings (a
/// form's `media_ids[]=`) are dropped, so they mean "none".
pub fn opt_one_or_many<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    let list = one_or_many(d)?;
    Ok(Some(list.into_iter().filter(|s| !s.is_empty()).collect()))
}
