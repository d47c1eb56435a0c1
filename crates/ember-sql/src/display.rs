//! Values as Spark prints them: `show()` tables, Java's double formatting
//! (`1.0E10`), dates, timestamps, arrays `[1, 2]`, structs `{1, a}`,
//! maps `{a -> 1}`.

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::datatypes::{DataType, TimeUnit};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use chrono::{DateTime, NaiveDate, TimeZone};
use datafusion::common::Result;

/// Java's `Double.toString`: `1.0`, `0.001`, `1.0E7`, `1.5E-4`, `NaN`, `Infinity`.
pub fn java_float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 { "Infinity".into() } else { "-Infinity".into() };
    }
    if v == 0.0 {
        return if v.is_sign_negative() { "-0.0".into() } else { "0.0".into() };
    }
    let a = v.abs();
    if (1e-3..1e7).contains(&a) {
        let s = format!("{v}");
        if s.contains('.') { s } else { format!("{s}.0") }
    } else {
        // Rust's `{:e}` is the shortest round-trip mantissa: 1.5e-4 → 1.5E-4.
        let s = format!("{v:e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let m = if m.contains('.') { m.to_string() } else { format!("{m}.0") };
        format!("{m}E{e}")
    }
}

/// Java's `Float.toString` for an `f32` (shortest digits of the float itself).
pub fn java_float32(v: f32) -> String {
    if v.is_finite() && v != 0.0 && (1e-3..1e7).contains(&v.abs()) {
        let s = format!("{v}");
        return if s.contains('.') { s } else { format!("{s}.0") };
    }
    if v.is_finite() && v != 0.0 {
        let s = format!("{v:e}");
        let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
        let m = if m.contains('.') { m.to_string() } else { format!("{m}.0") };
        return format!("{m}E{e}");
    }
    java_float(f64::from(v))
}

pub fn date32(days: i32) -> String {
    NaiveDate::from_num_days_from_ce_opt(days + 719_163).map(|d| d.to_string()).unwrap_or_else(|| days.to_string())
}

/// `2024-01-02 03:04:05[.123456]`, in `tz` when given (Spark shows session-local time).
pub fn timestamp_us(us: i64, tz: Option<&str>) -> String {
    let Some(utc) = DateTime::from_timestamp_micros(us) else {
        return us.to_string();
    };
    let naive = match tz.and_then(|t| t.parse::<chrono_tz::Tz>().ok()) {
        Some(zone) => zone.from_utc_datetime(&utc.naive_utc()).naive_local(),
        None => utc.naive_utc(),
    };
    let base = naive.format("%Y-%m-%d %H:%M:%S").to_string();
    let micros = us.rem_euclid(1_000_000);
    if micros == 0 {
        base
    } else {
        let frac = format!("{micros:06}");
        format!("{base}.{}", frac.trim_end_matches('0'))
    }
}

/// One cell as Spark's `show()` renders it (`NULL` for null).
pub fn cell(array: &ArrayRef, row: usize) -> String {
    // A NullArray has no validity bits: every row is NULL.
    if array.is_null(row) || array.data_type().is_null() {
        return "NULL".into();
    }
    value(array, row)
}

fn value(array: &ArrayRef, row: usize) -> String {
    use arrow::datatypes as t;
    match array.data_type() {
        DataType::Float64 => java_float(array.as_primitive::<t::Float64Type>().value(row)),
        DataType::Float32 => java_float32(array.as_primitive::<t::Float32Type>().value(row)),
        DataType::Date32 => date32(array.as_primitive::<t::Date32Type>().value(row)),
        DataType::Timestamp(TimeUnit::Microsecond, tz) => {
            timestamp_us(array.as_primitive::<t::TimestampMicrosecondType>().value(row), tz.as_deref())
        }
        DataType::Timestamp(_, tz) => {
            let target = DataType::Timestamp(TimeUnit::Microsecond, tz.clone());
            match arrow::compute::cast(&array.slice(row, 1), &target) {
                Ok(a) => timestamp_us(a.as_primitive::<t::TimestampMicrosecondType>().value(0), tz.as_deref()),
                Err(_) => String::new(),
            }
        }
        DataType::Interval(arrow::datatypes::IntervalUnit::MonthDayNano) => {
            let v = array.as_primitive::<t::IntervalMonthDayNanoType>().value(row);
            calendar_interval(v.months, v.days, v.nanoseconds / 1000)
        }
        // ANSI intervals of their widest fields ([`field_cell`] knows the
        // column's).
        t @ (DataType::Duration(_) | DataType::Interval(arrow::datatypes::IntervalUnit::YearMonth)) => {
            match (crate::interval::Interval::of(t, &Default::default()), crate::interval::value_at(array, row)) {
                (Some(i), Some(v)) => i.format(v),
                _ => String::new(),
            }
        }
        DataType::Binary => {
            let b = array.as_binary::<i32>().value(row);
            format!("[{}]", b.iter().map(|x| format!("{x:02X}")).collect::<Vec<_>>().join(" "))
        }
        DataType::List(_) => {
            let l = array.as_list::<i32>().value(row);
            format!("[{}]", (0..l.len()).map(|i| cell(&l, i)).collect::<Vec<_>>().join(", "))
        }
        DataType::LargeList(_) => {
            let l = array.as_list::<i64>().value(row);
            format!("[{}]", (0..l.len()).map(|i| cell(&l, i)).collect::<Vec<_>>().join(", "))
        }
        DataType::Struct(_) => {
            let s = array.as_struct();
            format!("{{{}}}", s.columns().iter().map(|c| cell(c, row)).collect::<Vec<_>>().join(", "))
        }
        DataType::Map(..) => {
            let m = array.as_map();
            let entries = m.value(row);
            let (k, v) = (entries.column(0), entries.column(1));
            format!(
                "{{{}}}",
                (0..entries.len()).map(|i| format!("{} -> {}", cell(k, i), cell(v, i))).collect::<Vec<_>>().join(", ")
            )
        }
        _ => {
            let opts = FormatOptions::default();
            match ArrayFormatter::try_new(array.as_ref(), &opts) {
                Ok(f) => f.value(row).to_string(),
                Err(_) => String::new(),
            }
        }
    }
}

/// Spark's `CalendarInterval.toString`: `1 years 2 months 3 days 4 hours
/// 5 minutes 6.5 seconds`, leaving out the units that are 0.
pub fn calendar_interval(months: i32, days: i32, micros: i64) -> String {
    if months == 0 && days == 0 && micros == 0 {
        return "0 seconds".into();
    }
    let mut parts = vec![];
    let mut unit = |value: i64, name: &str| {
        if value != 0 {
            parts.push(format!("{value} {name}"));
        }
    };
    unit(i64::from(months / 12), "years");
    unit(i64::from(months % 12), "months");
    unit(i64::from(days), "days");
    unit(micros / 3_600_000_000, "hours");
    unit(micros % 3_600_000_000 / 60_000_000, "minutes");
    let seconds = micros % 60_000_000;
    if seconds != 0 {
        parts.push(format!("{} seconds", micros_as_seconds(seconds)));
    }
    parts.join(" ")
}

/// Microseconds as seconds without trailing zeros: `1.001001`, `-2.5`, `3`.
fn micros_as_seconds(micros: i64) -> String {
    let sign = if micros < 0 { "-" } else { "" };
    let (whole, frac) = (micros.unsigned_abs() / 1_000_000, micros.unsigned_abs() % 1_000_000);
    if frac == 0 {
        return format!("{sign}{whole}");
    }
    let frac = format!("{frac:06}");
    format!("{sign}{whole}.{}", frac.trim_end_matches('0'))
}

/// [`cell`] of a column of `field`, whose metadata may give an interval's
/// fields (`INTERVAL '3' DAY` rather than `INTERVAL '3 00:00:00' DAY TO
/// SECOND`).
pub fn field_cell(field: &arrow::datatypes::Field, array: &ArrayRef, row: usize) -> String {
    match (crate::interval::Interval::of_field(field), crate::interval::value_at(array, row)) {
        (Some(i), Some(v)) => i.format(v),
        _ => cell(array, row),
    }
}

/// Spark's `Dataset.showString`: the batch holds at most `num_rows + 1`
/// rows; the extra row only tells whether to print the footer.
pub fn show_string(
    batches: &[RecordBatch],
    fields: &[arrow::datatypes::FieldRef],
    num_rows: usize,
    truncate: usize,
    vertical: bool,
) -> Result<String> {
    let names: Vec<String> = fields.iter().map(|f| escape_meta_characters(f.name())).collect();
    let mut rows: Vec<Vec<String>> = vec![];
    let mut total = 0usize;
    for b in batches {
        for r in 0..b.num_rows() {
            total += 1;
            if rows.len() < num_rows {
                rows.push(
                    b.columns()
                        .iter()
                        .zip(fields)
                        .map(|(c, f)| truncate_cell(escape_meta_characters(&field_cell(f, c, r)), truncate))
                        .collect(),
                );
            }
        }
    }
    let has_more = total > num_rows;
    // Spark truncates the cells, never the header.
    let mut out = String::new();
    if vertical {
        // Spark's layout: columns at least 3 wide, " name | value " lines.
        let name_w = names.iter().map(|n| width(n)).fold(3, usize::max);
        let data_w = rows.iter().flatten().map(|c| width(c)).fold(3, usize::max);
        for (i, row) in rows.iter().enumerate() {
            let head = format!("-RECORD {i}");
            let fill = (name_w + data_w + 5).saturating_sub(width(&head));
            out.push_str(&format!("{head}{}\n", "-".repeat(fill)));
            for (n, v) in names.iter().zip(row) {
                out.push_str(&format!(" {} | {} \n", pad_right(n, name_w), pad_right(v, data_w)));
            }
        }
        if rows.is_empty() {
            out.push_str("(0 rows)\n");
        }
    } else {
        let mut widths: Vec<usize> = names.iter().map(|n| width(n).max(3)).collect();
        for row in &rows {
            for (w, c) in widths.iter_mut().zip(row) {
                *w = (*w).max(width(c));
            }
        }
        let sep = format!("+{}+\n", widths.iter().map(|w| "-".repeat(*w)).collect::<Vec<_>>().join("+"));
        let line = |cells: &[String]| -> String {
            let parts: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(c, w)| if truncate > 0 { pad_left(c, *w) } else { pad_right(c, *w) })
                .collect();
            format!("|{}|\n", parts.join("|"))
        };
        out.push_str(&sep);
        out.push_str(&line(&names));
        out.push_str(&sep);
        for row in &rows {
            out.push_str(&line(row));
        }
        out.push_str(&sep);
    }
    if has_more {
        let noun = if num_rows == 1 { "row" } else { "rows" };
        out.push_str(&format!("only showing top {num_rows} {noun}"));
    }
    Ok(out)
}

/// Spark's `escapeMetaCharacters`: control characters that would break
/// the table's layout shown as their escapes (`a\nb`).
fn escape_meta_characters(s: &str) -> String {
    if !s.contains(['\n', '\r', '\t', '\u{c}', '\u{8}', '\u{b}', '\u{7}']) {
        return s.to_string();
    }
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{c}' => out.push_str("\\f"),
            '\u{8}' => out.push_str("\\b"),
            '\u{b}' => out.push_str("\\v"),
            '\u{7}' => out.push_str("\\a"),
            c => out.push(c),
        }
    }
    out
}

fn truncate_cell(s: String, truncate: usize) -> String {
    if truncate == 0 || s.chars().count() <= truncate {
        return s;
    }
    if truncate < 4 {
        s.chars().take(truncate).collect()
    } else {
        format!("{}...", s.chars().take(truncate - 3).collect::<String>())
    }
}

/// Display width: East Asian wide characters take two columns, as in Spark.
fn width(s: &str) -> usize {
    s.chars().map(|c| if is_wide(c) { 2 } else { 1 }).sum()
}

fn is_wide(c: char) -> bool {
    matches!(c as u32, 0x1100..=0x115F | 0x2E80..=0xA4CF | 0xAC00..=0xD7A3 | 0xF900..=0xFAFF | 0xFE30..=0xFE4F | 0xFF00..=0xFF60 | 0xFFE0..=0xFFE6)
}

fn pad_left(s: &str, w: usize) -> String {
    format!("{}{s}", " ".repeat(w.saturating_sub(width(s))))
}

fn pad_right(s: &str, w: usize) -> String {
    format!("{s}{}", " ".repeat(w.saturating_sub(width(s))))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Float64Array, Int32Array, StringArray};
    use arrow::datatypes::{Field, Schema};

    use super::*;

    #[test]
    fn java_doubles() {
        assert_eq!(java_float(1.0), "1.0");
        assert_eq!(java_float(0.1), "0.1");
        assert_eq!(java_float(12345678.0), "1.2345678E7");
        assert_eq!(java_float(0.0001), "1.0E-4");
        assert_eq!(java_float(-2.5), "-2.5");
        assert_eq!(java_float(f64::NAN), "NaN");
    }

    #[test]
    fn show_matches_spark_layout() {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int32, true),
            Field::new("name", DataType::Utf8, true),
            Field::new("score", DataType::Float64, true),
        ]));
        let b = RecordBatch::try_new(
            schema,
            vec![
                Arc::new(Int32Array::from(vec![Some(1), None, Some(3)])),
                Arc::new(StringArray::from(vec![Some("alice"), Some("a very long name indeed!"), None])),
                Arc::new(Float64Array::from(vec![1.5, 2.0, 10.0])),
            ],
        )
        .unwrap();
        let s = show_string(&[b.clone()], b.schema().fields(), 2, 20, false).unwrap();
        assert_eq!(
            s,
            "+----+--------------------+-----+\n\
             |  id|                name|score|\n\
             +----+--------------------+-----+\n\
             |   1|               alice|  1.5|\n\
             |NULL|a very long name ...|  2.0|\n\
             +----+--------------------+-----+\n\
             only showing top 2 rows"
        );
    }
}
