//! `/audit-events`: the audit trail, newest first, a page at a time, filtered by time
//! (`startTime` inclusive, `endTime` exclusive, RFC 3339) and by resource (`resourceId`,
//! `resourceType`, exact). A workspace without the audit trail (`audit_trail(false)`)
//! answers 403, as a Business-tier feature the workspace lacks.
//!
//! Which mutation records which event (the documented names; the resource in brackets):
//!
//! | operation | events |
//! | --- | --- |
//! | `create_user_group` / `update_user_group` / `delete_user_group` | User Group Created / Updated / Deleted (USER_GROUP) |
//! | `add_users_to_user_group`, `replace_users_in_user_group` | User Added To User Group (USER, per user added), Subjects Added to Group (USER_GROUP), Non-Segment User Invited to Workspace (INVITE, per unknown email); replace also Group Memberships Deleted (USER_GROUP) |
//! | `remove_users_from_user_group` | User Removed From User Group (USER, per user), Group Memberships Deleted (USER_GROUP) |
//! | `add_permissions_to_user` / `replace_permissions_for_user` | Policy Created / Policy Deleted (USER, per policy), User Policy Updated (USER) |
//! | `add_permissions_to_user_group` / `replace_permissions_for_user_group` | Policy Created / Policy Deleted (USER_GROUP, per policy), User Group Policy Updated (USER_GROUP) |
//! | `create_invites` | Non-Segment User Invited to Workspace (INVITE), Policy Created (INVITE, per permission) |
//! | `delete_invites` | Invite Deleted (INVITE), Group Memberships Deleted (INVITE, when in groups) |
//! | `delete_users` | Group Memberships Deleted (USER, per user, with or without groups) |
//! | `create_label` / `delete_label` | Label Created / Label Deleted (LABEL) |

use std::time::SystemTime;

use super::support::*;
use crate::rfc3339;
use crate::state::AuditEvent;

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct AuditEventV1<'a> {
    id: &'a str,
    timestamp: String,
    #[serde(rename = "type")]
    event_type: &'a str,
    actor: &'a str,
    actor_email: &'a str,
    resource_id: &'a str,
    resource_type: &'a str,
    resource_name: &'a str,
}

fn event_v1(e: &AuditEvent) -> AuditEventV1<'_> {
    AuditEventV1 {
        id: &e.id,
        timestamp: rfc3339::format(e.at),
        event_type: &e.event,
        actor: &e.actor,
        actor_email: &e.actor,
        resource_id: &e.resource_id,
        resource_type: &e.resource_type,
        resource_name: &e.resource_name,
    }
}

/// The filters of a request.
struct Filter {
    start: Option<SystemTime>,
    end: Option<SystemTime>,
    resource_id: Option<String>,
    resource_type: Option<String>,
}

impl Filter {
    fn parse(call: &Call) -> Result<Self, ApiError> {
        let scalar = |name: &str| {
            call.query
                .scalar(name)
                .map_err(|e| ApiError::invalid(e.field, e.message))
        };
        let instant = |name: &str| -> Result<Option<SystemTime>, ApiError> {
            match scalar(name)? {
                None => Ok(None),
                Some(text) => rfc3339::parse(&text).map(Some).ok_or_else(|| {
                    ApiError::invalid(
                        name,
                        format!("\"{name}\" must be an RFC 3339 date-time, got `{text}`"),
                    )
                }),
            }
        };
        Ok(Self {
            start: instant("startTime")?,
            end: instant("endTime")?,
            resource_id: scalar("resourceId")?.filter(|s| !s.is_empty()),
            resource_type: scalar("resourceType")?.filter(|s| !s.is_empty()),
        })
    }

    fn matches(&self, e: &AuditEvent) -> bool {
        self.start.is_none_or(|s| e.at >= s)
            && self.end.is_none_or(|end| e.at < end)
            && self
                .resource_id
                .as_deref()
                .is_none_or(|id| e.resource_id == id)
            && self
                .resource_type
                .as_deref()
                .is_none_or(|t| e.resource_type == t)
    }
}

/// Newest first as a list ordered ascending: an event's position is `u64::MAX - seq`, so a
/// cursor stays on its place while newer events arrive (they sort before it).
fn position(e: &AuditEvent) -> u64 {
    u64::MAX - e.seq
}

/// `ListAuditEvents`.
pub(super) fn list(st: &mut State, call: &Call) -> Result<Success, ApiError> {
    let request = PageRequest::parse(call.query, call.strict)?;
    if !st.audit_trail {
        return Err(ApiError::new(
            403,
            "forbidden",
            "this workspace has no audit trail (a Business-tier feature)",
        ));
    }
    let filter = Filter::parse(call)?;
    let start = request.start(call.codec, ListKind::AuditEvents, 0)?;
    let matching: std::collections::BTreeMap<u64, &AuditEvent> = st
        .audit
        .iter()
        .filter(|e| filter.matches(e))
        .map(|e| (position(e), e))
        .collect();
    let page = start.slice(&matching);
    let events: Vec<AuditEventV1> = page
        .items
        .iter()
        .filter_map(|p| matching.get(p))
        .map(|e| event_v1(e))
        .collect();
    #[derive(Serialize)]
    struct Out<'a> {
        events: Vec<AuditEventV1<'a>>,
        pagination: PageOut,
    }
    let pagination = page.out;
    ok(200, data_body(&Out { events, pagination }))
}
