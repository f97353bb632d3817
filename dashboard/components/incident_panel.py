"""Incident detail and dispatch (派单交办) on the command center: history, suggestions, allowed actions.

Click an incident in the ticker or in a grid's open list; the panel shows its whole history and,
for dispatchers and admins, the actions its state allows (the same state machine as the API).
Viewers see reporter names and phones masked and no actions.
"""

from __future__ import annotations

import flask
from dash import ALL, Dash, Input, Output, State, ctx, dcc, html, no_update
from dash.exceptions import PreventUpdate

from dashboard.components.panels import place
from dashboard.components.urls import lang_of
from dashboard.i18n import category_label, status_label, t, term_label
from dashboard.views import incidents
from pipelines.vocabulary import DONE_STATUSES, WHISTLE_LEVELS

PREFIX = "command-incident"


def panel(lang: str) -> html.Div:
    """The panel's frame: what the incident is (redrawn on every live update), what may be done to it
    (drawn once per incident and state, so a live update never wipes a note being typed), the result."""
    return html.Div(
        id=f"{PREFIX}-panel",
        className="gt-incident gt-hidden",
        children=[
            dcc.Store(id=f"{PREFIX}-selected"),
            dcc.Store(id=f"{PREFIX}-drawn"),
            html.Button("×", id=f"{PREFIX}-close", className="gt-close", n_clicks=0, title=t("close", lang)),
            html.Div(id=f"{PREFIX}-body"),
            html.Div(id=f"{PREFIX}-controls", className="gt-incident-actions"),
            html.Div(id=f"{PREFIX}-message", className="gt-incident-message"),
        ],
    )


def _facts(view: dict, lang: str) -> list[tuple[str, str]]:
    reporter = " ".join(x for x in (view["reporter_name"], view["reporter_phone"]) if x)
    return [
        (t("f_category", lang), category_label(view["category"], lang)),
        (t("f_status", lang), status_label(view["status"], lang)),
        (t("f_priority", lang), term_label(view.get("priority"), lang)),
        (t("f_source", lang), term_label(view.get("source"), lang)),
        (t("f_assignee", lang), incidents.current_assignee(view) or "—"),
        (t("f_due", lang), (view["due_at"] or "")[:16].replace("T", " ")),
        (t("f_grid", lang), place(view["community_name"], view["grid_name"] or view["grid_code"])),
        (t("f_address", lang), view["address"] or ""),
        (t("f_reporter", lang), reporter),
    ]


def _history_item(h: dict, lang: str, current: bool) -> html.Li:
    before = status_label(h["from_status"], lang) if h["from_status"] else "—"
    return html.Li(
        [
            html.Span((h["occurred_at"] or "")[5:16].replace("T", " "), className="gt-tick-time"),
            html.Span(
                [
                    f"{before} → {status_label(h['to_status'], lang)}",
                    html.Span(t("current_step", lang), className="gt-badge gt-badge-now") if current else None,
                ]
            ),
            html.Span(h["actor"] or "", className="gt-history-actor"),
            html.Span(h["note"] or "", className="gt-history-note"),
        ],
        className="gt-history-item" + (" gt-current" if current else ""),
    )


def _priority_badge(view: dict, lang: str) -> list:
    priority = view.get("priority")
    if not priority or priority == "一般":
        return []
    level = "critical" if priority == "特急" else "urgent"
    return [html.Span(term_label(priority, lang), className=f"gt-badge gt-priority gt-priority-{level}")]


def _field(name: str, options: list[dict], value) -> dcc.Dropdown:
    return dcc.Dropdown(
        id={"type": f"{PREFIX}-field", "name": name},
        options=options,
        value=value,
        clearable=False,
        className="gt-dropdown",
    )


def _controls(view: dict, lang: str, role: str | None = None) -> list:
    """The note, the loop's allowed steps, then 吹哨 (level, departments, reason) and each pending 报到."""
    actions = view["allowed_actions"]
    whistle = incidents.may_act(role, "escalate") and view["status"] not in DONE_STATUSES
    pending = [w for w in view.get("whistles", []) if not w["reported_at"]] if incidents.may_act(role, "report") else []
    if not (actions or whistle or pending):
        return []
    controls = _step_fields(view, lang) if actions else []
    controls.append(
        dcc.Input(
            id={"type": f"{PREFIX}-field", "name": "note"},
            type="text",
            placeholder=t("note", lang),
            className="gt-input gt-note",
            maxLength=4000,
        )
    )
    controls += [_button(t(f"action_{a}", lang), a, "gt-step") for a in actions]
    if whistle:
        controls.append(_whistle_fields(view, lang))
    controls += [
        _button(t("action_report", lang).format(department=w["department"]), f"report:{w['whistle_id']}")
        for w in pending
    ]
    return controls


def _button(label: str, action: str, kind: str = "") -> html.Button:
    """An action button; the loop's own steps carry ``gt-step`` (吹哨 and 报到 sit beside them)."""
    classes = f"gt-button {kind}".strip()
    return html.Button(label, id={"type": f"{PREFIX}-action", "action": action}, className=classes, n_clicks=0)


def _step_fields(view: dict, lang: str) -> list:
    actions = view["allowed_actions"]
    department = view["suggestions"]["department"]
    options = [{"label": f"{t('department', lang)} {department}", "value": f"department:{department}"}]
    options += [
        {"label": f"{w['role']} {w['name']} {w['phone']}", "value": f"worker:{w['worker_id']}"}
        for w in view["suggestions"]["grid_workers"]
    ]
    fields = []
    if "dispatch" in actions:
        fields.append(_field("assignee", options, options[0]["value"]))
    if "evaluate" in actions:
        scores = [{"label": t("score", lang).format(n=n), "value": n} for n in range(5, 0, -1)]
        fields.append(_field("satisfaction", scores, 5))
    return fields


def _whistle_fields(view: dict, lang: str) -> html.Div:
    """吹哨报到: who blows (street or community), which departments must report, and why."""
    levels = [{"label": t(f"whistle_{level}", lang), "value": level} for level in WHISTLE_LEVELS]
    suggested = view["suggestions"]["department"]
    departments = sorted({*view.get("departments", []), *([suggested] if suggested else [])})
    return html.Div(
        [
            html.Small(t("whistle_heading", lang)),
            _field("level", levels, WHISTLE_LEVELS[0]),
            dcc.Dropdown(
                id={"type": f"{PREFIX}-field", "name": "departments"},
                options=[{"label": d, "value": d} for d in departments],
                value=[suggested] if suggested else [],
                multi=True,
                placeholder=t("whistle_departments", lang),
                className="gt-dropdown",
            ),
            dcc.Input(
                id={"type": f"{PREFIX}-field", "name": "reason"},
                type="text",
                placeholder=t("whistle_reason", lang),
                className="gt-input gt-reason",
                maxLength=4000,
            ),
            _button(t("action_escalate", lang), "escalate"),
        ],
        className="gt-whistle",
        id=f"{PREFIX}-whistle",
    )


def body(view: dict, lang: str) -> list:
    """What the incident is (``view`` as :func:`dashboard.api.incident_view` builds it): newest step first."""
    badge = [html.Span(t("overdue_badge", lang), className="gt-badge gt-badge-late")] if view["overdue"] else []
    steps = view["history"][::-1]
    return [
        html.H3([f"{t('incident', lang)} · {view['incident_id']}", *_priority_badge(view, lang), *badge]),
        html.P(view["description"] or "", className="gt-incident-text"),
        html.Div(
            [html.Div([html.Small(k), html.B(v)], className="gt-fact") for k, v in _facts(view, lang)],
            className="gt-facts",
        ),
        html.H4(t("history", lang)),
        html.Ul(
            [_history_item(h, lang, i == 0) for i, h in enumerate(steps)],
            className="gt-history",
            id=f"{PREFIX}-history",
        ),
    ]


def drawn_key(view: dict | None, role: str | None, lang: str) -> list | None:
    """What the controls depend on: a live update that leaves it alone leaves the controls (and a typed note) alone."""
    if view is None:
        return None
    whistles = [[w["whistle_id"], bool(w["reported_at"])] for w in view.get("whistles", [])]
    return [view["incident_id"], view["status"], view["allowed_actions"], role, lang, whistles]


def register_callbacks(app: Dash, data) -> None:
    """The panel's callbacks (writes go through the database's one write path)."""

    @app.callback(
        Output(f"{PREFIX}-selected", "data"),
        Input({"type": "command-incident-link", "id": ALL, "list": ALL}, "n_clicks"),
        Input(f"{PREFIX}-close", "n_clicks"),
        prevent_initial_call=True,
    )
    def select(_clicks, _close):
        if not ctx.triggered or not ctx.triggered[0]["value"]:
            raise PreventUpdate
        return None if ctx.triggered_id == f"{PREFIX}-close" else ctx.triggered_id["id"]

    @app.callback(
        Output(f"{PREFIX}-body", "children"),
        Output(f"{PREFIX}-panel", "className"),
        Output(f"{PREFIX}-controls", "children"),
        Output(f"{PREFIX}-drawn", "data"),
        Output(f"{PREFIX}-message", "children"),
        Input(f"{PREFIX}-selected", "data"),
        Input("command-version", "data"),
        State(f"{PREFIX}-drawn", "data"),
        State("url", "search"),
    )
    def show(incident_id, _version, drawn, search):
        lang, role = lang_of(search), flask.session.get("role")
        view = incidents.detail(data, incident_id, role) if incident_id else None
        if view is None:
            return None, "gt-incident gt-hidden", None, None, None
        key = drawn_key(view, role, lang)
        controls = no_update if key == drawn else _controls(view, lang, role)
        message = no_update if ctx.triggered_id == "command-version" else None
        return body(view, lang), "gt-incident", controls, key, message

    @app.callback(
        Output(f"{PREFIX}-message", "children", allow_duplicate=True),
        Output(f"{PREFIX}-message", "className"),
        Input({"type": f"{PREFIX}-action", "action": ALL}, "n_clicks"),
        State(f"{PREFIX}-selected", "data"),
        State("url", "search"),
        State({"type": f"{PREFIX}-field", "name": ALL}, "value"),
        prevent_initial_call=True,
    )
    def run(_clicks, incident_id, search, _values):
        if not ctx.triggered or not ctx.triggered[0]["value"] or not incident_id:
            raise PreventUpdate
        lang = lang_of(search)
        action = ctx.triggered_id["action"]
        fields = {state["id"]["name"]: state.get("value") for state in ctx.states_list[2]}
        refused, label = perform(
            data, incident_id, action, fields, flask.session.get("role"), flask.session.get("user"), lang
        )
        if refused:
            return refused, "gt-incident-message gt-error"
        return t("done", lang).format(action=label) + " ✓", "gt-incident-message gt-ok"


def perform(data, incident_id: str, action: str, fields: dict, role, user, lang: str) -> tuple[str | None, str]:
    """Take a panel action (a loop step, ``escalate`` or ``report:<whistle id>``) for ``role``: (refusal or None,
    the action's label).  The role is checked here, once, on the API's permission table."""
    kind, _, whistle_id = action.partition(":")
    label = t("action_report_done", lang) if kind == "report" else t(f"action_{kind}", lang)
    if not incidents.may_act(role, kind):
        return t("dispatchers_only", lang), label
    if kind == "escalate":
        return incidents.escalate(data, incident_id, fields, user, lang), label
    if kind == "report":
        return incidents.report(data, whistle_id, fields, user, lang), label
    return incidents.act(data, incident_id, kind, fields, user, lang), label
