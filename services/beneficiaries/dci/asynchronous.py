"""The DCI asynchronous exchange (`/registry/search`, `/registry/txn/status`): a request
checked as the synchronous one is, answered at once with the standard's ACK, its answer
queued in the callback outbox in the same transaction and posted, signed, to the partner's
callback URI by the delivery worker (callbacks/worker.py).

The callback URI is the request's `header.sender_uri` when the partner's agreement
registers it, the agreement's first URI when the header names none; any other is refused
(err.sender_uri.invalid) before anything is searched: the registry posts personal data
only where the ministry agreed it may."""

from __future__ import annotations

from typing import Any

from services.beneficiaries.callbacks import repository as outbox
from services.beneficiaries.dci import codes
from services.beneficiaries.dci.messages import DciError, SearchMessage, acknowledgement
from services.beneficiaries.partners.scope import PartnerAccess, PartnerScope


def callback_uri(scope: PartnerScope, message: SearchMessage) -> str:
    requested = message.header.sender_uri
    if requested is None:
        if not scope.callback_uris:
            raise DciError(
                400,
                codes.ERR_SENDER_URI,
                "Your agreement registers no callback URI: asynchronous requests need one.",
            )
        return scope.callback_uris[0]
    if requested not in scope.callback_uris:
        raise DciError(
            400,
            codes.ERR_SENDER_URI,
            "header.sender_uri is not a callback URI registered in your agreement.",
        )
    return requested


async def queue_answer(
    access: PartnerAccess, action: str, uri: str, answer: dict[str, Any]
) -> dict[str, Any]:
    """The answer queued for `uri`; the ACK that says it will come."""
    scope = access.scope
    message = answer["message"]
    await outbox.enqueue(
        access.session,
        agreement_id=scope.agreement_id,
        agreement_version=scope.agreement_version,
        partner_id=scope.partner_id,
        action=action,
        transaction_id=message["transaction_id"],
        correlation_id=message["correlation_id"],
        callback_uri=uri,
        envelope=answer,
    )
    return acknowledgement(message["correlation_id"])
