//! The listener bus: the driver publishes Spark's listener events (same
//! names and fields as `org.apache.spark.scheduler.SparkListener*`); the
//! console progress bar listens now, event logs and the UI will later.

use tokio::sync::broadcast;

use crate::proto::TaskMetrics;

/// Spark's listener events, as the driver emits them.
#[derive(Debug, Clone)]
pub enum SparkListenerEvent {
    ApplicationStart {
        app_id: String,
        app_name: String,
        time_ms: u64,
    },
    ApplicationEnd {
        time_ms: u64,
    },
    ExecutorAdded {
        executor_id: String,
        host: String,
        cores: u32,
        time_ms: u64,
    },
    ExecutorRemoved {
        executor_id: String,
        reason: String,
        time_ms: u64,
    },
    JobStart {
        job_id: u64,
        stage_ids: Vec<u64>,
        time_ms: u64,
    },
    JobEnd {
        job_id: u64,
        succeeded: bool,
        time_ms: u64,
    },
    StageSubmitted {
        stage_id: u64,
        attempt: u32,
        num_tasks: usize,
        time_ms: u64,
    },
    StageCompleted {
        stage_id: u64,
        attempt: u32,
        failure_reason: Option<String>,
        time_ms: u64,
    },
    TaskStart {
        stage_id: u64,
        attempt: u32,
        task_id: u64,
        partition: u32,
        executor_id: String,
        time_ms: u64,
    },
    TaskEnd {
        stage_id: u64,
        attempt: u32,
        task_id: u64,
        partition: u32,
        executor_id: String,
        /// `Success`, or the failure reason as Spark names it.
        reason: String,
        metrics: Option<TaskMetrics>,
        time_ms: u64,
    },
}

impl SparkListenerEvent {
    /// The event's name in Spark's event log (`"Event"` field).
    pub fn name(&self) -> &'static str {
        match self {
            Self::ApplicationStart { .. } => "SparkListenerApplicationStart",
            Self::ApplicationEnd { .. } => "SparkListenerApplicationEnd",
            Self::ExecutorAdded { .. } => "SparkListenerExecutorAdded",
            Self::ExecutorRemoved { .. } => "SparkListenerExecutorRemoved",
            Self::JobStart { .. } => "SparkListenerJobStart",
            Self::JobEnd { .. } => "SparkListenerJobEnd",
            Self::StageSubmitted { .. } => "SparkListenerStageSubmitted",
            Self::StageCompleted { .. } => "SparkListenerStageCompleted",
            Self::TaskStart { .. } => "SparkListenerTaskStart",
            Self::TaskEnd { .. } => "SparkListenerTaskEnd",
        }
    }
}

/// Milliseconds since the epoch (Spark's event timestamps).
pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

type SyncListener = Box<dyn Fn(&SparkListenerEvent) + Send + Sync>;

/// Many listeners, one publisher; a slow listener loses events rather
/// than slowing the scheduler (as Spark's bounded event queues do).
/// Synchronous listeners run inside `post`, before the scheduler acts on
/// the event (tests use them to inject faults at exact points).
#[derive(Clone)]
pub struct ListenerBus {
    tx: broadcast::Sender<SparkListenerEvent>,
    sync: std::sync::Arc<std::sync::RwLock<Vec<SyncListener>>>,
}

impl Default for ListenerBus {
    fn default() -> Self {
        Self { tx: broadcast::channel(10_000).0, sync: Default::default() }
    }
}

impl std::fmt::Debug for ListenerBus {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ListenerBus").field("listeners", &self.tx.receiver_count()).finish()
    }
}

impl ListenerBus {
    pub fn post(&self, event: SparkListenerEvent) {
        if let Ok(listeners) = self.sync.read() {
            for l in listeners.iter() {
                l(&event);
            }
        }
        let _ = self.tx.send(event);
    }

    /// Runs `f` on every event as it is posted, on the poster's thread.
    pub fn add_sync_listener(&self, f: impl Fn(&SparkListenerEvent) + Send + Sync + 'static) {
        if let Ok(mut l) = self.sync.write() {
            l.push(Box::new(f));
        }
    }

    pub fn subscribe(&self) -> broadcast::Receiver<SparkListenerEvent> {
        self.tx.subscribe()
    }
}
