"""The server's API key cache: answered from memory between writes, emptied by any key or user write."""

from __future__ import annotations

import threading

from pipelines import auth
from pipelines.store import Database
from pipelines.store.meta import bump_data_version, credentials_version


class CountingDatabase(Database):
    """A Database that counts the cursors opened for reads (each key look-up or version check opens one)."""

    reads = 0

    def cursor(self):
        self.reads += 1
        return super().cursor()


def _key_id(db, key):
    with db.cursor() as cur:
        return auth.key_role(cur, key)[2]


def test_hits_need_no_read_until_something_is_written(tmp_path):
    db = CountingDatabase(tmp_path / "k.duckdb")
    with db.write() as cur:
        key = auth.new_api_key(cur, "hotline", "intake")
    cache = auth.KeyCache(db)
    assert cache.key_role(key) == ("hotline", "intake", _key_id(db, key))
    db.reads = 0
    for _ in range(5):
        assert cache.key_role(key)[:2] == ("hotline", "intake")
    assert db.reads == 0
    with db.write() as cur:
        bump_data_version(cur)  # a write that changes no credentials: one version check, the key stays
    assert cache.key_role(key)[:2] == ("hotline", "intake")
    assert cache.key_role(key)[:2] == ("hotline", "intake")
    assert db.reads == 1
    assert cache.key_role("gtk_wrong") is None and cache.key_role("gtk_wrong") is None
    assert db.reads == 3  # wrong keys are looked up every time, never kept
    db.close()


def test_revoking_or_writing_any_key_or_user_empties_the_cache(tmp_path):
    db = Database(tmp_path / "k.duckdb")
    with db.write() as cur:
        key = auth.new_api_key(cur, "hotline", "intake")
        other = auth.new_api_key(cur, "app", "intake")
    cache = auth.KeyCache(db)
    assert cache.key_role(key) is not None and cache.key_role(other) is not None
    versions = []
    for change in (
        lambda cur: auth.add_user(cur, "ann", "viewer", "ann-pass-1"),
        lambda cur: auth.update_user(cur, "ann", role="dispatcher"),
        lambda cur: auth.delete_user(cur, "ann"),
        lambda cur: auth.new_api_key(cur, "third", "intake"),
        lambda cur: auth.revoke_api_key(cur, _key_id(db, other)),
    ):
        with db.write() as cur:
            change(cur)
            versions.append(credentials_version(cur))
    assert versions == sorted(set(versions), key=int)  # every write moved the version
    assert cache.key_role(other) is None  # revoked: refused on the very next look-up
    assert cache.key_role(key)[:2] == ("hotline", "intake")
    with db.write() as cur:
        auth.revoke_api_key(cur, _key_id(db, key))
    assert cache.key_role(key) is None
    db.close()


def test_a_row_read_before_a_revocation_is_not_kept(tmp_path):
    """A look-up that read the key just before a revocation committed must not leave it in the cache."""
    db = Database(tmp_path / "k.duckdb")
    with db.write() as cur:
        key = auth.new_api_key(cur, "hotline", "intake")
    key_id = _key_id(db, key)
    cache = auth.KeyCache(db)
    read, go_on = threading.Event(), threading.Event()
    real_row = auth.api_key_row

    def slow_row(cur, digest):
        row = real_row(cur, digest)
        read.set()
        go_on.wait(10)
        return row

    auth.api_key_row = slow_row
    try:
        late = []
        looker = threading.Thread(target=lambda: late.append(cache.key_role(key)))
        looker.start()
        read.wait(10)  # the look-up has read the (still valid) row
        with db.write() as cur:
            auth.revoke_api_key(cur, key_id)
        auth.api_key_row = real_row
        assert cache.key_role(key) is None  # the version check empties the cache and bumps its epoch
        go_on.set()
        looker.join(10)
    finally:
        auth.api_key_row = real_row
        go_on.set()
    assert late[0] is not None  # that request was concurrent with the revocation: it may pass
    assert cache.key_role(key) is None  # but its row was not kept
    db.close()
