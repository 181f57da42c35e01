//! Shared steps of the access-as-code tests: parse, read, plan and apply against an emulator,
//! and count what reached it.

use segment_iam::Client;
use segment_iam::jobs::read::ReadOptions;
use segment_iam_emulator::EmulatorHandle;
use segment_iam_emulator::state::{PermissionInput, PermissionResource};
use segment_iam_sync::{AccessFile, ApplyOptions, ApplyReport, Live, Plan};

/// Reads the live workspace whole.
pub async fn live(client: &Client) -> Live {
    Live::read(client, &ReadOptions::new())
        .await
        .expect("the live workspace reads")
}

/// Parses `yaml`, reads the live workspace, and plans.
pub async fn plan(client: &Client, yaml: &str) -> segment_iam_sync::Result<Plan> {
    let file = AccessFile::parse(yaml)?;
    let live = Live::read_for(client, &file, &ReadOptions::new()).await?;
    segment_iam_sync::plan(&file, &live, client)
}

/// Plans `yaml` and applies it with no removal cap.
pub async fn plan_and_apply(
    client: &Client,
    yaml: &str,
) -> segment_iam_sync::Result<(Plan, ApplyReport)> {
    let plan = plan(client, yaml).await?;
    let report = segment_iam_sync::apply(
        client,
        &plan,
        &ApplyOptions::new().removal_cap(segment_iam::guard::RemovalCap::off()),
    )
    .await?;
    Ok((plan, report))
}

/// The live workspace exported as YAML.
pub async fn export_yaml(client: &Client) -> String {
    segment_iam_sync::export(client, &ReadOptions::new())
        .await
        .expect("export")
        .to_yaml()
        .expect("the export writes")
}

/// Mutations (every non-GET request) the emulator has received.
pub fn mutations(emulator: &EmulatorHandle) -> u64 {
    let sent = emulator
        .journal()
        .iter()
        .filter(|e| e.method != "GET")
        .count();
    u64::try_from(sent).expect("a journal's length fits a u64")
}

/// "Workspace Owner" on the emulator's workspace, as a fixture permission.
pub fn owner_permission() -> PermissionInput {
    PermissionInput {
        role_id: crate::OWNER_ROLE.to_string(),
        resources: vec![PermissionResource {
            id: crate::WORKSPACE.to_string(),
            resource_type: "WORKSPACE".to_string(),
            labels: vec![],
        }],
    }
}

/// A fixture label `key:value`.
pub fn fixture_label(text: &str) -> segment_iam_emulator::state::Label {
    let (key, value) = text.split_once(':').expect("key:value");
    segment_iam_emulator::state::Label {
        key: key.to_string(),
        value: value.to_string(),
        description: None,
    }
}

/// `role_id` on the emulator's workspace narrowed by `labels`, as a fixture permission.
pub fn narrowed_permission(role_id: &str, labels: &[&str]) -> PermissionInput {
    PermissionInput {
        role_id: role_id.to_string(),
        resources: vec![PermissionResource {
            id: crate::WORKSPACE.to_string(),
            resource_type: "WORKSPACE".to_string(),
            labels: labels.iter().map(|l| fixture_label(l)).collect(),
        }],
    }
}

/// A labelled workspace: labels environment:dev/prod, region:emea, tier:gold; own@x.io owns
/// it (plain); a@x.io holds Source Admin narrowed by environment:prod; group Prod (a@x.io)
/// holds Source Read-only narrowed by environment:prod and region:emea; group Plain (b@x.io)
/// holds Workspace Member, plain; source src1 carries environment:prod.
pub fn labelled_workspace() -> segment_iam_emulator::Fixture {
    use segment_iam_emulator::{Fixture, FixtureGroup, FixtureSource, FixtureUser};
    let role = |name: &str| {
        segment_iam_emulator::state::DEFAULT_ROLES
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|(id, _, _)| id.to_string())
            .expect("a default role")
    };
    let user = |email: &str, permissions: Vec<PermissionInput>| FixtureUser {
        email: email.to_string(),
        permissions,
        ..FixtureUser::default()
    };
    Fixture {
        users: vec![
            user("own@x.io", vec![owner_permission()]),
            user(
                "a@x.io",
                vec![narrowed_permission(
                    &role("Source Admin"),
                    &["environment:prod"],
                )],
            ),
            user("b@x.io", vec![]),
        ],
        groups: vec![
            FixtureGroup {
                name: "Prod".into(),
                members: vec!["a@x.io".into()],
                permissions: vec![narrowed_permission(
                    &role("Source Read-only"),
                    &["environment:prod", "region:emea"],
                )],
                ..FixtureGroup::default()
            },
            FixtureGroup {
                name: "Plain".into(),
                members: vec!["b@x.io".into()],
                permissions: vec![narrowed_permission(&role("Workspace Member"), &[])],
                ..FixtureGroup::default()
            },
        ],
        labels: Some(
            [
                "environment:dev",
                "environment:prod",
                "region:emea",
                "tier:gold",
            ]
            .iter()
            .map(|l| fixture_label(l))
            .collect(),
        ),
        sources: vec![FixtureSource {
            id: Some("src1".into()),
            labels: vec![fixture_label("environment:prod")],
            ..FixtureSource::default()
        }],
        ..Fixture::default()
    }
}
