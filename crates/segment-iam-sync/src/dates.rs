//! The instants an `expires:` names: a date (`2027-03-31`, ending at the next midnight UTC) or
//! an RFC 3339 instant, read by the facade's one date reader ([`segment_iam::time`]).

use std::time::{Duration, SystemTime};

use segment_iam::time::{parse_date, parse_rfc3339};

/// A day, for a date's end: the entry lasts through it.
const DAY: Duration = Duration::from_secs(86_400);

/// When an expiry ends its entry: a date's next midnight UTC, or the instant given; `None`
/// for anything else, or before 1970.
pub(crate) fn end_of(value: &str) -> Option<SystemTime> {
    if value.len() == 10 {
        parse_date(value).and_then(|start| start.checked_add(DAY))
    } else {
        parse_rfc3339(value)
    }
}
