//! Preview cards (docs.joinmastodon.org/entities/PreviewCard/) and trending links
//! (/methods/trends/#links).
//!
//! When a status that is not direct is posted or edited, a `card.fetch` job is queued for its
//! first link (not a mention or hashtag). The job reads the page (the same guarded, size-limited
//! fetch as remote media: no private addresses unless allowed, at most 1 MiB of HTML), takes its
//! OpenGraph title, description, image and site name (falling back to `<title>` and the meta
//! description), and gives the status the card. A page fetched in the last week is not fetched
//! again.

use chrono::{Duration, Utc};
use scraper::{Html, Selector};
use serde_json::{Value, json};

use crate::error::AppResult;
use crate::jobs::{self, Job, Outcome};
use crate::state::AppState;
use crate::storage::cards::{self as store, CardRow};
use crate::storage::{Tx, ids};

/// The job kind.
pub const FETCH_JOB: &str = "card.fetch";

/// How long a fetched card is reused for other statuses linking to the same page.
const FRESH_FOR: Duration = Duration::days(7);

/// Largest page read, in bytes.
const MAX_PAGE: u64 = 1024 * 1024;

/// The first link of a status's HTML that is neither a mention nor a hashtag.
pub fn first_link(content_html: &str) -> Option<String> {
    let doc = Html::parse_fragment(content_html);
    let links = Selector::parse("a[href]").ok()?;
    doc.select(&links)
        .filter(|a| {
            let class = a.value().attr("class").unwrap_or("");
            !class.contains("mention") && !class.contains("hashtag")
        })
        .filter_map(|a| a.value().attr("href"))
        .find(|h| h.starts_with("https://") || h.starts_with("http://"))
        .map(String::from)
}

/// Inside the transaction storing or editing status `status_id`: queues the card of its first
/// link, if it has one.
pub async fn queue(tx: &mut Tx, status_id: i64, content_html: &str) -> AppResult<()> {
    if let Some(url) = first_link(content_html) {
        jobs::enqueue(
            tx,
            FETCH_JOB,
            &json!({ "status_id": status_id, "url": url }),
        )
        .await?;
    }
    Ok(())
}

/// Runs the card worker.
pub fn spawn_worker(state: &AppState) -> tokio::task::JoinHandle<()> {
    let s = state.clone();
    tokio::spawn(jobs::run_worker(
        state.db.clone(),
        FETCH_JOB,
        2,
        3,
        state.jobs_wakeup.clone(),
        move |job| fetch_job(s.clone(), job),
        |_, _| async {},
    ))
}

async fn fetch_job(state: AppState, job: Job) -> Outcome {
    let status_id = job.payload["status_id"].as_i64().unwrap_or_default();
    let url = job.payload["url"].as_str().unwrap_or_default().to_string();
    match card_for(&state, &url).await {
        Ok(Some(card_id)) => match store::attach(&state.db, status_id, card_id).await {
            Ok(()) => Outcome::Done,
            Err(e) => Outcome::Retry(e.to_string()),
        },
        Ok(None) => Outcome::Done,
        Err(e) => Outcome::Retry(e),
    }
}

/// The card of `url`: a fresh stored one, or fetched now. `None` when the page is not HTML or has
/// no title; `Err` for failures worth retrying.
async fn card_for(state: &AppState, url: &str) -> Result<Option<i64>, String> {
    if let Ok(Some(c)) = store::find_by_url(&state.db, url).await
        && Utc::now() - c.fetched_at < FRESH_FOR
    {
        return Ok(Some(c.id));
    }
    let fetched = crate::service::media::fetch_limited(state, url, MAX_PAGE).await;
    let (body, content_type) = match fetched {
        Ok(Some(page)) => page,
        Ok(None) => return Ok(None),
        Err(crate::media::MediaError::Invalid(why)) => {
            tracing::info!(url, %why, "no preview card");
            return Ok(None);
        }
        Err(e) => return Err(e.to_string()),
    };
    let html = content_type
        .as_deref()
        .is_none_or(|t| t.starts_with("text/html") || t.starts_with("application/xhtml"));
    if !html {
        return Ok(None);
    }
    let Some(card) = parse(url, &String::from_utf8_lossy(&body)) else {
        return Ok(None);
    };
    store::upsert(&state.db, &card)
        .await
        .map(Some)
        .map_err(|e| e.to_string())
}

/// A card from a page's HTML: OpenGraph first, then `<title>` and the meta description.
pub fn parse(url: &str, html: &str) -> Option<CardRow> {
    let doc = Html::parse_document(html);
    let meta = |names: &[&str]| -> Option<String> {
        let sel = Selector::parse("meta").ok()?;
        names.iter().find_map(|n| {
            doc.select(&sel)
                .find(|m| {
                    let v = m.value();
                    v.attr("property").or(v.attr("name")) == Some(*n)
                })
                .and_then(|m| m.value().attr("content"))
                .map(crate::text::clean_line)
                .filter(|c| !c.is_empty())
        })
    };
    let title = meta(&["og:title", "twitter:title"]).or_else(|| {
        let sel = Selector::parse("title").ok()?;
        doc.select(&sel)
            .next()
            .map(|t| crate::text::clean_line(&t.text().collect::<String>()))
            .filter(|t| !t.is_empty())
    })?;
    let base = url::Url::parse(url).ok()?;
    let image = meta(&["og:image", "og:image:url", "twitter:image"])
        .and_then(|i| base.join(&i).ok())
        .filter(|u| matches!(u.scheme(), "http" | "https"))
        .map(|u| u.to_string());
    let dimension = |n: &str| meta(&[n]).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
    let cut = |s: String, n: usize| s.chars().take(n).collect::<String>();
    Some(CardRow {
        id: ids::new_id(),
        url: url.to_string(),
        title: cut(title, 300),
        description: cut(
            meta(&["og:description", "twitter:description", "description"]).unwrap_or_default(),
            1000,
        ),
        width: if image.is_some() {
            dimension("og:image:width")
        } else {
            0
        },
        height: if image.is_some() {
            dimension("og:image:height")
        } else {
            0
        },
        image_url: image,
        provider_name: cut(
            meta(&["og:site_name"]).unwrap_or_else(|| base.host_str().unwrap_or("").to_string()),
            200,
        ),
        author_name: cut(meta(&["author", "article:author"]).unwrap_or_default(), 200),
        fetched_at: Utc::now(),
    })
}

/// The `PreviewCard` entity.
pub fn entity(c: &CardRow) -> Value {
    let provider_url = url::Url::parse(&c.url)
        .map(|u| format!("{}://{}", u.scheme(), u.host_str().unwrap_or("")))
        .unwrap_or_default();
    json!({
        "url": c.url,
        "title": c.title,
        "description": c.description,
        "type": "link",
        "author_name": c.author_name,
        "author_url": "",
        "authors": [],
        "provider_name": c.provider_name,
        "provider_url": provider_url,
        "html": "",
        "width": c.width,
        "height": c.height,
        "image": c.image_url,
        "image_description": "",
        "embed_url": "",
        "blurhash": null,
        "language": null,
        "published_at": null,
    })
}

/// `GET /api/v1/trends/links`: cards of public posts of the last 48 hours, by how many accounts
/// shared them, each with 7 days of history (`day`, `uses`, `accounts`).
/// The preview card of `url` (as a card stores it), for `GET /api/v1/timelines/link`; `None` for
/// an unknown link or one longer than 2,048 bytes.
pub async fn id_of_url(state: &AppState, url: &str) -> AppResult<Option<i64>> {
    if url.is_empty() || url.len() > 2048 {
        return Ok(None);
    }
    Ok(store::find_by_url(&state.db, url).await?.map(|c| c.id))
}

pub async fn trending(state: &AppState, limit: i64, offset: i64) -> AppResult<Vec<Value>> {
    let now = Utc::now();
    let since = ids::min_id_at(now - Duration::hours(48));
    let ranked = store::trending(&state.db, since, limit, offset).await?;
    let card_ids: Vec<i64> = ranked.iter().map(|(c, ..)| *c).collect();
    let cards = store::find_many(&state.db, &card_ids).await?;
    let today = now
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .map_or(now, |d| d.and_utc());
    let week_start = ids::min_id_at(today - Duration::days(6));
    let mut out = Vec::new();
    for (card_id, ..) in &ranked {
        let Some(card) = cards.iter().find(|c| c.id == *card_id) else {
            continue;
        };
        let uses = store::uses(&state.db, card.id, week_start).await?;
        let history = crate::service::tags::daily_history(&uses, today);
        let mut e = entity(card);
        e["history"] = serde_json::to_value(history).map_err(anyhow::Error::from)?;
        out.push(e);
    }
    Ok(out)
}
