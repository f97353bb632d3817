"""The role matrix, written out by hand from the README: every API route × every kind of caller.

``ok`` means the caller got past the permission check (any answer but 401/403, never a 5xx);
401 is "who are you?", 403 "you may not".  A route added to the server without a row here fails
:func:`test_every_route_is_in_the_matrix`.
"""

from __future__ import annotations

import pytest

from pipelines import auth
from pipelines.auth import Actor, permission_allowed
from tests.dashboard.conftest import login

ACTORS = ("anonymous", "viewer", "dispatcher", "admin", "intake_key", "dispatcher_key", "admin_key")
OK = "ok"
ALL = (OK,) * 7
READERS = (401, OK, OK, OK, 403, OK, OK)
ACTORS_ONLY = (401, 403, OK, OK, 403, OK, OK)
ADMINS = (401, 403, 403, OK, 403, 403, OK)
USERS_ONLY = (401, OK, OK, OK, 403, 403, 403)
INTAKE = (401, 403, 403, OK, OK, OK, OK)

MATRIX = [
    # (method, path, JSON body, expected per actor in ACTORS order)
    ("GET", "/open311/v2/services.json", None, ALL),
    ("GET", "/open311/v2/requests.json", None, ALL),
    ("GET", "/open311/v2/requests/{incident}.json", None, ALL),
    ("POST", "/open311/v2/requests.json", "new_request", INTAKE),
    ("GET", "/api/v1/incidents/{incident}", None, READERS),
    ("POST", "/api/v1/incidents/{incident}/accept", {}, ACTORS_ONLY),
    ("GET", "/api/v1/deadlines", None, READERS),
    ("PUT", "/api/v1/deadlines/噪声扰民", {"deadline_h": 24}, ADMINS),
    ("GET", "/api/v1/stats", None, READERS),
    ("GET", "/api/v1/departments/ranking", None, READERS),
    ("POST", "/api/v1/incidents/{incident}/verify", {}, ACTORS_ONLY),
    ("POST", "/api/v1/incidents/{incident}/escalate", {"departments": ["城管执法"], "reason": "矩阵"}, ACTORS_ONLY),
    ("GET", "/api/v1/incidents/{incident}/whistles", None, READERS),
    ("GET", "/api/v1/whistles/overdue", None, READERS),
    ("POST", "/api/v1/whistles/NOPE-W1/report", {}, ACTORS_ONLY),
    ("POST", "/api/v1/whistles/NOPE-W1/result", {"note": "x"}, ACTORS_ONLY),
    ("POST", "/api/v1/whistles/NOPE-W1/rate", {"score": 3}, ACTORS_ONLY),
    ("POST", "/api/v1/deliberations", {"topic": "x"}, ACTORS_ONLY),
    ("GET", "/api/v1/deliberations/NOPE", None, READERS),
    ("POST", "/api/v1/deliberations/NOPE/tasks/NOPE-T1/done", {}, ACTORS_ONLY),
    ("GET", "/api/v1/routing", None, READERS),
    ("PUT", "/api/v1/routing/噪声扰民", {"affair_class": "共事"}, ADMINS),
    ("GET", "/api/v1/users", None, ADMINS),
    ("POST", "/api/v1/users", {"username": "matrix-new", "role": "viewer", "password": "matrix-pass-1"}, ADMINS),
    ("PATCH", "/api/v1/users/matrix-target", {"disabled": False}, ADMINS),
    ("DELETE", "/api/v1/users/nobody-at-all", None, ADMINS),
    ("GET", "/api/v1/apikeys", None, ADMINS),
    ("POST", "/api/v1/apikeys", {"name": "matrix-key", "role": "intake"}, ADMINS),
    ("DELETE", "/api/v1/apikeys/Knonexistent", None, ADMINS),
    ("GET", "/api/v1/session", None, USERS_ONLY),
    ("POST", "/api/v1/account/password", {"old_password": "wrong-wrong", "new_password": "x" * 12}, USERS_ONLY),
    ("GET", "/openapi.json", None, ALL),
]
CASES = [(m, p, b, actor, want) for m, p, b, wants in MATRIX for actor, want in zip(ACTORS, wants, strict=True)]


@pytest.fixture(scope="module")
def callers(app):
    """One test client per kind of caller; session clients carry their CSRF token."""
    con = app.gridtwin_data.con
    auth.add_user(con, "matrix-target", "viewer", "matrix-pass-1")
    admin_key = auth.new_api_key(con, "matrix-admin", "admin")
    clients = {}
    for actor in ACTORS:
        client = app.server.test_client()
        if actor in ("viewer", "dispatcher", "admin"):
            assert login(client, f"{actor}1").status_code == 302
        key = {"intake_key": app.intake_key, "dispatcher_key": app.dispatch_key, "admin_key": admin_key}.get(actor)
        if key:
            client.environ_base["HTTP_X_API_KEY"] = key
        clients[actor] = client
    return clients


def _new_request(app) -> dict:
    with app.gridtwin_data.cursor() as cur:
        lon, lat = cur.execute("SELECT lon, lat FROM grids ORDER BY grid_code LIMIT 1").fetchone()
    return {"service_code": "噪声扰民", "lat": lat, "long": lon, "description": "matrix"}


def _incident(app) -> str:
    with app.gridtwin_data.cursor() as cur:
        return cur.execute("SELECT incident_id FROM open_incidents WHERE status = 'reported' LIMIT 1").fetchone()[0]


@pytest.mark.parametrize(("method", "path", "body", "actor", "want"), CASES, ids=lambda v: str(v)[:40])
def test_route_by_actor(app, callers, method, path, body, actor, want):
    path = path.format(incident=_incident(app))
    body = _new_request(app) if body == "new_request" else body
    reply = callers[actor].open(path, method=method, json=body)
    if want == OK:
        assert reply.status_code not in (401, 403), reply.get_data(as_text=True)
        assert reply.status_code < 500
    else:
        assert reply.status_code == want, reply.get_data(as_text=True)


@pytest.mark.parametrize(
    ("actor", "want"),
    [("anonymous", 302), ("viewer", 200), ("dispatcher", 200), ("admin", 200), ("intake_key", 302)],
)
def test_dashboard_pages_need_a_session(callers, actor, want):
    assert callers[actor].get("/").status_code == want


def test_every_route_is_in_the_matrix(app):
    covered = {(m, p.split("{")[0].rstrip("/")) for m, p, _, _ in MATRIX}
    for rule in app.server.url_map.iter_rules():
        if not rule.rule.startswith(("/api/", "/open311/")):
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            prefix = rule.rule.split("<")[0].rstrip("/")
            assert any(m == method and p.startswith(prefix) for m, p in covered), (method, rule.rule)


def test_permission_allowed_is_the_readme_table():
    viewer, intake = Actor("user", "v", "viewer"), Actor("key", "key:k", "intake")
    assert permission_allowed(viewer, "incident.read") and not permission_allowed(viewer, "incident.act")
    assert not permission_allowed(viewer, "open311.submit") and not permission_allowed(viewer, "coverage.recompute")
    assert permission_allowed(intake, "open311.submit") and not permission_allowed(intake, "incident.read")
    assert permission_allowed(Actor("user", "d", "dispatcher"), "coverage.recompute")
    assert not permission_allowed(None, "open311.submit") and permission_allowed(None, "open311.read")
    assert not permission_allowed(Actor("user", "a", "admin"), "no.such.action")
    dispatcher = Actor("user", "d", "dispatcher")
    for action in ("incident.verify", "incident.escalate", "whistle.report", "whistle.rate", "deliberation.write"):
        assert permission_allowed(dispatcher, action) and not permission_allowed(viewer, action)
    assert permission_allowed(viewer, "deliberation.read") and permission_allowed(viewer, "routing.read")
    assert not permission_allowed(dispatcher, "routing.set") and permission_allowed(
        Actor("key", "a", "admin"), "routing.set"
    )
