//! The workspace of the token and its roles.

use super::support::*;

/// `ListRoles`.
pub(super) fn roles(st: &mut State, call: &Call) -> Result<Success, ApiError> {
    let request = PageRequest::parse(call.query, call.strict)?;
    let start = request.start(call.codec, ListKind::Roles, 0)?;
    // Roles are few: their positions (from 1) are the sequence numbers.
    let positions: std::collections::BTreeMap<u64, ()> =
        (1..=st.role_order.len() as u64).map(|n| (n, ())).collect();
    let page = start.slice(&positions);
    #[derive(Serialize)]
    struct RoleV1<'a> {
        id: &'a str,
        name: &'a str,
        description: &'a str,
    }
    let roles: Vec<RoleV1> = page
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
    let pagination = page.out;
    ok(200, data_body(&Out { roles, pagination }))
}

/// `GetWorkspace`.
pub(super) fn get(st: &mut State, _call: &Call) -> Result<Success, ApiError> {
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
