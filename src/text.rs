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

static BREAK_RE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(?i)<br\s*/?>|</p>").expect("static regex"));

/// The words of stored HTML (`content`), for search: markup dropped, line and paragraph breaks
/// kept as spaces, the usual entities decoded.
pub fn html_to_text(html: &str) -> String {
    let spaced = BREAK_RE.replace_all(html, " ");
    let bare = ammonia::Builder::empty().clean(&spaced).to_string();
    bare.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&nbsp;", " ")
        .replace("&amp;", "&")
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

/// One `@user` or `@user@domain` found in a status (domain may carry a port).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct MentionRef {
    pub username: String,
    pub domain: Option<String>,
}

enum Token<'a> {
    Text(&'a str),
    Url(&'a str),
    Mention(&'a str, MentionRef),
    Hashtag(&'a str, String),
}

static TOKEN_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"https?://[^\s<>"']+|@[A-Za-z0-9_](?:[A-Za-z0-9_.\-]*[A-Za-z0-9_])?(?:@[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?(?::\d{1,5})?)?|#[\p{L}\p{N}_]+"#,
    )
    .expect("static regex")
});

/// Splits status text into plain text, URLs, mentions and hashtags. Mentions and hashtags count
/// only at the start or after a character that is not a letter, digit, `_` or `/` (so
/// `a@b.example` and `https://x/#y` are not mentions or tags); a hashtag needs a non-digit.
fn tokenize(text: &str) -> Vec<Token<'_>> {
    let mut out = Vec::new();
    let mut last = 0;
    for m in TOKEN_RE.find_iter(text) {
        let s = m.as_str();
        let prev = text[..m.start()].chars().next_back();
        let boundary = prev.is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '/'));
        let token = if s.starts_with("http") {
            let url = s.trim_end_matches(['.', ',', ';', ':', '!', '?', ')', '\'']);
            Some((
                url.len(),
                Token::Url(&text[m.start()..m.start() + url.len()]),
            ))
        } else if let Some(rest) = s.strip_prefix('@') {
            boundary.then(|| {
                let (user, domain) = match rest.split_once('@') {
                    Some((u, d)) => (u, Some(d.to_lowercase())),
                    None => (rest, None),
                };
                let mention = MentionRef {
                    username: user.to_string(),
                    domain,
                };
                (s.len(), Token::Mention(s, mention))
            })
        } else {
            let name = &s[1..];
            (boundary && name.chars().any(|c| !c.is_ascii_digit()))
                .then(|| (s.len(), Token::Hashtag(s, name.to_string())))
        };
        if let Some((len, tok)) = token {
            if m.start() > last {
                out.push(Token::Text(&text[last..m.start()]));
            }
            out.push(tok);
            last = m.start() + len;
        }
    }
    if last < text.len() {
        out.push(Token::Text(&text[last..]));
    }
    out
}

/// The mentions and hashtags (as typed, de-duplicated case-insensitively) in a status text.
pub fn extract(text: &str) -> (Vec<MentionRef>, Vec<String>) {
    let mut mentions: Vec<MentionRef> = Vec::new();
    let mut tags: Vec<String> = Vec::new();
    for t in tokenize(text) {
        match t {
            Token::Mention(_, m) => {
                let dup = mentions
                    .iter()
                    .any(|x| x.username.eq_ignore_ascii_case(&m.username) && x.domain == m.domain);
                if !dup {
                    mentions.push(m);
                }
            }
            Token::Hashtag(_, name) => {
                if !tags.iter().any(|t| t.to_lowercase() == name.to_lowercase()) {
                    tags.push(name);
                }
            }
            _ => {}
        }
    }
    (mentions, tags)
}

/// Status length as Mastodon counts it: every URL counts as 23 characters and a remote mention
/// counts without its domain.
pub fn status_length(text: &str) -> usize {
    tokenize(text)
        .iter()
        .map(|t| match t {
            Token::Text(s) => s.chars().count(),
            Token::Url(_) => 23,
            Token::Mention(_, m) => 1 + m.username.chars().count(),
            Token::Hashtag(s, _) => s.chars().count(),
        })
        .sum()
}

/// Renders status text as Mastodon does: paragraphs and line breaks, links, mentions as
/// `h-card` links to the account's profile (`profile_url` returns `None` for unknown accounts,
/// which stay plain text), hashtags linking to `{base_url}/tags/{name}`.
pub fn render_status(
    text: &str,
    base_url: &str,
    profile_url: impl Fn(&MentionRef) -> Option<String>,
) -> String {
    let text = text.replace("\r\n", "\n");
    let mut out = String::new();
    for para in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        out.push_str("<p>");
        for t in tokenize(para) {
            match t {
                Token::Text(s) => out.push_str(&escape(s).replace('\n', "<br>")),
                Token::Url(u) => out.push_str(&linkify(u)),
                Token::Mention(raw, m) => match profile_url(&m) {
                    Some(url) => out.push_str(&format!(
                        "<span class=\"h-card\" translate=\"no\"><a href=\"{}\" class=\"u-url mention\">@<span>{}</span></a></span>",
                        escape(&url),
                        escape(&m.username)
                    )),
                    None => out.push_str(&escape(raw)),
                },
                Token::Hashtag(_, name) => out.push_str(&format!(
                    "<a href=\"{}/tags/{}\" class=\"mention hashtag\" rel=\"tag\">#<span>{}</span></a>",
                    escape(base_url),
                    escape(&urlencoding::encode(&name.to_lowercase())),
                    escape(&name)
                )),
            }
        }
        out.push_str("</p>");
    }
    out
}

#[cfg(test)]
mod status_tests {
    use super::*;

    #[test]
    fn extracts_mentions_and_tags_at_word_boundaries() {
        let (m, t) = extract(
            "hi @alice and @Bob@Remote.example:8081, not mail@x.example nor https://x.example/#frag #Rust #rust #123 #Ünïcode",
        );
        assert_eq!(m.len(), 2);
        assert_eq!(m[0].username, "alice");
        assert_eq!(m[1].domain.as_deref(), Some("remote.example:8081"));
        assert_eq!(t, vec!["Rust".to_string(), "Ünïcode".to_string()]);
    }

    #[test]
    fn length_counts_urls_as_23() {
        assert_eq!(
            status_length("abc https://example.com/a/very/long/path/indeed"),
            4 + 23
        );
        assert_eq!(status_length("@bob@far.example hi"), 4 + 3);
    }

    #[test]
    fn renders_mentions_tags_and_links() {
        let html = render_status(
            "Hi @bob #Tag <x>\nhttps://e.example",
            "https://me.example",
            |m| (m.username == "bob").then(|| "https://me.example/@bob".to_string()),
        );
        assert!(
            html.contains(
                "<a href=\"https://me.example/@bob\" class=\"u-url mention\">@<span>bob</span></a>"
            ),
            "{html}"
        );
        assert!(html.contains("href=\"https://me.example/tags/tag\" class=\"mention hashtag\" rel=\"tag\">#<span>Tag</span>"), "{html}");
        assert!(
            html.contains("&lt;x&gt;<br><a href=\"https://e.example\""),
            "{html}"
        );
        let unknown = render_status("@nobody", "https://me.example", |_| None);
        assert_eq!(unknown, "<p>@nobody</p>");
    }
}

/// Whether `code` is an ISO 639-1 language code (`en`, `de`, …), as statuses and posting defaults
/// name their language (the `isolang` crate's table).
pub fn is_language(code: &str) -> bool {
    code.len() == 2 && isolang::Language::from_639_1(code).is_some()
}

/// Every ISO 639-1 language with its English name, by code: `GET /api/v1/instance/languages`.
pub fn languages() -> Vec<(&'static str, &'static str)> {
    let mut all: Vec<(&str, &str)> = isolang::languages()
        .filter_map(|l| Some((l.to_639_1()?, l.to_name())))
        .collect();
    all.sort_unstable();
    all
}
