//! The live workspace, normalised for comparison: read whole ([`Live::read`]: every page of
//! every listing — users, pending invites, groups, each group's members and invitees — the
//! roles, the labels and the token's workspace id, the listings concurrently within the
//! client's read limit), or scoped to what a file without prune names ([`Live::read_for`],
//! [`Scoped`]). The sources (for the labels they carry) only when a file may delete labels.

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
pub use crate::scope::Scope;

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
    /// Every user (scoped: the named ones and those met on the way, see [`Scoped`]).
    pub users: Vec<LiveUser>,
    /// Every pending invite's email (scoped: likewise).
    pub invites: Vec<String>,
    /// Every group, in the service's order.
    pub groups: Vec<LiveGroup>,
    /// The workspace's labels.
    pub labels: BTreeSet<Label>,
    /// Every label some source carries; `None` when the sources were not read (they are
    /// only needed to delete labels, see [`Live::read_for`]).
    pub source_labels: Option<BTreeSet<Label>>,
    /// `None` when read whole; `Some` when read scoped to a file without prune
    /// ([`Live::read_for`]): then `users`, `invites` and the groups' `members` and `invitees`
    /// hold only what that scope needed, and [`Scoped`] says which parts were not read, so
    /// that "not read" is never taken for "absent".
    pub scope: Option<Scoped>,
    /// The read requests this read sent (retries included), as the client counted them.
    pub reads: u64,
}

impl Scope {
    /// The scope of `file`; `None` when it prunes anything (pruning needs every user, invite,
    /// group or label, so the whole workspace is read).
    pub fn of(file: &AccessFile) -> Option<Scope> {
        let prune = &file.prune;
        if prune.users || prune.groups || prune.labels {
            return None;
        }
        let users: BTreeSet<String> = file
            .users
            .iter()
            .map(|(email, _)| email_key(&email.value))
            .collect();
        let members = file
            .groups
            .iter()
            .flat_map(|(_, g)| &g.members)
            .map(|m| email_key(&m.value))
            .filter(|k| !users.contains(k))
            .collect();
        let groups = file
            .groups
            .iter()
            .map(|(name, _)| name.value.clone())
            .collect();
        Some(Scope {
            users,
            members,
            groups,
        })
    }

    /// Whether a read of this scope holds everything planning `file` needs.
    pub fn covers(&self, file: &AccessFile) -> bool {
        Scope::of(file).is_some_and(|wanted| {
            wanted.users.is_subset(&self.users)
                && wanted.groups.is_subset(&self.groups)
                && wanted
                    .members
                    .iter()
                    .all(|m| self.members.contains(m) || self.users.contains(m))
        })
    }

    /// Every person the scope names, by email key.
    pub fn people(&self) -> impl Iterator<Item = &String> {
        self.users.iter().chain(&self.members)
    }
}

/// How a scoped [`Live`] was read, and what it does not hold.
///
/// Read: the workspace, the roles, the labels and the whole group list (one page per 1,000
/// groups; it carries every group's permissions); the members and invitees of the groups the
/// file lists and of every group granting a plain Workspace Owner on the workspace; then the
/// people those listings do not show: members only need finding (the invites list page by page
/// until found, then the users list for the rest), people under `users` need their user record
/// with its permissions (the users list page by page until found, read beside the group
/// listings; then the rest of the invites list for whoever is not a user). Every list stops at the page that completes the answer.
/// So every named person is a user, a pending invitee or nobody, as in a whole read (a member
/// found among the invites who is a user too, a state the service should not hold, counts as
/// an invitee: only the last-owner guard could tell, and its refusals are decided on the whole
/// users list, see [`Live::read_for`]); every listed group has its whole membership.
///
/// Not read: the other groups' members and invitees (empty here), the users on pages after the
/// last one needed, the direct permissions of users seen only in a group listing
/// ([`Scoped::grants_unread`], empty here) — none of which a file without prune changes.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Scoped {
    /// What was asked for.
    pub scope: Scope,
    /// Ids of the groups whose members and invitees were read (listed or owner groups).
    pub groups_read: BTreeSet<String>,
    /// Ids of the users seen only in a group's listing: their `grants` are empty, unread.
    pub grants_unread: BTreeSet<String>,
    /// Whether the users list was read to its end (every user, with their permissions).
    pub users_complete: bool,
    /// The users list's cursor to go on from when it is not complete (`None`: from the start).
    pub(crate) users_next: Option<String>,
}

impl Live {
    /// Reads the live workspace: every page of every listing, `options.concurrency` group
    /// listings at a time.
    pub async fn read(client: &Client, options: &ReadOptions) -> Result<Live> {
        let before = client.metrics().requests;
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
            scope: None,
            reads: client.metrics().requests.saturating_sub(before),
        })
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
        let before = client.metrics().requests;
        let sources: Vec<Source> = client.sources().list_labelled().try_collect().await?;
        self.source_labels = Some(sources.into_iter().flat_map(|s| s.labels).collect());
        self.reads += client.metrics().requests.saturating_sub(before);
        Ok(())
    }

    /// A digest of everything a plan depends on (not the service's listing order): two reads
    /// with the same digest would give the same plan. Labels are covered; the sources are not
    /// (read only when a file deletes labels, and the service refuses to delete a label a
    /// source took since).
    pub fn fingerprint(&self) -> String {
        if let Some(scoped) = &self.scope {
            return self.scoped_fingerprint(scoped);
        }
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

impl Live {
    /// The digest of a scoped read: what the scope covers, and nothing the read met on the
    /// way (users on the pages before a named one, invites likewise), so that two reads of one
    /// scope agree whenever the scope's part of the workspace did not change, whatever the
    /// pages read. Covered: workspace, roles, labels, every group's name and grants, the
    /// memberships of the groups read ([`Scoped::groups_read`]), and each named person as a
    /// user (with their direct permissions when listed under `users`), a pending invitee or
    /// nobody.
    fn scoped_fingerprint(&self, scoped: &Scoped) -> String {
        /// A group as digested: name, grants, members when read.
        type GroupDigest<'a> = (&'a str, &'a BTreeSet<Grant>, Option<BTreeSet<String>>);
        /// A named person as digested.
        #[derive(Serialize)]
        enum Person<'a> {
            User(&'a str, &'a str, Option<&'a BTreeSet<Grant>>),
            Invitee,
            Nobody,
        }
        #[derive(Serialize)]
        struct Canonical<'a> {
            workspace: &'a str,
            roles: BTreeMap<&'a str, &'a str>,
            groups: BTreeMap<&'a str, GroupDigest<'a>>,
            people: BTreeMap<&'a str, Person<'a>>,
            labels: &'a BTreeSet<Label>,
        }
        let users: BTreeMap<String, &LiveUser> = self
            .users
            .iter()
            .map(|u| (email_key(&u.email), u))
            .collect();
        let invites: BTreeSet<String> = self.invites.iter().map(|e| email_key(e)).collect();
        let person = |key: &str| match users.get(key) {
            Some(u) => Person::User(
                &u.id,
                &u.email,
                scoped.scope.users.contains(key).then_some(&u.grants),
            ),
            None if invites.contains(key) => Person::Invitee,
            None => Person::Nobody,
        };
        let canonical = Canonical {
            workspace: &self.workspace_id,
            roles: self
                .roles
                .roles()
                .iter()
                .map(|r| (r.id.as_str(), r.name.as_str()))
                .collect(),
            groups: self
                .groups
                .iter()
                .map(|g| {
                    let read = scoped.groups_read.contains(&g.id);
                    (
                        g.id.as_str(),
                        (g.name.as_str(), &g.grants, read.then(|| g.member_keys())),
                    )
                })
                .collect(),
            people: scoped
                .scope
                .people()
                .map(|k| (k.as_str(), person(k)))
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

    use crate::plan::fixtures::{client, file, group, live, user};

    const GROUPS: &str =
        "version: 1\nusers:\n  Ana@x.io:\ngroups:\n  G:\n    members: [ana@x.io, BO@x.io]\n";

    #[test]
    fn a_file_without_prune_has_a_scope_of_its_people_and_groups() {
        let scope = Scope::of(&file(GROUPS)).expect("no prune: scoped");
        assert_eq!(scope.users, ["ana@x.io".to_string()].into());
        assert_eq!(scope.members, ["bo@x.io".to_string()].into());
        assert_eq!(scope.groups, ["G".to_string()].into());
        for prune in ["users", "groups", "labels"] {
            let pruning = format!("version: 1\nprune: {{ {prune}: true }}\n");
            assert_eq!(Scope::of(&file(&pruning)), None, "{prune}");
        }
        assert!(scope.covers(&file("version: 1\ngroups:\n  G:\n    members: [bo@x.io]\n")));
        assert!(!scope.covers(&file("version: 1\ngroups:\n  H:\n")));
        assert!(!scope.covers(&file("version: 1\nusers:\n  bo@x.io:\n")));
        assert!(!scope.covers(&file("version: 1\nprune: { users: true }\n")));
    }

    /// A scoped live state of `GROUPS`'s scope: ana a user, G with bo.
    fn scoped() -> Live {
        let mut w = live(
            vec![user("u1", "ana@x.io", &[]), user("u2", "bo@x.io", &[])],
            &[],
            vec![
                group("g1", "G", &["bo@x.io"], &[]),
                group("g2", "H", &[], &[]),
            ],
        );
        w.scope = Some(Scoped {
            scope: Scope::of(&file(GROUPS)).expect("scoped"),
            groups_read: ["g1".to_string()].into(),
            grants_unread: ["u2".to_string()].into(),
            users_complete: false,
            users_next: None,
        });
        w
    }

    #[test]
    fn a_scoped_state_plans_only_the_file_it_was_read_for() {
        let w = scoped();
        assert!(crate::plan(&file(GROUPS), &w, &client()).is_ok());
        let other = file("version: 1\ngroups:\n  H:\n    members: [bo@x.io]\n");
        assert!(matches!(
            crate::plan(&other, &w, &client()),
            Err(crate::Error::Live(m)) if m.contains("read_for")
        ));
        assert!(matches!(
            crate::export::export_from(&w),
            Err(crate::Error::Live(m)) if m.contains("whole workspace")
        ));
    }

    #[test]
    fn the_scoped_fingerprint_sees_the_scope_and_nothing_else() {
        let w = scoped();
        let print = w.fingerprint();
        // Outside the scope: a group's members not read, a user nobody named.
        let mut outside = w.clone();
        outside.groups[1].members.push("cy@x.io".into());
        outside.users.push(user("u3", "cy@x.io", &[]));
        assert_eq!(outside.fingerprint(), print);
        // Inside: a listed group's members, a named user's permissions, a group's grants.
        let mut joined = w.clone();
        joined.groups[0].members.push("ana@x.io".into());
        assert_ne!(joined.fingerprint(), print);
        let mut granted = w.clone();
        granted.users[0]
            .grants
            .insert(crate::plan::fixtures::on_workspace("r"));
        assert_ne!(granted.fingerprint(), print);
        let mut regranted = w.clone();
        regranted.groups[1]
            .grants
            .insert(crate::plan::fixtures::on_workspace("r"));
        assert_ne!(regranted.fingerprint(), print);
        // A whole read's digest is another one.
        let mut whole = w;
        whole.scope = None;
        assert_ne!(whole.fingerprint(), print);
    }
}
