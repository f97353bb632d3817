"""`gridtwin simulate` against a real HTTP server: requests arrive through the public API and move along."""

from __future__ import annotations

import threading

import pytest
from werkzeug.serving import make_server

from pipelines.cli import main
from pipelines.incidents.http_simulator import run


@pytest.fixture
def served(app):
    http = make_server("127.0.0.1", 0, app.server, threaded=True)
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{http.server_port}"
    http.shutdown()


def test_simulator_posts_and_works_requests(app, served):
    with app.gridtwin_data.cursor() as cur:
        before = cur.execute("SELECT count(*) FROM incidents WHERE source = 'Open311接口'").fetchone()[0]
    posted, moved = run(served, app.intake_key, rate=20, duration_s=3.0, advance_key=app.dispatch_key, seed=3)
    with app.gridtwin_data.cursor() as cur:
        after = cur.execute("SELECT count(*) FROM incidents WHERE source = 'Open311接口'").fetchone()[0]
        steps = cur.execute("SELECT count(*) FROM incident_events WHERE actor = 'key:dispatch-bot'").fetchone()[0]
    assert posted >= 5
    assert after - before == posted
    assert moved >= 2 and steps >= moved


def test_simulate_command_errors_are_one_line(capsys):
    assert main(["simulate", "--url", "http://127.0.0.1:9", "--api-key", "x", "--duration", "1"]) == 1
    assert "cannot reach http://127.0.0.1:9" in capsys.readouterr().err
