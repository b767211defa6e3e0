//! The storage layer on both backends: migrations in lockstep, case-insensitive uniqueness, JSON and
//! timestamp round trips.

use std::time::Duration;

use futures_util::future::BoxFuture;
use rookery::service::accounts::Role;
use rookery::storage::accounts::{self, ProfileField, ProfileUpdate};
use rookery::storage::writer::Write;
use rookery::storage::{Db, Tx};

use crate::both_backends;
use crate::support::{Backend, TestApp};

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

/// On SQLite, a write handed to the writer thread (`Db::write`) is finished even when its caller
/// stops waiting (a request whose client went away must not leave half a status), and a panic in
/// it reaches the caller without stopping the writer.
#[tokio::test]
async fn writer_work_outlives_its_caller() {
    let app = TestApp::start(Backend::Sqlite).await;
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
    assert!(known, "the writer thread did not finish the transaction");
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
    // Holds the writer while the rest queue behind it.
    let slow = {
        let db = db.clone();
        tokio::spawn(async move {
            let w = InsertInstance {
                pause: Duration::from_millis(300),
                ..InsertInstance::new("first.example")
            };
            db.write(w).await
        })
    };
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
    slow.await.unwrap().unwrap();
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

both_backends!(
    accounts_round_trip,
    usernames_and_emails_are_unique_case_insensitively,
    domain_suspension_covers_subdomains,
    a_dropped_transaction_keeps_nothing,
    queued_writes_each_get_their_own_outcome
);
