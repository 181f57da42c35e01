//! Why a guard refused a change: the one type the error vocabulary
//! ([`Error::Refused`](crate::Error::Refused)) holds, kept apart from the rules in
//! [`crate::guard`] so that the errors do not depend on grants and roles.

use std::fmt;

/// The role the last-owner guard protects.
pub const OWNER_ROLE: &str = "Workspace Owner";

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
    /// Afterwards nobody would hold a plain [`OWNER_ROLE`] on the workspace ([`Ownership`](super::Ownership)),
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
