//! What viewers did to statuses: favourites, boosts, bookmarks, pins, thread mutes, and the
//! facts a page's rendering reads (mentions, hashtags, viewer state).

use chrono::Utc;
use sqlx::AssertSqlSafe;

use crate::storage::db::{Db, Tx};
use crate::storage::sql::{Args, Page};
use crate::{bind_args, on_db};

use super::*;

/// Which statuses the viewer has favourited, boosted, bookmarked, pinned, or muted the thread of.
#[derive(Default, Debug)]
pub struct ViewerState {
    pub favourited: Vec<i64>,
    pub reblogged: Vec<i64>,
    pub bookmarked: Vec<i64>,
    pub pinned: Vec<i64>,
    pub muted_conversations: Vec<i64>,
}

/// Statuses a viewer has favourited or bookmarked, newest action first; returns
/// `(favourite or bookmark row id, status)` so pages can continue from the action's ID.
pub async fn acted_on(
    db: &Db,
    viewer: i64,
    table: ActionTable,
    page: &Page,
) -> sqlx::Result<Vec<(i64, StatusRow)>> {
    let t = match table {
        ActionTable::Favourites => "favourites",
        ActionTable::Bookmarks => "bookmarks",
    };
    let mut args = Args::default();
    let v = args.add(viewer);
    let (cond, tail) = page.sql("x.id", &mut args);
    let sql = format!(
        "SELECT x.id AS action_id, {COLUMNS} FROM {t} x JOIN statuses s ON s.id = x.status_id \
         WHERE x.account_id = {v} AND {vis} AND {cond} {tail}",
        vis = visible_to("s", &v)
    );
    #[derive(sqlx::FromRow)]
    struct Acted {
        action_id: i64,
        #[sqlx(flatten)]
        status: StatusRow,
    }
    let rows: Vec<Acted> = on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)?;
    Ok(page.finish(rows.into_iter().map(|r| (r.action_id, r.status)).collect()))
}

#[derive(Clone, Copy, Debug)]
pub enum ActionTable {
    Favourites,
    Bookmarks,
}

/// Inserts a favourite, bookmark or pin; false when it already existed.
pub async fn add_action(
    tx: &mut Tx,
    table: &str,
    account_id: i64,
    status_id: i64,
) -> sqlx::Result<bool> {
    let sql = format!(
        "INSERT INTO {table} (id, account_id, status_id, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (account_id, status_id) DO NOTHING"
    );
    let n = on_db!(tx, c => sqlx::query(AssertSqlSafe(sql.as_str()))
        .bind(crate::storage::ids::new_id()).bind(account_id).bind(status_id).bind(Utc::now())
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Deletes a favourite, bookmark or pin; false when there was none.
pub async fn remove_action(
    tx: &mut Tx,
    table: &str,
    account_id: i64,
    status_id: i64,
) -> sqlx::Result<bool> {
    let sql = format!("DELETE FROM {table} WHERE account_id = $1 AND status_id = $2");
    let n = on_db!(tx, c => sqlx::query(AssertSqlSafe(sql.as_str())).bind(account_id).bind(status_id)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// Number of pins an account has.
pub async fn pin_count(db: &Db, account_id: i64) -> sqlx::Result<i64> {
    on_db!(db, c => sqlx::query_scalar("SELECT count(*) FROM status_pins WHERE account_id = $1")
        .bind(account_id).fetch_one(c).await)
}

pub async fn mute_conversation(
    db: &Db,
    account_id: i64,
    conversation_id: i64,
    mute: bool,
) -> sqlx::Result<()> {
    on_db!(db, c => {
        if mute {
            sqlx::query("INSERT INTO conversation_mutes (account_id, conversation_id) VALUES ($1, $2) ON CONFLICT DO NOTHING")
                .bind(account_id).bind(conversation_id).execute(c).await?;
        } else {
            sqlx::query("DELETE FROM conversation_mutes WHERE account_id = $1 AND conversation_id = $2")
                .bind(account_id).bind(conversation_id).execute(c).await?;
        }
    });
    Ok(())
}

/// Accounts that favourited (`Favourites`) or boosted a status, newest first, paginated by the
/// favourite's or boost's ID; returns `(that id, account id)`.
pub async fn actors_of(
    db: &Db,
    status_id: i64,
    reblogs: bool,
    page: &Page,
) -> sqlx::Result<Vec<(i64, i64)>> {
    let mut args = Args::default();
    let sid = args.add(status_id);
    let (cond, tail) = page.sql("x.id", &mut args);
    let sql = if reblogs {
        format!(
            "SELECT x.id, x.account_id FROM statuses x WHERE x.reblog_of_id = {sid} AND {cond} {tail}"
        )
    } else {
        format!(
            "SELECT x.id, x.account_id FROM favourites x WHERE x.status_id = {sid} AND {cond} {tail}"
        )
    };
    let rows: Vec<(i64, i64)> = on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)?;
    Ok(page.finish(rows))
}

/// What rendering a page of statuses needs besides the rows: mentions, hashtags, and what
/// `viewer` did to them.
#[derive(Debug, Default)]
pub struct StatusFacts {
    /// `(status_id, account_id)`.
    pub mentions: Vec<(i64, i64)>,
    /// `(status_id, tag name)`, by name.
    pub tags: Vec<(i64, String)>,
    pub viewer: ViewerState,
}

/// [`StatusFacts`] for these statuses: one query for mentions and hashtags, one for what the
/// viewer did (skipped for anonymous viewers). Two small queries measured faster on SQLite than
/// one UNION of all seven parts.
pub async fn facts_of(db: &Db, viewer: i64, status_ids: &[i64]) -> sqlx::Result<StatusFacts> {
    let db = db.reader().await;
    let (mentions, tags) = links_of(db, status_ids).await?;
    Ok(StatusFacts {
        mentions,
        tags,
        viewer: viewer_state(db, viewer, status_ids).await?,
    })
}

/// The mentions `(status_id, account_id)` and hashtags `(status_id, name)`, by name, of these
/// statuses. One query.
pub async fn links_of(
    db: &Db,
    status_ids: &[i64],
) -> sqlx::Result<(Vec<(i64, i64)>, Vec<(i64, String)>)> {
    let db = db.reader().await;
    let (mut mentions, mut tags) = (Vec::new(), Vec::new());
    if status_ids.is_empty() {
        return Ok((mentions, tags));
    }
    let mut args = Args::default();
    let list = args.ids(status_ids);
    let sql = format!(
        "SELECT m.status_id, m.account_id, CAST(NULL AS TEXT) AS name FROM mentions m WHERE m.status_id IN ({list}) \
         UNION ALL SELECT st.status_id, CAST(NULL AS BIGINT), t.name FROM statuses_tags st \
           JOIN tags t ON t.id = st.tag_id WHERE st.status_id IN ({list})"
    );
    let rows: Vec<(i64, Option<i64>, Option<String>)> = on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)?;
    for (id, account, name) in rows {
        match (account, name) {
            (Some(a), _) => mentions.push((id, a)),
            (None, Some(n)) => tags.push((id, n)),
            _ => {}
        }
    }
    tags.sort_by(|a, b| a.1.cmp(&b.1));
    Ok((mentions, tags))
}

/// What `viewer` did with these statuses (favourited, boosted, bookmarked, pinned) and which
/// conversations it muted; empty for anonymous viewers. One query.
pub async fn viewer_state(db: &Db, viewer: i64, status_ids: &[i64]) -> sqlx::Result<ViewerState> {
    let db = db.reader().await;
    let mut state = ViewerState::default();
    if viewer == ANONYMOUS || status_ids.is_empty() {
        return Ok(state);
    }
    let mut args = Args::default();
    let v = args.add(viewer);
    let list = args.ids(status_ids);
    let sql = format!(
        "SELECT 'f', status_id FROM favourites WHERE account_id = {v} AND status_id IN ({list}) \
         UNION ALL SELECT 'r', reblog_of_id FROM statuses WHERE account_id = {v} AND reblog_of_id IN ({list}) \
         UNION ALL SELECT 'b', status_id FROM bookmarks WHERE account_id = {v} AND status_id IN ({list}) \
         UNION ALL SELECT 'p', status_id FROM status_pins WHERE account_id = {v} AND status_id IN ({list}) \
         UNION ALL SELECT 'm', conversation_id FROM conversation_mutes WHERE account_id = {v}"
    );
    let rows: Vec<(String, i64)> = on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)?;
    for (kind, id) in rows {
        match kind.as_str() {
            "f" => state.favourited.push(id),
            "r" => state.reblogged.push(id),
            "b" => state.bookmarked.push(id),
            "p" => state.pinned.push(id),
            _ => state.muted_conversations.push(id),
        }
    }
    Ok(state)
}
