"""Dash's callback endpoint answers a malformed request with a 4xx, never a 500.

``/_dash-update-component`` takes a JSON body naming outputs, inputs and state.  A browser running
this app's pages only sends well-formed bodies; anything else (a hand-written or fuzzed request, an
output that is a browser-side callback, values of the wrong type) used to surface as an unhandled
exception.  The guard wraps Dash's view: an unknown output is a 400 naming it, and any other
exception raised while answering is logged with its traceback and answered 400 — the request, not
the server, was at fault, and nothing was written (callbacks that write check their inputs first).
Exceptions the app has its own handler for (Dash's ``PreventUpdate`` → 204, …) pass through.
"""

from __future__ import annotations

import functools
import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)
ENDPOINT_SUFFIX = "_dash-update-component"


def install(server: Flask) -> None:
    """Wrap the view of every rule ending in ``_dash-update-component`` on ``server``."""
    for rule in list(server.url_map.iter_rules()):
        if rule.rule.endswith(ENDPOINT_SUFFIX):
            server.view_functions[rule.endpoint] = _guarded(server, server.view_functions[rule.endpoint])


def _handled(server: Flask) -> tuple[type[BaseException], ...]:
    """The exception classes ``server`` answers itself (app-wide handlers, e.g. Dash's PreventUpdate)."""
    return (HTTPException, *server.error_handler_spec.get(None, {}).get(None, {}))


def _guarded(server: Flask, view):
    @functools.wraps(view)
    def guarded(*args, **kwargs):
        try:
            return view(*args, **kwargs)
        except _handled(server):
            raise
        except KeyError as exc:
            log.info("callback request for an unknown output refused: %s", exc)
            return jsonify(error=f"no server callback answers this output (or a value is missing): {exc}"), 400
        except Exception as exc:  # the boundary: a malformed request must not become a 500
            log.warning("malformed callback request refused", exc_info=True)
            return jsonify(error=f"the callback request could not be answered: {type(exc).__name__}"), 400

    return guarded
