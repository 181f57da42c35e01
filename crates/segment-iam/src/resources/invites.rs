//! `client.invites()`: list, create and delete pending invites.

use std::future::Future;

use segment_iam_api::ClientIamUsersExt;
use segment_iam_api::types;

use crate::batch::BulkOutcome;
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

/// Invites checked and converted; an empty list is refused (it would waste a request).
fn invite_inputs(
    invites: impl IntoIterator<Item = impl Into<Invite>>,
) -> Result<Vec<types::InviteV1>> {
    let inputs = invites
        .into_iter()
        .map(|i| i.into().into_input())
        .collect::<Result<Vec<_>>>()?;
    if inputs.is_empty() {
        return Err(Error::invalid("invites", "must not be empty"));
    }
    Ok(inputs)
}

impl Invites {
    pub(crate) fn new(client: Client) -> Self {
        Invites { client }
    }

    /// The emails of every pending invite.
    pub fn list(&self) -> Paginator<String> {
        paginator!(&self.client, list_invites => invites)
    }

    request_methods! {
        /// Invites people to the workspace; returns the emails the service invited. A POST:
        /// it is sent once, and retried only when it provably did not arrive (see
        /// [`crate::RetryConfig`]).
        fn create(invites: impl IntoIterator<Item = impl Into<Invite>> => inputs = invite_inputs(invites)) -> Vec<String> {
            |api| api.create_invites().body(types::CreateInvitesV1Input { invites: inputs? }) => emails
        }
    }

    /// Deletes pending invites by email, split under the URL limit; on failure the error says
    /// which were deleted.
    pub fn delete(
        &self,
        emails: impl IntoIterator<Item = impl Into<String>>,
    ) -> impl Future<Output = Result<BulkOutcome>> + Send + 'static {
        let emails = validate::emails("emails", emails, true);
        remove_in_chunks!(self.client.clone(), "emails", emails, [], |api, batch| api
            .delete_invites()
            .emails(batch))
    }
}
