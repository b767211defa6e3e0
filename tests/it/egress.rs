//! The outgoing-request guard (`rookery::net`) end to end: a trap listens on loopback (every
//! interface, IPv4 and IPv6), and preview cards, remote media, avatars, WebFinger, actor fetches,
//! Web Push and redirects are pointed at it in every spelling of an inward address. Nothing may
//! reach it.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde_json::json;

use crate::media::remote_media;
use crate::support::{Backend, TestApp};

/// Counts the connections made to a listener on `[::]:port` (dual stack: 127.0.0.1, ::1, 0.0.0.0
/// and `::ffff:127.0.0.1` all arrive here).
async fn trap() -> (u16, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("[::]:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            h.fetch_add(1, Ordering::SeqCst);
            use tokio::io::AsyncWriteExt;
            let _ = sock
                .write_all(b"HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 34\r\n\r\n<html><title>leak</title></html>\r\n")
                .await;
        }
    });
    (port, hits)
}

/// The inward spellings of the trap's address: names, IPv4 in its odd forms, IPv6 loopback and
/// the IPv4-mapped forms the old guard missed.
fn inward_hosts(port: u16) -> Vec<String> {
    [
        "localhost",
        "127.0.0.1",
        "127.1",
        "2130706433",
        "0x7f.0.0.1",
        "0.0.0.0",
        "[::1]",
        "[::]",
        "[::ffff:127.0.0.1]",
        "[::ffff:7f00:1]",
        "[::ffff:0.0.0.0]",
    ]
    .iter()
    .map(|h| format!("{h}:{port}"))
    .collect()
}

/// An app that guards its outgoing requests as a production one does, except that 127.0.0.3 (the
/// redirector) is an allowed private address.
async fn guarded_app() -> TestApp {
    TestApp::start_with(Backend::Sqlite, |c| {
        c.federation.allow_private_addresses = false;
        c.federation.allow_http = Some(true);
        c.federation.allowed_private_addresses = vec!["127.0.0.3/32".into()];
    })
    .await
}

/// Both clients the server has refuse `host` before connecting: the one for media, cards, stories,
/// NodeInfo and Web Push, and the one `activitypub_federation` uses.
async fn both_clients_refuse(app: &TestApp, host: &str) {
    let e = app
        .state
        .http_client
        .get(format!("http://{host}/direct"))
        .send()
        .await
        .expect_err("the media client must refuse");
    assert!(rookery::net::is_refused(&e), "{host}: {e}");
    let e = app
        .state
        .egress
        .federation_client(Duration::from_secs(5))
        .unwrap()
        .build()
        .get(format!("http://{host}/users/x"))
        .send()
        .await
        .expect_err("the federation client must refuse");
    assert!(rookery::net::is_refused(&e), "{host}: {e}");
}

/// Waits (30 s at most: a refused name may first wait for a resolver that has no answer) until
/// no job of `kind` is left (done or given up).
async fn jobs_drained(app: &TestApp, kind: &str) {
    for _ in 0..600 {
        if rookery::jobs::count(&app.state.db, kind).await.unwrap() == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{kind} jobs did not finish");
}

#[tokio::test]
async fn nothing_reaches_an_inward_address() {
    let (port, hits) = trap().await;
    let app = guarded_app().await;
    let uid = app.create_user("ora").await;
    let ora = app.token_for("ora", "read write push").await;
    let hosts = inward_hosts(port);

    for host in &hosts {
        // Preview cards: the link in a status is fetched by the card job.
        let r = app
            .post(
                "/api/v1/statuses",
                Some(&ora),
                json!({"status": format!("see http://{host}/page")}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        // Remote media and avatars: fetched on first view through /media_proxy.
        let media = remote_media(&app, uid, "image", &format!("http://{host}/a.png")).await;
        app.get(&format!("/media_proxy/{media}/original"), None)
            .await
            .assert_error(404);
        let account = rookery::storage::accounts::find_account(&app.state.db, uid)
            .await
            .unwrap()
            .unwrap();
        let avatar = url::Url::parse(&format!("http://{host}/avatar-{media}.png")).unwrap();
        rookery::service::media::refresh_remote_profile_images(
            &app.state,
            &account,
            Some(&avatar),
            None,
        )
        .await
        .unwrap();
        let account = rookery::storage::accounts::find_account(&app.state.db, uid)
            .await
            .unwrap()
            .unwrap();
        let avatar_id = account.avatar_media_id.expect("avatar row");
        app.get(&format!("/media_proxy/{avatar_id}/original"), None)
            .await
            .assert_error(404);
        // WebFinger and actor fetches.
        let r = app
            .get(
                &format!("/api/v1/accounts/lookup?acct=someone@{host}"),
                Some(&ora),
            )
            .await;
        assert_eq!(r.status, 404, "{host}: {}", r.text);
        let r = app
            .get(
                &format!(
                    "/api/v2/search?resolve=true&type=accounts&q={}",
                    urlencoding::encode(&format!("http://{host}/users/someone"))
                ),
                Some(&ora),
            )
            .await;
        assert!(
            r.status == 200 && r.json()["accounts"] == json!([]),
            "{host}: {}",
            r.text
        );
        both_clients_refuse(&app, host).await;
    }
    // Forms that cannot reach the trap here (cloud metadata, private networks, IPv4 inside IPv6,
    // multicast, reserved, broadcast) are refused by both clients before any connection.
    for host in [
        "169.254.169.254",
        "[::ffff:169.254.169.254]",
        "[::ffff:a9fe:a9fe]",
        "10.0.0.5:8443",
        "172.16.0.1",
        "192.168.1.1",
        "100.64.0.1",
        "[::127.0.0.1]",
        "[64:ff9b::127.0.0.1]",
        "[64:ff9b::a9fe:a9fe]",
        "[2002:7f00:1::]",
        "[2002:a9fe:a9fe::]",
        "[fd00::1]",
        "[fe80::1]",
        "224.0.0.1",
        "240.0.0.1",
        "255.255.255.255",
    ] {
        both_clients_refuse(&app, host).await;
        let media = remote_media(&app, uid, "image", &format!("http://{host}/a.png")).await;
        app.get(&format!("/media_proxy/{media}/original"), None)
            .await
            .assert_error(404);
    }
    // Web Push: an IP-literal endpoint is refused when subscribing…
    for host in hosts.iter().filter(|h| !h.starts_with("localhost")) {
        let r = crate::push::subscribe_form(&app, &ora, &format!("http://{host}/push"), &[]).await;
        r.assert_error(422);
    }
    // …and a name resolving inwards is refused when sending (a notification triggers one).
    let r = crate::push::subscribe_form(
        &app,
        &ora,
        &format!("http://localhost:{port}/push"),
        &[("data[alerts][follow]", "true")],
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    app.create_user("pia").await;
    let pia = app.token_for("pia", "read write follow").await;
    let r = app
        .post(
            &format!("/api/v1/accounts/{uid}/follow"),
            Some(&pia),
            json!({}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    jobs_drained(&app, rookery::service::push::DELIVER_JOB).await;
    jobs_drained(&app, rookery::service::cards::FETCH_JOB).await;

    assert_eq!(hits.load(Ordering::SeqCst), 0, "a request reached the trap");
    // The trap does answer when asked directly, so a zero above means something.
    let _ = reqwest::get(format!("http://127.0.0.1:{port}/")).await;
    assert_eq!(hits.load(Ordering::SeqCst), 1);
}

/// A server at an allowed address (127.0.0.3) that redirects to `?to=`; counts its requests.
async fn redirector() -> (SocketAddr, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let h = hits.clone();
    let app = axum::Router::new().route(
        "/r",
        axum::routing::get(
            move |axum::extract::Query(q): axum::extract::Query<
                std::collections::HashMap<String, String>,
            >| {
                h.fetch_add(1, Ordering::SeqCst);
                async move {
                    (
                        axum::http::StatusCode::FOUND,
                        [(axum::http::header::LOCATION, q["to"].clone())],
                    )
                }
            },
        ),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.3:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (addr, hits)
}

/// Redirects from an allowed server to each inward spelling are refused hop by hop, for cards,
/// media and plain fetches alike; the first hop is made, the second never.
#[tokio::test]
async fn redirects_to_inward_addresses_are_refused() {
    let (port, hits) = trap().await;
    let (redir, redirects) = redirector().await;
    let app = guarded_app().await;
    let uid = app.create_user("quin").await;
    let quin = app.token_for("quin", "read write").await;
    for host in inward_hosts(port) {
        let to = urlencoding::encode(&format!("http://{host}/x")).into_owned();
        let via = format!("http://{redir}/r?to={to}");
        let r = app
            .post(
                "/api/v1/statuses",
                Some(&quin),
                json!({"status": format!("see {via}")}),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let media = remote_media(&app, uid, "image", &via).await;
        app.get(&format!("/media_proxy/{media}/original"), None)
            .await
            .assert_error(404);
        let e = app
            .state
            .http_client
            .get(&via)
            .send()
            .await
            .expect_err("the redirect must be refused");
        assert!(rookery::net::is_refused(&e), "{host}: {e}");
    }
    jobs_drained(&app, rookery::service::cards::FETCH_JOB).await;
    assert!(
        redirects.load(Ordering::SeqCst) >= 2 * 11,
        "the first hop was not made"
    );
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "a redirect reached the trap"
    );
}
