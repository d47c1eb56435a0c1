//! Spark's `split(str, regex[, limit])`: splits on a Java-style regex into
//! an array; a positive `limit` caps the number of parts (the last keeps
//! the rest of the string), zero or less splits everywhere.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, ListBuilder, StringBuilder};
use datafusion::arrow::datatypes::{DataType, Field};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SplitRegex {
    signature: Signature,
}

impl SplitRegex {
    pub fn new() -> Self {
        Self { signature: Signature::user_defined(Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for SplitRegex {
    fn name(&self) -> &str {
        "split"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types {
            [_, _] => Ok(vec![DataType::Utf8, DataType::Utf8]),
            [_, _, l] if l.is_integer() || l.is_null() => Ok(vec![DataType::Utf8, DataType::Utf8, DataType::Int32]),
            _ => datafusion::common::plan_err!("split takes a string, a regex and an optional integer limit"),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::List(Arc::new(Field::new("element", DataType::Utf8, true))))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let (s, p, limit) = match args.args.as_slice() {
            [s, p] => (s, p, -1),
            [s, p, ColumnarValue::Scalar(ScalarValue::Int32(Some(l)))] => (s, p, *l),
            [_, _, ColumnarValue::Scalar(_)] => {
                return Ok(ColumnarValue::Scalar(ScalarValue::try_from(&self.return_type(&[])?)?));
            }
            _ => return exec_err!("split takes a string, a regex and an optional literal limit"),
        };
        let pattern = match p {
            ColumnarValue::Scalar(
                ScalarValue::Utf8(Some(p)) | ScalarValue::LargeUtf8(Some(p)) | ScalarValue::Utf8View(Some(p)),
            ) => p.clone(),
            ColumnarValue::Scalar(_) => {
                return Ok(ColumnarValue::Scalar(ScalarValue::try_from(&self.return_type(&[])?)?));
            }
            ColumnarValue::Array(_) => return exec_err!("split expects a literal pattern"),
        };
        let re = regex::Regex::new(&pattern)
            .map_err(|e| datafusion::common::DataFusionError::Execution(format!("invalid regex {pattern}: {e}")))?;
        let arr = s.to_array(n)?;
        let arr = datafusion::arrow::compute::cast(&arr, &DataType::Utf8)?;
        let strings = arr.as_string::<i32>();
        let mut b =
            ListBuilder::new(StringBuilder::new()).with_field(Arc::new(Field::new("element", DataType::Utf8, true)));
        for i in 0..strings.len() {
            if strings.is_null(i) {
                b.append(false);
                continue;
            }
            let v = strings.value(i);
            let mut parts: Vec<&str> =
                if limit > 0 { re.splitn(v, limit as usize).collect() } else { re.split(v).collect() };
            // Java's String.split drops trailing empty strings; Spark's split (limit -1) keeps them.
            if pattern.is_empty() && parts.first() == Some(&"") {
                parts.remove(0);
                if parts.last() == Some(&"") {
                    parts.pop();
                }
            }
            for p in parts {
                b.values().append_value(p);
            }
            b.append(true);
        }
        let out: ArrayRef = Arc::new(b.finish());
        Ok(ColumnarValue::Array(out))
    }
}
