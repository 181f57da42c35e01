//! A plan saved as JSON and read back, refused when its format is not this crate's.

use crate::error::{Error, Result};

use super::types::{PLAN_FORMAT, Plan};

impl Plan {
    /// A saved plan's JSON.
    pub fn to_json(&self) -> String {
        // Plain data with string keys: serialising cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads a saved plan.
    pub fn from_json(text: &str) -> Result<Plan> {
        let plan: Plan =
            serde_json::from_str(text).map_err(|e| Error::PlanFormat(e.to_string()))?;
        if plan.format != PLAN_FORMAT {
            return Err(Error::PlanFormat(format!(
                "format {} is not supported (this tool reads format {PLAN_FORMAT})",
                plan.format
            )));
        }
        Ok(plan)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::plan::types::{Action, Step};

    fn plan() -> Plan {
        Plan {
            format: PLAN_FORMAT,
            workspace_id: "ws1".into(),
            live_fingerprint: "0123456789abcdef".into(),
            roles: BTreeMap::from([("r1".to_string(), "Reader".to_string())]),
            steps: vec![Step {
                action: Action::CreateGroup { name: "G".into() },
                requests: 1,
            }],
            notes: vec!["a note".into()],
            reads: 0,
            scope: None,
            expired: vec![],
            expiring: vec![],
        }
    }

    #[test]
    fn a_saved_plan_reads_back_equal() {
        let json = plan().to_json();
        assert!(json.contains("\"action\": \"create_group\""), "{json}");
        assert_eq!(Plan::from_json(&json).expect("reads back"), plan());
    }

    #[test]
    fn another_format_or_not_a_plan_is_refused() {
        let mut other = plan();
        other.format = PLAN_FORMAT + 1;
        match Plan::from_json(&other.to_json()) {
            Err(Error::PlanFormat(message)) => {
                assert!(message.contains("format 2 is not supported"), "{message}")
            }
            result => panic!("{result:?}"),
        }
        assert!(matches!(Plan::from_json("{}"), Err(Error::PlanFormat(_))));
    }

    #[test]
    fn a_plan_with_labels_reads_back_equal_and_an_older_plan_still_reads() {
        let l = |t: &str| t.parse::<segment_iam::Label>().expect("label");
        let narrowed = crate::Grant::new("r1", "WORKSPACE", "ws1").narrowed([l("region:emea")]);
        let mut labelled = plan();
        labelled.steps = vec![
            Step {
                action: Action::CreateLabel {
                    label: l("region:emea"),
                },
                requests: 1,
            },
            Step {
                action: Action::AddPermissions {
                    subject: crate::Subject::User {
                        id: "u1".into(),
                        email: "a@x.io".into(),
                    },
                    grants: vec![narrowed],
                },
                requests: 1,
            },
            Step {
                action: Action::DeleteLabel {
                    label: l("environment:dev"),
                },
                requests: 1,
            },
        ];
        let json = labelled.to_json();
        assert!(json.contains("\"labels\": [\n"), "{json}");
        assert_eq!(Plan::from_json(&json).expect("reads back"), labelled);

        // Written before labels: plain grants carry no `labels` key.
        let older = r#"{"format":1,"workspace_id":"ws1","live_fingerprint":"0123456789abcdef","roles":{"r1":"Reader"},"steps":[{"action":"add_permissions","subject":{"kind":"group","group":{"name":"G","id":"g1"}},"grants":[{"role_id":"r1","resource_type":"WORKSPACE","resource_id":"ws1"}],"requests":1}],"notes":[]}"#;
        let read = Plan::from_json(older).expect("an older plan reads");
        // Written before scoped reads: no read count, checked against a whole read.
        assert_eq!((read.reads, read.scope.clone()), (0, None));
        match &read.steps[0].action {
            Action::AddPermissions { grants, .. } => assert!(!grants[0].is_narrowed()),
            other => panic!("{other:?}"),
        }
        assert_eq!(Plan::from_json(&read.to_json()).expect("again"), read);
    }
}
