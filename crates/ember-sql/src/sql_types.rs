//! Spark's types for what DataFusion's SQL planner builds differently:
//!
//! - an integer literal is `int` when it fits 32 bits (`SELECT 1` is int,
//!   `3000000000` bigint); DataFusion makes every one a bigint, which turns
//!   `int_col * 2` and `VALUES (1)` into bigints.
//! - `TIMESTAMP '...'` and `CAST(x AS TIMESTAMP)` are Spark's `timestamp`
//!   (microseconds, in the session time zone); DataFusion's is a
//!   zone-less nanosecond timestamp (Spark's `timestamp_ntz`).
//! - `CAST(double AS STRING)` prints as Java does (`1.0E20`), and
//!   `CAST(timestamp AS STRING)` as Spark does (`2024-01-01 12:00:00`).
//! - `/` divides integers as doubles (`7 / 2` is 3.5, not 3), and under
//!   ANSI a zero divisor is `DIVIDE_BY_ZERO`, as in DataFrame plans
//!   ([`crate::functions::spark_divide`]).
//! - under ANSI, integer `+ - *` raise `ARITHMETIC_OVERFLOW` rather than
//!   wrap, and `%` by zero raises `REMAINDER_BY_ZERO` (NULL otherwise)
//!   ([`crate::functions::spark_arithmetic`]); `a div 0` is NULL without
//!   ANSI.
//! - under ANSI, `sum` of integers raises `ARITHMETIC_OVERFLOW` rather
//!   than wrap ([`crate::functions::checked_sum`]).
//!
//! Applied to plans of SQL text before analysis, so DataFusion's type
//! coercion sees Spark's operand types.

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, TimeUnit};
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, DFSchema, Result as DFResult, ScalarValue};
use datafusion::logical_expr::expr::{Cast, TryCast};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::type_coercion::binary::type_union_resolution;
use datafusion::logical_expr::{BinaryExpr, Expr, ExprSchemable, LogicalPlan, Operator, Projection, Values};

use crate::error::Result;

/// What the rewrite needs from the session.
#[derive(Clone, Copy)]
pub struct SqlTypes<'a> {
    /// `spark.sql.ansi.enabled`.
    pub ansi: bool,
    /// `spark.sql.session.timeZone`.
    pub time_zone: &'a str,
}

/// Spark's literal, timestamp and division types throughout a SQL plan
/// (subqueries included).
pub fn spark_sql_types(plan: LogicalPlan, how: SqlTypes) -> Result<LogicalPlan> {
    let mut generated = HashMap::new();
    Ok(plan.transform_up_with_subqueries(|node| rewrite_node(node, how, &mut generated))?.data)
}

/// [`spark_sql_types`] for one expression over `schema`.
pub fn spark_expr_types(e: Expr, schema: &DFSchema, how: SqlTypes) -> Result<Expr> {
    let t = e.transform_up(|x| rewrite_expr(x, schema, how))?;
    let t = if t.transformed { t.transform_data(|e| e.resolve_lambda_variables(schema))? } else { t };
    Ok(t.data)
}

/// `generated` holds the columns each generator item below became, by the
/// item's planned name.
fn rewrite_node(
    node: LogicalPlan,
    how: SqlTypes,
    generated: &mut HashMap<String, Vec<String>>,
) -> DFResult<Transformed<LogicalPlan>> {
    let node = match node {
        LogicalPlan::Projection(p) if !generated.is_empty() => generated_columns(p, generated)?,
        node => node,
    };
    match node {
        // LIMIT and OFFSET take bigint literals.
        LogicalPlan::Limit(_) => Ok(Transformed::no(node)),
        LogicalPlan::Values(v) => values(v, how),
        // A union keeps its first schema; its inputs' types may have changed.
        LogicalPlan::Union(u) => {
            let schema = datafusion::optimizer::analyzer::type_coercion::coerce_union_schema(&u.inputs)?;
            let changed = schema.fields() != u.schema.fields();
            let union =
                LogicalPlan::Union(datafusion::logical_expr::Union { inputs: u.inputs, schema: Arc::new(schema) });
            Ok(if changed { Transformed::yes(union) } else { Transformed::no(union) })
        }
        node => {
            let Some(schema) = crate::decimal_divide::expression_schema(&node)? else {
                return Ok(Transformed::no(node));
            };
            let bare_generators: Vec<bool> = match &node {
                LogicalPlan::Projection(p) => {
                    p.expr.iter().map(|e| crate::plan::generate::generator_call(e).is_some()).collect()
                }
                _ => vec![],
            };
            let preserver = NamePreserver::new(&node);
            let t = node.map_expressions(|e| {
                let saved = preserver.save(&e);
                let t = e.transform_up(|x| rewrite_expr(x, &schema, how))?;
                // Lambda variables carry the types they were planned with,
                // which the input's new types (`1` an int) may change.
                let has_lambda = |e: &Expr| e.exists(|x| Ok(matches!(x, Expr::Lambda(_)))).unwrap_or(false);
                let t = if t.transformed || has_lambda(&t.data) {
                    t.transform_data(|e| e.resolve_lambda_variables(&schema))?
                } else {
                    t
                };
                Ok(t.update_data(|e| saved.restore(e)))
            })?;
            // A node caches its schema: recompute it for its own new types
            // and its inputs' (which this bottom-up pass may have changed).
            let t = t.map_data(|p| p.recompute_schema())?;
            // explode & co. in a SELECT list add an unnest below it.
            match &t.data {
                LogicalPlan::Projection(p) => match crate::plan::generate::sql_projection(p, &bare_generators)? {
                    Some((plan, replaced)) => {
                        generated.extend(replaced);
                        Ok(Transformed::yes(plan))
                    }
                    None => Ok(t),
                },
                _ => Ok(t),
            }
        }
    }
}

/// A projection listing a generator's planned column by name (`SELECT *`
/// over a subquery that explodes) lists the columns it became.
fn generated_columns(p: Projection, generated: &HashMap<String, Vec<String>>) -> DFResult<LogicalPlan> {
    let stale =
        |e: &Expr| matches!(e, Expr::Column(c) if generated.contains_key(&c.name) && !p.input.schema().has_column(c));
    if !p.expr.iter().any(stale) {
        return Ok(LogicalPlan::Projection(p));
    }
    let mut exprs = Vec::with_capacity(p.expr.len());
    for e in &p.expr {
        match e {
            Expr::Column(c) if stale(e) => exprs
                .extend(generated[&c.name].iter().map(|n| Expr::Column(Column::new(c.relation.clone(), n.clone())))),
            e => exprs.push(e.clone()),
        }
    }
    Ok(LogicalPlan::Projection(Projection::try_new(exprs, p.input)?))
}

/// A SQL cast's target as Spark means it: TIMESTAMP is the session zone's,
/// in microseconds.
fn spark_target(t: &DataType, how: SqlTypes) -> DataType {
    match t {
        DataType::Timestamp(u, None) if *u != TimeUnit::Microsecond => spark_timestamp(how),
        other => other.clone(),
    }
}

fn rewrite_expr(e: Expr, schema: &DFSchema, how: SqlTypes) -> DFResult<Transformed<Expr>> {
    let ansi = how.ansi;
    // Numbers and timestamps convert as seconds since the epoch.
    if let Expr::Cast(Cast { expr, field }) | Expr::TryCast(TryCast { expr, field }) = &e
        && let Some(epoch) = crate::functions::epoch_cast(expr, &spark_target(field.data_type(), how), schema)
    {
        return Ok(Transformed::yes(epoch));
    }
    Ok(match e {
        Expr::Cast(c) if c.field.data_type() == &DataType::Utf8 => {
            match crate::functions::string_cast(&c.expr, &DataType::Utf8, schema) {
                Some(e) => Transformed::yes(e),
                None => Transformed::no(Expr::Cast(c)),
            }
        }
        // SQL's TIMESTAMP is the session's zone's; TIMESTAMP_NTZ, in
        // microseconds (`crate::dialect`), has none.
        Expr::Cast(c) if matches!(c.field.data_type(), DataType::Timestamp(u, None) if *u != TimeUnit::Microsecond) => {
            Transformed::yes(Expr::Cast(Cast::new(c.expr, spark_timestamp(how))))
        }
        Expr::TryCast(c) if matches!(c.field.data_type(), DataType::Timestamp(u, None) if *u != TimeUnit::Microsecond) => {
            Transformed::yes(Expr::TryCast(TryCast::new(c.expr, spark_timestamp(how))))
        }
        // Spark's ranking window functions give int; DataFusion's unsigned.
        Expr::Column(c)
            if ["row_number(", "rank(", "dense_rank(", "ntile("].iter().any(|f| c.name.starts_with(f))
                && matches!(
                    datafusion::common::ExprSchema::field_from_column(schema, &c).map(|f| f.data_type().clone()),
                    Ok(DataType::UInt64)
                ) =>
        {
            Transformed::yes(datafusion::logical_expr::cast(Expr::Column(c), DataType::Int32))
        }
        Expr::Literal(ScalarValue::Int64(Some(v)), meta) if i32::try_from(v).is_ok() => {
            Transformed::yes(Expr::Literal(ScalarValue::Int32(Some(v as i32)), meta))
        }
        Expr::BinaryExpr(BinaryExpr { left, op: Operator::Divide, right }) => {
            let integral = |e: &Expr| e.get_type(schema).map(|t| t.is_integer()).unwrap_or(false);
            if (integral(&left) && integral(&right)) || (ansi && !crate::functions::is_checked_divisor(&right)) {
                Transformed::yes(crate::functions::spark_divide(*left, *right, schema, ansi)?)
            } else {
                Transformed::no(Expr::BinaryExpr(BinaryExpr { left, op: Operator::Divide, right }))
            }
        }
        Expr::BinaryExpr(BinaryExpr { left, op, right })
            if matches!(op, Operator::Plus | Operator::Minus | Operator::Multiply | Operator::Modulo) =>
        {
            let integral = |e: &Expr| e.get_type(schema).map(|t| t.is_integer()).unwrap_or(false);
            if op == Operator::Modulo || (ansi && integral(&left) && integral(&right)) {
                Transformed::yes(crate::functions::spark_arithmetic(*left, op, *right, schema, ansi)?)
            } else {
                Transformed::no(Expr::BinaryExpr(BinaryExpr { left, op, right }))
            }
        }
        // Without ANSI, `a div 0` is NULL.
        Expr::ScalarFunction(mut f) if !ansi && f.func.name() == "div" && f.args.len() == 2 => {
            let zero = Expr::Literal(ScalarValue::Int32(Some(0)), None);
            f.args[1] = datafusion::functions::core::expr_fn::nullif(f.args[1].clone(), zero);
            Transformed::yes(Expr::ScalarFunction(f))
        }
        // `arr[i]` is 0-based in Spark; element_at of an array raises
        // under ANSI.
        Expr::ScalarFunction(f) if f.func.name() == "array_element" => {
            let e = Expr::ScalarFunction(f);
            match crate::functions::array_index::sql_subscript(&e, ansi) {
                Some(e) => Transformed::yes(e),
                None => Transformed::no(e),
            }
        }
        Expr::ScalarFunction(f)
            if ansi && f.func.name() == "element_at" && f.args.len() == 2 && {
                let t = f.args[0].get_type(schema);
                matches!(t, Ok(DataType::List(_) | DataType::LargeList(_)))
            } =>
        {
            let (base, index) = (f.args[0].clone(), f.args[1].clone());
            Transformed::yes(crate::functions::array_index::element_at(base, index, true))
        }
        // Under ANSI, a sum of integers fails on overflow.
        Expr::AggregateFunction(f) if ansi && f.func.name() == "sum" => {
            match crate::functions::checked_sum::checked(&f, schema) {
                Some(e) => Transformed::yes(e),
                None => Transformed::no(Expr::AggregateFunction(f)),
            }
        }
        Expr::WindowFunction(mut w) if ansi && crate::functions::checked_sum::is_integral_sum(&w, schema) => {
            crate::functions::checked_sum::checked_window(&mut w);
            Transformed::yes(Expr::WindowFunction(w))
        }
        e => Transformed::no(e),
    })
}

fn spark_timestamp(how: SqlTypes) -> DataType {
    DataType::Timestamp(TimeUnit::Microsecond, Some(how.time_zone.into()))
}

/// `VALUES`: each row's expressions get Spark's types ([`rewrite_expr`]:
/// `1` is an int, `array(1, 2)` an array of ints), and each column the
/// common type of its rows, NULLs taking any.
fn values(v: Values, how: SqlTypes) -> DFResult<Transformed<LogicalPlan>> {
    let empty = DFSchema::empty();
    let mut changed = false;
    let mut rows: Vec<Vec<Expr>> = Vec::with_capacity(v.values.len());
    for row in v.values {
        let mut out = Vec::with_capacity(row.len());
        for e in row {
            let t = e.transform_up(|x| rewrite_expr(x, &empty, how))?;
            changed |= t.transformed;
            out.push(t.data);
        }
        rows.push(out);
    }
    let is_null = |e: &Expr| matches!(e, Expr::Literal(s, _) if s.is_null());
    // The planner cast every value to its column type: a value's own type
    // is the one below that cast.
    let unwrap_casts = |rows: &mut Vec<Vec<Expr>>| {
        for (i, f) in v.schema.fields().iter().enumerate() {
            for row in rows.iter_mut() {
                if let Some(Expr::Cast(c)) = row.get(i)
                    && c.field.data_type() == f.data_type()
                {
                    row[i] = c.expr.as_ref().clone();
                }
            }
        }
    };
    let mut own = rows.clone();
    unwrap_casts(&mut own);
    let column_types = |rows: &[Vec<Expr>], i: usize| {
        rows.iter()
            .filter_map(|r| r.get(i).filter(|e| !is_null(e)))
            .map(|e| e.get_type(&empty))
            .collect::<DFResult<Vec<_>>>()
    };
    // A column of decimals and doubles is double in Spark (DataFusion
    // makes it a decimal).
    let float_and_decimal = |types: &[DataType]| {
        types.iter().any(|t| matches!(t, DataType::Float32 | DataType::Float64))
            && types.iter().any(|t| matches!(t, DataType::Decimal128(..) | DataType::Decimal256(..)))
    };
    let mut mixed = vec![];
    for i in 0..v.schema.fields().len() {
        mixed.push(float_and_decimal(&column_types(&own, i)?));
    }
    if !changed && !mixed.contains(&true) {
        return Ok(Transformed::no(LogicalPlan::Values(Values { schema: v.schema, values: rows })));
    }
    for (row, own) in rows.iter_mut().zip(own) {
        for (i, e) in own.into_iter().enumerate() {
            if mixed.get(i) == Some(&true) {
                row[i] = e;
            }
        }
    }
    let mut fields = Vec::with_capacity(v.schema.fields().len());
    for (i, (q, f)) in v.schema.iter().enumerate() {
        let types = column_types(&rows, i)?;
        let column_type = if mixed[i] {
            DataType::Float64
        } else {
            type_union_resolution(&types).unwrap_or_else(|| f.data_type().clone())
        };
        for row in rows.iter_mut() {
            if let Some(e) = row.get_mut(i)
                && e.get_type(&empty)? != column_type
            {
                let value = std::mem::replace(e, Expr::Literal(ScalarValue::Null, None));
                *e = Expr::Cast(Cast::new(Box::new(value), column_type.clone()));
            }
        }
        let nullable = f.is_nullable() || rows.iter().any(|r| r.get(i).is_some_and(is_null));
        fields.push((q.cloned(), Arc::new(Field::new(f.name(), column_type, nullable))));
    }
    let schema = Arc::new(DFSchema::new_with_metadata(fields, v.schema.metadata().clone())?);
    Ok(Transformed::yes(LogicalPlan::Values(Values { schema, values: rows })))
}
