import pandas as pd
import pytest

from pipelines.cli import build_parser
from pipelines.dates import parse_times
from pipelines.errors import LoadError

SH = "Asia/Shanghai"


def text(values):
    return [None if pd.isna(v) else v.strftime("%Y-%m-%d %H:%M") for v in values]


@pytest.mark.parametrize(
    ("values", "order", "file_tz", "expected"),
    [
        (
            ["2024-05-13 08:30:00", "2024-05-14T01:00:00Z", None],
            None,
            SH,
            ["2024-05-13 08:30", "2024-05-14 09:00", None],
        ),
        (["2024-05-13T08:30:00+08:00", "2024-05-14T01:00Z"], None, SH, ["2024-05-13 08:30", "2024-05-14 09:00"]),
        (["2024-05-13 08:30", "2024-05-14"], None, "UTC", ["2024-05-13 16:30", "2024-05-14 08:00"]),
        (
            ["05/14/2024 02:30:00 PM", "01/02/2024", "12/31/2024 12:05 AM"],
            None,
            SH,
            ["2024-05-14 14:30", "2024-01-02 00:00", "2024-12-31 00:05"],
        ),
        (
            ["14/05/2024", "01/02/2024", "2024年5月3日 10:00", "13 May 2024"],
            None,
            SH,
            ["2024-05-14 00:00", "2024-02-01 00:00", "2024-05-03 10:00", "2024-05-13 00:00"],
        ),
        (
            ["05/14/2024 10:00+02:00", "01/02/24 08:00"],
            "monthfirst",
            "America/New_York",
            ["2024-05-14 16:00", "2024-01-02 21:00"],
        ),
    ],
)
def test_one_reading_per_column(values, order, file_tz, expected):
    times, bad = parse_times(pd.Series(values), "t", order, file_tz, SH)
    assert text(times) == expected and not bad.any()


def test_contradicting_and_unreadable_values_are_row_problems():
    _, bad = parse_times(pd.Series(["05/14/2024", "13/05/2024", "soon"]), "t", "monthfirst", SH, SH)
    assert bad.tolist() == [False, True, True]


def test_undecidable_and_mixed_columns_are_refused():
    with pytest.raises(LoadError, match="01/02/… could be day-first or month-first"):
        parse_times(pd.Series(["01/02/2024", "03/04/2024"]), "reported_at", None, SH, SH)
    with pytest.raises(LoadError, match="mixes day-first values"):
        parse_times(pd.Series(["05/14/2024", "13/05/2024"]), "reported_at", None, SH, SH)


def test_readme_load_section_shows_every_load_option():
    readme = (__import__("pathlib").Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    load = build_parser()[1].choices["load"]
    options = [s for action in load._actions for s in action.option_strings if s.startswith("--") and s != "--help"]
    assert options and [o for o in options if o not in readme] == []
