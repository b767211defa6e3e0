//! The storage layer on both backends: migrations in lockstep, case-insensitive uniqueness, JSON and
//! timestamp round trips.

use rookery::service::accounts::Role;
use rookery::storage::accounts::{self, ProfileField, ProfileUpdate};

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

both_backends!(
    accounts_round_trip,
    usernames_and_emails_are_unique_case_insensitively,
    domain_suspension_covers_subdomains
);
