"""Running an export: rows read through a server-side cursor in batches, each batch written
and sent before the next is read, so memory stays flat whatever the registry's size; the
reads put on the audit trail batch by batch, and the export itself recorded when it ends.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import anyio
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.exports.fields import PERSONAL_FILTERS, Resource
from services.beneficiaries.exports.formats import (
    LIST_SEPARATOR,
    MEDIA_TYPES,
    CsvWriter,
    ExportFormat,
    ExportWriter,
    JsonLinesWriter,
)
from services.beneficiaries.records.filters import RegistryFilters
from services.beneficiaries.records.mapping import Field
from shared.audit import AuditTrail
from shared.auth import Principal
from shared.db import Database
from shared.logs import get_logger
from shared.streaming import ClosingStreamingResponse
from shared.xlsx import XlsxWriter

BATCH_SIZE = 1000
_log = get_logger("inds.exports")
# What a read row of each export names.
_READ_RESOURCE: dict[Resource, str] = {"households": "household", "individuals": "individual"}


def writer_for(
    export_format: ExportFormat, resource: Resource, fields: Sequence[Field]
) -> ExportWriter:
    if export_format is ExportFormat.csv:
        return CsvWriter(fields)
    if export_format is ExportFormat.jsonl:
        return JsonLinesWriter(fields)
    # Lists joined as in CSV. A sheet holds 1,048,576 rows: longer exports go on in further
    # sheets ("individuals (2)"...), each with the header row.
    return XlsxWriter(fields, resource, list_separator=LIST_SEPARATOR)


def filters_for_audit(filters: RegistryFilters) -> dict[str, Any]:
    """The filters used, as codes and numbers; a name or identifier searched for is
    recorded as "<redacted>" (an identifier with its type)."""
    used: dict[str, Any] = {}
    for name, value in vars(filters).items():
        if value is None:
            continue
        if name == "identifier":
            used[name] = f"{value[0]}:<redacted>"
        elif name in PERSONAL_FILTERS:
            used[name] = "<redacted>"
        else:
            used[name] = value.isoformat() if hasattr(value, "isoformat") else value
    return used


@dataclass
class Export:
    """One export being sent: what was asked, by whom, and how far it got."""

    resource: Resource
    export_format: ExportFormat
    fields: Sequence[Field]
    filters: RegistryFilters
    principal: Principal
    statement: Select[Any]
    rows: int = 0
    complete: bool = False
    # A partner's export: each row's values as its agreement shows them (None: the row's
    # columns after the two ids, as read), what its audit rows add (the agreement), and
    # what counts the rows sent (in the transaction of the export's audit row).
    project: Callable[[Any], Sequence[Any]] | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    counted: Callable[[AsyncSession, int], Awaitable[None]] | None = None

    @property
    def personal(self) -> bool:
        return any(field.personal for field in self.fields)

    def audit_detail(self) -> dict[str, Any]:
        return {
            "format": self.export_format.value,
            "fields": [field.name for field in self.fields],
            "filters": filters_for_audit(self.filters),
            "personal": self.personal,
            "rows": self.rows,
            "complete": self.complete,
            **self.detail,
        }


async def export_chunks(
    export: Export,
    session: AsyncSession,
    database: Database,
    audit: AuditTrail,
    *,
    batch_size: int | None = None,
) -> AsyncIterator[bytes]:
    """The export file, a chunk per batch of rows. Whatever way it ends (done, failed, the
    client gone), the export is recorded on the audit trail with the rows sent."""
    writer: ExportWriter = writer_for(export.export_format, export.resource, export.fields)
    # XLSX is compressed as it goes: in a worker thread (zlib lets go of the GIL), so the
    # event loop serves other requests meanwhile. CSV and JSON Lines cost too little a
    # batch for the hop to pay.
    offload = export.export_format is ExportFormat.xlsx
    read_resource = _READ_RESOURCE[export.resource]
    statement = export.statement.execution_options(yield_per=batch_size or BATCH_SIZE)
    result = None
    try:
        yield writer.begin()
        result = await session.stream(statement)
        async for rows in result.partitions():
            if export.personal:
                await audit.record_reads(
                    export.principal,
                    read_resource,
                    [(row[0], row[1]) for row in rows],
                    detail={"via": "export", **export.detail},
                )
            project = export.project
            values = [project(row) for row in rows] if project else [row[2:] for row in rows]
            chunk = (
                await asyncio.to_thread(writer.write, values) if offload else writer.write(values)
            )
            export.rows += len(rows)
            yield chunk
        yield writer.end()
        export.complete = True
    finally:
        # Shielded: a client that hangs up cancels the stream, and the export must be
        # recorded all the same.
        with anyio.CancelScope(shield=True):
            await _end_reading(session, result)
            await _record(export, database, audit)


async def _end_reading(session: AsyncSession, result: Any) -> None:
    """The cursor closed and the read transaction ended, before the audit write: the
    connection goes back to the pool before the audit takes one, and (in tests, where
    sessions are savepoints of one connection) the audit row does not sit inside a
    savepoint that the stream session rolls back later."""
    try:
        if result is not None:
            await result.close()
        await session.rollback()
    except Exception:  # a broken connection: the pool discards it; the audit row still counts
        _log.warning("export read transaction did not end cleanly", exc_info=True)


async def _record(export: Export, database: Database, audit: AuditTrail) -> None:
    try:
        async with database.sessionmaker() as audit_session, audit_session.begin():
            await audit.record_write(
                audit_session,
                export.principal,
                "export",
                export.resource,
                None,
                detail=export.audit_detail(),
            )
            if export.counted is not None and export.rows:
                await export.counted(audit_session, export.rows)
    except Exception:
        _log.error("export audit row not written", resource=export.resource, exc_info=True)
        raise


class ExportResponse(ClosingStreamingResponse):
    """A streamed export that closes its body generator as soon as sending stops, so the
    export's `finally` (the audit row) runs while the request's database session is still
    open."""


def export_response(chunks: AsyncIterator[bytes], export: Export, filename: str) -> ExportResponse:
    """The streamed file, as an attachment that no cache keeps (personal data)."""
    return ExportResponse(
        chunks,
        media_type=MEDIA_TYPES[export.export_format],
        headers={
            "Content-Disposition": f'attachment; filename="{filename}"',
            "Cache-Control": "no-store",
        },
    )
