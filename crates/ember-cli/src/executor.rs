//! `ember executor`: the executor entrypoint (what a local-cluster child
//! process and an executor pod run). It registers with the driver at
//! `--driver-url` and runs until the driver stops it. In a pod, the flags
//! come from Spark's executor environment (`SPARK_DRIVER_URL`,
//! `SPARK_EXECUTOR_ID`, `SPARK_EXECUTOR_POD_IP`, ...).

use std::sync::Arc;

#[derive(clap::Args)]
pub struct ExecutorArgs {
    /// The driver's internal RPC address, http://host:port.
    #[arg(long = "driver-url", env = "SPARK_DRIVER_URL")]
    driver_url: String,
    #[arg(long = "executor-id", env = "SPARK_EXECUTOR_ID")]
    executor_id: String,
    /// Task slots (spark.executor.cores).
    #[arg(long, default_value_t = 1, env = "SPARK_EXECUTOR_CORES")]
    cores: usize,
    /// Memory, e.g. 2g (spark.executor.memory).
    #[arg(long, default_value = "1g", env = "SPARK_EXECUTOR_MEMORY")]
    memory: String,
    /// The host other processes reach this executor at.
    #[arg(long, default_value = "127.0.0.1", env = "SPARK_EXECUTOR_POD_IP")]
    hostname: String,
    #[arg(long = "app-id", default_value = "app", env = "SPARK_APPLICATION_ID")]
    app_id: String,
    /// spark.local.dir: shuffle files and spills go below it (the first of
    /// a comma-separated list).
    #[arg(long = "local-dir", env = "SPARK_LOCAL_DIRS")]
    local_dir: Option<String>,
}

pub async fn run(a: ExecutorArgs) -> Result<u8, String> {
    let memory_bytes = ember_common::conf::parse_bytes(&a.memory, ember_common::conf::ByteUnit::MiB)
        .ok_or_else(|| format!("--memory should be a size such as 2g, but was {}", a.memory))?;
    let secret: Option<Arc<str>> =
        std::env::var(ember_exec::AUTH_SECRET_ENV).ok().filter(|s| !s.is_empty()).map(Into::into);
    let args = ember_exec::executor::ExecutorArgs {
        driver_url: a.driver_url,
        executor_id: a.executor_id,
        cores: a.cores.max(1),
        memory_bytes,
        host: a.hostname,
        app_id: a.app_id,
        local_dir: a
            .local_dir
            .as_deref()
            .and_then(|d| d.split(',').map(str::trim).find(|d| !d.is_empty()))
            .map(std::path::PathBuf::from)
            .unwrap_or_else(std::env::temp_dir),
        secret,
    };
    let handle = ember_exec::executor::start(args).await?;
    let code = handle.done().await.unwrap_or(1);
    Ok(u8::try_from(code & 0xff).unwrap_or(1))
}
