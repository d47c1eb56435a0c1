#!/usr/bin/env python3
"""Print the tables of one `bench/run_tpch.sh` run: per backend, then side by side.

Reads from RESULT_DIR what run_tpch.sh wrote there:
  <backend>.jsonl      the harness's JSON lines (ready, one per query, total)
  <backend>.rows.json  every query's result rows (harness --dump)
  <backend>.rss        the server's peak resident set size in KiB (VmHWM)
  session.jsonl        session start times (bench/session_start.py)

Answers are compared row by row (order-insensitive, numbers to a relative
1e-6), so decimal scale differences between engines don't count as wrong.

Usage: report.py RESULT_DIR BACKEND [BACKEND...]   (the first one is the subject)
"""
import json
import math
import sys
from pathlib import Path


def load_jsonl(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def load_run(out: Path, backend: str) -> dict:
    events = load_jsonl(out / f"{backend}.jsonl")
    rows_path = out / f"{backend}.rows.json"
    rss_path = out / f"{backend}.rss"
    return {
        "queries": {e["q"]: e for e in events if "q" in e},
        "ready": next((e["s"] for e in events if e.get("event") == "ready"), None),
        "rows": json.loads(rows_path.read_text()) if rows_path.exists() else {},
        "rss_kib": int(rss_path.read_text()) if rss_path.exists() and rss_path.read_text().strip() else None,
    }


def same_rows(a, b) -> bool:
    def key(row):
        return [f"{v:.4f}" if isinstance(v, float) else str(v) for v in row]

    if a is None or b is None or len(a) != len(b):
        return False
    for ra, rb in zip(sorted(a, key=key), sorted(b, key=key)):
        if len(ra) != len(rb):
            return False
        for x, y in zip(ra, rb):
            if isinstance(x, (int, float)) and isinstance(y, (int, float)) \
                    and not isinstance(x, bool) and not isinstance(y, bool):
                if not math.isclose(x, y, rel_tol=1e-6, abs_tol=1e-9):
                    return False
            elif str(x) != str(y):
                return False
    return True


def fmt(s) -> str:
    return "-" if s is None else f"{s:.3f}"


def print_backend(name: str, run: dict) -> None:
    print(f"\n== {name}  (session + views ready in {fmt(run['ready'])} s)")
    print(f"{'query':>5}  {'seconds':>8}  {'rows':>6}  {'digest':<12}  error")
    total = 0.0
    for q, e in sorted(run["queries"].items()):
        err = e.get("error") or ""
        if e.get("s") is not None and not err:
            total += e["s"]
        print(f"{'q' + str(q):>5}  {fmt(e.get('s')):>8}  {str(e.get('rows') or '-'):>6}  "
              f"{e.get('digest') or '-':<12}  {err[:100]}")
    ok = sum(1 for e in run["queries"].values() if e.get("s") is not None and not e.get("error"))
    print(f"{'total':>5}  {total:8.3f}  ({ok}/{len(run['queries'])} queries ran)")
    if run["rss_kib"]:
        print(f"server peak RSS: {run['rss_kib'] / 1024:.0f} MiB")


def print_comparison(subject: str, other: str, runs: dict) -> None:
    a, b = runs[subject], runs[other]
    print(f"\n== {subject} vs {other}  (ratio = {subject} seconds / {other} seconds; < 1 is faster)")
    print(f"{'query':>5}  {subject:>9}  {other:>9}  {'ratio':>7}  answers")
    both_a = both_b = 0.0
    agree = both = 0
    for q in sorted(set(a["queries"]) | set(b["queries"])):
        ea, eb = a["queries"].get(q, {}), b["queries"].get(q, {})
        sa = ea.get("s") if not ea.get("error") else None
        sb = eb.get("s") if not eb.get("error") else None
        ratio = f"{sa / sb:7.2f}" if sa is not None and sb else "      -"
        if sa is not None and sb is not None:
            both += 1
            both_a += sa
            both_b += sb
            same = same_rows(a["rows"].get(str(q)), b["rows"].get(str(q)))
            agree += same
            verdict = "same" if same else "DIFFER"
        else:
            verdict = f"{subject} error" if sa is None else f"{other} error"
        print(f"{'q' + str(q):>5}  {fmt(sa):>9}  {fmt(sb):>9}  {ratio}  {verdict}")
    ratio = f"{both_a / both_b:.2f}" if both_b else "-"
    print(f"total over the {both} queries both ran: {subject} {both_a:.3f} s, "
          f"{other} {both_b:.3f} s, ratio {ratio}; same answers on {agree}/{both}")


def print_session(out: Path) -> None:
    events = load_jsonl(out / "session.jsonl")
    if not events:
        return
    print("\n== session start (process start -> first spark.range(1).collect())")
    print(f"{'backend':<8}  {'port open':>9}  {'ready':>7}  (best of n; median in brackets)")
    for e in events:
        print(f"{e['backend']:<8}  {e['port_s']['best']:9.3f}  {e['ready_s']['best']:7.3f}  "
              f"n={e['runs']} [{e['port_s']['median']:.3f} / {e['ready_s']['median']:.3f}]")


def main() -> None:
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, backends = Path(sys.argv[1]), sys.argv[2:]
    runs = {b: load_run(out, b) for b in backends}
    for b in backends:
        print_backend(b, runs[b])
    for other in backends[1:]:
        print_comparison(backends[0], other, runs)
    print_session(out)


if __name__ == "__main__":
    main()
