//! `timestamp_seconds(x)`, `timestamp_millis(x)`, `timestamp_micros(x)`:
//! the TIMESTAMP `x` units after the epoch. Integers multiply exactly (Java's
//! `long overflow` past the range); `timestamp_seconds` also takes
//! fractions: doubles truncate to the microsecond (NaN and infinities are
//! NULL), decimals are exact.
//!
//! `convert_timezone([sourceTz,] targetTz, sourceTs)`: the wall-clock time
//! in `targetTz` of the instant that `sourceTs` (a TIMESTAMP_NTZ) is in
//! `sourceTz` (else the session's zone); a TIMESTAMP_NTZ.

use std::sync::Arc;

use chrono::{DateTime, Duration};
use datafusion::arrow::array::{Array, ArrayRef, AsArray, TimestampMicrosecondArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{
    DataType, Decimal128Type, Float64Type, Int64Type, TimeUnit, TimestampMicrosecondType,
};
use datafusion::common::{DataFusionError, Result, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};
use ember_common::{ExceptionClass, SparkError};

use super::zone::Zone;

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct EpochTimestamp {
    /// Microseconds per unit of the argument.
    unit: i64,
    tz: Option<Arc<str>>,
    signature: Signature,
}

impl EpochTimestamp {
    pub const SECONDS: i64 = 1_000_000;
    pub const MILLIS: i64 = 1_000;
    pub const MICROS: i64 = 1;

    pub fn new(unit: i64, tz: Option<Arc<str>>) -> Self {
        Self { unit, tz, signature: Signature::user_defined(Volatility::Immutable) }
    }
}

fn long_overflow() -> DataFusionError {
    DataFusionError::External(Box::new(SparkError::new(ExceptionClass::Arithmetic, "long overflow")))
}

impl ScalarUDFImpl for EpochTimestamp {
    fn name(&self) -> &str {
        match self.unit {
            Self::SECONDS => "timestamp_seconds",
            Self::MILLIS => "timestamp_millis",
            _ => "timestamp_micros",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        let [t] = types else {
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{}` requires 1 parameters but the actual number is {}.",
                self.name(),
                types.len()
            );
        };
        let fractions = self.unit == Self::SECONDS;
        Ok(vec![match t {
            t if t.is_integer() || t.is_null() => DataType::Int64,
            DataType::Float16 | DataType::Float32 | DataType::Float64 if fractions => DataType::Float64,
            DataType::Decimal128(..) if fractions => t.clone(),
            other => {
                let expected = if fractions { "NUMERIC" } else { "INTEGRAL" };
                return plan_err!(
                    "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{}\" due to data type mismatch: the parameter requires the \"{expected}\" type, however it has the type \"{}\".",
                    self.name(),
                    crate::types::simple_string(other)
                );
            }
        }])
    }

    fn return_type(&self, _types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Timestamp(TimeUnit::Microsecond, self.tz.clone()))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let x = args.args[0].to_array(args.number_rows)?;
        let micros: TimestampMicrosecondArray = match x.data_type() {
            DataType::Float64 => x
                .as_primitive::<Float64Type>()
                .iter()
                // Java's double-to-long conversion saturates.
                .map(|v| v.filter(|v| v.is_finite()).map(|v| (v * 1e6) as i64))
                .collect(),
            DataType::Decimal128(_, scale) => {
                let scale = u32::try_from(*scale).unwrap_or(0);
                let divisor = 10i128.checked_pow(scale).unwrap_or(1);
                x.as_primitive::<Decimal128Type>()
                    .iter()
                    .map(|v| {
                        v.map(|v| v.checked_mul(1_000_000).map(|m| m / divisor).and_then(|m| i64::try_from(m).ok()))
                            .map(|m| m.ok_or_else(long_overflow))
                            .transpose()
                    })
                    .collect::<Result<_>>()?
            }
            _ => x
                .as_primitive::<Int64Type>()
                .iter()
                .map(|v| v.map(|v| v.checked_mul(self.unit).ok_or_else(long_overflow)).transpose())
                .collect::<Result<_>>()?,
        };
        Ok(ColumnarValue::Array(Arc::new(micros.with_timezone_opt(self.tz.clone()))))
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ConvertTimezone {
    /// The session's zone: the source zone of the two-argument form.
    tz: Option<Arc<str>>,
    signature: Signature,
}

impl ConvertTimezone {
    pub fn new(tz: Option<Arc<str>>) -> Self {
        Self { tz, signature: Signature::user_defined(Volatility::Immutable) }
    }
}

fn zone_of(zones: &ArrayRef, row: usize) -> Result<Option<Zone>> {
    let zones = zones.as_string::<i32>();
    if zones.is_null(row) {
        return Ok(None);
    }
    let id = zones.value(row);
    Zone::parse(id).map(Some).ok_or_else(|| {
        DataFusionError::Execution(format!(
            "[INVALID_TIMEZONE] The timezone: {id} is invalid. The timezone must be either a region-based zone ID or a zone offset."
        ))
    })
}

impl ScalarUDFImpl for ConvertTimezone {
    fn name(&self) -> &str {
        "convert_timezone"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        if !(2..=3).contains(&types.len()) {
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `convert_timezone` requires [2, 3] parameters but the actual number is {}.",
                types.len()
            );
        }
        let mut out = vec![DataType::Utf8; types.len() - 1];
        // A TIMESTAMP keeps its zone: its wall clock in the session zone is
        // the TIMESTAMP_NTZ Spark casts it to.
        out.push(match &types[types.len() - 1] {
            DataType::Timestamp(_, tz) => DataType::Timestamp(TimeUnit::Microsecond, tz.clone()),
            _ => DataType::Timestamp(TimeUnit::Microsecond, None),
        });
        Ok(out)
    }

    fn return_type(&self, _types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Timestamp(TimeUnit::Microsecond, None))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let arrays = args.args.iter().map(|a| a.to_array(rows)).collect::<Result<Vec<_>>>()?;
        let (zones, ts) = arrays.split_at(arrays.len() - 1);
        let zones = zones.iter().map(|z| cast(z, &DataType::Utf8)).collect::<std::result::Result<Vec<_>, _>>()?;
        let ts = &ts[0];
        // A TIMESTAMP's wall clock in its zone.
        let wall_zone = match ts.data_type() {
            DataType::Timestamp(_, Some(tz)) => Some(Zone::parse(tz).unwrap_or_else(Zone::utc)),
            _ => None,
        };
        let session = self.tz.as_deref().and_then(Zone::parse).unwrap_or_else(Zone::utc);
        let ts = ts.as_primitive::<TimestampMicrosecondType>();
        let mut out = Vec::with_capacity(rows);
        for row in 0..rows {
            if ts.is_null(row) {
                out.push(None);
                continue;
            }
            let (source, target) = match zones.as_slice() {
                [source, target] => (zone_of(source, row)?, zone_of(target, row)?),
                [target] => (Some(session.clone()), zone_of(target, row)?),
                _ => (None, None),
            };
            let (Some(source), Some(target)) = (source, target) else {
                out.push(None);
                continue;
            };
            let Some(instant) = DateTime::from_timestamp_micros(ts.value(row)).map(|t| t.naive_utc()) else {
                return Err(super::overflow());
            };
            let local = match &wall_zone {
                Some(zone) => instant + Duration::seconds(i64::from(zone.offset_at(&instant))),
                None => instant,
            };
            let utc = source.local_to_utc(&local).ok_or_else(super::overflow)?;
            let converted = utc + Duration::seconds(i64::from(target.offset_at(&utc)));
            out.push(Some(converted.and_utc().timestamp_micros()));
        }
        Ok(ColumnarValue::Array(Arc::new(TimestampMicrosecondArray::from(out))))
    }
}
