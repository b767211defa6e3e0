//! Mentions of people never looked up before, between two real instances: a direct message, a
//! group message, a public post and a reply each reach the people they name (WebFinger at posting
//! time) and notify them; a direct message to nobody that can be found is refused with a 422
//! naming the handles, instead of being stored for no one.

use reqwest::Method;
use serde_json::{Value, json};

use crate::federation::{DEV_FEDERATION, Instance, poll_get};
use crate::support::Backend;

/// Waits for a notification of `kind` on `inst` for `token` whose status contains `needle`.
/// Whether a notification of `kind` about a status containing `needle` reached the user, listed or
/// held back by their notification policy (a stranger's direct message waits in a request).
async fn notified(inst: &Instance, token: &str, kind: &str, needle: &str) -> bool {
    poll_get(
        inst,
        token,
        "/api/v1/notifications?include_filtered=true",
        |list| {
            list.as_array().is_some_and(|l| {
                l.iter().any(|n| {
                    n["type"] == kind
                        && n["status"]["content"]
                            .as_str()
                            .is_some_and(|c| c.contains(needle))
                })
            })
        },
    )
    .await
    .is_some()
}

async fn post(inst: &Instance, token: &str, body: Value) -> (u16, Value) {
    inst.send(Method::POST, "/api/v1/statuses", token, body)
        .await
}

async fn unknown_mentions_are_looked_up(a_backend: Backend, b_backend: Backend) {
    let a = Instance::start(a_backend, DEV_FEDERATION).await;
    let b = Instance::start(b_backend, DEV_FEDERATION).await;
    let alice = a.user("alice").await;
    let mut on_b = Vec::new();
    for name in ["bob", "carol", "dave", "erin"] {
        on_b.push(b.user(name).await);
    }
    let [bob, carol, dave, erin] = &on_b[..] else {
        unreachable!()
    };
    let d = &b.domain;

    // A direct message to someone A has never seen.
    let (s, dm) = post(
        &a,
        &alice,
        json!({"status": format!("@bob@{d} just you, bob"), "visibility": "direct"}),
    )
    .await;
    assert_eq!(s, 200, "{dm}\n{}", a.log());
    assert_eq!(dm["mentions"][0]["acct"], format!("bob@{d}"), "{dm}");
    assert!(
        dm["content"].as_str().unwrap().contains("u-url mention"),
        "{dm}"
    );
    assert!(
        notified(&b, bob, "mention", "just you, bob").await,
        "bob did not get the message\n{}\n{}",
        a.log(),
        b.log()
    );
    let convs = poll_get(&b, bob, "/api/v1/conversations", |c| {
        c.as_array().is_some_and(|c| !c.is_empty())
    })
    .await;
    assert!(convs.is_some(), "no conversation for bob");

    // A group message naming two more strangers (one already known since the first message).
    let (s, group) = post(
        &a,
        &alice,
        json!({"status": format!("@bob@{d} @carol@{d} group hello"), "visibility": "direct"}),
    )
    .await;
    assert_eq!(s, 200, "{group}");
    assert_eq!(group["mentions"].as_array().unwrap().len(), 2, "{group}");
    for who in [bob, carol] {
        assert!(
            notified(&b, who, "mention", "group hello").await,
            "{}",
            b.log()
        );
    }

    // A public post and a reply, each naming someone never seen.
    let (s, public) = post(&a, &alice, json!({"status": format!("hi @dave@{d}!")})).await;
    assert_eq!(s, 200, "{public}");
    assert!(notified(&b, dave, "mention", "hi ").await, "{}", b.log());
    let (s, reply) = post(
        &a,
        &alice,
        json!({"status": format!("@erin@{d} see above"), "in_reply_to_id": public["id"]}),
    )
    .await;
    assert_eq!(s, 200, "{reply}");
    assert!(
        notified(&b, erin, "mention", "see above").await,
        "{}",
        b.log()
    );

    // Nobody to deliver to: refused, naming the handles; nothing is stored.
    let before =
        a.get("/api/v1/accounts/verify_credentials", &alice).await.1["statuses_count"].clone();
    let (s, err) = post(
        &a,
        &alice,
        json!({"status": format!("@nobody@{d} @ghost@localhost:1 anyone?"), "visibility": "direct"}),
    )
    .await;
    assert_eq!(s, 422, "{err}");
    let msg = err["error"].as_str().unwrap();
    assert!(
        msg.contains(&format!("@nobody@{d}")) && msg.contains("@ghost@localhost:1"),
        "{msg}"
    );
    let after =
        a.get("/api/v1/accounts/verify_credentials", &alice).await.1["statuses_count"].clone();
    assert_eq!(before, after);
    // A public post naming nobody is posted, the mention left as text.
    let (s, plain) = post(&a, &alice, json!({"status": format!("thanks @nobody@{d}")})).await;
    assert_eq!(s, 200, "{plain}");
    assert_eq!(plain["mentions"], json!([]));
}

#[tokio::test]
async fn unknown_mentions_are_looked_up_sqlite_to_postgres() {
    unknown_mentions_are_looked_up(Backend::Sqlite, Backend::Postgres).await
}

#[tokio::test]
async fn unknown_mentions_are_looked_up_postgres_to_sqlite() {
    unknown_mentions_are_looked_up(Backend::Postgres, Backend::Sqlite).await
}
