//! The Messages screens: `/messages` (rooms and invitations, then the conversations, newest first,
//! with new-room and new-chat forms; `?q=` searches one's own messages), `/messages/:id` (one
//! chat: bubbles with day separators, receipt ticks on one's own messages, presence) and
//! `/messages/rooms/:id` (one room: bubbles, members, invitations, leaving). Sending, typing, read marks and live updates go
//! through the client API and the streaming WebSocket from the page's script (docs/WEB.md).

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Uri};
use axum::response::Response;

use crate::error::AppError;
use crate::service::oauth::CurrentUser;
use crate::service::{Page, conversations, rooms};
use crate::state::AppState;
use crate::web::app::*;
use crate::web::view::{AccountView, ChatView, MessageView, RoomView, StatusView, chat_title};

use super::app::{ListQuery, error_page, next_page, render_screen, shell};
use super::*;

/// Messages per chat page.
const MESSAGES_PER_PAGE: i64 = 40;

/// Of `ids`: those online as `me` may see (presence is shown only between people who share a
/// conversation), and each one's custom status (`emoji text`, empty when none) by account ID.
async fn presence_of(
    state: &AppState,
    me: i64,
    ids: Vec<String>,
) -> Result<(Vec<String>, Vec<(String, String)>), AppError> {
    let mut all = Vec::with_capacity(ids.len());
    for chunk in ids.chunks(conversations::PRESENCE_MAX_IDS) {
        all.extend(conversations::presence(state, me, chunk).await?);
    }
    let online = all
        .iter()
        .filter(|p| p.online)
        .map(|p| p.id.clone())
        .collect();
    let statuses = all
        .iter()
        .map(|p| {
            let text = p.custom_status.as_ref().map_or(String::new(), |c| {
                format!("{} {}", c.emoji, c.text).trim().to_string()
            });
            (p.id.clone(), text)
        })
        .collect();
    Ok((online, statuses))
}

/// `GET /messages`: the signed-in user's chats (or, with `?q=`, their messages holding every word).
pub async fn messages(
    State(state): State<AppState>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<ListQuery>,
) -> Response {
    let user = match signed_in(&state, &headers, "/messages").await {
        Ok(u) => u,
        Err(r) => return r,
    };
    list(&state, &headers, &uri, &user, &q)
        .await
        .unwrap_or_else(|e| error_page(&state, e))
}

async fn list(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    user: &CurrentUser,
    q: &ListQuery,
) -> Result<Response, AppError> {
    let me = user.account.id;
    let me_str = me.to_string();
    let text: String = q.text().chars().take(200).collect();
    let (shell, cookie) = shell(state, headers, uri, Some(user), "messages").await?;
    let mut page = MessagesPage {
        shell,
        q: text.clone(),
        rooms: vec![],
        chats: vec![],
        online: vec![],
        more: None,
        found: vec![],
    };
    if !text.is_empty() {
        page.found = conversations::search(state, me, &text, 40, 0)
            .await?
            .iter()
            .map(|s| StatusView::new(s, Some(&me_str)))
            .collect();
        return Ok(render_screen(page, cookie));
    }
    if q.page().max_id.is_none() {
        page.rooms = rooms::index(state, me)
            .await?
            .iter()
            .map(|r| RoomView::new(r, &me_str))
            .collect();
    }
    let (list, ids) = conversations::list(state, me, &q.page()).await?;
    page.chats = list.iter().map(|c| ChatView::new(c, &me_str)).collect();
    let mut people: Vec<String> = page
        .chats
        .iter()
        .flat_map(|c| c.accounts.iter().map(|a| a.id.clone()))
        .filter(|id| *id != me_str)
        .collect();
    people.sort();
    people.dedup();
    page.online = presence_of(state, me, people).await?.0;
    page.more = next_page(&ids, q.page().limit, "/messages?");
    Ok(render_screen(page, cookie))
}

/// `GET /messages/:id`: one chat, its latest messages oldest first (`?max_id=` for earlier ones;
/// `?since_id=…&fragment=1` for only the messages after one, as the live updates ask).
pub async fn chat(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<ListQuery>,
) -> Response {
    let here = format!("/messages/{}", urlencoding::encode(&id));
    let user = match signed_in(&state, &headers, &here).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    chat_screen(&state, &headers, &uri, &user, &id, &here, &q)
        .await
        .unwrap_or_else(|e| error_page(&state, e))
}

async fn chat_screen(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    user: &CurrentUser,
    id: &str,
    here: &str,
    q: &ListQuery,
) -> Result<Response, AppError> {
    let me = user.account.id;
    let me_str = me.to_string();
    let conversation = conversations::show(state, me, id).await?;
    let page = Page {
        limit: MESSAGES_PER_PAGE,
        ..q.page()
    };
    let (mut found, ids) = conversations::messages(state, me, id, &page).await?;
    found.reverse();
    let states = conversations::receipt_states(state, me, &found).await?;
    let state_of = |id: &str| states.iter().find(|(i, _)| i == id).map(|(_, st)| *st);
    let group = conversation.accounts.len() > 1;
    let messages = MessageView::list(&found, &me_str, &state_of);
    if q.fragment() {
        return Ok(render_screen(BubblesFragment { messages, group }, None));
    }
    let accounts: Vec<AccountView> = conversation.accounts.iter().map(AccountView::new).collect();
    let others: Vec<String> = accounts
        .iter()
        .map(|a| a.id.clone())
        .filter(|a| *a != me_str)
        .collect();
    let (online, statuses) = presence_of(state, me, others).await?;
    let older = next_page(&ids, page.limit, &format!("{here}?"));
    let newest = found.last().map(|s| s.id.clone()).unwrap_or_default();
    let last = conversation
        .last_status
        .as_ref()
        .map(|s| s.id.clone())
        .unwrap_or_else(|| newest.clone());
    let muted = conversation
        .last_status
        .as_ref()
        .and_then(|s| s.muted)
        .unwrap_or(false);
    let (shell, cookie) = shell(state, headers, uri, Some(user), "messages").await?;
    Ok(render_screen(
        ChatPage {
            shell,
            id: conversation.id.clone(),
            title: chat_title(&accounts),
            accounts,
            online,
            messages,
            group,
            newest,
            last,
            older,
            muted,
            statuses,
        },
        cookie,
    ))
}

/// `GET /messages/rooms/:id`: one room, its latest messages oldest first (`?max_id=` for earlier
/// ones; `?since_id=…&fragment=1` for only those after one, as the live updates ask). 404 unless
/// the viewer is a member.
pub async fn room(
    State(state): State<AppState>,
    Path(id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    Query(q): Query<ListQuery>,
) -> Response {
    let here = format!("/messages/rooms/{}", urlencoding::encode(&id));
    let user = match signed_in(&state, &headers, &here).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    room_screen(&state, &headers, &uri, &user, &id, &here, &q)
        .await
        .unwrap_or_else(|e| error_page(&state, e))
}

async fn room_screen(
    state: &AppState,
    headers: &HeaderMap,
    uri: &Uri,
    user: &CurrentUser,
    id: &str,
    here: &str,
    q: &ListQuery,
) -> Result<Response, AppError> {
    let me = user.account.id;
    let me_str = me.to_string();
    let page = Page {
        limit: MESSAGES_PER_PAGE,
        ..q.page()
    };
    let mut found = rooms::messages(state, me, id, None, &page).await?;
    let ids: Vec<i64> = found.iter().filter_map(|m| m.id.parse().ok()).collect();
    found.reverse();
    let messages = MessageView::of_room(&found, &me_str);
    if q.fragment() {
        return Ok(render_screen(
            BubblesFragment {
                messages,
                group: true,
            },
            None,
        ));
    }
    let room = rooms::show(state, me, id).await?;
    let members = rooms::members(state, me, id)
        .await?
        .iter()
        .filter(|m| m.state == "joined")
        .map(|m| (AccountView::new(&m.account), m.role.clone()))
        .collect();
    let older = next_page(&ids, page.limit, &format!("{here}?"));
    let newest = found.last().map(|m| m.id.clone()).unwrap_or_default();
    let (shell, cookie) = shell(state, headers, uri, Some(user), "messages").await?;
    Ok(render_screen(
        RoomPage {
            shell,
            id: room.id,
            name: room.name,
            topic: room.topic,
            role: room.role,
            members,
            messages,
            group: true,
            newest,
            older,
        },
        cookie,
    ))
}
