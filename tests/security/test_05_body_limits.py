"""Finding 5: unbounded bodies are read and parsed before authentication; deep nesting is a 500."""

from __future__ import annotations

import contextlib
import socket
import time

import pytest

from tests.security.conftest import key_client, login

LIMIT = 1048576
NESTED = "[" * 100000 + "]" * 100000


def _raw(server, request: bytes, send_body: bytes = b"", wait_s: float = 10.0) -> bytes:
    """Send ``request`` (and then ``send_body``) on a raw socket; the first bytes of the reply."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=wait_s) as sock:
        sock.sendall(request)
        if send_body:
            with contextlib.suppress(OSError):  # the server may close early after refusing: that is the point
                sock.sendall(send_body)
        deadline = time.monotonic() + wait_s
        reply = b""
        while b"\r\n" not in reply and time.monotonic() < deadline:
            try:
                chunk = sock.recv(4096)
            except (TimeoutError, ConnectionResetError):
                break
            if not chunk:
                break
            reply += chunk
        return reply


def _status(reply: bytes) -> int | None:
    try:
        return int(reply.split(b"\r\n", 1)[0].split()[1])
    except (IndexError, ValueError):
        return None


@pytest.mark.parametrize("path", ["/open311/v2/requests.json", "/api/v1/incidents/X1/accept", "/login"])
def test_oversized_body_is_413_before_auth(server, path):
    body = b'{"description": "' + b"x" * (2 * LIMIT) + b'"}'
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    reply = _raw(server, head, body)
    assert _status(reply) == 413, f"anonymous 2 MiB POST {path}: {reply[:80]!r}"


def test_declared_huge_body_is_refused_without_reading_it(server):
    head = (
        f"POST /open311/v2/requests.json HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        "Content-Type: application/json\r\nContent-Length: 104857600\r\nConnection: close\r\n\r\n"
    ).encode()
    reply = _raw(server, head, wait_s=10)
    assert _status(reply) == 413, f"a declared 100 MB body (none sent) got {reply[:80]!r} within 10 s"


def test_oversized_chunked_body_is_413(server):
    chunk = b"x" * 65536
    pieces = b"".join(b"%x\r\n" % len(chunk) + chunk + b"\r\n" for _ in range(2 * LIMIT // len(chunk))) + b"0\r\n\r\n"
    head = (
        f"POST /open311/v2/requests.json HTTP/1.1\r\nHost: 127.0.0.1:{server.port}\r\n"
        "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    ).encode()
    assert _status(_raw(server, head, pieces)) == 413


def _nested_cases(server, seed):
    return [
        (key_client(server, seed, "intake"), "POST", "/open311/v2/requests.json"),
        (key_client(server, seed, "dispatcher"), "POST", f"/api/v1/incidents/{seed.reported_ids[-1]}/accept"),
        (key_client(server, seed, "admin"), "POST", "/api/v1/users"),
        (key_client(server, seed, "admin"), "POST", "/api/v1/apikeys"),
        (key_client(server, seed, "admin"), "PUT", f"/api/v1/deadlines/{seed.category}"),
        (login(server, "viewer"), "POST", "/_dash-update-component"),
    ]


def test_deeply_nested_json_is_400(server, seed):
    for client, method, path in _nested_cases(server, seed):
        reply = client.request(
            method, path, data=NESTED.encode(), headers={"Content-Type": "application/json"}, origin=True
        )
        assert reply.status_code != 500 and reply.status_code < 500, f"{method} {path}: HTTP {reply.status_code}"
        assert reply.status_code == 400 or path == "/_dash-update-component", f"{method} {path}: {reply.status_code}"
