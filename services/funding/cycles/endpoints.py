"""`/payment-cycles`: payrolls that pay a programme's enrolled households for one period.

Finance officers create, build, send and cancel cycles; finance approvers (never the cycle's
creator) approve them, apply the provider's reports and close them. Finance staff read
payrolls: their lines, payees and payment files; analysts read cycles and their totals
only (no household, registry number or payee).
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from typing import Annotated

from fastapi import APIRouter, BackgroundTasks, Depends, File, Query, Response, UploadFile, status
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.access import FINANCE, Approver, Canceller, Officer, PayrollReader
from services.funding.context import Audit, Builder, Idempotent, Registry, Settings
from services.funding.cycles import approval, files, reconciliation, repository, service
from services.funding.cycles.schemas import (
    Cycle,
    CycleCancel,
    CycleCreate,
    Line,
    NoBody,
    ReconciliationResult,
    Summary,
)
from services.funding.cycles.views import cycle_view
from services.funding.models import PaymentCycle
from services.funding.vocabulary import CycleStatus, LineStatus
from shared.auth import Principal, require_roles
from shared.db import DbSession, ReadSession, StreamSession
from shared.etag import etag
from shared.idempotency import IdempotentPost, created_headers
from shared.pagination import Page, PageParams, page_params
from shared.schemas import InputModel
from shared.streaming import ClosingStreamingResponse
from shared.uploads import read_upload

router = APIRouter(prefix="/api/v1/funding", tags=["payment cycles"])
BASE = "/payment-cycles"
_created = created_headers(f"{router.prefix}{BASE}")
Paging = Annotated[PageParams, Depends(page_params)]
# Who reads cycles and their totals: finance staff and analysts. Lines and payment files
# (households, registry numbers, payees) are for finance staff only (PayrollReader).
CycleReader = Annotated[Principal, Depends(require_roles(*FINANCE, "analyst"))]


class ReportFile(InputModel):
    """What a reconciliation's Idempotency-Key is compared on: the file itself."""

    file_sha256: str


async def _answer(session: AsyncSession, cycle: PaymentCycle, response: Response | None) -> Cycle:
    if response is not None:
        response.headers["ETag"] = etag(cycle.version)
    return cycle_view(cycle, await repository.currency_of(session, cycle.agreement_id))


async def _act(
    idempotent: IdempotentPost,
    session: AsyncSession,
    action: Callable[[], Awaitable[PaymentCycle]],
    data: InputModel | None = None,
) -> object:
    """`action` on a cycle, once per Idempotency-Key (compared on `data`: the request's
    body, if it has one), answered with the cycle it leaves."""

    async def act() -> Cycle:
        return await _answer(session, await action(), None)

    return await idempotent.run(NoBody() if data is None else data, act, status_code=200)


@router.post(BASE, status_code=status.HTTP_202_ACCEPTED, response_model=Cycle)
async def create_cycle(
    data: CycleCreate,
    response: Response,
    session: DbSession,
    principal: Officer,
    audit: Audit,
    registry: Registry,
    idempotent: Idempotent,
    builder: Builder,
    background: BackgroundTasks,
) -> object:
    """A draft whose payroll is built in the background from the registry's active
    enrollments: follow `build` at `GET /payment-cycles/{id}` (the `Location`). 422 naming
    `body.programme` when the registry has no such programme, `body.period` when the
    period is not one of the programme's, `body.agreement_id` when the agreement's project
    does not finance the programme; 409 when the agreement is not active; 503 when the
    registry cannot be reached."""

    async def create() -> Cycle:
        cycle = await service.create(session, principal, audit, registry, data)
        response.headers.update(_created({"id": cycle.id, "version": cycle.version}))
        return await _answer(session, cycle, None)

    answer = await idempotent.run(data, create, status_code=202, headers_of=_created)
    background.add_task(builder.wake)  # after the commit: the builder starts at once
    return answer


@router.get(BASE, response_model=Page[Cycle])
async def list_cycles(
    session: ReadSession,
    _: CycleReader,
    paging: Paging,
    programme: Annotated[str | None, Query(max_length=32)] = None,
    period: Annotated[str | None, Query(max_length=10)] = None,
    cycle_status: Annotated[CycleStatus | None, Query(alias="status")] = None,
) -> Page[Cycle]:
    """The most recent first."""
    page, currencies = await service.list_cycles(
        session, paging, programme=programme, period=period, status=cycle_status
    )
    return Page[Cycle](
        items=[cycle_view(cycle, currencies[cycle.agreement_id]) for cycle in page.items],
        next_cursor=page.next_cursor,
    )


@router.get(BASE + "/{cycle_id}", response_model=Cycle)
async def get_cycle(
    cycle_id: uuid.UUID, session: ReadSession, _: CycleReader, response: Response
) -> Cycle:
    """With the build's progress (`build`), the lines' total, what was left out and why
    (`excluded`), and what approval reserved."""
    cycle, currency = await service.view(session, cycle_id)
    response.headers["ETag"] = etag(cycle.version)
    return cycle_view(cycle, currency)


@router.post(BASE + "/{cycle_id}/build", status_code=status.HTTP_202_ACCEPTED, response_model=Cycle)
async def rebuild_cycle(
    cycle_id: uuid.UUID,
    session: DbSession,
    principal: Officer,
    audit: Audit,
    response: Response,
    builder: Builder,
    background: BackgroundTasks,
) -> Cycle:
    """Queue a failed build again (409 for any other build status)."""
    cycle = await service.rebuild(session, principal, audit, cycle_id)
    background.add_task(builder.wake)
    return await _answer(session, cycle, response)


@router.post(BASE + "/{cycle_id}/approve", response_model=Cycle)
async def approve_cycle(
    cycle_id: uuid.UUID,
    session: DbSession,
    principal: Approver,
    audit: Audit,
    idempotent: Idempotent,
) -> object:
    """Reserve the payroll's total on the agreement, converted at today's rates (fixed on
    the cycle). 403 to the cycle's creator; 409 unless a built draft, 409
    `insufficient-funds` when the agreement lacks the money; 422 without a rate."""
    return await _act(
        idempotent, session, lambda: approval.approve(session, principal, audit, cycle_id)
    )


@router.post(BASE + "/{cycle_id}/send", response_model=Cycle)
async def send_cycle(
    cycle_id: uuid.UUID,
    session: DbSession,
    principal: Officer,
    audit: Audit,
    idempotent: Idempotent,
) -> object:
    """approved -> sent: records the disbursement (IATI type 3) of the total to the payment
    provider, valued today; the payment file can be downloaded from then on. 409 unless
    approved; 422 naming `cycle.sent_at` without a rate to value it on that day."""
    return await _act(
        idempotent, session, lambda: service.send(session, principal, audit, cycle_id)
    )


@router.post(BASE + "/{cycle_id}/cancel", response_model=Cycle)
async def cancel_cycle(
    cycle_id: uuid.UUID,
    data: CycleCancel,
    session: DbSession,
    principal: Canceller,
    audit: Audit,
    idempotent: Idempotent,
) -> object:
    """Before it is sent only (409 after), with the reason: a finance officer cancels a
    payroll, a finance approver refuses one this way. An approved cycle's reservation is
    released, and its households may be paid by another cycle of the period."""
    return await _act(
        idempotent,
        session,
        lambda: service.cancel(session, principal, audit, cycle_id, data.reason),
        data,
    )


@router.post(BASE + "/{cycle_id}/close", response_model=Cycle)
async def close_cycle(
    cycle_id: uuid.UUID,
    session: DbSession,
    principal: Approver,
    audit: Audit,
    idempotent: Idempotent,
) -> object:
    """reconciling -> closed, once no line is pending (409 otherwise)."""
    return await _act(
        idempotent, session, lambda: service.close(session, principal, audit, cycle_id)
    )


@router.post(BASE + "/{cycle_id}/reconciliation", response_model=ReconciliationResult)
async def reconcile_cycle(
    cycle_id: uuid.UUID,
    file: Annotated[UploadFile, File(description="The provider's report: CSV, XLSX or JSON")],
    session: DbSession,
    principal: Approver,
    audit: Audit,
    settings: Settings,
    idempotent: Idempotent,
) -> object:
    """Apply the provider's report (line_reference, status paid|failed|reversed,
    provider_reference, date: YYYY-MM-DD or DD/MM/YYYY, in XLSX a date cell or date serial).
    A CSV is read as UTF-8, or as Windows-1252 when it is not UTF-8 (what Excel saves on a
    French Windows). The same file again changes nothing (`already_applied`); lines it
    cannot change are listed in `errors` with their rows. 422 naming the row and column
    when the file cannot be read; 409 for a cycle not sent, or closed; 413 over the upload
    limit."""
    content = await read_upload(file, settings.upload_max_bytes)

    async def apply() -> ReconciliationResult:
        return await reconciliation.reconcile(session, principal, audit, cycle_id, content)

    fingerprint = ReportFile(file_sha256=hashlib.sha256(content).hexdigest())
    return await idempotent.run(fingerprint, apply, status_code=200)


@router.get(
    BASE + "/{cycle_id}/payment-file.{file_format}",
    response_class=ClosingStreamingResponse,
    responses={200: {"content": {media: {} for media in files.MEDIA_TYPES.values()}}},
    summary="The payment list for the provider (CSV or XLSX)",
)
async def payment_file(
    cycle_id: uuid.UUID,
    file_format: files.FileFormat,
    session: StreamSession,
    principal: PayrollReader,
    audit: Audit,
) -> ClosingStreamingResponse:
    """Columns: payment_list_id, line_reference, household_id, registry_number, person_id,
    payee_name, phone (digits of the international number), amount (decimal string in
    major units), amount_minor, currency, transfer_date, status, region_code,
    locality_code. Text a spreadsheet would run as a formula is neutralised. Sent,
    reconciling and closed cycles only: before it is sent a cycle may still be cancelled
    and its households paid by another (409 naming the status); an XLSX holds one
    worksheet (409 beyond: the CSV has no limit). Every payee read is audited."""
    cycle = await service.for_payment_file(session, cycle_id, file_format)
    return ClosingStreamingResponse(
        files.chunks(session, audit, principal, cycle, file_format),
        media_type=files.MEDIA_TYPES[file_format],
        headers={
            "Content-Disposition": f'attachment; filename="{cycle.reference}.{file_format}"',
            "Cache-Control": "no-store",
        },
    )


@router.get(BASE + "/{cycle_id}/lines", response_model=Page[Line])
async def list_lines(
    cycle_id: uuid.UUID,
    session: ReadSession,
    principal: PayrollReader,
    audit: Audit,
    paging: Paging,
    line_status: Annotated[LineStatus | None, Query(alias="status")] = None,
    region: Annotated[str | None, Query(max_length=40, description="A region code")] = None,
) -> Page[Line]:
    """In line order (registry-number order), with their payees; finance staff only
    (403 for analysts: totals are at `/summary`), every payee read audited."""
    return await service.lines_page(
        session, audit, principal, cycle_id, paging, status=line_status, region=region
    )


@router.get(BASE + "/{cycle_id}/summary", response_model=Summary)
async def cycle_summary(cycle_id: uuid.UUID, session: ReadSession, _: CycleReader) -> Summary:
    """Lines and amounts by status and by region (and status)."""
    return await service.summary(session, cycle_id)
