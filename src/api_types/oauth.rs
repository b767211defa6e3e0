//! `Application`, `CredentialApplication` and `Token` entities
//! (docs.joinmastodon.org/entities/Application/, /entities/Token/).

use serde::Serialize;

use crate::storage::oauth::ApplicationRow;

#[derive(Clone, Debug, Serialize)]
pub struct Application {
    pub id: String,
    pub name: String,
    pub website: Option<String>,
    pub scopes: Vec<String>,
    pub redirect_uri: String,
    pub redirect_uris: Vec<String>,
    /// The instance's VAPID public key (base64url P-256 point) for Web Push subscriptions.
    pub vapid_key: String,
}

impl Application {
    pub fn from_row(row: &ApplicationRow, vapid_key: &str) -> Application {
        let uris: Vec<String> = row.redirect_uri_list().map(String::from).collect();
        Application {
            id: row.id.to_string(),
            name: row.name.clone(),
            website: row.website.clone(),
            scopes: row.scopes.split(' ').map(String::from).collect(),
            redirect_uri: uris.join("\n"),
            redirect_uris: uris,
            vapid_key: vapid_key.to_string(),
        }
    }
}

/// Returned once, by `POST /api/v1/apps`.
#[derive(Clone, Debug, Serialize)]
pub struct CredentialApplication {
    #[serde(flatten)]
    pub application: Application,
    pub client_id: String,
    pub client_secret: String,
    pub client_secret_expires_at: u64,
}

#[derive(Clone, Debug, Serialize)]
pub struct Token {
    pub access_token: String,
    pub token_type: &'static str,
    pub scope: String,
    /// Unix seconds.
    pub created_at: i64,
}
