"""Sessions, CSRF, throttling, read limits, idempotency scope, privacy and malformed parameters (issue 12)."""

from __future__ import annotations

import shutil

import pytest

from dashboard.app import create_app
from dashboard.security import Settings
from pipelines import auth
from pipelines.store.meta import meta_value
from tests.conftest import DEMO_END
from tests.dashboard.conftest import PASSWORD, login


@pytest.fixture
def client(app):
    return app.server.test_client()


@pytest.fixture(scope="module")
def strict(demo_db, tmp_path_factory):
    """An app with tight limits: 3 Open311 reads a minute, 5 wrong passwords per user."""
    path = tmp_path_factory.mktemp("strict") / "demo.duckdb"
    shutil.copy(demo_db, path)
    application = create_app(path, clock=lambda: DEMO_END, settings=Settings(open311_read_limit="3/minute"))
    auth.add_user(application.gridtwin_data.con, "locked", "viewer", PASSWORD)
    yield application
    application.gridtwin_data.close()


def _incident(app) -> str:
    with app.gridtwin_data.cursor() as cur:
        return cur.execute("SELECT incident_id FROM open_incidents WHERE status = 'reported' LIMIT 1").fetchone()[0]


def _post(client, app, key=None, **fields):
    with app.gridtwin_data.cursor() as cur:
        lon, lat = cur.execute("SELECT lon, lat FROM grids ORDER BY grid_code LIMIT 1").fetchone()
    body = {"service_code": "噪声扰民", "lat": lat, "long": lon, **fields}
    return client.post("/open311/v2/requests.json", json=body, headers={"X-API-Key": key or app.intake_key})


def test_no_secret_in_the_database_and_the_cookie_is_a_random_id(app, client):
    with app.gridtwin_data.cursor() as cur:
        assert meta_value(cur, "session_secret") is None
    login(client, "viewer1")
    session_id = client.get_cookie("gridtwin_session").value
    assert "viewer" not in session_id and len(session_id) >= 40
    with app.gridtwin_data.cursor() as cur:
        stored = [r[0] for r in cur.execute("SELECT session_hash FROM sessions").fetchall()]
    assert session_id not in stored  # only its digest


def test_forged_flask_cookie_is_nobody(app, client):
    from flask.sessions import SecureCookieSessionInterface

    app.server.secret_key = "guessed"
    forged = SecureCookieSessionInterface().get_signing_serializer(app.server).dumps({"user": "ghost", "role": "admin"})
    client.set_cookie("session", forged)
    client.set_cookie("gridtwin_session", forged)
    assert client.get("/api/v1/users").status_code == 401
    reply = client.post("/api/v1/users", json={"username": "ghost", "role": "admin", "password": "ghost-pass-1"})
    assert reply.status_code == 401


@pytest.mark.parametrize("revoke", ["logout", "password", "role", "disable", "delete"])
def test_old_cookie_stops_working(app, revoke):
    con = app.gridtwin_data.con
    auth.add_user(con, "temp-disp", "dispatcher", PASSWORD)
    victim, admin = app.server.test_client(), app.server.test_client()
    login(victim, "temp-disp")
    login(admin, "admin1")
    assert victim.get("/api/v1/session").status_code == 200
    cookie = victim.get_cookie("gridtwin_session").value
    if revoke == "logout":
        victim.post("/logout")
    elif revoke == "password":
        assert admin.patch("/api/v1/users/temp-disp", json={"password": "another-pass-1"}).status_code == 200
    elif revoke == "role":
        assert admin.patch("/api/v1/users/temp-disp", json={"role": "viewer"}).status_code == 200
    elif revoke == "disable":
        assert admin.patch("/api/v1/users/temp-disp", json={"disabled": True}).status_code == 200
    else:
        assert admin.delete("/api/v1/users/temp-disp").status_code == 200
    replay = app.server.test_client()
    replay.set_cookie("gridtwin_session", cookie)
    replay.environ_base["HTTP_X_CSRF_TOKEN"] = victim.environ_base["HTTP_X_CSRF_TOKEN"]
    assert replay.post(f"/api/v1/incidents/{_incident(app)}/accept", json={}).status_code == 401
    assert replay.get("/").status_code == 302
    auth.delete_user(con, "temp-disp")


def test_own_password_change_ends_other_sessions(app):
    con = app.gridtwin_data.con
    auth.add_user(con, "pw-user", "viewer", PASSWORD)
    first, second = app.server.test_client(), app.server.test_client()
    login(first, "pw-user")
    login(second, "pw-user")
    bad = first.post("/api/v1/account/password", json={"old_password": "nope-nope", "new_password": "new-pass-123"})
    assert bad.status_code == 400
    ok = first.post("/api/v1/account/password", json={"old_password": PASSWORD, "new_password": "new-pass-123"})
    assert ok.status_code == 200
    assert first.get("/api/v1/session").status_code == 200
    assert second.get("/api/v1/session").status_code == 401
    assert auth.login(con, "pw-user", "new-pass-123") == "viewer"


def test_revoked_key_gets_401(app, client):
    admin = app.server.test_client()
    login(admin, "admin1")
    key = admin.post("/api/v1/apikeys", json={"name": "short-lived"}).get_json()["api_key"]
    assert _post(client, app, key=key).status_code == 201
    listed = admin.get("/api/v1/apikeys").get_json()
    entry = next(k for k in listed if k["name"] == "short-lived")
    assert set(entry) == {"id", "name", "role", "created", "revoked", "revoked_at"}
    assert admin.delete(f"/api/v1/apikeys/{entry['id']}").status_code == 200
    assert _post(client, app, key=key).status_code == 401


def test_csrf_token_origin_and_form_bodies(app, client):
    login(client, "dispatcher1")
    token = client.environ_base.pop("HTTP_X_CSRF_TOKEN")
    incident = _incident(app)
    assert client.post(f"/api/v1/incidents/{incident}/accept", json={}).status_code == 403
    assert client.get("/api/v1/session").get_json()["csrf_token"] == token
    headers = {"X-CSRF-Token": token, "Origin": "http://localhost:9999"}
    assert client.post(f"/api/v1/incidents/{incident}/accept", json={}, headers=headers).status_code == 403
    form = client.post(f"/api/v1/incidents/{incident}/accept", data={"note": "x"}, headers={"X-CSRF-Token": token})
    assert form.status_code == 415
    dash = client.post("/_dash-update-component", json={"output": "x"}, headers={"Origin": "http://evil.example"})
    assert dash.status_code == 403
    same = {"X-CSRF-Token": token, "Origin": "http://localhost"}
    assert client.post(f"/api/v1/incidents/{incident}/accept", json={}, headers=same).status_code == 200


def test_login_throttled_per_user_with_retry_after(strict):
    client = strict.server.test_client()
    for _ in range(5):
        assert client.post("/login", data={"username": "locked", "password": "wrong-pass"}).status_code == 401
    locked = client.post("/login", data={"username": "locked", "password": PASSWORD})
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    as_json = client.post("/login", json={"username": "locked", "password": PASSWORD})
    assert as_json.status_code == 429 and "retry in" in as_json.get_json()["error"]


def test_open311_reads_are_limited_per_address(strict):
    client = strict.server.test_client()
    codes = [client.get("/open311/v2/services.json").status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    limited = client.get("/open311/v2/requests.json")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    other = strict.server.test_client()
    other.environ_base["REMOTE_ADDR"] = "10.0.0.9"
    assert other.get("/open311/v2/services.json").status_code == 200


def test_idempotency_is_scoped_to_the_caller_and_bound_to_the_body(app, client):
    first = _post(client, app, token="shared-42", description="A 的上报")
    again = _post(client, app, token="shared-42", description="A 的上报")
    assert first.status_code == 201 and again.status_code == 200
    assert again.get_json()[0]["service_request_id"] == first.get_json()[0]["service_request_id"]
    conflict = _post(client, app, token="shared-42", description="另一件事")
    assert conflict.status_code == 422 and "different request" in conflict.get_json()[0]["description"]
    other = _post(client, app, key=app.dispatch_key, token="shared-42", description="B 的上报")
    assert other.status_code == 201
    assert other.get_json()[0]["service_request_id"] != first.get_json()[0]["service_request_id"]


def test_anonymous_reads_show_the_building_only(app, client):
    posted = _post(client, app, address_string="示例路8号3号楼2单元502室", description="漏水")
    incident = posted.get_json()[0]["service_request_id"]
    (public,) = client.get(f"/open311/v2/requests/{incident}.json").get_json()
    assert public["address"] == "示例路8号3号楼"
    assert public["lat"] == round(public["lat"], 4) and public["long"] == round(public["long"], 4)
    full = client.get(f"/api/v1/incidents/{incident}", headers={"X-API-Key": app.dispatch_key}).get_json()
    assert full["address"] == "示例路8号3号楼2单元502室"


def test_list_is_paged_with_a_next_link(client):
    first = client.get("/open311/v2/requests.json?status=closed&page_size=5")
    assert len(first.get_json()) == 5 and 'rel="next"' in first.headers["Link"]
    second = client.get("/open311/v2/requests.json?status=closed&page_size=5&page=2").get_json()
    assert not {r["service_request_id"] for r in first.get_json()} & {r["service_request_id"] for r in second}
    assert len(client.get("/open311/v2/requests.json").get_json()) <= 100


@pytest.mark.parametrize(
    "url",
    [
        "/open311/v2/requests.json?start_date=-1",
        "/open311/v2/requests.json?end_date=0001-01-01",
        "/open311/v2/requests.json?page=0",
        "/open311/v2/requests.json?page_size=5000",
        "/open311/v2/requests.json?page=abc",
        "/open311/v2/requests.json?start_date=2026-02-30",
    ],
)
def test_malformed_open311_parameters_are_400(client, url):
    reply = client.get(url)
    assert reply.status_code == 400 and reply.get_json()[0]["description"]


@pytest.mark.parametrize("since", ["-1", "0001-01-01", "2026-02-30", "9999-12-31"])
def test_malformed_since_is_400(app, client, since):
    reply = client.get(f"/api/v1/stats?since={since}", headers={"X-API-Key": app.dispatch_key})
    assert reply.status_code == 400 and "since" in reply.get_json()["error"]


def test_demo_accounts_listed_only_on_a_marked_database(app, client):
    con = app.gridtwin_data.con
    con.execute("INSERT OR REPLACE INTO meta VALUES ('demo_accounts', 'viewer / demo-viewer')")
    assert "demo-viewer" in client.get("/login").get_data(as_text=True)
    con.execute("UPDATE meta SET value = 'false' WHERE key = 'demo_city'")
    try:
        assert "demo-viewer" not in client.get("/login").get_data(as_text=True)
    finally:
        con.execute("UPDATE meta SET value = 'true' WHERE key = 'demo_city'")


@pytest.mark.parametrize(
    "path",
    ["/open311/v2/requests.json", "/login", "/api/v1/users", "/api/v1/incidents/X/accept", "/_dash-update-component"],
)
def test_deeply_nested_json_is_400_everywhere(app, path):
    client = app.server.test_client()
    login(client, "viewer1")
    deep = "[" * 100000 + "]" * 100000
    reply = client.post(path, data=deep, content_type="application/json", headers={"X-API-Key": app.intake_key})
    assert reply.status_code == 400 and "nested too deeply" in reply.get_data(as_text=True)


def test_malformed_dash_callback_bodies_are_4xx(app):
    client = app.server.test_client()
    login(client, "viewer1")
    for body in ("[]", "null", '{"output": 5}', "not json", '{"inputs": []}'):
        reply = client.post("/_dash-update-component", data=body, content_type="application/json")
        assert 400 <= reply.status_code < 500, body
