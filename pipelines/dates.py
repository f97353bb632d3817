"""Dates and times: one reading per column, decided from all of its values.

* ISO-like values (2024-05-13, 2024/05/13 08:30, 2024-05-13T08:30:00+08:00, 2024年5月13日) are year-first and
  never ambiguous.
* Day/month values (13/05/2024, 05/13/2024 2:30 PM) are read day-first or month-first for the WHOLE column:
  a value with a first number above 12 proves day-first, a second number above 12 proves month-first.  A column
  with no such value (only 01/02/2024-like dates) is ambiguous and needs ``--dayfirst`` or ``--monthfirst``; a
  column with both kinds is inconsistent and needs one of them too (the values that contradict it are rejected).
* Naive times are in the file's zone (``--tz``, default the database's zone); values with an offset (Z, +08:00)
  are converted.  Everything is stored as naive wall-clock time in the database's zone (``meta.timezone``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.errors import LoadError
from pipelines.options import DEFAULT_TZ
from pipelines.store.meta import meta_value, set_meta

DAY_MONTH = (
    r"^(?P<a>\d{1,4})[-/.](?P<b>\d{1,2})[-/.](?P<c>\d{1,4})"
    r"(?:[ T]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2})(?:[.,](?P<f>\d{1,6}))?)?)?"
    r"\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?$"
)


def _as_text(series: pd.Series) -> pd.Series:
    text = series.astype("string").str.strip()
    text = text.where(text != "")
    if text.str.contains("年", regex=False).any():
        text = text.str.replace(r"(\d)\s*年\s*(\d)", r"\1-\2", regex=True).str.replace(
            r"(\d)\s*月\s*(\d+)\s*日?", r"\1-\2", regex=True
        )
    return text


def _decide_order(column: str, a: pd.Series, b: pd.Series, year_first: pd.Series, order: str | None) -> str:
    dm = ~year_first & a.notna()
    first_big, second_big = dm & (a > 12), dm & (b > 12)
    if order:
        return order
    if first_big.any() and second_big.any():
        raise LoadError(
            f"column {column} mixes day-first values (e.g. {int(a[first_big].iloc[0]):02d}/"
            f"{int(b[first_big].iloc[0]):02d}/…) and month-first values (e.g. {int(a[second_big].iloc[0]):02d}/"
            f"{int(b[second_big].iloc[0]):02d}/…): say how the file writes dates with --dayfirst or --monthfirst "
            "(the values that contradict it are rejected)"
        )
    if first_big.any():
        return "dayfirst"
    if second_big.any():
        return "monthfirst"
    if (dm & (a != b)).any():
        example = f"{int(a[dm & (a != b)].iloc[0]):02d}/{int(b[dm & (a != b)].iloc[0]):02d}"
        raise LoadError(
            f"column {column}: dates like {example}/… could be day-first or month-first and no value decides it: "
            "pass --dayfirst (13/05/2024 = 13 May) or --monthfirst (05/13/2024 = 13 May)"
        )
    return "dayfirst"


def _numbers(parts: pd.DataFrame, name: str) -> pd.Series:
    return pd.to_numeric(parts[name], errors="coerce").astype(float)


def _from_parts(text: pd.Series, column: str, order: str | None) -> tuple[pd.Series, pd.Series, np.ndarray]:
    """(naive times, UTC offset in minutes or NaN, unreadable mask) for values not read as ISO."""
    parts = text.str.extract(DAY_MONTH)
    a, b, c = _numbers(parts, "a"), _numbers(parts, "b"), _numbers(parts, "c")
    year_first = (parts["a"].str.len() == 4).fillna(False).to_numpy(bool)
    day_first = _decide_order(column, a, b, pd.Series(year_first, index=a.index), order) == "dayfirst"
    a, b, c = a.to_numpy(), b.to_numpy(), c.to_numpy()
    year = np.where(year_first, a, c)
    year = np.where(year < 100, year + 2000, year)
    month = np.where(year_first, b, b if day_first else a)
    day = np.where(year_first, c, a if day_first else b)
    hour = np.nan_to_num(_numbers(parts, "H").to_numpy())
    ampm = parts["ampm"].fillna("").str.lower().str[:1].to_numpy(dtype=object)
    hour = np.where((ampm == "p") & (hour < 12), hour + 12, np.where((ampm == "a") & (hour == 12), 0, hour))
    fraction = pd.to_numeric(parts["f"].fillna("0").str.ljust(6, "0"), errors="coerce").to_numpy(float)
    ok = np.isfinite(year) & np.isfinite(month) & np.isfinite(day)
    fields = {
        "year": year,
        "month": month,
        "day": day,
        "hour": hour,
        "minute": np.nan_to_num(_numbers(parts, "M").to_numpy()),
        "second": np.nan_to_num(_numbers(parts, "S").to_numpy()),
        "microsecond": fraction,
    }
    stamp = pd.Series(pd.NaT, index=text.index, dtype="datetime64[ns]")
    if ok.any():
        assembled = pd.DataFrame({k: v[ok].astype(np.int64) for k, v in fields.items()})
        stamp[ok] = pd.to_datetime(assembled, errors="coerce").to_numpy()
    tz = parts["tz"].astype(object).where(parts["tz"].notna(), "").str.replace(":", "", regex=False)
    sign = np.where(tz.str[:1] == "-", -1.0, 1.0)
    minutes = pd.to_numeric(tz.str[1:3], errors="coerce") * 60 + pd.to_numeric(tz.str[3:5], errors="coerce")
    offset = pd.Series(sign * minutes.to_numpy(float), index=text.index).where(tz != "Z", 0.0)
    return stamp, offset, (text.notna() & stamp.isna()).to_numpy(bool)


def parse_times(series: pd.Series, column: str, order: str | None, file_tz: str, db_tz: str):
    """Times of one column as naive wall-clock time in ``db_tz``, and a mask of unreadable values."""
    if pd.api.types.is_datetime64_any_dtype(series):
        stamps = series if getattr(series.dt, "tz", None) is not None else _localise(series, file_tz)
        return _to_db(stamps, db_tz, file_tz, series.notna().to_numpy(bool))
    text = _as_text(series)
    present = text.notna().to_numpy(bool)
    try:  # the common case: every value ISO 8601, all naive or all with an offset
        iso = pd.to_datetime(text, format="ISO8601", errors="coerce")
    except (ValueError, TypeError):  # naive and offset values mixed
        iso = None
    if (
        iso is not None
        and pd.api.types.is_datetime64_any_dtype(iso)
        and not (present & iso.isna().to_numpy(bool)).any()
    ):
        return _to_db(iso, db_tz, file_tz, present)
    if _iso_only(text):
        aware = text.str.contains(r"(?:Z|[+-]\d{2}:?\d{2})$", regex=True).fillna(False).to_numpy(bool)
        local = _localise(pd.to_datetime(text.where(~aware), format="ISO8601", errors="coerce"), file_tz)
        utc = pd.to_datetime(text.where(aware), format="ISO8601", errors="coerce", utc=True)
        merged = local.dt.tz_convert("UTC").where(~aware, utc)
        if not (present & merged.isna().to_numpy(bool)).any():
            return _to_db(merged, db_tz, file_tz, present)
    stamp, offset, bad = _from_parts(text, column, order)
    # values the numeric pattern does not cover (month names, …) are read one by one; they are unambiguous
    rest = present & bad & ~text.str.contains(r"^\d{1,4}[-/.]\d{1,2}[-/.]\d", regex=True).fillna(False).to_numpy(bool)
    if rest.any():
        extra = pd.to_datetime(text.where(rest), errors="coerce", format="mixed", utc=False)
        if getattr(extra.dt, "tz", None) is not None:
            extra = extra.dt.tz_convert(None)
        stamp = stamp.where(~rest, extra)
        bad = bad & ~(rest & stamp.notna().to_numpy(bool))
    utc = _localise(stamp.where(offset.isna()), file_tz).dt.tz_convert("UTC")
    shifted = (stamp - pd.to_timedelta(offset.fillna(0), unit="m")).dt.tz_localize("UTC")
    utc = utc.where(offset.isna(), shifted)
    times, unreadable = _to_db(utc, db_tz, file_tz, present & ~bad)
    return times, unreadable | bad


def _iso_only(text: pd.Series) -> bool:
    sample = text.dropna()
    return bool(len(sample)) and bool(sample.str.match(r"^\d{4}-\d{1,2}-\d{1,2}").all())


def _localise(naive: pd.Series, tz: str) -> pd.Series:
    return naive.dt.tz_localize(tz, ambiguous="NaT", nonexistent="NaT")


def _to_db(stamps: pd.Series, db_tz: str, file_tz: str, present: np.ndarray):
    if getattr(stamps.dt, "tz", None) is None and file_tz == db_tz:
        local = stamps.astype("datetime64[us]")
        return local, present & local.isna().to_numpy(bool)
    if getattr(stamps.dt, "tz", None) is None:
        stamps = _localise(stamps, file_tz)
    local = stamps.dt.tz_convert(db_tz).dt.tz_localize(None).astype("datetime64[us]")
    return local, present & local.isna().to_numpy(bool)


def database_tz(con, requested: str | None) -> str:
    """The zone stored times are in: ``meta.timezone``, fixed by the first load (its --tz, else Asia/Shanghai)."""
    zone = meta_value(con, "timezone")
    if zone is None:
        zone = requested or DEFAULT_TZ
        set_meta(con, "timezone", zone)
    return zone


def check_tz(zone: str | None) -> None:
    if zone is None:
        return
    try:
        pd.Timestamp("2024-01-01").tz_localize(zone)
    except Exception as exc:
        raise LoadError(f"--tz {zone!r} is not a time zone: use e.g. Asia/Shanghai, America/New_York, UTC") from exc
