"""The account commands of `gridtwin`: user add|list|disable|enable|delete, apikey add|list|revoke.

They open the file for writing, so they work with the server stopped (the admin API does the same
while it runs).  Disabling, deleting, or changing a user's role or password ends its sessions.
"""

from __future__ import annotations

import argparse
import os
import sys

from pipelines import auth, store
from pipelines.errors import GridtwinError
from pipelines.store.accounts import api_keys_frame, users_frame

DEFAULT_DB = "gridtwin.duckdb"
"""The database every command uses without --db."""


def cmd_user_add(args) -> None:
    import getpass

    password = args.password or os.environ.get("GRIDTWIN_PASSWORD")
    if not password:
        if not sys.stdin.isatty():
            raise GridtwinError("no password given: pass --password, set GRIDTWIN_PASSWORD, or run in a terminal")
        password = getpass.getpass(f"password for {args.name}: ")
    con = store.connect(args.db)
    try:
        with store.transaction(con):
            new = auth.add_user(con, args.name, args.role, password)
    finally:
        con.close()
    print(f"{'created' if new else 'updated'} user {args.name} ({args.role}) in {args.db}")


def cmd_user_list(args) -> None:
    con = store.connect(args.db, read_only=True)
    try:
        frame = users_frame(con)
    finally:
        con.close()
    print(frame.to_string(index=False) if len(frame) else "no users yet: gridtwin user add NAME --role admin")


def cmd_user_state(args) -> None:
    """disable, enable or delete a user; its sessions end at once."""
    con = store.connect(args.db)
    try:
        with store.transaction(con):
            if args.user_command == "delete":
                found = auth.delete_user(con, args.name)
            else:
                found = auth.update_user(con, args.name, disabled=args.user_command == "disable")
    finally:
        con.close()
    if not found:
        raise GridtwinError(f"there is no user {args.name!r} in {args.db}: gridtwin user list --db {args.db}")
    done = {"disable": "disabled", "enable": "enabled", "delete": "deleted"}[args.user_command]
    print(f"{done} user {args.name}; its sessions ended")


def cmd_apikey_add(args) -> None:
    con = store.connect(args.db)
    try:
        key = auth.new_api_key(con, args.name, args.role)
    finally:
        con.close()
    print(f"API key for {args.name} ({args.role}); it is stored hashed, so keep it now:\n{key}")


def cmd_apikey_list(args) -> None:
    con = store.connect(args.db, read_only=True)
    try:
        frame = api_keys_frame(con)
    finally:
        con.close()
    print(frame.to_string(index=False) if len(frame) else "no API keys yet: gridtwin apikey add NAME")


def cmd_apikey_revoke(args) -> None:
    con = store.connect(args.db)
    try:
        found = auth.revoke_api_key(con, args.key_id)
    finally:
        con.close()
    if not found:
        raise GridtwinError(f"there is no API key {args.key_id!r} in {args.db}: gridtwin apikey list --db {args.db}")
    print(f"revoked API key {args.key_id}: it authenticates nothing from now on")


def add_account_commands(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("user", help="dashboard accounts: add, list, disable, enable, delete")
    user_sub = p.add_subparsers(dest="user_command", required=True)
    q = user_sub.add_parser("add", help="create a user or reset its role and password")
    q.add_argument("name")
    q.add_argument("--role", choices=auth.ROLES, default="viewer")
    q.add_argument("--password", help="at least 8 characters (default: GRIDTWIN_PASSWORD, or asked for)")
    q.add_argument("--db", default=DEFAULT_DB)
    q.set_defaults(func=cmd_user_add)
    q = user_sub.add_parser("list", help="list the users")
    q.add_argument("--db", default=DEFAULT_DB)
    q.set_defaults(func=cmd_user_list)
    for verb, text in (
        ("disable", "stop a user from logging in and end its sessions"),
        ("enable", "let a disabled user log in again"),
        ("delete", "delete a user and its sessions"),
    ):
        q = user_sub.add_parser(verb, help=text)
        q.add_argument("name")
        q.add_argument("--db", default=DEFAULT_DB)
        q.set_defaults(func=cmd_user_state)

    p = sub.add_parser("apikey", help="API keys for the intake API (stored hashed): add, list, revoke")
    key_sub = p.add_subparsers(dest="key_command", required=True)
    q = key_sub.add_parser("add", help="create a key and print it once")
    q.add_argument("name", help="who gets it, e.g. 12345热线")
    q.add_argument("--role", choices=auth.KEY_ROLES, default="intake")
    q.add_argument("--db", default=DEFAULT_DB)
    q.set_defaults(func=cmd_apikey_add)
    q = key_sub.add_parser("list", help="list the keys (id, name, role, created, revoked; never the key)")
    q.add_argument("--db", default=DEFAULT_DB)
    q.set_defaults(func=cmd_apikey_list)
    q = key_sub.add_parser("revoke", help="revoke a key by its id (see apikey list)")
    q.add_argument("key_id")
    q.add_argument("--db", default=DEFAULT_DB)
    q.set_defaults(func=cmd_apikey_revoke)
