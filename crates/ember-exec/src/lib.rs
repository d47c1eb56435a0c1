//! ember's distributed runtime: the driver cuts each job's physical plan
//! into stages at its exchanges and pushes one task per partition to
//! executors; executors run them, write shuffle output and serve it to
//! each other; executors come from a [`cluster::ClusterManager`].

pub mod cluster;
pub mod codec;
pub mod executor;
pub mod proto;
pub mod rpc;
pub mod scheduler;
pub mod shuffle;
pub mod stage;

pub use cluster::{ClusterManager, InProcess, LocalProcesses, ResourceProfile};
pub use scheduler::{Driver, DriverOptions};

/// The environment variable that carries the application's shared secret
/// to executors (Spark's name for it on Kubernetes).
pub const AUTH_SECRET_ENV: &str = "_SPARK_AUTH_SECRET";
