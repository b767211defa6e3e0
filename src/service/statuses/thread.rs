//! A status's thread: ancestors and descendants as the viewer may see them.

use crate::api_types::status::Context;
use crate::error::AppResult;
use crate::service::render;
use crate::state::AppState;
use crate::storage::statuses::{self as store};

use super::*;

/// Ancestors (up to 40, oldest first) and descendants (up to 60) the viewer may see.
pub async fn context(state: &AppState, viewer: Option<i64>, id: &str) -> AppResult<Context> {
    let row = visible(state, viewer, id).await?;
    let v = viewer.unwrap_or(store::ANONYMOUS);
    let mut ancestors = Vec::new();
    let mut next = row.in_reply_to_id;
    while let Some(pid) = next {
        if ancestors.len() >= ANCESTORS_MAX {
            break;
        }
        match store::find_visible(&state.db, pid, v).await? {
            Some(p) => {
                next = p.in_reply_to_id;
                ancestors.push(p);
            }
            None => break,
        }
    }
    ancestors.reverse();
    let descendants = store::descendants(&state.db, row.id, v, DESCENDANTS_MAX).await?;
    Ok(Context {
        ancestors: render::statuses(state, viewer, ancestors).await?,
        descendants: render::statuses(state, viewer, descendants).await?,
    })
}
