//! Sources whose scans must run in the driver: a cluster's executors would
//! read them wrongly because the plan codec drops one of their settings
//! (datafusion-proto has no field for multi-line JSON, for one). Their
//! scans are wrapped in [`DriverOnlyExec`]; a job runner that finds one
//! runs the job in the driver.

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::{Session, TableProvider};
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{Result, Statistics, internal_err};
use datafusion::datasource::TableType;
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties, SendableRecordBatchStream,
};

/// A table whose scans run in the driver.
#[derive(Debug)]
pub struct DriverOnlyTable {
    inner: Arc<dyn TableProvider>,
    reason: &'static str,
}

impl DriverOnlyTable {
    pub fn new(inner: Arc<dyn TableProvider>, reason: &'static str) -> Self {
        Self { inner, reason }
    }
}

#[async_trait]
impl TableProvider for DriverOnlyTable {
    fn schema(&self) -> SchemaRef {
        self.inner.schema()
    }

    fn table_type(&self) -> TableType {
        self.inner.table_type()
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        filters: &[Expr],
        limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let input = self.inner.scan(state, projection, filters, limit).await?;
        Ok(Arc::new(DriverOnlyExec { input, reason: self.reason }))
    }

    fn supports_filters_pushdown(&self, filters: &[&Expr]) -> Result<Vec<TableProviderFilterPushDown>> {
        self.inner.supports_filters_pushdown(filters)
    }

    fn statistics(&self) -> Option<Statistics> {
        self.inner.statistics()
    }
}

/// Runs its input unchanged; its presence keeps a job in the driver.
#[derive(Debug)]
pub struct DriverOnlyExec {
    input: Arc<dyn ExecutionPlan>,
    pub reason: &'static str,
}

impl DisplayAs for DriverOnlyExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "DriverOnlyExec: {}", self.reason)
    }
}

impl ExecutionPlan for DriverOnlyExec {
    fn name(&self) -> &str {
        "DriverOnlyExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(self: Arc<Self>, mut children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        if children.len() != 1 {
            return internal_err!("DriverOnlyExec has one child");
        }
        Ok(Arc::new(Self { input: children.swap_remove(0), reason: self.reason }))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        self.input.execute(partition, context)
    }
}
