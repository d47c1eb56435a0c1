//! `regexp_extract(str, regex[, idx])`: group `idx` (default 1; 0 is the
//! whole match) of the first match, or the empty string when nothing
//! matches or the group took no part, as in Spark. `regexp_extract_all`:
//! the group of every match, as an array.

use std::sync::Arc;

use datafusion::arrow::array::{AsArray, ListBuilder, StringArray, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DataFusionError, Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RegexpExtract {
    /// `regexp_extract_all`.
    all: bool,
    signature: Signature,
}

impl RegexpExtract {
    pub fn new() -> Self {
        Self { all: false, signature: Signature::user_defined(Volatility::Immutable) }
    }

    pub fn all() -> Self {
        Self { all: true, signature: Signature::user_defined(Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for RegexpExtract {
    fn name(&self) -> &str {
        if self.all { "regexp_extract_all" } else { "regexp_extract" }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        match arg_types.len() {
            2 => Ok(vec![DataType::Utf8, DataType::Utf8]),
            3 if arg_types[2].is_integer() || arg_types[2] == DataType::Null => {
                Ok(vec![DataType::Utf8, DataType::Utf8, DataType::Int32])
            }
            _ => plan_err!("{} takes a string, a regex and an optional group index", self.name()),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(if self.all { DataType::new_list(DataType::Utf8, true) } else { DataType::Utf8 })
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let pattern = match &args.args[1] {
            ColumnarValue::Scalar(ScalarValue::Utf8(Some(p))) => p.clone(),
            ColumnarValue::Scalar(_) => return Ok(ColumnarValue::Scalar(self.null()?)),
            ColumnarValue::Array(_) => return exec_err!("{} expects a literal regex", self.name()),
        };
        let group = match args.args.get(2) {
            None => 1,
            Some(ColumnarValue::Scalar(ScalarValue::Int32(Some(g)))) => *g,
            Some(ColumnarValue::Scalar(_)) => return Ok(ColumnarValue::Scalar(self.null()?)),
            Some(ColumnarValue::Array(_)) => return exec_err!("{} expects a literal group index", self.name()),
        };
        let re = regex::Regex::new(&pattern).map_err(|e| {
            DataFusionError::Execution(format!(
                "[INVALID_PARAMETER_VALUE.PATTERN] The value of parameter(s) `regexp` in `{}` is invalid: '{pattern}': {e}. SQLSTATE: 22023",
                self.name()
            ))
        })?;
        let groups = re.captures_len() as i32 - 1;
        if group < 0 || group > groups {
            return exec_err!(
                "[INVALID_PARAMETER_VALUE.REGEX_GROUP_INDEX] The value of parameter(s) `idx` in `{}` is invalid: Expects group index between 0 and {groups}, but got {group}. SQLSTATE: 22023",
                self.name()
            );
        }
        let strings = cast(&args.args[0].to_array(args.number_rows)?, &DataType::Utf8)?;
        let strings = strings.as_string::<i32>();
        if self.all {
            let mut b = ListBuilder::new(StringBuilder::new());
            for s in strings.iter() {
                match s {
                    Some(s) => {
                        for c in re.captures_iter(s) {
                            b.values().append_value(c.get(group as usize).map(|m| m.as_str()).unwrap_or(""));
                        }
                        b.append(true);
                    }
                    None => b.append(false),
                }
            }
            return Ok(ColumnarValue::Array(Arc::new(b.finish())));
        }
        let out: StringArray = strings
            .iter()
            .map(|s| {
                s.map(|s| {
                    re.captures(s).and_then(|c| c.get(group as usize)).map(|m| m.as_str()).unwrap_or("").to_string()
                })
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

impl RegexpExtract {
    fn null(&self) -> Result<ScalarValue> {
        ScalarValue::try_from(self.return_type(&[])?)
    }
}
