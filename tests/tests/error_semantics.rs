//! `Error`'s accessors say what a caller can act on: whether a change took effect, whether
//! retrying can help, whether the input was at fault, and the status the service answered.

use std::time::Duration;

use segment_iam::{Conflict, Error, Outcome, ServiceError};

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
