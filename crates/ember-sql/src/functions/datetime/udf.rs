//! The `ScalarUDFImpl`s: `to_date`, `to_timestamp`, `try_to_date`,
//! `try_to_timestamp`, `date_format`, `unix_timestamp`/`to_unix_timestamp`,
//! `from_unixtime`.

use std::sync::Arc;

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, Int64Array, StringArray, TimestampMicrosecondArray,
};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Int64Type, TimeUnit};
use datafusion::common::config::ConfigOptions;
use datafusion::common::{DataFusionError, Result, ScalarValue, exec_datafusion_err, plan_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility,
};

use super::cast::{days_since_epoch, string_to_date, string_to_timestamp};
use super::format::format_micros;
use super::parse::{ParseFailure, Parser};
use super::pattern::{DateTimePattern, Mode};
use super::zone::Zone;
use super::{micros_to_utc, overflow, pattern_error};

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;
/// Spark's default pattern for `unix_timestamp` and `from_unixtime`.
const DEFAULT_PATTERN: &str = "yyyy-MM-dd HH:mm:ss";

/// The settings every function here shares.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Common {
    signature: Signature,
    /// The session time zone as configured (`spark.sql.session.timeZone`).
    tz: Option<Arc<str>>,
    zone: Zone,
    /// ANSI mode: bad input raises instead of giving null.
    fail_on_error: bool,
}

impl Common {
    fn new(tz: Option<Arc<str>>, fail_on_error: bool) -> Self {
        let zone = tz.as_deref().and_then(Zone::parse).unwrap_or_else(Zone::utc);
        Self { signature: Signature::user_defined(Volatility::Immutable), tz, zone, fail_on_error }
    }

    /// The session zone at execution: DataFusion's `execution.time_zone`
    /// (kept in step with `spark.sql.session.timeZone`), else ours.
    fn session_zone(&self, config: &ConfigOptions) -> Result<Zone> {
        match config.execution.time_zone.as_deref() {
            Some(tz) if Some(tz) != self.tz.as_deref() => Zone::parse(tz).ok_or_else(|| invalid_zone(tz)),
            _ => Ok(self.zone.clone()),
        }
    }

    fn updated_tz(&self, config: &ConfigOptions) -> Option<Arc<str>> {
        match config.execution.time_zone.as_deref() {
            Some(tz) if Some(tz) != self.tz.as_deref() && Zone::parse(tz).is_some() => Some(tz.into()),
            _ => None,
        }
    }
}

fn invalid_zone(tz: &str) -> DataFusionError {
    DataFusionError::Execution(format!(
        "[INVALID_CONF_VALUE.TIME_ZONE] The value '{tz}' in the config \"spark.sql.session.timeZone\" is invalid. Cannot resolve the given timezone. SQLSTATE: 22022"
    ))
}

/// Spark's `CANNOT_PARSE_TIMESTAMP` for a failed parse under ANSI mode.
fn cannot_parse(message: &str, try_fn: &str) -> DataFusionError {
    DataFusionError::Execution(format!(
        "[CANNOT_PARSE_TIMESTAMP] {message}. Use `{try_fn}` to tolerate invalid input string and return NULL instead. SQLSTATE: 22007"
    ))
}

/// Spark's `CAST_INVALID_INPUT` for a string that is no date/timestamp.
fn cast_invalid(value: &str, target: &str) -> DataFusionError {
    DataFusionError::Execution(format!(
        "[CAST_INVALID_INPUT] The value '{value}' of the type \"STRING\" cannot be cast to \"{target}\" because it is malformed. Correct the value as per the syntax, or change its target type. Use `try_cast` to tolerate malformed input and return NULL instead. SQLSTATE: 22018"
    ))
}

fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// The argument types the functions take as they are (strings, dates,
/// microsecond timestamps); others are cast to those, or rejected.
fn coerce_temporal(name: &str, t: &DataType, numbers: bool) -> Result<DataType> {
    Ok(match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Date32 => t.clone(),
        DataType::Null => DataType::Utf8,
        DataType::Date64 => DataType::Date32,
        DataType::Timestamp(_, tz) => DataType::Timestamp(TimeUnit::Microsecond, tz.clone()),
        DataType::Dictionary(_, v) if is_string(v) => DataType::Utf8,
        t if numbers && (t.is_integer()) => DataType::Int64,
        t if numbers && (t.is_floating() || matches!(t, DataType::Decimal128(..) | DataType::Decimal256(..))) => {
            DataType::Float64
        }
        other => {
            return plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{name}\" due to data type mismatch: the first parameter requires the (\"STRING\" or \"DATE\" or \"TIMESTAMP\" or \"TIMESTAMP_NTZ\") type, however it has the type {other}. SQLSTATE: 42K09"
            );
        }
    })
}

fn coerce_format(name: &str, t: &DataType) -> Result<DataType> {
    match t {
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => Ok(t.clone()),
        DataType::Null => Ok(DataType::Utf8),
        DataType::Dictionary(_, v) if is_string(v) => Ok(DataType::Utf8),
        other => plan_err!(
            "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{name}\" due to data type mismatch: the second parameter requires the \"STRING\" type, however it has the type {other}. SQLSTATE: 42K09"
        ),
    }
}

fn check_arity(name: &str, n: usize, min: usize, max: usize) -> Result<()> {
    if n < min || n > max {
        let expected = if min == max { min.to_string() } else { format!("[{min}, {max}]") };
        return plan_err!(
            "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{name}` requires {expected} parameters but the actual number is {n}. Please, refer to 'https://spark.apache.org/docs/latest/sql-ref-functions.html' for a fix. SQLSTATE: 42605"
        );
    }
    Ok(())
}

/// Checks a literal pattern while planning, so a bad one fails early.
fn check_literal_pattern(args: &ReturnFieldArgs<'_>, index: usize, mode: Mode) -> Result<()> {
    if let Some(Some(v)) = args.scalar_arguments.get(index)
        && let Some(Some(p)) = v.try_as_str()
    {
        DateTimePattern::compile(p, mode).map_err(pattern_error)?;
    }
    Ok(())
}

/// One argument, broadcast when it is a scalar.
struct Col {
    array: ArrayRef,
    scalar: bool,
}

impl Col {
    fn new(v: &ColumnarValue) -> Result<Self> {
        Ok(match v {
            ColumnarValue::Scalar(s) => Self { array: s.to_array_of_size(1)?, scalar: true },
            ColumnarValue::Array(a) => Self { array: Arc::clone(a), scalar: false },
        })
    }

    fn idx(&self, i: usize) -> usize {
        if self.scalar { 0 } else { i }
    }

    fn str_at(&self, i: usize) -> Option<&str> {
        let i = self.idx(i);
        if self.array.is_null(i) {
            return None;
        }
        match self.array.data_type() {
            DataType::Utf8 => Some(self.array.as_string::<i32>().value(i)),
            DataType::LargeUtf8 => Some(self.array.as_string::<i64>().value(i)),
            DataType::Utf8View => Some(self.array.as_string_view().value(i)),
            _ => None,
        }
    }
}

/// The rows to compute, and whether the result is a scalar.
fn shape(args: &ScalarFunctionArgs) -> (usize, bool) {
    let scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
    (if scalar { 1 } else { args.number_rows }, scalar)
}

fn finish(array: ArrayRef, scalar: bool) -> Result<ColumnarValue> {
    Ok(if scalar {
        ColumnarValue::Scalar(ScalarValue::try_from_array(&array, 0)?)
    } else {
        ColumnarValue::Array(array)
    })
}

/// Patterns by text, compiled once (a literal) or when the row's pattern
/// changes (a pattern column).
struct Patterns<T> {
    mode: Mode,
    last: Option<(String, Arc<T>)>,
    build: fn(DateTimePattern) -> T,
}

impl<T> Patterns<T> {
    fn new(mode: Mode, build: fn(DateTimePattern) -> T) -> Self {
        Self { mode, last: None, build }
    }

    fn get(&mut self, pattern: &str) -> Result<Arc<T>> {
        if let Some((p, c)) = &self.last
            && p == pattern
        {
            return Ok(Arc::clone(c));
        }
        let compiled = Arc::new((self.build)(DateTimePattern::compile(pattern, self.mode).map_err(pattern_error)?));
        self.last = Some((pattern.to_string(), Arc::clone(&compiled)));
        Ok(compiled)
    }
}

fn build_parser(p: DateTimePattern) -> Parser {
    Parser::new(&p)
}

fn build_formatter(p: DateTimePattern) -> DateTimePattern {
    p
}

/// Epoch days → the local midnight's instant in `zone` (Spark's
/// `daysToMicros`).
fn days_to_micros(days: i32, zone: &Zone) -> Result<i64> {
    let date =
        NaiveDate::from_num_days_from_ce_opt(days.checked_add(719_163).ok_or_else(overflow)?).ok_or_else(overflow)?;
    let utc = zone.local_to_utc(&date.and_time(NaiveTime::MIN)).ok_or_else(overflow)?;
    Ok(utc.and_utc().timestamp_micros())
}

/// An instant → its epoch day in `zone` (Spark's `microsToDays`).
fn micros_to_days(micros: i64, zone: &Zone) -> Result<i32> {
    let utc = micros_to_utc(micros).ok_or_else(overflow)?;
    let local = utc.checked_add_signed(Duration::seconds(i64::from(zone.offset_at(&utc)))).ok_or_else(overflow)?;
    days_since_epoch(&local.date()).ok_or_else(overflow)
}

/// A local (zone-less, `timestamp_ntz`) value → its instant in `zone`.
fn local_micros_to_instant(micros: i64, zone: &Zone) -> Result<i64> {
    let local: NaiveDateTime = micros_to_utc(micros).ok_or_else(overflow)?;
    Ok(zone.local_to_utc(&local).ok_or_else(overflow)?.and_utc().timestamp_micros())
}

/// What a parse-family function does with the first argument.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Target {
    Date,
    Timestamp,
    UnixSeconds,
}

impl Target {
    /// The function Spark's error suggests.
    fn try_fn(self) -> &'static str {
        if self == Target::Date { "try_to_date" } else { "try_to_timestamp" }
    }
}

/// The shared body of `to_date`, `to_timestamp` and `unix_timestamp`:
/// each row to an instant (microseconds), null where it is null or, when
/// not failing on errors, does not parse.
fn eval_instants(
    common: &Common,
    target: Target,
    default_pattern: Option<&str>,
    args: &ScalarFunctionArgs,
) -> Result<Vec<Option<i64>>> {
    let zone = common.session_zone(&args.config_options)?;
    let (n, _) = shape(args);
    let value = args.args.first().map(Col::new).transpose()?.ok_or_else(|| exec_datafusion_err!("missing argument"))?;
    let format = args.args.get(1).map(Col::new).transpose()?;
    let mut patterns = Patterns::new(Mode::Parse, build_parser);
    let mut out = Vec::with_capacity(n);
    let value_type = value.array.data_type().clone();
    // Non-string inputs need no pattern: Spark ignores it for them.
    let micros_array = match &value_type {
        DataType::Timestamp(_, _) => Some(cast(&value.array, &DataType::Timestamp(TimeUnit::Microsecond, None))?),
        _ => None,
    };
    for i in 0..n {
        let k = value.idx(i);
        if value.array.is_null(k) {
            out.push(None);
            continue;
        }
        let v = match &value_type {
            DataType::Date32 => Some(days_to_micros(
                value.array.as_primitive::<datafusion::arrow::datatypes::Date32Type>().value(k),
                &zone,
            )?),
            DataType::Timestamp(_, tz) => {
                let us = micros_array
                    .as_ref()
                    .map(|a| a.as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>().value(k))
                    .ok_or_else(overflow)?;
                // A TIMESTAMP_NTZ is a local time in the session zone, except
                // that Spark's unix_timestamp reads it as UTC.
                Some(if tz.is_some() || target == Target::UnixSeconds {
                    us
                } else {
                    local_micros_to_instant(us, &zone)?
                })
            }
            DataType::Int64 => {
                let secs = value.array.as_primitive::<Int64Type>().value(k);
                Some(secs.checked_mul(MICROS_PER_SECOND).ok_or_else(overflow)?)
            }
            DataType::Float64 => {
                let secs = value.array.as_primitive::<datafusion::arrow::datatypes::Float64Type>().value(k);
                if !secs.is_finite() {
                    if common.fail_on_error {
                        return Err(DataFusionError::Execution(format!(
                            "[CAST_INVALID_INPUT] The value '{secs}' of the type \"DOUBLE\" cannot be cast to \"TIMESTAMP\" because it is malformed. SQLSTATE: 22018"
                        )));
                    }
                    None
                } else {
                    Some((secs * MICROS_PER_SECOND as f64) as i64)
                }
            }
            _ => {
                let Some(text) = value.str_at(i) else {
                    out.push(None);
                    continue;
                };
                let pattern = match &format {
                    Some(f) => match f.str_at(i) {
                        Some(p) => Some(p),
                        None => {
                            out.push(None);
                            continue;
                        }
                    },
                    None => default_pattern,
                };
                match pattern {
                    Some(p) => match patterns.get(p)?.parse_micros(text, &zone) {
                        Ok(us) => Some(us),
                        Err(ParseFailure::Overflow) => return Err(overflow()),
                        Err(ParseFailure::Invalid(msg)) => {
                            if common.fail_on_error {
                                return Err(cannot_parse(&msg, target.try_fn()));
                            }
                            None
                        }
                    },
                    // No pattern: Spark's cast.
                    None => {
                        let parsed = if target == Target::Date {
                            string_to_date(text).map(|d| days_to_micros(d, &zone)).transpose()?
                        } else {
                            string_to_timestamp(text, &zone)
                        };
                        if parsed.is_none() && common.fail_on_error {
                            return Err(cast_invalid(text, if target == Target::Date { "DATE" } else { "TIMESTAMP" }));
                        }
                        parsed
                    }
                }
            }
        };
        out.push(v);
    }
    Ok(out)
}

/// `to_date(str[, fmt])` → DATE (and `try_to_date`). Without a pattern a
/// string is cast as Spark casts to DATE; with one it is parsed as a
/// timestamp in the session zone and its date taken there.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ToDate {
    name: &'static str,
    common: Common,
}

impl ToDate {
    /// `to_date`, raising on bad input (ANSI mode).
    pub fn new(tz: Option<Arc<str>>) -> Self {
        Self { name: "to_date", common: Common::new(tz, true) }
    }

    /// `try_to_date`: null on bad input.
    pub fn new_try(tz: Option<Arc<str>>) -> Self {
        Self { name: "try_to_date", common: Common::new(tz, false) }
    }

    /// With ANSI mode off `to_date` gives null on bad input too.
    pub fn with_fail_on_error(mut self, fail: bool) -> Self {
        self.common.fail_on_error = fail;
        self
    }
}

impl ScalarUDFImpl for ToDate {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.common.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        check_arity(self.name, arg_types.len(), 1, 2)?;
        let mut out = vec![coerce_temporal(self.name, &arg_types[0], false)?];
        if let Some(f) = arg_types.get(1) {
            out.push(coerce_format(self.name, f)?);
        }
        Ok(out)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Date32)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        check_literal_pattern(&args, 1, Mode::Parse)?;
        Ok(Arc::new(Field::new(self.name, DataType::Date32, true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (_, scalar) = shape(&args);
        let zone = self.common.session_zone(&args.config_options)?;
        // Dates and NTZ timestamps keep their own date.
        let first = args.args.first().map(|a| a.data_type());
        let days: Vec<Option<i32>> = match first {
            Some(DataType::Date32) => {
                let col = Col::new(&args.args[0])?;
                let a = col.array.as_primitive::<datafusion::arrow::datatypes::Date32Type>();
                (0..shape(&args).0).map(|i| a.is_valid(col.idx(i)).then(|| a.value(col.idx(i)))).collect()
            }
            Some(DataType::Timestamp(_, None)) => {
                let col = Col::new(&args.args[0])?;
                let a = cast(&col.array, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
                let a = a.as_primitive::<datafusion::arrow::datatypes::TimestampMicrosecondType>();
                (0..shape(&args).0)
                    .map(|i| {
                        let k = col.idx(i);
                        a.is_valid(k)
                            .then(|| a.value(k).div_euclid(MICROS_PER_DAY))
                            .map(|d| i32::try_from(d).map_err(|_| overflow()))
                            .transpose()
                    })
                    .collect::<Result<_>>()?
            }
            _ => eval_instants(&self.common, Target::Date, None, &args)?
                .into_iter()
                .map(|v| v.map(|us| micros_to_days(us, &zone)).transpose())
                .collect::<Result<_>>()?,
        };
        finish(Arc::new(Date32Array::from(days)), scalar)
    }
}

/// `to_timestamp(str[, fmt])` → TIMESTAMP in the session time zone (and
/// `try_to_timestamp`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct ToTimestamp {
    name: &'static str,
    common: Common,
    /// `to_timestamp_ntz`: a TIMESTAMP_NTZ of the text's wall-clock time.
    ntz: bool,
}

impl ToTimestamp {
    /// `to_timestamp`, raising on bad input (ANSI mode). `tz` is the
    /// session time zone, which the result type carries.
    pub fn new(tz: Option<Arc<str>>) -> Self {
        Self { name: "to_timestamp", common: Common::new(tz, true), ntz: false }
    }

    /// `try_to_timestamp`: null on bad input.
    pub fn new_try(tz: Option<Arc<str>>) -> Self {
        Self { name: "try_to_timestamp", common: Common::new(tz, false), ntz: false }
    }

    /// `to_timestamp_ltz`: `to_timestamp` under its other name.
    pub fn new_ltz(tz: Option<Arc<str>>) -> Self {
        Self { name: "to_timestamp_ltz", ..Self::new(tz) }
    }

    /// `to_timestamp_ntz`: the text read as a wall-clock time, which a
    /// timestamp without a time zone keeps as UTC.
    pub fn new_ntz() -> Self {
        Self { name: "to_timestamp_ntz", common: Common::new(Some("UTC".into()), true), ntz: true }
    }

    pub fn with_fail_on_error(mut self, fail: bool) -> Self {
        self.common.fail_on_error = fail;
        self
    }

    fn output_type(&self) -> DataType {
        let tz = if self.ntz { None } else { self.common.tz.clone() };
        DataType::Timestamp(TimeUnit::Microsecond, tz)
    }
}

impl ScalarUDFImpl for ToTimestamp {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.common.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        check_arity(self.name, arg_types.len(), 1, 2)?;
        let numbers = arg_types.len() == 1;
        let mut out = vec![coerce_temporal(self.name, &arg_types[0], numbers)?];
        if let Some(f) = arg_types.get(1) {
            out.push(coerce_format(self.name, f)?);
        }
        Ok(out)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(self.output_type())
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        check_literal_pattern(&args, 1, Mode::Parse)?;
        Ok(Arc::new(Field::new(self.name, self.output_type(), true)))
    }

    fn with_updated_config(&self, config: &ConfigOptions) -> Option<ScalarUDF> {
        if self.ntz {
            return None;
        }
        let tz = self.common.updated_tz(config)?;
        let fail = self.common.fail_on_error;
        Some(ScalarUDF::from(Self { name: self.name, common: Common::new(Some(tz), fail), ntz: false }))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (_, scalar) = shape(&args);
        let tz = match args.return_type() {
            DataType::Timestamp(_, tz) => tz.clone(),
            _ => self.common.tz.clone(),
        };
        // A wall-clock time is read in UTC, whatever the session's zone.
        let mut args = args;
        if self.ntz {
            let mut config = args.config_options.as_ref().clone();
            config.execution.time_zone = Some("UTC".into());
            args.config_options = Arc::new(config);
        }
        let values = eval_instants(&self.common, Target::Timestamp, None, &args)?;
        finish(Arc::new(TimestampMicrosecondArray::from(values).with_timezone_opt(tz)), scalar)
    }
}

/// `unix_timestamp(x[, fmt])` / `to_unix_timestamp`: seconds since the
/// epoch; strings parse with `fmt` (default `yyyy-MM-dd HH:mm:ss`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct UnixTimestamp {
    name: &'static str,
    common: Common,
}

impl UnixTimestamp {
    pub fn new(tz: Option<Arc<str>>) -> Self {
        Self { name: "unix_timestamp", common: Common::new(tz, true) }
    }

    /// The same function under Spark's other name.
    pub fn named_to_unix_timestamp(tz: Option<Arc<str>>) -> Self {
        Self { name: "to_unix_timestamp", common: Common::new(tz, true) }
    }

    pub fn with_fail_on_error(mut self, fail: bool) -> Self {
        self.common.fail_on_error = fail;
        self
    }
}

impl ScalarUDFImpl for UnixTimestamp {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.common.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        check_arity(self.name, arg_types.len(), 1, 2)?;
        let mut out = vec![coerce_temporal(self.name, &arg_types[0], false)?];
        if let Some(f) = arg_types.get(1) {
            out.push(coerce_format(self.name, f)?);
        }
        Ok(out)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        check_literal_pattern(&args, 1, Mode::Parse)?;
        Ok(Arc::new(Field::new(self.name, DataType::Int64, true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (_, scalar) = shape(&args);
        let values = eval_instants(&self.common, Target::UnixSeconds, Some(DEFAULT_PATTERN), &args)?;
        let secs: Int64Array = values.into_iter().map(|v| v.map(|us| us.div_euclid(MICROS_PER_SECOND))).collect();
        finish(Arc::new(secs), scalar)
    }
}

/// `date_format(ts, fmt)` → STRING, in the session time zone. Dates are
/// midnight there; strings are cast to TIMESTAMP first.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct DateFormat {
    common: Common,
}

impl DateFormat {
    pub fn new(tz: Option<Arc<str>>) -> Self {
        Self { common: Common::new(tz, true) }
    }

    pub fn with_fail_on_error(mut self, fail: bool) -> Self {
        self.common.fail_on_error = fail;
        self
    }
}

impl ScalarUDFImpl for DateFormat {
    fn name(&self) -> &str {
        "date_format"
    }

    fn signature(&self) -> &Signature {
        &self.common.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        check_arity("date_format", arg_types.len(), 2, 2)?;
        Ok(vec![coerce_temporal("date_format", &arg_types[0], false)?, coerce_format("date_format", &arg_types[1])?])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        check_literal_pattern(&args, 1, Mode::Format)?;
        Ok(Arc::new(Field::new("date_format", DataType::Utf8, true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (n, scalar) = shape(&args);
        let zone = self.common.session_zone(&args.config_options)?;
        // Every input becomes an instant first.
        let instants = eval_instants(
            &self.common,
            Target::Timestamp,
            None,
            &ScalarFunctionArgs {
                args: args.args.iter().take(1).cloned().collect(),
                arg_fields: args.arg_fields.iter().take(1).cloned().collect(),
                number_rows: args.number_rows,
                return_field: Arc::clone(&args.return_field),
                config_options: Arc::clone(&args.config_options),
            },
        )?;
        let format =
            args.args.get(1).map(Col::new).transpose()?.ok_or_else(|| exec_datafusion_err!("missing argument"))?;
        let mut patterns = Patterns::new(Mode::Format, build_formatter);
        let mut out: Vec<Option<String>> = Vec::with_capacity(n);
        let mut buf = String::new();
        for i in 0..n {
            let us = instants.get(if instants.len() == 1 { 0 } else { i }).copied().flatten();
            match (us, format.str_at(i)) {
                (Some(us), Some(p)) => {
                    buf.clear();
                    let pattern = patterns.get(p)?;
                    format_micros(&pattern, us, &zone, &mut buf)?;
                    out.push(Some(buf.clone()));
                }
                _ => out.push(None),
            }
        }
        finish(Arc::new(StringArray::from(out)), scalar)
    }
}

/// `from_unixtime(seconds[, fmt])` → STRING (default
/// `yyyy-MM-dd HH:mm:ss`), in the session time zone.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FromUnixTime {
    common: Common,
}

impl FromUnixTime {
    pub fn new(tz: Option<Arc<str>>) -> Self {
        Self { common: Common::new(tz, true) }
    }
}

impl ScalarUDFImpl for FromUnixTime {
    fn name(&self) -> &str {
        "from_unixtime"
    }

    fn signature(&self) -> &Signature {
        &self.common.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        check_arity("from_unixtime", arg_types.len(), 1, 2)?;
        let first = match &arg_types[0] {
            t if t.is_numeric() || t.is_null() || is_string(t) => DataType::Int64,
            other => {
                return plan_err!(
                    "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"from_unixtime\" due to data type mismatch: the first parameter requires the \"BIGINT\" type, however it has the type {other}. SQLSTATE: 42K09"
                );
            }
        };
        let mut out = vec![first];
        if let Some(f) = arg_types.get(1) {
            out.push(coerce_format("from_unixtime", f)?);
        }
        Ok(out)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        check_literal_pattern(&args, 1, Mode::Format)?;
        Ok(Arc::new(Field::new("from_unixtime", DataType::Utf8, true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let (n, scalar) = shape(&args);
        let zone = self.common.session_zone(&args.config_options)?;
        let secs =
            args.args.first().map(Col::new).transpose()?.ok_or_else(|| exec_datafusion_err!("missing argument"))?;
        let secs_array = cast(&secs.array, &DataType::Int64)?;
        let secs_array = secs_array.as_primitive::<Int64Type>();
        let format = args.args.get(1).map(Col::new).transpose()?;
        let mut patterns = Patterns::new(Mode::Format, build_formatter);
        let mut out: Vec<Option<String>> = Vec::with_capacity(n);
        let mut buf = String::new();
        for i in 0..n {
            let k = secs.idx(i);
            let pattern = match &format {
                Some(f) => f.str_at(i),
                None => Some(DEFAULT_PATTERN),
            };
            match (secs_array.is_valid(k), pattern) {
                (true, Some(p)) => {
                    let us = secs_array.value(k).checked_mul(MICROS_PER_SECOND).ok_or_else(overflow)?;
                    buf.clear();
                    let pattern = patterns.get(p)?;
                    format_micros(&pattern, us, &zone, &mut buf)?;
                    out.push(Some(buf.clone()));
                }
                _ => out.push(None),
            }
        }
        finish(Arc::new(StringArray::from(out)), scalar)
    }
}
