//! `segment-iam-emulator`: run the emulator as a process.
//!
//! Prints its base URL (`http://127.0.0.1:PORT`) on the first line of stdout, then serves
//! until Ctrl-C (or SIGTERM on Unix).

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use segment_iam_emulator::Emulator;

/// A local emulator of the Segment Public API IAM surface.
#[derive(Debug, Parser)]
#[command(name = "segment-iam-emulator", version)]
struct Args {
    /// Port on 127.0.0.1 (0 = pick a free one).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// Accepted bearer token (repeatable; default `emulator-token`). `TOKEN=email` names the
    /// person it belongs to: the audit trail records their changes as by that email (a bare
    /// token's changes are by `emulator@segment.local`).
    #[arg(long = "token", env = "SEGMENT_IAM_EMULATOR_TOKEN")]
    tokens: Vec<String>,
    /// Model a workspace without the audit trail (a Business-tier feature):
    /// `listAuditEvents` answers 403.
    #[arg(long)]
    no_audit_trail: bool,
    /// Seed of the generated data.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Number of users to generate.
    #[arg(long, default_value_t = 0)]
    seed_users: usize,
    /// Number of user groups to generate.
    #[arg(long, default_value_t = 0)]
    seed_groups: usize,
    /// Number of pending invites to generate.
    #[arg(long, default_value_t = 0)]
    seed_invites: usize,
    /// Number of sources to generate (labelled environment:prod and environment:dev in turn).
    #[arg(long, default_value_t = 0)]
    seed_sources: usize,
    /// A JSON fixture file to load first.
    #[arg(long)]
    fixture: Option<PathBuf>,
    /// Disable rate limits (and the X-RateLimit-* headers).
    #[arg(long)]
    no_rate_limits: bool,
    /// Mutations per window per token.
    #[arg(long, default_value_t = 60)]
    mutation_limit: u32,
    /// Reads per window per token.
    #[arg(long, default_value_t = 1000)]
    read_limit: u32,
    /// Rate-limit window in milliseconds.
    #[arg(long, default_value_t = 60_000)]
    window_ms: u64,
    /// Longest accepted request URL (path + query) in bytes.
    #[arg(long, default_value_t = 8192)]
    max_url_len: usize,
    /// Accept only the documented dotted query forms.
    #[arg(long)]
    strict: bool,
    /// Accept a group created or renamed to a name another group has (a service that accepts
    /// the race of two creations of one name); default: 409.
    #[arg(long)]
    allow_duplicate_group_names: bool,
    /// Extra latency on every list page, in milliseconds.
    #[arg(long, default_value_t = 0)]
    list_delay_ms: u64,
    /// Journal capacity (0 disables the journal).
    #[arg(long, default_value_t = 100_000)]
    journal_capacity: usize,
}

/// Installs the Ctrl-C / SIGTERM handlers at once and answers a future that completes on the
/// first signal. Called before the URL is printed, so a signal sent as soon as the URL is read
/// stops the emulator cleanly instead of killing it.
fn stop_signal() -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let (Ok(mut int), Ok(mut term)) = (
            signal(SignalKind::interrupt()),
            signal(SignalKind::terminate()),
        ) {
            return Box::pin(async move {
                tokio::select! {
                    _ = int.recv() => {}
                    _ = term.recv() => {}
                }
            });
        }
    }
    Box::pin(async {
        let _ = tokio::signal::ctrl_c().await;
    })
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    let mut b = Emulator::builder()
        .seed(args.seed)
        .users(args.seed_users)
        .groups(args.seed_groups)
        .invites(args.seed_invites)
        .sources(args.seed_sources)
        .rate_limits(!args.no_rate_limits)
        .mutation_limit(args.mutation_limit)
        .read_limit(args.read_limit)
        .window(Duration::from_millis(args.window_ms))
        .max_url_len(args.max_url_len)
        .strict(args.strict)
        .allow_duplicate_group_names(args.allow_duplicate_group_names)
        .list_delay(Duration::from_millis(args.list_delay_ms))
        .journal_capacity(args.journal_capacity)
        .port(args.port);
    b = b.audit_trail(!args.no_audit_trail);
    for t in args.tokens {
        // `TOKEN=email`: split at the last `=` whose right side is an email, so a token that
        // holds `=` itself still works bare.
        b = match t.rsplit_once('=') {
            Some((token, email))
                if !token.is_empty() && segment_iam_emulator::is_valid_email(email) =>
            {
                b.token_for(token, email)
            }
            _ => b.token(t),
        };
    }
    if let Some(path) = args.fixture {
        b = match b.fixture_file(&path) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("segment-iam-emulator: {e}");
                return std::process::ExitCode::FAILURE;
            }
        };
    }
    let emu = match b.start().await {
        Ok(h) => h,
        Err(e) => {
            eprintln!("segment-iam-emulator: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let stopped = stop_signal();
    println!("{}", emu.base_url());
    use std::io::Write;
    let _ = std::io::stdout().flush();
    stopped.await;
    emu.shutdown().await;
    eprintln!("segment-iam-emulator: stopped");
    std::process::ExitCode::SUCCESS
}
