//! The live workspace, read whole and normalised for comparison: every page of every listing
//! (users, pending invites, groups, each group's members and invitees), the roles and the
//! token's workspace id, the listings concurrently within the client's read limit.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use segment_iam::api::types::PermissionV1;
use segment_iam::email::key as email_key;
use segment_iam::jobs::read::{ReadOptions, read_workspace};
use segment_iam::{Client, RoleDirectory};
use serde::Serialize;

use crate::error::Result;
use crate::grant::Grant;

/// A user as the plan sees them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct LiveUser {
    /// The user's id.
    pub id: String,
    /// Their email, as the service spells it.
    pub email: String,
    /// Their direct permissions, as (role, resource) pairs.
    pub grants: BTreeSet<Grant>,
    /// Whether some direct permission is narrowed by labels (not managed here).
    pub labelled: bool,
}

/// A group as the plan sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct LiveGroup {
    /// The group's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its permissions, as (role, resource) pairs.
    pub grants: BTreeSet<Grant>,
    /// Whether some permission is narrowed by labels (not managed here).
    pub labelled: bool,
    /// Its users' emails (every page).
    pub members: Vec<String>,
    /// Its pending invitees' emails (every page).
    pub invitees: Vec<String>,
}

impl LiveGroup {
    /// Everyone in the group, users and invitees, by [`email_key`].
    pub fn member_keys(&self) -> BTreeSet<String> {
        self.members
            .iter()
            .chain(&self.invitees)
            .map(|e| email_key(e))
            .collect()
    }
}

/// The live workspace.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Live {
    /// The token's workspace id.
    pub workspace_id: String,
    /// The workspace's roles.
    pub roles: Arc<RoleDirectory>,
    /// Every user.
    pub users: Vec<LiveUser>,
    /// Every pending invite's email.
    pub invites: Vec<String>,
    /// Every group, in the service's order.
    pub groups: Vec<LiveGroup>,
}

impl Live {
    /// Reads the live workspace: every page of every listing, `options.concurrency` group
    /// listings at a time.
    pub async fn read(client: &Client, options: &ReadOptions) -> Result<Live> {
        let (workspace, roles, state) = futures::try_join!(
            client.workspace(),
            client.roles().refresh(),
            read_workspace(client, options)
        )?;
        let users = state
            .users
            .into_iter()
            .map(|u| LiveUser {
                labelled: labelled(&u.permissions),
                grants: grants(&u.permissions),
                id: u.id,
                email: u.email,
            })
            .collect();
        let groups = state
            .groups
            .into_iter()
            .map(|g| LiveGroup {
                labelled: labelled(&g.group.permissions),
                grants: grants(&g.group.permissions),
                id: g.group.id,
                name: g.group.name,
                members: g.members.into_iter().map(|m| m.email).collect(),
                invitees: g.invitees,
            })
            .collect();
        Ok(Live {
            workspace_id: workspace.id,
            roles,
            users,
            invites: state.invites,
            groups,
        })
    }

    /// A digest of everything a plan depends on (not the service's listing order): two reads
    /// with the same digest would give the same plan.
    pub fn fingerprint(&self) -> String {
        /// A group as digested: name, pairs, labelled, members.
        type GroupDigest<'a> = (&'a str, &'a BTreeSet<Grant>, bool, BTreeSet<String>);
        #[derive(Serialize)]
        struct Canonical<'a> {
            workspace: &'a str,
            roles: BTreeMap<&'a str, &'a str>,
            users: BTreeMap<&'a str, (&'a str, &'a BTreeSet<Grant>, bool)>,
            invites: BTreeSet<String>,
            groups: BTreeMap<&'a str, GroupDigest<'a>>,
        }
        let canonical = Canonical {
            workspace: &self.workspace_id,
            roles: self
                .roles
                .roles()
                .iter()
                .map(|r| (r.id.as_str(), r.name.as_str()))
                .collect(),
            users: self
                .users
                .iter()
                .map(|u| (u.id.as_str(), (u.email.as_str(), &u.grants, u.labelled)))
                .collect(),
            invites: self.invites.iter().map(|e| email_key(e)).collect(),
            groups: self
                .groups
                .iter()
                .map(|g| {
                    (
                        g.id.as_str(),
                        (g.name.as_str(), &g.grants, g.labelled, g.member_keys()),
                    )
                })
                .collect(),
        };
        // Serialising owned, ordered maps of strings cannot fail.
        let bytes = serde_json::to_vec(&canonical).unwrap_or_default();
        format!("{:016x}", fnv1a(&bytes))
    }
}

/// Permissions as grants: (role, resource, labels).
fn grants(permissions: &[PermissionV1]) -> BTreeSet<Grant> {
    Grant::of_permissions(permissions)
}

fn labelled(permissions: &[PermissionV1]) -> bool {
    permissions
        .iter()
        .any(|p| !p.labels.is_empty() || p.resources.iter().any(|r| !r.labels.is_empty()))
}

/// FNV-1a, 64 bits: a stable digest (the same on every platform and Rust version), enough to
/// tell that a workspace changed; not a security boundary.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_reference_vectors() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
