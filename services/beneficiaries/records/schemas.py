"""What registrars send and read of households and people. Inputs refuse unknown fields;
categories are the closed lists of vocabulary.py, so PMT formulas and statistics see
consistent values."""

from __future__ import annotations

import re
import uuid
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from services.beneficiaries.areas.schemas import AreaCode
from services.beneficiaries.clock import today
from services.beneficiaries.vocabulary import (
    SHARED_IDENTIFIER_TYPES,
    Area,
    Asset,
    ConsentMethod,
    ConsentScope,
    CookingFuel,
    DisplacementStatus,
    DwellingType,
    EducationLevel,
    FloorMaterial,
    IdentifierType,
    LegalStatus,
    Lighting,
    RegistrationSource,
    Relationship,
    RoofMaterial,
    Sanitation,
    Sex,
    Shock,
    Tenure,
    WallMaterial,
    WashingtonGroupDomain,
    WaterSource,
)
from shared.schemas import InputModel

CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]

_NAME_CHARACTERS = re.compile(r"^[^\d<>{}\[\]@#$%^*=+|\\/~`\"]+$")
EARLIEST_BIRTH = date(1900, 1, 1)


def _clean_name(value: str) -> str:
    value = " ".join(value.split())
    if not value or not _NAME_CHARACTERS.match(value):
        raise ValueError("a name is letters, spaces, apostrophes and hyphens")
    return value


Name = Annotated[
    str,
    StringConstraints(min_length=1, max_length=100),
    AfterValidator(_clean_name),
    Field(json_schema_extra={"pattern": _NAME_CHARACTERS.pattern}),
]


def _not_future(value: date) -> date:
    if value > today():
        raise ValueError("cannot be in the future")
    return value


PastDate = Annotated[date, AfterValidator(_not_future)]


_PHONE_NOISE = re.compile(r"[\s\-.()]")
_LOCAL_PHONE = re.compile(r"\d{8}")
_E164 = re.compile(r"\+\d{8,15}")
_IDENTIFIER_NOISE = re.compile(r"[\s\-.]")
_IDENTIFIER = re.compile(r"[A-Z0-9/]{2,64}")


def normalise_identifier(id_type: str, value: str) -> str:
    """Identifiers compare as upper case without spaces, dashes or dots; phones as E.164
    (a bare 8-digit number is Djiboutian: +253)."""
    if id_type == "phone":
        digits = _PHONE_NOISE.sub("", value)
        if digits.startswith("00"):
            digits = "+" + digits[2:]
        if _LOCAL_PHONE.fullmatch(digits):
            digits = "+253" + digits
        if not _E164.fullmatch(digits):
            raise ValueError("a phone number is 8 local digits or +country and 8 to 15 digits")
        return digits
    cleaned = _IDENTIFIER_NOISE.sub("", value).upper()
    if not _IDENTIFIER.fullmatch(cleaned):
        raise ValueError("an identifier is 2 to 64 letters and digits")
    return cleaned


class IdentifierIn(InputModel):
    type: IdentifierType
    value: str = Field(min_length=1, max_length=80)

    @model_validator(mode="after")
    def _normalise(self) -> IdentifierIn:
        self.value = normalise_identifier(self.type, self.value)
        return self


class MemberIn(InputModel):
    id: uuid.UUID | None = Field(
        default=None, description="Set by the client for records created offline."
    )
    given_name: Name
    father_name: Name | None = None
    grandfather_name: Name | None = None
    sex: Sex
    birth_date: PastDate
    birth_date_estimated: bool = False
    relationship_to_head: Relationship
    legal_status: LegalStatus = "national"
    nationality: CountryCode | None = None
    country_of_origin: CountryCode | None = None
    identifiers: list[IdentifierIn] = Field(default=[], max_length=12)
    disability: dict[WashingtonGroupDomain, Annotated[int, Field(ge=1, le=4)]] = Field(
        default={},
        description="Washington Group short set: 1 no difficulty, 2 some, 3 a lot, 4 cannot.",
    )
    pregnant: bool = False
    lactating: bool = False
    education_level: EducationLevel | None = None
    occupation: str | None = Field(default=None, max_length=100)

    @field_validator("birth_date")
    @classmethod
    def _plausible_birth(cls, value: date) -> date:
        if value < EARLIEST_BIRTH:
            raise ValueError("is before 1900")
        return value

    @model_validator(mode="after")
    def _consistent(self) -> MemberIn:
        if (self.pregnant or self.lactating) and self.sex != "F":
            raise ValueError("only a woman can be recorded as pregnant or lactating")
        if len(self.identifier_pairs()) != len(self.identifiers):
            raise ValueError("the same identifier is listed twice")
        return self

    def identifier_pairs(self) -> set[tuple[str, str]]:
        """(type, value) of each identifier sent."""
        return {(i.type, i.value) for i in self.identifiers}


class Gps(InputModel):
    latitude: Decimal = Field(ge=-90, le=90, decimal_places=6)
    longitude: Decimal = Field(ge=-180, le=180, decimal_places=6)


class Location(InputModel):
    locality_code: AreaCode
    area: Area | None = Field(default=None, description="Defaults to the locality's.")
    address: str | None = Field(default=None, max_length=300)
    gps: Gps | None = None


class LivingConditions(InputModel):
    dwelling_type: DwellingType | None = None
    tenure: Tenure | None = None
    wall_material: WallMaterial | None = None
    roof_material: RoofMaterial | None = None
    floor_material: FloorMaterial | None = None
    rooms: int | None = Field(default=None, ge=0, le=50)
    water_source: WaterSource | None = None
    sanitation: Sanitation | None = None
    lighting: Lighting | None = None
    cooking_fuel: CookingFuel | None = None
    assets: list[Asset] = []
    shocks: list[Shock] = []

    @field_validator("assets", "shocks")
    @classmethod
    def _sorted_unique(cls, value: list[str]) -> list[str]:
        return sorted(set(value))


class Registration(InputModel):
    source: RegistrationSource
    date: PastDate
    enumerator_id: str | None = Field(default=None, max_length=64)
    device_id: str | None = Field(default=None, max_length=64)
    submission_id: str | None = Field(default=None, max_length=128)
    partner_id: str | None = Field(default=None, max_length=64)

    @model_validator(mode="after")
    def _source_details(self) -> Registration:
        if self.source == "field_app" and not (self.device_id and self.submission_id):
            raise ValueError("a field-app registration names its device and submission")
        if self.source == "partner_import" and not self.partner_id:
            raise ValueError("a partner import names its partner")
        return self


class Consent(InputModel):
    given: bool
    date: PastDate | None = None
    scope: list[ConsentScope] = []
    method: ConsentMethod | None = None
    notice_version: str | None = Field(default=None, max_length=16)

    @model_validator(mode="after")
    def _recorded(self) -> Consent:
        if self.given and not (self.date and self.method and self.scope):
            raise ValueError("given consent has a date, a method and a scope")
        self.scope = sorted(set(self.scope))
        return self


class GivenConsent(Consent):
    """The consent a write records. The registry keeps no personal data without it: a
    household that refuses is not registered (422 naming `consent.given`), and consent is
    not withdrawn by editing the record."""

    given: bool = Field(
        description="Must be true: without the household's consent nothing is registered."
    )

    @field_validator("given")
    @classmethod
    def _given(cls, value: bool) -> bool:
        if not value:
            raise ValueError(
                "the registry keeps no personal data without the household's consent: "
                "a household that refuses is not registered"
            )
        return value


def check_one_head(members: list[MemberIn]) -> None:
    heads = sum(member.relationship_to_head == "head" for member in members)
    if heads != 1:
        raise ValueError(f"a household has exactly one head ({heads} given)")


class HouseholdWrite(InputModel):
    """A whole household as registered: `POST /households`, `PUT /households/{id}`."""

    id: uuid.UUID | None = Field(
        default=None, description="Set by the client for records created offline."
    )
    location: Location
    living_conditions: LivingConditions = LivingConditions()
    displacement_status: DisplacementStatus = "none"
    registration: Registration
    consent: GivenConsent
    members: list[MemberIn] = Field(min_length=1, max_length=40)

    def identifier_pairs(self) -> set[tuple[str, str]]:
        """(type, value) of every member's identifiers."""
        return set().union(*(member.identifier_pairs() for member in self.members))

    @field_validator("members")
    @classmethod
    def _members(cls, members: list[MemberIn]) -> list[MemberIn]:
        check_one_head(members)
        ids = [m.id for m in members if m.id is not None]
        if len(ids) != len(set(ids)):
            raise ValueError("two members have the same id")
        seen: set[tuple[str, str]] = set()
        for member in members:
            for identifier in member.identifiers:
                pair = (identifier.type, identifier.value)
                if pair in seen and identifier.type not in SHARED_IDENTIFIER_TYPES:
                    raise ValueError(f"two members share the same {identifier.type}")
                seen.add(pair)
        return members


class LocationUpdate(InputModel):
    locality_code: AreaCode | None = None
    area: Area | None = None
    address: str | None = Field(default=None, max_length=300)
    gps: Gps | None = None


class HouseholdUpdate(InputModel):
    """`PATCH /households/{id}`: only what is sent changes. Members change through the
    membership operations and `PATCH /individuals/{id}`."""

    location: LocationUpdate | None = None
    living_conditions: LivingConditions | None = None
    displacement_status: DisplacementStatus | None = None
    consent: GivenConsent | None = None


class IdentifierRead(BaseModel):
    type: str
    value: str


class Member(BaseModel):
    id: uuid.UUID
    household_id: uuid.UUID | None
    status: str
    given_name: str
    father_name: str | None
    grandfather_name: str | None
    sex: str
    birth_date: date
    birth_date_estimated: bool
    age: int
    relationship_to_head: str
    legal_status: str
    nationality: str | None
    country_of_origin: str | None
    identifiers: list[IdentifierRead]
    disability: dict[str, int]
    has_disability: bool
    pregnant: bool
    lactating: bool
    education_level: str | None
    occupation: str | None
    version: int


class LocationRead(BaseModel):
    region_code: str
    commune_code: str
    locality_code: str
    area: str
    address: str | None
    gps: Gps | None


class Pmt(BaseModel):
    score: Decimal
    predicted_consumption: int = Field(description="DJF per person per year")
    formula_version: int | None
    computed_at: datetime | None


class DuplicateFlag(BaseModel):
    """A probable duplicate of a member, waiting for a data manager. One registered outside
    a registrar's regions shows them only `outside_your_regions`, without its ids."""

    pair_id: uuid.UUID
    individual_id: uuid.UUID
    candidate_id: uuid.UUID | None = None
    candidate_household_id: uuid.UUID | None = None
    candidate_region_code: str | None = None
    score: float
    outside_your_regions: bool = False


class Household(BaseModel):
    id: uuid.UUID
    registry_number: str
    status: str
    merged_into_id: uuid.UUID | None
    location: LocationRead
    living_conditions: LivingConditions
    displacement_status: str
    registration: Registration
    consent: Consent
    member_count: int
    members: list[Member]
    pmt: Pmt | None
    possible_duplicates: list[DuplicateFlag] = []
    version: int
    created_at: datetime
    updated_at: datetime


class HouseholdSummary(BaseModel):
    id: uuid.UUID
    registry_number: str
    status: str
    region_code: str
    locality_code: str
    area: str
    member_count: int
    head_name: str | None
    predicted_consumption: int | None
    registration_date: date
    version: int


class MembershipSpan(BaseModel):
    """A person's membership of the household as one relationship, from start to end."""

    model_config = ConfigDict(from_attributes=True)

    individual_id: uuid.UUID
    relationship_to_head: str
    started_on: date
    start_reason: str
    ended_on: date | None
    end_reason: str | None
    related_household_id: uuid.UUID | None
    note: str | None
    recorded_by: str
    recorded_at: datetime


class MemberAdd(InputModel):
    member: MemberIn
    joined_on: PastDate
    reason: Literal["birth", "marriage", "moved_in", "other"]
    note: str | None = Field(default=None, max_length=300)

    @model_validator(mode="after")
    def _not_head(self) -> MemberAdd:
        if self.member.relationship_to_head == "head":
            raise ValueError("a new member joins under the head; change the head afterwards")
        return self


class MemberLeave(InputModel):
    left_on: PastDate
    reason: Literal["moved_out", "death", "marriage", "other"]
    note: str | None = Field(default=None, max_length=300)


class HeadChange(InputModel):
    individual_id: uuid.UUID
    changed_on: PastDate
    reason: Literal["death", "departure", "incapacity", "household_decision", "other"]
    former_head_relationship: Relationship | None = Field(
        default=None,
        description="The former head's relationship to the new head (not needed when the "
        "former head has left).",
    )


class MemberRelationship(InputModel):
    individual_id: uuid.UUID
    relationship_to_head: Relationship


class Split(InputModel):
    """Some members leave to form a new household."""

    new_household_id: uuid.UUID | None = None
    members: list[MemberRelationship] = Field(min_length=1)
    location: Location
    living_conditions: LivingConditions = LivingConditions()
    displacement_status: DisplacementStatus | None = None
    split_on: PastDate
    remaining_head_id: uuid.UUID | None = Field(
        default=None, description="The new head of this household when its head leaves."
    )
    note: str | None = Field(default=None, max_length=300)

    @model_validator(mode="after")
    def _one_head(self) -> Split:
        heads = sum(m.relationship_to_head == "head" for m in self.members)
        if heads != 1:
            raise ValueError(f"the new household has exactly one head ({heads} given)")
        return self


class Merge(InputModel):
    """Another household's members join this one; the other is closed as merged."""

    source_household_id: uuid.UUID
    members: list[MemberRelationship] = Field(
        description="Every member of the source household and their relationship to this "
        "household's head."
    )
    merged_on: PastDate
    note: str | None = Field(default=None, max_length=300)

    @model_validator(mode="after")
    def _no_second_head(self) -> Merge:
        if any(m.relationship_to_head == "head" for m in self.members):
            raise ValueError("this household keeps its head; change it afterwards")
        return self


class IndividualUpdate(InputModel):
    """`PATCH /individuals/{id}`; `identifiers`, when sent, replaces the list."""

    given_name: Name | None = None
    father_name: Name | None = None
    grandfather_name: Name | None = None
    sex: Sex | None = None
    birth_date: PastDate | None = None
    birth_date_estimated: bool | None = None
    relationship_to_head: Relationship | None = None
    legal_status: LegalStatus | None = None
    nationality: CountryCode | None = None
    country_of_origin: CountryCode | None = None
    identifiers: list[IdentifierIn] | None = Field(default=None, max_length=12)
    disability: dict[WashingtonGroupDomain, Annotated[int, Field(ge=1, le=4)]] | None = None
    pregnant: bool | None = None
    lactating: bool | None = None
    education_level: EducationLevel | None = None
    occupation: str | None = Field(default=None, max_length=100)


class Individual(Member):
    """One person's record, whether or not in a household now."""

    registry_number: str | None
    merged_into_id: uuid.UUID | None
