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
    c.find(Locator::Id("username"))
        .await
        .unwrap()
        .send_keys("alice")
        .await
        .unwrap();
    c.find(Locator::Id("password"))
        .await
        .unwrap()
        .send_keys("not my password")
        .await
        .unwrap();
    c.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
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
