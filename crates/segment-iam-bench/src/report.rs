//! The result table: one row per compared figure, rendered as markdown so that a full run's
//! output can be pasted into `BENCHMARKS.md` unchanged.

use std::fmt::Write as _;

/// Whether a row meets its target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The target is met.
    Met,
    /// The target is missed; the notes say why.
    Missed,
    /// A figure without a target (context, or a scenario the issue sets no target for).
    Info,
    /// The scenario could not be measured (deadline, error).
    Failed,
}

impl Verdict {
    /// `Met` when `ok`, else `Missed`.
    pub fn check(ok: bool) -> Self {
        if ok { Verdict::Met } else { Verdict::Missed }
    }

    fn label(self) -> &'static str {
        match self {
            Verdict::Met => "met",
            Verdict::Missed => "**missed**",
            Verdict::Info => "—",
            Verdict::Failed => "**not measured**",
        }
    }
}

/// One figure of one scenario, SDK beside baseline.
#[derive(Debug, Clone)]
pub struct Row {
    /// Scenario and case, e.g. `1 get_user, concurrency 32`.
    pub scenario: String,
    /// What is measured, with its unit.
    pub measure: String,
    /// The SDK's figure.
    pub sdk: String,
    /// The baseline's figure (or the reference it is compared with).
    pub baseline: String,
    /// SDK relative to baseline (or reference).
    pub ratio: String,
    /// The target for this figure.
    pub target: String,
    /// Whether it is met.
    pub verdict: Verdict,
}

/// The whole run's table and notes.
#[derive(Debug, Default)]
pub struct Report {
    rows: Vec<Row>,
    notes: Vec<String>,
}

impl Report {
    /// Adds a row.
    #[allow(clippy::too_many_arguments)]
    pub fn row(
        &mut self,
        scenario: impl Into<String>,
        measure: impl Into<String>,
        sdk: impl Into<String>,
        baseline: impl Into<String>,
        ratio: impl Into<String>,
        target: impl Into<String>,
        verdict: Verdict,
    ) {
        let row = Row {
            scenario: scenario.into(),
            measure: measure.into(),
            sdk: sdk.into(),
            baseline: baseline.into(),
            ratio: ratio.into(),
            target: target.into(),
            verdict,
        };
        eprintln!(
            "  {} | {} | sdk {} | baseline {} | {} | {}",
            row.scenario,
            row.measure,
            row.sdk,
            row.baseline,
            row.ratio,
            row.verdict.label()
        );
        self.rows.push(row);
    }

    /// Records a scenario that could not be measured.
    pub fn failed(&mut self, scenario: &str, error: &str) {
        self.row(scenario, "—", "—", "—", "—", "—", Verdict::Failed);
        self.note(format!("{scenario}: {error}"));
    }

    /// Adds a note printed under the table.
    pub fn note(&mut self, note: impl Into<String>) {
        let note = note.into();
        eprintln!("  note: {note}");
        self.notes.push(note);
    }

    /// Whether any row missed its target or failed.
    pub fn all_met(&self) -> bool {
        self.rows
            .iter()
            .all(|r| matches!(r.verdict, Verdict::Met | Verdict::Info))
    }

    /// Whether some scenario could not be measured.
    pub fn has_failures(&self) -> bool {
        self.rows.iter().any(|r| r.verdict == Verdict::Failed)
    }

    /// The table as markdown, under a header naming the command, the mode and the machine.
    pub fn markdown(&self, header: &[(&str, String)]) -> String {
        let mut out = String::new();
        for (key, value) in header {
            let _ = writeln!(out, "- {key}: {value}");
        }
        out.push('\n');
        out.push_str(
            "| scenario | measure | SDK | baseline | ratio SDK/baseline | target | verdict |\n",
        );
        out.push_str("| --- | --- | ---: | ---: | ---: | --- | --- |\n");
        for r in &self.rows {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} |",
                r.scenario,
                r.measure,
                r.sdk,
                r.baseline,
                r.ratio,
                r.target,
                r.verdict.label()
            );
        }
        if !self.notes.is_empty() {
            out.push_str("\nNotes:\n\n");
            for n in &self.notes {
                let _ = writeln!(out, "- {n}");
            }
        }
        out
    }
}
