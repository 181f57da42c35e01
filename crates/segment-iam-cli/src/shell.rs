//! What every command shares, written once and importing no command: the context (client,
//! output format, progress), printing results, reading the operator's lists, and the one
//! confirm path every command that changes a workspace goes through.

use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::pin::pin;

use futures::StreamExt;
use segment_iam::{Client, Paginator};
use serde_json::json;

use crate::cli::{Emails, Ids, OutputFormat};
use crate::exit::{Failure, failure, output_failure};
use crate::input;
use crate::output::{Applied, ListWriter, Tabular, write_applied, write_one};
use crate::progress::{Progress, Stats};

/// Everything a command needs: the client, the output format, whether to draw progress.
pub(crate) struct Ctx {
    pub(crate) client: Client,
    pub(crate) format: OutputFormat,
    pub(crate) progress: bool,
}

impl Ctx {
    /// A progress line fed by the client's counters.
    pub(crate) fn progress(&self, label: impl Into<String>) -> Progress {
        self.job_progress(label, None)
    }

    /// A progress line fed by the client's counters and, when given, a job's done/total.
    pub(crate) fn job_progress(
        &self,
        label: impl Into<String>,
        job: Option<segment_iam::jobs::Progress>,
    ) -> Progress {
        let client = self.client.clone();
        Progress::start(self.progress, label, move || {
            let m = client.metrics();
            Stats {
                requests: m.requests,
                waiting_for: m.waiting_for,
                job: job.as_ref().map(|j| (j.done(), j.total())),
            }
        })
    }

    /// Buffered stdout: one write per page or value instead of one per line.
    pub(crate) fn stdout(&self) -> BufWriter<io::Stdout> {
        BufWriter::new(io::stdout())
    }

    /// Streams a paginated list to stdout in the chosen format.
    pub(crate) async fn list<T: Tabular + Send + 'static>(
        &self,
        label: &str,
        pager: Paginator<T>,
    ) -> Result<(), Failure> {
        let progress = self.progress(label);
        let mut writer = ListWriter::new(self.format, self.stdout());
        let mut pages = pin!(pager.pages());
        while let Some(page) = pages.next().await {
            let page = page.map_err(failure)?;
            progress.add_items(page.items.len(), page.total_entries);
            writer.push(page.items).map_err(output_failure)?;
        }
        drop(progress);
        writer.finish().map_err(output_failure)
    }

    /// Prints one resource (get, create, rename, member changes).
    pub(crate) fn one<T: Tabular>(&self, value: &T) -> Result<(), Failure> {
        write_one(&mut self.stdout(), self.format, value).map_err(output_failure)
    }

    /// Prints a list the service returned in one answer (created invites, permissions).
    pub(crate) fn many<T: Tabular>(&self, values: Vec<T>) -> Result<(), Failure> {
        let mut w = ListWriter::new(self.format, self.stdout());
        w.push(values).map_err(output_failure)?;
        w.finish().map_err(output_failure)
    }

    /// Prints a lookup: what was found (as a list), and the emails nothing matched — on stderr
    /// for people, or as `{"found": [...], "missing": [...]}` for programs.
    pub(crate) fn found<T: Tabular>(
        &self,
        found: Vec<T>,
        missing: Vec<String>,
    ) -> Result<(), Failure> {
        match self.format {
            OutputFormat::Json | OutputFormat::Ndjson => {
                print_json(self, &json!({"found": found, "missing": missing}))
            }
            OutputFormat::Table | OutputFormat::Csv => {
                self.many(found)?;
                if !missing.is_empty() {
                    eprintln!("no match: {}", missing.join(", "));
                }
                Ok(())
            }
        }
    }

    /// Prints what a delete or removal applied.
    pub(crate) fn applied(
        &self,
        action: &'static str,
        noun: &'static str,
        applied: Vec<String>,
        requests: usize,
    ) -> Result<(), Failure> {
        let a = Applied {
            action,
            noun,
            applied,
            requests,
            // One command per process: the client's total is this command's.
            waited_ms: self.client.metrics().waited.as_millis(),
        };
        write_applied(&mut self.stdout(), self.format, &a).map_err(output_failure)
    }
}

/// Reads a list (arguments + `--from-file`) off the async threads: stdin may block for as long
/// as the operator types, and Ctrl-C must still be able to end the command.
async fn gather(
    values: &[String],
    from_file: Option<&Path>,
    what: &'static str,
) -> Result<Vec<String>, Failure> {
    let values = values.to_vec();
    let from_file: Option<PathBuf> = from_file.map(Path::to_path_buf);
    tokio::task::spawn_blocking(move || {
        input::gather(&values, from_file.as_deref(), io::stdin().lock(), what)
    })
    .await
    .map_err(|e| Failure::usage(format!("cannot read the input list: {e}")))?
    .map_err(Failure::from)
}

/// The ids of an [`Ids`] argument group.
pub(crate) async fn ids(i: &Ids) -> Result<Vec<String>, Failure> {
    gather(&i.values, i.from_file.as_deref(), "ids").await
}

/// The emails of an [`Emails`] argument group.
pub(crate) async fn emails(e: &Emails) -> Result<Vec<String>, Failure> {
    gather(&e.values, e.from_file.as_deref(), "emails").await
}

/// Asks on the terminal, off the async threads (Ctrl-C still ends the command).
pub(crate) async fn confirm() -> Result<bool, Failure> {
    tokio::task::spawn_blocking(|| {
        eprint!("Proceed? [y/N] ");
        let _ = io::stderr().flush();
        let mut answer = String::new();
        io::stdin()
            .read_line(&mut answer)
            .map(|_| matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes"))
    })
    .await
    .map_err(|e| Failure::usage(format!("cannot read the answer: {e}")))?
    .map_err(|e| Failure::usage(format!("cannot read the answer: {e}")))
}

/// One JSON document on stdout (pretty for `json`, one line for `ndjson`).
pub(crate) fn print_json(ctx: &Ctx, value: &serde_json::Value) -> Result<(), Failure> {
    let mut out = ctx.stdout();
    let written = if ctx.format == OutputFormat::Json {
        serde_json::to_writer_pretty(&mut out, value)
    } else {
        serde_json::to_writer(&mut out, value)
    };
    written.map_err(|e| output_failure(e.into()))?;
    writeln!(out)
        .and_then(|()| out.flush())
        .map_err(output_failure)
}

/// Text on stdout.
pub(crate) fn print_text(ctx: &Ctx, text: &str) -> Result<(), Failure> {
    let mut out = ctx.stdout();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(output_failure)
}

/// A value as JSON on stdout (pretty for `json`, one line for `ndjson`).
pub(crate) fn print_value(ctx: &Ctx, value: &impl serde::Serialize) -> Result<(), Failure> {
    let value = serde_json::to_value(value).map_err(|e| output_failure(e.into()))?;
    print_json(ctx, &value)
}
