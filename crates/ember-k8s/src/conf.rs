//! Spark's Kubernetes settings, read from a [`SparkConf`] with Spark's keys
//! and defaults (`resource-managers/kubernetes/.../Config.scala`).

use std::collections::BTreeMap;

use ember_common::SparkConf;
use ember_common::conf::ByteUnit;

use crate::K8sError;

/// Labels Spark puts on every pod it creates.
pub const SPARK_APP_ID_LABEL: &str = "spark-app-selector";
pub const SPARK_APP_NAME_LABEL: &str = "spark-app-name";
pub const SPARK_ROLE_LABEL: &str = "spark-role";
pub const SPARK_EXECUTOR_ID_LABEL: &str = "spark-exec-id";
pub const SPARK_RESOURCE_PROFILE_ID_LABEL: &str = "spark-exec-resourceprofile-id";
pub const SPARK_VERSION_LABEL: &str = "spark-version";
pub const DRIVER_ROLE: &str = "driver";
pub const EXECUTOR_ROLE: &str = "executor";

pub const DEFAULT_DRIVER_PORT: u16 = 7078;
pub const DEFAULT_BLOCKMANAGER_PORT: u16 = 7079;
pub const DEFAULT_UI_PORT: u16 = 4040;
pub const DRIVER_CONTAINER_NAME: &str = "spark-kubernetes-driver";
pub const EXECUTOR_CONTAINER_NAME: &str = "spark-kubernetes-executor";
/// Where the driver's `spark.properties` is mounted (`SPARK_CONF_DIR`).
pub const SPARK_CONF_DIR: &str = "/opt/spark/conf";
pub const SPARK_CONF_FILE: &str = "spark.properties";
pub const SPARK_CONF_VOLUME: &str = "spark-conf-volume-driver";
/// Where an executor pod template travels to the driver (cluster mode).
pub const POD_TEMPLATE_DIR: &str = "/opt/spark/pod-template";
pub const POD_TEMPLATE_FILE: &str = "pod-spec-template.yml";
pub const POD_TEMPLATE_KEY: &str = "podspec-configmap-key";

/// Spark's minimum memory overhead, in MiB.
pub const MIN_MEMORY_OVERHEAD_MIB: u64 = 384;

/// Whose pod a step builds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Role {
    Driver,
    Executor { id: String },
}

impl Role {
    /// `driver` or `executor`, as in `spark.kubernetes.<role>.*`.
    pub fn name(&self) -> &'static str {
        match self {
            Role::Driver => DRIVER_ROLE,
            Role::Executor { .. } => EXECUTOR_ROLE,
        }
    }
}

/// One application's Kubernetes settings.
#[derive(Debug, Clone)]
pub struct KubernetesConf {
    pub conf: SparkConf,
    /// `spark-<uuid>` (cluster mode) or the driver's application id.
    pub app_id: String,
    pub app_name: String,
    /// `<app-name>-<unique id>`: the prefix of every resource name.
    pub resource_prefix: String,
    pub namespace: String,
}

impl KubernetesConf {
    pub fn new(conf: SparkConf, app_id: String, resource_prefix: String) -> Self {
        let app_name = conf.get("spark.app.name").unwrap_or_else(|| "spark".into());
        let namespace = conf.get("spark.kubernetes.namespace").unwrap_or_else(|| "default".into());
        Self { conf, app_id, app_name, resource_prefix, namespace }
    }

    pub fn get(&self, key: &str) -> Option<String> {
        self.conf.get(key).filter(|v| !v.trim().is_empty())
    }

    pub fn bool_or(&self, key: &str, default: bool) -> Result<bool, K8sError> {
        match self.get(key) {
            None => Ok(default),
            Some(_) => self.conf.get_bool(key).map_err(K8sError::conf),
        }
    }

    pub fn millis_or(&self, key: &str, default_ms: u64) -> Result<u64, K8sError> {
        Ok(self.conf.get_millis(key, 1).map_err(K8sError::conf)?.unwrap_or(default_ms))
    }

    pub fn usize_or(&self, key: &str, default: usize) -> Result<usize, K8sError> {
        Ok(self.conf.get_usize(key).map_err(K8sError::conf)?.unwrap_or(default))
    }

    /// Every `prefix<suffix>=value`, as a sorted map from suffix to value
    /// (`spark.kubernetes.driver.label.team=etl` → `team → etl`).
    pub fn with_prefix(&self, prefix: &str) -> BTreeMap<String, String> {
        self.conf
            .explicit()
            .filter_map(|(k, v)| {
                k.strip_prefix(prefix).filter(|s| !s.is_empty()).map(|s| (s.to_string(), v.to_string()))
            })
            .collect()
    }

    /// The container image for `role`: `spark.kubernetes.<role>.container.image`,
    /// else `spark.kubernetes.container.image`.
    pub fn image(&self, role: &Role) -> Result<String, K8sError> {
        self.get(&format!("spark.kubernetes.{}.container.image", role.name()))
            .or_else(|| self.get("spark.kubernetes.container.image"))
            .ok_or_else(|| {
                K8sError::Config(format!(
                    "Must specify the {} container image (spark.kubernetes.container.image)",
                    role.name()
                ))
            })
    }

    pub fn pull_policy(&self) -> String {
        self.get("spark.kubernetes.container.image.pullPolicy").unwrap_or_else(|| "IfNotPresent".into())
    }

    pub fn pull_secrets(&self) -> Vec<String> {
        self.get("spark.kubernetes.container.image.pullSecrets")
            .map(|s| s.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect())
            .unwrap_or_default()
    }

    /// `spark.kubernetes.node.selector.*` overlaid with the role's own
    /// `spark.kubernetes.<role>.node.selector.*`.
    pub fn node_selector(&self, role: &Role) -> BTreeMap<String, String> {
        let mut m = self.with_prefix("spark.kubernetes.node.selector.");
        m.extend(self.with_prefix(&format!("spark.kubernetes.{}.node.selector.", role.name())));
        m
    }

    pub fn scheduler_name(&self, role: &Role) -> Option<String> {
        self.get(&format!("spark.kubernetes.{}.scheduler.name", role.name()))
            .or_else(|| self.get("spark.kubernetes.scheduler.name"))
    }

    /// The application's label value: lower case, `[a-z0-9-.]`, at most 63
    /// characters, starting and ending alphanumeric.
    pub fn app_name_label(&self) -> String {
        label_value(&self.app_name)
    }

    /// Is this a Python application (Spark's non-JVM memory overhead)?
    pub fn is_python(&self) -> bool {
        self.get("spark.kubernetes.resource.type").is_none_or(|t| t.eq_ignore_ascii_case("python"))
    }

    /// Memory for `role` plus overhead, in MiB: `spark.<role>.memory` +
    /// `spark.<role>.memoryOverhead`, else `max(factor × memory, 384 MiB)`
    /// with factor `spark.<role>.memoryOverheadFactor`, else
    /// `spark.kubernetes.memoryOverheadFactor`, else 0.4 for Python
    /// applications and 0.1 otherwise.
    pub fn memory_with_overhead_mib(&self, role: &Role) -> Result<(u64, u64), K8sError> {
        let r = role.name();
        let memory = self.conf.get_bytes(&format!("spark.{r}.memory"), ByteUnit::MiB).map_err(K8sError::conf)?;
        let memory_mib = memory.unwrap_or(1 << 30) >> 20;
        let explicit =
            self.conf.get_bytes(&format!("spark.{r}.memoryOverhead"), ByteUnit::MiB).map_err(K8sError::conf)?;
        let overhead = match explicit {
            Some(b) => b >> 20,
            None => {
                let factor = match (
                    self.conf.get_f64(&format!("spark.{r}.memoryOverheadFactor")).map_err(K8sError::conf)?,
                    self.conf.get_f64("spark.kubernetes.memoryOverheadFactor").map_err(K8sError::conf)?,
                ) {
                    (Some(f), _) | (None, Some(f)) => f,
                    (None, None) if self.is_python() => 0.4,
                    (None, None) => 0.1,
                };
                if !(0.0..=1.0).contains(&factor) {
                    return Err(K8sError::Config(format!(
                        "spark.{r}.memoryOverheadFactor should be between 0 and 1, but was {factor}"
                    )));
                }
                ((memory_mib as f64 * factor) as u64).max(MIN_MEMORY_OVERHEAD_MIB)
            }
        };
        Ok((memory_mib, memory_mib + overhead))
    }

    /// The CPU request for `role`: `spark.kubernetes.<role>.request.cores`,
    /// else `spark.<role>.cores` (1).
    pub fn cpu_request(&self, role: &Role) -> String {
        let r = role.name();
        self.get(&format!("spark.kubernetes.{r}.request.cores"))
            .or_else(|| self.get(&format!("spark.{r}.cores")))
            .unwrap_or_else(|| "1".into())
    }

    pub fn cpu_limit(&self, role: &Role) -> Option<String> {
        self.get(&format!("spark.kubernetes.{}.limit.cores", role.name()))
    }

    /// `spark.kubernetes.driver.pod.name`, else `<prefix>-driver`.
    pub fn driver_pod_name(&self) -> String {
        self.get("spark.kubernetes.driver.pod.name").unwrap_or_else(|| format!("{}-driver", self.resource_prefix))
    }

    /// `<spark.kubernetes.executor.podNamePrefix or prefix>-exec-<id>`.
    pub fn executor_pod_name(&self, executor_id: &str) -> String {
        let prefix =
            self.get("spark.kubernetes.executor.podNamePrefix").unwrap_or_else(|| self.resource_prefix.clone());
        format!("{prefix}-exec-{executor_id}")
    }
}

/// Spark's `KubernetesUtils.uniqueID`: 6 random hex digits and the time in
/// milliseconds (low 40 bits) in hex.
pub fn unique_id() -> String {
    let random: [u8; 3] = rand::random();
    let time = chrono::Utc::now().timestamp_millis() as u64 & 0xFF_FFFF_FFFF;
    format!("{:02x}{:02x}{:02x}{time:x}", random[0], random[1], random[2])
}

/// `spark-<uuid without dashes>`: the application id of a cluster-mode submission.
pub fn kubernetes_app_id() -> String {
    format!("spark-{}", uuid::Uuid::new_v4().simple())
}

/// `<app-name>-<unique id>`, made a valid DNS label prefix as Spark does.
pub fn resource_name_prefix(app_name: &str) -> String {
    let raw = format!("{app_name}-{}", unique_id()).trim().to_lowercase();
    let mut s: String = raw.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).collect();
    while s.contains("--") {
        s = s.replace("--", "-");
    }
    let s = s.trim_start_matches('-').to_string();
    match s.chars().next() {
        Some(c) if c.is_ascii_digit() => format!("x{}", &s[1..]),
        _ => s,
    }
}

/// A valid label value: lower case, `[a-z0-9-_.]`, ≤ 63 characters,
/// alphanumeric at both ends.
pub fn label_value(s: &str) -> String {
    let v: String = s
        .to_lowercase()
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' || c == '.' { c } else { '-' })
        .take(63)
        .collect();
    v.trim_matches(|c: char| !c.is_ascii_alphanumeric()).to_string()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn kconf(pairs: &[(&str, &str)]) -> KubernetesConf {
        let mut c = SparkConf::new();
        for (k, v) in pairs {
            c.set(*k, *v);
        }
        KubernetesConf::new(c, "spark-1".into(), "app-1".into())
    }

    #[test]
    fn names_are_dns_labels() {
        let p = resource_name_prefix("My ETL_job");
        assert!(p.starts_with("my-etl-job-"), "{p}");
        assert!(p.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'), "{p}");
        assert!(resource_name_prefix("1app").starts_with('x'));
        assert_eq!(label_value("Flights Delays!"), "flights-delays");
        assert!(kubernetes_app_id().starts_with("spark-") && kubernetes_app_id().len() == 38);
    }

    #[test]
    fn memory_overhead_follows_spark() {
        // Python: 0.4 of 2g = 819 MiB; the 384 MiB minimum for small memory.
        let c = kconf(&[("spark.driver.memory", "2g")]);
        assert_eq!(c.memory_with_overhead_mib(&Role::Driver).unwrap(), (2048, 2048 + 819));
        let c = kconf(&[("spark.executor.memory", "512m"), ("spark.kubernetes.resource.type", "java")]);
        assert_eq!(c.memory_with_overhead_mib(&Role::Executor { id: "1".into() }).unwrap(), (512, 512 + 384));
        let c = kconf(&[("spark.executor.memory", "8g"), ("spark.executor.memoryOverheadFactor", "0.1")]);
        assert_eq!(c.memory_with_overhead_mib(&Role::Executor { id: "1".into() }).unwrap(), (8192, 8192 + 819));
        let c = kconf(&[("spark.driver.memoryOverhead", "1g")]);
        assert_eq!(c.memory_with_overhead_mib(&Role::Driver).unwrap(), (1024, 2048));
        let c = kconf(&[("spark.driver.memoryOverheadFactor", "3")]);
        assert!(c.memory_with_overhead_mib(&Role::Driver).is_err());
    }
}
