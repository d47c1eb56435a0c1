//! Feature steps: small builders over a pod spec, one per concern, applied
//! in Spark's order (`KubernetesDriverBuilder`, `KubernetesExecutorBuilder`).
//! Each step may also add Spark properties for the driver and Kubernetes
//! resources created next to the driver pod (Service, ConfigMaps).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    ConfigMap, ConfigMapVolumeSource, Container, ContainerPort, EmptyDirVolumeSource, EnvVar, EnvVarSource,
    HostPathVolumeSource, KeyToPath, LocalObjectReference, NFSVolumeSource, ObjectFieldSelector, PersistentVolumeClaim,
    PersistentVolumeClaimSpec, PersistentVolumeClaimVolumeSource, Pod, PodSpec, SecretKeySelector, SecretVolumeSource,
    Service, ServicePort, ServiceSpec, Volume, VolumeMount, VolumeResourceRequirements,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use crate::K8sError;
use crate::conf::*;

/// A pod under construction: the pod and, apart from it, the container
/// that runs ember (Spark's `SparkPod`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparkPod {
    pub pod: Pod,
    pub container: Container,
}

impl SparkPod {
    /// The pod from `spark.kubernetes.<role>.podTemplateFile` (YAML or
    /// JSON), with the container named by `podTemplateContainerName` (else
    /// the first) taken out as ember's container; or an empty pod.
    pub fn initial(kconf: &KubernetesConf, role: &Role) -> Result<Self, K8sError> {
        let key = format!("spark.kubernetes.{}.podTemplateFile", role.name());
        let Some(path) = kconf.get(&key) else { return Ok(Self::default()) };
        let text = std::fs::read_to_string(&path)
            .map_err(|e| K8sError::Config(format!("cannot read the pod template {path} ({key}): {e}")))?;
        let mut pod: Pod = serde_yaml::from_str(&text)
            .map_err(|e| K8sError::Config(format!("the pod template {path} is not a valid pod: {e}")))?;
        let name = kconf.get(&format!("spark.kubernetes.{}.podTemplateContainerName", role.name()));
        let spec = pod.spec.get_or_insert_with(Default::default);
        let index = match &name {
            Some(n) => spec.containers.iter().position(|c| &c.name == n),
            None => (!spec.containers.is_empty()).then_some(0),
        };
        let container = match index {
            Some(i) => spec.containers.remove(i),
            None => Container::default(),
        };
        Ok(Self { pod, container })
    }

    /// The finished pod: ember's container first, then the template's others.
    pub fn build(self) -> Pod {
        let mut pod = self.pod;
        let spec = pod.spec.get_or_insert_with(Default::default);
        spec.containers.insert(0, self.container);
        pod
    }

    fn meta(&mut self) -> &mut ObjectMeta {
        &mut self.pod.metadata
    }

    fn spec(&mut self) -> &mut PodSpec {
        self.pod.spec.get_or_insert_with(Default::default)
    }

    fn add_env(&mut self, env: EnvVar) {
        let list = self.container.env.get_or_insert_with(Vec::new);
        list.retain(|e| e.name != env.name);
        list.push(env);
    }

    fn add_volume(&mut self, volume: Volume, mount: VolumeMount) {
        let spec = self.spec();
        let volumes = spec.volumes.get_or_insert_with(Vec::new);
        volumes.retain(|v| v.name != volume.name);
        volumes.push(volume);
        self.container.volume_mounts.get_or_insert_with(Vec::new).push(mount);
    }
}

/// A Kubernetes resource a step asks for beside the pod.
#[derive(Debug, Clone, PartialEq)]
pub enum Resource {
    Service(Box<Service>),
    ConfigMap(Box<ConfigMap>),
    Claim(Box<PersistentVolumeClaim>),
}

/// What a step contributes.
#[derive(Debug, Default)]
pub struct StepOutput {
    /// Spark properties the driver gets (`spark.driver.host`, ...).
    pub properties: Vec<(String, String)>,
    /// Created after the driver pod, owned by it.
    pub resources: Vec<Resource>,
}

pub fn env(name: &str, value: impl Into<String>) -> EnvVar {
    EnvVar { name: name.into(), value: Some(value.into()), ..Default::default() }
}

fn field_env(name: &str, path: &str) -> EnvVar {
    EnvVar {
        name: name.into(),
        value_from: Some(EnvVarSource {
            field_ref: Some(ObjectFieldSelector { api_version: Some("v1".into()), field_path: path.into() }),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn port(name: &str, port: i32) -> ContainerPort {
    ContainerPort { name: Some(name.into()), container_port: port, protocol: Some("TCP".into()), ..Default::default() }
}

fn quantity(s: impl Into<String>) -> Quantity {
    Quantity(s.into())
}

fn port_conf(kconf: &KubernetesConf, key: &str, default: u16) -> Result<i32, K8sError> {
    match kconf.get(key) {
        None => Ok(i32::from(default)),
        Some(v) => v
            .trim()
            .parse::<u16>()
            .map(i32::from)
            .map_err(|_| K8sError::Config(format!("{key} should be a port number, but was {v}"))),
    }
}

/// Labels with `{{APP_ID}}` and `{{EXECUTOR_ID}}` substituted.
fn substituted(map: BTreeMap<String, String>, app_id: &str, executor_id: Option<&str>) -> BTreeMap<String, String> {
    map.into_iter()
        .map(|(k, v)| {
            let mut v = v.replace("{{APP_ID}}", app_id);
            if let Some(id) = executor_id {
                v = v.replace("{{EXECUTOR_ID}}", id);
            }
            (k, v)
        })
        .collect()
}

/// Image, pull policy and secrets, resources, labels, annotations, node
/// selectors, scheduler name and `restartPolicy: Never`, for either role.
fn basic_pod(
    kconf: &KubernetesConf,
    role: &Role,
    pod: &mut SparkPod,
    labels: BTreeMap<String, String>,
) -> Result<(), K8sError> {
    let r = role.name();
    let executor_id = match role {
        Role::Executor { id } => Some(id.as_str()),
        Role::Driver => None,
    };
    let (_, memory_mib) = kconf.memory_with_overhead_mib(role)?;
    let c = &mut pod.container;
    if c.name.is_empty() {
        c.name = if executor_id.is_some() { EXECUTOR_CONTAINER_NAME } else { DRIVER_CONTAINER_NAME }.into();
    }
    c.image = Some(kconf.image(role)?);
    c.image_pull_policy = Some(kconf.pull_policy());
    let resources = c.resources.get_or_insert_with(Default::default);
    let requests = resources.requests.get_or_insert_with(BTreeMap::new);
    requests.insert("cpu".into(), quantity(kconf.cpu_request(role)));
    requests.insert("memory".into(), quantity(format!("{memory_mib}Mi")));
    let limits = resources.limits.get_or_insert_with(BTreeMap::new);
    limits.insert("memory".into(), quantity(format!("{memory_mib}Mi")));
    if let Some(l) = kconf.cpu_limit(role) {
        limits.insert("cpu".into(), quantity(l));
    }

    let user_labels =
        substituted(kconf.with_prefix(&format!("spark.kubernetes.{r}.label.")), &kconf.app_id, executor_id);
    let annotations =
        substituted(kconf.with_prefix(&format!("spark.kubernetes.{r}.annotation.")), &kconf.app_id, executor_id);
    let meta = pod.meta();
    let l = meta.labels.get_or_insert_with(BTreeMap::new);
    l.extend(user_labels);
    l.extend(labels);
    if !annotations.is_empty() {
        meta.annotations.get_or_insert_with(BTreeMap::new).extend(annotations);
    }
    let node_selector = kconf.node_selector(role);
    let pull_secrets = kconf.pull_secrets();
    let scheduler = kconf.scheduler_name(role);
    let spec = pod.spec();
    spec.restart_policy = Some("Never".into());
    if !node_selector.is_empty() {
        spec.node_selector.get_or_insert_with(BTreeMap::new).extend(node_selector);
    }
    if !pull_secrets.is_empty() {
        let list = spec.image_pull_secrets.get_or_insert_with(Vec::new);
        for s in pull_secrets {
            list.push(LocalObjectReference { name: s });
        }
    }
    if let Some(s) = scheduler {
        spec.scheduler_name = Some(s);
    }
    Ok(())
}

/// The labels every pod of the application carries.
fn app_labels(kconf: &KubernetesConf, role: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (SPARK_APP_ID_LABEL.to_string(), kconf.app_id.clone()),
        (SPARK_APP_NAME_LABEL.to_string(), kconf.app_name_label()),
        (SPARK_ROLE_LABEL.to_string(), role.to_string()),
        (SPARK_VERSION_LABEL.to_string(), ember_common::SPARK_VERSION.to_string()),
    ])
}

/// The driver pod's labels (the driver Service selects on them).
pub fn driver_labels(kconf: &KubernetesConf) -> BTreeMap<String, String> {
    let mut l = substituted(kconf.with_prefix("spark.kubernetes.driver.label."), &kconf.app_id, None);
    l.extend(app_labels(kconf, DRIVER_ROLE));
    l
}

/// The steps that need the configuration: a step list is built per role.
pub struct Steps<'a> {
    kconf: &'a KubernetesConf,
}

impl<'a> Steps<'a> {
    pub fn new(kconf: &'a KubernetesConf) -> Self {
        Self { kconf }
    }

    /// Spark's `BasicDriverFeatureStep`.
    pub fn basic_driver(&self, pod: &mut SparkPod, out: &mut StepOutput) -> Result<(), K8sError> {
        let k = self.kconf;
        basic_pod(k, &Role::Driver, pod, app_labels(k, DRIVER_ROLE))?;
        let name = k.driver_pod_name();
        pod.meta().name = Some(name.clone());
        pod.meta().namespace = Some(k.namespace.clone());
        let driver_port = port_conf(k, "spark.driver.port", DEFAULT_DRIVER_PORT)?;
        let bm_port = port_conf(k, "spark.driver.blockManager.port", DEFAULT_BLOCKMANAGER_PORT)?;
        let ui_port = port_conf(k, "spark.ui.port", DEFAULT_UI_PORT)?;
        let ports = pod.container.ports.get_or_insert_with(Vec::new);
        ports.push(port("driver-rpc-port", driver_port));
        ports.push(port("blockmanager", bm_port));
        ports.push(port("spark-ui", ui_port));
        for (n, v) in k.with_prefix("spark.kubernetes.driverEnv.") {
            pod.add_env(env(&n, v));
        }
        pod.add_env(env("SPARK_APPLICATION_ID", k.app_id.clone()));
        pod.add_env(field_env("SPARK_DRIVER_BIND_ADDRESS", "status.podIP"));
        let (memory_mib, _) = k.memory_with_overhead_mib(&Role::Driver)?;
        out.properties.extend([
            ("spark.kubernetes.driver.pod.name".into(), name),
            ("spark.app.id".into(), k.app_id.clone()),
            ("spark.kubernetes.submitInDriver".into(), "true".into()),
            ("spark.driver.memory".into(), format!("{memory_mib}m")),
        ]);
        Ok(())
    }

    /// Spark's `DriverKubernetesCredentialsFeatureStep` (the service account).
    pub fn driver_credentials(&self, pod: &mut SparkPod) {
        if let Some(sa) = self.kconf.get("spark.kubernetes.authenticate.driver.serviceAccountName") {
            pod.spec().service_account_name = Some(sa);
        }
    }

    /// Spark's `DriverServiceFeatureStep`: the headless `<prefix>-driver-svc`.
    pub fn driver_service(&self, out: &mut StepOutput) -> Result<(), K8sError> {
        let k = self.kconf;
        let mut name = format!("{}-driver-svc", k.resource_prefix);
        if name.len() > 63 {
            name = format!("spark-{}-driver-svc", unique_id());
        }
        let driver_port = port_conf(k, "spark.driver.port", DEFAULT_DRIVER_PORT)?;
        let bm_port = port_conf(k, "spark.driver.blockManager.port", DEFAULT_BLOCKMANAGER_PORT)?;
        let ui_port = port_conf(k, "spark.ui.port", DEFAULT_UI_PORT)?;
        let svc_port = |n: &str, p: i32| ServicePort {
            name: Some(n.into()),
            port: p,
            target_port: Some(k8s_openapi::apimachinery::pkg::util::intstr::IntOrString::Int(p)),
            protocol: Some("TCP".into()),
            ..Default::default()
        };
        let mut labels = k.with_prefix("spark.kubernetes.driver.service.label.");
        labels.insert(SPARK_APP_ID_LABEL.into(), k.app_id.clone());
        let annotations = k.with_prefix("spark.kubernetes.driver.service.annotation.");
        let service = Service {
            metadata: ObjectMeta {
                name: Some(name.clone()),
                namespace: Some(k.namespace.clone()),
                labels: Some(labels),
                annotations: (!annotations.is_empty()).then_some(annotations),
                ..Default::default()
            },
            spec: Some(ServiceSpec {
                cluster_ip: Some("None".into()),
                selector: Some(driver_labels(k)),
                ports: Some(vec![
                    svc_port("driver-rpc-port", driver_port),
                    svc_port("blockmanager", bm_port),
                    svc_port("spark-ui", ui_port),
                ]),
                ip_family_policy: k.get("spark.kubernetes.driver.service.ipFamilyPolicy"),
                ..Default::default()
            }),
            ..Default::default()
        };
        out.properties.extend([
            ("spark.driver.host".into(), format!("{name}.{}.svc", k.namespace)),
            ("spark.driver.port".into(), driver_port.to_string()),
            ("spark.driver.blockManager.port".into(), bm_port.to_string()),
        ]);
        out.resources.push(Resource::Service(Box::new(service)));
        Ok(())
    }

    /// Spark's `MountSecretsFeatureStep`: `spark.kubernetes.<role>.secrets.NAME=PATH`.
    pub fn mount_secrets(&self, role: &Role, pod: &mut SparkPod) {
        for (secret, path) in self.kconf.with_prefix(&format!("spark.kubernetes.{}.secrets.", role.name())) {
            let volume = format!("{secret}-volume");
            pod.add_volume(
                Volume {
                    name: volume.clone(),
                    secret: Some(SecretVolumeSource { secret_name: Some(secret), ..Default::default() }),
                    ..Default::default()
                },
                VolumeMount { name: volume, mount_path: path, ..Default::default() },
            );
        }
    }

    /// Spark's `EnvSecretsFeatureStep`: `spark.kubernetes.<role>.secretKeyRef.ENV=name:key`.
    pub fn env_secrets(&self, role: &Role, pod: &mut SparkPod) -> Result<(), K8sError> {
        for (name, r) in self.kconf.with_prefix(&format!("spark.kubernetes.{}.secretKeyRef.", role.name())) {
            let (secret, key) = r.split_once(':').ok_or_else(|| {
                K8sError::Config(format!(
                    "spark.kubernetes.{}.secretKeyRef.{name} should be secret-name:key, but was {r}",
                    role.name()
                ))
            })?;
            pod.add_env(EnvVar {
                name,
                value_from: Some(EnvVarSource {
                    secret_key_ref: Some(SecretKeySelector { name: secret.into(), key: key.into(), optional: None }),
                    ..Default::default()
                }),
                ..Default::default()
            });
        }
        Ok(())
    }

    /// Spark's `MountVolumesFeatureStep`:
    /// `spark.kubernetes.<role>.volumes.<type>.<name>.{mount.path,mount.readOnly,mount.subPath,options.*}`
    /// with types hostPath, emptyDir, nfs and persistentVolumeClaim
    /// (`claimName=OnDemand` creates one claim per pod).
    pub fn mount_volumes(&self, role: &Role, pod: &mut SparkPod, out: &mut StepOutput) -> Result<(), K8sError> {
        let prefix = format!("spark.kubernetes.{}.volumes.", role.name());
        let all = self.kconf.with_prefix(&prefix);
        let mut volumes: BTreeMap<(String, String), BTreeMap<String, String>> = BTreeMap::new();
        for (k, v) in all {
            let mut parts = k.splitn(3, '.');
            let (Some(kind), Some(name), Some(rest)) = (parts.next(), parts.next(), parts.next()) else {
                return Err(K8sError::Config(format!("{prefix}{k}: expected {prefix}<type>.<name>.<property>")));
            };
            volumes.entry((kind.to_string(), name.to_string())).or_default().insert(rest.to_string(), v);
        }
        let pod_name = pod.pod.metadata.name.clone().unwrap_or_default();
        for (i, ((kind, name), props)) in volumes.into_iter().enumerate() {
            let path = props
                .get("mount.path")
                .cloned()
                .ok_or_else(|| K8sError::Config(format!("{prefix}{kind}.{name}.mount.path is required")))?;
            let opt = |k: &str| props.get(&format!("options.{k}")).cloned();
            let need = |k: &str| {
                opt(k).ok_or_else(|| K8sError::Config(format!("{prefix}{kind}.{name}.options.{k} is required")))
            };
            let mut volume = Volume { name: name.clone(), ..Default::default() };
            match kind.as_str() {
                "hostPath" => volume.host_path = Some(HostPathVolumeSource { path: need("path")?, type_: opt("type") }),
                "emptyDir" => {
                    volume.empty_dir =
                        Some(EmptyDirVolumeSource { medium: opt("medium"), size_limit: opt("sizeLimit").map(quantity) })
                }
                "nfs" => {
                    volume.nfs = Some(NFSVolumeSource {
                        server: need("server")?,
                        path: need("path")?,
                        read_only: props.get("mount.readOnly").map(|v| v == "true"),
                    })
                }
                "persistentVolumeClaim" => {
                    let mut claim = need("claimName")?;
                    if let Role::Executor { id } = role {
                        claim = claim.replace("SPARK_EXECUTOR_ID", id);
                    }
                    if claim == "OnDemand" {
                        claim = format!("{pod_name}-pvc-{i}");
                        let size = need("sizeLimit")?;
                        let mut labels = BTreeMap::from([(SPARK_APP_ID_LABEL.to_string(), self.kconf.app_id.clone())]);
                        if let Role::Executor { id } = role {
                            labels.insert(SPARK_EXECUTOR_ID_LABEL.into(), id.clone());
                        }
                        out.resources.push(Resource::Claim(Box::new(PersistentVolumeClaim {
                            metadata: ObjectMeta {
                                name: Some(claim.clone()),
                                labels: Some(labels),
                                ..Default::default()
                            },
                            spec: Some(PersistentVolumeClaimSpec {
                                access_modes: Some(vec!["ReadWriteOncePod".into()]),
                                storage_class_name: opt("storageClass"),
                                resources: Some(VolumeResourceRequirements {
                                    requests: Some(BTreeMap::from([("storage".into(), quantity(size))])),
                                    ..Default::default()
                                }),
                                ..Default::default()
                            }),
                            ..Default::default()
                        })));
                    }
                    volume.persistent_volume_claim = Some(PersistentVolumeClaimVolumeSource {
                        claim_name: claim,
                        read_only: props.get("mount.readOnly").map(|v| v == "true"),
                    });
                }
                other => {
                    return Err(K8sError::Config(format!(
                        "{prefix}{other}.{name}: unsupported volume type {other} (hostPath, emptyDir, nfs, persistentVolumeClaim)"
                    )));
                }
            }
            let mount = VolumeMount {
                name,
                mount_path: path,
                read_only: props.get("mount.readOnly").map(|v| v == "true"),
                sub_path: props.get("mount.subPath").cloned(),
                ..Default::default()
            };
            pod.add_volume(volume, mount);
        }
        Ok(())
    }

    /// Spark's `DriverCommandFeatureStep`: `driver --properties-file … <app> <args>`,
    /// and the Python interpreter settings.
    pub fn driver_command(&self, pod: &mut SparkPod, app: &str, args: &[String]) {
        let k = self.kconf;
        let mut a = vec![
            "driver".to_string(),
            "--properties-file".into(),
            format!("{SPARK_CONF_DIR}/{SPARK_CONF_FILE}"),
            app.to_string(),
        ];
        a.extend(args.iter().cloned());
        pod.container.args = Some(a);
        if let Some(p) = k.get("spark.pyspark.python") {
            pod.add_env(env("PYSPARK_PYTHON", p));
        }
        if let Some(p) = k.get("spark.pyspark.driver.python") {
            pod.add_env(env("PYSPARK_DRIVER_PYTHON", p));
        }
    }

    /// Spark's `PodTemplateConfigMapFeatureStep`: an executor pod template
    /// on the submitting machine travels to the driver in a ConfigMap.
    pub fn pod_template_config_map(&self, pod: &mut SparkPod, out: &mut StepOutput) -> Result<(), K8sError> {
        let k = self.kconf;
        let Some(path) = k.get("spark.kubernetes.executor.podTemplateFile") else { return Ok(()) };
        let text = std::fs::read_to_string(&path).map_err(|e| {
            K8sError::Config(format!(
                "cannot read the executor pod template {path} (spark.kubernetes.executor.podTemplateFile): {e}"
            ))
        })?;
        let name = format!("{}-driver-podspec-conf-map", k.resource_prefix);
        pod.add_volume(
            Volume {
                name: "pod-template-volume".into(),
                config_map: Some(ConfigMapVolumeSource {
                    name: name.clone(),
                    items: Some(vec![KeyToPath {
                        key: POD_TEMPLATE_KEY.into(),
                        path: POD_TEMPLATE_FILE.into(),
                        mode: None,
                    }]),
                    ..Default::default()
                }),
                ..Default::default()
            },
            VolumeMount {
                name: "pod-template-volume".into(),
                mount_path: POD_TEMPLATE_DIR.into(),
                ..Default::default()
            },
        );
        out.resources.push(Resource::ConfigMap(Box::new(ConfigMap {
            metadata: ObjectMeta {
                name: Some(name),
                namespace: Some(k.namespace.clone()),
                labels: Some(BTreeMap::from([(SPARK_APP_ID_LABEL.to_string(), k.app_id.clone())])),
                ..Default::default()
            },
            data: Some(BTreeMap::from([(POD_TEMPLATE_KEY.to_string(), text)])),
            ..Default::default()
        })));
        out.properties.push((
            "spark.kubernetes.executor.podTemplateFile".into(),
            format!("{POD_TEMPLATE_DIR}/{POD_TEMPLATE_FILE}"),
        ));
        Ok(())
    }

    /// Spark's `LocalDirsFeatureStep` (last): an emptyDir per entry of
    /// `spark.local.dir` (tmpfs with `spark.kubernetes.local.dirs.tmpfs`),
    /// unless a volume named `spark-local-dir-*` is already mounted.
    pub fn local_dirs(&self, pod: &mut SparkPod) -> Result<(), K8sError> {
        let k = self.kconf;
        let mounted: Vec<String> = pod
            .container
            .volume_mounts
            .iter()
            .flatten()
            .filter(|m| m.name.starts_with("spark-local-dir-"))
            .map(|m| m.mount_path.clone())
            .collect();
        let dirs = if mounted.is_empty() {
            let dirs: Vec<String> = k
                .get("spark.local.dir")
                .map(|d| d.split(',').map(str::trim).filter(|s| !s.is_empty()).map(String::from).collect())
                .unwrap_or_else(|| vec![format!("/var/data/spark-{}", uuid::Uuid::new_v4())]);
            let tmpfs = k.bool_or("spark.kubernetes.local.dirs.tmpfs", false)?;
            for (i, d) in dirs.iter().enumerate() {
                let name = format!("spark-local-dir-{}", i + 1);
                pod.add_volume(
                    Volume {
                        name: name.clone(),
                        empty_dir: Some(EmptyDirVolumeSource {
                            medium: tmpfs.then(|| "Memory".to_string()),
                            size_limit: None,
                        }),
                        ..Default::default()
                    },
                    VolumeMount { name, mount_path: d.clone(), ..Default::default() },
                );
            }
            dirs
        } else {
            mounted
        };
        pod.add_env(env("SPARK_LOCAL_DIRS", dirs.join(",")));
        Ok(())
    }

    /// Spark's `BasicExecutorFeatureStep`.
    pub fn basic_executor(&self, id: &str, exec: &ExecutorContext, pod: &mut SparkPod) -> Result<(), K8sError> {
        let k = self.kconf;
        let role = Role::Executor { id: id.to_string() };
        let mut labels = app_labels(k, EXECUTOR_ROLE);
        labels.insert(SPARK_EXECUTOR_ID_LABEL.into(), id.into());
        labels.insert(SPARK_RESOURCE_PROFILE_ID_LABEL.into(), "0".into());
        basic_pod(k, &role, pod, labels)?;
        let name = k.executor_pod_name(id);
        if name.len() <= 63 {
            pod.spec().hostname = Some(name.clone());
        }
        pod.meta().name = Some(name);
        pod.meta().namespace = Some(k.namespace.clone());
        let (memory_mib, _) = k.memory_with_overhead_mib(&role)?;
        pod.container.args = Some(vec!["executor".into()]);
        let mut envs = vec![
            env("SPARK_USER", exec.user.clone()),
            env("SPARK_DRIVER_URL", exec.driver_url.clone()),
            env("SPARK_EXECUTOR_CORES", exec.cores.to_string()),
            env("SPARK_EXECUTOR_MEMORY", format!("{memory_mib}m")),
            env("SPARK_APPLICATION_ID", k.app_id.clone()),
            env("SPARK_EXECUTOR_ID", id),
            env("SPARK_RESOURCE_PROFILE_ID", "0"),
            field_env("SPARK_EXECUTOR_POD_IP", "status.podIP"),
            field_env("SPARK_EXECUTOR_POD_NAME", "metadata.name"),
        ];
        if let Some(s) = &exec.secret {
            envs.push(env(ember_exec::AUTH_SECRET_ENV, s.clone()));
        }
        for (n, v) in k.with_prefix("spark.executorEnv.") {
            envs.push(env(&n, v));
        }
        for e in envs {
            pod.add_env(e);
        }
        if let Some(owner) = &exec.owner {
            pod.meta().owner_references = Some(vec![owner.clone()]);
        }
        Ok(())
    }

    /// Spark's `ExecutorKubernetesCredentialsFeatureStep`: the executor's
    /// service account, else the driver's.
    pub fn executor_credentials(&self, pod: &mut SparkPod) {
        let k = self.kconf;
        if let Some(sa) = k
            .get("spark.kubernetes.authenticate.executor.serviceAccountName")
            .or_else(|| k.get("spark.kubernetes.authenticate.driver.serviceAccountName"))
        {
            pod.spec().service_account_name = Some(sa);
        }
    }
}

/// What an executor pod needs from the running driver.
#[derive(Debug, Clone)]
pub struct ExecutorContext {
    /// `SPARK_USER`: who runs the application.
    pub user: String,
    pub driver_url: String,
    pub cores: usize,
    pub secret: Option<String>,
    /// The driver pod, when the driver runs in one.
    pub owner: Option<OwnerReference>,
}

/// An ownerReference (controller) to `pod`.
pub fn owner_reference(pod: &Pod) -> Option<OwnerReference> {
    Some(OwnerReference {
        api_version: "v1".into(),
        kind: "Pod".into(),
        name: pod.metadata.name.clone()?,
        uid: pod.metadata.uid.clone()?,
        controller: Some(true),
        block_owner_deletion: None,
    })
}

/// The driver pod spec and what goes with it, in Spark's step order.
#[derive(Debug)]
pub struct DriverSpec {
    pub pod: Pod,
    pub properties: Vec<(String, String)>,
    pub resources: Vec<Resource>,
}

/// Builds the driver pod: BasicDriver, DriverCredentials, DriverService,
/// MountSecrets, EnvSecrets, MountVolumes, DriverCommand,
/// PodTemplateConfigMap, LocalDirs.
pub fn build_driver(kconf: &KubernetesConf, app: &str, args: &[String]) -> Result<DriverSpec, K8sError> {
    let steps = Steps::new(kconf);
    let mut pod = SparkPod::initial(kconf, &Role::Driver)?;
    let mut out = StepOutput::default();
    steps.basic_driver(&mut pod, &mut out)?;
    steps.driver_credentials(&mut pod);
    steps.driver_service(&mut out)?;
    steps.mount_secrets(&Role::Driver, &mut pod);
    steps.env_secrets(&Role::Driver, &mut pod)?;
    steps.mount_volumes(&Role::Driver, &mut pod, &mut out)?;
    steps.driver_command(&mut pod, app, args);
    steps.pod_template_config_map(&mut pod, &mut out)?;
    steps.local_dirs(&mut pod)?;
    Ok(DriverSpec { pod: pod.build(), properties: out.properties, resources: out.resources })
}

/// Builds an executor pod: BasicExecutor, ExecutorCredentials,
/// MountSecrets, EnvSecrets, MountVolumes, LocalDirs. Returns the pod and
/// the claims it needs created first.
pub fn build_executor(
    kconf: &KubernetesConf,
    id: &str,
    exec: &ExecutorContext,
) -> Result<(Pod, Vec<Resource>), K8sError> {
    let role = Role::Executor { id: id.to_string() };
    let steps = Steps::new(kconf);
    let mut pod = SparkPod::initial(kconf, &role)?;
    let mut out = StepOutput::default();
    steps.basic_executor(id, exec, &mut pod)?;
    steps.executor_credentials(&mut pod);
    steps.mount_secrets(&role, &mut pod);
    steps.env_secrets(&role, &mut pod)?;
    steps.mount_volumes(&role, &mut pod, &mut out)?;
    steps.local_dirs(&mut pod)?;
    Ok((pod.build(), out.resources))
}

/// The driver's `spark.properties` ConfigMap (`spark-drv-<id>-conf-map`),
/// mounted at `/opt/spark/conf` with `SPARK_CONF_DIR` pointing there.
pub fn attach_conf_map(kconf: &KubernetesConf, pod: &mut Pod, properties: &str) -> ConfigMap {
    let name = format!("spark-drv-{}-conf-map", unique_id());
    let spec = pod.spec.get_or_insert_with(Default::default);
    spec.volumes.get_or_insert_with(Vec::new).push(Volume {
        name: SPARK_CONF_VOLUME.into(),
        config_map: Some(ConfigMapVolumeSource {
            name: name.clone(),
            items: Some(vec![KeyToPath {
                key: SPARK_CONF_FILE.into(),
                path: SPARK_CONF_FILE.into(),
                mode: Some(0o420),
            }]),
            ..Default::default()
        }),
        ..Default::default()
    });
    if let Some(c) = spec.containers.first_mut() {
        c.volume_mounts.get_or_insert_with(Vec::new).push(VolumeMount {
            name: SPARK_CONF_VOLUME.into(),
            mount_path: SPARK_CONF_DIR.into(),
            ..Default::default()
        });
        c.env.get_or_insert_with(Vec::new).push(env("SPARK_CONF_DIR", SPARK_CONF_DIR));
    }
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name),
            namespace: Some(kconf.namespace.clone()),
            labels: Some(BTreeMap::from([(SPARK_APP_ID_LABEL.to_string(), kconf.app_id.clone())])),
            ..Default::default()
        },
        immutable: Some(true),
        data: Some(BTreeMap::from([(SPARK_CONF_FILE.to_string(), properties.to_string())])),
        ..Default::default()
    }
}
