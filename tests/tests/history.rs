//! The audit trail through the facade: `client.audit_events()` pages newest first and sends
//! its filters to the service (`startTime`, `endTime`, `resourceType`, `resourceId`); bad
//! filters are refused before anything is sent; a workspace without the audit trail is
//! `Error::AuditTrailUnavailable`, not an empty list; `jobs::history` narrows to a person
//! (as the resource or the actor) and to a group, and counts its requests.

use std::time::{Duration, SystemTime};

use futures::TryStreamExt;
use segment_iam::jobs::history::{HistoryFilter, history};
use segment_iam::{AuditEvent, Client, Error};
use segment_iam_emulator::{EmulatorHandle, Operation};
use segment_iam_tests::{client, client_builder, emulator, start};

/// A client whose token the emulator knows as `email`'s.
fn client_as(emu: &EmulatorHandle, token: &str) -> Client {
    client_builder(emu).token(token).build().expect("client")
}

fn types(events: &[AuditEvent]) -> Vec<&str> {
    events.iter().map(|e| e.event_type.as_str()).collect()
}

/// Creates `n` groups named `G0`.. and answers their ids, oldest first.
async fn groups(client: &Client, n: usize) -> Vec<String> {
    let mut ids = Vec::new();
    for i in 0..n {
        ids.push(
            client
                .groups()
                .create(format!("G{i}"))
                .await
                .expect("create")
                .id,
        );
    }
    ids
}

#[tokio::test]
async fn the_paginator_pages_newest_first_and_sends_the_filters() {
    let emu = start(emulator()).await;
    let client = client(&emu);
    let ids = groups(&client, 5).await;
    let events: Vec<AuditEvent> = client
        .audit_events()
        .list()
        .page_size(2)
        .items()
        .try_collect()
        .await
        .expect("events");
    let names: Vec<&str> = events.iter().map(|e| e.resource_name.as_str()).collect();
    assert_eq!(names, ["G4", "G3", "G2", "G1", "G0"]);
    assert_eq!(
        emu.applied_count(Operation::ListAuditEvents),
        3,
        "5 at 2 a page"
    );
    assert!(
        events
            .iter()
            .all(|e| e.at.is_some() && e.actor == segment_iam_emulator::DEFAULT_ACTOR)
    );
    let ats: Vec<SystemTime> = events.iter().filter_map(|e| e.at).collect();
    assert!(ats.windows(2).all(|w| w[0] >= w[1]));

    // One group's events, in a window around them (from the recorded instants, no clock).
    let oldest = ats[ats.len() - 1];
    let one: Vec<AuditEvent> = client
        .audit_events()
        .since(oldest)
        .until(ats[0] + Duration::from_secs(1))
        .resource("USER_GROUP", &ids[2])
        .list()
        .collect()
        .await
        .expect("one group's");
    assert_eq!(types(&one), ["User Group Created"]);
    assert_eq!(one[0].resource_id, ids[2]);
    let sent = emu.journal_for(Operation::ListAuditEvents);
    let query = &sent.last().expect("sent").query;
    for part in [
        "startTime=",
        "endTime=",
        "resourceType=USER_GROUP",
        &format!("resourceId={}", ids[2]),
    ] {
        assert!(query.contains(part), "{part} not in {query}");
    }
    // A window that ends before the first event holds nothing.
    let before: Vec<AuditEvent> = client
        .audit_events()
        .until(oldest)
        .list()
        .collect()
        .await
        .expect("empty");
    assert!(before.is_empty(), "{before:?}");
}

#[tokio::test]
async fn bad_filters_are_refused_before_anything_is_sent() {
    let emu = start(emulator()).await;
    let client = client(&emu);
    let now = SystemTime::now();
    let refusals = [
        client.audit_events().since(now).until(now).list(),
        client.audit_events().resource_id(" ").list(),
        client.audit_events().resource("", "g1").list(),
    ];
    for paginator in refusals {
        let e = paginator.collect().await.expect_err("refused");
        assert!(e.is_invalid_input(), "{e:?}");
    }
    let e = history(&client, &HistoryFilter::new().email("nope"))
        .await
        .expect_err("not an email");
    assert!(e.is_invalid_input(), "{e:?}");
    assert!(emu.journal().is_empty(), "{:?}", emu.journal());
}

#[tokio::test]
async fn a_workspace_without_the_audit_trail_is_a_typed_error_not_an_empty_list() {
    let emu = start(emulator().audit_trail(false)).await;
    let client = client(&emu);
    groups(&client, 1).await;
    let e = client
        .audit_events()
        .list()
        .collect()
        .await
        .expect_err("no audit trail");
    assert!(matches!(e, Error::AuditTrailUnavailable(_)), "{e:?}");
    assert_eq!(e.status(), Some(403));
    assert!(!e.is_retryable());
    let e = history(&client, &HistoryFilter::new())
        .await
        .expect_err("no audit trail");
    assert!(matches!(e, Error::AuditTrailUnavailable(_)), "{e:?}");
    assert_eq!(
        emu.applied_count(Operation::ListAuditEvents),
        0,
        "refused, not applied"
    );
}

#[tokio::test]
async fn history_narrows_to_a_person_as_resource_or_actor_and_to_a_group() {
    let emu = start(
        emulator()
            .users(3)
            .token_for("T-ana", "ana@example.com")
            .token_for("T-ben", "ben@example.com"),
    )
    .await;
    let ana = client_as(&emu, "T-ana");
    let ben = client_as(&emu, "T-ben");
    let member = emu.state().users[1].email.clone();
    let group = ana.groups().create("Analysts").await.expect("create");
    ana.groups()
        .add_members(&group.id, [member.as_str()])
        .await
        .expect("add");
    ben.groups()
        .rename(&group.id, "Analysts EU")
        .await
        .expect("rename");

    let all = history(&ana, &HistoryFilter::new()).await.expect("all");
    assert_eq!(
        types(&all.events),
        [
            "User Group Updated",
            "Subjects Added to Group",
            "User Added To User Group",
            "User Group Created"
        ]
    );
    assert_eq!(
        all.events[0].actor_email.as_deref(),
        Some("ben@example.com")
    );
    assert_eq!(all.requests, 1);

    let about = history(&ana, &HistoryFilter::new().email(member.to_uppercase()))
        .await
        .expect("about the member");
    assert_eq!(types(&about.events), ["User Added To User Group"]);
    assert!(about.requests >= 2, "the users list, then the trail");

    let by_ben = history(&ana, &HistoryFilter::new().email("BEN@example.com"))
        .await
        .expect("by ben");
    assert_eq!(types(&by_ben.events), ["User Group Updated"]);

    let of_group = history(&ana, &HistoryFilter::new().group("analysts eu"))
        .await
        .expect("the group");
    assert_eq!(
        types(&of_group.events),
        [
            "User Group Updated",
            "Subjects Added to Group",
            "User Group Created"
        ]
    );
    let unknown = history(&ana, &HistoryFilter::new().group("Analysts US"))
        .await
        .expect_err("unknown group");
    assert!(unknown.is_invalid_input(), "{unknown:?}");
}
