//! The live workspace, read whole and normalised for comparison: every page of every listing
//! (users, pending invites, groups, each group's members and invitees), the roles, the labels
//! and the token's workspace id, the listings concurrently within the client's read limit.
//! The sources (for the labels they carry) only when a file may delete labels
//! ([`Live::read_for`]).

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use futures::TryStreamExt;
use segment_iam::api::types::PermissionV1;
use segment_iam::email::key as email_key;
use segment_iam::jobs::read::{ReadOptions, read_workspace};
use segment_iam::{Client, Label, RoleDirectory, Source};
use serde::Serialize;

use crate::error::Result;
use crate::file::AccessFile;
use crate::grant::Grant;

/// A user as the plan sees them.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct LiveUser {
    /// The user's id.
    pub id: String,
    /// Their email, as the service spells it.
    pub email: String,
    /// Their direct permissions, as grants (role, resource, labels).
    pub grants: BTreeSet<Grant>,
}

/// A group as the plan sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[non_exhaustive]
pub struct LiveGroup {
    /// The group's id.
    pub id: String,
    /// Its name.
    pub name: String,
    /// Its permissions, as grants (role, resource, labels).
    pub grants: BTreeSet<Grant>,
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
    /// The workspace's labels.
    pub labels: BTreeSet<Label>,
    /// Every label some source carries; `None` when the sources were not read (they are
    /// only needed to delete labels, see [`Live::read_for`]).
    pub source_labels: Option<BTreeSet<Label>>,
}

impl Live {
    /// Reads the live workspace: every page of every listing, `options.concurrency` group
    /// listings at a time.
    pub async fn read(client: &Client, options: &ReadOptions) -> Result<Live> {
        let (workspace, roles, labels, state) = futures::try_join!(
            client.workspace(),
            client.roles().refresh(),
            client.labels().list(),
            read_workspace(client, options)
        )?;
        let users = state
            .users
            .into_iter()
            .map(|u| LiveUser {
                grants: grants(&u.permissions),
                id: u.id,
                email: u.email,
            })
            .collect();
        let groups = state
            .groups
            .into_iter()
            .map(|g| LiveGroup {
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
            labels: labels.into_iter().map(|l| l.label).collect(),
            source_labels: None,
        })
    }

    /// Reads the live workspace as `file` needs it: [`Live::read`], then the sources when
    /// the file may delete labels ([`Live::needs_sources`]).
    pub async fn read_for(
        client: &Client,
        file: &AccessFile,
        options: &ReadOptions,
    ) -> Result<Live> {
        let mut live = Live::read(client, options).await?;
        if live.needs_sources(file) {
            live.read_sources(client).await?;
        }
        Ok(live)
    }

    /// Whether planning `file` needs the sources' labels: it prunes labels and some live
    /// label is not listed (a deletion is considered, and a label on a source is in use).
    pub fn needs_sources(&self, file: &AccessFile) -> bool {
        if !file.prune.labels || self.source_labels.is_some() {
            return false;
        }
        // A malformed listed label fails the plan anyway; reading more would not help.
        let listed = file.listed_labels().unwrap_or_default();
        self.labels.iter().any(|l| !listed.contains(l))
    }

    /// Reads every source (every page) for the labels they carry.
    pub async fn read_sources(&mut self, client: &Client) -> Result<()> {
        let sources: Vec<Source> = client.sources().list_labelled().try_collect().await?;
        self.source_labels = Some(sources.into_iter().flat_map(|s| s.labels).collect());
        Ok(())
    }

    /// A digest of everything a plan depends on (not the service's listing order): two reads
    /// with the same digest would give the same plan. Labels are covered; the sources are not
    /// (read only when a file deletes labels, and the service refuses to delete a label a
    /// source took since).
    pub fn fingerprint(&self) -> String {
        /// A group as digested: name, grants, members.
        type GroupDigest<'a> = (&'a str, &'a BTreeSet<Grant>, BTreeSet<String>);
        #[derive(Serialize)]
        struct Canonical<'a> {
            workspace: &'a str,
            roles: BTreeMap<&'a str, &'a str>,
            users: BTreeMap<&'a str, (&'a str, &'a BTreeSet<Grant>)>,
            invites: BTreeSet<String>,
            groups: BTreeMap<&'a str, GroupDigest<'a>>,
            labels: &'a BTreeSet<Label>,
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
                .map(|u| (u.id.as_str(), (u.email.as_str(), &u.grants)))
                .collect(),
            invites: self.invites.iter().map(|e| email_key(e)).collect(),
            groups: self
                .groups
                .iter()
                .map(|g| (g.id.as_str(), (g.name.as_str(), &g.grants, g.member_keys())))
                .collect(),
            labels: &self.labels,
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
