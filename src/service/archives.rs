//! "Request your archive", as Mastodon offers it (docs/API.md, "Archive"): a zip of an account's
//! data, built by a durable job and kept for 7 days.
//!
//! The zip holds `actor.json` (the actor, `icon`/`image` pointing into the zip), `outbox.json` (an
//! ActivityStreams `OrderedCollection` of the account's `Create` activities, and `Announce` for
//! boosts, oldest first, attachments pointing into the zip), `likes.json` and `bookmarks.json`
//! (`OrderedCollection`s of status URIs), the media files of the statuses under their store keys,
//! and `avatar.EXT` / `header.EXT`. It is written as it is read: statuses a page at a time, files
//! a chunk at a time, through a bounded channel to a blocking thread that writes the zip to a
//! temporary file, which is then uploaded to the media store in parts. Memory stays bounded
//! whatever the account's size (docs/PERFORMANCE.md, "Archive").

use std::collections::HashMap;
use std::io::Write;

use chrono::{Duration, Utc};
use futures_util::StreamExt;
use serde_json::{Value, json};

pub use crate::api_types::imports::Archive;
use crate::error::{AppError, AppResult};
use crate::jobs::{self, Job, Outcome};
use crate::state::AppState;
use crate::storage::accounts::{self, AccountRow};
use crate::storage::archives::{self as store, ArchiveRow};
use crate::storage::ids;

/// The job kind; payload `{"archive_id": ID}` to build, `{"expire": ID, "key": KEY}` to delete
/// at expiry.
pub const ARCHIVE_JOB: &str = "account_archive";
/// How long a built archive can be downloaded, and the time between two requests.
pub const KEPT_FOR: Duration = Duration::days(7);
/// Statuses read (and rendered) per page.
const PAGE: i64 = 100;
/// Pieces waiting for the zip writer at most.
const CHANNEL: usize = 8;

fn entity(state: &AppState, a: &ArchiveRow) -> Archive {
    Archive {
        id: a.id.to_string(),
        state: a.state.clone(),
        created_at: a.created_at,
        ready_at: a.ready_at,
        expires_at: a.expires_at,
        size: a.size,
        url: (a.state == "ready").then(|| {
            format!(
                "{}/api/v1/archives/{}/download",
                state.config.base_url(),
                a.id
            )
        }),
    }
}

/// Queues an archive of `account_id`'s data.
///
/// Errors: 422 within [`KEPT_FOR`] of the last request that did not fail.
pub async fn request(state: &AppState, account_id: i64) -> AppResult<Archive> {
    if let Some(last) = store::of_account(&state.db, account_id, 5)
        .await?
        .into_iter()
        .find(|a| a.state != "failed")
    {
        let next = last.created_at + KEPT_FOR;
        if next > Utc::now() {
            return Err(AppError::unprocessable(format!(
                "An archive can be requested once every 7 days; the next after {}",
                next.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            )));
        }
    }
    let row = ArchiveRow {
        id: ids::new_id(),
        account_id,
        state: "scheduled".into(),
        file_key: None,
        size: None,
        error: None,
        created_at: Utc::now(),
        ready_at: None,
        expires_at: None,
    };
    let mut tx = state.db.begin().await?;
    store::insert(&mut tx, &row).await?;
    jobs::enqueue(&mut tx, ARCHIVE_JOB, &json!({ "archive_id": row.id })).await?;
    tx.commit().await?;
    state.jobs_wakeup.notify_waiters();
    Ok(entity(state, &row))
}

/// `account_id`'s archives, newest first (the last 10).
pub async fn list(state: &AppState, account_id: i64) -> AppResult<Vec<Archive>> {
    Ok(store::of_account(&state.db, account_id, 10)
        .await?
        .iter()
        .map(|a| entity(state, a))
        .collect())
}

/// A ready archive of `account_id`: its file name, size and bytes as a stream.
///
/// Errors: 404 unless it is theirs and ready (not expired).
pub async fn download(
    state: &AppState,
    account_id: i64,
    id: &str,
) -> AppResult<(
    String,
    i64,
    futures_util::stream::BoxStream<'static, Result<bytes::Bytes, std::io::Error>>,
)> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let a = store::find(&state.db, id)
        .await?
        .filter(|a| a.account_id == account_id && a.state == "ready")
        .ok_or(AppError::NotFound)?;
    let key = a.file_key.clone().ok_or(AppError::NotFound)?;
    let stream = state
        .media
        .get_stream(&key)
        .await?
        .map(|r| r.map_err(std::io::Error::other))
        .boxed();
    let name = format!("archive-{}.zip", a.created_at.format("%Y%m%d%H%M%S"));
    Ok((name, a.size.unwrap_or(0), stream))
}

/// Runs the archive worker (one archive at a time).
pub fn spawn_worker(state: &AppState) -> tokio::task::JoinHandle<()> {
    let s = state.clone();
    tokio::spawn(jobs::run_worker(
        state.db.clone(),
        ARCHIVE_JOB,
        1,
        3,
        state.jobs_wakeup.clone(),
        move |job| run(s.clone(), job),
        |job, error| async move {
            tracing::error!(job = job.id, %error, "an archive was given up");
        },
    ))
}

async fn run(state: AppState, job: Job) -> Outcome {
    if let Some(id) = job.payload["expire"].as_i64() {
        let key = job.payload["key"].as_str().unwrap_or_default().to_string();
        return match expire(&state, id, &key).await {
            Ok(()) => Outcome::Done,
            Err(e) => Outcome::Retry(e.to_string()),
        };
    }
    let id = job.payload["archive_id"].as_i64().unwrap_or_default();
    match build(&state, id).await {
        Ok(()) => Outcome::Done,
        Err(e) => {
            tracing::warn!(archive = id, error = %e, "building an archive failed");
            if job.attempts + 1 >= 3 {
                let _ = store::set_state(
                    &state.db,
                    id,
                    "failed",
                    None,
                    Some("the archive could not be built"),
                )
                .await;
            }
            Outcome::Retry(e.to_string())
        }
    }
}

async fn expire(state: &AppState, id: i64, key: &str) -> AppResult<()> {
    if key.starts_with("archives/") {
        state.media.delete(key).await?;
    }
    if store::find(&state.db, id).await?.is_some() {
        store::set_state(&state.db, id, "expired", None, None).await?;
    }
    Ok(())
}

/// What the builder sends the zip writer.
enum Piece {
    /// A new entry; `true` to deflate it (text), `false` to store it (media, compressed already).
    Start(String, bool),
    Data(bytes::Bytes),
}

/// Writes the pieces into a zip in `file`; returns its size.
fn write_zip(
    file: std::fs::File,
    mut rx: tokio::sync::mpsc::Receiver<Piece>,
) -> anyhow::Result<u64> {
    use zip::write::SimpleFileOptions;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    while let Some(piece) = rx.blocking_recv() {
        match piece {
            Piece::Start(name, deflate) => {
                let method = if deflate {
                    zip::CompressionMethod::Deflated
                } else {
                    zip::CompressionMethod::Stored
                };
                let options = SimpleFileOptions::default()
                    .compression_method(method)
                    .large_file(true);
                zip.start_file(name, options)?;
            }
            Piece::Data(b) => zip.write_all(&b)?,
        }
    }
    let out = zip.finish()?;
    let file = out.into_inner().map_err(|e| e.into_error())?;
    Ok(file.metadata()?.len())
}

/// Sends pieces to the writer; an error means the writer stopped (its own error tells why).
struct Sink(tokio::sync::mpsc::Sender<Piece>);

impl Sink {
    async fn start(&self, name: &str, deflate: bool) -> AppResult<()> {
        self.send(Piece::Start(name.to_string(), deflate)).await
    }

    async fn data(&self, b: impl Into<bytes::Bytes>) -> AppResult<()> {
        self.send(Piece::Data(b.into())).await
    }

    async fn send(&self, p: Piece) -> AppResult<()> {
        self.0
            .send(p)
            .await
            .map_err(|_| AppError::Internal(anyhow::anyhow!("the zip writer stopped")))
    }

    /// Copies a media file into the zip as `name`, chunk by chunk. A file the store does not
    /// have is left out (logged); one that breaks off midway fails the archive.
    async fn file(&self, state: &AppState, key: &str, name: &str) -> AppResult<()> {
        let mut chunks = match state.media.get_stream(key).await {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(key, error = %e, "a media file is left out of an archive");
                return Ok(());
            }
        };
        self.start(name, false).await?;
        while let Some(chunk) = chunks.next().await {
            self.data(chunk.map_err(anyhow::Error::from)?).await?;
        }
        Ok(())
    }
}

/// Builds archive `id`: the zip in a temporary file, then into the media store, then `ready`
/// with an expiry job. Building again (after a crash) starts over.
async fn build(state: &AppState, id: i64) -> AppResult<()> {
    let Some(archive) = store::find(&state.db, id).await? else {
        return Ok(());
    };
    if archive.state == "ready" || archive.state == "expired" {
        return Ok(());
    }
    let Some(account) = accounts::find_account(&state.db, archive.account_id).await? else {
        return Ok(());
    };
    store::set_state(&state.db, id, "building", None, None).await?;
    // On the data disk (`media.dir/tmp`), not a RAM-backed /tmp.
    let scratch = crate::service::media::scratch_dir(state)?;
    let tmp = tempfile::NamedTempFile::new_in(scratch.path()).map_err(anyhow::Error::from)?;
    let file = tmp.reopen().map_err(anyhow::Error::from)?;
    let (tx, rx) = tokio::sync::mpsc::channel(CHANNEL);
    let writer = tokio::task::spawn_blocking(move || write_zip(file, rx));
    let produced = produce(state, &account, &Sink(tx)).await;
    let written = writer
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("the zip writer panicked: {e}")))?;
    produced?;
    let size = written?;
    let key = format!(
        "archives/{}/{}-{}.zip",
        account.id,
        id,
        crate::service::secrets::random_token()
    );
    state.media.put_file_streamed(&key, tmp.path()).await?;
    let expires = Utc::now() + KEPT_FOR;
    store::set_state(
        &state.db,
        id,
        "ready",
        Some((&key, size as i64, expires)),
        None,
    )
    .await?;
    let mut tx = state.db.begin().await?;
    // The key travels with the job: the file goes even if the account (and its row) went first.
    jobs::enqueue_at(
        &mut tx,
        ARCHIVE_JOB,
        &json!({ "expire": id, "key": key }),
        expires,
    )
    .await?;
    tx.commit().await?;
    tracing::info!(archive = id, account = account.id, size, "archive ready");
    Ok(())
}

/// The zip's entries, in order.
async fn produce(state: &AppState, account: &AccountRow, sink: &Sink) -> AppResult<()> {
    let db = &state.db;
    // actor.json, with the avatar and header as files of the zip.
    let pem = crate::service::activitypub::keys::public_key_pem(state, account).await?;
    let person = crate::service::activitypub::person_of(state, account, &pem).await?;
    let mut actor = serde_json::to_value(&person).map_err(anyhow::Error::from)?;
    let images = crate::storage::media::find_many(
        db,
        &[account.avatar_media_id, account.header_media_id]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>(),
    )
    .await?;
    let mut profile_files = Vec::new();
    for (field, which, id) in [
        ("icon", "avatar", account.avatar_media_id),
        ("image", "header", account.header_media_id),
    ] {
        let Some(m) = images.iter().find(|m| Some(m.id) == id) else {
            continue;
        };
        let Some(key) = &m.file_key else { continue };
        let ext = key
            .rsplit('.')
            .next()
            .filter(|e| e.len() <= 5)
            .unwrap_or("bin");
        let name = format!("{which}.{ext}");
        actor[field]["url"] = json!(name);
        profile_files.push((key.clone(), name));
    }
    let mut doc = crate::federation::protocol::context();
    if let Value::Object(a) = actor {
        let mut with_context = serde_json::Map::new();
        with_context.insert("@context".into(), doc.take());
        with_context.extend(a);
        doc = Value::Object(with_context);
    }
    sink.start("actor.json", true).await?;
    sink.data(serde_json::to_vec_pretty(&doc).map_err(anyhow::Error::from)?)
        .await?;
    for (key, name) in &profile_files {
        sink.file(state, key, name).await?;
    }

    // outbox.json, a page of statuses at a time; their media after it.
    let total = store::status_count(db, account.id).await?;
    sink.start("outbox.json", true).await?;
    let head = json!({
        "@context": crate::federation::protocol::context(),
        "id": "outbox.json",
        "type": "OrderedCollection",
        "totalItems": total,
    })
    .to_string();
    // The object's closing brace is replaced by the list, which the pages fill.
    sink.data(format!("{},\"orderedItems\":[", &head[..head.len() - 1]))
        .await?;
    let mut after = 0;
    let mut first = true;
    let mut media_keys: Vec<String> = Vec::new();
    loop {
        let page = store::statuses_after(db, account.id, after, PAGE).await?;
        let Some(last) = page.last() else { break };
        after = last.id;
        let ids: Vec<i64> = page.iter().map(|s| s.id).collect();
        let media = crate::storage::media::of_statuses(db, &ids).await?;
        let local: HashMap<String, String> = media
            .iter()
            .filter_map(|m| m.file_key.clone())
            .map(|k| (state.media.url(&k), k))
            .collect();
        // The page's boosted statuses and their authors, two queries for the page.
        let boosted_ids: Vec<i64> = page.iter().filter_map(|s| s.reblog_of_id).collect();
        let boosted = crate::storage::statuses::find_many(db, &boosted_ids).await?;
        let mut author_ids: Vec<i64> = boosted.iter().map(|o| o.account_id).collect();
        author_ids.sort_unstable();
        author_ids.dedup();
        let authors = accounts::find_accounts(db, &author_ids).await?;
        let mut chunk = Vec::with_capacity(page.len() * 2048);
        for s in &page {
            let activity = match s.reblog_of_id {
                Some(orig) => {
                    let Some(o) = boosted.iter().find(|o| o.id == orig) else {
                        continue;
                    };
                    let author = authors.iter().find(|a| a.id == o.account_id);
                    crate::federation::objects::announce(
                        &s.uri,
                        &s.visibility,
                        s.created_at,
                        account,
                        &o.uri,
                        author.map_or("", |a| a.uri.as_str()),
                    )
                }
                None => {
                    let note = crate::service::activitypub::note_of(state, s).await?;
                    let mut create = crate::federation::objects::create(&note);
                    if let Some(list) = create["object"]["attachment"].as_array_mut() {
                        for a in list {
                            if let Some(key) = a["url"].as_str().and_then(|u| local.get(u)) {
                                a["url"] = json!(key);
                            }
                        }
                    }
                    create
                }
            };
            if !first {
                chunk.push(b',');
            }
            first = false;
            serde_json::to_writer(&mut chunk, &activity).map_err(anyhow::Error::from)?;
        }
        sink.data(chunk).await?;
        media_keys.extend(
            media
                .into_iter()
                .filter(|m| m.account_id == account.id)
                .filter_map(|m| m.file_key),
        );
        if (page.len() as i64) < PAGE {
            break;
        }
    }
    sink.data("]}").await?;

    // likes.json and bookmarks.json.
    for (table, name) in [
        ("favourites", "likes.json"),
        ("bookmarks", "bookmarks.json"),
    ] {
        sink.start(name, true).await?;
        let head = json!({
            "@context": "https://www.w3.org/ns/activitystreams",
            "id": name,
            "type": "OrderedCollection",
        })
        .to_string();
        sink.data(format!("{},\"orderedItems\":[", &head[..head.len() - 1]))
            .await?;
        let mut after = 0;
        let mut first = true;
        loop {
            let page = store::acted_after(db, table, account.id, after, 1000).await?;
            let Some((last, _)) = page.last() else { break };
            after = *last;
            let mut chunk = Vec::new();
            for (_, uri) in &page {
                if !first {
                    chunk.push(b',');
                }
                first = false;
                serde_json::to_writer(&mut chunk, uri).map_err(anyhow::Error::from)?;
            }
            sink.data(chunk).await?;
        }
        sink.data("]}").await?;
    }

    // The statuses' media files, under their keys (as `outbox.json` names them).
    media_keys.sort();
    media_keys.dedup();
    for key in &media_keys {
        sink.file(state, key, key).await?;
    }
    Ok(())
}
