//! PeerTube's `Video` object (docs.joinpeertube.org/api/activitypub), read as the `Note` it stands
//! for: the title and description as content, the best MP4 as the one `Document` attachment (with
//! the largest thumbnail from `icon` as its `preview`), the account (not the channel) as author,
//! and `duration` kept so a clip of at most 180 s becomes a short.

use serde_json::{Value, json};

use super::note::Note;
use crate::text::escape;

/// Tallest rendition preferred; taller ones are only used when nothing else exists.
const PREFERRED_MAX_HEIGHT: u64 = 1080;

/// MP4 `Link`s of a Video's `url` list, those inside HLS playlists' `tag` last (fragmented MP4s
/// play less widely): `(href, height, from_playlist)`.
fn mp4_links(url: &Value) -> Vec<(String, u64, bool)> {
    let mut out = Vec::new();
    let visit = |links: &Value, nested: bool, out: &mut Vec<(String, u64, bool)>| {
        for l in links.as_array().into_iter().flatten() {
            if l.get("mediaType").and_then(Value::as_str) == Some("video/mp4")
                && let Some(href) = l.get("href").and_then(Value::as_str)
            {
                let h = l.get("height").and_then(Value::as_u64).unwrap_or(0);
                out.push((href.to_string(), h, nested));
            }
        }
    };
    visit(url, false, &mut out);
    for l in url.as_array().into_iter().flatten() {
        if let Some(tag) = l.get("tag") {
            visit(tag, true, &mut out);
        }
    }
    out
}

/// The best MP4: a progressive one before a playlist fragment, then the tallest up to 1080 lines,
/// else the shortest taller one.
fn best_mp4(url: &Value) -> Option<(String, u64)> {
    let links = mp4_links(url);
    let pick = |from_playlist: bool| {
        let of_kind = links.iter().filter(|l| l.2 == from_playlist);
        of_kind
            .clone()
            .filter(|l| l.1 <= PREFERRED_MAX_HEIGHT)
            .max_by_key(|l| l.1)
            .or_else(|| of_kind.min_by_key(|l| l.1))
            .map(|l| (l.0.clone(), l.1))
    };
    pick(false).or_else(|| pick(true))
}

/// The account among `attributedTo` (a `Person`, else the first id given).
fn author(attributed_to: &Value) -> Option<String> {
    let entries: Vec<&Value> = match attributed_to {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    let id_of = |v: &Value| match v {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("id").and_then(Value::as_str).map(String::from),
        _ => None,
    };
    entries
        .iter()
        .find(|v| v.get("type").and_then(Value::as_str) == Some("Person"))
        .and_then(|v| id_of(v))
        .or_else(|| entries.first().and_then(|v| id_of(v)))
}

/// The Note a PeerTube `Video` stands for. Errors: no author, or no MP4 rendition.
pub fn video_to_note(v: &Value) -> anyhow::Result<Note> {
    let author = v
        .get("attributedTo")
        .and_then(author)
        .ok_or_else(|| anyhow::anyhow!("a Video without an author"))?;
    let url = v.get("url").cloned().unwrap_or(Value::Null);
    let (mp4, height) =
        best_mp4(&url).ok_or_else(|| anyhow::anyhow!("a Video without an MP4 rendition"))?;
    let page = url
        .as_array()
        .into_iter()
        .flatten()
        .find(|l| l.get("mediaType").and_then(Value::as_str) == Some("text/html"))
        .and_then(|l| l.get("href").cloned());
    let title = v.get("name").and_then(Value::as_str).unwrap_or_default();
    let description = v.get("content").and_then(Value::as_str).unwrap_or_default();
    let mut content = format!("<p>{}</p>", escape(title));
    if !description.is_empty() {
        content.push_str(&format!("<p>{}</p>", escape(description)));
    }
    let thumbnail = v
        .get("icon")
        .and_then(Value::as_array)
        .and_then(|icons| {
            icons
                .iter()
                .max_by_key(|i| i.get("width").and_then(Value::as_u64).unwrap_or(0))
        })
        .and_then(|i| i.get("url").cloned());
    let mut attachment = json!({
        "type": "Document",
        "mediaType": "video/mp4",
        "url": mp4,
        "name": title,
    });
    if height > 0 {
        attachment["height"] = json!(height);
        if let Some(ratio) = v
            .get("aspectRatio")
            .and_then(Value::as_f64)
            .filter(|r| *r > 0.0)
        {
            attachment["width"] = json!((height as f64 * ratio).round() as u64);
        }
    }
    if let Some(t) = thumbnail {
        attachment["preview"] = json!({ "type": "Image", "mediaType": "image/jpeg", "url": t });
    }
    let note = json!({
        "id": v.get("id"),
        "type": "Video",
        "attributedTo": author,
        "to": v.get("to").cloned().unwrap_or(json!([])),
        "cc": v.get("cc").cloned().unwrap_or(json!([])),
        "content": content,
        "sensitive": v.get("sensitive").cloned().unwrap_or(json!(false)),
        "published": v.get("published"),
        "updated": v.get("updated"),
        "url": page,
        "tag": v.get("tag").cloned().unwrap_or(json!([])),
        "attachment": [attachment],
        "duration": v.get("duration"),
    });
    Ok(serde_json::from_value(note)?)
}

/// Deserializes a `Create`'s object: a `Note` (or `Question`, `Article` …), or a PeerTube `Video`
/// read through [`video_to_note`].
pub fn note_or_video<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Note, D::Error> {
    let v: Value = serde::Deserialize::deserialize(d)?;
    if v.get("type").and_then(Value::as_str) == Some("Video") {
        video_to_note(&v).map_err(serde::de::Error::custom)
    } else {
        serde_json::from_value(v).map_err(serde::de::Error::custom)
    }
}
