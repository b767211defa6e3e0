//! The web app (docs/WEB.md): its API access through the browser session (cookie plus CSRF
//! header; WebSocket by `Origin`), its screens over HTTP, and a person's walk through them in
//! headless Chromium.

use std::time::Duration;

use fantoccini::Locator;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;

use crate::both_backends;
use crate::pages::{fill_sign_in, js, until};
use crate::support::browser::Browser;
use crate::support::forms::{FormClient, hidden_inputs};
use crate::support::{Backend, TestApp};

/// Signs `user` in through `/auth/sign_in`; returns the browser-like client holding the cookies.
async fn signed_in(app: &TestApp, user: &str) -> FormClient {
    let mut c = FormClient::new();
    let page = c.get(&app.url("/auth/sign_in?next=/home")).await;
    let mut form = hidden_inputs(&page.text);
    form.push(("username".into(), user.into()));
    form.push(("password".into(), format!("password-{user}")));
    let done = c.post_form(&app.url("/auth/sign_in"), &form).await;
    assert_eq!(done.status, 303, "{}", done.text);
    assert!(c.cookies.contains_key("rookery_session"));
    c
}

/// A request with the client's cookies and, when given, an `X-CSRF-Token` header.
async fn call(
    app: &TestApp,
    c: &FormClient,
    method: reqwest::Method,
    path: &str,
    csrf: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let cookie = c
        .cookies
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("; ");
    let mut req = reqwest::Client::new()
        .request(method, app.url(path))
        .header("cookie", cookie);
    if let Some(t) = csrf {
        req = req.header("x-csrf-token", t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let resp = req.send().await.unwrap();
    let status = resp.status().as_u16();
    let text = resp.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

/// The session calls the client API only with the CSRF header; it posts as "Rookery Web", with
/// no admin scope; signing out ends its API access; the streaming WebSocket takes the session
/// only from a page of this instance.
async fn session_calls_the_api(app: TestApp) {
    app.create_user("alice").await;
    let c = signed_in(&app, "alice").await;
    let csrf = c.cookies["rookery_csrf"].clone();
    let get = reqwest::Method::GET;
    let post = reqwest::Method::POST;

    let (status, _) = call(
        &app,
        &c,
        get.clone(),
        "/api/v1/accounts/verify_credentials",
        None,
        None,
    )
    .await;
    assert_eq!(status, 401, "a cookie alone is not an API credential");
    let (status, _) = call(
        &app,
        &c,
        get.clone(),
        "/api/v1/accounts/verify_credentials",
        Some("forged"),
        None,
    )
    .await;
    assert_eq!(status, 401, "a CSRF header that does not match the cookie");
    let (status, me) = call(
        &app,
        &c,
        get.clone(),
        "/api/v1/accounts/verify_credentials",
        Some(&csrf),
        None,
    )
    .await;
    assert_eq!(status, 200, "{me}");
    assert_eq!(me["username"], "alice");

    let (status, s) = call(
        &app,
        &c,
        post.clone(),
        "/api/v1/statuses",
        Some(&csrf),
        Some(json!({"status": "from the web app"})),
    )
    .await;
    assert_eq!(status, 200, "{s}");
    assert_eq!(s["application"]["name"], "Rookery Web");
    // A second call of the same session reuses its token.
    let (status, _) = call(
        &app,
        &c,
        post.clone(),
        "/api/v1/statuses",
        Some(&csrf),
        Some(json!({"status": "again"})),
    )
    .await;
    assert_eq!(status, 200);
    let (status, e) = call(
        &app,
        &c,
        get.clone(),
        "/api/v1/admin/accounts",
        Some(&csrf),
        None,
    )
    .await;
    assert_eq!(
        status, 403,
        "the web app's scopes leave administration out: {e}"
    );

    // The streaming WebSocket: with our Origin it is Alice's; from another site it is anonymous.
    let ws_req = |origin: &str| {
        let mut req = format!("ws://{}/api/v1/streaming?stream=user", app.addr)
            .into_client_request()
            .unwrap();
        let cookie = c
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        req.headers_mut().insert("cookie", cookie.parse().unwrap());
        req.headers_mut().insert("origin", origin.parse().unwrap());
        req
    };
    let (mut ws, _) = tokio_tungstenite::connect_async(ws_req(&app.base))
        .await
        .expect("our own page's WebSocket");
    tokio::time::sleep(Duration::from_millis(150)).await;
    let bob = {
        app.create_user("bob").await;
        app.token_for("bob", "read write follow").await
    };
    let alice_id = me["id"].as_str().unwrap();
    let f = app
        .post(
            &format!("/api/v1/accounts/{alice_id}/follow"),
            Some(&bob),
            json!({}),
        )
        .await;
    assert_eq!(f.status, 200);
    let mut got_follow = false;
    while let Some(msg) = crate::streaming::next(&mut ws, 5).await {
        if msg["event"] == "notification" {
            got_follow = crate::streaming::payload(&msg)["type"] == "follow";
            break;
        }
    }
    assert!(
        got_follow,
        "the session's user stream carries Alice's notification"
    );
    match tokio_tungstenite::connect_async(ws_req("https://evil.example")).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(resp)) => {
            assert_eq!(
                resp.status(),
                400,
                "another site's page is anonymous: no user stream"
            )
        }
        Err(e) => panic!("unexpected error: {e}"),
        Ok(_) => panic!("another site's page got Alice's user stream"),
    }

    // Signing out ends the session and its API access.
    let mut c = c;
    let settings = c.get(&app.url("/auth/edit")).await;
    let form = hidden_inputs(&settings.text)
        .into_iter()
        .filter(|(k, _)| k == "authenticity_token")
        .take(1)
        .collect::<Vec<_>>();
    let out = c.post_form(&app.url("/auth/sign_out"), &form).await;
    assert_eq!(out.status, 303);
    assert!(!c.cookies.contains_key("rookery_session"));
    let old = {
        let mut stale = FormClient::new();
        stale.cookies = c.cookies.clone();
        stale
            .cookies
            .insert("rookery_session".into(), "gone".into());
        stale
    };
    let (status, _) = call(
        &app,
        &old,
        get,
        "/api/v1/accounts/verify_credentials",
        Some(&csrf),
        None,
    )
    .await;
    assert_eq!(status, 401);
}

/// The screens over HTTP: `/` goes to Explore signed out and Home signed in; Home needs a session;
/// profiles, posts and hashtags are pages for browsers and documents for ActivityPub; a list's
/// fragment holds only its entries; bad pagination is ignored; unknown accounts get an HTML 404.
async fn screens_over_http(app: TestApp) {
    app.create_user("alice").await;
    let alice = app.token_for("alice", "read write").await;
    let s = app
        .post(
            "/api/v1/statuses",
            Some(&alice),
            json!({"status": "hello #wonderland <script>x</script>"}),
        )
        .await
        .json();
    let id = s["id"].as_str().unwrap();

    let mut anon = FormClient::new();
    let root = anon.get(&app.url("/")).await;
    assert_eq!(root.status, 303);
    assert_eq!(root.header("location"), Some("/explore"));
    let home = anon.get(&app.url("/home")).await;
    assert_eq!(home.status, 303);
    assert!(
        home.header("location")
            .unwrap()
            .starts_with("/auth/sign_in?next=")
    );
    let explore = anon.get(&app.url("/explore")).await;
    assert_eq!(explore.status, 200);
    assert!(
        explore.text.contains("hello"),
        "the local feed is the front page"
    );
    assert!(!explore.text.contains("<script>x"), "post text is escaped");
    assert_eq!(explore.header("cache-control"), Some("private, no-store"));
    assert!(explore.header("content-security-policy").is_some());

    let profile = anon.get(&app.url("/@alice")).await;
    assert_eq!(profile.status, 200);
    assert!(profile.text.contains("@alice") && profile.text.contains(&format!("data-id=\"{id}\"")));
    let doc = app
        .http
        .get(app.url("/@alice"))
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    assert_eq!(doc.json::<Value>().await.unwrap()["type"], "Person");
    let thread = anon.get(&app.url(&format!("/@alice/{id}"))).await;
    assert_eq!(thread.status, 200);
    assert!(thread.text.contains("class=\"focus\""));
    let tag = anon.get(&app.url("/tags/wonderland")).await;
    assert_eq!(tag.status, 200);
    assert!(tag.text.contains(&format!("data-id=\"{id}\"")));
    for (path, status) in [
        ("/@nobody", 404),
        ("/@alice/123456", 404),
        ("/@alice/not-a-number", 404),
        ("/tags/%20", 404),
        (
            "/tags/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            404,
        ),
    ] {
        let r = anon.get(&app.url(path)).await;
        assert_eq!(r.status, status, "{path}");
        assert!(
            r.header("content-type").unwrap().starts_with("text/html"),
            "{path}"
        );
    }
    let odd = anon
        .get(&app.url("/explore?tab=local&max_id=99999999999999999999999&since_id=-1"))
        .await;
    assert_eq!(odd.status, 200, "unparsable pagination is ignored");
    let huge = anon
        .get(&app.url(&format!("/explore?q={}", "a".repeat(20_000))))
        .await;
    assert_eq!(huge.status, 200);
    assert!(
        huge.text.len() < 10_000,
        "an outsized query is not echoed back: {} bytes",
        huge.text.len()
    );

    let mut c = signed_in(&app, "alice").await;
    let root = c.get(&app.url("/")).await;
    assert_eq!(root.header("location"), Some("/home"));
    let home = c.get(&app.url("/home")).await;
    assert_eq!(home.status, 200);
    assert!(home.text.contains(&format!("data-id=\"{id}\"")));
    let frag = c.get(&app.url("/home?fragment=1")).await;
    assert!(
        !frag.text.contains("<html"),
        "a fragment is only the entries"
    );
    assert!(frag.text.contains(&format!("data-id=\"{id}\"")));
    let newer = c
        .get(&app.url(&format!("/home?since_id={id}&fragment=1")))
        .await;
    assert!(!newer.text.contains("class=\"status\""), "nothing newer");
    let notes = c.get(&app.url("/notifications")).await;
    assert_eq!(notes.status, 200);

    // The viewer's filters apply as in the API: `warn` behind a warning, `hide` left out.
    for (title, word, action) in [
        ("Dragons", "dragon", "warn"),
        ("Secrets", "plotpoint", "hide"),
    ] {
        let f = app
            .post(
                "/api/v2/filters",
                Some(&alice),
                json!({"title": title, "context": ["home"], "filter_action": action,
                       "keywords_attributes": [{"keyword": word, "whole_word": true}]}),
            )
            .await;
        assert_eq!(f.status, 200, "{}", f.text);
    }
    app.post(
        "/api/v1/statuses",
        Some(&alice),
        json!({"status": "the dragon wins"}),
    )
    .await;
    app.post(
        "/api/v1/statuses",
        Some(&alice),
        json!({"status": "the plotpoint is here"}),
    )
    .await;
    let home = c.get(&app.url("/home")).await;
    assert!(
        home.text.contains("Filtered: Dragons"),
        "a warn filter shows its title"
    );
    assert!(
        home.text.contains("the dragon wins"),
        "behind the warning, the post is there"
    );
    assert!(
        !home.text.contains("plotpoint"),
        "a hide filter leaves the post out"
    );
}

both_backends!(session_calls_the_api, screens_over_http);

/// Waits for an element and clicks it.
pub(crate) async fn click(c: &fantoccini::Client, css: &str) {
    c.wait()
        .for_element(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("no {css}: {e}"))
        .click()
        .await
        .unwrap();
}

/// A person's walk through the web app: the front page signed out, signing in, Home with a
/// photo post, favouriting it, posting from the compose box, a post arriving live behind the
/// "new posts" bar, notifications, a profile's media grid, and a reply from a post's page —
/// within the page budgets (first contentful paint, JavaScript size).
#[tokio::test]
async fn web_app_in_chromium() {
    let app = TestApp::start(Backend::Sqlite).await;
    let alice_id = app.create_user("alice").await;
    app.create_user("bob").await;
    let alice = app.token_for("alice", "read write follow").await;
    let bob = app.token_for("bob", "read write follow").await;
    let f = app
        .post(
            &format!("/api/v1/accounts/{alice_id}/follow"),
            Some(&bob),
            json!({}),
        )
        .await;
    assert_eq!(f.status, 200);
    let m = crate::media::upload(
        &app,
        &alice,
        "/api/v2/media",
        "photo.png",
        "image/png",
        crate::media::fixture("photo.png"),
        &[("description", "A red square")],
    )
    .await;
    assert_eq!(m.status.as_u16(), 200, "{}", m.text);
    let photo = app
        .post(
            "/api/v1/statuses",
            Some(&alice),
            json!({"status": "A photo from Alice", "media_ids": [m.json()["id"]]}),
        )
        .await
        .json();
    let photo_id = photo["id"].as_str().unwrap().to_string();

    let browser = Browser::start().await;
    let c = &browser.client;
    // Signed out, `/` is the front page: the local feed with the photo.
    c.goto(&app.base).await.unwrap();
    assert_eq!(c.title().await.unwrap(), "Explore · Rookery");
    assert!(
        until(
            c,
            "return !!document.querySelector('.status .media img[alt=\"A red square\"]')"
        )
        .await
    );

    // Bob signs in and lands on Home with Alice's photo.
    c.goto(&format!("{}/auth/sign_in?next=%2Fhome", app.base))
        .await
        .unwrap();
    fill_sign_in(c, "bob", "password-bob").await;
    assert!(until(c, "return document.title.startsWith('Home')").await);
    let art = format!(".status[data-id=\"{photo_id}\"]");
    assert!(
        until(
            c,
            &format!("return !!document.querySelector('{art} .media img')")
        )
        .await
    );
    // Budgets: first contentful paint under a second on loopback; all JavaScript under 100 KB.
    c.goto(&format!("{}/home", app.base)).await.unwrap();
    assert_eq!(
        js(
            c,
            "return getComputedStyle(document.getElementById('new-posts')).display"
        )
        .await,
        json!("none"),
        "no bar before anything new"
    );
    let fcp = js(
        c,
        "return await new Promise(done => { \
           new PerformanceObserver(l => { const e = l.getEntriesByName('first-contentful-paint')[0]; if (e) done(e.startTime); }) \
             .observe({ type: 'paint', buffered: true }); \
           setTimeout(() => done(null), 3000); })",
    )
    .await;
    assert!(
        fcp.as_f64().is_some_and(|t| t < 1000.0),
        "first contentful paint {fcp}"
    );
    let js_bytes = js(c, "return performance.getEntriesByType('resource').filter(r => r.initiatorType === 'script' || r.name.endsWith('.js')).reduce((n, r) => n + (r.encodedBodySize || 0), 0)").await;
    assert!(
        js_bytes.as_f64().unwrap() < 100_000.0,
        "JavaScript {js_bytes} bytes"
    );

    // Favourite it: the button and count change, and the API agrees.
    click(c, &format!("{art} button[data-action=favourite]")).await;
    assert!(until(c, &format!("return document.querySelector('{art} button[data-action=favourite]').getAttribute('aria-pressed') === 'true'")).await);
    assert_eq!(js(c, &format!("return document.querySelector('{art} button[data-action=favourite] .n').textContent")).await, json!("1"));
    let seen = app
        .get(&format!("/api/v1/statuses/{photo_id}"), Some(&bob))
        .await
        .json();
    assert_eq!(seen["favourited"], true);

    // Post from the compose box: it shows on Home without a reload.
    c.find(Locator::Id("compose-text"))
        .await
        .unwrap()
        .send_keys("Bob writes from the browser")
        .await
        .unwrap();
    // With a photo and its alt text.
    c.find(Locator::Id("compose-media"))
        .await
        .unwrap()
        .send_keys(&fixture_path("photo.jpg"))
        .await
        .unwrap();
    c.wait()
        .for_element(Locator::Css("#compose .attachments li input"))
        .await
        .unwrap()
        .send_keys("Bob's garden")
        .await
        .unwrap();
    js(c, "window.stillHere = true; return true").await;
    click(c, "#compose button[type=submit]").await;
    assert!(until(c, "return [...document.querySelectorAll('.status')].some(e => e.textContent.includes('Bob writes from the browser') && !!e.querySelector('.media img[alt=\"Bob\\'s garden\"]'))").await,
        "{}", browser.screenshot("web-compose").await.display());
    assert_eq!(
        js(c, "return window.stillHere === true").await,
        json!(true),
        "no full reload"
    );

    // Alice posts: Bob's Home offers it behind the bar, then shows it.
    let live = app
        .post(
            "/api/v1/statuses",
            Some(&alice),
            json!({"status": "Live from Alice"}),
        )
        .await
        .json();
    assert!(
        until(
            c,
            "return getComputedStyle(document.getElementById('new-posts')).display !== 'none'"
        )
        .await,
        "{}",
        browser.screenshot("web-live").await.display()
    );
    click(c, "#new-posts").await;
    let live_art = format!(".status[data-id=\"{}\"]", live["id"].as_str().unwrap());
    assert!(until(c, &format!("return !!document.querySelector('{live_art}')")).await);
    assert_eq!(js(c, "return window.stillHere === true").await, json!(true));
    browser.screenshot("web-home").await;

    // Alice favourites Bob's post: the badge counts it live; Notifications shows it.
    let bobs = app
        .get(
            &format!(
                "/api/v1/accounts/{}/statuses",
                js(c, "return document.body.dataset.me")
                    .await
                    .as_str()
                    .unwrap()
            ),
            Some(&bob),
        )
        .await
        .json();
    let bobs_id = bobs[0]["id"].as_str().unwrap();
    let fav = app
        .post(
            &format!("/api/v1/statuses/{bobs_id}/favourite"),
            Some(&alice),
            json!({}),
        )
        .await;
    assert_eq!(fav.status, 200);
    assert!(
        until(
            c,
            "const b = document.getElementById('unread'); return !!b && Number(b.textContent) >= 1"
        )
        .await
    );
    c.goto(&format!("{}/notifications", app.base))
        .await
        .unwrap();
    let text = c
        .find(Locator::Css(".notification.favourite"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("favourited your post"), "{text}");
    // Opening the screen moves the read marker.
    let mut read = false;
    for _ in 0..50 {
        let markers = app
            .get("/api/v1/markers?timeline[]=notifications", Some(&bob))
            .await
            .json();
        if markers["notifications"]["last_read_id"].as_str().is_some() {
            read = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(read, "the notifications marker moved");

    // Alice's profile: header, counts, the media grid, and Bob follows her already.
    c.goto(&format!("{}/@alice?tab=media", app.base))
        .await
        .unwrap();
    assert!(
        until(
            c,
            "return document.querySelectorAll('.gallery .tile img').length === 1"
        )
        .await
    );
    assert_eq!(
        js(
            c,
            "return document.querySelector('[data-follow]').dataset.follow"
        )
        .await,
        json!("unfollow")
    );
    browser.screenshot("web-profile").await;
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");

    // Reply from the post's page.
    c.goto(&format!("{}/@alice/{photo_id}", app.base))
        .await
        .unwrap();
    c.find(Locator::Id("compose-text"))
        .await
        .unwrap()
        .send_keys("Lovely photo")
        .await
        .unwrap();
    click(c, "#compose button[type=submit]").await;
    assert!(until(c, "return [...document.querySelectorAll('.status .content')].some(e => e.textContent.includes('Lovely photo'))").await);
    let ctx = app
        .get(
            &format!("/api/v1/statuses/{photo_id}/context"),
            Some(&alice),
        )
        .await
        .json();
    assert_eq!(ctx["descendants"].as_array().unwrap().len(), 1);
    browser.client.clone().close().await.unwrap();
}

/// Messages in Chromium: Bob starts a group chat with Alice and Carol from the browser; Alice's
/// typing and reply arrive live; his message's ticks go to seen once both have read it; he answers
/// with Enter; the list shows the chat; search finds his message.
#[tokio::test]
async fn messages_in_chromium() {
    let app = TestApp::start(Backend::Sqlite).await;
    for u in ["alice", "bob", "carol"] {
        app.create_user(u).await;
    }
    let alice = app.token_for("alice", "read write").await;
    let carol = app.token_for("carol", "read write").await;
    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&format!("{}/auth/sign_in?next=%2Fmessages", app.base))
        .await
        .unwrap();
    fill_sign_in(c, "bob", "password-bob").await;
    assert!(until(c, "return document.title.startsWith('Messages')").await);
    click(c, ".new-chat summary").await;
    c.find(Locator::Id("new-chat-to"))
        .await
        .unwrap()
        .send_keys("alice, @carol")
        .await
        .unwrap();
    c.find(Locator::Id("new-chat-text"))
        .await
        .unwrap()
        .send_keys("Hello both")
        .await
        .unwrap();
    click(c, "#new-chat button[type=submit]").await;
    assert!(
        until(c, "return !!document.querySelector('.bubble.mine')").await,
        "{}",
        browser.screenshot("chat-new").await.display()
    );
    let title = c.title().await.unwrap();
    assert!(title.starts_with("alice and carol"), "{title}");
    assert_eq!(
        js(
            c,
            "return document.querySelector('.bubble.mine').dataset.state"
        )
        .await,
        json!("delivered")
    );
    let bobs_first = js(
        c,
        "return document.querySelector('.bubble.mine').dataset.id",
    )
    .await;

    // Alice types, then answers: both show up live.
    let alices = app.get("/api/v1/conversations", Some(&alice)).await.json();
    let alice_conv = alices[0]["id"].as_str().unwrap().to_string();
    let t = app
        .post(
            &format!("/api/v1/conversations/{alice_conv}/typing"),
            Some(&alice),
            json!({}),
        )
        .await;
    assert_eq!(t.status, 200, "{}", t.text);
    assert!(
        until(
            c,
            "return document.getElementById('typing').textContent.includes('alice is typing')"
        )
        .await,
        "{}",
        browser.screenshot("chat-typing").await.display()
    );
    let r = app
        .post(
            "/api/v1/statuses",
            Some(&alice),
            json!({"status": "Hi Bob", "visibility": "direct", "in_reply_to_id": bobs_first}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(until(c, "return [...document.querySelectorAll('.bubble.theirs')].some(b => b.textContent.includes('Hi Bob') && b.textContent.includes('alice'))").await,
        "{}", browser.screenshot("chat-reply").await.display());

    // Carol reads too: Bob's message is seen by everyone.
    let carols = app.get("/api/v1/conversations", Some(&carol)).await.json();
    let read = app
        .post(
            &format!(
                "/api/v1/conversations/{}/read",
                carols[0]["id"].as_str().unwrap()
            ),
            Some(&carol),
            json!({}),
        )
        .await;
    assert_eq!(read.status, 200);
    assert!(
        until(
            c,
            "return document.querySelector('.bubble.mine').dataset.state === 'seen'"
        )
        .await,
        "{}",
        browser.screenshot("chat-seen").await.display()
    );

    // Bob answers with Enter; Alice gets it.
    c.find(Locator::Id("chat-text"))
        .await
        .unwrap()
        .send_keys("See you soon\u{E007}")
        .await
        .unwrap();
    assert!(
        until(
            c,
            "return document.querySelectorAll('.bubble.mine').length === 2"
        )
        .await
    );
    let mut got = false;
    for _ in 0..50 {
        let msgs = app
            .get(
                &format!("/api/v1/conversations/{alice_conv}/messages"),
                Some(&alice),
            )
            .await;
        assert_eq!(msgs.status, 200, "{}", msgs.text);
        if msgs.json()[0]["content"]
            .as_str()
            .unwrap_or_default()
            .contains("See you soon")
        {
            got = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(got, "Alice's messages list ends with Bob's answer");

    // Chat formatting: **bold** and _italic_.
    c.find(Locator::Id("chat-text"))
        .await
        .unwrap()
        .send_keys("a **big** and _small_ plan\u{E007}")
        .await
        .unwrap();
    assert!(until(c, "const b = [...document.querySelectorAll('.bubble.mine')].pop(); return !!b.querySelector('strong') && b.querySelector('strong').textContent === 'big' && b.querySelector('em').textContent === 'small'").await,
        "{}", browser.screenshot("chat-markup").await.display());

    // Add Dave from the chat's menu: he is in the chat now. Mute it: the API says so.
    app.create_user("dave").await;
    let dave = app.token_for("dave", "read").await;
    click(c, ".chat-menu summary").await;
    c.find(Locator::Id("chat-add-who"))
        .await
        .unwrap()
        .send_keys("dave")
        .await
        .unwrap();
    click(c, "#chat-add button[type=submit]").await;
    let mut joined = false;
    for _ in 0..50 {
        let d = app.get("/api/v1/conversations", Some(&dave)).await.json();
        if d.as_array().is_some_and(|a| a.len() == 1) {
            let names: Vec<&str> = d[0]["accounts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a["username"].as_str().unwrap())
                .collect();
            joined = ["alice", "bob", "carol"].iter().all(|n| names.contains(n));
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(joined, "Dave is in the chat with everyone");
    click(c, ".chat-menu summary").await;
    click(c, "button[data-chat=mute]").await;
    assert!(
        until(
            c,
            "return !!document.querySelector('button[data-chat=unmute]')"
        )
        .await
    );
    browser.screenshot("web-chat").await;

    // The list, and search over one's own messages.
    c.goto(&format!("{}/messages", app.base)).await.unwrap();
    let last = c
        .find(Locator::Css(".chat .last"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(last.contains("You: Added @dave"), "{last}");
    c.goto(&format!("{}/messages?q=hello", app.base))
        .await
        .unwrap();
    let found = c
        .find(Locator::Css(".feed"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(found.contains("Hello both"), "{found}");
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    browser.client.clone().close().await.unwrap();
}

fn fixture_path(name: &str) -> String {
    format!("{}/tests/fixtures/media/{name}", env!("CARGO_MANIFEST_DIR"))
}

/// Settings, a story and a short from the browser: Alice edits her profile (name, bio, a field,
/// an avatar) and her messaging preferences, posts a story from Home's tray and a short from its
/// upload page; the API shows each.
#[tokio::test]
async fn settings_story_and_short_in_chromium() {
    let app = TestApp::start(Backend::Sqlite).await;
    let alice_id = app.create_user("alice").await;
    let alice = app.token_for("alice", "read write").await;
    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&format!("{}/auth/sign_in?next=%2Fsettings", app.base))
        .await
        .unwrap();
    fill_sign_in(c, "alice", "password-alice").await;
    assert!(until(c, "return document.title.startsWith('Settings')").await);
    let name = c.find(Locator::Id("p-name")).await.unwrap();
    name.clear().await.unwrap();
    name.send_keys("Alice Liddell").await.unwrap();
    c.find(Locator::Id("p-note"))
        .await
        .unwrap()
        .send_keys("Down the rabbit hole")
        .await
        .unwrap();
    c.find(Locator::Id("f-name-0"))
        .await
        .unwrap()
        .send_keys("Home")
        .await
        .unwrap();
    c.find(Locator::Id("f-value-0"))
        .await
        .unwrap()
        .send_keys("Wonderland")
        .await
        .unwrap();
    c.find(Locator::Id("p-avatar"))
        .await
        .unwrap()
        .send_keys(&fixture_path("photo.png"))
        .await
        .unwrap();
    click(c, "#profile-form button[type=submit]").await;
    let mut saved = Value::Null;
    for _ in 0..50 {
        saved = app
            .get("/api/v1/accounts/verify_credentials", Some(&alice))
            .await
            .json();
        if saved["display_name"] == "Alice Liddell" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        saved["display_name"],
        "Alice Liddell",
        "{}",
        browser.screenshot("settings").await.display()
    );
    assert_eq!(saved["source"]["note"], "Down the rabbit hole");
    assert_eq!(saved["fields"][0]["name"], "Home");
    assert!(
        !saved["avatar"].as_str().unwrap().contains("missing"),
        "{saved}"
    );

    // Messaging preferences: typing indicators off.
    assert!(
        until(
            c,
            "return !!document.querySelector('#messaging-form input[name=typing_indicators]')"
        )
        .await
    );
    js(c, "document.querySelector('#messaging-form input[name=typing_indicators]').click(); return true").await;
    click(c, "#messaging-form button[type=submit]").await;
    let mut off = false;
    for _ in 0..50 {
        if app
            .get("/api/v1/messaging/preferences", Some(&alice))
            .await
            .json()["typing_indicators"]
            == false
        {
            off = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(off, "typing indicators were turned off");

    // A custom status for a day.
    c.find(Locator::Id("cs-text"))
        .await
        .unwrap()
        .send_keys("Reading in the garden")
        .await
        .unwrap();
    js(
        c,
        "document.getElementById('cs-expires').value = '86400'; return true",
    )
    .await;
    click(c, "#custom-status-form button[type=submit]").await;
    let mut shown = Value::Null;
    for _ in 0..50 {
        shown = app
            .get(&format!("/api/v1/presence?id[]={alice_id}"), Some(&alice))
            .await
            .json();
        if shown[0]["custom_status"]["text"] == "Reading in the garden" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        shown[0]["custom_status"]["text"], "Reading in the garden",
        "{shown}"
    );
    assert!(shown[0]["custom_status"]["expires_at"].as_str().is_some());

    // Follow a hashtag from its page; Settings lists it.
    c.goto(&format!("{}/tags/gardens", app.base)).await.unwrap();
    if !until(
        c,
        "return !!document.querySelector('button[data-tag-follow]')",
    )
    .await
    {
        panic!(
            "no follow button on the tag page:\n{}",
            c.source().await.unwrap()
        );
    }
    click(c, "button[data-tag-follow]").await;
    assert!(
        until(
            c,
            "return document.querySelector('button[data-tag-follow]').dataset.following === 'true'"
        )
        .await
    );
    c.goto(&format!("{}/settings", app.base)).await.unwrap();
    let tags = c
        .find(Locator::Id("followed-tags"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(tags.contains("#gardens"), "{tags}");

    // Authorised apps: the test's app is listed (not the web app); revoking it ends its token.
    let other = app.token_for("alice", "read").await;
    c.refresh().await.unwrap();
    let apps = c
        .find(Locator::Id("apps"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        apps.contains("Test app") && !apps.contains("Rookery Web"),
        "{apps}"
    );
    // Two sign-ins of the test's app (one per token_for): revoke each.
    for left in [1, 0] {
        click(c, "#apps form button[type=submit]").await;
        assert!(
            until(
                c,
                &format!("return document.querySelectorAll('#apps form').length === {left}")
            )
            .await,
            "{}",
            browser.screenshot("settings-apps").await.display()
        );
    }
    assert!(
        c.find(Locator::Id("apps"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
            .contains("No app has access")
    );
    assert_eq!(
        app.get("/api/v1/accounts/verify_credentials", Some(&other))
            .await
            .status,
        401
    );
    let alice = {
        // Later steps read through the API: a fresh token.
        app.token_for("alice", "read write").await
    };

    // A story from Home's tray.
    c.goto(&format!("{}/home", app.base)).await.unwrap();
    c.find(Locator::Id("story-file"))
        .await
        .unwrap()
        .send_keys(&fixture_path("photo.png"))
        .await
        .unwrap();
    let mut stories = Value::Null;
    for _ in 0..100 {
        stories = app
            .get(
                &format!("/api/v1/accounts/{alice_id}/stories"),
                Some(&alice),
            )
            .await
            .json();
        if stories.as_array().is_some_and(|a| a.len() == 1) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(stories.as_array().map(Vec::len), Some(1), "{stories}");

    // A short from its upload page: it lands on the profile's shorts.
    c.goto(&format!("{}/shorts/new", app.base)).await.unwrap();
    c.find(Locator::Id("short-file"))
        .await
        .unwrap()
        .send_keys(&fixture_path("vertical.mp4"))
        .await
        .unwrap();
    c.find(Locator::Id("short-caption"))
        .await
        .unwrap()
        .send_keys("My first short")
        .await
        .unwrap();
    click(c, "#short-form button[type=submit]").await;
    let mut landed = false;
    for _ in 0..300 {
        if js(c, "return location.pathname === '/@alice/shorts' && document.querySelectorAll('.short').length === 1").await == json!(true) {
            landed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(
        landed,
        "{}",
        browser.screenshot("short-upload").await.display()
    );
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    browser.client.clone().close().await.unwrap();
}

/// Not a check: `scripts/screenshots` runs this to draw every screen of the web app at phone
/// (390×844) and desktop (1440×900) widths into `$ROOKERY_SCREENSHOTS_DIR` (docs/screenshots).
#[tokio::test]
#[ignore = "run by scripts/screenshots"]
async fn screenshots() {
    let dir = std::path::PathBuf::from(
        std::env::var("ROOKERY_SCREENSHOTS_DIR").expect("ROOKERY_SCREENSHOTS_DIR"),
    );
    std::fs::create_dir_all(&dir).unwrap();
    let app = TestApp::start(Backend::Sqlite).await;
    let alice_id = app.create_user("alice").await;
    let bob_id = app.create_user("bob").await;
    app.create_user("carol").await;
    let alice = app.token_for("alice", "read write follow").await;
    let bob = app.token_for("bob", "read write follow").await;
    let carol = app.token_for("carol", "read write follow").await;
    for (token, name, note) in [
        (
            &alice,
            "Alice Liddell",
            "Down the rabbit hole. Curiouser and curiouser.",
        ),
        (&bob, "Bob Builder", "Can we fix it?"),
        (&carol, "Carol", "Sings in the choir"),
    ] {
        let r = app
            .send_form(
                reqwest::Method::PATCH,
                "/api/v1/accounts/update_credentials",
                Some(token),
                &[
                    ("display_name", name),
                    ("note", note),
                    ("fields_attributes[0][name]", "Home"),
                    ("fields_attributes[0][value]", "Wonderland"),
                ],
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    for (who, whom) in [(&bob, alice_id), (&alice, bob_id)] {
        app.post(
            &format!("/api/v1/accounts/{whom}/follow"),
            Some(who),
            json!({}),
        )
        .await;
    }
    let upload = |file: &'static str, mime: &'static str, alt: &'static str| {
        let app = &app;
        let alice = alice.clone();
        async move {
            crate::media::upload(
                app,
                &alice,
                "/api/v2/media",
                file,
                mime,
                crate::media::fixture(file),
                &[("description", alt)],
            )
            .await
            .json()["id"]
                .clone()
        }
    };
    let p1 = upload("photo.jpg", "image/jpeg", "A photo").await;
    let p2 = upload("photo.png", "image/png", "A pattern").await;
    let photo = app
        .post(
            "/api/v1/statuses",
            Some(&alice),
            json!({"status": "Tea party in the garden #wonderland", "media_ids": [p1, p2]}),
        )
        .await
        .json();
    let pid = photo["id"].as_str().unwrap().to_string();
    app.post(
        "/api/v1/statuses",
        Some(&bob),
        json!({"status": "@alice lovely garden!", "in_reply_to_id": pid}),
    )
    .await;
    app.post(
        &format!("/api/v1/statuses/{pid}/favourite"),
        Some(&bob),
        json!({}),
    )
    .await;
    app.post(
        &format!("/api/v1/statuses/{pid}/favourite"),
        Some(&carol),
        json!({}),
    )
    .await;
    app.post(
        "/api/v1/statuses",
        Some(&carol),
        json!({"status": "Choir practice tonight, everyone welcome"}),
    )
    .await;
    app.post(
        "/api/v1/statuses",
        Some(&bob),
        json!({"status": "Spoiler about the book", "spoiler_text": "Book spoilers"}),
    )
    .await;
    let dm = app
        .post(
            "/api/v1/statuses",
            Some(&bob),
            json!({"status": "@alice are you coming to the party?", "visibility": "direct"}),
        )
        .await
        .json();
    app.post("/api/v1/statuses", Some(&alice), json!({"status": "Yes! See you at five", "visibility": "direct", "in_reply_to_id": dm["id"]})).await;
    let story_media = crate::media::upload(
        &app,
        &bob,
        "/api/v2/media",
        "photo.jpg",
        "image/jpeg",
        crate::media::fixture("photo.jpg"),
        &[],
    )
    .await
    .json();
    let story = app
        .post(
            "/api/v1/stories",
            Some(&bob),
            json!({"media_id": story_media["id"]}),
        )
        .await;
    assert_eq!(story.status, 200, "{}", story.text);

    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&format!("{}/auth/sign_in?next=%2Fhome", app.base))
        .await
        .unwrap();
    fill_sign_in(c, "alice", "password-alice").await;
    assert!(until(c, "return document.title.startsWith('Home')").await);
    let chats = app.get("/api/v1/conversations", Some(&alice)).await.json();
    let chat = format!("/messages/{}", chats[0]["id"].as_str().unwrap());
    let thread = format!("/@alice/{pid}");
    let list = app
        .post("/api/v1/lists", Some(&alice), json!({"title": "Friends"}))
        .await
        .json();
    let list_path = format!("/lists/{}", list["id"].as_str().unwrap());
    app.post(
        &format!("{list_path}/accounts").replacen("/lists", "/api/v1/lists", 1),
        Some(&alice),
        json!({"account_ids": [bob_id.to_string()]}),
    )
    .await;
    let screens: [(&str, &str); 12] = [
        ("home", "/home"),
        ("explore", "/explore?tab=local"),
        ("notifications", "/notifications"),
        ("profile", "/@alice"),
        ("profile-media", "/@alice?tab=media"),
        ("thread", &thread),
        ("messages", "/messages"),
        ("chat", &chat),
        ("settings", "/settings"),
        ("list", &list_path),
        ("story", "/@bob/stories"),
        ("sign-in", "/auth/sign_in"),
    ];
    for (width, height, size) in [(390, 844, "phone"), (1440, 900, "desktop")] {
        c.set_window_size(width, height).await.unwrap();
        for (name, path) in screens {
            c.goto(&format!("{}{path}", app.base)).await.unwrap();
            tokio::time::sleep(Duration::from_millis(400)).await;
            let png = c.screenshot().await.unwrap();
            std::fs::write(dir.join(format!("{name}-{size}.png")), png).unwrap();
        }
    }
    browser.client.clone().close().await.unwrap();
}

/// Two instances, two browsers: Alice on A starts a chat with Bob on B from the New chat form;
/// Bob's Messages list shows it live, he opens it (which reads it), and Alice's tick turns to seen;
/// his answer appears in Alice's chat live.
#[tokio::test]
async fn chat_between_instances_in_chromium() {
    use crate::federation::{DEV_FEDERATION, FAST_RETRY, Instance};
    let a = Instance::start(Backend::Sqlite, FAST_RETRY).await;
    let b = Instance::start(Backend::Sqlite, DEV_FEDERATION).await;
    a.user("alice").await;
    b.user("bob").await;
    let alice_browser = Browser::start().await;
    let bob_browser = Browser::start().await;
    let (ca, cb) = (&alice_browser.client, &bob_browser.client);
    sign_in_to_messages(ca, &a, "alice").await;
    sign_in_to_messages(cb, &b, "bob").await;

    click(ca, ".new-chat summary").await;
    ca.find(Locator::Id("new-chat-to"))
        .await
        .unwrap()
        .send_keys(&format!("bob@{}", b.domain))
        .await
        .unwrap();
    ca.find(Locator::Id("new-chat-text"))
        .await
        .unwrap()
        .send_keys("Hello across servers")
        .await
        .unwrap();
    click(ca, "#new-chat button[type=submit]").await;
    assert!(
        until(ca, "return !!document.querySelector('.bubble.mine')").await,
        "{}",
        alice_browser.screenshot("fed-chat-new").await.display()
    );

    // Bob's list gets it live (the page reloads on a new conversation event).
    let arrived = {
        let mut ok = false;
        for _ in 0..20 {
            if until(cb, "return !!document.querySelector('.chat a')").await {
                ok = true;
                break;
            }
        }
        ok
    };
    assert!(
        arrived,
        "{}\n{}",
        bob_browser.screenshot("fed-chat-list").await.display(),
        b.log()
    );
    click(cb, ".chat a").await;
    assert!(until(cb, "return [...document.querySelectorAll('.bubble.theirs')].some(b => b.textContent.includes('Hello across servers'))").await);

    // Opening the chat read it: Alice's tick turns to seen.
    let mut seen = false;
    for _ in 0..20 {
        if until(
            ca,
            "return document.querySelector('.bubble.mine').dataset.state === 'seen'",
        )
        .await
        {
            seen = true;
            break;
        }
    }
    assert!(
        seen,
        "{}\n{}",
        alice_browser.screenshot("fed-chat-seen").await.display(),
        a.log()
    );

    // Bob answers; Alice sees it live.
    cb.find(Locator::Id("chat-text"))
        .await
        .unwrap()
        .send_keys("Hello back\u{E007}")
        .await
        .unwrap();
    let mut answered = false;
    for _ in 0..20 {
        if until(ca, "return [...document.querySelectorAll('.bubble.theirs')].some(b => b.textContent.includes('Hello back'))").await {
            answered = true;
            break;
        }
    }
    assert!(
        answered,
        "{}\n{}",
        alice_browser.screenshot("fed-chat-answer").await.display(),
        b.log()
    );
    for b in [&alice_browser, &bob_browser] {
        let errors = b.console_errors().await;
        assert!(errors.is_empty(), "console errors: {errors:?}");
    }
    alice_browser.client.clone().close().await.unwrap();
    bob_browser.client.clone().close().await.unwrap();
}

/// Signs `user` (a federation test user) in on `inst` in `c`, landing on Messages.
pub(crate) async fn sign_in_to_messages(
    c: &fantoccini::Client,
    inst: &crate::federation::Instance,
    user: &str,
) {
    c.goto(&format!(
        "http://{}/auth/sign_in?next=%2Fmessages",
        inst.domain
    ))
    .await
    .unwrap();
    for (field, value) in [("username", user), ("password", "federation test")] {
        c.find(Locator::Id(field))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    click(c, "button[type=submit]").await;
    assert!(until(c, "return document.title.startsWith('Messages')").await);
}

/// A room across two instances in the browser (issue 29): alice@A makes a room on Messages and
/// invites bob@B; bob's list shows the invitation live and he accepts; both talk, each seeing the
/// other's messages arrive live on the room's screen.
#[tokio::test]
async fn rooms_between_instances_in_chromium() {
    use crate::federation::{DEV_FEDERATION, Instance};
    let a = Instance::start(Backend::Sqlite, DEV_FEDERATION).await;
    let b = Instance::start(Backend::Postgres, DEV_FEDERATION).await;
    let alice_token = a.user("alice").await;
    b.user("bob").await;
    let alice_browser = Browser::start().await;
    let bob_browser = Browser::start().await;
    let (ca, cb) = (&alice_browser.client, &bob_browser.client);
    sign_in_to_messages(ca, &a, "alice").await;
    sign_in_to_messages(cb, &b, "bob").await;

    click(ca, ".new-room summary").await;
    for (id, text) in [
        ("new-room-name", "Herons".to_string()),
        ("new-room-invite", format!("bob@{}", b.domain)),
    ] {
        ca.find(Locator::Id(id))
            .await
            .unwrap()
            .send_keys(&text)
            .await
            .unwrap();
    }
    click(ca, "#new-room button[type=submit]").await;
    assert!(
        until(ca, "return !!document.getElementById('room-compose')").await,
        "{}",
        alice_browser.screenshot("room-new").await.display()
    );

    // Bob's list shows the invitation live (the list reloads on room events); he accepts.
    let mut invited = false;
    for _ in 0..20 {
        if until(
            cb,
            "return !!document.querySelector('[data-room-answer=accept]')",
        )
        .await
        {
            invited = true;
            break;
        }
    }
    assert!(
        invited,
        "{}\n{}",
        bob_browser.screenshot("room-invitation").await.display(),
        b.log()
    );
    click(cb, "[data-room-answer=accept]").await;
    assert!(until(cb, "return !!document.getElementById('room-compose')").await);
    // The host has heard the answer before Alice speaks (it relays to joined members only).
    let mut joined = false;
    for _ in 0..50 {
        let (_, rooms) = a.get("/api/v1/rooms", &alice_token).await;
        if rooms[0]["members_count"] == 2 {
            joined = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(joined, "{}", a.log());

    ca.find(Locator::Id("room-text"))
        .await
        .unwrap()
        .send_keys("Herons at dawn\u{E007}")
        .await
        .unwrap();
    let mut arrived = false;
    for _ in 0..20 {
        if until(cb, "return [...document.querySelectorAll('.bubble.theirs')].some(b => b.textContent.includes('Herons at dawn'))").await {
            arrived = true;
            break;
        }
    }
    assert!(
        arrived,
        "{}\n{}",
        bob_browser.screenshot("room-message").await.display(),
        b.log()
    );
    cb.find(Locator::Id("room-text"))
        .await
        .unwrap()
        .send_keys("Three of them\u{E007}")
        .await
        .unwrap();
    let mut answered = false;
    for _ in 0..20 {
        if until(ca, "return [...document.querySelectorAll('.bubble.theirs')].some(b => b.textContent.includes('Three of them'))").await {
            answered = true;
            break;
        }
    }
    assert!(
        answered,
        "{}\n{}",
        alice_browser.screenshot("room-answer").await.display(),
        a.log()
    );
    // Alice's own message shows once, as hers.
    let mine: i64 = ca
        .execute(
            "return [...document.querySelectorAll('.bubble.mine')].filter(b => b.textContent.includes('Herons at dawn')).length",
            vec![],
        )
        .await
        .unwrap()
        .as_i64()
        .unwrap();
    assert_eq!(mine, 1);
    for b in [&alice_browser, &bob_browser] {
        let errors = b.console_errors().await;
        assert!(errors.is_empty(), "console errors: {errors:?}");
    }
    alice_browser.client.clone().close().await.unwrap();
    bob_browser.client.clone().close().await.unwrap();
}

/// The custom status: bounded, public on the profile, in `GET /api/v1/presence`, live in a chat's
/// header, gone when it expires or is cleared.
async fn custom_status(app: TestApp) {
    let alice_id = app.create_user("alice").await;
    app.create_user("bob").await;
    let alice = app.token_for("alice", "read write").await;
    let bob = app.token_for("bob", "read write").await;
    for (body, why) in [
        (json!({"text": "x".repeat(101)}), "text too long"),
        (json!({"emoji": "a b"}), "emoji with a space"),
        (json!({"emoji": "🌴".repeat(9)}), "emoji too long"),
        (
            json!({"text": "away", "expires_in": 10}),
            "expiry too short",
        ),
        (
            json!({"text": "away", "expires_in": 31 * 86_400}),
            "expiry too long",
        ),
        (
            json!({"text": "away", "expires_in": i64::MAX}),
            "expiry overflows",
        ),
    ] {
        let r = app.put("/api/v1/presence/status", Some(&alice), body).await;
        assert_eq!(r.status, 422, "{why}: {}", r.text);
    }
    let set = app
        .put(
            "/api/v1/presence/status",
            Some(&alice),
            json!({"text": "On holiday", "emoji": "🌴", "expires_in": 3600}),
        )
        .await;
    assert_eq!(set.status, 200, "{}", set.text);
    assert_eq!(set.json()["text"], "On holiday");
    assert!(set.json()["expires_at"].as_str().is_some());
    let p = app
        .get(&format!("/api/v1/presence?id[]={alice_id}"), Some(&bob))
        .await
        .json();
    assert_eq!(p[0]["custom_status"]["emoji"], "🌴");
    assert_eq!(p[0]["online"], false, "presence stays private to partners");
    let page = FormClient::new().get(&app.url("/@alice")).await;
    assert!(page.text.contains("🌴 On holiday"), "the profile shows it");
    let cleared = app
        .send(
            reqwest::Method::DELETE,
            "/api/v1/presence/status",
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(cleared.status, 200);
    let p = app
        .get(&format!("/api/v1/presence?id[]={alice_id}"), Some(&bob))
        .await
        .json();
    assert!(p[0]["custom_status"].is_null());
}

both_backends!(custom_status);

/// Lists and filters in Chromium: Alice makes a list, adds Bob (whom she follows) by handle, sees
/// his post in its feed and removes him; she adds a filter on Settings, which then hides the
/// matching post from Home, and deletes it.
#[tokio::test]
async fn lists_and_filters_in_chromium() {
    let app = TestApp::start(Backend::Sqlite).await;
    app.create_user("alice").await;
    let bob_id = app.create_user("bob").await;
    let alice = app.token_for("alice", "read write follow").await;
    let bob = app.token_for("bob", "read write").await;
    app.post(
        &format!("/api/v1/accounts/{bob_id}/follow"),
        Some(&alice),
        json!({}),
    )
    .await;
    app.post(
        "/api/v1/statuses",
        Some(&bob),
        json!({"status": "Compost tips for the season finale"}),
    )
    .await;
    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&format!("{}/auth/sign_in?next=%2Flists", app.base))
        .await
        .unwrap();
    fill_sign_in(c, "alice", "password-alice").await;
    assert!(until(c, "return document.title.startsWith('Lists')").await);
    c.find(Locator::Id("list-title"))
        .await
        .unwrap()
        .send_keys("Gardeners")
        .await
        .unwrap();
    click(c, "#list-new button[type=submit]").await;
    assert!(until(c, "return document.title.startsWith('Gardeners')").await);
    click(c, "#list-members summary").await;
    c.find(Locator::Id("list-add-who"))
        .await
        .unwrap()
        .send_keys("bob")
        .await
        .unwrap();
    click(c, "#list-add button[type=submit]").await;
    assert!(until(c, "return !!document.querySelector('[data-remove-member]') && [...document.querySelectorAll('#feed .status')].some(s => s.textContent.includes('Compost tips'))").await,
        "{}", browser.screenshot("list").await.display());
    let lists = app.get("/api/v1/lists", Some(&alice)).await.json();
    let list_id = lists[0]["id"].as_str().unwrap().to_string();
    assert_eq!(
        app.get(&format!("/api/v1/lists/{list_id}/accounts"), Some(&alice))
            .await
            .json()[0]["username"],
        "bob"
    );
    click(c, "#list-members summary").await;
    click(c, "button[data-remove-member]").await;
    let mut gone = false;
    for _ in 0..50 {
        if app
            .get(&format!("/api/v1/lists/{list_id}/accounts"), Some(&alice))
            .await
            .json()
            .as_array()
            .is_some_and(Vec::is_empty)
        {
            gone = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(gone, "Bob was removed from the list");

    // A filter from Settings: Home then hides the post; deleting it brings the post back.
    c.goto(&format!("{}/settings", app.base)).await.unwrap();
    c.find(Locator::Id("filter-title"))
        .await
        .unwrap()
        .send_keys("Spoilers")
        .await
        .unwrap();
    c.find(Locator::Id("filter-words"))
        .await
        .unwrap()
        .send_keys("finale")
        .await
        .unwrap();
    js(
        c,
        "document.getElementById('filter-action').value = 'hide'; return true",
    )
    .await;
    click(c, "#filter-new button[type=submit]").await;
    assert!(
        until(c, "return !!document.querySelector('[data-delete-filter]')").await,
        "{}",
        browser.screenshot("filters").await.display()
    );
    let filters = app.get("/api/v2/filters", Some(&alice)).await.json();
    assert_eq!(filters[0]["title"], "Spoilers");
    assert_eq!(filters[0]["keywords"][0]["keyword"], "finale");
    c.goto(&format!("{}/home", app.base)).await.unwrap();
    assert!(until(c, "return !!document.getElementById('compose')").await);
    assert!(
        !c.source().await.unwrap().contains("Compost tips"),
        "the filter hides it"
    );
    c.goto(&format!("{}/settings", app.base)).await.unwrap();
    click(c, "button[data-delete-filter]").await;
    assert!(until(c, "return !document.querySelector('[data-delete-filter]')").await);
    assert!(
        app.get("/api/v2/filters", Some(&alice))
            .await
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    browser.client.clone().close().await.unwrap();
}

/// A dropped stream loses nothing: Alice's chat is open when her server goes down; a message sent
/// to her right after it is back (before her page has reconnected) shows up once the page
/// reconnects, once, and the next one arrives live, once.
#[tokio::test]
async fn chat_catches_up_after_a_drop() {
    use crate::federation::{FAST_RETRY, Instance};
    let mut a = Instance::start(Backend::Sqlite, FAST_RETRY).await;
    a.user("alice").await;
    let dan = a.user("dan").await;
    let post = |a: &Instance, token: &str, body: Value| {
        let req = a
            .http
            .post(a.url("/api/v1/statuses"))
            .bearer_auth(token)
            .json(&body);
        async move {
            let r = req.send().await.unwrap();
            assert!(r.status().is_success(), "{}", r.status());
            r.json::<Value>().await.unwrap()
        }
    };
    let first = post(
        &a,
        &dan,
        json!({"status": "@alice hello", "visibility": "direct"}),
    )
    .await;
    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&format!(
        "http://{}/auth/sign_in?next=%2Fmessages",
        a.domain
    ))
    .await
    .unwrap();
    for (field, value) in [("username", "alice"), ("password", "federation test")] {
        c.find(Locator::Id(field))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    click(c, "button[type=submit]").await;
    click(c, ".chat a").await;
    assert!(
        until(
            c,
            "return document.querySelectorAll('.bubble.theirs').length === 1"
        )
        .await
    );

    // Down for five seconds: the page says so, and its reconnection backs off (1, 2, 4 s …).
    assert!(until(c, "return document.body.dataset.live === 'on'").await);
    a.kill();
    assert!(until(c, "return document.body.dataset.live === 'off'").await);
    tokio::time::sleep(Duration::from_secs(5)).await;
    a.restart().await;
    post(&a, &dan, json!({"status": "while you were away", "visibility": "direct", "in_reply_to_id": first["id"]})).await;
    assert_eq!(
        js(c, "return document.body.dataset.live").await,
        json!("off"),
        "the message was sent while the page was not connected"
    );
    let count = |text: &str| {
        format!(
            "return [...document.querySelectorAll('.bubble')].filter(b => b.textContent.includes('{text}')).length"
        )
    };
    assert!(
        until(c, &format!("{} === 1", count("while you were away"))).await,
        "{}",
        browser.screenshot("chat-drop").await.display()
    );
    post(
        &a,
        &dan,
        json!({"status": "and now live", "visibility": "direct", "in_reply_to_id": first["id"]}),
    )
    .await;
    assert!(until(c, &format!("{} === 1", count("and now live"))).await);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        js(c, &count("while you were away")).await,
        json!(1),
        "nothing doubled"
    );
    assert_eq!(
        js(c, "return document.querySelectorAll('.bubble').length").await,
        json!(3)
    );
    browser.client.clone().close().await.unwrap();
}

/// No dead links: from the front page and every screen (signed out and signed in), follow each
/// local `href` and `src` in the HTML — post and bio links, mentions, hashtags, featured hashtags,
/// profiles, threads, media, assets — and check none answers 404 or fails.
#[tokio::test]
async fn no_dead_links() {
    let app = TestApp::start(Backend::Sqlite).await;
    let alice_id = app.create_user("alice").await;
    let bob_id = app.create_user("bob").await;
    let alice = app.token_for("alice", "read write follow").await;
    let bob = app.token_for("bob", "read write follow").await;
    let r = app
        .send_form(
            reqwest::Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some(&alice),
            &[
                (
                    "note",
                    "Gardener. Ask @bob about #compost https://example.com/garden",
                ),
                ("fields_attributes[0][name]", "Tag"),
                ("fields_attributes[0][value]", "#gardens"),
            ],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let f = app
        .post(
            "/api/v1/featured_tags",
            Some(&alice),
            json!({"name": "gardens"}),
        )
        .await;
    assert_eq!(f.status, 200, "{}", f.text);
    app.post(
        &format!("/api/v1/accounts/{alice_id}/follow"),
        Some(&bob),
        json!({}),
    )
    .await;
    app.post(
        &format!("/api/v1/accounts/{bob_id}/follow"),
        Some(&alice),
        json!({}),
    )
    .await;
    let m = crate::media::upload(
        &app,
        &alice,
        "/api/v2/media",
        "photo.jpg",
        "image/jpeg",
        crate::media::fixture("photo.jpg"),
        &[("description", "beds")],
    )
    .await;
    let s = app
        .post("/api/v1/statuses", Some(&alice), json!({"status": "New beds for #gardens, thanks @bob! https://example.com/beds", "media_ids": [m.json()["id"]]}))
        .await
        .json();
    app.post(
        "/api/v1/statuses",
        Some(&bob),
        json!({"status": "@alice they look great #gardens", "in_reply_to_id": s["id"]}),
    )
    .await;
    app.post(
        &format!("/api/v1/statuses/{}/favourite", s["id"].as_str().unwrap()),
        Some(&bob),
        json!({}),
    )
    .await;
    app.post(
        "/api/v1/statuses",
        Some(&bob),
        json!({"status": "@alice see you at the allotment", "visibility": "direct"}),
    )
    .await;
    let story_media = crate::media::upload(
        &app,
        &alice,
        "/api/v2/media",
        "photo.png",
        "image/png",
        crate::media::fixture("photo.png"),
        &[],
    )
    .await;
    app.post(
        "/api/v1/stories",
        Some(&alice),
        json!({"media_id": story_media.json()["id"]}),
    )
    .await;

    let config_base = app.state.config.base_url();
    let local = |href: &str| -> Option<String> {
        let href = href.replace("&amp;", "&");
        let href = href.split('#').next().unwrap_or_default().to_string();
        if let Some(p) = href
            .strip_prefix(&app.base)
            .or_else(|| href.strip_prefix(&config_base))
        {
            return Some(if p.is_empty() {
                "/".into()
            } else {
                p.to_string()
            });
        }
        (href.starts_with('/') && !href.starts_with("//")).then_some(href)
    };
    let link = regex::Regex::new(r#"(?:href|src|poster)="([^"]*)""#).unwrap();
    for signed_in in [false, true] {
        let mut c = if signed_in {
            let mut c = FormClient::new();
            let page = c.get(&app.url("/auth/sign_in?next=/home")).await;
            let mut form = hidden_inputs(&page.text);
            form.push(("username".into(), "bob".into()));
            form.push(("password".into(), "password-bob".into()));
            c.post_form(&app.url("/auth/sign_in"), &form).await;
            c
        } else {
            FormClient::new()
        };
        let mut queue: std::collections::VecDeque<String> = [
            "/",
            "/home",
            "/explore",
            "/explore?tab=posts",
            "/explore?tab=tags",
            "/explore?tab=links",
            "/explore?tab=people",
            "/about",
            "/notifications",
            "/messages",
            "/settings",
            "/lists",
            "/@alice",
            "/@alice?tab=media",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut seen = std::collections::HashSet::new();
        let mut dead = Vec::new();
        while let Some(path) = queue.pop_front() {
            if seen.len() >= 400 || !seen.insert(path.clone()) {
                continue;
            }
            let mut page = c.get(&app.url(&path)).await;
            let mut at = path.clone();
            for _ in 0..3 {
                match (
                    page.status.as_u16(),
                    page.header("location").map(str::to_string),
                ) {
                    (301..=303 | 307 | 308, Some(to)) => {
                        at = local(&to).unwrap_or(to);
                        page = c.get(&app.url(&at)).await;
                    }
                    _ => break,
                }
            }
            let status = page.status.as_u16();
            if status == 404 || status >= 500 {
                dead.push(format!("{path} → {at}: {status}"));
                continue;
            }
            if page
                .header("content-type")
                .is_some_and(|t| t.starts_with("text/html"))
            {
                for cap in link.captures_iter(&page.text) {
                    if let Some(next) = local(&cap[1])
                        && !seen.contains(&next)
                        && !next.starts_with("/auth/sign_out")
                    {
                        queue.push_back(next);
                    }
                }
            }
        }
        assert!(
            dead.is_empty(),
            "dead links (signed in: {signed_in}): {dead:#?}"
        );
        assert!(seen.len() > 30, "the crawl reached {} pages", seen.len());
        eprintln!("crawled {} addresses (signed in: {signed_in})", seen.len());
        for must in ["/tags/gardens", "/@alice/tagged/gardens", "/@bob", "/about"] {
            assert!(
                seen.contains(must),
                "{must} was linked from a page (signed in: {signed_in})"
            );
        }
    }
}

/// A poll in the web app: Alice sees Bob's poll on Home as a vote form, votes, and sees the
/// results with her choice; the vote is stored; the author's own poll shows results only.
/// A browser signed in as `user` (password `password-USER`) on `app`, at `next`.
async fn signed_in_browser(app: &TestApp, user: &str, next: &str) -> Browser {
    let browser = Browser::start().await;
    browser
        .client
        .goto(&format!(
            "{}/auth/sign_in?next={}",
            app.base,
            urlencoding::encode(next)
        ))
        .await
        .unwrap();
    fill_sign_in(&browser.client, user, &format!("password-{user}")).await;
    browser
}

#[tokio::test]
async fn poll_in_chromium() {
    let app = TestApp::start(Backend::Sqlite).await;
    app.create_user("alice").await;
    let bob_id = app.create_user("bob").await;
    let alice = app.token_for("alice", "read write follow").await;
    let bob = app.token_for("bob", "read write").await;
    app.post(
        &format!("/api/v1/accounts/{bob_id}/follow"),
        Some(&alice),
        json!({}),
    )
    .await;
    let status = crate::statuses::post(
        &app,
        &bob,
        json!({"status": "Rain or shine?", "poll": {"options": ["Rain", "Shine"], "expires_in": 3600}}),
    )
    .await;
    let poll_id = status["poll"]["id"].as_str().unwrap().to_string();
    let browser = signed_in_browser(&app, "alice", "/home").await;
    let c = &browser.client;
    assert!(
        until(
            c,
            "return !!document.querySelector('form.poll input[value=\"1\"]')"
        )
        .await,
        "{}",
        browser.screenshot("poll-form").await.display()
    );
    click(c, "form.poll input[value=\"1\"]").await;
    click(c, "form.poll button[type=submit]").await;
    assert!(
        until(c, "return !!document.querySelector('form.poll .option.own') && !document.querySelector('form.poll input')").await,
        "{}",
        browser.screenshot("poll-voted").await.display()
    );
    let text = js(c, "return document.querySelector('form.poll').textContent").await;
    assert!(text.as_str().unwrap().contains("100%"), "{text}");
    let poll = app
        .get(&format!("/api/v1/polls/{poll_id}"), Some(&alice))
        .await
        .json();
    assert_eq!(poll["own_votes"], json!([1]));
    // After a reload the results are served by the page itself.
    c.goto(&format!("{}/home", app.base)).await.unwrap();
    assert!(until(c, "return !!document.querySelector('form.poll progress')").await);
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    browser.client.clone().close().await.unwrap();
}

/// Filtered notifications in the browser: a stranger's direct mention waits under Notifications
/// as a request; accepting it brings the mention into the list; the policy is changed in
/// Settings.
#[tokio::test]
async fn notification_requests_in_chromium() {
    let app = TestApp::start(Backend::Sqlite).await;
    app.create_user("alice").await;
    app.create_user("bob").await;
    let bob = app.token_for("bob", "read write").await;
    let alice = app.token_for("alice", "read").await;
    crate::statuses::post(
        &app,
        &bob,
        json!({"status": "@alice are you there?", "visibility": "direct"}),
    )
    .await;
    let browser = signed_in_browser(&app, "alice", "/notifications").await;
    let c = &browser.client;
    assert!(
        until(c, "return !!document.querySelector('#requests .request')").await,
        "{}",
        browser.screenshot("requests").await.display()
    );
    let text = js(c, "return document.querySelector('#requests').textContent").await;
    let text = text.as_str().unwrap();
    assert!(
        text.contains("are you there?") && text.contains("@bob"),
        "{text}"
    );
    assert!(
        js(
            c,
            "return document.querySelectorAll('#notifications .notification').length"
        )
        .await
            == json!(0)
    );
    click(c, "#requests [data-request-action=accept]").await;
    assert!(
        until(
            c,
            "return !document.querySelector('#requests') && document.querySelectorAll('#notifications .notification.mention').length === 1"
        )
        .await,
        "{}",
        browser.screenshot("requests-accepted").await.display()
    );

    c.goto(&format!("{}/settings", app.base)).await.unwrap();
    assert!(
        until(
            c,
            "return !!document.querySelector('#policy-form select[name=for_not_following]')"
        )
        .await
    );
    js(
        c,
        "const s = document.querySelector('#policy-form select[name=for_not_following]'); s.value = 'filter'; return true",
    )
    .await;
    click(c, "#policy-form button[type=submit]").await;
    let mut saved = false;
    for _ in 0..50 {
        let p = app
            .get("/api/v2/notifications/policy", Some(&alice))
            .await
            .json();
        if p["for_not_following"] == "filter" {
            saved = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(saved, "{}", browser.screenshot("policy").await.display());
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    browser.client.clone().close().await.unwrap();
}

/// Quote posts in the browser: Quote on a post fills Home's compose box, the post goes out as a
/// quote, and Home shows the quoted post inside it.
#[tokio::test]
async fn quotes_in_chromium() {
    let app = TestApp::start(Backend::Sqlite).await;
    let alice_id = app.create_user("alice").await;
    app.create_user("bob").await;
    let alice = app.token_for("alice", "read write").await;
    let bob = app.token_for("bob", "read write follow").await;
    app.post(
        &format!("/api/v1/accounts/{alice_id}/follow"),
        Some(&bob),
        json!({}),
    )
    .await;
    let original = crate::statuses::post(
        &app,
        &alice,
        json!({"status": "Herons nest in colonies", "quote_approval_policy": "public"}),
    )
    .await;
    let browser = signed_in_browser(&app, "bob", "/home").await;
    let c = &browser.client;
    let button = format!(
        "article[data-id=\"{}\"] button[data-action=quote]",
        original["id"].as_str().unwrap()
    );
    assert!(
        until(c, &format!("return !!document.querySelector('{button}')")).await,
        "{}",
        browser.screenshot("quote-button").await.display()
    );
    click(c, &button).await;
    assert!(
        until(
            c,
            "return !document.querySelector('#compose .quoting').hidden"
        )
        .await
    );
    let chip = js(
        c,
        "return document.querySelector('#compose .quoting').textContent",
    )
    .await;
    assert!(chip.as_str().unwrap().contains("@alice"), "{chip}");
    c.find(Locator::Css("#compose textarea"))
        .await
        .unwrap()
        .send_keys("So true")
        .await
        .unwrap();
    click(c, "#compose button[type=submit]").await;
    let mut quoted = Value::Null;
    for _ in 0..50 {
        let mine = app
            .get(
                &format!(
                    "/api/v1/accounts/{}/statuses",
                    app.get("/api/v1/accounts/verify_credentials", Some(&bob))
                        .await
                        .json()["id"]
                        .as_str()
                        .unwrap()
                ),
                Some(&bob),
            )
            .await
            .json();
        if let Some(s) = mine.as_array().and_then(|l| l.first()) {
            quoted = s.clone();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(quoted["quote"]["state"], "accepted", "{quoted}");
    assert_eq!(quoted["quote"]["quoted_status"]["id"], original["id"]);
    c.goto(&format!("{}/home", app.base)).await.unwrap();
    let q = format!(
        "article[data-id=\"{}\"] blockquote.quote",
        quoted["id"].as_str().unwrap()
    );
    assert!(
        until(c, &format!("return !!document.querySelector('{q}')")).await,
        "{}",
        browser.screenshot("quote-shown").await.display()
    );
    let text = js(
        c,
        &format!("return document.querySelector('{q}').textContent"),
    )
    .await;
    assert!(
        text.as_str().unwrap().contains("Herons nest in colonies"),
        "{text}"
    );
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    browser.client.clone().close().await.unwrap();
}

/// The compose box makes polls and scheduled posts.
#[tokio::test]
async fn compose_poll_and_schedule_in_chromium() {
    let app = TestApp::start(Backend::Sqlite).await;
    app.create_user("alice").await;
    let alice = app.token_for("alice", "read").await;
    let browser = signed_in_browser(&app, "alice", "/home").await;
    let c = &browser.client;
    assert!(
        until(
            c,
            "return !!document.querySelector('#compose [data-toggle=poll]')"
        )
        .await
    );
    click(c, "#compose [data-toggle=poll]").await;
    js(
        c,
        "const f = document.querySelector('#compose'); f.querySelector('textarea').value = 'Tea or coffee?'; \
         const o = f.querySelectorAll('input[name=poll_option]'); o[0].value = 'Tea'; o[1].value = 'Coffee'; \
         f.querySelector('input[name=poll_multiple]').checked = true; return true",
    )
    .await;
    click(c, "#compose button[type=submit]").await;
    let mut statuses = Value::Null;
    for _ in 0..150 {
        statuses = app
            .get("/api/v1/timelines/public?local=true", Some(&alice))
            .await
            .json();
        if statuses.as_array().is_some_and(|l| !l.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let poll = &statuses[0]["poll"];
    assert_eq!(poll["options"][1]["title"], "Coffee", "{statuses}");
    assert_eq!(poll["multiple"], true);
    assert!(
        until(
            c,
            "return document.querySelector('#compose .poll-field').hidden"
        )
        .await,
        "the poll fields close after posting"
    );

    // Later: a scheduled post, not on the timeline.
    click(c, "#compose [data-toggle=schedule]").await;
    js(
        c,
        "const f = document.querySelector('#compose'); f.querySelector('textarea').value = 'See you tomorrow'; \
         const d = new Date(Date.now() + 86400000); d.setSeconds(0, 0); \
         const pad = (n) => String(n).padStart(2, '0'); \
         f.querySelector('input[name=scheduled_at]').value = \
           `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`; \
         return true",
    )
    .await;
    click(c, "#compose button[type=submit]").await;
    let token = app.token_for("alice", "read write").await;
    let mut scheduled = Value::Null;
    for _ in 0..150 {
        scheduled = app
            .get("/api/v1/scheduled_statuses", Some(&token))
            .await
            .json();
        if scheduled.as_array().is_some_and(|l| !l.is_empty()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(
        scheduled[0]["params"]["text"], "See you tomorrow",
        "{scheduled}"
    );
    // Settings lists it; Cancel deletes it.
    c.goto(&format!("{}/settings", app.base)).await.unwrap();
    let id = scheduled[0]["id"].as_str().unwrap();
    assert!(
        until(
            c,
            &format!("return !!document.querySelector('#scheduled-{id}')")
        )
        .await
    );
    let text = js(
        c,
        &format!("return document.querySelector('#scheduled-{id}').textContent"),
    )
    .await;
    assert!(
        text.as_str().unwrap().contains("See you tomorrow"),
        "{text}"
    );
    click(c, &format!("#scheduled-{id} [data-cancel-scheduled]")).await;
    assert!(
        until(
            c,
            &format!("return !document.querySelector('#scheduled-{id}')")
        )
        .await
    );
    assert_eq!(
        app.get("/api/v1/scheduled_statuses", Some(&token))
            .await
            .json(),
        json!([])
    );
    let errors = browser.console_errors().await;
    assert!(errors.is_empty(), "console errors: {errors:?}");
    browser.client.clone().close().await.unwrap();
}

/// Settings: an import from a CSV file with its progress and failures, an export saved from the
/// page, an alias added, and an archive requested and offered for download.
#[tokio::test]
async fn import_export_and_moving_in_chromium() {
    let app = TestApp::start(Backend::Sqlite).await;
    app.create_user("alice").await;
    app.create_user("bob").await;
    let alice = app.token_for("alice", "read").await;
    let browser = signed_in_browser(&app, "alice", "/settings").await;
    let c = &browser.client;
    assert!(until(c, "return !!document.getElementById('import-form')").await);
    js(
        c,
        "const dt = new DataTransfer(); \
         dt.items.add(new File(['Account address,Show boosts\\nbob,true\\nnobody,true\\n'], 'following_accounts.csv', {type: 'text/csv'})); \
         document.getElementById('import-file').files = dt.files; return true",
    )
    .await;
    click(c, "#import-form button[type=submit]").await;
    assert!(
        until(
            c,
            "const li = document.querySelector('#imports [data-state=finished]'); \
             return !!li && li.textContent.includes('1 imported, 1 failed')"
        )
        .await,
        "{}",
        browser.screenshot("import").await.display()
    );
    click(c, "#imports [data-import-failures]").await;
    assert!(
        until(
            c,
            "return (document.querySelector('.import-failures')?.textContent || '').includes('line 3: nobody')"
        )
        .await
    );
    let rel = app
        .get("/api/v1/accounts/lookup?acct=bob", Some(&alice))
        .await
        .json();
    let rel = app
        .get(
            &format!(
                "/api/v1/accounts/relationships?id[]={}",
                rel["id"].as_str().unwrap()
            ),
            Some(&alice),
        )
        .await
        .json();
    assert_eq!(rel[0]["following"], true);

    // The export: the file the page saves.
    js(
        c,
        "const make = URL.createObjectURL; \
         URL.createObjectURL = (b) => { b.text().then(t => window.__saved = t); return make(b); }; return true",
    )
    .await;
    click(c, "[data-export='following_accounts.csv']").await;
    assert!(until(c, "return (window.__saved || '').includes('bob@')").await);

    // An alias, then an archive.
    js(
        c,
        "document.getElementById('alias-acct').value = 'bob'; return true",
    )
    .await;
    click(c, "#alias-form button[type=submit]").await;
    assert!(
        until(
            c,
            "return (document.getElementById('aliases')?.textContent || '').includes('@bob@')"
        )
        .await
    );
    click(c, "#archive-request").await;
    let mut ready = false;
    for _ in 0..100 {
        let list = app.get("/api/v1/archives", Some(&alice)).await.json();
        if list[0]["state"] == "ready" {
            ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(ready);
    c.refresh().await.unwrap();
    assert!(until(c, "return !!document.querySelector('[data-archive]')").await);
}
