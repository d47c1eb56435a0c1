//! What the CSV and JSON functions share: their options map
//! (`map('sep', ';')`, keys case-insensitive) and dates and timestamps as
//! text. Written with the `dateFormat`, `timestampFormat` and
//! `timestampNTZFormat` patterns, else Spark's defaults: `yyyy-MM-dd`,
//! `yyyy-MM-dd'T'HH:mm:ss.SSSXXX` in the session time zone, and
//! `yyyy-MM-dd'T'HH:mm:ss.SSS` for a timestamp without time zone. Read with
//! the patterns, else as `CAST` reads them.

use std::collections::HashMap;

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{ColumnarValue, ReturnFieldArgs};

use super::datetime::{DateTimePattern, Mode, Parser, Zone, format_micros, string_to_date, string_to_timestamp};

const MICROS_PER_DAY: i64 = 86_400_000_000;

/// The options argument: a map of strings (`map('sep', ';')`), read from
/// its first row, keys lower-cased.
pub fn options_map(arg: Option<&ColumnarValue>) -> Result<HashMap<String, String>> {
    let mut given = HashMap::new();
    let Some(arg) = arg else { return Ok(given) };
    let array = arg.to_array(1)?;
    if array.is_empty() || array.is_null(0) {
        return Ok(given);
    }
    let DataType::Map(..) = array.data_type() else {
        return exec_err!("[INVALID_OPTIONS.NON_MAP_FUNCTION] Must use the `map()` function for options.");
    };
    let entries = array.as_map().value(0);
    let keys = datafusion::arrow::compute::cast(entries.column(0), &DataType::Utf8)?;
    let values = datafusion::arrow::compute::cast(entries.column(1), &DataType::Utf8)?;
    let (keys, values) = (keys.as_string::<i32>(), values.as_string::<i32>());
    for i in 0..keys.len() {
        if keys.is_valid(i) && values.is_valid(i) {
            given.insert(keys.value(i).to_ascii_lowercase(), values.value(i).to_string());
        }
    }
    Ok(given)
}

/// The options of a map literal, keys lower-cased.
pub fn options_of(v: &ScalarValue) -> Result<HashMap<String, String>> {
    options_map(Some(&ColumnarValue::Scalar(v.clone())))
}

/// The schema of `from_json`/`from_csv` (their second argument), which
/// must be a string literal.
pub fn schema_literal<'a>(args: &ReturnFieldArgs<'a>, function: &str) -> Result<&'a str> {
    match args.scalar_arguments.get(1) {
        Some(Some(ScalarValue::Utf8(Some(s)) | ScalarValue::LargeUtf8(Some(s)) | ScalarValue::Utf8View(Some(s)))) => {
            Ok(s.as_str())
        }
        _ => plan_err!("[INVALID_SCHEMA.NON_STRING_LITERAL] The input schema of {function} must be a string literal"),
    }
}

fn pattern(p: &str, mode: Mode) -> Result<DateTimePattern> {
    DateTimePattern::compile(p, mode).map_err(|e| DataFusionError::Execution(e.to_string()))
}

/// Dates and timestamps to and from text, by the options' patterns
/// (compiled once).
pub struct TextDates {
    zone: Zone,
    date_in: Option<Parser>,
    timestamp_in: Option<Parser>,
    date_out: DateTimePattern,
    timestamp_out: DateTimePattern,
    local_timestamp_out: DateTimePattern,
}

impl TextDates {
    /// From the options (keys lower-cased) and the session time zone.
    pub fn new(options: &HashMap<String, String>, time_zone: &str) -> Result<Self> {
        let get = |k: &str| options.get(k).map(String::as_str);
        let parser = |p: Option<&str>| -> Result<Option<Parser>> {
            p.map(|p| Ok(Parser::new(&pattern(p, Mode::Parse)?))).transpose()
        };
        Ok(Self {
            zone: Zone::parse(time_zone).unwrap_or_else(Zone::utc),
            date_in: parser(get("dateformat"))?,
            timestamp_in: parser(get("timestampformat"))?,
            date_out: pattern(get("dateformat").unwrap_or("yyyy-MM-dd"), Mode::Format)?,
            timestamp_out: pattern(get("timestampformat").unwrap_or("yyyy-MM-dd'T'HH:mm:ss.SSSXXX"), Mode::Format)?,
            local_timestamp_out: pattern(
                get("timestampntzformat").unwrap_or("yyyy-MM-dd'T'HH:mm:ss.SSS"),
                Mode::Format,
            )?,
        })
    }

    /// Whether a date pattern was given.
    pub fn has_date_pattern(&self) -> bool {
        self.date_in.is_some()
    }

    pub fn parse_date(&self, t: &str) -> Option<i32> {
        match &self.date_in {
            Some(p) => i32::try_from(p.parse_micros(t, &Zone::utc()).ok()?.div_euclid(MICROS_PER_DAY)).ok(),
            None => string_to_date(t),
        }
    }

    /// A timestamp read in the session time zone, or as UTC wall-clock time
    /// for a timestamp without a time zone (`local`).
    pub fn parse_timestamp(&self, t: &str, local: bool) -> Option<i64> {
        let zone = if local { &Zone::utc() } else { &self.zone };
        match &self.timestamp_in {
            Some(p) => p.parse_micros(t, zone).ok(),
            None => string_to_timestamp(t, zone),
        }
    }

    pub fn format_date(&self, days: i32, out: &mut String) -> Result<()> {
        format_micros(&self.date_out, i64::from(days) * MICROS_PER_DAY, &Zone::utc(), out)
    }

    /// A timestamp in the session time zone, or a timestamp without time
    /// zone (`local`) as it is.
    pub fn format_timestamp(&self, micros: i64, local: bool, out: &mut String) -> Result<()> {
        if local {
            format_micros(&self.local_timestamp_out, micros, &Zone::utc(), out)
        } else {
            format_micros(&self.timestamp_out, micros, &self.zone, out)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn text(f: impl Fn(&TextDates, &mut String) -> Result<()>, options: &[(&str, &str)], zone: &str) -> String {
        let options = options.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.to_string())).collect();
        let dates = TextDates::new(&options, zone).unwrap();
        let mut out = String::new();
        f(&dates, &mut out).unwrap();
        out
    }

    #[test]
    fn timestamps_in_the_session_zone() {
        assert_eq!(text(|d, o| d.format_timestamp(0, false, o), &[], "UTC"), "1970-01-01T00:00:00.000Z");
        let la = text(|d, o| d.format_timestamp(0, false, o), &[], "America/Los_Angeles");
        assert_eq!(la, "1969-12-31T16:00:00.000-08:00");
        assert_eq!(
            text(|d, o| d.format_timestamp(1_500, true, o), &[], "America/Los_Angeles"),
            "1970-01-01T00:00:00.001"
        );
        let custom = text(|d, o| d.format_timestamp(0, false, o), &[("timestampFormat", "yyyy/MM/dd HH:mm")], "UTC");
        assert_eq!(custom, "1970/01/01 00:00");
    }

    #[test]
    fn dates_by_pattern_or_as_cast_reads_them() {
        assert_eq!(text(|d, o| d.format_date(1, o), &[("dateFormat", "dd/MM/yyyy")], "UTC"), "02/01/1970");
        let dates = TextDates::new(&HashMap::from([("dateformat".into(), "dd/MM/yyyy".into())]), "UTC").unwrap();
        assert_eq!(dates.parse_date("02/01/1970"), Some(1));
        assert_eq!(dates.parse_date("1970-01-02"), None);
        let plain = TextDates::new(&HashMap::new(), "UTC").unwrap();
        assert_eq!(plain.parse_date("1970-01-02"), Some(1));
        assert_eq!(plain.parse_timestamp("1970-01-01 00:00:01", false), Some(1_000_000));
    }
}
