//! Custom emojis everywhere (issue 26): shortcodes in statuses, names, bios, fields and poll
//! options come back as `emojis[]`; they travel as `Emoji` tags; another server keeps them per
//! domain and shows them through its emoji proxy; operators list, copy, disable and enable them.

use reqwest::Method;
use serde_json::{Value, json};

use crate::federation::{DEV_FEDERATION, Instance, eventually, follow_across, local_id};
use crate::support::Backend;
use crate::support::binary::run_cli;

fn codes(v: &Value) -> Vec<String> {
    v.as_array()
        .map(|l| {
            l.iter()
                .map(|e| e["shortcode"].as_str().unwrap_or("").to_string())
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn shortcodes_are_found_as_mastodon_finds_them() {
    use rookery::service::emojis::shortcodes;
    assert_eq!(
        shortcodes("hi :heron: and :rook_2:!"),
        vec!["heron", "rook_2"]
    );
    assert_eq!(shortcodes("<p>:heron:</p>:heron:"), vec!["heron"]);
    assert!(
        shortcodes("12:30:45 a:b: ::x:: :a:").is_empty(),
        "times, glued names, one letter"
    );
    assert_eq!(shortcodes(":a::b: :ok:"), vec!["ok"]);
    let many: String = (0..100).map(|i| format!(":e{i}: ")).collect();
    assert_eq!(shortcodes(&many).len(), 64);
}

#[tokio::test]
async fn emojis_render_and_travel() {
    let a = Instance::start(Backend::Sqlite, DEV_FEDERATION).await;
    let b = Instance::start(Backend::Postgres, DEV_FEDERATION).await;
    let alice = a.user("alice").await;
    let bob = b.user("bob").await;
    let png = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/media/photo.png"
    );
    for code in ["heron", "rook"] {
        let (ok, _, err) = run_cli(
            &a.server.config,
            &[
                "admin",
                "emoji",
                "add",
                "--shortcode",
                code,
                "--file",
                png,
                "--category",
                "birds",
            ],
        );
        assert!(ok, "{err}");
    }
    follow_across(&b, &bob, &a, "alice").await;

    // On A: a profile and a status with emojis, a poll option with one.
    let (s, me) = a
        .send(
            Method::PATCH,
            "/api/v1/accounts/update_credentials",
            &alice,
            json!({"display_name": "Alice :heron:", "note": "I like :rook: birds",
                   "fields_attributes": {"0": {"name": "home :heron:", "value": "the lake"}}}),
        )
        .await;
    assert_eq!(s, 200, "{me}");
    assert_eq!(codes(&me["emojis"]), vec!["heron", "rook"], "{me}");
    let (s, status) = a
        .send(
            Method::POST,
            "/api/v1/statuses",
            &alice,
            json!({"status": "spotted a :heron: today :nope:", "spoiler_text": ":rook: alert",
                   "poll": {"options": [":heron:", "other"], "expires_in": 3600}}),
        )
        .await;
    assert_eq!(s, 200, "{status}");
    let mut got = codes(&status["emojis"]);
    got.sort();
    assert_eq!(got, vec!["heron", "rook"], "{status}");
    assert_eq!(codes(&status["poll"]["emojis"]), vec!["heron"], "{status}");
    let url = status["emojis"][0]["url"].as_str().unwrap().to_string();
    assert!(
        url.starts_with(&format!("http://{}/media/emojis/", a.domain)),
        "{url}"
    );
    assert_eq!(reqwest::get(&url).await.unwrap().status(), 200);
    // The post's page shows the emoji as an image in the text.
    let page = a
        .http
        .get(status["url"].as_str().unwrap())
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        page.contains(r#"<img class="emoji" src="#) && page.contains(r#"alt=":heron:""#),
        "{page}"
    );
    assert!(page.contains(":nope:"), "unknown shortcodes stay text");
    // Timelines (kept JSON) carry them too.
    let (_, public) = a.get("/api/v1/timelines/public?local=true", &alice).await;
    assert_eq!(codes(&public[0]["emojis"]).len(), 2, "{}", public[0]);
    // The Note carries Emoji tags.
    let note: Value = a
        .http
        .get(status["uri"].as_str().unwrap())
        .header("Accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let tags: Vec<&Value> = note["tag"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["type"] == "Emoji")
        .collect();
    assert_eq!(tags.len(), 2, "{note}");
    assert!(tags.iter().all(|t| {
        t["icon"]["url"]
            .as_str()
            .unwrap()
            .contains("/media/emojis/")
    }));
    let emoji_doc: Value = a
        .http
        .get(tags[0]["id"].as_str().unwrap())
        .header("Accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(emoji_doc["type"], "Emoji", "{emoji_doc}");
    assert_eq!(emoji_doc["name"], tags[0]["name"]);

    // On B: the same emojis, kept for A's domain and shown through B's proxy.
    let uri = status["uri"].as_str().unwrap().to_string();
    assert!(
        eventually(20, || async { local_id(&b, &bob, &uri).await.is_some() }).await,
        "the post did not reach B\n{}",
        a.log()
    );
    let id = local_id(&b, &bob, &uri).await.unwrap();
    let (_, seen) = b.get(&format!("/api/v1/statuses/{id}"), &bob).await;
    let mut got = codes(&seen["emojis"]);
    got.sort();
    assert_eq!(got, vec!["heron", "rook"], "{seen}");
    assert_eq!(codes(&seen["poll"]["emojis"]), vec!["heron"], "{seen}");
    let proxied = seen["emojis"][0]["url"].as_str().unwrap().to_string();
    assert!(
        proxied.starts_with(&format!("http://{}/emoji_proxy/", b.domain)),
        "{proxied}"
    );
    let r = reqwest::get(&proxied).await.unwrap();
    assert_eq!(r.status(), 200, "{proxied}\n{}", b.log());
    assert_eq!(r.headers()["content-type"], "image/png");
    let (_, theirs) = b.get("/api/v1/custom_emojis", &bob).await;
    assert_eq!(
        theirs,
        json!([]),
        "remote emojis are not offered in B's picker"
    );
    let shown = eventually(20, || async {
        let (_, acct) = b.get(&format!("/api/v1/statuses/{id}"), &bob).await;
        codes(&acct["account"]["emojis"]) == vec!["heron", "rook"]
    })
    .await;
    assert!(shown, "alice's profile emojis did not reach B\n{}", a.log());

    // Operators: B lists, disables (gone from the status and the proxy), enables, copies.
    let (ok, out, err) = run_cli(&b.server.config, &["admin", "emoji", "list", "--remote"]);
    assert!(
        ok && out.contains(&format!(":heron:@{}", a.domain)),
        "{out}{err}"
    );
    let handle = format!("rook@{}", a.domain);
    assert!(run_cli(&b.server.config, &["admin", "emoji", "disable", &handle]).0);
    let (_, seen) = b.get(&format!("/api/v1/statuses/{id}"), &bob).await;
    assert_eq!(codes(&seen["emojis"]), vec!["heron"], "{seen}");
    assert!(run_cli(&b.server.config, &["admin", "emoji", "enable", &handle]).0);
    let (ok, _, err) = run_cli(
        &b.server.config,
        &[
            "admin",
            "emoji",
            "copy",
            &format!("heron@{}", a.domain),
            "--category",
            "copied",
        ],
    );
    assert!(ok, "{err}");
    let (_, mine) = b.get("/api/v1/custom_emojis", &bob).await;
    assert_eq!(codes(&mine), vec!["heron"], "{mine}");
    assert_eq!(mine[0]["category"], "copied");
    let (s, posted) = b
        .send(
            Method::POST,
            "/api/v1/statuses",
            &bob,
            json!({"status": "mine now :heron:"}),
        )
        .await;
    assert_eq!(s, 200);
    assert!(
        posted["emojis"][0]["url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("http://{}/media/emojis/", b.domain))
    );
    assert!(
        !run_cli(
            &b.server.config,
            &["admin", "emoji", "disable", "nothing@nowhere.example"]
        )
        .0
    );
}

/// Announcements name emojis too.
async fn announcements_carry_their_emojis(app: crate::support::TestApp) {
    app.create_user("ada").await;
    let ada = app.token_for("ada", "read").await;
    let png = std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/media/photo.png"
    ));
    rookery::service::emojis::add_local(&app.state, "rook", png, None)
        .await
        .unwrap();
    rookery::service::announcements::create(
        &app.state,
        rookery::service::announcements::NewAnnouncement {
            text: "Party tonight :rook: :unknown:",
            starts_at: None,
            ends_at: None,
            all_day: false,
        },
    )
    .await
    .unwrap();
    let list = app.get("/api/v1/announcements", Some(&ada)).await.json();
    assert_eq!(codes(&list[0]["emojis"]), vec!["rook"], "{list}");
}

crate::both_backends!(announcements_carry_their_emojis);
