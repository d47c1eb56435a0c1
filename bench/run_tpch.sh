#!/usr/bin/env bash
# TPC-H through the unchanged PySpark Connect client: ember against Sail (and,
# optionally, Apache Spark) in one run, on the same data and the same machine.
#
# For each backend: session start time (process start -> first
# spark.range(1).collect()), then the 22 queries with the shared harness
# (../shared/bench/tpch_anchor.py, best of $RUNS), then the server's peak RSS.
# Prints per-backend tables, ember-vs-each-other side by side with ratios, and
# whether the answers agree. `make bench` runs this with everything in place.
#
# Environment (defaults in brackets):
#   EMBER_BIN      the ember binary [$CARGO_TARGET_DIR/release/ember]
#   SAIL_BIN       Sail's CLI [.venv-sail/bin/sail]
#   SPARK_SUBMIT   spark-submit of a full `pyspark` install, for BACKENDS with spark
#   PYTHON         python with pyspark-client [.venv/bin/python]
#   TPCH_DATA      directory of <table>.parquet [data/tpch-sf1]
#   BACKENDS       which servers, the first is compared with the rest ["ember sail"];
#                  ember-local2 and ember-cluster are ember on local[2] and local-cluster[2,1,4g]
#   EMBER_CLUSTER_ARGS  more options for ember-cluster's server, split on spaces,
#                  e.g. "--conf spark.shuffle.compress=false" [none]
#   RUNS           runs per query, best counts [2]
#   ONLY           comma-separated query numbers, e.g. 1,6,18 [all 22]
#   SESSION_RUNS   session start measurements per backend [3]
#   OUT            where results go [bench/results/<timestamp>]
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HARNESS=${TPCH_HARNESS:-$ROOT/../shared/bench/tpch_anchor.py}
EMBER_BIN=${EMBER_BIN:-${CARGO_TARGET_DIR:-$HOME/.cache/ember/target}/release/ember}
SAIL_BIN=${SAIL_BIN:-$ROOT/.venv-sail/bin/sail}
SPARK_SUBMIT=${SPARK_SUBMIT:-}
PYTHON=${PYTHON:-$ROOT/.venv/bin/python}
TPCH_DATA=${TPCH_DATA:-$ROOT/data/tpch-sf1}
BACKENDS=${BACKENDS:-ember sail}
RUNS=${RUNS:-2}
ONLY=${ONLY:-}
SESSION_RUNS=${SESSION_RUNS:-3}
OUT=${OUT:-$ROOT/bench/results/$(date +%Y%m%d-%H%M%S)}
QUERIES=$ROOT/bench/queries

die() { echo "run_tpch.sh: $*" >&2; exit 1; }

[ -f "$HARNESS" ] || die "the shared TPC-H harness is missing: $HARNESS
  (it lives in shared/bench/tpch_anchor.py beside the repository; set TPCH_HARNESS to point elsewhere)"
[ -x "$PYTHON" ] || die "no python at $PYTHON: run 'make setup'"
[ -d "$TPCH_DATA" ] || die "no TPC-H data at $TPCH_DATA: run 'make bench' (or 'make tpch-sf1')"
# The server resolves paths, and its working directory is not ours.
TPCH_DATA=$(cd "$TPCH_DATA" && pwd)
for t in customer lineitem nation orders part partsupp region supplier; do
  [ -e "$TPCH_DATA/$t.parquet" ] || die "$TPCH_DATA/$t.parquet is missing"
done

# Sets CMD to the command line that starts BACKEND's Spark Connect server on PORT.
server_cmd() {
  local backend=$1 port=$2
  case $backend in
    ember | ember-local2 | ember-cluster)
      [ -x "$EMBER_BIN" ] || die "no ember binary at $EMBER_BIN: run 'make build'"
      CMD=("$EMBER_BIN" connect --host 127.0.0.1 --port "$port")
      # The distributed runtime's cost: local[2] against two executor processes.
      case $backend in
        ember-local2) CMD+=(--master "local[2]") ;;
        ember-cluster) CMD+=(--master "local-cluster[2,1,4g]" ${EMBER_CLUSTER_ARGS:-}) ;;
      esac ;;
    sail)
      [ -x "$SAIL_BIN" ] || die "no sail at $SAIL_BIN: run 'make setup-sail'"
      CMD=("$SAIL_BIN" spark server --ip 127.0.0.1 --port "$port") ;;
    spark)
      [ -x "$SPARK_SUBMIT" ] || die "set SPARK_SUBMIT to the spark-submit of a full 'pyspark' install"
      local home
      home=$("$(dirname "$SPARK_SUBMIT")/python" -c 'import os, pyspark; print(os.path.dirname(pyspark.__file__))')
      CMD=(env SPARK_HOME="$home" "$SPARK_SUBMIT" --master "local[$(nproc)]" --driver-memory 8g
        --conf spark.sql.shuffle.partitions=8 --conf spark.connect.grpc.binding.address=127.0.0.1
        --conf spark.connect.grpc.binding.port="$port"
        --class org.apache.spark.sql.connect.service.SparkConnectServer "$home"/jars/spark-connect_*.jar) ;;
    *) die "unknown backend '$backend' (ember, ember-local2, ember-cluster, sail, spark)" ;;
  esac
}

free_port() {
  "$PYTHON" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

SERVER_PID=
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 150); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=
}
trap stop_server EXIT
trap 'exit 130' INT TERM

# Wait until PORT accepts connections, or fail if the server died or took too long.
wait_port() {
  local port=$1 log=$2 deadline=$((SECONDS + 180))
  until (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
    kill -0 "$SERVER_PID" 2>/dev/null || { tail -20 "$log" >&2; die "the server exited before listening"; }
    [ $SECONDS -lt $deadline ] || { tail -20 "$log" >&2; die "the server did not listen on $port in 180 s"; }
    sleep 0.1
  done
}

for backend in $BACKENDS; do server_cmd "$backend" 0; done  # fail early on a missing server

mkdir -p "$OUT"
echo "TPC-H: $TPCH_DATA, backends: $BACKENDS, best of $RUNS, results in $OUT"
echo "machine: $(nproc) cores, $(free -g | awk '/^Mem:/ {print $2}') GiB; $(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo 'no commit')" \
  | tee "$OUT/machine.txt"

for backend in $BACKENDS; do
  echo
  echo "== $backend: session start ($SESSION_RUNS runs)"
  port=$(free_port)
  server_cmd "$backend" "$port"
  "$PYTHON" "$ROOT/bench/session_start.py" --name "$backend" --port "$port" --runs "$SESSION_RUNS" \
    --log "$OUT/$backend.session.log" -- "${CMD[@]}" | tee -a "$OUT/session.jsonl" \
    || echo "run_tpch.sh: session start failed for $backend (see $OUT/$backend.session.log)" >&2

  echo "== $backend: TPC-H"
  port=$(free_port)
  server_cmd "$backend" "$port"
  "${CMD[@]}" >"$OUT/$backend.server.log" 2>&1 </dev/null &
  SERVER_PID=$!
  wait_port "$port" "$OUT/$backend.server.log"
  "$PYTHON" "$HARNESS" --url "sc://127.0.0.1:$port" --data "$TPCH_DATA" --queries "$QUERIES" \
    --runs "$RUNS" ${ONLY:+--only "$ONLY"} --dump "$OUT/$backend.rows.json" | tee "$OUT/$backend.jsonl" \
    || echo "run_tpch.sh: the harness failed for $backend (see $OUT/$backend.server.log)" >&2
  # Peak RSS of the server and its executor processes, if any.
  for pid in "$SERVER_PID" $(pgrep -P "$SERVER_PID" || true); do
    awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true
  done | awk '{s += $1} END {if (NR) print s}' >"$OUT/$backend.rss"
  stop_server
done

echo
# shellcheck disable=SC2086
"$PYTHON" "$ROOT/bench/report.py" "$OUT" $BACKENDS | tee "$OUT/report.txt"
