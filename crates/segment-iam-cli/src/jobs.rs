//! `offboard` and `audit`: thin shells over `segment_iam::jobs`. The library plans, guards and
//! reads; this file shows the plan, asks before changing anything, and renders results.

use std::io::{self, IsTerminal, Write};

use segment_iam::jobs::JobOptions;
use segment_iam::jobs::audit::{AuditFilter, AuditOptions};
use segment_iam::jobs::offboard::{self, OffboardOptions, OffboardPlan};
use serde_json::json;

use crate::cli::{AuditArgs, OffboardArgs, OutputFormat};
use crate::commands::{Ctx, emails, failure, output_failure};
use crate::exit::Failure;
use crate::output::{ListWriter, clean, plural};

/// `offboard`: plan, show, confirm (or `--yes`, or `--dry-run`), execute, report.
pub(crate) async fn offboard(ctx: &Ctx, args: &OffboardArgs) -> Result<(), Failure> {
    let emails = emails(&args.emails).await?;
    if emails.is_empty() {
        return Err(Failure::usage(
            "offboard needs at least one EMAIL or --from-file",
        ));
    }
    let job = segment_iam::jobs::Progress::new();
    let options = OffboardOptions::new()
        .allow_owner_removal(args.allow_owner_removal)
        .progress(job.clone());
    let plan = {
        let _p = ctx.job_progress(
            format!("reading the workspace for {} people", emails.len()),
            Some(job.clone()),
        );
        offboard::plan(&ctx.client, emails, &options)
            .await
            .map_err(failure)?
    };
    let json_out = matches!(ctx.format, OutputFormat::Json | OutputFormat::Ndjson);
    if !json_out {
        eprint!("{}", describe(&plan));
    }
    if args.dry_run || plan.is_empty() {
        if json_out {
            return print_json(ctx, &json!({ "plan": plan, "dryRun": args.dry_run }));
        }
        eprintln!(
            "{}",
            if plan.is_empty() {
                "nothing to do"
            } else {
                "dry run: nothing was sent"
            }
        );
        return Ok(());
    }
    if plan.removes_last_owner && !args.allow_owner_removal {
        // The library's `execute` refuses this too (nothing sent); saying it here spares a
        // pointless question and never depends on `execute` to stop.
        return Err(last_owner_refusal(&plan));
    }
    if !args.yes {
        if !io::stdin().is_terminal() {
            return Err(Failure::usage(
                "offboard changes the workspace: pass --yes to run it without a terminal (or --dry-run to preview)",
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
    let report = {
        let _p = ctx.job_progress(
            format!("removing {} people", plan.users.len() + plan.invites.len()),
            Some(job.clone()),
        );
        offboard::execute(&ctx.client, &plan, &options)
            .await
            .map_err(failure)?
    };
    if json_out {
        return print_json(ctx, &json!({ "plan": plan, "report": report }));
    }
    let mut out = ctx.stdout();
    writeln!(
        out,
        "deleted {} user{} and withdrew {} invite{} in {} request{} ({} 429s, waited {:.1} s)",
        report.users_deleted.len(),
        plural(report.users_deleted.len()),
        report.invites_withdrawn.len(),
        plural(report.invites_withdrawn.len()),
        report.requests,
        plural(report.requests),
        report.rate_limited,
        report.waited.as_secs_f64()
    )
    .and_then(|()| out.flush())
    .map_err(output_failure)
}

/// The last-owner guard's refusal (exit 2), naming the owners the plan would remove.
fn last_owner_refusal(plan: &OffboardPlan) -> Failure {
    let owners: Vec<String> = plan
        .users
        .iter()
        .filter(|u| u.owner)
        .map(|u| clean(&u.email))
        .collect();
    Failure::usage(format!(
        "refused: this would remove the last holder of \"{}\" on the workspace ({}); pass --allow-owner-removal to do it anyway",
        offboard::OWNER_ROLE,
        owners.join(", ")
    ))
}

/// The plan for people: who goes and which groups they leave, which invites go, who matched
/// nobody, what it will send, and the owner guard's finding.
pub(crate) fn describe(plan: &OffboardPlan) -> String {
    let mut text = String::new();
    for user in &plan.users {
        let groups = if user.groups.is_empty() {
            "no groups".to_string()
        } else {
            format!("leaves {}", clean(&user.groups.join(", ")))
        };
        let owner = if user.owner { " [Workspace Owner]" } else { "" };
        text.push_str(&format!(
            "  delete user {} ({}){owner}: {groups}\n",
            clean(&user.email),
            clean(&user.id)
        ));
    }
    for invite in &plan.invites {
        let groups = if invite.groups.is_empty() {
            String::new()
        } else {
            format!(": leaves {}", clean(&invite.groups.join(", ")))
        };
        text.push_str(&format!(
            "  withdraw invite {}{groups}\n",
            clean(&invite.email)
        ));
    }
    for email in &plan.unmatched {
        text.push_str(&format!("  no user or invite: {}\n", clean(email)));
    }
    text.push_str(&format!(
        "plan: {} user{} to delete, {} invite{} to withdraw, {} request{} to send; {} owner{} of the workspace remain{}\n",
        plan.users.len(),
        plural(plan.users.len()),
        plan.invites.len(),
        plural(plan.invites.len()),
        plan.mutations,
        plural(plan.mutations),
        plan.owners_remaining,
        plural(plan.owners_remaining),
        if plan.owners_remaining == 1 { "s" } else { "" },
    ));
    if plan.removes_last_owner {
        text.push_str(
            "warning: this removes the last Workspace Owner (needs --allow-owner-removal)\n",
        );
    }
    text
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

/// `audit`: the library's report, as rows in the chosen format (CSV included). What the audit
/// could not read (its notes) is a field of the JSON document, and goes to stderr beside the
/// other formats so their stdout stays rows only.
pub(crate) async fn audit(ctx: &Ctx, args: &AuditArgs) -> Result<(), Failure> {
    let mut filter = AuditFilter::new().emails(args.emails.clone());
    if let Some(role) = &args.role {
        filter = filter.role(role.clone());
    }
    if let Some(resource) = &args.resource {
        filter = filter.resource(resource.clone());
    }
    let job = segment_iam::jobs::Progress::new();
    let report = {
        let _p = ctx.job_progress("auditing the workspace", Some(job.clone()));
        segment_iam::jobs::audit::audit(&ctx.client, &filter, &AuditOptions::new().progress(job))
            .await
            .map_err(failure)?
    };
    if ctx.format == OutputFormat::Json {
        return print_json(ctx, &json!({ "rows": report.rows, "notes": report.notes }));
    }
    let mut writer = ListWriter::new(ctx.format, ctx.stdout());
    writer.push(report.rows).map_err(output_failure)?;
    writer.finish().map_err(output_failure)?;
    for note in &report.notes {
        eprintln!("note: {}", clean(&note.to_string()));
    }
    Ok(())
}
