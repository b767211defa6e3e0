//! Mail (DESIGN.md §6): messages are queued as durable `mail.send` jobs in the transaction of the
//! change they follow, and sent with `lettre` over SMTP (`mail.smtp_url`) — or, on the embedded
//! default, written as `.eml` files under `mail.dir` (`./data/mail`), with the path in the log.
//!
//! Also the e-mail confirmation of new accounts: a single-use link valid for 48 hours
//! (`GET /auth/confirmation?confirmation_token=…`).

use askama::Template;
use chrono::{Duration, Utc};
use lettre::message::{Mailbox, MultiPart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde_json::json;

use crate::error::{AppError, AppResult};
use crate::jobs::{self, Job, Outcome};
use crate::state::AppState;
use crate::storage::{Tx, user_tokens};

/// The job kind.
pub const SEND_JOB: &str = "mail.send";

/// Attempts before a message is given up (30 s, 2 min, 8 min, 32 min, about 2 h apart).
const MAX_ATTEMPTS: i64 = 6;

/// How long a confirmation link works.
const CONFIRMATION_VALID: Duration = Duration::hours(48);

/// How long a password reset link works.
const RESET_VALID: Duration = Duration::hours(1);

/// One message, in plain text and HTML.
pub struct Mail<'a> {
    pub to: &'a str,
    pub subject: &'a str,
    pub text: &'a str,
    pub html: &'a str,
}

/// Queues a message in the open transaction.
pub async fn queue(tx: &mut Tx, mail: &Mail<'_>) -> AppResult<()> {
    jobs::enqueue(
        tx,
        SEND_JOB,
        &json!({ "to": mail.to, "subject": mail.subject, "text": mail.text, "html": mail.html }),
    )
    .await?;
    Ok(())
}

fn sender(state: &AppState) -> AppResult<Mailbox> {
    let from = if state.config.mail.from.is_empty() {
        let host = state
            .config
            .server
            .domain
            .split(':')
            .next()
            .unwrap_or("localhost");
        format!("Rookery <notifications@{host}>")
    } else {
        state.config.mail.from.clone()
    };
    from.parse()
        .map_err(|e| anyhow::anyhow!("mail.from {from:?}: {e}").into())
}

/// Where `.eml` files go without an SMTP server.
pub fn mail_dir(state: &AppState) -> std::path::PathBuf {
    if state.config.mail.dir.is_empty() {
        std::path::PathBuf::from("./data/mail")
    } else {
        std::path::PathBuf::from(&state.config.mail.dir)
    }
}

/// Runs the mail worker.
pub fn spawn_worker(state: &AppState) -> tokio::task::JoinHandle<()> {
    let s = state.clone();
    tokio::spawn(jobs::run_worker(
        state.db.clone(),
        SEND_JOB,
        2,
        MAX_ATTEMPTS,
        state.jobs_wakeup.clone(),
        move |job| send_job(s.clone(), job),
        |job, error| async move {
            tracing::warn!(to = %job.payload["to"], %error, "mail given up");
        },
    ))
}

async fn send_job(state: AppState, job: Job) -> Outcome {
    match send(&state, &job).await {
        Ok(()) => Outcome::Done,
        Err(e) => Outcome::Retry(e.to_string()),
    }
}

async fn send(state: &AppState, job: &Job) -> AppResult<()> {
    let field = |k: &str| job.payload[k].as_str().unwrap_or_default().to_string();
    let to: Mailbox = field("to")
        .parse()
        .map_err(|e| anyhow::anyhow!("recipient: {e}"))?;
    let message = Message::builder()
        .from(sender(state)?)
        .to(to.clone())
        .subject(field("subject"))
        .multipart(MultiPart::alternative_plain_html(
            field("text"),
            field("html"),
        ))
        .map_err(|e| anyhow::anyhow!("building mail: {e}"))?;
    let url = &state.config.mail.smtp_url;
    if url.is_empty() {
        // Written under `.partial/` and renamed in, so a reader of `dir` never sees half a message.
        let dir = mail_dir(state);
        let partial = dir.join(".partial");
        tokio::fs::create_dir_all(&partial)
            .await
            .map_err(|e| anyhow::anyhow!("{}: {e}", partial.display()))?;
        let id = AsyncFileTransport::<Tokio1Executor>::new(&partial)
            .send(message)
            .await
            .map_err(|e| anyhow::anyhow!("writing mail: {e}"))?;
        let name = format!("{id}.eml");
        let path = dir.join(&name);
        tokio::fs::rename(partial.join(&name), &path)
            .await
            .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
        tracing::info!(to = %to, path = %path.display(), "mail written");
    } else {
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
            .map_err(|e| anyhow::anyhow!("mail.smtp_url: {e}"))?
            .build();
        transport
            .send(message)
            .await
            .map_err(|e| anyhow::anyhow!("SMTP: {e}"))?;
        tracing::info!(to = %to, "mail sent");
    }
    Ok(())
}

/// What a mailed single-use link is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkPurpose {
    /// Confirming the address (`/auth/confirmation`, 48 hours).
    Confirm,
    /// Choosing a new password (`/auth/password/edit`, one hour).
    Reset,
}

impl LinkPurpose {
    /// The `user_tokens.purpose` value.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::Confirm => "confirm",
            LinkPurpose::Reset => "reset",
        }
    }

    fn valid_for(self) -> Duration {
        match self {
            LinkPurpose::Confirm => CONFIRMATION_VALID,
            LinkPurpose::Reset => RESET_VALID,
        }
    }

    /// The page and query parameter the link opens.
    fn path(self) -> &'static str {
        match self {
            LinkPurpose::Confirm => "/auth/confirmation?confirmation_token=",
            LinkPurpose::Reset => "/auth/password/edit?reset_password_token=",
        }
    }
}

/// Inside an open transaction: a fresh single-use link for user `user_id`, mailed to `email`
/// (only the token's hash is stored).
pub async fn queue_link(
    state: &AppState,
    tx: &mut Tx,
    purpose: LinkPurpose,
    user_id: i64,
    username: &str,
    email: &str,
) -> AppResult<()> {
    let token = crate::service::secrets::random_token();
    let digest = crate::service::secrets::digest(&token);
    let expires = Utc::now() + purpose.valid_for();
    user_tokens::insert(tx, &digest, user_id, purpose.as_str(), expires).await?;
    let link = format!("{}{}{token}", state.config.base_url(), purpose.path());
    let title = &state.config.instance.title;
    let reset = purpose == LinkPurpose::Reset;
    let render = |e: askama::Error| AppError::Internal(anyhow::anyhow!("mail template: {e}"));
    let text = LinkMailText {
        instance_title: title,
        username,
        link: &link,
        reset,
    }
    .render()
    .map_err(render)?;
    let html = LinkMailHtml {
        instance_title: title,
        username,
        link: &link,
        reset,
    }
    .render()
    .map_err(render)?;
    let subject = if reset {
        format!("Reset your password on {title}")
    } else {
        format!("Confirm your e-mail address on {title}")
    };
    queue(
        tx,
        &Mail {
            to: email,
            subject: &subject,
            text: &text,
            html: &html,
        },
    )
    .await
}

/// Inside an open transaction: tells `email` that the held sign-up of `username` was approved,
/// with a link to the sign-in page.
pub async fn queue_approved(
    state: &AppState,
    tx: &mut Tx,
    username: &str,
    email: &str,
) -> AppResult<()> {
    let title = &state.config.instance.title;
    let link = format!("{}/auth/sign_in", state.config.base_url());
    let render = |e: askama::Error| AppError::Internal(anyhow::anyhow!("mail template: {e}"));
    let text = ApprovedMailText {
        instance_title: title,
        username,
        link: &link,
    }
    .render()
    .map_err(render)?;
    let html = ApprovedMailHtml {
        instance_title: title,
        username,
        link: &link,
    }
    .render()
    .map_err(render)?;
    queue(
        tx,
        &Mail {
            to: email,
            subject: &format!("Your account on {title} is approved"),
            text: &text,
            html: &html,
        },
    )
    .await
}

/// `GET /auth/confirmation`: confirms the address the link was sent to. Errors: 404 for an unknown,
/// used or expired link.
pub async fn confirm(state: &AppState, token: &str) -> AppResult<()> {
    let mut tx = state.db.begin().await?;
    let digest = crate::service::secrets::digest(token);
    let user = user_tokens::consume(&mut tx, &digest, LinkPurpose::Confirm.as_str())
        .await?
        .ok_or(AppError::NotFound)?;
    user_tokens::confirm_email(&mut tx, user).await?;
    tx.commit().await?;
    tracing::info!(user, "e-mail address confirmed");
    Ok(())
}

/// `POST /api/v1/emails/confirmations`: mails a new link to a user whose address is not confirmed
/// yet. Errors: 403 when it already is; 429 after 5 links in an hour.
pub async fn resend(state: &AppState, user: &crate::service::oauth::CurrentUser) -> AppResult<()> {
    if user.user.confirmed_at.is_some() {
        return Err(AppError::forbidden(
            "This e-mail address is already confirmed",
        ));
    }
    let recent = user_tokens::count_since(
        &state.db,
        user.user.id,
        "confirm",
        Utc::now() - Duration::hours(1),
    )
    .await?;
    if recent >= 5 {
        return Err(AppError::TooManyRequests {
            retry_after_secs: 3600,
            limit: 5,
        });
    }
    let mut tx = state.db.begin().await?;
    let (id, name, email) = (user.user.id, &user.account.username, &user.user.email);
    queue_link(state, &mut tx, LinkPurpose::Confirm, id, name, email).await?;
    tx.commit().await?;
    state.jobs_wakeup.notify_waiters();
    Ok(())
}

/// A mail carrying a single-use link (e-mail confirmation, or password reset when `reset`), plain
/// text.
#[derive(Template)]
#[template(path = "mail/link.txt")]
pub struct LinkMailText<'a> {
    pub instance_title: &'a str,
    pub username: &'a str,
    pub link: &'a str,
    pub reset: bool,
}

/// The same mail, HTML.
#[derive(Template)]
#[template(path = "mail/link.html")]
pub struct LinkMailHtml<'a> {
    pub instance_title: &'a str,
    pub username: &'a str,
    pub link: &'a str,
    pub reset: bool,
}

/// The mail telling someone their held sign-up was approved, plain text; `link` is the sign-in page.
#[derive(Template)]
#[template(path = "mail/approved.txt")]
pub struct ApprovedMailText<'a> {
    pub instance_title: &'a str,
    pub username: &'a str,
    pub link: &'a str,
}

/// The same mail, HTML.
#[derive(Template)]
#[template(path = "mail/approved.html")]
pub struct ApprovedMailHtml<'a> {
    pub instance_title: &'a str,
    pub username: &'a str,
    pub link: &'a str,
}
