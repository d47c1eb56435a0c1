//! SQL's `range(end)`, `range(start, end[, step[, numPartitions]])`: Spark
//! names its column `id`; DataFusion's `range`, which this wraps, says
//! `value`. `numPartitions` deals the rows round-robin over that many
//! partitions, as `spark.range(start, end, step, numPartitions)` does.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::catalog::view::ViewTable;
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, ScalarValue, plan_err};
use datafusion::datasource::provider_as_source;
use datafusion::logical_expr::{Expr, LogicalPlanBuilder, Partitioning, col};

#[derive(Debug)]
pub struct SparkRange {
    inner: Arc<dyn TableFunctionImpl>,
}

impl SparkRange {
    /// Wraps DataFusion's `range` table function.
    pub fn new(inner: Arc<dyn TableFunctionImpl>) -> Self {
        Self { inner }
    }
}

impl TableFunctionImpl for SparkRange {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        if exprs.is_empty() || exprs.len() > 4 {
            return plan_err!(
                "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `range` requires [1, 2, 3, 4] parameters but the actual number is {}.",
                exprs.len()
            );
        }
        let partitions = match exprs.get(3) {
            None => None,
            Some(Expr::Literal(v, _)) if v.data_type().is_integer() => match v.cast_to(&DataType::Int64)? {
                ScalarValue::Int64(Some(n)) if n > 0 => usize::try_from(n).ok(),
                _ => {
                    let e = ember_common::SparkError::illegal_argument("Positive number of partitions required");
                    return Err(datafusion::common::DataFusionError::External(Box::new(e)));
                }
            },
            Some(_) => {
                return plan_err!("[INVALID_PARAMETER_VALUE] The numPartitions of range must be an integer literal.");
            }
        };
        let exprs = &exprs[..exprs.len().min(3)];
        let provider = self.inner.call_with_args(TableFunctionArgs::new(exprs, args.session()))?;
        let mut plan = LogicalPlanBuilder::scan("range", provider_as_source(provider), None)?
            .project(vec![col("value").alias("id")])?;
        if let Some(n) = partitions.filter(|n| *n > 1) {
            plan = plan.repartition(Partitioning::RoundRobinBatch(n))?;
        }
        let plan = plan.build()?;
        Ok(Arc::new(ViewTable::new(plan, None)))
    }
}
