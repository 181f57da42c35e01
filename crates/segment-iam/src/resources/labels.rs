//! `client.labels()`: the workspace's labels, which narrow permissions and mark sources.

use std::future::Future;

use segment_iam_api::ClientLabelsExt;
use segment_iam_api::types;

use crate::client::Client;
use crate::error::Result;
use crate::label::{Label, WorkspaceLabel};

/// Labels of the workspace. Get one with [`Client::labels`]; cheap to clone.
#[derive(Debug, Clone)]
pub struct Labels {
    client: Client,
}

impl Labels {
    pub(crate) fn new(client: Client) -> Self {
        Labels { client }
    }

    /// Every label of the workspace, sorted (`listLabels` is one request: it is not paginated).
    pub fn list(&self) -> impl Future<Output = Result<Vec<WorkspaceLabel>>> + Send + 'static {
        let client = self.client.clone();
        async move {
            let call = client.call();
            let labels = call.send(call.api().list_labels()).await?.data.labels;
            let mut labels: Vec<WorkspaceLabel> = labels.into_iter().map(Into::into).collect();
            labels.sort();
            Ok(labels)
        }
    }

    /// Creates a label, with an optional description. A POST: sent once, retried only when it
    /// provably did not arrive. A label that exists already is a 409
    /// ([`Error::conflict`](crate::Error::conflict)).
    pub fn create(
        &self,
        label: &Label,
        description: Option<&str>,
    ) -> impl Future<Output = Result<WorkspaceLabel>> + Send + 'static {
        let client = self.client.clone();
        let body = types::CreateLabelV1Input {
            label: types::LabelV1 {
                key: label.key().to_string(),
                value: label.value().to_string(),
                description: description.map(str::to_string),
            },
        };
        async move {
            let call = client.call();
            let created = call
                .send(call.api().create_label().body(body))
                .await?
                .data
                .label;
            Ok(created.into())
        }
    }

    /// Deletes a label. The service refuses to delete a label in use on a source or a space or
    /// narrowing a permission ([`Error::Conflict`](crate::Error::Conflict) from the service, nothing changed).
    pub fn delete(&self, label: &Label) -> impl Future<Output = Result<()>> + Send + 'static {
        let client = self.client.clone();
        let (key, value) = (label.key().to_string(), label.value().to_string());
        async move {
            let call = client.call();
            call.send(call.api().delete_label().key(key).value(value))
                .await?;
            Ok(())
        }
    }
}
