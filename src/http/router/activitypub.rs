//! ActivityPub routes: inboxes, actors and their collections, objects at their IDs
//! (docs/FEDERATION.md). Profile and status URLs (`/@name`, `/@name/id`) answer ActivityPub
//! clients with the document and browsers with the page.

use axum::routing::{get, post};

use super::Routes;
use crate::http::activitypub;

pub(super) fn routes() -> Routes {
    Routes::new()
        .route("/inbox", post(activitypub::inbox))
        .route("/actor", get(activitypub::instance_actor))
        .route("/emojis/{id}", get(activitypub::emoji))
        .route("/actor/inbox", post(activitypub::inbox))
        .route("/users/{name}", get(activitypub::user))
        .route("/users/{name}/inbox", post(activitypub::inbox))
        .route("/users/{name}/outbox", get(activitypub::outbox))
        .route("/users/{name}/followers", get(activitypub::followers))
        .route("/users/{name}/following", get(activitypub::following))
        .route(
            "/users/{name}/collections/featured",
            get(activitypub::featured),
        )
        .route("/users/{name}/statuses/{id}", get(activitypub::status))
        .route(
            "/users/{name}/quote_authorizations/{id}",
            get(activitypub::quote_authorization),
        )
        .route(
            "/users/{name}/statuses/{id}/activity",
            get(activitypub::status_activity),
        )
        .route("/stories/{name}/{id}", get(activitypub::story))
        .route("/rooms/{id}", get(activitypub::room))
        .route("/rooms/{id}/inbox", post(activitypub::inbox))
        // `/@name` and `/@name/id`: one path segment that must start with `@` (checked by the
        // handlers); static routes always win over these.
        .route("/{at_name}", get(activitypub::profile))
        .route("/{at_name}/{id}", get(activitypub::status_page))
}
