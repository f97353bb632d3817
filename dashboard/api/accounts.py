"""Accounts for admins: users (add, list, change, disable, delete) and API keys (add, list, revoke).

Changing a user's role or password, disabling or deleting it ends its sessions in the same
transaction (:mod:`pipelines.auth`); a revoked key authenticates nothing from the next request on.
"""

from __future__ import annotations

from flask import Blueprint, jsonify

from dashboard.api.shared import Gate, error, needs, payload
from pipelines import auth
from pipelines.errors import GridtwinError
from pipelines.incidents.view import clean
from pipelines.store.accounts import api_keys_frame, users_frame


def _records(frame) -> list[dict]:
    return [{k: clean(v) for k, v in r.items()} for r in frame.to_dict("records")]


def _user_changes(body: dict) -> tuple[dict, str | None]:
    """The fields of a PATCH /api/v1/users/{name} body, or the problem with it."""
    unknown = sorted(set(body) - {"role", "disabled", "password"})
    if unknown or not body:
        return {}, 'send any of {"role": …, "disabled": true|false, "password": …}' + (
            f"; unknown: {', '.join(unknown)}" if unknown else ""
        )
    if "disabled" in body and not isinstance(body["disabled"], bool):
        return {}, "disabled must be true or false"
    if any(k in body and not isinstance(body[k], str) for k in ("role", "password")):
        return {}, "role and password are text"
    return body, None


def add_routes(api: Blueprint, gate: Gate) -> None:
    data = gate.data

    @api.get("/api/v1/users")
    @needs(gate, "users.manage")
    def list_users(actor, role):
        with data.cursor() as cur:
            return jsonify(_records(users_frame(cur)))

    @api.post("/api/v1/users")
    @needs(gate, "users.manage")
    def add_user(actor, role):
        body = payload()
        if body is None:
            return error(400, 'the body must be a JSON object: {"username": …, "role": …, "password": …}')
        fields = [body.get(k) for k in ("username", "role", "password")]
        if not all(isinstance(f, str) for f in fields):
            return error(400, "username, role and password are required text fields")
        try:
            with data.db.write() as cur:
                created = auth.add_user(cur, *fields)
        except GridtwinError as exc:
            return error(400, str(exc))
        return jsonify({"username": fields[0].strip(), "role": fields[1], "created": created}), 201 if created else 200

    @api.patch("/api/v1/users/<username>")
    @needs(gate, "users.manage", resource_arg="username")
    def change_user(username, actor, role):
        changes, problem = _user_changes(payload() or {})
        if problem:
            return error(400, problem)
        try:
            with data.db.write() as cur:
                found = auth.update_user(cur, username, **changes)
        except GridtwinError as exc:
            return error(400, str(exc))
        if not found:
            return error(404, f"user {username} does not exist")
        with data.cursor() as cur:
            frame = users_frame(cur)
        return jsonify(_records(frame[frame["username"] == username])[0])

    @api.delete("/api/v1/users/<username>")
    @needs(gate, "users.manage", resource_arg="username")
    def delete_user(username, actor, role):
        with data.db.write() as cur:
            found = auth.delete_user(cur, username)
        if not found:
            return error(404, f"user {username} does not exist")
        return jsonify({"username": username, "deleted": True})

    add_key_routes(api, gate)


def add_key_routes(api: Blueprint, gate: Gate) -> None:
    data = gate.data

    @api.get("/api/v1/apikeys")
    @needs(gate, "apikeys.manage")
    def list_keys(actor, role):
        with data.cursor() as cur:
            return jsonify(_records(api_keys_frame(cur)))

    @api.post("/api/v1/apikeys")
    @needs(gate, "apikeys.manage")
    def add_key(actor, role):
        body = payload() or {}
        name, key_role = body.get("name"), body.get("role", "intake")
        if not isinstance(name, str) or not name.strip() or len(name) > 100 or not isinstance(key_role, str):
            return error(400, "name (1-100 characters) is required; role is intake, dispatcher or admin")
        try:
            with data.db.write() as cur:
                key = auth.new_api_key(cur, name.strip(), key_role)
        except GridtwinError as exc:
            return error(400, str(exc))
        return jsonify(
            {"name": name.strip(), "role": key_role, "api_key": key, "note": "shown once; stored hashed"}
        ), 201

    @api.delete("/api/v1/apikeys/<key_id>")
    @needs(gate, "apikeys.manage", resource_arg="key_id")
    def revoke_key(key_id, actor, role):
        with data.db.write() as cur:
            found = auth.revoke_api_key(cur, key_id)
        if not found:
            return error(404, f"API key {key_id} does not exist")
        return jsonify({"key_id": key_id, "revoked": True})
