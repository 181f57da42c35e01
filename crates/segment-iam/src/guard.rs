//! The guards every job that changes a workspace obeys, written once: the removal cap and the
//! last-owner rule. `offboard`, `apply` and every later job call these functions; the CLI only
//! asks, and reports a [`Refusal`] with the flag that overrides it.

use std::collections::BTreeSet;
use std::fmt;

use segment_iam_api::ResourceType;
use segment_iam_api::types::PermissionV1;

use crate::directory::RoleDirectory;
use crate::grant::Grant;

/// The role the last-owner guard protects.
pub const OWNER_ROLE: &str = "Workspace Owner";

/// The removal cap a job uses unless told otherwise.
pub const DEFAULT_MAX_REMOVALS: u64 = 25;

/// Why a guard refused a change. Nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The change removes more things (members, users, invites, groups, permission pairs)
    /// than the cap allows.
    RemovalCap {
        /// What the change removes.
        removals: u64,
        /// The cap in force.
        cap: u64,
    },
    /// Afterwards nobody would hold a plain [`OWNER_ROLE`] on the workspace ([`Ownership`]),
    /// directly or through a group, while someone does now.
    LastOwner {
        /// Who holds it now (emails where known, else ids), sorted.
        owners: Vec<String>,
    },
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::RemovalCap { removals, cap } => write!(
                f,
                "the change removes {removals} things (members, users, invites, groups, permissions), over the cap of {cap}"
            ),
            Refusal::LastOwner { owners } => write!(
                f,
                "afterwards nobody would hold {OWNER_ROLE:?} on the workspace unnarrowed by labels, directly or through a group (held now by {})",
                owners.join(", ")
            ),
        }
    }
}

impl std::error::Error for Refusal {}

/// How many removals a change may make before it is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RemovalCap(Option<u64>);

impl Default for RemovalCap {
    /// [`DEFAULT_MAX_REMOVALS`].
    fn default() -> Self {
        RemovalCap(Some(DEFAULT_MAX_REMOVALS))
    }
}

impl RemovalCap {
    /// At most `max` removals.
    pub fn at(max: u64) -> Self {
        RemovalCap(Some(max))
    }

    /// No cap.
    pub fn off() -> Self {
        RemovalCap(None)
    }

    /// The cap, `None` when off.
    pub fn max(self) -> Option<u64> {
        self.0
    }

    /// Refuses `removals` over the cap.
    pub fn check(self, removals: u64) -> Result<(), Refusal> {
        match self.0 {
            Some(cap) if removals > cap => Err(Refusal::RemovalCap { removals, cap }),
            _ => Ok(()),
        }
    }
}

/// Who counts as an owner for the last-owner rule: a holder of a **plain** grant of a role
/// named [`OWNER_ROLE`] (any case) on the token's workspace. A Workspace Owner grant narrowed
/// by labels reaches only the labelled resources: it does not own the workspace, and counting
/// it could lock the workspace out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ownership {
    role_ids: BTreeSet<String>,
    workspace_id: String,
}

impl Ownership {
    /// Owners hold one of `role_ids` on workspace `workspace_id`.
    pub fn new(
        role_ids: impl IntoIterator<Item = impl Into<String>>,
        workspace_id: impl Into<String>,
    ) -> Self {
        Ownership {
            role_ids: role_ids.into_iter().map(Into::into).collect(),
            workspace_id: workspace_id.into(),
        }
    }

    /// Owners hold any role of `roles` named [`OWNER_ROLE`] (any case) on `workspace_id`.
    pub fn from_roles(roles: &RoleDirectory, workspace_id: impl Into<String>) -> Self {
        let ids = roles
            .roles()
            .iter()
            .filter(|r| r.name.trim().eq_ignore_ascii_case(OWNER_ROLE))
            .map(|r| r.id.clone());
        Ownership::new(ids, workspace_id)
    }

    /// Whether this one grant makes its holder an owner: an owner role, on the workspace,
    /// not narrowed by labels.
    pub fn counts(&self, grant: &Grant) -> bool {
        !grant.is_narrowed()
            && grant.resource_type == ResourceType::Workspace.as_str()
            && grant.resource_id == self.workspace_id
            && self.role_ids.contains(&grant.role_id)
    }

    /// Whether any of these grants makes its holder an owner.
    pub fn holds<'a>(&self, grants: impl IntoIterator<Item = &'a Grant>) -> bool {
        grants.into_iter().any(|g| self.counts(g))
    }

    /// Whether any of these permissions, as the service returns them, makes its holder an
    /// owner.
    pub fn held_by(&self, permissions: &[PermissionV1]) -> bool {
        permissions
            .iter()
            .flat_map(Grant::of_permission)
            .any(|g| self.counts(&g))
    }
}

/// The last-owner rule: refuses a change after which nobody holds [`OWNER_ROLE`] on the
/// workspace while someone does now. `now` and `after` name the holders (emails or ids, the
/// same kind in both), directly or through a group. A workspace with no owner now is left as
/// it is: the rule keeps owners, it does not demand one.
pub fn last_owner<S: AsRef<str> + Ord>(
    now: &BTreeSet<S>,
    after: &BTreeSet<S>,
) -> Result<(), Refusal> {
    if !now.is_empty() && after.is_empty() {
        return Err(Refusal::LastOwner {
            owners: now.iter().map(|s| s.as_ref().to_string()).collect(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cap_allows_up_to_its_value_and_refuses_one_more() {
        assert_eq!(RemovalCap::at(3).check(3), Ok(()));
        assert_eq!(
            RemovalCap::at(3).check(4),
            Err(Refusal::RemovalCap {
                removals: 4,
                cap: 3
            })
        );
        assert_eq!(RemovalCap::off().check(u64::MAX), Ok(()));
        assert_eq!(RemovalCap::default().max(), Some(DEFAULT_MAX_REMOVALS));
        assert_eq!(RemovalCap::off().max(), None);
    }

    #[test]
    fn the_last_owner_rule_refuses_only_losing_every_owner() {
        let set = |v: &[&'static str]| v.iter().copied().collect::<BTreeSet<&str>>();
        assert_eq!(last_owner(&set(&["a", "b"]), &set(&["b"])), Ok(()));
        assert_eq!(last_owner(&set(&[]), &set(&[])), Ok(()));
        assert_eq!(last_owner(&set(&[]), &set(&["c"])), Ok(()));
        assert_eq!(
            last_owner(&set(&["b", "a"]), &set(&[])),
            Err(Refusal::LastOwner {
                owners: vec!["a".into(), "b".into()]
            })
        );
    }

    #[test]
    fn only_a_plain_owner_grant_on_this_workspace_counts() {
        let owners = Ownership::new(["own"], "w");
        let plain = Grant::new("own", "WORKSPACE", "w");
        assert!(owners.counts(&plain));
        let narrowed = plain
            .clone()
            .narrowed(["environment:prod".parse().expect("label")]);
        assert!(!owners.counts(&narrowed));
        assert!(!owners.counts(&Grant::new("own", "WORKSPACE", "other")));
        assert!(!owners.counts(&Grant::new("own", "SOURCE", "w")));
        assert!(!owners.counts(&Grant::new("reader", "WORKSPACE", "w")));
        assert!(owners.holds([&narrowed, &plain]));
        assert!(!owners.holds([&narrowed]));
    }

    #[test]
    fn refusals_say_what_and_how_much() {
        let cap = Refusal::RemovalCap {
            removals: 30,
            cap: 25,
        };
        assert!(cap.to_string().contains("30"));
        assert!(cap.to_string().contains("cap of 25"));
        let owner = Refusal::LastOwner {
            owners: vec!["ana@example.com".into()],
        };
        assert!(owner.to_string().contains("Workspace Owner"));
        assert!(owner.to_string().contains("ana@example.com"));
        assert!(owner.to_string().contains("unnarrowed"), "{owner}");
    }
}
