"""Table exports that open safely in Excel: CSV as UTF-8 with a BOM, XLSX with text stored as text.

Cells are neutralised as OWASP's CSV-injection guidance says: a text cell starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``, so a spreadsheet shows it
as text instead of running it as a formula (a street named ``=HYPERLINK(…)`` stays a name).
Numbers stay numbers, each column with one number of decimals (never 4.1 next to 4.14): a CSV writes them
fixed (no thousands separators, which would turn them into text), an XLSX keeps the values and shows them
with a number format (``#,##0.00``: thousands separators as both Chinese and English readers expect).
"""

from __future__ import annotations

import io

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
BOM = "\ufeff"


def neutralise(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells cannot start a formula (headers included)."""
    safe = frame.copy()
    for column in safe.columns:
        values = safe[column]
        if values.dtype == object or pd.api.types.is_string_dtype(values):
            text = values.astype("string")
            risky = text.str.startswith(FORMULA_STARTS).fillna(False).to_numpy(dtype=bool)
            risky &= values.map(lambda v: isinstance(v, str)).to_numpy(dtype=bool)  # a number stays a number
            if risky.any():
                safe[column] = values.astype(object).where(~risky, "'" + text.astype(object))
    safe.columns = [_cell(str(c)) for c in safe.columns]
    return safe


def _cell(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_STARTS) else text


MAX_DECIMALS = 2


def decimals_of(values: pd.Series) -> int | None:
    """Decimals to show for a numeric column: 0 for whole numbers, else as many as its values use, at most 2
    (None for a column that is not numeric)."""
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return None
    finite = values.dropna()
    for digits in range(MAX_DECIMALS):
        if (finite.round(digits) == finite).all():
            return digits
    return MAX_DECIMALS


def number_format(digits: int) -> str:
    """Excel's number format with thousands separators and ``digits`` fixed decimals."""
    return "#,##0" + ("." + "0" * digits if digits else "")


def _decimals(frame: pd.DataFrame, decimals: dict[str, int] | None) -> dict[str, int]:
    found = {c: decimals_of(frame[c]) for c in frame.columns}
    return {c: (decimals or {}).get(c, d) for c, d in found.items() if d is not None}


def csv_bytes(frame: pd.DataFrame, decimals: dict[str, int] | None = None) -> bytes:
    """UTF-8 with a BOM, so Excel on Windows reads the Chinese headers right; numbers with fixed decimals per
    column (``decimals`` by column name, else :func:`decimals_of`), written after neutralising (a negative
    number is a number, not a formula)."""
    digits = _decimals(frame, decimals)
    safe = neutralise(frame)
    columns = {
        i: frame[c].map(lambda v, d=digits[c]: "" if pd.isna(v) else f"{v:.{d}f}") if c in digits else safe.iloc[:, i]
        for i, c in enumerate(frame.columns)
    }
    out = pd.DataFrame(columns)
    out.columns = safe.columns
    return (BOM + out.to_csv(index=False)).encode("utf-8")


def xlsx_bytes(frame: pd.DataFrame, sheet: str, decimals: dict[str, int] | None = None) -> bytes:
    """One sheet; every text cell is a string cell (never a formula), every number a number shown with
    thousands separators and its column's fixed decimals."""
    buffer = io.BytesIO()
    formats = {
        i: number_format(d) for i, c in enumerate(frame.columns) if (d := _decimals(frame, decimals).get(c)) is not None
    }
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        neutralise(frame).to_excel(writer, index=False, sheet_name=sheet[:31] or "sheet")
        for row in writer.sheets[sheet[:31] or "sheet"].iter_rows(min_row=1):
            for i, cell in enumerate(row):
                if isinstance(cell.value, str):
                    cell.data_type = "s"
                elif i in formats and isinstance(cell.value, int | float):
                    cell.number_format = formats[i]
    return buffer.getvalue()
