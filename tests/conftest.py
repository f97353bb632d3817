import datetime as dt
from pathlib import Path

import pytest

DATA = Path(__file__).parent / "data"
DEMO_END = dt.datetime(2026, 11, 22, 18, 0)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def demo_db(tmp_path_factory) -> Path:
    """The full demo city, built once per test session (read-only use, please)."""
    from pipelines.generate import generate

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    generate(path, "demo", seed=7, end=DEMO_END, progress=False)
    return path


@pytest.fixture
def grid_db(tmp_path, data_dir) -> Path:
    """A fresh database holding the six test grids."""
    from pipelines.loaders import load_file

    path = tmp_path / "t.duckdb"
    load_file(path, "grids", data_dir / "grids.geojson", progress=False)
    return path
