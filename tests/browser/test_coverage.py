"""The planner page (服务圈分析) in a real browser: what-if, service area, site suggestions, drill, export."""

from __future__ import annotations

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import console_errors, make_driver
from tests.browser.test_dashboard import settle, wait_for

URL = "/coverage?ftype=幼儿园"
FIGURE = "document.querySelector('#coverage-map .js-plotly-plot')"


def _trace_names(driver) -> list[str]:
    return driver.execute_script(f"return {FIGURE}.data.map(t => t.name);")


def _click_lnglat(driver, lon: float, lat: float) -> None:
    """Click the map where (lon, lat) is drawn (maplibre projects it to canvas pixels)."""
    x, y = driver.execute_script(
        f"const p = {FIGURE}._fullLayout.map._subplot.map.project([arguments[0], arguments[1]]); return [p.x, p.y];",
        lon,
        lat,
    )
    canvas = driver.find_element(By.CSS_SELECTOR, "#coverage-map .maplibregl-canvas")
    size = canvas.size
    ActionChains(driver).move_to_element_with_offset(
        canvas, int(x - size["width"] / 2), int(y - size["height"] / 2)
    ).pause(0.4).click().perform()


def test_planner_page_shows_coverage_by_walking_network(server, browser, screenshot_dir):
    browser.get(server["url"] + URL)
    wait_for(browser, "#coverage-map .maplibregl-canvas")
    wait_for(browser, "#coverage-table td")
    settle(browser, 2.0)
    assert "路网步行距离" in browser.find_element(By.ID, "coverage-method").text
    assert "5分钟 生活圈" in browser.find_element(By.ID, "coverage-tier").text
    labels = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#coverage-kpis .gt-kpi-label")]
    assert labels == ["居民覆盖率", "未覆盖居民", "生活圈完整度", "现有设施"]
    assert "access" in _trace_names(browser)
    rows = browser.find_elements(By.CSS_SELECTOR, "#coverage-table tbody tr")
    assert len(rows) == 1 + 5  # header + the five demo streets
    browser.save_screenshot(str(screenshot_dir / "coverage-district.png"))
    assert console_errors(browser) == []


def test_click_places_a_hypothetical_facility_and_a_facility_shows_its_service_area(server, browser, screenshot_dir):
    data = server["app"].gridtwin_data
    cur = data.con.cursor()
    lon, lat = cur.execute(
        "SELECT b.lon, b.lat FROM buildings b JOIN building_access a USING (building_id)"
        " WHERE a.type = '幼儿园' AND (a.distance_m > 600 OR a.distance_m IS NULL) ORDER BY b.residents DESC LIMIT 1"
    ).fetchone()
    f_lon, f_lat = cur.execute("SELECT lon, lat FROM facilities WHERE type = '幼儿园' ORDER BY facility_id").fetchone()
    browser.get(server["url"] + URL)
    wait_for(browser, "#coverage-map .maplibregl-canvas")
    settle(browser, 2.5)
    _click_lnglat(browser, lon, lat)
    WebDriverWait(browser, 15).until(lambda d: d.find_elements(By.ID, "coverage-whatif-text"))
    text = browser.find_element(By.ID, "coverage-whatif-text").text
    assert text.startswith("在此新建一处幼儿园：新增覆盖")
    gained = int(text.split("新增覆盖 ")[1].split(" 人")[0].replace(",", ""))
    assert gained > 0
    WebDriverWait(browser, 10).until(lambda d: "拟建设施" in _trace_names(d))
    settle(browser, 1.5)
    browser.save_screenshot(str(screenshot_dir / "coverage-what-if.png"))

    _click_lnglat(browser, f_lon, f_lat)
    WebDriverWait(browser, 15).until(lambda d: "service_area" in _trace_names(d))
    settle(browser, 1.5)
    browser.save_screenshot(str(screenshot_dir / "coverage-service-area.png"))
    assert console_errors(browser) == []


def test_suggested_sites_and_drill_down_from_the_table(server, browser, screenshot_dir):
    browser.get(server["url"] + URL)
    wait_for(browser, "#coverage-table td")
    settle(browser, 2.0)
    browser.find_element(By.ID, "coverage-suggest").click()
    WebDriverWait(browser, 20).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#coverage-sites tbody tr")) == 4)
    gains = [
        int(r.find_elements(By.CSS_SELECTOR, "td")[1].text.replace(",", ""))
        for r in browser.find_elements(By.CSS_SELECTOR, "#coverage-sites tbody tr")[1:]
    ]
    assert gains == sorted(gains, reverse=True)
    assert gains[0] > 0
    WebDriverWait(browser, 10).until(lambda d: "推荐选址" in _trace_names(d))
    settle(browser, 1.5)
    browser.save_screenshot(str(screenshot_dir / "coverage-sites.png"))

    browser.find_element(By.CSS_SELECTOR, "#coverage-table tbody tr:nth-child(2) td").click()
    WebDriverWait(browser, 10).until(lambda d: "level=street" in d.current_url)
    WebDriverWait(browser, 10).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".gt-crumb")) == 2)
    settle(browser, 2.0)
    assert browser.find_elements(By.CSS_SELECTOR, "#coverage-table td")
    assert "未覆盖楼栋" in _trace_names(browser)
    browser.save_screenshot(str(screenshot_dir / "coverage-street.png"))
    assert console_errors(browser) == []


def test_uncovered_buildings_export(server, tmp_path):
    driver = make_driver(downloads=tmp_path, server=server)
    try:
        driver.get(server["url"] + URL)
        wait_for(driver, "#coverage-table td")
        settle(driver)
        driver.find_element(By.ID, "coverage-export-uncovered").click()
        WebDriverWait(driver, 15).until(lambda d: list(tmp_path.glob("*.csv")))
        raw = next(tmp_path.glob("*.csv")).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf"), "CSV without a BOM: Excel on Windows garbles the headers"
        lines = raw.decode("utf-8-sig").splitlines()
        assert lines[0].startswith("building_id,名称,社区,居民,步行距离(米)")
        assert lines[0].endswith("设施类型,测算方式")
        assert len(lines) > 100
        assert lines[1].endswith("幼儿园,路网步行距离")
    finally:
        driver.quit()
