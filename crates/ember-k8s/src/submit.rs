//! Cluster-mode submission (Spark's `KubernetesClientApplication`): the
//! driver pod with its `spark.properties` ConfigMap and headless Service,
//! then, with `spark.kubernetes.submission.waitAppCompletion` (true), a
//! watch on the driver pod reporting every `spark.kubernetes.report.interval`
//! until it ends. `--status` and `--kill` find driver pods by submission id
//! `namespace:pod-name`, with globs.

use std::collections::BTreeMap;
use std::time::Duration;

use ember_common::SparkConf;
use futures::StreamExt;
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use kube::runtime::{WatchStreamExt, watcher};

use crate::K8sError;
use crate::conf::*;
use crate::features::{Resource, attach_conf_map, build_driver, owner_reference};

/// A submitted application: where its driver pod is.
#[derive(Debug, Clone)]
pub struct Submission {
    pub namespace: String,
    pub driver_pod: String,
    pub app_id: String,
    pub app_name: String,
}

impl Submission {
    /// Spark's submission id, `namespace:driver-pod-name`.
    pub fn id(&self) -> String {
        format!("{}:{}", self.namespace, self.driver_pod)
    }
}

/// The driver's properties file: every explicit setting plus what the
/// feature steps set, as `key=value` lines (Java properties escaping).
pub fn properties_text(conf: &SparkConf, extra: &[(String, String)]) -> String {
    let mut all: BTreeMap<String, String> = conf.explicit().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    for (k, v) in extra {
        all.insert(k.clone(), v.clone());
    }
    let escape = |s: &str, key: bool| {
        let mut out = String::new();
        for c in s.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '=' | ':' | ' ' if key => {
                    out.push('\\');
                    out.push(c);
                }
                _ => out.push(c),
            }
        }
        out
    };
    let mut text = String::from("#Java properties built from the Kubernetes config map with name: spark.properties\n");
    for (k, v) in all {
        text.push_str(&format!("{}={}\n", escape(&k, true), escape(&v, false)));
    }
    text
}

/// The driver pod, its ConfigMap and the resources the steps ask for,
/// ready to create (no API calls). `conf` gains `spark.app.id` and the
/// executor pod name prefix.
pub fn prepare(
    conf: &mut SparkConf,
    app: &str,
    args: &[String],
) -> Result<(KubernetesConf, Pod, Vec<Resource>), K8sError> {
    let app_name = conf.get("spark.app.name").unwrap_or_else(|| "spark".into());
    let app_id = conf.get_explicit("spark.app.id").map(String::from).unwrap_or_else(kubernetes_app_id);
    let prefix = resource_name_prefix(&app_name);
    conf.set("spark.app.id", app_id.clone());
    conf.set("spark.submit.deployMode", "cluster");
    if conf.get_explicit("spark.kubernetes.executor.podNamePrefix").is_none() {
        conf.set("spark.kubernetes.executor.podNamePrefix", prefix.clone());
    }
    if conf.get_explicit("spark.kubernetes.resource.type").is_none() && app.ends_with(".py") {
        conf.set("spark.kubernetes.resource.type", "python");
    }
    let kconf = KubernetesConf::new(conf.clone(), app_id, prefix);
    let spec = build_driver(&kconf, app, args)?;
    let mut pod = spec.pod;
    let text = properties_text(conf, &spec.properties);
    let max = kconf.usize_or("spark.kubernetes.configMap.maxSize", 1_048_576)?;
    if text.len() > max {
        return Err(K8sError::Config(format!(
            "the driver's spark.properties is {} bytes, over spark.kubernetes.configMap.maxSize ({max})",
            text.len()
        )));
    }
    let map = attach_conf_map(&kconf, &mut pod, &text);
    let mut resources = spec.resources;
    resources.push(Resource::ConfigMap(Box::new(map)));
    Ok((kconf, pod, resources))
}

/// Creates the driver pod, then its resources owned by it. If a resource
/// cannot be created, the driver pod is deleted again.
pub async fn submit(
    client: &kube::Client,
    conf: &mut SparkConf,
    app: &str,
    args: &[String],
) -> Result<Submission, K8sError> {
    let (kconf, pod, resources) = prepare(conf, app, args)?;
    let ns = kconf.namespace.clone();
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let name = pod.metadata.name.clone().unwrap_or_default();
    // Claims first (Spark's pre-resources): the pod mounts them.
    for r in &resources {
        if let Resource::Claim(claim) = r {
            let api: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), &ns);
            api.create(&PostParams::default(), claim).await.map_err(|e| {
                K8sError::api(
                    format!("cannot create a claim for driver pod {name}"),
                    "create",
                    "persistentvolumeclaims",
                    e,
                )
            })?;
        }
    }
    let created = pods.create(&PostParams::default(), &pod).await.map_err(|e| {
        K8sError::api(format!("cannot create driver pod {name} in namespace {ns}"), "create", "pods", e)
    })?;
    let owner = owner_reference(&created);
    if let Err(e) = create_owned(client, &ns, &resources, owner).await {
        let _ = pods.delete(&name, &DeleteParams::default()).await;
        return Err(e);
    }
    Ok(Submission { namespace: ns, driver_pod: name, app_id: kconf.app_id.clone(), app_name: kconf.app_name.clone() })
}

/// Creates the Service and ConfigMaps the steps asked for, owned by the
/// driver pod (claims were created before it).
async fn create_owned(
    client: &kube::Client,
    ns: &str,
    resources: &[Resource],
    owner: Option<OwnerReference>,
) -> Result<(), K8sError> {
    let owners = owner.map(|o| vec![o]);
    for r in resources {
        match r {
            Resource::Service(s) => {
                create_one(client, ns, s.as_ref(), &owners, "the driver service", "services").await?
            }
            Resource::ConfigMap(m) => {
                create_one(client, ns, m.as_ref(), &owners, "the config map", "configmaps").await?
            }
            Resource::Claim(_) => {}
        }
    }
    Ok(())
}

async fn create_one<K>(
    client: &kube::Client,
    ns: &str,
    object: &K,
    owners: &Option<Vec<OwnerReference>>,
    what: &str,
    resource: &str,
) -> Result<(), K8sError>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>
        + Clone
        + serde::Serialize
        + serde::de::DeserializeOwned
        + std::fmt::Debug,
{
    let mut object = object.clone();
    object.meta_mut().owner_references = owners.clone();
    let name = object.meta().name.clone().unwrap_or_default();
    Api::<K>::namespaced(client.clone(), ns)
        .create(&PostParams::default(), &object)
        .await
        .map(|_| ())
        .map_err(|e| K8sError::api(format!("cannot create {what} {name}"), "create", resource, e))
}

/// The driver pod's phase and its driver container's exit code.
pub fn driver_outcome(pod: &Pod) -> (String, Option<i32>) {
    let status = pod.status.clone().unwrap_or_default();
    let phase = status.phase.unwrap_or_else(|| "Pending".into());
    let code = status
        .container_statuses
        .unwrap_or_default()
        .iter()
        .find(|c| c.name == DRIVER_CONTAINER_NAME)
        .and_then(|c| c.state.as_ref()?.terminated.as_ref().map(|t| t.exit_code));
    (phase, code)
}

/// Spark's container description in the final report.
fn containers_description(pod: &Pod) -> String {
    let mut out = String::new();
    for c in pod.status.as_ref().and_then(|s| s.container_statuses.clone()).unwrap_or_default() {
        out.push_str(&format!("\t container name: {}\n\t container image: {}\n", c.name, c.image));
        match c.state.as_ref() {
            Some(s) if s.terminated.is_some() => {
                let t = s.terminated.clone().unwrap_or_default();
                out.push_str(&format!(
                    "\t container state: terminated\n\t exit code: {}\n\t termination reason: {}\n",
                    t.exit_code,
                    t.reason.unwrap_or_default()
                ));
            }
            Some(s) if s.running.is_some() => out.push_str("\t container state: running\n"),
            Some(s) if s.waiting.is_some() => out.push_str(&format!(
                "\t container state: waiting\n\t pending reason: {}\n",
                s.waiting.clone().unwrap_or_default().reason.unwrap_or_default()
            )),
            _ => out.push_str("\t container state: unknown\n"),
        }
    }
    out
}

/// Waits for the driver pod to end, logging its phase every `interval`;
/// returns the final phase and the driver's exit code. The watch restarts
/// on `410 Gone` and dropped connections.
pub async fn wait_for_completion(
    client: &kube::Client,
    sub: &Submission,
    interval: Duration,
    mut log: impl FnMut(&str),
) -> Result<(String, Option<i32>), K8sError> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), &sub.namespace);
    let config = watcher::Config::default().fields(&format!("metadata.name={}", sub.driver_pod));
    let mut stream = watcher(pods, config).default_backoff().boxed();
    let mut ticker = tokio::time::interval(interval.max(Duration::from_millis(100)));
    let mut phase = "Pending".to_string();
    loop {
        tokio::select! {
            ev = stream.next() => match ev {
                Some(Ok(watcher::Event::Apply(pod))) | Some(Ok(watcher::Event::InitApply(pod))) => {
                    let (p, code) = driver_outcome(&pod);
                    if p != phase {
                        log(&format!("Application status for {} (phase: {p})", sub.app_id));
                    }
                    phase = p;
                    if phase == "Succeeded" || phase == "Failed" {
                        log(&format!("Container final statuses:\n\n{}", containers_description(&pod)));
                        log(&format!("Application {} with application ID {} and submission ID {} finished",
                            sub.app_name, sub.app_id, sub.id()));
                        return Ok((phase, code));
                    }
                }
                Some(Ok(watcher::Event::Delete(_))) => {
                    return Err(K8sError::Config(format!("the driver pod {} was deleted", sub.id())));
                }
                Some(Ok(_)) => {}
                Some(Err(e)) => tracing::warn!(error = %e, "the driver pod watch failed; it restarts"),
                None => return Err(K8sError::Config("the driver pod watch ended".into())),
            },
            _ = ticker.tick() => log(&format!("Application status for {} (phase: {phase})", sub.app_id)),
        }
    }
}

/// `*` and `?` globs, as `--status` / `--kill` take them.
pub fn glob_match(pattern: &str, s: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), s.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0usize, 0usize, None, 0usize);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(sp) = star {
            pi = sp + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

/// The driver pods a submission id (`namespace:pod`, globs allowed; no
/// namespace means `spark.kubernetes.namespace`) names.
pub async fn find_drivers(client: &kube::Client, conf: &SparkConf, submission_id: &str) -> Result<Vec<Pod>, K8sError> {
    let (ns, pattern) = match submission_id.split_once(':') {
        Some((ns, p)) => (ns.to_string(), p.to_string()),
        None => (conf.get("spark.kubernetes.namespace").unwrap_or_else(|| "default".into()), submission_id.to_string()),
    };
    let pods: Api<Pod> = Api::namespaced(client.clone(), &ns);
    let lp = ListParams::default().labels(&format!("{SPARK_ROLE_LABEL}={DRIVER_ROLE}"));
    let list = pods
        .list(&lp)
        .await
        .map_err(|e| K8sError::api(format!("cannot list driver pods in namespace {ns}"), "list", "pods", e))?;
    Ok(list.items.into_iter().filter(|p| glob_match(&pattern, p.metadata.name.as_deref().unwrap_or(""))).collect())
}

/// Spark's `--status` report for one driver pod.
pub fn status_report(pod: &Pod) -> String {
    let m = &pod.metadata;
    let s = pod.status.clone().unwrap_or_default();
    let labels =
        m.labels.clone().unwrap_or_default().iter().map(|(k, v)| format!("{k} -> {v}")).collect::<Vec<_>>().join(", ");
    format!(
        "Application status (driver):\n\t pod name: {}\n\t namespace: {}\n\t labels: {labels}\n\t pod uid: {}\n\t creation time: {}\n\t service account name: {}\n\t node name: {}\n\t start time: {}\n\t phase: {}\n{}",
        m.name.clone().unwrap_or_default(),
        m.namespace.clone().unwrap_or_default(),
        m.uid.clone().unwrap_or_default(),
        m.creation_timestamp.as_ref().map(|t| t.0.to_string()).unwrap_or_else(|| "N/A".into()),
        pod.spec.as_ref().and_then(|s| s.service_account_name.clone()).unwrap_or_else(|| "N/A".into()),
        pod.spec.as_ref().and_then(|s| s.node_name.clone()).unwrap_or_else(|| "N/A".into()),
        s.start_time.as_ref().map(|t| t.0.to_string()).unwrap_or_else(|| "N/A".into()),
        s.phase.clone().unwrap_or_else(|| "Unknown".into()),
        containers_description(pod),
    )
}

/// Deletes the driver pods `submission_id` names (their executors follow
/// through ownerReferences), with `spark.kubernetes.appKillPodDeletionGracePeriod`.
pub async fn kill(client: &kube::Client, conf: &SparkConf, submission_id: &str) -> Result<Vec<String>, K8sError> {
    let pods = find_drivers(client, conf, submission_id).await?;
    let grace = conf
        .get_millis("spark.kubernetes.appKillPodDeletionGracePeriod", 1000)
        .map_err(K8sError::conf)?
        .map(|ms| (ms / 1000) as u32);
    let dp = DeleteParams { grace_period_seconds: grace, ..Default::default() };
    let mut killed = vec![];
    for p in pods {
        let (Some(ns), Some(name)) = (p.metadata.namespace.clone(), p.metadata.name.clone()) else { continue };
        Api::<Pod>::namespaced(client.clone(), &ns)
            .delete(&name, &dp)
            .await
            .map_err(|e| K8sError::api(format!("cannot delete driver pod {name}"), "delete", "pods", e))?;
        killed.push(format!("{ns}:{name}"));
    }
    Ok(killed)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn globs() {
        assert!(glob_match("etl-*", "etl-3f2a-driver"));
        assert!(glob_match("*-driver", "etl-3f2a-driver"));
        assert!(glob_match("etl-3f2a-driver", "etl-3f2a-driver"));
        assert!(glob_match("etl-????-driver", "etl-3f2a-driver"));
        assert!(!glob_match("etl-*", "other-driver"));
        assert!(!glob_match("etl", "etl-3f2a-driver"));
    }

    #[test]
    fn properties_escape_like_java() {
        let mut c = SparkConf::new();
        c.set("spark.a", "x=y");
        c.set("spark.b", "line1\nline2");
        let t = properties_text(&c, &[("spark.b".into(), "over".into())]);
        assert!(t.contains("spark.a=x=y\n"), "{t}");
        assert!(t.contains("spark.b=over\n"), "{t}");
        let back: BTreeMap<_, _> = SparkConf::parse_properties(&t).into_iter().collect();
        assert_eq!(back.get("spark.a").map(String::as_str), Some("x=y"));
    }
}
