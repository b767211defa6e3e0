//! Accounts as ActivityPub actors (`activitypub_federation`'s `Object` and `Actor`): local accounts
//! are served from their rows; remote ones are fetched, checked and stored.

use activitypub_federation::config::Data;
use activitypub_federation::traits::{Actor, Object};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use url::Url;

use super::keys;
use crate::federation::origin::{authority, same_origin};
use crate::federation::protocol::actor::Person;
use crate::state::AppState;
use crate::storage::accounts::{self, AccountRow, ProfileField, RemoteAccount};
use crate::text;

/// An account, with its actor ID parsed.
#[derive(Clone, Debug)]
pub struct ApAccount {
    pub row: AccountRow,
    pub id: Url,
    pub fetched_at: Option<DateTime<Utc>>,
    /// Local accounts only, loaded when signing.
    pub private_key_pem: Option<String>,
}

impl ApAccount {
    pub fn new(row: AccountRow, fetched_at: Option<DateTime<Utc>>) -> anyhow::Result<ApAccount> {
        let id = Url::parse(&row.uri)?;
        Ok(ApAccount {
            row,
            id,
            fetched_at,
            private_key_pem: None,
        })
    }

    /// The instance actor (`federation::instance_actor`) as the federation library's signing
    /// actor, with its key pair (`public`, `private`: PEM).
    ///
    /// Errors: a base URL that does not parse.
    pub fn instance_actor(
        cfg: &crate::config::Config,
        public: &str,
        private: &str,
    ) -> anyhow::Result<ApAccount> {
        let mut row = signing_row(
            crate::federation::instance_actor::uri(cfg),
            cfg.host().to_string(),
            &cfg.instance.title,
            format!("{}/actor/inbox", cfg.base_url()),
            public,
        );
        row.bot = true;
        row.url = Some(format!("{}/about", cfg.base_url()));
        row.shared_inbox_url = Some(format!("{}/inbox", cfg.base_url()));
        ApAccount::signing(row, private)
    }

    /// `row` with its private key, as the library's signing actor.
    fn signing(row: AccountRow, private: &str) -> anyhow::Result<ApAccount> {
        let mut a = ApAccount::new(row, None)?;
        a.private_key_pem = Some(private.to_string());
        Ok(a)
    }

    /// A room hosted here as the federation library's signing actor (its `Group`; docs/FEDERATION.md,
    /// "Rooms"), with its key pair (`public`, `private`: PEM).
    ///
    /// Errors: a URI that does not parse.
    pub fn group(
        uri: &str,
        name: &str,
        inbox: &str,
        public: &str,
        private: &str,
    ) -> anyhow::Result<ApAccount> {
        let row = signing_row(
            uri.to_string(),
            name.to_string(),
            name,
            inbox.to_string(),
            public,
        );
        ApAccount::signing(row, private)
    }
}

/// The row of an actor of this server that is no account (the instance actor, a room): locked, not
/// discoverable, with its public key.
fn signing_row(
    uri: String,
    username: String,
    display_name: &str,
    inbox: String,
    public: &str,
) -> AccountRow {
    AccountRow {
        id: 0,
        username,
        domain: None,
        display_name: display_name.to_string(),
        note: String::new(),
        fields: sqlx::types::Json(Vec::new()),
        locked: true,
        bot: false,
        discoverable: false,
        indexable: false,
        uri,
        url: None,
        inbox_url: Some(inbox),
        shared_inbox_url: None,
        public_key_pem: Some(public.to_string()),
        created_at: Utc::now(),
        updated_at: Utc::now(),
        avatar_media_id: None,
        header_media_id: None,
        silenced_at: None,
        suspended_at: None,
        moved_to_account_id: None,
    }
}

tokio::task_local! {
    /// Actors read while one inbox request is handled. The signature check reads the sender
    /// (`federation::signatures`) and the handler needs it again; without this each was a query.
    static REQUEST_ACTORS: std::cell::RefCell<Vec<(AccountRow, Option<DateTime<Utc>>)>>;
}

/// Runs `f` (one inbox request) with actors read from the database remembered for its duration.
/// A fetched or updated actor replaces the remembered row, so nothing stale is returned.
pub async fn with_request_actors<F: std::future::Future>(f: F) -> F::Output {
    REQUEST_ACTORS
        .scope(std::cell::RefCell::new(Vec::new()), f)
        .await
}

fn remembered(uri: &str) -> Option<(AccountRow, Option<DateTime<Utc>>)> {
    REQUEST_ACTORS
        .try_with(|c| c.borrow().iter().find(|(a, _)| a.uri == uri).cloned())
        .ok()
        .flatten()
}

fn remember(row: &AccountRow, fetched_at: Option<DateTime<Utc>>) {
    let _ = REQUEST_ACTORS.try_with(|c| {
        let mut c = c.borrow_mut();
        c.retain(|(a, _)| a.uri != row.uri);
        c.push((row.clone(), fetched_at));
    });
}

/// Longest username and display name kept from remote actors.
const REMOTE_NAME_MAX: usize = 255;

#[async_trait]
impl Object for ApAccount {
    type DataType = AppState;
    type Kind = Person;
    type Error = anyhow::Error;

    fn id(&self) -> &Url {
        &self.id
    }

    fn last_refreshed_at(&self) -> Option<DateTime<Utc>> {
        // Local accounts are never refetched.
        if self.row.is_local() {
            Some(Utc::now())
        } else {
            self.fetched_at
        }
    }

    async fn read_from_id(
        object_id: Url,
        data: &Data<AppState>,
    ) -> Result<Option<Self>, Self::Error> {
        if let Some((row, fetched)) = remembered(object_id.as_str()) {
            return Ok(Some(ApAccount::new(row, fetched)?));
        }
        match accounts::find_by_uri(&data.db, object_id.as_str()).await? {
            Some((row, fetched)) => {
                remember(&row, fetched);
                Ok(Some(ApAccount::new(row, fetched)?))
            }
            None => Ok(None),
        }
    }

    async fn into_json(self, data: &Data<AppState>) -> Result<Person, Self::Error> {
        anyhow::ensure!(self.row.is_local(), "only local actors are served");
        let pem = keys::public_key_pem(data.app_data(), &self.row)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))?;
        crate::service::activitypub::person_of(data.app_data(), &self.row, &pem)
            .await
            .map_err(|e| anyhow::anyhow!("{e}"))
    }

    async fn verify(
        json: &Person,
        expected_domain: &Url,
        _data: &Data<AppState>,
    ) -> Result<(), Self::Error> {
        anyhow::ensure!(
            same_origin(&json.id, expected_domain),
            "actor {} is not from {expected_domain}",
            json.id
        );
        anyhow::ensure!(
            json.public_key.owner == json.id,
            "the key of {} belongs to {}",
            json.id,
            json.public_key.owner
        );
        anyhow::ensure!(
            same_origin(&json.inbox, &json.id),
            "the inbox of {} is on another server",
            json.id
        );
        let name = json.preferred_username.as_str();
        anyhow::ensure!(
            !name.is_empty()
                && name.len() <= REMOTE_NAME_MAX
                && !name
                    .chars()
                    .any(|c| c.is_whitespace() || c == '@' || c.is_control()),
            "unusable preferredUsername {name:?}"
        );
        Ok(())
    }

    async fn from_json(json: Person, data: &Data<AppState>) -> Result<Self, Self::Error> {
        let domain =
            authority(&json.id).ok_or_else(|| anyhow::anyhow!("actor ID without a host"))?;
        anyhow::ensure!(
            !domain.eq_ignore_ascii_case(&data.config.server.domain),
            "a remote document claims a local actor"
        );
        let display_name: String = text::clean_line(json.name.as_deref().unwrap_or(""))
            .chars()
            .take(REMOTE_NAME_MAX)
            .collect();
        let note = text::sanitize_html(json.summary.as_deref().unwrap_or(""));
        let fields: Vec<ProfileField> = json
            .attachment
            .iter()
            .take(16)
            .map(|f| ProfileField {
                name: text::clean_line(&f.name),
                value: text::sanitize_html(&f.value),
                verified_at: None,
            })
            .collect();
        let shared = json
            .endpoints
            .as_ref()
            .and_then(|e| e.shared_inbox.as_ref())
            .filter(|s| same_origin(s, &json.id));
        let id = accounts::upsert_remote(
            &data.db,
            &RemoteAccount {
                uri: json.id.as_str(),
                username: &json.preferred_username,
                domain: &domain,
                display_name: &display_name,
                note: &note,
                fields,
                locked: json.manually_approves_followers,
                bot: json.kind == "Service" || json.kind == "Application",
                discoverable: json.discoverable.unwrap_or(false),
                indexable: json.indexable.unwrap_or(false),
                url: json.url.as_ref().map(Url::as_str),
                inbox_url: json.inbox.as_str(),
                shared_inbox_url: shared.map(Url::as_str),
                public_key_pem: &json.public_key.public_key_pem,
                actor_type: &json.kind,
                published: json.published,
                also_known_as: json.also_known_as.iter().map(|u| u.to_string()).collect(),
                has_moved_to: json.moved_to.is_some(),
            },
        )
        .await?;
        crate::service::emojis::store_remote(data.app_data(), &domain, &json.tag).await;
        let row = accounts::find_account(&data.db, id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("stored actor vanished"))?;
        crate::service::media::refresh_remote_profile_images(
            data.app_data(),
            &row,
            json.icon.as_ref().map(|i| &i.url),
            json.image.as_ref().map(|i| &i.url),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        let row = accounts::find_account(&data.db, id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("stored actor vanished"))?;
        let now = Utc::now();
        remember(&row, Some(now));
        ApAccount::new(row, Some(now))
    }
}

impl Actor for ApAccount {
    fn public_key_pem(&self) -> &str {
        self.row.public_key_pem.as_deref().unwrap_or("")
    }

    fn private_key_pem(&self) -> Option<String> {
        self.private_key_pem.clone()
    }

    fn inbox(&self) -> Url {
        let fallback = format!("{}/inbox", self.row.uri);
        Url::parse(self.row.inbox_url.as_deref().unwrap_or(&fallback))
            .unwrap_or_else(|_| self.id.clone())
    }

    fn shared_inbox(&self) -> Option<Url> {
        self.row
            .shared_inbox_url
            .as_deref()
            .and_then(|u| Url::parse(u).ok())
    }
}
