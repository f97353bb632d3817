"""What each loadable kind of file must and may contain."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import pandas as pd


@dataclass(frozen=True)
class Kind:
    name: str
    id_column: str
    geometry: str
    """'point', 'polygon', 'line', or 'footprint' (polygon, or a point from lon/lat)."""
    required: tuple[str, ...]
    columns: dict[str, str] = field(default_factory=dict)
    """Every attribute column we take, with its type: str, int, float or time."""
    id_required: bool = False
    derivable: tuple[str, ...] = ()
    """Required columns that may instead be derived from the id (grid codes from a division code)."""

    @property
    def table(self) -> str:
        return self.name


KINDS: dict[str, Kind] = {
    "grids": Kind(
        "grids",
        "grid_code",
        "polygon",
        ("grid_code",),
        {
            "grid_code": "str",
            "name": "str",
            "community_code": "str",
            "street_code": "str",
            "district_code": "str",
            "community_name": "str",
            "street_name": "str",
            "district_name": "str",
            "population": "int",
            "households": "int",
        },
        id_required=True,
        derivable=("community_code", "street_code", "district_code"),
    ),
    "buildings": Kind(
        "buildings",
        "building_id",
        "footprint",
        (),
        {
            "building_id": "str",
            "name": "str",
            "use": "str",
            "floors": "float",  # OSM building:levels may be 2.5 (a mezzanine); stored rounded
            "height_m": "float",
            "residents": "int",
            "households": "int",
        },
    ),
    "roads": Kind("roads", "road_id", "line", (), {"road_id": "str", "name": "str", "class": "str"}),
    "facilities": Kind(
        "facilities",
        "facility_id",
        "point",
        ("type",),
        {"facility_id": "str", "type": "str", "name": "str", "capacity": "int", "address": "str"},
    ),
    "incidents": Kind(
        "incidents",
        "incident_id",
        "point",
        ("category", "reported_at"),
        {
            "incident_id": "str",
            "category": "str",
            "reported_at": "time",
            "affair_class": "str",
            "source": "str",
            "priority": "str",
            "status": "str",
            "due_at": "time",
            "resolved_at": "time",
            "description": "str",
            "address": "str",
            "reporter_name": "str",
            "reporter_phone": "str",
            "satisfaction": "int",
        },
    ),
}

ALIASES: dict[str, tuple[str, ...]] = {
    "lon": ("lng", "long", "longitude", "x", "经度", "point_x"),
    "lat": ("latitude", "y", "纬度", "point_y"),
    "geometry": ("wkt", "geom", "the_geom", "几何"),
    "incident_id": ("service_request_id", "工单编号", "工单号", "事件编号"),
    "category": ("service_name", "事件类型", "诉求类型", "事件类别", "问题类型"),
    "reported_at": ("requested_datetime", "上报时间", "受理时间", "创建时间"),
    "resolved_at": ("办结时间", "完成时间"),
    "description": ("问题描述", "诉求内容", "事件描述"),
    "address": ("地址", "事发地址"),
    "status": ("状态", "办理状态", "工单状态"),
    "source": ("来源", "事件来源", "诉求来源"),
    "reporter_phone": ("联系电话",),
    "reporter_name": ("联系人",),
    "grid_code": ("网格编码", "网格编号", "单元网格编码", "unit_grid_code"),
    "community_code": ("社区编码", "社区代码"),
    "street_code": ("街道编码", "街道代码"),
    "district_code": ("区县编码", "区编码", "区县代码"),
    "name": ("名称", "道路名称"),
    "type": ("类型", "设施类型"),
    "class": ("highway", "fclass", "道路等级", "道路类型", "road_class"),
    "floors": ("building:levels", "levels", "层数", "楼层数"),
    "height_m": ("height", "高度"),
    "residents": ("population", "人口", "常住人口", "居住人口"),
    "households": ("户数",),
    "use": ("building", "用途", "建筑用途"),
    "building_id": ("osm_id", "@id", "osm_way_id", "id"),
    "road_id": ("osm_id", "@id", "osm_way_id", "id"),
    "facility_id": ("osm_id", "@id", "id"),
}
"""Column names recognised without --map (matched case-insensitively)."""


DIVISION_CODE = re.compile(r"\d{12}(\d{3})?")
"""A 12-digit statistical division code (down to community) or a 15-digit GB/T 30428.1 unit-grid code
(6 county + 3 street + 3 community + 3 grid): either gives the community, street and district codes."""


def derivable_from_codes(codes: pd.Series) -> bool:
    text = codes.dropna().astype(str).str.strip()
    return bool(len(text)) and bool(text.str.fullmatch(DIVISION_CODE.pattern).all())


def missing_columns(kind: Kind, frame: pd.DataFrame) -> list[str]:
    """Every required column the (mapped) frame lacks, all at once."""
    has_geometry = "geometry" in frame.columns
    has_lonlat = "lon" in frame.columns and "lat" in frame.columns
    missing = [c for c in kind.required if c not in frame.columns]
    if kind.id_required and kind.id_column not in frame.columns and kind.id_column not in missing:
        missing.append(kind.id_column)
    absent = [c for c in kind.derivable if c not in frame.columns]
    if absent and not (kind.id_column in frame.columns and derivable_from_codes(frame[kind.id_column])):
        missing.extend(absent)
    if kind.geometry in ("polygon", "line") and not has_geometry:
        missing.append("geometry")
    if kind.geometry in ("point", "footprint") and not (has_geometry or has_lonlat):
        absent_lonlat = [c for c in ("lon", "lat") if c not in frame.columns]
        missing.extend(absent_lonlat if len(absent_lonlat) == 1 else ["lon/lat (or geometry)"])
    return missing


def expected_columns(kind: Kind) -> str:
    """One line naming what a file of this kind needs, for error messages."""
    geometry = {
        "point": "a point geometry or lon/lat columns",
        "polygon": "a polygon geometry (or a WKT column named geometry)",
        "line": "a line geometry (or a WKT column named geometry)",
        "footprint": "a polygon geometry, or lon/lat columns",
    }[kind.geometry]
    required = ", ".join(dict.fromkeys((kind.id_column,) * kind.id_required + kind.required))
    derived = ", ".join(kind.derivable)
    optional = ", ".join(
        c for c in kind.columns if c not in kind.required and c not in kind.derivable and c != kind.id_column
    )
    parts = [
        f"required: {required}" if required else "",
        f"also required: {derived} (unless {kind.id_column} is a 12-digit division code or a 15-digit "
        "GB/T 30428.1 unit-grid code, which gives all three)"
        if derived
        else "",
        f"plus {geometry}",
        f"optional: {optional}" + ("" if kind.id_required else f", {kind.id_column} (else one is made from the row)"),
    ]
    return "; ".join(p for p in parts if p)
