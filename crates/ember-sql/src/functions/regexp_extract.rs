//! `regexp_extract(str, regex[, idx])`: group `idx` (default 1; 0 is the
//! whole match) of the first match, or the empty string when nothing
//! matches or the group took no part, as in Spark. `regexp_extract_all`:
//! the group of every match, as an array.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, Int32Array, ListBuilder, StringBuilder};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::datatypes::Int32Type;
use datafusion::common::{DataFusionError, Result, exec_err, plan_err};
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
        let n = args.number_rows;
        let strings = cast(&args.args[0].to_array(n)?, &DataType::Utf8)?;
        let patterns = cast(&args.args[1].to_array(n)?, &DataType::Utf8)?;
        let groups = match args.args.get(2) {
            Some(g) => cast(&g.to_array(n)?, &DataType::Int32)?,
            None => Arc::new(Int32Array::from(vec![1; n])),
        };
        let (strings, patterns) = (strings.as_string::<i32>(), patterns.as_string::<i32>());
        let groups = groups.as_primitive::<Int32Type>();
        // The pattern is usually the same on every row: compiled once.
        let mut compiled: Option<(String, regex::Regex)> = None;
        let mut list = ListBuilder::new(StringBuilder::new());
        let mut one = StringBuilder::new();
        for row in 0..n {
            if strings.is_null(row) || patterns.is_null(row) || groups.is_null(row) {
                if self.all {
                    list.append(false)
                } else {
                    one.append_null()
                }
                continue;
            }
            let pattern = patterns.value(row);
            if compiled.as_ref().is_none_or(|(p, _)| p != pattern) {
                let re = regex::Regex::new(pattern).map_err(|e| {
                    DataFusionError::Execution(format!(
                        "[INVALID_PARAMETER_VALUE.PATTERN] The value of parameter(s) `regexp` in `{}` is invalid: '{pattern}': {e}. SQLSTATE: 22023",
                        self.name()
                    ))
                })?;
                compiled = Some((pattern.to_string(), re));
            }
            let Some((_, re)) = &compiled else { continue };
            let (group, count) = (groups.value(row), re.captures_len() as i32 - 1);
            if group < 0 || group > count {
                return exec_err!(
                    "[INVALID_PARAMETER_VALUE.REGEX_GROUP_INDEX] The value of parameter(s) `idx` in `{}` is invalid: Expects group index between 0 and {count}, but got {group}. SQLSTATE: 22023",
                    self.name()
                );
            }
            let s = strings.value(row);
            if self.all {
                for c in re.captures_iter(s) {
                    list.values().append_value(c.get(group as usize).map(|m| m.as_str()).unwrap_or(""));
                }
                list.append(true);
            } else {
                one.append_value(re.captures(s).and_then(|c| c.get(group as usize)).map(|m| m.as_str()).unwrap_or(""));
            }
        }
        let out: ArrayRef = if self.all { Arc::new(list.finish()) } else { Arc::new(one.finish()) };
        Ok(ColumnarValue::Array(out))
    }
}
