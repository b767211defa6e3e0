//! Discovery documents: `/.well-known/*` (WebFinger, host-meta, NodeInfo links, OAuth server
//! metadata) and NodeInfo itself.

use axum::routing::get;

use super::Routes;
use crate::http::well_known;

pub(super) fn routes() -> Routes {
    Routes::new()
        .route(
            "/.well-known/oauth-authorization-server",
            get(well_known::oauth_metadata),
        )
        .route("/.well-known/nodeinfo", get(well_known::nodeinfo_links))
        .route("/.well-known/host-meta", get(well_known::host_meta))
        .route(
            "/.well-known/host-meta.json",
            get(well_known::host_meta_json),
        )
        .route("/.well-known/webfinger", get(well_known::webfinger))
        .route("/nodeinfo/2.0", get(well_known::nodeinfo_20))
        .route("/nodeinfo/2.1", get(well_known::nodeinfo_21))
        .route("/health", get(well_known::health))
        .route("/ready", get(crate::http::ops::ready))
        .route("/metrics", get(crate::http::ops::metrics))
}
