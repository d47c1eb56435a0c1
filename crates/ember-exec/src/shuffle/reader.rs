//! `ShuffleReaderExec`: the leaf that replaces an exchange in the stage
//! that consumes a shuffle. Each of its partitions reads its blocks from
//! every map output (hash exchanges) or one map output whole (merges,
//! coalesces, results); local blocks come from disk, remote ones over
//! Flight. An unreadable block is a fetch failure, which the driver
//! answers by re-running the map task that wrote it.

use std::fmt;
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result, internal_err};
use datafusion::execution::TaskContext;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties, SendableRecordBatchStream,
};
use futures::{StreamExt, TryStreamExt};

use super::{FetchFailedError, ShuffleEnv, decode_frame, read_local_block};
use crate::proto::{MapLocation, ShuffleBlock};

/// Blocks fetched at once per reading partition.
const FETCHES_IN_FLIGHT: usize = 4;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReaderKind {
    /// Partition `p` reads reduce partition `p` of every map output.
    Hash,
    /// Partition `i` reads map output `i` whole.
    Whole,
}

#[derive(Debug)]
pub struct ShuffleReaderExec {
    shuffle_id: u64,
    /// The stage whose map outputs this reads.
    stage_id: u64,
    kind: ReaderKind,
    /// Where each map task's output is, by map partition; empty until the
    /// driver resolves the stage before launching it.
    locations: Vec<MapLocation>,
    properties: Arc<PlanProperties>,
}

impl ShuffleReaderExec {
    pub fn new(
        shuffle_id: u64,
        stage_id: u64,
        schema: SchemaRef,
        kind: ReaderKind,
        partitions: usize,
        locations: Vec<MapLocation>,
    ) -> Self {
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(schema),
            Partitioning::UnknownPartitioning(partitions),
            EmissionType::Incremental,
            Boundedness::Bounded,
        ));
        Self { shuffle_id, stage_id, kind, locations, properties }
    }

    pub fn shuffle_id(&self) -> u64 {
        self.shuffle_id
    }

    pub fn stage_id(&self) -> u64 {
        self.stage_id
    }

    pub fn kind(&self) -> ReaderKind {
        self.kind
    }

    pub fn locations(&self) -> &[MapLocation] {
        &self.locations
    }

    pub fn partitions(&self) -> usize {
        self.properties.partitioning.partition_count()
    }

    /// The same reader with the map outputs' locations filled in.
    pub fn resolved(&self, locations: Vec<MapLocation>) -> Self {
        Self::new(self.shuffle_id, self.stage_id, self.schema(), self.kind, self.partitions(), locations)
    }
}

impl DisplayAs for ShuffleReaderExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "ShuffleReaderExec: shuffle={}, stage={}, kind={:?}", self.shuffle_id, self.stage_id, self.kind)
    }
}

impl ExecutionPlan for ShuffleReaderExec {
    fn name(&self) -> &str {
        "ShuffleReaderExec"
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
            return internal_err!("ShuffleReaderExec has no children");
        }
        Ok(self)
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        let Some(env) = context.session_config().get_extension::<ShuffleEnv>() else {
            return internal_err!("ShuffleReaderExec runs only in a task with a shuffle environment");
        };
        let blocks: Vec<(u32, MapLocation, u32)> = match self.kind {
            ReaderKind::Hash => self
                .locations
                .iter()
                .enumerate()
                .map(|(map_index, loc)| (map_index as u32, loc.clone(), partition as u32))
                .collect(),
            ReaderKind::Whole => match self.locations.get(partition) {
                Some(loc) => vec![(partition as u32, loc.clone(), 0)],
                None => return internal_err!("shuffle {} has no map output {partition}", self.shuffle_id),
            },
        };
        let shuffle_id = self.shuffle_id;
        let frames = futures::stream::iter(blocks)
            .map(move |(map_index, loc, reduce)| fetch_block(env.clone(), shuffle_id, map_index, loc, reduce))
            .buffered(FETCHES_IN_FLIGHT)
            .map_ok(|frames| futures::stream::iter(frames.into_iter().map(Ok::<_, DataFusionError>)))
            .try_flatten();
        let batches = frames
            .and_then(|frame| async move {
                tokio::task::spawn_blocking(move || decode_frame(&frame))
                    .await
                    .map_err(|e| DataFusionError::External(Box::new(e)))?
            })
            .map_ok(|batches: Vec<RecordBatch>| futures::stream::iter(batches.into_iter().map(Ok)))
            .try_flatten();
        Ok(Box::pin(RecordBatchStreamAdapter::new(self.schema(), batches)))
    }
}

async fn fetch_block(
    env: Arc<ShuffleEnv>,
    shuffle_id: u64,
    map_index: u32,
    loc: MapLocation,
    reduce_partition: u32,
) -> Result<Vec<Vec<u8>>> {
    let failed = |message: String| {
        DataFusionError::External(Box::new(FetchFailedError {
            shuffle_id,
            map_index,
            executor_id: loc.executor_id.clone(),
            message,
        }))
    };
    if loc.executor_id == env.executor_id {
        let path = env.data_path(shuffle_id, loc.map_id);
        return tokio::task::spawn_blocking(move || read_local_block(&path, reduce_partition as usize))
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?
            .map_err(|e| failed(e.to_string()));
    }
    let block = ShuffleBlock { shuffle_id, map_id: loc.map_id, reduce_partition };
    env.clients.fetch_block(&loc.address, &block).await.map_err(|e| failed(e.to_string()))
}
