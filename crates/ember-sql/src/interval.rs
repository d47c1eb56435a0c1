//! Spark's ANSI interval types: `interval year to month` (a count of
//! months; Arrow's `Interval(YearMonth)`) and `interval day to second` (a
//! count of microseconds; Arrow's `Duration(µs)`), each with a start and an
//! end field (`interval year`, `interval day to hour`, `interval minute`).
//!
//! Arrow has no place for the fields in the type, so a column's fields ride
//! in its field metadata ([`FIELDS`]); without them a year-month interval is
//! `interval year to month` and a day-time interval `interval day to
//! second`, the types Spark gives products, quotients and `make_*_interval`.
//!
//! Also here: Spark's text of an interval value (`INTERVAL '1-2' YEAR TO
//! MONTH`, `INTERVAL '02' HOUR`) and its interval literals in SQL
//! (`INTERVAL 1 DAY 2 HOURS`, `INTERVAL '1 02:03:04' DAY TO SECOND`,
//! `INTERVAL '1 day'`), with Spark's errors for malformed ones.

use std::collections::HashMap;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::{DataType, Field, IntervalUnit, TimeUnit};
use datafusion::sql::sqlparser::ast;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::parser::{Parser, ParserError};
use datafusion::sql::sqlparser::tokenizer::Token;

/// The field-metadata key holding an interval column's Spark type name.
pub const FIELDS: &str = "ember.interval";

const YEAR_MONTH: [&str; 2] = ["year", "month"];
const DAY_TIME: [&str; 4] = ["day", "hour", "minute", "second"];

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_MINUTE: i64 = 60 * MICROS_PER_SECOND;
const MICROS_PER_HOUR: i64 = 60 * MICROS_PER_MINUTE;
pub(crate) const MICROS_PER_DAY: i64 = 24 * MICROS_PER_HOUR;

/// An ANSI interval type: its kind and its start and end fields (indexes
/// into YEAR, MONTH or DAY, HOUR, MINUTE, SECOND).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Interval {
    YearMonth(u8, u8),
    DayTime(u8, u8),
}

impl Interval {
    pub const YEAR_TO_MONTH: Self = Self::YearMonth(0, 1);
    pub const DAY_TO_SECOND: Self = Self::DayTime(0, 3);
    pub const DAY: Self = Self::DayTime(0, 0);

    fn names(self) -> (&'static [&'static str], u8, u8) {
        match self {
            Self::YearMonth(s, e) => (&YEAR_MONTH, s, e),
            Self::DayTime(s, e) => (&DAY_TIME, s, e),
        }
    }

    /// The start and end fields, as Spark numbers them.
    pub fn fields(self) -> (i32, i32) {
        let (_, s, e) = self.names();
        (i32::from(s), i32::from(e))
    }

    /// Spark's type name: `interval year`, `interval day to second`.
    pub fn name(self) -> String {
        let (names, s, e) = self.names();
        if s == e {
            format!("interval {}", names[usize::from(s)])
        } else {
            format!("interval {} to {}", names[usize::from(s)], names[usize::from(e)])
        }
    }

    /// The type a [`Self::name`] names.
    pub fn parse(name: &str) -> Option<Self> {
        let rest = name.trim().to_ascii_lowercase();
        let rest = rest.strip_prefix("interval ")?;
        let (from, to) = match rest.split_once(" to ") {
            Some((f, t)) => (f.trim().to_string(), t.trim().to_string()),
            None => (rest.trim().to_string(), rest.trim().to_string()),
        };
        let index = |names: &[&str], n: &str| names.iter().position(|x| *x == n).map(|i| i as u8);
        if let (Some(s), Some(e)) = (index(&YEAR_MONTH, &from), index(&YEAR_MONTH, &to)) {
            return (s <= e).then_some(Self::YearMonth(s, e));
        }
        let (s, e) = (index(&DAY_TIME, &from)?, index(&DAY_TIME, &to)?);
        (s <= e).then_some(Self::DayTime(s, e))
    }

    pub fn data_type(self) -> DataType {
        match self {
            Self::YearMonth(..) => DataType::Interval(IntervalUnit::YearMonth),
            Self::DayTime(..) => DataType::Duration(TimeUnit::Microsecond),
        }
    }

    /// The interval type of a column, or `None` when it holds no ANSI
    /// interval.
    pub fn of_field(field: &Field) -> Option<Self> {
        Self::of(field.data_type(), field.metadata())
    }

    /// The interval type of values of `data_type` whose field metadata is
    /// `metadata`.
    pub fn of(data_type: &DataType, metadata: &HashMap<String, String>) -> Option<Self> {
        let declared = metadata.get(FIELDS).and_then(|n| Self::parse(n));
        match data_type {
            DataType::Interval(IntervalUnit::YearMonth) => {
                Some(declared.filter(|t| matches!(t, Self::YearMonth(..))).unwrap_or(Self::YEAR_TO_MONTH))
            }
            DataType::Duration(_) => {
                Some(declared.filter(|t| matches!(t, Self::DayTime(..))).unwrap_or(Self::DAY_TO_SECOND))
            }
            _ => None,
        }
    }

    /// The field metadata that marks a column as this type.
    pub fn metadata(self) -> HashMap<String, String> {
        HashMap::from([(FIELDS.to_string(), self.name())])
    }

    /// A column of this type.
    pub fn field(self, name: &str, nullable: bool) -> Field {
        Field::new(name, self.data_type(), nullable).with_metadata(self.metadata())
    }

    /// The narrowest type holding both (Spark's result of `a + b`).
    pub fn widen(self, other: Self) -> Option<Self> {
        match (self, other) {
            (Self::YearMonth(a, b), Self::YearMonth(c, d)) => Some(Self::YearMonth(a.min(c), b.max(d))),
            (Self::DayTime(a, b), Self::DayTime(c, d)) => Some(Self::DayTime(a.min(c), b.max(d))),
            _ => None,
        }
    }

    /// Spark's text of a value (months or microseconds) of this type:
    /// `INTERVAL '1-2' YEAR TO MONTH`, `INTERVAL '1 02:03:04.5' DAY TO
    /// SECOND`, `INTERVAL '02' HOUR`.
    pub fn format(self, value: i64) -> String {
        let (names, s, e) = self.names();
        let suffix = if s == e {
            names[usize::from(s)].to_ascii_uppercase()
        } else {
            format!("{} TO {}", names[usize::from(s)].to_ascii_uppercase(), names[usize::from(e)].to_ascii_uppercase())
        };
        let sign = if value < 0 { "-" } else { "" };
        let abs = value.unsigned_abs();
        let text = match self {
            Self::YearMonth(0, 0) => format!("{sign}{}", abs / 12),
            Self::YearMonth(1, 1) => value.to_string(),
            Self::YearMonth(..) => format!("{sign}{}-{}", abs / 12, abs % 12),
            Self::DayTime(s, e) => {
                let mut rest = abs;
                let mut out = String::from(sign);
                let units = [MICROS_PER_DAY, MICROS_PER_HOUR, MICROS_PER_MINUTE];
                for field in s..=e {
                    let lead = field == s;
                    if field == 3 {
                        let (whole, frac) = (rest / 1_000_000, rest % 1_000_000);
                        if !lead {
                            out.push(':');
                        }
                        if whole < 10 {
                            out.push('0');
                        }
                        out.push_str(&whole.to_string());
                        if frac != 0 {
                            out.push('.');
                            out.push_str(format!("{frac:06}").trim_end_matches('0'));
                        }
                    } else {
                        let unit = units[usize::from(field)].unsigned_abs();
                        let n = rest / unit;
                        rest %= unit;
                        match (field, lead) {
                            (0, _) => out.push_str(&n.to_string()),
                            (_, true) => out.push_str(&format!("{n:02}")),
                            (1, false) => out.push_str(&format!(" {n:02}")),
                            (_, false) => out.push_str(&format!(":{n:02}")),
                        }
                    }
                }
                out
            }
        };
        format!("INTERVAL '{text}' {suffix}")
    }
}

/// The months (a year-month interval) or microseconds (a day-time
/// interval, of any Arrow unit) of `array[row]`; `None` for a NULL or
/// another type.
pub fn value_at(array: &dyn Array, row: usize) -> Option<i64> {
    use datafusion::arrow::datatypes as t;
    if array.is_null(row) {
        return None;
    }
    Some(match array.data_type() {
        DataType::Interval(IntervalUnit::YearMonth) => {
            i64::from(array.as_primitive::<t::IntervalYearMonthType>().value(row))
        }
        DataType::Duration(TimeUnit::Second) => {
            array.as_primitive::<t::DurationSecondType>().value(row).saturating_mul(MICROS_PER_SECOND)
        }
        DataType::Duration(TimeUnit::Millisecond) => {
            array.as_primitive::<t::DurationMillisecondType>().value(row).saturating_mul(1_000)
        }
        DataType::Duration(TimeUnit::Microsecond) => array.as_primitive::<t::DurationMicrosecondType>().value(row),
        DataType::Duration(TimeUnit::Nanosecond) => {
            array.as_primitive::<t::DurationNanosecondType>().value(row) / 1_000
        }
        _ => return None,
    })
}

/// A unit of Spark's multi-unit interval literals, as the field it counts
/// in and how many of the field's units one of it is.
fn unit(word: &str) -> Option<(Interval, i64)> {
    let w = word.to_ascii_lowercase();
    let w = w.strip_suffix('s').unwrap_or(&w);
    Some(match w {
        "year" => (Interval::YearMonth(0, 0), 12),
        "month" => (Interval::YearMonth(1, 1), 1),
        "week" => (Interval::DayTime(0, 0), 7 * MICROS_PER_DAY),
        "day" => (Interval::DayTime(0, 0), MICROS_PER_DAY),
        "hour" => (Interval::DayTime(1, 1), MICROS_PER_HOUR),
        "minute" => (Interval::DayTime(2, 2), MICROS_PER_MINUTE),
        "second" => (Interval::DayTime(3, 3), MICROS_PER_SECOND),
        "millisecond" => (Interval::DayTime(3, 3), 1_000),
        "microsecond" => (Interval::DayTime(3, 3), 1),
        _ => return None,
    })
}

fn is_unit_word(token: &Token) -> bool {
    matches!(token, Token::Word(w) if w.quote_style.is_none() && (unit(&w.value).is_some() || w.value.eq_ignore_ascii_case("nanosecond") || w.value.eq_ignore_ascii_case("nanoseconds")))
}

fn invalid_format(kind: &str, input: &str, detail: &str) -> ParserError {
    ParserError::ParserError(format!(
        "[INVALID_INTERVAL_FORMAT.{kind}] Error parsing '{input}' to interval. Please ensure that the value provided is in a valid format for defining an interval. You can reference the documentation for the correct format. {detail} SQLSTATE: 22006"
    ))
}

/// A literal's value as written: its sign (outside and inside a string)
/// folded in.
struct Value {
    text: String,
    /// How the value was written, for error messages.
    source: String,
}

/// Whether the parser is at the start of an interval value: a number or a
/// string, after an optional sign.
fn at_value(parser: &Parser, n: usize) -> bool {
    let t = |i: usize| &parser.peek_nth_token_ref(i).token;
    match t(n) {
        Token::Number(..) | Token::SingleQuotedString(_) => true,
        Token::Minus | Token::Plus => matches!(t(n + 1), Token::Number(..) | Token::SingleQuotedString(_)),
        _ => false,
    }
}

fn next_value(parser: &mut Parser) -> Result<Value, ParserError> {
    let mut negative = false;
    let mut source = String::new();
    loop {
        match parser.next_token().token {
            Token::Minus => {
                negative = !negative;
                source.push('-');
            }
            Token::Plus => source.push('+'),
            Token::Number(n, _) => {
                source.push_str(&n);
                return Ok(Value { text: negate(&n, negative), source });
            }
            Token::SingleQuotedString(s) => {
                source.push_str(&format!("'{s}'"));
                return Ok(Value { text: negate(s.trim(), negative), source });
            }
            other => {
                return parser
                    .expected("an interval value", datafusion::sql::sqlparser::tokenizer::TokenWithSpan::wrap(other));
            }
        }
    }
}

/// `text` with its sign flipped when `negative`: `-'-1'` is `1`.
fn negate(text: &str, negative: bool) -> String {
    if !negative {
        return text.to_string();
    }
    match text.strip_prefix('-') {
        Some(rest) => rest.to_string(),
        None => format!("-{}", text.strip_prefix('+').unwrap_or(text)),
    }
}

/// Parses Spark's interval literal at `INTERVAL`, as a call that plans to
/// the typed value: `ember_interval('<months or microseconds>', '<type>')`.
pub fn parse_literal(parser: &mut Parser) -> Result<ast::Expr, ParserError> {
    let keyword = parser.next_token();
    let mut source = vec![keyword.token.to_string()];
    let first = next_value(parser)?;
    source.push(first.source.clone());
    let peek_word = |parser: &Parser| match &parser.peek_token_ref().token {
        Token::Word(w) if w.quote_style.is_none() => Some(w.clone()),
        _ => None,
    };
    let (interval, value) = if is_unit_word(&parser.peek_token_ref().token) {
        let from = parser.next_token().token.to_string();
        source.push(from.clone());
        if peek_word(parser).is_some_and(|w| w.keyword == Keyword::TO) {
            parser.next_token();
            let to = parser.next_token().token.to_string();
            unit_to_unit(&first.text, &from, &to)?
        } else {
            let mut pairs = vec![(first.text, from)];
            while at_value(parser, 0) && {
                let mut i = 0;
                while matches!(parser.peek_nth_token_ref(i).token, Token::Minus | Token::Plus) {
                    i += 1;
                }
                is_unit_word(&parser.peek_nth_token_ref(i + 1).token)
            } {
                let v = next_value(parser)?;
                let u = parser.next_token().token.to_string();
                source.push(v.source);
                source.push(u.clone());
                pairs.push((v.text, u));
            }
            multi_units(&pairs, &source.join(" "), true)?
        }
    } else {
        // `INTERVAL '1 day 2 hours'`: the units are in the string.
        let words: Vec<&str> = first.text.split_whitespace().collect();
        let typed_literal_error = || {
            ParserError::ParserError(format!(
                "[INVALID_TYPED_LITERAL] The value of the typed literal \"INTERVAL\" is invalid: {}. SQLSTATE: 42604",
                first.source
            ))
        };
        let words = match words.first() {
            Some(w) if w.eq_ignore_ascii_case("interval") => &words[1..],
            _ => &words[..],
        };
        if words.is_empty() || words.len() % 2 != 0 {
            return Err(typed_literal_error());
        }
        let pairs: Vec<(String, String)> = words.chunks(2).map(|p| (p[0].to_string(), p[1].to_string())).collect();
        if pairs.iter().any(|(_, u)| unit(u).is_none()) {
            return Err(typed_literal_error());
        }
        multi_units(&pairs, &source.join(" "), false)?
    };
    let text = |s: String| ast::Expr::value(ast::Value::SingleQuotedString(s));
    Ok(crate::dialect::ast_call("ember_interval", vec![text(value.to_string()), text(interval.name())]))
}

/// The interval literal `e` (a [`parse_literal`] call) negated, or `None`
/// when `e` is none.
pub fn negated_literal(e: &ast::Expr) -> Option<ast::Expr> {
    let ast::Expr::Function(f) = e else { return None };
    if !f.name.to_string().eq_ignore_ascii_case("ember_interval") {
        return None;
    }
    let ast::FunctionArguments::List(list) = &f.args else { return None };
    let text = |i: usize| match list.args.get(i) {
        Some(ast::FunctionArg::Unnamed(ast::FunctionArgExpr::Expr(ast::Expr::Value(v)))) => match &v.value {
            ast::Value::SingleQuotedString(s) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    };
    let (value, interval) = (text(0)?.parse::<i64>().ok()?.checked_neg()?, text(1)?);
    let text = |s: String| ast::Expr::value(ast::Value::SingleQuotedString(s));
    Some(crate::dialect::ast_call("ember_interval", vec![text(value.to_string()), text(interval)]))
}

/// `1 year 2 months`, `3 days 4 hours`: the sum of the units' values, typed
/// from the first field to the last.
fn multi_units(pairs: &[(String, String)], literal: &str, from_sql: bool) -> Result<(Interval, i64), ParserError> {
    let input: String = pairs.iter().map(|(v, u)| format!(" {v} {u}")).collect();
    let mut found: Option<Interval> = None;
    let mut total: i64 = 0;
    for (value, word) in pairs {
        let Some((field, per)) = unit(word) else {
            return Err(invalid_format("INVALID_UNIT", &input, &format!("Invalid unit {word}.")));
        };
        let number = value.strip_prefix('+').unwrap_or(value);
        let valid = {
            let digits = number.strip_prefix('-').unwrap_or(number);
            let (whole, frac) = digits.split_once('.').unwrap_or((digits, ""));
            !whole.is_empty() && whole.chars().all(|c| c.is_ascii_digit()) && frac.chars().all(|c| c.is_ascii_digit())
        };
        if !valid {
            if from_sql {
                return Err(ParserError::ParserError(format!(
                    "[_LEGACY_ERROR_TEMP_0026] Can only use numbers in the interval value part for multiple unit value pairs interval form, but got invalid value: {value}."
                )));
            }
            return Err(ParserError::ParserError(format!(
                "[INVALID_TYPED_LITERAL] The value of the typed literal \"INTERVAL\" is invalid: '{}'. SQLSTATE: 42604",
                input.trim()
            )));
        }
        let overflow = || {
            invalid_format(
                "ARITHMETIC_EXCEPTION",
                &input,
                &format!("Uncaught arithmetic exception while parsing '{input}'."),
            )
        };
        let amount = match number.split_once('.') {
            None => number.parse::<i64>().ok().and_then(|n| n.checked_mul(per)).ok_or_else(overflow)?,
            Some(_) if per != MICROS_PER_SECOND => {
                let name = word.to_ascii_lowercase();
                return Err(invalid_format(
                    "INVALID_FRACTION",
                    &input,
                    &format!("{name} cannot have fractional part."),
                ));
            }
            Some((whole, frac)) => {
                let negative = whole.starts_with('-');
                let whole: i64 = whole.trim_start_matches('-').parse().map_err(|_| overflow())?;
                let frac: i64 = format!("{:0<6}", &frac[..frac.len().min(6)]).parse().map_err(|_| overflow())?;
                let micros =
                    whole.checked_mul(MICROS_PER_SECOND).and_then(|w| w.checked_add(frac)).ok_or_else(overflow)?;
                if negative { -micros } else { micros }
            }
        };
        total = total.checked_add(amount).ok_or_else(overflow)?;
        found = match found {
            None => Some(field),
            Some(t) => match t.widen(field) {
                Some(t) => Some(t),
                None => {
                    return Err(ParserError::ParserError(format!(
                        "[_LEGACY_ERROR_TEMP_0029] Cannot mix year-month and day-time fields: {literal}."
                    )));
                }
            },
        };
        if matches!(field, Interval::YearMonth(..)) && i32::try_from(total).is_err() {
            return Err(overflow());
        }
    }
    let interval = found.ok_or_else(|| ParserError::ParserError("an interval needs a value and a unit".into()))?;
    Ok((interval, total))
}

/// `'1-2' YEAR TO MONTH`, `'1 02:03:04.5' DAY TO SECOND`, `'02:03' HOUR TO
/// MINUTE`.
fn unit_to_unit(text: &str, from: &str, to: &str) -> Result<(Interval, i64), ParserError> {
    let (from_l, to_l) = (from.to_ascii_lowercase(), to.to_ascii_lowercase());
    let Some(interval) = Interval::parse(&format!("interval {from_l} to {to_l}")) else {
        return Err(ParserError::ParserError(format!(
            "[_LEGACY_ERROR_TEMP_0028] Intervals FROM {} TO {} are not supported.",
            from.to_ascii_uppercase(),
            to.to_ascii_uppercase()
        )));
    };
    let (negative, body) = match text.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, text.strip_prefix('+').unwrap_or(text)),
    };
    let (names, s, e) = interval.names();
    let format = {
        let symbols = ["d", "h", "m", "s.n"];
        let ym = ["y", "m"];
        let mut f = String::from("[+|-]");
        for field in s..=e {
            let symbol = match interval {
                Interval::YearMonth(..) => ym[usize::from(field)],
                Interval::DayTime(..) => symbols[usize::from(field)],
            };
            if field != s {
                f.push(match interval {
                    Interval::YearMonth(..) => '-',
                    Interval::DayTime(..) if field == 1 => ' ',
                    Interval::DayTime(..) => ':',
                });
            }
            f.push_str(symbol);
        }
        let keywords = format!("{} TO {}", names[usize::from(s)], names[usize::from(e)]).to_ascii_uppercase();
        format!("`{f}`, `INTERVAL [+|-]'{f}' {keywords}`")
    };
    let kind = match interval {
        Interval::YearMonth(..) => "year-month",
        Interval::DayTime(..) => "day-time",
    };
    let unmatched = || {
        invalid_format(
            "UNMATCHED_FORMAT_STRING",
            text,
            &format!(
                "Interval string does not match {kind} format of {format} when cast to {}: {text}.",
                interval.name()
            ),
        )
    };
    let out_of_range = |name: &str, v: i64, max: i64| {
        ParserError::ParserError(format!(
            "[_LEGACY_ERROR_TEMP_0063] requirement failed: {name} {v} outside range [0, {max}]."
        ))
    };
    let value = match interval {
        Interval::YearMonth(..) => {
            let (y, m) = body.split_once('-').ok_or_else(unmatched)?;
            let digits = |x: &str| !x.is_empty() && x.chars().all(|c| c.is_ascii_digit());
            if !digits(y) || !digits(m) {
                return Err(unmatched());
            }
            let (y, m): (i64, i64) = (y.parse().map_err(|_| unmatched())?, m.parse().map_err(|_| unmatched())?);
            if m > 11 {
                return Err(invalid_format("INTERVAL_PARSING", text, "Error parsing interval year-month string."));
            }
            let months = y.checked_mul(12).and_then(|v| v.checked_add(m)).filter(|v| i32::try_from(*v).is_ok());
            months.ok_or_else(unmatched)?
        }
        Interval::DayTime(..) => {
            let mut rest = body;
            let mut micros: i64 = 0;
            for field in s..=e {
                if field != s {
                    let sep = if field == 1 { ' ' } else { ':' };
                    rest = rest.strip_prefix(sep).ok_or_else(unmatched)?;
                }
                let end = rest.find([' ', ':']).unwrap_or(rest.len());
                let (part, tail) = rest.split_at(end);
                rest = tail;
                let (whole, frac) = match part.split_once('.') {
                    Some((w, f)) if field == 3 => (w, f),
                    Some(_) => return Err(unmatched()),
                    None => (part, ""),
                };
                let digits = |x: &str| x.chars().all(|c| c.is_ascii_digit());
                if whole.is_empty() || !digits(whole) || !digits(frac) || frac.len() > 9 {
                    return Err(unmatched());
                }
                let n: i64 = whole.parse().map_err(|_| unmatched())?;
                let max = [i64::MAX, 23, 59, 59][usize::from(field)];
                if field != s && n > max {
                    return Err(out_of_range(names[usize::from(field)], n, max));
                }
                let per = [MICROS_PER_DAY, MICROS_PER_HOUR, MICROS_PER_MINUTE, MICROS_PER_SECOND][usize::from(field)];
                let frac = if frac.is_empty() {
                    0
                } else {
                    format!("{:0<6}", &frac[..frac.len().min(6)]).parse().unwrap_or(0)
                };
                micros = n
                    .checked_mul(per)
                    .and_then(|v| v.checked_add(frac))
                    .and_then(|v| v.checked_add(micros))
                    .ok_or_else(unmatched)?;
            }
            if !rest.is_empty() {
                return Err(unmatched());
            }
            micros
        }
    };
    Ok((interval, if negative { -value } else { value }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spark_text_of_values() {
        let t = |name: &str, v: i64| Interval::parse(name).map(|i| i.format(v)).unwrap_or_default();
        assert_eq!(t("interval year", 12), "INTERVAL '1' YEAR");
        assert_eq!(t("interval year", -12), "INTERVAL '-1' YEAR");
        assert_eq!(t("interval month", 14), "INTERVAL '14' MONTH");
        assert_eq!(t("interval year to month", -14), "INTERVAL '-1-2' YEAR TO MONTH");
        assert_eq!(t("interval day", 3 * MICROS_PER_DAY), "INTERVAL '3' DAY");
        assert_eq!(t("interval hour", 2 * MICROS_PER_HOUR), "INTERVAL '02' HOUR");
        assert_eq!(t("interval minute", 90 * MICROS_PER_MINUTE), "INTERVAL '90' MINUTE");
        assert_eq!(t("interval second", 1_500_000), "INTERVAL '01.5' SECOND");
        assert_eq!(t("interval second", 3), "INTERVAL '00.000003' SECOND");
        assert_eq!(t("interval day to hour", 26 * MICROS_PER_HOUR), "INTERVAL '1 02' DAY TO HOUR");
        assert_eq!(
            t("interval hour to second", 25 * MICROS_PER_HOUR + 3_000_000),
            "INTERVAL '25:00:03' HOUR TO SECOND"
        );
        assert_eq!(
            t("interval day to second", -(MICROS_PER_DAY + 2 * MICROS_PER_HOUR + 3 * MICROS_PER_MINUTE + 4_500_000)),
            "INTERVAL '-1 02:03:04.5' DAY TO SECOND"
        );
    }

    #[test]
    fn values_of_every_duration_unit_are_microseconds() {
        use datafusion::arrow::array::{DurationNanosecondArray, DurationSecondArray, IntervalYearMonthArray};
        let seconds = DurationSecondArray::from(vec![Some(90), None]);
        assert_eq!((value_at(&seconds, 0), value_at(&seconds, 1)), (Some(90 * MICROS_PER_SECOND), None));
        let nanos = DurationNanosecondArray::from(vec![-1_500_000_000]);
        assert_eq!(
            value_at(&nanos, 0).map(|v| Interval::DAY_TO_SECOND.format(v)).as_deref(),
            Some("INTERVAL '-0 00:00:01.5' DAY TO SECOND")
        );
        assert_eq!(value_at(&IntervalYearMonthArray::from(vec![14]), 0), Some(14));
    }

    #[test]
    fn unit_to_unit_strings() {
        assert_eq!(unit_to_unit("1-2", "year", "month").ok(), Some((Interval::YEAR_TO_MONTH, 14)));
        assert_eq!(unit_to_unit("-1-2", "YEAR", "MONTH").ok(), Some((Interval::YEAR_TO_MONTH, -14)));
        assert_eq!(
            unit_to_unit("02:03", "hour", "minute").ok(),
            Some((Interval::DayTime(1, 2), 123 * MICROS_PER_MINUTE))
        );
        assert!(unit_to_unit("1-12", "year", "month").is_err());
        assert!(unit_to_unit("1 24", "day", "hour").is_err());
        assert!(unit_to_unit("1 2", "day", "second").is_err());
    }
}
