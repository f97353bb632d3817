"""The console script: the pipelines' commands plus serve and demo."""

from __future__ import annotations

import shutil

import pytest

from dashboard.cli import build_parser, main


def test_help_lists_the_pipelines_commands_and_the_server_ones(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    out = capsys.readouterr().out
    for command in ("generate", "load", "summary", "coverage", "user", "apikey", "simulate", "serve", "demo"):
        assert command in out


def test_serve_without_a_database_says_how_to_build_one(tmp_path, capsys):
    assert main(["serve", "--db", str(tmp_path / "none.duckdb")]) == 1
    assert "gridtwin generate --db" in capsys.readouterr().err


def test_demo_no_serve_prints_the_city_and_its_accounts(demo_db, tmp_path, capsys):
    db = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, db)
    assert main(["demo", "--db", str(db), "--no-serve"]) == 0
    out = capsys.readouterr().out
    assert "网格 grids" in out and "demo accounts: viewer / demo-viewer" in out


def test_server_options_default_to_localhost():
    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.live) == ("127.0.0.1", 8050, False)


SLOW_WARM_SERVE = """
import signal, sys, time
signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a background job of a script starts
from dashboard.data import DashboardData
DashboardData.warm = lambda self: time.sleep(600)  # the city's cache build, minutes long
from dashboard.cli import main
sys.exit(main(["serve", "--db", sys.argv[1], "--port", "0"]))
"""


def test_serve_stops_on_sigint_while_its_caches_are_still_building(demo_db, tmp_path):
    """Started in the background of a script (SIGINT ignored), with the cache build still running: Ctrl+C
    (SIGINT) stops it within seconds, and the file opens again with everything in it."""
    import signal
    import subprocess
    import sys
    import time

    from pipelines.store import connect

    db = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, db)
    proc = subprocess.Popen(
        [sys.executable, "-c", SLOW_WARM_SERVE, str(db)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert "gridtwin dashboard on" in proc.stdout.readline()
        proc.send_signal(signal.SIGINT)
        start = time.monotonic()
        code = proc.wait(timeout=20)
        assert time.monotonic() - start < 8
    finally:
        proc.kill()
    assert code == 130 and "interrupted" in proc.stderr.read()
    con = connect(db)
    assert con.execute("SELECT count(*) FROM incidents").fetchone()[0] > 0
    con.close()
