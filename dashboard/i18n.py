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
    "page_coverage": ("服务圈分析", "Service coverage"),
    "click_incident": ("点击查看详情与派单", "Click for details and dispatch"),
    "logout": ("退出", "Log out"),
    "facility_type": ("设施类型", "Facility type"),
    "walk_minutes": ("步行分钟", "Walk (min)"),
    "covered_share": ("覆盖率", "Covered"),
    "residents": ("居民", "Residents"),
    "people": ("人", " people"),
    "uncovered": ("未覆盖楼栋", "Uncovered buildings"),
    "uncovered_residents": ("未覆盖居民", "Residents not covered"),
    "newly_covered": ("新增覆盖楼栋", "Newly covered"),
    "facilities_of_type": ("现有设施", "Existing facilities"),
    "hypothetical": ("拟建设施", "Hypothetical facility"),
    "suggested_sites": ("推荐选址", "Suggested site"),
    "click_to_place": ("点击放置拟建设施", "click to place a facility"),
    "click_for_area": ("点击查看服务范围", "click for its service area"),
    "coverage_hint": (
        "点击蜂窝放置拟建设施、点击设施查看步行服务范围；点击下表一行下钻",
        "Click a hexagon to place a hypothetical facility, a facility to see its walking service area; "
        "click a table row to drill down",
    ),
    "recompute": ("重新计算", "Recompute"),
    "suggest": ("推荐选址", "Suggest sites"),
    "sites_k": ("新建数量", "New sites"),
    "clear": ("清除", "Clear"),
    "export_uncovered": ("导出未覆盖楼栋", "Export uncovered buildings"),
    "method_network": ("测算方式：路网步行距离", "Measured along the walking network"),
    "method_straight_line": (
        "测算方式：直线距离（未加载路网，结果偏乐观）",
        "Measured as STRAIGHT-LINE distance (no roads loaded; results are optimistic)",
    ),
    "walk_speed": ("步行速度", "walking speed"),
    "m_per_min": ("米/分钟", "m/min"),
    "computed_at": ("计算于", "computed"),
    "stale": ("数据已更新，请重新计算", "data changed since: recompute"),
    "no_coverage": (
        "尚未计算服务圈：点击「重新计算」，或运行 gridtwin coverage --db 数据库文件",
        "No coverage computed yet: press Recompute, or run gridtwin coverage --db FILE",
    ),
    "life_circle": ("生活圈", "life circle"),
    "within_m": ("步行范围", "walking range"),
    "kpi_covered": ("居民覆盖率", "Residents covered"),
    "kpi_uncovered": ("未覆盖居民", "Not covered"),
    "kpi_completeness": ("生活圈完整度", "Life-circle completeness"),
    "kpi_facilities": ("现有设施", "Facilities"),
    "types_in_reach": ("可达类型数", "Types in reach"),
    "complete_share": ("配套齐全居民%", "Fully served %"),
    "what_if_result": ("拟建效果", "What-if"),
    "what_if_text": (
        "在此新建一处{kind}：新增覆盖 {gained:,} 人（{buildings:,} 栋楼），本区域覆盖率 {before:.1%} → {after:.1%}",
        "A new {kind} here covers {gained:,} more residents ({buildings:,} buildings); coverage here {before:.1%} → {after:.1%}",
    ),
    "sites_none": ("本区域已全部覆盖，无需新建", "Everyone here is covered: no new site needed"),
    "col_rank": ("序号", "Rank"),
    "col_gain": ("新增覆盖人口", "Newly covered"),
    "col_cumulative": ("累计", "Cumulative"),
    "col_lon": ("经度", "Longitude"),
    "col_lat": ("纬度", "Latitude"),
    "col_method": ("测算方式", "Method"),
    "col_distance": ("步行距离(米)", "Walk (m)"),
    "col_community": ("社区", "Community"),
    "computing": ("正在计算服务圈…", "Computing coverage…"),
    "computed": ("已完成：{n} 类设施，用时 {s:.1f} 秒", "Done: {n} facility types in {s:.1f} s"),
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


CATEGORY_EN = {
    "邻里纠纷": "Neighbour dispute",
    "噪声扰民": "Noise",
    "车辆停放": "Parking",
    "垃圾分类": "Waste sorting",
    "物业服务": "Property management",
    "安全隐患": "Safety hazard",
    "市容环境": "Street appearance",
    "设施损坏": "Damaged facility",
    "占道经营": "Street vending",
    "养老服务": "Elderly care",
}


def category_label(category: str, lang: str) -> str:
    """Incident categories in English on ?lang=en (a category a file brought stays as loaded)."""
    return CATEGORY_EN.get(category, category) if lang == "en" else category


def status_label(status: str, lang: str) -> str:
    table = STATUS_LABELS_EN if lang == "en" else STATUS_LABELS_ZH
    return table.get(status, status)
