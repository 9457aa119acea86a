from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    StrictInt,
    StringConstraints,
)

from services.beneficiaries.vocabulary import BenefitPeriod, EnrollmentStatus, ProgrammeStatus
from shared.free_json import within_depth
from shared.money import CurrencyCode
from shared.schemas import InputModel, not_emptied

ProgrammeCode = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{1,31}$")]
# Money and thresholds are whole numbers: 30000.0 or "30000" is refused, not coerced.
Amount = Annotated[StrictInt, Field(ge=0, le=10**15)]
Threshold = Annotated[StrictInt, Field(gt=0, le=10**12)]


def _not_blank(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


Reason = Annotated[str, StringConstraints(max_length=1000), AfterValidator(_not_blank)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=200), AfterValidator(_not_blank)]


class RuleComparison(BaseModel):
    """A field compared with a value: `{"field": "area", "op": "eq", "value": "rural"}`."""

    field: str = Field(description="A household field (or, in a member rule, a member field).")
    op: Literal["eq", "ne", "in", "not_in", "lt", "le", "gt", "ge"]
    value: Any = Field(description="A value of the field's type; a list for in / not_in.")


class RuleAll(BaseModel):
    all: list[RuleForm] = Field(description="Every rule holds.")


class RuleAny(BaseModel):
    any: list[RuleForm] = Field(description="At least one rule holds.")


class RuleNot(BaseModel):
    not_: RuleForm = Field(alias="not", description="The rule does not hold.")


class RuleAnyMember(BaseModel):
    any_member: RuleForm = Field(description="Some active member satisfies this member rule.")


class RuleCountMembers(BaseModel):
    count_members: RuleForm = Field(description="A member rule.")
    op: Literal["eq", "ne", "lt", "le", "gt", "ge"]
    value: int = Field(description="How many active members satisfy it, compared with op.")


RuleForm = RuleAll | RuleAny | RuleNot | RuleComparison | RuleAnyMember | RuleCountMembers
for _rule in (RuleAll, RuleAny, RuleNot, RuleAnyMember, RuleCountMembers):
    _rule.model_rebuild()
# Checked by programmes/rules.py when saved (its errors name the rule's path); the models
# above only describe the form to integrators.
Rules = Annotated[dict[str, Any], PlainValidator(within_depth, json_schema_input_type=RuleForm)]
_ELIGIBILITY_HELP = (
    "Conditions in the rule form: all/any/not, {field, op, value} on household fields, "
    "any_member and count_members on member fields. Checked when saved."
)


class ProgrammeCreate(InputModel):
    code: ProgrammeCode = Field(description="A short slug, e.g. `pnsf`; never changes.")
    name_fr: Name
    name_en: Name
    description: str | None = Field(default=None, max_length=4000)
    pmt_max_consumption: Threshold | None = Field(
        default=None,
        description="Eligible when predicted consumption (DJF per person per year) is at most "
        "this. Empty: no PMT condition.",
    )
    eligibility: Rules | None = Field(default=None, description=_ELIGIBILITY_HELP)
    benefit_amount: Amount = Field(description="Per period, in minor units (DJF: francs).")
    benefit_currency: CurrencyCode = "DJF"
    benefit_period: BenefitPeriod
    status: ProgrammeStatus = "active"
    start_date: date | None = None
    end_date: date | None = None


class ProgrammeUpdate(InputModel):
    """Only the fields sent change; `null` clears an optional field. The code never changes:
    payrolls and statistics are keyed on it."""

    name_fr: Name | None = None
    name_en: Name | None = None
    description: str | None = Field(default=None, max_length=4000)
    pmt_max_consumption: Threshold | None = None
    eligibility: Rules | None = Field(default=None, description=_ELIGIBILITY_HELP)
    benefit_amount: Amount | None = None
    benefit_currency: CurrencyCode | None = None
    benefit_period: BenefitPeriod | None = None
    status: ProgrammeStatus | None = None
    start_date: date | None = None
    end_date: date | None = None

    _not_emptied = not_emptied(
        "name_fr", "name_en", "benefit_amount", "benefit_currency", "benefit_period", "status"
    )


class Programme(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    code: str
    name_fr: str
    name_en: str
    description: str | None
    pmt_max_consumption: int | None
    eligibility: dict[str, Any] | None
    benefit_amount: int
    benefit_currency: str
    benefit_period: str
    status: str
    start_date: date | None
    end_date: date | None
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str | None


class EligibilityReason(BaseModel):
    path: str = Field(description="Which condition: `pmt` or a path into the rule.")
    condition: str
    found: Any = Field(description="What the household has instead (null: not recorded).")


class Eligibility(BaseModel):
    """The outcome of the eligibility check, as stored with an enrollment."""

    eligible: bool
    checked_on: date
    pmt: dict[str, Any]
    rule: dict[str, Any]
    reasons: list[EligibilityReason]
    overridden: bool = False


class EnrollmentCreate(InputModel):
    household_id: uuid.UUID
    enrolled_on: date | None = Field(default=None, description="Default: today.")
    override_reason: Reason | None = Field(
        default=None,
        description="Enroll although not eligible (data_manager or admin only), and why.",
    )


class StatusChange(InputModel):
    effective_on: date | None = Field(default=None, description="Default: today.")
    reason: Reason


class EnrollmentEvent(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_status: str | None
    to_status: str
    effective_on: date
    reason: str | None
    actor: str | None
    request_id: str | None
    recorded_at: datetime


class Enrollment(BaseModel):
    id: uuid.UUID
    programme: str = Field(description="The programme's code.")
    household_id: uuid.UUID
    status: EnrollmentStatus
    enrolled_on: date
    status_since: date
    eligibility: dict[str, Any]
    override_reason: str | None
    overridden_by: str | None
    version: int
    created_at: datetime
    updated_at: datetime
    created_by: str | None


class EnrollmentWithHistory(Enrollment):
    history: list[EnrollmentEvent]


class EligibilityCheck(BaseModel):
    programme: str
    household_id: uuid.UUID
    eligibility: Eligibility
