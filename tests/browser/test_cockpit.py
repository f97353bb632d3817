"""The leader cockpit in Chromium: charts drawn, drill-down by clicking a bar, the 周报 workbook opens."""

from __future__ import annotations

import openpyxl
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import console_errors, make_driver
from tests.browser.test_dashboard import settle, wait_for

BARS = "#leader-bars g.trace.bars g.point path"


def _click_first_bar(driver) -> None:
    bar = driver.find_elements(By.CSS_SELECTOR, BARS)[0]
    ActionChains(driver).move_to_element(bar).pause(0.4).click().perform()


def test_cockpit_draws_drills_down_and_exports_the_weekly_report(server, tmp_path, screenshot_dir):
    driver = make_driver(width=1600, height=1400, downloads=tmp_path, server=server)
    try:
        driver.get(server["url"] + "/leader?ind=closure_rate")
        for css in (  # each card draws its chart, or says it has no data (never a blank card)
            BARS,
            "#leader-map .maplibregl-canvas",
            "#leader-departments g.point path, #leader-departments .annotation-text",
            "#leader-trend .scatterlayer .trace, #leader-trend .annotation-text",
        ):
            wait_for(driver, css)
        settle(driver)
        assert len(driver.find_elements(By.CSS_SELECTOR, "#leader-kpis .gt-kpi")) == 9
        names = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#leader-bars .legendtext")]
        assert names[:2] == ["本期", "上期(环比)"]  # the previous period beside each bar
        assert len(driver.find_elements(By.CSS_SELECTOR, BARS)) == 2 * 5  # five demo streets, two bars each
        assert driver.find_elements(By.CSS_SELECTOR, ".gt-red-list li") and driver.find_elements(
            By.CSS_SELECTOR, ".gt-black-list li"
        )
        driver.save_screenshot(str(screenshot_dir / "cockpit-district.png"))

        _click_first_bar(driver)  # district → street
        WebDriverWait(driver, 15).until(lambda d: "level=street" in d.current_url)
        settle(driver, 2.5)
        assert "ind=closure_rate" in driver.current_url
        assert len(driver.find_elements(By.CSS_SELECTOR, ".gt-crumb")) == 2
        wait_for(driver, BARS)
        _click_first_bar(driver)  # street → community
        WebDriverWait(driver, 15).until(lambda d: "level=community" in d.current_url)
        settle(driver, 2.5)
        wait_for(driver, BARS)
        _click_first_bar(driver)  # community → grid
        WebDriverWait(driver, 15).until(lambda d: "level=grid" in d.current_url)
        settle(driver, 2.5)
        assert len(driver.find_elements(By.CSS_SELECTOR, ".gt-crumb")) == 4
        driver.save_screenshot(str(screenshot_dir / "cockpit-grid.png"))

        driver.back()  # the URL is the state: back returns to the community
        WebDriverWait(driver, 15).until(lambda d: "level=community" in d.current_url)
        settle(driver, 2.5)
        assert len(driver.find_elements(By.CSS_SELECTOR, ".gt-crumb")) == 3

        driver.find_element(By.ID, "leader-export-report").click()
        WebDriverWait(driver, 20).until(lambda d: list(tmp_path.glob("*.xlsx")))
        book = openpyxl.load_workbook(next(tmp_path.glob("*.xlsx")))
        assert book.sheetnames == ["概览", "排名", "部门", "趋势"]
        assert book["概览"]["A4"].value == "结案率"
        assert book["排名"]._charts and book["趋势"]._charts  # native Excel charts
        assert console_errors(driver) == []
    finally:
        driver.quit()
