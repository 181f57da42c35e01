//! Access as code: `schema`, `export`, `plan` and `apply`, thin shells over
//! `segment_iam_sync`. The library parses the file, reads the workspace, plans, guards and
//! applies; this file reads and writes the operator's files, shows the plan and the progress,
//! and goes through the CLI's one confirm path before changing anything.
//!
//! Where things go: `plan` prints the diff on stdout (it is the command's result); `apply`
//! prints the plan on stderr and its summary on stdout, like `offboard`. Under `-o json`,
//! `plan` prints the plan as saved by `--out`, `apply` the `ApplyReport`.

use std::io::{self, IsTerminal, Write};
use std::path::Path;

use segment_iam::jobs::JobOptions;
use segment_iam::jobs::read::ReadOptions;
use segment_iam_sync::{
    AccessFile, ApplyOptions, ApplyReport, ExplainOptions, Explanations, Live, Plan, PlanOptions,
};
use serde_json::{Value, json};

use crate::cli::{ApplyArgs, ExportArgs, OutputFormat, PlanArgs};
use crate::exit::{Failure, Kind, output_failure, sync_failure, write_failure};
use crate::output::{clean, plural};
use crate::shell::{Ctx, Decision, Preview, decide, print_text, print_value, settle, show};

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
    let live = read_live(ctx, None).await?;
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
    let live = read_live(ctx, Some(&file)).await?;
    let plan = segment_iam_sync::plan_with(&file, &live, &ctx.client, &now(args.warn_expiring))
        .map_err(|e| sync_failure(e, Some(&args.file)))?;
    if let Some(out) = &args.out {
        std::fs::write(out, plan.to_json()).map_err(|e| write_failure(out, e))?;
    }
    let explained = if args.explain {
        explain(ctx, &plan).await?
    } else {
        None
    };
    if !ctx.json_out() {
        let explaining = explained.as_ref().map_or(0, |x| x.requests);
        eprintln!("{}", reads_with(&plan, explaining));
    }
    let shown = match (ctx.format, &explained) {
        (OutputFormat::Json, None) => print_text(ctx, &format!("{}\n", plan.to_json())),
        (OutputFormat::Ndjson, None) => print_value(ctx, &plan),
        (OutputFormat::Json | OutputFormat::Ndjson, Some(x)) => {
            // The plan as saved, with the explanations beside its steps; its `reads` count
            // the audit-event pages too (`explanations.requests` says how many).
            let mut value = serde_json::to_value(&plan).map_err(|e| output_failure(e.into()))?;
            if let Some(obj) = value.as_object_mut() {
                obj.insert("reads".into(), (plan.reads + x.requests).into());
                obj.insert(
                    "explanations".into(),
                    serde_json::to_value(x).map_err(|e| output_failure(e.into()))?,
                );
            }
            match ctx.format {
                OutputFormat::Json => print_text(
                    ctx,
                    &format!(
                        "{}\n",
                        serde_json::to_string_pretty(&value)
                            .map_err(|e| output_failure(e.into()))?
                    ),
                ),
                _ => print_value(ctx, &value),
            }
        }
        (OutputFormat::Table | OutputFormat::Csv, None) => print_text(ctx, &describe(&plan)),
        (OutputFormat::Table | OutputFormat::Csv, Some(x)) => print_text(
            ctx,
            &clean_lines(
                &segment_iam_sync::Explained {
                    plan: &plan,
                    explanations: x,
                }
                .to_string(),
            ),
        ),
    };
    if let Some(out) = &args.out
        && !ctx.json_out()
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
/// workspace changed since): show, then the one confirm path (`--dry-run`, the removal cap,
/// `--yes`, a terminal's answer), apply, report.
pub(crate) async fn apply(ctx: &Ctx, args: &ApplyArgs) -> Result<(), Failure> {
    let (plan, saved) = match (&args.file, &args.plan) {
        (Some(path), _) => {
            let file = read_access_file(path)?;
            let live = read_live(ctx, Some(&file)).await?;
            let plan =
                segment_iam_sync::plan_with(&file, &live, &ctx.client, &now(args.warn_expiring))
                    .map_err(|e| sync_failure(e, Some(path)))?;
            if !ctx.json_out() {
                eprintln!("{}", reads(&plan));
            }
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
    let preview = Preview {
        text: describe(&plan),
        plan: serde_json::to_value(&plan).map_err(|e| output_failure(e.into()))?,
    };
    show(ctx, &preview);
    if plan.is_empty() && !args.confirm.dry_run {
        if ctx.json_out() {
            return print_value(ctx, &ApplyReport::default());
        }
        return Ok(());
    }
    let cap = args.removal_cap();
    let removals = plan.removals();
    let decision = decide(
        args.confirm,
        cap.check(removals).err(),
        io::stdin().is_terminal(),
    );
    if saved && decision == Decision::Ask {
        // Checked again by `apply` (the authoritative check, after the answer): this one only
        // spares the operator a question about a plan that would be refused.
        segment_iam_sync::check_fresh(&ctx.client, &plan)
            .await
            .map_err(|e| sync_failure(e, args.plan.as_deref()))?;
    }
    if !settle(ctx, "apply", decision, &preview).await? {
        return Ok(());
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
    if ctx.json_out() {
        return print_value(ctx, &report);
    }
    print_text(ctx, &format!("{}\n", summary(&report)))
}

/// What reading the workspace for `plan` cost, on stderr like `audit`'s count: "read N
/// requests", and whether only what the file names was read.
pub fn reads(plan: &Plan) -> String {
    reads_with(plan, 0)
}

/// [`reads`], counting `explaining` audit-event requests read to explain the drift (`plan
/// --explain`) in the total, and saying how many they were.
fn reads_with(plan: &Plan, explaining: u64) -> String {
    let scope = if plan.scope.is_some() {
        "only the groups and people the file names: it prunes nothing"
    } else {
        "the whole workspace"
    };
    let total = plan.reads + explaining;
    if explaining == 0 {
        format!("read {total} request{} ({scope})", plural(total))
    } else {
        format!(
            "read {total} requests ({scope}; {explaining} of them audit-event request{} to explain the drift)",
            plural(explaining)
        )
    }
}

/// Planning at the system clock's now: the one place the CLI reads it for expiries.
fn now(warn_expiring: std::time::Duration) -> PlanOptions {
    PlanOptions::at(std::time::SystemTime::now()).warn_expiring(warn_expiring)
}

/// The summary line of a finished apply.
pub fn summary(report: &ApplyReport) -> String {
    let mut line = format!(
        "applied {} of {} step{}: {} mutation{} in {} request{} ({} 429s, waited {:.1} s)",
        report.steps_done,
        report.steps_planned,
        plural(report.steps_planned),
        report.mutations_done,
        plural(report.mutations_done),
        report.requests,
        plural(report.requests),
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
    // Overlapping applies: groups another run created first, and this run's duplicates
    // merged into them (see segment_iam_sync::apply).
    if !report.adopted_groups.is_empty() {
        let names: Vec<&str> = report.adopted_groups.keys().map(String::as_str).collect();
        line.push_str(&format!(
            "; used {} group{} another run created: {}",
            names.len(),
            plural(names.len()),
            clean(&names.join(", "))
        ));
    }
    if !report.merged_groups.is_empty() {
        let names: Vec<String> = report
            .merged_groups
            .iter()
            .map(|m| format!("{} ({} into {})", m.name, m.deleted, m.survivor))
            .collect();
        line.push_str(&format!(
            "; merged and deleted {} duplicate group{}: {}",
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
    clean_lines(&plan.to_string())
}

/// `text` with control characters escaped line by line.
fn clean_lines(text: &str) -> String {
    text.lines()
        .map(|line| format!("{}\n", clean(line)))
        .collect()
}

/// `plan --explain`: the audit trail's latest matching event per drifted step (nothing is read
/// for an empty plan). A workspace without the audit trail is a warning, not a failure: the
/// plan is shown unexplained.
async fn explain(ctx: &Ctx, plan: &Plan) -> Result<Option<Explanations>, Failure> {
    let job = segment_iam::jobs::Progress::new();
    let result = {
        let _p = ctx.job_progress("reading the audit trail", Some(job.clone()));
        segment_iam_sync::explain(&ctx.client, plan, &ExplainOptions::new().progress(job)).await
    };
    match result {
        Ok(x) => Ok(Some(x)),
        Err(segment_iam_sync::Error::Api(segment_iam::Error::AuditTrailUnavailable(e))) => {
            eprintln!(
                "warning: the drift cannot be explained: this workspace has no audit trail (a Business-tier feature of Segment; the service said: {}); the plan is shown without explanations",
                clean(&e.to_string())
            );
            Ok(None)
        }
        Err(e) => Err(sync_failure(e, None)),
    }
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
    let mut envelope = crate::exit::envelope(source);
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

/// Reads the workspace as `file` needs it (scoped when it prunes nothing, the sources only
/// when it may delete labels), or whole without a file (`export`), with the progress line on a
/// terminal.
async fn read_live(ctx: &Ctx, file: Option<&AccessFile>) -> Result<Live, Failure> {
    let job = segment_iam::jobs::Progress::new();
    let _p = ctx.job_progress("reading the workspace", Some(job.clone()));
    let options = ReadOptions::new().progress(job);
    match file {
        Some(file) => Live::read_for(&ctx.client, file, &options).await,
        None => Live::read(&ctx.client, &options).await,
    }
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn summary_says_which_groups_another_run_made_and_which_duplicates_were_merged() {
        let mut report = ApplyReport::default();
        report.adopted_groups.insert("Team 0".into(), "g1".into());
        report.adopted_groups.insert("Team 1".into(), "g2".into());
        let mut merged = segment_iam_sync::MergedGroup::default();
        merged.name = "Team 1".into();
        merged.survivor = "g2".into();
        merged.deleted = "g9".into();
        report.merged_groups.push(merged);
        let line = summary(&report);
        assert!(
            line.ends_with(
                "; used 2 groups another run created: Team 0, Team 1; merged and deleted 1 duplicate group: Team 1 (g9 into g2)"
            ),
            "{line}"
        );
    }
}
