"""Load a party roster (CSV/XLSX with the usual Chinese headers) in one transaction, like the spatial kinds.

The file is read by :mod:`pipelines.readers`, typed and checked by the same machinery as the other
kinds (:mod:`pipelines.validate`: required columns, numbers, dates, duplicate ids), then each kind's
shaper places the rows on the hierarchy by the codes they name.  A row naming a unit that does not
exist, with a bad date or number, a duplicate id or no name is quarantined in ``rejects`` with its
reason; the rest replace the rows with the same ids.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from pipelines import identity, store
from pipelines.errors import LoadError
from pipelines.kinds import Kind
from pipelines.load_records import file_sha256, quarantine, record_summary
from pipelines.options import DEFAULT_TZ, LoadOptions
from pipelines.party.domain import ORG_TYPES, ROLE_SEPARATORS, UNIT_LEVEL_ALIASES
from pipelines.party.kinds import PARTY_ALIASES, PARTY_KINDS
from pipelines.readers import read_table
from pipelines.store.loads import clear_rejects, new_load_id
from pipelines.store.party import existing_ids, has_grids, org_ids, replace_party_rows, unit_codes
from pipelines.store.party_indicators import refresh_party_facts
from pipelines.summary import LoadSummary
from pipelines.validate import Prepared, Problems, _typed_columns, apply_mapping

CODES = ["grid_code", "community_code", "street_code", "district_code"]
YES = {"是", "y", "yes", "true", "1", "在职", "党员", "中共党员", "中共预备党员", "预备党员"}
NO = {"否", "n", "no", "false", "0", "不在职", "群众", "非党员"}
PHONE = r"^(?:1\d{10}|0\d{2,3}-?\d{7,8}|\d{7,8})$"
LEVEL_WORDS = {"street": "街道", "community": "社区", "grid": "网格", "estate": "小区", "building": "楼栋"}


def prepare_roster(kind: Kind, frame: pd.DataFrame, source_name: str, mapping: dict[str, str] | None) -> Prepared:
    """Our column names (--map, then the usual headers), typed values, ids, and each row's problems."""
    raw = frame.reset_index(drop=True)
    frame = apply_mapping(raw, kind, mapping or {})
    lower = {str(c).lower(): c for c in frame.columns}
    renames = {}
    for target, aliases in PARTY_ALIASES.items():
        if target in kind.columns and target not in frame.columns:
            found = next((lower[a.lower()] for a in aliases if a.lower() in lower), None)
            if found is not None and found not in renames and found not in kind.columns:
                renames[found] = target
    frame = frame.rename(columns=renames)
    needed = [*kind.required, *([kind.id_column] if kind.id_required else [])]
    missing = list(dict.fromkeys(c for c in needed if c not in frame.columns))
    if missing:
        headers = {c: "/".join(PARTY_ALIASES.get(c, ())[:2]) or c for c in kind.columns}
        raise LoadError(
            f"{source_name}: missing required column(s) {', '.join(f'{c} ({headers[c]})' for c in missing)}"
            f" for {kind.name}. Found: {', '.join(map(str, raw.columns)) or '(none)'}. "
            f"Columns: {', '.join(f'{c} ({h})' for c, h in headers.items())}. "
            f"Map your own names with --map, e.g. --map {missing[0]}=YOUR_COLUMN"
        )
    problems = Problems(len(frame))
    out = _typed_columns(frame, kind, problems, LoadOptions(), DEFAULT_TZ)
    attributes = frame.drop(columns=["geometry"], errors="ignore")
    out[kind.id_column] = identity.row_ids(out[kind.id_column], attributes, None, kind.name[0].upper()).astype(object)
    duplicated, reason = identity.duplicate_reasons(out[kind.id_column])
    problems.add(duplicated, reason)
    return Prepared(out, problems.reasons, raw)


def load_party_file(
    db_path: str | Path, kind_name: str, path: str | Path, mapping: dict[str, str] | None = None
) -> LoadSummary:
    if kind_name not in PARTY_KINDS:
        raise LoadError(f"unknown kind {kind_name!r}: use one of {', '.join(PARTY_KINDS)}")
    kind = PARTY_KINDS[kind_name]
    path = Path(path)
    prepared = prepare_roster(kind, read_table(path).frame, path.name, mapping)
    con = store.connect(db_path)
    try:
        if not has_grids(con):
            raise LoadError(f"no grids in {db_path}: load the grid polygons first (gridtwin load grids FILE)")
        summary = LoadSummary(kind.name, path.name, rows_in=len(prepared.frame))
        sha = file_sha256(path)
        with store.transaction(con):
            load_id = new_load_id(con)
            clear_rejects(con, kind.name, sha)
            problems = Problems(len(prepared.frame))
            problems.reasons = prepared.problems.copy()
            rows = SHAPERS[kind.name](con, prepared.frame.copy(), problems)
            ok = (problems.reasons == "").to_numpy(bool)
            replace_party_rows(con, kind.table, rows[ok])
            refresh_party_facts(con)
            row_numbers = np.arange(1, len(prepared.frame) + 1)
            quarantine(con, kind, load_id, path.name, sha, prepared, problems.reasons, summary, row_numbers)
            summary.loaded = int(ok.sum())
            record_summary(con, load_id, path, sha, None, summary)
    finally:
        con.close()
    return summary


# --- placing rows on the hierarchy -------------------------------------------------------------------


def locate(con, values: pd.Series, level: str, problems: Problems) -> pd.DataFrame:
    """The unit each value names (code and hierarchy codes, aligned with ``values``); unknown ones are flagged."""
    found = unit_codes(con, level, values).set_index("value")
    text = values.astype(object).where(values.notna(), None)
    out = pd.DataFrame({c: text.map(found[c]) if len(found) else None for c in ["code", *CODES]}, index=values.index)
    unknown = values.notna() & out["code"].isna()
    problems.add(unknown, f"unknown {LEVEL_WORDS[level]} ({level}) " + values.astype(str))
    return out


def _fill_codes(frame: pd.DataFrame, place: pd.DataFrame) -> None:
    for column in CODES:
        current = frame[column] if column in frame.columns else pd.Series(None, index=frame.index, dtype=object)
        frame[column] = current.astype(object).where(current.notna(), place[column])


def _flags(values: pd.Series, problems: Problems, column: str) -> pd.Series:
    text = values.astype("string").str.strip().str.lower()
    flag = pd.Series(pd.NA, index=values.index, dtype="boolean")
    flag[text.isin(YES).fillna(False)] = True
    flag[text.isin(NO).fillna(False)] = False
    problems.add(text.notna() & flag.isna(), f"{column} is not 是/否 (yes/no)")
    return flag


def _split(values: pd.Series) -> pd.Series:
    return (
        values.astype("string")
        .str.split(ROLE_SEPARATORS, regex=True)
        .map(lambda parts: [p for p in parts if p] if isinstance(parts, list) else [], na_action=None)
    )


def _check_phone(values: pd.Series, problems: Problems, column: str) -> pd.Series:
    text = values.astype("string").str.replace(r"[\s()（）+]", "", regex=True)
    problems.add(text.notna() & ~text.str.match(PHONE).fillna(False), f"{column} is not a phone number")
    return text.astype(object)


def _known_members(con, values: pd.Series, problems: Problems) -> None:
    known = existing_ids(con, "party_members", values)
    problems.add(values.notna() & ~values.isin(known), "unknown party member " + values.astype(str))


def _dates(frame: pd.DataFrame, columns: list[str]) -> None:
    for column in columns:
        frame[column] = pd.to_datetime(frame[column]).dt.date.astype(object).where(frame[column].notna(), None)


def _orgs(con, frame: pd.DataFrame, problems: Problems) -> pd.DataFrame:
    defaults = frame["type"].map({t: v[1] for t, v in ORG_TYPES.items()})
    given = frame["unit_level"].astype("string").str.strip()
    level = given.map(UNIT_LEVEL_ALIASES)
    problems.add(
        given.notna() & level.isna(), "unknown unit level " + given.astype(str) + " (use 街道/社区/网格/小区/楼栋)"
    )
    level = level.astype(object).where(level.notna(), defaults)
    problems.add(
        given.isna() & level.isna() & frame["type"].notna(),
        "unknown organisation type " + frame["type"].astype(str) + ": give its unit level (单元层级)",
    )
    frame["level"] = frame["level"].fillna(frame["type"].map({t: v[0] for t, v in ORG_TYPES.items()}))
    own = {"street": "street_code", "community": "community_code", "grid": "grid_code", "estate": "estate_id"}
    own["building"] = "building_id"
    code = frame["unit_code"].copy()
    for unit, column in own.items():
        code = code.where(code.notna() | (level != unit), frame[column])
    problems.add(level.notna() & code.isna(), "no unit code for its " + level.astype(str))
    place = pd.DataFrame({c: pd.Series(None, index=frame.index, dtype=object) for c in ["code", *CODES]})
    for unit in own:
        rows = (level == unit).to_numpy(bool) & code.notna().to_numpy(bool)
        if rows.any():
            place.loc[rows] = locate(con, code[rows], unit, _Subset(problems, rows)).to_numpy()
    frame["unit_level"], frame["unit_code"] = level, place["code"]
    for column in CODES:
        frame[column] = place[column]
    in_file = dict(zip(frame["org_id"], frame["org_id"], strict=True))
    names = frame["name"].dropna()
    in_file |= dict(zip(names[~names.duplicated(keep=False)], frame.loc[names.index, "org_id"], strict=True))
    parent = frame["parent_id"]
    stored = org_ids(con, parent).set_index("value")["org_id"]
    resolved = parent.map(in_file).astype(object).fillna(parent.map(stored).astype(object))
    problems.add(parent.notna() & resolved.isna(), "unknown parent organisation " + parent.astype(str))
    frame["parent_id"] = resolved
    problems.add(frame["members"].fillna(0) < 0, "members must not be negative")
    frame["secretary_phone"] = _check_phone(frame["secretary_phone"], problems, "secretary_phone")
    _dates(frame, ["founded_on"])
    return frame.drop(columns=["estate_id", "building_id"])


class _Subset:
    """Problems of a subset of rows (``mask``), added back to the whole file's."""

    def __init__(self, problems: Problems, mask: np.ndarray):
        self.problems, self.mask = problems, mask

    def add(self, mask, reason) -> None:
        full = np.zeros(len(self.mask), dtype=bool)
        full[self.mask] = np.asarray(mask, dtype=bool)
        if not isinstance(reason, str):
            whole = np.full(len(self.mask), "", dtype=object)
            whole[self.mask] = np.asarray(reason, dtype=object)
            reason = whole
        self.problems.add(full, reason)


def _members(con, frame: pd.DataFrame, problems: Problems) -> pd.DataFrame:
    building = locate(con, frame["building_id"], "building", problems)
    grid = locate(con, frame["grid_code"].fillna(building["grid_code"]), "grid", problems)
    community = locate(con, frame["community_code"], "community", problems)
    frame["building_id"] = building["code"]
    frame["grid_code"] = grid["code"]
    frame["community_code"] = community["code"].fillna(grid["community_code"])
    problems.add(
        frame["community_code"].isna() & frame["grid_code"].isna(), "no 报到社区 (community) or 服务网格 (grid)"
    )
    orgs = org_ids(con, frame["org_id"]).set_index("value")["org_id"]
    resolved = frame["org_id"].map(orgs)
    problems.add(frame["org_id"].notna() & resolved.isna(), "unknown party organisation " + frame["org_id"].astype(str))
    frame["org_id"] = resolved
    frame["roles"] = _split(frame["roles"])
    in_service = _flags(frame["in_service"], problems, "in_service")
    frame["in_service"] = in_service.fillna(frame["employer"].notna() | frame["reported_on"].notna()).astype(bool)
    frame["phone"] = _check_phone(frame["phone"], problems, "phone")
    _dates(frame, ["reported_on"])
    return frame


def _heads(con, frame: pd.DataFrame, problems: Problems) -> pd.DataFrame:
    place = locate(con, frame["building_id"], "building", problems)
    frame["building_id"] = place["code"].fillna(frame["building_id"])
    _fill_codes(frame, place)
    _known_members(con, frame["member_id"], problems)
    frame["party_member"] = (
        _flags(frame["party_member"], problems, "party_member").fillna(frame["member_id"].notna()).astype(bool)
    )
    frame["phone"] = _check_phone(frame["phone"], problems, "phone")
    return frame


def _partners(con, frame: pd.DataFrame, problems: Problems) -> pd.DataFrame:
    community = locate(con, frame["community_code"], "community", problems)
    street = locate(con, frame["street_code"], "street", problems)
    problems.add(
        frame["community_code"].isna() & frame["street_code"].isna(), "no 共建社区 (community) or 街道 (street)"
    )
    frame["community_code"] = community["code"]
    frame["street_code"] = community["street_code"].fillna(street["code"])
    frame["district_code"] = community["district_code"].fillna(street["district_code"])
    late = frame["expires_on"].notna() & frame["signed_on"].notna() & (frame["expires_on"] < frame["signed_on"])
    problems.add(late, "the agreement expires before it is signed")
    frame["projects"] = _split(frame["projects"].str.replace(r"[、,，/|]", "；", regex=True).str.replace(" ", ""))
    frame["contact_phone"] = _check_phone(frame["contact_phone"], problems, "contact_phone")
    _dates(frame, ["signed_on", "expires_on"])
    return frame


def _teams(con, frame: pd.DataFrame, problems: Problems) -> pd.DataFrame:
    place = locate(con, frame["grid_code"], "grid", problems)
    frame["grid_code"] = place["code"]
    _fill_codes(frame, place)
    _known_members(con, frame["member_id"], problems)
    frame["team_name"] = frame["team_name"].fillna(frame["team_id"])
    frame["phone"] = _check_phone(frame["phone"], problems, "phone")
    return frame


def _volunteers(con, frame: pd.DataFrame, problems: Problems) -> pd.DataFrame:
    place = locate(con, frame["grid_code"], "grid", problems)
    frame["grid_code"] = place["code"]
    _fill_codes(frame, place)
    _known_members(con, frame["member_id"], problems)
    problems.add(frame["hours"].notna() & ~frame["hours"].between(0, 24, inclusive="right"), "hours must be >0 and ≤24")
    _dates(frame, ["served_on"])
    return frame


def _staffing(con, frame: pd.DataFrame, problems: Problems) -> pd.DataFrame:
    place = locate(con, frame["community_code"], "community", problems)
    frame["community_code"] = place["code"].fillna(frame["community_code"])
    frame["street_code"], frame["district_code"] = place["street_code"], place["district_code"]
    for column in ("social_workers", "paid_staff"):
        problems.add(frame[column].fillna(0) < 0, f"{column} must not be negative")
    frame["paid_staff"] = frame["paid_staff"].fillna(frame["social_workers"])
    _dates(frame, ["as_of"])
    return frame


def _estates(con, frame: pd.DataFrame, problems: Problems) -> pd.DataFrame:
    place = locate(con, frame["grid_code"], "grid", problems)
    frame["grid_code"] = place["code"]
    _fill_codes(frame, place)
    return frame


SHAPERS = {
    "party_orgs": _orgs,
    "party_members": _members,
    "building_heads": _heads,
    "partners": _partners,
    "service_teams": _teams,
    "volunteer_hours": _volunteers,
    "social_workers": _staffing,
    "estates": _estates,
}
