//! The store: users, pending invites, user groups, roles, policies, labels, sources and the
//! audit trail, with the indexes that keep lookups O(1) and every list a range over an ordered
//! set.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::time::SystemTime;

use rand::rngs::StdRng;
use rand::{RngCore, SeedableRng};

use super::defaults::{DEFAULT_LABELS, DEFAULT_ROLES};
use super::values::{
    AuditEvent, AuditResource, InvitePermission, Label, PermissionResource, Source, Workspace,
};

/// How many audit events are kept; older ones are dropped first, like the journal's. (The
/// service keeps 90 days; the emulator does not expire events by age.)
pub(crate) const AUDIT_CAPACITY: usize = 10_000;

/// The actor of changes made with a token not named for anyone (`--token TOKEN` rather than
/// `--token TOKEN=email`).
pub const DEFAULT_ACTOR: &str = "emulator@segment.local";

/// An attached permission.
#[derive(Debug, Clone)]
pub(crate) struct Policy {
    pub id: String,
    pub role_id: String,
    pub resources: Vec<PermissionResource>,
}

#[derive(Debug, Clone)]
pub(crate) struct User {
    pub id: String,
    pub name: String,
    pub email: String,
    pub policies: Vec<Policy>,
    pub groups: BTreeSet<u64>,
}

#[derive(Debug, Clone)]
pub(crate) struct Invite {
    pub email: String,
    pub permissions: Vec<InvitePermission>,
    pub groups: BTreeSet<u64>,
}

#[derive(Debug, Clone)]
pub(crate) struct Group {
    pub id: String,
    pub name: String,
    pub policies: Vec<Policy>,
    pub users: BTreeSet<u64>,
    pub invites: BTreeSet<u64>,
}

impl Group {
    pub fn member_count(&self) -> usize {
        self.users.len() + self.invites.len()
    }
}

/// A member of a group, resolved from an email.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) enum Member {
    User(u64),
    Invite(u64),
}

/// The workspace.
pub(crate) struct State {
    pub rng: StdRng,
    next_seq: u64,
    pub users: BTreeMap<u64, User>,
    pub user_by_id: HashMap<String, u64>,
    pub user_by_email: HashMap<String, u64>,
    pub invites: BTreeMap<u64, Invite>,
    pub invite_by_email: HashMap<String, u64>,
    pub groups: BTreeMap<u64, Group>,
    pub group_by_id: HashMap<String, u64>,
    pub roles: HashMap<String, String>,
    pub role_descriptions: HashMap<String, String>,
    pub role_order: Vec<String>,
    pub workspace: Workspace,
    /// The workspace's labels, in creation order (`listLabels` answers them all).
    pub labels: Vec<Label>,
    pub sources: BTreeMap<u64, Source>,
    pub source_by_id: HashMap<String, u64>,
    /// The audit trail, oldest first, at most [`AUDIT_CAPACITY`] events.
    pub audit: VecDeque<AuditEvent>,
    audit_seq: u64,
    /// Who the request being executed comes from (set per request, before it runs).
    pub actor: String,
    /// Whether `listAuditEvents` answers (a workspace without the Business-tier feature: 403).
    pub audit_trail: bool,
    policy_ids: std::collections::HashSet<String>,
    /// Whether a group may be created or renamed to a name another group has (a service
    /// that accepts two creations of one name racing); off: 409.
    pub allow_duplicate_group_names: bool,
}

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// The lookup key of an email: emails compare case-insensitively.
pub(crate) fn email_key(email: &str) -> String {
    email.to_lowercase()
}

impl State {
    /// An empty workspace with the default roles, ids drawn from `seed`.
    pub fn new(seed: u64) -> Self {
        let mut s = Self {
            rng: StdRng::seed_from_u64(seed),
            next_seq: 0,
            users: BTreeMap::new(),
            user_by_id: HashMap::new(),
            user_by_email: HashMap::new(),
            invites: BTreeMap::new(),
            invite_by_email: HashMap::new(),
            groups: BTreeMap::new(),
            group_by_id: HashMap::new(),
            roles: HashMap::new(),
            role_descriptions: HashMap::new(),
            role_order: Vec::new(),
            workspace: Workspace::default(),
            labels: DEFAULT_LABELS
                .iter()
                .map(|(key, value)| Label::new(*key, *value))
                .collect(),
            sources: BTreeMap::new(),
            source_by_id: HashMap::new(),
            audit: VecDeque::new(),
            audit_seq: 0,
            actor: DEFAULT_ACTOR.to_string(),
            audit_trail: true,
            policy_ids: Default::default(),
            allow_duplicate_group_names: false,
        };
        for (id, name, description) in DEFAULT_ROLES {
            s.add_role(id, name, description);
        }
        s
    }

    pub fn add_role(&mut self, id: &str, name: &str, description: &str) {
        self.role_descriptions
            .insert(id.to_string(), description.to_string());
        if self
            .roles
            .insert(id.to_string(), name.to_string())
            .is_none()
        {
            self.role_order.push(id.to_string());
        }
    }

    pub fn role_description(&self, role_id: &str) -> &str {
        self.role_descriptions
            .get(role_id)
            .map(String::as_str)
            .unwrap_or("")
    }

    pub fn role_name(&self, role_id: &str) -> &str {
        self.roles.get(role_id).map(String::as_str).unwrap_or("")
    }

    pub fn users_reserve(&mut self, n: usize) {
        self.user_by_id.reserve(n);
        self.user_by_email.reserve(n);
    }

    pub fn next_seq(&mut self) -> u64 {
        self.next_seq += 1;
        self.next_seq
    }

    /// A Segment-looking random id of `len` base62 characters.
    pub fn random_id(&mut self, len: usize) -> String {
        let mut s = String::with_capacity(len);
        for _ in 0..len {
            s.push(BASE62[(self.rng.next_u32() % 62) as usize] as char);
        }
        s
    }

    pub fn new_user_id(&mut self) -> String {
        loop {
            let id = self.random_id(22);
            if !self.user_by_id.contains_key(&id) {
                return id;
            }
        }
    }

    pub fn new_group_id(&mut self) -> String {
        loop {
            let id = self.random_id(22);
            if !self.group_by_id.contains_key(&id) {
                return id;
            }
        }
    }

    pub fn new_source_id(&mut self) -> String {
        loop {
            let id = self.random_id(27);
            if !self.source_by_id.contains_key(&id) {
                return id;
            }
        }
    }

    /// Inserts a source; the caller guarantees the id is free and its labels exist.
    pub fn insert_source(&mut self, source: Source) -> u64 {
        let seq = self.next_seq();
        self.source_by_id.insert(source.id.clone(), seq);
        self.sources.insert(seq, source);
        seq
    }

    pub fn new_policy(&mut self, role_id: String, resources: Vec<PermissionResource>) -> Policy {
        let id = loop {
            let id = self.random_id(27);
            if self.policy_ids.insert(id.clone()) {
                break id;
            }
        };
        Policy {
            id,
            role_id,
            resources,
        }
    }

    pub fn forget_policy(&mut self, id: &str) {
        self.policy_ids.remove(id);
    }

    /// Records an event about `resource` by the current actor. Timestamps never go back (a
    /// clock step cannot reorder the trail), so newest first is also latest first.
    pub fn audit(
        &mut self,
        event: &str,
        resource: AuditResource,
        subject: impl Into<String>,
        detail: impl Into<String>,
    ) {
        self.audit_seq += 1;
        let seq = self.audit_seq;
        let now = SystemTime::now();
        let at = self.audit.back().map_or(now, |last| last.at.max(now));
        if self.audit.len() >= AUDIT_CAPACITY {
            self.audit.pop_front();
        }
        self.audit.push_back(AuditEvent {
            seq,
            id: format!("ev{seq:025}"),
            at,
            event: event.to_string(),
            actor: self.actor.clone(),
            resource_type: resource.kind.to_string(),
            resource_id: resource.id,
            resource_name: resource.name,
            subject: subject.into(),
            detail: detail.into(),
        });
    }

    /// A user as an audit event's resource.
    pub fn user_resource(&self, seq: u64) -> AuditResource {
        let (id, email) = self
            .users
            .get(&seq)
            .map(|u| (u.id.clone(), u.email.clone()))
            .unwrap_or_default();
        AuditResource::user(id, email)
    }

    /// A group as an audit event's resource.
    pub fn group_resource(&self, seq: u64) -> AuditResource {
        let (id, name) = self
            .groups
            .get(&seq)
            .map(|g| (g.id.clone(), g.name.clone()))
            .unwrap_or_default();
        AuditResource::group(id, name)
    }

    /// Inserts a user; the caller guarantees the id and email are free.
    pub fn insert_user(&mut self, id: String, name: String, email: String) -> u64 {
        let seq = self.next_seq();
        self.user_by_id.insert(id.clone(), seq);
        self.user_by_email.insert(email_key(&email), seq);
        self.users.insert(
            seq,
            User {
                id,
                name,
                email,
                policies: Vec::new(),
                groups: BTreeSet::new(),
            },
        );
        seq
    }

    /// Inserts a pending invite; the caller guarantees the email is free.
    pub fn insert_invite(&mut self, email: String, permissions: Vec<InvitePermission>) -> u64 {
        let seq = self.next_seq();
        self.invite_by_email.insert(email_key(&email), seq);
        self.invites.insert(
            seq,
            Invite {
                email,
                permissions,
                groups: BTreeSet::new(),
            },
        );
        seq
    }

    /// Inserts a group; the caller guarantees the id is free.
    pub fn insert_group(&mut self, id: String, name: String) -> u64 {
        let seq = self.next_seq();
        self.group_by_id.insert(id.clone(), seq);
        self.groups.insert(
            seq,
            Group {
                id,
                name,
                policies: Vec::new(),
                users: BTreeSet::new(),
                invites: BTreeSet::new(),
            },
        );
        seq
    }

    /// The user or pending invite an email names.
    pub fn member_by_email(&self, email: &str) -> Option<Member> {
        let key = email_key(email);
        if let Some(&u) = self.user_by_email.get(&key) {
            return Some(Member::User(u));
        }
        self.invite_by_email.get(&key).map(|&i| Member::Invite(i))
    }

    /// Adds a member to a group; returns whether it was not a member yet.
    pub fn add_member(&mut self, group: u64, m: Member) -> bool {
        let Some(g) = self.groups.get_mut(&group) else {
            return false;
        };
        match m {
            Member::User(u) => {
                let added = g.users.insert(u);
                if let Some(user) = self.users.get_mut(&u) {
                    user.groups.insert(group);
                }
                added
            }
            Member::Invite(i) => {
                let added = g.invites.insert(i);
                if let Some(inv) = self.invites.get_mut(&i) {
                    inv.groups.insert(group);
                }
                added
            }
        }
    }

    /// Removes a member from a group; returns whether it was a member.
    pub fn remove_member(&mut self, group: u64, m: Member) -> bool {
        let Some(g) = self.groups.get_mut(&group) else {
            return false;
        };
        match m {
            Member::User(u) => {
                let removed = g.users.remove(&u);
                if let Some(user) = self.users.get_mut(&u) {
                    user.groups.remove(&group);
                }
                removed
            }
            Member::Invite(i) => {
                let removed = g.invites.remove(&i);
                if let Some(inv) = self.invites.get_mut(&i) {
                    inv.groups.remove(&group);
                }
                removed
            }
        }
    }

    pub fn is_member(&self, group: u64, m: Member) -> bool {
        self.groups.get(&group).is_some_and(|g| match m {
            Member::User(u) => g.users.contains(&u),
            Member::Invite(i) => g.invites.contains(&i),
        })
    }

    /// Deletes a user, their group memberships and their policies.
    pub fn delete_user(&mut self, seq: u64) {
        let Some(user) = self.users.remove(&seq) else {
            return;
        };
        self.user_by_id.remove(&user.id);
        self.user_by_email.remove(&email_key(&user.email));
        let mut group_ids = Vec::new();
        for g in &user.groups {
            if let Some(group) = self.groups.get_mut(g) {
                group.users.remove(&seq);
                group_ids.push(group.id.clone());
            }
        }
        for p in &user.policies {
            self.policy_ids.remove(&p.id);
        }
        // Recorded even without groups: every deletion leaves a trace in the trail.
        self.audit(
            "Group Memberships Deleted",
            AuditResource::user(user.id.clone(), user.email.clone()),
            user.id.clone(),
            group_ids.join(","),
        );
    }

    /// Deletes a pending invite and its group memberships.
    pub fn delete_invite(&mut self, seq: u64) {
        let Some(inv) = self.invites.remove(&seq) else {
            return;
        };
        self.invite_by_email.remove(&email_key(&inv.email));
        let mut group_ids = Vec::new();
        for g in &inv.groups {
            if let Some(group) = self.groups.get_mut(g) {
                group.invites.remove(&seq);
                group_ids.push(group.id.clone());
            }
        }
        self.audit(
            "Invite Deleted",
            AuditResource::invite(&inv.email),
            inv.email.clone(),
            "",
        );
        if !group_ids.is_empty() {
            self.audit(
                "Group Memberships Deleted",
                AuditResource::invite(&inv.email),
                inv.email.clone(),
                group_ids.join(","),
            );
        }
    }

    /// Deletes a group and every membership in it.
    pub fn delete_group(&mut self, seq: u64) {
        let Some(g) = self.groups.remove(&seq) else {
            return;
        };
        self.group_by_id.remove(&g.id);
        for u in &g.users {
            if let Some(user) = self.users.get_mut(u) {
                user.groups.remove(&seq);
            }
        }
        for i in &g.invites {
            if let Some(inv) = self.invites.get_mut(i) {
                inv.groups.remove(&seq);
            }
        }
        for p in &g.policies {
            self.policy_ids.remove(&p.id);
        }
        self.audit(
            "User Group Deleted",
            AuditResource::group(g.id.clone(), g.name.clone()),
            g.id.clone(),
            g.name.clone(),
        );
    }
}
