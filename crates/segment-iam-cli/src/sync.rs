//! Access as code: `schema`, `export`, `plan` and `apply`, thin shells over
//! `segment_iam_sync`. The library parses the file, reads the workspace, plans, guards and
//! applies; this file reads and writes the operator's files, shows the plan and the progress,
//! asks before changing anything, and maps the library's errors to exit codes.
//!
//! Where things go: `plan` prints the diff on stdout (it is the command's result); `apply`
//! prints the plan on stderr and its summary on stdout, like `offboard`. Under `-o json`,
//! `plan` prints the plan as saved by `--out`, `apply` the `ApplyReport`.

use std::io::{self, IsTerminal, Write};
use std::path::Path;

use segment_iam::guard::{Refusal, RemovalCap};
use segment_iam::jobs::JobOptions;
use segment_iam::jobs::read::ReadOptions;
use segment_iam_sync::{AccessFile, ApplyOptions, ApplyReport, Live, Plan};
use serde_json::{Value, json};

use crate::cli::{ApplyArgs, ExportArgs, OutputFormat, PlanArgs};
use crate::commands::{Ctx, failure, output_failure};
use crate::exit::{Failure, Kind};
use crate::jobs::confirm;
use crate::output::{clean, plural};

/// `schema`: the access file's JSON Schema, pretty, on stdout. Needs no token.
pub fn schema() -> Result<(), Failure> {
    let schema = serde_json::to_string_pretty(&segment_iam_sync::schema()).map_err(|e| {
        Failure::service(
            format!("cannot write the schema: {e}"),
            json!({"errors": [{"type": "client", "message": format!("cannot write the schema: {e}")}]}),
        )
    })?;
    let mut out = io::stdout().lock();
    writeln!(out, "{schema}")
        .and_then(|()| out.flush())
        .map_err(output_failure)
}

/// `export`: the live workspace as an access file, on stdout or in `--file`.
pub(crate) async fn export(ctx: &Ctx, args: &ExportArgs) -> Result<(), Failure> {
    let live = read_live(ctx).await?;
    let file = segment_iam_sync::export::export_from(&live).map_err(|e| sync_failure(e, None))?;
    let yaml = file.to_yaml().map_err(|e| sync_failure(e, None))?;
    match &args.file {
        Some(path) => {
            std::fs::write(path, &yaml).map_err(|e| write_failure(path, e))?;
            eprintln!(
                "wrote {} ({} {}, {} group{})",
                path.display(),
                file.users.0.len(),
                if file.users.0.len() == 1 {
                    "person"
                } else {
                    "people"
                },
                file.groups.0.len(),
                plural(file.groups.0.len())
            );
            Ok(())
        }
        None => {
            let mut out = ctx.stdout();
            out.write_all(yaml.as_bytes())
                .and_then(|()| out.flush())
                .map_err(output_failure)
        }
    }
}

/// `plan`: parse the file (nothing is read when it is malformed), read the workspace, diff,
/// show; `--out` saves the plan for `apply PLAN.json`.
pub(crate) async fn plan(ctx: &Ctx, args: &PlanArgs) -> Result<(), Failure> {
    let file = read_access_file(&args.file)?;
    let live = read_live(ctx).await?;
    let plan = segment_iam_sync::plan(&file, &live, &ctx.client)
        .map_err(|e| sync_failure(e, Some(&args.file)))?;
    if let Some(out) = &args.out {
        std::fs::write(out, plan.to_json()).map_err(|e| write_failure(out, e))?;
    }
    let shown = match ctx.format {
        OutputFormat::Json => print_text(ctx, &format!("{}\n", plan.to_json())),
        OutputFormat::Ndjson => print_value(ctx, &plan),
        OutputFormat::Table | OutputFormat::Csv => print_text(ctx, &describe(&plan)),
    };
    if let Some(out) = &args.out
        && !matches!(ctx.format, OutputFormat::Json | OutputFormat::Ndjson)
    {
        eprintln!("saved the plan to {}", out.display());
    }
    let pending = args.detailed_exitcode && !plan.is_empty();
    match shown {
        // Whoever read the diff went away: the exit code still says whether changes are
        // pending.
        Err(f) if f.kind == Kind::OutputClosed && pending => Err(Failure::changes_pending()),
        Err(f) => Err(f),
        Ok(()) if pending => Err(Failure::changes_pending()),
        Ok(()) => Ok(()),
    }
}

/// `apply -f FILE` (plan now, then apply) or `apply PLAN.json` (a saved plan, refused if the
/// workspace changed since): show, guard, confirm (or `--yes`), apply, report.
pub(crate) async fn apply(ctx: &Ctx, args: &ApplyArgs) -> Result<(), Failure> {
    let (plan, saved) = match (&args.file, &args.plan) {
        (Some(path), _) => {
            let file = read_access_file(path)?;
            let live = read_live(ctx).await?;
            let plan = segment_iam_sync::plan(&file, &live, &ctx.client)
                .map_err(|e| sync_failure(e, Some(path)))?;
            (plan, false)
        }
        (None, Some(path)) => {
            let text = read_text(path)?;
            let plan = Plan::from_json(&text).map_err(|e| sync_failure(e, Some(path)))?;
            (plan, true)
        }
        (None, None) => {
            return Err(Failure::usage(
                "apply needs an access file (-f FILE) or a saved plan (PLAN.json)",
            ));
        }
    };
    let json_out = matches!(ctx.format, OutputFormat::Json | OutputFormat::Ndjson);
    if !json_out {
        eprint!("{}", describe(&plan));
    }
    if plan.is_empty() {
        if json_out {
            return print_value(ctx, &ApplyReport::default());
        }
        return Ok(());
    }
    let cap = if args.no_removal_cap {
        RemovalCap::off()
    } else {
        RemovalCap::at(args.max_removals)
    };
    if let Err(refusal) = cap.check(plan.removals()) {
        // The library refuses this too (nothing sent); saying it here spares a pointless
        // question and never depends on `apply` to stop.
        return Err(refusal_failure(&refusal));
    }
    if saved && !args.yes && io::stdin().is_terminal() {
        // Checked again by `apply` (the authoritative check, after the answer): this one only
        // spares the operator a question about a plan that would be refused.
        segment_iam_sync::check_fresh(&ctx.client, &plan)
            .await
            .map_err(|e| sync_failure(e, args.plan.as_deref()))?;
    }
    if !args.yes {
        if !io::stdin().is_terminal() {
            return Err(Failure::usage(
                "apply changes the workspace: pass --yes to run it without a terminal (`plan` previews it); nothing was sent",
            ));
        }
        if json_out {
            // Whoever answers must see what they agree to, whatever stdout's format.
            eprint!("{}", describe(&plan));
        }
        if !confirm().await? {
            eprintln!("cancelled: nothing was sent");
            return Ok(());
        }
    }
    let job = segment_iam::jobs::Progress::new();
    let options = ApplyOptions::new()
        .removal_cap(cap)
        .verify_fresh(saved)
        .progress(job.clone());
    let result = {
        let _p = ctx.job_progress(
            format!(
                "applying {} step{}",
                plan.steps.len(),
                plural(plan.steps.len())
            ),
            Some(job),
        );
        segment_iam_sync::apply(&ctx.client, &plan, &options).await
    };
    let report = match result {
        Ok(report) => report,
        Err(segment_iam_sync::Error::Apply { report, source }) => {
            return Err(apply_failure(&plan, &report, &source, args));
        }
        Err(e) => return Err(sync_failure(e, args.plan.as_deref())),
    };
    if json_out {
        return print_value(ctx, &report);
    }
    print_text(ctx, &format!("{}\n", summary(&report)))
}

/// The summary line of a finished apply.
pub fn summary(report: &ApplyReport) -> String {
    let mut line = format!(
        "applied {} of {} step{}: {} mutation{} in {} request{} ({} 429s, waited {:.1} s)",
        report.steps_done,
        report.steps_planned,
        plural_count(report.steps_planned),
        report.mutations_done,
        plural_count(report.mutations_done),
        report.requests,
        plural_count(report.requests),
        report.rate_limited,
        report.waited.as_secs_f64()
    );
    if !report.created_groups.is_empty() {
        let names: Vec<&str> = report.created_groups.keys().map(String::as_str).collect();
        line.push_str(&format!(
            "; created {} group{}: {}",
            names.len(),
            plural(names.len()),
            clean(&names.join(", "))
        ));
    }
    line
}

/// The plan for people (the library's diff), control characters escaped line by line: names
/// and emails come from the file and the service.
pub fn describe(plan: &Plan) -> String {
    plan.to_string()
        .lines()
        .map(|line| format!("{}\n", clean(line)))
        .collect()
}

/// The steps an interrupted apply finished, as diff lines (without the plan's totals).
fn done_steps(plan: &Plan, report: &ApplyReport) -> String {
    if report.done.is_empty() {
        return "  nothing was changed\n".to_string();
    }
    let mut done = plan.clone();
    done.steps = report.done.clone();
    done.notes.clear();
    let text = describe(&done);
    let mut lines: Vec<&str> = text.lines().collect();
    // The last line is the totals of a whole plan, not of what was done.
    lines.pop();
    lines.iter().map(|l| format!("  {l}\n")).collect()
}

/// A failure part way through an apply (exit 1): what was done, and how to finish.
fn apply_failure(
    plan: &Plan,
    report: &ApplyReport,
    source: &segment_iam::Error,
    args: &ApplyArgs,
) -> Failure {
    let again = match &args.file {
        Some(path) => format!("segment-iam apply -f {}", path.display()),
        None => "segment-iam apply -f FILE (with the file this plan was made from)".to_string(),
    };
    let message = format!(
        "apply stopped after {} of {} steps: {source}\ndone before the failure:\n{}re-running `{again}` converges: it plans from the live workspace, so finished steps are not sent again",
        report.steps_done,
        report.steps_planned,
        done_steps(plan, report)
    );
    let mut envelope = crate::commands::envelope(source);
    if let Some(obj) = envelope.as_object_mut() {
        obj.insert(
            "report".into(),
            serde_json::to_value(report).unwrap_or(Value::Null),
        );
    }
    Failure::service(message, envelope)
}

/// What Ctrl-C during `apply` says: some steps may be done, and running it again converges.
pub fn interrupted(args: &ApplyArgs) -> Failure {
    let again = match &args.file {
        Some(path) => format!("`segment-iam apply -f {}`", path.display()),
        None => "`segment-iam apply -f FILE`".to_string(),
    };
    let message = format!(
        "interrupted; some steps may have been applied: re-running {again} converges (`plan` shows what is left)"
    );
    Failure {
        kind: Kind::Interrupted,
        envelope: json!({"errors": [{"type": "interrupted", "message": message}]}),
        message,
    }
}

/// Reads the whole workspace, with the progress line on a terminal.
async fn read_live(ctx: &Ctx) -> Result<Live, Failure> {
    let job = segment_iam::jobs::Progress::new();
    let _p = ctx.job_progress("reading the workspace", Some(job.clone()));
    Live::read(&ctx.client, &ReadOptions::new().progress(job))
        .await
        .map_err(|e| sync_failure(e, None))
}

/// An input file's text (exit 2 when it cannot be read: nothing was sent).
fn read_text(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path)
        .map_err(|e| Failure::usage(format!("cannot read {}: {e}", path.display())))
}

/// The access file at `path`, parsed and checked; errors name the file, line and column.
fn read_access_file(path: &Path) -> Result<AccessFile, Failure> {
    AccessFile::parse(&read_text(path)?).map_err(|e| sync_failure(e, Some(path)))
}

/// A file the operator named could not be written (exit 1).
fn write_failure(path: &Path, e: io::Error) -> Failure {
    let message = format!("cannot write {}: {e}", path.display());
    Failure::service(
        message.clone(),
        json!({"errors": [{"type": "client", "message": message}]}),
    )
}

/// A refusal before anything was sent (exit 2), with its own error type for scripts.
/// A shared guard's refusal, with what the operator can do about it.
fn refusal_failure(refusal: &Refusal) -> Failure {
    match refusal {
        Refusal::RemovalCap { .. } => refused(
            "removal-cap",
            format!(
                "refused: {refusal}; pass --max-removals N or --no-removal-cap if that is intended; nothing was sent"
            ),
        ),
        _ => refused(
            "refused",
            format!("refused: {refusal}; keep at least one owner in the file; nothing was sent"),
        ),
    }
}

/// [`plural`] for a count.
fn plural_count(n: u64) -> &'static str {
    plural(usize::try_from(n).unwrap_or(usize::MAX))
}

fn refused(kind: &str, message: String) -> Failure {
    Failure {
        kind: Kind::Usage,
        envelope: json!({"errors": [{"type": kind, "message": message}]}),
        message,
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
        E::Refused(refusal) => refusal_failure(&refusal),
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

/// Text on stdout.
fn print_text(ctx: &Ctx, text: &str) -> Result<(), Failure> {
    let mut out = ctx.stdout();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(output_failure)
}

/// A value as JSON on stdout (pretty for `json`, one line for `ndjson`).
fn print_value(ctx: &Ctx, value: &impl serde::Serialize) -> Result<(), Failure> {
    let value = serde_json::to_value(value).map_err(|e| output_failure(e.into()))?;
    crate::jobs::print_json(ctx, &value)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn file_errors_name_the_file_line_and_column() {
        let path = PathBuf::from("access.yaml");
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
    fn summary_counts_everything() {
        let mut report = ApplyReport::default();
        report.steps_planned = 3;
        report.steps_done = 3;
        report.mutations_done = 4;
        report.requests = 9;
        report.rate_limited = 1;
        report.waited = std::time::Duration::from_millis(1250);
        report.created_groups.insert("Analysts".into(), "g1".into());
        assert_eq!(
            summary(&report),
            "applied 3 of 3 steps: 4 mutations in 9 requests (1 429s, waited 1.2 s); created 1 group: Analysts"
        );
    }
}
