//! End-to-end tests of access as code (`schema`, `export`, `plan`, `apply`) through the real
//! binary against an emulator started in this process, as tests/cli.rs does: what the commands
//! print and exit with, and what the emulator's state, journal and audit trail say was sent.
//! The crash test SIGKILLs `apply` at several points, each reached by waiting on an event of the
//! emulator (the journal or the audit trail), never on a sleep.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use segment_iam_emulator::{Emulator, EmulatorHandle, Fault, JournalEntry, Operation};
use segment_iam_sync::AccessFile;
use segment_iam_sync::file::{GroupEntry, Member, PermissionEntry, Text, UserEntry};
use serde_json::Value;

const TOKEN: &str = "sgp_sync-test-TOKEN-8d2e51";
const BIN: &str = env!("CARGO_BIN_EXE_segment-iam");

/// How long any awaited event may take before the test fails (a bound, not a margin: every
/// wait returns as soon as its event happens).
const EVENT_LIMIT: Duration = Duration::from_secs(60);

/// An emulator running on its own runtime for the duration of one test.
struct Emu {
    rt: tokio::runtime::Runtime,
    handle: Option<EmulatorHandle>,
    dir: tempfile::TempDir,
}

impl Emu {
    /// 8 users (user1 is the seeded Workspace Owner), 2 groups, 1 pending invite.
    fn start() -> Emu {
        Self::with(|b| b)
    }

    fn with(
        f: impl FnOnce(segment_iam_emulator::EmulatorBuilder) -> segment_iam_emulator::EmulatorBuilder,
    ) -> Emu {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let builder = f(Emulator::builder()
            .token(TOKEN)
            .seed(42)
            .users(8)
            .groups(2)
            .invites(1));
        let handle = rt.block_on(builder.start()).expect("emulator starts");
        Emu {
            rt,
            handle: Some(handle),
            dir: tempfile::tempdir().expect("tempdir"),
        }
    }

    fn h(&self) -> &EmulatorHandle {
        self.handle.as_ref().expect("running")
    }

    /// The binary pointed at this emulator, token in the environment.
    fn cmd(&self) -> Command {
        let mut c = Command::new(BIN);
        c.env_clear()
            .env("SEGMENT_PUBLIC_API_TOKEN", TOKEN)
            .arg("--base-url")
            .arg(self.h().base_url())
            .timeout(Duration::from_secs(120));
        c
    }

    /// A path in this test's directory.
    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// `export` into a file, parsed.
    fn export(&self, name: &str) -> (PathBuf, AccessFile) {
        let path = self.path(name);
        self.cmd()
            .arg("export")
            .arg("--file")
            .arg(&path)
            .assert()
            .success();
        let text = std::fs::read_to_string(&path).expect("exported");
        let file = AccessFile::parse(&text).expect("the export parses");
        (path, file)
    }

    /// Mutations that reached the service, in order.
    fn mutations(&self) -> Vec<JournalEntry> {
        self.h()
            .journal()
            .into_iter()
            .filter(|e| e.method != "GET")
            .collect()
    }

    /// Mutations applied.
    fn applied_mutations(&self) -> usize {
        self.mutations().iter().filter(|e| e.applied).count()
    }
}

impl Drop for Emu {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            self.rt.block_on(h.shutdown());
        }
    }
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn json(stdout: &[u8]) -> Value {
    serde_json::from_slice(stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(stdout)
        )
    })
}

fn write(path: &Path, file: &AccessFile) {
    std::fs::write(path, file.to_yaml().expect("writes")).expect("write the file");
}

fn perm(role: &str, resource: &str) -> PermissionEntry {
    PermissionEntry::new(role, [resource.to_string()])
}

fn group(members: &[&str], permissions: Vec<PermissionEntry>) -> GroupEntry {
    let mut g = GroupEntry::default();
    g.members = members.iter().map(|m| Member::new(*m)).collect();
    g.permissions = permissions;
    g
}

/// Sets the direct permissions of a listed user.
fn set_user(file: &mut AccessFile, email: &str, permissions: Vec<PermissionEntry>) {
    let entry = file
        .users
        .0
        .iter_mut()
        .find(|(e, _)| e.value == email)
        .unwrap_or_else(|| panic!("{email} is in the file"));
    entry.1.permissions = permissions;
}

/// A file in a form where order, case and how permissions are split do not matter: users by
/// email with their (role, resource) pairs, groups by name with their members and pairs.
type Pairs = BTreeSet<(String, String)>;
/// [`normalised`]: users, then groups with their members and pairs.
type Normal = (
    BTreeMap<String, Pairs>,
    BTreeMap<String, (BTreeSet<String>, Pairs)>,
);
fn normalised(file: &AccessFile) -> Normal {
    let pairs = |permissions: &[PermissionEntry]| -> Pairs {
        permissions
            .iter()
            .flat_map(|p| {
                p.resources
                    .iter()
                    .map(|r| (p.role.value.to_lowercase(), r.value.to_lowercase()))
            })
            .collect()
    };
    let users = file
        .users
        .iter()
        .map(|(e, u)| (e.value.to_lowercase(), pairs(&u.permissions)))
        .collect();
    let groups = file
        .groups
        .iter()
        .map(|(name, g)| {
            (
                name.value.clone(),
                (
                    g.members.iter().map(|m| m.value.to_lowercase()).collect(),
                    pairs(&g.permissions),
                ),
            )
        })
        .collect();
    (users, groups)
}

/// Every string under an `email` key in a JSON body.
fn emails_in(body: &str) -> Vec<String> {
    fn walk(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(map) => {
                for (k, v) in map {
                    match (k.as_str(), v) {
                        ("email", Value::String(s)) => out.push(s.to_lowercase()),
                        _ => walk(v, out),
                    }
                }
            }
            Value::Array(items) => items.iter().for_each(|i| walk(i, out)),
            _ => {}
        }
    }
    let mut out = Vec::new();
    if let Ok(v) = serde_json::from_str::<Value>(body) {
        walk(&v, &mut out);
    }
    out
}

// ---- schema, export, plan ----------------------------------------------------------------

#[test]
fn schema_prints_valid_json_without_a_token() {
    let out = Command::new(BIN)
        .env_clear()
        .arg("schema")
        .assert()
        .success()
        .get_output()
        .clone();
    let schema = json(&out.stdout);
    assert_eq!(schema["title"], "AccessFile");
    assert!(text(&out.stdout).contains("members_mode"));
    assert!(schema["properties"]["labels"].is_object(), "{schema}");
    for definition in ["Prune", "PermissionEntry"] {
        assert!(
            schema["definitions"][definition]["properties"]["labels"].is_object(),
            "{definition}: {schema}"
        );
    }
}

#[test]
fn an_export_plans_as_no_changes() {
    let emu = Emu::start();
    // On stdout, the same file as --file writes.
    let out = emu.cmd().arg("export").assert().success();
    let stdout = text(&out.get_output().stdout);
    let (path, file) = emu.export("access.yaml");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), stdout);
    assert!(stdout.contains("user1@example.com"), "{stdout}");
    assert!(stdout.contains("Workspace Owner"), "{stdout}");
    assert_eq!(file.groups.0.len(), 2);

    let out = emu
        .cmd()
        .args(["plan", "--detailed-exitcode", "-o", "table", "-f"])
        .arg(&path)
        .assert()
        .code(0);
    let diff = text(&out.get_output().stdout);
    assert!(diff.contains("No changes"), "{diff}");
    // What the plan read, on stderr like audit's count: an export prunes nothing, so only
    // what it names is read.
    let stderr = text(&out.get_output().stderr);
    assert!(
        stderr.contains(" requests (only the groups and people the file names"),
        "{stderr}"
    );
    let out = emu
        .cmd()
        .args(["plan", "-o", "json", "-f"])
        .arg(&path)
        .assert()
        .code(0);
    let plan = json(&out.get_output().stdout);
    assert_eq!(plan["steps"], Value::Array(vec![]));
    assert!(plan["reads"].as_u64().is_some_and(|n| n > 0), "{plan}");
    assert!(plan["scope"]["groups"].is_array(), "{plan}");
    assert!(emu.mutations().is_empty(), "export and plan only read");
}

#[test]
fn an_edit_plans_with_exit_2_applies_and_then_plans_as_no_changes() {
    let emu = Emu::start();
    let (path, mut file) = emu.export("access.yaml");
    file.users
        .push("new.hire@example.com", UserEntry::default());
    set_user(
        &mut file,
        "user3@example.com",
        vec![perm("Source Admin", "SOURCE:src1")],
    );
    file.groups.push(
        "Analysts",
        group(
            &["user2@example.com", "new.hire@example.com"],
            vec![perm("Source Read-only", "workspace")],
        ),
    );
    write(&path, &file);

    let out = emu
        .cmd()
        .args(["plan", "--detailed-exitcode", "-o", "table", "-f"])
        .arg(&path)
        .assert()
        .code(2);
    let diff = text(&out.get_output().stdout);
    for line in [
        "+ create group \"Analysts\"",
        "+ invite 1 person",
        "new.hire@example.com",
        "+ user user3@example.com: add permissions (1 request): Source Admin on SOURCE:src1",
        "+ group \"Analysts\": add 2 member(s)",
        "+ group \"Analysts\": add permissions (1 request): Source Read-only on workspace",
        "Plan: 5 step(s), 5 request(s), 0 removal(s).",
    ] {
        assert!(diff.contains(line), "{line:?} in\n{diff}");
    }
    assert!(emu.mutations().is_empty(), "plan sends nothing");

    let out = emu
        .cmd()
        .args(["apply", "--yes", "-o", "json", "-f"])
        .arg(&path)
        .assert()
        .success();
    let report = json(&out.get_output().stdout);
    assert_eq!(report["steps_planned"], 5);
    assert_eq!(report["steps_done"], 5);
    assert_eq!(report["mutations_done"], 5);
    assert!(report["created_groups"]["Analysts"].is_string(), "{report}");
    assert_eq!(emu.mutations().len(), 5, "exactly the planned mutations");

    let out = emu
        .cmd()
        .args(["plan", "--detailed-exitcode", "-o", "table", "-f"])
        .arg(&path)
        .assert()
        .code(0);
    assert!(text(&out.get_output().stdout).contains("No changes"));
    // A second apply says so, asks nothing and sends nothing.
    let out = emu
        .cmd()
        .args(["apply", "-o", "table", "-f"])
        .arg(&path)
        .write_stdin("")
        .assert()
        .success();
    assert!(text(&out.get_output().stderr).contains("No changes"));
    assert_eq!(emu.mutations().len(), 5);
    let state = emu.h().state();
    let analysts = state
        .groups
        .iter()
        .find(|g| g.name == "Analysts")
        .expect("created");
    assert_eq!(analysts.member_count, 2);
    assert!(
        state
            .invites
            .iter()
            .any(|i| i.email == "new.hire@example.com")
    );
}

#[test]
fn apply_in_a_table_prints_the_plan_then_one_summary_line() {
    let emu = Emu::start();
    let (path, mut file) = emu.export("access.yaml");
    file.groups
        .push("Support", group(&["user4@example.com"], Vec::new()));
    write(&path, &file);
    let out = emu
        .cmd()
        .args(["apply", "--yes", "-o", "table", "-f"])
        .arg(&path)
        .assert()
        .success();
    let stderr = text(&out.get_output().stderr);
    assert!(stderr.contains("+ create group \"Support\""), "{stderr}");
    // 2 mutations and 2 reads: the group listing after the creation and at the end, which
    // finds any duplicate an overlapping apply made.
    assert_eq!(
        text(&out.get_output().stdout).trim(),
        "applied 2 of 2 steps: 2 mutations in 4 requests (0 429s, waited 0.0 s); created 1 group: Support"
    );
}

// ---- refusals: nothing sent ---------------------------------------------------------------

#[test]
fn apply_without_yes_off_a_terminal_is_refused_and_sends_nothing() {
    let emu = Emu::start();
    let (path, mut file) = emu.export("access.yaml");
    file.groups
        .push("Support", group(&["user4@example.com"], Vec::new()));
    write(&path, &file);
    let out = emu
        .cmd()
        .args(["apply", "-o", "table", "-f"])
        .arg(&path)
        .write_stdin("")
        .assert()
        .code(2);
    let stderr = text(&out.get_output().stderr);
    assert!(
        stderr.contains("+ create group \"Support\""),
        "the plan is shown: {stderr}"
    );
    assert!(stderr.contains("--yes"), "{stderr}");
    assert!(emu.mutations().is_empty(), "no mutation was sent");
    assert_eq!(emu.h().group_ids().len(), 2);
}

#[test]
fn a_saved_plan_applies_while_fresh_and_is_refused_once_the_workspace_changed() {
    let emu = Emu::start();
    let (path, mut file) = emu.export("access.yaml");
    file.groups
        .push("Support", group(&["user4@example.com"], Vec::new()));
    write(&path, &file);
    let saved = emu.path("plan.json");
    emu.cmd()
        .args(["plan", "-o", "table", "-f"])
        .arg(&path)
        .arg("--out")
        .arg(&saved)
        .assert()
        .success();
    // `-o json` prints the same plan as --out saves.
    let out = emu
        .cmd()
        .args(["plan", "-o", "json", "-f"])
        .arg(&path)
        .assert()
        .success();
    assert_eq!(
        json(&out.get_output().stdout),
        json(&std::fs::read(&saved).expect("saved"))
    );

    // Someone changes the workspace in between.
    emu.cmd()
        .args(["groups", "create", "--yes", "Elsewhere"])
        .assert()
        .success();
    let before = emu.mutations().len();
    let out = emu
        .cmd()
        .arg("apply")
        .arg(&saved)
        .args(["--yes", "-o", "table"])
        .assert()
        .code(2);
    let stderr = text(&out.get_output().stderr);
    assert!(stderr.contains("stale"), "{stderr}");
    assert_eq!(emu.mutations().len(), before, "nothing sent");

    // A plan made now applies.
    emu.cmd()
        .args(["plan", "-o", "json", "-f"])
        .arg(&path)
        .arg("--out")
        .arg(&saved)
        .assert()
        .success();
    emu.cmd()
        .arg("apply")
        .arg(&saved)
        .args(["--yes", "-o", "json"])
        .assert()
        .success();
    let names: Vec<String> = emu.h().state().groups.into_iter().map(|g| g.name).collect();
    assert!(names.contains(&"Support".to_string()), "{names:?}");
}

#[test]
fn a_plan_over_the_removal_cap_is_refused_unless_lifted() {
    let emu = Emu::start();
    let path = emu.path("few.yaml");
    std::fs::write(
        &path,
        "version: 1\nprune: { users: true }\nusers:\n  user1@example.com:\n    permissions:\n      - role: Workspace Owner\n        resources: [workspace]\n",
    )
    .expect("write");
    let out = emu
        .cmd()
        .args(["apply", "--yes", "--max-removals", "3", "-o", "table", "-f"])
        .arg(&path)
        .assert()
        .code(2);
    let stderr = text(&out.get_output().stderr);
    assert!(stderr.contains("over the cap of 3"), "{stderr}");
    assert!(stderr.contains("--no-removal-cap"), "{stderr}");
    // 7 users and 1 invite: over a cap of 3.
    assert!(emu.mutations().is_empty(), "nothing sent");
    emu.cmd()
        .args(["apply", "--yes", "--no-removal-cap", "-o", "json", "-f"])
        .arg(&path)
        .assert()
        .success();
    assert_eq!(emu.h().user_count(), 1);
    assert!(emu.h().invite_emails().is_empty());
}

#[test]
fn apply_dry_run_shows_the_plan_and_sends_nothing() {
    let emu = Emu::start();
    let (path, mut file) = emu.export("access.yaml");
    file.groups
        .push("Support", group(&["user4@example.com"], Vec::new()));
    write(&path, &file);
    let before = emu.h().state();
    let out = emu
        .cmd()
        .args(["apply", "--dry-run", "-o", "table", "-f"])
        .arg(&path)
        .assert()
        .success();
    let stderr = text(&out.get_output().stderr);
    assert!(stderr.contains("+ create group \"Support\""), "{stderr}");
    assert!(stderr.contains("dry run: nothing was sent"), "{stderr}");
    assert!(
        stderr.contains(" requests (only the groups and people the file names"),
        "the reads are counted: {stderr}"
    );
    let out = emu
        .cmd()
        .args(["apply", "--dry-run", "--yes", "-o", "json", "-f"])
        .arg(&path)
        .assert()
        .success();
    let v = json(&out.get_output().stdout);
    assert_eq!(v["dryRun"], true, "{v}");
    assert!(
        v["plan"]["steps"].as_array().is_some_and(|s| !s.is_empty()),
        "{v}"
    );
    assert!(emu.mutations().is_empty(), "no mutation was sent");
    assert_eq!(emu.h().state(), before);

    // Over the cap, a dry run still exits 0 and names the flag that would lift the refusal.
    let few = emu.path("few.yaml");
    std::fs::write(
        &few,
        "version: 1\nprune: { users: true }\nusers:\n  user1@example.com:\n    permissions:\n      - role: Workspace Owner\n        resources: [workspace]\n",
    )
    .expect("write");
    let out = emu
        .cmd()
        .args([
            "apply",
            "--dry-run",
            "--max-removals",
            "3",
            "-o",
            "table",
            "-f",
        ])
        .arg(&few)
        .assert()
        .success();
    let stderr = text(&out.get_output().stderr);
    assert!(
        stderr.contains("without --dry-run this is refused")
            && stderr.contains("over the cap of 3")
            && stderr.contains("--no-removal-cap"),
        "{stderr}"
    );
    assert!(emu.mutations().is_empty(), "no mutation was sent");
    assert_eq!(emu.h().state(), before);
}

#[test]
fn a_file_removing_the_last_workspace_owner_is_refused() {
    let emu = Emu::start();
    let (path, mut file) = emu.export("access.yaml");
    set_user(
        &mut file,
        "user1@example.com",
        vec![perm("Workspace Member", "workspace")],
    );
    write(&path, &file);
    for args in [
        vec!["plan", "-o", "table"],
        vec!["apply", "--yes", "-o", "table"],
    ] {
        let out = emu.cmd().args(&args).arg("-f").arg(&path).assert().code(2);
        let stderr = text(&out.get_output().stderr);
        assert!(
            stderr.contains("refused") && stderr.contains("Workspace Owner"),
            "{stderr}"
        );
    }
    emu.cmd()
        .args(["plan", "--detailed-exitcode", "-f"])
        .arg(&path)
        .assert()
        .code(1);
    assert!(emu.mutations().is_empty(), "nothing sent");
}

#[test]
fn an_unknown_role_is_reported_at_its_line() {
    let emu = Emu::start();
    let path = emu.path("typo.yaml");
    std::fs::write(
        &path,
        "version: 1\nusers:\n  user1@example.com:\n    permissions:\n      - role: Workspace Owner\n        resources: [workspace]\ngroups:\n  Analysts:\n    members: [user2@example.com]\n    permissions:\n      - role: Source Admn\n        resources: [workspace]\n",
    )
    .expect("write");
    let name = path.display().to_string();
    for args in [vec!["plan"], vec!["apply", "--yes"]] {
        let out = emu
            .cmd()
            .args(&args)
            .args(["-o", "table", "-f"])
            .arg(&path)
            .assert()
            .code(2);
        let stderr = text(&out.get_output().stderr);
        assert!(
            stderr.starts_with(&format!("error: {name}:11:")),
            "the role's line: {stderr}"
        );
        assert!(stderr.contains("Source Admn"), "{stderr}");
        assert!(
            stderr.contains("\"Source Admin\""),
            "names the closest: {stderr}"
        );
    }
    let out = emu
        .cmd()
        .args(["plan", "-o", "json", "-f"])
        .arg(&path)
        .assert()
        .code(2);
    let envelope = json(&out.get_output().stderr);
    assert_eq!(envelope["errors"][0]["type"], "file");
    assert_eq!(envelope["errors"][0]["line"], 11);
    assert!(emu.mutations().is_empty(), "nothing sent");
}

#[test]
fn a_malformed_file_is_refused_before_anything_is_read() {
    let emu = Emu::start();
    let path = emu.path("bad.yaml");
    std::fs::write(
        &path,
        "version: 1\nusers:\n  ana@example.com:\n    perms: []\n",
    )
    .expect("write");
    let out = emu
        .cmd()
        .args(["plan", "-o", "table", "-f"])
        .arg(&path)
        .assert()
        .code(2);
    let stderr = text(&out.get_output().stderr);
    assert!(
        stderr.starts_with(&format!("error: {}:4:", path.display())),
        "{stderr}"
    );
    assert!(emu.h().journal().is_empty(), "nothing was read or sent");
}

#[test]
fn detailed_exitcode_keeps_2_for_changes_pending() {
    let emu = Emu::start();
    // A missing file, a usage error: 1 under --detailed-exitcode (2 means changes pending).
    emu.cmd()
        .args([
            "plan",
            "-f",
            "/nonexistent/access.yaml",
            "--detailed-exitcode",
        ])
        .assert()
        .code(1);
    emu.cmd()
        .args(["plan", "-f", "/nonexistent/access.yaml"])
        .assert()
        .code(2);
    emu.cmd()
        .args(["plan", "--detailed-exitcode"])
        .assert()
        .code(1);
    emu.cmd()
        .args(["plan", "-f", "x.yaml", "--detailed-exitcode", "--bogus"])
        .assert()
        .code(1);
    let out = Command::new(BIN)
        .args(["plan", "--help"])
        .assert()
        .success();
    let help = text(&out.get_output().stdout);
    assert!(help.contains("2 changes pending"), "{help}");
}

#[test]
fn an_apply_failing_part_way_lists_what_was_done_and_a_rerun_converges() {
    let emu = Emu::start();
    let (path, mut file) = emu.export("access.yaml");
    file.groups.push(
        "Analysts",
        group(
            &["user2@example.com"],
            vec![perm("Source Read-only", "workspace")],
        ),
    );
    write(&path, &file);
    // The group's permissions fail, every attempt.
    emu.h().inject(
        Fault::status(500)
            .on_operation(Operation::AddPermissionsToUserGroup)
            .times(100),
    );
    let out = emu
        .cmd()
        .args(["apply", "--yes", "-o", "table", "-f"])
        .arg(&path)
        .assert()
        .code(1);
    let stderr = text(&out.get_output().stderr);
    assert!(
        stderr.contains("apply stopped after") && stderr.contains("of 3 steps"),
        "{stderr}"
    );
    assert!(
        stderr.contains("+ create group \"Analysts\""),
        "what was done: {stderr}"
    );
    assert!(
        stderr.contains(&format!(
            "re-running `segment-iam apply -f {}` converges",
            path.display()
        )),
        "{stderr}"
    );
    emu.h().clear_faults();
    let out = emu
        .cmd()
        .args(["apply", "--yes", "-o", "json", "-f"])
        .arg(&path)
        .assert()
        .success();
    let report = json(&out.get_output().stdout);
    let left = report["steps_planned"].as_u64().expect("a count");
    assert!((1..3).contains(&left), "only what failed is left: {report}");
    emu.cmd()
        .args(["plan", "--detailed-exitcode", "-f"])
        .arg(&path)
        .assert()
        .code(0);
    assert_eq!(
        emu.h()
            .audit_events()
            .iter()
            .filter(|e| e.event == "User Group Created")
            .count(),
        1
    );
}

// ---- killed half way ----------------------------------------------------------------------

/// Where a run of `apply` is killed.
#[derive(Debug, Clone, Copy)]
enum KillAt {
    /// Once this many mutations of this run have been applied and answered (journal).
    Mutations(usize),
    /// While a `createUserGroup` has been applied but its answer is held back (audit trail):
    /// the lost answer a re-run must resolve by reading, never by creating again.
    GroupCreatedAnswerLost,
}

/// Polls an event (bounded by [`EVENT_LIMIT`]); the child must still be running meanwhile.
fn wait_for(child: &mut std::process::Child, what: &str, mut event: impl FnMut() -> bool) {
    let started = Instant::now();
    while !event() {
        assert!(
            child.try_wait().expect("wait").is_none(),
            "apply ended before {what}"
        );
        assert!(
            started.elapsed() < EVENT_LIMIT,
            "no {what} within {EVENT_LIMIT:?}"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// The desired file: three new groups (one with new people, who get invited), a permission
/// for an existing user, and an existing group's members replaced.
fn crash_desired(mut file: AccessFile) -> AccessFile {
    for email in ["new1@example.com", "new2@example.com", "new3@example.com"] {
        file.users.push(email, UserEntry::default());
    }
    set_user(
        &mut file,
        "user3@example.com",
        vec![perm("Source Admin", "SOURCE:src1")],
    );
    set_user(
        &mut file,
        "user6@example.com",
        vec![
            perm("Workspace Member", "workspace"),
            perm("Source Read-only", "SOURCE:src2"),
        ],
    );
    file.groups.push(
        "Crash A",
        group(
            &["user2@example.com", "new1@example.com"],
            vec![perm("Source Read-only", "workspace")],
        ),
    );
    file.groups.push(
        "Crash B",
        group(
            &["new2@example.com", "new3@example.com", "user4@example.com"],
            vec![perm("Workspace Member", "workspace")],
        ),
    );
    file.groups
        .push("Crash C", group(&["user5@example.com"], Vec::new()));
    let first = file.groups.0.first_mut().expect("a seeded group");
    first.1.members = vec![
        Member::new("user2@example.com"),
        Member::new("user7@example.com"),
    ];
    file
}

/// One scenario: `apply` killed at each point in turn, then re-run until it reports no changes
/// (at most 5 runs); the workspace must then equal the file, with each group created once and
/// each new person invited once.
fn killed_and_rerun(kills: &[KillAt]) {
    let emu = Emu::start();
    // Per-request latency on every mutation, so each run is in flight long enough to be
    // killed where wanted (the events below decide when, not this delay).
    for op in Operation::ALL.iter().filter(|op| op.is_mutation()) {
        emu.h().inject(
            Fault::delay(Duration::from_millis(40))
                .on_operation(*op)
                .always(),
        );
    }
    let (path, exported) = emu.export("access.yaml");
    let desired = crash_desired(exported);
    write(&path, &desired);
    let new_groups = ["Crash A", "Crash B", "Crash C"];
    let new_people = ["new1@example.com", "new2@example.com", "new3@example.com"];
    let audit_before = emu.h().audit_events().len();

    for (i, kill) in kills.iter().enumerate() {
        if let KillAt::GroupCreatedAnswerLost = kill {
            emu.h().inject(
                Fault::delay(Duration::from_secs(600))
                    .on_operation(Operation::CreateUserGroup)
                    .after_apply(),
            );
        }
        let base_applied = emu.applied_mutations();
        let base_created = emu
            .h()
            .audit_events()
            .iter()
            .filter(|e| e.event == "User Group Created")
            .count();
        let mut child = std::process::Command::new(BIN)
            .env_clear()
            .env("SEGMENT_PUBLIC_API_TOKEN", TOKEN)
            .args(["--base-url", &emu.h().base_url(), "apply", "--yes", "-f"])
            .arg(&path)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        match *kill {
            KillAt::Mutations(n) => {
                wait_for(&mut child, &format!("{n} mutations (run {i})"), || {
                    emu.applied_mutations() >= base_applied + n
                })
            }
            KillAt::GroupCreatedAnswerLost => wait_for(&mut child, "a group created", || {
                emu.h()
                    .audit_events()
                    .iter()
                    .filter(|e| e.event == "User Group Created")
                    .count()
                    > base_created
            }),
        }
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        // The held answer is not released for the next runs.
        emu.h().clear_faults();
        for op in Operation::ALL.iter().filter(|op| op.is_mutation()) {
            emu.h().inject(
                Fault::delay(Duration::from_millis(40))
                    .on_operation(*op)
                    .always(),
            );
        }
    }
    assert!(
        emu.h().audit_events().len() > audit_before,
        "the kills happened part way: something was applied"
    );

    // Re-run until apply reports no changes: at most 5 runs.
    let mut runs = 0;
    loop {
        runs += 1;
        assert!(runs <= 5, "apply did not converge in 5 runs");
        let out = emu
            .cmd()
            .args(["apply", "--yes", "-o", "json", "-f"])
            .arg(&path)
            .assert()
            .success();
        if json(&out.get_output().stdout)["steps_planned"] == 0 {
            break;
        }
    }
    assert!(
        runs >= 2,
        "the first re-run finished the work, the next found nothing"
    );

    // The workspace is the file.
    let (_, exported) = emu.export("final.yaml");
    assert_eq!(normalised(&exported), normalised(&desired));
    emu.cmd()
        .args(["plan", "--detailed-exitcode", "-f"])
        .arg(&path)
        .assert()
        .code(0);

    // Each group created once, each new person invited once: the audit trail (recorded as each
    // change is applied), and the journal once it has recorded every applied creation (a killed
    // run's request is journaled when its connection ends: waited for, bounded).
    let audit = emu.h().audit_events();
    for name in new_groups {
        let created = audit
            .iter()
            .filter(|e| e.event == "User Group Created" && e.detail == name)
            .count();
        assert_eq!(created, 1, "{name} created once");
    }
    for email in new_people {
        let invited = audit
            .iter()
            .filter(|e| e.event == "Non-Segment User Invited to Workspace" && e.subject == email)
            .count();
        assert_eq!(invited, 1, "{email} invited once");
    }
    let creations = audit
        .iter()
        .filter(|e| e.event == "User Group Created")
        .count();
    let started = Instant::now();
    let journaled = |op: Operation| -> Vec<JournalEntry> {
        emu.h()
            .journal_for(op)
            .into_iter()
            .filter(|e| e.applied)
            .collect()
    };
    while journaled(Operation::CreateUserGroup).len() < creations {
        assert!(
            started.elapsed() < EVENT_LIMIT,
            "the journal never recorded every group creation"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    for name in new_groups {
        let sent = journaled(Operation::CreateUserGroup)
            .iter()
            .filter(|e| {
                e.body
                    .as_deref()
                    .and_then(|b| serde_json::from_str::<Value>(b).ok())
                    .is_some_and(|b| b["name"] == name)
            })
            .count();
        assert_eq!(sent, 1, "{name}: one createUserGroup applied");
    }
    let invited: Vec<String> = journaled(Operation::CreateInvites)
        .iter()
        .flat_map(|e| emails_in(e.body.as_deref().unwrap_or("")))
        .collect();
    for email in new_people {
        assert_eq!(
            invited.iter().filter(|e| *e == email).count(),
            1,
            "{email}: invited by one createInvites: {invited:?}"
        );
    }
}

#[test]
fn apply_killed_when_a_group_creation_answer_is_lost_converges_on_rerun() {
    killed_and_rerun(&[KillAt::GroupCreatedAnswerLost]);
}

#[test]
fn apply_killed_after_some_mutations_converges_on_rerun() {
    killed_and_rerun(&[KillAt::Mutations(4)]);
}

#[test]
fn apply_killed_twice_converges_on_rerun() {
    killed_and_rerun(&[KillAt::Mutations(1), KillAt::Mutations(3)]);
}

#[test]
fn a_labelled_workspace_exports_its_labels_and_plans_show_them() {
    let emu = Emu::with(|b| b.sources(2));
    let (path, mut file) = emu.export("access.yaml");
    let exported = std::fs::read_to_string(&path).expect("read");
    assert!(
        exported.contains("labels:\n- environment:dev\n- environment:prod\n"),
        "{exported}"
    );
    file.labels.push(Text::new("region:emea"));
    set_user(
        &mut file,
        "user2@example.com",
        vec![perm("Source Admin", "workspace").labels(["environment:prod", "region:emea"])],
    );
    write(&path, &file);
    let out = emu
        .cmd()
        .args(["plan", "--detailed-exitcode", "-o", "table", "-f"])
        .arg(&path)
        .assert()
        .code(2);
    let diff = text(&out.get_output().stdout);
    for line in [
        "+ create label region:emea (1 request)",
        "Source Admin on workspace narrowed by environment:prod&region:emea",
    ] {
        assert!(diff.contains(line), "{line:?} in\n{diff}");
    }
    assert!(emu.mutations().is_empty(), "plan only reads");
    emu.cmd()
        .args(["apply", "--yes", "-f"])
        .arg(&path)
        .assert()
        .success();
    let (_, after) = emu.export("after.yaml");
    let user2 = after.users.get("user2@example.com").expect("listed");
    let labels: Vec<&str> = user2.permissions[0]
        .labels
        .iter()
        .map(|t| t.value.as_str())
        .collect();
    assert_eq!(labels, ["environment:prod", "region:emea"]);
    emu.cmd()
        .args(["plan", "--detailed-exitcode", "-f"])
        .arg(emu.path("after.yaml"))
        .assert()
        .code(0);
}
