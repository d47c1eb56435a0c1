//! Spark's result type for decimal division, as an analyzer rule so SQL
//! and DataFrame plans both get it: `d1(p1,s1) / d2(p2,s2)` has scale
//! `max(6, s1 + p2 + 1)` and precision `p1 - s1 + s2 + scale`, reduced to
//! at most 38 digits keeping at least 6 of scale (Spark's
//! `DecimalPrecision` with `allowPrecisionLoss`). DataFusion keeps more
//! scale; the result is cast (rounding half-up) to Spark's type.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{DFSchema, Result};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{BinaryExpr, Expr, ExprSchemable, LogicalPlan, Operator, cast};
use datafusion::optimizer::AnalyzerRule;

#[derive(Debug, Default)]
pub struct SparkDecimalDivide;

/// Spark's decimal(p, s) for `d1 / d2`.
pub fn divide_type(p1: u8, s1: i8, p2: u8, s2: i8) -> (u8, i8) {
    let (p1, s1, p2, s2) = (i32::from(p1), i32::from(s1), i32::from(p2), i32::from(s2));
    let scale = 6.max(s1 + p2 + 1);
    let precision = p1 - s1 + s2 + scale;
    if precision <= 38 {
        return (precision as u8, scale as i8);
    }
    let int_digits = precision - scale;
    let min_scale = scale.min(6);
    let scale = (38 - int_digits).max(min_scale);
    (38, scale as i8)
}

impl AnalyzerRule for SparkDecimalDivide {
    fn name(&self) -> &str {
        "spark_decimal_divide"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        Ok(plan.transform_up_with_subqueries(rewrite_node)?.data)
    }
}

/// The schema a node's expressions are typed against: its input's (both
/// inputs' for a join); `None` for a leaf.
pub(crate) fn expression_schema(node: &LogicalPlan) -> Result<Option<DFSchema>> {
    Ok(match (node, node.inputs().as_slice()) {
        (_, []) => None,
        (LogicalPlan::Join(_), [l, r]) => Some(l.schema().join(r.schema())?),
        (_, [first, ..]) => Some(first.schema().as_ref().clone()),
    })
}

fn rewrite_node(node: LogicalPlan) -> Result<Transformed<LogicalPlan>> {
    if node.expressions().is_empty() {
        return Ok(Transformed::no(node));
    }
    let Some(schema) = expression_schema(&node)? else { return Ok(Transformed::no(node)) };
    let preserver = NamePreserver::new(&node);
    let t = node.map_expressions(|e| {
        let saved = preserver.save(&e);
        let rewritten = e.transform_up(|x| rewrite_divide(x, &schema))?;
        Ok(rewritten.update_data(|e| saved.restore(e)))
    })?;
    // A node caches its output schema: recompute it for the new types.
    if t.transformed { t.map_data(|p| p.recompute_schema()) } else { Ok(t) }
}

fn rewrite_divide(e: Expr, schema: &DFSchema) -> Result<Transformed<Expr>> {
    let Expr::BinaryExpr(BinaryExpr { left, op: Operator::Divide, right }) = &e else {
        return Ok(Transformed::no(e));
    };
    let (Ok(DataType::Decimal128(p1, s1)), Ok(DataType::Decimal128(p2, s2))) =
        (left.get_type(schema), right.get_type(schema))
    else {
        return Ok(Transformed::no(e));
    };
    let (p, s) = divide_type(p1, s1, p2, s2);
    let target = DataType::Decimal128(p, s);
    if e.get_type(schema).ok().as_ref() == Some(&target) {
        return Ok(Transformed::no(e));
    }
    // Arrow divides at the numerator's scale + 4, truncating. A numerator
    // of scale s - 3 gives the quotient one digit beyond Spark's scale,
    // which the cast to Spark's type rounds half-up; dividing at a smaller
    // scale and widening would pad zeros (1/3 as 0.3333330000000).
    let want = i32::from(s) - 3;
    let widened = i32::from(p1) + want - i32::from(s1);
    if want > i32::from(s1) && widened <= 38 {
        let Expr::BinaryExpr(BinaryExpr { left, op, right }) = e else { return Ok(Transformed::no(e)) };
        let left = cast(*left, DataType::Decimal128(widened as u8, want as i8));
        return Ok(Transformed::yes(cast(Expr::BinaryExpr(BinaryExpr::new(Box::new(left), op, right)), target)));
    }
    Ok(Transformed::yes(cast(e, target)))
}

#[cfg(test)]
mod tests {
    use super::divide_type;

    #[test]
    fn spark_decimal_division_types() {
        // decimal(10,2) / decimal(10,2) is decimal(23,13) in Spark 4.2
        // (python/test_expressions.py checks it against Spark).
        assert_eq!(divide_type(10, 2, 10, 2), (23, 13));
        // Over 38 digits: scale shrinks but keeps 6 (TPC-H q14's promo_revenue).
        assert_eq!(divide_type(38, 6, 38, 4), (38, 6));
        // Scale at least 6: 5-2+1+6 = 10 digits.
        assert_eq!(divide_type(5, 2, 3, 1), (10, 6));
    }
}
