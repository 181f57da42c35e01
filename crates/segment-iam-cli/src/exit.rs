//! Failures and their exit codes: 0 success, 1 the service refused or failed, 2 usage or
//! invalid input (nothing was sent), 130 interrupted. Under `plan --detailed-exitcode`, 2 means
//! "changes pending" and every error is 1 ([`Kind::detailed_code`]).
//!
//! A failure carries the error envelope to print on stderr: the service's own
//! `{"status":..,"errors":[..]}` when there is one, otherwise one synthetic error of the same
//! shape, so scripts parse one format under `--output json`.

use std::io::{self, Write};
use std::process::ExitCode;

use serde_json::{Value, json};

use crate::cli::OutputFormat;

/// Which exit code a failure maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// The service refused or failed, or could not be reached: exit 1.
    Service,
    /// Usage or invalid input, nothing sent: exit 2.
    Usage,
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
            Kind::Service | Kind::Usage => 1,
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

#[cfg(test)]
mod tests {
    use super::*;

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
