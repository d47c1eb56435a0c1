//! `groupBy(...).agg(...)`, rollup, cube, grouping sets and pivot.
//!
//! Spark's aggregate expressions may wrap aggregate functions
//! (`sum(x) + 1`): the functions are computed by one Aggregate node and
//! the expressions projected over its output.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{Column, ScalarValue};
use datafusion::logical_expr::expr::{AggregateFunction, Case};
use datafusion::logical_expr::utils::find_aggregate_exprs;
use datafusion::logical_expr::{Expr, GroupingSet, LogicalPlan, LogicalPlanBuilder, cast, lit};
use ember_common::SparkError;
use spark_connect_proto as sc;
use spark_connect_proto::aggregate::GroupType;

use super::Planner;
use super::basic::columnize;
use crate::error::{Result, analysis};
use crate::expr::{NamedExpr, strip_alias};

impl Planner<'_> {
    pub(super) async fn aggregate(&mut self, a: &sc::Aggregate) -> Result<LogicalPlan> {
        let input = self.input(&a.input).await?;
        if matches!(a.group_type(), GroupType::Groupby | GroupType::Unspecified)
            && a.aggregate_expressions.iter().any(|e| crate::python::map::grouped_agg_udf(e).is_some())
        {
            return self.python_aggregate(input, &a.grouping_expressions, &a.aggregate_expressions);
        }
        let mut schema = input.schema().clone();
        let mut groups = self.projection(&a.grouping_expressions, &schema)?;
        let mut input = input;
        if groups.iter().any(|g| crate::functions::time_window::is_windows(&strip_alias(g.expr.clone()))) {
            (input, groups) = self.generated_groups(input, groups)?;
            schema = input.schema().clone();
        }
        let mut aggs = vec![];
        for e in &a.aggregate_expressions {
            aggs.push(self.expr(e, &schema)?.at_top());
        }
        let group_exprs: Vec<Expr> = groups.iter().map(|g| strip_alias(g.expr.clone())).collect();
        let (grouping, has_grouping_id) = match a.group_type() {
            GroupType::Groupby | GroupType::Unspecified => (group_exprs.clone(), false),
            GroupType::Rollup => (vec![Expr::GroupingSet(GroupingSet::Rollup(group_exprs.clone()))], true),
            GroupType::Cube => (vec![Expr::GroupingSet(GroupingSet::Cube(group_exprs.clone()))], true),
            GroupType::GroupingSets => {
                let mut sets = vec![];
                for s in &a.grouping_sets {
                    let mut set = vec![];
                    for e in &s.grouping_set {
                        set.push(strip_alias(self.expr(e, &schema)?.expr));
                    }
                    sets.push(set);
                }
                (vec![Expr::GroupingSet(GroupingSet::GroupingSets(sets))], true)
            }
            GroupType::Pivot => {
                let pivot = a.pivot.as_ref().ok_or_else(|| analysis("pivot without a pivot column"))?;
                aggs = self.pivot_aggregates(&input, pivot, aggs).await?;
                (group_exprs.clone(), false)
            }
        };
        self.plan_aggregate(input, groups, grouping, aggs, has_grouping_id)
    }

    /// Groups that make rows (`groupBy(window(t, "10 minutes", "5
    /// minutes"))`, one row per window a row is in): they are unnested
    /// below the aggregate, which groups by the columns they make, as
    /// Spark's TimeWindowing expands rows before aggregating.
    fn generated_groups(
        &mut self,
        input: LogicalPlan,
        groups: Vec<NamedExpr>,
    ) -> Result<(LogicalPlan, Vec<NamedExpr>)> {
        let mut unnests = vec![];
        let mut out = Vec::with_capacity(groups.len());
        for (i, g) in groups.into_iter().enumerate() {
            let e = strip_alias(g.expr.clone());
            if !crate::functions::time_window::is_windows(&e) {
                out.push(g);
                continue;
            }
            let column = format!("__ember_group_{i}");
            unnests.push(NamedExpr::new(e, column.clone()));
            out.push(NamedExpr::new(Expr::Column(Column::from_name(column)), g.name));
        }
        Ok((self.unnest_below(input, unnests)?, out))
    }

    /// Plans Aggregate + Projection: group columns first, then `aggs`.
    pub(crate) fn plan_aggregate(
        &mut self,
        input: LogicalPlan,
        groups: Vec<NamedExpr>,
        grouping: Vec<Expr>,
        aggs: Vec<NamedExpr>,
        has_grouping_id: bool,
    ) -> Result<LogicalPlan> {
        let agg_exprs: Vec<Expr> = aggs.iter().map(|n| strip_alias(n.expr.clone())).collect();
        let agg_fns = find_aggregate_exprs(&agg_exprs);
        for (n, e) in aggs.iter().zip(&agg_exprs) {
            let residual = columnize(e.clone(), &agg_fns)?;
            if contains_unaggregated_column(&residual, &groups) {
                return Err(SparkError::with_class(
                    ember_common::ExceptionClass::Analysis,
                    "MISSING_AGGREGATION",
                    "42803",
                    format!("The non-aggregating expression \"{}\" is based on columns which are not participating in the GROUP BY clause.", n.name),
                )
                .into());
            }
        }
        let plan = LogicalPlanBuilder::from(input).aggregate(grouping, agg_fns.clone())?.build()?;
        let mut out = vec![];
        for g in groups {
            let e = strip_alias(g.expr);
            let col = match &e {
                Expr::Column(_) => e,
                other => Expr::Column(Column::from_name(other.schema_name().to_string())),
            };
            out.push(NamedExpr::new(col, g.name));
        }
        for n in aggs {
            let mut e = columnize(strip_alias(n.expr), &agg_fns)?;
            if has_grouping_id {
                e = e
                    .transform_up(|x| match &x {
                        Expr::Column(c) if c.name == "__grouping_id" => Ok(Transformed::yes(cast(x, DataType::Int64))),
                        _ => Ok(Transformed::no(x)),
                    })?
                    .data;
            }
            out.push(NamedExpr::new(e, n.name));
        }
        self.project_named(plan, out)
    }

    /// One aggregate per (pivot value, aggregate): `agg FILTER (WHERE pivot = v)`,
    /// null where no row has the value, as Spark's pivot gives.
    async fn pivot_aggregates(
        &mut self,
        input: &LogicalPlan,
        pivot: &sc::aggregate::Pivot,
        aggs: Vec<NamedExpr>,
    ) -> Result<Vec<NamedExpr>> {
        let schema = input.schema().clone();
        let pcol = match &pivot.col {
            Some(c) => strip_alias(self.expr(c, &schema)?.expr),
            None => return Err(analysis("pivot without a column")),
        };
        let tz = self.session.time_zone();
        let mut values: Vec<(ScalarValue, String)> = vec![];
        for v in &pivot.values {
            values.push(crate::literal::literal(v, &tz)?);
        }
        if values.is_empty() {
            // Spark collects the distinct values, sorted, when none are given.
            let distinct = LogicalPlanBuilder::from(input.clone())
                .project(vec![pcol.clone().alias("v")])?
                .distinct()?
                .sort(vec![Expr::Column(Column::from_name("v")).sort(true, true)])?
                .build()?;
            for b in self.collect(distinct).await? {
                for r in 0..b.num_rows() {
                    let s = ScalarValue::try_from_array(b.column(0), r)?;
                    let name = crate::display::cell(b.column(0), r);
                    values.push((s, name));
                }
            }
        }
        let count = self.aggregate_call("count", vec![lit(1i32)], false)?;
        let mut out = vec![];
        for (v, vname) in &values {
            // A NULL pivot value names its columns `null`, as Spark does.
            let vname = if v.is_null() { "null" } else { vname.as_str() };
            let cond =
                if v.is_null() { pcol.clone().is_null() } else { pcol.clone().eq(Expr::Literal(v.clone(), None)) };
            let present = with_filter(count.clone(), &cond)?.gt(lit(0i64));
            for a in &aggs {
                let filtered = with_filter(strip_alias(a.expr.clone()), &cond)?;
                let e = Expr::Case(Case::new(None, vec![(Box::new(present.clone()), Box::new(filtered))], None));
                let name = if aggs.len() == 1 { vname.to_string() } else { format!("{vname}_{}", a.name) };
                out.push(NamedExpr::new(e, name));
            }
        }
        Ok(out)
    }
}

/// Adds `FILTER (WHERE cond)` to every aggregate function in `e`.
fn with_filter(e: Expr, cond: &Expr) -> Result<Expr> {
    Ok(e.transform_up(|x| match x {
        Expr::AggregateFunction(AggregateFunction { func, mut params }) => {
            params.filter = Some(Box::new(match params.filter.take() {
                Some(f) => f.as_ref().clone().and(cond.clone()),
                None => cond.clone(),
            }));
            Ok(Transformed::yes(Expr::AggregateFunction(AggregateFunction { func, params })))
        }
        other => Ok(Transformed::no(other)),
    })?
    .data)
}

/// Whether `e` (with aggregates already replaced) still reads an input
/// column that is not a grouping expression.
fn contains_unaggregated_column(e: &Expr, groups: &[NamedExpr]) -> bool {
    let group_cols: Vec<Expr> = groups.iter().map(|g| strip_alias(g.expr.clone())).collect();
    let mut bad = false;
    let _ = e.apply(|x| {
        if group_cols.contains(x) {
            return Ok(datafusion::common::tree_node::TreeNodeRecursion::Jump);
        }
        if let Expr::Column(c) = x {
            let is_agg_output = c.relation.is_none() && (c.name.contains('(') || c.name == "__grouping_id");
            if !is_agg_output && !group_cols.iter().any(|g| matches!(g, Expr::Column(gc) if gc.name == c.name)) {
                bad = true;
            }
        }
        Ok(datafusion::common::tree_node::TreeNodeRecursion::Continue)
    });
    bad
}
