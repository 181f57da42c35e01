//! Exactly once: the two creating POSTs (`create_invites`, `create_user_group`) under every
//! fault kind, before and after the operation is applied. Each is applied at most once on the
//! emulator (journal counts), and the error's outcome never lies: `NotApplied` only when the
//! journal shows nothing applied, `Applied` only when it shows the change; everything else is
//! `Ambiguous`. The onboarding job built on `create_invites` keeps that promise whole: an
//! invite whose answer was lost is looked up, and a run stopped anywhere is finished by the
//! next with each person invited once.

use std::time::Duration;

use segment_iam::jobs::onboard::{self, OnboardOptions};
use segment_iam::{Error, Outcome};
use segment_iam_emulator::{EmulatorHandle, Fault, Operation};
use segment_iam_tests::onboard::{
    NEW, ORDER, applied_in_state, assert_converged, fixture, invited_in_journal, plan, within_10s,
};
use segment_iam_tests::reliability::{fault_client, settle, transient_faults_both_phases};
use segment_iam_tests::{client, emulator, start};

/// Checks one faulted POST: at most one request applied, at most one sent when the request
/// may have arrived, and an outcome consistent with the journal. Returns the outcome.
fn check(
    emu: &EmulatorHandle,
    operation: Operation,
    name: &str,
    result: Result<(), Error>,
    sent: u64,
) -> Option<Outcome> {
    let applied = emu.applied_count(operation);
    assert!(
        applied <= 1,
        "{operation} with {name}: applied {applied} times"
    );
    match result {
        Ok(()) => {
            assert_eq!(
                applied, 1,
                "{operation} with {name}: success but not applied"
            );
            None
        }
        Err(error) => {
            let outcome = error.outcome();
            match outcome {
                Outcome::NotApplied => {
                    assert_eq!(applied, 0, "{operation} with {name}: said not applied")
                }
                Outcome::Ambiguous => {}
                other => panic!("{operation} with {name}: one request cannot be {other:?}"),
            }
            // A POST that may have arrived is never sent again.
            assert_eq!(sent, 1, "{operation} with {name}: re-sent after {error}");
            assert!(
                error.to_string().contains("after 1 attempts"),
                "{operation} with {name}: {error}"
            );
            Some(outcome)
        }
    }
}

/// Runs every fault of both phases against `call`, each on a fresh emulator so journal
/// counts are per case.
async fn sweep<F, Fut>(operation: Operation, call: F) -> Vec<(String, Option<Outcome>)>
where
    F: Fn(segment_iam::Client, usize) -> Fut,
    Fut: std::future::Future<Output = Result<(), Error>>,
{
    let mut seen = Vec::new();
    for (case, (name, fault)) in transient_faults_both_phases().into_iter().enumerate() {
        let emu = start(emulator().users(1)).await;
        let client = fault_client(&emu, 4);
        emu.inject(fault.on_operation(operation).always());
        let result = call(client.clone(), case).await;
        // A slow answer is applied after the client gave up: wait for it before counting.
        settle(&emu, client.metrics().requests).await;
        let outcome = check(&emu, operation, &name, result, client.metrics().requests);
        seen.push((name, outcome));
    }
    seen
}

/// Cases: 8 fault kinds x 2 phases, each fault never clearing. Asserts: create_invites is
/// applied at most once (journal), sent once when it may have arrived, and the error's
/// outcome agrees with the journal (NotApplied only if nothing applied); before-apply
/// faults are never reported as applied and after-apply ones never as not applied.
#[tokio::test]
async fn create_invites_is_applied_at_most_once_under_every_fault_and_its_outcome_never_lies() {
    let seen = sweep(Operation::CreateInvites, |client, case| async move {
        client
            .invites()
            .create([format!("new{case}@example.com")])
            .await
            .map(|emails| assert_eq!(emails, vec![format!("new{case}@example.com")]))
    })
    .await;
    assert_eq!(seen.len(), 16);
    for (name, outcome) in &seen {
        if name.ends_with("after apply") {
            assert_ne!(*outcome, Some(Outcome::NotApplied), "{name}");
        }
    }
}

/// Cases: 8 fault kinds x 2 phases, each fault never clearing. Asserts: create_user_group is
/// applied at most once (journal), sent once when it may have arrived, and the error's
/// outcome agrees with the journal.
#[tokio::test]
async fn create_user_group_is_applied_at_most_once_under_every_fault_and_its_outcome_never_lies() {
    let seen = sweep(Operation::CreateUserGroup, |client, case| async move {
        client
            .groups()
            .create(format!("group {case}"))
            .await
            .map(|g| assert_eq!(g.name, format!("group {case}")))
    })
    .await;
    assert_eq!(seen.len(), 16);
}

/// Cases: 2 (a refused connection for each POST). Asserts: a POST whose connection was never
/// made is retried (it provably did not arrive) and fails as Transport after the 2-attempt
/// budget with outcome NotApplied.
#[tokio::test]
async fn a_post_that_never_reached_the_service_is_known_not_applied() {
    // Bind a port, then free it: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let client = segment_iam::Client::builder()
        .token(segment_iam_tests::TOKEN)
        .base_url(format!("http://127.0.0.1:{port}"))
        .retry(segment_iam_tests::reliability::fast_retry(2))
        .build()
        .expect("client");
    let invite = client
        .invites()
        .create(["a@example.com"])
        .await
        .expect_err("nothing listens");
    let group = client
        .groups()
        .create("g")
        .await
        .expect_err("nothing listens");
    for error in [invite, group] {
        assert_eq!(error.outcome(), Outcome::NotApplied, "{error:?}");
        assert!(
            matches!(error, Error::Transport { attempts: 2, .. }),
            "{error:?}"
        );
    }
}

/// Cases: 1 (a 503 before apply, once, on create_user_group). Asserts: the POST is not
/// retried (1 request), the error is Server with outcome Ambiguous, and running it again by
/// hand creates the group exactly once.
#[tokio::test]
async fn a_5xx_on_a_post_is_reported_ambiguous_and_a_manual_rerun_creates_exactly_one_group() {
    let emu = start(emulator()).await;
    let client = fault_client(&emu, 4);
    emu.inject(Fault::status(503).on_operation(Operation::CreateUserGroup));
    let error = client.groups().create("once").await.expect_err("503");
    assert!(
        matches!(error, Error::Server { attempts: 1, .. }),
        "{error:?}"
    );
    assert_eq!(error.outcome(), Outcome::Ambiguous);
    assert_eq!(emu.applied_count(Operation::CreateUserGroup), 0);
    client.groups().create("once").await.expect("rerun");
    let named: Vec<_> = emu
        .state()
        .groups
        .into_iter()
        .filter(|g| g.name == "once")
        .collect();
    assert_eq!(named.len(), 1);
}

/// Cases: createInvites applied but its connection dropped (the answer lost). Asserts: the
/// job looks the invites up instead of sending again — one createInvites in the journal —
/// and finishes; the workspace converges.
#[tokio::test]
async fn onboard_an_invite_whose_answer_was_lost_is_looked_up_not_resent() {
    let emu = start(emulator().fixture(fixture())).await;
    let client = client(&emu);
    emu.inject(
        Fault::drop_connection()
            .on_operation(Operation::CreateInvites)
            .after_apply()
            .times(1),
    );
    let plan = plan(&client).await;
    let report = onboard::execute(&client, &plan, &OnboardOptions::new())
        .await
        .expect("the lost answer is resolved by the invites list");
    assert!(report.invites_looked_up);
    assert_eq!(emu.journal_for(Operation::CreateInvites).len(), 1);
    assert_converged(&emu, &client).await;
    assert!(self::plan(&client).await.is_empty());
}

/// Cases: the job (a task) stopped at each boundary between its mutations — before the
/// first, after 1, 2, 3 — and while each mutation's answer is held after it was applied.
/// Synchronised on the emulator: the next mutation is held (a fault), the journal has the
/// answered ones (and, for a held answer, the state shows the change), then the task is
/// aborted. Asserts: re-running (plan, execute; at most twice) until a plan is empty converges
/// to exactly the asked access, each new person invited by exactly one applied createInvites.
#[tokio::test]
async fn onboard_stopped_at_any_point_converges_on_the_next_run_and_invites_once() {
    for (at, held_after_apply) in (0..ORDER.len())
        .map(|k| (k, false))
        .chain((0..ORDER.len()).map(|k| (k, true)))
    {
        let emu = start(emulator().fixture(fixture())).await;
        let client = client(&emu);
        let (op, skip) = ORDER[at];
        let hold = Fault::delay(Duration::from_secs(600))
            .on_operation(op)
            .skip_first(skip);
        emu.inject(if held_after_apply {
            hold.after_apply()
        } else {
            hold.before_apply()
        });
        let plan = plan(&client).await;
        assert_eq!(plan.mutations as usize, ORDER.len());
        let job = {
            let client = client.clone();
            tokio::spawn(
                async move { onboard::execute(&client, &plan, &OnboardOptions::new()).await },
            )
        };
        let answered = |emu: &EmulatorHandle| {
            emu.journal()
                .iter()
                .filter(|e| e.method != "GET" && e.applied)
                .count()
        };
        assert!(
            within_10s(|| answered(&emu) >= at).await,
            "case {at}/{held_after_apply}: {at} mutations answered"
        );
        if held_after_apply {
            // The held mutation is applied: its effect shows in the state.
            assert!(
                within_10s(|| applied_in_state(&emu, at)).await,
                "case {at}: the held mutation was applied"
            );
        }
        job.abort();
        let _ = job.await;
        emu.clear_faults();

        let mut runs = 0;
        loop {
            runs += 1;
            assert!(runs <= 3, "case {at}/{held_after_apply}: no convergence");
            let plan = self::plan(&client).await;
            if plan.is_empty() {
                break;
            }
            onboard::execute(&client, &plan, &OnboardOptions::new())
                .await
                .expect("the re-run finishes");
        }
        assert_converged(&emu, &client).await;
        assert_eq!(
            invited_in_journal(&emu).len(),
            NEW.len(),
            "case {at}/{held_after_apply}: one createInvites applied, not a second"
        );
    }
}
