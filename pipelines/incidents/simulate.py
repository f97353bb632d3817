"""Live incident feed for the demo: new reports near residents, and open ones moving along the loop.

It writes through the same path as a load (locate, upsert, history) on the
:class:`~pipelines.store.Database` of the process that owns the file, one write
transaction per tick (under the database's write lock), and bumps the change
counter the dashboard polls.  Open incidents move along the state machine's
forward path (:data:`~pipelines.incidents.machine.FORWARD`).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable

import duckdb
import numpy as np
import pandas as pd

from geo.measure import metres_to_degrees
from pipelines.area import read_area
from pipelines.domain import CATEGORIES, PRIORITIES, SAMPLE_DESCRIPTIONS, SOURCES
from pipelines.errors import GridtwinError
from pipelines.incidents import machine
from pipelines.incidents.repository import advance_open_incidents, apply_transition
from pipelines.loaders import INCIDENT_COLUMNS, write_incidents
from pipelines.store import Database, governance
from pipelines.store.areas import building_points
from pipelines.store.categories import category_deadlines
from pipelines.store.meta import bump_data_version
from pipelines.vocabulary import DEFAULT_REPORT_H

ACTOR = "实时模拟"


class Simulator:
    """Adds ``per_tick`` incidents and advances ``advance_per_tick`` open ones on every :meth:`tick`; with
    ``govern`` it also checks, whistles and rates (:meth:`govern`)."""

    def __init__(
        self,
        db: Database,
        clock: Callable[[], dt.datetime] | None = None,
        seed: int = 11,
        per_tick: int = 1,
        advance_per_tick: int = 2,
        govern: bool = True,
    ):
        self.db = db
        self.clock = clock or (lambda: dt.datetime.now().replace(microsecond=0))
        self.rng = np.random.default_rng(seed)
        self.per_tick = per_tick
        self.advance_per_tick = advance_per_tick
        self.governs = govern
        with db.cursor() as cur:
            self.area = read_area(cur)
            self.buildings = building_points(cur)
        if self.area is None or self.buildings.empty:
            raise GridtwinError("the live feed needs grids and buildings: run `gridtwin generate` first")
        weight = self.buildings["residents"].fillna(0).to_numpy(float) + 5.0
        self.weights = weight / weight.sum()
        self.serial = 0

    def new_incidents(self, n: int) -> pd.DataFrame:
        now = self.clock()
        with self.db.cursor() as cur:  # deadlines (时限) as the admin set them
            hours = dict(category_deadlines(cur)[["category", "deadline_h"]].itertuples(index=False))
        b = self.buildings
        home = self.rng.choice(len(b), size=n, p=self.weights)
        dx, dy = metres_to_degrees(self.rng.normal(0, 10, n), self.rng.normal(0, 10, n), float(b["lat"].mean()))
        names = list(CATEGORIES)
        category = np.array(names)[self.rng.integers(0, len(names), n)]
        self.serial += n
        stamp = now.strftime("%Y%m%d%H%M%S")
        ids = [f"RT{stamp}{self.serial - n + i:04d}" for i in range(n)]
        frame = pd.DataFrame(
            {
                "incident_id": ids,
                "category": category,
                "affair_class": [CATEGORIES[c][0] for c in category],
                "source": np.array(SOURCES)[self.rng.integers(0, len(SOURCES), n)],
                "priority": np.array(PRIORITIES)[self.rng.choice(3, n, p=[0.85, 0.12, 0.03])],
                "status": "reported",
                "reported_at": pd.Timestamp(now),
                "due_at": [
                    pd.Timestamp(now + dt.timedelta(hours=int(hours.get(c, CATEGORIES[c][1])))) for c in category
                ],
                "resolved_at": pd.NaT,
                "description": [SAMPLE_DESCRIPTIONS.get(c, (c,))[0] for c in category],
                "address": b["name"].to_numpy()[home],
                "reporter_name": None,
                "reporter_phone": None,
                "satisfaction": pd.array([pd.NA] * n, dtype="Int8"),
                "lon": b["lon"].to_numpy()[home] + dx,
                "lat": b["lat"].to_numpy()[home] + dy,
            }
        )
        cells, index = self.area.locate(frame["lon"].to_numpy(), frame["lat"].to_numpy())
        frame["h3_cell"] = cells
        frame["grid_index"] = index
        return frame[index >= 0]

    def tick(self) -> list[str]:
        """One transaction: new incidents plus a few steps along the loop. Returns the new ids."""
        frame = self.new_incidents(self.per_tick)
        with self.db.write() as cur:
            write_incidents(cur, frame[INCIDENT_COLUMNS], self.area, ACTOR, "实时上报")
            advance_open_incidents(cur, self.advance_per_tick, self.clock(), ACTOR, int(self.rng.integers(1 << 30)))
            if self.governs:
                self.govern(cur)
            bump_data_version(cur, reference=False)
        return frame["incident_id"].tolist()

    def govern(self, cur) -> None:
        """The governance steps of a tick: 核查 of a resolved incident (1 in 10 fails: 返工), a whistle on an
        overdue 公事 now and then, and the next step of an open whistle (报到, result, 反向评价)."""
        now, seed = self.clock(), int(self.rng.integers(1 << 30))
        for incident_id in governance.recently_resolved(cur, now, seed, 1):
            passed = self.rng.random() >= 0.1
            step = machine.step(incident_id, "resolved", "verify" if passed else "rework")
            note = "核查通过" if passed else "核查不通过，返工"
            score = int(self.rng.choice([3, 4, 5], p=[0.1, 0.3, 0.6])) if passed else int(self.rng.integers(1, 3))
            apply_transition(cur, incident_id, step.from_status, step.to_status, now, ACTOR, note)
            governance.record_verification(cur, incident_id, "核查", passed, score, note, now, ACTOR)
        if self.rng.random() < 0.3:
            for row in governance.overdue_unwhistled(cur, now, seed, 1).itertuples():
                governance.blow_whistle(
                    cur, row.incident_id, "street", [row.department], "超期未办结", now, DEFAULT_REPORT_H, 24, ACTOR
                )
        for row in governance.open_whistles(cur, seed, 1).itertuples():
            if row.step == "report":
                governance.report_whistle(cur, row.whistle_id, "已到场", now, ACTOR)
            elif row.step == "result":
                governance.resolve_whistle(cur, row.whistle_id, "已处置", now, ACTOR)
            else:
                score = int(np.clip(round(6 - row.waited_h + self.rng.normal(0, 0.5)), 1, 5))
                governance.rate_whistle(cur, row.whistle_id, score, None, now, ACTOR)


class LiveFeed(threading.Thread):
    """Calls :meth:`Simulator.tick` every ``interval_s`` seconds until stopped."""

    def __init__(self, simulator: Simulator, interval_s: float = 4.0):
        super().__init__(name="gridtwin-live-feed", daemon=True)
        self.simulator = simulator
        self.interval_s = interval_s
        self.stopped = threading.Event()
        self.errors = 0

    def run(self) -> None:
        while not self.stopped.wait(self.interval_s):
            try:
                self.simulator.tick()
            except duckdb.Error:
                self.errors += 1  # a busy moment (write conflict); the next tick tries again

    def stop(self) -> None:
        self.stopped.set()
