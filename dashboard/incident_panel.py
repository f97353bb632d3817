"""Incident detail and dispatch (派单交办) on the command center: history, suggestions, allowed actions.

Click an incident in the ticker or in a grid's open list; the panel shows its whole history and,
for dispatchers and admins, the actions its state allows (the same state machine as the API).
Viewers see reporter names and phones masked and no actions.
"""

from __future__ import annotations

import flask
from dash import ALL, Dash, Input, Output, State, ctx, dcc, html
from dash.exceptions import PreventUpdate

from dashboard.data import DashboardData
from dashboard.i18n import category_label, status_label
from pipelines import auth
from pipelines.incidents import intake
from pipelines.incidents.machine import IllegalTransition
from pipelines.incidents.repository import incident_record
from pipelines.incidents.view import incident_view
from pipelines.vocabulary import ACTION_LABELS_EN, ACTION_LABELS_ZH


def panel() -> html.Div:
    return html.Div(
        id="incident-panel",
        className="gt-incident gt-hidden",
        children=[
            dcc.Store(id="incident-selected"),
            html.Button("×", id="incident-close", className="gt-close", n_clicks=0, title="关闭 Close"),
            html.Div(id="incident-body"),
            html.Div(id="incident-message", className="gt-incident-message"),
        ],
    )


def _who() -> tuple[str | None, str | None]:
    return flask.session.get("user"), flask.session.get("role")


def _label(action: str, lang: str) -> str:
    return ACTION_LABELS_EN[action] if lang == "en" else ACTION_LABELS_ZH[action]


def body(view: dict, lang: str) -> list:
    """The panel for one incident (``view`` as :func:`pipelines.incidents.view.incident_view` builds it)."""
    zh = lang != "en"
    facts = [
        ("类别" if zh else "Category", category_label(view["category"], lang)),
        ("状态" if zh else "Status", status_label(view["status"], lang)),
        ("时限" if zh else "Due", (view["due_at"] or "")[:16].replace("T", " ")),
        ("网格" if zh else "Grid", f"{view['community_name'] or ''} · {view['grid_name'] or view['grid_code'] or ''}"),
        ("地址" if zh else "Address", view["address"] or ""),
        ("上报人" if zh else "Reporter", " ".join(x for x in (view["reporter_name"], view["reporter_phone"]) if x)),
        ("承办" if zh else "Assigned to", view["assignee"] or "—"),
    ]
    history = [
        html.Li(
            [
                html.Span((h["occurred_at"] or "")[5:16].replace("T", " "), className="gt-tick-time"),
                html.Span(
                    f"{status_label(h['from_status'], lang) if h['from_status'] else '—'} → "
                    f"{status_label(h['to_status'], lang)}"
                ),
                html.Span(h["actor"] or "", className="gt-history-actor"),
                html.Span(h["note"] or "", className="gt-history-note"),
            ],
            className="gt-history-item",
        )
        for h in view["history"]
    ]
    actions = view["allowed_actions"]
    controls = []
    if actions:
        options = [
            {
                "label": f"部门 {view['suggestions']['department']}",
                "value": f"department:{view['suggestions']['department']}",
            }
        ]
        options += [
            {"label": f"{w['role']} {w['name']} {w['phone']}", "value": f"worker:{w['worker_id']}"}
            for w in view["suggestions"]["grid_workers"]
        ]
        if "dispatch" in actions:
            controls.append(
                dcc.Dropdown(
                    id={"type": "incident-field", "name": "assignee"},
                    options=options,
                    value=options[0]["value"],
                    clearable=False,
                    className="gt-dropdown",
                )
            )
        if "evaluate" in actions:
            controls.append(
                dcc.Dropdown(
                    id={"type": "incident-field", "name": "satisfaction"},
                    options=[{"label": f"{n} 分", "value": n} for n in range(5, 0, -1)],
                    value=5,
                    clearable=False,
                    className="gt-dropdown",
                )
            )
        controls.append(
            dcc.Input(
                id={"type": "incident-field", "name": "note"},
                type="text",
                placeholder="办理意见" if zh else "Note",
                className="gt-input gt-note",
                maxLength=4000,
            )
        )
        controls += [
            html.Button(_label(a, lang), id={"type": "incident-action", "action": a}, className="gt-button", n_clicks=0)
            for a in actions
        ]
    return [
        html.H3(
            [f"{'事件详情' if zh else 'Incident'} · {view['incident_id']}"]
            + ([html.Span("超期" if zh else "OVERDUE", className="gt-badge gt-badge-late")] if view["overdue"] else [])
        ),
        html.P(view["description"] or "", className="gt-incident-text"),
        html.Div([html.Div([html.Small(k), html.B(v)], className="gt-fact") for k, v in facts], className="gt-facts"),
        html.H4("流转记录" if zh else "History"),
        html.Ul(history, className="gt-history", id="incident-history"),
        html.Div(controls, className="gt-incident-actions") if controls else None,
    ]


def register(app: Dash, data: DashboardData, gate, lang_of) -> None:
    @app.callback(
        Output("incident-selected", "data"),
        Input({"type": "incident-link", "id": ALL, "list": ALL}, "n_clicks"),
        Input("incident-close", "n_clicks"),
        prevent_initial_call=True,
    )
    def select(clicks, close):
        if not ctx.triggered or not ctx.triggered[0]["value"]:
            raise PreventUpdate
        if ctx.triggered_id == "incident-close":
            return None
        return ctx.triggered_id["id"]

    @app.callback(
        Output("incident-body", "children"),
        Output("incident-panel", "className"),
        Input("incident-selected", "data"),
        Input("version", "data"),
        State("url", "search"),
    )
    def show(incident_id, _version, search):
        hidden = (None, "gt-incident gt-hidden")
        if not incident_id:
            return hidden
        _, role = _who()
        with data.cursor() as cur:
            record = incident_record(cur, incident_id)
            if record is None:
                return hidden
            return body(incident_view(cur, record, role, data.clock()), lang_of(search)), "gt-incident"

    @app.callback(
        Output("incident-message", "children"),
        Input({"type": "incident-action", "action": ALL}, "n_clicks"),
        State("incident-selected", "data"),
        State("url", "search"),
        State({"type": "incident-field", "name": ALL}, "value"),
        prevent_initial_call=True,
    )
    def run(clicks, incident_id, search, _values):
        if not ctx.triggered or not ctx.triggered[0]["value"] or not incident_id:
            raise PreventUpdate
        user, role = _who()
        lang = lang_of(search)
        if not auth.allows(role, "dispatcher"):
            return "只有派单员和管理员可以办理事件" if lang != "en" else "Only dispatchers and admins may act"
        action = ctx.triggered_id["action"]
        fields = {state["id"]["name"]: state.get("value") for state in ctx.states_list[2]}
        payload = {"note": fields.get("note") or None}
        if action == "dispatch" and fields.get("assignee"):
            kind, _, who = fields["assignee"].partition(":")
            payload.update(assignee_type=kind, assignee=who)
        if action == "evaluate":
            payload["satisfaction"] = fields.get("satisfaction")
        try:
            intake.act(data.db, incident_id, action, payload, data.clock(), user)
        except (intake.RequestError, intake.NotFound, IllegalTransition) as exc:
            return str(exc)
        return f"{_label(action, lang)} ✓"
