//! Timeline pages (home, lists, public, hashtags, an account's) and threads, each one query with
//! visibility and filters in SQL.

use chrono::Utc;
use sqlx::AssertSqlSafe;

use crate::storage::db::Db;
use crate::storage::sql::{Args, Page};
use crate::{bind_args, on_db};

use super::*;

/// Runs a paginated status query: `from_where` is everything after `SELECT cols FROM`, ending in
/// a WHERE clause that the page condition is ANDed onto; `id_col` is the paginated column.
pub(super) async fn page_query(
    db: &Db,
    from_where: String,
    id_col: &str,
    args: Args,
    page: &Page,
) -> sqlx::Result<Vec<StatusRow>> {
    page_query_as(db, COLUMNS, from_where, id_col, args, page).await
}

/// [`page_query`] reading `columns` into `R`.
pub(super) async fn page_query_as<R>(
    db: &Db,
    columns: &str,
    from_where: String,
    id_col: &str,
    mut args: Args,
    page: &Page,
) -> sqlx::Result<Vec<R>>
where
    R: Send
        + Unpin
        + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    let db = db.reader().await;
    let (cond, tail) = page.sql(id_col, &mut args);
    let sql = format!("SELECT {columns} FROM {from_where} AND {cond} {tail}");
    let rows: Vec<R> = on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)?;
    Ok(page.finish(rows))
}

/// A page row with what the viewer did to it, read in the page's own query (see
/// [`home_with_viewer_state`]): `v_flags` is a set of [`FLAG_FAVOURITED`] and the others, one
/// column rather than seven because sqlx copies every column of every row. For a boost,
/// favourited, boosted and bookmarked are of the boosted status; pinned and muted are of both the
/// row and the boosted status.
#[derive(Debug, sqlx::FromRow)]
pub(super) struct FlaggedRow<T> {
    #[sqlx(flatten)]
    row: T,
    v_flags: i64,
    /// The boosted status's thread (for a boost), else the row's own.
    v_original_conversation: i64,
}

/// What a timeline page needs of a status when its rendering is kept (`service::rendered`).
#[derive(Clone, Debug, sqlx::FromRow)]
pub struct PageRow {
    pub id: i64,
    pub reblog_of_id: Option<i64>,
    pub conversation_id: i64,
}

/// The columns of [`PageRow`].
pub(super) const PAGE_COLUMNS: &str = "s.id, s.reblog_of_id, s.conversation_id";

/// A row of a page, whichever columns were read.
pub(super) trait PageItem {
    fn ids(&self) -> (i64, Option<i64>, i64);
}

impl PageItem for StatusRow {
    fn ids(&self) -> (i64, Option<i64>, i64) {
        (self.id, self.reblog_of_id, self.conversation_id)
    }
}

impl PageItem for PageRow {
    fn ids(&self) -> (i64, Option<i64>, i64) {
        (self.id, self.reblog_of_id, self.conversation_id)
    }
}

pub(super) const FLAG_FAVOURITED: i64 = 1;
pub(super) const FLAG_REBLOGGED: i64 = 2;
pub(super) const FLAG_BOOKMARKED: i64 = 4;
pub(super) const FLAG_PINNED: i64 = 8;
pub(super) const FLAG_PINNED_ORIGINAL: i64 = 16;
pub(super) const FLAG_MUTED: i64 = 32;
pub(super) const FLAG_MUTED_ORIGINAL: i64 = 64;

/// The home timeline of `viewer`: its feed rows, minus blocked and muted authors (of the status or
/// of the boosted status), with what the viewer did to them (favourites, boosts, bookmarks, pins,
/// thread mutes) read in the same query.
pub async fn home_with_viewer_state(
    db: &Db,
    viewer: i64,
    page: &Page,
) -> sqlx::Result<(Vec<StatusRow>, ViewerState)> {
    home_rows(db, viewer, page, COLUMNS).await
}

/// [`home_with_viewer_state`] reading only what a page of kept renderings needs.
pub async fn home_page_with_viewer_state(
    db: &Db,
    viewer: i64,
    page: &Page,
) -> sqlx::Result<(Vec<PageRow>, ViewerState)> {
    home_rows(db, viewer, page, PAGE_COLUMNS).await
}

pub(super) async fn home_rows<R>(
    db: &Db,
    viewer: i64,
    page: &Page,
    columns: &str,
) -> sqlx::Result<(Vec<R>, ViewerState)>
where
    R: PageItem
        + Send
        + Unpin
        + for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>,
{
    let db = db.reader().await;
    let mut args = Args::default();
    let v = args.add(viewer);
    let now = args.add(Utc::now());
    let target = "COALESCE(s.reblog_of_id, s.id)";
    // CASE rather than a cast: PostgreSQL casts a boolean to INTEGER but not to BIGINT.
    let bit = |cond: String, flag: i64| format!("CASE WHEN EXISTS ({cond}) THEN {flag} ELSE 0 END");
    let flags = [
        bit(
            format!(
                "SELECT 1 FROM favourites vf WHERE vf.account_id = {v} AND vf.status_id = {target}"
            ),
            FLAG_FAVOURITED,
        ),
        bit(
            format!(
                "SELECT 1 FROM statuses vr WHERE vr.account_id = {v} AND vr.reblog_of_id = {target}"
            ),
            FLAG_REBLOGGED,
        ),
        bit(
            format!(
                "SELECT 1 FROM bookmarks vb WHERE vb.account_id = {v} AND vb.status_id = {target}"
            ),
            FLAG_BOOKMARKED,
        ),
        bit(
            format!(
                "SELECT 1 FROM status_pins vp WHERE vp.account_id = {v} AND vp.status_id = s.id"
            ),
            FLAG_PINNED,
        ),
        bit(
            format!(
                "SELECT 1 FROM status_pins vq WHERE vq.account_id = {v} AND vq.status_id = {target}"
            ),
            FLAG_PINNED_ORIGINAL,
        ),
        bit(
            format!(
                "SELECT 1 FROM conversation_mutes vm WHERE vm.account_id = {v} AND vm.conversation_id = s.conversation_id"
            ),
            FLAG_MUTED,
        ),
        bit(
            format!(
                "SELECT 1 FROM conversation_mutes vn WHERE vn.account_id = {v} \
           AND vn.conversation_id = COALESCE(r.conversation_id, s.conversation_id)"
            ),
            FLAG_MUTED_ORIGINAL,
        ),
    ];
    let flags = format!(
        "CAST({} AS BIGINT) AS v_flags, COALESCE(r.conversation_id, s.conversation_id) AS v_original_conversation",
        flags.join(" + ")
    );
    let from_where = format!(
        "home_feed h JOIN statuses s ON s.id = h.status_id LEFT JOIN statuses r ON r.id = s.reblog_of_id \
         WHERE h.account_id = {v} AND (s.account_id = {v} OR {f1}) \
         AND (r.id IS NULL OR r.account_id = {v} OR {f2}) AND {vis}",
        f1 = not_filtered("s.account_id", &v, &now),
        f2 = not_filtered("r.account_id", &v, &now),
        vis = visible_to("s", &v),
    );
    let (cond, tail) = page.sql("h.status_id", &mut args);
    let sql = format!("SELECT {columns}, {flags} FROM {from_where} AND {cond} {tail}");
    let rows: Vec<FlaggedRow<R>> = on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)?;
    let mut state = ViewerState::default();
    let mut out = Vec::with_capacity(rows.len());
    for f in rows {
        let (id, reblog_of_id, conversation_id) = f.row.ids();
        let target = reblog_of_id.unwrap_or(id);
        let has = |flag: i64| f.v_flags & flag != 0;
        if has(FLAG_FAVOURITED) {
            state.favourited.push(target);
        }
        if has(FLAG_REBLOGGED) {
            state.reblogged.push(target);
        }
        if has(FLAG_BOOKMARKED) {
            state.bookmarked.push(target);
        }
        if has(FLAG_PINNED) {
            state.pinned.push(id);
        }
        if has(FLAG_PINNED_ORIGINAL) {
            state.pinned.push(target);
        }
        if has(FLAG_MUTED) {
            state.muted_conversations.push(conversation_id);
        }
        if has(FLAG_MUTED_ORIGINAL) {
            state.muted_conversations.push(f.v_original_conversation);
        }
        out.push(f.row);
    }
    Ok((page.finish(out), state))
}

/// SQL: does list `list` (owned by `owner`, with replies policy `policy`; all SQL expressions)
/// show status `s` of one of its members? Never a direct message; a reply to someone else only as
/// the policy says: `followed` (to accounts the owner follows, or the owner), `list` (to members),
/// `none`. A member's replies to itself always show.
pub fn list_shows(s: &str, owner: &str, list: &str, policy: &str) -> String {
    format!(
        "({s}.visibility <> 'direct' AND ({s}.in_reply_to_account_id IS NULL \
           OR {s}.in_reply_to_account_id = {s}.account_id \
           OR ({policy} = 'followed' AND ({s}.in_reply_to_account_id = {owner} \
               OR EXISTS (SELECT 1 FROM follows rf WHERE rf.account_id = {owner} \
                 AND rf.target_account_id = {s}.in_reply_to_account_id))) \
           OR ({policy} = 'list' AND EXISTS (SELECT 1 FROM list_accounts rl \
               WHERE rl.list_id = {list} AND rl.account_id = {s}.in_reply_to_account_id))))"
    )
}

/// The timeline of list `list_id` (owned by `viewer`): posts and boosts by its members that the
/// viewer may see, newest first, minus blocked and muted authors. Replies to others are kept by
/// `replies_policy`: `followed` (to accounts the viewer follows), `list` (to members), `none`.
/// Direct messages never show here.
pub async fn list_timeline(
    db: &Db,
    viewer: i64,
    list_id: i64,
    replies_policy: &str,
    page: &Page,
) -> sqlx::Result<Vec<StatusRow>> {
    let mut args = Args::default();
    let v = args.add(viewer);
    let l = args.add(list_id);
    let now = args.add(Utc::now());
    let policy = args.add(replies_policy);
    let from = format!(
        "statuses s LEFT JOIN statuses r ON r.id = s.reblog_of_id \
         WHERE s.account_id IN (SELECT la.account_id FROM list_accounts la WHERE la.list_id = {l}) \
         AND {shows} AND {f1} AND (r.id IS NULL OR r.account_id = {v} OR {f2}) AND {vis}",
        shows = list_shows("s", &v, &l, &policy),
        f1 = not_filtered("s.account_id", &v, &now),
        f2 = not_filtered("r.account_id", &v, &now),
        vis = visible_to("s", &v),
    );
    page_query(db, from, "s.id", args, page).await
}

/// Up to `limit` public posts since `since_id` (not replies, not boosts) that were favourited,
/// boosted or answered, most engaged first, minus authors `viewer` blocks or mutes (or who block
/// the viewer) and silenced servers; for trends.
pub async fn engaged_since(
    db: &Db,
    viewer: i64,
    since_id: i64,
    limit: i64,
) -> sqlx::Result<Vec<StatusRow>> {
    let mut args = Args::default();
    let v = args.add(viewer);
    let now = args.add(Utc::now());
    let since = args.add(since_id);
    let l = args.add(limit);
    let sql = format!(
        "SELECT {COLUMNS} FROM statuses s WHERE s.id >= {since} AND s.visibility = 'public' \
         AND s.reblog_of_id IS NULL AND s.in_reply_to_id IS NULL \
         AND s.favourites_count + s.reblogs_count + s.replies_count > 0 AND {f} AND {lim} \
         ORDER BY s.favourites_count + 2 * s.reblogs_count + s.replies_count DESC LIMIT {l}",
        f = not_filtered("s.account_id", &v, &now),
        lim = not_limited("s.account_id", &v),
    );
    on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)
}

/// Filters of the public and hashtag timelines.
#[derive(Clone, Copy, Debug, Default)]
pub struct PublicFilter {
    /// `Some(true)`: local only; `Some(false)`: remote only.
    pub local: Option<bool>,
    pub only_media: bool,
    /// Shorts only (Rookery's shorts feeds).
    pub only_shorts: bool,
    /// Only statuses showing this preview card (`GET /api/v1/timelines/link`).
    pub card_id: Option<i64>,
}

/// Whether a status has media; matches the partial index `statuses_account_media` (the media tab of
/// a profile reads only statuses with media).
pub(super) const HAS_MEDIA: &str = "s.has_media";

/// Whether a status is a short; matches the partial indexes `statuses_shorts` and
/// `statuses_account_shorts`.
pub(super) const IS_SHORT: &str = "s.short";

/// Public posts (no boosts, no replies to others), newest first.
pub async fn public(
    db: &Db,
    viewer: i64,
    filter: PublicFilter,
    tag: Option<&str>,
    page: &Page,
) -> sqlx::Result<Vec<StatusRow>> {
    let (from_where, args) = public_from_where(viewer, filter, tag);
    page_query(db, from_where, "s.id", args, page).await
}

/// [`public`] reading only what a page of kept renderings needs.
pub async fn public_page(
    db: &Db,
    viewer: i64,
    filter: PublicFilter,
    tag: Option<&str>,
    page: &Page,
) -> sqlx::Result<Vec<PageRow>> {
    let (from_where, args) = public_from_where(viewer, filter, tag);
    page_query_as(db, PAGE_COLUMNS, from_where, "s.id", args, page).await
}

/// More hashtags on a hashtag timeline (`GET /api/v1/timelines/tag/:hashtag`'s `any[]`, `all[]`,
/// `none[]`), names in lower case: a status has the main tag or one of `any`, every one of `all`,
/// and none of `none`.
#[derive(Clone, Debug, Default)]
pub struct TagQuery {
    pub any: Vec<String>,
    pub all: Vec<String>,
    pub none: Vec<String>,
}

impl TagQuery {
    /// No more hashtags than the main one.
    pub fn is_empty(&self) -> bool {
        self.any.is_empty() && self.all.is_empty() && self.none.is_empty()
    }
}

/// The hashtag timeline of `tag` narrowed by `q` (see [`TagQuery`]), as [`public`] reads it.
pub async fn tag_timeline(
    db: &Db,
    viewer: i64,
    filter: PublicFilter,
    tag: &str,
    q: &TagQuery,
    page: &Page,
) -> sqlx::Result<Vec<StatusRow>> {
    let (from_where, args) = public_from_where_tags(viewer, filter, Some(tag), q);
    page_query(db, from_where, "s.id", args, page).await
}

pub(super) fn public_from_where(
    viewer: i64,
    filter: PublicFilter,
    tag: Option<&str>,
) -> (String, Args) {
    public_from_where_tags(viewer, filter, tag, &TagQuery::default())
}

fn public_from_where_tags(
    viewer: i64,
    filter: PublicFilter,
    tag: Option<&str>,
    q: &TagQuery,
) -> (String, Args) {
    let mut args = Args::default();
    let v = args.add(viewer);
    let now = args.add(Utc::now());
    let mut from = String::from("statuses s ");
    let mut conds = vec![
        "s.visibility = 'public'".to_string(),
        "s.reblog_of_id IS NULL".to_string(),
        not_filtered("s.account_id", &v, &now),
    ];
    // A status having one of `names`: one placeholder each.
    let has_any = |args: &mut Args, names: &[String]| {
        let list: Vec<String> = names.iter().map(|n| args.add(n.to_lowercase())).collect();
        format!(
            "EXISTS (SELECT 1 FROM statuses_tags xt JOIN tags x ON x.id = xt.tag_id \
             WHERE xt.status_id = s.id AND x.name IN ({}))",
            list.join(", ")
        )
    };
    match tag {
        Some(t) if q.any.is_empty() => {
            from.push_str(
                "JOIN statuses_tags st ON st.status_id = s.id JOIN tags t ON t.id = st.tag_id ",
            );
            conds.push(format!("t.name = {}", args.add(t.to_lowercase())));
        }
        Some(t) => {
            let mut names = vec![t.to_string()];
            names.extend(q.any.iter().cloned());
            conds.push(has_any(&mut args, &names));
        }
        None => conds
            .push("(s.in_reply_to_id IS NULL OR s.in_reply_to_account_id = s.account_id)".into()),
    }
    for name in &q.all {
        conds.push(has_any(&mut args, std::slice::from_ref(name)));
    }
    if !q.none.is_empty() {
        conds.push(format!("NOT {}", has_any(&mut args, &q.none)));
    }
    if let Some(local) = filter.local {
        conds.push(format!("s.local = {}", args.add(local)));
    }
    conds.push(not_limited("s.account_id", &v));
    if filter.only_media {
        conds.push(HAS_MEDIA.into());
    }
    if filter.only_shorts {
        conds.push(IS_SHORT.into());
    }
    if let Some(card) = filter.card_id {
        conds.push(format!("s.card_id = {}", args.add(card)));
    }
    (format!("{from}WHERE {}", conds.join(" AND ")), args)
}

/// Filters of an account's statuses (`GET /api/v1/accounts/:id/statuses`).
#[derive(Clone, Debug, Default)]
pub struct AccountFilter {
    pub only_media: bool,
    pub only_shorts: bool,
    pub exclude_replies: bool,
    pub exclude_reblogs: bool,
    pub pinned: bool,
    pub tagged: Option<String>,
}

pub async fn by_account(
    db: &Db,
    viewer: i64,
    account_id: i64,
    f: &AccountFilter,
    page: &Page,
) -> sqlx::Result<Vec<StatusRow>> {
    let mut args = Args::default();
    let v = args.add(viewer);
    let a = args.add(account_id);
    let mut from = String::from("statuses s ");
    let mut conds = vec![
        format!("s.account_id = {a}"),
        visible_to("s", &v),
        format!(
            "NOT EXISTS (SELECT 1 FROM blocks fb WHERE fb.account_id = {a} AND fb.target_account_id = {v})"
        ),
    ];
    if f.exclude_replies {
        conds.push("(s.in_reply_to_id IS NULL OR s.in_reply_to_account_id = s.account_id)".into());
    }
    if f.exclude_reblogs {
        conds.push("s.reblog_of_id IS NULL".into());
    }
    if f.only_media {
        conds.push(HAS_MEDIA.into());
    }
    if f.only_shorts {
        conds.push(IS_SHORT.into());
    }
    if f.pinned {
        from.push_str(
            "JOIN status_pins sp ON sp.status_id = s.id AND sp.account_id = s.account_id ",
        );
    }
    if let Some(tag) = &f.tagged {
        from.push_str(
            "JOIN statuses_tags st ON st.status_id = s.id JOIN tags t ON t.id = st.tag_id ",
        );
        conds.push(format!("t.name = {}", args.add(tag.to_lowercase())));
    }
    let from_where = format!("{from}WHERE {}", conds.join(" AND "));
    page_query(db, from_where, "s.id", args, page).await
}

/// Replies below `id`, visible to `viewer` and not from filtered authors, oldest first; at most
/// `limit`.
pub async fn descendants(
    db: &Db,
    id: i64,
    viewer: i64,
    limit: i64,
) -> sqlx::Result<Vec<StatusRow>> {
    let db = db.reader().await;
    let mut args = Args::default();
    let root = args.add(id);
    let v = args.add(viewer);
    let now = args.add(Utc::now());
    let lim = args.add(limit);
    let sql = format!(
        "WITH RECURSIVE d(id, depth) AS (SELECT id, 1 FROM statuses WHERE in_reply_to_id = {root} \
           UNION ALL SELECT st.id, d.depth + 1 FROM statuses st JOIN d ON st.in_reply_to_id = d.id WHERE d.depth < 64) \
         SELECT {COLUMNS} FROM statuses s JOIN d ON d.id = s.id \
         WHERE {vis} AND (s.account_id = {v} OR {nf}) ORDER BY s.id LIMIT {lim}",
        vis = visible_to("s", &v),
        nf = not_filtered("s.account_id", &v, &now),
    );
    on_db!(db, c => bind_args!(sqlx::query_as(AssertSqlSafe(sql.as_str())), args).fetch_all(c).await)
}
