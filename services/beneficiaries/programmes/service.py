"""Programmes: their definition, eligibility rule and benefit; and the eligibility check."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.access import ensure_region
from services.beneficiaries.clock import age_on
from services.beneficiaries.models import Programme
from services.beneficiaries.pmt.scoring import predicted_consumption
from services.beneficiaries.programmes import repository, rules
from services.beneficiaries.programmes.schemas import (
    Eligibility,
    EligibilityReason,
    ProgrammeCreate,
    ProgrammeUpdate,
)
from shared.audit import AuditTrail
from shared.auth import Principal
from shared.errors import Conflict, NotFound, UnprocessableEntity
from shared.pagination import Page, PageParams, page_of
from shared.versioning import require_version, touch


async def get(session: AsyncSession, code: str, *, for_update: bool = False) -> Programme:
    programme = await repository.get_programme(session, code, for_update=for_update)
    if programme is None:
        raise NotFound(f"No programme with code '{code}'.")
    return programme


async def list_programmes(
    session: AsyncSession, params: PageParams, status: str | None
) -> Page[Programme]:
    rows = await repository.list_programmes(session, params, status)
    return page_of(rows, params, key=lambda programme: [programme.code])


async def create(
    session: AsyncSession, data: ProgrammeCreate, principal: Principal, audit: AuditTrail
) -> Programme:
    await _check_definition(session, data.model_dump())
    if await repository.get_programme(session, data.code) is not None:
        raise Conflict(f"A programme with code '{data.code}' already exists.")
    programme = Programme(**data.model_dump(), created_by=principal.subject)
    try:
        async with session.begin_nested():
            repository.add(session, programme)
            await session.flush()
    except IntegrityError as exc:  # created by someone else a moment ago
        raise Conflict(f"A programme with code '{data.code}' already exists.") from exc
    await session.refresh(programme)
    await audit.record_write(
        session, principal, "create", "programme", programme.id, None, {"code": programme.code}
    )
    return programme


async def update(
    session: AsyncSession,
    code: str,
    data: ProgrammeUpdate,
    expected_version: int | None,
    principal: Principal,
    audit: AuditTrail,
) -> Programme:
    # Locked, so two updates sent with the same version cannot both pass the check.
    programme = await get(session, code, for_update=True)
    require_version(expected_version, programme.version)
    changes = data.model_dump(include=data.model_fields_set)
    merged = {name: getattr(programme, name) for name in ProgrammeUpdate.model_fields} | changes
    await _check_definition(session, merged, check_rule="eligibility" in changes)
    changed = sorted(name for name, value in changes.items() if getattr(programme, name) != value)
    for name in changed:
        setattr(programme, name, changes[name])
    if changed:
        touch(session, programme)
        await session.flush()
        await session.refresh(programme)
        await audit.record_write(
            session,
            principal,
            "update",
            "programme",
            programme.id,
            None,
            {"code": programme.code, "fields": changed},
        )
    return programme


async def _check_definition(
    session: AsyncSession, definition: dict[str, Any], *, check_rule: bool = True
) -> None:
    """What a schema cannot see: the dates' order, the rule's form and the areas it names."""
    errors: list[dict[str, str]] = []
    start, end = definition.get("start_date"), definition.get("end_date")
    if start and end and end < start:
        errors.append({"path": "body.end_date", "message": "before start_date"})
    rule = definition.get("eligibility")
    if check_rule and rule is not None:
        validation = rules.validate(rule)
        errors += validation.errors
        if not validation.errors:
            wanted = {(ref.code, ref.level) for ref in validation.area_codes}
            known = await repository.existing_area_codes(session, wanted)
            errors += [
                {"path": ref.path, "message": "no such area at this level"}
                for ref in validation.area_codes
                if (ref.code, ref.level) not in known
            ]
    if errors:
        raise UnprocessableEntity("The programme definition is invalid.", errors=errors)


# Eligibility


async def eligibility_of(
    session: AsyncSession,
    programme: Programme,
    household: dict[str, Any],
    on: date,
) -> Eligibility:
    """PMT (predicted consumption at most the programme's threshold; a household without a
    score does not pass) and the programme's rule, with the reasons for any refusal."""
    reasons: list[EligibilityReason] = []
    pmt = _pmt_outcome(programme, household["pmt_score"], household["pmt_formula_version"])
    if not pmt["passed"]:
        reasons.append(
            EligibilityReason(
                path="pmt",
                condition=f"predicted consumption <= {programme.pmt_max_consumption} "
                "DJF per person per year",
                found=pmt["predicted_consumption"],
            )
        )
    rule: dict[str, Any] = {"applies": programme.eligibility is not None, "passed": True}
    if programme.eligibility is not None:
        members = await repository.active_members(session, household["id"])
        facts = rules.Facts(
            household=household | {"member_count": len(members)},
            members=[member | {"age": age_on(member["birth_date"], on)} for member in members],
        )
        outcome = rules.evaluate(programme.eligibility, facts)
        rule["passed"] = outcome.passed
        reasons += [EligibilityReason(**reason) for reason in outcome.reasons]
    return Eligibility(
        eligible=pmt["passed"] and rule["passed"],
        checked_on=on,
        pmt=pmt,
        rule=rule,
        reasons=reasons,
    )


def _pmt_outcome(
    programme: Programme, score: Decimal | None, formula_version: int | None
) -> dict[str, Any]:
    threshold = programme.pmt_max_consumption
    consumption = predicted_consumption(score) if score is not None else None
    return {
        "applies": threshold is not None,
        "passed": threshold is None or (consumption is not None and consumption <= threshold),
        "score": float(score) if score is not None else None,
        "formula_version": formula_version,
        "predicted_consumption": consumption,
        "max_consumption": threshold,
    }


async def check_eligibility(
    session: AsyncSession, code: str, household_id: uuid.UUID, principal: Principal, on: date
) -> Eligibility:
    programme = await get(session, code)
    household = await repository.household_for_eligibility(session, household_id)
    if household is None:
        raise NotFound("No such household.")
    ensure_region(principal, household["region_code"])
    return await eligibility_of(session, programme, household, on)
