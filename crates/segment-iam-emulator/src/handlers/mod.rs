//! Each operation's semantics, one small function per operation grouped by resource (routing is
//! the table in `operations.rs`; `execute` dispatches).
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

mod groups;
mod invites;
mod permissions;
mod users;
mod workspace;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::operations::Operation;
use crate::pagination::{CursorCodec, ListKind, Position};
use crate::query::DecodedQuery;
use crate::state::{
    InvitePermission, Label, Member, PermissionResource, Policy, RESOURCE_TYPES, Resource,
    SeqIndex, State, Window, email_key, window,
};
use crate::wire::{
    ApiError, as_object, check_email, check_id, data_body, opt_array, opt_str, parse_object,
    req_array, req_str,
};

/// One request, ready to run against the state.
pub(crate) struct Call<'a> {
    pub op: Operation,
    pub id: Option<&'a str>,
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

// ---- output shapes -----------------------------------------------------------------

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PermV1<'a> {
    role_id: &'a str,
    role_name: &'a str,
    resources: &'a [PermissionResource],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AccessPermV1<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    policy_id: Option<&'a str>,
    role_id: &'a str,
    role_name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject_type: Option<&'static str>,
    resources: &'a [PermissionResource],
}

#[derive(Serialize)]
struct UserV1<'a> {
    id: &'a str,
    name: &'a str,
    email: &'a str,
    permissions: Vec<PermV1<'a>>,
}

#[derive(Serialize)]
struct MinimalUserV1<'a> {
    id: &'a str,
    name: &'a str,
    email: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserGroupV1<'a> {
    id: &'a str,
    name: &'a str,
    member_count: usize,
    permissions: Vec<PermV1<'a>>,
}

#[derive(Serialize)]
struct MinimalUserGroupV1<'a> {
    id: &'a str,
    name: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PageOut {
    current: String,
    next: Option<String>,
    previous: Option<String>,
    total_entries: usize,
}

#[derive(Serialize)]
struct StatusOut {
    status: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct UserGroupOut<'a> {
    user_group: UserGroupV1<'a>,
}

fn perms<'a>(st: &'a State, policies: &'a [Policy]) -> Vec<PermV1<'a>> {
    policies
        .iter()
        .map(|p| PermV1 {
            role_id: &p.role_id,
            role_name: st.role_name(&p.role_id),
            resources: &p.resources,
        })
        .collect()
}

fn ok(status: u16, body: Vec<u8>) -> Result<Success, ApiError> {
    Ok(Success { status, body })
}

fn status_success() -> Result<Success, ApiError> {
    ok(200, data_body(&StatusOut { status: "SUCCESS" }))
}

// ---- input helpers -------------------------------------------------------------------

/// The page size and cursor of a list request.
fn page_params(call: &Call) -> Result<(usize, Option<String>), ApiError> {
    let to_err = |e: crate::query::QueryError| ApiError::invalid(e.field, e.message);
    let count = match call
        .query
        .field("pagination", "count", call.strict)
        .map_err(to_err)?
    {
        None => 200,
        Some(raw) => match raw.trim().parse::<i64>() {
            Ok(n) if (1..=1000).contains(&n) => n as usize,
            _ => {
                return Err(ApiError::invalid(
                    "pagination.count",
                    "\"pagination.count\" must be an integer from 1 to 1000",
                ));
            }
        },
    };
    let cursor = call
        .query
        .field("pagination", "cursor", call.strict)
        .map_err(to_err)?
        .filter(|c| !c.is_empty());
    Ok((count, cursor))
}

fn start_after(
    call: &Call,
    cursor: Option<&str>,
    kind: ListKind,
    scope: u64,
) -> Result<u64, ApiError> {
    match cursor {
        None => Ok(0),
        Some(c) => call
            .codec
            .decode(c, kind, scope)
            .map(|p| p.after)
            .ok_or_else(|| {
                ApiError::invalid(
                    "pagination.cursor",
                    "\"pagination.cursor\" is not a valid cursor",
                )
            }),
    }
}

fn page_out(
    call: &Call,
    w: &Window,
    kind: ListKind,
    scope: u64,
    after: u64,
    total: usize,
) -> PageOut {
    let enc = |after| call.codec.encode(Position { kind, scope, after });
    PageOut {
        current: enc(after),
        next: w.next_after.map(enc),
        previous: w.prev_after.map(enc),
        total_entries: total,
    }
}

fn path_id<'a>(call: &'a Call, field: &str) -> Result<&'a str, ApiError> {
    let id = call.id.unwrap_or("");
    check_id(field, id)?;
    Ok(id)
}

fn user_seq(st: &State, id: &str) -> Result<u64, ApiError> {
    st.user_by_id
        .get(id)
        .copied()
        .ok_or_else(|| ApiError::not_found(format!("user `{id}` not found")))
}

fn group_seq(st: &State, id: &str) -> Result<u64, ApiError> {
    st.group_by_id
        .get(id)
        .copied()
        .ok_or_else(|| ApiError::not_found(format!("user group `{id}` not found")))
}

fn query_array(call: &Call, name: &str) -> Result<Vec<String>, ApiError> {
    match call.query.array(name, call.strict) {
        Err(e) => Err(ApiError::invalid(e.field, e.message)),
        Ok(None) => Err(ApiError::required(name)),
        Ok(Some(v)) if v.is_empty() => Err(ApiError::invalid(
            name,
            format!("\"{name}\" must contain at least one item"),
        )),
        Ok(Some(v)) => Ok(v),
    }
}

fn parse_labels(obj: &Map<String, Value>, path: &str) -> Result<Vec<Label>, ApiError> {
    let mut out = Vec::new();
    if let Some(labels) = opt_array(obj, "labels", &format!("{path}.labels"))? {
        for (k, l) in labels.iter().enumerate() {
            let lp = format!("{path}.labels.{k}");
            let lo = as_object(l, &lp)?;
            out.push(Label {
                key: req_str(lo, "key", &format!("{lp}.key"))?.to_string(),
                value: req_str(lo, "value", &format!("{lp}.value"))?.to_string(),
                description: opt_str(lo, "description", &format!("{lp}.description"))?
                    .map(str::to_string),
            });
        }
    }
    Ok(out)
}

fn check_role(st: &State, role: &str, path: &str) -> Result<(), ApiError> {
    if role.is_empty() {
        return Err(ApiError::invalid(
            path,
            format!("\"{path}\" must not be empty"),
        ));
    }
    if !st.roles.contains_key(role) {
        return Err(ApiError::invalid(
            path,
            format!("\"{path}\": unknown role `{role}`"),
        ));
    }
    Ok(())
}

fn parse_resource(
    st_types: &[&str],
    o: &Map<String, Value>,
    path: &str,
) -> Result<(String, String), ApiError> {
    let id = req_str(o, "id", &format!("{path}.id"))?;
    check_id(&format!("{path}.id"), id)?;
    let ty = req_str(o, "type", &format!("{path}.type"))?;
    if !st_types.contains(&ty) {
        return Err(ApiError::invalid(
            format!("{path}.type"),
            format!("\"{path}.type\" must be one of {}", st_types.join(", ")),
        ));
    }
    Ok((id.to_string(), ty.to_string()))
}

/// Runs one operation. Validation errors leave the state untouched.
pub(crate) fn execute(st: &mut State, call: &Call) -> Result<Success, ApiError> {
    use Operation::*;
    match call.op {
        GetUser => users::get(st, call),
        ListUsers => users::list(st, call),
        ListInvites => invites::list(st, call),
        ListUserGroupsFromUser => users::groups(st, call),
        ListUserGroups => groups::list(st, call),
        ListUsersFromUserGroup => groups::members(st, call),
        ListRoles => workspace::roles(st, call),
        GetWorkspace => workspace::get(st, call),
        ListInvitesFromUserGroup => groups::invitees(st, call),
        GetUserGroup => groups::get(st, call),
        AddPermissionsToUser | ReplacePermissionsForUser => permissions::of_user(st, call),
        AddPermissionsToUserGroup | ReplacePermissionsForUserGroup => {
            permissions::of_group(st, call)
        }
        CreateInvites => invites::create(st, call),
        DeleteInvites => invites::delete(st, call),
        DeleteUsers => users::delete(st, call),
        AddUsersToUserGroup | ReplaceUsersInUserGroup => groups::add_or_replace_members(st, call),
        RemoveUsersFromUserGroup => groups::remove_members(st, call),
        CreateUserGroup => groups::create(st, call),
        UpdateUserGroup => groups::rename(st, call),
        DeleteUserGroup => groups::delete(st, call),
    }
}

fn permissions_out(
    st: &State,
    shown: &[Policy],
    subject: &str,
    subject_type: &'static str,
    extras: bool,
) -> Result<Success, ApiError> {
    let permissions: Vec<AccessPermV1> = shown
        .iter()
        .map(|p| AccessPermV1 {
            policy_id: extras.then_some(p.id.as_str()),
            role_id: &p.role_id,
            role_name: st.role_name(&p.role_id),
            subject_id: extras.then_some(subject),
            subject_type: extras.then_some(subject_type),
            resources: &p.resources,
        })
        .collect();
    #[derive(Serialize)]
    struct Out<'a> {
        permissions: Vec<AccessPermV1<'a>>,
    }
    ok(200, data_body(&Out { permissions }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::operations::route;

    #[test]
    fn routes() {
        assert_eq!(route("GET", "/users"), Some((Operation::ListUsers, None)));
        assert_eq!(
            route("GET", "/users/a%2Fb"),
            Some((Operation::GetUser, Some("a/b".into())))
        );
        assert_eq!(
            route("PUT", "/group/g1/users"),
            Some((Operation::ReplaceUsersInUserGroup, Some("g1".into())))
        );
        assert_eq!(route("PUT", "/groups/g1/users"), None);
        assert_eq!(route("GET", "/nope"), None);
        assert_eq!(route("GET", ""), None);
    }
}
