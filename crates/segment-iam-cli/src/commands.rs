//! Running a parsed command: resolve the token, build one facade [`Client`], call the one
//! facade method the command names, and render the result. There is no other HTTP path: every
//! request goes through the facade's pacing, retries, batching and validation.

use std::io::{self, BufWriter, IsTerminal};
use std::path::{Path, PathBuf};
use std::pin::pin;

use clap::ArgMatches;
use futures::StreamExt;
use segment_iam::{Client, Invite, Paginator, Permission, Region, Resource};
use serde_json::{Value, json};

use crate::cli::{
    Cli, Command, Emails, GlobalArgs, GroupEmails, GroupsCmd, Ids, InvitesCmd, MembersCmd,
    OutputFormat, PermissionArgs, PermissionsCmd, RegionArg, RolesCmd, TOKEN_ENV, UsersCmd,
    pair_grants,
};
use crate::exit::Failure;
use crate::input;
use crate::output::{Applied, ListWriter, Tabular, write_applied, write_one};
use crate::progress::{Progress, Stats};

/// The token from `--token`, else `--token-file`, else `env` (the value of
/// `SEGMENT_PUBLIC_API_TOKEN`, passed in for tests). Blank values count as absent.
pub fn resolve_token(
    global: &GlobalArgs,
    env: Option<String>,
    stdin: impl io::Read,
) -> Result<Option<String>, Failure> {
    if let Some(t) = &global.token {
        let t = t.0.trim();
        if t.is_empty() {
            return Err(Failure::usage("--token is empty"));
        }
        return Ok(Some(t.to_string()));
    }
    if let Some(path) = &global.token_file {
        return Ok(Some(input::read_token_file(path, stdin)?));
    }
    Ok(env.map(|t| t.trim().to_string()).filter(|t| !t.is_empty()))
}

/// Maps a facade error to a failure: input and configuration errors are usage errors (exit 2,
/// nothing sent), everything else is the service's or the network's (exit 1) with the
/// service's envelope when there is one.
pub fn failure(e: segment_iam::Error) -> Failure {
    if e.is_invalid_input()
        || matches!(
            e,
            segment_iam::Error::Config(_) | segment_iam::Error::Refused(_)
        )
    {
        return Failure::usage(e.to_string());
    }
    Failure::service(e.to_string(), envelope(&e))
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

/// Everything a command needs: the client, the output format, whether to draw progress.
pub(crate) struct Ctx {
    pub(crate) client: Client,
    pub(crate) format: OutputFormat,
    pub(crate) progress: bool,
}

impl Ctx {
    /// A progress line fed by the client's counters.
    fn progress(&self, label: impl Into<String>) -> Progress {
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
    async fn list<T: Tabular + Send + 'static>(
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
    fn found<T: Tabular>(&self, found: Vec<T>, missing: Vec<String>) -> Result<(), Failure> {
        match self.format {
            OutputFormat::Json | OutputFormat::Ndjson => {
                crate::jobs::print_json(self, &json!({"found": found, "missing": missing}))
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
    fn applied(
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

/// A failed write to stdout: a closed pipe ends the command quietly, anything else is exit 1.
pub(crate) fn output_failure(e: io::Error) -> Failure {
    crate::exit::from_io(e).unwrap_or_else(Failure::output_closed)
}

/// The output format: as asked, else a table for people at a terminal and JSON for programs.
pub fn output_format(asked: Option<OutputFormat>, stdout_is_terminal: bool) -> OutputFormat {
    asked.unwrap_or(if stdout_is_terminal {
        OutputFormat::Table
    } else {
        OutputFormat::Json
    })
}

/// The deepest subcommand's matches, where `--role`/`--resource` indices live.
fn leaf(m: &ArgMatches) -> &ArgMatches {
    let mut m = m;
    while let Some((_, sub)) = m.subcommand() {
        m = sub;
    }
    m
}

/// The facade permissions for `--role`/`--resource` groups, each resource under the role
/// written before it.
fn permissions(
    matches: &ArgMatches,
    roles: &[String],
    resources: &[Resource],
) -> Result<Vec<Permission>, Failure> {
    let m = leaf(matches);
    let idx =
        |id: &str| -> Vec<usize> { m.indices_of(id).map(Iterator::collect).unwrap_or_default() };
    let grants =
        pair_grants(roles, &idx("roles"), resources, &idx("resources")).map_err(Failure::usage)?;
    Ok(grants
        .into_iter()
        .map(|g| {
            g.resources
                .iter()
                .fold(Permission::role(g.role.clone()), |p, r| p.on(r.clone()))
        })
        .collect())
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
async fn ids(i: &Ids) -> Result<Vec<String>, Failure> {
    gather(&i.values, i.from_file.as_deref(), "ids").await
}

/// The emails of an [`Emails`] argument group.
pub(crate) async fn emails(e: &Emails) -> Result<Vec<String>, Failure> {
    gather(&e.values, e.from_file.as_deref(), "emails").await
}

/// Whether the command reads a list from stdin (then the token cannot come from stdin too).
fn reads_stdin_list(cmd: &Command) -> bool {
    let dash = |p: &Option<PathBuf>| p.as_deref().is_some_and(|p| p.as_os_str() == "-");
    match cmd {
        Command::Users(UsersCmd::Delete(i)) => dash(&i.from_file),
        Command::Invites(InvitesCmd::Create { emails, .. })
        | Command::Invites(InvitesCmd::Delete(emails))
        | Command::Invites(InvitesCmd::Find(emails))
        | Command::Users(UsersCmd::Find(emails))
        | Command::Offboard(crate::cli::OffboardArgs { emails, .. }) => dash(&emails.from_file),
        Command::Groups(GroupsCmd::Members(
            MembersCmd::Add(g) | MembersCmd::Remove(g) | MembersCmd::Replace(g),
        )) => dash(&g.emails.from_file),
        _ => false,
    }
}

/// Builds the client from the global options.
fn client(global: &GlobalArgs, token: String) -> Result<Client, Failure> {
    let mut b = Client::builder()
        .token(token)
        .region(match global.region {
            RegionArg::Us => Region::Us,
            RegionArg::Eu => Region::Eu,
        })
        .user_agent(format!("segment-iam-cli/{}", env!("CARGO_PKG_VERSION")));
    if let Some(url) = &global.base_url {
        b = b.base_url(url.clone());
    }
    if let Some(n) = global.page_size {
        b = b.page_size(n);
    }
    b.build().map_err(failure)
}

/// Runs one API command (everything but `emulator`).
pub async fn run(cli: &Cli, matches: &ArgMatches, format: OutputFormat) -> Result<(), Failure> {
    let g = &cli.global;
    let token_from_stdin = g.token.is_none()
        && g.token_file
            .as_deref()
            .is_some_and(|p| p.as_os_str() == "-");
    if token_from_stdin && reads_stdin_list(&cli.command) {
        return Err(Failure::usage(
            "stdin can feed only one of --token-file - and --from-file -",
        ));
    }
    let token = resolve_token(g, std::env::var(TOKEN_ENV).ok(), io::stdin().lock())?.ok_or_else(|| {
        Failure::usage(format!(
            "no API token: set {TOKEN_ENV}, or pass --token-file PATH (or --token, which other users can see in `ps`)"
        ))
    })?;
    tracing::debug!(
        base_url = g.base_url.as_deref().unwrap_or("(by region)"),
        region = ?g.region,
        page_size = ?g.page_size,
        "building the client"
    );
    let ctx = Ctx {
        client: client(g, token)?,
        format,
        progress: io::stderr().is_terminal() && g.verbose == 0,
    };
    match &cli.command {
        Command::Users(cmd) => users(&ctx, cmd).await,
        Command::Invites(cmd) => invites(&ctx, cmd, matches).await,
        Command::Groups(cmd) => groups(&ctx, cmd).await,
        Command::Permissions(cmd) => perms(&ctx, cmd, matches).await,
        Command::Roles(RolesCmd::List) => {
            ctx.list("listing roles", ctx.client.roles().list()).await
        }
        Command::Workspace => {
            let workspace = ctx.client.workspace().await.map_err(failure)?;
            ctx.one(&workspace)
        }
        Command::Offboard(args) => crate::jobs::offboard(&ctx, args).await,
        Command::Audit(args) => crate::jobs::audit(&ctx, args).await,
        Command::Export(args) => crate::sync::export(&ctx, args).await,
        Command::Plan(args) => crate::sync::plan(&ctx, args).await,
        Command::Apply(args) => crate::sync::apply(&ctx, args).await,
        Command::Schema => crate::sync::schema(),
        Command::Emulator(_) => Err(Failure::usage("the emulator command is not an API command")),
    }
}

/// `users ...`: one facade call per subcommand.
async fn users(ctx: &Ctx, cmd: &UsersCmd) -> Result<(), Failure> {
    let users = ctx.client.users();
    match cmd {
        UsersCmd::List => ctx.list("listing users", users.list()).await,
        UsersCmd::Get { id } => {
            let _p = ctx.progress(format!("getting user {id}"));
            let user = users.get(id.clone()).await.map_err(failure)?;
            ctx.one(&user)
        }
        UsersCmd::Delete(i) => {
            let ids = ids(i).await?;
            let p = ctx.progress(format!("deleting {} users", ids.len()));
            let out = users.delete(ids).await.map_err(failure)?;
            drop(p);
            ctx.applied("deleted", "user", out.applied, out.requests)
        }
        UsersCmd::Find(e) => {
            let emails = emails(e).await?;
            let p = ctx.progress(format!("finding {} users", emails.len()));
            let found = users.find_by_emails(emails).await.map_err(failure)?;
            drop(p);
            ctx.found(found.found, found.missing)
        }
        UsersCmd::Groups { id } => {
            ctx.list(
                &format!("listing groups of user {id}"),
                users.groups(id.clone()),
            )
            .await
        }
    }
}

/// `invites ...`; every invite of one `create` carries the same permissions.
async fn invites(ctx: &Ctx, cmd: &InvitesCmd, matches: &ArgMatches) -> Result<(), Failure> {
    let invites = ctx.client.invites();
    match cmd {
        InvitesCmd::List => ctx.list("listing invites", invites.list()).await,
        InvitesCmd::Create { emails: e, grants } => {
            let perms = permissions(matches, &grants.roles, &grants.resources)?;
            let emails = emails(e).await?;
            let p = ctx.progress(format!("inviting {} people", emails.len()));
            let batch = emails.into_iter().map(|email| {
                perms
                    .iter()
                    .cloned()
                    .fold(Invite::new(email), Invite::permission)
            });
            let created = invites
                .create(batch.collect::<Vec<_>>())
                .await
                .map_err(failure)?;
            drop(p);
            ctx.many(created)
        }
        InvitesCmd::Find(e) => {
            let emails = emails(e).await?;
            let p = ctx.progress(format!("finding {} invites", emails.len()));
            let found = invites.find_by_emails(emails).await.map_err(failure)?;
            drop(p);
            ctx.found(found.found, found.missing)
        }
        InvitesCmd::Delete(e) => {
            let emails = emails(e).await?;
            let p = ctx.progress(format!("deleting {} invites", emails.len()));
            let out = invites.delete(emails).await.map_err(failure)?;
            drop(p);
            ctx.applied("deleted", "invite", out.applied, out.requests)
        }
    }
}

/// `groups ...`.
async fn groups(ctx: &Ctx, cmd: &GroupsCmd) -> Result<(), Failure> {
    let groups = ctx.client.groups();
    match cmd {
        GroupsCmd::List => ctx.list("listing groups", groups.list()).await,
        GroupsCmd::Get { id } => {
            let _p = ctx.progress(format!("getting group {id}"));
            let group = groups.get(id.clone()).await.map_err(failure)?;
            ctx.one(&group)
        }
        GroupsCmd::Create { name } => {
            let _p = ctx.progress(format!("creating group {name}"));
            let group = groups.create(name.clone()).await.map_err(failure)?;
            ctx.one(&group)
        }
        GroupsCmd::Rename { id, name } => {
            let _p = ctx.progress(format!("renaming group {id}"));
            let group = groups
                .rename(id.clone(), name.clone())
                .await
                .map_err(failure)?;
            ctx.one(&group)
        }
        GroupsCmd::Delete { id } => {
            let p = ctx.progress(format!("deleting group {id}"));
            groups.delete(id.clone()).await.map_err(failure)?;
            drop(p);
            ctx.applied("deleted", "group", vec![id.clone()], 1)
        }
        GroupsCmd::Invites { id } => {
            ctx.list(
                &format!("listing invites of group {id}"),
                groups.invites(id.clone()),
            )
            .await
        }
        GroupsCmd::Members(m) => members(ctx, m).await,
    }
}

/// `groups members ...`.
async fn members(ctx: &Ctx, cmd: &MembersCmd) -> Result<(), Failure> {
    let groups = ctx.client.groups();
    match cmd {
        MembersCmd::List { id } => {
            ctx.list(
                &format!("listing members of group {id}"),
                groups.members(id.clone()),
            )
            .await
        }
        MembersCmd::Add(GroupEmails { id, emails: e }) => {
            let emails = emails(e).await?;
            let p = ctx.progress(format!("adding {} members to group {id}", emails.len()));
            let group = groups
                .add_members(id.clone(), emails)
                .await
                .map_err(failure)?;
            drop(p);
            ctx.one(&group)
        }
        MembersCmd::Remove(GroupEmails { id, emails: e }) => {
            let emails = emails(e).await?;
            let p = ctx.progress(format!("removing {} members from group {id}", emails.len()));
            let out = groups
                .remove_members(id.clone(), emails)
                .await
                .map_err(failure)?;
            drop(p);
            ctx.applied("removed", "member", out.applied, out.requests)
        }
        MembersCmd::Replace(GroupEmails { id, emails: e }) => {
            let emails = emails(e).await?;
            let p = ctx.progress(format!("setting {} members of group {id}", emails.len()));
            let group = groups
                .replace_members(id.clone(), emails)
                .await
                .map_err(failure)?;
            drop(p);
            ctx.one(&group)
        }
    }
}

/// `permissions add|replace` for a user or a group.
async fn perms(ctx: &Ctx, cmd: &PermissionsCmd, matches: &ArgMatches) -> Result<(), Failure> {
    let (args, replace): (&PermissionArgs, bool) = match cmd {
        PermissionsCmd::Add(a) => (a, false),
        PermissionsCmd::Replace(a) => (a, true),
    };
    let perms = permissions(matches, &args.roles, &args.resources)?;
    let verb = if replace { "replacing" } else { "adding" };
    let result = match (&args.subject.user, &args.subject.group) {
        (Some(user), _) => {
            let _p = ctx.progress(format!("{verb} permissions of user {user}"));
            let users = ctx.client.users();
            if replace {
                users.replace_permissions(user.clone(), perms).await
            } else {
                users.add_permissions(user.clone(), perms).await
            }
        }
        (None, Some(group)) => {
            let _p = ctx.progress(format!("{verb} permissions of group {group}"));
            let groups = ctx.client.groups();
            if replace {
                groups.replace_permissions(group.clone(), perms).await
            } else {
                groups.add_permissions(group.clone(), perms).await
            }
        }
        (None, None) => return Err(Failure::usage("pass --user ID or --group ID")),
    };
    ctx.many(result.map_err(failure)?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;
    use std::io::Cursor;

    fn global(args: &[&str]) -> Result<GlobalArgs, clap::Error> {
        let all = std::iter::once("segment-iam")
            .chain(args.iter().copied())
            .chain(["users", "list"]);
        Ok(Cli::try_parse_from(all)?.global)
    }

    #[test]
    fn token_precedence() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let file = dir.path().join("token");
        std::fs::write(&file, "from-file\n")?;
        let file = file.to_string_lossy().into_owned();
        let env = || Some("from-env".to_string());
        let none = || Cursor::new("");

        let g = global(&["--token", "from-flag", "--token-file", &file])?;
        assert_eq!(
            resolve_token(&g, env(), none()).ok().flatten().as_deref(),
            Some("from-flag")
        );
        let g = global(&["--token-file", &file])?;
        assert_eq!(
            resolve_token(&g, env(), none()).ok().flatten().as_deref(),
            Some("from-file")
        );
        let g = global(&[])?;
        assert_eq!(
            resolve_token(&g, env(), none()).ok().flatten().as_deref(),
            Some("from-env")
        );
        assert_eq!(
            resolve_token(&g, Some("  ".into()), none()).ok().flatten(),
            None
        );
        assert_eq!(resolve_token(&g, None, none()).ok().flatten(), None);
        let g = global(&["--token-file", "-"])?;
        assert_eq!(
            resolve_token(&g, None, Cursor::new("stdin-tok\n"))
                .ok()
                .flatten()
                .as_deref(),
            Some("stdin-tok")
        );
        Ok(())
    }

    #[test]
    fn default_output_depends_on_terminal() {
        assert_eq!(output_format(None, true), OutputFormat::Table);
        assert_eq!(output_format(None, false), OutputFormat::Json);
        assert_eq!(
            output_format(Some(OutputFormat::Ndjson), true),
            OutputFormat::Ndjson
        );
    }

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
        // A guard's refusal is exit 2 (nothing was sent), like the CLI's own refusals.
        let refused = Error::Refused(segment_iam::guard::Refusal::LastOwner {
            owners: vec!["ana@example.com".into()],
        });
        assert_eq!(failure(refused).kind, crate::exit::Kind::Usage);
        assert!(env.get("status").is_none());
        assert_eq!(failure(transport).kind, crate::exit::Kind::Service);

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
    fn region_chooses_the_host_and_base_url_overrides_it() -> Result<(), Box<dyn std::error::Error>>
    {
        let eu = client(&global(&["--region", "eu"])?, "t".into()).map_err(|f| f.message)?;
        assert_eq!(eu.base_url(), "https://eu1.api.segmentapis.com");
        let us = client(&global(&[])?, "t".into()).map_err(|f| f.message)?;
        assert_eq!(us.base_url(), "https://api.segmentapis.com");
        let local = client(
            &global(&["--region", "eu", "--base-url", "http://127.0.0.1:9/"])?,
            "t".into(),
        )
        .map_err(|f| f.message)?;
        assert_eq!(local.base_url(), "http://127.0.0.1:9");
        Ok(())
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
}
