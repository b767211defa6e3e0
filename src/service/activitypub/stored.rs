//! Outgoing activities as the delivery queue keeps them: sent byte for byte as they were queued.

use activitypub_federation::config::Data;
use activitypub_federation::traits::Activity;
use async_trait::async_trait;
use serde::Serialize;
use serde_json::Value;
use url::Url;

use crate::state::AppState;

/// A stored outgoing activity, sent byte for byte as it was queued.
#[derive(Debug, Serialize)]
#[serde(transparent)]
pub struct StoredActivity {
    pub document: Value,
    #[serde(skip)]
    pub id: Url,
    #[serde(skip)]
    pub actor: Url,
}

impl StoredActivity {
    pub fn parse(payload: &str) -> anyhow::Result<StoredActivity> {
        let document: Value = serde_json::from_str(payload)?;
        let id = Url::parse(document.get("id").and_then(Value::as_str).unwrap_or(""))?;
        let actor = Url::parse(document.get("actor").and_then(Value::as_str).unwrap_or(""))?;
        Ok(StoredActivity {
            document,
            id,
            actor,
        })
    }
}

#[async_trait]
impl Activity for StoredActivity {
    type DataType = AppState;
    type Error = anyhow::Error;

    fn id(&self) -> &Url {
        &self.id
    }

    fn actor(&self) -> &Url {
        &self.actor
    }

    async fn verify(&self, _data: &Data<AppState>) -> Result<(), Self::Error> {
        anyhow::bail!("stored activities are only sent, never received")
    }

    async fn receive(self, _data: &Data<AppState>) -> Result<(), Self::Error> {
        anyhow::bail!("stored activities are only sent, never received")
    }
}
