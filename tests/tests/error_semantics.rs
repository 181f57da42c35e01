//! Typed errors: `Error`'s accessors say what a caller can act on (whether a change took
//! effect, whether retrying can help, whether the input was at fault, the status the service
//! answered), and each answer the service gives maps to its typed error end to end: 404 and
//! 401 keep their status and envelope, 409/413/414 are refusals that applied nothing and are
//! not retried, an undocumented 2xx is a decode error, never a panic or a guessed value.

use std::time::Duration;

use segment_iam::{Conflict, Error, Invite, Outcome, RetryConfig, ServiceError};
use segment_iam_emulator::{Fault, Operation};
use segment_iam_tests::{client, client_builder, emulator, start};

fn server(outcome: Outcome) -> Error {
    Error::Server {
        error: ServiceError::new(503, vec![]),
        attempts: 3,
        waited: Duration::from_millis(30),
        outcome,
    }
}

fn decode(outcome: Outcome) -> Error {
    Error::Decode {
        status: Some(200),
        message: "cut".into(),
        attempts: 1,
        waited: Duration::ZERO,
        outcome,
    }
}

#[test]
fn a_partial_change_says_partly_applied_only_when_its_failed_request_applied_nothing() {
    let partial = |source: Error| Error::Partial {
        applied: vec!["a".into()],
        not_applied: vec!["b".into()],
        source: Box::new(source),
    };
    assert_eq!(
        partial(server(Outcome::NotApplied)).outcome(),
        Outcome::PartlyApplied
    );
    assert_eq!(
        partial(server(Outcome::Ambiguous)).outcome(),
        Outcome::Ambiguous
    );
    let p = partial(server(Outcome::NotApplied));
    assert_eq!(
        p.status(),
        Some(503),
        "the failed request's status shows through"
    );
    assert!(p.service_error().is_some());
    assert!(p.is_retryable());
    assert!(p.to_string().starts_with("1 of 2 items applied"), "{p}");
}

#[test]
fn an_unreadable_answer_is_retryable_only_when_it_was_not_a_refusal() {
    assert!(!decode(Outcome::NotApplied).is_retryable());
    assert!(decode(Outcome::Ambiguous).is_retryable());
    assert_eq!(decode(Outcome::Ambiguous).status(), Some(200));
}

#[test]
fn refusals_before_sending_are_input_errors_and_service_refusals_are_not() {
    let unknown = Error::UnknownRole {
        given: "Ownr".into(),
        closest: vec!["Owner".into(), "Workspace Owner".into()],
    };
    assert!(unknown.is_invalid_input());
    assert_eq!(
        unknown.to_string(),
        "no role is named \"Ownr\"; closest: \"Owner\", \"Workspace Owner\""
    );
    assert!(
        Error::AmbiguousRole {
            given: "Twin".into(),
            ids: vec!["1".into(), "2".into()]
        }
        .is_invalid_input()
    );
    let validation = Error::Validation(ServiceError::new(422, vec![]));
    assert!(!validation.is_invalid_input());
    assert_eq!(validation.status(), Some(422));
    assert_eq!(validation.outcome(), Outcome::NotApplied);
    assert!(!validation.is_retryable());
    let conflict = Error::Conflict(ServiceError::new(409, vec![]));
    assert_eq!(
        (conflict.status(), conflict.outcome()),
        (Some(409), Outcome::NotApplied)
    );
    let guard = Error::Refused(segment_iam::guard::Refusal::LastOwner {
        owners: vec!["ana@example.com".into()],
    });
    assert!(!guard.is_retryable() && guard.status().is_none());
    let limited = Error::RateLimited {
        advised_wait: Some(Duration::from_secs(3)),
        attempts: 4,
        waited: Duration::from_secs(1),
        error: None,
    };
    assert_eq!(limited.status(), Some(429));
    assert!(limited.is_retryable());
}

#[tokio::test]
async fn service_errors_keep_status_and_envelope() {
    let emu = start(emulator()).await;
    let client = client(&emu);
    let err = client.users().get("no-such-user").await.expect_err("404");
    assert!(matches!(err, Error::NotFound(_)));
    assert_eq!(err.status(), Some(404));
    let envelope = err.service_error().expect("envelope");
    assert!(!envelope.errors.is_empty());
    assert!(!err.is_retryable());

    let wrong_token = segment_iam_tests::client_builder(&emu)
        .token("wrong")
        .build()
        .expect("client");
    let err = wrong_token.users().list().collect().await.expect_err("401");
    assert!(matches!(err, Error::Unauthorized(_)), "{err:?}");
}

/// An undocumented 2xx on `get_user` (202 with a well-formed envelope, where the document
/// says 200) is a typed `Error::Decode` naming the status, its outcome ambiguous, after one
/// request (the body is valid JSON, so there is nothing another attempt could cure): no panic,
/// no value guessed from the body.
#[tokio::test]
async fn an_undocumented_202_with_a_valid_envelope_is_a_typed_decode_error_after_one_request() {
    let emu = start(emulator().users(1)).await;
    let client = client(&emu);
    let id = emu.user_ids()[0].clone();
    emu.inject(
        Fault::respond(
            202,
            "application/json",
            format!(r#"{{"data":{{"user":{{"id":"{id}","name":"n","email":"e@example.com"}}}}}}"#),
        )
        .on_operation(Operation::GetUser)
        .times(1),
    );
    let err = client
        .users()
        .get(&id)
        .await
        .expect_err("an undocumented 202");
    match &err {
        Error::Decode {
            status, attempts, ..
        } => assert_eq!((*status, *attempts), (Some(202), 1), "{err:?}"),
        other => panic!("expected Error::Decode, got {other:?}"),
    }
    assert_eq!(err.outcome(), Outcome::Ambiguous);
    assert!(err.to_string().contains("202"), "{err}");
    assert_eq!(emu.journal_for(Operation::GetUser).len(), 1, "sent once");
}

/// An undocumented 204 with an empty body on `get_user`: an empty body labelled JSON is not
/// JSON, so for this idempotent read it counts as an unreadable answer, retried within the
/// budget, and, when every attempt gets it, ends as a typed `Error::Decode` with status 204
/// after exactly `max_attempts` requests (never a panic or an invented user).
#[tokio::test]
async fn an_undocumented_empty_204_is_retried_then_a_typed_decode_error() {
    let emu = start(emulator().users(1)).await;
    let client = client_builder(&emu)
        .retry(
            RetryConfig::standard()
                .max_attempts(3)
                .initial_backoff(Duration::from_millis(5))
                .max_backoff(Duration::from_millis(20)),
        )
        .build()
        .expect("client");
    let id = emu.user_ids()[0].clone();
    emu.inject(
        Fault::respond(204, "application/json", "")
            .on_operation(Operation::GetUser)
            .always(),
    );
    let err = client.users().get(&id).await.expect_err("no user in a 204");
    match &err {
        Error::Decode {
            status, attempts, ..
        } => assert_eq!((*status, *attempts), (Some(204), 3), "{err:?}"),
        other => panic!("expected Error::Decode, got {other:?}"),
    }
    assert_eq!(err.outcome(), Outcome::Ambiguous);
    assert_eq!(
        emu.journal_for(Operation::GetUser).len(),
        3,
        "the retry budget"
    );

    // Once: the retry gets the real answer.
    emu.clear_faults();
    emu.inject(
        Fault::respond(204, "application/json", "")
            .on_operation(Operation::GetUser)
            .times(1),
    );
    let user = client.users().get(&id).await.expect("cured by the retry");
    assert_eq!(user.id, id);
    assert_eq!(emu.journal_for(Operation::GetUser).len(), 5);
}

/// A 409 (inviting an address that is already a user's, which the emulator refuses) is a
/// typed `Error::Conflict` with status 409 and outcome `NotApplied`, sent once (a refusal is
/// not retried) and nothing invited.
#[tokio::test]
async fn inviting_an_existing_user_is_a_conflict_that_applied_nothing() {
    let emu = start(emulator().users(1)).await;
    let client = client(&emu);
    let existing = emu.state().users[0].email.clone();
    let invites_before = emu.state().invites.len();
    let err = client
        .invites()
        .create([Invite::new(existing)])
        .await
        .expect_err("already a user");
    assert!(matches!(err, Error::Conflict(_)), "{err:?}");
    assert_eq!(
        (err.status(), err.outcome()),
        (Some(409), Outcome::NotApplied)
    );
    assert!(!err.is_retryable());
    let sent = emu.journal_for(Operation::CreateInvites);
    assert_eq!(sent.len(), 1, "not retried");
    assert_eq!((sent[0].status, sent[0].applied), (409, false));
    assert_eq!(emu.state().invites.len(), invites_before);
}

/// A URL over the emulator's limit (200 bytes; the client's own limit is the 8 KiB default, so
/// it sends) is answered 414, which the facade maps to `Error::Service` (call.rs: any status
/// without a variant of its own) with status 414, outcome `NotApplied`, sent once.
#[tokio::test]
async fn a_url_over_the_services_limit_is_a_typed_414_sent_once() {
    let emu = start(emulator().users(1).max_url_len(200)).await;
    let client = client(&emu);
    assert!(
        client.max_url_len() > 300,
        "the client's limit lets it send"
    );
    let long_id = "x".repeat(250);
    let err = client.users().get(&long_id).await.expect_err("414");
    assert!(matches!(err, Error::Service(_)), "{err:?}");
    assert_eq!(
        (err.status(), err.outcome()),
        (Some(414), Outcome::NotApplied)
    );
    assert!(!err.is_retryable());
    // A 414 is answered before routing: the journal entry has no operation.
    let sent = emu.journal();
    assert_eq!(sent.len(), 1, "not retried: {sent:?}");
    assert_eq!(sent[0].status, 414);
    assert!(sent[0].path.ends_with(&long_id));
}

/// A body over the emulator's limit (100 bytes: one invite with a long address) is answered
/// 413, which the facade maps to `Error::Service` with status 413, outcome `NotApplied`, sent
/// once and nothing invited.
#[tokio::test]
async fn a_body_over_the_services_limit_is_a_typed_413_sent_once() {
    let emu = start(emulator().users(1).max_body(100)).await;
    let client = client(&emu);
    let email = format!("{}@example.com", "p".repeat(120));
    let err = client
        .invites()
        .create([Invite::new(email)])
        .await
        .expect_err("413");
    assert!(matches!(err, Error::Service(_)), "{err:?}");
    assert_eq!(
        (err.status(), err.outcome()),
        (Some(413), Outcome::NotApplied)
    );
    assert!(!err.is_retryable());
    let sent = emu.journal_for(Operation::CreateInvites);
    assert_eq!(sent.len(), 1, "not retried");
    assert_eq!((sent[0].status, sent[0].applied), (413, false));
    assert!(emu.state().invites.is_empty(), "nothing invited");
}

/// A bulk delete the service refuses whole because one id is unknown: the error is a 404
/// naming that id in a typed field, and nothing was deleted.
#[tokio::test]
async fn a_bulk_delete_refused_for_one_unknown_id_names_it() {
    let emu = segment_iam_tests::start(segment_iam_tests::emulator().users(3).invites(0)).await;
    let client = segment_iam_tests::client(&emu);
    let mut ids = emu.user_ids();
    ids.insert(1, "no-such-user".into());
    let error = client
        .users()
        .delete(ids.clone())
        .await
        .expect_err("refused");
    assert!(error.is_not_found(), "{error:?}");
    assert_eq!(error.item(), Some("no-such-user"));
    assert_eq!(error.outcome(), Outcome::NotApplied);
    assert_eq!(emu.user_count(), 3, "nothing deleted");
}

/// The unknown id sits in a later chunk: the call is partial, and its root says not found
/// and names the id.
#[tokio::test]
async fn a_partial_removal_names_the_unknown_item_at_its_root() {
    let emu = segment_iam_tests::start(segment_iam_tests::emulator().users(0).invites(12)).await;
    let client = segment_iam_tests::client_builder(&emu)
        .max_url_len(emu.base_url().len() + 120)
        .build()
        .expect("client");
    let mut emails = emu.invite_emails();
    emails.push("nobody@example.com".into());
    let error = client
        .invites()
        .delete(emails.clone())
        .await
        .expect_err("refused part-way");
    let Error::Partial {
        applied,
        not_applied,
        ..
    } = &error
    else {
        panic!("expected a partial change, got {error:?}");
    };
    assert!(!applied.is_empty());
    assert!(not_applied.contains(&"nobody@example.com".to_string()));
    assert!(matches!(error.root(), Error::NotFound(_)), "{error:?}");
    assert!(error.is_not_found());
    assert_eq!(error.item(), Some("nobody@example.com"));
    assert_eq!(error.outcome(), Outcome::PartlyApplied);
}

/// Inviting someone who is a user, or who is already invited, is a 409 the caller can match
/// on, naming the email as given.
#[tokio::test]
async fn inviting_a_user_or_an_invitee_is_a_conflict_of_its_kind() {
    let emu = segment_iam_tests::start(segment_iam_tests::emulator().users(1).invites(1)).await;
    let client = segment_iam_tests::client(&emu);
    let state = emu.state();
    let user = state.users[0].email.to_uppercase();
    let invitee = emu.invite_emails()[0].clone();
    let as_user = client
        .invites()
        .create(["new@example.com".to_string(), user.clone()])
        .await
        .expect_err("a user");
    assert_eq!(
        as_user.conflict(),
        Some(Conflict::AlreadyUser),
        "{as_user:?}"
    );
    assert_eq!(as_user.item(), Some(user.as_str()));
    let again = client
        .invites()
        .create([invitee.clone()])
        .await
        .expect_err("invited");
    assert_eq!(
        again.conflict(),
        Some(Conflict::AlreadyInvited),
        "{again:?}"
    );
    assert_eq!(again.item(), Some(invitee.as_str()));
    assert!(!again.is_not_found());
    let group = client.groups().create("Ops").await.expect("created");
    let taken = client
        .groups()
        .create(group.name)
        .await
        .expect_err("name taken");
    assert_eq!(
        taken.conflict(),
        Some(Conflict::GroupNameTaken),
        "{taken:?}"
    );
}
