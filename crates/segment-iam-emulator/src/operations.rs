//! The operations the emulator serves, as one table: each operation's documented
//! `operationId`, method and path template. Routing is derived from the table, so an operation
//! is added in one place; `tests/` checks the table equals the API document's.

/// The operations of the IAM surface, named by their documented `operationId`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Operation {
    /// `add_permissions_to_user`.
    AddPermissionsToUser,
    /// `replace_permissions_for_user`.
    ReplacePermissionsForUser,
    /// `create_invites`.
    CreateInvites,
    /// `delete_invites`.
    DeleteInvites,
    /// `delete_users`.
    DeleteUsers,
    /// `get_user`.
    GetUser,
    /// `list_invites`.
    ListInvites,
    /// `list_user_groups_from_user`.
    ListUserGroupsFromUser,
    /// `list_users`.
    ListUsers,
    /// `add_permissions_to_user_group`.
    AddPermissionsToUserGroup,
    /// `replace_permissions_for_user_group`.
    ReplacePermissionsForUserGroup,
    /// `add_users_to_user_group`.
    AddUsersToUserGroup,
    /// `replace_users_in_user_group`.
    ReplaceUsersInUserGroup,
    /// `remove_users_from_user_group`.
    RemoveUsersFromUserGroup,
    /// `create_user_group`.
    CreateUserGroup,
    /// `update_user_group`.
    UpdateUserGroup,
    /// `delete_user_group`.
    DeleteUserGroup,
    /// `get_user_group`.
    GetUserGroup,
    /// `list_user_groups`.
    ListUserGroups,
    /// `list_users_from_user_group`.
    ListUsersFromUserGroup,
    /// `list_invites_from_user_group`.
    ListInvitesFromUserGroup,
    /// `list_roles`.
    ListRoles,
    /// `get_workspace`.
    GetWorkspace,
}

/// One row of the table.
struct Row {
    op: Operation,
    id: &'static str,
    method: &'static str,
    /// The documented path; `{name}` segments are the path id.
    path: &'static str,
}

macro_rules! table {
    ($($op:ident $id:literal $method:literal $path:literal;)*) => {
        const TABLE: &[Row] = &[$(Row { op: Operation::$op, id: $id, method: $method, path: $path }),*];
        impl Operation {
            /// Every operation, in the table's order.
            pub const ALL: &'static [Operation] = &[$(Operation::$op),*];
        }
    };
}

table! {
    AddPermissionsToUser "add_permissions_to_user" "POST" "/users/{userId}/permissions";
    ReplacePermissionsForUser "replace_permissions_for_user" "PUT" "/users/{userId}/permissions";
    CreateInvites "create_invites" "POST" "/invites";
    DeleteInvites "delete_invites" "DELETE" "/invites";
    DeleteUsers "delete_users" "DELETE" "/users";
    GetUser "get_user" "GET" "/users/{userId}";
    ListInvites "list_invites" "GET" "/invites";
    ListUserGroupsFromUser "list_user_groups_from_user" "GET" "/users/{userId}/groups";
    ListUsers "list_users" "GET" "/users";
    AddPermissionsToUserGroup "add_permissions_to_user_group" "POST" "/groups/{userGroupId}/permissions";
    ReplacePermissionsForUserGroup "replace_permissions_for_user_group" "PUT" "/groups/{userGroupId}/permissions";
    AddUsersToUserGroup "add_users_to_user_group" "POST" "/groups/{userGroupId}/users";
    ReplaceUsersInUserGroup "replace_users_in_user_group" "PUT" "/group/{userGroupId}/users";
    RemoveUsersFromUserGroup "remove_users_from_user_group" "DELETE" "/group/{userGroupId}/users";
    CreateUserGroup "create_user_group" "POST" "/groups";
    UpdateUserGroup "update_user_group" "PATCH" "/groups/{userGroupId}";
    DeleteUserGroup "delete_user_group" "DELETE" "/groups/{userGroupId}";
    GetUserGroup "get_user_group" "GET" "/groups/{userGroupId}";
    ListUserGroups "list_user_groups" "GET" "/groups";
    ListUsersFromUserGroup "list_users_from_user_group" "GET" "/groups/{userGroupId}/users";
    ListInvitesFromUserGroup "list_invites_from_user_group" "GET" "/groups/{userGroupId}/invites";
    ListRoles "list_roles" "GET" "/roles";
    GetWorkspace "get_workspace" "GET" "/";
}

impl Operation {
    fn row(self) -> &'static Row {
        // Every variant has a row: the macro writes both from one list.
        TABLE.iter().find(|r| r.op == self).unwrap_or(&TABLE[0])
    }

    /// The documented `operationId`, e.g. `get_user`.
    pub fn id(self) -> &'static str {
        self.row().id
    }

    /// The HTTP method.
    pub fn method(self) -> &'static str {
        self.row().method
    }

    /// The documented path template, e.g. `/users/{userId}`.
    pub fn path(self) -> &'static str {
        self.row().path
    }

    /// Whether the operation changes state (and falls in the 60/window bucket).
    pub fn is_mutation(self) -> bool {
        self.method() != "GET"
    }

    /// Whether the operation answers a page of a list.
    pub fn is_list(self) -> bool {
        self.method() == "GET" && self.id().starts_with("list_")
    }

    /// The array query parameter the operation reads, if any.
    pub fn query_array(self) -> Option<&'static str> {
        match self {
            Self::DeleteInvites | Self::RemoveUsersFromUserGroup => Some("emails"),
            Self::DeleteUsers => Some("userIds"),
            _ => None,
        }
    }

    /// Looks an operation up by its `operationId`.
    pub fn from_id(id: &str) -> Option<Self> {
        TABLE.iter().find(|r| r.id == id).map(|r| r.op)
    }
}

/// Finds the operation for a method and a raw (still percent-encoded) path, with its decoded
/// path id: the first row whose method matches and whose template's segments match the path's
/// (a `{...}` segment takes any segment, even empty, as the id). `None` for unknown routes.
pub(crate) fn route(method: &str, path: &str) -> Option<(Operation, Option<String>)> {
    let segments: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
    TABLE.iter().filter(|r| r.method == method).find_map(|row| {
        let template: Vec<&str> = row.path.trim_start_matches('/').split('/').collect();
        if template.len() != segments.len() {
            return None;
        }
        let mut id = None;
        for (t, s) in template.iter().zip(&segments) {
            if t.starts_with('{') {
                // An empty id is routed: the handler refuses it with a 422 naming the field.
                id = Some(
                    percent_encoding::percent_decode_str(s)
                        .decode_utf8_lossy()
                        .into_owned(),
                );
            } else if t != s {
                return None;
            }
        }
        Some((row.op, id))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_routes_back_to_itself() {
        assert_eq!(Operation::ALL.len(), TABLE.len());
        for op in Operation::ALL {
            let path = op
                .path()
                .replace("{userId}", "u%201")
                .replace("{userGroupId}", "u%201");
            let id = op.path().contains('{').then(|| "u 1".to_string());
            assert_eq!(route(op.method(), &path), Some((*op, id)), "{op:?}");
            assert_eq!(Operation::from_id(op.id()), Some(*op));
        }
        assert_eq!(
            route("GET", "/users/"),
            Some((Operation::GetUser, Some(String::new())))
        );
        assert_eq!(route("GET", "/nope"), None);
        assert_eq!(route("POST", "/"), None);
        assert_eq!(
            route("GET", "/").map(|r| r.0),
            Some(Operation::GetWorkspace)
        );
    }
}
