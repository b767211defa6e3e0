//! Moderation of accounts: silencing, suspending (and purging what they did), the admin list.

use chrono::{DateTime, Utc};

use sqlx::AssertSqlSafe;

use crate::on_db;
use crate::storage::db::{Db, Tx};

use super::*;

/// Limits (`Some`) or un-limits (`None`) an account.
pub async fn set_silenced(db: &Db, id: i64, at: Option<DateTime<Utc>>) -> sqlx::Result<()> {
    on_db!(db, c => sqlx::query("UPDATE accounts SET silenced_at = $2 WHERE id = $1")
        .bind(id).bind(at).execute(c).await.map(|r| r.rows_affected()))?;
    crate::storage::changes::changed(crate::storage::changes::Kind::SignIns);
    crate::storage::changes::changed_key(crate::storage::changes::Kind::Accounts, id);
    Ok(())
}

/// Marks an account suspended (`Some`) or lifts the mark (`None`). A suspended account's profile
/// is blanked: what it said is gone with its posts.
pub async fn set_suspended(tx: &mut Tx, id: i64, at: Option<DateTime<Utc>>) -> sqlx::Result<()> {
    tx.changes_key(crate::storage::changes::Kind::Accounts, id);
    // Read by the token cache (`service::oauth::principal_for_token`).
    tx.changes(crate::storage::changes::Kind::SignIns);
    let sql = if at.is_some() {
        "UPDATE accounts SET suspended_at = $2, display_name = '', note = '', fields = '[]', \
         avatar_media_id = NULL, header_media_id = NULL WHERE id = $1"
    } else {
        "UPDATE accounts SET suspended_at = $2 WHERE id = $1"
    };
    on_db!(tx, c => sqlx::query(sql).bind(id).bind(at).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Takes away what an account did to others' things and to relationships, keeping counters right:
/// favourites it gave, follows and follow requests both ways, notifications it caused. Its own
/// statuses go through the status service (one by one, so boosts, threads and streams follow).
pub async fn purge_interactions(tx: &mut Tx, id: i64) -> sqlx::Result<Vec<(i64, i64)>> {
    on_db!(tx, c => sqlx::query(
        "UPDATE statuses SET favourites_count = favourites_count - 1 \
         WHERE id IN (SELECT status_id FROM favourites WHERE account_id = $1) AND favourites_count > 0")
        .bind(id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    tx.changes(crate::storage::changes::Kind::Statuses);
    for sql in [
        "DELETE FROM favourites WHERE account_id = $1",
        "DELETE FROM follow_requests WHERE account_id = $1 OR target_account_id = $1",
        "DELETE FROM notifications WHERE from_account_id = $1",
        "DELETE FROM stories WHERE account_id = $1",
    ] {
        on_db!(tx, c => sqlx::query(sql).bind(id).execute(&mut *c).await.map(|r| r.rows_affected()))?;
    }
    let follows: Vec<(i64, i64)> = on_db!(tx, c => sqlx::query_as(
        "SELECT account_id, target_account_id FROM follows WHERE account_id = $1 OR target_account_id = $1")
        .bind(id).fetch_all(&mut *c).await)?;
    let mut ended = Vec::new();
    for (a, b) in follows {
        if crate::storage::relationships::delete_follow(
            tx,
            crate::storage::relationships::FollowTable::Follows,
            a,
            b,
        )
        .await?
        {
            ended.push((a, b));
        }
    }
    Ok(ended)
}

/// Which accounts the admin API lists (`GET /api/v1/admin/accounts`, v1 and v2 filters).
#[derive(Clone, Debug, Default)]
pub struct AdminAccountFilter {
    /// `Some(true)`: local only; `Some(false)`: remote only.
    pub local: Option<bool>,
    /// `active`, `pending`, `disabled`, `silenced` or `suspended`.
    pub status: Option<String>,
    /// Moderators and admins only.
    pub staff: bool,
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub by_domain: Option<String>,
    pub email: Option<String>,
}

/// Accounts for moderators, newest first, paged by ID.
pub async fn admin_list(
    db: &Db,
    f: &AdminAccountFilter,
    page: &crate::storage::sql::Page,
) -> sqlx::Result<Vec<AccountRow>> {
    let mut args = crate::storage::sql::Args::default();
    let (cond, tail) = page.sql("a.id", &mut args);
    // Servers' own actors (`Application`) are not accounts anyone moderates.
    let mut conds = vec![cond, "a.actor_type <> 'Application'".to_string()];
    match f.local {
        Some(true) => conds.push("a.domain IS NULL".into()),
        Some(false) => conds.push("a.domain IS NOT NULL".into()),
        None => {}
    }
    match f.status.as_deref() {
        Some("active") => conds.push(
            "a.suspended_at IS NULL AND (u.id IS NULL OR (u.approved AND NOT u.disabled))".into(),
        ),
        Some("pending") => conds.push("u.id IS NOT NULL AND NOT u.approved".into()),
        Some("disabled") => conds.push("u.id IS NOT NULL AND u.disabled".into()),
        Some("silenced") => conds.push("a.silenced_at IS NOT NULL".into()),
        Some("suspended") => conds.push("a.suspended_at IS NOT NULL".into()),
        _ => {}
    }
    if f.staff {
        conds.push("u.role IN ('moderator', 'admin')".into());
    }
    let like = |v: &str| format!("%{}%", v.to_lowercase().replace(['%', '_'], ""));
    if let Some(v) = f.username.as_deref().filter(|v| !v.is_empty()) {
        conds.push(format!("lower(a.username) LIKE {}", args.add(like(v))));
    }
    if let Some(v) = f.display_name.as_deref().filter(|v| !v.is_empty()) {
        conds.push(format!("lower(a.display_name) LIKE {}", args.add(like(v))));
    }
    if let Some(v) = f.by_domain.as_deref().filter(|v| !v.is_empty()) {
        conds.push(format!("lower(a.domain) = {}", args.add(v.to_lowercase())));
    }
    if let Some(v) = f.email.as_deref().filter(|v| !v.is_empty()) {
        conds.push(format!("lower(u.email) LIKE {}", args.add(like(v))));
    }
    let sql = format!(
        "SELECT {cols} FROM accounts a LEFT JOIN users u ON u.account_id = a.id WHERE {} {tail}",
        conds.join(" AND "),
        cols = qualified_account_columns(),
    );
    let rows = on_db!(db, c => crate::bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)?;
    Ok(page.finish(rows))
}
