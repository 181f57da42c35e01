//! `client.invites()`: list, create and delete pending invites.

use segment_iam_api::ClientIamUsersExt;
use segment_iam_api::types;

use crate::bulk::{self, BulkOutcome};
use crate::client::Client;
use crate::error::Result;
use crate::model::Invite;
use crate::paginate::Paginator;
use crate::resources::non_empty;
use crate::validate;

/// Pending invites to the workspace. Get one with [`Client::invites`].
#[derive(Debug, Clone, Copy)]
pub struct Invites<'a> {
    client: &'a Client,
}

impl<'a> Invites<'a> {
    pub(crate) fn new(client: &'a Client) -> Self {
        Invites { client }
    }

    /// The emails of every pending invite.
    pub fn list(&self) -> Paginator<String> {
        paginator!(self.client, list_invites => invites)
    }

    /// Invites people to the workspace; returns the emails the service invited. A POST: it is
    /// sent once, and retried only when it provably did not arrive (see [`crate::RetryConfig`]).
    pub async fn create(
        &self,
        invites: impl IntoIterator<Item = impl Into<Invite>>,
    ) -> Result<Vec<String>> {
        let invites = invites
            .into_iter()
            .map(|i| i.into().into_input())
            .collect::<Result<Vec<_>>>()?;
        let invites = non_empty("invites", invites)?;
        let body = types::CreateInvitesV1Input { invites };
        let data = self
            .client
            .call("create_invites", |api| {
                api.create_invites().body(body.clone()).send()
            })
            .await?
            .data;
        Ok(data.emails)
    }

    /// Deletes pending invites by email, split under the URL limit; on failure the error says
    /// which were deleted.
    pub async fn delete(
        &self,
        emails: impl IntoIterator<Item = impl Into<String>>,
    ) -> Result<BulkOutcome> {
        let emails = validate::list("emails", emails, validate::email)?;
        let base_len = self.client.base_url().len() + "/invites".len();
        bulk::run(
            "emails",
            "emails",
            emails,
            base_len,
            self.client.max_url_len(),
            |batch| async move {
                self.client
                    .call_delete("delete_invites", |api| {
                        api.delete_invites().emails(batch.clone()).send()
                    })
                    .await
            },
        )
        .await
    }
}
