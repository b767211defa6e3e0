//! The accounts API: sign-up under each registration mode, credentials, profile updates, lookup,
//! search, relationships, and their bad inputs.

use reqwest::Method;
use serde_json::{Value, json};

use crate::both_backends;
use crate::support::{Backend, TestApp};

/// Fields Mastodon Android and iOS decode strictly on an Account (CLIENTS.md).
const ACCOUNT_FIELDS: &[&str] = &[
    "id",
    "username",
    "acct",
    "url",
    "display_name",
    "note",
    "avatar",
    "header",
    "created_at",
    "locked",
    "emojis",
    "followers_count",
    "following_count",
    "statuses_count",
];

fn assert_account_shape(a: &Value) {
    for f in ACCOUNT_FIELDS {
        assert!(
            a.get(f).is_some_and(|v| !v.is_null()),
            "Account lacks {f}: {a}"
        );
    }
    assert!(a["id"].is_string());
    assert!(a["created_at"].as_str().unwrap().ends_with(".000Z"));
}

async fn sign_up_with_an_app_token(app: TestApp) {
    let app_token = app.app_token("read write follow").await;
    let r = app.post("/api/v1/accounts", Some(&app_token), json!({"username": "newbie", "email": "newbie@example.com", "password": "a good password", "agreement": true, "locale": "en"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let t = r.json();
    assert_eq!(t["scope"], "read write follow");
    let token = t["access_token"].as_str().unwrap();
    let me = app
        .get("/api/v1/accounts/verify_credentials", Some(token))
        .await;
    assert_eq!(me.status, 200);
    let me = me.json();
    assert_account_shape(&me);
    assert_eq!(me["acct"], "newbie");
    assert_eq!(me["source"]["privacy"], "public");

    // Form body with a string boolean also works.
    let f = app
        .send_form(
            Method::POST,
            "/api/v1/accounts",
            Some(&app_token),
            &[
                ("username", "formy"),
                ("email", "formy@example.com"),
                ("password", "a good password"),
                ("agreement", "1"),
            ],
        )
        .await;
    assert_eq!(f.status, 200, "{}", f.text);

    // Bad input: 422 with Mastodon's details, nothing stored.
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"username": "newbie", "email": "x@example.com", "password": "a good password", "agreement": true}),
            "username",
            "ERR_TAKEN",
        ),
        (
            json!({"username": "NEWBIE", "email": "y@example.com", "password": "a good password", "agreement": true}),
            "username",
            "ERR_TAKEN",
        ),
        (
            json!({"username": "bad name", "email": "z@example.com", "password": "a good password", "agreement": true}),
            "username",
            "ERR_INVALID",
        ),
        (
            json!({"username": "admin", "email": "z@example.com", "password": "a good password", "agreement": true}),
            "username",
            "ERR_RESERVED",
        ),
        (
            json!({"username": "a".repeat(31), "email": "z@example.com", "password": "a good password", "agreement": true}),
            "username",
            "ERR_TOO_LONG",
        ),
        (
            json!({"username": "ok_name", "email": "NEWBIE@example.com", "password": "a good password", "agreement": true}),
            "email",
            "ERR_TAKEN",
        ),
        (
            json!({"username": "ok_name", "email": "not-an-email", "password": "a good password", "agreement": true}),
            "email",
            "ERR_INVALID",
        ),
        (
            json!({"username": "ok_name", "email": "ok@example.com", "password": "short", "agreement": true}),
            "password",
            "ERR_TOO_SHORT",
        ),
        (
            json!({"username": "ok_name", "email": "ok@example.com", "password": "a good password"}),
            "agreement",
            "ERR_ACCEPTED",
        ),
    ];
    for (body, field, code) in cases {
        let r = app
            .post("/api/v1/accounts", Some(&app_token), body.clone())
            .await;
        let e = r.assert_error(422);
        assert_eq!(e["details"][field][0]["error"], code, "{body} -> {e}");
        assert!(
            e["error"]
                .as_str()
                .unwrap()
                .starts_with("Validation failed")
        );
    }
    assert!(
        rookery::storage::accounts::find_local_account_by_username(&app.state.db, "ok_name")
            .await
            .unwrap()
            .is_none()
    );

    // No token, or a token without write:accounts.
    app.post("/api/v1/accounts", None, json!({}))
        .await
        .assert_error(401);
    let read_only = app.app_token("read").await;
    app.post("/api/v1/accounts", Some(&read_only), json!({"username": "x1", "email": "x1@example.com", "password": "a good password", "agreement": true})).await.assert_error(403);
}

async fn update_credentials_and_preferences(app: TestApp) {
    app.create_user("alice").await;
    let token = app.token_for("alice", "read write").await;
    let r = app
        .send(Method::PATCH, "/api/v1/accounts/update_credentials", Some(&token), Some(json!({
            "display_name": "  Alice\u{0007} Liddell ",
            "note": "Down the rabbit hole.\nhttps://example.com/wonder <b>bold</b>",
            "locked": true,
            "bot": "false",
            "fields_attributes": [{"name": "Home", "value": "https://alice.example"}, {"name": "Pronouns", "value": "she/her"}],
            "source": {"privacy": "unlisted", "sensitive": true, "language": "en"},
        })))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let me = r.json();
    assert_eq!(me["display_name"], "Alice Liddell");
    assert_eq!(me["locked"], true);
    let note = me["note"].as_str().unwrap();
    assert!(note.contains("&lt;b&gt;bold&lt;/b&gt;"), "{note}");
    assert!(
        note.contains("<a href=\"https://example.com/wonder\""),
        "{note}"
    );
    assert!(
        me["fields"][0]["value"]
            .as_str()
            .unwrap()
            .contains("<a href=\"https://alice.example\"")
    );
    assert_eq!(me["fields"][1]["value"], "she/her");
    assert_eq!(
        me["source"]["note"],
        "Down the rabbit hole.\nhttps://example.com/wonder <b>bold</b>"
    );
    assert_eq!(me["source"]["fields"][0]["value"], "https://alice.example");
    assert_eq!(me["source"]["privacy"], "unlisted");
    assert_eq!(me["source"]["sensitive"], true);

    let prefs = app.get("/api/v1/preferences", Some(&token)).await.json();
    assert_eq!(prefs["posting:default:visibility"], "unlisted");
    assert_eq!(prefs["posting:default:sensitive"], true);
    assert_eq!(prefs["posting:default:language"], "en");
    assert_eq!(prefs["reading:expand:spoilers"], false);

    // Form encoding with Rails brackets, as Tusky and Mastodon.py send it.
    let f = app
        .send_form(
            Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some(&token),
            &[
                ("fields_attributes[0][name]", "Site"),
                ("fields_attributes[0][value]", "https://a.example"),
                ("source[privacy]", "private"),
                ("discoverable", "0"),
            ],
        )
        .await;
    assert_eq!(f.status, 200, "{}", f.text);
    let me = f.json();
    assert_eq!(me["fields"].as_array().unwrap().len(), 1);
    assert_eq!(me["source"]["privacy"], "private");
    assert_eq!(me["discoverable"], false);
    assert_eq!(me["display_name"], "Alice Liddell", "untouched fields stay");

    // Bad input leaves everything as it was.
    for body in [
        json!({"display_name": "x".repeat(31)}),
        json!({"note": "x".repeat(501)}),
        json!({"source": {"privacy": "everyone"}}),
        json!({"source": {"language": "english"}}),
        json!({"fields_attributes": [{"name":"1","value":"1"},{"name":"2","value":"2"},{"name":"3","value":"3"},{"name":"4","value":"4"},{"name":"5","value":"5"}]}),
        json!({"locked": "perhaps"}),
    ] {
        app.send(
            Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some(&token),
            Some(body.clone()),
        )
        .await
        .assert_error(422);
    }
    let upload = reqwest::multipart::Form::new().part(
        "avatar",
        reqwest::multipart::Part::bytes(vec![1, 2, 3]).file_name("a.png"),
    );
    let r = app
        .http
        .patch(app.url("/api/v1/accounts/update_credentials"))
        .bearer_auth(&token)
        .multipart(upload)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 422);
    let me = app
        .get("/api/v1/accounts/verify_credentials", Some(&token))
        .await
        .json();
    assert_eq!(me["display_name"], "Alice Liddell");
    assert_eq!(me["source"]["privacy"], "private");
}

async fn show_lookup_search_relationships(app: TestApp) {
    let alice = app.create_user("alice").await;
    let bob = app.create_user("bob").await;
    let token = app.token_for("bob", "read").await;

    let a = app.get(&format!("/api/v1/accounts/{alice}"), None).await;
    assert_eq!(a.status, 200);
    assert_account_shape(&a.json());
    assert_eq!(a.json()["id"], alice.to_string());
    app.get("/api/v1/accounts/12345", None)
        .await
        .assert_error(404);
    app.get("/api/v1/accounts/not-a-number", None)
        .await
        .assert_error(404);

    let domain = app.state.config.server.domain.clone();
    for acct in [
        "alice".to_string(),
        "@alice".to_string(),
        format!("alice@{domain}"),
        "ALICE".to_string(),
    ] {
        let r = app
            .get(
                &format!(
                    "/api/v1/accounts/lookup?acct={}",
                    urlencoding::encode(&acct)
                ),
                None,
            )
            .await;
        assert_eq!(r.status, 200, "{acct}: {}", r.text);
        assert_eq!(r.json()["id"], alice.to_string());
    }
    app.get("/api/v1/accounts/lookup?acct=nobody", None)
        .await
        .assert_error(404);
    app.get("/api/v1/accounts/lookup?acct=alice@elsewhere.example", None)
        .await
        .assert_error(404);
    app.get("/api/v1/accounts/lookup", None)
        .await
        .assert_error(400);

    let s = app.get("/api/v1/accounts/search?q=ali", Some(&token)).await;
    assert_eq!(s.status, 200);
    let hits = s.json();
    assert_eq!(hits.as_array().unwrap().len(), 1);
    assert_eq!(hits[0]["username"], "alice");
    assert_eq!(
        app.get("/api/v1/accounts/search?q=zzz", Some(&token))
            .await
            .json(),
        json!([])
    );
    app.get("/api/v1/accounts/search?q=ali", None)
        .await
        .assert_error(401);

    let r = app
        .get(
            &format!("/api/v1/accounts/relationships?id[]={alice}&id[]={bob}&id[]=999"),
            Some(&token),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let rels = r.json();
    assert_eq!(
        rels.as_array().unwrap().len(),
        2,
        "unknown ids are left out"
    );
    assert_eq!(rels[0]["id"], alice.to_string());
    for f in [
        "following",
        "followed_by",
        "blocking",
        "muting",
        "requested",
        "showing_reblogs",
        "domain_blocking",
        "endorsed",
        "note",
    ] {
        assert!(rels[0].get(f).is_some(), "Relationship lacks {f}");
    }
}

both_backends!(
    sign_up_with_an_app_token,
    update_credentials_and_preferences,
    show_lookup_search_relationships
);

#[tokio::test]
async fn closed_registrations_refuse_sign_up() {
    let app = TestApp::start_with(Backend::Sqlite, |c| {
        c.registrations.mode = rookery::config::RegistrationsMode::Closed
    })
    .await;
    let t = app.app_token("write").await;
    let r = app.post("/api/v1/accounts", Some(&t), json!({"username": "x", "email": "x@example.com", "password": "a good password", "agreement": true})).await;
    r.assert_error(403);
    let inst = app.get("/api/v2/instance", None).await.json();
    assert_eq!(inst["registrations"]["enabled"], false);
}

#[tokio::test]
async fn approval_mode_holds_accounts_until_approved() {
    let app = TestApp::start_with(Backend::Postgres, |c| {
        c.registrations.mode = rookery::config::RegistrationsMode::Approval
    })
    .await;
    let t = app.app_token("read write").await;
    let no_reason = app.post("/api/v1/accounts", Some(&t), json!({"username": "hopeful", "email": "h@example.com", "password": "a good password", "agreement": true})).await;
    assert_eq!(
        no_reason.assert_error(422)["details"]["reason"][0]["error"],
        "ERR_BLANK"
    );
    let r = app.post("/api/v1/accounts", Some(&t), json!({"username": "hopeful", "email": "h@example.com", "password": "a good password", "agreement": true, "reason": "I like birds"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let token = r.json()["access_token"].as_str().unwrap().to_string();
    let me = app
        .get("/api/v1/accounts/verify_credentials", Some(&token))
        .await;
    assert_eq!(
        me.assert_error(403)["error"],
        "Your login is currently pending approval"
    );
    app.get("/api/v1/accounts/lookup?acct=hopeful", None)
        .await
        .assert_error(404);
    let user = rookery::storage::accounts::find_user_by_login(&app.state.db, "hopeful")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.sign_up_reason.as_deref(), Some("I like birds"));
    assert!(!user.approved);
    let inst = app.get("/api/v2/instance", None).await.json();
    assert_eq!(inst["registrations"]["approval_required"], true);
}
