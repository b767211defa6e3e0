//! `/api/v1/admin/accounts` (docs.joinmastodon.org/methods/admin/accounts/):
//! moderators list accounts, approve or reject held sign-ups, and take or undo actions.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::Uri;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use super::staff;
use crate::api_types::admin::AdminAccount;
use crate::error::{AppError, AppResult};
use crate::http::extract::{Auth, PageParams, Params, lenient, paged};
use crate::service::moderation::AdminAccountFilter;
use crate::service::moderation::{self as svc, AccountAction};
use crate::state::AppState;

/// Filters of both versions: v1 booleans (`local`, `remote`, `active`, `pending`, `disabled`,
/// `silenced`, `suspended`, `staff`) and v2 enums (`origin`, `status`, `permissions`).
#[derive(Deserialize, Default)]
pub struct AccountQuery {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    local: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    remote: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    active: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    pending: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    disabled: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    silenced: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    suspended: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    staff: Option<bool>,
    origin: Option<String>,
    status: Option<String>,
    permissions: Option<String>,
    username: Option<String>,
    display_name: Option<String>,
    by_domain: Option<String>,
    email: Option<String>,
}

impl AccountQuery {
    /// Errors: 422 for an unknown `origin`, `status` or `permissions`.
    fn filter(&self) -> AppResult<AdminAccountFilter> {
        let local = match self.origin.as_deref().filter(|o| !o.is_empty()) {
            Some("local") => Some(true),
            Some("remote") => Some(false),
            Some(o) => {
                return Err(AppError::unprocessable(format!(
                    "origin {o:?} is not local or remote"
                )));
            }
            None if self.local == Some(true) => Some(true),
            None if self.remote == Some(true) => Some(false),
            None => None,
        };
        let status = match self.status.as_deref().filter(|s| !s.is_empty()) {
            Some(s @ ("active" | "pending" | "disabled" | "silenced" | "suspended")) => {
                Some(s.to_string())
            }
            Some(s) => {
                return Err(AppError::unprocessable(format!(
                    "status {s:?} is not one of active, pending, disabled, silenced, suspended"
                )));
            }
            None => [
                ("active", self.active),
                ("pending", self.pending),
                ("disabled", self.disabled),
                ("silenced", self.silenced),
                ("suspended", self.suspended),
            ]
            .into_iter()
            .find(|(_, on)| *on == Some(true))
            .map(|(s, _)| s.to_string()),
        };
        let staff = match self.permissions.as_deref().filter(|p| !p.is_empty()) {
            Some("staff") => true,
            Some(p) => {
                return Err(AppError::unprocessable(format!(
                    "permissions {p:?} is not staff"
                )));
            }
            None => self.staff == Some(true),
        };
        Ok(AdminAccountFilter {
            local,
            status,
            staff,
            username: self.username.clone(),
            display_name: self.display_name.clone(),
            by_domain: self.by_domain.clone(),
            email: self.email.clone(),
        })
    }
}

/// `GET /api/v1/admin/accounts` (`admin:read:accounts`, staff) → `[Admin::Account]`, newest
/// first, paginated (limit 100, at most 200). Without a status filter it lists only active
/// accounts, as Mastodon's does.
pub async fn index(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Params { value: q, .. }: Params<AccountQuery>,
) -> AppResult<Response> {
    list(&state, &auth, &uri, &q, Some("active")).await
}

/// Accounts as `q` filters them (`default_status` when it names no status), with the `Link`
/// header; shared by both versions of the endpoint.
pub async fn list(
    state: &AppState,
    auth: &Auth,
    uri: &Uri,
    q: &AccountQuery,
    default_status: Option<&str>,
) -> AppResult<Response> {
    staff(auth, "admin:read:accounts")?;
    let mut filter = q.filter()?;
    if filter.status.is_none() {
        filter.status = default_status.map(String::from);
    }
    let (entities, ids) = svc::account_page(state, &filter, &q.page.page_with(100, 200)).await?;
    Ok(paged(&state.config.base_url(), uri, entities, &ids))
}

/// `GET /api/v1/admin/accounts/:id` (`admin:read:accounts`, staff) → `Admin::Account`.
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<AdminAccount>> {
    staff(&auth, "admin:read:accounts")?;
    Ok(Json(svc::admin_account(&state, &id).await?.1))
}

#[derive(Deserialize)]
pub struct ActionParams {
    #[serde(rename = "type", default)]
    kind: String,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    report_id: Option<i64>,
}

/// `POST /api/v1/admin/accounts/:id/action` (`admin:write:accounts`, staff): `type` = `none`,
/// `disable`, `silence` or `suspend`, optional `report_id` to resolve → `{}`.
pub async fn action(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<ActionParams>,
) -> AppResult<Json<Value>> {
    let cu = staff(&auth, "admin:write:accounts")?;
    let action = AccountAction::parse(&p.kind)?;
    let target = svc::find_account(&state, &id).await?;
    svc::act(&state, Some(cu), &target, action, p.report_id).await?;
    Ok(Json(json!({})))
}

/// `POST /api/v1/admin/accounts/:id/{approve,reject,enable,unsilence,unsuspend}`
/// (`admin:write:accounts`, staff) → `Admin::Account` (`reject` deletes the held account and
/// answers with it as it was).
pub async fn change(
    State(state): State<AppState>,
    auth: Auth,
    Path((id, what)): Path<(String, String)>,
) -> AppResult<Json<AdminAccount>> {
    staff(&auth, "admin:write:accounts")?;
    let (target, before) = svc::admin_account(&state, &id).await?;
    match what.as_str() {
        "approve" => svc::decide_sign_up(&state, &target, true).await?,
        "reject" => {
            svc::decide_sign_up(&state, &target, false).await?;
            return Ok(Json(before));
        }
        "enable" => svc::undo(&state, &target, AccountAction::Disable).await?,
        "unsilence" => svc::undo(&state, &target, AccountAction::Silence).await?,
        "unsuspend" => svc::undo(&state, &target, AccountAction::Suspend).await?,
        _ => return Err(AppError::NotFound),
    }
    Ok(Json(svc::admin_account(&state, &id).await?.1))
}
