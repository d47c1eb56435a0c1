//! Strings in arithmetic, as Spark's type coercion casts them: `'2' + 1`
//! is 3. Under ANSI a string beside an integral operand becomes a bigint
//! (`'a' + 1` fails with CAST_INVALID_INPUT to BIGINT) and beside a
//! fractional one a double; without ANSI it is always a double (NULL when
//! malformed). A division's string is a double in both modes.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use datafusion::arrow::datatypes::DataType;
use datafusion::common::{DFSchema, Result};
use datafusion::logical_expr::planner::{ExprPlanner, PlannerResult, RawBinaryExpr};
use datafusion::logical_expr::{Expr, ExprSchemable, Operator, cast, try_cast};
use datafusion::sql::sqlparser::ast::BinaryOperator;

/// `l op r` with a string operand cast for arithmetic beside a number;
/// unchanged otherwise.
pub fn string_operands(l: Expr, op: Operator, r: Expr, schema: &DFSchema, ansi: bool) -> (Expr, Expr) {
    if !matches!(op, Operator::Plus | Operator::Minus | Operator::Multiply | Operator::Divide | Operator::Modulo) {
        return (l, r);
    }
    let (Ok(lt), Ok(rt)) = (l.get_type(schema), r.get_type(schema)) else { return (l, r) };
    let target = |other: &DataType| {
        if ansi && op != Operator::Divide && other.is_integer() { DataType::Int64 } else { DataType::Float64 }
    };
    let promote = |e: Expr, t: DataType| if ansi { cast(e, t) } else { try_cast(e, t) };
    if is_string(&lt) && rt.is_numeric() {
        (promote(l, target(&rt)), r)
    } else if is_string(&rt) && lt.is_numeric() {
        (l, promote(r, target(&lt)))
    } else {
        (l, r)
    }
}

fn is_string(t: &DataType) -> bool {
    matches!(t, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View)
}

/// The arithmetic operator `op` is, if it is one (`+ - * / %`).
pub fn arithmetic_operator(op: &BinaryOperator) -> Option<Operator> {
    Some(match op {
        BinaryOperator::Plus => Operator::Plus,
        BinaryOperator::Minus => Operator::Minus,
        BinaryOperator::Multiply => Operator::Multiply,
        BinaryOperator::Divide => Operator::Divide,
        BinaryOperator::Modulo => Operator::Modulo,
        _ => return None,
    })
}

/// The SQL planner's side: DataFusion would reject `'2' + 1` while it
/// plans, before any rewrite of the plan sees it.
#[derive(Debug)]
pub struct PromoteStrings {
    /// `spark.sql.ansi.enabled`, kept current by the session.
    pub ansi: Arc<AtomicBool>,
}

impl ExprPlanner for PromoteStrings {
    fn plan_binary_op(&self, expr: RawBinaryExpr, schema: &DFSchema) -> Result<PlannerResult<RawBinaryExpr>> {
        let Some(op) = arithmetic_operator(&expr.op) else { return Ok(PlannerResult::Original(expr)) };
        let (left, right) = string_operands(expr.left, op, expr.right, schema, self.ansi.load(Ordering::Relaxed));
        Ok(PlannerResult::Original(RawBinaryExpr { op: expr.op, left, right }))
    }
}
