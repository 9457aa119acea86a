"""The one filter of every answer to a partner: the partner's active agreement, turned into
SQL conditions (which households and people it may see: its regions, programmes and legal
statuses, and only households whose consent covers partner sharing), the fields it may see
(nothing else is read from the tables), and its identifiers (shown or pseudonymised).

`partner_access` is the dependency every partner endpoint starts with: it finds the
agreement, refuses (403, naming why) when there is none, it has expired or today's quota is
used up, and counts the request. `PartnerAccess.served` counts and audits what was returned.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import any_, exists, func, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from services.beneficiaries.clock import today
from services.beneficiaries.config import BeneficiariesSettings
from services.beneficiaries.models import (
    DataSharingAgreement,
    Enrollment,
    Household,
    Individual,
    Programme,
)
from services.beneficiaries.partners import pseudonyms, repository
from services.beneficiaries.partners.fields import HOUSEHOLD_REFERENCES, IDENTIFIER_FIELDS
from shared.audit import AuditTrail
from shared.auth import Principal, require_roles
from shared.db import Database, DbSession
from shared.errors import Forbidden

PARTNER_SHARING = "partner_sharing"
# Partners, and other government systems exchanging under an agreement of their own.
PARTNER_ROLES = ("partner", "system")
# A household's member in a subquery about its household (`EXISTS (SELECT … FROM
# individual AS member WHERE member.household_id = household.id …)`). One alias for every
# such subquery (each is its own scope in SQL): an ORM alias finds each of its columns
# the first time it is used, at a cost of about 2 ms a column, so a new alias per query
# cost a 10-criterion search more time than its SQL.
MEMBER = aliased(Individual, name="member")


class AgreementRefused(Forbidden):
    """403 naming why: `reason` is `no-agreement`, `agreement-expired`,
    `agreement-not-yet-valid` or `quota-exhausted`."""

    type, title = "agreement-refused", "No active data-sharing agreement allows this"

    def __init__(self, reason: str, detail: str, **extensions: Any) -> None:
        super().__init__(detail, reason=reason, **extensions)
        self.reason = reason


@dataclass(frozen=True)
class PartnerScope:
    """What one agreement lets its partner see."""

    agreement_id: uuid.UUID
    partner_id: str
    fields: frozenset[str]
    programmes: tuple[str, ...] | None
    regions: tuple[str, ...] | None
    legal_statuses: tuple[str, ...] | None
    query_types: frozenset[str]
    pseudonymise: bool
    key: bytes
    signing_keys: tuple[Mapping[str, str], ...] = ()
    callback_uris: tuple[str, ...] = ()
    agreement_version: int = 0

    @classmethod
    def of(cls, agreement: DataSharingAgreement, secret: bytes) -> PartnerScope:
        def optional(values: list[str] | None) -> tuple[str, ...] | None:
            return tuple(values) if values is not None else None

        return cls(
            agreement_id=agreement.id,
            partner_id=agreement.partner_id,
            fields=frozenset(agreement.allowed_fields),
            programmes=optional(agreement.allowed_programmes),
            regions=optional(agreement.allowed_regions),
            legal_statuses=optional(agreement.allowed_legal_statuses),
            query_types=frozenset(agreement.allowed_query_types),
            pseudonymise=agreement.identifiers == "pseudonymised",
            key=pseudonyms.partner_key(secret, agreement.partner_id, agreement.pseudonym_salt),
            signing_keys=tuple(agreement.signing_keys or ()),
            callback_uris=tuple(agreement.callback_uris or ()),
            agreement_version=agreement.version,
        )

    def allows(self, name: str) -> bool:
        return name in self.fields

    def allowed(self, names: Iterable[str]) -> list[str]:
        return [name for name in names if name in self.fields]

    # Rows

    def person_conditions(self, person: Any = Individual) -> list[ColumnElement[bool]]:
        """A present person of the agreement's legal statuses."""
        conditions: list[ColumnElement[bool]] = [person.status == "active"]
        if self.legal_statuses is not None:
            conditions.append(person.legal_status.in_(self.legal_statuses))
        return conditions

    def household_size(self) -> Any:
        """A household's size as this partner may count it: its present members of the
        agreement's legal statuses (all of them when it names none)."""
        if self.legal_statuses is None:
            return Household.member_count
        member = MEMBER
        return (
            select(func.count())
            .select_from(member)
            .where(member.household_id == Household.id, *self.person_conditions(member))
            .scalar_subquery()
        )

    def head_covered(self) -> Any:
        """Whether a household's head is a person the agreement covers (always, when it
        names no legal status)."""
        if self.legal_statuses is None:
            return true()
        head = MEMBER
        return exists().where(
            head.household_id == Household.id,
            head.relationship_to_head == "head",
            *self.person_conditions(head),
        )

    def household_conditions(self) -> list[ColumnElement[bool]]:
        """An active household that consented to partner sharing, in the agreement's
        regions, enrolled (now) in one of its programmes, with a present member of its
        legal statuses."""
        h = Household
        conditions: list[ColumnElement[bool]] = [
            h.status == "active",
            h.consent_given.is_(True),
            any_(h.consent_scope) == PARTNER_SHARING,
        ]
        if self.regions is not None:
            conditions.append(h.region_code.in_(self.regions))
        if self.programmes is not None:
            conditions.append(
                exists().where(
                    Enrollment.household_id == h.id,
                    Enrollment.status != "exited",
                    Enrollment.programme_id == Programme.id,
                    Programme.code.in_(self.programmes),
                )
            )
        if self.legal_statuses is not None:
            member = MEMBER
            conditions.append(
                exists().where(member.household_id == h.id, *self.person_conditions(member))
            )
        return conditions

    # Values

    def project(
        self, row: Mapping[str, Any], household_id: uuid.UUID | None = None
    ) -> dict[str, Any]:
        """The allowed fields of a row, identifiers pseudonymised where the agreement says:
        the last guard before a value leaves the service. `household_id`: the row's
        household (its registry number's pseudonym is the household's)."""
        return {
            name: self.reference(
                name, household_id if name in HOUSEHOLD_REFERENCES and household_id else value
            )
            if self.pseudonymise
            else value
            for name, value in row.items()
            if name in self.fields
        }

    def reference(self, name: str, value: Any) -> Any:
        """A field's value as this partner sees it (for a household reference, pass the
        household's id)."""
        if value is None or not self.pseudonymise or name not in IDENTIFIER_FIELDS:
            return value
        if isinstance(value, list):
            return [self.reference(name, item) for item in value]
        return self.pseudonym(name, value)

    def pseudonym(self, name: str, value: Any) -> str:
        if name in HOUSEHOLD_REFERENCES:
            return pseudonyms.pseudonym(self.key, pseudonyms.HOUSEHOLD, str(value))
        if name == "individual_id":
            return pseudonyms.pseudonym(self.key, pseudonyms.INDIVIDUAL, str(value))
        kind = "phone" if name == "head_phone" else name
        return pseudonyms.pseudonym(self.key, kind, str(value))


@dataclass
class PartnerAccess:
    """A partner's request under its agreement."""

    scope: PartnerScope
    principal: Principal
    session: AsyncSession
    audit: AuditTrail
    day: date
    database: Database

    async def served(
        self,
        endpoint: str,
        households: Sequence[uuid.UUID] = (),
        people: Sequence[tuple[uuid.UUID, uuid.UUID | None]] = (),
        *,
        again: int = 0,
    ) -> None:
        """Count the records returned and put the access on the audit trail: one row for
        the request (with its agreement), one per household and person read. `again`:
        records returned once more (a stored answer fetched again), each on the trail
        from the request that first read it."""
        records = len(households) + len(people) + again
        if records:
            # Committed at once, like the request count: inside the request's transaction,
            # the counter's row lock would be held until the request commits, and every
            # concurrent request of the partner would wait for it to count itself.
            async with self.database.reader() as session, session.begin():
                await repository.add_records(session, self.scope.agreement_id, self.day, records)
        detail = {"agreement_id": str(self.scope.agreement_id), "partner_id": self.scope.partner_id}
        # The access itself, as a read of the agreement it was served under (queued with
        # the record reads: written in batches, off the request's path).
        await self.audit.record_reads(
            self.principal,
            "agreement",
            [(self.scope.agreement_id, None)],
            {**detail, "endpoint": endpoint, "records": records},
        )
        await self.audit.record_reads(
            self.principal, "household", [(h, h) for h in households], detail
        )
        await self.audit.record_reads(self.principal, "individual", people, detail)


def active_agreement(
    agreements: Sequence[DataSharingAgreement], on: date, partner_id: str
) -> DataSharingAgreement:
    """The agreement in force on `on`, or why there is none."""
    for agreement in agreements:
        if agreement.valid_from <= on <= agreement.valid_to:
            return agreement
    if not agreements:
        raise AgreementRefused(
            "no-agreement", f"Partner {partner_id} has no data-sharing agreement with the registry."
        )
    upcoming = [a for a in agreements if a.valid_from > on]
    if upcoming:
        first = min(upcoming, key=lambda a: a.valid_from)
        raise AgreementRefused(
            "agreement-not-yet-valid",
            f"The data-sharing agreement starts on {first.valid_from.isoformat()}.",
            agreement_id=str(first.id),
        )
    last = max(agreements, key=lambda a: a.valid_to)
    raise AgreementRefused(
        "agreement-expired",
        f"The data-sharing agreement expired on {last.valid_to.isoformat()}.",
        agreement_id=str(last.id),
    )


async def _take_request(database: Database, agreement: DataSharingAgreement, on: date) -> bool:
    """Counted apart from the request's own transaction (committed at once): a request
    accepted is counted even if it then fails; one refused for the quota is not."""
    async with database.reader() as session, session.begin():
        return await repository.take_request(
            session, agreement.id, on, agreement.daily_request_quota
        )


async def open_access(
    session: AsyncSession,
    database: Database,
    principal: Principal,
    settings: BeneficiariesSettings,
    audit: AuditTrail,
    *,
    count: bool = True,
) -> PartnerAccess:
    if not principal.partner_id:
        raise AgreementRefused("no-agreement", "The token names no partner.")
    on = today()
    agreement = active_agreement(
        await repository.of_partner(session, principal.partner_id), on, principal.partner_id
    )
    if count and not await _take_request(database, agreement, on):
        raise AgreementRefused(
            "quota-exhausted",
            f"Today's quota of {agreement.daily_request_quota} requests under the "
            "data-sharing agreement is used up; it resets at midnight (Djibouti time).",
            agreement_id=str(agreement.id),
        )
    scope = PartnerScope.of(agreement, settings.pseudonym_key_material())
    return PartnerAccess(scope, principal, session, audit, on, database)


def _partner_access(*, count: bool) -> Callable[..., Awaitable[PartnerAccess]]:
    """The dependency opening a partner's access; `count`: the request uses its quota."""

    async def dependency(
        request: Request,
        session: DbSession,
        principal: Annotated[Principal, Depends(require_roles(*PARTNER_ROLES))],
    ) -> PartnerAccess:
        state = request.app.state
        return await open_access(
            session, state.database, principal, state.settings, state.audit, count=count
        )

    return dependency


# A partner's request for data, under its active agreement (counted against its quota).
Partner = Annotated[PartnerAccess, Depends(_partner_access(count=True))]
# A partner reading its own agreement's terms (no data: not counted).
PartnerTerms = Annotated[PartnerAccess, Depends(_partner_access(count=False))]
