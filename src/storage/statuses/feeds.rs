//! Home feeds: fanning a status out to its readers' feeds, merging and unmerging an author's
//! statuses when a follow starts or ends.

use sqlx::AssertSqlSafe;

use crate::on_db;
use crate::storage::db::{Db, Tx};
use crate::storage::sql::json_elements;

/// Home-feed fan-out: adds `status_id` to the feeds of `author` (when local: remote accounts have
/// no home feed here), of the author's local followers (only those showing boosts, for a boost)
/// and of the followers of `tag_ids` (public posts only).
/// Returns the accounts whose feed gained it, for streaming.
///
/// A reply to someone else (`reply_to_other`) reaches only followers who also follow that person
/// (or are that person), as Mastodon's home feeds do.
pub async fn fan_out(
    tx: &mut Tx,
    status_id: i64,
    author: i64,
    is_reblog: bool,
    to_followers: bool,
    tag_ids: &[i64],
    reply_to_other: Option<i64>,
) -> sqlx::Result<Vec<i64>> {
    let one = FanOut {
        status_id,
        author,
        is_reblog,
        to_followers,
        tag_ids,
        reply_to_other,
    };
    let pairs = fan_out_many(tx, std::slice::from_ref(&one)).await?;
    Ok(pairs.into_iter().map(|(account, _)| account).collect())
}

/// Whose home feeds a new status goes to: see [`fan_out`].
#[derive(Clone, Copy, Debug)]
pub struct FanOut<'a> {
    pub status_id: i64,
    pub author: i64,
    pub is_reblog: bool,
    pub to_followers: bool,
    pub tag_ids: &'a [i64],
    pub reply_to_other: Option<i64>,
}

/// [`fan_out`] for several statuses with one statement (the batch bound as JSON, see
/// [`json_elements`](crate::storage::sql::json_elements)); returns the `(account_id, status_id)`
/// feed entries added, in no order.
pub async fn fan_out_many(tx: &mut Tx, items: &[FanOut<'_>]) -> sqlx::Result<Vec<(i64, i64)>> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    // [status, author, is_reblog, to_followers, reply_to_other]
    let statuses: Vec<serde_json::Value> = items
        .iter()
        .map(|i| {
            serde_json::json!([
                i.status_id,
                i.author,
                i32::from(i.is_reblog),
                i32::from(i.to_followers),
                i.reply_to_other
            ])
        })
        .collect();
    // [status, followed tag]
    let tags: Vec<[i64; 2]> = items
        .iter()
        .flat_map(|i| i.tag_ids.iter().map(|t| [i.status_id, *t]))
        .collect();
    let sql = format!(
        "WITH b AS (SELECT CAST(value ->> 0 AS BIGINT) AS status_id, CAST(value ->> 1 AS BIGINT) AS author, \
           CAST(value ->> 2 AS INTEGER) AS is_reblog, CAST(value ->> 3 AS INTEGER) AS to_followers, \
           CAST(value ->> 4 AS BIGINT) AS reply_to FROM {}), \
         t AS (SELECT CAST(value ->> 0 AS BIGINT) AS status_id, CAST(value ->> 1 AS BIGINT) AS tag_id FROM {}) \
         INSERT INTO home_feed (account_id, status_id) SELECT r.account_id, r.status_id FROM ( \
           SELECT a.id AS account_id, b.status_id FROM b JOIN accounts a ON a.id = b.author WHERE a.domain IS NULL \
           UNION \
           SELECT f.account_id, b.status_id FROM b JOIN follows f ON f.target_account_id = b.author \
             JOIN accounts fa ON fa.id = f.account_id \
             WHERE b.to_followers = 1 AND fa.domain IS NULL AND (b.is_reblog = 0 OR f.show_reblogs = TRUE) \
             AND (b.reply_to IS NULL OR f.account_id = b.reply_to OR EXISTS (SELECT 1 FROM follows f2 \
               WHERE f2.account_id = f.account_id AND f2.target_account_id = b.reply_to)) \
             AND NOT EXISTS (SELECT 1 FROM list_accounts xl JOIN lists x ON x.id = xl.list_id \
               WHERE xl.account_id = b.author AND x.account_id = f.account_id AND x.exclusive) \
           UNION \
           SELECT tf.account_id, t.status_id FROM t JOIN tag_follows tf ON tf.tag_id = t.tag_id \
         ) AS r WHERE TRUE ON CONFLICT DO NOTHING RETURNING account_id, status_id",
        json_elements(tx, "$1"),
        json_elements(tx, "$2"),
    );
    let (statuses, tags) = (
        serde_json::Value::from(statuses).to_string(),
        serde_json::to_string(&tags).expect("integers serialise"),
    );
    on_db!(tx, c => sqlx::query_as(AssertSqlSafe(sql.as_str())).bind(&statuses).bind(&tags)
        .fetch_all(c).await)
}

/// Accounts whose home feed holds `status_id` (for streaming a deletion).
pub async fn feed_holders(db: &Db, status_id: i64) -> sqlx::Result<Vec<i64>> {
    on_db!(db, c => sqlx::query_scalar("SELECT account_id FROM home_feed WHERE status_id = $1")
        .bind(status_id).fetch_all(c).await)
}

/// Adds up to `limit` recent statuses of `author` (not direct; private only when `with_private`)
/// to `reader`'s feed, after a follow.
pub async fn merge_into_feed(
    tx: &mut Tx,
    reader: i64,
    author: i64,
    with_private: bool,
    limit: i64,
) -> sqlx::Result<()> {
    let vis = if with_private {
        "('public', 'unlisted', 'private')"
    } else {
        "('public', 'unlisted')"
    };
    let sql = format!(
        "INSERT INTO home_feed (account_id, status_id) SELECT $1, s.id FROM statuses s \
         WHERE s.account_id = $2 AND s.visibility IN {vis} ORDER BY s.id DESC LIMIT $3 ON CONFLICT DO NOTHING"
    );
    on_db!(tx, c => sqlx::query(AssertSqlSafe(sql.as_str())).bind(reader).bind(author).bind(limit)
        .execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Removes `author`'s statuses and boosts from `reader`'s feed, after an unfollow or block.
pub async fn unmerge_from_feed(tx: &mut Tx, reader: i64, author: i64) -> sqlx::Result<()> {
    on_db!(tx, c => sqlx::query(
        "DELETE FROM home_feed WHERE account_id = $1 AND status_id IN (SELECT id FROM statuses WHERE account_id = $2)")
        .bind(reader).bind(author).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(())
}

/// Direct-message fan-out: adds the status to the feeds of mentioned local accounts that follow
/// the author. Returns them.
pub async fn fan_out_to_mentioned_followers(
    tx: &mut Tx,
    status_id: i64,
    author: i64,
) -> sqlx::Result<Vec<i64>> {
    on_db!(tx, c => sqlx::query_scalar(
        "INSERT INTO home_feed (account_id, status_id) SELECT m.account_id, $1 FROM mentions m \
         JOIN follows f ON f.account_id = m.account_id AND f.target_account_id = $2 \
         JOIN accounts a ON a.id = m.account_id AND a.domain IS NULL \
         WHERE m.status_id = $1 ON CONFLICT DO NOTHING RETURNING account_id")
        .bind(status_id).bind(author).fetch_all(c).await)
}
