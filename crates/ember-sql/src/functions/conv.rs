//! `conv(num, fromBase, toBase)`, as Spark's `NumberConverter`: the
//! longest prefix of `num` that is a number in `fromBase` (2 to 36; 0
//! without one), as unsigned 64 bits (a `-` sign negates it in two's
//! complement; too large a number is ARITHMETIC_OVERFLOW under ANSI, all
//! ones without), written in `toBase` in upper case; a negative `toBase`
//! writes it signed. NULL for a base out of range or an empty `num`.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, Int32Array, StringArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Int32Type};
use datafusion::common::Result;
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Conv {
    signature: Signature,
}

impl Conv {
    pub fn new() -> Self {
        Self { signature: Signature::user_defined(Volatility::Immutable) }
    }
}

/// The conversion; `Err` when the number overflows 64 bits under ANSI.
fn convert(num: &str, from: i32, to: i32, ansi: bool) -> std::result::Result<Option<String>, ()> {
    if !(2..=36).contains(&from) || !(2..=36).contains(&to.abs()) {
        return Ok(None);
    }
    let num = num.trim();
    if num.is_empty() {
        return Ok(None);
    }
    let (negative, digits) = match num.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, num),
    };
    let mut value: u64 = 0;
    for c in digits.chars() {
        let Some(d) = c.to_digit(36).filter(|d| *d < from as u32) else { break };
        value = match value.checked_mul(from as u64).and_then(|v| v.checked_add(u64::from(d))) {
            Some(v) => v,
            None if ansi => return Err(()),
            None => u64::MAX,
        };
    }
    if negative {
        value = value.wrapping_neg();
    }
    let (negative_out, mut magnitude) =
        if to < 0 && (value as i64) < 0 { (true, (value as i64).unsigned_abs()) } else { (false, value) };
    let base = u64::from(to.unsigned_abs());
    let mut out = vec![];
    loop {
        let d = (magnitude % base) as u32;
        out.push(std::char::from_digit(d, base as u32).unwrap_or('0').to_ascii_uppercase());
        magnitude /= base;
        if magnitude == 0 {
            break;
        }
    }
    if negative_out {
        out.push('-');
    }
    Ok(Some(out.iter().rev().collect()))
}

impl ScalarUDFImpl for Conv {
    fn name(&self) -> &str {
        "conv"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, args: &[DataType]) -> Result<Vec<DataType>> {
        if args.len() != 3 {
            return datafusion::common::plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `conv` requires 3 parameters but the actual number is {}.",
                args.len()
            );
        }
        Ok(vec![DataType::Utf8, DataType::Int32, DataType::Int32])
    }

    fn return_type(&self, _: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let ansi = args.config_options.execution.enable_ansi_mode;
        let num = cast(&args.args[0].to_array(n)?, &DataType::Utf8)?;
        let from: Int32Array = args.args[1].to_array(n)?.as_primitive::<Int32Type>().clone();
        let to: Int32Array = args.args[2].to_array(n)?.as_primitive::<Int32Type>().clone();
        let out: StringArray = num
            .as_string::<i32>()
            .iter()
            .zip(from.iter())
            .zip(to.iter())
            .map(|((s, f), t)| match (s, f, t) {
                (Some(s), Some(f), Some(t)) => convert(s, f, t, ansi),
                _ => Ok(None),
            })
            .collect::<std::result::Result<_, ()>>()
            .or_else(|()| {
                datafusion::common::exec_err!(
                    "[ARITHMETIC_OVERFLOW] Overflow in function conv(). If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error. SQLSTATE: 22003"
                )
            })?;
        let scalar = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        if scalar && out.len() == 1 {
            return Ok(ColumnarValue::Scalar(datafusion::common::ScalarValue::try_from_array(&out, 0)?));
        }
        Ok(ColumnarValue::Array(Arc::new(out)))
    }
}

#[cfg(test)]
mod tests {
    use super::convert;

    #[test]
    fn spark_conversions() {
        let conv = |s: &str, f: i32, t: i32| convert(s, f, t, true).ok().flatten();
        assert_eq!(conv("ff", 16, 10).as_deref(), Some("255"));
        assert_eq!(conv("100", 2, 10).as_deref(), Some("4"));
        assert_eq!(conv("-10", 16, -10).as_deref(), Some("-16"));
        assert_eq!(conv("-10", 16, 10).as_deref(), Some("18446744073709551600"));
        assert_eq!(conv("12xyz", 10, 16).as_deref(), Some("C"));
        assert_eq!(conv("zz", 10, 16).as_deref(), Some("0"));
        assert_eq!(conv("", 10, 16), None);
        assert_eq!(conv("1", 1, 10), None);
        assert!(convert("FFFFFFFFFFFFFFFFFF", 16, 10, true).is_err());
        assert_eq!(convert("FFFFFFFFFFFFFFFFFF", 16, 10, false), Ok(Some(u64::MAX.to_string())));
    }
}
