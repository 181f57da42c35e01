//! Time in the access file: `expires:` on a permission entry or a group member, and the
//! pre-pass [`AccessFile::at`] that turns a file into the file in force at an instant, plus
//! what has expired and what expires soon. Every phase and guard of the plan then works on
//! that effective file unchanged.
//!
//! An expiry is a date or an RFC 3339 instant:
//!
//! * `2027-03-31` lasts to the **end of that day, UTC**: the entry is in force until
//!   `2027-03-31T23:59:59.999…Z` and absent from `2027-04-01T00:00:00Z` on;
//! * `2027-03-31T18:00:00Z` or `2027-03-31T20:00:00+02:00` is absent from that instant on.
//!
//! The instant is the caller's ([`crate::PlanOptions`]), so tests set the clock instead of
//! waiting. Dates and instants are read by the facade's one reader, [`segment_iam::time`].

use std::time::{Duration, SystemTime};

use crate::error::Result;
use crate::file::{AccessFile, PermissionEntry, Text, parse_expiry};
use crate::plan::types::{Ending, Expiry};

/// A file as in force at an instant, with what has expired and what expires within the
/// warning window.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Dated {
    /// The file without its expired entries: what the plan diffs.
    pub file: AccessFile,
    /// The entries dropped, in file order.
    pub expired: Vec<Expiry>,
    /// The entries kept that end within the window, in file order.
    pub expiring: Vec<Expiry>,
}

impl AccessFile {
    /// This file as in force at `now`: entries whose expiry is at or before `now` are dropped
    /// (listed in [`Dated::expired`]), those ending within `warn` after it are kept and listed
    /// in [`Dated::expiring`]. A malformed expiry is refused at its line.
    pub fn at(&self, now: SystemTime, warn: Duration) -> Result<Dated> {
        let mut dated = Dated {
            file: self.clone(),
            expired: Vec::new(),
            expiring: Vec::new(),
        };
        let mut sort = |expires: &Option<Text>, entry: Ending| -> Result<bool> {
            let Some(text) = expires else {
                return Ok(true);
            };
            let end = parse_expiry(text)?;
            let expiry = Expiry {
                entry,
                expires: text.value.clone(),
                line: text.line,
                step: None,
            };
            if end <= now {
                dated.expired.push(expiry);
                return Ok(false);
            }
            if end.duration_since(now).is_ok_and(|left| left <= warn) {
                dated.expiring.push(expiry);
            }
            Ok(true)
        };
        let mut users = self.users.clone();
        for (email, user) in users.0.iter_mut() {
            let mut kept = Vec::new();
            for p in std::mem::take(&mut user.permissions) {
                let (role, resources, labels) = spelled(&p);
                let entry = Ending::UserPermission {
                    email: email.value.clone(),
                    role,
                    resources,
                    labels,
                };
                if sort(&p.expires, entry)? {
                    kept.push(p);
                }
            }
            user.permissions = kept;
        }
        let mut groups = self.groups.clone();
        for (name, group) in groups.0.iter_mut() {
            let mut kept = Vec::new();
            for p in std::mem::take(&mut group.permissions) {
                let (role, resources, labels) = spelled(&p);
                let entry = Ending::GroupPermission {
                    group: name.value.clone(),
                    role,
                    resources,
                    labels,
                };
                if sort(&p.expires, entry)? {
                    kept.push(p);
                }
            }
            group.permissions = kept;
            let mut members = Vec::new();
            for m in std::mem::take(&mut group.members) {
                let entry = Ending::Member {
                    group: name.value.clone(),
                    email: m.email.value.clone(),
                };
                if sort(&m.expires, entry)? {
                    members.push(m);
                }
            }
            group.members = members;
        }
        dated.file.users = users;
        dated.file.groups = groups;
        // In file order (found per user and per group, permissions before members).
        dated.expired.sort_by_key(|e| e.line);
        dated.expiring.sort_by_key(|e| e.line);
        Ok(dated)
    }
}

/// A permission entry's role, resources and labels as written.
fn spelled(p: &PermissionEntry) -> (String, Vec<String>, Vec<String>) {
    let texts = |t: &[Text]| t.iter().map(|t| t.value.clone()).collect();
    (p.role.value.clone(), texts(&p.resources), texts(&p.labels))
}

/// The permission entry an ending one was, to resolve its grants (`None` for a membership).
pub(crate) fn permission_entry(ending: &Ending) -> Option<PermissionEntry> {
    match ending {
        Ending::Member { .. } => None,
        Ending::UserPermission {
            role,
            resources,
            labels,
            ..
        }
        | Ending::GroupPermission {
            role,
            resources,
            labels,
            ..
        } => Some(PermissionEntry::new(role, resources).labels(labels)),
    }
}

#[cfg(test)]
mod tests {
    use std::time::UNIX_EPOCH;

    use super::*;
    use crate::error::Error;

    fn at(value: &str) -> Option<SystemTime> {
        parse_expiry(&Text::new(value)).ok()
    }

    fn secs(value: &str) -> u64 {
        at(value)
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_secs())
            .unwrap_or_else(|| panic!("{value} parses"))
    }

    #[test]
    fn a_date_ends_at_the_next_midnight_utc() {
        assert_eq!(secs("1970-01-01"), 86_400);
        // 2027-04-01T00:00:00Z.
        assert_eq!(secs("2027-03-31"), 1_806_537_600);
        assert_eq!(secs("2027-03-31"), secs("2027-04-01T00:00:00Z"));
        assert_eq!(secs("2028-02-29"), secs("2028-03-01T00:00:00Z"));
        assert_eq!(secs("2026-12-31"), secs("2027-01-01T00:00:00Z"));
    }

    #[test]
    fn an_instant_is_taken_as_given_with_its_offset() {
        assert_eq!(secs("2027-03-31T18:00:00Z"), 1_806_537_600 - 6 * 3600);
        assert_eq!(
            secs("2027-03-31T20:00:00+02:00"),
            secs("2027-03-31T18:00:00Z")
        );
        assert_eq!(
            secs("2027-03-31T13:30:00-04:30"),
            secs("2027-03-31T18:00:00z")
        );
        // RFC 3339 lets applications write a space for the `T` (its section 5.6 note).
        assert_eq!(secs("2027-03-31 18:00:00Z"), secs("2027-03-31T18:00:00Z"));
        let fine = at("2027-03-31T18:00:00.250Z").expect("fraction");
        let whole = at("2027-03-31T18:00:00Z").expect("whole");
        assert_eq!(
            fine.duration_since(whole).ok(),
            Some(Duration::from_millis(250))
        );
    }

    #[test]
    fn malformed_expiries_are_refused_at_their_line() {
        for bad in [
            "2027-02-29",
            "2027-13-01",
            "2027-00-10",
            "2027-04-31",
            "27-03-31",
            "2027-03-31T18:00:00",
            "2027-03-31T24:00:00Z",
            "2027-03-31T18:00Z",
            "2027-03-31T18:00:00.Z",
            "2027-03-31T18:00:00+2:00",
            "1969-12-31T00:00:00Z",
            "next tuesday",
            "",
            "+2027-03-31",
            "2027-03-31T18:00:0\u{20ac}Z",
            "2027-03-31T18:00:00.5\u{20ac}",
        ] {
            let text = Text {
                value: bad.into(),
                line: 7,
                column: 3,
            };
            match parse_expiry(&text) {
                Err(Error::File { line, message, .. }) => {
                    assert_eq!(line, 7, "{bad}");
                    assert!(message.contains("neither a date"), "{message}");
                }
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }

    const FILE: &str = "version: 1
users:
  ana@x.io:
    permissions:
      - role: Source Admin
        resources: [workspace]
        expires: 2027-03-31
      - role: Reader
        resources: [workspace]
groups:
  G:
    members:
      - plain@x.io
      - {email: gone@x.io, expires: 2027-03-31}
      - {email: soon@x.io, expires: 2027-04-05}
      - {email: later@x.io, expires: 2027-06-01}
    permissions:
      - role: Reader
        resources: [workspace]
        expires: 2027-04-01T12:00:00Z
";

    fn file() -> AccessFile {
        AccessFile::parse(FILE).expect("parses")
    }

    const DAY: Duration = Duration::from_secs(86_400);

    #[test]
    fn before_every_expiry_the_file_is_unchanged_and_only_the_window_warns() {
        let now = at("2027-03-20T00:00:00Z").expect("now");
        let dated = file().at(now, 7 * DAY).expect("dated");
        assert_eq!(dated.file, file());
        assert!(dated.expired.is_empty() && dated.expiring.is_empty());
        // soon@x.io ends 2027-04-06T00:00Z: exactly 17 days on, the window's edge.
        let dated = file().at(now, 17 * DAY).expect("dated");
        let lines: Vec<u64> = dated.expiring.iter().map(|e| e.line).collect();
        assert_eq!(lines, [7, 14, 15, 20], "{:?}", dated.expiring);
    }

    #[test]
    fn at_the_instant_the_entries_are_dropped_and_listed_with_their_lines() {
        // The first instant of 2027-04-01: 2027-03-31 has ended.
        let now = at("2027-04-01T00:00:00Z").expect("now");
        let dated = file().at(now, 7 * DAY).expect("dated");
        let expired: Vec<(u64, &Ending)> =
            dated.expired.iter().map(|e| (e.line, &e.entry)).collect();
        assert_eq!(expired.len(), 2, "{expired:?}");
        assert_eq!(expired[0].0, 7);
        assert!(
            matches!(expired[0].1, Ending::UserPermission { email, role, .. } if email == "ana@x.io" && role == "Source Admin")
        );
        assert_eq!(
            expired[1],
            (
                14,
                &Ending::Member {
                    group: "G".into(),
                    email: "gone@x.io".into()
                }
            )
        );
        let ana = dated.file.users.get("ana@x.io").expect("ana stays");
        assert_eq!(ana.permissions.len(), 1);
        let g = dated.file.groups.get("G").expect("G stays");
        let members: Vec<&str> = g.members.iter().map(|m| m.value.as_str()).collect();
        assert_eq!(members, ["plain@x.io", "soon@x.io", "later@x.io"]);
        // The group grant ends at noon, within the window; soon@ within the window too.
        let soon: Vec<u64> = dated.expiring.iter().map(|e| e.line).collect();
        assert_eq!(soon, [15, 20]);
        // One instant before, nothing has expired.
        let before = now.checked_sub(Duration::from_nanos(1)).expect("instant");
        assert!(file().at(before, DAY).expect("dated").expired.is_empty());
    }

    #[test]
    fn a_dated_member_keeps_its_lines_and_writes_back_as_it_was() {
        let f = file();
        let g = f.groups.get("G").expect("G");
        assert_eq!((g.members[0].line, g.members[1].line), (13, 14));
        assert_eq!(g.members[1].expires.as_ref().map(|t| t.line), Some(14));
        let again = AccessFile::parse(&f.to_yaml().expect("writes")).expect("reads back");
        assert_eq!(again, f);
        let block = "version: 1\ngroups:\n  G:\n    members:\n      - email: a@x.io\n        expires: 2027-13-01\n";
        match AccessFile::parse(block) {
            Err(Error::File { line, message, .. }) => {
                assert_eq!(line, 6, "{message}");
            }
            other => panic!("{other:?}"),
        }
        match AccessFile::parse(
            "version: 1\ngroups:\n  G:\n    members:\n      - {email: a@x.io, until: 2027-01-01}\n",
        ) {
            Err(Error::File { line, message, .. }) => {
                assert_eq!(line, 5, "{message}");
                assert!(message.contains("until"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_malformed_permission_expiry_is_refused_when_parsed() {
        let text = "version: 1\nusers:\n  a@x.io:\n    permissions:\n      - role: R\n        resources: [workspace]\n        expires: soon\n";
        match AccessFile::parse(text) {
            Err(Error::File { line, message, .. }) => {
                assert_eq!(line, 7, "{message}");
                assert!(message.contains("expires: soon"), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }
}
