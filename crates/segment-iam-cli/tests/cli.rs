//! End-to-end tests of the `segment-iam` binary against an embedded emulator: every command,
//! each output format, `--from-file -`, every exit code, Ctrl-C, and that `-v` tracing never
//! prints the token. Each test starts its own emulator (on a tokio runtime the test keeps
//! alive), runs the real binary with `--base-url` and the token in `SEGMENT_PUBLIC_API_TOKEN`,
//! and checks stdout JSON plus what the emulator's state and journal say was applied.

use std::io::{BufRead, BufReader, Read};
use std::process::Stdio;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use segment_iam_emulator::{Emulator, EmulatorHandle, Fault, Operation};
use serde_json::Value;

/// A token distinctive enough that finding it in any output is a real leak.
const TOKEN: &str = "sgp_cli-test-TOKEN-4f1e9c2a7b";
const BIN: &str = env!("CARGO_BIN_EXE_segment-iam");
const OWNER_ROLE: &str = "1WDUuRLxv84rrfCNUwvkrRtkxnS";
const MEMBER_ROLE: &str = "1WDUuVBnqMOgaTtWbvNrvOhQFNY";
const WORKSPACE: &str = "9aQ1Lj62S4bomZKLF4DPqW";

/// An emulator running on its own runtime for the duration of one test.
struct Emu {
    rt: tokio::runtime::Runtime,
    handle: Option<EmulatorHandle>,
}

impl Emu {
    fn start(users: usize, groups: usize, invites: usize) -> Emu {
        Self::with(|b| b.users(users).groups(groups).invites(invites))
    }

    fn with(
        f: impl FnOnce(segment_iam_emulator::EmulatorBuilder) -> segment_iam_emulator::EmulatorBuilder,
    ) -> Emu {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("runtime");
        let builder = f(Emulator::builder().token(TOKEN).seed(42));
        let handle = rt.block_on(builder.start()).expect("emulator starts");
        Emu {
            rt,
            handle: Some(handle),
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
            .timeout(Duration::from_secs(60));
        c
    }

    fn requests(&self, operation: Operation) -> Vec<segment_iam_emulator::JournalEntry> {
        self.h().journal_for(operation)
    }
}

impl Drop for Emu {
    fn drop(&mut self) {
        if let Some(h) = self.handle.take() {
            self.rt.block_on(h.shutdown());
        }
    }
}

fn json(stdout: &[u8]) -> Value {
    serde_json::from_slice(stdout).unwrap_or_else(|e| {
        panic!(
            "stdout is not JSON ({e}): {}",
            String::from_utf8_lossy(stdout)
        )
    })
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn ids_of(v: &Value) -> Vec<String> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x["id"].as_str().expect("id").to_string())
        .collect()
}

// ---- users -------------------------------------------------------------------------------

#[test]
fn users_list_json_is_one_array_across_pages() {
    let emu = Emu::start(7, 0, 0);
    let out = emu
        .cmd()
        .args(["users", "list", "--page-size", "3", "--output", "json"])
        .assert()
        .success()
        .get_output()
        .clone();
    let v = json(&out.stdout);
    assert_eq!(ids_of(&v), emu.h().user_ids());
    assert!(out.stderr.is_empty(), "no progress output on a pipe");
    assert_eq!(
        emu.requests(Operation::ListUsers).len(),
        3,
        "7 users at 3 per page"
    );
    assert!(
        emu.requests(Operation::ListUsers)[0]
            .query
            .contains("pagination.count=3")
    );
}

#[test]
fn users_list_defaults_to_json_when_piped() {
    let emu = Emu::start(2, 0, 0);
    let out = emu
        .cmd()
        .args(["users", "ls"])
        .assert()
        .success()
        .get_output()
        .clone();
    assert_eq!(json(&out.stdout).as_array().map(Vec::len), Some(2));
}

#[test]
fn users_list_ndjson_one_item_per_line() {
    let emu = Emu::start(5, 0, 0);
    let out = emu
        .cmd()
        .args(["-o", "ndjson", "--page-size", "2", "users", "list"])
        .assert()
        .success()
        .get_output()
        .clone();
    let lines: Vec<Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON value per line"))
        .collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[0]["email"], "user1@example.com");
}

#[test]
fn users_list_table() {
    let emu = Emu::start(3, 0, 0);
    let out = emu
        .cmd()
        .args(["users", "list", "--output", "table"])
        .assert()
        .success()
        .get_output()
        .clone();
    let t = text(&out.stdout);
    let lines: Vec<&str> = t.lines().collect();
    assert_eq!(lines.len(), 4, "{t}");
    assert!(lines[0].starts_with("ID"));
    assert!(lines[0].contains("EMAIL"));
    assert!(t.contains("user2@example.com"));
    assert!(t.contains("Workspace Owner"), "user 1's role shows: {t}");
}

#[test]
fn users_get_each_format() {
    let emu = Emu::start(2, 0, 0);
    let id = emu.h().user_ids()[0].clone();
    let out = emu
        .cmd()
        .args(["users", "get", &id, "-o", "json"])
        .assert()
        .success()
        .get_output()
        .clone();
    let v = json(&out.stdout);
    assert_eq!(v["id"], id.as_str());
    assert_eq!(v["permissions"][0]["roleId"], OWNER_ROLE);

    let out = emu
        .cmd()
        .args(["users", "get", &id, "-o", "ndjson"])
        .assert()
        .success()
        .get_output()
        .clone();
    assert_eq!(text(&out.stdout).lines().count(), 1);

    let out = emu
        .cmd()
        .args(["users", "get", &id, "-o", "table"])
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(text(&out.stdout).contains("user1@example.com"));
}

#[test]
fn users_get_missing_is_exit_1_with_envelope() {
    let emu = Emu::start(1, 0, 0);
    let out = emu
        .cmd()
        .args(["users", "get", "nosuchuser", "--output", "json"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    assert!(out.stdout.is_empty());
    let env = json(&out.stderr);
    assert_eq!(env["status"], 404);
    assert!(env["errors"][0]["type"].is_string());

    let out = emu
        .cmd()
        .args(["users", "get", "nosuchuser", "--output", "table"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    assert!(
        text(&out.stderr).starts_with("error: "),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn users_delete_args_and_stdin() {
    let emu = Emu::start(6, 0, 0);
    let ids = emu.h().user_ids();
    let out = emu
        .cmd()
        .args(["users", "delete", "--yes", &ids[0], &ids[1], "-o", "json"])
        .assert()
        .success()
        .get_output()
        .clone();
    let v = json(&out.stdout);
    assert_eq!(v["applied"], serde_json::json!([ids[0], ids[1]]));
    assert_eq!(emu.h().user_count(), 4);
    let q = &emu.requests(Operation::DeleteUsers)[0].query;
    assert!(q.contains("userIds.0=") && q.contains("userIds.1="), "{q}");

    let stdin = format!("# users to remove\n{}\n\n   {}  \n", ids[2], ids[3]);
    emu.cmd()
        .args([
            "users",
            "rm",
            "--yes",
            &ids[4],
            "--from-file",
            "-",
            "-o",
            "ndjson",
        ])
        .write_stdin(stdin)
        .assert()
        .success();
    assert_eq!(emu.h().user_ids(), vec![ids[5].clone()]);
}

#[test]
fn bulk_delete_in_a_table_is_one_summary_line() {
    let emu = Emu::start(300, 0, 0);
    let ids = emu.h().user_ids();
    let out = emu
        .cmd()
        .args(["users", "delete", "--yes", &ids[0], "-o", "table"])
        .assert()
        .success();
    assert_eq!(
        text(&out.get_output().stdout),
        format!("deleted 1 user in 1 request: {}\n", ids[0])
    );
    let rest = ids[1..].join("\n");
    let out = emu
        .cmd()
        .args([
            "users",
            "delete",
            "--yes",
            "--from-file",
            "-",
            "-o",
            "table",
        ])
        .write_stdin(rest)
        .assert()
        .success();
    let stdout = text(&out.get_output().stdout);
    let requests = emu.requests(Operation::DeleteUsers).len() - 1;
    assert!(requests >= 2, "299 ids need several URL-limited requests");
    assert_eq!(stdout.lines().count(), 1, "{stdout}");
    assert!(
        stdout.starts_with(&format!("deleted 299 users in {requests} requests")),
        "{stdout}"
    );
    assert!(
        stdout.trim_end().ends_with("; -o json lists them"),
        "{stdout}"
    );
    assert!(!stdout.contains(&ids[1]));
    assert_eq!(emu.h().user_count(), 0);
}

#[test]
fn users_groups() {
    let emu = Emu::start(5, 2, 0);
    let state = emu.h().state();
    let group = &state.groups[0];
    let user = group
        .users
        .first()
        .expect("seeded groups have users")
        .clone();
    let out = emu
        .cmd()
        .args(["users", "groups", &user])
        .assert()
        .success()
        .get_output()
        .clone();
    let v = json(&out.stdout);
    assert!(ids_of(&v).contains(&group.id));
}

// ---- invites -----------------------------------------------------------------------------

#[test]
fn invites_list_each_format() {
    let emu = Emu::start(0, 0, 3);
    let out = emu
        .cmd()
        .args(["invites", "list", "--page-size", "2"])
        .assert()
        .success()
        .get_output()
        .clone();
    assert_eq!(
        json(&out.stdout),
        serde_json::json!(emu.h().invite_emails())
    );
    let out = emu
        .cmd()
        .args(["invites", "list", "-o", "ndjson"])
        .assert()
        .success()
        .get_output()
        .clone();
    assert_eq!(
        text(&out.stdout).lines().next(),
        Some("\"invitee1@example.com\"")
    );
    let out = emu
        .cmd()
        .args(["invites", "list", "-o", "table"])
        .assert()
        .success()
        .get_output()
        .clone();
    assert_eq!(text(&out.stdout).lines().next(), Some("EMAIL"));
}

#[test]
fn invites_create_with_permissions_then_delete() {
    let emu = Emu::start(0, 0, 0);
    let out = emu
        .cmd()
        .args([
            "invites",
            "create",
            "--yes",
            "ann@example.com",
            "bob+qa@example.com",
            "--role",
            OWNER_ROLE,
            "--resource",
            &format!("workspace:{WORKSPACE}"),
        ])
        .assert()
        .success()
        .get_output()
        .clone();
    assert_eq!(
        json(&out.stdout),
        serde_json::json!(["ann@example.com", "bob+qa@example.com"])
    );
    let state = emu.h().state();
    assert_eq!(state.invites.len(), 2);
    let p = &state.invites[0].permissions[0];
    assert_eq!(p.role_id, OWNER_ROLE);
    assert_eq!(p.resources[0].resource_type, "WORKSPACE");
    assert_eq!(p.resources[0].id, WORKSPACE);

    emu.cmd()
        .args(["invites", "delete", "--yes", "--from-file", "-"])
        .write_stdin("bob+qa@example.com\n")
        .assert()
        .success();
    assert_eq!(emu.h().invite_emails(), vec!["ann@example.com".to_string()]);
    let q = &emu.requests(Operation::DeleteInvites)[0].query;
    assert!(q.contains("emails.0=bob%2Bqa%40example.com"), "{q}");
}

#[test]
fn invites_create_from_file_without_permissions() {
    let emu = Emu::start(0, 0, 0);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("emails.txt");
    std::fs::write(&path, "# new hires\ncat@example.com\ndan@example.com\n").expect("write");
    emu.cmd()
        .args(["invites", "create", "--yes", "--from-file"])
        .arg(&path)
        .assert()
        .success();
    assert_eq!(
        emu.h().invite_emails(),
        vec!["cat@example.com", "dan@example.com"]
    );
}

// ---- groups ------------------------------------------------------------------------------

#[test]
fn groups_crud() {
    let emu = Emu::start(0, 2, 0);
    let out = emu
        .cmd()
        .args(["groups", "list"])
        .assert()
        .success()
        .get_output()
        .clone();
    assert_eq!(ids_of(&json(&out.stdout)), emu.h().group_ids());

    let out = emu
        .cmd()
        .args(["groups", "create", "--yes", "Data Team"])
        .assert()
        .success()
        .get_output()
        .clone();
    let created = json(&out.stdout);
    let id = created["id"].as_str().expect("id").to_string();
    assert_eq!(created["name"], "Data Team");
    assert_eq!(emu.h().group(&id).map(|g| g.name), Some("Data Team".into()));

    let out = emu
        .cmd()
        .args(["groups", "rename", "--yes", &id, "Analytics"])
        .assert()
        .success()
        .get_output()
        .clone();
    assert_eq!(json(&out.stdout)["name"], "Analytics");

    let out = emu
        .cmd()
        .args(["groups", "get", &id, "-o", "table"])
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(text(&out.stdout).contains("Analytics"));

    let out = emu
        .cmd()
        .args(["groups", "delete", "--yes", &id])
        .assert()
        .success()
        .get_output()
        .clone();
    assert_eq!(json(&out.stdout)["applied"], serde_json::json!([id]));
    assert!(emu.h().group(&id).is_none());

    // Gone: refused by the group list's answer before a get is sent (exit 2, candidates).
    let out = emu.cmd().args(["groups", "get", &id]).assert().code(2);
    let stderr = text(&out.get_output().stderr);
    assert!(stderr.contains("no group has the id or name"), "{stderr}");
}

#[test]
fn groups_members_and_invites() {
    let emu = Emu::start(4, 1, 1);
    let gid = emu.h().group_ids()[0].clone();
    // Start from a known membership.
    let out = emu
        .cmd()
        .args([
            "groups",
            "members",
            "replace",
            "--yes",
            &gid,
            "user1@example.com",
        ])
        .assert()
        .success()
        .get_output()
        .clone();
    assert_eq!(json(&out.stdout)["memberCount"], 1.0);

    emu.cmd()
        .args([
            "groups",
            "members",
            "add",
            "--yes",
            &gid,
            "user2@example.com",
            "--from-file",
            "-",
        ])
        .write_stdin("user3@example.com\ninvitee1@example.com\n")
        .assert()
        .success();
    let g = emu.h().group(&gid).expect("group");
    assert_eq!(g.users.len(), 3);
    assert_eq!(g.invites, vec!["invitee1@example.com".to_string()]);

    let out = emu
        .cmd()
        .args(["groups", "members", "list", &gid, "-o", "ndjson"])
        .assert()
        .success()
        .get_output()
        .clone();
    assert_eq!(text(&out.stdout).lines().count(), 3);

    let out = emu
        .cmd()
        .args(["groups", "invites", &gid])
        .assert()
        .success()
        .get_output()
        .clone();
    assert_eq!(
        json(&out.stdout),
        serde_json::json!(["invitee1@example.com"])
    );

    let out = emu
        .cmd()
        .args([
            "groups",
            "members",
            "remove",
            "--yes",
            &gid,
            "user2@example.com",
            "-o",
            "table",
        ])
        .assert()
        .success()
        .get_output()
        .clone();
    assert!(
        text(&out.stdout).starts_with("removed 1"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(emu.h().group(&gid).map(|g| g.users.len()), Some(2));
    assert_eq!(emu.requests(Operation::RemoveUsersFromUserGroup).len(), 1);
}

// ---- permissions ------------------------------------------------------------------------

#[test]
fn permissions_add_user_and_replace_group() {
    let emu = Emu::start(2, 1, 0);
    let uid = emu.h().user_ids()[1].clone();
    let out = emu
        .cmd()
        .args([
            "permissions",
            "add",
            "--yes",
            "--user",
            &uid,
            "--role",
            MEMBER_ROLE,
            "--resource",
            &format!("WORKSPACE:{WORKSPACE}"),
        ])
        .assert()
        .success()
        .get_output()
        .clone();
    let v = json(&out.stdout);
    assert!(
        v.as_array()
            .expect("array")
            .iter()
            .any(|p| p["roleId"] == MEMBER_ROLE)
    );
    let user = emu.h().user(&uid).expect("user");
    assert!(user.permissions.iter().any(|p| p.role_id == MEMBER_ROLE));

    let gid = emu.h().group_ids()[0].clone();
    emu.cmd()
        .args([
            "permissions",
            "replace",
            "--yes",
            "--group",
            &gid,
            "--role",
            OWNER_ROLE,
            "--resource",
            &format!("workspace:{WORKSPACE}"),
            "--role",
            MEMBER_ROLE,
            "--resource",
            "source:src1",
            "--resource",
            "space:sp1",
        ])
        .assert()
        .success();
    let g = emu.h().group(&gid).expect("group");
    assert_eq!(g.permissions.len(), 2, "{:?}", g.permissions);
    let member = g
        .permissions
        .iter()
        .find(|p| p.role_id == MEMBER_ROLE)
        .expect("member role");
    let kinds: Vec<&str> = member
        .resources
        .iter()
        .map(|r| r.resource_type.as_str())
        .collect();
    assert_eq!(kinds, vec!["SOURCE", "SPACE"]);
    let body = emu.requests(Operation::ReplacePermissionsForUserGroup)[0]
        .body
        .clone()
        .unwrap_or_default();
    assert!(body.contains("\"SOURCE\""), "{body}");
}

// ---- exit codes and failures -------------------------------------------------------------

#[test]
fn usage_errors_exit_2_and_send_nothing() {
    let emu = Emu::start(1, 1, 0);
    // clap: unknown command, missing argument, bad value.
    emu.cmd().args(["users", "frobnicate"]).assert().code(2);
    emu.cmd().args(["groups", "rename", "g1"]).assert().code(2);
    emu.cmd()
        .args(["users", "list", "--page-size", "5000"])
        .assert()
        .code(2);
    emu.cmd()
        .args([
            "permissions",
            "add",
            "--yes",
            "--user",
            "u",
            "--role",
            "r",
            "--resource",
            "bogus",
        ])
        .assert()
        .code(2);
    // Empty list from stdin.
    emu.cmd()
        .args(["users", "delete", "--yes", "--from-file", "-"])
        .write_stdin("# nothing\n\n")
        .assert()
        .code(2);
    // Unreadable file.
    emu.cmd()
        .args([
            "invites",
            "delete",
            "--yes",
            "--from-file",
            "/nonexistent/list.txt",
        ])
        .assert()
        .code(2);
    // The facade refuses an impossible email before sending.
    let out = emu
        .cmd()
        .args(["invites", "create", "--yes", "not an email", "-o", "json"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert!(json(&out.stderr)["errors"][0]["message"].is_string());
    // stdin cannot feed both the token and the list.
    emu.cmd()
        .args([
            "users",
            "delete",
            "--yes",
            "--from-file",
            "-",
            "--token-file",
            "-",
        ])
        .write_stdin("tok\nid1\n")
        .assert()
        .code(2);
    assert!(emu.h().journal().is_empty(), "nothing reached the service");
}

#[test]
fn partial_bulk_delete_reports_what_was_applied() {
    let emu = Emu::start(400, 0, 0);
    let mut ids = emu.h().user_ids();
    ids.push("no-such-user".into());
    let out = emu
        .cmd()
        .args(["users", "delete", "--yes", "--from-file", "-", "-o", "json"])
        .write_stdin(ids.join("\n"))
        .assert()
        .code(1)
        .get_output()
        .clone();
    let env = json(&out.stderr);
    let applied = env["applied"].as_array().expect("applied").len();
    let not_applied = env["notApplied"].as_array().expect("notApplied").len();
    assert!(applied > 0, "the first batches went through: {env}");
    assert_eq!(applied + not_applied, ids.len());
    assert_eq!(env["status"], 404);
    assert_eq!(emu.h().user_count(), 400 - applied);
    assert!(
        emu.requests(Operation::DeleteUsers).len() >= 2,
        "split into several requests"
    );
}

#[test]
fn errors_are_text_unless_json_is_asked_for() {
    let emu = Emu::start(1, 0, 0);
    // stdout is a pipe, so results default to JSON, but nobody asked for JSON errors.
    let out = emu
        .cmd()
        .args(["users", "get", "nope"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let err = text(&out.stderr);
    assert!(err.starts_with("error: not found"), "{err}");
    let out = emu
        .cmd()
        .args(["users", "get", "nope", "-o", "ndjson"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    assert_eq!(text(&out.stderr).lines().count(), 1);
    assert_eq!(json(&out.stderr)["status"], 404);
}

#[test]
fn missing_token_is_exit_2() {
    let emu = Emu::start(1, 0, 0);
    let out = Command::new(BIN)
        .env_clear()
        .args(["--base-url", &emu.h().base_url(), "users", "list"])
        .assert()
        .code(2)
        .get_output()
        .clone();
    assert!(text(&out.stderr).contains("SEGMENT_PUBLIC_API_TOKEN"));
    assert!(emu.h().journal().is_empty());
}

#[test]
fn wrong_token_is_exit_1() {
    let emu = Emu::start(1, 0, 0);
    let out = emu
        .cmd()
        .env("SEGMENT_PUBLIC_API_TOKEN", "wrong-token")
        .args(["users", "list", "-o", "ndjson"])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let env = json(&out.stderr);
    assert_eq!(env["status"], 401);
}

#[test]
fn server_error_on_post_is_exit_1() {
    let emu = Emu::start(0, 0, 0);
    emu.h().inject(
        Fault::status(500)
            .on_operation(Operation::CreateUserGroup)
            .times(1),
    );
    emu.cmd()
        .args(["groups", "create", "--yes", "X"])
        .assert()
        .code(1);
}

#[test]
fn token_file_and_flag_take_precedence_over_env() {
    let emu = Emu::start(1, 0, 0);
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("token");
    std::fs::write(&path, format!("{TOKEN}\n")).expect("write");
    emu.cmd()
        .env("SEGMENT_PUBLIC_API_TOKEN", "wrong")
        .args(["users", "list", "--token-file"])
        .arg(&path)
        .assert()
        .success();
    emu.cmd()
        .env("SEGMENT_PUBLIC_API_TOKEN", "wrong")
        .args(["users", "list", "--token", TOKEN])
        .assert()
        .success();
    emu.cmd()
        .args(["users", "list", "--token", "wrong", "--token-file"])
        .arg(&path)
        .assert()
        .code(1);
}

#[test]
fn verbose_tracing_never_prints_the_token() {
    let emu = Emu::start(3, 1, 0);
    let gid = emu.h().group_ids()[0].clone();
    let runs: Vec<Vec<&str>> = vec![
        vec!["-v", "users", "list", "--page-size", "2"],
        vec!["-vv", "groups", "get", &gid],
        vec!["-vv", "users", "get", "missing-user", "-o", "json"],
        vec![
            "-vv",
            "groups",
            "members",
            "add",
            "--yes",
            &gid,
            "user3@example.com",
        ],
    ];
    for args in runs {
        let out = emu.cmd().args(&args).output().expect("runs");
        let err = text(&out.stderr);
        assert!(!err.is_empty(), "-v traces something for {args:?}");
        assert!(
            !err.contains(TOKEN),
            "token leaked on stderr for {args:?}:\n{err}"
        );
        assert!(!text(&out.stdout).contains(TOKEN));
    }
    // Also when the token is given on the command line.
    let out = emu
        .cmd()
        .env_remove("SEGMENT_PUBLIC_API_TOKEN")
        .args(["-vv", "--token", TOKEN, "users", "list"])
        .output()
        .expect("runs");
    assert!(out.status.success());
    assert!(!text(&out.stderr).contains(TOKEN));
}

#[test]
fn rate_limit_waits_then_succeeds() {
    let emu = Emu::with(|b| b.mutation_limit(1).window(Duration::from_secs(2)));
    for name in ["A", "B"] {
        emu.cmd()
            .args(["groups", "create", "--yes", name])
            .assert()
            .success();
    }
    assert_eq!(emu.h().group_ids().len(), 2);
    assert!(
        emu.h().journal().iter().any(|e| e.rate_limited),
        "the second create was rate limited, waited, and retried"
    );
}

// ---- Ctrl-C and the emulator command -----------------------------------------------------

fn sigint(pid: u32) {
    let status = std::process::Command::new("kill")
        .args(["-INT", &pid.to_string()])
        .status()
        .expect("kill runs");
    assert!(status.success());
}

/// Waits (bounded, 30 s) for the event that makes Ctrl-C meaningful: the process has installed
/// its SIGINT handler (Linux: bit 2 of `SigCgt` in `/proc/PID/status`). Instead of a sleep.
fn wait_for_sigint_handler(pid: u32) {
    let start = Instant::now();
    loop {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let caught = status
            .lines()
            .find_map(|l| l.strip_prefix("SigCgt:"))
            .and_then(|mask| u64::from_str_radix(mask.trim(), 16).ok())
            .unwrap_or(0);
        if caught & (1 << (2 - 1)) != 0 {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "no SIGINT handler after 30 s"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
}

fn wait_exit(child: &mut std::process::Child, limit: Duration) -> std::process::ExitStatus {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            panic!("process did not stop within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn ctrl_c_stops_a_command_with_130() {
    let emu = Emu::start(1, 0, 0);
    // Waiting on stdin that never ends: only Ctrl-C stops it.
    let mut child = std::process::Command::new(BIN)
        .env_clear()
        .env("SEGMENT_PUBLIC_API_TOKEN", TOKEN)
        .args([
            "--base-url",
            &emu.h().base_url(),
            "users",
            "delete",
            "--from-file",
            "-",
        ])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    wait_for_sigint_handler(child.id());
    sigint(child.id());
    let status = wait_exit(&mut child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(130));
    assert!(emu.requests(Operation::DeleteUsers).is_empty());
    let mut err = String::new();
    child
        .stderr
        .take()
        .expect("stderr")
        .read_to_string(&mut err)
        .expect("read stderr");
    assert!(
        err.contains("interrupted") && err.contains("may have been applied"),
        "{err}"
    );
}

#[test]
fn ctrl_c_stops_a_slow_list_with_130() {
    let emu = Emu::with(|b| b.users(3).list_delay(Duration::from_secs(30)));
    let mut child = std::process::Command::new(BIN)
        .env_clear()
        .env("SEGMENT_PUBLIC_API_TOKEN", TOKEN)
        .args([
            "--base-url",
            &emu.h().base_url(),
            "users",
            "list",
            "-o",
            "ndjson",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    // Let the first page request get in flight (it takes 30 s to answer), then interrupt.
    let start = Instant::now();
    wait_for_sigint_handler(child.id());
    sigint(child.id());
    let status = wait_exit(&mut child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(130));
    assert!(
        start.elapsed() < Duration::from_secs(15),
        "did not wait for the slow page"
    );
}

#[test]
fn emulator_command_serves_until_ctrl_c() {
    let mut child = std::process::Command::new(BIN)
        .env_clear()
        .args([
            "emulator",
            "--port",
            "0",
            "--token",
            "emu-tok",
            "--seed-users",
            "3",
            "--seed-groups",
            "1",
            "-o",
            "json",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    let stdout = child.stdout.take().expect("stdout");
    let mut line = String::new();
    BufReader::new(stdout)
        .read_line(&mut line)
        .expect("first line");
    let info: Value = serde_json::from_str(&line).expect("JSON line");
    let url = info["baseUrl"].as_str().expect("baseUrl").to_string();
    assert_eq!(info["token"], "emu-tok");

    let out = Command::new(BIN)
        .env_clear()
        .env("SEGMENT_PUBLIC_API_TOKEN", "emu-tok")
        .args(["--base-url", &url, "users", "list"])
        .timeout(Duration::from_secs(30))
        .assert()
        .success()
        .get_output()
        .clone();
    assert_eq!(json(&out.stdout).as_array().map(Vec::len), Some(3));
    let out = Command::new(BIN)
        .env_clear()
        .env("SEGMENT_PUBLIC_API_TOKEN", "emu-tok")
        .args(["--base-url", &url, "groups", "list"])
        .timeout(Duration::from_secs(30))
        .assert()
        .success()
        .get_output()
        .clone();
    assert_eq!(json(&out.stdout).as_array().map(Vec::len), Some(1));

    sigint(child.id());
    let status = wait_exit(&mut child, Duration::from_secs(10));
    assert_eq!(status.code(), Some(0));
}

// ---- names, lookups and jobs --------------------------------------------------------------

#[test]
fn roles_list_and_workspace() {
    let emu = Emu::start(0, 0, 0);
    let out = emu
        .cmd()
        .args(["roles", "list", "-o", "json"])
        .assert()
        .success();
    let roles = json(&out.get_output().stdout);
    assert_eq!(roles[0]["id"], OWNER_ROLE);
    assert_eq!(roles[0]["name"], "Workspace Owner");
    let out = emu
        .cmd()
        .args(["roles", "ls", "-o", "table"])
        .assert()
        .success();
    assert!(text(&out.get_output().stdout).contains("Source Read-only"));
    let out = emu
        .cmd()
        .args(["workspace", "-o", "json"])
        .assert()
        .success();
    assert_eq!(json(&out.get_output().stdout)["id"], WORKSPACE);
}

#[test]
fn users_find_reports_missing_emails() {
    let emu = Emu::start(5, 0, 0);
    let out = emu
        .cmd()
        .args([
            "users",
            "find",
            "USER2@example.com",
            "nobody@example.com",
            "user4@example.com",
            "-o",
            "json",
        ])
        .assert()
        .success();
    let v = json(&out.get_output().stdout);
    let found: Vec<&str> = v["found"]
        .as_array()
        .expect("found")
        .iter()
        .filter_map(|u| u["email"].as_str())
        .collect();
    assert_eq!(found, ["user2@example.com", "user4@example.com"]);
    assert_eq!(v["missing"], serde_json::json!(["nobody@example.com"]));
    let out = emu
        .cmd()
        .args(["users", "find", "nobody@example.com", "-o", "table"])
        .assert()
        .success();
    assert!(text(&out.get_output().stderr).contains("no match: nobody@example.com"));
}

#[test]
fn invites_find_reports_missing_emails() {
    let emu = Emu::start(0, 0, 3);
    let out = emu
        .cmd()
        .args([
            "invites",
            "find",
            "Invitee1@example.com",
            "nobody@example.com",
            "-o",
            "json",
        ])
        .assert()
        .success();
    let v = json(&out.get_output().stdout);
    assert_eq!(v["found"], serde_json::json!(["invitee1@example.com"]));
    assert_eq!(v["missing"], serde_json::json!(["nobody@example.com"]));
}

#[test]
fn permissions_add_by_role_name_on_the_workspace() {
    let emu = Emu::start(2, 0, 0);
    let user = emu.h().user_ids()[1].clone();
    emu.cmd()
        .args([
            "permissions",
            "add",
            "--yes",
            "--role",
            "workspace owner",
            "--resource",
            "workspace",
            "--user",
            &user,
            "-o",
            "json",
        ])
        .assert()
        .success();
    let held = emu.h().user(&user).expect("user").permissions;
    assert_eq!(held.len(), 1);
    assert_eq!(held[0].role_id, OWNER_ROLE);
    assert_eq!(held[0].resources[0].id, WORKSPACE);
    assert_eq!(held[0].resources[0].resource_type, "WORKSPACE");
}

#[test]
fn an_unknown_role_name_exits_2_naming_close_roles_and_sends_no_mutation() {
    let emu = Emu::start(1, 0, 0);
    let user = emu.h().user_ids()[0].clone();
    let out = emu
        .cmd()
        .args([
            "permissions",
            "add",
            "--yes",
            "--role",
            "Source Admn",
            "--resource",
            "SOURCE:s1",
            "--user",
            &user,
        ])
        .assert()
        .code(2);
    let stderr = text(&out.get_output().stderr);
    assert!(stderr.contains("\"Source Admin\""), "{stderr}");
    assert!(
        emu.h().journal().iter().all(|e| e.method == "GET"),
        "only the roles lookup was sent"
    );
}

/// 12 users in 3 groups; user 1 is the seeded Workspace Owner.
fn offboard_emu() -> Emu {
    Emu::start(12, 3, 2)
}

#[test]
fn offboard_dry_run_and_non_terminal_without_yes_send_nothing() {
    let emu = offboard_emu();
    let out = emu
        .cmd()
        .args([
            "offboard",
            "user5@example.com",
            "invitee1@example.com",
            "ghost@example.com",
            "--dry-run",
            "-o",
            "table",
        ])
        .assert()
        .success();
    let stderr = text(&out.get_output().stderr);
    assert!(stderr.contains("delete user user5@example.com"), "{stderr}");
    assert!(
        stderr.contains("withdraw invite invitee1@example.com"),
        "{stderr}"
    );
    assert!(
        stderr.contains("no user or invite: ghost@example.com"),
        "{stderr}"
    );
    assert!(stderr.contains("dry run"), "{stderr}");
    let out = emu
        .cmd()
        .args(["offboard", "user5@example.com", "--dry-run", "-o", "json"])
        .assert()
        .success();
    let plan = json(&out.get_output().stdout);
    assert_eq!(plan["plan"]["users"][0]["email"], "user5@example.com");
    assert_eq!(plan["dryRun"], true);
    let out = emu
        .cmd()
        .args(["offboard", "user5@example.com"])
        .write_stdin("")
        .assert()
        .code(2);
    assert!(text(&out.get_output().stderr).contains("--yes"));
    assert!(emu.h().journal().iter().all(|e| e.method == "GET"));
    assert_eq!(emu.h().user_count(), 12);
}

#[test]
fn offboard_with_yes_removes_people_in_bulk_and_reports_json() {
    let emu = offboard_emu();
    let leaving = [
        "user3@example.com",
        "user4@example.com",
        "USER5@example.com",
        "invitee2@example.com",
    ];
    let out = emu
        .cmd()
        .arg("offboard")
        .args(leaving)
        .args(["--yes", "-o", "json"])
        .assert()
        .success();
    let v = json(&out.get_output().stdout);
    assert_eq!(
        v["report"]["usersDeleted"]
            .as_array()
            .map(Vec::len)
            .or(v["report"]["users_deleted"].as_array().map(Vec::len)),
        Some(3)
    );
    let deletes: Vec<Operation> = emu
        .h()
        .journal()
        .iter()
        .filter(|e| e.method != "GET")
        .filter_map(|e| e.operation)
        .collect();
    assert_eq!(deletes, [Operation::DeleteUsers, Operation::DeleteInvites]);
    assert_eq!(emu.h().user_count(), 9);
    let state = emu.h().state();
    let emails: Vec<&str> = state.users.iter().map(|u| u.email.as_str()).collect();
    for gone in [
        "user3@example.com",
        "user4@example.com",
        "user5@example.com",
    ] {
        assert!(!emails.contains(&gone));
    }
    let staying: Vec<String> = state.users.iter().map(|u| u.id.clone()).collect();
    for group in &state.groups {
        assert!(
            group.users.iter().all(|u| staying.contains(u)),
            "no membership left behind"
        );
        assert!(!group.invites.contains(&"invitee2@example.com".to_string()));
    }
}

#[test]
fn offboard_in_a_table_prints_the_plan_then_one_summary_line() {
    let emu = offboard_emu();
    let out = emu
        .cmd()
        .args([
            "offboard",
            "user6@example.com",
            "invitee1@example.com",
            "--yes",
            "-o",
            "table",
        ])
        .assert()
        .success();
    let stderr = text(&out.get_output().stderr);
    assert!(
        stderr.contains("plan: 1 user to delete, 1 invite to withdraw, 2 requests to send"),
        "{stderr}"
    );
    let stdout = text(&out.get_output().stdout);
    assert_eq!(
        stdout.trim(),
        "deleted 1 user and withdrew 1 invite in 2 requests (0 429s, waited 0.0 s)"
    );
    assert_eq!(emu.h().user_count(), 11);
    // Nothing left to do: said, exit 0, nothing sent.
    let before = emu.h().journal().len();
    let out = emu
        .cmd()
        .args(["offboard", "user6@example.com", "--yes", "-o", "table"])
        .assert()
        .success();
    assert!(text(&out.get_output().stderr).contains("nothing to do"));
    let after: Vec<_> = emu.h().journal().into_iter().skip(before).collect();
    assert!(after.iter().all(|e| e.method == "GET"));
}

#[test]
fn offboard_refuses_the_last_owner_with_exit_2() {
    let emu = offboard_emu();
    let owner = emu.h().state().users[0].email.clone();
    let out = emu
        .cmd()
        .args(["offboard", &owner, "--yes"])
        .assert()
        .code(2);
    assert!(text(&out.get_output().stderr).contains("last holder"));
    assert!(emu.h().journal().iter().all(|e| e.method == "GET"));
    emu.cmd()
        .args(["offboard", &owner, "--yes", "--allow-owner-removal"])
        .assert()
        .success();
    assert_eq!(emu.h().user_count(), 11);
}

#[test]
fn audit_csv_parses_with_a_csv_reader_and_notes_what_it_cannot_read() {
    let emu = Emu::start(20, 3, 2);
    let out = emu.cmd().args(["audit", "-o", "csv"]).assert().success();
    let mut reader = csv::Reader::from_reader(out.get_output().stdout.as_slice());
    let headers = reader.headers().expect("header row").clone();
    assert_eq!(
        headers.iter().collect::<Vec<_>>(),
        ["EMAIL", "SUBJECT", "VIA", "ROLE", "RESOURCE", "LABELS"]
    );
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("rows");
    assert!(rows.iter().any(|r| &r[3] == "Workspace Owner"
        && &r[2] == "direct"
        && r[4] == format!("WORKSPACE:{WORKSPACE}")
        && r[5].is_empty()));
    assert!(rows.iter().any(|r| r[2].starts_with("group:")));
    let mut invites = emu.h().invite_emails();
    invites.sort();
    assert_eq!(invites.len(), 2);
    assert!(
        rows.iter().all(|r| &r[2] != "invite"),
        "no row stands in for an unreadable invite"
    );
    let stderr = String::from_utf8_lossy(&out.get_output().stderr);
    for email in &invites {
        assert!(
            stderr.contains(&format!("note: {email} has a pending invite")),
            "{stderr}"
        );
    }
    let out = emu
        .cmd()
        .args([
            "audit",
            "--role",
            "workspace owner",
            "--resource",
            "workspace",
            "-o",
            "json",
        ])
        .assert()
        .success();
    let owners = json(&out.get_output().stdout);
    assert_eq!(owners["rows"].as_array().map(Vec::len), Some(1));
    assert_eq!(owners["rows"][0]["email"], emu.h().state().users[0].email);
    // A role filter still reports the invites it cannot see into, as notes.
    let notes: Vec<&str> = owners["notes"]
        .as_array()
        .expect("notes")
        .iter()
        .filter_map(|n| n["email"].as_str())
        .collect();
    assert_eq!(
        notes,
        invites.iter().map(String::as_str).collect::<Vec<_>>()
    );
    assert_eq!(owners["notes"][0]["kind"], "invite_permissions_unreadable");
    emu.cmd().args(["audit", "--role", "Nope"]).assert().code(2);
}

#[test]
fn audit_scoped_by_email_or_group_reports_the_reads_it_sent() {
    let emu = Emu::start(30, 10, 2);
    let state = emu.h().state();
    let user = state
        .users
        .iter()
        .find(|u| !u.groups.is_empty())
        .expect("a user in a group");

    // JSON: `requests` beside `rows` and `notes`, equal to what reached the emulator.
    emu.h().clear_journal();
    let out = emu
        .cmd()
        .args(["audit", "--email", &user.email, "-o", "json"])
        .assert()
        .success();
    let report = json(&out.get_output().stdout);
    let mut keys: Vec<&str> = report
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    keys.sort_unstable();
    assert_eq!(keys, ["notes", "requests", "rows"]);
    let sent = emu.h().journal().len() as u64;
    assert_eq!(report["requests"].as_u64(), Some(sent));
    // Users page, the user's groups, their permissions: no group listing.
    assert!(sent <= 3, "{sent} requests");
    let rows = report["rows"].as_array().expect("rows");
    assert!(rows.iter().all(|r| r["email"] == user.email.as_str()));
    assert!(rows.iter().any(|r| r["via"]["kind"] == "group"), "{rows:?}");

    // Table: rows through the group only, and the reads on stderr.
    let group = state
        .groups
        .iter()
        .find(|g| g.id == user.groups[0])
        .expect("the user's group");
    emu.h().clear_journal();
    let out = emu
        .cmd()
        .args(["audit", "--group", &group.name.to_uppercase(), "-o", "csv"])
        .assert()
        .success();
    let sent = emu.h().journal().len();
    let stderr = String::from_utf8_lossy(&out.get_output().stderr);
    assert!(
        stderr.contains(&format!("read {sent} request")),
        "{sent}: {stderr}"
    );
    let mut reader = csv::Reader::from_reader(out.get_output().stdout.as_slice());
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("rows");
    assert!(!rows.is_empty());
    let via = format!("group:{}", group.name);
    assert!(rows.iter().all(|r| r[2] == *via.as_str()), "{rows:?}");
    assert!(rows.iter().any(|r| r[0] == *user.email.as_str()));

    emu.cmd()
        .args(["audit", "--group", "no such group"])
        .assert()
        .code(2);
}

#[test]
fn new_commands_have_help() {
    for args in [
        vec!["roles", "list", "--help"],
        vec!["workspace", "--help"],
        vec!["users", "find", "--help"],
        vec!["invites", "find", "--help"],
        vec!["offboard", "--help"],
        vec!["audit", "--help"],
    ] {
        Command::new(BIN).args(&args).assert().success();
    }
    let out = Command::new(BIN)
        .args(["permissions", "add", "--help"])
        .assert()
        .success();
    let help = text(&out.get_output().stdout);
    assert!(
        help.contains("workspace") && help.contains("name"),
        "{help}"
    );
}

#[test]
fn offboard_killed_half_way_converges_on_the_next_run() {
    // 300 leavers need two URL-limited DELETEs; the second one hangs in the emulator, and the
    // process is killed (SIGKILL) once the first has been applied.
    let emu = Emu::with(|b| b.users(320).groups(4));
    let hang = Fault::delay(Duration::from_secs(120))
        .on_operation(Operation::DeleteUsers)
        .skip_first(1);
    emu.h().inject(hang);
    let leavers: Vec<String> = (2..302).map(|i| format!("user{i}@example.com")).collect();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("leavers.txt");
    std::fs::write(&file, leavers.join("\n")).expect("write list");
    let mut child = std::process::Command::new(BIN)
        .env_clear()
        .env("SEGMENT_PUBLIC_API_TOKEN", TOKEN)
        .args([
            "--base-url",
            &emu.h().base_url(),
            "offboard",
            "--yes",
            "--from-file",
        ])
        .arg(&file)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    // Wait (bounded) for the event: the first chunk applied, i.e. users gone.
    let started = Instant::now();
    while emu.h().user_count() == 320 {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "first chunk never applied"
        );
        assert!(child.try_wait().expect("wait").is_none(), "exited early");
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL");
    let _ = child.wait();
    let left = emu.h().user_count();
    assert!(left > 20 && left < 320, "half way: {left}");

    emu.h().clear_faults();
    emu.cmd()
        .args(["offboard", "--yes", "--from-file"])
        .arg(&file)
        .assert()
        .success();
    assert_eq!(emu.h().user_count(), 20);
    // Every leaver was deleted by exactly one applied request.
    let applied: Vec<String> = emu
        .requests(Operation::DeleteUsers)
        .into_iter()
        .filter(|e| e.applied)
        .flat_map(|e| {
            e.query
                .split('&')
                .filter_map(|p| p.split_once('=').map(|(_, v)| v.to_string()))
                .collect::<Vec<_>>()
        })
        .collect();
    let distinct: std::collections::HashSet<&String> = applied.iter().collect();
    assert_eq!((applied.len(), distinct.len()), (300, 300));
    // A third run has nothing to do and sends no mutation.
    let before = emu
        .h()
        .journal()
        .iter()
        .filter(|e| e.method != "GET")
        .count();
    emu.cmd()
        .args(["offboard", "--yes", "--from-file"])
        .arg(&file)
        .assert()
        .success();
    let after = emu
        .h()
        .journal()
        .iter()
        .filter(|e| e.method != "GET")
        .count();
    assert_eq!(before, after);
}

#[test]
fn permissions_add_to_a_group_and_replace_for_a_user_reach_the_emulator() {
    let emu = Emu::start(2, 1, 0);
    let group = emu.h().group_ids()[0].clone();
    let user = emu.h().user_ids()[1].clone();
    let before = emu.h().group(&group).expect("group").permissions.len();
    emu.cmd()
        .args([
            "permissions",
            "add",
            "--yes",
            "--group",
            &group,
            "--role",
            "Source Admin",
            "--resource",
            "SOURCE:src1",
            "--role",
            MEMBER_ROLE,
            "--resource",
            "workspace",
            "-o",
            "json",
        ])
        .assert()
        .success();
    let held = emu.h().group(&group).expect("group").permissions;
    assert_eq!(
        held.len(),
        before + 2,
        "both grants were added to the group"
    );
    assert!(held.iter().any(|p| {
        p.role_name == "Source Admin"
            && p.resources
                .iter()
                .any(|r| r.resource_type == "SOURCE" && r.id == "src1")
    }));
    assert!(held.iter().any(|p| {
        p.role_id == MEMBER_ROLE
            && p.resources
                .iter()
                .any(|r| r.resource_type == "WORKSPACE" && r.id == WORKSPACE)
    }));

    emu.cmd()
        .args([
            "permissions",
            "add",
            "--yes",
            "--user",
            &user,
            "--role",
            OWNER_ROLE,
            "--resource",
            "workspace",
        ])
        .assert()
        .success();
    emu.cmd()
        .args([
            "permissions",
            "replace",
            "--yes",
            "--user",
            &user,
            "--role",
            "Workspace Read-only",
            "--resource",
            "workspace",
            "-o",
            "json",
        ])
        .assert()
        .success();
    let held = emu.h().user(&user).expect("user").permissions;
    assert_eq!(
        held.len(),
        1,
        "replace leaves exactly the given permission: {held:?}"
    );
    assert_eq!(held[0].role_name, "Workspace Read-only");
    let puts = emu.requests(Operation::ReplacePermissionsForUser);
    assert_eq!(puts.len(), 1);
}

// ---- the confirm path: --yes, --dry-run, no terminal ---------------------------------------

/// Every command that changes the workspace and sends nothing before asking but the group
/// list's reads (to resolve a group argument), with arguments
/// valid against `Emu::start(4, 2, 2)`.
fn changing_commands(emu: &Emu) -> Vec<Vec<String>> {
    let users = emu.h().user_ids();
    let groups = emu.h().group_ids();
    let invite = emu.h().invite_emails()[0].clone();
    let (user, group) = (users[1].as_str(), groups[0].as_str());
    let owned = |args: &[&str]| args.iter().map(|a| a.to_string()).collect::<Vec<_>>();
    vec![
        owned(&["users", "delete", user]),
        owned(&[
            "invites",
            "create",
            "new@example.com",
            "--role",
            "Workspace Member",
            "--resource",
            "workspace",
        ]),
        owned(&["invites", "delete", &invite]),
        owned(&["groups", "create", "Data Team"]),
        owned(&["groups", "rename", group, "Analytics"]),
        owned(&["groups", "delete", group]),
        owned(&["groups", "members", "add", group, "user3@example.com"]),
        owned(&["groups", "members", "remove", group, "user2@example.com"]),
        owned(&["groups", "members", "replace", group, "user4@example.com"]),
        owned(&[
            "permissions",
            "add",
            "--user",
            user,
            "--role",
            "Workspace Member",
            "--resource",
            "workspace",
        ]),
        owned(&[
            "permissions",
            "replace",
            "--group",
            group,
            "--role",
            "Workspace Member",
            "--resource",
            "workspace",
        ]),
        owned(&[
            "permissions",
            "add",
            "--user",
            user,
            "--role",
            "Source Admin",
            "--resource",
            "workspace",
            "--label",
            "environment:prod",
        ]),
        owned(&[
            "labels",
            "create",
            "team:data",
            "--description",
            "Data team",
        ]),
        owned(&["labels", "delete", "environment:dev"]),
    ]
}

#[test]
fn without_yes_or_a_terminal_every_change_is_refused_and_nothing_is_sent() {
    let emu = Emu::start(4, 2, 2);
    let before = emu.h().state();
    for args in changing_commands(&emu) {
        let out = emu
            .cmd()
            .args(&args)
            .args(["-o", "table"])
            .write_stdin("")
            .assert()
            .code(2);
        let stderr = text(&out.get_output().stderr);
        assert!(
            stderr.contains("plan: "),
            "the change is shown: {args:?}: {stderr}"
        );
        assert!(
            stderr.contains("changes the workspace: pass --yes")
                && stderr.contains("nothing was sent"),
            "{args:?}: {stderr}"
        );
        let out = emu
            .cmd()
            .args(&args)
            .args(["-o", "json"])
            .write_stdin("")
            .assert()
            .code(2);
        let env = json(&out.get_output().stderr);
        assert_eq!(env["errors"][0]["type"], "usage", "{args:?}: {env}");
    }
    assert!(
        only_group_lists(&emu),
        "nothing but the group list (a group argument resolved) reached the service: {:?}",
        emu.h().journal()
    );
    assert_eq!(emu.h().state(), before);
}

/// Whether the journal holds nothing but reads of the group list: a command taking a group
/// (id or name) resolves it, once, before its preview; nothing else is sent before asking.
fn only_group_lists(emu: &Emu) -> bool {
    emu.h()
        .journal()
        .iter()
        .all(|e| e.operation == Some(Operation::ListUserGroups))
}

#[test]
fn dry_run_shows_every_change_and_sends_nothing() {
    let emu = Emu::start(4, 2, 2);
    let before = emu.h().state();
    for args in changing_commands(&emu) {
        let out = emu
            .cmd()
            .args(&args)
            .args(["--dry-run", "-o", "table"])
            .assert()
            .success();
        let stderr = text(&out.get_output().stderr);
        assert!(stderr.contains("plan: "), "{args:?}: {stderr}");
        assert!(
            stderr.contains("dry run: nothing was sent"),
            "{args:?}: {stderr}"
        );
        assert!(out.get_output().stdout.is_empty(), "{args:?}");
        let out = emu
            .cmd()
            .args(&args)
            .args(["--dry-run", "-o", "json"])
            .assert()
            .success();
        let v = json(&out.get_output().stdout);
        assert_eq!(v["dryRun"], true, "{args:?}: {v}");
        assert!(
            v["plan"]["items"].as_array().is_some_and(|i| !i.is_empty()),
            "{args:?}: {v}"
        );
        // --yes does not outrank --dry-run.
        emu.cmd()
            .args(&args)
            .args(["--dry-run", "--yes"])
            .assert()
            .success();
    }
    assert!(only_group_lists(&emu), "nothing else reached the service");
    assert_eq!(emu.h().state(), before);
}

#[test]
fn the_dry_run_states_the_requests_yes_then_sends() {
    let emu = Emu::start(300, 0, 0);
    let ids = emu.h().user_ids().join("\n");
    let out = emu
        .cmd()
        .args([
            "users",
            "delete",
            "--dry-run",
            "-o",
            "json",
            "--from-file",
            "-",
        ])
        .write_stdin(ids.clone())
        .assert()
        .success();
    let plan = json(&out.get_output().stdout)["plan"].clone();
    assert_eq!(plan["verb"], "delete");
    assert_eq!(plan["items"].as_array().map(Vec::len), Some(300));
    let announced = plan["requests"].as_u64().expect("a request count");
    assert!(emu.h().journal().is_empty(), "the dry run sent nothing");
    assert_eq!(emu.h().user_count(), 300);

    let out = emu
        .cmd()
        .args([
            "users",
            "delete",
            "--yes",
            "-o",
            "table",
            "--from-file",
            "-",
        ])
        .write_stdin(ids)
        .assert()
        .success();
    let stderr = text(&out.get_output().stderr);
    assert!(
        stderr.contains(&format!(
            "plan: 300 users to delete, {announced} requests to send"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains("... and 280 more"),
        "a long list is cut: {stderr}"
    );
    assert_eq!(emu.requests(Operation::DeleteUsers).len() as u64, announced);
    assert_eq!(emu.h().user_count(), 0);
}

#[test]
fn offboard_dry_run_names_the_guard_that_would_refuse() {
    let emu = offboard_emu();
    let owner = emu.h().state().users[0].email.clone();
    let out = emu
        .cmd()
        .args(["offboard", &owner, "--dry-run", "-o", "table"])
        .assert()
        .success();
    let stderr = text(&out.get_output().stderr);
    assert!(
        stderr.contains("without --dry-run this is refused")
            && stderr.contains("--allow-owner-removal"),
        "{stderr}"
    );
    let out = emu
        .cmd()
        .args(["offboard", &owner, "--dry-run", "-o", "json"])
        .assert()
        .success();
    let v = json(&out.get_output().stdout);
    assert_eq!(v["dryRun"], true);
    assert!(
        v["refused"]
            .as_str()
            .is_some_and(|r| r.contains("--allow-owner-removal")),
        "{v}"
    );
    // The refusal itself: exit 2, typed, the flag named, nothing sent.
    let out = emu
        .cmd()
        .args(["offboard", &owner, "--yes", "-o", "json"])
        .assert()
        .code(2);
    let env = json(&out.get_output().stderr);
    assert_eq!(env["errors"][0]["type"], "last-owner", "{env}");
    assert!(emu.h().journal().iter().all(|e| e.method == "GET"));
    assert_eq!(emu.h().user_count(), 12);
}

// ---- labels ------------------------------------------------------------------------------

/// The permissions `user` holds on the workspace as (role name, labels `key:value`), from the
/// emulator's state.
fn workspace_grants(emu: &Emu, user: &str) -> Vec<(String, Vec<String>)> {
    emu.h()
        .user(user)
        .expect("user")
        .permissions
        .iter()
        .flat_map(|p| {
            p.resources
                .iter()
                .filter(|r| r.resource_type == "WORKSPACE" && r.id == WORKSPACE)
                .map(|r| {
                    let labels = r
                        .labels
                        .iter()
                        .map(|l| format!("{}:{}", l.key, l.value))
                        .collect();
                    (p.role_name.clone(), labels)
                })
        })
        .collect()
}

#[test]
fn permissions_add_with_labels_reaches_the_wire_and_the_audit_shows_them() {
    let emu = Emu::start(3, 0, 0);
    let user = emu.h().user_ids()[2].clone();
    let args = [
        "permissions",
        "add",
        "--user",
        &user,
        "--role",
        "Source Admin",
        "--resource",
        "workspace",
        "--label",
        "environment:prod",
        "--label",
        "region:emea",
        "--role",
        "Source Read-only",
        "--resource",
        "workspace",
    ];
    // The plan names the labels before anything is sent.
    let out = emu
        .cmd()
        .args(args)
        .args(["--dry-run", "-o", "table"])
        .assert()
        .success();
    let stderr = text(&out.get_output().stderr);
    assert!(
        stderr.contains("Source Admin on workspace narrowed by environment:prod&region:emea"),
        "{stderr}"
    );
    let out = emu
        .cmd()
        .args(args)
        .args(["--dry-run", "-o", "json"])
        .assert()
        .success();
    let plan = json(&out.get_output().stdout);
    assert_eq!(
        plan["plan"]["items"],
        serde_json::json!([
            "Source Admin on workspace narrowed by environment:prod&region:emea",
            "Source Read-only on workspace"
        ])
    );
    assert!(emu.h().journal().iter().all(|e| e.method == "GET"));

    // A permission narrowed by a label the workspace lacks is refused by the service.
    emu.cmd()
        .args(["labels", "create", "region:emea", "--yes"])
        .assert()
        .success();
    emu.cmd().args(args).args(["--yes"]).assert().success();
    let posts = emu.requests(Operation::AddPermissionsToUser);
    assert_eq!(posts.len(), 1);
    let body: Value =
        serde_json::from_str(posts[0].body.as_deref().expect("a body")).expect("JSON body");
    let sent: Vec<&Value> = body["permissions"]
        .as_array()
        .expect("permissions")
        .iter()
        .collect();
    let narrowed = sent
        .iter()
        .find(|p| p["resources"][0]["labels"].is_array())
        .expect("a narrowed permission was sent");
    assert_eq!(
        narrowed["resources"][0]["labels"],
        serde_json::json!([
            {"key": "environment", "value": "prod"},
            {"key": "region", "value": "emea"}
        ])
    );
    assert_eq!(narrowed["resources"][0]["type"], "WORKSPACE");
    let mut held = workspace_grants(&emu, &user);
    held.sort();
    assert_eq!(
        held,
        vec![
            (
                "Source Admin".to_string(),
                vec!["environment:prod".to_string(), "region:emea".to_string()]
            ),
            ("Source Read-only".to_string(), vec![]),
        ],
        "the narrowed grant and the plain one are both held, apart"
    );

    // The audit shows the narrowing: a LABELS column in CSV, an array in JSON.
    let email = emu.h().user(&user).expect("user").email;
    let out = emu
        .cmd()
        .args(["audit", "--email", &email, "-o", "csv"])
        .assert()
        .success();
    let mut reader = csv::Reader::from_reader(out.get_output().stdout.as_slice());
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("rows");
    let labels_of = |role: &str| -> Vec<String> {
        rows.iter()
            .filter(|r| &r[3] == role)
            .map(|r| r[5].to_string())
            .collect()
    };
    assert_eq!(labels_of("Source Admin"), ["environment:prod&region:emea"]);
    assert_eq!(labels_of("Source Read-only"), [""]);
    let out = emu
        .cmd()
        .args([
            "audit",
            "--email",
            &email,
            "--role",
            "Source Admin",
            "-o",
            "json",
        ])
        .assert()
        .success();
    let v = json(&out.get_output().stdout);
    assert_eq!(v["rows"].as_array().map(Vec::len), Some(1), "{v}");
    assert_eq!(
        v["rows"][0]["labels"],
        serde_json::json!(["environment:prod", "region:emea"])
    );
    let out = emu
        .cmd()
        .args(["audit", "--email", &email, "-o", "table"])
        .assert()
        .success();
    let table = text(&out.get_output().stdout);
    assert!(
        table.lines().next().is_some_and(|h| h.ends_with("LABELS")),
        "{table}"
    );
    assert!(table.contains("environment:prod&region:emea"), "{table}");

    // A user's table shows the narrowed resource with its labels.
    let out = emu
        .cmd()
        .args(["users", "get", &user, "-o", "table"])
        .assert()
        .success();
    let table = text(&out.get_output().stdout);
    assert!(
        table.contains(&format!(
            "Source Admin[WORKSPACE:{WORKSPACE} (environment:prod&region:emea)]"
        )),
        "{table}"
    );
}

#[test]
fn permissions_replace_for_a_group_carries_labels() {
    let emu = Emu::start(1, 1, 0);
    let group = emu.h().group_ids()[0].clone();
    emu.cmd()
        .args([
            "permissions",
            "replace",
            "--yes",
            "--group",
            &group,
            "--role",
            "Source Admin",
            "--resource",
            &format!("WORKSPACE:{WORKSPACE}"),
            "--label",
            "environment:dev",
        ])
        .assert()
        .success();
    let held = emu.h().group(&group).expect("group").permissions;
    assert_eq!(held.len(), 1, "{held:?}");
    let labels: Vec<(String, String)> = held[0].resources[0]
        .labels
        .iter()
        .map(|l| (l.key.clone(), l.value.clone()))
        .collect();
    assert_eq!(labels, [("environment".to_string(), "dev".to_string())]);
}

#[test]
fn label_usage_errors_exit_2_name_the_problem_and_send_nothing() {
    let emu = Emu::start(2, 0, 0);
    let user = emu.h().user_ids()[1].clone();
    let run = |extra: &[&str]| {
        let out = emu
            .cmd()
            .args(["permissions", "add", "--yes", "--user", &user])
            .args(extra)
            .args(["-o", "table"])
            .assert()
            .code(2);
        text(&out.get_output().stderr)
    };
    let stderr = run(&[
        "--role",
        "Source Admin",
        "--label",
        "environment:prod",
        "--resource",
        "workspace",
    ]);
    assert!(
        stderr.contains("--label environment:prod comes before any --resource"),
        "{stderr}"
    );
    let stderr = run(&[
        "--role",
        "Source Admin",
        "--resource",
        "SOURCE:src1",
        "--label",
        "environment:prod",
    ]);
    assert!(
        stderr.contains("labels narrow only a permission on the workspace"),
        "{stderr}"
    );
    let stderr = run(&[
        "--role",
        "Source Admin",
        "--resource",
        "workspace",
        "--label",
        "environment:prod_1",
    ]);
    assert!(stderr.contains("label value"), "{stderr}");
    let stderr = run(&[
        "--role",
        "Source Admin",
        "--resource",
        "workspace",
        "--label",
        "prod",
    ]);
    assert!(stderr.contains("key:value"), "{stderr}");
    for bad in ["nocolon", "1env:prod", "env:"] {
        emu.cmd()
            .args(["labels", "create", bad, "--yes"])
            .assert()
            .code(2);
        emu.cmd()
            .args(["labels", "delete", bad, "--yes"])
            .assert()
            .code(2);
    }
    assert!(emu.h().journal().is_empty(), "nothing reached the service");
}

#[test]
fn labels_list_in_each_format() {
    let emu = Emu::start(1, 0, 0);
    let run = |format: &str| {
        let out = emu
            .cmd()
            .args(["labels", "list", "-o", format])
            .assert()
            .success();
        text(&out.get_output().stdout)
    };
    let v: Value = serde_json::from_str(&run("json")).expect("JSON");
    let labels: Vec<&str> = v
        .as_array()
        .expect("an array")
        .iter()
        .filter_map(|l| l["label"].as_str())
        .collect();
    assert_eq!(labels, ["environment:dev", "environment:prod"], "{v}");
    assert_eq!(
        emu.h().label_strings(),
        labels,
        "as the workspace holds them"
    );
    let table = run("table");
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 3, "{table}");
    assert!(
        lines[0].starts_with("KEY:VALUE") && lines[0].ends_with("DESCRIPTION"),
        "{table}"
    );
    assert!(lines[2].starts_with("environment:prod"), "{table}");
    let csv = run("csv");
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    assert_eq!(
        reader
            .headers()
            .expect("headers")
            .iter()
            .collect::<Vec<_>>(),
        ["KEY:VALUE", "DESCRIPTION"]
    );
    assert_eq!(reader.records().count(), 2);
    let ndjson = run("ndjson");
    assert_eq!(ndjson.lines().count(), 2, "{ndjson}");
    assert_eq!(
        emu.requests(Operation::ListLabels).len(),
        4,
        "one request a listing: not paginated"
    );
}

#[test]
fn labels_create_and_delete_go_through_the_confirm_path() {
    let emu = Emu::start(1, 0, 0);
    let before = emu.h().state();
    let create = [
        "labels",
        "create",
        "region:emea",
        "--description",
        "EU data",
    ];
    // No terminal, no --yes: refused, nothing sent.
    let out = emu
        .cmd()
        .args(create)
        .args(["-o", "table"])
        .write_stdin("")
        .assert()
        .code(2);
    let stderr = text(&out.get_output().stderr);
    assert!(
        stderr.contains("create label region:emea described as \"EU data\""),
        "{stderr}"
    );
    assert!(
        stderr.contains("labels create changes the workspace: pass --yes"),
        "{stderr}"
    );
    // --dry-run: the plan, nothing sent.
    let out = emu
        .cmd()
        .args(create)
        .args(["--dry-run", "-o", "json"])
        .assert()
        .success();
    let v = json(&out.get_output().stdout);
    assert_eq!(v["dryRun"], true);
    assert_eq!(v["plan"]["items"], serde_json::json!(["region:emea"]));
    assert_eq!(v["plan"]["requests"], 1);
    assert!(emu.h().journal().is_empty(), "nothing reached the service");
    assert_eq!(emu.h().state(), before);

    // --yes: created, printed as the service answered.
    let out = emu
        .cmd()
        .args(create)
        .args(["--yes", "-o", "json"])
        .assert()
        .success();
    assert_eq!(
        json(&out.get_output().stdout),
        serde_json::json!({"label": "region:emea", "description": "EU data"})
    );
    assert_eq!(emu.requests(Operation::CreateLabel).len(), 1);
    assert!(emu.h().label_strings().contains(&"region:emea".to_string()));
    // Creating it again is the service's conflict: exit 1.
    emu.cmd()
        .args(["labels", "create", "region:emea", "--yes"])
        .assert()
        .code(1);

    // Delete: refused without --yes, shown by --dry-run, done by --yes.
    let delete = ["labels", "delete", "region:emea"];
    emu.cmd().args(delete).write_stdin("").assert().code(2);
    let out = emu
        .cmd()
        .args(delete)
        .args(["--dry-run", "-o", "table"])
        .assert()
        .success();
    let stderr = text(&out.get_output().stderr);
    assert!(
        stderr.contains("plan: 1 label to delete, 1 request to send"),
        "{stderr}"
    );
    assert!(emu.requests(Operation::DeleteLabel).is_empty());
    let out = emu
        .cmd()
        .args(delete)
        .args(["--yes", "-o", "table"])
        .assert()
        .success();
    assert_eq!(
        text(&out.get_output().stdout),
        "deleted 1 label in 1 request: region:emea\n"
    );
    let deletes = emu.requests(Operation::DeleteLabel);
    assert_eq!(deletes.len(), 1);
    assert_eq!(deletes[0].path, "/labels/region/emea");
    assert!(!emu.h().label_strings().contains(&"region:emea".to_string()));
}

#[test]
fn deleting_a_label_in_use_is_a_clear_error_and_nothing_changes() {
    let emu = Emu::with(|b| b.users(2).sources(2));
    // On a source.
    let before = emu.h().state();
    let out = emu
        .cmd()
        .args([
            "labels",
            "delete",
            "environment:prod",
            "--yes",
            "-o",
            "table",
        ])
        .assert()
        .code(1);
    let stderr = text(&out.get_output().stderr);
    for part in [
        "label environment:prod is in use",
        "cannot be deleted",
        "take it off those first",
        "the service said: label environment:prod is in use by 1 source",
        "nothing changed",
    ] {
        assert!(stderr.contains(part), "{part}: {stderr}");
    }
    let out = emu
        .cmd()
        .args([
            "labels",
            "delete",
            "environment:prod",
            "--yes",
            "-o",
            "json",
        ])
        .assert()
        .code(1);
    let env = json(&out.get_output().stderr);
    assert_eq!(env["status"], 409, "{env}");
    assert_eq!(emu.h().state().labels, before.labels);
    assert_eq!(emu.h().state().sources, before.sources);

    // Narrowing a permission (and on no source).
    let user = emu.h().user_ids()[1].clone();
    emu.cmd()
        .args(["labels", "create", "team:data", "--yes"])
        .assert()
        .success();
    emu.cmd()
        .args([
            "permissions",
            "add",
            "--yes",
            "--user",
            &user,
            "--role",
            "Source Read-only",
            "--resource",
            "workspace",
            "--label",
            "team:data",
        ])
        .assert()
        .success();
    let out = emu
        .cmd()
        .args(["labels", "delete", "team:data", "--yes", "-o", "table"])
        .assert()
        .code(1);
    let stderr = text(&out.get_output().stderr);
    assert!(stderr.contains("label team:data is in use"), "{stderr}");
    assert!(emu.h().label_strings().contains(&"team:data".to_string()));
    assert_eq!(
        workspace_grants(&emu, &user),
        [(
            "Source Read-only".to_string(),
            vec!["team:data".to_string()]
        )]
    );
    // An unknown label is said so too.
    let out = emu
        .cmd()
        .args(["labels", "delete", "team:nope", "--yes", "-o", "table"])
        .assert()
        .code(1);
    let stderr = text(&out.get_output().stderr);
    assert!(
        stderr.contains("the workspace has no label team:nope"),
        "{stderr}"
    );
}

#[test]
fn sources_list_in_each_format() {
    let emu = Emu::with(|b| b.sources(5));
    let out = emu
        .cmd()
        .args(["sources", "list", "--page-size", "2", "-o", "json"])
        .assert()
        .success();
    let v = json(&out.get_output().stdout);
    assert_eq!(ids_of(&v), emu.h().source_ids());
    assert_eq!(
        emu.requests(Operation::ListSources).len(),
        3,
        "5 sources at 2 per page"
    );
    let labels: Vec<Value> = v
        .as_array()
        .expect("array")
        .iter()
        .map(|s| s["labels"].clone())
        .collect();
    assert_eq!(labels[0], serde_json::json!(["environment:prod"]));
    assert_eq!(labels[1], serde_json::json!(["environment:dev"]));
    assert!(
        v[0]["enabled"].is_boolean() && v[0]["slug"].is_string(),
        "{v}"
    );

    let out = emu
        .cmd()
        .args(["sources", "ls", "-o", "table"])
        .assert()
        .success();
    let table = text(&out.get_output().stdout);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 6, "{table}");
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(header, ["ID", "SLUG", "NAME", "ENABLED", "LABELS"]);
    assert!(lines[1].ends_with("environment:prod"), "{table}");

    let out = emu
        .cmd()
        .args(["sources", "list", "-o", "csv"])
        .assert()
        .success();
    let mut reader = csv::Reader::from_reader(out.get_output().stdout.as_slice());
    let rows: Vec<csv::StringRecord> = reader.records().collect::<Result<_, _>>().expect("rows");
    assert_eq!(rows.len(), 5);
    let sources = emu.h().sources();
    assert_eq!(&rows[1][0], sources[1].id.as_str());
    assert_eq!(&rows[1][4], "environment:dev");

    let out = emu
        .cmd()
        .args(["sources", "list", "--page-size", "2", "-o", "ndjson"])
        .assert()
        .success();
    let lines: Vec<Value> = text(&out.get_output().stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON value per line"))
        .collect();
    assert_eq!(lines.len(), 5);
    assert_eq!(lines[4]["labels"], serde_json::json!(["environment:prod"]));
}

#[test]
fn labels_and_sources_have_help() {
    for args in [
        vec!["labels", "--help"],
        vec!["labels", "list", "--help"],
        vec!["labels", "create", "--help"],
        vec!["labels", "delete", "--help"],
        vec!["sources", "list", "--help"],
    ] {
        Command::new(BIN).args(&args).assert().success();
    }
    let out = Command::new(BIN)
        .args(["audit", "--help"])
        .assert()
        .success();
    let help = text(&out.get_output().stdout);
    assert!(help.contains("who can reach this source"), "{help}");
    let out = Command::new(BIN)
        .args(["permissions", "add", "--help"])
        .assert()
        .success();
    let help = text(&out.get_output().stdout);
    assert!(help.contains("--label <LABEL>"), "{help}");
}

#[test]
fn audit_of_a_source_shows_who_can_reach_it() {
    let emu = Emu::with(|b| b.users(3).sources(2));
    let (prod, dev) = (
        emu.h().source_ids()[0].clone(),
        emu.h().source_ids()[1].clone(),
    );
    let user = emu.h().user_ids()[2].clone();
    let email = emu.h().user(&user).expect("user").email;
    emu.cmd()
        .args([
            "permissions",
            "add",
            "--yes",
            "--user",
            &user,
            "--role",
            "Source Admin",
            "--resource",
            "workspace",
            "--label",
            "environment:prod",
        ])
        .assert()
        .success();
    let reach = |source: &str| -> Vec<(String, String, String)> {
        let out = emu
            .cmd()
            .args([
                "audit",
                "--resource",
                &format!("SOURCE:{source}"),
                "-o",
                "csv",
            ])
            .assert()
            .success();
        let mut reader = csv::Reader::from_reader(out.get_output().stdout.as_slice());
        reader
            .records()
            .map(|r| {
                let r = r.expect("a row");
                (r[0].to_string(), r[3].to_string(), r[5].to_string())
            })
            .collect()
    };
    let owner = emu.h().state().users[0].email.clone();
    let on_prod = reach(&prod);
    assert!(
        on_prod.contains(&(
            email.clone(),
            "Source Admin".to_string(),
            "environment:prod".to_string()
        )),
        "{on_prod:?}"
    );
    assert!(
        on_prod
            .iter()
            .any(|(e, role, labels)| *e == owner && role == "Workspace Owner" && labels.is_empty()),
        "{on_prod:?}"
    );
    let on_dev = reach(&dev);
    assert!(
        on_dev.iter().all(|(e, _, _)| *e != email),
        "the prod-narrowed grant does not reach a dev source: {on_dev:?}"
    );
    assert!(on_dev.iter().any(|(e, _, _)| *e == owner), "{on_dev:?}");
    // A source the workspace lacks is refused before any row is made.
    emu.cmd()
        .args(["audit", "--resource", "SOURCE:nope"])
        .assert()
        .code(2);
}

// ---- onboard ------------------------------------------------------------------------------

/// `onboard` arguments: a user, a pending invitee and two new people; "Source Admin" on the
/// workspace narrowed by environment:prod; groups "group 1" and "GROUP 2" by name.
fn onboard_args() -> Vec<String> {
    [
        "onboard",
        "user3@example.com",
        "invitee1@example.com",
        "new1@example.com",
        "new2@example.com",
        "--role",
        "source admin",
        "--resource",
        "workspace",
        "--label",
        "environment:prod",
        "--group",
        "group 1",
        "--group",
        "GROUP 2",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

/// Mutations (non-GET requests) in the journal.
fn mutations_sent(emu: &Emu) -> usize {
    emu.h()
        .journal()
        .iter()
        .filter(|e| e.method != "GET")
        .count()
}

/// Emails the applied `createInvites` carried, once per time sent.
fn invited(emu: &Emu) -> Vec<String> {
    emu.requests(Operation::CreateInvites)
        .into_iter()
        .filter(|e| e.applied)
        .flat_map(|e| {
            let body: Value =
                serde_json::from_str(e.body.as_deref().unwrap_or("{}")).expect("JSON");
            body["invites"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|i| i["email"].as_str().map(str::to_string))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn onboard_by_names_sends_the_planned_requests_and_a_second_run_nothing() {
    let emu = Emu::start(6, 3, 2);
    // The plan, as JSON: nothing sent.
    let out = emu
        .cmd()
        .args(onboard_args())
        .args(["--dry-run", "-o", "json"])
        .assert()
        .success();
    let v = json(&out.get_output().stdout);
    assert_eq!(v["dryRun"], true);
    let plan = &v["plan"];
    let kinds: Vec<&str> = plan["people"]
        .as_array()
        .expect("people")
        .iter()
        .map(|p| p["kind"].as_str().expect("kind"))
        .collect();
    assert_eq!(kinds, ["user", "invitee", "new", "new"]);
    assert_eq!(plan["inviteRequests"], 1);
    assert_eq!(plan["permissionRequests"], 1);
    assert_eq!(plan["membershipRequests"], 2);
    assert_eq!(mutations_sent(&emu), 0, "a dry run sends no mutation");
    let stderr = text(&out.get_output().stderr);
    assert!(
        stderr.contains("invitee1@example.com has a pending invite"),
        "{stderr}"
    );

    // Without --yes and no terminal: refused, nothing sent.
    emu.cmd()
        .args(onboard_args())
        .write_stdin("")
        .assert()
        .code(2);
    assert_eq!(mutations_sent(&emu), 0);

    // --yes, as CSV rows: exactly the planned requests.
    let out = emu
        .cmd()
        .args(onboard_args())
        .args(["--yes", "-o", "csv"])
        .assert()
        .success();
    let stdout = text(&out.get_output().stdout);
    assert!(
        stdout.starts_with("EMAIL,KIND,GRANT,JOIN,ALREADY IN,STATUS"),
        "{stdout}"
    );
    assert_eq!(stdout.lines().count(), 5, "{stdout}");
    assert_eq!(mutations_sent(&emu), 4);
    assert_eq!(emu.requests(Operation::CreateInvites).len(), 1);
    assert_eq!(emu.requests(Operation::AddPermissionsToUser).len(), 1);
    assert_eq!(emu.requests(Operation::AddUsersToUserGroup).len(), 2);
    let state = emu.h().state();
    for name in ["Group 1", "Group 2"] {
        let g = state.groups.iter().find(|g| g.name == name).expect("group");
        for email in [
            "invitee1@example.com",
            "new1@example.com",
            "new2@example.com",
        ] {
            assert!(g.invites.iter().any(|e| e == email), "{name}: {email}");
        }
        let user3 = state
            .users
            .iter()
            .find(|u| u.email == "user3@example.com")
            .expect("user3");
        assert!(g.users.contains(&user3.id), "{name}: user3");
    }

    // A second run: nothing to do, nothing sent; the table says so.
    let out = emu
        .cmd()
        .args(onboard_args())
        .args(["--yes", "-o", "table"])
        .assert()
        .success();
    assert!(text(&out.get_output().stderr).contains("nothing to do"));
    assert!(text(&out.get_output().stdout).contains("nothing to do"));
    assert_eq!(mutations_sent(&emu), 4, "the second run sent nothing");
}

#[test]
fn onboard_from_a_csv_file_and_its_errors_by_line() {
    let emu = Emu::start(4, 2, 0);
    let csv = "email,role,resource,labels,groups\n\
               user2@example.com,Workspace Member,workspace,,Group 1\n\
               new@example.com,Source Admin,,environment:prod,group 1;Group 2\n";
    let out = emu
        .cmd()
        .args(["onboard", "--from-file", "-", "--yes", "-o", "json"])
        .write_stdin(csv)
        .assert()
        .success();
    let v = json(&out.get_output().stdout);
    assert_eq!(
        v["report"]["invited"],
        serde_json::json!(["new@example.com"])
    );
    let state = emu.h().state();
    let invite = state
        .invites
        .iter()
        .find(|i| i.email == "new@example.com")
        .expect("invited");
    assert_eq!(invite.permissions.len(), 1);
    assert_eq!(invite.groups.len(), 2);

    let sent = mutations_sent(&emu);
    let bad = "email,role,groups\nok@example.com,Workspace Member,Group 1\nnot-an-email,,\n";
    let out = emu
        .cmd()
        .args(["onboard", "--from-file", "-", "--yes"])
        .write_stdin(bad)
        .assert()
        .code(2);
    let stderr = text(&out.get_output().stderr);
    assert!(stderr.contains("stdin line 3"), "{stderr}");
    assert_eq!(mutations_sent(&emu), sent, "nothing sent");
}

#[test]
fn onboard_refuses_a_misspelt_or_shared_group_name_before_sending() {
    let emu = Emu::start(4, 3, 0);
    let out = emu
        .cmd()
        .args(["onboard", "new@example.com", "--group", "Grop 1", "--yes"])
        .assert()
        .code(2);
    let stderr = text(&out.get_output().stderr);
    assert!(
        stderr.contains("no group has the id or name \"Grop 1\"") && stderr.contains("Group 1"),
        "{stderr}"
    );
    // A name two groups share (the emulator refuses creating one, so from a fixture).
    let twins = Emu::with(|b| {
        b.fixture(segment_iam_emulator::Fixture {
            groups: ["Twins", "twins", "Solo", "SoloGroupId00001"]
                .iter()
                .map(|n| segment_iam_emulator::FixtureGroup {
                    id: (*n == "Solo").then(|| "SoloGroupId00001".to_string()),
                    name: (*n).into(),
                    ..Default::default()
                })
                .collect(),
            ..Default::default()
        })
    });
    let ids = twins.h().group_ids();
    let out = twins
        .cmd()
        .args([
            "onboard",
            "new@example.com",
            "--group",
            "TWINS",
            "--yes",
            "-o",
            "json",
        ])
        .assert()
        .code(2);
    let err = json(&out.get_output().stderr);
    let message = err["errors"][0]["message"].as_str().expect("message");
    assert!(
        message.contains(&ids[0]) && message.contains(&ids[1]),
        "{message}"
    );
    assert_eq!(mutations_sent(&twins), 0, "nothing sent");
    // An argument that is one group's id and another's name: the id, and stderr says so.
    let out = twins
        .cmd()
        .args(["groups", "get", "SoloGroupId00001", "-o", "json"])
        .assert()
        .success();
    assert_eq!(json(&out.get_output().stdout)["name"], "Solo");
    let stderr = text(&out.get_output().stderr);
    assert!(
        stderr.contains("note:") && stderr.contains("used as the id"),
        "{stderr}"
    );
    assert_eq!(mutations_sent(&emu), 0, "nothing sent");
    // Group names work wherever a group id does.
    emu.cmd()
        .args([
            "groups",
            "members",
            "add",
            "Group 3",
            "new@example.com",
            "--yes",
        ])
        .assert()
        .success();
    assert!(
        emu.h()
            .state()
            .groups
            .iter()
            .any(|g| g.name == "Group 3" && g.invites.iter().any(|e| e == "new@example.com"))
    );
}

/// The `onboard` of [`onboard_args`] SIGKILLed at each boundary between its mutations (before
/// the first, after 1, 2, 3): the next mutation is held by a fault before it is applied, the
/// kill waits (bounded) for the journal to record the answered ones. Then re-runs until the
/// plan is empty: the workspace converges and each new person was invited by one applied
/// createInvites.
#[test]
fn onboard_killed_at_each_mutation_boundary_converges_and_invites_once() {
    // The order `execute` sends them in, with each one's index among its operation's requests.
    let order = [
        (Operation::CreateInvites, 0),
        (Operation::AddPermissionsToUser, 0),
        (Operation::AddUsersToUserGroup, 0),
        (Operation::AddUsersToUserGroup, 1),
    ];
    for (at, (op, skip)) in order.iter().enumerate() {
        let emu = Emu::start(6, 3, 2);
        emu.h().inject(
            Fault::delay(Duration::from_secs(600))
                .on_operation(*op)
                .skip_first(*skip),
        );
        let mut child = std::process::Command::new(BIN)
            .env_clear()
            .env("SEGMENT_PUBLIC_API_TOKEN", TOKEN)
            .arg("--base-url")
            .arg(emu.h().base_url())
            .args(onboard_args())
            .args(["--yes"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("spawn");
        let started = Instant::now();
        let answered = || {
            emu.h()
                .journal()
                .iter()
                .filter(|e| e.method != "GET" && e.applied)
                .count()
        };
        // The held request has arrived (its operation's journal entries come at its end, so
        // the state of the emulator's faults says it): the fault was taken.
        while answered() < at || !emu.h().faults().is_empty() {
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "case {at}: the run never reached its boundary"
            );
            assert!(
                child.try_wait().expect("wait").is_none(),
                "case {at}: exited early"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        child.kill().expect("SIGKILL");
        let _ = child.wait();
        emu.h().clear_faults();
        let mut runs = 0;
        loop {
            runs += 1;
            assert!(runs <= 3, "case {at}: no convergence");
            let out = emu
                .cmd()
                .args(onboard_args())
                .args(["--yes", "-o", "json"])
                .assert()
                .success();
            if json(&out.get_output().stdout)["plan"]["mutations"] == 0 {
                break;
            }
        }
        assert!(runs >= 2, "case {at}: the first re-run had work to finish");
        for email in ["new1@example.com", "new2@example.com"] {
            let n = invited(&emu).iter().filter(|e| e.as_str() == email).count();
            assert_eq!(n, 1, "case {at}: {email} invited once");
        }
        let state = emu.h().state();
        for name in ["Group 1", "Group 2"] {
            let g = state.groups.iter().find(|g| g.name == name).expect("group");
            assert!(
                [
                    "invitee1@example.com",
                    "new1@example.com",
                    "new2@example.com"
                ]
                .iter()
                .all(|e| g.invites.iter().any(|i| i == e)),
                "case {at}: {name}"
            );
        }
    }
}
