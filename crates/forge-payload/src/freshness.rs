//! Freshness of the signed metadata (issue 9 item 16): the index carries
//! `created` and `expires` (UTC, `YYYY-MM-DDTHH:MM:SSZ`), so an old but
//! validly signed payload stops installing once it expires. An index
//! without them is refused (format 1): a payload must say how long it is good.
//!
//! Times are Unix seconds (UTC). The calendar arithmetic is the proleptic
//! Gregorian one (Howard Hinnant's `days_from_civil`), no time zones.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::PayloadError;

/// How long a payload built without `--expires` stays valid.
pub const DEFAULT_LIFETIME: Duration = Duration::from_secs(90 * 86_400);
/// How far in the future `created` may be (clock skew between the build
/// machine and the installer) before the index is refused as not yet valid.
pub const CLOCK_SKEW: u64 = 300;
/// Latest time accepted (9999-12-31T23:59:59Z).
const MAX_SECS: u64 = 253_402_300_799;

/// The validity window of signed metadata, in Unix seconds (UTC).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    pub created: u64,
    pub expires: u64,
}

/// Seconds since the epoch of `t` (0 before it).
pub fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

impl Validity {
    /// Created now, expiring after `lifetime`.
    pub fn starting_now(lifetime: Duration) -> Validity {
        let created = unix_secs(SystemTime::now());
        Validity {
            created,
            expires: created.saturating_add(lifetime.as_secs()).min(MAX_SECS),
        }
    }

    /// `created` as written in the index.
    pub fn created_utc(&self) -> String {
        format_utc(self.created)
    }

    /// `expires` as written in the index.
    pub fn expires_utc(&self) -> String {
        format_utc(self.expires)
    }

    /// Refuses metadata that expired at or before `now`, or that was created
    /// more than [`CLOCK_SKEW`] seconds after `now`. `path` is the index.
    pub fn check(&self, now: u64, path: &Path) -> Result<(), PayloadError> {
        if now >= self.expires {
            return Err(PayloadError::Expired {
                path: path.to_path_buf(),
                expires: self.expires_utc(),
            });
        }
        if self.created > now.saturating_add(CLOCK_SKEW) {
            return Err(PayloadError::NotYetValid {
                path: path.to_path_buf(),
                created: self.created_utc(),
            });
        }
        Ok(())
    }
}

fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// `secs` as `YYYY-MM-DDTHH:MM:SSZ`.
pub fn format_utc(secs: u64) -> String {
    let secs = secs.min(MAX_SECS) as i64;
    let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        t / 3600,
        t / 60 % 60,
        t % 60
    )
}

fn digits(s: &str) -> Option<u32> {
    (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// A calendar date `YYYY-MM-DD` (years 1970..=9999) as days since the epoch.
fn parse_date(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let (y, m, d) = (digits(&s[0..4])?, digits(&s[5..7])?, digits(&s[8..10])?);
    if y < 1970 || !(1..=12).contains(&m) || d == 0 || d > days_in_month(y as i64, m) {
        return None;
    }
    Some(days_from_civil(y as i64, m, d))
}

/// Parses exactly `YYYY-MM-DDTHH:MM:SSZ` (what the index holds).
pub fn parse_utc(s: &str) -> Option<u64> {
    let b = s.as_bytes();
    if b.len() != 20 || b[10] != b'T' || b[13] != b':' || b[16] != b':' || b[19] != b'Z' {
        return None;
    }
    let days = parse_date(&s[..10])?;
    let (h, mi, se) = (
        digits(&s[11..13])?,
        digits(&s[14..16])?,
        digits(&s[17..19])?,
    );
    if h > 23 || mi > 59 || se > 59 {
        return None;
    }
    u64::try_from(days * 86_400 + (h * 3600 + mi * 60 + se) as i64).ok()
}

/// The `--expires` argument of `forgectl payload build`: a date
/// (`2027-06-30`, midnight UTC), a UTC time (`2027-06-30T12:00:00Z`) or a
/// lifetime from `now` (`90d`, `12w`, `36h`, `1y` = 365 days). The result
/// must be after `now`.
pub fn parse_expires(arg: &str, now: u64) -> Result<u64, String> {
    let arg = arg.trim();
    let at = if let Some(t) = parse_utc(arg) {
        t
    } else if let Some(days) = parse_date(arg) {
        (days * 86_400) as u64
    } else {
        let unit = arg.chars().last().unwrap_or(' ');
        let per = match unit {
            'h' => 3600,
            'd' => 86_400,
            'w' => 7 * 86_400,
            'y' => 365 * 86_400,
            _ => 0,
        };
        let n = digits(&arg[..arg.len() - unit.len_utf8().min(arg.len())]);
        match (per, n) {
            (per, Some(n)) if per > 0 && n > 0 => now.saturating_add(u64::from(n) * per),
            _ => {
                return Err(format!(
                "{arg:?} is neither a date (YYYY-MM-DD), a UTC time (YYYY-MM-DDTHH:MM:SSZ) nor a lifetime (90d, 12w, 36h, 1y)"
            ))
            }
        }
    };
    if at <= now || at > MAX_SECS {
        return Err(format!("{arg:?} ({}) is not in the future", format_utc(at)));
    }
    Ok(at)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_round_trips_and_is_strict() {
        for s in [
            "1970-01-01T00:00:00Z",
            "2000-02-29T23:59:59Z",
            "2026-11-30T06:55:39Z",
            "9999-12-31T23:59:59Z",
        ] {
            assert_eq!(format_utc(parse_utc(s).expect(s)), s);
        }
        assert_eq!(parse_utc("2026-11-30T06:55:39Z"), Some(1_796_021_739));
        for bad in [
            "",
            "2026-11-30",
            "2026-11-30T06:55:39",
            "2026-11-30T06:55:39+01:00",
            "2026-13-01T00:00:00Z",
            "2027-02-29T00:00:00Z",
            "2026-11-30T24:00:00Z",
            "1969-12-31T23:59:59Z",
            "2026-11-30t06:55:39z",
            "+026-11-30T06:55:39Z",
            "yesterday",
        ] {
            assert_eq!(parse_utc(bad), None, "{bad}");
        }
    }

    #[test]
    fn expires_accepts_dates_times_and_lifetimes() {
        let now = parse_utc("2026-11-30T06:00:00Z").unwrap();
        assert_eq!(
            parse_expires("2027-01-01", now),
            Ok(parse_utc("2027-01-01T00:00:00Z").unwrap())
        );
        assert_eq!(
            parse_expires("2026-12-01T12:00:00Z", now),
            Ok(parse_utc("2026-12-01T12:00:00Z").unwrap())
        );
        assert_eq!(parse_expires("90d", now), Ok(now + 90 * 86_400));
        assert_eq!(parse_expires("2w", now), Ok(now + 14 * 86_400));
        assert_eq!(parse_expires("36h", now), Ok(now + 36 * 3600));
        assert_eq!(parse_expires("1y", now), Ok(now + 365 * 86_400));
        for bad in [
            "",
            "0d",
            "d",
            "-5d",
            "5x",
            "2020-01-01",
            "2026-11-30",
            "soon",
        ] {
            assert!(parse_expires(bad, now).is_err(), "{bad}");
        }
    }

    #[test]
    fn check_refuses_expired_and_future_metadata() {
        let p = Path::new("/p/InterGenOS.db");
        let v = Validity {
            created: 1000,
            expires: 2000,
        };
        assert!(v.check(1500, p).is_ok());
        assert!(v.check(1000 - CLOCK_SKEW, p).is_ok());
        match v.check(2000, p) {
            Err(PayloadError::Expired { path, expires }) => {
                assert_eq!(path, p);
                assert_eq!(expires, "1970-01-01T00:33:20Z");
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            v.check(1000 - CLOCK_SKEW - 1, p),
            Err(PayloadError::NotYetValid { .. })
        ));
    }
}
