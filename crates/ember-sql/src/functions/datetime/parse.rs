//! Parsing strings with a [`DateTimePattern`] as Spark 4 does: Java's
//! `DateTimeFormatter` (case-insensitive, STRICT resolver, ISO chronology,
//! Spark's variable-width `S` fractions) followed by Spark's defaults for
//! missing fields (year 1970, January, day 1, midnight).
//!
//! Number fields follow `NumberPrinterParser`: one letter reads one or more
//! digits (`d` takes `1` and `01`), two letters exactly two; `yyyy` reads four
//! or more digits (more only with a `+`), `yy` exactly two (2000-2099).
//! Adjacent number fields with no literal between them reserve their widths
//! (`yyyyMMdd`), as Java's adjacent value parsing does.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, Timelike};

use super::pattern::{DateTimePattern, Field, HourKind, Item, Mode, OffsetStyle, TextStyle};
use super::zone::{self, Zone};

/// Why a string did not parse.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ParseFailure {
    /// Spark's `CANNOT_PARSE_TIMESTAMP`, with Java's message
    /// (`Text '...' could not be parsed at index 0`).
    Invalid(String),
    /// The value is outside the range ember can represent.
    Overflow,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PField {
    Era,
    YearOfEra,
    Year,
    Month,
    DayOfMonth,
    DayOfYear,
    ModifiedJulianDay,
    AmPm,
    HourOfDay,
    ClockHourOfDay,
    HourOfAmPm,
    ClockHourOfAmPm,
    Minute,
    Second,
    Nano,
    Offset,
}

const NFIELDS: usize = 16;
const DATE_FIELDS: [PField; 7] = [
    PField::Era,
    PField::YearOfEra,
    PField::Year,
    PField::Month,
    PField::DayOfMonth,
    PField::DayOfYear,
    PField::ModifiedJulianDay,
];
const TIME_FIELDS: [PField; 8] = [
    PField::AmPm,
    PField::HourOfDay,
    PField::ClockHourOfDay,
    PField::HourOfAmPm,
    PField::ClockHourOfAmPm,
    PField::Minute,
    PField::Second,
    PField::Nano,
];

impl PField {
    /// Java's `ChronoField.toString()`.
    fn name(self) -> &'static str {
        match self {
            Self::Era => "Era",
            Self::YearOfEra => "YearOfEra",
            Self::Year => "Year",
            Self::Month => "MonthOfYear",
            Self::DayOfMonth => "DayOfMonth",
            Self::DayOfYear => "DayOfYear",
            Self::ModifiedJulianDay => "ModifiedJulianDay",
            Self::AmPm => "AmPmOfDay",
            Self::HourOfDay => "HourOfDay",
            Self::ClockHourOfDay => "ClockHourOfDay",
            Self::HourOfAmPm => "HourOfAmPm",
            Self::ClockHourOfAmPm => "ClockHourOfAmPm",
            Self::Minute => "MinuteOfHour",
            Self::Second => "SecondOfMinute",
            Self::Nano => "NanoOfSecond",
            Self::Offset => "OffsetSeconds",
        }
    }

    /// The valid range and how Java prints it.
    fn range(self) -> (i64, i64, &'static str) {
        match self {
            Self::Era => (0, 1, "0 - 1"),
            Self::YearOfEra => (1, 1_000_000_000, "1 - 999999999/1000000000"),
            Self::Year => (-999_999_999, 999_999_999, "-999999999 - 999999999"),
            Self::Month => (1, 12, "1 - 12"),
            Self::DayOfMonth => (1, 31, "1 - 28/31"),
            Self::DayOfYear => (1, 366, "1 - 365/366"),
            Self::ModifiedJulianDay => (-365_243_219_162, 365_241_780_471, "-365243219162 - 365241780471"),
            Self::AmPm => (0, 1, "0 - 1"),
            Self::HourOfDay => (0, 23, "0 - 23"),
            Self::ClockHourOfDay => (1, 24, "1 - 24"),
            Self::HourOfAmPm => (0, 11, "0 - 11"),
            Self::ClockHourOfAmPm => (1, 12, "1 - 12"),
            Self::Minute => (0, 59, "0 - 59"),
            Self::Second => (0, 59, "0 - 59"),
            Self::Nano => (0, 999_999_999, "0 - 999999999"),
            Self::Offset => (-64800, 64800, "-64800 - 64800"),
        }
    }

    /// Java's `checkValidValue`.
    fn check(self, v: i64) -> Result<i64, String> {
        let (lo, hi, text) = self.range();
        if (lo..=hi).contains(&v) {
            Ok(v)
        } else {
            Err(format!("Invalid value for {} (valid values {text}): {v}", self.name()))
        }
    }

    /// The field's value in a resolved date or time (Java's `getLong`).
    fn derived(self, date: Option<&NaiveDate>, time: Option<&NaiveTime>) -> Option<i64> {
        if let Some(d) = date {
            let y = i64::from(d.year());
            let v = match self {
                Self::Era => i64::from(y >= 1),
                Self::YearOfEra => {
                    if y >= 1 {
                        y
                    } else {
                        1 - y
                    }
                }
                Self::Year => y,
                Self::Month => i64::from(d.month()),
                Self::DayOfMonth => i64::from(d.day()),
                Self::DayOfYear => i64::from(d.ordinal()),
                Self::ModifiedJulianDay => epoch_day(d) + MJD_EPOCH_OFFSET,
                _ => return None,
            };
            return Some(v);
        }
        let t = time?;
        let h = i64::from(t.hour());
        Some(match self {
            Self::AmPm => h / 12,
            Self::HourOfDay => h,
            Self::ClockHourOfDay => {
                if h == 0 {
                    24
                } else {
                    h
                }
            }
            Self::HourOfAmPm => h % 12,
            Self::ClockHourOfAmPm => {
                if h % 12 == 0 {
                    12
                } else {
                    h % 12
                }
            }
            Self::Minute => i64::from(t.minute()),
            Self::Second => i64::from(t.second()),
            Self::Nano => i64::from(t.nanosecond()),
            _ => return None,
        })
    }
}

const MJD_EPOCH_OFFSET: i64 = 40587;
/// A date outside what ember (chrono) represents.
const OVERFLOW: &str = "long overflow";
const UNIX_EPOCH_CE_DAYS: i64 = 719_163;

fn epoch_day(d: &NaiveDate) -> i64 {
    i64::from(d.num_days_from_ce()) - UNIX_EPOCH_CE_DAYS
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SignStyle {
    Normal,
    NotNegative,
    ExceedsPad,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct NumSpec {
    field: PField,
    min: usize,
    max: usize,
    sign: SignStyle,
    /// Digits reserved for the fixed-width fields right after this one;
    /// -1 once a variable-width field follows (Java's `withFixedWidth`).
    subsequent: i32,
    /// `yy`: two digits on the base year 2000.
    reduced: bool,
}

impl NumSpec {
    fn is_fixed(&self) -> bool {
        self.min == self.max && self.sign == SignStyle::NotNegative
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PItem {
    Literal(Vec<char>),
    Number(NumSpec),
    Fraction { min: usize, max: usize },
    Text { field: PField, options: &'static [(&'static str, i64)] },
    Offset { style: OffsetStyle, zero: &'static str },
    LocalizedOffset(TextStyle),
    Zone { names: bool },
    Optional(Vec<PItem>),
}

const MONTHS_SHORT: &[(&str, i64)] = &[
    ("Jan", 1),
    ("Feb", 2),
    ("Mar", 3),
    ("Apr", 4),
    ("May", 5),
    ("Jun", 6),
    ("Jul", 7),
    ("Aug", 8),
    ("Sep", 9),
    ("Oct", 10),
    ("Nov", 11),
    ("Dec", 12),
];
const MONTHS_FULL: &[(&str, i64)] = &[
    ("January", 1),
    ("February", 2),
    ("March", 3),
    ("April", 4),
    ("May", 5),
    ("June", 6),
    ("July", 7),
    ("August", 8),
    ("September", 9),
    ("October", 10),
    ("November", 11),
    ("December", 12),
];
const AM_PM: &[(&str, i64)] = &[("AM", 0), ("PM", 1)];
const ERA_SHORT: &[(&str, i64)] = &[("AD", 1), ("BC", 0)];
const ERA_FULL: &[(&str, i64)] = &[("Anno Domini", 1), ("Before Christ", 0)];

/// A pattern compiled for parsing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parser {
    items: Vec<PItem>,
}

impl Parser {
    /// Compiles a pattern checked for [`Mode::Parse`].
    pub fn new(p: &DateTimePattern) -> Self {
        debug_assert_eq!(p.mode, Mode::Parse);
        Self { items: compile(&p.items) }
    }

    /// Parses `text` to microseconds since the epoch; fields without a zone
    /// are read in `session`.
    pub fn parse_micros(&self, text: &str, session: &Zone) -> Result<i64, ParseFailure> {
        let chars: Vec<char> = text.chars().collect();
        let mut parsed = Parsed::default();
        let end = match parse_seq(&self.items, &chars, 0, &mut parsed) {
            Ok(end) => end,
            Err(at) => {
                return Err(ParseFailure::Invalid(format!(
                    "Text '{}' could not be parsed at index {at}",
                    abbreviate(&chars)
                )));
            }
        };
        if end < chars.len() {
            return Err(ParseFailure::Invalid(format!(
                "Text '{}' could not be parsed, unparsed text found at index {end}",
                abbreviate(&chars)
            )));
        }
        let in_parse = |m: String| {
            if m == OVERFLOW {
                ParseFailure::Overflow
            } else {
                ParseFailure::Invalid(format!("Text '{}' could not be parsed: {m}", abbreviate(&chars)))
            }
        };
        // Spark's own defaults raise Java's bare message.
        let after_parse = |m: String| if m == OVERFLOW { ParseFailure::Overflow } else { ParseFailure::Invalid(m) };
        let (date, time) = resolve(&mut parsed).map_err(in_parse)?;
        let date = match date {
            Some(d) => d,
            None => spark_default_date(&parsed).map_err(after_parse)?,
        };
        let time = match time {
            Some(t) => t,
            None => spark_default_time(&parsed).map_err(after_parse)?,
        };
        let local = NaiveDateTime::new(date, time);
        let zone = match (&parsed.zone, parsed.get(PField::Offset)) {
            (Some(z), _) => z.clone(),
            (None, Some(secs)) => Zone::fixed(i32::try_from(secs).map_err(|_| ParseFailure::Overflow)?),
            (None, None) => session.clone(),
        };
        let utc = zone.local_to_utc(&local).ok_or(ParseFailure::Overflow)?;
        Ok(utc.and_utc().timestamp_micros())
    }
}

/// Java's `DateTimeParseException` text: inputs over 64 characters are cut.
fn abbreviate(chars: &[char]) -> String {
    if chars.len() > 64 {
        let mut s: String = chars[..64].iter().collect();
        s.push_str("...");
        s
    } else {
        chars.iter().collect()
    }
}

/// Builds parse items, applying Java's adjacent value parsing within each
/// section (`appendValue` after `appendValue` with no literal between).
fn compile(items: &[Item]) -> Vec<PItem> {
    let mut out: Vec<PItem> = Vec::new();
    let mut active: Option<usize> = None;
    for item in items {
        let next = match item {
            Item::Literal(s) => PItem::Literal(s.chars().collect()),
            Item::Optional(inner) => PItem::Optional(compile(inner)),
            Item::Field(f) => field_item(f),
        };
        // Which items take part in adjacent value parsing, and whether they
        // are fixed width (then they reserve digits in the active one).
        let adjacent_fixed = match &next {
            PItem::Number(n) => Some(n.is_fixed()),
            PItem::Fraction { min: 1, max: 1 } => Some(true),
            _ => None,
        };
        match (adjacent_fixed, active) {
            (Some(true), Some(a)) => {
                let width = match &next {
                    PItem::Number(n) => n.max,
                    _ => 1,
                };
                if let Some(PItem::Number(base)) = out.get_mut(a)
                    && base.subsequent >= 0
                {
                    base.subsequent += i32::try_from(width).unwrap_or(0);
                }
                out.push(next);
            }
            (Some(false), Some(a)) => {
                if let Some(PItem::Number(base)) = out.get_mut(a) {
                    base.subsequent = -1;
                }
                out.push(next);
                active = Some(out.len() - 1);
            }
            (Some(_), None) => {
                out.push(next);
                active = Some(out.len() - 1);
            }
            (None, _) => {
                out.push(next);
                active = None;
            }
        }
    }
    out
}

fn num(field: PField, min: u8, max: u8, sign: SignStyle) -> PItem {
    PItem::Number(NumSpec { field, min: usize::from(min), max: usize::from(max), sign, subsequent: 0, reduced: false })
}

/// `appendValue(field)` for one letter, `appendValue(field, 2)` for two.
fn one_or_two(field: PField, count: u8) -> PItem {
    if count == 1 { num(field, 1, 19, SignStyle::Normal) } else { num(field, count, count, SignStyle::NotNegative) }
}

fn field_item(f: &Field) -> PItem {
    match *f {
        Field::Era(style) => {
            PItem::Text { field: PField::Era, options: if style == TextStyle::Full { ERA_FULL } else { ERA_SHORT } }
        }
        Field::Year { count, of_era } => {
            let field = if of_era { PField::YearOfEra } else { PField::Year };
            match count {
                2 => PItem::Number(NumSpec {
                    field,
                    min: 2,
                    max: 2,
                    sign: SignStyle::NotNegative,
                    subsequent: 0,
                    reduced: true,
                }),
                1 | 3 => num(field, count, 19, SignStyle::Normal),
                _ => num(field, count, 19, SignStyle::ExceedsPad),
            }
        }
        Field::Month { count } => match count {
            1 | 2 => one_or_two(PField::Month, count),
            3 => PItem::Text { field: PField::Month, options: MONTHS_SHORT },
            _ => PItem::Text { field: PField::Month, options: MONTHS_FULL },
        },
        Field::DayOfMonth { count } => one_or_two(PField::DayOfMonth, count),
        Field::DayOfYear { count } => match count {
            1 => num(PField::DayOfYear, 1, 19, SignStyle::Normal),
            _ => num(PField::DayOfYear, count, 3, SignStyle::NotNegative),
        },
        Field::ModifiedJulianDay { count } => num(PField::ModifiedJulianDay, count, 19, SignStyle::Normal),
        Field::AmPm => PItem::Text { field: PField::AmPm, options: AM_PM },
        Field::Hour { kind, count } => one_or_two(
            match kind {
                HourKind::HourOfDay => PField::HourOfDay,
                HourKind::ClockHourOfDay => PField::ClockHourOfDay,
                HourKind::HourOfAmPm => PField::HourOfAmPm,
                HourKind::ClockHourOfAmPm => PField::ClockHourOfAmPm,
            },
            count,
        ),
        Field::Minute { count } => one_or_two(PField::Minute, count),
        Field::Second { count } => one_or_two(PField::Second, count),
        // Spark parses `S` x n as 1 to n digits.
        Field::Fraction { count } => PItem::Fraction { min: 1, max: usize::from(count) },
        Field::ZoneId => PItem::Zone { names: false },
        Field::ZoneName(_) | Field::GenericZoneName(_) => PItem::Zone { names: true },
        Field::LocalizedOffset(style) => PItem::LocalizedOffset(style),
        Field::Offset { style, zero } => PItem::Offset { style, zero },
        // Rejected for parsing by `DateTimePattern::compile`; they never
        // match anything.
        Field::Quarter { .. } | Field::DayOfWeek(_) | Field::AlignedDayOfWeekInMonth => {
            PItem::Text { field: PField::Era, options: &[] }
        }
    }
}

/// Field values as Java's `Parsed` holds them before resolving.
#[derive(Debug, Clone, Default)]
struct Parsed {
    values: [Option<i64>; NFIELDS],
    zone: Option<Zone>,
}

impl Parsed {
    fn get(&self, f: PField) -> Option<i64> {
        self.values[f as usize]
    }

    fn take(&mut self, f: PField) -> Option<i64> {
        self.values[f as usize].take()
    }

    fn put(&mut self, f: PField, v: i64) -> Option<i64> {
        self.values[f as usize].replace(v)
    }

    /// `setParsedField`: a second, different value for a field fails.
    fn set(&mut self, f: PField, v: i64) -> bool {
        !matches!(self.put(f, v), Some(old) if old != v)
    }
}

fn chars_eq_ci(a: char, b: char) -> bool {
    a == b || a.to_uppercase().eq(b.to_uppercase()) || a.to_lowercase().eq(b.to_lowercase())
}

fn starts_with_ci(text: &[char], pos: usize, s: &str) -> bool {
    let mut i = pos;
    for c in s.chars() {
        match text.get(i) {
            Some(&t) if chars_eq_ci(t, c) => i += 1,
            _ => return false,
        }
    }
    true
}

fn digit(text: &[char], pos: usize) -> Option<i64> {
    text.get(pos).and_then(|c| c.to_digit(10)).map(i64::from)
}

/// Parses a sequence; `Err(index)` is where it failed.
fn parse_seq(items: &[PItem], text: &[char], mut pos: usize, parsed: &mut Parsed) -> Result<usize, usize> {
    for item in items {
        pos = parse_item(item, text, pos, parsed)?;
    }
    Ok(pos)
}

fn parse_item(item: &PItem, text: &[char], pos: usize, parsed: &mut Parsed) -> Result<usize, usize> {
    match item {
        PItem::Literal(lit) => {
            let ok = lit.iter().enumerate().all(|(i, &c)| text.get(pos + i).is_some_and(|&t| chars_eq_ci(t, c)));
            if ok { Ok(pos + lit.len()) } else { Err(pos) }
        }
        PItem::Optional(inner) => {
            let mut attempt = parsed.clone();
            match parse_seq(inner, text, pos, &mut attempt) {
                Ok(end) => {
                    *parsed = attempt;
                    Ok(end)
                }
                Err(_) => Ok(pos),
            }
        }
        PItem::Number(spec) => parse_number(spec, text, pos, parsed),
        PItem::Fraction { min, max } => parse_fraction(*min, *max, text, pos, parsed),
        PItem::Text { field, options } => {
            let best = options
                .iter()
                .filter(|(name, _)| starts_with_ci(text, pos, name))
                .max_by_key(|(name, _)| name.chars().count());
            match best {
                Some((name, v)) if parsed.set(*field, *v) => Ok(pos + name.chars().count()),
                _ => Err(pos),
            }
        }
        PItem::Offset { style, zero } => {
            let (secs, end) = parse_offset(text, pos, *style, zero).ok_or(pos)?;
            if parsed.set(PField::Offset, i64::from(secs)) { Ok(end) } else { Err(pos) }
        }
        PItem::LocalizedOffset(style) => {
            let (secs, end) = parse_localized_offset(text, pos, *style).ok_or(pos)?;
            if parsed.set(PField::Offset, i64::from(secs)) { Ok(end) } else { Err(pos) }
        }
        PItem::Zone { names } => {
            let (zone, end) = parse_zone(text, pos, *names).ok_or(pos)?;
            parsed.zone = Some(zone);
            Ok(end)
        }
    }
}

/// Java's `NumberPrinterParser.parse` in strict mode.
fn parse_number(spec: &NumSpec, text: &[char], start: usize, parsed: &mut Parsed) -> Result<usize, usize> {
    let len = text.len();
    let mut position = start;
    if position >= len {
        return Err(position);
    }
    let (mut negative, mut positive) = (false, false);
    match text[position] {
        '+' => {
            // Strict: `+` only where the sign style allows it.
            if !matches!(spec.sign, SignStyle::ExceedsPad) {
                return Err(position);
            }
            positive = true;
            position += 1;
        }
        '-' => {
            if spec.sign == SignStyle::NotNegative {
                return Err(position);
            }
            negative = true;
            position += 1;
        }
        _ => {}
    }
    let min_end = position + spec.min;
    if min_end > len {
        return Err(position);
    }
    let mut eff_max = spec.max + usize::try_from(spec.subsequent.max(0)).unwrap_or(0);
    let mut total: i128;
    let mut pos;
    let mut pass = 0;
    loop {
        total = 0;
        pos = position;
        let max_end = (position + eff_max).min(len);
        while pos < max_end {
            match text[pos].to_digit(10) {
                Some(d) => {
                    if total < 1_000_000_000_000_000_000_000_000 {
                        total = total * 10 + i128::from(d);
                    }
                    pos += 1;
                }
                None => break,
            }
        }
        if pos < min_end {
            return Err(position);
        }
        if spec.subsequent > 0 && pass == 0 {
            let parse_len = pos - position;
            eff_max = spec.min.max(parse_len.saturating_sub(usize::try_from(spec.subsequent).unwrap_or(0)));
            pass = 1;
            continue;
        }
        break;
    }
    let digits = pos - position;
    if negative {
        if total == 0 {
            // Strict parsing rejects "-0".
            return Err(position - 1);
        }
        total = -total;
    } else if spec.sign == SignStyle::ExceedsPad {
        if positive {
            if digits <= spec.min {
                return Err(position - 1);
            }
        } else if digits > spec.min {
            return Err(position);
        }
    }
    let mut value = i64::try_from(total).unwrap_or(if total < 0 { i64::MIN } else { i64::MAX });
    if spec.reduced && digits == spec.min && value >= 0 {
        // Base year 2000: 00-99 → 2000-2099.
        value += 2000;
    }
    if parsed.set(spec.field, value) { Ok(pos) } else { Err(position) }
}

/// Java's `FractionPrinterParser.parse` (strict): `min..=max` digits.
fn parse_fraction(min: usize, max: usize, text: &[char], position: usize, parsed: &mut Parsed) -> Result<usize, usize> {
    let len = text.len();
    if position == len {
        return if min > 0 { Err(position) } else { Ok(position) };
    }
    let min_end = position + min;
    if min_end > len {
        return Err(position);
    }
    let max_end = (position + max).min(len);
    let mut total: i64 = 0;
    let mut pos = position;
    while pos < max_end {
        match text[pos].to_digit(10) {
            Some(d) => total = total * 10 + i64::from(d),
            None => break,
        }
        pos += 1;
    }
    if pos < min_end {
        return Err(position);
    }
    let digits = u32::try_from(pos - position).unwrap_or(9).min(9);
    let nanos = total * 10_i64.pow(9 - digits);
    if parsed.set(PField::Nano, nanos) { Ok(pos) } else { Err(position) }
}

/// Two digits at `pos`, at most 59.
fn two_digits(text: &[char], pos: usize) -> Option<i64> {
    let v = digit(text, pos)? * 10 + digit(text, pos + 1)?;
    (v <= 59).then_some(v)
}

/// Java's `OffsetIdPrinterParser.parse` (strict): `(seconds, end)`.
fn parse_offset(text: &[char], pos: usize, style: OffsetStyle, zero: &str) -> Option<(i32, usize)> {
    if pos >= text.len() {
        return None;
    }
    if starts_with_ci(text, pos, zero) {
        return Some((0, pos + zero.chars().count()));
    }
    let sign = match text[pos] {
        '+' => 1,
        '-' => -1,
        _ => return None,
    };
    let colon = style.colon();
    let mut at = pos + 1;
    // One part: optional `:` then two digits.
    let part = |at: &mut usize, first: bool| -> Option<i64> {
        let mut p = *at;
        if colon && !first {
            if text.get(p) != Some(&':') {
                return None;
            }
            p += 1;
        }
        let v = two_digits(text, p)?;
        *at = p + 2;
        Some(v)
    };
    let h = part(&mut at, true)?;
    let (m, s) = match style.0 {
        0 => (0, 0),
        1 | 2 => (part(&mut at, false).unwrap_or(0), 0),
        3 | 4 => (part(&mut at, false)?, 0),
        5 | 6 => {
            let m = part(&mut at, false)?;
            (m, part(&mut at, false).unwrap_or(0))
        }
        7 | 8 => {
            let m = part(&mut at, false)?;
            (m, part(&mut at, false)?)
        }
        _ => match part(&mut at, false) {
            Some(m) => (m, part(&mut at, false).unwrap_or(0)),
            None => (0, 0),
        },
    };
    if h > 23 {
        return None;
    }
    let secs = sign * (h * 3600 + m * 60 + s);
    Some((i32::try_from(secs).ok()?, at))
}

/// Java's `LocalizedOffsetIdPrinterParser.parse`: `GMT`, `GMT+8`,
/// `GMT+08:00`.
fn parse_localized_offset(text: &[char], position: usize, style: TextStyle) -> Option<(i32, usize)> {
    if !starts_with_ci(text, position, "GMT") {
        return None;
    }
    let end = text.len();
    let mut pos = position + 3;
    let negative = match text.get(pos) {
        Some('+') => 1,
        Some('-') => -1,
        _ => return Some((0, pos)),
    };
    pos += 1;
    let h;
    let (mut m, mut s) = (0, 0);
    if style == TextStyle::Full {
        h = digit(text, pos)? * 10 + digit(text, pos + 1)?;
        if text.get(pos + 2) != Some(&':') {
            return None;
        }
        m = digit(text, pos + 3)? * 10 + digit(text, pos + 4)?;
        pos += 5;
        if pos + 2 < end
            && text[pos] == ':'
            && let (Some(a), Some(b)) = (digit(text, pos + 1), digit(text, pos + 2))
        {
            s = a * 10 + b;
            pos += 3;
        }
    } else {
        let mut hours = digit(text, pos)?;
        pos += 1;
        if pos < end {
            if let Some(h2) = digit(text, pos) {
                hours = hours * 10 + h2;
                pos += 1;
            }
            if pos + 2 < end
                && text[pos] == ':'
                && let (Some(a), Some(b)) = (digit(text, pos + 1), digit(text, pos + 2))
            {
                m = a * 10 + b;
                pos += 3;
                if pos + 2 < end
                    && text[pos] == ':'
                    && let (Some(a), Some(b)) = (digit(text, pos + 1), digit(text, pos + 2))
                {
                    s = a * 10 + b;
                    pos += 3;
                }
            }
        }
        h = hours;
    }
    let secs = negative * (h * 3600 + m * 60 + s);
    Some((i32::try_from(secs).ok()?, pos))
}

/// Java's `ZoneIdPrinterParser.parse` (`VV`) and, with `names`, its
/// `ZoneTextPrinterParser` (`z`): offsets, `UTC`/`GMT`/`UT` prefixes,
/// region ids and (for `z`) zone names.
fn parse_zone(text: &[char], pos: usize, names: bool) -> Option<(Zone, usize)> {
    let c = *text.get(pos)?;
    if c == '+' || c == '-' {
        let (secs, end) = parse_offset(text, pos, OffsetStyle(6), "Z")?;
        return Some((Zone::fixed(secs), end));
    }
    if text.len() >= pos + 2 {
        let c2 = text[pos + 1];
        if chars_eq_ci(c, 'U') && chars_eq_ci(c2, 'T') {
            if text.get(pos + 2).is_some_and(|&c3| chars_eq_ci(c3, 'C')) {
                if !names {
                    return Some(offset_based(text, "UTC", pos + 3));
                }
            } else {
                return Some(offset_based(text, "UT", pos + 2));
            }
        } else if chars_eq_ci(c, 'G')
            && chars_eq_ci(c2, 'M')
            && text.get(pos + 2).is_some_and(|&c3| chars_eq_ci(c3, 'T'))
        {
            if text.get(pos + 3) == Some(&'0') {
                return Zone::of("GMT0").map(|z| (z, pos + 4));
            }
            return Some(offset_based(text, "GMT", pos + 3));
        }
    }
    // The longest zone id (or name) at `pos`.
    let mut best: Option<(&str, usize)> = None;
    for &id in zone::region_ids_longest_first() {
        if starts_with_ci(text, pos, id) {
            best = Some((id, id.chars().count()));
            break;
        }
    }
    if names {
        for &(name, id) in zone::ZONE_NAME_IDS {
            let n = name.chars().count();
            if best.is_none_or(|(_, len)| n > len) && starts_with_ci(text, pos, name) {
                best = Some((id, n));
            }
        }
    }
    match best {
        Some((id, n)) => Zone::of(id).map(|z| (z, pos + n)),
        None if chars_eq_ci(c, 'Z') => Some((Zone::fixed(0), pos + 1)),
        None => None,
    }
}

/// `parseOffsetBased` for a `UTC`/`GMT`/`UT` prefix: the prefix alone, or
/// with an offset (`GMT+08:00`).
fn offset_based(text: &[char], prefix: &str, pos: usize) -> (Zone, usize) {
    let bare = || Zone::of(prefix).unwrap_or_else(|| Zone::fixed(0));
    match text.get(pos) {
        None | Some('0') => return (bare(), pos),
        Some(&c) if chars_eq_ci(c, 'Z') => return (bare(), pos),
        _ => {}
    }
    match parse_offset(text, pos, OffsetStyle(6), "0") {
        Some((secs, end)) => {
            let id = if secs == 0 { prefix.to_string() } else { format!("{prefix}{}", zone::offset_id(secs)) };
            (Zone::of(&id).unwrap_or_else(|| Zone::fixed(secs)), end)
        }
        None => (bare(), pos),
    }
}

/// Java's `Parsed.resolve` under `ResolverStyle.STRICT` with the ISO
/// chronology: the date and time it can build, field checks and
/// cross-checks. Errors are Java's messages.
fn resolve(p: &mut Parsed) -> Result<(Option<NaiveDate>, Option<NaiveTime>), String> {
    let mut date = None;
    if let Some(mjd) = p.take(PField::ModifiedJulianDay) {
        let mjd = PField::ModifiedJulianDay.check(mjd)?;
        date = date_from_epoch_day(mjd - MJD_EPOCH_OFFSET);
        if date.is_none() {
            return Err(format!("Invalid value for EpochDay: {}", mjd - MJD_EPOCH_OFFSET));
        }
    } else {
        if let Some(yoe) = p.take(PField::YearOfEra) {
            PField::YearOfEra.check(yoe)?;
            let year = match p.take(PField::Era) {
                None => match p.get(PField::Year) {
                    Some(y) => Some(if y > 0 { yoe } else { 1 - yoe }),
                    None => {
                        p.put(PField::YearOfEra, yoe);
                        None
                    }
                },
                Some(1) => Some(yoe),
                Some(0) => Some(1 - yoe),
                Some(e) => return Err(format!("Invalid value for era: {e}")),
            };
            if let Some(y) = year
                && let Some(old) = p.put(PField::Year, y)
                && old != y
            {
                return Err(format!("Conflict found: Year {old} differs from Year {y}"));
            }
        } else if let Some(era) = p.get(PField::Era) {
            PField::Era.check(era)?;
        }
        if let Some(y) = p.get(PField::Year) {
            if p.get(PField::Month).is_some() && p.get(PField::DayOfMonth).is_some() {
                let y = PField::Year.check(y)?;
                let m = PField::Month.check(p.take(PField::Month).unwrap_or_default())?;
                let d = PField::DayOfMonth.check(p.take(PField::DayOfMonth).unwrap_or_default())?;
                p.take(PField::Year);
                date = Some(local_date(y, m, d)?);
            } else if let Some(doy) = p.get(PField::DayOfYear) {
                let y = PField::Year.check(y)?;
                let doy = PField::DayOfYear.check(doy)?;
                p.take(PField::Year);
                p.take(PField::DayOfYear);
                date = Some(year_day(y, doy)?);
            }
        }
    }

    // Time fields.
    if let Some(ch) = p.take(PField::ClockHourOfDay) {
        PField::ClockHourOfDay.check(ch)?;
        update_check_conflict(p, PField::ClockHourOfDay, PField::HourOfDay, if ch == 24 { 0 } else { ch })?;
    }
    if let Some(ch) = p.take(PField::ClockHourOfAmPm) {
        PField::ClockHourOfAmPm.check(ch)?;
        update_check_conflict(p, PField::ClockHourOfAmPm, PField::HourOfAmPm, if ch == 12 { 0 } else { ch })?;
    }
    if let (Some(ap), Some(hap)) = (p.get(PField::AmPm), p.get(PField::HourOfAmPm)) {
        p.take(PField::AmPm);
        p.take(PField::HourOfAmPm);
        PField::AmPm.check(ap)?;
        PField::HourOfAmPm.check(hap)?;
        update_check_conflict(p, PField::AmPm, PField::HourOfDay, ap * 12 + hap)?;
    }
    if let Some(nos) = p.get(PField::Nano) {
        PField::Nano.check(nos)?;
    }
    let mut time = None;
    if let Some(hod) = p.get(PField::HourOfDay) {
        let (moh, som, nos) = (p.get(PField::Minute), p.get(PField::Second), p.get(PField::Nano));
        let incomplete =
            (moh.is_none() && (som.is_some() || nos.is_some())) || (moh.is_some() && som.is_none() && nos.is_some());
        if !incomplete {
            let m = PField::Minute.check(moh.unwrap_or(0))?;
            let n = PField::Nano.check(nos.unwrap_or(0))?;
            let h = PField::HourOfDay.check(hod)?;
            let s = PField::Second.check(som.unwrap_or(0))?;
            for f in [PField::HourOfDay, PField::Minute, PField::Second, PField::Nano] {
                p.take(f);
            }
            time = local_time(h, m, s, n);
        }
    }
    for f in TIME_FIELDS {
        if let Some(v) = p.get(f) {
            f.check(v)?;
        }
    }

    // Cross-check what is left against what was built.
    for (fields, d, t) in [(&DATE_FIELDS[..], date.as_ref(), None), (&TIME_FIELDS[..], None, time.as_ref())] {
        if d.is_none() && t.is_none() {
            continue;
        }
        for &f in fields {
            if let (Some(parsed), Some(derived)) = (p.get(f), f.derived(d, t)) {
                if parsed != derived {
                    let target = d.map(java_date).or_else(|| t.map(java_time)).unwrap_or_default();
                    return Err(format!(
                        "Conflict found: Field {} {derived} differs from {} {parsed} derived from {target}",
                        f.name(),
                        f.name()
                    ));
                }
                p.take(f);
            }
        }
    }
    Ok((date, time))
}

fn update_check_conflict(p: &mut Parsed, target: PField, change: PField, value: i64) -> Result<(), String> {
    match p.put(change, value) {
        Some(old) if old != value => Err(format!(
            "Conflict found: {} {old} differs from {} {value} while resolving  {}",
            change.name(),
            change.name(),
            target.name()
        )),
        _ => Ok(()),
    }
}

/// Spark's `toLocalDate` for what Java could not resolve: year 1970,
/// January and day 1 stand in for missing fields.
fn spark_default_date(p: &Parsed) -> Result<NaiveDate, String> {
    let year = match p.get(PField::Year) {
        Some(y) => PField::Year.check(y)?,
        None => 1970,
    };
    if let Some(doy) = p.get(PField::DayOfYear) {
        let date = year_day(year, PField::DayOfYear.check(doy)?)?;
        for f in [PField::Month, PField::DayOfMonth] {
            if let (Some(actual), Some(expected)) = (p.get(f), f.derived(Some(&date), None))
                && actual != expected
            {
                return Err(format!(
                    "Conflict found: Field {} {actual} differs from {} {expected} derived from {}",
                    f.name(),
                    f.name(),
                    java_date(&date)
                ));
            }
        }
        return Ok(date);
    }
    let month = match p.get(PField::Month) {
        Some(m) => PField::Month.check(m)?,
        None => 1,
    };
    let day = match p.get(PField::DayOfMonth) {
        Some(d) => PField::DayOfMonth.check(d)?,
        None => 1,
    };
    local_date(year, month, day)
}

/// Spark's `toLocalTime`: the hour from `H`, else `K`/`h` (as AM), else 12
/// for a lone PM, else 0.
fn spark_default_time(p: &Parsed) -> Result<NaiveTime, String> {
    let hour = if let Some(h) = p.get(PField::HourOfDay) {
        PField::HourOfDay.check(h)?
    } else if let Some(h) = p.get(PField::HourOfAmPm) {
        PField::HourOfAmPm.check(h)?
    } else if let Some(ap) = p.get(PField::AmPm) {
        if PField::AmPm.check(ap)? == 1 { 12 } else { 0 }
    } else {
        0
    };
    let minute = p.get(PField::Minute).map(|v| PField::Minute.check(v)).transpose()?.unwrap_or(0);
    let second = p.get(PField::Second).map(|v| PField::Second.check(v)).transpose()?.unwrap_or(0);
    let nano = p.get(PField::Nano).map(|v| PField::Nano.check(v)).transpose()?.unwrap_or(0);
    local_time(hour, minute, second, nano).ok_or_else(|| "Invalid time".to_string())
}

fn local_time(h: i64, m: i64, s: i64, n: i64) -> Option<NaiveTime> {
    // Spark keeps microseconds.
    NaiveTime::from_hms_micro_opt(
        u32::try_from(h).ok()?,
        u32::try_from(m).ok()?,
        u32::try_from(s).ok()?,
        u32::try_from(n / 1000).ok()?,
    )
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

const MONTH_NAMES: [&str; 12] = [
    "JANUARY",
    "FEBRUARY",
    "MARCH",
    "APRIL",
    "MAY",
    "JUNE",
    "JULY",
    "AUGUST",
    "SEPTEMBER",
    "OCTOBER",
    "NOVEMBER",
    "DECEMBER",
];

/// Java's `LocalDate.of` (fields already range-checked).
fn local_date(y: i64, m: i64, d: i64) -> Result<NaiveDate, String> {
    if d > 28 {
        let max = match m {
            2 => {
                if is_leap(y) {
                    29
                } else {
                    28
                }
            }
            4 | 6 | 9 | 11 => 30,
            _ => 31,
        };
        if d > max {
            return Err(if d == 29 {
                format!("Invalid date 'February 29' as '{y}' is not a leap year")
            } else {
                let name = usize::try_from(m - 1).ok().and_then(|i| MONTH_NAMES.get(i)).copied().unwrap_or("?");
                format!("Invalid date '{name} {d}'")
            });
        }
    }
    let (y, m, d) = (i32::try_from(y), u32::try_from(m), u32::try_from(d));
    match (y, m, d) {
        (Ok(y), Ok(m), Ok(d)) => NaiveDate::from_ymd_opt(y, m, d).ok_or_else(|| OVERFLOW.to_string()),
        _ => Err(OVERFLOW.to_string()),
    }
}

/// Java's `LocalDate.ofYearDay`.
fn year_day(y: i64, doy: i64) -> Result<NaiveDate, String> {
    if doy == 366 && !is_leap(y) {
        return Err(format!("Invalid date 'DayOfYear 366' as '{y}' is not a leap year"));
    }
    match (i32::try_from(y), u32::try_from(doy)) {
        (Ok(y), Ok(doy)) => NaiveDate::from_yo_opt(y, doy).ok_or_else(|| OVERFLOW.to_string()),
        _ => Err(OVERFLOW.to_string()),
    }
}

fn date_from_epoch_day(days: i64) -> Option<NaiveDate> {
    let ce = i32::try_from(days.checked_add(UNIX_EPOCH_CE_DAYS)?).ok()?;
    NaiveDate::from_num_days_from_ce_opt(ce)
}

/// `LocalDate.toString()`: `2013-02-01`, `+12345-01-01`, `-0044-03-15`.
fn java_date(d: &NaiveDate) -> String {
    let y = d.year();
    let year = if y > 9999 {
        format!("+{y}")
    } else if y < 0 {
        format!("-{:04}", -i64::from(y))
    } else {
        format!("{y:04}")
    };
    format!("{year}-{:02}-{:02}", d.month(), d.day())
}

/// `LocalTime.toString()`: `01:00`, `01:00:05`, `01:00:05.123`.
fn java_time(t: &NaiveTime) -> String {
    let mut s = format!("{:02}:{:02}", t.hour(), t.minute());
    let (sec, nano) = (t.second(), t.nanosecond());
    if sec > 0 || nano > 0 {
        s.push_str(&format!(":{sec:02}"));
        if nano > 0 {
            if nano % 1_000_000 == 0 {
                s.push_str(&format!(".{:03}", nano / 1_000_000));
            } else if nano % 1000 == 0 {
                s.push_str(&format!(".{:06}", nano / 1000));
            } else {
                s.push_str(&format!(".{nano:09}"));
            }
        }
    }
    s
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn parser(p: &str) -> Parser {
        Parser::new(&DateTimePattern::compile(p, Mode::Parse).unwrap())
    }

    fn micros_of(s: &str) -> i64 {
        let (d, t) = s.split_once(' ').unwrap_or((s, "00:00:00"));
        let d = NaiveDate::parse_from_str(d, "%Y-%m-%d").unwrap();
        let t = NaiveTime::parse_from_str(t, "%H:%M:%S%.f").unwrap();
        NaiveDateTime::new(d, t).and_utc().timestamp_micros()
    }

    /// Parses in UTC and renders as `yyyy-mm-dd HH:MM:SS[.ffffff]`.
    fn ok(text: &str, pattern: &str) -> String {
        let us =
            parser(pattern).parse_micros(text, &Zone::utc()).unwrap_or_else(|e| panic!("{text} / {pattern}: {e:?}"));
        let dt = chrono::DateTime::from_timestamp_micros(us).unwrap().naive_utc();
        if dt.nanosecond() == 0 {
            dt.format("%Y-%m-%d %H:%M:%S").to_string()
        } else {
            dt.format("%Y-%m-%d %H:%M:%S%.f").to_string()
        }
    }

    fn fail(text: &str, pattern: &str) -> String {
        match parser(pattern).parse_micros(text, &Zone::utc()) {
            Err(ParseFailure::Invalid(m)) => m,
            other => panic!("{text} / {pattern}: expected a parse failure, got {other:?}"),
        }
    }

    #[test]
    fn one_letter_fields_take_one_or_more_digits() {
        assert_eq!(ok("1-2-2013", "d-M-yyyy"), "2013-02-01 00:00:00");
        assert_eq!(ok("01-02-2013", "d-M-yyyy"), "2013-02-01 00:00:00");
        assert_eq!(ok("001-2-2013", "d-M-yyyy"), "2013-02-01 00:00:00");
        assert_eq!(ok("2013-1-1", "yyyy-M-d"), "2013-01-01 00:00:00");
        assert_eq!(ok("2013-02-01 1:3:5", "yyyy-MM-dd H:m:s"), "2013-02-01 01:03:05");
    }

    #[test]
    fn two_letter_fields_take_exactly_two() {
        assert_eq!(ok("04-09-2012", "dd-MM-yyyy"), "2012-09-04 00:00:00");
        assert_eq!(fail("4-09-2012", "dd-MM-yyyy"), "Text '4-09-2012' could not be parsed at index 0");
        assert_eq!(fail("2013-1-1", "yyyy-MM-dd"), "Text '2013-1-1' could not be parsed at index 5");
    }

    #[test]
    fn years() {
        assert_eq!(ok("02/01/13", "MM/dd/yy"), "2013-02-01 00:00:00");
        assert_eq!(ok("02/01/99", "MM/dd/yy"), "2099-02-01 00:00:00");
        assert_eq!(fail("1-2-2013", "d-M-yy"), "Text '1-2-2013' could not be parsed, unparsed text found at index 6");
        assert_eq!(fail("123", "yy"), "Text '123' could not be parsed, unparsed text found at index 2");
        assert_eq!(fail("-12", "yy"), "Text '-12' could not be parsed at index 0");
        assert_eq!(fail("12345-01-01", "yyyy-MM-dd"), "Text '12345-01-01' could not be parsed at index 0");
        assert_eq!(ok("+12345-01-01", "yyyy-MM-dd"), "+12345-01-01 00:00:00");
        assert_eq!(fail("+2013-01-01", "yyyy-MM-dd"), "Text '+2013-01-01' could not be parsed at index 0");
        assert_eq!(ok("-2013-01-01", "yyyy-MM-dd"), "-2013-01-01 00:00:00");
        assert_eq!(fail("-0-01-01", "y-MM-dd"), "Text '-0-01-01' could not be parsed at index 0");
        assert_eq!(ok("13", "y"), "0013-01-01 00:00:00");
        assert_eq!(fail("1", "yyy"), "Text '1' could not be parsed at index 0");
        assert_eq!(ok("44 BC", "y G"), "-0043-01-01 00:00:00");
        assert_eq!(
            fail("0 AD", "y G"),
            "Text '0 AD' could not be parsed: Invalid value for YearOfEra (valid values 1 - 999999999/1000000000): 0"
        );
    }

    #[test]
    fn adjacent_value_parsing() {
        assert_eq!(ok("20130201", "yyyyMMdd"), "2013-02-01 00:00:00");
        assert_eq!(ok("2013020112", "yyyyMMddHH"), "2013-02-01 12:00:00");
        assert_eq!(ok("1302", "yyMM"), "2013-02-01 00:00:00");
        assert_eq!(ok("20130201 1234561", "yyyyMMdd HHmmssS"), "2013-02-01 12:34:56.100");
        // A variable-width field after `yyyy` cancels the reservation (Java).
        assert_eq!(fail("2013021", "yyyyMMd"), "Text '2013021' could not be parsed at index 0");
        assert_eq!(fail("201302011", "yyyyMMddH"), "Text '201302011' could not be parsed at index 0");
        assert_eq!(
            fail("20130201120000123", "yyyyMMddHHmmssSSS"),
            "Text '20130201120000123' could not be parsed at index 0"
        );
        assert_eq!(fail("20130101", "yyyyyMMdd"), "Text '20130101' could not be parsed at index 7");
    }

    #[test]
    fn fractions_have_variable_width() {
        assert_eq!(ok("2013-02-01 12:34:56.12", "yyyy-MM-dd HH:mm:ss.SSS"), "2013-02-01 12:34:56.120");
        assert_eq!(ok("2013-02-01 12:34:56.123456789", "yyyy-MM-dd HH:mm:ss.SSSSSSSSS"), "2013-02-01 12:34:56.123456");
        assert_eq!(
            fail("2013-02-01 12:34:56.1234", "yyyy-MM-dd HH:mm:ss.SSS"),
            "Text '2013-02-01 12:34:56.1234' could not be parsed, unparsed text found at index 23"
        );
        assert_eq!(
            fail("2013-02-01 12:34:56.", "yyyy-MM-dd HH:mm:ss.SSS"),
            "Text '2013-02-01 12:34:56.' could not be parsed at index 20"
        );
        assert_eq!(ok("2013-02-01T12:34:56.123", "yyyy-MM-dd'T'HH:mm:ss.SSS"), "2013-02-01 12:34:56.123");
        assert_eq!(ok("123", "SSS"), "1970-01-01 00:00:00.123");
        assert_eq!(fail("12:34:56.Z", "HH:mm:ss.SSS'Z'"), "Text '12:34:56.Z' could not be parsed at index 9");
    }

    #[test]
    fn text_fields_are_case_insensitive() {
        assert_eq!(ok("feb 1 2013", "MMM d yyyy"), "2013-02-01 00:00:00");
        assert_eq!(ok("FEB 01 2013", "MMM dd yyyy"), "2013-02-01 00:00:00");
        assert_eq!(ok("February 1 2013", "MMMM d yyyy"), "2013-02-01 00:00:00");
        assert_eq!(fail("January", "MMM"), "Text 'January' could not be parsed, unparsed text found at index 3");
        assert_eq!(fail("Sept 01 2013", "MMM dd yyyy"), "Text 'Sept 01 2013' could not be parsed at index 3");
        assert_eq!(ok("2013-02-01 01:34:56 pm", "yyyy-MM-dd hh:mm:ss a"), "2013-02-01 13:34:56");
        assert_eq!(ok("2013-02-01 t", "yyyy-MM-dd 'T'"), "2013-02-01 00:00:00");
    }

    #[test]
    fn hours() {
        assert_eq!(ok("2013-02-01 12:34:56", "yyyy-MM-dd hh:mm:ss"), "2013-02-01 00:34:56");
        assert_eq!(ok("2013-02-01 12 AM", "yyyy-MM-dd hh a"), "2013-02-01 00:00:00");
        assert_eq!(ok("2013-02-01 0 PM", "yyyy-MM-dd K a"), "2013-02-01 12:00:00");
        assert_eq!(ok("24", "kk"), "1970-01-01 00:00:00");
        assert_eq!(ok("PM", "a"), "1970-01-01 12:00:00");
        assert_eq!(ok("10 15", "HH ss"), "1970-01-01 10:00:15");
        assert_eq!(
            fail("24", "HH"),
            "Text '24' could not be parsed: Invalid value for HourOfDay (valid values 0 - 23): 24"
        );
        assert_eq!(
            fail("2013-02-01 13", "yyyy-MM-dd h"),
            "Text '2013-02-01 13' could not be parsed: Invalid value for ClockHourOfAmPm (valid values 1 - 12): 13"
        );
        assert_eq!(
            fail("2013-02-01 01 PM", "yyyy-MM-dd HH a"),
            "Text '2013-02-01 01 PM' could not be parsed: Conflict found: Field AmPmOfDay 0 differs from AmPmOfDay 1 derived from 01:00"
        );
        assert_eq!(
            fail("2013-02-01 5 2", "yyyy-MM-dd h K"),
            "Text '2013-02-01 5 2' could not be parsed: Conflict found: HourOfAmPm 2 differs from HourOfAmPm 5 while resolving  ClockHourOfAmPm"
        );
        assert_eq!(
            fail("12", "K"),
            "Text '12' could not be parsed: Invalid value for HourOfAmPm (valid values 0 - 11): 12"
        );
    }

    #[test]
    fn dates_are_checked() {
        assert_eq!(
            fail("2013-02-30", "yyyy-MM-dd"),
            "Text '2013-02-30' could not be parsed: Invalid date 'FEBRUARY 30'"
        );
        assert_eq!(
            fail("2013-13-01", "yyyy-MM-dd"),
            "Text '2013-13-01' could not be parsed: Invalid value for MonthOfYear (valid values 1 - 12): 13"
        );
        // Without a year Java leaves the fields to Spark, whose message
        // has no "Text ..." prefix.
        assert_eq!(fail("13", "MM"), "Invalid value for MonthOfYear (valid values 1 - 12): 13");
        assert_eq!(fail("02 30", "MM dd"), "Invalid date 'FEBRUARY 30'");
        assert_eq!(ok("2013-032", "yyyy-DDD"), "2013-02-01 00:00:00");
        assert_eq!(ok("2013 20", "yyyy DD"), "2013-01-20 00:00:00");
        assert_eq!(fail("2013 5", "yyyy DD"), "Text '2013 5' could not be parsed at index 5");
        assert_eq!(
            fail("2013-366", "yyyy-DDD"),
            "Text '2013-366' could not be parsed: Invalid date 'DayOfYear 366' as '2013' is not a leap year"
        );
        assert_eq!(
            fail("2013-03-032", "yyyy-MM-DDD"),
            "Text '2013-03-032' could not be parsed: Conflict found: Field MonthOfYear 2 differs from MonthOfYear 3 derived from 2013-02-01"
        );
        assert_eq!(fail("2013 2014", "yyyy yyyy"), "Text '2013 2014' could not be parsed at index 5");
        assert_eq!(ok("56324", "g"), "2013-02-01 00:00:00");
        assert_eq!(ok("02-01", "MM-dd"), "1970-02-01 00:00:00");
    }

    #[test]
    fn optional_sections() {
        assert_eq!(ok("2013-02-01 12:34:56", "yyyy-MM-dd HH:mm:ss[.SSS][XXX]"), "2013-02-01 12:34:56");
        assert_eq!(ok("2013-02-01 12:34:56.5+01:00", "yyyy-MM-dd HH:mm:ss[.SSS][XXX]"), "2013-02-01 11:34:56.500");
        assert_eq!(ok("2013-02-01", "[yyyy-MM-dd][dd/MM/yyyy]"), "2013-02-01 00:00:00");
        assert_eq!(ok("01/02/2013", "[yyyy-MM-dd][dd/MM/yyyy]"), "2013-02-01 00:00:00");
        assert_eq!(ok("2013", "[yyyy"), "2013-01-01 00:00:00");
    }

    #[test]
    fn zones_and_offsets() {
        assert_eq!(ok("2013-02-01 12:34:56 +08:00", "yyyy-MM-dd HH:mm:ss XXX"), "2013-02-01 04:34:56");
        assert_eq!(ok("2013-02-01 12:34:56 Z", "yyyy-MM-dd HH:mm:ss XXX"), "2013-02-01 12:34:56");
        assert_eq!(ok("2013-02-01 12:34:56 +0800", "yyyy-MM-dd HH:mm:ss Z"), "2013-02-01 04:34:56");
        assert_eq!(fail("2013-02-01 Z", "yyyy-MM-dd Z"), "Text '2013-02-01 Z' could not be parsed at index 11");
        assert_eq!(ok("2013-02-01 +08", "yyyy-MM-dd X"), "2013-01-31 16:00:00");
        assert_eq!(ok("2013-02-01 +0830", "yyyy-MM-dd X"), "2013-01-31 15:30:00");
        assert_eq!(
            fail("2013-02-01 +08:30", "yyyy-MM-dd X"),
            "Text '2013-02-01 +08:30' could not be parsed, unparsed text found at index 14"
        );
        assert_eq!(fail("2013-02-01 +08", "yyyy-MM-dd XX"), "Text '2013-02-01 +08' could not be parsed at index 11");
        assert_eq!(
            fail("2013-02-01 +8:30", "yyyy-MM-dd XXX"),
            "Text '2013-02-01 +8:30' could not be parsed at index 11"
        );
        assert_eq!(ok("2013 -00:00", "yyyy XXX"), "2013-01-01 00:00:00");
        assert_eq!(ok("2013 +05:30:15", "yyyy XXXXX"), "2012-12-31 18:29:45");
        assert_eq!(ok("2013-02-01 GMT+08:00", "yyyy-MM-dd ZZZZ"), "2013-01-31 16:00:00");
        assert_eq!(ok("2013-02-01 GMT+8", "yyyy-MM-dd O"), "2013-01-31 16:00:00");
        assert_eq!(ok("2013-02-01 GMT", "yyyy-MM-dd O"), "2013-02-01 00:00:00");
        assert_eq!(ok("2013-02-01 12:34:56 America/Los_Angeles", "yyyy-MM-dd HH:mm:ss VV"), "2013-02-01 20:34:56");
        assert_eq!(ok("2013-02-01 Europe/Paris", "yyyy-MM-dd VV"), "2013-01-31 23:00:00");
        assert_eq!(ok("2013 Z", "yyyy VV"), "2013-01-01 00:00:00");
        assert_eq!(ok("2013 +08:00", "yyyy VV"), "2012-12-31 16:00:00");
        assert_eq!(
            fail("2013 GMT+8", "yyyy VV"),
            "Text '2013 GMT+8' could not be parsed, unparsed text found at index 8"
        );
        assert_eq!(fail("2013 PST", "yyyy VV"), "Text '2013 PST' could not be parsed at index 5");
        // Java's zone rules have no `EST` region (the tz database does).
        assert_eq!(fail("2013 EST", "yyyy VV"), "Text '2013 EST' could not be parsed at index 5");
        assert_eq!(ok("2013-02-01 12:34:56 PST", "yyyy-MM-dd HH:mm:ss z"), "2013-02-01 20:34:56");
        assert_eq!(ok("2013-02-01 CET", "yyyy-MM-dd z"), "2013-01-31 23:00:00");
        assert_eq!(ok("2013 Pacific Standard Time", "yyyy zzzz"), "2013-01-01 08:00:00");
        // Java gives `PST` the zone's rules: in July it is daylight time.
        assert_eq!(ok("2013-07-01 12:00 PST", "yyyy-MM-dd HH:mm z"), "2013-07-01 19:00:00");
        assert_eq!(ok("2013-02-01 UTC +09:00", "yyyy-MM-dd VV XXX"), "2013-02-01 00:00:00");
    }

    #[test]
    fn session_zone_applies_without_one_in_the_text() {
        let la = Zone::parse("America/Los_Angeles").unwrap();
        let p = parser("yyyy-MM-dd HH:mm:ss");
        assert_eq!(p.parse_micros("2013-03-10 02:30:00", &la).unwrap(), 1_362_911_400_000_000);
        assert_eq!(p.parse_micros("2013-11-03 01:30:00", &la).unwrap(), 1_383_467_400_000_000);
    }

    #[test]
    fn long_inputs_are_abbreviated() {
        let text = "a".repeat(81);
        assert_eq!(fail(&text, "yyyy"), format!("Text '{}...' could not be parsed at index 0", "a".repeat(64)));
    }

    #[test]
    fn helper_micros() {
        assert_eq!(micros_of("1970-01-01"), 0);
    }
}
