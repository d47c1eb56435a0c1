//! Rows of several partitions in partition order, as Spark returns them.
//!
//! Spark's `collect()` concatenates the partitions in order, and its
//! `limit(n)`, `offset(n)` and `show()` take rows from the first partitions
//! first: `a.union(b).limit(3)` has `a`'s rows, `range(40).filter(...)
//! .limit(6)` the six smallest ids. DataFusion's `CoalescePartitionsExec`
//! passes batches on as they arrive, interleaving the partitions, so a
//! limit keeps whichever rows came first. [`OrderedCoalesceExec`] runs all
//! its input partitions at once, like the coalesce, but hands their rows on
//! in partition order; [`in_partition_order`] puts it where a coalesce feeds
//! a limit.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::RecordBatch;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Result, internal_err};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::limit::GlobalLimitExec;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties};
use futures::StreamExt;

/// Batches a partition may run ahead of the one being read, under a limit:
/// enough to keep every partition busy, few enough that the rows a limit
/// never reads are not all held in memory.
const LIMIT_BUFFER_BATCHES: usize = 2;

/// One partition: the input's partitions one after another, the first
/// `fetch` rows of them when a fetch is given.
#[derive(Debug)]
pub struct OrderedCoalesceExec {
    input: Arc<dyn ExecutionPlan>,
    fetch: Option<usize>,
    /// Batches each partition may buffer ahead; `None` is unbounded (a
    /// whole result being collected is held anyway).
    buffer: Option<usize>,
    properties: Arc<PlanProperties>,
}

impl OrderedCoalesceExec {
    pub fn new(input: Arc<dyn ExecutionPlan>, fetch: Option<usize>, buffer: Option<usize>) -> Self {
        let p = input.properties();
        // Orderings and constants of single partitions do not survive
        // concatenation.
        let mut eq = p.eq_properties.clone();
        if input.properties().output_partitioning().partition_count() > 1 {
            eq.clear_orderings();
            eq.clear_per_partition_constants();
        }
        let properties =
            Arc::new(PlanProperties::new(eq, Partitioning::UnknownPartitioning(1), p.emission_type, p.boundedness));
        Self { input, fetch, buffer, properties }
    }
}

impl DisplayAs for OrderedCoalesceExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "OrderedCoalesceExec")?;
        if let Some(fetch) = self.fetch {
            write!(f, ": fetch={fetch}")?;
        }
        Ok(())
    }
}

impl ExecutionPlan for OrderedCoalesceExec {
    fn name(&self) -> &str {
        "OrderedCoalesceExec"
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
            return internal_err!("OrderedCoalesceExec has one child");
        }
        Ok(Arc::new(Self::new(children.swap_remove(0), self.fetch, self.buffer)))
    }

    fn fetch(&self) -> Option<usize> {
        self.fetch
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return internal_err!("OrderedCoalesceExec has one partition, not {partition}");
        }
        let schema = self.input.schema();
        let partitions = self.input.properties().output_partitioning().partition_count();
        let mut receivers = Vec::with_capacity(partitions);
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..partitions {
            let mut stream = self.input.execute(i, context.clone())?;
            let (tx, rx) = channel(self.buffer);
            tasks.spawn(async move {
                while let Some(batch) = stream.next().await {
                    let failed = batch.is_err();
                    if !tx.send(batch).await || failed {
                        break;
                    }
                }
            });
            receivers.push(rx.into_stream());
        }
        // The tasks live as long as the stream: dropping it aborts them.
        let in_order = futures::stream::iter(receivers).flatten().map(move |b| {
            let _ = &tasks;
            b
        });
        let stream: SendableRecordBatchStream = match self.fetch {
            None => Box::pin(RecordBatchStreamAdapter::new(schema, in_order)),
            Some(fetch) => Box::pin(RecordBatchStreamAdapter::new(schema, first_rows(in_order, fetch))),
        };
        Ok(stream)
    }
}

/// The first `fetch` rows of `batches`; it stops reading once it has them.
fn first_rows(
    batches: impl futures::Stream<Item = Result<RecordBatch>> + Send + 'static,
    fetch: usize,
) -> impl futures::Stream<Item = Result<RecordBatch>> + Send + 'static {
    futures::stream::unfold((batches.boxed(), fetch), |(mut batches, left)| async move {
        if left == 0 {
            return None;
        }
        match batches.next().await? {
            Ok(batch) => {
                let rows = batch.num_rows().min(left);
                Some((Ok(batch.slice(0, rows)), (batches, left - rows)))
            }
            Err(e) => Some((Err(e), (batches, 0))),
        }
    })
}

enum Sender {
    Bounded(tokio::sync::mpsc::Sender<Result<RecordBatch>>),
    Unbounded(tokio::sync::mpsc::UnboundedSender<Result<RecordBatch>>),
}

impl Sender {
    /// False once the reader is gone.
    async fn send(&self, batch: Result<RecordBatch>) -> bool {
        match self {
            Sender::Bounded(tx) => tx.send(batch).await.is_ok(),
            Sender::Unbounded(tx) => tx.send(batch).is_ok(),
        }
    }
}

enum Receiver {
    Bounded(tokio::sync::mpsc::Receiver<Result<RecordBatch>>),
    Unbounded(tokio::sync::mpsc::UnboundedReceiver<Result<RecordBatch>>),
}

impl Receiver {
    fn into_stream(self) -> futures::stream::BoxStream<'static, Result<RecordBatch>> {
        match self {
            Receiver::Bounded(rx) => tokio_stream::wrappers::ReceiverStream::new(rx).boxed(),
            Receiver::Unbounded(rx) => tokio_stream::wrappers::UnboundedReceiverStream::new(rx).boxed(),
        }
    }
}

fn channel(buffer: Option<usize>) -> (Sender, Receiver) {
    match buffer {
        Some(n) => {
            let (tx, rx) = tokio::sync::mpsc::channel(n.max(1));
            (Sender::Bounded(tx), Receiver::Bounded(rx))
        }
        None => {
            let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
            (Sender::Unbounded(tx), Receiver::Unbounded(rx))
        }
    }
}

/// `plan` with each coalesce that feeds a limit (it has a fetch, or a
/// global limit reads it) reading its partitions in order, and the whole
/// plan's partitions, when it has several, returned in order.
pub fn in_partition_order(plan: Arc<dyn ExecutionPlan>) -> Result<Arc<dyn ExecutionPlan>> {
    let plan = plan
        .transform_up(|node| {
            let any = node.as_ref() as &dyn Any;
            if let Some(c) = any.downcast_ref::<CoalescePartitionsExec>()
                && c.fetch().is_some()
            {
                let ordered = OrderedCoalesceExec::new(Arc::clone(c.input()), c.fetch(), Some(LIMIT_BUFFER_BATCHES));
                return Ok(Transformed::yes(Arc::new(ordered) as Arc<dyn ExecutionPlan>));
            }
            if let Some(limit) = any.downcast_ref::<GlobalLimitExec>()
                && let Some(c) = (limit.input().as_ref() as &dyn Any).downcast_ref::<CoalescePartitionsExec>()
            {
                let ordered = OrderedCoalesceExec::new(Arc::clone(c.input()), None, Some(LIMIT_BUFFER_BATCHES));
                let limit = GlobalLimitExec::new(Arc::new(ordered), limit.skip(), limit.fetch());
                return Ok(Transformed::yes(Arc::new(limit) as Arc<dyn ExecutionPlan>));
            }
            Ok(Transformed::no(node))
        })?
        .data;
    if plan.properties().output_partitioning().partition_count() > 1 {
        return Ok(Arc::new(OrderedCoalesceExec::new(plan, None, None)));
    }
    Ok(plan)
}
