//! Spark functions that become DataFusion expressions when simplified:
//! `sort_array`/`array_sort` (Spark's null placement), `locate`/`position`,
//! `try_divide`, `try_element_at`, `get`, `sequence`, `regexp_replace`. As registry functions, SQL text and
//! DataFrame calls both find them. Also `max_by`/`min_by`, an aggregate.

use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef};
use datafusion::common::{Result, ScalarValue, internal_err, plan_err};
use datafusion::logical_expr::expr::Case;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::type_coercion::binary::BinaryTypeCoercer;
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, ColumnarValue, Expr, ExprSchemable, Operator, ScalarFunctionArgs, ScalarUDFImpl,
    Signature, Volatility, lit,
};

/// Which Spark function a [`Rewritten`] is.
#[derive(Debug, PartialEq, Eq, Hash, Clone, Copy)]
pub enum Form {
    /// `sort_array(a[, asc])`: ascending puts NULLs first, descending last.
    SortArray,
    /// `array_sort(a)`: ascending, NULLs last.
    ArraySort,
    /// `locate(substr, str[, pos])`: the 1-based position at or after
    /// `pos`, 0 when absent. `position` is the same.
    Locate(&'static str),
    /// `try_divide(a, b)`: `/` with NULL for a zero divisor.
    TryDivide,
    /// `try_element_at(array|map, key)`: NULL when absent (1-based).
    TryElementAt,
    /// `get(array, index)`: NULL when absent (0-based).
    Get,
    /// `element_at(array|map, key)` in SQL text, where DataFusion's (its
    /// `map_extract`) takes maps only; `sql_types` gives it ANSI errors.
    ElementAt,
    /// `sequence(start, stop[, step])`: integers, or dates and timestamps
    /// stepped by an interval; the step defaults to 1 (a day) towards stop.
    Sequence,
    /// `typeof(x)`: Spark's name of x's type (`int`, `array<string>`).
    TypeOf,
    /// `map_contains_key(map, key)`: whether the map has the key.
    MapContainsKey,
    /// `regexp_replace(str, regex, rep[, pos])`: every match at or after
    /// `pos` replaced (DataFusion's replaces the first unless flagged `g`,
    /// and its fourth argument is the flags).
    RegexpReplace,
    /// `nvl2(x, a, b)`: `a` when `x` is not NULL, else `b`; the type is the
    /// common type of `a` and `b` alone (DataFusion's widens it by `x`).
    Nvl2,
}

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Rewritten {
    form: Form,
    signature: Signature,
}

impl Rewritten {
    pub fn new(form: Form) -> Self {
        Self { form, signature: Signature::user_defined(Volatility::Immutable) }
    }
}

fn is_list(t: &DataType) -> bool {
    matches!(t, DataType::List(_) | DataType::LargeList(_) | DataType::FixedSizeList(..) | DataType::Null)
}

fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View | DataType::Null)
}

impl ScalarUDFImpl for Rewritten {
    fn name(&self) -> &str {
        match self.form {
            Form::SortArray => "sort_array",
            Form::ArraySort => "array_sort",
            Form::Locate(name) => name,
            Form::TryDivide => "try_divide",
            Form::TryElementAt => "try_element_at",
            Form::Get => "get",
            Form::ElementAt => "element_at",
            Form::Sequence => "sequence",
            Form::TypeOf => "typeof",
            Form::RegexpReplace => "regexp_replace",
            Form::MapContainsKey => "map_contains_key",
            Form::Nvl2 => "nvl2",
        }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, t: &[DataType]) -> Result<Vec<DataType>> {
        let ok = match (self.form, t) {
            (Form::SortArray, [a]) | (Form::ArraySort, [a]) => is_list(a),
            (Form::SortArray, [a, b]) => is_list(a) && matches!(b, DataType::Boolean),
            (Form::Locate(_), [a, b]) => is_string(a) && is_string(b),
            (Form::Locate(_), [a, b, p]) => {
                return if is_string(a) && is_string(b) && p.is_integer() {
                    Ok(vec![DataType::Utf8, DataType::Utf8, DataType::Int64])
                } else {
                    plan_err!("{} takes two strings and an integer position", self.name())
                };
            }
            (Form::TryDivide, [a, b]) => (a.is_numeric() || a.is_null()) && (b.is_numeric() || b.is_null()),
            (Form::TryElementAt | Form::Get | Form::ElementAt, [a, k]) if is_list(a) => {
                return if k.is_integer() || k.is_null() {
                    Ok(vec![a.clone(), DataType::Int64])
                } else {
                    plan_err!("[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] an array index must be an integer, not {k}")
                };
            }
            (Form::TryElementAt | Form::ElementAt, [DataType::Map(entries, _), _]) => {
                // The key takes the map's key type.
                let DataType::Struct(fields) = entries.data_type() else {
                    return internal_err!("a map's entries are a struct");
                };
                return Ok(vec![t[0].clone(), fields[0].data_type().clone()]);
            }
            (Form::Sequence, [_, _] | [_, _, _]) => return sequence_types(t),
            (Form::TypeOf, [_]) => true,
            (Form::MapContainsKey, [DataType::Map(entries, _), _]) => {
                // The key takes the map's key type.
                let DataType::Struct(fields) = entries.data_type() else {
                    return internal_err!("a map's entries are a struct");
                };
                return Ok(vec![t[0].clone(), fields[0].data_type().clone()]);
            }
            (Form::RegexpReplace, [_, _, _] | [_, _, _, _]) => {
                let text = |t: &DataType| is_string(t) || t.is_integer();
                return if t[..3].iter().all(text) && t.get(3).is_none_or(|p| p.is_integer()) {
                    let mut types = vec![DataType::Utf8; 3];
                    types.extend(t.get(3).map(|_| DataType::Int64));
                    Ok(types)
                } else {
                    plan_err!(
                        "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] regexp_replace takes three strings and an integer position, not {t:?}"
                    )
                };
            }
            (Form::Nvl2, [x, a, b]) => {
                let Some(common) = datafusion::logical_expr::type_coercion::binary::comparison_coercion(a, b) else {
                    return plan_err!(
                        "[DATATYPE_MISMATCH.DATA_DIFF_TYPES] Cannot resolve \"nvl2\" due to data type mismatch: the branches have different types {a} and {b}."
                    );
                };
                return Ok(vec![x.clone(), common.clone(), common]);
            }
            _ => false,
        };
        if !ok {
            return plan_err!(
                "[DATATYPE_MISMATCH.UNEXPECTED_INPUT_TYPE] Cannot resolve \"{}\" for arguments of types {t:?}",
                self.name()
            );
        }
        Ok(match self.form {
            Form::Locate(_) => vec![DataType::Utf8, DataType::Utf8],
            Form::TryDivide => t.iter().map(|t| if t.is_null() { DataType::Int32 } else { t.clone() }).collect(),
            _ => t.to_vec(),
        })
    }

    fn return_type(&self, t: &[DataType]) -> Result<DataType> {
        Ok(match self.form {
            Form::SortArray | Form::ArraySort => t[0].clone(),
            Form::Locate(_) => DataType::Int32,
            Form::TryDivide => divide_type(&t[0], &t[1])?,
            Form::TryElementAt | Form::Get | Form::ElementAt => match &t[0] {
                DataType::List(f) | DataType::LargeList(f) | DataType::FixedSizeList(f, _) => f.data_type().clone(),
                DataType::Map(entries, _) => match entries.data_type() {
                    DataType::Struct(fields) if fields.len() == 2 => fields[1].data_type().clone(),
                    other => return internal_err!("a map's entries are a struct of two, not {other}"),
                },
                _ => DataType::Null,
            },
            Form::Sequence => DataType::new_list(t[0].clone(), true),
            Form::TypeOf | Form::RegexpReplace => DataType::Utf8,
            Form::MapContainsKey => DataType::Boolean,
            Form::Nvl2 => t[1].clone(),
        })
    }

    fn simplify(&self, mut args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        let expr = match self.form {
            Form::TypeOf => {
                // An interval's fields are in its field's metadata.
                let field = args[0].to_field(info.schema())?.1;
                lit(match crate::interval::Interval::of_field(&field) {
                    Some(i) => i.name(),
                    None => crate::types::simple_string(field.data_type()),
                })
            }
            Form::SortArray | Form::ArraySort => {
                let asc = match args.get(1) {
                    None => true,
                    Some(Expr::Literal(ScalarValue::Boolean(Some(b)), _)) => *b,
                    Some(_) => return plan_err!("the second argument of sort_array must be a boolean literal"),
                };
                let nulls_first = self.form == Form::SortArray && asc;
                args.truncate(1);
                args.push(lit(if asc { "ASC" } else { "DESC" }));
                args.push(lit(if nulls_first { "NULLS FIRST" } else { "NULLS LAST" }));
                datafusion::functions_nested::sort::array_sort_udf().call(args)
            }
            Form::Locate(_) => {
                let pos = if args.len() == 3 { args.pop() } else { None };
                let (Some(s), Some(sub)) = (args.pop(), args.pop()) else {
                    return plan_err!("{} takes a substring and a string", self.name());
                };
                let strpos = |s: Expr, sub: Expr| {
                    datafusion::logical_expr::cast(
                        datafusion::functions::unicode::expr_fn::strpos(s, sub),
                        DataType::Int64,
                    )
                };
                let found = match pos {
                    None | Some(Expr::Literal(ScalarValue::Int64(Some(1)), _)) => strpos(s, sub),
                    Some(pos) => {
                        let in_tail = strpos(datafusion::functions::unicode::expr_fn::substr(s, pos.clone()), sub);
                        Expr::Case(Case::new(
                            None,
                            vec![
                                (Box::new(pos.clone().lt(lit(1i64))), Box::new(lit(0i64))),
                                (Box::new(in_tail.clone().eq(lit(0i64))), Box::new(lit(0i64))),
                            ],
                            Some(Box::new(in_tail + pos - lit(1i64))),
                        ))
                    }
                };
                datafusion::logical_expr::cast(found, DataType::Int32)
            }
            Form::TryDivide => {
                let (Some(r), Some(l)) = (args.pop(), args.pop()) else {
                    return plan_err!("try_divide takes two numbers");
                };
                // Simplified expressions are not type-coerced again: cast
                // both sides to the operand type here.
                let (lt, rt) = (info.get_data_type(&l)?, info.get_data_type(&r)?);
                let operand = match divide_type(&lt, &rt)? {
                    DataType::Float64 => (DataType::Float64, DataType::Float64),
                    _ => BinaryTypeCoercer::new(&lt, &Operator::Divide, &rt).get_input_types()?,
                };
                let zero = ScalarValue::new_zero(&operand.1)?;
                let r = datafusion::functions::core::expr_fn::nullif(
                    datafusion::logical_expr::cast(r, operand.1.clone()),
                    lit(zero),
                );
                datafusion::logical_expr::cast(datafusion::logical_expr::cast(l, operand.0) / r, divide_type(&lt, &rt)?)
            }
            Form::TryElementAt | Form::Get | Form::ElementAt => {
                let (Some(key), Some(base)) = (args.pop(), args.pop()) else {
                    return plan_err!("try_element_at takes a collection and a key");
                };
                match info.get_data_type(&base)? {
                    DataType::Map(..) => super::map_lookup(base, key),
                    _ if self.form == Form::Get => super::array_index::get_item(base, key, false),
                    _ if self.form == Form::ElementAt => super::array_index::element_at(base, key, false),
                    _ => datafusion::functions_nested::expr_fn::array_element(base, key),
                }
            }
            Form::Sequence => {
                let t = info.get_data_type(&args[0])?;
                let (start, stop) = (args[0].clone(), args[1].clone());
                let towards_stop = |up: Expr, down: Expr| {
                    Expr::Case(Case::new(
                        None,
                        vec![(Box::new(start.clone().lt_eq(stop.clone())), Box::new(up))],
                        Some(Box::new(down)),
                    ))
                };
                let series = if t.is_integer() {
                    let step = match args.get(2) {
                        // sequence(1, 1, 0) is [1]; a step away from stop fails.
                        Some(s) => {
                            let zero = || lit(0i64);
                            let s = datafusion::logical_expr::cast(s.clone(), DataType::Int64);
                            let away = (stop.clone().gt(start.clone()).and(s.clone().lt_eq(zero())))
                                .or(stop.clone().lt(start.clone()).and(s.clone().gt_eq(zero())));
                            // Simplified after type coercion: the parts are cast here.
                            let text = |e: &Expr| datafusion::logical_expr::cast(e.clone(), DataType::Utf8);
                            let message = datafusion::functions::string::expr_fn::concat(vec![
                                lit("requirement failed: Illegal sequence boundaries: "),
                                text(&start),
                                lit(" to "),
                                text(&stop),
                                lit(" by "),
                                text(&s),
                            ]);
                            let fail =
                                datafusion::logical_expr::ScalarUDF::from(super::raise::Raise::illegal_argument())
                                    .call(vec![message]);
                            Expr::Case(Case::new(
                                None,
                                vec![
                                    (Box::new(start.clone().eq(stop.clone())), Box::new(lit(1i64))),
                                    (Box::new(away), Box::new(datafusion::logical_expr::cast(fail, DataType::Int64))),
                                ],
                                Some(Box::new(s)),
                            ))
                        }
                        None => towards_stop(lit(1i64), lit(-1i64)),
                    };
                    let i64 = |e: Expr| datafusion::logical_expr::cast(e, DataType::Int64);
                    datafusion::functions_nested::expr_fn::gen_series(i64(start), i64(stop), step)
                } else {
                    let day = |days: i32| lit(ScalarValue::new_interval_mdn(0, days, 0));
                    let step = args.get(2).cloned().unwrap_or_else(|| towards_stop(day(1), day(-1)));
                    // A day-time interval steps dates as the midnights'
                    // timestamps (DataFusion steps dates by whole days of
                    // a calendar interval only).
                    let (start, stop) = match (&t, args.get(2).map(|s| info.get_data_type(s)).transpose()?) {
                        (DataType::Date32, Some(DataType::Duration(_))) => {
                            let ts = DataType::Timestamp(datafusion::arrow::datatypes::TimeUnit::Microsecond, None);
                            (
                                datafusion::logical_expr::cast(start, ts.clone()),
                                datafusion::logical_expr::cast(stop, ts),
                            )
                        }
                        _ => (start, stop),
                    };
                    let mdn = DataType::Interval(datafusion::arrow::datatypes::IntervalUnit::MonthDayNano);
                    datafusion::functions_nested::expr_fn::gen_series(
                        start,
                        stop,
                        datafusion::logical_expr::cast(step, mdn),
                    )
                };
                datafusion::logical_expr::cast(series, DataType::new_list(t, true))
            }
            Form::Nvl2 => {
                let (Some(b), Some(a), Some(x)) = (args.pop(), args.pop(), args.pop()) else {
                    return plan_err!("nvl2 takes three arguments");
                };
                Expr::Case(Case::new(None, vec![(Box::new(x.is_not_null()), Box::new(a))], Some(Box::new(b))))
            }
            Form::MapContainsKey => {
                let (Some(key), Some(map)) = (args.pop(), args.pop()) else {
                    return plan_err!("map_contains_key takes a map and a key");
                };
                datafusion::functions_nested::expr_fn::array_has(
                    datafusion::functions_nested::expr_fn::map_keys(map),
                    key,
                )
            }
            Form::RegexpReplace => {
                let pos = if args.len() == 4 { args.pop() } else { None };
                let (Some(rep), Some(regex), Some(s)) = (args.pop(), args.pop(), args.pop()) else {
                    return plan_err!("regexp_replace takes a string, a regex and a replacement");
                };
                let all = |s: Expr| {
                    datafusion::functions::regex::expr_fn::regexp_replace(s, regex.clone(), rep.clone(), Some(lit("g")))
                };
                let replaced = match pos {
                    None | Some(Expr::Literal(ScalarValue::Int64(Some(1)), _)) => all(s),
                    Some(Expr::Literal(ScalarValue::Int64(Some(p)), _)) if p < 1 => {
                        return plan_err!(
                            "[DATATYPE_MISMATCH.VALUE_OUT_OF_RANGE] The `position` of regexp_replace must be positive, not {p}."
                        );
                    }
                    Some(pos) => {
                        use datafusion::functions::unicode::expr_fn::{character_length, substr, substring};
                        let length = datafusion::logical_expr::cast(character_length(s.clone()), DataType::Int64);
                        // Text before `pos` is kept; past the end, all of it.
                        let head = substring(s.clone(), lit(1i64), pos.clone() - lit(1i64));
                        let tail = all(substr(s.clone(), pos.clone()));
                        // `||`, unlike concat(), is NULL when a side is.
                        let joined = Expr::BinaryExpr(datafusion::logical_expr::BinaryExpr::new(
                            Box::new(head),
                            Operator::StringConcat,
                            Box::new(tail),
                        ));
                        Expr::Case(Case::new(
                            None,
                            vec![(Box::new(pos.gt(length)), Box::new(s))],
                            Some(Box::new(joined)),
                        ))
                    }
                };
                // NULL when any argument is, as in Spark.
                Expr::Case(Case::new(
                    None,
                    vec![(Box::new(regex.is_null().or(rep.is_null())), Box::new(lit(ScalarValue::Utf8(None))))],
                    Some(Box::new(replaced)),
                ))
            }
        };
        Ok(ExprSimplifyResult::Simplified(expr))
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        internal_err!("{} is rewritten before it runs", self.name())
    }
}

/// `sequence`'s argument types: integers of one (the wider) type, or
/// dates or timestamps of one type with an interval step.
fn sequence_types(t: &[DataType]) -> Result<Vec<DataType>> {
    let (start, stop) = (&t[0], &t[1]);
    let integral = |x: &DataType| x.is_integer() || x.is_null();
    let temporal = |x: &DataType| matches!(x, DataType::Date32 | DataType::Timestamp(..) | DataType::Null);
    if integral(start) && integral(stop) && t.get(2).is_none_or(integral) {
        let width = |x: &DataType| x.primitive_width().unwrap_or(0);
        let wider = t.iter().filter(|x| x.is_integer()).max_by_key(|x| width(x)).cloned();
        return Ok(vec![wider.unwrap_or(DataType::Int32); t.len()]);
    }
    let interval = |x: &DataType| matches!(x, DataType::Interval(_) | DataType::Duration(_) | DataType::Null);
    if temporal(start) && temporal(stop) && t.get(2).is_none_or(interval) {
        let bound = if start.is_null() { stop.clone() } else { start.clone() };
        let mut types = vec![bound.clone(), bound];
        if t.len() == 3 {
            // A day-time interval stays one until `simplify` sees it.
            types.push(match &t[2] {
                DataType::Duration(_) => DataType::Duration(datafusion::arrow::datatypes::TimeUnit::Microsecond),
                _ => DataType::Interval(datafusion::arrow::datatypes::IntervalUnit::MonthDayNano),
            });
        }
        return Ok(types);
    }
    plan_err!(
        "[DATATYPE_MISMATCH.SEQUENCE_WRONG_INPUT_TYPES] Cannot resolve \"sequence\" due to data type mismatch: \
         `sequence` uses the wrong parameter type: start and stop must be integers, or dates or timestamps with an \
         interval step; got {t:?}."
    )
}

/// Spark's `/` result type: doubles, except decimal with integral or
/// decimal operands.
fn divide_type(l: &DataType, r: &DataType) -> Result<DataType> {
    if super::divides_as_decimal(l, r) {
        return match BinaryTypeCoercer::new(l, &Operator::Divide, r).get_input_types()? {
            (DataType::Decimal128(p1, s1), DataType::Decimal128(p2, s2)) => {
                let (p, s) = crate::decimal_divide::divide_type(p1, s1, p2, s2);
                Ok(DataType::Decimal128(p, s))
            }
            _ => BinaryTypeCoercer::new(l, &Operator::Divide, r).get_result_type(),
        };
    }
    Ok(DataType::Float64)
}

/// `max_by(x, y)` / `min_by(x, y)`: `x` of the row with the largest
/// (smallest) `y`; rows whose `y` is NULL are skipped; the first such row
/// wins ties. `max_by(x, y, k)`: the `x` of the `k` rows with the largest
/// `y`, largest first (ties in the order the rows came), NULL when no row
/// has a `y`.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct MaxMinBy {
    max: bool,
    signature: Signature,
}

impl MaxMinBy {
    pub fn new(max: bool) -> Self {
        let signature = Signature::one_of(
            vec![datafusion::logical_expr::TypeSignature::Any(2), datafusion::logical_expr::TypeSignature::Any(3)],
            Volatility::Immutable,
        );
        Self { max, signature }
    }
}

impl AggregateUDFImpl for MaxMinBy {
    fn name(&self) -> &str {
        if self.max { "max_by" } else { "min_by" }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        Ok(match arg_types {
            [x, _, _] => DataType::new_list(x.clone(), true),
            _ => arg_types[0].clone(),
        })
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let (x, y) = match args.input_fields {
            [x, y] => (x.data_type().clone(), y.data_type().clone()),
            [x, y, _] => {
                (DataType::new_list(x.data_type().clone(), true), DataType::new_list(y.data_type().clone(), true))
            }
            _ => return plan_err!("{} takes two or three arguments", self.name()),
        };
        Ok(vec![
            Arc::new(Field::new(format!("{}_value", args.name), x, true)),
            Arc::new(Field::new(format!("{}_ordering", args.name), y, true)),
        ])
    }

    fn accumulator(&self, args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        if let [x, y, _] = args.expr_fields {
            let k = args.exprs[2]
                .downcast_ref::<datafusion::physical_expr::expressions::Literal>()
                .and_then(|l| l.value().cast_to(&DataType::Int64).ok())
                .and_then(|v| if let ScalarValue::Int64(Some(k)) = v { usize::try_from(k).ok() } else { None });
            let Some(k) = k.filter(|k| *k >= 1) else {
                return plan_err!("{}'s k must be a positive integer literal", self.name());
            };
            return Ok(Box::new(TopByAccumulator {
                max: self.max,
                k,
                top: vec![],
                value_type: x.data_type().clone(),
                ordering_type: y.data_type().clone(),
            }));
        }
        let [x, y] = args.expr_fields else { return plan_err!("{} takes two arguments", self.name()) };
        Ok(Box::new(ByAccumulator {
            max: self.max,
            value: ScalarValue::try_new_null(x.data_type())?,
            ordering: ScalarValue::try_new_null(y.data_type())?,
        }))
    }
}

#[derive(Debug)]
struct ByAccumulator {
    max: bool,
    value: ScalarValue,
    ordering: ScalarValue,
}

impl ByAccumulator {
    fn offer(&mut self, values: &ArrayRef, orderings: &ArrayRef) -> Result<()> {
        for i in 0..orderings.len() {
            if orderings.is_null(i) {
                continue;
            }
            let y = ScalarValue::try_from_array(orderings, i)?;
            let better = self.ordering.is_null()
                || match y.partial_cmp(&self.ordering) {
                    Some(o) if self.max => o.is_gt(),
                    Some(o) => o.is_lt(),
                    None => false,
                };
            if better {
                self.value = ScalarValue::try_from_array(values, i)?;
                self.ordering = y;
            }
        }
        Ok(())
    }
}

/// `max_by(x, y, k)`'s `k` best (value, ordering) pairs, best first.
#[derive(Debug)]
struct TopByAccumulator {
    max: bool,
    k: usize,
    top: Vec<(ScalarValue, ScalarValue)>,
    value_type: DataType,
    ordering_type: DataType,
}

impl TopByAccumulator {
    fn offer(&mut self, value: ScalarValue, ordering: ScalarValue) {
        // After every pair at least as good: ties keep their arrival order.
        let at = self.top.partition_point(|(_, o)| match o.partial_cmp(&ordering) {
            Some(c) if self.max => c.is_ge(),
            Some(c) => c.is_le(),
            None => true,
        });
        if at < self.k {
            self.top.insert(at, (value, ordering));
            self.top.truncate(self.k);
        }
    }
}

impl Accumulator for TopByAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let [x, y, ..] = values else { return internal_err!("max_by/min_by take three columns") };
        for i in 0..y.len() {
            if y.is_valid(i) {
                self.offer(ScalarValue::try_from_array(x, i)?, ScalarValue::try_from_array(y, i)?);
            }
        }
        Ok(())
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let [xs, ys] = states else { return internal_err!("max_by/min_by's state is two lists") };
        let (xs, ys) = (xs.as_list::<i32>(), ys.as_list::<i32>());
        for row in 0..xs.len() {
            if xs.is_null(row) || ys.is_null(row) {
                continue;
            }
            let (x, y) = (xs.value(row), ys.value(row));
            for i in 0..y.len() {
                self.offer(ScalarValue::try_from_array(&x, i)?, ScalarValue::try_from_array(&y, i)?);
            }
        }
        Ok(())
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        let values: Vec<ScalarValue> = self.top.iter().map(|(v, _)| v.clone()).collect();
        let orderings: Vec<ScalarValue> = self.top.iter().map(|(_, o)| o.clone()).collect();
        Ok(vec![
            ScalarValue::List(ScalarValue::new_list(&values, &self.value_type, true)),
            ScalarValue::List(ScalarValue::new_list(&orderings, &self.ordering_type, true)),
        ])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        if self.top.is_empty() {
            return ScalarValue::try_from(DataType::new_list(self.value_type.clone(), true));
        }
        let values: Vec<ScalarValue> = self.top.iter().map(|(v, _)| v.clone()).collect();
        Ok(ScalarValue::List(ScalarValue::new_list(&values, &self.value_type, true)))
    }

    fn size(&self) -> usize {
        size_of_val(self) + self.top.iter().map(|(v, o)| v.size() + o.size()).sum::<usize>()
    }
}

impl Accumulator for ByAccumulator {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let [x, y] = values else { return internal_err!("max_by/min_by take two columns") };
        self.offer(x, y)
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        self.update_batch(states)
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        Ok(vec![self.value.clone(), self.ordering.clone()])
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        Ok(self.value.clone())
    }

    fn size(&self) -> usize {
        size_of_val(self) + self.value.size() + self.ordering.size()
    }
}
