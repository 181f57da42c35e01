//! Instants as the audit trail writes them (RFC 3339) and as people give them (`7d`,
//! `2026-12-01`, an RFC 3339 instant): [`parse_instant`] for a `--since` / `--until`,
//! [`format_rfc3339`] for what is sent. The clock is the caller's (`now`), so tests never wait.
//!
//! Hand-written civil-date arithmetic (H. Hinnant's `days_from_civil`): the workspace has no
//! date crate and needs only this. The emulator keeps its own copy (it depends on no
//! segment-iam crate, as the service it stands for does not).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::{Error, Result};

/// Days since 1970-01-01 of a proleptic Gregorian date.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (i64::from(m) + 9) % 12;
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day count since 1970-01-01.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// `t` as `YYYY-MM-DDTHH:MM:SS.mmmZ` (times before 1970 are written as 1970-01-01).
pub fn format_rfc3339(t: SystemTime) -> String {
    let since = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs() as i64;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let rem = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        since.subsec_millis()
    )
}

/// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (a `t` or space separator and a `z` are
/// accepted too). `None` for anything else, or an instant before 1970.
pub fn parse_rfc3339(text: &str) -> Option<SystemTime> {
    let b = text.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let s = text.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[13] != b':' || b[16] != b':' {
        return None;
    }
    if !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let month_days = [
        31,
        28 + u32::from(is_leap(y)),
        31,
        30,
        31,
        30,
        31,
        31,
        30,
        31,
        30,
        31,
    ];
    if !(1..=12).contains(&mo) || d == 0 || d > month_days[mo as usize - 1] {
        return None;
    }
    if h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut i = 19;
    let mut nanos: u64 = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        let start = i;
        while i < b.len() && b[i].is_ascii_digit() {
            if i - start < 9 {
                nanos = nanos * 10 + u64::from(b[i] - b'0');
            }
            i += 1;
        }
        let digits = i - start;
        if digits == 0 {
            return None;
        }
        for _ in digits.min(9)..9 {
            nanos *= 10;
        }
    }
    let offset: i64 = match text.get(i..)? {
        "Z" | "z" => 0,
        tz if tz.len() == 6 && (tz.starts_with('+') || tz.starts_with('-')) && &tz[3..4] == ":" => {
            let oh = num(i + 1..i + 3)?;
            let om = num(i + 4..i + 6)?;
            if oh > 23 || om > 59 {
                return None;
            }
            let sign = if tz.starts_with('-') { -1 } else { 1 };
            sign * i64::from(oh * 3600 + om * 60)
        }
        _ => return None,
    };
    let days = days_from_civil(i64::from(y), mo, d);
    let secs = days * 86_400 + i64::from(h * 3600 + mi * 60 + s.min(59)) - offset;
    let secs = u64::try_from(secs).ok()?;
    Some(UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_nanos(nanos))
}

/// Parses a date, `YYYY-MM-DD`, as the start of that day UTC. `None` for anything else (a day
/// that does not exist, other forms), or a day before 1970.
pub fn parse_date(text: &str) -> Option<SystemTime> {
    if text.len() != 10 {
        return None;
    }
    parse_rfc3339(&format!("{text}T00:00:00Z"))
}

fn is_leap(y: u32) -> bool {
    y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400))
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
