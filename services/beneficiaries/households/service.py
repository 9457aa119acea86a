"""Registering, reading, replacing and changing households with their members.

Every write here runs in the request's transaction: the household, its people, their
identifiers and memberships, the PMT score, duplicate flags and the audit row land together
or not at all. A write reads what it changes once, checks it once and writes it once: the
household row goes to the database in one INSERT or UPDATE with its new score.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.access import allowed_regions, ensure_region
from services.beneficiaries.areas.service import ResolvedLocation, resolve_location
from services.beneficiaries.callbacks import events
from services.beneficiaries.clock import today
from services.beneficiaries.context import WriteContext
from services.beneficiaries.dedup.service import flag_joining
from services.beneficiaries.models import Household as HouseholdRow
from services.beneficiaries.models import Individual
from services.beneficiaries.pmt.scoring import predicted_consumption
from services.beneficiaries.pmt.service import score_rows
from services.beneficiaries.records import repository, search
from services.beneficiaries.records.documents import HouseholdDocument, household_document
from services.beneficiaries.records.filters import RegistryFilters
from services.beneficiaries.records.mapping import (
    gps_columns,
    household_columns,
    location_columns,
    person_columns,
    section_columns,
)
from services.beneficiaries.records.schemas import (
    HouseholdSummary,
    HouseholdUpdate,
    HouseholdWrite,
)
from services.beneficiaries.records.stored import Stored, same_household, with_member_ids
from services.beneficiaries.records.writes import (
    add_people,
    check_identifiers_free,
    new_person,
    record_relationship,
)
from shared.auth import Principal
from shared.errors import Conflict, NotFound, PreconditionRequired, UnprocessableEntity
from shared.pagination import Page, PageParams, page_of
from shared.versioning import require_version, touch

# -- reading -------------------------------------------------------------------------------


async def get(
    session: AsyncSession, principal: Principal, household_id: uuid.UUID
) -> HouseholdDocument:
    found = await household_document(session, household_id)
    if found is None:
        raise NotFound("No such household.")
    ensure_region(principal, found.region_code)
    return found


async def document(session: AsyncSession, household_id: uuid.UUID) -> HouseholdDocument:
    """The household as answered, after this request's writes (flushed first: the document
    is read past the ORM)."""
    await session.flush()
    found = await household_document(session, household_id)
    assert found is not None
    return found


async def list_households(
    session: AsyncSession, principal: Principal, filters: RegistryFilters, paging: PageParams
) -> Page[HouseholdSummary]:
    rows = await search.list_households(session, filters, allowed_regions(principal), paging)
    page = page_of(rows, paging, key=lambda row: [row[0].registry_number])
    return Page[HouseholdSummary](
        items=[_summary(*row) for row in page.items], next_cursor=page.next_cursor
    )


def _summary(
    household: HouseholdRow, given: str | None, father: str | None, grandfather: str | None
) -> HouseholdSummary:
    head = " ".join(part for part in (given, father, grandfather) if part) or None
    score = household.pmt_score
    return HouseholdSummary(
        id=household.id,
        registry_number=household.registry_number,
        status=household.status,
        region_code=household.region_code,
        locality_code=household.locality_code,
        area=household.area,
        member_count=household.member_count,
        head_name=head,
        predicted_consumption=predicted_consumption(score) if score is not None else None,
        registration_date=household.registration_date,
        version=household.version,
    )


async def membership_history(
    session: AsyncSession, principal: Principal, household_id: uuid.UUID
) -> Sequence[object]:
    household = await repository.households.get(session, household_id)
    ensure_region(principal, household.region_code)
    return await repository.membership_history(session, household_id)


# -- registering ---------------------------------------------------------------------------


async def create(
    ctx: WriteContext, data: HouseholdWrite, household_id: uuid.UUID | None = None
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
    await check_identifiers_free(
        session, data.identifier_pairs(), regions=allowed_regions(ctx.principal)
    )

    household = HouseholdRow(
        id=household_id,
        member_count=len(data.members),
        created_by=actor,
        updated_by=actor,
        **location_columns(location),
        **household_columns(data),
    )
    joined = [
        (new_person(household_id, member, actor, position=position), member)
        for position, member in enumerate(data.members, 1)
    ]
    await score_rows(session, household, [person for person, _ in joined])
    session.add(household)
    await repository.flush(session)
    await add_people(
        session,
        household_id,
        joined,
        started_on=data.registration.date,
        reason="registered",
        actor=actor,
    )
    await flag_joining(session, ctx.settings, household, joined)
    await events.registry_event(session, events.EVENT_REGISTER, household.id)
    await ctx.audit.record_write(
        session,
        ctx.principal,
        "create",
        "household",
        household.id,
        household.id,
        {"members": len(joined), "source": data.registration.source},
    )
    return await document(session, household.id)


# -- changing ------------------------------------------------------------------------------


def _check_changeable(ctx: WriteContext, household: HouseholdRow, expected: int | None) -> None:
    ensure_region(ctx.principal, household.region_code)
    if household.status != "active":
        raise Conflict(f"This household is {household.status}; it can no longer change.")
    require_version(expected, household.version)


async def held_for_change(
    ctx: WriteContext, household_id: uuid.UUID, expected_version: int | None
) -> HouseholdRow:
    """The household, locked for a change made on `expected_version` of it."""
    household = await repository.households.get_for_update(ctx.session, household_id)
    _check_changeable(ctx, household, expected_version)
    return household


async def update(
    ctx: WriteContext,
    household_id: uuid.UUID,
    data: HouseholdUpdate,
    expected_version: int | None,
) -> HouseholdDocument:
    """PATCH: only what is sent changes."""
    session = ctx.session
    household = await held_for_change(ctx, household_id, expected_version)
    columns: dict[str, object] = {}
    if data.location is not None:
        sent = data.location.model_fields_set
        if "locality_code" in sent or "area" in sent:
            location = await resolve_location(
                session,
                data.location.locality_code or household.locality_code,
                data.location.area if "area" in sent else None,
            )
            ensure_region(ctx.principal, location.region_code)
            columns |= location_columns(location)
        if "address" in sent:
            columns["address"] = data.location.address
        if "gps" in sent:
            columns |= gps_columns(data.location.gps)
    if data.living_conditions is not None:
        conditions = data.living_conditions
        columns |= section_columns("living_conditions", conditions, conditions.model_fields_set)
    if data.displacement_status is not None:
        columns["displacement_status"] = data.displacement_status
    if data.consent is not None:
        columns |= section_columns("consent", data.consent)
    changed = _assign(household, columns)
    if changed:
        household.updated_by = ctx.principal.subject
        touch(session, household)
        with session.no_autoflush:  # the changes go with the score, in one UPDATE
            members = await repository.active_members(session, [household.id])
        await score_rows(session, household, members.get(household.id, []))
        await repository.flush(session)
        await ctx.audit.record_write(
            session,
            ctx.principal,
            "update",
            "household",
            household.id,
            household.id,
            {"fields": sorted(changed)},
        )
    return await document(session, household.id)


def _assign(row: object, columns: dict[str, object]) -> list[str]:
    """Set the columns that differ; the names of those."""
    changed = [column for column, value in columns.items() if getattr(row, column) != value]
    for column in changed:
        setattr(row, column, columns[column])
    return changed


async def replace(
    ctx: WriteContext,
    household_id: uuid.UUID,
    data: HouseholdWrite,
    expected_version: int | None,
) -> tuple[HouseholdDocument, str]:
    """PUT: create the household under the client's id, or replace it whole. Without an
    expected version, resending what is already stored is answered as unchanged (a retry
    after a lost answer); anything else needs the version changed. Returns the household
    and what happened: created, updated or unchanged."""
    session = ctx.session
    if data.id is not None and data.id != household_id:
        raise UnprocessableEntity(
            "The id in the body differs from the one in the path.",
            errors=[{"path": "body.id", "message": "must match the path"}],
        )
    stored = await repository.stored_for_change(session, household_id)
    if stored is None:
        # Two PUTs of the same new household (a device retrying while its first try is
        # still running) are taken one after the other: the second finds the first's.
        await repository.lock_household_id(session, household_id)
        stored = await repository.stored_for_change(session, household_id)
        if stored is None:
            return await create(ctx, data, household_id), "created"
    return await replace_stored(ctx, stored, data, expected_version)


async def replace_stored(
    ctx: WriteContext, stored: Stored, data: HouseholdWrite, expected_version: int | None
) -> tuple[HouseholdDocument, str]:
    """`replace` of a household the caller has loaded for the change (stored_for_change).
    Members sent without ids are matched to the present ones first (`with_member_ids`), so a
    resend of what is stored is unchanged whether or not the device kept their ids."""
    _, outcome = await replace_held(ctx, stored, data, expected_version)
    return await document(ctx.session, stored.household.id), outcome


async def replace_held(
    ctx: WriteContext, stored: Stored, data: HouseholdWrite, expected_version: int | None
) -> tuple[int, str]:
    """`replace_stored` without reading the household back (a sync batch answers with the
    version alone): the household's version after it, and what happened."""
    household = stored.household
    data = with_member_ids(stored, data)
    if expected_version is None:
        ensure_region(ctx.principal, household.region_code)
        if same_household(stored, data):
            return household.version, "unchanged"
        raise PreconditionRequired(
            "This household exists: send If-Match with the ETag of the version you changed."
        )
    _check_changeable(ctx, household, expected_version)
    if same_household(stored, data):
        return household.version, "unchanged"
    await _replace(ctx, stored, data)
    await ctx.session.flush()
    return household.version, "updated"


async def _replace(ctx: WriteContext, stored: Stored, data: HouseholdWrite) -> None:
    session, actor = ctx.session, ctx.principal.subject
    household, current = stored.household, stored.members
    location = await _location_of(ctx, household, data)
    sent = {m.id: m for m in data.members if m.id is not None}
    newcomers = set(sent) - set(current)
    if newcomers:
        elsewhere = await repository.existing_individual_ids(session, newcomers)
        if elsewhere:
            raise Conflict(
                "Some member ids belong to people registered in another household; "
                "use the membership operations to move people.",
                existing_ids=sorted(map(str, elsewhere)),
            )
    unseen = data.identifier_pairs() - stored.held_identifiers()
    if unseen:
        await check_identifiers_free(
            session, unseen, regions=allowed_regions(ctx.principal), allowed_owners=current
        )

    changed: dict[uuid.UUID, Individual] = {}
    leaving = [person for person_id, person in current.items() if person_id not in sent]
    for person in leaving:
        person.status = "left"
        person.household_id = None
        person.updated_by = actor
        changed[person.id] = person
    if leaving:
        await repository.close_memberships(
            session, household.id, [p.id for p in leaving], ended_on=today(), reason="removed"
        )
    # The old head steps down before the new one steps up: one head at any moment.
    for person_id, member in sent.items():
        stepping_down = current.get(person_id)
        if (
            stepping_down is not None
            and stepping_down.relationship_to_head == "head" != member.relationship_to_head
        ):
            await record_relationship(
                session,
                household.id,
                stepping_down,
                member.relationship_to_head,
                on=today(),
                actor=actor,
            )
            changed[stepping_down.id] = stepping_down
            await repository.flush(session)
    staying: list[Individual] = []
    places = {member.id: place for place, member in enumerate(data.members, 1) if member.id}
    for person_id, member in sent.items():
        if person_id not in current:
            continue
        person = current[person_id]
        staying.append(person)
        # The household's order is the household's: a member moved in the list is not a
        # change of that person's record (no new version of it).
        person.roster_position = places[person_id]
        moved = person.relationship_to_head != member.relationship_to_head
        if moved:
            await record_relationship(
                session,
                household.id,
                person,
                member.relationship_to_head,
                on=today(),
                actor=actor,
            )
        fields = _assign(person, person_columns(member))
        held = stored.identifiers[person_id]
        identifiers = await repository.replace_identifiers(
            session, person_id, member.identifier_pairs(), held
        )
        if moved or fields or identifiers:
            person.updated_by = actor
            changed[person_id] = person
    joined = [
        (new_person(household.id, member, actor, position=place), member)
        for place, member in enumerate(data.members, 1)
        if not (member.id and member.id in current)
    ]
    await add_people(
        session, household.id, joined, started_on=today(), reason="joined", actor=actor
    )
    _assign(household, location_columns(location) | household_columns(data))
    household.member_count = len(data.members)
    household.updated_by = actor
    touch(session, household, *changed.values())
    await score_rows(session, household, [*staying, *(person for person, _ in joined)])
    await repository.flush(session)
    if joined:
        await flag_joining(session, ctx.settings, household, joined)
    await ctx.audit.record_write(
        session,
        ctx.principal,
        "replace",
        "household",
        household.id,
        household.id,
        {"members": len(data.members), "joined": len(joined), "removed": len(leaving)},
    )


async def _location_of(
    ctx: WriteContext, household: HouseholdRow, data: HouseholdWrite
) -> ResolvedLocation:
    """Where the household now is. The same locality and a stated area is where it was:
    nothing to look up or check again."""
    if data.location.locality_code == household.locality_code and data.location.area:
        return ResolvedLocation(
            household.region_code,
            household.commune_code,
            household.locality_code,
            data.location.area,
        )
    location = await resolve_location(ctx.session, data.location.locality_code, data.location.area)
    ensure_region(ctx.principal, location.region_code)
    return location
