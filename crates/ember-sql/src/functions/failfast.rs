//! `ember_failfast(bad, record, path)`: true for good rows; for the first
//! bad one raises Spark's `FAILED_READ_FILE.NO_HINT` naming the file,
//! caused by `MALFORMED_RECORD_IN_PARSING` naming the record as parsed
//! (`[null,y]`) — CSV FAILFAST.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};
use ember_common::{ExceptionClass, SparkError};

/// Spark's MALFORMED_RECORD_IN_PARSING for a FAILFAST read's bad record.
pub fn malformed_record(record: &str) -> SparkError {
    SparkError::with_class(
        ExceptionClass::Spark,
        "MALFORMED_RECORD_IN_PARSING.WITHOUT_SUGGESTION",
        "22023",
        format!(
            "Malformed records are detected in record parsing: {record}.\nParse Mode: FAILFAST. To process malformed records as null result, try setting the option 'mode' as 'PERMISSIVE'. "
        ),
    )
    .param("badRecord", record)
    .param("failFastMode", "FAILFAST")
}

/// A scan's error reading `file` (FAILED_READ_FILE.NO_HINT), caused by `cause`.
fn failed_read_file(file: &str, cause: SparkError) -> SparkError {
    SparkError::with_class(
        ExceptionClass::Spark,
        "FAILED_READ_FILE.NO_HINT",
        "KD001",
        format!("Encountered error while reading file {file}. "),
    )
    .param("path", file)
    .caused_by(cause)
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FailFast {
    signature: Signature,
}

impl FailFast {
    pub fn new() -> Self {
        Self { signature: Signature::any(3, Volatility::Volatile) }
    }
}

impl ScalarUDFImpl for FailFast {
    fn name(&self) -> &str {
        "ember_failfast"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Boolean)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let [bad, record, path] = args.args.as_slice() else {
            return exec_err!("ember_failfast needs three arguments");
        };
        let bad = bad.to_array(n)?;
        let bad = bad.as_boolean();
        let text = |v: &ColumnarValue| -> Result<datafusion::arrow::array::ArrayRef> {
            Ok(datafusion::arrow::compute::cast(&v.to_array(n)?, &DataType::Utf8)?)
        };
        let (record, path) = (text(record)?, text(path)?);
        let (record, path) = (record.as_string::<i32>(), path.as_string::<i32>());
        for i in 0..n {
            if bad.is_valid(i) && bad.value(i) {
                let e = failed_read_file(path.value(i), malformed_record(record.value(i)));
                return Err(datafusion::common::DataFusionError::External(Box::new(e)));
            }
        }
        Ok(ColumnarValue::Array(std::sync::Arc::new(datafusion::arrow::array::BooleanArray::from(vec![true; n]))))
    }
}
