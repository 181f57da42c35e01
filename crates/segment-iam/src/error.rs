//! The one error type of the facade. Variants say what a caller can act on; none carries the
//! token (requests are never stored in errors).

use std::fmt;
use std::time::Duration;

use segment_iam_api::types::RequestError;

use crate::guard::refusal::Refusal;

pub(crate) mod from_wire;

/// Result alias of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What is known about whether a failed mutation took effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Outcome {
    /// The request was refused or never reached the service: nothing changed.
    NotApplied,
    /// The change was made. Never inferred from an unreadable answer: a 2xx head followed by
    /// a cut, truncated or non-JSON body may come from a proxy as well as from the service,
    /// so that is [`Outcome::Ambiguous`].
    Applied,
    /// The request may or may not have been applied (e.g. a timeout after sending a POST).
    Ambiguous,
    /// A bulk change was split into several requests: exactly the items listed as applied
    /// took effect ([`Error::Partial`]), the others did not.
    PartlyApplied,
}

/// The service's error envelope with the status that carried it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[non_exhaustive]
pub struct ServiceError {
    /// HTTP status.
    pub status: u16,
    /// The `errors` of the envelope, as sent.
    pub errors: Vec<RequestError>,
    /// The item of the request the service refused (an id or email, as the caller gave it),
    /// when the envelope points at one: a `field` such as `userIds.3` or `invites.0.email`, a
    /// `data` value, or a message quoting one of the items sent. Only ever one of the items
    /// the request carried; `None` when the service did not say which.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub item: Option<String>,
}

/// What a 409 conflicts with, as the service words it (the envelope's `type` is `conflict`
/// for every case, so the kind comes from its message and `field`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Conflict {
    /// An invite for someone who is already a user of the workspace.
    AlreadyUser,
    /// An invite for someone who already has a pending invite.
    AlreadyInvited,
    /// A group created or renamed to a name another group has.
    GroupNameTaken,
    /// A conflict the service did not say more about.
    Other,
}

impl ServiceError {
    /// An envelope as the service would send it (for tests and mocks of downstream code).
    pub fn new(status: u16, errors: Vec<RequestError>) -> Self {
        ServiceError {
            status,
            errors,
            item: None,
        }
    }

    /// What a 409 conflicts with; `None` for any other status.
    pub fn conflict(&self) -> Option<Conflict> {
        if self.status != 409 {
            return None;
        }
        let said = |e: &RequestError| e.message.as_deref().unwrap_or("").to_lowercase();
        let kind = self.errors.iter().find_map(|e| {
            let message = said(e);
            if message.contains("already a user") {
                Some(Conflict::AlreadyUser)
            } else if message.contains("already invited")
                || message.contains("already has a pending invite")
            {
                Some(Conflict::AlreadyInvited)
            } else if e.field.as_deref() == Some("name")
                || (message.contains("group named") && message.contains("exist"))
            {
                Some(Conflict::GroupNameTaken)
            } else {
                None
            }
        });
        Some(kind.unwrap_or(Conflict::Other))
    }

    /// The envelope with [`ServiceError::item`] set to the item of `sent` it points at, if
    /// any. `array` is the request's list parameter (`userIds`, `emails`, `invites`), whose
    /// indices in `field` count from the first item of `sent`.
    fn naming_item(mut self, array: &str, sent: &[&str]) -> Self {
        if self.item.is_none() {
            self.item = self
                .errors
                .iter()
                .find_map(|e| item_of(e, array, sent))
                .map(str::to_string);
        }
        self
    }
}

/// The item of `sent` one error of an envelope points at: by index in `field`, by value in
/// `data`, or quoted in `message` (compared case-insensitively, as emails are).
fn item_of<'s>(error: &RequestError, array: &str, sent: &[&'s str]) -> Option<&'s str> {
    let by_index = error
        .field
        .as_deref()
        .and_then(|f| f.strip_prefix(array)?.strip_prefix('.'))
        .and_then(|rest| rest.split('.').next()?.parse::<usize>().ok())
        .and_then(|i| sent.get(i).copied());
    let same = |text: &str| {
        sent.iter()
            .copied()
            .find(|item| item.eq_ignore_ascii_case(text.trim()))
    };
    let by_data = || match &error.data {
        Some(serde_json::Value::String(text)) => same(text),
        Some(serde_json::Value::Object(map)) => map.values().find_map(|v| same(v.as_str()?)),
        _ => None,
    };
    let by_message = || {
        let message = error.message.as_deref()?.to_lowercase();
        sent.iter().copied().find(|item| {
            let item = item.to_lowercase();
            ['`', '"', '\'']
                .iter()
                .any(|q| message.contains(&format!("{q}{item}{q}")))
        })
    };
    by_index.or_else(by_data).or_else(by_message)
}

impl fmt::Display for ServiceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "HTTP {}", self.status)?;
        for e in &self.errors {
            write!(f, "; {}", e.type_)?;
            if let Some(message) = &e.message {
                write!(f, ": {message}")?;
            }
            if let Some(field) = &e.field {
                write!(f, " (field {field})")?;
            }
        }
        Ok(())
    }
}

/// Every way a call can fail.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input was refused before anything was sent.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The argument at fault.
        field: String,
        /// Why it was refused.
        reason: String,
    },
    /// A role given by name matches no role of the workspace (nothing was sent but the
    /// `listRoles` lookup).
    #[error("no role is named {given:?}{}", suggest(closest))]
    UnknownRole {
        /// The name as given.
        given: String,
        /// The closest role names, best first (possibly none).
        closest: Vec<String>,
    },
    /// A role given by name matches several roles: give its id instead.
    #[error("{} roles are named {given:?} (ids {}); give the id instead", ids.len(), ids.join(", "))]
    AmbiguousRole {
        /// The name as given.
        given: String,
        /// The ids of the roles with that name.
        ids: Vec<String>,
    },
    /// A group given by name (or id) matches no group of the workspace (nothing was sent but
    /// the group list's reads).
    #[error("no group has the id or name {given:?}{}", suggest(closest))]
    UnknownGroup {
        /// The name as given.
        given: String,
        /// The closest group names, best first (possibly none).
        closest: Vec<String>,
    },
    /// A group given by name matches several groups: give its id instead.
    #[error("{} groups are named {given:?} (ids {}); give the id instead", ids.len(), ids.join(", "))]
    AmbiguousGroup {
        /// The name as given.
        given: String,
        /// The ids of the groups with that name.
        ids: Vec<String>,
    },
    /// A safety guard ([`crate::guard`]) refused a change before anything was sent: it would
    /// remove the last holder of "Workspace Owner", or more than the removal cap allows. The
    /// job that refused names its override (e.g.
    /// [`OffboardOptions::allow_owner_removal`](crate::jobs::offboard::OffboardOptions::allow_owner_removal)).
    #[error("refused: {0}")]
    Refused(Refusal),
    /// The client could not be configured (no token, bad base URL, ...).
    #[error("configuration: {0}")]
    Config(String),
    /// 401 or 403: the token is missing, invalid or lacks the privilege.
    #[error("unauthorized: {0}")]
    Unauthorized(ServiceError),
    /// 403 from `listAuditEvents`: the workspace has no audit trail (a Business-tier feature
    /// of Segment), so the history of changes cannot be read. Not an empty history.
    #[error("the workspace's audit trail is not available (a Business-tier feature): {0}")]
    AuditTrailUnavailable(ServiceError),
    /// 404: an id does not exist.
    #[error("not found: {0}")]
    NotFound(ServiceError),
    /// 409: the change conflicts with the current state.
    #[error("conflict: {0}")]
    Conflict(ServiceError),
    /// 400 or 422: the service refused the input.
    #[error("validation failed: {0}")]
    Validation(ServiceError),
    /// 429 until the retry budget ran out.
    #[error(
        "rate limited after {attempts} attempts and {waited:?} waited; the service advised waiting {advised_wait:?} more"
    )]
    RateLimited {
        /// The last wait the service advised.
        advised_wait: Option<Duration>,
        /// Requests made for this call.
        attempts: u32,
        /// Time spent waiting on retries and pacing for this call.
        waited: Duration,
        /// The last 429 envelope; `None` when pacing knew the window was spent and sent nothing.
        error: Option<ServiceError>,
    },
    /// 5xx that retries did not cure (or a POST, which is not retried after it may have been applied).
    #[error("server error after {attempts} attempts and {waited:?}: {error}")]
    Server {
        /// The last error envelope (empty `errors` when the body was not an envelope).
        error: ServiceError,
        /// Requests made for this call.
        attempts: u32,
        /// Time spent waiting on retries for this call.
        waited: Duration,
        /// Whether the change took effect.
        outcome: Outcome,
    },
    /// Any other error status (e.g. 413, 414), or an undocumented redirect.
    #[error("service refused the request: {0}")]
    Service(ServiceError),
    /// The connection failed, timed out or was cut.
    #[error("transport failed after {attempts} attempts and {waited:?}: {message}")]
    Transport {
        /// What failed, with its causes (never the URL, whose query may carry emails).
        message: String,
        /// Requests made for this call.
        attempts: u32,
        /// Time spent waiting on retries for this call.
        waited: Duration,
        /// Whether the change took effect.
        outcome: Outcome,
        /// The underlying error (a `reqwest::Error`), when there is one.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The response could not be read as the documented type.
    #[error(
        "cannot decode the response (HTTP {status:?}) after {attempts} attempts and {waited:?}: {message}"
    )]
    Decode {
        /// The status, when known.
        status: Option<u16>,
        /// What was wrong.
        message: String,
        /// Requests made for this call.
        attempts: u32,
        /// Time spent on this call, retries included.
        waited: Duration,
        /// Whether the change took effect.
        outcome: Outcome,
    },
    /// The response body exceeded the configured limit; it was not read further.
    #[error("response body larger than the {limit}-byte limit")]
    ResponseTooLarge {
        /// The configured limit in bytes.
        limit: usize,
    },
    /// A list the service returned repeated a cursor: stopping instead of looping forever.
    #[error("pagination cursor {cursor:?} repeated; stopping to avoid an endless loop")]
    RepeatedCursor {
        /// The cursor seen twice.
        cursor: String,
    },
    /// A background task of the client (the page fetch a list runs one page ahead) panicked
    /// or was cancelled by its runtime shutting down. A bug or a shutdown, not the service.
    #[error("a background task of the client failed: {message}")]
    Task {
        /// The panic's message, or that the task was cancelled.
        message: String,
    },
    /// A bulk change was split into several requests and one of them failed after at least
    /// one had been applied (when the first request fails, its error is returned as it is).
    #[error("{} of {} items applied before a request failed: {source}", applied.len(), applied.len() + not_applied.len())]
    Partial {
        /// Items whose request succeeded, in input order.
        applied: Vec<String>,
        /// Items not applied (the failed request's and every later one), in input order.
        not_applied: Vec<String>,
        /// Why the request failed.
        source: Box<Error>,
    },
}

impl From<Refusal> for Error {
    fn from(refusal: Refusal) -> Self {
        Error::Refused(refusal)
    }
}

/// "; closest: ..." for an unknown role's or group's closest names.
fn suggest(closest: &[String]) -> String {
    match closest {
        [] => String::new(),
        names => format!(
            "; closest: {}",
            names
                .iter()
                .map(|n| format!("{n:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

impl Error {
    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// The error with its service envelope naming the item of `sent` it refused (see
    /// [`ServiceError::item`]); `array` is the request's list parameter. Other errors unchanged.
    pub(crate) fn naming_item(self, array: &str, sent: &[&str]) -> Self {
        let name = |e: ServiceError| e.naming_item(array, sent);
        match self {
            Error::Unauthorized(e) => Error::Unauthorized(name(e)),
            Error::NotFound(e) => Error::NotFound(name(e)),
            Error::Conflict(e) => Error::Conflict(name(e)),
            Error::Validation(e) => Error::Validation(name(e)),
            Error::Service(e) => Error::Service(name(e)),
            other => other,
        }
    }

    /// The error of the request that failed: for [`Error::Partial`] its `source` (followed
    /// down, however deep), for any other error the error itself. The accessors that describe
    /// the failed request ([`status`](Self::status), [`service_error`](Self::service_error),
    /// [`is_not_found`](Self::is_not_found), [`conflict`](Self::conflict),
    /// [`is_retryable`](Self::is_retryable)) look at the root; those that describe the whole
    /// call ([`outcome`](Self::outcome), [`is_invalid_input`](Self::is_invalid_input)) do not.
    pub fn root(&self) -> &Error {
        let mut error = self;
        while let Error::Partial { source, .. } = error {
            error = source;
        }
        error
    }

    /// Whether the service answered 404: an id (or email) does not exist. Looks at the
    /// [`root`](Self::root), so a bulk change that failed part-way on an unknown item says so;
    /// [`ServiceError::item`] names the item when the service said which.
    pub fn is_not_found(&self) -> bool {
        matches!(self.root(), Error::NotFound(_))
    }

    /// What a 409 conflicts with (e.g. [`Conflict::AlreadyUser`] for an invite of a user),
    /// looking at the [`root`](Self::root); `None` when the error is not a conflict.
    pub fn conflict(&self) -> Option<Conflict> {
        match self.root() {
            Error::Conflict(e) => e.conflict(),
            _ => None,
        }
    }

    /// The item the service refused (see [`ServiceError::item`]), looking at the
    /// [`root`](Self::root).
    pub fn item(&self) -> Option<&str> {
        self.service_error()?.item.as_deref()
    }

    /// The service's envelope, when the service answered with one (the
    /// [`root`](Self::root)'s, through a partial change).
    pub fn service_error(&self) -> Option<&ServiceError> {
        match self {
            Error::Unauthorized(e)
            | Error::AuditTrailUnavailable(e)
            | Error::NotFound(e)
            | Error::Conflict(e)
            | Error::Validation(e)
            | Error::Service(e)
            | Error::Server { error: e, .. } => Some(e),
            Error::RateLimited { error, .. } => error.as_ref(),
            Error::Partial { source, .. } => source.service_error(),
            _ => None,
        }
    }

    /// The HTTP status the service answered, if it answered (the [`root`](Self::root)'s).
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Decode { status, .. } => *status,
            Error::RateLimited { .. } => Some(429),
            _ => self.service_error().map(|e| e.status),
        }
    }

    /// Whether the input was refused before sending (no mutation reached the service): a bad
    /// argument, or a role or group name no role or group (or several) answers to.
    pub fn is_invalid_input(&self) -> bool {
        matches!(
            self,
            Error::InvalidInput { .. }
                | Error::UnknownRole { .. }
                | Error::AmbiguousRole { .. }
                | Error::UnknownGroup { .. }
                | Error::AmbiguousGroup { .. }
        )
    }

    /// Whether trying the same call again later may succeed: rate limits, server errors,
    /// transport failures, and unreadable answers that were not a refusal (a 4xx).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::RateLimited { .. } | Error::Server { .. } | Error::Transport { .. } => true,
            Error::Decode { outcome, .. } => *outcome != Outcome::NotApplied,
            Error::Partial { source, .. } => source.is_retryable(),
            _ => false,
        }
    }

    /// Whether a failed mutation took effect, when that is known.
    pub fn outcome(&self) -> Outcome {
        match self {
            Error::Server { outcome, .. }
            | Error::Transport { outcome, .. }
            | Error::Decode { outcome, .. } => *outcome,
            // What the failed request did decides; a partial change inside one is still partial.
            Error::Partial { .. } => match self.root().outcome() {
                Outcome::NotApplied => Outcome::PartlyApplied,
                _ => Outcome::Ambiguous,
            },
            _ => Outcome::NotApplied,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn envelope(status: u16) -> ServiceError {
        let error: RequestError = serde_json::from_value(serde_json::json!({
            "type": "conflict",
            "message": "already exists",
            "field": "email",
        }))
        .expect("a RequestError");
        ServiceError::new(status, vec![error])
    }

    fn server(outcome: Outcome) -> Error {
        Error::Server {
            error: envelope(503),
            attempts: 3,
            waited: Duration::from_millis(30),
            outcome,
        }
    }

    fn decode(outcome: Outcome) -> Error {
        Error::Decode {
            status: Some(200),
            message: "cut".into(),
            attempts: 1,
            waited: Duration::ZERO,
            outcome,
        }
    }

    fn partial(source: Error) -> Error {
        Error::Partial {
            applied: vec!["a".into()],
            not_applied: vec!["b".into(), "c".into()],
            source: Box::new(source),
        }
    }

    #[test]
    fn a_partial_change_is_partly_applied_only_when_its_failed_request_applied_nothing() {
        assert_eq!(
            partial(server(Outcome::NotApplied)).outcome(),
            Outcome::PartlyApplied
        );
        assert_eq!(
            partial(server(Outcome::Ambiguous)).outcome(),
            Outcome::Ambiguous
        );
        // A refusal (no outcome field: NotApplied) under a partial change: partly applied.
        assert_eq!(
            partial(Error::Conflict(envelope(409))).outcome(),
            Outcome::PartlyApplied
        );
        assert_eq!(
            partial(decode(Outcome::Ambiguous)).outcome(),
            Outcome::Ambiguous
        );
    }

    #[test]
    fn an_unreadable_answer_is_retryable_only_when_it_was_not_a_refusal() {
        assert!(!decode(Outcome::NotApplied).is_retryable());
        assert!(decode(Outcome::Ambiguous).is_retryable());
        assert!(decode(Outcome::Applied).is_retryable());
        assert!(!partial(decode(Outcome::NotApplied)).is_retryable());
        assert!(partial(decode(Outcome::Ambiguous)).is_retryable());
    }

    #[test]
    fn only_refusals_before_sending_are_invalid_input() {
        assert!(Error::invalid("user_id", "empty").is_invalid_input());
        assert!(
            Error::UnknownRole {
                given: "Ownr".into(),
                closest: vec![],
            }
            .is_invalid_input()
        );
        assert!(
            Error::AmbiguousRole {
                given: "Twin".into(),
                ids: vec!["1".into(), "2".into()],
            }
            .is_invalid_input()
        );
        assert!(
            Error::UnknownGroup {
                given: "Platfrom".into(),
                closest: vec!["Platform".into()],
            }
            .is_invalid_input()
        );
        assert!(
            Error::AmbiguousGroup {
                given: "Ops".into(),
                ids: vec!["1".into(), "2".into()],
            }
            .is_invalid_input()
        );
        // The service refusing the input is not "refused before sending".
        assert!(!Error::Validation(envelope(422)).is_invalid_input());
        assert!(
            !Error::Refused(Refusal::LastOwner {
                owners: vec!["a".into()]
            })
            .is_invalid_input()
        );
        assert!(!partial(Error::invalid("f", "r")).is_invalid_input());
    }

    #[test]
    fn status_is_the_answers_status_for_every_variant_that_carries_one() {
        let cases = [
            (Error::Unauthorized(envelope(403)), Some(403)),
            (Error::NotFound(envelope(404)), Some(404)),
            (Error::Conflict(envelope(409)), Some(409)),
            (Error::Validation(envelope(400)), Some(400)),
            (Error::Service(envelope(414)), Some(414)),
            (server(Outcome::Ambiguous), Some(503)),
            (
                Error::RateLimited {
                    advised_wait: None,
                    attempts: 5,
                    waited: Duration::from_secs(1),
                    error: None,
                },
                Some(429),
            ),
            (
                Error::Decode {
                    status: Some(202),
                    message: "undocumented".into(),
                    attempts: 1,
                    waited: Duration::ZERO,
                    outcome: Outcome::Ambiguous,
                },
                Some(202),
            ),
            (
                Error::Decode {
                    status: None,
                    message: "no status".into(),
                    attempts: 1,
                    waited: Duration::ZERO,
                    outcome: Outcome::Ambiguous,
                },
                None,
            ),
            (partial(Error::Conflict(envelope(409))), Some(409)),
            (Error::invalid("f", "r"), None),
            (Error::Config("no token".into()), None),
            (Error::ResponseTooLarge { limit: 10 }, None),
            (
                Error::Transport {
                    message: "reset".into(),
                    attempts: 2,
                    waited: Duration::ZERO,
                    outcome: Outcome::Ambiguous,
                    source: None,
                },
                None,
            ),
        ];
        for (error, status) in cases {
            assert_eq!(error.status(), status, "{error:?}");
        }
    }

    #[test]
    fn the_service_error_shows_through_a_partial_change() {
        let p = partial(Error::Conflict(envelope(409)));
        let shown = p.service_error().expect("the failed request's envelope");
        assert_eq!(shown, &envelope(409));
        assert_eq!(shown.errors[0].message.as_deref(), Some("already exists"));
        let limited = partial(Error::RateLimited {
            advised_wait: Some(Duration::from_secs(2)),
            attempts: 5,
            waited: Duration::from_secs(3),
            error: Some(envelope(429)),
        });
        assert_eq!(limited.service_error().map(|e| e.status), Some(429));
        assert_eq!(partial(Error::invalid("f", "r")).service_error(), None);
    }

    fn said(status: u16, body: serde_json::Value) -> ServiceError {
        let error: RequestError = serde_json::from_value(body).expect("a RequestError");
        ServiceError::new(status, vec![error])
    }

    #[test]
    fn a_refusal_names_the_item_by_field_index_data_or_quoted_message_and_only_items_sent() {
        let sent = ["u1", "Ana@X.io", "u3"];
        let by_field = said(
            422,
            serde_json::json!({"type": "input-validation", "field": "userIds.2"}),
        );
        assert_eq!(
            by_field.naming_item("userIds", &sent).item.as_deref(),
            Some("u3")
        );
        let nested = said(
            409,
            serde_json::json!({"type": "conflict", "field": "invites.1.email"}),
        );
        assert_eq!(
            nested.naming_item("invites", &sent).item.as_deref(),
            Some("Ana@X.io")
        );
        let by_data = said(
            404,
            serde_json::json!({"type": "not-found", "data": {"id": "u1"}}),
        );
        assert_eq!(
            by_data.naming_item("userIds", &sent).item.as_deref(),
            Some("u1")
        );
        let by_data_text = said(
            404,
            serde_json::json!({"type": "not-found", "data": " ana@x.io "}),
        );
        assert_eq!(
            by_data_text.naming_item("emails", &sent).item.as_deref(),
            Some("Ana@X.io")
        );
        let by_message = said(
            404,
            serde_json::json!({"type": "not-found", "message": "no pending invite for `ana@x.io`"}),
        );
        assert_eq!(
            by_message.naming_item("emails", &sent).item.as_deref(),
            Some("Ana@X.io")
        );
        // An index past the items sent, another array, or an unquoted mention names nothing.
        for (array, body) in [
            (
                "userIds",
                serde_json::json!({"type": "x", "field": "userIds.3"}),
            ),
            (
                "emails",
                serde_json::json!({"type": "x", "field": "userIds.0"}),
            ),
            (
                "userIds",
                serde_json::json!({"type": "x", "message": "u1 and others"}),
            ),
            (
                "userIds",
                serde_json::json!({"type": "x", "message": "user `u9` not found"}),
            ),
        ] {
            assert_eq!(
                said(404, body.clone()).naming_item(array, &sent).item,
                None,
                "{body}"
            );
        }
    }

    #[test]
    fn a_conflict_is_typed_by_what_the_service_says_it_conflicts_with() {
        let conflict = |message: &str, field: &str| {
            said(
                409,
                serde_json::json!({"type": "conflict", "message": message, "field": field}),
            )
            .conflict()
        };
        assert_eq!(
            conflict(
                "`a@x.io` is already a user of the workspace",
                "invites.0.email"
            ),
            Some(Conflict::AlreadyUser)
        );
        assert_eq!(
            conflict("`a@x.io` is already invited", "invites.0.email"),
            Some(Conflict::AlreadyInvited)
        );
        assert_eq!(
            conflict("a user group named `Ops` exists", "name"),
            Some(Conflict::GroupNameTaken)
        );
        // Either sign alone says the name is taken: the field, or the message's wording.
        assert_eq!(conflict("taken", "name"), Some(Conflict::GroupNameTaken));
        assert_eq!(
            conflict("a group named `Ops` already exists", "x"),
            Some(Conflict::GroupNameTaken)
        );
        // "exists" without a group named is not a name conflict.
        assert_eq!(
            conflict("the user still exists", "x"),
            Some(Conflict::Other)
        );
        assert_eq!(conflict("busy", "x"), Some(Conflict::Other));
        assert_eq!(ServiceError::new(404, vec![]).conflict(), None);
        let error = Error::Conflict(said(
            409,
            serde_json::json!({"type": "conflict", "message": "`a` is already invited"}),
        ));
        assert_eq!(
            partial(partial(error)).conflict(),
            Some(Conflict::AlreadyInvited)
        );
    }

    #[test]
    fn the_root_of_a_partial_change_is_the_failed_requests_error_however_deep() {
        let not_found = Error::NotFound(
            said(
                404,
                serde_json::json!({"type": "not-found", "message": "user `b` not found"}),
            )
            .naming_item("userIds", &["b"]),
        );
        let nested = partial(partial(not_found));
        assert!(matches!(nested.root(), Error::NotFound(_)));
        assert!(nested.is_not_found());
        assert_eq!(nested.item(), Some("b"));
        assert_eq!(nested.status(), Some(404));
        // The whole call is still partly applied, and not an input error.
        assert_eq!(nested.outcome(), Outcome::PartlyApplied);
        assert!(!Error::Conflict(envelope(409)).is_not_found());
        assert!(matches!(
            server(Outcome::Ambiguous).root(),
            Error::Server { .. }
        ));
    }

    #[test]
    fn an_errors_status_is_an_integer_as_the_service_sends_it() {
        let error: RequestError = serde_json::from_value(serde_json::json!({
            "type": "conflict",
            "status": 409,
        }))
        .expect("a RequestError");
        assert_eq!(error.status, Some(409_u16));
        assert!(format!("{error:?}").contains("Some(409)"), "{error:?}");
        assert_eq!(serde_json::to_value(&error).expect("json")["status"], 409);
    }

    #[test]
    fn an_unknown_role_lists_the_closest_names_best_first() {
        let unknown = Error::UnknownRole {
            given: "Ownr".into(),
            closest: vec!["Owner".into(), "Workspace Owner".into()],
        };
        assert_eq!(
            unknown.to_string(),
            r#"no role is named "Ownr"; closest: "Owner", "Workspace Owner""#
        );
        let none = Error::UnknownRole {
            given: "Zzz".into(),
            closest: vec![],
        };
        assert_eq!(none.to_string(), r#"no role is named "Zzz""#);
    }
}
