"""XLSX exports: the kit's streaming writer (shared/xlsx.py) over the export's fields, lists
joined as in CSV. A worksheet holds at most 1,048,576 rows: longer exports go on in further
sheets ("individuals (2)"...), each with the header row.
"""

from __future__ import annotations

from collections.abc import Sequence

from services.beneficiaries.exports.formats import LIST_SEPARATOR
from services.beneficiaries.records.mapping import Field
from shared import xlsx
from shared.xlsx import COMPRESS_LEVEL, SHEET_ROWS, column_letters

__all__ = ["COMPRESS_LEVEL", "SHEET_ROWS", "XlsxWriter", "column_letters"]


class XlsxWriter(xlsx.XlsxWriter):
    def __init__(
        self,
        fields: Sequence[Field],
        sheet_name: str,
        *,
        sheet_rows: int | None = None,
        compress_level: int = COMPRESS_LEVEL,
    ) -> None:
        super().__init__(
            fields,
            sheet_name,
            sheet_rows=sheet_rows,
            list_separator=LIST_SEPARATOR,
            compress_level=compress_level,
        )
