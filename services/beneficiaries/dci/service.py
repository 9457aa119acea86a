"""DCI search: the envelope checked, each search request read against the partner's
agreement, searched, and answered in the `on-search` envelope (returned by the synchronous
search, posted to the partner's callback by the asynchronous one)."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.config import BeneficiariesSettings
from services.beneficiaries.dci import codes, counts, records, repository, signatures
from services.beneficiaries.dci.criteria import Criteria, read_request
from services.beneficiaries.dci.messages import (
    DciError,
    Rejected,
    SearchMessage,
    answer_header,
    check_header,
    envelope,
    now_ts,
    rejected,
)
from services.beneficiaries.partners.fields import HEAD_FIELDS, PROGRAMMES_FIELD
from services.beneficiaries.partners.scope import PartnerAccess, PartnerScope
from services.beneficiaries.programmes import repository as programmes
from services.beneficiaries.records.mapping import LOCATION_FIELDS

ENDPOINT = "dci.sync.search"
_HOUSEHOLD_LEVEL = {"household_id", "registry_number", *(f.name for f in LOCATION_FIELDS)}


def authenticate(access: PartnerAccess, message: SearchMessage) -> None:
    """The sender is the partner the token acts for, and the message carries its signature
    (when its agreement registers keys): err.sender_id.invalid, err.signature.*."""
    scope = access.scope
    if message.header.sender_id not in (scope.partner_id, access.principal.subject):
        raise DciError(
            403, codes.ERR_SENDER_ID, "header.sender_id is not the partner your token acts for."
        )
    signatures.verify(
        message.signature,
        message.raw_header,
        message.raw_message,
        message.header.sender_id,
        scope.signing_keys,
    )


async def accept(
    access: PartnerAccess,
    message: SearchMessage,
    settings: BeneficiariesSettings,
    *,
    action: str = "search",
    requests: str = "search_request",
) -> None:
    """The header's checks, and the message id remembered (refused when seen before):
    Rejected with the standard's reason code."""
    check_header(
        message,
        registry_id=settings.dci_registry_id,
        max_batch=settings.dci_max_batch,
        action=action,
        requests=requests,
    )
    fresh = await repository.remember_message(
        access.session,
        message.header.sender_id,
        message.header.message_id,
        message.transaction_id if isinstance(message.transaction_id, str) else None,
    )
    if not fresh:
        raise Rejected(
            codes.MESSAGE_ID_DUPLICATE, "header.message_id was used by an earlier message."
        )


async def search(
    access: PartnerAccess,
    message: SearchMessage,
    settings: BeneficiariesSettings,
    endpoint: str = ENDPOINT,
) -> dict[str, Any]:
    """The `on-search` answer (unsigned) of an authenticated message; `endpoint` names
    the access on the audit trail."""
    scope = access.scope
    registry_id = settings.dci_registry_id
    try:
        await accept(access, message, settings)
    except Rejected as reason:
        count = len(message.requests) if isinstance(message.requests, list) else 0
        header = answer_header(
            message, registry_id, status=codes.REJECTED, count=count, completed=0, reason=reason
        )
        await access.served(endpoint)
        return envelope(header, message.transaction_id, [])

    responses = []
    households: list[uuid.UUID] = []
    people: list[tuple[uuid.UUID, uuid.UUID | None]] = []
    seen: set[str] = set()
    for item in message.requests:
        reference_id = item.get("reference_id") if isinstance(item, dict) else None
        locale = item.get("locale") if isinstance(item, dict) else None
        try:
            criteria = read_request(item, seen, scope, max_page_size=settings.dci_max_page_size)
            answer = await run(
                access.scope, access.session, access.day, criteria, settings, households, people
            )
        except Rejected as error:
            responses.append(rejected(reference_id, error, locale))
            continue
        responses.append(answer)
    header = answer_header(
        message,
        registry_id,
        status=codes.SUCCEEDED,
        count=len(message.requests),
        completed=len(responses),
    )
    await access.served(endpoint, households, people)
    return envelope(header, message.transaction_id, responses)


async def run(
    scope: PartnerScope,
    session: AsyncSession,
    on: date,
    criteria: Criteria,
    settings: BeneficiariesSettings,
    households: list[uuid.UUID],
    people: list[tuple[uuid.UUID, uuid.UUID | None]],
) -> dict[str, Any]:
    """One search request's answer under `scope`, as the registry reads on day `on`; what
    it returns is added to `households` and `people`."""
    offset = (criteria.page_number - 1) * criteria.page_size
    if criteria.entity == "Group":
        conditions = [*scope.household_conditions(), *criteria.conditions]
        page = await repository.household_page(
            session,
            repository.household_fields(scope),
            conditions,
            criteria.order_by,
            offset,
            criteria.page_size + 1,
            on,
        )
        more = _fit(criteria, page)
        page = page[: criteria.page_size]
        total = await _total(
            scope,
            on,
            criteria,
            settings,
            len(page),
            more,
            lambda: repository.count_households(session, conditions),
        )
        ids = [household_id for household_id, _ in page]
        head_fields = HEAD_FIELDS.intersection(page[0][1]) if page else ()
        if head_fields:
            uncovered = await repository.uncovered_heads(session, scope, ids)
            # A head the agreement does not cover is not described.
            for household_id, row in page:
                if household_id in uncovered:
                    row.update(dict.fromkeys(head_fields))
        if scope.allows("member_count") and scope.legal_statuses is not None:
            # The size the partner may count: the members its agreement covers.
            sizes = await repository.household_sizes(session, scope, ids)
            for household_id, row in page:
                row["member_count"] = sizes.get(household_id, 0)
        person_fields = [
            f for f in repository.person_fields(scope) if f.name not in _HOUSEHOLD_LEVEL
        ]
        members = (
            await repository.members(session, scope, person_fields, ids, on)
            if person_fields
            else []
        )
        by_household: dict[uuid.UUID, list[tuple[uuid.UUID, bool, dict[str, Any]]]] = {}
        for person_id, household_id, is_head, data in members:
            by_household.setdefault(household_id, []).append((person_id, is_head, data))
        enrolled = (
            await programmes.current_enrollments(session, ids, scope.programmes)
            if scope.allows(PROGRAMMES_FIELD)
            else {}
        )
        reg_records = [
            records.group(
                scope,
                household_id,
                row,
                by_household.get(household_id, []),
                enrolled.get(household_id, []),
            )
            for household_id, row in page
        ]
        households += ids
        people += [(person_id, household_id) for person_id, household_id, _, _ in members]
    else:
        conditions = [
            *scope.person_conditions(),
            *scope.household_conditions(),
            *criteria.conditions,
        ]
        rows = await repository.person_page(
            session,
            repository.person_fields(scope),
            conditions,
            criteria.order_by,
            offset,
            criteria.page_size + 1,
            on,
        )
        more = _fit(criteria, rows)
        rows = rows[: criteria.page_size]
        total = await _total(
            scope,
            on,
            criteria,
            settings,
            len(rows),
            more,
            lambda: repository.count_people(session, conditions),
        )
        reg_records = [
            records.member(scope, person_id, household_id, row)
            for person_id, household_id, row in rows
        ]
        people += [(person_id, household_id) for person_id, household_id, _ in rows]
    answer: dict[str, Any] = {
        "reference_id": criteria.reference_id,
        "timestamp": now_ts(),
        "status": codes.SUCCEEDED,
        "data": {"version": codes.VERSION, "reg_records": reg_records},
        "pagination": {
            "page_size": criteria.page_size,
            "page_number": criteria.page_number,
            "total_count": total,
        },
    }
    if criteria.locale is not None:
        answer["locale"] = criteria.locale
    return answer


def _fit(criteria: Criteria, found: Sequence[Any]) -> bool:
    """Whether more records follow the page (`found`: the page read with one record
    more). Without pagination the answer must hold every record found."""
    more = len(found) > criteria.page_size
    if more and not criteria.paginated:
        raise Rejected(
            codes.TOO_MANY_RECORDS,
            f"The search finds more than {criteria.page_size} records: ask for pages "
            "(pagination.page_size, page_number).",
        )
    return more


async def _total(
    scope: PartnerScope,
    on: date,
    criteria: Criteria,
    settings: BeneficiariesSettings,
    found: int,
    more: bool,
    count: Callable[[], Awaitable[int]],
) -> int:
    # Everything the records found depend on besides the registry's rows.
    signature = (
        scope.agreement_id,
        scope.regions,
        scope.programmes,
        scope.legal_statuses,
        on,
        criteria.signature,
    )
    offset = (criteria.page_number - 1) * criteria.page_size
    return await counts.total_count(
        found, offset, more, count, signature, settings.dci_count_cache_seconds
    )
