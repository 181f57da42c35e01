//! The 21 operations: routing by method and path, and each operation's semantics.
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

fn group_v1(st: &State, seq: u64) -> Option<UserGroupV1<'_>> {
    let g = st.groups.get(&seq)?;
    Some(UserGroupV1 {
        id: &g.id,
        name: &g.name,
        member_count: g.member_count(),
        permissions: perms(st, &g.policies),
    })
}

fn ok(status: u16, body: Vec<u8>) -> Result<Success, ApiError> {
    Ok(Success { status, body })
}

fn status_success() -> Result<Success, ApiError> {
    ok(200, data_body(&StatusOut { status: "SUCCESS" }))
}

fn user_group_success(st: &State, seq: u64) -> Result<Success, ApiError> {
    let g = group_v1(st, seq).ok_or_else(|| ApiError::not_found("user group not found"))?;
    ok(200, data_body(&UserGroupOut { user_group: g }))
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

/// `{permissions: [PermissionInputV1]}`.
fn parse_permissions(
    st: &State,
    body: &[u8],
) -> Result<Vec<(String, Vec<PermissionResource>)>, ApiError> {
    let obj = parse_object(body)?;
    let list = req_array(&obj, "permissions", "permissions")?;
    let mut out = Vec::with_capacity(list.len());
    for (i, p) in list.iter().enumerate() {
        let pp = format!("permissions.{i}");
        let po = as_object(p, &pp)?;
        let role = req_str(po, "roleId", &format!("{pp}.roleId"))?;
        check_role(st, role, &format!("{pp}.roleId"))?;
        let resources = req_array(po, "resources", &format!("{pp}.resources"))?;
        let mut res = Vec::with_capacity(resources.len());
        for (j, r) in resources.iter().enumerate() {
            let rp = format!("{pp}.resources.{j}");
            let ro = as_object(r, &rp)?;
            let (id, ty) = parse_resource(RESOURCE_TYPES, ro, &rp)?;
            res.push(PermissionResource {
                id,
                resource_type: ty,
                labels: parse_labels(ro, &rp)?,
            });
        }
        out.push((role.to_string(), res));
    }
    Ok(out)
}

/// `{emails: [string]}`, validated and de-duplicated (case-insensitively).
fn parse_body_emails(body: &[u8]) -> Result<Vec<String>, ApiError> {
    let obj = parse_object(body)?;
    let list = req_array(&obj, "emails", "emails")?;
    let mut seen = std::collections::HashSet::new();
    let mut out = Vec::with_capacity(list.len());
    for (i, e) in list.iter().enumerate() {
        let path = format!("emails.{i}");
        let s = e
            .as_str()
            .ok_or_else(|| ApiError::invalid(&path, format!("\"{path}\" must be a string")))?;
        check_email(&path, s)?;
        if seen.insert(email_key(s)) {
            out.push(s.to_string());
        }
    }
    Ok(out)
}

fn parse_group_name(body: &[u8]) -> Result<String, ApiError> {
    let obj = parse_object(body)?;
    let name = req_str(&obj, "name", "name")?;
    if name.is_empty() {
        return Err(ApiError::invalid("name", "\"name\" must not be empty"));
    }
    if name.chars().count() > 255 {
        return Err(ApiError::invalid(
            "name",
            "\"name\" must be at most 255 characters long",
        ));
    }
    Ok(name.to_string())
}

fn group_name_taken(st: &State, name: &str, except: Option<u64>) -> bool {
    st.groups
        .iter()
        .any(|(seq, g)| Some(*seq) != except && g.name == name)
}

/// Resolves emails to members, inviting unknown ones (after validation only).
fn resolve_or_invite(st: &mut State, emails: &[String]) -> Vec<Member> {
    emails
        .iter()
        .map(|e| match st.member_by_email(e) {
            Some(m) => m,
            None => {
                let seq = st.insert_invite(e.clone(), Vec::new());
                st.audit("Non-Segment User Invited to Workspace", e.clone(), "");
                Member::Invite(seq)
            }
        })
        .collect()
}

fn member_subject(st: &State, m: Member) -> String {
    match m {
        Member::User(u) => st.users.get(&u).map(|u| u.id.clone()).unwrap_or_default(),
        Member::Invite(i) => st
            .invites
            .get(&i)
            .map(|i| i.email.clone())
            .unwrap_or_default(),
    }
}

fn add_members(st: &mut State, gseq: u64, members: &[Member]) {
    let gid = st
        .groups
        .get(&gseq)
        .map(|g| g.id.clone())
        .unwrap_or_default();
    let mut added = 0;
    for &m in members {
        if st.add_member(gseq, m) {
            added += 1;
            if let Member::User(_) = m {
                let subject = member_subject(st, m);
                st.audit("User Added To User Group", subject, gid.clone());
            }
        }
    }
    if added > 0 {
        st.audit("Subjects Added to Group", gid, format!("{added} subjects"));
    }
}

// ---- the operations ------------------------------------------------------------------

/// Runs one operation. Validation errors leave the state untouched.
pub(crate) fn execute(st: &mut State, call: &Call) -> Result<Success, ApiError> {
    use Operation::*;
    match call.op {
        GetUser => {
            let id = path_id(call, "userId")?;
            let u = &st.users[&user_seq(st, id)?];
            #[derive(Serialize)]
            struct Out<'a> {
                user: UserV1<'a>,
            }
            let user = UserV1 {
                id: &u.id,
                name: &u.name,
                email: &u.email,
                permissions: perms(st, &u.policies),
            };
            ok(200, data_body(&Out { user }))
        }
        ListUsers => {
            let (count, cursor) = page_params(call)?;
            let after = start_after(call, cursor.as_deref(), ListKind::Users, 0)?;
            let w = window(&st.users, after, count);
            let users: Vec<UserV1> = w
                .items
                .iter()
                .filter_map(|s| st.users.get(s))
                .map(|u| UserV1 {
                    id: &u.id,
                    name: &u.name,
                    email: &u.email,
                    permissions: perms(st, &u.policies),
                })
                .collect();
            #[derive(Serialize)]
            struct Out<'a> {
                users: Vec<UserV1<'a>>,
                pagination: PageOut,
            }
            let pagination = page_out(call, &w, ListKind::Users, 0, after, st.users.len());
            ok(200, data_body(&Out { users, pagination }))
        }
        ListInvites => {
            let (count, cursor) = page_params(call)?;
            let after = start_after(call, cursor.as_deref(), ListKind::Invites, 0)?;
            let w = window(&st.invites, after, count);
            let invites: Vec<&str> = w
                .items
                .iter()
                .filter_map(|s| st.invites.get(s))
                .map(|i| i.email.as_str())
                .collect();
            #[derive(Serialize)]
            struct Out<'a> {
                invites: Vec<&'a str>,
                pagination: PageOut,
            }
            let pagination = page_out(call, &w, ListKind::Invites, 0, after, st.invites.len());
            ok(
                200,
                data_body(&Out {
                    invites,
                    pagination,
                }),
            )
        }
        ListUserGroupsFromUser => {
            let id = path_id(call, "userId")?;
            let (count, cursor) = page_params(call)?;
            let useq = user_seq(st, id)?;
            let after = start_after(call, cursor.as_deref(), ListKind::GroupsOfUser, useq)?;
            let u = &st.users[&useq];
            let w = window(&u.groups, after, count);
            let groups: Vec<MinimalUserGroupV1> = w
                .items
                .iter()
                .filter_map(|s| st.groups.get(s))
                .map(|g| MinimalUserGroupV1 {
                    id: &g.id,
                    name: &g.name,
                })
                .collect();
            #[derive(Serialize)]
            struct Out<'a> {
                groups: Vec<MinimalUserGroupV1<'a>>,
                pagination: PageOut,
            }
            let pagination = page_out(
                call,
                &w,
                ListKind::GroupsOfUser,
                useq,
                after,
                u.groups.total(),
            );
            ok(200, data_body(&Out { groups, pagination }))
        }
        ListUserGroups => {
            let (count, cursor) = page_params(call)?;
            let after = start_after(call, cursor.as_deref(), ListKind::Groups, 0)?;
            let w = window(&st.groups, after, count);
            let groups: Vec<UserGroupV1> =
                w.items.iter().filter_map(|s| group_v1(st, *s)).collect();
            #[derive(Serialize)]
            #[serde(rename_all = "camelCase")]
            struct Out<'a> {
                user_groups: Vec<UserGroupV1<'a>>,
                pagination: PageOut,
            }
            let pagination = page_out(call, &w, ListKind::Groups, 0, after, st.groups.len());
            ok(
                200,
                data_body(&Out {
                    user_groups: groups,
                    pagination,
                }),
            )
        }
        ListUsersFromUserGroup => {
            let id = path_id(call, "userGroupId")?;
            let (count, cursor) = page_params(call)?;
            let gseq = group_seq(st, id)?;
            let after = start_after(call, cursor.as_deref(), ListKind::UsersOfGroup, gseq)?;
            let g = &st.groups[&gseq];
            let w = window(&g.users, after, count);
            let users: Vec<MinimalUserV1> = w
                .items
                .iter()
                .filter_map(|s| st.users.get(s))
                .map(|u| MinimalUserV1 {
                    id: &u.id,
                    name: &u.name,
                    email: &u.email,
                })
                .collect();
            #[derive(Serialize)]
            struct Out<'a> {
                users: Vec<MinimalUserV1<'a>>,
                pagination: PageOut,
            }
            let pagination = page_out(call, &w, ListKind::UsersOfGroup, gseq, after, g.users.len());
            ok(200, data_body(&Out { users, pagination }))
        }
        ListRoles => {
            let (count, cursor) = page_params(call)?;
            let after = start_after(call, cursor.as_deref(), ListKind::Roles, 0)?;
            // Roles are few: their positions (from 1) are the sequence numbers.
            let positions: std::collections::BTreeMap<u64, ()> =
                (1..=st.role_order.len() as u64).map(|n| (n, ())).collect();
            let w = window(&positions, after, count);
            #[derive(Serialize)]
            struct RoleV1<'a> {
                id: &'a str,
                name: &'a str,
                description: &'a str,
            }
            let roles: Vec<RoleV1> = w
                .items
                .iter()
                .filter_map(|n| st.role_order.get(usize::try_from(*n).ok()?.checked_sub(1)?))
                .map(|id| RoleV1 {
                    id,
                    name: st.role_name(id),
                    description: st.role_description(id),
                })
                .collect();
            #[derive(Serialize)]
            struct Out<'a> {
                roles: Vec<RoleV1<'a>>,
                pagination: PageOut,
            }
            let pagination = page_out(call, &w, ListKind::Roles, 0, after, st.role_order.len());
            ok(200, data_body(&Out { roles, pagination }))
        }
        GetWorkspace => {
            #[derive(Serialize)]
            struct Out<'a> {
                workspace: &'a crate::state::Workspace,
            }
            ok(
                200,
                data_body(&Out {
                    workspace: &st.workspace,
                }),
            )
        }
        ListInvitesFromUserGroup => {
            let id = path_id(call, "userGroupId")?;
            let (count, cursor) = page_params(call)?;
            let gseq = group_seq(st, id)?;
            let after = start_after(call, cursor.as_deref(), ListKind::InvitesOfGroup, gseq)?;
            let g = &st.groups[&gseq];
            let w = window(&g.invites, after, count);
            let emails: Vec<&str> = w
                .items
                .iter()
                .filter_map(|s| st.invites.get(s))
                .map(|i| i.email.as_str())
                .collect();
            #[derive(Serialize)]
            struct Out<'a> {
                emails: Vec<&'a str>,
                pagination: PageOut,
            }
            let pagination = page_out(
                call,
                &w,
                ListKind::InvitesOfGroup,
                gseq,
                after,
                g.invites.len(),
            );
            ok(200, data_body(&Out { emails, pagination }))
        }
        GetUserGroup => {
            let id = path_id(call, "userGroupId")?;
            let gseq = group_seq(st, id)?;
            user_group_success(st, gseq)
        }
        AddPermissionsToUser | ReplacePermissionsForUser => {
            let id = path_id(call, "userId")?;
            let input = parse_permissions(st, call.body)?;
            let useq = user_seq(st, id)?;
            let subject = Subject {
                id: st.users[&useq].id.clone(),
                kind: "user",
                updated_event: "User Policy Updated",
                not_found: "user not found",
            };
            let replace = call.op == ReplacePermissionsForUser;
            change_permissions(st, input, &subject, replace, |st| {
                st.users.get_mut(&useq).map(|u| &mut u.policies)
            })
        }
        AddPermissionsToUserGroup | ReplacePermissionsForUserGroup => {
            let id = path_id(call, "userGroupId")?;
            let input = parse_permissions(st, call.body)?;
            let gseq = group_seq(st, id)?;
            let subject = Subject {
                id: st.groups[&gseq].id.clone(),
                kind: "group",
                updated_event: "User Group Policy Updated",
                not_found: "user group not found",
            };
            let replace = call.op == ReplacePermissionsForUserGroup;
            change_permissions(st, input, &subject, replace, |st| {
                st.groups.get_mut(&gseq).map(|g| &mut g.policies)
            })
        }
        CreateInvites => {
            let obj = parse_object(call.body)?;
            let list = req_array(&obj, "invites", "invites")?;
            if list.is_empty() {
                return Err(ApiError::invalid(
                    "invites",
                    "\"invites\" must contain at least one item",
                ));
            }
            let mut seen = std::collections::HashSet::new();
            let mut parsed: Vec<(String, Vec<InvitePermission>)> = Vec::with_capacity(list.len());
            for (i, inv) in list.iter().enumerate() {
                let ip = format!("invites.{i}");
                let io = as_object(inv, &ip)?;
                let email = req_str(io, "email", &format!("{ip}.email"))?;
                check_email(&format!("{ip}.email"), email)?;
                if !seen.insert(email_key(email)) {
                    return Err(ApiError::invalid(
                        format!("{ip}.email"),
                        format!("\"{ip}.email\" is given twice"),
                    ));
                }
                let mut perms = Vec::new();
                if let Some(ps) = opt_array(io, "permissions", &format!("{ip}.permissions"))? {
                    for (j, p) in ps.iter().enumerate() {
                        let pp = format!("{ip}.permissions.{j}");
                        let po = as_object(p, &pp)?;
                        let role = req_str(po, "roleId", &format!("{pp}.roleId"))?;
                        check_role(st, role, &format!("{pp}.roleId"))?;
                        let mut resources = Vec::new();
                        if let Some(rs) = opt_array(po, "resources", &format!("{pp}.resources"))? {
                            for (k, r) in rs.iter().enumerate() {
                                let rp = format!("{pp}.resources.{k}");
                                let (id, ty) =
                                    parse_resource(RESOURCE_TYPES, as_object(r, &rp)?, &rp)?;
                                resources.push(Resource {
                                    id,
                                    resource_type: ty,
                                });
                            }
                        }
                        perms.push(InvitePermission {
                            role_id: role.to_string(),
                            resources,
                            labels: parse_labels(po, &pp)?,
                        });
                    }
                }
                parsed.push((email.to_string(), perms));
            }
            for (i, (email, _)) in parsed.iter().enumerate() {
                let key = email_key(email);
                if st.user_by_email.contains_key(&key) {
                    return Err(ApiError::conflict(
                        format!("invites.{i}.email"),
                        format!("`{email}` is already a user of the workspace"),
                    ));
                }
                if st.invite_by_email.contains_key(&key) {
                    return Err(ApiError::conflict(
                        format!("invites.{i}.email"),
                        format!("`{email}` is already invited"),
                    ));
                }
            }
            let mut emails = Vec::with_capacity(parsed.len());
            for (email, perms) in parsed {
                let n = perms.len();
                st.insert_invite(email.clone(), perms);
                st.audit("Non-Segment User Invited to Workspace", email.clone(), "");
                for _ in 0..n {
                    st.audit("Policy Created", email.clone(), "invite");
                }
                emails.push(email);
            }
            #[derive(Serialize)]
            struct Out {
                emails: Vec<String>,
            }
            ok(201, data_body(&Out { emails }))
        }
        DeleteInvites => {
            let emails = query_array(call, "emails")?;
            let mut seqs = Vec::with_capacity(emails.len());
            for (i, e) in emails.iter().enumerate() {
                check_email(&format!("emails.{i}"), e)?;
            }
            for e in &emails {
                let seq = st
                    .invite_by_email
                    .get(&email_key(e))
                    .copied()
                    .ok_or_else(|| ApiError::not_found(format!("no pending invite for `{e}`")))?;
                seqs.push(seq);
            }
            for s in seqs {
                st.delete_invite(s);
            }
            status_success()
        }
        DeleteUsers => {
            let ids = query_array(call, "userIds")?;
            for (i, id) in ids.iter().enumerate() {
                check_id(&format!("userIds.{i}"), id)?;
            }
            let mut seqs = Vec::with_capacity(ids.len());
            for id in &ids {
                seqs.push(user_seq(st, id)?);
            }
            for s in seqs {
                st.delete_user(s);
            }
            status_success()
        }
        AddUsersToUserGroup | ReplaceUsersInUserGroup => {
            let id = path_id(call, "userGroupId")?;
            let emails = parse_body_emails(call.body)?;
            let gseq = group_seq(st, id)?;
            let members = resolve_or_invite(st, &emails);
            if call.op == ReplaceUsersInUserGroup {
                let g = &st.groups[&gseq];
                let keep: std::collections::HashSet<Member> = members.iter().copied().collect();
                let old: Vec<Member> = g
                    .users
                    .iter()
                    .map(|u| Member::User(*u))
                    .chain(g.invites.iter().map(|i| Member::Invite(*i)))
                    .filter(|m| !keep.contains(m))
                    .collect();
                let gid = g.id.clone();
                let mut removed = Vec::new();
                for m in old {
                    st.remove_member(gseq, m);
                    removed.push(member_subject(st, m));
                }
                if !removed.is_empty() {
                    st.audit("Group Memberships Deleted", gid, removed.join(","));
                }
            }
            add_members(st, gseq, &members);
            user_group_success(st, gseq)
        }
        RemoveUsersFromUserGroup => {
            let id = path_id(call, "userGroupId")?;
            let emails = query_array(call, "emails")?;
            for (i, e) in emails.iter().enumerate() {
                check_email(&format!("emails.{i}"), e)?;
            }
            let gseq = group_seq(st, id)?;
            let mut members = Vec::with_capacity(emails.len());
            for e in &emails {
                match st.member_by_email(e) {
                    Some(m) if st.is_member(gseq, m) => members.push(m),
                    _ => {
                        return Err(ApiError::not_found(format!(
                            "`{e}` is not a member of user group `{id}`"
                        )));
                    }
                }
            }
            let gid = st.groups[&gseq].id.clone();
            let mut removed = Vec::new();
            for m in members {
                if st.remove_member(gseq, m) {
                    let subject = member_subject(st, m);
                    if let Member::User(_) = m {
                        st.audit("User Removed From User Group", subject.clone(), gid.clone());
                    }
                    removed.push(subject);
                }
            }
            if !removed.is_empty() {
                st.audit("Group Memberships Deleted", gid, removed.join(","));
            }
            status_success()
        }
        CreateUserGroup => {
            let name = parse_group_name(call.body)?;
            if group_name_taken(st, &name, None) {
                return Err(ApiError::conflict(
                    "name",
                    format!("a user group named `{name}` exists"),
                ));
            }
            let gid = st.new_group_id();
            let seq = st.insert_group(gid.clone(), name.clone());
            st.audit("User Group Created", gid, name);
            user_group_success(st, seq)
        }
        UpdateUserGroup => {
            let id = path_id(call, "userGroupId")?;
            let name = parse_group_name(call.body)?;
            let gseq = group_seq(st, id)?;
            if group_name_taken(st, &name, Some(gseq)) {
                return Err(ApiError::conflict(
                    "name",
                    format!("a user group named `{name}` exists"),
                ));
            }
            if let Some(g) = st.groups.get_mut(&gseq) {
                g.name = name.clone();
            }
            st.audit("User Group Updated", id.to_string(), name);
            user_group_success(st, gseq)
        }
        DeleteUserGroup => {
            let id = path_id(call, "userGroupId")?;
            let gseq = group_seq(st, id)?;
            st.delete_group(gseq);
            status_success()
        }
    }
}

/// Whose permissions a permission operation changes.
struct Subject {
    id: String,
    kind: &'static str,
    updated_event: &'static str,
    not_found: &'static str,
}

/// Adds (or, with `replace`, replaces) the policies of a user or a group: the four permission
/// operations share every step but where the subject's policies live (`policies_of`).
/// Answers with the policies created; add also shows `policyId`, `subjectId`, `subjectType`.
fn change_permissions(
    st: &mut State,
    input: Vec<(String, Vec<PermissionResource>)>,
    subject: &Subject,
    replace: bool,
    policies_of: impl Fn(&mut State) -> Option<&mut Vec<Policy>>,
) -> Result<Success, ApiError> {
    let created: Vec<Policy> = input
        .into_iter()
        .map(|(role, resources)| st.new_policy(role, resources))
        .collect();
    if replace {
        let old = policies_of(st).map(|p| p.clone()).unwrap_or_default();
        for p in &old {
            st.forget_policy(&p.id);
            st.audit("Policy Deleted", p.id.clone(), subject.id.clone());
        }
    }
    for p in &created {
        st.audit("Policy Created", p.id.clone(), subject.id.clone());
    }
    st.audit(subject.updated_event, subject.id.clone(), "");
    let policies = policies_of(st).ok_or_else(|| ApiError::not_found(subject.not_found))?;
    if replace {
        *policies = created.clone();
    } else {
        policies.extend(created.iter().cloned());
    }
    permissions_out(st, &created, &subject.id, subject.kind, !replace)
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
