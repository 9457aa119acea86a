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

from services.beneficiaries.context import Settings
from services.beneficiaries.dci import codes, service
from services.beneficiaries.dci.messages import DciError, read_envelope
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


async def dci_error_handler(request: Request, error: Exception) -> Response:
    assert isinstance(error, DciError)
    return json_response(error.body(), error.status, error.headers)


router = APIRouter(
    prefix="/api/v1/beneficiaries/dci", tags=["DCI social registry"], route_class=DciRoute
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
    signer: RegistrySigner = request.app.state.dci_signer
    return json_response(signer.sign(await service.search(access, message, settings)))


@router.get(
    "/.well-known/jwks.json",
    summary="The registry's DCI signing keys",
    description="The Ed25519 public key (JWKS) that verifies the `signature` of every DCI "
    "answer (kidId `{registry id}|{kid}|ed25519`).",
)
async def dci_keys(request: Request) -> Response:
    signer: RegistrySigner = request.app.state.dci_signer
    return json_response(signer.jwks, headers={"Cache-Control": "public, max-age=300"})
