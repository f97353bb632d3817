"""Accounts, API keys and who may do what: salted scrypt password hashes, keys stored as SHA-256 digests only.

Roles: ``viewer`` reads (wall screens, leaders); ``dispatcher`` also acts on incidents;
``admin`` also manages users, keys and deadlines.  API keys carry a role too: an ``intake`` key
may only post new requests (what a hotline system or a resident app gets); a ``dispatcher`` key
also reads and moves incidents; an ``admin`` key may do everything.

:func:`permission_allowed` is the one place that answers "may this caller do this": the HTTP
routes and the Dash callbacks that write both ask it.  It lives here, beside the roles, rather
than in the API package so that every caller — an API route, a Dash page, a command — asks the
same table without importing the web transport.

Changing a user's password or role, disabling or deleting it ends its sessions in the same
transaction (the dashboard's cookies are rows of ``sessions``).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import threading
from dataclasses import dataclass

from pipelines.errors import GridtwinError
from pipelines.store import accounts as store
from pipelines.store.accounts import api_key_row, save_api_key, save_user, user_row
from pipelines.store.meta import credentials_version

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


def _password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD:
        return f"the password must have at least {MIN_PASSWORD} characters"
    return None


def add_user(con, username: str, role: str, password: str) -> bool:
    """Create or update a user; True when new.  Updating an existing user ends its sessions."""
    problems = []
    if not username or not username.strip() or len(username) > 64:
        problems.append("the user name must be 1-64 characters")
    if role not in ROLES:
        problems.append(f"role {role!r} is not one of {', '.join(ROLES)}")
    if problem := _password_problem(password):
        problems.append(problem)
    if problems:
        raise GridtwinError("; ".join(problems))
    new = save_user(con, username.strip(), role, hash_password(password))
    if not new:
        store.end_user_sessions(con, username.strip())
    return new


def update_user(
    con, username: str, role: str | None = None, disabled: bool | None = None, password: str | None = None
) -> bool:
    """Change a user's role, disabled flag or password and end its sessions; False when there is no such user."""
    if role is not None and role not in ROLES:
        raise GridtwinError(f"role {role!r} is not one of {', '.join(ROLES)}")
    if password is not None and (problem := _password_problem(password)):
        raise GridtwinError(problem)
    digest = hash_password(password) if password is not None else None
    if not store.update_user(con, username, role, disabled, digest):
        return False
    store.end_user_sessions(con, username)
    return True


def delete_user(con, username: str) -> bool:
    """Delete a user and its sessions; False when there is no such user."""
    return store.delete_user(con, username)


def change_password(con, username: str, old: str, new: str, keep_session_hash: str | None = None) -> None:
    """A user's own password change: the old one must be right; ends the user's other sessions."""
    row = user_row(con, username)
    if row is None or row[2] or not check_password(old or "", row[1]):
        raise GridtwinError("the old password is not right")
    if problem := _password_problem(new):
        raise GridtwinError(problem)
    store.update_user(con, username, None, None, hash_password(new))
    store.end_user_sessions(con, username, keep_hash=keep_session_hash)


def login(con, username: str, password: str) -> str | None:
    """The user's role when the password is right and the user is not disabled, else None."""
    row = user_row(con, username or "")
    if row is None:
        hash_password(password or "")  # same work either way: no timing hint that the name exists
        return None
    return row[0] if check_password(password or "", row[1]) and not row[2] else None


def new_api_key(con, name: str, role: str = "intake") -> str:
    """Create a key and return it; only its digest is stored, so this is the one time it is shown."""
    if role not in KEY_ROLES:
        raise GridtwinError(f"key role {role!r} is not one of {', '.join(KEY_ROLES)}")
    key = "gtk_" + secrets.token_urlsafe(24)
    save_api_key(con, "K" + secrets.token_hex(6), name, role, key_digest(key))
    return key


def key_role(con, key: str | None) -> tuple[str, str, str] | None:
    """(name, role, key id) of a valid key."""
    if not key:
        return None
    row = api_key_row(con, key_digest(key))
    return (row[1], row[2], row[0]) if row else None


class KeyCache:
    """:func:`key_role` for a server process, without a database look-up per request.

    Valid keys are kept (by digest) while nothing changed the credentials.  The cache notes the write
    lock's generation (:class:`~pipelines.store.database.WriteLock`) at which it last read the credentials
    version (moved by every key and user write, :func:`~pipelines.store.meta.bump_credentials_version`):
    while the generation is unchanged nothing was committed, and a hit is answered from memory.  After
    any write the version is read once, and the cache is emptied when it moved, so a key revoked through
    the server is refused from the very next request on.  A row read before an emptying is not kept
    (it may predate the change).  Wrong keys are not kept: they are looked up every time.
    """

    MAX_KEYS = 4096

    def __init__(self, db):
        self.db = db
        self._lock = threading.Lock()
        self._checking = threading.Lock()  # one version read at a time: the others wait for it
        self._keys: dict[str, tuple[str, str, str]] = {}
        self._generation = -1
        self._version: str | None = None
        self._epoch = 0  # moves on every emptying

    def key_role(self, key: str | None) -> tuple[str, str, str] | None:
        """(name, role, key id) of a valid key, as :func:`key_role`."""
        if not key:
            return None
        digest = key_digest(key)
        generation = self.db.lock.generation  # read before the version: a write after it moves it again
        if generation > self._generation:
            self._check(generation)
        with self._lock:
            found = self._keys.get(digest) if self._generation >= generation else None
            epoch = self._epoch
        if found is not None:
            return found
        with self.db.cursor() as cur:
            row = api_key_row(cur, digest)
        if row is None:
            return None
        found = (row[1], row[2], row[0])
        with self._lock:
            if self._epoch == epoch and len(self._keys) < self.MAX_KEYS:
                self._keys[digest] = found
        return found

    def _check(self, generation: int) -> None:
        """Read the credentials version (``generation`` was read before it) and empty the cache if it moved."""
        with self._checking:
            if generation <= self._generation:  # checked by another request meanwhile
                return
            with self.db.cursor() as cur:
                version = credentials_version(cur)
            with self._lock:
                if version != self._version:
                    self._keys.clear()
                    self._epoch += 1
                    self._version = version
                self._generation = generation


def revoke_api_key(con, key_id: str) -> bool:
    """Revoke a key at once (it then authenticates nothing); False when there is no such key."""
    return store.revoke_api_key(con, key_id)


def allows(role: str | None, needed: str) -> bool:
    return role is not None and RANK.get(role, -1) >= RANK[needed]


@dataclass(frozen=True)
class Actor:
    """Who is asking: a dashboard user (session), an API key, or nobody.

    ``name`` is what the history records (``key:NAME`` for keys); ``scope`` identifies the caller
    for idempotency tokens (``user:NAME`` or ``key:KEY_ID``, unique where key names are not).
    """

    kind: str  # "user", "key" or "anonymous"
    name: str | None = None
    role: str | None = None
    scope: str | None = None

    @property
    def principal(self) -> str:
        return self.kind if self.kind == "anonymous" else f"{self.kind}:{self.role}"


ANONYMOUS = Actor("anonymous")

_READERS = {"user:viewer", "user:dispatcher", "user:admin", "key:dispatcher", "key:admin"}
_ACTORS = {"user:dispatcher", "user:admin", "key:dispatcher", "key:admin"}
_ADMINS = {"user:admin", "key:admin"}
_USERS = {"user:viewer", "user:dispatcher", "user:admin"}

PERMISSIONS: dict[str, frozenset[str]] = {
    "open311.read": frozenset({"anonymous", *_READERS, "key:intake"}),
    "open311.submit": frozenset({"key:intake", "key:dispatcher", "key:admin", "user:admin"}),
    "incident.read": frozenset(_READERS),
    "incident.act": frozenset(_ACTORS),
    "incident.verify": frozenset(_ACTORS),
    "incident.escalate": frozenset(_ACTORS),
    "whistle.report": frozenset(_ACTORS),
    "whistle.rate": frozenset(_ACTORS),
    "deliberation.read": frozenset(_READERS),
    "deliberation.write": frozenset(_ACTORS),
    "routing.read": frozenset(_READERS),
    "routing.set": frozenset(_ADMINS),
    "deadline.read": frozenset(_READERS),
    "deadline.set": frozenset(_ADMINS),
    "stats.read": frozenset(_READERS),
    "coverage.recompute": frozenset({"user:dispatcher", "user:admin"}),
    "dashboard.view": frozenset(_USERS),
    "session.read": frozenset(_USERS),
    "account.password": frozenset(_USERS),
    "users.manage": frozenset(_ADMINS),
    "apikeys.manage": frozenset(_ADMINS),
}
"""action → the principals (``kind:role``, or ``anonymous``) allowed it: the README's role table."""


def permission_allowed(actor: Actor | None, action: str, resource: str | None = None) -> bool:
    """May ``actor`` do ``action`` (on ``resource``, e.g. an incident id)?  Unknown actions are refused.

    ``resource`` is part of the question so that a later rule (a dispatcher limited to its street)
    changes this function only; today's roles do not depend on it.
    """
    allowed = PERMISSIONS.get(action)
    return allowed is not None and (actor or ANONYMOUS).principal in allowed
