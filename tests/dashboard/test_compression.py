"""Static files and callback replies are gzipped for browsers that ask; versioned files are cached for a year."""

from __future__ import annotations

import gzip
import json
import re
from pathlib import Path

import plotly
import plotly.graph_objects as go

from dashboard import bundles, server
from tests.dashboard.conftest import login


def test_plotly_bundle_travels_gzipped_and_assets_are_cached(app):
    client = app.server.test_client()
    login(client, "viewer1")
    path = "/_dash-component-suites/plotly/package_data/plotly.min.js"
    plain = client.get(path)
    packed = client.get(path, headers={"Accept-Encoding": "gzip, deflate, br"})
    assert "Content-Encoding" not in plain.headers  # a client that does not ask gets the plain file
    assert packed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed.headers["Vary"]
    assert gzip.decompress(packed.data) == plain.data
    assert len(packed.data) < len(plain.data) / 2
    again = client.get(path, headers={"Accept-Encoding": "gzip"})
    assert again.data == packed.data  # compressed once, then served from memory
    css = client.get("/assets/style.css?m=123")
    assert "max-age=31536000" in css.headers["Cache-Control"]


def test_callback_replies_are_gzipped(app):
    client = app.server.test_client()
    login(client, "viewer1")
    reply = client.get("/_dash-dependencies", headers={"Accept-Encoding": "gzip"})
    assert reply.headers["Content-Encoding"] == "gzip"
    assert gzip.decompress(reply.data).startswith(b"[")


def test_page_names_plotly_and_the_lazy_chunks_by_versioned_cacheable_urls(app):
    """plotly.js (the bundle of the traces drawn) is preloaded and dcc's chunks are deferred scripts, from
    versioned URLs cached for a year and gzipped; the unversioned URLs Dash would use are revalidated on
    every page load."""
    client = app.server.test_client()
    login(client, "viewer1")
    page = client.get("/").get_data(as_text=True)
    preload = re.search(r'<link rel="preload" as="script" id="gt-plotly" href="([^"]+)">', page)
    assert preload and page.index(preload.group(0)) < page.index("<title>")  # first thing in the head
    assert re.fullmatch(r"/assets/vendor/plotly-gridtwin\.min\.js\?m=\d+", preload.group(1))
    assert "<script" not in page[page.rindex("<", 0, page.index("vendor/")) :][:10]  # not also a page script
    chunks = re.findall(r'<script defer src="([^"]+/dcc/async-(\w+)\.v[\w-]+m\d+\.js)"></script>', page)
    assert sorted(name for _, name in chunks) == sorted(bundles.CHUNKS)
    assert page.index(chunks[0][0]) < page.index("dash_renderer")
    for url in [preload.group(1), *(u for u, _ in chunks)]:
        reply = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert reply.status_code == 200 and "max-age=31536000" in reply.headers["Cache-Control"], url
        assert reply.headers["Content-Encoding"] == "gzip", url
    bundle = gzip.decompress(client.get(preload.group(1), headers={"Accept-Encoding": "gzip"}).data)
    assert bundle == bundles.PLOTLY.read_bytes()
    assert "max-age" not in client.get("/_dash-component-suites/dash/dcc/async-graph.js").headers.get(
        "Cache-Control", ""
    )  # why the versioned URLs are needed


def test_plotly_bundle_is_the_version_the_plotly_package_ships():
    """Rebuild dashboard/plotly_bundle (npm ci && node build.js) when the plotly package changes its plotly.js."""
    shipped = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
    version = re.search(rb"plotly\.js v(\d+\.\d+\.\d+)", shipped.read_bytes()[:200]).group(1).decode()
    head = bundles.PLOTLY.read_bytes()[:200].decode()
    assert f"plotly.js v{version} " in head
    assert head.split(": ", 1)[1].split(" */")[0].split(", ") == ["core", *bundles.TRACES[1:]]
    lock = json.loads((Path(bundles.__file__).parent / "plotly_bundle" / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/plotly.js"]["version"] == version


def test_every_trace_type_the_dashboard_draws_is_in_the_bundle():
    """A figure of a trace type left out of the bundle would not draw: the source names only bundled types."""
    known = set(go.Figure()._data_validator.class_strs_map)  # every plotly trace type
    source = "\n".join(p.read_text() for p in Path(bundles.__file__).parent.rglob("*.py"))
    drawn = set(re.findall(r"[\"']type[\"']: [\"'](\w+)[\"']", source)) & known
    assert drawn and drawn <= set(bundles.TRACES), drawn - set(bundles.TRACES)


def test_every_file_of_the_page_is_compressed_on_the_warm_up_thread_before_a_browser_asks(app, monkeypatch):
    assert app.gridtwin_data.warmed.wait(120)
    files = bundles.page_files(app)
    assert bundles.plotly_url() in files and any("dash_renderer" in url for url in files)
    assert any("async-graph" in url for url in files) and len(files) >= 15
    calls = []
    monkeypatch.setattr(server.gzip, "compress", lambda *a, **k: calls.append(a) or b"")
    client = app.server.test_client()  # no session: static files are open (no data in them)
    for url in files:
        reply = client.get(url, headers={"Accept-Encoding": "gzip"})
        assert reply.status_code in (200, 302), url  # the favicon redirects
    reply = client.get(bundles.plotly_url(), headers={"Accept-Encoding": "gzip"})
    assert reply.headers["Content-Encoding"] == "gzip" and len(reply.data) > 500_000
    assert calls == []  # every one served from the compressed copy made at start-up


def test_a_failed_bundle_warm_up_leaves_the_caches_after_it_to_warm(caplog):
    """The warm-up thread compresses the page's files first, then builds the data caches: a failure of the first
    must not stop the rest (the server's stop waits for the caches to be warm)."""

    class Broken:
        def index(self):
            raise OSError("no such file")

    bundles.warm(Broken())  # does not raise
    assert "compressing the page's files ahead failed" in caplog.text
