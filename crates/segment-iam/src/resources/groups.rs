//! `client.groups()`: user groups, their members, invitees and permissions.

use std::future::Future;

use segment_iam_api::ClientIamGroupsExt;
use segment_iam_api::types::{self, MinimalUserV1, UserGroupId, UserGroupV1};

use super::group_names::{self, ResolvedGroup};
use crate::batch::BulkOutcome;
use crate::client::Client;
use crate::config::MAX_PAGE_SIZE;
use crate::error::{Error, Result};
use crate::paginate::Paginator;
use crate::validate;

/// User groups of the workspace. Get one with [`Client::groups`]; cheap to clone.
#[derive(Debug, Clone)]
pub struct Groups {
    client: Client,
}

/// A group name, parsed into the generated type that carries the document's limits.
fn group_name<T: std::str::FromStr>(name: impl AsRef<str>) -> Result<T>
where
    T::Err: std::fmt::Display,
{
    let name = name.as_ref();
    if name.trim().is_empty() {
        return Err(Error::invalid("name", "must not be empty"));
    }
    name.parse()
        .map_err(|e: T::Err| Error::invalid("name", e.to_string()))
}

fn group_id(value: impl AsRef<str>) -> Result<UserGroupId> {
    validate::id("group_id", value.as_ref())
}

impl Groups {
    pub(crate) fn new(client: Client) -> Self {
        Groups { client }
    }

    /// Every user group.
    pub fn list(&self) -> Paginator<UserGroupV1> {
        paginator!(&self.client, list_user_groups => user_groups)
    }

    /// The groups named `name` (compared case-insensitively, surrounding whitespace ignored),
    /// in the list's order: none, one, or several when groups share the name. Reads the group
    /// list (one page per 1,000 groups).
    pub fn find_by_name(
        &self,
        name: impl AsRef<str>,
    ) -> impl Future<Output = Result<Vec<UserGroupV1>>> + Send + 'static {
        let name = name.as_ref().to_string();
        let list = self.list();
        async move {
            validate::non_empty("name", &name)?;
            let groups = list.page_size(MAX_PAGE_SIZE).collect().await?;
            Ok(group_names::named(&groups, &name)
                .into_iter()
                .cloned()
                .collect())
        }
    }

    /// The group `name_or_id` names: its id, else its name compared case-insensitively
    /// ([`ResolvedGroup::among`]). An unknown name is [`Error::UnknownGroup`] with the closest
    /// names, a shared one [`Error::AmbiguousGroup`] with the ids; an id that is also some
    /// group's name is taken as the id and [`ResolvedGroup::note`] says so. Reads the group
    /// list (one page per 1,000 groups); an empty argument is refused before it.
    pub fn resolve(
        &self,
        name_or_id: impl AsRef<str>,
    ) -> impl Future<Output = Result<ResolvedGroup>> + Send + 'static {
        let all = self.resolve_all([name_or_id]);
        async move {
            all.await?
                .into_iter()
                .next()
                .ok_or_else(|| Error::invalid("group", "must not be empty"))
        }
    }

    /// Several groups by id or name ([`resolve`](Self::resolve)), from one read of the group
    /// list, in the order given; the first that fails to resolve is the error. Empty entries
    /// are refused before anything is read, and nothing is read for an empty list.
    pub fn resolve_all(
        &self,
        names_or_ids: impl IntoIterator<Item = impl AsRef<str>>,
    ) -> impl Future<Output = Result<Vec<ResolvedGroup>>> + Send + 'static {
        let given: Vec<String> = names_or_ids
            .into_iter()
            .map(|g| g.as_ref().to_string())
            .collect();
        let list = self.list();
        async move {
            for g in &given {
                validate::non_empty("group", g)?;
            }
            if given.is_empty() {
                return Ok(Vec::new());
            }
            let groups = list.page_size(MAX_PAGE_SIZE).collect().await?;
            given
                .iter()
                .map(|g| ResolvedGroup::among(&groups, g))
                .collect()
        }
    }

    /// The users in a group.
    pub fn members(&self, group_id: impl AsRef<str>) -> Paginator<MinimalUserV1> {
        paginator!(&self.client, list_users_from_user_group => users, user_group_id: "group_id" as UserGroupId = group_id)
    }

    /// The emails invited to a group who have not joined yet.
    pub fn invites(&self, group_id: impl AsRef<str>) -> Paginator<String> {
        paginator!(&self.client, list_invites_from_user_group => emails, user_group_id: "group_id" as UserGroupId = group_id)
    }

    request_methods! {
        /// One group, with its permissions.
        fn get(group_id: impl AsRef<str> => id = self::group_id(group_id)) -> UserGroupV1 {
            |api| api.get_user_group().user_group_id(id?) => user_group
        }
        /// Creates a group. A POST: sent once, retried only when it provably did not arrive.
        fn create(name: impl AsRef<str> => name = group_name(name)) -> UserGroupV1 {
            |api| api.create_user_group().body(types::CreateUserGroupV1Input { name: name? }) => user_group
        }
        /// Renames a group.
        fn rename(
            group_id: impl AsRef<str> => id = self::group_id(group_id),
            name: impl AsRef<str> => name = group_name(name),
        ) -> UserGroupV1 {
            |api| api.update_user_group().user_group_id(id?).body(types::UpdateUserGroupV1Input { name: name? }) => user_group
        }
        /// Adds users or invitees (by email) to a group.
        fn add_members(
            group_id: impl AsRef<str> => id = self::group_id(group_id),
            emails: impl IntoIterator<Item = impl AsRef<str>> => emails = validate::emails("emails", emails, true),
        ) -> UserGroupV1 {
            |api| api.add_users_to_user_group().user_group_id(id?).body(types::AddUsersToUserGroupV1Input { emails: emails? }) => user_group
        }
        /// Makes these emails the group's whole membership (an empty list empties the group).
        fn replace_members(
            group_id: impl AsRef<str> => id = self::group_id(group_id),
            emails: impl IntoIterator<Item = impl AsRef<str>> => emails = validate::emails("emails", emails, false),
        ) -> UserGroupV1 {
            |api| api.replace_users_in_user_group().user_group_id(id?).body(types::ReplaceUsersInUserGroupV1Input { emails: emails? }) => user_group
        }
    }

    /// Deletes a group (its memberships and permissions go with it).
    pub fn delete(
        &self,
        group_id: impl AsRef<str>,
    ) -> impl Future<Output = Result<()>> + Send + 'static {
        let client = self.client.clone();
        let id = self::group_id(group_id);
        async move {
            let call = client.call();
            call.delete(call.api().delete_user_group().user_group_id(id?))
                .await
        }
    }

    /// Removes users or invitees (by email) from a group, split under the URL limit; on
    /// failure the error says which were removed.
    pub fn remove_members(
        &self,
        group_id: impl AsRef<str>,
        emails: impl IntoIterator<Item = impl AsRef<str>>,
    ) -> impl Future<Output = Result<BulkOutcome>> + Send + 'static {
        let id = self::group_id(group_id);
        let emails = validate::emails("emails", emails, true);
        remove_in_chunks!(self.client.clone(), "emails", emails, [id], |api, batch| {
            api.remove_users_from_user_group()
                .user_group_id(id.clone())
                .emails(batch)
        })
    }

    /// How many requests [`Groups::remove_members`] sends for `emails` at this client's URL
    /// limit, so a job can state its cost before sending. An email too long for any URL is
    /// [`Error::InvalidInput`].
    pub fn remove_members_requests(
        &self,
        group_id: impl AsRef<str>,
        emails: &[impl AsRef<str>],
    ) -> Result<u64> {
        self.client
            .bulk_requests(
                segment_iam_api::Operation::RemoveUsersFromUserGroup,
                &[group_id.as_ref()],
                emails,
            )
            .map(|n| n as u64)
    }

    permission_methods!(
        "group_id",
        UserGroupId,
        user_group_id,
        add_permissions_to_user_group(AddPermissionsToUserGroupV1Input),
        replace_permissions_for_user_group(ReplacePermissionsForUserGroupV1Input)
    );
}
