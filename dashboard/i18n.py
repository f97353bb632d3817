"""UI labels: Simplified Chinese by default, English on ``?lang=en``."""

from __future__ import annotations

from pipelines.domain import STATUS_LABELS_ZH

LABELS: dict[str, tuple[str, str]] = {
    "title": ("一网统管 · 全息网格地图", "Unified City Operations · Holographic Grid Map"),
    "page_command": ("指挥中心", "Command center"),
    "page_leader": ("领导驾驶舱", "Leader view"),
    "page_playback": ("时间回放", "Playback"),
    "city": ("全市", "Whole city"),
    "reported_today": ("今日上报", "Reported today"),
    "resolved_today": ("今日办结", "Resolved today"),
    "closure_rate": ("办结率·近7天", "Closure rate · 7 d"),
    "overdue": ("超期未办结", "Overdue"),
    "handling_h": ("平均处置时长·近7天", "Avg handling · 7 d"),
    "satisfaction": ("满意度·近7天", "Satisfaction · 7 d"),
    "hours": ("小时", "h"),
    "points": ("分", "/5"),
    "layers": ("图层", "Layers"),
    "layer_grids": ("网格着色", "Shaded areas"),
    "layer_heat": ("事件热力", "Incident heat"),
    "layer_hex": ("H3蜂窝", "H3 hexagons"),
    "layer_buildings": ("楼栋", "Buildings"),
    "layer_facilities": ("服务设施", "Facilities"),
    "layer_roads": ("道路", "Roads"),
    "layer_outlines": ("行政边界", "Boundaries"),
    "indicator": ("着色指标", "Colour by"),
    "ind_window": ("时段事件数", "Incidents in window"),
    "ind_open": ("未办结", "Open"),
    "ind_overdue": ("超期", "Overdue"),
    "ind_per_1000": ("每千人事件", "Per 1,000 residents"),
    "window": ("时段", "Window"),
    "w_1h": ("近1小时", "Last hour"),
    "w_24h": ("近24小时", "Last 24 h"),
    "w_7d": ("近7天", "Last 7 days"),
    "w_custom": ("自定义", "Custom"),
    "newest": ("最新事件", "Newest"),
    "overdue_list": ("超期督办", "Overdue"),
    "by_category": ("事件类别", "By category"),
    "trend": ("24小时趋势", "24-hour trend"),
    "reported": ("上报", "Reported"),
    "resolved": ("办结", "Resolved"),
    "grid_detail": ("网格详情", "Grid detail"),
    "workers": ("网格员", "Grid workers"),
    "population": ("人口", "Population"),
    "households": ("户数", "Households"),
    "buildings": ("楼栋", "Buildings"),
    "open_incidents": ("在办事件", "Open incidents"),
    "no_open": ("暂无在办事件", "No open incidents"),
    "ranking": ("排名", "Ranking"),
    "rank_streets": ("街道排名", "Streets"),
    "rank_communities": ("社区排名", "Communities"),
    "export_csv": ("导出CSV", "Export CSV"),
    "export_xlsx": ("导出Excel", "Export Excel"),
    "col_name": ("名称", "Name"),
    "col_code": ("编码", "Code"),
    "col_incidents": ("事件数", "Incidents"),
    "col_per_1000": ("每千人", "Per 1,000"),
    "col_closure": ("办结率%", "Closure %"),
    "col_overdue": ("超期", "Overdue"),
    "col_handling": ("平均处置(小时)", "Avg handling (h)"),
    "col_satisfaction": ("满意度", "Satisfaction"),
    "play": ("播放", "Play"),
    "pause": ("暂停", "Pause"),
    "day": ("按天", "Day"),
    "week": ("按周", "Week"),
    "playback_at": ("回放时刻", "At"),
    "incidents_in_hour": ("本小时事件", "incidents this hour"),
    "language": ("English", "中文"),
    "click_hint": ("点击区域下钻", "Click an area to drill down"),
    "live": ("实时", "Live"),
    "new": ("新", "NEW"),
    "since": ("开始日期", "Start date"),
    "until": ("结束日期", "End date"),
    "tour": ("自动巡检", "Auto tour"),
}


def t(key: str, lang: str) -> str:
    zh, en = LABELS[key]
    return en if lang == "en" else zh


STATUS_LABELS_EN = {
    "reported": "Reported",
    "accepted": "Accepted",
    "dispatched": "Dispatched",
    "in_progress": "In progress",
    "resolved": "Resolved",
    "evaluated": "Evaluated",
}


def status_label(status: str, lang: str) -> str:
    table = STATUS_LABELS_EN if lang == "en" else STATUS_LABELS_ZH
    return table.get(status, status)
