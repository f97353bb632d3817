"""What each loadable kind of file must and may contain."""

from __future__ import annotations

from dataclasses import dataclass, field


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
            "floors": "int",
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
        ("type", "name"),
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
    "grid_code": ("网格编码", "网格编号"),
    "name": ("名称",),
    "type": ("类型", "设施类型"),
}
"""Column names recognised without --map (matched case-insensitively)."""


def expected_columns(kind: Kind) -> str:
    """One line naming what a file of this kind needs, for error messages."""
    geometry = {
        "point": "a point geometry or lon/lat columns",
        "polygon": "a polygon geometry (or a WKT column named geometry)",
        "line": "a line geometry (or a WKT column named geometry)",
        "footprint": "a polygon geometry, or lon/lat columns",
    }[kind.geometry]
    required = ", ".join(kind.required)
    optional = ", ".join(c for c in kind.columns if c not in kind.required)
    parts = [f"required: {required}" if required else "", f"plus {geometry}", f"optional: {optional}"]
    return "; ".join(p for p in parts if p)
