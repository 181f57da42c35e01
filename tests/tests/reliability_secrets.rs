//! Secrets under faults: with TRACE logging on, neither the captured logs, nor any error's
//! text or Debug form, nor the CLI's stderr (its tracing and error reports, run in-process
//! with `-vv`), nor the emulator journal contains the token.

use clap::{CommandFactory, FromArgMatches};
use segment_iam_cli::cli::{Cli, OutputFormat};
use segment_iam_emulator::Fault;
use segment_iam_tests::reliability::{Capture, SLOW, fault_client, transient_faults_both_phases};
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
        emu.inject(fault.clone().on_operation("get_user").always());
        emu.inject(fault.clone().on_operation("create_invites").always());
        emu.inject(fault.on_operation("delete_invites").always());
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
    tokio::time::sleep(SLOW).await;
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

/// Runs the CLI in-process like `segment-iam -vv --token TOKEN ARGS..`, with TRACE logs
/// captured and the failure report (what `main` writes to stderr) rendered in both formats.
async fn cli(base_url: &str, args: &[&str], capture: &Capture) -> (bool, String) {
    let mut argv = vec![
        "segment-iam",
        "-vv",
        "--base-url",
        base_url,
        "--token",
        TOKEN,
    ];
    argv.extend_from_slice(args);
    let matches = Cli::command()
        .try_get_matches_from(argv)
        .expect("valid arguments");
    let parsed = Cli::from_arg_matches(&matches).expect("parsed");
    let result = segment_iam_cli::commands::run(&parsed, &matches, OutputFormat::Json).await;
    let mut stderr = Vec::new();
    if let Err(failure) = &result {
        failure
            .report(OutputFormat::Table, &mut stderr)
            .expect("report");
        failure
            .report(OutputFormat::Json, &mut stderr)
            .expect("report");
        stderr.extend_from_slice(format!("{failure:?}").as_bytes());
    }
    stderr.extend_from_slice(capture.text().as_bytes());
    (
        result.is_ok(),
        String::from_utf8_lossy(&stderr).into_owned(),
    )
}

/// Cases: 6 CLI runs with `-vv` and the token on the command line: a 500 on `groups create`,
/// a cut connection and a malformed body on `users get`, a truncated list page, a 404, and a
/// partial `invites delete`. Asserts: each run's stderr (tracing + error report, table and
/// JSON) is non-empty and never contains the token, and the journal stays redacted.
#[tokio::test]
async fn the_cli_with_verbose_tracing_never_prints_the_token_under_faults() {
    let capture = Capture::default();
    let _guard = capture.install();
    let emu = start(emulator().users(3).invites(3)).await;
    let url = emu.base_url();
    let user = emu.user_ids()[0].clone();
    let invites = emu.invite_emails();
    let runs: Vec<(Fault, Vec<&str>, bool)> = vec![
        (
            Fault::status(500).on_operation("create_user_group"),
            vec!["groups", "create", "G"],
            false,
        ),
        (
            Fault::drop_connection().on_operation("get_user").times(9),
            vec!["users", "get", &user],
            false,
        ),
        (
            Fault::malformed_body().on_operation("get_user").times(9),
            vec!["users", "get", &user],
            false,
        ),
        (
            Fault::truncated_body().on_operation("list_users"),
            vec!["users", "list"],
            true,
        ),
        (
            Fault::status(404).on_operation("get_user"),
            vec!["users", "get", "nobody"],
            false,
        ),
        (
            Fault::status(422).on_operation("delete_invites").always(),
            vec!["invites", "delete", &invites[0], &invites[1]],
            false,
        ),
    ];
    for (fault, args, ok) in runs {
        emu.clear_faults();
        emu.inject(fault);
        let (succeeded, stderr) = cli(&url, &args, &capture).await;
        assert_eq!(succeeded, ok, "{args:?}: {stderr}");
        assert!(!stderr.is_empty(), "{args:?} traced something");
        assert_no_token(&format!("the CLI's stderr for {args:?}"), &stderr);
    }
    assert_no_token(
        "the journal",
        &serde_json::to_string(&emu.journal()).expect("json"),
    );
}
