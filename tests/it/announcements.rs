//! Announcements: published (by the CLI, and in-process as the CLI does), listed until they end,
//! dismissed per user, reacted to with emojis, streamed to `user` streams.

use chrono::{Duration, Utc};
use rookery::service::announcements::{self as svc, NewAnnouncement};
use serde_json::json;

use crate::both_backends;
use crate::streaming::{connect, next, payload};
use crate::support::TestApp;

fn new(text: &str) -> NewAnnouncement<'_> {
    NewAnnouncement {
        text,
        starts_at: None,
        ends_at: None,
        all_day: false,
    }
}

async fn announcements_are_shown_dismissed_and_reacted_to(app: TestApp) {
    app.create_user("ada").await;
    let ada = app.token_for("ada", "read write").await;
    app.create_user("ben").await;
    let ben = app.token_for("ben", "read write").await;
    let mut ws = connect(&app, "?stream=user", Some(&ada)).await;

    let a = svc::create(
        &app.state,
        new("Maintenance tonight, see https://status.example"),
    )
    .await
    .unwrap();
    let msg = next(&mut ws, 5).await.expect("an announcement event");
    assert_eq!(msg["event"], "announcement");
    assert_eq!(payload(&msg)["id"], a.id.as_str());
    assert!(
        a.content.contains("<a href=\"https://status.example\""),
        "{}",
        a.content
    );
    let ended = svc::create(
        &app.state,
        NewAnnouncement {
            text: "over",
            starts_at: Some(Utc::now() - Duration::hours(2)),
            ends_at: Some(Utc::now() - Duration::hours(1)),
            all_day: false,
        },
    )
    .await
    .unwrap();
    let bad = NewAnnouncement {
        text: "backwards",
        starts_at: Some(Utc::now()),
        ends_at: Some(Utc::now() - Duration::hours(1)),
        all_day: false,
    };
    assert!(svc::create(&app.state, bad).await.is_err());
    assert!(svc::create(&app.state, new("  ")).await.is_err());

    let list = app.get("/api/v1/announcements", Some(&ada)).await.json();
    assert_eq!(
        list.as_array().unwrap().len(),
        1,
        "ended ones are not shown: {list}"
    );
    assert_eq!(list[0]["read"], false);
    assert_eq!(list[0]["published"], true);
    assert_eq!(list[0]["reactions"], json!([]));
    let id = a.id.clone();

    // Reactions: a Unicode emoji; text is refused.
    let path = format!(
        "/api/v1/announcements/{id}/reactions/{}",
        urlencoding::encode("🐦")
    );
    assert_eq!(app.put(&path, Some(&ada), json!({})).await.status, 200);
    let msg = next(&mut ws, 5).await.expect("a reaction event");
    assert_eq!(msg["event"], "announcement.reaction");
    assert_eq!(
        payload(&msg),
        json!({"name": "🐦", "count": 1, "announcement_id": id})
    );
    app.put(&path, Some(&ben), json!({})).await;
    let theirs = app.get("/api/v1/announcements", Some(&ben)).await.json();
    assert_eq!(
        theirs[0]["reactions"],
        json!([{"name": "🐦", "count": 2, "me": true}])
    );
    app.put(
        &format!("/api/v1/announcements/{id}/reactions/hello"),
        Some(&ada),
        json!({}),
    )
    .await
    .assert_error(422);
    let r = app
        .send(reqwest::Method::DELETE, &path, Some(&ada), None)
        .await;
    assert_eq!(r.status, 200);
    let mine = app.get("/api/v1/announcements", Some(&ada)).await.json();
    assert_eq!(
        mine[0]["reactions"],
        json!([{"name": "🐦", "count": 1, "me": false}])
    );

    // Dismissing hides it from that user only.
    let r = app
        .post(
            &format!("/api/v1/announcements/{id}/dismiss"),
            Some(&ada),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        app.get("/api/v1/announcements", Some(&ada)).await.json(),
        json!([])
    );
    let all = app
        .get("/api/v1/announcements?with_dismissed=true", Some(&ada))
        .await
        .json();
    assert_eq!(all[0]["read"], true);
    assert_eq!(
        app.get("/api/v1/announcements", Some(&ben))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    for gone in [ended.id.as_str(), "12345"] {
        app.post(
            &format!("/api/v1/announcements/{gone}/dismiss"),
            Some(&ada),
            json!({}),
        )
        .await
        .assert_error(404);
    }

    // Deleting streams `announcement.delete`.
    while next(&mut ws, 1).await.is_some() {}
    svc::delete(&app.state, id.parse().unwrap()).await.unwrap();
    let msg = next(&mut ws, 5).await.expect("a delete event");
    assert_eq!(msg["event"], "announcement.delete");
    assert_eq!(msg["payload"], id.as_str());
    assert_eq!(
        app.get("/api/v1/announcements?with_dismissed=1", Some(&ben))
            .await
            .json(),
        json!([])
    );
}

both_backends!(announcements_are_shown_dismissed_and_reacted_to);

/// `rookery admin announcement create|delete` against a running server's database.
#[tokio::test]
async fn the_cli_publishes_and_deletes_announcements() {
    use crate::support::binary::run_cli;
    let inst = crate::federation::Instance::start(crate::support::Backend::Sqlite, "").await;
    let token = inst.user("ada").await;
    let (ok, out, err) = run_cli(
        &inst.server.config,
        &[
            "admin",
            "announcement",
            "create",
            "--text",
            "Hello from the CLI",
        ],
    );
    assert!(ok, "{err}");
    let id = out.trim().to_string();
    let (_, list) = inst.get("/api/v1/announcements", &token).await;
    assert_eq!(list[0]["id"], id.as_str(), "{list}");
    assert_eq!(list[0]["content"], "<p>Hello from the CLI</p>");
    let (ok, _, err) = run_cli(
        &inst.server.config,
        &["admin", "announcement", "delete", "--id", &id],
    );
    assert!(ok, "{err}");
    let (_, list) = inst.get("/api/v1/announcements", &token).await;
    assert_eq!(list, json!([]));
    let (ok, _, _) = run_cli(
        &inst.server.config,
        &["admin", "announcement", "delete", "--id", &id],
    );
    assert!(!ok, "deleting twice fails");
}
