//! ember's distributed runtime: the driver cuts each job's physical plan
//! into stages at its exchanges and pushes one task per partition to
//! executors; executors run them, write shuffle output and serve it to
//! each other; executors come from a [`cluster::ClusterManager`].
//!
//! DataFusion assumes a plan's partitions run in one process; a task runs
//! one. What that takes, learned the hard way:
//! - sibling partitions must not share work: file-scan work stealing is off
//!   (a task would otherwise read its siblings' files too);
//! - a task runs its stage's plan narrowed to its one partition
//!   ([`task::narrow`]): a join's dynamic filter would otherwise wait for
//!   build sides that run elsewhere;
//! - physical scalar subqueries are off (their results live in the
//!   operator that a stage cut separates from them);
//! - collect-left joins that emit left rows after the last probe partition
//!   (left, full, semi, anti, mark) probe one partition of the matching
//!   rows, or (full) become partitioned joins ([`stage::split`]);
//! - a shuffle reader carries no equivalence knowledge: sorted exchanges are
//!   re-sorted and window sorts name their partition keys;
//! - what datafusion-proto cannot carry faithfully runs in the driver
//!   ([`stage::driver_only`]).

pub mod cluster;
pub mod codec;
pub mod executor;
pub mod proto;
pub mod rpc;
pub mod scheduler;
pub mod shuffle;
pub mod stage;
pub mod task;

pub use cluster::{ClusterManager, ExecutorExit, ExecutorLaunch, InProcess, LocalProcesses, ResourceProfile};
pub use scheduler::{Driver, DriverOptions};

/// The environment variable that carries the application's shared secret
/// to executors (Spark's name for it on Kubernetes).
pub const AUTH_SECRET_ENV: &str = "_SPARK_AUTH_SECRET";
