//! `client.audit_events()`: the workspace's audit trail (`listAuditEvents`), newest first, as
//! a [`Paginator`] of [`AuditEvent`]s, narrowed by time ([`since`](AuditEvents::since),
//! [`until`](AuditEvents::until)) and resource ([`resource`](AuditEvents::resource)) on the
//! service's side. A workspace without the audit trail (a Business-tier feature) fails with
//! [`Error::AuditTrailUnavailable`], never an empty list.

use std::time::SystemTime;

use segment_iam_api::ClientAuditTrailExt;
use segment_iam_api::types::{AuditEventV1, PaginationOutput};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::paginate::{Page, Paginator};
use crate::time::{format_rfc3339, parse_rfc3339};

/// One change in the audit trail. Serialised as the service's `AuditEventV1` spells it
/// (`type`, `actorEmail`, `resourceId`, ...), without the parsed [`at`](Self::at).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct AuditEvent {
    /// The event's id.
    pub id: String,
    /// When it happened, as the service wrote it (RFC 3339).
    pub timestamp: String,
    /// [`timestamp`](Self::timestamp) read; `None` when the service's text is no RFC 3339
    /// instant (kept rather than failing the whole list).
    #[serde(skip)]
    pub at: Option<SystemTime>,
    /// The documented type, e.g. `User Group Created`, `User Added To User Group`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The user or API token that made the change.
    pub actor: String,
    /// That user's email, when the service says.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor_email: Option<String>,
    /// The affected resource's id (a user id, a group id, ...).
    pub resource_id: String,
    /// Its kind, as the service names it (the emulator: `USER`, `USER_GROUP`, `INVITE`,
    /// `LABEL`).
    pub resource_type: String,
    /// Its name (a group's name, a user's email, ...).
    pub resource_name: String,
}

impl From<AuditEventV1> for AuditEvent {
    fn from(e: AuditEventV1) -> Self {
        AuditEvent {
            at: parse_rfc3339(&e.timestamp),
            id: e.id,
            timestamp: e.timestamp,
            event_type: e.type_,
            actor: e.actor,
            actor_email: e.actor_email,
            resource_id: e.resource_id,
            resource_type: e.resource_type,
            resource_name: e.resource_name,
        }
    }
}

/// The audit trail. Get one with [`Client::audit_events`]; set filters, then
/// [`list`](Self::list). Cheap to clone.
///
/// ```no_run
/// # async fn f(client: segment_iam::Client) -> segment_iam::Result<()> {
/// use futures::TryStreamExt;
/// use std::time::{Duration, SystemTime};
/// let day_ago = SystemTime::now() - Duration::from_secs(86_400);
/// let events: Vec<segment_iam::AuditEvent> = client
///     .audit_events()
///     .since(day_ago)
///     .resource("USER_GROUP", "grp_123")
///     .list()
///     .collect()
///     .await?;
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct AuditEvents {
    client: Client,
    since: Option<SystemTime>,
    until: Option<SystemTime>,
    resource_type: Option<String>,
    resource_id: Option<String>,
}

impl AuditEvents {
    pub(crate) fn new(client: Client) -> Self {
        AuditEvents {
            client,
            since: None,
            until: None,
            resource_type: None,
            resource_id: None,
        }
    }

    /// Only events at or after `t` (`startTime`).
    pub fn since(mut self, t: SystemTime) -> Self {
        self.since = Some(t);
        self
    }

    /// Only events before `t` (`endTime`).
    pub fn until(mut self, t: SystemTime) -> Self {
        self.until = Some(t);
        self
    }

    /// Only events about this resource (`resourceType` and `resourceId`).
    pub fn resource(mut self, resource_type: impl Into<String>, id: impl Into<String>) -> Self {
        self.resource_type = Some(resource_type.into());
        self.resource_id = Some(id.into());
        self
    }

    /// Only events about the resource with this id, whatever its kind (`resourceId`).
    pub fn resource_id(mut self, id: impl Into<String>) -> Self {
        self.resource_id = Some(id.into());
        self
    }

    /// Only events about resources of this kind (`resourceType`).
    pub fn resource_type(mut self, resource_type: impl Into<String>) -> Self {
        self.resource_type = Some(resource_type.into());
        self
    }

    /// The events, newest first, a page at a time. Filters are checked first: an empty
    /// resource, or `since` not before `until`, is [`Error::InvalidInput`] and nothing is sent.
    pub fn list(self) -> Paginator<AuditEvent> {
        let page_size = self.client.page_size();
        if let Err(error) = self.check() {
            return Paginator::failed(page_size, error);
        }
        let query = Query::of(&self);
        let client = self.client;
        Paginator::new(page_size, move |count, cursor| {
            Box::pin(fetch(client.clone(), query.clone(), count, cursor))
        })
    }

    /// One page: `count` events (1..=1000) from `cursor` (`None`: the newest). Exactly one
    /// request and no read-ahead (a [`list`](Self::list) stream fetches the next page while
    /// the caller reads one), for readers that stop at the first event they look for and
    /// count what they read. Bad filters or `count` are [`Error::InvalidInput`], nothing sent.
    pub async fn page(&self, count: u32, cursor: Option<String>) -> Result<Page<AuditEvent>> {
        self.check()?;
        crate::validate::page_size(count)?;
        fetch(self.client.clone(), Query::of(self), count, cursor).await
    }

    fn check(&self) -> Result<()> {
        for (field, value) in [
            ("resource_type", &self.resource_type),
            ("resource_id", &self.resource_id),
        ] {
            if let Some(v) = value {
                crate::validate::non_empty(field, v)?;
            }
        }
        if let (Some(since), Some(until)) = (self.since, self.until)
            && since >= until
        {
            return Err(Error::invalid(
                "until",
                format!(
                    "{} is not after since ({})",
                    format_rfc3339(until),
                    format_rfc3339(since)
                ),
            ));
        }
        Ok(())
    }
}

/// The filters as sent.
#[derive(Debug, Clone)]
struct Query {
    since: Option<String>,
    until: Option<String>,
    resource_type: Option<String>,
    resource_id: Option<String>,
}

impl Query {
    fn of(events: &AuditEvents) -> Self {
        Query {
            since: events.since.map(format_rfc3339),
            until: events.until.map(format_rfc3339),
            resource_type: events.resource_type.clone(),
            resource_id: events.resource_id.clone(),
        }
    }
}

/// One `listAuditEvents` request.
async fn fetch(
    client: Client,
    query: Query,
    count: u32,
    cursor: Option<String>,
) -> Result<Page<AuditEvent>> {
    let call = client.call();
    let mut request = call.api().list_audit_events().pagination_count(count);
    if let Some(cursor) = cursor {
        request = request.pagination_cursor(cursor);
    }
    if let Some(t) = query.since {
        request = request.start_time(t);
    }
    if let Some(t) = query.until {
        request = request.end_time(t);
    }
    if let Some(ty) = query.resource_type {
        request = request.resource_type(ty);
    }
    if let Some(id) = query.resource_id {
        request = request.resource_id(id);
    }
    let data = call.send(request).await.map_err(unavailable)?.data;
    // The SDK's `ListAuditEventsV1Output` makes `pagination` optional: without one, this page
    // is the only one.
    let pagination = data.pagination.unwrap_or_else(|| PaginationOutput {
        current: String::new(),
        next: None,
        previous: None,
        total_entries: None,
    });
    let events = data.events.into_iter().map(AuditEvent::from).collect();
    Ok(Page::new(events, pagination))
}

/// A 403 from `listAuditEvents` is the workspace lacking the audit trail (the token reads
/// everything else); every other error stays what it is.
fn unavailable(error: Error) -> Error {
    match error {
        Error::Unauthorized(e) if e.status == 403 => Error::AuditTrailUnavailable(e),
        other => other,
    }
}
