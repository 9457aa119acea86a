"""`/dci/registry/...`: the DCI social registry API (spdci/standards,
src/registry/social_api_v1.0.0.yaml), for partners under a data-sharing agreement.

Errors on these paths are the standard's, not problem+json: the HttpErrorResponse
`{"errors": [{"code": "err.…", "message"}]}` for transport problems (no or a bad bearer
token, no agreement, a missing header field), the `on-search` envelope with `rjct` and the
standard's reason codes otherwise."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Body, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from pydantic import BaseModel

from services.beneficiaries.context import Settings
from services.beneficiaries.dci import asynchronous, codes, service, subscriptions, transactions
from services.beneficiaries.dci.messages import DciError, read_envelope, refusal
from services.beneficiaries.dci.signatures import RegistrySigner
from services.beneficiaries.partners.scope import Partner
from shared.errors import ProblemError


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body), status_code=status, media_type="application/json", headers=headers
    )


class DciRoute(APIRoute):
    """Turns every refusal on a DCI path into the standard's error (a DciError, rendered by
    `dci_error_handler`). It is raised on, not answered here: the request's transaction
    must see it to roll back (nothing half-saved, a refused request not counted)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except ProblemError as problem:
                code = codes.ERROR_CODE_BY_STATUS.get(problem.status, codes.ERR_BAD_REQUEST)
                raise DciError(
                    problem.status, code, problem.detail or problem.title, problem.headers
                ) from problem
            except RequestValidationError as invalid:
                raise DciError(
                    400, codes.ERR_BAD_REQUEST, "The body is not a JSON DCI message."
                ) from invalid

        return route


class DciAsyncRoute(DciRoute):
    """An asynchronous DCI path: a request refused before it is accepted is answered with
    the standard's Response, `ack_status: ERR` and the error (401 and 403 keep the
    HttpErrorResponse, as the standard's paths say)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handler(request)
            except DciError as error:
                error.as_ack = error.status not in (401, 403)
                raise

        return route


async def dci_error_handler(request: Request, error: Exception) -> Response:
    assert isinstance(error, DciError)
    body = refusal(error) if error.as_ack else error.body()
    return json_response(body, error.status, error.headers)


_PREFIX, _TAGS = "/api/v1/beneficiaries/dci", ["DCI social registry"]


class DciErrorItem(BaseModel):
    code: str
    message: str


class DciHttpErrorResponse(BaseModel):
    """common/schema/HttpErrorResponse.yaml: a request refused at the transport level."""

    errors: list[DciErrorItem]


class DciRefusalAck(BaseModel):
    """common/response/Response.yaml with `ack_status: ERR`: an asynchronous request
    refused before it was accepted."""

    message: dict[str, Any]


def _refusals(body: Any) -> dict[int | str, dict[str, Any]]:
    """What a refusal on a DCI path looks like: the standard's error from the registry; a
    problem (RFC 9457) from the gateway in front of it (no token, the service down)."""
    problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
    refused = {
        "description": "Refused: the DCI standard's error.",
        "model": body,
        "content": {"application/problem+json": problem},
    }
    return {status: refused for status in codes.ERROR_CODE_BY_STATUS} | {"default": refused}


router = APIRouter(
    prefix=_PREFIX,
    tags=list(_TAGS),
    route_class=DciRoute,
    responses=_refusals(DciHttpErrorResponse),
)
async_router = APIRouter(
    prefix=_PREFIX,
    tags=list(_TAGS),
    route_class=DciAsyncRoute,
    responses=_refusals(DciHttpErrorResponse | DciRefusalAck),
)

_DOC = (
    "DCI social registry synchronous search. The body is the DCI envelope: `signature`, "
    "`header` (`message_id`, `message_ts`, `action: search`, `sender_id` = your partner id, "
    "`total_count`), `message` (`transaction_id`, `search_request[]`). Query types: "
    "`idtype-value` (`{type, value}`; types UIN national ID, BRN birth certificate, MOBILE "
    "phone, UNHCR_ID, UNHCR_CASE, WFP_SCOPE, REGISTRY_NUMBER) and `predicate` (a list of "
    "`{seq_num, expression1, condition, expression2}`, each expression `{attribute_name, "
    "operator: gt|lt|eq|ge|le|in, attribute_value}`; attributes are the export field names "
    "your agreement allows, plus `programmes`, `group_size`, `poverty_score`) and "
    "`expression` (`{type, value: {expression: {collection, query}}}`, `$and`/`$or`/`$not` "
    "over `{attribute: {$eq|$lt|$gt|$le|$ge|$in: value}}`). "
    "`response_entity`: Group (households, default) or Member (people). Every answer is "
    "filtered by your data-sharing agreement. When your agreement registers signing keys, "
    "every message carries a `signature` (Ed25519, see the standard's MsgSignature); every "
    "answer is signed by the registry's key (`GET /dci/.well-known/jwks.json`). A "
    "`message_id` is accepted once per sender."
)


@router.post("/registry/sync/search", summary="DCI search (synchronous)", description=_DOC)
async def sync_search(
    request: Request, access: Partner, settings: Settings, body: Annotated[Any, Body()] = None
) -> Response:
    message = read_envelope(body)
    service.authenticate(access, message)
    signer: RegistrySigner = request.app.state.dci_signer
    return json_response(signer.sign(await service.search(access, message, settings)))


_ASYNC = (
    " Asynchronous: the answer is the standard's ACK (`message.ack_status`, "
    "`correlation_id`); the `{action}` envelope, signed by the registry, is then posted to "
    "your callback URI: `header.sender_uri` when your agreement registers it (its first "
    "callback URI when the header names none; any other is refused with "
    "err.sender_uri.invalid). A callback your receiver does not acknowledge (HTTP 2xx with "
    "`message.ack_status` ACK) is retried with exponential backoff; a retry keeps its "
    "`header.message_id`."
)


@async_router.post(
    "/registry/search",
    summary="DCI search (asynchronous)",
    description=_DOC + _ASYNC.format(action="on-search"),
)
async def async_search(
    access: Partner, settings: Settings, body: Annotated[Any, Body()] = None
) -> Response:
    message = read_envelope(body)
    service.authenticate(access, message)
    uri = asynchronous.callback_uri(access.scope, message)
    answer = await service.search(access, message, settings, endpoint="dci.search")
    return json_response(await asynchronous.queue_answer(access, "on-search", uri, answer))


_TXN_DOC = (
    "DCI transaction status: what the registry answered to one of your asynchronous "
    "searches. The message is `{transaction_id, txnstatus_request: {reference_id, "
    "txn_type: search, attribute_type: transaction_id | reference_id_list | "
    "correlation_id, attribute_value}}` (header `action: txn-status`, `total_count: 1`); "
    "the answer is the `txn-on-status` envelope whose `txnstatus_response.txn_status` is "
    "the search's SearchResponse. A transaction not found (or answered under an earlier "
    "version of your agreement) is the status request's `reference_id` rejected with "
    "rjct.reference_id.invalid."
)


@router.post(
    "/registry/sync/txn/status",
    summary="DCI transaction status (synchronous)",
    description=_TXN_DOC,
)
async def sync_txn_status(
    request: Request, access: Partner, settings: Settings, body: Annotated[Any, Body()] = None
) -> Response:
    message = transactions.read(read_envelope(body, transactions.REQUESTS))
    service.authenticate(access, message)
    signer: RegistrySigner = request.app.state.dci_signer
    answer = await transactions.status(access, message, settings, transactions.SYNC_ENDPOINT)
    return json_response(signer.sign(answer))


@async_router.post(
    "/registry/txn/status",
    summary="DCI transaction status (asynchronous)",
    description=_TXN_DOC + _ASYNC.format(action="txn-on-status"),
)
async def async_txn_status(
    access: Partner, settings: Settings, body: Annotated[Any, Body()] = None
) -> Response:
    message = transactions.read(read_envelope(body, transactions.REQUESTS))
    service.authenticate(access, message)
    uri = asynchronous.callback_uri(access.scope, message)
    answer = await transactions.status(access, message, settings, transactions.ASYNC_ENDPOINT)
    return json_response(await asynchronous.queue_answer(access, "txn-on-status", uri, answer))


@router.get(
    "/.well-known/jwks.json",
    summary="The registry's DCI signing keys",
    description="The Ed25519 public key (JWKS) that verifies the `signature` of every DCI "
    "answer (kidId `{registry id}|{kid}|ed25519`).",
)
async def dci_keys(request: Request) -> Response:
    signer: RegistrySigner = request.app.state.dci_signer
    return json_response(signer.jwks, headers={"Cache-Control": "public, max-age=300"})


_SUBSCRIBE_DOC = (
    "DCI event subscription. The message is `{transaction_id, subscribe_request[]}` "
    "(header `action: subscribe`), each request `{reference_id, timestamp, "
    "subscribe_criteria: {reg_event_type, filter_type, filter, notify_record_type}}`: "
    "`reg_event_type` REGISTER (a household registered), NewHouseHoldMember (a member "
    "joined), enrollement (an enrollment made) or enrollement_status_change; `filter_type` "
    "and `filter` a query as in a search (`predicate`, `idtype-value`, `expression`, on the "
    "fields your agreement allows); `notify_record_type` Group or Member. The "
    "`on-subscribe` answer gives each subscription's `code`. Every event whose household "
    "(or member) the filter and your agreement select is then posted, signed, to the "
    "callback URI of the subscription as a `notify` (NotifyEventRequest, the records "
    "filtered as a search's are), retried until your receiver acknowledges it."
)


@async_router.post(
    "/registry/subscribe",
    summary="DCI subscribe to registry events",
    description=_SUBSCRIBE_DOC + _ASYNC.format(action="on-subscribe"),
)
async def subscribe(
    access: Partner, settings: Settings, body: Annotated[Any, Body()] = None
) -> Response:
    message = read_envelope(body, subscriptions.SUBSCRIBE_REQUESTS)
    service.authenticate(access, message)
    uri = asynchronous.callback_uri(access.scope, message)
    answer = await subscriptions.subscribe(access, message, settings, uri)
    return json_response(await asynchronous.queue_answer(access, "on-subscribe", uri, answer))


@async_router.post(
    "/registry/unsubscribe",
    summary="DCI unsubscribe",
    description="Ends subscriptions: the message is `{transaction_id, timestamp, "
    "subscription_codes[]}` (header `action: unsubscribe`, `total_count` the number of "
    "codes). Every code is unsubscribed, or none (rjct.subscription_code.invalid, "
    "rjct.event.already_unsubscribed)." + _ASYNC.format(action="on-unsubscribe"),
)
async def unsubscribe(
    access: Partner, settings: Settings, body: Annotated[Any, Body()] = None
) -> Response:
    message = read_envelope(body, subscriptions.UNSUBSCRIBE_REQUESTS)
    service.authenticate(access, message)
    uri = asynchronous.callback_uri(access.scope, message)
    answer = await subscriptions.unsubscribe(access, message, settings)
    return json_response(await asynchronous.queue_answer(access, "on-unsubscribe", uri, answer))
