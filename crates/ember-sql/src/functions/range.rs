//! SQL's `range(end)`, `range(start, end[, step[, numPartitions]])` and
//! `spark.range(…)`: a column `id` of bigints, split into partitions as
//! Spark's RangeExec splits it. Partition `i` of `n` holds elements
//! `i·count/n` up to `(i+1)·count/n`, so each partition is one contiguous
//! run and `spark_partition_id()` and `monotonically_increasing_id()` see
//! what they see on Spark. Without `numPartitions` there are as many
//! partitions as the session's parallelism (Spark's default parallelism).

use std::fmt;
use std::sync::Arc;

use datafusion::arrow::array::{Int64Array, RecordBatch, RecordBatchOptions};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::{Session, TableFunctionArgs, TableFunctionImpl, TableProvider};
use datafusion::common::stats::Precision;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result, ScalarValue, Statistics, internal_err, plan_err};
use datafusion::datasource::TableType;
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::Expr;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties};

/// The range table function.
#[derive(Debug, Default)]
pub struct SparkRange;

/// One `range(…)`: its bounds and how it is split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RangeSpec {
    pub start: i64,
    pub end: i64,
    pub step: i64,
    /// `numPartitions`, when given.
    pub partitions: Option<usize>,
}

impl RangeSpec {
    /// How many elements: Spark's `Range.numElements`, never negative.
    fn count(&self) -> u64 {
        let span = self.end as i128 - self.start as i128;
        let step = self.step as i128;
        if span == 0 || (span > 0) != (step > 0) {
            return 0;
        }
        let (span, step) = (span.abs(), step.abs());
        ((span + step - 1) / step) as u64
    }
}

fn illegal(msg: &str) -> DataFusionError {
    DataFusionError::External(Box::new(ember_common::SparkError::illegal_argument(msg)))
}

/// An integer literal argument (`-5` arrives as a negation).
fn int_arg(e: &Expr, what: &str) -> Result<i64> {
    match e {
        Expr::Literal(v, _) if v.data_type().is_integer() => match v.cast_to(&DataType::Int64)? {
            ScalarValue::Int64(Some(n)) => Ok(n),
            _ => plan_err!("[INVALID_PARAMETER_VALUE] The {what} of range must not be NULL."),
        },
        Expr::Negative(inner) => int_arg(inner, what)?
            .checked_neg()
            .ok_or_else(|| DataFusionError::Plan(format!("The {what} of range is out of range."))),
        Expr::Cast(c) => int_arg(&c.expr, what),
        _ => plan_err!("[INVALID_PARAMETER_VALUE] The {what} of range must be an integer literal."),
    }
}

impl TableFunctionImpl for SparkRange {
    fn call_with_args(&self, args: TableFunctionArgs) -> Result<Arc<dyn TableProvider>> {
        let exprs = args.exprs();
        let (start, end, step, partitions) = match exprs {
            [end] => (0, int_arg(end, "end")?, 1, None),
            [start, end] => (int_arg(start, "start")?, int_arg(end, "end")?, 1, None),
            [start, end, step] => (int_arg(start, "start")?, int_arg(end, "end")?, int_arg(step, "step")?, None),
            [start, end, step, n] => {
                let n = int_arg(n, "numPartitions")?;
                let n = usize::try_from(n).ok().filter(|n| *n > 0);
                let n = n.ok_or_else(|| illegal("Positive number of partitions required"))?;
                (int_arg(start, "start")?, int_arg(end, "end")?, int_arg(step, "step")?, Some(n))
            }
            _ => {
                return plan_err!(
                    "[WRONG_NUM_ARGS.WITHOUT_SUGGESTION] The `range` requires [1, 2, 3, 4] parameters but the actual number is {}.",
                    exprs.len()
                );
            }
        };
        if step == 0 {
            return Err(illegal("requirement failed: step (0) cannot be 0"));
        }
        Ok(Arc::new(RangeTable { spec: RangeSpec { start, end, step, partitions }, schema: range_schema() }))
    }
}

fn range_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![Field::new("id", DataType::Int64, false)]))
}

#[derive(Debug)]
struct RangeTable {
    spec: RangeSpec,
    schema: SchemaRef,
}

#[async_trait::async_trait]
impl TableProvider for RangeTable {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    fn table_type(&self) -> TableType {
        TableType::Temporary
    }

    async fn scan(
        &self,
        state: &dyn Session,
        projection: Option<&Vec<usize>>,
        _filters: &[Expr],
        _limit: Option<usize>,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        let slices = self.spec.partitions.unwrap_or_else(|| state.config().target_partitions().max(1));
        let with_id = projection.is_none_or(|p| !p.is_empty());
        Ok(Arc::new(RangeExec::new(self.spec, slices, with_id)))
    }
}

/// Produces the elements of a range, one contiguous run per partition.
#[derive(Debug)]
pub struct RangeExec {
    spec: RangeSpec,
    slices: usize,
    /// False when no column is read (`count()`): batches of rows only.
    with_id: bool,
    properties: Arc<PlanProperties>,
}

impl RangeExec {
    pub fn new(spec: RangeSpec, slices: usize, with_id: bool) -> Self {
        let schema = if with_id { range_schema() } else { Arc::new(Schema::empty()) };
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema),
            Partitioning::UnknownPartitioning(slices),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        Self { spec, slices, with_id, properties }
    }

    pub fn spec(&self) -> RangeSpec {
        self.spec
    }

    pub fn slices(&self) -> usize {
        self.slices
    }

    pub fn with_id(&self) -> bool {
        self.with_id
    }

    /// The element indices of partition `i`: Spark's split.
    fn bounds(&self, i: usize) -> (u64, u64) {
        let count = self.spec.count() as u128;
        let n = self.slices as u128;
        ((i as u128 * count / n) as u64, ((i as u128 + 1) * count / n) as u64)
    }
}

impl DisplayAs for RangeExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        let RangeSpec { start, end, step, .. } = self.spec;
        write!(f, "Range ({start}, {end}, step={step}, splits={})", self.slices)
    }
}

impl ExecutionPlan for RangeExec {
    fn name(&self) -> &str {
        "RangeExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![]
    }

    fn apply_expressions(
        &self,
        _f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(self: Arc<Self>, children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        if !children.is_empty() {
            return internal_err!("RangeExec has no children");
        }
        Ok(self)
    }

    fn partition_statistics(&self, partition: Option<usize>) -> Result<Arc<Statistics>> {
        let rows = match partition {
            Some(i) => {
                let (lo, hi) = self.bounds(i);
                hi - lo
            }
            None => self.spec.count(),
        };
        let mut stats = Statistics::new_unknown(&self.schema());
        stats.num_rows = Precision::Exact(rows as usize);
        Ok(Arc::new(stats))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        if partition >= self.slices {
            return internal_err!("RangeExec has {} partitions, not {}", self.slices, partition + 1);
        }
        let (lo, hi) = self.bounds(partition);
        let batch = context.session_config().batch_size().max(1) as u64;
        let (start, step, with_id) = (self.spec.start as i128, self.spec.step as i128, self.with_id);
        let schema = self.schema();
        let out = Arc::clone(&schema);
        let batches = (lo..hi).step_by(batch as usize).map(move |from| {
            let to = (from + batch).min(hi);
            if !with_id {
                let options = RecordBatchOptions::new().with_row_count(Some((to - from) as usize));
                return Ok(RecordBatch::try_new_with_options(Arc::clone(&out), vec![], &options)?);
            }
            // Every element lies between start and end, so it fits an i64.
            let ids: Int64Array = (from..to).map(|k| (start + k as i128 * step) as i64).collect();
            Ok(RecordBatch::try_new(Arc::clone(&out), vec![Arc::new(ids)])?)
        });
        Ok(Box::pin(RecordBatchStreamAdapter::new(schema, futures::stream::iter(batches))))
    }
}
