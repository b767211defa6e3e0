//! The browser pages of `http::web`: signing in and up, e-mail confirmation, password reset,
//! account settings, the story viewer and the shorts player.

use axum::routing::{get, post};

use super::Routes;
use crate::http::web;

pub(super) fn routes() -> Routes {
    Routes::new()
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
