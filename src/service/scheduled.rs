//! Scheduled statuses (docs.joinmastodon.org/methods/scheduled_statuses/,
//! entities/ScheduledStatus/): `POST /api/v1/statuses` with `scheduled_at` stores the request's
//! parameters; a durable job (`scheduled_status`) posts them at that time through the same path as
//! an immediate post, with an idempotency key of its own so that a job run twice (a crash after
//! posting) posts once.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::api_types::media::MediaAttachment;
use crate::error::{AppError, AppResult};
use crate::jobs::{self, Job, Outcome};
use crate::service::activitypub::context::FedData;
use crate::service::oauth::CurrentUser;
use crate::service::statuses::CreateStatus;
use crate::state::AppState;
use crate::storage::ids;
use crate::storage::scheduled_statuses::{self as store, ScheduledRow};
use crate::storage::sql::Page;

/// How far ahead a status must be scheduled (Mastodon: 5 minutes).
pub const MIN_LEAD: chrono::Duration = chrono::Duration::minutes(5);
/// Most scheduled statuses an account has waiting, and most on one day (UTC), as Mastodon.
pub const MAX_PENDING: i64 = 300;
pub const MAX_PER_DAY: i64 = 25;
/// Job kind.
pub const JOB: &str = "scheduled_status";

/// `ScheduledStatus.params`: what will be posted (Mastodon's names).
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Params {
    pub text: String,
    pub poll: Option<PollJson>,
    pub media_ids: Option<Vec<String>>,
    pub sensitive: Option<bool>,
    pub spoiler_text: Option<String>,
    pub visibility: Option<String>,
    pub in_reply_to_id: Option<String>,
    pub language: Option<String>,
    pub application_id: Option<String>,
    /// Mastodon 4.5's quote parameters, checked when it is posted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quoted_status_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote_approval_policy: Option<String>,
    pub scheduled_at: Option<String>,
    pub idempotency: Option<String>,
    pub with_rate_limit: bool,
}

/// `params.poll` as Mastodon shows it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct PollJson {
    pub options: Vec<String>,
    pub expires_in: String,
    pub multiple: bool,
    pub hide_totals: bool,
}

/// `ScheduledStatus` (docs.joinmastodon.org/entities/ScheduledStatus/).
#[derive(Clone, Debug, Serialize)]
pub struct ScheduledStatus {
    pub id: String,
    #[serde(with = "crate::api_types::mastodon_time")]
    pub scheduled_at: DateTime<Utc>,
    pub params: Params,
    pub media_attachments: Vec<MediaAttachment>,
}

/// Reads `scheduled_at` (RFC 3339 / ISO 8601 with a zone) and checks that it is at least
/// [`MIN_LEAD`] ahead.
///
/// Errors: 422 otherwise.
fn parse_time(s: &str) -> AppResult<DateTime<Utc>> {
    let at = DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            AppError::unprocessable(format!(
                "Validation failed: Scheduled at {s:?} is not an ISO 8601 time"
            ))
        })?;
    if at < Utc::now() + MIN_LEAD {
        return Err(AppError::unprocessable(
            "Validation failed: Scheduled at The scheduled date must be at least 5 minutes in the future",
        ));
    }
    Ok(at)
}

/// Checks the account's limits for a status at `at` ([`MAX_PENDING`], [`MAX_PER_DAY`]), not
/// counting `except` (the one being moved).
async fn check_limits(
    tx: &mut crate::storage::Tx,
    account_id: i64,
    at: DateTime<Utc>,
    except: Option<i64>,
) -> AppResult<()> {
    let day = at
        .date_naive()
        .and_hms_opt(0, 0, 0)
        .unwrap_or_default()
        .and_utc();
    let (pending, that_day) =
        store::counts(tx, account_id, day, day + chrono::Duration::days(1), except).await?;
    if pending >= MAX_PENDING {
        return Err(AppError::unprocessable(format!(
            "Validation failed: You cannot schedule more than {MAX_PENDING} statuses"
        )));
    }
    if that_day >= MAX_PER_DAY {
        return Err(AppError::unprocessable(format!(
            "Validation failed: You cannot schedule more than {MAX_PER_DAY} statuses on that day"
        )));
    }
    Ok(())
}

/// Schedules `c` for `c.scheduled_at`. What posting would refuse is refused now (text, visibility,
/// language, media, poll), so a scheduled status fails later only when something changes
/// meanwhile (a deleted parent: then it is posted without it, as Mastodon does not).
///
/// Errors: 422 as for posting, for a bad or too early `scheduled_at`, or past the limits.
pub async fn create(
    state: &AppState,
    user: &CurrentUser,
    c: CreateStatus,
) -> AppResult<ScheduledStatus> {
    let at = parse_time(c.scheduled_at.as_deref().unwrap_or_default())?;
    let account_id = user.account.id;
    crate::service::polls::ensure_not_with_media(c.poll.is_some(), !c.media_ids.is_empty())?;
    let media = crate::service::media::for_status(state, account_id, &c.media_ids, None).await?;
    crate::service::statuses::validate_for_schedule(state, &c, !media.is_empty())?;
    if let Some(parent) = c.in_reply_to_id {
        crate::storage::statuses::find_visible(&state.db, parent, account_id)
            .await?
            .ok_or(AppError::NotFound)?;
    }
    let params = Params {
        text: c.text.clone(),
        poll: c.poll.as_ref().map(|p| PollJson {
            options: p.options.clone(),
            expires_in: p.expires_in.to_string(),
            multiple: p.multiple,
            hide_totals: p.hide_totals,
        }),
        media_ids: (!c.media_ids.is_empty())
            .then(|| media.iter().map(|m| m.id.to_string()).collect()),
        sensitive: Some(c.sensitive),
        spoiler_text: Some(c.spoiler_text.clone()),
        visibility: c.visibility.clone(),
        in_reply_to_id: c.in_reply_to_id.map(|i| i.to_string()),
        quoted_status_id: c.quoted_status_id.map(|i| i.to_string()),
        quote_approval_policy: c.quote_approval_policy.clone(),
        language: c.language.clone(),
        application_id: c.application_id.map(|i| i.to_string()),
        scheduled_at: None,
        idempotency: c.idempotency_key.clone(),
        with_rate_limit: false,
    };
    let row = ScheduledRow {
        id: ids::new_id(),
        account_id,
        scheduled_at: at,
        params: sqlx::types::Json(serde_json::to_value(&params).map_err(anyhow::Error::from)?),
        application_id: c.application_id,
        created_at: Utc::now(),
    };
    let media_ids: Vec<i64> = media.iter().map(|m| m.id).collect();
    let mut tx = state.db.begin().await?;
    check_limits(&mut tx, account_id, at, None).await?;
    let job = queue(&mut tx, row.id, at).await?;
    store::insert(&mut tx, &row, &media_ids, job).await?;
    tx.commit().await?;
    entity(state, row).await
}

/// Queues the job that publishes scheduled status `id` at `at`; returns the job's ID.
async fn queue(tx: &mut crate::storage::Tx, id: i64, at: DateTime<Utc>) -> AppResult<i64> {
    Ok(jobs::enqueue_at(tx, JOB, &json!({ "id": id }), at).await?)
}

async fn entity(state: &AppState, row: ScheduledRow) -> AppResult<ScheduledStatus> {
    entities(state, vec![row])
        .await?
        .pop()
        .ok_or(AppError::NotFound)
}

/// `ScheduledStatus` entities, in the order given, with one query for all their media.
async fn entities(state: &AppState, rows: Vec<ScheduledRow>) -> AppResult<Vec<ScheduledStatus>> {
    let parsed: Vec<(ScheduledRow, Params, Vec<i64>)> = rows
        .into_iter()
        .map(|row| {
            let params: Params = serde_json::from_value(row.params.0.clone()).unwrap_or_default();
            let ids = params
                .media_ids
                .iter()
                .flatten()
                .filter_map(|i| i.parse().ok())
                .collect();
            (row, params, ids)
        })
        .collect();
    let all: Vec<i64> = parsed.iter().flat_map(|(_, _, ids)| ids.clone()).collect();
    let media = crate::storage::media::find_many(&state.db, &all).await?;
    Ok(parsed
        .into_iter()
        .map(|(row, params, ids)| ScheduledStatus {
            id: row.id.to_string(),
            scheduled_at: row.scheduled_at,
            media_attachments: ids
                .iter()
                .filter_map(|id| media.iter().find(|m| m.id == *id))
                .map(|m| crate::service::media::entity(state, m))
                .collect(),
            params,
        })
        .collect())
}

/// The caller's scheduled status with this ID.
///
/// Errors: 404 when it does not exist or is someone else's.
async fn own(state: &AppState, user: &CurrentUser, id: &str) -> AppResult<ScheduledRow> {
    let id: i64 = id.parse().map_err(|_| AppError::NotFound)?;
    store::find(&state.db, id)
        .await?
        .filter(|r| r.account_id == user.account.id)
        .ok_or(AppError::NotFound)
}

/// `GET /api/v1/scheduled_statuses`: the caller's, newest first.
pub async fn list(
    state: &AppState,
    user: &CurrentUser,
    page: &Page,
) -> AppResult<Vec<ScheduledStatus>> {
    entities(
        state,
        store::page_of(&state.db, user.account.id, page).await?,
    )
    .await
}

/// `GET /api/v1/scheduled_statuses/:id`.
///
/// Errors: 404 unless it is the caller's.
pub async fn show(state: &AppState, user: &CurrentUser, id: &str) -> AppResult<ScheduledStatus> {
    entity(state, own(state, user, id).await?).await
}

/// `PUT /api/v1/scheduled_statuses/:id` with a new `scheduled_at`.
///
/// Errors: 404 unless it is the caller's; 422 for a bad or too early time, or past the limits.
pub async fn reschedule(
    state: &AppState,
    user: &CurrentUser,
    id: &str,
    scheduled_at: Option<&str>,
) -> AppResult<ScheduledStatus> {
    let mut row = own(state, user, id).await?;
    let Some(s) = scheduled_at.filter(|s| !s.trim().is_empty()) else {
        return entity(state, row).await;
    };
    let at = parse_time(s)?;
    let mut tx = state.db.begin().await?;
    check_limits(&mut tx, row.account_id, at, Some(row.id)).await?;
    // Its job moves with it, so that one job publishes it; a job already running is left to
    // find it not due, and a new one is queued.
    let moved = match store::job_of(&mut tx, row.id).await? {
        Some(job) => jobs::move_to(&mut tx, job, at).await?.then_some(job),
        None => None,
    };
    let job = match moved {
        Some(job) => job,
        None => queue(&mut tx, row.id, at).await?,
    };
    store::set_time(&mut tx, row.id, at, job).await?;
    tx.commit().await?;
    row.scheduled_at = at;
    entity(state, row).await
}

/// `DELETE /api/v1/scheduled_statuses/:id`: it will not be posted; its uploads are freed.
///
/// Errors: 404 unless it is the caller's.
pub async fn cancel(state: &AppState, user: &CurrentUser, id: &str) -> AppResult<()> {
    let row = own(state, user, id).await?;
    store::delete(&state.db, row.id).await?;
    Ok(())
}

/// Runs the worker that posts scheduled statuses when they are due.
pub fn spawn_worker(
    federation: activitypub_federation::config::FederationConfig<AppState>,
) -> tokio::task::JoinHandle<()> {
    let state = federation.to_request_data().app_data().clone();
    tokio::spawn(jobs::run_worker(
        state.db.clone(),
        JOB,
        2,
        5,
        state.jobs_wakeup.clone(),
        move |job| {
            let data = federation.to_request_data();
            async move { publish_job(data, job).await }
        },
        |job, error| async move {
            tracing::warn!(job = job.id, %error, "a scheduled status could not be posted");
        },
    ))
}

async fn publish_job(data: FedData, job: Job) -> Outcome {
    let id = job.payload["id"].as_i64().unwrap_or_default();
    match publish(&data, id).await {
        Ok(()) => Outcome::Done,
        Err(e) => Outcome::Retry(e.to_string()),
    }
}

/// Posts scheduled status `id` if it is due, then removes it. A status moved later is not due
/// yet for its old job (its new job posts it); one moved earlier is posted by its new job and
/// gone for the old one.
async fn publish(data: &FedData, id: i64) -> AppResult<()> {
    let state: &AppState = data;
    let Some(row) = store::find(&state.db, id).await? else {
        return Ok(());
    };
    if row.scheduled_at > Utc::now() {
        return Ok(());
    }
    let account = crate::storage::accounts::find_account(&state.db, row.account_id).await?;
    let user = crate::storage::accounts::find_user_by_account(&state.db, row.account_id).await?;
    let (Some(account), Some(user)) = (account, user) else {
        store::delete(&state.db, id).await?;
        return Ok(());
    };
    if account.suspended_at.is_some() || user.disabled {
        tracing::info!(
            scheduled = id,
            "not posting a scheduled status of a suspended account"
        );
        store::delete(&state.db, id).await?;
        return Ok(());
    }
    let p: Params = serde_json::from_value(row.params.0.clone()).unwrap_or_default();
    let poll = match &p.poll {
        Some(pj) => crate::service::polls::params(Some(&json!({
            "options": pj.options,
            "expires_in": pj.expires_in,
            "multiple": pj.multiple,
            "hide_totals": pj.hide_totals,
        })))?,
        None => None,
    };
    let cu = CurrentUser { user, account };
    let c = CreateStatus {
        text: p.text,
        visibility: p.visibility,
        // A parent deleted meanwhile: posted as a status of its own rather than lost.
        in_reply_to_id: match p.in_reply_to_id.and_then(|i| i.parse().ok()) {
            Some(pid) => crate::storage::statuses::find_visible(&state.db, pid, row.account_id)
                .await?
                .map(|s| s.id),
            None => None,
        },
        spoiler_text: p.spoiler_text.unwrap_or_default(),
        sensitive: p.sensitive.unwrap_or(false),
        language: p.language,
        media_ids: p.media_ids.unwrap_or_default(),
        poll,
        scheduled_at: None,
        idempotency_key: Some(format!("scheduled:{id}")),
        application_id: row.application_id,
        in_reply_to_story: None,
        short: false,
        quoted_status_id: p.quoted_status_id.and_then(|i| i.parse().ok()),
        quote_approval_policy: p.quote_approval_policy,
    };
    crate::service::statuses::create_unlimited(data, &cu, c).await?;
    store::delete(&state.db, id).await?;
    Ok(())
}
