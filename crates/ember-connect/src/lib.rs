//! The Spark Connect endpoint: PySpark clients talk to ember through it.
//!
//! Message types are Apache Spark's own (`apache-spark-connect-proto`);
//! the server trait is generated in `build.rs`.

mod analyze;
mod arrow_out;
mod artifacts;
mod config;
mod execute;
mod operation;
mod server;
mod sessions;
pub mod status;

pub mod generated {
    include!(concat!(env!("OUT_DIR"), "/spark.connect.SparkConnectService.rs"));
}

pub use server::{MAX_MESSAGE_BYTES, SparkConnect, bind, serve};
