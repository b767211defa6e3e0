//! Moderation on one instance: reports, the admin accounts and reports APIs (filters, actions,
//! roles), limits (silence), suspension of local accounts, and sign-ups held for approval. The
//! two-instance side (forwarded reports, suspensions that federate) is in `federation_moderation`.

use serde_json::{Value, json};

use crate::both_backends;
use crate::statuses::post;
use crate::support::{Backend, TestApp};

fn usernames(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|a| a["username"].as_str().unwrap().to_string())
        .collect()
}

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not a list: {v}"))
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

async fn reports_and_account_actions(app: TestApp) {
    use rookery::service::accounts::Role;
    let alice = app.create_user("alice").await.to_string();
    let bob = app.create_user("bob").await.to_string();
    app.create_user("carol").await;
    app.create_user_with_role("mod", Role::Moderator).await;
    let root = app
        .create_user_with_role("root", Role::Admin)
        .await
        .to_string();
    let alice_t = app.token_for("alice", "read write follow").await;
    let bob_t = app.token_for("bob", "read write follow").await;
    let carol_t = app.token_for("carol", "read write follow").await;
    let mod_t = app
        .token_for("mod", "read write admin:read admin:write")
        .await;

    let spam = post(&app, &bob_t, json!({"status": "buy things"})).await;
    let spam_id = spam["id"].as_str().unwrap();
    let other = post(&app, &alice_t, json!({"status": "just me"})).await;

    // A report: the reporter sees it, with its target.
    let r = app
        .post(
            "/api/v1/reports",
            Some(&alice_t),
            json!({"account_id": bob, "status_ids": [spam_id], "comment": "spam", "category": "spam"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let report = r.json();
    assert_eq!(report["target_account"]["id"], bob.as_str());
    assert_eq!(report["status_ids"], json!([spam_id]));
    assert_eq!(report["category"], "spam");
    assert_eq!(report["action_taken"], false);
    assert_eq!(report["forwarded"], false);
    // Bad reports are refused, and nothing is stored for them.
    for (body, status) in [
        (json!({"account_id": alice}), 422),
        (json!({"account_id": bob, "status_ids": [other["id"]]}), 422),
        (json!({"account_id": bob, "category": "boring"}), 422),
        (json!({"account_id": bob, "rule_ids": ["99"]}), 422),
        (json!({"account_id": bob, "comment": "x".repeat(1001)}), 422),
        (
            json!({"account_id": bob, "status_ids": vec![spam_id; 101]}),
            422,
        ),
        (json!({"account_id": "404"}), 404),
    ] {
        app.post("/api/v1/reports", Some(&alice_t), body)
            .await
            .assert_error(status);
    }

    // Staff are told, with the report; others are not.
    let n = app
        .get("/api/v1/notifications?types[]=admin.report", Some(&mod_t))
        .await
        .json();
    assert_eq!(n.as_array().unwrap().len(), 1, "{n}");
    assert_eq!(n[0]["type"], "admin.report");
    assert_eq!(n[0]["account"]["username"], "alice");
    assert_eq!(n[0]["report"]["id"], report["id"]);
    assert_eq!(n[0]["report"]["target_account"]["username"], "bob");
    let n = app
        .get("/api/v1/notifications", Some(&carol_t))
        .await
        .json();
    assert_eq!(n, json!([]));

    // Only staff reach the admin API.
    app.get("/api/v1/admin/reports", Some(&alice_t))
        .await
        .assert_error(403);
    app.get("/api/v1/admin/accounts", Some(&alice_t))
        .await
        .assert_error(403);
    let open = app.get("/api/v1/admin/reports", Some(&mod_t)).await.json();
    assert_eq!(ids(&open), vec![report["id"].as_str().unwrap()]);
    assert_eq!(open[0]["account"]["username"], "alice");
    assert_eq!(open[0]["target_account"]["username"], "bob");
    assert_eq!(open[0]["target_account"]["email"], "bob@example.com");
    assert_eq!(open[0]["statuses"][0]["id"], spam_id);
    let rid = report["id"].as_str().unwrap();
    let assigned = app
        .post(
            &format!("/api/v1/admin/reports/{rid}/assign_to_self"),
            Some(&mod_t),
            json!({}),
        )
        .await
        .json();
    assert_eq!(assigned["assigned_account"]["username"], "mod");

    // Filters of both API versions.
    let list = |q: &'static str| {
        let app = &app;
        let mod_t = mod_t.clone();
        async move {
            let r = app.get(q, Some(&mod_t)).await;
            assert_eq!(r.status, 200, "{q}: {}", r.text);
            usernames(&r.json())
        }
    };
    let all = list("/api/v2/admin/accounts?origin=local").await;
    for name in ["alice", "bob", "carol", "mod", "root"] {
        assert!(all.contains(&name.to_string()), "{name} in {all:?}");
    }
    assert_eq!(
        list("/api/v2/admin/accounts?permissions=staff").await,
        vec!["root", "mod"]
    );
    assert_eq!(
        list("/api/v1/admin/accounts?staff=true").await,
        vec!["root", "mod"]
    );
    assert_eq!(
        list("/api/v1/admin/accounts?username=ali").await,
        vec!["alice"]
    );
    assert_eq!(
        list("/api/v2/admin/accounts?email=carol%40example").await,
        vec!["carol"]
    );
    assert!(
        list("/api/v2/admin/accounts?origin=remote")
            .await
            .is_empty()
    );
    app.get("/api/v2/admin/accounts?status=gone", Some(&mod_t))
        .await
        .assert_error(422);
    let paged = app
        .get("/api/v2/admin/accounts?limit=2", Some(&mod_t))
        .await;
    assert_eq!(paged.json().as_array().unwrap().len(), 2);
    assert!(paged.header("link").unwrap().contains("max_id="));

    // A moderator cannot act on an admin, nor on themselves.
    app.post(
        &format!("/api/v1/admin/accounts/{root}/action"),
        Some(&mod_t),
        json!({"type": "suspend"}),
    )
    .await
    .assert_error(403);

    // Silence: carol, who does not follow bob, no longer sees him in public; alice, who does, does.
    let r = app
        .post(
            &format!("/api/v1/accounts/{bob}/follow"),
            Some(&alice_t),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app
        .post(
            &format!("/api/v1/admin/accounts/{bob}/action"),
            Some(&mod_t),
            json!({"type": "silence", "report_id": rid}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let public = |token: String| {
        let app = &app;
        async move {
            ids(&app
                .get("/api/v1/timelines/public?local=true", Some(&token))
                .await
                .json())
        }
    };
    assert!(!public(carol_t.clone()).await.contains(&spam_id.to_string()));
    assert!(public(alice_t.clone()).await.contains(&spam_id.to_string()));
    let shown = app
        .get(&format!("/api/v1/accounts/{bob}"), Some(&carol_t))
        .await
        .json();
    assert_eq!(shown["limited"], true, "{shown}");
    // The report was resolved by the action.
    let resolved = app
        .get(&format!("/api/v1/admin/reports/{rid}"), Some(&mod_t))
        .await
        .json();
    assert_eq!(resolved["action_taken"], true);
    assert_eq!(resolved["action_taken_by_account"]["username"], "mod");
    assert!(
        app.get("/api/v1/admin/reports", Some(&mod_t))
            .await
            .json()
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        list("/api/v2/admin/accounts?status=silenced").await,
        vec!["bob"]
    );
    let r = app
        .post(
            &format!("/api/v1/admin/accounts/{bob}/unsilence"),
            Some(&mod_t),
            json!({}),
        )
        .await;
    assert_eq!(r.json()["silenced"], false);
    assert!(public(carol_t.clone()).await.contains(&spam_id.to_string()));

    // Disable: the login stops, the account stays; enable brings it back.
    let r = app
        .post(
            &format!("/api/v1/admin/accounts/{alice}/action"),
            Some(&mod_t),
            json!({"type": "disable"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.get("/api/v1/accounts/verify_credentials", Some(&alice_t))
        .await
        .assert_error(401);
    let shown = app
        .get(&format!("/api/v1/admin/accounts/{alice}"), Some(&mod_t))
        .await
        .json();
    assert_eq!(shown["disabled"], true);
    app.post(
        &format!("/api/v1/admin/accounts/{alice}/enable"),
        Some(&mod_t),
        json!({}),
    )
    .await;
    let alice_t = app.token_for("alice", "read write").await;

    // Suspend: bob's posts and profile go at once, his login with them; the name stays taken.
    app.post(
        &format!("/api/v1/admin/accounts/{bob}/action"),
        Some(&mod_t),
        json!({"type": "nonsense"}),
    )
    .await
    .assert_error(422);
    let r = app
        .post(
            &format!("/api/v1/admin/accounts/{bob}/action"),
            Some(&mod_t),
            json!({"type": "suspend"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.get(&format!("/api/v1/statuses/{spam_id}"), Some(&alice_t))
        .await
        .assert_error(404);
    app.get("/api/v1/accounts/verify_credentials", Some(&bob_t))
        .await
        .assert_error(401);
    let client = app.register_app("read", "urn:ietf:wg:oauth:2.0:oob").await;
    app.password_grant(&client, "bob@example.com", "password-bob", "read")
        .await
        .assert_error(400);
    let shown = app
        .get(&format!("/api/v1/accounts/{bob}"), Some(&alice_t))
        .await
        .json();
    assert_eq!(shown["suspended"], true, "{shown}");
    assert_eq!(shown["statuses_count"], 0, "{shown}");
    let statuses = app
        .get(&format!("/api/v1/accounts/{bob}/statuses"), Some(&alice_t))
        .await
        .json();
    assert_eq!(statuses, json!([]));
    let me = app
        .get("/api/v1/accounts/verify_credentials", Some(&alice_t))
        .await
        .json();
    assert_eq!(me["following_count"], 0, "the follow ended: {me}");
    let actor = app
        .http
        .get(app.url("/users/bob"))
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    assert_eq!(actor.status().as_u16(), 410);
    assert_eq!(
        list("/api/v2/admin/accounts?status=suspended").await,
        vec!["bob"]
    );
    let r = app
        .post(
            &format!("/api/v1/admin/accounts/{bob}/unsuspend"),
            Some(&mod_t),
            json!({}),
        )
        .await;
    assert_eq!(r.json()["suspended"], false);
    let _ = app.token_for("bob", "read").await;
}

both_backends!(reports_and_account_actions);

async fn held_sign_ups(backend: Backend) {
    use rookery::service::accounts::Role;
    let mail_dir = tempfile::tempdir().unwrap();
    let dir = mail_dir.path().to_path_buf();
    let app = TestApp::start_with(backend, |c| {
        c.registrations.mode = rookery::config::RegistrationsMode::Approval;
        c.mail.dir = dir.display().to_string();
    })
    .await;
    app.create_user_with_role("mod", Role::Moderator).await;
    let mod_t = app.token_for("mod", "read admin:read admin:write").await;
    let app_token = app.app_token("read write").await;
    for name in ["hopeful", "spammer"] {
        let r = app
            .post(
                "/api/v1/accounts",
                Some(&app_token),
                json!({"username": name, "email": format!("{name}@example.com"),
                       "password": "a long passphrase", "agreement": true,
                       "reason": format!("{name} wants in")}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let pending = app
        .get("/api/v2/admin/accounts?status=pending", Some(&mod_t))
        .await
        .json();
    assert_eq!(usernames(&pending), vec!["spammer", "hopeful"]);
    let n = app
        .get("/api/v1/notifications?types[]=admin.sign_up", Some(&mod_t))
        .await
        .json();
    assert_eq!(
        usernames(&json!(
            n.as_array()
                .unwrap()
                .iter()
                .map(|n| n["account"].clone())
                .collect::<Vec<_>>()
        )),
        vec!["spammer", "hopeful"],
        "{n}"
    );
    assert_eq!(pending[1]["invite_request"], "hopeful wants in");
    assert_eq!(pending[1]["approved"], false);
    let id = |i: usize| pending[i]["id"].as_str().unwrap().to_string();
    // Not yet: the password does not sign in.
    let client = app.register_app("read", "urn:ietf:wg:oauth:2.0:oob").await;
    let grant = |name: &'static str| app.password_grant(&client, name, "a long passphrase", "read");
    grant("hopeful").await.assert_error(400);
    let r = app
        .post(
            &format!("/api/v1/admin/accounts/{}/approve", id(1)),
            Some(&mod_t),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json()["approved"], true);
    assert_eq!(grant("hopeful").await.status, 200);
    // They are told by mail.
    let mail = crate::mail::mails(mail_dir.path(), 1).await.remove(0);
    assert!(mail.contains("To: hopeful@example.com"), "{mail}");
    assert!(mail.contains("approved"), "{mail}");
    assert!(mail.contains("/auth/sign_in"), "{mail}");
    let r = app
        .post(
            &format!("/api/v1/admin/accounts/{}/reject", id(0)),
            Some(&mod_t),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.get(&format!("/api/v1/admin/accounts/{}", id(0)), Some(&mod_t))
        .await
        .assert_error(404);
    // Approving twice, or an account that never waited, is refused.
    app.post(
        &format!("/api/v1/admin/accounts/{}/approve", id(1)),
        Some(&mod_t),
        json!({}),
    )
    .await
    .assert_error(422);
}

#[tokio::test]
async fn held_sign_ups_on_sqlite() {
    held_sign_ups(Backend::Sqlite).await
}

#[tokio::test]
async fn held_sign_ups_on_postgres() {
    held_sign_ups(Backend::Postgres).await
}
