"""URL helpers: the query string is the whole state of a page, so any screen can be bookmarked."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlencode

PAGES = {
    "/": "page_command",
    "/leader": "page_leader",
    "/playback": "page_playback",
    "/coverage": "page_coverage",
    "/party": "page_party",
    "/quality": "page_quality",
}
"""Path → i18n key of its title, in the order of the nav bar."""
ALL_LAYERS = ("grids", "heat", "hex", "buildings", "facilities", "roads", "outlines")
DEFAULT_LAYERS = ("grids", "heat", "buildings", "roads", "outlines")
INDICATORS = ("window", "open", "overdue", "per_1000")
WINDOW_KEYS = ("1h", "24h", "7d", "custom")
DEFAULTS = {"window": "24h", "ind": "window", "lang": "zh", "screen": "", "tour": ""}
QUERY_KEYS = ("level", "code", "window", "ind", "from", "to", "lang", "screen", "tour", "rank", "day", "mode", "ftype")


def parse_day(value) -> dt.date | None:
    """A ``YYYY-MM-DD`` day (a longer ISO time is cut to its day), or None for anything else."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        day = dt.date.fromisoformat(value[:10])
    except ValueError:
        return None
    return day if day.year >= 1900 else None


def parse_query(search: str | dict | None) -> dict:
    """URL query (a string, or the keyword arguments Dash Pages passes) → state dict with defaults.

    Unknown values fall back to the defaults; days that are not real dates (``from=2026-02-30``,
    ``day=abc``) are dropped, so a mistyped bookmark opens the default view instead of failing.
    """
    if isinstance(search, dict):
        raw = {k: v[-1] if isinstance(v, list) else v for k, v in search.items()}
    else:
        raw = {k: v[-1] for k, v in parse_qs((search or "").lstrip("?")).items()}
    state = {**DEFAULTS, **raw}
    state["level"] = raw.get("level")
    state["code"] = raw.get("code")
    if state["window"] not in WINDOW_KEYS:
        state["window"] = DEFAULTS["window"]
    if state["ind"] not in INDICATORS:
        state["ind"] = DEFAULTS["ind"]
    if state["lang"] not in ("zh", "en"):
        state["lang"] = "zh"
    for key in ("from", "to", "day"):
        day = parse_day(raw.get(key))
        state[key] = day.isoformat() if day else None
    layers = raw.get("layers")
    state["layers"] = [x for x in layers.split(",") if x in ALL_LAYERS] if layers is not None else list(DEFAULT_LAYERS)
    return state


def build_query(state: dict) -> str:
    items = {}
    for key in QUERY_KEYS:
        value = state.get(key)
        if value and value != DEFAULTS.get(key):
            items[key] = value
    if "layers" in state and tuple(state["layers"]) != DEFAULT_LAYERS:
        items["layers"] = ",".join(state["layers"])
    return "?" + urlencode(items) if items else ""


def lang_of(search: str | None) -> str:
    return parse_query(search)["lang"]


def page_query(search: str | None, unit: dict | None, values: dict) -> str | None:
    """The URL query for a page's current unit and controls; None when it is the query already shown."""
    state = parse_query(search)
    if "layers" in values and values["layers"] is None:
        values = {**values, "layers": []}  # a checklist with nothing ticked reports None
    state.update(level=(unit or {}).get("level"), code=(unit or {}).get("code"), **values)
    query = build_query(state)
    return None if (query or "") == (search or "") else query
