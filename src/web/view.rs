//! What the web app's templates show of the client API's entities: the same `Status`, `Account`
//! and `Notification` the API answers with (so the pages show exactly what apps see, filters
//! applied), reduced to display-ready strings — sanitised HTML, relative times, local links.

use chrono::{DateTime, Utc};

use crate::api_types::account::Account;
use crate::api_types::status::{Notification, Status};
use crate::text::sanitize_html;

mod messages;
pub use messages::*;

/// An account as a post, a list or a header shows it.
pub struct AccountView {
    pub id: String,
    /// The display name, or the username when it is empty.
    pub name: String,
    /// [`AccountView::name`] as HTML, its custom emojis as images.
    pub name_html: String,
    /// `user` for local accounts, `user@domain` for remote ones.
    pub acct: String,
    pub avatar: String,
    pub header: String,
    /// This instance's page of the account: `/@acct`.
    pub path: String,
    /// The account's own page (on its server, for remote accounts).
    pub url: String,
    /// Sanitised HTML.
    pub note: String,
    /// Names, and sanitised HTML values.
    pub fields: Vec<(String, String)>,
    pub locked: bool,
    pub bot: bool,
    pub local: bool,
    pub statuses_count: i64,
    pub followers_count: i64,
    pub following_count: i64,
    /// "Joined March 2026".
    pub joined: String,
    /// Where the account moved: `(acct, /@acct)` (the profile shows a redirect notice).
    pub moved: Option<(String, String)>,
}

impl AccountView {
    /// The view of an `Account` entity as the API renders it.
    pub fn new(a: &Account) -> AccountView {
        let name = if a.display_name.trim().is_empty() {
            a.username.clone()
        } else {
            a.display_name.clone()
        };
        AccountView {
            id: a.id.clone(),
            name_html: emojify(&crate::text::escape(&name), &a.emojis),
            name,
            acct: a.acct.clone(),
            avatar: a.avatar.clone(),
            header: a.header.clone(),
            path: format!("/@{}", a.acct),
            url: a.url.clone(),
            note: emojify(&sanitize_html(&a.note), &a.emojis),
            fields: a
                .fields
                .iter()
                .map(|f| (f.name.clone(), emojify(&sanitize_html(&f.value), &a.emojis)))
                .collect(),
            locked: a.locked,
            bot: a.bot,
            local: !a.acct.contains('@'),
            statuses_count: a.statuses_count,
            followers_count: a.followers_count,
            following_count: a.following_count,
            joined: a.created_at.format("Joined %B %Y").to_string(),
            moved: a
                .moved
                .as_ref()
                .map(|m| (m.acct.clone(), format!("/@{}", m.acct))),
        }
    }
}

/// One attachment of a post.
pub struct MediaView {
    /// `image`, `gifv`, `video`, `audio` or `unknown`.
    pub kind: String,
    pub url: String,
    pub preview: String,
    pub alt: String,
}

/// One post as the timelines show it (a boost shows the boosted post, with who boosted it).
pub struct StatusView {
    /// The shown post's ID (the boosted one for a boost).
    pub id: String,
    /// The timeline entry's ID (the boost's own for a boost): what `max_id` pages by.
    pub entry_id: String,
    pub author: AccountView,
    pub boosted_by: Option<AccountView>,
    /// This instance's page of the post: `/@acct/ID`.
    pub path: String,
    /// Sanitised HTML.
    pub content: String,
    pub spoiler: String,
    pub sensitive: bool,
    pub media: Vec<MediaView>,
    pub visibility: String,
    pub reply: bool,
    pub short: bool,
    /// RFC 3339.
    pub created_at: String,
    /// "now", "5m", "3h", "2d", "Mar 3", "Mar 3, 2025".
    pub ago: String,
    pub edited: bool,
    pub replies_count: i64,
    pub reblogs_count: i64,
    pub favourites_count: i64,
    pub favourited: bool,
    pub reblogged: bool,
    pub bookmarked: bool,
    /// Written by the viewer: may be edited and deleted.
    pub own: bool,
    /// Public or unlisted: may be boosted.
    pub boostable: bool,
    /// Matched by the viewer's `warn` filters: their titles (the post shows behind a warning, as
    /// apps show `Status.filtered`); empty otherwise.
    pub filtered: String,
    pub poll: Option<PollView>,
    /// The post it quotes (Mastodon 4.5 quotes), as far as the viewer may see it.
    pub quote: Option<QuoteView>,
    /// The viewer may quote it (its `quote_approval.current_user` is `automatic` or `manual`).
    pub quotable: bool,
}

/// A quoted post under a post: shown when the quote stands, else why it is not.
pub struct QuoteView {
    /// The quoted post when the quote is accepted and the viewer may see it.
    pub status: Option<QuotedView>,
    /// Why nothing is shown otherwise ("Quote pending approval", …).
    pub note: &'static str,
}

/// The quoted post itself.
pub struct QuotedView {
    pub name: String,
    pub acct: String,
    pub avatar: String,
    pub path: String,
    /// Sanitised HTML.
    pub content: String,
    pub spoiler: String,
}

impl QuoteView {
    /// From a status's `quote` (a `Quote` entity, or a `ShallowQuote` one level down).
    fn new(q: &serde_json::Value) -> QuoteView {
        let state = q["state"].as_str().unwrap_or("");
        let status = (state == "accepted")
            .then(|| q.get("quoted_status").filter(|s| s.is_object()))
            .flatten()
            .map(|s| {
                let a = &s["account"];
                let text = |v: &serde_json::Value| v.as_str().unwrap_or("").to_string();
                let name = text(&a["display_name"]);
                QuotedView {
                    name: if name.trim().is_empty() {
                        text(&a["username"])
                    } else {
                        name
                    },
                    acct: text(&a["acct"]),
                    avatar: text(&a["avatar"]),
                    path: format!("/@{}/{}", text(&a["acct"]), text(&s["id"])),
                    content: sanitize_html(&text(&s["content"])),
                    spoiler: text(&s["spoiler_text"]),
                }
            });
        let note = match state {
            "pending" => "Quote waiting for the author's approval",
            "rejected" => "The author did not allow this quote",
            "revoked" => "The author removed this quote",
            "deleted" => "The quoted post was deleted",
            "blocked_account" | "blocked_domain" | "muted_account" => "Quoted post hidden",
            _ if status.is_none() => "Quoted post unavailable",
            _ => "",
        };
        QuoteView { status, note }
    }
}

/// A poll under a post: a vote form while the viewer may vote, else the results.
pub struct PollView {
    pub id: String,
    pub multiple: bool,
    /// Signed in, not voted, not ended, not the author's own.
    pub can_vote: bool,
    pub options: Vec<PollOptionView>,
    /// "12 people · 3h left", "5 votes · closed".
    pub summary: String,
}

pub struct PollOptionView {
    pub index: usize,
    pub title: String,
    /// Share of the votes, 0–100; `None` while totals are hidden.
    pub percent: Option<u32>,
    /// The viewer chose it.
    pub own: bool,
}

impl PollView {
    fn new(p: &crate::api_types::status::Poll, signed_in: bool, own_post: bool) -> PollView {
        let total = p.votes_count.max(0) as u64;
        let people = p.voters_count.unwrap_or(p.votes_count);
        let who = if p.voters_count.is_some() {
            format!("{people} {}", if people == 1 { "person" } else { "people" })
        } else {
            format!("{people} {}", if people == 1 { "vote" } else { "votes" })
        };
        let when = match (p.expired, p.expires_at) {
            (true, _) => "closed".to_string(),
            (false, Some(at)) => {
                let left = at - Utc::now();
                if left.num_days() >= 1 {
                    format!("{}d left", left.num_days())
                } else if left.num_hours() >= 1 {
                    format!("{}h left", left.num_hours())
                } else {
                    format!("{}m left", left.num_minutes().max(1))
                }
            }
            (false, None) => "open".to_string(),
        };
        let own = p.own_votes.clone().unwrap_or_default();
        PollView {
            id: p.id.clone(),
            multiple: p.multiple,
            can_vote: signed_in && !own_post && !p.expired && p.voted != Some(true),
            options: p
                .options
                .iter()
                .enumerate()
                .map(|(i, o)| PollOptionView {
                    index: i,
                    title: o.title.clone(),
                    percent: o.votes_count.map(|v| {
                        if total == 0 {
                            0
                        } else {
                            ((v.max(0) as u64 * 100 + total / 2) / total) as u32
                        }
                    }),
                    own: own.contains(&(i as i64)),
                })
                .collect(),
            summary: format!("{who} · {when}"),
        }
    }
}

impl StatusView {
    /// `viewer`: the signed-in account's ID, if any.
    pub fn new(entry: &Status, viewer: Option<&str>) -> StatusView {
        let (s, boosted_by) = match &entry.reblog {
            Some(inner) => (inner.as_ref(), Some(AccountView::new(&entry.account))),
            None => (entry, None),
        };
        StatusView {
            id: s.id.clone(),
            entry_id: entry.id.clone(),
            author: AccountView::new(&s.account),
            boosted_by,
            path: format!("/@{}/{}", s.account.acct, s.id),
            content: emojify(&sanitize_html(&s.content), &s.emojis),
            spoiler: s.spoiler_text.clone(),
            sensitive: s.sensitive,
            media: s
                .media_attachments
                .iter()
                .map(|m| MediaView {
                    kind: m.r#type.clone(),
                    url: m
                        .url
                        .clone()
                        .or_else(|| m.remote_url.clone())
                        .unwrap_or_default(),
                    preview: m
                        .preview_url
                        .clone()
                        .or_else(|| m.url.clone())
                        .unwrap_or_default(),
                    alt: m.description.clone().unwrap_or_default(),
                })
                .collect(),
            visibility: s.visibility.clone(),
            reply: s.in_reply_to_id.is_some(),
            short: s.short,
            created_at: s
                .created_at
                .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            ago: ago(s.created_at, Utc::now()),
            edited: s.edited_at.is_some(),
            replies_count: s.replies_count,
            reblogs_count: s.reblogs_count,
            favourites_count: s.favourites_count,
            favourited: s.favourited.unwrap_or(false),
            reblogged: s.reblogged.unwrap_or(false),
            bookmarked: s.bookmarked.unwrap_or(false),
            own: viewer == Some(s.account.id.as_str()),
            boostable: matches!(s.visibility.as_str(), "public" | "unlisted"),
            filtered: entry
                .filtered
                .iter()
                .chain(s.filtered.iter())
                .flatten()
                .map(|r| r.filter.title.as_str())
                .collect::<Vec<_>>()
                .join(", "),
            poll: s
                .poll
                .as_ref()
                .map(|p| PollView::new(p, viewer.is_some(), viewer == Some(s.account.id.as_str()))),
            quote: s.quote.as_ref().map(QuoteView::new),
            quotable: matches!(
                s.quote_approval.current_user.as_str(),
                "automatic" | "manual"
            ),
        }
    }

    /// Media to show in a profile's gallery grid: each image or video of the post.
    pub fn gallery(&self) -> impl Iterator<Item = &MediaView> {
        self.media
            .iter()
            .filter(|m| matches!(m.kind.as_str(), "image" | "gifv" | "video"))
    }
}

/// One notification as the notifications screen shows it.
pub struct NotificationView {
    pub id: String,
    /// Mastodon's `type` (`mention`, `favourite`, `reblog`, `follow`, …).
    pub kind: String,
    /// Who acted; several when grouped (most recent first).
    pub accounts: Vec<AccountView>,
    /// How many acted in all (more than `accounts` when the group is large).
    pub count: i64,
    pub status: Option<StatusView>,
    pub ago: String,
    pub created_at: String,
}

impl NotificationView {
    /// The sentence after the names: "favourited your post".
    pub fn verb(&self) -> &'static str {
        match self.kind.as_str() {
            "mention" => "mentioned you",
            "status" => "posted",
            "reblog" => "boosted your post",
            "favourite" => "favourited your post",
            "follow" => "followed you",
            "follow_request" => "asked to follow you",
            "move" => "moved their account",
            "poll" => "ran a poll that has ended",
            "update" => "edited a post you interacted with",
            "quote" => "quoted your post",
            "quoted_update" => "edited a post you quoted",
            "admin.sign_up" => "signed up",
            "admin.report" => "filed a report",
            "story_reply" => "replied to your story",
            "story_reaction" => "reacted to your story",
            "missed_call" => "called you: missed call",
            _ => "did something",
        }
    }

    /// Groups notifications (newest first) the way `/api/v2/notifications` does: by `group_key`,
    /// in order of each group's newest.
    pub fn grouped(list: &[Notification], viewer: Option<&str>) -> Vec<NotificationView> {
        let mut out: Vec<NotificationView> = Vec::new();
        let mut keys: Vec<&str> = Vec::new();
        for n in list {
            if let Some(i) = keys.iter().position(|k| *k == n.group_key) {
                let g = &mut out[i];
                g.count += 1;
                if g.accounts.len() < 8 && !g.accounts.iter().any(|a| a.id == n.account.id) {
                    g.accounts.push(AccountView::new(&n.account));
                }
                continue;
            }
            keys.push(&n.group_key);
            out.push(NotificationView {
                id: n.id.clone(),
                kind: n.r#type.clone(),
                accounts: vec![AccountView::new(&n.account)],
                count: 1,
                status: n.status.as_ref().map(|s| StatusView::new(s, viewer)),
                ago: ago(n.created_at, Utc::now()),
                created_at: n
                    .created_at
                    .to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
            });
        }
        out
    }
}

/// Custom emojis in HTML: each `:shortcode:` of one of `emojis` in the text (never inside a tag)
/// becomes its image, as Mastodon's web app shows them. Other colons stay as they are.
pub fn emojify(html: &str, emojis: &[crate::api_types::CustomEmoji]) -> String {
    if emojis.is_empty() || !html.contains(':') {
        return html.to_string();
    }
    let mut out = String::with_capacity(html.len());
    let mut in_tag = false;
    let mut rest = html;
    while let Some(c) = rest.chars().next() {
        if in_tag {
            in_tag = c != '>';
        } else if c == '<' {
            in_tag = true;
        } else if c == ':' {
            let code: String = rest[1..]
                .chars()
                .take_while(|ch| ch.is_ascii_alphanumeric() || *ch == '_')
                .collect();
            if !code.is_empty()
                && rest[1 + code.len()..].starts_with(':')
                && let Some(e) = emojis.iter().find(|e| e.shortcode == code)
            {
                let url = crate::text::escape(&e.static_url);
                out.push_str(&format!(
                    "<img class=\"emoji\" src=\"{url}\" alt=\":{code}:\" title=\":{code}:\" draggable=\"false\">"
                ));
                rest = &rest[code.len() + 2..];
                continue;
            }
        }
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// Chat formatting on a message's sanitised HTML: `**bold**` and `_italic_` in its text (never
/// inside a tag or across one), as chat apps do. Posts keep Mastodon's plain text.
pub fn light_markup(html: &str) -> String {
    use std::sync::LazyLock;
    static BOLD: LazyLock<regex::Regex> =
        LazyLock::new(|| regex::Regex::new(r"\*\*([^*<>\s](?:[^*<>]*[^*<>\s])?)\*\*").unwrap());
    static ITALIC: LazyLock<regex::Regex> = LazyLock::new(|| {
        regex::Regex::new(r"(^|[\s(])_([^_<>\s](?:[^_<>]*[^_<>\s])?)_($|[\s).,!?;:])").unwrap()
    });
    // Text between tags only: `<…>` pieces pass through untouched.
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while !rest.is_empty() {
        let (text, after) = match rest.find('<') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        let bold = BOLD.replace_all(text, "<strong>$1</strong>");
        out.push_str(&ITALIC.replace_all(&bold, "$1<em>$2</em>$3"));
        match after.find('>') {
            Some(j) => {
                out.push_str(&after[..=j]);
                rest = &after[j + 1..];
            }
            None => {
                out.push_str(after);
                rest = "";
            }
        }
    }
    out
}

/// "Today", "Yesterday", "Mon 30 Nov" within a week, else "30 Nov" or "30 Nov 2025".
pub fn day_label(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let days = (now.date_naive() - t.date_naive()).num_days();
    match days {
        0 => "Today".into(),
        1 => "Yesterday".into(),
        2..=6 => t.format("%a %-d %b").to_string(),
        _ if t.format("%Y").to_string() == now.format("%Y").to_string() => {
            t.format("%-d %b").to_string()
        }
        _ => t.format("%-d %b %Y").to_string(),
    }
}

/// A short relative time, as timelines show them: under a minute "now", then minutes, hours and
/// days up to a week, then the date (with the year when it is not this year's).
pub fn ago(t: DateTime<Utc>, now: DateTime<Utc>) -> String {
    let secs = (now - t).num_seconds();
    match secs {
        s if s < 60 => "now".into(),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s if s < 7 * 86_400 => format!("{}d", s / 86_400),
        _ if t.format("%Y").to_string() == now.format("%Y").to_string() => {
            t.format("%b %-d").to_string()
        }
        _ => t.format("%b %-d, %Y").to_string(),
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    #[test]
    fn emojis_become_images_outside_tags_only() {
        let e = crate::api_types::CustomEmoji {
            shortcode: "heron".into(),
            url: "https://x.example/h.png".into(),
            static_url: "https://x.example/h.png?a=1&b=2".into(),
            visible_in_picker: true,
            category: None,
        };
        let html =
            r#"<p>a :heron: and :crow: <a href="https://y.example/:heron:">:heron:</a>: ok:</p>"#;
        let out = super::emojify(html, std::slice::from_ref(&e));
        assert_eq!(
            out,
            r#"<p>a <img class="emoji" src="https://x.example/h.png?a=1&amp;b=2" alt=":heron:" title=":heron:" draggable="false"> and :crow: <a href="https://y.example/:heron:"><img class="emoji" src="https://x.example/h.png?a=1&amp;b=2" alt=":heron:" title=":heron:" draggable="false"></a>: ok:</p>"#
        );
        assert_eq!(super::emojify("é:heron:ü", &[e]).matches("<img").count(), 1);
    }

    #[test]
    fn chat_markup() {
        use super::light_markup as m;
        assert_eq!(m("<p>a **b c** d</p>"), "<p>a <strong>b c</strong> d</p>");
        assert_eq!(
            m("<p>_it_ and snake_case_name</p>"),
            "<p><em>it</em> and snake_case_name</p>"
        );
        assert_eq!(m("<p>**not closed</p>"), "<p>**not closed</p>");
        assert_eq!(
            m(r#"<p><a href="https://x/**a**">**b**</a></p>"#),
            r#"<p><a href="https://x/**a**"><strong>b</strong></a></p>"#
        );
        assert_eq!(m("<p>** spaced **</p>"), "<p>** spaced **</p>");
    }

    #[test]
    fn relative_times() {
        let now = chrono::Utc.with_ymd_and_hms(2026, 12, 6, 12, 0, 0).unwrap();
        let at = |secs| now - chrono::Duration::seconds(secs);
        assert_eq!(super::ago(at(5), now), "now");
        assert_eq!(super::ago(at(-30), now), "now");
        assert_eq!(super::ago(at(125), now), "2m");
        assert_eq!(super::ago(at(3 * 3600 + 5), now), "3h");
        assert_eq!(super::ago(at(2 * 86_400), now), "2d");
        assert_eq!(super::ago(at(30 * 86_400), now), "Nov 6");
        assert_eq!(super::ago(at(400 * 86_400), now), "Nov 1, 2025");
        assert_eq!(super::day_label(at(3600), now), "Today");
        assert_eq!(super::day_label(at(13 * 3600), now), "Yesterday");
        assert_eq!(super::day_label(at(3 * 86_400), now), "Thu 3 Dec");
        assert_eq!(super::day_label(at(30 * 86_400), now), "6 Nov");
    }
}
