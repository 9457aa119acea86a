"""Running an import: read the file once, validate each household, write the valid ones in
batches with COPY, then flag probable duplicates (within the file and against the registry).

The households are written in one transaction, committed at the end: `all_or_nothing`
(the default) keeps validating after the first error, to report every bad row, but writes
nothing; `valid_only` writes the households without errors. Progress, errors and the
cancel flag go through their own short transactions, so they are seen while the import runs.
A worker that dies leaves nothing half-written; its job goes stale and starts again.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import queue
import threading
import uuid
from collections.abc import AsyncGenerator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.areas import repository as areas
from services.beneficiaries.config import BeneficiariesSettings
from services.beneficiaries.context import WriteContext
from services.beneficiaries.households.bulk import register_households
from services.beneficiaries.imports import repository
from services.beneficiaries.imports.columns import map_headers
from services.beneficiaries.imports.parse import ParsedHousehold, RowError, households, records
from services.beneficiaries.imports.reader import UnreadableFile, rows
from services.beneficiaries.imports.service import upload_path
from services.beneficiaries.models import AdminArea, ImportJob
from services.beneficiaries.pmt.scoring import Formula
from services.beneficiaries.pmt.service import active_formula
from services.beneficiaries.records import repository as records_repository
from services.beneficiaries.records.bulk import Rows, prepare_rows
from services.beneficiaries.records.schemas import HouseholdWrite
from services.beneficiaries.vocabulary import SHARED_IDENTIFIER_TYPES
from shared.audit import AuditTrail
from shared.auth import Principal
from shared.db import Database
from shared.logs import get_logger

BATCH = 1000  # households written per COPY
START_REASON = "imported"  # of the imported people's first membership
STALE_AFTER_SECONDS = 120
_log = get_logger("inds.beneficiaries.imports")
T = TypeVar("T")


class Cancelled(Exception):
    pass


class Refused(Exception):
    """All or nothing, and something was wrong: roll everything back."""


@dataclass
class _Seen:
    """Identifiers and submissions of households checked but not written yet (the batch
    being checked; every batch after the first error, all or nothing): the database knows
    the written ones."""

    identifiers: set[tuple[str, str]] = field(default_factory=set)
    submissions: set[tuple[str, str]] = field(default_factory=set)

    def clear(self) -> None:
        self.identifiers.clear()
        self.submissions.clear()


async def run_pending(
    database: Database, settings: BeneficiariesSettings, audit: AuditTrail
) -> int:
    ran = 0
    while True:
        async with database.sessionmaker() as session, session.begin():
            job = await repository.claim_job(session, STALE_AFTER_SECONDS)
        if job is None:
            return ran
        await run(database, settings, audit, job)
        ran += 1


async def run(
    database: Database, settings: BeneficiariesSettings, audit: AuditTrail, job: ImportJob
) -> None:
    started = datetime.now(UTC)
    _log.info("import started", job_id=str(job.id), rows_bytes=job.file_bytes)
    try:
        async with database.sessionmaker() as session, session.begin():
            await repository.clear_errors(session, job.id)
            earlier = await repository.done_with_same_file(session, job)
        if earlier is not None:
            await _finish(
                database,
                job.id,
                "done",
                f"This file was imported already (import {earlier.id}): nothing new was saved.",
            )
            return
        outcome = await _import(database, settings, audit, job)
        await _finish(database, job.id, "done", outcome)
    except Cancelled:
        await _finish(database, job.id, "cancelled", "Cancelled: nothing was saved.")
    except Refused as refusal:
        await _finish(database, job.id, "failed", str(refusal))
    except UnreadableFile as exc:
        async with database.sessionmaker() as session, session.begin():
            await repository.add_errors(session, job.id, [RowError(1, None, None, str(exc))])
            await repository.report(session, job.id, error_count=1)
        await _finish(database, job.id, "failed", f"{exc} Nothing was saved.")
    except Exception:
        _log.error("import failed", job_id=str(job.id), exc_info=True)
        await _finish(
            database, job.id, "failed", "The import failed on our side; nothing was saved."
        )
    finally:
        _log.info(
            "import finished",
            job_id=str(job.id),
            seconds=round((datetime.now(UTC) - started).total_seconds(), 1),
        )


async def _finish(database: Database, job_id: uuid.UUID, status: str, message: str) -> None:
    async with database.sessionmaker() as session, session.begin():
        await repository.report(
            session, job_id, status=status, message=message[:500], finished_at=datetime.now(UTC)
        )


class _Progress:
    """Counters reported after each batch, with the errors found since the last report."""

    def __init__(self, database: Database, job_id: uuid.UUID) -> None:
        self.database = database
        self.job_id = job_id
        self.rows = self.created = self.people = self.skipped = self.errors = 0
        self.pending: list[RowError] = []

    async def report(self, **extra: object) -> None:
        async with self.database.sessionmaker() as session, session.begin():
            await repository.add_errors(session, self.job_id, self.pending)
            cancel = await repository.report(
                session,
                self.job_id,
                processed_rows=self.rows,
                households_created=self.created,
                individuals_created=self.people,
                households_skipped=self.skipped,
                error_count=self.errors,
                **extra,
            )
        self.pending = []
        if cancel:
            raise Cancelled


async def _import(
    database: Database, settings: BeneficiariesSettings, audit: AuditTrail, job: ImportJob
) -> str:
    path = upload_path(settings, job)
    lines = rows(path, job.file_format)
    # Opening and reading the file is blocking I/O: in a worker thread, as every row after.
    header = await asyncio.to_thread(next, lines, None)
    if header is None:
        raise UnreadableFile("The file is empty.")
    columns, missing = map_headers(header)
    if missing:
        raise UnreadableFile(
            "Columns are missing: " + ", ".join(missing) + " (see GET /imports/template.csv)."
        )
    # A misspelt optional header would drop its column without a word: say which were.
    unrecognised = [h.strip() for h, c in zip(header, columns, strict=False) if c is None and h]
    ignored = (
        f" Columns not recognised, left out: {', '.join(unrecognised[:10])}"
        f"{' and more' if len(unrecognised) > 10 else ''}."
        if unrecognised
        else ""
    )
    progress = _Progress(database, job.id)
    # The import writes as the person who uploaded it.
    principal = Principal(subject=job.created_by, roles=frozenset(job.created_by_roles))
    all_or_nothing = job.mode == "all_or_nothing"
    seen = _Seen()
    flagged = 0

    async with database.sessionmaker() as session, session.begin():
        localities = await areas.localities(session)
        formula = await active_formula(session)
        ctx = WriteContext(session, principal, audit, settings)
        await progress.report(status="importing")

        async def write(batch: list[ParsedHousehold], prepared: Rows) -> None:
            """Check, write, flag and audit one batch. Each batch is flagged against the
            registry and the batches before it, already written: memory stays a few
            batches'."""
            nonlocal flagged
            valid = await _check(session, batch, seen, progress)
            progress.rows += sum(len(parsed.rows) for parsed in batch)
            if valid and not (all_or_nothing and progress.errors):
                kept = {household.id for household in valid}
                written, pairs = await register_households(
                    ctx,
                    valid,
                    localities,
                    formula=formula,
                    action="import",
                    detail=lambda _: {"import_id": str(job.id)},
                    start_reason=START_REASON,
                    rows=prepared.without(
                        {p.household.id for p in batch if p.household and p.household.id} - kept
                    ),
                )
                progress.created += written.households
                progress.people += written.individuals
                flagged += pairs
                # Written: the database checks these from now on.
                seen.clear()
            await progress.report(duplicates_flagged=flagged)

        parsed = _prepared(
            _batches(households(records(lines, columns), localities), BATCH),
            localities,
            formula,
            principal.subject,
        )
        async with contextlib.aclosing(_read_ahead(parsed)) as batches:
            async for batch, prepared in batches:
                await write(batch, prepared)

        if all_or_nothing and progress.errors:
            raise Refused(
                f"{progress.errors} problem(s) found (see errors.csv); all or nothing: "
                f"nothing was saved.{ignored}"
            )
    skipped = f", {progress.skipped} already in the registry" if progress.skipped else ""
    problems = (
        f", {progress.errors} problem(s) left out (see errors.csv)" if progress.errors else ""
    )
    return (
        f"{progress.created} households and {progress.people} people imported{skipped}"
        f"{problems}; {flagged} probable duplicate(s) to review.{ignored}"
    )


def _prepared(
    batches: Iterator[list[ParsedHousehold]],
    localities: dict[str, AdminArea],
    formula: Formula | None,
    actor: str,
) -> Iterator[tuple[list[ParsedHousehold], Rows]]:
    """Each batch with the rows of its valid households made ready to COPY (keys, PMT): in
    the reading thread, not between the database's statements."""
    for batch in batches:
        writable = [parsed.household for parsed in batch if parsed.household is not None]
        yield (
            batch,
            prepare_rows(
                writable, localities, actor=actor, formula=formula, start_reason=START_REASON
            ),
        )


def _batches(items: Iterator[T], size: int) -> Iterator[list[T]]:
    while batch := list(itertools.islice(items, size)):
        yield batch


# Batches parsed ahead of the one being written: the database's waits (COPY, duplicate
# candidates) are when the parsing thread gets the interpreter, and one batch of room is
# used up long before the writes of a batch end. Bounded: memory stays a few batches'.
READ_AHEAD = 4


async def _read_ahead(items: Iterator[T], depth: int = READ_AHEAD) -> AsyncGenerator[T, None]:
    """The items, made in a worker thread up to `depth` ahead of the caller: reading and
    validating the file goes on while the database writes the batches before."""
    made: queue.Queue[tuple[bool, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def produce() -> None:
        try:
            for item in items:
                if stop.is_set():
                    return
                made.put((True, item))
            made.put((False, None))
        except BaseException as exc:  # handed to the caller, raised there
            made.put((False, exc))

    producer = threading.Thread(target=produce, name="import-reader", daemon=True)
    producer.start()
    try:
        while True:
            more, item = await asyncio.to_thread(made.get)
            if not more:
                if isinstance(item, BaseException):
                    raise item
                return
            yield item  # type: ignore[misc]
    finally:
        # Stopped early (an error, a cancel): the producer is let go and waited for, so
        # the file is not closed under it.
        stop.set()
        while producer.is_alive():
            with contextlib.suppress(queue.Empty):
                made.get_nowait()
            await asyncio.to_thread(producer.join, 0.05)


async def _check(
    session: AsyncSession, batch: list[ParsedHousehold], seen: _Seen, progress: _Progress
) -> list[HouseholdWrite]:
    """The batch's households that can be written; the others' problems go to `progress`,
    a household's clashes with the registry (identifiers, submission) beside the problems
    of its cells. Households already in the registry (the same file, or a corrected one,
    imported again) are skipped, not errors."""
    taken = await records_repository.taken(
        session,
        [p.household.id for p in batch if p.household is not None and p.household.id],
        [],
        [(kind, value) for p in batch for _, kind, value in p.identifiers],
        [p.submission for p in batch if p.submission is not None],
    )
    valid: list[HouseholdWrite] = []
    for parsed in batch:
        household = parsed.household
        if household is not None and household.id in taken.households:
            progress.skipped += 1
            continue
        errors = list(parsed.errors)
        submission = parsed.submission
        if submission is not None and (
            submission in taken.submissions or submission in seen.submissions
        ):
            errors.append(
                RowError(
                    parsed.rows[0],
                    "submission_id",
                    submission[1],
                    "this submission is registered already",
                )
            )
        claimed = parsed.identifiers
        for row, kind, value in claimed:
            if kind in SHARED_IDENTIFIER_TYPES:
                continue
            if (kind, value) in taken.identifiers:
                errors.append(
                    RowError(row, kind, value, "registered already to someone in the registry")
                )
            elif (kind, value) in seen.identifiers:
                errors.append(
                    RowError(row, kind, value, "given to someone else earlier in this file")
                )
        if errors or household is None:
            _fail(progress, errors)
            continue
        seen.identifiers.update(
            (kind, value) for _, kind, value in claimed if kind not in SHARED_IDENTIFIER_TYPES
        )
        if submission is not None:
            seen.submissions.add(submission)
        valid.append(household)
    return valid


def _fail(progress: _Progress, errors: list[RowError]) -> None:
    progress.errors += len(errors)
    progress.pending.extend(errors)
