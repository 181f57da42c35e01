//! The `segment-iam` command-line tool: every IAM operation of the Segment Public API as a
//! command, built on the `segment-iam` facade (its pacing, retries, batching and validation;
//! no second HTTP path).
//!
//! The crate is a library plus a thin `main.rs` so each part is unit tested on its own:
//!
//! * [`cli`] — the clap definition (global options, one subcommand per operation);
//! * [`input`] — `--from-file` lists, `workspace` / `TYPE:ID` resources, the token file;
//! * [`output`] — table / csv / json / ndjson rendering, bulk-change summaries;
//! * [`exit`] — failures, their exit codes (0, 1, 2, 3, 130) and stderr reports;
//! * [`progress`] — the terminal-only progress line;
//! * `shell` — what every command shares: the context, printing, reading lists, the one confirm
//!   path;
//! * [`commands`] — calling the facade for each command;
//! * `jobs` — `offboard` and `onboard` (plan, confirm, execute), `audit` and `history`, over
//!   `segment_iam::jobs`;
//! * [`sync`] — access as code (`schema`, `export`, `plan`, `apply`), over `segment_iam_sync`;
//! * [`emulator`] — `segment-iam emulator`, the embedded local emulator.
//!
//! ```text
//! export SEGMENT_PUBLIC_API_TOKEN=...
//! segment-iam users list --output ndjson
//! segment-iam groups members add GROUP_ID ann@example.com bob@example.com
//! segment-iam permissions add --user USER_ID --role "Workspace Owner" --resource workspace
//! segment-iam permissions add --user USER_ID --role "Source Admin" --resource workspace --label environment:prod
//! segment-iam labels list; segment-iam sources list
//! segment-iam offboard --from-file leavers.txt --dry-run
//! segment-iam onboard ana@example.com --role "Source Admin" --group "Data Team" --dry-run
//! segment-iam export --file access.yaml
//! segment-iam plan -f access.yaml --detailed-exitcode
//! segment-iam apply -f access.yaml
//! ```

pub mod cli;
pub mod commands;
pub mod emulator;
pub mod exit;
pub mod input;
mod jobs;
pub mod output;
pub mod progress;
mod shell;
pub mod sync;

/// The service's models, as the facade re-exports them.
pub use segment_iam::types;

use std::io::IsTerminal;
use std::process::ExitCode;
use std::time::Duration;

use clap::{CommandFactory, FromArgMatches};

use crate::cli::{Cli, Command, TOKEN_ENV};
use crate::exit::Failure;

/// Turns on request tracing on stderr for `-v` (debug) / `-vv` (trace), for the facade, the
/// generated client and this tool only (not hyper/reqwest internals, which could log headers).
fn init_tracing(verbose: u8) {
    if verbose == 0 {
        return;
    }
    let level = if verbose == 1 { "debug" } else { "trace" };
    let filter = tracing_subscriber::EnvFilter::new(format!(
        "segment_iam={level},segment_iam_api={level},segment_iam_cli={level}"
    ));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .try_init();
}

/// The whole program: parse, run on a multi-thread tokio runtime racing Ctrl-C, report.
pub fn main_entry() -> ExitCode {
    // clap prints help/version (exit 0) and usage errors (exit 2) itself; under
    // `plan --detailed-exitcode` a usage error is 1, since 2 there means "changes pending".
    let matches = match Cli::command().try_get_matches() {
        Ok(m) => m,
        Err(e) if e.use_stderr() && std::env::args_os().any(|a| a == "--detailed-exitcode") => {
            let _ = e.print();
            return ExitCode::from(1);
        }
        Err(e) => e.exit(),
    };
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    let format = commands::output_format(cli.global.output, std::io::stdout().is_terminal());
    init_tracing(cli.global.verbose);

    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        match &cli.command {
            Command::Emulator(args) => {
                let token = commands::resolve_token(
                    &cli.global,
                    std::env::var(TOKEN_ENV).ok(),
                    std::io::stdin().lock(),
                )?;
                emulator::run(args, token, format).await
            }
            // Needs no token and sends nothing.
            Command::Schema => sync::schema(),
            _ => {
                tokio::select! {
                    r = commands::run(&cli, &matches, format) => r,
                    _ = tokio::signal::ctrl_c() => Err(match &cli.command {
                        Command::Apply(args) => sync::interrupted(args),
                        command => Failure::interrupted(command.is_mutation()),
                    }),
                }
            }
        }
    });
    // Do not wait for a blocked stdin reader (Ctrl-C while reading `--from-file -`).
    runtime.shutdown_timeout(Duration::from_millis(200));
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            // Errors are JSON when JSON output was asked for; a default picked because stdout
            // is a pipe keeps errors readable for the person watching stderr.
            let error_format = cli.global.output.unwrap_or(cli::OutputFormat::Table);
            let _ = f.report(error_format, &mut std::io::stderr().lock());
            match &cli.command {
                Command::Plan(args) if args.detailed_exitcode => f.detailed_exit_code(),
                _ => f.exit_code(),
            }
        }
    }
}
