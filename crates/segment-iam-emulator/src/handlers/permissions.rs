//! Adding and replacing the permissions of a user or a group.

use super::support::*;

/// `AddPermissionsToUser`.
pub(super) fn add_to_user(st: &mut State, call: &Call) -> Result<Success, ApiError> {
    of_user(st, call, false)
}

/// `ReplacePermissionsForUser`.
pub(super) fn replace_for_user(st: &mut State, call: &Call) -> Result<Success, ApiError> {
    of_user(st, call, true)
}

/// `AddPermissionsToUserGroup`.
pub(super) fn add_to_group(st: &mut State, call: &Call) -> Result<Success, ApiError> {
    of_group(st, call, false)
}

/// `ReplacePermissionsForUserGroup`.
pub(super) fn replace_for_group(st: &mut State, call: &Call) -> Result<Success, ApiError> {
    of_group(st, call, true)
}

/// Adds (or, with `replace`, replaces) the permissions of the user in the path.
fn of_user(st: &mut State, call: &Call, replace: bool) -> Result<Success, ApiError> {
    let id = path_id(call, "userId")?;
    let input = parse_permissions(st, call.body)?;
    let useq = user_seq(st, id)?;
    let subject = Subject {
        id: st.users[&useq].id.clone(),
        resource: st.user_resource(useq),
        kind: "user",
        updated_event: "User Policy Updated",
        not_found: "user not found",
    };
    change_permissions(st, input, &subject, replace, |st| {
        st.users.get_mut(&useq).map(|u| &mut u.policies)
    })
}

/// Adds (or, with `replace`, replaces) the permissions of the group in the path.
fn of_group(st: &mut State, call: &Call, replace: bool) -> Result<Success, ApiError> {
    let id = path_id(call, "userGroupId")?;
    let input = parse_permissions(st, call.body)?;
    let gseq = group_seq(st, id)?;
    let subject = Subject {
        id: st.groups[&gseq].id.clone(),
        resource: st.group_resource(gseq),
        kind: "group",
        updated_event: "User Group Policy Updated",
        not_found: "user group not found",
    };
    change_permissions(st, input, &subject, replace, |st| {
        st.groups.get_mut(&gseq).map(|g| &mut g.policies)
    })
}

/// Whose permissions a permission operation changes.
struct Subject {
    id: String,
    /// The user or group, as the audit events about its policies name it.
    resource: AuditResource,
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
            st.audit(
                "Policy Deleted",
                subject.resource.clone(),
                p.id.clone(),
                subject.id.clone(),
            );
        }
    }
    for p in &created {
        st.audit(
            "Policy Created",
            subject.resource.clone(),
            p.id.clone(),
            subject.id.clone(),
        );
    }
    st.audit(
        subject.updated_event,
        subject.resource.clone(),
        subject.id.clone(),
        "",
    );
    let policies = policies_of(st).ok_or_else(|| ApiError::not_found(subject.not_found))?;
    if replace {
        *policies = created.clone();
    } else {
        policies.extend(created.iter().cloned());
    }
    permissions_out(st, &created, &subject.id, subject.kind, !replace)
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
            let labels = parse_labels(ro, &rp)?;
            check_known_labels(st, &labels, &format!("{rp}.labels"))?;
            res.push(PermissionResource {
                id,
                resource_type: ty,
                labels,
            });
        }
        out.push((role.to_string(), res));
    }
    Ok(out)
}
