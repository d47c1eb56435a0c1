//! Executor pods: ember-exec's `ClusterManager` on Kubernetes, after Spark's
//! `ExecutorPodsAllocator`, `ExecutorPodsSnapshotsStore`,
//! `ExecutorPodsWatchSnapshotSource`, `ExecutorPodsPollingSnapshotSource`
//! and `ExecutorPodsLifecycleManager`.
//!
//! - Requested executors queue up; every `allocation.batch.delay` (1s) at
//!   most `allocation.batch.size` (10) pods are created, never more than
//!   `allocation.maxPendingPods` pending, and not before the previous batch
//!   has shown up in the snapshot store.
//! - One snapshot store per application, fed by a watch on the executor
//!   pods (which recovers from `410 Gone` and dropped connections by
//!   listing again) and a full listing every `executor.apiPollingInterval`
//!   (30s).
//! - Failed or succeeded pods are reported to the driver with their exit
//!   code and container state, then deleted (unless
//!   `executor.deleteOnTermination=false`); a deleted pod is reported lost;
//!   a pod missing from listings for `executor.missingPodDetectDelta` (30s)
//!   is lost; a pod never seen within `allocation.executor.timeout`
//!   (600s, at least 5 × batch delay) is reported so the driver asks again.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ember_exec::{ClusterManager, ExecutorExit, ExecutorLaunch};
use futures::StreamExt;
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Pod, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};
use tokio::sync::Notify;

use crate::K8sError;
use crate::conf::*;
use crate::features::{ExecutorContext, Resource, build_executor, owner_reference};

/// The allocator's settings (Spark's keys and defaults).
#[derive(Debug, Clone)]
pub struct AllocatorSettings {
    pub batch_size: usize,
    pub batch_delay: Duration,
    pub max_pending: usize,
    pub executor_timeout: Duration,
    pub polling_interval: Duration,
    pub missing_pod_delta: Duration,
    pub delete_on_termination: bool,
    pub delete_service: bool,
    pub check_all_containers: bool,
}

impl AllocatorSettings {
    pub fn from_conf(k: &KubernetesConf) -> Result<Self, K8sError> {
        let batch_delay = Duration::from_millis(k.millis_or("spark.kubernetes.allocation.batch.delay", 1000)?);
        let timeout = Duration::from_millis(k.millis_or("spark.kubernetes.allocation.executor.timeout", 600_000)?);
        Ok(Self {
            batch_size: k.usize_or("spark.kubernetes.allocation.batch.size", 10)?.max(1),
            batch_delay,
            max_pending: k.usize_or("spark.kubernetes.allocation.maxPendingPods", usize::MAX)?.max(1),
            executor_timeout: timeout.max(batch_delay * 5),
            polling_interval: Duration::from_millis(
                k.millis_or("spark.kubernetes.executor.apiPollingInterval", 30_000)?,
            ),
            missing_pod_delta: Duration::from_millis(
                k.millis_or("spark.kubernetes.executor.missingPodDetectDelta", 30_000)?,
            ),
            delete_on_termination: k.bool_or("spark.kubernetes.executor.deleteOnTermination", true)?,
            delete_service: k.bool_or("spark.kubernetes.driver.service.deleteOnTermination", true)?,
            check_all_containers: k.bool_or("spark.kubernetes.executor.checkAllContainers", true)?,
        })
    }
}

/// What the snapshot store knows of one executor pod.
#[derive(Debug, Clone)]
enum PodState {
    Pending,
    Running,
    /// Succeeded or Failed, with the exit code and a description.
    Terminated {
        exit_code: Option<i32>,
        reason: String,
    },
    Deleted,
}

#[derive(Default)]
struct Store {
    /// Executor id → latest state, from the watch and the listings.
    pods: HashMap<String, PodState>,
    /// When an executor was last in a full listing.
    last_listed: HashMap<String, Instant>,
}

#[derive(Default)]
struct Allocation {
    launch: Option<ExecutorLaunch>,
    /// Executor ids waiting for a pod.
    queue: VecDeque<String>,
    /// Pods created and not seen yet, with when they were created.
    created: HashMap<String, Instant>,
    /// Executors the driver has been told about (or killed itself).
    done: HashSet<String>,
    store: Store,
    started: bool,
    stopped: bool,
}

/// Executor pods for one application.
pub struct KubernetesClusterManager {
    kconf: KubernetesConf,
    settings: AllocatorSettings,
    pods: Api<Pod>,
    client: kube::Client,
    owner: Option<OwnerReference>,
    state: Arc<Mutex<Allocation>>,
    wake: Arc<Notify>,
    tasks: Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl KubernetesClusterManager {
    /// A manager for `kconf`'s application. When the driver runs in a pod
    /// (`spark.kubernetes.driver.pod.name`), that pod must exist: it owns
    /// the executor pods, so deleting it deletes them.
    pub async fn new(client: kube::Client, kconf: KubernetesConf) -> Result<Arc<Self>, K8sError> {
        let settings = AllocatorSettings::from_conf(&kconf)?;
        let pods: Api<Pod> = Api::namespaced(client.clone(), &kconf.namespace);
        let owner = match kconf.get("spark.kubernetes.driver.pod.name") {
            Some(name) => {
                let pod = pods
                    .get_opt(&name)
                    .await
                    .map_err(|e| K8sError::api(format!("cannot read the driver pod {name}"), "get", "pods", e))?;
                let pod = pod.ok_or_else(|| {
                    K8sError::Config(format!(
                        "No pod was found named {name} in the cluster in the namespace {} (this was supposed to be the driver pod.)",
                        kconf.namespace
                    ))
                })?;
                owner_reference(&pod)
            }
            None => None,
        };
        let manager = Arc::new(Self {
            kconf,
            settings,
            pods,
            client,
            owner,
            state: Arc::new(Mutex::new(Allocation::default())),
            wake: Arc::new(Notify::new()),
            tasks: Mutex::new(vec![]),
        });
        manager.start_tasks();
        Ok(manager)
    }

    fn selector(&self) -> String {
        format!("{SPARK_APP_ID_LABEL}={},{SPARK_ROLE_LABEL}={EXECUTOR_ROLE}", self.kconf.app_id)
    }

    fn start_tasks(self: &Arc<Self>) {
        let mut tasks = match self.tasks.lock() {
            Ok(t) => t,
            Err(_) => return,
        };
        if !tasks.is_empty() {
            return;
        }
        tasks.push(tokio::spawn(watch_pods(Arc::downgrade(self))));
        tasks.push(tokio::spawn(poll_pods(Arc::downgrade(self))));
        tasks.push(tokio::spawn(allocate(Arc::downgrade(self))));
    }

    /// Creates one executor's pod (and its on-demand claims).
    async fn create_pod(&self, id: &str, launch: &ExecutorLaunch) -> Result<(), K8sError> {
        let exec = ExecutorContext {
            user: std::env::var("SPARK_USER").or_else(|_| std::env::var("USER")).unwrap_or_else(|_| "ember".into()),
            driver_url: launch.driver_url.clone(),
            cores: launch.profile.cores,
            secret: launch.secret.as_deref().map(String::from),
            owner: self.owner.clone(),
        };
        let (pod, resources) = build_executor(&self.kconf, id, &exec)?;
        let name = pod.metadata.name.clone().unwrap_or_default();
        for r in resources {
            if let Resource::Claim(mut claim) = r {
                claim.metadata.owner_references = self.owner.clone().map(|o| vec![o]);
                let api: Api<PersistentVolumeClaim> = Api::namespaced(self.client.clone(), &self.kconf.namespace);
                match api.create(&PostParams::default(), &claim).await {
                    Ok(_) => {}
                    Err(kube::Error::Api(s)) if s.code == 409 => {}
                    Err(e) => {
                        return Err(K8sError::api(
                            format!("cannot create the claim for executor pod {name}"),
                            "create",
                            "persistentvolumeclaims",
                            e,
                        ));
                    }
                }
            }
        }
        self.pods.create(&PostParams::default(), &pod).await.map_err(|e| {
            K8sError::api(
                format!("cannot create executor pod {name} in namespace {}", self.kconf.namespace),
                "create",
                "pods",
                e,
            )
        })?;
        Ok(())
    }

    /// Tells the driver an executor is gone, once.
    fn report(&self, id: &str, exit_code: Option<i32>, reason: String) {
        let launch = match self.state.lock() {
            Ok(mut s) => {
                if !s.done.insert(id.to_string()) {
                    return;
                }
                s.created.remove(id);
                s.launch.clone()
            }
            Err(_) => return,
        };
        if let Some(l) = launch {
            let _ = l.exits.send(ExecutorExit { executor_id: id.to_string(), exit_code, reason });
        }
    }

    /// Applies the store to the executors: reports the failed, finished,
    /// deleted and missing ones; deletes finished pods.
    async fn process_snapshot(&self) {
        let now = Instant::now();
        let (terminated, lost) = match self.state.lock() {
            Ok(s) => {
                let mut terminated = vec![];
                let mut lost = vec![];
                for (id, st) in &s.store.pods {
                    if s.done.contains(id) {
                        continue;
                    }
                    match st {
                        PodState::Terminated { exit_code, reason } => {
                            terminated.push((id.clone(), *exit_code, reason.clone()))
                        }
                        PodState::Deleted => lost.push((id.clone(), "The executor pod was deleted".to_string())),
                        PodState::Pending | PodState::Running => {
                            if let Some(t) = s.store.last_listed.get(id)
                                && now.duration_since(*t) > self.settings.missing_pod_delta
                            {
                                lost.push((
                                    id.clone(),
                                    format!(
                                        "The executor pod was missing from the API server's listings for {} ms",
                                        self.settings.missing_pod_delta.as_millis()
                                    ),
                                ));
                            }
                        }
                    }
                }
                (terminated, lost)
            }
            Err(_) => return,
        };
        for (id, code, reason) in terminated {
            self.report(&id, code, reason);
            if self.settings.delete_on_termination {
                let name = self.kconf.executor_pod_name(&id);
                let _ = self.pods.delete(&name, &DeleteParams::default()).await;
            }
        }
        for (id, reason) in lost {
            self.report(&id, None, reason);
        }
    }

    /// Creates the next batch of pods, and reports pods never seen.
    async fn allocate_batch(&self) {
        let now = Instant::now();
        let (batch, timed_out, launch) = match self.state.lock() {
            Ok(mut s) => {
                let timed_out: Vec<String> = s
                    .created
                    .iter()
                    .filter(|(id, t)| {
                        !s.store.pods.contains_key(*id) && now.duration_since(**t) > self.settings.executor_timeout
                    })
                    .map(|(id, _)| id.clone())
                    .collect();
                let unseen = s.created.keys().filter(|id| !s.store.pods.contains_key(*id)).count();
                let pending = s
                    .store
                    .pods
                    .iter()
                    .filter(|(id, st)| matches!(st, PodState::Pending) && !s.done.contains(*id))
                    .count()
                    + unseen;
                // The previous batch must show up before the next one goes out.
                let room = if unseen > 0 {
                    0
                } else {
                    self.settings.batch_size.min(self.settings.max_pending.saturating_sub(pending))
                };
                let n = room.min(s.queue.len());
                let batch: Vec<String> = s.queue.drain(..n).collect();
                for id in &batch {
                    s.created.insert(id.clone(), now);
                }
                (batch, timed_out, s.launch.clone())
            }
            Err(_) => return,
        };
        for id in timed_out {
            let name = self.kconf.executor_pod_name(&id);
            let _ = self.pods.delete(&name, &DeleteParams::default()).await;
            self.report(
                &id,
                None,
                format!(
                    "Executor pod {name} was not seen within {} ms (spark.kubernetes.allocation.executor.timeout)",
                    self.settings.executor_timeout.as_millis()
                ),
            );
        }
        let Some(launch) = launch else { return };
        for id in batch {
            if let Err(e) = self.create_pod(&id, &launch).await {
                tracing::error!(error = %e, "cannot create an executor pod");
                self.report(&id, None, e.to_string());
            }
        }
    }

    fn update_store(&self, f: impl FnOnce(&mut Store)) {
        if let Ok(mut s) = self.state.lock() {
            f(&mut s.store);
        }
        self.wake.notify_one();
    }

    fn executor_id(pod: &Pod) -> Option<String> {
        pod.metadata.labels.as_ref()?.get(SPARK_EXECUTOR_ID_LABEL).cloned()
    }

    fn pod_state(&self, pod: &Pod) -> PodState {
        if pod.metadata.deletion_timestamp.is_some() {
            return PodState::Deleted;
        }
        pod_state(pod, self.settings.check_all_containers)
    }
}

/// A pod's state: a failed container ends the executor when
/// `checkAllContainers`, else only the pod phase counts.
fn pod_state(pod: &Pod, check_all_containers: bool) -> PodState {
    let status = pod.status.clone().unwrap_or_default();
    let phase = status.phase.unwrap_or_else(|| "Pending".into());
    let terminated = |s: &k8s_openapi::api::core::v1::ContainerStatus| {
        s.state.as_ref().and_then(|st| st.terminated.clone()).map(|t| (s.name.clone(), t))
    };
    let containers = status.container_statuses.unwrap_or_default();
    // Ember's container first: its exit code is the executor's.
    let ended: Vec<_> = containers.iter().filter_map(terminated).collect();
    let name = pod.metadata.name.clone().unwrap_or_default();
    let describe = |phase: &str| {
        let main = ended.iter().find(|(n, _)| n == EXECUTOR_CONTAINER_NAME).or_else(|| ended.first());
        let code = main.map(|(_, t)| t.exit_code);
        let detail = main
            .map(|(n, t)| {
                format!(
                    "; container {n}: {}{}",
                    t.reason.clone().unwrap_or_else(|| "terminated".into()),
                    t.message.as_deref().map(|m| format!(" ({m})")).unwrap_or_default()
                )
            })
            .unwrap_or_default();
        let reason = format!(
            "The executor pod {name} exited with exit code {} ({}); pod phase {phase}{detail}{}",
            code.map_or("unknown".into(), |c| c.to_string()),
            ember_exec::cluster::exit_reason(code, None),
            status.message.as_deref().map(|m| format!("; {m}")).unwrap_or_default()
        );
        PodState::Terminated { exit_code: code, reason }
    };
    match phase.as_str() {
        "Failed" | "Succeeded" => describe(&phase),
        _ if check_all_containers && !ended.is_empty() => describe(&phase),
        "Running" => PodState::Running,
        _ => PodState::Pending,
    }
}

/// The watch half of the snapshot store.
async fn watch_pods(me: std::sync::Weak<KubernetesClusterManager>) {
    let Some(m) = me.upgrade() else { return };
    let config = watcher::Config::default().labels(&m.selector());
    let mut stream = watcher(m.pods.clone(), config).default_backoff().boxed();
    drop(m);
    while let Some(event) = stream.next().await {
        let Some(m) = me.upgrade() else { return };
        match event {
            Ok(watcher::Event::Apply(pod)) | Ok(watcher::Event::InitApply(pod)) => {
                if let Some(id) = KubernetesClusterManager::executor_id(&pod) {
                    let st = m.pod_state(&pod);
                    m.update_store(|s| {
                        s.pods.insert(id, st);
                    });
                }
            }
            Ok(watcher::Event::Delete(pod)) => {
                if let Some(id) = KubernetesClusterManager::executor_id(&pod) {
                    let st = match m.pod_state(&pod) {
                        t @ PodState::Terminated { .. } => t,
                        _ => PodState::Deleted,
                    };
                    m.update_store(|s| {
                        s.pods.insert(id, st);
                    });
                }
            }
            Ok(watcher::Event::Init) | Ok(watcher::Event::InitDone) => {}
            Err(e) => tracing::warn!(error = %e, "executor pod watch failed; it restarts"),
        }
    }
}

/// The polling half: a full listing every `apiPollingInterval`.
async fn poll_pods(me: std::sync::Weak<KubernetesClusterManager>) {
    loop {
        let Some(m) = me.upgrade() else { return };
        let interval = m.settings.polling_interval;
        let lp = ListParams::default().labels(&m.selector());
        match m.pods.list(&lp).await {
            Ok(list) => {
                let now = Instant::now();
                let seen: Vec<(String, PodState)> = list
                    .items
                    .iter()
                    .filter_map(|p| KubernetesClusterManager::executor_id(p).map(|id| (id, m.pod_state(p))))
                    .collect();
                m.update_store(|s| {
                    for (id, st) in seen {
                        s.last_listed.insert(id.clone(), now);
                        s.pods.insert(id, st);
                    }
                });
            }
            Err(e) => tracing::warn!(error = %e, "cannot list executor pods"),
        }
        drop(m);
        tokio::time::sleep(interval).await;
    }
}

/// The allocation loop: a batch every `batch.delay`, and the store's news
/// applied as it arrives.
async fn allocate(me: std::sync::Weak<KubernetesClusterManager>) {
    loop {
        let Some(m) = me.upgrade() else { return };
        if m.state.lock().map(|s| s.stopped).unwrap_or(true) {
            return;
        }
        m.process_snapshot().await;
        m.allocate_batch().await;
        let delay = m.settings.batch_delay;
        let wake = m.wake.clone();
        drop(m);
        tokio::select! {
            _ = tokio::time::sleep(delay) => {}
            _ = wake.notified() => {}
        }
    }
}

#[async_trait::async_trait]
impl ClusterManager for KubernetesClusterManager {
    async fn request_executors(&self, executor_ids: &[String], launch: &ExecutorLaunch) -> Result<(), String> {
        let first = match self.state.lock() {
            Ok(mut s) => {
                s.launch = Some(launch.clone());
                s.queue.extend(executor_ids.iter().cloned());
                let first = !s.started;
                s.started = true;
                first
            }
            Err(_) => return Err("the executor pods allocator is broken".into()),
        };
        if first {
            // The first batch is created here, so an application that cannot
            // create pods at all (RBAC, quota, a bad spec) fails at once.
            let batch: Vec<String> = match self.state.lock() {
                Ok(mut s) => {
                    let n = self.settings.batch_size.min(self.settings.max_pending).min(s.queue.len());
                    let batch: Vec<String> = s.queue.drain(..n).collect();
                    for id in &batch {
                        s.created.insert(id.clone(), Instant::now());
                    }
                    batch
                }
                Err(_) => vec![],
            };
            for id in batch {
                self.create_pod(&id, launch).await.map_err(|e| e.to_string())?;
            }
        }
        self.wake.notify_one();
        Ok(())
    }

    async fn kill_executor(&self, executor_id: &str) {
        if let Ok(mut s) = self.state.lock() {
            s.done.insert(executor_id.to_string());
            s.queue.retain(|id| id != executor_id);
            s.created.remove(executor_id);
        }
        if self.settings.delete_on_termination {
            let name = self.kconf.executor_pod_name(executor_id);
            let _ = self.pods.delete(&name, &DeleteParams::default()).await;
        }
    }

    /// Deletes the executor pods (unless `executor.deleteOnTermination=false`),
    /// the driver's Services (`driver.service.deleteOnTermination`) and the
    /// application's ConfigMaps; the driver pod stays with its logs.
    async fn stop(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.stopped = true;
        }
        if let Ok(mut t) = self.tasks.lock() {
            for h in t.drain(..) {
                h.abort();
            }
        }
        // A slow or unreachable API server must not keep the application from ending.
        let limit = Duration::from_secs(30);
        let ns = &self.kconf.namespace;
        let app = format!("{SPARK_APP_ID_LABEL}={}", self.kconf.app_id);
        let lp = ListParams::default().labels(&app);
        if self.settings.delete_on_termination {
            let executors = ListParams::default().labels(&self.selector());
            match tokio::time::timeout(limit, self.pods.delete_collection(&DeleteParams::default(), &executors)).await {
                Ok(Ok(_)) => {}
                Ok(Err(e)) => tracing::warn!(error = %e, "cannot delete the executor pods"),
                Err(_) => tracing::warn!("deleting the executor pods timed out"),
            }
        }
        if self.settings.delete_service {
            let services: Api<Service> = Api::namespaced(self.client.clone(), ns);
            if let Ok(Ok(list)) = tokio::time::timeout(limit, services.list(&lp)).await {
                for s in list.items {
                    if let Some(n) = s.metadata.name {
                        let _ = tokio::time::timeout(limit, services.delete(&n, &DeleteParams::default())).await;
                    }
                }
            }
        }
        let maps: Api<ConfigMap> = Api::namespaced(self.client.clone(), ns);
        let _ = tokio::time::timeout(limit, maps.delete_collection(&DeleteParams::default(), &lp)).await;
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn pod(json: serde_json::Value) -> Pod {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn pod_states() {
        let p = pod(serde_json::json!({"metadata": {"name": "a"}, "status": {"phase": "Running"}}));
        assert!(matches!(pod_state(&p, true), PodState::Running));
        let p = pod(serde_json::json!({"metadata": {"name": "a"}, "status": {"phase": "Failed", "containerStatuses": [
            {"name": "spark-kubernetes-executor", "image": "ember", "imageID": "", "ready": false, "restartCount": 0,
             "state": {"terminated": {"exitCode": 137, "reason": "OOMKilled"}}}]}}));
        match pod_state(&p, true) {
            PodState::Terminated { exit_code, reason } => {
                assert_eq!(exit_code, Some(137));
                assert!(
                    reason.contains("exit code 137")
                        && reason.contains("OOMKilled")
                        && reason.contains("out of memory"),
                    "{reason}"
                );
            }
            other => panic!("{other:?}"),
        }
        // A sidecar that failed while the pod still runs ends the executor
        // only with checkAllContainers.
        let p =
            pod(serde_json::json!({"metadata": {"name": "a"}, "status": {"phase": "Running", "containerStatuses": [
            {"name": "sidecar", "image": "x", "imageID": "", "ready": false, "restartCount": 0,
             "state": {"terminated": {"exitCode": 1}}}]}}));
        assert!(matches!(pod_state(&p, true), PodState::Terminated { exit_code: Some(1), .. }));
        assert!(matches!(pod_state(&p, false), PodState::Running));
    }
}
