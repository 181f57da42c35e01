//! `client.sources()`: the workspace's sources, read for the labels they carry (which grants
//! narrowed by labels reach them).

use futures::TryStreamExt;
use segment_iam_api::ClientSourcesExt;

use crate::client::Client;
use crate::label::Source;
use crate::paginate::Paginator;

/// Sources of the workspace (read only). Get one with [`Client::sources`]; cheap to clone.
#[derive(Debug, Clone)]
pub struct Sources {
    client: Client,
}

impl Sources {
    pub(crate) fn new(client: Client) -> Self {
        Sources { client }
    }

    /// Every source as the service pages them (`SourceV1`, every field the document names).
    pub fn list(&self) -> Paginator<segment_iam_api::types::SourceV1> {
        paginator!(&self.client, list_sources => sources)
    }

    /// Every source as a [`Source`]: id, slug, name, enabled and the labels it carries.
    pub fn list_labelled(
        &self,
    ) -> impl futures::Stream<Item = crate::Result<Source>> + Send + Unpin + 'static {
        self.list().items().map_ok(Source::from)
    }
}
