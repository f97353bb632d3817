"""Server-side sessions: the cookie holds a random id, the ``sessions`` table the id's digest and the user.

A Flask :class:`~flask.sessions.SessionInterface`, so ``flask.session["user"]`` and ``["role"]``
read as before everywhere in the app, but nothing in the cookie is trusted: every request looks
the id up, joined to the user (a disabled or deleted user has no session; the role is the user's
current one).  Sessions end after 12 hours idle or 7 days at most; logging out, a password or
role change, disabling or deleting the user delete the rows at once.  No signing secret exists.

:func:`begin` (after a good password) makes a new id — never the one the browser came with —
and a CSRF token, sent in the non-HttpOnly cookie ``gridtwin_csrf`` for the page's scripts;
:func:`end` deletes the row and both cookies.
"""

from __future__ import annotations

import hashlib
import secrets

from flask import Flask, Request, Response, session
from flask.sessions import SessionInterface, SessionMixin
from werkzeug.datastructures import CallbackDict

from pipelines.store import Database
from pipelines.store import accounts as store

COOKIE = "gridtwin_session"
CSRF_COOKIE = "gridtwin_csrf"
IDLE_S = 12 * 3600
ABSOLUTE_S = 7 * 24 * 3600
TOUCH_S = 300
"""last_seen is written at most this often per session (each write takes the database's write lock)."""


def digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode()).hexdigest()


class ServerSession(CallbackDict, SessionMixin):
    """The logged-in user (``user``, ``role``, ``csrf``) of one session row, or empty."""

    def __init__(self, initial=None, session_hash: str | None = None):
        def on_update(_):
            self.modified = True

        super().__init__(initial, on_update)
        self.session_hash = session_hash
        self.pending: str | None = None  # "begin" or "end", done when the response is saved
        self.modified = False


class ServerSessionInterface(SessionInterface):
    def __init__(self, db: Database, secure: bool = False):
        self.db = db
        self.secure = secure

    def open_session(self, app: Flask, request: Request) -> ServerSession:
        session_id = request.cookies.get(COOKIE)
        if not session_id or len(session_id) > 100:
            return ServerSession()
        session_hash = digest(session_id)
        with self.db.cursor() as cur:
            row = store.session_row(cur, session_hash, IDLE_S, ABSOLUTE_S)
        if row is None:
            return ServerSession()
        user, role, csrf, idle = row
        if idle > TOUCH_S:
            with self.db.write() as cur:
                store.touch_session(cur, session_hash)
        return ServerSession({"user": user, "role": role, "csrf": csrf}, session_hash)

    def save_session(self, app: Flask, session: ServerSession, response: Response) -> None:
        if session.pending == "begin":
            session_id, csrf = secrets.token_urlsafe(32), session["csrf"]
            with self.db.write() as cur:
                store.purge_sessions(cur, IDLE_S, ABSOLUTE_S)
                if session.session_hash:
                    store.end_session(cur, session.session_hash)
                store.save_session(cur, digest(session_id), session["user"], csrf)
            session.session_hash = digest(session_id)
            options = {"path": "/", "secure": self.secure, "samesite": "Lax", "max_age": ABSOLUTE_S}
            response.set_cookie(COOKIE, session_id, httponly=True, **options)
            response.set_cookie(CSRF_COOKIE, csrf, httponly=False, **options)
        elif session.pending == "end":
            if session.session_hash:
                with self.db.write() as cur:
                    store.end_session(cur, session.session_hash)
            response.delete_cookie(COOKIE, path="/", secure=self.secure, samesite="Lax")
            response.delete_cookie(CSRF_COOKIE, path="/", secure=self.secure, samesite="Lax")


def begin(user: str, role: str) -> None:
    """Log ``user`` in: a new session id is issued with this response (the old one, if any, ends)."""
    session.clear()
    session.update(user=user, role=role, csrf=secrets.token_urlsafe(32))
    session.pending = "begin"


def end() -> None:
    """Log out: this session's row and cookies go with this response."""
    session.clear()
    session.pending = "end"


def current_hash() -> str | None:
    return getattr(session, "session_hash", None)
