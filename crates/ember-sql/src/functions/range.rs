//! SQL's `range(end)`, `range(start, end[, step[, numPartitions]])`: Spark
//! names its column `id`; DataFusion's `range`, which this wraps, says
//! `value`. `numPartitions` is accepted and left to the planner.

use std::sync::Arc;

use datafusion::catalog::view::ViewTable;
use datafusion::catalog::{TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::{Result, plan_err};
use datafusion::datasource::provider_as_source;
use datafusion::logical_expr::{LogicalPlanBuilder, col};

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
        let exprs = &exprs[..exprs.len().min(3)];
        let provider = self.inner.call_with_args(TableFunctionArgs::new(exprs, args.session()))?;
        let plan = LogicalPlanBuilder::scan("range", provider_as_source(provider), None)?
            .project(vec![col("value").alias("id")])?
            .build()?;
        Ok(Arc::new(ViewTable::new(plan, None)))
    }
}
