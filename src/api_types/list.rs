//! `List` (docs.joinmastodon.org/entities/List/).

use serde::Serialize;

use crate::storage::lists::ListRow;

#[derive(Clone, Debug, Serialize)]
pub struct List {
    pub id: String,
    pub title: String,
    /// `followed`, `list` or `none`: which replies to others the list's timeline shows.
    pub replies_policy: String,
    /// Members' posts stay out of the home timeline.
    pub exclusive: bool,
}

impl From<&ListRow> for List {
    fn from(r: &ListRow) -> List {
        List {
            id: r.id.to_string(),
            title: r.title.clone(),
            replies_policy: r.replies_policy.clone(),
            exclusive: r.exclusive,
        }
    }
}
