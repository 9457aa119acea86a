"""DCI event subscriptions (`/registry/subscribe`, `/registry/unsubscribe`; the registry
core API's SubscribeRequest, UnSubscribeRequest and their responses): a partner subscribes
to registry events (codes.EVENT_TYPES) with a filter read as a search request's query is,
against its agreement; each event whose household (or member) the filter and agreement
select is then notified to the callback URI the subscription was made from.

Notifications are sent as events happen: a `frequency` is accepted but not batched by."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from services.beneficiaries.callbacks import repository as store
from services.beneficiaries.callbacks.notifications import subscription_filter
from services.beneficiaries.config import BeneficiariesSettings
from services.beneficiaries.dci import codes, service
from services.beneficiaries.dci.messages import (
    Rejected,
    SearchMessage,
    answer_header,
    now_ts,
    parse_timestamp,
    rejected,
)
from services.beneficiaries.models import DciSubscription
from services.beneficiaries.partners.scope import PartnerAccess

SUBSCRIBE, UNSUBSCRIBE = "dci.subscribe", "dci.unsubscribe"
SUBSCRIBE_REQUESTS, UNSUBSCRIBE_REQUESTS = "subscribe_request", "subscription_codes"


def _envelope(
    header: dict[str, Any], message: SearchMessage, body: dict[str, Any]
) -> dict[str, Any]:
    transaction_id = message.transaction_id if isinstance(message.transaction_id, str) else ""
    return {
        "header": header,
        "message": {"transaction_id": transaction_id, "correlation_id": str(uuid.uuid4()), **body},
    }


async def _accepted(
    access: PartnerAccess,
    message: SearchMessage,
    settings: BeneficiariesSettings,
    action: str,
    requests: str,
) -> dict[str, Any] | None:
    """None when the header is accepted; the rejecting header otherwise."""
    try:
        await service.accept(access, message, settings, action=action, requests=requests)
    except Rejected as reason:
        count = len(message.requests) if isinstance(message.requests, list) else 0
        return answer_header(
            message,
            settings.dci_registry_id,
            status=codes.REJECTED,
            count=count,
            completed=0,
            reason=reason,
            action=f"on-{action}",
        )
    return None


async def subscribe(
    access: PartnerAccess, message: SearchMessage, settings: BeneficiariesSettings, uri: str
) -> dict[str, Any]:
    """The `on-subscribe` answer (unsigned); subscriptions made notify `uri`."""
    refused = await _accepted(access, message, settings, "subscribe", SUBSCRIBE_REQUESTS)
    if refused is not None:
        await access.served(SUBSCRIBE)
        return _envelope(refused, message, {"subscribe_response": []})
    responses = []
    seen: set[str] = set()
    for item in message.requests:
        reference_id = item.get("reference_id") if isinstance(item, dict) else None
        try:
            subscription = await _subscribe(access, message, item, seen, uri, settings)
        except Rejected as error:
            responses.append(rejected(reference_id, error))
            continue
        responses.append(
            {
                "reference_id": subscription.reference_id,
                "timestamp": now_ts(),
                "status": codes.SUCCEEDED,
                "subscriptions": [info(subscription)],
            }
        )
    header = answer_header(
        message,
        settings.dci_registry_id,
        status=codes.SUCCEEDED,
        count=len(message.requests),
        completed=len(responses),
        action="on-subscribe",
    )
    await access.served(SUBSCRIBE)
    return _envelope(header, message, {"subscribe_response": responses})


def info(subscription: DciSubscription) -> dict[str, Any]:
    """registry/schema/SubscriptionInfo.yaml"""
    return {
        "version": codes.VERSION,
        "code": subscription.code,
        "status": subscription.status,
        "timestamp": subscription.created_at.isoformat().replace("+00:00", "Z")
        if subscription.created_at
        else now_ts(),
        "reg_type": codes.REGISTRY_TYPE,
        "reg_event_type": subscription.reg_event_type,
        "filter_type": subscription.filter_type,
        "filter": subscription.filter,
        "notify_record_type": subscription.notify_record_type,
    }


def _reject(code: str, message: str) -> Rejected:
    return Rejected(code, message)


async def _subscribe(
    access: PartnerAccess,
    message: SearchMessage,
    item: Any,
    seen: set[str],
    uri: str,
    settings: BeneficiariesSettings,
) -> DciSubscription:
    if not isinstance(item, dict):
        raise _reject(codes.NOTIFY_DETAILS_INVALID, "A subscribe request is an object.")
    reference_id = item.get("reference_id")
    if not isinstance(reference_id, str) or not reference_id.strip() or len(reference_id) > 99:
        raise _reject(
            codes.REFERENCE_ID_INVALID, "reference_id is a non-empty string (at most 99)."
        )
    if reference_id in seen:
        raise _reject(codes.REFERENCE_ID_DUPLICATE, "reference_id is used earlier in the message.")
    seen.add(reference_id)
    if parse_timestamp(item.get("timestamp")) is None:
        raise _reject(codes.TIMESTAMP_INVALID, "timestamp is an ISO 8601 date-time with a zone.")
    criteria = item.get("subscribe_criteria")
    if not isinstance(criteria, dict):
        raise _reject(codes.NOTIFY_DETAILS_INVALID, "subscribe_criteria is required (an object).")
    event_type = criteria.get("reg_event_type")
    if event_type not in codes.EVENT_TYPES:
        raise _reject(
            codes.NOTIFY_TYPES_INVALID, "reg_event_type is one of " + ", ".join(codes.EVENT_TYPES)
        )
    entity = criteria.get("notify_record_type", criteria.get("response_entity"))
    filter_type, query = criteria.get("filter_type", "predicate"), criteria.get("filter")
    scope = access.scope
    try:
        read = subscription_filter(
            scope, reference_id, filter_type, query, entity, settings.dci_max_page_size
        )
    except Rejected as error:
        raise _reject(codes.NOTIFY_DETAILS_INVALID, f"filter: {error.message}") from error
    if await store.same_subscription(
        access.session, scope.partner_id, event_type, filter_type, query
    ):
        raise _reject(
            codes.ALREADY_SUBSCRIBED, "You are subscribed to these events with this filter."
        )
    locale = item.get("locale")
    subscription = DciSubscription(
        id=uuid.uuid4(),
        code=str(uuid.uuid4()),
        partner_id=scope.partner_id,
        subscriber=access.principal.subject,
        agreement_id=scope.agreement_id,
        transaction_id=message.transaction_id,
        reference_id=reference_id,
        reg_event_type=event_type,
        filter_type=filter_type,
        filter=query,
        notify_record_type=read.entity,
        callback_uri=uri,
        locale=locale if isinstance(locale, str) and len(locale) <= 16 else None,
        status=codes.SUBSCRIBED,
        created_at=datetime.now(UTC),
    )
    await store.add_subscription(access.session, subscription)
    return subscription


async def unsubscribe(
    access: PartnerAccess, message: SearchMessage, settings: BeneficiariesSettings
) -> dict[str, Any]:
    """The `on-unsubscribe` answer (unsigned): every code unsubscribed, or none."""
    refused = await _accepted(access, message, settings, "unsubscribe", UNSUBSCRIBE_REQUESTS)
    if refused is not None:
        await access.served(UNSUBSCRIBE)
        return _envelope(refused, message, {"timestamp": now_ts(), "status": codes.REJECTED})
    wanted = list(dict.fromkeys(message.requests))
    found = (
        await store.subscriptions_by_code(
            access.session, access.scope.partner_id, wanted, lock=True
        )
        if all(isinstance(code, str) for code in wanted)
        else {}
    )
    body: dict[str, Any] = {"timestamp": now_ts()}
    unknown = [code for code in wanted if code not in found]
    ended = [code for code in wanted if code in found and found[code].status != codes.SUBSCRIBED]
    if unknown or ended:
        reason = (
            (codes.SUBSCRIPTION_CODE_INVALID, "No subscription of yours has one of these codes.")
            if unknown
            else (codes.ALREADY_UNSUBSCRIBED, "A subscription named is unsubscribed already.")
        )
        body |= {
            "status": codes.REJECTED,
            "status_reason_code": reason[0],
            "status_reason_message": reason[1],
        }
    else:
        moment = datetime.now(UTC)
        for code in wanted:
            found[code].status = codes.UNSUBSCRIBED
            found[code].unsubscribed_at = moment
        await access.session.flush()
        body |= {
            "status": codes.SUCCEEDED,
            "subscription_status": [
                {"code": code, "status": codes.UNSUBSCRIBED} for code in wanted
            ],
        }
    header = answer_header(
        message,
        settings.dci_registry_id,
        status=codes.SUCCEEDED,
        count=len(message.requests),
        completed=len(message.requests),
        action="on-unsubscribe",
    )
    await access.served(UNSUBSCRIBE)
    return _envelope(header, message, body)
