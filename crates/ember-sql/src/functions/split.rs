//! Spark's `split(str, regex[, limit])`: splits on a Java-style regex into
//! an array; a positive `limit` caps the number of parts (the last keeps
//! the rest of the string), zero or less splits everywhere.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, ListBuilder, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, Int32Type};
use datafusion::common::{Result, exec_err};
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
        let column = |i: usize, t: &DataType| -> Result<Option<ArrayRef>> {
            args.args.get(i).map(|a| Ok(cast(&a.to_array(n)?, t)?)).transpose()
        };
        let (Some(strings), Some(patterns)) = (column(0, &DataType::Utf8)?, column(1, &DataType::Utf8)?) else {
            return exec_err!("split takes a string, a regex and an optional limit");
        };
        let limits = column(2, &DataType::Int32)?;
        let (strings, patterns) = (strings.as_string::<i32>(), patterns.as_string::<i32>());
        let limits = limits.as_ref().map(|l| l.as_primitive::<Int32Type>());
        let mut b =
            ListBuilder::new(StringBuilder::new()).with_field(Arc::new(Field::new("element", DataType::Utf8, true)));
        // Patterns are mostly one literal: compile each distinct run once.
        let mut compiled: Option<(String, regex::Regex)> = None;
        for i in 0..n {
            if strings.is_null(i) || patterns.is_null(i) || limits.is_some_and(|l| l.is_null(i)) {
                b.append(false);
                continue;
            }
            let pattern = patterns.value(i);
            let re = match &compiled {
                Some((p, re)) if p == pattern => re,
                _ => {
                    let re = regex::Regex::new(pattern).map_err(|e| {
                        datafusion::common::DataFusionError::Execution(format!("invalid regex {pattern}: {e}"))
                    })?;
                    &compiled.insert((pattern.to_string(), re)).1
                }
            };
            let limit = limits.map_or(-1, |l| l.value(i));
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
