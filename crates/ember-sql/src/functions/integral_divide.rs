//! `a div b` (and `div(a, b)`): integral division, truncating toward
//! zero, as a bigint. A zero divisor raises `DIVIDE_BY_ZERO`; without
//! ANSI the SQL pass makes it NULL (`crate::sql_types`).

use datafusion::arrow::compute::cast;
use datafusion::arrow::compute::kernels::numeric::div;
use datafusion::arrow::datatypes::DataType;
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::logical_expr::type_coercion::binary::BinaryTypeCoercer;
use datafusion::logical_expr::{ColumnarValue, Operator, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility};

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct IntegralDivide {
    signature: Signature,
}

impl IntegralDivide {
    pub fn new() -> Self {
        Self { signature: Signature::user_defined(Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for IntegralDivide {
    fn name(&self) -> &str {
        "div"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [l, r] = arg_types else { return plan_err!("div takes two arguments") };
        // A string operand is read as a bigint, as Spark's coercion casts it.
        let integral = |t: &DataType| {
            t.is_integer() || t.is_null() || matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
        };
        let decimal = |t: &DataType| matches!(t, DataType::Decimal128(..) | DataType::Decimal256(..));
        if integral(l) && integral(r) {
            return Ok(vec![DataType::Int64, DataType::Int64]);
        }
        if (integral(l) || decimal(l)) && (integral(r) || decimal(r)) {
            let (l, r) = BinaryTypeCoercer::new(l, &Operator::Divide, r).get_input_types()?;
            return Ok(vec![l, r]);
        }
        plan_err!(
            "[DATATYPE_MISMATCH.BINARY_OP_WRONG_TYPE] The operator div takes integral or decimal operands, not {l} and {r}"
        )
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let n = args.number_rows;
        let scalars = args.args.iter().all(|a| matches!(a, ColumnarValue::Scalar(_)));
        let l = args.args[0].to_array(n)?;
        let r = args.args[1].to_array(n)?;
        let quotient = div(&l, &r)?;
        let out = cast(&quotient, &DataType::Int64)?;
        Ok(if scalars {
            ColumnarValue::Scalar(ScalarValue::try_from_array(&out, 0)?)
        } else {
            ColumnarValue::Array(out)
        })
    }
}
