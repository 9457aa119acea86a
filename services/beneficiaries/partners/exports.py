"""A partner's export: the households (or the people) its active agreement lets it see,
with the fields of that export it allows, as CSV or JSON Lines, streamed as the registry's
own exports are (exports/stream.py: constant memory, audited batch by batch). Identifiers
are pseudonymised where the agreement says so; in the household export a head outside the
agreement's legal statuses is not named and a household's size counts only the members it
covers. The export is recorded on the audit trail with the agreement it was served under,
and its rows counted in the agreement's usage."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.exports import stream
from services.beneficiaries.exports.fields import CATALOGUE, Resource
from services.beneficiaries.exports.formats import ExportFormat
from services.beneficiaries.partners import repository
from services.beneficiaries.partners.fields import HEAD_FIELDS
from services.beneficiaries.partners.scope import PartnerAccess
from services.beneficiaries.records.filters import RegistryFilters
from shared.errors import Forbidden


class PartnerExportFormat(enum.StrEnum):
    csv = "csv"
    jsonl = "jsonl"


def partner_export(
    access: PartnerAccess, resource: Resource, export_format: PartnerExportFormat
) -> stream.Export:
    scope = access.scope
    catalogue = CATALOGUE[resource]
    fields = [catalogue[name] for name in scope.allowed(catalogue)]
    if not fields:
        raise Forbidden(f"Your agreement allows no {resource} field: there is nothing to export.")
    names = [field.name for field in fields]
    end = 2 + len(names)

    def project(row: Sequence[Any]) -> list[Any]:
        values = dict(zip(names, row[2:end], strict=True))
        if resource == "households":
            head_covered, size = row[end], row[end + 1]
            for name in HEAD_FIELDS.intersection(values) if not head_covered else ():
                values[name] = None
            if "member_count" in values:
                values["member_count"] = size
        # The row's household (its id is the second column of both exports): its
        # references pseudonymised as the household's.
        shown = scope.project(values, row[1])
        return [shown[name] for name in names]

    async def counted(session: AsyncSession, rows: int) -> None:
        await repository.add_records(session, scope.agreement_id, access.day, rows)

    build = (
        repository.household_export if resource == "households" else repository.individual_export
    )
    return stream.Export(
        resource=resource,
        export_format=ExportFormat(export_format.value),
        fields=fields,
        filters=RegistryFilters(),
        principal=access.principal,
        statement=build(scope, fields, access.day),
        project=project,
        detail={"agreement_id": str(scope.agreement_id), "partner_id": scope.partner_id},
        counted=counted,
    )
