"""Browser benchmark: first paint, drill-down and live latency of the command center, in headless Chromium.

    python bench/browser.py                         # the demo (generated into a temporary file)
    python bench/browser.py --db /tmp/city.duckdb   # a copy of the city-scale database (it is written to)
    python bench/browser.py --screenshot out.png --screen wall --size 1920x1080
    python bench/browser.py --trace --skip coverage,live  # plus one first paint's and one drill-down's timeline

Starts the app on the production server (waitress) on a free port, as ``gridtwin serve`` does, and drives
Debian's ``/usr/bin/chromium`` through selenium.  Prints, with the load average of the machine:

- first paint of ``/``, cold (the browser cache emptied) and warm (navigation start → the map's canvas drawn with its style loaded and the KPI
  tiles filled), and of ``/coverage`` (the planner's map and table);
- drill-down: a click on a child unit (sent through plotly's own click event) → the new unit's map
  drawn and idle in the browser;
- live: an incident committed by the simulator → its line in the ticker.

``--trace`` prints every static file and callback request of one warm first paint and of one drill-down
(sent, answered, size) and when ``Plotly.react`` finished drawing each graph: what is on the critical path.

Not a test: nothing is asserted; timings depend on the machine and its load.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

# This file is named like nothing it imports, but keep bench/ off the import path like the other benches.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

CHROMIUM = os.environ.get("GRIDTWIN_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("GRIDTWIN_CHROMEDRIVER", "/usr/bin/chromedriver")

MAP_READY = """
const gd = document.querySelector('#command-map .js-plotly-plot');
const sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
const ready = sub && sub.map && sub.map.loaded() && !sub.map.isMoving()
    && document.querySelector('#command-kpis .gt-kpi')
    && !document.querySelector('[data-dash-is-loading="true"]');
return ready ? [performance.now(), gd.layout.uirevision] : null;
"""
FIGURE_IN = """
const gd = document.querySelector('#command-map .js-plotly-plot');
return gd && gd.data && gd.data.length && document.querySelector('#command-kpis .gt-kpi') ? performance.now() : null;
"""
COVERAGE_READY = """
const gd = document.querySelector('#coverage-map .js-plotly-plot');
const sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
const ready = sub && sub.map && sub.map.loaded() && document.querySelector('#coverage-table td')
    && !document.querySelector('[data-dash-is-loading="true"]');
return ready ? performance.now() : null;
"""
CLICK_CHILD = """
const gd = document.querySelector('#command-map .js-plotly-plot');
const units = gd.data.find(t => t.name === 'units');
const i = arguments[0] % units.locations.length;
const t0 = performance.now();
gd.emit('plotly_click', {points: [{curveNumber: gd.data.indexOf(units), pointNumber: i,
    location: units.locations[i], customdata: units.customdata[i], z: units.z[i]}]});
return [t0, units.customdata[i][0]];
"""


TRACER = """
window.__gtTrace = [];
const realFetch = window.fetch;
window.fetch = function (url, init) {
    const t0 = performance.now();
    let what = String(url).split('?')[0].replace(location.origin, '');
    try { if (init && init.body) { what = JSON.parse(init.body).output; } } catch (e) {}
    return realFetch.apply(this, arguments).then(function (r) {
        const t1 = performance.now();
        const clone = r.clone();
        clone.text().then(function (body) {
            window.__gtTrace.push([t0, t1, performance.now(), what, body.length, r.status]);
        });
        return r;
    });
};
let plotly;
Object.defineProperty(window, 'Plotly', {configurable: true, get: () => plotly, set: function (value) {
    plotly = value;
    const react = value.react;
    value.react = function (gd) {
        const t0 = performance.now();
        const id = gd && gd.parentElement && gd.parentElement.id;
        window.__gtTrace.push([t0, t0, t0, 'Plotly.react called ' + id, 0, 0]);
        return react.apply(this, arguments).then(function (r) {
            window.__gtTrace.push([t0, performance.now(), performance.now(), 'Plotly.react ' + id, 0, 0]);
            return r;
        });
    };
}});
"""
"""Logs every callback request of the page: [sent, headers in, body read, outputs, characters, status]."""
RESOURCES = """
return performance.getEntriesByType('resource').filter(e => !e.name.includes('_dash-update-component'))
    .map(e => [e.startTime, e.responseEnd, e.name.split('?')[0].replace(location.origin, ''), e.transferSize,
               e.decodedBodySize]);
"""


def poll(driver, script: str, timeout_s: float, *args, interval_s: float = 0.02):
    """Run ``script`` until it returns something truthy; that value (None after ``timeout_s``)."""
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        value = driver.execute_script(script, *args)
        if value:
            return value
        time.sleep(interval_s)
    return None


def start_server(db: Path):
    from dashboard.app import create_app
    from dashboard.security import Settings
    from dashboard.server import make_server

    settings = Settings.from_env()
    started = time.monotonic()
    app = create_app(db, require_login=False, settings=settings)
    app.gridtwin_data.warmed.wait()  # as a server that has been up a while: its caches are warm
    print(f"server ready, caches warm in {time.monotonic() - started:.1f} s")
    http = make_server(app.server, "127.0.0.1", 0, settings)
    threading.Thread(target=http.run, daemon=True).start()
    return app, http, f"http://127.0.0.1:{http.effective_port}"


def make_driver(width: int, height: int):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={width},{height}",
                "--enable-unsafe-swiftshader", "--lang=zh-CN"):  # fmt: skip
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


def first_paint(driver, url: str, ready: str, cold: bool, arrived: list | None = None) -> float | None:
    """Seconds from navigation start to ``ready`` (a cold run clears the browser cache first).

    ``arrived`` collects the seconds until the map's figure and the KPI tiles were on the page (the
    server's part done; the rest is the browser drawing the map)."""
    if cold:
        driver.execute_cdp_cmd("Network.clearBrowserCache", {})
    driver.get("about:blank")
    driver.get(url)
    if arrived is not None:
        figure = poll(driver, FIGURE_IN, 60)
        if figure:
            arrived.append(figure / 1000)
    value = poll(driver, ready, 60)
    if value is None:
        return None
    return (value[0] if isinstance(value, list) else value) / 1000


def drill_down(driver, url: str, clicks: int) -> list[float]:
    """Click → the child's map drawn: one sample per click, each from the top unit."""
    samples = []
    for i in range(clicks):
        driver.get(url)
        if poll(driver, MAP_READY, 60) is None:
            break
        time.sleep(0.3)
        t0, code = driver.execute_script(CLICK_CHILD, i * 7)
        drawn = f"const r = (() => {{{MAP_READY}}})(); return r && r[1].endsWith(':{code}') ? r : null"
        done = poll(driver, drawn, 30)
        if done:
            samples.append((done[0] - t0) / 1000)
    return samples


def live_latency(driver, app, url: str, events: int) -> list[float]:
    """An incident committed → its line in the open page's ticker."""
    from pipelines.incidents.simulate import Simulator

    driver.get(url)
    poll(driver, MAP_READY, 60)
    simulator = Simulator(app.gridtwin_data.db, seed=int(time.time()) % 10_000)
    samples = []
    for _ in range(events):
        time.sleep(1.0)
        committed = time.monotonic()
        (incident_id,) = simulator.tick()
        found = poll(
            driver, f"return document.querySelector(\"#command-ticker-newest li[data-id='{incident_id}']\")", 10
        )
        if found:
            samples.append(time.monotonic() - committed)
    return samples


def trace_first_paint(driver, url: str) -> None:
    """One warm load of ``url`` with every static file and callback on a timeline (ms from navigation)."""
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": TRACER})
    driver.get("about:blank")
    driver.get(url)
    arrived = poll(driver, FIGURE_IN, 60)
    ready = poll(driver, MAP_READY, 60)
    time.sleep(0.5)
    rows = [(a, b, str(name), n, n) for a, b, name, n, _ in driver.execute_script(RESOURCES)]
    rows += [(a, c, f"cb {what}", n, n) for a, _, c, what, n, _ in driver.execute_script("return window.__gtTrace")]
    print("  timeline of one warm first paint (ms from navigation start: sent → read, size):")
    for start, end, name, size, _ in sorted(rows):
        print(f"    {start:7.0f} → {end:7.0f}  {size / 1024:8.1f} KB  {name[:110]}")
    print(f"    figure in {arrived or 0:7.0f}; map drawn and idle {(ready or [0])[0]:7.0f}{frames_text(driver)}")


FRAMES = """
const gd = document.querySelector('#command-map .js-plotly-plot');
const sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
const p = sub && sub.map && sub.map.painter;
return p && p.__gtHold ? [p.__gtDrawn, p.__gtHeld, p.__gtFrames, p.__gtFrameMs || 0] : null;
"""
"""Frames the command map drew and skipped (assets/map.js draws only complete frames while still)."""


def frames_text(driver) -> str:
    counts = driver.execute_script(FRAMES)
    return f"; frames drawn {counts[0]}, partial frames skipped {counts[1]}" if counts else ""


def trace_drill(driver, url: str) -> None:
    """One drill-down with its callbacks on a timeline (ms from the click)."""
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": TRACER})
    driver.get(url)
    poll(driver, MAP_READY, 60)
    time.sleep(1.0)
    driver.execute_script("window.__gtTrace = [];")
    before = driver.execute_script(FRAMES)
    t0, code = driver.execute_script(CLICK_CHILD, 3)
    drawn = f"const r = (() => {{{MAP_READY}}})(); return r && r[1].endsWith(':{code}') ? r : null"
    done = poll(driver, drawn, 30)
    print("  timeline of one drill-down (ms from the click: sent → headers → read, size):")
    for a, b, c, what, n, status in sorted(driver.execute_script("return window.__gtTrace")):
        print(f"    {a - t0:7.0f} → {b - t0:7.0f} → {c - t0:7.0f}  {n / 1024:8.1f} KB  {status}  {str(what)[:100]}")
    after = driver.execute_script(FRAMES)
    counts = ""
    if before and after:
        drawn = " ".join(f"{f - t0:.0f}" for f in after[2] if f > t0)
        counts = f"; frames drawn {after[0] - before[0]} (at {drawn}), skipped {after[1] - before[1]}"
        counts += f"; a frame took {before[3]:.0f} ms before the click, {after[3]:.0f} ms at the end"
    print(f"    map drawn and idle {(done[0] - t0) if done else -1:7.0f}{counts}")


BLANK_GL = (
    "data:text/html;charset=utf-8,<html><body style='margin:0'><canvas id=c width=800 height=600></canvas>"
    "<p style='font-family:\"Noto Sans CJK SC\"'>网格</p><script>"
    "const gl=document.getElementById('c').getContext('webgl2');gl.clearColor(0,0,0.2,1);"
    "gl.clear(gl.COLOR_BUFFER_BIT);requestAnimationFrame(()=>{document.title='drawn';});</script></body></html>"
)
"""A page of no project's: one WebGL frame and a line of CJK text (what a new browser sets up on first use)."""


def prime_browser(driver) -> float | None:
    """Seconds a new browser takes to draw :data:`BLANK_GL`: its own start-up (GPU process, software WebGL,
    fonts), which the first page it opens pays whatever that page is."""
    driver.get(BLANK_GL)
    value = poll(driver, "return document.title === 'drawn' ? performance.now() : null", 60)
    return None if value is None else value / 1000


def new_browser_paint(width: int, height: int, url: str, prime: bool) -> float | None:
    """First paint of ``url`` as the first page of a new browser (after :data:`BLANK_GL` when ``prime``): no HTTP
    cache, and no script compiled in this browser yet (a cache emptied in the same browser keeps V8's compiled
    code in memory)."""
    driver = make_driver(width, height)
    try:
        if prime:
            prime_browser(driver)
        return first_paint(driver, url, MAP_READY, cold=True)
    finally:
        driver.quit()


def summary(samples: list[float]) -> str:
    if not samples:
        return "no sample"
    return f"median {statistics.median(samples):.2f} s, max {max(samples):.2f} s (n={len(samples)})"


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg()) + f" on {os.cpu_count()} cores"


def demo_db(folder: Path) -> Path:
    from pipelines.generate import generate

    path = folder / "demo.duckdb"
    generate(path, "demo", seed=7, end=dt.datetime.now(), progress=False)
    return path


def screenshot(driver, url: str, path: Path) -> None:
    driver.get(url)
    poll(driver, MAP_READY, 60)
    time.sleep(2.5)  # labels and extrusions fade in
    driver.save_screenshot(str(path))
    errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    print(f"screenshot {path}" + (f"; console errors: {errors}" if errors else "; no console errors"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, help="database to serve (default: a freshly generated demo)")
    parser.add_argument("--repeat", type=int, default=3, help="samples per measurement (default: 3)")
    parser.add_argument("--size", default="1920x1080", help="browser window, WIDTHxHEIGHT (default: 1920x1080)")
    parser.add_argument("--screen", default="", help="'wall' for the wall-screen layout")
    parser.add_argument("--query", default="", help="extra query string for the page, e.g. 'layers=grids,hex'")
    parser.add_argument("--skip", default="", help="parts to leave out, e.g. 'coverage,live'")
    parser.add_argument("--trace", action="store_true", help="print one first paint's request timeline")
    parser.add_argument("--screenshot", type=Path, help="only take a screenshot of / into this file")
    parser.add_argument(
        "--new-browsers", type=int, default=0, help="also: first paint in N new browsers (nothing cached or compiled)"
    )
    parser.add_argument(
        "--prime", action="store_true", help="let the new browser draw a blank WebGL page first (its own start-up)"
    )
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    folder = Path(tempfile.mkdtemp(prefix="gridtwin-bench-browser-"))
    try:
        db = args.db or demo_db(folder)
        app, http, base = start_server(db)
        query = "&".join(q for q in (f"screen={args.screen}" if args.screen else "", args.query) if q)
        url = base + "/" + (f"?{query}" if query else "")
        driver = make_driver(width, height)
        try:
            if args.screenshot:
                screenshot(driver, url, args.screenshot)
                return 0
            print(f"database {db}  window {width}x{height}  {load()}")
            arrived: list[float] = []
            # cold: the browser's cache emptied before each (the first also the server's first request of
            # each static file); warm: each after a cold one, then from the cache (the first warm one
            # compiles plotly.js again: V8 keeps compiled code from the second run of a script on)
            cold, warm = [], []
            if args.prime:
                primed = prime_browser(driver)
                print(f"new browser's own start-up (a blank WebGL page, CJK text): {primed or -1:.2f} s")
            for _ in range(args.repeat):
                cold.append(first_paint(driver, url, MAP_READY, cold=True))
            warm = [first_paint(driver, url, MAP_READY, cold=False, arrived=arrived) for _ in range(args.repeat)]
            print(f"first paint /    cold  {summary([c for c in cold if c])}")
            if args.new_browsers:
                fresh = [new_browser_paint(width, height, url, args.prime) for _ in range(args.new_browsers)]
                print(f"first paint /    each in a new browser  {summary([f for f in fresh if f])}")
            print(f"first paint /    warm  {summary([w for w in warm if w])}")
            print(f"  of which figure in   {summary(arrived)} (then the browser draws the map until idle)")
            if args.trace:
                trace_first_paint(driver, url)
            if "coverage" not in args.skip:
                cover = [
                    first_paint(driver, base + "/coverage", COVERAGE_READY, cold=False) for _ in range(args.repeat)
                ]
                print(f"first paint /coverage  {summary([c for c in cover if c])}")
            if args.trace:
                trace_drill(driver, url)
            if "drill" not in args.skip:
                print(f"drill-down click→map   {summary(drill_down(driver, url, args.repeat))}")
            if "live" not in args.skip:
                print(f"live commit→ticker     {summary(live_latency(driver, app, url, args.repeat))}")
            print(load())
        finally:
            driver.quit()
            http.close()
            app.gridtwin_data.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
