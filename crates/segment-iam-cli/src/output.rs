//! Rendering results as a table, CSV, one JSON document, or newline-delimited JSON, and the
//! one-line summary of a bulk change.
//!
//! The table is hand-rolled (a few dozen lines) rather than a dependency: columns are plain
//! text, widths are measured in characters, and control characters in data are escaped so a
//! crafted user name cannot drive the operator's terminal.

use std::io::{self, Write};

use serde::Serialize;

use segment_iam::{Grant, Source, WorkspaceLabel, label};

use crate::cli::OutputFormat;
use crate::types;

/// A value that knows its table columns. Its JSON form is its serde form (the service's wire
/// shape), so `--output json` is stable and scriptable.
pub trait Tabular: Serialize {
    /// Column titles.
    fn headers() -> &'static [&'static str];
    /// Cell texts, one per header.
    fn cells(&self) -> Vec<String>;
}

/// Grants as `TYPE:ID` each, a narrowed one with its labels: `WORKSPACE:w (environment:prod)`.
fn grants_text(grants: &[Grant]) -> String {
    grants
        .iter()
        .map(|g| {
            if g.is_narrowed() {
                format!(
                    "{}:{} ({})",
                    g.resource_type,
                    g.resource_id,
                    label::joined(&g.labels)
                )
            } else {
                format!("{}:{}", g.resource_type, g.resource_id)
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn permissions_text(perms: &[types::PermissionV1]) -> String {
    perms
        .iter()
        .map(|p| {
            let name = if p.role_name.is_empty() {
                &p.role_id
            } else {
                &p.role_name
            };
            format!("{name}[{}]", grants_text(&Grant::of_permission(p)))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

impl Tabular for types::UserV1 {
    fn headers() -> &'static [&'static str] {
        &["ID", "NAME", "EMAIL", "PERMISSIONS"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            self.name.clone(),
            self.email.clone(),
            permissions_text(&self.permissions),
        ]
    }
}

impl Tabular for types::MinimalUserV1 {
    fn headers() -> &'static [&'static str] {
        &["ID", "NAME", "EMAIL"]
    }
    fn cells(&self) -> Vec<String> {
        vec![self.id.clone(), self.name.clone(), self.email.clone()]
    }
}

impl Tabular for types::UserGroupV1 {
    fn headers() -> &'static [&'static str] {
        &["ID", "NAME", "MEMBERS", "PERMISSIONS"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            self.name.clone(),
            format!("{}", self.member_count),
            permissions_text(&self.permissions),
        ]
    }
}

impl Tabular for types::MinimalUserGroupV1 {
    fn headers() -> &'static [&'static str] {
        &["ID", "NAME"]
    }
    fn cells(&self) -> Vec<String> {
        vec![self.id.clone(), self.name.clone()]
    }
}

impl Tabular for types::AccessPermissionV1 {
    fn headers() -> &'static [&'static str] {
        &["ROLE_ID", "ROLE_NAME", "RESOURCES"]
    }
    fn cells(&self) -> Vec<String> {
        // Read as the facade reads permissions, so a narrowed resource shows its labels.
        let permission = types::PermissionV1 {
            role_id: self.role_id.clone(),
            role_name: self.role_name.clone(),
            labels: Vec::new(),
            resources: self.resources.clone(),
        };
        vec![
            self.role_id.clone(),
            self.role_name.clone(),
            grants_text(&Grant::of_permission(&permission)),
        ]
    }
}

impl Tabular for types::RoleV1 {
    fn headers() -> &'static [&'static str] {
        &["ID", "NAME", "DESCRIPTION"]
    }
    fn cells(&self) -> Vec<String> {
        vec![self.id.clone(), self.name.clone(), self.description.clone()]
    }
}

/// A label of the workspace; JSON `{"label": "key:value", "description"?}`.
impl Tabular for WorkspaceLabel {
    fn headers() -> &'static [&'static str] {
        &["KEY:VALUE", "DESCRIPTION"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.label.to_string(),
            self.description.clone().unwrap_or_default(),
        ]
    }
}

/// A source and its labels (`&`-joined in a table; an array of `key:value` in JSON).
impl Tabular for Source {
    fn headers() -> &'static [&'static str] {
        &["ID", "SLUG", "NAME", "ENABLED", "LABELS"]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.id.clone(),
            self.slug.clone(),
            self.name.clone().unwrap_or_default(),
            self.enabled.to_string(),
            label::joined(&self.labels),
        ]
    }
}

impl Tabular for types::WorkspaceV1 {
    fn headers() -> &'static [&'static str] {
        &["ID", "SLUG", "NAME"]
    }
    fn cells(&self) -> Vec<String> {
        vec![self.id.clone(), self.slug.clone(), self.name.clone()]
    }
}

/// One access path; the JSON form keeps the ids (`userId`, `roleId`) the table leaves out,
/// and carries `labels` as an array. LABELS is empty for a plain grant: a narrowed grant
/// reaches only the resources carrying all of them.
impl Tabular for segment_iam::jobs::audit::AuditRow {
    fn headers() -> &'static [&'static str] {
        &["EMAIL", "SUBJECT", "VIA", "ROLE", "RESOURCE", "LABELS"]
    }
    fn cells(&self) -> Vec<String> {
        use segment_iam::jobs::audit::SubjectKind;
        let role = if self.role_name.is_empty() {
            &self.role_id
        } else {
            &self.role_name
        };
        let resource = if self.resource_id.is_empty() {
            String::new()
        } else {
            format!("{}:{}", self.resource_type, self.resource_id)
        };
        vec![
            self.email.clone(),
            match self.subject {
                SubjectKind::User => "user",
                SubjectKind::Invitee => "invitee",
            }
            .into(),
            self.via.to_string(),
            role.clone(),
            resource,
            label::joined(&self.labels),
        ]
    }
}

/// One audit-trail event: when, what, who, and what it was about.
impl Tabular for segment_iam::AuditEvent {
    fn headers() -> &'static [&'static str] {
        &[
            "TIME",
            "TYPE",
            "ACTOR",
            "RESOURCE TYPE",
            "RESOURCE ID",
            "RESOURCE NAME",
        ]
    }
    fn cells(&self) -> Vec<String> {
        vec![
            self.timestamp.clone(),
            self.event_type.clone(),
            self.actor_email
                .clone()
                .unwrap_or_else(|| self.actor.clone()),
            self.resource_type.clone(),
            self.resource_id.clone(),
            self.resource_name.clone(),
        ]
    }
}

/// Invite lists are plain emails.
impl Tabular for String {
    fn headers() -> &'static [&'static str] {
        &["EMAIL"]
    }
    fn cells(&self) -> Vec<String> {
        vec![self.clone()]
    }
}

/// What a mutation without a returned resource did (deletes, member removal): the ids or
/// emails the service confirmed, and how many requests it took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Applied {
    /// What was done, e.g. `deleted`.
    pub action: &'static str,
    /// What it was done to, singular, e.g. `user` (the summary line adds the plural's `s`).
    #[serde(skip)]
    pub noun: &'static str,
    /// The ids or emails the change applied to.
    pub applied: Vec<String>,
    /// Requests sent.
    pub requests: u64,
    /// Time spent waiting on the rate limit and retries, in milliseconds.
    pub waited_ms: u128,
}

/// Escapes control characters so data cannot move the cursor or recolour the terminal.
pub(crate) fn clean(cell: &str) -> String {
    if !cell.chars().any(char::is_control) {
        return cell.to_string();
    }
    cell.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

/// Writes rows under headers, columns padded to the widest cell, two spaces apart, the last
/// column unpadded; lines carry no trailing spaces.
pub fn write_table(out: &mut impl Write, headers: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| clean(c)).collect())
        .collect();
    let mut widths: Vec<usize> = headers.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let header_row: Vec<String> = headers.iter().map(|h| h.to_string()).collect();
    for row in std::iter::once(&header_row).chain(rows.iter()) {
        let mut line = String::new();
        let last = row.len().saturating_sub(1);
        for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
            if i > 0 {
                line.push_str("  ");
            }
            line.push_str(cell);
            if i < last {
                let pad = w.saturating_sub(cell.chars().count());
                line.extend(std::iter::repeat_n(' ', pad));
            }
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

/// Prints one value (a get, create, rename...): a one-row table, a pretty JSON document, or
/// one JSON line.
pub fn write_one<T: Tabular>(
    out: &mut impl Write,
    format: OutputFormat,
    value: &T,
) -> io::Result<()> {
    match format {
        OutputFormat::Table => write_table(out, T::headers(), &[value.cells()]),
        OutputFormat::Csv => write_csv(out, T::headers(), &[value.cells()]),
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, value)?;
            writeln!(out)
        }
        OutputFormat::Ndjson => {
            serde_json::to_writer(&mut *out, value)?;
            writeln!(out)
        }
    }?;
    out.flush()
}

/// One line for people: how many, in how many requests, how long it waited; the items
/// themselves only when there are a few (the full list is `-o json`'s).
pub fn summary(value: &Applied) -> String {
    let n = value.applied.len();
    let requests = value.requests;
    let mut line = format!(
        "{} {n} {}{} in {requests} request{}",
        value.action,
        value.noun,
        plural(n),
        plural(requests)
    );
    if value.waited_ms > 0 {
        line.push_str(&format!(
            " (waited {:.1} s)",
            value.waited_ms as f64 / 1000.0
        ));
    }
    if (1..=5).contains(&n) {
        line.push_str(&format!(": {}", clean(&value.applied.join(", "))));
    } else if n > 5 {
        line.push_str("; -o json lists them");
    }
    line
}

/// The plural ending of an English count: `""` for one, `"s"` otherwise.
pub(crate) fn plural(n: impl TryInto<u64>) -> &'static str {
    if n.try_into().ok() == Some(1) {
        ""
    } else {
        "s"
    }
}

/// Writes rows under a header row as CSV (RFC 4180 quoting, by the `csv` crate).
pub fn write_csv(out: &mut impl Write, headers: &[&str], rows: &[Vec<String>]) -> io::Result<()> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(headers).map_err(io::Error::other)?;
    for row in rows {
        w.write_record(row).map_err(io::Error::other)?;
    }
    w.flush()
}

/// Prints an [`Applied`] summary: a sentence for people, the object as JSON otherwise.
pub fn write_applied(
    out: &mut impl Write,
    format: OutputFormat,
    value: &Applied,
) -> io::Result<()> {
    match format {
        OutputFormat::Table | OutputFormat::Csv => writeln!(out, "{}", summary(value)),
        OutputFormat::Json => {
            serde_json::to_writer_pretty(&mut *out, value)?;
            writeln!(out)
        }
        OutputFormat::Ndjson => {
            serde_json::to_writer(&mut *out, value)?;
            writeln!(out)
        }
    }?;
    out.flush()
}

/// Receives a list page by page. `ndjson` writes (and flushes) each page as it arrives, so a
/// consumer sees items while later pages are still loading; `json` and `table` need every item
/// first (one array; column widths) and write in [`ListWriter::finish`].
pub struct ListWriter<T, W> {
    format: OutputFormat,
    out: W,
    held: Vec<T>,
    count: usize,
}

impl<T: Tabular, W: Write> ListWriter<T, W> {
    /// A writer for `format` onto `out`.
    pub fn new(format: OutputFormat, out: W) -> Self {
        Self {
            format,
            out,
            held: Vec::new(),
            count: 0,
        }
    }

    /// Items received so far.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Takes one page of items.
    pub fn push(&mut self, items: Vec<T>) -> io::Result<()> {
        self.count = self.count.saturating_add(items.len());
        match self.format {
            OutputFormat::Ndjson => {
                for item in &items {
                    serde_json::to_writer(&mut self.out, item)?;
                    self.out.write_all(b"\n")?;
                }
                self.out.flush()
            }
            OutputFormat::Json | OutputFormat::Table | OutputFormat::Csv => {
                self.held.extend(items);
                Ok(())
            }
        }
    }

    /// Writes whatever was held back and flushes.
    pub fn finish(mut self) -> io::Result<()> {
        match self.format {
            OutputFormat::Ndjson => {}
            OutputFormat::Json => {
                serde_json::to_writer_pretty(&mut self.out, &self.held)?;
                self.out.write_all(b"\n")?;
            }
            OutputFormat::Table => {
                let rows: Vec<Vec<String>> = self.held.iter().map(Tabular::cells).collect();
                write_table(&mut self.out, T::headers(), &rows)?;
            }
            OutputFormat::Csv => {
                let rows: Vec<Vec<String>> = self.held.iter().map(Tabular::cells).collect();
                write_csv(&mut self.out, T::headers(), &rows)?;
            }
        }
        self.out.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(buf: Vec<u8>) -> String {
        String::from_utf8_lossy(&buf).into_owned()
    }

    fn group(id: &str, name: &str, members: u64) -> types::UserGroupV1 {
        types::UserGroupV1 {
            id: id.into(),
            name: name.into(),
            member_count: members,
            permissions: vec![],
        }
    }

    #[test]
    fn table_aligns_without_trailing_spaces() -> io::Result<()> {
        let mut buf = Vec::new();
        write_table(
            &mut buf,
            &["ID", "NAME"],
            &[
                vec!["1".into(), "alpha".into()],
                vec!["12345".into(), "b".into()],
            ],
        )?;
        assert_eq!(text(buf), "ID     NAME\n1      alpha\n12345  b\n");
        Ok(())
    }

    #[test]
    fn table_escapes_control_characters() -> io::Result<()> {
        let mut buf = Vec::new();
        write_table(&mut buf, &["NAME"], &[vec!["evil\u{1b}[2J\nname".into()]])?;
        let out = text(buf);
        assert!(!out.contains('\u{1b}'));
        assert_eq!(out.lines().count(), 2);
        Ok(())
    }

    #[test]
    fn json_list_is_one_array_across_pages() -> io::Result<()> {
        let mut buf = Vec::new();
        let mut w = ListWriter::new(OutputFormat::Json, &mut buf);
        w.push(vec!["a@x.com".to_string()])?;
        w.push(vec!["b@x.com".to_string()])?;
        assert_eq!(w.count(), 2);
        w.finish()?;
        let v: serde_json::Value = serde_json::from_slice(&buf)?;
        assert_eq!(v, serde_json::json!(["a@x.com", "b@x.com"]));
        Ok(())
    }

    #[test]
    fn empty_json_list_is_empty_array() -> io::Result<()> {
        let mut buf = Vec::new();
        ListWriter::<String, _>::new(OutputFormat::Json, &mut buf).finish()?;
        assert_eq!(text(buf).trim(), "[]");
        Ok(())
    }

    #[test]
    fn ndjson_streams_each_page() -> io::Result<()> {
        let mut buf = Vec::new();
        {
            let mut w = ListWriter::new(OutputFormat::Ndjson, &mut buf);
            w.push(vec![group("g1", "One", 2)])?;
            w.push(vec![group("g2", "Two", 0)])?;
            w.finish()?;
        }
        let out = text(buf);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), 2);
        let first: serde_json::Value = serde_json::from_str(lines.first().copied().unwrap_or(""))?;
        assert_eq!(first["id"], "g1");
        assert_eq!(first["memberCount"], 2.0);
        Ok(())
    }

    #[test]
    fn table_list_and_one() -> io::Result<()> {
        let mut buf = Vec::new();
        let mut w = ListWriter::new(OutputFormat::Table, &mut buf);
        w.push(vec![group("g1", "One", 2)])?;
        w.finish()?;
        assert_eq!(text(buf), "ID  NAME  MEMBERS  PERMISSIONS\ng1  One   2\n");

        let mut buf = Vec::new();
        let user = types::MinimalUserV1 {
            id: "u1".into(),
            name: "Ann".into(),
            email: "ann@x.com".into(),
        };
        write_one(&mut buf, OutputFormat::Ndjson, &user)?;
        assert_eq!(
            text(buf),
            "{\"email\":\"ann@x.com\",\"id\":\"u1\",\"name\":\"Ann\"}\n"
        );
        Ok(())
    }

    #[test]
    fn csv_quotes_per_rfc_4180() -> io::Result<()> {
        let mut buf = Vec::new();
        write_csv(
            &mut buf,
            &["A", "B"],
            &[vec![
                "plain".into(),
                "has, comma and \"quote\"\nline".into(),
            ]],
        )?;
        assert_eq!(
            text(buf),
            "A,B\nplain,\"has, comma and \"\"quote\"\"\nline\"\n"
        );
        Ok(())
    }

    #[test]
    fn applied_forms() -> io::Result<()> {
        let a = Applied {
            action: "deleted",
            noun: "user",
            applied: vec!["u1".into(), "u2".into()],
            requests: 1,
            waited_ms: 0,
        };
        let mut buf = Vec::new();
        write_applied(&mut buf, OutputFormat::Table, &a)?;
        assert_eq!(text(buf), "deleted 2 users in 1 request: u1, u2\n");
        let many = Applied {
            action: "deleted",
            noun: "user",
            applied: (0..3000).map(|i| format!("u{i}")).collect(),
            requests: 3,
            waited_ms: 1250,
        };
        assert_eq!(
            summary(&many),
            "deleted 3000 users in 3 requests (waited 1.2 s); -o json lists them"
        );
        let mut buf = Vec::new();
        write_applied(&mut buf, OutputFormat::Json, &a)?;
        let v: serde_json::Value = serde_json::from_slice(&buf)?;
        assert_eq!(v["applied"], serde_json::json!(["u1", "u2"]));
        assert_eq!(v["waited_ms"], 0);
        let one = Applied {
            action: "removed",
            noun: "member",
            applied: vec!["a@x.com".into()],
            requests: 1,
            waited_ms: 0,
        };
        assert_eq!(summary(&one), "removed 1 member in 1 request: a@x.com");
        Ok(())
    }

    fn wire_label(key: &str, value: &str, description: Option<&str>) -> types::LabelV1 {
        types::LabelV1 {
            key: key.into(),
            value: value.into(),
            description: description.map(Into::into),
        }
    }

    #[test]
    fn labels_and_sources_in_every_format() -> Result<(), Box<dyn std::error::Error>> {
        let labels: Vec<WorkspaceLabel> = vec![
            wire_label("environment", "dev", None).into(),
            wire_label("region", "emea", Some("EU, mostly")).into(),
        ];
        let mut buf = Vec::new();
        let mut w = ListWriter::new(OutputFormat::Table, &mut buf);
        w.push(labels.clone())?;
        w.finish()?;
        assert_eq!(
            text(buf),
            "KEY:VALUE        DESCRIPTION\nenvironment:dev\nregion:emea      EU, mostly\n"
        );
        let mut buf = Vec::new();
        let mut w = ListWriter::new(OutputFormat::Json, &mut buf);
        w.push(labels)?;
        w.finish()?;
        let v: serde_json::Value = serde_json::from_slice(&buf)?;
        assert_eq!(
            v,
            serde_json::json!([
                {"label": "environment:dev"},
                {"label": "region:emea", "description": "EU, mostly"}
            ])
        );

        let source: Source = types::SourceV1 {
            enabled: true,
            id: "s1".into(),
            labels: vec![
                wire_label("region", "emea", None),
                wire_label("environment", "prod", Some("ignored")),
            ],
            metadata: None,
            name: Some("Web, prod".into()),
            slug: "web-prod".into(),
            workspace_id: "w".into(),
            write_keys: vec![],
        }
        .into();
        let mut buf = Vec::new();
        write_one(&mut buf, OutputFormat::Csv, &source)?;
        assert_eq!(
            text(buf),
            "ID,SLUG,NAME,ENABLED,LABELS\ns1,web-prod,\"Web, prod\",true,environment:prod&region:emea\n"
        );
        let mut buf = Vec::new();
        write_one(&mut buf, OutputFormat::Ndjson, &source)?;
        let v: serde_json::Value = serde_json::from_slice(&buf)?;
        assert_eq!(
            v["labels"],
            serde_json::json!(["environment:prod", "region:emea"])
        );
        assert_eq!(v["enabled"], true);
        Ok(())
    }

    #[test]
    fn a_narrowed_permission_shows_its_labels() {
        let resource =
            |kind: segment_iam::ResourceType, id: &str, labels: Vec<types::AllowedLabelBeta>| {
                types::PermissionResourceV1 {
                    id: id.into(),
                    type_: kind,
                    labels,
                }
            };
        let prod = types::AllowedLabelBeta {
            key: "environment".into(),
            value: "prod".into(),
            description: None,
        };
        let group = types::UserGroupV1 {
            id: "g".into(),
            name: "Eng".into(),
            member_count: 0,
            permissions: vec![types::PermissionV1 {
                role_id: "r".into(),
                role_name: "Source Admin".into(),
                labels: vec![],
                resources: vec![
                    resource(segment_iam::ResourceType::Workspace, "w", vec![prod]),
                    resource(segment_iam::ResourceType::Source, "s", vec![]),
                ],
            }],
        };
        assert_eq!(
            group.cells()[3],
            "Source Admin[WORKSPACE:w (environment:prod),SOURCE:s]"
        );
    }
}
