//! Golden pod specs: the feature steps' driver and executor pods, with and
//! without a pod template, secrets and volumes, compared with reviewed
//! files under tests/golden/. Each golden file must deserialise into
//! k8s-openapi's types. `EMBER_UPDATE_GOLDEN=1` rewrites them (review the
//! diff before committing).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use ember_common::SparkConf;
use ember_k8s::conf::KubernetesConf;
use ember_k8s::features::{ExecutorContext, Resource, build_driver, build_executor};
use k8s_openapi::api::core::v1::{ConfigMap, PersistentVolumeClaim, Pod, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden")
}

/// Compares `value` with the golden file `name` (JSON), after checking the
/// file is a valid `T`.
fn check<T: serde::de::DeserializeOwned + serde::Serialize + PartialEq + std::fmt::Debug>(name: &str, value: &T) {
    let path = golden_dir().join(name);
    let json = serde_json::to_string_pretty(value).unwrap() + "\n";
    if std::env::var_os("EMBER_UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, &json).unwrap();
    }
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let golden: T = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name} is not a valid object: {e}"));
    assert_eq!(&golden, value, "{name} differs; the built spec is:\n{json}");
}

fn kconf(pairs: &[(&str, &str)]) -> KubernetesConf {
    let mut c = SparkConf::new();
    c.set("spark.app.name", "etl");
    c.set("spark.kubernetes.container.image", "ember:0.1");
    c.set("spark.kubernetes.namespace", "spark");
    c.set("spark.local.dir", "/var/data/spark-local");
    for (k, v) in pairs {
        c.set(*k, *v);
    }
    KubernetesConf::new(c, "spark-0123456789abcdef0123456789abcdef".into(), "etl-3f2a1b".into())
}

fn exec_ctx() -> ExecutorContext {
    ExecutorContext {
        user: "ember".into(),
        driver_url: "http://etl-3f2a1b-driver-svc.spark.svc:7078".into(),
        cores: 2,
        secret: None,
        owner: Some(OwnerReference {
            api_version: "v1".into(),
            kind: "Pod".into(),
            name: "etl-3f2a1b-driver".into(),
            uid: "6b1e7c1a-0000-4000-8000-000000000001".into(),
            controller: Some(true),
            block_owner_deletion: None,
        }),
    }
}

#[test]
fn driver_basic() {
    let k = kconf(&[
        ("spark.driver.memory", "1g"),
        ("spark.driver.cores", "1"),
        ("spark.kubernetes.authenticate.driver.serviceAccountName", "spark"),
        ("spark.kubernetes.resource.type", "python"),
    ]);
    let spec = build_driver(&k, "local:///opt/app/etl.py", &["2024-01-01".into()]).unwrap();
    check::<Pod>("driver-basic.json", &spec.pod);
    let service = spec.resources.iter().find_map(|r| match r {
        Resource::Service(s) => Some(s.as_ref().clone()),
        _ => None,
    });
    check::<Service>("driver-service.json", &service.unwrap());
    let props: std::collections::BTreeMap<_, _> = spec.properties.into_iter().collect();
    assert_eq!(props["spark.driver.host"], "etl-3f2a1b-driver-svc.spark.svc");
    assert_eq!(props["spark.driver.port"], "7078");
    assert_eq!(props["spark.kubernetes.driver.pod.name"], "etl-3f2a1b-driver");
}

#[test]
fn driver_with_secrets_volumes_and_labels() {
    let k = kconf(&[
        ("spark.driver.memory", "2g"),
        ("spark.kubernetes.driver.request.cores", "500m"),
        ("spark.kubernetes.driver.limit.cores", "2"),
        ("spark.kubernetes.driver.label.team", "data"),
        ("spark.kubernetes.driver.label.run", "{{APP_ID}}"),
        ("spark.kubernetes.driver.annotation.owner", "etl@example.com"),
        ("spark.kubernetes.node.selector.disktype", "ssd"),
        ("spark.kubernetes.container.image.pullSecrets", "regcred, other"),
        ("spark.kubernetes.container.image.pullPolicy", "Always"),
        ("spark.kubernetes.scheduler.name", "volcano"),
        ("spark.kubernetes.driver.secrets.db-creds", "/etc/secrets/db"),
        ("spark.kubernetes.driver.secretKeyRef.DB_PASSWORD", "db-creds:password"),
        ("spark.kubernetes.driverEnv.MODE", "nightly"),
        ("spark.kubernetes.driver.volumes.hostPath.data.mount.path", "/data"),
        ("spark.kubernetes.driver.volumes.hostPath.data.mount.readOnly", "true"),
        ("spark.kubernetes.driver.volumes.hostPath.data.options.path", "/mnt/data"),
        ("spark.kubernetes.driver.volumes.nfs.share.mount.path", "/share"),
        ("spark.kubernetes.driver.volumes.nfs.share.options.server", "nfs.example.com"),
        ("spark.kubernetes.driver.volumes.nfs.share.options.path", "/exports/share"),
        ("spark.kubernetes.driver.volumes.emptyDir.scratch.mount.path", "/scratch"),
        ("spark.kubernetes.driver.volumes.emptyDir.scratch.options.medium", "Memory"),
        ("spark.kubernetes.driver.volumes.emptyDir.scratch.options.sizeLimit", "1Gi"),
        ("spark.kubernetes.local.dirs.tmpfs", "true"),
    ]);
    let spec = build_driver(&k, "local:///opt/app/etl.py", &[]).unwrap();
    check::<Pod>("driver-secrets-volumes.json", &spec.pod);
}

#[test]
fn executor_basic() {
    let k = kconf(&[("spark.executor.memory", "2g"), ("spark.executor.cores", "2"), ("spark.executorEnv.TZ", "UTC")]);
    let (pod, resources) = build_executor(&k, "3", &exec_ctx()).unwrap();
    assert!(resources.is_empty());
    check::<Pod>("executor-basic.json", &pod);
}

#[test]
fn executor_with_template_and_on_demand_claim() {
    let template = golden_dir().join("executor-template.yaml");
    let k = kconf(&[
        ("spark.executor.memory", "4g"),
        ("spark.kubernetes.executor.podTemplateFile", template.to_str().unwrap()),
        ("spark.kubernetes.executor.podTemplateContainerName", "ember"),
        ("spark.kubernetes.executor.label.exec", "{{EXECUTOR_ID}}"),
        ("spark.kubernetes.executor.secrets.s3-creds", "/etc/s3"),
        ("spark.kubernetes.executor.volumes.persistentVolumeClaim.spill.mount.path", "/spill"),
        ("spark.kubernetes.executor.volumes.persistentVolumeClaim.spill.options.claimName", "OnDemand"),
        ("spark.kubernetes.executor.volumes.persistentVolumeClaim.spill.options.storageClass", "fast"),
        ("spark.kubernetes.executor.volumes.persistentVolumeClaim.spill.options.sizeLimit", "50Gi"),
        ("spark.kubernetes.executor.volumes.persistentVolumeClaim.spark-local-dir-1.mount.path", "/local"),
        (
            "spark.kubernetes.executor.volumes.persistentVolumeClaim.spark-local-dir-1.options.claimName",
            "local-SPARK_EXECUTOR_ID",
        ),
    ]);
    let (pod, resources) = build_executor(&k, "7", &exec_ctx()).unwrap();
    check::<Pod>("executor-template-claim.json", &pod);
    let claims: Vec<PersistentVolumeClaim> = resources
        .into_iter()
        .filter_map(|r| match r {
            Resource::Claim(c) => Some(*c),
            _ => None,
        })
        .collect();
    check::<Vec<PersistentVolumeClaim>>("executor-claims.json", &claims);
    // The template's sidecar stays; ember's container comes first.
    let names: Vec<_> = pod.spec.as_ref().unwrap().containers.iter().map(|c| c.name.clone()).collect();
    assert_eq!(names, ["ember", "log-shipper"]);
}

#[test]
fn driver_conf_map_carries_the_properties() {
    let mut conf = SparkConf::new();
    conf.set("spark.master", "k8s://https://api.example:6443");
    conf.set("spark.app.name", "etl");
    conf.set("spark.kubernetes.container.image", "ember:0.1");
    let (k, pod, resources) = ember_k8s::submit::prepare(&mut conf, "local:///opt/app/etl.py", &[]).unwrap();
    assert!(k.app_id.starts_with("spark-"));
    let map: ConfigMap = resources
        .iter()
        .find_map(|r| match r {
            Resource::ConfigMap(m) => Some(m.as_ref().clone()),
            _ => None,
        })
        .unwrap();
    let text = &map.data.as_ref().unwrap()["spark.properties"];
    let props: std::collections::BTreeMap<_, _> = SparkConf::parse_properties(text).into_iter().collect();
    assert_eq!(props["spark.master"], "k8s://https://api.example:6443");
    assert_eq!(props["spark.app.id"], k.app_id);
    assert_eq!(props["spark.submit.deployMode"], "cluster");
    assert!(props["spark.driver.host"].ends_with("-driver-svc.default.svc"));
    let c = &pod.spec.as_ref().unwrap().containers[0];
    let mount = c.volume_mounts.as_ref().unwrap().iter().find(|m| m.mount_path == "/opt/spark/conf").unwrap();
    let vol = pod.spec.as_ref().unwrap().volumes.as_ref().unwrap().iter().find(|v| v.name == mount.name).unwrap();
    assert_eq!(vol.config_map.as_ref().unwrap().name, map.metadata.name.clone().unwrap());
    assert_eq!(c.args.as_ref().unwrap()[..3], ["driver", "--properties-file", "/opt/spark/conf/spark.properties"]);
}

#[test]
fn bad_settings_are_clear_errors() {
    let mut c = SparkConf::new();
    c.set("spark.app.name", "etl");
    let k = KubernetesConf::new(c, "spark-x".into(), "etl-1".into());
    let e = build_driver(&k, "app.py", &[]).unwrap_err().to_string();
    assert!(e.contains("container image"), "{e}");
    let k = kconf(&[("spark.kubernetes.driver.secretKeyRef.PW", "no-colon")]);
    let e = build_driver(&k, "app.py", &[]).unwrap_err().to_string();
    assert!(e.contains("secret-name:key"), "{e}");
    let k = kconf(&[("spark.kubernetes.driver.volumes.iscsi.v.mount.path", "/x")]);
    let e = build_driver(&k, "app.py", &[]).unwrap_err().to_string();
    assert!(e.contains("unsupported volume type iscsi"), "{e}");
    let k = kconf(&[("spark.kubernetes.driver.podTemplateFile", "/nonexistent/template.yaml")]);
    let e = build_driver(&k, "app.py", &[]).unwrap_err().to_string();
    assert!(e.contains("cannot read the pod template"), "{e}");
}
