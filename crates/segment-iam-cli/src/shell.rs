//! What every command shares, written once and importing no command: the context (client,
//! output format, progress), printing results, reading the operator's lists, and the one
//! confirm path every command that changes a workspace goes through.

use std::io::{self, BufWriter, IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::pin::pin;

use futures::{Stream, StreamExt};
use segment_iam::guard::Refusal;
use segment_iam::{Client, Paginator};
use serde_json::{Value, json};

use crate::cli::{ConfirmArgs, Emails, Ids, OutputFormat};
use crate::exit::{Failure, failure, output_failure, override_flag, refusal};
use crate::input;
use crate::output::{Applied, ListWriter, Tabular, clean, plural, write_applied, write_one};
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

    /// The id of the group `given` names (its id, or its name compared case-insensitively),
    /// resolved once before anything is sent (one read of the group list); an unknown or
    /// ambiguous name fails with the candidates (exit 2). When `given` is a group's id and
    /// another group's name, the id wins and stderr says so.
    pub(crate) async fn group_id(&self, given: &str) -> Result<String, Failure> {
        let resolved = self.client.groups().resolve(given).await.map_err(failure)?;
        if let Some(note) = resolved.note() {
            eprintln!("note: {}", clean(&note));
        }
        Ok(resolved.group.id)
    }

    /// Whether stdout carries JSON (`json` or `ndjson`) rather than text for people.
    pub(crate) fn json_out(&self) -> bool {
        matches!(self.format, OutputFormat::Json | OutputFormat::Ndjson)
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

    /// Streams items that arrive one by one (a paginated list the facade maps to its own
    /// type) to stdout in the chosen format; items already arrived are written together, so
    /// `ndjson` still writes a page at a time.
    pub(crate) async fn stream<T: Tabular + Send + 'static>(
        &self,
        label: &str,
        items: impl Stream<Item = segment_iam::Result<T>>,
    ) -> Result<(), Failure> {
        /// The most items written at once.
        const CHUNK: usize = 1000;
        let progress = self.progress(label);
        let mut writer = ListWriter::new(self.format, self.stdout());
        let mut chunks = pin!(items.ready_chunks(CHUNK));
        while let Some(chunk) = chunks.next().await {
            let mut ready = Vec::with_capacity(chunk.len());
            let mut failed = None;
            for item in chunk {
                match item {
                    Ok(item) => ready.push(item),
                    Err(e) => {
                        failed = Some(e);
                        break;
                    }
                }
            }
            progress.add_items(ready.len(), None);
            writer.push(ready).map_err(output_failure)?;
            if let Some(e) = failed {
                return Err(failure(e));
            }
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
        requests: u64,
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

/// How many items a preview lists before it says how many more there are (all of them are in
/// the `--dry-run -o json` plan).
const PREVIEW_ITEMS: usize = 20;

/// What a changing command will send, shown before anything is sent.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Preview {
    /// For people, on stderr: one line per thing, then a `plan: ...` line.
    pub(crate) text: String,
    /// For programs: what `--dry-run -o json` prints as `{"plan": ..., "dryRun": true}`.
    pub(crate) plan: Value,
}

/// One kind of change to a list of things (users, emails, a group, permissions), the preview
/// of the simple commands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Change {
    /// What is done, e.g. `delete`, `remove`.
    pub(crate) verb: &'static str,
    /// To what, singular (`user`, `member`); the plural adds an `s`.
    pub(crate) noun: &'static str,
    /// Where, when it matters (`from group g1`); empty otherwise.
    pub(crate) target: String,
    /// The ids, emails or names it applies to, as they will be sent.
    pub(crate) items: Vec<String>,
    /// Requests it sends, when known before sending.
    pub(crate) requests: Option<u64>,
}

impl Change {
    /// The preview: each item (the first [`PREVIEW_ITEMS`]), then the totals.
    pub(crate) fn preview(&self) -> Preview {
        let target = if self.target.is_empty() {
            String::new()
        } else {
            format!(" {}", clean(&self.target))
        };
        let mut text = String::new();
        for item in self.items.iter().take(PREVIEW_ITEMS) {
            text.push_str(&format!(
                "  {} {} {}{target}\n",
                self.verb,
                self.noun,
                clean(item)
            ));
        }
        if self.items.len() > PREVIEW_ITEMS {
            text.push_str(&format!(
                "  ... and {} more (--dry-run -o json lists them all)\n",
                self.items.len() - PREVIEW_ITEMS
            ));
        }
        let n = self.items.len();
        text.push_str(&format!(
            "plan: {n} {}{} to {}{target}",
            self.noun,
            plural(n),
            self.verb
        ));
        if let Some(requests) = self.requests {
            text.push_str(&format!(
                ", {requests} request{} to send",
                plural(requests as usize)
            ));
        }
        text.push('\n');
        let mut plan = json!({"verb": self.verb, "noun": self.noun, "items": self.items});
        if let Some(obj) = plan.as_object_mut() {
            if !self.target.is_empty() {
                obj.insert("target".into(), json!(self.target));
            }
            if let Some(requests) = self.requests {
                obj.insert("requests".into(), json!(requests));
            }
        }
        Preview { text, plan }
    }
}

/// What the confirm rules decide for a change once it has been shown.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Decision {
    /// `--dry-run`: send nothing, exit 0 (a guard that would refuse is mentioned).
    DryRun(Option<Refusal>),
    /// A guard refused: send nothing, exit 2 naming the flag that overrides it.
    Refused(Refusal),
    /// `--yes`: send without asking.
    Proceed,
    /// Standard input is a terminal: ask (y/N).
    Ask,
    /// No `--yes` and no terminal to ask on: send nothing, exit 2.
    NeedsYes,
}

/// The confirm rules, in their order: `--dry-run` stops, a guard's refusal stops, `--yes`
/// proceeds, a terminal is asked, anything else is refused.
pub(crate) fn decide(
    args: ConfirmArgs,
    refusal: Option<Refusal>,
    stdin_is_terminal: bool,
) -> Decision {
    match refusal {
        _ if args.dry_run => Decision::DryRun(refusal),
        Some(r) => Decision::Refused(r),
        None if args.yes => Decision::Proceed,
        None if stdin_is_terminal => Decision::Ask,
        None => Decision::NeedsYes,
    }
}

/// The one confirm path of every command that changes a workspace: shows `preview`, decides
/// by [`decide`], and carries the decision out. `Ok(true)`: send; `Ok(false)`: stop, nothing
/// sent, exit 0 (a dry run or a "no"); a refusal is the error.
pub(crate) async fn confirm_change(
    ctx: &Ctx,
    command: &str,
    args: ConfirmArgs,
    preview: &Preview,
    refusal: Option<Refusal>,
) -> Result<bool, Failure> {
    show(ctx, preview);
    settle(
        ctx,
        command,
        decide(args, refusal, io::stdin().is_terminal()),
        preview,
    )
    .await
}

/// Shows the preview on stderr, unless stdout carries JSON (then it is shown only before
/// asking, see [`settle`]).
pub(crate) fn show(ctx: &Ctx, preview: &Preview) {
    if !ctx.json_out() {
        eprint!("{}", preview.text);
    }
}

/// Carries a [`Decision`] out for a change already [`show`]n; a command with work between
/// deciding and asking (a saved plan's freshness check) calls [`decide`] and this itself.
pub(crate) async fn settle(
    ctx: &Ctx,
    command: &str,
    decision: Decision,
    preview: &Preview,
) -> Result<bool, Failure> {
    match decision {
        Decision::DryRun(refusal) => {
            if ctx.json_out() {
                let mut out = json!({"plan": preview.plan, "dryRun": true});
                if let (Some(r), Some(obj)) = (&refusal, out.as_object_mut()) {
                    obj.insert("refused".into(), json!(self::refusal(r).message));
                }
                print_json(ctx, &out)?;
            } else {
                if let Some(r) = &refusal {
                    eprintln!(
                        "warning: without --dry-run this is refused: {}; {} overrides it",
                        clean(&r.to_string()),
                        override_flag(r)
                    );
                }
                eprintln!("dry run: nothing was sent");
            }
            Ok(false)
        }
        Decision::Refused(r) => Err(refusal(&r)),
        Decision::Proceed => Ok(true),
        Decision::NeedsYes => Err(Failure::usage(format!(
            "{command} changes the workspace: pass --yes to run it without a terminal (or --dry-run to preview it); nothing was sent"
        ))),
        Decision::Ask => {
            if ctx.json_out() {
                // Whoever answers must see what they agree to, whatever stdout's format.
                eprint!("{}", preview.text);
            }
            if ask().await? {
                Ok(true)
            } else {
                eprintln!("cancelled: nothing was sent");
                Ok(false)
            }
        }
    }
}

/// Asks on the terminal, off the async threads (Ctrl-C still ends the command).
async fn ask() -> Result<bool, Failure> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn args(yes: bool, dry_run: bool) -> ConfirmArgs {
        ConfirmArgs { yes, dry_run }
    }

    #[test]
    fn the_confirm_rules_in_their_order() {
        let cap = Refusal::RemovalCap {
            removals: 9,
            cap: 3,
        };
        for terminal in [false, true] {
            for yes in [false, true] {
                // A dry run always stops first, mentioning a guard that would refuse.
                assert_eq!(
                    decide(args(yes, true), None, terminal),
                    Decision::DryRun(None)
                );
                assert_eq!(
                    decide(args(yes, true), Some(cap.clone()), terminal),
                    Decision::DryRun(Some(cap.clone()))
                );
                // A guard refuses whatever else was said.
                assert_eq!(
                    decide(args(yes, false), Some(cap.clone()), terminal),
                    Decision::Refused(cap.clone())
                );
            }
            assert_eq!(decide(args(true, false), None, terminal), Decision::Proceed);
        }
        assert_eq!(decide(args(false, false), None, true), Decision::Ask);
        assert_eq!(decide(args(false, false), None, false), Decision::NeedsYes);
    }

    #[test]
    fn a_preview_lists_items_then_totals() {
        let change = Change {
            verb: "remove",
            noun: "member",
            target: "from group g1".into(),
            items: vec!["a@x.com".into(), "b\x1b@x.com".into()],
            requests: Some(1),
        };
        let preview = change.preview();
        assert_eq!(
            preview.text,
            "  remove member a@x.com from group g1\n  remove member b\\u{1b}@x.com from group g1\nplan: 2 members to remove from group g1, 1 request to send\n"
        );
        assert_eq!(preview.plan["items"][1], "b\x1b@x.com");
        assert_eq!(preview.plan["requests"], 1);
        assert_eq!(preview.plan["target"], "from group g1");
    }

    #[test]
    fn a_long_preview_says_how_many_more() {
        let change = Change {
            verb: "delete",
            noun: "user",
            target: String::new(),
            items: (0..PREVIEW_ITEMS + 5).map(|i| format!("u{i}")).collect(),
            requests: None,
        };
        let preview = change.preview();
        assert_eq!(preview.text.lines().count(), PREVIEW_ITEMS + 2);
        assert!(preview.text.contains("... and 5 more"), "{}", preview.text);
        assert!(
            preview
                .text
                .ends_with(&format!("plan: {} users to delete\n", PREVIEW_ITEMS + 5)),
            "{}",
            preview.text
        );
        assert_eq!(
            preview.plan["items"].as_array().map(Vec::len),
            Some(PREVIEW_ITEMS + 5)
        );
        assert!(preview.plan.get("target").is_none() && preview.plan.get("requests").is_none());
    }
}
