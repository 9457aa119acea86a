"""`/exports`: the registry as CSV, JSON Lines or Excel files, filtered as the lists are."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from services.beneficiaries.access import REGISTRY_STAFF, allowed_regions
from services.beneficiaries.clock import today
from services.beneficiaries.context import Audit
from services.beneficiaries.exports import repository, stream
from services.beneficiaries.exports.fields import (
    CATALOGUE,
    AnalystView,
    Resource,
    analyst_view,
    check_filters,
    select_fields,
)
from services.beneficiaries.exports.formats import MEDIA_TYPES, ExportFormat
from services.beneficiaries.records.filters import RegistryFilters, registry_filters
from shared.audit import AuditTrail
from shared.auth import Principal, require_roles
from shared.db import Database, DatabaseOf, StreamSession

router = APIRouter(prefix="/api/v1/beneficiaries/exports", tags=["exports"])
# Registry staff export everything (registrars their regions'); analysts non-personal fields.
ExportReader = Annotated[Principal, Depends(require_roles(*REGISTRY_STAFF, "analyst"))]
Filters = Annotated[RegistryFilters, Depends(registry_filters)]

_FORMATS_DOC = (
    "CSV is UTF-8 with a byte-order mark and a header row; lists are joined with ';'; text "
    "that a spreadsheet would run as a formula (starting with = + - @, tab or carriage "
    "return, phone numbers included) is prefixed with a single quote. JSON Lines has one "
    "object per row, lists as arrays. XLSX has typed cells (dates as dates), one sheet per "
    "1,048,575 rows. Dates are ISO 8601. Streamed: the answer starts at once, whatever the "
    "size. Analysts get pseudonymous rows: no personal and no free-text field, the "
    "registration and consent dates to the month (YYYY-MM), ages instead of birth dates "
    "(`for_analysts` in `GET /exports/fields`); they may not filter by name or identifier, "
    "and filter registration dates by whole months. Every export is recorded on the audit "
    "trail."
)
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {media_type: {} for media_type in MEDIA_TYPES.values()}},
    403: {
        "description": "Not a role that exports, or an analyst asking for a personal or "
        "free-text field or filtering by name or identifier"
    },
    422: {
        "description": "An unknown field (path `query.fields`) or a bad filter (an "
        "analyst's registration dates that are not whole months)"
    },
}


def _fields_query(resource: Resource) -> Any:
    return Query(
        description=f"Comma-separated {resource} fields, in the order wanted; default: all "
        "you may see. One of: " + ", ".join(CATALOGUE[resource]) + "."
    )


class FieldDoc(BaseModel):
    name: str
    kind: str
    description: str
    personal: bool = Field(
        description="Names, contacts, locates or identifies a person or a household record."
    )
    free_text: bool = Field(
        description="Whatever was typed (not a closed list or a checked format): may hold "
        "a name or a phone number."
    )
    for_analysts: AnalystView = Field(
        description="What an analyst's export holds: the value as stored, a date to the "
        "month (YYYY-MM), or nothing (personal or free text: refused when asked for)."
    )


class FieldCatalogue(BaseModel):
    households: list[FieldDoc]
    individuals: list[FieldDoc]


@router.get("/fields", response_model=FieldCatalogue)
async def export_fields(_: ExportReader) -> FieldCatalogue:
    """The fields each export can have; personal and free-text ones are for registry staff
    only, and analysts get some dates to the month (`for_analysts`)."""
    docs = {
        resource: [
            FieldDoc(
                name=f.name,
                kind=f.kind,
                description=f.description,
                personal=f.personal,
                free_text=f.free_text,
                for_analysts=analyst_view(f),
            )
            for f in fields.values()
        ]
        for resource, fields in CATALOGUE.items()
    }
    return FieldCatalogue(**docs)


@router.get(
    "/households.{export_format}",
    response_class=stream.ExportResponse,
    responses=_RESPONSES,
    summary="Households as CSV, JSON Lines or XLSX",
    description="One row per active household, in registry-number order, with its head's "
    "names, phone, sex and age. Filters as `GET /households` (a person filter keeps the "
    "households with a present member matching). " + _FORMATS_DOC,
)
async def export_households(
    export_format: ExportFormat,
    session: StreamSession,
    database: DatabaseOf,
    audit: Audit,
    principal: ExportReader,
    filters: Filters,
    fields: Annotated[str | None, _fields_query("households")] = None,
) -> stream.ExportResponse:
    return _export(
        "households", export_format, session, database, audit, principal, filters, fields
    )


@router.get(
    "/individuals.{export_format}",
    response_class=stream.ExportResponse,
    responses=_RESPONSES,
    summary="Individuals as CSV, JSON Lines or XLSX",
    description="One row per present member of an active household, household by household "
    "in registry-number order, each head first; identifiers one column per type. Filters as "
    "`GET /individuals` (person filters apply to the person). " + _FORMATS_DOC,
)
async def export_individuals(
    export_format: ExportFormat,
    session: StreamSession,
    database: DatabaseOf,
    audit: Audit,
    principal: ExportReader,
    filters: Filters,
    fields: Annotated[str | None, _fields_query("individuals")] = None,
) -> stream.ExportResponse:
    return _export(
        "individuals", export_format, session, database, audit, principal, filters, fields
    )


def _export(
    resource: Resource,
    export_format: ExportFormat,
    session: StreamSession,
    database: Database,
    audit: AuditTrail,
    principal: Principal,
    filters: RegistryFilters,
    requested_fields: str | None,
) -> stream.ExportResponse:
    personal_allowed = principal.has_any_role(REGISTRY_STAFF)
    chosen = select_fields(resource, requested_fields, personal_allowed)
    check_filters(filters, personal_allowed)
    as_of = today()
    build = (
        repository.household_export if resource == "households" else repository.individual_export
    )
    export = stream.Export(
        resource=resource,
        export_format=export_format,
        fields=chosen,
        filters=filters,
        principal=principal,
        statement=build(chosen, filters, allowed_regions(principal), as_of),
    )
    chunks = stream.export_chunks(export, session, database, audit)
    filename = f"{resource}-{as_of.isoformat()}.{export_format.value}"
    return stream.export_response(chunks, export, filename)
