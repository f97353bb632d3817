"""Finding 6: no login throttling and no rate limit on the public Open311 reads (scrapers starve intake)."""

from __future__ import annotations

import requests

from tests.security.conftest import PASSWORDS, login_attempt


def _retry_after(reply) -> int:
    value = reply.headers.get("Retry-After", "")
    assert value.isdigit() and int(value) > 0, f"HTTP {reply.status_code} without a Retry-After in seconds: {value!r}"
    return int(value)


def test_five_wrong_passwords_lock_the_user(fresh_server):
    running = fresh_server()
    codes = [login_attempt(running, "dispatcher", f"wrong-{i}").status_code for i in range(5)]
    assert all(code in (401, 429) for code in codes), codes
    right = login_attempt(running, "dispatcher", PASSWORDS["dispatcher"])
    assert right.status_code == 429, f"the right password after 5 wrong ones: HTTP {right.status_code}"
    _retry_after(right)
    other = login_attempt(running, "viewer", PASSWORDS["viewer"])
    assert other.status_code in (302, 303), f"another user from the same address is locked too: {other.status_code}"


def test_twenty_wrong_passwords_lock_the_address(fresh_server):
    running = fresh_server()
    codes = [login_attempt(running, f"nobody-{i}", "wrong-password").status_code for i in range(20)]
    assert all(code in (401, 429) for code in codes), codes
    right = login_attempt(running, "admin", PASSWORDS["admin"])
    assert right.status_code == 429, f"the 21st attempt from one address (right password): HTTP {right.status_code}"
    _retry_after(right)


def test_json_login_is_throttled_too(fresh_server):
    running = fresh_server()
    for i in range(6):
        reply = requests.post(
            running.url("/login"),
            json={"username": "admin", "password": f"wrong-{i}"},
            headers={"Accept": "application/json", "Origin": running.base},
            allow_redirects=False,
            timeout=60,
        )
    assert reply.status_code == 429, f"6th wrong JSON login: HTTP {reply.status_code}"
    _retry_after(reply)


def test_open311_reads_are_rate_limited(fresh_server):
    running = fresh_server(env={"GRIDTWIN_OPEN311_READ_LIMIT": "5/minute"})
    codes = []
    for _ in range(8):
        reply = requests.get(running.url("/open311/v2/services.json"), timeout=30)
        codes.append(reply.status_code)
        if reply.status_code == 429:
            _retry_after(reply)
            break
    assert 429 in codes, f"8 reads with a limit of 5/minute: {codes}"
    assert codes[:5] == [200] * 5, codes


def test_open311_list_is_paged(server):
    window = "start_date=2026-08-01T00:00:00&end_date=2026-11-23T00:00:00"
    first = requests.get(server.url(f"/open311/v2/requests.json?{window}"), timeout=60)
    assert first.status_code == 200
    assert len(first.json()) == 100, f"the default page holds {len(first.json())} requests (expected 100)"
    assert "next" in first.headers.get("Link", ""), f"no Link rel=next: {first.headers.get('Link')!r}"
    second = requests.get(server.url(f"/open311/v2/requests.json?{window}&page=2&page_size=50"), timeout=60)
    assert second.status_code == 200 and len(second.json()) == 50
    page_3 = requests.get(server.url(f"/open311/v2/requests.json?{window}&page=3&page_size=50"), timeout=60).json()
    assert {r["service_request_id"] for r in page_3}.isdisjoint(r["service_request_id"] for r in second.json())
    huge = requests.get(server.url(f"/open311/v2/requests.json?{window}&page_size=5000"), timeout=60)
    assert huge.status_code == 400 or (huge.status_code == 200 and len(huge.json()) <= 1000), huge.status_code
