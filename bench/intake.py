"""Intake benchmark: Open311 POSTs from concurrent writers against `gridtwin serve`, alone and with readers and scrapers.

    python bench/intake.py --requests 1000 --clients 20 --readers 5 --scrapers 5

Serves a copy of the demo city with ``gridtwin serve`` (waitress, in its own process, as in
production) and runs two phases in the same invocation:

1. writers only: ``--clients`` threads post ``--requests`` new requests, each on a new connection
   as a hotline system would;
2. the same writers, plus ``--readers`` authenticated readers (a dispatcher key reading incidents
   and request lists) and ``--scrapers`` anonymous clients looping on the full request list.

It prints accepted/s and p50/p95 latency of the writers in both phases, what the readers and
scrapers got (200s, 429s), and the ratio: scrapers must not cut intake by more than half.
Afterwards the database file is reopened from disk: every acknowledged (201) request must be there.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import duckdb  # noqa: E402
import numpy as np  # noqa: E402

from pipelines import auth, store  # noqa: E402
from pipelines.generate import generate  # noqa: E402

DEMO = Path("/tmp/gridtwin-bench-intake-demo.duckdb")


def points(db: Path, n: int, seed: int) -> list[tuple[float, float]]:
    """Grid centres (inside the area), picked at random."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        grid = con.execute("SELECT lon, lat FROM grids").fetchnumpy()
    finally:
        con.close()
    pick = np.random.default_rng(seed).integers(0, len(grid["lon"]), n)
    return list(zip(grid["lon"][pick].tolist(), grid["lat"][pick].tolist(), strict=True))


def call(port: int, method: str, path: str, body: dict | None = None, headers: dict | None = None):
    """(status, seconds, parsed JSON or None) of one request on a new connection."""
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        data = json.dumps(body) if body is not None else None
        conn.request(method, path, data, {"Content-Type": "application/json", **(headers or {})})
        reply = conn.getresponse()
        raw = reply.read()
    finally:
        conn.close()
    try:
        parsed = json.loads(raw)
    except ValueError:
        parsed = None
    return reply.status, time.perf_counter() - start, parsed


def start_server(db: Path, port: int, threads: int) -> tuple[subprocess.Popen, int]:
    cmd = [sys.executable, "-m", "dashboard.cli", "serve", "--db", str(db), "--port", str(port)]
    proc = subprocess.Popen([*cmd, "--threads", str(threads)], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if "localhost:" not in line:
        proc.kill()
        raise SystemExit(f"the server did not start: {line}")
    return proc, int(line.split("localhost:")[1].split("/")[0])


def run_phase(port, keys, todo, args, readers: int, scrapers: int, tag: str) -> dict:
    """Writers post ``todo``; readers and scrapers loop until the writers are done."""
    results, side = [], Counter()
    lock, done = threading.Lock(), threading.Event()

    def writer(k: int) -> None:
        for i in range(k, len(todo), args.clients):
            lon, lat = todo[i]
            body = {"service_code": "车辆停放", "lat": lat, "long": lon, "token": f"{tag}-{i}"}
            outcome = call(port, "POST", "/open311/v2/requests.json", body, {"X-API-Key": keys["intake"]})
            with lock:
                results.append(outcome)

    def reader(k: int) -> None:
        headers = {"X-API-Key": keys["dispatcher"]}
        while not done.is_set():
            with lock:
                known = [r[2][0]["service_request_id"] for r in results[-50:] if r[0] == 201]
            path = f"/api/v1/incidents/{known[k % len(known)]}" if known and k % 2 else "/open311/v2/requests.json"
            status = call(port, "GET", path, headers=headers)[0]
            with lock:
                side[f"reader {status}"] += 1
            k += 1

    def scraper() -> None:
        while not done.is_set():
            status = call(port, "GET", "/open311/v2/requests.json?page_size=1000")[0]
            with lock:
                side[f"scraper {status}"] += 1

    others = [threading.Thread(target=reader, args=(k,)) for k in range(readers)]
    others += [threading.Thread(target=scraper) for _ in range(scrapers)]
    for t in others:
        t.start()
    start = time.perf_counter()
    writers = [threading.Thread(target=writer, args=(k,)) for k in range(args.clients)]
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    elapsed = time.perf_counter() - start
    done.set()
    for t in others:
        t.join()
    acked = {r[2][0]["service_request_id"] for r in results if r[0] == 201}
    latency = np.array([r[1] for r in results]) * 1000
    return {
        "acked": acked,
        "other": Counter(r[0] for r in results if r[0] != 201),
        "rate": len(acked) / elapsed,
        "elapsed": elapsed,
        "p50": np.percentile(latency, 50),
        "p95": np.percentile(latency, 95),
        "side": side,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1000, help="POSTs per phase")
    parser.add_argument("--clients", type=int, default=20, help="concurrent writers")
    parser.add_argument("--readers", type=int, default=5, help="authenticated readers in phase 2")
    parser.add_argument("--scrapers", type=int, default=5, help="anonymous list scrapers in phase 2")
    parser.add_argument("--threads", type=int, default=8, help="server threads (gridtwin serve --threads)")
    parser.add_argument("--db", type=Path, default=DEMO, help="demo city to copy (built once if missing)")
    parser.add_argument("--port", type=int, default=0, help="port to serve on (default: a free one)")
    args = parser.parse_args()
    if not args.db.exists():
        print(f"building the demo city into {args.db} (once) …", flush=True)
        generate(args.db, "demo", seed=7)
    db = args.db.with_name("gridtwin-bench-intake-run.duckdb")
    shutil.copy(args.db, db)
    Path(str(db) + ".wal").unlink(missing_ok=True)
    con = store.connect(db)
    keys = {role: auth.new_api_key(con, f"bench-{role}", role) for role in ("intake", "dispatcher")}
    before = con.execute("SELECT count(*) FROM incidents").fetchone()[0]
    con.close()

    first, second = points(db, args.requests, 2), points(db, args.requests, 3)
    proc, port = start_server(db, args.port, args.threads)
    try:
        alone = run_phase(port, keys, first, args, 0, 0, "alone")
        mixed = run_phase(port, keys, second, args, args.readers, args.scrapers, "mixed")
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=60)

    acked = alone["acked"] | mixed["acked"]
    disk = duckdb.connect(str(db), read_only=True)  # reopened from disk: what survived the server
    try:
        found = disk.execute(
            "SELECT count(*) FROM incidents WHERE incident_id IN (SELECT unnest(?::VARCHAR[]))", [sorted(acked)]
        ).fetchone()[0]
        total = disk.execute("SELECT count(*) FROM incidents").fetchone()[0]
    finally:
        disk.close()
    print(
        f"intake benchmark on gridtwin serve (waitress, {args.threads} threads, {os.cpu_count()} CPUs): "
        f"{args.requests:,} POSTs per phase from {args.clients} writers"
    )
    for name, phase in (
        ("writers only", alone),
        (f"+ {args.readers} readers, {args.scrapers} scrapers", mixed),
    ):
        print(
            f"  {name:<28} {phase['rate']:6.1f} accepted/s  p50 {phase['p50']:7.1f} ms  p95 {phase['p95']:7.1f} ms"
            f"  ({len(phase['acked']):,} accepted in {phase['elapsed']:.1f} s; other answers {dict(phase['other'])})"
        )
    print(f"  readers and scrapers got: {dict(sorted(mixed['side'].items()))}")
    ratio = mixed["rate"] / alone["rate"]
    print(
        f"  intake with readers and scrapers / alone: {ratio:.2f} ({'OK' if ratio >= 0.5 else 'CUT BY MORE THAN HALF'})"
    )
    print(
        f"  found in the database afterwards: {found:,} of {len(acked):,} acknowledged "
        f"({'all there' if found == len(acked) else 'MISSING ROWS'}); incidents {before:,} → {total:,}"
    )


if __name__ == "__main__":
    main()
