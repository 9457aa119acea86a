"""What a field app sends in a sync batch and gets back, and what the change feed answers.

The batch's envelope is checked as a whole (at most 500 operations); each operation is
validated on its own, so one malformed item is answered `invalid` and the others go ahead.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field, PlainValidator, TypeAdapter, ValidationError

from services.beneficiaries.records.schemas import (
    HeadChange,
    Household,
    HouseholdWrite,
    IndividualUpdate,
    MemberAdd,
    MemberLeave,
)
from shared.free_json import NUL_MESSAGE, nul_paths, within_depth
from shared.schemas import InputModel

MAX_OPERATIONS = 500

BaseVersion = Annotated[
    int, Field(ge=1, description="The version (ETag number) the device changed.")
]


class HouseholdPut(InputModel):
    """Register a household under the device's id, or replace it whole. Sent again (in
    this batch or a later one) it answers `unchanged`, whether or not the members carry the
    ids the first answer gave: members without ids are matched by name, sex and birth date
    (see the API guide)."""

    op: Literal["household.put"]
    household_id: uuid.UUID
    base_version: BaseVersion | None = Field(
        default=None, description="Absent or null: the device created this household offline."
    )
    household: HouseholdWrite


class MemberAddOperation(MemberAdd):
    op: Literal["member.add"]
    household_id: uuid.UUID
    base_version: BaseVersion


class MemberLeaveOperation(MemberLeave):
    op: Literal["member.leave"]
    household_id: uuid.UUID
    individual_id: uuid.UUID
    base_version: BaseVersion


class MemberUpdateOperation(InputModel):
    op: Literal["member.update"]
    individual_id: uuid.UUID
    base_version: BaseVersion = Field(description="The person's version, not the household's.")
    changes: IndividualUpdate


class HeadChangeOperation(HeadChange):
    op: Literal["head.change"]
    household_id: uuid.UUID
    base_version: BaseVersion


Operation = Annotated[
    HouseholdPut
    | MemberAddOperation
    | MemberLeaveOperation
    | MemberUpdateOperation
    | HeadChangeOperation,
    Field(discriminator="op"),
]
OPERATION_NAMES = ("household.put", "member.add", "member.leave", "member.update", "head.change")
_operation = TypeAdapter[Operation](Operation)


class FieldError(BaseModel):
    path: str
    message: str


class InvalidOperation(Exception):
    def __init__(self, op: str | None, errors: list[dict[str, str]]) -> None:
        super().__init__("invalid operation")
        self.op = op
        self.errors = errors


def parse_operation(raw: Any) -> Operation:
    """One operation, or `InvalidOperation` with its field errors (paths inside the
    operation: `household.members.0.birth_date`)."""
    op = raw.get("op") if isinstance(raw, dict) else None
    unstorable = nul_paths(raw)
    if unstorable:
        raise InvalidOperation(
            op if op in OPERATION_NAMES else None,
            [{"path": path, "message": NUL_MESSAGE} for path in unstorable],
        )
    try:
        return _operation.validate_python(raw)
    except ValidationError as exc:
        errors = []
        for error in exc.errors(include_url=False, include_input=False):
            location = list(error["loc"])
            if location and location[0] == op:  # the union's tag: not part of the item
                location = location[1:]
            elif error["type"].startswith("union_tag_"):
                location = ["op"]
            errors.append(
                {"path": ".".join(str(part) for part in location), "message": error["msg"]}
            )
        raise InvalidOperation(op if op in OPERATION_NAMES else None, errors) from None


class SyncBatch(InputModel):
    """Up to 500 operations, applied in order, each on its own."""

    device_id: str | None = Field(
        default=None, max_length=64, description="The sending device, kept in the audit trail."
    )
    # Each item is validated on its own (parse_operation) so one malformed operation is
    # answered `invalid` and the others go ahead; the document still describes them.
    operations: list[
        Annotated[Any, PlainValidator(within_depth, json_schema_input_type=Operation)]
    ] = Field(
        max_length=MAX_OPERATIONS,
        description="Each one of: household.put, member.add, member.leave, member.update, "
        "head.change, told apart by `op`; each is validated on its own.",
    )


ItemStatus = Literal["created", "updated", "unchanged", "conflict", "invalid", "forbidden"]


class ItemResult(BaseModel):
    index: int
    op: str | None
    status: ItemStatus
    household_id: uuid.UUID | None = None
    individual_id: uuid.UUID | None = None
    version: int | None = Field(
        default=None,
        description="The record's version after the operation (the person's for "
        "member.update): the next base_version.",
    )
    household_version: int | None = Field(
        default=None, description="member.update: the household's new version."
    )
    message: str | None = None
    reason: str | None = Field(default=None, description="The problem type, e.g. `stale-version`.")
    details: dict[str, Any] | None = Field(
        default=None, description="What the problem names, e.g. the record holding an identifier."
    )
    errors: list[FieldError] | None = None
    current: Household | None = Field(
        default=None, description="conflict: the household as the server has it now."
    )
    current_version: int | None = None


class SyncBatchResult(BaseModel):
    results: list[ItemResult]
    counts: dict[ItemStatus, int]


class Change(BaseModel):
    household_id: uuid.UUID
    version: int
    household: Household


class ChangesPage(BaseModel):
    changes: list[Change]
    next_cursor: str = Field(description="Send it back as `since` next time.")
    has_more: bool = Field(description="More changes are waiting: ask again at once.")
