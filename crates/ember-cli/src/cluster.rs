//! The driver's cluster for `--master`: none for `local[N]` (tasks run in
//! the driver), executor processes for `local-cluster[N,C,M]`.

use std::sync::Arc;

use ember_common::SparkConf;
use ember_common::conf::Master;
use ember_exec::{Driver, DriverOptions, LocalProcesses, ResourceProfile};

/// Spark's application id shape for standalone and local-cluster masters.
fn app_id() -> String {
    format!("app-{}-0000", chrono::Utc::now().format("%Y%m%d%H%M%S"))
}

/// Starts the driver's scheduler and executors when the master has any;
/// records the executor settings in `conf` as Spark does.
pub async fn start(conf: &mut SparkConf) -> Result<Option<Arc<Driver>>, String> {
    let master = conf.get("spark.master").unwrap_or_else(|| "local[*]".into());
    match Master::parse(&master).map_err(|e| e.message)? {
        Master::Local { .. } => Ok(None),
        Master::LocalCluster { executors, cores, memory_mib } => {
            let id = app_id();
            conf.set("spark.app.id", id.clone());
            conf.set("spark.executor.instances", executors.to_string());
            conf.set("spark.executor.cores", cores.to_string());
            conf.set("spark.executor.memory", format!("{memory_mib}m"));
            let profile = ResourceProfile { cores, memory_mib };
            let opts = DriverOptions::from_conf(conf, id, executors, profile).map_err(|e| e.message)?;
            let driver = Driver::start(opts, Arc::new(LocalProcesses::new())).await?;
            Ok(Some(driver))
        }
        Master::Kubernetes { .. } => Err("k8s:// masters are not supported yet".into()),
    }
}

/// The driver as the SQL layer's job runner.
pub fn runner(driver: &Option<Arc<Driver>>) -> Option<Arc<dyn ember_sql::JobRunner>> {
    driver.clone().map(|d| d as Arc<dyn ember_sql::JobRunner>)
}
