//! The driver's cluster for `--master`: none for `local[N]` (tasks run in
//! the driver), executor processes for `local-cluster[N,C,M]`, executor
//! pods for `k8s://URL`.

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
        Master::Kubernetes { api_server } => start_kubernetes(conf, &api_server).await.map(Some),
    }
}

/// Executors as pods. In a driver pod (cluster mode) the API server is
/// `spark.kubernetes.driver.master` and the driver listens on its pod IP
/// (`SPARK_DRIVER_BIND_ADDRESS`); executors reach it through the driver
/// Service, or the pod IP with `spark.kubernetes.executor.useDriverPodIP`.
async fn start_kubernetes(conf: &mut SparkConf, api_server: &str) -> Result<Arc<Driver>, String> {
    let in_pod = conf.get("spark.kubernetes.submitInDriver").is_some_and(|v| v == "true");
    if let Ok(addr) = std::env::var("SPARK_DRIVER_BIND_ADDRESS") {
        if !addr.is_empty() && conf.get_explicit("spark.driver.bindAddress").is_none() {
            conf.set("spark.driver.bindAddress", addr.clone());
        }
        if conf.get("spark.kubernetes.executor.useDriverPodIP").is_some_and(|v| v == "true") {
            conf.set("spark.driver.host", addr);
        }
    }
    let api = if in_pod {
        conf.get("spark.kubernetes.driver.master").unwrap_or_else(|| "https://kubernetes.default.svc".into())
    } else {
        api_server.to_string()
    };
    let id = conf
        .get_explicit("spark.app.id")
        .map(String::from)
        .unwrap_or_else(|| format!("spark-application-{}", chrono::Utc::now().timestamp_millis()));
    conf.set("spark.app.id", id.clone());
    let app_name = conf.get("spark.app.name").unwrap_or_else(|| "spark".into());
    let prefix = conf
        .get_explicit("spark.kubernetes.executor.podNamePrefix")
        .map(String::from)
        .unwrap_or_else(|| ember_k8s::conf::resource_name_prefix(&app_name));
    // Spark's default on Kubernetes: 2 executors.
    let executors = conf.get_usize("spark.executor.instances").map_err(|e| e.message)?.unwrap_or(2);
    let cores = conf.get_usize("spark.executor.cores").map_err(|e| e.message)?.unwrap_or(1).max(1);
    let memory_mib = conf
        .get_bytes("spark.executor.memory", ember_common::conf::ByteUnit::MiB)
        .map_err(|e| e.message)?
        .unwrap_or(1 << 30)
        >> 20;
    conf.set("spark.executor.instances", executors.to_string());
    let client = ember_k8s::client(&api, conf).await.map_err(|e| e.to_string())?;
    let kconf = ember_k8s::conf::KubernetesConf::new(conf.clone(), id.clone(), prefix);
    let manager = ember_k8s::KubernetesClusterManager::new(client, kconf).await.map_err(|e| e.to_string())?;
    let profile = ResourceProfile { cores, memory_mib };
    let mut opts = DriverOptions::from_conf(conf, id, executors, profile).map_err(|e| e.message)?;
    // Spark numbers executor pods from 1.
    opts.first_executor_id = 1;
    Driver::start(opts, manager).await
}

/// The driver as the SQL layer's job runner.
pub fn runner(driver: &Option<Arc<Driver>>) -> Option<Arc<dyn ember_sql::JobRunner>> {
    driver.clone().map(|d| d as Arc<dyn ember_sql::JobRunner>)
}
