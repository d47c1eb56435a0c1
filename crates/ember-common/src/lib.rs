//! Pieces every ember crate shares: [`SparkConf`] (Spark's `spark.*` keys,
//! their defaults and `512m`/`30s` value parsing) and [`SparkError`], the
//! error that carries Spark's exception class, error class and SQLSTATE to
//! the client.

pub mod conf;
pub mod error;

pub use conf::SparkConf;
pub use error::{ExceptionClass, SparkError};

/// The Spark version ember reports to clients (`spark.version`).
pub const SPARK_VERSION: &str = "4.2.0";

/// A new application id in Spark's local-mode shape, `local-<millis>`.
pub fn new_local_app_id() -> String {
    let millis =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or_default();
    format!("local-{millis}")
}
