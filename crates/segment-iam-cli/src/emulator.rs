//! `segment-iam emulator`: runs the local emulator of the IAM API in this process, so
//! operators can try commands (and the README can show them) without a Segment workspace.

use std::io::Write;

use segment_iam_emulator::{DEFAULT_TOKEN, Emulator};
use serde_json::json;

use crate::cli::{EmulatorArgs, OutputFormat};
use crate::exit::Failure;

/// Starts the emulator, prints its base URL and token (stdout, so `eval`/scripts can read
/// them), and serves until Ctrl-C, then shuts the server down gracefully.
pub async fn run(
    args: &EmulatorArgs,
    token: Option<String>,
    format: OutputFormat,
) -> Result<(), Failure> {
    let mut builder = Emulator::builder()
        .port(args.port)
        .users(args.seed_users)
        .groups(args.seed_groups)
        .invites(args.seed_invites)
        .sources(args.seed_sources)
        .allow_duplicate_group_names(args.allow_duplicate_group_names);
    if let Some(seed) = args.seed {
        builder = builder.seed(seed);
    }
    if let Some(n) = args.mutation_limit {
        builder = builder.mutation_limit(n);
    }
    if let Some(ms) = args.list_delay_ms {
        builder = builder.list_delay(std::time::Duration::from_millis(ms));
    }
    // The main token first (the default one when none is given), so that `--token-for`
    // tokens never become the one printed.
    builder = builder.token(token.unwrap_or_else(|| DEFAULT_TOKEN.to_string()));
    for (token, email) in &args.token_for {
        builder = builder.token_for(token, email);
    }
    builder = builder.audit_trail(!args.no_audit_trail);
    let handle = builder.start().await.map_err(|e| {
        Failure::service(
            format!("cannot start the emulator: {e}"),
            json!({"errors": [{"type": "client", "message": format!("cannot start the emulator: {e}")}]}),
        )
    })?;
    let (url, token) = (handle.base_url(), handle.token());
    let mut out = std::io::stdout().lock();
    let printed = match format {
        OutputFormat::Json | OutputFormat::Ndjson => {
            writeln!(out, "{}", json!({"baseUrl": url, "token": token}))
        }
        OutputFormat::Table | OutputFormat::Csv => writeln!(
            out,
            "segment-iam emulator listening on {url}\n\
             token: {token}\n\n\
             Try, in another shell:\n  \
             export SEGMENT_PUBLIC_API_TOKEN={token}\n  \
             segment-iam --base-url {url} users list\n\n\
             Press Ctrl-C to stop."
        ),
    }
    .and_then(|()| out.flush());
    drop(out);
    if let Err(e) = printed
        && let Some(f) = crate::exit::from_io(e)
    {
        handle.shutdown().await;
        return Err(f);
    }
    // Serve until Ctrl-C. The signal is awaited here (not only in `main`) so the server is
    // shut down gracefully and the command exits 0: stopping the emulator is its normal end.
    let _ = tokio::signal::ctrl_c().await;
    handle.shutdown().await;
    eprintln!("emulator stopped");
    Ok(())
}
