"""The kit's streaming XLSX writer, read back with openpyxl: typed cells, formula-like text
kept as text (or not, when asked), sheets that go on or a limit on them."""

from __future__ import annotations

import io
from datetime import date, datetime

import pytest
from openpyxl import load_workbook

from shared.xlsx import Column, XlsxWriter

COLUMNS = [
    Column("name", "text"),
    Column("count", "integer"),
    Column("share", "decimal"),
    Column("active", "boolean"),
    Column("on", "date"),
    Column("tags", "list"),
]


def written(writer: XlsxWriter, *batches: list[tuple[object, ...]]) -> bytes:
    return writer.begin() + b"".join(writer.write(batch) for batch in batches) + writer.end()


def test_cells_are_typed_and_formula_like_text_stays_text() -> None:
    writer = XlsxWriter(COLUMNS, 'payroll "Q3"\x01', list_separator="|")
    content = written(
        writer,
        [("=HYPERLINK(1)", 3, 0.25, True, date(2026, 7, 14), ["a", "b"])],
        [("Fatouma & <Saïd>", None, float("nan"), False, None, [])],
    )
    workbook = load_workbook(io.BytesIO(content))
    assert workbook.sheetnames == ['payroll "Q3"']
    sheet = workbook.worksheets[0]
    assert [[cell.value for cell in row] for row in sheet.iter_rows()] == [
        ["name", "count", "share", "active", "on", "tags"],
        ["=HYPERLINK(1)", 3, 0.25, True, datetime(2026, 7, 14), "a|b"],
        ["Fatouma & <Saïd>", None, "nan", False, None, ""],  # an empty list: empty text
    ]
    formula = sheet["A2"]
    assert formula.data_type == "s" and formula.quotePrefix
    assert sheet.freeze_panes == "A2"


def test_formula_like_text_is_left_alone_when_asked() -> None:
    content = written(
        XlsxWriter([Column("name", "text")], "s", neutralise_formulas=False), [("=1+1",)]
    )
    cell = load_workbook(io.BytesIO(content)).worksheets[0]["A2"]
    assert cell.value == "=1+1" and not cell.quotePrefix


def test_long_tables_go_on_in_further_sheets_unless_limited() -> None:
    columns = [Column("n", "integer")]
    content = written(XlsxWriter(columns, "lines", sheet_rows=3), [(n,) for n in range(5)])
    workbook = load_workbook(io.BytesIO(content))
    assert workbook.sheetnames == ["lines", "lines (2)", "lines (3)"]
    assert [row[0].value for row in workbook.worksheets[2].iter_rows()] == ["n", 4]

    one = XlsxWriter(columns, "lines", sheet_rows=3, max_sheets=1)
    one.begin()
    one.write([(0,), (1,)])
    with pytest.raises(ValueError, match="1 worksheet"):
        one.write([(2,)])
