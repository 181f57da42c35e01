//! `onboard`: give people access by email — roles and groups by name — in the fewest requests,
//! safe to re-run.
//!
//! For each person, whichever applies: a **user** gets the permissions they miss (added with
//! `addPermissionsToUser`, never replaced; one request per user) and the groups they are not
//! in; a **pending invitee** gets the groups they are not in (their invite's own permissions
//! cannot be read back — the API lists invite emails only — so the plan says so in
//! [`OnboardPlan::notes`] and sends none); a **new** person is invited with the permissions,
//! everyone new in one `createInvites`, then added to the groups. Memberships go one
//! `addUsersToUserGroup` per group with everyone missing from it, users and invitees alike,
//! after the invite (the service would otherwise invite an unknown address itself, without
//! permissions). [`plan`] reads and changes nothing; [`execute`] carries a plan out, sending
//! exactly [`OnboardPlan::mutations`] requests.
//!
//! Permissions compare as [`Grant`]s (role, resource, label set): a narrowed grant is not the
//! plain one, so asking for "Source Admin on the workspace narrowed by `environment:prod`" adds
//! it even beside a plain "Source Admin". Only a user's own grants count as held (a grant
//! through a group is the group's, and leaving that group would take it away).
//!
//! **Reads** (reported in [`OnboardPlan::reads`]): the role directory and the workspace when
//! a role is named or `workspace` is the resource (cached by the client); the group list
//! when groups are named (one page per 1,000 groups); the users list up to the page holding
//! the last person asked, and the invites list the same way for who is not a user; then, for
//! each named group that has members, its member listing when a user is to join it and its
//! invitee listing when a pending invitee is.
//!
//! **Guards**: onboarding only adds — no removal, no replacement — so neither the removal cap
//! nor the last-owner rule can be reached by it; the CLI still goes through the one confirm
//! path (plan, `--dry-run`, `--yes`, a terminal's answer).
//!
//! **Safe to re-run**: a plan is computed from the live workspace, so a second run sends
//! nothing and a run stopped half way is finished by the next. An invite whose answer was lost
//! (a timeout or 5xx after it may have arrived) is never re-sent: [`execute`] looks the emails
//! up in the invites list; found, they count as invited; not found, the error is returned and
//! the next plan invites them (the list proves the invite did not arrive).

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::Duration;

use segment_iam_api::types::{PermissionV1, UserGroupV1, UserV1};
use serde::Serialize;

use crate::client::Client;
use crate::email::key as email_key;
use crate::error::{Error, Outcome, Result};
use crate::grant::{Grant, permissions_of};
use crate::jobs::read::{self, GroupReads, Members, ReadOptions};
use crate::jobs::{JobOptions, RunOptions};
use crate::model::{Invite, Permission, Resource};
use crate::resources::{ResolvedGroup, resolve_permissions};
use crate::validate;

/// One person to onboard: who, which permissions, which groups (by name or id).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Newcomer {
    /// Their email.
    pub email: String,
    /// The permissions they should hold (roles by name or id; each needs a resource).
    pub permissions: Vec<Permission>,
    /// The groups they should be in, by name (case-insensitive) or id.
    pub groups: Vec<String>,
}

impl Newcomer {
    /// Someone with no permissions and no groups yet.
    pub fn new(email: impl Into<String>) -> Self {
        Newcomer {
            email: email.into(),
            permissions: Vec::new(),
            groups: Vec::new(),
        }
    }

    /// A permission they should hold.
    pub fn permission(mut self, permission: Permission) -> Self {
        self.permissions.push(permission);
        self
    }

    /// A group they should be in (name or id).
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.groups.push(group.into());
        self
    }
}

/// How an onboarding runs: its [`JobOptions`] setters say how many group listings the plan
/// reads at once and which progress counter counts reads while planning, then requests sent
/// of requests to send.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct OnboardOptions {
    run: RunOptions,
}

impl JobOptions for OnboardOptions {
    fn run(&self) -> &RunOptions {
        &self.run
    }

    fn run_mut(&mut self) -> &mut RunOptions {
        &mut self.run
    }
}

impl OnboardOptions {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }
}

/// What a person is to the workspace now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PersonKind {
    /// A user of the workspace.
    User,
    /// Invited, not joined yet.
    Invitee,
    /// Neither: to be invited.
    New,
}

impl std::fmt::Display for PersonKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            PersonKind::User => "user",
            PersonKind::Invitee => "invitee",
            PersonKind::New => "new",
        })
    }
}

/// A grant with its role's name, for people reading a plan.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct NamedGrant {
    /// The role's name (its id when the directory does not know it).
    pub role_name: String,
    /// The grant.
    #[serde(flatten)]
    pub grant: Grant,
}

impl std::fmt::Display for NamedGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} on {}:{}",
            self.role_name, self.grant.resource_type, self.grant.resource_id
        )?;
        if self.grant.is_narrowed() {
            write!(
                f,
                " narrowed by {}",
                crate::label::joined(&self.grant.labels)
            )?;
        }
        Ok(())
    }
}

/// What onboarding does for one person.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PersonPlan {
    /// Their email, as the service lists it (as given for someone new).
    pub email: String,
    /// User, pending invitee, or new.
    pub kind: PersonKind,
    /// The user's id (users only).
    pub user_id: Option<String>,
    /// Every grant asked for them, sorted.
    pub asked: Vec<NamedGrant>,
    /// What will be granted: a user's missing grants (one `addPermissionsToUser`), a new
    /// person's asked grants (in the invite); none for an invitee.
    pub grant: Vec<NamedGrant>,
    /// Names of the groups they will be added to, sorted.
    pub join: Vec<String>,
    /// Names of the asked groups they are already in, sorted.
    pub already_in: Vec<String>,
}

impl PersonPlan {
    /// Whether nothing is sent for them.
    pub fn is_done(&self) -> bool {
        self.grant.is_empty() && self.join.is_empty()
    }
}

/// One group's additions: one `addUsersToUserGroup` when not empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct GroupPlan {
    /// The group's id.
    pub id: String,
    /// The group's name.
    pub name: String,
    /// Emails to add, in the order the people were asked.
    pub add: Vec<String>,
}

/// Something the operator should know about a plan.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
#[non_exhaustive]
pub enum OnboardNote {
    /// A pending invitee: the permissions their invite grants on joining cannot be read back,
    /// so none are sent and whether they get the asked ones is not known.
    InvitePermissionsUnreadable {
        /// The invited email.
        email: String,
    },
    /// A group argument that is a group's id and also other groups' name: the id was used.
    GroupIdAlsoName {
        /// What was given.
        given: String,
        /// The group it was read as.
        id: String,
        /// The groups named so.
        also_named: Vec<String>,
    },
}

impl std::fmt::Display for OnboardNote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            OnboardNote::InvitePermissionsUnreadable { email } => write!(
                f,
                "{email} has a pending invite whose permissions cannot be read back; no permission is sent for them"
            ),
            OnboardNote::GroupIdAlsoName {
                given,
                id,
                also_named,
            } => write!(
                f,
                "{given:?} is the id of group {id}, used as the id; also the name of {}",
                also_named.join(", ")
            ),
        }
    }
}

/// What an onboarding will do; made by [`plan`], carried out by [`execute`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct OnboardPlan {
    /// One entry per distinct email, in the order asked.
    pub people: Vec<PersonPlan>,
    /// The groups named, in the order first asked, each with who joins it.
    pub groups: Vec<GroupPlan>,
    /// What the operator should know (sorted).
    pub notes: Vec<OnboardNote>,
    /// `createInvites` requests: 1 when someone is new, else 0.
    pub invite_requests: u64,
    /// `addPermissionsToUser` requests: one per user missing a grant.
    pub permission_requests: u64,
    /// `addUsersToUserGroup` requests: one per group someone joins.
    pub membership_requests: u64,
    /// Every request [`execute`] sends (the sum of the three), retries aside.
    pub mutations: u64,
    /// Requests the plan's reads took.
    pub reads: u64,
}

impl OnboardPlan {
    /// Whether there is nothing to send.
    pub fn is_empty(&self) -> bool {
        self.mutations == 0
    }
}

/// What [`execute`] did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct OnboardReport {
    /// Emails invited.
    pub invited: Vec<String>,
    /// Whether the invite's answer was lost and the invites were found by a lookup instead.
    pub invites_looked_up: bool,
    /// The users who got permissions, in the plan's order.
    pub permissions_added: Vec<PermissionsAdded>,
    /// The groups that got members, in the plan's order.
    pub members_added: Vec<MembersAdded>,
    /// Requests sent (the mutations, a lookup after a lost answer, retries).
    pub requests: u64,
    /// 429 answers met.
    pub rate_limited: u64,
    /// Time spent waiting on the rate limit and retries.
    #[serde(serialize_with = "millis")]
    pub waited: Duration,
}

/// One user's `addPermissionsToUser`, done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct PermissionsAdded {
    /// The user's email.
    pub email: String,
    /// How many grants were added.
    pub grants: u64,
}

/// One group's `addUsersToUserGroup`, done.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct MembersAdded {
    /// The group's name.
    pub group: String,
    /// The emails added.
    pub emails: Vec<String>,
}

fn millis<S: serde::Serializer>(d: &Duration, s: S) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_u128(d.as_millis())
}

/// A person as asked, merged by email.
struct Asked {
    email: String,
    grants: BTreeSet<Grant>,
    groups: Vec<String>,
}

/// Checks and merges the newcomers (same email in any case: permissions and groups united),
/// keeping the first spelling and order. Refuses an empty list, a bad address, an empty group
/// and a permission on no resource before anything is read.
fn checked(newcomers: Vec<Newcomer>) -> Result<Vec<Newcomer>> {
    if newcomers.is_empty() {
        return Err(Error::invalid("people", "must not be empty"));
    }
    let mut merged: Vec<Newcomer> = Vec::new();
    let mut at: HashMap<String, usize> = HashMap::new();
    for n in newcomers {
        validate::email("email", &n.email)?;
        for g in &n.groups {
            validate::non_empty("group", g)?;
        }
        for p in &n.permissions {
            p.check()?;
            if p.resources().next().is_none() {
                return Err(Error::invalid(
                    "permissions",
                    format!(
                        "role {:?} for {} is on no resource; give one (e.g. the workspace)",
                        p.role_id(),
                        n.email
                    ),
                ));
            }
        }
        match at.get(&email_key(&n.email)) {
            Some(&i) => {
                let into = &mut merged[i];
                into.permissions.extend(n.permissions);
                into.groups.extend(n.groups);
            }
            None => {
                at.insert(email_key(&n.email), merged.len());
                merged.push(n);
            }
        }
    }
    Ok(merged)
}

/// The grants of resolved permissions (role ids, given resources).
fn grants_of(permissions: &[Permission]) -> BTreeSet<Grant> {
    permissions
        .iter()
        .flat_map(|p| {
            p.narrowed_resources()
                .filter_map(move |(r, labels)| match r {
                    Resource::Given(kind, id) => Some(
                        Grant::new(p.role_id(), kind.as_str(), id.clone())
                            .narrowed(labels.iter().cloned()),
                    ),
                    Resource::ThisWorkspace => None,
                })
        })
        .collect()
}

/// Reads the workspace and plans onboarding `newcomers`. Bad input (an address, an empty
/// group, a permission on no resource) is refused before any read; an unknown or ambiguous
/// role or group ([`Error::UnknownRole`], [`Error::UnknownGroup`], ...) once the role
/// directory or the group list is read, before any person is looked up. Sends no mutation.
pub async fn plan(
    client: &Client,
    newcomers: impl IntoIterator<Item = Newcomer>,
    options: &OnboardOptions,
) -> Result<OnboardPlan> {
    let before = client.metrics().requests;
    let newcomers = checked(newcomers.into_iter().collect())?;

    // Roles and groups first: a misspelt name costs those reads and nothing else.
    let group_names: Vec<String> = newcomers.iter().flat_map(|n| n.groups.clone()).collect();
    let counts: Vec<usize> = newcomers.iter().map(|n| n.permissions.len()).collect();
    let all_permissions: Vec<Permission> = newcomers
        .iter()
        .flat_map(|n| n.permissions.iter().cloned())
        .collect();
    let groups_list = async {
        if group_names.is_empty() {
            Ok(Vec::new())
        } else {
            client
                .groups()
                .list()
                .page_size(crate::config::MAX_PAGE_SIZE)
                .collect()
                .await
        }
    };
    let (resolved, groups_list): (Vec<Permission>, Vec<UserGroupV1>) =
        futures::try_join!(resolve_permissions(client, all_permissions), groups_list)?;
    let mut by_given: HashMap<String, ResolvedGroup> = HashMap::new();
    let mut notes: BTreeSet<OnboardNote> = BTreeSet::new();
    for given in &group_names {
        if by_given.contains_key(given) {
            continue;
        }
        let r = ResolvedGroup::among(&groups_list, given)?;
        if !r.also_named.is_empty() {
            notes.insert(OnboardNote::GroupIdAlsoName {
                given: given.clone(),
                id: r.group.id.clone(),
                also_named: r.also_named.clone(),
            });
        }
        by_given.insert(given.clone(), r);
    }
    let role_names: HashMap<String, String> = if resolved.is_empty() {
        HashMap::new()
    } else {
        client
            .roles()
            .directory()
            .await?
            .roles()
            .iter()
            .map(|r| (r.id.clone(), r.name.clone()))
            .collect()
    };
    let mut resolved = resolved.into_iter();
    let asked: Vec<Asked> = newcomers
        .iter()
        .zip(counts)
        .map(|(n, count)| {
            let mine: Vec<Permission> = resolved.by_ref().take(count).collect();
            let mut ids: Vec<String> = Vec::new();
            for g in &n.groups {
                if let Some(r) = by_given.get(g)
                    && !ids.contains(&r.group.id)
                {
                    ids.push(r.group.id.clone());
                }
            }
            Asked {
                email: n.email.clone(),
                grants: grants_of(&mine),
                groups: ids,
            }
        })
        .collect();

    // People: users first, the invites list only for who is not one; each read a page at a
    // time and stopped at the page holding the last person sought (no read ahead).
    let mut sought: HashSet<String> = asked.iter().map(|a| email_key(&a.email)).collect();
    let mut users_by_key: HashMap<String, UserV1> = HashMap::new();
    read::read_pages_until(
        None,
        |cursor| read::users_page(client, cursor),
        |page| {
            for user in page {
                let key = email_key(&user.email);
                if sought.remove(&key) {
                    users_by_key.insert(key, user);
                }
            }
            sought.is_empty()
        },
    )
    .await?;
    let mut invites_by_key: HashMap<String, String> = HashMap::new();
    if !sought.is_empty() {
        read::read_pages_until(
            None,
            |cursor| read::invites_page(client, cursor),
            |page| {
                for email in page {
                    let key = email_key(&email);
                    if sought.remove(&key) {
                        invites_by_key.insert(key, email);
                    }
                }
                sought.is_empty()
            },
        )
        .await?;
    }
    let kind_of = |email: &str| {
        let key = email_key(email);
        if users_by_key.contains_key(&key) {
            PersonKind::User
        } else if invites_by_key.contains_key(&key) {
            PersonKind::Invitee
        } else {
            PersonKind::New
        }
    };

    // The named groups' listings, only those someone's answer needs.
    let mut named: Vec<UserGroupV1> = Vec::new();
    for a in &asked {
        for id in &a.groups {
            if !named.iter().any(|g| g.id == *id)
                && let Some(g) = groups_list.iter().find(|g| g.id == *id)
            {
                named.push(g.clone());
            }
        }
    }
    let joining = |group: &UserGroupV1, kind: PersonKind| {
        asked
            .iter()
            .any(|a| a.groups.contains(&group.id) && kind_of(&a.email) == kind)
    };
    let read_options = ReadOptions {
        invites: false,
        members: Members::None,
        run: options.run.clone(),
    };
    let states = read::read_groups(client, named, &read_options, |g| GroupReads {
        members: g.member_count > 0 && joining(g, PersonKind::User),
        invitees: g.member_count > 0 && joining(g, PersonKind::Invitee),
    })
    .await?;
    let inside: HashMap<&str, BTreeSet<String>> = states
        .iter()
        .map(|s| {
            let keys = s
                .members
                .iter()
                .map(|m| email_key(&m.email))
                .chain(s.invitees.iter().map(|e| email_key(e)))
                .collect();
            (s.group.id.as_str(), keys)
        })
        .collect();
    let name_of: HashMap<&str, &str> = states
        .iter()
        .map(|s| (s.group.id.as_str(), s.group.name.as_str()))
        .collect();

    let named_grant = |g: &Grant| NamedGrant {
        role_name: role_names
            .get(&g.role_id)
            .cloned()
            .unwrap_or_else(|| g.role_id.clone()),
        grant: g.clone(),
    };
    let mut people: Vec<PersonPlan> = Vec::new();
    let mut group_adds: Vec<GroupPlan> = states
        .iter()
        .map(|s| GroupPlan {
            id: s.group.id.clone(),
            name: s.group.name.clone(),
            add: Vec::new(),
        })
        .collect();
    for a in &asked {
        let key = email_key(&a.email);
        let kind = kind_of(&a.email);
        let (email, user_id, grant): (String, Option<String>, Vec<&Grant>) = match kind {
            PersonKind::User => {
                let user = &users_by_key[&key];
                let held = held(&user.permissions);
                (
                    user.email.clone(),
                    Some(user.id.clone()),
                    a.grants.iter().filter(|g| !held.contains(*g)).collect(),
                )
            }
            PersonKind::Invitee => {
                notes.insert(OnboardNote::InvitePermissionsUnreadable {
                    email: invites_by_key[&key].clone(),
                });
                (invites_by_key[&key].clone(), None, Vec::new())
            }
            PersonKind::New => (a.email.clone(), None, a.grants.iter().collect()),
        };
        let mut join = Vec::new();
        let mut already_in = Vec::new();
        for id in &a.groups {
            let name = name_of.get(id.as_str()).copied().unwrap_or(id).to_string();
            if inside
                .get(id.as_str())
                .is_some_and(|keys| keys.contains(&key))
            {
                already_in.push(name);
            } else {
                join.push(name);
                if let Some(g) = group_adds.iter_mut().find(|g| g.id == *id) {
                    g.add.push(email.clone());
                }
            }
        }
        join.sort();
        already_in.sort();
        people.push(PersonPlan {
            email,
            kind,
            user_id,
            asked: a.grants.iter().map(named_grant).collect(),
            grant: grant.into_iter().map(named_grant).collect(),
            join,
            already_in,
        });
    }
    let invite_requests = u64::from(people.iter().any(|p| p.kind == PersonKind::New));
    let permission_requests = people
        .iter()
        .filter(|p| p.kind == PersonKind::User && !p.grant.is_empty())
        .count() as u64;
    let membership_requests = group_adds.iter().filter(|g| !g.add.is_empty()).count() as u64;
    Ok(OnboardPlan {
        people,
        groups: group_adds,
        notes: notes.into_iter().collect(),
        invite_requests,
        permission_requests,
        membership_requests,
        mutations: invite_requests + permission_requests + membership_requests,
        reads: client.metrics().requests.saturating_sub(before),
    })
}

/// A user's own grants.
fn held(permissions: &[PermissionV1]) -> BTreeSet<Grant> {
    Grant::of_permissions(permissions)
}

/// Carries `plan` out: the invite of everyone new (one request), each user's missing grants
/// (one request per user), then each group's new members (one request per group) — exactly
/// [`OnboardPlan::mutations`] requests, retries aside. An invite whose answer was lost is
/// looked up in the invites list, never sent again. A failure after some requests succeeded
/// is [`Error::Partial`] naming the steps done (`invite:EMAIL`, `permissions:EMAIL`,
/// `group:NAME`) and not done; planning and executing again finishes the job.
pub async fn execute(
    client: &Client,
    plan: &OnboardPlan,
    options: &OnboardOptions,
) -> Result<OnboardReport> {
    let start = client.metrics();
    let progress = options.run.progress();
    progress.add_total(plan.mutations);
    let mut report = OnboardReport::default();
    let new: Vec<&PersonPlan> = plan
        .people
        .iter()
        .filter(|p| p.kind == PersonKind::New)
        .collect();
    let users: Vec<&PersonPlan> = plan
        .people
        .iter()
        .filter(|p| p.kind == PersonKind::User && !p.grant.is_empty())
        .collect();
    let groups: Vec<&GroupPlan> = plan.groups.iter().filter(|g| !g.add.is_empty()).collect();
    let steps: Vec<String> = new
        .iter()
        .map(|p| format!("invite:{}", p.email))
        .chain(users.iter().map(|p| format!("permissions:{}", p.email)))
        .chain(groups.iter().map(|g| format!("group:{}", g.name)))
        .collect();
    let mut done = 0usize;
    let fail = |done: usize, source: Error| -> Error {
        if done == 0 {
            return source;
        }
        Error::Partial {
            applied: steps[..done].to_vec(),
            not_applied: steps[done..].to_vec(),
            source: Box::new(source),
        }
    };

    if !new.is_empty() {
        let invites: Vec<Invite> = new
            .iter()
            .map(|p| {
                p.grant
                    .iter()
                    .map(|g| g.grant.to_permission())
                    .fold(Invite::new(p.email.clone()), Invite::permission)
            })
            .collect();
        match client.invites().create(invites).await {
            Ok(emails) => report.invited = emails,
            Err(e) if e.outcome() == Outcome::NotApplied => return Err(e),
            Err(e) => {
                // The answer was lost after the invite may have arrived: the list says.
                let found = client
                    .invites()
                    .find_by_emails(new.iter().map(|p| p.email.clone()))
                    .await?;
                if !found.is_complete() {
                    return Err(e);
                }
                report.invited = found.found;
                report.invites_looked_up = true;
            }
        }
        done += new.len();
        progress.advance(1);
    }
    for p in &users {
        let Some(id) = &p.user_id else {
            return Err(fail(
                done,
                Error::invalid("plan", format!("user {} has no id", p.email)),
            ));
        };
        let grants: Vec<&Grant> = p.grant.iter().map(|g| &g.grant).collect();
        if let Err(e) = client
            .users()
            .add_permissions(id, permissions_of(grants))
            .await
        {
            return Err(fail(done, e));
        }
        report.permissions_added.push(PermissionsAdded {
            email: p.email.clone(),
            grants: p.grant.len() as u64,
        });
        done += 1;
        progress.advance(1);
    }
    for g in &groups {
        if let Err(e) = client.groups().add_members(&g.id, &g.add).await {
            return Err(fail(done, e));
        }
        report.members_added.push(MembersAdded {
            group: g.name.clone(),
            emails: g.add.clone(),
        });
        done += 1;
        progress.advance(1);
    }
    let end = client.metrics();
    report.requests = end.requests.saturating_sub(start.requests);
    report.rate_limited = end.rate_limited.saturating_sub(start.rate_limited);
    report.waited = end.waited.saturating_sub(start.waited);
    Ok(report)
}

/// People per group, for showing a plan: `group name -> emails joining it` (groups nobody
/// joins left out).
pub fn joiners_by_group(plan: &OnboardPlan) -> BTreeMap<&str, Vec<&str>> {
    plan.groups
        .iter()
        .filter(|g| !g.add.is_empty())
        .map(|g| (g.name.as_str(), g.add.iter().map(String::as_str).collect()))
        .collect()
}
