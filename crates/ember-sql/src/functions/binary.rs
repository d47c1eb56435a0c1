//! Spark's string functions over binary values: `contains`, `startswith`
//! and `endswith` of two binaries compare bytes; `reverse` and `concat` of
//! binaries are binary (`hex(reverse(X'010203'))` is `030201`). With a
//! string among the arguments they stay string functions, as in Spark.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, BinaryArray, BinaryBuilder, BooleanArray};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
};

#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
pub enum Op {
    Contains,
    StartsWith,
    EndsWith,
    Reverse,
    Concat,
}

impl Op {
    /// The session's function each one wraps.
    pub const ALL: [(Op, &'static str); 5] = [
        (Op::Contains, "contains"),
        (Op::StartsWith, "starts_with"),
        (Op::EndsWith, "ends_with"),
        (Op::Reverse, "reverse"),
        (Op::Concat, "concat"),
    ];

    fn result(self) -> DataType {
        match self {
            Op::Reverse | Op::Concat => DataType::Binary,
            _ => DataType::Boolean,
        }
    }
}

/// The session's string function `text`, on bytes when every argument is
/// binary (or NULL).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct OnBytes {
    text: ScalarUDF,
    op: Op,
    signature: Signature,
}

impl OnBytes {
    pub fn new(text: ScalarUDF, op: Op) -> Self {
        let volatility = text.signature().volatility;
        Self { text, op, signature: Signature::user_defined(volatility) }
    }
}

fn is_binary(t: &DataType) -> bool {
    matches!(t, DataType::Binary | DataType::LargeBinary | DataType::BinaryView)
}

/// Every argument binary or NULL, at least one binary.
fn on_bytes(types: &[DataType]) -> bool {
    types.iter().any(is_binary) && types.iter().all(|t| is_binary(t) || t.is_null())
}

impl ScalarUDFImpl for OnBytes {
    fn name(&self) -> &str {
        self.text.name()
    }

    fn aliases(&self) -> &[String] {
        self.text.aliases()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        if on_bytes(types) {
            let arity = match self.op {
                Op::Contains | Op::StartsWith | Op::EndsWith => Some(2),
                Op::Reverse => Some(1),
                Op::Concat => None,
            };
            if arity.is_some_and(|n| n != types.len()) {
                return plan_err!(
                    "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{}` requires {} parameters but the actual number is {}.",
                    self.name(),
                    arity.unwrap_or_default(),
                    types.len()
                );
            }
            return Ok(vec![DataType::Binary; types.len()]);
        }
        super::coerced_types(types, &self.text)
    }

    fn return_type(&self, types: &[DataType]) -> Result<DataType> {
        if on_bytes(types) { Ok(self.op.result()) } else { self.text.return_type(types) }
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let types: Vec<DataType> = args.arg_fields.iter().map(|f| f.data_type().clone()).collect();
        if on_bytes(&types) {
            let nullable = args.arg_fields.iter().any(|f| f.is_nullable());
            return Ok(Arc::new(Field::new(self.name(), self.op.result(), nullable)));
        }
        self.text.return_field_from_args(args)
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let types = args.iter().map(|a| info.get_data_type(a)).collect::<Result<Vec<_>>>()?;
        if on_bytes(&types) { Ok(ExprSimplifyResult::Original(args)) } else { self.text.simplify(args, info) }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let types: Vec<DataType> = args.arg_fields.iter().map(|f| f.data_type().clone()).collect();
        if !on_bytes(&types) {
            return self.text.invoke_with_args(args);
        }
        let rows = args.number_rows;
        let arrays = args
            .args
            .iter()
            .map(|a| Ok(cast(&a.to_array(rows)?, &DataType::Binary)?))
            .collect::<Result<Vec<ArrayRef>>>()?;
        let binaries: Vec<&BinaryArray> =
            arrays.iter().map(|a| datafusion::common::cast::as_binary_array(a)).collect::<Result<_>>()?;
        // NULL when any argument is.
        let valid = |i: usize| binaries.iter().all(|b| b.is_valid(i));
        let out: ArrayRef = match (self.op, binaries.as_slice()) {
            (Op::Contains | Op::StartsWith | Op::EndsWith, [hay, needle]) => {
                let values: BooleanArray = (0..rows)
                    .map(|i| {
                        let (hay, needle) = (hay.value(i), needle.value(i));
                        valid(i).then(|| match self.op {
                            Op::StartsWith => hay.starts_with(needle),
                            Op::EndsWith => hay.ends_with(needle),
                            _ => needle.is_empty() || hay.windows(needle.len()).any(|w| w == needle),
                        })
                    })
                    .collect();
                Arc::new(values)
            }
            (Op::Reverse | Op::Concat, _) => {
                let mut b = BinaryBuilder::with_capacity(rows, 0);
                let mut bytes = Vec::new();
                for i in 0..rows {
                    if !valid(i) {
                        b.append_null();
                        continue;
                    }
                    bytes.clear();
                    binaries.iter().for_each(|a| bytes.extend_from_slice(a.value(i)));
                    if self.op == Op::Reverse {
                        bytes.reverse();
                    }
                    b.append_value(&bytes);
                }
                Arc::new(b.finish())
            }
            _ => return plan_err!("{} takes 2 arguments, got {}", self.name(), binaries.len()),
        };
        Ok(ColumnarValue::Array(out))
    }
}
