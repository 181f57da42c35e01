//! `client.users()`: list, get, delete users; their groups and permissions.

use std::future::Future;

use segment_iam_api::ClientIamUsersExt;
use segment_iam_api::types::{MinimalUserGroupV1, UserId, UserV1};

use crate::batch::BulkOutcome;
use crate::client::Client;
use crate::error::Result;
use crate::lookup::{self, Lookup};
use crate::paginate::Paginator;
use crate::validate;

/// Users of the workspace. Get one with [`Client::users`]; cheap to clone.
#[derive(Debug, Clone)]
pub struct Users {
    client: Client,
}

impl Users {
    pub(crate) fn new(client: Client) -> Self {
        Users { client }
    }

    /// Every user with access to the workspace.
    pub fn list(&self) -> Paginator<UserV1> {
        paginator!(&self.client, list_users => users)
    }

    /// The groups a user belongs to.
    pub fn groups(&self, user_id: impl AsRef<str>) -> Paginator<MinimalUserGroupV1> {
        paginator!(&self.client, list_user_groups_from_user => groups, user_id: "user_id" as UserId = user_id)
    }

    /// The user with this email (compared case-insensitively), if any: one pass over the
    /// list, stopping at the match. For many addresses use [`find_by_emails`](Self::find_by_emails).
    pub fn find_by_email(
        &self,
        email: impl AsRef<str>,
    ) -> impl Future<Output = Result<Option<UserV1>>> + Send + 'static {
        let lookup = self.find_by_emails([email]);
        async move { Ok(lookup.await?.found.into_iter().next()) }
    }

    /// The users with these emails, in one pass over the list that stops as soon as all are
    /// found; addresses nobody has are in [`Lookup::missing`]. Emails compare
    /// case-insensitively and an address asked twice counts once.
    pub fn find_by_emails(
        &self,
        emails: impl IntoIterator<Item = impl AsRef<str>>,
    ) -> impl Future<Output = Result<Lookup<UserV1>>> + Send + 'static {
        let emails = lookup::distinct_emails("emails", emails);
        let list = self.list();
        async move { lookup::find(list, emails?, |u: &UserV1| u.email.as_str()).await }
    }

    request_methods! {
        /// One user, with their permissions.
        fn get(user_id: impl AsRef<str> => id = validate::id::<UserId>("user_id", user_id.as_ref())) -> UserV1 {
            |api| api.get_user().user_id(id?) => user
        }
    }

    /// Removes users (and their group memberships). Long lists are split into several
    /// requests under the URL limit; on failure the error says which ids were removed.
    pub fn delete(
        &self,
        user_ids: impl IntoIterator<Item = impl AsRef<str>>,
    ) -> impl Future<Output = Result<BulkOutcome>> + Send + 'static {
        let ids = validate::ids::<UserId>("user_ids", user_ids);
        remove_in_chunks!(self.client.clone(), "user_ids", ids, [], |api, batch| api
            .delete_users()
            .user_ids(batch))
    }

    /// How many requests [`Users::delete`] sends for `user_ids` at this client's URL limit, so
    /// a job can state its cost before sending. An id too long for any URL is
    /// [`Error::InvalidInput`](crate::Error::InvalidInput).
    pub fn delete_requests(&self, user_ids: &[impl AsRef<str>]) -> Result<u64> {
        self.client
            .bulk_requests(segment_iam_api::Operation::DeleteUsers, &[], user_ids)
            .map(|n| n as u64)
    }

    permission_methods!(
        "user_id",
        UserId,
        user_id,
        add_permissions_to_user(AddPermissionsToUserV1Input),
        replace_permissions_for_user(ReplacePermissionsForUserV1Input)
    );
}
