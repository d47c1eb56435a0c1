//! Spark functions that are another expression under Spark's name, for SQL
//! text and DataFrame calls alike: the cast functions (`int(x)`,
//! `float(x)`, `date(x)`, …), `e()`, `dayname`, `zeroifnull`/`nullifzero`,
//! `current_catalog()`,
//! `regexp_substr`, `date_from_unix_date`/`unix_date`, `try_add`/
//! `try_subtract`/`try_multiply` (NULL on integer overflow),
//! `array_prepend(array, x)` and `map_concat`, and the aggregates
//! `count_if` and `listagg`/`string_agg`.

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::{Result, ScalarValue, not_impl_err, plan_err};
use datafusion::logical_expr::expr::{AggregateFunction, Case};
use datafusion::logical_expr::function::{AccumulatorArgs, AggregateFunctionSimplification, StateFieldsArgs};
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, ColumnarValue, Expr, ExprSchemable, Operator, ScalarFunctionArgs, ScalarUDFImpl,
    Signature, Volatility, cast, lit,
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

/// Whether `name` is a cast function (`int(x)`, `string(x)`, …), which
/// Spark names after its argument, as a CAST.
pub fn is_cast(name: &str) -> bool {
    CASTS.iter().any(|(n, _)| *n == name)
}

#[derive(Debug, PartialEq, Eq, Hash, Clone)]
pub enum Spelled {
    Cast(&'static str, DataType),
    E,
    DayName,
    ZeroIfNull,
    NullIfZero,
    CurrentCatalog,
    RegexpSubstr,
    DateFromUnixDate,
    UnixDate,
    /// `try_add` / `try_subtract` / `try_multiply` / `try_mod` (NULL on
    /// overflow, and `try_mod` by zero).
    Try(Operator),
    ArrayPrepend,
    MapConcat,
}

impl Spelled {
    pub fn all() -> Vec<Self> {
        let mut all: Vec<Self> = CASTS.iter().map(|(n, t)| Self::Cast(n, t.clone())).collect();
        all.extend([
            Self::E,
            Self::DayName,
            Self::ZeroIfNull,
            Self::NullIfZero,
            Self::CurrentCatalog,
            Self::RegexpSubstr,
            Self::DateFromUnixDate,
            Self::UnixDate,
            Self::Try(Operator::Plus),
            Self::Try(Operator::Minus),
            Self::Try(Operator::Multiply),
            Self::Try(Operator::Modulo),
            Self::ArrayPrepend,
            Self::MapConcat,
        ]);
        all
    }

    /// How many arguments it takes.
    fn arity(&self) -> usize {
        match self {
            Self::E | Self::CurrentCatalog => 0,
            Self::RegexpSubstr | Self::Try(_) | Self::ArrayPrepend => 2,
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

use super::is_text;

impl ScalarUDFImpl for SpelledUdf {
    fn name(&self) -> &str {
        match &self.form {
            Spelled::Cast(name, _) => name,
            Spelled::E => "e",
            Spelled::DayName => "dayname",
            Spelled::ZeroIfNull => "zeroifnull",
            Spelled::NullIfZero => "nullifzero",
            Spelled::CurrentCatalog => "current_catalog",
            Spelled::RegexpSubstr => "regexp_substr",
            Spelled::DateFromUnixDate => "date_from_unix_date",
            Spelled::UnixDate => "unix_date",
            Spelled::Try(Operator::Plus) => "try_add",
            Spelled::Try(Operator::Minus) => "try_subtract",
            Spelled::Try(Operator::Modulo) => "try_mod",
            Spelled::Try(_) => "try_multiply",
            Spelled::ArrayPrepend => "array_prepend",
            Spelled::MapConcat => "map_concat",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        match &self.form {
            Spelled::Try(op) => return try_types(*op, t).map(|(l, r, _)| vec![l, r]),
            Spelled::ArrayPrepend => return prepend_types(t).map(|(a, e)| vec![a, e]),
            Spelled::MapConcat => return map_concat_types(t),
            _ => {}
        }
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
            Spelled::DayName | Spelled::CurrentCatalog | Spelled::RegexpSubstr => DataType::Utf8,
            Spelled::ZeroIfNull | Spelled::NullIfZero => t[0].clone(),
            Spelled::DateFromUnixDate => DataType::Date32,
            Spelled::UnixDate => DataType::Int32,
            Spelled::Try(op) => try_types(*op, t)?.2,
            Spelled::ArrayPrepend | Spelled::MapConcat => t[0].clone(),
        })
    }

    fn simplify(&self, mut args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let arg = |args: &mut Vec<Expr>| args.pop().unwrap_or(lit(ScalarValue::Null));
        let expr = match &self.form {
            // Spark's text for doubles and timestamps (`string(1e20)`).
            Spelled::Cast(_, to) => crate::functions::spark_cast(arg(&mut args), to, false, info.schema())
                .map_err(|e| datafusion::common::DataFusionError::Plan(e.to_string()))?,
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
            Spelled::CurrentCatalog => lit(crate::tables::CATALOG),
            // The first match (the whole pattern as group 1), NULL when it
            // is empty or there is none, as Spark's
            // nullif(regexp_extract(s, p, 0), '').
            Spelled::RegexpSubstr => {
                let pattern = arg(&mut args);
                let s = arg(&mut args);
                let grouped =
                    binary(binary(lit("("), Operator::StringConcat, pattern), Operator::StringConcat, lit(")"));
                let found = datafusion::functions::regex::expr_fn::regexp_match(s, grouped, None);
                let first = datafusion::functions_nested::expr_fn::array_element(found, lit(1i64));
                datafusion::functions::core::expr_fn::nullif(first, lit(""))
            }
            Spelled::DateFromUnixDate => cast(arg(&mut args), DataType::Date32),
            Spelled::UnixDate => cast(cast(arg(&mut args), DataType::Date32), DataType::Int32),
            Spelled::Try(op) => {
                let r = arg(&mut args);
                let l = arg(&mut args);
                // A remainder by zero is NULL (a zero of the divisor's type:
                // nothing coerces what simplification makes).
                let r = if *op == Operator::Modulo {
                    let zero = ScalarValue::new_zero(&info.get_data_type(&r)?)?;
                    datafusion::functions::core::expr_fn::nullif(r, lit(zero))
                } else {
                    r
                };
                let to = try_types(*op, &[info.get_data_type(&l)?, info.get_data_type(&r)?])?.2;
                if to == DataType::Date32 && matches!(info.get_data_type(&r)?, DataType::Duration(_)) {
                    let tz = info.config_options().execution.time_zone.clone().unwrap_or_else(|| "UTC".into());
                    match super::intervals::arithmetic(&l, *op, &r, info.schema(), &tz)? {
                        Some(moved) if moved.get_type(info.schema().as_ref())? == DataType::Date32 => moved,
                        _ => {
                            return plan_err!(
                                "[DATATYPE_MISMATCH.BINARY_OP_WRONG_TYPE] {} moves a date by whole days (an interval day) only; use + for a timestamp",
                                self.name()
                            );
                        }
                    }
                } else if to == DataType::Date32 && info.get_data_type(&r)?.is_integer() {
                    match op {
                        Operator::Minus => datafusion_spark::function::datetime::expr_fn::date_sub(l, r),
                        _ => datafusion_spark::function::datetime::expr_fn::date_add(l, r),
                    }
                } else if !to.is_integer() {
                    binary(l, *op, r)
                } else {
                    // Exact in decimal(38, 0), then NULL outside the type's range.
                    let wide = |e: Expr| cast(e, DataType::Decimal128(38, 0));
                    datafusion::logical_expr::try_cast(binary(wide(l), *op, wide(r)), to)
                }
            }
            Spelled::ArrayPrepend => {
                let e = arg(&mut args);
                let a = arg(&mut args);
                let prepended = datafusion::functions_nested::expr_fn::array_prepend(e, a.clone());
                Expr::Case(Case::new(None, vec![(Box::new(a.is_not_null()), Box::new(prepended))], None))
            }
            Spelled::MapConcat => {
                let any_null = args.iter().map(|m| m.clone().is_null()).reduce(|x, y| x.or(y)).unwrap_or(lit(false));
                let keys = args.iter().map(|m| datafusion::functions_nested::expr_fn::map_keys(m.clone())).collect();
                let values =
                    args.iter().map(|m| datafusion::functions_nested::expr_fn::map_values(m.clone())).collect();
                let map = datafusion_spark::function::map::expr_fn::map_from_arrays(
                    datafusion::functions_nested::expr_fn::array_concat(keys),
                    datafusion::functions_nested::expr_fn::array_concat(values),
                );
                Expr::Case(Case::new(
                    None,
                    vec![(Box::new(any_null), Box::new(lit(ScalarValue::try_from(info.get_data_type(&args[0])?)?)))],
                    Some(Box::new(map)),
                ))
            }
        };
        Ok(ExprSimplifyResult::Simplified(expr))
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        not_impl_err!("{} is rewritten before it runs", self.name())
    }
}

fn binary(l: Expr, op: Operator, r: Expr) -> Expr {
    Expr::BinaryExpr(datafusion::logical_expr::BinaryExpr::new(Box::new(l), op, Box::new(r)))
}

/// The operand types and the result type of a `try_` operator: integers
/// widen to the wider of the two, the rest as the operator coerces them.
fn try_types(op: Operator, t: &[DataType]) -> Result<(DataType, DataType, DataType)> {
    let [l, r] = t else {
        return plan_err!("[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] try_ arithmetic takes 2 parameters");
    };
    let as_int = |t: &DataType| if t.is_null() { DataType::Int32 } else { t.clone() };
    let (l, r) = (as_int(l), as_int(r));
    // Dates move by days or intervals, timestamps by intervals; intervals add.
    match (op, &l, &r) {
        (Operator::Plus | Operator::Minus, DataType::Date32, r) if r.is_integer() => {
            return Ok((DataType::Date32, DataType::Int32, DataType::Date32));
        }
        (Operator::Plus | Operator::Minus, DataType::Date32 | DataType::Timestamp(..), DataType::Interval(_))
        | (Operator::Plus | Operator::Minus, DataType::Timestamp(..), DataType::Duration(_))
        | (Operator::Plus | Operator::Minus, DataType::Interval(_), DataType::Interval(_))
        | (Operator::Plus | Operator::Minus, DataType::Duration(_), DataType::Duration(_)) => {
            return Ok((l.clone(), r.clone(), l));
        }
        // A date moves by an `interval day` (`simplify` checks the fields).
        (Operator::Plus | Operator::Minus, DataType::Date32, DataType::Duration(_)) => {
            return Ok((l.clone(), r.clone(), DataType::Date32));
        }
        _ => {}
    }
    if !l.is_numeric() || !r.is_numeric() {
        return plan_err!("[DATATYPE_MISMATCH.BINARY_OP_WRONG_TYPE] try arithmetic takes numbers, not {l} and {r}");
    }
    if l.is_integer() && r.is_integer() {
        let width = |t: &DataType| t.primitive_width().unwrap_or(8);
        let to = if width(&l) >= width(&r) { l.clone() } else { r.clone() };
        return Ok((to.clone(), to.clone(), to));
    }
    let coercer = datafusion::logical_expr::type_coercion::binary::BinaryTypeCoercer::new(&l, &op, &r);
    let (lt, rt) = coercer.get_input_types()?;
    let out = coercer.get_result_type()?;
    Ok((lt, rt, out))
}

/// `array_prepend(array, x)`: the element type takes `x` when an integer
/// is wider.
fn prepend_types(t: &[DataType]) -> Result<(DataType, DataType)> {
    let [a, e] = t else {
        return plan_err!("[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] array_prepend takes 2 parameters");
    };
    let element = match a {
        DataType::List(f) | DataType::LargeList(f) => f.data_type().clone(),
        DataType::Null => e.clone(),
        other => {
            return plan_err!("[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] array_prepend takes an array, not {other}");
        }
    };
    let element = match (&element, e) {
        (x, y) if x.is_integer() && y.is_integer() && y.primitive_width() > x.primitive_width() => y.clone(),
        (DataType::Null, y) => y.clone(),
        (x, _) => x.clone(),
    };
    Ok((DataType::new_list(element.clone(), true), element))
}

/// `map_concat(m1, m2, …)`: maps of one type.
fn map_concat_types(t: &[DataType]) -> Result<Vec<DataType>> {
    let Some(first) = t.iter().find(|t| matches!(t, DataType::Map(..))) else {
        return plan_err!(
            "[DATATYPE_MISMATCH.MAP_CONCAT_DIFF_TYPES] The `map_concat` should all be of type map, not {t:?}"
        );
    };
    if t.iter().any(|x| !matches!(x, DataType::Map(..))) {
        return plan_err!(
            "[DATATYPE_MISMATCH.MAP_CONCAT_DIFF_TYPES] The `map_concat` should all be of type map, not {t:?}"
        );
    }
    Ok(t.iter().map(|_| first.clone()).collect())
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
