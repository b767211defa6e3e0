//! Turning what people type into the HTML clients show, and cleaning HTML that came from elsewhere.

use std::sync::LazyLock;

use regex::Regex;

static URL_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"https?://[^\s<>"']+"#).expect("static regex"));

/// HTML-escapes `s` (`& < > " '`).
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for ch in s.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes `text` and turns `http(s)://` URLs into links, as Mastodon does for bios and field
/// values (trailing punctuation stays outside the link).
pub fn linkify(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    let mut last = 0;
    for m in URL_RE.find_iter(text) {
        let raw = m.as_str();
        let url = raw.trim_end_matches(['.', ',', ';', ':', '!', '?', ')']);
        let end = m.start() + url.len();
        out.push_str(&escape(&text[last..m.start()]));
        let shown = url.split_once("://").map_or(url, |(_, rest)| rest);
        out.push_str(&format!(
            "<a href=\"{href}\" target=\"_blank\" rel=\"nofollow noopener noreferrer me\">{shown}</a>",
            href = escape(url),
            shown = escape(shown)
        ));
        last = end;
    }
    out.push_str(&escape(&text[last..]));
    out
}

/// Plain text to HTML paragraphs: blank lines separate `<p>`s, single newlines become `<br>`,
/// URLs become links. Empty input gives an empty string.
pub fn plain_to_html(text: &str) -> String {
    let text = text.replace("\r\n", "\n");
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| format!("<p>{}</p>", linkify(p).replace('\n', "<br>")))
        .collect()
}

/// Cleans HTML from another server down to what Mastodon allows in `content` and bios: paragraphs,
/// line breaks, links (forced `rel="nofollow noopener noreferrer"`), emphasis, lists, quotes, code.
pub fn sanitize_html(html: &str) -> String {
    ammonia::Builder::default()
        .tags(
            [
                "p",
                "br",
                "a",
                "span",
                "del",
                "pre",
                "code",
                "em",
                "strong",
                "b",
                "i",
                "u",
                "ul",
                "ol",
                "li",
                "blockquote",
            ]
            .into_iter()
            .collect(),
        )
        .link_rel(Some("nofollow noopener noreferrer"))
        .url_schemes(["http", "https"].into_iter().collect())
        .add_tag_attributes("a", ["href", "class"])
        .add_tag_attributes("span", ["class"])
        .clean(html)
        .to_string()
}

/// Text for one-line fields (display names, field names): control characters removed, whitespace
/// runs folded, trimmed.
pub fn clean_line(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_becomes_escaped_paragraphs_with_links() {
        let html = plain_to_html("Hi <b>you</b>\nsee https://example.com/a?b=1.\n\nbye");
        assert_eq!(
            html,
            "<p>Hi &lt;b&gt;you&lt;/b&gt;<br>see <a href=\"https://example.com/a?b=1\" \
             target=\"_blank\" rel=\"nofollow noopener noreferrer me\">example.com/a?b=1</a>.</p><p>bye</p>"
        );
    }

    #[test]
    fn sanitizer_drops_scripts_and_javascript_links() {
        let out = sanitize_html(
            "<p onclick=\"x()\">hi<script>alert(1)</script><a href=\"javascript:alert(1)\">x</a></p>",
        );
        assert!(!out.contains("script"), "{out}");
        assert!(!out.contains("onclick"), "{out}");
        assert!(!out.contains("javascript"), "{out}");
    }

    #[test]
    fn clean_line_removes_control_characters() {
        assert_eq!(clean_line("  a\u{0}b \n  c "), "a b c");
    }
}
