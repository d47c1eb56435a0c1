//! The distributed runtime end to end, in one process: a driver with
//! in-process executors (the loss-injecting test double), compared with
//! local mode on the same data; faults injected at exact points through
//! synchronous listeners.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use arrow::array::RecordBatch;
use arrow::util::pretty::pretty_format_batches;
use ember_common::SparkConf;
use ember_exec::scheduler::events::SparkListenerEvent;
use ember_exec::{Driver, DriverOptions, InProcess, ResourceProfile};
use ember_sql::SparkSession;

const ROWS_PER_FILE: usize = 20_000;
const FILES: usize = 4; // CSV files, each a partition or part of one

/// Four CSV files of `k,v` rows: a table with four partitions.
fn write_data(dir: &Path) -> PathBuf {
    let data = dir.join("t");
    std::fs::create_dir_all(&data).unwrap();
    for f in 0..FILES {
        let mut text = String::from("k,v\n");
        for i in 0..ROWS_PER_FILE {
            let n = f * ROWS_PER_FILE + i;
            text.push_str(&format!("{},{}\n", (n * 7919) % 101, n));
        }
        std::fs::write(data.join(format!("part-{f}.csv")), text).unwrap();
    }
    data
}

struct Cluster {
    driver: Arc<Driver>,
    executors: Arc<InProcess>,
    spark: Arc<SparkSession>,
    _dir: tempfile::TempDir,
    data: PathBuf,
}

fn conf(extra: &[(&str, &str)]) -> SparkConf {
    let mut conf = SparkConf::new();
    conf.set("spark.master", "local-cluster[2,1,512]");
    conf.set("spark.sql.shuffle.partitions", "3");
    conf.set("spark.ui.showConsoleProgress", "false");
    conf.set("spark.executor.heartbeatInterval", "200ms");
    for (k, v) in extra {
        conf.set(*k, *v);
    }
    conf
}

async fn cluster(executors: usize, extra: &[(&str, &str)], setup: impl FnOnce(&InProcess)) -> Cluster {
    let dir = tempfile::tempdir().unwrap();
    let data = write_data(dir.path());
    let mut conf = conf(extra);
    conf.set("spark.local.dir", dir.path().join("local").display().to_string());
    let profile = ResourceProfile { cores: 1, memory_mib: 512 };
    let opts = DriverOptions::from_conf(&conf, "app-test-0000".into(), executors, profile).unwrap();
    let in_process = Arc::new(InProcess::new());
    setup(&in_process);
    let driver = Driver::start(opts, in_process.clone()).await.unwrap();
    let runner: Arc<dyn ember_sql::JobRunner> = driver.clone();
    let spark = SparkSession::try_new_with_runner("test", conf, Some(runner)).unwrap();
    register(&spark, &data).await;
    Cluster { driver, executors: in_process, spark, _dir: dir, data }
}

async fn register(spark: &SparkSession, data: &Path) {
    let opts = datafusion::prelude::CsvReadOptions::new().has_header(true);
    spark.ctx().register_csv("t", data.display().to_string().as_str(), opts).await.unwrap();
}

async fn run(spark: &SparkSession, sql: &str) -> ember_sql::Result<Vec<RecordBatch>> {
    let plan = spark.ctx().state().create_logical_plan(sql).await?;
    spark.collect(plan).await
}

fn show(batches: &[RecordBatch]) -> String {
    pretty_format_batches(batches).unwrap().to_string()
}

/// The same query in local mode, on the same files.
async fn local(data: &Path, sql: &str) -> String {
    let spark = SparkSession::try_new("local", conf(&[("spark.master", "local[2]")])).unwrap();
    register(&spark, data).await;
    show(&run(&spark, sql).await.unwrap())
}

const AGGREGATE: &str = "SELECT k, count(*) AS n, sum(v) AS s FROM t GROUP BY k ORDER BY k";
const JOIN: &str = "SELECT a.k, count(*) AS n, max(b.v) AS m FROM t a JOIN (SELECT k, v FROM t WHERE v % 10 = 0) b \
                    ON a.k = b.k AND a.v = b.v GROUP BY a.k ORDER BY n DESC, a.k LIMIT 20";

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn queries_give_local_mode_answers() {
    let c = cluster(2, &[], |_| {}).await;
    for sql in [AGGREGATE, JOIN, "SELECT count(*) FROM t", "SELECT v FROM t ORDER BY v DESC LIMIT 5"] {
        let got = show(&run(&c.spark, sql).await.unwrap());
        assert_eq!(got, local(&c.data, sql).await, "{sql}");
    }
    let mut tasks = vec![];
    let mut rx = c.driver.bus().subscribe();
    run(&c.spark, AGGREGATE).await.unwrap();
    while let Ok(e) = rx.try_recv() {
        if let SparkListenerEvent::StageSubmitted { num_tasks, .. } = e {
            tasks.push(num_tasks);
        }
    }
    // Scan + partial aggregate, final aggregate on spark.sql.shuffle.partitions
    // partitions, and the sorted result.
    assert_eq!(tasks.len(), 3, "stages' task counts: {tasks:?}");
    assert_eq!(tasks[1], 3, "the reduce side has spark.sql.shuffle.partitions tasks: {tasks:?}");
    assert_eq!(tasks[2], 1, "the result of a global sort is one partition: {tasks:?}");
    // Finished jobs leave no shuffle files behind.
    let local_dir = c._dir.path().join("local");
    for _ in 0..100 {
        if find_files(&local_dir, ".data").is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(find_files(&local_dir, ".data"), Vec::<PathBuf>::new());
    c.driver.stop().await;
}

/// The rows of `t` as four parquet files (a scan of four partitions that
/// takes dynamic filters).
fn write_parquet(dir: &Path) -> PathBuf {
    use arrow::array::Int64Array;
    use arrow::datatypes::{DataType, Field, Schema};
    let data = dir.join("p");
    std::fs::create_dir_all(&data).unwrap();
    let schema =
        Arc::new(Schema::new(vec![Field::new("k", DataType::Int64, false), Field::new("v", DataType::Int64, false)]));
    for f in 0..FILES {
        let n = (f * ROWS_PER_FILE) as i64..((f + 1) * ROWS_PER_FILE) as i64;
        let k = Int64Array::from_iter_values(n.clone().map(|n| (n * 7919) % 101));
        let batch =
            RecordBatch::try_new(schema.clone(), vec![Arc::new(k), Arc::new(Int64Array::from_iter_values(n))]).unwrap();
        let file = std::fs::File::create(data.join(format!("part-{f}.parquet"))).unwrap();
        let mut w = datafusion::parquet::arrow::ArrowWriter::try_new(file, schema.clone(), None).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
    }
    data
}

/// Registers `p` (see [`write_parquet`]) in the cluster's session and in a
/// local-mode session, which it returns.
async fn with_parquet(c: &Cluster) -> Arc<SparkSession> {
    let parquet = write_parquet(c._dir.path());
    let local_spark = SparkSession::try_new("local", conf(&[("spark.master", "local[2]")])).unwrap();
    for spark in [&c.spark, &local_spark] {
        let opts = datafusion::prelude::ParquetReadOptions::default();
        spark.ctx().register_parquet("p", parquet.display().to_string().as_str(), opts).await.unwrap();
    }
    local_spark
}

/// The physical plan of `sql`, as EXPLAIN shows it.
async fn physical_plan(spark: &SparkSession, sql: &str) -> String {
    let logical = spark.ctx().state().create_logical_plan(sql).await.unwrap();
    let physical = spark.ctx().state().create_physical_plan(&logical).await.unwrap();
    datafusion::physical_plan::displayable(physical.as_ref()).indent(true).to_string()
}

/// A join whose small side is broadcast (collect-left) fills a dynamic
/// filter that the scan it probes reads, in the same stage. Each probe
/// partition reports its build side and waits for its siblings' reports;
/// in a task its siblings run elsewhere, so only a task that sees its own
/// partition alone finishes. Under a union (whose partitions are its
/// inputs' one after another) the joins run without the filter.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn broadcast_joins_with_dynamic_filters_finish_with_local_answers() {
    let c = cluster(2, &[], |_| {}).await;
    let local_spark = with_parquet(&c).await;
    let join = "SELECT p.k, count(*) AS n, sum(v) AS s FROM p JOIN (VALUES (3), (5), (7)) AS small(k) \
                ON p.k = small.k GROUP BY p.k ORDER BY p.k";
    let union = "SELECT k, count(*) AS n FROM (SELECT p.k FROM p JOIN (VALUES (3), (5)) AS a(k) ON p.k = a.k \
                 UNION ALL SELECT p.k FROM p JOIN (VALUES (5), (7)) AS b(k) ON p.k = b.k) GROUP BY k ORDER BY k";
    for sql in [join, union] {
        let shown = physical_plan(&c.spark, sql).await;
        assert!(shown.contains("mode=CollectLeft") && shown.contains("DynamicFilter"), "{shown}");
        let got = tokio::time::timeout(Duration::from_secs(60), run(&c.spark, sql)).await.expect("the job finishes");
        let want = show(&run(&local_spark, sql).await.unwrap());
        assert_eq!(show(&got.unwrap()), want, "{sql}");
        assert!(want.lines().count() > 5, "the join matched rows: {want}");
    }
    c.driver.stop().await;
}

/// Broadcast (collect-left) joins that emit build rows after their last
/// probe partition (semi, anti, left outer): on a cluster they probe only
/// the rows that match some build row, in one task, and answer as local
/// mode does, also with a join filter beyond the keys.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn left_emitting_broadcast_joins_give_local_answers() {
    let c = cluster(2, &[], |_| {}).await;
    let local_spark = with_parquet(&c).await;
    let small = "(VALUES (3), (5), (200), (NULL)) AS s(k)";
    let queries = [
        (
            "LeftSemi",
            format!("SELECT k FROM {small} WHERE EXISTS (SELECT 1 FROM p WHERE p.k = s.k AND p.v % 7 = 0) ORDER BY k"),
        ),
        ("LeftAnti", format!("SELECT k FROM {small} WHERE NOT EXISTS (SELECT 1 FROM p WHERE p.k = s.k) ORDER BY k")),
        (
            "Left",
            format!(
                "SELECT s.k, count(p.v) AS n, sum(p.v) AS t FROM {small} LEFT JOIN p ON p.k = s.k AND p.v < 40000 GROUP BY s.k ORDER BY s.k"
            ),
        ),
    ];
    for (join_type, sql) in queries {
        let shown = physical_plan(&c.spark, &sql).await;
        assert!(shown.contains(&format!("mode=CollectLeft, join_type={join_type},")), "{shown}");
        let got = show(&run(&c.spark, &sql).await.unwrap());
        let want = show(&run(&local_spark, &sql).await.unwrap());
        assert_eq!(got, want, "{sql}");
        assert!(want.lines().count() > 4, "rows came back: {want}");
    }
    c.driver.stop().await;
}

/// A join's dynamic filter that crosses another join down to a scan runs
/// there as a runtime filter: its plan travels to the executors, and the
/// answer is local mode's.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn runtime_filters_run_on_executors_with_local_answers() {
    let c = cluster(2, &[], |_| {}).await;
    let local_spark = with_parquet(&c).await;
    let sql = "SELECT x.k, count(*) AS n, sum(x.v) AS s FROM (VALUES (CAST(3 AS BIGINT)), (CAST(5 AS BIGINT))) AS small(k) \
               JOIN (SELECT p.k, p.v FROM p JOIN (VALUES (CAST(3 AS BIGINT)), (CAST(4 AS BIGINT)), (CAST(5 AS BIGINT))) \
               AS mid(k) ON p.k = mid.k) x ON x.k = small.k GROUP BY x.k ORDER BY x.k";
    let shown = physical_plan(&c.spark, sql).await;
    assert!(shown.contains("RuntimeFilterExec"), "{shown}");
    let got = tokio::time::timeout(Duration::from_secs(60), run(&c.spark, sql)).await.expect("the job finishes");
    let want = show(&run(&local_spark, sql).await.unwrap());
    assert_eq!(show(&got.unwrap()), want, "{sql}");
    assert!(want.lines().count() > 4, "the joins matched rows: {want}");
    c.driver.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn executor_killed_during_the_map_stage_is_recomputed() {
    let c = cluster(2, &[], |_| {}).await;
    let killed = Arc::new(Mutex::new(None::<String>));
    let (k, execs) = (killed.clone(), c.executors.clone());
    c.driver.bus().add_sync_listener(move |e| {
        // The first map task to finish: its executor dies with its output.
        if let SparkListenerEvent::TaskEnd { stage_id: 0, reason, executor_id, .. } = e
            && reason == "Success"
        {
            let mut k = k.lock().unwrap();
            if k.is_none() {
                execs.kill(executor_id);
                *k = Some(executor_id.clone());
            }
        }
    });
    let mut rx = c.driver.bus().subscribe();
    let got = show(&run(&c.spark, AGGREGATE).await.unwrap());
    assert_eq!(got, local(&c.data, AGGREGATE).await);
    let killed = killed.lock().unwrap().clone().expect("an executor was killed");
    let mut removed = false;
    while let Ok(e) = rx.try_recv() {
        removed |= matches!(e, SparkListenerEvent::ExecutorRemoved { ref executor_id, .. } if *executor_id == killed);
    }
    assert!(removed, "executor {killed} was reported removed");
    c.driver.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn deleted_shuffle_file_is_recomputed_from_its_map_task() {
    let c = cluster(2, &[], |_| {}).await;
    let local_dir = c._dir.path().join("local");
    let deleted = Arc::new(AtomicUsize::new(0));
    let d = deleted.clone();
    c.driver.bus().add_sync_listener(move |e| {
        // Before the reduce stage's first attempt runs, one map output vanishes.
        if let SparkListenerEvent::StageSubmitted { stage_id, attempt: 0, .. } = e
            && *stage_id > 0
            && d.load(Ordering::SeqCst) == 0
        {
            let file = find_files(&local_dir, ".data").into_iter().next().expect("a shuffle data file");
            std::fs::remove_file(file).unwrap();
            d.fetch_add(1, Ordering::SeqCst);
        }
    });
    let mut rx = c.driver.bus().subscribe();
    let got = show(&run(&c.spark, AGGREGATE).await.unwrap());
    assert_eq!(got, local(&c.data, AGGREGATE).await);
    assert_eq!(deleted.load(Ordering::SeqCst), 1);
    let mut fetch_failed = false;
    while let Ok(e) = rx.try_recv() {
        fetch_failed |=
            matches!(e, SparkListenerEvent::TaskEnd { ref reason, .. } if reason.starts_with("FetchFailed"));
    }
    assert!(fetch_failed, "the reduce task reported a fetch failure");
    c.driver.stop().await;
}

fn find_files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out = vec![];
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(find_files(&p, suffix));
            } else if p.to_string_lossy().ends_with(suffix) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn task_that_fails_twice_succeeds_on_its_third_attempt() {
    let c = cluster(2, &[], |_| {}).await;
    let file = c.data.join("part-2.csv");
    let hidden = c.data.join("part-2.csv.hidden");
    let failures = Arc::new(AtomicUsize::new(0));
    let f = failures.clone();
    let started = Arc::new(AtomicUsize::new(0));
    c.driver.bus().add_sync_listener(move |e| match e {
        // The plan lists the file; its tasks then cannot read it.
        SparkListenerEvent::JobStart { .. } if started.fetch_add(1, Ordering::SeqCst) == 0 => {
            std::fs::rename(&file, &hidden).unwrap();
        }
        SparkListenerEvent::TaskEnd { reason, .. }
            if reason.starts_with("ExceptionFailure") && f.fetch_add(1, Ordering::SeqCst) + 1 == 2 =>
        {
            std::fs::rename(&hidden, &file).unwrap();
        }
        _ => {}
    });
    let got = show(&run(&c.spark, AGGREGATE).await.unwrap());
    assert_eq!(failures.load(Ordering::SeqCst), 2);
    assert_eq!(got, local(&c.data, AGGREGATE).await);
    c.driver.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn task_failing_max_failures_times_fails_the_job_with_its_error() {
    let c = cluster(2, &[("spark.task.maxFailures", "3")], |_| {}).await;
    let file = c.data.join("part-1.csv");
    let failures = Arc::new(AtomicUsize::new(0));
    let f = failures.clone();
    c.driver.bus().add_sync_listener(move |e| match e {
        // The plan lists the file; its tasks then cannot read it.
        SparkListenerEvent::JobStart { .. } => {
            let _ = std::fs::remove_file(&file);
        }
        SparkListenerEvent::TaskEnd { reason, .. } if reason.starts_with("ExceptionFailure") => {
            f.fetch_add(1, Ordering::SeqCst);
        }
        _ => {}
    });
    let err = run(&c.spark, AGGREGATE).await.unwrap_err();
    let spark_err = ember_sql::error::classify(&err);
    assert!(spark_err.message.contains("part-1.csv"), "{}", spark_err.message);
    assert_eq!(failures.load(Ordering::SeqCst), 3);
    c.driver.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn too_many_executor_failures_end_the_application() {
    // Every executor dies as soon as it runs a task; after two losses
    // (spark.executor.maxNumFailures=2) the job fails, and so does the next.
    let c = cluster(1, &[("spark.executor.maxNumFailures", "2")], |_| {}).await;
    let execs = c.executors.clone();
    c.driver.bus().add_sync_listener(move |e| {
        if let SparkListenerEvent::TaskStart { executor_id, .. } = e {
            execs.kill(executor_id);
        }
    });
    let err = run(&c.spark, AGGREGATE).await.unwrap_err();
    let message = ember_sql::error::classify(&err).message;
    assert!(message.contains("Max number of executor failures (2) reached"), "{message}");
    assert!(c.driver.aborted().is_some());
    let again = run(&c.spark, AGGREGATE).await.unwrap_err();
    assert!(ember_sql::error::classify(&again).message.contains("Max number of executor failures"));
    c.driver.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn executor_that_never_registers_does_not_stop_the_application() {
    let extra = [("spark.scheduler.maxRegisteredResourcesWaitingTime", "1s")];
    let c = cluster(2, &extra, |e| e.never_register("1")).await;
    let started = std::time::Instant::now();
    let got = show(&run(&c.spark, AGGREGATE).await.unwrap());
    assert!(started.elapsed() >= Duration::from_millis(900), "waited for the missing executor");
    assert_eq!(c.driver.executor_ids(), vec!["0".to_string()]);
    assert_eq!(got, local(&c.data, AGGREGATE).await);
    c.driver.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn authentication_refuses_calls_without_the_secret() {
    let c = cluster(2, &[("spark.authenticate", "true")], |_| {}).await;
    let got = show(&run(&c.spark, AGGREGATE).await.unwrap());
    assert_eq!(got, local(&c.data, AGGREGATE).await);
    let secret = c.driver.secret().expect("a generated secret").to_string();
    assert!(secret.len() >= 32);

    let register = ember_exec::proto::RegisterExecutor { executor_id: "99".into(), ..Default::default() };
    let anonymous = ember_exec::rpc::Clients::new(None);
    let refused = anonymous.action(c.driver.url(), ember_exec::proto::REGISTER_EXECUTOR, register.clone()).await;
    assert_eq!(refused.unwrap_err().code(), tonic::Code::Unauthenticated);
    let wrong = ember_exec::rpc::Clients::new(Some("not-the-secret".into()));
    let refused = wrong.action(c.driver.url(), ember_exec::proto::REGISTER_EXECUTOR, register).await;
    assert_eq!(refused.unwrap_err().code(), tonic::Code::Unauthenticated);

    // A shuffle fetch without the secret is refused by the executor too.
    let hb = ember_exec::proto::Heartbeat { executor_id: "0".into() };
    let with_secret = ember_exec::rpc::Clients::new(Some(secret.into()));
    let reply = with_secret.action(c.driver.url(), ember_exec::proto::HEARTBEAT, hb).await;
    assert!(reply.is_ok());
    let executor_address = c.driver.executor_address("0").expect("executor 0");
    let block = ember_exec::proto::ShuffleBlock { shuffle_id: 0, map_id: 0, reduce_partition: 0 };
    let refused = anonymous.fetch_block(&executor_address, &block).await;
    assert_eq!(refused.unwrap_err().code(), tonic::Code::Unauthenticated);
    c.driver.stop().await;
}
