"""Finding 1: sessions cannot be revoked — logout, password change and demotion must end them at once."""

from __future__ import annotations

from tests.security.conftest import PASSWORDS, Client, key_client, login, post_incident


def _acts(client: Client, server, seed) -> int:
    """HTTP status of a dispatcher action attempted with ``client`` on a brand-new incident."""
    incident = post_incident(server, seed)
    return client.post(f"/api/v1/incidents/{incident}/accept", json={}).status_code


def _replay(server, old: Client) -> Client:
    """A fresh client carrying only the old cookie jar and token (what a thief who copied them holds)."""
    thief = Client(server, name="thief")
    thief.http.cookies.update(old.http.cookies)
    thief.csrf = old.csrf
    return thief


def test_cookie_holds_only_a_random_session_id(server):
    client = login(server, "viewer")
    cookies = {c.name: c for c in client.http.cookies}
    assert "gridtwin_session" in cookies, f"expected the cookie gridtwin_session, got {sorted(cookies)}"
    raw = [h for h in _set_cookies(server) if h.lower().startswith("gridtwin_session=")]
    assert raw, "no Set-Cookie for gridtwin_session at login"
    assert "httponly" in raw[0].lower() and "samesite=lax" in raw[0].lower(), raw[0]
    value = cookies["gridtwin_session"].value
    assert "." not in value and "viewer" not in value, f"the cookie must be an opaque random id, got {value!r}"


def _set_cookies(server) -> list[str]:
    import requests

    reply = requests.post(
        server.url("/login"),
        data={"username": "viewer", "password": PASSWORDS["viewer"], "next": "/"},
        headers={"Origin": server.base},
        allow_redirects=False,
        timeout=60,
    )
    return reply.raw.headers.getlist("Set-Cookie")


def test_logout_ends_the_session(server, seed):
    client = login(server, "victim-logout")
    assert _acts(client, server, seed) == 200
    stolen = _replay(server, client)
    client.post("/logout")
    assert _acts(stolen, server, seed) == 401, "the cookie still acts after /logout"
    page = stolen.get("/leader")
    assert page.status_code in (302, 303) and "/login" in page.headers.get("Location", ""), page.status_code


def test_password_change_ends_other_sessions(server, seed):
    first = login(server, "victim-password")
    second = login(server, "victim-password")
    assert _acts(first, server, seed) == 200
    reply = second.post(
        "/api/v1/account/password",
        json={"old_password": PASSWORDS["victim-password"], "new_password": "a-brand-new-pass-2"},
    )
    assert reply.status_code == 200, f"POST /api/v1/account/password: HTTP {reply.status_code} {reply.text[:200]}"
    assert _acts(first, server, seed) == 401, "the other session still acts after a password change"


def test_demotion_ends_sessions(server, seed):
    victim = login(server, "victim-demote")
    assert _acts(victim, server, seed) == 200
    admin = key_client(server, seed, "admin")
    reply = admin.patch("/api/v1/users/victim-demote", json={"role": "viewer"}, origin=False)
    assert reply.status_code == 200, f"PATCH /api/v1/users/victim-demote: HTTP {reply.status_code} {reply.text[:200]}"
    assert _acts(victim, server, seed) == 401, "the demoted user's old session still dispatches"
