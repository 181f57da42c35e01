//! `segment-iam-bench`: measures the segment-iam SDK against the local emulator on loopback and
//! prints one markdown table of SDK and baseline figures side by side, with their ratios.
//!
//! ```text
//! cargo run --release -p segment-iam-bench -- [--quick] [--only 1,3]
//! ```
//!
//! Absolute times drift on shared machines; ratios measured in the same run hold, so every
//! figure is paired with a baseline written here as a user would write it without the SDK
//! (plain reqwest, serde structs, a naive retry loop). One module per scenario:
//!
//! 1. [`overhead`]: CPU cost per call, `get_user` vs reqwest by hand; [`instructions`]: the
//!    same calls counted under callgrind (full runs, where valgrind is installed).
//! 2. [`pagination`]: item stream vs fetch-then-process loop; peak memory of long listings.
//! 3. [`bulk`]: batched, paced bulk removals vs a per-item loop with exponential backoff.
//! 4. [`concurrent`]: 64 tasks on one client under the mutation limit.
//! 5. [`codegen`]: `cargo xtask codegen --check` time and generated size.
//! 6. [`jobs`]: the audit and offboard jobs vs the same reads and a per-person loop.
//! 7. [`sync`]: access as code: export, change, plan and apply a 5,000-user workspace; its
//!    mutations vs the diff's minimum and a Terraform-provider-style apply, its wall time
//!    under the mutation limit, concurrent vs sequential planning.
//! 8. [`scoped`]: scoped reads on 20,000 users and 1,000 groups: `audit --email`, `audit
//!    --group`, a 2-group `plan` and `apply`, their reads vs the minimum the answer needs and
//!    their wall time under the default read limit vs its floor.
//! 9. [`onboard`]: onboarding 200 new people into 10 groups by name vs a per-person loop:
//!    mutations, and wall time under 60 mutations per (shortened) window.
//!
//! Every scenario runs under a hard deadline; everything listens on 127.0.0.1 only.
//! `--quick` shrinks the sizes to finish in under a minute (a smoke run); the full run takes
//! about 6 minutes, most of it scenario 3's per-item baseline crawling at 60 requests a second.

mod backoff;
mod bulk;
mod codegen;
mod common;
mod concurrent;
mod instructions;
mod jobs;
mod onboard;
mod overhead;
mod pagination;
mod report;
mod scoped;
mod sync;

use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime};

use report::Report;

/// Command-line options.
#[derive(Debug, Default)]
struct Options {
    quick: bool,
    only: Option<Vec<u32>>,
}

const USAGE: &str = "usage: segment-iam-bench [--quick] [--only 1,2,3,4,5,6,7,8,9]
  --quick          smaller sizes, finishes in under a minute (smoke run)
  --only LIST      run only these scenarios";

fn parse(args: &[String]) -> Result<Options, String> {
    let mut options = Options::default();
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => options.quick = true,
            "--only" => {
                let list = args.next().ok_or("--only needs a list such as 1,3")?;
                let numbers = list
                    .split(',')
                    .map(|n| {
                        n.trim()
                            .parse::<u32>()
                            .map_err(|_| format!("--only: {n:?} is not a number"))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                options.only = Some(numbers);
            }
            "-h" | "--help" => return Err(USAGE.to_string()),
            other => return Err(format!("unknown argument {other:?}\n{USAGE}")),
        }
    }
    Ok(options)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let child = match args.first().map(String::as_str) {
        Some(pagination::CHILD_COMMAND) => Some(pagination::child_main(&args[1..])),
        Some(instructions::CHILD_COMMAND) => Some(instructions::child_main(&args[1..])),
        _ => None,
    };
    if let Some(result) = child {
        return match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{e}");
                ExitCode::FAILURE
            }
        };
    }
    let options = match parse(&args) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("cannot start the tokio runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let report = runtime.block_on(run(&options));
    if report.has_failures() {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Runs the selected scenarios in order and prints the table.
async fn run(options: &Options) -> Report {
    let started = Instant::now();
    let quick = options.quick;
    let wanted = |n: u32| options.only.as_ref().is_none_or(|only| only.contains(&n));
    let secs = Duration::from_secs;
    let mut report = Report::default();

    if wanted(1) {
        eprintln!("scenario 1: call overhead");
        let (calls, rounds) = if quick { (2_000, 2) } else { (20_000, 4) };
        let result = common::deadline(
            "scenario 1",
            secs(if quick { 30 } else { 240 }),
            overhead::run(&mut report, calls, rounds, !quick),
        )
        .await;
        if let Err(e) = result {
            report.failed("1 call overhead", &e);
        }
        if !quick {
            let result = common::deadline(
                "scenario 1 (counted)",
                secs(600),
                instructions::run(&mut report, 2_000),
            )
            .await;
            if let Err(e) = result {
                report.failed("1 call overhead, counted", &e);
            }
        }
    }
    if wanted(2) {
        eprintln!("scenario 2: pagination");
        let rounds = if quick { 1 } else { 3 };
        let result = common::deadline(
            "scenario 2 (time)",
            secs(if quick { 30 } else { 120 }),
            pagination::run_time(&mut report, 100_000, rounds),
        )
        .await;
        if let Err(e) = result {
            report.failed("2 pagination time", &e);
        }
        let sizes = if quick {
            (10_000, 100_000)
        } else {
            (100_000, 1_000_000)
        };
        let result = common::deadline(
            "scenario 2 (memory)",
            secs(if quick { 30 } else { 300 }),
            pagination::run_memory(&mut report, sizes),
        )
        .await;
        if let Err(e) = result {
            report.failed("2 pagination memory", &e);
        }
    }
    if wanted(3) {
        eprintln!("scenario 3: bulk under the rate limit");
        // The full run sends the per-item baseline on all 10,000 items per half (~3 min each
        // at 60/s); a half that overruns its budget is extrapolated from what it finished.
        let (sample, budget, limit) = if quick {
            (150, secs(5), secs(40))
        } else {
            (10_000, secs(200), secs(480))
        };
        let trials = if quick { 1 } else { 5 };
        let result = common::deadline(
            "scenario 3",
            limit,
            bulk::run(&mut report, trials, sample, budget),
        )
        .await;
        if let Err(e) = result {
            report.failed("3 bulk", &e);
        }
    }
    if wanted(4) {
        eprintln!("scenario 4: concurrent callers");
        let (steps, baseline_deadline, limit) = if quick {
            (2, secs(15), secs(40))
        } else {
            (5, secs(90), secs(180))
        };
        let result = common::deadline(
            "scenario 4",
            limit,
            concurrent::run(&mut report, steps, baseline_deadline),
        )
        .await;
        if let Err(e) = result {
            report.failed("4 concurrent callers", &e);
        }
    }
    if wanted(6) {
        eprintln!("scenario 6: audit and offboard");
        let limit = secs(if quick { 60 } else { 240 });
        let result = common::deadline("scenario 6", limit, jobs::run(&mut report, quick)).await;
        if let Err(e) = result {
            report.failed("6 jobs", &e);
        }
    }
    if wanted(7) {
        eprintln!("scenario 7: access as code");
        let limit = secs(if quick { 60 } else { 180 });
        let result = common::deadline("scenario 7", limit, sync::run(&mut report, quick)).await;
        if let Err(e) = result {
            report.failed("7 access as code", &e);
        }
    }
    if wanted(8) {
        eprintln!("scenario 8: scoped reads");
        // Full: a question that reads the whole workspace waits out a 60 s window, once.
        let limit = secs(if quick { 30 } else { 300 });
        let result = common::deadline("scenario 8", limit, scoped::run(&mut report, quick)).await;
        if let Err(e) = result {
            report.failed("8 scoped reads", &e);
        }
    }
    if wanted(9) {
        eprintln!("scenario 9: onboard");
        let limit = secs(if quick { 30 } else { 90 });
        let result = common::deadline("scenario 9", limit, onboard::run(&mut report, quick)).await;
        if let Err(e) = result {
            report.failed("9 onboard", &e);
        }
    }
    if wanted(5) {
        eprintln!("scenario 5: codegen");
        let limit = secs(if quick { 45 } else { 120 });
        let result = common::deadline("scenario 5", limit, codegen::run(&mut report, limit)).await;
        if let Err(e) = result {
            report.failed("5 codegen", &e);
        }
    }

    let mut command = String::from("cargo run --release -p segment-iam-bench --");
    if quick {
        command.push_str(" --quick");
    }
    if let Some(only) = &options.only {
        let list: Vec<String> = only.iter().map(u32::to_string).collect();
        command.push_str(&format!(" --only {}", list.join(",")));
    }
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let header = [
        ("command", format!("`{command}`")),
        (
            "mode",
            if quick {
                "quick (smoke)".into()
            } else {
                "full".to_string()
            },
        ),
        ("cores", cores.to_string()),
        ("date", httpdate::fmt_http_date(SystemTime::now())),
        ("bench wall time", common::secs(started.elapsed())),
        (
            "all targets met",
            if report.all_met() {
                "yes".into()
            } else {
                "no (see the verdict column and notes)".to_string()
            },
        ),
    ];
    println!("{}", report.markdown(&header));
    report
}
