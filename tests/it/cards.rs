//! Preview cards: a status's first link is fetched from a real page on loopback (OpenGraph read,
//! the page fetched once for several statuses), shown as `card`, and trends as a link.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;

use crate::statuses::post;
use crate::support::{Backend, TestApp};

const PAGE: &str = r#"<!doctype html><html><head>
<title>Fallback title</title>
<meta property="og:title" content="Herons return to the marsh">
<meta property="og:description" content="Forty pairs counted this spring.">
<meta property="og:image" content="/heron.jpg">
<meta property="og:image:width" content="1200">
<meta property="og:image:height" content="630">
<meta property="og:site_name" content="Marsh News">
<meta name="author" content="A. Birder">
</head><body><p>Story</p></body></html>"#;

/// A web site on loopback: `/story` is an article, `/plain` a text file. Counts requests.
async fn site() -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let (h1, h2) = (hits.clone(), hits.clone());
    let app = axum::Router::new()
        .route(
            "/story",
            axum::routing::get(move || {
                h1.fetch_add(1, Ordering::SeqCst);
                async { axum::response::Html(PAGE) }
            }),
        )
        .route(
            "/plain",
            axum::routing::get(move || {
                h2.fetch_add(1, Ordering::SeqCst);
                async { "just text" }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, hits)
}

#[test]
fn the_first_plain_link_is_the_card() {
    use rookery::service::cards::first_link;
    let html = r#"<p><span class="h-card"><a href="https://a.example/@x" class="u-url mention">@x</a></span>
        <a href="https://a.example/tags/birds" class="mention hashtag">#birds</a>
        <a href="https://news.example/story">news.example/story</a> <a href="https://b.example">b</a></p>"#;
    assert_eq!(
        first_link(html).as_deref(),
        Some("https://news.example/story")
    );
    assert_eq!(first_link("<p>no links</p>"), None);
    assert_eq!(first_link(r#"<a href="javascript:alert(1)">x</a>"#), None);
}

async fn cards_are_fetched_shown_and_trend(backend: Backend) {
    let app = TestApp::start_with(backend, |c| c.federation.allow_private_addresses = true).await;
    let (base, hits) = site().await;
    app.create_user("ana").await;
    let ana = app.token_for("ana", "read write").await;
    app.create_user("bo").await;
    let bo = app.token_for("bo", "read write").await;
    let first = post(&app, &ana, json!({"status": format!("look {base}/story")})).await;
    let id = first["id"].as_str().unwrap().to_string();
    let mut card = serde_json::Value::Null;
    for _ in 0..100 {
        card = app
            .get(&format!("/api/v1/statuses/{id}"), Some(&ana))
            .await
            .json()["card"]
            .clone();
        if !card.is_null() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(card["title"], "Herons return to the marsh", "{card}");
    assert_eq!(card["description"], "Forty pairs counted this spring.");
    assert_eq!(card["image"], format!("{base}/heron.jpg"));
    assert_eq!(card["width"], 1200);
    assert_eq!(card["provider_name"], "Marsh News");
    assert_eq!(card["author_name"], "A. Birder");
    assert_eq!(card["type"], "link");
    assert_eq!(card["url"], format!("{base}/story"));

    // A second post of the same page gets the stored card; a text file gets none.
    let second = post(
        &app,
        &bo,
        json!({"status": format!("{base}/story via ana")}),
    )
    .await;
    let plain = post(&app, &bo, json!({"status": format!("{base}/plain")})).await;
    let mut got = false;
    for _ in 0..100 {
        let s = app
            .get(
                &format!("/api/v1/statuses/{}", second["id"].as_str().unwrap()),
                Some(&bo),
            )
            .await
            .json();
        if !s["card"].is_null() {
            got = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(got);
    assert!(hits.load(Ordering::SeqCst) >= 2, "story once, plain once");
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    let p = app
        .get(
            &format!("/api/v1/statuses/{}", plain["id"].as_str().unwrap()),
            Some(&bo),
        )
        .await
        .json();
    assert!(p["card"].is_null(), "{p}");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        2,
        "the story page was fetched once"
    );

    // Shared by two accounts: it trends, with its history.
    let links = app.get("/api/v1/trends/links", None).await.json();
    assert_eq!(links[0]["url"], format!("{base}/story"), "{links}");
    assert_eq!(links[0]["history"][0]["accounts"], "2");
    assert_eq!(links[0]["history"][0]["uses"], "2");

    // The link timeline: both posts that show the card, newest first.
    let timeline = app
        .get(
            &format!(
                "/api/v1/timelines/link?url={}",
                urlencoding::encode(&format!("{base}/story"))
            ),
            None,
        )
        .await
        .json();
    let ids: Vec<&str> = timeline
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(
        ids,
        vec![second["id"].as_str().unwrap(), id.as_str()],
        "{timeline}"
    );
}

#[tokio::test]
async fn cards_on_sqlite() {
    cards_are_fetched_shown_and_trend(Backend::Sqlite).await
}

#[tokio::test]
async fn cards_on_postgres() {
    cards_are_fetched_shown_and_trend(Backend::Postgres).await
}
