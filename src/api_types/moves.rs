//! Rookery's entities for account migration (docs/API.md, "Aliases and moves"). Mastodon manages
//! aliases and moves on web settings pages only, with no API of its own to follow.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Account;
use crate::storage::account_moves::{AliasRow, MigrationRow};

/// `Alias`: another account of the same person; a move from it to this one is accepted.
#[derive(Clone, Debug, Serialize)]
pub struct Alias {
    pub id: String,
    /// `user@domain`.
    pub acct: String,
    /// Its actor URI (`alsoKnownAs`).
    pub uri: String,
    #[serde(with = "super::mastodon_time")]
    pub created_at: DateTime<Utc>,
}

impl From<&AliasRow> for Alias {
    fn from(a: &AliasRow) -> Alias {
        Alias {
            id: a.id.to_string(),
            acct: a.acct.clone(),
            uri: a.uri.clone(),
            created_at: a.created_at,
        }
    }
}

/// `AccountMigration`: a move this account made.
#[derive(Clone, Debug, Serialize)]
pub struct AccountMigration {
    pub id: String,
    /// Where it moved, `user@domain`.
    pub acct: String,
    /// `null` once that account is gone.
    pub target_account_id: Option<String>,
    /// Followers the account had when it moved.
    pub followers_count: i64,
    #[serde(with = "super::mastodon_time")]
    pub created_at: DateTime<Utc>,
}

impl From<&MigrationRow> for AccountMigration {
    fn from(m: &MigrationRow) -> AccountMigration {
        AccountMigration {
            id: m.id.to_string(),
            acct: m.acct.clone(),
            target_account_id: m.target_account_id.map(|i| i.to_string()),
            followers_count: m.followers_count,
            created_at: m.created_at,
        }
    }
}

/// `MigrationState`: what `GET /api/v1/migration` shows.
#[derive(Clone, Debug, Serialize)]
pub struct MigrationState {
    /// The account this one redirects to, or `null`.
    pub moved_to: Option<Account>,
    /// When the next move is allowed, or `null` when it is now.
    #[serde(with = "super::mastodon_time::option")]
    pub cooldown_until: Option<DateTime<Utc>>,
    pub aliases: Vec<Alias>,
    /// Moves made, newest first (the last 20).
    pub migrations: Vec<AccountMigration>,
}
