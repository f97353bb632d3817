"""The production HTTP server: waitress, one process, a capped thread pool, limits on connections and bodies.

One process because DuckDB has one writer; threads serve requests from that process (the
:class:`~pipelines.store.Database` serialises writes).  :func:`make_server` is used by
``gridtwin serve``/``demo``, the browser tests and the intake benchmark alike, so all of them
run on the same server and settings.
"""

from __future__ import annotations

import gzip
import logging
import threading

import waitress
from flask import Flask, Response, request
from waitress.server import BaseWSGIServer

from dashboard.security import Settings

CONNECTION_LIMIT = 500
"""Open connections at most; more wait in the listen backlog while the server answers the others."""
CHANNEL_TIMEOUT_S = 30
"""An idle connection is closed after this many seconds."""
DEFAULT_THREADS = 8


def make_server(wsgi_app, host: str, port: int, settings: Settings, threads: int = DEFAULT_THREADS) -> BaseWSGIServer:
    """A waitress server bound to host:port (port 0: a free one, see ``.effective_port``); ``.run()`` serves."""
    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "task queue depth" is expected under load
    return waitress.create_server(
        wsgi_app,
        host=host,
        port=port,
        threads=threads,
        connection_limit=CONNECTION_LIMIT,
        channel_timeout=CHANNEL_TIMEOUT_S,
        cleanup_interval=2,  # idle connections go within 32 s of their last byte
        max_request_body_size=settings.max_body_bytes,
        max_request_header_size=64 * 1024,
        ident="gridtwin",
        expose_tracebacks=False,
        clear_untrusted_proxy_headers=not settings.behind_proxy,
    )


COMPRESS_TYPES = ("text/", "application/javascript", "application/json", "image/svg+xml")
COMPRESS_MIN_BYTES = 1024
STATIC_PREFIXES = ("/_dash-component-suites/", "/assets/", "/_favicon.ico")
"""Files that change only with a release (Dash fingerprints their URLs, or adds ``?m=<mtime>``)."""
DYNAMIC_GZIP_LEVEL = 1
"""Callback replies (figures) are compressed fast: a 2 MB figure in ~15 ms, to about a fifth."""


class StaticCache:
    """Compressed static files, compressed once per file version and kept for the life of the process."""

    def __init__(self):
        self._lock = threading.Lock()
        self._files: dict[tuple[str, int, str], bytes] = {}

    def gzip(self, key: tuple[str, int, str], body: bytes) -> bytes:
        with self._lock:
            cached = self._files.get(key)
        if cached is None:
            cached = gzip.compress(body, compresslevel=6, mtime=0)
            with self._lock:
                self._files[key] = cached
        return cached


def install_compression(server: Flask) -> None:
    """gzip for text replies and year-long caching for versioned static files (first paint: the 4.8 MB
    plotly bundle travels as 1.4 MB once, then comes from the browser's cache).

    waitress has no compression of its own and Flask-Compress would be a new dependency: this hook is
    the whole of it.  Static files are compressed once (level 6) and cached; callback and API replies
    over 1 KB at level 1 (fast), so the figures a drill-down sends are about five times smaller.
    """
    cache = StaticCache()

    @server.after_request
    def compress(response: Response) -> Response:
        path = request.path
        static = path.startswith(STATIC_PREFIXES)
        if static and response.status_code == 200 and request.args.get("m"):
            response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
        streamed = response.direct_passthrough or response.is_streamed
        if static and streamed and response.status_code == 200 and response.mimetype.startswith(COMPRESS_TYPES):
            response.direct_passthrough = False  # /assets/ files come as a file stream: read them to compress
            response.make_sequence()
        if not _compressible(response):
            return response
        response.vary.add("Accept-Encoding")
        if "gzip" not in request.headers.get("Accept-Encoding", ""):
            return response
        body = response.get_data()
        if static:
            packed = cache.gzip((path, len(body), request.query_string.decode()), body)
        else:
            packed = gzip.compress(body, compresslevel=DYNAMIC_GZIP_LEVEL, mtime=0)
        response.set_data(packed)
        response.headers["Content-Encoding"] = "gzip"
        response.headers["Content-Length"] = str(len(packed))
        return response


def _compressible(response: Response) -> bool:
    return (
        response.status_code == 200
        and not response.direct_passthrough
        and not response.is_streamed
        and "Content-Encoding" not in response.headers
        and response.mimetype.startswith(COMPRESS_TYPES)
        and (response.content_length or 0) >= COMPRESS_MIN_BYTES
    )
