"""Finding 7: idempotency tokens are global and ignore the payload — key B's report vanished into key A's id."""

from __future__ import annotations

import secrets

import requests

from tests.security.conftest import intake_body, key_client


def _post(server, seed, key_name, body, header_token=None):
    headers = {"Idempotency-Key": header_token} if header_token else {}
    return key_client(server, seed, key_name).post(
        "/open311/v2/requests.json", json=body, headers=headers, origin=False
    )


def _stored_description(server, incident_id) -> str:
    reply = requests.get(server.url(f"/open311/v2/requests/{incident_id}.json"), timeout=30)
    assert reply.status_code == 200
    return reply.json()[0]["description"]


def test_same_caller_same_token_same_body_returns_first_id(server, seed):
    token = "t-" + secrets.token_hex(6)
    body = intake_body(seed, token=token, description="路灯不亮 A")
    first = _post(server, seed, "intake", body)
    again = _post(server, seed, "intake", body)
    assert first.status_code == 201 and again.status_code in (200, 201)
    assert again.json()[0]["service_request_id"] == first.json()[0]["service_request_id"]


def test_same_token_different_body_is_422(server, seed):
    token = "t-" + secrets.token_hex(6)
    first = _post(server, seed, "intake", intake_body(seed, token=token, description="路灯不亮 A"))
    assert first.status_code == 201
    other = _post(server, seed, "intake", intake_body(seed, token=token, description="垃圾满溢 B"))
    assert other.status_code == 422, f"same token, different report: HTTP {other.status_code} {other.text[:200]}"
    assert "token" in other.text.lower() or "idempotency" in other.text.lower(), other.text[:300]


def test_same_header_token_different_body_is_422(server, seed):
    token = "h-" + secrets.token_hex(6)
    assert _post(server, seed, "intake", intake_body(seed, description="A"), header_token=token).status_code == 201
    other = _post(server, seed, "intake", intake_body(seed, description="B"), header_token=token)
    assert other.status_code == 422, f"Idempotency-Key reused for another body: HTTP {other.status_code}"


def test_token_is_scoped_to_the_caller(server, seed):
    token = "42-" + secrets.token_hex(4)
    mine = _post(server, seed, "intake", intake_body(seed, token=token, description="key A 的上报"))
    theirs = _post(server, seed, "intake-b", intake_body(seed, token=token, description="key B 的上报"))
    assert mine.status_code == 201
    assert theirs.status_code == 201, f"key B reusing key A's token: HTTP {theirs.status_code} {theirs.text[:200]}"
    b_id = theirs.json()[0]["service_request_id"]
    assert b_id != mine.json()[0]["service_request_id"], "key B got key A's id: its report was never stored"
    assert _stored_description(server, b_id) == "key B 的上报"
