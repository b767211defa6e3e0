//! Client addresses behind a real reverse proxy: nginx (Debian's package; `scripts/test` installs
//! it) on loopback in front of Rookery. Two clients connecting to nginx from different addresses
//! (127.0.0.2 and 127.0.0.3) get separate sign-in budgets when nginx is a trusted proxy, and share
//! nginx's when it is not; a client talking to Rookery directly cannot pick its budget with a forged
//! `X-Forwarded-For`.

use std::net::IpAddr;

use serde_json::json;

use crate::support::binary::free_port;
use crate::support::{Backend, TestApp};

/// nginx proxying 127.0.0.1:port to `upstream`.
struct Nginx {
    port: u16,
    _nginx: crate::support::nginx::Nginx,
}

async fn nginx(upstream: &str) -> Nginx {
    let port = free_port();
    let http = format!(
        "  server {{\n    listen 127.0.0.1:{port};\n    location / {{\n\
               proxy_pass http://{upstream};\n      proxy_set_header Host $http_host;\n\
               proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n    }}\n  }}"
    );
    Nginx {
        port,
        _nginx: crate::support::nginx::start(&http, port).await,
    }
}

/// A client whose connections come from `from`.
fn client_from(from: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(from.parse::<IpAddr>().unwrap())
        .build()
        .unwrap()
}

/// One failed password sign-in for a fresh name through `base`; the status.
async fn failed_sign_in(
    http: &reqwest::Client,
    base: &str,
    app: &(String, String),
    n: usize,
    forged: Option<&str>,
) -> u16 {
    let mut req = http.post(format!("{base}/oauth/token")).json(&json!({
        "grant_type": "password", "client_id": app.0, "client_secret": app.1,
        "username": format!("nobody{n}"), "password": "wrong",
    }));
    if let Some(f) = forged {
        req = req.header("x-forwarded-for", f);
    }
    req.send().await.unwrap().status().as_u16()
}

/// Four failed sign-ins sent straight to Rookery from `from`, each claiming another client in
/// `X-Forwarded-For`; their statuses.
async fn forged_direct(app: &TestApp, oauth: &(String, String), from: &str, n0: usize) -> Vec<u16> {
    let direct = format!("http://{}", app.addr);
    let client = client_from(from);
    let mut statuses = Vec::new();
    for n in 0..4 {
        let forged = format!("198.51.100.{n}");
        statuses.push(failed_sign_in(&client, &direct, oauth, n0 + n, Some(&forged)).await);
    }
    statuses
}

async fn app_trusting(proxies: &[&str]) -> TestApp {
    let proxies: Vec<String> = proxies.iter().map(|p| p.to_string()).collect();
    TestApp::start_with(Backend::Sqlite, move |c| {
        c.rate_limits.sign_in_per_ip = 3;
        c.rate_limits.sign_in_per_account = 100;
        c.server.trusted_proxies = proxies;
    })
    .await
}

/// An app trusting `proxies`, an OAuth app on it, and nginx in front of it (with its address).
async fn behind_nginx(proxies: &[&str]) -> (TestApp, (String, String), Nginx, String) {
    let app = app_trusting(proxies).await;
    let oauth = app.register_app("read", "urn:ietf:wg:oauth:2.0:oob").await;
    let proxy = nginx(&app.addr.to_string()).await;
    let via = format!("http://127.0.0.1:{}", proxy.port);
    (app, oauth, proxy, via)
}

#[tokio::test]
async fn forwarded_clients_have_their_own_budgets_behind_a_trusted_proxy() {
    let (app, oauth, _proxy, via) = behind_nginx(&["127.0.0.1/32"]).await;
    let (one, two) = (client_from("127.0.0.2"), client_from("127.0.0.3"));

    for n in 0..3 {
        assert_eq!(failed_sign_in(&one, &via, &oauth, n, None).await, 400);
    }
    assert_eq!(failed_sign_in(&one, &via, &oauth, 3, None).await, 429);
    // The second client, through the same proxy, still has its budget.
    assert_eq!(failed_sign_in(&two, &via, &oauth, 4, None).await, 400);
    // What a client writes in its own X-Forwarded-For does not move it into another budget: nginx
    // appends the real address, and that is the one read.
    assert_eq!(
        failed_sign_in(&one, &via, &oauth, 5, Some("203.0.113.9")).await,
        429
    );

    // Talking to Rookery directly from an untrusted address, a forged header changes nothing.
    assert_eq!(
        forged_direct(&app, &oauth, "127.0.0.4", 10).await,
        vec![400, 400, 400, 429]
    );
}

#[tokio::test]
async fn without_trusted_proxies_everyone_behind_the_proxy_shares_its_budget() {
    let (app, oauth, _proxy, via) = behind_nginx(&[]).await;
    let (one, two) = (client_from("127.0.0.2"), client_from("127.0.0.3"));
    for n in 0..3 {
        assert_eq!(failed_sign_in(&one, &via, &oauth, n, None).await, 400);
    }
    assert_eq!(failed_sign_in(&two, &via, &oauth, 3, None).await, 429);
    // A forged header from a peer that is not trusted is not read either.
    assert_eq!(
        forged_direct(&app, &oauth, "127.0.0.5", 20).await,
        vec![400, 400, 400, 429]
    );
}
