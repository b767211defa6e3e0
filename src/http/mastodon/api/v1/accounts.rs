//! `/api/v1/accounts/*` (docs.joinmastodon.org/methods/accounts/).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;

use crate::api_types::oauth::Token;
use crate::api_types::{Account, CredentialAccount, Relationship};
use crate::error::{AppError, AppResult};
use crate::http::extract::{Auth, Params, lenient};
use crate::service::accounts::{self as svc, SignUp, UpdateCredentials};
use crate::service::{oauth, relationships as rel, render};
use crate::state::AppState;
use crate::storage::accounts;

#[derive(Deserialize)]
pub struct SignUpParams {
    #[serde(default)]
    username: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default, deserialize_with = "lenient::bool")]
    agreement: bool,
    locale: Option<String>,
    reason: Option<String>,
}

/// `POST /api/v1/accounts`: sign-up with an app token (`write:accounts`); returns a user token for
/// the same application and scopes.
pub async fn create(
    State(state): State<AppState>,
    auth: Auth,
    crate::http::extract::ClientIp(ip): crate::http::extract::ClientIp,
    Params { value: p, .. }: Params<SignUpParams>,
) -> AppResult<Json<Token>> {
    let principal = auth.require("write:accounts")?;
    let (_, user) = svc::sign_up(
        &state,
        &SignUp {
            ip,
            username: &p.username,
            email: &p.email,
            password: &p.password,
            agreement: p.agreement,
            locale: p.locale.as_deref(),
            reason: p.reason.as_deref(),
        },
    )
    .await?;
    let token = oauth::issue_token(
        &state.db,
        principal.application_id,
        Some(user.id),
        principal.scopes.clone(),
    )
    .await?;
    Ok(Json(token.into()))
}

/// `GET /api/v1/accounts/verify_credentials` (`read:accounts` or `profile`).
pub async fn verify_credentials(
    State(state): State<AppState>,
    auth: Auth,
) -> AppResult<Json<CredentialAccount>> {
    let cu = auth.require_user_any(&["read:accounts", "profile"])?;
    Ok(Json(
        render::credential_account(&state, &cu.account, &cu.user).await?,
    ))
}

#[derive(Deserialize)]
pub struct FieldParam {
    #[serde(default)]
    name: String,
    #[serde(default)]
    value: String,
}

/// `fields_attributes` arrives as a list (JSON) or an index-keyed map (forms).
#[derive(Deserialize)]
#[serde(untagged)]
pub enum FieldsParam {
    List(Vec<FieldParam>),
    Map(BTreeMap<String, FieldParam>),
}

#[derive(Deserialize, Default)]
pub struct SourceParams {
    privacy: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    sensitive: Option<bool>,
    language: Option<String>,
}

#[derive(Deserialize)]
pub struct UpdateCredentialsParams {
    display_name: Option<String>,
    note: Option<String>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    locked: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    bot: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    discoverable: Option<bool>,
    fields_attributes: Option<FieldsParam>,
    #[serde(default)]
    source: SourceParams,
}

/// `PATCH /api/v1/accounts/update_credentials` (`write:accounts`).
pub async fn update_credentials(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, files }: Params<UpdateCredentialsParams>,
) -> AppResult<Json<CredentialAccount>> {
    let cu = auth.require_user("write:accounts")?;
    let images = files
        .into_iter()
        .filter_map(|f| {
            let which = match f.field.as_str() {
                "avatar" => crate::storage::media::ProfileImage::Avatar,
                "header" => crate::storage::media::ProfileImage::Header,
                _ => return None,
            };
            let upload = crate::service::media::Upload {
                bytes: f.bytes,
                content_type: f.content_type,
                file_name: f.file_name,
                description: None,
                focus: None,
            };
            Some((which, upload))
        })
        .collect();
    let fields = p.fields_attributes.map(|f| {
        let list: Vec<FieldParam> = match f {
            FieldsParam::List(l) => l,
            // Keys are indices ("0", "1"…): order numerically, not as text.
            FieldsParam::Map(m) => {
                let mut entries: Vec<(String, FieldParam)> = m.into_iter().collect();
                entries.sort_by_key(|(k, _)| k.parse::<u32>().unwrap_or(u32::MAX));
                entries.into_iter().map(|(_, v)| v).collect()
            }
        };
        list.into_iter().map(|f| (f.name, f.value)).collect()
    });
    svc::update_credentials(
        &state,
        &cu.user,
        UpdateCredentials {
            display_name: p.display_name,
            note: p.note,
            fields,
            locked: p.locked,
            bot: p.bot,
            discoverable: p.discoverable,
            privacy: p.source.privacy,
            sensitive: p.source.sensitive,
            language: p.source.language,
            images,
        },
    )
    .await?;
    let account = accounts::find_account(&state.db, cu.account.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let user = accounts::find_user(&state.db, cu.user.id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(
        render::credential_account(&state, &account, &user).await?,
    ))
}

/// Loads an account that may be shown publicly: local accounts still awaiting approval are hidden.
async fn visible_account(state: &AppState, id: i64) -> AppResult<accounts::AccountRow> {
    let row = accounts::find_account(&state.db, id)
        .await?
        .ok_or(AppError::NotFound)?;
    if row.is_local() {
        let user = accounts::find_user_by_account(&state.db, row.id).await?;
        if user.is_some_and(|u| !u.approved) {
            return Err(AppError::NotFound);
        }
    }
    Ok(row)
}

/// `GET /api/v1/accounts/:id` (public, or `read:accounts` with a token).
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Account>> {
    auth.viewer("read:accounts")?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let row = visible_account(&state, id).await?;
    Ok(Json(render::account(&state, &row).await?))
}

#[derive(Deserialize)]
pub struct LookupParams {
    acct: Option<String>,
}

/// `GET /api/v1/accounts/lookup?acct=user[@domain]` (public, or `read:accounts` with a token).
/// Remote accounts not known yet are resolved through WebFinger.
pub async fn lookup(
    State(state): State<AppState>,
    data: crate::federation::context::FedData,
    auth: Auth,
    Params { value: p, .. }: Params<LookupParams>,
) -> AppResult<Json<Account>> {
    auth.viewer("read:accounts")?;
    let acct = p
        .acct
        .ok_or_else(|| AppError::bad_request("acct is missing"))?;
    if svc::parse_acct(&acct, &state.config.server.domain).is_none() {
        return Err(AppError::NotFound);
    }
    let row = crate::service::resolve::account(&data, &acct, true)
        .await?
        .ok_or(AppError::NotFound)?;
    let row = visible_account(&state, row.id).await?;
    Ok(Json(render::account(&state, &row).await?))
}

#[derive(Deserialize)]
pub struct RelationshipsParams {
    #[serde(default, deserialize_with = "lenient::one_or_many")]
    id: Vec<String>,
}

/// `GET /api/v1/accounts/relationships?id[]=…` (`read:follows`), at most 40 IDs. Unknown IDs are
/// left out, as Mastodon does.
pub async fn relationships(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<RelationshipsParams>,
) -> AppResult<Json<Vec<Relationship>>> {
    let cu = auth.require_user("read:follows")?;
    let ids: Vec<i64> =
        p.id.iter()
            .filter_map(|s| s.parse().ok())
            .take(40)
            .collect();
    let rows = accounts::find_accounts(&state.db, &ids).await?;
    let known: Vec<i64> = ids
        .into_iter()
        .filter(|id| rows.iter().any(|r| r.id == *id))
        .collect();
    Ok(Json(
        rel::relationships(&state, cu.account.id, &known).await?,
    ))
}

#[derive(Deserialize)]
pub struct SearchParams {
    #[serde(default)]
    q: String,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    limit: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    offset: Option<i64>,
    #[serde(default, deserialize_with = "lenient::bool")]
    resolve: bool,
}

/// Accounts matching `q`: an exact `user@domain` or URL (resolved over the network with
/// `resolve`), else local accounts by username or display name.
pub async fn search_accounts(
    state: &AppState,
    data: &crate::federation::context::FedData,
    q: &str,
    resolve: bool,
    limit: i64,
    offset: i64,
) -> AppResult<Vec<accounts::AccountRow>> {
    let q = q.trim();
    if q.is_empty() {
        return Ok(Vec::new());
    }
    let exact = q.starts_with("http://")
        || q.starts_with("https://")
        || matches!(
            svc::parse_acct(q, &state.config.server.domain),
            Some((_, Some(_)))
        );
    if exact {
        return Ok(crate::service::resolve::account(data, q, resolve)
            .await?
            .into_iter()
            .collect());
    }
    Ok(accounts::search_local(&state.db, q.trim_start_matches('@'), limit, offset).await?)
}

/// `GET /api/v1/accounts/search?q=` (`read:accounts`): `limit` defaults to 40, at most 80;
/// `resolve=true` looks remote accounts up.
pub async fn search(
    State(state): State<AppState>,
    data: crate::federation::context::FedData,
    auth: Auth,
    Params { value: p, .. }: Params<SearchParams>,
) -> AppResult<Json<Vec<Account>>> {
    auth.require_user("read:accounts")?;
    let limit = p.limit.unwrap_or(40).clamp(1, 80);
    let offset = p.offset.unwrap_or(0).max(0);
    let rows = search_accounts(&state, &data, &p.q, p.resolve, limit, offset).await?;
    Ok(Json(render::accounts(&state, &rows).await?))
}

#[derive(Deserialize)]
pub struct AccountStatusesParams {
    #[serde(flatten)]
    page: crate::http::extract::PageParams,
    #[serde(default, deserialize_with = "lenient::bool")]
    only_media: bool,
    #[serde(default, deserialize_with = "lenient::bool")]
    exclude_replies: bool,
    #[serde(default, deserialize_with = "lenient::bool")]
    exclude_reblogs: bool,
    #[serde(default, deserialize_with = "lenient::bool")]
    pinned: bool,
    tagged: Option<String>,
}

/// `GET /api/v1/accounts/:id/statuses` (public, or `read:statuses` with a token): what the viewer may see of the account's posts.
pub async fn statuses(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    uri: axum::http::Uri,
    Params { value: p, .. }: Params<AccountStatusesParams>,
) -> AppResult<axum::response::Response> {
    account_statuses(state, auth, id, uri, p, false).await
}

/// `GET /api/v1/accounts/:id/shorts` (public, or `read:statuses` with a token; Rookery's extension): the account's shorts the
/// viewer may see, newest first, with the same filters and pagination as its statuses.
pub async fn shorts(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    uri: axum::http::Uri,
    Params { value: p, .. }: Params<AccountStatusesParams>,
) -> AppResult<axum::response::Response> {
    account_statuses(state, auth, id, uri, p, true).await
}

async fn account_statuses(
    state: AppState,
    auth: Auth,
    id: String,
    uri: axum::http::Uri,
    p: AccountStatusesParams,
    only_shorts: bool,
) -> AppResult<axum::response::Response> {
    let viewer = auth.viewer_id("read:statuses")?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let row = visible_account(&state, id).await?;
    let filter = crate::storage::statuses::AccountFilter {
        only_media: p.only_media,
        only_shorts,
        exclude_replies: p.exclude_replies,
        exclude_reblogs: p.exclude_reblogs || only_shorts,
        pinned: p.pinned,
        tagged: p.tagged.filter(|t| !t.is_empty()),
    };
    let rows = crate::storage::statuses::by_account(
        &state.db,
        viewer.unwrap_or(crate::storage::statuses::ANONYMOUS),
        row.id,
        &filter,
        &p.page.page(),
    )
    .await?;
    let page = crate::service::timelines::render_rows(&state, viewer, "account", rows).await?;
    Ok(crate::http::mastodon::api::v1::timelines::respond(
        &state, &uri, page,
    ))
}

async fn follow_list(
    state: AppState,
    id: String,
    uri: axum::http::Uri,
    p: crate::http::extract::PageParams,
    list: crate::storage::relationships::AccountList,
) -> AppResult<axum::response::Response> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let row = visible_account(&state, id).await?;
    super::follow_requests::own_list(&state, row.id, list, &uri, &p).await
}

/// `GET /api/v1/accounts/:id/followers` (public, or `read:accounts` with a token).
pub async fn followers(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    uri: axum::http::Uri,
    Params { value: p, .. }: Params<crate::http::extract::PageParams>,
) -> AppResult<axum::response::Response> {
    auth.viewer("read:accounts")?;
    follow_list(
        state,
        id,
        uri,
        p,
        crate::storage::relationships::AccountList::Followers,
    )
    .await
}

/// `GET /api/v1/accounts/:id/following` (public, or `read:accounts` with a token).
pub async fn following(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    uri: axum::http::Uri,
    Params { value: p, .. }: Params<crate::http::extract::PageParams>,
) -> AppResult<axum::response::Response> {
    auth.viewer("read:accounts")?;
    follow_list(
        state,
        id,
        uri,
        p,
        crate::storage::relationships::AccountList::Following,
    )
    .await
}

#[derive(Deserialize, Default)]
pub struct FollowParams {
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    reblogs: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    notify: Option<bool>,
}

/// `POST /api/v1/accounts/:id/follow` (`write:follows`).
pub async fn follow(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<FollowParams>,
) -> AppResult<Json<Relationship>> {
    let cu = auth.require_user("write:follows")?;
    Ok(Json(
        rel::follow(&state, cu.account.id, &id, p.reblogs, p.notify).await?,
    ))
}

/// `POST /api/v1/accounts/:id/unfollow` (`write:follows`).
pub async fn unfollow(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Relationship>> {
    let cu = auth.require_user("write:follows")?;
    Ok(Json(rel::unfollow(&state, cu.account.id, &id).await?))
}

/// `POST /api/v1/accounts/:id/remove_from_followers` (`write:follows`).
pub async fn remove_from_followers(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Relationship>> {
    let cu = auth.require_user("write:follows")?;
    Ok(Json(
        rel::remove_from_followers(&state, cu.account.id, &id).await?,
    ))
}

/// `POST /api/v1/accounts/:id/block` (`write:blocks`).
pub async fn block(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Relationship>> {
    let cu = auth.require_user("write:blocks")?;
    Ok(Json(rel::block(&state, cu.account.id, &id).await?))
}

/// `POST /api/v1/accounts/:id/unblock` (`write:blocks`).
pub async fn unblock(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Relationship>> {
    let cu = auth.require_user("write:blocks")?;
    Ok(Json(rel::unblock(&state, cu.account.id, &id).await?))
}

#[derive(Deserialize, Default)]
pub struct MuteParams {
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    notifications: Option<bool>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    duration: Option<i64>,
}

/// `POST /api/v1/accounts/:id/mute` (`write:mutes`): `notifications` (default true), `duration`
/// in seconds (0: indefinitely).
pub async fn mute(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<MuteParams>,
) -> AppResult<Json<Relationship>> {
    let cu = auth.require_user("write:mutes")?;
    Ok(Json(
        rel::mute(&state, cu.account.id, &id, p.notifications, p.duration).await?,
    ))
}

/// `POST /api/v1/accounts/:id/unmute` (`write:mutes`).
pub async fn unmute(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Relationship>> {
    let cu = auth.require_user("write:mutes")?;
    Ok(Json(rel::unmute(&state, cu.account.id, &id).await?))
}
