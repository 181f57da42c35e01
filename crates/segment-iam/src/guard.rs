//! The guards every job that changes a workspace obeys, written once: the removal cap and the
//! last-owner rule. `offboard`, `apply` and every later job call these functions; the CLI only
//! asks, and reports a [`Refusal`] with the flag that overrides it.

use std::collections::BTreeSet;
use std::fmt;

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
    /// Afterwards nobody would hold [`OWNER_ROLE`] on the workspace, directly or through a
    /// group, while someone does now.
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
                "afterwards nobody would hold {OWNER_ROLE:?} on the workspace, directly or through a group (held now by {})",
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
    }
}
