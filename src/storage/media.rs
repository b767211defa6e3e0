//! Media attachments: uploads, remote attachments stored by reference, avatars and headers.

use chrono::{DateTime, Utc};
use sqlx::types::Json;

use crate::on_db;
use crate::storage::db::{Db, Tx};
use crate::storage::sql::Args;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MediaRow {
    pub id: i64,
    pub account_id: i64,
    pub status_id: Option<i64>,
    pub position: i64,
    /// `image`, `gifv`, `video`, `audio` or `unknown`.
    pub r#type: String,
    /// `processing`, `ready` or `failed`.
    pub state: String,
    pub file_key: Option<String>,
    pub file_content_type: Option<String>,
    pub file_size: Option<i64>,
    pub preview_key: Option<String>,
    pub upload_key: Option<String>,
    pub remote_url: Option<String>,
    pub remote_preview_url: Option<String>,
    pub cached_at: Option<DateTime<Utc>>,
    pub description: String,
    pub focus_x: f64,
    pub focus_y: f64,
    pub blurhash: Option<String>,
    pub meta: Json<serde_json::Value>,
    pub progress: Option<f64>,
    pub error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl MediaRow {
    /// Width, height and duration (seconds) of the processed file, from `meta.original`
    /// (0 where unknown).
    pub fn video_facts(&self) -> (f64, f64, f64) {
        let get = |p: &str| self.meta.0.pointer(p).and_then(serde_json::Value::as_f64);
        (
            get("/original/width").unwrap_or(0.0),
            get("/original/height").unwrap_or(0.0),
            get("/original/duration")
                .or_else(|| get("/duration"))
                .unwrap_or(0.0),
        )
    }
}

const COLUMNS: &str = "id, account_id, status_id, position, type, state, file_key, \
    file_content_type, file_size, preview_key, upload_key, remote_url, remote_preview_url, cached_at, \
    description, focus_x, focus_y, blurhash, meta, progress, error, created_at, updated_at";

/// A new attachment; local ones start `processing` (or `ready` when processed on upload), remote
/// ones are `ready` at once with only their `remote_url`.
#[derive(Clone, Debug, Default)]
pub struct NewMedia {
    pub id: i64,
    pub account_id: i64,
    pub status_id: Option<i64>,
    pub position: i64,
    pub r#type: String,
    pub state: String,
    pub file_key: Option<String>,
    pub file_content_type: Option<String>,
    pub file_size: Option<i64>,
    pub preview_key: Option<String>,
    pub upload_key: Option<String>,
    pub remote_url: Option<String>,
    pub remote_preview_url: Option<String>,
    pub description: String,
    pub focus: (f64, f64),
    pub blurhash: Option<String>,
    pub meta: serde_json::Value,
}

pub async fn insert(tx: &mut Tx, m: &NewMedia) -> sqlx::Result<()> {
    let now = Utc::now();
    on_db!(tx, c => sqlx::query(
        "INSERT INTO media_attachments (id, account_id, status_id, position, type, state, file_key, \
         file_content_type, file_size, preview_key, upload_key, remote_url, remote_preview_url, \
         description, focus_x, focus_y, blurhash, meta, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $19)")
        .bind(m.id).bind(m.account_id).bind(m.status_id).bind(m.position).bind(&m.r#type)
        .bind(&m.state).bind(&m.file_key).bind(&m.file_content_type).bind(m.file_size)
        .bind(&m.preview_key).bind(&m.upload_key).bind(&m.remote_url).bind(&m.remote_preview_url)
        .bind(&m.description).bind(m.focus.0).bind(m.focus.1).bind(&m.blurhash)
        .bind(Json(&m.meta)).bind(now)
        .execute(c).await.map(|_| ()))?;
    Ok(())
}

pub async fn find(db: &Db, id: i64) -> sqlx::Result<Option<MediaRow>> {
    let sql = format!("SELECT {COLUMNS} FROM media_attachments WHERE id = $1");
    on_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(c).await)
}

/// Attachments by ID, in no particular order (unknown IDs skipped).
pub async fn find_many(db: &Db, ids: &[i64]) -> sqlx::Result<Vec<MediaRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = Args::default();
    let list = args.ids(ids);
    let sql = format!("SELECT {COLUMNS} FROM media_attachments WHERE id IN ({list})");
    on_db!(db, c => crate::bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)
}

/// The attachments of each of `status_ids`, in position order.
pub async fn of_statuses(db: &Db, status_ids: &[i64]) -> sqlx::Result<Vec<MediaRow>> {
    if status_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = Args::default();
    let list = args.ids(status_ids);
    let sql = format!(
        "SELECT {COLUMNS} FROM media_attachments WHERE status_id IN ({list}) ORDER BY status_id, position"
    );
    on_db!(db, c => crate::bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)
}

/// Attaches `ids` (in that order) to `status_id`, detaching whatever it had before, and keeps
/// `statuses.has_media` in step.
pub async fn attach(tx: &mut Tx, status_id: i64, ids: &[i64]) -> sqlx::Result<()> {
    on_db!(tx, c => sqlx::query("UPDATE media_attachments SET status_id = NULL WHERE status_id = $1")
        .bind(status_id).execute(&mut *c).await.map(|_| ()))?;
    for (pos, id) in ids.iter().enumerate() {
        on_db!(tx, c => sqlx::query(
            "UPDATE media_attachments SET status_id = $1, position = $2 WHERE id = $3")
            .bind(status_id).bind(pos as i64).bind(id).execute(&mut *c).await.map(|_| ()))?;
    }
    on_db!(tx, c => sqlx::query("UPDATE statuses SET has_media = $1 WHERE id = $2")
        .bind(!ids.is_empty()).bind(status_id).execute(&mut *c).await.map(|_| ()))?;
    tx.changes_key(crate::storage::changes::Kind::Statuses, status_id);
    Ok(())
}

/// Sets `statuses.has_media` (remote statuses get their rows inserted directly).
pub async fn attach_flag(tx: &mut Tx, status_id: i64, has_media: bool) -> sqlx::Result<()> {
    on_db!(tx, c => sqlx::query("UPDATE statuses SET has_media = $1 WHERE id = $2")
        .bind(has_media).bind(status_id).execute(c).await.map(|_| ()))?;
    tx.changes_key(crate::storage::changes::Kind::Statuses, status_id);
    Ok(())
}

/// Description and focal point, as the uploader set them.
pub async fn update_description(
    db: &Db,
    id: i64,
    description: &str,
    focus: (f64, f64),
) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query(
        "UPDATE media_attachments SET description = $1, focus_x = $2, focus_y = $3, updated_at = $4 \
         WHERE id = $5")
        .bind(description).bind(focus.0).bind(focus.1).bind(Utc::now()).bind(id)
        .execute(c).await.map(|_| ()))?;
    crate::storage::changes::changed_key(crate::storage::changes::Kind::Media, id);
    Ok(())
}

/// Processing finished: the files and what was learnt about them.
#[derive(Clone, Debug)]
pub struct Processed {
    pub r#type: String,
    pub file_key: String,
    pub file_content_type: String,
    pub file_size: i64,
    pub preview_key: Option<String>,
    pub blurhash: Option<String>,
    pub meta: serde_json::Value,
}

pub async fn mark_ready(db: &Db, id: i64, p: &Processed) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query(
        "UPDATE media_attachments SET state = 'ready', type = $1, file_key = $2, file_content_type = $3, \
         file_size = $4, preview_key = $5, blurhash = $6, meta = $7, upload_key = NULL, progress = NULL, \
         error = NULL, updated_at = $8 WHERE id = $9")
        .bind(&p.r#type).bind(&p.file_key).bind(&p.file_content_type).bind(p.file_size)
        .bind(&p.preview_key).bind(&p.blurhash).bind(Json(&p.meta)).bind(Utc::now()).bind(id)
        .execute(c).await.map(|_| ()))?;
    crate::storage::changes::changed_key(crate::storage::changes::Kind::Media, id);
    Ok(())
}

pub async fn mark_failed(db: &Db, id: i64, error: &str) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query(
        "UPDATE media_attachments SET state = 'failed', upload_key = NULL, progress = NULL, error = $1, \
         updated_at = $2 WHERE id = $3")
        .bind(error).bind(Utc::now()).bind(id).execute(c).await.map(|_| ()))?;
    crate::storage::changes::changed_key(crate::storage::changes::Kind::Media, id);
    Ok(())
}

pub async fn set_progress(db: &Db, id: i64, progress: f64) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query("UPDATE media_attachments SET progress = $1 WHERE id = $2 AND state = 'processing'")
        .bind(progress).bind(id).execute(c).await.map(|_| ()))?;
    Ok(())
}

/// A remote file (and its preview) is now kept here under these keys.
pub async fn mark_cached(
    db: &Db,
    id: i64,
    file_key: &str,
    content_type: &str,
    size: i64,
    preview_key: Option<&str>,
    meta: Option<&serde_json::Value>,
) -> sqlx::Result<()> {
    let now = Utc::now();
    on_db!(db, c => sqlx::query(
        "UPDATE media_attachments SET file_key = $1, file_content_type = $2, file_size = $3, \
         preview_key = COALESCE($4, preview_key), meta = COALESCE($5, meta), cached_at = $6, updated_at = $6 \
         WHERE id = $7")
        .bind(file_key).bind(content_type).bind(size).bind(preview_key).bind(meta.map(Json))
        .bind(now).bind(id).execute(c).await.map(|_| ()))?;
    crate::storage::changes::changed_key(crate::storage::changes::Kind::Media, id);
    Ok(())
}

/// Cached remote media older than `before`, oldest first.
pub async fn cached_before(
    db: &Db,
    before: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<MediaRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM media_attachments WHERE cached_at IS NOT NULL AND cached_at < $1 \
         ORDER BY cached_at LIMIT $2"
    );
    on_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(before).bind(limit).fetch_all(c).await)
}

/// Forgets the cached copy of a remote attachment (its files are deleted by the caller).
pub async fn mark_uncached(db: &Db, id: i64) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query(
        "UPDATE media_attachments SET file_key = NULL, preview_key = NULL, cached_at = NULL WHERE id = $1")
        .bind(id).execute(c).await.map(|_| ()))?;
    crate::storage::changes::changed_key(crate::storage::changes::Kind::Media, id);
    Ok(())
}

/// Records which attachments (in order) a stored version of a status had.
pub async fn record_version(tx: &mut Tx, edit_id: i64, media_ids: &[i64]) -> sqlx::Result<()> {
    for (pos, id) in media_ids.iter().enumerate() {
        on_db!(tx, c => sqlx::query(
            "INSERT INTO status_edit_media (edit_id, media_id, position) VALUES ($1, $2, $3)")
            .bind(edit_id).bind(id).bind(pos as i64).execute(&mut *c).await.map(|_| ()))?;
    }
    Ok(())
}

/// The attachments of each of the versions `edit_ids`, as `(edit_id, row)` in position order.
pub async fn of_versions(db: &Db, edit_ids: &[i64]) -> sqlx::Result<Vec<(i64, MediaRow)>> {
    if edit_ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut args = Args::default();
    let list = args.ids(edit_ids);
    let columns = COLUMNS
        .split(", ")
        .map(|c| format!("m.{c}"))
        .collect::<Vec<_>>()
        .join(", ");
    let sql = format!(
        "SELECT e.edit_id, {columns} FROM status_edit_media e \
         JOIN media_attachments m ON m.id = e.media_id \
         WHERE e.edit_id IN ({list}) ORDER BY e.edit_id, e.position"
    );
    #[derive(sqlx::FromRow)]
    struct VersionMedia {
        edit_id: i64,
        #[sqlx(flatten)]
        row: MediaRow,
    }
    let rows: Vec<VersionMedia> = on_db!(db, c => crate::bind_args!(sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)?;
    Ok(rows.into_iter().map(|r| (r.edit_id, r.row)).collect())
}

/// Whether a scheduled status, a profile, a stored version of a status or a story holds the
/// attachment (a status holding it shows in its `status_id`).
pub async fn in_use(db: &Db, id: i64) -> sqlx::Result<bool> {
    on_db!(db, c => sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM media_attachments WHERE id = $1 AND scheduled_status_id IS NOT NULL) \
         OR EXISTS (SELECT 1 FROM accounts a WHERE a.avatar_media_id = $1 OR a.header_media_id = $1) \
         OR EXISTS (SELECT 1 FROM status_edit_media e WHERE e.media_id = $1) \
         OR EXISTS (SELECT 1 FROM stories s WHERE s.media_id = $1)")
        .bind(id).fetch_one(c).await)
}

/// Attachments on no status, no profile and no stored version of a status, made before `before`:
/// uploads never posted, and media of deleted statuses.
pub async fn unattached_before(
    db: &Db,
    before: DateTime<Utc>,
    limit: i64,
) -> sqlx::Result<Vec<MediaRow>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM media_attachments m WHERE status_id IS NULL AND scheduled_status_id IS NULL AND created_at < $1 \
         AND state <> 'processing' \
         AND NOT EXISTS (SELECT 1 FROM accounts a WHERE a.avatar_media_id = m.id OR a.header_media_id = m.id) \
         AND NOT EXISTS (SELECT 1 FROM status_edit_media e WHERE e.media_id = m.id) \
         AND NOT EXISTS (SELECT 1 FROM stories s WHERE s.media_id = m.id) \
         ORDER BY created_at LIMIT $2"
    );
    on_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(before).bind(limit).fetch_all(c).await)
}

/// Deletes an attachment row inside a transaction.
pub async fn delete_in(tx: &mut Tx, id: i64) -> sqlx::Result<()> {
    tx.changes_key(crate::storage::changes::Kind::Media, id);
    on_db!(tx, c => sqlx::query("DELETE FROM media_attachments WHERE id = $1").bind(id).execute(c).await.map(|_| ()))?;
    Ok(())
}

pub async fn delete(db: &Db, id: i64) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query("DELETE FROM media_attachments WHERE id = $1").bind(id).execute(c).await.map(|_| ()))?;
    crate::storage::changes::changed_key(crate::storage::changes::Kind::Media, id);
    Ok(())
}

/// Points an account's avatar (`field` = `avatar_media_id`) or header (`header_media_id`) at `media_id`.
pub async fn set_profile_image(
    tx: &mut Tx,
    account_id: i64,
    field: ProfileImage,
    media_id: Option<i64>,
) -> sqlx::Result<()> {
    tx.changes_key(crate::storage::changes::Kind::Accounts, account_id);
    // Read by the token cache (`service::oauth::principal_for_token`).
    tx.changes(crate::storage::changes::Kind::SignIns);
    let sql = match field {
        ProfileImage::Avatar => {
            "UPDATE accounts SET avatar_media_id = $1, updated_at = $2 WHERE id = $3"
        }
        ProfileImage::Header => {
            "UPDATE accounts SET header_media_id = $1, updated_at = $2 WHERE id = $3"
        }
    };
    on_db!(tx, c => sqlx::query(sql).bind(media_id).bind(Utc::now()).bind(account_id)
        .execute(c).await.map(|_| ()))?;
    Ok(())
}

/// Which profile image.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProfileImage {
    Avatar,
    Header,
}
