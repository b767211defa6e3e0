//! Endorsements, featured hashtags, the profile directory and follow suggestions.

use serde_json::{Value, json};

use crate::both_backends;
use crate::statuses::post;
use crate::support::TestApp;

fn accts(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|a| {
            a.get("account").unwrap_or(a)["username"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

async fn profiles_feature_and_people_are_found(app: TestApp) {
    let mut u = Vec::new();
    for name in ["ana", "bo", "cy", "di", "ed"] {
        let id = app.create_user(name).await;
        u.push((
            id.to_string(),
            app.token_for(name, "read write follow").await,
        ));
    }
    let follow = |who: usize, whom: usize| {
        let (path, token) = (
            format!("/api/v1/accounts/{}/follow", u[whom].0),
            u[who].1.clone(),
        );
        let app = &app;
        async move {
            let r = app.post(&path, Some(&token), json!({})).await;
            assert_eq!(r.status, 200, "{}", r.text);
        }
    };
    follow(0, 1).await; // ana → bo
    follow(1, 2).await; // bo → cy
    follow(3, 2).await; // di → cy
    follow(3, 4).await; // di → ed
    follow(1, 4).await; // bo → ed
    follow(2, 4).await; // cy → ed

    // Endorsements: only followed accounts; Relationship.endorsed follows.
    let ana = &u[0].1;
    app.post(
        &format!("/api/v1/accounts/{}/pin", u[2].0),
        Some(ana),
        json!({}),
    )
    .await
    .assert_error(422);
    let r = app
        .post(
            &format!("/api/v1/accounts/{}/pin", u[1].0),
            Some(ana),
            json!({}),
        )
        .await;
    assert_eq!(r.json()["endorsed"], true, "{}", r.text);
    assert_eq!(
        accts(&app.get("/api/v1/endorsements", Some(ana)).await.json()),
        ["bo"]
    );
    let rel = app
        .get(
            &format!("/api/v1/accounts/relationships?id[]={}", u[1].0),
            Some(ana),
        )
        .await
        .json();
    assert_eq!(rel[0]["endorsed"], true);
    let r = app
        .post(
            &format!("/api/v1/accounts/{}/unpin", u[1].0),
            Some(ana),
            json!({}),
        )
        .await;
    assert_eq!(r.json()["endorsed"], false);
    assert_eq!(
        app.get("/api/v1/endorsements", Some(ana)).await.json(),
        json!([])
    );

    // Featured hashtags with their use; suggestions from what one posts.
    post(&app, ana, json!({"status": "#Herons at dawn"})).await;
    post(&app, ana, json!({"status": "more #herons"})).await;
    post(
        &app,
        ana,
        json!({"status": "#owls", "visibility": "private"}),
    )
    .await;
    let sugg = app
        .get("/api/v1/featured_tags/suggestions", Some(ana))
        .await
        .json();
    assert_eq!(sugg[0]["name"], "Herons", "{sugg}");
    let r = app
        .post(
            "/api/v1/featured_tags",
            Some(ana),
            json!({"name": "#herons"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let ft = r.json();
    assert_eq!(ft["statuses_count"], "2");
    assert!(ft["last_status_at"].as_str().unwrap().len() == 10, "{ft}");
    assert!(
        ft["url"].as_str().unwrap().ends_with("/@ana/tagged/herons"),
        "{ft}"
    );
    app.post(
        "/api/v1/featured_tags",
        Some(ana),
        json!({"name": "not a tag!"}),
    )
    .await
    .assert_error(422);
    let public = app
        .get(&format!("/api/v1/accounts/{}/featured_tags", u[0].0), None)
        .await
        .json();
    assert_eq!(public[0]["id"], ft["id"]);
    let owls = app
        .post("/api/v1/featured_tags", Some(ana), json!({"name": "owls"}))
        .await
        .json();
    assert_eq!(owls["statuses_count"], "0", "private posts do not count");
    let r = app
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/featured_tags/{}", ft["id"].as_str().unwrap()),
            Some(&u[1].1),
            None,
        )
        .await;
    assert_eq!(r.status, 404, "someone else's");
    let r = app
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/featured_tags/{}", ft["id"].as_str().unwrap()),
            Some(ana),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        app.get("/api/v1/featured_tags", Some(ana))
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );

    // Directory: active accounts by latest post; `new` by sign-up.
    post(&app, &u[2].1, json!({"status": "cy was here"})).await;
    let active = app.get("/api/v1/directory?local=true", None).await.json();
    assert_eq!(
        accts(&active),
        ["cy", "ana"],
        "only accounts that posted, latest first"
    );
    let newest = app
        .get("/api/v1/directory?order=new&limit=2", None)
        .await
        .json();
    assert_eq!(accts(&newest), ["ed", "di"]);
    app.get("/api/v1/directory?order=random", None)
        .await
        .assert_error(400);

    // Suggestions: friends of friends first (cy and ed via bo), then the most followed.
    let s = app.get("/api/v2/suggestions", Some(ana)).await.json();
    let names = accts(&s);
    assert_eq!(&names[..2], ["cy", "ed"], "{s}");
    assert_eq!(s[0]["sources"], json!(["friends_of_friends"]));
    assert!(!names.contains(&"bo".to_string()) && !names.contains(&"ana".to_string()));
    let r = app
        .send(
            reqwest::Method::DELETE,
            &format!("/api/v1/suggestions/{}", u[2].0),
            Some(ana),
            None,
        )
        .await;
    assert_eq!(r.status, 200);
    let v1 = app.get("/api/v1/suggestions", Some(ana)).await.json();
    assert!(!accts(&v1).contains(&"cy".to_string()), "dismissed: {v1}");
    assert_eq!(accts(&v1)[0], "ed");
}

both_backends!(profiles_feature_and_people_are_found);
