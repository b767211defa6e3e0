//! `POST /api/v1/reports` (docs.joinmastodon.org/methods/reports/).

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use crate::api_types::admin::Report;
use crate::error::{AppError, AppResult};
use crate::http::extract::{Auth, Params, lenient};
use crate::service::moderation::{self as svc, NewReport};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct ReportParams {
    #[serde(default)]
    account_id: String,
    #[serde(default, deserialize_with = "lenient::one_or_many")]
    status_ids: Vec<String>,
    #[serde(default)]
    comment: String,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    forward: Option<bool>,
    category: Option<String>,
    #[serde(default, deserialize_with = "lenient::one_or_many")]
    rule_ids: Vec<String>,
}

fn ids(raw: &[String], what: &str) -> AppResult<Vec<i64>> {
    raw.iter()
        .filter(|s| !s.is_empty())
        .map(|s| {
            s.parse()
                .map_err(|_| AppError::unprocessable(format!("{what} {s:?} is not an ID")))
        })
        .collect()
}

/// `POST /api/v1/reports` (`write:reports`): `account_id`, `status_ids[]`, `comment`, `forward`,
/// `category`, `rule_ids[]` → `Report`. 404 for an unknown account; 422 for statuses not by it,
/// unknown rules or category, or reporting oneself.
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<ReportParams>,
) -> AppResult<Json<Report>> {
    let cu = auth.require_user("write:reports")?;
    let account_id: i64 = p.account_id.parse().map_err(|_| AppError::NotFound)?;
    let row = svc::report(
        &state,
        cu,
        NewReport {
            account_id,
            status_ids: ids(&p.status_ids, "status")?,
            comment: p.comment,
            forward: p.forward == Some(true),
            category: p.category,
            rule_ids: ids(&p.rule_ids, "rule")?,
        },
    )
    .await?;
    Ok(Json(svc::report_entity(&state, &row).await?))
}
