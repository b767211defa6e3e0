//! `/api/v1/admin/reports` (docs.joinmastodon.org/methods/admin/reports/): moderators list reports,
//! assign, resolve and reopen them.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use serde::Deserialize;

use super::staff;
use crate::api_types::admin::AdminReport;
use crate::error::AppResult;
use crate::http::extract::{Auth, PageParams, Params, lenient, paged};
use crate::service::moderation as svc;
use crate::service::moderation::ReportFilter;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct ReportQuery {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    resolved: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    account_id: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    target_account_id: Option<i64>,
}

/// `GET /api/v1/admin/reports` (`admin:read:reports`, staff): open reports (`resolved=true`:
/// resolved ones), optionally by `account_id` or `target_account_id` → `[Admin::Report]`, newest
/// first, paginated (limit 100, at most 200).
pub async fn index(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Params { value: q, .. }: Params<ReportQuery>,
) -> AppResult<Response> {
    staff(&auth, "admin:read:reports")?;
    let filter = ReportFilter {
        resolved: q.resolved == Some(true),
        account_id: q.account_id,
        target_account_id: q.target_account_id,
    };
    let (out, ids) = svc::report_page(&state, &filter, &q.page.page_with(100, 200)).await?;
    Ok(paged(&state.config.base_url(), &uri, out, &ids))
}

/// `GET /api/v1/admin/reports/:id` (`admin:read:reports`, staff) → `Admin::Report`.
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<AdminReport>> {
    staff(&auth, "admin:read:reports")?;
    let r = svc::find_report(&state, &id).await?;
    Ok(Json(svc::admin_report(&state, &r).await?))
}

/// `POST /api/v1/admin/reports/:id/{resolve,reopen,assign_to_self,unassign}`
/// (`admin:write:reports`, staff) → `Admin::Report`.
pub async fn change(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, what)): Path<(String, String)>,
) -> AppResult<Json<AdminReport>> {
    let cu = staff(&auth, "admin:write:reports")?;
    Ok(Json(
        svc::change_report(&state, cu.account.id, &id, &what).await?,
    ))
}
