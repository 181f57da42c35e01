//! `client.invites()`: list, create and delete pending invites.

use std::future::Future;

use segment_iam_api::ClientIamUsersExt;
use segment_iam_api::types;

use crate::batch::BulkOutcome;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::lookup::{self, Lookup};
use crate::model::{Invite, Permission};
use crate::paginate::Paginator;
use crate::validate;

/// Pending invites to the workspace. Get one with [`Client::invites`]; cheap to clone.
#[derive(Debug, Clone)]
pub struct Invites {
    client: Client,
}

/// Invites checked (addresses and permissions); an empty list is refused (it would waste a
/// request).
fn checked_invites(invites: impl IntoIterator<Item = impl Into<Invite>>) -> Result<Vec<Invite>> {
    let invites: Vec<Invite> = invites.into_iter().map(Into::into).collect();
    if invites.is_empty() {
        return Err(Error::invalid("invites", "must not be empty"));
    }
    invites.iter().try_for_each(Invite::check)?;
    Ok(invites)
}

/// Invites with role names and "this workspace" resolved, all in one pass (at most one
/// lookup of each), then converted.
async fn invite_inputs(client: &Client, invites: Vec<Invite>) -> Result<Vec<types::InviteV1>> {
    let (emails, permissions): (Vec<String>, Vec<Vec<Permission>>) =
        invites.into_iter().map(Invite::into_parts).unzip();
    let counts: Vec<usize> = permissions.iter().map(Vec::len).collect();
    let mut resolved =
        super::resolve_permissions(client, permissions.into_iter().flatten().collect())
            .await?
            .into_iter();
    emails
        .into_iter()
        .zip(counts)
        .map(|(email, n)| {
            Invite::from_parts(email, resolved.by_ref().take(n).collect()).into_input()
        })
        .collect()
}

impl Invites {
    pub(crate) fn new(client: Client) -> Self {
        Invites { client }
    }

    /// The emails of every pending invite.
    pub fn list(&self) -> Paginator<String> {
        paginator!(&self.client, list_invites => invites)
    }

    /// The pending invites among these emails (compared case-insensitively), in one pass over
    /// the list that stops as soon as all are found; [`Lookup::found`] holds the addresses as
    /// the service lists them.
    pub fn find_by_emails(
        &self,
        emails: impl IntoIterator<Item = impl AsRef<str>>,
    ) -> impl Future<Output = Result<Lookup<String>>> + Send + 'static {
        let emails = lookup::distinct_emails("emails", emails);
        let list = self.list();
        async move { lookup::find(list, emails?, |e: &String| e.as_str()).await }
    }

    /// Whether `email` has a pending invite: the address as the service lists it, if so.
    pub fn find_by_email(
        &self,
        email: impl AsRef<str>,
    ) -> impl Future<Output = Result<Option<String>>> + Send + 'static {
        let lookup = self.find_by_emails([email]);
        async move { Ok(lookup.await?.found.into_iter().next()) }
    }

    /// Invites people to the workspace; returns the emails the service invited. Roles may be
    /// given by name, resolved before sending. A POST: it is sent once, and retried only when
    /// it provably did not arrive (see [`crate::RetryConfig`]). Someone already a user or
    /// already invited is a 409 whose [`Error::conflict`] says which
    /// ([`Conflict`](crate::Conflict)) and whose [`Error::item`] names the email.
    pub fn create(
        &self,
        invites: impl IntoIterator<Item = impl Into<Invite>>,
    ) -> impl Future<Output = Result<Vec<String>>> + Send + 'static {
        let invites = checked_invites(invites);
        let client = self.client.clone();
        async move {
            let inputs = invite_inputs(&client, invites?).await?;
            let emails: Vec<String> = inputs.iter().map(|i| i.email.clone()).collect();
            let reply = send!(client, |api| api
                .create_invites()
                .body(types::CreateInvitesV1Input { invites: inputs }));
            match reply.await {
                Ok(reply) => Ok(reply.data.emails),
                Err(e) => {
                    let sent: Vec<&str> = emails.iter().map(String::as_str).collect();
                    Err(e.naming_item("invites", &sent))
                }
            }
        }
    }

    /// Deletes pending invites by email, split under the URL limit; on failure the error says
    /// which were deleted.
    pub fn delete(
        &self,
        emails: impl IntoIterator<Item = impl AsRef<str>>,
    ) -> impl Future<Output = Result<BulkOutcome>> + Send + 'static {
        let emails = validate::emails("emails", emails, true);
        remove_in_chunks!(self.client.clone(), "emails", emails, [], |api, batch| api
            .delete_invites()
            .emails(batch))
    }

    /// How many requests [`Invites::delete`] sends for `emails` at this client's URL limit, so
    /// a job can state its cost before sending. An email too long for any URL is
    /// [`Error::InvalidInput`](crate::Error::InvalidInput).
    pub fn delete_requests(&self, emails: &[impl AsRef<str>]) -> Result<u64> {
        self.client
            .bulk_requests(segment_iam_api::Operation::DeleteInvites, &[], emails)
            .map(|n| n as u64)
    }
}
