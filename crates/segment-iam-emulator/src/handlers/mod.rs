//! Each operation's semantics, one small function per operation grouped by resource (`users`,
//! `invites`, `groups`, `permissions`, `workspace`, `labels`, `sources`; shared helpers in
//! `support`). Routing is the
//! table in `operations.rs`; `execute` dispatches.
//!
//! Semantics, where the documentation leaves room:
//!
//! * Validation is all-or-nothing: a request is checked completely (422 for malformed
//!   input, 404 for unknown ids or non-members, 409 for conflicts) before anything changes.
//! * `create_invites`: an email that already belongs to a user or a pending invite is a 409.
//! * `add_users_to_user_group` / `replace_users_in_user_group`: each email names a user or a
//!   pending invite; an unknown email is invited to the workspace (a new pending invite, with
//!   the `Non-Segment User Invited to Workspace` event) and made a member as an invitee.
//!   Adding an existing member is a no-op. `memberCount` counts users and invitees.
//! * `remove_users_from_user_group`, `delete_invites`, `delete_users`: every email / id
//!   must be a member / pending invite / user, else 404 and nothing is removed.
//! * Deleting users or invites removes their group memberships; deleting a group removes its
//!   memberships and policies.
//! * `add_permissions_*` attach one new policy per permission and answer the new policies
//!   (with `policyId`, `subjectId`, `subjectType`); `replace_permissions_*` delete every
//!   policy of the subject, attach the given ones and answer the full list.
//! * Role ids must name a known role (the default roles plus fixture roles), else 422;
//!   resource types must be one of the documented five in input.
//! * Lists are ordered by creation; `pagination.count` is optional (default 200, 1..1000).
//! * Labels: a permission (of a user, a group or an invite) may only be narrowed by a label
//!   the workspace has (else 422); a label in use on a source or narrowing a permission is
//!   not deleted (409, nothing changed).

mod audit;
mod groups;
mod invites;
mod labels;
mod permissions;
mod sources;
mod support;
mod users;
mod workspace;

use crate::operations::Operation;
use crate::pagination::CursorCodec;
use crate::query::DecodedQuery;
use crate::state::State;
use crate::wire::ApiError;

/// One request, ready to run against the state.
pub(crate) struct Call<'a> {
    pub op: Operation,
    /// The first path parameter (a user or group id), when the path has one.
    pub id: Option<&'a str>,
    /// Every path parameter, in the path's order (`deleteLabel` has two).
    pub params: &'a [String],
    pub query: &'a DecodedQuery,
    pub body: &'a [u8],
    pub strict: bool,
    pub codec: &'a CursorCodec,
}

/// A successful answer: status and the JSON body.
pub(crate) struct Success {
    pub status: u16,
    pub body: Vec<u8>,
}

/// Runs one operation. Validation errors leave the state untouched.
pub(crate) fn execute(st: &mut State, call: &Call) -> Result<Success, ApiError> {
    use Operation::*;
    match call.op {
        AddPermissionsToUser => permissions::add_to_user(st, call),
        ReplacePermissionsForUser => permissions::replace_for_user(st, call),
        CreateInvites => invites::create(st, call),
        DeleteInvites => invites::delete(st, call),
        DeleteUsers => users::delete(st, call),
        GetUser => users::get(st, call),
        ListInvites => invites::list(st, call),
        ListUserGroupsFromUser => users::groups(st, call),
        ListUsers => users::list(st, call),
        AddPermissionsToUserGroup => permissions::add_to_group(st, call),
        ReplacePermissionsForUserGroup => permissions::replace_for_group(st, call),
        AddUsersToUserGroup => groups::add_users(st, call),
        ReplaceUsersInUserGroup => groups::replace_users(st, call),
        RemoveUsersFromUserGroup => groups::remove_users(st, call),
        CreateUserGroup => groups::create(st, call),
        UpdateUserGroup => groups::rename(st, call),
        DeleteUserGroup => groups::delete(st, call),
        GetUserGroup => groups::get(st, call),
        ListUserGroups => groups::list(st, call),
        ListUsersFromUserGroup => groups::members(st, call),
        ListInvitesFromUserGroup => groups::invitees(st, call),
        ListRoles => workspace::roles(st, call),
        GetWorkspace => workspace::get(st, call),
        ListLabels => labels::list(st, call),
        CreateLabel => labels::create(st, call),
        DeleteLabel => labels::delete(st, call),
        ListSources => sources::list(st, call),
        ListAuditEvents => audit::list(st, call),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operations::route;

    #[test]
    fn routes_decode_the_path_id_and_refuse_unknown_paths() {
        assert_eq!(
            route("GET", "/users"),
            Some((Operation::ListUsers, Vec::new()))
        );
        assert_eq!(
            route("GET", "/users/a%2Fb"),
            Some((Operation::GetUser, vec!["a/b".into()]))
        );
        assert_eq!(
            route("PUT", "/group/g1/users"),
            Some((Operation::ReplaceUsersInUserGroup, vec!["g1".into()]))
        );
        assert_eq!(route("PUT", "/groups/g1/users"), None);
        assert_eq!(route("GET", "/nope"), None);
        assert_eq!(route("GET", ""), None);
    }
}
