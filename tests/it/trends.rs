//! Trends: hashtags by distinct accounts in public posts of the last two days, statuses by
//! engagement; private posts, replies and blocked authors stay out.

use serde_json::{Value, json};

use crate::both_backends;
use crate::statuses::post;
use crate::support::TestApp;

fn field(list: &Value, key: &str) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|t| t[key].as_str().unwrap().to_string())
        .collect()
}

async fn trends_rank_tags_and_statuses(app: TestApp) {
    let mut t = Vec::new();
    for name in ["ana", "bo", "cy", "di"] {
        let id = app.create_user(name).await;
        t.push((id, app.token_for(name, "read write follow").await));
    }
    let (ana, bo, cy, di) = (&t[0].1, &t[1].1, &t[2].1, &t[3].1);
    for who in [ana, bo, cy] {
        post(&app, who, json!({"status": "spotted #Birds today"})).await;
    }
    post(&app, ana, json!({"status": "#cats"})).await;
    post(&app, ana, json!({"status": "#cats again"})).await;
    post(
        &app,
        bo,
        json!({"status": "#secret plans", "visibility": "private"}),
    )
    .await;
    let tags = app.get("/api/v1/trends/tags", None).await;
    assert_eq!(tags.status, 200, "{}", tags.text);
    let tags = tags.json();
    assert_eq!(field(&tags, "name"), ["Birds", "cats"], "{tags}");
    assert_eq!(tags[0]["history"][0]["accounts"], "3");
    assert_eq!(tags[1]["history"][0]["uses"], "2");
    assert_eq!(
        app.get("/api/v1/trends?limit=1", None)
            .await
            .json()
            .as_array()
            .unwrap()
            .len(),
        1
    );
    let second = app
        .get("/api/v1/trends/tags?offset=1", Some(di))
        .await
        .json();
    assert_eq!(field(&second, "name"), ["cats"]);
    assert_eq!(second[0]["following"], false);

    // Statuses: engagement, newer counting more; no replies, private posts or quiet ones.
    let liked = post(&app, ana, json!({"status": "liked twice"})).await;
    let boosted = post(&app, bo, json!({"status": "boosted and liked"})).await;
    let quiet = post(&app, cy, json!({"status": "nobody noticed"})).await;
    let hidden = post(
        &app,
        cy,
        json!({"status": "followers only", "visibility": "private"}),
    )
    .await;
    let reply = post(
        &app,
        di,
        json!({"status": "a reply", "in_reply_to_id": liked["id"]}),
    )
    .await;
    for (who, s, action) in [
        (bo, &liked, "favourite"),
        (cy, &liked, "favourite"),
        (cy, &boosted, "reblog"),
        (di, &boosted, "favourite"),
        (ana, &hidden, "favourite"),
        (ana, &reply, "favourite"),
    ] {
        let r = app
            .post(
                &format!("/api/v1/statuses/{}/{action}", s["id"].as_str().unwrap()),
                Some(who),
                json!({}),
            )
            .await;
        assert!(r.status.is_success() || r.status == 404, "{}", r.text);
    }
    let trending = app.get("/api/v1/trends/statuses", None).await.json();
    let ids = field(&trending, "id");
    // boosted: 1 favourite + 2 × 1 boost = 3; liked: 2 favourites + 1 reply = 3, and older.
    assert_eq!(
        ids,
        [
            boosted["id"].as_str().unwrap(),
            liked["id"].as_str().unwrap()
        ],
        "{trending}"
    );
    for absent in [&quiet, &hidden, &reply] {
        assert!(!ids.contains(&absent["id"].as_str().unwrap().to_string()));
    }
    // A reader who blocks Bo does not see Bo's post trend.
    let bo_id = t[1].0;
    app.post(
        &format!("/api/v1/accounts/{bo_id}/block"),
        Some(di),
        json!({}),
    )
    .await;
    let theirs = app.get("/api/v1/trends/statuses", Some(di)).await.json();
    assert_eq!(field(&theirs, "id"), [liked["id"].as_str().unwrap()]);
    assert_eq!(theirs[0]["favourited"], false);
    let page = app
        .get("/api/v1/trends/statuses?offset=1&limit=1", None)
        .await
        .json();
    assert_eq!(field(&page, "id"), [liked["id"].as_str().unwrap()]);
}

both_backends!(trends_rank_tags_and_statuses);
