"""Domain constants of the city: incident categories, sources, facility types, life-circle standards.

The words of the closed loop and the hierarchy (statuses, actions, levels) are in :mod:`pipelines.vocabulary`.
"""

from __future__ import annotations

# category: (affair class 公事/家事/共事, deadline in hours 时限, department 责任部门)
CATEGORIES: dict[str, tuple[str, int, str]] = {
    "邻里纠纷": ("家事", 72, "司法所"),
    "噪声扰民": ("共事", 24, "城管执法"),
    "车辆停放": ("共事", 24, "交警大队"),
    "垃圾分类": ("共事", 48, "环卫所"),
    "物业服务": ("共事", 72, "房管所"),
    "安全隐患": ("公事", 12, "应急管理"),
    "市容环境": ("公事", 48, "城管执法"),
    "设施损坏": ("公事", 72, "市政养护"),
    "占道经营": ("公事", 24, "城管执法"),
    "养老服务": ("家事", 120, "民政科"),
}
SAMPLE_DESCRIPTIONS: dict[str, tuple[str, ...]] = {
    "车辆停放": ("小区门口机动车乱停放，影响通行", "消防通道被私家车占用", "非机动车堆放楼道口"),
    "市容环境": ("路面有大量垃圾未清理", "墙面乱涂乱画小广告", "绿化带内堆放杂物"),
    "垃圾分类": ("垃圾桶满溢未及时清运", "居民未按要求分类投放", "厨余垃圾桶破损"),
    "噪声扰民": ("夜间装修噪声扰民", "广场舞音响声音过大", "楼上住户深夜噪声"),
    "物业服务": ("电梯故障无人维修", "物业未及时处理漏水", "小区门禁损坏"),
    "设施损坏": ("路灯不亮", "窨井盖缺失存在隐患", "健身器材损坏"),
    "邻里纠纷": ("邻居空调外机滴水纠纷", "楼道堆物引发邻里矛盾", "宠物扰邻纠纷"),
    "安全隐患": ("电动车楼道内充电", "外墙瓷砖松动有坠落风险", "燃气管道有异味"),
    "占道经营": ("流动摊贩占道经营", "店铺出店经营占用人行道", "早餐摊占用盲道"),
    "养老服务": ("独居老人需要助餐服务", "老人申请上门助浴", "咨询居家养老补贴"),
}
"""Typical report texts per category: the generator picks among them, the live feeds use the first."""
DEFAULT_DEADLINE_H = 72
DEFAULT_DEPARTMENT = "街道综合指挥室"

SOURCES = ("网格员巡查", "12345热线", "居民上报", "物联感知")
PRIORITIES = ("一般", "紧急", "特急")

WORKER_ROLES = ("网格长", "专职网格员", "兼职网格员")

FACILITY_TYPES = (
    "党群服务中心",
    "社区卫生服务站",
    "养老服务站",
    "幼儿园",
    "小学",
    "菜市场",
    "文体活动站",
    "便利店",
)

ROAD_CLASSES = ("主干路", "次干路", "支路", "街巷")

# GB 50180-2018 life circles (生活圈): tier in minutes → walking distance in metres.
LIFE_CIRCLES_M: dict[int, float] = {5: 300.0, 10: 500.0, 15: 1000.0}
LIFE_CIRCLE_LABELS = {5: "5分钟生活圈", 10: "10分钟生活圈", 15: "15分钟生活圈"}
WALK_SPEED_M_PER_MIN = 60.0
"""Default walking speed (3.6 km/h, an unhurried pace that suits elderly residents)."""
ACCESS_CUTOFF_M = 2000.0
"""Distances are searched up to this far (about half an hour's walk); beyond it a building counts as unreached."""

# facility type: (life-circle tier in minutes, required for a complete life circle)
SERVICE_STANDARDS: dict[str, tuple[int, bool]] = {
    "幼儿园": (5, True),
    "社区卫生服务站": (5, True),
    "养老服务站": (5, True),
    "文体活动站": (5, True),
    "便利店": (5, True),
    "小学": (10, True),
    "菜市场": (15, True),
    "党群服务中心": (15, True),
}
