//! Notifications and read markers.

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use crate::storage::db::{Db, Tx};
use crate::storage::ids;
use crate::storage::sql::{Args, Page};
use crate::{bind_args, on_db};

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct NotificationRow {
    pub id: i64,
    pub account_id: i64,
    pub from_account_id: i64,
    pub r#type: String,
    pub status_id: Option<i64>,
    /// `story_reply` and `story_reaction`: the story.
    pub story_id: Option<i64>,
    /// `story_reaction`: the emoji.
    pub emoji: Option<String>,
    /// `admin.report`: the report.
    pub report_id: Option<i64>,
    /// `missed_call`: the call.
    pub call_id: Option<i64>,
    /// Held back by the recipient's notification policy until its request is accepted.
    pub filtered: bool,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "n.id, n.account_id, n.from_account_id, n.type, n.status_id, n.story_id, n.emoji, n.report_id, \
     n.call_id, n.filtered, n.created_at";

/// What a notification is about beyond its type: a status, for story notifications the story and
/// a reaction's emoji, and for `admin.report` the report.
#[derive(Clone, Copy, Debug, Default)]
pub struct About<'a> {
    pub status_id: Option<i64>,
    pub story_id: Option<i64>,
    pub emoji: Option<&'a str>,
    pub report_id: Option<i64>,
    /// `missed_call`: the call.
    pub call_id: Option<i64>,
}

/// A notification to store with [`insert_many`].
#[derive(Clone, Copy, Debug)]
pub struct NewNotification<'a> {
    pub account_id: i64,
    pub from: i64,
    pub kind: &'a str,
    pub about: About<'a>,
}

/// Inserts notifications, each for a local `account_id` about `from`'s action unless the same one
/// exists, `account_id` is remote or is `from`, or it silences `from`
/// (`relationships::silences_sql`), and as the recipient's notification policy says
/// ([`crate::storage::notification_requests`]): dropped, stored `filtered` (then its sender's
/// request is recorded), or stored. One statement for all of them, since it runs inside the write
/// transaction of the action (the batch bound as JSON, see
/// [`json_elements`](crate::storage::sql::json_elements)). Returns, in the order given, `None`
/// for each skipped and the ID and whether it was filtered for each stored.
pub async fn insert_many(
    tx: &mut Tx,
    items: &[NewNotification<'_>],
) -> sqlx::Result<Vec<Option<(i64, bool)>>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = items.iter().map(|_| ids::new_id()).collect();
    // [id, account, from, type, status, story, emoji, report, call]
    let rows: Vec<serde_json::Value> = items
        .iter()
        .zip(&ids)
        .map(|(n, id)| {
            serde_json::json!([
                id,
                n.account_id,
                n.from,
                n.kind,
                n.about.status_id,
                n.about.story_id,
                n.about.emoji,
                n.about.report_id,
                n.about.call_id
            ])
        })
        .collect();
    let sql = format!(
        "WITH n AS (SELECT CAST(value ->> 0 AS BIGINT) AS id, CAST(value ->> 1 AS BIGINT) AS account_id, \
           CAST(value ->> 2 AS BIGINT) AS from_account_id, value ->> 3 AS type, \
           CAST(value ->> 4 AS BIGINT) AS status_id, CAST(value ->> 5 AS BIGINT) AS story_id, \
           value ->> 6 AS emoji, CAST(value ->> 7 AS BIGINT) AS report_id, \
           CAST(value ->> 8 AS BIGINT) AS call_id FROM {elements}), \
         d AS ({decision}) \
         INSERT INTO notifications (id, account_id, from_account_id, type, status_id, story_id, \
         emoji, report_id, call_id, filtered, created_at) SELECT n.id, n.account_id, n.from_account_id, \
         n.type, n.status_id, n.story_id, n.emoji, n.report_id, n.call_id, n.filtered, $2 FROM d n \
         WHERE NOT n.dropped AND (n.account_id <> n.from_account_id OR n.type = 'poll') \
         AND EXISTS (SELECT 1 FROM accounts WHERE id = n.account_id AND domain IS NULL) \
         AND NOT {silences} ON CONFLICT DO NOTHING RETURNING id, filtered",
        elements = crate::storage::sql::json_elements(tx, "$1"),
        decision = crate::storage::notification_requests::decision_sql("n", "$4", "$5"),
        silences = crate::storage::relationships::silences_sql(
            "n.account_id",
            "n.from_account_id",
            "$2",
            "$3"
        )
    );
    let rows = serde_json::Value::from(rows).to_string();
    let now = Utc::now();
    let (follower_since, new_since) = crate::storage::notification_requests::thresholds(now);
    let stored: Vec<(i64, bool)> = on_db!(tx, c => sqlx::query_as(AssertSqlSafe(sql.as_str()))
        .bind(&rows).bind(now).bind(true).bind(follower_since).bind(new_since).fetch_all(c).await)?;
    // Batches can be large (a poll's end notifies every voter): look the stored ones up by ID.
    let stored: std::collections::HashMap<i64, bool> = stored.into_iter().collect();
    let out: Vec<Option<(i64, bool)>> = ids
        .into_iter()
        .map(|id| stored.get(&id).map(|f| (id, *f)))
        .collect();
    let filtered: Vec<&NewNotification<'_>> = items
        .iter()
        .zip(&out)
        .filter(|(_, o)| matches!(o, Some((_, true))))
        .map(|(n, _)| n)
        .collect();
    crate::storage::notification_requests::record(tx, &filtered).await?;
    Ok(out)
}

/// Removes notifications of `kind` from `from` to `account_id` (about `status_id` when given), as
/// when a follow request is withdrawn.
pub async fn remove(
    tx: &mut Tx,
    account_id: i64,
    from: i64,
    kind: &str,
    status_id: Option<i64>,
) -> sqlx::Result<()> {
    on_db!(tx, c => sqlx::query(
        "DELETE FROM notifications WHERE account_id = $1 AND from_account_id = $2 AND type = $3 \
         AND coalesce(status_id, 0) = coalesce($4, 0)")
        .bind(account_id).bind(from).bind(kind).bind(status_id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Filters for listing notifications.
#[derive(Clone, Debug, Default)]
pub struct Filter {
    pub types: Vec<String>,
    pub exclude_types: Vec<String>,
    pub from_account: Option<i64>,
    /// Also those the notification policy filtered (`include_filtered`, Mastodon 4.3).
    pub include_filtered: bool,
}

fn filter_sql(f: &Filter, args: &mut Args) -> String {
    let mut conds = Vec::new();
    if !f.types.is_empty() {
        let list: Vec<String> = f.types.iter().map(|t| args.add(t.as_str())).collect();
        conds.push(format!("n.type IN ({})", list.join(", ")));
    }
    if !f.exclude_types.is_empty() {
        let list: Vec<String> = f
            .exclude_types
            .iter()
            .map(|t| args.add(t.as_str()))
            .collect();
        conds.push(format!("n.type NOT IN ({})", list.join(", ")));
    }
    if let Some(a) = f.from_account {
        conds.push(format!("n.from_account_id = {}", args.add(a)));
    }
    if !f.include_filtered {
        conds.push("n.filtered = FALSE".into());
    }
    if conds.is_empty() {
        "TRUE".into()
    } else {
        conds.join(" AND ")
    }
}

/// A page of `account_id`'s notifications, skipping those from accounts it blocks or mutes (with
/// notifications hidden) and those about statuses in threads it muted.
pub async fn list(
    db: &Db,
    account_id: i64,
    f: &Filter,
    page: &Page,
) -> sqlx::Result<Vec<NotificationRow>> {
    let mut args = Args::default();
    let a = args.add(account_id);
    let now = args.add(Utc::now());
    let fsql = filter_sql(f, &mut args);
    let (cond, tail) = page.sql("n.id", &mut args);
    let sql = format!(
        "SELECT {COLUMNS} FROM notifications n WHERE n.account_id = {a} AND {fsql} AND {cond} \
         AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.account_id = {a} AND b.target_account_id = n.from_account_id) \
         AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.account_id = {a} AND m.target_account_id = n.from_account_id \
             AND m.hide_notifications = TRUE AND (m.expires_at IS NULL OR m.expires_at > {now})) \
         AND NOT EXISTS (SELECT 1 FROM statuses s JOIN conversation_mutes cm ON cm.conversation_id = s.conversation_id \
             WHERE s.id = n.status_id AND cm.account_id = {a}) AND NOT {udb} {tail}",
        udb = crate::storage::user_domain_blocks::blocked_sql("n.from_account_id", &a),
    );
    let rows: Vec<NotificationRow> = on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)?;
    Ok(page.finish(rows))
}

pub async fn find(db: &Db, account_id: i64, id: i64) -> sqlx::Result<Option<NotificationRow>> {
    let sql =
        format!("SELECT {COLUMNS} FROM notifications n WHERE n.id = $1 AND n.account_id = $2");
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(id).bind(account_id).fetch_optional(c).await)
}

/// Deletes one notification (`Some(id)`) or all of them; returns how many went.
pub async fn dismiss(db: &Db, account_id: i64, id: Option<i64>) -> sqlx::Result<u64> {
    on_db!(db, c => match id {
        Some(id) => sqlx::query("DELETE FROM notifications WHERE account_id = $1 AND id = $2")
            .bind(account_id).bind(id).execute(c).await.map(|r| r.rows_affected()),
        None => sqlx::query("DELETE FROM notifications WHERE account_id = $1")
            .bind(account_id).execute(c).await.map(|r| r.rows_affected()),
    })
}

/// Notifications newer than `after_id` (at most `cap`), for `unread_count`.
pub async fn count_after(db: &Db, account_id: i64, after_id: i64, cap: i64) -> sqlx::Result<i64> {
    on_db!(db, c => sqlx::query_scalar(
        "SELECT count(*) FROM (SELECT 1 FROM notifications WHERE account_id = $1 AND id > $2 \
         AND filtered = FALSE LIMIT $3) AS x")
        .bind(account_id).bind(after_id).bind(cap).fetch_one(c).await)
}

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct MarkerRow {
    pub timeline: String,
    pub last_read_id: i64,
    pub version: i64,
    pub updated_at: DateTime<Utc>,
}

pub async fn markers(db: &Db, account_id: i64) -> sqlx::Result<Vec<MarkerRow>> {
    on_db!(db, c => sqlx::query_as(
        "SELECT timeline, last_read_id, version, updated_at FROM markers WHERE account_id = $1")
        .bind(account_id).fetch_all(c).await)
}

/// Sets a marker, bumping its version.
pub async fn set_marker(
    db: &Db,
    account_id: i64,
    timeline: &str,
    last_read_id: i64,
) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query(
        "INSERT INTO markers (account_id, timeline, last_read_id, version, updated_at) VALUES ($1, $2, $3, 1, $4) \
         ON CONFLICT (account_id, timeline) DO UPDATE SET last_read_id = $3, version = markers.version + 1, updated_at = $4")
        .bind(account_id).bind(timeline).bind(last_read_id).bind(Utc::now())
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
