"""What a notification says (registry/schema/NotifyEventRequest.yaml), read when it is
first sent: the event's household (or member) as the subscription's filter and the
partner's agreement, as they stand, let the partner see it. Nothing they let it see, nothing
sent (the row is `skipped`); what is sent is counted and audited under the agreement."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.beneficiaries.clock import today
from services.beneficiaries.config import BeneficiariesSettings
from services.beneficiaries.dci import codes, service
from services.beneficiaries.dci.criteria import read_request
from services.beneficiaries.dci.messages import Rejected, now_ts
from services.beneficiaries.models import (
    DataSharingAgreement,
    DciDelivery,
    DciSubscription,
    Household,
    Individual,
)
from services.beneficiaries.partners.scope import PartnerAccess, PartnerScope
from shared.audit import AuditTrail
from shared.auth import Principal
from shared.db import Database

ENDPOINT = "dci.notify"


def subscription_filter(
    scope: PartnerScope,
    reference_id: str,
    filter_type: Any,
    query: Any,
    entity: Any,
    max_page_size: int,
) -> Any:
    """The subscription's filter read as a search request is (Rejected when the
    agreement does not cover it)."""
    item = {
        "reference_id": reference_id,
        "timestamp": now_ts(),
        "search_criteria": {
            "query_type": filter_type,
            "query": query,
            "response_entity": entity,
            "pagination": {"page_size": max_page_size, "page_number": 1},
        },
    }
    return read_request(item, set(), scope, max_page_size=max_page_size)


async def compose(
    session: AsyncSession,
    database: Database,
    audit: AuditTrail,
    settings: BeneficiariesSettings,
    delivery: DciDelivery,
    agreement: DataSharingAgreement,
    subscription: DciSubscription,
) -> dict[str, Any] | None:
    """The notification's envelope (unsigned), or None when there is nothing to tell."""
    assert delivery.event is not None
    scope = PartnerScope.of(agreement, settings.pseudonym_key_material())
    try:
        criteria = subscription_filter(
            scope,
            subscription.reference_id,
            subscription.filter_type,
            subscription.filter,
            subscription.notify_record_type,
            settings.dci_max_page_size,
        )
    except Rejected:
        return None  # the agreement no longer covers the filter
    household_id = uuid.UUID(delivery.event["household_id"])
    individual_id = delivery.event.get("individual_id")
    if criteria.entity == "Member":
        criteria.conditions.append(
            Individual.id == uuid.UUID(individual_id)
            if individual_id
            else Individual.household_id == household_id
        )
    else:
        criteria.conditions.append(Household.id == household_id)
    households: list[uuid.UUID] = []
    people: list[tuple[uuid.UUID, uuid.UUID | None]] = []
    on = today()
    answer = await service.run(scope, session, on, criteria, settings, households, people)
    records = answer["data"]["reg_records"]
    if not records:
        return None
    partner = Principal(
        subject=subscription.subscriber,
        roles=frozenset({"partner"}),
        partner_id=subscription.partner_id,
    )
    await PartnerAccess(scope, partner, session, audit, on, database).served(
        ENDPOINT, households, people
    )
    event: dict[str, Any] = {
        "reference_id": subscription.reference_id,
        "timestamp": now_ts(),
        "data": {
            "version": codes.VERSION,
            "reg_type": codes.REGISTRY_TYPE,
            "reg_record_type": criteria.entity,
            "reg_records": records,
        },
    }
    if subscription.locale:
        event["locale"] = subscription.locale
    header = {
        "version": codes.VERSION,
        "message_id": str(uuid.uuid4()),
        "message_ts": now_ts(),
        "action": "notify",
        "status": codes.SUCCEEDED,
        "total_count": 1,
        "completed_count": 1,
        "sender_id": settings.dci_registry_id,
        "receiver_id": subscription.partner_id,
        "is_msg_encrypted": False,
    }
    return {
        "header": header,
        "message": {"transaction_id": delivery.transaction_id, "notify_event": [event]},
    }
