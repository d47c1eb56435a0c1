//! The cluster-manager seam: where executors come from. The driver asks
//! for executors with a resource profile, kills them, and hears when one
//! exits; it never knows which manager it talks to. Implementations:
//! [`LocalProcesses`] (`local-cluster[N,C,M]`: child processes),
//! [`InProcess`] (executors as tasks of the driver process; with
//! [`InProcess::kill`] it is the test double that injects executor loss),
//! and Kubernetes pods (ember-k8s).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use tokio::sync::{mpsc, oneshot};

/// What each executor gets (Spark's `ResourceProfile`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResourceProfile {
    pub cores: usize,
    pub memory_mib: u64,
}

/// Everything an executor needs to start and find its driver.
#[derive(Debug, Clone)]
pub struct ExecutorLaunch {
    pub app_id: String,
    /// `http://host:port` of the driver's internal RPC service.
    pub driver_url: String,
    pub profile: ResourceProfile,
    /// `spark.local.dir`: shuffle files and spills go below it.
    pub local_dir: PathBuf,
    /// The application's shared secret (`spark.authenticate=true`).
    pub secret: Option<Arc<str>>,
    /// Where the manager reports executors that exited.
    pub exits: mpsc::UnboundedSender<ExecutorExit>,
}

/// An executor ended (crash, kill, OOM, or a clean stop).
#[derive(Debug, Clone)]
pub struct ExecutorExit {
    pub executor_id: String,
    pub exit_code: Option<i32>,
    pub reason: String,
}

#[async_trait::async_trait]
pub trait ClusterManager: Send + Sync {
    /// Starts one executor per id with `launch.profile`.
    async fn request_executors(&self, executor_ids: &[String], launch: &ExecutorLaunch) -> Result<(), String>;
    /// Stops an executor now (it may already be gone).
    async fn kill_executor(&self, executor_id: &str);
    /// Stops every executor this manager started.
    async fn stop(&self);
}

/// What an exit code means, in Spark's and Kubernetes' terms.
pub fn exit_reason(code: Option<i32>, signal: Option<i32>) -> String {
    match (code, signal) {
        (_, Some(9)) | (Some(137), _) => "killed (SIGKILL, exit code 137): out of memory or killed".into(),
        (_, Some(15)) | (Some(143), _) => "terminated (SIGTERM, exit code 143)".into(),
        (_, Some(s)) => format!("killed by signal {s}"),
        (Some(0), _) => "exited normally (exit code 0)".into(),
        (Some(50), _) => "uncaught exception (exit code 50)".into(),
        (Some(52), _) => "out of memory (exit code 52)".into(),
        (Some(c), _) => format!("exited with code {c}"),
        (None, None) => "exited for an unknown reason".into(),
    }
}

/// `local-cluster[N,C,M]`: each executor is an `ember executor` child process.
#[derive(Default)]
pub struct LocalProcesses {
    kills: Mutex<HashMap<String, oneshot::Sender<()>>>,
}

impl LocalProcesses {
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait::async_trait]
impl ClusterManager for LocalProcesses {
    async fn request_executors(&self, executor_ids: &[String], launch: &ExecutorLaunch) -> Result<(), String> {
        let exe = std::env::current_exe().map_err(|e| format!("cannot find the ember binary: {e}"))?;
        for id in executor_ids {
            let mut cmd = tokio::process::Command::new(&exe);
            cmd.arg("executor")
                .args(["--driver-url", &launch.driver_url])
                .args(["--executor-id", id])
                .args(["--cores", &launch.profile.cores.to_string()])
                .args(["--memory", &format!("{}m", launch.profile.memory_mib)])
                .args(["--app-id", &launch.app_id])
                .args(["--local-dir", &launch.local_dir.display().to_string()])
                // The executor exits when its driver does (its stdin closes).
                .env("EMBER_EXIT_WITH_PARENT", "1")
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::null())
                .kill_on_drop(true);
            match &launch.secret {
                Some(s) => cmd.env(crate::AUTH_SECRET_ENV, s.as_ref()),
                None => cmd.env_remove(crate::AUTH_SECRET_ENV),
            };
            let mut child = cmd.spawn().map_err(|e| format!("cannot start executor {id}: {e}"))?;
            let (kill_tx, kill_rx) = oneshot::channel::<()>();
            if let Ok(mut k) = self.kills.lock() {
                k.insert(id.clone(), kill_tx);
            }
            let exits = launch.exits.clone();
            let id = id.clone();
            tokio::spawn(async move {
                let _stdin = child.stdin.take();
                let status = tokio::select! {
                    s = child.wait() => s,
                    _ = kill_rx => {
                        let _ = child.start_kill();
                        child.wait().await
                    }
                };
                let (code, signal) = match &status {
                    Ok(s) => {
                        #[cfg(unix)]
                        let signal = std::os::unix::process::ExitStatusExt::signal(s);
                        #[cfg(not(unix))]
                        let signal = None;
                        (s.code(), signal)
                    }
                    Err(_) => (None, None),
                };
                let exit_code = code.or(signal.map(|s| 128 + s));
                let _ = exits.send(ExecutorExit { executor_id: id, exit_code, reason: exit_reason(code, signal) });
            });
        }
        Ok(())
    }

    async fn kill_executor(&self, executor_id: &str) {
        if let Some(tx) = self.kills.lock().ok().and_then(|mut k| k.remove(executor_id)) {
            let _ = tx.send(());
        }
    }

    async fn stop(&self) {
        let all: Vec<_> = self.kills.lock().map(|mut k| k.drain().collect()).unwrap_or_default();
        for (_, tx) in all {
            let _ = tx.send(());
        }
    }
}

/// Executors that run as tasks inside the driver process. `kill` makes one
/// vanish without a goodbye (no more heartbeats, its shuffle service gone),
/// as a crashed process would: the test double for executor loss.
#[derive(Default)]
pub struct InProcess {
    executors: Mutex<HashMap<String, crate::executor::ExecutorHandle>>,
    /// Executors with these ids are "started" but never register.
    never_register: Mutex<Vec<String>>,
}

impl InProcess {
    pub fn new() -> Self {
        Self::default()
    }

    /// The executor with this id will never register (a pod stuck pending).
    pub fn never_register(&self, executor_id: &str) {
        if let Ok(mut n) = self.never_register.lock() {
            n.push(executor_id.to_string());
        }
    }

    /// Kills an executor abruptly (what `kill -9` does to a process).
    pub fn kill(&self, executor_id: &str) -> bool {
        match self.executors.lock().ok().and_then(|mut e| e.remove(executor_id)) {
            Some(h) => {
                h.crash();
                true
            }
            None => false,
        }
    }
}

#[async_trait::async_trait]
impl ClusterManager for InProcess {
    async fn request_executors(&self, executor_ids: &[String], launch: &ExecutorLaunch) -> Result<(), String> {
        for id in executor_ids {
            if self.never_register.lock().map(|n| n.contains(id)).unwrap_or(false) {
                continue;
            }
            let args = crate::executor::ExecutorArgs {
                driver_url: launch.driver_url.clone(),
                executor_id: id.clone(),
                cores: launch.profile.cores,
                memory_bytes: launch.profile.memory_mib << 20,
                host: "127.0.0.1".into(),
                app_id: launch.app_id.clone(),
                local_dir: launch.local_dir.clone(),
                secret: launch.secret.clone(),
            };
            let handle = crate::executor::start(args).await.map_err(|e| format!("executor {id}: {e}"))?;
            let exits = launch.exits.clone();
            let done = handle.done();
            let exec_id = id.clone();
            tokio::spawn(async move {
                let code = done.await.unwrap_or(137);
                let _ = exits.send(ExecutorExit {
                    executor_id: exec_id,
                    exit_code: Some(code),
                    reason: exit_reason(Some(code), None),
                });
            });
            if let Ok(mut e) = self.executors.lock() {
                e.insert(id.clone(), handle);
            }
        }
        Ok(())
    }

    async fn kill_executor(&self, executor_id: &str) {
        self.kill(executor_id);
    }

    async fn stop(&self) {
        let all: Vec<_> = self.executors.lock().map(|mut e| e.drain().collect()).unwrap_or_default();
        for (_, h) in all {
            h.stop();
        }
    }
}
