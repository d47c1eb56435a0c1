//! `ember-test-node`: a test node agent, a "process kubelet". It registers
//! a Node with a real API server and runs each container of the pods the
//! scheduler binds to it as a local process of the `ember` binary (the
//! image is not pulled: every image is taken to be ember's), with:
//! - the pod's env (values, `$(VAR)` references, `fieldRef`,
//!   `secretKeyRef`, `configMapKeyRef`) and args;
//! - its own loopback address, 127.0.1.x, as the pod IP;
//! - volumes as directories below `--work-dir` (configMap and secret items
//!   written out, emptyDir, hostPath as is); mount paths in env values and
//!   args are rewritten to those directories, since processes share one
//!   file system;
//! - the pod's service account as a `KUBECONFIG` with a token from the
//!   TokenRequest API, so RBAC applies to what the pod does;
//! - pod phase, IPs, conditions and container states (exit codes) written
//!   back to the pod's status, as a kubelet does;
//! - graceful deletion: SIGTERM, SIGKILL after the grace period, then the
//!   final delete.
//!
//! Only the first container runs; others (template sidecars) are reported
//! waiting. Test-only: it trusts the pods it gets.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use futures::StreamExt;
use k8s_openapi::api::authentication::v1::{TokenRequest, TokenRequestSpec};
use k8s_openapi::api::core::v1::{ConfigMap, Node, Pod, Secret, ServiceAccount};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams, Preconditions};
use kube::runtime::{WatchStreamExt, watcher};
use serde_json::json;

#[derive(Parser, Clone)]
struct Args {
    /// The kubeconfig the agent uses (it needs to read pods, secrets and
    /// config maps, write pod and node status, and request tokens).
    #[arg(long)]
    kubeconfig: PathBuf,
    #[arg(long = "node-name", default_value = "ember-test-node")]
    node_name: String,
    /// The binary every container runs.
    #[arg(long)]
    ember: PathBuf,
    /// Where pod directories (volumes, logs) go.
    #[arg(long = "work-dir")]
    work_dir: PathBuf,
    /// Pod IPs are <prefix>.2 to <prefix>.254.
    #[arg(long = "ip-prefix", default_value = "127.0.1")]
    ip_prefix: String,
}

struct Agent {
    args: Args,
    client: kube::Client,
    /// The API server URL and CA file for pods' kubeconfigs.
    server: String,
    ca_file: Option<String>,
    /// Pod uid → signal sender for its process.
    running: Mutex<HashMap<String, tokio::sync::mpsc::UnboundedSender<Signal>>>,
    started: Mutex<HashSet<String>>,
    next_ip: Mutex<u8>,
}

#[derive(Debug, Clone, Copy)]
enum Signal {
    Term { grace_secs: u64 },
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_env("EMBER_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
    let args = Args::parse();
    match run(args).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ember-test-node: {e}");
            std::process::ExitCode::from(1)
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    let kubeconfig = kube::config::Kubeconfig::read_from(&args.kubeconfig).map_err(|e| e.to_string())?;
    let cluster = kubeconfig.clusters.first().and_then(|c| c.cluster.clone()).ok_or("kubeconfig without a cluster")?;
    let server = cluster.server.clone().ok_or("kubeconfig without a server")?;
    let ca_file = cluster.certificate_authority.clone();
    let config =
        kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default()).await.map_err(|e| e.to_string())?;
    let client = kube::Client::try_from(config).map_err(|e| e.to_string())?;
    std::fs::create_dir_all(&args.work_dir).map_err(|e| e.to_string())?;
    let agent = Arc::new(Agent {
        args: args.clone(),
        client: client.clone(),
        server,
        ca_file,
        running: Mutex::new(HashMap::new()),
        started: Mutex::new(HashSet::new()),
        next_ip: Mutex::new(2),
    });
    register_node(&agent).await?;
    tokio::spawn(heartbeat(agent.clone()));
    let pods: Api<Pod> = Api::all(client);
    let config = watcher::Config::default().fields(&format!("spec.nodeName={}", args.node_name));
    let mut stream = watcher(pods, config).default_backoff().boxed();
    tracing::info!(node = args.node_name, "test node ready");
    let mut stop = Box::pin(tokio::signal::ctrl_c());
    loop {
        tokio::select! {
            ev = stream.next() => match ev {
                Some(Ok(watcher::Event::Apply(pod))) | Some(Ok(watcher::Event::InitApply(pod))) => agent.clone().on_pod(pod).await,
                Some(Ok(watcher::Event::Delete(pod))) => agent.on_deleted(&pod),
                Some(Ok(_)) => {}
                Some(Err(e)) => tracing::warn!(error = %e, "pod watch failed; it restarts"),
                None => return Err("the pod watch ended".into()),
            },
            _ = &mut stop => break,
        }
    }
    // Leaving: stop every process.
    let all: Vec<_> = agent.running.lock().map(|r| r.values().cloned().collect()).unwrap_or_default();
    for tx in all {
        let _ = tx.send(Signal::Term { grace_secs: 1 });
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    Ok(())
}

async fn register_node(agent: &Agent) -> Result<(), String> {
    let nodes: Api<Node> = Api::all(agent.client.clone());
    let name = &agent.args.node_name;
    let node: Node = serde_json::from_value(json!({
        "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, "kubernetes.io/os": "linux"}},
    }))
    .map_err(|e| e.to_string())?;
    match nodes.create(&PostParams::default(), &node).await {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 409 => {}
        Err(e) => return Err(format!("cannot register node {name}: {e}")),
    }
    patch_node_status(agent).await?;
    // The API server taints new nodes not-ready; the node lifecycle
    // controller (not run here) would lift it once the node reports Ready.
    nodes
        .patch(name, &PatchParams::default(), &Patch::Merge(&json!({"spec": {"taints": null}})))
        .await
        .map(|_| ())
        .map_err(|e| format!("cannot untaint node {name}: {e}"))
}

async fn patch_node_status(agent: &Agent) -> Result<(), String> {
    let nodes: Api<Node> = Api::all(agent.client.clone());
    let t = now();
    let status = json!({"status": {
        "capacity": {"cpu": "64", "memory": "256Gi", "pods": "250", "ephemeral-storage": "100Gi"},
        "allocatable": {"cpu": "64", "memory": "256Gi", "pods": "250", "ephemeral-storage": "100Gi"},
        "addresses": [{"type": "InternalIP", "address": "127.0.0.1"}, {"type": "Hostname", "address": agent.args.node_name}],
        "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "ember test node is ready",
                        "lastHeartbeatTime": t, "lastTransitionTime": t}],
        "nodeInfo": {"architecture": "amd64", "operatingSystem": "linux", "kubeletVersion": "v1.35.4-ember",
                     "kubeProxyVersion": "", "containerRuntimeVersion": "process://ember", "kernelVersion": "",
                     "osImage": "", "machineID": "", "systemUUID": "", "bootID": ""},
    }});
    nodes
        .patch_status(&agent.args.node_name, &PatchParams::default(), &Patch::Merge(&status))
        .await
        .map(|_| ())
        .map_err(|e| format!("cannot update node status: {e}"))
}

async fn heartbeat(agent: Arc<Agent>) {
    loop {
        tokio::time::sleep(Duration::from_secs(10)).await;
        if let Err(e) = patch_node_status(&agent).await {
            tracing::warn!(error = e, "node heartbeat failed");
        }
    }
}

impl Agent {
    async fn on_pod(self: Arc<Self>, pod: Pod) {
        let Some(uid) = pod.metadata.uid.clone() else { return };
        if pod.metadata.deletion_timestamp.is_some() {
            let grace = pod.metadata.deletion_grace_period_seconds.unwrap_or(30).max(0) as u64;
            let tx = self.running.lock().ok().and_then(|r| r.get(&uid).cloned());
            match tx {
                Some(tx) => {
                    let _ = tx.send(Signal::Term { grace_secs: grace });
                }
                None => self.finalize_delete(&pod).await,
            }
            return;
        }
        let phase = pod.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_default();
        if phase == "Succeeded" || phase == "Failed" {
            return;
        }
        let first = self.started.lock().map(|mut s| s.insert(uid.clone())).unwrap_or(false);
        if first {
            tokio::spawn(async move {
                let ns = pod.metadata.namespace.clone().unwrap_or_default();
                let name = pod.metadata.name.clone().unwrap_or_default();
                if let Err(e) = self.clone().run_pod(pod).await {
                    tracing::error!(pod = format!("{ns}/{name}"), error = e, "cannot run pod");
                }
            });
        }
    }

    fn on_deleted(&self, pod: &Pod) {
        if let Some(uid) = &pod.metadata.uid
            && let Some(tx) = self.running.lock().ok().and_then(|r| r.get(uid).cloned())
        {
            let _ = tx.send(Signal::Term { grace_secs: 0 });
        }
    }

    /// The kubelet's last word on a deleted pod: delete it with grace 0.
    async fn finalize_delete(&self, pod: &Pod) {
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        let name = pod.metadata.name.clone().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
        let dp = DeleteParams {
            grace_period_seconds: Some(0),
            preconditions: Some(Preconditions { uid: pod.metadata.uid.clone(), resource_version: None }),
            ..Default::default()
        };
        let _ = api.delete(&name, &dp).await;
    }

    fn allocate_ip(&self) -> String {
        let n = match self.next_ip.lock() {
            Ok(mut g) => {
                let n = *g;
                *g = if n >= 254 { 2 } else { n + 1 };
                n
            }
            Err(_) => 2,
        };
        format!("{}.{n}", self.args.ip_prefix)
    }

    async fn patch_status(&self, pod: &Pod, status: serde_json::Value) -> Result<(), String> {
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        let name = pod.metadata.name.clone().unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
        api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&json!({ "status": status })))
            .await
            .map(|_| ())
            .map_err(|e| format!("cannot update the status of pod {ns}/{name}: {e}"))
    }

    async fn run_pod(self: Arc<Self>, pod: Pod) -> Result<(), String> {
        let ns = pod.metadata.namespace.clone().unwrap_or_default();
        let name = pod.metadata.name.clone().unwrap_or_default();
        let uid = pod.metadata.uid.clone().unwrap_or_default();
        let spec = pod.spec.clone().unwrap_or_default();
        let container = spec.containers.first().cloned().ok_or("a pod without containers")?;
        let ip = self.allocate_ip();
        let dir = self.args.work_dir.join(format!("{ns}_{name}_{uid}"));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;

        // Volumes → directories; mount paths → those directories.
        let mut volume_dirs: HashMap<String, PathBuf> = HashMap::new();
        for v in spec.volumes.clone().unwrap_or_default() {
            let vdir = dir.join("volumes").join(&v.name);
            if let Some(hp) = &v.host_path {
                volume_dirs.insert(v.name.clone(), PathBuf::from(&hp.path));
                continue;
            }
            std::fs::create_dir_all(&vdir).map_err(|e| e.to_string())?;
            if let Some(cm) = &v.config_map {
                let data = self.wait_config_map(&ns, &cm.name).await?;
                write_items(&vdir, &data, cm.items.as_deref())?;
            }
            if let Some(s) = &v.secret {
                let sname = s.secret_name.clone().unwrap_or_default();
                let data = self.secret_data(&ns, &sname).await?;
                write_items(&vdir, &data, s.items.as_deref())?;
            }
            volume_dirs.insert(v.name.clone(), vdir);
        }
        let mut mounts: Vec<(String, PathBuf)> = vec![];
        for m in container.volume_mounts.clone().unwrap_or_default() {
            if let Some(d) = volume_dirs.get(&m.name) {
                let host = match &m.sub_path {
                    Some(s) if !s.is_empty() => d.join(s),
                    _ => d.clone(),
                };
                mounts.push((m.mount_path.clone(), host));
            }
        }
        // Longest mount path first, so /a/b wins over /a.
        mounts.sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        let translate = |s: &str| -> String {
            for (p, h) in &mounts {
                if s == p || s.starts_with(&format!("{p}/")) {
                    return format!("{}{}", h.display(), &s[p.len()..]);
                }
            }
            s.to_string()
        };

        // Env, in order, with $(VAR) references to earlier ones.
        let mut env: Vec<(String, String)> = vec![];
        for e in container.env.clone().unwrap_or_default() {
            let value = if let Some(v) = &e.value {
                expand(v, &env)
            } else if let Some(from) = &e.value_from {
                if let Some(f) = &from.field_ref {
                    match f.field_path.as_str() {
                        "metadata.name" => name.clone(),
                        "metadata.namespace" => ns.clone(),
                        "metadata.uid" => uid.clone(),
                        "status.podIP" => ip.clone(),
                        "status.hostIP" => "127.0.0.1".into(),
                        "spec.nodeName" => self.args.node_name.clone(),
                        "spec.serviceAccountName" => spec.service_account_name.clone().unwrap_or_default(),
                        other => return Err(format!("unsupported fieldRef {other}")),
                    }
                } else if let Some(s) = &from.secret_key_ref {
                    let data = self.secret_data(&ns, &s.name).await?;
                    String::from_utf8_lossy(data.get(&s.key).ok_or(format!("secret {} has no key {}", s.name, s.key))?)
                        .to_string()
                } else if let Some(c) = &from.config_map_key_ref {
                    let data = self.wait_config_map(&ns, &c.name).await?;
                    String::from_utf8_lossy(
                        data.get(&c.key).ok_or(format!("config map {} has no key {}", c.name, c.key))?,
                    )
                    .to_string()
                } else {
                    String::new()
                }
            } else {
                String::new()
            };
            env.retain(|(k, _)| k != &e.name);
            env.push((e.name.clone(), translate(&value)));
        }
        if spec.automount_service_account_token != Some(false) {
            let sa = spec.service_account_name.clone().unwrap_or_else(|| "default".into());
            let kubeconfig = self.service_account_kubeconfig(&ns, &sa, &dir).await?;
            env.push(("KUBECONFIG".into(), kubeconfig.display().to_string()));
        }

        // The command: ember's binary, whatever the image.
        let mut argv: Vec<String> = container.command.clone().unwrap_or_default();
        if argv.first().is_some_and(|c| Path::new(c).file_name().is_some_and(|n| n == "ember")) {
            argv.remove(0);
        }
        argv.extend(container.args.clone().unwrap_or_default());
        let argv: Vec<String> = argv.iter().map(|a| translate(&expand(a, &env))).collect();

        let log = std::fs::File::create(dir.join(format!("{}.log", container.name))).map_err(|e| e.to_string())?;
        let log2 = log.try_clone().map_err(|e| e.to_string())?;
        let mut cmd = tokio::process::Command::new(&self.args.ember);
        cmd.args(&argv).env_clear().current_dir(&dir).stdout(log).stderr(log2).stdin(std::process::Stdio::null());
        for k in ["PATH", "HOME", "LANG", "EMBER_LOG", "TMPDIR"] {
            if let Ok(v) = std::env::var(k) {
                cmd.env(k, v);
            }
        }
        cmd.envs(env.iter().map(|(k, v)| (k.clone(), v.clone())));
        cmd.kill_on_drop(true);
        // Its own process group: a signal reaches the pod's whole process tree.
        #[cfg(unix)]
        cmd.process_group(0);
        let started = now();
        let mut child = match cmd.spawn() {
            Ok(c) => c,
            Err(e) => {
                let waiting = container_status(
                    &container.name,
                    &container.image.clone().unwrap_or_default(),
                    json!({"terminated": {"exitCode": 128, "reason": "StartError", "message": e.to_string(), "finishedAt": now()}}),
                    false,
                );
                self.patch_status(
                    &pod,
                    json!({"phase": "Failed", "message": e.to_string(), "containerStatuses": [waiting]}),
                )
                .await?;
                return Err(format!("cannot start {}: {e}", self.args.ember.display()));
            }
        };
        let pid = child.id();
        let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
        if let Ok(mut r) = self.running.lock() {
            r.insert(uid.clone(), tx);
        }
        let image = container.image.clone().unwrap_or_default();
        let mut statuses =
            vec![container_status(&container.name, &image, json!({"running": {"startedAt": started}}), true)];
        for other in spec.containers.iter().skip(1) {
            statuses.push(container_status(
                &other.name,
                &other.image.clone().unwrap_or_default(),
                json!({"waiting": {"reason": "NotRunByTestNode"}}),
                false,
            ));
        }
        let cond = |t: &str, s: &str| json!({"type": t, "status": s, "lastTransitionTime": now()});
        self.patch_status(&pod, json!({
            "phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}], "hostIP": "127.0.0.1", "hostIPs": [{"ip": "127.0.0.1"}],
            "startTime": started,
            "conditions": [cond("PodScheduled", "True"), cond("Initialized", "True"), cond("ContainersReady", "True"), cond("Ready", "True")],
            "containerStatuses": statuses,
        })).await?;
        tracing::info!(pod = format!("{ns}/{name}"), ip, "started");

        let mut deleting = false;
        let status = loop {
            tokio::select! {
                s = child.wait() => break s,
                sig = rx.recv() => {
                    if let Some(Signal::Term { grace_secs }) = sig {
                        deleting = true;
                        signal_group(pid, "TERM");
                        match tokio::time::timeout(Duration::from_secs(grace_secs), child.wait()).await {
                            Ok(s) => {
                                signal_group(pid, "KILL");
                                break s;
                            }
                            Err(_) => {
                                signal_group(pid, "KILL");
                                break child.wait().await;
                            }
                        }
                    }
                }
            }
        };
        if let Ok(mut r) = self.running.lock() {
            r.remove(&uid);
        }
        // What the container started and left behind goes with it.
        signal_group(pid, "KILL");
        let code = match &status {
            Ok(s) => s.code().unwrap_or_else(|| {
                #[cfg(unix)]
                {
                    128 + std::os::unix::process::ExitStatusExt::signal(s).unwrap_or(0)
                }
                #[cfg(not(unix))]
                {
                    1
                }
            }),
            Err(_) => 1,
        };
        tracing::info!(pod = format!("{ns}/{name}"), code, "exited");
        let reason = match code {
            0 => "Completed",
            137 => "Killed",
            _ => "Error",
        };
        let terminated = container_status(
            &container.name,
            &image,
            json!({"terminated": {
                "exitCode": code, "reason": reason, "startedAt": started, "finishedAt": now(),
            }}),
            false,
        );
        let phase = if code == 0 { "Succeeded" } else { "Failed" };
        let cond = |t: &str, s: &str| json!({"type": t, "status": s, "lastTransitionTime": now()});
        let _ = self
            .patch_status(&pod, json!({
                "phase": phase,
                "conditions": [cond("PodScheduled", "True"), cond("Initialized", "True"), cond("ContainersReady", "False"), cond("Ready", "False")],
                "containerStatuses": [terminated],
            }))
            .await;
        if deleting {
            self.finalize_delete(&pod).await;
        }
        Ok(())
    }

    async fn wait_config_map(&self, ns: &str, name: &str) -> Result<BTreeMap<String, Vec<u8>>, String> {
        let api: Api<ConfigMap> = Api::namespaced(self.client.clone(), ns);
        for _ in 0..120 {
            if let Ok(Some(cm)) = api.get_opt(name).await {
                let mut out: BTreeMap<String, Vec<u8>> =
                    cm.data.unwrap_or_default().into_iter().map(|(k, v)| (k, v.into_bytes())).collect();
                out.extend(cm.binary_data.unwrap_or_default().into_iter().map(|(k, v)| (k, v.0)));
                return Ok(out);
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        Err(format!("config map {ns}/{name} not found"))
    }

    async fn secret_data(&self, ns: &str, name: &str) -> Result<BTreeMap<String, Vec<u8>>, String> {
        let api: Api<Secret> = Api::namespaced(self.client.clone(), ns);
        let s = api.get(name).await.map_err(|e| format!("cannot read secret {ns}/{name}: {e}"))?;
        let mut out: BTreeMap<String, Vec<u8>> =
            s.data.unwrap_or_default().into_iter().map(|(k, v)| (k, v.0)).collect();
        out.extend(s.string_data.unwrap_or_default().into_iter().map(|(k, v)| (k, v.into_bytes())));
        Ok(out)
    }

    /// A kubeconfig with a token of the pod's service account.
    async fn service_account_kubeconfig(&self, ns: &str, sa: &str, dir: &Path) -> Result<PathBuf, String> {
        let api: Api<ServiceAccount> = Api::namespaced(self.client.clone(), ns);
        let req = TokenRequest {
            spec: TokenRequestSpec { audiences: vec![], expiration_seconds: Some(3600), ..Default::default() },
            ..Default::default()
        };
        let mut token = None;
        // The service account controller creates `default` shortly after the namespace.
        for _ in 0..60 {
            match api.create_token_request(sa, &PostParams::default(), &req).await {
                Ok(t) => {
                    token = t.status.map(|s| s.token);
                    break;
                }
                Err(kube::Error::Api(s)) if s.code == 404 => tokio::time::sleep(Duration::from_millis(500)).await,
                Err(e) => return Err(format!("cannot get a token for service account {ns}/{sa}: {e}")),
            }
        }
        let token = token.ok_or(format!("service account {ns}/{sa} not found"))?;
        let ca = self.ca_file.clone().map(|c| format!("\n    certificate-authority: {c}")).unwrap_or_default();
        let text = format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {}{ca}\nusers:\n- name: {sa}\n  user:\n    token: {token}\ncontexts:\n- name: c\n  context: {{cluster: c, user: {sa}, namespace: {ns}}}\ncurrent-context: c\n",
            self.server
        );
        let path = dir.join("kubeconfig");
        std::fs::write(&path, text).map_err(|e| e.to_string())?;
        Ok(path)
    }
}

/// Signals the process group `pid` leads.
fn signal_group(pid: Option<u32>, signal: &str) {
    if let Some(pid) = pid {
        let _ = std::process::Command::new("kill")
            .args([format!("-{signal}"), "--".into(), format!("-{pid}")])
            .stderr(std::process::Stdio::null())
            .status();
    }
}

fn container_status(name: &str, image: &str, state: serde_json::Value, ready: bool) -> serde_json::Value {
    json!({"name": name, "image": image, "imageID": "", "ready": ready, "restartCount": 0,
           "started": ready, "state": state})
}

fn write_items(
    dir: &Path,
    data: &BTreeMap<String, Vec<u8>>,
    items: Option<&[k8s_openapi::api::core::v1::KeyToPath]>,
) -> Result<(), String> {
    let pairs: Vec<(String, String)> = match items {
        Some(items) => items.iter().map(|i| (i.key.clone(), i.path.clone())).collect(),
        None => data.keys().map(|k| (k.clone(), k.clone())).collect(),
    };
    for (key, path) in pairs {
        let bytes = data.get(&key).ok_or(format!("no key {key}"))?;
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
        }
        std::fs::write(target, bytes).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// Kubernetes' `$(VAR)` expansion: known variables are replaced, `$$` is a
/// literal `$`, unknown references stay as written.
fn expand(s: &str, env: &[(String, String)]) -> String {
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('$') {
        out.push_str(&rest[..i]);
        let after = &rest[i + 1..];
        if let Some(tail) = after.strip_prefix('$') {
            out.push('$');
            rest = tail;
        } else if let Some(body) = after.strip_prefix('(') {
            match body.find(')') {
                Some(j) => {
                    let var = &body[..j];
                    match env.iter().rev().find(|(k, _)| k == var) {
                        Some((_, v)) => out.push_str(v),
                        None => out.push_str(&format!("$({var})")),
                    }
                    rest = &body[j + 1..];
                }
                None => {
                    out.push('$');
                    rest = after;
                }
            }
        } else {
            out.push('$');
            rest = after;
        }
    }
    out.push_str(rest);
    out
}
