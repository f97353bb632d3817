"""Accounts and API keys: salted scrypt password hashes, keys stored as SHA-256 digests only.

Roles: ``viewer`` reads (wall screens, leaders); ``dispatcher`` also acts on incidents;
``admin`` also manages users, keys and deadlines.  API keys carry a role too: an ``intake`` key
may only post new requests (what a hotline system or a resident app gets).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from pipelines.errors import GridtwinError
from pipelines.store.accounts import api_key_row, save_api_key, save_user, user_row

ROLES = ("viewer", "dispatcher", "admin")
KEY_ROLES = ("intake", "dispatcher", "admin")
RANK = {"viewer": 0, "intake": 0, "dispatcher": 1, "admin": 2}
_SCRYPT = {"n": 2**14, "r": 8, "p": 1, "dklen": 32}
MIN_PASSWORD = 8


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, **_SCRYPT)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(digest).decode()


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, salt, digest = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    got = hashlib.scrypt(password.encode(), salt=base64.b64decode(salt), **_SCRYPT)
    return hmac.compare_digest(got, base64.b64decode(digest))


def key_digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def add_user(con, username: str, role: str, password: str) -> bool:
    """Create or update a user; True when new."""
    problems = []
    if not username or not username.strip() or len(username) > 64:
        problems.append("the user name must be 1-64 characters")
    if role not in ROLES:
        problems.append(f"role {role!r} is not one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        problems.append(f"the password must have at least {MIN_PASSWORD} characters")
    if problems:
        raise GridtwinError("; ".join(problems))
    return save_user(con, username.strip(), role, hash_password(password))


def login(con, username: str, password: str) -> str | None:
    """The user's role when the password is right, else None."""
    row = user_row(con, username or "")
    if row is None:
        hash_password(password or "")  # same work either way: no timing hint that the name exists
        return None
    return row[0] if check_password(password or "", row[1]) else None


def new_api_key(con, name: str, role: str = "intake") -> str:
    """Create a key and return it; only its digest is stored, so this is the one time it is shown."""
    if role not in KEY_ROLES:
        raise GridtwinError(f"key role {role!r} is not one of {', '.join(KEY_ROLES)}")
    key = "gtk_" + secrets.token_urlsafe(24)
    save_api_key(con, "K" + secrets.token_hex(6), name, role, key_digest(key))
    return key


def key_role(con, key: str | None) -> tuple[str, str] | None:
    """(name, role) of a valid key."""
    if not key:
        return None
    row = api_key_row(con, key_digest(key))
    return (row[1], row[2]) if row else None


def allows(role: str | None, needed: str) -> bool:
    return role is not None and RANK.get(role, -1) >= RANK[needed]
