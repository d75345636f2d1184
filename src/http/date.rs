//! HTTP dates (RFC 9110 §5.6.7): the IMF-fixdate form, e.g. `Sun, 06 Nov 1994 08:49:37 GMT`.

use std::time::{SystemTime, UNIX_EPOCH};

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
