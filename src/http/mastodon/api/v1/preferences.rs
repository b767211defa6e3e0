//! `/api/v1/preferences` (docs.joinmastodon.org/methods/preferences/).

use axum::Json;
use serde_json::{Value, json};

use crate::error::AppResult;
use crate::http::extract::Auth;

/// `GET /api/v1/preferences` (`read:accounts`).
pub async fn index(auth: Auth) -> AppResult<Json<Value>> {
    let cu = auth.require_user("read:accounts")?;
    let s = &cu.user.settings.0;
    Ok(Json(json!({
        "posting:default:visibility": s.privacy.as_deref().unwrap_or("public"),
        "posting:default:quote_policy": s.quote_policy.as_deref().unwrap_or("public"),
        "posting:default:sensitive": s.sensitive,
        "posting:default:language": s.language,
        "reading:expand:media": "default",
        "reading:expand:spoilers": false,
    })))
}
