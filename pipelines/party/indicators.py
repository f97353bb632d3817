"""The party-building indicators (党建引领指标) as data, the table per level, and the 红黑榜.

Each :class:`Indicator` carries its zh/en label and definition (the page shows them on hover), its
unit, which direction is better, and whether it exists at grid level.  :func:`indicator_table`
returns one row per unit of a level within a parent; :func:`red_black` the best and worst five
per indicator.  The SQL is in :mod:`pipelines.store.party_indicators`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from pipelines.store.meta import meta_value
from pipelines.store.party import standards
from pipelines.store.party_indicators import PARENT, indicator_rows

LEVELS = tuple(PARENT)
"""district, street, community, grid."""


@dataclass(frozen=True)
class Indicator:
    key: str
    label_zh: str
    label_en: str
    unit: str
    definition_zh: str
    definition_en: str
    higher_is_better: bool = True
    grid_level: bool = True
    percent: bool = False

    def label(self, lang: str = "zh") -> str:
        return self.label_en if lang == "en" else self.label_zh

    def definition(self, lang: str = "zh") -> str:
        return self.definition_en if lang == "en" else self.definition_zh

    def unit_label(self, lang: str = "zh") -> str:
        return UNITS_EN.get(self.unit, self.unit) if lang == "en" else self.unit


UNITS_EN = {
    "%": "%",
    "人/千人": "per 1k residents",
    "人/网格": "",  # the English labels say it already: grid workers per grid
    "户/人": "",
    "人/万人": "",
    "个": "count",
    "小时/千人": "",
}


INDICATORS: tuple[Indicator, ...] = (
    Indicator(
        "grid_org_coverage", "网格党组织覆盖率", "grid party organisation coverage", "%",
        "建有党组织（网格党支部等，所在单元为该网格）的网格数 ÷ 网格总数",
        "Grids with a party organisation sitting in them ÷ all grids", percent=True,
    ),
    Indicator(
        "estate_org_coverage", "小区党组织覆盖率", "estate party organisation coverage", "%",
        "建有小区党支部（所在单元为该小区）的小区数 ÷ 小区总数",
        "Estates (小区) with a party organisation sitting in them ÷ all estates", percent=True,
    ),
    Indicator(
        "head_coverage", "楼栋长覆盖率", "building head coverage", "%",
        "有楼栋长的住宅楼栋（常住人口>0）数 ÷ 住宅楼栋总数",
        "Residential buildings (residents > 0) with a building head ÷ all residential buildings", percent=True,
    ),
    Indicator(
        "party_head_share", "党员楼栋长占比", "party members among building heads", "%",
        "由党员担任的楼栋长人数 ÷ 楼栋长总数",
        "Building heads who are party members ÷ all building heads", percent=True,
    ),
    Indicator(
        "in_service_per_1000", "在职党员报到率", "in-service members reporting", "人/千人",
        "已到社区报到的在职党员数 ÷ 常住人口 × 1000（网格层按服务网格计，社区及以上按报到社区计）",
        "In-service party members reported to the community per 1,000 residents (grids count those serving "
        "there; communities and above count those reporting there)",
    ),
    Indicator(
        "workers_per_grid", "网格员配置", "grid workers per grid", "人/网格",
        "网格员（网格长、专职、兼职）人数 ÷ 网格数", "Grid workers (heads, full- and part-time) ÷ grids",
    ),
    Indicator(
        "households_per_worker", "网格员人均服务户数", "households per grid worker", "户/人",
        "常住户数 ÷ 网格员人数（越少服务越精细）", "Households ÷ grid workers (fewer is finer-grained service)",
        higher_is_better=False,
    ),
    Indicator(
        "social_workers_per_10k", "每万人社工数", "social workers per 10,000 residents", "人/万人",
        "社区社工人数 ÷ 常住人口 × 10000，对照可编辑标准（默认18）；无配置数据时为空",
        "Community social workers per 10,000 residents, against the editable standard (default 18); empty "
        "without staffing data", grid_level=False,
    ),
    Indicator(
        "understaffed_communities", "力量薄弱社区数", "under-staffed communities", "个",
        "专职工作人员少于标准（默认4人）的社区数", "Communities with fewer paid staff than the standard (default 4)",
        higher_is_better=False, grid_level=False,
    ),
    Indicator(
        "volunteer_hours_per_1000", "志愿服务时长", "volunteer hours per 1,000 residents", "小时/千人",
        "统计日前30天（可编辑）内志愿服务时长 ÷ 常住人口 × 1000",
        "Volunteer service hours in the 30 days (editable) up to the reporting date per 1,000 residents",
    ),
    Indicator(
        "partners", "共建单位数", "partner units", "个",
        "协议在有效期内的共建单位数", "Partner units whose co-building agreement is in force", grid_level=False,
    ),
    Indicator(
        "centre_coverage", "党群服务中心15分钟覆盖率", "15-minute party service centre coverage", "%",
        "步行可达党群服务中心（服务圈分析的距离标准内）的住宅常住人口 ÷ 住宅常住人口；未做服务圈分析时为空",
        "Residents of residential buildings within walking reach of a party service centre (党群服务中心; the coverage run's threshold) "
        "÷ all those residents; empty before a coverage run", percent=True,
    ),
)  # fmt: skip
BY_KEY = {i.key: i for i in INDICATORS}


def reporting_date(con: duckdb.DuckDBPyConnection) -> dt.date:
    """The generated city's end date, else today: the date the 'last 30 days' end on."""
    end = meta_value(con, "generated_end")
    return dt.datetime.fromisoformat(end).date() if end else dt.date.today()


def indicator_table(
    con: duckdb.DuckDBPyConnection, level: str, parent: str | None = None, as_of: dt.date | None = None
) -> pd.DataFrame:
    """One row per unit of ``level`` (district/street/community/grid) within ``parent`` (a code of the level
    above, None = all): code, name, sizes, then one column per :data:`INDICATORS` key."""
    if level not in PARENT:
        raise ValueError(f"level must be one of {', '.join(PARENT)}")
    return indicator_rows(con, level, parent, as_of or reporting_date(con), standards(con))


def indicators_for(level: str) -> tuple[Indicator, ...]:
    return tuple(i for i in INDICATORS if i.grid_level or level != "grid")


def red_black(table: pd.DataFrame, level: str, n: int = 5) -> pd.DataFrame:
    """红黑榜: for each indicator the best ``n`` (红榜) and worst ``n`` (黑榜) units with a value.

    A unit is on one board only (with fewer than 2n units each board takes half), and the black board holds
    no unit as good as the best (all at 100 %: nobody is on it).  Columns: indicator, board ('red'/'black'),
    rank (1 = best on the red board, worst on the black), code, name, value.  Ties keep the code order, so the
    boards are stable.
    """
    if not table["code"].is_monotonic_increasing:
        table = table.sort_values("code", kind="stable")
    codes, names = table["code"].to_numpy(object), table["name"].to_numpy(object)
    columns = {"indicator": [], "board": [], "rank": [], "code": [], "name": [], "value": []}
    for indicator in indicators_for(level):
        values = table[indicator.key].to_numpy(dtype=float, na_value=np.nan)
        present = np.flatnonzero(~np.isnan(values))
        better_first = -values[present] if indicator.higher_is_better else values[present]
        size = min(n, len(present) // 2)
        best = better_first.min() if len(present) else np.nan
        for board, order in (("red", better_first), ("black", -better_first)):
            picked = np.argsort(order, kind="stable")[:size]  # stable: ties stay in code order
            if board == "black":
                picked = picked[better_first[picked] > best]
            picked = present[picked]
            columns["indicator"] += [indicator.key] * len(picked)
            columns["board"] += [board] * len(picked)
            columns["rank"] += list(range(1, len(picked) + 1))
            columns["code"] += list(codes[picked])
            columns["name"] += list(names[picked])
            columns["value"] += list(values[picked])
    return pd.DataFrame(columns)
