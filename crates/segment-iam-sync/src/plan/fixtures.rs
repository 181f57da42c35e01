//! Hand-built live workspaces for the phases' unit tests: no server, a client that sends
//! nothing (it only sizes removals under the URL limit).

use std::collections::BTreeSet;
use std::sync::Arc;

use segment_iam::api::types::RoleV1;
use segment_iam::{Client, Label, RoleDirectory};

use crate::file::AccessFile;
use crate::grant::Grant;
use crate::live::{Live, LiveGroup, LiveUser};

/// The workspace every fixture is.
pub const WORKSPACE: &str = "ws1";
/// The owner role's id.
pub const OWNER: &str = "r-owner";
/// Another role's id.
pub const READER: &str = "r-reader";

/// A client that is never asked to send.
pub fn client() -> Client {
    Client::builder()
        .token("t")
        .base_url("http://127.0.0.1:9")
        .build()
        .expect("an offline client builds")
}

/// `role` on the workspace.
pub fn on_workspace(role: &str) -> Grant {
    Grant::new(role, "WORKSPACE", WORKSPACE)
}

/// A live user `id` with `email` and these pairs.
pub fn user(id: &str, email: &str, grants: &[Grant]) -> LiveUser {
    LiveUser {
        id: id.into(),
        email: email.into(),
        grants: grants.iter().cloned().collect(),
    }
}

/// A live group `id` named `name` with these user members and pairs.
pub fn group(id: &str, name: &str, members: &[&str], grants: &[Grant]) -> LiveGroup {
    LiveGroup {
        id: id.into(),
        name: name.into(),
        grants: grants.iter().cloned().collect::<BTreeSet<_>>(),
        members: members.iter().map(|m| m.to_string()).collect(),
        invitees: Vec::new(),
    }
}

/// A live workspace of these users, invites and groups, with the roles "Workspace Owner"
/// and "Reader".
pub fn live(users: Vec<LiveUser>, invites: &[&str], groups: Vec<LiveGroup>) -> Live {
    let role = |id: &str, name: &str| RoleV1 {
        description: String::new(),
        id: id.into(),
        name: name.into(),
    };
    Live {
        workspace_id: WORKSPACE.into(),
        roles: Arc::new(RoleDirectory::new(vec![
            role(OWNER, "Workspace Owner"),
            role(READER, "Reader"),
        ])),
        users,
        invites: invites.iter().map(|e| e.to_string()).collect(),
        groups,
        labels: [label("environment:dev"), label("environment:prod")].into(),
        source_labels: None,
        scope: None,
        reads: 0,
    }
}

/// A label from its text.
pub fn label(text: &str) -> Label {
    text.parse().unwrap_or_else(|e| panic!("{text}: {e}"))
}

/// A file from its YAML.
pub fn file(yaml: &str) -> AccessFile {
    AccessFile::parse(yaml).unwrap_or_else(|e| panic!("{yaml}\n{e}"))
}
