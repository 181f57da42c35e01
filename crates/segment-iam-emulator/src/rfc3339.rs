//! RFC 3339 instants, as the audit trail writes (`timestamp`) and reads (`startTime`,
//! `endTime`) them: UTC with milliseconds out, any offset and fraction in. The calendar and
//! the RFC 3339 reader are the `time` crate's; this module only fixes the shapes.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// `t` as `YYYY-MM-DDTHH:MM:SS.mmmZ`, always milliseconds and `Z` (`time`'s own RFC 3339
/// writer varies the fraction). Times before 1970 are written as 1970-01-01; times past year
/// 9999, which `time` cannot hold, as its last millisecond.
pub(crate) fn format(t: SystemTime) -> String {
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
pub(crate) fn parse(text: &str) -> Option<SystemTime> {
    // `time` takes any byte as the separator; RFC 3339 names `T` and (for readability) a space.
    if !matches!(text.as_bytes().get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    let at = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    let secs = u64::try_from(at.unix_timestamp()).ok()?;
    Some(UNIX_EPOCH + Duration::new(secs, at.nanosecond()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_instants_format_and_parse_back() {
        let t = UNIX_EPOCH + Duration::from_millis(1_764_585_120_123);
        assert_eq!(format(t), "2025-12-01T10:32:00.123Z");
        assert_eq!(parse("2025-12-01T10:32:00.123Z"), Some(t));
        assert_eq!(parse("2025-12-01T11:32:00.123+01:00"), Some(t));
        assert_eq!(format(UNIX_EPOCH), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            parse("2000-02-29T00:00:00Z"),
            Some(UNIX_EPOCH + Duration::from_secs(951_782_400))
        );
        for day in (0..200_000).step_by(97) {
            let t = UNIX_EPOCH + Duration::from_secs(day * 86_400 + 3_723);
            assert_eq!(parse(&format(t)), Some(t), "day {day}");
        }
    }

    proptest::proptest! {
        /// `startTime` / `endTime` come from any client: never a panic.
        #[test]
        fn any_text_parses_or_is_refused_without_panicking(text in "\\PC{0,40}") {
            let _ = parse(&text);
        }

        #[test]
        fn near_instants_parse_or_are_refused_without_panicking(
            text in "[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt ][0-9]{2}:[0-9]{2}:[0-9]{2}(\\.[0-9]{0,12})?(Z|[+-][0-9]{2}:[0-9]{2}|.{0,3})"
        ) {
            if let Some(t) = parse(&text) {
                proptest::prop_assert!(parse(&format(t)).is_some());
            }
        }
    }

    #[test]
    fn malformed_instants_are_refused() {
        for bad in [
            "",
            "2025-12-01",
            "2025-12-01T10:32:00",
            "2025-13-01T10:32:00Z",
            "2025-02-29T10:32:00Z",
            "2025-12-01T24:00:00Z",
            "2025-12-01T10:32:00.Z",
            "2025-12-01T10:32:00+0100",
            "1969-12-31T23:59:59Z",
            "２０２５-12-01T10:32:00Z",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }
}
