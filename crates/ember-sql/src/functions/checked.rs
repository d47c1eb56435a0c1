//! Integer `+`, `-` and `*` under ANSI mode: Spark raises
//! `ARITHMETIC_OVERFLOW` where DataFusion's operators wrap around
//! (`2147483647 + 1` would silently be -2147483648). Arrow's checked
//! kernels do the arithmetic.

use datafusion::arrow::compute::kernels::numeric::{add, mul, sub};
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::type_coercion::binary::BinaryTypeCoercer;
use datafusion::logical_expr::{ColumnarValue, Operator, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Checked {
    op: Operator,
    signature: Signature,
}

impl Checked {
    /// `op` is `Plus`, `Minus` or `Multiply`.
    pub fn new(op: Operator) -> Self {
        Self { op, signature: Signature::user_defined(Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for Checked {
    fn name(&self) -> &str {
        match self.op {
            Operator::Plus => "ember_checked_add",
            Operator::Minus => "ember_checked_subtract",
            _ => "ember_checked_multiply",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [l, r] = arg_types else { return plan_err!("{} takes two arguments", self.name()) };
        let (l, r) = BinaryTypeCoercer::new(l, &self.op, r).get_input_types()?;
        Ok(vec![l, r])
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        BinaryTypeCoercer::new(&arg_types[0], &self.op, &arg_types[1]).get_result_type()
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let [l, r] = args.args.as_slice() else { return plan_err!("{} takes two arguments", self.name()) };
        let kernel = match self.op {
            Operator::Plus => add,
            Operator::Minus => sub,
            _ => mul,
        };
        let out = match (l, r) {
            (ColumnarValue::Scalar(a), ColumnarValue::Scalar(b)) => {
                let out = kernel(&a.to_scalar()?, &b.to_scalar()?)?;
                return Ok(ColumnarValue::Scalar(datafusion::common::ScalarValue::try_from_array(&out, 0)?));
            }
            (ColumnarValue::Array(a), ColumnarValue::Scalar(b)) => kernel(a, &b.to_scalar()?)?,
            (ColumnarValue::Scalar(a), ColumnarValue::Array(b)) => kernel(&a.to_scalar()?, b)?,
            (ColumnarValue::Array(a), ColumnarValue::Array(b)) => kernel(a, b)?,
        };
        Ok(ColumnarValue::Array(out))
    }
}
