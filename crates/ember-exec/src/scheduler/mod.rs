//! The driver's scheduler: the executor registry and task scheduler
//! (push scheduling: a task goes to the executor with the most free slots,
//! slots = cores / `spark.task.cpus`), executor loss detection (process
//! exit, heartbeat timeout, unreachable), and the job runner the SQL layer
//! hands physical plans to. Each job's stages are driven by [`job`].

pub mod events;
mod job;
pub mod progress;

use std::collections::{BTreeMap, HashMap, HashSet, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use arrow::ipc::CompressionType;
use bytes::Bytes;
use datafusion::common::{DataFusionError, Result};
use datafusion::physical_plan::{ExecutionPlan, SendableRecordBatchStream};
use ember_common::SparkConf;
use prost::Message;
use tokio::sync::{Notify, mpsc};
use tonic::Status;

use crate::cluster::{ClusterManager, ExecutorExit, ExecutorLaunch, ResourceProfile};
use crate::proto::{self, DriverReply, LaunchTask, StatusUpdate, TaskRef};
use crate::rpc::{self, Clients, Handler};
use crate::shuffle::ShuffleEnv;
use events::{ListenerBus, SparkListenerEvent, now_ms};

/// How the driver runs: Spark's scheduler settings.
#[derive(Debug, Clone)]
pub struct DriverOptions {
    pub app_id: String,
    pub app_name: String,
    /// `spark.executor.instances`.
    pub executors: usize,
    pub profile: ResourceProfile,
    pub task_cpus: usize,
    pub max_task_failures: u32,
    pub max_stage_attempts: u32,
    /// `spark.executor.maxNumFailures`: executor failures before the driver
    /// stops replacing executors.
    pub max_executor_failures: usize,
    pub heartbeat: Duration,
    pub network_timeout: Duration,
    pub min_registered_ratio: f64,
    pub max_registered_wait: Duration,
    pub compression: Option<CompressionType>,
    pub authenticate: bool,
    pub show_progress: bool,
    pub local_dir: std::path::PathBuf,
    /// The host executors reach the driver at (`spark.driver.host`).
    pub driver_host: String,
    /// The address the driver listens on (`spark.driver.bindAddress`,
    /// default: the host).
    pub bind_address: String,
    /// `spark.driver.port`; 0 picks a free port.
    pub port: u16,
    /// The first executor's id: 0 as in Spark's local-cluster, 1 on Kubernetes.
    pub first_executor_id: u64,
}

impl DriverOptions {
    /// The options `conf` gives, with `executors × profile` from the master.
    pub fn from_conf(
        conf: &SparkConf,
        app_id: String,
        executors: usize,
        profile: ResourceProfile,
    ) -> Result<Self, ember_common::SparkError> {
        let ms = |k: &str, d: u64| conf.get_millis(k, 1000).map(|v| Duration::from_millis(v.unwrap_or(d)));
        let n = |k: &str, d: usize| conf.get_usize(k).map(|v| v.unwrap_or(d));
        let codec = conf.get("spark.io.compression.codec").unwrap_or_else(|| "lz4".into());
        Ok(Self {
            app_id,
            app_name: conf.get("spark.app.name").unwrap_or_else(|| "ember".into()),
            executors,
            profile,
            task_cpus: n("spark.task.cpus", 1)?.max(1),
            max_task_failures: n("spark.task.maxFailures", 4)?.max(1) as u32,
            max_stage_attempts: n("spark.stage.maxConsecutiveAttempts", 4)?.max(1) as u32,
            max_executor_failures: n("spark.executor.maxNumFailures", (2 * executors).max(3))?,
            heartbeat: ms("spark.executor.heartbeatInterval", 10_000)?,
            network_timeout: ms("spark.network.timeout", 120_000)?,
            min_registered_ratio: conf.get_f64("spark.scheduler.minRegisteredResourcesRatio")?.unwrap_or(0.8),
            max_registered_wait: ms("spark.scheduler.maxRegisteredResourcesWaitingTime", 30_000)?,
            compression: crate::shuffle::compression(conf.get_bool("spark.shuffle.compress")?, &codec),
            authenticate: conf.get_bool("spark.authenticate")?,
            show_progress: conf.get_bool("spark.ui.showConsoleProgress")?,
            local_dir: conf.get("spark.local.dir").map(Into::into).unwrap_or_else(std::env::temp_dir),
            driver_host: conf.get("spark.driver.host").unwrap_or_else(|| "127.0.0.1".into()),
            bind_address: conf
                .get("spark.driver.bindAddress")
                .or_else(|| conf.get("spark.driver.host"))
                .unwrap_or_else(|| "127.0.0.1".into()),
            port: match conf.get("spark.driver.port") {
                None => 0,
                Some(p) => p.trim().parse::<u16>().map_err(|_| {
                    ember_common::SparkError::illegal_argument(format!(
                        "spark.driver.port should be a port number, but was {p}"
                    ))
                })?,
            },
            first_executor_id: 0,
        })
    }
}

struct ExecutorInfo {
    address: String,
    cores: usize,
    free: usize,
    last_seen: Instant,
    /// Stage attempts whose plan this executor has.
    stages_sent: HashSet<(u64, u32)>,
    /// Launches go out in order, one RPC at a time.
    launches: mpsc::UnboundedSender<LaunchTask>,
}

struct PendingTask {
    task: TaskRef,
    plan: Arc<Vec<u8>>,
    conf: Arc<HashMap<String, String>>,
}

struct RunningTask {
    job_id: u64,
    executor_id: String,
    task: TaskRef,
}

/// What a job hears about its tasks and the executors.
pub(crate) enum JobEvent {
    Update {
        executor_id: String,
        update: Box<StatusUpdate>,
    },
    TaskLost {
        task: TaskRef,
        reason: String,
    },
    ExecutorLost {
        executor_id: String,
    },
    /// The application cannot go on (`spark.executor.maxNumFailures`).
    Abort {
        reason: String,
    },
}

#[derive(Default)]
struct State {
    executors: BTreeMap<String, ExecutorInfo>,
    /// Requested from the cluster manager, not registered yet.
    requested: HashSet<String>,
    lost: HashSet<String>,
    pending: VecDeque<PendingTask>,
    running: HashMap<u64, RunningTask>,
    jobs: HashMap<u64, mpsc::UnboundedSender<JobEvent>>,
    executor_failures: usize,
    stopped: bool,
    /// Why the application cannot run jobs any more.
    aborted: Option<String>,
}

/// The driver of one application.
pub struct Driver {
    me: Weak<Driver>,
    opts: DriverOptions,
    secret: Option<Arc<str>>,
    clients: Arc<Clients>,
    cluster: Arc<dyn ClusterManager>,
    launch: ExecutorLaunch,
    state: Mutex<State>,
    registered: Notify,
    next_job: AtomicU64,
    next_stage: AtomicU64,
    next_shuffle: AtomicU64,
    next_task: AtomicU64,
    next_executor: AtomicU64,
    bus: ListenerBus,
    server: rpc::Server,
    /// How the driver reads the result stage's output.
    result_env: Arc<ShuffleEnv>,
    ready: tokio::sync::OnceCell<()>,
}

impl Driver {
    /// Starts the driver's RPC service and asks `cluster` for the executors.
    pub async fn start(opts: DriverOptions, cluster: Arc<dyn ClusterManager>) -> Result<Arc<Self>, String> {
        let secret: Option<Arc<str>> = opts
            .authenticate
            .then(|| format!("{}{}", uuid::Uuid::new_v4().simple(), uuid::Uuid::new_v4().simple()).into());
        let clients = Arc::new(Clients::new(secret.clone()));
        let (exits_tx, exits_rx) = mpsc::unbounded_channel();
        let handler = Arc::new(DriverService { driver: std::sync::OnceLock::new() });
        let bind = tokio::net::lookup_host((opts.bind_address.as_str(), opts.port))
            .await
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| format!("bad driver bind address {} (spark.driver.bindAddress)", opts.bind_address))?;
        let server = rpc::serve(handler.clone(), secret.clone(), bind).await.map_err(|e| e.to_string())?;
        let launch = ExecutorLaunch {
            app_id: opts.app_id.clone(),
            driver_url: format!("http://{}:{}", opts.driver_host, server.addr.port()),
            profile: opts.profile,
            local_dir: opts.local_dir.clone(),
            secret: secret.clone(),
            exits: exits_tx,
        };
        let result_env = Arc::new(ShuffleEnv {
            executor_id: "driver".into(),
            dir: opts.local_dir.join(format!("ember-{}", opts.app_id)).join("driver"),
            clients: clients.clone(),
        });
        let first_executor_id = opts.first_executor_id;
        let driver = Arc::new_cyclic(|me| Driver {
            me: me.clone(),
            opts,
            secret,
            clients,
            cluster,
            launch,
            state: Mutex::new(State::default()),
            registered: Notify::new(),
            next_job: AtomicU64::new(0),
            next_stage: AtomicU64::new(0),
            next_shuffle: AtomicU64::new(0),
            next_task: AtomicU64::new(0),
            next_executor: AtomicU64::new(first_executor_id),
            bus: ListenerBus::default(),
            server,
            result_env,
            ready: tokio::sync::OnceCell::new(),
        });
        let _ = handler.driver.set(Arc::downgrade(&driver));
        if driver.opts.show_progress {
            progress::spawn(&driver.bus);
        }
        driver.bus.post(SparkListenerEvent::ApplicationStart {
            app_id: driver.opts.app_id.clone(),
            app_name: driver.opts.app_name.clone(),
            time_ms: now_ms(),
        });
        tokio::spawn(watch_exits(Arc::downgrade(&driver), exits_rx));
        tokio::spawn(watch_heartbeats(Arc::downgrade(&driver)));
        driver.request_executors(driver.opts.executors).await?;
        Ok(driver)
    }

    pub fn app_id(&self) -> &str {
        &self.opts.app_id
    }

    pub fn bus(&self) -> &ListenerBus {
        &self.bus
    }

    /// `http://host:port` of the driver's internal RPC service.
    pub fn url(&self) -> &str {
        &self.launch.driver_url
    }

    /// The application's shared secret, when `spark.authenticate=true`.
    pub fn secret(&self) -> Option<&str> {
        self.secret.as_deref()
    }

    /// Why the application had to stop running jobs, if it did
    /// (`spark.executor.maxNumFailures`).
    pub fn aborted(&self) -> Option<String> {
        self.state.lock().ok().and_then(|s| s.aborted.clone())
    }

    /// The executors registered now.
    pub fn executor_ids(&self) -> Vec<String> {
        self.state.lock().map(|s| s.executors.keys().cloned().collect()).unwrap_or_default()
    }

    async fn request_executors(&self, n: usize) -> Result<(), String> {
        let ids: Vec<String> = (0..n).map(|_| self.next_executor.fetch_add(1, Ordering::SeqCst).to_string()).collect();
        if let Ok(mut s) = self.state.lock() {
            s.requested.extend(ids.iter().cloned());
        }
        self.cluster.request_executors(&ids, &self.launch).await
    }

    /// Waits, once, until enough executors registered
    /// (`minRegisteredResourcesRatio`) or the wait time is over.
    async fn wait_ready(&self) {
        self.ready
            .get_or_init(|| async {
                let needed = ((self.opts.executors as f64) * self.opts.min_registered_ratio).ceil() as usize;
                let deadline = Instant::now() + self.opts.max_registered_wait;
                loop {
                    let notified = self.registered.notified();
                    let have = self.state.lock().map(|s| s.executors.len()).unwrap_or(0);
                    if have >= needed.max(1) || Instant::now() >= deadline {
                        break;
                    }
                    let _ = tokio::time::timeout_at(deadline.into(), notified).await;
                }
            })
            .await;
    }

    /// Stops the executors and the RPC service (the application ends).
    pub async fn stop(&self) {
        let executors: Vec<String> = match self.state.lock() {
            Ok(mut s) => {
                s.stopped = true;
                s.executors.values().map(|e| e.address.clone()).collect()
            }
            Err(_) => vec![],
        };
        for address in executors {
            let _ = tokio::time::timeout(
                Duration::from_secs(5),
                self.clients.action(&address, proto::STOP_EXECUTOR, proto::Heartbeat::default()),
            )
            .await;
        }
        self.cluster.stop().await;
        let _ = std::fs::remove_dir_all(self.opts.local_dir.join(format!("ember-{}", self.opts.app_id)));
        self.bus.post(SparkListenerEvent::ApplicationEnd { time_ms: now_ms() });
        self.server.shutdown();
    }

    fn on_register(&self, r: proto::RegisterExecutor) -> DriverReply {
        let address = format!("http://{}:{}", r.host, r.port);
        let (tx, rx) = mpsc::unbounded_channel();
        let known = match self.state.lock() {
            Ok(mut s) if !s.lost.contains(&r.executor_id) && !s.stopped => {
                s.requested.remove(&r.executor_id);
                let cores = (r.cores as usize).max(1);
                s.executors.insert(
                    r.executor_id.clone(),
                    ExecutorInfo {
                        address: address.clone(),
                        cores,
                        free: cores,
                        last_seen: Instant::now(),
                        stages_sent: HashSet::new(),
                        launches: tx,
                    },
                );
                true
            }
            _ => false,
        };
        if known {
            tokio::spawn(send_launches(self.me.clone(), r.executor_id.clone(), address, rx));
            self.bus.post(SparkListenerEvent::ExecutorAdded {
                executor_id: r.executor_id.clone(),
                host: r.host.clone(),
                cores: r.cores,
                time_ms: now_ms(),
            });
            self.registered.notify_waiters();
            self.dispatch();
        }
        DriverReply { known, app_id: self.opts.app_id.clone(), heartbeat_ms: self.opts.heartbeat.as_millis() as u64 }
    }

    fn on_heartbeat(&self, h: proto::Heartbeat) -> DriverReply {
        let known = match self.state.lock() {
            Ok(mut s) => match s.executors.get_mut(&h.executor_id) {
                Some(e) => {
                    e.last_seen = Instant::now();
                    true
                }
                None => false,
            },
            Err(_) => false,
        };
        DriverReply { known, app_id: self.opts.app_id.clone(), heartbeat_ms: self.opts.heartbeat.as_millis() as u64 }
    }

    fn on_status_update(&self, update: StatusUpdate) {
        let Some(task) = update.task.clone() else { return };
        let job = match self.state.lock() {
            Ok(mut s) => match s.running.remove(&task.task_id) {
                Some(r) => {
                    if let Some(e) = s.executors.get_mut(&r.executor_id) {
                        e.free = (e.free + self.opts.task_cpus).min(e.cores);
                    }
                    s.jobs.get(&r.job_id).cloned()
                }
                None => None,
            },
            Err(_) => None,
        };
        let reason = match &update.outcome {
            Some(proto::TaskOutcome::Success(_)) => "Success".to_string(),
            Some(proto::TaskOutcome::Failed(e)) => format!("ExceptionFailure: {}", e.message),
            Some(proto::TaskOutcome::FetchFailed(f)) => format!("FetchFailed: {}", f.message),
            None => "UnknownReason".to_string(),
        };
        self.bus.post(SparkListenerEvent::TaskEnd {
            stage_id: task.stage_id,
            attempt: task.stage_attempt,
            task_id: task.task_id,
            partition: task.partition,
            executor_id: update.executor_id.clone(),
            reason,
            metrics: update.metrics.clone(),
            time_ms: now_ms(),
        });
        if let Some(job) = job {
            let _ = job.send(JobEvent::Update { executor_id: update.executor_id.clone(), update: Box::new(update) });
        }
        self.dispatch();
    }

    /// An executor is gone: its running tasks and its map outputs are lost;
    /// a replacement is requested unless too many executors failed.
    pub(crate) async fn executor_lost(&self, executor_id: &str, reason: &str) {
        let (lost_tasks, jobs, replace) = match self.state.lock() {
            Ok(mut s) => {
                let was_registered = s.executors.remove(executor_id).is_some();
                let was_requested = s.requested.remove(executor_id);
                if !was_registered && !was_requested {
                    return;
                }
                s.lost.insert(executor_id.to_string());
                let ids: Vec<u64> =
                    s.running.iter().filter(|(_, r)| r.executor_id == executor_id).map(|(id, _)| *id).collect();
                let tasks: Vec<RunningTask> = ids.iter().filter_map(|id| s.running.remove(id)).collect();
                let jobs: Vec<_> = s.jobs.values().cloned().collect();
                let lost_tasks: Vec<_> =
                    tasks.into_iter().filter_map(|t| s.jobs.get(&t.job_id).cloned().map(|j| (j, t))).collect();
                let replace = !s.stopped && {
                    s.executor_failures += 1;
                    s.executor_failures <= self.opts.max_executor_failures
                };
                (lost_tasks, jobs, replace)
            }
            Err(_) => return,
        };
        tracing::warn!(executor = executor_id, reason, "lost executor");
        self.bus.post(SparkListenerEvent::ExecutorRemoved {
            executor_id: executor_id.to_string(),
            reason: reason.to_string(),
            time_ms: now_ms(),
        });
        for job in &jobs {
            let _ = job.send(JobEvent::ExecutorLost { executor_id: executor_id.to_string() });
        }
        for (job, t) in lost_tasks {
            let _ = job.send(JobEvent::TaskLost {
                task: t.task,
                reason: format!("ExecutorLostFailure (executor {executor_id} exited: {reason})"),
            });
        }
        self.cluster.kill_executor(executor_id).await;
        if replace {
            if let Err(e) = self.request_executors(1).await {
                tracing::warn!(error = %e, "cannot replace a lost executor");
            }
        } else if !self.state.lock().map(|s| s.stopped).unwrap_or(true) {
            // Spark ends the application here (exit code 11).
            let reason = format!(
                "Max number of executor failures ({}) reached (spark.executor.maxNumFailures); the last: executor {executor_id} {reason}",
                self.opts.max_executor_failures
            );
            tracing::error!("{reason}");
            let jobs: Vec<_> = match self.state.lock() {
                Ok(mut s) => {
                    s.aborted.get_or_insert(reason.clone());
                    s.jobs.values().cloned().collect()
                }
                Err(_) => vec![],
            };
            for job in jobs {
                let _ = job.send(JobEvent::Abort { reason: reason.clone() });
            }
        }
    }

    /// Queues tasks and launches what fits.
    fn submit(&self, tasks: Vec<PendingTask>) {
        if let Ok(mut s) = self.state.lock() {
            s.pending.extend(tasks);
        }
        self.dispatch();
    }

    /// Pushes pending tasks to executors with free slots.
    fn dispatch(&self) {
        let cpus = self.opts.task_cpus;
        let mut started = vec![];
        if let Ok(mut s) = self.state.lock() {
            let s = &mut *s;
            while let Some(front) = s.pending.front() {
                let job_alive = s.jobs.contains_key(&front.task.job_id);
                if !job_alive {
                    s.pending.pop_front();
                    continue;
                }
                let best = s.executors.iter().filter(|(_, e)| e.free >= cpus).max_by_key(|(_, e)| e.free);
                let Some((id, _)) = best else { break };
                let id = id.clone();
                let Some(task) = s.pending.pop_front() else { break };
                let Some(e) = s.executors.get_mut(&id) else { break };
                e.free -= cpus;
                let key = (task.task.stage_id, task.task.stage_attempt);
                // Retries carry the plan too: a first attempt may have failed
                // before the executor kept it.
                let first = e.stages_sent.insert(key) || task.task.attempt > 0;
                let launch = LaunchTask {
                    task: Some(task.task.clone()),
                    plan: if first { task.plan.as_ref().clone() } else { vec![] },
                    conf: if first { task.conf.as_ref().clone() } else { HashMap::new() },
                };
                if e.launches.send(launch).is_err() {
                    e.free += cpus;
                    s.pending.push_front(task);
                    break;
                }
                s.running.insert(
                    task.task.task_id,
                    RunningTask { job_id: task.task.job_id, executor_id: id.clone(), task: task.task.clone() },
                );
                started.push((task.task, id));
            }
        }
        for (t, executor_id) in started {
            self.bus.post(SparkListenerEvent::TaskStart {
                stage_id: t.stage_id,
                attempt: t.stage_attempt,
                task_id: t.task_id,
                partition: t.partition,
                executor_id,
                time_ms: now_ms(),
            });
        }
    }

    /// The Flight address of a registered executor.
    pub fn executor_address(&self, executor_id: &str) -> Option<String> {
        self.state.lock().ok()?.executors.get(executor_id).map(|e| e.address.clone())
    }

    fn next_task_id(&self) -> u64 {
        self.next_task.fetch_add(1, Ordering::SeqCst)
    }

    /// The driver's reading of the result stage: partitions in order.
    fn read_results(
        &self,
        reader: Arc<dyn ExecutionPlan>,
        spark: &ember_sql::SparkSession,
        cleanup: JobCleanup,
    ) -> Result<SendableRecordBatchStream> {
        use futures::StreamExt;
        let ctx = Arc::new(crate::shuffle::task_context(&spark.ctx().state(), self.result_env.clone()));
        let schema = reader.schema();
        let n = reader.output_partitioning().partition_count();
        let streams = futures::stream::iter(0..n).then(move |p| {
            let reader = reader.clone();
            let ctx = ctx.clone();
            async move { reader.execute(p, ctx) }
        });
        let flat = streams
            .map(|s| match s {
                Ok(s) => s.boxed(),
                Err(e) => futures::stream::once(async move { Err(e) }).boxed(),
            })
            .flatten()
            // The cleanup runs when the stream is dropped: read to the end or abandoned.
            .map(move |b| {
                let _ = &cleanup;
                b
            });
        Ok(Box::pin(datafusion::physical_plan::stream::RecordBatchStreamAdapter::new(schema, flat)))
    }
}

use datafusion::physical_plan::ExecutionPlanProperties;

impl crate::stage::IdSource for Driver {
    fn next_stage_id(&self) -> u64 {
        self.next_stage.fetch_add(1, Ordering::SeqCst)
    }

    fn next_shuffle_id(&self) -> u64 {
        self.next_shuffle.fetch_add(1, Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl ember_sql::JobRunner for Driver {
    async fn run_job(
        &self,
        plan: Arc<dyn ExecutionPlan>,
        spark: &ember_sql::SparkSession,
    ) -> ember_sql::Result<SendableRecordBatchStream> {
        let conf: HashMap<String, String> =
            spark.conf().explicit().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        let schema = plan.schema();
        let partitions = spark.ctx().state().config().target_partitions();
        let graph = match crate::stage::driver_only(&plan) {
            Some(reason) => Err(DataFusionError::NotImplemented(reason)),
            None => crate::stage::split(plan.clone(), self, self.opts.compression, partitions).and_then(|mut g| {
                // Every stage must encode: checked before anything runs.
                for s in g.stages.values_mut() {
                    let bytes = crate::codec::encode_plan(s.plan.clone())?;
                    if s.parents.is_empty() {
                        s.encoded = Some(Arc::new(bytes));
                    }
                }
                Ok(g)
            }),
        };
        let graph = match graph {
            Ok(g) => g,
            // What executors cannot run (yet) runs here, in local-mode fashion.
            Err(e) => {
                tracing::debug!(error = %e, "running the job in the driver");
                return Ok(datafusion::physical_plan::execute_stream(plan, spark.ctx().task_ctx())?);
            }
        };
        self.wait_ready().await;
        let job_id = self.next_job.fetch_add(1, Ordering::SeqCst);
        let (tx, rx) = mpsc::unbounded_channel();
        if let Ok(mut s) = self.state.lock() {
            if let Some(reason) = &s.aborted {
                return Err(ember_common::SparkError::new(ember_common::ExceptionClass::Runtime, reason.clone()).into());
            }
            s.jobs.insert(job_id, tx);
        }
        let shuffle_ids: Vec<u64> = graph.stages.values().map(|s| s.shuffle_id).collect();
        let stage_ids: Vec<u64> = graph.stages.keys().copied().collect();
        let result_stage = graph.result;
        let result_shuffle = graph.stages[&result_stage].shuffle_id;
        let tasks = graph.stages[&result_stage].tasks;
        self.bus.post(SparkListenerEvent::JobStart {
            job_id,
            stage_ids: graph.stages.keys().copied().collect(),
            time_ms: now_ms(),
        });
        let outcome = job::run(self, job_id, graph, Arc::new(conf), rx).await;
        if let Ok(mut s) = self.state.lock() {
            s.jobs.remove(&job_id);
        }
        self.bus.post(SparkListenerEvent::JobEnd { job_id, succeeded: outcome.is_ok(), time_ms: now_ms() });
        let cleanup = JobCleanup { driver: self.me.clone(), job: proto::RemoveJob { shuffle_ids, stage_ids } };
        let locations = outcome?;
        let reader = Arc::new(crate::shuffle::ShuffleReaderExec::new(
            result_shuffle,
            result_stage,
            schema,
            crate::shuffle::ReaderKind::Whole,
            tasks,
            locations,
        ));
        Ok(self.read_results(reader, spark, cleanup)?)
    }
}

/// Removes a job's shuffle files and plans from the executors once its
/// results have been read (or abandoned).
struct JobCleanup {
    driver: Weak<Driver>,
    job: proto::RemoveJob,
}

impl Drop for JobCleanup {
    fn drop(&mut self) {
        let (Some(driver), Ok(runtime)) = (self.driver.upgrade(), tokio::runtime::Handle::try_current()) else {
            return;
        };
        let job = std::mem::take(&mut self.job);
        let addresses: Vec<String> =
            driver.state.lock().map(|s| s.executors.values().map(|e| e.address.clone()).collect()).unwrap_or_default();
        runtime.spawn(async move {
            for address in addresses {
                let _ = driver.clients.action(&address, proto::REMOVE_JOB, job.clone()).await;
            }
        });
    }
}

/// The driver's side of the internal RPC.
struct DriverService {
    driver: std::sync::OnceLock<Weak<Driver>>,
}

#[async_trait::async_trait]
impl Handler for DriverService {
    async fn action(&self, name: &str, body: Bytes) -> Result<Vec<u8>, Status> {
        let driver = self.driver.get().and_then(Weak::upgrade).ok_or_else(|| Status::unavailable("driver stopped"))?;
        let bad = |e: prost::DecodeError| Status::invalid_argument(e.to_string());
        match name {
            proto::REGISTER_EXECUTOR => {
                Ok(driver.on_register(proto::RegisterExecutor::decode(body).map_err(bad)?).encode_to_vec())
            }
            proto::HEARTBEAT => Ok(driver.on_heartbeat(proto::Heartbeat::decode(body).map_err(bad)?).encode_to_vec()),
            proto::STATUS_UPDATE => {
                driver.on_status_update(StatusUpdate::decode(body).map_err(bad)?);
                Ok(vec![])
            }
            other => Err(Status::unimplemented(format!("unknown driver action {other}"))),
        }
    }
}

/// Sends one executor's launches in order; a failed send loses the executor.
async fn send_launches(
    driver: Weak<Driver>,
    executor_id: String,
    address: String,
    mut rx: mpsc::UnboundedReceiver<LaunchTask>,
) {
    while let Some(launch) = rx.recv().await {
        let Some(d) = driver.upgrade() else { return };
        if let Err(e) = d.clients.action(&address, proto::LAUNCH_TASK, launch).await {
            d.executor_lost(&executor_id, &format!("cannot launch a task: {}", e.message())).await;
            return;
        }
    }
}

async fn watch_exits(driver: Weak<Driver>, mut exits: mpsc::UnboundedReceiver<ExecutorExit>) {
    while let Some(exit) = exits.recv().await {
        let Some(d) = driver.upgrade() else { return };
        d.executor_lost(&exit.executor_id, &exit.reason).await;
    }
}

/// Declares executors lost after `spark.network.timeout` without a heartbeat.
async fn watch_heartbeats(driver: Weak<Driver>) {
    loop {
        let Some(d) = driver.upgrade() else { return };
        let period = (d.opts.heartbeat / 2).clamp(Duration::from_millis(100), Duration::from_secs(5));
        let timeout = d.opts.network_timeout;
        let silent: Vec<String> = d
            .state
            .lock()
            .map(|s| {
                s.executors.iter().filter(|(_, e)| e.last_seen.elapsed() > timeout).map(|(k, _)| k.clone()).collect()
            })
            .unwrap_or_default();
        for id in silent {
            d.executor_lost(&id, &format!("heartbeat timed out after {} ms", timeout.as_millis())).await;
        }
        if d.state.lock().map(|s| s.stopped).unwrap_or(true) {
            return;
        }
        drop(d);
        tokio::time::sleep(period).await;
    }
}
