//! Secrets under faults: with TRACE logging on, neither the captured logs, nor any error's
//! text or Debug form, nor the real CLI binary's output (its tracing and error reports, with
//! `-vv`), nor the emulator journal contains the token.

use segment_iam_emulator::{Fault, Operation};
use segment_iam_tests::reliability::{Capture, fault_client, settle, transient_faults_both_phases};
use segment_iam_tests::{TOKEN, emulator, start};

fn assert_no_token(what: &str, text: &str) {
    assert!(!text.contains(TOKEN), "token leaked in {what}: {text}");
}

/// Cases: 8 fault kinds x 2 phases x 3 calls (GET, POST, bulk DELETE), TRACE logs captured.
/// Asserts: no error text or Debug form, no log line and no journal entry contains the
/// token; every journal entry shows `Bearer <redacted>`; logs were really captured.
#[tokio::test]
async fn no_error_text_log_line_or_journal_entry_contains_the_token_under_any_fault() {
    let capture = Capture::default();
    let _guard = capture.install();
    let emu = start(emulator().users(2).invites(40)).await;
    let client = fault_client(&emu, 2);
    let user = emu.user_ids()[0].clone();
    let invites = emu.invite_emails();
    let mut errors = Vec::new();
    for (case, (name, fault)) in transient_faults_both_phases().into_iter().enumerate() {
        emu.clear_faults();
        emu.inject(fault.clone().on_operation(Operation::GetUser).always());
        emu.inject(
            fault
                .clone()
                .on_operation(Operation::CreateInvites)
                .always(),
        );
        emu.inject(fault.on_operation(Operation::DeleteInvites).always());
        let results = [
            client.users().get(&user).await.map(drop),
            client
                .invites()
                .create([format!("s{case}@example.com")])
                .await
                .map(drop),
            client
                .invites()
                .delete([invites[case].clone(), invites[case + 20].clone()])
                .await
                .map(drop),
        ];
        for r in results {
            if let Err(e) = r {
                errors.push(format!("{name}: {e} / {e:?}"));
            }
        }
    }
    emu.clear_faults();
    settle(&emu, client.metrics().requests).await;
    assert!(
        errors.len() >= 16,
        "faults produced errors: {}",
        errors.len()
    );
    for e in &errors {
        assert_no_token("an error", e);
    }
    let logs = capture.text();
    assert!(
        logs.contains("sending") && logs.contains("retrying"),
        "logs captured"
    );
    assert_no_token("the logs", &logs);
    let journal = emu.journal();
    assert_no_token(
        "the journal",
        &serde_json::to_string(&journal).expect("json"),
    );
    for e in &journal {
        let auth = e
            .headers
            .iter()
            .find(|(k, _)| k == "authorization")
            .map(|(_, v)| v.as_str());
        assert_eq!(auth, Some("Bearer <redacted>"), "entry {}", e.seq);
    }
}

/// The real `segment-iam` binary, built once for this test run (`cargo build`, offline: the
/// workspace is already resolved), so the CLI's own entry point and logging set-up are what
/// is tested.
fn cli_binary() -> std::path::PathBuf {
    static BUILT: std::sync::OnceLock<std::path::PathBuf> = std::sync::OnceLock::new();
    BUILT
        .get_or_init(|| {
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .parent()
                .expect("workspace root")
                .to_path_buf();
            let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
            let status = std::process::Command::new(cargo)
                .current_dir(&root)
                .args([
                    "build",
                    "-q",
                    "-p",
                    "segment-iam-cli",
                    "--bin",
                    "segment-iam",
                ])
                .status()
                .expect("cargo runs");
            assert!(status.success(), "the CLI builds");
            // This test runs from target/<profile>/deps/; the binary is in target/<profile>/.
            let exe = std::env::current_exe().expect("test executable");
            let profile_dir = exe
                .parent()
                .and_then(std::path::Path::parent)
                .expect("target/<profile>");
            let bin = profile_dir.join(format!("segment-iam{}", std::env::consts::EXE_SUFFIX));
            assert!(bin.exists(), "{} exists", bin.display());
            bin
        })
        .clone()
}

/// Runs `segment-iam -vv --token TOKEN ARGS..` as a process; its exit status and everything
/// it wrote (stderr then stdout), for this run alone.
async fn cli(base_url: &str, args: &[&str]) -> (bool, String) {
    let bin = cli_binary();
    let mut command = tokio::process::Command::new(bin);
    command
        .env_clear()
        .args(["-vv", "--base-url", base_url, "--token", TOKEN])
        .args(args)
        .stdin(std::process::Stdio::null());
    let out = command.output().await.expect("the CLI runs");
    let mut text = String::from_utf8_lossy(&out.stderr).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stdout));
    (out.status.success(), text)
}

/// Cases: 6 runs of the real CLI binary with `-vv` and the token on the command line: a 500 on
/// `groups create`, a cut connection and a malformed body on `users get`, a truncated list
/// page, a 404, and a partial `invites delete`. Asserts: each run's own output (stderr:
/// tracing and error report; stdout) shows the tracing of that run's request and never
/// contains the token, and the journal stays redacted.
#[tokio::test]
async fn the_cli_with_verbose_tracing_never_prints_the_token_under_faults() {
    let emu = start(emulator().users(3).invites(3)).await;
    let url = emu.base_url();
    let user = emu.user_ids()[0].clone();
    let invites = emu.invite_emails();
    let runs: Vec<(Fault, Vec<&str>, bool, &str)> = vec![
        (
            Fault::status(500).on_operation(Operation::CreateUserGroup),
            vec!["groups", "create", "--yes", "G"],
            false,
            "create_user_group",
        ),
        (
            Fault::drop_connection()
                .on_operation(Operation::GetUser)
                .times(9),
            vec!["users", "get", &user],
            false,
            "get_user",
        ),
        (
            Fault::malformed_body()
                .on_operation(Operation::GetUser)
                .times(9),
            vec!["users", "get", &user],
            false,
            "get_user",
        ),
        (
            Fault::truncated_body().on_operation(Operation::ListUsers),
            vec!["users", "list"],
            true,
            "list_users",
        ),
        (
            Fault::status(404).on_operation(Operation::GetUser),
            vec!["users", "get", "nobody"],
            false,
            "get_user",
        ),
        (
            Fault::status(422)
                .on_operation(Operation::DeleteInvites)
                .always(),
            vec!["invites", "delete", "--yes", &invites[0], &invites[1]],
            false,
            "delete_invites",
        ),
    ];
    for (fault, args, ok, operation) in runs {
        emu.clear_faults();
        emu.inject(fault);
        let (succeeded, output) = cli(&url, &args).await;
        assert_eq!(succeeded, ok, "{args:?}: {output}");
        assert!(
            output.contains(operation) && output.contains("sending"),
            "{args:?}: the run's own tracing names its request: {output}"
        );
        assert_no_token(&format!("the CLI's output for {args:?}"), &output);
    }
    assert_no_token(
        "the journal",
        &serde_json::to_string(&emu.journal()).expect("json"),
    );
}
