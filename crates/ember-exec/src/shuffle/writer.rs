//! `ShuffleWriterExec`: the root of every stage. It runs one input
//! partition, splits its rows by the stage's output partitioning and writes
//! them as one data file plus an index (see the module docs); its own
//! output is one row per reduce partition with the rows and bytes written.

use std::fmt;
use std::io::Write;
use std::sync::{Arc, LazyLock};

use arrow::array::{RecordBatch, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::ipc::CompressionType;
use datafusion::common::tree_node::TreeNodeRecursion;
use datafusion::common::{DataFusionError, Result, internal_err};
use datafusion::execution::TaskContext;
use datafusion::physical_expr::{EquivalenceProperties, PhysicalExpr};
use datafusion::physical_plan::execution_plan::{Boundedness, EmissionType};
use datafusion::physical_plan::metrics::Time;
use datafusion::physical_plan::repartition::BatchPartitioner;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::physical_plan::{
    DisplayAs, DisplayFormatType, ExecutionPlan, Partitioning, PlanProperties, SendableRecordBatchStream,
};
use futures::StreamExt;

use super::{ShuffleEnv, encode_frame, index_path, write_index};

/// A frame is written once a reduce partition has buffered this many rows…
const FRAME_ROWS: usize = 8192;
/// …or this many bytes.
const FRAME_BYTES: usize = 4 << 20;

/// The writer's output: rows and bytes per reduce partition.
pub static SUMMARY_SCHEMA: LazyLock<SchemaRef> = LazyLock::new(|| {
    Arc::new(Schema::new(vec![
        Field::new("rows", DataType::UInt64, false),
        Field::new("bytes", DataType::UInt64, false),
    ]))
});

#[derive(Debug)]
pub struct ShuffleWriterExec {
    input: Arc<dyn ExecutionPlan>,
    shuffle_id: u64,
    /// How rows go to reduce partitions; `None` keeps a map task's output
    /// whole (one reduce partition: results, merges, coalesces).
    partitioning: Option<Partitioning>,
    compression: Option<CompressionType>,
    properties: Arc<PlanProperties>,
}

impl ShuffleWriterExec {
    pub fn new(
        input: Arc<dyn ExecutionPlan>,
        shuffle_id: u64,
        partitioning: Option<Partitioning>,
        compression: Option<CompressionType>,
    ) -> Self {
        let n = input.properties().partitioning.partition_count();
        let properties = Arc::new(PlanProperties::new(
            EquivalenceProperties::new(SUMMARY_SCHEMA.clone()),
            Partitioning::UnknownPartitioning(n),
            EmissionType::Final,
            Boundedness::Bounded,
        ));
        Self { input, shuffle_id, partitioning, compression, properties }
    }

    pub fn shuffle_id(&self) -> u64 {
        self.shuffle_id
    }

    pub fn partitioning(&self) -> Option<&Partitioning> {
        self.partitioning.as_ref()
    }

    pub fn compression(&self) -> Option<CompressionType> {
        self.compression
    }

    pub fn input(&self) -> &Arc<dyn ExecutionPlan> {
        &self.input
    }

    /// The number of reduce partitions.
    pub fn output_partitions(&self) -> usize {
        self.partitioning.as_ref().map(Partitioning::partition_count).unwrap_or(1)
    }
}

impl DisplayAs for ShuffleWriterExec {
    fn fmt_as(&self, _t: DisplayFormatType, f: &mut fmt::Formatter) -> fmt::Result {
        match &self.partitioning {
            Some(p) => write!(f, "ShuffleWriterExec: shuffle={}, partitioning={p}", self.shuffle_id),
            None => write!(f, "ShuffleWriterExec: shuffle={}, partitioning=whole", self.shuffle_id),
        }
    }
}

impl ExecutionPlan for ShuffleWriterExec {
    fn name(&self) -> &str {
        "ShuffleWriterExec"
    }

    fn properties(&self) -> &Arc<PlanProperties> {
        &self.properties
    }

    fn children(&self) -> Vec<&Arc<dyn ExecutionPlan>> {
        vec![&self.input]
    }

    fn apply_expressions(
        &self,
        f: &mut dyn FnMut(&Arc<dyn PhysicalExpr>) -> Result<TreeNodeRecursion>,
    ) -> Result<TreeNodeRecursion> {
        if let Some(Partitioning::Hash(exprs, _)) = &self.partitioning {
            for e in exprs {
                if f(e)? == TreeNodeRecursion::Stop {
                    return Ok(TreeNodeRecursion::Stop);
                }
            }
        }
        Ok(TreeNodeRecursion::Continue)
    }

    fn with_new_children(self: Arc<Self>, mut children: Vec<Arc<dyn ExecutionPlan>>) -> Result<Arc<dyn ExecutionPlan>> {
        if children.len() != 1 {
            return internal_err!("ShuffleWriterExec has one child");
        }
        Ok(Arc::new(Self::new(children.swap_remove(0), self.shuffle_id, self.partitioning.clone(), self.compression)))
    }

    fn execute(&self, partition: usize, context: Arc<TaskContext>) -> Result<SendableRecordBatchStream> {
        let Some(env) = context.session_config().get_extension::<ShuffleEnv>() else {
            return internal_err!("ShuffleWriterExec runs only in an executor task");
        };
        let map_id = context
            .task_id()
            .and_then(|t| t.parse::<u64>().ok())
            .ok_or_else(|| DataFusionError::Internal("a shuffle map task needs a numeric task id".into()))?;
        // The task runs its partition alone: see crate::task.
        let input = crate::task::narrow(self.input.clone(), partition)?.execute(0, context)?;
        let input_partitions = self.input.properties().partitioning.partition_count();
        let partitioner = self
            .partitioning
            .clone()
            .map(|p| BatchPartitioner::try_new(p, Time::new(), partition, input_partitions))
            .transpose()?;
        let sink =
            FrameSink::create(env.data_path(self.shuffle_id, map_id), self.output_partitions(), self.compression)?;
        let fut = write_all(input, partitioner, sink);
        Ok(Box::pin(RecordBatchStreamAdapter::new(SUMMARY_SCHEMA.clone(), futures::stream::once(fut))))
    }
}

async fn write_all(
    mut input: SendableRecordBatchStream,
    mut partitioner: Option<BatchPartitioner>,
    mut sink: FrameSink,
) -> Result<RecordBatch> {
    while let Some(batch) = input.next().await {
        let batch = batch?;
        if batch.num_rows() == 0 {
            continue;
        }
        match &mut partitioner {
            Some(p) => p.partition(batch, |i, b| sink.push(i, b))?,
            None => sink.push(0, batch)?,
        }
    }
    sink.finish()
}

/// Buffers rows per reduce partition and appends them to the data file
/// as frames; `finish` writes the index and publishes both files.
struct FrameSink {
    data: std::path::PathBuf,
    tmp: std::path::PathBuf,
    file: std::io::BufWriter<std::fs::File>,
    offset: u64,
    compression: Option<CompressionType>,
    buffers: Vec<Vec<RecordBatch>>,
    buffered_rows: Vec<usize>,
    buffered_bytes: Vec<usize>,
    frames: Vec<Vec<(u64, u64)>>,
    rows: Vec<u64>,
    bytes: Vec<u64>,
}

impl FrameSink {
    fn create(data: std::path::PathBuf, partitions: usize, compression: Option<CompressionType>) -> Result<Self> {
        if let Some(dir) = data.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let tmp = data.with_extension(format!("data.{}.tmp", uuid::Uuid::new_v4().simple()));
        let file = std::io::BufWriter::new(std::fs::File::create(&tmp)?);
        Ok(Self {
            data,
            tmp,
            file,
            offset: 0,
            compression,
            buffers: vec![vec![]; partitions],
            buffered_rows: vec![0; partitions],
            buffered_bytes: vec![0; partitions],
            frames: vec![vec![]; partitions],
            rows: vec![0; partitions],
            bytes: vec![0; partitions],
        })
    }

    fn push(&mut self, partition: usize, batch: RecordBatch) -> Result<()> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        let batch = compact_views(batch)?;
        self.buffered_rows[partition] += batch.num_rows();
        self.buffered_bytes[partition] += batch.get_array_memory_size();
        self.buffers[partition].push(batch);
        if self.buffered_rows[partition] >= FRAME_ROWS || self.buffered_bytes[partition] >= FRAME_BYTES {
            self.flush(partition)?;
        }
        Ok(())
    }

    fn flush(&mut self, partition: usize) -> Result<()> {
        let batches = std::mem::take(&mut self.buffers[partition]);
        if batches.is_empty() {
            return Ok(());
        }
        // One batch per frame: IPC compresses every buffer of every batch on
        // its own, and a partitioner's pieces can be a few rows each.
        let batch = match batches.as_slice() {
            [one] => one.clone(),
            _ => arrow::compute::concat_batches(batches[0].schema_ref(), &batches)?,
        };
        let frame = encode_frame(std::slice::from_ref(&batch), self.compression)?;
        self.file.write_all(&frame)?;
        let len = frame.len() as u64;
        self.frames[partition].push((self.offset, len));
        self.offset += len;
        self.rows[partition] += self.buffered_rows[partition] as u64;
        self.bytes[partition] += len;
        self.buffered_rows[partition] = 0;
        self.buffered_bytes[partition] = 0;
        Ok(())
    }

    fn finish(mut self) -> Result<RecordBatch> {
        for p in 0..self.buffers.len() {
            self.flush(p)?;
        }
        // Not synced to disk (Spark's spark.shuffle.sync is off by default):
        // shuffle files live as long as their executor, and the renames
        // below are what readers rely on.
        self.file.flush()?;
        let index = index_path(&self.data);
        let index_tmp = index.with_extension(format!("index.{}.tmp", uuid::Uuid::new_v4().simple()));
        std::fs::write(&index_tmp, write_index(&self.frames))?;
        // Data first, then the index: a reader that finds the index finds the data.
        std::fs::rename(&self.tmp, &self.data)?;
        std::fs::rename(&index_tmp, &index)?;
        Ok(RecordBatch::try_new(
            SUMMARY_SCHEMA.clone(),
            vec![Arc::new(UInt64Array::from(self.rows.clone())), Arc::new(UInt64Array::from(self.bytes.clone()))],
        )?)
    }
}

impl Drop for FrameSink {
    fn drop(&mut self) {
        // A failed or cancelled task leaves no partial file behind.
        let _ = std::fs::remove_file(&self.tmp);
    }
}

/// `batch` with its string and binary view columns holding only the bytes
/// their rows use. A view array can share data buffers far larger than its
/// rows (a join's output takes its strings from the whole build side; a
/// partitioner's slices share their input's), and IPC writes each batch's
/// buffers whole: unshared, a shuffle of a few MB grew to gigabytes.
fn compact_views(batch: RecordBatch) -> Result<RecordBatch> {
    use arrow::array::{ArrayRef, AsArray, GenericByteViewArray};
    use arrow::datatypes::ByteViewType;
    /// The array garbage-collected, if its data buffers hold bytes no row uses.
    fn compacted<T: ByteViewType + ?Sized>(a: &GenericByteViewArray<T>) -> Option<ArrayRef> {
        let held: usize = a.data_buffers().iter().map(|b| b.len()).sum();
        (held > a.total_buffer_bytes_used()).then(|| Arc::new(a.gc()) as ArrayRef)
    }
    let schema = batch.schema();
    if !schema.fields().iter().any(|f| matches!(f.data_type(), DataType::Utf8View | DataType::BinaryView)) {
        return Ok(batch);
    }
    let columns = batch
        .columns()
        .iter()
        .map(|c| {
            let compact = match c.data_type() {
                DataType::Utf8View => compacted(c.as_string_view()),
                DataType::BinaryView => compacted(c.as_binary_view()),
                _ => None,
            };
            compact.unwrap_or_else(|| c.clone())
        })
        .collect::<Vec<_>>();
    Ok(RecordBatch::try_new(schema, columns)?)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use arrow::array::{StringViewArray, UInt32Array};

    #[test]
    fn view_columns_are_written_with_only_the_bytes_their_rows_use() {
        // 10,000 strings of 100 bytes: a 1 MB data buffer; ten rows taken
        // from it still share all of it.
        let strings: Vec<String> = (0..10_000).map(|i| format!("{i:0>100}")).collect();
        let all = StringViewArray::from_iter_values(strings.iter());
        let taken =
            arrow::compute::take(&all, &UInt32Array::from(vec![1, 500, 9_999, 42, 7, 8, 9, 10, 11, 12]), None).unwrap();
        let schema = Arc::new(Schema::new(vec![Field::new("s", DataType::Utf8View, false)]));
        let batch = RecordBatch::try_new(schema, vec![taken]).unwrap();

        let shared = super::super::encode_frame(std::slice::from_ref(&batch), None).unwrap();
        let compact = compact_views(batch.clone()).unwrap();
        let frame = super::super::encode_frame(std::slice::from_ref(&compact), None).unwrap();
        assert!(shared.len() > 1_000_000, "the shared buffer is written whole: {} bytes", shared.len());
        assert!(frame.len() < 10_000, "ten 100-byte strings took {} bytes", frame.len());
        assert_eq!(super::super::decode_frame(&frame).unwrap(), vec![batch]);
    }
}
