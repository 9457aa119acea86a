"""Running a snapshot: every value computed in one go (values/service.py, each indicator
overall and by each of its disaggregations), then written with the snapshot's `done` in one
transaction. A service that cannot be reached, or anything else going wrong, writes no
value: the snapshot is `failed` with the reason, and the latest done snapshot of the period
stays the latest."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func

from services.indicators.config import IndicatorsSettings
from services.indicators.context import Sources
from services.indicators.models import Snapshot
from services.indicators.snapshots import repository
from services.indicators.values import service as values
from services.indicators.values.periods import parse_period
from shared.db import Database
from shared.errors import ProblemError
from shared.logs import get_logger

STALE_AFTER_SECONDS = 300
_log = get_logger("inds.indicators.snapshots")


async def run_pending(database: Database, sources: Sources, settings: IndicatorsSettings) -> int:
    """Run every queued snapshot, one after the other; how many ran."""
    ran = 0
    while True:
        async with database.sessionmaker() as session, session.begin():
            snapshot = await repository.claim(session, STALE_AFTER_SECONDS)
        if snapshot is None:
            return ran
        await run(database, sources, settings, snapshot)
        ran += 1


async def run(
    database: Database, sources: Sources, settings: IndicatorsSettings, snapshot: Snapshot
) -> None:
    try:
        computed = await _compute(database, sources, settings, snapshot)
    except ProblemError as problem:
        _log.warning("snapshot failed", snapshot_id=str(snapshot.id), problem=problem.type)
        await _finish(database, snapshot, "failed", f"{problem.title}: {problem.detail}", [], None)
        return
    except Exception:
        _log.error("snapshot failed", snapshot_id=str(snapshot.id), exc_info=True)
        await _finish(
            database,
            snapshot,
            "failed",
            "The snapshot failed on our side; no value was kept.",
            [],
            None,
        )
        return
    await _finish(database, snapshot, "done", None, *computed)


async def _compute(
    database: Database, sources: Sources, settings: IndicatorsSettings, snapshot: Snapshot
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    request = values.ValuesRequest(
        period=parse_period(snapshot.period),
        indicators=snapshot.indicators,
        breakdowns=[()],
        chosen={},
        each_disaggregation=True,
    )
    async with database.sessionmaker() as session:
        run = await values.values(session, sources, settings.small_cell_threshold, request)
    return [value.model_dump(mode="json") for value in run.values], run.labels.frozen()


async def _finish(
    database: Database,
    snapshot: Snapshot,
    status: str,
    message: str | None,
    computed: list[dict[str, Any]],
    labels: dict[str, Any] | None,
) -> None:
    async with database.sessionmaker() as session, session.begin():
        row = await session.get(Snapshot, snapshot.id, with_for_update=True)
        assert row is not None
        if row.status != "running" or row.started_at != snapshot.started_at:
            # Taken over by another worker meanwhile (this one was thought stopped): its
            # run is the one kept.
            _log.warning("snapshot run superseded", snapshot_id=str(snapshot.id))
            return
        await repository.add_values(session, row.id, computed)
        row.status = status
        row.message = None if message is None else message[:500]
        row.value_count = len(computed)
        row.labels = labels
        row.finished_at = func.clock_timestamp()
