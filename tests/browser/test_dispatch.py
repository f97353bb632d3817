"""Dispatch from the command center (派单交办): history, allowed actions by role, masking for viewers."""

from __future__ import annotations

from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser.conftest import console_errors, make_driver
from tests.browser.test_dashboard import settle, wait_for


def _open_first_incident(driver, server):
    driver.get(server["url"] + "/")
    wait_for(driver, "#command-ticker-newest li")
    settle(driver, 2.0)
    item = driver.find_elements(By.CSS_SELECTOR, "#command-ticker-newest li")[0]
    incident_id = item.get_attribute("data-id")
    item.click()
    WebDriverWait(driver, 10).until(lambda d: d.find_elements(By.CSS_SELECTOR, "#command-incident-history li"))
    return incident_id


def test_dispatcher_accepts_and_dispatches_from_the_panel(server, screenshot_dir):
    driver = make_driver(server=server, user="dispatcher")
    try:
        incident_id = _open_first_incident(driver, server)
        cur = server["app"].gridtwin_data.con.cursor()
        status = cur.execute("SELECT status FROM incidents WHERE incident_id = ?", [incident_id]).fetchone()[0]
        steps = ".gt-incident-actions button.gt-step"  # the loop's steps (吹哨 and its fields sit beside them)
        buttons = [b.text for b in driver.find_elements(By.CSS_SELECTOR, steps)]
        expected = {"reported": ["受理"], "accepted": ["派单"], "dispatched": ["派单", "开始处置"]}
        assert buttons == expected.get(status, buttons)
        before = len(driver.find_elements(By.CSS_SELECTOR, "#command-incident-history li"))
        driver.find_elements(By.CSS_SELECTOR, steps)[0].click()
        WebDriverWait(driver, 10).until(
            lambda d: len(d.find_elements(By.CSS_SELECTOR, "#command-incident-history li")) == before + 1
        )
        assert driver.find_element(By.ID, "command-incident-message").text.endswith("✓")
        after = cur.execute("SELECT status FROM incidents WHERE incident_id = ?", [incident_id]).fetchone()[0]
        assert after != status
        last = cur.execute(
            "SELECT actor FROM incident_events WHERE incident_id = ? ORDER BY occurred_at DESC, event_id DESC LIMIT 1",
            [incident_id],
        ).fetchone()[0]
        assert last == "dispatcher"
        settle(driver, 1.0)
        driver.save_screenshot(str(screenshot_dir / "dispatch-panel.png"))
        assert console_errors(driver) == []
    finally:
        driver.quit()


def test_viewer_sees_history_masked_and_no_actions(server, browser):
    _open_first_incident(browser, server)
    assert browser.find_elements(By.CSS_SELECTOR, ".gt-incident-actions button") == []
    text = browser.find_element(By.ID, "command-incident-body").text
    assert "流转记录" in text
    phones = [w for w in text.split() if w[:3].isdigit() and len(w) == 11]
    assert all("****" in p for p in phones)
    browser.find_element(By.ID, "command-incident-close").click()
    WebDriverWait(browser, 5).until(
        lambda d: "gt-hidden" in d.find_element(By.ID, "command-incident-panel").get_attribute("class")
    )
    assert console_errors(browser) == []
