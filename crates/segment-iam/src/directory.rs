//! [`RoleDirectory`]: the workspace's roles as a value, resolvable by id or by name. Names
//! become ids here, before any mutation is sent, so a misspelt role costs one read and a typed
//! error, never a 422 half way through a job. The client keeps one, looked up once
//! ([`crate::cache`]).

use segment_iam_api::types::RoleV1;

use crate::error::{Error, Result};

/// How many close names an unknown role's error suggests.
const SUGGESTIONS: usize = 3;

/// The workspace's roles, as `listRoles` returned them, resolvable by id or by name.
#[derive(Debug, Clone, PartialEq)]
pub struct RoleDirectory {
    roles: Vec<RoleV1>,
}

impl RoleDirectory {
    /// A directory of these roles (for tests and mocks of downstream code).
    pub fn new(roles: Vec<RoleV1>) -> Self {
        RoleDirectory { roles }
    }

    /// Every role, in the service's order.
    pub fn roles(&self) -> &[RoleV1] {
        &self.roles
    }

    /// The role with this id.
    pub fn by_id(&self, id: &str) -> Option<&RoleV1> {
        self.roles.iter().find(|r| r.id == id)
    }

    /// The role named or identified by `given`: an exact id first, then a name compared
    /// case-insensitively (surrounding whitespace ignored). Two roles sharing the name are
    /// [`Error::AmbiguousRole`]; no match is [`Error::UnknownRole`] with the closest names.
    pub fn resolve(&self, given: &str) -> Result<&RoleV1> {
        let wanted = given.trim();
        if let Some(role) = self.by_id(wanted) {
            return Ok(role);
        }
        let named: Vec<&RoleV1> = self
            .roles
            .iter()
            .filter(|r| r.name.trim().to_lowercase() == wanted.to_lowercase())
            .collect();
        match named.as_slice() {
            [role] => Ok(role),
            [] => Err(Error::UnknownRole {
                given: given.to_string(),
                closest: self.closest(wanted),
            }),
            several => Err(Error::AmbiguousRole {
                given: given.to_string(),
                ids: several.iter().map(|r| r.id.clone()).collect(),
            }),
        }
    }

    /// Up to [`SUGGESTIONS`] role names nearest to `given` (Jaro-Winkler on lowercase names,
    /// which favours a shared prefix, the usual shape of a typo or a truncated name).
    fn closest(&self, given: &str) -> Vec<String> {
        let given = given.to_lowercase();
        let mut scored: Vec<(f64, &str)> = self
            .roles
            .iter()
            .map(|r| {
                let score = strsim::jaro_winkler(&given, &r.name.to_lowercase());
                (score, r.name.as_str())
            })
            .filter(|(score, _)| *score > 0.6)
            .collect();
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        let mut names: Vec<String> = Vec::new();
        for (_, name) in scored {
            if !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
            if names.len() == SUGGESTIONS {
                break;
            }
        }
        names
    }
}

impl crate::model::RoleIds for RoleDirectory {
    fn role_id(&self, given: &str) -> Result<String> {
        Ok(self.resolve(given)?.id.clone())
    }
}
#[cfg(test)]
mod tests {
    use super::*;

    fn role(id: &str, name: &str) -> RoleV1 {
        RoleV1 {
            id: id.into(),
            name: name.into(),
            description: String::new(),
        }
    }

    fn directory() -> RoleDirectory {
        RoleDirectory::new(vec![
            role("r-owner", "Workspace Owner"),
            role("r-member", "Workspace Member"),
            role("r-src", "Source Admin"),
            role("r-dup1", "Twin"),
            role("r-dup2", "twin"),
        ])
    }

    #[test]
    fn names_resolve_case_insensitively_and_ids_exactly() {
        let d = directory();
        assert_eq!(
            d.resolve("workspace OWNER").map(|r| r.id.as_str()).ok(),
            Some("r-owner")
        );
        assert_eq!(
            d.resolve("  Source Admin ").map(|r| r.id.as_str()).ok(),
            Some("r-src")
        );
        assert_eq!(
            d.resolve("r-member").map(|r| r.name.as_str()).ok(),
            Some("Workspace Member")
        );
    }

    #[test]
    fn an_unknown_name_lists_the_closest_names_first() {
        match directory().resolve("Workspace Ownr") {
            Err(Error::UnknownRole { given, closest }) => {
                assert_eq!(given, "Workspace Ownr");
                assert_eq!(closest.first().map(String::as_str), Some("Workspace Owner"));
                assert!(closest.len() <= SUGGESTIONS);
            }
            other => panic!("expected UnknownRole, got {other:?}"),
        }
        match directory().resolve("zzzzzzzz") {
            Err(Error::UnknownRole { closest, .. }) => assert!(closest.is_empty(), "{closest:?}"),
            other => panic!("expected UnknownRole, got {other:?}"),
        }
    }

    #[test]
    fn a_name_two_roles_share_is_ambiguous() {
        match directory().resolve("TWIN") {
            Err(Error::AmbiguousRole { ids, .. }) => assert_eq!(ids, ["r-dup1", "r-dup2"]),
            other => panic!("expected AmbiguousRole, got {other:?}"),
        }
    }
}
