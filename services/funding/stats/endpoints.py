"""`GET /stats` and `GET /stats/catalog`: counts and sums only, for analysts and the indicators
service, in the registry's shape."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.funding.access import StatsReader
from services.funding.context import Settings
from services.funding.stats import service
from services.funding.stats.catalog import MAX_DIMENSIONS
from services.funding.stats.schemas import StatsAnswer, StatsCatalog, StatsQuery
from shared.db import ReadSession

router = APIRouter(prefix="/api/v1/funding/stats", tags=["statistics"])

SEMANTICS = f"""
Counts of payment lines, sums of their amounts, and the ledger's commitments, receipts,
disbursements and payments, grouped by up to {MAX_DIMENSIONS} dimensions, computed in one
SQL query. The answer never holds a payee's name, phone, household or line id.

- **Payment measures** (`payment_lines`, `payment_amount`) read the payment lines of
  payrolls whose build has finished; every status counts unless `line_status` filters it.
  Their dimensions: `programme`, `region`, `period`, `line_status`, `year` (the period's
  first four digits), `currency` (the line's), `partner` and `project` (of the payroll's
  agreement). E.g. households paid by region: `measure=payment_lines&line_status=paid&
  group_by=region`.
- **Ledger measures** (`committed`, `received`, `disbursed`, `paid`, each also `*_usd`) are
  the funding report's figures: agreements not cancelled (by their signed year), and
  transactions of IATI type 1, 3 and 4 (by the year of their transaction date), with
  their stored conversions at their own dates' rates. Their dimensions: `partner` (the
  agreement's funder; null for a transaction without an agreement), `project`, `year`,
  `currency` (the agreement's or transaction's own). E.g. disbursement rate by partner
  and year: `disbursed` and `committed`, each `group_by=partner,year`, divided row by row.
- **Units**: `payment_lines` counts lines; `payment_amount` and the ledger measures are
  **DJF minor units** (francs: DJF has no decimals); `*_usd` are **USD minor units**
  (cents). Integers, summed exactly in SQL.
- A dimension (or filter) that does not apply to the measure is a 422, as is any unknown
  parameter, dimension or value: partners and projects are named by IATI identifier,
  programmes by registry code, and one the funding service does not know answers 422 with
  the parameter in `errors[].path`, never a zero.
- `as_of` (default: today in Djibouti): ledger measures count what is dated on or before
  it; payment measures are the lines as they are now. Statuses are today's.
- `rows` hold the combinations that have units, ordered by the dimensions (nulls last),
  each with its `value`; with no dimension, one row with the total. `total` is the
  measure over everything matching the filters.
- **Small cells**: the payment measures count households paid (a line is a household in a
  payroll). Callers who may not read payrolls (analysts) get them protected: a row of
  fewer lines than the threshold (`disclosure_control.threshold` in `/stats/catalog`,
  default 5), and the rows withheld with it so that it cannot be worked out from a total,
  have `value: null` and `suppressed: true` (an amount goes with its lines); `total` is
  null when it is itself small. Finance staff and the INDS services get exact figures,
  and ledger measures are exact for everyone (`disclosure_control: null`).
"""


@router.get(
    "",
    response_model=StatsAnswer,
    summary="Payment lines and amounts, commitments, receipts, disbursements and payments",
    description=SEMANTICS,
)
async def get_statistics(
    query: Annotated[StatsQuery, Query()],
    session: ReadSession,
    principal: StatsReader,
    settings: Settings,
) -> StatsAnswer:
    return await service.statistics(session, query, principal, settings)


@router.get(
    "/catalog",
    response_model=StatsCatalog,
    summary="Measures, the dimensions of each with their values, and filters of /stats",
)
async def get_catalog(
    session: ReadSession, principal: StatsReader, settings: Settings
) -> StatsCatalog:
    return await service.catalog(session, principal, settings)
