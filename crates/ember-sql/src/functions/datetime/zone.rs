//! Time zones as Spark (`java.time.ZoneId`) sees them: ids, offsets, the
//! local-time rules for DST gaps and overlaps, and zone names for `z`/`v`.

use std::str::FromStr;

use chrono::{Duration, LocalResult, NaiveDateTime, Offset, TimeZone};
use chrono_tz::{OffsetComponents, OffsetName, Tz};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Kind {
    /// A fixed offset in seconds east of UTC (`+08:00`, `GMT+5`, `Z`).
    Fixed(i32),
    /// A tz database region (`America/Los_Angeles`, `UTC`).
    Region(Tz),
}

/// A zone with its Java id (what `VV` prints).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Zone {
    id: String,
    kind: Kind,
}

/// Java's `ZoneId.SHORT_IDS`, which Spark accepts as zone ids.
const SHORT_IDS: &[(&str, &str)] = &[
    ("ACT", "Australia/Darwin"),
    ("AET", "Australia/Sydney"),
    ("AGT", "America/Argentina/Buenos_Aires"),
    ("ART", "Africa/Cairo"),
    ("AST", "America/Anchorage"),
    ("BET", "America/Sao_Paulo"),
    ("BST", "Asia/Dhaka"),
    ("CAT", "Africa/Harare"),
    ("CNT", "America/St_Johns"),
    ("CST", "America/Chicago"),
    ("CTT", "Asia/Shanghai"),
    ("EAT", "Africa/Addis_Ababa"),
    ("ECT", "Europe/Paris"),
    ("IET", "America/Indiana/Indianapolis"),
    ("IST", "Asia/Kolkata"),
    ("JST", "Asia/Tokyo"),
    ("MIT", "Pacific/Apia"),
    ("NET", "Asia/Yerevan"),
    ("NST", "Pacific/Auckland"),
    ("PLT", "Asia/Karachi"),
    ("PNT", "America/Phoenix"),
    ("PRT", "America/Puerto_Rico"),
    ("PST", "America/Los_Angeles"),
    ("SST", "Pacific/Guadalcanal"),
    ("VST", "Asia/Ho_Chi_Minh"),
    ("EST", "-05:00"),
    ("MST", "-07:00"),
    ("HST", "-10:00"),
];

/// tz database ids that Java's zone rules leave out (`ZoneId.of("EST")`
/// fails; Spark maps `EST` through `SHORT_IDS` instead).
const NOT_IN_JAVA: &[&str] = &["EST", "HST", "MST", "ROC", "GMT+0", "GMT-0"];

impl Zone {
    pub fn utc() -> Self {
        Self { id: "UTC".into(), kind: Kind::Region(Tz::UTC) }
    }

    pub fn fixed(seconds: i32) -> Self {
        Self { id: offset_id(seconds), kind: Kind::Fixed(seconds) }
    }

    pub fn id(&self) -> &str {
        &self.id
    }

    /// Spark's `getZoneId`: `+h:mm`/`+hh:m` are padded first, then Java's
    /// `ZoneId.of(id, SHORT_IDS)`.
    pub fn parse(s: &str) -> Option<Self> {
        let id = pad_single_digits(s);
        let id = SHORT_IDS.iter().find(|(k, _)| *k == id).map(|(_, v)| (*v).to_string()).unwrap_or(id);
        Self::of(&id)
    }

    /// Java's `ZoneId.of`.
    pub fn of(id: &str) -> Option<Self> {
        if id == "Z" {
            return Some(Self { id: "Z".into(), kind: Kind::Fixed(0) });
        }
        if id.starts_with('+') || id.starts_with('-') {
            return parse_offset_id(id).map(Self::fixed);
        }
        for prefix in ["UTC", "GMT", "UT"] {
            if id == prefix {
                let kind = match prefix {
                    "UTC" => Kind::Region(Tz::UTC),
                    "GMT" => Kind::Region(Tz::GMT),
                    _ => Kind::Fixed(0),
                };
                return Some(Self { id: id.to_string(), kind });
            }
            if let Some(rest) = id.strip_prefix(prefix)
                && (rest.starts_with('+') || rest.starts_with('-'))
            {
                let secs = parse_offset_id(rest)?;
                let id = if secs == 0 { prefix.to_string() } else { format!("{prefix}{}", offset_id(secs)) };
                return Some(Self { id, kind: Kind::Fixed(secs) });
            }
        }
        let valid = id.len() >= 2
            && id.starts_with(|c: char| c.is_ascii_alphabetic())
            && id.chars().all(|c| c.is_ascii_alphanumeric() || "~/._+-".contains(c));
        if !valid {
            return None;
        }
        if NOT_IN_JAVA.contains(&id) {
            return None;
        }
        Tz::from_str(id).ok().map(|tz| Self { id: id.to_string(), kind: Kind::Region(tz) })
    }

    /// The offset (seconds east of UTC) at an instant.
    pub fn offset_at(&self, utc: &NaiveDateTime) -> i32 {
        match &self.kind {
            Kind::Fixed(s) => *s,
            Kind::Region(tz) => tz.offset_from_utc_datetime(utc).fix().local_minus_utc(),
        }
    }

    /// The instant of a local date-time, as `ZonedDateTime.of` picks it: in
    /// an overlap the earlier offset, in a gap the local time moved later by
    /// the gap's length.
    pub fn local_to_utc(&self, local: &NaiveDateTime) -> Option<NaiveDateTime> {
        let secs = match &self.kind {
            Kind::Fixed(s) => *s,
            Kind::Region(tz) => match tz.offset_from_local_datetime(local) {
                LocalResult::Single(o) => o.fix().local_minus_utc(),
                LocalResult::Ambiguous(earlier, _) => earlier.fix().local_minus_utc(),
                LocalResult::None => {
                    // The offset before the gap is the smaller of the two
                    // around it (a gap is an offset moving forward).
                    let before = local.checked_sub_signed(Duration::days(1))?;
                    let after = local.checked_add_signed(Duration::days(1))?;
                    let a = tz.offset_from_utc_datetime(&before).fix().local_minus_utc();
                    let b = tz.offset_from_utc_datetime(&after).fix().local_minus_utc();
                    a.min(b)
                }
            },
        };
        local.checked_sub_signed(Duration::seconds(i64::from(secs)))
    }

    /// `z`: the short zone name.
    pub fn short_name(&self, utc: &NaiveDateTime) -> String {
        match &self.kind {
            Kind::Fixed(_) => self.id.clone(),
            Kind::Region(tz) => {
                let dst = is_dst(tz, utc);
                if let Some(n) = names(&self.id)
                    && let Some(short) = if dst { n.dst_short } else { n.std_short }
                {
                    return short.to_string();
                }
                let off = tz.offset_from_utc_datetime(utc);
                off.abbreviation().map(str::to_string).unwrap_or_else(|| self.id.clone())
            }
        }
    }

    /// `zzzz`: the full zone name, where ember knows it.
    pub fn full_name(&self, utc: &NaiveDateTime) -> Option<String> {
        match &self.kind {
            Kind::Fixed(_) => Some(self.id.clone()),
            Kind::Region(tz) => {
                let n = names(&self.id)?;
                Some(if is_dst(tz, utc) { n.dst_full } else { n.std_full }.to_string())
            }
        }
    }

    /// `v`/`vvvv`: the generic zone name, where ember knows it.
    pub fn generic_name(&self, full: bool) -> Option<String> {
        match &self.kind {
            Kind::Fixed(_) => Some(self.id.clone()),
            Kind::Region(_) => {
                let n = names(&self.id)?;
                if full { n.generic_full } else { n.generic_short }.map(str::to_string)
            }
        }
    }
}

fn is_dst(tz: &Tz, utc: &NaiveDateTime) -> bool {
    !tz.offset_from_utc_datetime(utc).dst_offset().is_zero()
}

/// Java's `ZoneOffset.getId()`: `Z`, `+08:00`, `-03:30:15`.
pub fn offset_id(seconds: i32) -> String {
    if seconds == 0 {
        return "Z".into();
    }
    let sign = if seconds < 0 { '-' } else { '+' };
    let abs = seconds.unsigned_abs();
    let (h, m, s) = (abs / 3600, abs / 60 % 60, abs % 60);
    if s == 0 { format!("{sign}{h:02}:{m:02}") } else { format!("{sign}{h:02}:{m:02}:{s:02}") }
}

/// Java's `ZoneOffset.of`: `+h`, `+hh`, `+hh:mm`, `+hhmm`, `+hh:mm:ss`,
/// `+hhmmss`, within ±18:00.
pub fn parse_offset_id(id: &str) -> Option<i32> {
    let b = id.as_bytes();
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let two = |pos: usize| -> Option<i32> {
        let (a, c) = (*b.get(pos)?, *b.get(pos + 1)?);
        (a.is_ascii_digit() && c.is_ascii_digit()).then(|| i32::from(a - b'0') * 10 + i32::from(c - b'0'))
    };
    let colon = |pos: usize| b.get(pos) == Some(&b':');
    let (h, m, s) = match b.len() {
        2 => {
            let d = *b.get(1)?;
            if !d.is_ascii_digit() {
                return None;
            }
            (i32::from(d - b'0'), 0, 0)
        }
        3 => (two(1)?, 0, 0),
        5 => (two(1)?, two(3)?, 0),
        6 if colon(3) => (two(1)?, two(4)?, 0),
        7 => (two(1)?, two(3)?, two(5)?),
        9 if colon(3) && colon(6) => (two(1)?, two(4)?, two(7)?),
        _ => return None,
    };
    if h > 18 || m > 59 || s > 59 {
        return None;
    }
    let total = h * 3600 + m * 60 + s;
    (total <= 18 * 3600).then_some(sign * total)
}

/// Spark's pre-3.0 offset forms: `+h:mm` → `+0h:mm`, `+hh:m` → `+hh:0m`.
fn pad_single_digits(s: &str) -> String {
    let mut out = s.to_string();
    let b = out.as_bytes();
    if let Some(i) = (0..b.len().saturating_sub(2))
        .find(|&i| matches!(b[i], b'+' | b'-') && b[i + 1].is_ascii_digit() && b[i + 2] == b':')
    {
        out.insert(i + 1, '0');
    }
    let b = out.as_bytes();
    let n = b.len();
    if n >= 5
        && matches!(b[n - 5], b'+' | b'-')
        && b[n - 4].is_ascii_digit()
        && b[n - 3].is_ascii_digit()
        && b[n - 2] == b':'
        && b[n - 1].is_ascii_digit()
    {
        out.insert(n - 1, '0');
    }
    out
}

struct Names {
    std_short: Option<&'static str>,
    dst_short: Option<&'static str>,
    std_full: &'static str,
    dst_full: &'static str,
    generic_short: Option<&'static str>,
    generic_full: Option<&'static str>,
}

/// Java's (CLDR, Locale.US) names for common zones.
fn names(id: &str) -> Option<Names> {
    // Java prints these names for any date, where the tz database has
    // historical abbreviations (`LMT`).
    let us =
        |short: [&'static str; 2], std: &'static str, dst: &'static str, gs: &'static str, gf: &'static str| Names {
            std_short: Some(short[0]),
            dst_short: Some(short[1]),
            std_full: std,
            dst_full: dst,
            generic_short: Some(gs),
            generic_full: Some(gf),
        };
    let same = |short: Option<&'static str>, full: &'static str, generic: Option<&'static str>| Names {
        std_short: short,
        dst_short: short,
        std_full: full,
        dst_full: full,
        generic_short: generic,
        generic_full: None,
    };
    Some(match id {
        "America/Los_Angeles" | "US/Pacific" | "PST8PDT" => {
            us(["PST", "PDT"], "Pacific Standard Time", "Pacific Daylight Time", "PT", "Pacific Time")
        }
        "America/Denver" | "US/Mountain" | "MST7MDT" => {
            us(["MST", "MDT"], "Mountain Standard Time", "Mountain Daylight Time", "MT", "Mountain Time")
        }
        "America/Phoenix" => {
            us(["MST", "MDT"], "Mountain Standard Time", "Mountain Daylight Time", "MT", "Mountain Time")
        }
        "America/Chicago" | "US/Central" | "CST6CDT" => {
            us(["CST", "CDT"], "Central Standard Time", "Central Daylight Time", "CT", "Central Time")
        }
        "America/New_York" | "US/Eastern" | "EST5EDT" => {
            us(["EST", "EDT"], "Eastern Standard Time", "Eastern Daylight Time", "ET", "Eastern Time")
        }
        "America/Anchorage" => {
            us(["AKST", "AKDT"], "Alaska Standard Time", "Alaska Daylight Time", "AKT", "Alaska Time")
        }
        "Pacific/Honolulu" => Names {
            std_short: Some("HST"),
            dst_short: Some("HDT"),
            std_full: "Hawaii-Aleutian Standard Time",
            dst_full: "Hawaii-Aleutian Daylight Time",
            generic_short: Some("HST"),
            generic_full: Some("Hawaii-Aleutian Time"),
        },
        "UTC" | "Etc/UTC" | "Etc/UCT" | "UCT" | "Universal" | "Zulu" | "Etc/Universal" | "Etc/Zulu" => Names {
            std_short: Some("UTC"),
            dst_short: Some("UTC"),
            std_full: "Coordinated Universal Time",
            dst_full: "Coordinated Universal Time",
            generic_short: Some("UTC"),
            generic_full: Some("Coordinated Universal Time"),
        },
        "GMT" | "Etc/GMT" | "Etc/Greenwich" | "Greenwich" | "GMT0" | "Etc/GMT0" | "Etc/GMT+0" | "Etc/GMT-0" => Names {
            std_short: Some("GMT"),
            dst_short: Some("GMT"),
            std_full: "Greenwich Mean Time",
            dst_full: "Greenwich Mean Time",
            generic_short: Some("GMT"),
            generic_full: Some("Greenwich Mean Time"),
        },
        "Europe/London" => Names {
            std_short: Some("GMT"),
            dst_short: Some("BST"),
            std_full: "Greenwich Mean Time",
            dst_full: "British Summer Time",
            generic_short: None,
            generic_full: None,
        },
        "Europe/Paris" | "Europe/Berlin" | "Europe/Madrid" | "Europe/Rome" | "Europe/Amsterdam" | "Europe/Brussels"
        | "Europe/Vienna" | "Europe/Zurich" | "Europe/Stockholm" | "Europe/Oslo" | "Europe/Copenhagen"
        | "Europe/Warsaw" | "Europe/Prague" | "Europe/Budapest" | "CET" => Names {
            std_short: Some("CET"),
            dst_short: Some("CEST"),
            std_full: "Central European Standard Time",
            dst_full: "Central European Summer Time",
            generic_short: Some("CET"),
            generic_full: Some("Central European Time"),
        },
        "Asia/Kolkata" | "Asia/Calcutta" => same(Some("IST"), "India Standard Time", Some("IT")),
        "Asia/Tokyo" => same(Some("JST"), "Japan Standard Time", None),
        "Asia/Shanghai" => same(Some("CST"), "China Standard Time", None),
        "Asia/Singapore" => same(Some("SGT"), "Singapore Standard Time", Some("SGT")),
        "Australia/Sydney" => Names {
            std_short: Some("AEST"),
            dst_short: Some("AEDT"),
            std_full: "Australian Eastern Standard Time",
            dst_full: "Australian Eastern Daylight Time",
            generic_short: None,
            generic_full: None,
        },
        _ => return None,
    })
}

/// Zone names Java's `z` parser takes (Locale.US), by the zone they stand
/// for. Parsed names give the zone, whose rules then pick the offset (as
/// in Java: `PST` in July parses as daylight time).
pub const ZONE_NAME_IDS: &[(&str, &str)] = &[
    ("Pacific Standard Time", "America/Los_Angeles"),
    ("Pacific Daylight Time", "America/Los_Angeles"),
    ("Mountain Standard Time", "America/Denver"),
    ("Mountain Daylight Time", "America/Denver"),
    ("Central Standard Time", "America/Chicago"),
    ("Central Daylight Time", "America/Chicago"),
    ("Eastern Standard Time", "America/New_York"),
    ("Eastern Daylight Time", "America/New_York"),
    ("Coordinated Universal Time", "UTC"),
    ("Greenwich Mean Time", "GMT"),
    ("Central European Standard Time", "Europe/Paris"),
    ("Central European Summer Time", "Europe/Paris"),
    ("India Standard Time", "Asia/Kolkata"),
    ("Japan Standard Time", "Asia/Tokyo"),
    ("China Standard Time", "Asia/Shanghai"),
    ("AKST", "America/Anchorage"),
    ("AKDT", "America/Anchorage"),
    ("AEST", "Australia/Sydney"),
    ("AEDT", "Australia/Sydney"),
    ("CEST", "Europe/Paris"),
    ("EEST", "Europe/Athens"),
    ("WEST", "Europe/Lisbon"),
    ("PST", "America/Los_Angeles"),
    ("PDT", "America/Los_Angeles"),
    ("MST", "America/Denver"),
    ("MDT", "America/Denver"),
    ("CST", "America/Chicago"),
    ("CDT", "America/Chicago"),
    ("EST", "America/New_York"),
    ("EDT", "America/New_York"),
    ("HST", "Pacific/Honolulu"),
    ("UTC", "UTC"),
    ("GMT", "GMT"),
    ("CET", "Europe/Paris"),
    ("EET", "Europe/Athens"),
    ("WET", "Europe/Lisbon"),
    ("BST", "Europe/London"),
    ("IST", "Asia/Kolkata"),
    ("JST", "Asia/Tokyo"),
    ("SGT", "Asia/Singapore"),
    ("HKT", "Asia/Hong_Kong"),
    ("KST", "Asia/Seoul"),
];

/// All tz database ids, longest first (for prefix matching when parsing).
pub fn region_ids_longest_first() -> &'static [&'static str] {
    static IDS: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    IDS.get_or_init(|| {
        let mut v: Vec<&'static str> = chrono_tz::TZ_VARIANTS.iter().map(|t| t.name()).collect();
        v.retain(|id| !NOT_IN_JAVA.contains(id));
        v.sort_by_key(|s| std::cmp::Reverse(s.len()));
        v
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn ndt(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d).unwrap().and_hms_opt(h, mi, 0).unwrap()
    }

    #[test]
    fn parses_spark_zone_ids() {
        assert_eq!(Zone::parse("+8:00").unwrap().id(), "+08:00");
        assert_eq!(Zone::parse("+08:5").unwrap().id(), "+08:05");
        assert_eq!(Zone::parse("+8").unwrap().id(), "+08:00");
        assert_eq!(Zone::parse("-0530").unwrap().id(), "-05:30");
        assert_eq!(Zone::parse("PST").unwrap().id(), "America/Los_Angeles");
        assert_eq!(Zone::parse("EST").unwrap().id(), "-05:00");
        assert_eq!(Zone::parse("GMT+5").unwrap().id(), "GMT+05:00");
        assert_eq!(Zone::parse("UTC+0").unwrap().id(), "UTC");
        assert_eq!(Zone::parse("Europe/Paris").unwrap().id(), "Europe/Paris");
        assert!(Zone::parse("Mars/Olympus").is_none());
        assert!(Zone::parse("+19:00").is_none());
        assert!(Zone::parse("europe/paris").is_none());
    }

    #[test]
    fn gap_and_overlap_follow_java() {
        let la = Zone::parse("America/Los_Angeles").unwrap();
        // 02:30 on 2013-03-10 does not exist: it becomes 03:30 PDT (10:30Z).
        assert_eq!(la.local_to_utc(&ndt(2013, 3, 10, 2, 30)).unwrap(), ndt(2013, 3, 10, 10, 30));
        // 01:30 on 2013-11-03 happens twice: the earlier (PDT) one wins.
        assert_eq!(la.local_to_utc(&ndt(2013, 11, 3, 1, 30)).unwrap(), ndt(2013, 11, 3, 8, 30));
    }

    #[test]
    fn names() {
        let la = Zone::parse("America/Los_Angeles").unwrap();
        assert_eq!(la.short_name(&ndt(2013, 7, 1, 0, 0)), "PDT");
        assert_eq!(la.full_name(&ndt(2013, 1, 1, 0, 0)).unwrap(), "Pacific Standard Time");
        assert_eq!(Zone::parse("+08:00").unwrap().short_name(&ndt(2013, 1, 1, 0, 0)), "+08:00");
        assert_eq!(Zone::utc().short_name(&ndt(2013, 1, 1, 0, 0)), "UTC");
    }
}

impl Zone {
    /// The id Arrow's time zones take for this zone: a tz database name or
    /// a `±hh:mm` offset.
    pub fn arrow_id(&self) -> String {
        match &self.kind {
            Kind::Region(tz) => tz.name().to_string(),
            Kind::Fixed(0) => "+00:00".into(),
            Kind::Fixed(s) => offset_id(*s),
        }
    }
}
