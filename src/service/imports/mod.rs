//! CSV imports and exports in Mastodon's formats (docs/API.md, "Imports and exports"): follows,
//! blocks, mutes, blocked servers, bookmarks and lists.
//!
//! Files: this one (reading a file and queueing its import, the API's view of imports), `job`
//! (processing an import row by row as a durable job), `export` (writing the six files).

mod export;
mod job;

pub use export::{EXPORT_FILES, export};
pub use job::{IMPORT_JOB, process, spawn_worker};

use chrono::Utc;

pub use crate::api_types::imports::{Failure, Import};
use crate::error::{AppError, AppResult};
use crate::state::AppState;
use crate::storage::ids;
use crate::storage::imports::{self as store, ImportRow, RowData};

/// Largest file accepted, in bytes (Mastodon's `FILE_SIZE_LIMIT`).
pub const MAX_FILE_BYTES: usize = 20 * 1024 * 1024;
/// Most rows in one file (Mastodon's `ROWS_PROCESSING_LIMIT`).
pub const MAX_ROWS: usize = 20_000;
/// Imports of one user waiting or running at once.
pub const MAX_UNFINISHED: i64 = 5;
/// Failed rows listed by `GET /api/v1/imports/:id`.
pub const FAILURES_SHOWN: i64 = 1000;

/// What an import brings in (`type`, Mastodon's names).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Following,
    Blocking,
    Muting,
    DomainBlocking,
    Bookmarks,
    Lists,
}

impl Kind {
    pub fn parse(s: &str) -> Option<Kind> {
        Some(match s {
            "following" => Kind::Following,
            "blocking" => Kind::Blocking,
            "muting" => Kind::Muting,
            "domain_blocking" => Kind::DomainBlocking,
            "bookmarks" => Kind::Bookmarks,
            "lists" => Kind::Lists,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Following => "following",
            Kind::Blocking => "blocking",
            Kind::Muting => "muting",
            Kind::DomainBlocking => "domain_blocking",
            Kind::Bookmarks => "bookmarks",
            Kind::Lists => "lists",
        }
    }

    /// The columns a file without a header row has (Mastodon's `default_csv_headers`).
    fn default_headers(self) -> &'static [&'static str] {
        match self {
            Kind::Following | Kind::Blocking | Kind::Muting => &["Account address"],
            Kind::DomainBlocking => &["#domain"],
            Kind::Bookmarks => &["#uri"],
            Kind::Lists => &["List name", "Account address"],
        }
    }
}

/// First cells that mark a header row (Mastodon's `KNOWN_FIRST_HEADERS`).
const KNOWN_FIRST_HEADERS: &[&str] = &["Account address", "#domain", "#uri", "List name"];

/// What a row names, for showing it.
fn item_of(d: &RowData) -> String {
    let named = d
        .acct
        .as_deref()
        .or(d.domain.as_deref())
        .or(d.uri.as_deref())
        .unwrap_or("");
    let item = match &d.list_name {
        Some(list) => format!("{list}: {named}"),
        None => named.to_string(),
    };
    // A failure shows what the row named, not a whole oversized cell.
    item.chars().take(300).collect()
}

fn malformed(line: u64, why: impl std::fmt::Display) -> AppError {
    AppError::unprocessable(format!("Validation failed: line {line}: {why}"))
}

/// Rails' reading of a boolean cell (`ActiveModel::Type::Boolean`): empty is absent; `false`,
/// `f`, `0`, `off` (any case) are false; anything else is true.
fn cell_bool(s: &str) -> Option<bool> {
    let s = s.trim().to_ascii_lowercase();
    if s.is_empty() {
        return None;
    }
    Some(!matches!(s.as_str(), "false" | "f" | "0" | "off"))
}

/// Reads a file of `kind` as Mastodon does (`Form::Import`): a header row when its first cell is a
/// known header, else the type's default columns; blank rows skipped; at most [`MAX_ROWS`] rows.
/// Returns `(line, row)` pairs.
///
/// Errors: 422 naming the line for text that is not UTF-8, a row whose number of cells differs
/// from the first row's, or a row without the value its type needs (an account address, a
/// domain, a URI, a list name); 422 for an empty file, a file of another type (its header lacks a
/// needed column), or more than [`MAX_ROWS`] rows.
pub fn parse(kind: Kind, bytes: &[u8]) -> AppResult<Vec<(i64, RowData)>> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(false)
        .from_reader(bytes);
    let mut records = reader.records();
    let mut header: Option<Vec<String>> = None;
    let mut out = Vec::new();
    let mut first = true;
    let mut columns: Vec<String> = Vec::new();
    // The reader skips blank lines without counting them: lines are counted from byte offsets.
    let mut counted = (0usize, 1u64);
    let mut line_at = |byte: u64| -> u64 {
        let mut byte = (byte as usize).min(bytes.len());
        // A record's position is where reading it began, before the blank lines it skipped.
        while byte < bytes.len() && matches!(bytes[byte], b'\n' | b'\r') {
            byte += 1;
        }
        if byte >= counted.0 {
            counted.1 += bytes[counted.0..byte]
                .iter()
                .filter(|b| **b == b'\n')
                .count() as u64;
            counted.0 = byte;
        }
        counted.1
    };
    loop {
        let record = match records.next() {
            None => break,
            Some(Ok(r)) => r,
            Some(Err(e)) => {
                let line = e.position().map(|p| line_at(p.byte())).unwrap_or(0);
                let why = match e.kind() {
                    csv::ErrorKind::Utf8 { .. } => "the text is not UTF-8".to_string(),
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => format!("{len} cells where the first row has {expected_len}"),
                    _ => e.to_string(),
                };
                return Err(malformed(line, why));
            }
        };
        let line = record.position().map(|p| line_at(p.byte())).unwrap_or(0);
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        if first {
            first = false;
            let cell = record.get(0).unwrap_or("").trim();
            if KNOWN_FIRST_HEADERS.contains(&cell) {
                header = Some(record.iter().map(|c| c.trim().to_string()).collect());
            }
            columns = match &header {
                Some(h) => h.clone(),
                None => kind
                    .default_headers()
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
            };
            if let Some(missing) = kind
                .default_headers()
                .iter()
                .find(|h| !columns.iter().any(|c| c == *h))
            {
                return Err(AppError::unprocessable(format!(
                    "Validation failed: this file does not look like a {} export (no \"{missing}\" column)",
                    kind.as_str()
                )));
            }
            if header.is_some() {
                continue;
            }
        }
        if out.len() >= MAX_ROWS {
            return Err(AppError::unprocessable(format!(
                "Validation failed: at most {MAX_ROWS} rows can be imported at once"
            )));
        }
        let cell = |name: &str| -> Option<&str> {
            columns
                .iter()
                .position(|c| c == name)
                .and_then(|i| record.get(i))
        };
        let text = |name: &str| cell(name).map(str::trim).filter(|s| !s.is_empty());
        let mut row = RowData::default();
        match kind {
            Kind::Following | Kind::Blocking | Kind::Muting | Kind::Lists => {
                let acct =
                    text("Account address").ok_or_else(|| malformed(line, "no account address"))?;
                row.acct = Some(acct.trim_start_matches('@').to_string());
            }
            Kind::DomainBlocking => {
                let d = text("#domain").ok_or_else(|| malformed(line, "no domain"))?;
                row.domain = Some(d.to_lowercase());
            }
            Kind::Bookmarks => {
                let u = text("#uri").ok_or_else(|| malformed(line, "no URI"))?;
                row.uri = Some(u.to_string());
            }
        }
        if kind == Kind::Lists {
            let name = text("List name").ok_or_else(|| malformed(line, "no list name"))?;
            row.list_name = Some(name.to_string());
        }
        if kind == Kind::Following {
            row.show_reblogs = cell("Show boosts").and_then(cell_bool);
            row.notify = cell("Notify on new posts").and_then(cell_bool);
            row.languages = cell("Languages")
                .map(|l| {
                    l.split(',')
                        .map(|x| x.trim().to_string())
                        .filter(|x| !x.is_empty())
                        .take(16)
                        .collect()
                })
                .unwrap_or_default();
        }
        if kind == Kind::Muting {
            row.hide_notifications = cell("Hide notifications").and_then(cell_bool);
        }
        out.push((line as i64, row));
    }
    if out.is_empty() {
        return Err(AppError::unprocessable(
            "Validation failed: the file has nothing to import",
        ));
    }
    Ok(out)
}

/// Reads `bytes` (a file named `filename`) as an import of `kind` for `account_id` and queues it
/// (`overwrite`: what the file lacks is removed at the end). The rows are stored with the import
/// and its job in one transaction.
///
/// Errors: 422 as [`parse`] says, for a file over [`MAX_FILE_BYTES`], or when the user has
/// [`MAX_UNFINISHED`] imports waiting already.
pub async fn create(
    state: &AppState,
    account_id: i64,
    kind: Kind,
    overwrite: bool,
    filename: &str,
    bytes: &[u8],
) -> AppResult<Import> {
    let (row, _) = create_row(state, account_id, kind, overwrite, filename, bytes, false).await?;
    state.jobs_wakeup.notify_waiters();
    Ok(Import::from(&row))
}

/// [`create`], returning the stored row and its job's ID; with `claimed`, the job is queued already claimed by
/// the caller (the command line processes it itself; should it die, the server's worker takes
/// it over once the claim lapses).
pub async fn create_row(
    state: &AppState,
    account_id: i64,
    kind: Kind,
    overwrite: bool,
    filename: &str,
    bytes: &[u8],
    claimed: bool,
) -> AppResult<(ImportRow, i64)> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(AppError::unprocessable(
            "Validation failed: the file is larger than 20 MB",
        ));
    }
    if store::unfinished_count(&state.db, account_id).await? >= MAX_UNFINISHED {
        return Err(AppError::unprocessable(format!(
            "Validation failed: {MAX_UNFINISHED} imports are waiting already; try again when they are done"
        )));
    }
    let rows = parse(kind, bytes)?;
    let name: String = crate::text::clean_line(filename)
        .chars()
        .take(255)
        .collect();
    let import = ImportRow {
        id: ids::new_id(),
        account_id,
        kind: kind.as_str().to_string(),
        overwrite,
        state: "scheduled".into(),
        original_filename: name,
        total_items: rows.len() as i64,
        processed_items: 0,
        imported_items: 0,
        failed_items: 0,
        created_at: Utc::now(),
        finished_at: None,
    };
    let mut tx = state.db.begin().await?;
    store::insert(&mut tx, &import, &rows).await?;
    let job = job::enqueue(&mut tx, import.id, claimed).await?;
    tx.commit().await?;
    Ok((import, job))
}

/// `account_id`'s imports, newest first (the last 50).
pub async fn list(state: &AppState, account_id: i64) -> AppResult<Vec<Import>> {
    Ok(store::of_account(&state.db, account_id, 50)
        .await?
        .iter()
        .map(Import::from)
        .collect())
}

/// One of `account_id`'s imports with its failed rows.
///
/// Errors: 404 unless it is theirs.
pub async fn show(state: &AppState, account_id: i64, id: &str) -> AppResult<Import> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let row = store::find(&state.db, account_id, id)
        .await?
        .ok_or(AppError::NotFound)?;
    let failures = store::failed_rows(&state.db, id, FAILURES_SHOWN)
        .await?
        .into_iter()
        .map(|r| Failure {
            line: r.line,
            item: item_of(&r.data.0),
            error: r.error.unwrap_or_default(),
        })
        .collect();
    Ok(Import {
        failures: Some(failures),
        ..Import::from(&row)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_mastodon_files() {
        let rows = parse(
            Kind::Following,
            b"Account address,Show boosts,Notify on new posts,Languages\n\
              alice@a.example,true,false,\n\n@bob@b.example,false,true,\"en, de\"\n",
        )
        .unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].0, 2);
        assert_eq!(rows[1].0, 4);
        assert_eq!(rows[1].1.acct.as_deref(), Some("bob@b.example"));
        assert_eq!(rows[1].1.show_reblogs, Some(false));
        assert_eq!(rows[1].1.notify, Some(true));
        assert_eq!(rows[1].1.languages, vec!["en", "de"]);
        // Without a header: the default columns.
        let rows = parse(
            Kind::Lists,
            b"Friends,alice@a.example\nWork,bob@b.example\n",
        )
        .unwrap();
        assert_eq!(rows[1].1.list_name.as_deref(), Some("Work"));
        let rows = parse(Kind::DomainBlocking, b"Spam.Example\n").unwrap();
        assert_eq!(rows[0].1.domain.as_deref(), Some("spam.example"));
    }

    #[test]
    fn refuses_malformed_files_with_the_line() {
        let e = parse(Kind::Lists, b"Friends,alice@a.example\nWork\n").unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
        let e = parse(
            Kind::Following,
            b"Account address\nalice@a.example\n\xff\xfe\n",
        )
        .unwrap_err();
        assert!(e.to_string().contains("line 3"), "{e}");
        let e = parse(Kind::Following, b"Account address,Show boosts\n,true\n").unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
        assert!(parse(Kind::Following, b"").is_err());
        let e = parse(Kind::Lists, b"Account address\nalice@a.example\n").unwrap_err();
        assert!(e.to_string().contains("List name"), "{e}");
    }
}
