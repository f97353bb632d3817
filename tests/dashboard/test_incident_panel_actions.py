"""The incident panel's 吹哨, 报到 and 核查 controls: shown to the roles allowed, written through the API's path."""

from __future__ import annotations

import json

from dashboard.components import incident_panel
from dashboard.views import incidents


def _ids(component) -> list:
    """Every component id under ``component`` (as JSON text, pattern ids included)."""
    found = []
    plotly = component.to_plotly_json() if hasattr(component, "to_plotly_json") else component
    if isinstance(plotly, dict):
        props = plotly.get("props", {})
        if "id" in props:
            found.append(json.dumps(props["id"], sort_keys=True, ensure_ascii=False))
        children = props.get("children")
        for child in children if isinstance(children, list) else [children]:
            if child is not None and not isinstance(child, str | int | float):
                found += _ids(child)
    return found


def _open_incident(data, status: str = "in_progress") -> str:
    with data.cursor() as cur:
        return cur.execute(
            "SELECT incident_id FROM incidents i WHERE status = ? AND category IN"
            " (SELECT category FROM categories WHERE department IS NOT NULL)"
            " AND NOT EXISTS (SELECT 1 FROM whistles w WHERE w.incident_id = i.incident_id) ORDER BY 1 LIMIT 1",
            [status],
        ).fetchone()[0]


def test_a_dispatcher_whistles_and_a_department_reports_through_the_panel(data):
    incident_id = _open_incident(data)
    view = incidents.detail(data, incident_id, "dispatcher")
    ids = " ".join(_ids({"props": {"children": incident_panel._controls(view, "zh", "dispatcher")}}))
    assert '"action": "escalate"' in ids and '"name": "departments"' in ids and '"name": "reason"' in ids
    viewer = incident_panel._controls(incidents.detail(data, incident_id, "viewer"), "zh", "viewer")
    assert viewer == []  # no steps, no whistle, no 报到 for a viewer

    department = view["suggestions"]["department"]
    fields = {"level": "street", "departments": [department], "reason": " ", "note": None}
    refused, _ = incident_panel.perform(data, incident_id, "escalate", fields, "dispatcher", "d1", "zh")
    assert refused == "请填写吹哨事由"
    refused, _ = incident_panel.perform(data, incident_id, "escalate", fields | {"reason": "久拖"}, "viewer", "v", "zh")
    assert refused == "只有派单员和管理员可以办理事件"
    refused, label = incident_panel.perform(
        data, incident_id, "escalate", fields | {"reason": "久拖"}, "dispatcher", "d1", "zh"
    )
    assert refused is None and label == "吹哨"

    after = incidents.detail(data, incident_id, "dispatcher")
    (whistle,) = after["whistles"]
    assert (whistle["department"], whistle["level"], whistle["reason"], whistle["reported_at"]) == (
        department,
        "street",
        "久拖",
        None,
    )
    assert incident_panel.drawn_key(after, "dispatcher", "zh") != incident_panel.drawn_key(view, "dispatcher", "zh")
    report = f"report:{whistle['whistle_id']}"
    assert f'"action": "{report}"' in " ".join(
        _ids({"props": {"children": incident_panel._controls(after, "zh", "dispatcher")}})
    )

    refused, label = incident_panel.perform(data, incident_id, report, {"note": "已到场"}, "dispatcher", "d1", "en")
    assert refused is None and label == "Department report"
    reported = incidents.detail(data, incident_id, "dispatcher")["whistles"][0]
    assert reported["reported_at"] is not None and reported["report_note"] == "已到场"
    refused, _ = incident_panel.perform(data, incident_id, report, {}, "dispatcher", "d1", "en")
    assert refused.startswith("Not done:") and "already reported" in refused
    assert f'"action": "{report}"' not in " ".join(
        _ids(
            {
                "props": {
                    "children": incident_panel._controls(
                        incidents.detail(data, incident_id, "dispatcher"), "zh", "dispatcher"
                    )
                }
            }
        )
    )


def test_a_closed_incident_offers_no_whistle_and_a_resolved_one_offers_the_check(data):
    with data.cursor() as cur:
        closed = cur.execute("SELECT incident_id FROM incidents WHERE status = 'evaluated' LIMIT 1").fetchone()[0]
        resolved = cur.execute("SELECT incident_id FROM incidents WHERE status = 'resolved' LIMIT 1").fetchone()[0]
    ids = " ".join(
        _ids({"props": {"children": incident_panel._controls(incidents.detail(data, closed, "admin"), "zh", "admin")}})
    )
    assert '"action": "escalate"' not in ids
    checked = incidents.detail(data, resolved, "dispatcher")
    ids = " ".join(_ids({"props": {"children": incident_panel._controls(checked, "zh", "dispatcher")}}))
    assert '"action": "verify"' in ids and '"action": "rework"' in ids
    refused, label = incident_panel.perform(data, resolved, "rework", {"note": "未清理干净"}, "dispatcher", "d1", "zh")
    assert refused is None and label == "核查不通过"
    with data.cursor() as cur:
        status = cur.execute("SELECT status FROM incidents WHERE incident_id = ?", [resolved]).fetchone()[0]
        checks = cur.execute(
            "SELECT kind, passed FROM verifications WHERE incident_id = ? ORDER BY verified_at DESC", [resolved]
        ).fetchall()
    assert status == "in_progress" and checks[0] == ("核查", False)
