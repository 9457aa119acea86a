"""`GET /stats` and `GET /stats/catalog`: counts only, for analysts and the indicators
service."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from services.beneficiaries.access import StatsReader
from services.beneficiaries.context import Settings
from services.beneficiaries.stats import service
from services.beneficiaries.stats.catalog import MAX_DIMENSIONS
from services.beneficiaries.stats.schemas import StatsAnswer, StatsCatalog, StatsQuery
from shared.db import ReadSession

router = APIRouter(prefix="/api/v1/beneficiaries/stats", tags=["statistics"])

SEMANTICS = f"""
Counts of registry units grouped by up to {MAX_DIMENSIONS} dimensions, computed in one SQL
query. The answer never holds a name, identifier, record id or birth date.

- Only active households and active individuals count.
- `measure=households` counts households; person dimensions and filters (sex, age_group,
  legal_status, disability) describe the household **head**.
- `measure=individuals` counts people; household dimensions and filters describe their
  household.
- `measure=enrollments` counts enrollment records (a household in a programme), whatever
  their status unless `enrollment_status` filters it; person dimensions describe the head.
- Counting households or individuals by `programme` or `enrollment_status`, a household in
  two programmes (or with two statuses) counts in both groups, and units with no enrollment
  form the null group; `total` counts each unit once. Filtering on them keeps the units with
  at least one matching enrollment (programme and status filters apply to the same
  enrollment).
- A dimension is null where the registry has no value: e.g. `sex` of a household with no
  recorded head.
- `age_group` is the age in completed years on `as_of` (default: today in Djibouti);
  `as_of` changes nothing else: statuses and memberships are today's.
- `pmt_band` bands the predicted consumption (DJF per person per year) by the configured
  edges, `unscored` without a score; `pmt_min`/`pmt_max` leave unscored households out.
- Filters take one or more values (repeated or comma-separated); different filters combine
  with AND. A registrar limited to regions counts only in those regions.
- `rows` hold the combinations that have units, ordered by the dimensions; with no
  dimension, one row with the total. `total` is the number of distinct units matching the
  filters.
- Unknown parameters, dimensions or values (region, locality and programme codes included)
  answer 422 with the parameter in `errors[].path`.
- **Small cells**: callers without access to personal data (analysts) get protected
  counts. A row counting fewer units than the threshold (`disclosure_control.threshold` in
  `/stats/catalog`, default 5), and the rows withheld with it so that it cannot be worked
  out from a total, have `count: null` and `suppressed: true`; `total` is null when it is
  itself small, and `disclosure_control` says what was withheld. Registry staff and the
  INDS services get exact counts (`disclosure_control: null`). Analysts' `registered_from`
  and `registered_to` are whole months (the first of a month, the last of one), and their
  `as_of` the first of a month: two counts a day apart would single out who registered, or
  had a birthday, that day.
"""


@router.get(
    "",
    response_model=StatsAnswer,
    summary="Counts of households, individuals or enrollments by dimensions",
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
    summary="Measures, dimensions with their values, and filters of /stats",
)
async def get_catalog(
    session: ReadSession, principal: StatsReader, settings: Settings
) -> StatsCatalog:
    return await service.catalog(session, settings, principal)
