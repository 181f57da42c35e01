//! The operations the emulator serves, as one table: each operation's documented
//! `operationId`, method and path template. Routing is derived from the table, so an operation
//! is added in one place; `tests/` checks the table equals the API document's.

/// The operations of the IAM surface, named by their documented `operationId`.
///
/// Test helpers take this type, so a misspelt operation does not compile; where a name comes
/// from text, [`FromStr`](std::str::FromStr) accepts `get_user` and `getUser` and refuses the rest.
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
    /// `list_labels`.
    ListLabels,
    /// `create_label`.
    CreateLabel,
    /// `delete_label`.
    DeleteLabel,
    /// `list_sources`.
    ListSources,
    /// `list_audit_events`.
    ListAuditEvents,
}

/// One row of the table.
struct Row {
    op: Operation,
    id: &'static str,
    /// The public documentation's spelling of the id, e.g. `getUser`.
    camel: &'static str,
    method: &'static str,
    /// The documented path; `{name}` segments are path parameters.
    path: &'static str,
}

macro_rules! table {
    ($($op:ident $id:literal $camel:literal $method:literal $path:literal;)*) => {
        const TABLE: &[Row] = &[$(Row { op: Operation::$op, id: $id, camel: $camel, method: $method, path: $path }),*];
        impl Operation {
            /// Every operation, in the table's order.
            pub const ALL: &'static [Operation] = &[$(Operation::$op),*];
        }
    };
}

table! {
    AddPermissionsToUser "add_permissions_to_user" "addPermissionsToUser" "POST" "/users/{userId}/permissions";
    ReplacePermissionsForUser "replace_permissions_for_user" "replacePermissionsForUser" "PUT" "/users/{userId}/permissions";
    CreateInvites "create_invites" "createInvites" "POST" "/invites";
    DeleteInvites "delete_invites" "deleteInvites" "DELETE" "/invites";
    DeleteUsers "delete_users" "deleteUsers" "DELETE" "/users";
    GetUser "get_user" "getUser" "GET" "/users/{userId}";
    ListInvites "list_invites" "listInvites" "GET" "/invites";
    ListUserGroupsFromUser "list_user_groups_from_user" "listUserGroupsFromUser" "GET" "/users/{userId}/groups";
    ListUsers "list_users" "listUsers" "GET" "/users";
    AddPermissionsToUserGroup "add_permissions_to_user_group" "addPermissionsToUserGroup" "POST" "/groups/{userGroupId}/permissions";
    ReplacePermissionsForUserGroup "replace_permissions_for_user_group" "replacePermissionsForUserGroup" "PUT" "/groups/{userGroupId}/permissions";
    AddUsersToUserGroup "add_users_to_user_group" "addUsersToUserGroup" "POST" "/groups/{userGroupId}/users";
    ReplaceUsersInUserGroup "replace_users_in_user_group" "replaceUsersInUserGroup" "PUT" "/group/{userGroupId}/users";
    RemoveUsersFromUserGroup "remove_users_from_user_group" "removeUsersFromUserGroup" "DELETE" "/group/{userGroupId}/users";
    CreateUserGroup "create_user_group" "createUserGroup" "POST" "/groups";
    UpdateUserGroup "update_user_group" "updateUserGroup" "PATCH" "/groups/{userGroupId}";
    DeleteUserGroup "delete_user_group" "deleteUserGroup" "DELETE" "/groups/{userGroupId}";
    GetUserGroup "get_user_group" "getUserGroup" "GET" "/groups/{userGroupId}";
    ListUserGroups "list_user_groups" "listUserGroups" "GET" "/groups";
    ListUsersFromUserGroup "list_users_from_user_group" "listUsersFromUserGroup" "GET" "/groups/{userGroupId}/users";
    ListInvitesFromUserGroup "list_invites_from_user_group" "listInvitesFromUserGroup" "GET" "/groups/{userGroupId}/invites";
    ListRoles "list_roles" "listRoles" "GET" "/roles";
    GetWorkspace "get_workspace" "getWorkspace" "GET" "/";
    ListLabels "list_labels" "listLabels" "GET" "/labels";
    CreateLabel "create_label" "createLabel" "POST" "/labels";
    DeleteLabel "delete_label" "deleteLabel" "DELETE" "/labels/{key}/{value}";
    ListSources "list_sources" "listSources" "GET" "/sources";
    ListAuditEvents "list_audit_events" "listAuditEvents" "GET" "/audit-events";
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

    /// Whether the operation answers a page of a list (`listLabels` is a list but not
    /// paginated: it answers every label at once).
    pub fn is_list(self) -> bool {
        self.method() == "GET" && self.id().starts_with("list_") && self != Self::ListLabels
    }

    /// The array query parameter the operation reads, if any.
    pub fn query_array(self) -> Option<&'static str> {
        match self {
            Self::DeleteInvites | Self::RemoveUsersFromUserGroup => Some("emails"),
            Self::DeleteUsers => Some("userIds"),
            _ => None,
        }
    }

    /// The `operationId` as the public documentation spells it, e.g. `getUser`.
    pub fn camel_id(self) -> &'static str {
        self.row().camel
    }
}

/// An operation name that names none of the [`Operation`]s, with the names that do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownOperation {
    /// The name as given.
    pub name: String,
}

impl std::fmt::Display for UnknownOperation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "unknown operation `{}`; expected one of (snake_case or camelCase): ",
            self.name
        )?;
        for (i, row) in TABLE.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            write!(f, "{sep}{} ({})", row.id, row.camel)?;
        }
        Ok(())
    }
}

impl std::error::Error for UnknownOperation {}

/// Text names an operation where it comes from outside the code (admin endpoints, fault
/// specs): the documentation's camelCase `operationId` (`getUser`) and the snake_case one
/// (`get_user`) are both accepted; anything else is refused, never matched to nothing.
impl std::str::FromStr for Operation {
    type Err = UnknownOperation;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        TABLE
            .iter()
            .find(|r| r.id == name || r.camel == name)
            .map(|r| r.op)
            .ok_or_else(|| UnknownOperation {
                name: name.to_string(),
            })
    }
}

/// The snake_case `operationId`, as the journal records it.
impl std::fmt::Display for Operation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// Written as the snake_case `operationId` (the journal's JSON form).
impl serde::Serialize for Operation {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.id())
    }
}

/// Read from either spelling [`FromStr`](std::str::FromStr) accepts.
impl<'de> serde::Deserialize<'de> for Operation {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        name.parse().map_err(serde::de::Error::custom)
    }
}

/// Finds the operation for a method and a raw (still percent-encoded) path, with its decoded
/// path parameters in order: the first row whose method matches and whose template's segments
/// match the path's (a `{...}` segment takes any segment, even empty). `None` for unknown
/// routes.
pub(crate) fn route(method: &str, path: &str) -> Option<(Operation, Vec<String>)> {
    let segments: Vec<&str> = path.strip_prefix('/')?.split('/').collect();
    TABLE.iter().filter(|r| r.method == method).find_map(|row| {
        let template: Vec<&str> = row.path.trim_start_matches('/').split('/').collect();
        if template.len() != segments.len() {
            return None;
        }
        let mut params = Vec::new();
        for (t, s) in template.iter().zip(&segments) {
            if t.starts_with('{') {
                // An empty parameter is routed: the handler refuses it with a 422 naming it.
                params.push(
                    percent_encoding::percent_decode_str(s)
                        .decode_utf8_lossy()
                        .into_owned(),
                );
            } else if t != s {
                return None;
            }
        }
        Some((row.op, params))
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
                .replace("{userGroupId}", "u%201")
                .replace("{key}", "u%201")
                .replace("{value}", "u%201");
            let params = vec!["u 1".to_string(); op.path().matches('{').count()];
            assert_eq!(route(op.method(), &path), Some((*op, params)), "{op:?}");
            assert_eq!(op.id().parse(), Ok(*op));
        }
        assert_eq!(
            route("GET", "/users/"),
            Some((Operation::GetUser, vec![String::new()]))
        );
        assert_eq!(
            route("DELETE", "/labels/environment/prod"),
            Some((
                Operation::DeleteLabel,
                vec!["environment".to_string(), "prod".to_string()]
            ))
        );
        assert_eq!(route("DELETE", "/labels/environment"), None);
        assert_eq!(route("GET", "/nope"), None);
        assert_eq!(route("POST", "/"), None);
        assert_eq!(
            route("GET", "/").map(|r| r.0),
            Some(Operation::GetWorkspace)
        );
        assert!(Operation::ListSources.is_list());
        assert!(!Operation::ListLabels.is_list());
        assert!(Operation::CreateLabel.is_mutation() && Operation::DeleteLabel.is_mutation());
    }

    #[test]
    fn names_parse_in_snake_case_and_camel_case() {
        for op in Operation::ALL {
            let camel: String = op
                .id()
                .split('_')
                .enumerate()
                .map(|(i, w)| {
                    let mut c = w.chars();
                    match (i, c.next()) {
                        (0, _) | (_, None) => w.to_string(),
                        (_, Some(first)) => first.to_ascii_uppercase().to_string() + c.as_str(),
                    }
                })
                .collect();
            assert_eq!(op.camel_id(), camel, "{op:?}");
            assert_eq!(op.id().parse::<Operation>(), Ok(*op));
            assert_eq!(op.camel_id().parse::<Operation>(), Ok(*op));
            assert_eq!(op.to_string(), op.id());
        }
        assert_eq!("createInvites".parse(), Ok(Operation::CreateInvites));
        assert_eq!("create_invites".parse(), Ok(Operation::CreateInvites));
    }

    #[test]
    fn an_unknown_name_is_refused_with_the_valid_names() {
        for bad in ["getUsers", "GetUser", "get-user", "", "get_user "] {
            let e = bad.parse::<Operation>().expect_err(bad);
            assert_eq!(e.name, bad);
            let text = e.to_string();
            assert!(text.contains("get_user (getUser)"), "{text}");
            assert!(text.contains("list_roles (listRoles)"), "{text}");
        }
    }

    #[test]
    fn serde_writes_snake_case_and_reads_both() {
        let json = serde_json::to_string(&Operation::ListUsers).expect("serialize");
        assert_eq!(json, "\"list_users\"");
        for text in ["\"list_users\"", "\"listUsers\""] {
            let op: Operation = serde_json::from_str(text).expect(text);
            assert_eq!(op, Operation::ListUsers);
        }
        assert!(serde_json::from_str::<Operation>("\"listUser\"").is_err());
    }
}
