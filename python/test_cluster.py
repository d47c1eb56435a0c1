"""The distributed runtime through pyspark-client: ``local-cluster[N,C,M]`` masters run
queries on executor processes and give exactly the answers of ``local[2]``; executors
killed with SIGKILL are replaced and their work redone; ``ember submit`` runs applications
on local-cluster masters in client and cluster deploy modes.

These tests start their own ember servers, so they need ``EMBER_BIN`` (Apache Spark's
local-cluster mode needs a Spark distribution, not the client this suite validates with).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from conftest import TPCH_TABLES, _EmberServer
from test_tpch import _load, _run_spark

MASTERS = ("local[2]", "local-cluster[2,1,2g]", "local-cluster[3,2,2g]")


@pytest.fixture(scope="module")
def ember_only(ember_bin):
    if not ember_bin:
        pytest.skip("starts ember servers with local-cluster masters: needs EMBER_BIN")
    return ember_bin


def _start(binary: str, master: str, *conf: str) -> _EmberServer:
    args = ["--master", master, "--conf", "spark.sql.shuffle.partitions=6"]
    for c in conf:
        args += ["--conf", c]
    server = _EmberServer(binary, tuple(args))
    server.start()
    return server


@pytest.fixture(scope="module")
def sessions(ember_only, tpch_data):
    """One session per master, with the TPC-H tables as temp views."""
    from pyspark.sql import SparkSession

    servers, out = [], {}
    try:
        for master in MASTERS:
            server = _start(ember_only, master)
            servers.append(server)
            spark = SparkSession.builder.remote(server.url).create()
            for t in TPCH_TABLES:
                spark.read.parquet(str(tpch_data / f"{t}.parquet")).createOrReplaceTempView(t)
            out[master] = spark
        yield out
    finally:
        for spark in out.values():
            try:
                spark.stop()
            except Exception:
                pass
        for server in servers:
            server.stop()


@pytest.mark.parametrize("q", range(1, 23), ids=lambda q: f"q{q}")
def test_tpch_same_answers_on_every_master(q, sessions):
    stmts = _load(q)
    results = {master: _run_spark(spark, stmts) for master, spark in sessions.items()}
    local_schema, local_rows = results["local[2]"]
    assert local_rows, f"q{q} returned no rows in local[2]"
    for master, (schema, rows) in results.items():
        assert schema == local_schema, f"q{q} on {master}"
        assert [tuple(r) for r in rows] == [tuple(r) for r in local_rows], f"q{q} on {master}"


def _executor_pids(server: _EmberServer) -> set[int]:
    """The `ember executor` processes the server started."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            ppid = int(stat.rsplit(")", 1)[1].split()[1])
            cmdline = (entry / "cmdline").read_bytes().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if server.proc and ppid == server.proc.pid and b"executor" in cmdline:
            pids.add(int(entry.name))
    return pids


def _wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


SHUFFLE_HEAVY = """
    SELECT o_orderpriority, count(*) AS n, sum(l_extendedprice) AS price, count(DISTINCT l_suppkey) AS suppliers
    FROM orders JOIN lineitem ON o_orderkey = l_orderkey
    GROUP BY o_orderpriority ORDER BY o_orderpriority
"""


def test_executor_killed_with_sigkill_is_replaced_and_its_work_redone(ember_only, tpch_data):
    from pyspark.sql import SparkSession

    server = _start(ember_only, "local-cluster[2,1,1g]", "spark.executor.heartbeatInterval=1s")
    try:
        assert _wait_for(lambda: len(_executor_pids(server)) == 2), "two executor processes"
        spark = SparkSession.builder.remote(server.url).create()
        for t in ("orders", "lineitem"):
            spark.read.parquet(str(tpch_data / f"{t}.parquet")).createOrReplaceTempView(t)
        expected = spark.sql(SHUFFLE_HEAVY).collect()
        assert len(expected) == 5

        before = _executor_pids(server)
        result: dict = {}

        def query():
            try:
                result["rows"] = spark.sql(SHUFFLE_HEAVY).collect()
            except Exception as e:  # reported below
                result["error"] = e

        t = threading.Thread(target=query)
        t.start()
        time.sleep(0.2)
        victim = min(before)
        os.kill(victim, signal.SIGKILL)
        t.join(timeout=120)
        assert not t.is_alive(), "the query finished"
        assert "error" not in result, f"the query failed: {result.get('error')}"
        assert result["rows"] == expected

        # The lost executor is replaced by a new process.
        assert _wait_for(lambda: len(_executor_pids(server) - before) >= 1 and len(_executor_pids(server)) == 2)
        assert spark.sql(SHUFFLE_HEAVY).collect() == expected
        spark.stop()
    finally:
        server.stop()
    # Stopping the application stops its executors.
    assert _wait_for(lambda: not _executor_pids(server), timeout=15)


APP = """
import sys
from pyspark.sql import SparkSession
spark = SparkSession.builder.getOrCreate()
n = spark.range(0, 100000, numPartitions=4).selectExpr("id % 7 AS k").groupBy("k").count().count()
print(f"groups={n} master={spark.conf.get('spark.master')} mode={spark.conf.get('spark.submit.deployMode')}")
spark.stop()
sys.exit(int(sys.argv[1]))
"""


@pytest.mark.parametrize("mode", ["client", "cluster"])
def test_submit_on_local_cluster_returns_the_application_exit_code(ember_only, tmp_path, mode):
    app = tmp_path / "app.py"
    app.write_text(APP)
    env = dict(os.environ, PYSPARK_PYTHON=sys.executable)
    for code in (0, 3):
        proc = subprocess.run(
            [ember_only, "submit", "--master", "local-cluster[2,1,1g]", "--deploy-mode", mode,
             "--conf", "spark.ui.showConsoleProgress=false", str(app), str(code)],
            capture_output=True, text=True, timeout=180, env=env,
        )  # fmt: skip
        assert proc.returncode == code, proc.stderr
        assert f"groups=7 master=local-cluster[2,1,1g] mode={mode}" in proc.stdout
        if mode == "cluster":
            state = "Succeeded" if code == 0 else "Failed"
            assert f"finished with state {state} (exit code {code})" in proc.stderr


def test_multi_line_json_reads_the_same_on_every_master(sessions, tmp_path):
    # The plan codec cannot carry the multi-line setting: such scans run in the driver.
    path = tmp_path / "multi.json"
    path.write_text('[\n  {"a": 1, "b": "x"},\n  {"a": 2, "b": null}\n]\n')
    for master, spark in sessions.items():
        df = spark.read.option("multiLine", True).json(str(path)).groupBy("b").count().orderBy("b")
        assert [tuple(r) for r in df.collect()] == [(None, 1), ("x", 1)], master


def test_submit_puts_py_files_on_the_path(ember_only, tmp_path):
    # A .py module and a .zip package, as spark-submit --py-files takes them.
    import zipfile

    (tmp_path / "deps").mkdir()
    (tmp_path / "deps" / "helper.py").write_text("GREETING = 'hello'\n")
    with zipfile.ZipFile(tmp_path / "pkg.zip", "w") as z:
        z.writestr("pkg/__init__.py", "ANSWER = 42\n")
    app = tmp_path / "app.py"
    app.write_text("import helper, pkg\nprint(helper.GREETING, pkg.ANSWER)\n")
    proc = subprocess.run(
        [ember_only, "submit", "--master", "local[1]",
         "--py-files", f"{tmp_path / 'deps' / 'helper.py'},{tmp_path / 'pkg.zip'}", str(app)],
        capture_output=True, text=True, timeout=120, env=dict(os.environ, PYSPARK_PYTHON=sys.executable),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "hello 42" in proc.stdout


def test_python_udfs_give_the_same_answers_on_every_master(sessions):
    # Stage plans carry Python functions to executors, which run them in their own workers.
    from pyspark.sql import functions as F

    def per_master(spark):
        band = F.udf(lambda p: "high" if p > 100000 else "low")
        half = F.pandas_udf(lambda s: s / 2, "double")
        lines = spark.table("lineitem").where("l_orderkey < 2000").select(
            "l_orderkey",
            F.col("l_extendedprice").cast("double").alias("price"),
            F.col("l_quantity").cast("double").alias("qty"),
        )
        by_band = (
            lines.withColumn("band", band("price"))
            .groupBy("band")
            .agg(F.count("*").alias("n"), F.round(F.sum(half("qty")), 2).alias("q"))
            .orderBy("band")
        )

        def top_line(pdf: pd.DataFrame) -> pd.DataFrame:
            return pdf.nlargest(1, "price")[["l_orderkey", "price"]]

        top = lines.groupBy("l_orderkey").applyInPandas(top_line, "l_orderkey long, price double").orderBy("l_orderkey")
        @F.pandas_udf("double")
        def mean_qty(s: pd.Series) -> float:
            return s.mean()

        means = lines.groupBy("l_orderkey").agg(mean_qty("qty").alias("m")).orderBy("l_orderkey")
        return [[tuple(r) for r in df.collect()] for df in (by_band, top, means)]

    results = {master: per_master(spark) for master, spark in sessions.items()}
    local = results["local[2]"]
    assert all(local)
    for master, got in results.items():
        assert got == local, master


def test_submit_py_files_reach_python_udfs(ember_only, tmp_path):
    # A UDF that uses a module from --py-files imports it in the Python worker.
    (tmp_path / "deps").mkdir()
    (tmp_path / "deps" / "helper.py").write_text("def shout(s):\n    return s.upper() + '!'\n")
    app = tmp_path / "app.py"
    app.write_text(
        "import helper\n"
        "from pyspark.sql import SparkSession, functions as F\n"
        "spark = SparkSession.builder.getOrCreate()\n"
        "shout = F.udf(lambda s: helper.shout(s))\n"
        "print(spark.createDataFrame([('hi',)], ['w']).select(shout('w')).first()[0])\n"
    )
    proc = subprocess.run(
        [ember_only, "submit", "--master", "local[1]", "--py-files", str(tmp_path / "deps" / "helper.py"), str(app)],
        capture_output=True, text=True, timeout=120, env=dict(os.environ, PYSPARK_PYTHON=sys.executable),
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "HI!" in proc.stdout
