//! Spark's `CAST(string AS DATE|TIMESTAMP)` parsing
//! (`SparkDateTimeUtils.stringToDate` / `stringToTimestamp`), which
//! `to_date`/`to_timestamp` without a pattern and `date_format` on strings
//! use.

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};

use super::zone::Zone;

/// Spark trims ASCII whitespace and ISO control characters.
fn trim(b: &[u8]) -> &[u8] {
    let skip = |c: &u8| *c <= b' ' || *c == 0x7f;
    let start = b.iter().position(|c| !skip(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !skip(c)).map_or(start, |e| e + 1);
    &b[start..end.max(start)]
}

/// `[+-]yyyy*`, `[+-]yyyy*-[m]m`, `[+-]yyyy*-[m]m-[d]d`, optionally
/// followed by ` ...` or `T...`: days since the epoch.
pub fn string_to_date(s: &str) -> Option<i32> {
    let valid = |segment: usize, digits: usize| {
        (segment == 0 && (4..=7).contains(&digits)) || (segment != 0 && (1..=2).contains(&digits))
    };
    let b = trim(s.as_bytes());
    if b.is_empty() {
        return None;
    }
    let mut segments = [1i64, 1, 1];
    let mut sign = 1;
    let mut i = 0;
    let mut value = 0i64;
    let mut digits = 0;
    let mut j = 0;
    if b[0] == b'-' || b[0] == b'+' {
        sign = if b[0] == b'-' { -1 } else { 1 };
        j = 1;
    }
    while j < b.len() && i < 3 && !(b[j] == b' ' || b[j] == b'T') {
        let c = b[j];
        if i < 2 && c == b'-' {
            if !valid(i, digits) {
                return None;
            }
            segments[i] = value;
            value = 0;
            digits = 0;
            i += 1;
        } else if c.is_ascii_digit() {
            value = value * 10 + i64::from(c - b'0');
            digits += 1;
        } else {
            return None;
        }
        j += 1;
    }
    if !valid(i, digits) {
        return None;
    }
    if i < 2 && j < b.len() {
        return None;
    }
    segments[i] = value;
    let date = NaiveDate::from_ymd_opt(
        i32::try_from(sign * segments[0]).ok()?,
        u32::try_from(segments[1]).ok()?,
        u32::try_from(segments[2]).ok()?,
    )?;
    days_since_epoch(&date)
}

pub fn days_since_epoch(d: &NaiveDate) -> Option<i32> {
    i32::try_from(d.signed_duration_since(NaiveDate::from_ymd_opt(1970, 1, 1)?).num_days()).ok()
}

/// The parts of a timestamp string: year, month, day, hour, minute,
/// second, microseconds; its zone; whether it had no date.
struct TimestampParts {
    segments: [i64; 9],
    zone: Option<Zone>,
    just_time: bool,
}

/// Spark's `parseTimestampString`:
/// `[+-]yyyy*[-[m]m[-[d]d]]`, then ` ` or `T` and
/// `[h]h:[m]m:[s]s.[ms][ms][ms][us][us][us][zone_id]`; or just the time.
fn parse_timestamp_string(s: &str) -> Option<TimestampParts> {
    let valid = |segment: usize, digits: usize| {
        segment == 6
            || (segment == 0 && (4..=6).contains(&digits))
            || (segment == 7 && digits <= 2)
            || (segment != 0 && segment != 6 && segment != 7 && (1..=2).contains(&digits))
    };
    let raw = s.as_bytes();
    let b = trim(raw);
    if b.is_empty() {
        return None;
    }
    // Spark tests `j == 0` against the untrimmed string.
    let offset = b.as_ptr() as usize - raw.as_ptr() as usize;
    let mut tz: Option<String> = None;
    let mut segments = [1i64, 1, 1, 0, 0, 0, 0, 0, 0];
    let mut i = 0usize;
    let mut value = 0i64;
    let mut digits = 0usize;
    let mut digits_milli = 0;
    let mut just_time = false;
    let mut year_sign: Option<i64> = None;
    let mut j = 0usize;
    if b[0] == b'-' || b[0] == b'+' {
        year_sign = Some(if b[0] == b'-' { -1 } else { 1 });
        j = 1;
    }
    while j < b.len() {
        let c = b[j];
        if !c.is_ascii_digit() {
            if j + offset == 0 && c == b'T' {
                just_time = true;
                i += 3;
            } else if i < 2 {
                if c == b'-' {
                    if !valid(i, digits) {
                        return None;
                    }
                    segments[i] = value;
                    value = 0;
                    digits = 0;
                    i += 1;
                } else if i == 0 && c == b':' && year_sign.is_none() {
                    just_time = true;
                    if !valid(3, digits) {
                        return None;
                    }
                    segments[3] = value;
                    value = 0;
                    digits = 0;
                    i = 4;
                } else {
                    return None;
                }
            } else if i == 2 {
                if c == b' ' || c == b'T' {
                    if !valid(i, digits) {
                        return None;
                    }
                    segments[i] = value;
                    value = 0;
                    digits = 0;
                    i += 1;
                } else {
                    return None;
                }
            } else if i == 3 || i == 4 {
                if c == b':' {
                    if !valid(i, digits) {
                        return None;
                    }
                    segments[i] = value;
                    value = 0;
                    digits = 0;
                    i += 1;
                } else {
                    return None;
                }
            } else if i == 5 || i == 6 {
                if !valid(i, digits) {
                    return None;
                }
                segments[i] = value;
                value = 0;
                digits = 0;
                i += 1;
                if !(c == b'.' && i == 6) {
                    tz = Some(String::from_utf8_lossy(&b[j..]).into_owned());
                    j = b.len() - 1;
                }
                if i == 6 && c != b'.' {
                    i += 1;
                }
            } else if i < segments.len() && (c == b':' || c == b' ') {
                if !valid(i, digits) {
                    return None;
                }
                segments[i] = value;
                value = 0;
                digits = 0;
                i += 1;
            } else {
                return None;
            }
        } else {
            if i == 6 {
                digits_milli += 1;
            }
            // Digits past microseconds are dropped.
            if i != 6 || digits < 6 {
                value = value.checked_mul(10)?.checked_add(i64::from(c - b'0'))?;
            }
            digits += 1;
        }
        j += 1;
    }
    if !valid(i, digits) {
        return None;
    }
    *segments.get_mut(i)? = value;
    while digits_milli < 6 {
        segments[6] *= 10;
        digits_milli += 1;
    }
    let zone = match tz {
        Some(t) => Some(Zone::parse(t.trim())?),
        None => None,
    };
    segments[0] *= year_sign.unwrap_or(1);
    Some(TimestampParts { segments, zone, just_time })
}

/// Spark's `stringToTimestamp`: microseconds since the epoch, reading
/// zone-less strings in `session` (a bare time takes today's date there).
pub fn string_to_timestamp(s: &str, session: &Zone) -> Option<i64> {
    let parts = parse_timestamp_string(s)?;
    let zone = parts.zone.as_ref().unwrap_or(session);
    let seg = |k: usize| u32::try_from(parts.segments[k]).ok();
    let time = NaiveTime::from_hms_micro_opt(seg(3)?, seg(4)?, seg(5)?, seg(6)?)?;
    let date = if parts.just_time {
        let now = chrono::Utc::now().naive_utc();
        now.checked_add_signed(Duration::seconds(i64::from(zone.offset_at(&now))))?.date()
    } else {
        NaiveDate::from_ymd_opt(i32::try_from(parts.segments[0]).ok()?, seg(1)?, seg(2)?)?
    };
    let utc = zone.local_to_utc(&NaiveDateTime::new(date, time))?;
    Some(utc.and_utc().timestamp_micros())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn date(s: &str) -> Option<String> {
        string_to_date(s).map(|d| {
            (NaiveDate::from_ymd_opt(1970, 1, 1).unwrap() + Duration::days(i64::from(d))).format("%Y-%m-%d").to_string()
        })
    }

    fn ts(s: &str) -> Option<String> {
        string_to_timestamp(s, &Zone::utc()).map(|us| {
            chrono::DateTime::from_timestamp_micros(us).unwrap().naive_utc().format("%Y-%m-%d %H:%M:%S%.f").to_string()
        })
    }

    #[test]
    fn dates_like_spark_cast() {
        assert_eq!(date("2013-02-01").as_deref(), Some("2013-02-01"));
        assert_eq!(date("2013-2-1").as_deref(), Some("2013-02-01"));
        assert_eq!(date(" 2013-02-01 ").as_deref(), Some("2013-02-01"));
        assert_eq!(date("2013").as_deref(), Some("2013-01-01"));
        assert_eq!(date("2013-02").as_deref(), Some("2013-02-01"));
        assert_eq!(date("2013-02-01 12:34:56").as_deref(), Some("2013-02-01"));
        assert_eq!(date("2013-02-01T12:34:56").as_deref(), Some("2013-02-01"));
        assert_eq!(date("2013-02-01 X").as_deref(), Some("2013-02-01"));
        assert_eq!(date("-2013-02-01").as_deref(), Some("-2013-02-01"));
        assert_eq!(date("20130-02-01").as_deref(), Some("+20130-02-01"));
        assert_eq!(date("abc"), None);
        assert_eq!(date("2013-02-01X"), None);
        assert_eq!(date("2013-02-30"), None);
        assert_eq!(date("13-02-01"), None);
        assert_eq!(date(""), None);
    }

    #[test]
    fn timestamps_like_spark_cast() {
        assert_eq!(ts("2013-02-01").as_deref(), Some("2013-02-01 00:00:00"));
        assert_eq!(ts("2013-02-01 ").as_deref(), Some("2013-02-01 00:00:00"));
        assert_eq!(ts("2013-2-1 1:2:3").as_deref(), Some("2013-02-01 01:02:03"));
        assert_eq!(ts("2013-02-01T10:00:00Z").as_deref(), Some("2013-02-01 10:00:00"));
        assert_eq!(ts("2013-02-01T10:00:00+08:00").as_deref(), Some("2013-02-01 02:00:00"));
        assert_eq!(ts("2013-02-01 10:00:00 America/Los_Angeles").as_deref(), Some("2013-02-01 18:00:00"));
        assert_eq!(ts("2013-02-01 10:00:00 PST").as_deref(), Some("2013-02-01 18:00:00"));
        assert_eq!(ts("2013-02-01 10:00:00UTC+1").as_deref(), Some("2013-02-01 09:00:00"));
        assert_eq!(ts("2013-02-01 10:00:00.1234567").as_deref(), Some("2013-02-01 10:00:00.123456"));
        assert_eq!(ts("+2013-02").as_deref(), Some("2013-02-01 00:00:00"));
        assert_eq!(ts("2013").as_deref(), Some("2013-01-01 00:00:00"));
        assert!(ts("12:00:00").is_some());
        assert!(ts("T12:00:00").is_some());
        assert_eq!(ts("2013-02-01T"), None);
        assert_eq!(ts("abc"), None);
        assert_eq!(ts("2013-02-01 25:00:00"), None);
    }
}
