//! `timestampadd(unit, quantity, ts)` and `timestampdiff(unit, start, end)`
//! (also spelled `dateadd`/`timestamp_add` and `datediff`/`date_diff`/
//! `timestamp_diff` with a unit first), as Spark's
//! `DateTimeUtils.timestampAdd` and `timestampDiff`:
//!
//! - units up to HOUR add to the instant; DAY and WEEK add days and MONTH,
//!   QUARTER and YEAR months to the wall-clock time in the session zone,
//!   a day past the end of the month becoming its last day;
//! - a difference counts the whole units between the two wall-clock
//!   times, as `java.time.temporal.ChronoUnit.between` (toward zero).
//!
//! Dates are timestamps at midnight; a timestamp without a time zone is its
//! own wall-clock time.

use std::sync::Arc;

use chrono::{Duration, Months, NaiveDateTime};
use datafusion::arrow::array::{Array, AsArray, Int64Array, TimestampMicrosecondArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int64Type, TimeUnit, TimestampMicrosecondType};
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};

use super::zone::Zone;
use super::{micros_to_utc, overflow};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Unit {
    Microsecond,
    Millisecond,
    Second,
    Minute,
    Hour,
    Day,
    Week,
    Month,
    Quarter,
    Year,
}

impl Unit {
    fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_uppercase().as_str() {
            "MICROSECOND" => Self::Microsecond,
            "MILLISECOND" => Self::Millisecond,
            "SECOND" => Self::Second,
            "MINUTE" => Self::Minute,
            "HOUR" => Self::Hour,
            "DAY" | "DAYOFYEAR" => Self::Day,
            "WEEK" => Self::Week,
            "MONTH" => Self::Month,
            "QUARTER" => Self::Quarter,
            "YEAR" => Self::Year,
            _ => return None,
        })
    }

    /// The microseconds in one unit, for the units of fixed length.
    fn micros(self) -> Option<i64> {
        Some(match self {
            Self::Microsecond => 1,
            Self::Millisecond => 1_000,
            Self::Second => 1_000_000,
            Self::Minute => 60_000_000,
            Self::Hour => 3_600_000_000,
            _ => return None,
        })
    }
}

/// Whether `name` is a unit `timestampadd`/`timestampdiff` take (SQL
/// writes it as a bare word).
pub fn is_unit(name: &str) -> bool {
    Unit::parse(name).is_some()
}

/// `timestampadd` or `timestampdiff`, for a session time zone.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct TimestampUnits {
    diff: bool,
    tz: Option<Arc<str>>,
    signature: Signature,
}

impl TimestampUnits {
    pub fn add(tz: Option<Arc<str>>) -> Self {
        Self { diff: false, tz, signature: Signature::user_defined(Volatility::Immutable) }
    }

    pub fn diff(tz: Option<Arc<str>>) -> Self {
        Self { diff: true, tz, signature: Signature::user_defined(Volatility::Immutable) }
    }

    /// A timestamp argument's type: timestamps in microseconds, keeping
    /// their zone; dates as they are; text as timestamps.
    fn timestamp_type(&self, t: &DataType) -> DataType {
        match t {
            DataType::Timestamp(_, tz) => DataType::Timestamp(TimeUnit::Microsecond, tz.clone()),
            DataType::Date32 | DataType::Date64 | DataType::Null => DataType::Date32,
            _ => DataType::Timestamp(TimeUnit::Microsecond, self.tz.clone()),
        }
    }
}

/// Each value's instant (microseconds) and wall-clock time: a date is
/// midnight in `zone`, a timestamp without a time zone its own wall clock.
fn instants(a: &dyn Array, zone: &Zone) -> Result<Vec<Option<(i64, NaiveDateTime)>>> {
    let utc = Zone::utc();
    match a.data_type() {
        DataType::Date32 => Ok(a
            .as_primitive::<datafusion::arrow::datatypes::Date32Type>()
            .iter()
            .map(|d| {
                let wall =
                    d.and_then(|d| chrono::NaiveDate::from_num_days_from_ce_opt(d + 719_163))?.and_hms_opt(0, 0, 0)?;
                Some((zone.local_to_utc(&wall)?.and_utc().timestamp_micros(), wall))
            })
            .collect()),
        DataType::Timestamp(_, tz) => {
            let zone = if tz.is_none() { &utc } else { zone };
            a.as_primitive::<TimestampMicrosecondType>()
                .iter()
                .map(|m| m.map(|m| local(m, zone).map(|wall| (m, wall))).transpose())
                .collect()
        }
        other => exec_err!("timestamps expected, not {other}"),
    }
}

impl ScalarUDFImpl for TimestampUnits {
    fn name(&self) -> &str {
        if self.diff { "timestampdiff" } else { "timestampadd" }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        let [_, b, c] = args else {
            return plan_err!("[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{}` requires 3 parameters.", self.name());
        };
        if self.diff {
            Ok(vec![DataType::Utf8, self.timestamp_type(b), self.timestamp_type(c)])
        } else {
            Ok(vec![DataType::Utf8, DataType::Int64, self.timestamp_type(c)])
        }
    }

    fn return_type(&self, args: &[DataType]) -> Result<DataType> {
        Ok(match &args[2] {
            _ if self.diff => DataType::Int64,
            DataType::Timestamp(_, tz) => DataType::Timestamp(TimeUnit::Microsecond, tz.clone()),
            _ => DataType::Timestamp(TimeUnit::Microsecond, self.tz.clone()),
        })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let unit = match &args.args[0] {
            ColumnarValue::Scalar(ScalarValue::Utf8(Some(u))) => match Unit::parse(u) {
                Some(unit) => unit,
                None => {
                    return exec_err!(
                        "[INVALID_PARAMETER_VALUE.DATETIME_UNIT] The value of parameter(s) `unit` in `{}` is invalid: expects one of the units without quotes YEAR, QUARTER, MONTH, WEEK, DAY, DAYOFYEAR, HOUR, MINUTE, SECOND, MILLISECOND, MICROSECOND, but got the string literal '{u}'. SQLSTATE: 22023",
                        self.name()
                    );
                }
            },
            _ => return exec_err!("{} takes its unit as a literal", self.name()),
        };
        let session_zone = match args.config_options.execution.time_zone.as_deref() {
            Some(tz) => Zone::parse(tz).unwrap_or_else(Zone::utc),
            None => Zone::utc(),
        };
        let n = args.number_rows;
        if self.diff {
            let start = instants(&args.args[1].to_array(n)?, &session_zone)?;
            let end = instants(&args.args[2].to_array(n)?, &session_zone)?;
            let out: Int64Array =
                start.iter().zip(&end).map(|(s, e)| Some(difference(unit, s.as_ref()?.1, e.as_ref()?.1))).collect();
            return Ok(ColumnarValue::Array(Arc::new(out)));
        }
        let quantity = cast(&args.args[1].to_array(n)?, &DataType::Int64)?;
        let ts = args.args[2].to_array(n)?;
        let (zone, tz) = match ts.data_type() {
            DataType::Timestamp(_, None) => (Zone::utc(), None),
            DataType::Timestamp(_, tz) => (session_zone, tz.clone()),
            _ => (session_zone, self.tz.clone()),
        };
        let out: TimestampMicrosecondArray = quantity
            .as_primitive::<Int64Type>()
            .iter()
            .zip(instants(&ts, &zone)?)
            .map(|(q, t)| match (q, t) {
                (Some(q), Some((micros, wall))) => add(unit, q, micros, wall, &zone).map(Some),
                _ => Ok(None),
            })
            .collect::<Result<_>>()?;
        Ok(ColumnarValue::Array(Arc::new(out.with_timezone_opt(tz))))
    }
}

/// The wall-clock time of an instant in `zone`.
fn local(micros: i64, zone: &Zone) -> Result<NaiveDateTime> {
    let utc = micros_to_utc(micros).ok_or_else(overflow)?;
    Ok(utc + Duration::seconds(i64::from(zone.offset_at(&utc))))
}

/// The instant `quantity` units after the one at `micros` (whose wall-clock
/// time in `zone` is `wall`).
fn add(unit: Unit, quantity: i64, micros: i64, wall: NaiveDateTime, zone: &Zone) -> Result<i64> {
    if let Some(per) = unit.micros() {
        return quantity.checked_mul(per).and_then(|d| micros.checked_add(d)).ok_or_else(overflow);
    }
    let moved = match unit {
        Unit::Day | Unit::Week => {
            let days = if unit == Unit::Week { quantity.checked_mul(7) } else { Some(quantity) };
            days.and_then(Duration::try_days).and_then(|d| wall.checked_add_signed(d))
        }
        _ => {
            let per = match unit {
                Unit::Quarter => 3,
                Unit::Year => 12,
                _ => 1,
            };
            let months = quantity.checked_mul(per).and_then(|m| i32::try_from(m).ok());
            months.and_then(|m| {
                let by = Months::new(m.unsigned_abs());
                if m >= 0 { wall.checked_add_months(by) } else { wall.checked_sub_months(by) }
            })
        }
    };
    let utc = moved.and_then(|m| zone.local_to_utc(&m)).ok_or_else(overflow)?;
    Ok(utc.and_utc().timestamp_micros())
}

/// `ChronoUnit.between(start, end)` for two wall-clock times.
fn difference(unit: Unit, start: NaiveDateTime, end: NaiveDateTime) -> i64 {
    if let Some(per) = unit.micros() {
        let micros = (end - start).num_microseconds().unwrap_or(i64::MAX);
        return micros / per;
    }
    // A date-based count: the end's date moves a day toward the start when
    // its time of day has not reached the start's.
    let mut end_date = end.date();
    if end_date > start.date() && end.time() < start.time() {
        end_date = end_date.pred_opt().unwrap_or(end_date);
    } else if end_date < start.date() && end.time() > start.time() {
        end_date = end_date.succ_opt().unwrap_or(end_date);
    }
    let start_date = start.date();
    use chrono::Datelike;
    let packed = |d: chrono::NaiveDate| (i64::from(d.year()) * 12 + i64::from(d.month0())) * 32 + i64::from(d.day());
    let months = (packed(end_date) - packed(start_date)) / 32;
    let days = (end_date - start_date).num_days();
    match unit {
        Unit::Week => days / 7,
        Unit::Month => months,
        Unit::Quarter => months / 3,
        Unit::Year => months / 12,
        _ => days,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use chrono::NaiveDate;

    use super::*;

    fn at(y: i32, m: u32, d: u32, h: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(y, m, d).unwrap().and_hms_opt(h, 0, 0).unwrap()
    }

    #[test]
    fn differences_count_whole_units_toward_zero() {
        assert_eq!(difference(Unit::Month, at(2016, 1, 31, 10), at(2016, 2, 29, 9)), 0);
        assert_eq!(difference(Unit::Month, at(2016, 1, 31, 10), at(2016, 2, 29, 11)), 0);
        assert_eq!(difference(Unit::Month, at(2016, 1, 29, 10), at(2016, 2, 29, 11)), 1);
        assert_eq!(difference(Unit::Year, at(2016, 2, 29, 10), at(2017, 2, 28, 10)), 0);
        assert_eq!(difference(Unit::Week, at(2016, 2, 29, 10), at(2016, 3, 14, 10)), 2);
        assert_eq!(difference(Unit::Day, at(2016, 2, 29, 10), at(2016, 3, 1, 9)), 0);
        assert_eq!(difference(Unit::Day, at(2016, 3, 1, 9), at(2016, 2, 29, 10)), 0);
        let half = at(2016, 2, 29, 9) + Duration::milliseconds(3_598_500);
        assert_eq!(difference(Unit::Second, at(2016, 2, 29, 10), half), -1);
    }

    #[test]
    fn months_end_at_the_last_day() {
        let utc = Zone::utc();
        let micros = |t: NaiveDateTime| t.and_utc().timestamp_micros();
        let plus = |unit, q, t: NaiveDateTime| add(unit, q, micros(t), t, &utc).unwrap();
        assert_eq!(plus(Unit::Year, 1, at(2016, 2, 29, 10)), micros(at(2017, 2, 28, 10)));
        assert_eq!(plus(Unit::Month, -1, at(2016, 3, 31, 10)), micros(at(2016, 2, 29, 10)));
        assert_eq!(plus(Unit::Quarter, 1, at(2016, 1, 31, 0)), micros(at(2016, 4, 30, 0)));
        assert_eq!(plus(Unit::Hour, 5, at(2016, 3, 31, 22)), micros(at(2016, 4, 1, 3)));
        // Days move the wall clock: across a DST change the instant moves 23 hours.
        let la = Zone::parse("America/Los_Angeles").unwrap();
        let before = at(2016, 3, 12, 12);
        let instant = la.local_to_utc(&before).unwrap().and_utc().timestamp_micros();
        assert_eq!(add(Unit::Day, 1, instant, before, &la).unwrap() - instant, 23 * 3_600_000_000);
    }
}
