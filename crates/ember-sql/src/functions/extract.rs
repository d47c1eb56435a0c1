//! `extract(field FROM source)`, `date_part(field, source)` and
//! `datepart(field, source)` with Spark's fields and their abbreviations
//! (`Y`, `QTR`, `MON`, `W`, `D`, `DOW`, `DOW_ISO`, `DOY`, `H`, `M`, `S`,
//! …): ints, but SECOND is a DECIMAL(8, 6) with the fraction
//! (`15.120000`). Each becomes DataFusion's `date_part` of the part it
//! names, which reads a timestamp in its zone; an unknown field is
//! INVALID_EXTRACT_FIELD.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Decimal128Array, Int32Array};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, IntervalMonthDayNanoType, IntervalUnit, TimeUnit};

use crate::interval::MICROS_PER_DAY;
use datafusion::common::{Result, ScalarValue, plan_datafusion_err, plan_err};
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility, cast, lit,
};

/// A field Spark extracts.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Part {
    Year,
    YearOfWeek,
    Quarter,
    Month,
    Week,
    Day,
    DayOfWeek,
    DayOfWeekIso,
    DayOfYear,
    Hour,
    Minute,
    Second,
}

impl Part {
    /// Spark's `DatePart.parseExtractField` names.
    fn parse(field: &str) -> Option<Part> {
        Some(match field.to_ascii_uppercase().as_str() {
            "YEAR" | "Y" | "YEARS" | "YR" | "YRS" => Part::Year,
            "YEAROFWEEK" => Part::YearOfWeek,
            "QUARTER" | "QTR" => Part::Quarter,
            "MONTH" | "MON" | "MONS" | "MONTHS" => Part::Month,
            "WEEK" | "W" | "WEEKS" => Part::Week,
            "DAY" | "D" | "DAYS" => Part::Day,
            "DAYOFWEEK" | "DOW" => Part::DayOfWeek,
            "DAYOFWEEK_ISO" | "DOW_ISO" => Part::DayOfWeekIso,
            "DOY" => Part::DayOfYear,
            "HOUR" | "H" | "HOURS" | "HR" | "HRS" => Part::Hour,
            "MINUTE" | "M" | "MIN" | "MINS" | "MINUTES" => Part::Minute,
            "SECOND" | "S" | "SEC" | "SECONDS" | "SECS" => Part::Second,
            _ => return None,
        })
    }

    /// The part of an interval: its year-month or day-time fields only.
    fn of_interval(self) -> bool {
        matches!(self, Part::Year | Part::Month | Part::Day | Part::Hour | Part::Minute | Part::Second)
    }

    fn result(self) -> DataType {
        if self == Part::Second { SECONDS } else { DataType::Int32 }
    }
}

/// SECOND's type: seconds with their microseconds.
const SECONDS: DataType = DataType::Decimal128(8, 6);

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Extract {
    name: &'static str,
    signature: Signature,
}

impl Extract {
    pub const NAMES: [&'static str; 3] = ["extract", "date_part", "datepart"];

    pub fn new(name: &'static str) -> Self {
        Self { name, signature: Signature::user_defined(Volatility::Immutable) }
    }
}

/// The intervals this reads (`invoke_with_args`).
fn is_interval(t: &DataType) -> bool {
    matches!(t, DataType::Interval(IntervalUnit::YearMonth | IntervalUnit::MonthDayNano) | DataType::Duration(_))
}

/// The field a literal names; None for a NULL field (a NULL result).
fn part(field: Option<&ScalarValue>, source: &DataType) -> Result<Option<Part>> {
    if field.is_some_and(|v| v.is_null()) {
        return Ok(None);
    }
    let name = field.and_then(|v| v.try_as_str().flatten()).ok_or_else(|| {
        plan_datafusion_err!("[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] The field of extract must be a constant string.")
    })?;
    match Part::parse(name) {
        Some(p) if !is_interval(source) || p.of_interval() => Ok(Some(p)),
        _ => plan_err!(
            "[INVALID_EXTRACT_FIELD] Cannot extract `{name}` from \"{}\".",
            crate::types::simple_string(source).to_ascii_uppercase()
        ),
    }
}

impl ScalarUDFImpl for Extract {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        let [field, source] = types else {
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{}` requires 2 parameters but the actual number is {}.",
                self.name,
                types.len()
            );
        };
        let source_ok =
            matches!(source, DataType::Date32 | DataType::Timestamp(..) | DataType::Null) || is_interval(source);
        if !(super::is_text(field) || field.is_null()) || !source_ok {
            return plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] `{}` takes a field name and a date, timestamp or interval, not {}",
                self.name,
                crate::types::simple_string(source).to_ascii_uppercase()
            );
        }
        // NULL is a timestamp's NULL.
        let source = if source.is_null() {
            DataType::Timestamp(datafusion::arrow::datatypes::TimeUnit::Microsecond, None)
        } else {
            source.clone()
        };
        // A NULL field stays a NULL literal (and the result NULL).
        Ok(vec![if field.is_null() { DataType::Null } else { DataType::Utf8 }, source])
    }

    fn return_type(&self, _types: &[DataType]) -> Result<DataType> {
        datafusion::common::internal_err!("extract's type follows its field")
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let [_, source] = args.arg_fields else { return plan_err!("{} takes 2 arguments", self.name) };
        let p = part(args.scalar_arguments.first().copied().flatten(), source.data_type())?;
        let t = p.map_or(DataType::Int32, Part::result);
        Ok(Arc::new(Field::new(self.name, t, source.is_nullable() || p.is_none())))
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let [field, source] =
            <[Expr; 2]>::try_from(args).map_err(|_| plan_datafusion_err!("{} takes 2 arguments", self.name))?;
        let source_type = info.get_data_type(&source)?;
        let value = match &field {
            Expr::Literal(v, _) => Some(v),
            _ => None,
        };
        let Some(p) = part(value, &source_type)? else {
            return Ok(ExprSimplifyResult::Simplified(lit(ScalarValue::Int32(None))));
        };
        if is_interval(&source_type) {
            // Intervals are read here (`invoke_with_args`).
            return Ok(ExprSimplifyResult::Original(vec![field, source]));
        }
        let date_part = |name: &str| datafusion::functions::datetime::date_part().call(vec![lit(name), source.clone()]);
        let e = match p {
            Part::Year => date_part("year"),
            Part::YearOfWeek => date_part("isoyear"),
            Part::Quarter => date_part("quarter"),
            Part::Month => date_part("month"),
            Part::Week => date_part("week"),
            Part::Day => date_part("day"),
            // Sunday is 1 to Spark, 0 to DataFusion.
            Part::DayOfWeek => date_part("dow") + lit(1i32),
            Part::DayOfWeekIso => date_part("isodow"),
            Part::DayOfYear => date_part("doy"),
            Part::Hour => date_part("hour"),
            Part::Minute => date_part("minute"),
            // The minute's microseconds (zones are whole minutes apart), over
            // a million.
            Part::Second => {
                let micros = match &source_type {
                    DataType::Timestamp(unit, _) => {
                        let per_second: i64 = match unit {
                            TimeUnit::Second => 1,
                            TimeUnit::Millisecond => 1000,
                            TimeUnit::Microsecond => 1_000_000,
                            TimeUnit::Nanosecond => 1_000_000_000,
                        };
                        let minute = lit(60 * per_second);
                        let ticks = cast(source.clone(), DataType::Int64);
                        let of_minute = (ticks % minute.clone() + minute.clone()) % minute;
                        if per_second > 1_000_000 {
                            of_minute / lit(per_second / 1_000_000)
                        } else {
                            of_minute * lit(1_000_000 / per_second)
                        }
                    }
                    _ => lit(0i64),
                };
                let million = lit(ScalarValue::Decimal128(Some(1_000_000), 7, 0));
                // A dividend with a scale keeps the quotient's digits.
                cast(micros, DataType::Decimal128(20, 6)) / million
            }
        };
        Ok(ExprSimplifyResult::Simplified(cast(e, p.result())))
    }

    /// A field of intervals, as Spark reads its year-month (months) and
    /// day-time (microseconds) intervals: YEAR and MONTH of the months,
    /// DAY, HOUR, MINUTE and SECOND of the microseconds, each truncated
    /// toward zero. Dates and timestamps are rewritten (`simplify`).
    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let value = match args.args.first() {
            Some(ColumnarValue::Scalar(v)) => Some(v.clone()),
            _ => None,
        };
        let rows = args.number_rows;
        let Some(source) = args.args.get(1) else { return plan_err!("{} takes 2 arguments", self.name) };
        let Some(p) = part(value.as_ref(), &source.data_type())? else {
            return Ok(ColumnarValue::Scalar(ScalarValue::Int32(None)));
        };
        let source = source.to_array(rows)?;
        // (months, microseconds) of each interval.
        // Spark's intervals are year-month months and day-time durations
        // (interval::value_at); DataFusion's literals month-day-nano ones.
        let parts: Vec<Option<(i64, i64)>> = match source.data_type() {
            DataType::Interval(IntervalUnit::MonthDayNano) => source
                .as_primitive::<IntervalMonthDayNanoType>()
                .iter()
                .map(|v| v.map(|v| (v.months as i64, v.days as i64 * MICROS_PER_DAY + v.nanoseconds / 1000)))
                .collect(),
            DataType::Interval(IntervalUnit::YearMonth) => {
                (0..rows).map(|i| crate::interval::value_at(&source, i).map(|months| (months, 0))).collect()
            }
            DataType::Duration(_) => {
                (0..rows).map(|i| crate::interval::value_at(&source, i).map(|micros| (0, micros))).collect()
            }
            // Dates and timestamps are rewritten (constant folding may try
            // this first, and keeps the call when it fails).
            other => return plan_err!("{} of {other} is rewritten before it runs", self.name),
        };
        let out: ArrayRef = if p == Part::Second {
            let v: Decimal128Array = parts.iter().map(|v| v.map(|(_, us)| (us % 60_000_000) as i128)).collect();
            Arc::new(v.with_precision_and_scale(8, 6)?)
        } else {
            let v: Int32Array = parts
                .iter()
                .map(|v| {
                    v.map(|(months, us)| match p {
                        Part::Year => months / 12,
                        Part::Month => months % 12,
                        Part::Day => us / MICROS_PER_DAY,
                        Part::Hour => us / 3_600_000_000 % 24,
                        _ => us / 60_000_000 % 60,
                    } as i32)
                })
                .collect();
            Arc::new(v)
        };
        Ok(ColumnarValue::Array(out))
    }
}
