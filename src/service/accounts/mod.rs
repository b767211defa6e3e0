//! Local accounts: creation (sign-up and the admin CLI), credentials, profile updates and the state
//! checks that decide whether a user may act.
//!
//! Files: this one (creation, credentials, profile, state checks) and `lookup` (finding accounts
//! and users for handlers).

mod lookup;
pub use lookup::*;

use std::sync::LazyLock;

use regex::Regex;
use serde_json::json;

use crate::config::RegistrationsMode;
use crate::error::{AppError, AppResult, Details};
use crate::service::{media, passwords};
use crate::state::AppState;
use crate::storage::accounts::{self, NewLocalAccount, ProfileField, ProfileUpdate};

/// Stored accounts and local users, as services hand them to handlers.
pub use crate::storage::accounts::{AccountRow, UserRow};
use crate::storage::media::ProfileImage;
use crate::storage::{db, ids};
use crate::text;

/// Longest local username, in characters (Mastodon's limit).
pub const USERNAME_MAX: usize = 30;
pub const DISPLAY_NAME_MAX: usize = 30;
pub const NOTE_MAX: usize = 500;
pub const FIELDS_MAX: usize = 4;
pub const FIELD_NAME_MAX: usize = 255;
pub const FIELD_VALUE_MAX: usize = 255;
pub(crate) const EMAIL_MAX: usize = 254;

/// Names only an operator may take (through `rookery admin account create`).
pub const RESERVED_USERNAMES: &[&str] = &[
    "admin",
    "administrator",
    "help",
    "mod",
    "moderator",
    "root",
    "support",
    "webmaster",
    "instance",
    "inbox",
    "actor",
    "users",
    "rookery",
];

static USERNAME_RE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^[A-Za-z0-9_]+([A-Za-z0-9_.\-]+[A-Za-z0-9_]+)?$").expect("static regex")
});

/// Roles, lowest to highest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    User,
    Moderator,
    Admin,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "user" => Some(Role::User),
            "moderator" => Some(Role::Moderator),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Moderator => "moderator",
            Role::Admin => "admin",
        }
    }
}

/// A new local account. `allow_reserved` is for the operator's CLI only.
pub struct CreateLocalAccount<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub password: &'a str,
    pub role: Role,
    pub approved: bool,
    pub locale: Option<&'a str>,
    pub reason: Option<&'a str>,
    pub allow_reserved: bool,
    /// False: the address must be confirmed first; a confirmation link is mailed.
    pub confirmed: bool,
}

/// Collects per-field errors into Mastodon's `details` map and the summary sentence.
#[derive(Default)]
struct Validation {
    details: Details,
    sentences: Vec<String>,
}

impl Validation {
    fn add(&mut self, field: &str, code: &str, description: &str) {
        let entry = self
            .details
            .entry(field.to_string())
            .or_insert_with(|| json!([]));
        if let Some(list) = entry.as_array_mut() {
            list.push(json!({ "error": code, "description": description }));
        }
        let mut label = field.replace('_', " ");
        if let Some(first) = label.get_mut(0..1) {
            first.make_ascii_uppercase();
        }
        self.sentences.push(format!("{label} {description}"));
    }

    fn finish(self) -> AppResult<()> {
        if self.details.is_empty() {
            return Ok(());
        }
        Err(AppError::Unprocessable {
            message: format!("Validation failed: {}", self.sentences.join(", ")),
            details: Some(self.details),
        })
    }
}

pub(crate) fn looks_like_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.is_empty()
        && !domain.contains('@')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}

/// Validates and inserts a local account with its user; unless `confirmed`, a confirmation link is
/// mailed in the same transaction. Returns the rows.
///
/// Errors: 422 with `details` (`ERR_BLANK`, `ERR_INVALID`, `ERR_TOO_LONG`, `ERR_TOO_SHORT`,
/// `ERR_TAKEN`, `ERR_RESERVED`) for each bad field; nothing is stored then.
pub async fn create_local(
    state: &AppState,
    new: &CreateLocalAccount<'_>,
) -> AppResult<(AccountRow, UserRow)> {
    let db = &state.db;
    let mut v = Validation::default();
    let username = new.username.trim();
    let email = new.email.trim();
    if username.is_empty() {
        v.add("username", "ERR_BLANK", "can't be blank");
    } else if username.chars().count() > USERNAME_MAX {
        v.add(
            "username",
            "ERR_TOO_LONG",
            "is too long (maximum is 30 characters)",
        );
    } else if !USERNAME_RE.is_match(username) {
        v.add(
            "username",
            "ERR_INVALID",
            "must contain only letters, numbers, underscores, dots and dashes",
        );
    } else if !new.allow_reserved && RESERVED_USERNAMES.contains(&username.to_lowercase().as_str())
    {
        v.add("username", "ERR_RESERVED", "is reserved");
    } else if accounts::find_local_account_by_username(db, username)
        .await?
        .is_some()
    {
        v.add("username", "ERR_TAKEN", "is already taken");
    }
    if email.is_empty() {
        v.add("email", "ERR_BLANK", "can't be blank");
    } else if email.len() > EMAIL_MAX || !looks_like_email(email) {
        v.add("email", "ERR_INVALID", "is not a valid e-mail address");
    } else if accounts::find_user_by_login(db, email).await?.is_some() {
        v.add("email", "ERR_TAKEN", "is already taken");
    }
    let pw_len = new.password.chars().count();
    if pw_len == 0 {
        v.add("password", "ERR_BLANK", "can't be blank");
    } else if pw_len < passwords::MIN_LEN {
        v.add(
            "password",
            "ERR_TOO_SHORT",
            "is too short (minimum is 8 characters)",
        );
    } else if pw_len > passwords::MAX_LEN {
        v.add(
            "password",
            "ERR_TOO_LONG",
            "is too long (maximum is 128 characters)",
        );
    }
    if let Some(locale) = new.locale
        && (locale.len() > 16
            || !locale
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-'))
    {
        v.add("locale", "ERR_INVALID", "is not a known language");
    }
    if let Some(reason) = new.reason
        && reason.chars().count() > 500
    {
        v.add(
            "reason",
            "ERR_TOO_LONG",
            "is too long (maximum is 500 characters)",
        );
    }
    v.finish()?;

    let password_hash = passwords::hash(new.password.to_string()).await?;
    let base = state.config.base_url();
    let account_id = ids::new_id();
    let user_id = ids::new_id();
    let uri = format!("{base}/users/{username}");
    let row = NewLocalAccount {
        account_id,
        user_id,
        username,
        email,
        password_hash: &password_hash,
        role: new.role.as_str(),
        approved: new.approved,
        confirmed: new.confirmed,
        locale: new.locale,
        sign_up_reason: new.reason,
        uri: &uri,
        url: &format!("{base}/@{username}"),
        inbox_url: &format!("{uri}/inbox"),
        shared_inbox_url: &format!("{base}/inbox"),
    };
    let mut tx = db.begin().await?;
    if let Err(e) = accounts::insert_local(&mut tx, &row).await {
        if db::is_unique_violation(&e) {
            // Lost a race with a concurrent sign-up for the same name or address.
            let mut v = Validation::default();
            v.add("username", "ERR_TAKEN", "is already taken");
            v.finish()?;
        }
        return Err(e.into());
    }
    if !new.confirmed {
        use crate::service::mail::{LinkPurpose, queue_link};
        queue_link(
            state,
            &mut tx,
            LinkPurpose::Confirm,
            user_id,
            username,
            email,
        )
        .await?;
    }
    tx.commit().await?;
    if !new.confirmed {
        state.jobs_wakeup.notify_waiters();
    }
    let account = accounts::find_account(db, account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let user = accounts::find_user(db, user_id)
        .await?
        .ok_or(AppError::NotFound)?;
    tracing::info!(account_id, username, "local account created");
    Ok((account, user))
}

/// `POST /api/v1/accounts` input.
pub struct SignUp<'a> {
    /// The client's address, for the sign-up budget (`rate_limits.sign_up_per_ip`).
    pub ip: std::net::IpAddr,
    pub username: &'a str,
    pub email: &'a str,
    pub password: &'a str,
    pub agreement: bool,
    pub locale: Option<&'a str>,
    pub reason: Option<&'a str>,
}

/// Self-service sign-up under `registrations.mode`: `open` creates an approved account,
/// `approval` one that waits for a moderator (a `reason` is then required). Moderators and admins
/// get an `admin.sign_up` notification.
///
/// Errors: 403 when registrations are closed; 429 over `rate_limits.sign_up_per_ip`; 422 with
/// `details` for bad fields or a missing agreement.
pub async fn sign_up(state: &AppState, s: &SignUp<'_>) -> AppResult<(AccountRow, UserRow)> {
    let mode = state.config.registrations.mode;
    if mode == RegistrationsMode::Closed {
        return Err(AppError::forbidden(
            "Registrations are closed on this server",
        ));
    }
    state
        .limits
        .sign_up_per_ip
        .hit(state, &s.ip.to_string())
        .await?;
    let mut v = Validation::default();
    if !s.agreement {
        v.add("agreement", "ERR_ACCEPTED", "must be accepted");
    }
    let reason = s.reason.map(str::trim).filter(|r| !r.is_empty());
    if mode == RegistrationsMode::Approval && reason.is_none() {
        v.add("reason", "ERR_BLANK", "can't be blank");
    }
    v.finish()?;
    let created = create_local(
        state,
        &CreateLocalAccount {
            username: s.username,
            email: s.email,
            password: s.password,
            role: Role::User,
            approved: mode == RegistrationsMode::Open,
            locale: s.locale,
            reason,
            allow_reserved: false,
            confirmed: !state.config.require_email_confirmation(),
        },
    )
    .await?;
    // Moderators hear of every sign-up (Mastodon's `admin.sign_up`), held ones above all.
    crate::service::notifications::notify_staff(state, "admin.sign_up", created.0.id).await;
    Ok(created)
}

/// Why a user may not act, as Mastodon words it (403 on every user endpoint), or `Ok`.
pub fn ensure_functional(user: &UserRow) -> AppResult<()> {
    if user.disabled {
        return Err(AppError::forbidden("Your login is currently disabled"));
    }
    if !user.approved {
        return Err(AppError::forbidden(
            "Your login is currently pending approval",
        ));
    }
    if user.confirmed_at.is_none() {
        return Err(AppError::forbidden(
            "Your login is missing a confirmed e-mail address",
        ));
    }
    Ok(())
}

/// Errors: 403 when a moderator suspended the account (its tokens were revoked then; this stops
/// new sign-ins).
pub fn ensure_not_suspended(account: &AccountRow) -> AppResult<()> {
    if account.suspended_at.is_some() {
        return Err(AppError::forbidden("Your account is suspended"));
    }
    Ok(())
}

/// Checks a sign-in (email or username plus password) under the rate limits. Timing does not
/// reveal whether the account exists.
///
/// Errors: 429 when throttled; `Ok(None)` for unknown account or wrong password.
pub async fn check_password(
    state: &AppState,
    ip: std::net::IpAddr,
    login: &str,
    password: &str,
) -> AppResult<Option<UserRow>> {
    state.sign_in_limiter.hit(state, ip, login).await?;
    let user = accounts::find_user_by_login(&state.db, login.trim()).await?;
    let phc = user.as_ref().map_or_else(
        || passwords::dummy_hash().to_string(),
        |u| u.password_hash.clone(),
    );
    let ok = passwords::verify(password.to_string(), phc).await?;
    Ok(user.filter(|_| ok))
}

/// `PATCH /api/v1/accounts/update_credentials` input; `None` leaves a value unchanged.
#[derive(Default)]
pub struct UpdateCredentials {
    pub display_name: Option<String>,
    pub note: Option<String>,
    /// Name/value pairs as typed; replaces all fields.
    pub fields: Option<Vec<(String, String)>>,
    pub locked: Option<bool>,
    pub bot: Option<bool>,
    pub discoverable: Option<bool>,
    /// Public posts findable by anyone's full-text search (`Account.indexable`).
    pub indexable: Option<bool>,
    pub privacy: Option<String>,
    /// `source[quote_policy]`: public | followers | nobody.
    pub quote_policy: Option<String>,
    pub sensitive: Option<bool>,
    /// `Some("")` clears the default language.
    pub language: Option<String>,
    /// New avatar and/or header uploads.
    pub images: Vec<(ProfileImage, media::Upload)>,
}

const VISIBILITIES: &[&str] = &["public", "unlisted", "private", "direct"];

/// Validates and applies a profile update in one transaction, turning note and field values into
/// linkified HTML and display names into clean single lines.
///
/// Text fields are checked first, then images are processed and stored; the profile, settings and
/// images are recorded in one transaction, and one `Update(Person)` goes out.
///
/// Errors: 422 naming the first field that is too long or invalid, or the image that is refused;
/// nothing changes then (the files of images already processed are deleted).
pub async fn update_credentials(
    state: &AppState,
    user: &UserRow,
    u: UpdateCredentials,
) -> AppResult<()> {
    let mut v = Validation::default();
    let display_name = u.display_name.as_deref().map(text::clean_line);
    if display_name
        .as_ref()
        .is_some_and(|d| d.chars().count() > DISPLAY_NAME_MAX)
    {
        v.add(
            "display_name",
            "ERR_TOO_LONG",
            "is too long (maximum is 30 characters)",
        );
    }
    if u.note
        .as_ref()
        .is_some_and(|n| n.chars().count() > NOTE_MAX)
    {
        v.add(
            "note",
            "ERR_TOO_LONG",
            "is too long (maximum is 500 characters)",
        );
    }
    let mut fields_source = None;
    let mut fields_html = None;
    if let Some(fields) = &u.fields {
        let kept: Vec<(String, String)> = fields
            .iter()
            .map(|(n, val)| (text::clean_line(n), val.trim().to_string()))
            .filter(|(n, val)| !n.is_empty() || !val.is_empty())
            .collect();
        if kept.len() > FIELDS_MAX {
            v.add(
                "fields",
                "ERR_TOO_LONG",
                "has too many entries (maximum is 4)",
            );
        }
        if kept.iter().any(|(n, val)| {
            n.chars().count() > FIELD_NAME_MAX || val.chars().count() > FIELD_VALUE_MAX
        }) {
            v.add(
                "fields",
                "ERR_TOO_LONG",
                "has a name or value over 255 characters",
            );
        }
        fields_html = Some(
            kept.iter()
                .map(|(n, val)| ProfileField {
                    name: n.clone(),
                    value: text::linkify(val),
                    verified_at: None,
                })
                .collect::<Vec<_>>(),
        );
        fields_source = Some(kept);
    }
    if let Some(p) = &u.privacy
        && !VISIBILITIES.contains(&p.as_str())
    {
        v.add(
            "source[privacy]",
            "ERR_INVALID",
            "must be public, unlisted, private or direct",
        );
    }
    if let Some(p) = &u.quote_policy
        && crate::service::quotes::Policy::from_param(p).is_none()
    {
        v.add(
            "source[quote_policy]",
            "ERR_INVALID",
            "must be public, followers or nobody",
        );
    }
    if let Some(lang) = &u.language
        && !lang.is_empty()
        && !crate::text::is_language(lang)
    {
        v.add(
            "source[language]",
            "ERR_INVALID",
            "must be an ISO 639-1 code",
        );
    }
    v.finish()?;

    let mut settings = user.settings.0.clone();
    if let Some(note) = &u.note {
        settings.note_source = note.clone();
    }
    if let Some(fs) = fields_source {
        settings.fields_source = fs;
    }
    if let Some(p) = u.privacy {
        settings.privacy = Some(p);
    }
    if let Some(p) = u.quote_policy {
        settings.quote_policy = Some(p);
    }
    if let Some(s) = u.sensitive {
        settings.sensitive = s;
    }
    if let Some(l) = u.language {
        settings.language = (!l.is_empty()).then_some(l);
    }
    let update = ProfileUpdate {
        display_name,
        note: u.note.as_deref().map(text::plain_to_html),
        fields: fields_html,
        locked: u.locked,
        bot: u.bot,
        discoverable: u.discoverable,
        indexable: u.indexable,
    };
    let mut images = Vec::new();
    for (which, upload) in u.images {
        match media::prepare_profile_image(state, user.account_id, which, upload).await {
            Ok(p) => images.push(p),
            Err(e) => {
                media::discard_profile_images(state, &images).await;
                return Err(e);
            }
        }
    }
    let saved = async {
        let mut tx = state.db.begin().await?;
        accounts::update_profile(&mut tx, user.account_id, &update).await?;
        accounts::update_settings(&mut tx, user.id, &settings).await?;
        for p in &images {
            media::attach_profile_image(&mut tx, p).await?;
        }
        tx.commit().await?;
        AppResult::Ok(())
    }
    .await;
    if let Err(e) = saved {
        media::discard_profile_images(state, &images).await;
        return Err(e);
    }
    announce_profile(state, user.account_id).await?;
    Ok(())
}

/// `DELETE /api/v1/profile/avatar` and `/header` (Mastodon 4.2): the account shows the default
/// image again; the old image is left to the media pruner. Followers' servers get an
/// `Update(Person)`. Nothing happens (and nothing is sent) when there was none.
///
/// Errors: database errors.
pub async fn remove_profile_image(
    state: &AppState,
    account: &AccountRow,
    which: ProfileImage,
) -> AppResult<()> {
    let current = match which {
        ProfileImage::Avatar => account.avatar_media_id,
        ProfileImage::Header => account.header_media_id,
    };
    if current.is_none() {
        return Ok(());
    }
    let mut tx = state.db.begin().await?;
    crate::storage::media::set_profile_image(&mut tx, account.id, which, None).await?;
    tx.commit().await?;
    announce_profile(state, account.id).await
}

/// Sends `Update(Person)` with the current profile to the servers of remote followers, each with an
/// ID of its own (aliases and redirects change the actor without an edit of the profile). Queued
/// after the profile change commits: if the process dies in between, those servers see the change
/// when they next refresh the actor (within a day).
pub(crate) async fn announce_profile(state: &AppState, account_id: i64) -> AppResult<()> {
    let inboxes =
        crate::storage::relationships::remote_follower_inboxes(&state.db, account_id).await?;
    if inboxes.is_empty() {
        return Ok(());
    }
    let row = accounts::find_account(&state.db, account_id)
        .await?
        .ok_or(AppError::NotFound)?;
    let pem = crate::service::activitypub::keys::public_key_pem(state, &row).await?;
    let person = crate::service::activitypub::person_of(state, &row, &pem).await?;
    let update = crate::federation::objects::update_actor(&person, crate::storage::ids::new_id());
    let mut tx = state.db.begin().await?;
    crate::service::delivery::enqueue(&mut tx, &update, account_id, &inboxes, None).await?;
    tx.commit().await?;
    state.delivery_wakeup.notify_one();
    Ok(())
}

/// `username@domain`, a local account (`domain` `None`) with `own_domain`: the inverse of
/// [`parse_acct`], as aliases, moves and Mastodon's CSV files name accounts.
pub fn full_acct(username: &str, domain: Option<&str>, own_domain: &str) -> String {
    format!("{username}@{}", domain.unwrap_or(own_domain))
}

/// Parses `user`, `@user`, `user@domain` or `@user@domain` (the domain may carry a port). Our own
/// domain means local. Returns `(username, domain)`; `None` for anything else.
pub fn parse_acct<'a>(acct: &'a str, own_domain: &str) -> Option<(&'a str, Option<&'a str>)> {
    let acct = acct.trim().trim_start_matches('@');
    let (user, domain) = match acct.split_once('@') {
        Some((u, d)) => (u, Some(d)),
        None => (acct, None),
    };
    if user.is_empty() || !USERNAME_RE.is_match(user) {
        return None;
    }
    match domain {
        Some(d) if d.is_empty() || d.contains('@') || d.contains('/') => None,
        Some(d) if d.eq_ignore_ascii_case(own_domain) => Some((user, None)),
        other => Some((user, other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acct_forms() {
        assert_eq!(parse_acct("alice", "a.test"), Some(("alice", None)));
        assert_eq!(parse_acct("@alice@A.test", "a.test"), Some(("alice", None)));
        assert_eq!(
            parse_acct("bob@localhost:8081", "localhost:8080"),
            Some(("bob", Some("localhost:8081")))
        );
        assert_eq!(parse_acct("bad name", "a.test"), None);
        assert_eq!(parse_acct("a@", "a.test"), None);
    }

    #[test]
    fn username_rule_matches_mastodon() {
        for ok in ["a", "alice_1", "a.b-c", "A_B"] {
            assert!(USERNAME_RE.is_match(ok), "{ok}");
        }
        for bad in ["", ".a", "a.", "a b", "é", "a-"] {
            assert!(!USERNAME_RE.is_match(bad), "{bad}");
        }
    }
}
