//! Fault injection.
//!
//! A [`Fault`] names what goes wrong ([`FaultKind`]), which requests it hits (an
//! [`Operation`], a path prefix, or every API request), how often (the next `times`
//! matching requests, default 1, or a seeded `fraction` of them) and when
//! ([`Phase::BeforeApply`]: the request is never applied; [`Phase::AfterApply`]: the
//! operation ran and changed state, then its response is lost or damaged).
//!
//! Before-apply faults are checked right after routing, before authentication and rate
//! limiting (as a failing proxy would answer); after-apply faults replace the response of
//! an operation that ran. At most one fault fires per request and phase: the first
//! matching one, in the order they were injected.

use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::operations::Operation;

/// What an injected fault does.
#[derive(Debug, Clone, PartialEq)]
pub enum FaultKind {
    /// Answer this status (e.g. 500, 502, 503) with an error envelope.
    Status(u16),
    /// Wait this long, then carry on normally.
    Delay(Duration),
    /// Send the response head, then drop the connection in the middle of the body.
    DropConnection,
    /// Send a body cut in half, with a `Content-Length` that matches the cut body.
    TruncatedBody,
    /// Send a body that is not valid JSON, as `application/json`.
    MalformedBody,
    /// Send the body as `text/html` instead of JSON.
    WrongContentType,
    /// Answer exactly this status, content type and body instead of the real response
    /// (hostile or odd server data: megabytes of junk, deeply nested JSON, absurd numbers).
    Respond {
        /// The status of the answer.
        status: u16,
        /// The `Content-Type` header.
        content_type: String,
        /// The body, sent as is.
        body: bytes::Bytes,
    },
}

/// When a fault applies relative to the operation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Phase {
    /// Before the operation touches state: the request is never applied.
    #[serde(alias = "before")]
    BeforeApply,
    /// After the operation was applied: the response is lost or damaged.
    #[serde(alias = "after")]
    AfterApply,
}

/// Which requests a fault hits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Every API request (never the admin endpoints).
    Any,
    /// This operation.
    Operation(Operation),
    /// Requests whose path starts with this prefix.
    PathPrefix(String),
}

/// An injected fault, built like `Fault::status(503).on_operation(Operation::GetUser).times(2)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Fault {
    /// What happens.
    pub kind: FaultKind,
    /// Which requests it hits.
    pub target: Target,
    /// Before or after the operation is applied.
    pub phase: Phase,
    /// How many matching requests it hits; `None` = unlimited (only with a fraction).
    pub times: Option<u32>,
    /// The probability of hitting a matching request, with the seed of its draws.
    pub fraction: Option<(f64, u64)>,
    /// How many matching requests pass untouched before the fault starts hitting (default 0),
    /// e.g. to fail the third chunk of a bulk call.
    pub skip: u32,
}

impl Fault {
    /// A fault of the given kind hitting the next request.
    pub fn new(kind: FaultKind) -> Self {
        Self {
            kind,
            target: Target::Any,
            phase: Phase::BeforeApply,
            times: Some(1),
            fraction: None,
            skip: 0,
        }
    }
    /// Answer `status` with an error envelope.
    pub fn status(status: u16) -> Self {
        Self::new(FaultKind::Status(status))
    }
    /// Delay the response by `d`.
    pub fn delay(d: Duration) -> Self {
        Self::new(FaultKind::Delay(d))
    }
    /// Drop the connection mid-response.
    pub fn drop_connection() -> Self {
        Self::new(FaultKind::DropConnection)
    }
    /// Truncate the body.
    pub fn truncated_body() -> Self {
        Self::new(FaultKind::TruncatedBody)
    }
    /// Send a malformed JSON body.
    pub fn malformed_body() -> Self {
        Self::new(FaultKind::MalformedBody)
    }
    /// Send the body with a wrong content type.
    pub fn wrong_content_type() -> Self {
        Self::new(FaultKind::WrongContentType)
    }
    /// Answer `status` with exactly `body` as `content_type` instead of the real response.
    pub fn respond(
        status: u16,
        content_type: impl Into<String>,
        body: impl Into<bytes::Bytes>,
    ) -> Self {
        Self::new(FaultKind::Respond {
            status,
            content_type: content_type.into(),
            body: body.into(),
        })
    }
    /// Let the first `n` matching requests through untouched, then start hitting.
    pub fn skip_first(mut self, n: u32) -> Self {
        self.skip = n;
        self
    }
    /// Hit only this operation.
    pub fn on_operation(mut self, operation: Operation) -> Self {
        self.target = Target::Operation(operation);
        self
    }
    /// Hit only requests whose path starts with `prefix` (e.g. `/users`).
    pub fn on_path(mut self, prefix: impl Into<String>) -> Self {
        self.target = Target::PathPrefix(prefix.into());
        self
    }
    /// Hit the next `n` matching requests.
    pub fn times(mut self, n: u32) -> Self {
        self.times = Some(n);
        self
    }
    /// Hit every matching request (with [`Fault::fraction`], a fraction of them forever).
    pub fn always(mut self) -> Self {
        self.times = None;
        self
    }
    /// Hit each matching request with probability `p`, drawn from a generator seeded with
    /// `seed`. Without an explicit [`Fault::times`], this applies indefinitely.
    pub fn fraction(mut self, p: f64, seed: u64) -> Self {
        self.fraction = Some((p.clamp(0.0, 1.0), seed));
        if self.times == Some(1) {
            self.times = None;
        }
        self
    }
    /// Apply after the operation changed state (the response is lost).
    pub fn after_apply(mut self) -> Self {
        self.phase = Phase::AfterApply;
        self
    }
    /// Apply before the operation touches state (the default).
    pub fn before_apply(mut self) -> Self {
        self.phase = Phase::BeforeApply;
        self
    }

    fn matches(&self, operation: Option<Operation>, path: &str) -> bool {
        match &self.target {
            Target::Any => true,
            Target::Operation(op) => operation == Some(*op),
            Target::PathPrefix(p) => path.starts_with(p.as_str()),
        }
    }
}

/// The JSON form of a fault on the admin endpoint.
///
/// `{"kind": "status", "status": 503, "operation": "get_user", "times": 2, "phase": "before"}`
/// (`operation` in snake_case or the documentation's camelCase, `getUser`; another name is refused);
/// `kind` is one of `status`, `delay` (with `delayMs`), `dropConnection`, `truncatedBody`,
/// `malformedBody`, `wrongContentType`; `pathPrefix` instead of `operation`; `fraction` with
/// `seed`; `phase` `before` (default) or `after`; `skip` to let the first matching requests
/// through. Kind `respond` answers `status` with `body` (text) as `contentType` (default
/// `application/json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct FaultSpec {
    /// The kind.
    pub kind: String,
    /// For `status`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// For `delay`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    /// Target operation (`get_user` or `getUser`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// Target path prefix.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path_prefix: Option<String>,
    /// How many requests; absent = 1, or unlimited with a fraction.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub times: Option<u32>,
    /// Probability of hitting a matching request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fraction: Option<f64>,
    /// Seed for the fraction's draws.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// `before` (default) or `after`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<Phase>,
    /// Matching requests to let through before hitting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip: Option<u32>,
    /// For `respond`: the body to send.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// For `respond`: the content type (default `application/json`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content_type: Option<String>,
}

impl TryFrom<FaultSpec> for Fault {
    type Error = String;
    fn try_from(s: FaultSpec) -> Result<Self, String> {
        let kind = match s.kind.as_str() {
            "status" => {
                let code = s.status.ok_or("`status` is required for kind `status`")?;
                if !(100..=599).contains(&code) {
                    return Err(format!("`{code}` is not an HTTP status"));
                }
                FaultKind::Status(code)
            }
            "delay" => FaultKind::Delay(Duration::from_millis(
                s.delay_ms.ok_or("`delayMs` is required for kind `delay`")?,
            )),
            "dropConnection" => FaultKind::DropConnection,
            "truncatedBody" => FaultKind::TruncatedBody,
            "malformedBody" => FaultKind::MalformedBody,
            "wrongContentType" => FaultKind::WrongContentType,
            "respond" => {
                let code = s.status.ok_or("`status` is required for kind `respond`")?;
                if !(100..=599).contains(&code) {
                    return Err(format!("`{code}` is not an HTTP status"));
                }
                FaultKind::Respond {
                    status: code,
                    content_type: s
                        .content_type
                        .clone()
                        .unwrap_or_else(|| "application/json".into()),
                    body: bytes::Bytes::from(
                        s.body
                            .clone()
                            .ok_or("`body` is required for kind `respond`")?,
                    ),
                }
            }
            other => return Err(format!("unknown fault kind `{other}`")),
        };
        let mut f = Fault::new(kind);
        f.target = match (s.operation, s.path_prefix) {
            (Some(_), Some(_)) => return Err("give `operation` or `pathPrefix`, not both".into()),
            (Some(op), None) => {
                Target::Operation(op.parse().map_err(|e| format!("`operation`: {e}"))?)
            }
            (None, Some(p)) => Target::PathPrefix(p),
            (None, None) => Target::Any,
        };
        if let Some(p) = s.fraction {
            if !(0.0..=1.0).contains(&p) {
                return Err("`fraction` must be within 0..=1".into());
            }
            f = f.fraction(p, s.seed.unwrap_or(0));
        }
        if let Some(n) = s.times {
            f.times = Some(n);
        }
        if let Some(phase) = s.phase {
            f.phase = phase;
        }
        f.skip = s.skip.unwrap_or(0);
        Ok(f)
    }
}

impl From<&Fault> for FaultSpec {
    fn from(f: &Fault) -> Self {
        let (mut body, mut content_type) = (None, None);
        let (kind, status, delay_ms) = match &f.kind {
            FaultKind::Status(c) => ("status", Some(*c), None),
            FaultKind::Delay(d) => ("delay", None, Some(d.as_millis() as u64)),
            FaultKind::DropConnection => ("dropConnection", None, None),
            FaultKind::TruncatedBody => ("truncatedBody", None, None),
            FaultKind::MalformedBody => ("malformedBody", None, None),
            FaultKind::WrongContentType => ("wrongContentType", None, None),
            FaultKind::Respond {
                status,
                content_type: ct,
                body: b,
            } => {
                body = Some(String::from_utf8_lossy(b).into_owned());
                content_type = Some(ct.clone());
                ("respond", Some(*status), None)
            }
        };
        let (operation, path_prefix) = match &f.target {
            Target::Any => (None, None),
            Target::Operation(o) => (Some(o.id().to_string()), None),
            Target::PathPrefix(p) => (None, Some(p.clone())),
        };
        FaultSpec {
            kind: kind.into(),
            status,
            delay_ms,
            operation,
            path_prefix,
            times: f.times,
            fraction: f.fraction.map(|(p, _)| p),
            seed: f.fraction.map(|(_, s)| s),
            phase: Some(f.phase),
            skip: (f.skip > 0).then_some(f.skip),
            body,
            content_type,
        }
    }
}

struct Armed {
    fault: Fault,
    rng: Option<StdRng>,
}

/// The active faults.
#[derive(Default)]
pub(crate) struct Faults {
    armed: Mutex<Vec<Armed>>,
}

impl Faults {
    pub fn inject(&self, fault: Fault) {
        if fault.times == Some(0) {
            return;
        }
        let rng = fault.fraction.map(|(_, seed)| StdRng::seed_from_u64(seed));
        self.armed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Armed { fault, rng });
    }

    pub fn clear(&self) {
        self.armed.lock().unwrap_or_else(|e| e.into_inner()).clear();
    }

    /// The faults still armed (with their remaining counts).
    pub fn list(&self) -> Vec<Fault> {
        self.armed
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .map(|a| a.fault.clone())
            .collect()
    }

    /// Takes the fault that hits this request in this phase, if any.
    pub fn take(
        &self,
        phase: Phase,
        operation: Option<Operation>,
        path: &str,
    ) -> Option<FaultKind> {
        let mut armed = self.armed.lock().unwrap_or_else(|e| e.into_inner());
        let mut hit = None;
        for (i, a) in armed.iter_mut().enumerate() {
            if a.fault.phase != phase || !a.fault.matches(operation, path) {
                continue;
            }
            if a.fault.skip > 0 {
                a.fault.skip -= 1;
                continue;
            }
            if let (Some((p, _)), Some(rng)) = (a.fault.fraction, a.rng.as_mut())
                && !rng.random_bool(p)
            {
                continue;
            }
            if let Some(n) = a.fault.times.as_mut() {
                *n = n.saturating_sub(1);
            }
            hit = Some((i, a.fault.kind.clone()));
            break;
        }
        let (i, kind) = hit?;
        if armed[i].fault.times == Some(0) {
            armed.remove(i);
        }
        Some(kind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_hits_only_its_operation_and_phase_the_given_times() {
        let f = Faults::default();
        f.inject(Fault::status(503).on_operation(Operation::GetUser).times(2));
        assert_eq!(
            f.take(Phase::BeforeApply, Some(Operation::ListUsers), "/users"),
            None
        );
        assert_eq!(
            f.take(Phase::AfterApply, Some(Operation::GetUser), "/users/x"),
            None
        );
        assert_eq!(
            f.take(Phase::BeforeApply, Some(Operation::GetUser), "/users/x"),
            Some(FaultKind::Status(503))
        );
        assert!(
            f.take(Phase::BeforeApply, Some(Operation::GetUser), "/users/x")
                .is_some()
        );
        assert!(
            f.take(Phase::BeforeApply, Some(Operation::GetUser), "/users/x")
                .is_none()
        );
        assert!(f.list().is_empty());
    }

    #[test]
    fn skip_first_lets_requests_through() {
        let f = Faults::default();
        f.inject(
            Fault::status(500)
                .on_operation(Operation::DeleteInvites)
                .skip_first(2),
        );
        for _ in 0..2 {
            assert_eq!(
                f.take(
                    Phase::BeforeApply,
                    Some(Operation::DeleteInvites),
                    "/invites"
                ),
                None
            );
        }
        // Other operations do not count towards the skip.
        assert_eq!(
            f.take(Phase::BeforeApply, Some(Operation::GetUser), "/users/x"),
            None
        );
        assert_eq!(
            f.take(
                Phase::BeforeApply,
                Some(Operation::DeleteInvites),
                "/invites"
            ),
            Some(FaultKind::Status(500))
        );
        assert!(f.list().is_empty());
    }

    #[test]
    fn respond_spec_roundtrip() {
        let f = Fault::respond(200, "application/json", "{\"data\":[[[]]]}")
            .on_operation(Operation::ListUsers)
            .skip_first(1);
        let spec = FaultSpec::from(&f);
        assert_eq!(spec.kind, "respond");
        assert_eq!(Fault::try_from(spec).expect("valid"), f);
        let json = r#"{"kind":"respond","status":200,"body":"junk","contentType":"text/plain"}"#;
        let f =
            Fault::try_from(serde_json::from_str::<FaultSpec>(json).expect("json")).expect("valid");
        assert_eq!(
            f.kind,
            FaultKind::Respond {
                status: 200,
                content_type: "text/plain".into(),
                body: bytes::Bytes::from_static(b"junk"),
            }
        );
    }

    #[test]
    fn fraction_is_seeded() {
        let run = || {
            let f = Faults::default();
            f.inject(Fault::drop_connection().on_path("/users").fraction(0.3, 7));
            (0..1000)
                .map(|_| f.take(Phase::BeforeApply, None, "/users").is_some())
                .collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        let hits = a.iter().filter(|h| **h).count();
        assert!((200..400).contains(&hits), "{hits}");
    }

    #[test]
    fn fault_specs_round_trip_and_unknown_kinds_are_refused() {
        let f = Fault::status(502).on_path("/groups").times(3).after_apply();
        let spec = FaultSpec::from(&f);
        assert_eq!(Fault::try_from(spec).expect("valid"), f);
        let json = r#"{"kind":"delay","delayMs":50,"operation":"get_user","phase":"after"}"#;
        let spec: FaultSpec = serde_json::from_str(json).expect("json");
        let f = Fault::try_from(spec).expect("valid");
        assert_eq!(f.kind, FaultKind::Delay(Duration::from_millis(50)));
        assert_eq!(f.phase, Phase::AfterApply);
        assert!(
            Fault::try_from(FaultSpec {
                kind: "nope".into(),
                ..Default::default()
            })
            .is_err()
        );
    }
}
