"""Dashboard fixtures on copies of the demo city: the view models, and a served app with one user per role."""

from __future__ import annotations

import shutil

import pytest

from dashboard.app import create_app
from dashboard.data import DashboardData
from dashboard.security import Settings
from pipelines import auth
from tests.conftest import DEMO_END

PASSWORD = "secret-pass-1"


@pytest.fixture(scope="module")
def data(demo_db, tmp_path_factory):
    """The view models on a private copy of the demo city, its clock at the demo's end."""
    path = tmp_path_factory.mktemp("views") / "demo.duckdb"
    shutil.copy(demo_db, path)
    view = DashboardData(path, clock=lambda: DEMO_END)
    yield view
    view.close()


@pytest.fixture
def fresh_data(demo_db, tmp_path):
    """The dashboard's data on a copy of the demo of its own (for tests that write)."""
    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, path)
    view = DashboardData(path, clock=lambda: DEMO_END)
    yield view
    view.close()


@pytest.fixture(scope="module")
def app(demo_db, tmp_path_factory):
    path = tmp_path_factory.mktemp("api") / "demo.duckdb"
    shutil.copy(demo_db, path)
    # the read limit is tested on its own app: here many tests share one client address
    application = create_app(path, clock=lambda: DEMO_END, settings=Settings(open311_read_limit="100000/minute"))
    con = application.gridtwin_data.con
    for name, role in (("viewer1", "viewer"), ("dispatcher1", "dispatcher"), ("admin1", "admin")):
        auth.add_user(con, name, role, PASSWORD)
    application.intake_key = auth.new_api_key(con, "hotline", "intake")
    application.dispatch_key = auth.new_api_key(con, "dispatch-bot", "dispatcher")
    yield application
    application.gridtwin_data.close()


def login(client, user: str, password: str = PASSWORD):
    """Log in through the form; later requests of ``client`` carry the session's X-CSRF-Token."""
    reply = client.post("/login", data={"username": user, "password": password})
    cookie = client.get_cookie("gridtwin_csrf")
    if cookie is not None:
        client.environ_base["HTTP_X_CSRF_TOKEN"] = cookie.value
    return reply
