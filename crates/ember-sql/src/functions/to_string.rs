//! Casts to string where Spark's text differs from Arrow's: doubles as
//! Java prints them (`1.0E20`, Arrow `1e20`) and timestamps as
//! `2024-01-01 12:00:00[.fraction]` in the session time zone (Arrow
//! `2024-01-01T12:00:00`).

use std::sync::Arc;

use datafusion::arrow::array::{ArrayRef, AsArray, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Float64Type, TimeUnit, TimestampMicrosecondType};
use datafusion::common::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};

/// `CAST(double AS STRING)`: Java's `Double.toString` (`1.0`, `1.0E20`,
/// `NaN`, `Infinity`), as Spark prints doubles; floats likewise.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FloatToString {
    signature: Signature,
}

impl FloatToString {
    pub fn new() -> Self {
        Self { signature: Signature::uniform(1, vec![DataType::Float32, DataType::Float64], Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for FloatToString {
    fn name(&self) -> &str {
        "ember_float_to_string"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let values = args.args[0].to_array(args.number_rows)?;
        Ok(ColumnarValue::Array(float_text(&values)))
    }
}

/// Floats as Java prints them.
fn float_text(values: &ArrayRef) -> ArrayRef {
    let out: StringArray = match values.data_type() {
        DataType::Float32 => values
            .as_primitive::<datafusion::arrow::datatypes::Float32Type>()
            .iter()
            .map(|v| v.map(crate::display::java_float32))
            .collect(),
        _ => values.as_primitive::<Float64Type>().iter().map(|v| v.map(crate::display::java_float)).collect(),
    };
    Arc::new(out)
}

/// `CAST(timestamp AS STRING)`: `yyyy-MM-dd HH:mm:ss`, then the fraction
/// of a second without trailing zeros, in the timestamp's zone.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct TimestampToString {
    signature: Signature,
}

impl TimestampToString {
    pub fn new() -> Self {
        Self { signature: Signature::any(1, Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for TimestampToString {
    fn name(&self) -> &str {
        "ember_timestamp_to_string"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let values = args.args[0].to_array(args.number_rows)?;
        if !matches!(values.data_type(), DataType::Timestamp(..)) {
            return datafusion::common::exec_err!(
                "ember_timestamp_to_string takes a timestamp, not {}",
                values.data_type()
            );
        }
        Ok(ColumnarValue::Array(spark_text(&values)?.unwrap_or(values)))
    }
}

/// Whether Spark's text of a value of this type differs from Arrow's cast
/// to string: floats, timestamps and ANSI intervals.
pub fn differs_from_arrow(t: &DataType) -> bool {
    matches!(
        t,
        DataType::Float32
            | DataType::Float64
            | DataType::Timestamp(..)
            | DataType::Duration(_)
            | DataType::Interval(datafusion::arrow::datatypes::IntervalUnit::YearMonth)
    )
}

/// Floats, timestamps and ANSI intervals (of their widest fields) as Spark
/// casts them to string; `None` for other
/// types, whose Arrow cast is Spark's.
pub fn spark_text(values: &ArrayRef) -> Result<Option<ArrayRef>> {
    Ok(Some(match values.data_type() {
        DataType::Float32 | DataType::Float64 => float_text(values),
        DataType::Timestamp(_, tz) => {
            let micros = cast(values, &DataType::Timestamp(TimeUnit::Microsecond, tz.clone()))?;
            let out: StringArray = micros
                .as_primitive::<TimestampMicrosecondType>()
                .iter()
                .map(|v| v.map(|us| crate::display::timestamp_us(us, tz.as_deref())))
                .collect();
            Arc::new(out)
        }
        t => match crate::interval::Interval::of(t, &Default::default()) {
            Some(i) => crate::functions::intervals::text(values, i),
            None => return Ok(None),
        },
    }))
}
