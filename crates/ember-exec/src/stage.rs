//! Cutting a physical plan into stages at its exchanges.
//!
//! Every stage ends in a [`ShuffleWriterExec`]; the exchange it replaces
//! becomes a [`ShuffleReaderExec`] in the consuming stage:
//! - a repartition (hash or round-robin) → the map side writes one block
//!   per reduce partition; reduce partition `p` reads block `p` of every
//!   map output;
//! - a coalesce to one partition or a sorted merge → the map side writes
//!   its output whole and the coalesce/merge runs over the map outputs in
//!   the consuming stage (this is also how a broadcast side reaches every
//!   task of a join);
//! - the result stage writes its partitions whole and the driver reads them
//!   in partition order.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow::ipc::CompressionType;
use datafusion::common::Result;
use datafusion::physical_expr::LexOrdering;
use datafusion::physical_plan::ExecutionPlan;
use datafusion::physical_plan::coalesce_partitions::CoalescePartitionsExec;
use datafusion::physical_plan::repartition::RepartitionExec;
use datafusion::physical_plan::sorts::sort::SortExec;
use datafusion::physical_plan::sorts::sort_preserving_merge::SortPreservingMergeExec;

use crate::shuffle::{ReaderKind, ShuffleReaderExec, ShuffleWriterExec};

/// One stage of a job.
#[derive(Debug, Clone)]
pub struct Stage {
    pub id: u64,
    pub shuffle_id: u64,
    /// Rooted at a `ShuffleWriterExec`; its readers are unresolved.
    pub plan: Arc<dyn ExecutionPlan>,
    /// The stages whose output this one reads.
    pub parents: Vec<u64>,
    /// One task per partition of the writer's input.
    pub tasks: usize,
    /// The encoded plan, kept when it reads no other stage (nothing to
    /// resolve, so the first attempt ships these bytes as they are).
    pub encoded: Option<Arc<Vec<u8>>>,
}

/// The stages of one job; `result` is the last one.
#[derive(Debug)]
pub struct StageGraph {
    pub stages: BTreeMap<u64, Stage>,
    pub result: u64,
}

/// Hands out application-unique stage and shuffle ids.
pub trait IdSource {
    fn next_stage_id(&self) -> u64;
    fn next_shuffle_id(&self) -> u64;
}

/// Cuts `plan` into stages; `partitions` is the number of partitions of
/// exchanges the cutter adds (`spark.sql.shuffle.partitions`).
pub fn split(
    plan: Arc<dyn ExecutionPlan>,
    ids: &dyn IdSource,
    compression: Option<CompressionType>,
    partitions: usize,
) -> Result<StageGraph> {
    let plan = distribute_collect_left_joins(plan, partitions)?;
    let mut cutter = Cutter { ids, compression, stages: BTreeMap::new(), done: Default::default() };
    let (root, parents) = cutter.cut(plan)?;
    let result = cutter.add_stage(root, None, parents);
    Ok(StageGraph { stages: cutter.stages, result: result.0 })
}

struct Cutter<'a> {
    ids: &'a dyn IdSource,
    compression: Option<CompressionType>,
    stages: BTreeMap<u64, Stage>,
    /// Subplans already cut, by identity: a subplan that appears twice
    /// (a build side shared by two joins) is computed by the same stages.
    done: std::collections::HashMap<usize, (Arc<dyn ExecutionPlan>, Vec<u64>)>,
}

impl Cutter<'_> {
    /// The plan with its exchanges replaced by readers, and the stages it reads.
    fn cut(&mut self, plan: Arc<dyn ExecutionPlan>) -> Result<(Arc<dyn ExecutionPlan>, Vec<u64>)> {
        // Keyed by address: `plan` stays alive in the tree being cut.
        let key = Arc::as_ptr(&plan) as *const () as usize;
        if let Some(done) = self.done.get(&key) {
            return Ok(done.clone());
        }
        let cut = self.cut_new(plan)?;
        self.done.insert(key, cut.clone());
        Ok(cut)
    }

    fn cut_new(&mut self, plan: Arc<dyn ExecutionPlan>) -> Result<(Arc<dyn ExecutionPlan>, Vec<u64>)> {
        let mut parents = vec![];
        let mut children = vec![];
        for child in plan.children() {
            let (c, p) = self.cut(child.clone())?;
            children.push(c);
            parents.extend(p);
        }
        let any = plan.as_ref() as &dyn std::any::Any;
        if let Some(r) = any.downcast_ref::<RepartitionExec>()
            && let [input] = children.as_slice()
        {
            let partitioning = r.partitioning().clone();
            let n = partitioning.partition_count();
            let (stage, shuffle) = self.add_stage(input.clone(), Some(partitioning), std::mem::take(&mut parents));
            let reader: Arc<dyn ExecutionPlan> =
                Arc::new(ShuffleReaderExec::new(shuffle, stage, input.schema(), ReaderKind::Hash, n, vec![]));
            // An exchange whose output is sorted (it preserves order, or has
            // one input partition): the reader's blocks are sorted runs, so
            // each partition is sorted again.
            let reader = match r.properties().output_ordering() {
                Some(ordering) => {
                    Arc::new(SortExec::new(ordering.clone(), reader).with_preserve_partitioning(true)) as _
                }
                None => reader,
            };
            return Ok((reader, vec![stage]));
        }
        if let Some(c) = any.downcast_ref::<CoalescePartitionsExec>()
            && let [input] = children.as_slice()
            && input.output_partitioning().partition_count() > 1
        {
            let reader = self.whole_reader(input.clone(), &mut parents);
            let coalesce = CoalescePartitionsExec::new(reader.0).with_fetch(c.fetch());
            return Ok((Arc::new(coalesce), vec![reader.1]));
        }
        if let Some(m) = any.downcast_ref::<SortPreservingMergeExec>()
            && let [input] = children.as_slice()
            && input.output_partitioning().partition_count() > 1
        {
            let ordering: LexOrdering = m.expr().clone();
            let reader = self.whole_reader(input.clone(), &mut parents);
            let merge = SortPreservingMergeExec::new(ordering, reader.0).with_fetch(m.fetch());
            return Ok((Arc::new(merge), vec![reader.1]));
        }
        if children.is_empty() {
            return Ok((plan, parents));
        }
        let children = sort_window_partitions(&plan, children)?;
        #[allow(deprecated)]
        let plan = plan.with_new_children(children)?;
        Ok((plan, parents))
    }

    /// A stage writing `input` whole, and a reader of it.
    fn whole_reader(&mut self, input: Arc<dyn ExecutionPlan>, parents: &mut Vec<u64>) -> (Arc<dyn ExecutionPlan>, u64) {
        let n = input.output_partitioning().partition_count();
        let schema = input.schema();
        let (stage, shuffle) = self.add_stage(input, None, std::mem::take(parents));
        (Arc::new(ShuffleReaderExec::new(shuffle, stage, schema, ReaderKind::Whole, n, vec![])), stage)
    }

    fn add_stage(
        &mut self,
        input: Arc<dyn ExecutionPlan>,
        partitioning: Option<datafusion::physical_plan::Partitioning>,
        parents: Vec<u64>,
    ) -> (u64, u64) {
        let id = self.ids.next_stage_id();
        let shuffle_id = self.ids.next_shuffle_id();
        let tasks = input.output_partitioning().partition_count();
        let mut parents = parents;
        parents.sort_unstable();
        parents.dedup();
        let plan = Arc::new(ShuffleWriterExec::new(input, shuffle_id, partitioning, self.compression));
        self.stages.insert(id, Stage { id, shuffle_id, plan, parents, tasks, encoded: None });
        (id, shuffle_id)
    }
}

use datafusion::physical_plan::ExecutionPlanProperties;

/// Why `plan` must run in the driver: parts of it would not survive the
/// trip to an executor (datafusion-proto drops them), or `None`.
pub fn driver_only(plan: &Arc<dyn ExecutionPlan>) -> Option<String> {
    use datafusion::physical_plan::memory::LazyMemoryExec;
    use ember_sql::driver_only::DriverOnlyExec;
    let any = plan.as_ref() as &dyn std::any::Any;
    // Scans ember-sql marked (multi-line JSON, for one).
    if let Some(d) = any.downcast_ref::<DriverOnlyExec>() {
        return Some(d.reason.to_string());
    }
    // A generated series projected to no columns (`range(n).count()`)
    // would be decoded with its columns again.
    if any.downcast_ref::<LazyMemoryExec>().is_some_and(|m| m.schema().fields().is_empty()) {
        return Some("a generated series without columns".into());
    }
    plan.children().into_iter().find_map(driver_only)
}

/// Joins that collect their left side and emit unmatched (or matched-once)
/// left rows after the last probe partition (left, full, semi, anti, mark)
/// count their probe partitions within one process; in a job each task
/// runs one, so none would be last. Left, semi, anti and mark joins probe
/// one partition holding only the probe rows that match some build row:
/// the tasks of the probe side keep those (a right semi join against the
/// same build side, which is computed once), and no other probe row can
/// change such a join's answer. Full joins become partitioned hash joins
/// (both sides shuffled on the keys); null-aware anti joins (where any
/// NULL probe key matters) and nested-loop joins probe one partition.
fn distribute_collect_left_joins(plan: Arc<dyn ExecutionPlan>, partitions: usize) -> Result<Arc<dyn ExecutionPlan>> {
    use datafusion::common::JoinType;
    use datafusion::common::tree_node::{Transformed, TreeNode};
    use datafusion::physical_plan::Partitioning;
    use datafusion::physical_plan::joins::{HashJoinExec, NestedLoopJoinExec, PartitionMode};

    let emits_left_at_end = |t: &JoinType| {
        matches!(t, JoinType::Left | JoinType::LeftAnti | JoinType::LeftSemi | JoinType::LeftMark | JoinType::Full)
    };
    let one_probe_partition = |right: &Arc<dyn ExecutionPlan>| -> Arc<dyn ExecutionPlan> {
        if right.output_partitioning().partition_count() > 1 {
            Arc::new(CoalescePartitionsExec::new(right.clone()))
        } else {
            right.clone()
        }
    };
    plan.transform_up(|node| {
        let any = node.as_ref() as &dyn std::any::Any;
        if let Some(h) = any.downcast_ref::<HashJoinExec>()
            && *h.partition_mode() == PartitionMode::CollectLeft
            && emits_left_at_end(h.join_type())
            && h.right().output_partitioning().partition_count() > 1
        {
            let new = if h.null_aware {
                let children = vec![h.left().clone(), one_probe_partition(h.right())];
                h.builder().with_new_children(children)?.recompute_properties().build_exec()?
            } else if *h.join_type() != JoinType::Full {
                let matching = HashJoinExec::try_new(
                    h.left().clone(),
                    h.right().clone(),
                    h.on().to_vec(),
                    h.filter().cloned(),
                    &JoinType::RightSemi,
                    None,
                    PartitionMode::CollectLeft,
                    h.null_equality(),
                    false,
                )?;
                let children = vec![h.left().clone(), one_probe_partition(&(Arc::new(matching) as _))];
                h.builder().with_new_children(children)?.recompute_properties().build_exec()?
            } else {
                let left = match (h.left().as_ref() as &dyn std::any::Any).downcast_ref::<CoalescePartitionsExec>() {
                    Some(c) => c.input().clone(),
                    None => h.left().clone(),
                };
                let (lk, rk): (Vec<_>, Vec<_>) = h.on().iter().cloned().unzip();
                let left = Arc::new(RepartitionExec::try_new(left, Partitioning::Hash(lk, partitions))?);
                let right = Arc::new(RepartitionExec::try_new(h.right().clone(), Partitioning::Hash(rk, partitions))?);
                h.builder()
                    .with_partition_mode(PartitionMode::Partitioned)
                    .with_new_children(vec![left, right])?
                    .recompute_properties()
                    .build_exec()?
            };
            return Ok(Transformed::yes(new));
        }
        if let Some(j) = any.downcast_ref::<NestedLoopJoinExec>()
            && emits_left_at_end(j.join_type())
            && j.right().output_partitioning().partition_count() > 1
        {
            let children = vec![j.left().clone(), one_probe_partition(j.right())];
            #[allow(deprecated)]
            let new = node.clone().with_new_children(children)?;
            return Ok(Transformed::yes(new));
        }
        Ok(Transformed::no(node))
    })
    .map(|t| t.data)
}

/// A window's input sort may leave out partition keys the optimizer knew
/// to be constant (`WHERE grp = 'a'` before `PARTITION BY grp`); a shuffle
/// reader does not carry that knowledge to the executor, where the window
/// would then reject its input. The sort names them explicitly.
fn sort_window_partitions(
    plan: &Arc<dyn ExecutionPlan>,
    mut children: Vec<Arc<dyn ExecutionPlan>>,
) -> Result<Vec<Arc<dyn ExecutionPlan>>> {
    use datafusion::physical_expr::PhysicalSortExpr;
    use datafusion::physical_plan::windows::{BoundedWindowAggExec, WindowAggExec};
    let any = plan.as_ref() as &dyn std::any::Any;
    let partition_by = if let Some(w) = any.downcast_ref::<BoundedWindowAggExec>() {
        w.window_expr().first().map(|e| e.partition_by().to_vec())
    } else if let Some(w) = any.downcast_ref::<WindowAggExec>() {
        w.window_expr().first().map(|e| e.partition_by().to_vec())
    } else {
        None
    };
    let (Some(keys), [child]) = (partition_by, children.as_slice()) else { return Ok(children) };
    let Some(sort) = (child.as_ref() as &dyn std::any::Any).downcast_ref::<SortExec>() else { return Ok(children) };
    let missing: Vec<PhysicalSortExpr> = keys
        .iter()
        .filter(|k| !sort.expr().iter().any(|s| s.expr.as_ref() == k.as_ref()))
        .map(|k| PhysicalSortExpr::new_default(k.clone()))
        .collect();
    if missing.is_empty() {
        return Ok(children);
    }
    let Some(ordering) = LexOrdering::new(missing.into_iter().chain(sort.expr().iter().cloned())) else {
        return Ok(children);
    };
    let resorted = SortExec::new(ordering, sort.input().clone())
        .with_preserve_partitioning(sort.preserve_partitioning())
        .with_fetch(sort.fetch());
    children[0] = Arc::new(resorted);
    Ok(children)
}

/// `plan` with every reader of a finished stage given its map outputs.
pub fn resolve(
    plan: &Arc<dyn ExecutionPlan>,
    outputs: &dyn Fn(u64) -> Option<Vec<crate::proto::MapLocation>>,
) -> Result<Arc<dyn ExecutionPlan>> {
    let any = plan.as_ref() as &dyn std::any::Any;
    if let Some(r) = any.downcast_ref::<ShuffleReaderExec>() {
        let locations = outputs(r.stage_id()).ok_or_else(|| {
            datafusion::common::DataFusionError::Internal(format!("stage {} has not finished", r.stage_id()))
        })?;
        return Ok(Arc::new(r.resolved(locations)));
    }
    let children = plan.children();
    if children.is_empty() {
        return Ok(plan.clone());
    }
    let children = children.into_iter().map(|c| resolve(c, outputs)).collect::<Result<Vec<_>>>()?;
    #[allow(deprecated)]
    plan.clone().with_new_children(children)
}
