//! Spark functions that take arrays where DataFusion's of the same name
//! take strings only (`reverse`, `concat`), and `array_position` with
//! Spark's result (a bigint, 0 when absent).

use std::sync::Arc;

use datafusion::arrow::array::Array;
use datafusion::arrow::compute::{is_null, nullif};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, plan_err};
use datafusion::logical_expr::expr::Case;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::type_coercion::functions::fields_with_udf;
use datafusion::logical_expr::{
    ColumnarValue, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature, Volatility, cast,
    lit,
};

fn is_list(t: &DataType) -> bool {
    matches!(t, DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..))
}

fn coerce(types: &[DataType], f: &ScalarUDF) -> Result<Vec<DataType>> {
    let fields: Vec<FieldRef> = types.iter().map(|t| Arc::new(Field::new("a", t.clone(), true))).collect();
    Ok(fields_with_udf(&fields, f)?.iter().map(|f| f.data_type().clone()).collect())
}

/// A string function that, given arrays, is an array function:
/// `reverse(array)` is `array_reverse`, `concat(a, b)` `array_concat` (NULL
/// when any argument is NULL, as Spark's concat is).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ListOrText {
    text: ScalarUDF,
    list: ScalarUDF,
    signature: Signature,
}

impl ListOrText {
    pub fn new(text: ScalarUDF, list: ScalarUDF) -> Self {
        let volatility = text.signature().volatility;
        Self { text, list, signature: Signature::user_defined(volatility) }
    }

    fn for_types(&self, types: &[DataType]) -> &ScalarUDF {
        if types.iter().any(is_list) { &self.list } else { &self.text }
    }
}

impl ScalarUDFImpl for ListOrText {
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
        coerce(types, self.for_types(types))
    }

    fn return_type(&self, types: &[DataType]) -> Result<DataType> {
        self.for_types(types).return_type(types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let types: Vec<DataType> = args.arg_fields.iter().map(|f| f.data_type().clone()).collect();
        self.for_types(&types).return_field_from_args(args)
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let types = args.iter().map(|a| info.get_data_type(a)).collect::<Result<Vec<_>>>()?;
        if types.iter().any(is_list) { Ok(ExprSimplifyResult::Original(args)) } else { self.text.simplify(args, info) }
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let types: Vec<DataType> = args.arg_fields.iter().map(|f| f.data_type().clone()).collect();
        if !types.iter().any(is_list) {
            return self.text.invoke_with_args(args);
        }
        let rows = args.number_rows;
        let inputs = args.args.clone();
        let mut out = self.list.invoke_with_args(args)?.to_array(rows)?;
        for input in inputs {
            let input = input.to_array(rows)?;
            if input.null_count() > 0 {
                out = nullif(&out, &is_null(&input)?)?;
            }
        }
        Ok(ColumnarValue::Array(out))
    }
}

/// `array_position(array, x)`: the 1-based index of the first `x`, 0 when
/// absent, as a bigint (DataFusion's is NULL when absent, and unsigned).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ArrayPosition {
    signature: Signature,
}

impl ArrayPosition {
    pub fn new() -> Self {
        Self { signature: Signature::user_defined(Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for ArrayPosition {
    fn name(&self) -> &str {
        "array_position"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        if types.len() != 2 {
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `array_position` requires 2 parameters but the actual number is {}.",
                types.len()
            );
        }
        coerce(types, &datafusion::functions_nested::position::array_position_udf())
    }

    fn return_type(&self, _types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn simplify(&self, mut args: Vec<Expr>, _info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let (Some(x), Some(array)) = (args.pop(), args.pop()) else {
            return plan_err!("array_position takes an array and a value");
        };
        let found = datafusion::functions_nested::expr_fn::array_position(array.clone(), x.clone(), lit(1i64));
        let position = datafusion::functions::core::expr_fn::coalesce(vec![cast(found, DataType::Int64), lit(0i64)]);
        Ok(ExprSimplifyResult::Simplified(Expr::Case(Case::new(
            None,
            vec![(
                Box::new(array.is_null().or(x.is_null())),
                Box::new(lit(datafusion::common::ScalarValue::Int64(None))),
            )],
            Some(Box::new(position)),
        ))))
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        datafusion::common::internal_err!("array_position is rewritten before it runs")
    }
}

/// `array_size(array)`: the number of elements as an int, NULL for a NULL
/// array (`size` is -1 there; DataFusion's `array_length` is unsigned).
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ArraySize {
    signature: Signature,
}

impl ArraySize {
    pub fn new() -> Self {
        Self { signature: Signature::user_defined(Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for ArraySize {
    fn name(&self) -> &str {
        "array_size"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        match types {
            [t] if is_list(t) || t.is_null() => Ok(types.to_vec()),
            _ => plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] array_size takes an array, not {}",
                types.iter().map(|t| t.to_string()).collect::<Vec<_>>().join(", ")
            ),
        }
    }

    fn return_type(&self, _types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int32)
    }

    fn simplify(&self, mut args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let Some(array) = args.pop() else { return plan_err!("array_size takes an array") };
        if info.get_data_type(&array)?.is_null() {
            return Ok(ExprSimplifyResult::Simplified(lit(datafusion::common::ScalarValue::Int32(None))));
        }
        Ok(ExprSimplifyResult::Simplified(cast(
            datafusion::functions_nested::expr_fn::array_length(array),
            DataType::Int32,
        )))
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        datafusion::common::internal_err!("array_size is rewritten before it runs")
    }
}

/// Registers `reverse` and `concat` over the session's string versions,
/// and `array_position` and `array_size`.
pub fn register(ctx: &datafusion::prelude::SessionContext) {
    use datafusion::execution::FunctionRegistry;
    use datafusion::functions_nested::{concat::array_concat_udf, reverse::array_reverse_udf};
    for (name, list) in [("reverse", array_reverse_udf()), ("concat", array_concat_udf())] {
        if let Ok(text) = ctx.udf(name) {
            ctx.register_udf(ScalarUDF::from(ListOrText::new(text.as_ref().clone(), list.as_ref().clone())));
        }
    }
    ctx.register_udf(ScalarUDF::from(ArrayPosition::new()));
    ctx.register_udf(ScalarUDF::from(ArraySize::new()));
}
