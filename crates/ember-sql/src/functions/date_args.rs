//! Spark's implicit casts into date functions: `date_add('2015-04-08', 1)`
//! takes the string (or a timestamp) as a date, and the day count as an
//! int (`'1'` too). datafusion-spark's versions take exact types only, so
//! each is wrapped: the wrapper coerces the arguments, then calls it.

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::Result;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    ColumnarValue, Expr, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF, ScalarUDFImpl, Signature,
};

/// What an argument becomes.
#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
pub enum Arg {
    /// A date: strings, timestamps and NULL are cast.
    Date,
    /// An int (a day count): other integers, strings and NULL are cast.
    Int,
    /// Left as it is.
    Keep,
}

/// The functions wrapped, with their arguments.
pub const FUNCTIONS: &[(&str, &[Arg])] = &[
    ("date_add", &[Arg::Date, Arg::Int]),
    ("date_sub", &[Arg::Date, Arg::Int]),
    ("last_day", &[Arg::Date]),
    ("next_day", &[Arg::Date, Arg::Keep]),
    ("monthname", &[Arg::Date]),
    ("weekday", &[Arg::Date]),
    ("date_diff", &[Arg::Date, Arg::Date]),
];

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct DateArgs {
    inner: ScalarUDF,
    args: &'static [Arg],
    signature: Signature,
}

impl DateArgs {
    pub fn new(inner: ScalarUDF, args: &'static [Arg]) -> Self {
        let volatility = inner.signature().volatility;
        Self { inner, args, signature: Signature::user_defined(volatility) }
    }
}

use super::is_text;

impl ScalarUDFImpl for DateArgs {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.aliases()
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, types: &[DataType]) -> Result<Vec<DataType>> {
        if types.len() != self.args.len() {
            return datafusion::common::plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{}` requires {} parameters but the actual number is {}.",
                self.name(),
                self.args.len(),
                types.len()
            );
        }
        Ok(types
            .iter()
            .zip(self.args)
            .map(|(t, a)| match a {
                Arg::Date if is_text(t) || t.is_null() || matches!(t, DataType::Timestamp(..) | DataType::Date64) => {
                    DataType::Date32
                }
                Arg::Int if t.is_integer() || is_text(t) || t.is_null() => DataType::Int32,
                _ => t.clone(),
            })
            .collect())
    }

    fn return_type(&self, types: &[DataType]) -> Result<DataType> {
        self.inner.return_type(types)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.inner.return_field_from_args(args)
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        self.inner.simplify(args, info)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        self.inner.invoke_with_args(args)
    }
}

/// Wraps the session's functions of `FUNCTIONS`.
pub fn register(ctx: &datafusion::prelude::SessionContext) {
    for (name, args) in FUNCTIONS {
        if let Ok(f) = datafusion::execution::FunctionRegistry::udf(ctx, name) {
            ctx.register_udf(ScalarUDF::from(DateArgs::new(f.as_ref().clone(), args)));
        }
    }
}
