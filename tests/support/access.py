"""Calling every operation of the access table through a running gateway, and the tokens a
hostile or careless client sends: each answer sorted into let through, refused by role
(403) or refused as unauthenticated (401)."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import jwt
from cryptography.hazmat.primitives import serialization
from sqlalchemy.engine import make_url

from services.gateway.access.table import AGREEMENT, Operation
from services.gateway.tokens.sealing import KeySealer
from tests.support.stack import RunningStack
from tests.support.tokens import TokenFactory

REGISTRY = "/api/v1/beneficiaries"

# A value for each path parameter: records that do not exist (an allowed caller gets a 404,
# 422 or 428, never a write), formats that do.
_PATH_VALUES = {
    "version": "1",
    "code": "no-such-code",
    "action_code": "no-such-action",
    "export_format": "csv",
    "file_format": "csv",
    "client_id": "no-such-client",
    "username": "no-such-user",
    "name": "swagger-ui.css",
    "relative": "index.html",
}
_PARAMETER = re.compile(r"\{(\w+)(?::\w+)?\}")


def concrete_path(template: str) -> str:
    return _PARAMETER.sub(lambda m: _PATH_VALUES.get(m.group(1), str(uuid.uuid4())), template)


@dataclass(frozen=True)
class Answer:
    status: int
    problem_type: str

    @property
    def refused_by_role(self) -> bool:
        return self.status == 403 and self.problem_type.endswith("forbidden")

    @property
    def unauthenticated(self) -> bool:
        return self.status == 401


def lets_through(operation: Operation, answer: Answer) -> bool:
    """The caller got past authentication and the role check (a missing record, a bad body
    or a refused agreement are the operation's own answers)."""
    if answer.status in (401, 403):
        return operation.note.startswith(AGREEMENT) and answer.problem_type.endswith(
            "agreement-refused"
        )
    return True


async def call(client: httpx.AsyncClient, operation: Operation, headers: dict[str, str]) -> Answer:
    """`operation` with a made-up path and an empty body; the body is read only when it is a
    refusal (an allowed export would stream the whole registry). Rate-limited: waits, again."""
    body = {} if operation.method in ("POST", "PUT", "PATCH") else None
    request = client.build_request(
        operation.method, concrete_path(operation.path), json=body, headers=headers
    )
    while True:
        response = await client.send(request, stream=True)
        try:
            if response.status_code == 429:
                await asyncio.sleep(float(response.headers.get("retry-after", "1")))
                continue
            problem_type = ""
            if response.status_code in (401, 403):
                await response.aread()
                problem_type = str(response.json().get("type", ""))
            return Answer(response.status_code, problem_type)
        finally:
            await response.aclose()


async def call_all(
    client: httpx.AsyncClient,
    operations: list[Operation],
    headers: dict[str, str],
    concurrency: int = 6,
) -> dict[Operation, Answer]:
    limit = asyncio.Semaphore(concurrency)

    async def one(operation: Operation) -> tuple[Operation, Answer]:
        async with limit:
            return operation, await call(client, operation, headers)

    return dict(await asyncio.gather(*(one(operation) for operation in operations)))


# -- tokens ---------------------------------------------------------------------------------


class GatewaySigner:
    """Signs tokens with the gateway's own active key, read from its database and decrypted
    with the stack's key-encryption key: a token that fails only on its claims."""

    def __init__(self, kid: str, algorithm: str, private_key: Any) -> None:
        self.kid, self.algorithm, self.private_key = kid, algorithm, private_key

    @classmethod
    async def of_stack(cls, database_url: str, data_dir: Path, kid: str) -> GatewaySigner:
        url = make_url(database_url).set(database="gateway")
        connection = await asyncpg.connect(url.render_as_string(hide_password=False))
        try:
            row = await connection.fetchrow(
                "SELECT algorithm, private_key_pem FROM signing_key WHERE kid = $1", kid
            )
        finally:
            await connection.close()
        assert row is not None, f"the gateway has no key {kid}"
        sealer = KeySealer((data_dir / "gateway-key-encryption.key").read_text().strip())
        pem = sealer.open(row["private_key_pem"]).encode()
        return cls(kid, row["algorithm"], serialization.load_pem_private_key(pem, password=None))

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(
            claims, self.private_key, algorithm=self.algorithm, headers={"kid": self.kid}
        )


def _segment(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def bad_tokens(real_token: str, signer: GatewaySigner) -> dict[str, str]:
    """What a gateway must refuse, each made from a real admin token's claims: expired,
    for another audience (both signed with the gateway's real key), signed by a key it never
    published, unsigned (`alg: none`), and garbage."""
    claims = jwt.decode(real_token, options={"verify_signature": False})
    header = jwt.get_unverified_header(real_token)
    stranger = TokenFactory()
    return {
        "expired": signer.sign(
            {**claims, "iat": claims["iat"] - 7200, "exp": claims["iat"] - 3600}
        ),
        "wrong audience": signer.sign({**claims, "aud": "another-api"}),
        "unknown key": stranger.token(**claims),
        "alg none": f"{_segment({**header, 'alg': 'none'})}.{_segment(claims)}.",
        "malformed": "not-a-token",
    }


# -- callers --------------------------------------------------------------------------------


def token_of(stack: RunningStack, client_id: str, secret: str) -> str:
    answer = httpx.post(
        f"{stack.url}/auth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
    )
    assert answer.status_code == 200, answer.text
    return str(answer.json()["access_token"])


def new_client(
    stack: RunningStack, admin: dict[str, str], role: str, **fields: object
) -> tuple[str, str]:
    """A new API client holding `role` alone: its id and a token."""
    client_id = f"access-{role.replace('_', '-')}-{uuid.uuid4().hex[:6]}"
    body = {"client_id": client_id, "name": client_id, "roles": [role], **fields}
    answer = httpx.post(f"{stack.url}/api/v1/admin/clients", json=body, headers=admin)
    assert answer.status_code == 201, answer.text
    return client_id, token_of(stack, client_id, answer.json()["client_secret"])


def agreement(partner_id: str, **fields: object) -> dict[str, object]:
    """An agreement for `partner_id`: refugee households of Obock, their region, the given
    names of their members and head, and the programmes they are in."""
    return {
        "partner_id": partner_id,
        "purpose": "Access matrix",
        "legal_basis": "Test protocol",
        "allowed_fields": ["given_name", "head_given_name", "region_code", "programmes"],
        "allowed_regions": ["DJ-OB"],
        "allowed_legal_statuses": ["refugee"],
        "allowed_query_types": ["predicate", "idtype-value"],
        "valid_from": (date.today() - timedelta(days=30)).isoformat(),
        "valid_to": (date.today() + timedelta(days=300)).isoformat(),
        "daily_request_quota": 100_000,
        "identifiers": "pseudonymised",
        **fields,
    }


def partner_with_agreement(
    stack: RunningStack, admin: dict[str, str], role: str = "partner", **terms: object
) -> tuple[str, str]:
    """A partner (or `system`) client with an active agreement of its own: its partner id
    and a token."""
    partner_id = f"access-{role}-{uuid.uuid4().hex[:6]}"
    manager = stack.headers("demo-data-manager")
    answer = httpx.post(
        f"{stack.url}{REGISTRY}/agreements", json=agreement(partner_id, **terms), headers=manager
    )
    assert answer.status_code == 201, answer.text
    return partner_id, new_client(stack, admin, role, partner_id=partner_id)[1]
