//! `JOIN ... USING (k)` in SQL as Spark has it. DataFusion's planner
//! keeps the left side's `k` for every join type and lists `SELECT *` in
//! the join's schema order; Spark's `k` is the right side's in a RIGHT
//! join and `coalesce(left.k, right.k)` in a FULL join, and `*` lists the
//! keys first, then the left's other columns, then the right's.
//!
//! The left key keeps its name, so references to `k` (which DataFusion
//! resolved to the left's `k`) see Spark's value; a qualified `left.k`
//! above a RIGHT or FULL join sees it too (in Spark it is the left's own,
//! possibly NULL, value). `*` is told from a list the query spells out by
//! its columns: the planner gives spelled-out identifiers source spans
//! (`sql_parser.collect_spans`), a wildcard's columns have none.

use datafusion::common::Column;
use datafusion::common::tree_node::Transformed;
use datafusion::logical_expr::{Expr, Join, JoinConstraint, JoinType, LogicalPlan, Projection};

use crate::error::Result;

/// Spark's USING-join keys and `*` order throughout a SQL plan.
pub fn using_joins(plan: LogicalPlan) -> Result<LogicalPlan> {
    let plan = plan.transform_up_with_subqueries(|node| match node {
        LogicalPlan::Projection(p) => star_in_spark_order(p),
        node => Ok(Transformed::no(node)),
    })?;
    let plan = plan.data.transform_up_with_subqueries(|node| match node {
        LogicalPlan::Join(j) if matches!(j.join_type, JoinType::Right | JoinType::Full) => outer_keys(j),
        node => Ok(Transformed::no(node)),
    })?;
    Ok(plan.data)
}

/// The (left, right) key columns of a USING join.
fn using_keys(j: &Join) -> Option<Vec<(Column, Column)>> {
    if j.join_constraint != JoinConstraint::Using {
        return None;
    }
    j.on.iter().map(|(l, r)| Some((l.try_as_col()?.clone(), r.try_as_col()?.clone()))).collect()
}

/// A projection listing `*` over a USING join (through filters), with the
/// wildcard's columns in Spark's order.
fn star_in_spark_order(p: Projection) -> datafusion::common::Result<Transformed<LogicalPlan>> {
    let mut below = p.input.as_ref();
    while let LogicalPlan::Filter(f) = below {
        below = f.input.as_ref();
    }
    let LogicalPlan::Join(j) = below else { return Ok(Transformed::no(LogicalPlan::Projection(p))) };
    if using_keys(j).is_none() {
        return Ok(Transformed::no(LogicalPlan::Projection(p)));
    }
    let mut hidden = vec![];
    hidden_keys(below, &mut hidden);
    let star: Vec<Column> = j.schema.columns().into_iter().filter(|c| !hidden.contains(c)).collect();
    let spark = spark_order(below);
    let n = star.len();
    let is_star = |window: &[Expr]| {
        window.iter().zip(&star).all(|(e, c)| matches!(e, Expr::Column(x) if x == c && x.spans().first().is_none()))
    };
    let start = (0..p.expr.len().saturating_sub(n - 1)).find(|&i| is_star(&p.expr[i..i + n]));
    let Some(start) = start.filter(|_| spark != star && n > 0) else {
        return Ok(Transformed::no(LogicalPlan::Projection(p)));
    };
    let mut exprs = p.expr;
    exprs.splice(start..start + n, spark.into_iter().map(Expr::Column));
    Ok(Transformed::yes(LogicalPlan::Projection(Projection::try_new(exprs, p.input)?)))
}

/// The key columns `*` leaves out of a join tree: of each USING join's
/// pair, DataFusion keeps the lesser column (`Column`'s order), whichever
/// side it is on.
fn hidden_keys(plan: &LogicalPlan, out: &mut Vec<Column>) {
    if let LogicalPlan::Join(j) = plan {
        for (l, r) in using_keys(j).into_iter().flatten() {
            if j.schema.has_column(&l) && j.schema.has_column(&r) {
                out.push(if l < r { r } else { l });
            }
        }
        hidden_keys(&j.left, out);
        hidden_keys(&j.right, out);
    }
}

/// Spark's `*` over a join tree: a USING join's keys, then its left's
/// columns, then its right's, each side in its own Spark order.
fn spark_order(plan: &LogicalPlan) -> Vec<Column> {
    let LogicalPlan::Join(j) = plan else { return plan.schema().columns() };
    let (left, right) = (spark_order(&j.left), spark_order(&j.right));
    let order: Vec<Column> = match using_keys(j) {
        Some(keys) => {
            let (lkeys, rkeys): (Vec<Column>, Vec<Column>) = keys.into_iter().unzip();
            let rest_left = left.into_iter().filter(|c| !lkeys.contains(c));
            let rest_right = right.into_iter().filter(|c| !rkeys.contains(c));
            lkeys.iter().cloned().chain(rest_left).chain(rest_right).collect()
        }
        None => left.into_iter().chain(right).collect(),
    };
    order.into_iter().filter(|c| j.schema.has_column(c)).collect()
}

/// A RIGHT or FULL USING join under a projection that gives each left key
/// Spark's value: the right's key, or `coalesce(left, right)`.
fn outer_keys(j: Join) -> datafusion::common::Result<Transformed<LogicalPlan>> {
    let Some(keys) = using_keys(&j) else { return Ok(Transformed::no(LogicalPlan::Join(j))) };
    let full = j.join_type == JoinType::Full;
    let exprs: Vec<Expr> = j
        .schema
        .columns()
        .into_iter()
        .map(|c| match keys.iter().find(|(l, _)| *l == c) {
            Some((l, r)) => {
                let value = if full {
                    datafusion::functions::core::expr_fn::coalesce(vec![
                        Expr::Column(l.clone()),
                        Expr::Column(r.clone()),
                    ])
                } else {
                    Expr::Column(r.clone())
                };
                value.alias_qualified(c.relation.clone(), c.name.clone())
            }
            None => Expr::Column(c),
        })
        .collect();
    let join = std::sync::Arc::new(LogicalPlan::Join(j));
    Ok(Transformed::yes(LogicalPlan::Projection(Projection::try_new(exprs, join)?)))
}
