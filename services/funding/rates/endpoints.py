"""`/exchange-rates`: the rates every amount is converted with."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Depends, File, Query, UploadFile, status

from services.funding.access import Officer, RateReader, ReportReader
from services.funding.context import Audit, Idempotent, Settings
from services.funding.rates import service
from services.funding.rates.schemas import (
    ExchangeRate,
    ExchangeRateCreate,
    RatesUpload,
    RateUsed,
)
from shared.db import DbSession, ReadSession
from shared.money import CurrencyCode
from shared.pagination import Page, PageParams, page_params
from shared.uploads import read_upload

router = APIRouter(prefix="/api/v1/funding/exchange-rates", tags=["exchange rates"])


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=ExchangeRate,
    responses={
        409: {"description": "A rate for this currency and date is recorded (`existing_rate`)"}
    },
)
async def record_rate(
    data: ExchangeRateCreate,
    session: DbSession,
    principal: Officer,
    audit: Audit,
    idempotent: Idempotent,
) -> object:
    """Record a currency's rate to DJF from a date on. Amounts dated from then on (until the
    next rate) are converted with it; a rate once recorded is not changed (409)."""
    return await idempotent.run(
        data, lambda: service.record(session, principal, audit, data), status_code=201
    )


@router.post(
    "/upload",
    status_code=status.HTTP_201_CREATED,
    response_model=RatesUpload,
    responses={409: {"description": "Some rates differ from those recorded for their dates"}},
)
async def upload_rates(
    file: Annotated[UploadFile, File(description="CSV: currency, rate_date, rate_to_djf, source")],
    session: DbSession,
    principal: Officer,
    audit: Audit,
    settings: Settings,
) -> RatesUpload:
    """A year of rates at once, all or nothing: a row with more or fewer fields than the
    header (a decimal comma in a comma-separated file: quote the rate or separate with ';'),
    or with a bad value, refuses the file, naming the row (`file.row.N`, N the line). Rows
    already recorded with the same rate are counted as unchanged; with another rate, 409.
    Larger than the upload limit: 413."""
    content = await read_upload(file, settings.upload_max_bytes)
    return await service.upload(session, principal, audit, content)


@router.get("", response_model=Page[ExchangeRate])
async def list_rates(
    session: ReadSession,
    _: ReportReader,
    paging: Annotated[PageParams, Depends(page_params)],
    currency: Annotated[CurrencyCode | None, Query()] = None,
) -> Page[ExchangeRate]:
    """By currency, then date."""
    return await service.list_rates(session, currency, paging)


@router.get("/in-force", response_model=RateUsed)
async def rate_in_force(
    session: ReadSession,
    _: RateReader,
    currency: Annotated[CurrencyCode, Query()],
    on: Annotated[date, Query(description="YYYY-MM-DD")],
) -> RateUsed:
    """The rate of `currency` in force on `on` (the latest on or before it): the one an
    amount of that day is converted with. DJF, the rates' unit, is 1. None recorded that
    early: 422. The indicators service converts a plan's costs with it."""
    return (await service.rate_on(session, currency, on, path="query.on")).used()
