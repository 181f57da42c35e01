//! The admin endpoints under `/__emulator/`. They need no token, are never rate limited
//! and never journaled; real clients never touch them.
//!
//! | method, path | body | answer |
//! | --- | --- | --- |
//! | GET `/__emulator/health` | | `{"status":"ok"}` |
//! | GET `/__emulator/journal[?operation=get_user]` | | `{"entries":[JournalEntry...]}`; `getUser` too, another name is a 422 |
//! | DELETE `/__emulator/journal` | | `{"status":"cleared"}` |
//! | GET `/__emulator/faults` | | `{"faults":[FaultSpec...]}` (still armed) |
//! | POST `/__emulator/faults` | a `FaultSpec` or an array of them | `{"faults":[...]}` |
//! | DELETE `/__emulator/faults` | | `{"status":"cleared"}` |
//! | GET `/__emulator/state` | | a `StateSnapshot` |
//! | GET `/__emulator/audit` | | `{"events":[AuditEvent...]}` |
//! | POST `/__emulator/ratelimits/reset` | | `{"status":"reset"}` |
//!
//! JSON field names are camelCase; times are Unix milliseconds (`at`) and milliseconds
//! since start (`elapsed`).

use axum::extract::Request;
use axum::response::Response;
use serde::Serialize;
use serde_json::json;

use crate::app::{Inner, Reply};
use crate::faults::{Fault, FaultSpec};
use crate::operations::Operation;
use crate::query::DecodedQuery;
use crate::wire::ApiError;

fn ok<T: Serialize>(v: &T) -> Response {
    Reply::json(200, serde_json::to_vec(v).unwrap_or_default()).into_response()
}

fn err(status: u16, kind: &'static str, msg: impl Into<String>) -> Response {
    Reply::error(&ApiError::new(status, kind, msg)).into_response()
}

pub(crate) async fn handle(inner: &Inner, req: Request) -> Response {
    let method = req.method().as_str().to_string();
    let path = req.uri().path().trim_end_matches('/').to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let sub = path.strip_prefix("/__emulator").unwrap_or("");
    match (method.as_str(), sub) {
        ("GET", "/health") | ("GET", "") => ok(&json!({"status": "ok"})),
        ("GET", "/journal") => {
            let named = DecodedQuery::parse(&query).ok().and_then(|q| {
                q.pairs
                    .into_iter()
                    .find(|p| p.name == "operation" && p.sub.is_none())
                    .map(|p| p.value)
            });
            let filter = match named.map(|name| name.parse::<Operation>()).transpose() {
                Ok(op) => op,
                Err(e) => return err(422, "input-validation", e.to_string()),
            };
            let entries: Vec<_> = inner
                .journal
                .entries()
                .into_iter()
                .filter(|e| filter.is_none() || e.operation == filter)
                .collect();
            ok(&json!({ "entries": entries }))
        }
        ("DELETE", "/journal") => {
            inner.journal.clear();
            ok(&json!({"status": "cleared"}))
        }
        ("GET", "/faults") => ok(&faults_json(inner)),
        ("POST", "/faults") => {
            let body = match axum::body::to_bytes(req.into_body(), 1024 * 1024).await {
                Ok(b) => b,
                Err(_) => return err(413, "payload-too-large", "body too large"),
            };
            let specs: Vec<FaultSpec> = match serde_json::from_slice::<serde_json::Value>(&body) {
                Ok(v @ serde_json::Value::Array(_)) => match serde_json::from_value(v) {
                    Ok(s) => s,
                    Err(e) => return err(422, "input-validation", e.to_string()),
                },
                Ok(v) => match serde_json::from_value(v) {
                    Ok(s) => vec![s],
                    Err(e) => return err(422, "input-validation", e.to_string()),
                },
                Err(e) => return err(422, "input-validation", format!("malformed JSON: {e}")),
            };
            let mut faults = Vec::with_capacity(specs.len());
            for s in specs {
                match Fault::try_from(s) {
                    Ok(f) => faults.push(f),
                    Err(e) => return err(422, "input-validation", e),
                }
            }
            for f in faults {
                inner.faults.inject(f);
            }
            ok(&faults_json(inner))
        }
        ("DELETE", "/faults") => {
            inner.faults.clear();
            ok(&json!({"status": "cleared"}))
        }
        ("GET", "/state") => ok(&inner.lock_state().snapshot()),
        ("GET", "/audit") => ok(&json!({ "events": inner.lock_state().audit })),
        ("POST", "/ratelimits/reset") => {
            inner.limiter.reset();
            ok(&json!({"status": "reset"}))
        }
        _ => err(
            404,
            "not-found",
            format!("no admin route for {method} {path}"),
        ),
    }
}

fn faults_json(inner: &Inner) -> serde_json::Value {
    let specs: Vec<FaultSpec> = inner.faults.list().iter().map(FaultSpec::from).collect();
    json!({ "faults": specs })
}
