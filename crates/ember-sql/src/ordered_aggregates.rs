//! `df.orderBy("ts").groupBy("k").agg(first("v"))`: Spark's `first`,
//! `last` and `collect_list` see the rows of a sorted input in its order,
//! so this gives each group's value of the earliest `ts`. DataFusion drops
//! a sort its parent does not require, and `first_value` without an
//! ORDER BY requires none, so the rows arrive in any order.
//! [`OrderedAggregates`] gives such aggregates over a sort the sort's
//! ordering as their own ORDER BY. `collect_list`, which takes none,
//! becomes an ordered `array_agg` that skips NULLs, and `[]` for a group
//! without values, as Spark's is.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::common::{Column, Result, ScalarValue};
use datafusion::logical_expr::expr::{AggregateFunction, NullTreatment, Sort};
use datafusion::logical_expr::{Aggregate, Expr, LogicalPlan, Projection, cast, lit};
use datafusion::optimizer::AnalyzerRule;

/// Aggregates whose result depends on the order of their input rows.
const ORDER_SENSITIVE: &[&str] = &["first_value", "last_value", "array_agg", "collect_list"];

#[derive(Debug, Default)]
pub struct OrderedAggregates;

impl AnalyzerRule for OrderedAggregates {
    fn name(&self) -> &str {
        "ordered_aggregates"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        Ok(plan
            .transform_up_with_subqueries(|node| {
                let LogicalPlan::Aggregate(a) = &node else { return Ok(Transformed::no(node)) };
                if !a.aggr_expr.iter().any(|e| unordered_sensitive(e).is_some()) {
                    return Ok(Transformed::no(node));
                }
                let Some((input, order)) = ordered_input(&a.input)? else { return Ok(Transformed::no(node)) };
                // Each collect_list made an array_agg: its output index and type.
                let first_aggr = a.schema.fields().len() - a.aggr_expr.len();
                let mut lists: Vec<(usize, DataType)> = vec![];
                let aggr_expr = a
                    .aggr_expr
                    .iter()
                    .enumerate()
                    .map(|(i, e)| {
                        let Some(f) = unordered_sensitive(e) else { return Ok(e.clone()) };
                        let mut ordered = f.clone();
                        ordered.params.order_by = order.clone();
                        if f.func.name() == "collect_list" {
                            ordered.func = datafusion::functions_aggregate::array_agg::array_agg_udaf();
                            ordered.params.null_treatment = Some(NullTreatment::IgnoreNulls);
                            lists.push((first_aggr + i, a.schema.field(first_aggr + i).data_type().clone()));
                        }
                        // The output keeps its name: the plan above reads it.
                        let name = e.schema_name().to_string();
                        Ok(Expr::AggregateFunction(ordered).alias(name))
                    })
                    .collect::<Result<Vec<_>>>()?;
                let aggregate =
                    LogicalPlan::Aggregate(Aggregate::try_new(Arc::new(input), a.group_expr.clone(), aggr_expr)?);
                if lists.is_empty() {
                    return Ok(Transformed::yes(aggregate));
                }
                Ok(Transformed::yes(empty_lists_for_no_values(aggregate, &lists)?))
            })?
            .data)
    }
}

/// A projection of `aggregate` in which each listed array_agg column is
/// `[]` where the group had no values (array_agg gives NULL), in the type
/// collect_list had.
fn empty_lists_for_no_values(aggregate: LogicalPlan, lists: &[(usize, DataType)]) -> Result<LogicalPlan> {
    let exprs = aggregate
        .schema()
        .iter()
        .enumerate()
        .map(|(i, (qualifier, field))| {
            let column = Expr::Column(Column::from((qualifier, field)));
            let Some((_, list_type)) = lists.iter().find(|(at, _)| *at == i) else { return Ok(column) };
            let DataType::List(element) = list_type else { return Ok(column) };
            let empty = ScalarValue::List(ScalarValue::new_list_nullable(&[], element.data_type()));
            let filled =
                datafusion::functions::core::expr_fn::coalesce(vec![cast(column, list_type.clone()), lit(empty)]);
            Ok(filled.alias_qualified(qualifier.cloned(), field.name()))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(LogicalPlan::Projection(Projection::try_new(exprs, Arc::new(aggregate))?))
}

/// The order-sensitive aggregate call `e` makes, when it has no ordering
/// of its own.
fn unordered_sensitive(e: &Expr) -> Option<&AggregateFunction> {
    let e = match e {
        Expr::Alias(a) => a.expr.as_ref(),
        e => e,
    };
    match e {
        Expr::AggregateFunction(f)
            if f.params.order_by.is_empty() && ORDER_SENSITIVE.contains(&f.func.name()) && !f.params.distinct =>
        {
            Some(f)
        }
        _ => None,
    }
}

/// The aggregate's input with a sort right below it (through filters and
/// projections) and that sort's ordering; projections that dropped a sort
/// column list it again, so the aggregate can order by it.
fn ordered_input(plan: &LogicalPlan) -> Result<Option<(LogicalPlan, Vec<Sort>)>> {
    Ok(match plan {
        LogicalPlan::Sort(s) if s.fetch.is_none() && s.expr.iter().all(|o| matches!(o.expr, Expr::Column(_))) => {
            Some((plan.clone(), s.expr.clone()))
        }
        LogicalPlan::Filter(f) => match ordered_input(&f.input)? {
            Some((input, order)) => {
                let filter = datafusion::logical_expr::Filter::try_new(f.predicate.clone(), Arc::new(input))?;
                Some((LogicalPlan::Filter(filter), order))
            }
            None => None,
        },
        LogicalPlan::Projection(p) => {
            let Some((input, order)) = ordered_input(&p.input)? else { return Ok(None) };
            let mut exprs = p.expr.clone();
            for o in &order {
                let Expr::Column(c) = &o.expr else { return Ok(None) };
                if exprs.iter().any(|e| matches!(e, Expr::Column(pc) if pc == c)) {
                    continue;
                }
                // A column of that name the projection makes otherwise.
                if p.schema.fields().iter().any(|f| f.name() == &c.name) {
                    return Ok(None);
                }
                exprs.push(Expr::Column(c.clone()));
            }
            Some((LogicalPlan::Projection(Projection::try_new(exprs, Arc::new(input))?), order))
        }
        _ => None,
    })
}
