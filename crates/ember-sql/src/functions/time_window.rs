//! `window(time, windowDuration[, slideDuration[, startTime]])`: the time
//! windows a row falls in, as Spark's TimeWindowing computes them. Window
//! `i` of a row starts at its last window start (`time - (time - startTime)
//! mod slideDuration`) less `i` slides and lasts `windowDuration`; a row
//! is in the windows with `start <= time < end`. Spark expands each row
//! into one row per window (and drops rows with no time), so the planner
//! unnests the list [`TimeWindows`] returns.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, ListBuilder, StructBuilder, TimestampMicrosecondBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Fields, TimeUnit, TimestampMicrosecondType};
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};

pub const NAME: &str = "ember_time_windows";

/// Whether `e` is the unnest of a row's windows that `window(…)` plans.
pub fn is_windows(e: &datafusion::logical_expr::Expr) -> bool {
    use datafusion::logical_expr::Expr;
    matches!(e, Expr::Unnest(u) if matches!(u.expr.as_ref(), Expr::ScalarFunction(f) if f.func.name() == NAME))
}

/// A duration argument of `window` (`"10 minutes"`) in microseconds.
pub fn duration_micros(text: &str, what: &str) -> Result<i64> {
    let invalid = || {
        datafusion::common::DataFusionError::Plan(format!(
            "[INVALID_INTERVAL_FORMAT] The {what} '{text}' of window is not a valid interval."
        ))
    };
    let i =
        datafusion::arrow::compute::kernels::cast_utils::parse_interval_month_day_nano(text).map_err(|_| invalid())?;
    if i.months != 0 {
        return plan_err!("Intervals greater than a month is not supported ({text}).");
    }
    Ok(i64::from(i.days) * 86_400_000_000 + i.nanoseconds / 1000)
}

/// The window struct for a time of type `t`: `start` and `end` of that type.
pub fn window_type(t: &DataType) -> DataType {
    DataType::Struct(Fields::from(vec![Field::new("start", t.clone(), true), Field::new("end", t.clone(), true)]))
}

/// `ember_time_windows(time, windowDuration, slideDuration, startTime)`
/// (durations in microseconds): the list of windows `time` is in.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct TimeWindows {
    signature: Signature,
}

impl TimeWindows {
    pub fn new() -> Self {
        Self { signature: Signature::user_defined(Volatility::Immutable) }
    }
}

/// The windows of one time: Spark's starts, newest first.
fn windows(time: i64, duration: i64, slide: i64, start: i64) -> Vec<(i64, i64)> {
    let remainder = (time - start) % slide;
    let last_start = time - if remainder < 0 { remainder + slide } else { remainder };
    let overlapping = (duration + slide - 1) / slide;
    (0..overlapping)
        .map(|i| last_start - i * slide)
        .map(|s| (s, s + duration))
        .filter(|(s, e)| *s <= time && time < *e)
        .collect()
}

impl ScalarUDFImpl for TimeWindows {
    fn name(&self) -> &str {
        NAME
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        let [t, _, _, _] = types else { return plan_err!("{NAME} takes a time and three durations") };
        let time = match t {
            DataType::Timestamp(_, tz) => DataType::Timestamp(TimeUnit::Microsecond, tz.clone()),
            DataType::Date32 | DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null => {
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into()))
            }
            t => {
                return plan_err!(
                    "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] window takes a timestamp, not {}",
                    crate::types::simple_string(t)
                );
            }
        };
        Ok(vec![time, DataType::Int64, DataType::Int64, DataType::Int64])
    }

    fn return_type(&self, types: &[DataType]) -> Result<DataType> {
        // Every window has a start and an end: the struct is never NULL.
        Ok(DataType::List(Arc::new(Field::new_list_field(window_type(&types[0]), false))))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let time_type = args.arg_fields[0].data_type().clone();
        let times = args.args[0].to_array(rows)?;
        let micros = cast(&times, &DataType::Timestamp(TimeUnit::Microsecond, None))?;
        let micros = micros.as_primitive::<TimestampMicrosecondType>();
        let int = |i: usize| -> Result<i64> {
            let a = args.args[i].to_array(1)?;
            let a = cast(&a, &DataType::Int64)?;
            Ok(a.as_primitive::<datafusion::arrow::datatypes::Int64Type>().value(0))
        };
        let (duration, slide, start) = (int(1)?, int(2)?, int(3)?);
        if duration <= 0 || slide <= 0 {
            return plan_err!("The window duration and slide duration must be greater than 0.");
        }
        let DataType::Struct(fields) = window_type(&time_type) else { unreachable!("a window is a struct") };
        let tz = match &time_type {
            DataType::Timestamp(_, tz) => tz.clone(),
            _ => None,
        };
        let bound = || TimestampMicrosecondBuilder::new().with_timezone_opt(tz.clone());
        let windows_of = StructBuilder::new(fields.clone(), vec![Box::new(bound()), Box::new(bound())]);
        let mut out =
            ListBuilder::new(windows_of).with_field(Arc::new(Field::new_list_field(window_type(&time_type), false)));
        for row in 0..rows {
            if micros.is_valid(row) {
                for (s, e) in windows(micros.value(row), duration, slide, start) {
                    let w = out.values();
                    w.field_builder::<TimestampMicrosecondBuilder>(0).expect("start").append_value(s);
                    w.field_builder::<TimestampMicrosecondBuilder>(1).expect("end").append_value(e);
                    w.append(true);
                }
            }
            out.append(true);
        }
        Ok(ColumnarValue::Array(Arc::new(out.finish())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60_000_000;

    #[test]
    fn spark_windows() {
        // 12:07 in 10-minute windows: [12:00, 12:10).
        assert_eq!(windows(727 * MIN, 10 * MIN, 10 * MIN, 0), vec![(720 * MIN, 730 * MIN)]);
        // Sliding by 5: [12:05, 12:15) and [12:00, 12:10).
        assert_eq!(windows(727 * MIN, 10 * MIN, 5 * MIN, 0), vec![(725 * MIN, 735 * MIN), (720 * MIN, 730 * MIN)]);
        // Before 1970 the remainder is negative: still the window below.
        assert_eq!(windows(-3 * MIN, 10 * MIN, 10 * MIN, 0), vec![(-10 * MIN, 0)]);
        // A start time shifts the windows.
        assert_eq!(windows(7 * MIN, 10 * MIN, 10 * MIN, 5 * MIN), vec![(5 * MIN, 15 * MIN)]);
    }

    #[test]
    fn durations() {
        assert_eq!(duration_micros("10 minutes", "").unwrap(), 10 * MIN);
        assert_eq!(duration_micros("1 day 1 second", "").unwrap(), 86_400_000_000 + 1_000_000);
        assert!(duration_micros("1 month", "").is_err());
    }
}
