//! Filters stay above projections that compute nondeterministic values.
//!
//! Spark's `PushPredicateThroughNonJoin` moves a filter below a projection
//! only when every expression of the projection is deterministic:
//! `monotonically_increasing_id()`, `spark_partition_id()`, `rand(seed)`,
//! `uuid()`… number or draw per row, so a filter below them would change
//! the values the kept rows get. DataFusion's `push_down_filter` keeps only
//! the predicates that read a volatile column, and pushes the others.
//! [`FiltersAboveNondeterministic`] wraps that rule and leaves such a filter
//! where it is.
//!
//! Python UDFs, `raise_error` and ember's FAILFAST marker are volatile in
//! DataFusion (never folded or merged), but deterministic in Spark, so they
//! do not stop a filter.

use datafusion::common::Result;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::logical_expr::Volatility;
use datafusion::logical_expr::{Expr, LogicalPlan};
use datafusion::optimizer::optimizer::ApplyOrder;
use datafusion::optimizer::push_down_filter::PushDownFilter;
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

/// Whether `expr` computes a value Spark calls nondeterministic.
pub fn is_nondeterministic(expr: &Expr) -> bool {
    expr.exists(|e| {
        Ok(match e {
            Expr::ScalarFunction(f) => {
                let inner: &dyn std::any::Any = f.func.inner().as_ref();
                f.func.signature().volatility == Volatility::Volatile
                    && !inner.is::<crate::python::udf::PythonUdf>()
                    && !inner.is::<crate::functions::raise::Raise>()
                    && !inner.is::<crate::functions::failfast::FailFast>()
            }
            _ => false,
        })
    })
    .unwrap_or(false)
}

/// DataFusion's `push_down_filter`, except that a filter directly above a
/// projection with a nondeterministic expression stays there.
#[derive(Debug, Default)]
pub struct FiltersAboveNondeterministic(PushDownFilter);

impl OptimizerRule for FiltersAboveNondeterministic {
    fn name(&self) -> &str {
        self.0.name()
    }

    fn apply_order(&self) -> Option<ApplyOrder> {
        self.0.apply_order()
    }

    fn supports_rewrite(&self) -> bool {
        true
    }

    fn rewrite(&self, plan: LogicalPlan, config: &dyn OptimizerConfig) -> Result<Transformed<LogicalPlan>> {
        if let LogicalPlan::Filter(filter) = &plan
            && let LogicalPlan::Projection(projection) = filter.input.as_ref()
            && projection.expr.iter().any(is_nondeterministic)
        {
            return Ok(Transformed::no(plan));
        }
        self.0.rewrite(plan, config)
    }
}

/// DataFusion's default logical rules with `push_down_filter` replaced by
/// [`FiltersAboveNondeterministic`].
pub fn optimizer_rules() -> Vec<std::sync::Arc<dyn OptimizerRule + Send + Sync>> {
    datafusion::optimizer::Optimizer::new()
        .rules
        .into_iter()
        .map(|rule| {
            if rule.name() == "push_down_filter" {
                std::sync::Arc::new(FiltersAboveNondeterministic::default()) as _
            } else {
                rule
            }
        })
        .collect()
}
