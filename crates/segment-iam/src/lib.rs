//! A Rust SDK for the IAM part of the Segment Public API: users, invites, user groups and
//! their permissions.
//!
//! * **Handlers per resource**: [`Client::users`], [`Client::invites`], [`Client::groups`],
//!   [`Client::roles`], [`Client::labels`], [`Client::sources`]; [`Client::workspace`] for the
//!   token's workspace; [`Client::audit_events`] for who changed what and when (the audit
//!   trail; a workspace without it is [`Error::AuditTrailUnavailable`], not an empty list).
//! * **Labels are part of a permission**: a [`Permission`] on the workspace may be narrowed by
//!   [`Label`]s ([`Permission::on_narrowed`]); permissions read back compare as [`Grant`]s
//!   (role, resource, label set), so a narrowed grant is never mistaken for the plain one — in
//!   the audit, the planner and the owner guard ([`guard::Ownership`]).
//! * **Names instead of ids**: [`Permission::role`] takes a role's name, resolved once per
//!   client ([`RoleDirectory`]); [`Groups::resolve`] a group's ([`ResolvedGroup`]); [`Resource::ThisWorkspace`] is the token's workspace.
//! * **Lists as streams**: every list returns a [`Paginator`], lazy and one page ahead,
//!   as pages ([`Paginator::pages`]) or items ([`Paginator::items`]).
//! * **Rate limits handled**: requests are paced from the service's `X-RateLimit-*` headers;
//!   a 429 waits exactly what the service advises (`msBeforeNext`), shared by every clone.
//! * **Retries as a value**: [`RetryConfig`] retries transient failures of idempotent
//!   operations with capped, jittered backoff; a POST is never re-sent once it may have arrived.
//! * **Bulk removals split for you**: ids and emails travel as `emails.0=..&emails.1=..`, and
//!   lists too long for one URL are split; a failure reports what was applied ([`Error::Partial`]).
//! * **Input checked before sending**: ids, emails, page sizes ([`Error::InvalidInput`]).
//!
//! ```no_run
//! use futures::TryStreamExt;
//! use segment_iam::{Client, Permission, ResourceType};
//!
//! # async fn demo() -> segment_iam::Result<()> {
//! // Token from SEGMENT_PUBLIC_API_TOKEN; `.base_url(..)` points at the local emulator.
//! let client = Client::builder().build()?;
//! let mut users = client.users().list().page_size(500).items();
//! while let Some(user) = users.try_next().await? {
//!     println!("{} <{}>", user.name, user.email);
//! }
//! let group = client.groups().create("Analysts").await?;
//! client.groups().add_members(&group.id, ["ana@example.com", "bo+qa@example.com"]).await?;
//! client
//!     .groups()
//!     .add_permissions(&group.id, [Permission::new("roleId").resource(ResourceType::Workspace, "wsId")])
//!     .await?;
//! # Ok(()) }
//! ```
//!
//! A runnable tour against the local emulator is `cargo run --example quickstart`.
//!
//! # What is where
//!
//! The crate root is what a caller uses: [`Client`] and its builder, the handlers, the values
//! they take and answer, [`Error`]. Beside it, public modules for the rest: [`email`] (how
//! addresses are checked and compared, for code built on the SDK), [`label`] (labels, sources and
//! how label sets are written), [`guard`] (the removal cap, the last-owner rule and who counts
//! as an owner), [`jobs`] (audit, offboard, onboard, workspace reads), [`api`] (the
//! generated client, with its operation table [`api::Operation`]) and [`types`] (its models).
//! [`ClientBuilder::http_client`] sends through a `reqwest::Client` of your own.
//!
//! Inside, the transport (`src/transport/`: one call, retry, the answer read, pacing, counters)
//! is one layer below the generated client, so facade calls and [`Client::api`] calls are
//! treated alike; wire failures become an [`Error`] in one place (`src/error/from_wire.rs`).

mod batch;
mod cache;
mod client;
mod config;
mod directory;
pub mod email;
mod error;
mod grant;
pub mod guard;
pub mod jobs;
pub mod label;
mod lookup;
mod model;
mod paginate;
pub mod time;
#[macro_use]
mod resources;
mod transport;
mod validate;

pub use batch::BulkOutcome;
pub use client::{Client, ClientBuilder};
pub use config::{
    DEFAULT_MAX_RESPONSE_BYTES, DEFAULT_MAX_URL_LEN, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, Region,
    RetryConfig, TOKEN_ENV,
};
pub use directory::RoleDirectory;
pub use error::{Conflict, Error, Outcome, Result, ServiceError};
pub use grant::{Grant, permissions_of};
pub use label::{Label, Source, WorkspaceLabel};
pub use lookup::Lookup;
pub use model::{Invite, Permission, Resource};
pub use paginate::{Page, Paginator};
pub use resources::{
    AuditEvent, AuditEvents, Groups, Invites, Labels, ResolvedGroup, Roles, Sources, Users,
};
/// The generated low-level client this crate wraps (see [`Client::api`] and [`Call`]).
pub use segment_iam_api as api;
pub use transport::{Call, Metrics, Wait};

pub use segment_iam_api::ResourceType;
/// The generated wire models (`UserV1`, `UserGroupV1`, ...).
pub use segment_iam_api::types;
