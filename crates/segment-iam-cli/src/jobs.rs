//! `offboard`, `onboard` and `audit`: thin shells over `segment_iam::jobs`. The library plans, guards and
//! reads; this file shows the plan, goes through the CLI's one confirm path, and renders
//! results.

use std::io::Write;

use segment_iam::Permission;
use segment_iam::guard::OWNER_ROLE;
use segment_iam::jobs::JobOptions;
use segment_iam::jobs::audit::{AuditFilter, AuditOptions};
use segment_iam::jobs::history::HistoryFilter;
use segment_iam::jobs::offboard::{self, OffboardOptions, OffboardPlan};
use segment_iam::jobs::onboard::{self, Newcomer, OnboardOptions, OnboardPlan, OnboardReport};
use serde::Serialize;
use serde_json::json;

use crate::cli::{AuditArgs, HistoryArgs, OffboardArgs, OnboardArgs, OutputFormat};
use crate::exit::{Failure, failure, output_failure};
use crate::input;
use crate::output::{ListWriter, Tabular, clean, plural};
use crate::shell::{Ctx, Preview, confirm_change, emails, print_json, show};

/// `offboard`: plan, show, then the one confirm path (`--dry-run`, the last-owner guard,
/// `--yes`, a terminal's answer), execute, report.
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
    let preview = Preview {
        text: describe(&plan, args.allow_owner_removal),
        plan: serde_json::to_value(&plan).map_err(|e| output_failure(e.into()))?,
    };
    if plan.is_empty() {
        show(ctx, &preview);
        if ctx.json_out() {
            return print_json(
                ctx,
                &json!({ "plan": plan, "dryRun": args.confirm.dry_run }),
            );
        }
        eprintln!("nothing to do");
        return Ok(());
    }
    let refusal = plan.check_guard(&options).err();
    if !confirm_change(ctx, "offboard", args.confirm, &preview, refusal).await? {
        return Ok(());
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
    if ctx.json_out() {
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

/// The plan for people: who goes and which groups they leave, which invites go, who matched
/// nobody, what it will send, and, when `--allow-owner-removal` lets it through, that the
/// last owner goes (a refusal is reported by the confirm path instead).
pub(crate) fn describe(plan: &OffboardPlan, allow_owner_removal: bool) -> String {
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
    if plan.removes_last_owner && allow_owner_removal {
        text.push_str(&format!(
            "warning: this removes the last holder of \"{OWNER_ROLE}\" on the workspace (--allow-owner-removal)\n"
        ));
    }
    text
}

/// The people of an `onboard`: the EMAIL arguments, each with `perms` (from `--role`,
/// `--resource`, `--label`) and the `--group`s, then the rows of `--from-file`.
async fn newcomers(args: &OnboardArgs, perms: Vec<Permission>) -> Result<Vec<Newcomer>, Failure> {
    if args.emails.is_empty() && (!args.roles.is_empty() || !args.groups.is_empty()) {
        return Err(Failure::usage(
            "--role and --group apply to EMAIL arguments; in a --from-file CSV, give them as the role and groups columns",
        ));
    }
    let mut people: Vec<Newcomer> = Vec::new();
    for (i, email) in args.emails.iter().enumerate() {
        let email = email.trim();
        if email.is_empty() {
            return Err(Failure::usage(format!("EMAIL #{} is empty", i + 1)));
        }
        let person = perms
            .iter()
            .cloned()
            .fold(Newcomer::new(email), Newcomer::permission);
        people.push(args.groups.iter().cloned().fold(person, Newcomer::group));
    }
    if let Some(path) = args.from_file.clone() {
        let rows =
            tokio::task::spawn_blocking(move || input::read_people(&path, std::io::stdin().lock()))
                .await
                .map_err(|e| Failure::usage(format!("cannot read the people file: {e}")))?
                .map_err(Failure::from)?;
        for row in rows {
            let mut person = Newcomer::new(row.email);
            if let Some(role) = row.role {
                person =
                    person.permission(Permission::role(role).on_narrowed(row.resource, row.labels));
            }
            people.push(row.groups.into_iter().fold(person, Newcomer::group));
        }
    }
    if people.is_empty() {
        return Err(Failure::usage(
            "onboard needs at least one EMAIL or --from-file PATH",
        ));
    }
    Ok(people)
}

/// `onboard`: plan (roles and groups by name resolved, refused before anything is sent when
/// unknown or ambiguous), show, then the one confirm path (`--dry-run`, `--yes`, a
/// terminal's answer), execute, report. Onboarding only adds, so no guard can refuse it.
pub(crate) async fn onboard(
    ctx: &Ctx,
    args: &OnboardArgs,
    perms: Vec<Permission>,
) -> Result<(), Failure> {
    let people = newcomers(args, perms).await?;
    let job = segment_iam::jobs::Progress::new();
    let options = OnboardOptions::new().progress(job.clone());
    let plan = {
        let _p = ctx.job_progress(
            format!("reading the workspace for {} people", people.len()),
            Some(job.clone()),
        );
        onboard::plan(&ctx.client, people, &options)
            .await
            .map_err(failure)?
    };
    for note in &plan.notes {
        eprintln!("note: {}", clean(&note.to_string()));
    }
    let preview = Preview {
        text: describe_onboard(&plan),
        plan: serde_json::to_value(&plan).map_err(|e| output_failure(e.into()))?,
    };
    if plan.is_empty() {
        show(ctx, &preview);
        if ctx.json_out() {
            return print_json(
                ctx,
                &json!({ "plan": plan, "dryRun": args.confirm.dry_run }),
            );
        }
        eprintln!("nothing to do");
        return onboard_rows(ctx, &plan, None);
    }
    if !confirm_change(ctx, "onboard", args.confirm, &preview, None).await? {
        if args.confirm.dry_run && !ctx.json_out() {
            return onboard_rows(ctx, &plan, None);
        }
        return Ok(());
    }
    let report = {
        let _p = ctx.job_progress(
            format!("sending {} requests", plan.mutations),
            Some(job.clone()),
        );
        onboard::execute(&ctx.client, &plan, &options)
            .await
            .map_err(failure)?
    };
    if ctx.json_out() {
        return print_json(ctx, &json!({ "plan": plan, "report": report }));
    }
    onboard_rows(ctx, &plan, Some(&report))?;
    eprintln!(
        "invited {} {}, granted permissions to {} user{}, added members to {} group{} in {} request{} ({} 429s, waited {:.1} s){}",
        report.invited.len(),
        if report.invited.len() == 1 {
            "person"
        } else {
            "people"
        },
        report.permissions_added.len(),
        plural(report.permissions_added.len()),
        report.members_added.len(),
        plural(report.members_added.len()),
        report.requests,
        plural(report.requests),
        report.rate_limited,
        report.waited.as_secs_f64(),
        if report.invites_looked_up {
            "; the invite's answer was lost and the invites were found in the list"
        } else {
            ""
        }
    );
    Ok(())
}

/// One person of an onboarding, as a table or CSV row.
#[derive(Debug, Serialize)]
struct OnboardRow {
    email: String,
    kind: String,
    grant: String,
    join: String,
    already_in: String,
    status: String,
}

impl Tabular for OnboardRow {
    fn headers() -> &'static [&'static str] {
        &["EMAIL", "KIND", "GRANT", "JOIN", "ALREADY IN", "STATUS"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.email.clone(),
            self.kind.clone(),
            self.grant.clone(),
            self.join.clone(),
            self.already_in.clone(),
            self.status.clone(),
        ]
    }
}

/// The plan's people as rows on stdout (table or CSV); `report` says they were done.
fn onboard_rows(
    ctx: &Ctx,
    plan: &OnboardPlan,
    report: Option<&OnboardReport>,
) -> Result<(), Failure> {
    let rows: Vec<OnboardRow> = plan
        .people
        .iter()
        .map(|p| OnboardRow {
            email: p.email.clone(),
            kind: p.kind.to_string(),
            grant: p
                .grant
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
                .join("; "),
            join: p.join.join("; "),
            already_in: p.already_in.join("; "),
            status: match (p.is_done(), report) {
                (true, _) => "nothing to do",
                (false, Some(_)) => "done",
                (false, None) => "planned",
            }
            .into(),
        })
        .collect();
    let mut writer = ListWriter::new(ctx.format, ctx.stdout());
    writer.push(rows).map_err(output_failure)?;
    writer.finish().map_err(output_failure)
}

/// The plan for people: per person what they get and where they join, then the requests.
pub(crate) fn describe_onboard(plan: &OnboardPlan) -> String {
    let mut text = String::new();
    for p in &plan.people {
        let mut parts: Vec<String> = Vec::new();
        let grants: Vec<String> = p.grant.iter().map(ToString::to_string).collect();
        match p.kind {
            onboard::PersonKind::New if grants.is_empty() => parts.push("invite".into()),
            onboard::PersonKind::New => parts.push(format!("invite with {}", grants.join(", "))),
            _ if grants.is_empty() => {}
            _ => parts.push(format!("grant {}", grants.join(", "))),
        }
        if !p.join.is_empty() {
            parts.push(format!("add to {}", p.join.join(", ")));
        }
        if parts.is_empty() {
            parts.push("nothing to do".into());
        }
        text.push_str(&format!(
            "  {} ({}): {}\n",
            clean(&p.email),
            p.kind,
            clean(&parts.join("; "))
        ));
    }
    text.push_str(&format!(
        "plan: {} to invite, {} user{} to grant permissions, {} group{} to add members to; {} request{} to send\n",
        plan.people
            .iter()
            .filter(|p| p.kind == onboard::PersonKind::New)
            .count(),
        plan.permission_requests,
        plural(plan.permission_requests),
        plan.membership_requests,
        plural(plan.membership_requests),
        plan.mutations,
        plural(plan.mutations),
    ));
    text
}

/// `audit`: the library's report, as rows in the chosen format (CSV included). What the audit
/// could not read (its notes) and the reads it sent (`requests`) are fields of the JSON
/// document, and go to stderr beside the other formats so their stdout stays rows only.
pub(crate) async fn audit(ctx: &Ctx, args: &AuditArgs) -> Result<(), Failure> {
    let mut filter = AuditFilter::new().emails(args.emails.clone());
    if let Some(role) = &args.role {
        filter = filter.role(role.clone());
    }
    if let Some(resource) = &args.resource {
        filter = filter.resource(resource.clone());
    }
    if let Some(group) = &args.group {
        filter = filter.group(group.clone());
    }
    let job = segment_iam::jobs::Progress::new();
    let report = {
        let _p = ctx.job_progress("auditing the workspace", Some(job.clone()));
        segment_iam::jobs::audit::audit(&ctx.client, &filter, &AuditOptions::new().progress(job))
            .await
            .map_err(failure)?
    };
    if ctx.format == OutputFormat::Json {
        return print_json(
            ctx,
            &json!({ "rows": report.rows, "notes": report.notes, "requests": report.requests }),
        );
    }
    let mut writer = ListWriter::new(ctx.format, ctx.stdout());
    writer.push(report.rows).map_err(output_failure)?;
    writer.finish().map_err(output_failure)?;
    for note in &report.notes {
        eprintln!("note: {}", clean(&note.to_string()));
    }
    eprintln!(
        "read {} request{}",
        report.requests,
        plural(report.requests)
    );
    Ok(())
}

/// `history`: the library's events, newest first, in the chosen format; the reads it sent go
/// to stderr so stdout stays events only. `--since` / `--until` are read against this
/// machine's clock (a bad one is a usage error, nothing sent).
pub(crate) async fn history(ctx: &Ctx, args: &HistoryArgs) -> Result<(), Failure> {
    let now = std::time::SystemTime::now();
    let when = |field: &str, text: &Option<String>| {
        text.as_deref()
            .map(|t| segment_iam::time::parse_instant(field, t, now))
            .transpose()
            .map_err(failure)
    };
    let mut filter = HistoryFilter::new();
    if let Some(t) = when("since", &args.since)? {
        filter = filter.since(t);
    }
    if let Some(t) = when("until", &args.until)? {
        filter = filter.until(t);
    }
    if let Some(email) = &args.email {
        filter = filter.email(email.clone());
    }
    if let Some(group) = &args.group {
        filter = filter.group(group.clone());
    }
    let history = {
        let _p = ctx.job_progress("reading the audit trail", None);
        segment_iam::jobs::history::history(&ctx.client, &filter)
            .await
            .map_err(failure)?
    };
    let mut writer = ListWriter::new(ctx.format, ctx.stdout());
    writer.push(history.events).map_err(output_failure)?;
    writer.finish().map_err(output_failure)?;
    eprintln!(
        "read {} request{}",
        history.requests,
        plural(history.requests)
    );
    Ok(())
}
