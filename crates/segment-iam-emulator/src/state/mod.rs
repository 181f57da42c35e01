//! The in-memory workspace: users, pending invites, user groups, roles, policies, labels,
//! sources and the audit trail, plus the public snapshot types that describe it.
//!
//! Every collection is a `BTreeMap` keyed by a creation sequence number (one counter for the
//! whole workspace), with hash indexes by id and by email, so lookups are O(1) and a list
//! page is O(page). Memberships are kept on both sides (`Group::users` / `User::groups`,
//! `Group::invites` / `Invite::groups`) so that every list is a range over an ordered set.
//!
//! One concern a file: `values` (the public value types), `defaults` (default roles and
//! workspace), `store` (the store and its changes), `labels` (which labels exist and where
//! they are used) and `snapshot` (copies of it).

mod defaults;
mod labels;
mod snapshot;
mod store;
mod values;

pub use defaults::{DEFAULT_LABELS, DEFAULT_ROLES, WORKSPACE_ID};
pub(crate) use labels::LabelUse;
pub use snapshot::{GroupSnapshot, InviteSnapshot, PolicySnapshot, StateSnapshot, UserSnapshot};
pub use store::DEFAULT_ACTOR;
pub(crate) use store::{Member, Policy, State, email_key};
pub use values::{
    AuditEvent, InvitePermission, Label, PermissionInput, PermissionResource, RESOURCE_TYPES,
    Resource, Role, Source, Workspace,
};
pub(crate) use values::{AuditResource, unix_ms};
