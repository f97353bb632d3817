"""The party page (党建引领) in a real browser: map, sorting, drill-down, export, masked names, console."""

from __future__ import annotations

import time

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import console_errors, make_driver
from tests.browser.test_dashboard import settle, wait_for

URL = "/party?ind=head_coverage"
FIGURE = "document.querySelector('#party-map .js-plotly-plot')"


def _trace_names(driver) -> list[str]:
    return driver.execute_script(f"return {FIGURE}.data.map(t => t.name);")


def _column(driver, index: int) -> list[str]:
    rows = driver.find_elements(By.CSS_SELECTOR, "#party-table tbody tr")[1:]
    return [r.find_elements(By.CSS_SELECTOR, "td")[index].text for r in rows]


def _open(driver, server, path=URL) -> None:
    driver.get(server["url"] + path)
    wait_for(driver, "#party-map .maplibregl-canvas")
    wait_for(driver, "#party-table td")
    settle(driver, 2.0)


def test_party_map_table_and_boards(server, browser, screenshot_dir):
    _open(browser, server)
    names = _trace_names(browser)
    assert "units" in names and "党群服务中心" in names and "街道大工委" in names
    assert len(browser.find_elements(By.CSS_SELECTOR, "#party-table tbody tr")) == 1 + 5  # header + 5 streets
    # 5 streets: two on each board at most, none on both (it listed all five on each before)
    red = {
        li.get_attribute("id")[len("party-red-") :]
        for li in browser.find_elements(By.CSS_SELECTOR, "#party-board-red li")
    }
    black = {
        li.get_attribute("id")[len("party-black-") :]
        for li in browser.find_elements(By.CSS_SELECTOR, "#party-board-black li")
    }
    assert len(red) == 2 and len(black) <= 2 and not red & black
    assert "楼栋长覆盖率" in browser.find_element(By.ID, "party-definition").text
    browser.save_screenshot(str(screenshot_dir / "party-district.png"))
    assert console_errors(browser) == []


def test_a_click_on_a_header_sorts_the_table(server, browser):
    _open(browser, server)
    header = browser.find_elements(By.CSS_SELECTOR, "#party-table th")
    index = next(i for i, th in enumerate(header) if th.text.strip().startswith("人口"))
    sort = header[index].find_element(By.CSS_SELECTOR, ".column-header--sort")
    sort.click()
    settle(browser, 0.5)
    first = [int(v.replace(",", "")) for v in _column(browser, index)]
    sort.click()
    settle(browser, 0.5)
    second = [int(v.replace(",", "")) for v in _column(browser, index)]
    assert sorted(first) in (first, first[::-1]) and first != second
    assert second == first[::-1] or second == sorted(first, reverse=first == sorted(first))
    assert console_errors(browser) == []


def test_drill_down_by_row_and_by_map(server, browser, screenshot_dir):
    _open(browser, server)
    browser.find_element(By.CSS_SELECTOR, "#party-table tbody tr:nth-child(2) td:nth-child(2)").click()
    WebDriverWait(browser, 10).until(lambda d: "level=street" in d.current_url)
    assert "ind=head_coverage" in browser.current_url
    WebDriverWait(browser, 10).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".gt-crumb")) == 2)
    settle(browser, 2.0)
    browser.save_screenshot(str(screenshot_dir / "party-street.png"))
    # a click on a community's area drills to it (the click event Plotly emits for a hit on the area)
    browser.execute_script(
        f"const gd = {FIGURE}, t = gd.data.find(t => t.name === 'units');"
        " gd.emit('plotly_click', {points: [{curveNumber: gd.data.indexOf(t), pointNumber: 0,"
        " location: t.locations[0], customdata: t.customdata[0]}]});"
    )
    WebDriverWait(browser, 15).until(lambda d: "level=community" in d.current_url)
    settle(browser, 2.0)
    assert "有楼栋长" in _trace_names(browser) or "党员楼栋长" in _trace_names(browser)
    browser.save_screenshot(str(screenshot_dir / "party-community.png"))
    assert console_errors(browser) == []


def _grid_with_branch(server) -> tuple[str, str]:
    cur = server["app"].gridtwin_data.con.cursor()
    return cur.execute(
        "SELECT grid_code, secretary_name FROM party_orgs WHERE unit_level = 'grid' AND secretary_name IS NOT NULL"
        " ORDER BY grid_code LIMIT 1"
    ).fetchone()


def test_viewer_sees_masked_names_and_a_dispatcher_whole_ones(server, browser, screenshot_dir):
    grid, secretary = _grid_with_branch(server)
    _open(browser, server, f"/party?level=grid&code={grid}")
    WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#party-people li"))
    text = browser.find_element(By.CSS_SELECTOR, ".gt-party-side").text
    assert secretary not in text and secretary[0] + "*" in text
    browser.save_screenshot(str(screenshot_dir / "party-grid-viewer.png"))
    assert console_errors(browser) == []
    driver = make_driver(server=server, user="dispatcher")
    try:
        _open(driver, server, f"/party?level=grid&code={grid}")
        WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#party-people li"))
        assert secretary in driver.find_element(By.CSS_SELECTOR, ".gt-party-side").text
    finally:
        driver.quit()


def test_export_downloads_csv_with_bom_and_excel(server, tmp_path):
    driver = make_driver(downloads=tmp_path, server=server)
    try:
        _open(driver, server)
        driver.find_element(By.ID, "party-export-csv").click()
        WebDriverWait(driver, 15).until(lambda d: list(tmp_path.glob("*.csv")))
        raw = next(tmp_path.glob("*.csv")).read_bytes()
        assert raw.startswith(b"\xef\xbb\xbf")
        lines = raw.decode("utf-8-sig").splitlines()
        assert lines[0].startswith("序号,名称,编码,网格数,人口,户数,网格党组织覆盖率 (%)")
        assert len(lines) == 1 + 5
        driver.find_element(By.ID, "party-export-xlsx").click()
        deadline = time.time() + 15
        while not list(tmp_path.glob("*.xlsx")) and time.time() < deadline:
            time.sleep(0.3)
        assert list(tmp_path.glob("*.xlsx"))
        assert console_errors(driver) == []
    finally:
        driver.quit()
