#!/usr/bin/env python3
"""How long until a fresh Spark Connect server answers its first query?

Starts the server command itself and measures from process start to a
successful `spark.range(1).collect()` through the PySpark Connect client
(the client is imported before the clock starts). Repeats --runs times and
prints one JSON line with the best and median of each measure:

  port_s   process start -> the port accepts TCP connections
  ready_s  process start -> first `spark.range(1).collect()` returned

Usage: session_start.py --name ember --port 15002 [--runs 3] -- CMD [ARGS...]
"""
import argparse
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import time

from pyspark.sql import SparkSession


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.05)
        return s.connect_ex(("127.0.0.1", port)) == 0


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def measure(cmd, port: int, timeout: float, log) -> tuple[float, float]:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=log, stderr=log, stdin=subprocess.DEVNULL)
    try:
        while not port_open(port):
            if proc.poll() is not None:
                raise RuntimeError(f"server exited with {proc.returncode} before listening")
            if time.perf_counter() - t0 > timeout:
                raise RuntimeError(f"server did not listen on port {port} within {timeout}s")
            time.sleep(0.005)
        port_s = time.perf_counter() - t0
        spark = SparkSession.builder.remote(f"sc://127.0.0.1:{port}").getOrCreate()
        rows = spark.range(1).collect()
        ready_s = time.perf_counter() - t0
        assert [r.id for r in rows] == [0], rows
        spark.stop()
        return port_s, ready_s
    finally:
        stop(proc)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--name", required=True)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--timeout", type=float, default=120)
    ap.add_argument("--log", default=os.devnull, help="append the server's output here")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd[:1] == ["--"] else a.cmd
    if not cmd:
        ap.error("no server command given after --")

    ports, readies = [], []
    with open(a.log, "ab") as log:
        for _ in range(a.runs):
            port_s, ready_s = measure(cmd, a.port, a.timeout, log)
            ports.append(port_s)
            readies.append(ready_s)
    print(json.dumps({
        "event": "session_start",
        "backend": a.name,
        "runs": a.runs,
        "port_s": {"best": round(min(ports), 3), "median": round(statistics.median(ports), 3)},
        "ready_s": {"best": round(min(readies), 3), "median": round(statistics.median(readies), 3)},
    }), flush=True)


if __name__ == "__main__":
    try:
        main()
    except RuntimeError as e:
        sys.exit(f"session_start: {e}")
