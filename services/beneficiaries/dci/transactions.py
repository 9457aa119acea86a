"""DCI transaction status (`txn/status`, registry/social/TxnStatusRequest.yaml): what the
registry answered to one of the partner's asynchronous searches, found by the search's
`transaction_id`, its answer's `correlation_id` or the `reference_id`s of its requests,
and answered as a `txn-on-status` whose `txn_status` is that SearchResponse.

Only the partner's own transactions are found, and only those answered under the agreement
it holds now (as it reads now): an answer computed under an agreement since changed is not
served again. A transaction not found is answered like one of another partner's: the
status request's `reference_id` rejected with rjct.reference_id.invalid."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from services.beneficiaries.callbacks import repository as outbox
from services.beneficiaries.config import BeneficiariesSettings
from services.beneficiaries.dci import codes, service
from services.beneficiaries.dci.messages import (
    Rejected,
    SearchMessage,
    answer_header,
    rejected,
)
from services.beneficiaries.models import DciDelivery
from services.beneficiaries.partners.scope import PartnerAccess, PartnerScope

SYNC_ENDPOINT, ASYNC_ENDPOINT = "dci.sync.txn.status", "dci.txn.status"
REQUESTS = "txnstatus_request"
# txn_type -> the action of its answers and the answer's list of responses.
_ANSWERS = {
    "search": ("on-search", "search_response"),
    "subscribe": ("on-subscribe", "subscribe_response"),
}


class _Refused(Exception):
    def __init__(self, reference_id: Any, error: Rejected) -> None:
        self.reference_id, self.error = reference_id, error


def read(message: SearchMessage) -> SearchMessage:
    """`txnstatus_request` is one object: read as a list of one, as search requests are."""
    if isinstance(message.requests, dict):
        message.requests = [message.requests]
    return message


async def status(
    access: PartnerAccess, message: SearchMessage, settings: BeneficiariesSettings, endpoint: str
) -> dict[str, Any]:
    """The `txn-on-status` answer (unsigned) of an authenticated status request."""
    registry_id = settings.dci_registry_id
    try:
        await service.accept(access, message, settings, action="txn-status", requests=REQUESTS)
    except Rejected as reason:
        header = answer_header(
            message,
            registry_id,
            status=codes.REJECTED,
            count=1,
            completed=0,
            reason=reason,
            action="txn-on-status",
        )
        await access.served(endpoint)
        return _envelope(header, message, None)
    item = message.requests[0]
    try:
        txn_type, txn_status = await _txn_status(access, item)
    except _Refused as refused:
        txn_type = "search"
        txn_status = {
            "transaction_id": "",
            "correlation_id": "",
            "search_response": [rejected(refused.reference_id, refused.error)],
        }
    header = answer_header(
        message, registry_id, status=codes.SUCCEEDED, count=1, completed=1, action="txn-on-status"
    )
    returned = sum(
        len((answer.get("data") or {}).get("reg_records") or [])
        for answer in txn_status.get("search_response", [])
    )
    await access.served(endpoint, again=returned)
    return _envelope(header, message, {"txn_type": txn_type, "txn_status": txn_status})


def _envelope(
    header: dict[str, Any], message: SearchMessage, response: dict[str, Any] | None
) -> dict[str, Any]:
    transaction_id = message.transaction_id if isinstance(message.transaction_id, str) else ""
    body: dict[str, Any] = {"transaction_id": transaction_id, "correlation_id": str(uuid.uuid4())}
    if response is not None:
        body["txnstatus_response"] = response
    return {"header": header, "message": body}


def _invalid(reference_id: Any, message: str) -> _Refused:
    return _Refused(reference_id, Rejected(codes.SEARCH_CRITERIA_INVALID, message))


def _not_found(reference_id: Any, message: str) -> _Refused:
    return _Refused(reference_id, Rejected(codes.REFERENCE_ID_INVALID, message))


async def _txn_status(access: PartnerAccess, item: Any) -> tuple[str, dict[str, Any]]:
    if not isinstance(item, dict):
        raise _invalid(None, "txnstatus_request is an object.")
    reference_id = item.get("reference_id")
    if not isinstance(reference_id, str) or not reference_id.strip() or len(reference_id) > 99:
        raise _Refused(
            None,
            Rejected(
                codes.REFERENCE_ID_INVALID,
                "reference_id is a non-empty string (at most 99 characters).",
            ),
        )
    txn_type = codes.TXN_TYPES.get(item.get("txn_type"))  # type: ignore[arg-type]
    if txn_type not in _ANSWERS:
        raise _invalid(reference_id, "txn_type is search or subscribe.")
    attribute, value = item.get("attribute_type"), item.get("attribute_value")
    if attribute not in codes.TXN_ATTRIBUTE_TYPES:
        raise _invalid(
            reference_id, "attribute_type is transaction_id, reference_id_list or correlation_id."
        )
    action, responses = _ANSWERS[txn_type]
    scope, session = access.scope, access.session
    if attribute == "reference_id_list":
        if (
            not isinstance(value, list)
            or not value
            or len(value) > 100
            or not all(isinstance(v, str) and v for v in value)
        ):
            raise _invalid(
                reference_id, "attribute_value is a list of reference ids (at most 100)."
            )
        found = await outbox.answering(session, scope.partner_id, value, action, responses)
        return txn_type, _by_reference(scope, found, value, responses)
    if not isinstance(value, str) or not value or len(value) > 99:
        raise _invalid(reference_id, f"attribute_value is the {attribute}.")
    found = await outbox.of_transaction(session, scope.partner_id, attribute, value, [action])
    if not found:
        raise _not_found(reference_id, f"No asynchronous {txn_type} of yours has this {attribute}.")
    if not _current(scope, found[0]):
        raise _not_found(reference_id, _CHANGED)
    return txn_type, _message(found[0])


def _message(answer: DciDelivery) -> dict[str, Any]:
    """An answer's message (an answer's envelope is stored when it is queued)."""
    assert answer.envelope is not None
    message: dict[str, Any] = answer.envelope["message"]
    return message


_CHANGED = "It was answered under an earlier version of your agreement: search again."


def _current(scope: PartnerScope, answer: DciDelivery) -> bool:
    return (answer.agreement_id, answer.agreement_version) == (
        scope.agreement_id,
        scope.agreement_version,
    )


def _by_reference(
    scope: PartnerScope,
    found: Sequence[DciDelivery],
    reference_ids: list[str],
    responses: str,
) -> dict[str, Any]:
    """Each reference id's latest answer (of the transactions answered under the current
    agreement); those without one rejected."""
    latest: dict[str, tuple[DciDelivery, dict[str, Any]]] = {}
    for answer in found:
        for response in _message(answer).get(responses, []):
            latest.setdefault(response.get("reference_id"), (answer, response))
    items, transactions = [], set()
    for wanted in dict.fromkeys(reference_ids):
        hit = latest.get(wanted)
        if hit is None:
            items.append(rejected(wanted, _not_found(wanted, "No search of yours has it.").error))
        elif not _current(scope, hit[0]):
            items.append(rejected(wanted, _not_found(wanted, _CHANGED).error))
        else:
            items.append(hit[1])
            transactions.add((hit[0].transaction_id, hit[0].correlation_id))
    # One transaction's answers carry its ids; answers from several, none.
    transaction_id, correlation_id = (
        next(iter(transactions)) if len(transactions) == 1 else ("", "")
    )
    return {
        "transaction_id": transaction_id,
        "correlation_id": correlation_id,
        responses: items,
    }
