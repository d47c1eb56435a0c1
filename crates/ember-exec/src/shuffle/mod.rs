//! Shuffle: map tasks write one Arrow IPC data file plus an index per task;
//! reduce tasks read local files directly and fetch remote blocks over
//! Arrow Flight `do_get`.
//!
//! File layout, in the executor's directory under `spark.local.dir`:
//! `shuffle_<shuffleId>_<mapId>_0.data` holds frames, each a complete Arrow
//! IPC stream (schema, one or more batches, end marker) for one reduce
//! partition; frames of different partitions interleave, so a map task
//! streams its output without holding it. `…_0.index` lists, per reduce
//! partition, the `(offset, length)` of its frames:
//! `u32 partitions, then per partition: u32 frames, frames × (u64 offset, u64 length)`,
//! little-endian.

mod reader;
mod writer;

use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::RecordBatch;
use arrow::ipc::CompressionType;
use arrow::ipc::reader::StreamReader;
use arrow::ipc::writer::{IpcWriteOptions, StreamWriter};
use datafusion::common::{DataFusionError, Result};

pub use reader::{ReaderKind, ShuffleReaderExec};
pub use writer::ShuffleWriterExec;

use crate::rpc::Clients;

/// What shuffle readers and writers need from the process they run in; it
/// travels in the task's `SessionConfig` as an extension.
#[derive(Debug)]
pub struct ShuffleEnv {
    /// The executor this task runs on (`driver` for the result fetch).
    pub executor_id: String,
    /// The directory this executor writes shuffle files to.
    pub dir: PathBuf,
    /// Connections to the other executors' Flight services.
    pub clients: Arc<Clients>,
}

/// A task context over `state` in which shuffle operators find `env`.
pub fn task_context(
    state: &datafusion::execution::SessionState,
    env: Arc<ShuffleEnv>,
) -> datafusion::execution::TaskContext {
    let mut config = state.config().clone().with_extension(env);
    // A task runs one partition: sibling partitions run elsewhere, so
    // their files must not be taken over (work stealing) here.
    config.options_mut().execution.enable_file_stream_work_stealing = false;
    datafusion::execution::TaskContext::from(state).with_session_config(config)
}

impl ShuffleEnv {
    pub fn data_path(&self, shuffle_id: u64, map_id: u64) -> PathBuf {
        data_path(&self.dir, shuffle_id, map_id)
    }
}

pub fn data_path(dir: &Path, shuffle_id: u64, map_id: u64) -> PathBuf {
    dir.join(format!("shuffle_{shuffle_id}_{map_id}_0.data"))
}

pub fn index_path(data: &Path) -> PathBuf {
    data.with_extension("index")
}

/// The shuffle codec for `spark.io.compression.codec` when
/// `spark.shuffle.compress` is on (Spark's lz4 default; zstd as asked;
/// codecs Arrow IPC lacks fall back to lz4).
pub fn compression(compress: bool, codec: &str) -> Option<CompressionType> {
    if !compress {
        return None;
    }
    match codec.to_ascii_lowercase().as_str() {
        "zstd" => Some(CompressionType::ZSTD),
        _ => Some(CompressionType::LZ4_FRAME),
    }
}

/// One frame: a complete IPC stream of `batches`.
pub fn encode_frame(batches: &[RecordBatch], compression: Option<CompressionType>) -> Result<Vec<u8>> {
    let Some(first) = batches.first() else { return Ok(vec![]) };
    let options = IpcWriteOptions::default().try_with_compression(compression)?;
    let mut buf = Vec::new();
    let mut w = StreamWriter::try_new_with_options(&mut buf, first.schema_ref(), options)?;
    for b in batches {
        w.write(b)?;
    }
    w.finish()?;
    drop(w);
    Ok(buf)
}

/// The batches of one frame.
pub fn decode_frame(frame: &[u8]) -> Result<Vec<RecordBatch>> {
    let reader = StreamReader::try_new(std::io::Cursor::new(frame), None)?;
    reader.map(|b| b.map_err(DataFusionError::from)).collect()
}

/// The per-partition frame lists of an index file.
pub fn read_index(bytes: &[u8]) -> Result<Vec<Vec<(u64, u64)>>> {
    let mut cur = Cursor { bytes, pos: 0 };
    let partitions = cur.u32()?;
    let mut out = Vec::with_capacity(partitions as usize);
    for _ in 0..partitions {
        let n = cur.u32()?;
        let mut frames = Vec::with_capacity(n as usize);
        for _ in 0..n {
            frames.push((cur.u64()?, cur.u64()?));
        }
        out.push(frames);
    }
    Ok(out)
}

pub fn write_index(frames: &[Vec<(u64, u64)>]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(frames.len() as u32).to_le_bytes());
    for p in frames {
        out.extend_from_slice(&(p.len() as u32).to_le_bytes());
        for (off, len) in p {
            out.extend_from_slice(&off.to_le_bytes());
            out.extend_from_slice(&len.to_le_bytes());
        }
    }
    out
}

struct Cursor<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Cursor<'_> {
    fn take<const N: usize>(&mut self) -> Result<[u8; N]> {
        let end = self.pos + N;
        let s = self
            .bytes
            .get(self.pos..end)
            .ok_or_else(|| DataFusionError::Execution("shuffle index file is truncated".into()))?;
        self.pos = end;
        let mut a = [0u8; N];
        a.copy_from_slice(s);
        Ok(a)
    }

    fn u32(&mut self) -> Result<u32> {
        Ok(u32::from_le_bytes(self.take()?))
    }

    fn u64(&mut self) -> Result<u64> {
        Ok(u64::from_le_bytes(self.take()?))
    }
}

/// The frames of one reduce partition of a local map output.
pub fn read_local_block(data: &Path, reduce_partition: usize) -> std::io::Result<Vec<Vec<u8>>> {
    use std::io::{Read, Seek, SeekFrom};
    let index = std::fs::read(index_path(data))?;
    let index = read_index(&index).map_err(std::io::Error::other)?;
    let Some(frames) = index.get(reduce_partition) else {
        return Err(std::io::Error::other(format!(
            "reduce partition {reduce_partition} is out of range for {}",
            data.display()
        )));
    };
    let mut f = std::fs::File::open(data)?;
    let mut out = Vec::with_capacity(frames.len());
    for (off, len) in frames {
        f.seek(SeekFrom::Start(*off))?;
        let mut buf = vec![0u8; *len as usize];
        f.read_exact(&mut buf)?;
        out.push(buf);
    }
    Ok(out)
}

/// A shuffle block that could not be read: the map output is lost and the
/// driver re-runs the map task that wrote it (Spark's `FetchFailedException`).
#[derive(Debug, Clone, thiserror::Error)]
#[error("FetchFailed(shuffle {shuffle_id}, map {map_index}, executor {executor_id}): {message}")]
pub struct FetchFailedError {
    pub shuffle_id: u64,
    pub map_index: u32,
    pub executor_id: String,
    pub message: String,
}

impl FetchFailedError {
    /// The fetch failure somewhere in `e`'s chain, if there is one.
    pub fn find(e: &DataFusionError) -> Option<&FetchFailedError> {
        match e {
            DataFusionError::External(inner) => inner
                .downcast_ref::<FetchFailedError>()
                .or_else(|| inner.downcast_ref::<DataFusionError>().and_then(Self::find)),
            DataFusionError::Shared(inner) => Self::find(inner),
            DataFusionError::Context(_, inner) | DataFusionError::Diagnostic(_, inner) => Self::find(inner),
            DataFusionError::Collection(errs) => errs.iter().find_map(Self::find),
            _ => None,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use arrow::array::Int64Array;
    use arrow::datatypes::{DataType, Field, Schema};

    #[test]
    fn index_round_trips() {
        let frames = vec![vec![(0, 10), (30, 5)], vec![], vec![(10, 20)]];
        assert_eq!(read_index(&write_index(&frames)).unwrap(), frames);
        assert!(read_index(&write_index(&frames)[..7]).is_err());
    }

    #[test]
    fn frames_round_trip_compressed() {
        let schema = Arc::new(Schema::new(vec![Field::new("x", DataType::Int64, true)]));
        let b = RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(vec![1, 2, 3]))]).unwrap();
        for c in [None, compression(true, "lz4"), compression(true, "zstd")] {
            let f = encode_frame(&[b.clone(), b.clone()], c).unwrap();
            let back = decode_frame(&f).unwrap();
            assert_eq!(back, vec![b.clone(), b.clone()]);
        }
    }
}
