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
    let live = Live::read(client, &ReadOptions::new()).await?;
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
