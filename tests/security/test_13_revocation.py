"""Finding 13: no way to disable a user or revoke an API key; anonymous Open311 reads publish flat numbers."""

from __future__ import annotations

import re

import requests

from tests.security.conftest import (
    PASSWORDS,
    cli_ok,
    intake_body,
    key_client,
    login,
    login_attempt,
    post_incident,
    run_cli,
    start_server,
)

FULL_ADDRESS = "示例区和平街道幸福路88号3幢2单元501室"


def test_admin_api_disables_a_user_and_ends_their_sessions(server, seed):
    victim = login(server, "victim-disable")
    admin = key_client(server, seed, "admin")
    reply = admin.patch("/api/v1/users/victim-disable", json={"disabled": True}, origin=False)
    assert reply.status_code == 200, f"PATCH disabled: HTTP {reply.status_code}"
    assert victim.get(f"/api/v1/incidents/{seed.reported_ids[0]}").status_code == 401
    assert login_attempt(server, "victim-disable", PASSWORDS["victim-disable"]).status_code not in (302, 303)


def test_admin_api_deletes_a_user(server, seed):
    victim = login(server, "victim-delete")
    reply = key_client(server, seed, "admin").delete("/api/v1/users/victim-delete", origin=False)
    assert reply.status_code in (200, 204), f"DELETE user: HTTP {reply.status_code}"
    assert victim.get("/api/v1/deadlines").status_code == 401


def test_admin_api_lists_and_revokes_keys(server, seed):
    admin = key_client(server, seed, "admin")
    listing = admin.get("/api/v1/apikeys", origin=False)
    kind = listing.headers.get("Content-Type", "")
    assert listing.status_code == 200 and "json" in kind, f"GET /api/v1/apikeys: HTTP {listing.status_code} {kind}"
    rows = listing.json()
    assert {"id", "name", "role", "created", "revoked"} <= set(rows[0]), rows[0]
    text = listing.text
    assert (
        not any(key in text for key in seed.keys.values())
        and "key_hash" not in text
        and not re.search(r"[0-9a-f]{64}", text)
    ), "the key list shows keys or digests"
    key_id = seed.key_ids["revoke-me"]
    assert admin.delete(f"/api/v1/apikeys/{key_id}", origin=False).status_code in (200, 204)
    revoked = requests.post(
        server.url("/open311/v2/requests.json"),
        json=intake_body(seed),
        headers={"X-API-Key": seed.keys["revoke-me"]},
        timeout=30,
    )
    assert revoked.status_code == 401, f"a revoked key still posts: HTTP {revoked.status_code}"


def test_cli_disable_enable_delete_and_revoke(seed, tmp_path):
    db = seed.copy(tmp_path / "cli.duckdb")
    listed = run_cli("apikey", "list", "--db", str(db))
    assert listed.returncode == 0 and seed.key_ids["intake"] in listed.stdout, listed.stderr
    assert seed.keys["intake"] not in listed.stdout
    cli_ok("apikey", "revoke", seed.key_ids["intake"], "--db", str(db))
    cli_ok("user", "disable", "victim-cli", "--db", str(db))
    running = start_server(db)
    try:
        assert login_attempt(running, "victim-cli", PASSWORDS["victim-cli"]).status_code not in (302, 303)
        posted = requests.post(
            running.url("/open311/v2/requests.json"),
            json=intake_body(seed),
            headers={"X-API-Key": seed.keys["intake"]},
            timeout=30,
        )
        assert posted.status_code == 401, f"a key revoked with the CLI still posts: HTTP {posted.status_code}"
    finally:
        running.stop()
    cli_ok("user", "enable", "victim-cli", "--db", str(db))
    running = start_server(db)
    try:
        assert login_attempt(running, "victim-cli", PASSWORDS["victim-cli"]).status_code in (302, 303)
    finally:
        running.stop()
    cli_ok("user", "delete", "victim-cli", "--db", str(db))
    assert "victim-cli" not in cli_ok("user", "list", "--db", str(db))


def test_anonymous_open311_shows_building_level_only(server, seed):
    lon, lat = seed.point
    incident = post_incident(server, seed, address_string=FULL_ADDRESS, lat=lat + 0.0000123, long=lon + 0.0000456)
    public = requests.get(server.url(f"/open311/v2/requests/{incident}.json"), timeout=30).json()[0]
    assert "501" not in (public.get("address") or "") and "室" not in (public.get("address") or ""), public["address"]
    assert "幸福路88号" in (public.get("address") or ""), f"the building should stay: {public.get('address')!r}"
    for field in ("lat", "long"):
        assert round(public[field], 4) == public[field], f"{field} {public[field]} is not rounded to 4 decimals"
    listed = requests.get(server.url(f"/open311/v2/requests.json?service_request_id={incident}"), timeout=30).json()
    assert listed and "501室" not in str(listed[0].get("address")), listed
    full = login(server, "dispatcher").get(f"/api/v1/incidents/{incident}").json()
    assert FULL_ADDRESS in str(full.get("address")), "dispatchers must still see the full address"
