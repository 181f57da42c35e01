//! The values the workspace holds and shows: permissions, resources, labels, sources, roles,
//! the workspace itself and audit events, as the wire format and fixtures spell them.

use std::time::SystemTime;

use serde::{Deserialize, Serialize};

/// A label: one of the workspace's (`LabelV1`), one narrowing a permission
/// (`AllowedLabelBeta`) or one a source carries. Its identity is `key:value`; the description
/// is what the workspace says of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Label {
    /// Label key.
    pub key: String,
    /// Label value.
    pub value: String,
    /// Optional description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

impl Label {
    /// The label `key:value`, without a description.
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Label {
            key: key.into(),
            value: value.into(),
            description: None,
        }
    }

    /// Whether this is the label `key:value` (descriptions aside).
    pub fn is(&self, key: &str, value: &str) -> bool {
        self.key == key && self.value == value
    }

    /// Why `part` (a key or a value) is not well formed, as the documentation says labels
    /// are: an ASCII letter first, then ASCII letters, digits and hyphens. `None` when it is.
    pub fn part_problem(part: &str) -> Option<String> {
        let mut chars = part.chars();
        match chars.next() {
            None => Some("is empty".to_string()),
            Some(c) if !c.is_ascii_alphabetic() => Some(format!("starts with {c:?}, not a letter")),
            Some(_) => chars
                .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
                .map(|c| format!("holds {c:?}; only letters, digits and hyphens are allowed")),
        }
    }
}

impl std::fmt::Display for Label {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.key, self.value)
    }
}

/// A source of the workspace (the part of `SourceV1` the emulator keeps; `listSources` adds
/// the catalogue metadata every source answers with).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    /// Source id (the resource id of `SOURCE` permissions).
    pub id: String,
    /// Slug.
    pub slug: String,
    /// Display name, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Whether it is enabled.
    pub enabled: bool,
    /// Its write keys.
    #[serde(default)]
    pub write_keys: Vec<String>,
    /// The labels it carries, at most one value per key.
    #[serde(default)]
    pub labels: Vec<Label>,
}

/// A resource a permission applies to (`PermissionResourceV1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermissionResource {
    /// Resource id.
    pub id: String,
    /// Resource type (`WORKSPACE`, `SOURCE`, ...; kept as data, not an enum).
    #[serde(rename = "type")]
    pub resource_type: String,
    /// Labels narrowing the permission.
    #[serde(default)]
    pub labels: Vec<Label>,
}

/// A resource without labels (`ResourceV1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Resource {
    /// Resource id.
    pub id: String,
    /// Resource type.
    #[serde(rename = "type")]
    pub resource_type: String,
}

/// A role granted on resources (`PermissionInputV1`), as fixtures give it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PermissionInput {
    /// Role id.
    pub role_id: String,
    /// Resources.
    #[serde(default)]
    pub resources: Vec<PermissionResource>,
}

/// A permission given to an invitee (`InvitePermissionV1`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InvitePermission {
    /// Role id.
    pub role_id: String,
    /// Resources.
    #[serde(default)]
    pub resources: Vec<Resource>,
    /// Labels.
    #[serde(default)]
    pub labels: Vec<Label>,
}

/// A role of the workspace (also a fixture's role: unknown fields are refused there, as in
/// the rest of a fixture).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Role {
    /// Role id.
    pub id: String,
    /// Role name, e.g. `Workspace Owner`.
    pub name: String,
    /// What the role grants (`listRoles` answers it; empty when a fixture gives none).
    #[serde(default)]
    pub description: String,
}

/// One audit-trail event, named as the documentation names it. `listAuditEvents` answers
/// it as `AuditEventV1` (`id`, `timestamp`, `type` = `event`, `actor`, `actorEmail`,
/// `resourceId`, `resourceType`, `resourceName`); `subject` and `detail` are the emulator's
/// own notes for tests.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEvent {
    /// Position in the trail, from 1.
    pub seq: u64,
    /// The event's id on the wire (derived from `seq`).
    #[serde(default)]
    pub id: String,
    /// When it happened (never before the event recorded before it).
    #[serde(with = "unix_ms")]
    pub at: SystemTime,
    /// The documented event name, e.g. `User Group Created`, `Policy Deleted`.
    pub event: String,
    /// Who made the change: the email the token was named for (`--token TOKEN=email`), else
    /// [`DEFAULT_ACTOR`](crate::DEFAULT_ACTOR).
    #[serde(default)]
    pub actor: String,
    /// The resource the event is about: `USER`, `USER_GROUP`, `INVITE` or `LABEL`.
    #[serde(default)]
    pub resource_type: String,
    /// Its id: a user id, group id, an invitee's email or a label's `key:value`.
    #[serde(default)]
    pub resource_id: String,
    /// Its name: a user's or invitee's email, a group's name, a label's `key:value`.
    #[serde(default)]
    pub resource_name: String,
    /// The subject: a user id, group id, invite email or policy id.
    pub subject: String,
    /// Free-form detail (e.g. the group a membership concerns).
    pub detail: String,
}

/// What an audit event is about, as `AuditEventV1` names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AuditResource {
    pub kind: &'static str,
    pub id: String,
    pub name: String,
}

impl AuditResource {
    /// A user: its id, named by its email.
    pub fn user(id: String, email: String) -> Self {
        Self {
            kind: "USER",
            id,
            name: email,
        }
    }

    /// A user group: its id and name.
    pub fn group(id: String, name: String) -> Self {
        Self {
            kind: "USER_GROUP",
            id,
            name,
        }
    }

    /// A pending invite: it has no id but its email.
    pub fn invite(email: &str) -> Self {
        Self {
            kind: "INVITE",
            id: email.to_string(),
            name: email.to_string(),
        }
    }

    /// A label, `key:value`.
    pub fn label(label: &Label) -> Self {
        Self {
            kind: "LABEL",
            id: label.to_string(),
            name: label.to_string(),
        }
    }
}

/// The workspace a token belongs to (`getWorkspace`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Workspace {
    /// Its id: the resource id of `WORKSPACE` permissions.
    pub id: String,
    /// Its slug.
    pub slug: String,
    /// Its display name.
    pub name: String,
}

/// The resource types the service accepts in input.
pub const RESOURCE_TYPES: &[&str] = &["FUNCTION", "SOURCE", "SPACE", "WAREHOUSE", "WORKSPACE"];

pub(crate) mod unix_ms {
    //! `SystemTime` as milliseconds since the Unix epoch.
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::{Duration, SystemTime, UNIX_EPOCH};

    pub fn to_ms(t: &SystemTime) -> u64 {
        t.duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as u64)
            .unwrap_or(0)
    }

    pub fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(to_ms(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        let ms = u64::deserialize(d)?;
        Ok(UNIX_EPOCH + Duration::from_millis(ms))
    }
}
