"""Black-box reproductions of issue 12 against a real `gridtwin serve` process (contract: notes/security_contract).

Nothing here imports the project: servers are started with the CLI on a copy of the demo city, driven over
HTTP on 127.0.0.1, and database files are inspected with duckdb only after their server stopped.

Status against today's code (main at 9248ff2, 2026-11-23): 209 tests, 96 fail, 113 pass; ~5.5 min on 2 cores.

| module (finding)          | fail today | pass today (held; regression guards) |
|---------------------------|-----------:|---------------------------------------|
| test_01_sessions (1)      | 4 of 4     | - (Flask cookie `session`, still acts after logout; no password/PATCH endpoints) |
| test_02_secret (2)        | 4 of 4     | - (meta.session_secret; forged admin cookie creates users; db 0644) |
| test_03_demo_accounts (3) | 3 of 3     | - (demo accounts planted in a loaded db and printed on /login; no demo_city marker) |
| test_04_server (4)        | 13 of 13   | - (Werkzeug Server header, no CSP/XFO/nosniff, no --threads, idle sockets kept, 1 thread each) |
| test_05_body_limits (5)   | 6 of 6     | - (2 MiB anonymous bodies read, 100 MB declared body waited for, nested JSON -> 500) |
| test_06_rate_limits (6)   | 5 of 5     | - (no login lock, no 429, no paging) |
| test_07_idempotency (7)   | 3 of 4     | same caller + token + same body -> first id |
| test_08_roles (8)         | 27 of 134  | 107 matrix cells that already match the README (see note) |
| test_09_csrf (9)          | 7 of 8     | API-key writes need no CSRF token |
| test_10_exports (10)      | 2 of 2     | - (raw =HYPERLINK in CSV, formula cell in XLSX) |
| test_11_malformed (11)    | 9 of 12    | start_date=9999-99-99, since=abc, since=1e400 already 400 |
| test_12_loads (12)        | 8 of 9     | a self-intersecting grid that overlaps nothing is still repaired |
| test_13_revocation (13)   | 5 of 5     | - (no PATCH/DELETE users, no apikey list/revoke, flat number published) |

Note: the admin cells of new endpoints (GET /api/v1/apikeys etc.) "pass" today only because Dash's catch-all
GET route answers 200 HTML; the refused cells of the same routes fail, as they should.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pytest
import requests

GRIDTWIN = shutil.which("gridtwin") or str(Path(sys.executable).with_name("gridtwin"))
"""The CLI of the virtualenv running the tests."""

PASSWORDS = {
    "viewer": "viewer-pass-1",
    "dispatcher": "dispatcher-pass-1",
    "admin": "admin-pass-1",
    # dispatchers whose sessions the revocation tests end (one each, so tests stay independent)
    "victim-logout": "victim-pass-1",
    "victim-password": "victim-pass-1",
    "victim-demote": "victim-pass-1",
    "victim-disable": "victim-pass-1",
    "victim-delete": "victim-pass-1",
    "victim-cli": "victim-pass-1",
    # targets of the admin endpoints in the roles matrix
    "matrix-target": "matrix-pass-1",
    "matrix-doomed": "matrix-pass-1",
}
ROLE_OF = {name: ("viewer" if name == "viewer" else "admin" if name == "admin" else "dispatcher") for name in PASSWORDS}
KEY_ROLES = {
    "intake": "intake",
    "intake-b": "intake",
    "dispatcher": "dispatcher",
    "admin": "admin",
    "doomed": "intake",
    "revoke-me": "intake",
}
READ_LIMIT_OFF = "100000/minute"
"""GRIDTWIN_OPEN311_READ_LIMIT for servers that are not testing the read limit."""


def run_cli(*args: str, timeout: float = 180, env: dict | None = None, umask: int | None = None):
    """Run `gridtwin ARGS` and return the CompletedProcess (text, stdout and stderr captured)."""
    full_env = {**os.environ, **(env or {})}
    preexec = (lambda: os.umask(umask)) if umask is not None else None
    return subprocess.run(
        [GRIDTWIN, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=full_env,
        preexec_fn=preexec,
        check=False,
    )


def cli_ok(*args: str, **kw) -> str:
    done = run_cli(*args, **kw)
    assert done.returncode == 0, f"gridtwin {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Seed:
    """A demo-city database with known users and API keys (made with the CLI)."""

    path: Path
    keys: dict[str, str] = field(default_factory=dict)
    key_ids: dict[str, str] = field(default_factory=dict)
    category: str = ""
    point: tuple[float, float] = (0.0, 0.0)
    reported_ids: list[str] = field(default_factory=list)

    def copy(self, target: Path) -> Path:
        shutil.copyfile(self.path, target)
        return target


@dataclass
class Server:
    """A running `gridtwin serve` process."""

    db: Path
    port: int
    proc: subprocess.Popen
    log: Path
    idle_probes: list = field(default_factory=list)
    started: float = 0.0

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base + path

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        for probe in self.idle_probes:
            with contextlib.suppress(OSError):
                probe.close()
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)


def start_server(db: Path, *, env: dict | None = None, args: tuple[str, ...] = (), idle_probes: int = 0) -> Server:
    """`gridtwin serve --db DB --port FREE` in a subprocess; returns once it answers HTTP (≤ 90 s)."""
    port = free_port()
    log = db.with_name(db.name + f".{port}.log")
    handle = log.open("w")
    full_env = {"GRIDTWIN_OPEN311_READ_LIMIT": READ_LIMIT_OFF, **os.environ, **(env or {})}
    proc = subprocess.Popen(
        [GRIDTWIN, "serve", "--db", str(db), "--host", "127.0.0.1", "--port", str(port), *args],
        stdout=handle,
        stderr=subprocess.STDOUT,
        env=full_env,
    )
    handle.close()
    server = Server(db, port, proc, log)
    deadline = time.monotonic() + 90
    while True:
        if proc.poll() is not None:
            raise AssertionError(f"gridtwin serve exited with {proc.returncode}:\n{server.output()}")
        try:
            requests.get(server.url("/login"), timeout=2)
            break
        except requests.RequestException:
            if time.monotonic() > deadline:
                server.stop()
                raise AssertionError(f"gridtwin serve did not answer within 90 s:\n{server.output()}") from None
            time.sleep(0.2)
    server.started = time.monotonic()
    for _ in range(idle_probes):
        probe = socket.create_connection(("127.0.0.1", port), timeout=5)
        server.idle_probes.append(probe)
    return server


class Client:
    """HTTP client for one actor: cookies (after login), an API key, the CSRF token, the Origin header."""

    def __init__(self, server: Server, api_key: str | None = None, name: str = "anonymous"):
        self.server = server
        self.api_key = api_key
        self.name = name
        self.http = requests.Session()
        self.csrf: str | None = None

    def request(self, method: str, path: str, *, csrf: bool = True, origin: bool = True, headers=None, **kw):
        sent = {}
        if self.api_key:
            sent["X-API-Key"] = self.api_key
        if origin:
            sent["Origin"] = self.server.base
        if csrf and self.csrf:
            sent["X-CSRF-Token"] = self.csrf
        sent.update(headers or {})
        kw.setdefault("timeout", 60)
        kw.setdefault("allow_redirects", False)
        return self.http.request(method, self.server.url(path), headers=sent, **kw)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def put(self, path, **kw):
        return self.request("PUT", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)


def login_attempt(server: Server, username: str, password: str, http: requests.Session | None = None):
    """POST the login form (same origin); returns the response (302/303 on success)."""
    http = http or requests.Session()
    return http.post(
        server.url("/login"),
        data={"username": username, "password": password, "next": "/"},
        headers={"Origin": server.base},
        allow_redirects=False,
        timeout=60,
    )


def csrf_token_of(client: Client) -> str | None:
    """The session's CSRF token: the gridtwin_csrf cookie, else GET /api/v1/session (None when neither)."""
    token = client.http.cookies.get("gridtwin_csrf")
    if token:
        return token
    reply = client.get("/api/v1/session")
    if reply.status_code == 200 and "json" in reply.headers.get("Content-Type", ""):
        body = reply.json()
        for key, value in body.items() if isinstance(body, dict) else ():
            if "csrf" in key.lower() and isinstance(value, str):
                return value
    return None


def login(server: Server, username: str, password: str | None = None) -> Client:
    client = Client(server, name=username)
    reply = login_attempt(server, username, password or PASSWORDS[username], client.http)
    assert reply.status_code in (302, 303), f"login as {username}: HTTP {reply.status_code} {reply.text[:300]}"
    client.csrf = csrf_token_of(client)
    return client


def key_client(server: Server, seed: Seed, key_name: str) -> Client:
    client = Client(server, api_key=seed.keys[key_name], name=f"key:{key_name}")
    return client


def intake_body(seed: Seed, **extra) -> dict:
    lon, lat = seed.point
    return {
        "service_code": seed.category,
        "lat": lat,
        "long": lon,
        "description": "井盖缺失，有安全隐患",
        "address_string": "示例区和平街道幸福路88号",
        "first_name": "明",
        "last_name": "王",
        "phone": "13912345678",
        **extra,
    }


def post_incident(server: Server, seed: Seed, key_name: str = "intake", **extra) -> str:
    """A new incident (status 上报 reported) through the Open311 intake API; its id."""
    reply = key_client(server, seed, key_name).post(
        "/open311/v2/requests.json", json=intake_body(seed, **extra), origin=False
    )
    assert reply.status_code == 201, f"intake failed: HTTP {reply.status_code} {reply.text[:300]}"
    return reply.json()[0]["service_request_id"]


def is_refused(reply: requests.Response) -> bool:
    """401/403, or (for pages) a redirect to /login."""
    if reply.status_code in (401, 403):
        return True
    return reply.status_code in (301, 302, 303, 307) and "/login" in reply.headers.get("Location", "")


def read_db(path: Path, sql: str, params=None) -> list[tuple]:
    """Rows of a query on a database file whose server has stopped."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def seed(demo_db, tmp_path_factory) -> Seed:
    """The demo city plus the users and API keys of PASSWORDS / KEY_ROLES, made with the CLI."""
    path = tmp_path_factory.mktemp("seed") / "seed.duckdb"
    shutil.copyfile(demo_db, path)
    out = Seed(path)
    for name, password in PASSWORDS.items():
        cli_ok("user", "add", name, "--role", ROLE_OF[name], "--password", password, "--db", str(path))
    for name, role in KEY_ROLES.items():
        printed = cli_ok("apikey", "add", name, "--role", role, "--db", str(path))
        out.keys[name] = printed.strip().splitlines()[-1].strip()
    out.key_ids = dict(read_db(path, "SELECT name, key_id FROM api_keys"))
    out.category = read_db(path, "SELECT category FROM categories ORDER BY category LIMIT 1")[0][0]
    out.point = read_db(path, "SELECT lon, lat FROM incidents ORDER BY incident_id LIMIT 1")[0]
    out.reported_ids = [r[0] for r in read_db(path, "SELECT incident_id FROM incidents WHERE status = 'reported'")]
    return out


@pytest.fixture(scope="session")
def server(seed, tmp_path_factory):
    """The shared server for tests that need no fresh state (read limit set high; two idle probes)."""
    db = seed.copy(tmp_path_factory.mktemp("shared") / "shared.duckdb")
    running = start_server(db, idle_probes=2)
    yield running
    running.stop()


@pytest.fixture
def fresh_server(seed, tmp_path):
    """Factory: a server on a new copy of the seed database (env and extra args as given); stopped at the end."""
    started: list[Server] = []

    def make(env: dict | None = None, args: tuple[str, ...] = (), name: str = "fresh.duckdb") -> Server:
        db = seed.copy(tmp_path / name)
        running = start_server(db, env=env, args=args)
        started.append(running)
        return running

    yield make
    for running in started:
        running.stop()


def dash_call(client: Client, output: str, inputs: list[dict], state: list[dict] | None = None, changed=None, **kw):
    """POST one Dash callback (the renderer's body format) as ``client``; ``changed``: the triggering input."""
    outputs = parse_outputs(output)
    trigger = inputs[changed or 0] if inputs else None
    trigger = trigger if isinstance(trigger, dict) and "id" in trigger else None
    body = {
        "output": output,
        "outputs": outputs if output.startswith("..") else outputs[0],
        "inputs": inputs,
        "changedPropIds": [f"{_id_text(trigger['id'])}.{trigger['property']}"] if trigger else [],
        "state": state or [],
    }
    return client.post("/_dash-update-component", json=body, **kw)


def _id_text(value) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), sort_keys=True)


def parse_outputs(output: str) -> list[dict]:
    """'..a.children...b.value..' or 'a.children' → [{"id", "property"}] (the '@hash' of duplicates dropped)."""
    parts = output[2:-2].split("...") if output.startswith("..") else [output]
    result = []
    for part in parts:
        ident, _, prop = part.rpartition(".")
        if ident.startswith("{"):
            with contextlib.suppress(ValueError):
                ident = json.loads(ident)
        result.append({"id": ident, "property": prop.split("@")[0]})
    return result


def dash_output(client: Client, first_output: str) -> str:
    """The full output key of the callback whose first output is ``first_output`` (e.g. 'version.data')."""
    deps = client.get("/_dash-dependencies").json()
    for dep in deps:
        outputs = parse_outputs(dep["output"])
        head = f"{_id_text(outputs[0]['id'])}.{outputs[0]['property']}"
        if head == first_output:
            return dep["output"]
    raise AssertionError(f"no Dash callback has the first output {first_output}")
