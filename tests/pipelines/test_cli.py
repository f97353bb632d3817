import shutil
import subprocess

from pipelines.cli import main


def test_generate_prints_a_summary(tmp_path, capsys):
    db = tmp_path / "x.duckdb"
    assert main(["generate", "--db", str(db), "--incidents", "500", "--end", "2026-11-22T18:00"]) == 0
    out = capsys.readouterr().out
    assert "网格 grids" in out and "300" in out and "事件 incidents" in out and "500" in out


def test_load_error_is_one_line_and_exit_code_1(grid_db, data_dir, capsys):
    code = main(["load", "incidents", str(data_dir / "hotline_12345_gbk.csv"), "--db", str(grid_db)])
    err = capsys.readouterr().err
    assert code == 1
    assert err.startswith("error: hotline_12345_gbk.csv: missing required column(s)") and err.count("\n") == 1


def test_load_with_map_prints_rejects_hint(grid_db, data_dir, capsys):
    code = main(
        [
            "load",
            "incidents",
            str(data_dir / "hotline_12345_gbk.csv"),
            "--db",
            str(grid_db),
            "--map",
            "incident_id=工单编号,category=诉求分类,reported_at=来电时间",
            "--map",
            "lon=东经",
            "--map",
            "lat=北纬",
        ]
    )
    out = capsys.readouterr().out
    assert code == 0
    assert "2 loaded, 5 rejected" in out and "gridtwin rejects" in out
    assert "rejected 1: closed status without resolved_at (load with --allow-closed-without-time" in out
    assert main(["rejects", "--db", str(grid_db), "--kind", "incidents"]) == 0
    assert "row 3 [A003]: no coordinates" in capsys.readouterr().out


def test_malformed_map_is_explained(grid_db, data_dir, capsys):
    assert (
        main(["load", "incidents", str(data_dir / "hotline_12345_gbk.csv"), "--db", str(grid_db), "--map", "category"])
        == 1
    )
    assert "write it as target=source" in capsys.readouterr().err


def test_summary_of_missing_database_says_how_to_create_it(tmp_path, capsys):
    assert main(["summary", "--db", str(tmp_path / "none.duckdb")]) == 1
    assert "gridtwin generate" in capsys.readouterr().err


def test_console_script_is_installed():
    script = shutil.which("gridtwin")
    assert script, "pip install -e . should put the gridtwin console script on PATH"
    out = subprocess.run([script, "--help"], capture_output=True, text=True, check=True)
    assert "generate" in out.stdout and "load" in out.stdout


def test_readme_example_loads_the_sample_hotline_export(tmp_path, capsys):
    db = str(tmp_path / "c.duckdb")
    assert main(["load", "grids", "data/sample_grids.geojson", "--db", db]) == 0
    assert (
        main(
            [
                "load",
                "incidents",
                "data/sample_12345.csv",
                "--db",
                db,
                "--map",
                "incident_id=工单编号,category=诉求分类,reported_at=来电时间,lon=东经,lat=北纬,description=问题描述,"
                "status=办理状态",
                "--allow-closed-without-time",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "40 rows read, 36 loaded, 4 rejected" in out
    assert "rejected 3: no coordinates" in out and "rejected 1: latitude and longitude look swapped" in out


def test_user_and_apikey_commands(tmp_path, capsys):
    from pipelines import auth, store

    db = str(tmp_path / "users.duckdb")
    assert main(["user", "add", "chief", "--role", "admin", "--password", "long-enough-1", "--db", db]) == 0
    assert "created user chief (admin)" in capsys.readouterr().out
    assert main(["user", "add", "chief", "--role", "admin", "--password", "short", "--db", db]) == 1
    assert "at least 8 characters" in capsys.readouterr().err
    assert main(["apikey", "add", "12345热线", "--db", db]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    con = store.connect(db)
    try:
        assert auth.login(con, "chief", "long-enough-1") == "admin"
        assert auth.login(con, "chief", "wrong-password") is None
        assert auth.key_role(con, key)[:2] == ("12345热线", "intake")
        stored = con.execute("SELECT password_hash FROM users").fetchone()[0] + str(
            con.execute("SELECT key_hash FROM api_keys").fetchone()[0]
        )
        assert "long-enough-1" not in stored and key not in stored
    finally:
        con.close()
    assert main(["user", "list", "--db", db]) == 0
    assert "chief" in capsys.readouterr().out


def test_disable_enable_delete_users_and_revoke_keys(tmp_path, capsys):
    from pipelines import auth, store
    from pipelines.store.accounts import save_session, session_row

    db = str(tmp_path / "revoke.duckdb")
    assert main(["user", "add", "night", "--role", "dispatcher", "--password", "long-enough-1", "--db", db]) == 0
    assert main(["apikey", "add", "hotline", "--db", db]) == 0
    key = capsys.readouterr().out.strip().splitlines()[-1]
    con = store.connect(db)
    save_session(con, "digest-1", "night", "csrf")
    assert session_row(con, "digest-1", 3600, 3600)[:2] == ("night", "dispatcher")
    key_id = auth.key_role(con, key)[2]
    con.close()

    assert main(["user", "disable", "night", "--db", db]) == 0
    assert "disabled user night" in capsys.readouterr().out
    con = store.connect(db)
    assert auth.login(con, "night", "long-enough-1") is None
    assert session_row(con, "digest-1", 3600, 3600) is None
    assert con.execute("SELECT count(*) FROM sessions").fetchone()[0] == 0
    con.close()
    assert main(["user", "enable", "night", "--db", db]) == 0
    con = store.connect(db)
    assert auth.login(con, "night", "long-enough-1") == "dispatcher"
    con.close()
    assert main(["user", "delete", "night", "--db", db]) == 0
    assert main(["user", "delete", "night", "--db", db]) == 1
    assert "there is no user 'night'" in capsys.readouterr().err

    assert main(["apikey", "list", "--db", db]) == 0
    listed = capsys.readouterr().out
    assert key_id in listed and "hotline" in listed and key not in listed
    assert main(["apikey", "revoke", key_id, "--db", db]) == 0
    assert main(["apikey", "revoke", "Knope", "--db", db]) == 1
    con = store.connect(db)
    try:
        assert auth.key_role(con, key) is None
        assert con.execute("SELECT revoked_at IS NOT NULL FROM api_keys").fetchone()[0]
    finally:
        con.close()


def test_demo_refuses_a_database_generate_did_not_make(tmp_path):
    import pytest

    from pipelines import store
    from pipelines.cli import prepare_demo
    from pipelines.errors import GridtwinError
    from pipelines.store.accounts import users_frame

    db = tmp_path / "real.duckdb"
    store.connect(db).close()
    with pytest.raises(GridtwinError, match="not a demo city.*gridtwin generate"):
        prepare_demo(db)
    con = store.connect(db, read_only=True)
    try:
        assert users_frame(con).empty
    finally:
        con.close()


def test_database_and_wal_are_owner_only(tmp_path):
    import os
    import stat

    from pipelines import store

    db = tmp_path / "private.duckdb"
    con = store.connect(db)
    con.execute("INSERT INTO meta VALUES ('x', 'y')")
    modes = {p.name: stat.S_IMODE(os.stat(p).st_mode) for p in tmp_path.iterdir()}
    con.close()
    assert modes["private.duckdb"] == 0o600
    assert all(mode == 0o600 for mode in modes.values()), modes


def test_demo_creates_its_documented_accounts(demo_db, tmp_path):
    from pipelines import auth, store
    from pipelines.cli import DEMO_ACCOUNTS, _demo_accounts
    from pipelines.store.meta import meta_value

    db = tmp_path / "demo.duckdb"
    shutil.copy(demo_db, db)
    _demo_accounts(db)
    _demo_accounts(db)  # a second start leaves them as they are
    con = store.connect(db)
    try:
        for name, role, password in DEMO_ACCOUNTS:
            assert auth.login(con, name, password) == role
        assert "viewer / demo-viewer" in meta_value(con, "demo_accounts")
    finally:
        con.close()
