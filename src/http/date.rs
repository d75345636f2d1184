//! HTTP dates (RFC 9110 §5.6.7): the IMF-fixdate form, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.

use std::time::{SystemTime, UNIX_EPOCH};

/// The current time in seconds since the Unix epoch (0 for a clock set before it).
pub fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Length of an IMF-fixdate.
pub const DATE_LEN: usize = 29;

/// Formats seconds since the Unix epoch as an IMF-fixdate.
pub fn format_http_date(unix_secs: u64) -> [u8; DATE_LEN] {
    const DAYS: [&[u8; 3]; 7] = [b"Thu", b"Fri", b"Sat", b"Sun", b"Mon", b"Tue", b"Wed"];
    const MONTHS: [&[u8; 3]; 12] = [
        b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov",
        b"Dec",
    ];
    let days = unix_secs / 86_400;
    let secs_of_day = unix_secs % 86_400;
    let (year, month, day) = civil_from_days(days);

    let mut out = *b"Thu, 01 Jan 1970 00:00:00 GMT";
    out[..3].copy_from_slice(DAYS[(days % 7) as usize]);
    put_two(&mut out[5..7], day);
    out[8..11].copy_from_slice(MONTHS[(month - 1) as usize]);
    let year = year.min(9999);
    put_two(&mut out[12..14], year / 100);
    put_two(&mut out[14..16], year % 100);
    put_two(&mut out[17..19], secs_of_day / 3600);
    put_two(&mut out[20..22], secs_of_day / 60 % 60);
    put_two(&mut out[23..25], secs_of_day % 60);
    out
}

/// Parses an HTTP-date in any of the three forms a recipient must accept (RFC 9110
/// §5.6.7): IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`, RFC 850
/// `Sunday, 06-Nov-94 08:49:37 GMT` and asctime `Sun Nov  6 08:49:37 1994`. Returns
/// seconds since the Unix epoch, or `None` for anything else (the weekday is not checked).
pub fn parse_http_date(text: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(text).ok()?.trim_matches([' ', '\t']);
    let (_weekday, rest) = text.split_once([',', ' '])?;
    let rest = rest.trim_start();
    let fields: Vec<&str> = rest.split(' ').filter(|f| !f.is_empty()).collect();
    let (day, month, year, time) = match fields.as_slice() {
        // IMF-fixdate: 06 Nov 1994 08:49:37 GMT
        [day, month, year, time, "GMT"] if text.contains(',') => (*day, *month, *year, *time),
        // RFC 850: 06-Nov-94 08:49:37 GMT
        [date, time, "GMT"] if text.contains(',') => {
            let mut parts = date.split('-');
            let (day, month, yy) = (parts.next()?, parts.next()?, parts.next()?);
            if parts.next().is_some() || yy.len() != 2 {
                return None;
            }
            // Two-digit years: a year more than 50 years ahead is the most recent past year
            // with those digits (RFC 9110 §5.6.7).
            let yy: u64 = yy.parse().ok()?;
            let now = unix_now();
            let this_year = civil_from_days(now / 86_400).0;
            let mut year = this_year / 100 * 100 + yy;
            if year > this_year + 50 {
                year -= 100;
            }
            return civil_seconds(day, month, &year.to_string(), time);
        }
        // asctime: Nov  6 08:49:37 1994
        [month, day, time, year] if !text.contains(',') => (*day, *month, *year, *time),
        _ => return None,
    };
    civil_seconds(day, month, year, time)
}

/// Seconds since the epoch for a day, month name, year and `hh:mm:ss`, all validated.
fn civil_seconds(day: &str, month: &str, year: &str, time: &str) -> Option<u64> {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let number = |s: &str, max_len: usize| -> Option<u64> {
        if s.is_empty() || s.len() > max_len || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        s.parse().ok()
    };
    let day = number(day, 2)?;
    let month = MONTHS.iter().position(|m| *m == month)? as u64 + 1;
    let year = number(year, 4)?;
    let mut hms = time.split(':');
    let (h, m, s) = (hms.next()?, hms.next()?, hms.next()?);
    if hms.next().is_some() || h.len() != 2 || m.len() != 2 || s.len() != 2 {
        return None;
    }
    let (h, m, s) = (number(h, 2)?, number(m, 2)?, number(s, 2)?);
    if year < 1970 || !(1..=days_in_month(year, month)).contains(&day) || h > 23 || m > 59 || s > 60
    {
        return None;
    }
    Some(days_from_civil(year, month, day) * 86_400 + h * 3600 + m * 60 + s)
}

fn days_in_month(year: u64, month: u64) -> u64 {
    match month {
        2 if year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 for a date on or after it (the inverse of `civil_from_days`).
fn days_from_civil(year: u64, month: u64, day: u64) -> u64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y / 400;
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn put_two(dst: &mut [u8], value: u64) {
    dst[0] = b'0' + (value / 10) as u8;
    dst[1] = b'0' + (value % 10) as u8;
}

/// Converts days since 1970-01-01 into (year, month 1..=12, day 1..=31) in the proleptic
/// Gregorian calendar (the "days from civil" inverse by Howard Hinnant).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// The current `Date` value, formatted again only when the second changes.
pub struct DateCache {
    secs: u64,
    text: [u8; DATE_LEN],
}

impl DateCache {
    pub fn new() -> DateCache {
        let mut cache = DateCache {
            secs: u64::MAX,
            text: [0; DATE_LEN],
        };
        cache.refresh(SystemTime::now());
        cache
    }

    /// Brings the cached value up to `now`; cheap when the second has not changed.
    pub fn refresh(&mut self, now: SystemTime) {
        let secs = now
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        if secs != self.secs {
            self.secs = secs;
            self.text = format_http_date(secs);
        }
    }

    pub fn get(&self) -> &[u8; DATE_LEN] {
        &self.text
    }

    /// The second `get` is formatted from, since the Unix epoch.
    pub fn secs(&self) -> u64 {
        self.secs
    }
}

impl Default for DateCache {
    fn default() -> Self {
        DateCache::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_three_formats() {
        let want = Some(784_111_777);
        assert_eq!(parse_http_date(b"Sun, 06 Nov 1994 08:49:37 GMT"), want);
        assert_eq!(parse_http_date(b"Sunday, 06-Nov-94 08:49:37 GMT"), want);
        assert_eq!(parse_http_date(b"Sun Nov  6 08:49:37 1994"), want);
        assert_eq!(
            parse_http_date(b"Tue, 29 Feb 2000 00:00:00 GMT"),
            Some(951_782_400)
        );
        for secs in [0u64, 951_782_400, 1_700_000_000, 4_102_444_799] {
            assert_eq!(parse_http_date(&format_http_date(secs)), Some(secs));
        }
        for bad in [
            "",
            "yesterday",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 06 Nov 1994 08:49 GMT",
            "Sun, 31 Nov 1994 08:49:37 GMT",
            "Sun, 29 Feb 1900 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun, 06 Nov 1969 08:49:37 GMT",
            "Sun, +6 Nov 1994 08:49:37 GMT",
            "1994-11-06T08:49:37Z",
        ] {
            assert_eq!(parse_http_date(bad.as_bytes()), None, "{bad}");
        }
    }

    #[test]
    fn formats_known_dates() {
        let cases: &[(u64, &str)] = &[
            (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
            (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"),
            (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),
            (1_700_000_000, "Tue, 14 Nov 2023 22:13:20 GMT"),
            (4_102_444_799, "Thu, 31 Dec 2099 23:59:59 GMT"),
        ];
        for &(secs, want) in cases {
            assert_eq!(std::str::from_utf8(&format_http_date(secs)).unwrap(), want);
        }
    }
}
