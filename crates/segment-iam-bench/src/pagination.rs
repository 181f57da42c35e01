//! Scenario 2, pagination: time and memory of walking a long list.
//!
//! * Time: 100,000 users at page size 1,000. The emulator adds 5 ms to every page (a slow
//!   service) and the consumer spends 5 ms per page (an awaited write somewhere, modelled as a
//!   sleep, so it does not steal the CPU the server and decoder need on a 2-core machine). The
//!   SDK's item stream fetches the next page while the consumer works; the baseline is the
//!   loop a user writes by hand: fetch a page, process it, follow `pagination.next`. Overlap
//!   can at best halve the time (0.5×); what the fetch costs beyond the 5 ms delay
//!   (serialising, sending and decoding 1,000 users) keeps the ratio above that.
//! * Memory: the peak resident set (`VmHWM` from `/proc/self/status`) of listing N users in a
//!   child process (this binary re-run with a hidden subcommand), so the emulator, which holds
//!   the whole list in the parent, does not count. Measured at two N to show it does not grow
//!   with N, for the SDK stream and for the hand-written loop alike.

use std::time::{Duration, Instant};

use futures::TryStreamExt;
use segment_iam_emulator::Emulator;
use serde::Deserialize;

use crate::common::{self, Outcome, TOKEN};
use crate::report::{Report, Verdict};

/// The hidden subcommand that runs one listing in a child process.
pub const CHILD_COMMAND: &str = "__list-child";

/// A page of `GET /users` as a user decodes it without the SDK.
#[derive(Deserialize)]
struct Envelope {
    data: UsersPage,
}
#[derive(Deserialize)]
struct UsersPage {
    users: Vec<RawUser>,
    pagination: RawPagination,
}
#[derive(Deserialize)]
#[allow(dead_code)] // decoded like a user would, never read
struct RawUser {
    id: String,
    name: String,
    email: String,
}
#[derive(Deserialize)]
struct RawPagination {
    next: Option<String>,
}

/// The hand-written loop: fetch a page, process it (`per_page`), follow the cursor; at most
/// `limit` items. Returns the number of items seen.
async fn hand_written_loop(
    http: &reqwest::Client,
    base: &str,
    page_size: u32,
    limit: usize,
    per_page: Duration,
) -> Outcome<usize> {
    let mut seen = 0usize;
    let mut cursor: Option<String> = None;
    // Bounded: at most one request per page of `limit` items (+1 for the last).
    for _ in 0..=limit.div_ceil(page_size as usize) {
        let mut url = format!("{base}/users?pagination.count={page_size}");
        if let Some(c) = &cursor {
            let c = percent_encoding::utf8_percent_encode(c, percent_encoding::NON_ALPHANUMERIC);
            url.push_str(&format!("&pagination.cursor={c}"));
        }
        let response = http.get(url).send().await.map_err(|e| e.to_string())?;
        if !response.status().is_success() {
            return Err(format!("list_users by hand: status {}", response.status()));
        }
        let page: Envelope = response.json().await.map_err(|e| e.to_string())?;
        for user in page.data.users {
            std::hint::black_box(user);
            seen += 1;
        }
        if !per_page.is_zero() {
            tokio::time::sleep(per_page).await;
        }
        match page.data.pagination.next {
            Some(next) if seen < limit => cursor = Some(next),
            _ => return Ok(seen),
        }
    }
    Ok(seen)
}

/// The SDK's item stream, processing `per_page` after every `page_size` items.
async fn sdk_stream(
    client: &segment_iam::Client,
    page_size: u32,
    limit: usize,
    per_page: Duration,
) -> Outcome<usize> {
    let mut items = client.users().list().page_size(page_size).items();
    let mut seen = 0usize;
    while seen < limit {
        let Some(user) = items.try_next().await.map_err(|e| e.to_string())? else {
            break;
        };
        std::hint::black_box(user);
        seen += 1;
        if !per_page.is_zero() && seen.is_multiple_of(page_size as usize) {
            tokio::time::sleep(per_page).await;
        }
    }
    Ok(seen)
}

/// The time comparison: `users` users, `rounds` alternating rounds per side.
pub async fn run_time(report: &mut Report, users: usize, rounds: usize) -> Outcome<()> {
    const DELAY: Duration = Duration::from_millis(5);
    const PAGE: u32 = 1_000;
    let emu = Emulator::builder()
        .token(TOKEN)
        .seed(2)
        .users(users)
        .read_limit(u32::MAX)
        .list_delay(DELAY)
        .journal_capacity(0)
        .start()
        .await
        .map_err(|e| e.to_string())?;
    let client = common::facade(&emu)?;
    let http = common::raw_http(TOKEN)?;
    let base = emu.base_url();
    let (mut t_sdk, mut t_loop) = (Duration::ZERO, Duration::ZERO);
    for round in 0..rounds {
        let time_sdk = async {
            let started = Instant::now();
            let n = sdk_stream(&client, PAGE, usize::MAX, DELAY).await?;
            Ok::<_, String>((n, started.elapsed()))
        };
        let time_loop = async {
            let started = Instant::now();
            let n = hand_written_loop(&http, &base, PAGE, usize::MAX, DELAY).await?;
            Ok::<_, String>((n, started.elapsed()))
        };
        let ((n_sdk, d_sdk), (n_loop, d_loop)) = if round % 2 == 0 {
            let l = time_loop.await?;
            (time_sdk.await?, l)
        } else {
            let s = time_sdk.await?;
            (s, time_loop.await?)
        };
        if n_sdk != users || n_loop != users {
            return Err(format!(
                "listed {n_sdk} (SDK) and {n_loop} (loop) of {users} users"
            ));
        }
        t_sdk += d_sdk;
        t_loop += d_loop;
    }
    // The bound one page ahead can reach: per page max(fetch, process) instead of their sum.
    let pages = users.div_ceil(PAGE as usize) as f64;
    let started = Instant::now();
    hand_written_loop(&http, &base, PAGE, usize::MAX, Duration::ZERO).await?;
    let fetch = started.elapsed().as_secs_f64() / pages;
    let started = Instant::now();
    for _ in 0..20 {
        tokio::time::sleep(DELAY).await;
    }
    let process = started.elapsed().as_secs_f64() / 20.0;
    let bound = fetch.max(process) / (fetch + process);
    let n = rounds as u32;
    let r = t_sdk.as_secs_f64() / t_loop.as_secs_f64();
    report.row(
        format!(
            "2 list {} users, page 1,000, +5 ms server & +5 ms consumer per page",
            common::count(users as u64)
        ),
        format!("wall time (mean of {rounds})"),
        common::secs(t_sdk / n),
        format!("{} (fetch-then-process loop)", common::secs(t_loop / n)),
        common::ratio(r),
        "≤ 0.60×",
        Verdict::check(r <= 0.60),
    );
    report.row(
        "2 same, best possible one page ahead",
        "max(fetch, process) ÷ (fetch + process) per page",
        format!(
            "{:.1} ms fetch, {:.1} ms process",
            fetch * 1e3,
            process * 1e3
        ),
        "—",
        common::ratio(bound),
        "—",
        Verdict::Info,
    );
    emu.shutdown().await;
    Ok(())
}

/// One child's measurement.
struct ChildResult {
    items: usize,
    vmhwm_kib: u64,
}

async fn run_child(
    kind: &str,
    base: &str,
    limit: usize,
    deadline: Duration,
) -> Outcome<ChildResult> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let child = tokio::process::Command::new(exe)
        .args([CHILD_COMMAND, kind, base, &limit.to_string()])
        .kill_on_drop(true)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("spawning the child: {e}"))?;
    let output = tokio::time::timeout(deadline, child.wait_with_output())
        .await
        .map_err(|_| format!("the {kind} child overran {} s", deadline.as_secs()))?
        .map_err(|e| e.to_string())?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        return Err(format!(
            "the {kind} child failed ({}): {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        ));
    }
    let field = |name: &str| {
        stdout
            .split_whitespace()
            .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
            .and_then(|v| v.parse::<u64>().ok())
            .ok_or_else(|| format!("the {kind} child printed no {name}: {stdout:?}"))
    };
    Ok(ChildResult {
        items: field("items")? as usize,
        vmhwm_kib: field("vmhwm_kib")?,
    })
}

fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

/// The memory comparison: one emulator holding `sizes.1` users, children listing `sizes.0`
/// and `sizes.1` of them.
pub async fn run_memory(report: &mut Report, sizes: (usize, usize)) -> Outcome<()> {
    let (small, large) = sizes;
    let seeding = Instant::now();
    let emu = Emulator::builder()
        .token(TOKEN)
        .seed(3)
        .users(large)
        .read_limit(u32::MAX)
        .journal_capacity(0)
        .start()
        .await
        .map_err(|e| e.to_string())?;
    eprintln!(
        "  (seeded {large} users in {})",
        common::secs(seeding.elapsed())
    );
    let base = emu.base_url();
    let deadline = Duration::from_secs(180);
    let mut peaks = Vec::new();
    for kind in ["sdk", "loop"] {
        let mut per_size = Vec::new();
        for n in [small, large] {
            let started = Instant::now();
            let result = run_child(kind, &base, n, deadline).await?;
            if result.items != n {
                return Err(format!(
                    "the {kind} child listed {} of {n} users",
                    result.items
                ));
            }
            eprintln!(
                "  ({kind} child: {n} users, peak RSS {}, {})",
                mib(result.vmhwm_kib),
                common::secs(started.elapsed())
            );
            per_size.push(result.vmhwm_kib);
        }
        peaks.push(per_size);
    }
    let (sdk, hand) = (&peaks[0], &peaks[1]);
    let growth = sdk[1] as f64 / sdk[0] as f64;
    let limit_kib = 64 * 1024;
    report.row(
        format!(
            "2 list {} users (child process)",
            common::count(large as u64)
        ),
        "peak RSS (VmHWM)",
        mib(sdk[1]),
        format!("{} (fetch-then-process loop)", mib(hand[1])),
        common::ratio(sdk[1] as f64 / hand[1] as f64),
        "< 64 MiB",
        Verdict::check(sdk[1] < limit_kib),
    );
    report.row(
        format!(
            "2 peak RSS, {} → {} users",
            common::count(small as u64),
            common::count(large as u64)
        ),
        "growth of the SDK's peak RSS",
        format!("{} → {}", mib(sdk[0]), mib(sdk[1])),
        format!("{} → {} (loop)", mib(hand[0]), mib(hand[1])),
        format!("{growth:.2}× growth"),
        "flat (≤ 1.20× growth)",
        Verdict::check(growth <= 1.20),
    );
    emu.shutdown().await;
    Ok(())
}

/// Peak resident set of this process in KiB, from `/proc/self/status`.
fn vmhwm_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// The child: lists `limit` users from `base` with the SDK stream or the hand-written loop and
/// prints `items=<n> vmhwm_kib=<kib>`.
pub fn child_main(args: &[String]) -> Outcome<()> {
    let [kind, base, limit] = args else {
        return Err(format!(
            "usage: {CHILD_COMMAND} sdk|loop <base-url> <items>"
        ));
    };
    let limit: usize = limit.parse().map_err(|e| format!("items: {e}"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let items = runtime.block_on(async {
        match kind.as_str() {
            "sdk" => {
                let client = segment_iam::Client::builder()
                    .token(TOKEN)
                    .base_url(base)
                    .build()
                    .map_err(|e| e.to_string())?;
                sdk_stream(&client, 1_000, limit, Duration::ZERO).await
            }
            "loop" => {
                let http = common::raw_http(TOKEN)?;
                hand_written_loop(&http, base, 1_000, limit, Duration::ZERO).await
            }
            other => Err(format!("unknown child kind {other:?}")),
        }
    })?;
    let peak = vmhwm_kib().ok_or("no VmHWM in /proc/self/status")?;
    println!("items={items} vmhwm_kib={peak}");
    Ok(())
}
