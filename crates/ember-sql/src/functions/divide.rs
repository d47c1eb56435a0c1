//! `ember_check_divisor(x)`: passes `x` through, raising Spark's
//! `DIVIDE_BY_ZERO` if any value is zero (ANSI division);
//! `ember_check_remainder_divisor(x)` raises `REMAINDER_BY_ZERO` (ANSI `%`).

use datafusion::arrow::array::Array;
use datafusion::arrow::compute::kernels::cmp::eq;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CheckDivisor {
    signature: Signature,
    remainder: bool,
}

impl CheckDivisor {
    /// For `/`.
    pub fn new() -> Self {
        Self { signature: Signature::any(1, Volatility::Immutable), remainder: false }
    }

    /// For `%`.
    pub fn remainder() -> Self {
        Self { signature: Signature::any(1, Volatility::Immutable), remainder: true }
    }
}

impl ScalarUDFImpl for CheckDivisor {
    fn name(&self) -> &str {
        if self.remainder { "ember_check_remainder_divisor" } else { "ember_check_divisor" }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(arg_types[0].clone())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let Some(v) = args.args.into_iter().next() else {
            return exec_err!("ember_check_divisor needs one argument");
        };
        let zero = ScalarValue::new_zero(&v.data_type())?;
        let is_zero = match &v {
            ColumnarValue::Scalar(s) => !s.is_null() && *s == zero,
            ColumnarValue::Array(a) => {
                let z = zero.to_scalar()?;
                let hits = eq(a, &z)?;
                hits.true_count() > 0 && hits.null_count() < hits.len()
            }
        };
        if is_zero && self.remainder {
            return exec_err!(
                "[REMAINDER_BY_ZERO] Remainder by zero. Use `try_mod` to tolerate divisor being 0 and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error. SQLSTATE: 22012"
            );
        }
        if is_zero {
            return exec_err!(
                "[DIVIDE_BY_ZERO] Division by zero. Use `try_divide` to tolerate divisor being 0 and return NULL instead. If necessary set \"spark.sql.ansi.enabled\" to \"false\" to bypass this error. SQLSTATE: 22012"
            );
        }
        Ok(v)
    }
}
