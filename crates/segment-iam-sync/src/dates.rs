//! The instants an `expires:` names: a date (`2027-03-31`, ending at the next midnight UTC) or
//! an RFC 3339 instant. Hand-written civil-date arithmetic (H. Hinnant's `days_from_civil`):
//! the workspace has no date crate and needs only this.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// When an expiry ends its entry: a date's next midnight UTC, or the instant given; `None`
/// for anything else, or before 1970.
pub(crate) fn end_of(value: &str) -> Option<SystemTime> {
    // Every form is ASCII, which also makes every byte offset below a char boundary.
    if !value.is_ascii() {
        return None;
    }
    if value.len() == 10 {
        date(value)
            .map(|days| days + 1)
            .and_then(|days| instant(days, 0))
    } else {
        rfc3339(value)
    }
}

/// `YYYY-MM-DD` as days since 1970-01-01; `None` when malformed or not a real day.
fn date(text: &str) -> Option<i64> {
    let b = text.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (
        digits(&text[0..4])?,
        digits(&text[5..7])?,
        digits(&text[8..10])?,
    );
    let month_days = [
        31,
        28 + u32::from(leap(y)),
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
    let last = *month_days.get(usize::try_from(m).ok()?.checked_sub(1)?)?;
    if d == 0 || d > last {
        return None;
    }
    Some(days_from_civil(i64::from(y), m, d))
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`; `None` for anything else.
fn rfc3339(text: &str) -> Option<SystemTime> {
    let days = date(text.get(0..10)?)?;
    let rest = text.get(10..)?;
    let b = rest.as_bytes();
    if b.len() < 10 || !matches!(b[0], b'T' | b't') || b[3] != b':' || b[6] != b':' {
        return None;
    }
    let (h, mi, s) = (
        digits(&rest[1..3])?,
        digits(&rest[4..6])?,
        digits(&rest[7..9])?,
    );
    if h > 23 || mi > 59 || s > 60 {
        return None;
    }
    let mut tail = &rest[9..];
    let mut nanos = 0u32;
    if let Some(fraction) = tail.strip_prefix('.') {
        let n = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if n == 0 {
            return None;
        }
        // Digits beyond the nanosecond are dropped: no clock here is finer.
        let kept = &fraction[..n.min(9)];
        nanos = digits(kept)? * 10u32.pow(9 - kept.len() as u32);
        tail = &fraction[n..];
    }
    let offset: i64 = match tail {
        "Z" | "z" => 0,
        _ => {
            let sign = match tail.as_bytes().first()? {
                b'+' => 1,
                b'-' => -1,
                _ => return None,
            };
            if tail.len() != 6 || tail.as_bytes()[3] != b':' {
                return None;
            }
            let (oh, om) = (digits(&tail[1..3])?, digits(&tail[4..6])?);
            if oh > 23 || om > 59 {
                return None;
            }
            sign * i64::from(oh * 3600 + om * 60)
        }
    };
    let secs = i64::from(h * 3600 + mi * 60 + s) - offset;
    instant(days, secs)?.checked_add(Duration::from_nanos(u64::from(nanos)))
}

/// Midnight UTC of `days` since 1970-01-01, plus `secs`; `None` before 1970.
fn instant(days: i64, secs: i64) -> Option<SystemTime> {
    let total = days.checked_mul(86_400)?.checked_add(secs)?;
    UNIX_EPOCH.checked_add(Duration::from_secs(u64::try_from(total).ok()?))
}

/// All ASCII digits, as a number.
fn digits(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn leap(y: u32) -> bool {
    y.is_multiple_of(4) && (!y.is_multiple_of(100) || y.is_multiple_of(400))
}

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
