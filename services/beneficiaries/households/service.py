"""Registering and updating households with their members.

Every write here runs in the request's transaction: the household, its people, their
identifiers and memberships, the PMT score, duplicate flags and the audit row land together
or not at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.access import ensure_region
from services.beneficiaries.areas import repository as areas
from services.beneficiaries.config import BeneficiariesSettings
from services.beneficiaries.dedup.service import flag_new_people
from services.beneficiaries.households import repository
from services.beneficiaries.households.derived import individual_columns
from services.beneficiaries.households.documents import HouseholdDocument, household_document
from services.beneficiaries.households.schemas import (
    Consent,
    Gps,
    Household,
    HouseholdUpdate,
    HouseholdWrite,
    IdentifierIn,
    Location,
    Member,
    MemberIn,
    today,
)
from services.beneficiaries.households.versions import touch
from services.beneficiaries.models import Household as HouseholdRow
from services.beneficiaries.models import Identifier, Individual, Membership
from services.beneficiaries.pmt.scoring import rescore_households
from shared.audit import AuditTrail
from shared.auth import Principal
from shared.errors import Conflict, NotFound, PreconditionRequired, UnprocessableEntity
from shared.etag import require_if_match


@dataclass(frozen=True)
class Registrar:
    """Who is writing and what the write needs from the app."""

    session: AsyncSession
    principal: Principal
    audit: AuditTrail
    settings: BeneficiariesSettings


@dataclass(frozen=True)
class ResolvedLocation:
    region_code: str
    commune_code: str
    locality_code: str
    area: str


class DuplicateIdentifier(Conflict):
    type, title = "duplicate-identifier", "Identifier already registered"


async def resolve_location(
    session: AsyncSession, locality_code: str, area: str | None, path: str = "body.location"
) -> ResolvedLocation:
    locality = await areas.get(session, locality_code)
    if locality is None or locality.level != 3:
        raise UnprocessableEntity(
            f"Unknown locality {locality_code}.",
            errors=[{"path": f"{path}.locality_code", "message": "not a known locality"}],
        )
    chosen = area or locality.area
    if chosen is None:
        raise UnprocessableEntity(
            "This locality has both urban and rural parts: say which.",
            errors=[{"path": f"{path}.area", "message": "required for this locality"}],
        )
    assert locality.parent_code is not None
    return ResolvedLocation(locality.region_code, locality.parent_code, locality.code, chosen)


def _household_columns(data: HouseholdWrite, location: ResolvedLocation) -> dict[str, Any]:
    gps = data.location.gps
    return {
        "region_code": location.region_code,
        "commune_code": location.commune_code,
        "locality_code": location.locality_code,
        "area": location.area,
        "address": data.location.address,
        "gps_latitude": gps.latitude if gps else None,
        "gps_longitude": gps.longitude if gps else None,
        **data.living_conditions.model_dump(),
        "displacement_status": data.displacement_status,
        "registration_source": data.registration.source,
        "registration_date": data.registration.date,
        "enumerator_id": data.registration.enumerator_id,
        "device_id": data.registration.device_id,
        "submission_id": data.registration.submission_id,
        "source_partner_id": data.registration.partner_id,
        **_consent_columns(data.consent),
    }


def _consent_columns(consent: Consent) -> dict[str, Any]:
    return {
        "consent_given": consent.given,
        "consent_date": consent.date,
        "consent_scope": list(consent.scope),
        "consent_method": consent.method,
        "consent_notice_version": consent.notice_version,
    }


def _person_columns(member: MemberIn) -> dict[str, Any]:
    return {
        "given_name": member.given_name,
        "father_name": member.father_name,
        "grandfather_name": member.grandfather_name,
        "sex": member.sex,
        "birth_date": member.birth_date,
        "birth_date_estimated": member.birth_date_estimated,
        "relationship_to_head": member.relationship_to_head,
        "legal_status": member.legal_status,
        "nationality": member.nationality,
        "country_of_origin": member.country_of_origin,
        "disability": dict(member.disability),
        "pregnant": member.pregnant,
        "lactating": member.lactating,
        "education_level": member.education_level,
        "occupation": member.occupation,
        **individual_columns(
            member.given_name,
            member.father_name,
            member.grandfather_name,
            member.birth_date,
            member.disability,
        ),
    }


async def check_identifiers_free(
    session: AsyncSession,
    identifiers: Iterable[tuple[str, str]],
    *,
    allowed_owners: Iterable[uuid.UUID] = (),
) -> None:
    """409 naming the record that already holds one of these (unique-type) identifiers."""
    allowed = set(allowed_owners)
    for kind, _value, owner, household_id in await repository.unique_identifier_owners(
        session, identifiers
    ):
        if owner not in allowed:
            raise DuplicateIdentifier(
                f"This {kind} is already registered to someone else.",
                identifier_type=kind,
                existing_individual_id=str(owner),
                existing_household_id=str(household_id) if household_id else None,
            )


async def record_relationship(
    session: AsyncSession,
    household_id: uuid.UUID,
    person: Individual,
    relationship: str,
    *,
    on: date,
    actor: str,
) -> None:
    """A member's relationship to the head changes: their membership span closes and a
    new one opens, so the history keeps who was what, when."""
    await repository.close_memberships(
        session, household_id, [person.id], ended_on=on, reason="relationship_changed"
    )
    person.relationship_to_head = relationship
    person.updated_by = actor
    session.add(
        Membership(
            household_id=household_id,
            individual_id=person.id,
            relationship_to_head=relationship,
            started_on=on,
            start_reason="relationship_changed",
            recorded_by=actor,
        )
    )


async def _flush(session: AsyncSession) -> None:
    """A unique index hit here means a concurrent write registered the same thing first."""
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(
            "This conflicts with a record saved at the same moment; read it and try again."
        ) from exc


async def add_people(
    session: AsyncSession,
    household_id: uuid.UUID,
    members: Sequence[MemberIn],
    *,
    started_on: date,
    reason: str,
    actor: str,
) -> list[Individual]:
    """New people in a household, with their first membership span and identifiers. The
    people are flushed first: without ORM relationships, nothing orders the inserts for us."""
    people = [
        Individual(
            id=member.id or uuid.uuid4(),
            household_id=household_id,
            created_by=actor,
            updated_by=actor,
            **_person_columns(member),
        )
        for member in members
    ]
    session.add_all(people)
    await _flush(session)
    for person, member in zip(people, members, strict=True):
        session.add(
            Membership(
                household_id=household_id,
                individual_id=person.id,
                relationship_to_head=member.relationship_to_head,
                started_on=started_on,
                start_reason=reason,
                recorded_by=actor,
            )
        )
        session.add_all(
            Identifier(individual_id=person.id, type=i.type, value=i.value)
            for i in member.identifiers
        )
    await _flush(session)
    return people


async def create(
    ctx: Registrar, data: HouseholdWrite, household_id: uuid.UUID | None = None
) -> HouseholdDocument:
    session, actor = ctx.session, ctx.principal.subject
    household_id = household_id or data.id or uuid.uuid4()
    location = await resolve_location(session, data.location.locality_code, data.location.area)
    ensure_region(ctx.principal, location.region_code)
    if await repository.existing_household_ids(session, [household_id]):
        raise Conflict("A household with this id exists already.", existing_id=str(household_id))
    taken = await repository.existing_individual_ids(session, [m.id for m in data.members if m.id])
    if taken:
        raise Conflict(
            "A member id given is already registered.", existing_ids=sorted(map(str, taken))
        )
    await check_identifiers_free(session, _pairs(data.members))

    household = HouseholdRow(
        id=household_id,
        member_count=len(data.members),
        created_by=actor,
        updated_by=actor,
        **_household_columns(data, location),
    )
    session.add(household)
    await _flush(session)
    people = await add_people(
        session, household.id, data.members, started_on=data.registration.date,
        reason="registered", actor=actor,
    )  # fmt: skip
    await rescore_households(session, [household.id])
    await flag_new_people(
        session,
        household,
        people,
        threshold=ctx.settings.dedup_threshold,
        window=ctx.settings.dedup_birth_year_window,
    )
    await ctx.audit.record_write(
        session, ctx.principal, "create", "household", household.id, household.id,
        {"members": len(people), "source": data.registration.source},
    )  # fmt: skip
    return await document(session, household.id)


async def document(session: AsyncSession, household_id: uuid.UUID) -> HouseholdDocument:
    """The household as answered, after this request's writes (flushed first)."""
    await session.flush()
    found = await household_document(session, household_id)
    assert found is not None
    return found


def _pairs(members: Iterable[MemberIn]) -> list[tuple[str, str]]:
    return [(i.type, i.value) for m in members for i in m.identifiers]


async def get_for_write(
    ctx: Registrar, household_id: uuid.UUID, if_match: str | None
) -> HouseholdRow:
    household = await repository.get_household(ctx.session, household_id, for_update=True)
    if household is None:
        raise NotFound("No such household.")
    ensure_region(ctx.principal, household.region_code)
    if household.status != "active":
        raise Conflict(f"This household is {household.status}; it can no longer change.")
    require_if_match(if_match, household.version)
    return household


async def get(
    session: AsyncSession, principal: Principal, household_id: uuid.UUID
) -> HouseholdDocument:
    found = await household_document(session, household_id)
    if found is None:
        raise NotFound("No such household.")
    ensure_region(principal, found.region_code)
    return found


async def update(
    ctx: Registrar, household_id: uuid.UUID, data: HouseholdUpdate, if_match: str | None
) -> HouseholdDocument:
    session = ctx.session
    household = await get_for_write(ctx, household_id, if_match)
    changed: list[str] = []
    if data.location is not None:
        sent = data.location.model_fields_set
        if "locality_code" in sent or "area" in sent:
            location = await resolve_location(
                session,
                data.location.locality_code or household.locality_code,
                data.location.area if "area" in sent else None,
            )
            ensure_region(ctx.principal, location.region_code)
            for field in ("region_code", "commune_code", "locality_code", "area"):
                _set(household, field, getattr(location, field), changed)
        if "address" in sent:
            _set(household, "address", data.location.address, changed)
        if "gps" in sent:
            gps: Gps | None = data.location.gps
            _set(household, "gps_latitude", gps.latitude if gps else None, changed)
            _set(household, "gps_longitude", gps.longitude if gps else None, changed)
    if data.living_conditions is not None:
        for field in data.living_conditions.model_fields_set:
            _set(household, field, getattr(data.living_conditions, field), changed)
    if data.displacement_status is not None:
        _set(household, "displacement_status", data.displacement_status, changed)
    if data.consent is not None:
        for column, value in _consent_columns(data.consent).items():
            _set(household, column, value, changed)
    if changed:
        household.updated_by = ctx.principal.subject
        touch(session, household)
        await _flush(session)
        await rescore_households(session, [household.id])
        await ctx.audit.record_write(
            session, ctx.principal, "update", "household", household.id, household.id,
            {"fields": sorted(set(changed))},
        )  # fmt: skip
    return await document(session, household.id)


def _set(row: object, field: str, value: object, changed: list[str]) -> None:
    if getattr(row, field) != value:
        setattr(row, field, value)
        changed.append(field)


async def replace(
    ctx: Registrar, household_id: uuid.UUID, data: HouseholdWrite, if_match: str | None
) -> tuple[HouseholdDocument, str]:
    """PUT: create the household under the client's id, or replace it whole. Without
    `If-Match`, resending what is already stored is answered as unchanged (a retry after a
    lost answer); anything else needs `If-Match`. Returns the household and what happened:
    created, updated or unchanged."""
    session = ctx.session
    if data.id is not None and data.id != household_id:
        raise UnprocessableEntity(
            "The id in the body differs from the one in the path.",
            errors=[{"path": "body.id", "message": "must match the path"}],
        )
    # Two PUTs of the same new household (a device retrying while its first try is still
    # running) are taken one after the other: the second finds the first's household.
    await repository.lock_household_id(session, household_id)
    household = await repository.get_household(session, household_id, for_update=True)
    if household is None:
        return await create(ctx, data, household_id), "created"
    ensure_region(ctx.principal, household.region_code)
    current_document = await document(session, household_id)
    current = current_document.model()
    if if_match is None:
        if same_household(current, data):
            return current_document, "unchanged"
        raise PreconditionRequired(
            "This household exists: send If-Match with the ETag of the version you changed."
        )
    household = await get_for_write(ctx, household_id, if_match)
    if same_household(current, data):
        return current_document, "unchanged"
    await _replace(ctx, household, data)
    return await document(session, household.id), "updated"


async def _replace(ctx: Registrar, household: HouseholdRow, data: HouseholdWrite) -> None:
    session, actor = ctx.session, ctx.principal.subject
    location = await resolve_location(session, data.location.locality_code, data.location.area)
    ensure_region(ctx.principal, location.region_code)
    members = (await repository.active_members(session, [household.id], for_update=True)).get(
        household.id, []
    )
    current = {m.id: m for m in members}
    sent = {m.id: m for m in data.members if m.id is not None}
    elsewhere = await repository.existing_individual_ids(session, set(sent) - set(current))
    if elsewhere:
        raise Conflict(
            "Some member ids belong to people registered in another household; "
            "use the membership operations to move people.",
            existing_ids=sorted(map(str, elsewhere)),
        )
    await check_identifiers_free(session, _pairs(data.members), allowed_owners=current)

    changed_people: dict[uuid.UUID, Individual] = {}
    leaving = [gone for gone_id, gone in current.items() if gone_id not in sent]
    for gone in leaving:
        gone.status = "left"
        gone.household_id = None
        gone.updated_by = actor
        changed_people[gone.id] = gone
    await repository.close_memberships(
        session, household.id, [gone.id for gone in leaving], ended_on=today(), reason="removed"
    )
    # The old head steps down before the new one steps up: one head at any moment.
    for person_id, member in sent.items():
        stepping_down = current.get(person_id)
        if (
            stepping_down is not None
            and stepping_down.relationship_to_head == "head" != member.relationship_to_head
        ):
            await record_relationship(
                session, household.id, stepping_down, member.relationship_to_head, on=today(),
                actor=actor,
            )  # fmt: skip
            changed_people[stepping_down.id] = stepping_down
    await _flush(session)
    held = await repository.identifiers_of(session, list(current))
    for member in data.members:
        person = current.get(member.id) if member.id else None
        if person is None:
            continue
        changed = person.relationship_to_head != member.relationship_to_head
        if changed:
            await record_relationship(
                session, household.id, person, member.relationship_to_head, on=today(), actor=actor
            )
        for column, value in _person_columns(member).items():
            if getattr(person, column) != value:
                setattr(person, column, value)
                changed = True
        wanted = [(i.type, i.value) for i in member.identifiers]
        if await repository.replace_identifiers(session, person.id, wanted, held[person.id]):
            changed = True
        if changed:
            person.updated_by = actor
            changed_people[person.id] = person
    joining = [m for m in data.members if not (m.id and m.id in current)]
    new_people = await add_people(
        session, household.id, joining, started_on=today(), reason="joined", actor=actor
    )
    columns = _household_columns(data, location)
    for column, value in columns.items():
        setattr(household, column, value)
    household.member_count = len(data.members)
    household.updated_by = actor
    touch(session, household, *changed_people.values())
    await _flush(session)
    await rescore_households(session, [household.id])
    if new_people:
        await flag_new_people(
            session, household, new_people,
            threshold=ctx.settings.dedup_threshold, window=ctx.settings.dedup_birth_year_window,
        )  # fmt: skip
    await ctx.audit.record_write(
        session, ctx.principal, "replace", "household", household.id, household.id,
        {"members": len(data.members), "joined": len(new_people), "removed": len(leaving)},
    )  # fmt: skip


def as_write(household: Household) -> dict[str, Any]:
    """A stored household in the shape of a `HouseholdWrite`, to compare with one."""
    return HouseholdWrite.model_construct(
        id=household.id,
        location=Location.model_construct(
            locality_code=household.location.locality_code,
            area=household.location.area,
            address=household.location.address,
            gps=household.location.gps,
        ),
        living_conditions=household.living_conditions,
        displacement_status=household.displacement_status,
        registration=household.registration,
        consent=household.consent,
        members=[_member_write(m) for m in household.members],
    ).model_dump(mode="json")


def _member_write(m: Member) -> MemberIn:
    """A stored member in the shape of a `MemberIn`."""
    return MemberIn.model_construct(
        id=m.id,
        given_name=m.given_name,
        father_name=m.father_name,
        grandfather_name=m.grandfather_name,
        sex=m.sex,
        birth_date=m.birth_date,
        birth_date_estimated=m.birth_date_estimated,
        relationship_to_head=m.relationship_to_head,
        legal_status=m.legal_status,
        nationality=m.nationality,
        country_of_origin=m.country_of_origin,
        identifiers=[
            IdentifierIn.model_construct(type=i.type, value=i.value) for i in m.identifiers
        ],
        disability=m.disability,
        pregnant=m.pregnant,
        lactating=m.lactating,
        education_level=m.education_level,
        occupation=m.occupation,
    )


def _comparable_member(member: dict[str, Any]) -> dict[str, Any]:
    member = dict(member)
    member["identifiers"] = sorted((i["type"], i["value"]) for i in member["identifiers"])
    return member


def _comparable(write: dict[str, Any]) -> dict[str, Any]:
    write = dict(write)
    write.pop("id", None)
    if not write["location"].get("area"):
        write["location"].pop("area", None)
    members = [_comparable_member(member) for member in write["members"]]
    write["members"] = sorted(members, key=lambda m: str(m.get("id")))
    return write


def same_member(current: Member, data: MemberIn) -> bool:
    """Whether `data` is what is stored for this person (a member added twice: a retry)."""
    return data.id == current.id and _comparable_member(
        data.model_dump(mode="json")
    ) == _comparable_member(_member_write(current).model_dump(mode="json"))


def same_household(current: Household, data: HouseholdWrite) -> bool:
    if any(member.id is None for member in data.members):
        return False
    sent = _comparable(data.model_dump(mode="json"))
    stored = _comparable(as_write(current))
    if "area" not in sent["location"]:
        stored["location"].pop("area", None)
    return sent == stored
