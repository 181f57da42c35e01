//! `/groups` and `/group`: the group itself, its members and invitees.

use super::support::*;

/// `ListUserGroups`.
pub(super) fn list(st: &mut State, call: &Call) -> Result<Success, ApiError> {
    let request = PageRequest::parse(call.query, call.strict)?;
    let page = request
        .start(call.codec, ListKind::Groups, 0)?
        .slice(&st.groups);
    let groups: Vec<UserGroupV1> = page.items.iter().filter_map(|s| group_v1(st, *s)).collect();
    #[derive(Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Out<'a> {
        user_groups: Vec<UserGroupV1<'a>>,
        pagination: PageOut,
    }
    let pagination = page.out;
    ok(
        200,
        data_body(&Out {
            user_groups: groups,
            pagination,
        }),
    )
}

/// `ListUsersFromUserGroup`.
pub(super) fn members(st: &mut State, call: &Call) -> Result<Success, ApiError> {
    let id = path_id(call, "userGroupId")?;
    let request = PageRequest::parse(call.query, call.strict)?;
    let gseq = group_seq(st, id)?;
    let start = request.start(call.codec, ListKind::UsersOfGroup, gseq)?;
    let g = &st.groups[&gseq];
    let page = start.slice(&g.users);
    let users: Vec<MinimalUserV1> = page
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
    let pagination = page.out;
    ok(200, data_body(&Out { users, pagination }))
}

/// `ListInvitesFromUserGroup`.
pub(super) fn invitees(st: &mut State, call: &Call) -> Result<Success, ApiError> {
    let id = path_id(call, "userGroupId")?;
    let request = PageRequest::parse(call.query, call.strict)?;
    let gseq = group_seq(st, id)?;
    let start = request.start(call.codec, ListKind::InvitesOfGroup, gseq)?;
    let g = &st.groups[&gseq];
    let page = start.slice(&g.invites);
    let emails: Vec<&str> = page
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
    let pagination = page.out;
    ok(200, data_body(&Out { emails, pagination }))
}

/// `GetUserGroup`.
pub(super) fn get(st: &mut State, call: &Call) -> Result<Success, ApiError> {
    let id = path_id(call, "userGroupId")?;
    let gseq = group_seq(st, id)?;
    user_group_success(st, gseq)
}

/// `AddUsersToUserGroup`.
pub(super) fn add_users(st: &mut State, call: &Call) -> Result<Success, ApiError> {
    change_members(st, call, false)
}

/// `ReplaceUsersInUserGroup`.
pub(super) fn replace_users(st: &mut State, call: &Call) -> Result<Success, ApiError> {
    change_members(st, call, true)
}

/// Adds the body's emails to the group in the path (with `replace`, also removes every other
/// member).
fn change_members(st: &mut State, call: &Call, replace: bool) -> Result<Success, ApiError> {
    let id = path_id(call, "userGroupId")?;
    let emails = parse_body_emails(call.body)?;
    let gseq = group_seq(st, id)?;
    let members = resolve_or_invite(st, &emails);
    if replace {
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
            let group = st.group_resource(gseq);
            st.audit("Group Memberships Deleted", group, gid, removed.join(","));
        }
    }
    add_members(st, gseq, &members);
    user_group_success(st, gseq)
}

/// `RemoveUsersFromUserGroup`.
pub(super) fn remove_users(st: &mut State, call: &Call) -> Result<Success, ApiError> {
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
            if let Member::User(u) = m {
                let user = st.user_resource(u);
                st.audit(
                    "User Removed From User Group",
                    user,
                    subject.clone(),
                    gid.clone(),
                );
            }
            removed.push(subject);
        }
    }
    if !removed.is_empty() {
        let group = st.group_resource(gseq);
        st.audit("Group Memberships Deleted", group, gid, removed.join(","));
    }
    status_success()
}

/// `CreateUserGroup`.
pub(super) fn create(st: &mut State, call: &Call) -> Result<Success, ApiError> {
    let name = parse_group_name(call.body)?;
    if group_name_taken(st, &name, None) {
        return Err(ApiError::conflict(
            "name",
            format!("a user group named `{name}` exists"),
        ));
    }
    let gid = st.new_group_id();
    let seq = st.insert_group(gid.clone(), name.clone());
    st.audit(
        "User Group Created",
        AuditResource::group(gid.clone(), name.clone()),
        gid,
        name,
    );
    user_group_success(st, seq)
}

/// `UpdateUserGroup`.
pub(super) fn rename(st: &mut State, call: &Call) -> Result<Success, ApiError> {
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
    st.audit(
        "User Group Updated",
        AuditResource::group(id.to_string(), name.clone()),
        id.to_string(),
        name,
    );
    user_group_success(st, gseq)
}

/// `DeleteUserGroup`.
pub(super) fn delete(st: &mut State, call: &Call) -> Result<Success, ApiError> {
    let id = path_id(call, "userGroupId")?;
    let gseq = group_seq(st, id)?;
    st.delete_group(gseq);
    status_success()
}

/// Resolves emails to members, inviting unknown ones (after validation only).
fn resolve_or_invite(st: &mut State, emails: &[String]) -> Vec<Member> {
    emails
        .iter()
        .map(|e| match st.member_by_email(e) {
            Some(m) => m,
            None => {
                let seq = st.insert_invite(e.clone(), Vec::new());
                st.audit(
                    "Non-Segment User Invited to Workspace",
                    AuditResource::invite(e),
                    e.clone(),
                    "",
                );
                Member::Invite(seq)
            }
        })
        .collect()
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
            if let Member::User(u) = m {
                let subject = member_subject(st, m);
                let user = st.user_resource(u);
                st.audit("User Added To User Group", user, subject, gid.clone());
            }
        }
    }
    if added > 0 {
        let group = st.group_resource(gseq);
        st.audit(
            "Subjects Added to Group",
            group,
            gid,
            format!("{added} subjects"),
        );
    }
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

/// Whether `name` is another group's, so that a creation or rename must be refused; never
/// with `allow_duplicate_group_names`.
fn group_name_taken(st: &State, name: &str, except: Option<u64>) -> bool {
    !st.allow_duplicate_group_names
        && st
            .groups
            .iter()
            .any(|(seq, g)| Some(*seq) != except && g.name == name)
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

fn user_group_success(st: &State, seq: u64) -> Result<Success, ApiError> {
    let g = group_v1(st, seq).ok_or_else(|| ApiError::not_found("user group not found"))?;
    ok(200, data_body(&UserGroupOut { user_group: g }))
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
