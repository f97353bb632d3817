"""Table exports that open safely in Excel: CSV as UTF-8 with a BOM, XLSX with text stored as text.

Cells are neutralised as OWASP's CSV-injection guidance says: a text cell starting with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return gets a leading ``'``, so a spreadsheet shows it
as text instead of running it as a formula (a street named ``=HYPERLINK(…)`` stays a name).
Numbers are not touched.
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


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 with a BOM, so Excel on Windows reads the Chinese headers right."""
    return (BOM + neutralise(frame).to_csv(index=False)).encode("utf-8")


def xlsx_bytes(frame: pd.DataFrame, sheet: str) -> bytes:
    """One sheet; every text cell is a string cell (never a formula)."""
    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        neutralise(frame).to_excel(writer, index=False, sheet_name=sheet[:31] or "sheet")
        for row in writer.sheets[sheet[:31] or "sheet"].iter_rows():
            for cell in row:
                if isinstance(cell.value, str):
                    cell.data_type = "s"
    return buffer.getvalue()
