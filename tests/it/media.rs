//! Media through the client API: each format processed (metadata stripped, turned upright, preview,
//! blurhash), videos transcoded by a durable job, bad files refused with nothing left behind,
//! attachments on statuses and the media gallery, avatars, the job queue's claims, and cleanup.

use std::path::Path;
use std::time::Duration;

use reqwest::Method;
use serde_json::{Value, json};

use rookery::config::{Config, MediaBackend};

use crate::both_backends;
use crate::support::{Answer, Backend, TestApp};

pub fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/fixtures/media")
            .join(name),
    )
    .unwrap()
}

/// Posts a multipart upload of `bytes` as `file` (plus text fields) to `path`.
pub async fn upload(
    app: &TestApp,
    token: &str,
    path: &str,
    file_name: &str,
    mime: &str,
    bytes: Vec<u8>,
    fields: &[(&str, &str)],
) -> Answer {
    let mut form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes)
            .file_name(file_name.to_string())
            .mime_str(mime)
            .unwrap(),
    );
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    let resp = app
        .http
        .post(app.url(path))
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

/// A remote attachment of `kind` at `url`, stored by reference as a remote post or avatar stores
/// it; its ID.
pub async fn remote_media(app: &TestApp, account_id: i64, kind: &str, url: &str) -> i64 {
    let id = rookery::storage::ids::new_id();
    let mut tx = app.state.db.begin().await.unwrap();
    rookery::storage::media::insert(
        &mut tx,
        &rookery::storage::media::NewMedia {
            id,
            account_id,
            r#type: kind.into(),
            state: "ready".into(),
            remote_url: Some(url.to_string()),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    id
}

/// Fetches a media URL (following redirects) and returns status, content type and bytes.
pub async fn fetch(url: &str) -> (u16, String, Vec<u8>) {
    let resp = reqwest::get(url).await.unwrap();
    let status = resp.status().as_u16();
    let ct = resp
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    (status, ct, resp.bytes().await.unwrap().to_vec())
}

/// Polls `GET /api/v1/media/:id` until processing ends (at most a minute).
pub async fn wait_ready(app: &TestApp, token: &str, id: &str) -> Value {
    for _ in 0..240 {
        let a = app.get(&format!("/api/v1/media/{id}"), Some(token)).await;
        match a.status.as_u16() {
            206 => {
                let p = a.json()["progress"]
                    .as_f64()
                    .expect("progress while processing");
                assert!((0.0..=1.0).contains(&p));
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
            200 => return a.json(),
            _ => panic!("media {id}: {} {}", a.status, a.text),
        }
    }
    panic!("media {id} still processing after a minute")
}

/// A JPEG with an EXIF block (orientation 6: turn 90° clockwise; a GPS latitude) after its SOI.
fn with_exif(jpeg: &[u8]) -> Vec<u8> {
    let mut tiff: Vec<u8> = b"II*\0\x08\0\0\0".to_vec();
    tiff.extend_from_slice(&[2, 0]);
    tiff.extend_from_slice(&[0x12, 0x01, 3, 0, 1, 0, 0, 0, 6, 0, 0, 0]);
    tiff.extend_from_slice(&[0x25, 0x88, 4, 0, 1, 0, 0, 0, 38, 0, 0, 0]);
    tiff.extend_from_slice(&[0, 0, 0, 0]);
    tiff.extend_from_slice(&[1, 0]);
    tiff.extend_from_slice(&[1, 0, 2, 0, 2, 0, 0, 0, b'N', 0, 0, 0]);
    tiff.extend_from_slice(&[0, 0, 0, 0]);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xFF, 0xE1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

async fn images_are_processed(app: TestApp) {
    app.create_user("alice").await;
    let token = app.token_for("alice", "read write").await;

    let jpeg = with_exif(&fixture("photo.jpg"));
    assert!(jpeg.windows(4).any(|w| w == b"Exif"));
    let a = upload(
        &app,
        &token,
        "/api/v2/media",
        "photo.jpg",
        "image/jpeg",
        jpeg,
        &[("description", "A test card"), ("focus", "-0.5,0.25")],
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let m = a.json();
    assert_eq!(m["type"], "image");
    assert_eq!(m["description"], "A test card");
    assert_eq!(m["meta"]["focus"], json!({"x": -0.5, "y": 0.25}));
    // Orientation 6 applied: 160×120 becomes 120×160.
    assert_eq!(m["meta"]["original"]["width"], 120, "{m}");
    assert_eq!(m["meta"]["original"]["height"], 160);
    assert!(m["blurhash"].as_str().is_some_and(|b| b.len() >= 6));
    // Files are served from where the store keeps them: our `/media/` or the bucket.
    let base = match app.state.config.media.backend {
        MediaBackend::Local => format!("{}/media/", app.state.config.base_url()),
        MediaBackend::S3 => {
            let s3 = &app.state.config.media.s3;
            format!("{}/{}/", s3.endpoint, s3.bucket)
        }
    };
    for field in ["url", "preview_url"] {
        let url = m[field].as_str().unwrap();
        assert!(url.starts_with(&base), "{field} {url} is not under {base}");
    }
    let (status, ct, bytes) = fetch(m["url"].as_str().unwrap()).await;
    assert_eq!((status, ct.as_str()), (200, "image/jpeg"));
    assert!(!bytes.windows(4).any(|w| w == b"Exif"), "EXIF kept");
    assert!(!bytes.windows(3).any(|w| w == b"GPS"));
    let (status, ct, _) = fetch(m["preview_url"].as_str().unwrap()).await;
    assert_eq!((status, ct.as_str()), (200, "image/jpeg"));

    // PNG with transparency stays PNG; WebP becomes JPEG; a still GIF becomes PNG.
    for (file, mime, stored) in [
        ("photo.png", "image/png", "image/png"),
        ("photo.webp", "image/webp", "image/jpeg"),
        ("still.gif", "image/gif", "image/png"),
    ] {
        let a = upload(
            &app,
            &token,
            "/api/v2/media",
            file,
            mime,
            fixture(file),
            &[],
        )
        .await;
        assert_eq!(a.status, 200, "{file}: {}", a.text);
        let m = a.json();
        assert_eq!(m["type"], "image", "{file}");
        let (status, ct, _) = fetch(m["url"].as_str().unwrap()).await;
        assert_eq!((status, ct.as_str()), (200, stored), "{file}");
        assert!(m["blurhash"].is_string(), "{file}");
    }

    // The description and focus can be changed; another user cannot see the attachment.
    let id = m["id"].as_str().unwrap().to_string();
    let a = app
        .send(
            Method::PUT,
            &format!("/api/v1/media/{id}"),
            Some(&token),
            Some(json!({"description": "new words", "focus": "0.1,0.2"})),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json()["description"], "new words");
    app.create_user("mallory").await;
    let other = app.token_for("mallory", "read write").await;
    app.get(&format!("/api/v1/media/{id}"), Some(&other))
        .await
        .assert_error(404);
}

/// What the app's media store holds (files or bucket objects).
async fn stored(app: &TestApp) -> Vec<String> {
    crate::support::s3::stored_keys(&app.state.config).await
}

/// Limits low enough for the fixtures to break them.
fn strict_limits(c: &mut Config) {
    c.media.image_max_bytes = 5000;
    c.media.video_max_seconds = 1;
}

#[tokio::test]
async fn bad_files_are_refused_and_leave_nothing_behind() {
    bad_files_are_refused(TestApp::start_with(Backend::Sqlite, strict_limits).await).await
}

async fn bad_files_are_refused(app: TestApp) {
    app.create_user("alice").await;
    let token = app.token_for("alice", "read write").await;
    let jpeg = fixture("photo.jpg");
    let mut polyglot = fixture("still.gif");
    polyglot.extend_from_slice(b"<html><script>alert(document.cookie)</script></html>");
    let mut zip_glued = fixture("photo.png");
    zip_glued.extend_from_slice(b"PK\x03\x04 a zip archive follows");
    let cases: Vec<(&str, &str, Vec<u8>, &str)> = vec![
        ("empty.jpg", "image/jpeg", Vec::new(), "empty"),
        (
            "page.jpg",
            "image/jpeg",
            b"<html><body>hi</body></html>".to_vec(),
            "not a supported",
        ),
        (
            "cut.gif",
            "image/gif",
            fixture("still.gif")[..800].to_vec(),
            "cut short",
        ),
        ("poly.gif", "image/gif", polyglot, "appended"),
        ("zip.png", "image/png", zip_glued, "appended"),
        ("bomb.png", "image/png", fixture("bomb.png"), "pixels"),
        (
            "photo.png",
            "image/jpeg",
            fixture("photo.png"),
            "sent as image/jpeg",
        ),
        (
            "photo.mp4",
            "application/octet-stream",
            fixture("photo.png"),
            "ends in .mp4",
        ),
        ("big.jpg", "image/jpeg", jpeg.clone(), "at most"),
        (
            "vertical.mp4",
            "video/mp4",
            fixture("vertical.mp4"),
            "seconds",
        ),
        (
            "fake.mp4",
            "video/mp4",
            b"\0\0\0\x18ftypisom this is no video at all".to_vec(),
            "not a readable",
        ),
    ];
    for (name, mime, bytes, why) in cases {
        let a = upload(&app, &token, "/api/v2/media", name, mime, bytes, &[]).await;
        let body = a.assert_error(422);
        assert!(
            body["error"].as_str().unwrap().contains(why),
            "{name}: expected {why:?} in {body}"
        );
    }
    let left = stored(&app).await;
    assert!(left.is_empty(), "files left behind: {left:?}");
    // A description over 1500 characters and a bad focus are refused too.
    let long = "x".repeat(1501);
    let a = upload(
        &app,
        &token,
        "/api/v2/media",
        "photo.gif",
        "image/gif",
        fixture("still.gif"),
        &[("description", &long)],
    )
    .await;
    a.assert_error(422);
    let a = upload(
        &app,
        &token,
        "/api/v2/media",
        "photo.gif",
        "image/gif",
        fixture("still.gif"),
        &[("focus", "3,0")],
    )
    .await;
    a.assert_error(422);
    // No upload at all.
    let a = app.post("/api/v2/media", Some(&token), json!({})).await;
    a.assert_error(422);
}

async fn videos_gifs_and_audio_are_transcoded(app: TestApp) {
    app.create_user("alice").await;
    let token = app.token_for("alice", "read write").await;

    // v2 answers 202 at once; the job transcodes VP9/WebM to H.264 MP4.
    let a = upload(
        &app,
        &token,
        "/api/v2/media",
        "clip.webm",
        "video/webm",
        fixture("clip.webm"),
        &[],
    )
    .await;
    assert_eq!(a.status, 202, "{}", a.text);
    let m = a.json();
    assert!(m["url"].is_null(), "{m}");
    let id = m["id"].as_str().unwrap();
    // Not ready: it cannot be attached yet.
    let early = app
        .post(
            "/api/v1/statuses",
            Some(&token),
            json!({"status": "too soon", "media_ids": [id]}),
        )
        .await;
    if early.status == 422 {
        assert!(
            early.json()["error"]
                .as_str()
                .unwrap()
                .contains("processing")
        );
    }
    let m = wait_ready(&app, &token, id).await;
    assert_eq!(m["type"], "video");
    let url = m["url"].as_str().unwrap();
    assert!(url.ends_with(".mp4"), "{url}");
    assert!(
        (m["meta"]["original"]["duration"].as_f64().unwrap() - 1.0).abs() < 0.2,
        "{m}"
    );
    assert_eq!(m["meta"]["original"]["width"], 160);
    assert!(m["blurhash"].is_string());
    let (status, ct, _) = fetch(m["preview_url"].as_str().unwrap()).await;
    assert_eq!((status, ct.as_str()), (200, "image/jpeg"));
    // Served with byte ranges, as video players ask.
    let resp = reqwest::Client::new()
        .get(url)
        .header("Range", "bytes=0-99")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 206);
    assert_eq!(resp.headers()["content-type"], "video/mp4");
    assert!(
        resp.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let head = resp.bytes().await.unwrap();
    assert_eq!(head.len(), 100);
    assert_eq!(&head[4..8], b"ftyp");
    // The upload itself is gone once processed.
    assert!(
        stored(&app).await.iter().all(|f| !f.starts_with("uploads")),
        "{:?}",
        stored(&app).await
    );

    // v1 waits until processing is done: a vertical H.264 clip keeps its size.
    let a = upload(
        &app,
        &token,
        "/api/v1/media",
        "vertical.mp4",
        "video/mp4",
        fixture("vertical.mp4"),
        &[],
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let m = a.json();
    assert_eq!(m["type"], "video");
    assert_eq!(m["meta"]["original"]["width"], 180, "{m}");
    assert_eq!(m["meta"]["original"]["height"], 320);
    assert!(m["meta"]["audio_encode"].is_string(), "{m}");

    // An animated GIF becomes a silent looping video; an MP3 stays audio.
    let a = upload(
        &app,
        &token,
        "/api/v1/media",
        "anim.gif",
        "image/gif",
        fixture("anim.gif"),
        &[],
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json()["type"], "gifv");
    assert!(a.json()["url"].as_str().unwrap().ends_with(".mp4"));
    let a = upload(
        &app,
        &token,
        "/api/v1/media",
        "sound.mp3",
        "audio/mpeg",
        fixture("sound.mp3"),
        &[],
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let m = a.json();
    assert_eq!(m["type"], "audio");
    let (status, ct, _) = fetch(m["url"].as_str().unwrap()).await;
    assert_eq!((status, ct.as_str()), (200, "audio/mpeg"));
}

async fn statuses_carry_media(app: TestApp) {
    app.create_user("alice").await;
    app.create_user("bob").await;
    let alice = app.token_for("alice", "read write").await;
    let bob = app.token_for("bob", "read write").await;
    let mut ids = Vec::new();
    for _ in 0..5 {
        let a = upload(
            &app,
            &alice,
            "/api/v2/media",
            "photo.jpg",
            "image/jpeg",
            fixture("photo.jpg"),
            &[],
        )
        .await;
        ids.push(a.json()["id"].as_str().unwrap().to_string());
    }
    // Too many, someone else's, unknown: refused.
    app.post(
        "/api/v1/statuses",
        Some(&alice),
        json!({"status": "five", "media_ids": ids}),
    )
    .await
    .assert_error(422);
    let b = upload(
        &app,
        &bob,
        "/api/v2/media",
        "photo.png",
        "image/png",
        fixture("photo.png"),
        &[],
    )
    .await;
    let bobs = b.json()["id"].as_str().unwrap().to_string();
    app.post(
        "/api/v1/statuses",
        Some(&alice),
        json!({"status": "theirs", "media_ids": [bobs]}),
    )
    .await
    .assert_error(422);

    // Media alone is a valid post; order is kept.
    let a = app
        .post(
            "/api/v1/statuses",
            Some(&alice),
            json!({"status": "", "media_ids": [ids[1], ids[0]]}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    let post = a.json();
    let got: Vec<&str> = post["media_attachments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap())
        .collect();
    assert_eq!(got, vec![ids[1].as_str(), ids[0].as_str()]);
    // Attached media cannot go on a second status.
    app.post(
        "/api/v1/statuses",
        Some(&alice),
        json!({"status": "again", "media_ids": [ids[0]]}),
    )
    .await
    .assert_error(422);
    let text_only = app
        .post(
            "/api/v1/statuses",
            Some(&alice),
            json!({"status": "just words"}),
        )
        .await
        .json();

    // The media tab and only_media timelines.
    let me = app
        .get("/api/v1/accounts/verify_credentials", Some(&alice))
        .await
        .json();
    let gallery = app
        .get(
            &format!(
                "/api/v1/accounts/{}/statuses?only_media=true",
                me["id"].as_str().unwrap()
            ),
            Some(&bob),
        )
        .await
        .json();
    let gallery_ids: Vec<&str> = gallery
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap())
        .collect();
    assert_eq!(gallery_ids, vec![post["id"].as_str().unwrap()]);
    let public = app
        .get("/api/v1/timelines/public?only_media=true", None)
        .await
        .json();
    assert!(
        public
            .as_array()
            .unwrap()
            .iter()
            .all(|s| s["id"] != text_only["id"])
    );
    assert!(
        public
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["id"] == post["id"])
    );

    // Editing replaces the attachments; leaving media_ids out keeps them.
    let pid = post["id"].as_str().unwrap();
    let a = app
        .send(
            Method::PUT,
            &format!("/api/v1/statuses/{pid}"),
            Some(&alice),
            Some(json!({"status": "edited", "media_ids": [ids[2]]})),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.json()["media_attachments"].as_array().unwrap().len(), 1);
    let a = app
        .send(
            Method::PUT,
            &format!("/api/v1/statuses/{pid}"),
            Some(&alice),
            Some(json!({"status": "edited twice"})),
        )
        .await;
    assert_eq!(a.json()["media_attachments"][0]["id"], ids[2].as_str());
    // The history shows each version's attachments, and what an edit took off is kept for it.
    let history = app
        .get(&format!("/api/v1/statuses/{pid}/history"), Some(&alice))
        .await
        .json();
    let versions: Vec<Vec<&str>> = history
        .as_array()
        .unwrap()
        .iter()
        .map(|v| {
            v["media_attachments"]
                .as_array()
                .unwrap()
                .iter()
                .map(|m| m["id"].as_str().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(
        versions,
        vec![
            vec![ids[1].as_str(), ids[0].as_str()],
            vec![ids[2].as_str()],
            vec![ids[2].as_str()],
        ],
        "{history}"
    );
    let (status, _, _) = fetch(history[0]["media_attachments"][0]["url"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    let prunable = rookery::storage::media::unattached_before(
        &app.state.db,
        chrono::Utc::now() + chrono::Duration::days(1),
        100,
    )
    .await
    .unwrap();
    assert!(
        prunable.iter().all(|m| m.id.to_string() != ids[0]),
        "media shown in the history would be pruned"
    );

    // Delete and redraft: the media can be posted again.
    let a = app
        .send(
            Method::DELETE,
            &format!("/api/v1/statuses/{pid}"),
            Some(&alice),
            None,
        )
        .await;
    assert_eq!(a.status, 200);
    let a = app
        .post(
            "/api/v1/statuses",
            Some(&alice),
            json!({"status": "redraft", "media_ids": [ids[2]]}),
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);
}

async fn job_claims_lapse_and_are_taken_again(app: TestApp) {
    use rookery::jobs;
    let db = &app.state.db;
    let mut tx = db.begin().await.unwrap();
    let id = jobs::enqueue(&mut tx, "test.kind", &json!({"n": 1}))
        .await
        .unwrap();
    tx.commit().await.unwrap();
    let first = jobs::claim_due(db, "test.kind", 10).await.unwrap();
    assert_eq!(first.iter().map(|j| j.id).collect::<Vec<_>>(), vec![id]);
    assert_eq!(first[0].attempts, 0);
    // Claimed: nobody else gets it while the lease holds (a worker "crashes" here).
    assert!(
        jobs::claim_due(db, "test.kind", 10)
            .await
            .unwrap()
            .is_empty()
    );
    // The lease lapses (as after a crash) and the job is due again, with the attempt counted.
    jobs::release_all_claims(db).await.unwrap();
    let again = jobs::claim_due(db, "test.kind", 10).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 1);
    jobs::finish(db, id).await.unwrap();
    assert_eq!(jobs::count(db, "test.kind").await.unwrap(), 0);
}

both_backends!(
    images_are_processed,
    videos_gifs_and_audio_are_transcoded,
    statuses_carry_media,
    job_claims_lapse_and_are_taken_again,
);

/// A multipart part holding fixture `file`.
fn file_part(file: &str, mime: &str) -> reqwest::multipart::Part {
    reqwest::multipart::Part::bytes(fixture(file))
        .file_name(file.to_string())
        .mime_str(mime)
        .unwrap()
}

/// `PATCH /api/v1/accounts/update_credentials` with a multipart form.
async fn update_credentials(
    app: &TestApp,
    token: &str,
    form: reqwest::multipart::Form,
) -> reqwest::Response {
    app.http
        .patch(app.url("/api/v1/accounts/update_credentials"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn avatar_and_header_are_uploaded() {
    let app = TestApp::start(Backend::Sqlite).await;
    app.create_user("alice").await;
    let token = app.token_for("alice", "read write").await;
    let form = reqwest::multipart::Form::new()
        .text("display_name", "Alice")
        .part("avatar", file_part("photo.jpg", "image/jpeg"))
        .part("header", file_part("photo.png", "image/png"));
    let resp = update_credentials(&app, &token, form).await;
    assert_eq!(resp.status(), 200);
    let me: Value = resp.json().await.unwrap();
    assert_eq!(me["display_name"], "Alice");
    let avatar = me["avatar"].as_str().unwrap();
    assert!(!avatar.ends_with("missing.png"), "{me}");
    let (status, ct, bytes) = fetch(avatar).await;
    assert_eq!((status, ct.as_str()), (200, "image/jpeg"));
    let img = image::load_from_memory(&bytes).unwrap();
    assert_eq!((img.width(), img.height()), (120, 120), "cropped square");
    let header = me["header"].as_str().unwrap();
    let (status, _, bytes) = fetch(header).await;
    assert_eq!(status, 200);
    let img = image::load_from_memory(&bytes).unwrap();
    assert_eq!((img.width(), img.height()), (120, 40), "cropped to 3:1");
    // The actor document carries them for other servers.
    let actor: Value = app
        .http
        .get(app.url("/users/alice"))
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(actor["icon"]["url"], avatar);
    assert_eq!(actor["image"]["url"], header);
    // A video is not an avatar.
    let form =
        reqwest::multipart::Form::new().part("avatar", file_part("vertical.mp4", "video/mp4"));
    let resp = update_credentials(&app, &token, form).await;
    assert_eq!(resp.status(), 422);
    // A good avatar with a bad header, or with a display name that is too long, changes nothing
    // and leaves no files behind.
    let files_before = stored(&app).await.len();
    let forms = [
        reqwest::multipart::Form::new()
            .text("display_name", "x".repeat(31))
            .part("avatar", file_part("photo.png", "image/png")),
        reqwest::multipart::Form::new()
            .text("display_name", "Changed")
            .part("avatar", file_part("photo.png", "image/png"))
            .part("header", file_part("vertical.mp4", "video/mp4")),
    ];
    for form in forms {
        let resp = update_credentials(&app, &token, form).await;
        assert_eq!(resp.status(), 422);
        let body: Value = resp.json().await.unwrap();
        assert!(body["error"].is_string(), "{body}");
    }
    let now = app
        .get("/api/v1/accounts/verify_credentials", Some(&token))
        .await
        .json();
    assert_eq!(now["display_name"], "Alice");
    assert_eq!(now["avatar"], me["avatar"]);
    assert_eq!(now["header"], me["header"]);
    assert_eq!(stored(&app).await.len(), files_before);
}

#[tokio::test]
async fn unattached_uploads_are_pruned() {
    uploads_are_pruned(TestApp::start(Backend::Sqlite).await).await
}

async fn uploads_are_pruned(app: TestApp) {
    app.create_user("alice").await;
    let token = app.token_for("alice", "read write").await;
    let a = upload(
        &app,
        &token,
        "/api/v2/media",
        "photo.jpg",
        "image/jpeg",
        fixture("photo.jpg"),
        &[],
    )
    .await;
    let kept = upload(
        &app,
        &token,
        "/api/v2/media",
        "photo.png",
        "image/png",
        fixture("photo.png"),
        &[],
    )
    .await;
    app.post(
        "/api/v1/statuses",
        Some(&token),
        json!({"status": "kept", "media_ids": [kept.json()["id"]]}),
    )
    .await;
    assert_eq!(stored(&app).await.len(), 4);
    // Nothing is old enough yet.
    let r = rookery::service::media::prune(&app.state, None)
        .await
        .unwrap();
    assert_eq!((r.evicted, r.deleted), (0, 0));
    // Two days later, the unattached upload goes, files first; the posted one stays.
    let Some(sqlite) = (match &app.state.db {
        rookery::storage::Db::Sqlite(p, _) => Some(p.clone()),
        _ => None,
    }) else {
        unreachable!()
    };
    let id: i64 = a.json()["id"].as_str().unwrap().parse().unwrap();
    sqlx::query("UPDATE media_attachments SET created_at = $1 WHERE id = $2")
        .bind(chrono::Utc::now() - chrono::Duration::days(2))
        .bind(id)
        .execute(&sqlite)
        .await
        .unwrap();
    let r = rookery::service::media::prune(&app.state, None)
        .await
        .unwrap();
    assert_eq!((r.evicted, r.deleted), (0, 1));
    let left = stored(&app).await;
    assert_eq!(left.len(), 2, "{left:?}");
    assert!(left.iter().all(|f| !f.contains(&id.to_string())));
}

/// A stand-in origin server with an animated GIF and a page pretending to be an image.
async fn start_origin() -> std::net::SocketAddr {
    // A stand-in origin server with an animated GIF and a page pretending to be an image.
    let origin = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let origin_addr = origin.local_addr().unwrap();
    let router = axum::Router::new()
        .route(
            "/anim.gif",
            axum::routing::get(|| async { ([("content-type", "image/gif")], fixture("anim.gif")) }),
        )
        .route(
            "/clip.mp4",
            axum::routing::get(|| async {
                ([("content-type", "video/mp4")], fixture("vertical.mp4"))
            }),
        )
        .route(
            "/fake.jpg",
            axum::routing::get(|| async { ([("content-type", "image/jpeg")], "<html>hi</html>") }),
        );
    tokio::spawn(async move { axum::serve(origin, router).await.unwrap() });
    origin_addr
}

#[tokio::test]
async fn remote_media_is_cached_on_first_view_and_animations_are_kept() {
    let app = TestApp::start_with(Backend::Sqlite, |c| {
        c.federation.allow_private_addresses = true;
    })
    .await;
    remote_media_is_cached(app).await
}

async fn remote_media_is_cached(app: TestApp) {
    let origin_addr = start_origin().await;
    let account = app.create_user("alice").await;
    let mut rows = Vec::new();
    for (path, kind) in [
        ("anim.gif", "image"),
        ("fake.jpg", "image"),
        ("clip.mp4", "video"),
    ] {
        rows.push(remote_media(&app, account, kind, &format!("http://{origin_addr}/{path}")).await);
    }
    let (status, ct, bytes) = fetch(&app.url(&format!("/media_proxy/{}/original", rows[0]))).await;
    assert_eq!((status, ct.as_str()), (200, "image/gif"));
    assert_eq!(bytes, fixture("anim.gif"), "the animation is kept as sent");
    let (status, ct, _) = fetch(&app.url(&format!("/media_proxy/{}/small", rows[0]))).await;
    assert_eq!(status, 200);
    assert!(ct.starts_with("image/"));
    // Cached now: the second view is a redirect to our own copy, without asking the origin.
    let a = app
        .get(&format!("/media_proxy/{}/original", rows[0]), None)
        .await;
    assert_eq!(a.status, 303, "{}", a.text);
    let location = a.header("location").unwrap();
    assert!(location.contains("/cache/"), "{location}");
    let (status, ct, bytes) = fetch(location).await;
    assert_eq!((status, ct.as_str()), (200, "image/gif"));
    assert_eq!(bytes, fixture("anim.gif"));
    // Content that is not what it claims is refused and nothing is kept.
    app.get(&format!("/media_proxy/{}/original", rows[1]), None)
        .await
        .assert_error(404);
    let row = rookery::storage::media::find(&app.state.db, rows[1])
        .await
        .unwrap()
        .unwrap();
    assert!(row.file_key.is_none() && row.cached_at.is_none());
    // A video sent without a poster gets one taken from its frames; the video is kept as sent.
    let (status, ct, bytes) = fetch(&app.url(&format!("/media_proxy/{}/small", rows[2]))).await;
    assert_eq!((status, ct.as_str()), (200, "image/jpeg"));
    let poster = image::load_from_memory(&bytes).unwrap();
    assert!(poster.height() > poster.width(), "a vertical clip's poster");
    let (status, ct, bytes) = fetch(&app.url(&format!("/media_proxy/{}/original", rows[2]))).await;
    assert_eq!((status, ct.as_str()), (200, "video/mp4"));
    assert_eq!(bytes, fixture("vertical.mp4"));
}

/// The same flows with media kept in an S3 bucket on the S3-compatible server `scripts/test` runs
/// on loopback (moto): files go to the bucket, URLs point at it, and nothing is left behind.
mod s3 {
    use super::*;

    async fn app(backend: Backend, tweak: impl FnOnce(&mut Config)) -> TestApp {
        let s3 = crate::support::s3::fresh_bucket().await;
        TestApp::start_with(backend, |c| {
            c.media.backend = MediaBackend::S3;
            c.media.s3 = s3;
            tweak(c);
        })
        .await
    }

    #[tokio::test]
    async fn images_are_processed_into_the_bucket() {
        images_are_processed(app(Backend::Sqlite, |_| {}).await).await
    }

    #[tokio::test]
    async fn videos_are_transcoded_into_the_bucket() {
        videos_gifs_and_audio_are_transcoded(app(Backend::Postgres, |_| {}).await).await
    }

    #[tokio::test]
    async fn statuses_carry_media_from_the_bucket() {
        statuses_carry_media(app(Backend::Sqlite, |_| {}).await).await
    }

    #[tokio::test]
    async fn bad_files_leave_nothing_in_the_bucket() {
        bad_files_are_refused(app(Backend::Sqlite, strict_limits).await).await
    }

    #[tokio::test]
    async fn unattached_uploads_are_pruned_from_the_bucket() {
        uploads_are_pruned(app(Backend::Sqlite, |_| {}).await).await
    }

    #[tokio::test]
    async fn remote_media_is_cached_in_the_bucket() {
        let app = app(Backend::Sqlite, |c| {
            c.federation.allow_private_addresses = true
        })
        .await;
        remote_media_is_cached(app).await
    }
}
