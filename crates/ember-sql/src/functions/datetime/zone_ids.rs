//! `from_utc_timestamp(ts, zone)` and `to_utc_timestamp(ts, zone)` with the
//! zone ids Spark takes (`java.time.ZoneId` with `SHORT_IDS`: `PST`, `JST`,
//! `GMT+8`, `+8:00`), which datafusion-spark's functions do not: the zone
//! argument becomes the id Arrow takes before datafusion-spark's function
//! runs.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, StringArray};
use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{
    ColumnarValue, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
};

use super::zone::Zone;

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct JavaZoneIds {
    inner: Arc<ScalarUDF>,
    /// The argument that is a zone id.
    zone_arg: usize,
}

impl JavaZoneIds {
    pub fn new(inner: Arc<ScalarUDF>, zone_arg: usize) -> Self {
        Self { inner, zone_arg }
    }
}

fn arrow_id(id: &str) -> Result<String> {
    match Zone::parse(id) {
        Some(z) => Ok(z.arrow_id()),
        None => exec_err!(
            "[INVALID_TIMEZONE] The timezone: {id} is invalid. The timezone must be either a region-based zone ID or a zone offset. Region IDs must have the form 'area/city', such as 'America/Los_Angeles'. Zone offsets must be in the format '(+|-)HH', '(+|-)HH:mm’ or '(+|-)HH:mm:ss', e.g '-08', '+01:00' or '-13:33:33', and must be in the range from -18:00 to +18:00. 'Z' and 'UTC' are accepted as synonyms for '+00:00'. SQLSTATE: 22009"
        ),
    }
}

impl ScalarUDFImpl for JavaZoneIds {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn signature(&self) -> &Signature {
        self.inner.signature()
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.coerce_types(arg_types)
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(arg_types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.inner.return_field_from_args(args)
    }

    fn invoke_with_args(&self, mut args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        if let Some(zone) = args.args.get_mut(self.zone_arg) {
            let mapped = match &*zone {
                ColumnarValue::Scalar(
                    ScalarValue::Utf8(Some(id)) | ScalarValue::LargeUtf8(Some(id)) | ScalarValue::Utf8View(Some(id)),
                ) => ColumnarValue::Scalar(ScalarValue::Utf8(Some(arrow_id(id)?))),
                ColumnarValue::Array(a) if matches!(a.data_type(), DataType::Utf8) => {
                    let ids: StringArray =
                        a.as_string::<i32>().iter().map(|id| id.map(arrow_id).transpose()).collect::<Result<_>>()?;
                    ColumnarValue::Array(Arc::new(ids))
                }
                other => other.clone(),
            };
            *zone = mapped;
        }
        self.inner.invoke_with_args(args)
    }
}
