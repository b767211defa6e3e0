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
use crate::service::oauth;
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
    Params { value: p, .. }: Params<SignUpParams>,
) -> AppResult<Json<Token>> {
    let principal = auth.require("write:accounts")?;
    let (_, user) = svc::sign_up(
        &state,
        &SignUp {
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
    Ok(Json(CredentialAccount::from_rows(
        &cu.account,
        &cu.user,
        &state.config,
    )))
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
    if let Some(f) = files.first() {
        return Err(AppError::unprocessable(format!(
            "Uploading {} is not supported yet",
            f.field
        )));
    }
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
        },
    )
    .await?;
    let account = accounts::find_account(&state.db, cu.account.id)
        .await?
        .ok_or(AppError::NotFound)?;
    let user = accounts::find_user(&state.db, cu.user.id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(Json(CredentialAccount::from_rows(
        &account,
        &user,
        &state.config,
    )))
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

/// `GET /api/v1/accounts/:id` (public).
pub async fn show(
    State(state): State<AppState>,
    _auth: Auth,
    Path(id): Path<String>,
) -> AppResult<Json<Account>> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    let row = visible_account(&state, id).await?;
    Ok(Json(Account::from_row(&row, &state.config)))
}

#[derive(Deserialize)]
pub struct LookupParams {
    acct: Option<String>,
}

/// `GET /api/v1/accounts/lookup?acct=user[@domain]` (public). Remote accounts not yet known here are
/// 404 until federation resolves them.
pub async fn lookup(
    State(state): State<AppState>,
    _auth: Auth,
    Params { value: p, .. }: Params<LookupParams>,
) -> AppResult<Json<Account>> {
    let acct = p
        .acct
        .ok_or_else(|| AppError::bad_request("acct is missing"))?;
    let (username, domain) =
        svc::parse_acct(&acct, &state.config.server.domain).ok_or(AppError::NotFound)?;
    let row = accounts::find_account_by_acct(&state.db, username, domain)
        .await?
        .ok_or(AppError::NotFound)?;
    let row = visible_account(&state, row.id).await?;
    Ok(Json(Account::from_row(&row, &state.config)))
}

#[derive(Deserialize)]
pub struct RelationshipsParams {
    #[serde(default, deserialize_with = "lenient::one_or_many")]
    id: Vec<String>,
}

/// `GET /api/v1/accounts/relationships?id[]=…` (`read:follows`), at most 40 IDs. Unknown IDs are
/// left out, as Mastodon does. Follows, blocks and mutes arrive with the relationships issue; until
/// then no relationship exists and every flag is false.
pub async fn relationships(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<RelationshipsParams>,
) -> AppResult<Json<Vec<Relationship>>> {
    auth.require_user("read:follows")?;
    let ids: Vec<i64> =
        p.id.iter()
            .filter_map(|s| s.parse().ok())
            .take(40)
            .collect();
    let rows = accounts::find_accounts(&state.db, &ids).await?;
    let out = ids
        .iter()
        .filter(|id| rows.iter().any(|r| r.id == **id))
        .map(|id| Relationship {
            id: id.to_string(),
            ..Relationship::default()
        })
        .collect();
    Ok(Json(out))
}

#[derive(Deserialize)]
pub struct SearchParams {
    #[serde(default)]
    q: String,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    limit: Option<i64>,
    #[serde(default, deserialize_with = "lenient::opt_i64")]
    offset: Option<i64>,
}

/// `GET /api/v1/accounts/search?q=` (`read:accounts`): local accounts by username or display name,
/// or an exact `user@domain` match among known accounts. `limit` defaults to 40, at most 80.
pub async fn search(
    State(state): State<AppState>,
    auth: Auth,
    Params { value: p, .. }: Params<SearchParams>,
) -> AppResult<Json<Vec<Account>>> {
    auth.require_user("read:accounts")?;
    let q = p.q.trim().trim_start_matches('@');
    if q.is_empty() {
        return Ok(Json(Vec::new()));
    }
    let limit = p.limit.unwrap_or(40).clamp(1, 80);
    let offset = p.offset.unwrap_or(0).max(0);
    let rows = match svc::parse_acct(q, &state.config.server.domain) {
        Some((user, Some(domain))) => accounts::find_account_by_acct(&state.db, user, Some(domain))
            .await?
            .into_iter()
            .collect(),
        _ => accounts::search_local(&state.db, q, limit, offset).await?,
    };
    Ok(Json(
        rows.iter()
            .map(|r| Account::from_row(r, &state.config))
            .collect(),
    ))
}
