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
