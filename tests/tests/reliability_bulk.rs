//! Partial bulk failure: a removal split into chunks under a short URL limit, with chunk k
//! failing. The error says exactly which emails were removed and which were not, and
//! re-running with the remainder converges (journal and final state checked).

use std::collections::HashSet;

use segment_iam::{Client, Error, Outcome};
use segment_iam_emulator::query::DecodedQuery;
use segment_iam_emulator::{EmulatorHandle, Fault, Operation};
use segment_iam_tests::reliability::{TIMEOUT, fast_retry};
use segment_iam_tests::{TOKEN, emulator, start};

const INVITES: usize = 24;

fn chunky_client(emu: &EmulatorHandle) -> Client {
    Client::builder()
        .token(TOKEN)
        .base_url(emu.base_url())
        .timeout(TIMEOUT)
        .retry(fast_retry(3))
        // Room for a handful of emails per request.
        .max_url_len(emu.base_url().len() + "/invites".len() + 160)
        .build()
        .expect("client")
}

/// The emails each applied `delete_invites` request carried, in journal order.
fn applied_batches(emu: &EmulatorHandle) -> Vec<Vec<String>> {
    emu.journal_for(Operation::DeleteInvites)
        .into_iter()
        .filter(|e| e.applied)
        .map(|e| {
            DecodedQuery::parse(&e.query)
                .expect("query")
                .array("emails", true)
                .expect("emails")
                .expect("present")
        })
        .collect()
}

/// Where each chunk starts, learned from a clean removal of the same invites on a fresh
/// emulator: the journal's applied batches, not the client's own planner.
async fn chunk_starts() -> Vec<usize> {
    let emu = start(emulator().invites(INVITES)).await;
    let client = chunky_client(&emu);
    client
        .invites()
        .delete(emu.invite_emails())
        .await
        .expect("clean removal");
    let mut starts = Vec::new();
    let mut at = 0;
    for batch in applied_batches(&emu) {
        starts.push(at);
        at += batch.len();
    }
    assert_eq!(at, INVITES);
    starts
}

/// Cases: every chunk k of a 24-invite removal (about 5 chunks) failing with a 500 that
/// never clears. Asserts: for k = 0 the bare server error (nothing was applied, so no
/// Partial); for k > 0 Error::Partial whose `applied` is exactly the emails of chunks before
/// k (gone from the emulator) and `not_applied` exactly the rest (still pending), in input
/// order, outcome PartlyApplied; the journal shows k applied requests; re-running with the
/// remainder succeeds, every invite is gone, and each email was removed by exactly one
/// applied request.
#[tokio::test]
async fn a_chunked_removal_failing_at_chunk_k_reports_exactly_what_was_removed_and_the_rerun_converges()
 {
    let plan = chunk_starts().await;
    assert!(plan.len() >= 4, "the URL limit must force several chunks");
    for (k, &split) in plan.iter().enumerate() {
        let emu = start(emulator().invites(INVITES)).await;
        let client = chunky_client(&emu);
        let emails = emu.invite_emails();
        assert_eq!(emails.len(), INVITES);
        emu.inject(
            Fault::status(500)
                .on_operation(Operation::DeleteInvites)
                .always()
                .skip_first(k as u32),
        );
        let error = client
            .invites()
            .delete(emails.clone())
            .await
            .expect_err("chunk k fails");
        let (applied, not_applied) = match &error {
            Error::Partial {
                applied,
                not_applied,
                source,
            } => {
                assert!(k > 0, "nothing applied is not a Partial: {error:?}");
                assert!(
                    matches!(**source, Error::Server { attempts: 3, .. }),
                    "{source:?}"
                );
                assert_eq!(source.outcome(), Outcome::Ambiguous);
                assert_eq!(error.outcome(), Outcome::Ambiguous);
                (applied.clone(), not_applied.clone())
            }
            Error::Server { attempts: 3, .. } => {
                assert_eq!(k, 0, "a later chunk's failure must be a Partial: {error:?}");
                (Vec::new(), emails.clone())
            }
            other => panic!("k={k}: unexpected {other:?}"),
        };
        let (applied, not_applied) = (&applied, &not_applied);
        assert_eq!(applied, &emails[..split], "k={k}");
        assert_eq!(not_applied, &emails[split..], "k={k}");
        let pending: HashSet<String> = emu.invite_emails().into_iter().collect();
        assert!(
            applied.iter().all(|e| !pending.contains(e)),
            "applied ones are gone"
        );
        assert!(
            not_applied.iter().all(|e| pending.contains(e)),
            "the rest remain"
        );
        assert_eq!(applied_batches(&emu).len(), k);

        // The fault clears; the remainder converges.
        emu.clear_faults();
        let rerun = client
            .invites()
            .delete(not_applied.clone())
            .await
            .expect("rerun");
        assert_eq!(&rerun.applied, not_applied);
        assert!(emu.invite_emails().is_empty(), "k={k}: everything removed");
        let batches = applied_batches(&emu);
        let all: Vec<String> = batches.into_iter().flatten().collect();
        assert_eq!(all, emails, "k={k}: each email removed once, in order");
    }
}

/// Cases: every chunk k failing once after it was applied (the answer is lost, the retry
/// meets a 404). Asserts: the removal succeeds as a whole, reports every email applied in
/// input order, and the journal shows each email removed by exactly one applied request.
#[tokio::test]
async fn a_lost_answer_at_chunk_k_is_absorbed_without_removing_anything_twice() {
    let chunks = chunk_starts().await.len();
    for k in 0..chunks {
        let emu = start(emulator().invites(INVITES)).await;
        let client = chunky_client(&emu);
        let emails = emu.invite_emails();
        emu.inject(
            Fault::drop_connection()
                .after_apply()
                .on_operation(Operation::DeleteInvites)
                .skip_first(k as u32),
        );
        let outcome = client
            .invites()
            .delete(emails.clone())
            .await
            .expect("absorbed");
        assert_eq!(outcome.applied, emails, "k={k}");
        assert!(emu.invite_emails().is_empty());
        let all: Vec<String> = applied_batches(&emu).into_iter().flatten().collect();
        assert_eq!(all, emails, "k={k}: removed once each");
        assert_eq!(
            outcome.requests, chunks as u64,
            "k={k}: chunks counted once"
        );
    }
}

/// Cases: 1 (a group's 12 members removed in chunks, chunk 2 failing with 503 until cleared).
/// Asserts: Partial names exactly the removed and remaining members, the emulator agrees,
/// and the rerun leaves the group empty.
#[tokio::test]
async fn a_chunked_member_removal_failing_midway_reports_exactly_and_converges() {
    let emu = start(emulator().users(12).groups(1)).await;
    let gid = emu.group_ids()[0].clone();
    let emails: Vec<String> = emu.state().users.into_iter().map(|u| u.email).collect();
    let client = Client::builder()
        .token(TOKEN)
        .base_url(emu.base_url())
        .retry(fast_retry(2))
        .max_url_len(emu.base_url().len() + 120 + gid.len())
        .build()
        .expect("client");
    client
        .groups()
        .add_members(&gid, emails.clone())
        .await
        .expect("members");
    emu.inject(
        Fault::status(503)
            .on_operation(Operation::RemoveUsersFromUserGroup)
            .always()
            .skip_first(2),
    );
    let error = client
        .groups()
        .remove_members(&gid, emails.clone())
        .await
        .expect_err("chunk 2 fails");
    let Error::Partial {
        applied,
        not_applied,
        ..
    } = error
    else {
        panic!("expected Partial");
    };
    assert!(!applied.is_empty() && !not_applied.is_empty());
    assert_eq!([applied.clone(), not_applied.clone()].concat(), emails);
    let left = emu.group(&gid).expect("group").member_count;
    assert_eq!(left, not_applied.len());
    emu.clear_faults();
    client
        .groups()
        .remove_members(&gid, not_applied)
        .await
        .expect("rerun");
    assert_eq!(emu.group(&gid).expect("group").member_count, 0);
}
