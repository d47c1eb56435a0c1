//! Scans drop the rows a join's dynamic filter rules out, while it pays.
//!
//! A hash join hands the parquet scans on its probe side a filter built
//! from its build side (key bounds, then a hash lookup); a TopK sort and an
//! aggregate hand theirs too. With `datafusion.execution.parquet.pushdown_filters`
//! off (DataFusion's default, and ours: decode-time evaluation of static
//! predicates is slower on most TPC-H scans, and evaluates them twice when
//! a FilterExec stays above the scan) the scan uses the filter only to
//! prune row groups, and every row still flows up to the join. A selective
//! join (TPC-H q18: 57 order keys against six million line items) then
//! moves, repartitions and joins rows that it throws away at the end.
//!
//! [`RuntimeFiltersAboveScans`] puts a [`RuntimeFilterExec`] on each
//! parquet scan (above its FilterExec, whose static predicate is cheaper
//! and goes first) that holds a dynamic filter whose producer is beyond
//! another join or aggregate. A filter whose producer reads the scan
//! through cheap operators only (repartitions, projections) would repeat
//! the producer's own lookup, so it runs only as a helper: it shrinks the
//! batches the other filters see. Each partition measures its filters,
//! runs the cheapest per dropped row first, and stops evaluating one that
//! keeps more than half its rows (a join whose build side holds most
//! keys) until the filter changes. The operators above are unchanged, so
//! the answer never depends on it: the joins still match every key.

use std::any::Any;
use std::collections::HashMap;
use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Result, ScalarValue, internal_err};
use datafusion::datasource::physical_plan::{FileSource, ParquetSource};
use datafusion::datasource::source::DataSourceExec;
use datafusion::execution::{RecordBatchStream, SendableRecordBatchStream, TaskContext};
use datafusion::logical_expr::ColumnarValue;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{Column, DynamicFilterPhysicalExpr};
use datafusion::physical_expr::utils::split_conjunction;
use datafusion::physical_expr_common::physical_expr::snapshot_generation;
use datafusion::physical_optimizer::PhysicalOptimizerRule;
use datafusion::physical_plan::execution_plan::replace_children_if_necessary;
use datafusion::physical_plan::metrics::{BaselineMetrics, Count, ExecutionPlanMetricsSet, MetricBuilder, MetricsSet};
use datafusion::physical_plan::{DisplayAs, DisplayFormatType, ExecutionPlan, PlanProperties};
use futures::{Stream, StreamExt};

/// Rows a partition filters before it judges whether the filter pays.
const ROWS_BEFORE_JUDGING: usize = 64 * 1024;
/// A filter that keeps more than this share of the rows it saw is not
/// worth evaluating: a hash lookup per row costs about what the dropped
/// rows would have cost the operators above it.
const KEEPS_TOO_MANY: f64 = 0.5;

/// See the module docs. Runs after DataFusion's rules, when the dynamic
/// filters have reached the scans.
#[derive(Debug, Default)]
pub struct RuntimeFiltersAboveScans;

impl PhysicalOptimizerRule for RuntimeFiltersAboveScans {
    fn optimize(&self, plan: Arc<dyn ExecutionPlan>, config: &ConfigOptions) -> Result<Arc<dyn ExecutionPlan>> {
        if config.execution.parquet.pushdown_filters {
            // Every scan filters its rows while decoding already.
            return Ok(plan);
        }
        let adjacent = filters_next_to_their_producers(&plan)?;
        plan.transform_down(|node| {
            // A FilterExec right on the scan runs first: its static
            // predicate is cheaper than a hash lookup, and leaves fewer rows.
            let on_scan = node.name() == "FilterExec" && node.children().len() == 1;
            let scan = if on_scan { Arc::clone(node.children()[0]) } else { Arc::clone(&node) };
            let Some(filters) = scan_dynamic_filters(&scan, &adjacent)? else {
                return Ok(Transformed::no(node));
            };
            let wrapped = if let Some(filters) = over_columns_of(&filters, &node.schema())? {
                Arc::new(RuntimeFilterExec::new(node, filters)) as Arc<dyn ExecutionPlan>
            } else if let Some(filters) = over_columns_of(&filters, &scan.schema())? {
                // The FilterExec projects a filter column away.
                let under = Arc::new(RuntimeFilterExec::new(scan, filters)) as Arc<dyn ExecutionPlan>;
                replace_children_if_necessary(node, vec![under])?
            } else {
                return Ok(Transformed::no(node));
            };
            Ok(Transformed::new(wrapped, true, TreeNodeRecursion::Jump))
        })
        .map(|t| t.data)
    }

    fn name(&self) -> &str {
        "runtime_filters_above_scans"
    }

    fn schema_check(&self) -> bool {
        true
    }
}

/// Operators that pass rows on for about what a filter costs: a dynamic
/// filter evaluated below them would only repeat its producer's own work.
const CHEAP: &[&str] = &[
    "RepartitionExec",
    "ProjectionExec",
    "FilterExec",
    "CoalescePartitionsExec",
    "CoalesceBatchesExec",
    "CooperativeExec",
];

fn scan_address(node: &Arc<dyn ExecutionPlan>) -> usize {
    Arc::as_ptr(node) as *const () as usize
}

/// For each scan, the dynamic filters (by expression id) whose producer
/// (a join, a TopK sort, an aggregate) reads the scan's rows through cheap
/// operators only: the producer itself drops those rows about as cheaply.
fn filters_next_to_their_producers(plan: &Arc<dyn ExecutionPlan>) -> Result<HashMap<usize, Vec<u64>>> {
    let mut adjacent: HashMap<usize, Vec<u64>> = HashMap::new();
    plan.apply(|node| {
        let ids: Vec<u64> = node.dynamic_expressions_produced().iter().filter_map(|e| e.expression_id()).collect();
        if !ids.is_empty() {
            let mut below: Vec<&Arc<dyn ExecutionPlan>> = node.children();
            while let Some(child) = below.pop() {
                if child.children().is_empty() {
                    adjacent.entry(scan_address(child)).or_default().extend(&ids);
                } else if CHEAP.contains(&child.name()) {
                    below.extend(child.children());
                }
            }
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    Ok(adjacent)
}

/// The dynamic conjuncts of a parquet scan's predicate (over the file's
/// columns), each marked whether its producer is adjacent; `None` when
/// every one is.
fn scan_dynamic_filters(
    node: &Arc<dyn ExecutionPlan>,
    adjacent: &HashMap<usize, Vec<u64>>,
) -> Result<Option<Vec<RuntimeFilter>>> {
    let Some(scan) = (node.as_ref() as &dyn Any).downcast_ref::<DataSourceExec>() else {
        return Ok(None);
    };
    let Some((_, source)) = scan.downcast_to_file_source::<ParquetSource>() else {
        return Ok(None);
    };
    let predicate = match source.filter() {
        Some(p) if !source.table_parquet_options().global.pushdown_filters => p,
        // No predicate, or the scan evaluates it while decoding.
        _ => return Ok(None),
    };
    let adjacent = adjacent.get(&scan_address(node)).map(Vec::as_slice).unwrap_or_default();
    let filters: Vec<_> = split_conjunction(&predicate)
        .into_iter()
        .filter(|c| (c.as_ref() as &dyn Any).downcast_ref::<DynamicFilterPhysicalExpr>().is_some())
        .map(|c| RuntimeFilter {
            expr: Arc::clone(c),
            helper: c.expression_id().is_some_and(|id| adjacent.contains(&id)),
        })
        .collect();
    Ok(filters.iter().any(|f| !f.helper).then_some(filters))
}

/// `filters` over the columns of `schema`, by name; `None` when one of
/// their columns is not there.
fn over_columns_of(filters: &[RuntimeFilter], schema: &SchemaRef) -> Result<Option<Vec<RuntimeFilter>>> {
    let mut complete = true;
    let mut remapped = Vec::with_capacity(filters.len());
    for filter in filters {
        let expr = Arc::clone(&filter.expr)
            .transform_up(|e| match (e.as_ref() as &dyn Any).downcast_ref::<Column>() {
                Some(c) => match schema.index_of(c.name()) {
                    Ok(i) => Ok(Transformed::yes(Arc::new(Column::new(c.name(), i)) as Arc<dyn PhysicalExpr>)),
                    Err(_) => {
                        complete = false;
                        Ok(Transformed::new(e, false, TreeNodeRecursion::Stop))
                    }
                },
                None => Ok(Transformed::no(e)),
            })?
            .data;
        remapped.push(RuntimeFilter { expr, helper: filter.helper });
    }
    Ok(complete.then_some(remapped))
}

/// One dynamic filter of a [`RuntimeFilterExec`].
#[derive(Debug, Clone)]
pub struct RuntimeFilter {
    pub expr: Arc<dyn PhysicalExpr>,
    /// Its producer reads the scan through cheap operators and drops the
    /// rows itself: evaluated only to shrink batches before the others.
    pub helper: bool,
}

/// Evaluates dynamic filters on its input's batches and drops the rows
/// they rule out. Each partition measures each filter: one that keeps more
/// than half the rows it sees stops being evaluated (until it changes),
/// the others run cheapest-per-dropped-row first, and once only helpers
/// are left the batches pass untouched. A filter that is still empty (its
/// join has not built its side) passes every row.
#[derive(Debug)]
pub struct RuntimeFilterExec {
    input: Arc<dyn ExecutionPlan>,
    filters: Vec<RuntimeFilter>,
    metrics: ExecutionPlanMetricsSet,
}

impl RuntimeFilterExec {
    pub fn new(input: Arc<dyn ExecutionPlan>, filters: Vec<RuntimeFilter>) -> Self {
        Self { input, filters, metrics: ExecutionPlanMetricsSet::new() }
    }

    pub fn filters(&self) -> &[RuntimeFilter] {
        &self.filters
    }
}

impl DisplayAs for RuntimeFilterExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "RuntimeFilterExec: ")?;
        for (i, filter) in self.filters.iter().enumerate() {
            let sep = if i == 0 { "" } else { ", " };
            let helper = if filter.helper { " (helper)" } else { "" };
            write!(f, "{sep}{}{helper}", filter.expr)?;
        }
        Ok(())
    }
}

impl ExecutionPlan for RuntimeFilterExec {
    fn name(&self) -> &str {
        "RuntimeFilterExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        // Dropping rows keeps the input's partitioning and ordering.
        self.input.properties()
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        let mut recursion = TreeNodeRecursion::Continue;
        for filter in &self.filters {
            recursion = f(&filter.expr)?;
            if recursion == TreeNodeRecursion::Stop {
                break;
            }
        }
        Ok(recursion)
    }

    fn maintains_input_order(&self) -> Vec<bool> {
        vec![true]
    }

    fn with_new_children(self: Arc<Self>, mut children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        if children.len() != 1 {
            return internal_err!("RuntimeFilterExec has one child");
        }
        Ok(Arc::new(Self::new(children.swap_remove(0), self.filters.clone())))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        let input = self.input.execute(partition, context)?;
        let filters = self.filters.iter().cloned().map(Measured::new).collect();
        Ok(Box::pin(RuntimeFilterStream {
            schema: input.schema(),
            input,
            filters,
            baseline: BaselineMetrics::new(&self.metrics, partition),
            unfiltered_rows: MetricBuilder::new(&self.metrics).counter("unfiltered_rows", partition),
        }))
    }

    fn metrics(&self) -> Option<MetricsSet> {
        Some(self.metrics.clone_inner())
    }
}

/// A filter and what one partition has seen of it, since `generation`.
struct Measured {
    filter: RuntimeFilter,
    generation: Option<u64>,
    seen: usize,
    kept: usize,
    nanos: u64,
    off: bool,
}

impl Measured {
    fn new(filter: RuntimeFilter) -> Self {
        Self { filter, generation: None, seen: 0, kept: 0, nanos: 0, off: false }
    }

    /// Evaluation time per row it drops: lower runs first. A filter not
    /// measured yet runs first, to be measured.
    fn rank(&self) -> f64 {
        if self.seen == 0 {
            return 0.0;
        }
        let dropped = (self.seen - self.kept).max(1) as f64;
        self.nanos as f64 / dropped
    }
}

struct RuntimeFilterStream {
    schema: SchemaRef,
    input: SendableRecordBatchStream,
    filters: Vec<Measured>,
    baseline: BaselineMetrics,
    /// Rows passed on without evaluating any filter.
    unfiltered_rows: Count,
}

impl RuntimeFilterStream {
    /// `batch` without the rows the filters rule out.
    fn filter_batch(&mut self, mut batch: RecordBatch) -> Result<RecordBatch> {
        for m in &mut self.filters {
            let generation = snapshot_generation(&m.filter.expr);
            if m.generation != Some(generation) {
                // A new filter (or the first look): judge it afresh.
                *m = Measured { generation: Some(generation), ..Measured::new(m.filter.clone()) };
            }
        }
        if self.filters.iter().all(|m| m.off || m.filter.helper) {
            self.unfiltered_rows.add(batch.num_rows());
            return Ok(batch);
        }
        let _timer = self.baseline.elapsed_compute().timer();
        self.filters.sort_by(|a, b| a.rank().total_cmp(&b.rank()));
        for m in self.filters.iter_mut().filter(|m| !m.off) {
            if batch.num_rows() == 0 {
                break;
            }
            let start = std::time::Instant::now();
            let mask = match m.filter.expr.evaluate(&batch)? {
                // Still empty (its join has not built its side yet).
                ColumnarValue::Scalar(ScalarValue::Boolean(Some(true))) => continue,
                // Rules out every row (a join with an empty build side).
                ColumnarValue::Scalar(_) => {
                    batch = batch.slice(0, 0);
                    break;
                }
                ColumnarValue::Array(mask) => mask,
            };
            let Some(mask) = mask.as_boolean_opt() else {
                return internal_err!("a dynamic filter evaluated to {}", mask.data_type());
            };
            let kept = filter_record_batch(&batch, mask)?;
            m.nanos += start.elapsed().as_nanos() as u64;
            m.seen += batch.num_rows();
            m.kept += kept.num_rows();
            if m.seen >= ROWS_BEFORE_JUDGING && m.kept as f64 > m.seen as f64 * KEEPS_TOO_MANY {
                m.off = true;
            }
            batch = kept;
        }
        Ok(batch)
    }
}

impl Stream for RuntimeFilterStream {
    type Item = Result<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        loop {
            let polled = match ready!(self.input.poll_next_unpin(cx)) {
                Some(Ok(batch)) => match self.filter_batch(batch) {
                    Ok(kept) if kept.num_rows() == 0 => continue,
                    other => Some(other),
                },
                other => other,
            };
            return self.baseline.record_poll(Poll::Ready(polled));
        }
    }
}

impl RecordBatchStream for RuntimeFilterStream {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;
    use std::sync::Arc;

    use datafusion::arrow::array::{Array, Int64Array, RecordBatch};
    use datafusion::arrow::datatypes::{DataType, Field, Schema};
    use datafusion::parquet::arrow::ArrowWriter;
    use datafusion::physical_plan::{ExecutionPlan, collect, displayable};
    use datafusion::prelude::ParquetReadOptions;
    use ember_common::SparkConf;

    use super::RuntimeFilterExec;
    use crate::session::SparkSession;

    /// `fact(k, g, v)`: k in 0..200,000 over two files, g = k % 1000, v = 2k.
    fn write_fact(dir: &Path) {
        let schema = Arc::new(Schema::new(["k", "g", "v"].map(|n| Field::new(n, DataType::Int64, false)).to_vec()));
        std::fs::create_dir_all(dir.join("fact")).unwrap();
        for f in 0..2i64 {
            let k: Vec<i64> = (f * 100_000..(f + 1) * 100_000).collect();
            let columns = [k.clone(), k.iter().map(|k| k % 1000).collect(), k.iter().map(|k| 2 * k).collect()];
            let batch =
                RecordBatch::try_new(schema.clone(), columns.map(|c| Arc::new(Int64Array::from(c)) as _).to_vec())
                    .unwrap();
            let file = std::fs::File::create(dir.join(format!("fact/part-{f}.parquet"))).unwrap();
            let mut w = ArrowWriter::try_new(file, schema.clone(), None).unwrap();
            w.write(&batch).unwrap();
            w.close().unwrap();
        }
    }

    /// Runs `sql` on `fact` in local[2]; its answer (one row of Int64s), its
    /// plan, and the output rows and unfiltered rows of its runtime filters.
    async fn run(dir: &Path, sql: &str) -> (Vec<Option<i64>>, String, usize, usize) {
        let mut conf = SparkConf::default();
        conf.set("spark.master", "local[2]");
        let spark = SparkSession::try_new("t", conf).unwrap();
        let fact = dir.join("fact").display().to_string();
        spark.ctx().register_parquet("fact", fact.as_str(), ParquetReadOptions::default()).await.unwrap();
        let plan = spark.ctx().sql(sql).await.unwrap().create_physical_plan().await.unwrap();
        let batches = collect(plan.clone(), spark.ctx().task_ctx()).await.unwrap();
        let row = batches
            .iter()
            .find(|b| b.num_rows() > 0)
            .map(|b| {
                b.columns()
                    .iter()
                    .map(|c| {
                        let c = c.as_any().downcast_ref::<Int64Array>().unwrap();
                        c.is_valid(0).then(|| c.value(0))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let (mut output, mut unfiltered) = (0, 0);
        let mut nodes: Vec<Arc<dyn ExecutionPlan>> = vec![plan.clone()];
        while let Some(node) = nodes.pop() {
            if (node.as_ref() as &dyn std::any::Any).downcast_ref::<RuntimeFilterExec>().is_some() {
                let metrics = node.metrics().unwrap();
                output += metrics.output_rows().unwrap_or(0);
                unfiltered += metrics.sum_by_name("unfiltered_rows").map(|m| m.as_usize()).unwrap_or(0);
            }
            nodes.extend(node.children().into_iter().cloned());
        }
        (row, displayable(plan.as_ref()).indent(true).to_string(), output, unfiltered)
    }

    /// A join's filter crosses another join down to the fact scan: the
    /// runtime filter above the scan drops every row but the two that
    /// match, and the answer is the join's.
    #[tokio::test]
    async fn a_selective_join_filter_drops_rows_at_the_scan() {
        let dir = tempfile::tempdir().unwrap();
        write_fact(dir.path());
        let sql = "SELECT count(*), sum(x.v) FROM (VALUES (CAST(7 AS BIGINT)), (CAST(123457 AS BIGINT))) AS s(k) \
                   JOIN (SELECT f.k, f.v FROM fact f JOIN (SELECT DISTINCT g FROM fact WHERE g % 2 = 1) d \
                   ON f.g = d.g) x ON x.k = s.k";
        let (row, plan, output, _) = run(dir.path(), sql).await;
        assert!(plan.contains("RuntimeFilterExec"), "{plan}");
        // 7 and 123457 are odd, so both rows pass the inner join.
        assert_eq!(row, vec![Some(2), Some(2 * (7 + 123_457))]);
        assert_eq!(output, 2, "the runtime filter kept only the matching rows: {plan}");
    }

    /// A filter that keeps every row stops being evaluated (the rows pass
    /// unfiltered), and the answer is unchanged.
    #[tokio::test]
    async fn a_filter_that_keeps_every_row_is_switched_off() {
        let dir = tempfile::tempdir().unwrap();
        write_fact(dir.path());
        let sql = "SELECT count(*), sum(x.v) FROM (SELECT k FROM fact WHERE v >= 0) s \
                   JOIN (SELECT f.k, f.v FROM fact f JOIN (SELECT DISTINCT g FROM fact) d ON f.g = d.g) x \
                   ON x.k = s.k";
        let (row, plan, output, unfiltered) = run(dir.path(), sql).await;
        let sum: i64 = (0..200_000i64).map(|k| 2 * k).sum();
        assert_eq!(row, vec![Some(200_000), Some(sum)]);
        assert!(plan.contains("RuntimeFilterExec"), "{plan}");
        assert!(unfiltered > 0, "rows passed unfiltered: {plan}");
        assert!(output >= 200_000, "{plan}");
    }
}
