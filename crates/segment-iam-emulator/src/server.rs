//! The builder, the running handle and the request pipeline.
//!
//! Order of checks for an API request:
//!
//! 1. URL longer than the limit: 414.
//! 2. Routing (method + path): unknown routes get a 404 envelope.
//! 3. Before-apply faults (a failing proxy answers before the service sees anything).
//! 4. Authentication (`Authorization: Bearer <token>`): 401.
//! 5. `Accept` negotiation: 406 for a type that is neither JSON nor the vendor types.
//! 6. Rate limit per (token, bucket): 429, not applied.
//! 7. Body (at most 1 MiB): 413.
//! 8. Query decoding and the operation itself (422 / 404 / 409 / success).
//! 9. `list_delay` for list pages, then after-apply faults.
//!
//! Every API request is journaled; admin requests (`/__emulator/...`) never are.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use axum::Router;

use axum::extract::{Request, State as AxState};
use axum::http::header;
use axum::response::Response;

use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::app::{Inner, JSON, Reply};
use crate::error::EmulatorError;
use crate::faults::{Fault, FaultKind, Faults, Phase};
use crate::handlers::{Call, execute};
use crate::journal::{Journal, JournalEntry, keep_header, redact};
use crate::operations::{Operation, route};
use crate::pagination::CursorCodec;
use crate::query::DecodedQuery;
use crate::ratelimit::{Bucket, Limits, RateLimiter};
use crate::seed::{Fixture, apply_fixture, seed, seed_sources};
use crate::state::{AuditEvent, Source, State, StateSnapshot, Workspace};
use crate::wire::ApiError;

/// The token used when none is configured.
pub const DEFAULT_TOKEN: &str = "emulator-token";

/// Entry point: `Emulator::builder()`.
#[derive(Debug, Clone, Copy)]
pub struct Emulator;

impl Emulator {
    /// A builder with the defaults (token `emulator-token`, limits on, 60 s window, ...).
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }
}

/// Configures and starts an emulator.
#[derive(Debug, Clone)]
pub struct EmulatorBuilder {
    tokens: Vec<String>,
    /// Token → the email of the person it belongs to (the audit trail's actor).
    owners: Vec<(String, String)>,
    audit_trail: bool,
    seed: u64,
    users: usize,
    groups: usize,
    invites: usize,
    sources: usize,
    fixtures: Vec<Fixture>,
    limits: Limits,
    max_url_len: usize,
    max_body: usize,
    strict: bool,
    allow_duplicate_group_names: bool,
    list_delay: Duration,
    port: u16,
    journal_capacity: usize,
    workspace: Workspace,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        Self {
            tokens: Vec::new(),
            owners: Vec::new(),
            audit_trail: true,
            seed: 0,
            users: 0,
            groups: 0,
            invites: 0,
            sources: 0,
            fixtures: Vec::new(),
            limits: Limits::default(),
            max_url_len: 8192,
            max_body: 1024 * 1024,
            strict: false,
            allow_duplicate_group_names: false,
            list_delay: Duration::ZERO,
            port: 0,
            journal_capacity: 100_000,
            workspace: Workspace::default(),
        }
    }
}

impl EmulatorBuilder {
    /// Accepts this bearer token (may be called several times; default `emulator-token`).
    /// Changes made with it are recorded in the audit trail as by
    /// [`DEFAULT_ACTOR`](crate::DEFAULT_ACTOR); [`token_for`](Self::token_for) names the person.
    pub fn token(mut self, t: impl Into<String>) -> Self {
        self.tokens.push(t.into());
        self
    }

    /// Accepts this bearer token as `email`'s: the audit trail records the changes made with
    /// it as by `email` (`actor` and `actorEmail`).
    pub fn token_for(mut self, t: impl Into<String>, email: impl Into<String>) -> Self {
        let t = t.into();
        self.tokens.push(t.clone());
        self.owners.push((t, email.into()));
        self
    }

    /// Whether the workspace has the audit trail (default yes). Without it `listAuditEvents`
    /// answers 403, as for a workspace without the Business-tier feature; mutations are still
    /// recorded for [`EmulatorHandle::audit_events`].
    pub fn audit_trail(mut self, on: bool) -> Self {
        self.audit_trail = on;
        self
    }
    /// The seed of generated data and ids (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }
    /// Generates `n` users.
    pub fn users(mut self, n: usize) -> Self {
        self.users = n;
        self
    }
    /// Generates `n` user groups.
    pub fn groups(mut self, n: usize) -> Self {
        self.groups = n;
        self
    }
    /// Generates `n` pending invites.
    pub fn invites(mut self, n: usize) -> Self {
        self.invites = n;
        self
    }
    /// Generates `n` sources, labelled `environment:prod` and `environment:dev` in turn (the
    /// first prod).
    pub fn sources(mut self, n: usize) -> Self {
        self.sources = n;
        self
    }
    /// Loads a fixture (before the generated data). May be called several times.
    pub fn fixture(mut self, f: Fixture) -> Self {
        self.fixtures.push(f);
        self
    }
    /// Loads a JSON fixture file.
    pub fn fixture_file(self, p: impl AsRef<Path>) -> Result<Self, EmulatorError> {
        Ok(self.fixture(Fixture::load(p)?))
    }
    /// Enforces rate limits and sends `X-RateLimit-*` headers (default on). When off, no
    /// request is ever limited and no rate-limit header is sent.
    pub fn rate_limits(mut self, on: bool) -> Self {
        self.limits.enabled = on;
        self
    }
    /// Mutations per window per token (default 60).
    pub fn mutation_limit(mut self, n: u32) -> Self {
        self.limits.mutations = n;
        self
    }
    /// Reads per window per token (default 1000).
    pub fn read_limit(mut self, n: u32) -> Self {
        self.limits.reads = n;
        self
    }
    /// The rate-limit window (default 60 s).
    pub fn window(mut self, d: Duration) -> Self {
        self.limits.window = d;
        self
    }
    /// The longest accepted request target, path plus query (default 8192); longer: 414.
    pub fn max_url_len(mut self, n: usize) -> Self {
        self.max_url_len = n;
        self
    }
    /// The largest accepted request body (default 1 MiB); larger: 413.
    pub fn max_body(mut self, n: usize) -> Self {
        self.max_body = n;
        self
    }
    /// Accepts only the documented dotted query forms (`name.0`, `pagination.count`).
    pub fn strict(mut self, on: bool) -> Self {
        self.strict = on;
        self
    }
    /// Accepts a group created or renamed to a name another group has, as a service that
    /// lets two racing creations of one name both succeed would (default off: 409).
    pub fn allow_duplicate_group_names(mut self, on: bool) -> Self {
        self.allow_duplicate_group_names = on;
        self
    }
    /// Extra latency on every list-page response.
    pub fn list_delay(mut self, d: Duration) -> Self {
        self.list_delay = d;
        self
    }
    /// The port on 127.0.0.1 (default 0: an ephemeral port).
    pub fn port(mut self, p: u16) -> Self {
        self.port = p;
        self
    }
    /// The workspace `getWorkspace` answers (default: id `9aQ1Lj62S4bomZKLF4DPqW`, the
    /// documentation's example, slug `emulated-workspace`).
    pub fn workspace(
        mut self,
        id: impl Into<String>,
        slug: impl Into<String>,
        name: impl Into<String>,
    ) -> Self {
        self.workspace = Workspace {
            id: id.into(),
            slug: slug.into(),
            name: name.into(),
        };
        self
    }

    /// How many journal entries are kept (default 100 000; 0 disables the journal).
    pub fn journal_capacity(mut self, n: usize) -> Self {
        self.journal_capacity = n;
        self
    }

    /// Builds the state, binds 127.0.0.1 and serves in a background task.
    pub async fn start(self) -> Result<EmulatorHandle, EmulatorError> {
        let mut state = State::new(self.seed);
        state.workspace = self.workspace.clone();
        state.audit_trail = self.audit_trail;
        state.allow_duplicate_group_names = self.allow_duplicate_group_names;
        for f in &self.fixtures {
            apply_fixture(&mut state, f)?;
        }
        seed(&mut state, self.users, self.invites, self.groups);
        seed_sources(&mut state, self.sources)?;
        let tokens = if self.tokens.is_empty() {
            vec![DEFAULT_TOKEN.to_string()]
        } else {
            self.tokens
        };
        let inner = Arc::new(Inner {
            tokens,
            owners: self.owners.into_iter().collect(),
            strict: self.strict,
            max_url_len: self.max_url_len,
            max_body: self.max_body,
            list_delay: self.list_delay,
            state: Mutex::new(state),
            limiter: RateLimiter::new(self.limits),
            faults: Faults::default(),
            journal: Journal::new(self.journal_capacity),
            codec: CursorCodec::random(),
            started: Instant::now(),
        });
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", self.port))
            .await
            .map_err(|source| EmulatorError::Bind {
                port: self.port,
                source,
            })?;
        let addr = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind {
                port: self.port,
                source,
            })?;
        let router = Router::new().fallback(handle).with_state(inner.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let served = axum::serve(listener, router)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
            if let Err(e) = served {
                tracing::warn!("emulator stopped: {e}");
            }
        });
        tracing::debug!("segment-iam emulator listening on http://{addr}");
        Ok(EmulatorHandle {
            addr,
            inner,
            stop: Some(tx),
            task: Some(task),
        })
    }
}

/// A running emulator. Dropping it shuts the server down.
pub struct EmulatorHandle {
    addr: SocketAddr,
    inner: Arc<Inner>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for EmulatorHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EmulatorHandle")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl EmulatorHandle {
    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }
    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }
    /// The first configured token.
    pub fn token(&self) -> String {
        self.inner.tokens.first().cloned().unwrap_or_default()
    }
    /// Every configured token.
    pub fn tokens(&self) -> Vec<String> {
        self.inner.tokens.clone()
    }
    /// The journal, oldest entry first.
    pub fn journal(&self) -> Vec<JournalEntry> {
        self.inner.journal.entries()
    }
    /// Journal entries of one operation.
    pub fn journal_for(&self, operation: Operation) -> Vec<JournalEntry> {
        self.journal()
            .into_iter()
            .filter(|e| e.operation == Some(operation))
            .collect()
    }
    /// How many requests of an operation were applied to state.
    pub fn applied_count(&self, operation: Operation) -> usize {
        self.journal_for(operation)
            .iter()
            .filter(|e| e.applied)
            .count()
    }
    /// Empties the journal.
    pub fn clear_journal(&self) {
        self.inner.journal.clear();
    }
    /// Arms a fault.
    pub fn inject(&self, fault: Fault) {
        self.inner.faults.inject(fault);
    }
    /// The faults still armed.
    pub fn faults(&self) -> Vec<Fault> {
        self.inner.faults.list()
    }
    /// Disarms every fault.
    pub fn clear_faults(&self) {
        self.inner.faults.clear();
    }
    /// Forgets every rate-limit window.
    pub fn reset_rate_limits(&self) {
        self.inner.limiter.reset();
    }
    /// A copy of the whole workspace (costly with many users; see the cheaper accessors).
    pub fn state(&self) -> StateSnapshot {
        self.inner.lock_state().snapshot()
    }
    /// User ids in creation order.
    pub fn user_ids(&self) -> Vec<String> {
        self.inner
            .lock_state()
            .users
            .values()
            .map(|u| u.id.clone())
            .collect()
    }
    /// Number of users.
    pub fn user_count(&self) -> usize {
        self.inner.lock_state().users.len()
    }
    /// Group ids in creation order.
    pub fn group_ids(&self) -> Vec<String> {
        self.inner
            .lock_state()
            .groups
            .values()
            .map(|g| g.id.clone())
            .collect()
    }
    /// Emails of pending invites in creation order.
    pub fn invite_emails(&self) -> Vec<String> {
        self.inner
            .lock_state()
            .invites
            .values()
            .map(|i| i.email.clone())
            .collect()
    }
    /// One user, if it exists.
    pub fn user(&self, id: &str) -> Option<crate::state::UserSnapshot> {
        let st = self.inner.lock_state();
        st.user_by_id
            .get(id)
            .and_then(|s| st.users.get(s))
            .map(|u| st.user_snapshot(u))
    }
    /// One group, if it exists.
    pub fn group(&self, id: &str) -> Option<crate::state::GroupSnapshot> {
        let st = self.inner.lock_state();
        st.group_by_id
            .get(id)
            .and_then(|s| st.groups.get(s))
            .map(|g| st.group_snapshot(g))
    }
    /// The workspace `getWorkspace` answers.
    pub fn workspace(&self) -> Workspace {
        self.inner.lock_state().workspace.clone()
    }
    /// The id of the workspace `getWorkspace` answers (the resource id of `WORKSPACE`
    /// permissions; [`crate::seed::WORKSPACE_ID`] unless the builder set another).
    pub fn workspace_id(&self) -> String {
        self.inner.lock_state().workspace.id.clone()
    }
    /// Source ids in creation order.
    pub fn source_ids(&self) -> Vec<String> {
        self.inner
            .lock_state()
            .sources
            .values()
            .map(|s| s.id.clone())
            .collect()
    }
    /// The sources, in creation order, with the labels they carry.
    pub fn sources(&self) -> Vec<Source> {
        self.inner.lock_state().sources.values().cloned().collect()
    }
    /// The workspace's labels as `key:value`, in `list_labels` order.
    pub fn label_strings(&self) -> Vec<String> {
        self.inner
            .lock_state()
            .labels
            .iter()
            .map(ToString::to_string)
            .collect()
    }
    /// The audit trail, oldest first.
    pub fn audit_events(&self) -> Vec<AuditEvent> {
        self.inner.lock_state().audit.iter().cloned().collect()
    }
    /// Stops the server and waits (at most 5 s) for it to finish.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let abort = task.abort_handle();
            if tokio::time::timeout(Duration::from_secs(5), task)
                .await
                .is_err()
            {
                abort.abort();
            }
        }
    }
}

impl Drop for EmulatorHandle {
    fn drop(&mut self) {
        if let Some(tx) = self.stop.take() {
            let _ = tx.send(());
        }
    }
}

// ---- the pipeline ------------------------------------------------------------------------

fn fault_name(k: &FaultKind) -> String {
    match k {
        FaultKind::Status(c) => format!("status:{c}"),
        FaultKind::Delay(d) => format!("delay:{}ms", d.as_millis()),
        FaultKind::DropConnection => "dropConnection".into(),
        FaultKind::TruncatedBody => "truncatedBody".into(),
        FaultKind::MalformedBody => "malformedBody".into(),
        FaultKind::WrongContentType => "wrongContentType".into(),
        FaultKind::Respond { status, body, .. } => format!("respond:{status}:{}B", body.len()),
    }
}

/// Applies a non-delay fault to a reply.
fn damage(kind: &FaultKind, mut r: Reply) -> Reply {
    match kind {
        FaultKind::Status(code) => {
            let e = ApiError::new(
                *code,
                "server-error",
                format!("injected fault: status {code}"),
            );
            let headers = std::mem::take(&mut r.headers);
            Reply {
                headers,
                ..Reply::error(&e)
            }
        }
        FaultKind::Delay(_) => r,
        FaultKind::DropConnection => Reply {
            drop_midway: true,
            ..r
        },
        FaultKind::TruncatedBody => {
            let keep = r.body.len() / 2;
            r.body.truncate(keep);
            r
        }
        FaultKind::MalformedBody => Reply {
            body: b"{\"data\": {\"injected\": malformed,,, ]".to_vec(),
            ..r
        },
        FaultKind::WrongContentType => Reply {
            content_type: "text/html; charset=utf-8",
            ..r
        },
        FaultKind::Respond {
            status,
            content_type,
            body,
        } => Reply {
            status: *status,
            body: body.to_vec(),
            content_type: JSON,
            // Inserted after the default content type, so it replaces it.
            headers: vec![("content-type", content_type.clone())],
            drop_midway: false,
        },
    }
}

fn accept_ok(value: &str) -> bool {
    value.split(',').any(|part| {
        let mt = part
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        mt.is_empty()
            || mt == "*/*"
            || mt == "application/*"
            || mt == "application/json"
            || (mt.starts_with("application/vnd.segment.") && mt.ends_with("+json"))
    })
}

fn bearer(value: &str) -> Option<&str> {
    let (scheme, rest) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| rest.trim())
}

async fn handle(AxState(inner): AxState<Arc<Inner>>, req: Request) -> Response {
    let path = req.uri().path().to_string();
    if path == "/__emulator" || path.starts_with("/__emulator/") {
        return crate::admin::handle(&inner, req).await;
    }
    let method = req.method().as_str().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let entry = JournalEntry {
        seq: 0,
        method: method.clone(),
        path: path.clone(),
        query: query.clone(),
        operation: None,
        status: 0,
        headers: req
            .headers()
            .iter()
            .filter(|(k, _)| keep_header(k.as_str()))
            .map(|(k, v)| {
                let v = String::from_utf8_lossy(v.as_bytes()).into_owned();
                let v = if k == header::AUTHORIZATION {
                    redact(&v)
                } else {
                    v
                };
                (k.as_str().to_string(), v)
            })
            .collect(),
        body: None,
        at: SystemTime::now(),
        elapsed: inner.started.elapsed(),
        nonstandard_query: false,
        applied: false,
        fault: None,
        rate_limited: false,
        rate_limit_consumed: None,
        rate_limit_remaining: None,
    };
    let mut pending = Pending {
        inner: &inner,
        entry: Some(entry),
        finished: false,
    };
    let reply = process(&inner, req, &method, &path, &query, pending.entry()).await;
    pending.entry().status = reply.status;
    pending.finished = true;
    drop(pending);
    reply.into_response()
}

/// The journal entry of a request being handled, recorded when dropped. When the client goes
/// away mid-request (hyper then drops the handler), the entry is still recorded, with status
/// 499 ("client closed request", as nginx says) and whatever was applied before — so a test
/// can wait for every request it sent to be journaled, slow ones included, instead of
/// sleeping.
struct Pending<'a> {
    inner: &'a Inner,
    entry: Option<JournalEntry>,
    finished: bool,
}

impl Pending<'_> {
    fn entry(&mut self) -> &mut JournalEntry {
        self.entry
            .as_mut()
            .expect("the entry is held until the guard drops")
    }
}

impl Drop for Pending<'_> {
    fn drop(&mut self) {
        if let Some(mut entry) = self.entry.take() {
            if !self.finished {
                entry.status = 499;
            }
            self.inner.journal.record(entry);
        }
    }
}

async fn process(
    inner: &Inner,
    req: Request,
    method: &str,
    path: &str,
    query: &str,
    entry: &mut JournalEntry,
) -> Reply {
    let target_len = req
        .uri()
        .path_and_query()
        .map(|pq| pq.as_str().len())
        .unwrap_or(0);
    if target_len > inner.max_url_len {
        let e = ApiError::new(
            414,
            "uri-too-long",
            format!(
                "the request URL is {target_len} bytes long; at most {} are accepted",
                inner.max_url_len
            ),
        );
        return Reply::error(&e);
    }
    let routed = route(method, path);
    entry.operation = routed.as_ref().map(|(op, _)| *op);

    // Before-apply faults.
    if let Some(kind) = inner.faults.take(Phase::BeforeApply, entry.operation, path) {
        entry.fault = Some(fault_name(&kind));
        if let FaultKind::Delay(d) = kind {
            tokio::time::sleep(d).await;
        } else {
            return damage(&kind, Reply::json(200, b"{\"data\":{}}".to_vec()));
        }
    }

    let Some((op, params)) = routed else {
        return Reply::error(&ApiError::not_found(format!(
            "no route for {method} {path}"
        )));
    };

    // Authentication.
    let token = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer)
        .filter(|t| inner.tokens.iter().any(|k| k == t))
        .map(str::to_string);
    let Some(token) = token else {
        return Reply::error(&ApiError::new(
            401,
            "unauthorized",
            "missing or invalid token",
        ));
    };
    if let Some(accept) = req
        .headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        && !accept_ok(accept)
    {
        return Reply::error(&ApiError::new(
            406,
            "not-acceptable",
            "accept application/vnd.segment.v1+json or application/json",
        ));
    }

    // Rate limit.
    let bucket = if op.is_mutation() {
        Bucket::Mutations
    } else {
        Bucket::Reads
    };
    let decision = inner.limiter.check(&token, bucket);
    if let Some(d) = &decision {
        entry.rate_limit_consumed = Some(d.consumed);
        entry.rate_limit_remaining = Some(d.remaining);
    }
    if let Some(d) = &decision
        && !d.allowed
    {
        entry.rate_limited = true;
        let mut e = ApiError::new(429, "RequestError", "Too many requests");
        e.data = Some(serde_json::json!({
            "remainingPoints": d.remaining,
            "msBeforeNext": d.ms_before_next,
            "consumedPoints": d.consumed,
        }));
        return Reply::error(&e).with_limits(Some(d));
    }

    // Body.
    let too_large = || {
        Reply::error(&ApiError::new(
            413,
            "payload-too-large",
            "the request body is too large",
        ))
        .with_limits(decision.as_ref())
    };
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > inner.max_body as u64) {
        return too_large();
    }
    let body = match axum::body::to_bytes(req.into_body(), inner.max_body).await {
        Ok(b) => b,
        Err(_) => return too_large(),
    };
    if !body.is_empty() {
        let keep = &body[..body.len().min(64 * 1024)];
        entry.body = Some(String::from_utf8_lossy(keep).into_owned());
    }

    // Query and operation.
    let decoded = match DecodedQuery::parse(query) {
        Ok(q) => q,
        Err(e) => {
            return Reply::error(&ApiError::invalid(e.field, e.message))
                .with_limits(decision.as_ref());
        }
    };
    let arrays: Vec<&str> = op.query_array().into_iter().collect();
    let objects: &[&str] = if op.is_list() { &["pagination"] } else { &[] };
    entry.nonstandard_query = decoded.nonstandard_for(&arrays, objects);
    let call = Call {
        op,
        id: params.first().map(String::as_str),
        params: &params,
        query: &decoded,
        body: &body,
        strict: inner.strict,
        codec: &inner.codec,
    };
    let result = {
        let mut st = inner.lock_state();
        st.actor = inner
            .owners
            .get(&token)
            .cloned()
            .unwrap_or_else(|| crate::DEFAULT_ACTOR.to_string());
        execute(&mut st, &call)
    };
    let mut reply = match result {
        Ok(s) => {
            entry.applied = true;
            Reply::json(s.status, s.body)
        }
        Err(e) => Reply::error(&e),
    }
    .with_limits(decision.as_ref());
    if op.is_list() && entry.applied && !inner.list_delay.is_zero() {
        tokio::time::sleep(inner.list_delay).await;
    }

    // After-apply faults.
    if let Some(kind) = inner.faults.take(Phase::AfterApply, Some(op), path) {
        let name = fault_name(&kind);
        entry.fault = Some(match entry.fault.take() {
            Some(before) => format!("{before},{name}"),
            None => name,
        });
        if let FaultKind::Delay(d) = kind {
            tokio::time::sleep(d).await;
        } else {
            reply = damage(&kind, reply);
        }
    }
    reply
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_takes_json_and_segment_vendor_types_only() {
        assert!(accept_ok("application/vnd.segment.v1+json"));
        assert!(accept_ok("application/json; charset=utf-8"));
        assert!(accept_ok("text/html, */*;q=0.1"));
        assert!(accept_ok("application/vnd.segment.v1beta+json"));
        assert!(!accept_ok("text/html"));
        assert!(!accept_ok("application/xml"));
    }

    #[test]
    fn the_bearer_scheme_is_required_in_any_case() {
        assert_eq!(bearer("Bearer abc"), Some("abc"));
        assert_eq!(bearer("bearer  abc "), Some("abc"));
        assert_eq!(bearer("Basic abc"), None);
        assert_eq!(bearer("abc"), None);
    }
}
