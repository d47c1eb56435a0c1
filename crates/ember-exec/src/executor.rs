//! The executor: registers with its driver, heartbeats, runs the tasks the
//! driver pushes (one per free core) under a memory pool sized from
//! `spark.executor.memory` with spill below `spark.local.dir`, serves the
//! shuffle blocks it wrote, and removes them when it stops.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use datafusion::common::DataFusionError;
use datafusion::execution::TaskContext;
use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::{RuntimeEnv, RuntimeEnvBuilder};
use datafusion::physical_plan::ExecutionPlan;
use ember_common::SparkConf;
use futures::TryStreamExt;
use prost::Message;
use tokio::sync::{oneshot, watch};
use tonic::Status;

use crate::proto::{self, DriverReply, LaunchTask, MapOutput, StatusUpdate, TaskOutcome};
use crate::rpc::{self, Clients, Handler};
use crate::shuffle::{FetchFailedError, ShuffleEnv, read_local_block};

/// The share of executor memory given to execution (Spark's `spark.memory.fraction`).
const MEMORY_FRACTION: f64 = 0.6;

#[derive(Debug, Clone)]
pub struct ExecutorArgs {
    pub driver_url: String,
    pub executor_id: String,
    pub cores: usize,
    pub memory_bytes: u64,
    /// The host other processes reach this executor at.
    pub host: String,
    pub app_id: String,
    pub local_dir: PathBuf,
    pub secret: Option<Arc<str>>,
}

/// A running executor.
pub struct ExecutorHandle {
    stop: watch::Sender<Option<i32>>,
    done: Mutex<Option<oneshot::Receiver<i32>>>,
}

impl ExecutorHandle {
    /// Stops cleanly: removes the shuffle files, exit code 0.
    pub fn stop(&self) {
        let _ = self.stop.send(Some(0));
    }

    /// Vanishes at once, leaving its files (as a killed process would).
    pub fn crash(&self) {
        let _ = self.stop.send(Some(137));
    }

    /// Resolves with the exit code when the executor has stopped.
    pub fn done(&self) -> impl std::future::Future<Output = Option<i32>> + use<> {
        let rx = self.done.lock().ok().and_then(|mut d| d.take());
        async move {
            match rx {
                Some(rx) => rx.await.ok(),
                None => None,
            }
        }
    }
}

/// Sessions keyed by their sorted settings.
type Sessions = HashMap<Vec<(String, String)>, Arc<ember_sql::SparkSession>>;
/// Decoded stage plans by (stage, attempt), with the session they run in.
type StagePlans = HashMap<(u64, u32), (Arc<dyn ExecutionPlan>, Arc<ember_sql::SparkSession>)>;

struct Executor {
    args: ExecutorArgs,
    runtime: Arc<RuntimeEnv>,
    env: Arc<ShuffleEnv>,
    clients: Arc<Clients>,
    /// Sessions by their settings: function registries for stage plans.
    sessions: Mutex<Sessions>,
    /// Decoded stage plans by (stage, attempt).
    plans: Mutex<StagePlans>,
    stop: watch::Sender<Option<i32>>,
}

/// Starts an executor: its RPC service, registration and heartbeats.
pub async fn start(args: ExecutorArgs) -> Result<ExecutorHandle, String> {
    let dir = args.local_dir.join(format!("ember-{}", args.app_id)).join(format!("executor-{}", args.executor_id));
    let spill = dir.join("spill");
    std::fs::create_dir_all(&spill).map_err(|e| format!("cannot create {}: {e}", spill.display()))?;
    let pool = ((args.memory_bytes as f64) * MEMORY_FRACTION) as usize;
    let runtime = RuntimeEnvBuilder::new()
        .with_memory_pool(Arc::new(FairSpillPool::new(pool.max(64 << 20))))
        .with_disk_manager_builder(DiskManagerBuilder::default().with_mode(DiskManagerMode::Directories(vec![spill])))
        .build_arc()
        .map_err(|e| e.to_string())?;
    let clients = Arc::new(Clients::new(args.secret.clone()));
    let env =
        Arc::new(ShuffleEnv { executor_id: args.executor_id.clone(), dir: dir.clone(), clients: clients.clone() });
    let (stop, mut stop_rx) = watch::channel(None);
    let exec = Arc::new(Executor {
        args: args.clone(),
        runtime,
        env,
        clients: clients.clone(),
        sessions: Mutex::new(HashMap::new()),
        plans: Mutex::new(HashMap::new()),
        stop: stop.clone(),
    });
    let bind = format!("{}:0", args.host).parse().map_err(|e| format!("bad executor host {}: {e}", args.host))?;
    let server =
        rpc::serve(Arc::new(Service(exec.clone())), args.secret.clone(), bind).await.map_err(|e| e.to_string())?;

    let register = proto::RegisterExecutor {
        executor_id: args.executor_id.clone(),
        host: args.host.clone(),
        port: server.addr.port() as u32,
        cores: args.cores as u32,
        memory_bytes: args.memory_bytes,
        pid: std::process::id(),
    };
    let reply = register_with_retries(&clients, &args.driver_url, register).await;
    let reply = match reply {
        Ok(r) if r.known => r,
        Ok(_) => {
            server.shutdown();
            return Err("the driver refused the registration".into());
        }
        Err(e) => {
            server.shutdown();
            return Err(format!("cannot register with the driver at {}: {e}", args.driver_url));
        }
    };
    tracing::info!(executor = %args.executor_id, app = %reply.app_id, "registered with the driver");

    tokio::spawn(heartbeats(exec.clone(), Duration::from_millis(reply.heartbeat_ms.max(100))));
    if std::env::var("EMBER_EXIT_WITH_PARENT").is_ok_and(|v| v == "1") {
        let stop = stop.clone();
        std::thread::spawn(move || {
            // EOF (or an error) on stdin: the parent is gone.
            let mut sink = Vec::new();
            let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut sink);
            let _ = stop.send(Some(0));
        });
    }
    let (done_tx, done_rx) = oneshot::channel();
    tokio::spawn(async move {
        let code = loop {
            if let Some(code) = *stop_rx.borrow_and_update() {
                break code;
            }
            if stop_rx.changed().await.is_err() {
                break 0;
            }
        };
        server.shutdown();
        if code == 0 {
            let _ = std::fs::remove_dir_all(&dir);
        }
        let _ = done_tx.send(code);
    });
    Ok(ExecutorHandle { stop, done: Mutex::new(Some(done_rx)) })
}

async fn register_with_retries(
    clients: &Clients,
    driver_url: &str,
    msg: proto::RegisterExecutor,
) -> Result<DriverReply, Status> {
    let mut delay = Duration::from_millis(100);
    let mut last = Status::unavailable("not tried");
    for _ in 0..8 {
        match clients.action(driver_url, proto::REGISTER_EXECUTOR, msg.clone()).await {
            Ok(body) => return DriverReply::decode(body).map_err(|e| Status::internal(e.to_string())),
            Err(s) if s.code() == tonic::Code::Unauthenticated => return Err(s),
            Err(s) => last = s,
        }
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(2));
    }
    Err(last)
}

/// Heartbeats until the driver forgets this executor or stays unreachable
/// for `spark.network.timeout`.
async fn heartbeats(exec: Arc<Executor>, interval: Duration) {
    let timeout = Duration::from_secs(120);
    let mut last_ok = Instant::now();
    let mut stopped = exec.stop.subscribe();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(interval) => {}
            _ = stopped.changed() => return,
        }
        let hb = proto::Heartbeat { executor_id: exec.args.executor_id.clone() };
        match exec.clients.action(&exec.args.driver_url, proto::HEARTBEAT, hb).await {
            Ok(body) => match DriverReply::decode(body) {
                Ok(r) if !r.known => {
                    tracing::warn!(executor = %exec.args.executor_id, "the driver no longer knows this executor; exiting");
                    let _ = exec.stop.send(Some(1));
                    return;
                }
                _ => last_ok = Instant::now(),
            },
            Err(e) if last_ok.elapsed() > timeout => {
                tracing::warn!(error = %e, "the driver is unreachable; exiting");
                let _ = exec.stop.send(Some(1));
                return;
            }
            Err(_) => {}
        }
    }
}

/// The executor's side of the internal RPC.
struct Service(Arc<Executor>);

#[async_trait::async_trait]
impl Handler for Service {
    async fn action(&self, name: &str, body: Bytes) -> Result<Vec<u8>, Status> {
        match name {
            proto::LAUNCH_TASK => {
                let launch = LaunchTask::decode(body).map_err(|e| Status::invalid_argument(e.to_string()))?;
                let exec = self.0.clone();
                tokio::spawn(async move { exec.run_task(launch).await });
                Ok(vec![])
            }
            proto::REMOVE_JOB => {
                let job = proto::RemoveJob::decode(body).map_err(|e| Status::invalid_argument(e.to_string()))?;
                self.0.remove_job(&job);
                Ok(vec![])
            }
            proto::STOP_EXECUTOR => {
                let _ = self.0.stop.send(Some(0));
                Ok(vec![])
            }
            other => Err(Status::unimplemented(format!("unknown executor action {other}"))),
        }
    }

    async fn block(&self, block: proto::ShuffleBlock) -> Result<Vec<Vec<u8>>, Status> {
        let path = self.0.env.data_path(block.shuffle_id, block.map_id);
        tokio::task::spawn_blocking(move || read_local_block(&path, block.reduce_partition as usize))
            .await
            .map_err(|e| Status::internal(e.to_string()))?
            .map_err(|e| match e.kind() {
                std::io::ErrorKind::NotFound => Status::not_found(format!("shuffle block {block:?} is gone")),
                _ => Status::internal(e.to_string()),
            })
    }
}

impl Executor {
    /// Forgets a finished job's stage plans and deletes its shuffle files.
    fn remove_job(&self, job: &proto::RemoveJob) {
        if let Ok(mut plans) = self.plans.lock() {
            plans.retain(|(stage, _), _| !job.stage_ids.contains(stage));
        }
        let Ok(entries) = std::fs::read_dir(&self.env.dir) else { return };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().to_string();
            let shuffle = name.strip_prefix("shuffle_").and_then(|r| r.split('_').next()?.parse::<u64>().ok());
            if shuffle.is_some_and(|id| job.shuffle_ids.contains(&id)) {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    async fn run_task(self: Arc<Self>, launch: LaunchTask) {
        let Some(task) = launch.task.clone() else { return };
        let started = Instant::now();
        let outcome = match self.execute(&launch).await {
            Ok(output) => TaskOutcome::Success(output),
            Err(e) => match FetchFailedError::find(&e) {
                Some(f) => TaskOutcome::FetchFailed(proto::FetchFailed {
                    shuffle_id: f.shuffle_id,
                    map_index: f.map_index,
                    executor_id: f.executor_id.clone(),
                    message: f.message.clone(),
                }),
                None => TaskOutcome::Failed(task_error(&e)),
            },
        };
        let metrics = match &outcome {
            TaskOutcome::Success(m) => proto::TaskMetrics {
                run_time_ms: started.elapsed().as_millis() as u64,
                records_written: m.partition_rows.iter().sum(),
                bytes_written: m.partition_bytes.iter().sum(),
                ..Default::default()
            },
            _ => proto::TaskMetrics { run_time_ms: started.elapsed().as_millis() as u64, ..Default::default() },
        };
        let update = StatusUpdate {
            executor_id: self.args.executor_id.clone(),
            task: Some(task),
            outcome: Some(outcome),
            metrics: Some(metrics),
        };
        for attempt in 0..5u32 {
            match self.clients.action(&self.args.driver_url, proto::STATUS_UPDATE, update.clone()).await {
                Ok(_) => return,
                Err(e) => {
                    tracing::warn!(error = %e, attempt, "cannot report a task's status");
                    tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
                }
            }
        }
    }

    async fn execute(&self, launch: &LaunchTask) -> datafusion::common::Result<MapOutput> {
        let task = launch.task.clone().unwrap_or_default();
        let (plan, session) = self.stage_plan(launch)?;
        let ctx = self.task_context(&session, task.task_id);
        let stream = plan.execute(task.partition as usize, Arc::new(ctx))?;
        let batches: Vec<_> = stream.try_collect().await?;
        let mut out = MapOutput::default();
        for b in batches {
            use arrow::array::AsArray;
            use arrow::datatypes::UInt64Type;
            out.partition_rows.extend(b.column(0).as_primitive::<UInt64Type>().values().iter());
            out.partition_bytes.extend(b.column(1).as_primitive::<UInt64Type>().values().iter());
        }
        Ok(out)
    }

    /// The stage's plan: decoded from this launch, or the one the first
    /// task of the stage brought.
    fn stage_plan(
        &self,
        launch: &LaunchTask,
    ) -> datafusion::common::Result<(Arc<dyn ExecutionPlan>, Arc<ember_sql::SparkSession>)> {
        let task = launch.task.clone().unwrap_or_default();
        let key = (task.stage_id, task.stage_attempt);
        if launch.plan.is_empty() {
            return self.plans.lock().ok().and_then(|p| p.get(&key).cloned()).ok_or_else(|| {
                DataFusionError::Internal(format!("stage {} attempt {} was never sent here", key.0, key.1))
            });
        }
        let session = self.session(&launch.conf)?;
        let ctx = self.task_context(&session, task.task_id);
        let plan = crate::codec::decode_plan(&launch.plan, &ctx)?;
        if let Ok(mut p) = self.plans.lock() {
            p.insert(key, (plan.clone(), session.clone()));
        }
        Ok((plan, session))
    }

    /// A session with the driver session's settings (time zone, ANSI mode,
    /// functions), shared by the tasks that run under them.
    fn session(&self, conf: &HashMap<String, String>) -> datafusion::common::Result<Arc<ember_sql::SparkSession>> {
        let mut key: Vec<(String, String)> = conf.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        key.sort();
        if let Some(s) = self.sessions.lock().ok().and_then(|s| s.get(&key).cloned()) {
            return Ok(s);
        }
        let mut spark_conf = SparkConf::new();
        for (k, v) in &key {
            spark_conf.set(k.clone(), v.clone());
        }
        let session = ember_sql::SparkSession::try_new(format!("executor-{}", self.args.executor_id), spark_conf)
            .map_err(DataFusionError::from)?;
        if let Ok(mut s) = self.sessions.lock() {
            s.insert(key, session.clone());
        }
        Ok(session)
    }

    fn task_context(&self, session: &ember_sql::SparkSession, task_id: u64) -> TaskContext {
        crate::shuffle::task_context(&session.ctx().state(), self.env.clone())
            .with_runtime(self.runtime.clone())
            .with_task_id(task_id.to_string())
    }
}

/// A task's error with its Spark identity.
pub fn task_error(e: &DataFusionError) -> proto::TaskError {
    to_proto(ember_sql::error::classify_datafusion(e))
}

fn to_proto(s: ember_common::SparkError) -> proto::TaskError {
    proto::TaskError {
        jvm_class: s.class.jvm_classes().first().map(|c| c.to_string()).unwrap_or_default(),
        error_class: s.error_class,
        sql_state: s.sql_state,
        message: s.message,
        parameters: s.parameters.into_iter().collect(),
        cause: s.cause.map(|c| Box::new(to_proto(*c))),
    }
}

/// The Spark error a task reported.
pub fn spark_error(e: &proto::TaskError) -> ember_common::SparkError {
    let mut s = ember_common::SparkError::new(ember_common::ExceptionClass::from_jvm_class(&e.jvm_class), &e.message);
    s.error_class = e.error_class.clone();
    s.sql_state = e.sql_state.clone();
    s.parameters = e.parameters.clone().into_iter().collect();
    s.cause = e.cause.as_deref().map(|c| Box::new(spark_error(c)));
    s
}
