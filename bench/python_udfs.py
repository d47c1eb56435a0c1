"""Python UDFs side by side: the same PySpark code against running Spark
Connect servers, best of RUNS (default 3) seconds per case, and each
server's time as a ratio of the first's.

    python bench/python_udfs.py sc://127.0.0.1:15002 sc://127.0.0.1:15003

Each server runs in a process of its own (one client session per process).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pandas as pd

ROWS = 1_000_000
CASES = ("udf", "pandas_udf", "udf in an aggregate", "mapInPandas", "applyInPandas", "grouped agg pandas_udf")


def measure(url: str) -> dict[str, float]:
    from pyspark.sql import SparkSession
    from pyspark.sql import functions as F

    spark = SparkSession.builder.remote(url).getOrCreate()
    df = spark.range(0, ROWS, numPartitions=2)
    plus = F.udf(lambda x: x + 1, "long")

    @F.pandas_udf("long")
    def pplus(s: pd.Series) -> pd.Series:
        return s + 1

    @F.pandas_udf("double")
    def pmean(s: pd.Series) -> float:
        return s.mean()

    groups = df.withColumn("g", F.col("id") % 1000)
    run = {
        "udf": lambda: df.select(plus("id").alias("x")).agg(F.sum("x")).collect(),
        "pandas_udf": lambda: df.select(pplus("id").alias("x")).agg(F.sum("x")).collect(),
        "udf in an aggregate": lambda: df.select(F.sum(plus("id"))).collect(),
        "mapInPandas": lambda: df.mapInPandas(lambda it: (p[p.id % 2 == 0] for p in it), "id long").count(),
        "applyInPandas": lambda: groups.groupBy("g").applyInPandas(lambda p: p.head(1), "id long, g long").count(),
        "grouped agg pandas_udf": lambda: groups.groupBy("g").agg(pmean("id")).count(),
    }
    out = {}
    for name in CASES:
        run[name]()  # warm-up: workers started, modules imported
        best = float("inf")
        for _ in range(int(os.environ.get("RUNS", "3"))):
            t0 = time.perf_counter()
            run[name]()
            best = min(best, time.perf_counter() - t0)
        out[name] = best
    return out


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--one":
        print(json.dumps(measure(sys.argv[2])))
        return
    urls = sys.argv[1:]
    if not urls:
        sys.exit(__doc__)
    results = []
    for url in urls:
        proc = subprocess.run([sys.executable, __file__, "--one", url], capture_output=True, text=True)
        if proc.returncode != 0:
            sys.exit(f"{url}: {proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else proc.returncode}")
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    print(f"{'case (' + str(ROWS) + ' rows)':<28}" + "".join(f"{u:>26}" for u in urls) + "   ratios to the first")
    for name in CASES:
        times = [r[name] for r in results]
        ratios = " ".join(f"{t / times[0]:.2f}" for t in times[1:])
        print(f"{name:<28}" + "".join(f"{t:>25.3f}s" for t in times) + f"   {ratios}")


if __name__ == "__main__":
    main()
