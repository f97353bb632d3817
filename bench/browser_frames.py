"""Where a drill-down's time goes in the browser: busy time per thread and the top trace events.

    python bench/browser_frames.py --db /tmp/city.duckdb     # a copy of a database (it is served)
    python bench/browser_frames.py --db DB --paint           # a warm first paint of / instead

One drill-down (or first paint) of the command center in headless Chromium with Chrome's tracing on
(through chromedriver's performance log).  In software-rendered WebGL each map frame is drawn by the GPU
process (``WebGL``) and read back by the page's thread (``GLES2::ReadPixels``): the count of those events
is the number of frames the map drew.  Not a test: nothing is asserted.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path

sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

CATEGORIES = "devtools.timeline,disabled-by-default-devtools.timeline,gpu,toplevel,v8.execute,viz,cc"


def traced_driver(width: int, height: int):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    browser = _browser_module()
    options = webdriver.ChromeOptions()
    options.binary_location = browser.CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", f"--window-size={width},{height}",
                "--enable-unsafe-swiftshader", "--lang=zh-CN"):  # fmt: skip
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    options.add_experimental_option("perfLoggingPrefs", {"enableNetwork": False, "traceCategories": CATEGORIES})
    return webdriver.Chrome(service=Service(browser.CHROMEDRIVER), options=options)


def _browser_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_browser", Path(__file__).with_name("browser.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def report(logs: list[dict], top: int) -> None:
    """Busy time per thread (top-level tasks) and the events with most time, with their counts."""
    events = [json.loads(e["message"])["message"] for e in logs]
    events = [e["params"] for e in events if e.get("method") == "Tracing.dataCollected"]
    names = {}
    for e in events:
        if e.get("ph") == "M" and e.get("name") in ("thread_name", "process_name"):
            names[(e["pid"], e.get("tid") if e["name"] == "thread_name" else None)] = e["args"]["name"]
    busy, spent, count = collections.Counter(), collections.Counter(), collections.Counter()
    for e in events:
        if e.get("ph") != "X" or "dur" not in e:
            continue
        thread = f"{names.get((e['pid'], None), e['pid'])}/{names.get((e['pid'], e['tid']), e['tid'])}"
        if e["name"] == "ThreadControllerImpl::RunTask":
            busy[thread] += e["dur"]
        spent[(thread, e["name"])] += e["dur"]
        count[(thread, e["name"])] += 1
    print("busy time per thread (top-level tasks):")
    for thread, us in busy.most_common(6):
        print(f"  {us / 1000:8.0f} ms  {thread}")
    print("events with most time (nested events count in their parents too):")
    for (thread, name), us in spent.most_common(top):
        print(f"  {us / 1000:8.0f} ms  n={count[(thread, name)]:4d}  {thread[:40]:40s} {name}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", type=Path, required=True, help="database to serve (a copy: it is written to)")
    parser.add_argument("--paint", action="store_true", help="trace a warm first paint instead of a drill-down")
    parser.add_argument("--size", default="1920x1080", help="browser window, WIDTHxHEIGHT")
    parser.add_argument("--top", type=int, default=30, help="events to print")
    args = parser.parse_args(argv)
    width, height = (int(v) for v in args.size.lower().split("x"))
    browser = _browser_module()
    app, http, base = browser.start_server(args.db)
    driver = traced_driver(width, height)
    try:
        driver.get(base + "/")
        browser.poll(driver, browser.MAP_READY, 60)
        time.sleep(1.0)
        if args.paint:
            driver.get("about:blank")
            driver.get_log("performance")
            driver.get(base + "/")
            done = browser.poll(driver, browser.MAP_READY, 60, interval_s=0.1)
            print(f"first paint {done[0] / 1000 if done else -1:.2f} s  {browser.load()}")
        else:
            driver.get_log("performance")
            t0, code = driver.execute_script(browser.CLICK_CHILD, 3)
            drawn = f"const r = (() => {{{browser.MAP_READY}}})(); return r && r[1].endsWith(':{code}') ? r : null"
            done = browser.poll(driver, drawn, 30, interval_s=0.1)
            print(f"drill-down {(done[0] - t0) / 1000 if done else -1:.2f} s  {browser.load()}")
        time.sleep(0.3)
        report(driver.get_log("performance"), args.top)
    finally:
        driver.quit()
        http.close()
        app.gridtwin_data.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
