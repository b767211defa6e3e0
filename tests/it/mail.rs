//! Mail and e-mail confirmation against a real SMTP server on loopback (aiosmtpd, from the test
//! virtualenv): sign-up mails a link, the account cannot act until it is followed, a link works once,
//! a new one can be asked for; without SMTP, mail is written as `.eml` files.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::browser::Browser;
use crate::support::{Backend, TestApp};

/// The SMTP sink process; killed on drop.
pub(crate) struct SmtpSink {
    child: Child,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) fn smtp_sink() -> SmtpSink {
    let dir = tempfile::tempdir().unwrap();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/clients/smtp_sink.py");
    let mut child = Command::new(crate::clients::python())
        .arg(script)
        .arg(dir.path())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python with aiosmtpd (run scripts/test)");
    use std::io::BufRead;
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let port = line
        .trim()
        .strip_prefix("ready ")
        .and_then(|p| p.parse().ok())
        .unwrap_or_else(|| panic!("the SMTP sink did not start: {line:?}"));
    SmtpSink { child, port, dir }
}

/// An app whose mail goes over SMTP to a new sink, with the sink.
pub(crate) async fn app_with_sink(backend: Backend) -> (TestApp, SmtpSink) {
    let sink = smtp_sink();
    let port = sink.port;
    let app = TestApp::start_with(backend, |c| {
        c.mail.smtp_url = format!("smtp://127.0.0.1:{port}");
        c.mail.from = "Rookery test <noreply@rookery.test>".into();
    })
    .await;
    (app, sink)
}

/// The mails in `dir`, oldest first, waiting up to 10 s for at least `n`.
pub(crate) async fn mails(dir: &Path, n: usize) -> Vec<String> {
    for _ in 0..100 {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "eml"))
            .collect();
        if files.len() >= n {
            files.sort_by_key(|p| std::fs::metadata(p).unwrap().modified().unwrap());
            return files
                .iter()
                .map(|p| std::fs::read_to_string(p).unwrap())
                .collect();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("fewer than {n} mails in {}", dir.display());
}

/// The confirmation link in a raw message (quoted-printable soft breaks undone).
pub(crate) fn link_in(mail: &str) -> String {
    let flat = mail
        .replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=");
    let re = regex::Regex::new(r"https?://[^\s<>]+confirmation_token=[A-Za-z0-9_\-]+").unwrap();
    re.find(&flat)
        .expect("a confirmation link")
        .as_str()
        .to_string()
}

async fn sign_up(app: &TestApp, username: &str) -> String {
    let app_token = app.app_token("read write").await;
    let r = app
        .post(
            "/api/v1/accounts",
            Some(&app_token),
            json!({"username": username, "email": format!("{username}@example.com"),
                   "password": "a long passphrase", "agreement": true, "locale": "en"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json()["access_token"].as_str().unwrap().to_string()
}

async fn confirmation_by_mail(backend: Backend) {
    let (app, sink) = app_with_sink(backend).await;
    let token = sign_up(&app, "newbie").await;

    // Not confirmed yet: the token cannot act, the password does not sign in.
    let me = app
        .get("/api/v1/accounts/verify_credentials", Some(&token))
        .await;
    assert_eq!(me.status, 403);
    assert!(
        me.text.contains("missing a confirmed e-mail address"),
        "{}",
        me.text
    );

    let mail = mails(sink.dir.path(), 1).await.remove(0);
    assert!(mail.contains("To: newbie@example.com"), "{mail}");
    assert!(
        mail.contains("From: \"Rookery test\" <noreply@rookery.test>")
            || mail.contains("From: Rookery test <noreply@rookery.test>"),
        "{mail}"
    );
    assert!(
        mail.contains("Subject: Confirm your e-mail address"),
        "{mail}"
    );
    assert!(
        mail.contains("text/plain") && mail.contains("text/html"),
        "{mail}"
    );
    let link = link_in(&mail);
    let path = link
        .split_once(&app.state.config.base_url())
        .unwrap()
        .1
        .to_string();

    // A second link, asked for by the app; both work once.
    let r = app
        .post("/api/v1/emails/confirmations", Some(&token), json!({}))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let second = link_in(&mails(sink.dir.path(), 2).await[1]);
    assert_ne!(second, link);

    let page = app.get(&path, None).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("confirmed"), "{}", page.text);
    let me = app
        .get("/api/v1/accounts/verify_credentials", Some(&token))
        .await;
    assert_eq!(me.status, 200, "{}", me.text);
    assert_eq!(me.json()["username"], "newbie");
    assert_eq!(app.get(&path, None).await.status, 404, "a link works once");
    assert_eq!(
        app.get("/auth/confirmation?confirmation_token=made-up", None)
            .await
            .status,
        404
    );
    let again = app
        .post("/api/v1/emails/confirmations", Some(&token), json!({}))
        .await;
    assert_eq!(again.status, 403, "already confirmed");

    // An expired link does not confirm.
    let other = sign_up(&app, "latecomer").await;
    let late = link_in(&mails(sink.dir.path(), 3).await[2]);
    let late_path = late
        .split_once(&app.state.config.base_url())
        .unwrap()
        .1
        .to_string();
    rookery::on_db!(app.state.db, c => sqlx::query("UPDATE user_tokens SET expires_at = $1 WHERE used_at IS NULL")
        .bind(chrono::Utc::now() - chrono::Duration::minutes(1)).execute(c).await.map(|_| ()))
    .unwrap();
    assert_eq!(app.get(&late_path, None).await.status, 404);
    let still = app
        .get("/api/v1/accounts/verify_credentials", Some(&other))
        .await;
    assert_eq!(still.status, 403);
}

#[tokio::test]
async fn confirmation_by_mail_on_sqlite() {
    confirmation_by_mail(Backend::Sqlite).await
}

#[tokio::test]
async fn confirmation_by_mail_on_postgres() {
    confirmation_by_mail(Backend::Postgres).await
}

/// Without an SMTP server, mail is written as `.eml` files; confirmation is off unless asked for.
#[tokio::test]
async fn mail_is_written_to_files_without_smtp() {
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().to_path_buf();
    let plain = TestApp::start(Backend::Sqlite).await;
    let token = sign_up(&plain, "instant").await;
    let me: Value = plain
        .get("/api/v1/accounts/verify_credentials", Some(&token))
        .await
        .json();
    assert_eq!(
        me["username"], "instant",
        "no SMTP: no confirmation by default"
    );

    let app = TestApp::start_with(Backend::Sqlite, |c| {
        c.mail.dir = dir.display().to_string();
        c.registrations.require_email_confirmation = Some(true);
    })
    .await;
    let token = sign_up(&app, "filed").await;
    let mail = mails(&dir, 1).await.remove(0);
    assert!(mail.contains("To: filed@example.com"), "{mail}");
    let link = link_in(&mail);
    let path = link
        .split_once(&app.state.config.base_url())
        .unwrap()
        .1
        .to_string();
    assert_eq!(app.get(&path, None).await.status, 200);
    assert_eq!(
        app.get("/api/v1/accounts/verify_credentials", Some(&token))
            .await
            .status,
        200
    );
}

/// The reset form for `path` (a reset link), signed with the browser's CSRF cookie.
async fn reset_form(
    app: &TestApp,
    browser: &mut crate::support::forms::FormClient,
    path: &str,
    password: &str,
    confirmation: &str,
) -> crate::support::Answer {
    use crate::support::forms::{hidden_inputs, set};
    let page = browser.get(&app.url(path)).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let mut form = hidden_inputs(&page.text);
    set(&mut form, "password", password);
    set(&mut form, "password_confirmation", confirmation);
    browser
        .post_form(&app.url("/auth/password/edit"), &form)
        .await
}

async fn password_reset_by_mail(backend: Backend) {
    use crate::support::forms::{FormClient, hidden_inputs, set};
    let (app, sink) = app_with_sink(backend).await;
    app.create_user("forgetful").await;
    let old_token = app.token_for("forgetful", "read").await;

    // The sign-in page leads here (and to sign-up).
    let mut browser = FormClient::new();
    let sign_in = browser.get(&app.url("/auth/sign_in")).await;
    assert!(
        sign_in.text.contains(r#"href="/auth/password/new""#),
        "{}",
        sign_in.text
    );
    assert!(sign_in.text.contains(r#"href="/auth/sign_up""#));

    // Ask for a link: an unknown address and a known one get the same answer; only one mail goes.
    let mut answers = Vec::new();
    for email in ["nobody@example.com", "forgetful@example.com"] {
        let page = browser.get(&app.url("/auth/password/new")).await;
        assert_eq!(page.status, 200, "{}", page.text);
        let mut form = hidden_inputs(&page.text);
        set(&mut form, "email", email);
        let r = browser.post_form(&app.url("/auth/password"), &form).await;
        assert_eq!(r.status, 200, "{}", r.text);
        answers.push(r.text);
    }
    assert_eq!(
        answers[0], answers[1],
        "the answer does not reveal the account"
    );
    let mail = mails(sink.dir.path(), 1).await.remove(0);
    assert!(mail.contains("To: forgetful@example.com"), "{mail}");
    let flat = mail
        .replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=");
    let link = regex::Regex::new(r"https?://[^\s<>]+reset_password_token=[A-Za-z0-9_\-]+")
        .unwrap()
        .find(&flat)
        .expect("a reset link")
        .as_str()
        .to_string();
    let path = link
        .split_once(&app.state.config.base_url())
        .unwrap()
        .1
        .to_string();

    // Bad passwords show the form again; the link still works after them.
    let r = reset_form(
        &app,
        &mut browser,
        &path,
        "new passphrase",
        "other passphrase",
    )
    .await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("differ"), "{}", r.text);
    let r = reset_form(&app, &mut browser, &path, "short", "short").await;
    assert_eq!(r.status, 422);
    let r = reset_form(
        &app,
        &mut browser,
        &path,
        "new passphrase",
        "new passphrase",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(r.text.contains("Password changed"));

    // Signed out everywhere; only the new password signs in; the link is spent.
    assert_eq!(
        app.get("/api/v1/accounts/verify_credentials", Some(&old_token))
            .await
            .status,
        401
    );
    let client = app.register_app("read", "urn:ietf:wg:oauth:2.0:oob").await;
    for (password, ok) in [("password-forgetful", false), ("new passphrase", true)] {
        let r = app
            .password_grant(&client, "forgetful@example.com", password, "read")
            .await;
        assert_eq!(r.status.is_success(), ok, "{password}: {}", r.text);
    }
    let r = reset_form(
        &app,
        &mut browser,
        &path,
        "third passphrase",
        "third passphrase",
    )
    .await;
    assert_eq!(r.status, 404, "a link works once");

    // An expired link does nothing.
    let page = browser.get(&app.url("/auth/password/new")).await;
    let mut form = hidden_inputs(&page.text);
    set(&mut form, "email", "forgetful@example.com");
    browser.post_form(&app.url("/auth/password"), &form).await;
    let mail = mails(sink.dir.path(), 2).await.remove(1);
    let flat = mail
        .replace("=\r\n", "")
        .replace("=\n", "")
        .replace("=3D", "=");
    let late = regex::Regex::new(r"/auth/password/edit\?reset_password_token=[A-Za-z0-9_\-]+")
        .unwrap()
        .find(&flat)
        .unwrap()
        .as_str()
        .to_string();
    rookery::on_db!(app.state.db, c => sqlx::query("UPDATE user_tokens SET expires_at = $1 WHERE used_at IS NULL")
        .bind(chrono::Utc::now() - chrono::Duration::minutes(1)).execute(c).await.map(|_| ()))
    .unwrap();
    let r = reset_form(
        &app,
        &mut browser,
        &late,
        "fourth passphrase",
        "fourth passphrase",
    )
    .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn password_reset_by_mail_on_sqlite() {
    password_reset_by_mail(Backend::Sqlite).await
}

#[tokio::test]
async fn password_reset_by_mail_on_postgres() {
    password_reset_by_mail(Backend::Postgres).await
}

/// Opens the sign-up page and sends it for "webby" with `email`, the rules accepted.
async fn fill_sign_up(c: &fantoccini::Client, app: &TestApp, email: &str) {
    use fantoccini::Locator;
    c.goto(&app.url("/auth/sign_up")).await.unwrap();
    assert_eq!(c.title().await.unwrap(), "Sign up · Rookery");
    for (id, value) in [
        ("username", "webby"),
        ("email", email),
        ("password", "a fine passphrase"),
    ] {
        let field = c.find(Locator::Id(id)).await.unwrap();
        field.send_keys(value).await.unwrap();
    }
    for button in ["input[name=agreement]", "button[type=submit]"] {
        c.find(Locator::Css(button))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }
}

/// The sign-up page in headless Chromium: fill the form, get the confirmation mail, open its link
/// in the same browser, then sign in with the new password.
#[tokio::test]
async fn sign_up_page_in_chromium() {
    use fantoccini::Locator;
    let (app, sink) = app_with_sink(Backend::Sqlite).await;
    let browser = Browser::start().await;
    let c = &browser.client;
    fill_sign_up(c, &app, "webby@example.com").await;
    // Wait for the answer page itself: the form page's `main` (same URL) may still be there.
    let text = c
        .wait()
        .for_element(Locator::XPath("//main[contains(., 'confirm the address')]"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("confirm the address"), "{text}");

    // The same username again: the form comes back with the reason, keeping what was typed.
    fill_sign_up(c, &app, "other@example.com").await;
    let alert = c
        .wait()
        .for_element(Locator::Css("[role=alert]"))
        .await
        .unwrap();
    assert!(
        alert.text().await.unwrap().contains("taken"),
        "{}",
        alert.text().await.unwrap()
    );
    let kept = c
        .find(Locator::Id("email"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(kept.as_deref(), Some("other@example.com"));

    let link = link_in(&mails(sink.dir.path(), 1).await[0]);
    c.goto(&link).await.unwrap();
    let text = c
        .find(Locator::Css("main"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("confirmed"), "{text}");
    // On into the web app: its sign-in, then Home.
    c.find(Locator::LinkText("Open Rookery"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    crate::pages::fill_sign_in(c, "webby", "a fine passphrase").await;
    c.wait()
        .for_element(Locator::Id("compose-text"))
        .await
        .unwrap();
    assert!(c.title().await.unwrap().starts_with("Home"));
    let client = app.register_app("read", "urn:ietf:wg:oauth:2.0:oob").await;
    let r = app
        .password_grant(&client, "webby", "a fine passphrase", "read")
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// Sign-ups, reset requests and posting run out of budget with a 429 and Mastodon's headers.
#[tokio::test]
async fn sign_ups_resets_and_posts_are_rate_limited() {
    let app = TestApp::start_with(Backend::Sqlite, |c| {
        c.rate_limits.sign_up_per_ip = 1;
        c.rate_limits.password_reset_per_ip = 1;
        c.rate_limits.statuses_per_account = 2;
    })
    .await;
    let token = sign_up(&app, "first").await;
    let app_token = app.app_token("read write").await;
    let r = app
        .post(
            "/api/v1/accounts",
            Some(&app_token),
            json!({"username": "second", "email": "second@example.com",
                   "password": "a long passphrase", "agreement": true}),
        )
        .await;
    assert_eq!(r.status, 429, "{}", r.text);
    r.assert_error(429);
    assert!(r.header("retry-after").unwrap().parse::<u64>().unwrap() > 0);
    assert_eq!(r.header("x-ratelimit-limit"), Some("1"));
    assert_eq!(r.header("x-ratelimit-remaining"), Some("0"));
    assert!(r.header("x-ratelimit-reset").is_some());

    for i in 0..2 {
        crate::statuses::post(&app, &token, json!({"status": format!("post {i}")})).await;
    }
    let r = app
        .post(
            "/api/v1/statuses",
            Some(&token),
            json!({"status": "one too many"}),
        )
        .await;
    assert_eq!(r.status, 429);
    assert_eq!(r.header("x-ratelimit-limit"), Some("2"));
    app.create_user("other").await;
    let other = app.token_for("other", "read write").await;
    crate::statuses::post(&app, &other, json!({"status": "someone else may post"})).await;

    use crate::support::forms::{FormClient, hidden_inputs, set};
    let mut browser = FormClient::new();
    let mut statuses = Vec::new();
    for _ in 0..2 {
        let page = browser.get(&app.url("/auth/password/new")).await;
        let mut form = hidden_inputs(&page.text);
        set(&mut form, "email", "first@example.com");
        let r = browser.post_form(&app.url("/auth/password"), &form).await;
        statuses.push(r.status.as_u16());
    }
    assert_eq!(statuses, [200, 429]);
}
