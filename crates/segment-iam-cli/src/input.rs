//! Reading what the operator hands in: id and email lists (arguments and `--from-file`),
//! `TYPE:ID` resources and the token file.
//!
//! Everything here is pure or takes its reader as an argument, so the parsing rules are unit
//! tested without a process or a terminal.

use std::fmt;
use std::io::Read;
use std::path::Path;

/// The resource kinds the service documents. Others are accepted only when written exactly as
/// the service would write them (upper case), because the service adds kinds over time but a
/// lower-case unknown word is far more likely a typo.
pub const KNOWN_RESOURCE_TYPES: &[&str] =
    &["FUNCTION", "SOURCE", "SPACE", "WAREHOUSE", "WORKSPACE"];

/// Invalid input from the operator: always exit code 2, and nothing was sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError(pub String);

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for InputError {}

/// One `--resource TYPE:ID` value, the type normalised to the service's upper-case spelling.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourceSpec {
    /// The resource kind as the service writes it, e.g. `WORKSPACE`.
    pub kind: String,
    /// The resource id.
    pub id: String,
}

impl ResourceSpec {
    /// `--resource workspace`: the workspace of the token, looked up (once) through
    /// `getWorkspace` before anything is sent.
    pub fn this_workspace() -> Self {
        ResourceSpec {
            kind: "WORKSPACE".into(),
            id: String::new(),
        }
    }

    /// Whether this is [`ResourceSpec::this_workspace`].
    pub fn is_this_workspace(&self) -> bool {
        self.id.is_empty()
    }
}

impl fmt::Display for ResourceSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_this_workspace() {
            f.write_str("workspace")
        } else {
            write!(f, "{}:{}", self.kind, self.id)
        }
    }
}

/// Parses `workspace` (the token's own workspace) or `TYPE:ID` (e.g.
/// `source:qQEHquLrjRDN9j1ByrChyn`). Used as a clap value parser, so a bad value is a usage
/// error (exit 2) before anything is sent.
pub fn parse_resource(value: &str) -> Result<ResourceSpec, String> {
    if value.trim().eq_ignore_ascii_case("workspace") {
        return Ok(ResourceSpec::this_workspace());
    }
    let Some((kind, id)) = value.split_once(':') else {
        return Err(format!(
            "expected `workspace` or TYPE:ID (e.g. SOURCE:qQEHquLrjRDN9j1ByrChyn), got {value:?}"
        ));
    };
    let (kind, id) = (kind.trim(), id.trim());
    if kind.is_empty() {
        return Err(format!("missing resource type in {value:?}"));
    }
    if id.is_empty() {
        return Err(format!("missing resource id in {value:?}"));
    }
    let upper = kind.to_ascii_uppercase();
    let known = KNOWN_RESOURCE_TYPES.contains(&upper.as_str());
    let deliberate_unknown = kind
        .chars()
        .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_');
    if !known && !deliberate_unknown {
        return Err(format!(
            "unknown resource type {kind:?}; known types: {} (a newer type must be written in upper case)",
            KNOWN_RESOURCE_TYPES.join(", ")
        ));
    }
    Ok(ResourceSpec {
        kind: upper,
        id: id.to_string(),
    })
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

    fn spec(kind: &str, id: &str) -> ResourceSpec {
        ResourceSpec {
            kind: kind.into(),
            id: id.into(),
        }
    }

    #[test]
    fn resource_known_types_any_case() {
        assert_eq!(
            parse_resource("workspace:abc"),
            Ok(spec("WORKSPACE", "abc"))
        );
        assert_eq!(parse_resource("Source:s1"), Ok(spec("SOURCE", "s1")));
        assert_eq!(parse_resource("SPACE:x"), Ok(spec("SPACE", "x")));
        assert_eq!(
            parse_resource(" warehouse : w "),
            Ok(spec("WAREHOUSE", "w"))
        );
        assert_eq!(parse_resource("function:f"), Ok(spec("FUNCTION", "f")));
    }

    #[test]
    fn resource_workspace_means_the_tokens_own() {
        assert_eq!(
            parse_resource("workspace"),
            Ok(ResourceSpec::this_workspace())
        );
        assert_eq!(
            parse_resource(" Workspace "),
            Ok(ResourceSpec::this_workspace())
        );
        assert_eq!(ResourceSpec::this_workspace().to_string(), "workspace");
        assert_eq!(spec("SOURCE", "s").to_string(), "SOURCE:s");
    }

    #[test]
    fn resource_id_keeps_later_colons() {
        assert_eq!(parse_resource("SOURCE:a:b"), Ok(spec("SOURCE", "a:b")));
    }

    #[test]
    fn resource_unknown_upper_case_is_kept() {
        assert_eq!(
            parse_resource("REVERSE_ETL:r1"),
            Ok(spec("REVERSE_ETL", "r1"))
        );
    }

    #[test]
    fn resource_errors() {
        assert!(parse_resource("source").is_err());
        assert!(parse_resource(":abc").is_err());
        assert!(parse_resource("WORKSPACE:").is_err());
        let typo = parse_resource("workspce:abc").err().unwrap_or_default();
        assert!(typo.contains("unknown resource type"), "{typo}");
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
}
