//! Failures and their exit codes: 0 success, 1 the service refused or failed, 2 usage or
//! invalid input (nothing was sent), 3 the workspace lacks the feature (no audit trail for
//! `history`), 130 interrupted. Under `plan --detailed-exitcode`, 2 means
//! "changes pending" and every error is 1 ([`Kind::detailed_code`]).
//!
//! A failure carries the error envelope to print on stderr: the service's own
//! `{"status":..,"errors":[..]}` when there is one, otherwise one synthetic error of the same
//! shape, so scripts parse one format under `--output json`.

use std::io::{self, Write};
use std::path::Path;
use std::process::ExitCode;

use segment_iam::guard::Refusal;
use serde_json::{Value, json};

use crate::cli::OutputFormat;
use crate::output::clean;

/// Which exit code a failure maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The service refused or failed, or could not be reached: exit 1.
    Service,
    /// Usage or invalid input, nothing sent: exit 2.
    Usage,
    /// The workspace lacks a feature the command needs (the audit trail of `history`, a
    /// Business-tier feature): exit 3, so a script can tell it from a failure.
    Unavailable,
    /// Ctrl-C: exit 130 (128 + SIGINT, what shells expect).
    Interrupted,
    /// Whoever read stdout went away (`... | head`): stop quietly with exit 0, like other
    /// Unix tools, instead of an error about a reader that no longer cares.
    OutputClosed,
    /// Not an error: `plan --detailed-exitcode` found changes to make (exit 2; nothing is
    /// reported).
    ChangesPending,
}

impl Kind {
    /// The process exit code.
    pub fn code(self) -> u8 {
        match self {
            Kind::Service => 1,
            Kind::Usage => 2,
            Kind::Unavailable => 3,
            Kind::Interrupted => 130,
            Kind::OutputClosed => 0,
            Kind::ChangesPending => 2,
        }
    }

    /// The exit code under `plan --detailed-exitcode` (terraform's convention): 2 means
    /// "changes pending" and nothing else, so every error is 1, usage errors and refusals
    /// included.
    pub fn detailed_code(self) -> u8 {
        match self {
            Kind::Service | Kind::Usage | Kind::Unavailable => 1,
            Kind::ChangesPending => 2,
            Kind::Interrupted => 130,
            Kind::OutputClosed => 0,
        }
    }
}

/// A command that did not succeed.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    /// Exit code class.
    pub kind: Kind,
    /// One-line message for people.
    pub message: String,
    /// The error envelope (`{"status"?, "errors": [..], ...}`) for JSON output.
    pub envelope: Value,
}

impl Failure {
    /// A usage / invalid-input failure (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        let message = message.into();
        let envelope = json!({"errors": [{"type": "usage", "message": message}]});
        Self {
            kind: Kind::Usage,
            message,
            envelope,
        }
    }

    /// A failure of the service or the transport (exit 1) with the envelope to show.
    pub fn service(message: impl Into<String>, envelope: Value) -> Self {
        Self {
            kind: Kind::Service,
            message: message.into(),
            envelope,
        }
    }

    /// Interrupted by Ctrl-C (exit 130). For a change, a request already sent may have been
    /// applied, which the operator must know before running it again.
    pub fn interrupted(during_change: bool) -> Self {
        let message = if during_change {
            "interrupted; a request already sent may have been applied (list to check before retrying)"
        } else {
            "interrupted"
        };
        Self {
            kind: Kind::Interrupted,
            message: message.into(),
            envelope: json!({"errors": [{"type": "interrupted", "message": message}]}),
        }
    }

    /// The reader of stdout went away: stop, report nothing, exit 0.
    pub fn output_closed() -> Self {
        Self {
            kind: Kind::OutputClosed,
            message: "output closed".into(),
            envelope: Value::Null,
        }
    }

    /// `plan --detailed-exitcode` found changes: exit 2, nothing reported.
    pub fn changes_pending() -> Self {
        Self {
            kind: Kind::ChangesPending,
            message: "changes pending".into(),
            envelope: Value::Null,
        }
    }

    /// The process exit code.
    pub fn exit_code(&self) -> ExitCode {
        ExitCode::from(self.kind.code())
    }

    /// The process exit code under `plan --detailed-exitcode` ([`Kind::detailed_code`]).
    pub fn detailed_exit_code(&self) -> ExitCode {
        ExitCode::from(self.kind.detailed_code())
    }

    /// Writes the failure to `err`: the envelope as JSON under `json`/`ndjson` output (compact
    /// for ndjson), otherwise `error: message` plus, for a partly applied bulk change, what
    /// was and was not applied.
    pub fn report(&self, format: OutputFormat, err: &mut impl Write) -> io::Result<()> {
        if matches!(self.kind, Kind::OutputClosed | Kind::ChangesPending) {
            return Ok(());
        }
        match format {
            OutputFormat::Json => {
                serde_json::to_writer_pretty(&mut *err, &self.envelope)?;
                writeln!(err)?;
            }
            OutputFormat::Ndjson => {
                serde_json::to_writer(&mut *err, &self.envelope)?;
                writeln!(err)?;
            }
            OutputFormat::Table | OutputFormat::Csv => {
                // The message already names each service error (type, message, field).
                writeln!(err, "error: {}", self.message)?;
                if let Some(list) = self.envelope.get("notApplied").and_then(Value::as_array)
                    && !list.is_empty()
                {
                    let items: Vec<&str> = list.iter().filter_map(Value::as_str).collect();
                    writeln!(err, "  not applied: {}", items.join(", "))?;
                }
                if let Some(list) = self.envelope.get("applied").and_then(Value::as_array)
                    && !list.is_empty()
                {
                    let items: Vec<&str> = list.iter().filter_map(Value::as_str).collect();
                    writeln!(err, "  applied before the failure: {}", items.join(", "))?;
                }
            }
        }
        err.flush()
    }
}

impl From<crate::input::InputError> for Failure {
    fn from(e: crate::input::InputError) -> Self {
        Failure::usage(e.0)
    }
}

/// Output failures: a closed pipe (`segment-iam users list | head`) is not an error worth a
/// message; anything else is reported as exit 1.
pub fn from_io(e: io::Error) -> Option<Failure> {
    if e.kind() == io::ErrorKind::BrokenPipe {
        None
    } else {
        Some(Failure::service(
            format!("cannot write output: {e}"),
            json!({"errors": [{"type": "client", "message": format!("cannot write output: {e}")}]}),
        ))
    }
}

/// Maps a facade error to a failure: input and configuration errors are usage errors (exit 2,
/// nothing sent), everything else is the service's or the network's (exit 1) with the
/// service's envelope when there is one.
pub fn failure(e: segment_iam::Error) -> Failure {
    if let segment_iam::Error::Refused(r) = &e {
        return refusal(r);
    }
    if e.is_invalid_input() || matches!(e, segment_iam::Error::Config(_)) {
        return Failure::usage(e.to_string());
    }
    if matches!(e, segment_iam::Error::AuditTrailUnavailable(_)) {
        return Failure {
            kind: Kind::Unavailable,
            message: "this workspace has no audit trail (a Business-tier feature of Segment), \
                      so its history of changes cannot be read"
                .into(),
            envelope: envelope(&e),
        };
    }
    Failure::service(e.to_string(), envelope(&e))
}

/// A failed `labels delete`: a label in use (409) or unknown (404) said in words, with the
/// service's own envelope; anything else as [`failure`] maps it. Nothing changed either way.
pub fn label_delete_failure(label: &segment_iam::Label, e: segment_iam::Error) -> Failure {
    let said = e
        .service_error()
        .and_then(|se| se.errors.iter().find_map(|r| r.message.clone()))
        .map(|m| format!(" (the service said: {})", clean(&m)))
        .unwrap_or_default();
    let message = match e.status() {
        Some(409) => format!(
            "label {label} is in use, on a source or a space or narrowing a permission, so it \
             cannot be deleted; take it off those first{said}; nothing changed"
        ),
        Some(404) => format!("the workspace has no label {label}{said}; nothing changed"),
        _ => return failure(e),
    };
    Failure::service(message, envelope(&e))
}

/// The JSON envelope of an error: `{"status", "errors"}` from the service, or one synthetic
/// error naming the failure; a partial bulk change adds `applied` and `notApplied`.
pub fn envelope(e: &segment_iam::Error) -> Value {
    if let segment_iam::Error::Partial {
        applied,
        not_applied,
        source,
    } = e
    {
        let mut env = envelope(source);
        if let Some(obj) = env.as_object_mut() {
            obj.insert("applied".into(), json!(applied));
            obj.insert("notApplied".into(), json!(not_applied));
        }
        return env;
    }
    let message = e.to_string();
    match e.service_error() {
        Some(se) if !se.errors.is_empty() => serde_json::to_value(se)
            .unwrap_or_else(|_| json!({"errors": [{"type": "error", "message": message}]})),
        Some(se) => json!({"status": se.status, "errors": [{"type": "error", "message": message}]}),
        None => {
            let mut env = json!({"errors": [{"type": kind_name(e), "message": message}]});
            if let (Some(status), Some(obj)) = (e.status(), env.as_object_mut()) {
                obj.insert("status".into(), json!(status));
            }
            env
        }
    }
}

/// A short type for errors that carry no service envelope.
fn kind_name(e: &segment_iam::Error) -> &'static str {
    use segment_iam::Error as E;
    match e {
        E::Transport { .. } => "transport",
        E::Decode { .. } => "decode",
        E::RateLimited { .. } => "rate-limited",
        E::Server { .. } => "server",
        _ => "client",
    }
}

/// A failed write to stdout: a closed pipe ends the command quietly, anything else is exit 1.
pub(crate) fn output_failure(e: io::Error) -> Failure {
    from_io(e).unwrap_or_else(Failure::output_closed)
}

/// A file the operator named could not be written (exit 1).
pub(crate) fn write_failure(path: &Path, e: io::Error) -> Failure {
    let message = format!("cannot write {}: {e}", path.display());
    Failure::service(
        message.clone(),
        json!({"errors": [{"type": "client", "message": message}]}),
    )
}

/// A refusal before anything was sent (exit 2), with its own error type for scripts.
pub(crate) fn refused(kind: &str, message: String) -> Failure {
    Failure {
        kind: Kind::Usage,
        envelope: json!({"errors": [{"type": kind, "message": message}]}),
        message,
    }
}

/// The flag that overrides a guard's refusal, as the operator would type it.
pub fn override_flag(refusal: &Refusal) -> &'static str {
    match refusal {
        Refusal::RemovalCap { .. } => "--max-removals N or --no-removal-cap",
        Refusal::LastOwner { .. } => "--allow-owner-removal",
        _ => "no flag (this tool does not know the guard)",
    }
}

/// A guard's refusal (exit 2), reported in one place for every command: what the guard saw,
/// the flag that overrides it, and that nothing was sent. The envelope's type names the guard
/// for scripts (`removal-cap`, `last-owner`).
pub fn refusal(r: &Refusal) -> Failure {
    let kind = match r {
        Refusal::RemovalCap { .. } => "removal-cap",
        Refusal::LastOwner { .. } => "last-owner",
        _ => "refused",
    };
    let why = match r {
        Refusal::LastOwner { .. } => "this would remove the last holder: ",
        _ => "",
    };
    refused(
        kind,
        format!(
            "refused: {why}{}; pass {} if that is intended; nothing was sent",
            clean(&r.to_string()),
            override_flag(r)
        ),
    )
}

/// A refusal of access as code: no flag overrides the last-owner rule there, the file is what
/// changes; the removal cap is reported as everywhere else.
fn file_refusal(r: &Refusal) -> Failure {
    match r {
        Refusal::LastOwner { .. } => refused(
            "last-owner",
            format!(
                "refused: {}; keep at least one owner in the file; nothing was sent",
                clean(&r.to_string())
            ),
        ),
        _ => refusal(r),
    }
}

/// Maps the library's errors: file errors (with `FILE:LINE:COLUMN`), guards, stale and
/// unreadable plans, and a live workspace it cannot manage are refusals before anything was
/// sent (exit 2); reads that failed are the service's (exit 1).
pub fn sync_failure(e: segment_iam_sync::Error, file: Option<&Path>) -> Failure {
    use segment_iam_sync::Error as E;
    match e {
        E::File {
            line,
            column,
            message,
        } => {
            let name = file.map(|p| p.display().to_string());
            let at = match (name.as_deref(), line, column) {
                (Some(name), 0, _) => format!("{name}: "),
                (Some(name), line, 0) => format!("{name}:{line}: "),
                (Some(name), line, column) => format!("{name}:{line}:{column}: "),
                (None, 0, _) => String::new(),
                (None, line, 0) => format!("line {line}: "),
                (None, line, column) => format!("line {line}, column {column}: "),
            };
            let text = format!("{at}{}", clean(&message));
            let mut error = json!({"type": "file", "message": text});
            if let Some(obj) = error.as_object_mut() {
                if let Some(name) = name {
                    obj.insert("file".into(), json!(name));
                }
                if line > 0 {
                    obj.insert("line".into(), json!(line));
                }
                if column > 0 {
                    obj.insert("column".into(), json!(column));
                }
            }
            Failure {
                kind: Kind::Usage,
                message: text,
                envelope: json!({"errors": [error]}),
            }
        }
        E::Refused(r) => file_refusal(&r),
        E::Guard { .. } => refused("refused", clean(&e.to_string())),
        E::StalePlan { .. } => refused("stale-plan", e.to_string()),
        E::PlanFormat(_) => {
            let name = file
                .map(|p| format!(" {}", p.display()))
                .unwrap_or_default();
            refused(
                "plan-format",
                format!(
                    "cannot read the saved plan{name}: {}",
                    clean(&e.to_string())
                ),
            )
        }
        E::Live(_) => refused("live", clean(&e.to_string())),
        E::Api(e) => failure(e),
        E::Apply { source, .. } => failure(source),
        other => {
            let message = clean(&other.to_string());
            Failure::service(
                message.clone(),
                json!({"errors": [{"type": "client", "message": message}]}),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes() {
        use segment_iam::{Error, Outcome, ServiceError, types::RequestError};
        let transport = Error::Transport {
            message: "connection refused".into(),
            attempts: 3,
            waited: std::time::Duration::from_secs(1),
            outcome: Outcome::NotApplied,
            source: None,
        };
        let env = envelope(&transport);
        assert_eq!(env["errors"][0]["type"], "transport");
        assert!(env.get("status").is_none());
        assert_eq!(failure(transport).kind, crate::exit::Kind::Service);
        // A guard's refusal is exit 2 (nothing was sent), reported as the CLI's own refusals.
        let refused = Error::Refused(segment_iam::guard::Refusal::LastOwner {
            owners: vec!["ana@example.com".into()],
        });
        let refused = failure(refused);
        assert_eq!(refused.kind, crate::exit::Kind::Usage);
        assert_eq!(refused.envelope["errors"][0]["type"], "last-owner");

        let not_found = Error::NotFound(ServiceError::new(
            404,
            vec![RequestError {
                type_: "not-found".into(),
                message: Some("no such user".into()),
                field: None,
                data: None,
                status: None,
            }],
        ));
        let partial = Error::Partial {
            applied: vec!["a".into()],
            not_applied: vec!["b".into(), "c".into()],
            source: Box::new(not_found),
        };
        let env = envelope(&partial);
        assert_eq!(env["status"], 404);
        assert_eq!(env["errors"][0]["type"], "not-found");
        assert_eq!(env["applied"], json!(["a"]));
        assert_eq!(env["notApplied"], json!(["b", "c"]));
    }

    #[test]
    fn a_label_in_use_is_said_in_words() {
        use segment_iam::{Error, ServiceError, types::RequestError};
        let label: segment_iam::Label = "environment:prod".parse().expect("label");
        let answer = |status: u16, message: &str| {
            ServiceError::new(
                status,
                vec![RequestError {
                    type_: "conflict".into(),
                    message: Some(message.into()),
                    field: None,
                    data: None,
                    status: None,
                }],
            )
        };
        let f = label_delete_failure(
            &label,
            Error::Conflict(answer(409, "Label environment:prod is in use")),
        );
        assert_eq!(f.kind, Kind::Service);
        for part in [
            "label environment:prod is in use",
            "cannot be deleted",
            "Label environment:prod is in use",
            "nothing changed",
        ] {
            assert!(f.message.contains(part), "{part}: {}", f.message);
        }
        assert_eq!(f.envelope["status"], 409);
        let f = label_delete_failure(&label, Error::NotFound(answer(404, "no such label")));
        assert!(
            f.message
                .starts_with("the workspace has no label environment:prod")
        );
        let other = label_delete_failure(&label, Error::Config("x".into()));
        assert_eq!(other.kind, Kind::Usage);
    }

    #[test]
    fn invalid_input_and_config_are_usage() {
        use crate::exit::Kind;
        let e = segment_iam::Error::InvalidInput {
            field: "emails".into(),
            reason: "empty".into(),
        };
        assert_eq!(failure(e).kind, Kind::Usage);
        assert_eq!(
            failure(segment_iam::Error::Config("no token".into())).kind,
            Kind::Usage
        );
    }

    #[test]
    fn file_errors_name_the_file_line_and_column() {
        let path = std::path::PathBuf::from("access.yaml");
        let f = sync_failure(
            segment_iam_sync::Error::File {
                line: 12,
                column: 5,
                message: "unknown role \"Nope\"".into(),
            },
            Some(&path),
        );
        assert_eq!(f.kind, Kind::Usage);
        assert_eq!(f.message, "access.yaml:12:5: unknown role \"Nope\"");
        assert_eq!(f.envelope["errors"][0]["line"], 12);
        assert_eq!(f.envelope["errors"][0]["file"], "access.yaml");
        let f = sync_failure(
            segment_iam_sync::Error::File {
                line: 0,
                column: 0,
                message: "too big".into(),
            },
            Some(&path),
        );
        assert_eq!(f.message, "access.yaml: too big");
    }

    #[test]
    fn refusals_are_exit_2_and_reads_exit_1() {
        let guard = sync_failure(
            segment_iam_sync::Error::Guard {
                reason: "last owner".into(),
            },
            None,
        );
        assert_eq!(
            (guard.kind, guard.message.as_str()),
            (Kind::Usage, "refused: last owner")
        );
        let stale = sync_failure(
            segment_iam_sync::Error::StalePlan {
                planned: "a".into(),
                live: "b".into(),
            },
            None,
        );
        assert_eq!(stale.kind, Kind::Usage);
        assert!(stale.message.contains("stale"));
        let api = sync_failure(
            segment_iam_sync::Error::Api(segment_iam::Error::Transport {
                message: "connection refused".into(),
                attempts: 3,
                waited: std::time::Duration::from_secs(1),
                outcome: segment_iam::Outcome::NotApplied,
                source: None,
            }),
            None,
        );
        assert_eq!(api.kind, Kind::Service);
    }

    #[test]
    fn refusals_name_the_flag_that_overrides_them() {
        let cap = refusal(&Refusal::RemovalCap {
            removals: 8,
            cap: 3,
        });
        assert_eq!(cap.kind, Kind::Usage);
        assert_eq!(cap.envelope["errors"][0]["type"], "removal-cap");
        for part in [
            "over the cap of 3",
            "--max-removals N",
            "--no-removal-cap",
            "nothing was sent",
        ] {
            assert!(cap.message.contains(part), "{part}: {}", cap.message);
        }
        let owner = refusal(&Refusal::LastOwner {
            owners: vec!["ana@example.com".into()],
        });
        assert_eq!(owner.kind, Kind::Usage);
        assert_eq!(owner.envelope["errors"][0]["type"], "last-owner");
        for part in [
            "last holder",
            "Workspace Owner",
            "ana@example.com",
            "--allow-owner-removal",
            "nothing was sent",
        ] {
            assert!(owner.message.contains(part), "{part}: {}", owner.message);
        }
        let from_file = sync_failure(
            segment_iam_sync::Error::Refused(Refusal::LastOwner {
                owners: vec!["ana@example.com".into()],
            }),
            None,
        );
        assert_eq!(from_file.kind, Kind::Usage);
        assert_eq!(from_file.envelope["errors"][0]["type"], "last-owner");
        assert!(
            from_file
                .message
                .contains("keep at least one owner in the file")
        );
        assert!(!from_file.message.contains("--allow-owner-removal"));
    }

    #[test]
    fn codes() {
        assert_eq!(Kind::Service.code(), 1);
        assert_eq!(Kind::Usage.code(), 2);
        assert_eq!(Kind::Interrupted.code(), 130);
        assert_eq!(Kind::ChangesPending.code(), 2);
    }

    #[test]
    fn detailed_codes_keep_2_for_changes_pending() {
        assert_eq!(Kind::Usage.detailed_code(), 1);
        assert_eq!(Kind::Service.detailed_code(), 1);
        assert_eq!(Kind::ChangesPending.detailed_code(), 2);
        assert_eq!(Kind::Interrupted.detailed_code(), 130);
        for kind in [
            Kind::Usage,
            Kind::Service,
            Kind::Interrupted,
            Kind::OutputClosed,
        ] {
            assert_ne!(kind.detailed_code(), 2, "{kind:?}");
        }
        let mut buf = Vec::new();
        Failure::changes_pending()
            .report(OutputFormat::Json, &mut buf)
            .ok();
        assert!(buf.is_empty(), "changes pending is not an error to report");
    }

    #[test]
    fn json_report_is_the_envelope() -> Result<(), Box<dyn std::error::Error>> {
        let env =
            json!({"status": 404, "errors": [{"type": "not-found", "message": "no such user"}]});
        let f = Failure::service("not found", env.clone());
        let mut buf = Vec::new();
        f.report(OutputFormat::Json, &mut buf)?;
        let got: Value = serde_json::from_slice(&buf)?;
        assert_eq!(got, env);
        let mut buf = Vec::new();
        f.report(OutputFormat::Ndjson, &mut buf)?;
        assert_eq!(String::from_utf8(buf)?.lines().count(), 1);
        Ok(())
    }

    #[test]
    fn table_report_lists_partial_progress() -> Result<(), Box<dyn std::error::Error>> {
        let env = json!({"status": 422, "errors": [{"type": "input-validation", "message": "bad", "field": "id"}],
                         "applied": ["a"], "notApplied": ["b"]});
        let mut buf = Vec::new();
        Failure::service("validation failed", env).report(OutputFormat::Table, &mut buf)?;
        let out = String::from_utf8(buf)?;
        assert!(out.starts_with("error: validation failed\n"));
        assert!(out.contains("not applied: b"));
        assert!(out.contains("applied before the failure: a"));
        Ok(())
    }

    #[test]
    fn usage_table_report_is_one_line() -> Result<(), Box<dyn std::error::Error>> {
        let mut buf = Vec::new();
        Failure::usage("no ids given").report(OutputFormat::Table, &mut buf)?;
        assert_eq!(String::from_utf8(buf)?, "error: no ids given\n");
        Ok(())
    }

    #[test]
    fn broken_pipe_is_silent() {
        assert!(from_io(io::Error::from(io::ErrorKind::BrokenPipe)).is_none());
        assert!(from_io(io::Error::other("disk full")).is_some());
    }
}
