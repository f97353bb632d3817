"""Finding 12: loads that damage data — a reload reopens a closed incident, an overlapping grid steals its
neighbours' incidents, a .prj-less Shapefile is guessed as WGS84, oversized text is stored, swapped coordinates
are misnamed, and a mistyped --db creates directories."""

from __future__ import annotations

import csv
import json
import zipfile

import geopandas as gpd
import pytest

from tests.security.conftest import cli_ok, read_db, run_cli

BOWTIE_OVER_DEMO = [(120.14, 30.255), (120.16, 30.27), (120.16, 30.255), (120.14, 30.27), (120.14, 30.255)]
BOWTIE_ALONE = [(120.30, 30.30), (120.302, 30.302), (120.302, 30.30), (120.30, 30.302), (120.30, 30.30)]


def _write_csv(path, rows: list[dict]) -> None:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _grid_file(path, code: str, ring) -> None:
    feature = {
        "type": "Feature",
        "properties": {"grid_code": code, "name": "新网格", "community_name": "新社区", "street_name": "新街道"},
        "geometry": {"type": "Polygon", "coordinates": [[list(p) for p in ring]]},
    }
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [feature]}), encoding="utf-8")


def test_reload_never_reopens_a_closed_incident(seed, tmp_path):
    db = seed.copy(tmp_path / "city.duckdb")
    incident, category, lon, lat, reported = read_db(
        db,
        "SELECT incident_id, category, lon, lat, reported_at FROM incidents WHERE status = 'evaluated' "
        "ORDER BY incident_id LIMIT 1",
    )[0]
    events_before = read_db(db, "SELECT count(*) FROM incident_events WHERE incident_id = ?", [incident])[0][0]
    path = tmp_path / "again.csv"
    row = {"incident_id": incident, "category": category, "reported_at": str(reported), "lon": lon, "lat": lat}
    _write_csv(path, [{**row, "status": "reported", "description": "重新导入的描述"}])
    done = run_cli("load", "incidents", str(path), "--db", str(db))
    status = read_db(db, "SELECT status FROM incidents WHERE incident_id = ?", [incident])
    history = read_db(db, "SELECT from_status, to_status FROM incident_events WHERE incident_id = ?", [incident])
    assert status == [("evaluated",)], f"reloading {incident} changed its status to {status}\n{done.stdout}"
    assert len(history) == events_before, f"reloading {incident} rewrote its history: {history}"
    assert "updated" in done.stdout or "reject" in done.stdout, done.stdout


def test_grid_overlapping_others_is_rejected(seed, tmp_path):
    db = seed.copy(tmp_path / "city.duckdb")
    path = tmp_path / "bowtie.geojson"
    _grid_file(path, "330180998001001", BOWTIE_OVER_DEMO)
    grids_before = read_db(db, "SELECT count(*) FROM grids")[0][0]
    incidents_of = dict(read_db(db, "SELECT grid_code, count(*) FROM incidents GROUP BY 1"))
    run_cli("load", "grids", str(path), "--db", str(db))
    assert read_db(db, "SELECT count(*) FROM grids")[0][0] == grids_before, "an overlapping grid was loaded"
    assert dict(read_db(db, "SELECT grid_code, count(*) FROM incidents GROUP BY 1")) == incidents_of
    reasons = " ".join(r[0] for r in read_db(db, "SELECT reason FROM rejects WHERE kind = 'grids'"))
    assert "overlap" in reasons and "330180" in reasons, f"the reject names no overlapped grid: {reasons!r}"


def test_self_intersecting_grid_alone_is_still_repaired(grid_db, tmp_path):
    """Held today and must keep holding: a bow-tie that overlaps nothing is repaired and loaded."""
    path = tmp_path / "alone.geojson"
    _grid_file(path, "330106999001001", BOWTIE_ALONE)
    cli_ok("load", "grids", str(path), "--db", str(grid_db))
    assert read_db(grid_db, "SELECT count(*) FROM grids WHERE grid_code = '330106999001001'")[0][0] == 1


def test_shapefile_without_prj_needs_crs(tmp_path, data_dir):
    frame = gpd.read_file(data_dir / "grids.geojson").set_crs(None, allow_override=True)
    folder = tmp_path / "shp"
    folder.mkdir()
    frame.to_file(folder / "grids.shp")
    archive = tmp_path / "grids.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for part in folder.iterdir():
            if part.suffix != ".prj":
                zipped.write(part, part.name)
    db = tmp_path / "new.duckdb"
    done = run_cli("load", "grids", str(archive), "--db", str(db))
    assert done.returncode == 1, f"a Shapefile without .prj loaded:\n{done.stdout}"
    assert "--crs" in done.stderr, done.stderr


@pytest.mark.parametrize(("field", "length"), [("description", 4001), ("description", 1_000_000), ("address", 201)])
def test_oversized_text_is_rejected_per_row(grid_db, tmp_path, field, length):
    good = {
        "incident_id": "T1",
        "category": "噪声扰民",
        "reported_at": "2026-11-20 08:00",
        "lon": 120.151,
        "lat": 30.251,
    }
    bad = {**good, "incident_id": "T2", field: "长" * length}
    path = tmp_path / "long.csv"
    _write_csv(path, [{**good, field: "短"}, bad])
    run_cli("load", "incidents", str(path), "--db", str(grid_db))
    stored = [r[0] for r in read_db(grid_db, "SELECT incident_id FROM incidents ORDER BY 1")]
    assert stored == ["T1"], f"a {field} of {length:,} characters was stored: {stored}"
    rejected = read_db(grid_db, "SELECT record_id, reason FROM rejects WHERE kind = 'incidents'")
    assert [r[0] for r in rejected] == ["T2"] and field in rejected[0][1], rejected


def test_swapped_coordinates_are_named_swapped(grid_db, tmp_path):
    rows = [
        {
            "incident_id": f"S{i}",
            "category": "噪声扰民",
            "reported_at": "2026-11-20 08:00",
            "lon": 30.251,
            "lat": 120.151,
        }
        for i in range(5)
    ]
    path = tmp_path / "swapped.csv"
    _write_csv(path, rows)
    done = run_cli("load", "incidents", str(path), "--db", str(grid_db))
    said = (done.stdout + done.stderr + " ".join(r[0] for r in read_db(grid_db, "SELECT reason FROM rejects"))).lower()
    assert "swapped" in said and "--map" in said, said[-400:]
    assert "epsg:4547" not in said, said[-400:]


def test_db_in_a_missing_directory_is_an_error(tmp_path, data_dir):
    target = tmp_path / "no" / "such" / "dir" / "city.duckdb"
    done = run_cli("load", "grids", str(data_dir / "grids.geojson"), "--db", str(target))
    assert done.returncode == 1, done.stdout
    assert not (tmp_path / "no").exists(), "a mistyped --db created directories"
