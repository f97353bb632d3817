"""The data-quality page (数据质量) in a real browser, as a viewer: every table shown, nav entry, no console error."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import console_errors
from tests.browser.test_dashboard import settle, wait_for

SECTIONS = ("loads", "reasons", "topology", "outside", "far", "facilities")


def test_quality_page_shows_the_report_tables(server, browser, screenshot_dir):
    browser.get(server["url"] + "/quality")
    wait_for(browser, "#quality-facilities td")
    settle(browser, 1.0)
    titles = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".gt-quality-section h3")]
    assert titles[0] == "导入记录（每个文件最近一次）" and titles[-1] == "设施与配置标准"
    assert len(titles) == len(SECTIONS)
    for key in SECTIONS:
        assert browser.find_elements(By.ID, f"quality-{key}"), key
    types = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#quality-facilities td[data-dash-column=type]")]
    assert "幼儿园" in types
    outside = browser.find_elements(By.CSS_SELECTOR, "#quality-outside tbody tr")
    assert len(outside) == 1 + 3  # header + buildings, facilities, incidents
    nav = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#nav .gt-nav-link")]
    assert "数据质量" in nav
    active = browser.find_element(By.CSS_SELECTOR, "#nav .gt-nav-link.active").text
    assert active == "数据质量"
    browser.save_screenshot(str(screenshot_dir / "quality.png"))
    assert console_errors(browser) == []


def test_quality_page_in_english(server, browser):
    browser.get(server["url"] + "/quality?lang=en")
    wait_for(browser, "#quality-facilities td")
    WebDriverWait(browser, 10).until(
        lambda d: "Facilities against the standards" in [e.text for e in d.find_elements(By.CSS_SELECTOR, "h3")]
    )
    assert console_errors(browser) == []
