"""Data-sharing agreements: their lifecycle, usage and the ministry's pseudonym resolution."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import anyio
from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.models import DataSharingAgreement
from services.beneficiaries.partners import pseudonyms, repository
from services.beneficiaries.partners.fields import unknown_fields
from services.beneficiaries.partners.schemas import (
    AgreementCreate,
    AgreementUpdate,
    PartnerTerms,
    PseudonymResolve,
    ResolvedPseudonym,
    Usage,
    UsageDay,
)
from services.beneficiaries.vocabulary import IDENTIFIER_TYPES
from shared.audit import AuditTrail
from shared.auth import Principal
from shared.errors import Conflict, NotFound, UnprocessableEntity
from shared.pagination import Page, PageParams, page_of
from shared.versioning import require_version, touch

_LISTS = ("allowed_fields", "allowed_programmes", "allowed_regions", "callback_uris")


# An agreement by its id (404 when there is none).
get = repository.agreements.get


async def list_agreements(
    session: AsyncSession, params: PageParams, partner_id: str | None
) -> Page[DataSharingAgreement]:
    rows = await repository.list_agreements(session, params, partner_id)
    return page_of(rows, params, key=lambda a: [a.partner_id, a.valid_from, a.id])


async def create(
    session: AsyncSession, data: AgreementCreate, principal: Principal, audit: AuditTrail
) -> DataSharingAgreement:
    values = _deduplicated(data.model_dump())
    await _check(session, values)
    await _no_overlap(session, data.partner_id, data.valid_from, data.valid_to)
    earlier = await repository.of_partner(session, data.partner_id)
    agreement = DataSharingAgreement(
        **values,
        # The partner's pseudonyms stay the same across its agreements.
        pseudonym_salt=earlier[0].pseudonym_salt if earlier else pseudonyms.new_salt(),
        created_by=principal.subject,
        updated_by=principal.subject,
    )
    session.add(agreement)
    await session.flush()
    await session.refresh(agreement)
    await audit.record_write(
        session,
        principal,
        "create",
        "agreement",
        agreement.id,
        None,
        {"partner_id": agreement.partner_id},
    )
    return agreement


async def update(
    session: AsyncSession,
    agreement_id: uuid.UUID,
    data: AgreementUpdate,
    expected_version: int | None,
    principal: Principal,
    audit: AuditTrail,
) -> DataSharingAgreement:
    agreement = await repository.agreements.get_for_update(session, agreement_id)
    require_version(expected_version, agreement.version)
    changes = _deduplicated(data.model_dump(include=data.model_fields_set))
    for required in (
        "purpose",
        "legal_basis",
        "allowed_fields",
        "allowed_query_types",
        "valid_from",
        "valid_to",
        "daily_request_quota",
        "identifiers",
        "signing_keys",
        "callback_uris",
    ):
        if required in changes and changes[required] is None:
            raise UnprocessableEntity(
                f"{required} cannot be emptied.",
                errors=[{"path": f"body.{required}", "message": "cannot be emptied"}],
            )
    await _check(session, changes)
    valid_from = changes.get("valid_from", agreement.valid_from)
    valid_to = changes.get("valid_to", agreement.valid_to)
    if valid_to < valid_from:
        raise UnprocessableEntity(
            "valid_to is before valid_from.",
            errors=[{"path": "body.valid_to", "message": "before valid_from"}],
        )
    if "valid_from" in changes or "valid_to" in changes:
        await _no_overlap(session, agreement.partner_id, valid_from, valid_to, agreement.id)
    changed = sorted(name for name, value in changes.items() if getattr(agreement, name) != value)
    for name in changed:
        setattr(agreement, name, changes[name])
    if changed:
        agreement.updated_by = principal.subject
        touch(session, agreement)
        await session.flush()
        await session.refresh(agreement)
        await audit.record_write(
            session,
            principal,
            "update",
            "agreement",
            agreement.id,
            None,
            {"partner_id": agreement.partner_id, "fields": changed},
        )
    return agreement


async def delete(
    session: AsyncSession,
    agreement_id: uuid.UUID,
    expected_version: int | None,
    principal: Principal,
    audit: AuditTrail,
) -> None:
    agreement = await repository.agreements.get_for_update(session, agreement_id)
    require_version(expected_version, agreement.version)
    await session.delete(agreement)
    await session.flush()
    await audit.record_write(
        session,
        principal,
        "delete",
        "agreement",
        agreement_id,
        None,
        {"partner_id": agreement.partner_id},
    )


async def usage(
    session: AsyncSession, agreement_id: uuid.UUID, since: date | None, until: date | None
) -> Usage:
    await get(session, agreement_id)
    days = [
        UsageDay(day=row.day, requests=row.requests, records=row.records)
        for row in await repository.usage(session, agreement_id, since, until)
    ]
    return Usage(
        agreement_id=agreement_id,
        requests=sum(day.requests for day in days),
        records=sum(day.records for day in days),
        days=days,
    )


async def terms(session: AsyncSession, agreement_id: uuid.UUID, day: date) -> PartnerTerms:
    agreement = await get(session, agreement_id)
    used = await repository.usage(session, agreement_id, day, day)
    return PartnerTerms(
        agreement_id=agreement.id,
        partner_id=agreement.partner_id,
        allowed_fields=agreement.allowed_fields,
        allowed_programmes=agreement.allowed_programmes,
        allowed_regions=agreement.allowed_regions,
        allowed_legal_statuses=agreement.allowed_legal_statuses,
        allowed_query_types=agreement.allowed_query_types,
        identifiers=agreement.identifiers,
        valid_from=agreement.valid_from,
        valid_to=agreement.valid_to,
        daily_request_quota=agreement.daily_request_quota,
        requests_today=used[0].requests if used else 0,
    )


async def resolve(
    session: AsyncSession,
    data: PseudonymResolve,
    secret: bytes,
    principal: Principal,
    audit: AuditTrail,
) -> ResolvedPseudonym:
    """The record a partner's pseudonym stands for: recomputed over the candidates of its
    kind (the HMAC cannot be inverted), in a worker thread."""
    agreement = await get(session, data.agreement_id)
    kind = pseudonyms.kind_of(data.pseudonym)
    if kind not in (pseudonyms.HOUSEHOLD, pseudonyms.INDIVIDUAL, *IDENTIFIER_TYPES):
        raise UnprocessableEntity(
            "Not a pseudonym this registry issues.",
            errors=[{"path": "body.pseudonym", "message": "unknown pseudonym form"}],
        )
    assert kind is not None
    key = pseudonyms.partner_key(secret, agreement.partner_id, agreement.pseudonym_salt)
    matches: list[tuple[str, uuid.UUID, uuid.UUID | None]] = []
    async for batch in repository.candidate_batches(session, kind):
        values = [value for value, _, _ in batch]
        found = set(
            await anyio.to_thread.run_sync(pseudonyms.find, key, kind, data.pseudonym, values)
        )
        matches += [entry for entry in batch if entry[0] in found]
    if not matches:
        raise NotFound("No record has this pseudonym under this agreement.")
    household_ids = {household for _, _, household in matches}
    answer = ResolvedPseudonym(
        pseudonym=data.pseudonym,
        kind=kind,
        household_id=next(iter(household_ids)) if len(household_ids) == 1 else None,
        individual_ids=[] if kind == pseudonyms.HOUSEHOLD else sorted({m[1] for m in matches}),
    )
    await audit.record_write(
        session,
        principal,
        "resolve",
        "agreement",
        agreement.id,
        answer.household_id,
        {"kind": kind, "partner_id": agreement.partner_id},
    )
    return answer


def _deduplicated(values: dict[str, Any]) -> dict[str, Any]:
    for name in (*_LISTS, "allowed_legal_statuses", "allowed_query_types"):
        if values.get(name) is not None:
            values[name] = list(dict.fromkeys(values[name]))
    return values


async def _check(session: AsyncSession, values: dict[str, Any]) -> None:
    errors: list[dict[str, str]] = []
    for name in unknown_fields(values.get("allowed_fields") or []):
        errors.append({"path": "body.allowed_fields", "message": f"unknown field {name!r}"})
    if values.get("allowed_programmes"):
        for code in await repository.unknown_programmes(session, values["allowed_programmes"]):
            errors.append(
                {"path": "body.allowed_programmes", "message": f"unknown programme {code!r}"}
            )
    if values.get("allowed_regions"):
        for code in await repository.unknown_regions(session, values["allowed_regions"]):
            errors.append({"path": "body.allowed_regions", "message": f"unknown region {code!r}"})
    if errors:
        raise UnprocessableEntity(
            "The agreement names fields, programmes or regions the registry does not have "
            "(GET /exports/fields lists the fields).",
            errors=errors,
        )


async def _no_overlap(
    session: AsyncSession,
    partner_id: str,
    valid_from: date,
    valid_to: date,
    exclude: uuid.UUID | None = None,
) -> None:
    other = await repository.overlapping(session, partner_id, valid_from, valid_to, exclude)
    if other is not None:
        raise Conflict(
            f"Partner {partner_id} already has an agreement for part of this period: one "
            "agreement at a time decides what a partner sees.",
            agreement_id=str(other),
        )
