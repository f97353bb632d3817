"""The state machine against a transition table written out by hand (not the code's own table)."""

from __future__ import annotations

import pytest

from pipelines.errors import GridtwinError
from pipelines.incidents import machine
from pipelines.vocabulary import ACTIONS, STATUSES

# Every status × every action.  A status names where the action leads; None means the action is illegal.
EXPECTED = {
    "reported": {
        "accept": "accepted",
        "dispatch": None,
        "start": None,
        "resolve": None,
        "verify": None,
        "rework": None,
        "evaluate": None,
        "reopen": None,
    },
    "accepted": {
        "accept": None,
        "dispatch": "dispatched",
        "start": None,
        "resolve": None,
        "verify": None,
        "rework": None,
        "evaluate": None,
        "reopen": None,
    },
    "dispatched": {
        "accept": None,
        "dispatch": "dispatched",  # re-dispatch to another owner
        "start": "in_progress",
        "resolve": None,
        "verify": None,
        "rework": None,
        "evaluate": None,
        "reopen": None,
    },
    "in_progress": {
        "accept": None,
        "dispatch": None,
        "start": None,
        "resolve": "resolved",
        "verify": None,
        "rework": None,
        "evaluate": None,
        "reopen": None,
    },
    "resolved": {
        "accept": None,
        "dispatch": None,
        "start": None,
        "resolve": None,
        "verify": "verified",
        "rework": "in_progress",  # 核查不通过: 返工
        "evaluate": "evaluated",
        "reopen": "accepted",
    },
    "verified": {
        "accept": None,
        "dispatch": None,
        "start": None,
        "resolve": None,
        "verify": None,
        "rework": None,
        "evaluate": "evaluated",
        "reopen": "accepted",
    },
    "evaluated": {
        "accept": None,
        "dispatch": None,
        "start": None,
        "resolve": None,
        "verify": None,
        "rework": None,
        "evaluate": None,
        "reopen": "accepted",
    },
}
CASES = [(status, action, to) for status, row in EXPECTED.items() for action, to in row.items()]


def test_the_oracle_covers_every_status_and_action():
    assert set(EXPECTED) == set(STATUSES)
    assert all(set(row) == set(ACTIONS) for row in EXPECTED.values())


@pytest.mark.parametrize(("status", "action", "expected"), CASES)
def test_step(status, action, expected):
    if expected is None:
        with pytest.raises(machine.IllegalTransition) as caught:
            machine.step("E1", status, action)
        assert caught.value.status == status
        assert caught.value.allowed == [a for a in ACTIONS if EXPECTED[status][a]]
        assert status in str(caught.value) and action in str(caught.value)
    else:
        assert machine.step("E1", status, action) == machine.Step(action, status, expected)


@pytest.mark.parametrize("status", STATUSES)
def test_allowed_actions(status):
    assert machine.allowed_actions(status) == [a for a in ACTIONS if EXPECTED[status][a]]


def test_unknown_action_names_the_known_ones():
    with pytest.raises(GridtwinError, match="unknown action 'fly': use one of accept, dispatch"):
        machine.step("E1", "reported", "fly")


def test_the_forward_path_closes_the_loop_in_order():
    status, seen = "reported", ["reported"]
    while (status := machine.next_status(status)) is not None:
        seen.append(status)
    assert seen == ["reported", "accepted", "dispatched", "in_progress", "resolved", "verified", "evaluated"]


def test_next_status_sql_moves_open_statuses_one_step():
    import duckdb

    con = duckdb.connect()
    got = dict(
        con.execute(
            f"SELECT status, {machine.next_status_sql()} FROM (SELECT unnest(?::VARCHAR[]) AS status)", [list(STATUSES)]
        ).fetchall()
    )
    assert got == {
        "reported": "accepted",
        "accepted": "dispatched",
        "dispatched": "in_progress",
        "in_progress": "resolved",
        "resolved": None,
        "verified": None,
        "evaluated": None,
    }
