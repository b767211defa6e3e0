//! Domain blocks: servers an admin suspended (no federation at all), silenced, or noted.

use chrono::{DateTime, Utc};

use crate::on_db;
use crate::storage::db::Db;
use crate::storage::ids;

#[derive(Clone, Debug, sqlx::FromRow)]
pub struct DomainBlockRow {
    pub id: i64,
    pub domain: String,
    pub severity: String,
    pub reject_media: bool,
    pub reject_reports: bool,
    pub private_comment: Option<String>,
    pub public_comment: Option<String>,
    pub obfuscate: bool,
    pub created_at: DateTime<Utc>,
}

const COLUMNS: &str = "id, domain, severity, reject_media, reject_reports, private_comment, \
    public_comment, obfuscate, created_at";

/// What an admin sets on a block.
#[derive(Clone, Debug, Default)]
pub struct BlockSettings {
    pub severity: String,
    pub reject_media: bool,
    pub reject_reports: bool,
    pub private_comment: Option<String>,
    pub public_comment: Option<String>,
    pub obfuscate: bool,
}

/// Creates or replaces the block of `domain`; returns it.
pub async fn upsert(db: &Db, domain: &str, s: &BlockSettings) -> sqlx::Result<DomainBlockRow> {
    let sql = format!(
        "INSERT INTO domain_blocks (id, domain, severity, reject_media, reject_reports, private_comment, \
         public_comment, obfuscate, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
         ON CONFLICT (domain) DO UPDATE SET severity = $3, reject_media = $4, reject_reports = $5, \
         private_comment = $6, public_comment = $7, obfuscate = $8 RETURNING {COLUMNS}"
    );
    on_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str()))
        .bind(ids::new_id()).bind(domain).bind(&s.severity).bind(s.reject_media).bind(s.reject_reports)
        .bind(&s.private_comment).bind(&s.public_comment).bind(s.obfuscate).bind(Utc::now())
        .fetch_one(c).await)
}

pub async fn list(db: &Db) -> sqlx::Result<Vec<DomainBlockRow>> {
    let sql = format!("SELECT {COLUMNS} FROM domain_blocks ORDER BY domain");
    on_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).fetch_all(c).await)
}

pub async fn find(db: &Db, id: i64) -> sqlx::Result<Option<DomainBlockRow>> {
    let sql = format!("SELECT {COLUMNS} FROM domain_blocks WHERE id = $1");
    on_db!(db, c => sqlx::query_as(sqlx::AssertSqlSafe(sql.as_str())).bind(id).fetch_optional(c).await)
}

/// Removes the block of `domain` (by name); true when there was one.
pub async fn delete_domain(db: &Db, domain: &str) -> sqlx::Result<bool> {
    let n = on_db!(db, c => sqlx::query("DELETE FROM domain_blocks WHERE domain = $1")
        .bind(domain).execute(c).await.map(|r| r.rows_affected()))?;
    Ok(n == 1)
}

/// True when `host` (with port if any) or a parent domain of it is suspended: `example.com`
/// covers `a.example.com` too, the same rule `statuses::not_limited` applies to silences.
pub async fn is_suspended(db: &Db, host: &str) -> sqlx::Result<bool> {
    has_block(db, host, "suspend").await
}

/// Whether `host` (with or without a port) or a parent domain of it is silenced ("limited").
pub async fn is_silenced(db: &Db, host: &str) -> sqlx::Result<bool> {
    has_block(db, host, "silence").await
}

/// Every block as `(domain, severity)`, for the in-memory copy `service::moderation` keeps.
pub async fn all_severities(db: &Db) -> sqlx::Result<Vec<(String, String)>> {
    on_db!(db, c => sqlx::query_as("SELECT domain, severity FROM domain_blocks")
        .fetch_all(c).await)
}

/// Whether a block of `domain` covers `host` (with or without a port): the same rule as the SQL of
/// [`is_suspended`].
pub fn covers(domain: &str, host: &str) -> bool {
    let host = host.to_lowercase();
    let bare = host.split(':').next().unwrap_or(&host);
    domain == host || domain == bare || bare.ends_with(&format!(".{domain}"))
}

async fn has_block(db: &Db, host: &str, severity: &str) -> sqlx::Result<bool> {
    let host = host.to_lowercase();
    let bare = host.split(':').next().unwrap_or(&host).to_string();
    let n: i64 = on_db!(db, conn => sqlx::query_scalar(
        "SELECT count(*) FROM domain_blocks WHERE severity = $3 \
         AND (domain = $1 OR domain = $2 OR $2 LIKE '%.' || domain)")
        .bind(&host).bind(&bare).bind(severity).fetch_one(conn).await)?;
    Ok(n > 0)
}
