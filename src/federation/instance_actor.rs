//! The instance actor (`https://DOMAIN/actor`, type `Application`): the server itself as an
//! ActivityPub actor. It signs every outgoing fetch, so servers that require signed fetches
//! (Mastodon's secure mode) answer us. Its key pair is made once and kept in `instance_settings`.

use url::Url;

use crate::config::Config;
use crate::federation::protocol::actor::{Endpoints, Person, PublicKey};
use crate::storage::{Db, settings};

/// Both halves in one value, so concurrent starts agree on one pair (the first stored wins).
const KEY_PAIR: &str = "instance_actor.key_pair";

/// `https://DOMAIN/actor`.
pub fn uri(cfg: &Config) -> String {
    format!("{}/actor", cfg.base_url())
}

/// The instance actor's keys, `(public, private)` PEM, made on first use.
pub async fn keys(db: &Db) -> anyhow::Result<(String, String)> {
    let stored = match settings::get(db, KEY_PAIR).await? {
        Some(v) => v,
        None => {
            let pair = tokio::task::spawn_blocking(
                activitypub_federation::http_signatures::generate_actor_keypair,
            )
            .await?
            .map_err(|e| anyhow::anyhow!("generating the instance key pair: {e}"))?;
            let value =
                serde_json::json!({ "public": pair.public_key, "private": pair.private_key })
                    .to_string();
            settings::get_or_insert(db, KEY_PAIR, &value).await?
        }
    };
    let v: serde_json::Value = serde_json::from_str(&stored)?;
    let field = |k: &str| {
        v.get(k)
            .and_then(|x| x.as_str())
            .map(String::from)
            .ok_or_else(|| anyhow::anyhow!("instance key pair lacks {k}"))
    };
    Ok((field("public")?, field("private")?))
}

/// The `Application` document served at `/actor`.
pub fn document(cfg: &Config, public: &str) -> anyhow::Result<Person> {
    let id = Url::parse(&uri(cfg))?;
    Ok(Person {
        id: id.clone(),
        kind: "Application".into(),
        preferred_username: cfg.host().to_string(),
        name: Some(cfg.instance.title.clone()),
        summary: None,
        url: Some(Url::parse(&format!("{}/about", cfg.base_url()))?),
        inbox: Url::parse(&format!("{}/actor/inbox", cfg.base_url()))?,
        outbox: Some(Url::parse(&format!("{}/actor/outbox", cfg.base_url()))?),
        followers: None,
        following: None,
        featured: None,
        endpoints: Some(Endpoints {
            shared_inbox: Some(Url::parse(&format!("{}/inbox", cfg.base_url()))?),
        }),
        public_key: PublicKey {
            id: format!("{}#main-key", id),
            owner: id,
            public_key_pem: public.to_string(),
        },
        manually_approves_followers: true,
        discoverable: Some(false),
        indexable: Some(false),
        published: None,
        icon: None,
        image: None,
        attachment: Vec::new(),
        tag: Vec::new(),
        also_known_as: Vec::new(),
        moved_to: None,
    })
}
