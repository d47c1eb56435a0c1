//! Spark's datetime patterns (Java `DateTimeFormatter` letters) as typed
//! tokens.
//!
//! [`DateTimePattern::compile`] checks a pattern the way Spark 4 does —
//! first Spark's own rules (`DateTimeFormatterHelper.convertIncompatiblePattern`:
//! no week-based letters, no `E F q Q` when parsing, no narrow text forms),
//! then `DateTimeFormatterBuilder.appendPattern`'s letter counts — and
//! reports a bad one with Spark's error class and message. The tokens then
//! drive both the formatter (`format.rs`) and the parser (`parse.rs`), which
//! follow `java.time`'s rules (e.g. `d` parses one or more digits, `dd`
//! exactly two, `yy` is 2000-2099). [`DateTimePattern::to_chrono_format`]
//! translates the common subset to a chrono `strftime` string.

use std::fmt;

/// Whether a pattern parses strings or formats values: Spark rejects a few
/// letters (`E F q Q`) for parsing only, and parses `S...` fractions with a
/// variable width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mode {
    Parse,
    Format,
}

/// Text width of a name field: `MMM` (short) vs `MMMM` (full).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TextStyle {
    Short,
    Full,
}

/// Which hour field a letter is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HourKind {
    /// `H`, 0-23.
    HourOfDay,
    /// `k`, 1-24.
    ClockHourOfDay,
    /// `K`, 0-11.
    HourOfAmPm,
    /// `h`, 1-12.
    ClockHourOfAmPm,
}

/// A zone-offset layout (Java's `OffsetIdPrinterParser` patterns, by index):
/// 0 `+HH`, 1 `+HHmm`, 2 `+HH:mm`, 3 `+HHMM`, 4 `+HH:MM`, 5 `+HHMMss`,
/// 6 `+HH:MM:ss`, 7 `+HHMMSS`, 8 `+HH:MM:SS`, 9 `+HHmmss`, 10 `+HH:mm:ss`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct OffsetStyle(pub u8);

impl OffsetStyle {
    pub fn colon(self) -> bool {
        matches!(self.0, 2 | 4 | 6 | 8 | 10)
    }
}

/// One pattern field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Field {
    /// `G`: AD/BC (`GGGG`: Anno Domini/Before Christ).
    Era(TextStyle),
    /// `y`: the proleptic year (Spark turns `y` into Java's `u`), or the
    /// year of era when the pattern also has `G`.
    Year { count: u8, of_era: bool },
    /// `Q`/`q`: 1, 01, Q1, 1st quarter (formatting only).
    Quarter { count: u8 },
    /// `M`/`L`: 2, 02, Feb, February.
    Month { count: u8 },
    /// `d`.
    DayOfMonth { count: u8 },
    /// `D`.
    DayOfYear { count: u8 },
    /// `g`: the modified Julian day.
    ModifiedJulianDay { count: u8 },
    /// `E`: Fri, Friday (formatting only).
    DayOfWeek(TextStyle),
    /// `F`: Java 17's aligned day-of-week-in-month (formatting only).
    AlignedDayOfWeekInMonth,
    /// `a`: AM/PM.
    AmPm,
    /// `H k K h`.
    Hour { kind: HourKind, count: u8 },
    /// `m`.
    Minute { count: u8 },
    /// `s`.
    Second { count: u8 },
    /// `S` x count: the second fraction (parsing accepts 1..=count digits).
    Fraction { count: u8 },
    /// `VV`: the zone id.
    ZoneId,
    /// `z` (short) / `zzzz` (full zone name).
    ZoneName(TextStyle),
    /// `v` / `vvvv`: the generic zone name.
    GenericZoneName(TextStyle),
    /// `O` / `OOOO` / `ZZZZ`: `GMT+8` / `GMT+08:00`.
    LocalizedOffset(TextStyle),
    /// `X x Z`: a numeric offset; `zero` is what a zero offset prints as.
    Offset { style: OffsetStyle, zero: &'static str },
}

/// A pattern element.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Item {
    Literal(String),
    Field(Field),
    /// `[...]`: parsed if it can be, always formatted.
    Optional(Vec<Item>),
}

/// A checked pattern.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DateTimePattern {
    pub pattern: String,
    pub mode: Mode,
    pub items: Vec<Item>,
}

/// A pattern Spark rejects: `message` is Spark's full error text
/// (`[ERROR_CLASS] ... SQLSTATE: xxxxx`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PatternError {
    pub error_class: &'static str,
    pub message: String,
}

impl fmt::Display for PatternError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for PatternError {}

const DOC_URL: &str = "https://spark.apache.org/docs/latest/sql-ref-datetime-pattern.html";

/// What Spark's own checks reject (thrown before Java sees the pattern).
enum SparkCheck {
    WeekBased(char),
    IllegalChar(char),
    Length(String),
}

impl PatternError {
    fn recognition(pattern: &str) -> Self {
        Self {
            error_class: "INCONSISTENT_BEHAVIOR_CROSS_VERSION.DATETIME_PATTERN_RECOGNITION",
            message: format!(
                "[INCONSISTENT_BEHAVIOR_CROSS_VERSION.DATETIME_PATTERN_RECOGNITION] You may get a different result due to the upgrading to Spark >= 3.0:\nFail to recognize '{pattern}' pattern in the DateTimeFormatter.\n1) You can set \"spark.sql.legacy.timeParserPolicy\" to \"LEGACY\" to restore the behavior before Spark 3.0.\n2) You can form a valid datetime pattern with the guide from '{DOC_URL}'. SQLSTATE: 42K0B"
            ),
        }
    }

    fn with_suggestion(pattern: &str) -> Self {
        Self {
            error_class: "INVALID_DATETIME_PATTERN.WITH_SUGGESTION",
            message: format!(
                "[INVALID_DATETIME_PATTERN.WITH_SUGGESTION] Unrecognized datetime pattern: '{pattern}'. You can form a valid datetime pattern with the guide from '{DOC_URL}'. SQLSTATE: 22007"
            ),
        }
    }

    fn from_spark_check(check: SparkCheck, pattern: &str) -> Self {
        match check {
            SparkCheck::WeekBased(c) => Self {
                error_class: "INCONSISTENT_BEHAVIOR_CROSS_VERSION.DATETIME_WEEK_BASED_PATTERN",
                message: format!(
                    "[INCONSISTENT_BEHAVIOR_CROSS_VERSION.DATETIME_WEEK_BASED_PATTERN] You may get a different result due to the upgrading to Spark >= 3.0:\nAll week-based patterns are unsupported since Spark 3.0, detected week-based character: {c}.\nPlease use the SQL function EXTRACT instead. SQLSTATE: 42K0B"
                ),
            },
            SparkCheck::IllegalChar(c) => Self {
                error_class: "INVALID_DATETIME_PATTERN.ILLEGAL_CHARACTER",
                message: format!(
                    "[INVALID_DATETIME_PATTERN.ILLEGAL_CHARACTER] Unrecognized datetime pattern: {pattern}. Illegal pattern character found in datetime pattern: {c}. Please provide legal character. SQLSTATE: 22007"
                ),
            },
            SparkCheck::Length(style) => Self {
                error_class: "INVALID_DATETIME_PATTERN.LENGTH",
                message: format!(
                    "[INVALID_DATETIME_PATTERN.LENGTH] Unrecognized datetime pattern: {style}. Too many letters in datetime pattern: {style}. Please reduce pattern length. SQLSTATE: 22007"
                ),
            },
        }
    }
}

impl DateTimePattern {
    /// Checks and tokenizes `pattern` for parsing or formatting.
    pub fn compile(pattern: &str, mode: Mode) -> Result<Self, PatternError> {
        // Spark's checks run first; whatever fails (Spark's or Java's) is
        // reported as "pattern recognition" when Spark 2's SimpleDateFormat
        // would have taken the pattern, else as the original error.
        let outcome = match spark_checks(pattern, mode) {
            Err(check) => Err(Some(check)),
            Ok(()) => tokenize(pattern).map_err(|()| None),
        };
        match outcome {
            Ok(items) => Ok(Self { pattern: pattern.to_string(), mode, items }),
            Err(_) if legacy_accepts(pattern) => Err(PatternError::recognition(pattern)),
            Err(Some(check)) => Err(PatternError::from_spark_check(check, pattern)),
            Err(None) => Err(PatternError::with_suggestion(pattern)),
        }
    }

    /// Whether any field carries a zone or offset.
    pub fn has_zone(&self) -> bool {
        fn any(items: &[Item]) -> bool {
            items.iter().any(|i| match i {
                Item::Field(
                    Field::ZoneId
                    | Field::ZoneName(_)
                    | Field::GenericZoneName(_)
                    | Field::LocalizedOffset(_)
                    | Field::Offset { .. },
                ) => true,
                Item::Optional(inner) => any(inner),
                _ => false,
            })
        }
        any(&self.items)
    }

    /// The pattern as a chrono `strftime` string, for the fields chrono
    /// has: `yyyy`→`%Y`, `yy`→`%y`, `MM`→`%m`, `M`→`%-m`, `MMM`→`%b`,
    /// `MMMM`→`%B`, `dd`→`%d`, `d`→`%-d`, `DDD`→`%j`, `EEE`→`%a`,
    /// `EEEE`→`%A`, `HH`→`%H`, `hh`→`%I`, `mm`→`%M`, `ss`→`%S`, `a`→`%p`,
    /// `SSS`/`SSSSSS`/`SSSSSSSSS`→`%3f`/`%6f`/`%9f`, `XXX`→`%:z`,
    /// `Z`/`XX`/`xx`→`%z` (a zero offset prints as `+00:00`, not `Z`). Chrono's parser is more lenient than Java's
    /// (`%d` also reads one digit), so this is for formatting and for
    /// callers (e.g. arrow's CSV reader) that only take chrono formats;
    /// `None` when a field has no chrono equivalent.
    pub fn to_chrono_format(&self) -> Option<String> {
        let mut out = String::new();
        for item in &self.items {
            match item {
                Item::Literal(s) => out.push_str(&s.replace('%', "%%")),
                Item::Optional(_) => return None,
                Item::Field(f) => out.push_str(chrono_spec(f)?),
            }
        }
        Some(out)
    }
}

fn chrono_spec(f: &Field) -> Option<&'static str> {
    Some(match *f {
        Field::Year { count: 4, of_era: false } => "%Y",
        Field::Year { count: 2, of_era: false } => "%y",
        Field::Month { count: 1 } => "%-m",
        Field::Month { count: 2 } => "%m",
        Field::Month { count: 3 } => "%b",
        Field::Month { count: 4 } => "%B",
        Field::DayOfMonth { count: 1 } => "%-d",
        Field::DayOfMonth { count: 2 } => "%d",
        Field::DayOfYear { count: 3 } => "%j",
        Field::DayOfYear { count: 1 } => "%-j",
        Field::DayOfWeek(TextStyle::Short) => "%a",
        Field::DayOfWeek(TextStyle::Full) => "%A",
        Field::AmPm => "%p",
        Field::Hour { kind: HourKind::HourOfDay, count: 1 } => "%-H",
        Field::Hour { kind: HourKind::HourOfDay, count: 2 } => "%H",
        Field::Hour { kind: HourKind::ClockHourOfAmPm, count: 1 } => "%-I",
        Field::Hour { kind: HourKind::ClockHourOfAmPm, count: 2 } => "%I",
        Field::Minute { count: 1 } => "%-M",
        Field::Minute { count: 2 } => "%M",
        Field::Second { count: 1 } => "%-S",
        Field::Second { count: 2 } => "%S",
        Field::Fraction { count: 3 } => "%3f",
        Field::Fraction { count: 6 } => "%6f",
        Field::Fraction { count: 9 } => "%9f",
        // Lossy for a zero offset, which `X` prints as `Z`.
        Field::Offset { style: OffsetStyle(4), .. } => "%:z",
        Field::Offset { style: OffsetStyle(3), .. } => "%z",
        _ => return None,
    })
}

/// Spark's `convertIncompatiblePattern` checks, on the unquoted parts.
fn spark_checks(pattern: &str, mode: Mode) -> Result<(), SparkCheck> {
    const WEEK_BASED: &[char] = &['Y', 'W', 'w', 'u', 'e', 'c'];
    const UNSUPPORTED: &[char] = &['A', 'B', 'n', 'N', 'p'];
    const UNSUPPORTED_FOR_PARSING: &[char] = &['E', 'F', 'q', 'Q'];
    const LENGTHS: &[&str] = &["GGGGG", "MMMMM", "LLLLL", "EEEEE", "QQQQQ", "qqqqq", "yyyyyyy"];
    for part in pattern.split('\'').step_by(2) {
        if let Some(c) = part.chars().find(|c| WEEK_BASED.contains(c)) {
            return Err(SparkCheck::WeekBased(c));
        }
        if let Some(c) = part
            .chars()
            .find(|c| UNSUPPORTED.contains(c) || (mode == Mode::Parse && UNSUPPORTED_FOR_PARSING.contains(c)))
        {
            return Err(SparkCheck::IllegalChar(c));
        }
        if let Some(style) = LENGTHS.iter().find(|s| part.contains(**s)) {
            return Err(SparkCheck::Length((*style).to_string()));
        }
    }
    Ok(())
}

/// Whether Java's `SimpleDateFormat` (Spark's legacy formatter) takes the
/// pattern: only its letters, closed quotes, at most three `X`.
fn legacy_accepts(pattern: &str) -> bool {
    const LETTERS: &str = "GyMdkHmsSEDFwWahKzZYuXL";
    let chars: Vec<char> = pattern.chars().collect();
    let mut in_quote = false;
    let mut i = 0;
    let mut run: Option<(char, usize)> = None;
    while i < chars.len() {
        let c = chars[i];
        if c == '\'' {
            if chars.get(i + 1) == Some(&'\'') {
                i += 2;
                run = None;
                continue;
            }
            in_quote = !in_quote;
            run = None;
            i += 1;
            continue;
        }
        if in_quote || !c.is_ascii_alphabetic() {
            run = None;
            i += 1;
            continue;
        }
        if !LETTERS.contains(c) {
            return false;
        }
        run = match run {
            Some((r, n)) if r == c => Some((r, n + 1)),
            _ => Some((c, 1)),
        };
        if let Some(('X', n)) = run
            && n >= 4
        {
            return false;
        }
        i += 1;
    }
    !in_quote
}

/// Java's `DateTimeFormatterBuilder.appendPattern`, as tokens; `Err(())`
/// where Java throws `IllegalArgumentException`.
fn tokenize(pattern: &str) -> Result<Vec<Item>, ()> {
    let chars: Vec<char> = pattern.chars().collect();
    // Spark keeps `y` as year-of-era only when an era letter is present.
    let has_era = pattern.split('\'').step_by(2).any(|p| p.contains('G'));
    let mut stack: Vec<Vec<Item>> = vec![Vec::new()];
    let mut pos = 0;
    while pos < chars.len() {
        let cur = chars[pos];
        if cur.is_ascii_alphabetic() {
            let start = pos;
            while pos < chars.len() && chars[pos] == cur {
                pos += 1;
            }
            let count = pos - start;
            let field = letter_field(cur, count, has_era)?;
            push(&mut stack, Item::Field(field));
        } else if cur == '\'' {
            let start = pos;
            pos += 1;
            let mut closed = false;
            while pos < chars.len() {
                if chars[pos] == '\'' {
                    if chars.get(pos + 1) == Some(&'\'') {
                        pos += 1;
                    } else {
                        closed = true;
                        break;
                    }
                }
                pos += 1;
            }
            if !closed {
                return Err(());
            }
            let text: String = chars[start + 1..pos].iter().collect();
            let text = if text.is_empty() { "'".to_string() } else { text.replace("''", "'") };
            push_literal(&mut stack, &text);
            pos += 1;
        } else if cur == '[' {
            stack.push(Vec::new());
            pos += 1;
        } else if cur == ']' {
            if stack.len() < 2 {
                return Err(());
            }
            close_optional(&mut stack);
            pos += 1;
        } else if matches!(cur, '{' | '}' | '#') {
            return Err(());
        } else {
            push_literal(&mut stack, &cur.to_string());
            pos += 1;
        }
    }
    // Java closes optional sections left open.
    while stack.len() > 1 {
        close_optional(&mut stack);
    }
    Ok(stack.pop().unwrap_or_default())
}

fn push(stack: &mut [Vec<Item>], item: Item) {
    if let Some(top) = stack.last_mut() {
        top.push(item);
    }
}

/// Literals stay as Java builds them — one per unquoted character, one per
/// quoted string — so a failed parse reports Java's index.
fn push_literal(stack: &mut [Vec<Item>], text: &str) {
    push(stack, Item::Literal(text.to_string()));
}

fn close_optional(stack: &mut Vec<Vec<Item>>) {
    if let Some(inner) = stack.pop() {
        push(stack, Item::Optional(inner));
    }
}

fn count_u8(count: usize) -> u8 {
    u8::try_from(count).unwrap_or(u8::MAX)
}

fn letter_field(cur: char, count: usize, has_era: bool) -> Result<Field, ()> {
    let n = count_u8(count);
    let style = |count: usize| if count == 4 { TextStyle::Full } else { TextStyle::Short };
    Ok(match cur {
        'G' => match count {
            1..=4 => Field::Era(style(count)),
            _ => return Err(()),
        },
        'y' => match count {
            1..=19 => Field::Year { count: n, of_era: has_era },
            _ => return Err(()),
        },
        'Q' | 'q' => match count {
            1..=4 => Field::Quarter { count: n },
            _ => return Err(()),
        },
        'M' | 'L' => match count {
            1..=4 => Field::Month { count: n },
            _ => return Err(()),
        },
        'E' => match count {
            1..=4 => Field::DayOfWeek(style(count)),
            _ => return Err(()),
        },
        'a' if count == 1 => Field::AmPm,
        'F' if count == 1 => Field::AlignedDayOfWeekInMonth,
        'S' if count <= 9 => Field::Fraction { count: n },
        'd' if count <= 2 => Field::DayOfMonth { count: n },
        'H' if count <= 2 => Field::Hour { kind: HourKind::HourOfDay, count: n },
        'k' if count <= 2 => Field::Hour { kind: HourKind::ClockHourOfDay, count: n },
        'K' if count <= 2 => Field::Hour { kind: HourKind::HourOfAmPm, count: n },
        'h' if count <= 2 => Field::Hour { kind: HourKind::ClockHourOfAmPm, count: n },
        'm' if count <= 2 => Field::Minute { count: n },
        's' if count <= 2 => Field::Second { count: n },
        'D' if count <= 3 => Field::DayOfYear { count: n },
        'g' if count <= 19 => Field::ModifiedJulianDay { count: n },
        'V' if count == 2 => Field::ZoneId,
        'z' if count <= 4 => Field::ZoneName(style(count)),
        'v' if count == 1 || count == 4 => Field::GenericZoneName(style(count)),
        'O' if count == 1 || count == 4 => Field::LocalizedOffset(style(count)),
        'Z' => match count {
            1..=3 => Field::Offset { style: OffsetStyle(3), zero: "+0000" },
            4 => Field::LocalizedOffset(TextStyle::Full),
            5 => Field::Offset { style: OffsetStyle(6), zero: "Z" },
            _ => return Err(()),
        },
        'X' if count <= 5 => Field::Offset { style: offset_style(count), zero: "Z" },
        'x' if count <= 5 => {
            let zero = if count == 1 {
                "+00"
            } else if count.is_multiple_of(2) {
                "+0000"
            } else {
                "+00:00"
            };
            Field::Offset { style: offset_style(count), zero }
        }
        // Unknown letters, too many letters, and letters Spark already
        // rejected (week-based, `A n N p B`).
        _ => return Err(()),
    })
}

fn offset_style(count: usize) -> OffsetStyle {
    OffsetStyle(count_u8(if count == 1 { 1 } else { count + 1 }))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn items(p: &str) -> Vec<Item> {
        DateTimePattern::compile(p, Mode::Format).unwrap().items
    }

    fn err(p: &str, mode: Mode) -> PatternError {
        DateTimePattern::compile(p, mode).unwrap_err()
    }

    #[test]
    fn tokenizes_fields_and_literals() {
        assert_eq!(
            items("d-M-yyyy"),
            vec![
                Item::Field(Field::DayOfMonth { count: 1 }),
                Item::Literal("-".into()),
                Item::Field(Field::Month { count: 1 }),
                Item::Literal("-".into()),
                Item::Field(Field::Year { count: 4, of_era: false }),
            ]
        );
        assert_eq!(
            items("yyyy-MM-dd'T'HH:mm:ss.SSS"),
            vec![
                Item::Field(Field::Year { count: 4, of_era: false }),
                Item::Literal("-".into()),
                Item::Field(Field::Month { count: 2 }),
                Item::Literal("-".into()),
                Item::Field(Field::DayOfMonth { count: 2 }),
                Item::Literal("T".into()),
                Item::Field(Field::Hour { kind: HourKind::HourOfDay, count: 2 }),
                Item::Literal(":".into()),
                Item::Field(Field::Minute { count: 2 }),
                Item::Literal(":".into()),
                Item::Field(Field::Second { count: 2 }),
                Item::Literal(".".into()),
                Item::Field(Field::Fraction { count: 3 }),
            ]
        );
    }

    #[test]
    fn quotes_and_escaped_quotes() {
        assert_eq!(items("''"), vec![Item::Literal("'".into())]);
        assert_eq!(
            items("'o''clock' h"),
            vec![
                Item::Literal("o'clock".into()),
                Item::Literal(" ".into()),
                Item::Field(Field::Hour { kind: HourKind::ClockHourOfAmPm, count: 1 }),
            ]
        );
        // Letters inside quotes are text, and `G` there is no era.
        assert_eq!(
            items("'G' y"),
            vec![
                Item::Literal("G".into()),
                Item::Literal(" ".into()),
                Item::Field(Field::Year { count: 1, of_era: false }),
            ]
        );
        assert_eq!(items("G y")[2], Item::Field(Field::Year { count: 1, of_era: true }));
    }

    #[test]
    fn optional_sections_nest_and_close_at_end() {
        assert_eq!(
            items("[yyyy[MM]"),
            vec![Item::Optional(vec![
                Item::Field(Field::Year { count: 4, of_era: false }),
                Item::Optional(vec![Item::Field(Field::Month { count: 2 })]),
            ])]
        );
    }

    #[test]
    fn zone_letters() {
        assert_eq!(items("XXX"), vec![Item::Field(Field::Offset { style: OffsetStyle(4), zero: "Z" })]);
        assert_eq!(items("Z"), vec![Item::Field(Field::Offset { style: OffsetStyle(3), zero: "+0000" })]);
        assert_eq!(items("x"), vec![Item::Field(Field::Offset { style: OffsetStyle(1), zero: "+00" })]);
        assert_eq!(items("VV"), vec![Item::Field(Field::ZoneId)]);
        assert_eq!(items("ZZZZ"), vec![Item::Field(Field::LocalizedOffset(TextStyle::Full))]);
    }

    #[test]
    fn spark_error_classes() {
        // Legacy SimpleDateFormat knows the letter: "pattern recognition".
        for p in ["YYYY", "yyyy-MM-dd u", "MMMMM", "ddd", "yyyy]", "yyyy {", "yyyyyyy", "SSSSSSSSSS", "aa"] {
            let e = err(p, Mode::Format);
            assert_eq!(e.error_class, "INCONSISTENT_BEHAVIOR_CROSS_VERSION.DATETIME_PATTERN_RECOGNITION", "{p}");
            assert!(e.message.contains(&format!("Fail to recognize '{p}' pattern")), "{}", e.message);
        }
        assert_eq!(
            err("EEE", Mode::Parse).error_class,
            "INCONSISTENT_BEHAVIOR_CROSS_VERSION.DATETIME_PATTERN_RECOGNITION"
        );
        assert!(DateTimePattern::compile("EEE", Mode::Format).is_ok());
        let e = err("yyyy-MM-dd A", Mode::Format);
        assert_eq!(
            e.message,
            "[INVALID_DATETIME_PATTERN.ILLEGAL_CHARACTER] Unrecognized datetime pattern: yyyy-MM-dd A. Illegal pattern character found in datetime pattern: A. Please provide legal character. SQLSTATE: 22007"
        );
        assert_eq!(err("yyyy Q", Mode::Parse).error_class, "INVALID_DATETIME_PATTERN.ILLEGAL_CHARACTER");
        assert_eq!(
            err("e", Mode::Format).error_class,
            "INCONSISTENT_BEHAVIOR_CROSS_VERSION.DATETIME_WEEK_BASED_PATTERN"
        );
        assert_eq!(err("QQQQQ", Mode::Format).error_class, "INVALID_DATETIME_PATTERN.LENGTH");
        for p in ["yyyy-MM-dd b", "J", "VVV", "OO", "XXXXXX", "yyyy 'open"] {
            let e = err(p, Mode::Format);
            assert_eq!(e.error_class, "INVALID_DATETIME_PATTERN.WITH_SUGGESTION", "{p}");
            assert!(e.message.contains(&format!("Unrecognized datetime pattern: '{p}'")), "{}", e.message);
        }
    }

    #[test]
    fn chrono_translation() {
        let p = DateTimePattern::compile("yyyy-MM-dd'T'HH:mm:ss.SSSXXX", Mode::Format).unwrap();
        assert_eq!(p.to_chrono_format().as_deref(), Some("%Y-%m-%dT%H:%M:%S.%3f%:z"));
        let p = DateTimePattern::compile("d-M-yyyy '100%'", Mode::Format).unwrap();
        assert_eq!(p.to_chrono_format().as_deref(), Some("%-d-%-m-%Y 100%%"));
        let p = DateTimePattern::compile("EEE, MMM d yyyy hh:mm a", Mode::Format).unwrap();
        assert_eq!(p.to_chrono_format().as_deref(), Some("%a, %b %-d %Y %I:%M %p"));
        assert_eq!(DateTimePattern::compile("QQQ", Mode::Format).unwrap().to_chrono_format(), None);
    }
}
