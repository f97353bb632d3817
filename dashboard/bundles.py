"""plotly.js and dcc's lazy chunks from versioned, year-long cacheable URLs; plotly.js cut to the traces drawn.

Dash loads plotly.js and dcc's lazy chunks (graph, dropdown, date picker, slider) only when a component
needing them mounts, from URLs without a version: every page load asked the server again, and the page's
first callbacks waited for the chunks.  The full plotly.js (4.8 MB, every trace type) took 0.8-1.2 s to
compile and start in this machine's Chromium whenever the browser had no compiled copy of it (a cold
load, and the first load after one), on the critical path of the first paint.  Here:

- plotly.js is ``assets/vendor/plotly-gridtwin.min.js``: plotly.js's own sources, the version the plotly
  package ships, with only the traces the pages draw (scatter, bar, scattermap, choroplethmap,
  densitymap), built by ``plotly_bundle/`` (3.0 MB, about 0.2 s to start).  The page preloads it from
  the top of its head (``<link rel=preload id=gt-plotly>``, a ``?m=<mtime>`` URL cached for a year) and
  ``assets/bundles.js`` points Dash's plotly URL at it, so ``dcc.Graph`` runs the file from the cache
  when the first graph mounts, while the server answers the page's callbacks;
- the chunks are ``defer`` scripts of the page under Dash's fingerprinted URLs (``.v<version>m<mtime>.``).
"""

from __future__ import annotations

import importlib
import logging
import re
from pathlib import Path

from dash.fingerprint import build_fingerprint

log = logging.getLogger(__name__)

CHUNKS = ("graph", "dropdown", "datepicker", "slider")
"""dcc's lazy chunks the pages use (not markdown, mathjax, highlight, upload)."""
PLOTLY = Path(__file__).parent / "assets" / "vendor" / "plotly-gridtwin.min.js"
"""The bundle (``plotly_bundle/build.js``); ``assets/vendor`` is left out of the page's automatic scripts."""
PLOTLY_LINK_ID = "gt-plotly"
TRACES = ("scatter", "bar", "scattermap", "choroplethmap", "densitymap")
"""The trace types in the bundle: a figure of any other type would not draw (tested against the pages)."""


def versioned_url(namespace: str, module: str, relative_path: str, prefix: str = "/") -> str:
    """Dash's fingerprinted component-suite URL of ``relative_path`` inside ``module``'s folder."""
    package = importlib.import_module(module)
    path = Path(package.__file__).parent / relative_path
    stamp = int(path.stat().st_mtime)
    folder = module.removeprefix(namespace).strip(".").replace(".", "/")  # dash.dcc: dcc/
    suite_path = f"{folder}/{relative_path}" if folder else relative_path
    return f"{prefix}_dash-component-suites/{namespace}/{build_fingerprint(suite_path, package.__version__, stamp)}"


def plotly_url(prefix: str = "/") -> str:
    """The bundle's asset URL with its version (``?m=<mtime>``, as Dash versions assets)."""
    return f"{prefix}assets/vendor/{PLOTLY.name}?m={int(PLOTLY.stat().st_mtime)}"


def head_tags(prefix: str = "/") -> str:
    """The preload of plotly.js, first thing in the page's head."""
    url = plotly_url(prefix)
    return f'<link rel="preload" as="script" id="{PLOTLY_LINK_ID}" href="{url}">'


def chunk_tags(prefix: str = "/") -> str:
    """dcc's lazy chunks as deferred scripts (they run after the page is parsed, before its callbacks)."""
    return "".join(
        f'<script defer src="{versioned_url("dash", "dash.dcc", f"async-{name}.js", prefix)}"></script>'
        for name in CHUNKS
    )


def set_up(app) -> None:
    """Have Dash set up its scripts and walk ``assets/`` now: it does so at the first request of any path, which
    must come before :func:`page_files` can list the page's files (called in ``create_app``, before the server
    listens, so that no browser's request races the warm-up thread's)."""
    app.server.test_client().get(app.config.requests_pathname_prefix + "login")


def page_files(app) -> list[str]:
    """The local URLs of every static file the pages' index loads (scripts, styles, the preload)."""
    with app.server.test_request_context("/"):
        html = app.index()
    return [
        url
        for url in re.findall(r'(?:src|href)="([^"]+)"', html)
        if url.startswith(app.config.requests_pathname_prefix)
    ]


def warm(app) -> None:
    """Ask for every static file of the page once, gzip-compressed, so the server compresses them (plotly.js
    ~0.1-0.3 s, Dash's and React's bundles more) before the first browser does: run on the warm-up thread;
    static files are compressed once per process."""
    try:
        client = app.server.test_client()
        for url in page_files(app):
            client.get(url, headers={"Accept-Encoding": "gzip"})
    except Exception:  # the first browser then waits for it; the caches after it on this thread must still warm
        log.warning("compressing the page's files ahead failed; the first page load compresses them", exc_info=True)


def index(template: str, prefix: str = "/") -> str:
    """``template`` (a Dash index string) with the preload at the top of its head and the chunks before
    Dash's scripts."""
    return template.replace("<head>", "<head>" + head_tags(prefix), 1).replace(
        "{%scripts%}", chunk_tags(prefix) + "{%scripts%}", 1
    )
