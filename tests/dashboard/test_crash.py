"""kill -9 during intake under load: no acknowledged report lost, none stored twice when clients retry."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import duckdb

from pipelines import auth, store

CLIENTS = 12


def _serve(db):
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard.cli", "serve", "--db", str(db), "--port", "0", "--threads", "16"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    line = proc.stdout.readline()
    assert "gridtwin dashboard on http://localhost:" in line, line
    return proc, int(line.split("localhost:")[1].split("/")[0])


def _post(port, key, body):
    """(status, incident id) of one POST, or None when the connection failed (the server is gone)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(
            "POST",
            "/open311/v2/requests.json",
            json.dumps(body),
            {"X-API-Key": key, "Content-Type": "application/json"},
        )
        reply = conn.getresponse()
        answer = json.loads(reply.read())
    except (OSError, http.client.HTTPException, ValueError):
        return None
    finally:
        conn.close()
    return reply.status, answer[0]["service_request_id"]


def _stream_then_kill(proc, port, key, body) -> tuple[list[str], dict[str, str]]:
    """CLIENTS clients post new reports (a fresh token each) until the server is killed with SIGKILL mid-stream;
    returns (every token sent, token -> id of those acknowledged with 201)."""
    acked: dict[str, str] = {}
    sent: list[str] = []
    lock, stop = threading.Lock(), threading.Event()

    def client(k):
        i = 0
        while not stop.is_set():
            token = f"c{k}-{i}"
            with lock:
                sent.append(token)
            outcome = _post(port, key, body(token))
            if outcome is None:
                return
            assert outcome[0] == 201
            with lock:
                acked[token] = outcome[1]
            i += 1

    threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 30
    while len(acked) < 100 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    stop.set()
    for t in threads:
        t.join()
    return sent, acked


def _stored(db) -> tuple[dict[str, int], int, int]:
    """(description -> rows of the crash reports, ids stored more than once, history rows of the crash reports)."""
    disk = duckdb.connect(str(db), read_only=True)
    try:
        rows = disk.execute(
            "SELECT description, count(*) FROM incidents WHERE description LIKE 'crash %' GROUP BY 1"
        ).fetchall()
        doubled_ids = disk.execute(
            "SELECT count(*) FROM (SELECT incident_id FROM incidents GROUP BY 1 HAVING count(*) > 1)"
        ).fetchone()[0]
        events = disk.execute(
            "SELECT count(*) FROM incident_events WHERE incident_id IN"
            " (SELECT incident_id FROM incidents WHERE description LIKE 'crash %')"
        ).fetchone()[0]
    finally:
        disk.close()
    return dict(rows), doubled_ids, events


def test_kill_9_loses_no_acknowledged_report_and_retries_store_none_twice(demo_db, tmp_path):
    db = tmp_path / "crash.duckdb"
    shutil.copy(demo_db, db)
    con = store.connect(db)
    key = auth.new_api_key(con, "crash", "intake")
    category = con.execute("SELECT min(category) FROM categories").fetchone()[0]
    lon, lat = con.execute("SELECT lon, lat FROM grids ORDER BY grid_code LIMIT 1").fetchone()
    con.close()

    def body(token):
        return {"service_code": category, "lat": lat, "long": lon, "token": token, "description": f"crash {token}"}

    sent, acked = _stream_then_kill(*_serve(db), key, body)
    assert len(acked) >= 100 and len(sent) > len(acked)  # some were in flight when the server died

    proc, port = _serve(db)  # the WAL is replayed on open
    try:
        retried = {token: _post(port, key, body(token)) for token in sent}  # every client retries what it sent
    finally:
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    for token, incident_id in acked.items():
        assert retried[token] == (200, incident_id), f"acknowledged {token} ({incident_id}) was lost"
    assert all(outcome is not None and outcome[0] in (200, 201) for outcome in retried.values())

    descriptions, doubled_ids, events = _stored(db)
    assert descriptions == {f"crash {token}": 1 for token in sent}  # each report stored exactly once
    assert doubled_ids == 0 and events == len(sent)
