//! Statuses as fetchable ActivityPub objects (`activitypub_federation`'s `Object`): remote Notes
//! are fetched by URL (a boosted post we have not seen, the parent of a reply, a status URL pasted
//! into search), checked and stored through the same path as an incoming `Create`. A PeerTube
//! `Video` fetched this way (a channel's `Announce`, a search) is read as the Note it stands for.

use activitypub_federation::config::Data;
use activitypub_federation::fetch::object_id::ObjectId;
use activitypub_federation::traits::Object;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::federation::origin::same_origin;
use crate::federation::protocol::note::Note;
use crate::service::activitypub::actors::ApAccount;
use crate::state::AppState;
use crate::storage::statuses::{self, StatusRow};

/// A fetched post document: a Note (or Question, Article …), or a PeerTube `Video` read as one.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(transparent)]
pub struct NoteDoc(
    #[serde(deserialize_with = "crate::federation::protocol::peertube::note_or_video")] pub Note,
);

#[derive(Clone, Debug)]
pub struct ApNote {
    pub row: StatusRow,
    pub id: Url,
}

#[async_trait]
impl Object for ApNote {
    type DataType = AppState;
    type Kind = NoteDoc;
    type Error = anyhow::Error;

    fn id(&self) -> &Url {
        &self.id
    }

    fn last_refreshed_at(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        // Stored statuses change only through Update activities; never refetch them.
        Some(chrono::Utc::now())
    }

    async fn read_from_id(
        object_id: Url,
        data: &Data<AppState>,
    ) -> Result<Option<Self>, Self::Error> {
        Ok(statuses::find_by_uri_or_url(&data.db, object_id.as_str())
            .await?
            .map(|row| ApNote { row, id: object_id }))
    }

    async fn into_json(self, data: &Data<AppState>) -> Result<NoteDoc, Self::Error> {
        anyhow::ensure!(self.row.local, "only local statuses are served");
        crate::service::activitypub::note_of(data.app_data(), &self.row)
            .await
            .map(NoteDoc)
            .map_err(|e| anyhow::anyhow!("{e}"))
    }

    async fn verify(
        NoteDoc(json): &NoteDoc,
        expected_domain: &Url,
        _data: &Data<AppState>,
    ) -> Result<(), Self::Error> {
        anyhow::ensure!(
            same_origin(&json.id, expected_domain),
            "Note {} is not from {expected_domain}",
            json.id
        );
        anyhow::ensure!(
            same_origin(&json.attributed_to, &json.id),
            "Note {} is attributed to another server",
            json.id
        );
        Ok(())
    }

    async fn from_json(NoteDoc(json): NoteDoc, data: &Data<AppState>) -> Result<Self, Self::Error> {
        let id = json.id.clone();
        let author = ObjectId::<ApAccount>::from(json.attributed_to.clone())
            .dereference(data)
            .await?
            .row;
        use crate::service::statuses::{Arrival, store_remote_note};
        let row = store_remote_note(data, &author, json, Arrival::Fetched)
            .await?
            .row()
            .ok_or_else(|| anyhow::anyhow!("the Note was not stored"))?;
        Ok(ApNote { row, id })
    }
}
