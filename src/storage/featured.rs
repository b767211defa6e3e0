//! What profiles feature (endorsed accounts, featured hashtags) and how accounts are discovered
//! (the directory, follow suggestions).

use chrono::{DateTime, Utc};
use sqlx::AssertSqlSafe;

use crate::storage::accounts::{AccountRow, qualified_account_columns};
use crate::storage::db::Db;
use crate::storage::sql::Args;
use crate::{bind_args, on_db};

/// Endorses (`on`) or stops endorsing an account.
pub async fn set_endorsed(db: &Db, account: i64, target: i64, on: bool) -> sqlx::Result<()> {
    on_db!(db, c => if on {
        sqlx::query("INSERT INTO account_pins (account_id, target_account_id, created_at) VALUES ($1, $2, $3) \
                     ON CONFLICT DO NOTHING")
            .bind(account).bind(target).bind(Utc::now()).execute(c).await.map(|r| r.rows_affected())
    } else {
        sqlx::query("DELETE FROM account_pins WHERE account_id = $1 AND target_account_id = $2")
            .bind(account).bind(target).execute(c).await.map(|r| r.rows_affected())
    })?;
    Ok(())
}

/// Accounts `account` endorses, most recent first.
pub async fn endorsed(db: &Db, account: i64) -> sqlx::Result<Vec<AccountRow>> {
    let sql = format!(
        "SELECT {} FROM account_pins p JOIN accounts a ON a.id = p.target_account_id \
         WHERE p.account_id = $1 ORDER BY p.created_at DESC",
        qualified_account_columns()
    );
    on_db!(db, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(account).fetch_all(c).await)
}

/// A featured hashtag with its use by the account: public and unlisted posts, and the latest.
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct FeaturedTagRow {
    pub id: i64,
    pub name: String,
    pub display_name: String,
    pub statuses_count: i64,
    pub last_status_at: Option<DateTime<Utc>>,
}

/// `account`'s featured hashtags, in the order they were added.
pub async fn featured_tags(db: &Db, account: i64) -> sqlx::Result<Vec<FeaturedTagRow>> {
    on_db!(db, c => sqlx::query_as(
        "SELECT f.id, t.name, t.display_name, \
           (SELECT count(*) FROM statuses_tags st JOIN statuses s ON s.id = st.status_id \
              WHERE st.tag_id = t.id AND s.account_id = f.account_id \
              AND s.visibility IN ('public', 'unlisted')) AS statuses_count, \
           (SELECT max(s.created_at) FROM statuses_tags st JOIN statuses s ON s.id = st.status_id \
              WHERE st.tag_id = t.id AND s.account_id = f.account_id \
              AND s.visibility IN ('public', 'unlisted')) AS last_status_at \
         FROM featured_tags f JOIN tags t ON t.id = f.tag_id WHERE f.account_id = $1 ORDER BY f.id")
        .bind(account).fetch_all(c).await)
}

pub async fn add_featured_tag(db: &Db, id: i64, account: i64, tag: i64) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query(
        "INSERT INTO featured_tags (id, account_id, tag_id, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT DO NOTHING")
        .bind(id).bind(account).bind(tag).bind(Utc::now()).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// True when there was one.
pub async fn remove_featured_tag(db: &Db, account: i64, id: i64) -> sqlx::Result<bool> {
    let n = on_db!(db, c => sqlx::query("DELETE FROM featured_tags WHERE id = $1 AND account_id = $2")
        .bind(id).bind(account).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n > 0)
}

/// Stops featuring the tag `tag_id` (by the tag, as `POST /api/v1/tags/:name/unfeature` names it).
pub async fn remove_featured_tag_of(db: &Db, account: i64, tag_id: i64) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query("DELETE FROM featured_tags WHERE account_id = $1 AND tag_id = $2")
        .bind(account).bind(tag_id).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Hashtags `account` used most in its public and unlisted posts, not featured yet.
pub async fn most_used_tags(
    db: &Db,
    account: i64,
    limit: i64,
) -> sqlx::Result<Vec<crate::storage::tags::TagRow>> {
    on_db!(db, c => sqlx::query_as(
        "SELECT t.id, t.name, t.display_name, t.created_at FROM tags t JOIN ( \
           SELECT st.tag_id, count(*) AS n FROM statuses_tags st JOIN statuses s ON s.id = st.status_id \
           WHERE s.account_id = $1 AND s.visibility IN ('public', 'unlisted') GROUP BY st.tag_id) u \
           ON u.tag_id = t.id \
         WHERE NOT EXISTS (SELECT 1 FROM featured_tags f WHERE f.account_id = $1 AND f.tag_id = t.id) \
         ORDER BY u.n DESC, t.name LIMIT $2")
        .bind(account).bind(limit).fetch_all(c).await)
}

/// `GET /api/v1/directory`: discoverable accounts (local only with `local`), by latest post
/// (`active`) or newest account (`new`), not silenced or suspended.
pub async fn directory(
    db: &Db,
    local: bool,
    order_new: bool,
    limit: i64,
    offset: i64,
) -> sqlx::Result<Vec<AccountRow>> {
    let order = if order_new {
        "a.created_at DESC"
    } else {
        "st.last_status_at DESC"
    };
    let mut args = Args::default();
    let l = args.add(limit);
    let o = args.add(offset);
    let sql = format!(
        "SELECT {cols} FROM accounts a LEFT JOIN account_stats st ON st.account_id = a.id \
         WHERE a.discoverable AND ({local} = FALSE OR a.domain IS NULL) \
         AND (a.domain IS NOT NULL OR EXISTS (SELECT 1 FROM users u WHERE u.account_id = a.id \
              AND u.approved AND NOT u.disabled)) \
         AND NOT EXISTS (SELECT 1 FROM domain_blocks b WHERE b.severity <> 'noop' \
              AND (a.domain = b.domain OR a.domain LIKE '%.' || b.domain)) \
         AND ({new} OR st.last_status_at IS NOT NULL) \
         ORDER BY {order}, a.id DESC LIMIT {l} OFFSET {o}",
        cols = qualified_account_columns(),
        local = if local { "TRUE" } else { "FALSE" },
        new = if order_new { "TRUE" } else { "FALSE" },
    );
    on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)
}

/// Follow suggestions for `viewer`: accounts followed by accounts it follows (`friends_of_friends`,
/// most shared first), then the most followed local accounts (`most_followed`); never itself,
/// accounts it follows, has asked to follow, blocks, mutes or dismissed, nor anyone not
/// discoverable. Returns `(account, source)`.
pub async fn suggestions(
    db: &Db,
    viewer: i64,
    limit: i64,
) -> sqlx::Result<Vec<(AccountRow, String)>> {
    let excluded = "a.id <> $1 AND a.discoverable \
        AND NOT EXISTS (SELECT 1 FROM follows x WHERE x.account_id = $1 AND x.target_account_id = a.id) \
        AND NOT EXISTS (SELECT 1 FROM follow_requests x WHERE x.account_id = $1 AND x.target_account_id = a.id) \
        AND NOT EXISTS (SELECT 1 FROM blocks x WHERE (x.account_id = $1 AND x.target_account_id = a.id) \
             OR (x.account_id = a.id AND x.target_account_id = $1)) \
        AND NOT EXISTS (SELECT 1 FROM mutes x WHERE x.account_id = $1 AND x.target_account_id = a.id) \
        AND NOT EXISTS (SELECT 1 FROM suggestion_dismissals x WHERE x.account_id = $1 AND x.target_account_id = a.id)";
    let cols = qualified_account_columns();
    let fof = format!(
        "SELECT {cols} FROM accounts a JOIN ( \
           SELECT f2.target_account_id AS id, count(*) AS n FROM follows f1 \
           JOIN follows f2 ON f2.account_id = f1.target_account_id \
           WHERE f1.account_id = $1 GROUP BY f2.target_account_id) c ON c.id = a.id \
         WHERE {excluded} ORDER BY c.n DESC, a.id LIMIT $2"
    );
    let popular = format!(
        "SELECT {cols} FROM accounts a LEFT JOIN account_stats st ON st.account_id = a.id \
         WHERE a.domain IS NULL AND {excluded} \
         AND EXISTS (SELECT 1 FROM users u WHERE u.account_id = a.id AND u.approved AND NOT u.disabled) \
         ORDER BY COALESCE(st.followers_count, 0) DESC, a.id LIMIT $2"
    );
    let friends: Vec<AccountRow> = on_db!(db, c => sqlx::query_as(AssertSqlSafe(fof.as_str()))
        .bind(viewer).bind(limit).fetch_all(c).await)?;
    let most: Vec<AccountRow> = on_db!(db, c => sqlx::query_as(AssertSqlSafe(popular.as_str()))
        .bind(viewer).bind(limit).fetch_all(c).await)?;
    let mut out: Vec<(AccountRow, String)> = friends
        .into_iter()
        .map(|a| (a, "friends_of_friends".to_string()))
        .collect();
    for a in most {
        if out.len() as i64 >= limit {
            break;
        }
        if !out.iter().any(|(b, _)| b.id == a.id) {
            out.push((a, "most_followed".to_string()));
        }
    }
    Ok(out)
}

/// Stops suggesting `target` to `account`.
pub async fn dismiss_suggestion(db: &Db, account: i64, target: i64) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query(
        "INSERT INTO suggestion_dismissals (account_id, target_account_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
        .bind(account).bind(target).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}
