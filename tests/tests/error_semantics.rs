//! `Error`'s accessors say what a caller can act on: whether a change took effect, whether
//! retrying can help, whether the input was at fault, and the status the service answered.

use std::time::Duration;

use segment_iam::{Error, Outcome, ServiceError};

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
    let guard = Error::Guard {
        reason: "last owner".into(),
    };
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
