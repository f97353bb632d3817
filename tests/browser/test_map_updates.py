"""Map figures that arrive close together (dashboard/plotly_bundle/map-patch.js): each is drawn in turn, none throws.

plotly.js starts every map update at once; a figure that arrived while MapLibre was still loading the
previous one's style threw "Cannot read properties of undefined (reading 'layers')" (seen in CI on a slow
machine after a drill-down).  These tests send such figures on purpose, at the moments that broke.
"""

from __future__ import annotations

import time

from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import console_errors

GD = "const g = document.querySelector('#command-map .js-plotly-plot');"
READY = (
    GD + "const s = g && g._fullLayout && g._fullLayout.map && g._fullLayout.map._subplot;"
    "return !!(s && s.map && s.map.loaded() && !document.querySelector('[data-dash-is-loading=\"true\"]'));"
)
# every trace of the figure on the map: one MapLibre layer at least whose id carries the trace's uid
DRAWN = (
    GD + "const m = g._fullLayout.map._subplot.map; const ids = m.getStyle().layers.map(l => l.id);"
    "return g._fullData.filter(t => t.visible === true).every(t => ids.some(id => id.includes(t.uid)));"
)
SHIFTED = "g.data.map(t => Object.assign({}, t, t.z ? {z: t.z.map(v => v + 1)} : {}))"


def _open(browser, server) -> None:
    browser.get(server["url"] + "/")
    WebDriverWait(browser, 40, poll_frequency=0.2).until(lambda d: d.execute_script(READY))
    time.sleep(1.0)
    console_errors(browser)  # drop what the page load logged; each test checks its own burst


def _settled(browser) -> None:
    WebDriverWait(browser, 20, poll_frequency=0.2).until(
        lambda d: d.execute_script("return window.__gtDone === window.__gtSent") and d.execute_script(READY)
    )
    time.sleep(0.5)


def test_a_figure_arriving_while_the_new_map_loads_its_style_is_drawn(server, browser):
    """The CI failure: the map is (re)created, and the next figure comes before MapLibre has its style."""
    _open(browser, server)
    browser.execute_script(
        GD + f"const D = g.data, L = g.layout, next = {SHIFTED};"
        "window.__gtSent = 2; window.__gtDone = 0; const done = () => { window.__gtDone += 1; };"
        # the map canvas appears synchronously in plotly's createMap; MapLibre loads the style a frame later
        "const seen = new MutationObserver(() => { if (g.querySelector('.maplibregl-canvas')) {"
        "  seen.disconnect(); Plotly.react(g, next, Object.assign({}, L)).then(done, done); } });"
        "Plotly.purge(g); seen.observe(g, {childList: true, subtree: true});"
        "Plotly.newPlot(g, D, L).then(done, done);"
    )
    _settled(browser)
    assert console_errors(browser) == []
    assert browser.execute_script(DRAWN)


def test_a_burst_of_figures_with_changing_styles_ends_on_the_last(server, browser):
    """Six figures 0-50 ms apart, each with its own style: no errors, and the map shows the last style."""
    _open(browser, server)
    colours = ["#010203", "#040506", "#070809", "#0a0b0c", "#0d0e0f", "#101112"]
    browser.execute_script(
        GD + "const colours = arguments[0]; window.__gtSent = colours.length; window.__gtDone = 0;"
        "const done = () => { window.__gtDone += 1; };"
        "colours.forEach((c, i) => setTimeout(() => {"
        "  const L = JSON.parse(JSON.stringify(g.layout));"
        "  L.map.style.layers.find(l => l.type === 'background').paint['background-color'] = c;"
        f"  Plotly.react(g, {SHIFTED}, L).then(done, done);"
        "}, i * 10));",
        colours,
    )
    _settled(browser)
    assert console_errors(browser) == []
    assert browser.execute_script(DRAWN)
    ground = browser.execute_script(
        GD + "const m = g._fullLayout.map._subplot.map;"
        "return m.getStyle().layers.find(l => l.type === 'background').paint['background-color'];"
    )
    assert ground == colours[-1]
