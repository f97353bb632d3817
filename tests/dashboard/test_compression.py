"""Static files and callback replies are gzipped for browsers that ask; versioned files are cached for a year."""

from __future__ import annotations

import gzip

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
