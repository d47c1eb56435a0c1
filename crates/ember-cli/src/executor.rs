//! `ember executor`: the executor entrypoint (what a local-cluster child
//! process and, later, an executor pod run). It registers with the driver
//! at `--driver-url` and runs until the driver stops it.

use std::sync::Arc;

#[derive(clap::Args)]
pub struct ExecutorArgs {
    /// The driver's internal RPC address, http://host:port.
    #[arg(long = "driver-url")]
    driver_url: String,
    #[arg(long = "executor-id")]
    executor_id: String,
    /// Task slots (spark.executor.cores).
    #[arg(long, default_value_t = 1)]
    cores: usize,
    /// Memory, e.g. 2g (spark.executor.memory).
    #[arg(long, default_value = "1g")]
    memory: String,
    /// The host other processes reach this executor at.
    #[arg(long, default_value = "127.0.0.1")]
    hostname: String,
    #[arg(long = "app-id", default_value = "app")]
    app_id: String,
    /// spark.local.dir: shuffle files and spills go below it.
    #[arg(long = "local-dir")]
    local_dir: Option<std::path::PathBuf>,
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
        local_dir: a.local_dir.unwrap_or_else(std::env::temp_dir),
        secret,
    };
    let handle = ember_exec::executor::start(args).await?;
    let code = handle.done().await.unwrap_or(1);
    Ok(u8::try_from(code & 0xff).unwrap_or(1))
}
