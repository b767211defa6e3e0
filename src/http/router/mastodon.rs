//! Routes of the Mastodon client API, `/api/v1/…` and `/api/v2/…`
//! (docs.joinmastodon.org/methods/), each served by the file of its path under
//! `http/mastodon/api/`.

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};

use super::Routes;
use crate::http::mastodon::api::{v1, v2};

/// The client API; `upload_limit` is the body limit of media uploads.
pub(super) fn routes(upload_limit: DefaultBodyLimit) -> Routes {
    Routes::new()
        .route(
            "/api/v1/media",
            post(v1::media::create_v1).layer(upload_limit),
        )
        .route(
            "/api/v1/media/{id}",
            get(v1::media::show)
                .put(v1::media::update)
                .delete(v1::media::destroy),
        )
        .route(
            "/api/v2/media",
            post(v2::media::create_v2).layer(upload_limit),
        )
        .route(
            "/api/v1/admin/domain_blocks",
            get(v1::admin::domain_blocks::index).post(v1::admin::domain_blocks::create),
        )
        .route(
            "/api/v1/admin/domain_blocks/{id}",
            get(v1::admin::domain_blocks::show)
                .put(v1::admin::domain_blocks::update)
                .delete(v1::admin::domain_blocks::delete),
        )
        .route("/api/v1/admin/accounts", get(v1::admin::accounts::index))
        .route("/api/v2/admin/accounts", get(v2::admin::accounts::index))
        .route(
            "/api/v1/admin/accounts/{id}",
            get(v1::admin::accounts::show),
        )
        .route(
            "/api/v1/admin/accounts/{id}/action",
            post(v1::admin::accounts::action),
        )
        .route(
            "/api/v1/admin/accounts/{id}/{what}",
            post(v1::admin::accounts::change),
        )
        .route("/api/v1/admin/reports", get(v1::admin::reports::index))
        .route("/api/v1/admin/reports/{id}", get(v1::admin::reports::show))
        .route(
            "/api/v1/admin/reports/{id}/{what}",
            post(v1::admin::reports::change),
        )
        .route("/api/v1/reports", post(v1::reports::create))
        .route(
            "/api/v1/admin/deliveries",
            get(v1::admin::deliveries::index),
        )
        .route(
            "/api/v1/admin/instances",
            get(v1::admin::instances::instances),
        )
        .route("/api/v1/apps", post(v1::apps::create))
        .route(
            "/api/v1/apps/verify_credentials",
            get(v1::apps::verify_credentials),
        )
        .route(
            "/api/v1/accounts",
            get(v1::accounts::index).post(v1::accounts::create),
        )
        .route(
            "/api/v1/accounts/familiar_followers",
            get(v1::accounts::familiar_followers),
        )
        .route(
            "/api/v1/accounts/verify_credentials",
            get(v1::accounts::verify_credentials),
        )
        .route(
            "/api/v1/accounts/update_credentials",
            axum::routing::patch(v1::accounts::update_credentials).layer(upload_limit),
        )
        .route("/api/v1/accounts/lookup", get(v1::accounts::lookup))
        .route(
            "/api/v1/accounts/relationships",
            get(v1::accounts::relationships),
        )
        .route("/api/v1/accounts/search", get(v1::accounts::search))
        .route("/api/v1/accounts/{id}", get(v1::accounts::show))
        .route(
            "/api/v1/stories",
            get(v1::stories::tray).post(v1::stories::create),
        )
        .route(
            "/api/v1/stories/{id}",
            get(v1::stories::show).delete(v1::stories::delete),
        )
        .route("/api/v1/stories/{id}/seen", post(v1::stories::seen))
        .route("/api/v1/stories/{id}/viewers", get(v1::stories::viewers))
        .route("/api/v1/stories/{id}/reply", post(v1::stories::reply))
        .route("/api/v1/stories/{id}/react", post(v1::stories::react))
        .route("/api/v1/accounts/{id}/stories", get(v1::accounts::stories))
        .route(
            "/api/v1/accounts/{id}/statuses",
            get(v1::accounts::statuses),
        )
        .route(
            "/api/v1/accounts/{id}/followers",
            get(v1::accounts::followers),
        )
        .route(
            "/api/v1/accounts/{id}/following",
            get(v1::accounts::following),
        )
        .route("/api/v1/accounts/{id}/follow", post(v1::accounts::follow))
        .route(
            "/api/v1/accounts/{id}/unfollow",
            post(v1::accounts::unfollow),
        )
        .route(
            "/api/v1/accounts/{id}/remove_from_followers",
            post(v1::accounts::remove_from_followers),
        )
        .route("/api/v1/accounts/{id}/block", post(v1::accounts::block))
        .route("/api/v1/accounts/{id}/unblock", post(v1::accounts::unblock))
        .route("/api/v1/accounts/{id}/mute", post(v1::accounts::mute))
        .route("/api/v1/accounts/{id}/note", post(v1::accounts::note))
        .route("/api/v1/accounts/{id}/unmute", post(v1::accounts::unmute))
        .route("/api/v1/blocks", get(v1::blocks::index))
        .route("/api/v1/bookmarks", get(v1::bookmarks::index))
        .route("/api/v1/favourites", get(v1::favourites::index))
        .route("/api/v1/follow_requests", get(v1::follow_requests::index))
        .route(
            "/api/v1/follow_requests/{id}/authorize",
            post(v1::follow_requests::authorize),
        )
        .route(
            "/api/v1/follow_requests/{id}/reject",
            post(v1::follow_requests::reject),
        )
        .route("/api/v1/followed_tags", get(v1::followed_tags::index))
        .route(
            "/api/v1/markers",
            get(v1::markers::index).post(v1::markers::save),
        )
        .route("/api/v1/mutes", get(v1::mutes::index))
        .route("/api/v1/notifications", get(v1::notifications::index))
        .route(
            "/api/v1/notifications/clear",
            post(v1::notifications::clear),
        )
        .route(
            "/api/v1/notifications/unread_count",
            get(v1::notifications::unread_count),
        )
        .route(
            "/api/v1/notifications/policy",
            get(v1::notification_requests::policy)
                .put(v1::notification_requests::update_policy)
                .patch(v1::notification_requests::update_policy),
        )
        .route(
            "/api/v1/notifications/requests",
            get(v1::notification_requests::index),
        )
        .route(
            "/api/v1/notifications/requests/merged",
            get(v1::notification_requests::merged),
        )
        .route(
            "/api/v1/notifications/requests/accept",
            post(v1::notification_requests::accept_many),
        )
        .route(
            "/api/v1/notifications/requests/dismiss",
            post(v1::notification_requests::dismiss_many),
        )
        .route(
            "/api/v1/notifications/requests/{id}",
            get(v1::notification_requests::show),
        )
        .route(
            "/api/v1/notifications/requests/{id}/accept",
            post(v1::notification_requests::accept),
        )
        .route(
            "/api/v1/notifications/requests/{id}/dismiss",
            post(v1::notification_requests::dismiss),
        )
        .route("/api/v1/notifications/{id}", get(v1::notifications::show))
        .route(
            "/api/v1/notifications/{id}/dismiss",
            post(v1::notifications::dismiss),
        )
        .route(
            "/api/v1/statuses",
            get(v1::statuses::index).post(v1::statuses::create),
        )
        .route(
            "/api/v1/statuses/{id}",
            get(v1::statuses::show)
                .delete(v1::statuses::delete)
                .put(v1::statuses::edit),
        )
        .route("/api/v1/statuses/{id}/context", get(v1::statuses::context))
        .route(
            "/api/v1/domain_blocks",
            get(v1::domain_blocks::index)
                .post(v1::domain_blocks::create)
                .delete(v1::domain_blocks::delete),
        )
        .route("/api/v1/polls/{id}", get(v1::polls::show))
        .route("/api/v1/polls/{id}/votes", post(v1::polls::vote))
        .route(
            "/api/v1/scheduled_statuses",
            get(v1::scheduled_statuses::index),
        )
        .route(
            "/api/v1/scheduled_statuses/{id}",
            get(v1::scheduled_statuses::show)
                .put(v1::scheduled_statuses::update)
                .delete(v1::scheduled_statuses::delete),
        )
        .route(
            "/api/v1/statuses/{id}/receipts",
            get(v1::statuses::receipts),
        )
        .route(
            "/api/v1/filters",
            get(v1::filters::index).post(v1::filters::create),
        )
        .route(
            "/api/v1/filters/{id}",
            get(v1::filters::show)
                .put(v1::filters::update)
                .delete(v1::filters::delete),
        )
        .route(
            "/api/v2/filters",
            get(v2::filters::index).post(v2::filters::create),
        )
        .route(
            "/api/v2/filters/{id}",
            get(v2::filters::show)
                .put(v2::filters::update)
                .delete(v2::filters::delete),
        )
        .route(
            "/api/v2/filters/{id}/keywords",
            get(v2::filters::keywords).post(v2::filters::add_keyword),
        )
        .route(
            "/api/v2/filters/{id}/statuses",
            get(v2::filters::statuses).post(v2::filters::add_status),
        )
        .route(
            "/api/v2/filters/keywords/{id}",
            get(v2::filters::keyword)
                .put(v2::filters::update_keyword)
                .delete(v2::filters::delete_keyword),
        )
        .route(
            "/api/v2/filters/statuses/{id}",
            get(v2::filters::status).delete(v2::filters::delete_status),
        )
        .route(
            "/api/v1/lists",
            get(v1::lists::index).post(v1::lists::create),
        )
        .route(
            "/api/v1/lists/{id}",
            get(v1::lists::show)
                .put(v1::lists::update)
                .delete(v1::lists::delete),
        )
        .route(
            "/api/v1/lists/{id}/accounts",
            get(v1::lists::accounts)
                .post(v1::lists::change_accounts)
                .delete(v1::lists::change_accounts),
        )
        .route("/api/v1/accounts/{id}/lists", get(v1::accounts::lists))
        .route("/api/v1/timelines/list/{id}", get(v1::timelines::list))
        .route("/api/v1/conversations", get(v1::conversations::index))
        .route(
            "/api/v1/calls",
            get(v1::calls::index).post(v1::calls::create),
        )
        .route("/api/v1/calls/ice_servers", get(v1::calls::ice_servers))
        .route("/api/v1/calls/{id}", get(v1::calls::show))
        .route("/api/v1/calls/{id}/accept", post(v1::calls::accept))
        .route("/api/v1/calls/{id}/decline", post(v1::calls::decline))
        .route("/api/v1/calls/{id}/hang_up", post(v1::calls::hang_up))
        .route("/api/v1/calls/{id}/candidates", post(v1::calls::candidate))
        .route(
            "/api/v1/rooms",
            get(v1::rooms::index).post(v1::rooms::create),
        )
        .route(
            "/api/v1/rooms/{id}",
            get(v1::rooms::show)
                .patch(v1::rooms::update)
                .delete(v1::rooms::delete),
        )
        .route("/api/v1/rooms/{id}/members", get(v1::rooms::members))
        .route(
            "/api/v1/rooms/{id}/members/{account_id}",
            axum::routing::delete(v1::rooms::remove),
        )
        .route(
            "/api/v1/rooms/{id}/members/{account_id}/role",
            post(v1::rooms::role),
        )
        .route(
            "/api/v1/rooms/{id}/members/{account_id}/mute",
            post(v1::rooms::silence),
        )
        .route(
            "/api/v1/rooms/{id}/members/{account_id}/unmute",
            post(v1::rooms::unsilence),
        )
        .route("/api/v1/rooms/{id}/invitations", post(v1::rooms::invite))
        .route("/api/v1/rooms/{id}/accept", post(v1::rooms::accept))
        .route("/api/v1/rooms/{id}/decline", post(v1::rooms::leave))
        .route("/api/v1/rooms/{id}/leave", post(v1::rooms::leave))
        .route("/api/v1/rooms/{id}/mute", post(v1::rooms::mute))
        .route("/api/v1/rooms/{id}/unmute", post(v1::rooms::unmute))
        .route("/api/v1/rooms/{id}/read", post(v1::rooms::read))
        .route(
            "/api/v1/rooms/{id}/messages",
            get(v1::rooms::messages).post(v1::rooms::post),
        )
        .route(
            "/api/v1/rooms/{id}/messages/{message_id}",
            axum::routing::delete(v1::rooms::delete_message),
        )
        .route(
            "/api/v1/conversations/{id}",
            axum::routing::delete(v1::conversations::delete),
        )
        .route(
            "/api/v1/conversations/{id}/read",
            post(v1::conversations::read),
        )
        .route(
            "/api/v1/conversations/{id}/unread",
            post(v1::conversations::unread),
        )
        .route(
            "/api/v1/conversations/{id}/typing",
            post(v1::conversations::typing),
        )
        .route(
            "/api/v1/conversations/{id}/messages",
            get(v1::conversations::messages),
        )
        .route("/api/v1/presence", get(v1::presence::index))
        .route(
            "/api/v1/presence/status",
            axum::routing::put(v1::presence::set_status).delete(v1::presence::clear_status),
        )
        .route(
            "/api/v1/messaging/preferences",
            get(v1::messaging::preferences).put(v1::messaging::update_preferences),
        )
        .route(
            "/api/v1/statuses/{id}/deliveries",
            get(v1::statuses::deliveries),
        )
        .route("/api/v1/statuses/{id}/history", get(v1::statuses::history))
        .route("/api/v1/statuses/{id}/source", get(v1::statuses::source))
        .route(
            "/api/v1/statuses/{id}/favourite",
            post(v1::statuses::favourite),
        )
        .route(
            "/api/v1/statuses/{id}/unfavourite",
            post(v1::statuses::unfavourite),
        )
        .route("/api/v1/statuses/{id}/reblog", post(v1::statuses::reblog))
        .route(
            "/api/v1/statuses/{id}/unreblog",
            post(v1::statuses::unreblog),
        )
        .route(
            "/api/v1/statuses/{id}/bookmark",
            post(v1::statuses::bookmark),
        )
        .route(
            "/api/v1/statuses/{id}/unbookmark",
            post(v1::statuses::unbookmark),
        )
        .route("/api/v1/statuses/{id}/pin", post(v1::statuses::pin))
        .route("/api/v1/statuses/{id}/unpin", post(v1::statuses::unpin))
        .route("/api/v1/statuses/{id}/mute", post(v1::statuses::mute))
        .route("/api/v1/statuses/{id}/unmute", post(v1::statuses::unmute))
        .route(
            "/api/v1/statuses/{id}/favourited_by",
            get(v1::statuses::favourited_by),
        )
        .route(
            "/api/v1/statuses/{id}/reblogged_by",
            get(v1::statuses::reblogged_by),
        )
        .route("/api/v1/statuses/{id}/quotes", get(v1::statuses::quotes))
        .route(
            "/api/v1/statuses/{id}/quotes/{quoting_status_id}/revoke",
            post(v1::statuses::revoke_quote),
        )
        .route(
            "/api/v1/statuses/{id}/interaction_policy",
            put(v1::statuses::interaction_policy),
        )
        .route("/api/v1/streaming", get(v1::streaming::root))
        .route("/api/v1/streaming/", get(v1::streaming::root))
        .route("/api/v1/streaming/health", get(v1::streaming::health))
        .route("/api/v1/streaming/{*stream}", get(v1::streaming::sse))
        .route("/api/v1/tags/{name}", get(v1::tags::show))
        .route("/api/v1/tags/{name}/follow", post(v1::tags::follow))
        .route("/api/v1/tags/{name}/unfollow", post(v1::tags::unfollow))
        .route("/api/v1/tags/{name}/feature", post(v1::tags::feature))
        .route("/api/v1/tags/{name}/unfeature", post(v1::tags::unfeature))
        .route("/api/v1/timelines/home", get(v1::timelines::home))
        .route("/api/v1/timelines/public", get(v1::timelines::public))
        .route("/api/v1/timelines/link", get(v1::timelines::link))
        .route("/api/v1/timelines/shorts", get(v1::timelines::shorts))
        .route("/api/v1/tags/{name}/shorts", get(v1::tags::shorts))
        .route("/api/v1/statuses/{id}/view", post(v1::statuses::view))
        .route("/api/v1/shorts", post(v1::shorts::create))
        .route("/api/v1/accounts/{id}/shorts", get(v1::accounts::shorts))
        .route("/api/v1/timelines/tag/{hashtag}", get(v1::timelines::tag))
        .route("/api/v1/custom_emojis", get(v1::custom_emojis::index))
        .route("/api/v1/instance", get(v1::instance::show))
        .route("/api/v1/instance/", get(v1::instance::show))
        .route("/api/v1/instance/peers", get(v1::instance::peers))
        .route("/api/v1/instance/rules", get(v1::instance::rules))
        .route("/api/v1/instance/languages", get(v1::instance::languages))
        .route(
            "/api/v1/instance/domain_blocks",
            get(v1::instance::domain_blocks),
        )
        .route(
            "/api/v1/instance/extended_description",
            get(v1::instance::extended_description),
        )
        .route(
            "/api/v1/instance/privacy_policy",
            get(v1::instance::privacy_policy),
        )
        .route(
            "/api/v1/instance/terms_of_service",
            get(v1::instance::terms_of_service),
        )
        .route(
            "/api/v1/instance/terms_of_service/{date}",
            get(v1::instance::terms_of_service_at),
        )
        .route(
            "/api/v1/emails/confirmations",
            post(v1::emails::resend_confirmation),
        )
        .route(
            "/api/v1/emails/check_confirmation",
            get(v1::emails::check_confirmation),
        )
        .route("/api/v1/endorsements", get(v1::endorsements::index))
        .route(
            "/api/v1/aliases",
            get(v1::migration::aliases).post(v1::migration::add_alias),
        )
        .route(
            "/api/v1/aliases/{id}",
            axum::routing::delete(v1::migration::remove_alias),
        )
        .route(
            "/api/v1/imports",
            get(v1::imports::index)
                .post(v1::imports::create)
                .layer(DefaultBodyLimit::max(
                    crate::service::imports::MAX_FILE_BYTES + 64 * 1024,
                )),
        )
        .route("/api/v1/imports/{id}", get(v1::imports::show))
        .route("/api/v1/exports/{file}", get(v1::imports::export))
        .route(
            "/api/v1/archives",
            get(v1::archives::index).post(v1::archives::create),
        )
        .route(
            "/api/v1/archives/{id}/download",
            get(v1::archives::download),
        )
        .route(
            "/api/v1/migration",
            get(v1::migration::show)
                .post(v1::migration::start)
                .delete(v1::migration::undo),
        )
        .route("/api/v1/accounts/{id}/pin", post(v1::accounts::pin))
        .route("/api/v1/accounts/{id}/unpin", post(v1::accounts::unpin))
        .route("/api/v1/accounts/{id}/endorse", post(v1::accounts::pin))
        .route("/api/v1/accounts/{id}/unendorse", post(v1::accounts::unpin))
        .route(
            "/api/v1/accounts/{id}/endorsements",
            get(v1::accounts::endorsements),
        )
        .route(
            "/api/v1/profile/avatar",
            axum::routing::delete(v1::profile::delete_avatar),
        )
        .route(
            "/api/v1/profile/header",
            axum::routing::delete(v1::profile::delete_header),
        )
        .route(
            "/api/v1/featured_tags",
            get(v1::featured_tags::index).post(v1::featured_tags::create),
        )
        .route(
            "/api/v1/featured_tags/suggestions",
            get(v1::featured_tags::suggestions),
        )
        .route(
            "/api/v1/featured_tags/{id}",
            axum::routing::delete(v1::featured_tags::delete),
        )
        .route(
            "/api/v1/accounts/{id}/featured_tags",
            get(v1::accounts::featured_tags),
        )
        .route("/api/v1/directory", get(v1::directory::directory))
        .route("/api/v1/suggestions", get(v1::suggestions::index))
        .route(
            "/api/v1/suggestions/{id}",
            axum::routing::delete(v1::suggestions::dismiss),
        )
        .route("/api/v2/suggestions", get(v2::suggestions::index))
        .route("/api/v2/notifications", get(v2::notifications::index))
        .route(
            "/api/v2/notifications/unread_count",
            get(v2::notifications::unread_count),
        )
        .route(
            "/api/v2/notifications/policy",
            get(v2::notifications::policy)
                .patch(v2::notifications::update_policy)
                .put(v2::notifications::update_policy),
        )
        .route("/api/v2/notifications/{key}", get(v2::notifications::show))
        .route(
            "/api/v2/notifications/{key}/accounts",
            get(v2::notifications::accounts),
        )
        .route(
            "/api/v2/notifications/{key}/dismiss",
            post(v2::notifications::dismiss),
        )
        .route(
            "/api/v1/push/subscription",
            get(v1::push::show)
                .post(v1::push::create)
                .put(v1::push::update)
                .delete(v1::push::delete),
        )
        .route("/api/v1/trends", get(v1::trends::tags))
        .route("/api/v1/trends/tags", get(v1::trends::tags))
        .route("/api/v1/trends/statuses", get(v1::trends::statuses))
        .route("/api/v1/trends/links", get(v1::trends::links))
        .route("/api/v1/announcements", get(v1::announcements::index))
        .route(
            "/api/v1/announcements/{id}/dismiss",
            post(v1::announcements::dismiss),
        )
        .route(
            "/api/v1/announcements/{id}/reactions/{name}",
            axum::routing::put(v1::announcements::reaction).delete(v1::announcements::reaction),
        )
        .route(
            "/api/v1/instance/translation_languages",
            get(v1::instance::translation_languages),
        )
        .route("/api/v1/instance/activity", get(v1::instance::activity))
        .route("/api/v1/preferences", get(v1::preferences::index))
        .route("/api/v2/instance", get(v2::instance::show))
        .route("/api/v2/search", get(v2::search::search))
        .route("/api/v2/instance/", get(v2::instance::show))
}
