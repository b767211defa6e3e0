//! Instance metadata and discovery documents, with the fields clients cannot live without
//! (CLIENTS.md), plus the error shape of unknown routes.

use serde_json::Value;

use serde_json::json;

use crate::both_backends;
use crate::support::TestApp;

fn at<'a>(v: &'a Value, path: &str) -> &'a Value {
    path.split('.').fold(v, |v, k| &v[k])
}

fn assert_version(v: &Value) {
    let version = v.as_str().unwrap();
    let re = regex::Regex::new(r"^\d+\.\d+\.\d+ \(compatible; Rookery ").unwrap();
    assert!(re.is_match(version), "{version}");
}

async fn instance_documents(app: TestApp) {
    let admin = app
        .create_user_with_role("owner", rookery::service::accounts::Role::Admin)
        .await;
    app.create_user("member").await;
    let domain = app.state.config.server.domain.clone();

    for path in ["/api/v1/instance", "/api/v1/instance/"] {
        let r = app.get(path, None).await;
        assert_eq!(r.status, 200, "{path}");
        let v1 = r.json();
        for f in [
            "uri",
            "title",
            "description",
            "email",
            "version",
            "urls.streaming_api",
            "stats.user_count",
            "stats.status_count",
            "stats.domain_count",
            "configuration.statuses.max_characters",
        ] {
            assert!(!at(&v1, f).is_null(), "v1 lacks {f}");
        }
        assert_eq!(v1["uri"], domain.as_str(), "uri is the bare host");
        assert_eq!(v1["urls"]["streaming_api"], format!("ws://{domain}"));
        assert_eq!(v1["stats"]["user_count"], 2);
        assert_eq!(v1["contact_account"]["id"], admin.to_string());
        assert_version(&v1["version"]);
    }
    for path in ["/api/v2/instance", "/api/v2/instance/"] {
        let v2 = app.get(path, None).await.json();
        for f in [
            "domain",
            "title",
            "version",
            "description",
            "registrations.enabled",
            "contact.email",
            "contact.account",
            "thumbnail.url",
            "configuration.urls.streaming",
            "configuration.statuses.max_characters",
            "configuration.statuses.max_media_attachments",
            "configuration.statuses.characters_reserved_per_url",
            "configuration.polls.max_options",
            "configuration.polls.max_characters_per_option",
            "configuration.polls.min_expiration",
            "configuration.polls.max_expiration",
            "configuration.accounts.max_featured_tags",
            "configuration.vapid.public_key",
            "api_versions.mastodon",
        ] {
            assert!(!at(&v2, f).is_null(), "v2 lacks {f}: {v2}");
        }
        assert_eq!(v2["domain"], domain.as_str());
        assert_eq!(v2["configuration"]["statuses"]["max_characters"], 500);
        assert_version(&v2["version"]);
    }

    let links = app.get("/.well-known/nodeinfo", None).await.json();
    assert_eq!(links["links"].as_array().unwrap().len(), 2);
    for v in ["2.0", "2.1"] {
        let r = app.get(&format!("/nodeinfo/{v}"), None).await;
        assert!(
            r.header("content-type")
                .unwrap()
                .starts_with("application/json")
        );
        let n = r.json();
        assert_eq!(n["version"], v);
        assert_eq!(n["software"]["name"], "rookery");
        assert_eq!(n["usage"]["users"]["total"], 2);
        assert_eq!(n["openRegistrations"], true);
    }

    let xml = app.get("/.well-known/host-meta", None).await;
    assert!(
        xml.header("content-type")
            .unwrap()
            .starts_with("application/xrd+xml")
    );
    assert!(
        xml.text.contains(&format!(
            "template=\"http://{domain}/.well-known/webfinger?resource={{uri}}\""
        )),
        "{}",
        xml.text
    );
    let jrd = app.get("/.well-known/host-meta.json", None).await.json();
    assert_eq!(jrd["links"][0]["rel"], "lrdd");

    let wf = app
        .get(
            &format!("/.well-known/webfinger?resource=acct:owner@{domain}"),
            None,
        )
        .await;
    assert_eq!(wf.status, 200);
    let wf = wf.json();
    assert_eq!(wf["subject"], format!("acct:owner@{domain}"));
    assert!(
        wf["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|l| l["rel"] == "self" && l["type"] == "application/activity+json")
    );
    app.get(
        "/.well-known/webfinger?resource=acct:nobody@x.example",
        None,
    )
    .await
    .assert_error(404);
    app.get("/.well-known/webfinger", None)
        .await
        .assert_error(400);

    let meta = app
        .get("/.well-known/oauth-authorization-server", None)
        .await
        .json();
    assert_eq!(meta["code_challenge_methods_supported"][0], "S256");
    assert!(
        meta["scopes_supported"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "read:statuses")
    );
    assert_eq!(
        meta["authorization_endpoint"],
        format!("http://{domain}/oauth/authorize")
    );

    assert_eq!(
        app.get("/api/v1/instance/peers", None).await.json(),
        serde_json::json!([])
    );

    // The default avatar the Account entity points at is a real image.
    let avatar = app
        .http
        .get(app.url("/avatars/original/missing.png"))
        .send()
        .await
        .unwrap();
    assert_eq!(avatar.headers()["content-type"], "image/png");
    assert!(avatar.bytes().await.unwrap().starts_with(b"\x89PNG"));
}

async fn custom_emojis_are_listed_and_served(app: TestApp) {
    let png = app.dir.path().join("blobcat.png");
    std::fs::write(
        &png,
        std::fs::read(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/src/web/static/avatar.png"
        ))
        .unwrap(),
    )
    .unwrap();
    rookery::service::emojis::add_local(&app.state, "blobcat", &png, Some("Blobs"))
        .await
        .unwrap();
    let dup = rookery::service::emojis::add_local(&app.state, "blobcat", &png, None)
        .await
        .unwrap_err();
    assert_eq!(dup.status(), 422);
    let not_image = app.dir.path().join("x.png");
    std::fs::write(&not_image, b"<?php echo 1; ?>").unwrap();
    assert_eq!(
        rookery::service::emojis::add_local(&app.state, "evil", &not_image, None)
            .await
            .unwrap_err()
            .status(),
        422
    );

    let list = app.get("/api/v1/custom_emojis", None).await.json();
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert_eq!(list[0]["shortcode"], "blobcat");
    assert_eq!(list[0]["category"], "Blobs");
    let url = list[0]["url"]
        .as_str()
        .unwrap()
        .replace(&app.state.config.server.domain, &app.addr.to_string());
    let img = app.http.get(url).send().await.unwrap();
    assert_eq!(img.status(), 200);
    assert_eq!(img.headers()["content-type"], "image/png");
}

async fn unknown_routes_answer_in_the_error_shape(app: TestApp) {
    app.get("/api/v1/nothing-here", None)
        .await
        .assert_error(404);
    let r = app
        .send(reqwest::Method::DELETE, "/api/v1/instance", None, None)
        .await;
    r.assert_error(405);
    // CORS preflight from a browser client on another origin.
    let pre = app
        .http
        .request(
            reqwest::Method::OPTIONS,
            app.url("/api/v1/accounts/verify_credentials"),
        )
        .header("origin", "https://elk.zone")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    assert!(pre.status().is_success());
    assert_eq!(pre.headers()["access-control-allow-origin"], "*");
}

both_backends!(
    instance_documents,
    custom_emojis_are_listed_and_served,
    unknown_routes_answer_in_the_error_shape
);

/// Rules come from `instance.rules`; no translator means an empty language map; activity counts
/// this week's posts, sign-ins and sign-ups.
#[tokio::test]
async fn rules_translation_languages_and_activity() {
    let app = TestApp::start_with(crate::support::Backend::Sqlite, |c| {
        c.instance.rules = vec!["Be kind".into(), "No spam".into()];
    })
    .await;
    let rules = app.get("/api/v1/instance/rules", None).await.json();
    assert_eq!(
        rules,
        json!([{"id": "1", "text": "Be kind", "hint": ""}, {"id": "2", "text": "No spam", "hint": ""}])
    );
    assert_eq!(
        app.get("/api/v2/instance", None).await.json()["rules"],
        rules
    );
    assert_eq!(
        app.get("/api/v1/instance", None).await.json()["rules"],
        rules
    );
    let langs = app
        .get("/api/v1/instance/translation_languages", None)
        .await;
    assert_eq!(langs.status, 200);
    assert_eq!(langs.json(), json!({}));

    app.create_user("ada").await;
    let token = app.token_for("ada", "read write").await;
    crate::statuses::post(&app, &token, json!({"status": "one"})).await;
    crate::statuses::post(
        &app,
        &token,
        json!({"status": "two", "visibility": "direct"}),
    )
    .await;
    let weeks = app.get("/api/v1/instance/activity", None).await.json();
    let weeks = weeks.as_array().unwrap();
    assert_eq!(weeks.len(), 12);
    assert_eq!(
        weeks[0]["statuses"], "1",
        "direct messages are not counted: {:?}",
        weeks[0]
    );
    assert_eq!(weeks[0]["logins"], "1");
    assert_eq!(weeks[0]["registrations"], "1");
    assert_eq!(weeks[1]["statuses"], "0");
    let w0: i64 = weeks[0]["week"].as_str().unwrap().parse().unwrap();
    let w1: i64 = weeks[1]["week"].as_str().unwrap().parse().unwrap();
    assert_eq!(w0 - w1, 7 * 86400);
}
