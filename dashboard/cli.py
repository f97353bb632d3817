"""The `gridtwin` console script: the pipelines' commands plus ``serve`` and ``demo``, which start the dashboard.

The entry point sits here, at the top of the import graph, so that ``pipelines`` never imports
``dashboard``: :func:`pipelines.cli.add_commands` supplies every data command and this module adds
the two that need a web server.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path

from pipelines import cli as pipelines_cli
from pipelines.cli import DEFAULT_DB
from pipelines.errors import GridtwinError

DEMO_DB = Path("data") / "demo.duckdb"


def cmd_serve(args) -> None:
    db = Path(args.db)
    if not db.exists():
        raise GridtwinError(f"database {db} does not exist: build one with `gridtwin generate --db {db}`")
    if args.archive:
        from pipelines.archive.layout import require_incidents

        require_incidents(args.archive)  # before the app starts its threads
    serve(db, args, live_feed=args.live)


def cmd_demo(args) -> None:
    db = Path(args.db)
    if db == DEMO_DB:  # the default place of the demo city: its folder is ours to make (any other --db must exist)
        db.parent.mkdir(exist_ok=True)
    pipelines_cli.prepare_demo(db)
    if args.no_serve:
        return
    serve(db, args, live_feed=True)


def serve(db: Path, args, live_feed: bool) -> None:
    """Run the dashboard and API on waitress (one process, ``--threads`` threads) until Ctrl+C."""
    from dashboard.app import create_app
    from dashboard.security import Settings
    from dashboard.server import make_server

    if args.threads < 1 or args.threads > 64:
        raise GridtwinError(f"--threads must be from 1 to 64, got {args.threads}")
    settings = Settings.from_env(secure_cookies=args.secure_cookies, behind_proxy=args.behind_proxy)
    app = create_app(db, tile_url=args.tiles, live_feed=live_feed, settings=settings)
    try:
        if getattr(args, "archive", None):
            from pipelines.archive.layout import open_cold_history

            app.gridtwin_data.cold = open_cold_history(app.gridtwin_data.con, args.archive)
            print(f"cold history before {app.gridtwin_data.cold.hot_start} from the archive {args.archive}")
        try:
            http = make_server(app.server, args.host, args.port, settings, threads=args.threads)
        except OSError as exc:
            raise GridtwinError(
                f"cannot listen on {args.host}:{args.port} ({exc.strerror}): choose another --port"
            ) from exc
        where = "localhost" if args.host in ("127.0.0.1", "0.0.0.0") else args.host
        url = f"http://{where}:{http.effective_port}/"
        # before the address is printed: whoever reads it may stop the server at once (a signal that came
        # before these handlers would be lost when SIGINT is ignored, as in a script's background job)
        signal.signal(signal.SIGTERM, _stop)  # a service manager's stop closes the database like Ctrl+C
        signal.signal(signal.SIGINT, _stop)  # also when started in the background of a script (SIGINT ignored)
        print(f"gridtwin dashboard on {url}  (wall screen: {url}?screen=wall; {args.threads} threads)")
        if live_feed:
            print("live feed on: a simulated incident arrives every few seconds; Ctrl+C stops")
        sys.stdout.flush()
        http.run()
    finally:
        if app.gridtwin_feed is not None:
            app.gridtwin_feed.stop()
        _close(app.gridtwin_data)


def _stop(signum, frame) -> None:
    raise KeyboardInterrupt


STOP_WAIT_S = 2.0


def _close(data) -> None:
    """Close the database, or, while the caches are still being built, leave without closing it.

    Closing DuckDB under a query that another thread runs aborts the process, and the cache build takes
    minutes at city scale: so the process ends at once instead, after taking the write lock (no commit
    is half done; every acknowledged write is committed, the file is whole).
    """
    if data.warmed.wait(STOP_WAIT_S):
        data.close()
        return
    data.db.lock.acquire(timeout=10 * STOP_WAIT_S)
    print("interrupted: nothing partial was committed (the caches were still being built)", file=sys.stderr)
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(130)


def build_parser() -> argparse.ArgumentParser:
    """Every `gridtwin` command: the pipelines' ones, then serve and demo."""
    parser, sub = pipelines_cli.build_parser()

    p = sub.add_parser("serve", help="start the dashboard on a database")
    p.add_argument("--db", default=DEFAULT_DB)
    _server_options(p)
    p.add_argument("--live", action="store_true", help="also run the simulated live incident feed")
    p.add_argument("--archive", help="GeoParquet archive (gridtwin export) holding history older than the database's")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("demo", help="build the demo city if missing and start the dashboard with a live feed")
    p.add_argument("--db", default=str(DEMO_DB))
    _server_options(p)
    p.add_argument("--no-serve", action="store_true", help="only build the demo database and print its summary")
    p.set_defaults(func=cmd_demo)
    return parser


def _server_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    p.add_argument("--port", type=int, default=8050, help="port (default: %(default)s)")
    p.add_argument("--tiles", help="optional XYZ tile URL template, e.g. an intranet server or 天地图 with your key")
    p.add_argument("--threads", type=int, default=8, help="request threads of the one server process (default: 8)")
    p.add_argument(
        "--secure-cookies", action="store_true", help="send cookies over HTTPS only (serve behind a TLS proxy)"
    )
    p.add_argument(
        "--behind-proxy",
        action="store_true",
        help="trust one reverse proxy's X-Forwarded-For/-Proto/-Host (client address, https, host)",
    )


def main(argv: list[str] | None = None) -> int:
    return pipelines_cli.main(argv, build_parser())


if __name__ == "__main__":
    sys.exit(main())
