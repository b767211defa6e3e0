//! CSV imports and exports, a Rookery extension (docs/API.md, "Imports and exports"):
//! `/api/v1/imports` and `/api/v1/exports/:file`. Mastodon offers the same files on its settings
//! pages ("Import and export").

use axum::Json;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::error::{AppError, AppResult};
use crate::http::extract::{Auth, Params};
use crate::service::imports::{self as svc, Import, Kind};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct ImportParams {
    #[serde(default, rename = "type")]
    kind: String,
    #[serde(default)]
    mode: Option<String>,
}

/// The scope an import or export of `kind` needs: that of what it changes or reads.
fn scope_of(kind: Kind, write: bool) -> &'static str {
    match (kind, write) {
        (Kind::Following, false) => "read:follows",
        (Kind::Following, true) => "write:follows",
        (Kind::Blocking | Kind::DomainBlocking, false) => "read:blocks",
        (Kind::Blocking | Kind::DomainBlocking, true) => "write:blocks",
        (Kind::Muting, false) => "read:mutes",
        (Kind::Muting, true) => "write:mutes",
        (Kind::Bookmarks, false) => "read:bookmarks",
        (Kind::Bookmarks, true) => "write:bookmarks",
        (Kind::Lists, false) => "read:lists",
        (Kind::Lists, true) => "write:lists",
    }
}

/// `POST /api/v1/imports` (multipart): `type` (`following`, `blocking`, `muting`,
/// `domain_blocking`, `bookmarks`, `lists`), `mode` (`merge`, the default, or `overwrite`), `data`
/// (the CSV file, at most 20 MB and 20,000 rows) → `Import`, queued. Needs the write scope of what
/// the type changes (`write:follows`, `write:blocks`, `write:mutes`, `write:bookmarks`,
/// `write:lists`). 422 for an unknown type or mode, a missing file, or a malformed one (with the
/// line).
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, files }: Params<ImportParams>,
) -> AppResult<Json<Import>> {
    let kind = Kind::parse(&p.kind);
    let cu = auth.require_user(kind.map_or("write", |k| scope_of(k, true)))?;
    let kind = kind.ok_or_else(|| {
        AppError::unprocessable(
            "Validation failed: type must be following, blocking, muting, domain_blocking, bookmarks or lists",
        )
    })?;
    let overwrite = match p.mode.as_deref() {
        None | Some("") | Some("merge") => false,
        Some("overwrite") => true,
        Some(_) => {
            return Err(AppError::unprocessable(
                "Validation failed: mode must be merge or overwrite",
            ));
        }
    };
    let file = files
        .iter()
        .find(|f| f.field == "data")
        .ok_or_else(|| AppError::unprocessable("Validation failed: data must be a CSV file"))?;
    let name = file.file_name.as_deref().unwrap_or("import.csv");
    Ok(Json(
        svc::create(&state, cu.account.id, kind, overwrite, name, &file.bytes).await?,
    ))
}

/// `GET /api/v1/imports` (`read:accounts`) → `[Import]`, newest first (the last 50).
pub async fn index(State(state): State<AppState>, auth: Auth) -> AppResult<Json<Vec<Import>>> {
    let cu = auth.require_user("read:accounts")?;
    Ok(Json(svc::list(&state, cu.account.id).await?))
}

/// `GET /api/v1/imports/:id` (`read:accounts`) → `Import` with `failures`; 404 unless it is the
/// caller's.
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Import>> {
    let cu = auth.require_user("read:accounts")?;
    Ok(Json(svc::show(&state, cu.account.id, &id).await?))
}

/// `GET /api/v1/exports/:file` → `text/csv`, one of `following_accounts.csv` (`read:follows`),
/// `blocked_accounts.csv` and `blocked_domains.csv` (`read:blocks`), `muted_accounts.csv`
/// (`read:mutes`), `bookmarks.csv` (`read:bookmarks`), `lists.csv` (`read:lists`), as Mastodon
/// writes them; 404 for another name (after checking for a `read` token).
pub async fn export(
    State(state): State<AppState>,
    auth: Auth,
    Path(file): Path<String>,
) -> AppResult<Response> {
    let kind = match file.as_str() {
        "following_accounts.csv" => Some(Kind::Following),
        "blocked_accounts.csv" => Some(Kind::Blocking),
        "muted_accounts.csv" => Some(Kind::Muting),
        "blocked_domains.csv" => Some(Kind::DomainBlocking),
        "bookmarks.csv" => Some(Kind::Bookmarks),
        "lists.csv" => Some(Kind::Lists),
        _ => None,
    };
    let cu = auth.require_user(kind.map_or("read", |k| scope_of(k, false)))?;
    if kind.is_none() {
        return Err(AppError::NotFound);
    }
    let body = svc::export(&state, cu.account.id, &file).await?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{file}\""),
            ),
        ],
        body,
    )
        .into_response())
}
