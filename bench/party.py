"""Party-building benchmark: the indicator table and 红黑榜 per level at the city scale.

    python bench/party.py --db /tmp/gridtwin-city.duckdb [--repeat 20] [--regenerate]

Expects a generated city (``gridtwin generate --scale city``).  Adds the party layer if the file has
none (or with --regenerate, timing that step), then times :func:`indicator_table` + :func:`red_black`
for each level the way the page calls them: districts of the city, streets of one district,
communities of one street, grids of one community.  Prints p50/p95 of the warm runs and the row count.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import sys
import time
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from pipelines import store  # noqa: E402
from pipelines.party.generate import generate_party  # noqa: E402
from pipelines.party.indicators import indicator_table, red_black, reporting_date  # noqa: E402
from pipelines.store.party import party_counts  # noqa: E402

TARGET_S = 0.100


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()
    con = store.connect(args.db)
    if args.regenerate or not party_counts(con)["party_orgs"]:
        end = reporting_date(con)
        started = time.perf_counter()
        with store.transaction(con):
            counts = generate_party(con, args.seed, dt.datetime.combine(end, dt.time()))
        print(f"party layer generated in {time.perf_counter() - started:.2f} s: {counts}")
    con.close()
    con = store.connect(args.db, read_only=True)
    district = indicator_table(con, "district")["code"].iloc[0]
    street = indicator_table(con, "street", district)["code"].iloc[0]
    community = indicator_table(con, "community", street)["code"].iloc[0]
    failed = False
    for level, parent in (("district", None), ("street", district), ("community", street), ("grid", community),
                          ("street", None), ("community", None)):  # fmt: skip
        times = []
        for _ in range(args.repeat + 1):
            started = time.perf_counter()
            table = indicator_table(con, level, parent)
            red_black(table, level)
            times.append(time.perf_counter() - started)
        warm = sorted(times[1:])
        p50, p95 = statistics.median(warm), warm[max(0, round(0.95 * len(warm)) - 1)]
        failed |= parent is not None and p95 > TARGET_S
        print(f"{level:<10} within {parent or 'all':<13} rows {len(table):>6,}  cold {times[0] * 1000:7.1f} ms  "
              f"p50 {p50 * 1000:7.1f} ms  p95 {p95 * 1000:7.1f} ms")  # fmt: skip
    con.close()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
