//! `months_between(end, start[, roundOff])`, as Spark's
//! `DateTimeUtils.monthsBetween`: whole months when both days of month
//! are equal or both are the last of their month; otherwise the month
//! difference plus the difference of (day of month, time of day) over
//! 31-day months, rounded to 8 decimals unless `roundOff` is false.
//! Timestamps are read as wall-clock times in the session time zone.

use std::sync::Arc;

use chrono::{Datelike, NaiveDate, NaiveDateTime, Timelike};
use datafusion::arrow::array::{Array, AsArray, Float64Array};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Date32Type, TimeUnit, TimestampMicrosecondType};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};

use super::micros_to_utc;
use super::zone::Zone;

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MonthsBetween {
    signature: Signature,
}

impl MonthsBetween {
    pub fn new() -> Self {
        Self { signature: Signature::user_defined(Volatility::Immutable) }
    }
}

fn coerce_time(t: &DataType) -> Result<DataType> {
    Ok(match t {
        DataType::Timestamp(_, tz) => DataType::Timestamp(TimeUnit::Microsecond, tz.clone()),
        DataType::Date32 | DataType::Date64 | DataType::Null => DataType::Date32,
        // A string is a timestamp to Spark here: its time of day counts.
        DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View => DataType::Timestamp(TimeUnit::Microsecond, None),
        other => {
            return plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] months_between takes timestamps or dates, not {other}"
            );
        }
    })
}

impl ScalarUDFImpl for MonthsBetween {
    fn name(&self) -> &str {
        "months_between"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [a, b] => Ok(vec![coerce_time(a)?, coerce_time(b)?]),
            [a, b, DataType::Boolean | DataType::Null] => Ok(vec![coerce_time(a)?, coerce_time(b)?, DataType::Boolean]),
            _ => plan_err!("months_between takes two timestamps and an optional boolean roundOff"),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Float64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let round_off = match args.args.get(2) {
            None => true,
            Some(ColumnarValue::Scalar(ScalarValue::Boolean(Some(b)))) => *b,
            Some(ColumnarValue::Scalar(_)) => return Ok(ColumnarValue::Scalar(ScalarValue::Float64(None))),
            Some(ColumnarValue::Array(_)) => return exec_err!("months_between expects a literal roundOff"),
        };
        let zone = match args.config_options.execution.time_zone.as_deref() {
            Some(tz) => Zone::parse(tz).unwrap_or_else(Zone::utc),
            None => Zone::utc(),
        };
        let n = args.number_rows;
        let end = local_times(&args.args[0].to_array(n)?, &zone)?;
        let start = local_times(&args.args[1].to_array(n)?, &zone)?;
        let out: Float64Array = end
            .iter()
            .zip(&start)
            .map(|(e, s)| match (e, s) {
                (Some(e), Some(s)) => Some(months_between(*e, *s, round_off)),
                _ => None,
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

/// Wall-clock date-times of dates (midnight), timestamps (in `zone`) or
/// timestamps without a time zone (as they are).
fn local_times(a: &dyn Array, zone: &Zone) -> Result<Vec<Option<NaiveDateTime>>> {
    let a = match a.data_type() {
        DataType::Date32 | DataType::Timestamp(TimeUnit::Microsecond, _) => a.slice(0, a.len()),
        _ => cast(a, &DataType::Date32)?,
    };
    let utc = Zone::utc();
    let zone = match a.data_type() {
        DataType::Timestamp(_, None) => &utc,
        _ => zone,
    };
    Ok(match a.data_type() {
        DataType::Date32 => a
            .as_primitive::<Date32Type>()
            .iter()
            .map(|d| {
                d.and_then(|d| NaiveDate::from_num_days_from_ce_opt(d + 719_163).and_then(|d| d.and_hms_opt(0, 0, 0)))
            })
            .collect(),
        _ => a
            .as_primitive::<TimestampMicrosecondType>()
            .iter()
            .map(|m| {
                m.and_then(micros_to_utc).map(|utc| utc + chrono::Duration::seconds(i64::from(zone.offset_at(&utc))))
            })
            .collect(),
    })
}

fn is_last_day(d: &NaiveDateTime) -> bool {
    d.date().succ_opt().is_some_and(|next| next.month() != d.month())
}

fn months_between(end: NaiveDateTime, start: NaiveDateTime, round_off: bool) -> f64 {
    let months = (end.year() - start.year()) * 12 + (end.month() as i32 - start.month() as i32);
    if end.day() == start.day() || (is_last_day(&end) && is_last_day(&start)) {
        return f64::from(months);
    }
    const MICROS_PER_DAY: f64 = 86_400e6;
    let micros_in_month = |d: &NaiveDateTime| {
        f64::from(d.day()) * MICROS_PER_DAY
            + f64::from(d.num_seconds_from_midnight()) * 1e6
            + f64::from(d.nanosecond() / 1000)
    };
    let diff = f64::from(months) + (micros_in_month(&end) - micros_in_month(&start)) / (31.0 * MICROS_PER_DAY);
    // Java's Math.round: half up.
    if round_off { (diff * 1e8 + 0.5).floor() / 1e8 } else { diff }
}

#[cfg(test)]
mod tests {
    use chrono::NaiveDate;

    use super::months_between;

    fn day(y: i32, m: u32, d: u32) -> chrono::NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default()
    }

    // Spark 4.2: months_between(DATE'2024-03-31', DATE'2024-02-29') = 1.0 (both
    // month ends), months_between('1997-02-28 10:30:00', '1996-10-30') = 3.94959677.
    #[test]
    fn month_ends_and_fractions() {
        assert_eq!(months_between(day(2024, 3, 31), day(2024, 2, 29), true), 1.0);
        let end = day(1997, 2, 28) + chrono::Duration::minutes(10 * 60 + 30);
        assert_eq!(months_between(end, day(1996, 10, 30), true), 3.94959677);
        assert_eq!(months_between(day(2024, 1, 15), day(2024, 3, 15), true), -2.0);
    }
}
