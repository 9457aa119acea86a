"""`POST /sync/batch`: a field app's offline work, up to 500 operations, each answered on
its own (created, updated, unchanged, conflict, invalid, forbidden).

Every operation runs in its own savepoint: one that fails leaves nothing behind and the
others are kept. An operation whose base version is stale is a conflict, unless what it would
do is already there (the device retrying after a lost answer): that is `unchanged`.

Most of a batch is usually households registered offline. Through the one-household service
each costs ~10-20 ms (a dozen round trips, duplicate search, scoring, audit), too slow for 500
in the 2 s target, so those go through a fast path: checked together in one query (ids,
unique identifiers and submissions still free), written together with the bulk writer's
COPY, their people flagged for duplicates in a few statements (`flag_many`), one audit row
per household written in one COPY. Anything the fast path is not sure about (a clash, a
locality it cannot resolve, another region, an item touching what an earlier item touches)
goes through the one-household services in batch order, so the answers are the ones those
give. Operations on existing records always do.

Order: the fast path's households are written before the other operations run. That is
the same as running everything in batch order, because a household takes the fast path
only if no earlier operation of the batch mentions its id, its people's ids, their unique
identifiers or its submission, and if none of those is in the registry already: nothing an
earlier operation does can change its outcome, and it changes nothing an earlier operation
sees. (Duplicate flags are the exception: they pair the same people, perhaps the other way
round.)
"""

from __future__ import annotations

import contextlib
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from asyncpg.exceptions import IntegrityConstraintViolationError
from sqlalchemy.exc import IntegrityError

from services.beneficiaries.access import allowed_regions, ensure_region
from services.beneficiaries.areas import repository as areas
from services.beneficiaries.context import WriteContext
from services.beneficiaries.households import membership, service
from services.beneficiaries.households.bulk import register_households
from services.beneficiaries.individuals import service as individuals
from services.beneficiaries.models import AdminArea
from services.beneficiaries.pmt.service import active_formula
from services.beneficiaries.records import repository as records
from services.beneficiaries.records.documents import household_document
from services.beneficiaries.records.schemas import HouseholdWrite
from services.beneficiaries.records.stored import same_household, same_person, with_member_ids
from services.beneficiaries.sync import repository
from services.beneficiaries.sync.schemas import (
    HeadChangeOperation,
    HouseholdPut,
    InvalidOperation,
    MemberAddOperation,
    MemberLeaveOperation,
    MemberUpdateOperation,
    Operation,
    parse_operation,
)
from services.beneficiaries.vocabulary import UNIQUE_IDENTIFIER_TYPES
from shared.errors import (
    Conflict,
    NotFound,
    PreconditionFailed,
    ProblemError,
    UnprocessableEntity,
)
from shared.versioning import next_change

Result = dict[str, Any]


class StaleVersion(PreconditionFailed):
    type, title = "stale-version", "Stale base version"

    def __init__(self, what: str, current: int) -> None:
        super().__init__(
            f"The {what} changed since the device read it (now version {current}): "
            "merge the current record and send again."
        )


@dataclass
class _Item:
    index: int
    op: Operation


# -- the batch ---------------------------------------------------------------------------


async def apply(ctx: WriteContext, operations: list[Any]) -> dict[str, Any]:
    """Every operation's result, in order, and how many ended in each status."""
    results: dict[int, Result] = {}
    items: list[_Item] = []
    for index, raw in enumerate(operations):
        try:
            items.append(_Item(index, parse_operation(raw)))
        except InvalidOperation as invalid:
            results[index] = _result(
                index,
                invalid.op,
                "invalid",
                _ids_of(raw),
                errors=invalid.errors,
                message="This operation is malformed.",
            )

    fast, slow = await _plan(ctx, items)
    if fast:
        written = await _write_new_households(ctx, fast)
        if written:
            for new in fast:
                results[new.index] = _result(
                    new.index,
                    new.op.op,
                    "created",
                    {"household_id": new.op.household_id},
                    version=1,
                )
        else:
            slow = sorted(slow + [_Item(new.index, new.op) for new in fast], key=lambda i: i.index)
    for item in slow:
        results[item.index] = await _apply_one(ctx, item)

    ordered = [results[index] for index in range(len(operations))]
    return {"results": ordered, "counts": dict(Counter(r["status"] for r in ordered))}


async def _apply_one(ctx: WriteContext, item: _Item) -> Result:
    """One operation in its own savepoint, as a change of its own."""
    op = item.op
    next_change(ctx.session)
    try:
        async with ctx.session.begin_nested():
            result = await _HANDLERS[op.op](ctx, op)  # type: ignore[arg-type]
    except ProblemError as problem:
        return await _problem_result(ctx, item, problem)
    except IntegrityError:
        return await _problem_result(
            ctx,
            item,
            Conflict("This conflicts with a record saved at the same moment; send it again."),
        )
    return {"index": item.index, "op": op.op, **result}


# -- planning: which new households can be written together -----------------------------


def _unique_identifiers(data: HouseholdWrite) -> list[tuple[str, str]]:
    return [
        (i.type, i.value)
        for member in data.members
        for i in member.identifiers
        if i.type in UNIQUE_IDENTIFIER_TYPES
    ]


def _submission(data: HouseholdWrite) -> tuple[str, str] | None:
    registration = data.registration
    return (registration.source, registration.submission_id) if registration.submission_id else None


def _keys(op: Operation) -> set[tuple[Any, ...]]:
    """What an operation names: ids, unique identifiers, submission. Two operations naming
    nothing in common cannot change each other's outcome."""
    keys: set[tuple[Any, ...]] = set()
    household_id = getattr(op, "household_id", None)
    if household_id is not None:
        keys.add(("household", household_id))
    individual_id = getattr(op, "individual_id", None)
    if individual_id is not None:
        keys.add(("person", individual_id))
    members = []
    if isinstance(op, HouseholdPut):
        members = op.household.members
        if (submission := _submission(op.household)) is not None:
            keys.add(("submission", *submission))
    elif isinstance(op, MemberAddOperation):
        members = [op.member]
    for member in members:
        if member.id is not None:
            keys.add(("person", member.id))
        keys.update(
            ("identifier", i.type, i.value)
            for i in member.identifiers
            if i.type in UNIQUE_IDENTIFIER_TYPES
        )
    if isinstance(op, MemberUpdateOperation) and op.changes.identifiers:
        keys.update(
            ("identifier", i.type, i.value)
            for i in op.changes.identifiers
            if i.type in UNIQUE_IDENTIFIER_TYPES
        )
    return keys


@dataclass
class _New:
    """A household for the fast path, and its resolved locality."""

    index: int
    op: HouseholdPut
    locality: AdminArea


async def _plan(ctx: WriteContext, items: list[_Item]) -> tuple[list[_New], list[_Item]]:
    """Split the operations: new households for the fast path, the rest (in order)."""
    candidates = [
        item
        for item in items
        if isinstance(item.op, HouseholdPut)
        and item.op.base_version is None
        and item.op.household.id in (None, item.op.household_id)
    ]
    if not candidates:
        return [], items
    writes = [item.op.household for item in candidates]  # type: ignore[union-attr]
    taken = await records.taken(
        ctx.session,
        [item.op.household_id for item in candidates],  # type: ignore[union-attr]
        [m.id for data in writes for m in data.members if m.id is not None],
        [pair for data in writes for pair in _unique_identifiers(data)],
        [s for data in writes if (s := _submission(data)) is not None],
    )
    localities = await areas.get_many(ctx.session, {data.location.locality_code for data in writes})
    regions = allowed_regions(ctx.principal)
    candidate_ids = {id(item) for item in candidates}

    fast: list[_New] = []
    slow: list[_Item] = []
    named: set[tuple[Any, ...]] = set()  # by the operations before this one
    for item in items:
        keys = _keys(item.op)
        locality = None
        if id(item) in candidate_ids and not keys & named:
            data = item.op.household  # type: ignore[union-attr]
            locality = localities.get(data.location.locality_code)
            if (
                locality is None
                or locality.level != 3
                or not (data.location.area or locality.area)
                or (regions is not None and locality.region_code not in regions)
                or item.op.household_id in taken.households  # type: ignore[union-attr]
                or any(m.id in taken.individuals for m in data.members)
                or any(pair in taken.identifiers for pair in _unique_identifiers(data))
                or _submission(data) in taken.submissions
            ):
                locality = None
        if locality is not None:
            fast.append(_New(item.index, item.op, locality))  # type: ignore[arg-type]
        else:
            slow.append(item)
        named |= keys
    return fast, slow


# -- the fast path -----------------------------------------------------------------------


async def _write_new_households(ctx: WriteContext, new: list[_New]) -> bool:
    """Write the new households together; False (and nothing written) when the registry
    changed under us (another request registered the same thing a moment ago): the
    caller then takes them one by one."""
    session = ctx.session
    writes: list[HouseholdWrite] = []
    for household in new:
        data = household.op.household
        data.id = household.op.household_id
        for member in data.members:
            member.id = member.id or uuid.uuid4()
        writes.append(data)
    localities = {h.locality.code: h.locality for h in new}
    try:
        async with session.begin_nested():
            await register_households(
                ctx,
                writes,
                localities,
                formula=await active_formula(session),
                action="create",
                detail=lambda data: {
                    "members": len(data.members),
                    "source": data.registration.source,
                    "via": "sync",
                },
            )
    except (IntegrityError, IntegrityConstraintViolationError):
        return False
    return True


# -- one operation at a time -------------------------------------------------------------


async def _household_for_write(ctx: WriteContext, household_id: uuid.UUID) -> Any:
    household = await records.households.find(ctx.session, household_id, for_update=True)
    if household is None:
        raise NotFound("No household with this id.")
    ensure_region(ctx.principal, household.region_code)
    return household


def _check_base(what: str, base_version: int | None, current: int) -> None:
    if base_version != current:
        raise StaleVersion(what, current)


async def _household_put(ctx: WriteContext, op: HouseholdPut) -> Result:
    data, household_id = op.household, op.household_id
    ids = {"household_id": household_id}
    if data.id is not None and data.id != household_id:
        raise UnprocessableEntity(
            "The household's id differs from the operation's household_id.",
            errors=[{"path": "body.id", "message": "must match household_id"}],
        )
    stored = await records.stored_for_change(ctx.session, household_id)
    if stored is None:
        if op.base_version is not None:
            raise NotFound("No household with this id: send base_version null to register it.")
        created = await service.create(ctx, data, household_id)
        return {"status": "created", **ids, "version": created.version}
    household = stored.household
    ensure_region(ctx.principal, household.region_code)
    # Members sent without ids are the present ones they match: a resend (in this batch
    # or a later one) is recognised whether or not the device kept the ids.
    data = with_member_ids(stored, data)
    if op.base_version == household.version:
        # The service tells an identical household (unchanged) from a replacement.
        version, outcome = await service.replace_held(ctx, stored, data, op.base_version)
        return {"status": outcome, **ids, "version": version}
    if same_household(stored, data):
        return {"status": "unchanged", **ids, "version": household.version}
    if op.base_version is None:
        raise Conflict("A different household is registered under this id already.")
    raise StaleVersion("household", household.version)


async def _member_add(ctx: WriteContext, op: MemberAddOperation) -> Result:
    household = await _household_for_write(ctx, op.household_id)
    member = op.member
    if member.id is not None:
        person = await records.individuals.find(ctx.session, member.id)
        if person is not None and person.household_id == household.id:
            held = await records.identifier_pairs_of(ctx.session, person.id)
            if person.status == "active" and same_person(person, held, member):
                return {
                    "status": "unchanged",
                    "household_id": household.id,
                    "individual_id": member.id,
                    "version": household.version,
                }
    _check_base("household", op.base_version, household.version)
    if member.id is None:  # the id is chosen here, to answer with it
        op = op.model_copy(update={"member": member.model_copy(update={"id": uuid.uuid4()})})
    added = await membership.add_member(ctx, op.household_id, op, household.version)
    return {
        "status": "updated",
        "household_id": household.id,
        "individual_id": op.member.id,
        "version": added.version,
    }


async def _member_leave(ctx: WriteContext, op: MemberLeaveOperation) -> Result:
    household = await _household_for_write(ctx, op.household_id)
    ids = {"household_id": household.id, "individual_id": op.individual_id}
    person = await records.individuals.find(ctx.session, op.individual_id)
    if person is not None and not (
        person.household_id == household.id and person.status == "active"
    ):
        departure = await repository.last_departure(ctx.session, household.id, person.id)
        if departure == (op.left_on, op.reason):
            return {"status": "unchanged", **ids, "version": household.version}
    _check_base("household", op.base_version, household.version)
    left = await membership.member_leaves(
        ctx, op.household_id, op.individual_id, op, household.version
    )
    return {"status": "updated", **ids, "version": left.version}


async def _member_update(ctx: WriteContext, op: MemberUpdateOperation) -> Result:
    if await records.individuals.find(ctx.session, op.individual_id) is None:
        raise NotFound("No person with this id.")
    person, household = await individuals.held_for_change(ctx, op.individual_id)
    ids = {"household_id": person.household_id, "individual_id": person.id}
    if not await _would_change(ctx, person, op):
        return {
            "status": "unchanged",
            **ids,
            "version": person.version,
            "household_version": household.version if household else None,
        }
    _check_base("person", op.base_version, person.version)
    updated = await individuals.update_held(ctx, person, household, op.changes, person.version)
    return {
        "status": "updated",
        **ids,
        "version": updated.version,
        "household_version": household.version if household else None,
    }


async def _would_change(ctx: WriteContext, person: Any, op: MemberUpdateOperation) -> bool:
    if individuals.would_change(person, op.changes):
        return True
    if op.changes.identifiers is None:
        return False
    held = await records.identifier_pairs_of(ctx.session, person.id)
    return {(i.type, i.value) for i in op.changes.identifiers} != held


async def _head_change(ctx: WriteContext, op: HeadChangeOperation) -> Result:
    household = await _household_for_write(ctx, op.household_id)
    ids = {"household_id": household.id, "individual_id": op.individual_id}
    person = await records.individuals.find(ctx.session, op.individual_id)
    if (
        person is not None
        and person.household_id == household.id
        and person.status == "active"
        and person.relationship_to_head == "head"
    ):
        return {"status": "unchanged", **ids, "version": household.version}
    _check_base("household", op.base_version, household.version)
    changed = await membership.change_head(ctx, op.household_id, op, household.version)
    return {"status": "updated", **ids, "version": changed.version}


_HANDLERS: dict[str, Callable[[WriteContext, Any], Awaitable[Result]]] = {
    "household.put": _household_put,
    "member.add": _member_add,
    "member.leave": _member_leave,
    "member.update": _member_update,
    "head.change": _head_change,
}


# -- results -----------------------------------------------------------------------------

# Where a service's error paths (`body.x`) point inside each kind of operation.
_BODY_AT = {
    "household.put": "household.",
    "member.add": "",
    "member.leave": "",
    "member.update": "changes.",
    "head.change": "",
}


def _result(index: int, op: str | None, status: str, ids: dict[str, Any], **fields: Any) -> Result:
    return {"index": index, "op": op, "status": status, **ids, **fields}


def _ids_of(raw: Any) -> dict[str, Any]:
    """The ids a malformed operation names, when they can be read, to tell the device which
    record its answer is about."""
    found: dict[str, Any] = {}
    if isinstance(raw, dict):
        for key in ("household_id", "individual_id"):
            with contextlib.suppress(KeyError, ValueError):
                found[key] = uuid.UUID(str(raw[key]))
    return found


def _status_of(problem: ProblemError) -> str:
    if problem.status in (409, 412, 428):
        return "conflict"
    if problem.status == 403:
        return "forbidden"
    return "invalid"


def _target_ids(op: Operation) -> dict[str, Any]:
    ids: dict[str, Any] = {}
    if (household_id := getattr(op, "household_id", None)) is not None:
        ids["household_id"] = household_id
    if (individual_id := getattr(op, "individual_id", None)) is not None:
        ids["individual_id"] = individual_id
    elif isinstance(op, MemberAddOperation) and op.member.id is not None:
        ids["individual_id"] = op.member.id
    return ids


async def _problem_result(ctx: WriteContext, item: _Item, problem: ProblemError) -> Result:
    op = item.op
    status = _status_of(problem)
    extensions = dict(problem.extensions)
    errors = extensions.pop("errors", None)
    result = _result(
        item.index,
        op.op,
        status,
        _target_ids(op),
        message=problem.detail or problem.title,
        reason=problem.type,
    )
    extensions.pop("current_etag", None)  # HTTP's; the result has current_version
    if extensions:
        result["details"] = extensions
    if status == "invalid":
        prefix = _BODY_AT[op.op]
        result["errors"] = [
            {"path": _inside(error.get("path", ""), prefix), "message": error.get("message", "")}
            for error in errors or []
        ] or [{"path": "", "message": problem.detail or problem.title}]
    if status == "conflict":
        await _attach_current(ctx, op, result)
    return result


def _inside(path: str, prefix: str) -> str:
    if path == "body":
        return prefix.rstrip(".")
    return prefix + path.removeprefix("body.") if path.startswith("body.") else path


async def _attach_current(ctx: WriteContext, op: Operation, result: Result) -> None:
    """The household as it is now (the failed operation rolled back), when the caller may
    see it; for member.update, `current_version` is the person's."""
    session = ctx.session
    household_id = getattr(op, "household_id", None)
    person_version = None
    if isinstance(op, MemberUpdateOperation):
        person = await records.individuals.find(session, op.individual_id)
        if person is None:
            return
        household_id, person_version = person.household_id, person.version
        result["household_id"] = household_id
    if household_id is None:
        return
    current = await household_document(session, household_id)
    regions = allowed_regions(ctx.principal)
    if current is None or (regions is not None and current.region_code not in regions):
        return
    result["current"] = orjson.Fragment(current.seen_from(regions))
    result["current_version"] = person_version if person_version is not None else current.version
