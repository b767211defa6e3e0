//! `/api/v1/admin/domain_blocks` (docs.joinmastodon.org/methods/admin/domain_blocks/): admins only,
//! with `admin:read:domain_blocks` / `admin:write:domain_blocks`.

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::error::{AppError, AppResult};
use crate::http::extract::{Auth, Params, lenient};
use crate::service::moderation;
use crate::service::moderation::{BlockSettings, DomainBlockRow};
use crate::state::AppState;

/// The `Admin::DomainBlock` entity.
fn entity(b: &DomainBlockRow) -> Value {
    json!({
        "id": b.id.to_string(),
        "domain": b.domain,
        "digest": hex::encode(Sha256::digest(b.domain.as_bytes())),
        "created_at": b.created_at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "severity": b.severity,
        "reject_media": b.reject_media,
        "reject_reports": b.reject_reports,
        "private_comment": b.private_comment,
        "public_comment": b.public_comment,
        "obfuscate": b.obfuscate,
    })
}

async fn find(state: &AppState, id: &str) -> AppResult<DomainBlockRow> {
    moderation::domain_block(state, id).await
}

/// `GET /api/v1/admin/domain_blocks`.
pub async fn index(State(state): State<AppState>, auth: Auth) -> AppResult<Json<Vec<Value>>> {
    super::admin(&auth, "admin:read:domain_blocks")?;
    Ok(Json(
        moderation::domain_blocks(&state)
            .await?
            .iter()
            .map(entity)
            .collect(),
    ))
}

/// `GET /api/v1/admin/domain_blocks/:id`.
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    super::admin(&auth, "admin:read:domain_blocks")?;
    Ok(Json(entity(&find(&state, &id).await?)))
}

#[derive(Deserialize, Default)]
pub struct BlockParams {
    domain: Option<String>,
    severity: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    reject_media: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    reject_reports: Option<bool>,
    private_comment: Option<String>,
    public_comment: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    obfuscate: Option<bool>,
}

impl BlockParams {
    fn settings(self, base: Option<&DomainBlockRow>) -> BlockSettings {
        BlockSettings {
            severity: self
                .severity
                .or(base.map(|b| b.severity.clone()))
                .unwrap_or_else(|| "suspend".into()),
            reject_media: self
                .reject_media
                .or(base.map(|b| b.reject_media))
                .unwrap_or(false),
            reject_reports: self
                .reject_reports
                .or(base.map(|b| b.reject_reports))
                .unwrap_or(false),
            private_comment: self
                .private_comment
                .or(base.and_then(|b| b.private_comment.clone())),
            public_comment: self
                .public_comment
                .or(base.and_then(|b| b.public_comment.clone())),
            obfuscate: self
                .obfuscate
                .or(base.map(|b| b.obfuscate))
                .unwrap_or(false),
        }
    }
}

/// `POST /api/v1/admin/domain_blocks`: `domain` (required), `severity` (suspend by default) …
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<BlockParams>,
) -> AppResult<Json<Value>> {
    super::admin(&auth, "admin:write:domain_blocks")?;
    let domain = p
        .domain
        .clone()
        .ok_or_else(|| AppError::unprocessable("domain is missing"))?;
    let row = moderation::block_domain(&state, &domain, p.settings(None)).await?;
    Ok(Json(entity(&row)))
}

/// `PUT /api/v1/admin/domain_blocks/:id`: changes the settings of a block.
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<BlockParams>,
) -> AppResult<Json<Value>> {
    super::admin(&auth, "admin:write:domain_blocks")?;
    let existing = find(&state, &id).await?;
    let domain = existing.domain.clone();
    let row = moderation::block_domain(&state, &domain, p.settings(Some(&existing))).await?;
    Ok(Json(entity(&row)))
}

/// `DELETE /api/v1/admin/domain_blocks/:id`.
pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    super::admin(&auth, "admin:write:domain_blocks")?;
    let existing = find(&state, &id).await?;
    moderation::unblock_domain(&state, &existing.domain).await?;
    Ok(Json(json!({})))
}
