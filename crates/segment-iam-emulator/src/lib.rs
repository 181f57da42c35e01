//! Local emulator of the Segment Public API IAM surface, for tests, examples and benchmarks.
//!
//! An HTTP server (axum on tokio) with in-memory state that answers the 28 IAM operations
//! (users, invites, user groups, permissions, roles, the workspace, its labels, its sources
//! and its audit trail; see [`Operation`])
//! with the documented wire format: `{"data": ...}` / `{"errors": [...]}` envelopes, Bearer
//! authentication, opaque MAC-protected pagination cursors, per-token rate limits with
//! `X-RateLimit-*` headers and the documented 429 body, a URL length limit (414), and both
//! the documented (`emails.0`, `pagination.count`) and the SDKs' bracketed
//! (`emails[0]`, `pagination[count]`) query forms — or only the documented ones in strict
//! mode. Tests can inject faults ([`Fault`]) before or after an operation is applied and
//! read a [`JournalEntry`] per request.
//!
//! A test starts one in-process and drives it through its [`EmulatorHandle`]; operations are
//! named by [`Operation`], so a misspelt one does not compile:
//!
//! ```
//! # #[tokio::main]
//! # async fn main() -> Result<(), segment_iam_emulator::EmulatorError> {
//! use segment_iam_emulator::{Emulator, EmulatorHandle, Fault, Operation};
//!
//! let emu: EmulatorHandle = Emulator::builder().token("T").seed(7).users(250).groups(3).start().await?;
//! emu.inject(Fault::status(503).on_operation(Operation::GetUser).times(2));
//! // point a client at emu.base_url() with `Authorization: Bearer T` ...
//! assert_eq!(emu.applied_count(Operation::GetUser), 0);
//! assert!(emu.journal().iter().all(|e| !e.nonstandard_query));
//! emu.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! The crate's README has a whole test (a lost `createInvites` answer, checked with
//! [`EmulatorHandle::applied_count`]); it runs as a doc test too.
//!
//! The admin endpoints (no token, never rate limited or journaled) are listed in [`admin`].

pub mod admin;
mod app;
mod error;
pub mod faults;
mod handlers;
pub mod journal;
pub mod operations;
pub mod pagination;
pub mod query;
pub mod ratelimit;
mod rfc3339;
pub mod seed;
mod server;
pub mod state;
mod wire;

pub use error::EmulatorError;
pub use faults::{Fault, FaultKind, FaultSpec, Phase, Target};
pub use journal::JournalEntry;
pub use operations::{Operation, UnknownOperation};
pub use seed::{Fixture, FixtureGroup, FixtureInvite, FixtureSource, FixtureUser};
pub use server::{DEFAULT_TOKEN, Emulator, EmulatorBuilder, EmulatorHandle};
pub use state::DEFAULT_ACTOR;
pub use state::{
    AuditEvent, GroupSnapshot, InviteSnapshot, Label, Role, Source, StateSnapshot, UserSnapshot,
    Workspace,
};
pub use wire::is_valid_email;

/// The README's examples, compiled and run as doc tests so they cannot go stale.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
