"""Finding 8: roles wider than the README — one matrix of every route × every kind of caller, plus the
coverage recompute callback (a database write a viewer could trigger, outside the write lock)."""

from __future__ import annotations

import threading
import time

import pytest

from tests.security.conftest import (
    Client,
    dash_call,
    dash_output,
    intake_body,
    is_refused,
    key_client,
    login,
    post_incident,
    read_db,
)

ACTORS = ("anonymous", "viewer", "dispatcher", "admin", "intake_key", "dispatcher_key", "admin_key")
Y, N, ANY = "allowed", "refused", "unspecified"

# route → expected outcome per actor, in the order of ACTORS (README "HTTP API" table + the contract's Roles).
# Pages are the dashboard (login wall); API keys are not a way into the dashboard, so the contract leaves them open.
MATRIX = {
    ("GET", "/open311/v2/services.json"): (Y, Y, Y, Y, Y, Y, Y),
    ("GET", "/open311/v2/requests.json?page_size=5"): (Y, Y, Y, Y, Y, Y, Y),
    ("GET", "/open311/v2/requests/{incident}.json"): (Y, Y, Y, Y, Y, Y, Y),
    ("POST", "/open311/v2/requests.json"): (N, N, N, Y, Y, Y, Y),
    ("GET", "/api/v1/incidents/{incident}"): (N, Y, Y, Y, N, Y, Y),
    ("POST", "/api/v1/incidents/{incident}/accept"): (N, N, Y, Y, N, Y, Y),
    ("GET", "/api/v1/deadlines"): (N, Y, Y, Y, N, Y, Y),
    ("PUT", "/api/v1/deadlines/{category}"): (N, N, N, Y, N, N, Y),
    ("GET", "/api/v1/stats"): (N, Y, Y, Y, N, Y, Y),
    ("GET", "/api/v1/users"): (N, N, N, Y, N, N, Y),
    ("POST", "/api/v1/users"): (N, N, N, Y, N, N, Y),
    ("PATCH", "/api/v1/users/matrix-target"): (N, N, N, Y, N, N, Y),
    ("DELETE", "/api/v1/users/matrix-doomed"): (N, N, N, Y, N, N, Y),
    ("GET", "/api/v1/apikeys"): (N, N, N, Y, N, N, Y),
    ("POST", "/api/v1/apikeys"): (N, N, N, Y, N, N, Y),
    ("DELETE", "/api/v1/apikeys/{doomed_key}"): (N, N, N, Y, N, N, Y),
    ("GET", "/"): (N, Y, Y, Y, ANY, ANY, ANY),
    ("GET", "/leader"): (N, Y, Y, Y, ANY, ANY, ANY),
    ("GET", "/playback"): (N, Y, Y, Y, ANY, ANY, ANY),
    ("GET", "/coverage"): (N, Y, Y, Y, ANY, ANY, ANY),
    ("GET", "/_dash-layout"): (N, Y, Y, Y, ANY, ANY, ANY),
}
CASES = [
    pytest.param(method, path, actor, expected[i], id=f"{method} {path} as {actor}")
    for (method, path), expected in MATRIX.items()
    for i, actor in enumerate(ACTORS)
    if expected[i] != ANY
]


@pytest.fixture(scope="module")
def actors(server, seed) -> dict[str, Client]:
    return {
        "anonymous": Client(server),
        "viewer": login(server, "viewer"),
        "dispatcher": login(server, "dispatcher"),
        "admin": login(server, "admin"),
        "intake_key": key_client(server, seed, "intake"),
        "dispatcher_key": key_client(server, seed, "dispatcher"),
        "admin_key": key_client(server, seed, "admin"),
    }


@pytest.fixture(scope="module")
def targets(server, seed) -> dict[str, str]:
    deadline = read_db(seed.path, "SELECT deadline_h FROM categories WHERE category = ?", [seed.category])[0][0]
    return {
        "incident": post_incident(server, seed),
        "category": seed.category,
        "doomed_key": seed.key_ids["doomed"],
        "deadline_h": deadline,
    }


def _body(method: str, path: str, seed, targets) -> dict | None:
    bodies = {
        ("POST", "/open311/v2/requests.json"): intake_body(seed, description="权限矩阵测试"),
        ("PUT", "/api/v1/deadlines/{category}"): {"deadline_h": int(targets["deadline_h"])},
        ("POST", "/api/v1/users"): {"username": "matrix-new", "role": "viewer", "password": "matrix-pass-1"},
        ("PATCH", "/api/v1/users/matrix-target"): {"role": "dispatcher"},
        ("POST", "/api/v1/apikeys"): {"name": "matrix-key", "role": "intake"},
    }
    return bodies.get((method, path), None if method in ("GET", "DELETE") else {})


@pytest.mark.parametrize(("method", "path", "actor", "expected"), CASES)
def test_roles_matrix(actors, targets, seed, method, path, actor, expected):
    client = actors[actor]
    url = path.format(**targets)
    reply = client.request(method, url, json=_body(method, path, seed, targets), origin=client.api_key is None)
    assert reply.status_code < 500, f"{method} {url} as {actor}: HTTP {reply.status_code}"
    refused = is_refused(reply)
    if expected == Y:
        assert not refused, f"{actor} must be allowed {method} {url}: HTTP {reply.status_code} {reply.text[:150]}"
    else:
        assert refused, f"{actor} must be refused {method} {url} (401/403): HTTP {reply.status_code}"


RECOMPUTE = ("coverage-status.children", [{"id": "coverage-recompute", "property": "n_clicks", "value": 1}])
STATE = [{"id": "url", "property": "search", "value": ""}]


def test_viewer_cannot_recompute_coverage(fresh_server, seed):
    running = fresh_server()
    runs_before = read_db(seed.path, "SELECT count(*) FROM coverage_runs")[0][0]
    viewer = login(running, "viewer")
    reply = dash_call(viewer, dash_output(viewer, RECOMPUTE[0]), RECOMPUTE[1], state=STATE)
    assert reply.status_code < 500
    assert "已完成" not in reply.text and "Done:" not in reply.text, "the viewer's recompute ran"
    running.stop()
    runs_after = read_db(running.db, "SELECT count(*) FROM coverage_runs")[0][0]
    assert runs_after == runs_before, f"a viewer's click wrote a coverage run ({runs_before} → {runs_after})"


def test_recompute_during_intake_gives_no_5xx(fresh_server, seed):
    running = fresh_server()
    admin = login(running, "admin")
    codes: list[int] = []
    stop = threading.Event()

    def writer():
        intake = key_client(running, seed, "intake")
        deadline = time.monotonic() + 60
        while not stop.is_set() and time.monotonic() < deadline and len(codes) < 400:
            reply = intake.post("/open311/v2/requests.json", json=intake_body(seed), origin=False)
            codes.append(reply.status_code)

    threads = [threading.Thread(target=writer) for _ in range(3)]
    for thread in threads:
        thread.start()
    try:
        output = dash_output(admin, RECOMPUTE[0])
        recomputes = [dash_call(admin, output, RECOMPUTE[1], state=STATE).status_code for _ in range(2)]
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=70)
    assert all(code < 500 for code in recomputes), f"recompute during intake: {recomputes}"
    assert codes and all(code == 201 for code in codes), f"intake during recompute: {sorted(set(codes))}"
