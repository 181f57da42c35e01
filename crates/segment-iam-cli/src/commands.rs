//! Running a parsed command: resolve the token, build one facade [`Client`], call the one
//! facade method the command names, and render the result. There is no other HTTP path: every
//! request goes through the facade's pacing, retries, batching and validation.

use std::io::{self, IsTerminal};
use std::path::PathBuf;

use clap::ArgMatches;
use segment_iam::{Client, Invite, Label, Permission, Region, Resource};

use crate::cli::{
    Cli, Command, GlobalArgs, GroupEmails, GroupsCmd, InvitesCmd, LabelsCmd, MembersCmd,
    OutputFormat, PermissionArgs, PermissionsCmd, Placed, RegionArg, RolesCmd, SourcesCmd,
    TOKEN_ENV, UsersCmd, pair_grants,
};
use crate::exit::{Failure, failure, label_delete_failure};
use crate::input;
use crate::shell::{Change, Ctx, confirm_change, emails, ids};

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

/// The facade permissions for `--role`/`--resource`/`--label` groups, each resource under the
/// role written before it and each label on the resource written before it, with each one for
/// people (`ROLE on RESOURCE narrowed by LABEL`, for previews).
fn permissions(
    matches: &ArgMatches,
    roles: &[String],
    resources: &[Resource],
    labels: &[Label],
) -> Result<(Vec<Permission>, Vec<String>), Failure> {
    let m = leaf(matches);
    // Looked up only for values given: `invites create` has no `--label` to look up.
    let idx = |id: &str, given: bool| -> Vec<usize> {
        match given.then(|| m.indices_of(id)).flatten() {
            Some(at) => at.collect(),
            None => Vec::new(),
        }
    };
    let role_at = idx("roles", !roles.is_empty());
    let resource_at = idx("resources", !resources.is_empty());
    let label_at = idx("labels", !labels.is_empty());
    let grants = pair_grants(
        Placed::new(roles, &role_at),
        Placed::new(resources, &resource_at),
        Placed::new(labels, &label_at),
    )
    .map_err(Failure::usage)?;
    let texts = grants.iter().map(ToString::to_string).collect();
    let perms = grants.iter().map(|g| g.permission()).collect();
    Ok((perms, texts))
}

/// Whether the command reads a list from stdin (then the token cannot come from stdin too).
fn reads_stdin_list(cmd: &Command) -> bool {
    let dash = |p: &Option<PathBuf>| p.as_deref().is_some_and(|p| p.as_os_str() == "-");
    match cmd {
        Command::Users(UsersCmd::Delete { ids, .. }) => dash(&ids.from_file),
        Command::Invites(InvitesCmd::Create { emails, .. })
        | Command::Invites(InvitesCmd::Delete { emails, .. })
        | Command::Invites(InvitesCmd::Find(emails))
        | Command::Users(UsersCmd::Find(emails))
        | Command::Offboard(crate::cli::OffboardArgs { emails, .. }) => dash(&emails.from_file),
        Command::Onboard(args) => dash(&args.from_file),
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
        Command::Labels(cmd) => labels(&ctx, cmd).await,
        Command::Sources(SourcesCmd::List) => {
            ctx.stream("listing sources", ctx.client.sources().list_labelled())
                .await
        }
        Command::Workspace => {
            let workspace = ctx.client.workspace().await.map_err(failure)?;
            ctx.one(&workspace)
        }
        Command::Offboard(args) => crate::jobs::offboard(&ctx, args).await,
        Command::Onboard(args) => {
            // With one --role and no --resource, the role is on the token's workspace.
            let resources = if args.resources.is_empty() && !args.roles.is_empty() {
                vec![Resource::ThisWorkspace]
            } else {
                args.resources.clone()
            };
            let (perms, _) = permissions(matches, &args.roles, &resources, &args.labels)?;
            crate::jobs::onboard(&ctx, args, perms).await
        }
        Command::Audit(args) => crate::jobs::audit(&ctx, args).await,
        Command::History(args) => crate::jobs::history(&ctx, args).await,
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
        UsersCmd::Delete { ids: i, confirm } => {
            let ids = ids(i).await?;
            let change = Change {
                verb: "delete",
                noun: "user",
                target: String::new(),
                requests: Some(users.delete_requests(&ids).map_err(failure)?),
                items: ids,
            };
            if !confirm_change(ctx, "users delete", *confirm, &change.preview(), None).await? {
                return Ok(());
            }
            let p = ctx.progress(format!("deleting {} users", change.items.len()));
            let out = users.delete(change.items).await.map_err(failure)?;
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
        InvitesCmd::Create {
            emails: e,
            grants,
            confirm,
        } => {
            let (perms, texts) = permissions(matches, &grants.roles, &grants.resources, &[])?;
            let emails = emails(e).await?;
            let change = Change {
                verb: "send",
                noun: "invite",
                target: if texts.is_empty() {
                    String::new()
                } else {
                    format!("with {}", texts.join("; "))
                },
                items: emails,
                requests: None,
            };
            if !confirm_change(ctx, "invites create", *confirm, &change.preview(), None).await? {
                return Ok(());
            }
            let p = ctx.progress(format!("inviting {} people", change.items.len()));
            let batch = change.items.into_iter().map(|email| {
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
        InvitesCmd::Delete { emails: e, confirm } => {
            let emails = emails(e).await?;
            let change = Change {
                verb: "withdraw",
                noun: "invite",
                target: String::new(),
                requests: Some(invites.delete_requests(&emails).map_err(failure)?),
                items: emails,
            };
            if !confirm_change(ctx, "invites delete", *confirm, &change.preview(), None).await? {
                return Ok(());
            }
            let p = ctx.progress(format!("deleting {} invites", change.items.len()));
            let out = invites.delete(change.items).await.map_err(failure)?;
            drop(p);
            ctx.applied("deleted", "invite", out.applied, out.requests)
        }
    }
}

/// A change to one group (create, rename, delete): one request.
fn one_group(verb: &'static str, item: &str, target: String) -> Change {
    Change {
        verb,
        noun: "group",
        target,
        items: vec![item.to_string()],
        requests: Some(1),
    }
}

/// `groups ...`.
async fn groups(ctx: &Ctx, cmd: &GroupsCmd) -> Result<(), Failure> {
    let groups = ctx.client.groups();
    match cmd {
        GroupsCmd::List => ctx.list("listing groups", groups.list()).await,
        GroupsCmd::Get { id } => {
            let id = &ctx.group_id(id).await?;
            let _p = ctx.progress(format!("getting group {id}"));
            let group = groups.get(id.clone()).await.map_err(failure)?;
            ctx.one(&group)
        }
        GroupsCmd::Create { name, confirm } => {
            let preview = one_group("create", name, String::new()).preview();
            if !confirm_change(ctx, "groups create", *confirm, &preview, None).await? {
                return Ok(());
            }
            let _p = ctx.progress(format!("creating group {name}"));
            let group = groups.create(name.clone()).await.map_err(failure)?;
            ctx.one(&group)
        }
        GroupsCmd::Rename { id, name, confirm } => {
            let id = &ctx.group_id(id).await?;
            let preview = one_group("rename", id, format!("to {name:?}")).preview();
            if !confirm_change(ctx, "groups rename", *confirm, &preview, None).await? {
                return Ok(());
            }
            let _p = ctx.progress(format!("renaming group {id}"));
            let group = groups
                .rename(id.clone(), name.clone())
                .await
                .map_err(failure)?;
            ctx.one(&group)
        }
        GroupsCmd::Delete { id, confirm } => {
            let id = &ctx.group_id(id).await?;
            let preview = one_group("delete", id, String::new()).preview();
            if !confirm_change(ctx, "groups delete", *confirm, &preview, None).await? {
                return Ok(());
            }
            let p = ctx.progress(format!("deleting group {id}"));
            groups.delete(id.clone()).await.map_err(failure)?;
            drop(p);
            ctx.applied("deleted", "group", vec![id.clone()], 1)
        }
        GroupsCmd::Invites { id } => {
            let id = &ctx.group_id(id).await?;
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
            let id = &ctx.group_id(id).await?;
            ctx.list(
                &format!("listing members of group {id}"),
                groups.members(id.clone()),
            )
            .await
        }
        MembersCmd::Add(GroupEmails {
            id,
            emails: e,
            confirm,
        }) => {
            let id = &ctx.group_id(id).await?;
            let change = Change {
                verb: "add",
                noun: "member",
                target: format!("to group {id}"),
                items: emails(e).await?,
                requests: None,
            };
            let command = "groups members add";
            if !confirm_change(ctx, command, *confirm, &change.preview(), None).await? {
                return Ok(());
            }
            let n = change.items.len();
            let p = ctx.progress(format!("adding {n} members to group {id}"));
            let group = groups
                .add_members(id.clone(), change.items)
                .await
                .map_err(failure)?;
            drop(p);
            ctx.one(&group)
        }
        MembersCmd::Remove(GroupEmails {
            id,
            emails: e,
            confirm,
        }) => {
            let id = &ctx.group_id(id).await?;
            let emails = emails(e).await?;
            let change = Change {
                verb: "remove",
                noun: "member",
                target: format!("from group {id}"),
                requests: Some(
                    groups
                        .remove_members_requests(id, &emails)
                        .map_err(failure)?,
                ),
                items: emails,
            };
            let command = "groups members remove";
            if !confirm_change(ctx, command, *confirm, &change.preview(), None).await? {
                return Ok(());
            }
            let n = change.items.len();
            let p = ctx.progress(format!("removing {n} members from group {id}"));
            let out = groups
                .remove_members(id.clone(), change.items)
                .await
                .map_err(failure)?;
            drop(p);
            ctx.applied("removed", "member", out.applied, out.requests)
        }
        MembersCmd::Replace(GroupEmails {
            id,
            emails: e,
            confirm,
        }) => {
            let id = &ctx.group_id(id).await?;
            let change = Change {
                verb: "keep",
                noun: "member",
                target: format!("as the only members of group {id} (the others are removed)"),
                items: emails(e).await?,
                requests: None,
            };
            let command = "groups members replace";
            if !confirm_change(ctx, command, *confirm, &change.preview(), None).await? {
                return Ok(());
            }
            let n = change.items.len();
            let p = ctx.progress(format!("setting {n} members of group {id}"));
            let group = groups
                .replace_members(id.clone(), change.items)
                .await
                .map_err(failure)?;
            drop(p);
            ctx.one(&group)
        }
    }
}

/// `labels ...`: list, and the two changes, each one request behind the confirm path.
async fn labels(ctx: &Ctx, cmd: &LabelsCmd) -> Result<(), Failure> {
    let labels = ctx.client.labels();
    match cmd {
        LabelsCmd::List => {
            let p = ctx.progress("listing labels");
            let all = labels.list().await.map_err(failure)?;
            drop(p);
            ctx.many(all)
        }
        LabelsCmd::Create {
            label,
            description,
            confirm,
        } => {
            let change = Change {
                verb: "create",
                noun: "label",
                target: description
                    .as_ref()
                    .map(|d| format!("described as {d:?}"))
                    .unwrap_or_default(),
                items: vec![label.to_string()],
                requests: Some(1),
            };
            if !confirm_change(ctx, "labels create", *confirm, &change.preview(), None).await? {
                return Ok(());
            }
            let _p = ctx.progress(format!("creating label {label}"));
            let created = labels
                .create(label, description.as_deref())
                .await
                .map_err(failure)?;
            ctx.one(&created)
        }
        LabelsCmd::Delete { label, confirm } => {
            let change = Change {
                verb: "delete",
                noun: "label",
                target: String::new(),
                items: vec![label.to_string()],
                requests: Some(1),
            };
            if !confirm_change(ctx, "labels delete", *confirm, &change.preview(), None).await? {
                return Ok(());
            }
            let p = ctx.progress(format!("deleting label {label}"));
            labels
                .delete(label)
                .await
                .map_err(|e| label_delete_failure(label, e))?;
            drop(p);
            ctx.applied("deleted", "label", vec![label.to_string()], 1)
        }
    }
}

/// `permissions add|replace` for a user or a group.
async fn perms(ctx: &Ctx, cmd: &PermissionsCmd, matches: &ArgMatches) -> Result<(), Failure> {
    let (args, replace, command): (&PermissionArgs, bool, &str) = match cmd {
        PermissionsCmd::Add(a) => (a, false, "permissions add"),
        PermissionsCmd::Replace(a) => (a, true, "permissions replace"),
    };
    let (perms, texts) = permissions(matches, &args.roles, &args.resources, &args.labels)?;
    let group = match &args.subject.group {
        Some(given) if args.subject.user.is_none() => Some(ctx.group_id(given).await?),
        _ => None,
    };
    let subject = match (&args.subject.user, &group) {
        (Some(user), _) => format!("user {user}"),
        (None, Some(group)) => format!("group {group}"),
        (None, None) => return Err(Failure::usage("pass --user ID or --group ID")),
    };
    let change = Change {
        verb: if replace { "set" } else { "grant" },
        noun: "permission",
        target: if replace {
            format!("as every permission of {subject} (the others are removed)")
        } else {
            format!("to {subject}")
        },
        items: texts,
        requests: None,
    };
    if !confirm_change(ctx, command, args.confirm, &change.preview(), None).await? {
        return Ok(());
    }
    let verb = if replace { "replacing" } else { "adding" };
    let _p = ctx.progress(format!("{verb} permissions of {subject}"));
    let result = match (&args.subject.user, &group) {
        (Some(user), _) => {
            let users = ctx.client.users();
            if replace {
                users.replace_permissions(user.clone(), perms).await
            } else {
                users.add_permissions(user.clone(), perms).await
            }
        }
        (None, Some(group)) => {
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
}
