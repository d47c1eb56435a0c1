//! `ember_failfast(bad, record)`: true for good rows; raises Spark's
//! `MALFORMED_RECORD_IN_PARSING` naming the first bad record (CSV FAILFAST).

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, exec_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct FailFast {
    signature: Signature,
}

impl FailFast {
    pub fn new() -> Self {
        Self { signature: Signature::any(2, Volatility::Volatile) }
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
        let [bad, record] = args.args.as_slice() else {
            return exec_err!("ember_failfast needs two arguments");
        };
        let bad = bad.to_array(n)?;
        let bad = bad.as_boolean();
        let record = datafusion::arrow::compute::cast(&record.to_array(n)?, &DataType::Utf8)?;
        let record = record.as_string::<i32>();
        for i in 0..n {
            if bad.is_valid(i) && bad.value(i) {
                return exec_err!(
                    "[MALFORMED_RECORD_IN_PARSING.WITHOUT_SUGGESTION] Malformed records are detected in record parsing: [{}]. Parse Mode: FAILFAST. To process malformed records as null result, try setting the option 'mode' as 'PERMISSIVE'. SQLSTATE: 22023",
                    record.value(i)
                );
            }
        }
        Ok(ColumnarValue::Array(std::sync::Arc::new(datafusion::arrow::array::BooleanArray::from(vec![true; n]))))
    }
}
