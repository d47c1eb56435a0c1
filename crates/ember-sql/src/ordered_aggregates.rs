//! `df.orderBy("ts").groupBy("k").agg(first("v"))`: Spark's `first`,
//! `last` and `collect_list` see the rows of a sorted input in its order,
//! so this gives each group's value of the earliest `ts`. DataFusion drops
//! a sort its parent does not require, and `first_value` without an
//! ORDER BY requires none, so the rows arrive in any order.
//! [`OrderedAggregates`] gives such aggregates over a sort that sort's
//! ordering, which keeps the sort.

use datafusion::common::Result;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::Transformed;
use datafusion::logical_expr::expr::{AggregateFunction, Sort};
use datafusion::logical_expr::{Aggregate, Expr, LogicalPlan};
use datafusion::optimizer::AnalyzerRule;

/// Aggregates whose result depends on the order of their input rows.
const ORDER_SENSITIVE: &[&str] = &["first_value", "last_value", "array_agg"];

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
                let Some(order) = input_order(&a.input) else { return Ok(Transformed::no(node)) };
                let aggr_expr = a
                    .aggr_expr
                    .iter()
                    .map(|e| {
                        let Some(f) = unordered_sensitive(e) else { return Ok(e.clone()) };
                        let mut ordered = f.clone();
                        ordered.params.order_by = order.clone();
                        // The output keeps its name: the plan above reads it.
                        let name = e.schema_name().to_string();
                        Ok(Expr::AggregateFunction(ordered).alias(name))
                    })
                    .collect::<Result<Vec<_>>>()?;
                let a = Aggregate::try_new(a.input.clone(), a.group_expr.clone(), aggr_expr)?;
                Ok(Transformed::yes(LogicalPlan::Aggregate(a)))
            })?
            .data)
    }
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

/// The ordering of a sort right below (through projections that keep the
/// sort's columns), as expressions of the aggregate's input.
fn input_order(plan: &LogicalPlan) -> Option<Vec<Sort>> {
    match plan {
        LogicalPlan::Sort(s) if s.fetch.is_none() => {
            s.expr.iter().all(|o| matches!(o.expr, Expr::Column(_))).then(|| s.expr.clone())
        }
        LogicalPlan::Projection(p) => {
            let order = input_order(&p.input)?;
            // Each sort column must pass through the projection unchanged.
            order
                .into_iter()
                .map(|o| {
                    let Expr::Column(c) = &o.expr else { return None };
                    let passed = p.expr.iter().any(|e| matches!(e, Expr::Column(pc) if pc == c));
                    passed.then_some(o)
                })
                .collect()
        }
        LogicalPlan::Filter(f) => input_order(&f.input),
        _ => None,
    }
}
