//! `mask(str[, upperChar, lowerChar, digitChar, otherChar])`: upper-case
//! letters become `X`, lower-case `x`, digits `n` (or the characters
//! given); other characters stay unless `otherChar` is given. A NULL
//! replacement leaves its class of characters as they are.

use std::sync::Arc;

use datafusion::arrow::array::{AsArray, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Mask {
    signature: Signature,
}

impl Mask {
    pub fn new() -> Self {
        Self { signature: Signature::user_defined(Volatility::Immutable) }
    }
}

/// The replacement for one class: `Some(c)`, or `None` to keep it.
fn replacement(arg: Option<&ColumnarValue>, default: Option<char>) -> Result<Option<char>> {
    let Some(arg) = arg else { return Ok(default) };
    let ColumnarValue::Scalar(s) = arg else {
        return exec_err!("[DATATYPE_MISMATCH.NON_FOLDABLE_INPUT] mask's replacement characters must be constants");
    };
    match s.cast_to(&DataType::Utf8)? {
        ScalarValue::Utf8(None) => Ok(None),
        ScalarValue::Utf8(Some(text)) => {
            let mut chars = text.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None) => Ok(Some(c)),
                _ => exec_err!(
                    "[DATATYPE_MISMATCH.INPUT_SIZE_NOT_ONE] Cannot resolve \"mask\": a replacement must be one character, not '{text}'."
                ),
            }
        }
        other => exec_err!("mask takes string replacements, not {other}"),
    }
}

impl ScalarUDFImpl for Mask {
    fn name(&self) -> &str {
        "mask"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        if types.is_empty() || types.len() > 5 {
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `mask` requires [1, 5] parameters but the actual number is {}.",
                types.len()
            );
        }
        Ok(vec![DataType::Utf8; types.len()])
    }

    fn return_type(&self, _types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let upper = replacement(args.args.get(1), Some('X'))?;
        let lower = replacement(args.args.get(2), Some('x'))?;
        let digit = replacement(args.args.get(3), Some('n'))?;
        let other = replacement(args.args.get(4), None)?;
        let values = cast(&args.args[0].to_array(args.number_rows)?, &DataType::Utf8)?;
        let out: StringArray = values
            .as_string::<i32>()
            .iter()
            .map(|v| {
                v.map(|v| {
                    v.chars()
                        .map(|c| {
                            let by = if c.is_uppercase() {
                                upper
                            } else if c.is_lowercase() {
                                lower
                            } else if c.is_ascii_digit() {
                                digit
                            } else {
                                other
                            };
                            by.unwrap_or(c)
                        })
                        .collect::<String>()
                })
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}
