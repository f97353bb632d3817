"""`gridtwin simulate`: a client that posts realistic requests through the public API and works them.

It knows only the server's URL: services come from ``services.json``, places from recent requests
(a small random offset around them), so everything it posts lands inside the loaded area.  With a
dispatcher key it also moves requests along the state machine's forward path — accept, dispatch
to the suggested department, start, resolve, evaluate — so a wall screen shows the whole cycle.
"""

from __future__ import annotations

import json
import random
import time
import urllib.error
import urllib.request
import uuid

from pipelines.domain import DEFAULT_DEPARTMENT, SAMPLE_DESCRIPTIONS
from pipelines.errors import GridtwinError
from pipelines.incidents.machine import FORWARD

BODIES = {"resolve": {"note": "已到场处置完毕"}, "evaluate": {"satisfaction": 5}}
"""What the worker sends with each forward action (dispatch gets the suggested department)."""
RETRIES = 3


class Client:
    def __init__(self, url: str, key: str | None = None, timeout_s: float = 10.0):
        self.url = url.rstrip("/")
        self.key = key
        self.timeout_s = timeout_s

    def call(self, method: str, path: str, body: dict | None = None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, method=method)
        request.add_header("Content-Type", "application/json")
        if self.key:
            request.add_header("X-API-Key", self.key)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as reply:
                return reply.status, json.loads(reply.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")


def run(url: str, api_key: str, rate: float, duration_s: float | None, advance_key: str | None, seed: int = 5):
    if rate <= 0:
        raise GridtwinError(f"--rate must be positive, got {rate}")
    rng = random.Random(seed)
    intake, worker = Client(url, api_key), Client(url, advance_key) if advance_key else None
    try:
        status, services = intake.call("GET", "/open311/v2/services.json")
        _, recent = intake.call("GET", "/open311/v2/requests.json")
    except urllib.error.URLError as exc:
        raise GridtwinError(f"cannot reach {url} ({exc.reason}): is `gridtwin serve` running there?") from exc
    if status != 200 or not services:
        raise GridtwinError(f"{url} did not list any services (HTTP {status})")
    places = [(r["lat"], r["long"]) for r in recent or [] if r.get("lat") is not None]
    if not places:
        raise GridtwinError(f"{url} has no recent requests to learn the area from: load or generate some first")
    codes = [s["service_code"] for s in services]
    started, posted, moved, open_ids = time.monotonic(), 0, 0, []
    print(f"posting {rate:g} requests/s to {url}" + (" and working them" if worker else "") + "; Ctrl+C stops")
    try:
        while duration_s is None or time.monotonic() - started < duration_s:
            lat, lon = rng.choice(places)
            code = rng.choice(codes)
            body = {
                "service_code": code,
                "lat": lat + rng.gauss(0, 0.0003),
                "long": lon + rng.gauss(0, 0.0003),
                "description": SAMPLE_DESCRIPTIONS.get(code, (code,))[0],
                "token": uuid.uuid4().hex,
            }
            for _ in range(RETRIES):  # the token makes a retry safe
                status, reply = intake.call("POST", "/open311/v2/requests.json", body)
                if status in (200, 201):
                    posted += 1
                    open_ids.append(reply[0]["service_request_id"])
                    break
                if status == 400:  # the jitter left the area: skip this one
                    break
            if worker and open_ids:
                moved += _advance(worker, open_ids, rng)
            time.sleep(1.0 / rate)
    except KeyboardInterrupt:
        pass
    print(f"posted {posted} requests, moved {moved} along the loop")
    return posted, moved


def _advance(worker: Client, open_ids: list[str], rng: random.Random) -> int:
    incident_id = rng.choice(open_ids)
    status, view = worker.call("GET", f"/api/v1/incidents/{incident_id}")
    if status != 200 or view["status"] not in FORWARD:
        open_ids.remove(incident_id)
        return 0
    action = FORWARD[view["status"]]
    body = BODIES.get(action, {})
    if action == "dispatch":
        body = {"assignee_type": "department", "assignee": view["suggestions"]["department"] or DEFAULT_DEPARTMENT}
    status, _ = worker.call("POST", f"/api/v1/incidents/{incident_id}/{action}", body)
    return int(status == 200)
