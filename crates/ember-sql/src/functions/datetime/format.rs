//! Formatting an instant with a [`DateTimePattern`], as Java's
//! `DateTimeFormatter` (Locale.US) prints each field.

use std::fmt::Write;

use chrono::{Datelike, Duration, NaiveDateTime, Timelike};
use datafusion::common::{DataFusionError, Result};

use super::pattern::{DateTimePattern, Field, HourKind, Item, OffsetStyle, TextStyle};
use super::zone::Zone;
use super::{micros_to_utc, overflow};

const MONTHS: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];
const DAYS: [&str; 7] = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"];
const QUARTERS: [&str; 4] = ["1st quarter", "2nd quarter", "3rd quarter", "4th quarter"];

/// Days from 1970-01-01 to the modified Julian day epoch (1858-11-17).
const MJD_EPOCH_OFFSET: i64 = 40587;

/// What one instant looks like in a zone.
struct Moment<'a> {
    local: NaiveDateTime,
    utc: NaiveDateTime,
    offset: i32,
    zone: &'a Zone,
}

/// Formats `micros` (since the epoch, UTC) in `zone`, appending to `out`.
pub fn format_micros(p: &DateTimePattern, micros: i64, zone: &Zone, out: &mut String) -> Result<()> {
    let utc = micros_to_utc(micros).ok_or_else(overflow)?;
    let offset = zone.offset_at(&utc);
    let local = utc.checked_add_signed(Duration::seconds(i64::from(offset))).ok_or_else(overflow)?;
    format_items(&p.items, &Moment { local, utc, offset, zone }, out)
}

fn format_items(items: &[Item], m: &Moment<'_>, out: &mut String) -> Result<()> {
    for item in items {
        match item {
            Item::Literal(s) => out.push_str(s),
            Item::Optional(inner) => format_items(inner, m, out)?,
            Item::Field(f) => format_field(f, m, out)?,
        }
    }
    Ok(())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Sign {
    /// `-` for negatives only.
    Normal,
    /// `+` too once the value is wider than the minimum width.
    ExceedsPad,
}

/// Java's `NumberPrinterParser.format`: sign, then zero padding to `width`.
fn push_number(out: &mut String, value: i64, width: usize, sign: Sign) {
    let digits = value.unsigned_abs().to_string();
    if value < 0 {
        out.push('-');
    } else if sign == Sign::ExceedsPad && digits.len() > width {
        out.push('+');
    }
    for _ in digits.len()..width {
        out.push('0');
    }
    out.push_str(&digits);
}

fn format_field(f: &Field, m: &Moment<'_>, out: &mut String) -> Result<()> {
    let d = m.local.date();
    let t = m.local.time();
    let year = i64::from(d.year());
    match *f {
        Field::Era(style) => out.push_str(match (year >= 1, style) {
            (true, TextStyle::Short) => "AD",
            (false, TextStyle::Short) => "BC",
            (true, TextStyle::Full) => "Anno Domini",
            (false, TextStyle::Full) => "Before Christ",
        }),
        Field::Year { count, of_era } => {
            let v = if of_era && year < 1 { 1 - year } else { year };
            match count {
                2 => push_number(out, v.abs() % 100, 2, Sign::Normal),
                1 | 3 => push_number(out, v, usize::from(count), Sign::Normal),
                _ => push_number(out, v, usize::from(count), Sign::ExceedsPad),
            }
        }
        Field::Quarter { count } => {
            let q = d.month0() / 3;
            match count {
                1 | 2 => push_number(out, i64::from(q + 1), usize::from(count), Sign::Normal),
                3 => {
                    let _ = write!(out, "Q{}", q + 1);
                }
                _ => out.push_str(QUARTERS[q as usize]),
            }
        }
        Field::Month { count } => match count {
            1 | 2 => push_number(out, i64::from(d.month()), usize::from(count), Sign::Normal),
            3 => out.push_str(&MONTHS[d.month0() as usize][..3]),
            _ => out.push_str(MONTHS[d.month0() as usize]),
        },
        Field::DayOfMonth { count } => push_number(out, i64::from(d.day()), usize::from(count), Sign::Normal),
        Field::DayOfYear { count } => push_number(out, i64::from(d.ordinal()), usize::from(count), Sign::Normal),
        Field::ModifiedJulianDay { count } => {
            let epoch_day = i64::from(d.num_days_from_ce()) - 719_163;
            push_number(out, epoch_day + MJD_EPOCH_OFFSET, usize::from(count), Sign::Normal)
        }
        Field::DayOfWeek(style) => {
            let name = DAYS[d.weekday().num_days_from_monday() as usize];
            out.push_str(if style == TextStyle::Full { name } else { &name[..3] });
        }
        Field::AlignedDayOfWeekInMonth => push_number(out, i64::from(d.day0() % 7 + 1), 1, Sign::Normal),
        Field::AmPm => out.push_str(if t.hour() < 12 { "AM" } else { "PM" }),
        Field::Hour { kind, count } => {
            let h = t.hour();
            let v = match kind {
                HourKind::HourOfDay => h,
                HourKind::ClockHourOfDay => {
                    if h == 0 {
                        24
                    } else {
                        h
                    }
                }
                HourKind::HourOfAmPm => h % 12,
                HourKind::ClockHourOfAmPm => {
                    if h.is_multiple_of(12) {
                        12
                    } else {
                        h % 12
                    }
                }
            };
            push_number(out, i64::from(v), usize::from(count), Sign::Normal)
        }
        Field::Minute { count } => push_number(out, i64::from(t.minute()), usize::from(count), Sign::Normal),
        Field::Second { count } => push_number(out, i64::from(t.second()), usize::from(count), Sign::Normal),
        Field::Fraction { count } => {
            let nanos = i64::from(t.nanosecond() % 1_000_000_000);
            let v = nanos / 10_i64.pow(9 - u32::from(count));
            push_number(out, v, usize::from(count), Sign::Normal)
        }
        Field::ZoneId => out.push_str(m.zone.id()),
        Field::ZoneName(TextStyle::Short) => out.push_str(&m.zone.short_name(&m.utc)),
        Field::ZoneName(TextStyle::Full) => {
            let name = m.zone.full_name(&m.utc).ok_or_else(|| unsupported_name("zzzz", m.zone))?;
            out.push_str(&name);
        }
        Field::GenericZoneName(style) => {
            let full = style == TextStyle::Full;
            let name =
                m.zone.generic_name(full).ok_or_else(|| unsupported_name(if full { "vvvv" } else { "v" }, m.zone))?;
            out.push_str(&name);
        }
        Field::LocalizedOffset(style) => push_localized_offset(out, m.offset, style),
        Field::Offset { style, zero } => push_offset(out, m.offset, style, zero),
    }
    Ok(())
}

fn unsupported_name(letters: &str, zone: &Zone) -> DataFusionError {
    DataFusionError::NotImplemented(format!(
        "the datetime pattern '{letters}' (zone name) for the time zone '{}' is not supported by ember",
        zone.id()
    ))
}

/// Java's `OffsetIdPrinterParser.format`.
fn push_offset(out: &mut String, secs: i32, style: OffsetStyle, zero: &str) {
    if secs == 0 {
        out.push_str(zero);
        return;
    }
    let abs = secs.unsigned_abs();
    let (h, mi, s) = ((abs / 3600) % 100, abs / 60 % 60, abs % 60);
    let t = style.0;
    let colon = if style.colon() { ":" } else { "" };
    out.push(if secs < 0 { '-' } else { '+' });
    let _ = write!(out, "{h:02}");
    if (3..=8).contains(&t) || (t >= 9 && s > 0) || (t >= 1 && mi > 0) {
        let _ = write!(out, "{colon}{mi:02}");
        if t == 7 || t == 8 || (t >= 5 && s > 0) {
            let _ = write!(out, "{colon}{s:02}");
        }
    }
}

/// Java's `LocalizedOffsetIdPrinterParser.format`: `GMT`, `GMT+8`,
/// `GMT+08:00`.
fn push_localized_offset(out: &mut String, secs: i32, style: TextStyle) {
    out.push_str("GMT");
    if secs == 0 {
        return;
    }
    let abs = secs.unsigned_abs();
    let (h, mi, s) = ((abs / 3600) % 100, abs / 60 % 60, abs % 60);
    out.push(if secs < 0 { '-' } else { '+' });
    match style {
        TextStyle::Full => {
            let _ = write!(out, "{h:02}:{mi:02}");
            if s != 0 {
                let _ = write!(out, ":{s:02}");
            }
        }
        TextStyle::Short => {
            let _ = write!(out, "{h}");
            if mi != 0 || s != 0 {
                let _ = write!(out, ":{mi:02}");
                if s != 0 {
                    let _ = write!(out, ":{s:02}");
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::super::pattern::Mode;
    use super::*;
    use chrono::NaiveDate;

    fn micros(y: i32, mo: u32, d: u32, h: u32, mi: u32, s: u32, us: u32) -> i64 {
        NaiveDate::from_ymd_opt(y, mo, d).unwrap().and_hms_micro_opt(h, mi, s, us).unwrap().and_utc().timestamp_micros()
    }

    fn fmt_in(p: &str, us: i64, zone: &str) -> String {
        let p = DateTimePattern::compile(p, Mode::Format).unwrap();
        let mut out = String::new();
        format_micros(&p, us, &Zone::parse(zone).unwrap(), &mut out).unwrap();
        out
    }

    fn fmt(p: &str, us: i64) -> String {
        fmt_in(p, us, "UTC")
    }

    #[test]
    fn formats_like_spark() {
        // Expected strings are Spark 4.2's output (session time zone UTC).
        let ts = micros(2013, 2, 1, 13, 4, 5, 123_456);
        assert_eq!(fmt("EEE, MMM d yyyy", micros(2013, 2, 1, 0, 0, 0, 0)), "Fri, Feb 1 2013");
        assert_eq!(fmt("yyyy-MM-dd HH:mm:ss.SSS a hh h H K k", ts), "2013-02-01 13:04:05.123 PM 01 1 13 1 13");
        assert_eq!(
            fmt("EEEE MMMM d D DDD QQQ QQQQ Q G GGGG", ts),
            "Friday February 1 32 032 Q1 1st quarter 1 AD Anno Domini"
        );
        assert_eq!(fmt("y yy yyy yyyy yyyyy yyyyyy", ts), "2013 13 2013 2013 02013 002013");
        assert_eq!(fmt("S SS SSSS SSSSSS SSSSSSS SSSSSSSSS", ts), "1 12 1234 123456 1234560 123456000");
        assert_eq!(
            fmt("XXX X XX Z ZZZZ ZZZZZ x xx xxx O OOOO z zzzz VV", ts),
            "Z Z Z +0000 GMT Z +00 +0000 +00:00 GMT GMT UTC Coordinated Universal Time UTC"
        );
        assert_eq!(fmt("LLLL LLL LL L qqqq qqq qq q", ts), "February Feb 02 2 1st quarter Q1 01 1");
        assert_eq!(fmt("'it''s' yyyy", ts), "it's 2013");
        assert_eq!(fmt("[yyyy]['T']", ts), "2013T");
        assert_eq!(fmt("yyyy年MM月dd日", ts), "2013年02月01日");
        assert_eq!(fmt("F d", micros(2013, 2, 10, 0, 0, 0, 0)), "3 10");
        assert_eq!(fmt("g", ts), "56324");
        assert_eq!(fmt("h K k H a", micros(2013, 2, 1, 0, 4, 5, 0)), "12 0 24 0 AM");
        assert_eq!(fmt("h K k H a", micros(2013, 2, 1, 12, 4, 5, 0)), "12 0 12 12 PM");
    }

    #[test]
    fn negative_and_large_years() {
        let bc = micros(-44, 3, 15, 12, 0, 0, 0);
        assert_eq!(fmt("y yy yyyy G", bc), "45 45 0045 BC");
        assert_eq!(fmt("y yy yyyy", bc), "-44 44 -0044");
        assert_eq!(fmt("y yyyy G", micros(0, 3, 15, 0, 0, 0, 0)), "1 0001 BC");
        assert_eq!(fmt("yyyy-MM-dd", micros(12345, 1, 1, 0, 0, 0, 0)), "+12345-01-01");
    }

    #[test]
    fn zones() {
        let summer = micros(2013, 7, 1, 17, 0, 0, 0);
        assert_eq!(
            fmt_in("z zzzz VV XXX O OOOO v vvvv ZZZZ x", summer, "America/Los_Angeles"),
            "PDT Pacific Daylight Time America/Los_Angeles -07:00 GMT-7 GMT-07:00 PT Pacific Time GMT-07:00 -07"
        );
        assert_eq!(
            fmt_in("z zzzz VV XXX O OOOO v ZZZZ x", summer, "+08:00"),
            "+08:00 +08:00 +08:00 +08:00 GMT+8 GMT+08:00 +08:00 GMT+08:00 +08"
        );
        assert_eq!(
            fmt_in("z zzzz VV XXX O OOOO v ZZZZ x", summer, "Asia/Kolkata"),
            "IST India Standard Time Asia/Kolkata +05:30 GMT+5:30 GMT+05:30 IT GMT+05:30 +0530"
        );
        assert_eq!(fmt_in("z VV XXX", summer, "GMT+5"), "GMT+05:00 GMT+05:00 +05:00");
        assert_eq!(fmt_in("yyyy-MM-dd HH:mm:ss z", 0, "America/Los_Angeles"), "1969-12-31 16:00:00 PST");
        // Java's CLDR name, not the tz database's historical `LMT`.
        assert_eq!(fmt_in("z", micros(1, 1, 1, 0, 0, 0, 0), "America/Los_Angeles"), "PST");
    }
}
