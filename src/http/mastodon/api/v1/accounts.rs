//! `/api/v1/accounts/*` (docs.joinmastodon.org/methods/accounts/), with the account's sub-resources
//! of other features: `lists`, `featured_tags`, `pin`/`unpin` (endorsements), and Rookery's
//! `stories` and `shorts`.

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::{Path, State};
use serde::Deserialize;

use crate::api_types::list::List;
use crate::api_types::oauth::Token;
use crate::api_types::story::Story;
use crate::api_types::{Account, CredentialAccount, Relationship};
use crate::error::{AppError, AppResult};
use crate::http::extract::{Auth, Params, lenient};
use crate::service::accounts::{self as svc, SignUp, UpdateCredentials};
use crate::service::featured::FeaturedTag;
use crate::service::{oauth, relationships as rel, render};
use crate::state::AppState;

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
    quote_policy: Option<String>,
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
    #[serde(default, deserialize_with = "lenient::opt_bool")]
    indexable: Option<bool>,
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
                "avatar" => crate::service::media::ProfileImage::Avatar,
                "header" => crate::service::media::ProfileImage::Header,
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
            indexable: p.indexable,
            privacy: p.source.privacy,
            quote_policy: p.source.quote_policy,
            sensitive: p.source.sensitive,
            language: p.source.language,
            images,
        },
    )
    .await?;
    let (account, user) = svc::reload(&state, cu.account.id, cu.user.id).await?;
    Ok(Json(
        render::credential_account(&state, &account, &user).await?,
    ))
}

/// `GET /api/v1/accounts/:id/endorsements` (public, or `read:accounts` with a token; Mastodon 4.4)
/// → `[Account]`: the accounts it features on its profile. Errors: 404 unknown account.
pub async fn endorsements(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Vec<Account>>> {
    auth.viewer("read:accounts")?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    Ok(Json(
        crate::service::featured::endorsements_of(&state, id).await?,
    ))
}

/// `GET /api/v1/accounts/:id` (public, or `read:accounts` with a token).
pub async fn show(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Account>> {
    auth.viewer("read:accounts")?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let row = svc::visible(&state, id).await?;
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
    data: crate::service::activitypub::context::FedData,
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
    let row = svc::visible(&state, row.id).await?;
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
    let rows = svc::find_many(&state, &ids).await?;
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

/// `GET /api/v1/accounts/search?q=` (`read:accounts`): `limit` defaults to 40, at most 80;
/// `resolve=true` looks remote accounts up.
pub async fn search(
    State(state): State<AppState>,
    data: crate::service::activitypub::context::FedData,
    auth: Auth,
    Params { value: p, .. }: Params<SearchParams>,
) -> AppResult<Json<Vec<Account>>> {
    auth.require_user("read:accounts")?;
    let limit = p.limit.unwrap_or(40).clamp(1, 80);
    let offset = p.offset.unwrap_or(0).max(0);
    let rows = crate::service::search::accounts(&data, &p.q, p.resolve, limit, offset).await?;
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
    let row = svc::visible(&state, id).await?;
    let filter = crate::service::timelines::AccountFilter {
        only_media: p.only_media,
        only_shorts,
        exclude_replies: p.exclude_replies,
        exclude_reblogs: p.exclude_reblogs || only_shorts,
        pinned: p.pinned,
        tagged: p.tagged.filter(|t| !t.is_empty()),
    };
    let rows =
        crate::service::timelines::account_rows(&state, viewer, row.id, &filter, &p.page.page())
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
    list: crate::service::relationships::AccountList,
) -> AppResult<axum::response::Response> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let row = svc::visible(&state, id).await?;
    super::own_list(&state, row.id, list, &uri, &p).await
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
        crate::service::relationships::AccountList::Followers,
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
        crate::service::relationships::AccountList::Following,
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

/// `GET /api/v1/accounts/:id/stories` (`read:statuses`) → `[Story]`, oldest first.
pub async fn stories(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Vec<Story>>> {
    let cu = auth.require_user("read:statuses")?;
    Ok(Json(
        crate::service::stories::of_account(&state, cu.account.id, &id).await?,
    ))
}

/// `GET /api/v1/accounts/:id/lists` (`read:lists`) → the caller's lists holding that account.
pub async fn lists(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Vec<List>>> {
    let cu = auth.require_user("read:lists")?;
    let member: i64 = id.parse().map_err(|_| crate::error::AppError::NotFound)?;
    Ok(Json(
        crate::service::lists::index(&state, cu.account.id, Some(member)).await?,
    ))
}

/// `GET /api/v1/accounts/:id/featured_tags` (public, or `read:accounts` with a token) →
/// `[FeaturedTag]`.
pub async fn featured_tags(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Vec<FeaturedTag>>> {
    auth.viewer("read:accounts")?;
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    Ok(Json(
        crate::service::featured::featured_tags(&state, id).await?,
    ))
}

/// `POST /api/v1/accounts/:id/pin`, and `/endorse` as Mastodon 4.4 names it (`write:accounts`) →
/// `Relationship`; 422 unless followed.
pub async fn pin(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Relationship>> {
    let cu = auth.require_user("write:accounts")?;
    Ok(Json(
        crate::service::featured::endorse(&state, cu.account.id, &id, true).await?,
    ))
}

/// `POST /api/v1/accounts/:id/unpin`, and `/unendorse` (`write:accounts`) → `Relationship`.
pub async fn unpin(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Relationship>> {
    let cu = auth.require_user("write:accounts")?;
    Ok(Json(
        crate::service::featured::endorse(&state, cu.account.id, &id, false).await?,
    ))
}

#[derive(Deserialize)]
pub struct ManyParams {
    #[serde(
        default,
        deserialize_with = "crate::http::extract::lenient::one_or_many"
    )]
    id: Vec<String>,
}

/// `GET /api/v1/accounts?id[]=…` (public, or `read:accounts` with a token) → `[Account]`, in the
/// order asked, unknown IDs left out; 422 past 40 IDs.
pub async fn index(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<ManyParams>,
) -> AppResult<Json<Vec<Account>>> {
    auth.viewer("read:accounts")?;
    let rows = svc::visible_many(&state, &p.id).await?;
    Ok(Json(render::accounts(&state, &rows).await?))
}

/// `GET /api/v1/accounts/familiar_followers?id[]=…` (`read:follows`) →
/// `[{"id", "accounts": [Account]}]`: for each account, those the caller follows who follow it;
/// 422 past 40 IDs.
pub async fn familiar_followers(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<ManyParams>,
) -> AppResult<Json<Vec<serde_json::Value>>> {
    let cu = auth.require_user("read:follows")?;
    Ok(Json(
        crate::service::relationships::familiar_followers(&state, cu.account.id, &p.id).await?,
    ))
}

#[derive(Deserialize)]
pub struct NoteParams {
    #[serde(default)]
    comment: String,
}

/// `POST /api/v1/accounts/:id/note` (`write:accounts`) {comment} → `Relationship` with `note`:
/// the caller's private note about the account (empty removes it); 422 past 2,000 characters.
pub async fn note(
    State(state): State<AppState>,
    auth: Auth,
    Path(id): Path<String>,
    Params { value: p, .. }: Params<NoteParams>,
) -> AppResult<Json<crate::api_types::Relationship>> {
    let cu = auth.require_user("write:accounts")?;
    Ok(Json(
        crate::service::relationships::set_note(&state, cu.account.id, &id, &p.comment).await?,
    ))
}
