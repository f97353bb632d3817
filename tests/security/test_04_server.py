"""Finding 4: Werkzeug's development server in production — threads per connection, no idle timeout,
a version-revealing Server header and no security headers."""

from __future__ import annotations

import socket
import time

import pytest
import requests

from tests.security.conftest import GRIDTWIN, login

IDLE_TIMEOUT_S = 30
SLACK_S = 25  # under a loaded 2-core CI machine the sweep runs late; still far below waitress's default 120 s


@pytest.mark.parametrize(
    "path",
    [
        "/login",
        "/",
        "/leader",
        "/open311/v2/services.json",
        "/api/v1/deadlines",
        "/_dash-layout",
        "/assets/style.css",
        "/no/such/page",
        "/openapi.json",
    ],
)
def test_server_and_security_headers(server, path):
    client = login(server, "viewer")
    reply = client.get(path)
    headers = reply.headers
    assert headers.get("Server") == "gridtwin", f"Server: {headers.get('Server')!r}"
    csp = headers.get("Content-Security-Policy", "")
    assert "default-src 'self'" in csp and "frame-ancestors 'self'" in csp, f"CSP: {csp!r}"
    assert headers.get("X-Frame-Options") == "SAMEORIGIN"
    assert headers.get("X-Content-Type-Options") == "nosniff"
    assert headers.get("Referrer-Policy") == "same-origin"


def test_serve_has_the_deployment_options():
    import subprocess

    done = subprocess.run([GRIDTWIN, "serve", "--help"], capture_output=True, text=True, timeout=60, check=False)
    for option in ("--threads", "--secure-cookies", "--behind-proxy"):
        assert option in done.stdout, f"gridtwin serve has no {option}"


def test_secure_cookies_flag(fresh_server):
    running = fresh_server(args=("--secure-cookies",))
    reply = requests.post(
        running.url("/login"),
        data={"username": "viewer", "password": "viewer-pass-1"},
        headers={"Origin": running.base},
        allow_redirects=False,
        timeout=60,
    )
    cookies = [c for c in reply.raw.headers.getlist("Set-Cookie") if c.startswith("gridtwin_session=")]
    assert cookies and "secure" in cookies[0].lower(), f"Set-Cookie with --secure-cookies: {cookies}"


def _closed(sock: socket.socket, until: float) -> bool:
    """True when the peer closes ``sock`` before ``until`` (monotonic)."""
    while time.monotonic() < until:
        sock.settimeout(max(0.1, min(2.0, until - time.monotonic())))
        try:
            if sock.recv(65536) == b"":
                return True
        except TimeoutError:
            continue
        except OSError:
            return True
    return False


def test_idle_connections_are_closed(server):
    """The shared server opened its idle probes at start-up; by now most of the 30 s have passed."""
    assert server.idle_probes, "the shared server has no idle probe"
    until = server.started + IDLE_TIMEOUT_S + SLACK_S
    still_open = [i for i, probe in enumerate(server.idle_probes) if not _closed(probe, until)]
    assert not still_open, f"idle connections still open {IDLE_TIMEOUT_S + SLACK_S} s after they were opened"


def _threads(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("Threads:"))


def test_connection_flood_does_not_spawn_threads_or_stall(fresh_server):
    running = fresh_server()
    requests.get(running.url("/login"), timeout=30)
    before = _threads(running.proc.pid)
    flood = []
    try:
        for _ in range(300):
            sock = socket.create_connection(("127.0.0.1", running.port), timeout=5)
            sock.sendall(b"GET /login HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # headers never finished
            flood.append(sock)
        time.sleep(1.0)
        during = _threads(running.proc.pid)
        started = time.monotonic()
        reply = requests.get(running.url("/open311/v2/services.json"), timeout=10)
        assert reply.status_code == 200
        assert time.monotonic() - started < 5, "the server stalled under 300 idle connections"
    finally:
        for sock in flood:
            sock.close()
    started = time.monotonic()
    reply = requests.get(running.url("/open311/v2/services.json"), timeout=15)
    assert reply.status_code == 200 and time.monotonic() - started < 3, "closing the idle connections stalled it"
    assert during - before < 50, f"300 idle connections grew the server from {before} to {during} threads"
