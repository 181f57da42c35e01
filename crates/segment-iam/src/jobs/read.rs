//! Reading the live workspace whole: every page of every listing a job needs, at the largest
//! page size the service allows, the workspace-wide lists together and the per-group listings
//! concurrently (bounded; the client's pacing keeps the total within the read limit).

use std::collections::HashSet;
use std::future::Future;

use futures::{StreamExt, TryStreamExt, stream};
use segment_iam_api::types::{MinimalUserV1, UserGroupV1, UserV1};
use segment_iam_api::{ClientIamGroupsExt, ClientIamUsersExt, ClientSourcesExt};

use crate::client::Client;
use crate::config::MAX_PAGE_SIZE;
use crate::error::{Error, Result};
use crate::jobs::{JobOptions, RunOptions};
use crate::label::Source;
use crate::paginate::Page;

pub use super::DEFAULT_CONCURRENCY;

/// Which groups to read the members and invitees of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Members {
    /// Every group whose `memberCount` is not 0.
    #[default]
    All,
    /// No group (only the workspace-wide lists).
    None,
}

/// What to read. Its `concurrency` (group listings in flight, default
/// [`DEFAULT_CONCURRENCY`]) and `progress` (groups read of groups to read) are the
/// [`JobOptions`] setters.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ReadOptions {
    /// Read the pending invites list.
    pub invites: bool,
    /// Read group members and invitees.
    pub members: Members,
    pub(crate) run: RunOptions,
}

impl Default for ReadOptions {
    fn default() -> Self {
        ReadOptions {
            invites: true,
            members: Members::All,
            run: RunOptions::default(),
        }
    }
}

impl JobOptions for ReadOptions {
    fn run(&self) -> &RunOptions {
        &self.run
    }

    fn run_mut(&mut self) -> &mut RunOptions {
        &mut self.run
    }
}

impl ReadOptions {
    /// Everything, [`DEFAULT_CONCURRENCY`] group listings at a time.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether to read the pending invites list.
    pub fn invites(mut self, read: bool) -> Self {
        self.invites = read;
        self
    }

    /// Which groups' members and invitees to read.
    pub fn members(mut self, members: Members) -> Self {
        self.members = members;
        self
    }
}

/// A group with who is in it.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct GroupState {
    /// The group as listed, with its permissions.
    pub group: UserGroupV1,
    /// Its users (every page).
    pub members: Vec<MinimalUserV1>,
    /// Its pending invitees' emails (every page).
    pub invitees: Vec<String>,
}

/// The live workspace as read.
#[derive(Debug, Clone, PartialEq, Default)]
#[non_exhaustive]
pub struct WorkspaceState {
    /// Every user, with their direct permissions.
    pub users: Vec<UserV1>,
    /// Every pending invite's email (empty when not read).
    pub invites: Vec<String>,
    /// Every group, in the service's order.
    pub groups: Vec<GroupState>,
}

/// Reads the workspace: users, groups (with their permissions) and, per `options`, pending
/// invites and each group's members and invitees. Every page is read: nothing is truncated.
pub async fn read_workspace(client: &Client, options: &ReadOptions) -> Result<WorkspaceState> {
    let users = client.users().list().page_size(MAX_PAGE_SIZE).collect();
    let groups = client.groups().list().page_size(MAX_PAGE_SIZE).collect();
    let invites = async {
        if options.invites {
            client
                .invites()
                .list()
                .page_size(MAX_PAGE_SIZE)
                .collect()
                .await
        } else {
            Ok(Vec::new())
        }
    };
    let (users, groups, invites) = futures::try_join!(users, groups, invites)?;
    let groups = read_groups(client, groups, options, |g| {
        let read = options.members == Members::All && g.member_count > 0;
        GroupReads {
            members: read,
            invitees: read,
        }
    })
    .await?;
    Ok(WorkspaceState {
        users,
        invites,
        groups,
    })
}

/// Each group with its member and invitee listings read as `wanted` says (else left empty),
/// `options.concurrency` groups at a time, in the groups' order: [`read_workspace`]'s group
/// listings for a reader that chose its groups itself (a scoped read).
pub async fn read_listings(
    client: &Client,
    groups: Vec<UserGroupV1>,
    options: &ReadOptions,
    wanted: impl Fn(&UserGroupV1) -> GroupReads,
) -> Result<Vec<GroupState>> {
    read_groups(client, groups, options, wanted).await
}

/// Which listings of one group to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct GroupReads {
    /// Its users (`listUsersFromUserGroup`).
    pub members: bool,
    /// Its pending invitees (`listInvitesFromUserGroup`).
    pub invitees: bool,
}

impl GroupReads {
    /// Members and invitees alike, or neither.
    pub fn both(read: bool) -> Self {
        GroupReads {
            members: read,
            invitees: read,
        }
    }

    /// These listings.
    pub fn new(members: bool, invitees: bool) -> Self {
        GroupReads { members, invitees }
    }
}

/// Each group with its members and invitees read as `wanted` says (else left empty),
/// `options.concurrency` groups at a time, in the groups' order.
pub(crate) async fn read_groups(
    client: &Client,
    groups: Vec<UserGroupV1>,
    options: &ReadOptions,
    wanted: impl Fn(&UserGroupV1) -> GroupReads,
) -> Result<Vec<GroupState>> {
    let progress = options.run.progress();
    let reads: Vec<(UserGroupV1, GroupReads)> = groups
        .into_iter()
        .map(|g| {
            let reads = wanted(&g);
            (g, reads)
        })
        .collect();
    progress.add_total(
        reads
            .iter()
            .filter(|(_, r)| r.members || r.invitees)
            .count() as u64,
    );
    stream::iter(reads)
        .map(|(group, reads)| async move {
            let groups = client.groups();
            let members = async {
                if reads.members {
                    groups
                        .members(&group.id)
                        .page_size(MAX_PAGE_SIZE)
                        .collect()
                        .await
                } else {
                    Ok(Vec::new())
                }
            };
            let invitees = async {
                if reads.invitees {
                    groups
                        .invites(&group.id)
                        .page_size(MAX_PAGE_SIZE)
                        .collect()
                        .await
                } else {
                    Ok(Vec::new())
                }
            };
            let (members, invitees) = futures::try_join!(members, invitees)?;
            if reads.members || reads.invitees {
                progress.advance(1);
            }
            Ok(GroupState {
                group,
                members,
                invitees,
            })
        })
        .buffered(options.run.concurrency())
        .try_collect()
        .await
}

/// Reads a list page by page from cursor `from` (`None`: the first page; `fetch` sends one
/// page's request, given the cursor) until `done` says the answer is complete or the list ends. Not through a
/// [`Paginator`](crate::Paginator): its one-page-ahead fetch would send a read the answer does
/// not need, so a scoped read's cost could not be stated. A repeated cursor ends the reading
/// with [`Error::RepeatedCursor`] (the seen set bounds the loop). Public for the scoped reads
/// of other crates (access as code's plan of a file without prune).
pub async fn read_pages_until<T, F, Fut>(
    from: Option<String>,
    mut fetch: F,
    mut done: impl FnMut(Vec<T>) -> bool,
) -> Result<()>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<Page<T>>>,
{
    let mut cursor = from;
    let mut seen: HashSet<String> = HashSet::new();
    loop {
        let page = fetch(cursor.take()).await?;
        let next = page.next;
        if done(page.items) {
            return Ok(());
        }
        match next {
            None => return Ok(()),
            Some(next) if !seen.insert(next.clone()) => {
                return Err(Error::RepeatedCursor { cursor: next });
            }
            Some(next) => cursor = Some(next),
        }
    }
}

/// One page of `listUsers` at the largest size.
pub async fn users_page(client: &Client, cursor: Option<String>) -> Result<Page<UserV1>> {
    let call = client.call();
    let request = call.api().list_users().pagination_count(MAX_PAGE_SIZE);
    let request = match cursor {
        Some(c) => request.pagination_cursor(c),
        None => request,
    };
    let data = call.send(request).await?.data;
    Ok(Page::new(data.users, data.pagination))
}

/// One page of `listUserGroups` at the largest size.
pub(crate) async fn groups_page(
    client: &Client,
    cursor: Option<String>,
) -> Result<Page<UserGroupV1>> {
    let call = client.call();
    let request = call
        .api()
        .list_user_groups()
        .pagination_count(MAX_PAGE_SIZE);
    let request = match cursor {
        Some(c) => request.pagination_cursor(c),
        None => request,
    };
    let data = call.send(request).await?.data;
    Ok(Page::new(data.user_groups, data.pagination))
}

/// One page of `listInvites` at the largest size.
pub async fn invites_page(client: &Client, cursor: Option<String>) -> Result<Page<String>> {
    let call = client.call();
    let request = call.api().list_invites().pagination_count(MAX_PAGE_SIZE);
    let request = match cursor {
        Some(c) => request.pagination_cursor(c),
        None => request,
    };
    let data = call.send(request).await?.data;
    Ok(Page::new(data.invites, data.pagination))
}

/// The source `id` with its labels, reading `listSources` a page at a time (the largest
/// size, [`read_pages_until`]) and stopping at the page that holds it. A source the workspace
/// does not have is [`Error::InvalidInput`] naming the id.
pub(crate) async fn find_source(client: &Client, id: &str) -> Result<Source> {
    let mut read: u64 = 0;
    let mut found = None;
    read_pages_until(
        None,
        |cursor| async move {
            let call = client.call();
            let request = call.api().list_sources().pagination_count(MAX_PAGE_SIZE);
            let request = match cursor {
                Some(c) => request.pagination_cursor(c),
                None => request,
            };
            let data = call.send(request).await?.data;
            Ok(Page::new(data.sources, data.pagination))
        },
        |sources| {
            read += sources.len() as u64;
            found = sources.into_iter().find(|s| s.id == id);
            found.is_some()
        },
    )
    .await?;
    found.map(Source::from).ok_or_else(|| {
        Error::invalid(
            "resource",
            format!(
                "SOURCE:{id} is not a source of the workspace (none of its {read} sources has that id)"
            ),
        )
    })
}
