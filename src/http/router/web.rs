//! The browser pages of `http::web`: the web app's screens (`/`, `/home`, `/explore`, `/tags/…`,
//! `/notifications`, followers and following; profiles and posts are in `activitypub`, which
//! hands browsers to `web`), signing in, up and out, e-mail confirmation, password reset, account
//! settings, the story viewer and the shorts player.

use axum::routing::{get, post};

use super::Routes;
use crate::http::web;

pub(super) fn routes() -> Routes {
    Routes::new()
        .route("/", get(web::root))
        .route("/home", get(web::home))
        .route("/explore", get(web::explore))
        .route("/about", get(web::about))
        .route("/{at_name}/tagged/{name}", get(web::tagged))
        .route("/tags/{name}", get(web::tag))
        .route("/notifications", get(web::notifications_screen))
        .route("/messages", get(web::messages))
        .route("/lists", get(web::lists_screen))
        .route("/lists/{id}", get(web::list_screen))
        .route("/settings", get(web::settings_screen))
        .route(
            "/settings/applications/{id}/revoke",
            post(web::revoke_application),
        )
        .route("/shorts/new", get(web::new_short))
        .route("/messages/{id}", get(web::chat))
        .route("/messages/rooms/{id}", get(web::room))
        .route("/{at_name}/followers", get(web::follow_list_followers))
        .route("/{at_name}/following", get(web::follow_list_following))
        .route("/auth/confirmation", get(web::confirm_email))
        .route(
            "/auth/edit",
            get(web::account_edit).post(web::account_update),
        )
        .route("/auth/password", post(web::password_request))
        .route("/auth/password/new", get(web::password_new))
        .route(
            "/auth/password/edit",
            get(web::password_edit).post(web::password_reset),
        )
        .route("/auth/sign_in", get(web::sign_in_form).post(web::sign_in))
        .route("/auth/sign_out", post(web::sign_out))
        .route("/auth/sign_up", get(web::sign_up_form).post(web::sign_up))
        .route(
            "/settings/delete",
            get(web::delete_show).post(web::delete_account),
        )
        .route(
            "/settings/two_factor",
            get(web::two_factor_show).post(web::two_factor_update),
        )
        .route("/shorts", get(web::shorts_page))
        .route("/web/statuses/{id}/{action}", post(web::status_action))
        .route("/{at_name}/shorts", get(web::account_shorts_page))
        .route("/{at_name}/stories", get(web::stories_page))
        .route("/{at_name}/stories/{id}/seen", post(web::story_seen))
}
