//! `/api/v1/lists` (docs.joinmastodon.org/methods/lists/). A list's timeline is in `timelines`,
//! the lists holding an account in `accounts`.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::{Method, Uri};
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::api_types::list::List;
use crate::error::AppResult;
use crate::http::extract::{Auth, PageParams, Params, lenient, paged};
use crate::service::lists::{self as svc, ListFields};
use crate::service::render;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct ListParams {
    title: Option<String>,
    replies_policy: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    exclusive: Option<bool>,
}

impl From<ListParams> for ListFields {
    fn from(p: ListParams) -> ListFields {
        ListFields {
            title: p.title,
            replies_policy: p.replies_policy,
            exclusive: p.exclusive,
        }
    }
}

/// `GET /api/v1/lists` (`read:lists`) → `[List]`, oldest first.
pub async fn index(State(state): State<AppState>, auth: Auth) -> AppResult<Json<Vec<List>>> {
    let cu = auth.require_user("read:lists")?;
    Ok(Json(svc::index(&state, cu.account.id, None).await?))
}

/// `POST /api/v1/lists` (`write:lists`): `title`, `replies_policy`, `exclusive` → `List`; 422 for a
/// blank title or an unknown policy.
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<ListParams>,
) -> AppResult<Json<List>> {
    let cu = auth.require_user("write:lists")?;
    Ok(Json(svc::create(&state, cu.account.id, p.into()).await?))
}

/// `GET /api/v1/lists/:id` (`read:lists`) → `List`; 404 unless it is the caller's.
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<List>> {
    let cu = auth.require_user("read:lists")?;
    Ok(Json(List::from(
        &svc::own(&state, cu.account.id, &id).await?,
    )))
}

/// `PUT /api/v1/lists/:id` (`write:lists`) → `List`.
pub async fn update(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<ListParams>,
) -> AppResult<Json<List>> {
    let cu = auth.require_user("write:lists")?;
    Ok(Json(
        svc::update(&state, cu.account.id, &id, p.into()).await?,
    ))
}

/// `DELETE /api/v1/lists/:id` (`write:lists`) → `{}`.
pub async fn delete(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Value>> {
    let cu = auth.require_user("write:lists")?;
    svc::delete(&state, cu.account.id, &id).await?;
    Ok(Json(json!({})))
}

/// `GET /api/v1/lists/:id/accounts` (`read:lists`) → `[Account]`, paginated (`limit=0`: all).
pub async fn accounts(
    State(state): State<AppState>,
    auth: Auth,
    uri: Uri,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<PageParams>,
) -> AppResult<Response> {
    let cu = auth.require_user("read:lists")?;
    let mut page = p.page_with(40, 80);
    if p.limit == Some(0) {
        page.limit = 0;
    }
    let rows = svc::members(&state, cu.account.id, &id, &page).await?;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let accounts = render::accounts(&state, &rows).await?;
    Ok(paged(&state.config.base_url(), &uri, accounts, &ids))
}

#[derive(Deserialize)]
pub struct MembersParams {
    #[serde(default, deserialize_with = "lenient::one_or_many")]
    account_ids: Vec<String>,
}

/// `POST /api/v1/lists/:id/accounts` and `DELETE` (`write:lists`, `account_ids[]`) → `{}`: adds or
/// removes members; 422 for adding an account the caller does not follow.
pub async fn change_accounts(
    State(state): State<AppState>,
    auth: Auth,
    method: Method,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<MembersParams>,
) -> AppResult<Json<Value>> {
    let cu = auth.require_user("write:lists")?;
    if method == Method::DELETE {
        svc::remove_members(&state, cu.account.id, &id, &p.account_ids).await?;
    } else {
        svc::add_members(&state, cu.account.id, &id, &p.account_ids).await?;
    }
    Ok(Json(json!({})))
}
