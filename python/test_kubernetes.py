"""Spark on Kubernetes, end to end, against a real API server.

The module starts a control plane built from the Go module proxy
(``scripts/k8s-control-plane.sh``: etcd, kube-apiserver, kube-controller-manager,
kube-scheduler) and ember's test node agent (``ember-test-node``, a "process
kubelet" that runs pods as local ember processes with their own 127.0.1.x address).
Applications are submitted with ``ember submit --master k8s://...`` in cluster and
client mode; the tests read the pods, Services and ConfigMaps back from the API
server.

Needs ``EMBER_BIN`` and ``EMBER_TEST_NODE_BIN`` (``make test`` sets both).
"""

from __future__ import annotations

import json
import os
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml

from conftest import REPO_ROOT, _tail

NAMESPACE = "spark"


class Api:
    """The few REST calls the tests need, with a client certificate."""

    def __init__(self, url: str, pki: Path, user: str = "admin"):
        self.url = url
        self.ctx = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        self.ctx.load_cert_chain(str(pki / f"{user}.crt"), str(pki / f"{user}.key"))

    def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method)
        req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=30) as r:
                return r.status, json.loads(r.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")

    def get(self, path: str) -> dict:
        code, body = self.call("GET", path)
        assert code == 200, (path, code, body)
        return body

    def pods(self, selector: str) -> list[dict]:
        q = urllib.parse.quote(selector)
        return self.get(f"/api/v1/namespaces/{NAMESPACE}/pods?labelSelector={q}")["items"]

    def items(self, kind: str, selector: str) -> list[dict]:
        q = urllib.parse.quote(selector)
        return self.get(f"/api/v1/namespaces/{NAMESPACE}/{kind}?labelSelector={q}")["items"]

    def apply_yaml(self, path: Path) -> None:
        paths = {
            "ServiceAccount": "/api/v1/namespaces/{ns}/serviceaccounts",
            "Role": "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/roles",
            "RoleBinding": "/apis/rbac.authorization.k8s.io/v1/namespaces/{ns}/rolebindings",
        }
        for doc in yaml.safe_load_all(path.read_text()):
            ns = doc["metadata"].get("namespace", NAMESPACE)
            code, body = self.call("POST", paths[doc["kind"]].format(ns=ns), doc)
            assert code in (201, 409), body


def wait_for(predicate, timeout: float = 60.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.25)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


class Cluster:
    def __init__(self, root: Path):
        self.root = root
        env = dict(line.split("=", 1) for line in (root / "env").read_text().split())
        self.url = env["EMBER_K8S_API"]
        self.kubeconfig = env["KUBECONFIG"]
        self.api = Api(self.url, root / "pki")
        self.limited = Api(self.url, root / "pki", "limited")
        self.node_dir = root / "node"
        self.node_proc: subprocess.Popen | None = None

    @property
    def master(self) -> str:
        return f"k8s://{self.url}"

    def driver_log(self, pod_name: str) -> str:
        logs = sorted(self.node_dir.glob(f"{NAMESPACE}_{pod_name}_*/spark-kubernetes-driver.log"))
        return logs[-1].read_text(errors="replace") if logs else "<no driver log>"


@pytest.fixture(scope="module")
def cluster(ember_bin):
    if not ember_bin:
        pytest.skip("runs ember pods on a real API server: needs EMBER_BIN")
    node_bin = os.environ.get("EMBER_TEST_NODE_BIN")
    assert node_bin and Path(node_bin).is_file(), "EMBER_TEST_NODE_BIN must name the ember-test-node binary"
    root = Path(tempfile.mkdtemp(prefix="ember-k8s-"))
    script = REPO_ROOT / "scripts" / "k8s-control-plane.sh"
    started = subprocess.run(["bash", str(script), "start", str(root)], capture_output=True, text=True, timeout=3600)
    assert started.returncode == 0, f"the control plane did not start:\n{started.stderr[-4000:]}"
    c = Cluster(root)
    try:
        c.node_dir.mkdir()
        log = open(root / "logs" / "test-node.log", "w")
        c.node_proc = subprocess.Popen(
            [node_bin, "--kubeconfig", c.kubeconfig, "--ember", ember_bin, "--work-dir", str(c.node_dir)],
            stdout=log, stderr=subprocess.STDOUT,
        )  # fmt: skip
        wait_for(lambda: c.api.call("GET", "/api/v1/nodes/ember-test-node")[0] == 200, 60, "the test node")
        code, body = c.api.call("POST", "/api/v1/namespaces", {"metadata": {"name": NAMESPACE}})
        assert code in (201, 409), body
        wait_for(lambda: c.api.call("GET", f"/api/v1/namespaces/{NAMESPACE}/serviceaccounts/default")[0] == 200,
                 60, "the default service account")  # fmt: skip
        c.api.apply_yaml(REPO_ROOT / "deploy" / "rbac.yaml")
        yield c
    finally:
        if c.node_proc:
            c.node_proc.terminate()
            try:
                c.node_proc.wait(10)
            except subprocess.TimeoutExpired:
                c.node_proc.kill()
        subprocess.run(["bash", str(script), "stop", str(root)], timeout=60)


# The application: a shuffle (groupBy) whose answer the test knows. It writes its
# answer to OUT, and with a GATE directory it says "running" and waits for "go".
APP = """
import json, os, sys, time
from pyspark.sql import SparkSession, functions as F
out, gate = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else "")
spark = SparkSession.builder.getOrCreate()
spark.range(0, 10).count()  # executors are up
if gate:
    open(os.path.join(gate, "running"), "w").close()
    deadline = time.time() + 120
    while not os.path.exists(os.path.join(gate, "go")) and time.time() < deadline:
        time.sleep(0.2)
rows = (spark.range(0, 3_000_000).withColumn("k", F.col("id") % 7)
        .groupBy("k").agg(F.count("*").alias("n"), F.sum("id").alias("s")).orderBy("k").collect())
with open(out + ".tmp", "w") as f:
    json.dump([[r["k"], r["n"], r["s"]] for r in rows], f)
os.rename(out + ".tmp", out)
if gate and os.path.exists(os.path.join(gate, "hold")):  # the test ends the application
    deadline = time.time() + 120
    while not os.path.exists(os.path.join(gate, "end")) and time.time() < deadline:
        time.sleep(0.2)
spark.stop()
"""


def expected() -> list[list[int]]:
    n = 3_000_000
    return [[k, len(range(k, n, 7)), sum(range(k, n, 7))] for k in range(7)]


def submit_args(c: Cluster, mode: str, *conf: str) -> list[str]:
    args = ["submit", "--master", c.master, "--deploy-mode", mode, "--name", "etl",
            "--num-executors", "2", "--executor-cores", "1", "--executor-memory", "512m", "--driver-memory", "512m",
            "--conf", f"spark.kubernetes.namespace={NAMESPACE}",
            "--conf", "spark.kubernetes.container.image=ember:test",
            "--conf", "spark.ui.showConsoleProgress=false",
            "--conf", "spark.sql.shuffle.partitions=4",
            "--conf", "spark.kubernetes.allocation.batch.delay=200ms",
            "--conf", "spark.kubernetes.executor.apiPollingInterval=2s"]  # fmt: skip
    if mode == "cluster":
        args += ["--conf", "spark.kubernetes.authenticate.driver.serviceAccountName=spark",
                 "--conf", f"spark.kubernetes.driver.master={c.url}",
                 "--conf", "spark.kubernetes.executor.useDriverPodIP=true",
                 "--conf", f"spark.kubernetes.driverEnv.PYSPARK_PYTHON={sys.executable}",
                 "--conf", "spark.kubernetes.submission.waitAppCompletion=true",
                 "--conf", "spark.kubernetes.report.interval=2s"]  # fmt: skip
    for kv in conf:
        args += ["--conf", kv]
    return args


def run_submit(c: Cluster, ember_bin: str, args: list[str], kubeconfig: str | None = None, **kw):
    env = dict(os.environ, KUBECONFIG=kubeconfig or c.kubeconfig, PYSPARK_PYTHON=sys.executable)
    return subprocess.Popen([ember_bin, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, **kw)


def owner_uids(obj: dict) -> list[str]:
    return [o["uid"] for o in obj["metadata"].get("ownerReferences", []) if o.get("controller")]


def test_cluster_mode_runs_the_driver_in_a_pod_with_executor_pods(cluster, ember_bin, tmp_path):
    out, gate = tmp_path / "out.json", tmp_path / "gate"
    gate.mkdir()
    app = tmp_path / "etl.py"
    app.write_text(APP)
    proc = run_submit(cluster, ember_bin,
                      submit_args(cluster, "cluster", "spark.kubernetes.driver.label.team=data",
                                  "spark.kubernetes.executor.annotation.owner=etl@example.com")
                      + [f"local://{app}", str(out), str(gate)])  # fmt: skip
    try:
        wait_for(lambda: (gate / "running").exists() or proc.poll() is not None, 120, "the application to start")
        assert proc.poll() is None, proc.communicate()[1]
        drivers = cluster.api.pods("spark-role=driver,team=data")
        assert len(drivers) == 1
        driver = drivers[0]
        name = driver["metadata"]["name"]
        app_id = driver["metadata"]["labels"]["spark-app-selector"]
        assert name.startswith("etl-") and name.endswith("-driver")
        assert app_id.startswith("spark-") and len(app_id) == 38
        assert driver["metadata"]["labels"]["spark-app-name"] == "etl"
        spec = driver["spec"]
        assert spec["restartPolicy"] == "Never" and spec["serviceAccountName"] == "spark"
        container = spec["containers"][0]
        assert container["name"] == "spark-kubernetes-driver" and container["image"] == "ember:test"
        # 512 MiB + max(0.4 × 512, 384) MiB for a Python application.
        assert container["resources"]["limits"]["memory"] == container["resources"]["requests"]["memory"] == "896Mi"
        assert {p["containerPort"] for p in container["ports"]} == {7078, 7079, 4040}

        executors = wait_for(lambda: [p for p in cluster.api.pods(f"spark-app-selector={app_id},spark-role=executor")
                                      if p["status"].get("phase") == "Running"] or None, 60, "executor pods")  # fmt: skip
        executors = cluster.api.pods(f"spark-app-selector={app_id},spark-role=executor")
        assert len(executors) == 2
        prefix = name[: -len("-driver")]
        assert sorted(p["metadata"]["name"] for p in executors) == [f"{prefix}-exec-1", f"{prefix}-exec-2"]
        for p in executors:
            assert owner_uids(p) == [driver["metadata"]["uid"]]
            assert p["metadata"]["annotations"]["owner"] == "etl@example.com"
            assert p["metadata"]["labels"]["spark-exec-id"] in ("1", "2")
            assert p["spec"]["containers"][0]["resources"]["requests"]["memory"] == "896Mi"

        services = cluster.api.items("services", f"spark-app-selector={app_id}")
        assert [s["metadata"]["name"] for s in services] == [f"{prefix}-driver-svc"]
        assert services[0]["spec"]["clusterIP"] == "None"
        assert owner_uids(services[0]) == [driver["metadata"]["uid"]]
        maps = cluster.api.items("configmaps", f"spark-app-selector={app_id}")
        assert len(maps) == 1 and "spark.properties" in maps[0]["data"]
        assert owner_uids(maps[0]) == [driver["metadata"]["uid"]]

        # --status finds it by glob.
        status = subprocess.run([ember_bin, "submit", "--master", cluster.master, "--status", f"{NAMESPACE}:etl-*"],
                                capture_output=True, text=True, timeout=60,
                                env=dict(os.environ, KUBECONFIG=cluster.kubeconfig))  # fmt: skip
        assert status.returncode == 0, status.stderr
        assert f"pod name: {name}" in status.stdout and "phase: Running" in status.stdout

        (gate / "go").touch()
        stdout, stderr = proc.communicate(timeout=180)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, stderr + "\n--- driver log ---\n" + cluster.driver_log(name)
    assert json.loads(out.read_text()) == expected()
    assert "finished with state Succeeded (exit code 0)" in stderr
    assert f"submission ID {NAMESPACE}:{name} finished" in stderr
    # Clean-up: executors, Service and ConfigMap gone; the driver pod stays Succeeded.
    wait_for(lambda: not cluster.api.pods(f"spark-app-selector={app_id},spark-role=executor"), 60, "executor pods to go")
    assert not cluster.api.items("services", f"spark-app-selector={app_id}")
    assert not cluster.api.items("configmaps", f"spark-app-selector={app_id}")
    driver = cluster.api.get(f"/api/v1/namespaces/{NAMESPACE}/pods/{name}")
    assert driver["status"]["phase"] == "Succeeded"


def test_cluster_mode_returns_the_applications_exit_code(cluster, ember_bin, tmp_path):
    # The exit code comes from a module shipped with --py-files.
    (tmp_path / "deps").mkdir()
    (tmp_path / "deps" / "exitcodes.py").write_text("FAILED = 3\n")
    app = tmp_path / "fail.py"
    app.write_text("import sys, exitcodes\nfrom pyspark.sql import SparkSession\n"
                   "SparkSession.builder.getOrCreate().range(3).count()\nsys.exit(exitcodes.FAILED)\n")  # fmt: skip
    proc = run_submit(cluster, ember_bin, submit_args(cluster, "cluster")
                      + ["--py-files", f"local://{tmp_path / 'deps' / 'exitcodes.py'}", f"local://{app}"])  # fmt: skip
    _, stderr = proc.communicate(timeout=180)
    assert proc.returncode == 3, stderr
    assert "finished with state Failed (exit code 3)" in stderr
    name = stderr.split("submission ID ")[1].split()[0].split(":")[1]
    driver = cluster.api.get(f"/api/v1/namespaces/{NAMESPACE}/pods/{name}")
    assert driver["status"]["phase"] == "Failed"
    assert driver["status"]["containerStatuses"][0]["state"]["terminated"]["exitCode"] == 3


def test_client_mode_runs_executors_as_pods(cluster, ember_bin, tmp_path):
    out = tmp_path / "out.json"
    app = tmp_path / "etl.py"
    app.write_text(APP)
    # Executor pods are kept at the end, so the test can read what ran.
    args = submit_args(cluster, "client", "spark.kubernetes.executor.deleteOnTermination=false")
    proc = run_submit(cluster, ember_bin, args + [str(app), str(out)])
    stdout, stderr = proc.communicate(timeout=180)
    assert proc.returncode == 0, stderr
    assert json.loads(out.read_text()) == expected()
    execs = [p for p in cluster.api.pods("spark-role=executor")
             if p["metadata"]["labels"]["spark-app-selector"].startswith("spark-application-")]  # fmt: skip
    try:
        assert sorted(p["metadata"]["labels"]["spark-exec-id"] for p in execs) == ["1", "2"]
        for p in execs:
            # No driver pod, so no owner; the executor ran and was stopped cleanly.
            assert not p["metadata"].get("ownerReferences")
            wait_for(lambda: cluster.api.get(f"/api/v1/namespaces/{NAMESPACE}/pods/{p['metadata']['name']}")
                     ["status"].get("phase") == "Succeeded", 60, "the executor pod to succeed")  # fmt: skip
    finally:
        for p in execs:
            cluster.api.call("DELETE", f"/api/v1/namespaces/{NAMESPACE}/pods/{p['metadata']['name']}")
    wait_for(lambda: not [p for p in cluster.api.pods("spark-role=executor")
                          if p["metadata"]["labels"]["spark-app-selector"].startswith("spark-application-")],
             60, "the kept executor pods to be deleted")  # fmt: skip


def test_an_executor_pod_deleted_mid_job_is_replaced(cluster, ember_bin, tmp_path):
    out, gate = tmp_path / "out.json", tmp_path / "gate"
    gate.mkdir()
    app = tmp_path / "etl.py"
    app.write_text(APP)
    (gate / "go").touch()  # no pause: the query starts right after "running"
    (gate / "hold").touch()  # the application stays up until the replacement pod is seen
    proc = run_submit(cluster, ember_bin, submit_args(cluster, "client") + [str(app), str(out), str(gate)])
    seen: set[str] = set()
    done = threading.Event()

    def watch_pods():  # every executor pod of client-mode applications, while the test runs
        while not done.is_set():
            seen.update(p["metadata"]["name"] for p in cluster.api.pods("spark-role=executor")
                        if p["metadata"]["labels"]["spark-app-selector"].startswith("spark-application-"))
            time.sleep(0.1)

    poller = threading.Thread(target=watch_pods, daemon=True)
    poller.start()
    try:
        wait_for(lambda: (gate / "running").exists() or proc.poll() is not None, 120, "the application to start")
        execs = [p for p in cluster.api.pods("spark-role=executor") if p["status"].get("phase") == "Running"
                 and p["metadata"]["labels"]["spark-app-selector"].startswith("spark-application-")]  # fmt: skip
        assert execs, "no running executor pod"
        victim = execs[0]["metadata"]["name"]
        code, body = cluster.api.call("DELETE", f"/api/v1/namespaces/{NAMESPACE}/pods/{victim}")
        assert code == 200, body
        prefix = victim.rsplit("-exec-", 1)[0]
        wait_for(lambda: f"{prefix}-exec-3" in seen or proc.poll() is not None, 60, "a replacement executor pod")
        (gate / "end").touch()
        stdout, stderr = proc.communicate(timeout=240)
    finally:
        done.set()
        if proc.poll() is None:
            proc.kill()
    poller.join()
    assert proc.returncode == 0, stderr
    assert json.loads(out.read_text()) == expected()
    # The driver heard of the deletion and asked for a third executor pod.
    assert "The executor pod was deleted" in stderr, stderr
    assert f"{prefix}-exec-3" in seen, sorted(seen)


def test_deleting_the_driver_pod_garbage_collects_its_executors(cluster, ember_bin, tmp_path):
    gate = tmp_path / "gate"
    gate.mkdir()
    app = tmp_path / "etl.py"
    app.write_text(APP)
    proc = run_submit(cluster, ember_bin,
                      submit_args(cluster, "cluster", "spark.kubernetes.submission.waitAppCompletion=false")
                      + [f"local://{app}", str(tmp_path / "out.json"), str(gate)])  # fmt: skip
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode == 0, stderr
    assert "not waiting for application etl to complete" in stderr
    sub_id = stderr.split("submission ID ")[1].split()[0]
    wait_for(lambda: (gate / "running").exists(), 120, "the application to start")
    name = sub_id.split(":")[1]
    app_id = cluster.api.get(f"/api/v1/namespaces/{NAMESPACE}/pods/{name}")["metadata"]["labels"]["spark-app-selector"]
    assert len(cluster.api.pods(f"spark-app-selector={app_id},spark-role=executor")) == 2
    killed = subprocess.run([ember_bin, "submit", "--master", cluster.master, "--kill", sub_id],
                            capture_output=True, text=True, timeout=60,
                            env=dict(os.environ, KUBECONFIG=cluster.kubeconfig))  # fmt: skip
    assert killed.returncode == 0, killed.stderr
    assert f"deleted driver pod {sub_id}" in killed.stderr
    # The garbage collector deletes what the driver pod owned.
    wait_for(lambda: not cluster.api.pods(f"spark-app-selector={app_id}"), 90, "the driver's pods to be collected")
    wait_for(lambda: not cluster.api.items("services", f"spark-app-selector={app_id}"), 60, "the driver service to go")


def test_a_missing_rbac_permission_is_a_clear_error(cluster, ember_bin, tmp_path):
    limited = Path(cluster.kubeconfig).with_name("limited.kubeconfig")
    app = tmp_path / "etl.py"
    app.write_text(APP)
    # Cluster mode: the submitting user may not create pods.
    proc = run_submit(cluster, ember_bin, submit_args(cluster, "cluster") + [f"local://{app}", "x"], str(limited))
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert 'User "ember-limited" cannot create resource "pods"' in stderr, stderr
    assert "needs the RBAC verb 'create' on 'pods'" in stderr, stderr
    # Client mode: the driver may not create executor pods.
    proc = run_submit(cluster, ember_bin, submit_args(cluster, "client") + [str(app), "x"], str(limited))
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert "cannot create executor pod" in stderr and "needs the RBAC verb 'create' on 'pods'" in stderr, stderr
