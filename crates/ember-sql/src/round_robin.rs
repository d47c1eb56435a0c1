//! `repartition(n)`, `coalesce(n)` and `repartition(n, cols)`: exactly `n`
//! partitions, as in Spark; round-robin rows spread evenly over them.
//!
//! They plan as a round-robin or hash repartition, which DataFusion's
//! distribution rule removes and replaces with its own choice of
//! partitions (the session's parallelism, or none where no operator above
//! needs one). A round-robin repartition also deals whole batches, so 100
//! rows in one batch all land in one partition. So [`KeepRepartitions`] runs
//! before DataFusion's rules and hides each planned repartition in a
//! [`PlannedRepartition`] node they leave alone; [`RestoreRepartitions`] runs
//! after them and turns the node back into its repartition, a round-robin
//! one over a [`SliceBatchesExec`], which cuts each batch into `n` slices so
//! that every partition gets a share of every batch. Stages in a cluster
//! are cut at that repartition like any other.

use std::any::Any;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Result, internal_err};
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties};
use futures::{Stream, StreamExt};

/// A planned round-robin or hash repartition to `n` partitions, between
/// [`KeepRepartitions`] and [`RestoreRepartitions`]; it never runs.
#[derive(Debug)]
pub struct PlannedRepartition {
    input: Arc<dyn ExecutionPlan>,
    /// The planned partitioning: `RoundRobinBatch(n)` or `Hash(exprs, n)`.
    partitioning: Partitioning,
    properties: Arc<PlanProperties>,
}

impl PlannedRepartition {
    fn new(input: Arc<dyn ExecutionPlan>, partitioning: Partitioning) -> Self {
        let p = input.properties();
        // Unknown to the operators above: a join must not take a hash
        // partitioning into `n` for its own.
        let properties = Arc::new(PlanProperties::new(
            p.eq_properties.clone(),
            Partitioning::UnknownPartitioning(partitioning.partition_count()),
            p.emission_type,
            p.boundedness,
        ));
        Self { input, partitioning, properties }
    }

    fn partitions(&self) -> usize {
        self.properties.output_partitioning().partition_count()
    }
}

impl DisplayAs for PlannedRepartition {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "PlannedRepartition: partitioning={}", self.partitioning)
    }
}

impl ExecutionPlan for PlannedRepartition {
    fn name(&self) -> &str {
        "PlannedRepartition"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
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
            return internal_err!("PlannedRepartition has one child");
        }
        Ok(Arc::new(Self::new(children.swap_remove(0), self.partitioning.clone())))
    }

    fn execute(&self, _partition: usize, _context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        internal_err!("PlannedRepartition is replaced before the plan runs")
    }
}

/// Hides each repartition the planner made (see the module docs): at this
/// point they are all the user's. Runs first.
#[derive(Debug, Default)]
pub struct KeepRepartitions;

impl PhysicalOptimizerRule for KeepRepartitions {
    fn optimize(&self, plan: Arc<dyn ExecutionPlan>, _config: &ConfigOptions) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let Some(r) = (node.as_ref() as &dyn Any).downcast_ref::<RepartitionExec>() else {
                return Ok(Transformed::no(node));
            };
            if !matches!(r.partitioning(), Partitioning::RoundRobinBatch(_) | Partitioning::Hash(..)) {
                return Ok(Transformed::no(node));
            }
            let hidden = PlannedRepartition::new(Arc::clone(r.input()), r.partitioning().clone());
            Ok(Transformed::yes(Arc::new(hidden) as Arc<dyn ExecutionPlan>))
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "keep_repartitions"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Turns each [`PlannedRepartition`] back into a round-robin repartition of
/// sliced batches, dropping a round-robin repartition DataFusion put right
/// above it. Runs last.
#[derive(Debug, Default)]
pub struct RestoreRepartitions;

impl PhysicalOptimizerRule for RestoreRepartitions {
    fn optimize(&self, plan: Arc<dyn ExecutionPlan>, _config: &ConfigOptions) -> Result<Arc<dyn ExecutionPlan>> {
        // DataFusion spreads a node's few partitions over more for the
        // operators above it: undo that, the user chose the number.
        let plan = plan
            .transform_up(|node| {
                if let Some(r) = (node.as_ref() as &dyn Any).downcast_ref::<RepartitionExec>()
                    && matches!(r.partitioning(), Partitioning::RoundRobinBatch(_))
                    && (r.input().as_ref() as &dyn Any).is::<PlannedRepartition>()
                {
                    return Ok(Transformed::yes(Arc::clone(r.input())));
                }
                Ok(Transformed::no(node))
            })?
            .data;
        plan.transform_up(|node| {
            let Some(r) = (node.as_ref() as &dyn Any).downcast_ref::<PlannedRepartition>() else {
                return Ok(Transformed::no(node));
            };
            let n = r.partitions();
            let repartition = match &r.partitioning {
                Partitioning::RoundRobinBatch(_) if n > 1 => {
                    let sliced = Arc::new(SliceBatchesExec::new(Arc::clone(&r.input), n));
                    RepartitionExec::try_new(sliced, Partitioning::RoundRobinBatch(n))?
                }
                p => RepartitionExec::try_new(Arc::clone(&r.input), p.clone())?,
            };
            Ok(Transformed::yes(Arc::new(repartition) as Arc<dyn ExecutionPlan>))
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "restore_repartitions"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Cuts each batch into `slices` zero-copy slices of about equal rows.
#[derive(Debug)]
pub struct SliceBatchesExec {
    input: Arc<dyn ExecutionPlan>,
    slices: usize,
}

impl SliceBatchesExec {
    pub fn new(input: Arc<dyn ExecutionPlan>, slices: usize) -> Self {
        Self { input, slices: slices.max(1) }
    }

    pub fn slices(&self) -> usize {
        self.slices
    }
}

impl DisplayAs for SliceBatchesExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "SliceBatchesExec: slices={}", self.slices)
    }
}

impl ExecutionPlan for SliceBatchesExec {
    fn name(&self) -> &str {
        "SliceBatchesExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.input.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(self: Arc<Self>, mut children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        if children.len() != 1 {
            return internal_err!("SliceBatchesExec has one child");
        }
        Ok(Arc::new(Self::new(children.swap_remove(0), self.slices)))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, context)?;
        Ok(Box::pin(SliceStream { schema: input.schema(), input, slices: self.slices, pending: vec![] }))
    }
}

struct SliceStream {
    schema: SchemaRef,
    input: SendableRecordBatchStream,
    slices: usize,
    /// Slices of the current batch not yet returned, last first.
    pending: Vec<RecordBatch>,
}

impl Stream for SliceStream {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            if let Some(b) = self.pending.pop() {
                return Poll::Ready(Some(Ok(b)));
            }
            match self.input.poll_next_unpin(cx) {
                Poll::Ready(Some(Ok(batch))) => {
                    // Slice i is rows [i·rows/slices, (i+1)·rows/slices): sizes
                    // differ by at most one, as Spark's range partitions do.
                    let rows = batch.num_rows();
                    let bound = |i: usize| i * rows / self.slices;
                    let mut slices: Vec<RecordBatch> = (0..self.slices)
                        .map(|i| (bound(i), bound(i + 1)))
                        .filter(|(start, end)| end > start)
                        .map(|(start, end)| batch.slice(start, end - start))
                        .collect();
                    slices.reverse();
                    self.pending = slices;
                }
                other => return other,
            }
        }
    }
}

impl RecordBatchStream for SliceStream {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }
}
