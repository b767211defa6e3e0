//! `/api/v1/apps` (docs.joinmastodon.org/methods/apps/).

use axum::Json;
use axum::extract::State;
use serde::Deserialize;

use crate::api_types::oauth::{Application, CredentialApplication};
use crate::error::{AppError, AppResult};
use crate::http::extract::{Auth, Params, lenient};
use crate::service::oauth::{self, RegisterApp};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct CreateAppParams {
    client_name: Option<String>,
    /// A string (several URIs separated by newlines) or, since Mastodon 4.3, an array.
    #[serde(default, deserialize_with = "lenient::one_or_many")]
    redirect_uris: Vec<String>,
    scopes: Option<String>,
    website: Option<String>,
}

/// `POST /api/v1/apps`: registers a client application. JSON, form and multipart bodies.
pub async fn create(
    State(state): State<AppState>,
    Params { value: p, .. }: Params<CreateAppParams>,
) -> AppResult<Json<CredentialApplication>> {
    let (row, secret) = oauth::register_app(
        &state.db,
        RegisterApp {
            client_name: p.client_name.as_deref().unwrap_or(""),
            redirect_uris: p.redirect_uris,
            scopes: p.scopes.as_deref(),
            website: p.website.as_deref(),
        },
    )
    .await?;
    Ok(Json(CredentialApplication {
        application: Application::from_row(
            &row,
            &crate::service::push::vapid(&state).await?.public_key,
        ),
        client_id: row.client_id.clone(),
        client_secret: secret,
        client_secret_expires_at: 0,
    }))
}

/// `GET /api/v1/apps/verify_credentials`: the application behind the token (any scope).
pub async fn verify_credentials(
    State(state): State<AppState>,
    auth: Auth,
) -> AppResult<Json<Application>> {
    let p = auth
        .0
        .as_ref()
        .ok_or_else(|| AppError::unauthorized("The access token is invalid"))?;
    let app = crate::service::oauth::application(&state, p.application_id).await?;
    Ok(Json(Application::from_row(
        &app,
        &crate::service::push::vapid(&state).await?.public_key,
    )))
}
