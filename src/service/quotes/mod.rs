//! Quote posts as Mastodon 4.5 makes them (docs.joinmastodon.org/entities/Quote/, FEP-044f):
//! who may quote a status (its policy), quoting one when posting, the `Quote` entity and
//! `quote_approval`, the list of a status's quotes, revoking a quote and changing a policy.
//! What goes over the wire is in `outgoing` (QuoteRequest, Accept/Reject, the stamp and its
//! Delete) and `inbound` (quotes in incoming Notes, their stamps' verification, the requests and
//! answers other servers send).

pub mod inbound;
pub mod outgoing;

use crate::api_types::status::QuoteApproval;
use crate::error::{AppError, AppResult};
use crate::service::activitypub::context::FedData;
use crate::state::AppState;
use crate::storage::accounts::AccountRow;
use crate::storage::quotes::{self as store, NewQuote, QuoteRow};
use crate::storage::statuses::{self as statuses, StatusRow};

/// Quote policy flags, as Mastodon stores them (`Status::QUOTE_APPROVAL_POLICY_FLAGS`): a status's
/// policy is the automatic-approval flags shifted left by 16, or-ed with the manual-approval
/// flags. No flag at all: nobody but the author may quote.
pub struct Policy;

impl Policy {
    /// An audience we cannot evaluate (a list of actors, another server's collection).
    pub const UNSUPPORTED: i64 = store::POLICY_UNSUPPORTED;
    pub const PUBLIC: i64 = store::POLICY_PUBLIC;
    pub const FOLLOWERS: i64 = store::POLICY_FOLLOWERS;
    /// Accounts the author follows.
    pub const FOLLOWING: i64 = store::POLICY_FOLLOWING;
    const NAMES: [(i64, &'static str); 4] = [
        (Self::UNSUPPORTED, "unsupported_policy"),
        (Self::PUBLIC, "public"),
        (Self::FOLLOWERS, "followers"),
        (Self::FOLLOWING, "following"),
    ];

    /// The policy a `quote_approval_policy` parameter (or `source[quote_policy]`) names:
    /// `public` and `followers` approve automatically, `nobody` is nobody; `None` for anything else.
    pub fn from_param(p: &str) -> Option<i64> {
        match p {
            "public" => Some(Self::PUBLIC << 16),
            "followers" => Some(Self::FOLLOWERS << 16),
            "nobody" => Some(0),
            _ => None,
        }
    }

    /// A `quote_approval_policy` parameter as asked (`None`: not given).
    ///
    /// Errors: 422 for a policy that is not public, followers or nobody.
    pub fn parse(requested: Option<&str>) -> AppResult<Option<i64>> {
        match requested.filter(|r| !r.is_empty()) {
            Some(r) => Self::from_param(r).map(Some).ok_or_else(|| {
                AppError::unprocessable(
                    "Validation failed: quote_approval_policy must be public, followers or nobody",
                )
            }),
            None => Ok(None),
        }
    }

    /// The policy of a new local status: the one asked for (already [`Policy::parse`]d), else the
    /// account's default (public when unset); private and direct statuses are quotable by nobody
    /// but their author, as Mastodon.
    pub fn for_visibility(visibility: &str, asked: Option<i64>, default: Option<&str>) -> i64 {
        if !matches!(visibility, "public" | "unlisted") {
            return 0;
        }
        asked
            .or_else(|| default.and_then(Self::from_param))
            .unwrap_or(Self::PUBLIC << 16)
    }

    /// The names of the flags in one half of a policy (`automatic`: the upper one).
    pub fn keys(policy: i64, automatic: bool) -> Vec<String> {
        let half = if automatic {
            policy >> 16
        } else {
            policy & 0xFFFF
        };
        Self::NAMES
            .iter()
            .filter(|(f, _)| half & f != 0)
            .map(|(_, n)| n.to_string())
            .collect()
    }

    /// Whether one half of a policy could depend on a follow between the viewer and the author.
    pub fn asks_follows(policy: i64) -> bool {
        policy & ((Self::FOLLOWERS | Self::FOLLOWING) * 0x10001) != 0
    }
}

/// What a status's author lets `viewer` do, as Mastodon's `quote_policy_for_account`:
/// `automatic` (quote, approved at once), `manual` (quote, approved by the author later),
/// `unknown` (an audience we cannot evaluate) or `denied`. The author may always quote their own
/// posts but direct ones; nobody else may quote private or direct ones. `follows_author` and
/// `followed_by_author` tell the viewer's follows with the author.
pub fn current_user(
    policy: i64,
    visibility: &str,
    author: i64,
    viewer: Option<i64>,
    follows_author: bool,
    followed_by_author: bool,
) -> &'static str {
    let Some(viewer) = viewer else {
        return "denied";
    };
    if visibility == "direct" {
        return "denied";
    }
    if viewer == author {
        return "automatic";
    }
    if visibility == "private" {
        return "denied";
    }
    let matches = |half: i64| {
        half & Policy::PUBLIC != 0
            || (half & Policy::FOLLOWERS != 0 && follows_author)
            || (half & Policy::FOLLOWING != 0 && followed_by_author)
    };
    if matches(policy >> 16) {
        "automatic"
    } else if matches(policy & 0xFFFF) {
        "manual"
    } else if policy & (Policy::UNSUPPORTED * 0x10001) != 0 {
        "unknown"
    } else {
        "denied"
    }
}

/// `Status.quote_approval` of a status with this policy, for `viewer`.
pub fn approval(
    policy: i64,
    visibility: &str,
    author: i64,
    viewer: Option<i64>,
    follows_author: bool,
    followed_by_author: bool,
) -> QuoteApproval {
    QuoteApproval {
        automatic: Policy::keys(policy, true),
        manual: Policy::keys(policy, false),
        current_user: current_user(
            policy,
            visibility,
            author,
            viewer,
            follows_author,
            followed_by_author,
        )
        .to_string(),
    }
}

/// A quote to store with a new status, and what to do about it.
#[derive(Clone, Debug)]
pub struct QuoteWrite {
    pub new: NewQuote,
    /// The local author of the quoted status, to notify (`quote`) once the status is stored.
    pub notify: Option<i64>,
    /// The stamp's id for the quoting Note, when approved at once by a local quoted author.
    pub stamp: Option<String>,
}

/// The quote of a new local status by `author`, checked as Mastodon checks it: the quoted status
/// (a boost stands for what it boosts) must be one the author may see and quote. A private
/// quoted status (the author's own) makes a public or unlisted quoting post private; a direct
/// quoting post must mention the quoted author. A quote of a local status is approved at once; of
/// a remote one, it waits for its author's server (a `QuoteRequest` goes out once stored), but
/// for the author's own posts.
///
/// Errors: 404 when the status does not exist or the author may not see it; 403 when its policy
/// does not let the author quote it; 422 for a direct post that does not mention the quoted
/// author.
pub async fn for_new_status(
    state: &AppState,
    author: &AccountRow,
    quoted_id: i64,
    visibility: &mut String,
    mention_ids: &[i64],
) -> AppResult<QuoteWrite> {
    let mut quoted = statuses::find_visible(&state.db, quoted_id, author.id)
        .await?
        .ok_or(AppError::NotFound)?;
    if let Some(orig) = quoted.reblog_of_id {
        quoted = statuses::find_visible(&state.db, orig, author.id)
            .await?
            .ok_or(AppError::NotFound)?;
    }
    let (following, followed_by) =
        store::follow_links(&state.db, author.id, &[quoted.account_id]).await?;
    let may = current_user(
        quoted.quote_approval_policy,
        &quoted.visibility,
        quoted.account_id,
        Some(author.id),
        !following.is_empty(),
        !followed_by.is_empty(),
    );
    if !matches!(may, "automatic" | "manual") {
        return Err(AppError::forbidden("This action is not allowed"));
    }
    if quoted.visibility == "private" && matches!(visibility.as_str(), "public" | "unlisted") {
        *visibility = "private".into();
    }
    if visibility == "direct" && !mention_ids.contains(&quoted.account_id) {
        return Err(AppError::unprocessable(
            "Validation failed: Cannot quote a non-mentioned user in a private mention",
        ));
    }
    let accepted = quoted.account_id == author.id || (quoted.local && may == "automatic");
    let id = crate::storage::ids::new_id();
    let stamp = match accepted && quoted.local {
        true => crate::storage::accounts::find_account(&state.db, quoted.account_id)
            .await?
            .map(|a| outgoing::stamp_uri(&a.uri, id)),
        false => None,
    };
    Ok(QuoteWrite {
        stamp,
        new: NewQuote {
            id,
            quoted_status_id: Some(quoted.id),
            quoted_account_id: Some(quoted.account_id),
            quoted_uri: quoted.uri.clone(),
            state: if accepted {
                store::ACCEPTED
            } else {
                store::PENDING
            },
            approval_uri: None,
        },
        notify: (accepted && quoted.local && quoted.account_id != author.id)
            .then_some(quoted.account_id),
    })
}

/// After a local status with a quote is stored: a quote of a remote status waiting for approval
/// asks its author's server (`QuoteRequest`, through the delivery queue).
pub async fn after_local_post(state: &AppState, row: &StatusRow) -> AppResult<()> {
    let Some(q) = store::of_status(&state.db, row.id).await? else {
        return Ok(());
    };
    if q.state == store::PENDING {
        outgoing::request(state, row, &q).await?;
    }
    Ok(())
}

/// `GET /api/v1/statuses/:id/quotes`: IDs of the statuses quoting `status_id` (accepted quotes)
/// that `viewer` may see, newest first.
///
/// Errors: 404 when the viewer may not see the status.
pub async fn quoting(
    state: &AppState,
    viewer: Option<i64>,
    status_id: i64,
    page: &crate::storage::sql::Page,
) -> AppResult<Vec<StatusRow>> {
    let v = viewer.unwrap_or(statuses::ANONYMOUS);
    statuses::find_visible(&state.db, status_id, v)
        .await?
        .ok_or(AppError::NotFound)?;
    let ids = store::accepted_quoting(&state.db, status_id, v, page).await?;
    let rows = statuses::find_many(&state.db, &ids).await?;
    Ok(ids
        .iter()
        .filter_map(|id| rows.iter().find(|r| r.id == *id).cloned())
        .collect())
}

/// `POST /api/v1/statuses/:id/quotes/:quoting_status_id/revoke`: the author of `status_id`
/// withdraws the approval of the quote by `quoting_id`. The quote shows as `revoked` everywhere;
/// the stamp's `Delete` goes to both authors' audiences. Returns the quoting status.
///
/// Errors: 404 when `status_id` is not the caller's or `quoting_id` does not quote it.
pub async fn revoke(
    data: &FedData,
    caller: &AccountRow,
    status_id: i64,
    quoting_id: i64,
) -> AppResult<StatusRow> {
    let state: &AppState = data;
    let quoted = statuses::find(&state.db, status_id)
        .await?
        .filter(|s| s.account_id == caller.id)
        .ok_or(AppError::NotFound)?;
    let q = store::of_status(&state.db, quoting_id)
        .await?
        .filter(|q| q.quoted_status_id == Some(quoted.id))
        .ok_or(AppError::NotFound)?;
    let quoting = statuses::find(&state.db, quoting_id)
        .await?
        .ok_or(AppError::NotFound)?;
    if q.state != store::REVOKED {
        store::set_state(&state.db, &q, store::REVOKED, None, None).await?;
        outgoing::revoked(state, caller, &quoted, &quoting, &q).await?;
        republish(state, &quoting).await;
    }
    Ok(quoting)
}

/// `PUT /api/v1/statuses/:id/interaction_policy`: the author changes who may quote a status
/// (ignored for private and direct ones, which stay nobody's); the new policy goes out in an
/// `Update` of the Note.
///
/// Errors: 404 when the status is not the caller's; 422 for an unknown policy.
pub async fn set_policy(
    state: &AppState,
    caller: &AccountRow,
    status_id: i64,
    policy: Option<&str>,
) -> AppResult<StatusRow> {
    let mut row = statuses::find(&state.db, status_id)
        .await?
        .filter(|s| s.account_id == caller.id && s.reblog_of_id.is_none())
        .ok_or(AppError::NotFound)?;
    let Some(p) = policy else {
        return Ok(row);
    };
    let bits = Policy::for_visibility(&row.visibility, Policy::parse(Some(p))?, None);
    if bits != row.quote_approval_policy {
        store::set_policy(&state.db, row.id, bits).await?;
        row.quote_approval_policy = bits;
        crate::service::statuses::send_note_update(state, caller, &row).await?;
        republish(state, &row).await;
    }
    Ok(row)
}

/// Streams a status again (`status.update`) after its quote or policy changed.
async fn republish(state: &AppState, row: &StatusRow) {
    crate::service::statuses::republish(state, row).await;
}

/// The quote of `q` is accepted now: stored, the quoting status shown anew, and a local quoted
/// author notified.
async fn accepted(
    state: &AppState,
    q: &QuoteRow,
    approval_uri: Option<&str>,
    activity: Option<&str>,
) -> AppResult<()> {
    // The state and the quoted author's notification in one transaction: never one without the
    // other. (A remote quoted author gets nothing: `create` skips remote recipients.)
    let mut tx = state.db.begin().await?;
    store::set_state_in(&mut tx, q, store::ACCEPTED, approval_uri, activity).await?;
    let made = match (q.quoted_account_id, q.quoted_status_id) {
        (Some(quoted_account), Some(_)) if quoted_account != q.account_id => {
            crate::service::notifications::create(
                &mut tx,
                quoted_account,
                q.account_id,
                "quote",
                Some(q.status_id),
            )
            .await?
        }
        _ => None,
    };
    tx.commit().await?;
    crate::service::notifications::publish(state, &made.into_iter().collect::<Vec<_>>()).await;
    if let Some(row) = statuses::find(&state.db, q.status_id).await? {
        republish(state, &row).await;
    }
    Ok(())
}

/// A status was edited: the local authors of accepted quotes of it are told (`quoted_update`).
pub async fn quoted_edited(state: &AppState, edited: &StatusRow) -> AppResult<()> {
    let quoters = store::local_quoters(&state.db, edited.id).await?;
    if quoters.is_empty() {
        return Ok(());
    }
    let mut tx = state.db.begin().await?;
    let mut made = Vec::new();
    for (account, quoting) in quoters.iter().filter(|(a, _)| *a != edited.account_id) {
        made.extend(
            crate::service::notifications::create(
                &mut tx,
                *account,
                edited.account_id,
                "quoted_update",
                Some(*quoting),
            )
            .await?,
        );
    }
    tx.commit().await?;
    crate::service::notifications::publish(state, &made).await;
    Ok(())
}

/// What the Note of a local status says of its quote: the quoted object's id and, once approved,
/// the stamp's id (ours for a local quoted status, the other server's otherwise).
pub async fn note_quote(
    state: &AppState,
    status_id: i64,
) -> AppResult<Option<(String, Option<String>)>> {
    let Some(q) = store::of_status(&state.db, status_id).await? else {
        return Ok(None);
    };
    let stamp = if q.state == store::ACCEPTED {
        match &q.approval_uri {
            Some(a) => Some(a.clone()),
            None => match q.quoted_account_id {
                Some(a) => crate::storage::accounts::find_account(&state.db, a)
                    .await?
                    .filter(|a| a.is_local())
                    .map(|a| outgoing::stamp_uri(&a.uri, q.id)),
                None => None,
            },
        }
    } else {
        None
    };
    Ok(Some((q.quoted_uri, stamp)))
}
