//! A small builder for queries whose WHERE clause depends on the request (pagination, filters):
//! each argument added returns its `$n` placeholder, and [`bind_args!`](crate::bind_args) binds
//! them in order on whichever backend runs the query.

use chrono::{DateTime, Utc};

#[derive(Clone, Debug)]
pub enum Arg {
    I64(i64),
    Text(String),
    Bool(bool),
    Time(DateTime<Utc>),
    /// A nullable integer, bound with its type so that PostgreSQL knows it.
    OptI64(Option<i64>),
    OptText(Option<String>),
}

impl From<i64> for Arg {
    fn from(v: i64) -> Arg {
        Arg::I64(v)
    }
}
impl From<&str> for Arg {
    fn from(v: &str) -> Arg {
        Arg::Text(v.to_string())
    }
}
impl From<String> for Arg {
    fn from(v: String) -> Arg {
        Arg::Text(v)
    }
}
impl From<bool> for Arg {
    fn from(v: bool) -> Arg {
        Arg::Bool(v)
    }
}
impl From<Option<i64>> for Arg {
    fn from(v: Option<i64>) -> Arg {
        Arg::OptI64(v)
    }
}
impl From<Option<&str>> for Arg {
    fn from(v: Option<&str>) -> Arg {
        Arg::OptText(v.map(str::to_string))
    }
}
impl From<DateTime<Utc>> for Arg {
    fn from(v: DateTime<Utc>) -> Arg {
        Arg::Time(v)
    }
}

/// The most rows one multi-row statement (a `VALUES` or `IN` list) is given; callers split longer
/// lists. It keeps a statement well under the parameter limits (SQLite 32,766, PostgreSQL 65,535)
/// with 19 parameters a row for statuses.
pub const MAX_ROWS: usize = 100;

/// The elements of a JSON array bound as parameter `param` (serialised with `serde_json`), as a
/// table of one column, `value`, whose fields statements read with `value ->> N` (both backends'
/// operator; a JSON `null` reads as SQL `NULL`).
///
/// Why: a batch written as one statement keeps the same text whatever its size, so each
/// connection prepares it once and PostgreSQL can reuse its plan. A statement spelled out per
/// row is planned afresh for every batch size, and the statements that fan a batch out cost more
/// to plan than to run (docs/PERFORMANCE.md).
pub fn json_elements(tx: &crate::storage::Tx, param: &str) -> String {
    match tx {
        crate::storage::Tx::Sqlite(..) => format!("json_each({param})"),
        crate::storage::Tx::Postgres(..) => format!("json_array_elements(CAST({param} AS json))"),
    }
}

/// Arguments of a query being built, in placeholder order.
#[derive(Clone, Debug, Default)]
pub struct Args(pub Vec<Arg>);

impl Args {
    /// Adds an argument and returns its placeholder (`$1`, `$2`, …).
    pub fn add(&mut self, a: impl Into<Arg>) -> String {
        self.0.push(a.into());
        format!("${}", self.0.len())
    }

    /// Placeholders for a list of IDs, for `IN (…)`. An empty list yields `NULL` (matches nothing).
    pub fn ids(&mut self, ids: &[i64]) -> String {
        if ids.is_empty() {
            return "NULL".into();
        }
        ids.iter()
            .map(|i| self.add(*i))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// Binds every argument of `$args` to `$q` (a `sqlx::query`/`query_as`/`query_scalar`).
#[macro_export]
macro_rules! bind_args {
    ($q:expr, $args:expr) => {{
        let mut q = $q;
        for a in &$args.0 {
            q = match a {
                $crate::storage::sql::Arg::I64(v) => q.bind(*v),
                $crate::storage::sql::Arg::Text(v) => q.bind(v.clone()),
                $crate::storage::sql::Arg::Bool(v) => q.bind(*v),
                $crate::storage::sql::Arg::Time(v) => q.bind(*v),
                $crate::storage::sql::Arg::OptI64(v) => q.bind(*v),
                $crate::storage::sql::Arg::OptText(v) => q.bind(v.clone()),
            };
        }
        q
    }};
}

/// Mastodon's pagination window (`max_id`, `since_id`, `min_id`, `limit`) over a time-ordered ID
/// column. `min_id` pages forward from the oldest side; the others page backward from the newest.
#[derive(Clone, Copy, Debug, Default)]
pub struct Page {
    pub max_id: Option<i64>,
    pub since_id: Option<i64>,
    pub min_id: Option<i64>,
    pub limit: i64,
}

impl Page {
    /// Conditions on `col` (joined with AND, or `TRUE`), and the ORDER BY … LIMIT tail. Rows come
    /// back newest first, except with `min_id`, where the caller must reverse them (see
    /// [`Page::finish`]).
    pub fn sql(&self, col: &str, args: &mut Args) -> (String, String) {
        let mut conds = Vec::new();
        if let Some(m) = self.max_id {
            conds.push(format!("{col} < {}", args.add(m)));
        }
        if let Some(s) = self.since_id {
            conds.push(format!("{col} > {}", args.add(s)));
        }
        if let Some(m) = self.min_id {
            conds.push(format!("{col} > {}", args.add(m)));
        }
        let order = if self.min_id.is_some() { "ASC" } else { "DESC" };
        let limit = args.add(self.limit);
        let cond = if conds.is_empty() {
            "TRUE".to_string()
        } else {
            conds.join(" AND ")
        };
        (cond, format!("ORDER BY {col} {order} LIMIT {limit}"))
    }

    /// Puts rows fetched with [`Page::sql`] newest first.
    pub fn finish<T>(&self, mut rows: Vec<T>) -> Vec<T> {
        if self.min_id.is_some() {
            rows.reverse();
        }
        rows
    }
}
