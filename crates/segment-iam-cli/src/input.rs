//! Reading what the operator hands in: id and email lists (arguments and `--from-file`),
//! `TYPE:ID` resources and the token file.
//!
//! Everything here is pure or takes its reader as an argument, so the parsing rules are unit
//! tested without a process or a terminal.

use std::fmt;
use std::io::Read;
use std::path::Path;

use segment_iam::{Label, Resource, ResourceType};

/// Invalid input from the operator: always exit code 2, and nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError(pub String);

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InputError {}

/// Parses `workspace` (the token's own workspace) or `TYPE:ID` (e.g.
/// `source:qQEHquLrjRDN9j1ByrChyn`) into the facade's [`Resource`]. Used as a clap value parser,
/// so a bad value is a usage error (exit 2) before anything is sent.
///
/// The facade's parser knows the documented types (any case). The service adds types over
/// time, so a type it does not know is still accepted when written exactly as the service
/// would write it (upper case, e.g. `REVERSE_ETL:r1`): a lower-case unknown word is far more
/// likely a typo.
pub fn parse_resource(value: &str) -> Result<Resource, String> {
    let refused = match value.parse::<Resource>() {
        Ok(resource) => return Ok(resource),
        Err(e) => e,
    };
    if let Some((kind, id)) = value.trim().split_once(':') {
        let (kind, id) = (kind.trim(), id.trim());
        let deliberate = kind.starts_with(|c: char| c.is_ascii_uppercase())
            && kind
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
        if deliberate && !id.is_empty() {
            return Ok(Resource::Given(ResourceType::from(kind), id.to_string()));
        }
    }
    Err(format!(
        "{refused} (expected `workspace` or TYPE:ID, e.g. SOURCE:qQEHquLrjRDN9j1ByrChyn; a type \
         newer than this tool must be written in upper case)"
    ))
}

/// Parses a window such as `14d`: a whole number then `s`, `m`, `h`, `d` or `w` (used as a clap
/// value parser for `--warn-expiring`, so a bad value is a usage error before anything is
/// read or sent).
pub fn parse_window(value: &str) -> Result<std::time::Duration, String> {
    let value = value.trim();
    let refused =
        || format!("{value:?} is not a duration (a whole number then s, m, h, d or w, e.g. 14d)");
    let unit = value.chars().last().ok_or_else(refused)?;
    let seconds: u64 = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 7 * 86_400,
        _ => return Err(refused()),
    };
    let number = &value[..value.len() - unit.len_utf8()];
    if number.is_empty() || !number.bytes().all(|b| b.is_ascii_digit()) {
        return Err(refused());
    }
    number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(seconds))
        .map(std::time::Duration::from_secs)
        .ok_or_else(refused)
}

/// Parses a label, `key:value`, with the facade's rules (used as a clap value parser, so a
/// malformed label is a usage error, exit 2, before anything is sent). The message is the
/// facade's, naming the part at fault.
pub fn parse_label(value: &str) -> Result<Label, String> {
    value.parse::<Label>().map_err(|e| e.to_string())
}

/// Splits a `--from-file` text into values: one per line, surrounding whitespace trimmed,
/// blank lines and lines starting with `#` ignored, a leading byte-order mark dropped (files
/// saved by spreadsheet tools often carry one).
pub fn parse_lines(text: &str) -> Vec<String> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    text.lines()
        .map(str::trim)
        .filter(|line| !line.is_empty() && !line.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// Reads a `--from-file` list; `-` means the given `stdin` (taken as a parameter for tests).
pub fn read_list(path: &Path, stdin: impl Read) -> Result<Vec<String>, InputError> {
    let text = read_text(path, stdin)?;
    Ok(parse_lines(&text))
}

/// The whole text of `path`, or of `stdin` for `-`.
fn read_text(path: &Path, mut stdin: impl Read) -> Result<String, InputError> {
    if path.as_os_str() == "-" {
        let mut text = String::new();
        stdin
            .read_to_string(&mut text)
            .map_err(|e| InputError(format!("cannot read the list from stdin: {e}")))?;
        Ok(text)
    } else {
        std::fs::read_to_string(path)
            .map_err(|e| InputError(format!("cannot read {}: {e}", path.display())))
    }
}

/// Joins the values given as arguments with those of `--from-file` (arguments first), drops
/// exact duplicates (keeping the first), and refuses an empty result: every command that takes
/// a list needs at least one value, and sending an empty list would only earn a 422.
pub fn gather(
    args: &[String],
    from_file: Option<&Path>,
    stdin: impl Read,
    what: &str,
) -> Result<Vec<String>, InputError> {
    let mut all: Vec<String> = args.iter().map(|s| s.trim().to_string()).collect();
    if let Some(path) = from_file {
        all.extend(read_list(path, stdin)?);
    }
    if let Some(blank) = all.iter().position(String::is_empty) {
        return Err(InputError(format!(
            "{what} #{} is empty",
            blank.saturating_add(1)
        )));
    }
    let mut seen = std::collections::HashSet::new();
    all.retain(|v| seen.insert(v.clone()));
    if all.is_empty() {
        return Err(InputError(format!(
            "no {what} given: pass them as arguments or with --from-file PATH (- for stdin)"
        )));
    }
    Ok(all)
}

/// One row of an `onboard --from-file` CSV: a person, and optionally one role with its
/// resource and labels, and groups.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonRow {
    /// The line of the file it came from (1-based, the header is line 1).
    pub line: u64,
    /// The person's email.
    pub email: String,
    /// The role (name or id); `None` for a row that only adds groups.
    pub role: Option<String>,
    /// The role's resource (`workspace` when the cell is empty).
    pub resource: Resource,
    /// Labels narrowing it (`;`-separated `key:value` in the cell).
    pub labels: Vec<Label>,
    /// Groups by name or id (`;`-separated in the cell).
    pub groups: Vec<String>,
}

/// The columns of an `onboard --from-file` CSV.
const PEOPLE_COLUMNS: [&str; 5] = ["email", "role", "resource", "labels", "groups"];

/// Parses an `onboard --from-file` CSV: a header row naming the columns (`email` required;
/// `role`, `resource`, `labels`, `groups` optional; any order, any case), then one person per
/// row. Cells are trimmed; `labels` and `groups` hold several values separated by `;`; an
/// empty `resource` is the token's workspace; labels need a role. Blank lines and lines
/// starting with `#` are skipped; a byte-order mark is dropped. A person on several rows gets
/// everything those rows ask. Every error names its line.
pub fn parse_people_csv(text: &str, name: &str) -> Result<Vec<PersonRow>, InputError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .comment(Some(b'#'))
        .from_reader(text.as_bytes());
    let at = |line: u64, what: String| InputError(format!("{name} line {line}: {what}"));
    let headers = reader
        .headers()
        .map_err(|e| at(1, format!("cannot read the header row: {e}")))?
        .clone();
    let mut column: [Option<usize>; 5] = [None; 5];
    for (i, h) in headers.iter().enumerate() {
        let h = h.to_ascii_lowercase();
        match PEOPLE_COLUMNS.iter().position(|c| *c == h) {
            Some(c) if column[c].is_some() => {
                return Err(at(1, format!("column {h:?} is given twice")));
            }
            Some(c) => column[c] = Some(i),
            None => {
                return Err(at(
                    1,
                    format!(
                        "unknown column {h:?}; the columns are {} (email required)",
                        PEOPLE_COLUMNS.join(", ")
                    ),
                ));
            }
        }
    }
    if column[0].is_none() {
        return Err(at(
            1,
            format!(
                "no email column; the header row names the columns: {}",
                PEOPLE_COLUMNS.join(",")
            ),
        ));
    }
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(|e| {
            let line = e.position().map_or(0, |p| p.line());
            at(line, format!("not a CSV row: {e}"))
        })?;
        let line = record.position().map_or(0, |p| p.line());
        let cell = |c: usize| column[c].and_then(|i| record.get(i)).unwrap_or("").trim();
        let list = |c: usize| -> Vec<String> {
            cell(c)
                .split(';')
                .map(str::trim)
                .filter(|v| !v.is_empty())
                .map(str::to_string)
                .collect()
        };
        let email = cell(0);
        if email.is_empty() {
            return Err(at(line, "the email cell is empty".into()));
        }
        segment_iam::email::check("email", email).map_err(|e| at(line, e.to_string()))?;
        let role = Some(cell(1)).filter(|r| !r.is_empty()).map(str::to_string);
        let resource = match cell(2) {
            "" => Resource::ThisWorkspace,
            r => parse_resource(r).map_err(|e| at(line, e))?,
        };
        let labels = list(3)
            .iter()
            .map(|l| parse_label(l).map_err(|e| at(line, e)))
            .collect::<Result<Vec<_>, _>>()?;
        if role.is_none() && (!labels.is_empty() || !cell(2).is_empty()) {
            return Err(at(line, "a resource or labels without a role".into()));
        }
        rows.push(PersonRow {
            line,
            email: email.to_string(),
            role,
            resource,
            labels,
            groups: list(4),
        });
    }
    if rows.is_empty() {
        return Err(InputError(format!(
            "{name} holds no person (only a header)"
        )));
    }
    Ok(rows)
}

/// Reads and parses an `onboard --from-file` CSV ([`parse_people_csv`]); `-` is `stdin`.
pub fn read_people(path: &Path, stdin: impl Read) -> Result<Vec<PersonRow>, InputError> {
    let text = read_text(path, stdin)?;
    let name = if path.as_os_str() == "-" {
        "stdin".to_string()
    } else {
        path.display().to_string()
    };
    parse_people_csv(&text, &name)
}

/// Reads a token file: the first non-blank line, trimmed (so a trailing newline from `echo`
/// does not end up in the `Authorization` header). The error never includes the file's text.
pub fn read_token_file(path: &Path, stdin: impl Read) -> Result<String, InputError> {
    let text = read_text(path, stdin)?;
    text.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .map(str::to_string)
        .ok_or_else(|| InputError(format!("token file {} is empty", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Cursor;

    #[test]
    fn windows_read_in_whole_units_and_anything_else_is_refused() {
        let secs = |v: &str| parse_window(v).map(|d| d.as_secs());
        assert_eq!(secs("14d"), Ok(14 * 86_400));
        assert_eq!(secs("36h"), Ok(36 * 3600));
        assert_eq!(secs("2w"), Ok(14 * 86_400));
        assert_eq!(secs("90m"), Ok(5400));
        assert_eq!(secs("0d"), Ok(0));
        for bad in [
            "",
            "d",
            "14",
            "1.5d",
            "-1d",
            "14 days",
            "14D",
            "\u{20ac}",
            "99999999999999999999w",
        ] {
            assert!(parse_window(bad).is_err(), "{bad:?}");
        }
    }

    fn given(kind: ResourceType, id: &str) -> Resource {
        Resource::Given(kind, id.into())
    }

    #[test]
    fn resource_known_types_any_case() {
        assert_eq!(
            parse_resource("workspace:abc"),
            Ok(given(ResourceType::Workspace, "abc"))
        );
        assert_eq!(
            parse_resource("Source:s1"),
            Ok(given(ResourceType::Source, "s1"))
        );
        assert_eq!(
            parse_resource("SPACE:x"),
            Ok(given(ResourceType::Space, "x"))
        );
        assert_eq!(
            parse_resource(" warehouse : w "),
            Ok(given(ResourceType::Warehouse, "w"))
        );
        assert_eq!(
            parse_resource("function:f"),
            Ok(given(ResourceType::Function, "f"))
        );
    }

    #[test]
    fn resource_workspace_means_the_tokens_own() {
        assert_eq!(parse_resource("workspace"), Ok(Resource::ThisWorkspace));
        assert_eq!(parse_resource(" Workspace "), Ok(Resource::ThisWorkspace));
        assert_eq!(Resource::ThisWorkspace.to_string(), "workspace");
        assert_eq!(given(ResourceType::Source, "s").to_string(), "SOURCE:s");
    }

    #[test]
    fn resource_id_keeps_later_colons() {
        assert_eq!(
            parse_resource("SOURCE:a:b"),
            Ok(given(ResourceType::Source, "a:b"))
        );
    }

    #[test]
    fn resource_unknown_upper_case_is_kept() {
        assert_eq!(
            parse_resource("REVERSE_ETL:r1"),
            Ok(given(ResourceType::Other("REVERSE_ETL".into()), "r1"))
        );
    }

    #[test]
    fn resource_errors() {
        for bad in [
            "source",
            ":abc",
            "WORKSPACE:",
            "REVERSE_ETL:",
            "_:x",
            "workspce:abc",
        ] {
            assert!(parse_resource(bad).is_err(), "{bad}");
        }
        let typo = parse_resource("workspce:abc").err().unwrap_or_default();
        assert!(
            typo.contains("WORKSPCE") && typo.contains("upper case"),
            "{typo}"
        );
    }

    #[test]
    fn lines_skip_blanks_and_comments() {
        let text = "\u{feff}# header\na@x.com\n\n  b@x.com  \r\n   # indented comment\nc@x.com";
        assert_eq!(parse_lines(text), vec!["a@x.com", "b@x.com", "c@x.com"]);
        assert!(parse_lines("").is_empty());
        assert!(parse_lines("\n# only\n   \n").is_empty());
    }

    #[test]
    fn dash_reads_stdin() {
        let got = read_list(Path::new("-"), Cursor::new("u1\n#c\nu2\n"));
        assert_eq!(got, Ok(vec!["u1".to_string(), "u2".to_string()]));
    }

    #[test]
    fn file_is_read() -> Result<(), Box<dyn std::error::Error>> {
        let dir = tempfile::tempdir()?;
        let path = dir.path().join("ids.txt");
        std::fs::write(&path, "id1\n\nid2\n")?;
        assert_eq!(read_list(&path, Cursor::new(""))?, vec!["id1", "id2"]);
        Ok(())
    }

    #[test]
    fn missing_file_is_input_error() {
        let err = read_list(Path::new("/nonexistent/ids.txt"), Cursor::new(""));
        assert!(matches!(err, Err(InputError(m)) if m.contains("/nonexistent/ids.txt")));
    }

    #[test]
    fn gather_joins_dedups_and_refuses_empty() {
        let args = vec!["a".to_string(), "b".to_string()];
        let got = gather(&args, Some(Path::new("-")), Cursor::new("b\nc\n"), "ids");
        assert_eq!(got, Ok(vec!["a".into(), "b".into(), "c".into()]));
        assert!(gather(&[], None, Cursor::new(""), "ids").is_err());
        assert!(gather(&[], Some(Path::new("-")), Cursor::new("# nothing\n"), "ids").is_err());
        assert!(gather(&[" ".to_string()], None, Cursor::new(""), "ids").is_err());
    }

    #[test]
    fn token_file_trims_newline() {
        assert_eq!(
            read_token_file(Path::new("-"), Cursor::new("\n  sekret \n")),
            Ok("sekret".to_string())
        );
        let err = read_token_file(Path::new("-"), Cursor::new("\n\n"));
        assert!(err.is_err());
    }

    #[test]
    fn people_csv_reads_each_column_and_names_the_line_of_an_error() {
        let text = "\u{feff}Email, role ,resource,labels,groups\n\
                    # a comment\n\
                    ana@example.com,Source Admin,workspace,environment:prod;team:data, Analysts ;Data Team\n\
                    \n\
                    bo@example.com,,,,Analysts\n\
                    cy@example.com,Workspace Member,SOURCE:s1,,\n";
        let rows = parse_people_csv(text, "people.csv").expect("parses");
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[0].email, "ana@example.com");
        assert_eq!(rows[0].role.as_deref(), Some("Source Admin"));
        assert_eq!(rows[0].resource, Resource::ThisWorkspace);
        assert_eq!(rows[0].labels.len(), 2);
        assert_eq!(rows[0].groups, ["Analysts", "Data Team"]);
        assert_eq!(rows[1].role, None);
        assert_eq!(
            rows[2].resource,
            Resource::Given(ResourceType::Source, "s1".into())
        );

        let bad = |text: &str| parse_people_csv(text, "p.csv").expect_err("refused").0;
        assert!(bad("email,colour\na@x.com,red\n").contains("unknown column"));
        assert!(bad("role\nAdmin\n").contains("no email column"));
        let e = bad("email,role,labels\na@x.com,R,ok:v\nb@x.com,R,not a label\n");
        assert!(e.starts_with("p.csv line 3:"), "{e}");
        assert!(bad("email,labels\na@x.com,env:prod\n").contains("without a role"));
        assert!(bad("email,role\n,R\n").contains("email cell is empty"));
        assert!(bad("email\na@x.com\nnot-an-address\n").starts_with("p.csv line 3:"));
        assert!(bad("email,role\n").contains("no person"));
        assert!(bad("email,role\na@x.com,R,extra\n").contains("line 2"));
    }
}
