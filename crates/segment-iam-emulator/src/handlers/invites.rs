//! `/invites`: list, create (409 for a known email), bulk withdraw.

use super::support::*;

/// `ListInvites`.
pub(super) fn list(st: &mut State, call: &Call) -> Result<Success, ApiError> {
    let request = PageRequest::parse(call.query, call.strict)?;
    let page = request
        .start(call.codec, ListKind::Invites, 0)?
        .slice(&st.invites);
    let invites: Vec<&str> = page
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
    let pagination = page.out;
    ok(
        200,
        data_body(&Out {
            invites,
            pagination,
        }),
    )
}

/// `CreateInvites`.
pub(super) fn create(st: &mut State, call: &Call) -> Result<Success, ApiError> {
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
                        let (id, ty) = parse_resource(RESOURCE_TYPES, as_object(r, &rp)?, &rp)?;
                        resources.push(Resource {
                            id,
                            resource_type: ty,
                        });
                    }
                }
                let labels = parse_labels(po, &pp)?;
                check_known_labels(st, &labels, &format!("{pp}.labels"))?;
                perms.push(InvitePermission {
                    role_id: role.to_string(),
                    resources,
                    labels,
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
        st.audit(
            "Non-Segment User Invited to Workspace",
            AuditResource::invite(&email),
            email.clone(),
            "",
        );
        for _ in 0..n {
            st.audit(
                "Policy Created",
                AuditResource::invite(&email),
                email.clone(),
                "invite",
            );
        }
        emails.push(email);
    }
    #[derive(Serialize)]
    struct Out {
        emails: Vec<String>,
    }
    ok(201, data_body(&Out { emails }))
}

/// `DeleteInvites`.
pub(super) fn delete(st: &mut State, call: &Call) -> Result<Success, ApiError> {
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
