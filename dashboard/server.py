"""The production HTTP server: waitress, one process, a capped thread pool, limits on connections and bodies.

One process because DuckDB has one writer; threads serve requests from that process (the
:class:`~pipelines.store.Database` serialises writes).  :func:`make_server` is used by
``gridtwin serve``/``demo``, the browser tests and the intake benchmark alike, so all of them
run on the same server and settings.
"""

from __future__ import annotations

import logging

import waitress
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
