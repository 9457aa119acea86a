"""`/snapshots`: frozen runs of indicator values, taken as jobs."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Query, Request, Response, status

from services.indicators.access import SnapshotReader
from services.indicators.context import EditorChange, SnapshotWorker
from services.indicators.snapshots import repository, service
from services.indicators.snapshots.schemas import SnapshotCreate, SnapshotJob, SnapshotValues
from services.indicators.values.disclosure import for_reader
from services.indicators.values.formats.labels import Labels
from services.indicators.values.formats.language import ChosenLanguage
from services.indicators.values.formats.respond import (
    FORMAT_HELP,
    RESPONSES,
    FormatQuery,
    json_labels,
    rendered,
)
from services.indicators.values.schemas import IndicatorValue
from services.indicators.vocabulary import SnapshotStatus
from shared.db import ReadSession

router = APIRouter(prefix="/api/v1/indicators/snapshots", tags=["snapshots"])


@router.post(
    "",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=SnapshotJob,
    description="me_officer or admin. Queues a run freezing the values of the period (each "
    "indicator overall and by each of its disaggregations); follow it at `Location`. A "
    "service that cannot be reached fails the run (`failed`, with the reason) and keeps no "
    "value: the period's latest done snapshot stays the latest.",
)
async def take_snapshot(
    data: SnapshotCreate,
    change: EditorChange,
    response: Response,
    worker: SnapshotWorker,
    background: BackgroundTasks,
) -> SnapshotJob:
    snapshot = await service.create(change, data)
    response.headers["Location"] = f"{router.prefix}/{snapshot.id}"
    background.add_task(worker.wake)  # after the commit
    return SnapshotJob.model_validate(snapshot)


@router.get(
    "",
    response_model=list[SnapshotJob],
    description="Newest first. Partners see published snapshots only.",
)
async def list_snapshots(
    session: ReadSession,
    principal: SnapshotReader,
    period: Annotated[str | None, Query(max_length=10)] = None,
    status: SnapshotStatus | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[SnapshotJob]:
    rows = await service.listed(session, principal, period, status, limit)
    return [SnapshotJob.model_validate(row) for row in rows]


@router.get(
    "/latest",
    response_model=SnapshotJob,
    description="The period's newest done run.",
    responses={404: {"description": "No done snapshot of this period yet"}},
)
async def latest_snapshot(
    session: ReadSession,
    principal: SnapshotReader,
    period: Annotated[str, Query(max_length=10)],
) -> SnapshotJob:
    return SnapshotJob.model_validate(await service.latest(session, principal, period))


@router.get("/{snapshot_id}", response_model=SnapshotJob)
async def get_snapshot(
    snapshot_id: uuid.UUID, session: ReadSession, principal: SnapshotReader
) -> SnapshotJob:
    return SnapshotJob.model_validate(await service.get(session, snapshot_id, principal))


async def _frozen(
    snapshot_id: uuid.UUID, session: ReadSession, principal: SnapshotReader, indicator: str | None
) -> tuple[SnapshotJob, list[IndicatorValue], Labels]:
    snapshot = await service.get(session, snapshot_id, principal)
    rows = await repository.values_of(session, snapshot.id, indicator)
    values = [for_reader(IndicatorValue.model_validate(row), principal) for row in rows]
    return SnapshotJob.model_validate(snapshot), values, Labels.thawed(snapshot.labels)


@router.get(
    "/{snapshot_id}/values",
    response_model=SnapshotValues,
    responses=RESPONSES,
    description="The frozen values, as computed. Flagged values (small cells) come without "
    "their figures for analysts and partners. `format`: "
    + FORMAT_HELP
    + " Names are those the indicators and the services' catalogues gave when it ran.",
)
async def snapshot_values(
    request: Request,
    snapshot_id: uuid.UUID,
    session: ReadSession,
    principal: SnapshotReader,
    lang: ChosenLanguage,
    indicator: Annotated[str | None, Query(max_length=40)] = None,
    format: FormatQuery = "json",
) -> SnapshotValues | Response:
    snapshot, values, labels = await _frozen(snapshot_id, session, principal, indicator)
    if format != "json":
        return rendered(
            format, values, labels, lang, link=str(request.url), filename=f"snapshot-{snapshot_id}"
        )
    return SnapshotValues(
        snapshot=snapshot, values=values, labels=json_labels(values, labels, lang)
    )


@router.get(
    "/{snapshot_id}/values.csv",
    response_class=Response,
    responses={200: {"content": {"text/csv": {}}, "description": "The values as CSV."}},
    description="The same as `/values?format=csv`: the frozen values as CSV (UTF-8 with a "
    "byte-order mark), a line per indicator and cell, a column per disaggregation with its "
    "label, the figures and their provenance; flagged values without their figures for "
    "analysts and partners, as in JSON.",
)
async def snapshot_values_csv(
    snapshot_id: uuid.UUID,
    session: ReadSession,
    principal: SnapshotReader,
    lang: ChosenLanguage,
    indicator: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    _, values, labels = await _frozen(snapshot_id, session, principal, indicator)
    return rendered("csv", values, labels, lang, link="", filename=f"snapshot-{snapshot_id}")


@router.post(
    "/{snapshot_id}/publish",
    response_model=SnapshotJob,
    description="me_officer or admin. Partners may read it from now on. 409 unless done.",
)
async def publish_snapshot(snapshot_id: uuid.UUID, change: EditorChange) -> SnapshotJob:
    return SnapshotJob.model_validate(await service.publish(change, snapshot_id))
