"""Finding 11: 500s on malformed input — query parameters, bookmark URLs and Dash callback bodies."""

from __future__ import annotations

import itertools
import json
import time

import pytest
import requests

from tests.security.conftest import dash_call, dash_output, login

FUZZ_BUDGET = 200
PAGES = ("/", "/leader", "/playback", "/coverage", "/nowhere")
JUNK = (
    None,
    -1,
    10**30,
    -1e308,
    "abc",
    "2026-02-30",
    "' OR 1=1 --",
    [],
    {},
    {"level": ["x"], "code": {"a": None}},
    [[[[[[["deep"]]]]]]],
    "x" * 5000,
    True,
    {"points": [{"customdata": [None, {"x": 1}], "lon": "a"}]},
    "NaN",
    [None, "a", 1.5, {"b": []}],
)


@pytest.mark.parametrize(
    "path",
    [
        "/open311/v2/requests.json?start_date=-1",
        "/open311/v2/requests.json?end_date=0001-01-01",
        "/open311/v2/requests.json?start_date=9999-99-99",
        "/open311/v2/requests.json?page=-1&page_size=abc",
    ],
)
def test_open311_bad_dates_are_400(server, path):
    reply = requests.get(server.url(path), timeout=60)
    assert reply.status_code == 400, f"GET {path}: HTTP {reply.status_code}"
    assert reply.json()[0]["description"], reply.text[:200]


@pytest.mark.parametrize("since", ["-1", "abc", "1e400"])
def test_stats_bad_since_is_400(server, since):
    reply = login(server, "viewer").get(f"/api/v1/stats?since={since}")
    assert reply.status_code == 400, f"/api/v1/stats?since={since}: HTTP {reply.status_code}"
    assert "since" in reply.text


def _render(client, pathname: str, search: str):
    """Dash Pages' own callback that builds the page from the URL (``layout(**query)``)."""
    return dash_call(
        client,
        dash_output(client, "_pages_content.children"),
        [
            {"id": "_pages_location", "property": "pathname", "value": pathname},
            {"id": "_pages_location", "property": "search", "value": search},
        ],
        [],
    )


def _follow_ups(pathname: str, query: dict) -> list[tuple[str, list[dict], list[dict]]]:
    """The callbacks the rendered page fires next with the bookmarked values (first output, inputs, state)."""
    search = [{"id": "url", "property": "search", "value": ""}]
    if pathname == "/playback":
        inputs = [
            {"id": "playback-unit", "property": "data", "value": None},
            {"id": "playback-day", "property": "date", "value": query.get("day")},
            {"id": "playback-mode", "property": "value", "value": "day"},
        ]
        return [("playback-data.data", inputs, [])]
    inputs = [
        {"id": "command-unit", "property": "data", "value": None},
        {"id": "command-window", "property": "value", "value": query.get("window")},
        {"id": "command-range", "property": "start_date", "value": query.get("from")},
        {"id": "command-range", "property": "end_date", "value": query.get("to")},
        {"id": "command-version", "property": "data", "value": 1},
    ]
    return [("command-kpis.children", inputs, search)]


@pytest.mark.parametrize(
    ("pathname", "query"),
    [
        ("/", {"window": "custom", "from": "2026-02-30"}),
        ("/", {"window": "custom", "from": "abc", "to": "-1"}),
        ("/playback", {"day": "abc"}),
        ("/playback", {"day": "0001-13-01"}),
    ],
)
def test_bookmark_urls_render(server, pathname, query):
    client = login(server, "viewer")
    search = "?" + "&".join(f"{k}={v}" for k, v in query.items())
    page = client.get(pathname + search)
    assert page.status_code == 200, f"GET {pathname}{search}: HTTP {page.status_code}"
    reply = _render(client, pathname, search)
    assert reply.status_code == 200, f"rendering {pathname}{search}: HTTP {reply.status_code} {reply.text[:200]}"
    for first, inputs, state in _follow_ups(pathname, query):
        reply = dash_call(client, dash_output(client, first), inputs, state)
        assert reply.status_code < 500, f"{first} for {pathname}{search}: HTTP {reply.status_code}"


def _values_for(item: dict, junk):
    """An input/state entry with ``junk`` as its value (a pattern-matching ALL input gets a list)."""
    ident = item["id"]
    if isinstance(ident, str) and ident.startswith("{"):
        ident = json.loads(ident)
    if isinstance(ident, dict) and any(v in (["ALL"], "ALL") for v in ident.values()):
        return []
    value = junk
    if item["property"] == "pathname":
        value = PAGES[hash(str(junk)) % len(PAGES)] if not isinstance(junk, str) else junk[:50]
    return {"id": ident, "property": item["property"], "value": value}


def _fuzz_bodies(deps: list[dict]):
    """Bodies for every callback × junk value, then structural junk; FUZZ_BUDGET of them in all."""
    per_callback = []
    for dep in deps:
        if "coverage-status" in dep["output"]:
            continue  # the recompute callback writes; test_08 covers it
        bodies = []
        for junk in JUNK:
            inputs = [_values_for(i, junk) for i in dep["inputs"]]
            state = [_values_for(s, junk) for s in dep.get("state", [])]
            bodies.append((dep["output"], inputs, state))
        per_callback.append(bodies)
    structured = [b for group in itertools.zip_longest(*per_callback) for b in group if b is not None]
    return structured


RAW_BODIES = [
    b"",
    b"null",
    b"[]",
    b'{"output": 1}',
    b'{"output": "page.children", "inputs": "x"}',
    b'{"output": "page.children", "outputs": {"id": "page", "property": "children"}, "inputs": [1, 2]}',
    b'{"output": "nope.nothing", "outputs": {"id": "nope", "property": "nothing"}, "inputs": []}',
    b'{"output": "..a.b...c..", "outputs": [], "inputs": [], "changedPropIds": [null]}',
    b"not json at all",
    b'{"output": "version.data", "inputs": [{"id": {"$gt": 1}, "property": null}], "state": 5}',
]


def test_dash_callback_fuzz_never_500(server):
    client = login(server, "viewer")
    assert client.get("/_dash-layout").status_code == 200
    deps = client.get("/_dash-dependencies").json()
    bodies = _fuzz_bodies(deps)[: FUZZ_BUDGET - len(RAW_BODIES)]
    failures = []
    started = time.monotonic()
    for output, inputs, state in bodies:
        reply = dash_call(client, output, inputs, state)
        if reply.status_code >= 500:
            failures.append((output[:60], json.dumps(inputs, ensure_ascii=False)[:120], reply.status_code))
    for raw in RAW_BODIES:
        reply = client.post("/_dash-update-component", data=raw, headers={"Content-Type": "application/json"})
        if reply.status_code >= 500:
            failures.append(("raw", raw[:60].decode(), reply.status_code))
    elapsed = time.monotonic() - started
    sent = len(bodies) + len(RAW_BODIES)
    assert not failures, f"{len(failures)} of {sent} malformed callbacks gave 5xx ({elapsed:.0f} s): {failures[:8]}"
