//! The storage layer on both backends: migrations in lockstep, case-insensitive uniqueness, JSON and
//! timestamp round trips.

use std::time::Duration;

use futures_util::future::BoxFuture;
use rookery::service::accounts::Role;
use rookery::storage::accounts::{self, ProfileField, ProfileUpdate};
use rookery::storage::writer::Write;
use rookery::storage::{Db, Tx};

use crate::both_backends;
use crate::support::TestApp;

#[test]
fn migrations_exist_for_both_backends_with_the_same_numbers() {
    let list = |kind: &str| -> Vec<String> {
        let dir = format!("{}/migrations/{kind}", env!("CARGO_MANIFEST_DIR"));
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".sql"))
            .collect();
        v.sort();
        v
    };
    let sqlite = list("sqlite");
    assert!(!sqlite.is_empty());
    assert_eq!(
        sqlite,
        list("postgres"),
        "migration files differ between backends"
    );
}

async fn accounts_round_trip(app: TestApp) {
    let db = &app.state.db;
    let id = app.create_user_with_role("Alice", Role::Admin).await;
    let by_name = accounts::find_local_account_by_username(db, "alice")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(by_name.id, id);
    assert_eq!(by_name.username, "Alice");
    assert!(by_name.is_local());
    let user = accounts::find_user_by_login(db, "ALICE@example.com")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(user.account_id, id);
    assert_eq!(user.role, "admin");
    assert!(user.confirmed_at.is_some());
    assert!(
        accounts::find_user_by_login(db, "alice")
            .await
            .unwrap()
            .is_some()
    );

    // JSON and booleans survive the round trip on both backends.
    let mut tx = db.begin().await.unwrap();
    accounts::update_profile(
        &mut tx,
        id,
        &ProfileUpdate {
            fields: Some(vec![ProfileField {
                name: "a".into(),
                value: "<p>b</p>".into(),
                verified_at: None,
            }]),
            locked: Some(true),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let row = accounts::find_account(db, id).await.unwrap().unwrap();
    assert!(row.locked);
    assert_eq!(row.fields.0[0].value, "<p>b</p>");
    assert!(row.updated_at >= row.created_at);

    // A dropped transaction rolls back.
    let mut tx = db.begin().await.unwrap();
    accounts::update_profile(
        &mut tx,
        id,
        &ProfileUpdate {
            locked: Some(false),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    drop(tx);
    assert!(
        accounts::find_account(db, id)
            .await
            .unwrap()
            .unwrap()
            .locked
    );

    // Batch lookup, search, counts.
    let bob = app.create_user("bob").await;
    let found = accounts::find_accounts(db, &[id, bob, 42]).await.unwrap();
    assert_eq!(found.len(), 2);
    let hits = accounts::search_local(db, "ali", 10, 0).await.unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].id, id);
    // LIKE wildcards in the query are literal.
    assert!(
        accounts::search_local(db, "%", 10, 0)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(accounts::count_active_local_users(db).await.unwrap(), 2);
    assert_eq!(
        accounts::first_admin_account(db).await.unwrap().unwrap().id,
        id
    );
}

async fn usernames_and_emails_are_unique_case_insensitively(app: TestApp) {
    app.create_user("carol").await;
    let dup = rookery::service::accounts::create_local(
        &app.state,
        &rookery::service::accounts::CreateLocalAccount {
            username: "CAROL",
            email: "other@example.com",
            password: "long enough password",
            role: Role::User,
            approved: true,
            locale: None,
            reason: None,
            allow_reserved: false,
            confirmed: true,
        },
    )
    .await
    .unwrap_err();
    let body = dup.body();
    assert_eq!(
        body["details"]["username"][0]["error"], "ERR_TAKEN",
        "{body}"
    );
    assert_eq!(
        accounts::count_active_local_users(&app.state.db)
            .await
            .unwrap(),
        1
    );
}

/// A suspended domain covers its subdomains (and any port), but not its parent or a domain that
/// merely ends with the same letters.
async fn domain_suspension_covers_subdomains(app: TestApp) {
    use rookery::service::moderation::block_domain;
    use rookery::storage::domain_blocks::{BlockSettings, is_suspended};
    let suspend = || BlockSettings {
        severity: "suspend".into(),
        ..Default::default()
    };
    block_domain(&app.state, "Evil.Example", suspend())
        .await
        .unwrap();
    block_domain(&app.state, "sub.other.example", suspend())
        .await
        .unwrap();
    let db = &app.state.db;
    for (host, blocked) in [
        ("evil.example", true),
        ("EVIL.example", true),
        ("evil.example:8443", true),
        ("a.evil.example", true),
        ("deep.a.evil.example:443", true),
        ("notevil.example", false),
        ("evil.example.net", false),
        ("sub.other.example", true),
        ("x.sub.other.example", true),
        ("other.example", false),
    ] {
        assert_eq!(is_suspended(db, host).await.unwrap(), blocked, "{host}");
    }
}

async fn insert_instance(tx: &mut Tx, domain: &str) {
    rookery::on_db!(tx, c => sqlx::query("INSERT INTO instances (domain) VALUES ($1)")
        .bind(domain).execute(c).await.map(|_| ()))
    .unwrap();
}

async fn instance_known(db: &Db, domain: &str) -> bool {
    let n: i64 = rookery::on_db!(db, c => sqlx::query_scalar("SELECT count(*) FROM instances WHERE domain = $1")
        .bind(domain).fetch_one(c).await)
    .unwrap();
    n == 1
}

/// A transaction dropped without commit keeps nothing, and the connection it held serves what
/// comes next: on SQLite the rollback is queued on the writer connection before the next
/// transaction can take it.
async fn a_dropped_transaction_keeps_nothing(app: TestApp) {
    let db = &app.state.db;
    for _ in 0..20 {
        let mut tx = db.begin().await.unwrap();
        insert_instance(&mut tx, "dropped.example").await;
        drop(tx);
        assert!(!instance_known(db, "dropped.example").await);
    }
    let mut tx = db.begin().await.unwrap();
    insert_instance(&mut tx, "kept.example").await;
    tx.commit().await.unwrap();
    assert!(instance_known(db, "kept.example").await);
    assert!(!instance_known(db, "dropped.example").await);
}

/// A write for `Db::write`: inserts `domain` as an instance after `pause`, or panics.
struct InsertInstance {
    domain: String,
    pause: Duration,
    panic: bool,
}

impl InsertInstance {
    fn new(domain: &str) -> InsertInstance {
        InsertInstance {
            domain: domain.into(),
            pause: Duration::ZERO,
            panic: false,
        }
    }
}

impl Write for InsertInstance {
    type Output = ();
    type Error = sqlx::Error;

    fn write<'t>(&'t self, tx: &'t mut Tx) -> BoxFuture<'t, sqlx::Result<()>> {
        Box::pin(async move {
            assert!(!self.panic, "boom");
            tokio::time::sleep(self.pause).await;
            rookery::on_db!(tx, c => sqlx::query("INSERT INTO instances (domain) VALUES ($1)")
                .bind(&self.domain).execute(c).await.map(|_| ()))
        })
    }
}

/// A write handed to `Db::write` is finished even when its caller stops waiting (a request whose
/// client went away must not leave half a status), and a panic in it reaches the caller without
/// stopping the writer.
async fn writer_work_outlives_its_caller(app: TestApp) {
    let db = app.state.db.clone();
    let slow = InsertInstance {
        pause: Duration::from_millis(300),
        ..InsertInstance::new("late.example")
    };
    let waited = tokio::time::timeout(Duration::from_millis(20), db.write(slow)).await;
    assert!(waited.is_err(), "the work should still be running");
    assert!(!instance_known(&db, "late.example").await);
    let mut known = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        known = instance_known(&db, "late.example").await;
        if known {
            break;
        }
    }
    assert!(known, "the writer did not finish the transaction");
    let db2 = db.clone();
    let bad = InsertInstance {
        panic: true,
        ..InsertInstance::new("panicked.example")
    };
    let panicked = tokio::spawn(async move { db2.write(bad).await }).await;
    assert!(panicked.unwrap_err().is_panic());
    db.write(InsertInstance::new("after.example"))
        .await
        .unwrap();
    assert!(instance_known(&db, "after.example").await);
    assert!(!instance_known(&db, "panicked.example").await);
}

/// Writes that queue together (on SQLite they share a transaction) each get the outcome they would
/// have had alone: a duplicate fails with its own unique violation and a panic reaches only its
/// caller, while every other write is stored.
async fn queued_writes_each_get_their_own_outcome(app: TestApp) {
    let db = app.state.db.clone();
    // Holds the writers while the rest queue behind them.
    let slow = hold_writers(&db, Duration::from_millis(300));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let mut writes: Vec<InsertInstance> = (0..30)
        .map(|i| InsertInstance::new(&format!("w{i}.example")))
        .collect();
    writes.insert(10, InsertInstance::new("w3.example"));
    writes.insert(
        20,
        InsertInstance {
            panic: true,
            ..InsertInstance::new("panic.example")
        },
    );
    let handles: Vec<_> = writes
        .into_iter()
        .map(|w| {
            let db = db.clone();
            let domain = w.domain.clone();
            (domain, tokio::spawn(async move { db.write(w).await }))
        })
        .collect();
    slow.await.unwrap();
    let (mut stored, mut duplicates, mut panics) = (0, 0, 0);
    for (domain, handle) in handles {
        match handle.await {
            Ok(Ok(())) => stored += 1,
            Ok(Err(e)) => {
                assert!(
                    rookery::storage::db::is_unique_violation(&e),
                    "{domain}: {e}"
                );
                assert_eq!(domain, "w3.example");
                duplicates += 1;
            }
            Err(e) => {
                assert!(e.is_panic());
                assert_eq!(domain, "panic.example");
                panics += 1;
            }
        }
    }
    assert_eq!((stored, duplicates, panics), (30, 1, 1));
    for i in 0..30 {
        assert!(instance_known(&db, &format!("w{i}.example")).await, "w{i}");
    }
    assert!(!instance_known(&db, "panic.example").await);
    // A batch with no failure commits whole.
    let handles: Vec<_> = (0..10)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                db.write(InsertInstance::new(&format!("ok{i}.example")))
                    .await
            })
        })
        .collect();
    for h in handles {
        h.await.unwrap().unwrap();
    }
    for i in 0..10 {
        assert!(instance_known(&db, &format!("ok{i}.example")).await);
    }
}

/// Statuses that queue for the writer together are written with one statement per table
/// (`Write::write_many`): what everyone sees must be the same as when each is written alone.
async fn statuses_written_together_end_up_as_written_alone(together: TestApp) {
    let alone = TestApp::start(together.backend()).await;
    let want = status_scenario(&alone, false).await;
    let stats = together.state.db.writer_stats();
    let got = status_scenario(&together, true).await;
    let after = together.state.db.writer_stats();
    assert_eq!(got, want);
    // Most of the concurrent posts shared a transaction.
    let (writes, transactions) = (
        after.writes - stats.writes,
        after.transactions - stats.transactions,
    );
    assert!(
        writes >= transactions + 5,
        "{writes} writes in {transactions} transactions"
    );
}

/// Holds every writer of `db` for `pause` with a write of its own, so that writes made meanwhile
/// queue into one batch. Await the handle to get the holders' results.
fn hold_writers(db: &Db, pause: Duration) -> tokio::task::JoinHandle<()> {
    let holders: Vec<_> = (0..db.writers())
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                let w = InsertInstance {
                    pause,
                    ..InsertInstance::new(&format!("hold{i}.example"))
                };
                db.write(w).await
            })
        })
        .collect();
    tokio::spawn(async move {
        for h in holders {
            h.await.unwrap().unwrap();
        }
    })
}

/// Posts a mix of statuses (each visibility, hashtags, mentions, a reply, two authors) and
/// returns what each user then sees: home timeline, notifications, counters, the hashtag
/// timeline. With `together`, the posts are sent at once while the writer is held, so that they
/// queue into one batch.
async fn status_scenario(app: &TestApp, together: bool) -> Vec<String> {
    let scopes = "read write follow";
    for name in ["alice", "bob", "carol", "dave"] {
        app.create_user(name).await;
    }
    let mut tokens = std::collections::HashMap::new();
    for name in ["alice", "bob", "carol", "dave"] {
        tokens.insert(name, app.token_for(name, scopes).await);
    }
    let id_of = |name: &'static str| async move {
        let a = app
            .get(&format!("/api/v1/accounts/lookup?acct={name}"), None)
            .await;
        a.json()["id"].as_str().unwrap().to_string()
    };
    let (alice, carol) = (id_of("alice").await, id_of("carol").await);
    // A POST that must succeed; its JSON.
    let post_ok = |who: &'static str, path: String, body: serde_json::Value| {
        let token = tokens[who].clone();
        async move {
            let a = app.post(&path, Some(&token), body).await;
            assert_eq!(a.status, 200, "{}", a.text);
            a.json()
        }
    };
    let follow = |who, whom: &str, notify: bool| {
        let path = format!("/api/v1/accounts/{whom}/follow");
        post_ok(who, path, serde_json::json!({ "notify": notify }))
    };
    follow("bob", &alice, false).await;
    follow("carol", &alice, true).await;
    follow("alice", &carol, false).await;
    let path = "/api/v1/tags/rookery/follow".to_string();
    post_ok("dave", path, serde_json::json!({})).await;
    let post = |(who, body): (&'static str, serde_json::Value)| {
        post_ok(who, "/api/v1/statuses".to_string(), body)
    };
    let start = post((
        "bob",
        serde_json::json!({ "status": "mark00 bob starts a thread" }),
    ))
    .await;
    let posts = vec![
        (
            "alice",
            serde_json::json!({ "status": "mark01 hello #rookery @bob" }),
        ),
        (
            "alice",
            serde_json::json!({ "status": "mark02 unlisted #rookery", "visibility": "unlisted" }),
        ),
        (
            "alice",
            serde_json::json!({ "status": "mark03 followers only", "visibility": "private" }),
        ),
        (
            "alice",
            serde_json::json!({ "status": "mark04 @bob just you", "visibility": "direct" }),
        ),
        (
            "alice",
            serde_json::json!({ "status": "mark05 @bob a reply", "in_reply_to_id": start["id"] }),
        ),
        (
            "carol",
            serde_json::json!({ "status": "mark06 carol says #Rookery" }),
        ),
        (
            "alice",
            serde_json::json!({ "status": "mark07 plain public" }),
        ),
        (
            "carol",
            serde_json::json!({ "status": "mark08 @alice @dave hi", "visibility": "unlisted" }),
        ),
    ];
    if together {
        let hold = hold_writers(&app.state.db, Duration::from_millis(500));
        tokio::time::sleep(Duration::from_millis(50)).await;
        futures_util::future::join_all(posts.into_iter().map(post)).await;
        hold.await.unwrap();
    } else {
        for p in posts {
            post(p).await;
        }
    }
    let mark = |v: &serde_json::Value| -> String {
        let content = v["content"].as_str().unwrap_or_default();
        content
            .find("mark")
            .map(|i| content[i..i + 6].to_string())
            .unwrap_or_default()
    };
    let marks = |list: &serde_json::Value| -> String {
        let mut marks: Vec<String> = list.as_array().unwrap().iter().map(mark).collect();
        marks.sort();
        marks.join(" ")
    };
    let mut seen = Vec::new();
    for name in ["alice", "bob", "carol", "dave"] {
        let token = Some(tokens[name].as_str());
        let home = app
            .get("/api/v1/timelines/home?limit=40", token)
            .await
            .json();
        seen.push(format!("{name} home: {}", marks(&home)));
        let notes = app
            .get("/api/v1/notifications?limit=40", token)
            .await
            .json();
        let mut notes: Vec<String> = notes
            .as_array()
            .unwrap()
            .iter()
            .map(|n| format!("{}:{}", n["type"].as_str().unwrap(), mark(&n["status"])))
            .collect();
        notes.sort();
        seen.push(format!("{name} notifications: {}", notes.join(" ")));
        let me = app
            .get("/api/v1/accounts/verify_credentials", token)
            .await
            .json();
        seen.push(format!("{name} statuses_count: {}", me["statuses_count"]));
    }
    let thread = app
        .get(
            &format!("/api/v1/statuses/{}", start["id"].as_str().unwrap()),
            None,
        )
        .await
        .json();
    seen.push(format!("thread replies_count: {}", thread["replies_count"]));
    let tag = app.get("/api/v1/timelines/tag/rookery", None).await.json();
    seen.push(format!("tag: {}", marks(&tag)));
    seen
}

/// A status whose author has more notify subscribers than a multi-row list takes
/// (`storage::sql::MAX_ROWS`) notifies all of them and reaches all their home feeds.
async fn a_status_notifies_over_a_hundred_subscribers(app: TestApp) {
    use rookery::storage::relationships::{FollowTable, upsert_follow};
    let db = app.state.db.clone();
    let alice = app.create_user("alice").await;
    let token = app.token_for("alice", "read write").await;
    let count = rookery::storage::sql::MAX_ROWS + 20;
    let mut followers = Vec::new();
    for i in 0..count {
        followers.push(app.create_user(&format!("f{i}")).await);
    }
    let mut tx = db.begin().await.unwrap();
    for follower in followers {
        upsert_follow(
            &mut tx,
            FollowTable::Follows,
            follower,
            alice,
            true,
            true,
            None,
        )
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    let posted = app
        .post(
            "/api/v1/statuses",
            Some(&token),
            serde_json::json!({ "status": "to every subscriber" }),
        )
        .await;
    assert_eq!(posted.status, 200, "{}", posted.text);
    let id: i64 = posted.json()["id"].as_str().unwrap().parse().unwrap();
    let counted = |sql: &'static str| {
        let db = db.clone();
        async move {
            let n: i64 =
                rookery::on_db!(&db, c => sqlx::query_scalar(sql).bind(id).fetch_one(c).await)
                    .unwrap();
            n as usize
        }
    };
    assert_eq!(
        counted("SELECT count(*) FROM notifications WHERE status_id = $1 AND type = 'status'")
            .await,
        count
    );
    assert_eq!(
        counted("SELECT count(*) FROM home_feed WHERE status_id = $1").await,
        count + 1
    );
}

both_backends!(
    accounts_round_trip,
    usernames_and_emails_are_unique_case_insensitively,
    domain_suspension_covers_subdomains,
    a_dropped_transaction_keeps_nothing,
    queued_writes_each_get_their_own_outcome,
    writer_work_outlives_its_caller,
    statuses_written_together_end_up_as_written_alone,
    a_status_notifies_over_a_hundred_subscribers
);
