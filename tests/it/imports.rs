//! CSV imports and exports in Mastodon's formats (issue 27): a 1,000-row follows file with local,
//! remote (resolved from a second instance on loopback) and unknown accounts; blocks, mutes,
//! blocked servers, bookmarks and lists; exports that import back into a fresh account as the
//! same; overwrite; and malformed files refused with their line.

use serde_json::{Value, json};

use crate::statuses::post;
use crate::support::{Answer, Backend, TestApp};

/// Posts `bytes` as an import of `kind` (`mode` merge or overwrite).
pub async fn import(app: &TestApp, token: &str, kind: &str, mode: &str, bytes: Vec<u8>) -> Answer {
    let form = reqwest::multipart::Form::new()
        .text("type", kind.to_string())
        .text("mode", mode.to_string())
        .part(
            "data",
            reqwest::multipart::Part::bytes(bytes)
                .file_name("import.csv")
                .mime_str("text/csv")
                .unwrap(),
        );
    let resp = app
        .http
        .post(app.url("/api/v1/imports"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    Answer {
        status: resp.status(),
        headers: resp.headers().clone(),
        text: resp.text().await.unwrap(),
    }
}

/// Waits for import `id` to finish; returns it with its failures.
pub async fn finished(app: &TestApp, token: &str, id: &str) -> Value {
    for _ in 0..600 {
        let r = app
            .get(&format!("/api/v1/imports/{id}"), Some(token))
            .await
            .json();
        if r["state"] == "finished" {
            return r;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("import {id} did not finish");
}

async fn import_done(app: &TestApp, token: &str, kind: &str, mode: &str, bytes: Vec<u8>) -> Value {
    let r = import(app, token, kind, mode, bytes).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let id = r.json()["id"].as_str().unwrap().to_string();
    finished(app, token, &id).await
}

async fn export(app: &TestApp, token: &str, file: &str) -> String {
    let r = app
        .get(&format!("/api/v1/exports/{file}"), Some(token))
        .await;
    assert_eq!(r.status, 200, "{file}: {}", r.text);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    r.text
}

fn sorted_lines(s: &str) -> Vec<String> {
    let mut v: Vec<String> = s.lines().map(String::from).collect();
    v.sort();
    v
}

async fn following_count(app: &TestApp, token: &str) -> i64 {
    app.get("/api/v1/accounts/verify_credentials", Some(token))
        .await
        .json()["following_count"]
        .as_i64()
        .unwrap()
}

async fn wait_following(app: &TestApp, token: &str, n: i64) {
    for _ in 0..200 {
        if following_count(app, token).await == n {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "following_count never reached {n}: {}",
        following_count(app, token).await
    );
}

async fn imports_and_exports(app: TestApp) {
    let remote = TestApp::start_with(Backend::Sqlite, |c| {
        c.federation.allow_private_addresses = true
    })
    .await;
    let here = app.state.config.server.domain.clone();
    let there = remote.state.config.server.domain.clone();
    app.create_user("ava").await;
    app.create_user("cy").await;
    let ava = app.token_for("ava", "read write follow").await;
    let cy = app.token_for("cy", "read write follow").await;
    for i in 0..20 {
        app.create_user(&format!("l{i}")).await;
    }
    for i in 0..5 {
        remote.create_user(&format!("r{i}")).await;
    }
    let r0 = remote.token_for("r0", "read write").await;
    let remote_post = post(&remote, &r0, json!({"status": "a post to bookmark"})).await;

    // 1,000 follows: 20 local, 5 remote, 5 unknown there, 970 unknown here.
    let mut csv = String::from("Account address,Show boosts,Notify on new posts,Languages\n");
    let mut unknown_there = Vec::new();
    for i in 0..1000 {
        let line = match i {
            0..20 => format!("l{i}@{here},{},{},\n", i % 2 == 0, i == 3),
            20..25 => format!("@r{}@{there},true,false,\n", i - 20),
            25..30 => {
                unknown_there.push(i + 2);
                format!("ghost{i}@{there},true,false,\n")
            }
            _ => format!("nobody{i},true,false,\n"),
        };
        csv.push_str(&line);
    }
    let done = import_done(&app, &ava, "following", "merge", csv.into_bytes()).await;
    let head = |d: &Value| {
        format!(
            "{} imported, {} failed, first failures {:?}",
            d["imported_items"],
            d["failed_items"],
            d["failures"]
                .as_array()
                .map(|f| f.iter().take(12).collect::<Vec<_>>())
        )
    };
    assert_eq!(done["total_items"], 1000);
    assert_eq!(done["processed_items"], 1000);
    assert_eq!(done["imported_items"], 25, "{}", head(&done));
    assert_eq!(done["failed_items"], 975);
    let failures = done["failures"].as_array().unwrap();
    assert_eq!(failures.len(), 975);
    // The file's line numbers (the header is line 1), with the reason.
    assert_eq!(failures[0]["line"], unknown_there[0]);
    assert_eq!(failures[0]["item"], format!("ghost25@{there}"));
    assert!(
        failures[0]["error"].as_str().unwrap().contains(&there),
        "{}",
        failures[0]
    );
    assert_eq!(failures[5]["line"], 32);
    assert_eq!(failures[5]["error"], "no such account on this server");
    wait_following(&app, &ava, 25).await;
    let l0 = app
        .get("/api/v1/accounts/lookup?acct=l0", Some(&ava))
        .await
        .json();
    let l3 = app
        .get("/api/v1/accounts/lookup?acct=l3", Some(&ava))
        .await
        .json();
    let rel = app
        .get(
            &format!(
                "/api/v1/accounts/relationships?id[]={}&id[]={}",
                l0["id"].as_str().unwrap(),
                l3["id"].as_str().unwrap()
            ),
            Some(&ava),
        )
        .await
        .json();
    assert_eq!(rel[0]["showing_reblogs"], true, "{rel}");
    assert_eq!(rel[1]["showing_reblogs"], false);
    assert_eq!(rel[1]["notifying"], true);
    let list = app.get("/api/v1/imports", Some(&ava)).await.json();
    assert_eq!(list[0]["id"], done["id"]);
    assert!(list[0].get("failures").is_none());

    // The other five kinds, in Mastodon's shapes (blocks, servers, bookmarks, lists without a
    // header row).
    let own = post(&app, &cy, json!({"status": "bookmark me"})).await;
    let own_uri = own["uri"].as_str().unwrap().to_string();
    for (kind, body, imported) in [
        ("blocking", format!("l18@{here}\n@l19@{here}\n"), 2),
        (
            "muting",
            format!("Account address,Hide notifications\nl16@{here},false\nl17@{here},true\n"),
            2,
        ),
        (
            "domain_blocking",
            "Spam.Example\nbad.example\n".to_string(),
            2,
        ),
        (
            "bookmarks",
            format!(
                "{own_uri}\n{}\nhttp://{there}/users/r0/statuses/1\n",
                remote_post["uri"].as_str().unwrap()
            ),
            2,
        ),
        (
            "lists",
            format!("Friends,l0@{here}\nFriends,l1@{here}\nWork,r0@{there}\n"),
            3,
        ),
    ] {
        let done = import_done(&app, &ava, kind, "merge", body.into_bytes()).await;
        assert_eq!(done["imported_items"], imported, "{kind}: {done}");
    }
    // Blocking l18 and l19 ended ava's follows of them.
    wait_following(&app, &ava, 23).await;
    let following = export(&app, &ava, "following_accounts.csv").await;
    assert!(
        following.starts_with("Account address,Show boosts,Notify on new posts,Languages\n"),
        "{following}"
    );
    assert!(
        following.contains(&format!("\nl3@{here},false,true,\n")),
        "{following}"
    );
    assert_eq!(following.lines().count(), 24);
    assert_eq!(
        sorted_lines(&export(&app, &ava, "blocked_accounts.csv").await),
        vec![format!("l18@{here}"), format!("l19@{here}")]
    );
    assert_eq!(
        export(&app, &ava, "muted_accounts.csv").await,
        format!("Account address,Hide notifications\nl17@{here},true\nl16@{here},false\n")
    );
    assert_eq!(
        sorted_lines(&export(&app, &ava, "blocked_domains.csv").await),
        vec!["bad.example", "spam.example"]
    );
    assert_eq!(
        export(&app, &ava, "bookmarks.csv").await,
        format!("{}\n{own_uri}\n", remote_post["uri"].as_str().unwrap())
    );
    assert_eq!(
        sorted_lines(&export(&app, &ava, "lists.csv").await),
        vec![
            format!("Friends,l0@{here}"),
            format!("Friends,l1@{here}"),
            format!("Work,r0@{there}")
        ]
    );
    app.get("/api/v1/exports/passwords.csv", Some(&ava))
        .await
        .assert_error(404);

    // Round trip: everything exported imports into cy as the same (lists once the remote account
    // accepted cy's follow).
    let body = export(&app, &ava, "following_accounts.csv").await;
    let done = import_done(&app, &cy, "following", "merge", body.into_bytes()).await;
    assert_eq!(done["failed_items"], 0, "{done}");
    wait_following(&app, &cy, 23).await;
    for (kind, file) in [
        ("blocking", "blocked_accounts.csv"),
        ("muting", "muted_accounts.csv"),
        ("domain_blocking", "blocked_domains.csv"),
        ("bookmarks", "bookmarks.csv"),
        ("lists", "lists.csv"),
    ] {
        let body = export(&app, &ava, file).await;
        let done = import_done(&app, &cy, kind, "merge", body.into_bytes()).await;
        assert_eq!(done["failed_items"], 0, "{kind}: {done}");
    }
    wait_following(&app, &cy, 23).await;
    for file in [
        "following_accounts.csv",
        "blocked_accounts.csv",
        "muted_accounts.csv",
        "blocked_domains.csv",
        "lists.csv",
    ] {
        assert_eq!(
            sorted_lines(&export(&app, &cy, file).await),
            sorted_lines(&export(&app, &ava, file).await),
            "{file}"
        );
    }
    assert_eq!(
        sorted_lines(&export(&app, &cy, "bookmarks.csv").await),
        sorted_lines(&export(&app, &ava, "bookmarks.csv").await)
    );

    // Overwrite: only what the file lists stays.
    let done = import_done(
        &app,
        &cy,
        "following",
        "overwrite",
        format!("l0@{here}\nl1@{here}\n").into_bytes(),
    )
    .await;
    assert_eq!(done["mode"], "overwrite");
    wait_following(&app, &cy, 2).await;
    let done = import_done(
        &app,
        &cy,
        "domain_blocking",
        "overwrite",
        b"bad.example\n".to_vec(),
    )
    .await;
    assert_eq!(done["imported_items"], 1);
    assert_eq!(
        export(&app, &cy, "blocked_domains.csv").await,
        "bad.example\n"
    );
    let done = import_done(
        &app,
        &cy,
        "lists",
        "overwrite",
        format!("Work,l1@{here}\n").into_bytes(),
    )
    .await;
    assert_eq!(done["imported_items"], 1, "{done}");
    assert_eq!(
        export(&app, &cy, "lists.csv").await,
        format!("Work,l1@{here}\n")
    );

    // Malformed files: 422 with the line; nothing queued.
    let r = import(
        &app,
        &cy,
        "lists",
        "merge",
        b"Friends,a@b.example\nWork\n".to_vec(),
    )
    .await;
    assert_eq!(r.status, 422, "{}", r.text);
    assert!(
        r.json()["error"].as_str().unwrap().contains("line 2"),
        "{}",
        r.text
    );
    let r = import(
        &app,
        &cy,
        "following",
        "merge",
        b"Account address\nalice@a.example\n\xff\n".to_vec(),
    )
    .await;
    assert_eq!(r.status, 422);
    assert!(
        r.json()["error"].as_str().unwrap().contains("line 3"),
        "{}",
        r.text
    );
    for (kind, mode) in [("friends", "merge"), ("following", "replace")] {
        let r = import(&app, &cy, kind, mode, b"a@b.example\n".to_vec()).await;
        assert_eq!(r.status, 422, "{kind} {mode}: {}", r.text);
    }
    let r = import(
        &app,
        &cy,
        "lists",
        "merge",
        b"Account address\na@b.example\n".to_vec(),
    )
    .await;
    assert_eq!(
        r.status, 422,
        "a follows file is not a lists file: {}",
        r.text
    );
    assert_eq!(
        app.get("/api/v1/imports", Some(&cy))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        9
    );
    // Someone else's import is not found; a token without the scope is refused.
    let theirs = list[0]["id"].as_str().unwrap();
    app.get(&format!("/api/v1/imports/{theirs}"), Some(&cy))
        .await
        .assert_error(404);
    let read_only = app.token_for("cy", "read").await;
    let r = import(&app, &read_only, "following", "merge", b"l0\n".to_vec()).await;
    assert_eq!(r.status, 403);
}

/// The importing instance may fetch from the other one on loopback.
async fn start(backend: Backend) -> TestApp {
    TestApp::start_with(backend, |c| c.federation.allow_private_addresses = true).await
}

#[tokio::test]
async fn imports_and_exports_sqlite() {
    imports_and_exports(start(Backend::Sqlite).await).await
}

#[tokio::test]
async fn imports_and_exports_postgres() {
    imports_and_exports(start(Backend::Postgres).await).await
}
