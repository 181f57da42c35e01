//! Instants as the audit trail writes them (RFC 3339) and as people give them (`7d`,
//! `2026-12-01`, an RFC 3339 instant): [`parse_instant`] for a `--since` / `--until`,
//! [`format_rfc3339`] for what is sent. The clock is the caller's (`now`), so tests never wait.
//!
//! The calendar and RFC 3339 are the `time` crate's (one reader for the ecosystem's format
//! instead of hand-written date arithmetic); this module only fixes the shapes the project
//! uses. The emulator wraps `time` the same way on its own (it depends on no segment-iam
//! crate, as the service it stands for does not).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use ::time::OffsetDateTime;
use ::time::format_description::well_known::Rfc3339;

use crate::error::{Error, Result};

/// `t` as `YYYY-MM-DDTHH:MM:SS.mmmZ`, always milliseconds and `Z` (the shape the service
/// writes; `time`'s own RFC 3339 writer varies the fraction). Times before 1970 are written as
/// 1970-01-01; times past year 9999, which `time` cannot hold, as its last millisecond.
pub fn format_rfc3339(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let at = i64::try_from(since.as_secs())
        .ok()
        .and_then(|secs| OffsetDateTime::from_unix_timestamp(secs).ok());
    match at {
        Some(at) => format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute(),
            at.second(),
            since.subsec_millis()
        ),
        None => "9999-12-31T23:59:59.999Z".to_owned(),
    }
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (a `t` or space separator and a `z` are
/// accepted too, as RFC 3339 allows). `None` for anything else, or an instant before 1970.
pub fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    // `time` takes any byte as the separator; RFC 3339 names `T` and (for readability) a space.
    if !matches!(text.as_bytes().get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let at = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    let secs = u64::try_from(at.unix_timestamp()).ok()?;
    Some(UNIX_EPOCH + Duration::new(secs, at.nanosecond()))
}

/// Parses a date, `YYYY-MM-DD`, as the start of that day UTC. `None` for anything else (a day
/// that does not exist, other forms), or a day before 1970.
pub fn parse_date(text: &str) -> Option<SystemTime> {
    if text.len() != 10 {
        return None;
    }
    parse_rfc3339(&format!("{text}T00:00:00Z"))
}

/// A point in time as people give it, relative to `now`:
///
/// * a duration back from `now`: a number and a unit, `s`, `m`, `h`, `d` or `w` (`90m`,
///   `7d`, `2w`);
/// * a date, `YYYY-MM-DD`: the start of that day, UTC;
/// * an RFC 3339 instant: `2026-12-01T10:32:00Z`, `2026-12-01T11:32:00+01:00`.
///
/// Anything else is [`Error::InvalidInput`] naming `field`, before anything is sent.
pub fn parse_instant(field: &str, text: &str, now: SystemTime) -> Result<SystemTime> {
    let text = text.trim();
    let refuse = |why: &str| {
        Error::invalid(
            field,
            format!(
                "{text:?} {why}; give a duration back from now (90m, 12h, 7d, 2w), a date (2026-12-01, UTC) or an RFC 3339 instant (2026-12-01T10:32:00Z)"
            ),
        )
    };
    if let Some(unit) = text.chars().last().filter(|c| c.is_ascii_alphabetic())
        && text.len() > 1
        && text[..text.len() - 1].bytes().all(|b| b.is_ascii_digit())
    {
        let n: u64 = text[..text.len() - 1]
            .parse()
            .map_err(|_| refuse("is too large"))?;
        let secs = match unit {
            's' => Some(1),
            'm' => Some(60),
            'h' => Some(3600),
            'd' => Some(86_400),
            'w' => Some(7 * 86_400),
            _ => None,
        }
        .ok_or_else(|| refuse("has an unknown unit"))?;
        let back = n
            .checked_mul(secs)
            .map(Duration::from_secs)
            .ok_or_else(|| refuse("is too large"))?;
        return now
            .checked_sub(back)
            .filter(|t| *t >= UNIX_EPOCH)
            .ok_or_else(|| refuse("goes back before 1970"));
    }
    if text.len() == 10 {
        return parse_date(text).ok_or_else(|| refuse("is not a date"));
    }
    parse_rfc3339(text).ok_or_else(|| refuse("is not a point in time"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> SystemTime {
        UNIX_EPOCH + Duration::from_millis(ms)
    }

    #[test]
    fn instants_format_and_parse_back() {
        let t = at(1_764_585_120_123);
        assert_eq!(format_rfc3339(t), "2025-12-01T10:32:00.123Z");
        assert_eq!(parse_rfc3339("2025-12-01T11:32:00.123+01:00"), Some(t));
        for day in (0..200_000u64).step_by(89) {
            let t = UNIX_EPOCH + Duration::from_secs(day * 86_400 + 45_296);
            assert_eq!(parse_rfc3339(&format_rfc3339(t)), Some(t), "day {day}");
        }
    }

    /// The two choices this module makes on top of `time`: only `T`, `t` or a space between
    /// date and time (`time` takes any byte), and a time `time` cannot hold is still written.
    #[test]
    fn the_separator_is_rfc_3339s_and_far_instants_are_still_written() {
        let t = at(1_764_585_120_000);
        assert_eq!(parse_rfc3339("2025-12-01 10:32:00Z"), Some(t));
        assert_eq!(parse_rfc3339("2025-12-01t10:32:00z"), Some(t));
        for bad in [
            "2025-12-01X10:32:00Z",
            "2025-12-01_10:32:00Z",
            "2025-12-0110:32:00Z",
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
        let far = UNIX_EPOCH + Duration::from_secs(400_000_000_000);
        assert_eq!(format_rfc3339(far), "9999-12-31T23:59:59.999Z");
        assert_eq!(format_rfc3339(at(1_000)), "1970-01-01T00:00:01.000Z");
    }

    #[test]
    fn people_give_durations_dates_and_instants() {
        let now = at(1_764_585_120_000);
        let day = Duration::from_secs(86_400);
        assert_eq!(
            parse_instant("since", "7d", now).ok(),
            now.checked_sub(7 * day)
        );
        assert_eq!(
            parse_instant("since", "1h", now).ok(),
            now.checked_sub(Duration::from_secs(3600))
        );
        assert_eq!(
            parse_instant("since", "2w", now).ok(),
            now.checked_sub(14 * day)
        );
        assert_eq!(
            parse_instant("since", "2025-12-01", now).ok(),
            Some(at(1_764_547_200_000))
        );
        assert_eq!(
            parse_instant("until", " 2025-12-01T10:32:00Z ", now).ok(),
            Some(now)
        );
    }

    proptest::proptest! {
        #[test]
        fn any_instant_to_the_millisecond_round_trips(ms in 0u64..253_402_300_800_000) {
            let t = at(ms);
            proptest::prop_assert_eq!(parse_rfc3339(&format_rfc3339(t)), Some(t));
        }

        #[test]
        fn a_duration_goes_back_from_now(n in 0u64..10_000, unit in 0usize..5) {
            let now = at(1_764_585_120_000);
            let (letter, secs) = [('s', 1), ('m', 60), ('h', 3600), ('d', 86_400), ('w', 604_800)][unit];
            let back = now.checked_sub(Duration::from_secs(n * secs)).filter(|t| *t >= UNIX_EPOCH);
            proptest::prop_assert_eq!(parse_instant("since", &format!("{n}{letter}"), now).ok(), back);
        }

        #[test]
        fn any_text_is_an_instant_or_a_typed_refusal_never_a_panic(text in "\\PC{0,40}") {
            let now = at(1_764_585_120_000);
            match parse_instant("since", &text, now) {
                Ok(_) | Err(Error::InvalidInput { .. }) => {}
                Err(other) => proptest::prop_assert!(false, "{other:?}"),
            }
        }
    }

    #[test]
    fn anything_else_is_refused_naming_the_field() {
        let now = at(1_764_585_120_000);
        for bad in [
            "",
            "d",
            "7",
            "7y",
            "-7d",
            "7 d",
            "yesterday",
            "2025-13-01",
            "2025-12-1",
            "99999999999999999999d",
            "60000w",
            "2025-12-01T10:32:00",
        ] {
            match parse_instant("since", bad, now) {
                Err(Error::InvalidInput { field, .. }) => assert_eq!(field, "since", "{bad}"),
                other => panic!("{bad:?}: {other:?}"),
            }
        }
    }
}
