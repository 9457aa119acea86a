"""The access matrix, through the real gateway: every operation of the access table
(`services/gateway/access/table.py`, also docs/access.md) called as every role, and with
every kind of token a gateway must refuse, gets what the table says — let through, 403 by
role, 401 without a valid token; a disabled client gets no new token; and the gateway's
OpenAPI document has no operation the table does not know, each saying who may call it.

What a ministry relies on: nobody does more than their role allows, whatever they send.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import jwt
import pytest

from services.gateway.access.table import BY_KEY, METRICS, OPERATIONS, PUBLIC, Operation
from shared.auth import ROLES
from tests.support.access import (
    REGISTRY,
    Answer,
    GatewaySigner,
    bad_tokens,
    call_all,
    lets_through,
    new_client,
    partner_with_agreement,
    token_of,
)
from tests.support.routes import openapi_operations
from tests.support.stack import RunningStack

pytestmark = [pytest.mark.e2e, pytest.mark.reliability]
# /metrics answers its own token, not an access token (tests/shared/test_metrics_access.py).
CALLED = [operation for operation in OPERATIONS if operation.allowed != METRICS]
DEMO_CLIENTS = {
    "admin": "admin",
    "registrar": "demo-registrar",
    "data_manager": "demo-data-manager",
    "finance_officer": "demo-finance-officer",
    "finance_approver": "demo-finance-approver",
    "me_officer": "demo-me-officer",
    "analyst": "demo-analyst",
}


@dataclass
class Callers:
    """A token for each role (a client holding that role alone), partners with an active
    agreement so that what their role allows is really served."""

    headers: dict[str, dict[str, str]]
    admin_token: str


@pytest.fixture(scope="module")
def callers(stack: RunningStack) -> Iterator[Callers]:
    admin_token = stack.token("admin")
    admin = {"Authorization": f"Bearer {admin_token}"}
    tokens = {role: stack.token(client) for role, client in DEMO_CLIENTS.items()}
    tokens["service"] = new_client(stack, admin, "service")[1]
    for role in ("partner", "system"):
        tokens[role] = partner_with_agreement(stack, admin, role)[1]
    assert set(tokens) == set(ROLES), "a role of shared.auth has no caller in this test"
    yield Callers(
        {role: {"Authorization": f"Bearer {t}"} for role, t in tokens.items()}, admin_token
    )


def _mismatches(answers: dict[Operation, Answer], expected: dict[Operation, bool]) -> list[str]:
    wrong = []
    for operation, answer in answers.items():
        got = lets_through(operation, answer)
        if got != expected[operation]:
            verb = "let through" if got else "refused"
            wrong.append(f"{operation.method} {operation.path}: {verb} ({answer})")
    return wrong


@pytest.mark.parametrize("role", ROLES)
async def test_each_role_is_let_through_exactly_where_the_table_says(
    stack: RunningStack, callers: Callers, role: str
) -> None:
    async with httpx.AsyncClient(base_url=stack.url, timeout=60) as client:
        answers = await call_all(client, CALLED, callers.headers[role])
    unexpected = [
        f"{op.method} {op.path}: {answer.status}"
        for op, answer in answers.items()
        if answer.unauthenticated or answer.status >= 500
    ]
    assert not unexpected, f"{role}'s valid token: {unexpected}"
    wrong = _mismatches(answers, {op: op.allows(role) for op in CALLED})
    assert not wrong, f"{role}: {wrong}"


@pytest.fixture(scope="module")
async def signer(stack: RunningStack, callers: Callers) -> GatewaySigner:
    kid = jwt.get_unverified_header(callers.admin_token)["kid"]
    return await GatewaySigner.of_stack(stack.state["database_url"], stack.data_dir, kid)


@pytest.mark.parametrize(
    "kind", ["no token", "expired", "wrong audience", "unknown key", "alg none", "malformed"]
)
async def test_a_request_without_a_valid_token_is_refused_wherever_one_is_needed(
    stack: RunningStack, callers: Callers, signer: GatewaySigner, kind: str
) -> None:
    """Each bad token is made from an admin's: had it been honoured, everything would be
    allowed."""
    tokens = bad_tokens(callers.admin_token, signer)
    headers = {} if kind == "no token" else {"Authorization": f"Bearer {tokens[kind]}"}
    async with httpx.AsyncClient(base_url=stack.url, timeout=60) as client:
        answers = await call_all(client, CALLED, headers)
    wrong = [
        f"{op.method} {op.path}: {answer.status}"
        for op, answer in answers.items()
        if (op.allowed == PUBLIC) == answer.unauthenticated
    ]
    assert not wrong, f"{kind}: {wrong}"


async def test_a_token_signed_by_the_gateways_key_with_honest_claims_is_accepted(
    stack: RunningStack, callers: Callers, signer: GatewaySigner
) -> None:
    """The bad tokens above fail on what was changed, not on how they were made."""
    claims = jwt.decode(callers.admin_token, options={"verify_signature": False})
    token = signer.sign({**claims, "jti": str(uuid.uuid4())})
    answer = httpx.get(f"{stack.url}{REGISTRY}/me", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200, answer.text


def test_a_disabled_client_gets_no_fresh_token(stack: RunningStack, callers: Callers) -> None:
    admin = {"Authorization": f"Bearer {callers.admin_token}"}
    client_id = f"access-disabled-{uuid.uuid4().hex[:6]}"
    created = httpx.post(
        f"{stack.url}/api/v1/admin/clients",
        json={"client_id": client_id, "name": client_id, "roles": ["data_manager"]},
        headers=admin,
    )
    assert created.status_code == 201, created.text
    secret = created.json()["client_secret"]
    assert token_of(stack, client_id, secret)
    disabled = httpx.post(f"{stack.url}/api/v1/admin/clients/{client_id}/disable", headers=admin)
    assert disabled.status_code == 200, disabled.text
    refused = httpx.post(
        f"{stack.url}/auth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
    )
    assert refused.status_code == 401, refused.text
    assert refused.json()["error"] == "invalid_client"
    assert "access_token" not in refused.text


def test_a_disabled_user_gets_no_fresh_token(stack: RunningStack, callers: Callers) -> None:
    admin = {"Authorization": f"Bearer {callers.admin_token}"}
    username, password = f"access-{uuid.uuid4().hex[:6]}", "a field agent's passphrase"
    created = httpx.post(
        f"{stack.url}/api/v1/admin/users",
        json={
            "username": username,
            "full_name": "Access Test",
            "password": password,
            "roles": ["registrar"],
            "regions": ["DJ-AS"],
        },
        headers=admin,
    )
    assert created.status_code == 201, created.text
    grant = {"grant_type": "password", "username": username, "password": password}
    signed_in = httpx.post(f"{stack.url}/auth/token", data=grant)
    assert signed_in.status_code == 200, signed_in.text
    disabled = httpx.post(f"{stack.url}/api/v1/admin/users/{username}/disable", headers=admin)
    assert disabled.status_code == 200, disabled.text
    for again in (
        grant,
        {"grant_type": "refresh_token", "refresh_token": signed_in.json()["refresh_token"]},
    ):
        refused = httpx.post(f"{stack.url}/auth/token", data=again)
        assert refused.status_code in (400, 401), refused.text
        assert "access_token" not in refused.text


def test_the_gateways_document_says_who_may_call_each_operation_as_the_table_does(
    stack: RunningStack,
) -> None:
    document = httpx.get(f"{stack.url}/openapi.json").json()
    documented = openapi_operations(document)
    missing = sorted(set(documented) - set(BY_KEY))
    assert not missing, f"add them to services/gateway/access/table.py: {missing}"
    for key, operation in documented.items():
        allowed = BY_KEY[key].allowed
        assert operation["x-roles"] == ([allowed] if isinstance(allowed, str) else list(allowed))
    for service in ("beneficiaries", "funding", "indicators"):
        assert any(path.startswith(f"/api/v1/{service}/") for path in document["paths"]), (
            f"the merged document has none of {service}'s operations: is it up?"
        )
