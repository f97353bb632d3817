"""UI labels: Simplified Chinese by default, English on ``?lang=en``."""

from __future__ import annotations

from pipelines.party.domain import ORG_TYPE_LABELS_EN
from pipelines.vocabulary import STATUS_LABELS_EN, STATUS_LABELS_ZH

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
    "handling_h": ("平均处置·近7天", "Avg handling · 7 d"),  # one line in a 1366-px card
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
    "no_overdue": ("暂无超期未办结事件", "Nothing overdue"),
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
    "other_categories": ("其他{n}类", "{n} others"),
    "col_closure": ("本期上报已办结%", "Reports closed %"),  # not 结案率 (closed ÷ due), the cards above
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
    "page_quality": ("数据质量", "Data quality"),
    "click_incident": ("点击查看详情与派单", "Click for details and dispatch"),
    "logout": ("退出", "Log out"),
    "facility_type": ("设施类型", "Facility type"),
    "walk_minutes": ("步行分钟", "Walk (min)"),
    "no_residents": ("无居民", "No residents"),
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
    "job_progress": (
        "推荐选址计算中：{done}/{total} 个街道，已用 {s:.0f} 秒",
        "Suggesting sites: {done}/{total} streets, {s:.0f} s",
    ),
    "job_cancelled": ("推荐选址已取消", "Site suggestion cancelled"),
    "job_failed": ("推荐选址失败：{error}", "Site suggestion failed: {error}"),
    "cancel": ("取消", "Cancel"),
    "col_rank": ("序号", "Rank"),
    "col_gain": ("新增覆盖人口", "Newly covered"),
    "col_cumulative": ("累计", "Cumulative"),
    "col_lon": ("经度", "Longitude"),
    "col_lat": ("纬度", "Latitude"),
    "col_method": ("测算方式", "Method"),
    "col_distance": ("步行距离(米)", "Walk (m)"),
    "col_community": ("社区", "Community"),
    "computing": ("正在计算服务圈…", "Computing coverage…"),
    "recompute_refused": (
        "无权重新计算：需要调度员或管理员角色",
        "Not allowed: recomputing needs the dispatcher or admin role",
    ),
    "computed": ("已完成：{n} 类设施，用时 {s:.1f} 秒", "Done: {n} facility types in {s:.1f} s"),
    "minutes_suffix": ("分钟", "-min"),
    "straight_line": ("直线", "straight line"),
    "w_30d": ("30天", "30 days"),
    "overdue_days": ("超{n}天", "+{n}d"),
    "overdue_hours": ("超{n}时", "+{n}h"),
    # the incident panel (派单交办)
    "close": ("关闭", "Close"),
    "incident": ("事件详情", "Incident"),
    "overdue_badge": ("超期", "OVERDUE"),
    "history": ("流转记录", "History"),
    "f_category": ("类别", "Category"),
    "f_status": ("状态", "Status"),
    "f_due": ("时限", "Due"),
    "f_grid": ("网格", "Grid"),
    "f_address": ("地址", "Address"),
    "f_reporter": ("上报人", "Reporter"),
    "f_assignee": ("承办", "Assigned to"),
    "department": ("部门", "Department"),
    "score": ("{n} 分", "{n} / 5"),
    "note": ("办理意见", "Note"),
    "dispatchers_only": ("只有派单员和管理员可以办理事件", "Only dispatchers and admins may act"),
    "action_accept": ("受理", "Accept"),
    "action_dispatch": ("派单", "Dispatch"),
    "action_start": ("开始处置", "Start"),
    "action_resolve": ("办结", "Resolve"),
    "action_verify": ("核查通过", "Verified"),
    "action_rework": ("核查不通过", "Verification failed"),
    "action_evaluate": ("回访评价", "Record satisfaction"),
    "action_reopen": ("重新办理", "Reopen"),
    "action_escalate": ("吹哨", "Blow the whistle"),
    "action_report": ("{department}报到", "{department} reports"),
    "action_report_done": ("部门报到", "Department report"),
    "whistle_heading": ("吹哨报到：召集部门限时报到", "Whistle: call departments to report"),
    "whistle_street": ("街道吹哨", "Street whistles"),
    "whistle_community": ("社区吹哨", "Community whistles"),
    "whistle_departments": ("被召集的部门", "Departments called"),
    "whistle_reason": ("吹哨事由", "Reason"),
    "err_whistle_departments": ("请选择至少一个部门", "Choose at least one department"),
    "err_whistle_reason": ("请填写吹哨事由", "Please write the reason"),
    "open_by_affair": ("在办事件 · 公事/家事/共事", "Open incidents by affair"),
    "workers_on_duty": ("在岗网格员", "Grid workers on duty"),
    "grids": ("网格", "Grids"),
    "f_priority": ("紧急程度", "Priority"),
    "f_source": ("来源", "Source"),
    "current_step": ("当前", "now"),
    "done": ("已{action}", "{action}: done"),
    "err_note_required": ("请填写办理意见", "Please write a note"),
    "err_illegal": ("事件当前为“{status}”，不能{action}", "The incident is {status}: {action} is not possible now"),
    "err_not_found": ("事件 {id} 不存在", "Incident {id} does not exist"),
    "err_request": ("无法办理：{reason}", "Not done: {reason}"),
    # 党建引领 (the party page and the grid panel's party block)
    "page_party": ("党建引领", "Party building"),
    "party_indicator": ("指标", "Indicator"),
    "party_red": ("红榜 · 前五", "Red board · best five"),
    "party_black": ("黑榜 · 后五", "Black board · worst five"),
    "party_orgs": ("党组织", "Party organisations"),
    "party_centres": ("党群服务中心", "Party service centres"),
    "party_circle": ("15分钟党群服务圈（步行）", "15-minute party service circle (walking)"),
    "party_circle_covered": (
        "15分钟党群服务圈：步行可达党群服务中心的区域",
        "15-minute party service circle: areas within a walk of a centre",
    ),
    "party_headed": ("有楼栋长", "With a building head"),
    "party_party_head": ("党员楼栋长", "Party-member building head"),
    "party_unheaded": ("无楼栋长", "Without a building head"),
    "party_secretary": ("书记", "Secretary"),
    "party_members": ("党员", "Members"),
    "party_head": ("楼栋长", "Building head"),
    "party_unit_orgs": ("本级党组织", "Organisations of this unit"),
    "party_hint": (
        "点击地图区块或表格行下钻；悬停指标名称查看定义",
        "Click an area on the map or a table row to drill down; hover an indicator for its definition",
    ),
    "party_no_data": ("暂无党建数据", "No party-building data"),
    "party_none": ("（无）", "(none)"),
    "party_branch": ("党支部", "Party branch"),
    "party_on_duty": ("在岗党员", "Members on duty"),
    "party_team": ("组团服务", "Service team"),
    "party_heads": ("楼栋长", "Building heads"),
    "party_grids": ("网格数", "Grids"),
    "party_value": ("数值", "Value"),
    "party_legend_orgs": ("党组织·", "Organisation · "),
    # hierarchy levels (breadcrumb tooltips)
    "level_city": ("全市", "City"),
    "level_district": ("区", "District"),
    "level_street": ("街道", "Street"),
    "level_community": ("社区", "Community"),
    "level_grid": ("网格", "Grid"),
    # data-quality page (数据质量)
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    "kind_grids": ("网格", "grids"),
    "kind_buildings": ("楼栋", "buildings"),
    "kind_roads": ("道路", "roads"),
    "kind_facilities": ("服务设施", "facilities"),
    "kind_incidents": ("事件", "incidents"),
    "kind_grid_workers": ("网格员", "grid workers"),
    "q_intro": (
        "导入数据的质量：每类数据的读入与拒收、网格拓扑、网格外的点、远离道路的楼栋、设施与配置标准的对照。",
        "Quality of the loaded data: rows in and rejected per kind, grid topology, points outside every grid,"
        " buildings far from roads, facilities against the standards.",
    ),
    "q_loads": ("导入记录（每个文件最近一次）", "Loads (latest of each file)"),
    "q_no_loads": ("没有导入记录（示例数据库由生成器建立）", "No file loads recorded (a generated database)"),
    "q_reasons": ("拒收原因", "Rejected rows by reason"),
    "q_topology": ("网格拓扑", "Grid topology"),
    "q_topology_note": (
        "重叠 {overlap} 处，缝隙 {gap} 处，细长碎片 {sliver} 处。",
        "{overlap} overlaps, {gap} gaps, {sliver} slivers.",
    ),
    "q_outside": ("网格外的点", "Points outside every grid"),
    "q_far": ("距道路超过 {m:.0f} 米的楼栋", "Buildings more than {m:.0f} m from any road"),
    "q_far_note": ("共 {n:,} 栋。", "{n:,} buildings."),
    "q_facilities": ("设施与配置标准", "Facilities against the standards"),
    "q_first_rows": (" 仅显示前 {n} 行（共 {total:,} 行）。", " First {n} of {total:,} rows shown."),
    "q_kind": ("数据类型", "Kind"),
    "q_source_file": ("文件", "File"),
    "q_rows_in": ("读入行数", "Rows in"),
    "q_rows_loaded": ("导入行数", "Loaded"),
    "q_rows_rejected": ("拒收行数", "Rejected"),
    "q_rows_repaired": ("修复行数", "Repaired"),
    "q_reason": ("原因", "Reason"),
    "q_rows": ("行数", "Rows"),
    "q_problem": ("问题", "Problem"),
    "q_grids": ("网格", "Grids"),
    "q_area_m2": ("面积（㎡）", "Area (m²)"),
    "q_width_m": ("平均宽度（米）", "Mean width (m)"),
    "q_lon": ("经度", "Longitude"),
    "q_lat": ("纬度", "Latitude"),
    "q_overlap": ("重叠", "overlap"),
    "q_gap": ("缝隙", "gap"),
    "q_sliver": ("细长碎片", "sliver"),
    "q_stored_without_grid": ("已存但无网格", "Stored without a grid"),
    "q_rejected": ("因在范围外拒收", "Rejected as outside"),
    "q_building_id": ("楼栋编号", "Building id"),
    "q_type": ("设施类型", "Facility type"),
    "q_tier_minutes": ("生活圈（分钟）", "Life circle (min)"),
    "q_required": ("必配", "Required"),
    "q_facilities_n": ("设施数", "Facilities"),
    "q_state": ("状态", "State"),
    "q_missing": ("缺失：必配但没有设施", "missing: required but none loaded"),
    "q_custom": ("自定义类型（非必配）", "custom type (optional)"),
    "q_ok": ("已配置", "present"),
}


def t(key: str, lang: str) -> str:
    zh, en = LABELS[key]
    return en if lang == "en" else zh


CATEGORY_EN = {
    "邻里纠纷": "Neighbour dispute",
    "噪声扰民": "Noise",
    "车辆停放": "Parking",
    "垃圾分类": "Waste sorting",
    "物业服务": "Property mgmt",
    "安全隐患": "Safety hazard",
    "市容环境": "Streetscape",
    "设施损坏": "Damaged facility",
    "占道经营": "Street vending",
    "养老服务": "Elderly care",
}


FACILITY_EN = {
    "党群服务中心": "Party-mass service centre",
    "社区卫生服务站": "Community health station",
    "养老服务站": "Elderly-care station",
    "幼儿园": "Kindergarten",
    "小学": "Primary school",
    "菜市场": "Food market",
    "文体活动站": "Sports & culture station",
    "便利店": "Convenience store",
}


def facility_label(kind: str, lang: str) -> str:
    """Facility types in English on ?lang=en (a type a file brought stays as loaded)."""
    return FACILITY_EN.get(kind, kind) if lang == "en" else kind


def org_type_label(kind, lang: str) -> str:
    """A party organisation's type in English on ?lang=en (a type a file brought stays as loaded)."""
    return ORG_TYPE_LABELS_EN.get(kind, str(kind)) if lang == "en" else str(kind)


def category_label(category: str, lang: str) -> str:
    """Incident categories in English on ?lang=en (a category a file brought stays as loaded)."""
    return CATEGORY_EN.get(category, category) if lang == "en" else category


def status_label(status: str, lang: str) -> str:
    table = STATUS_LABELS_EN if lang == "en" else STATUS_LABELS_ZH
    return table.get(status, status)


PRIORITY_EN = {"一般": "Normal", "紧急": "Urgent", "特急": "Critical"}
SOURCE_EN = {
    "网格员巡查": "Grid patrol",
    "12345热线": "12345 hotline",
    "居民上报": "Resident report",
    "物联感知": "IoT sensor",
}
AFFAIR_EN = {"公事": "Public", "家事": "Private", "共事": "Shared"}
ROLE_EN = {
    "网格长": "Grid head",
    "专职网格员": "Full-time grid worker",
    "兼职网格员": "Part-time grid worker",
    "网格员": "Grid worker",
    "楼栋长": "Building head",
    "党员中心户": "Party household",
    "志愿者": "Volunteer",
    "网格指导员": "Grid instructor",
    "在职党员": "In-service member",
}


def term_label(value: str | None, lang: str) -> str:
    """A priority, source, affair class or grid worker's role in English on ?lang=en (unknown values stay as
    loaded)."""
    if not value:
        return ""
    return _TERMS_EN.get(value, value) if lang == "en" else value


_TERMS_EN = {**PRIORITY_EN, **SOURCE_EN, **AFFAIR_EN, **ROLE_EN}
