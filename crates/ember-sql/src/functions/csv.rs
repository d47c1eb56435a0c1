//! Spark's CSV functions: `from_csv(str, schema[, options])`,
//! `to_csv(struct[, options])` and `schema_of_csv(str[, options])`. Each
//! string is one record, read and written with the CSV data source's
//! options (`sep`/`delimiter`, `quote`, `escape`, `comment`, `nullValue`,
//! `emptyValue`, `nanValue`, `positiveInf`, `negativeInf`,
//! `ignoreLeadingWhiteSpace`, `ignoreTrailingWhiteSpace`, `dateFormat`,
//! `timestampFormat`, `mode`, `quoteAll`, `escapeQuotes`), given as a map
//! of strings whose keys are case-insensitive.
//!
//! `from_csv` reads as Spark's `UnivocityParser`: a token equal to
//! `nullValue` is NULL; ints, longs and booleans as Java reads them
//! (no surrounding blanks), doubles as `Double.parseDouble` (blanks and a
//! `d`/`f` suffix allowed, `NaN`, `Infinity`); dates and timestamps by
//! the pattern given, else as `CAST` reads them. A record whose token count
//! differs from the schema's, or with a token that does not convert, is
//! malformed: PERMISSIVE keeps what converted (the rest NULL), FAILFAST
//! raises `MALFORMED_RECORD_IN_PARSING` naming the record.
//!
//! `to_csv` writes as Spark's `UnivocityGenerator`: values as `CAST(… AS
//! STRING)` prints them, dates `yyyy-MM-dd` and timestamps
//! `yyyy-MM-dd'T'HH:mm:ss.SSSXXX` in the session time zone unless a pattern
//! is given, blanks around a value dropped, an empty string as `""`, a
//! value with the separator, the quote or a line break quoted (quotes in it
//! escaped with `escape`).
//!
//! `schema_of_csv` infers each token as `CSVInferSchema` does: INT, BIGINT,
//! DOUBLE, DATE (`yyyy-MM-dd`), TIMESTAMP, BOOLEAN, else STRING.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, StringBuilder, StructArray};
use datafusion::arrow::buffer::NullBuffer;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Fields, TimeUnit};
use datafusion::common::{DataFusionError, Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

use ember_common::{ExceptionClass, SparkError};

use super::text_options::TextDates;

/// Which CSV function a [`Csv`] is.
#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
pub enum CsvFn {
    FromCsv,
    ToCsv,
    SchemaOfCsv,
}

impl CsvFn {
    pub const ALL: [Self; 3] = [Self::FromCsv, Self::ToCsv, Self::SchemaOfCsv];
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Csv {
    form: CsvFn,
    signature: Signature,
}

impl Csv {
    pub fn new(form: CsvFn) -> Self {
        Self { form, signature: Signature::user_defined(Volatility::Immutable) }
    }
}

/// The options a CSV function was given, with Spark's defaults.
struct Options {
    sep: String,
    quote: Option<u8>,
    escape: u8,
    null_value: String,
    empty_value: Option<String>,
    nan_value: String,
    positive_inf: String,
    negative_inf: String,
    ignore_leading: Option<bool>,
    ignore_trailing: Option<bool>,
    failfast: bool,
    /// The reader of one record, set up once; none when the separator is
    /// not one byte (which only writing takes).
    reader: Option<::csv::ReaderBuilder>,
    quote_all: bool,
    escape_quotes: bool,
}

/// Spark's `mode` option: FAILFAST, PERMISSIVE (also what any other value
/// means), or DROPMALFORMED, which no CSV function takes.
fn failfast(function: &str, mode: Option<&str>) -> Result<bool> {
    match mode.map(str::to_ascii_uppercase).as_deref() {
        Some("FAILFAST") => Ok(true),
        Some("DROPMALFORMED") => Err(spark_error(
            ExceptionClass::Analysis,
            "PARSE_MODE_UNSUPPORTED",
            "42601",
            format!(
                "The function `{function}` doesn't support the DROPMALFORMED mode. Acceptable modes are PERMISSIVE and FAILFAST."
            ),
        )),
        _ => Ok(false),
    }
}

fn spark_error(class: ExceptionClass, error_class: &str, state: &str, message: String) -> DataFusionError {
    DataFusionError::External(Box::new(SparkError::with_class(class, error_class, state, message)))
}

/// One character of an option (`quote`, `escape`, `comment`): none when
/// empty or `\u0000`, as Spark disables them.
fn one_char(key: &str, v: &str) -> Result<Option<u8>> {
    match v.as_bytes() {
        [] | [0] => Ok(None),
        [b] if b.is_ascii() => Ok(Some(*b)),
        _ => exec_err!("[INVALID_OPTION] the CSV option {key} must be one ASCII character, got {v:?}"),
    }
}

/// Spark's `toDelimiterStr`: `\t`, `\n`, `\\`, `\u0001`-style escapes.
fn delimiter(v: &str) -> Result<String> {
    match v {
        "" => exec_err!(
            "[INVALID_DELIMITER_VALUE.EMPTY_STRING] Invalid value for delimiter. Delimiter cannot be empty string."
        ),
        "\\t" => Ok("\t".into()),
        "\\n" => Ok("\n".into()),
        "\\r" => Ok("\r".into()),
        "\\b" => Ok("\u{8}".into()),
        "\\f" => Ok("\u{c}".into()),
        "\\\"" => Ok("\"".into()),
        "\\'" => Ok("'".into()),
        "\\\\" => Ok("\\".into()),
        "\\" => exec_err!(
            "[INVALID_DELIMITER_VALUE.SINGLE_BACKSLASH] Invalid value for delimiter. Single backslash is prohibited. It has special meaning as beginning of an escape sequence. To get the backslash character, pass a string with two backslashes as the delimiter."
        ),
        s if s.starts_with("\\u") => match u32::from_str_radix(&s[2..], 16).ok().and_then(char::from_u32) {
            Some(c) => Ok(c.to_string()),
            None => exec_err!(
                "[INVALID_DELIMITER_VALUE.UNSUPPORTED_SPECIAL_CHARACTER] Unsupported special character for delimiter: {s}"
            ),
        },
        s => Ok(s.to_string()),
    }
}

impl Options {
    fn new(function: &str, given: &HashMap<String, String>) -> Result<Self> {
        let get = |k: &str| given.get(&k.to_ascii_lowercase()).map(String::as_str);
        let flag = |k: &str| get(k).map(|v| v.eq_ignore_ascii_case("true"));
        let sep = match get("sep").or(get("delimiter")) {
            Some(v) => delimiter(v)?,
            None => ",".into(),
        };
        let quote = match get("quote") {
            Some(v) => one_char("quote", v)?,
            None => Some(b'"'),
        };
        let escape = get("escape").map(|v| one_char("escape", v)).transpose()?.flatten().unwrap_or(b'\\');
        let comment = get("comment").map(|v| one_char("comment", v)).transpose()?.flatten();
        let reader = match sep.as_bytes() {
            [byte] => {
                let mut b = ::csv::ReaderBuilder::new();
                // A record is one string: a small buffer, refilled for long ones.
                b.has_headers(false).flexible(true).delimiter(*byte).comment(comment).buffer_capacity(256);
                match quote {
                    Some(q) if q == escape => b.quote(q).double_quote(true).escape(None),
                    Some(q) => b.quote(q).double_quote(false).escape(Some(escape)),
                    None => b.quoting(false),
                };
                Some(b)
            }
            _ => None,
        };
        Ok(Self {
            sep,
            quote,
            escape,
            null_value: get("nullValue").unwrap_or("").to_string(),
            empty_value: get("emptyValue").map(str::to_string),
            nan_value: get("nanValue").unwrap_or("NaN").to_string(),
            positive_inf: get("positiveInf").unwrap_or("Inf").to_string(),
            negative_inf: get("negativeInf").unwrap_or("-Inf").to_string(),
            ignore_leading: flag("ignoreLeadingWhiteSpace"),
            ignore_trailing: flag("ignoreTrailingWhiteSpace"),
            failfast: failfast(function, get("mode"))?,
            quote_all: flag("quoteAll").unwrap_or(false),
            escape_quotes: flag("escapeQuotes").unwrap_or(true),
            reader,
        })
    }

    /// One record's tokens; `None` when it is not CSV (an unclosed quote).
    fn tokens(&self, text: &str) -> Result<Option<Vec<String>>> {
        let Some(b) = &self.reader else {
            return exec_err!("a CSV function's separator must be one byte, got {:?}", self.sep);
        };
        let mut record = ::csv::StringRecord::new();
        let tokens = match b.from_reader(text.as_bytes()).read_record(&mut record) {
            Ok(true) => record.iter().map(|t| self.trim(t, false).to_string()).collect(),
            Ok(false) => vec![],
            Err(_) => return Ok(None),
        };
        Ok(Some(tokens))
    }

    /// A token or value without the blanks the options drop (reading keeps
    /// them by default, writing drops them).
    fn trim<'a>(&self, s: &'a str, writing: bool) -> &'a str {
        let s = if self.ignore_leading.unwrap_or(writing) { s.trim_start_matches([' ', '\t']) } else { s };
        if self.ignore_trailing.unwrap_or(writing) { s.trim_end_matches([' ', '\t']) } else { s }
    }

    /// Java's `Double.parseDouble`, with the options' NaN and infinities.
    fn double(&self, t: &str) -> Option<f64> {
        if t == self.nan_value {
            return Some(f64::NAN);
        }
        if t == self.positive_inf {
            return Some(f64::INFINITY);
        }
        if t == self.negative_inf {
            return Some(f64::NEG_INFINITY);
        }
        let t = t.trim_matches(|c: char| c <= ' ');
        match t {
            "NaN" | "+NaN" | "-NaN" => return Some(f64::NAN),
            "Infinity" | "+Infinity" => return Some(f64::INFINITY),
            "-Infinity" => return Some(f64::NEG_INFINITY),
            _ => {}
        }
        let t = t.strip_suffix(['d', 'D', 'f', 'F']).unwrap_or(t);
        // Rust also reads `inf` and `nan`, which Java does not.
        if t.bytes().any(|b| b.is_ascii_alphabetic() && !matches!(b, b'e' | b'E')) {
            return None;
        }
        t.parse().ok()
    }
}

/// Whether `from_csv` reads a field of type `t`.
fn readable(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Boolean
            | DataType::Int8
            | DataType::Int16
            | DataType::Int32
            | DataType::Int64
            | DataType::Float32
            | DataType::Float64
            | DataType::Decimal128(..)
            | DataType::Utf8
            | DataType::Date32
            | DataType::Timestamp(TimeUnit::Microsecond, _)
    )
}

/// A token as a value of `t`; `None` when it does not convert.
fn convert(token: &str, t: &DataType, o: &Options, dates: &TextDates) -> Option<ScalarValue> {
    let int = || token.parse::<i64>().ok();
    Some(match t {
        DataType::Utf8 => ScalarValue::Utf8(Some(token.to_string())),
        DataType::Boolean => ScalarValue::Boolean(Some(match token.to_ascii_lowercase().as_str() {
            "true" => true,
            "false" => false,
            _ => return None,
        })),
        DataType::Int8 => ScalarValue::Int8(Some(i8::try_from(int()?).ok()?)),
        DataType::Int16 => ScalarValue::Int16(Some(i16::try_from(int()?).ok()?)),
        DataType::Int32 => ScalarValue::Int32(Some(i32::try_from(int()?).ok()?)),
        DataType::Int64 => ScalarValue::Int64(Some(int()?)),
        DataType::Float64 => ScalarValue::Float64(Some(o.double(token)?)),
        DataType::Float32 => ScalarValue::Float32(Some(o.double(token)? as f32)),
        DataType::Decimal128(p, s) => ScalarValue::Decimal128(Some(decimal(token, *p, *s)?), *p, *s),
        DataType::Date32 => ScalarValue::Date32(Some(dates.parse_date(token)?)),
        DataType::Timestamp(TimeUnit::Microsecond, tz) => {
            ScalarValue::TimestampMicrosecond(Some(dates.parse_timestamp(token, tz.is_none())?), tz.clone())
        }
        _ => return None,
    })
}

/// Java's `new BigDecimal(text)` of the text without grouping commas
/// (`1,000.5`, `1e3`), rounded half-up to `scale`: the unscaled value, if
/// it has at most `precision` digits.
fn decimal(text: &str, precision: u8, scale: i8) -> Option<i128> {
    let text = text.replace(',', "");
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], text[i + 1..].parse::<i32>().ok()?),
        None => (text.as_str(), 0),
    };
    let (negative, digits) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, mantissa.strip_prefix('+').unwrap_or(mantissa)),
    };
    let (whole, fraction) = digits.split_once('.').unwrap_or((digits, ""));
    if (whole.is_empty() && fraction.is_empty()) || !whole.bytes().chain(fraction.bytes()).all(|b| b.is_ascii_digit()) {
        return None;
    }
    let all = format!("{whole}{fraction}");
    let all = all.trim_start_matches('0');
    // The value is all × 10^shift at the target scale.
    let shift = i64::from(exponent) - fraction.len() as i64 + i64::from(scale);
    let unscaled: i128 = if all.is_empty() {
        0
    } else if shift >= 0 {
        if all.len() as i64 + shift > 38 {
            return None;
        }
        all.parse::<i128>().ok()?.checked_mul(10i128.checked_pow(u32::try_from(shift).ok()?)?)?
    } else {
        let dropped = usize::try_from(-shift).ok()?;
        if dropped > all.len() {
            0
        } else {
            let (kept, gone) = all.split_at(all.len() - dropped);
            let kept: i128 = if kept.is_empty() { 0 } else { kept.parse().ok()? };
            kept + i128::from(gone.as_bytes().first().is_some_and(|d| *d >= b'5'))
        }
    };
    if unscaled.unsigned_abs() >= 10u128.pow(u32::from(precision)) {
        return None;
    }
    Some(if negative { -unscaled } else { unscaled })
}

/// Spark's row text in a FAILFAST error: `[1,null]`.
fn record_text(values: &[ScalarValue]) -> String {
    let cells: Vec<String> = values
        .iter()
        .map(|v| match v.to_array() {
            Ok(a) if !v.is_null() => crate::display::cell(&a, 0),
            _ => "null".into(),
        })
        .collect();
    format!("[{}]", cells.join(","))
}

/// `from_csv`: one struct per string, NULL for a NULL string.
fn from_csv(texts: &ArrayRef, fields: &Fields, o: &Options, dates: &TextDates) -> Result<ArrayRef> {
    let texts = datafusion::arrow::compute::cast(texts, &DataType::Utf8)?;
    let texts = texts.as_string::<i32>();
    let mut columns: Vec<Vec<ScalarValue>> = vec![Vec::with_capacity(texts.len()); fields.len()];
    for row in 0..texts.len() {
        let tokens = if texts.is_null(row) { Some(vec![]) } else { o.tokens(texts.value(row))? };
        let mut malformed = tokens.as_ref().is_none_or(|t| t.len() != fields.len());
        let mut values = Vec::with_capacity(fields.len());
        for (i, f) in fields.iter().enumerate() {
            let token = tokens.as_ref().and_then(|t| t.get(i)).filter(|t| **t != o.null_value);
            let v = match token.map(|t| convert(t, f.data_type(), o, dates)) {
                Some(Some(v)) => v,
                Some(None) => {
                    malformed = true;
                    ScalarValue::try_from(f.data_type())?
                }
                None => ScalarValue::try_from(f.data_type())?,
            };
            values.push(v);
        }
        if malformed && o.failfast && !texts.is_null(row) {
            let e = super::failfast::malformed_record(&record_text(&values));
            return Err(DataFusionError::External(Box::new(e)));
        }
        for (column, v) in columns.iter_mut().zip(values) {
            column.push(v);
        }
    }
    let arrays = columns
        .into_iter()
        .zip(fields.iter())
        .map(|(values, f)| {
            if values.is_empty() {
                Ok(datafusion::arrow::array::new_empty_array(f.data_type()))
            } else {
                ScalarValue::iter_to_array(values)
            }
        })
        .collect::<Result<Vec<_>>>()?;
    let nulls = NullBuffer::from((0..texts.len()).map(|i| texts.is_valid(i)).collect::<Vec<_>>());
    Ok(Arc::new(StructArray::try_new(fields.clone(), arrays, Some(nulls))?))
}

/// `to_csv`: each struct as one line, NULL for a NULL struct.
fn to_csv(values: &ArrayRef, o: &Options, dates: &TextDates) -> Result<ArrayRef> {
    let s = values.as_struct();
    let mut out = StringBuilder::new();
    let mut line = String::new();
    let mut text = String::new();
    for row in 0..s.len() {
        if s.is_null(row) {
            out.append_null();
            continue;
        }
        line.clear();
        for (i, column) in s.columns().iter().enumerate() {
            if i > 0 {
                line.push_str(&o.sep);
            }
            if column.is_null(row) {
                if o.quote_all {
                    quoted(&o.null_value, o, &mut line);
                } else {
                    line.push_str(&o.null_value);
                }
                continue;
            }
            text.clear();
            match column.data_type() {
                DataType::Date32 => {
                    let days = column.as_primitive::<datafusion::arrow::datatypes::Date32Type>().value(row);
                    dates.format_date(days, &mut text)?;
                }
                DataType::Timestamp(TimeUnit::Microsecond, tz) => {
                    let us = column.as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>().value(row);
                    dates.format_timestamp(us, tz.is_none(), &mut text)?;
                }
                _ => text.push_str(&crate::display::cell(column, row)),
            }
            let value = o.trim(&text, true);
            if value.is_empty() {
                match &o.empty_value {
                    Some(e) => line.push_str(e),
                    None => quoted("", o, &mut line),
                }
            } else {
                let special = |c: char| {
                    c == '\n' || c == '\r' || o.quote.is_some_and(|q| c == char::from(q)) || o.sep.contains(c)
                };
                if o.quote.is_some() && (o.quote_all || value.contains(special)) {
                    quoted(value, o, &mut line);
                } else {
                    line.push_str(value);
                }
            }
        }
        out.append_value(&line);
    }
    Ok(Arc::new(out.finish()))
}

/// `value` in quotes, quotes in it escaped (`"q\"x"`).
fn quoted(value: &str, o: &Options, line: &mut String) {
    let q = char::from(o.quote.unwrap_or(b'"'));
    line.push(q);
    for c in value.chars() {
        if c == q && o.escape_quotes {
            line.push(char::from(o.escape));
        }
        line.push(c);
    }
    line.push(q);
}

/// `schema_of_csv`: the struct type of one record's tokens.
fn schema_of_csv(text: &str, o: &Options, dates: &TextDates) -> Result<String> {
    let tokens = o.tokens(text)?.unwrap_or_default();
    let types: Vec<String> = tokens.iter().enumerate().map(|(i, t)| format!("_c{i}: {}", infer(t, o, dates))).collect();
    Ok(format!("STRUCT<{}>", types.join(", ")))
}

/// `CSVInferSchema.inferField` of one token.
fn infer(t: &str, o: &Options, dates: &TextDates) -> &'static str {
    if t == o.null_value {
        "STRING"
    } else if t.parse::<i32>().is_ok() {
        "INT"
    } else if t.parse::<i64>().is_ok() {
        "BIGINT"
    } else if o.double(t).is_some() {
        "DOUBLE"
    } else if (dates.has_date_pattern() || iso_date_shape(t)) && dates.parse_date(t).is_some() {
        "DATE"
    } else if dates.parse_timestamp(t, false).is_some() {
        "TIMESTAMP"
    } else if t.eq_ignore_ascii_case("true") || t.eq_ignore_ascii_case("false") {
        "BOOLEAN"
    } else {
        "STRING"
    }
}

/// `yyyy-MM-dd`, the shape Spark's default date pattern infers as a DATE.
fn iso_date_shape(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() == 10 && b.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() })
}

/// `from_csv`'s schema: a DDL field list of the types it reads.
fn parse_schema(text: &str) -> Result<Fields> {
    let parsed = match crate::types::parse_ddl_type(text, "UTC") {
        Ok(DataType::Struct(f)) => Ok(f),
        _ => crate::types::parse_ddl_schema(text, "UTC").map(|s| s.fields().clone()),
    };
    let fields = parsed
        .map_err(|e| DataFusionError::Plan(format!("[PARSE_SYNTAX_ERROR] from_csv: bad schema {text:?}: {e}")))?;
    if let Some(f) = fields.iter().find(|f| !readable(f.data_type())) {
        let t = crate::types::simple_string(f.data_type()).to_uppercase();
        let message = format!("Unsupported data type \"{t}\".");
        return Err(spark_error(ExceptionClass::UnsupportedOperation, "UNSUPPORTED_DATATYPE", "0A000", message));
    }
    Ok(fields)
}

impl ScalarUDFImpl for Csv {
    fn name(&self) -> &str {
        match self.form {
            CsvFn::FromCsv => "from_csv",
            CsvFn::ToCsv => "to_csv",
            CsvFn::SchemaOfCsv => "schema_of_csv",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let text = |t: &DataType| super::is_text(t) || t.is_null();
        let options = |o: &[DataType]| o.iter().all(|t| matches!(t, DataType::Map(..)) || t.is_null());
        let ok = match (self.form, t) {
            (CsvFn::FromCsv, [s, schema, o @ ..]) => text(s) && text(schema) && o.len() <= 1 && options(o),
            (CsvFn::ToCsv, [v, o @ ..]) => {
                if !matches!(v, DataType::Struct(_)) && !v.is_null() {
                    return plan_err!(
                        "[DATATYPE_MISMATCH.UNSUPPORTED_INPUT_TYPE] Cannot resolve \"to_csv\" due to data type mismatch: The input of `to_csv` can't be \"{}\" type data.",
                        crate::types::simple_string(v).to_uppercase()
                    );
                }
                o.len() <= 1 && options(o)
            }
            (CsvFn::SchemaOfCsv, [s, o @ ..]) => text(s) && o.len() <= 1 && options(o),
            _ => false,
        };
        if !ok {
            return plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{}\" for arguments of types {t:?}",
                self.name()
            );
        }
        Ok(t.iter().map(|t| if text(t) { DataType::Utf8 } else { t.clone() }).collect())
    }

    fn return_type(&self, _t: &[DataType]) -> Result<DataType> {
        datafusion::common::internal_err!("return_field_from_args gives {}'s type", self.name())
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        // A literal options map is checked while planning.
        if let Some(Some(ScalarValue::Map(m))) = args.scalar_arguments.last().filter(|_| args.arg_fields.len() > 1) {
            let given = super::text_options::options_of(&ScalarValue::Map(m.clone()))?;
            Options::new(self.name(), &given)?;
        }
        let t = match self.form {
            CsvFn::ToCsv | CsvFn::SchemaOfCsv => DataType::Utf8,
            CsvFn::FromCsv => DataType::Struct(parse_schema(super::text_options::schema_literal(&args, "from_csv")?)?),
        };
        Ok(Arc::new(Field::new(self.name(), t, true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let options_at = if self.form == CsvFn::FromCsv { 2 } else { 1 };
        let given = super::text_options::options_map(args.args.get(options_at))?;
        let o = Options::new(self.name(), &given)?;
        let tz = args.config_options.execution.time_zone.clone().unwrap_or_else(|| "UTC".into());
        let dates = TextDates::new(&given, &tz)?;
        let first = args.args[0].to_array(rows)?;
        let out: ArrayRef = match self.form {
            CsvFn::FromCsv => {
                let DataType::Struct(fields) = args.return_field.data_type() else {
                    return exec_err!("from_csv returns a struct");
                };
                from_csv(&first, fields, &o, &dates)?
            }
            CsvFn::ToCsv if first.data_type().is_null() => {
                datafusion::arrow::array::new_null_array(&DataType::Utf8, rows)
            }
            CsvFn::ToCsv => to_csv(&first, &o, &dates)?,
            CsvFn::SchemaOfCsv => {
                let texts = datafusion::arrow::compute::cast(&first, &DataType::Utf8)?;
                let texts = texts.as_string::<i32>();
                let mut b = StringBuilder::new();
                for row in 0..texts.len() {
                    if texts.is_null(row) {
                        b.append_null();
                    } else {
                        b.append_value(schema_of_csv(texts.value(row), &o, &dates)?);
                    }
                }
                Arc::new(b.finish())
            }
        };
        Ok(ColumnarValue::Array(out))
    }
}

/// `schema_of_csv` of a literal while planning, with the options given:
/// the schema `from_csv(…, schema_of_csv('1,a'))` reads with.
pub fn schema_of_literal(text: &str, options: &HashMap<String, String>, time_zone: &str) -> Result<String> {
    let o = Options::new("schema_of_csv", options)?;
    schema_of_csv(text, &o, &TextDates::new(options, time_zone)?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn options(pairs: &[(&str, &str)]) -> Options {
        let given = pairs.iter().map(|(k, v)| (k.to_ascii_lowercase(), v.to_string())).collect();
        Options::new("from_csv", &given).unwrap()
    }

    #[test]
    fn tokens_with_quotes_escapes_and_separators() {
        let o = options(&[]);
        assert_eq!(o.tokens(r#"1,"a,b",,"q\"x""#).unwrap().unwrap(), vec!["1", "a,b", "", "q\"x"]);
        assert_eq!(o.tokens("").unwrap().unwrap(), Vec::<String>::new());
        let o = options(&[("sep", "|"), ("quote", "'"), ("ignoreLeadingWhiteSpace", "true")]);
        assert_eq!(o.tokens("  1|'a|b'| c ").unwrap().unwrap(), vec!["1", "a|b", "c "]);
        assert_eq!(options(&[("delimiter", "\\t")]).tokens("a\tb").unwrap().unwrap(), vec!["a", "b"]);
        // A record longer than the reader's buffer.
        let long = "x".repeat(5000);
        assert_eq!(options(&[]).tokens(&format!("\"{long}\",1")).unwrap().unwrap(), vec![long.as_str(), "1"]);
    }

    #[test]
    fn doubles_as_java_reads_them() {
        let o = options(&[]);
        assert_eq!(o.double(" 1.5 "), Some(1.5));
        assert_eq!(o.double("2d"), Some(2.0));
        assert_eq!(o.double("1e3"), Some(1000.0));
        assert_eq!(o.double("-Infinity"), Some(f64::NEG_INFINITY));
        assert_eq!(o.double("Inf"), Some(f64::INFINITY));
        assert!(o.double("NaN").unwrap().is_nan());
        assert_eq!(o.double("inf"), None);
        assert_eq!(o.double("nan"), None);
        assert_eq!(o.double("x"), None);
    }

    #[test]
    fn decimals_as_java_reads_them() {
        assert_eq!(decimal("1.5", 10, 2), Some(150));
        assert_eq!(decimal("1e3", 10, 2), Some(100_000));
        assert_eq!(decimal("-1,000.125", 10, 2), Some(-100_013));
        assert_eq!(decimal("0.004", 10, 2), Some(0));
        assert_eq!(decimal(".5", 10, 0), Some(1));
        assert_eq!(decimal("12345", 4, 0), None);
        assert_eq!(decimal("1.2.3", 10, 2), None);
        assert_eq!(decimal(" 1", 10, 2), None);
    }

    #[test]
    fn inferred_types() {
        let o = options(&[]);
        let dates = TextDates::new(&HashMap::new(), "UTC").unwrap();
        let text = "1,3000000000,2.5,abc,TRUE,2020-01-01,2020-1-1,2020-01-01 10:00:00,, 1";
        assert_eq!(
            schema_of_csv(text, &o, &dates).unwrap(),
            "STRUCT<_c0: INT, _c1: BIGINT, _c2: DOUBLE, _c3: STRING, _c4: BOOLEAN, _c5: DATE, _c6: TIMESTAMP, \
             _c7: TIMESTAMP, _c8: STRING, _c9: DOUBLE>"
        );
    }

    #[test]
    fn dropmalformed_is_refused() {
        let given = HashMap::from([("mode".to_string(), "dropMalformed".to_string())]);
        let e = Options::new("from_csv", &given).err().unwrap().to_string();
        assert!(e.contains("PARSE_MODE_UNSUPPORTED"), "{e}");
    }
}
