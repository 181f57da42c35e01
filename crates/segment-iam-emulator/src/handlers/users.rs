//! `/users`: list, get, bulk delete, and a user's groups.

use super::support::*;

/// `GetUser`.
pub(super) fn get(st: &mut State, call: &Call) -> Result<Success, ApiError> {
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

/// `ListUsers`.
pub(super) fn list(st: &mut State, call: &Call) -> Result<Success, ApiError> {
    let request = PageRequest::parse(call.query, call.strict)?;
    let page = request
        .start(call.codec, ListKind::Users, 0)?
        .slice(&st.users);
    let users: Vec<UserV1> = page
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
    let pagination = page.out;
    ok(200, data_body(&Out { users, pagination }))
}

/// `ListUserGroupsFromUser`.
pub(super) fn groups(st: &mut State, call: &Call) -> Result<Success, ApiError> {
    let id = path_id(call, "userId")?;
    let request = PageRequest::parse(call.query, call.strict)?;
    let useq = user_seq(st, id)?;
    let start = request.start(call.codec, ListKind::GroupsOfUser, useq)?;
    let u = &st.users[&useq];
    let page = start.slice(&u.groups);
    let groups: Vec<MinimalUserGroupV1> = page
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
    let pagination = page.out;
    ok(200, data_body(&Out { groups, pagination }))
}

/// `DeleteUsers`.
pub(super) fn delete(st: &mut State, call: &Call) -> Result<Success, ApiError> {
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
