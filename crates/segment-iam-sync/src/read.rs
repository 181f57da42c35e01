//! Reading the live workspace as a file needs it ([`Live::read_for`]): whole when the file
//! prunes, otherwise scoped to what it names ([`Scoped`]), with the last-owner guard decided on
//! every owner either way.
//!
//! # Why the scoped read gives the whole read's plan
//!
//! Every phase but the last-owner guard looks only at what the scope reads whole: the named
//! people (each exactly a user with their permissions, a pending invitee, or nobody), the
//! listed groups (by name in the whole group list, so twins and creations are seen; with
//! their whole memberships), the roles, the labels and the workspace id. A file without prune
//! changes nothing else.
//!
//! The guard compares the owners now with the owners after the plan. Every owner the scoped
//! read cannot see is a user the file does not name, owning directly (owner groups' members
//! are all read): the plan leaves them as they are, so they own after it too. Hence: if the
//! guard passes on the scoped read (nobody owns now, or somebody it sees still owns after),
//! it passes on the whole read (the owners it sees after are owners after in the whole read
//! too, and any unseen owner now is an owner after). If it refuses on the scoped read, the
//! rest of the users list is read ([`Live::complete_users`]) and the guard decides again, on
//! every owner: a refusal is always computed on the whole read's owners.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::future::Future;
use std::sync::Mutex;

use segment_iam::api::types::UserV1;
use segment_iam::email::key as email_key;
use segment_iam::guard::{Ownership, Refusal};
use segment_iam::jobs::read::{
    GroupReads, ReadOptions, invites_page, read_listings, read_pages_until, users_page,
};
use segment_iam::{Client, MAX_PAGE_SIZE, Page};

use crate::error::{Error, Result};
use crate::file::AccessFile;
use crate::grant::Grant;
use crate::live::{Live, LiveGroup, LiveUser, Scope, Scoped};

/// Where a search of a list stands.
enum Search {
    /// Not started.
    Start,
    /// Stopped early; goes on from this cursor.
    From(String),
    /// Read to the end.
    Ended,
}

/// Reads a list (`fetch` sends one page's request, given the cursor) from where `from` says
/// until every email key of `missing` is found or the list ends, appending every item read to
/// `found` (`key` gives an item's email key); says where it stopped. Keys already in `found`
/// are not searched again, and nothing is read when nothing is missing or the list has ended.
async fn search<T, F, Fut>(
    from: Search,
    missing: &mut HashSet<String>,
    found: &mut Vec<T>,
    key: impl Fn(&T) -> String,
    fetch: F,
) -> segment_iam::Result<Search>
where
    F: Fn(Option<String>) -> Fut,
    Fut: Future<Output = segment_iam::Result<Page<T>>>,
{
    let known: HashSet<String> = found.iter().map(&key).collect();
    missing.retain(|k| !known.contains(k));
    let cursor = match from {
        _ if missing.is_empty() => return Ok(from),
        Search::Ended => return Ok(Search::Ended),
        Search::Start => None,
        Search::From(cursor) => Some(cursor),
    };
    let next: Mutex<Option<String>> = Mutex::new(None);
    read_pages_until(
        cursor,
        |cursor| {
            let next = &next;
            let page = fetch(cursor);
            async move {
                let page = page.await?;
                if let Ok(mut n) = next.lock() {
                    n.clone_from(&page.next);
                }
                Ok(page)
            }
        },
        |page| {
            for item in page {
                missing.remove(&key(&item));
                found.push(item);
            }
            missing.is_empty()
        },
    )
    .await?;
    Ok(match next.into_inner().unwrap_or(None) {
        Some(cursor) => Search::From(cursor),
        None => Search::Ended,
    })
}

impl Live {
    /// Reads the live workspace as `file` needs it: scoped to the people and groups it names
    /// when it prunes nothing ([`Scoped`]: tens of requests on a workspace of thousands),
    /// whole otherwise ([`Live::read`]); then the sources when the file may delete labels
    /// ([`Live::needs_sources`]). When the last-owner guard refuses on a scoped read, the rest
    /// of the users list is read so that the refusal sees every owner (see the module docs).
    pub async fn read_for(
        client: &Client,
        file: &AccessFile,
        options: &ReadOptions,
    ) -> Result<Live> {
        let mut live = match Scope::of(file) {
            Some(scope) => {
                let mut live = Live::read_scoped(client, scope, options).await?;
                if matches!(
                    crate::plan::plan(file, &live, client),
                    Err(Error::Refused(Refusal::LastOwner { .. }))
                ) {
                    live.complete_users(client).await?;
                }
                live
            }
            None => Live::read(client, options).await?,
        };
        if live.needs_sources(file) {
            live.read_sources(client).await?;
        }
        Ok(live)
    }

    /// Reads what `scope` needs (see [`Scoped`]): the workspace-wide lists together; the
    /// listings of the listed and owner groups `options.concurrency` at a time, beside the
    /// users list searched for the people under `users`; then the invites and users lists,
    /// each going on from where it stopped, until every needed person is found.
    pub(crate) async fn read_scoped(
        client: &Client,
        scope: Scope,
        options: &ReadOptions,
    ) -> Result<Live> {
        let before = client.metrics().requests;
        let (workspace, roles, labels, groups) = futures::try_join!(
            client.workspace(),
            client.roles().refresh(),
            client.labels().list(),
            client.groups().list().page_size(MAX_PAGE_SIZE).collect(),
        )?;
        let ownership = Ownership::from_roles(&roles, workspace.id.clone());
        let wanted = |g: &segment_iam::api::types::UserGroupV1| {
            scope.groups.contains(&g.name) || ownership.held_by(&g.permissions)
        };
        let groups_read: BTreeSet<String> = groups
            .iter()
            .filter(|g| wanted(g))
            .map(|g| g.id.clone())
            .collect();
        // A group with no members has empty listings: not read, as in the whole read. People
        // under `users` need their user record (their permissions) whatever the listings show:
        // the users list is searched for them meanwhile.
        let mut users: Vec<UserV1> = Vec::new();
        let mut records: HashSet<String> = scope.users.iter().cloned().collect();
        let (states, users_at) = futures::try_join!(
            // A listed group's members and invitees (the plan diffs both); an owner group's
            // members only (invitees own nothing until they join).
            read_listings(client, groups, options, |g| {
                let listed = scope.groups.contains(&g.name);
                let owner = ownership.held_by(&g.permissions);
                GroupReads::new(
                    g.member_count > 0 && (listed || owner),
                    g.member_count > 0 && listed,
                )
            }),
            search(
                Search::Start,
                &mut records,
                &mut users,
                |u: &UserV1| email_key(&u.email),
                |cursor| users_page(client, cursor),
            ),
        )?;

        // Who the listings show: users (without their permissions) and pending invitees.
        let mut listed_users: BTreeMap<String, (String, String)> = BTreeMap::new();
        let mut invites: Vec<String> = Vec::new();
        for state in &states {
            for m in &state.members {
                listed_users
                    .entry(email_key(&m.email))
                    .or_insert_with(|| (m.id.clone(), m.email.clone()));
            }
            invites.extend(state.invitees.iter().cloned());
        }
        // Members shown nowhere yet need only be found, as a user or an invitee: the invites
        // list first (pending invites are few, often one page; the users list is long), then
        // the rest of the users list for whoever is not an invitee. People under `users` not
        // found as users: the rest of the invites list.
        let read_users: HashSet<String> = users.iter().map(|u| email_key(&u.email)).collect();
        let mut unseen: HashSet<String> = scope
            .members
            .iter()
            .filter(|k| !listed_users.contains_key(*k) && !read_users.contains(*k))
            .cloned()
            .collect();
        let invite_key = |e: &String| email_key(e);
        let invites_at = search(
            Search::Start,
            &mut unseen,
            &mut invites,
            invite_key,
            |cursor| invites_page(client, cursor),
        )
        .await?;
        let mut missing = unseen;
        missing.extend(records);
        let users_at = search(
            users_at,
            &mut missing,
            &mut users,
            |u: &UserV1| email_key(&u.email),
            |cursor| users_page(client, cursor),
        )
        .await?;
        search(
            invites_at,
            &mut missing,
            &mut invites,
            invite_key,
            |cursor| invites_page(client, cursor),
        )
        .await?;
        let invites: BTreeMap<String, String> = invites
            .into_iter()
            .rev()
            .map(|e| (email_key(&e), e))
            .collect();
        let (users_complete, users_next) = match users_at {
            Search::Ended => (true, None),
            Search::From(cursor) => (false, Some(cursor)),
            Search::Start => (false, None),
        };

        let mut live = Live {
            workspace_id: workspace.id,
            roles,
            users: Vec::new(),
            invites: invites.into_values().collect(),
            groups: states
                .into_iter()
                .map(|g| LiveGroup {
                    grants: Grant::of_permissions(&g.group.permissions),
                    id: g.group.id,
                    name: g.group.name,
                    members: g.members.into_iter().map(|m| m.email).collect(),
                    invitees: g.invitees,
                })
                .collect(),
            labels: labels.into_iter().map(|l| l.label).collect(),
            source_labels: None,
            scope: Some(Scoped {
                scope,
                groups_read,
                grants_unread: BTreeSet::new(),
                users_complete,
                users_next,
            }),
            reads: 0,
        };
        live.add_users(users);
        for (_, (id, email)) in listed_users {
            if !live.has_user(&email) {
                if let Some(scoped) = &mut live.scope {
                    scoped.grants_unread.insert(id.clone());
                }
                live.users.push(LiveUser {
                    id,
                    email,
                    grants: BTreeSet::new(),
                });
            }
        }
        live.reads = client.metrics().requests.saturating_sub(before);
        Ok(live)
    }

    /// Reads the rest of the users list of a scoped read, so that every user and their direct
    /// permissions are known (what the last-owner guard needs to refuse on every owner). Does
    /// nothing on a whole read or a complete list.
    pub async fn complete_users(&mut self, client: &Client) -> Result<()> {
        let from = match &self.scope {
            Some(s) if !s.users_complete => s.users_next.clone(),
            _ => return Ok(()),
        };
        let before = client.metrics().requests;
        let mut users: Vec<UserV1> = Vec::new();
        read_pages_until(
            from,
            |cursor| users_page(client, cursor),
            |page| {
                users.extend(page);
                false
            },
        )
        .await?;
        self.add_users(users);
        if let Some(scoped) = &mut self.scope {
            scoped.users_complete = true;
            scoped.users_next = None;
        }
        self.reads += client.metrics().requests.saturating_sub(before);
        Ok(())
    }

    /// Whether a user with this email (by key) is known.
    fn has_user(&self, email: &str) -> bool {
        let key = email_key(email);
        self.users.iter().any(|u| email_key(&u.email) == key)
    }

    /// Adds users read with their permissions; one known only from a listing gets them.
    fn add_users(&mut self, users: Vec<UserV1>) {
        let mut at: BTreeMap<String, usize> = self
            .users
            .iter()
            .enumerate()
            .map(|(i, u)| (email_key(&u.email), i))
            .collect();
        for u in users {
            let user = LiveUser {
                grants: Grant::of_permissions(&u.permissions),
                id: u.id,
                email: u.email,
            };
            match at.get(&email_key(&user.email)) {
                Some(&i) => {
                    if let Some(scoped) = &mut self.scope {
                        scoped.grants_unread.remove(&self.users[i].id);
                    }
                    self.users[i] = user;
                }
                None => {
                    at.insert(email_key(&user.email), self.users.len());
                    self.users.push(user);
                }
            }
        }
    }
}
