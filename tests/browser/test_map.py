"""The 全息网格地图 in a real browser: names drawn offline, 3D buildings and H3 columns, a view that fits."""

from __future__ import annotations

import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import console_errors, make_driver

MAP = "const gd = document.querySelector('#command-map .js-plotly-plot');"
READY = (
    MAP + "const s = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;"
    "return !!(s && s.map && s.map.loaded() && !s.map.isMoving()"
    " && !document.querySelector('[data-dash-is-loading=\"true\"]'));"
)
SCENE = (
    MAP + "const m = gd._fullLayout.map._subplot.map;"
    "const style = m.getStyle();"
    "const placed = m.queryRenderedFeatures({layers: ['gt-labels']}).map(f => f.properties.name);"
    "const b = m.getBounds();"
    "return {layers: style.layers.map(l => [l.id, l.type]), placed: placed, pitch: m.getPitch(),"
    " bearing: m.getBearing(), glyphs: style.glyphs || null,"
    " view: [b.getWest(), b.getSouth(), b.getEast(), b.getNorth()],"
    " width: m.getCanvas().clientWidth, canvas: m.getCanvas().width};"
)


def _scene(driver, url: str) -> dict:
    driver.get(url)
    WebDriverWait(driver, 40, poll_frequency=0.2).until(lambda d: d.execute_script(READY))
    time.sleep(1.5)  # symbol placement fades in
    return driver.execute_script(SCENE)


def test_wall_map_draws_names_buildings_and_columns_offline(server, screenshot_dir):
    con = server["app"].gridtwin_data.con.cursor()
    community = con.execute(
        "SELECT community_code FROM buildings GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
    ).fetchone()[0]
    driver = make_driver(1920, 1080, server=server)
    try:
        url = f"{server['url']}/?screen=wall&level=community&code={community}&layers=grids,hex,buildings,outlines"
        scene = _scene(driver, url)
        driver.save_screenshot(str(screenshot_dir / "map-wall-community-3d.png"))
        layers = dict(scene["layers"])
        assert layers["gt-buildings"] == "fill-extrusion" and layers["gt-columns"] == "fill-extrusion"
        assert scene["glyphs"] is None  # no glyph server: MapLibre draws the names with the page's fonts
        assert any("网格" in name for name in scene["placed"]), scene["placed"]  # grid names were drawn
        assert scene["pitch"] > 30 and scene["bearing"] != 0
        assert console_errors(driver) == []
    finally:
        driver.quit()


def test_desk_map_fits_the_unit_into_the_real_map_size(server, browser, screenshot_dir):
    scene = _scene(browser, server["url"] + "/")
    browser.save_screenshot(str(screenshot_dir / "map-desk-district.png"))
    home = server["app"].gridtwin_data.shapes.children(*server["app"].gridtwin_data.shapes.home())
    west, south, east, north = home["bounds"]
    view_w, view_s, view_e, view_n = scene["view"]
    assert view_w <= west and view_s <= south and view_e >= east and view_n >= north  # the whole unit is in view
    span = (east - west) / (view_e - view_w)
    assert span > 0.55, f"the unit fills only {span:.0%} of the map's width"  # …and fills it
    assert scene["pitch"] == 0
    assert {"和平街道"} & set(scene["placed"]) or len(scene["placed"]) >= 3
    assert console_errors(browser) == []


FRAMES = (
    MAP + "const p = gd._fullLayout.map._subplot.map.painter;return [!!p.__gtHold, p.__gtDrawn || 0, p.__gtHeld || 0];"
)
PAINTED = """
const [shot, done] = [arguments[0], arguments[arguments.length - 1]];
const img = new Image();
img.onload = () => {
    const canvas = document.createElement('canvas');
    canvas.width = img.width; canvas.height = img.height;
    const g = canvas.getContext('2d', {willReadFrequently: true});
    g.drawImage(img, 0, 0);
    const px = g.getImageData(0, 0, img.width, img.height).data;
    let painted = 0;
    for (let k = 0; k < px.length; k += 16) {  /* unlike the ground #07111f (7, 17, 31) */
        if (Math.abs(px[k] - 7) + Math.abs(px[k + 1] - 17) + Math.abs(px[k + 2] - 31) > 40) { painted += 1; }
    }
    done(painted / (px.length / 16));
};
img.src = 'data:image/png;base64,' + shot;
"""
"""Share of the map element's pixels that are not the bare dark ground."""


def test_map_skips_partial_frames_while_still_then_draws_the_whole_map(server, browser, screenshot_dir):
    """assets/map.js: while sources load and the camera stands still, MapLibre's partial frames are skipped
    (one software-rendered frame each), and the complete map is drawn once — never left blank."""
    con = server["app"].gridtwin_data.con.cursor()
    community = con.execute(
        "SELECT community_code FROM buildings GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1"
    ).fetchone()[0]
    url = f"{server['url']}/?level=community&code={community}&layers=grids,hex,buildings,outlines"
    _scene(browser, url)
    hold, drawn, held = browser.execute_script(FRAMES)
    assert hold, "assets/map.js did not wrap the map's painter"
    assert held > 0 and drawn > 0, (drawn, held)
    shot = browser.find_element(By.CSS_SELECTOR, "#command-map").screenshot_as_base64
    browser.save_screenshot(str(screenshot_dir / "map-complete-frames.png"))
    painted = browser.execute_async_script(PAINTED, shot)
    assert painted > 0.2, f"only {painted:.0%} of the map is drawn"
    assert console_errors(browser) == []


FLY = """
const m = gd._fullLayout.map._subplot.map;
m.painter.__gtFrameMs = arguments[0];  /* as measured by assets/map.js after each frame */
window.__gtFlights = [];
const fitBounds = m.fitBounds;
m.fitBounds = function (bounds, options) {
    window.__gtFlights.push(options.duration);
    return fitBounds.apply(this, arguments);
};
const units = gd.data.find(t => t.name === 'units');
const i = arguments[1] % units.locations.length;
gd.emit('plotly_click', {points: [{curveNumber: gd.data.indexOf(units), pointNumber: i,
    location: units.locations[i], customdata: units.customdata[i], z: units.z[i]}]});
return units.customdata[i][0];
"""


def test_drill_down_flies_in_one_step_where_frames_are_slow(server, browser):
    """assets/map.js: a flight of several frames where a frame keeps the page's thread 130-250 ms delayed
    the child's reply; there it is one step, elsewhere the 350 ms flight."""
    for frame_ms, expected in ((400, 0), (8, 350)):
        _scene(browser, server["url"] + "/")
        code = browser.execute_script(MAP + FLY, frame_ms, 1)
        WebDriverWait(browser, 30, poll_frequency=0.2).until(
            lambda d, code=code: (
                d.execute_script(READY) and d.execute_script(MAP + "return gd.layout.uirevision;").endswith(":" + code)
            )
        )
        assert browser.execute_script("return window.__gtFlights") == [expected]
    assert console_errors(browser) == []
