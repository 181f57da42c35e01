//! Three `segment-iam apply -f access.yaml --yes` processes at once, through the real binary,
//! in both emulator modes (a duplicate group name refused, or accepted): every one exits 0,
//! one group per name remains, and a fourth plan finds nothing to do.
//!
//! The processes reach the emulator through a gate on 127.0.0.1 that passes reads and holds
//! every mutation until it holds one from each process (an apply sends one mutation at a
//! time, so three held means all three have read the workspace and planned); then it lets
//! them all through. Waits are on those events, never on sleeps.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use segment_iam_emulator::state::{PermissionInput, PermissionResource};
use segment_iam_emulator::{Emulator, EmulatorHandle, Fixture, FixtureUser, Operation};

const TOKEN: &str = "sgp_overlap-test-TOKEN-51c0";
const BIN: &str = env!("CARGO_BIN_EXE_segment-iam");
const RUNS: usize = 3;
const GROUPS: usize = 8;

/// The bound of every awaited event (returned from as soon as it happens).
const EVENT_LIMIT: Duration = Duration::from_secs(60);

/// Mutations held, and whether the gate is open.
#[derive(Default)]
struct Gate {
    state: Mutex<(usize, bool)>,
    changed: Condvar,
}

impl Gate {
    fn lock(&self) -> std::sync::MutexGuard<'_, (usize, bool)> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Holds the caller until the gate opens (bounded).
    fn pass(&self) {
        let mut state = self.lock();
        state.0 += 1;
        self.changed.notify_all();
        let deadline = Instant::now() + EVENT_LIMIT;
        while !state.1 && Instant::now() < deadline {
            state = self
                .changed
                .wait_timeout(state, Duration::from_millis(100))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
    }

    /// Waits until `n` mutations are held; false if not within the bound.
    fn held(&self, n: usize) -> bool {
        let mut state = self.lock();
        let deadline = Instant::now() + EVENT_LIMIT;
        while state.0 < n {
            if Instant::now() >= deadline {
                return false;
            }
            state = self
                .changed
                .wait_timeout(state, Duration::from_millis(100))
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        true
    }

    fn open(&self) {
        self.lock().1 = true;
        self.changed.notify_all();
    }
}

/// Starts the gate in front of `upstream`; its base URL.
fn gate(upstream: SocketAddr, gate: Arc<Gate>) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("the gate binds 127.0.0.1");
    let addr = listener.local_addr().expect("the gate's address");
    std::thread::spawn(move || {
        for connection in listener.incoming() {
            let Ok(connection) = connection else { continue };
            let gate = gate.clone();
            std::thread::spawn(move || {
                if let Err(e) = relay(connection, upstream, &gate) {
                    eprintln!("gate: {e}");
                }
            });
        }
    });
    format!("http://{addr}")
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// One request through the gate (one per connection: `connection: close` both ways).
fn relay(mut downstream: TcpStream, upstream: SocketAddr, gate: &Gate) -> std::io::Result<()> {
    downstream.set_read_timeout(Some(EVENT_LIMIT))?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
        let n = downstream.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let lines: Vec<&str> = head
        .trim_end()
        .split("\r\n")
        .filter(|line| !line.to_ascii_lowercase().starts_with("connection:"))
        .collect();
    let body_len = lines
        .iter()
        .find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.trim()
                .eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse::<usize>().ok())
                .flatten()
        })
        .unwrap_or(0);
    while buf.len() < head_end + body_len {
        let n = downstream.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    if !head.starts_with("GET ") {
        gate.pass();
    }
    let mut up = TcpStream::connect(upstream)?;
    up.set_read_timeout(Some(EVENT_LIMIT))?;
    up.write_all(format!("{}\r\nconnection: close\r\n\r\n", lines.join("\r\n")).as_bytes())?;
    up.write_all(&buf[head_end..head_end + body_len])?;
    let mut answer = Vec::new();
    up.read_to_end(&mut answer)?;
    downstream.write_all(&answer)?;
    downstream.shutdown(std::net::Shutdown::Both)
}

/// own@x.io owns the workspace; u0..u5@x.io are users.
fn fixture() -> Fixture {
    let owner = PermissionInput {
        role_id: "1WDUuRLxv84rrfCNUwvkrRtkxnS".into(),
        resources: vec![PermissionResource {
            id: segment_iam_emulator::seed::WORKSPACE_ID.into(),
            resource_type: "WORKSPACE".into(),
            labels: vec![],
        }],
    };
    let mut users = vec![FixtureUser {
        email: "own@x.io".into(),
        permissions: vec![owner],
        ..FixtureUser::default()
    }];
    users.extend((0..6).map(|i| FixtureUser {
        email: format!("u{i}@x.io"),
        ..FixtureUser::default()
    }));
    Fixture {
        users,
        ..Fixture::default()
    }
}

/// 8 groups with two members and a permission each, and two new invitees.
fn file() -> String {
    let mut yaml = String::from(
        "version: 1\nusers:\n  own@x.io:\n    permissions:\n      - role: Workspace Owner\n        resources: [workspace]\n  new1@x.io: {}\n  new2@x.io: {}\ngroups:\n",
    );
    for g in 0..GROUPS {
        yaml.push_str(&format!(
            "  Team {g}:\n    members: [u{}@x.io, new{}@x.io]\n    permissions:\n      - role: Source Read-only\n        resources: [workspace]\n",
            g % 6,
            g % 2 + 1,
        ));
    }
    yaml
}

/// `segment-iam <args>` against `base_url`, spawned.
fn spawn(base_url: &str, args: &[&str], path: &Path) -> Child {
    std::process::Command::new(BIN)
        .env_clear()
        .env("SEGMENT_PUBLIC_API_TOKEN", TOKEN)
        .args(["--base-url", base_url])
        .args(args)
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn")
}

/// The exit code and output of `child`, waited for on its exit (bounded: killed after
/// [`EVENT_LIMIT`]).
fn finish(child: Child) -> (Option<i32>, String) {
    let id = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    let Ok(out) = rx.recv_timeout(EVENT_LIMIT) else {
        // Only this test's own child, by its id.
        let _ = std::process::Command::new("kill")
            .arg(id.to_string())
            .status();
        panic!("process {id} did not finish within {EVENT_LIMIT:?}");
    };
    let out = out.expect("output");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

/// Three applies at once through the gate, then a fourth plan; the emulator's groups.
fn three_applies(duplicates: bool) -> (EmulatorHandle, Vec<String>, tokio::runtime::Runtime) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let emu = rt
        .block_on(
            Emulator::builder()
                .token(TOKEN)
                .seed(11)
                .rate_limits(false)
                .allow_duplicate_group_names(duplicates)
                .fixture(fixture())
                .start(),
        )
        .expect("emulator starts");
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("access.yaml");
    std::fs::write(&path, file()).expect("write the file");
    let held = Arc::new(Gate::default());
    let url = gate(emu.addr(), held.clone());
    let runs: Vec<Child> = (0..RUNS)
        .map(|_| spawn(&url, &["apply", "--yes", "-o", "table", "-f"], &path))
        .collect();
    assert!(held.held(RUNS), "each run reached its first mutation");
    assert!(
        emu.journal().iter().all(|e| e.method == "GET"),
        "no mutation reached the emulator before all three had planned"
    );
    held.open();
    let mut outputs = Vec::new();
    for run in runs {
        let (code, text) = finish(run);
        assert_eq!(code, Some(0), "every apply exits 0:\n{text}");
        outputs.push(text);
    }
    let (code, text) = finish(spawn(
        &emu.base_url(),
        &["plan", "--detailed-exitcode", "-f"],
        &path,
    ));
    assert_eq!(code, Some(0), "a fourth plan is empty:\n{text}");
    (emu, outputs, rt)
}

/// Groups with `name`.
fn named(emu: &EmulatorHandle, name: &str) -> usize {
    emu.state().groups.iter().filter(|g| g.name == name).count()
}

/// The number the summary line writes after `words` (0 when it does not say it), summed
/// over the runs' outputs.
fn said(outputs: &[String], words: &str) -> usize {
    outputs
        .iter()
        .filter_map(|o| {
            let rest = &o[o.find(words)? + words.len()..];
            let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
            digits.parse::<usize>().ok()
        })
        .sum()
}

#[test]
fn three_applies_at_once_all_exit_0_when_the_service_refuses_a_duplicate_name() {
    let (emu, outputs, _rt) = three_applies(false);
    for g in 0..GROUPS {
        assert_eq!(named(&emu, &format!("Team {g}")), 1);
    }
    assert_eq!(emu.applied_count(Operation::CreateUserGroup), GROUPS);
    // Each group created by one run and used by the two others, as the summaries say.
    assert_eq!(said(&outputs, "; created "), GROUPS, "{outputs:?}");
    assert_eq!(
        said(&outputs, "; used "),
        (RUNS - 1) * GROUPS,
        "{outputs:?}"
    );
    assert_eq!(said(&outputs, "; merged and deleted "), 0, "{outputs:?}");
}

#[test]
fn three_applies_at_once_all_exit_0_and_merge_when_the_service_accepts_duplicates() {
    let (emu, outputs, _rt) = three_applies(true);
    for g in 0..GROUPS {
        assert_eq!(named(&emu, &format!("Team {g}")), 1);
    }
    assert_eq!(emu.applied_count(Operation::CreateUserGroup), RUNS * GROUPS);
    assert_eq!(
        emu.applied_count(Operation::DeleteUserGroup),
        (RUNS - 1) * GROUPS
    );
    // Every duplicate merged by the run that made it, as the summaries say.
    assert_eq!(
        said(&outputs, "; merged and deleted "),
        (RUNS - 1) * GROUPS,
        "{outputs:?}"
    );
    assert_eq!(said(&outputs, "; created "), GROUPS, "{outputs:?}");
}
