"""`GET /reports/funding`: what each partner committed, what was received, disbursed, paid to
households and what is left, in DJF and USD, as JSON or CSV."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from services.funding.access import ReportReader
from services.funding.reports import service
from services.funding.reports.formats import report_csv
from services.funding.reports.schemas import FundingReport, ReportQuery
from shared.db import ReadSession

router = APIRouter(prefix="/api/v1/funding", tags=["reports"])

SEMANTICS = """
Committed, received, disbursed, paid to households and available funds, with the
disbursement rate, per group of `group_by` (any of `partner`, `project`, `year`,
`currency`, in the order given; none: the total only), computed in one SQL statement.

- **committed**: the commitments of the agreements (cancelled ones left out), in the group
  of the agreement's funder (`partner`), project, **signed year** and currency.
- **received**, **disbursed**, **paid**: the transactions of IATI type 1 (incoming funds),
  3 (disbursement) and 4 (expenditure: what payrolls paid to households, recorded per
  reconciliation), in the group of their agreement's funder (no partner without an
  agreement), their project, the **year of their transaction date** and their currency.
  Reversals are negative transactions: sums net them out.
- **available**: the agreements' own balance, received - reserved (approved payrolls not
  yet settled) - paid, in each agreement's currency, summed over the group's agreements.
  It is the agreements' counters, not received - disbursed. It is money held today, so it
  has no year: **null when the report is grouped or filtered by year**; by partner,
  project or currency it is the sum of their agreements'.
- Every amount is `{"amount_minor", "currency"}` in **DJF and USD** (`djf`, `usd`),
  summed as integers of minor units. Committed, received, disbursed and paid are the
  conversions stored with each agreement (at its signed date's rates) and transaction (at
  its value date's rates). **available** is valued at the rates in force on `rates_on`
  (today in Djibouti: the latest rate on or before it, as everywhere): what a payroll
  approved today could still reserve, since approval converts at the day's rates. While
  rates have not moved, available DJF = received - reserved - paid in DJF; when they have,
  the difference is the exchange gain or loss on the money held (an agreement's currency
  with no rate yet on that day keeps its signed date's rate). Grouped by `currency`,
  `in_currency` adds the figure in the group's own currency, which no rate moves.
- **disbursement_rate** = disbursed / committed in DJF, both summed over the group first
  (a ratio of sums), a decimal string with 4 places (`0.2500` is 25 %); where nothing is
  committed (a year with disbursements but no agreement signed in it) it is null with a
  `reason`, never a division error.
- `total` covers every fact matching the filters, whatever the grouping.
- Filters: `year`, `partner` (organisation ids), `project` (project ids), `currency`, one or
  more values each (repeated or comma-separated), combined with AND. An id naming nothing
  is a 422 naming the parameter, as is any unknown parameter or dimension.
- A **partner** token sees only the agreements its organisation funds and their
  transactions; naming another organisation in `partner` is a 403.
- **CSV** (`format=csv` or `Accept: text/csv`): UTF-8 with a byte-order mark, a header
  row, one line per group then a `total` line (column `row`); amounts in **decimal major
  units with the currency's ISO 4217 decimals** (30000 for 30,000 DJF, 168.80 for
  168.80 USD), the currency in the column name (`committed_djf`, `committed_usd`); an
  empty cell where a figure is null; names a spreadsheet would run as formulas are quoted.
"""


def _wants_csv(query: ReportQuery, request: Request) -> bool:
    if query.format is not None:
        return query.format == "csv"
    accept = request.headers.get("accept", "")
    return "text/csv" in accept and "application/json" not in accept


_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {}, "text/csv": {}}},
    403: {"description": "Not a reader of reports, or a partner naming another organisation"},
    422: {"description": "An unknown parameter, dimension or id (the parameter in errors[].path)"},
}


@router.get(
    "/reports/funding",
    response_model=FundingReport,
    response_model_exclude_unset=True,
    responses=_RESPONSES,
    summary="Committed, received, disbursed, paid and available funds, in DJF and USD",
    description=SEMANTICS,
)
async def get_funding_report(
    query: Annotated[ReportQuery, Query()],
    request: Request,
    session: ReadSession,
    principal: ReportReader,
) -> Response:
    report = await service.funding_report(session, query, principal)
    if _wants_csv(query, request):
        # The report's day in Djibouti (its `rates_on`), not the server's.
        name = f"funding-report-{report.rates_on.isoformat()}.csv"
        return Response(
            report_csv(report),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return JSONResponse(report.model_dump(mode="json", exclude_unset=True))
