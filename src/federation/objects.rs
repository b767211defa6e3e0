//! Mapping storage rows to the ActivityPub documents and activities we send: actors, Notes,
//! stories, and the activities around them (Create, Update, Announce, Undo, Like, Block, Add).

use serde_json::{Value, json};
use url::Url;

use crate::config::Config;
use crate::federation::protocol::PUBLIC;
use crate::federation::protocol::actor::{Endpoints, Image, Person, PropertyValue, PublicKey};
use crate::federation::protocol::note::{Note, Tag};
use crate::storage::accounts::AccountRow;
use crate::storage::statuses::StatusRow;
use crate::storage::stories::StoryRow;

fn url(s: &str) -> Url {
    // Our own URLs are built from the configured base URL and always parse; a bad stored URL of a
    // remote object is replaced by a harmless placeholder rather than failing the whole document.
    Url::parse(s).unwrap_or_else(|_| Url::parse("https://invalid.invalid/").expect("static URL"))
}

/// The actor document of a local account.
pub fn person(cfg: &Config, a: &AccountRow, public_key_pem: &str) -> Person {
    let id = url(&a.uri);
    let base = cfg.base_url();
    Person {
        id: id.clone(),
        kind: if a.bot { "Service" } else { "Person" }.into(),
        preferred_username: a.username.clone(),
        name: Some(a.display_name.clone()),
        summary: Some(a.note.clone()),
        url: a.url.as_deref().map(url),
        inbox: url(&format!("{}/inbox", a.uri)),
        outbox: Some(url(&format!("{}/outbox", a.uri))),
        followers: Some(url(&format!("{}/followers", a.uri))),
        following: Some(url(&format!("{}/following", a.uri))),
        featured: Some(url(&format!("{}/collections/featured", a.uri))),
        endpoints: Some(Endpoints {
            shared_inbox: Some(url(&format!("{base}/inbox"))),
        }),
        public_key: PublicKey {
            id: format!("{}#main-key", a.uri),
            owner: id,
            public_key_pem: public_key_pem.to_string(),
        },
        manually_approves_followers: a.locked,
        discoverable: Some(a.discoverable),
        indexable: Some(a.indexable),
        published: Some(a.created_at),
        icon: Some(Image {
            kind: "Image".into(),
            media_type: Some("image/png".into()),
            url: url(&crate::api_types::account::missing_avatar(cfg)),
        }),
        image: Some(Image {
            kind: "Image".into(),
            media_type: Some("image/png".into()),
            url: url(&crate::api_types::account::missing_header(cfg)),
        }),
        attachment: a
            .fields
            .0
            .iter()
            .map(|f| PropertyValue {
                kind: "PropertyValue".into(),
                name: f.name.clone(),
                value: f.value.clone(),
            })
            .collect(),
        tag: Vec::new(),
        also_known_as: Vec::new(),
        moved_to: None,
    }
}

/// Mastodon's addressing for a status: `(to, cc)`.
pub fn addressing(
    status: &StatusRow,
    author: &AccountRow,
    mentions: &[AccountRow],
) -> (Vec<Url>, Vec<Url>) {
    let public = url(PUBLIC);
    let followers = url(&format!("{}/followers", author.uri));
    let mentioned: Vec<Url> = mentions.iter().map(|m| url(&m.uri)).collect();
    match status.visibility.as_str() {
        "public" => (vec![public], [vec![followers], mentioned].concat()),
        "unlisted" => (vec![followers], [vec![public], mentioned].concat()),
        "private" => (vec![followers], mentioned),
        _ => (mentioned, Vec::new()),
    }
}

/// What a Note needs besides the status row.
pub struct NoteParts<'a> {
    pub author: &'a AccountRow,
    pub mentions: &'a [AccountRow],
    pub tags: &'a [String],
    pub in_reply_to_uri: Option<&'a str>,
    pub conversation_uri: &'a str,
    /// Media attachments, in order, already in their wire shape.
    pub attachments: &'a [crate::federation::protocol::note::Attachment],
    /// Its poll: the Note becomes a `Question`.
    pub poll: Option<&'a crate::storage::polls::PollRow>,
    /// `Emoji` tags of the custom emojis it uses (`service::emojis::tags`).
    pub emojis: &'a [Tag],
    /// What it quotes: the quoted object's id and, once approved, the stamp's.
    pub quote: Option<(&'a str, Option<&'a str>)>,
}

/// The `Note` of a local status.
pub fn note(cfg: &Config, s: &StatusRow, p: &NoteParts<'_>) -> Note {
    let (to, cc) = addressing(s, p.author, p.mentions);
    let own = cfg.server.domain.as_str();
    let mut tag: Vec<Tag> = p
        .mentions
        .iter()
        .map(|m| Tag {
            kind: "Mention".into(),
            href: Some(url(&m.uri)),
            name: Some(format!(
                "@{}@{}",
                m.username,
                m.domain.as_deref().unwrap_or(own)
            )),
            id: None,
            icon: None,
            updated: None,
        })
        .collect();
    tag.extend(p.tags.iter().map(|t| Tag {
        kind: "Hashtag".into(),
        href: Some(url(&format!(
            "{}/tags/{}",
            cfg.base_url(),
            urlencoding::encode(t)
        ))),
        name: Some(format!("#{t}")),
        id: None,
        icon: None,
        updated: None,
    }));
    tag.extend(p.emojis.iter().cloned());
    let content_map = s.language.as_ref().map(|l| {
        let mut m = serde_json::Map::new();
        m.insert(l.clone(), Value::String(s.content.clone()));
        m
    });
    let mut note = Note {
        id: url(&s.uri),
        kind: "Note".into(),
        attributed_to: url(&p.author.uri),
        to,
        cc,
        content: s.content.clone(),
        summary: (!s.spoiler_text.is_empty()).then(|| s.spoiler_text.clone()),
        sensitive: Some(s.sensitive),
        in_reply_to: p.in_reply_to_uri.map(url),
        published: s.created_at,
        updated: s.edited_at,
        url: s.url.as_deref().map(url),
        tag,
        content_map,
        context: Some(p.conversation_uri.to_string()),
        conversation: Some(p.conversation_uri.to_string()),
        attachment: p.attachments.to_vec(),
        duration: None,
        name: None,
        one_of: Vec::new(),
        any_of: Vec::new(),
        end_time: None,
        closed: None,
        voters_count: None,
        quote: p.quote.map(|(q, _)| json!(q)),
        misskey_quote: p.quote.map(|(q, _)| json!(q)),
        quote_url: None,
        quote_uri: p.quote.map(|(q, _)| json!(q)),
        quote_authorization: p.quote.and_then(|(_, a)| a).map(|a| json!(a)),
        interaction_policy: Some(interaction_policy(s, p.author)),
    };
    if let Some(poll) = p.poll {
        question(&mut note, poll);
    }
    note
}

/// `interactionPolicy` of a local status, as Mastodon sends it: who may quote it with automatic
/// approval (the public, the author's followers, or only the author).
fn interaction_policy(s: &StatusRow, author: &AccountRow) -> Value {
    use crate::storage::quotes::{POLICY_FOLLOWERS, POLICY_FOLLOWING, POLICY_PUBLIC};
    let auto = s.quote_approval_policy >> 16;
    let mut approved: Vec<String> = Vec::new();
    if auto & POLICY_PUBLIC != 0 {
        approved.push(PUBLIC.to_string());
    }
    if auto & POLICY_FOLLOWERS != 0 {
        approved.push(format!("{}/followers", author.uri));
    }
    if auto & POLICY_FOLLOWING != 0 {
        approved.push(format!("{}/following", author.uri));
    }
    if approved.is_empty() {
        approved.push(author.uri.clone());
    }
    json!({ "canQuote": { "automaticApproval": approved } })
}

/// Makes `note` the `Question` of `poll`, as Mastodon sends polls: the options with their counts,
/// `endTime`, `closed` once ended, and `votersCount`.
pub fn question(note: &mut Note, poll: &crate::storage::polls::PollRow) {
    use crate::federation::protocol::note::QuestionOption;
    note.kind = "Question".into();
    let options: Vec<QuestionOption> = poll
        .options
        .iter()
        .zip(poll.tallies.iter().copied().chain(std::iter::repeat(0)))
        .map(|(title, votes)| QuestionOption {
            kind: "Note".into(),
            name: title.clone(),
            replies: Some(json!({ "type": "Collection", "totalItems": votes })),
        })
        .collect();
    if poll.multiple {
        note.any_of = options;
    } else {
        note.one_of = options;
    }
    note.end_time = poll.expires_at;
    let now = chrono::Utc::now();
    note.closed = poll
        .expires_at
        .filter(|e| *e <= now)
        .map(|e| json!(e.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)));
    note.voters_count = poll.voters_count.map(|v| json!(v));
}

/// `Create` wrapping a Note, addressed as the Note is.
pub fn create(note: &Note) -> Value {
    json!({
        "id": format!("{}/activity", note.id),
        "type": "Create",
        "actor": note.attributed_to,
        "published": note.published,
        "to": note.to,
        "cc": note.cc,
        "object": note,
    })
}

/// `Update` carrying an edited Note.
pub fn update(note: &Note) -> Value {
    let stamp = note.updated.unwrap_or(note.published).timestamp_millis();
    json!({
        "id": format!("{}#updates/{stamp}", note.id),
        "type": "Update",
        "actor": note.attributed_to,
        "published": note.updated.unwrap_or(note.published),
        "to": note.to,
        "cc": note.cc,
        "object": note,
    })
}

/// `Update` carrying a `Question` with new counts. Each has an ID of its own: counts change
/// without an edit, and receivers drop an activity ID they have seen.
pub fn poll_update(note: &Note) -> Value {
    let now = chrono::Utc::now();
    json!({
        "id": format!("{}#updates/poll-{}", note.id, now.timestamp_millis()),
        "type": "Update",
        "actor": note.attributed_to,
        "published": now,
        "to": note.to,
        "cc": note.cc,
        "object": note,
    })
}

/// A vote in a remote poll, as Mastodon sends one: the `Create` of a `Note` whose `name` is the
/// chosen option and whose `inReplyTo` is the `Question`, addressed to its author only.
pub fn vote(note_id: &str, voter: &str, author: &str, option: &str, question: &str) -> Value {
    json!({
        "id": format!("{note_id}/activity"),
        "type": "Create",
        "actor": voter,
        "to": [author],
        "object": {
            "id": note_id,
            "type": "Note",
            "name": option,
            "attributedTo": voter,
            "to": [author],
            "inReplyTo": question,
        },
    })
}

/// `Announce` of a boosted status: `id` is the boost's URI, addressed by its visibility.
pub fn announce(
    id: &str,
    visibility: &str,
    published: chrono::DateTime<chrono::Utc>,
    booster: &AccountRow,
    original_uri: &str,
    original_author_uri: &str,
) -> Value {
    let followers = format!("{}/followers", booster.uri);
    let (to, cc) = match visibility {
        "public" => (
            vec![PUBLIC.to_string()],
            vec![original_author_uri.to_string(), followers],
        ),
        "unlisted" => (
            vec![followers],
            vec![PUBLIC.to_string(), original_author_uri.to_string()],
        ),
        _ => (vec![followers], vec![original_author_uri.to_string()]),
    };
    json!({
        "id": id,
        "type": "Announce",
        "actor": booster.uri,
        "published": published,
        "to": to,
        "cc": cc,
        "object": original_uri,
    })
}

/// `Undo` of one of `actor`'s earlier activities (given whole, as Mastodon sends it).
pub fn undo(actor_uri: &str, activity: Value) -> Value {
    let id = activity
        .get("id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    json!({
        "id": format!("{id}/undo"),
        "type": "Undo",
        "actor": actor_uri,
        "object": activity,
    })
}

/// `Like` of a status; the ID is stable per (account, status) so an `Undo` can repeat it.
pub fn like(actor_uri: &str, status_id: i64, status_uri: &str) -> Value {
    json!({
        "id": format!("{actor_uri}#likes/{status_id}"),
        "type": "Like",
        "actor": actor_uri,
        "object": status_uri,
    })
}

/// `Block` of an account; stable ID per (blocker, blocked).
pub fn block(actor_uri: &str, target_id: i64, target_uri: &str) -> Value {
    json!({
        "id": format!("{actor_uri}#blocks/{target_id}"),
        "type": "Block",
        "actor": actor_uri,
        "object": target_uri,
    })
}

/// Pixelfed's `Add` of a story to its author's followers: the object names the story and carries
/// a bearcap (`bear:?u=URL&t=TOKEN`) their servers fetch it with.
pub fn story_add(author_uri: &str, story_uri: &str, bearer_token: &str) -> Value {
    let bearcap = format!(
        "bear:?u={}&t={}",
        urlencoding::encode(story_uri),
        urlencoding::encode(bearer_token)
    );
    json!({
        "id": format!("{story_uri}/activity"),
        "type": "Add",
        "actor": author_uri,
        "to": [format!("{author_uri}/followers")],
        "object": { "id": story_uri, "type": "Story", "object": bearcap },
    })
}

/// The media of a story as its document shows them: an image or a video at `url`, with its size
/// in pixels when known, a preview image and a blurhash.
pub struct StoryMedia {
    pub image: bool,
    pub url: String,
    pub media_type: Option<String>,
    pub width: Option<Value>,
    pub height: Option<Value>,
    pub preview_url: Option<String>,
    pub blurhash: Option<String>,
}

/// The `Story` document of a local story (Pixelfed's shape; docs/FEDERATION.md, Stories),
/// addressed to its author's followers.
pub fn story(author_uri: &str, s: &StoryRow, media: &StoryMedia) -> Value {
    let mut attachment = json!({
        "type": if media.image { "Image" } else { "Video" },
        "url": media.url,
        "mediaType": media.media_type,
    });
    if let Some(w) = &media.width {
        attachment["width"] = w.clone();
    }
    if let Some(h) = &media.height {
        attachment["height"] = h.clone();
    }
    if let Some(p) = &media.preview_url {
        attachment["preview"] = json!({ "type": "Image", "mediaType": "image/jpeg", "url": p });
    }
    if let Some(b) = &media.blurhash {
        attachment["blurhash"] = json!(b);
    }
    json!({
        "@context": crate::federation::protocol::context(),
        "id": s.uri,
        "type": "Story",
        "to": [format!("{author_uri}/followers")],
        "cc": [],
        "attributedTo": author_uri,
        "published": s.created_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "expiresAt": s.expires_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "duration": s.duration,
        "can_reply": s.can_reply,
        "can_react": s.can_react,
        "attachment": attachment,
    })
}

/// A `Follow` of `object_uri` by `actor_uri`, with ID `id`.
pub fn follow(id: &str, actor_uri: &str, object_uri: &str) -> Value {
    json!({ "id": id, "type": "Follow", "actor": actor_uri, "object": object_uri })
}

/// The answer of `actor_uri` to a `follow` it received: `Accept` (`accepted`) or `Reject`, with
/// `serial` (a new ID) making its own ID unique.
pub fn answer(actor_uri: &str, accepted: bool, serial: i64, follow: &Value) -> Value {
    let (kind, path) = if accepted {
        ("Accept", "accepts")
    } else {
        ("Reject", "rejects")
    };
    json!({
        "id": format!("{actor_uri}#{path}/{serial}"),
        "type": kind,
        "actor": actor_uri,
        "object": follow,
    })
}

/// A report (`Flag`) sent to the reported account's server by our instance actor: `objects` are
/// the account's URI and those of the reported statuses.
pub fn flag(id: &str, instance_actor_uri: &str, comment: &str, objects: Vec<String>) -> Value {
    json!({
        "id": id,
        "type": "Flag",
        "actor": instance_actor_uri,
        "content": comment,
        "object": objects,
    })
}

/// A local actor's `Delete` of itself, to everyone who knows it.
pub fn delete_actor(actor_uri: &str) -> Value {
    json!({
        "id": format!("{actor_uri}#delete"),
        "type": "Delete",
        "actor": actor_uri,
        "to": [PUBLIC],
        "object": actor_uri,
    })
}

/// The `Delete` of a status, leaving a `Tombstone`.
pub fn delete_note(actor_uri: &str, status_uri: &str) -> Value {
    json!({
        "id": format!("{status_uri}#delete"),
        "type": "Delete",
        "actor": actor_uri,
        "to": [PUBLIC],
        "object": { "id": status_uri, "type": "Tombstone" },
    })
}

/// The `Delete` of an expired or removed story, to the author's followers.
pub fn delete_story(author_uri: &str, story_uri: &str) -> Value {
    json!({
        "id": format!("{story_uri}#delete"),
        "type": "Delete",
        "actor": author_uri,
        "to": [format!("{author_uri}/followers")],
        "object": { "id": story_uri, "type": "Story" },
    })
}

/// `viewer_uri` saw story `story_uri` (our story ID `story_id`), told to its author.
pub fn view_story(viewer_uri: &str, author_uri: &str, story_id: i64, story_uri: &str) -> Value {
    json!({
        "id": format!("{viewer_uri}#stories/{story_id}/view"),
        "type": "View",
        "actor": viewer_uri,
        "to": [author_uri],
        "object": { "type": "Story", "object": story_uri },
    })
}

/// `actor_uri` reacted with `emoji` to story `story_uri` (our ID `story_id`; `serial` a new ID).
pub fn react_to_story(
    actor_uri: &str,
    author_uri: &str,
    story_id: i64,
    serial: i64,
    story_uri: &str,
    emoji: &str,
) -> Value {
    json!({
        "id": format!("{actor_uri}#stories/{story_id}/react/{serial}"),
        "type": "EmojiReact",
        "actor": actor_uri,
        "to": [author_uri],
        "object": story_uri,
        "content": emoji,
    })
}

/// A read receipt: `reader_uri` has read direct status `status_uri` (our ID `status_id`) and all
/// before it (docs/FEDERATION.md, Direct messages).
pub fn read(reader_uri: &str, to: &[String], status_id: i64, status_uri: &str) -> Value {
    json!({
        "id": format!("{reader_uri}#reads/{status_id}"),
        "type": "Read",
        "actor": reader_uri,
        "to": to,
        "object": status_uri,
    })
}

/// `Move` of actor `origin` to `target` (Mastodon's shape: `object` is the moving actor itself),
/// with a fresh ID `n` so that a later move is not taken for a repeat.
pub fn move_activity(origin: &str, target: &str, n: i64) -> Value {
    json!({
        "id": format!("{origin}#moves/{n}"),
        "type": "Move",
        "actor": origin,
        "object": origin,
        "target": target,
    })
}

/// The `Update` of a local actor's profile (`person`); `version` makes the activity ID unique.
pub fn update_actor(person: &Person, version: i64) -> Value {
    json!({
        "id": format!("{}#updates/{version}", person.id),
        "type": "Update",
        "actor": person.id,
        "to": [PUBLIC],
        "object": person,
    })
}
