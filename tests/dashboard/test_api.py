"""The HTTP API through Flask's test client on a real app and a real DuckDB file (the demo city)."""

from __future__ import annotations

import itertools
import shutil
import threading

import pytest

from dashboard.app import create_app
from pipelines.incidents import machine
from pipelines.incidents.repository import incident_record
from pipelines.store.areas import grid_workers_of
from pipelines.vocabulary import ACTIONS, STATUSES
from tests.conftest import DEMO_END
from tests.dashboard.conftest import PASSWORD, login


@pytest.fixture
def client(app):
    return app.server.test_client()


def _centre(app) -> tuple[float, float]:
    with app.gridtwin_data.cursor() as cur:
        return cur.execute("SELECT lon, lat FROM grids ORDER BY grid_code LIMIT 1").fetchone()


def _post(client, app, **fields):
    lon, lat = _centre(app)
    body = {"api_key": app.intake_key, "service_code": "噪声扰民", "lat": lat, "long": lon, **fields}
    return client.post("/open311/v2/requests.json", json=body)


def _count(app, sql, *params) -> int:
    with app.gridtwin_data.cursor() as cur:
        return cur.execute(sql, list(params)).fetchone()[0]


def _act(client, app, incident_id, action, key=None, **body):
    return client.post(
        f"/api/v1/incidents/{incident_id}/{action}", json=body, headers={"X-API-Key": key or app.dispatch_key}
    )


def test_services_list_every_category(client):
    services = client.get("/open311/v2/services.json").get_json()
    codes = {s["service_code"] for s in services}
    assert {"噪声扰民", "安全隐患", "养老服务"} <= codes
    assert all(s["type"] == "realtime" and s["metadata"] is False for s in services)


def test_post_request_is_stored_with_deadline_and_history(client, app):
    before = _count(app, "SELECT count(*) FROM incidents")
    reply = _post(client, app, description="夜间施工噪声", first_name="三", last_name="张", phone="13812345678")
    assert reply.status_code == 201
    (body,) = reply.get_json()
    incident_id = body["service_request_id"]
    assert _count(app, "SELECT count(*) FROM incidents") == before + 1
    assert _count(app, "SELECT count(*) FROM open_incidents WHERE incident_id = ?", incident_id) == 1
    (request,) = client.get(f"/open311/v2/requests/{incident_id}.json").get_json()
    assert request["status"] == "open"
    assert request["status_notes"].startswith("上报")
    assert request["service_code"] == "噪声扰民"
    # 噪声扰民 has a 24-hour deadline
    assert request["expected_datetime"].startswith((DEMO_END.replace(day=DEMO_END.day + 1)).strftime("%Y-%m-%dT%H"))
    history = _count(
        app, "SELECT count(*) FROM incident_events WHERE incident_id = ? AND to_status = 'reported'", incident_id
    )
    assert history == 1


def test_form_encoded_post_and_idempotent_retry(client, app):
    lon, lat = _centre(app)
    form = {"api_key": app.intake_key, "service_code": "车辆停放", "lat": str(lat), "long": str(lon), "token": "abc-1"}
    first = client.post("/open311/v2/requests.json", data=form)
    again = client.post("/open311/v2/requests.json", data=form)
    assert first.status_code == 201 and again.status_code == 200
    assert first.get_json()[0]["service_request_id"] == again.get_json()[0]["service_request_id"]
    assert _count(app, "SELECT count(*) FROM intake_tokens WHERE token = 'abc-1'") == 1


@pytest.mark.parametrize(
    ("fields", "status", "message"),
    [
        ({"api_key": "wrong"}, 401, "api_key is missing or wrong"),
        ({"api_key": None}, 401, "api_key is missing or wrong"),
        ({"service_code": "不存在"}, 400, "service_code '不存在' is unknown"),
        ({"service_code": None}, 400, "service_code is required"),
        ({"lat": "north"}, 400, "lat must be a number"),
        ({"lat": 95}, 400, "lat must be between -90 and 90"),
        ({"long": None}, 400, "long is required"),
        ({"lat": 39.9, "long": 116.4}, 400, "outside the loaded area"),
        ({"description": "长" * 4001}, 400, "description is 4001 characters long; at most 4000"),
        ({"description": 12}, 400, "description must be text"),
        ({"lat": True}, 400, "lat must be a number"),
    ],
)
def test_bad_requests_get_a_clear_4xx_and_store_nothing(client, app, fields, status, message):
    before = _count(app, "SELECT count(*) FROM incidents")
    reply = _post(client, app, **fields)
    assert reply.status_code == status
    (error,) = reply.get_json()
    assert error["code"] == status
    assert message in error["description"]
    assert _count(app, "SELECT count(*) FROM incidents") == before


def test_invalid_json_body(client, app):
    reply = client.post(
        "/open311/v2/requests.json",
        data="{not json",
        headers={"Content-Type": "application/json", "X-API-Key": app.intake_key},
    )
    assert reply.status_code == 400
    assert "JSON object" in reply.get_json()[0]["description"]


def test_html_is_stored_as_text(client, app):
    script = "<script>alert('x')</script><b>漏水</b>"
    incident_id = _post(client, app, description=script).get_json()[0]["service_request_id"]
    (request,) = client.get(f"/open311/v2/requests/{incident_id}.json").get_json()
    assert request["description"] == script
    assert reply_is_json(client.get(f"/open311/v2/requests/{incident_id}.json"))


def reply_is_json(reply) -> bool:
    return reply.headers["Content-Type"].startswith("application/json")


def test_full_loop_and_history_consistency(client, app):
    incident_id = _post(client, app).get_json()[0]["service_request_id"]
    with app.gridtwin_data.cursor() as cur:
        worker = grid_workers_of(cur, incident_record(cur, incident_id)["grid_code"])["worker_id"].iloc[0]
    steps = [
        ("accept", {}, "accepted"),
        ("dispatch", {"assignee_type": "worker", "assignee": worker}, "dispatched"),
        ("dispatch", {"assignee_type": "department", "assignee": "城管执法"}, "dispatched"),
        ("start", {}, "in_progress"),
        ("resolve", {"note": "已协调施工方停工"}, "resolved"),
        ("evaluate", {"satisfaction": 4}, "evaluated"),
        ("reopen", {"note": "居民反映仍有噪声"}, "accepted"),
    ]
    for action, body, expected in steps:
        reply = _act(client, app, incident_id, action, **body)
        assert reply.status_code == 200, reply.get_json()
        assert reply.get_json()["status"] == expected
    view = client.get(f"/api/v1/incidents/{incident_id}", headers={"X-API-Key": app.dispatch_key}).get_json()
    history = view["history"]
    assert [h["to_status"] for h in history] == ["reported", *(s[2] for s in steps)]
    assert all(a["to_status"] == b["from_status"] for a, b in itertools.pairwise(history))
    assert history[-1]["to_status"] == view["status"]
    assert view["assignee"] == "城管执法"
    assert view["resolved_at"] is None and view["satisfaction"] is None  # reopened
    assert view["allowed_actions"] == ["dispatch"]
    assert view["suggestions"]["department"] == "城管执法"
    assert all("****" in w["phone"] for w in view["suggestions"]["grid_workers"])


FORWARD = [
    ("accept", {}),
    ("dispatch", {"assignee_type": "department", "assignee": "城管执法"}),
    ("start", {}),
    ("resolve", {"note": "已处理"}),
    ("verify", {"score": 4}),
    ("evaluate", {"satisfaction": 5}),
]


def path_to(status: str) -> list[tuple[str, dict]]:
    """The actions that lead a new report to ``status`` along the loop."""
    return FORWARD[: STATUSES.index(status)]


@pytest.mark.parametrize("status", STATUSES)
def test_every_illegal_transition_is_409_naming_state_and_allowed(client, app, status):
    incident_id = _post(client, app).get_json()[0]["service_request_id"]
    path = path_to(status)
    for action, body in path:
        assert _act(client, app, incident_id, action, **body).status_code == 200
    for action in ACTIONS:
        if action in machine.allowed_actions(status):
            continue
        reply = _act(
            client,
            app,
            incident_id,
            action,
            note="x",
            satisfaction=3,
            score=3,
            assignee_type="department",
            assignee="d",
        )
        assert reply.status_code == 409
        body = reply.get_json()
        assert body["status"] == status
        assert body["allowed_actions"] == machine.allowed_actions(status)
        assert status in body["error"] and action in body["error"]
    assert _count(app, "SELECT count(*) FROM incident_events WHERE incident_id = ?", incident_id) == 1 + len(path)


@pytest.mark.parametrize(
    ("action", "body", "message"),
    [
        ("resolve", {}, "note is required"),
        ("evaluate", {"satisfaction": 6}, "satisfaction must be a whole number from 1 to 5"),
        ("evaluate", {"satisfaction": "5"}, "satisfaction must be a whole number from 1 to 5"),
        ("dispatch", {"assignee_type": "robot", "assignee": "x"}, "assignee_type must be one of"),
        ("dispatch", {"assignee_type": "worker", "assignee": "W-nobody"}, "grid worker 'W-nobody' does not exist"),
    ],
)
def test_bad_action_bodies_are_400_and_change_nothing(client, app, action, body, message):
    incident_id = _post(client, app).get_json()[0]["service_request_id"]
    for step, step_body in path_to(machine.sources(action)[0]):
        _act(client, app, incident_id, step, **step_body)
    events = _count(app, "SELECT count(*) FROM incident_events WHERE incident_id = ?", incident_id)
    reply = _act(client, app, incident_id, action, **body)
    assert reply.status_code == 400
    assert message in reply.get_json()["error"]
    assert _count(app, "SELECT count(*) FROM incident_events WHERE incident_id = ?", incident_id) == events


def test_roles_and_keys_guard_every_write(client, app):
    incident_id = _post(client, app).get_json()[0]["service_request_id"]
    assert client.post(f"/api/v1/incidents/{incident_id}/accept", json={}).status_code == 401
    assert _act(client, app, incident_id, "accept", key=app.intake_key).status_code == 403
    login(client, "viewer1")
    assert client.post(f"/api/v1/incidents/{incident_id}/accept", json={}).status_code == 403
    view = client.get(f"/api/v1/incidents/{incident_id}").get_json()
    assert view["allowed_actions"] == []
    client.post("/logout")
    login(client, "dispatcher1")
    assert client.post(f"/api/v1/incidents/{incident_id}/accept", json={}).status_code == 200
    assert client.put("/api/v1/deadlines/噪声扰民", json={"deadline_h": 12}).status_code == 403
    client.post("/logout")
    login(client, "admin1")
    assert client.put("/api/v1/deadlines/噪声扰民", json={"deadline_h": 0}).status_code == 400
    assert client.put("/api/v1/deadlines/不存在", json={"deadline_h": 12}).status_code == 404
    assert client.put("/api/v1/deadlines/噪声扰民", json={"deadline_h": 12}).get_json()["deadline_h"] == 12
    deadlines = {d["category"]: d["deadline_h"] for d in client.get("/api/v1/deadlines").get_json()}
    assert deadlines["噪声扰民"] == 12
    client.put("/api/v1/deadlines/噪声扰民", json={"deadline_h": 24})


def test_reporter_is_masked_for_viewers_only(client, app):
    incident_id = _post(client, app, first_name="小明", last_name="王", phone="13912345678").get_json()[0][
        "service_request_id"
    ]
    login(client, "viewer1")
    seen = client.get(f"/api/v1/incidents/{incident_id}").get_json()
    assert seen["reporter_name"] == "王**" and seen["reporter_phone"] == "139****5678"
    client.post("/logout")
    login(client, "dispatcher1")
    seen = client.get(f"/api/v1/incidents/{incident_id}").get_json()
    assert seen["reporter_name"] == "王小明" and seen["reporter_phone"] == "13912345678"


def test_login_wall_and_wrong_password(client):
    assert client.get("/").status_code == 302
    assert client.get("/").headers["Location"].startswith("/login")
    assert client.post("/_dash-update-component", json={}).status_code == 401
    wrong = client.post("/login", data={"username": "viewer1", "password": "nope-nope"})
    assert wrong.status_code == 401 and "用户名或密码不正确" in wrong.get_data(as_text=True)
    ok = client.post("/login", data={"username": "viewer1", "password": PASSWORD, "next": "/leader"})
    assert ok.status_code == 302 and ok.headers["Location"] == "/leader"
    assert client.get("/").status_code == 200


def test_get_requests_filters_and_errors(client, app):
    first = _post(client, app, service_code="占道经营").get_json()[0]["service_request_id"]
    listed = client.get("/open311/v2/requests.json?service_code=占道经营&status=open").get_json()
    assert first in {r["service_request_id"] for r in listed}
    assert all(r["service_code"] == "占道经营" and r["status"] == "open" for r in listed)
    closed = client.get("/open311/v2/requests.json?status=closed").get_json()
    assert closed and all(r["status"] == "closed" for r in closed)
    assert len(client.get("/open311/v2/requests.json").get_json()) <= 1000
    assert client.get("/open311/v2/requests.json?status=maybe").status_code == 400
    assert client.get("/open311/v2/requests.json?start_date=yesterday").status_code == 400
    assert client.get("/open311/v2/requests/NOPE.json").status_code == 404
    assert client.get("/api/v1/incidents/NOPE", headers={"X-API-Key": app.dispatch_key}).status_code == 404
    assert _act(client, app, first, "fly").status_code == 404


def test_stats_from_history(client, app):
    stats = client.get("/api/v1/stats?since=2026-11-15T18:00:00", headers={"X-API-Key": app.dispatch_key}).get_json()
    assert stats["resolved"] > 100
    assert 0 < stats["on_time_rate"] <= 1
    assert stats["avg_handling_h"] > 0


def test_openapi_document_lists_every_endpoint(client):
    doc = client.get("/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert "/open311/v2/requests.json" in doc["paths"]
    for action in ACTIONS:
        assert f"/api/v1/incidents/{{incident_id}}/{action}" in doc["paths"]


def test_concurrent_posts_lose_nothing_and_duplicate_nothing(app):
    before = _count(app, "SELECT count(*) FROM incidents")
    ids: list[str] = []
    errors: list[int] = []

    def worker(n: int):
        client = app.server.test_client()
        for i in range(10):
            reply = _post(client, app, token=f"c{n}-{i}")
            if reply.status_code == 201:
                ids.append(reply.get_json()[0]["service_request_id"])
            else:
                errors.append(reply.status_code)
            if i % 3 == 0:  # a client retry with the same token
                again = _post(client, app, token=f"c{n}-{i}")
                assert again.status_code == 200

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(ids) == len(set(ids)) == 200
    assert _count(app, "SELECT count(*) FROM incidents") == before + 200


def test_admin_manages_users_and_keys_while_serving(client, app):
    assert (
        client.post("/api/v1/users", json={"username": "x", "role": "viewer", "password": "12345678"}).status_code
        == 401
    )
    login(client, "dispatcher1")
    assert client.get("/api/v1/users").status_code == 403
    client.post("/logout")
    login(client, "admin1")
    made = client.post(
        "/api/v1/users", json={"username": "night-shift", "role": "dispatcher", "password": "night-shift-1"}
    )
    assert made.status_code == 201 and made.get_json()["created"] is True
    bad = client.post("/api/v1/users", json={"username": "y", "role": "boss", "password": "short"})
    assert bad.status_code == 400
    assert "role 'boss' is not one of" in bad.get_json()["error"] and "at least 8 characters" in bad.get_json()["error"]
    assert "night-shift" in {u["username"] for u in client.get("/api/v1/users").get_json()}
    key = client.post("/api/v1/apikeys", json={"name": "街道App", "role": "intake"}).get_json()["api_key"]
    client.post("/logout")
    lon, lat = _centre(app)
    posted = client.post(
        "/open311/v2/requests.json", json={"api_key": key, "service_code": "市容环境", "lat": lat, "long": lon}
    )
    assert posted.status_code == 201
    assert client.post("/login", data={"username": "night-shift", "password": "night-shift-1"}).status_code == 302


def test_a_key_in_use_is_refused_on_the_request_after_its_revocation(client, app):
    login(client, "admin1")
    made = client.post("/api/v1/apikeys", json={"name": "热线二号", "role": "intake"}).get_json()
    key_id = next(k["id"] for k in client.get("/api/v1/apikeys").get_json() if k["name"] == "热线二号")
    client.post("/logout")
    for _ in range(3):  # in use: the server answers the key from its cache
        assert _post(client, app, api_key=made["api_key"]).status_code == 201
    login(client, "admin1")
    assert client.delete(f"/api/v1/apikeys/{key_id}").status_code in (200, 204)
    client.post("/logout")
    refused = _post(client, app, api_key=made["api_key"])
    assert refused.status_code == 401, f"a revoked key still posts: HTTP {refused.status_code}"
    assert _post(client, app).status_code == 201  # the other keys still work


def test_the_area_for_intake_is_read_by_the_warm_up_not_the_first_report(demo_db, tmp_path):
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, path)
    application = create_app(path, clock=lambda: DEMO_END)
    try:
        gate = application.gridtwin_gate
        assert application.gridtwin_data.warmed.wait(120)
        # read before any request asked for it, and before the warm-up said it was done: the server's stop waits
        # for that before it closes the database, which must not happen under the area's read
        assert gate._area is not None
    finally:
        application.gridtwin_data.close()
