//! Status text → HTML (mentions, hashtags, links) and the sanitiser remote HTML goes through:
//! no panic, and nothing executable survives either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rookery::service::text;

/// Whether `html` has a script element, an event-handler attribute or a `javascript:` URL inside
/// a tag. Text between tags is escaped, so `<` always starts a tag there.
fn executable(html: &str) -> bool {
    let lower = html.to_ascii_lowercase();
    lower.split('<').skip(1).any(|rest| {
        let tag = rest.split('>').next().unwrap_or("");
        let name_end = tag
            .find(|c: char| c.is_ascii_whitespace() || c == '/')
            .unwrap_or(tag.len());
        tag[..name_end] == *"script"
            || attributes(&tag[name_end..]).iter().any(|(name, value)| {
                name.starts_with("on") || value.trim_start().starts_with("javascript:")
            })
    })
}

/// `name="value"` pairs of a tag's attribute text (quoted, single-quoted or bare values).
fn attributes(mut s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    loop {
        s = s.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '/');
        if s.is_empty() {
            return out;
        }
        let name_end = s
            .find(|c: char| c.is_ascii_whitespace() || c == '=' || c == '/')
            .unwrap_or(s.len());
        let name = s[..name_end].to_string();
        s = s[name_end..].trim_start();
        let mut value = String::new();
        if let Some(rest) = s.strip_prefix('=') {
            let rest = rest.trim_start();
            let (v, after) = match rest.chars().next() {
                Some(q @ ('"' | '\'')) => {
                    let body = &rest[1..];
                    let end = body.find(q).unwrap_or(body.len());
                    (&body[..end], body.get(end + 1..).unwrap_or(""))
                }
                _ => {
                    let end = rest
                        .find(|c: char| c.is_ascii_whitespace())
                        .unwrap_or(rest.len());
                    (&rest[..end], &rest[end..])
                }
            };
            value = v.to_string();
            s = after;
        }
        out.push((name, value));
    }
}

fuzz_target!(|data: &[u8]| {
    let Ok(s) = std::str::from_utf8(data) else {
        return;
    };
    let html = text::render_status(s, "https://example.com", |m| {
        Some(format!("https://example.com/@{}", m.username))
    });
    assert!(!executable(&html), "rendered status text made code: {html}");
    let (_mentions, _tags) = text::extract(s);
    let _ = text::status_length(s);
    let clean = text::sanitize_html(s);
    assert!(!executable(&clean), "sanitised HTML kept code: {clean}");
    let _ = text::html_to_text(&clean);
    let _ = text::clean_line(s);
});
