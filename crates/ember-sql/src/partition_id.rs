//! `spark_partition_id()`: the index of the partition a row is in, and
//! `monotonically_increasing_id()`: the partition index in the upper 31
//! bits and the row's position in its partition in the lower 33, as Spark
//! numbers rows.
//!
//! A scalar function does not know its partition, so the function itself
//! only marks where the index goes. A physical rule wraps each projection
//! that calls it in a [`PartitionIdExec`], which runs partition `p` as the
//! projection with every call replaced by the literal `p`. The function is
//! volatile: the optimizer neither folds it nor moves filters on it below
//! the projection. An aggregate that groups by it gets a projection below
//! that computes it ([`PartitionIdBelowAggregates`]).

use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};

use datafusion::arrow::array::{Int64Array, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema};
use datafusion::common::Column;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Result, ScalarValue, exec_err};
use datafusion::execution::{SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{
    Aggregate, ColumnarValue, Expr, LogicalPlan, LogicalPlanBuilder, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDF,
    ScalarUDFImpl, Signature, Volatility,
};
use datafusion::optimizer::AnalyzerRule;
use datafusion::physical_expr::expressions::Literal;
use datafusion::physical_expr::{PhysicalExpr, ScalarFunctionExpr};
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::projection::{ProjectionExec, ProjectionExpr};
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};

const NAME: &str = "spark_partition_id";
const MONOTONIC: &str = "monotonically_increasing_id";

#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SparkPartitionId {
    signature: Signature,
    /// `monotonically_increasing_id()` rather than `spark_partition_id()`.
    monotonic: bool,
}

impl SparkPartitionId {
    pub fn new() -> Self {
        Self { signature: Signature::nullary(Volatility::Volatile), monotonic: false }
    }

    pub fn monotonically_increasing_id() -> Self {
        Self { monotonic: true, ..Self::new() }
    }
}

impl ScalarUDFImpl for SparkPartitionId {
    fn name(&self) -> &str {
        if self.monotonic { MONOTONIC } else { NAME }
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(if self.monotonic { DataType::Int64 } else { DataType::Int32 })
    }

    fn return_field_from_args(&self, _args: ReturnFieldArgs) -> Result<FieldRef> {
        let t = self.return_type(&[])?;
        Ok(Arc::new(Field::new(self.name(), t, false)))
    }

    fn invoke_with_args(&self, _args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        exec_err!("{}() is only supported in a select list", self.name())
    }
}

/// `monotonically_increasing_id()` in one partition: numbers its rows on
/// from `partition << 33`.
#[derive(Debug)]
struct RowIds {
    next: AtomicI64,
}

impl fmt::Display for RowIds {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{MONOTONIC}()")
    }
}

impl PartialEq for RowIds {
    fn eq(&self, other: &Self) -> bool {
        std::ptr::eq(self, other)
    }
}

impl Eq for RowIds {}

impl std::hash::Hash for RowIds {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        MONOTONIC.hash(state);
    }
}

impl PhysicalExpr for RowIds {
    fn data_type(&self, _: &Schema) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn nullable(&self, _: &Schema) -> Result<bool> {
        Ok(false)
    }

    fn evaluate(&self, batch: &RecordBatch) -> Result<ColumnarValue> {
        let n = batch.num_rows() as i64;
        let from = self.next.fetch_add(n, Ordering::Relaxed);
        Ok(ColumnarValue::Array(Arc::new(Int64Array::from_iter_values(from..from + n))))
    }

    fn children(&self) -> Vec<&Arc<dyn PhysicalExpr>> {
        vec![]
    }

    fn with_new_children(self: Arc<Self>, _: Vec<Arc<dyn PhysicalExpr>>) -> Result<Arc<dyn PhysicalExpr>> {
        Ok(self)
    }

    fn fmt_sql(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Whether `e` calls `spark_partition_id()`, or `rand`/`randn`, which draw
/// from a generator of their partition (`crate::functions::random`).
fn is_partition_id(e: &Arc<dyn PhysicalExpr>) -> bool {
    (e.as_ref() as &dyn Any)
        .downcast_ref::<ScalarFunctionExpr>()
        .is_some_and(|f| f.name() == NAME || f.name() == MONOTONIC || crate::functions::random::is_random(f.name()))
}

fn calls_partition_id(e: &Arc<dyn PhysicalExpr>) -> bool {
    e.exists(|x| Ok(is_partition_id(x))).unwrap_or(false)
}

/// `e` with each `spark_partition_id()` replaced by `partition`, and each
/// `rand(seed)` by the partition's generator.
fn with_partition(e: &Arc<dyn PhysicalExpr>, partition: usize) -> Result<Arc<dyn PhysicalExpr>> {
    Arc::clone(e)
        .transform_up(|x| {
            let Some(f) = (x.as_ref() as &dyn Any).downcast_ref::<ScalarFunctionExpr>() else {
                return Ok(Transformed::no(x));
            };
            if f.name() == NAME {
                let index = ScalarValue::Int32(Some(partition as i32));
                return Ok(Transformed::yes(Arc::new(Literal::new(index)) as Arc<dyn PhysicalExpr>));
            }
            if f.name() == MONOTONIC {
                let ids = RowIds { next: AtomicI64::new((partition as i64) << 33) };
                return Ok(Transformed::yes(Arc::new(ids) as Arc<dyn PhysicalExpr>));
            }
            if crate::functions::random::is_random(f.name()) {
                let seed = f.args().first().and_then(|a| (a.as_ref() as &dyn Any).downcast_ref::<Literal>());
                let seed = crate::functions::random::seed_of(seed.map(|l| l.value()));
                let random = crate::functions::random::PartitionRandom::new(f.name(), seed, partition);
                return Ok(Transformed::yes(Arc::new(random) as Arc<dyn PhysicalExpr>));
            }
            Ok(Transformed::no(x))
        })
        .map(|t| t.data)
}

/// A projection that calls `spark_partition_id()`: see the module docs.
#[derive(Debug)]
pub struct PartitionIdExec {
    projection: Arc<ProjectionExec>,
}

impl PartitionIdExec {
    pub fn new(projection: Arc<ProjectionExec>) -> Self {
        Self { projection }
    }

    /// The projection it runs, per partition.
    pub fn projection(&self) -> &Arc<ProjectionExec> {
        &self.projection
    }
}

impl DisplayAs for PartitionIdExec {
    fn fmt_as(&self, t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "PartitionIdExec: ")?;
        self.projection.fmt_as(t, f)
    }
}

impl ExecutionPlan for PartitionIdExec {
    fn name(&self) -> &str {
        "PartitionIdExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        self.projection.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![self.projection.input()]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        self.projection.apply_expressions(f)
    }

    fn with_new_children(self: Arc<Self>, children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        let [input] = <[_; 1]>::try_from(children)
            .map_err(|_| datafusion::common::DataFusionError::Internal("PartitionIdExec has one child".to_string()))?;
        let exprs = self.projection.expr().to_vec();
        Ok(Arc::new(Self::new(Arc::new(ProjectionExec::try_new(exprs, input)?))))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        let exprs = self
            .projection
            .expr()
            .iter()
            .map(|p| Ok(ProjectionExpr { expr: with_partition(&p.expr, partition)?, alias: p.alias.clone() }))
            .collect::<Result<Vec<_>>>()?;
        ProjectionExec::try_new(exprs, Arc::clone(self.projection.input()))?.execute(partition, context)
    }
}

/// Wraps each projection that calls `spark_partition_id()` in a
/// [`PartitionIdExec`]. Runs first (before projections can move into
/// scans) and last, on the projections the plan ends with.
#[derive(Debug, Default)]
pub struct PartitionIdInProjections;

impl PhysicalOptimizerRule for PartitionIdInProjections {
    fn optimize(&self, plan: Arc<dyn ExecutionPlan>, _config: &ConfigOptions) -> Result<Arc<dyn ExecutionPlan>> {
        plan.transform_up(|node| {
            let any = node.as_ref() as &dyn Any;
            let p = match (any.downcast_ref::<ProjectionExec>(), any.downcast_ref::<PartitionIdExec>()) {
                (Some(p), _) if p.expr().iter().any(|e| calls_partition_id(&e.expr)) => p,
                (_, Some(wrapped)) => wrapped.projection(),
                _ => return Ok(Transformed::no(node)),
            };
            // A limit pushed below the projection (`show()`) leaves it over the
            // merge of the partitions: it goes back below the merge, which
            // keeps every row, so it still sees the partitions.
            if let Some(merge) = (p.input().as_ref() as &dyn Any).downcast_ref::<CoalescePartitionsExec>() {
                let projection = Arc::new(ProjectionExec::try_new(p.expr().to_vec(), Arc::clone(merge.input()))?);
                let below = Arc::new(PartitionIdExec::new(projection)) as Arc<dyn ExecutionPlan>;
                let merge = CoalescePartitionsExec::new(below).with_fetch(merge.fetch());
                return Ok(Transformed::yes(Arc::new(merge) as Arc<dyn ExecutionPlan>));
            }
            if any.is::<PartitionIdExec>() {
                return Ok(Transformed::no(node));
            }
            let projection = Arc::new(ProjectionExec::try_new(p.expr().to_vec(), Arc::clone(p.input()))?);
            Ok(Transformed::yes(Arc::new(PartitionIdExec::new(projection)) as Arc<dyn ExecutionPlan>))
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "partition_id_in_projections"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Moves `spark_partition_id()` out of an aggregate (`groupBy(
/// spark_partition_id())`) into a projection below it, where
/// [`PartitionIdInProjections`] finds it.
#[derive(Debug, Default)]
pub struct PartitionIdBelowAggregates;

/// The hidden column each function is computed into below an aggregate.
fn hidden(name: &str) -> Option<String> {
    (name == NAME || name == MONOTONIC).then(|| format!("__ember_{name}"))
}

fn calls_logical(e: &Expr) -> bool {
    e.exists(|x| Ok(matches!(x, Expr::ScalarFunction(f) if f.func.name() == NAME || f.func.name() == MONOTONIC)))
        .unwrap_or(false)
}

impl AnalyzerRule for PartitionIdBelowAggregates {
    fn name(&self) -> &str {
        "partition_id_below_aggregates"
    }

    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        Ok(plan
            .transform_up_with_subqueries(|node| {
                let LogicalPlan::Aggregate(a) = &node else { return Ok(Transformed::no(node)) };
                if !a.group_expr.iter().chain(&a.aggr_expr).any(calls_logical) {
                    return Ok(Transformed::no(node));
                }
                let mut below: Vec<Expr> = a.input.schema().columns().into_iter().map(Expr::Column).collect();
                for udf in [SparkPartitionId::new(), SparkPartitionId::monotonically_increasing_id()] {
                    let name = hidden(udf.name()).unwrap_or_default();
                    below.push(ScalarUDF::from(udf).call(vec![]).alias(name));
                }
                let input = LogicalPlanBuilder::from(a.input.as_ref().clone()).project(below)?.build()?;
                let preserver = NamePreserver::new(&node);
                let replace = |e: &Expr| -> Result<Expr> {
                    let saved = preserver.save(e);
                    let e = e
                        .clone()
                        .transform_up(|x| match x {
                            Expr::ScalarFunction(f) => match hidden(f.func.name()) {
                                Some(name) => Ok(Transformed::yes(Expr::Column(Column::from_name(name)))),
                                None => Ok(Transformed::no(Expr::ScalarFunction(f))),
                            },
                            x => Ok(Transformed::no(x)),
                        })?
                        .data;
                    Ok(saved.restore(e))
                };
                let group = a.group_expr.iter().map(replace).collect::<Result<Vec<_>>>()?;
                let aggr = a.aggr_expr.iter().map(replace).collect::<Result<Vec<_>>>()?;
                let aggregate = Aggregate::try_new(Arc::new(input), group, aggr)?;
                Ok(Transformed::yes(LogicalPlan::Aggregate(aggregate)))
            })?
            .data)
    }
}
