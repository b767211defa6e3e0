//! `Instance` (v2), `V1::Instance`, nodeinfo documents.
//! Sources: docs.joinmastodon.org/entities/Instance/, /entities/V1_Instance/, nodeinfo.diaspora.software.

use serde_json::{Value, json};

use super::{self as instance, Stats};
use crate::api_types::Account;
use crate::config::{Config, RegistrationsMode};

fn thumbnail_url(cfg: &Config) -> String {
    format!("{}/headers/original/missing.png", cfg.base_url())
}

fn statuses_configuration(cfg: &Config) -> Value {
    json!({
        "max_characters": cfg.instance.max_characters,
        "max_media_attachments": cfg.instance.max_media_attachments,
        "characters_reserved_per_url": 23,
    })
}

/// What uploads accept (`POST /api/v2/media`), from `[media]`.
fn media_configuration(cfg: &Config) -> Value {
    json!({
        "supported_mime_types": [
            "image/jpeg", "image/png", "image/gif", "image/webp",
            "video/mp4", "video/quicktime", "video/webm", "video/ogg", "video/x-matroska",
            "audio/mpeg", "audio/mp3", "audio/mp4", "audio/x-m4a", "audio/ogg", "audio/wav",
            "audio/x-wav", "audio/flac", "audio/webm",
        ],
        "image_size_limit": cfg.media.image_max_bytes,
        "image_matrix_limit": cfg.media.image_max_pixels,
        "video_size_limit": cfg.media.video_max_bytes,
        "video_frame_rate_limit": cfg.media.video_max_fps,
        "video_matrix_limit": cfg.media.video_max_pixels,
        "description_limit": crate::service::media::DESCRIPTION_MAX,
    })
}

/// Poll limits (`service::polls`), as Mastodon's defaults.
fn polls_configuration() -> Value {
    json!({
        "max_options": crate::service::polls::MAX_OPTIONS,
        "max_characters_per_option": crate::service::polls::MAX_OPTION_CHARS,
        "min_expiration": crate::service::polls::MIN_EXPIRATION,
        "max_expiration": crate::service::polls::MAX_EXPIRATION,
    })
}

/// `GET /api/v1/instance`.
pub fn v1(cfg: &Config, stats: &Stats, contact: Option<Account>) -> Value {
    let mode = cfg.registrations.mode;
    json!({
        "uri": cfg.server.domain,
        "title": cfg.instance.title,
        "short_description": cfg.instance.description,
        "description": cfg.instance.description,
        "email": cfg.instance.contact_email,
        "version": instance::version_string(),
        "urls": { "streaming_api": cfg.streaming_url() },
        "stats": {
            "user_count": stats.user_count,
            "status_count": stats.status_count,
            "domain_count": stats.domain_count,
        },
        "thumbnail": thumbnail_url(cfg),
        "languages": ["en"],
        "registrations": mode != RegistrationsMode::Closed,
        "approval_required": mode == RegistrationsMode::Approval,
        "invites_enabled": false,
        "configuration": {
            "accounts": { "max_featured_tags": 10 },
            "statuses": statuses_configuration(cfg),
            "media_attachments": media_configuration(cfg),
            "polls": polls_configuration(),
        },
        "contact_account": contact,
        "rules": rules(cfg),
    })
}

/// The `Rule` entities of `instance.rules`: IDs are their positions, from 1.
pub fn rules(cfg: &Config) -> Vec<Value> {
    cfg.instance
        .rules
        .iter()
        .enumerate()
        .map(|(i, text)| json!({ "id": (i + 1).to_string(), "text": text, "hint": "" }))
        .collect()
}

/// `GET /api/v2/instance`.
pub fn v2(cfg: &Config, stats: &Stats, contact: Option<Account>, vapid_key: &str) -> Value {
    let mode = cfg.registrations.mode;
    json!({
        "domain": cfg.server.domain,
        "title": cfg.instance.title,
        "version": instance::version_string(),
        "source_url": cfg.instance.source_url,
        "description": cfg.instance.description,
        "usage": { "users": { "active_month": stats.active_month } },
        "thumbnail": { "url": thumbnail_url(cfg), "blurhash": null, "versions": {} },
        "icon": [],
        "languages": ["en"],
        "configuration": {
            "urls": { "streaming": cfg.streaming_url(), "status": null, "about": format!("{}/about", cfg.base_url()) },
            "vapid": { "public_key": vapid_key },
            "accounts": { "max_featured_tags": 10, "max_pinned_statuses": 5 },
            "statuses": statuses_configuration(cfg),
            "media_attachments": media_configuration(cfg),
            "polls": polls_configuration(),
            "translation": { "enabled": false },
        },
        "registrations": {
            "enabled": mode != RegistrationsMode::Closed,
            "approval_required": mode == RegistrationsMode::Approval,
            "reason_required": mode == RegistrationsMode::Approval,
            "message": null,
            "url": null,
        },
        "api_versions": { "mastodon": instance::MASTODON_API_VERSION },
        "contact": {
            "email": cfg.instance.contact_email,
            "account": contact,
        },
        "rules": rules(cfg),
    })
}

/// Nodeinfo 2.0 or 2.1 (`version` is "2.0" or "2.1"; 2.0 has no `software.repository`).
pub fn nodeinfo(cfg: &Config, stats: &Stats, version: &str) -> Value {
    let mut software = json!({ "name": "rookery", "version": instance::SOFTWARE_VERSION });
    if version == "2.1" && !cfg.instance.source_url.is_empty() {
        software["repository"] = json!(cfg.instance.source_url);
        software["homepage"] = json!(cfg.instance.source_url);
    }
    json!({
        "version": version,
        "software": software,
        "protocols": ["activitypub"],
        "services": { "inbound": [], "outbound": [] },
        "openRegistrations": cfg.registrations.mode == RegistrationsMode::Open,
        "usage": {
            "users": {
                "total": stats.user_count,
                "activeMonth": stats.active_month,
                "activeHalfyear": stats.active_halfyear,
            },
            "localPosts": stats.status_count,
        },
        // `features` (as Pleroma lists its own) tells peers this server takes `Read` receipts for
        // direct messages (docs/FEDERATION.md, Direct messages) and rooms ("Rooms").
        "metadata": {
            "nodeName": cfg.instance.title,
            "nodeDescription": cfg.instance.description,
            "features": [
                crate::service::conversations::READ_RECEIPTS_FEATURE,
                crate::service::rooms::ROOMS_FEATURE,
            ],
        },
    })
}
