//! A task's plan: its stage's plan narrowed to the one partition the task
//! runs.
//!
//! DataFusion operators that coordinate their partitions assume all of
//! them run in one process. A hash join's dynamic filter is the case that
//! matters: each probe partition reports the build side and waits until
//! every partition has, so in a task (one partition; its siblings run in
//! other tasks, often on other executors) it would wait forever. Narrowed
//! to one partition, every operator of the task sees exactly the
//! partitions that run: the join waits for its own report, and builds its
//! filter from the build side the task has (the whole one for a
//! collect-left join, whose build side every task reads in full).
//!
//! Narrowing follows partitions downward: an operator whose output
//! partition `p` is computed from partition `p` of its multi-partition
//! inputs (projections, filters, aggregates, joins, sorts, windows) is
//! rebuilt over its inputs narrowed to `p`; single-partition inputs (a
//! collect-left join's build side, a coalesced or merged shuffle) stay
//! whole; a leaf is wrapped to run its partition `p` as its only one.
//! Anything else (a union, whose partitions are its inputs' partitions
//! one after another) runs whole as the task's partition `p`, and the hash
//! joins inside it build no dynamic filter.

use std::any::Any;
use std::fmt;
use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Result, internal_err};
use datafusion::execution::TaskContext;
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_plan::joins::HashJoinExec;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, ExecutionPlanProperties, Partitioning, PlanProperties,
    SendableRecordBatchStream,
};

/// `plan` narrowed to its partition `partition`: a plan with one
/// partition whose rows are those of `plan`'s partition `partition`.
pub fn narrow(plan: Arc<dyn ExecutionPlan>, partition: usize) -> Result<Arc<dyn ExecutionPlan>> {
    let n = plan.output_partitioning().partition_count();
    if n == 1 {
        if partition != 0 {
            return internal_err!("partition {partition} of a plan with one partition");
        }
        return Ok(plan);
    }
    // spark_partition_id() reads the index of the partition that runs.
    if (plan.as_ref() as &dyn Any).is::<ember_sql::partition_id::PartitionIdExec>() {
        return Ok(Arc::new(OnePartitionExec::new(without_join_filters(plan)?, partition)));
    }
    let children = plan.children();
    if children.is_empty() {
        return Ok(Arc::new(OnePartitionExec::new(plan, partition)));
    }
    let aligned = children.iter().all(|c| {
        let m = c.output_partitioning().partition_count();
        m == 1 || m == n
    });
    if aligned {
        let narrowed = children
            .iter()
            .map(|c| match c.output_partitioning().partition_count() {
                1 => Ok(Arc::clone(c)),
                _ => narrow(Arc::clone(c), partition),
            })
            .collect::<Result<Vec<_>>>()?;
        #[allow(deprecated)]
        let rebuilt = Arc::clone(&plan).with_new_children(narrowed)?;
        if rebuilt.output_partitioning().partition_count() == 1 {
            return Ok(rebuilt);
        }
    }
    Ok(Arc::new(OnePartitionExec::new(without_join_filters(plan)?, partition)))
}

/// `plan` with no hash join building a dynamic filter: run whole as one
/// partition of several, such a join would wait for its other partitions.
fn without_join_filters(plan: Arc<dyn ExecutionPlan>) -> Result<Arc<dyn ExecutionPlan>> {
    plan.transform_up(|node| {
        if let Some(join) = (node.as_ref() as &dyn Any).downcast_ref::<HashJoinExec>()
            && !join.dynamic_expressions_produced().is_empty()
        {
            // Resetting drops the filter (and the unshared build state); the
            // scans below keep a filter that stays `true`.
            return Ok(Transformed::yes(join.builder().reset_state().build_exec()?));
        }
        Ok(Transformed::no(node))
    })
    .map(|t| t.data)
}

/// Runs partition `partition` of its input as its only partition.
#[derive(Debug)]
pub struct OnePartitionExec {
    input: Arc<dyn ExecutionPlan>,
    partition: usize,
    properties: Arc<PlanProperties>,
}

impl OnePartitionExec {
    pub fn new(input: Arc<dyn ExecutionPlan>, partition: usize) -> Self {
        let p = input.properties();
        let properties = Arc::new(PlanProperties::new(
            p.eq_properties.clone(),
            Partitioning::UnknownPartitioning(1),
            p.emission_type,
            p.boundedness,
        ));
        Self { input, partition, properties }
    }
}

impl DisplayAs for OnePartitionExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "OnePartitionExec: partition={}", self.partition)
    }
}

impl ExecutionPlan for OnePartitionExec {
    fn name(&self) -> &str {
        "OnePartitionExec"
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
            return internal_err!("OnePartitionExec has one child");
        }
        Ok(Arc::new(Self::new(children.swap_remove(0), self.partition)))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        if partition != 0 {
            return internal_err!("OnePartitionExec has one partition, not {}", partition + 1);
        }
        self.input.execute(self.partition, context)
    }
}
