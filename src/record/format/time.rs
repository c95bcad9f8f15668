//! `recorded_at` timestamps: RFC 3339 in UTC with whole seconds,
//! `2026-12-01T12:00:00Z`, to and from [`SystemTime`] (offsets such as `+01:00` are
//! read too).

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `2026-12-01T12:00:00Z`; times before 1970 are written as the epoch.
pub(crate) fn format(t: SystemTime) -> String {
    let secs = t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Parses what [`format`] writes (a `Z` or `+00:00` offset, optional fraction).
pub(crate) fn parse(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || !matches!(b[10], b'T' | b't' | b' ') {
        return None;
    }
    if b[13] != b':' || b[16] != b':' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u64> {
        let part = s.get(r)?;
        part.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| part.parse().ok())?
    };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, sec) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let mut rest = &s[19..];
    if let Some(frac) = rest.strip_prefix('.') {
        let digits = frac.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return None;
        }
        rest = &frac[digits..];
    }
    // `Z`, or an offset `+01:00` (HAR files from Firefox carry the local one).
    let offset: i64 = match rest {
        "Z" | "z" => 0,
        _ => {
            let b = rest.as_bytes();
            if b.len() != 6 || b[3] != b':' || !matches!(b[0], b'+' | b'-') {
                return None;
            }
            let h: i64 = rest.get(1..3)?.parse().ok()?;
            let m: i64 = rest.get(4..6)?.parse().ok()?;
            if h > 23 || m > 59 {
                return None;
            }
            let sign = if b[0] == b'+' { 1 } else { -1 };
            sign * (h * 3600 + m * 60)
        }
    };
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let days = days_from_civil(y as i64, mo as u32, d as u32);
    let local = days * 86_400 + (h * 3600 + mi * 60 + sec) as i64;
    let secs = u64::try_from(local - offset).ok()?;
    UNIX_EPOCH.checked_add(Duration::from_secs(secs))
}

// Howard Hinnant's civil calendar algorithms.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let t = UNIX_EPOCH + Duration::from_secs(1_796_126_400);
        assert_eq!(format(t), "2026-12-01T12:00:00Z");
        assert_eq!(parse("2026-12-01T12:00:00Z"), Some(t));
        assert_eq!(parse("2026-12-01T12:00:00.123+00:00"), Some(t));
        assert_eq!(format(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        assert_eq!(
            parse("2024-02-29T23:59:59Z").map(format).unwrap(),
            "2024-02-29T23:59:59Z"
        );
        assert_eq!(parse("2026-13-01T12:00:00Z"), None);
        assert_eq!(parse("yesterday"), None);
        assert_eq!(parse("2026-12-01T14:00:00+02:00"), Some(t));
        assert_eq!(parse("2026-12-01T12:00:00+2:00"), None);
    }
}
