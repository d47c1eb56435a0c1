//! Functions and arithmetic of Spark's ANSI intervals ([`crate::interval`]):
//!
//! - `ember_interval(value, type)`: an interval literal of SQL text, typed
//!   with its fields (`INTERVAL 3 DAYS` is an `interval day`);
//! - `ember_interval_as(x, type)`: `x` marked as an interval type with other
//!   fields (`date - date` is an `interval day`);
//! - `interval * number`, `number * interval` and `interval / number`,
//!   rounded half-up as Spark does (`INTERVAL_DIVIDED_BY_ZERO` for a zero
//!   divisor);
//! - `date ± interval`: a date stays a date when the interval counts whole
//!   days (`interval day`), else it becomes a timestamp at its midnight;
//!   `date - date` is an `interval day`; sums and differences of intervals
//!   take the widest fields of the two;
//! - `make_ym_interval(years, months)` and `make_dt_interval(days, hours,
//!   mins, secs)`;
//! - `CAST(interval AS STRING)`: `INTERVAL '3' DAY` for ANSI intervals,
//!   `1 years 2 months` for calendar intervals.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, DurationMicrosecondArray, IntervalYearMonthArray};
use datafusion::arrow::datatypes::{
    DataType, Decimal128Type, DurationMicrosecondType, Field, FieldRef, Float64Type, Int32Type, Int64Type,
    IntervalMonthDayNanoType, IntervalUnit, IntervalYearMonthType, TimeUnit,
};
use datafusion::common::{DFSchema, DataFusionError, Result, ScalarValue, plan_err};
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult, RawBinaryExpr};
use datafusion::logical_expr::{
    BinaryExpr, ColumnarValue, Expr, ExprSchemable, Operator, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature, Volatility, cast, lit,
};
use ember_common::{ExceptionClass, SparkError};

use crate::interval::Interval;

const MICROS_PER_DAY: i64 = 86_400_000_000;

fn type_argument(name: &str, args: &ReturnFieldArgs) -> Result<Interval> {
    match args.scalar_arguments.get(1) {
        Some(Some(ScalarValue::Utf8(Some(t)))) => match Interval::parse(t) {
            Some(i) => Ok(i),
            None => plan_err!("{name}: unknown interval type {t}"),
        },
        _ => plan_err!("{name} takes an interval type name as its second argument"),
    }
}

/// `ember_interval('<months or microseconds>', '<type>')`, what SQL's
/// interval literals parse to ([`crate::interval::parse_literal`]).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IntervalLiteral {
    signature: Signature,
}

impl IntervalLiteral {
    pub fn new() -> Self {
        Self { signature: Signature::exact(vec![DataType::Utf8, DataType::Utf8], Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for IntervalLiteral {
    fn name(&self) -> &str {
        "ember_interval"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        plan_err!("ember_interval is typed by return_field_from_args")
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        Ok(Arc::new(type_argument(self.name(), &args)?.field(self.name(), false)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let value = match &args.args[0] {
            ColumnarValue::Scalar(ScalarValue::Utf8(Some(v))) => v.parse::<i64>().ok(),
            _ => None,
        };
        let Some(value) = value else {
            return plan_err!("ember_interval takes its value as a literal");
        };
        Ok(ColumnarValue::Scalar(match args.return_field.data_type() {
            DataType::Interval(_) => ScalarValue::IntervalYearMonth(Some(
                i32::try_from(value)
                    .map_err(|_| DataFusionError::Plan(format!("interval of {value} months out of range")))?,
            )),
            _ => ScalarValue::DurationMicrosecond(Some(value)),
        }))
    }
}

/// `ember_interval_as(x, '<type>')`: `x`, an interval, typed with other
/// fields.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IntervalAs {
    signature: Signature,
}

impl IntervalAs {
    pub fn new() -> Self {
        Self { signature: Signature::any(2, Volatility::Immutable) }
    }

    pub fn call(x: Expr, to: Interval) -> Expr {
        ScalarUDF::from(Self::new()).call(vec![x, lit(to.name())])
    }
}

impl ScalarUDFImpl for IntervalAs {
    fn name(&self) -> &str {
        "ember_interval_as"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        plan_err!("ember_interval_as is typed by return_field_from_args")
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let to = type_argument(self.name(), &args)?;
        let nullable = args.arg_fields.first().is_none_or(|f| f.is_nullable());
        Ok(Arc::new(to.field(self.name(), nullable)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        Ok(args.args[0].clone())
    }
}

fn arithmetic_error(message: &str) -> DataFusionError {
    DataFusionError::External(Box::new(SparkError::new(ExceptionClass::Arithmetic, message.to_string())))
}

fn divided_by_zero() -> DataFusionError {
    DataFusionError::External(Box::new(SparkError::with_class(
        ExceptionClass::Arithmetic,
        "INTERVAL_DIVIDED_BY_ZERO",
        "22012",
        "Division by zero. Use `try_divide` to tolerate divisor being 0 and return NULL instead.",
    )))
}

/// `a / b` rounded half away from zero (Guava's `HALF_UP`).
fn divide_half_up(a: i128, b: i128) -> i128 {
    let (q, r) = (a / b, a % b);
    if 2 * r.abs() >= b.abs() { q + if (a < 0) == (b < 0) { 1 } else { -1 } } else { q }
}

/// An interval times or divided by a number.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IntervalScale {
    divide: bool,
    signature: Signature,
}

impl IntervalScale {
    pub fn multiply() -> Self {
        Self { divide: false, signature: Signature::user_defined(Volatility::Immutable) }
    }

    pub fn divide() -> Self {
        Self { divide: true, signature: Signature::user_defined(Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for IntervalScale {
    fn name(&self) -> &str {
        if self.divide { "ember_interval_divide" } else { "ember_interval_multiply" }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        let [i, n] = types else {
            return plan_err!("{} takes an interval and a number", self.name());
        };
        let n = match n {
            t if t.is_integer() || t.is_null() => DataType::Int64,
            DataType::Decimal128(..) => n.clone(),
            t if t.is_numeric() => DataType::Float64,
            other => return plan_err!("{}: {other} is not a number", self.name()),
        };
        Ok(vec![i.clone(), n])
    }

    fn return_type(&self, types: &[DataType]) -> Result<DataType> {
        Ok(types[0].clone())
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let t = args.arg_fields[0].data_type().clone();
        let nullable = args.arg_fields.iter().any(|f| f.is_nullable());
        Ok(Arc::new(Field::new(self.name(), t, nullable)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let (x, n) = (args.args[0].to_array(rows)?, args.args[1].to_array(rows)?);
        let values: Vec<Option<i64>> = match x.data_type() {
            DataType::Interval(_) => {
                x.as_primitive::<IntervalYearMonthType>().iter().map(|v| v.map(i64::from)).collect()
            }
            _ => x.as_primitive::<DurationMicrosecondType>().iter().collect(),
        };
        let months = matches!(x.data_type(), DataType::Interval(_));
        let fits = |v: i128| -> Result<i64> {
            let out = if months { i32::try_from(v).map(i64::from).ok() } else { i64::try_from(v).ok() };
            out.ok_or_else(|| arithmetic_error(if months { "integer overflow" } else { "long overflow" }))
        };
        let mut out: Vec<Option<i64>> = Vec::with_capacity(rows);
        for (row, v) in values.into_iter().enumerate() {
            if v.is_none() || n.is_null(row) {
                out.push(None);
                continue;
            }
            let v = i128::from(v.unwrap_or(0));
            let result = match n.data_type() {
                DataType::Int64 => {
                    let n = i128::from(n.as_primitive::<Int64Type>().value(row));
                    match (self.divide, n) {
                        (true, 0) => return Err(divided_by_zero()),
                        (true, n) => divide_half_up(v, n),
                        (false, n) => v * n,
                    }
                }
                DataType::Decimal128(_, scale) => {
                    let unscaled = n.as_primitive::<Decimal128Type>().value(row);
                    let pow = 10i128.checked_pow(u32::try_from(*scale).unwrap_or(0)).unwrap_or(1);
                    let overflow = || arithmetic_error("Overflow");
                    match (self.divide, unscaled) {
                        (true, 0) => return Err(divided_by_zero()),
                        (true, u) => divide_half_up(v.checked_mul(pow).ok_or_else(overflow)?, u),
                        (false, u) => divide_half_up(v.checked_mul(u).ok_or_else(overflow)?, pow),
                    }
                }
                _ => {
                    let n = n.as_primitive::<Float64Type>().value(row);
                    if self.divide && n == 0.0 {
                        return Err(divided_by_zero());
                    }
                    let x = if self.divide { v as f64 / n } else { v as f64 * n };
                    if !x.is_finite() {
                        return Err(arithmetic_error("input is infinite or NaN"));
                    }
                    let r = x.round();
                    if r.abs() >= 1.7e38 {
                        return Err(arithmetic_error("not in range"));
                    }
                    r as i128
                }
            };
            out.push(Some(fits(result)?));
        }
        let array: ArrayRef = if months {
            Arc::new(out.into_iter().map(|v| v.map(|v| v as i32)).collect::<IntervalYearMonthArray>())
        } else {
            Arc::new(out.into_iter().collect::<DurationMicrosecondArray>())
        };
        Ok(ColumnarValue::Array(array))
    }
}

/// `make_ym_interval([years[, months]])` and `make_dt_interval([days[,
/// hours[, mins[, secs]]]])`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MakeInterval {
    day_time: bool,
    signature: Signature,
}

impl MakeInterval {
    pub fn year_month() -> Self {
        Self { day_time: false, signature: Signature::user_defined(Volatility::Immutable) }
    }

    pub fn day_time() -> Self {
        Self { day_time: true, signature: Signature::user_defined(Volatility::Immutable) }
    }

    fn max_args(&self) -> usize {
        if self.day_time { 4 } else { 2 }
    }
}

impl ScalarUDFImpl for MakeInterval {
    fn name(&self) -> &str {
        if self.day_time { "make_dt_interval" } else { "make_ym_interval" }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        if types.len() > self.max_args() {
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{}` requires [0, {}] parameters but the actual number is {}.",
                self.name(),
                self.max_args(),
                types.len()
            );
        }
        types
            .iter()
            .enumerate()
            .map(|(i, t)| {
                if self.day_time && i == 3 {
                    return Ok(DataType::Decimal128(18, 6));
                }
                if t.is_integer() || t.is_null() {
                    Ok(DataType::Int32)
                } else {
                    plan_err!(
                        "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{}\" due to data type mismatch: the parameter requires the \"INT\" type, however it has the type \"{}\".",
                        self.name(),
                        crate::types::simple_string(t)
                    )
                }
            })
            .collect()
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(if self.day_time { Interval::DAY_TO_SECOND } else { Interval::YEAR_TO_MONTH }.data_type())
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let nullable = args.arg_fields.iter().any(|f| f.is_nullable());
        Ok(Arc::new(Field::new(self.name(), self.return_type(&[])?, nullable)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let arrays = args.args.iter().map(|a| a.to_array(rows)).collect::<Result<Vec<_>>>()?;
        let mut months: Vec<Option<i32>> = Vec::with_capacity(rows);
        let mut micros: Vec<Option<i64>> = Vec::with_capacity(rows);
        for row in 0..rows {
            if arrays.iter().any(|a| a.is_null(row)) {
                months.push(None);
                micros.push(None);
                continue;
            }
            let int = |i: usize| arrays.get(i).map_or(0, |a| a.as_primitive::<Int32Type>().value(row));
            if self.day_time {
                // secs is decimal(18, 6): its unscaled value is microseconds.
                let secs = arrays.get(3).map_or(0, |a| a.as_primitive::<Decimal128Type>().value(row));
                let total = i128::from(int(0)) * i128::from(MICROS_PER_DAY)
                    + i128::from(int(1)) * 3_600_000_000
                    + i128::from(int(2)) * 60_000_000
                    + secs;
                micros.push(Some(i64::try_from(total).map_err(|_| arithmetic_error("long overflow"))?));
            } else {
                let total = int(0).checked_mul(12).and_then(|y| y.checked_add(int(1)));
                months.push(Some(total.ok_or_else(|| arithmetic_error("integer overflow"))?));
            }
        }
        Ok(ColumnarValue::Array(if self.day_time {
            Arc::new(micros.into_iter().collect::<DurationMicrosecondArray>())
        } else {
            Arc::new(months.into_iter().collect::<IntervalYearMonthArray>())
        }))
    }
}

/// `CAST(interval AS STRING)`: Spark's text of the interval, by its
/// fields (`INTERVAL '3' DAY`), as `ember_interval_to_string(x, type)`:
/// the type is an argument because a plan sent to executors keeps no
/// field metadata.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IntervalText {
    signature: Signature,
}

impl IntervalText {
    pub fn new() -> Self {
        Self { signature: Signature::any(2, Volatility::Immutable) }
    }

    /// The text of `x`, an interval of the type its planned `field` has
    /// (a calendar interval's type is `interval`).
    pub fn call(x: Expr, field: &Field) -> Option<Expr> {
        let name = match (Interval::of_field(field), field.data_type()) {
            (Some(interval), _) => interval.name(),
            (None, DataType::Interval(IntervalUnit::MonthDayNano)) => "interval".into(),
            _ => return None,
        };
        Some(ScalarUDF::from(Self::new()).call(vec![x, lit(name)]))
    }
}

impl ScalarUDFImpl for IntervalText {
    fn name(&self) -> &str {
        "ember_interval_to_string"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let values = args.args[0].to_array(args.number_rows)?;
        if let DataType::Interval(IntervalUnit::MonthDayNano) = values.data_type() {
            let out: datafusion::arrow::array::StringArray = values
                .as_primitive::<IntervalMonthDayNanoType>()
                .iter()
                .map(|v| v.map(|v| crate::display::calendar_interval(v.months, v.days, v.nanoseconds / 1000)))
                .collect();
            return Ok(ColumnarValue::Array(Arc::new(out)));
        }
        let interval = match &args.args[1] {
            ColumnarValue::Scalar(ScalarValue::Utf8(Some(name))) => Interval::parse(name),
            _ => None,
        };
        // The named type's kind must be the values' (any Arrow duration
        // unit is a day-time interval).
        let kind = Interval::of(values.data_type(), &Default::default()).map(Interval::data_type);
        let Some(interval) = interval.filter(|i| kind == Some(i.data_type())) else {
            return datafusion::common::exec_err!(
                "ember_interval_to_string takes an interval, not {}",
                values.data_type()
            );
        };
        Ok(ColumnarValue::Array(text(&values, interval)))
    }
}

/// Spark's text of each interval of `values`, of type `interval`.
pub fn text(values: &ArrayRef, interval: Interval) -> ArrayRef {
    let out: datafusion::arrow::array::StringArray =
        (0..values.len()).map(|row| crate::interval::value_at(values, row).map(|v| interval.format(v))).collect();
    Arc::new(out)
}

/// The functions of this module, for registration.
pub fn udfs() -> Vec<ScalarUDF> {
    vec![
        ScalarUDF::from(IntervalLiteral::new()),
        ScalarUDF::from(IntervalAs::new()),
        ScalarUDF::from(IntervalScale::multiply()),
        ScalarUDF::from(IntervalScale::divide()),
        ScalarUDF::from(MakeInterval::year_month()),
        ScalarUDF::from(MakeInterval::day_time()),
        ScalarUDF::from(IntervalText::new()),
    ]
}

fn binary(l: Expr, op: Operator, r: Expr) -> Expr {
    Expr::BinaryExpr(BinaryExpr::new(Box::new(l), op, Box::new(r)))
}

/// Spark's `l op r` where an operand is an ANSI interval, or `date -
/// date`; `None` for other operands. `tz` is the session time zone, the
/// zone of a date's midnight.
pub fn arithmetic(l: &Expr, op: Operator, r: &Expr, schema: &DFSchema, tz: &str) -> Result<Option<Expr>> {
    if !matches!(op, Operator::Plus | Operator::Minus | Operator::Multiply | Operator::Divide) {
        return Ok(None);
    }
    let (Ok(lf), Ok(rf)) = (l.to_field(schema), r.to_field(schema)) else { return Ok(None) };
    let (lf, rf) = (lf.1, rf.1);
    let (li, ri) = (Interval::of_field(&lf), Interval::of_field(&rf));
    let (lt, rt) = (lf.data_type(), rf.data_type());
    let number = |t: &DataType| t.is_numeric() || t.is_null();
    let scale = |udf: IntervalScale, i: &Expr, n: &Expr| ScalarUDF::from(udf).call(vec![i.clone(), n.clone()]);
    Ok(Some(match (li, op, ri) {
        (None, Operator::Plus | Operator::Minus, Some(i @ Interval::DayTime(..))) if *lt == DataType::Date32 => {
            date_plus(l.clone(), op, r.clone(), i, tz)
        }
        (Some(i @ Interval::DayTime(..)), Operator::Plus, None) if *rt == DataType::Date32 => {
            date_plus(r.clone(), op, l.clone(), i, tz)
        }
        (None, Operator::Minus, None) if *lt == DataType::Date32 && *rt == DataType::Date32 => {
            let days = binary(cast(l.clone(), DataType::Int64), Operator::Minus, cast(r.clone(), DataType::Int64));
            let micros = binary(days, Operator::Multiply, lit(MICROS_PER_DAY));
            IntervalAs::call(cast(micros, DataType::Duration(TimeUnit::Microsecond)), Interval::DAY)
        }
        (Some(a), Operator::Plus | Operator::Minus, Some(b)) => match a.widen(b) {
            Some(w) if w != Interval::YEAR_TO_MONTH && w != Interval::DAY_TO_SECOND => {
                IntervalAs::call(binary(l.clone(), op, r.clone()), w)
            }
            _ => return Ok(None),
        },
        (Some(_), Operator::Multiply, None) if number(rt) => scale(IntervalScale::multiply(), l, r),
        (None, Operator::Multiply, Some(_)) if number(lt) => scale(IntervalScale::multiply(), r, l),
        (Some(_), Operator::Divide, None) if number(rt) => scale(IntervalScale::divide(), l, r),
        _ => return Ok(None),
    }))
}

/// The SQL planner's side of [`arithmetic`]: DataFusion would reject
/// `INTERVAL 1 YEAR * 3` while it plans, before any rewrite of the plan
/// sees it.
#[derive(Debug)]
pub struct IntervalArithmetic {
    /// `spark.sql.session.timeZone`, kept current by the session.
    pub time_zone: Arc<std::sync::RwLock<String>>,
}

impl ExprPlanner for IntervalArithmetic {
    fn plan_binary_op(&self, expr: RawBinaryExpr, schema: &DFSchema) -> Result<PlannerResult<RawBinaryExpr>> {
        let Some(op) = super::promote_strings::arithmetic_operator(&expr.op) else {
            return Ok(PlannerResult::Original(expr));
        };
        let tz = self.time_zone.read().map(|t| t.clone()).unwrap_or_else(|_| "UTC".into());
        Ok(match arithmetic(&expr.left, op, &expr.right, schema, &tz)? {
            Some(e) => PlannerResult::Planned(e),
            None => PlannerResult::Original(expr),
        })
    }
}

/// `-x` of an interval `x`, of the type of `x` (DataFusion negates no
/// durations); `None` for other operands.
pub fn negate(x: &Expr, schema: &DFSchema) -> Result<Option<Expr>> {
    let Ok((_, field)) = x.to_field(schema) else { return Ok(None) };
    let Some(i) = Interval::of_field(&field) else { return Ok(None) };
    let zero = match i {
        Interval::YearMonth(..) => ScalarValue::IntervalYearMonth(Some(0)),
        Interval::DayTime(..) => ScalarValue::DurationMicrosecond(Some(0)),
    };
    Ok(Some(IntervalAs::call(binary(lit(zero), Operator::Minus, x.clone()), i)))
}

/// `date ± interval`: a date moved by whole days when the interval is an
/// `interval day`, else the timestamp of the date's midnight moved.
fn date_plus(date: Expr, op: Operator, interval: Expr, i: Interval, tz: &str) -> Expr {
    if i == Interval::DAY {
        // Whole days: the interval's microseconds over a day's, exact. (A
        // `/` of integers would plan as Spark's division of doubles.)
        let per_day = ScalarUDF::from(IntervalScale::divide()).call(vec![interval, lit(MICROS_PER_DAY)]);
        let days = cast(cast(per_day, DataType::Int64), DataType::Int32);
        return cast(binary(cast(date, DataType::Int32), op, days), DataType::Date32);
    }
    let midnight = cast(date, DataType::Timestamp(TimeUnit::Microsecond, Some(tz.into())));
    binary(midnight, op, interval)
}
