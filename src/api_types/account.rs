//! `Account`, `CredentialAccount` (with `source` and `role`) and `Relationship` entities
//! (docs.joinmastodon.org/entities/Account/, /entities/Relationship/).

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::config::Config;
use crate::storage::accounts::{AccountRow, UserRow};

use super::CustomEmoji;

#[derive(Clone, Debug, Serialize)]
pub struct Field {
    pub name: String,
    /// HTML.
    pub value: String,
    #[serde(with = "super::mastodon_time::option")]
    pub verified_at: Option<DateTime<Utc>>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Account {
    pub id: String,
    pub username: String,
    /// `username` for local accounts, `username@domain` for remote ones.
    pub acct: String,
    pub url: String,
    pub uri: String,
    pub display_name: String,
    /// HTML.
    pub note: String,
    pub avatar: String,
    pub avatar_static: String,
    pub header: String,
    pub header_static: String,
    pub locked: bool,
    pub fields: Vec<Field>,
    pub emojis: Vec<CustomEmoji>,
    pub bot: bool,
    pub group: bool,
    pub discoverable: Option<bool>,
    pub indexable: bool,
    pub hide_collections: Option<bool>,
    pub noindex: Option<bool>,
    /// Midnight UTC of the creation day, as Mastodon rounds it.
    #[serde(with = "super::mastodon_time")]
    pub created_at: DateTime<Utc>,
    /// The day of the latest status (`YYYY-MM-DD`), as Mastodon gives it.
    pub last_status_at: Option<String>,
    pub statuses_count: i64,
    pub followers_count: i64,
    pub following_count: i64,
    pub roles: Vec<serde_json::Value>,
    /// Present (`true`) only when a moderator suspended the account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suspended: Option<bool>,
    /// Present (`true`) only when a moderator limited the account.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limited: Option<bool>,
    /// The account this one moved to (Mastodon: present only when it has moved).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub moved: Option<Box<Account>>,
}

/// Default avatar and header images served by this instance.
pub fn missing_avatar(cfg: &Config) -> String {
    format!("{}/avatars/original/missing.png", cfg.base_url())
}

pub fn missing_header(cfg: &Config) -> String {
    format!("{}/headers/original/missing.png", cfg.base_url())
}

/// Counts shown on an account.
#[derive(Clone, Copy, Debug, Default)]
pub struct AccountStats {
    pub statuses_count: i64,
    pub followers_count: i64,
    pub following_count: i64,
    pub last_status_at: Option<DateTime<Utc>>,
}

impl Account {
    /// Sets the counters (see `service::render`, which loads them).
    pub fn with_stats(mut self, s: AccountStats) -> Account {
        self.statuses_count = s.statuses_count;
        self.followers_count = s.followers_count;
        self.following_count = s.following_count;
        self.last_status_at = s.last_status_at.map(|t| t.format("%Y-%m-%d").to_string());
        self
    }

    /// The entity without counters; use `service::render::accounts` for what clients see.
    pub fn from_row(row: &AccountRow, cfg: &Config) -> Account {
        let acct = match &row.domain {
            None => row.username.clone(),
            Some(d) => format!("{}@{}", row.username, d),
        };
        let avatar = missing_avatar(cfg);
        let header = missing_header(cfg);
        let created_day = row
            .created_at
            .date_naive()
            .and_hms_opt(0, 0, 0)
            .map_or(row.created_at, |d| d.and_utc());
        Account {
            id: row.id.to_string(),
            username: row.username.clone(),
            acct,
            url: row.url.clone().unwrap_or_else(|| row.uri.clone()),
            uri: row.uri.clone(),
            display_name: row.display_name.clone(),
            note: row.note.clone(),
            avatar_static: avatar.clone(),
            avatar,
            header_static: header.clone(),
            header,
            locked: row.locked,
            fields: row
                .fields
                .0
                .iter()
                .map(|f| Field {
                    name: f.name.clone(),
                    value: f.value.clone(),
                    verified_at: f.verified_at,
                })
                .collect(),
            emojis: Vec::new(),
            bot: row.bot,
            group: false,
            discoverable: Some(row.discoverable),
            indexable: row.indexable,
            hide_collections: Some(false),
            noindex: Some(!row.discoverable),
            created_at: created_day,
            last_status_at: None,
            statuses_count: 0,
            followers_count: 0,
            following_count: 0,
            roles: Vec::new(),
            suspended: row.suspended_at.map(|_| true),
            limited: row.silenced_at.map(|_| true),
            moved: None,
        }
    }
}

#[derive(Clone, Debug, Serialize)]
pub struct SourceField {
    pub name: String,
    pub value: String,
    #[serde(with = "super::mastodon_time::option")]
    pub verified_at: Option<DateTime<Utc>>,
}

/// `Account.source`: what the user typed, for editing.
#[derive(Clone, Debug, Serialize)]
pub struct Source {
    pub privacy: String,
    pub sensitive: bool,
    pub language: Option<String>,
    pub note: String,
    pub fields: Vec<SourceField>,
    pub follow_requests_count: i64,
    pub hide_collections: bool,
    pub discoverable: bool,
    pub indexable: bool,
    /// Who may quote new posts by default (Mastodon 4.5): public | followers | nobody.
    pub quote_policy: String,
}

/// `Role` entity (docs.joinmastodon.org/entities/Role/).
#[derive(Clone, Debug, Serialize)]
pub struct RoleEntity {
    pub id: String,
    pub name: String,
    /// Bit set of permissions as a decimal string; admins get `1` (administrator).
    pub permissions: String,
    pub color: String,
    pub highlighted: bool,
}

/// `CredentialAccount`: the signed-in user's own account.
#[derive(Clone, Debug, Serialize)]
pub struct CredentialAccount {
    #[serde(flatten)]
    pub account: Account,
    pub source: Source,
    pub role: RoleEntity,
}

/// Mastodon permission bits (app/models/user_role.rb FLAGS): administrator = 1, and the
/// moderation set for moderators (manage reports 1<<4, manage users 1<<10, view dashboard 1<<8…).
const MODERATOR_PERMISSIONS: u64 = (1 << 4) | (1 << 5) | (1 << 8) | (1 << 10) | (1 << 11);

impl CredentialAccount {
    pub fn from_rows(
        account: Account,
        row: &AccountRow,
        user: &UserRow,
        follow_requests_count: i64,
    ) -> CredentialAccount {
        let s = &user.settings.0;
        CredentialAccount {
            account,
            source: Source {
                privacy: s.privacy.clone().unwrap_or_else(|| "public".into()),
                quote_policy: s.quote_policy.clone().unwrap_or_else(|| "public".into()),
                sensitive: s.sensitive,
                language: s.language.clone(),
                note: s.note_source.clone(),
                fields: s
                    .fields_source
                    .iter()
                    .map(|(n, v)| SourceField {
                        name: n.clone(),
                        value: v.clone(),
                        verified_at: None,
                    })
                    .collect(),
                follow_requests_count,
                hide_collections: false,
                discoverable: row.discoverable,
                indexable: row.indexable,
            },
            role: RoleEntity::of(&user.role),
        }
    }
}

impl RoleEntity {
    /// The entity of a `users.role` (`user`, `moderator`, `admin`).
    pub fn of(role: &str) -> RoleEntity {
        let (id, name, permissions, highlighted) = match role {
            "admin" => ("3", "Admin", 1, true),
            "moderator" => ("2", "Moderator", MODERATOR_PERMISSIONS, true),
            _ => ("-99", "", 0, false),
        };
        RoleEntity {
            id: id.into(),
            name: name.into(),
            permissions: permissions.to_string(),
            color: String::new(),
            highlighted,
        }
    }
}

/// `Relationship` between the caller and another account.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Relationship {
    pub id: String,
    pub following: bool,
    pub showing_reblogs: bool,
    pub notifying: bool,
    pub languages: Option<Vec<String>>,
    pub followed_by: bool,
    pub blocking: bool,
    pub blocked_by: bool,
    pub muting: bool,
    pub muting_notifications: bool,
    pub requested: bool,
    pub requested_by: bool,
    pub domain_blocking: bool,
    pub endorsed: bool,
    pub note: String,
}
