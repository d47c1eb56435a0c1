//! `raise_error(msg)` and `assert_true(cond[, msg])`: Spark's
//! `USER_RAISED_EXCEPTION` when a row reaches them (raise_error) or when
//! the condition is not true (assert_true, else NULL). Volatile, so the
//! planner does not evaluate them on literals ahead of the rows.
//! `ember_illegal_argument(msg)` is raise_error for ember's own checks: an
//! `IllegalArgumentException` with the message as given.

use datafusion::arrow::array::{Array, AsArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::{ColumnarValue, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Raise {
    kind: Kind,
    signature: Signature,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Kind {
    RaiseError,
    AssertTrue,
    /// An IllegalArgumentException, not USER_RAISED_EXCEPTION.
    IllegalArgument,
}

impl Raise {
    fn of(kind: Kind) -> Self {
        Self { kind, signature: Signature::user_defined(Volatility::Volatile) }
    }

    pub fn raise_error() -> Self {
        Self::of(Kind::RaiseError)
    }

    pub fn assert_true() -> Self {
        Self::of(Kind::AssertTrue)
    }

    pub fn illegal_argument() -> Self {
        Self::of(Kind::IllegalArgument)
    }
}

fn message_at(args: &[ColumnarValue], index: usize, row: usize) -> Result<Option<String>> {
    let Some(arg) = args.get(index) else { return Ok(None) };
    let a = cast(&arg.to_array(row + 1)?, &DataType::Utf8)?;
    let s = a.as_string::<i32>();
    Ok((!s.is_null(row)).then(|| s.value(row).to_string()))
}

fn raised(message: &str) -> datafusion::common::DataFusionError {
    datafusion::common::DataFusionError::Execution(format!("[USER_RAISED_EXCEPTION] {message} SQLSTATE: P0001"))
}

impl ScalarUDFImpl for Raise {
    fn name(&self) -> &str {
        match self.kind {
            Kind::RaiseError => "raise_error",
            Kind::AssertTrue => "assert_true",
            Kind::IllegalArgument => "ember_illegal_argument",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let assert = self.kind == Kind::AssertTrue;
        match (assert, arg_types.len()) {
            (false, 1) => Ok(vec![DataType::Utf8]),
            (true, 1) => Ok(vec![DataType::Boolean]),
            (true, 2) => Ok(vec![DataType::Boolean, DataType::Utf8]),
            _ => plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{}` does not take {} parameters.",
                self.name(),
                arg_types.len()
            ),
        }
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Null)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        if self.kind != Kind::AssertTrue {
            if n > 0 {
                let message = message_at(&args.args, 0, 0)?.unwrap_or_else(|| "null".into());
                if self.kind == Kind::IllegalArgument {
                    let e = ember_common::SparkError::illegal_argument(message);
                    return Err(datafusion::common::DataFusionError::External(Box::new(e)));
                }
                return Err(raised(&message));
            }
            return Ok(ColumnarValue::Scalar(ScalarValue::Null));
        }
        let conditions = args.args[0].to_array(n)?;
        let conditions = conditions.as_boolean();
        for row in 0..n {
            if conditions.is_null(row) || !conditions.value(row) {
                let message = match message_at(&args.args, 1, row)? {
                    Some(m) => m,
                    None if args.args.len() > 1 => "null".into(),
                    None => "the condition of assert_true is not true!".into(),
                };
                return Err(raised(&message));
            }
        }
        Ok(ColumnarValue::Scalar(ScalarValue::Null))
    }
}
