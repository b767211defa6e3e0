//! Routes of OAuth 2.0 (docs.joinmastodon.org/methods/oauth/, RFC 6749, RFC 7009).

use axum::routing::{get, post};

use super::Routes;
use crate::http::oauth;

pub(super) fn routes() -> Routes {
    Routes::new()
        .route(
            "/oauth/authorize",
            get(oauth::authorize_get).post(oauth::authorize_post),
        )
        .route(
            "/oauth/authorize/",
            get(oauth::authorize_get).post(oauth::authorize_post),
        )
        .route("/oauth/token", post(oauth::token))
        .route("/oauth/revoke", post(oauth::revoke))
}
