"""`GET /iati/activities.xml`: the projects as IATI 2.03 activities."""

from __future__ import annotations

from fastapi import APIRouter

from services.funding.access import ReportReader, partner_scope
from services.funding.iati import service
from shared.db import StreamSession
from shared.streaming import ClosingStreamingResponse

router = APIRouter(prefix="/api/v1/funding/iati", tags=["iati"])

DESCRIPTION = """
One `iati-activity` per project, valid against the IATI 2.03 activity schema: the
identifier, the reporting organisation, titles in French and English, a description,
every participating organisation with its role (the funders of its agreements as
funding participants), the activity status and dates, recipient country DJ, the DAC
sector (vocabulary 1, 5-digit purpose codes), budgets from its agreements (one per calendar
year of each agreement's period, committed, the commitment shared by days), planned
disbursements from the agreements' tranches, and every transaction with its type, date,
value (decimal major units, with currency and value date), provider and receiver.

Streamed: the answer starts at once and the transactions are read through a cursor.
Readers of reports may read it; a partner's file holds the projects their organisation
funds, with their own agreements' budgets, tranches and transactions only. With no
project to publish, 404 (the schema wants at least one activity).
"""


class XmlResponse(ClosingStreamingResponse):
    """Streamed, its cursor closed while the request's session is open (however sending
    stops)."""

    media_type = "application/xml"


@router.get(
    "/activities.xml",
    response_class=XmlResponse,
    responses={200: {"content": {"application/xml": {}}}, 404: {"description": "No project"}},
    summary="The projects as an IATI 2.03 activity file",
    description=DESCRIPTION,
)
async def iati_activities(session: StreamSession, principal: ReportReader) -> XmlResponse:
    scope = partner_scope(principal)
    activities, organisations = await service.prepare(session, scope)
    return XmlResponse(
        service.activities_xml(session, activities, organisations, scope),
        media_type="application/xml; charset=utf-8",
        headers={"Content-Disposition": 'inline; filename="iati-activities.xml"'},
    )
