//! Entities of the moderation API: `Report` (docs.joinmastodon.org/entities/Report/),
//! `Admin::Account` (/entities/Admin_Account/) and `Admin::Report` (/entities/Admin_Report/).

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::account::{Account, RoleEntity};
use super::status::Status;
use crate::storage::accounts::{AccountRow, UserRow};
use crate::storage::reports::ReportRow;

/// `Report`: what the reporter sees of their report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub id: String,
    pub action_taken: bool,
    #[serde(with = "super::mastodon_time::option")]
    pub action_taken_at: Option<DateTime<Utc>>,
    pub category: String,
    pub comment: String,
    pub forwarded: bool,
    #[serde(with = "super::mastodon_time")]
    pub created_at: DateTime<Utc>,
    pub status_ids: Vec<String>,
    pub rule_ids: Vec<String>,
    pub target_account: Account,
}

impl Report {
    pub fn new(r: &ReportRow, target_account: Account) -> Report {
        Report {
            id: r.id.to_string(),
            action_taken: r.action_taken_at.is_some(),
            action_taken_at: r.action_taken_at,
            category: r.category.clone(),
            comment: r.comment.clone(),
            forwarded: r.forwarded,
            created_at: r.created_at,
            status_ids: r.status_ids.0.iter().map(i64::to_string).collect(),
            rule_ids: r.rule_ids.0.iter().map(i64::to_string).collect(),
            target_account,
        }
    }
}

/// `Admin::Account`: an account with its login's state, for moderators. Remote accounts have no
/// login: `email`, `locale` and `role` are null and `confirmed`/`approved` true.
#[derive(Clone, Debug, Serialize)]
pub struct AdminAccount {
    pub id: String,
    pub username: String,
    pub domain: Option<String>,
    #[serde(with = "super::mastodon_time")]
    pub created_at: DateTime<Utc>,
    pub email: Option<String>,
    /// Sign-up addresses are not kept.
    pub ip: Option<String>,
    pub ips: Vec<Value>,
    pub locale: Option<String>,
    pub invite_request: Option<String>,
    pub role: Option<RoleEntity>,
    pub confirmed: bool,
    pub approved: bool,
    pub disabled: bool,
    pub sensitized: bool,
    pub silenced: bool,
    pub suspended: bool,
    pub account: Account,
    pub created_by_application_id: Option<String>,
    pub invited_by_account_id: Option<String>,
}

impl AdminAccount {
    pub fn new(row: &AccountRow, user: Option<&UserRow>, account: Account) -> AdminAccount {
        AdminAccount {
            id: row.id.to_string(),
            username: row.username.clone(),
            domain: row.domain.clone(),
            created_at: row.created_at,
            email: user.map(|u| u.email.clone()),
            ip: None,
            ips: Vec::new(),
            locale: user.and_then(|u| u.locale.clone()),
            invite_request: user.and_then(|u| u.sign_up_reason.clone()),
            role: user.map(|u| RoleEntity::of(&u.role)),
            confirmed: user.is_none_or(|u| u.confirmed_at.is_some()),
            approved: user.is_none_or(|u| u.approved),
            disabled: user.is_some_and(|u| u.disabled),
            sensitized: false,
            silenced: row.silenced_at.is_some(),
            suspended: row.suspended_at.is_some(),
            account,
            created_by_application_id: None,
            invited_by_account_id: None,
        }
    }
}

/// `Admin::Report`: a report with both accounts, its statuses and rules, for moderators.
#[derive(Clone, Debug, Serialize)]
pub struct AdminReport {
    pub id: String,
    pub action_taken: bool,
    #[serde(with = "super::mastodon_time::option")]
    pub action_taken_at: Option<DateTime<Utc>>,
    pub category: String,
    pub comment: String,
    pub forwarded: bool,
    #[serde(with = "super::mastodon_time")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "super::mastodon_time")]
    pub updated_at: DateTime<Utc>,
    pub account: AdminAccount,
    pub target_account: AdminAccount,
    pub assigned_account: Option<AdminAccount>,
    pub action_taken_by_account: Option<AdminAccount>,
    pub statuses: Vec<Status>,
    pub rules: Vec<Value>,
}
