//! Spark functions that are another expression under Spark's name, for SQL
//! text and DataFrame calls alike: the cast functions (`int(x)`,
//! `float(x)`, `date(x)`, …), `e()`, `dayname`, `zeroifnull`/`nullifzero`,
//! `current_database()`/`current_schema()`/`current_catalog()`,
//! `regexp_substr`, `date_from_unix_date`/`unix_date`, and the aggregates
//! `count_if` and `listagg`/`string_agg`.

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{Result, ScalarValue, not_impl_err, plan_err};
use datafusion::logical_expr::expr::{AggregateFunction, Case};
use datafusion::logical_expr::function::{AccumulatorArgs, AggregateFunctionSimplification, StateFieldsArgs};
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, ColumnarValue, Expr, ExprSchemable, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    Volatility, cast, lit,
};

/// The cast functions: Spark's name and the type.
const CASTS: &[(&str, DataType)] = &[
    ("boolean", DataType::Boolean),
    ("tinyint", DataType::Int8),
    ("smallint", DataType::Int16),
    ("int", DataType::Int32),
    ("bigint", DataType::Int64),
    ("float", DataType::Float32),
    ("double", DataType::Float64),
    ("decimal", DataType::Decimal128(10, 0)),
    ("string", DataType::Utf8),
    ("binary", DataType::Binary),
    ("date", DataType::Date32),
];

#[derive(Debug, PartialEq, Eq, Hash, Clone)]
pub enum Spelled {
    Cast(&'static str, DataType),
    E,
    DayName,
    ZeroIfNull,
    NullIfZero,
    /// `current_database()` / `current_schema()`.
    CurrentDatabase(&'static str),
    CurrentCatalog,
    RegexpSubstr,
    DateFromUnixDate,
    UnixDate,
}

impl Spelled {
    pub fn all() -> Vec<Self> {
        let mut all: Vec<Self> = CASTS.iter().map(|(n, t)| Self::Cast(n, t.clone())).collect();
        all.extend([
            Self::E,
            Self::DayName,
            Self::ZeroIfNull,
            Self::NullIfZero,
            Self::CurrentDatabase("current_database"),
            Self::CurrentDatabase("current_schema"),
            Self::CurrentCatalog,
            Self::RegexpSubstr,
            Self::DateFromUnixDate,
            Self::UnixDate,
        ]);
        all
    }

    /// How many arguments it takes.
    fn arity(&self) -> usize {
        match self {
            Self::E | Self::CurrentDatabase(_) | Self::CurrentCatalog => 0,
            Self::RegexpSubstr => 2,
            _ => 1,
        }
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SpelledUdf {
    form: Spelled,
    signature: Signature,
}

impl SpelledUdf {
    pub fn new(form: Spelled) -> Self {
        Self { form, signature: Signature::user_defined(Volatility::Immutable) }
    }
}

fn is_text(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

impl ScalarUDFImpl for SpelledUdf {
    fn name(&self) -> &str {
        match &self.form {
            Spelled::Cast(name, _) => name,
            Spelled::E => "e",
            Spelled::DayName => "dayname",
            Spelled::ZeroIfNull => "zeroifnull",
            Spelled::NullIfZero => "nullifzero",
            Spelled::CurrentDatabase(name) => name,
            Spelled::CurrentCatalog => "current_catalog",
            Spelled::RegexpSubstr => "regexp_substr",
            Spelled::DateFromUnixDate => "date_from_unix_date",
            Spelled::UnixDate => "unix_date",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        if t.len() != self.form.arity() {
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{}` requires {} parameters but the actual number is {}.",
                self.name(),
                self.form.arity(),
                t.len()
            );
        }
        let ok = match &self.form {
            Spelled::ZeroIfNull | Spelled::NullIfZero => t[0].is_numeric() || t[0].is_null(),
            Spelled::RegexpSubstr => t.iter().all(|t| is_text(t) || t.is_null()),
            Spelled::DateFromUnixDate => t[0].is_integer() || t[0].is_null(),
            Spelled::DayName | Spelled::UnixDate => {
                matches!(t[0], DataType::Date32 | DataType::Timestamp(..)) || is_text(&t[0]) || t[0].is_null()
            }
            _ => true,
        };
        if !ok {
            return plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{}\" for arguments of types {t:?}",
                self.name()
            );
        }
        Ok(match &self.form {
            Spelled::RegexpSubstr => vec![DataType::Utf8, DataType::Utf8],
            Spelled::DateFromUnixDate => vec![DataType::Int32],
            Spelled::DayName | Spelled::UnixDate => vec![DataType::Date32],
            Spelled::ZeroIfNull | Spelled::NullIfZero if t[0].is_null() => vec![DataType::Int32],
            _ => t.to_vec(),
        })
    }

    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(match &self.form {
            Spelled::Cast(_, to) => to.clone(),
            Spelled::E => DataType::Float64,
            Spelled::DayName | Spelled::CurrentDatabase(_) | Spelled::CurrentCatalog | Spelled::RegexpSubstr => {
                DataType::Utf8
            }
            Spelled::ZeroIfNull | Spelled::NullIfZero => t[0].clone(),
            Spelled::DateFromUnixDate => DataType::Date32,
            Spelled::UnixDate => DataType::Int32,
        })
    }

    fn simplify(&self, mut args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let arg = |args: &mut Vec<Expr>| args.pop().unwrap_or(lit(ScalarValue::Null));
        let expr = match &self.form {
            Spelled::Cast(_, to) => cast(arg(&mut args), to.clone()),
            Spelled::E => lit(std::f64::consts::E),
            Spelled::DayName => {
                datafusion::functions::datetime::expr_fn::to_char(cast(arg(&mut args), DataType::Date32), lit("%a"))
            }
            Spelled::ZeroIfNull => {
                let x = arg(&mut args);
                let zero = ScalarValue::new_zero(&info.get_data_type(&x)?)?;
                datafusion::functions::core::expr_fn::coalesce(vec![x, lit(zero)])
            }
            Spelled::NullIfZero => {
                let x = arg(&mut args);
                let zero = ScalarValue::new_zero(&info.get_data_type(&x)?)?;
                datafusion::functions::core::expr_fn::nullif(x, lit(zero))
            }
            Spelled::CurrentDatabase(_) => lit(crate::tables::DATABASE),
            Spelled::CurrentCatalog => lit(crate::tables::CATALOG),
            // The first match: the whole pattern as group 1.
            Spelled::RegexpSubstr => {
                let pattern = arg(&mut args);
                let s = arg(&mut args);
                let grouped = datafusion::functions::string::expr_fn::concat(vec![lit("("), pattern, lit(")")]);
                let found = datafusion::functions::regex::expr_fn::regexp_match(s, grouped, None);
                datafusion::functions_nested::expr_fn::array_element(found, lit(1i64))
            }
            Spelled::DateFromUnixDate => cast(arg(&mut args), DataType::Date32),
            Spelled::UnixDate => cast(cast(arg(&mut args), DataType::Date32), DataType::Int32),
        };
        Ok(ExprSimplifyResult::Simplified(expr))
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        not_impl_err!("{} is rewritten before it runs", self.name())
    }
}

/// `count_if(p)`: the rows where `p` is true, as `count(CASE WHEN p THEN 1 END)`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct CountIf {
    signature: Signature,
}

impl CountIf {
    pub fn new() -> Self {
        Self { signature: Signature::exact(vec![DataType::Boolean], Volatility::Immutable) }
    }
}

impl AggregateUDFImpl for CountIf {
    fn name(&self) -> &str {
        "count_if"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn is_nullable(&self) -> bool {
        false
    }

    fn state_fields(&self, _args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        not_impl_err!("count_if is rewritten to count before it runs")
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        not_impl_err!("count_if is rewritten to count before it runs")
    }

    fn simplify(&self) -> Option<AggregateFunctionSimplification> {
        Some(Box::new(|call: AggregateFunction, _info: &SimplifyContext| {
            let mut params = call.params;
            let Some(p) = params.args.pop() else {
                return plan_err!("count_if takes one argument");
            };
            let one = Expr::Case(Case::new(None, vec![(Box::new(p), Box::new(lit(1i32)))], None));
            params.args = vec![one];
            Ok(Expr::AggregateFunction(AggregateFunction {
                func: datafusion::functions_aggregate::count::count_udaf(),
                params,
            }))
        }))
    }
}

/// `listagg(x[, delimiter])` and `string_agg`: DataFusion's `string_agg`,
/// whose delimiter is required; Spark's defaults to none. `WITHIN GROUP
/// (ORDER BY …)` orders the values.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct ListAgg {
    name: &'static str,
    signature: Signature,
}

impl ListAgg {
    pub fn new(name: &'static str) -> Self {
        Self { name, signature: Signature::user_defined(Volatility::Immutable) }
    }
}

impl AggregateUDFImpl for ListAgg {
    fn name(&self) -> &str {
        self.name
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    /// `(value[, delimiter])`; `WITHIN GROUP (ORDER BY e)` puts `e` first.
    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        if t.is_empty() || t.len() > 3 {
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `{}` requires 1 or 2 parameters but the actual number is {}.",
                self.name,
                t.len()
            );
        }
        Ok(t.iter().map(|t| if is_text(t) || t.is_null() { DataType::Utf8 } else { t.clone() }).collect())
    }

    /// `string_agg`'s type, which the rewrite keeps.
    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::LargeUtf8)
    }

    fn supports_within_group_clause(&self) -> bool {
        true
    }

    fn state_fields(&self, _args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        not_impl_err!("{} is rewritten to string_agg before it runs", self.name)
    }

    fn accumulator(&self, _args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        not_impl_err!("{} is rewritten to string_agg before it runs", self.name)
    }

    fn simplify(&self) -> Option<AggregateFunctionSimplification> {
        Some(Box::new(|call: AggregateFunction, _info: &SimplifyContext| {
            let mut params = call.params;
            // The WITHIN GROUP ordering, given again as the first argument.
            let within_group =
                params.order_by.first().is_some_and(|o| params.args.len() >= 2 && params.args[0] == o.expr);
            if within_group {
                params.args.remove(0);
            }
            if let Some(t) = params.args.first().map(|a| a.get_type(_info.schema())).transpose()? {
                if !is_text(&t) && !t.is_null() {
                    return plan_err!("[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] listagg takes strings, not {t}");
                }
            }
            if params.args.len() == 1 {
                params.args.push(lit(""));
            }
            let delimiter = params.args.pop().unwrap_or(lit(""));
            params.args.push(datafusion::functions::core::expr_fn::coalesce(vec![delimiter, lit("")]));
            Ok(Expr::AggregateFunction(AggregateFunction {
                func: datafusion::functions_aggregate::string_agg::string_agg_udaf(),
                params,
            }))
        }))
    }
}
