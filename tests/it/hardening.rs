//! What a stranger's probe of a release build found, each as a regression test: a bracket key deep
//! enough to overflow the stack (the real binary must keep its PID), durations that overflowed
//! `chrono`, read endpoints that ignored the token's scopes, reports and likes of statuses their
//! sender cannot see, group keys of someone else, errors outside the JSON shape, and pages that
//! could be framed.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

use crate::statuses::post;
use crate::support::binary::{free_port, start_server, write_config};
use crate::support::{Backend, TestApp};

/// A key nested 20,000 levels deep (about 60 KB).
fn deep_key() -> String {
    format!("a{}", "[b]".repeat(20_000))
}

/// The release-style binary answers 400 in the JSON shape to a 20,000-level bracket key in the
/// query, a form body and a multipart body, and is the same process afterwards.
#[tokio::test]
async fn deep_bracket_keys_do_not_crash_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let cfg = write_config(dir.path(), port, Backend::Sqlite, "").await;
    let mut server = start_server(dir.path(), &cfg, port).await;
    let pid = server.child.id();
    let http = reqwest::Client::new();
    let base = server.base.clone();
    let key = deep_key();

    let query = http
        .get(format!("{base}/api/v1/timelines/public?{key}=1"))
        .send()
        .await
        .expect("the server answers a deep query key");
    let form = http
        .post(format!("{base}/api/v1/apps"))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!("client_name=x&{key}=1"))
        .send()
        .await
        .expect("the server answers a deep form key");
    let multipart = http
        .post(format!("{base}/api/v1/apps"))
        .multipart(
            reqwest::multipart::Form::new()
                .text("client_name", "x")
                .text(key.clone(), "1"),
        )
        .send()
        .await
        .expect("the server answers a deep multipart key");
    for (what, r) in [("query", query), ("form", form), ("multipart", multipart)] {
        assert_eq!(r.status(), StatusCode::BAD_REQUEST, "{what}");
        let body: Value = r.json().await.unwrap();
        assert!(
            body["error"].as_str().unwrap().contains("nested"),
            "{what}: {body}"
        );
    }
    // Too many parameters is refused the same way.
    let many = "a[]=1&".repeat(5_000);
    let r = http
        .get(format!("{base}/api/v1/timelines/public?{many}"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::BAD_REQUEST);

    assert!(
        server.child.try_wait().unwrap().is_none(),
        "the server exited"
    );
    assert_eq!(server.child.id(), pid);
    let r = http
        .get(format!("{base}/api/v1/timelines/public"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let log = std::fs::read_to_string(&server.log).unwrap();
    assert!(!log.contains("panic"), "{log}");
}

/// Durations a client gives are range-checked before any date arithmetic: 10^13 seconds, a
/// negative mute and a number past `i64` are 422s with a message, and the connection is answered.
async fn durations_are_bounded(app: TestApp) {
    app.create_user("dora").await;
    app.create_user("eli").await;
    let dora = app.token_for("dora", "read write follow").await;
    let eli_id = app
        .get("/api/v1/accounts/lookup?acct=eli", None)
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let huge = 10_i64.pow(13);

    let r = app
        .post(
            "/api/v2/filters",
            Some(&dora),
            json!({"title": "t", "context": ["home"], "expires_in": huge}),
        )
        .await;
    assert!(
        r.assert_error(422)["error"]
            .as_str()
            .unwrap()
            .contains("expires_in")
    );
    let r = app
        .post(
            "/api/v1/filters",
            Some(&dora),
            json!({"phrase": "x", "context": ["home"], "expires_in": huge}),
        )
        .await;
    r.assert_error(422);
    let ok = app
        .post(
            "/api/v2/filters",
            Some(&dora),
            json!({"title": "t", "context": ["home"], "expires_in": 3600}),
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let id = ok.json()["id"].as_str().unwrap().to_string();
    let r = app
        .put(
            &format!("/api/v2/filters/{id}"),
            Some(&dora),
            json!({"expires_in": huge}),
        )
        .await;
    r.assert_error(422);
    // A form value past i64 is not a number.
    let r = app
        .send_form(
            Method::PUT,
            &format!("/api/v2/filters/{id}"),
            Some(&dora),
            &[("expires_in", "99999999999999999999999")],
        )
        .await;
    r.assert_error(422);

    let mute = |d: Value| {
        let (app, dora, eli_id) = (&app, &dora, &eli_id);
        async move {
            app.post(
                &format!("/api/v1/accounts/{eli_id}/mute"),
                Some(dora),
                json!({ "duration": d }),
            )
            .await
        }
    };
    mute(json!(huge)).await.assert_error(422);
    mute(json!(-60)).await.assert_error(422);
    mute(json!(i64::MAX)).await.assert_error(422);
    let r = mute(json!(0)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["muting"], true);
    let r = mute(json!(86400)).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// Tokens granted only `profile`, `push` or `write:media` read none of their user's statuses
/// through the read endpoints that show more to a signed-in user; anonymous callers get the public
/// view, and a `read:statuses` token the full one.
async fn read_endpoints_check_scopes(app: TestApp) {
    app.create_user("fay").await;
    let fay = app.token_for("fay", "read write").await;
    let fay_id = app
        .get("/api/v1/accounts/verify_credentials", Some(&fay))
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let public = post(&app, &fay, json!({"status": "hello #herons"})).await;
    let private = post(
        &app,
        &fay,
        json!({"status": "followers only", "visibility": "private"}),
    )
    .await;
    let (pub_id, priv_id) = (
        public["id"].as_str().unwrap(),
        private["id"].as_str().unwrap(),
    );
    let paths = [
        format!("/api/v1/accounts/{fay_id}/statuses"),
        format!("/api/v1/accounts/{fay_id}/shorts"),
        format!("/api/v1/statuses/{priv_id}/context"),
        format!("/api/v1/statuses/{priv_id}/history"),
        format!("/api/v1/statuses/{priv_id}/favourited_by"),
        format!("/api/v1/statuses/{priv_id}/reblogged_by"),
        format!("/api/v1/statuses/{priv_id}"),
        "/api/v1/tags/herons".to_string(),
        "/api/v1/timelines/public".to_string(),
        "/api/v1/timelines/tag/herons".to_string(),
    ];
    for scope in ["profile", "push", "write:media"] {
        let token = app.token_for("fay", scope).await;
        for path in &paths {
            let r = app.get(path, Some(&token)).await;
            assert_eq!(r.status, 403, "{scope} {path}: {}", r.text);
            r.assert_error(403);
        }
    }
    // Anonymous: the public status only.
    let anon = app
        .get(&format!("/api/v1/accounts/{fay_id}/statuses"), None)
        .await
        .json();
    assert_eq!(anon.as_array().unwrap().len(), 1, "{anon}");
    assert_eq!(anon[0]["id"], pub_id);
    app.get(&format!("/api/v1/statuses/{priv_id}/context"), None)
        .await
        .assert_error(404);
    // The owner with read:statuses: both.
    let reader = app.token_for("fay", "read:statuses").await;
    let mine = app
        .get(
            &format!("/api/v1/accounts/{fay_id}/statuses"),
            Some(&reader),
        )
        .await
        .json();
    assert_eq!(mine.as_array().unwrap().len(), 2, "{mine}");
}

/// A report naming a status its reporter cannot see is refused exactly as one naming an unknown
/// status, so a stranger cannot learn that a hidden status exists.
async fn reports_name_only_visible_statuses(app: TestApp) {
    app.create_user("gil").await;
    app.create_user("hana").await;
    let gil = app.token_for("gil", "read write").await;
    let hana = app.token_for("hana", "read write").await;
    let gil_id = app
        .get("/api/v1/accounts/verify_credentials", Some(&gil))
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let hidden = post(
        &app,
        &gil,
        json!({"status": "for followers", "visibility": "private"}),
    )
    .await;
    let hidden_id: i64 = hidden["id"].as_str().unwrap().parse().unwrap();
    let unknown_id = hidden_id + 12345;
    let report = |id: i64| {
        let (app, hana, gil_id) = (&app, &hana, &gil_id);
        async move {
            app.post(
                "/api/v1/reports",
                Some(hana),
                json!({"account_id": gil_id, "status_ids": [id.to_string()]}),
            )
            .await
        }
    };
    let for_hidden = report(hidden_id).await.assert_error(422);
    let for_unknown = report(unknown_id).await.assert_error(422);
    assert_eq!(
        for_hidden["error"]
            .as_str()
            .unwrap()
            .replace(&hidden_id.to_string(), "N"),
        for_unknown["error"]
            .as_str()
            .unwrap()
            .replace(&unknown_id.to_string(), "N"),
    );
    let public = post(&app, &gil, json!({"status": "public"})).await;
    let r = app
        .post(
            "/api/v1/reports",
            Some(&hana),
            json!({"account_id": gil_id, "status_ids": [public["id"]]}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// Someone else's ungrouped notification is not found (it used to answer 200 with an empty group);
/// more than 40 presence IDs are a 422, not silently cut.
async fn other_peoples_groups_and_long_id_lists(app: TestApp) {
    app.create_user("ivo").await;
    app.create_user("jun").await;
    let ivo = app.token_for("ivo", "read write follow").await;
    let jun = app.token_for("jun", "read write follow").await;
    let ivo_id = app
        .get("/api/v1/accounts/verify_credentials", Some(&ivo))
        .await
        .json()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .post(
            &format!("/api/v1/accounts/{ivo_id}/follow"),
            Some(&jun),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let groups = app.get("/api/v2/notifications", Some(&ivo)).await.json();
    let key = groups["notification_groups"][0]["group_key"]
        .as_str()
        .expect("a follow notification")
        .to_string();
    assert_eq!(
        app.get(&format!("/api/v2/notifications/{key}"), Some(&ivo))
            .await
            .status,
        200
    );
    app.get(&format!("/api/v2/notifications/{key}"), Some(&jun))
        .await
        .assert_error(404);
    app.get(&format!("/api/v2/notifications/{key}/accounts"), Some(&jun))
        .await
        .assert_error(404);

    let ids: String = (1..=41).map(|i| format!("id[]={i}&")).collect();
    app.get(&format!("/api/v1/presence?{ids}"), Some(&ivo))
        .await
        .assert_error(422);
    let ids: String = (1..=40).map(|i| format!("id[]={i}&")).collect();
    let r = app
        .get(&format!("/api/v1/presence?{ids}"), Some(&ivo))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// Errors outside the handlers keep the JSON shape: a path segment that is not UTF-8 (400), a
/// body over the limit (413), a deep key (400), a Web Push endpoint on a private address (422).
async fn errors_keep_the_json_shape(app: TestApp) {
    app.create_user("kit").await;
    let kit = app.token_for("kit", "read write push").await;
    app.get("/api/v1/statuses/%FF%FE", None)
        .await
        .assert_error(400);
    app.get("/api/v1/accounts/%FF/statuses", None)
        .await
        .assert_error(400);
    let big = format!("{{\"status\": \"{}\"}}", "x".repeat(10 * 1024 * 1024));
    let r = app
        .http
        .post(app.url("/api/v1/statuses"))
        .bearer_auth(&kit)
        .header("content-type", "application/json")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let body: Value = r.json().await.unwrap();
    assert!(body["error"].is_string(), "{body}");
    let r = crate::push::subscribe_form(&app, &kit, "https://10.0.0.5:8443/push", &[]).await;
    assert!(
        r.assert_error(422)["error"]
            .as_str()
            .unwrap()
            .contains("public address")
    );
}

/// Every HTML page carries the security headers: a CSP with `frame-ancestors 'none'` and no
/// inline code, `X-Frame-Options: DENY`, `nosniff`, and no referrer; the pages' own files are
/// served from `/assets` and cached for good.
async fn pages_carry_security_headers(app: TestApp) {
    app.create_user("lou").await;
    let (client_id, _) = app.register_app("read", "urn:ietf:wg:oauth:2.0:oob").await;
    let pages = [
        format!(
            "/oauth/authorize?response_type=code&client_id={client_id}&redirect_uri=urn:ietf:wg:oauth:2.0:oob&scope=read"
        ),
        "/auth/sign_in".to_string(),
        "/auth/sign_up".to_string(),
        "/auth/password/new".to_string(),
        "/shorts".to_string(),
        "/@lou".to_string(),
    ];
    for path in &pages {
        let r = app.get(path, None).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        let csp = r.header("content-security-policy").unwrap_or_default();
        assert!(csp.contains("frame-ancestors 'none'"), "{path}: {csp}");
        assert!(csp.contains("script-src 'self'"), "{path}: {csp}");
        assert!(!csp.contains("unsafe-inline"), "{path}: {csp}");
        assert_eq!(r.header("x-frame-options"), Some("DENY"), "{path}");
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
        assert_eq!(r.header("referrer-policy"), Some("no-referrer"), "{path}");
        assert!(!r.text.contains("<script>"), "{path}: inline script");
        assert!(!r.text.contains("<style>"), "{path}: inline style");
        for asset in r.text.split("\"/assets/").skip(1) {
            let file = asset.split('"').next().unwrap();
            let a = app.get(&format!("/assets/{file}"), None).await;
            assert_eq!(a.status, 200, "{file}");
            assert!(
                a.header("cache-control")
                    .unwrap_or_default()
                    .contains("immutable"),
                "{file}"
            );
        }
    }
    // Settings pages send a signed-out browser to sign in; the redirect is not a page to frame.
    let r = app.get("/settings/two_factor", None).await;
    assert_eq!(r.status, 303);
    app.get("/assets/nothing.css", None).await.assert_error(404);
    // JSON keeps its own headers.
    let r = app.get("/api/v1/instance", None).await;
    assert!(r.header("content-security-policy").is_none());
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
}

/// A NUL character (which PostgreSQL cannot store in text) in any parameter, from a JSON body, a
/// form or a query string, is a clear 422, not a server error; the same text without it posts.
async fn nul_characters_are_refused(app: TestApp) {
    app.create_user("nul").await;
    let t = app.token_for("nul", "read write").await;
    for body in [
        json!({"status": "a\u{0}b"}),
        json!({"status": "ok", "poll": {"options": ["a\u{0}", "b"], "expires_in": 600}}),
        json!({"status": "ok", "spoiler_text": "\u{0}"}),
    ] {
        let r = app.post("/api/v1/statuses", Some(&t), body.clone()).await;
        assert_eq!(r.status, 422, "{body}: {}", r.text);
        assert!(r.text.contains("NUL"), "{}", r.text);
    }
    let r = app
        .http
        .post(app.url("/api/v1/statuses?visibility=public"))
        .bearer_auth(&t)
        .header("content-type", "application/x-www-form-urlencoded")
        .body("status=a%00b")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = app
        .http
        .get(app.url("/api/v1/accounts/search?q=%00"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let r = app
        .post(
            "/api/v1/rooms",
            Some(&t),
            json!({"name": "r", "topic": "\u{0}"}),
        )
        .await;
    assert_eq!(r.status, 422, "{}", r.text);
    let r = app
        .post("/api/v1/statuses", Some(&t), json!({"status": "ab"}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

crate::both_backends!(
    nul_characters_are_refused,
    durations_are_bounded,
    read_endpoints_check_scopes,
    reports_name_only_visible_statuses,
    other_peoples_groups_and_long_id_lists,
);

#[tokio::test]
async fn errors_keep_the_json_shape_sqlite() {
    errors_keep_the_json_shape(TestApp::start(Backend::Sqlite).await).await
}

#[tokio::test]
async fn pages_carry_security_headers_sqlite() {
    pages_carry_security_headers(TestApp::start(Backend::Sqlite).await).await
}

/// The last line of defence: a handler that panics answers 500 in the JSON shape, through the
/// same layer the router uses, and the connection is not dropped.
#[tokio::test]
async fn a_panicking_handler_answers_500() {
    let app = axum::Router::new()
        .route(
            "/boom",
            axum::routing::get(|| async {
                let depth: Option<u8> = std::hint::black_box(None);
                depth.expect("a handler bug").to_string()
            }),
        )
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            rookery::http::layers::panicked,
        ));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let r = reqwest::get(format!("http://{addr}/boom")).await.unwrap();
    assert_eq!(r.status(), 500);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body, json!({"error": "Internal server error"}));
}

/// A remote `Like` of a followers-only status by someone who does not follow its author is
/// acknowledged and ignored: no favourite counted, no notification. The same actor's like of a
/// public status counts.
#[tokio::test]
async fn likes_of_statuses_the_liker_cannot_see_are_ignored() {
    use crate::federation::{Spoil, signed_post};
    let dev = |c: &mut rookery::config::Config| c.federation.allow_private_addresses = true;
    let a = TestApp::start_with(Backend::Sqlite, dev).await;
    let b = TestApp::start_with(Backend::Sqlite, dev).await;
    a.create_user("mel").await;
    b.create_user("ned").await;
    let ned = b.token_for("ned", "read write").await;
    let mel_uri = format!("http://{}/users/mel", a.state.config.server.domain);
    // Serving Mel's actor makes her key pair.
    let actor = a
        .http
        .get(&mel_uri)
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    assert_eq!(actor.status(), 200);
    let mel_key: String = rookery::on_db!(a.state.db, c => sqlx::query_scalar(
        "SELECT private_key_pem FROM accounts WHERE username = 'mel' AND domain IS NULL")
        .fetch_one(c).await)
    .unwrap();
    let hidden = post(
        &b,
        &ned,
        json!({"status": "close friends", "visibility": "private"}),
    )
    .await;
    let open = post(&b, &ned, json!({"status": "everyone"})).await;
    let inbox = format!("http://{}/inbox", b.state.config.server.domain);
    let like = |n: &str, object: &Value| {
        json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": format!("{mel_uri}#likes/{n}"),
            "type": "Like",
            "actor": mel_uri,
            "object": object["uri"],
        })
    };
    let key_id = format!("{mel_uri}#main-key");
    for (n, status) in [("1", &hidden), ("2", &open)] {
        let r = signed_post(&inbox, &key_id, &mel_key, &like(n, status), Spoil::Nothing).await;
        assert!(r.status().is_success(), "{}", r.status());
    }
    let count = |s: &Value| {
        let (b, ned, id) = (&b, &ned, s["id"].as_str().unwrap().to_string());
        async move {
            b.get(&format!("/api/v1/statuses/{id}"), Some(ned))
                .await
                .json()["favourites_count"]
                .as_i64()
                .unwrap()
        }
    };
    let mut counted = false;
    for _ in 0..100 {
        if count(&open).await == 1 {
            counted = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert!(counted, "the visible like was not counted");
    assert_eq!(count(&hidden).await, 0);
    let notes = b.get("/api/v1/notifications", Some(&ned)).await.json();
    let notes = notes.as_array().unwrap();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert_eq!(notes[0]["status"]["id"], open["id"]);
}
