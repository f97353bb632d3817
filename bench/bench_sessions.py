"""Operator sessions over HTTP for ``bench/dashboard.py --clients N`` (the Dash callbacks' round trips, timed).

Each session logs in like a browser, then loops as an operator at a command-centre desk does: poll
the change counter every 1.5 s (and refresh the map and side panels when it moved), drill from the
city down to a grid (map and side panels at every step), and open the leader's street and community
tables.  Sessions start in different districts, so they do not all hit the same cached unit.  The
callback bodies are built from the server's own ``/_dash-dependencies``: the bench follows the pages'
callbacks by their first output, whatever their other inputs are.
"""

from __future__ import annotations

import datetime as dt
import http.client
import json
import subprocess
import sys
import threading
import time
from collections import defaultdict
from http.cookies import SimpleCookie
from pathlib import Path

import duckdb
import numpy as np

from dashboard.components.urls import DEFAULT_LAYERS
from pipelines import auth, store

POLL_S = 1.5
TARGET_MS = 100
USER, PASSWORD = "bench-operator", "bench-operator-pass-1"
CALLBACKS = {
    "poll": "version.data",
    "map": "command-map.figure",
    "side": "command-kpis.children",
    "leader": "leader-ranking.data",
}


class Session:
    """One logged-in browser: its cookie, and Dash callback posts timed per view."""

    def __init__(self, port: int, deps: dict | None = None):
        self.port = port
        self.cookie = ""
        self.deps = deps or {}

    def request(self, method: str, path: str, body: bytes | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=120)
        try:
            sent = {"Origin": f"http://127.0.0.1:{self.port}", "Cookie": self.cookie, **(headers or {})}
            conn.request(method, path, body, sent)
            reply = conn.getresponse()
            data = reply.read()
        finally:
            conn.close()
        for header in reply.headers.get_all("Set-Cookie") or []:
            jar = SimpleCookie(header)
            known = SimpleCookie(self.cookie)
            known.update(jar)
            self.cookie = "; ".join(f"{k}={m.value}" for k, m in known.items())
        return reply.status, data

    def login(self) -> None:
        form = f"username={USER}&password={PASSWORD}&next=/".encode()
        status, _ = self.request("POST", "/login", form, {"Content-Type": "application/x-www-form-urlencoded"})
        if status not in (302, 303):
            raise SystemExit(f"bench login failed: HTTP {status}")

    def callback(self, name: str, values: dict) -> tuple[float, bytes]:
        """Post the callback whose first output is CALLBACKS[name] with inputs/state from ``values``."""
        dep = self.deps[name]
        inputs = [{**i, "value": values.get(f"{i['id']}.{i['property']}")} for i in dep["inputs"]]
        state = [{**i, "value": values.get(f"{i['id']}.{i['property']}")} for i in dep["state"]]
        body = {
            "output": dep["output"],
            "outputs": dep["outputs"] if dep["output"].startswith("..") else dep["outputs"][0],
            "inputs": inputs,
            "changedPropIds": [f"{inputs[0]['id']}.{inputs[0]['property']}"],
            "state": state,
        }
        start = time.perf_counter()
        status, data = self.request(
            "POST", "/_dash-update-component", json.dumps(body).encode(), {"Content-Type": "application/json"}
        )
        elapsed = time.perf_counter() - start
        if status not in (200, 204):
            raise SystemExit(f"callback {name} answered HTTP {status}: {data[:300]!r}")
        return elapsed, data


def dependencies(session: Session) -> dict:
    """name -> {output, outputs, inputs, state} of the callbacks the sessions post."""
    _, raw = session.request("GET", "/_dash-dependencies")
    found = {}
    for dep in json.loads(raw):
        parts = dep["output"][2:-2].split("...") if dep["output"].startswith("..") else [dep["output"]]
        outputs = [{"id": p.rpartition(".")[0], "property": p.rpartition(".")[2].split("@")[0]} for p in parts]
        head = f"{outputs[0]['id']}.{outputs[0]['property']}"
        for name, first in CALLBACKS.items():
            if head == first and name not in found:
                found[name] = {
                    "output": dep["output"],
                    "outputs": outputs,
                    "inputs": dep["inputs"],
                    "state": dep["state"],
                }
    missing = set(CALLBACKS) - set(found)
    if missing:
        raise SystemExit(f"the server has no callback for {', '.join(sorted(missing))}")
    return found


def drill_paths(db: Path, n: int) -> list[list[tuple[str, str | None]]]:
    """One city → grid path per session, each through a different district where there are enough."""
    con = duckdb.connect(str(db), read_only=True)
    try:
        rows = con.execute(
            "SELECT DISTINCT ON (district_code) district_code, street_code, community_code, grid_code FROM grids"
            " ORDER BY district_code, street_code, community_code, grid_code"
        ).fetchall()
    finally:
        con.close()
    return [
        [("city", None), ("district", d), ("street", s), ("community", c), ("grid", g)]
        for d, s, c, g in (rows[k % len(rows)] for k in range(n))
    ]


def operator(
    session: Session, path, times: dict, lock, stop: threading.Event, think_s: float = 0.0, lockstep: bool = False
) -> None:
    """Drill down the path again and again; poll every POLL_S (a change refreshes map and side panels).

    ``think_s``: after each drill step the operator looks at the screen about that long (polling on) before the
    next click: a pause drawn from 0.5-1.5 × ``think_s``, after a first one of 0-1 × ``think_s`` (operators
    do not click in step); ``lockstep``: every pause exactly ``think_s`` from the same start (all screens
    refreshed on the same tick: the worst case). 0 drills flat out, as fast as the server answers (a stress
    test, not an operator's pace)."""
    state = {"version": None, "last_poll": 0.0}
    step = 0
    rng = np.random.default_rng(abs(hash(tuple(path))) % 2**32)
    pause = (lambda: think_s) if lockstep else (lambda: think_s * rng.uniform(0.5, 1.5))
    if think_s and not lockstep:
        stop.wait(think_s * rng.uniform(0.0, 1.0))

    def poll(values: dict, samples: list) -> None:
        elapsed, data = session.callback("poll", {**values, "version.data": state["version"]})
        state["last_poll"] = time.monotonic()
        samples.append(("poll (change counter)", elapsed))
        reply = json.loads(data) if data else {}
        # the counter moved: the page refreshes map and side panels at the next step
        state["version"] = reply.get("response", {}).get("version", {}).get("data", state["version"])

    while not stop.is_set():
        level, code = path[step % len(path)]
        unit = {"level": level, "code": code}
        version = state["version"]
        values = {
            "command-unit.data": unit,
            "command-layers.value": list(DEFAULT_LAYERS),
            "command-indicator.value": "window",
            "command-window.value": "24h",
            "command-version.data": version,
            "url.search": "",
            "leader-unit.data": unit,
            "leader-window.value": "7d",
            "leader-version.data": version,
            "poll.n_intervals": step,
            "version.data": version,
        }
        started, think = time.monotonic(), pause()
        samples = [(f"map {level}", session.callback("map", values)[0])]
        samples.append((f"side panels {level}", session.callback("side", values)[0]))
        if level in ("city", "district"):
            child = "street" if level == "city" else "community"
            samples.append(
                (f"leader {child} ({level})", session.callback("leader", {**values, "leader-level.value": child})[0])
            )
        if time.monotonic() - state["last_poll"] >= POLL_S:
            poll(values, samples)
        while not stop.is_set() and time.monotonic() - started < think:
            if time.monotonic() - state["last_poll"] >= POLL_S:
                poll(values, samples)
            stop.wait(min(0.05, max(0.0, think - (time.monotonic() - started))))
        with lock:
            for name, value in samples:
                times[name].append(value)
        step += 1


def start_server(script: Path, db: Path, clock: dt.datetime, args, share: bool = True) -> tuple[subprocess.Popen, int]:
    cmd = [sys.executable, str(script), "--serve", str(db), clock.isoformat(), "--threads", str(args.threads)]
    cmd += ([] if share else ["--no-share"]) + (["--clock-moves"] if args.clock_moves else [])
    proc = subprocess.Popen([*cmd, "--port", str(args.port)], stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    if "serving on port" not in line:
        proc.kill()
        raise SystemExit(f"the server did not start: {line}")
    return proc, int(line.rsplit(" ", 1)[1])


def writer(port: int, key: str, per_s: float, points, stop: threading.Event) -> None:
    """Open311 reports at ``per_s`` a second (a live centre sees new incidents; the polls see the counter move)."""
    k = 0
    while per_s > 0 and not stop.wait(1 / per_s):
        lon, lat = points[k % len(points)]
        body = json.dumps({"service_code": "车辆停放", "lat": lat, "long": lon}).encode()
        Session(port).request(
            "POST", "/open311/v2/requests.json", body, {"X-API-Key": key, "Content-Type": "application/json"}
        )
        k += 1


def run_phase(port: int, deps: dict, paths, args, key: str, points) -> dict:
    times: dict[str, list[float]] = defaultdict(list)
    lock, stop = threading.Lock(), threading.Event()
    sessions = []
    for _ in paths:
        session = Session(port, deps)
        session.login()
        sessions.append(session)
    threads = [
        threading.Thread(target=operator, args=(s, p, times, lock, stop, args.think, args.lockstep))
        for s, p in zip(sessions, paths, strict=True)
    ]
    threads.append(threading.Thread(target=writer, args=(port, key, args.writes_per_s, points, stop)))
    start = time.perf_counter()
    for t in threads:
        t.start()
    while True:
        time.sleep(1)
        with lock:
            wanted = args.single_samples if len(paths) == 1 and args.single_samples else args.samples
            enough = times and min(len(v) for v in times.values()) >= wanted
        if enough or time.perf_counter() - start > 1800:
            break
    stop.set()
    for t in threads:
        t.join()
    return {"times": dict(times), "seconds": time.perf_counter() - start}


def run_sessions(args, db: Path, script: Path) -> None:
    """1 then ``args.clients`` concurrent sessions against the real server on ``db``; prints per-view figures."""
    con = store.connect(db)
    auth.add_user(con, USER, "viewer", PASSWORD)
    key = auth.new_api_key(con, "bench-writer", "intake")
    end = con.execute("SELECT max(reported_at) FROM incidents").fetchone()[0]
    points = con.execute("SELECT lon, lat FROM grids USING SAMPLE 200 ROWS").fetchall()
    con.close()
    paths = drill_paths(db, max(args.clients, 1))
    phases = {}
    runs = [(True, sorted({1, args.clients}))] + ([(False, [args.clients])] if args.baseline else [])
    for share, counts in runs:
        proc, port = start_server(script, db, end, args, share)
        try:
            probe = Session(port)
            probe.login()
            deps = dependencies(probe)
            for clients in counts:
                label = clients if share else f"{clients} unshared"
                print(f"HTTP sessions: {label} client(s) …", flush=True)
                phases[label] = run_phase(port, deps, paths[:clients], args, key, points)
        finally:
            proc.terminate()
            proc.wait(timeout=60)
    report(phases, args)


def report(phases: dict, args) -> None:
    counts = list(phases)  # 1, N, then "N unshared" (the baseline: each request computes its own view)
    print(
        f"\nHTTP round trips of the Dash callbacks (real server, {args.threads} threads; "
        f"≥ {args.samples} samples per view; target p95 < {TARGET_MS} ms with {args.clients} clients)"
    )
    pace = "flat out (no pause: a stress test)"
    if args.think:
        spread = "all in step (the worst case)" if args.lockstep else "0.5-1.5 × that, not in step"
        pace = f"{args.think:g} s on each screen between drill steps ({spread})"
    clock = "runs on (results also expire by the clock)" if args.clock_moves else "stands at the data's end"
    print(f"  operators drill {pace}; polling every {POLL_S:g} s; the server's clock {clock}")
    header = "".join(f"{f'{c} client(s) p50':>{max(18, len(str(c)) + 15)}} {'p95':>7} {'n':>5}" for c in counts)
    print(f"  {'view':<34}{header}")
    names = sorted({n for phase in phases.values() for n in phase["times"]})
    for name in names:
        cells, over = [], False
        for c in counts:
            values = np.array(phases[c]["times"].get(name, [np.nan])) * 1000
            p95 = np.percentile(values, 95)
            over |= c == args.clients and p95 >= TARGET_MS
            cells.append(f"{np.percentile(values, 50):>{max(18, len(str(c)) + 15)}.1f} {p95:>7.1f} {len(values):>5}")
        print(f"  {name:<34}{''.join(cells)}{'   ← over target' if over else ''}")
    for c in counts:
        print(f"  {c} client(s): {phases[c]['seconds']:.0f} s")
