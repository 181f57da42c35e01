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
}
