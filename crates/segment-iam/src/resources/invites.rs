//! `client.invites()`: list, create and delete pending invites.

use std::future::Future;

use segment_iam_api::ClientIamUsersExt;
use segment_iam_api::types;

use crate::batch::{self, BulkOutcome};
use crate::client::Client;
use crate::error::{Error, Result};
use crate::model::Invite;
use crate::paginate::Paginator;
use crate::validate;

/// Pending invites to the workspace. Get one with [`Client::invites`]; cheap to clone.
#[derive(Debug, Clone)]
pub struct Invites {
    client: Client,
}

impl Invites {
    pub(crate) fn new(client: Client) -> Self {
        Invites { client }
    }

    /// The emails of every pending invite.
    pub fn list(&self) -> Paginator<String> {
        paginator!(&self.client, list_invites => invites)
    }

    /// Invites people to the workspace; returns the emails the service invited. A POST: it is
    /// sent once, and retried only when it provably did not arrive (see [`crate::RetryConfig`]).
    pub fn create(
        &self,
        invites: impl IntoIterator<Item = impl Into<Invite>>,
    ) -> impl Future<Output = Result<Vec<String>>> + Send + 'static {
        let invites = invites
            .into_iter()
            .map(|i| i.into().into_input())
            .collect::<Result<Vec<_>>>()
            .and_then(|invites| {
                if invites.is_empty() {
                    Err(Error::invalid("invites", "must not be empty"))
                } else {
                    Ok(invites)
                }
            });
        let reply = send!(self.client.clone(), |api| api
            .create_invites()
            .body(types::CreateInvitesV1Input { invites: invites? }));
        async move { Ok(reply.await?.data.emails) }
    }

    /// Deletes pending invites by email, split under the URL limit; on failure the error says
    /// which were deleted.
    pub fn delete(
        &self,
        emails: impl IntoIterator<Item = impl Into<String>>,
    ) -> impl Future<Output = Result<BulkOutcome>> + Send + 'static {
        let client = self.client.clone();
        let emails = validate::emails("emails", emails, true);
        async move {
            let call = client.call();
            batch::remove(
                &call,
                client.base_url(),
                client.max_url_len(),
                &[],
                "emails",
                emails?,
                |api, batch| api.delete_invites().emails(batch),
            )
            .await
        }
    }
}
