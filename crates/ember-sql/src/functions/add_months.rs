//! `add_months(start, n)`: the date `n` months after `start`, clamped to
//! the month's last day (`add_months(DATE'2024-01-31', 1)` is 2024-02-29).
//! Like datafusion-spark's, it becomes `start + INTERVAL n MONTHS`; this
//! one also takes a string or timestamp start and any integer `n`, as
//! Spark's implicit casts do (SQL integer literals reach it as bigint).

use datafusion::arrow::datatypes::{DataType, IntervalUnit};
use datafusion::common::{Result, internal_err, plan_err};
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ExprSchemable, ScalarFunctionArgs, ScalarUDFImpl, Signature, Volatility,
};

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct AddMonths {
    signature: Signature,
}

impl AddMonths {
    pub fn new() -> Self {
        Self { signature: Signature::user_defined(Volatility::Immutable) }
    }
}

impl ScalarUDFImpl for AddMonths {
    fn name(&self) -> &str {
        "add_months"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        let [start, months] = arg_types else {
            return plan_err!("add_months takes 2 arguments, got {}", arg_types.len());
        };
        let start_ok = matches!(
            start,
            DataType::Date32
                | DataType::Null
                | DataType::Utf8
                | DataType::LargeUtf8
                | DataType::Utf8View
                | DataType::Timestamp(..)
        );
        if !start_ok || !(months.is_integer() || months == &DataType::Null) {
            return plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] add_months takes a date and an int, got {start} and {months}"
            );
        }
        Ok(vec![DataType::Date32, DataType::Int32])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Date32)
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let Ok([start, months]) = <[Expr; 2]>::try_from(args) else {
            return plan_err!("add_months takes 2 arguments");
        };
        let interval = months.cast_to(&DataType::Interval(IntervalUnit::YearMonth), info.schema())?;
        Ok(ExprSimplifyResult::Simplified(start + interval))
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        internal_err!("add_months is rewritten to date + interval before it runs")
    }
}
