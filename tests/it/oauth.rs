//! OAuth 2 as Mastodon does it: apps, the HTML authorization-code flow (with PKCE and the oob
//! page), password and client-credentials grants, revocation, scopes, bad input, throttling.

use base64::Engine;
use reqwest::Method;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::both_backends;
use crate::support::forms::{FormClient, hidden_inputs, set};
use crate::support::{Backend, TestApp};

const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";
const TUSKY: &str = "oauth2redirect://com.keylesspalace.tusky/";

fn authorize_url(app: &TestApp, client_id: &str, redirect: &str, extra: &str) -> String {
    format!(
        "{}/oauth/authorize?response_type=code&client_id={client_id}&redirect_uri={}&scope=read+write+follow&state=xyz{extra}",
        app.base,
        urlencoding::encode(redirect)
    )
}

/// Signs in through the form and returns the consent page's form, ready to post.
async fn sign_in(
    app: &TestApp,
    browser: &mut FormClient,
    url: &str,
    login: &str,
    password: &str,
) -> Vec<(String, String)> {
    let page = browser.get(url).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("<form"), "{}", page.text);
    let mut form = hidden_inputs(&page.text);
    set(&mut form, "action", "sign_in");
    set(&mut form, "username", login);
    set(&mut form, "password", password);
    let consent = browser.post_form(&app.url("/oauth/authorize"), &form).await;
    assert_eq!(consent.status, 200, "{}", consent.text);
    assert!(consent.text.contains("Authorize"), "{}", consent.text);
    hidden_inputs(&consent.text)
}

async fn exchange(app: &TestApp, form: &[(&str, &str)]) -> crate::support::Answer {
    app.send_form(Method::POST, "/oauth/token", None, form)
        .await
}

/// Approves the consent form in `consent` (already signed in) and reads the code off the oob page.
async fn approve_oob(
    app: &TestApp,
    browser: &mut FormClient,
    mut consent: Vec<(String, String)>,
) -> String {
    set(&mut consent, "action", "approve");
    let page = browser
        .post_form(&app.url("/oauth/authorize"), &consent)
        .await;
    assert_eq!(page.status, 200, "{}", page.text);
    regex::Regex::new(r#"id="oauth-code" readonly value="([^"]+)""#)
        .unwrap()
        .captures(&page.text)
        .expect("code on page")[1]
        .to_string()
}

/// With a signed-in browser: opens `url` and approves, returning the oob code.
async fn approve_again(app: &TestApp, browser: &mut FormClient, url: &str) -> String {
    let page = browser.get(url).await;
    approve_oob(app, browser, hidden_inputs(&page.text)).await
}

async fn apps_accept_json_form_and_multipart(app: TestApp) {
    let a = app
        .post("/api/v1/apps", None, json!({"client_name": "Elk", "redirect_uris": ["https://elk.zone/cb", TUSKY], "scopes": "read write follow push", "website": "https://elk.zone"}))
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let j = a.json();
    for k in [
        "id",
        "name",
        "client_id",
        "client_secret",
        "redirect_uri",
        "vapid_key",
    ] {
        assert!(j.get(k).is_some(), "missing {k}: {j}");
    }
    assert_eq!(j["redirect_uris"], json!(["https://elk.zone/cb", TUSKY]));
    assert_eq!(j["scopes"], json!(["read", "write", "follow", "push"]));

    let f = app
        .send_form(
            Method::POST,
            "/api/v1/apps",
            None,
            &[
                ("client_name", "Mastodon.py"),
                (
                    "redirect_uris",
                    "urn:ietf:wg:oauth:2.0:oob\nhttps://x.example/cb",
                ),
                ("scopes", "read"),
            ],
        )
        .await;
    assert_eq!(f.status, 200, "{}", f.text);
    assert_eq!(
        f.json()["redirect_uris"],
        json!([OOB, "https://x.example/cb"])
    );

    let form = reqwest::multipart::Form::new()
        .text("client_name", "Multipart")
        .text("redirect_uris", TUSKY)
        .text("scopes", "read write");
    let m = app
        .http
        .post(app.url("/api/v1/apps"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(m.status(), 200);

    // Bad input: 422 with an error, nothing stored.
    for body in [
        json!({"redirect_uris": OOB}),
        json!({"client_name": "x", "redirect_uris": "not a uri"}),
        json!({"client_name": "x", "redirect_uris": "javascript:alert(1)"}),
        json!({"client_name": "x", "redirect_uris": OOB, "scopes": "read destroy"}),
        json!({"client_name": "x".repeat(61), "redirect_uris": OOB}),
        json!({"client_name": "x"}),
    ] {
        app.post("/api/v1/apps", None, body).await.assert_error(422);
    }
    // Malformed JSON is a 400 in the Mastodon shape.
    let bad = app
        .http
        .post(app.url("/api/v1/apps"))
        .header("content-type", "application/json")
        .body("{\"client_name\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 400);
    assert!(
        bad.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
}

async fn authorization_code_flow_through_the_html_form(app: TestApp) {
    app.create_user("alice").await;
    let (id, secret) = app.register_app("read write follow push", TUSKY).await;
    let mut browser = FormClient::new();
    let url = authorize_url(&app, &id, TUSKY, "");

    // A wrong password shows the form again with an error.
    let page = browser.get(&url).await;
    let mut form = hidden_inputs(&page.text);
    set(&mut form, "action", "sign_in");
    set(&mut form, "username", "alice");
    set(&mut form, "password", "wrong password");
    let denied = browser.post_form(&app.url("/oauth/authorize"), &form).await;
    assert_eq!(denied.status, 401);
    assert!(
        denied
            .text
            .contains("Invalid e-mail address, username or password")
    );

    let mut consent = sign_in(
        &app,
        &mut browser,
        &url,
        "alice@example.com",
        "password-alice",
    )
    .await;
    set(&mut consent, "action", "approve");
    let redirect = browser
        .post_form(&app.url("/oauth/authorize"), &consent)
        .await;
    assert_eq!(redirect.status, 302, "{}", redirect.text);
    let location = url::Url::parse(redirect.header("location").unwrap()).unwrap();
    assert_eq!(location.scheme(), "oauth2redirect");
    let q: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(q["state"], "xyz");
    let code = q["code"].clone();

    // A wrong redirect URI is refused without using up the code… no: codes are single-use, so
    // check the mismatch with a second code below.
    let tok = exchange(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &id),
            ("client_secret", &secret),
            ("redirect_uri", TUSKY),
            ("code", &code),
        ],
    )
    .await;
    assert_eq!(tok.status, 200, "{}", tok.text);
    let t = tok.json();
    assert_eq!(t["token_type"], "Bearer");
    assert_eq!(t["scope"], "read write follow");
    assert!(t["created_at"].is_i64());
    let token = t["access_token"].as_str().unwrap();
    let me = app
        .get("/api/v1/accounts/verify_credentials", Some(token))
        .await;
    assert_eq!(me.status, 200);
    assert_eq!(me.json()["username"], "alice");

    // Reuse of the code fails.
    let again = exchange(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &id),
            ("client_secret", &secret),
            ("redirect_uri", TUSKY),
            ("code", &code),
        ],
    )
    .await;
    assert_eq!(again.status, 400);
    assert_eq!(again.json()["error"], "invalid_grant");

    // Already signed in: the next authorization goes straight to consent; a mismatched
    // redirect_uri at the token endpoint is refused.
    let page = browser.get(&url).await;
    assert!(page.text.contains("Authorize"), "{}", page.text);
    let mut consent = hidden_inputs(&page.text);
    set(&mut consent, "action", "approve");
    let redirect = browser
        .post_form(&app.url("/oauth/authorize"), &consent)
        .await;
    let location = url::Url::parse(redirect.header("location").unwrap()).unwrap();
    let code2 = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let mismatch = exchange(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &id),
            ("client_secret", &secret),
            ("redirect_uri", "https://evil.example/"),
            ("code", &code2),
        ],
    )
    .await;
    assert_eq!(mismatch.json()["error"], "invalid_grant");

    // force_login shows the sign-in form even with a session.
    let forced = browser.get(&format!("{url}&force_login=true")).await;
    assert!(forced.text.contains("name=\"password\""));

    // Deny redirects with access_denied and the state.
    let page = browser.get(&url).await;
    let mut deny = hidden_inputs(&page.text);
    set(&mut deny, "action", "deny");
    let denied = browser.post_form(&app.url("/oauth/authorize"), &deny).await;
    assert_eq!(denied.status, 302);
    let loc = denied.header("location").unwrap();
    assert!(
        loc.contains("error=access_denied") && loc.contains("state=xyz"),
        "{loc}"
    );
}

async fn pkce_and_the_oob_page(app: TestApp) {
    app.create_user("bob").await;
    let (id, secret) = app.register_app("read write", OOB).await;
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk-and-some-more-entropy";
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(verifier.as_bytes()));
    let url = format!(
        "{}/oauth/authorize/?response_type=code&client_id={id}&redirect_uri={OOB}&scope=read&code_challenge={challenge}&code_challenge_method=S256",
        app.base
    );
    let mut browser = FormClient::new();
    let consent = sign_in(&app, &mut browser, &url, "bob", "password-bob").await;
    let code = approve_oob(&app, &mut browser, consent).await;

    // Wrong verifier: refused, and the code is spent.
    let bad = exchange(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &id),
            ("redirect_uri", OOB),
            ("code", &code),
            (
                "code_verifier",
                "not-the-verifier-not-the-verifier-not-the-verifier",
            ),
        ],
    )
    .await;
    assert_eq!(bad.json()["error"], "invalid_grant");

    // A fresh code with the right verifier works without the client secret (public client).
    let code = approve_again(&app, &mut browser, &url).await;
    let ok = exchange(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &id),
            ("redirect_uri", OOB),
            ("code", &code),
            ("code_verifier", verifier),
        ],
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.json()["scope"], "read");

    // Without PKCE, the secret is required; a missing verifier for a PKCE code is refused.
    let code = approve_again(&app, &mut browser, &url).await;
    let missing = exchange(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &id),
            ("client_secret", &secret),
            ("redirect_uri", OOB),
            ("code", &code),
        ],
    )
    .await;
    assert_eq!(missing.json()["error"], "invalid_grant");
}

async fn bad_authorization_requests_show_an_error_page(app: TestApp) {
    let (id, _) = app.register_app("read", TUSKY).await;
    let mut browser = FormClient::new();
    for (url, expect) in [
        (authorize_url(&app, "unknown-client", TUSKY, ""), "unknown"),
        (
            authorize_url(&app, &id, "https://evil.example/cb", ""),
            "redirect URI",
        ),
        (
            format!(
                "{}/oauth/authorize?response_type=token&client_id={id}&redirect_uri={}",
                app.base,
                urlencoding::encode(TUSKY)
            ),
            "response_type",
        ),
        // The app registered only `read`; `write` is more.
        (
            authorize_url(&app, &id, TUSKY, ""),
            "more than the application",
        ),
        (
            format!(
                "{}/oauth/authorize?response_type=code&client_id={id}&redirect_uri={}&code_challenge=abc&code_challenge_method=plain",
                app.base,
                urlencoding::encode(TUSKY)
            ),
            "S256",
        ),
    ] {
        let page = browser.get(&url).await;
        assert_eq!(page.status, 400, "{url}");
        assert!(page.text.contains(expect), "{url}: {}", page.text);
    }

    // A form post without the CSRF cookie is refused and nothing is issued.
    app.create_user("eve").await;
    let good = format!(
        "{}/oauth/authorize?response_type=code&client_id={id}&redirect_uri={}&scope=read",
        app.base,
        urlencoding::encode(TUSKY)
    );
    let page = browser.get(&good).await;
    let mut form = hidden_inputs(&page.text);
    set(&mut form, "action", "sign_in");
    set(&mut form, "username", "eve");
    set(&mut form, "password", "password-eve");
    let mut stranger = FormClient::new();
    let refused = stranger
        .post_form(&app.url("/oauth/authorize"), &form)
        .await;
    assert_eq!(refused.status, 403);
    assert!(!stranger.cookies.contains_key("rookery_session"));
}

async fn password_and_client_credentials_grants(app: TestApp) {
    app.create_user("carol").await;
    let (id, secret) = app.register_app("read write follow", OOB).await;
    // Username works as well as the email, as Mastodon's password grant allows.
    let ok = app.post("/oauth/token", None, json!({"grant_type": "password", "client_id": id, "client_secret": secret, "username": "carol", "password": "password-carol", "scope": "read write follow"})).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.json()["scope"], "read write follow");
    assert_eq!(ok.header("cache-control"), Some("no-store"));

    // HTTP Basic client authentication.
    let basic = app
        .http
        .post(app.url("/oauth/token"))
        .basic_auth(&id, Some(&secret))
        .form(&[
            ("grant_type", "password"),
            ("username", "carol@example.com"),
            ("password", "password-carol"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status(), 200);
    let body: serde_json::Value = basic.json().await.unwrap();
    assert_eq!(body["scope"], "read", "default scope is read");

    let wrong_pw = app.post("/oauth/token", None, json!({"grant_type": "password", "client_id": id, "client_secret": secret, "username": "carol", "password": "nope-nope"})).await;
    assert_eq!(wrong_pw.status, 400);
    assert_eq!(wrong_pw.json()["error"], "invalid_grant");
    let wrong_secret = app.post("/oauth/token", None, json!({"grant_type": "password", "client_id": id, "client_secret": "x", "username": "carol", "password": "password-carol"})).await;
    assert_eq!(wrong_secret.status, 401);
    assert_eq!(wrong_secret.json()["error"], "invalid_client");
    let unknown = app.post("/oauth/token", None, json!({"grant_type": "password", "client_id": "nobody", "client_secret": "x", "username": "carol", "password": "password-carol"})).await;
    assert_eq!(unknown.status, 401);
    let too_much = app.post("/oauth/token", None, json!({"grant_type": "password", "client_id": id, "client_secret": secret, "username": "carol", "password": "password-carol", "scope": "admin:read"})).await;
    assert_eq!(too_much.json()["error"], "invalid_scope");
    let grant = app
        .post(
            "/oauth/token",
            None,
            json!({"grant_type": "implicit", "client_id": id, "client_secret": secret}),
        )
        .await;
    assert_eq!(grant.json()["error"], "unsupported_grant_type");

    // Client credentials: an app token can register accounts but is no user.
    let app_token = app.app_token("read write").await;
    let me = app
        .get("/api/v1/accounts/verify_credentials", Some(&app_token))
        .await;
    me.assert_error(422);
    let v = app
        .get("/api/v1/apps/verify_credentials", Some(&app_token))
        .await;
    assert_eq!(v.status, 200);
    assert_eq!(v.json()["name"], "Test app");
    assert!(v.json().get("client_secret").is_none());
}

async fn revocation_and_disabled_users(app: TestApp) {
    app.create_user("dave").await;
    let (id, secret) = app.register_app("read write", OOB).await;
    let tok = app.post("/oauth/token", None, json!({"grant_type": "password", "client_id": id, "client_secret": secret, "username": "dave", "password": "password-dave", "scope": "read"})).await.json()["access_token"].as_str().unwrap().to_string();
    assert_eq!(
        app.get("/api/v1/accounts/verify_credentials", Some(&tok))
            .await
            .status,
        200
    );

    // Another client cannot revoke it.
    let (other_id, other_secret) = app.register_app("read", OOB).await;
    let r = app
        .post(
            "/oauth/revoke",
            None,
            json!({"client_id": other_id, "client_secret": other_secret, "token": tok}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        app.get("/api/v1/accounts/verify_credentials", Some(&tok))
            .await
            .status,
        200
    );
    let r = app
        .post(
            "/oauth/revoke",
            None,
            json!({"client_id": id, "client_secret": "wrong", "token": tok}),
        )
        .await;
    assert_eq!(r.status, 401);

    let r = app
        .post(
            "/oauth/revoke",
            None,
            json!({"client_id": id, "client_secret": secret, "token": tok}),
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json(), json!({}));
    let gone = app
        .get("/api/v1/accounts/verify_credentials", Some(&tok))
        .await;
    let body = gone.assert_error(401);
    assert_eq!(body["error"], "The access token is invalid");

    // A disabled user's tokens stop working for user endpoints and new grants are refused.
    let tok = app.token_for("dave", "read").await;
    let user = rookery::storage::accounts::find_user_by_login(&app.state.db, "dave")
        .await
        .unwrap()
        .unwrap();
    rookery::storage::accounts::set_disabled(&app.state.db, user.id, true)
        .await
        .unwrap();
    let refused = app
        .get("/api/v1/accounts/verify_credentials", Some(&tok))
        .await;
    assert_eq!(
        refused.assert_error(403)["error"],
        "Your login is currently disabled"
    );
    let grant = app.post("/oauth/token", None, json!({"grant_type": "password", "client_id": id, "client_secret": secret, "username": "dave", "password": "password-dave"})).await;
    assert_eq!(grant.json()["error"], "invalid_grant");
}

async fn scopes_are_enforced(app: TestApp) {
    app.create_user("erin").await;
    let read_only = app.token_for("erin", "read").await;
    let patch = app
        .send(
            Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some(&read_only),
            Some(json!({"display_name": "E"})),
        )
        .await;
    assert_eq!(
        patch.assert_error(403)["error"],
        "This action is outside the authorized scopes"
    );

    let profile = app.token_for("erin", "profile").await;
    assert_eq!(
        app.get("/api/v1/accounts/verify_credentials", Some(&profile))
            .await
            .status,
        200
    );
    app.get("/api/v1/preferences", Some(&profile))
        .await
        .assert_error(403);

    let granular = app.token_for("erin", "read:accounts write:accounts").await;
    assert_eq!(
        app.get("/api/v1/preferences", Some(&granular)).await.status,
        200
    );
    let ok = app
        .send(
            Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some(&granular),
            Some(json!({"display_name": "E"})),
        )
        .await;
    assert_eq!(ok.status, 200);
    // relationships needs read:follows, which granular read:accounts does not give…
    app.get("/api/v1/accounts/relationships?id=1", Some(&granular))
        .await
        .assert_error(403);
    // …but the legacy follow scope does.
    let follow = app.token_for("erin", "follow").await;
    assert_eq!(
        app.get("/api/v1/accounts/relationships?id=1", Some(&follow))
            .await
            .status,
        200
    );

    // No token at all.
    app.get("/api/v1/accounts/verify_credentials", None)
        .await
        .assert_error(401);
    app.get("/api/v1/preferences", Some("made-up-token"))
        .await
        .assert_error(401);
}

async fn expired_codes_are_refused(app: TestApp) {
    app.create_user("fay").await;
    let (id, secret) = app.register_app("read", OOB).await;
    let url = format!(
        "{}/oauth/authorize?response_type=code&client_id={id}&redirect_uri={OOB}&scope=read",
        app.base
    );
    let mut browser = FormClient::new();
    let consent = sign_in(&app, &mut browser, &url, "fay", "password-fay").await;
    let code = approve_oob(&app, &mut browser, consent).await;
    let past = chrono::Utc::now() - chrono::Duration::minutes(1);
    rookery::on_db!(app.state.db, c => sqlx::query("UPDATE oauth_authorization_codes SET expires_at = $1").bind(past).execute(c).await.map(|_| ())).unwrap();
    let r = exchange(
        &app,
        &[
            ("grant_type", "authorization_code"),
            ("client_id", &id),
            ("client_secret", &secret),
            ("redirect_uri", OOB),
            ("code", &code),
        ],
    )
    .await;
    assert_eq!(r.json()["error"], "invalid_grant");
}

both_backends!(
    apps_accept_json_form_and_multipart,
    authorization_code_flow_through_the_html_form,
    pkce_and_the_oob_page,
    bad_authorization_requests_show_an_error_page,
    password_and_client_credentials_grants,
    revocation_and_disabled_users,
    scopes_are_enforced,
    expired_codes_are_refused,
);

#[tokio::test]
async fn sign_in_attempts_are_rate_limited_per_ip_and_recover_budget_per_account() {
    let app = TestApp::start_with(Backend::Sqlite, |c| {
        c.rate_limits.sign_in_per_ip = 4;
        c.rate_limits.sign_in_per_account = 2;
    })
    .await;
    app.create_user("gus").await;
    let (id, secret) = app.register_app("read", OOB).await;
    let attempt = |user: &'static str| {
        let (id, secret) = (id.clone(), secret.clone());
        let app = &app;
        async move {
            app.post("/oauth/token", None, json!({"grant_type": "password", "client_id": id, "client_secret": secret, "username": user, "password": "wrong-password"})).await
        }
    };
    // Per account: the third try on gus is throttled, with Retry-After.
    assert_eq!(attempt("gus").await.status, 400);
    assert_eq!(attempt("gus").await.status, 400);
    let limited = attempt("gus").await;
    limited.assert_error(429);
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!(retry >= 1 && retry <= 300, "{retry}");
    // Even the right password is refused while throttled.
    let right = app.post("/oauth/token", None, json!({"grant_type": "password", "client_id": id, "client_secret": secret, "username": "gus", "password": "password-gus"})).await;
    assert_eq!(right.status, 429);
    // Per IP: one more attempt on another account uses up the address's budget of 4.
    assert_eq!(attempt("nobody").await.status, 429);
}
