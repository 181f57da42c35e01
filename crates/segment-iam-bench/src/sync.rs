//! Scenario 7, access as code (`segment-iam-sync`): a seeded workspace of 5,000 users and 200
//! groups is exported, the file is changed the way a week of access requests changes it, and
//! the change is planned and applied.
//!
//! * Workspace (a fixture drawn from a seeded RNG, the same every run): each user in 1–3
//!   groups, drawn with weights so that 2 groups hold over 1,000 members (two pages of
//!   members at page size 1,000), 4 hold about 300 and the rest about 33; direct permissions
//!   on about a tenth of the users (2 "Workspace Owner" on the workspace, "Source Admin" on
//!   sources, "Source Read-only" on the workspace), and group permissions ("Source Read-only",
//!   "Source Admin" on 1–3 sources; a tenth of the groups none); about a tenth of the
//!   grants (owners aside) narrowed by `environment:prod` or `environment:dev`, so the
//!   export, the plan and the minimum all compare grants with their labels.
//! * Desired file: `export_from` the live read, then 2 % membership churn (half of it removals,
//!   half additions, each on a group drawn uniformly, so spread over groups), 10 permission
//!   changes (3 additions and 2 removals on users, the same on groups, 10 distinct subjects,
//!   owners untouched) and 20 new people under `users` (every other one with a permission, 12
//!   of them added to 1–2 groups).
//! * (a) The mutations `apply` sends, counted in the emulator's journal (429s apart), against
//!   the minimum computed here from the two files, without the planner: per changed group the
//!   cheaper of ([adds > 0] + the removal's URL-sized chunks) and one replace, one request per
//!   subject whose permissions changed, one `createInvites` for all new people. The plan's
//!   [`Plan::requests`](segment_iam_sync::Plan::requests) must equal the journal's count.
//! * (b) The same mutations against what a Terraform-provider-style tool sends for the same
//!   change (counted from the diff, not executed): per changed group one replace of its
//!   members and one of its permissions, one permission replace per changed user, one invite
//!   per new person.
//! * (c) The apply's wall time at 60 mutations per 1 s window against its floor, as scenario 3
//!   computes it: (⌈mutations ÷ 60⌉ − 1) windows, plus the time the last window's requests
//!   take, which is their share of the same apply's wall time with no limit (measured first,
//!   on an identical workspace). Judged with the default [`ApplyOptions`] (one step at a
//!   time); the same apply with 4 steps in flight is shown beside it, with each run's lateness
//!   at the window boundaries read from the journal.
//! * (d) Planning (reading the workspace whole, then the diff) with 20 ms added to every list
//!   page: group listings 8 at a time vs one at a time.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::time::{Duration, Instant};

use segment_iam::Client;
use segment_iam::guard::RemovalCap;
use segment_iam::jobs::JobOptions;
use segment_iam::jobs::read::ReadOptions;
use segment_iam_emulator::seed::WORKSPACE_ID;
use segment_iam_emulator::state::{DEFAULT_ROLES, PermissionInput, PermissionResource};
use segment_iam_emulator::{Emulator, EmulatorHandle, Fixture, FixtureGroup, FixtureUser};
use segment_iam_sync::file::{AccessFile, GroupEntry, PermissionEntry, UserEntry};
use segment_iam_sync::{ApplyOptions, Live, Plan, apply, plan};

use crate::common::{self, Outcome, SETUP_TOKEN, TOKEN};
use crate::report::{Report, Verdict};

/// Mutations allowed per window in (c), as in scenario 3.
const LIMIT: u32 = 60;
/// The window in (c), as in scenario 3.
const WINDOW: Duration = Duration::from_secs(1);
/// The seed of everything drawn here.
const SEED: u64 = 7;
/// The emulator's URL limit (its default), for the removal chunks of the minimum.
const MAX_URL_LEN: usize = 8192;

/// SplitMix64: a small seeded generator, the same on every platform.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    /// True with probability `percent` %.
    fn percent(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

fn role_id(name: &str) -> Outcome<&'static str> {
    DEFAULT_ROLES
        .iter()
        .find(|(_, n, _)| *n == name)
        .map(|(id, _, _)| *id)
        .ok_or_else(|| format!("the emulator has no role {name:?}"))
}

fn resource(kind: &str, id: &str) -> PermissionResource {
    PermissionResource {
        id: id.to_string(),
        resource_type: kind.to_string(),
        labels: Vec::new(),
    }
}

fn source(k: usize) -> String {
    format!("src{k:02}qQEHquLrjRDN9j1By")
}

/// The seeded workspace (see the module docs).
fn workspace(users: usize, groups: usize) -> Outcome<Fixture> {
    let mut rng = Rng(SEED);
    let owner = role_id("Workspace Owner")?;
    let admin = role_id("Source Admin")?;
    let read_only = role_id("Source Read-only")?;
    let sources = 30;
    let email = |i: usize| format!("user{i:05}@example.com");

    let fixture_users: Vec<FixtureUser> = (0..users)
        .map(|i| {
            let permissions = if i < 2 {
                vec![PermissionInput {
                    role_id: owner.to_string(),
                    resources: vec![resource("WORKSPACE", WORKSPACE_ID)],
                }]
            } else if rng.percent(4) {
                let n = 1 + rng.below(2);
                vec![PermissionInput {
                    role_id: admin.to_string(),
                    resources: (0..n)
                        .map(|_| resource("SOURCE", &source(rng.below(sources))))
                        .map(|r| (r.id.clone(), r))
                        .collect::<BTreeMap<_, _>>()
                        .into_values()
                        .collect(),
                }]
            } else if rng.percent(6) {
                vec![PermissionInput {
                    role_id: read_only.to_string(),
                    resources: vec![resource("WORKSPACE", WORKSPACE_ID)],
                }]
            } else {
                Vec::new()
            };
            FixtureUser {
                name: format!("User {i}"),
                email: email(i),
                permissions,
                ..FixtureUser::default()
            }
        })
        .collect();

    // Group weights: 2 large, 4 medium, the rest small.
    let weight = |g: usize| match g {
        0 | 1 => 360,
        2..=5 => 90,
        _ => 10,
    };
    let cumulative: Vec<usize> = (0..groups)
        .scan(0, |sum, g| {
            *sum += weight(g);
            Some(*sum)
        })
        .collect();
    let total = cumulative.last().copied().unwrap_or(0).max(1);
    let mut members: Vec<Vec<String>> = vec![Vec::new(); groups];
    for i in 0..users {
        let k = 1 + rng.below(3);
        let mut mine: BTreeSet<usize> = BTreeSet::new();
        while mine.len() < k.min(groups) {
            let x = rng.below(total);
            mine.insert(cumulative.partition_point(|&c| c <= x));
        }
        for g in mine {
            members[g].push(email(i));
        }
    }
    let fixture_groups = members
        .into_iter()
        .enumerate()
        .map(|(g, members)| {
            let permissions = if g < 2 {
                vec![PermissionInput {
                    role_id: read_only.to_string(),
                    resources: vec![resource("WORKSPACE", WORKSPACE_ID)],
                }]
            } else if rng.percent(10) {
                Vec::new()
            } else {
                let role = if rng.percent(40) { admin } else { read_only };
                let n = 1 + rng.below(3);
                vec![PermissionInput {
                    role_id: role.to_string(),
                    resources: (0..n)
                        .map(|_| resource("SOURCE", &source(rng.below(sources))))
                        .map(|r| (r.id.clone(), r))
                        .collect::<BTreeMap<_, _>>()
                        .into_values()
                        .collect(),
                }]
            };
            FixtureGroup {
                name: format!("Team {g:03}"),
                members,
                permissions,
                ..FixtureGroup::default()
            }
        })
        .collect();
    let mut fixture = Fixture {
        users: fixture_users,
        groups: fixture_groups,
        ..Fixture::default()
    };
    narrow_a_tenth(&mut fixture);
    Ok(fixture)
}

/// Narrows about a tenth of the grants (owners aside) by `environment:prod` or
/// `environment:dev` (every workspace has both), drawn from a generator of their own so that
/// the rest of the workspace is the one drawn before labels.
fn narrow_a_tenth(fixture: &mut Fixture) {
    let mut rng = Rng(SEED ^ 0x1abe1);
    let Ok(owner) = role_id("Workspace Owner") else {
        return;
    };
    let permissions = fixture
        .users
        .iter_mut()
        .flat_map(|u| &mut u.permissions)
        .chain(fixture.groups.iter_mut().flat_map(|g| &mut g.permissions));
    for permission in permissions.filter(|p| p.role_id != owner) {
        for resource in &mut permission.resources {
            if rng.percent(10) {
                let value = if rng.percent(50) { "prod" } else { "dev" };
                resource.labels = vec![segment_iam_emulator::state::Label {
                    key: "environment".into(),
                    value: value.into(),
                    description: None,
                }];
            }
        }
    }
}

/// What was changed in the file, for the notes.
#[derive(Debug, Default)]
struct Changes {
    memberships: usize,
    removed: usize,
    added: usize,
    new_people: usize,
    new_people_in_groups: usize,
}

fn key(email: &str) -> String {
    email.trim().to_lowercase()
}

fn has_owner(permissions: &[PermissionEntry]) -> bool {
    permissions
        .iter()
        .any(|p| p.role.value.eq_ignore_ascii_case("Workspace Owner"))
}

/// The export, changed as the module docs say.
fn change(file: &mut AccessFile) -> Outcome<Changes> {
    let mut rng = Rng(SEED ^ 0x5eed);
    let mut changes = Changes::default();
    let groups = file.groups.0.len();
    if groups == 0 {
        return Err("the export has no groups".into());
    }
    let people: Vec<String> = file.users.0.iter().map(|(e, _)| e.value.clone()).collect();
    changes.memberships = file.groups.0.iter().map(|(_, g)| g.members.len()).sum();
    let churn = (changes.memberships as f64 * 0.02).round() as usize;
    let removals = churn / 2;
    let additions = churn - removals;

    // Removals: a group drawn uniformly, a member of it drawn uniformly.
    let mut touched: HashSet<(usize, String)> = HashSet::new();
    while changes.removed < removals {
        let g = rng.below(groups);
        let entry = &mut file.groups.0[g].1;
        if entry.members.is_empty() {
            continue;
        }
        let m = rng.below(entry.members.len());
        let gone = entry.members.remove(m);
        touched.insert((g, key(&gone.value)));
        changes.removed += 1;
    }
    // Additions: a group drawn uniformly, someone not in it (and not just removed from it).
    while changes.added < additions {
        let g = rng.below(groups);
        let who = &people[rng.below(people.len())];
        let entry = &mut file.groups.0[g].1;
        if touched.contains(&(g, key(who)))
            || entry.members.iter().any(|m| key(&m.value) == key(who))
        {
            continue;
        }
        entry
            .members
            .push(segment_iam_sync::file::Member::new(who.clone()));
        touched.insert((g, key(who)));
        changes.added += 1;
    }

    // Permissions: 3 additions and 2 removals on users, the same on groups, 10 subjects.
    let mut users_done: HashSet<usize> = HashSet::new();
    let mut pick_user = |rng: &mut Rng, file: &AccessFile, with: bool| -> usize {
        loop {
            let u = rng.below(file.users.0.len());
            let perms = &file.users.0[u].1.permissions;
            if !users_done.contains(&u) && !has_owner(perms) && perms.is_empty() != with {
                users_done.insert(u);
                return u;
            }
        }
    };
    for n in 0..3 {
        let u = pick_user(&mut rng, file, false);
        file.users.0[u].1.permissions.push(PermissionEntry::new(
            "Source Admin",
            [format!("SOURCE:{}", source(40 + n))],
        ));
    }
    for _ in 0..2 {
        let u = pick_user(&mut rng, file, true);
        file.users.0[u].1.permissions.pop();
    }
    let mut groups_done: HashSet<usize> = HashSet::new();
    for n in 0..3 {
        let g = loop {
            let g = rng.below(groups);
            if groups_done.insert(g) {
                break g;
            }
        };
        file.groups.0[g].1.permissions.push(PermissionEntry::new(
            "Warehouse Admin",
            [format!("WAREHOUSE:wh{n}aLrjRDN9j1ByrChyn")],
        ));
    }
    for _ in 0..2 {
        let g = loop {
            let g = rng.below(groups);
            if !file.groups.0[g].1.permissions.is_empty() && groups_done.insert(g) {
                break g;
            }
        };
        file.groups.0[g].1.permissions.pop();
    }

    // 20 new people: every other one with a permission, 12 of them in 1–2 groups.
    for i in 0..20 {
        let email = format!("new.hire{i:02}@example.com");
        let mut entry = UserEntry::default();
        if i % 2 == 0 {
            entry.permissions.push(PermissionEntry::new(
                "Source Read-only",
                ["workspace".to_string()],
            ));
        }
        file.users.push(email.clone(), entry);
        changes.new_people += 1;
        if i < 12 {
            changes.new_people_in_groups += 1;
            let n = 1 + rng.below(2);
            let mut chosen: BTreeSet<usize> = BTreeSet::new();
            while chosen.len() < n {
                chosen.insert(rng.below(groups));
            }
            for g in chosen {
                file.groups.0[g]
                    .1
                    .members
                    .push(segment_iam_sync::file::Member::new(email.clone()));
            }
        }
    }
    Ok(changes)
}

/// A grant as the file states it: role (compared case-insensitively), resource, labels.
type FileGrant = (String, String, BTreeSet<String>);

/// Permissions as grants: a narrowed grant is not the plain one.
fn pairs(permissions: &[PermissionEntry]) -> BTreeSet<FileGrant> {
    permissions
        .iter()
        .flat_map(|p| {
            let labels: BTreeSet<String> = p
                .labels
                .iter()
                .map(|l| l.value.trim().to_string())
                .collect();
            p.resources.iter().map(move |r| {
                (
                    p.role.value.trim().to_lowercase(),
                    r.value.trim().to_string(),
                    labels.clone(),
                )
            })
        })
        .collect()
}

fn member_keys(group: &GroupEntry) -> BTreeSet<String> {
    group.members.iter().map(|m| key(&m.value)).collect()
}

/// How many `removeUsersFromUserGroup` requests `emails` need under the URL limit: greedy
/// packing of `emails.N=` parameters after `base/group/{id}/users?` (the documented path).
fn removal_chunks(base: &str, group_id: &str, emails: &[String]) -> usize {
    if emails.is_empty() {
        return 0;
    }
    let prefix = format!("{base}/group/{group_id}/users?").len();
    let (mut chunks, mut len, mut in_chunk) = (1, prefix, 0usize);
    for e in emails {
        let encoded =
            percent_encoding::utf8_percent_encode(e, percent_encoding::NON_ALPHANUMERIC).count();
        let param = usize::from(in_chunk > 0) + format!("emails.{in_chunk}=").len() + encoded;
        if in_chunk > 0 && len + param > MAX_URL_LEN {
            chunks += 1;
            len = prefix + "emails.0=".len() + encoded;
            in_chunk = 1;
        } else {
            len += param;
            in_chunk += 1;
        }
    }
    chunks
}

/// The minimum and the Terraform-style count, from the two files alone.
#[derive(Debug, Default)]
struct Diff {
    minimum: usize,
    terraform: usize,
    groups_changed: usize,
    groups_members_changed: usize,
    groups_permissions_changed: usize,
    users_changed: usize,
    new_people: usize,
}

fn diff(
    before: &AccessFile,
    after: &AccessFile,
    base: &str,
    group_ids: &HashMap<String, String>,
) -> Outcome<Diff> {
    let mut d = Diff::default();
    let before_users: HashMap<String, BTreeSet<FileGrant>> = before
        .users
        .iter()
        .map(|(e, u)| (key(&e.value), pairs(&u.permissions)))
        .collect();
    for (email, entry) in after.users.iter() {
        match before_users.get(&key(&email.value)) {
            None => d.new_people += 1,
            Some(had) if *had != pairs(&entry.permissions) => d.users_changed += 1,
            Some(_) => {}
        }
    }
    let before_groups: HashMap<&str, &GroupEntry> = before
        .groups
        .iter()
        .map(|(n, g)| (n.value.as_str(), g))
        .collect();
    let mut member_requests = 0;
    for (name, entry) in after.groups.iter() {
        let had = before_groups
            .get(name.value.as_str())
            .ok_or_else(|| format!("group {:?} is new; this diff expects none", name.value))?;
        let (now, wanted) = (member_keys(had), member_keys(entry));
        let adds = wanted.difference(&now).count();
        let removes: Vec<String> = now.difference(&wanted).cloned().collect();
        let members_changed = adds > 0 || !removes.is_empty();
        if members_changed {
            let id = group_ids
                .get(&name.value)
                .ok_or_else(|| format!("no id for group {:?}", name.value))?;
            let split = usize::from(adds > 0) + removal_chunks(base, id, &removes);
            member_requests += split.min(1);
            d.groups_members_changed += 1;
        }
        let permissions_changed = pairs(&had.permissions) != pairs(&entry.permissions);
        if permissions_changed {
            d.groups_permissions_changed += 1;
        }
        if members_changed || permissions_changed {
            d.groups_changed += 1;
        }
    }
    d.minimum = member_requests
        + d.groups_permissions_changed
        + d.users_changed
        + usize::from(d.new_people > 0);
    d.terraform = 2 * d.groups_changed + d.users_changed + d.new_people;
    Ok(d)
}

fn client(emu: &EmulatorHandle, token: &str) -> Outcome<Client> {
    Client::builder()
        .token(token)
        .base_url(emu.base_url())
        .build()
        .map_err(|e| format!("building the SDK client: {e}"))
}

async fn start(fixture: Fixture, limited: bool, delay: Duration) -> Outcome<EmulatorHandle> {
    let builder = Emulator::builder()
        .token(TOKEN)
        .token(SETUP_TOKEN)
        .fixture(fixture)
        .list_delay(delay);
    let builder = if limited {
        builder.mutation_limit(LIMIT).window(WINDOW)
    } else {
        builder.rate_limits(false)
    };
    builder.start().await.map_err(|e| e.to_string())
}

/// Mutations in the journal that were not turned away by the limiter, and the 429s.
fn mutations(emu: &EmulatorHandle) -> Outcome<(usize, usize)> {
    let journal = emu.journal();
    let sent: Vec<_> = journal.iter().filter(|e| e.method != "GET").collect();
    if let Some(e) = sent.iter().find(|e| !e.rate_limited && !e.applied) {
        return Err(format!(
            "a mutation was not applied: {} {} answered {}",
            e.method, e.path, e.status
        ));
    }
    let limited = sent.iter().filter(|e| e.rate_limited).count();
    Ok((sent.len() - limited, limited))
}

/// One apply of `desired` on a fresh emulator: the plan, the mutations journaled, the 429s,
/// the wall time of the apply, and the requests of a second plan afterwards.
struct Applied {
    plan: Plan,
    mutations: usize,
    rate_limited: usize,
    wall: Duration,
    replan: u64,
    /// Time the client spent waiting on pacing and 429s.
    waited: Duration,
    /// Window boundaries crossed and the summed lateness (see [`common::window_lateness`]).
    late: (u32, Duration),
}

async fn apply_once(
    fixture: Fixture,
    limited: bool,
    desired: &AccessFile,
    options: &ApplyOptions,
) -> Outcome<Applied> {
    let emu = start(fixture, limited, Duration::ZERO).await?;
    // Reading and planning with the setup token, so the measured token's windows are fresh.
    let setup = client(&emu, SETUP_TOKEN)?;
    let live = Live::read(&setup, &ReadOptions::new())
        .await
        .map_err(|e| format!("reading the workspace: {e}"))?;
    let planned = plan(desired, &live, &setup).map_err(|e| format!("planning: {e}"))?;
    let measured = client(&emu, TOKEN)?;
    emu.clear_journal();
    let started = Instant::now();
    apply(&measured, &planned, options)
        .await
        .map_err(|e| format!("applying: {e}"))?;
    let waited = measured.metrics().waited;
    let wall = started.elapsed();
    let (mutations, rate_limited) = mutations(&emu)?;
    let journal: Vec<_> = emu
        .journal()
        .into_iter()
        .filter(|e| e.method != "GET")
        .collect();
    let late = common::window_lateness(&journal, WINDOW);
    let live = Live::read(&setup, &ReadOptions::new())
        .await
        .map_err(|e| format!("reading the workspace again: {e}"))?;
    let replan = plan(desired, &live, &setup)
        .map_err(|e| format!("planning again: {e}"))?
        .requests();
    emu.shutdown().await;
    Ok(Applied {
        plan: planned,
        mutations,
        rate_limited,
        wall,
        replan,
        waited,
        late,
    })
}

/// The plan's steps by kind, e.g. `AddMembers 63 steps / 63 requests`.
fn breakdown(plan: &Plan) -> String {
    let mut kinds: BTreeMap<String, (usize, u64)> = BTreeMap::new();
    for step in &plan.steps {
        let debug = format!("{:?}", step.action);
        let kind = debug
            .split([' ', '{', '('])
            .next()
            .unwrap_or_default()
            .to_string();
        let e = kinds.entry(kind).or_default();
        e.0 += 1;
        e.1 += step.requests;
    }
    kinds
        .into_iter()
        .map(|(k, (steps, requests))| format!("{k} {steps}/{requests}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs the scenario; `quick` shrinks the workspace to 1,000 users and 40 groups.
pub async fn run(report: &mut Report, quick: bool) -> Outcome<()> {
    let (users, groups) = if quick { (1_000, 40) } else { (5_000, 200) };
    let fixture = workspace(users, groups)?;
    let largest: Vec<usize> = {
        let mut sizes: Vec<usize> = fixture.groups.iter().map(|g| g.members.len()).collect();
        sizes.sort_unstable_by(|a, b| b.cmp(a));
        sizes.into_iter().take(6).collect()
    };
    let label = |part: &str| {
        format!(
            "7{part} access as code, {} users / {groups} groups",
            common::count(users as u64)
        )
    };

    // The export and the desired file, from a workspace without limits.
    let emu = start(fixture.clone(), false, Duration::ZERO).await?;
    let setup = client(&emu, SETUP_TOKEN)?;
    let live = Live::read(&setup, &ReadOptions::new())
        .await
        .map_err(|e| format!("reading the workspace: {e}"))?;
    let exported =
        segment_iam_sync::export::export_from(&live).map_err(|e| format!("export: {e}"))?;
    let unchanged = plan(&exported, &live, &setup)
        .map_err(|e| format!("planning the export: {e}"))?
        .requests();
    let mut desired = exported.clone();
    let changes = change(&mut desired)?;
    let group_ids: HashMap<String, String> = live
        .groups
        .iter()
        .map(|g| (g.name.clone(), g.id.clone()))
        .collect();
    let d = diff(&exported, &desired, &emu.base_url(), &group_ids)?;
    emu.shutdown().await;

    // The apply without limits (the floor's last-window time), then under 60 / 1 s with the
    // default options (one step at a time), then, for comparison, 4 steps in flight.
    let options = ApplyOptions::new().removal_cap(RemovalCap::off());
    let free = apply_once(fixture.clone(), false, &desired, &options).await?;
    let paced = apply_once(fixture.clone(), true, &desired, &options).await?;
    let four_in_flight = apply_once(
        fixture.clone(),
        true,
        &desired,
        &options.clone().concurrency(4),
    )
    .await?;

    // (d) planning with 20 ms per list page: group listings 8 at a time vs one at a time.
    let delay = Duration::from_millis(20);
    let emu = start(fixture, false, delay).await?;
    let mut timed = Vec::new();
    for concurrency in [1, 8] {
        // A fresh client each time: the client keeps the workspace once read.
        let reader = client(&emu, TOKEN)?;
        emu.clear_journal();
        let started = Instant::now();
        let live = Live::read(&reader, &ReadOptions::new().concurrency(concurrency))
            .await
            .map_err(|e| format!("reading the workspace: {e}"))?;
        let planned = plan(&desired, &live, &reader).map_err(|e| format!("planning: {e}"))?;
        let wall = started.elapsed();
        timed.push((wall, planned.requests(), emu.journal().len()));
    }
    emu.shutdown().await;
    let [(t1, p1, reads1), (t8, p8, reads8)] = timed[..] else {
        return Err("planning did not run twice".into());
    };

    // (a) mutations vs the minimum, and the plan's own count.
    let n = paced.mutations;
    report.row(
        label("a"),
        "mutations sent by apply vs the minimum from the diff (journal, 429s apart)",
        n.to_string(),
        format!("{} (minimum from the diff)", d.minimum),
        common::ratio(n as f64 / d.minimum.max(1) as f64),
        "= 1.00×",
        Verdict::check(n == d.minimum),
    );
    let stated = paced.plan.requests();
    report.row(
        label("a"),
        "`Plan::requests()` vs mutations journaled (limited run / unlimited run)",
        stated.to_string(),
        format!("{n} / {}", free.mutations),
        common::ratio(stated as f64 / n.max(1) as f64),
        "equal",
        Verdict::check(
            stated == n as u64
                && free.plan.requests() == free.mutations as u64
                && four_in_flight.plan.requests() == four_in_flight.mutations as u64,
        ),
    );
    // (b) vs the Terraform-provider-style count.
    let tf = d.terraform;
    let r = n as f64 / tf.max(1) as f64;
    report.row(
        label("b"),
        "mutations vs a Terraform-provider-style apply",
        n.to_string(),
        format!(
            "{tf} (2 × {} changed groups + {} changed users + {} invites; counted, not sent)",
            d.groups_changed, d.users_changed, d.new_people
        ),
        common::ratio(r),
        "≤ 1.00×",
        Verdict::check(r <= 1.0),
    );
    // (c) wall time under 60 / 1 s vs the fixed-window floor.
    let windows = n.div_ceil(LIMIT as usize).max(1);
    let last = n - (windows - 1) * LIMIT as usize;
    let last_time = free
        .wall
        .mul_f64(last as f64 / free.mutations.max(1) as f64);
    let floor = WINDOW * (windows as u32 - 1) + last_time;
    let r = paced.wall.as_secs_f64() / floor.as_secs_f64();
    report.row(
        label("c"),
        "apply wall time at 60 mutations / 1 s window vs the fixed-window floor (default options: one step at a time)",
        format!(
            "{} ({n} mutations, {} 429s)",
            common::secs(paced.wall),
            paced.rate_limited
        ),
        format!(
            "{} (= {} × 1 s + {last} of {} unlimited requests' {})",
            common::secs(floor),
            windows - 1,
            free.mutations,
            common::secs(free.wall)
        ),
        common::ratio(r),
        "≤ 1.10×",
        Verdict::check(r <= 1.10),
    );
    let r = four_in_flight.wall.as_secs_f64() / floor.as_secs_f64();
    report.row(
        label("c"),
        "same, `ApplyOptions::concurrency(4)` (4 steps in flight)",
        format!(
            "{} ({} mutations, {} 429s)",
            common::secs(four_in_flight.wall),
            four_in_flight.mutations,
            four_in_flight.rate_limited
        ),
        format!("{} (same floor)", common::secs(floor)),
        common::ratio(r),
        "—",
        Verdict::Info,
    );
    // (d) planning, concurrent vs sequential reads.
    let r = t8.as_secs_f64() / t1.as_secs_f64();
    report.row(
        label("d"),
        "plan wall time (read whole + diff), +20 ms per list page: concurrency 8 vs 1",
        format!("{} ({reads8} reads)", common::secs(t8)),
        format!(
            "{} ({reads1} reads, one group's listings at a time)",
            common::secs(t1)
        ),
        common::ratio(r),
        "≤ 0.25×",
        Verdict::check(r <= 0.25 && p1 == p8),
    );
    report.row(
        label(""),
        "requests planned: export vs itself / after apply (unlimited, limited)",
        format!("{unchanged} / {}, {}", free.replan, paced.replan),
        "—",
        "—",
        "0",
        Verdict::check(unchanged == 0 && free.replan == 0 && paced.replan == 0),
    );
    report.note(format!(
        "scenario 7: {} memberships (largest groups {}); churn removed {} and added {} \
         memberships, 10 permission changes (3 added and 2 removed on users, the same on groups), \
         {} new people ({} of them in groups). Changed: {} groups ({} in members, {} in \
         permissions), {} users. The plan: {} (kind steps/requests). The minimum counts per \
         changed group min([adds > 0] + removal chunks at {MAX_URL_LEN} B, 1 replace), 1 per \
         changed permission set, 1 createInvites. Both plans (concurrency 1 and 8) stated {} and \
         {} requests.",
        common::count(changes.memberships as u64),
        largest
            .iter()
            .map(|s| common::count(*s as u64))
            .collect::<Vec<_>>()
            .join(", "),
        changes.removed,
        changes.added,
        changes.new_people,
        changes.new_people_in_groups,
        d.groups_changed,
        d.groups_members_changed,
        d.groups_permissions_changed,
        d.users_changed,
        breakdown(&paced.plan),
        p1,
        p8,
    ));
    let lateness = |a: &Applied| {
        let (boundaries, late) = a.late;
        format!(
            "crossed {boundaries} window boundaries and started the next window on average \
             {:.0} ms after the previous one had ended; its calls waited {:.2} s in all \
             (summed over steps in flight)",
            late.as_secs_f64() * 1e3 / f64::from(boundaries.max(1)),
            a.waited.as_secs_f64(),
        )
    };
    report.note(format!(
        "scenario 7: under {LIMIT} mutations / 1 s (from the emulator's journal) the default \
         apply (one step at a time) {}; with 4 steps in flight it {}. The unlimited apply of \
         the same plan took {}.",
        lateness(&paced),
        lateness(&four_in_flight),
        common::secs(free.wall),
    ));
    Ok(())
}
