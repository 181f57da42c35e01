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
}
