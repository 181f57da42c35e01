//! Who changed what and when: the workspace's audit trail (`listAuditEvents`) narrowed to a
//! time window, a person and/or a group, newest first. A workspace without the audit trail
//! (a Business-tier feature) is [`Error::AuditTrailUnavailable`], not an empty history.
//!
//! **Reads.** The window (`since`, `until`) is the service's filter, and so is a group: the
//! group is resolved (the groups list, by id or case-insensitive name) and only events about
//! it are read (`resourceId`). A person (`email`) is matched here, on every event of the
//! window: events about them (their user id, found by one pass over the users list that
//! stops at them, or their email while they are invited) and events they made (the actor).
//! The service filters by one resource only and never by actor, so this is the read that
//! answers both; narrow the window to read less. With both a group and a person: the
//! group's events that person made.

use std::time::SystemTime;

use futures::TryStreamExt;

use crate::client::Client;
use crate::config::MAX_PAGE_SIZE;
use crate::email::key as email_key;
use crate::error::{Error, Result};
use crate::resources::AuditEvent;

/// What to read of the history. All filters are optional and combine with AND.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct HistoryFilter {
    /// Only events at or after this instant.
    pub since: Option<SystemTime>,
    /// Only events before this instant.
    pub until: Option<SystemTime>,
    /// Only events about this person or made by them (compared case-insensitively).
    pub email: Option<String>,
    /// Only events about this group (by id, or name compared case-insensitively).
    pub group: Option<String>,
}

impl HistoryFilter {
    /// Every event the service keeps.
    pub fn new() -> Self {
        Self::default()
    }

    /// Only events at or after `t`.
    pub fn since(mut self, t: SystemTime) -> Self {
        self.since = Some(t);
        self
    }

    /// Only events before `t`.
    pub fn until(mut self, t: SystemTime) -> Self {
        self.until = Some(t);
        self
    }

    /// Only events about this person or made by them.
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// Only events about this group (id or name).
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.group = Some(group.into());
        self
    }
}

/// The history read.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct History {
    /// The events, newest first.
    pub events: Vec<AuditEvent>,
    /// Requests made, lookups included.
    pub requests: u64,
}

/// Reads the history. Bad filters (an email that is not one, an empty group, `since` not
/// before `until`) fail before anything is sent; an unknown group once the groups list is
/// read.
pub async fn history(client: &Client, filter: &HistoryFilter) -> Result<History> {
    let before = client.metrics().requests;
    let email = match &filter.email {
        Some(e) => {
            crate::validate::email("email", e.trim())?;
            Some(e.trim().to_string())
        }
        None => None,
    };
    if let Some(group) = &filter.group {
        crate::validate::non_empty("group", group)?;
    }
    if let (Some(since), Some(until)) = (filter.since, filter.until)
        && since >= until
    {
        return Err(Error::invalid("until", "must be after since"));
    }

    let mut events = client.audit_events();
    if let Some(t) = filter.since {
        events = events.since(t);
    }
    if let Some(t) = filter.until {
        events = events.until(t);
    }
    if let Some(asked) = &filter.group {
        events = events.resource_id(client.groups().resolve(asked).await?.group.id);
    }
    let person = match email {
        None => None,
        Some(email) => {
            let user_id = client.users().find_by_email(&email).await?.map(|u| u.id);
            Some(Person {
                key: email_key(&email),
                user_id,
            })
        }
    };
    let events: Vec<AuditEvent> = events
        .list()
        .page_size(MAX_PAGE_SIZE)
        .items()
        .try_filter(|e| {
            let keep = person.as_ref().is_none_or(|p| match filter.group {
                // The group's events: the ones the person made.
                Some(_) => p.made(e),
                None => p.made(e) || p.about(e),
            });
            futures::future::ready(keep)
        })
        .try_collect()
        .await?;
    Ok(History {
        events,
        requests: client.metrics().requests.saturating_sub(before),
    })
}

/// A person the history is narrowed to.
struct Person {
    /// Their email, as compared.
    key: String,
    /// Their user id, when they are a user.
    user_id: Option<String>,
}

impl Person {
    /// The event is about them: their user, or their email (an invite's id).
    fn about(&self, e: &AuditEvent) -> bool {
        self.user_id.as_deref() == Some(e.resource_id.as_str())
            || email_key(&e.resource_id) == self.key
    }

    /// They made the change.
    fn made(&self, e: &AuditEvent) -> bool {
        e.actor_email
            .as_deref()
            .is_some_and(|a| email_key(a) == self.key)
            || email_key(&e.actor) == self.key
    }
}
