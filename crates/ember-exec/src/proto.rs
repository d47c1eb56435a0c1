//! The messages of the internal RPC between the driver and its executors.
//!
//! They travel as Arrow Flight actions (`do_action`, body = one of these
//! messages) so one gRPC service per process carries control messages and
//! shuffle data alike; shuffle blocks are fetched with `do_get`, the ticket
//! being a [`ShuffleBlock`]. Hand-written prost messages: no protoc step.

use std::collections::HashMap;

/// Action names, driver side.
pub const REGISTER_EXECUTOR: &str = "RegisterExecutor";
pub const HEARTBEAT: &str = "Heartbeat";
pub const STATUS_UPDATE: &str = "StatusUpdate";
/// Action names, executor side.
pub const LAUNCH_TASK: &str = "LaunchTask";
pub const STOP_EXECUTOR: &str = "StopExecutor";
pub const REMOVE_JOB: &str = "RemoveJob";

/// An executor introduces itself (Spark's `RegisterExecutor`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct RegisterExecutor {
    #[prost(string, tag = "1")]
    pub executor_id: String,
    #[prost(string, tag = "2")]
    pub host: String,
    /// The port of the executor's Flight service (tasks and shuffle blocks).
    #[prost(uint32, tag = "3")]
    pub port: u32,
    #[prost(uint32, tag = "4")]
    pub cores: u32,
    #[prost(uint64, tag = "5")]
    pub memory_bytes: u64,
    #[prost(uint32, tag = "6")]
    pub pid: u32,
}

/// The driver's answer to a registration or heartbeat.
#[derive(Clone, PartialEq, prost::Message)]
pub struct DriverReply {
    /// False when the driver does not know this executor (it was declared
    /// lost): the executor should exit.
    #[prost(bool, tag = "1")]
    pub known: bool,
    #[prost(string, tag = "2")]
    pub app_id: String,
    /// `spark.executor.heartbeatInterval` in milliseconds.
    #[prost(uint64, tag = "3")]
    pub heartbeat_ms: u64,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct Heartbeat {
    #[prost(string, tag = "1")]
    pub executor_id: String,
}

/// Which task: Spark's (stage, stage attempt, partition, attempt) plus the
/// application-unique task id.
#[derive(Clone, PartialEq, Eq, Hash, prost::Message)]
pub struct TaskRef {
    #[prost(uint64, tag = "1")]
    pub task_id: u64,
    #[prost(uint64, tag = "2")]
    pub job_id: u64,
    #[prost(uint64, tag = "3")]
    pub stage_id: u64,
    #[prost(uint32, tag = "4")]
    pub stage_attempt: u32,
    #[prost(uint32, tag = "5")]
    pub partition: u32,
    #[prost(uint32, tag = "6")]
    pub attempt: u32,
}

/// Run one partition of a stage. The stage plan travels once per executor
/// and stage attempt: later tasks of the same stage leave `plan` empty.
#[derive(Clone, PartialEq, prost::Message)]
pub struct LaunchTask {
    #[prost(message, optional, tag = "1")]
    pub task: Option<TaskRef>,
    /// The stage plan (datafusion-proto with ember's codec).
    #[prost(bytes = "vec", tag = "2")]
    pub plan: Vec<u8>,
    /// The session's Spark settings the plan runs under (with `plan`).
    #[prost(map = "string, string", tag = "3")]
    pub conf: HashMap<String, String>,
}

/// A task's final state (Spark's `StatusUpdate`).
#[derive(Clone, PartialEq, prost::Message)]
pub struct StatusUpdate {
    #[prost(string, tag = "1")]
    pub executor_id: String,
    #[prost(message, optional, tag = "2")]
    pub task: Option<TaskRef>,
    #[prost(oneof = "TaskOutcome", tags = "3, 4, 5")]
    pub outcome: Option<TaskOutcome>,
    #[prost(message, optional, tag = "6")]
    pub metrics: Option<TaskMetrics>,
}

#[derive(Clone, PartialEq, prost::Oneof)]
pub enum TaskOutcome {
    /// The task wrote its map output (its size per reduce partition).
    #[prost(message, tag = "3")]
    Success(MapOutput),
    #[prost(message, tag = "4")]
    Failed(TaskError),
    /// A shuffle block could not be fetched: the map output is lost.
    #[prost(message, tag = "5")]
    FetchFailed(FetchFailed),
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct MapOutput {
    /// Bytes written per reduce partition.
    #[prost(uint64, repeated, tag = "1")]
    pub partition_bytes: Vec<u64>,
    #[prost(uint64, repeated, tag = "2")]
    pub partition_rows: Vec<u64>,
}

/// An error with its Spark identity, so the client sees the same
/// exception class as in local mode.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TaskError {
    #[prost(string, tag = "1")]
    pub jvm_class: String,
    #[prost(string, optional, tag = "2")]
    pub error_class: Option<String>,
    #[prost(string, optional, tag = "3")]
    pub sql_state: Option<String>,
    #[prost(string, tag = "4")]
    pub message: String,
    #[prost(map = "string, string", tag = "5")]
    pub parameters: HashMap<String, String>,
    /// The error this one reports (`Caused by:`).
    #[prost(message, optional, boxed, tag = "6")]
    pub cause: Option<Box<TaskError>>,
}

#[derive(Clone, PartialEq, prost::Message)]
pub struct FetchFailed {
    #[prost(uint64, tag = "1")]
    pub shuffle_id: u64,
    #[prost(uint32, tag = "2")]
    pub map_index: u32,
    #[prost(string, tag = "3")]
    pub executor_id: String,
    #[prost(string, tag = "4")]
    pub message: String,
}

/// Spark's task metrics that the listener events carry.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TaskMetrics {
    #[prost(uint64, tag = "1")]
    pub run_time_ms: u64,
    #[prost(uint64, tag = "2")]
    pub records_written: u64,
    #[prost(uint64, tag = "3")]
    pub bytes_written: u64,
    #[prost(uint64, tag = "4")]
    pub records_read: u64,
    #[prost(uint64, tag = "5")]
    pub remote_bytes_read: u64,
}

/// One reduce partition of one map output: the `do_get` ticket.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ShuffleBlock {
    #[prost(uint64, tag = "1")]
    pub shuffle_id: u64,
    /// The map task's id (unique in the application).
    #[prost(uint64, tag = "2")]
    pub map_id: u64,
    #[prost(uint32, tag = "3")]
    pub reduce_partition: u32,
}

/// Where one map task's output lives.
#[derive(Clone, PartialEq, prost::Message)]
pub struct MapLocation {
    #[prost(string, tag = "1")]
    pub executor_id: String,
    /// `http://host:port` of the executor's Flight service.
    #[prost(string, tag = "2")]
    pub address: String,
    #[prost(uint64, tag = "3")]
    pub map_id: u64,
}

/// A finished job's shuffle files and stage plans can go (Spark's
/// `RemoveShuffle`, sent when nothing will read them again).
#[derive(Clone, PartialEq, prost::Message)]
pub struct RemoveJob {
    #[prost(uint64, repeated, tag = "1")]
    pub shuffle_ids: Vec<u64>,
    #[prost(uint64, repeated, tag = "2")]
    pub stage_ids: Vec<u64>,
}
