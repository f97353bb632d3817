"""Figures of the leader cockpit: ranked bars with 环比/同比 beside each bar, the choropleth, departments, trends.

Inputs are the frames of :mod:`dashboard.views.cockpit`; every bar and area carries its unit code in
``customdata`` (first item) so a click drills down.
"""

from __future__ import annotations

import pandas as pd

from dashboard.figures import ACCENT, FONT, TEXT, as_list, map_figure, outline_layer
from dashboard.party_figures import shading_trace
from dashboard.views.cockpit import label, ranked, shown
from pipelines.store.loop_indicators import LOWER_IS_BETTER

PREVIOUS, LAST_YEAR, GOOD, BAD = "#5b6f8a", "#c77dff", "#4dd4ac", "#ff4d5e"


def _layout(**extra) -> dict:
    axis = {"gridcolor": "#1c2f48", "zerolinecolor": "#1c2f48", "automargin": True}
    return {
        "margin": {"l": 8, "r": 8, "t": 28, "b": 8},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"color": TEXT, "family": FONT},
        "xaxis": dict(axis),
        "yaxis": dict(axis),
        "legend": {"orientation": "h", "y": 1.1, "x": 0},
        "barmode": "group",
        **extra,
    }


def _scale(indicator: str, values) -> list:
    return [None if pd.isna(v) else (v * 100 if indicator.endswith("rate") else v) for v in values]


def _nothing(lang: str, title: str) -> dict:
    """An empty card: its title and "no data in this period", no axes (an empty grid of -1…6 said nothing)."""
    hidden = {"visible": False}
    note = {"text": label("no_data", lang), "showarrow": False, "xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5}
    layout = _layout(annotations=[note], xaxis=hidden, yaxis=hidden)
    layout["title"] = {"text": title, "font": {"size": 14}}
    return {"data": [], "layout": layout}


def ranked_bars(children: pd.DataFrame, indicator: str, lang: str, with_last_year: bool) -> dict:
    """Child units ranked by ``indicator`` (best on the left), the previous period and last year beside each bar."""
    order = ranked(children, indicator)
    if order is None or order.empty:
        return _nothing(lang, label(indicator, lang))
    names, codes = as_list(order["name"].fillna(order["code"])), [[c] for c in order["code"]]
    unit = "%" if indicator.endswith("rate") else ""
    series = [("", "current", ACCENT), ("_prev", "previous", PREVIOUS)]
    if with_last_year:
        series.append(("_yoy", "last_year", LAST_YEAR))
    traces = [
        {
            "type": "bar",
            "name": label(key, lang),
            "x": names,
            "y": _scale(indicator, order[indicator + suffix]),
            "customdata": codes,
            "marker": {"color": colour},
            "hovertemplate": "%{x}<br>" + label(key, lang) + ": %{y:.1f}" + unit + "<extra></extra>",
        }
        for suffix, key, colour in series
    ]
    layout = _layout(title={"text": label(indicator, lang), "font": {"size": 14}})
    layout["yaxis"]["ticksuffix"] = unit
    return {"data": traces, "layout": layout}


def choropleth(children: dict, table: pd.DataFrame, indicator: str, lang: str, tile_url, uirevision: str) -> dict:
    """The child units shaded by the indicator (darker is worse); a click drills down."""
    if table.empty:
        units = None
    else:
        units = table[["code", "name"]].assign(
            value=_scale(indicator, table[indicator]), shown=[shown(indicator, v) for v in table[indicator]]
        )
    traces = shading_trace(children, units, label(indicator, lang), indicator not in LOWER_IS_BETTER)
    for trace in traces:
        if "colorbar" in trace:  # below the mode bar (top right), whose buttons hid the colour bar's title
            trace["colorbar"].update(y=0.42, len=0.6, yanchor="middle")
            if indicator.endswith("rate"):  # in % like the KPI cards and the bars
                trace["colorbar"]["ticksuffix"] = "%"
    layers = outline_layer(children.get("outline"), "#8ecae6", 2.0)
    figure = map_figure(traces, children, layers, tile_url, uirevision, legend=False)
    figure["layout"]["map"]["zoom"] = children["zoom"] - 0.8  # a card, smaller than the command map
    return figure


def department_bars(departments: pd.DataFrame, lang: str) -> dict:
    """Departments by their mean 反向评价 (1-5), best at the top, with response hours in the hover.

    Departments not rated in the period have no bar (an empty row said nothing); when none was rated, the
    departments are shown by whistle response hours instead (fastest at the top), so the card is never blank
    while whistles were blown."""
    if departments.empty:
        return _nothing(lang, label("departments", lang))
    rated = departments[departments["rating"].notna()]
    by_rating = not rated.empty
    frame = rated if by_rating else departments[departments["response_h"].notna()]
    if frame.empty:
        return _nothing(lang, label("departments", lang))
    frame = frame.iloc[::-1] if by_rating else frame.sort_values("response_h", ascending=False)
    metric = "rating" if by_rating else "response_h"
    if by_rating:
        colours = [GOOD if r >= 4 else BAD if r < 3 else ACCENT for r in frame["rating"]]
    else:
        colours = [BAD if late is not None and late < 0.5 else ACCENT for late in frame["on_time_rate"]]
    trace = {
        "type": "bar",
        "orientation": "h",
        "x": as_list(frame[metric]),
        "y": as_list(frame["department"]),
        "marker": {"color": colours},
        "customdata": [[h, w] for h, w in zip(frame["response_h"].round(1), frame["whistles"], strict=True)],
        "hovertemplate": "%{y}: %{x:.2f}<br>"
        + f"{label('response', lang)} %{{customdata[0]}} h · {label('whistles', lang)} %{{customdata[1]}}<extra></extra>",
        "name": label("rating" if by_rating else "whistle_response_h", lang),
    }
    title = label("departments", lang) if by_rating else label("departments_by_response", lang)
    # at the left: a long title in the middle of a half-width card ran under the mode bar (top right)
    layout = _layout(title={"text": title, "font": {"size": 14}, "x": 0.01, "xanchor": "left"})
    if by_rating:
        layout["xaxis"].update(range=[0, 5])
    return {"data": [trace], "layout": layout}


def trend_lines(trend: pd.DataFrame, indicator: str, lang: str) -> dict:
    """The indicator week by week, with 按期结案率 and 结案率 for reference."""
    keys = list(dict.fromkeys([indicator, "closure_rate", "on_time_closure_rate"]))
    if not len(trend):
        return _nothing(lang, label("trend", lang))
    weeks = [str(w)[:10] for w in trend["week"]]
    traces = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "x": weeks,
            "y": _scale(key, trend[key]),
            "name": label(key, lang),
            "line": {"width": 3 if key == indicator else 1.5},
        }
        for key in keys
    ]
    layout = _layout(title={"text": label("trend", lang), "font": {"size": 14}})
    # every week's start as 月-日 (numbers: the same in both languages; plotly's month names are English); the
    # last week is the current one, still running: its rates are not yet comparable with whole weeks, and its tick
    # says so (a note above the plot ran under the mode bar)
    ticks = [f"{w[5:7]}-{w[8:10]}" for w in weeks]
    ticks[-1] += f"<br>{label('week_to_date', lang)}"
    layout["xaxis"].update(tickmode="array", tickvals=weeks, ticktext=ticks)
    if all(key.endswith("rate") for key in keys):
        layout["yaxis"]["ticksuffix"] = "%"
    return {"data": traces, "layout": layout}
