"""`gridtwin serve` as it runs in production: waitress, its headers and limits, over real HTTP."""

from __future__ import annotations

import http.client
import os
import shutil
import signal
import stat
import subprocess
import sys
import time

import pytest

from dashboard.cli import main


@pytest.fixture(scope="module")
def served(demo_db, tmp_path_factory):
    """`gridtwin serve --port 0` on a copy of the demo city: (host, port, database path)."""
    db = tmp_path_factory.mktemp("serve") / "demo.duckdb"
    shutil.copy(demo_db, db)
    env = {**os.environ, "GRIDTWIN_MAX_BODY_BYTES": "65536"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dashboard.cli", "serve", "--db", str(db), "--port", "0", "--threads", "4"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    line = proc.stdout.readline()
    assert "gridtwin dashboard on http://localhost:" in line, line + proc.stderr.read()
    port = int(line.split("localhost:")[1].split("/")[0])
    yield "127.0.0.1", port, db
    proc.send_signal(signal.SIGINT)
    proc.wait(timeout=20)


def _request(where, method, path, body=None, headers=None):
    con = http.client.HTTPConnection(where[0], where[1], timeout=20)
    try:
        con.request(method, path, body=body, headers=headers or {})
        reply = con.getresponse()
        return reply.status, dict(reply.getheaders()), reply.read()
    finally:
        con.close()


def test_served_by_waitress_with_the_security_headers(served):
    status, headers, _ = _request(served, "GET", "/login")
    assert status == 200
    assert headers["Server"] == "gridtwin"
    csp = headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'self'" in csp
    assert headers["X-Frame-Options"] == "SAMEORIGIN"
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Referrer-Policy"] == "same-origin"
    status, headers, _ = _request(served, "GET", "/open311/v2/services.json")
    assert status == 200 and headers["Server"] == "gridtwin" and "nosniff" in headers["X-Content-Type-Options"]


def test_oversize_body_is_413_before_authentication(served):
    body = b"[" + b"1," * 40000 + b"1]"
    status, headers, _ = _request(
        served, "POST", "/open311/v2/requests.json", body, {"Content-Type": "application/json"}
    )
    assert status == 413 and headers["Server"] == "gridtwin"


def test_deep_json_is_400_not_500(served):
    body = b"[" * 30000 + b"]" * 30000
    status, _, reply = _request(
        served, "POST", "/api/v1/incidents/X/accept", body, {"Content-Type": "application/json"}
    )
    assert status == 400 and b"nested too deeply" in reply


def test_database_file_is_owner_only(served):
    assert stat.S_IMODE(os.stat(served[2]).st_mode) == 0o600


def test_idle_connections_do_not_pile_up_threads(served):
    import socket

    idle = [socket.create_connection(served[:2]) for _ in range(50)]
    try:
        start = time.monotonic()
        status, _, _ = _request(served, "GET", "/open311/v2/services.json")
        assert status == 200 and time.monotonic() - start < 5
    finally:
        for sock in idle:
            sock.close()
    status, _, _ = _request(served, "GET", "/open311/v2/services.json")
    assert status == 200


def test_serve_options():
    from dashboard.cli import build_parser

    args = build_parser().parse_args(["serve", "--threads", "4", "--secure-cookies", "--behind-proxy"])
    assert (args.threads, args.secure_cookies, args.behind_proxy) == (4, True, True)
    assert build_parser().parse_args(["serve"]).threads == 8


def test_demo_refuses_an_unmarked_database(tmp_path, capsys):
    from pipelines import store

    db = tmp_path / "real.duckdb"
    store.connect(db).close()
    assert main(["demo", "--db", str(db), "--no-serve"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a demo city" in err and "gridtwin generate" in err
