"""Intake benchmark: N Open311 POSTs from several concurrent clients against a running server.

    python bench/intake.py --requests 2000 --clients 20

Serves a copy of the demo city with ``create_app`` on a real HTTP server (werkzeug, threaded),
posts from ``--clients`` threads, each request a new connection as a hotline system would make,
and prints accepted/s and p50/p95 latency.  Afterwards the database file is reopened from disk
and the requests found are counted: it must equal what was acknowledged (201).  The baseline,
measured in the same run, is the same writes made in-process (``pipelines.incidents.intake.submit``) without
HTTP, so the ratio shows what the HTTP layer and the concurrency cost.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import shutil
import sys
import threading
import time
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import duckdb  # noqa: E402
import numpy as np  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from dashboard.app import create_app  # noqa: E402
from pipelines import auth  # noqa: E402
from pipelines.area import read_area  # noqa: E402
from pipelines.generate import generate  # noqa: E402
from pipelines.incidents import intake  # noqa: E402

DEMO = Path("/tmp/gridtwin-bench-intake-demo.duckdb")


def points(con, n: int, seed: int) -> list[tuple[float, float]]:
    """Grid centres (inside the area), picked at random."""
    with con.cursor() as cur:
        grid = cur.execute("SELECT lon, lat FROM grids").fetchnumpy()
    rng = np.random.default_rng(seed)
    pick = rng.integers(0, len(grid["lon"]), n)
    return list(zip(grid["lon"][pick].tolist(), grid["lat"][pick].tolist(), strict=True))


def post(port: int, body: dict) -> tuple[int, float, str | None]:
    start = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", "/open311/v2/requests.json", json.dumps(body), {"Content-Type": "application/json"})
        reply = conn.getresponse()
        data = json.loads(reply.read())
    finally:
        conn.close()
    ident = data[0].get("service_request_id") if reply.status in (200, 201) else None
    return reply.status, time.perf_counter() - start, ident


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--baseline", type=int, default=300, help="in-process writes for the baseline")
    args = parser.parse_args()
    if not DEMO.exists():
        print(f"building the demo city into {DEMO} (once) …", flush=True)
        generate(DEMO, "demo", seed=7)
    db = DEMO.with_name("gridtwin-bench-intake-run.duckdb")
    shutil.copy(DEMO, db)
    Path(str(db) + ".wal").unlink(missing_ok=True)

    app = create_app(db)
    con = app.gridtwin_data.con
    key = auth.new_api_key(con, "bench", "intake")
    with con.cursor() as cur:
        area = read_area(cur)
    before = con.execute("SELECT count(*) FROM incidents").fetchone()[0]

    # baseline: the same validated write path, in-process, one at a time
    base_points = points(con, args.baseline, seed=1)
    start = time.perf_counter()
    for lon, lat in base_points:
        intake.submit(
            app.gridtwin_data.db,
            area,
            {"service_code": "噪声扰民", "lat": lat, "long": lon},
            dt.datetime.now(),
            "bench",
        )
    base_rate = args.baseline / (time.perf_counter() - start)

    server = make_server("127.0.0.1", 0, app.server, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_port
    todo = points(con, args.requests, seed=2)
    results: list[tuple[int, float, str | None]] = []
    lock = threading.Lock()

    def client(k: int) -> None:
        for i in range(k, args.requests, args.clients):
            lon, lat = todo[i]
            body = {"api_key": key, "service_code": "车辆停放", "lat": lat, "long": lon, "token": f"bench-{i}"}
            outcome = post(port, body)
            with lock:
                results.append(outcome)

    start = time.perf_counter()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(args.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    server.shutdown()
    app.gridtwin_data.close()

    acked = {ident for status, _, ident in results if status == 201}
    failed = [status for status, _, _ in results if status != 201]
    latency = np.array([seconds for _, seconds, _ in results]) * 1000
    disk = duckdb.connect(str(db), read_only=True)  # reopened from disk: what survived the server
    try:
        found = disk.execute(
            "SELECT count(*) FROM incidents WHERE incident_id IN (SELECT unnest(?::VARCHAR[]))", [sorted(acked)]
        ).fetchone()[0]
        total = disk.execute("SELECT count(*) FROM incidents").fetchone()[0]
    finally:
        disk.close()
    rate = len(acked) / elapsed
    print(f"intake benchmark: {args.requests:,} POSTs from {args.clients} concurrent clients on {db.name}")
    print(f"  accepted {len(acked):,} (201) in {elapsed:.1f} s = {rate:,.0f} accepted/s; other answers: {len(failed)}")
    print(
        f"  latency p50 {np.percentile(latency, 50):.1f} ms, p95 {np.percentile(latency, 95):.1f} ms, "
        f"max {latency.max():.1f} ms"
    )
    print(
        f"  found in the database afterwards: {found:,} of {len(acked):,} acknowledged "
        f"({'all there' if found == len(acked) else 'MISSING ROWS'}); "
        f"incidents {before:,} → {total:,} (+{args.baseline} baseline writes)"
    )
    print(
        f"  baseline, the same write path in-process without HTTP: {base_rate:,.0f} writes/s; "
        f"ratio HTTP/in-process {rate / base_rate:.2f}x"
    )


if __name__ == "__main__":
    main()
