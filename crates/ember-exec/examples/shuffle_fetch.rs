//! Shuffle fetch throughput: one executor serves a 1 GiB shuffle (8 map
//! outputs × 8 reduce partitions, lz4 as Spark's default codec), and a
//! reader fetches every block over Arrow Flight `do_get`, as reduce tasks
//! on other executors do. Prints MB/s of Arrow data fetched and decoded.
//!
//! `cargo run --release -p ember-exec --example shuffle_fetch [GiB]`

use std::sync::Arc;
use std::time::Instant;

use arrow::array::{Float64Array, Int64Array, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use ember_common::SparkConf;
use ember_exec::proto::ShuffleBlock;
use ember_exec::rpc::Clients;
use ember_exec::shuffle::{compression, data_path, decode_frame, encode_frame, index_path, write_index};
use ember_exec::{Driver, DriverOptions, InProcess, ResourceProfile};
use futures::StreamExt;

const MAPS: u64 = 8;
const REDUCES: u32 = 8;
const ROWS: usize = 8192;

fn batch(seed: u64, schema: &Arc<Schema>) -> Result<RecordBatch, Box<dyn std::error::Error>> {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let ids: Vec<i64> = (0..ROWS).map(|_| next() as i64).collect();
    let prices: Vec<f64> = (0..ROWS).map(|_| (next() % 1_000_000) as f64 / 100.0).collect();
    let comments: Vec<String> = (0..ROWS).map(|_| format!("{:016x}{:016x}-comment", next(), next())).collect();
    Ok(RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int64Array::from(ids)),
            Arc::new(Float64Array::from(prices)),
            Arc::new(StringArray::from(comments)),
        ],
    )?)
}

#[tokio::main(flavor = "multi_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let gib: f64 = std::env::args().nth(1).and_then(|a| a.parse().ok()).unwrap_or(1.0);
    let dir = tempfile::tempdir()?;
    let mut conf = SparkConf::new();
    conf.set("spark.ui.showConsoleProgress", "false");
    conf.set("spark.local.dir", dir.path().display().to_string());
    let profile = ResourceProfile { cores: 2, memory_mib: 1024 };
    let opts = DriverOptions::from_conf(&conf, "app-bench-0000".into(), 1, profile)?;
    let driver = Driver::start(opts, Arc::new(InProcess::new())).await?;
    let mut address = None;
    for _ in 0..100 {
        address = driver.executor_address("0");
        if address.is_some() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let address = address.ok_or("the executor did not register")?;
    let exec_dir = dir.path().join("ember-app-bench-0000").join("executor-0");

    // Write the map outputs as map tasks would.
    let schema = Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, false),
        Field::new("price", DataType::Float64, false),
        Field::new("comment", DataType::Utf8, false),
    ]));
    let per_batch = batch(0, &schema)?.get_array_memory_size() as f64;
    let batches_per_block = ((gib * (1u64 << 30) as f64) / per_batch / (MAPS as f64 * REDUCES as f64)).ceil() as usize;
    let codec = compression(true, "lz4");
    let mut arrow_bytes = 0usize;
    let mut disk_bytes = 0u64;
    for map in 0..MAPS {
        let mut data = Vec::new();
        let mut frames = vec![];
        for reduce in 0..REDUCES {
            let batches: Vec<RecordBatch> = (0..batches_per_block)
                .map(|i| batch(map * 1_000_000 + reduce as u64 * 1000 + i as u64, &schema))
                .collect::<Result<_, _>>()?;
            arrow_bytes += batches.iter().map(RecordBatch::get_array_memory_size).sum::<usize>();
            let frame = encode_frame(&batches, codec)?;
            frames.push(vec![(data.len() as u64, frame.len() as u64)]);
            data.extend_from_slice(&frame);
        }
        disk_bytes += data.len() as u64;
        let path = data_path(&exec_dir, 0, map);
        std::fs::write(&path, data)?;
        std::fs::write(index_path(&path), write_index(&frames))?;
    }

    // Fetch every block over Flight, four in flight, and decode it.
    let clients = Arc::new(Clients::new(None));
    let started = Instant::now();
    let blocks: Vec<ShuffleBlock> = (0..MAPS)
        .flat_map(|m| (0..REDUCES).map(move |r| ShuffleBlock { shuffle_id: 0, map_id: m, reduce_partition: r }))
        .collect();
    let mut fetched = futures::stream::iter(blocks)
        .map(|b| {
            let clients = clients.clone();
            let address = address.clone();
            async move {
                let frames = clients.fetch_block(&address, &b).await?;
                let rows: usize = frames
                    .iter()
                    .map(|f| decode_frame(f).map(|bs| bs.iter().map(RecordBatch::num_rows).sum::<usize>()))
                    .sum::<Result<usize, _>>()
                    .map_err(|e| tonic::Status::internal(e.to_string()))?;
                Ok::<usize, tonic::Status>(rows)
            }
        })
        .buffer_unordered(4);
    let mut rows = 0usize;
    while let Some(r) = fetched.next().await {
        rows += r?;
    }
    let secs = started.elapsed().as_secs_f64();
    let mb = arrow_bytes as f64 / 1e6;
    println!(
        "shuffle fetch: {mb:.0} MB of Arrow data ({:.0} MB lz4 on disk), {rows} rows, {} blocks in {secs:.2} s: {:.0} MB/s",
        disk_bytes as f64 / 1e6,
        MAPS * REDUCES as u64,
        mb / secs
    );
    driver.stop().await;
    Ok(())
}
