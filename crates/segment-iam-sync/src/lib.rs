//! Access as code for Segment workspaces: a YAML file declares people, groups and permissions;
//! [`export()`] writes the live workspace as such a file, [`plan()`] diffs a file against the live
//! workspace into the fewest requests, and [`apply()`] carries a plan out, safely;
//! [`explain()`] says who made each drift and when, from the audit trail.
//!
//! # The file
//!
//! ```yaml
//! version: 1
//! workspace: 9aQ1Lj62S4bomZKLF4DPqW   # optional guard: a token of another workspace is refused
//! prune: { groups: false, users: false, labels: false }
//! labels: [environment:dev, environment:prod]
//! users:
//!   ana@example.com:
//!     permissions:
//!       - role: Workspace Owner          # role name (any case) or id
//!         resources: [workspace]         # `workspace` or TYPE:ID
//!       - role: Source Admin
//!         resources: [workspace]
//!         expires: 2027-03-31            # to the end of that day UTC (or an RFC 3339 instant)
//!   bo@example.com: {}
//! groups:
//!   Analysts:
//!     members: [ana@example.com, bo@example.com, {email: cy@example.com, expires: 2027-03-31}]
//!     members_mode: exact                # default; `additive` never removes (but expiry does)
//!     permissions:
//!       - role: Source Read-only
//!         resources: [workspace, "SOURCE:qQEHquLrjRDN9j1ByrChyn"]
//!       - role: Source Admin
//!         resources: [workspace]
//!         labels: [environment:prod]     # only sources labelled environment:prod
//! ```
//!
//! # Semantics
//!
//! * **People** under `users` must be in the workspace: a user, or a pending invitee. One who
//!   is neither is invited, with their permissions, in as few `createInvites` as possible.
//!   Emails compare case-insensitively.
//! * **Direct permissions** of a listed user are exactly the listed ones: none when
//!   `permissions` is absent or empty. Permissions compare as sets of (role, resource) pairs,
//!   so `[A, B]` in one permission equals `[A]` and `[B]` in two. A pending invitee's
//!   permissions cannot be read back through the API: they are neither checked nor changed,
//!   and the plan says so. People not listed under `users` keep their permissions.
//! * **Groups** listed are created when missing; their permissions are exactly the listed ones,
//!   their members exactly the listed ones (`members_mode: exact`) or at least them
//!   (`additive`). A member must be a user, a pending invitee, or listed under `users`;
//!   otherwise the plan fails before anything is sent. Groups not listed are left alone.
//! * **Prune**: `prune.groups` deletes groups the file does not list; `prune.users` deletes
//!   users and withdraws pending invites the file lists nowhere (neither under `users` nor as
//!   a group member). Both are off by default.
//! * **Labels**: a permission entry's `labels: [environment:prod, region:emea]` narrow each of
//!   its resources (AND); a narrowed grant is another grant than the plain one, so adding or
//!   dropping a label replaces the grant (one request). Top-level `labels:` lists the
//!   workspace's labels: missing ones are created first; with `prune.labels`, unlisted ones
//!   that no grant (after the plan) and no source uses are deleted last. A grant using a
//!   label neither live nor listed is refused at its line. Only a plain Workspace Owner
//!   counts for the last-owner guard.
//! * **Expiry**: `expires:` on a permission entry (a person's or a group's) or on a member
//!   (`{email: .., expires: ..}`) is a date, lasting to the end of that day UTC, or an RFC 3339
//!   instant. From then on the entry counts as absent ([`AccessFile::at`]): the plan removes
//!   it like any other unlisted grant or member — an expired member leaves even an `additive`
//!   group, and is not deleted by `prune.users` for it — with every guard in force, and says
//!   "expired on …" at the step that removes it ([`Plan::expired`]). Entries ending within
//!   [`PlanOptions::warn_expiring`] are kept and listed ([`Plan::expiring`]). The instant is
//!   the caller's ([`plan_with`]); [`plan()`] reads the system clock.
//!
//! # Guarantees
//!
//! * **Fewest requests**: per group, the cheaper of add + chunked removal or one replace;
//!   permissions added when only added, replaced otherwise; every new person in one
//!   `createInvites`; people being deleted are not removed from groups first (the service
//!   drops their memberships). [`Plan::requests`] is exactly what [`apply()`] sends, retries
//!   aside.
//! * **Safe order**: creations and additions, then replacements, then removals and
//!   deletions, so someone moved between groups never loses access in between.
//! * **Guards**: a plan that would leave nobody holding "Workspace Owner" on the workspace
//!   (when someone holds it now) is refused; [`apply()`] refuses more removals than
//!   [`ApplyOptions::removal_cap`] allows. Both rules are the facade's
//!   ([`segment_iam::guard`]), refused as [`Error::Refused`]. A file whose `workspace` is
//!   another one is refused ([`Error::Guard`]); a saved plan is refused once the workspace has
//!   changed ([`ApplyOptions::verify_fresh`]).
//! * **Resumable and idempotent**: a plan is computed from the live workspace, so after an
//!   interruption anywhere, planning and applying the same file again converges; a group or an
//!   invite whose creation may have arrived is looked up, never sent twice. A second apply of
//!   the same file sends nothing.
//! * **Overlapping applies**: applies of one file at once all succeed with the file's state; a
//!   creation another run finished is used, and duplicate group names (where the service
//!   accepts them) are merged into one survivor by a rule every run computes alike (see
//!   [`apply`](mod@apply)).

//!
//! # From code
//!
//! Read, plan and apply; or edit a file first, with plain strings:
//!
//! ```no_run
//! use segment_iam::Client;
//! use segment_iam::guard::RemovalCap;
//! use segment_iam::jobs::JobOptions;
//! use segment_iam_sync::{
//!     AccessFile, ApplyOptions, GroupEntry, Live, PermissionEntry, ReadOptions, UserEntry,
//! };
//!
//! # async fn run(client: Client, text: &str) -> segment_iam_sync::Result<()> {
//! let mut file = AccessFile::parse(text)?;
//! if let Some(analysts) = file.groups.get_mut("Analysts") {
//!     analysts.add_member("cy@example.com");
//! }
//! file.groups.insert(
//!     "Support",
//!     GroupEntry::new()
//!         .members(["bo@example.com"])
//!         .permission(PermissionEntry::new("Source Read-only", ["workspace"])),
//! );
//! file.users.insert("cy@example.com", UserEntry::new());
//!
//! let live = Live::read_for(&client, &file, &ReadOptions::new()).await?;
//! let plan = segment_iam_sync::plan(&file, &live, &client)?; // nothing sent yet
//! print!("{plan}");
//! let options = ApplyOptions::new().removal_cap(RemovalCap::at(10)).concurrency(1);
//! let report = segment_iam_sync::apply(&client, &plan, &options).await?;
//! println!("{} of {} mutations, waited {:?}", report.mutations_done, plan.requests(), report.waited);
//! # Ok(()) }
//! ```

pub mod apply;
mod dates;
mod error;
pub mod expiry;
pub mod explain;
pub mod export;
pub mod file;
mod grant;
pub mod live;
pub mod plan;
mod read;
mod report;
mod scope;

pub use apply::{ApplyOptions, DEFAULT_MAX_REMOVALS, apply, check_fresh};
pub use error::{Error, Result};
pub use expiry::Dated;
pub use explain::{ExplainOptions, Explained, Explanations, explain};
pub use export::export;
pub use file::{
    AccessFile, Entries, GroupEntry, Member, MembersMode, PermissionEntry, Prune, UserEntry, schema,
};
pub use grant::Grant;
pub use live::{Live, Scope, Scoped};
pub use plan::{
    Action, Ending, Expiry, GroupRef, Plan, PlanOptions, Step, Subject, plan, plan_with,
};
pub use report::{ApplyReport, MergedGroup};
/// What [`Live::read`] and [`Live::read_for`] take: how to read the workspace (group members
/// or not, concurrency, progress).
pub use segment_iam::jobs::read::{Members, ReadOptions};
