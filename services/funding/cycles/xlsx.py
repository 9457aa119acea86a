"""A one-sheet XLSX written as it streams: the ZIP archive built by the standard library
straight into the response, the sheet's XML compressed batch by batch, so memory stays one
batch's and the first bytes leave at once (openpyxl's write-only mode writes to a temporary
file and sends nothing until the end). The approach of the registry's export writer, cut
down to what a payment list needs: inline text, integers, dates, a bold frozen header.

Text that a spreadsheet would take for a formula keeps Excel's own "quote prefix" mark: it
shows as typed and stays text even if someone edits the cell.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from datetime import date
from typing import IO, Any, Literal, cast

from shared.spreadsheet import FORMULA_TRIGGERS

Kind = Literal["text", "integer", "date"]
SHEET_ROWS = 1_048_576

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_HEAD = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
_DATE, _BOLD, _QUOTED = 1, 2, 3
_STYLES = (
    _HEAD + f'<styleSheet xmlns="{_MAIN}">'
    '<numFmts count="1"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/></numFmts>'
    '<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>'
    '<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>'
    '<fills count="2"><fill><patternFill patternType="none"/></fill>'
    '<fill><patternFill patternType="gray125"/></fill></fills>'
    '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>'
    '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>'
    '<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    '<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>'
    '<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/>'
    '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0" quotePrefix="1"/></cellXfs>'
    '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>'
    "</styleSheet>"
)
_WORKBOOK = (
    _HEAD + f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
    '<sheet name="{name}" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    _HEAD + f'<Relationships xmlns="{_PKG}">'
    f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
    f'<Relationship Id="rId2" Type="{_REL}/styles" Target="styles.xml"/></Relationships>'
)
_ROOT_RELS = (
    _HEAD + f'<Relationships xmlns="{_PKG}">'
    f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
_SPREADSHEETML = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_CONTENT_TYPES = (
    _HEAD + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
    'relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_SPREADSHEETML}.sheet.main+xml"/>'
    f'<Override PartName="/xl/styles.xml" ContentType="{_SPREADSHEETML}.styles+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    f'ContentType="{_SPREADSHEETML}.worksheet+xml"/></Types>'
)
_SHEET_START = (
    _HEAD + f'<worksheet xmlns="{_MAIN}"><sheetViews><sheetView workbookViewId="0">'
    '<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    "</sheetView></sheetViews><sheetData>"
)
# XML 1.0 has no place for control characters but tab, line feed and carriage return.
_ESCAPES: dict[int, str | None] = {ord("&"): "&amp;", ord("<"): "&lt;", ord(">"): "&gt;"}
_ESCAPES.update({code: None for code in range(32) if chr(code) not in "\t\n\r"})
_EXCEL_EPOCH = date(1899, 12, 30).toordinal()


def _letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def _text(ref: str, value: Any) -> str:
    value = str(value)
    style = f' s="{_QUOTED}"' if value.startswith(FORMULA_TRIGGERS) else ""
    space = ' xml:space="preserve"' if value[:1].isspace() or value[-1:].isspace() else ""
    return (
        f'<c r="{ref}" t="inlineStr"{style}><is><t{space}>{value.translate(_ESCAPES)}</t></is></c>'
    )


def _integer(ref: str, value: Any) -> str:
    return f'<c r="{ref}"><v>{int(value)}</v></c>'


def _date(ref: str, value: Any) -> str:
    return f'<c r="{ref}" s="{_DATE}"><v>{value.toordinal() - _EXCEL_EPOCH}</v></c>'


_CELLS = {"text": _text, "integer": _integer, "date": _date}


class _Sink:
    """Where the ZIP goes until the next batch takes it. No `tell`: zipfile then writes
    each entry's sizes after its data, needing no seek back."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.chunks.append(bytes(data))
        return len(data)

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.chunks)
        self.chunks.clear()
        return data


class XlsxWriter:
    def __init__(self, columns: Sequence[tuple[str, Kind]], sheet_name: str) -> None:
        if len(columns) > 26:
            raise ValueError("one letter per column here")
        self.names = [name for name, _ in columns]
        self.cells = [_CELLS[kind] for _, kind in columns]
        self.letters = [_letters(index) for index in range(len(columns))]
        self.sheet_name = sheet_name
        self._sink = _Sink()
        self._zip = zipfile.ZipFile(
            cast(IO[bytes], self._sink), "w", compression=zipfile.ZIP_DEFLATED, compresslevel=1
        )
        self._sheet: Any = None
        self._row = 0

    def begin(self) -> bytes:
        self._zip.writestr("xl/styles.xml", _STYLES)
        self._sheet = self._zip.open("xl/worksheets/sheet1.xml", "w")
        header = "".join(
            f'<c r="{letter}1" t="inlineStr" s="{_BOLD}"><is><t>{name}</t></is></c>'
            for letter, name in zip(self.letters, self.names, strict=True)
        )
        self._sheet.write(f'{_SHEET_START}<row r="1">{header}</row>'.encode())
        self._row = 1
        return self._sink.take()

    def write(self, rows: Sequence[Sequence[Any]]) -> bytes:
        if self._row + len(rows) > SHEET_ROWS:
            raise ValueError("more rows than a worksheet holds")
        parts = []
        for row in rows:
            self._row += 1
            line = str(self._row)
            parts.append(f'<row r="{line}">')
            parts.extend(
                cell(letter + line, value)
                for cell, letter, value in zip(self.cells, self.letters, row, strict=True)
                if value is not None
            )
            parts.append("</row>")
        self._sheet.write("".join(parts).encode())
        return self._sink.take()

    def end(self) -> bytes:
        self._sheet.write(b"</sheetData></worksheet>")
        self._sheet.close()
        name = self.sheet_name.translate(_ESCAPES).replace('"', "&quot;")
        self._zip.writestr("xl/workbook.xml", _WORKBOOK.replace("{name}", name))
        self._zip.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        self._zip.writestr("_rels/.rels", _ROOT_RELS)
        self._zip.writestr("[Content_Types].xml", _CONTENT_TYPES)
        self._zip.close()
        return self._sink.take()
