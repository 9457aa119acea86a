"""Membership changes: joining, leaving, a new head, a split, a merge. Each closes the
affected membership spans and opens new ones; nothing is overwritten."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date

from services.beneficiaries.access import allowed_regions, ensure_region
from services.beneficiaries.areas.service import resolve_location
from services.beneficiaries.callbacks import events
from services.beneficiaries.context import WriteContext
from services.beneficiaries.dedup.service import flag_joining
from services.beneficiaries.households.service import document, held_for_change
from services.beneficiaries.models import Household as HouseholdRow
from services.beneficiaries.models import Individual, Membership
from services.beneficiaries.pmt.service import rescore_households
from services.beneficiaries.records import repository
from services.beneficiaries.records.documents import HouseholdDocument
from services.beneficiaries.records.mapping import (
    columns_of,
    gps_columns,
    location_columns,
    section_columns,
)
from services.beneficiaries.records.schemas import (
    HeadChange,
    MemberAdd,
    MemberLeave,
    Merge,
    Split,
)
from services.beneficiaries.records.writes import (
    add_people,
    check_identifiers_free,
    leave,
    new_person,
    record_relationship,
)
from shared.errors import Conflict, NotFound, UnprocessableEntity
from shared.versioning import created, touch


async def _members(ctx: WriteContext, household: HouseholdRow) -> dict[uuid.UUID, Individual]:
    found = await repository.active_members(ctx.session, [household.id], for_update=True)
    return {person.id: person for person in found.get(household.id, [])}


def _member(members: dict[uuid.UUID, Individual], individual_id: uuid.UUID) -> Individual:
    person = members.get(individual_id)
    if person is None:
        raise NotFound("This person is not a present member of the household.")
    return person


async def _finish(
    ctx: WriteContext,
    households: Sequence[HouseholdRow],
    action: str,
    detail: dict,
    people: Sequence[Individual] = (),
) -> None:
    """A new version of each household (its members changed) and of each person changed;
    rescore; audit. A household created by this change keeps version 1."""
    for household in households:
        household.updated_by = ctx.principal.subject
    touch(ctx.session, *households, *people)
    await repository.flush(ctx.session)
    await rescore_households(ctx.session, [h.id for h in households])
    for household in households:
        await ctx.audit.record_write(
            ctx.session, ctx.principal, action, "household", household.id, household.id, detail
        )


async def add_member(
    ctx: WriteContext, household_id: uuid.UUID, data: MemberAdd, expected_version: int | None
) -> HouseholdDocument:
    household = await held_for_change(ctx, household_id, expected_version)
    member = data.member
    if member.id and await repository.existing_individual_ids(ctx.session, [member.id]):
        raise Conflict("A person with this id is registered already.", existing_id=str(member.id))
    await check_identifiers_free(
        ctx.session, member.identifier_pairs(), regions=allowed_regions(ctx.principal)
    )
    position = await repository.next_roster_position(ctx.session, household.id)
    person = new_person(household.id, member, ctx.principal.subject, position=position)
    await add_people(
        ctx.session,
        household.id,
        [(person, member)],
        started_on=data.joined_on,
        reason=data.reason,
        actor=ctx.principal.subject,
    )
    household.member_count += 1
    await repository.flush(ctx.session)
    await flag_joining(ctx.session, ctx.settings, household, [(person, member)])
    await events.registry_event(ctx.session, events.EVENT_NEW_MEMBER, household.id, person.id)
    await _finish(
        ctx, [household], "member_joined", {"individual_id": str(person.id), "reason": data.reason}
    )
    return await document(ctx.session, household.id)


async def member_leaves(
    ctx: WriteContext,
    household_id: uuid.UUID,
    individual_id: uuid.UUID,
    data: MemberLeave,
    expected_version: int | None,
) -> HouseholdDocument:
    household = await held_for_change(ctx, household_id, expected_version)
    members = await _members(ctx, household)
    person = _member(members, individual_id)
    await leave(
        ctx.session,
        household,
        person,
        members.values(),
        on=data.left_on,
        reason=data.reason,
        actor=ctx.principal.subject,
    )
    person.status = "deceased" if data.reason == "death" else "left"
    if data.reason == "death":
        person.deceased_on = data.left_on
    await _finish(
        ctx,
        [household],
        "member_left",
        {"individual_id": str(person.id), "reason": data.reason},
        [person],
    )
    return await document(ctx.session, household.id)


async def change_head(
    ctx: WriteContext, household_id: uuid.UUID, data: HeadChange, expected_version: int | None
) -> HouseholdDocument:
    household = await held_for_change(ctx, household_id, expected_version)
    members = await _members(ctx, household)
    new_head = _member(members, data.individual_id)
    if new_head.relationship_to_head == "head":
        raise Conflict("This person is the head already.")
    old_head = next((m for m in members.values() if m.relationship_to_head == "head"), None)
    if old_head is not None:
        if data.former_head_relationship in (None, "head"):
            raise UnprocessableEntity(
                "Say what the former head becomes to the new head.",
                errors=[{"path": "body.former_head_relationship", "message": "required"}],
            )
        await record_relationship(
            ctx.session,
            household.id,
            old_head,
            data.former_head_relationship,
            on=data.changed_on,
            actor=ctx.principal.subject,
        )
        await repository.flush(ctx.session)  # the old head steps down before the new one steps up
    await record_relationship(
        ctx.session, household.id, new_head, "head", on=data.changed_on, actor=ctx.principal.subject
    )
    detail = {"individual_id": str(new_head.id), "reason": data.reason}
    changed = [new_head, *([old_head] if old_head is not None else [])]
    await _finish(ctx, [household], "head_changed", detail, changed)
    return await document(ctx.session, household.id)


async def split(
    ctx: WriteContext, household_id: uuid.UUID, data: Split, expected_version: int | None
) -> tuple[HouseholdDocument, HouseholdDocument]:
    """Members leave to found a new household. Returns (this household, the new one)."""
    session, actor = ctx.session, ctx.principal.subject
    household = await held_for_change(ctx, household_id, expected_version)
    members = await _members(ctx, household)
    moving = {m.individual_id: m.relationship_to_head for m in data.members}
    for individual_id in moving:
        _member(members, individual_id)
    staying = [m for m in members.values() if m.id not in moving]
    if not staying:
        raise Conflict("Everyone would leave: register the move as a change of location instead.")
    head_moves = any(members[i].relationship_to_head == "head" for i in moving)
    new_head = None
    if head_moves:
        new_head = next((m for m in staying if m.id == data.remaining_head_id), None)
        if new_head is None:
            raise UnprocessableEntity(
                "The head leaves: name who heads the household that stays.",
                errors=[{"path": "body.remaining_head_id", "message": "a member who stays"}],
            )
    location = await resolve_location(session, data.location.locality_code, data.location.area)
    ensure_region(ctx.principal, location.region_code)
    new_id = data.new_household_id or uuid.uuid4()
    if await repository.existing_household_ids(session, [new_id]):
        raise Conflict("A household with this id exists already.", existing_id=str(new_id))

    consent = {column: getattr(household, column) for column in columns_of("consent")}
    founded = HouseholdRow(
        id=new_id,
        **location_columns(location),
        address=data.location.address,
        **gps_columns(data.location.gps),
        **section_columns("living_conditions", data.living_conditions),
        displacement_status=data.displacement_status or household.displacement_status,
        registration_source=household.registration_source,
        registration_date=data.split_on,
        **consent,
        member_count=len(moving),
        created_by=actor,
        updated_by=actor,
    )
    session.add(founded)
    created(session, founded)
    await repository.flush(session)
    await _move(
        ctx,
        [(members[i], relationship) for i, relationship in moving.items()],
        household.id,
        founded.id,
        data.split_on,
        "split",
        data.note,
    )
    await repository.flush(session)
    if new_head is not None:
        await record_relationship(
            session, household.id, new_head, "head", on=data.split_on, actor=actor
        )
    household.member_count = len(staying)
    detail = {"new_household_id": str(founded.id), "moved": len(moving)}
    moved_people = [members[i] for i in moving]
    if new_head is not None:
        moved_people.append(new_head)
    await _finish(ctx, [household, founded], "split", detail, moved_people)
    return await document(session, household.id), await document(session, founded.id)


async def _move(
    ctx: WriteContext,
    people: list[tuple[Individual, str]],
    source_id: uuid.UUID,
    target_id: uuid.UUID,
    on: date,
    reason: str,
    note: str | None,
    *,
    first_position: int = 1,
) -> None:
    """People leave one household for another: their membership there is closed, a new
    one opened (each naming the other household), their record follows. They take the
    target's places from `first_position` on, in the order given."""
    session, actor = ctx.session, ctx.principal.subject
    await repository.close_memberships(
        session,
        source_id,
        [person.id for person, _ in people],
        ended_on=on,
        reason=reason,
        related_household_id=target_id,
    )
    for position, (person, relationship) in enumerate(people, first_position):
        person.household_id = target_id
        person.roster_position = position
        person.relationship_to_head = relationship
        person.updated_by = actor
        session.add(
            Membership(
                household_id=target_id,
                individual_id=person.id,
                relationship_to_head=relationship,
                started_on=on,
                start_reason=reason,
                related_household_id=source_id,
                recorded_by=actor,
                note=note,
            )
        )


async def merge(
    ctx: WriteContext, household_id: uuid.UUID, data: Merge, expected_version: int | None
) -> HouseholdDocument:
    """The source household's members join this one; the source is closed as merged."""
    session = ctx.session
    if data.source_household_id == household_id:
        raise UnprocessableEntity(
            "A household cannot merge into itself.",
            errors=[{"path": "body.source_household_id", "message": "another household"}],
        )
    household = await held_for_change(ctx, household_id, expected_version)
    source = await repository.households.find(session, data.source_household_id, for_update=True)
    if source is None:
        raise NotFound("No such source household.")
    ensure_region(ctx.principal, source.region_code)
    if source.status != "active":
        raise Conflict(f"The source household is {source.status}.")
    joining = await _members(ctx, source)
    given = {m.individual_id: m.relationship_to_head for m in data.members}
    if set(given) != set(joining):
        raise UnprocessableEntity(
            "List every present member of the source household, and only them.",
            errors=[{"path": "body.members", "message": "must match the source's members"}],
        )
    after_last = await repository.next_roster_position(session, household.id)
    await _move(
        ctx,
        [(joining[i], relationship) for i, relationship in given.items()],
        source.id,
        household.id,
        data.merged_on,
        "merge",
        data.note,
        first_position=after_last,
    )
    household.member_count += len(joining)
    source.member_count = 0
    source.status = "merged"
    source.merged_into_id = household.id
    await _finish(
        ctx,
        [household, source],
        "merge",
        {"source_household_id": str(source.id), "target_household_id": str(household.id)},
        list(joining.values()),
    )
    return await document(session, household.id)
