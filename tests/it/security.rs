//! Account security: changing the password and e-mail address from `/auth/edit` (with the current
//! password; a new address confirmed by a real mail), and two-factor sign-in — enrolled on
//! `/settings/two_factor` in headless Chromium, then asked for on both sign-in pages, with
//! recovery codes that work once and a password grant that is refused.

use fantoccini::Locator;

use crate::mail::{app_with_sink, link_in, mails};
use crate::support::forms::{FormClient, hidden_inputs, set};
use crate::support::{Backend, TestApp};

/// Signs a form client in through `/auth/sign_in` (no second factor).
async fn sign_in(app: &TestApp, browser: &mut FormClient, login: &str, password: &str) {
    let page = browser.get(&app.url("/auth/sign_in")).await;
    let mut form = hidden_inputs(&page.text);
    set(&mut form, "username", login);
    set(&mut form, "password", password);
    let r = browser.post_form(&app.url("/auth/sign_in"), &form).await;
    assert_eq!(r.status, 303, "{}", r.text);
}

fn csrf(browser: &FormClient) -> String {
    browser
        .cookies
        .iter()
        .find(|(k, _)| k.contains("csrf"))
        .map(|(_, v)| v.clone())
        .expect("a CSRF cookie")
}

async fn account_form(
    app: &TestApp,
    browser: &mut FormClient,
    fields: &[(&str, &str)],
) -> crate::support::Answer {
    let mut form = vec![("authenticity_token".to_string(), csrf(browser))];
    form.extend(fields.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    browser.post_form(&app.url("/auth/edit"), &form).await
}

/// `action=password` on `/auth/edit`.
async fn change_password(
    app: &TestApp,
    browser: &mut FormClient,
    current: &str,
    new: &str,
) -> crate::support::Answer {
    let fields = [
        ("action", "password"),
        ("current_password", current),
        ("password", new),
        ("password_confirmation", new),
    ];
    account_form(app, browser, &fields).await
}

/// `action=email` on `/auth/edit`.
async fn change_email(
    app: &TestApp,
    browser: &mut FormClient,
    current: &str,
    email: &str,
) -> crate::support::Answer {
    let fields = [
        ("action", "email"),
        ("current_password", current),
        ("email", email),
    ];
    account_form(app, browser, &fields).await
}

async fn password_and_email_changes(backend: Backend) {
    let (app, sink) = app_with_sink(backend).await;
    app.create_user("mover").await;
    let old_token = app.token_for("mover", "read").await;

    // Signed out: the page sends the browser to sign in and back.
    let mut browser = FormClient::new();
    let r = browser.get(&app.url("/auth/edit")).await;
    assert_eq!(r.status, 303);
    assert_eq!(
        r.header("location"),
        Some("/auth/sign_in?next=%2Fauth%2Fedit")
    );
    sign_in(&app, &mut browser, "mover@example.com", "password-mover").await;
    let page = browser.get(&app.url("/auth/edit")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("mover@example.com"));

    // The current password is required, and the new one must be acceptable.
    let r = change_password(&app, &mut browser, "wrong", "a new passphrase").await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("current password is wrong"), "{}", r.text);
    let r = change_password(&app, &mut browser, "password-mover", "short").await;
    assert_eq!(r.status, 422);
    let before = app
        .get("/api/v1/accounts/verify_credentials", Some(&old_token))
        .await;
    assert_eq!(before.status, 200, "refusals changed nothing");
    let r = change_password(&app, &mut browser, "password-mover", "a new passphrase").await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Every other session and token is gone; this browser stays signed in.
    app.get("/api/v1/accounts/verify_credentials", Some(&old_token))
        .await
        .assert_error(401);
    assert_eq!(browser.get(&app.url("/auth/edit")).await.status, 200);
    let client = app.register_app("read", "urn:ietf:wg:oauth:2.0:oob").await;
    let grant =
        |password: &'static str| app.password_grant(&client, "mover@example.com", password, "read");
    grant("password-mover").await.assert_error(400);
    assert_eq!(grant("a new passphrase").await.status, 200);

    // A new address waits for its confirmation link; the old one works meanwhile.
    let r = change_email(&app, &mut browser, "a new passphrase", "not-an-address").await;
    assert_eq!(r.status, 422);
    let r = change_email(&app, &mut browser, "a new passphrase", "moved@example.com").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert!(
        r.text.contains("moved@example.com"),
        "pending shown: {}",
        r.text
    );
    let mail = mails(sink.dir.path(), 1).await.remove(0);
    assert!(mail.contains("To: moved@example.com"), "{mail}");
    assert_eq!(
        grant("a new passphrase").await.status,
        200,
        "old address still signs in"
    );
    let path = link_of_mail(&mail, &app);
    assert_eq!(app.get(&path, None).await.status, 200);
    let page = browser.get(&app.url("/auth/edit")).await;
    assert!(
        page.text.contains("<strong>moved@example.com</strong>"),
        "{}",
        page.text
    );
    let r = app
        .password_grant(&client, "moved@example.com", "a new passphrase", "read")
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // The link works once.
    app.get(&path, None).await;

    // Someone else who asked for the same address meanwhile is told it is taken, and keeps theirs.
    app.create_user("rival").await;
    let mut rival = FormClient::new();
    sign_in(&app, &mut rival, "rival@example.com", "password-rival").await;
    let r = change_email(&app, &mut rival, "password-rival", "taken@example.com").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = change_email(&app, &mut browser, "a new passphrase", "taken@example.com").await;
    assert_eq!(r.status, 200, "{}", r.text);
    let sent = mails(sink.dir.path(), 3).await;
    // Both links go to the same address; the mover follows theirs first.
    let link_for = |name: &str| {
        let to_them: Vec<&String> = sent
            .iter()
            .filter(|m| m.contains("To: taken@example.com") && m.contains(&format!("Hello {name}")))
            .collect();
        assert_eq!(to_them.len(), 1, "one link for {name}");
        link_of_mail(to_them[0], &app)
    };
    let (mover_link, rival_link) = (link_for("mover"), link_for("rival"));
    assert_eq!(app.get(&mover_link, None).await.status, 200);
    let late = app.get(&rival_link, None).await;
    assert_eq!(late.status, 422, "{}", late.text);
    assert!(late.text.contains("taken"), "{}", late.text);
    let page = rival.get(&app.url("/auth/edit")).await;
    assert!(
        page.text.contains("<strong>rival@example.com</strong>"),
        "{}",
        page.text
    );
    assert_eq!(
        grant("a new passphrase").await.status,
        400,
        "the old address is gone"
    );
}

#[tokio::test]
async fn password_and_email_changes_on_sqlite() {
    password_and_email_changes(Backend::Sqlite).await
}

#[tokio::test]
async fn password_and_email_changes_on_postgres() {
    password_and_email_changes(Backend::Postgres).await
}

/// The path of the link in a mail from `app`.
fn link_of_mail(mail: &str, app: &TestApp) -> String {
    link_in(mail)
        .split_once(&app.state.config.base_url())
        .unwrap()
        .1
        .to_string()
}

/// A TOTP code for `secret` (base32) at `offset` seconds from now.
fn code(secret: &str, offset: i64) -> String {
    let t = totp_rs::Builder::new()
        .with_secret(totp_rs::Secret::try_from_base32(secret).unwrap())
        .with_account_name("test")
        .build()
        .unwrap();
    let now = chrono::Utc::now().timestamp() + offset;
    t.generate(now as u64).to_string()
}

#[tokio::test]
async fn two_factor_sign_in_in_chromium() {
    let app = TestApp::start(Backend::Sqlite).await;
    app.create_user("careful").await;
    let browser = crate::support::browser::Browser::start().await;
    let c = &browser.client;

    // Sign in, then set it up from the settings page.
    c.goto(&app.url("/settings/two_factor")).await.unwrap();
    browser.fill("username", "careful").await;
    browser.fill("password", "password-careful").await;
    browser.submit().await;
    c.wait()
        .for_element(Locator::Css("input[name=action][value=setup]"))
        .await
        .unwrap();
    browser.submit().await;
    let secret = c
        .wait()
        .for_element(Locator::Id("otp-secret"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        c.find(Locator::Css("#qr svg")).await.is_ok(),
        "a QR code is shown"
    );
    // A wrong code is refused and the same enrolment is shown again.
    browser.fill("code", "000000").await;
    browser.fill("current_password", "password-careful").await;
    browser.submit().await;
    let alert = c
        .wait()
        .for_element(Locator::Css("[role=alert]"))
        .await
        .unwrap();
    assert!(alert.text().await.unwrap().contains("wrong"));
    assert_eq!(
        c.find(Locator::Id("otp-secret"))
            .await
            .unwrap()
            .text()
            .await
            .unwrap(),
        secret
    );
    browser.fill("code", &code(&secret, 0)).await;
    browser.fill("current_password", "password-careful").await;
    browser.submit().await;
    let list = c
        .wait()
        .for_element(Locator::Id("recovery-codes"))
        .await
        .unwrap();
    let codes: Vec<String> = list
        .text()
        .await
        .unwrap()
        .lines()
        .map(|l| l.trim().to_string())
        .filter(|l| !l.is_empty())
        .collect();
    assert_eq!(codes.len(), 10, "{codes:?}");

    // The password grant now refuses the account.
    let client = app.register_app("read", "urn:ietf:wg:oauth:2.0:oob").await;
    let id = &client.0;
    let r = app
        .password_grant(&client, "careful", "password-careful", "read")
        .await;
    let e = r.assert_error(400);
    assert!(
        e["error_description"]
            .as_str()
            .unwrap()
            .contains("two-factor"),
        "{e}"
    );

    // Signing in again asks for a code after the password.
    c.delete_all_cookies().await.unwrap();
    c.goto(&app.url("/auth/sign_in?next=/auth/edit"))
        .await
        .unwrap();
    browser.fill("username", "careful").await;
    browser.fill("password", "password-careful").await;
    browser.submit().await;
    let field = c
        .wait()
        .for_element(Locator::Id("otp_attempt"))
        .await
        .unwrap();
    field.send_keys("123456").await.unwrap();
    browser.submit().await;
    let alert = c
        .wait()
        .for_element(Locator::Css("[role=alert]"))
        .await
        .unwrap();
    assert!(
        alert
            .text()
            .await
            .unwrap()
            .contains("Invalid two-factor code")
    );
    // The code of the step used at enrolment is never accepted again; the next step's is.
    browser.fill("otp_attempt", &code(&secret, 30)).await;
    browser.submit().await;
    c.wait()
        .for_element(Locator::Css("input[name=action][value=email]"))
        .await
        .unwrap();
    assert!(
        c.current_url()
            .await
            .unwrap()
            .as_str()
            .ends_with("/auth/edit")
    );

    // The OAuth sign-in page asks too; a recovery code passes once.
    let mut form_browser = FormClient::new();
    let authorize = format!(
        "/oauth/authorize?client_id={id}&redirect_uri=urn:ietf:wg:oauth:2.0:oob&response_type=code&scope=read"
    );
    for (attempt, expect_ok) in [(codes[0].to_uppercase(), true), (codes[0].clone(), false)] {
        form_browser.cookies.clear();
        let page = form_browser.get(&app.url(&authorize)).await;
        let mut form = hidden_inputs(&page.text);
        set(&mut form, "username", "careful");
        set(&mut form, "password", "password-careful");
        let step = form_browser
            .post_form(&app.url("/oauth/authorize"), &form)
            .await;
        assert_eq!(step.status, 200, "{}", step.text);
        assert!(step.text.contains("otp_attempt"), "{}", step.text);
        let mut form = hidden_inputs(&step.text);
        set(&mut form, "otp_attempt", &attempt);
        let r = form_browser
            .post_form(&app.url("/oauth/authorize"), &form)
            .await;
        if expect_ok {
            assert_eq!(r.status, 200, "{}", r.text);
            assert!(
                r.text.contains("value=\"approve\""),
                "the consent page: {}",
                r.text
            );
        } else {
            assert_eq!(r.status, 401, "a used recovery code: {}", r.text);
        }
    }
}
