//! The Kubernetes error paths against a scripted API (kube's `tower-test`
//! mock): each test answers the client's requests as an API server would
//! and asserts what a user sees — 409 AlreadyExists, 422 Invalid, 403
//! Forbidden naming the RBAC verb, 404, 500, a watch's `410 Gone` and a
//! dropped watch stream.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use ember_common::SparkConf;
use ember_exec::{ClusterManager, ExecutorLaunch, ResourceProfile};
use ember_k8s::KubernetesClusterManager;
use ember_k8s::conf::KubernetesConf;
use ember_k8s::submit::{Submission, submit, wait_for_completion};
use http::{Method, Request, Response};
use kube::client::Body;
use serde_json::{Value, json};

/// What the scripted server answers: a status and a body, or `None` to
/// leave the request hanging (an idle watch).
type Answer = Option<(u16, String)>;

/// A client whose requests `respond` answers; the log records
/// `METHOD path?query` of each request.
fn scripted(
    mut respond: impl FnMut(&Method, &str, &Value) -> Answer + Send + 'static,
) -> (kube::Client, Arc<Mutex<Vec<String>>>) {
    let (svc, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let log = Arc::new(Mutex::new(vec![]));
    let log2 = log.clone();
    tokio::spawn(async move {
        let mut hanging = vec![];
        while let Some((req, send)) = handle.next_request().await {
            let (parts, body) = req.into_parts();
            let bytes = body.collect_bytes().await.unwrap();
            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let uri = parts.uri.path_and_query().map(|p| p.to_string()).unwrap_or_default();
            log2.lock().unwrap().push(format!("{} {uri}", parts.method));
            match respond(&parts.method, &uri, &body) {
                Some((code, text)) => {
                    send.send_response(Response::builder().status(code).body(Body::from(text.into_bytes())).unwrap())
                }
                None => hanging.push(send),
            }
        }
    });
    (kube::Client::new(svc, "default"), log)
}

fn status(code: u16, reason: &str, message: &str) -> Answer {
    Some((
        code,
        json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
               "message": message, "reason": reason, "code": code})
        .to_string(),
    ))
}

/// The object posted, as the API server returns it (with a uid).
fn created(body: &Value) -> Answer {
    let mut o = body.clone();
    o["metadata"]["uid"] = json!("0b0e0c1a-0000-4000-8000-000000000001");
    o["metadata"]["resourceVersion"] = json!("1");
    Some((201, o.to_string()))
}

fn conf() -> SparkConf {
    let mut c = SparkConf::new();
    c.set("spark.master", "k8s://https://api.example:6443");
    c.set("spark.app.name", "etl");
    c.set("spark.kubernetes.namespace", "spark");
    c.set("spark.kubernetes.container.image", "ember:0.1");
    c
}

#[tokio::test]
async fn forbidden_names_the_missing_rbac_verb() {
    let (client, log) = scripted(|m, uri, _| match (m.as_str(), uri) {
        ("POST", "/api/v1/namespaces/spark/pods?") | ("POST", "/api/v1/namespaces/spark/pods") => status(
            403,
            "Forbidden",
            r#"pods is forbidden: User "system:serviceaccount:spark:default" cannot create resource "pods" in API group "" in the namespace "spark""#,
        ),
        _ => status(500, "InternalError", "unexpected"),
    });
    let e = submit(&client, &mut conf(), "local:///opt/app/etl.py", &[]).await.unwrap_err();
    assert_eq!(e.code(), Some(403));
    let msg = e.to_string();
    assert!(msg.contains("cannot create driver pod etl-"), "{msg}");
    assert!(msg.contains("needs the RBAC verb 'create' on 'pods'"), "{msg}");
    assert!(msg.contains(r#"cannot create resource "pods""#), "{msg}");
    assert_eq!(log.lock().unwrap().len(), 1);
}

#[tokio::test]
async fn conflict_on_the_service_deletes_the_driver_pod() {
    let (client, log) = scripted(|m, uri, body| {
        let path = uri.split('?').next().unwrap_or_default();
        match (m.as_str(), path) {
            ("POST", "/api/v1/namespaces/spark/pods") => created(body),
            ("POST", "/api/v1/namespaces/spark/services") => {
                status(409, "AlreadyExists", r#"services "etl-driver-svc" already exists"#)
            }
            ("DELETE", p) if p.starts_with("/api/v1/namespaces/spark/pods/etl-") => {
                Some((200, json!({"kind": "Status", "status": "Success"}).to_string()))
            }
            _ => status(500, "InternalError", "unexpected"),
        }
    });
    let e = submit(&client, &mut conf(), "local:///opt/app/etl.py", &[]).await.unwrap_err();
    assert_eq!(e.code(), Some(409));
    assert!(
        e.to_string().contains("cannot create the driver service") && e.to_string().contains("409 Conflict"),
        "{e}"
    );
    let log = log.lock().unwrap().clone();
    assert_eq!(log.len(), 3, "{log:?}");
    assert!(log[2].starts_with("DELETE /api/v1/namespaces/spark/pods/etl-") && log[2].contains("-driver"), "{log:?}");
}

#[tokio::test]
async fn invalid_spec_is_reported_with_the_servers_reason() {
    let (client, _) = scripted(|m, _, _| match m.as_str() {
        "POST" => status(
            422,
            "Invalid",
            r#"Pod "etl-driver" is invalid: spec.containers[0].resources.requests[cpu]: Invalid value: "-1": must be greater than or equal to 0"#,
        ),
        _ => status(500, "InternalError", "unexpected"),
    });
    let mut c = conf();
    c.set("spark.kubernetes.driver.request.cores", "-1");
    let e = submit(&client, &mut c, "local:///opt/app/etl.py", &[]).await.unwrap_err();
    assert_eq!(e.code(), Some(422));
    assert!(e.to_string().contains("Invalid value: \"-1\"") && e.to_string().contains("422 Invalid"), "{e}");
}

#[tokio::test]
async fn a_missing_driver_pod_is_a_clear_error() {
    let (client, _) = scripted(|m, uri, _| match (m.as_str(), uri) {
        ("GET", "/api/v1/namespaces/spark/pods/etl-driver") => {
            status(404, "NotFound", r#"pods "etl-driver" not found"#)
        }
        _ => None,
    });
    let mut c = conf();
    c.set("spark.kubernetes.driver.pod.name", "etl-driver");
    let k = KubernetesConf::new(c, "spark-1".into(), "etl-1".into());
    let e = KubernetesClusterManager::new(client, k).await.err().unwrap().to_string();
    assert!(e.contains("No pod was found named etl-driver in the cluster in the namespace spark"), "{e}");
}

fn launch() -> (ExecutorLaunch, tokio::sync::mpsc::UnboundedReceiver<ember_exec::ExecutorExit>) {
    let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
    let l = ExecutorLaunch {
        app_id: "spark-1".into(),
        driver_url: "http://10.0.0.5:7078".into(),
        profile: ResourceProfile { cores: 1, memory_mib: 1024 },
        local_dir: std::env::temp_dir(),
        secret: None,
        exits: tx,
    };
    (l, rx)
}

/// An API server that accepts every pod and never shows one: lists stay
/// empty and watches idle.
fn pods_never_show_up() -> (kube::Client, Arc<Mutex<Vec<String>>>) {
    scripted(|m, uri, body| match m.as_str() {
        "POST" => created(body),
        "GET" if uri.contains("watch=true") => None,
        "GET" => empty_list(),
        _ => Some((200, json!({"kind": "Status", "status": "Success"}).to_string())),
    })
}

fn empty_list() -> Answer {
    Some((
        200,
        json!({"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "1"}, "items": []}).to_string(),
    ))
}

#[tokio::test]
async fn a_server_error_on_the_first_executor_pod_fails_start_up() {
    let (client, _) = scripted(|m, uri, _| match m.as_str() {
        "POST" => status(500, "InternalError", "etcdserver: request timed out"),
        "GET" if uri.contains("watch=true") => None,
        "GET" => empty_list(),
        _ => Some((200, json!({"kind": "Status", "status": "Success"}).to_string())),
    });
    let k = KubernetesConf::new(conf(), "spark-1".into(), "etl-1".into());
    let m = KubernetesClusterManager::new(client, k).await.unwrap();
    let (l, _rx) = launch();
    let e = m.request_executors(&["1".into()], &l).await.unwrap_err();
    assert!(
        e.contains("cannot create executor pod etl-1-exec-1") && e.contains("etcdserver: request timed out (500"),
        "{e}"
    );
    m.stop().await;
}

fn executor_pod(phase: &str, rv: &str, terminated: Option<(i32, &str)>) -> Value {
    let mut statuses = json!([]);
    if let Some((code, reason)) = terminated {
        statuses = json!([{"name": "spark-kubernetes-executor", "image": "ember:0.1", "imageID": "", "ready": false,
            "restartCount": 0, "state": {"terminated": {"exitCode": code, "reason": reason}}}]);
    }
    json!({"kind": "Pod", "apiVersion": "v1",
        "metadata": {"name": "etl-1-exec-1", "namespace": "spark", "uid": "u-1", "resourceVersion": rv,
                     "labels": {"spark-app-selector": "spark-1", "spark-role": "executor", "spark-exec-id": "1"}},
        "status": {"phase": phase, "containerStatuses": statuses}})
}

#[tokio::test]
async fn a_failed_executor_pod_is_reported_with_its_exit_code_and_deleted() {
    let watches = Arc::new(Mutex::new(0));
    let w = watches.clone();
    let (client, log) = scripted(move |m, uri, body| match m.as_str() {
        "POST" => created(body),
        "DELETE" => Some((200, executor_pod("Failed", "12", Some((137, "OOMKilled"))).to_string())),
        "GET" if uri.contains("watch=true") => {
            let mut n = w.lock().unwrap();
            *n += 1;
            if *n == 1 {
                let ev = json!({"type": "MODIFIED", "object": executor_pod("Failed", "11", Some((137, "OOMKilled")))});
                Some((200, format!("{ev}\n")))
            } else {
                None
            }
        }
        "GET" => Some((
            200,
            json!({"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "10"},
                                   "items": [executor_pod("Running", "10", None)]})
            .to_string(),
        )),
        _ => None,
    });
    let mut c = conf();
    c.set("spark.kubernetes.allocation.batch.delay", "100ms");
    let k = KubernetesConf::new(c, "spark-1".into(), "etl-1".into());
    let m = KubernetesClusterManager::new(client, k).await.unwrap();
    let (l, mut rx) = launch();
    m.request_executors(&["1".into()], &l).await.unwrap();
    let exit = tokio::time::timeout(Duration::from_secs(20), rx.recv()).await.unwrap().unwrap();
    assert_eq!(exit.executor_id, "1");
    assert_eq!(exit.exit_code, Some(137));
    assert!(exit.reason.contains("OOMKilled") && exit.reason.contains("out of memory"), "{}", exit.reason);
    // Deleted after it was reported (spark.kubernetes.executor.deleteOnTermination).
    for _ in 0..100 {
        if log.lock().unwrap().iter().any(|l| l.starts_with("DELETE /api/v1/namespaces/spark/pods/etl-1-exec-1")) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(log.lock().unwrap().iter().any(|l| l.starts_with("DELETE /api/v1/namespaces/spark/pods/etl-1-exec-1")));
    // Reported once, not again on the next snapshot.
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(rx.try_recv().is_err());
    m.stop().await;
}

fn driver_pod(phase: &str, rv: &str, exit: Option<i32>) -> Value {
    let statuses = match exit {
        Some(code) => json!([{"name": "spark-kubernetes-driver", "image": "ember:0.1", "imageID": "", "ready": false,
            "restartCount": 0, "state": {"terminated": {"exitCode": code, "reason": "Completed"}}}]),
        None => json!([]),
    };
    json!({"kind": "Pod", "apiVersion": "v1",
        "metadata": {"name": "etl-driver", "namespace": "spark", "uid": "d-1", "resourceVersion": rv},
        "status": {"phase": phase, "containerStatuses": statuses}})
}

#[tokio::test]
async fn waiting_for_the_driver_survives_410_gone_and_a_dropped_watch() {
    let step = Arc::new(Mutex::new(0));
    let s = step.clone();
    let (client, log) = scripted(move |_, uri, _| {
        let mut n = s.lock().unwrap();
        *n += 1;
        let list = |phase: &str, rv: &str| {
            Some((
                200,
                json!({"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": rv},
                              "items": [driver_pod(phase, rv, None)]})
                .to_string(),
            ))
        };
        let watch = uri.contains("watch=true");
        match (*n, watch) {
            (1, false) => list("Pending", "1"),
            // A Running event, then the connection drops.
            (2, true) => {
                Some((200, format!("{}\n", json!({"type": "MODIFIED", "object": driver_pod("Running", "2", None)}))))
            }
            // The history is gone: 410.
            (3, true) => Some((
                200,
                format!(
                    "{}\n",
                    json!({"type": "ERROR", "object":
                {"kind": "Status", "apiVersion": "v1", "status": "Failure", "message": "too old resource version: 2 (40)",
                 "reason": "Expired", "code": 410}})
                ),
            )),
            (4, false) => list("Running", "5"),
            (5, true) => Some((
                200,
                format!("{}\n", json!({"type": "MODIFIED", "object": driver_pod("Succeeded", "6", Some(0))})),
            )),
            _ => None,
        }
    });
    let sub = Submission {
        namespace: "spark".into(),
        driver_pod: "etl-driver".into(),
        app_id: "spark-1".into(),
        app_name: "etl".into(),
    };
    let mut lines = vec![];
    let (phase, code) = tokio::time::timeout(
        Duration::from_secs(30),
        wait_for_completion(&client, &sub, Duration::from_secs(3600), |l| lines.push(l.to_string())),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!((phase.as_str(), code), ("Succeeded", Some(0)));
    let log = log.lock().unwrap().clone();
    assert_eq!(log.len(), 5, "{log:?}");
    assert!(log[1].contains("resourceVersion=1") && log[2].contains("resourceVersion=2"), "{log:?}");
    assert!(!log[3].contains("watch=true"), "a 410 lists again: {log:?}");
    assert!(lines.iter().any(|l| l.contains("(phase: Running)")), "{lines:?}");
    assert!(lines.iter().any(|l| l.contains("exit code: 0")), "{lines:?}");
    assert!(lines.last().unwrap().contains("submission ID spark:etl-driver finished"), "{lines:?}");
}

#[tokio::test]
async fn a_pod_that_never_appears_is_reported_so_the_driver_asks_again() {
    // The API server accepts the pod but it never shows up in a listing or
    // the watch (say, an admission webhook dropped it).
    let (client, log) = pods_never_show_up();
    let mut c = conf();
    c.set("spark.kubernetes.allocation.batch.delay", "100ms");
    c.set("spark.kubernetes.allocation.executor.timeout", "200ms");
    let k = KubernetesConf::new(c, "spark-1".into(), "etl-1".into());
    let m = KubernetesClusterManager::new(client, k).await.unwrap();
    let (l, mut rx) = launch();
    m.request_executors(&["1".into()], &l).await.unwrap();
    let exit = tokio::time::timeout(Duration::from_secs(20), rx.recv()).await.unwrap().unwrap();
    assert_eq!(exit.executor_id, "1");
    // max(allocation.executor.timeout, 5 × batch.delay) = 500 ms.
    assert!(exit.reason.contains("etl-1-exec-1 was not seen within 500 ms"), "{}", exit.reason);
    assert!(log.lock().unwrap().iter().any(|l| l.starts_with("DELETE /api/v1/namespaces/spark/pods/etl-1-exec-1")));
    m.stop().await;
}

#[tokio::test]
async fn pods_are_created_in_batches_of_allocation_batch_size() {
    let visible = Arc::new(Mutex::new(false));
    let v = visible.clone();
    let (client, log) = scripted(move |m, uri, body| match m.as_str() {
        "POST" => created(body),
        "GET" if uri.contains("watch=true") => None,
        "GET" if *v.lock().unwrap() => {
            let pods: Vec<Value> = (1..=2)
                .map(|i| {
                    let mut p = executor_pod("Pending", "5", None);
                    p["metadata"]["name"] = json!(format!("etl-1-exec-{i}"));
                    p["metadata"]["labels"]["spark-exec-id"] = json!(i.to_string());
                    p
                })
                .collect();
            Some((
                200,
                json!({"kind": "PodList", "apiVersion": "v1", "metadata": {"resourceVersion": "5"}, "items": pods})
                    .to_string(),
            ))
        }
        "GET" => empty_list(),
        _ => Some((200, json!({"kind": "Status", "status": "Success"}).to_string())),
    });
    let mut c = conf();
    c.set("spark.kubernetes.allocation.batch.size", "2");
    c.set("spark.kubernetes.allocation.batch.delay", "100ms");
    c.set("spark.kubernetes.executor.apiPollingInterval", "100ms");
    let k = KubernetesConf::new(c, "spark-1".into(), "etl-1".into());
    let m = KubernetesClusterManager::new(client, k).await.unwrap();
    let (l, _rx) = launch();
    let ids: Vec<String> = (1..=5).map(|i| i.to_string()).collect();
    m.request_executors(&ids, &l).await.unwrap();
    let posts = |log: &Arc<Mutex<Vec<String>>>| -> Vec<String> {
        log.lock().unwrap().iter().filter(|l| l.starts_with("POST")).cloned().collect()
    };
    // One batch of 2; the next waits until those pods show up.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(posts(&log).len(), 2, "{:?}", log.lock().unwrap());
    *visible.lock().unwrap() = true;
    tokio::time::sleep(Duration::from_millis(800)).await;
    // The next batch of 2 went out; the fifth waits for them in turn.
    assert_eq!(posts(&log).len(), 4, "{:?}", log.lock().unwrap());
    m.stop().await;
}
