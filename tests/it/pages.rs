//! The sign-in pages in a real browser: headless Chromium fills the form, approves the app and reads
//! the code, which then yields a working token.

use fantoccini::Locator;
use serde_json::json;

use crate::support::browser::Browser;
use crate::support::{Backend, TestApp};

#[tokio::test]
async fn sign_in_and_approve_in_chromium() {
    let app = TestApp::start(Backend::Sqlite).await;
    app.create_user("alice").await;
    let (id, secret) = app
        .register_app("read write", "urn:ietf:wg:oauth:2.0:oob")
        .await;
    let browser = Browser::start().await;
    let c = &browser.client;
    let url = format!(
        "{}/oauth/authorize?response_type=code&client_id={id}&redirect_uri=urn:ietf:wg:oauth:2.0:oob&scope=read+write",
        app.base
    );
    c.goto(&url).await.unwrap();
    assert_eq!(c.title().await.unwrap(), "Sign in · Rookery");

    // A wrong password: the page says so and keeps what was typed.
    fill_sign_in(c, "alice", "not my password").await;
    let alert = c
        .wait()
        .for_element(Locator::Css("[role=alert]"))
        .await
        .unwrap();
    assert!(alert.text().await.unwrap().contains("Invalid"));
    let kept = c
        .find(Locator::Id("username"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("alice"));

    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys("password-alice")
        .await
        .unwrap();
    c.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let approve = c.wait().for_element(Locator::Id("approve")).await.unwrap();
    let page = c.source().await.unwrap();
    assert!(
        page.contains("@alice") && page.contains("read") && page.contains("write"),
        "{page}"
    );
    browser.screenshot("consent").await;
    approve.click().await.unwrap();

    let code_box = c
        .wait()
        .for_element(Locator::Id("oauth-code"))
        .await
        .unwrap();
    let code = code_box.prop("value").await.unwrap().expect("code shown");
    browser.screenshot("oob-code").await;
    let tok = app
        .post("/oauth/token", None, json!({"grant_type": "authorization_code", "client_id": id, "client_secret": secret, "redirect_uri": "urn:ietf:wg:oauth:2.0:oob", "code": code}))
        .await;
    assert_eq!(tok.status, 200, "{}", tok.text);
    let token = tok.json()["access_token"].as_str().unwrap().to_string();
    let me = app
        .get("/api/v1/accounts/verify_credentials", Some(&token))
        .await
        .json();
    assert_eq!(me["username"], "alice");

    // The browser keeps its session: a second authorization goes straight to consent.
    c.goto(&url).await.unwrap();
    c.wait().for_element(Locator::Id("approve")).await.unwrap();
    browser.client.clone().close().await.unwrap();
}

/// Fills the sign-in form and submits it.
pub(crate) async fn fill_sign_in(c: &fantoccini::Client, user: &str, password: &str) {
    for (field, value) in [("username", user), ("password", password)] {
        c.find(Locator::Id(field))
            .await
            .unwrap()
            .send_keys(value)
            .await
            .unwrap();
    }
    c.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
}

/// Clicks (or holds, for `hold_ms`) at a point of the viewport with a real mouse.
async fn press(c: &fantoccini::Client, x: f64, y: f64, hold_ms: u64) {
    use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
    let a = MouseActions::new("mouse".into())
        .then(PointerAction::MoveTo {
            duration: None,
            x,
            y,
        })
        .then(PointerAction::Down {
            button: MOUSE_BUTTON_LEFT,
        })
        .then(PointerAction::Pause {
            duration: std::time::Duration::from_millis(hold_ms),
        })
        .then(PointerAction::Up {
            button: MOUSE_BUTTON_LEFT,
        });
    c.perform_actions(a).await.unwrap();
}

pub(crate) async fn js(c: &fantoccini::Client, script: &str) -> serde_json::Value {
    c.execute(script, vec![]).await.unwrap()
}

/// Waits (10 s at most) until `script` returns true.
pub(crate) async fn until(c: &fantoccini::Client, script: &str) -> bool {
    for _ in 0..100 {
        if js(c, script).await == json!(true) {
            return true;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    false
}

/// The story viewer in Chromium: signing in from it, tapping forward and back, a video that plays
/// and moves on by itself, holding to pause, the end, and every story marked seen.
#[tokio::test]
async fn story_viewer_in_chromium() {
    let app = TestApp::start(Backend::Sqlite).await;
    let alice_id = app.create_user("alice").await;
    app.create_user("bob").await;
    let alice = app.token_for("alice", "read write").await;
    let bob = app.token_for("bob", "read write follow").await;
    let a = app
        .post(
            &format!("/api/v1/accounts/{alice_id}/follow"),
            Some(&bob),
            json!({}),
        )
        .await;
    assert_eq!(a.status, 200);
    let mut ids = Vec::new();
    for (file, mime, duration) in [
        ("photo.jpg", "image/jpeg", Some(30)),
        ("vertical.mp4", "video/mp4", None),
        ("photo.png", "image/png", Some(1)),
    ] {
        let m = crate::media::upload(
            &app,
            &alice,
            "/api/v1/media",
            file,
            mime,
            crate::media::fixture(file),
            &[],
        )
        .await;
        assert_eq!(m.status, 200, "{}", m.text);
        let mut body = json!({"media_id": m.json()["id"]});
        if let Some(d) = duration {
            body["duration"] = json!(d);
        }
        let s = app.post("/api/v1/stories", Some(&alice), body).await;
        assert_eq!(s.status, 200, "{}", s.text);
        ids.push(s.json()["id"].as_str().unwrap().to_string());
    }

    let browser = Browser::start().await;
    let c = &browser.client;
    // Signed out: the viewer sends Bob to sign in, and brings him back.
    c.goto(&format!("{}/@alice/stories", app.base))
        .await
        .unwrap();
    assert_eq!(c.title().await.unwrap(), "Sign in · Rookery");
    fill_sign_in(c, "bob", "password-bob").await;
    assert!(
        until(c, "return document.title.startsWith('Stories of @alice')").await,
        "{}",
        browser.screenshot("stories-sign-in").await.display()
    );
    assert_eq!(
        js(c, "return document.querySelectorAll('.bar').length").await,
        json!(3)
    );
    assert_eq!(
        js(c, "return document.getElementById('current').tagName").await,
        json!("IMG")
    );
    assert!(until(c, "return document.getElementById('current').complete && document.getElementById('current').naturalWidth > 0").await);

    // Holding pauses the 30 s photo: its bar stops moving.
    use fantoccini::actions::{InputSource, MOUSE_BUTTON_LEFT, MouseActions, PointerAction};
    c.perform_actions(
        MouseActions::new("mouse".into())
            .then(PointerAction::MoveTo {
                duration: None,
                x: 700.0,
                y: 450.0,
            })
            .then(PointerAction::Down {
                button: MOUSE_BUTTON_LEFT,
            }),
    )
    .await
    .unwrap();
    assert!(until(c, "return document.body.classList.contains('is-paused')").await);
    let w1 = js(
        c,
        "return document.querySelectorAll('.bar > i')[0].style.width",
    )
    .await;
    tokio::time::sleep(std::time::Duration::from_millis(700)).await;
    let w2 = js(
        c,
        "return document.querySelectorAll('.bar > i')[0].style.width",
    )
    .await;
    assert_eq!(w1, w2, "progress moved while paused");
    c.perform_actions(MouseActions::new("mouse".into()).then(PointerAction::Up {
        button: MOUSE_BUTTON_LEFT,
    }))
    .await
    .unwrap();
    assert!(until(c, "return !document.body.classList.contains('is-paused')").await);
    assert_eq!(
        js(c, "return document.body.dataset.index").await,
        json!("0"),
        "a hold is not a tap"
    );

    // Reply and react to the first story from the viewer: Alice is told of both.
    c.find(Locator::Id("reply-text"))
        .await
        .unwrap()
        .send_keys("Lovely view")
        .await
        .unwrap();
    assert!(
        until(c, "return document.body.classList.contains('is-paused')").await,
        "typing pauses"
    );
    js(
        c,
        "document.querySelector('#respond button[type=submit]').click(); return true",
    )
    .await;
    assert!(
        until(
            c,
            "return document.getElementById('respond-note').textContent === 'Reply sent'"
        )
        .await,
        "{}",
        browser.screenshot("stories-reply").await.display()
    );
    js(
        c,
        "document.querySelector('#respond button.react').click(); return true",
    )
    .await;
    assert!(
        until(
            c,
            "return document.getElementById('respond-note').textContent.startsWith('Sent')"
        )
        .await
    );
    let mut told = Vec::new();
    for _ in 0..50 {
        let n = app
            .get(
                "/api/v1/notifications?types[]=story_reply&types[]=story_reaction",
                Some(&alice),
            )
            .await
            .json();
        told = n
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["type"].as_str().unwrap().to_string())
            .collect();
        if told.len() == 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    told.sort();
    assert_eq!(told, vec!["story_reaction", "story_reply"]);
    js(c, "document.activeElement.blur(); return true").await;
    assert!(until(c, "return !document.body.classList.contains('is-paused')").await);

    // A tap on the right moves on to the video, which plays; a tap on the left goes back.
    press(c, 800.0, 450.0, 0).await;
    assert!(until(c, "return document.body.dataset.index === '1'").await);
    assert_eq!(
        js(c, "return document.getElementById('current').tagName").await,
        json!("VIDEO")
    );
    press(c, 100.0, 450.0, 0).await;
    assert!(until(c, "return document.body.dataset.index === '0'").await);
    press(c, 800.0, 450.0, 0).await;
    assert!(
        until(c, "var v = document.getElementById('current'); return v.tagName === 'VIDEO' && v.currentTime > 0.2 && !v.paused").await,
        "the video does not play: {}",
        browser.screenshot("stories-video").await.display()
    );
    // The 2 s clip ends and the 1 s photo after it; then the viewer says it is done.
    assert!(until(c, "return document.body.dataset.index === '2'").await);
    assert!(
        until(c, "return document.body.classList.contains('is-done')").await,
        "{}",
        browser.screenshot("stories-end").await.display()
    );

    // Each story shown was marked seen for Bob.
    let a = app
        .get(&format!("/api/v1/accounts/{alice_id}/stories"), Some(&bob))
        .await;
    let seen: Vec<bool> = a
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["seen"].as_bool().unwrap())
        .collect();
    assert_eq!(seen, vec![true, true, true]);
    let viewers = app
        .get(&format!("/api/v1/stories/{}/viewers", ids[2]), Some(&alice))
        .await
        .json();
    assert_eq!(viewers[0]["account"]["username"], "bob");

    // Someone who may not see them gets no viewer.
    app.create_user("carol").await;
    let browser2 = Browser::start().await;
    let c2 = &browser2.client;
    c2.goto(&format!("{}/auth/sign_in?next=/@alice/stories", app.base))
        .await
        .unwrap();
    fill_sign_in(c2, "carol", "password-carol").await;
    assert!(until(c2, "return document.title.startsWith('No stories')").await);
}

/// The shorts player in Chromium: the first video plays (its time advances) muted with a sound
/// toggle, the next one is preloaded, scrolling plays the next, a signed-in viewer likes one and
/// has views counted.
#[tokio::test]
async fn shorts_player_in_chromium() {
    let app = TestApp::start(Backend::Sqlite).await;
    app.create_user("alice").await;
    app.create_user("bob").await;
    let alice = app.token_for("alice", "read write").await;
    let bob = app.token_for("bob", "read write").await;
    let mut ids = Vec::new();
    for caption in ["one", "two"] {
        let m = crate::media::upload(
            &app,
            &alice,
            "/api/v1/media",
            "vertical.mp4",
            "video/mp4",
            crate::media::fixture("vertical.mp4"),
            &[],
        )
        .await;
        let s = app
            .post(
                "/api/v1/shorts",
                Some(&alice),
                json!({"status": caption, "media_ids": [m.json()["id"]]}),
            )
            .await;
        assert_eq!(s.status, 200, "{}", s.text);
        ids.push(s.json()["id"].as_str().unwrap().to_string());
    }
    let browser = Browser::start().await;
    let c = &browser.client;
    // Anyone can watch: the newest plays first, muted; the next is preloaded; likes need a session.
    c.goto(&format!("{}/shorts?feed=local", app.base))
        .await
        .unwrap();
    assert_eq!(
        js(c, "return document.querySelectorAll('.short').length").await,
        json!(2)
    );
    let first = format!(
        "document.querySelector('.short[data-id=\"{}\"] video')",
        ids[1]
    );
    let second = format!(
        "document.querySelector('.short[data-id=\"{}\"] video')",
        ids[0]
    );
    assert!(
        until(
            c,
            &format!("return {first}.currentTime > 0.3 && !{first}.paused")
        )
        .await,
        "the first short does not play: {}",
        browser.screenshot("shorts-first").await.display()
    );
    assert_eq!(js(c, &format!("return {first}.muted")).await, json!(true));
    assert_eq!(js(c, &format!("return {first}.loop")).await, json!(true));
    assert_eq!(
        js(c, &format!("return {second}.preload")).await,
        json!("auto")
    );
    assert_eq!(
        js(c, "return document.querySelector('.like').disabled").await,
        json!(true)
    );
    c.find(Locator::Id("sound"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(js(c, &format!("return {first}.muted")).await, json!(false));

    // Signed in as Bob: scroll to the second, which plays; like it; views are reported.
    c.goto(&format!(
        "{}/auth/sign_in?next=%2Fshorts%3Ffeed%3Dlocal",
        app.base
    ))
    .await
    .unwrap();
    fill_sign_in(c, "bob", "password-bob").await;
    assert!(until(c, "return document.title.startsWith('Local shorts')").await);
    // Two seconds of the first (one loop) count as a view.
    assert!(until(c, &format!("return {first}.currentTime > 0.3")).await);
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    js(
        c,
        &format!(
            "document.querySelector('.short[data-id=\"{}\"]').scrollIntoView(); return true",
            ids[0]
        ),
    )
    .await;
    assert!(
        until(
            c,
            &format!("return {second}.currentTime > 0.3 && !{second}.paused && {first}.paused")
        )
        .await,
        "{}",
        browser.screenshot("shorts-second").await.display()
    );
    js(
        c,
        &format!(
            "document.querySelector('.short[data-id=\"{}\"] .like').click(); return true",
            ids[0]
        ),
    )
    .await;
    assert!(
        until(
            c,
            &format!("return document.querySelector('.short[data-id=\"{}\"] .like').getAttribute('aria-pressed') === 'true'", ids[0])
        )
        .await
    );
    let liked = app
        .get(&format!("/api/v1/statuses/{}", ids[0]), Some(&bob))
        .await
        .json();
    assert_eq!(liked["favourited"], true);
    assert_eq!(liked["favourites_count"], 1);
    let mut counted = false;
    for _ in 0..50 {
        let s = app
            .get(&format!("/api/v1/statuses/{}", ids[1]), None)
            .await
            .json();
        if s["views_count"] == 1 {
            counted = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(counted, "the watched short's view was not counted");
    // An account's shorts have their own page.
    c.goto(&format!("{}/@alice/shorts", app.base))
        .await
        .unwrap();
    assert_eq!(
        js(c, "return document.querySelectorAll('.short').length").await,
        json!(2)
    );
}
