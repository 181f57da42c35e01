//! The command line, declared with clap's derive API: global options, then one subcommand per
//! IAM operation.
//!
//! Parsing only: nothing here talks to the network, so `Cli::try_parse_from` is unit tested.

use std::collections::BTreeSet;
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use clap::{Args, Parser, Subcommand, ValueEnum};

use segment_iam::guard::RemovalCap;
use segment_iam::{Label, Permission, Resource, ResourceType, label};

use crate::input::{parse_label, parse_resource};

/// The environment variable the token is read from when neither `--token` nor `--token-file`
/// is given (the same one the library reads).
pub const TOKEN_ENV: &str = "SEGMENT_PUBLIC_API_TOKEN";

/// `segment-iam`: manage the users, invites, user groups and permissions of a Segment
/// workspace through the Segment Public API.
#[derive(Debug, Parser)]
#[command(
    name = "segment-iam",
    version,
    about = "Manage Segment workspace users, invites, groups and permissions (Segment Public API, IAM)",
    after_help = "The token is read from --token, else --token-file, else the SEGMENT_PUBLIC_API_TOKEN \
                  environment variable.\n\nExit codes: 0 success, 1 the service refused or failed, \
                  2 usage or invalid input, 3 the workspace lacks the feature (no audit trail for \
                  history), 130 interrupted."
)]
pub struct Cli {
    /// Options shared by every command.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Options accepted before or after any subcommand (listed under their own heading so a
/// subcommand's help shows its own options first).
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Base URL of the API (e.g. a local emulator); overrides --region.
    #[arg(long, global = true, value_name = "URL")]
    pub base_url: Option<String>,

    /// Region of the workspace: us (api.segmentapis.com) or eu (eu1.api.segmentapis.com).
    #[arg(long, global = true, value_enum, default_value_t = RegionArg::Us)]
    pub region: RegionArg,

    /// API token. Discouraged: visible to other users in `ps` and shell history; prefer
    /// SEGMENT_PUBLIC_API_TOKEN or --token-file. Takes precedence over both.
    #[arg(long, global = true, value_name = "TOKEN")]
    pub token: Option<Secret>,

    /// Read the API token from this file (first non-blank line; `-` for stdin). Takes
    /// precedence over SEGMENT_PUBLIC_API_TOKEN.
    #[arg(long, global = true, value_name = "PATH")]
    pub token_file: Option<PathBuf>,

    /// Output format [default: table on a terminal, json otherwise].
    #[arg(long, short = 'o', global = true, value_enum)]
    pub output: Option<OutputFormat>,

    /// Items per page requested from the service (1..=1000; default 200).
    #[arg(long, global = true, value_name = "N",
          value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub page_size: Option<u32>,

    /// Trace requests on stderr (-v debug, -vv trace). The token is never printed.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// `--region`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RegionArg {
    /// US workspaces.
    Us,
    /// EU workspaces.
    Eu,
}

/// `--output`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Aligned columns for people.
    Table,
    /// Comma-separated values (RFC 4180), a header row first.
    Csv,
    /// One JSON document (a list command prints one array of all items across pages).
    Json,
    /// One JSON value per line, streamed as pages arrive.
    Ndjson,
}

/// A secret string whose `Debug` never shows the value, so logging the parsed command line
/// can never leak the token.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl FromStr for Secret {
    type Err = std::convert::Infallible;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(Secret(s.to_string()))
    }
}

/// The top-level subcommands, one per resource.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Users of the workspace.
    #[command(subcommand, visible_alias = "user")]
    Users(UsersCmd),
    /// Pending invites.
    #[command(subcommand, visible_alias = "invite")]
    Invites(InvitesCmd),
    /// User groups, their members and invites.
    #[command(subcommand, visible_alias = "group")]
    Groups(GroupsCmd),
    /// Grant permissions to a user or a group.
    #[command(subcommand, visible_alias = "perms")]
    Permissions(PermissionsCmd),
    /// Roles of the workspace (the names `--role` accepts).
    #[command(subcommand, visible_alias = "role")]
    Roles(RolesCmd),
    /// Labels of the workspace (`key:value`): they mark sources and narrow a permission on
    /// the workspace to the sources carrying them (`permissions add ... --label`).
    #[command(subcommand, visible_alias = "label")]
    Labels(LabelsCmd),
    /// Sources of the workspace with the labels they carry. Reads only.
    #[command(subcommand, visible_alias = "source")]
    Sources(SourcesCmd),
    /// The workspace the token belongs to (id, slug, name).
    Workspace,
    /// Remove people by email: delete their users and withdraw their pending invites, in the
    /// fewest requests (the service drops their group memberships itself). Shows the plan
    /// first; asks on a terminal, needs --yes otherwise (--dry-run: show only).
    Offboard(OffboardArgs),
    /// Give people access by email: a role (by name, on a resource, narrowed by labels) and
    /// groups (by name), inviting who is not a user yet, in the fewest requests; a re-run
    /// sends nothing. Shows the plan first; asks on a terminal, needs --yes otherwise
    /// (--dry-run: show only).
    #[command(after_help = ONBOARD_FILE_HELP)]
    Onboard(OnboardArgs),
    /// Who can reach what: one row per (email, path, role, resource), direct or through a
    /// group. Reads only.
    Audit(AuditArgs),
    /// Who changed what and when: the workspace's audit trail (IAM changes among others),
    /// newest first: time, type, actor, resource. Reads only. A workspace without the audit
    /// trail (a Business-tier feature of Segment) exits 3.
    History(HistoryArgs),
    /// Access as code: print the JSON Schema of the access file (for editors). Needs no
    /// token.
    Schema,
    /// Access as code: write the live workspace as an access file (YAML) to stdout or --file.
    /// Reads only.
    Export(ExportArgs),
    /// Access as code: show what `apply` would change to make the workspace match an access
    /// file. Reads only.
    #[command(after_help = PLAN_EXIT_CODES)]
    Plan(PlanArgs),
    /// Access as code: make the workspace match an access file (or carry out a saved plan).
    /// Shows the plan first; asks on a terminal, needs --yes otherwise (--dry-run: show only).
    Apply(ApplyArgs),
    /// Run the local emulator of the IAM API (for trying things out and tests).
    Emulator(EmulatorArgs),
}

/// `onboard --from-file`'s format, in its help.
pub const ONBOARD_FILE_HELP: &str = "--from-file PATH (- for stdin) is a CSV file with a header \
    row naming its columns: email (required), role, resource, labels, groups. One person and at \
    most one role per row (a person on several rows gets everything they ask); resource is \
    `workspace` or TYPE:ID (empty: workspace); labels and groups hold several values separated \
    by `;` (e.g. environment:prod;team:data and Analysts;Data Team). Blank lines and lines \
    starting with # are skipped. Example:\n\n  email,role,resource,labels,groups\n  \
    ana@example.com,Source Admin,workspace,environment:prod,Analysts;Data Team\n  \
    bo@example.com,Workspace Member,,,Analysts";

/// `plan`'s exit codes, in its help.
pub const PLAN_EXIT_CODES: &str = "Exit codes: 0 success, 1 the service refused or failed, 2 usage \
    or invalid input (a file error, with its line) or a guard refused, 130 interrupted.\n\
    With --detailed-exitcode: 0 no changes, 1 any error (usage and guard refusals included), \
    2 changes pending, 130 interrupted.";

/// `export` options.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// Write the file here instead of stdout (replaced if it exists).
    #[arg(long, short = 'f', value_name = "PATH")]
    pub file: Option<PathBuf>,
}

/// `plan` options.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// The access file (YAML; `segment-iam schema` prints its JSON Schema).
    #[arg(long, short = 'f', value_name = "FILE")]
    pub file: PathBuf,
    /// Also save the plan as JSON here, for `segment-iam apply PLAN.json`.
    #[arg(long, value_name = "PLAN.json")]
    pub out: Option<PathBuf>,
    /// Exit 0 when there is nothing to change, 2 when changes are pending, 1 on any error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Warn about entries whose `expires:` falls within this window (`14d`, `36h`, `2w`;
    /// `0d`: no warnings). Expired entries are removed whatever the window.
    #[arg(long, value_name = "DURATION", default_value = "7d", value_parser = crate::input::parse_window)]
    pub warn_expiring: std::time::Duration,
    /// Under each drifted step, the latest matching audit event: who changed it and when
    /// (reads the audit trail; a workspace without one gets a warning and the plan).
    #[arg(long)]
    pub explain: bool,
}

/// `apply` options: an access file (`-f`) or a saved plan (positional), not both.
#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("source").required(true).args(["file", "plan"])))]
pub struct ApplyArgs {
    /// The access file: plan against the live workspace, then apply.
    #[arg(long, short = 'f', value_name = "FILE")]
    pub file: Option<PathBuf>,
    /// A plan saved by `plan --out`: applied only if the workspace has not changed since.
    #[arg(value_name = "PLAN.json")]
    pub plan: Option<PathBuf>,
    /// `--yes`, `--dry-run`.
    #[command(flatten)]
    pub confirm: ConfirmArgs,
    /// Refuse a plan removing more than N things (members, users, invites, groups,
    /// permissions).
    #[arg(long, value_name = "N", default_value_t = segment_iam::guard::DEFAULT_MAX_REMOVALS)]
    pub max_removals: u64,
    /// No cap on removals (the plan is still shown, and asked about on a terminal).
    #[arg(long, conflicts_with = "max_removals")]
    pub no_removal_cap: bool,
    /// With `-f`: warn about entries whose `expires:` falls within this window (`14d`, `36h`,
    /// `2w`; `0d`: no warnings). Expired entries are removed whatever the window.
    #[arg(long, value_name = "DURATION", default_value = "7d", value_parser = crate::input::parse_window)]
    pub warn_expiring: std::time::Duration,
}

impl ApplyArgs {
    /// The removal cap the flags ask for (`--no-removal-cap` lifts it).
    pub fn removal_cap(&self) -> RemovalCap {
        if self.no_removal_cap {
            RemovalCap::off()
        } else {
            RemovalCap::at(self.max_removals)
        }
    }
}

/// `--yes` and `--dry-run`, flattened into every command that changes the workspace, so each
/// obeys the same confirm rules: `--dry-run` shows what would be sent and sends nothing,
/// `--yes` sends without asking, a terminal is asked, anything else is refused (exit 2).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Args)]
#[command(next_help_heading = "Confirmation")]
pub struct ConfirmArgs {
    /// Do it without asking (required when stdin is not a terminal).
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Show what would be sent and stop: nothing is sent (exit 0).
    #[arg(long)]
    pub dry_run: bool,
}

/// `roles ...`
#[derive(Debug, Subcommand)]
pub enum RolesCmd {
    /// List every role with its id, name and description.
    #[command(visible_alias = "ls")]
    List,
}

/// `labels ...`
#[derive(Debug, Subcommand)]
pub enum LabelsCmd {
    /// List every label of the workspace with its description.
    #[command(visible_alias = "ls")]
    List,
    /// Create a label.
    Create {
        /// The label, `key:value` (each part a letter first, then letters, digits, hyphens).
        #[arg(value_name = "LABEL", value_parser = parse_label)]
        label: Label,
        /// What the label means, shown beside it.
        #[arg(long, value_name = "TEXT")]
        description: Option<String>,
        /// `--yes`, `--dry-run`.
        #[command(flatten)]
        confirm: ConfirmArgs,
    },
    /// Delete a label. The service refuses to delete a label in use (on a source or a space,
    /// or narrowing a permission); labels cannot be renamed.
    #[command(visible_alias = "rm")]
    Delete {
        /// The label, `key:value`.
        #[arg(value_name = "LABEL", value_parser = parse_label)]
        label: Label,
        /// `--yes`, `--dry-run`.
        #[command(flatten)]
        confirm: ConfirmArgs,
    },
}

/// `sources ...`
#[derive(Debug, Subcommand)]
pub enum SourcesCmd {
    /// List every source (all pages): id, slug, name, whether enabled, its labels.
    #[command(visible_alias = "ls")]
    List,
}

/// `offboard` options.
#[derive(Debug, Args)]
pub struct OffboardArgs {
    /// Who leaves.
    #[command(flatten)]
    pub emails: Emails,
    /// `--yes`, `--dry-run`.
    #[command(flatten)]
    pub confirm: ConfirmArgs,
    /// Allow removing the last holder of "Workspace Owner" on the workspace.
    #[arg(long)]
    pub allow_owner_removal: bool,
}

/// `onboard` options: people as arguments (all given the same role and groups) or in a CSV
/// file (one person per row, see `ONBOARD_FILE_HELP`).
#[derive(Debug, Args)]
pub struct OnboardArgs {
    /// Who joins (they get the --role and --group options).
    #[arg(value_name = "EMAIL")]
    pub emails: Vec<String>,
    /// People from a CSV file (`-` for stdin): columns email, role, resource, labels, groups.
    #[arg(long, value_name = "PATH")]
    pub from_file: Option<PathBuf>,
    /// Role to grant, by name (case-insensitive, e.g. "Source Admin") or id; repeat for
    /// several roles. Each --resource belongs to the --role before it.
    #[arg(long = "role", value_name = "ROLE")]
    pub roles: Vec<String>,
    /// Resource the preceding --role applies to: `workspace` (the token's) or TYPE:ID. With
    /// one --role and no --resource: the workspace.
    #[arg(long = "resource", value_name = "RESOURCE", value_parser = parse_resource, requires = "roles")]
    pub resources: Vec<Resource>,
    /// Narrow the preceding --resource (the workspace) to the sources carrying this label,
    /// `key:value`; repeat for several: all of them (AND).
    #[arg(long = "label", value_name = "LABEL", value_parser = parse_label, requires = "resources")]
    pub labels: Vec<Label>,
    /// A group to add them to, by name (case-insensitive) or id; repeatable.
    #[arg(long = "group", value_name = "NAME_OR_ID")]
    pub groups: Vec<String>,
    /// `--yes`, `--dry-run`.
    #[command(flatten)]
    pub confirm: ConfirmArgs,
}

/// `history` filters (they combine with AND).
#[derive(Debug, Args)]
pub struct HistoryArgs {
    /// Only events from this point on: a duration back from now (90m, 12h, 7d, 2w), a date
    /// (2026-12-01, the start of that day UTC) or an RFC 3339 instant. Default: everything
    /// the service keeps (Segment: 90 days).
    #[arg(long, value_name = "WHEN")]
    pub since: Option<String>,
    /// Only events before this point (same forms as --since).
    #[arg(long, value_name = "WHEN")]
    pub until: Option<String>,
    /// Only events about this person (their user, or their pending invite) or made by them
    /// (the actor). Compared case-insensitively; matched on every event of the window, so
    /// narrow it with --since to read less.
    #[arg(long, value_name = "EMAIL")]
    pub email: Option<String>,
    /// Only events about this group (by id, or name compared case-insensitively); with
    /// --email, the ones that person made.
    #[arg(long, value_name = "NAME_OR_ID")]
    pub group: Option<String>,
}

/// `audit` filters.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Only these people (repeatable; compared case-insensitively).
    #[arg(long = "email", value_name = "EMAIL")]
    pub emails: Vec<String>,
    /// Only this role, by name (case-insensitive) or id.
    #[arg(long, value_name = "ROLE")]
    pub role: Option<String>,
    /// Only this resource: `workspace` (the token's) or TYPE:ID. `SOURCE:<id>` answers "who
    /// can reach this source": grants on the source itself, and grants on the workspace,
    /// plain or narrowed by labels the source carries.
    #[arg(long, value_name = "RESOURCE", value_parser = parse_resource)]
    pub resource: Option<Resource>,
    /// Only access through this group (by id, or name compared case-insensitively): reads
    /// only that group's listings; no direct access, no notes.
    #[arg(long, value_name = "NAME_OR_ID")]
    pub group: Option<String>,
}

impl Command {
    /// The `--yes` / `--dry-run` of a command that changes the workspace; `None` for one that
    /// only reads. The list of changing commands, in one place.
    pub fn confirm_args(&self) -> Option<ConfirmArgs> {
        match self {
            Command::Users(UsersCmd::Delete { confirm, .. })
            | Command::Invites(
                InvitesCmd::Create { confirm, .. } | InvitesCmd::Delete { confirm, .. },
            )
            | Command::Groups(
                GroupsCmd::Create { confirm, .. }
                | GroupsCmd::Rename { confirm, .. }
                | GroupsCmd::Delete { confirm, .. },
            ) => Some(*confirm),
            Command::Groups(GroupsCmd::Members(
                MembersCmd::Add(g) | MembersCmd::Remove(g) | MembersCmd::Replace(g),
            )) => Some(g.confirm),
            Command::Permissions(PermissionsCmd::Add(p) | PermissionsCmd::Replace(p)) => {
                Some(p.confirm)
            }
            Command::Labels(
                LabelsCmd::Create { confirm, .. } | LabelsCmd::Delete { confirm, .. },
            ) => Some(*confirm),
            Command::Offboard(args) => Some(args.confirm),
            Command::Onboard(args) => Some(args.confirm),
            Command::Apply(args) => Some(args.confirm),
            Command::Users(_)
            | Command::Invites(_)
            | Command::Groups(_)
            | Command::Roles(_)
            | Command::Labels(LabelsCmd::List)
            | Command::Sources(_)
            | Command::Workspace
            | Command::Audit(_)
            | Command::History(_)
            | Command::Schema
            | Command::Export(_)
            | Command::Plan(_)
            | Command::Emulator(_) => None,
        }
    }

    /// Whether the command may change the workspace (a change not under `--dry-run`): an
    /// interrupted change may be partly applied, and the operator should be told so.
    pub fn is_mutation(&self) -> bool {
        self.confirm_args().is_some_and(|c| !c.dry_run)
    }
}

/// `users ...`
#[derive(Debug, Subcommand)]
pub enum UsersCmd {
    /// List every user (all pages).
    #[command(visible_alias = "ls")]
    List,
    /// Show one user with their permissions.
    Get {
        /// User id.
        id: String,
    },
    /// Delete users (batched; at most a few requests).
    #[command(visible_alias = "rm")]
    Delete {
        /// Who.
        #[command(flatten)]
        ids: Ids,
        /// `--yes`, `--dry-run`.
        #[command(flatten)]
        confirm: ConfirmArgs,
    },
    /// List the groups a user belongs to.
    Groups {
        /// User id.
        id: String,
    },
    /// Find users by email, in one pass over the list (case-insensitive); emails that match
    /// nobody are reported, not an error.
    Find(Emails),
}

/// `invites ...`
#[derive(Debug, Subcommand)]
pub enum InvitesCmd {
    /// List every pending invite (emails).
    #[command(visible_alias = "ls")]
    List,
    /// Invite people by email, optionally with permissions.
    Create {
        /// Who to invite.
        #[command(flatten)]
        emails: Emails,
        /// Permissions the invites carry.
        #[command(flatten)]
        grants: OptionalGrants,
        /// `--yes`, `--dry-run`.
        #[command(flatten)]
        confirm: ConfirmArgs,
    },
    /// Withdraw invites.
    #[command(visible_alias = "rm")]
    Delete {
        /// Whose.
        #[command(flatten)]
        emails: Emails,
        /// `--yes`, `--dry-run`.
        #[command(flatten)]
        confirm: ConfirmArgs,
    },
    /// Find pending invites by email (case-insensitive); emails with none are reported.
    Find(Emails),
}

/// `groups ...`
#[derive(Debug, Subcommand)]
pub enum GroupsCmd {
    /// List every user group.
    #[command(visible_alias = "ls")]
    List,
    /// Show one group with its permissions.
    Get {
        /// Group id, or name (case-insensitive).
        id: String,
    },
    /// Create a group.
    Create {
        /// Name of the new group.
        name: String,
        /// `--yes`, `--dry-run`.
        #[command(flatten)]
        confirm: ConfirmArgs,
    },
    /// Rename a group.
    Rename {
        /// Group id, or name (case-insensitive).
        id: String,
        /// New name.
        name: String,
        /// `--yes`, `--dry-run`.
        #[command(flatten)]
        confirm: ConfirmArgs,
    },
    /// Delete a group.
    #[command(visible_alias = "rm")]
    Delete {
        /// Group id, or name (case-insensitive).
        id: String,
        /// `--yes`, `--dry-run`.
        #[command(flatten)]
        confirm: ConfirmArgs,
    },
    /// Members of a group.
    #[command(subcommand, visible_alias = "member")]
    Members(MembersCmd),
    /// List the pending invites of a group.
    Invites {
        /// Group id, or name (case-insensitive).
        id: String,
    },
}

/// `groups members ...`
#[derive(Debug, Subcommand)]
pub enum MembersCmd {
    /// List the members of a group.
    #[command(visible_alias = "ls")]
    List {
        /// Group id, or name (case-insensitive).
        id: String,
    },
    /// Add users (or invitees) to a group by email.
    Add(GroupEmails),
    /// Remove users from a group by email.
    #[command(visible_alias = "rm")]
    Remove(GroupEmails),
    /// Make these emails the group's exact membership.
    Replace(GroupEmails),
}

/// `permissions ...`
#[derive(Debug, Subcommand)]
pub enum PermissionsCmd {
    /// Add permissions to a user or group (keeps existing ones).
    Add(PermissionArgs),
    /// Replace all permissions of a user or group with these.
    Replace(PermissionArgs),
}

/// A list of ids: arguments and/or `--from-file`.
#[derive(Debug, Args)]
pub struct Ids {
    /// Ids (more may come from --from-file).
    #[arg(value_name = "ID")]
    pub values: Vec<String>,
    /// Read ids from a file, one per line (`-` for stdin; blank lines and # comments ignored).
    #[arg(long, value_name = "PATH")]
    pub from_file: Option<PathBuf>,
}

/// A list of emails: arguments and/or `--from-file`.
#[derive(Debug, Args)]
pub struct Emails {
    /// Emails (more may come from --from-file).
    #[arg(value_name = "EMAIL")]
    pub values: Vec<String>,
    /// Read emails from a file, one per line (`-` for stdin; blank lines and # comments ignored).
    #[arg(long, value_name = "PATH")]
    pub from_file: Option<PathBuf>,
}

/// A group (id or name) followed by emails.
#[derive(Debug, Args)]
pub struct GroupEmails {
    /// Group id, or name (case-insensitive).
    pub id: String,
    /// The emails.
    #[command(flatten)]
    pub emails: Emails,
    /// `--yes`, `--dry-run`.
    #[command(flatten)]
    pub confirm: ConfirmArgs,
}

/// Optional `--role R --resource T:ID ...` groups (for invites).
#[derive(Debug, Args)]
pub struct OptionalGrants {
    /// Role to grant, by name (case-insensitive, e.g. "Source Admin") or id; repeat for several
    /// roles. Each --resource belongs to the --role before it.
    #[arg(long = "role", value_name = "ROLE")]
    pub roles: Vec<String>,
    /// Resource the preceding --role applies to: `workspace` (the token's) or TYPE:ID (e.g.
    /// SOURCE:qQEHquLrjRDN9j1ByrChyn).
    #[arg(long = "resource", value_name = "RESOURCE", value_parser = parse_resource, requires = "roles")]
    pub resources: Vec<Resource>,
}

/// Who receives permissions, and which.
#[derive(Debug, Args)]
pub struct PermissionArgs {
    /// The subject.
    #[command(flatten)]
    pub subject: Subject,
    /// Role to grant, by name (case-insensitive, e.g. "Workspace Owner") or id; repeat for
    /// several roles. Each --resource belongs to the --role before it.
    #[arg(long = "role", value_name = "ROLE", required = true)]
    pub roles: Vec<String>,
    /// Resource the preceding --role applies to: `workspace` (the token's) or TYPE:ID (e.g.
    /// SOURCE:qQEHquLrjRDN9j1ByrChyn).
    #[arg(long = "resource", value_name = "RESOURCE", value_parser = parse_resource, required = true)]
    pub resources: Vec<Resource>,
    /// Narrow the preceding --resource (the workspace) to the sources carrying this label,
    /// `key:value` (e.g. environment:prod); repeat for several: all of them (AND).
    #[arg(long = "label", value_name = "LABEL", value_parser = parse_label)]
    pub labels: Vec<Label>,
    /// `--yes`, `--dry-run`.
    #[command(flatten)]
    pub confirm: ConfirmArgs,
}

/// Exactly one of `--user ID` or `--group ID`.
#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub struct Subject {
    /// Grant to this user id.
    #[arg(long, value_name = "ID")]
    pub user: Option<String>,
    /// Grant to this group, by id or name (case-insensitive).
    #[arg(long, value_name = "ID_OR_NAME")]
    pub group: Option<String>,
}

/// `emulator` options. The token comes from the global --token / --token-file /
/// SEGMENT_PUBLIC_API_TOKEN, so one exported variable serves both the emulator and the client.
#[derive(Debug, Args)]
pub struct EmulatorArgs {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Users to create at start.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed_users: usize,
    /// Groups to create at start.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed_groups: usize,
    /// Invites to create at start.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed_invites: usize,
    /// Sources to create at start, labelled environment:prod and environment:dev in turn.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed_sources: usize,
    /// Seed of the random generator (same seed, same data).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Mutations allowed per token per minute (the service allows 60); lower it to see how
    /// scripts behave when rate limited.
    #[arg(long, value_name = "N")]
    pub mutation_limit: Option<u32>,
    /// Delay every list page by this many milliseconds (to try progress output and timeouts).
    #[arg(long, value_name = "MS")]
    pub list_delay_ms: Option<u64>,
    /// Also accept TOKEN as EMAIL's (repeatable): the audit trail (`history`) records the
    /// changes made with it as by EMAIL. Changes made with the main token are by
    /// `emulator@segment.local`.
    #[arg(long, value_name = "TOKEN=EMAIL", value_parser = parse_token_owner)]
    pub token_for: Vec<(String, String)>,
    /// Model a workspace without the audit trail (a Business-tier feature): `history` exits 3.
    #[arg(long)]
    pub no_audit_trail: bool,
    /// Accept a group created or renamed to a name another group has, as a service that lets
    /// two racing creations of one name both succeed would (to try overlapping applies).
    #[arg(long)]
    pub allow_duplicate_group_names: bool,
}

/// `TOKEN=EMAIL`, split at the last `=`.
fn parse_token_owner(text: &str) -> Result<(String, String), String> {
    match text.rsplit_once('=') {
        Some((token, email))
            if !token.is_empty() && segment_iam_emulator::is_valid_email(email) =>
        {
            Ok((token.to_string(), email.to_string()))
        }
        _ => Err(format!("expected TOKEN=EMAIL, got {text:?}")),
    }
}

/// One `--resource` and the `--label`s written after it (none: the plain grant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceArg {
    /// The resource.
    pub resource: Resource,
    /// The labels narrowing it.
    pub labels: BTreeSet<Label>,
}

impl fmt::Display for ResourceArg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.labels.is_empty() {
            write!(f, "{}", self.resource)
        } else {
            write!(
                f,
                "{} narrowed by {}",
                self.resource,
                label::joined(&self.labels)
            )
        }
    }
}

/// One `--role` and the resources written for it, as the command line pairs them: what
/// becomes one facade [`Permission`] (compared and counted as the facade's `Grant`s).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleArg {
    /// The role, by name or id as written (the facade resolves it).
    pub role: String,
    /// Its resources, each with its labels.
    pub resources: Vec<ResourceArg>,
}

impl RoleArg {
    /// The facade permission to send: the role on each resource, narrowed by its labels.
    pub fn permission(&self) -> Permission {
        self.resources
            .iter()
            .fold(Permission::role(self.role.clone()), |p, r| {
                p.on_narrowed(r.resource.clone(), r.labels.iter().cloned())
            })
    }
}

impl fmt::Display for RoleArg {
    /// `ROLE on RESOURCE, RESOURCE narrowed by LABEL&LABEL`, for previews.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let on: Vec<String> = self.resources.iter().map(ToString::to_string).collect();
        write!(f, "{} on {}", self.role, on.join(", "))
    }
}

/// Repeated values of one option and where each was written on the command line (clap's
/// indices: derive alone loses the interleaving of different options).
#[derive(Debug, Clone, Copy)]
pub struct Placed<'a, T> {
    /// The values, in order.
    pub values: &'a [T],
    /// The index of each value on the command line.
    pub at: &'a [usize],
}

impl<'a, T> Placed<'a, T> {
    /// `values` written at `at`.
    pub fn new(values: &'a [T], at: &'a [usize]) -> Self {
        Placed { values, at }
    }

    /// The position in `values` of the last one written before index `at`.
    fn last_before(&self, at: usize) -> Option<usize> {
        self.at.iter().rposition(|i| *i < at)
    }
}

/// Pairs `--resource` values with the `--role` that precedes each, and `--label` values with
/// the `--resource` that precedes each. With a single `--role`, every resource belongs to it
/// wherever it was written; a resource before the first of several roles is ambiguous and
/// refused, and so is a label before any resource. Labels narrow only the workspace.
pub fn pair_grants(
    roles: Placed<'_, String>,
    resources: Placed<'_, Resource>,
    labels: Placed<'_, Label>,
) -> Result<Vec<RoleArg>, String> {
    let mut narrowed: Vec<ResourceArg> = resources
        .values
        .iter()
        .map(|r| ResourceArg {
            resource: r.clone(),
            labels: BTreeSet::new(),
        })
        .collect();
    for (label, at) in labels.values.iter().zip(labels.at) {
        let Some(target) = resources.last_before(*at).and_then(|i| narrowed.get_mut(i)) else {
            return Err(format!(
                "--label {label} comes before any --resource; write each --label after the \
                 --resource it narrows (e.g. --resource workspace --label {label})"
            ));
        };
        if !narrows(&target.resource) {
            return Err(format!(
                "--label {label} follows --resource {}, but labels narrow only a permission on \
                 the workspace (--resource workspace)",
                target.resource
            ));
        }
        target.labels.insert(label.clone());
    }
    let mut grants: Vec<RoleArg> = roles
        .values
        .iter()
        .map(|r| RoleArg {
            role: r.clone(),
            resources: Vec::new(),
        })
        .collect();
    if grants.len() == 1 {
        if let Some(g) = grants.first_mut() {
            g.resources = narrowed;
        }
        return Ok(grants);
    }
    for (res, at) in narrowed.into_iter().zip(resources.at) {
        match roles.last_before(*at).and_then(|i| grants.get_mut(i)) {
            Some(g) => g.resources.push(res),
            None => {
                return Err(format!(
                    "--resource {} comes before any --role; with several roles, write each \
                     --resource after the --role it belongs to",
                    res.resource
                ));
            }
        }
    }
    Ok(grants)
}

/// Whether labels can narrow a permission on `resource`: only on the workspace.
fn narrows(resource: &Resource) -> bool {
    match resource {
        Resource::ThisWorkspace => true,
        Resource::Given(kind, _) => *kind == ResourceType::Workspace,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("segment-iam").chain(args.iter().copied()))
    }

    #[test]
    fn definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn globals_anywhere() -> Result<(), clap::Error> {
        let cli = parse(&[
            "users",
            "list",
            "--output",
            "ndjson",
            "--page-size",
            "5",
            "-vv",
        ])?;
        assert_eq!(cli.global.output, Some(OutputFormat::Ndjson));
        assert_eq!(cli.global.page_size, Some(5));
        assert_eq!(cli.global.verbose, 2);
        assert_eq!(cli.global.region, RegionArg::Us);
        let cli = parse(&["--region", "eu", "groups", "ls"])?;
        assert_eq!(cli.global.region, RegionArg::Eu);
        Ok(())
    }

    #[test]
    fn page_size_range() {
        assert!(parse(&["users", "list", "--page-size", "0"]).is_err());
        assert!(parse(&["users", "list", "--page-size", "1001"]).is_err());
        assert!(parse(&["users", "list", "--page-size", "1000"]).is_ok());
    }

    #[test]
    fn token_debug_is_redacted() -> Result<(), clap::Error> {
        let cli = parse(&["--token", "hunter2", "users", "list"])?;
        assert!(!format!("{cli:?}").contains("hunter2"));
        Ok(())
    }

    #[test]
    fn shapes() -> Result<(), clap::Error> {
        parse(&["users", "get", "u1"])?;
        parse(&["users", "delete", "u1", "u2"])?;
        parse(&["users", "delete", "--from-file", "-"])?;
        parse(&["users", "groups", "u1"])?;
        parse(&["invites", "list"])?;
        parse(&[
            "invites",
            "create",
            "a@x.com",
            "--role",
            "r",
            "--resource",
            "workspace:w",
        ])?;
        parse(&["invites", "delete", "a@x.com"])?;
        parse(&["groups", "create", "Eng"])?;
        parse(&["groups", "rename", "g1", "Eng 2"])?;
        parse(&["groups", "delete", "g1"])?;
        parse(&["groups", "members", "list", "g1"])?;
        parse(&["groups", "members", "add", "g1", "a@x.com"])?;
        parse(&["groups", "members", "remove", "g1", "--from-file", "-"])?;
        parse(&["groups", "members", "replace", "g1", "a@x.com", "b@x.com"])?;
        parse(&["groups", "invites", "g1"])?;
        parse(&[
            "permissions",
            "add",
            "--user",
            "u1",
            "--role",
            "r",
            "--resource",
            "SOURCE:s",
        ])?;
        parse(&[
            "permissions",
            "replace",
            "--group",
            "g",
            "--role",
            "r",
            "--resource",
            "SPACE:s",
        ])?;
        parse(&[
            "emulator",
            "--port",
            "0",
            "--token",
            "t",
            "--seed-users",
            "3",
        ])?;
        Ok(())
    }

    #[test]
    fn usage_errors() {
        // Both subjects, or neither.
        assert!(
            parse(&[
                "permissions",
                "add",
                "--user",
                "u",
                "--group",
                "g",
                "--role",
                "r",
                "--resource",
                "SOURCE:s"
            ])
            .is_err()
        );
        assert!(
            parse(&[
                "permissions",
                "add",
                "--role",
                "r",
                "--resource",
                "SOURCE:s"
            ])
            .is_err()
        );
        // A resource needs a role.
        assert!(parse(&["invites", "create", "a@x.com", "--resource", "SOURCE:s"]).is_err());
        // Bad resource.
        assert!(
            parse(&[
                "permissions",
                "add",
                "--user",
                "u",
                "--role",
                "r",
                "--resource",
                "nope"
            ])
            .is_err()
        );
        assert!(parse(&["users", "get"]).is_err());
        assert!(parse(&["--output", "yaml", "users", "list"]).is_err());
    }

    #[test]
    fn mutations_are_known() -> Result<(), clap::Error> {
        assert!(!parse(&["users", "list"])?.command.is_mutation());
        assert!(
            !parse(&["groups", "members", "list", "g"])?
                .command
                .is_mutation()
        );
        assert!(
            parse(&["groups", "members", "add", "g", "a@x.com"])?
                .command
                .is_mutation()
        );
        assert!(parse(&["users", "delete", "u"])?.command.is_mutation());
        assert!(
            parse(&["invites", "create", "a@x.com"])?
                .command
                .is_mutation()
        );
        Ok(())
    }

    #[test]
    fn every_changing_command_takes_yes_and_dry_run() -> Result<(), clap::Error> {
        let changing: &[&[&str]] = &[
            &["users", "delete", "u"],
            &["invites", "create", "a@x.com"],
            &["invites", "delete", "a@x.com"],
            &["groups", "create", "Eng"],
            &["groups", "rename", "g", "Eng 2"],
            &["groups", "delete", "g"],
            &["groups", "members", "add", "g", "a@x.com"],
            &["groups", "members", "remove", "g", "a@x.com"],
            &["groups", "members", "replace", "g", "a@x.com"],
            &[
                "permissions",
                "add",
                "--user",
                "u",
                "--role",
                "r",
                "--resource",
                "workspace",
            ],
            &[
                "permissions",
                "replace",
                "--group",
                "g",
                "--role",
                "r",
                "--resource",
                "workspace",
            ],
            &["offboard", "a@x.com"],
            &["onboard", "a@x.com", "--group", "Analysts"],
            &["apply", "-f", "a.yaml"],
            &["labels", "create", "region:emea"],
            &["labels", "delete", "region:emea"],
        ];
        let with = |args: &[&str], flag: &'static str| -> Result<Command, clap::Error> {
            let all: Vec<&str> = args.iter().copied().chain([flag]).collect();
            Ok(parse(&all)?.command)
        };
        for args in changing {
            let plain = parse(args)?.command;
            assert_eq!(
                plain.confirm_args(),
                Some(ConfirmArgs::default()),
                "{args:?}"
            );
            assert!(plain.is_mutation(), "{args:?}");
            let yes = with(args, "--yes")?;
            assert!(
                yes.confirm_args().is_some_and(|c| c.yes && !c.dry_run),
                "{args:?}"
            );
            assert!(
                with(args, "-y")?.confirm_args().is_some_and(|c| c.yes),
                "{args:?}"
            );
            let dry = with(args, "--dry-run")?;
            assert!(dry.confirm_args().is_some_and(|c| c.dry_run), "{args:?}");
            assert!(!dry.is_mutation(), "a dry run changes nothing: {args:?}");
        }
        // No other command takes them: the list above is every changing command.
        fn taking_dry_run(cmd: &clap::Command) -> usize {
            let own = usize::from(cmd.get_arguments().any(|a| a.get_id() == "dry_run"));
            own + cmd.get_subcommands().map(taking_dry_run).sum::<usize>()
        }
        assert_eq!(taking_dry_run(&Cli::command()), changing.len());
        Ok(())
    }

    #[test]
    fn access_as_code_shapes() -> Result<(), clap::Error> {
        assert!(matches!(parse(&["schema"])?.command, Command::Schema));
        let cli = parse(&["export", "--file", "a.yaml"])?;
        assert!(matches!(
            cli.command,
            Command::Export(ExportArgs { file: Some(_) })
        ));
        let cli = parse(&[
            "plan",
            "-f",
            "a.yaml",
            "--out",
            "p.json",
            "--detailed-exitcode",
        ])?;
        match cli.command {
            Command::Plan(args) => {
                assert!(args.detailed_exitcode);
                assert_eq!(args.out.as_deref(), Some(std::path::Path::new("p.json")));
            }
            other => panic!("{other:?}"),
        }
        assert!(parse(&["plan"]).is_err(), "plan needs -f");
        let cli = parse(&["apply", "-f", "a.yaml", "--yes"])?;
        assert!(cli.command.is_mutation());
        match cli.command {
            Command::Apply(args) => {
                assert!(args.confirm.yes && args.plan.is_none() && !args.no_removal_cap);
                assert_eq!(args.removal_cap(), RemovalCap::default());
            }
            other => panic!("{other:?}"),
        }
        match parse(&["apply", "p.json", "--no-removal-cap"])?.command {
            Command::Apply(args) => {
                assert!(args.plan.is_some() && args.no_removal_cap);
                assert_eq!(args.removal_cap(), RemovalCap::off());
            }
            other => panic!("{other:?}"),
        }
        assert!(parse(&["apply"]).is_err(), "a file or a plan");
        assert!(
            parse(&["apply", "-f", "a.yaml", "p.json"]).is_err(),
            "not both"
        );
        assert!(parse(&["apply", "p.json", "--max-removals", "3", "--no-removal-cap"]).is_err());
        assert!(!parse(&["plan", "-f", "a.yaml"])?.command.is_mutation());
        assert!(!parse(&["export"])?.command.is_mutation());
        Ok(())
    }

    fn res(kind: &str, id: &str) -> Resource {
        Resource::Given(kind.into(), id.into())
    }

    fn plain(resource: Resource) -> ResourceArg {
        ResourceArg {
            resource,
            labels: BTreeSet::new(),
        }
    }

    fn label(text: &str) -> Label {
        text.parse().expect("a well-formed label")
    }

    const NO_LABELS: Placed<'static, Label> = Placed {
        values: &[],
        at: &[],
    };

    #[test]
    fn grants_pair_by_position() {
        let roles = vec!["r1".to_string(), "r2".to_string()];
        let resources = vec![res("SOURCE", "a"), res("SPACE", "b"), res("WORKSPACE", "c")];
        let got = pair_grants(
            Placed::new(&roles, &[1, 5]),
            Placed::new(&resources, &[3, 7, 9]),
            NO_LABELS,
        );
        assert_eq!(
            got,
            Ok(vec![
                RoleArg {
                    role: "r1".into(),
                    resources: vec![plain(res("SOURCE", "a"))]
                },
                RoleArg {
                    role: "r2".into(),
                    resources: vec![plain(res("SPACE", "b")), plain(res("WORKSPACE", "c"))]
                },
            ])
        );
        // A single role takes everything, even resources written before it.
        let got = pair_grants(
            Placed::new(&roles[..1], &[5]),
            Placed::new(&resources[..1], &[1]),
            NO_LABELS,
        );
        assert_eq!(got.map(|g| g.len()), Ok(1));
        // Ambiguous with several roles.
        assert!(
            pair_grants(
                Placed::new(&roles, &[3, 5]),
                Placed::new(&resources[..1], &[1]),
                NO_LABELS
            )
            .is_err()
        );
    }

    #[test]
    fn labels_narrow_the_resource_written_before_them() {
        let roles = vec!["Source Admin".to_string(), "Source Read-only".to_string()];
        let resources = vec![Resource::ThisWorkspace, res("WORKSPACE", "w")];
        let labels = vec![
            label("environment:prod"),
            label("region:emea"),
            label("environment:dev"),
        ];
        // --role A --resource workspace --label prod --label emea --role B --resource
        // WORKSPACE:w --label dev
        let got = pair_grants(
            Placed::new(&roles, &[1, 9]),
            Placed::new(&resources, &[3, 11]),
            Placed::new(&labels, &[5, 7, 13]),
        )
        .expect("pairs");
        assert_eq!(got.len(), 2);
        assert_eq!(
            got[0].resources,
            vec![ResourceArg {
                resource: Resource::ThisWorkspace,
                labels: [label("environment:prod"), label("region:emea")].into(),
            }]
        );
        assert_eq!(
            got[1].resources[0].labels,
            [label("environment:dev")].into()
        );
        assert_eq!(
            got[0].to_string(),
            "Source Admin on workspace narrowed by environment:prod&region:emea"
        );
        assert_eq!(
            got[1].to_string(),
            "Source Read-only on WORKSPACE:w narrowed by environment:dev"
        );
        // The permission carries the labels on its resource.
        assert_eq!(got[0].permission().role_id(), "Source Admin");

        // A label before any resource is refused, naming it.
        let err = pair_grants(
            Placed::new(&roles[..1], &[1]),
            Placed::new(&resources[..1], &[5]),
            Placed::new(&labels[..1], &[3]),
        )
        .expect_err("refused");
        assert!(
            err.contains("--label environment:prod comes before any --resource"),
            "{err}"
        );
        // Labels narrow only the workspace.
        let err = pair_grants(
            Placed::new(&roles[..1], &[1]),
            Placed::new(&[res("SOURCE", "s")], &[3]),
            Placed::new(&labels[..1], &[5]),
        )
        .expect_err("refused");
        assert!(err.contains("only a permission on the workspace"), "{err}");
    }

    #[test]
    fn label_flags_parse_and_malformed_ones_are_refused() -> Result<(), clap::Error> {
        let cli = parse(&[
            "permissions",
            "add",
            "--user",
            "u",
            "--role",
            "Source Admin",
            "--resource",
            "workspace",
            "--label",
            "environment:prod",
            "--label",
            "region:emea",
        ])?;
        match cli.command {
            Command::Permissions(PermissionsCmd::Add(args)) => {
                assert_eq!(
                    args.labels,
                    vec![label("environment:prod"), label("region:emea")]
                );
            }
            other => panic!("{other:?}"),
        }
        let bad = parse(&[
            "permissions",
            "add",
            "--user",
            "u",
            "--role",
            "r",
            "--resource",
            "workspace",
            "--label",
            "env:prod_1",
        ])
        .expect_err("malformed");
        assert_eq!(bad.kind(), clap::error::ErrorKind::ValueValidation);
        assert!(bad.to_string().contains("label value"), "{bad}");
        let cli = parse(&["labels", "create", "region:emea", "--description", "EU"])?;
        match cli.command {
            Command::Labels(LabelsCmd::Create {
                label: l,
                description,
                ..
            }) => {
                assert_eq!(l, label("region:emea"));
                assert_eq!(description.as_deref(), Some("EU"));
            }
            other => panic!("{other:?}"),
        }
        assert!(parse(&["labels", "delete", "nocolon"]).is_err());
        assert!(parse(&["labels", "rm", "environment:dev"]).is_ok());
        assert!(!parse(&["labels", "ls"])?.command.is_mutation());
        assert!(!parse(&["sources", "list"])?.command.is_mutation());
        Ok(())
    }
}
