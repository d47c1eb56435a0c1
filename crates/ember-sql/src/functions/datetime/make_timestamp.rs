//! `make_timestamp(year, month, day, hour, min, sec[, timezone])` and
//! `try_make_timestamp`: the TIMESTAMP of a wall-clock date and time in
//! `timezone` (else the session's); `make_timestamp_ltz` is the same.
//! `make_timestamp_ntz(year, month, day, hour, min, sec)` is the wall-clock
//! TIMESTAMP_NTZ itself. `sec` is a decimal(16,6); 60 is the
//! next minute. A field out of range is DATETIME_FIELD_OUT_OF_BOUNDS (the
//! `try_` form, and any form without ANSI, give NULL).

use std::sync::Arc;

use chrono::{Duration, NaiveDate, NaiveDateTime, NaiveTime};
use datafusion::arrow::array::{Array, AsArray, TimestampMicrosecondArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Decimal128Type, Int32Type, TimeUnit};
use datafusion::common::{DataFusionError, Result, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};

use super::zone::Zone;

const SECONDS: DataType = DataType::Decimal128(16, 6);

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MakeTimestamp {
    signature: Signature,
    tz: Option<Arc<str>>,
    name: &'static str,
    fail_on_error: bool,
    /// TIMESTAMP_NTZ: the wall-clock time, no zone.
    ntz: bool,
}

impl MakeTimestamp {
    fn new(tz: Option<Arc<str>>, fail_on_error: bool) -> Self {
        Self {
            signature: Signature::user_defined(Volatility::Immutable),
            tz,
            name: "make_timestamp",
            fail_on_error,
            ntz: false,
        }
    }

    /// Every form by its name: `[try_]make_timestamp[_ltz|_ntz]`.
    pub fn all(tz: Option<Arc<str>>, ansi: bool) -> Vec<Self> {
        let of = |name, fail_on_error, ntz| Self { name, fail_on_error, ntz, ..Self::new(tz.clone(), false) };
        vec![
            of("make_timestamp", ansi, false),
            of("try_make_timestamp", false, false),
            of("make_timestamp_ltz", ansi, false),
            of("try_make_timestamp_ltz", false, false),
            of("make_timestamp_ntz", ansi, true),
            of("try_make_timestamp_ntz", false, true),
        ]
    }
}

/// The wall-clock date-time of the fields, or why there is none.
fn local_time(fields: [i32; 5], micros: i128) -> std::result::Result<NaiveDateTime, String> {
    let [year, month, day, hour, minute] = fields;
    let date = NaiveDate::from_ymd_opt(year, month as u32, day as u32)
        .ok_or_else(|| format!("Invalid date: year {year}, month {month}, day {day}"))?;
    let (seconds, fraction) = (micros.div_euclid(1_000_000), micros.rem_euclid(1_000_000));
    // 60 seconds is the next minute, without a fraction.
    let (seconds, carry) = match seconds {
        60 if fraction == 0 => (0, Duration::minutes(1)),
        0..=59 => (seconds, Duration::zero()),
        _ => return Err(format!("Invalid value for SecondOfMinute (valid values 0 - 59): {}", micros as f64 / 1e6)),
    };
    let time = NaiveTime::from_hms_micro_opt(hour as u32, minute as u32, seconds as u32, fraction as u32)
        .ok_or_else(|| format!("Invalid time: hour {hour}, minute {minute}"))?;
    date.and_time(time).checked_add_signed(carry).ok_or_else(|| format!("Invalid date: year {year} is out of range"))
}

impl ScalarUDFImpl for MakeTimestamp {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        // A TIMESTAMP_NTZ has no time zone argument.
        let (most, shown) = if self.ntz { (6, "6") } else { (7, "[6, 7]") };
        if !(6..=most).contains(&types.len()) {
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{}` requires {shown} parameters but the actual number is {}.",
                self.name,
                types.len()
            );
        }
        let mut out = vec![DataType::Int32; 5];
        out.push(SECONDS);
        if types.len() == 7 {
            out.push(DataType::Utf8);
        }
        Ok(out)
    }

    fn return_type(&self, _types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Timestamp(TimeUnit::Microsecond, if self.ntz { None } else { self.tz.clone() }))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let arrays = args.args.iter().map(|a| a.to_array(rows)).collect::<Result<Vec<_>>>()?;
        let ints: Vec<_> =
            arrays[..5].iter().map(|a| cast(a, &DataType::Int32)).collect::<std::result::Result<_, _>>()?;
        let ints: Vec<_> = ints.iter().map(|a| a.as_primitive::<Int32Type>()).collect();
        let seconds = cast(&arrays[5], &SECONDS)?;
        let seconds = seconds.as_primitive::<Decimal128Type>();
        let zones = arrays.get(6).map(|z| cast(z, &DataType::Utf8)).transpose()?;
        let session = self.tz.as_deref().and_then(Zone::parse).unwrap_or_else(Zone::utc);
        let mut out = Vec::with_capacity(rows);
        for row in 0..rows {
            if ints.iter().any(|a| a.is_null(row)) || seconds.is_null(row) {
                out.push(None);
                continue;
            }
            let zone = match &zones {
                Some(z) if z.is_null(row) => {
                    out.push(None);
                    continue;
                }
                Some(z) => match Zone::parse(z.as_string::<i32>().value(row)) {
                    Some(zone) => zone,
                    None => {
                        let id = z.as_string::<i32>().value(row);
                        return Err(DataFusionError::Execution(format!(
                            "[INVALID_TIMEZONE] The timezone: {id} is invalid. The timezone must be either a region-based zone ID or a zone offset."
                        )));
                    }
                },
                None => session.clone(),
            };
            let fields = [0, 1, 2, 3, 4].map(|i| ints[i].value(row));
            match local_time(fields, seconds.value(row)) {
                Ok(local) if self.ntz => out.push(Some(local.and_utc().timestamp_micros())),
                Ok(local) => {
                    let utc = zone.local_to_utc(&local).ok_or_else(super::overflow)?;
                    out.push(Some(utc.and_utc().timestamp_micros()));
                }
                Err(why) if self.fail_on_error => {
                    return Err(DataFusionError::Execution(format!(
                        "[DATETIME_FIELD_OUT_OF_BOUNDS.WITH_SUGGESTION] {why}. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error."
                    )));
                }
                Err(_) => out.push(None),
            }
        }
        let out = TimestampMicrosecondArray::from(out).with_timezone_opt(if self.ntz { None } else { self.tz.clone() });
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

#[cfg(test)]
mod tests {
    use super::local_time;

    #[test]
    fn fields_out_of_range_are_errors_not_panics() {
        assert!(local_time([2020, 13, 1, 0, 0], 0).is_err());
        assert!(local_time([2020, 1, 1, -1, 0], 0).is_err());
        assert!(local_time([2020, 1, 1, 0, 0], -1).is_err());
        assert!(local_time([2020, 1, 1, 0, 0], 60_500_000).is_err());
        assert!(local_time([262_143, 12, 31, 23, 59], 60_000_000).is_err());
        let next = local_time([2019, 12, 31, 23, 59], 60_000_000).unwrap();
        assert_eq!(next.to_string(), "2020-01-01 00:00:00");
    }
}
