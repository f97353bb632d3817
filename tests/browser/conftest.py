"""Real-browser tests: the app on a real HTTP server, driven by Debian's headless Chromium."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import threading
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("GRIDTWIN_CHROMIUM", "/usr/bin/chromium"))
CHROMEDRIVER = Path(os.environ.get("GRIDTWIN_CHROMEDRIVER", "/usr/bin/chromedriver"))
_SHOTS: list[Path] = []


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory) -> Path:
    folder = Path(os.environ.get("GRIDTWIN_SCREENSHOTS") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    _SHOTS.append(folder)
    return folder


def pytest_terminal_summary(terminalreporter):
    for folder in _SHOTS:
        terminalreporter.write_line(f"browser screenshots: {folder}")


@pytest.fixture(scope="session")
def live_db(tmp_path_factory) -> Path:
    """A demo city whose history ends now, so 'today' and 'the last 24 hours' hold data."""
    from pipelines.generate import generate

    path = tmp_path_factory.mktemp("browser") / "demo.duckdb"
    generate(path, "demo", seed=7, end=dt.datetime.now(), progress=False)
    return path


@pytest.fixture(scope="session")
def server(live_db, tmp_path_factory):
    """create_app on a copy of the live demo, served by the production server (waitress) on a free port."""
    from dashboard.app import create_app
    from dashboard.security import Settings
    from dashboard.server import make_server

    db = tmp_path_factory.mktemp("served") / "demo.duckdb"
    shutil.copy(live_db, db)
    settings = Settings.from_env()
    app = create_app(db, poll_ms=1000, settings=settings)
    from pipelines import auth
    from pipelines.cli import DEMO_ACCOUNTS

    for name, role, password in DEMO_ACCOUNTS:
        auth.add_user(app.gridtwin_data.con, name, role, password)
    http = make_server(app.server, "127.0.0.1", 0, settings)
    thread = threading.Thread(target=http.run, daemon=True)
    thread.start()
    # the first test must not race the start-up warm-up (a fresh clone also compiles the path kernels then)
    assert app.gridtwin_data.warmed.wait(180), "the server's caches did not warm within 180 s"
    yield {"url": f"http://127.0.0.1:{http.effective_port}", "app": app}
    http.close()
    app.gridtwin_data.close()


def login(driver, server: dict, user: str = "viewer") -> None:
    """Sign in through the login form (the dashboard is behind /login)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    from pipelines.cli import DEMO_ACCOUNTS

    password = next(p for name, _, p in DEMO_ACCOUNTS if name == user)
    driver.get(server["url"] + "/login")
    driver.find_element(By.NAME, "username").send_keys(user)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(driver, 10).until(lambda d: "/login" not in d.current_url)


def make_driver(
    width: int = 1600,
    height: int = 900,
    downloads: Path | None = None,
    server: dict | None = None,
    user: str = "viewer",
):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    if not CHROMIUM.exists() or not CHROMEDRIVER.exists():
        pytest.fail(
            f"browser tests need Debian's chromium and chromium-driver ({CHROMIUM}, {CHROMEDRIVER}): "
            "apt-get install chromium chromium-driver fonts-noto-cjk (.ci/run does this)"
        )
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-dev-shm-usage",
        f"--window-size={width},{height}",
        "--enable-unsafe-swiftshader",
        "--lang=zh-CN",
    ):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    if downloads is not None:
        options.add_experimental_option("prefs", {"download.default_directory": str(downloads)})
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    if downloads is not None:
        driver.execute_cdp_cmd("Page.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    if server is not None:
        login(driver, server, user)
    return driver


@pytest.fixture
def browser(server):
    driver = make_driver(server=server)
    yield driver
    driver.quit()


def console_errors(driver) -> list[str]:
    """SEVERE browser-console entries (WebGL performance notes from the software renderer are warnings)."""
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
