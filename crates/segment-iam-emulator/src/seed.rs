//! Seeding: deterministic generated data and JSON fixtures.
//!
//! Generated data (from [`crate::EmulatorBuilder::users`], `groups`, `invites`) is a pure
//! function of the seed: user `n` (from 1) is `User n` / `user{n}@example.com` (every 50th
//! user has an empty name, as the service allows), invite `n` is `invitee{n}@example.com`,
//! group `n` is `Group n` with up to 5 seeded users and up to 2 seeded invitees as members
//! and a `Source Read-only` policy. User 1 holds the `Workspace Owner` role on the
//! workspace. Source `n` (from 1, [`crate::EmulatorBuilder::sources`]) is `Source n` /
//! `source-n`, enabled, labelled `environment:prod` when `n` is odd and `environment:dev`
//! when even (the first prod, the second dev, ...). Ids are random base62 strings drawn from
//! the seed.
//!
//! A fixture is loaded first, then the generated data is added after it.
//!
//! ```json
//! {
//!   "workspace": {"id": "ws", "slug": "acme", "name": "Acme"},
//!   "roles":   [{"id": "role1", "name": "Custom Role", "description": "What it grants"}],
//!   "users":   [{"id": "u1", "name": "Ada", "email": "ada@example.com",
//!                "permissions": [{"roleId": "1WDUuRLxv84rrfCNUwvkrRtkxnS",
//!                                 "resources": [{"id": "ws", "type": "WORKSPACE"}]}]}],
//!   "invites": [{"email": "bob@example.com"}],
//!   "groups":  [{"id": "g1", "name": "Admins", "members": ["ada@example.com", "bob@example.com"]}],
//!   "labels":  [{"key": "environment", "value": "prod"}, {"key": "region", "value": "emea", "description": "EU"}],
//!   "sources": [{"id": "s1", "slug": "web", "name": "Web", "labels": [{"key": "region", "value": "emea"}]}]
//! }
//! ```
//! Every field but `email` (users, invites), `name` (groups, roles) and a role's `id` is
//! optional; a `workspace` has all three of its fields. `labels`, when given, are exactly the
//! workspace's labels (absent: `environment:dev` and `environment:prod`); a source or a
//! permission (a resource's `labels`, an invite permission's `labels`) using a label the
//! workspace does not have is refused, as is a source with two values of one key.

use std::path::Path;

use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::error::EmulatorError;
use crate::state::{
    InvitePermission, Label, Member, PermissionInput, PermissionResource, Role, Source, State,
    Workspace, email_key,
};

/// The workspace resource id of the documentation's examples (defined with the default
/// workspace in [`crate::state`]; named here too because seeded permissions use it).
pub use crate::state::WORKSPACE_ID;

/// A JSON fixture: roles, users, invites and groups to start with.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fixture {
    /// The workspace `get_workspace` answers (replacing the builder's, since fixtures are
    /// applied after it); the default one when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<Workspace>,
    /// Extra roles (beside the default ones), after them in `list_roles`.
    #[serde(default)]
    pub roles: Vec<Role>,
    /// Users.
    #[serde(default)]
    pub users: Vec<FixtureUser>,
    /// Pending invites.
    #[serde(default)]
    pub invites: Vec<FixtureInvite>,
    /// User groups.
    #[serde(default)]
    pub groups: Vec<FixtureGroup>,
    /// The workspace's labels: exactly these when given (replacing those before), the two
    /// default ones (`environment:dev`, `environment:prod`) when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub labels: Option<Vec<Label>>,
    /// Sources.
    #[serde(default)]
    pub sources: Vec<FixtureSource>,
}

/// A source of a [`Fixture`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FixtureSource {
    /// Id; generated when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// Slug; `source-N` (N its position among the sources, from 1) when absent.
    #[serde(default)]
    pub slug: Option<String>,
    /// Display name; none when absent.
    #[serde(default)]
    pub name: Option<String>,
    /// Whether it is enabled; `true` when absent.
    #[serde(default)]
    pub enabled: Option<bool>,
    /// Labels it carries: the workspace's, at most one value per key.
    #[serde(default)]
    pub labels: Vec<Label>,
}

/// A user of a [`Fixture`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FixtureUser {
    /// Id; generated when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// Name (may be empty).
    #[serde(default)]
    pub name: String,
    /// Email.
    pub email: String,
    /// Permissions attached to the user.
    #[serde(default)]
    pub permissions: Vec<PermissionInput>,
}

/// A pending invite of a [`Fixture`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FixtureInvite {
    /// Invited email.
    pub email: String,
    /// Permissions the invitee gets.
    #[serde(default)]
    pub permissions: Vec<InvitePermission>,
}

/// A user group of a [`Fixture`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FixtureGroup {
    /// Id; generated when absent.
    #[serde(default)]
    pub id: Option<String>,
    /// Name.
    pub name: String,
    /// Emails of member users and invitees (each must be a fixture user or invite).
    #[serde(default)]
    pub members: Vec<String>,
    /// Permissions attached to the group.
    #[serde(default)]
    pub permissions: Vec<PermissionInput>,
}

impl Fixture {
    /// Parses a fixture from JSON text.
    pub fn from_json(text: &str) -> Result<Self, EmulatorError> {
        serde_json::from_str(text).map_err(|e| EmulatorError::Fixture(e.to_string()))
    }

    /// Reads a fixture from a JSON file.
    pub fn load(path: impl AsRef<Path>) -> Result<Self, EmulatorError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|source| EmulatorError::FixtureIo {
            path: path.to_path_buf(),
            source,
        })?;
        Self::from_json(&text)
    }
}

fn fixture_err(msg: String) -> EmulatorError {
    EmulatorError::Fixture(msg)
}

fn check_perm_roles(
    st: &State,
    perms: &[PermissionInput],
    whose: &str,
) -> Result<(), EmulatorError> {
    for p in perms {
        if !st.roles.contains_key(&p.role_id) {
            return Err(fixture_err(format!(
                "{whose}: unknown role `{}`",
                p.role_id
            )));
        }
    }
    Ok(())
}

/// The workspace's labels as a fixture gives them: each well formed, none twice.
fn check_fixture_labels(labels: &[Label]) -> Result<(), EmulatorError> {
    for (i, l) in labels.iter().enumerate() {
        for (what, part) in [("key", &l.key), ("value", &l.value)] {
            if let Some(problem) = Label::part_problem(part) {
                return Err(fixture_err(format!("label `{l}`: the {what} {problem}")));
            }
        }
        if labels[..i].iter().any(|o| o.is(&l.key, &l.value)) {
            return Err(fixture_err(format!("label `{l}` is given twice")));
        }
    }
    Ok(())
}

/// Adds a fixture's sources: ids and slugs unique, labels the workspace's, one value per key.
fn add_fixture_sources(st: &mut State, sources: &[FixtureSource]) -> Result<(), EmulatorError> {
    for s in sources {
        let id = match &s.id {
            Some(id) if st.source_by_id.contains_key(id) => {
                return Err(fixture_err(format!("source id `{id}` is given twice")));
            }
            Some(id) if id.is_empty() || id.chars().count() > 255 => {
                return Err(fixture_err(format!(
                    "source id `{id}` must be 1..255 characters"
                )));
            }
            Some(id) => id.clone(),
            None => st.new_source_id(),
        };
        let slug = match &s.slug {
            Some(slug) if slug.is_empty() => {
                return Err(fixture_err(format!("source `{id}`: the slug is empty")));
            }
            Some(slug) if st.sources.values().any(|o| &o.slug == slug) => {
                return Err(fixture_err(format!("source slug `{slug}` is given twice")));
            }
            Some(slug) => slug.clone(),
            None => free_slug(st, st.sources.len() + 1),
        };
        for (i, l) in s.labels.iter().enumerate() {
            if !st.has_label(&l.key, &l.value) {
                return Err(fixture_err(format!(
                    "source `{id}`: label `{l}` is not one of the workspace's labels"
                )));
            }
            if s.labels[..i].iter().any(|o| o.key == l.key) {
                return Err(fixture_err(format!(
                    "source `{id}`: two values of the label key `{}` (a source has one value a key)",
                    l.key
                )));
            }
        }
        st.insert_source(Source {
            id,
            slug,
            name: s.name.clone(),
            enabled: s.enabled.unwrap_or(true),
            write_keys: Vec::new(),
            labels: s.labels.clone(),
        });
    }
    Ok(())
}

/// `source-n`, or `source-n-k` with the first free `k` when a fixture took it.
fn free_slug(st: &State, n: usize) -> String {
    let taken = |slug: &str| st.sources.values().any(|s| s.slug == slug);
    let first = format!("source-{n}");
    if !taken(&first) {
        return first;
    }
    (1..=st.sources.len() + 1)
        .map(|k| format!("source-{n}-{k}"))
        .find(|s| !taken(s))
        .unwrap_or(first)
}

/// Loads a fixture into the state.
pub(crate) fn apply_fixture(st: &mut State, f: &Fixture) -> Result<(), EmulatorError> {
    if let Some(w) = &f.workspace {
        st.workspace = w.clone();
    }
    if let Some(labels) = &f.labels {
        check_fixture_labels(labels)?;
        st.labels = labels.clone();
    }
    for r in &f.roles {
        st.add_role(&r.id, &r.name, &r.description);
    }
    for u in &f.users {
        if !crate::wire::is_valid_email(&u.email) {
            return Err(fixture_err(format!(
                "user email `{}` is not valid",
                u.email
            )));
        }
        if st.member_by_email(&u.email).is_some() {
            return Err(fixture_err(format!("email `{}` is given twice", u.email)));
        }
        let id = match &u.id {
            Some(id) if st.user_by_id.contains_key(id) => {
                return Err(fixture_err(format!("user id `{id}` is given twice")));
            }
            Some(id) if id.is_empty() || id.chars().count() > 255 => {
                return Err(fixture_err(format!(
                    "user id `{id}` must be 1..255 characters"
                )));
            }
            Some(id) => id.clone(),
            None => st.new_user_id(),
        };
        check_perm_roles(st, &u.permissions, &format!("user `{id}`"))?;
        let seq = st.insert_user(id, u.name.clone(), u.email.clone());
        let policies: Vec<_> = u
            .permissions
            .iter()
            .map(|p| st.new_policy(p.role_id.clone(), p.resources.clone()))
            .collect();
        if let Some(user) = st.users.get_mut(&seq) {
            user.policies = policies;
        }
    }
    for i in &f.invites {
        if !crate::wire::is_valid_email(&i.email) {
            return Err(fixture_err(format!(
                "invite email `{}` is not valid",
                i.email
            )));
        }
        if st.member_by_email(&i.email).is_some() {
            return Err(fixture_err(format!("email `{}` is given twice", i.email)));
        }
        st.insert_invite(i.email.clone(), i.permissions.clone());
    }
    for g in &f.groups {
        let id = match &g.id {
            Some(id) if st.group_by_id.contains_key(id) => {
                return Err(fixture_err(format!("group id `{id}` is given twice")));
            }
            Some(id) if id.is_empty() || id.chars().count() > 255 => {
                return Err(fixture_err(format!(
                    "group id `{id}` must be 1..255 characters"
                )));
            }
            Some(id) => id.clone(),
            None => st.new_group_id(),
        };
        check_perm_roles(st, &g.permissions, &format!("group `{id}`"))?;
        let mut members = Vec::with_capacity(g.members.len());
        for e in &g.members {
            members.push(st.member_by_email(e).ok_or_else(|| {
                fixture_err(format!(
                    "group `{id}`: member `{e}` is neither a user nor an invite"
                ))
            })?);
        }
        let seq = st.insert_group(id, g.name.clone());
        for m in members {
            st.add_member(seq, m);
        }
        let policies: Vec<_> = g
            .permissions
            .iter()
            .map(|p| st.new_policy(p.role_id.clone(), p.resources.clone()))
            .collect();
        if let Some(group) = st.groups.get_mut(&seq) {
            group.policies = policies;
        }
    }
    add_fixture_sources(st, &f.sources)?;
    match st.dangling_label() {
        None => Ok(()),
        Some((label, on)) => Err(fixture_err(format!(
            "label `{label}` on {on} is not one of the workspace's labels"
        ))),
    }
}

/// Adds `n` sources, deterministically: source `k` (from 1) is labelled `environment:prod`
/// when `k` is odd and `environment:dev` when even. Refused when the workspace's labels (a
/// fixture's) lack one the sources need.
pub(crate) fn seed_sources(st: &mut State, n: usize) -> Result<(), EmulatorError> {
    for k in 1..=n {
        let value = if k % 2 == 1 { "prod" } else { "dev" };
        if !st.has_label("environment", value) {
            return Err(fixture_err(format!(
                "seeded sources carry the label `environment:{value}`, which the fixture's labels leave out"
            )));
        }
        let id = st.new_source_id();
        let slug = free_slug(st, k);
        st.insert_source(Source {
            id,
            slug,
            name: Some(format!("Source {k}")),
            enabled: true,
            write_keys: Vec::new(),
            labels: vec![Label::new("environment", value)],
        });
    }
    Ok(())
}

/// The configured workspace ([`WORKSPACE_ID`] unless the builder set another), as a resource.
fn workspace_resource(st: &State) -> Vec<PermissionResource> {
    vec![PermissionResource {
        id: st.workspace.id.clone(),
        resource_type: "WORKSPACE".to_string(),
        labels: Vec::new(),
    }]
}

fn free_email(st: &State, base: &str, n: usize) -> String {
    let first = format!("{base}{n}@example.com");
    if st.member_by_email(&first).is_none() {
        return first;
    }
    (1..)
        .map(|k| format!("{base}{n}-{k}@example.com"))
        .find(|e| {
            !st.user_by_email.contains_key(&email_key(e))
                && !st.invite_by_email.contains_key(&email_key(e))
        })
        .unwrap_or(first)
}

/// Adds `users` users, `invites` invites and `groups` groups, deterministically.
pub(crate) fn seed(st: &mut State, users: usize, invites: usize, groups: usize) {
    st.users_reserve(users);
    let mut user_seqs = (0u64, 0u64);
    for n in 1..=users {
        let id = st.new_user_id();
        let name = if n % 50 == 0 {
            String::new()
        } else {
            format!("User {n}")
        };
        let email = free_email(st, "user", n);
        let seq = st.insert_user(id, name, email);
        if n == 1 {
            user_seqs.0 = seq;
            let p = st.new_policy(
                crate::state::DEFAULT_ROLES[0].0.to_string(),
                workspace_resource(st),
            );
            if let Some(u) = st.users.get_mut(&seq) {
                u.policies.push(p);
            }
        }
        user_seqs.1 = seq;
    }
    let mut invite_seqs = (0u64, 0u64);
    for n in 1..=invites {
        let email = free_email(st, "invitee", n);
        let seq = st.insert_invite(email, Vec::new());
        if n == 1 {
            invite_seqs.0 = seq;
        }
        invite_seqs.1 = seq;
    }
    let taken: std::collections::HashSet<String> =
        st.groups.values().map(|g| g.name.clone()).collect();
    for n in 1..=groups {
        let id = st.new_group_id();
        let mut name = format!("Group {n}");
        if taken.contains(&name) {
            name = format!("Group {n} ({id})");
        }
        let seq = st.insert_group(id, name);
        if users > 0 {
            let k = (st.rng.next_u32() % 6) as usize;
            for _ in 0..k.min(users) {
                let u = user_seqs.0 + st.rng.next_u64() % users as u64;
                st.add_member(seq, Member::User(u));
            }
        }
        if invites > 0 {
            let k = (st.rng.next_u32() % 3) as usize;
            for _ in 0..k.min(invites) {
                let i = invite_seqs.0 + st.rng.next_u64() % invites as u64;
                st.add_member(seq, Member::Invite(i));
            }
        }
        let p = st.new_policy(
            crate::state::DEFAULT_ROLES[3].0.to_string(),
            workspace_resource(st),
        );
        if let Some(g) = st.groups.get_mut(&seq) {
            g.policies.push(p);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_data_is_a_function_of_the_seed() {
        let mut a = State::new(42);
        seed(&mut a, 100, 10, 5);
        let mut b = State::new(42);
        seed(&mut b, 100, 10, 5);
        assert_eq!(a.snapshot(), b.snapshot());
        let mut c = State::new(43);
        seed(&mut c, 100, 10, 5);
        assert_ne!(a.snapshot().users[0].id, c.snapshot().users[0].id);
        assert_eq!(a.users.len(), 100);
        assert_eq!(a.invites.len(), 10);
        assert_eq!(a.groups.len(), 5);
    }

    #[test]
    fn a_fixture_loads_every_kind_of_record_and_a_dangling_member_is_refused() {
        let f = Fixture::from_json(
            r#"{"roles":[{"id":"r1","name":"Custom"}],
                "users":[{"id":"u1","name":"Ada","email":"ada@example.com",
                          "permissions":[{"roleId":"r1","resources":[{"id":"ws","type":"WORKSPACE"}]}]}],
                "invites":[{"email":"bob@example.com"}],
                "groups":[{"id":"g1","name":"Admins","members":["ada@example.com","bob@example.com"]}]}"#,
        )
        .expect("parse");
        let mut st = State::new(1);
        apply_fixture(&mut st, &f).expect("apply");
        let snap = st.snapshot();
        assert_eq!(snap.users[0].permissions[0].role_name, "Custom");
        assert_eq!(snap.groups[0].member_count, 2);
        assert_eq!(snap.users[0].groups, vec!["g1".to_string()]);
        let bad = Fixture::from_json(r#"{"groups":[{"name":"x","members":["nobody@x.io"]}]}"#)
            .expect("parse");
        assert!(apply_fixture(&mut State::new(1), &bad).is_err());
        assert!(Fixture::from_json(r#"{"userz":[]}"#).is_err());
    }

    #[test]
    fn fixture_roles_and_workspace() {
        let f = Fixture::from_json(
            r#"{"workspace":{"id":"ws9","slug":"acme","name":"Acme"},
                "roles":[{"id":"r1","name":"Plain"},{"id":"r2","name":"Told","description":"d"}]}"#,
        )
        .expect("parse");
        let mut st = State::new(1);
        apply_fixture(&mut st, &f).expect("apply");
        seed(&mut st, 1, 0, 1);
        let snap = st.snapshot();
        assert_eq!(snap.workspace.id, "ws9");
        let n = DEFAULT_ROLES_LEN;
        assert_eq!(snap.roles.len(), n + 2);
        assert_eq!(
            (
                snap.roles[n].description.as_str(),
                snap.roles[n + 1].description.as_str()
            ),
            ("", "d")
        );
        assert!(snap.roles[..n].iter().all(|r| !r.description.is_empty()));
        // Seeded workspace permissions name the configured workspace.
        assert_eq!(snap.users[0].permissions[0].resources[0].id, "ws9");
        assert_eq!(snap.groups[0].permissions[0].resources[0].id, "ws9");
        // Unknown fields stay refused, in roles and in the workspace too.
        for bad in [
            r#"{"roles":[{"id":"r","name":"n","descripton":"typo"}]}"#,
            r#"{"workspace":{"id":"w","slug":"s","name":"n","region":"eu"}}"#,
            r#"{"workspace":{"id":"w"}}"#,
        ] {
            assert!(Fixture::from_json(bad).is_err(), "{bad}");
        }
        assert_eq!(State::new(1).snapshot().workspace.id, WORKSPACE_ID);
    }

    const DEFAULT_ROLES_LEN: usize = crate::state::DEFAULT_ROLES.len();
}
